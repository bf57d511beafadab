// The transaction seam (store/sql/db.h) on SQLite: a Database's write and
// read transactions as sql::Tx, with the seam's `$N` placeholders turned
// into SQLite's `?N`.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "store/sql/db.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"

namespace onestack::store::sqlite {

// Thread-safe as Database is: writes one at a time on the writer
// connection, reads concurrently on pooled readers. Nothing is ever
// retried here: a lock held by another process is waited for up to the
// busy timeout, and a BUSY after that is an answer, not a race.
class SqliteDb final : public sql::Db {
 public:
  explicit SqliteDb(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  // Opens (creating if needed) the database at `path` (":memory:" for a
  // private one) and applies `steps` (migrations.h). The open or migration
  // error otherwise (kInternal for a file written by a newer binary).
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, Options options,
                                                std::span<const Migration> steps);

  const sql::Dialect& dialect() const override;
  Database& database() { return *db_; }

 protected:
  Status run_write(const std::function<Status(sql::Tx&)>& fn) override;
  Status run_read(const std::function<Status(sql::Tx&)>& fn) override;
  bool retryable(const Error&) const override { return false; }

 private:
  std::unique_ptr<Database> db_;
};

// `sql` with every `$N` placeholder outside quotes written as `?N`.
std::string sqlite_placeholders(std::string_view sql);

}  // namespace onestack::store::sqlite
