// The identity store, written once over the transaction seam (db.h): every
// IdentityStore method is one short named transaction ("identity.create",
// "identity.list_assignments", ...) in SQL both engines run.
#pragma once

#include <memory>

#include "store/identity_store.h"
#include "store/sql/db.h"

namespace onestack::store::sql {

// Implements the IdentityStore contract (store/identity_store.h). Names are
// unique per kind as follows: domains globally; projects, users, groups and
// roles within their scope (domain id, "" for global roles); application
// credentials within their scope (the owning user). Other kinds have no name
// uniqueness. Besides the cascades the interface names, removing a user also
// removes the credentials, application credentials and access rules it owns.
// Lists are ordered by id, bytewise.
//
// generation() is a counter every write bumps in its own transaction, first
// (a write that changes nothing may bump it too): on PostgreSQL that row's
// lock runs identity writes one at a time across all nodes, which keeps
// revocation ids committing in increasing order, so a poller never skips
// one. On a shared database (Dialect::shared) the Fernet keys are kept in a
// table, and update_fernet_keys() locks a row of its own for the whole
// transaction, so concurrent rotations apply one after the other; elsewhere
// the keys live in the key repository on disk (kNotImplemented here).
//
// The schema comes from each engine's identity migrations
// (store/sqlite/migrations.cc, store/pg/identity_migrations_pg.cc).
// Thread-safe: any number of threads may call any method concurrently.
class SqlIdentityStore final : public IdentityStore {
 public:
  explicit SqlIdentityStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  Status create(Kind kind, const Record& rec) override;
  Status create_all(Kind kind, const std::vector<Record>& recs) override;
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

  // The seam under the store: for its statistics, fault injection, and
  // other stores sharing the database.
  Db& db() { return *db_; }

 private:
  // Runs `fn` in a write transaction named `point` that first bumps the
  // generation.
  Status write(std::string_view point, const std::function<Status(Tx&)>& fn);

  std::unique_ptr<Db> db_;
};

}  // namespace onestack::store::sql
