// The identity store on SQLite: every IdentityStore method as one short
// transaction on a Database (see database.h for the concurrency model).
#pragma once

#include <memory>
#include <string>

#include "store/identity_store.h"
#include "store/sqlite/database.h"

namespace onestack::store::sqlite {

// Implements the IdentityStore contract (store/identity_store.h) on SQLite.
// Names are unique per kind as follows: domains globally; projects, users,
// groups and roles within their scope (domain id, "" for global roles);
// application credentials within their scope (the owning user). Regions,
// services, endpoints and credentials have no name uniqueness.
// Besides the cascades the interface names, removing a user also removes the
// credentials and application credentials it owns.
// Thread-safe: any number of threads may call any method concurrently.
class SqliteIdentityStore : public IdentityStore {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for a
  // private in-memory one) and applies pending schema migrations. Returns
  // the open or migration error (kInternal for a database written by a newer
  // binary).
  static Result<std::unique_ptr<SqliteIdentityStore>> open(const std::string& path,
                                                           Options options = {});
  // Wraps an already open and migrated database.
  explicit SqliteIdentityStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

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

  // The underlying database, for tests and for other stores sharing the file.
  Database& database() { return *db_; }

 private:
  std::unique_ptr<Database> db_;
};

}  // namespace onestack::store::sqlite
