// The transaction seam (store/sql/db.h) on PostgreSQL: a Pool's write
// (READ COMMITTED) and read (REPEATABLE READ READ ONLY) transactions as
// sql::Tx. A write that lost a deadlock or a serialization race is run
// again by the seam.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "store/pg/pg.h"
#include "store/sql/db.h"

namespace onestack::store::pg {

// Thread-safe as Pool is.
class PgDb final : public sql::Db {
 public:
  explicit PgDb(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  // Connects to the database `conninfo` names and applies `steps` as
  // `component`'s migrations (pg.h). kUnavailable naming the server,
  // database and user and libpq's reason when the database cannot be
  // reached; kInternal for a schema written by a newer binary. `what`
  // names the store in those messages ("the identity store").
  static Result<std::unique_ptr<PgDb>> open(const std::string& conninfo, PoolOptions options,
                                            std::string_view component,
                                            std::span<const Migration> steps,
                                            std::string_view what);

  const sql::Dialect& dialect() const override;
  Pool& pool() { return *pool_; }

 protected:
  Status run_write(const std::function<Status(sql::Tx&)>& fn) override;
  Status run_read(const std::function<Status(sql::Tx&)>& fn) override;
  bool retryable(const Error& e) const override { return is_retryable(e); }

 private:
  std::unique_ptr<Pool> pool_;
};

// "PostgreSQL database 'onestack' on 127.0.0.1:5432 as user 'postgres'":
// where `conninfo` points, without the password.
std::string describe_target(const std::string& conninfo);

}  // namespace onestack::store::pg
