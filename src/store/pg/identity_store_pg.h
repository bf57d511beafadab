// The identity store on PostgreSQL: every IdentityStore method as one short
// transaction on a Pool (see pg.h), for nodes that share one database.
#pragma once

#include <memory>
#include <string>

#include "store/identity_store.h"
#include "store/pg/pg.h"

namespace onestack::store::pg {

// Implements the IdentityStore contract (store/identity_store.h) with the
// same rules as the SQLite store (store/sqlite/identity_store_sqlite.h):
// names unique per kind in the same scopes, the same cascades, lists ordered
// by id (bytewise), revocation ids only growing.
//
// For a cluster: generation() is a counter in the database that every write
// method bumps in its own transaction (a write that changes nothing may bump
// it too). Bumping takes that counter row's lock first, so identity writes
// run one at a time across all nodes; that keeps revocation ids committing in
// increasing order, so a poller never skips one. fernet_keys() and
// update_fernet_keys() keep the Fernet keys in a table; an update locks a row
// of its own for the whole transaction, so concurrent rotations apply one
// after the other.
//
// Thread-safe: any number of threads may call any method concurrently.
class PgIdentityStore : public IdentityStore {
 public:
  // Connects to the database `conninfo` names and applies pending identity
  // migrations. kUnavailable naming the server, database and user and
  // libpq's reason when the database cannot be reached (unknown host,
  // refused connection, authentication failure, missing database);
  // kInternal for a schema written by a newer binary.
  static Result<std::unique_ptr<PgIdentityStore>> open(const std::string& conninfo,
                                                       PoolOptions options = {});
  // Wraps an open pool whose identity migrations were applied.
  explicit PgIdentityStore(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status create(Kind kind, const Record& rec) override;
  Result<Record> get(Kind kind, const std::string& id) override;
  Result<std::vector<Record>> list(Kind kind, const RecordQuery& query) override;
  Status update(Kind kind, const Record& rec) override;
  Status remove(Kind kind, const std::string& id) override;

  Status add_member(const std::string& group_id, const std::string& user_id) override;
  Status remove_member(const std::string& group_id, const std::string& user_id) override;
  Result<bool> is_member(const std::string& group_id, const std::string& user_id) override;
  Result<std::vector<std::string>> groups_of_user(const std::string& user_id) override;
  Result<std::vector<std::string>> users_in_group(const std::string& group_id) override;

  Status add_assignment(const Assignment& a) override;
  Status remove_assignment(const Assignment& a) override;
  Result<std::vector<Assignment>> list_assignments(const AssignmentQuery& q) override;

  Status add_implied_role(const std::string& prior, const std::string& implied) override;
  Status remove_implied_role(const std::string& prior, const std::string& implied) override;
  Result<std::vector<std::pair<std::string, std::string>>> list_implied_roles() override;

  Result<RevocationEvent> add_revocation(RevocationEvent ev) override;
  Result<std::vector<RevocationEvent>> list_revocations(int64_t after_id) override;
  Status prune_revocations(double cutoff) override;

  Result<int64_t> generation() override;
  Result<std::vector<StoredKey>> fernet_keys() override;
  Status update_fernet_keys(const KeyRotation& rotate) override;

  // The underlying pool, for tests and for other stores sharing the database.
  Pool& pool() { return *pool_; }

 private:
  // Runs `fn` in a write transaction that first bumps the generation.
  Status write(const std::function<Status(Connection&)>& fn);

  std::unique_ptr<Pool> pool_;
};

}  // namespace onestack::store::pg
