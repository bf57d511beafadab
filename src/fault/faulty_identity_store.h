// An IdentityStore that fails where a FaultPlan says (fault_plan.h), for
// tests.
//
// Each method has the point "identity.<method>" ("identity.create",
// "identity.get", "identity.add_assignment", ...). A fault is injected
// before the real call, which then does not happen: as a failed SQLite
// transaction, nothing changes.
#pragma once

#include <memory>

#include "fault/fault_plan.h"
#include "store/identity_store.h"

namespace onestack::fault {

// Forwards every call to `inner` (borrowed: it must outlive this) unless
// `plan` injects a fault there. Thread-safe as `inner` is.
class FaultyIdentityStore final : public store::IdentityStore {
 public:
  FaultyIdentityStore(store::IdentityStore& inner, std::shared_ptr<FaultPlan> plan);

  Status create(store::Kind kind, const store::Record& rec) override;
  Result<store::Record> get(store::Kind kind, const std::string& id) override;
  Result<std::vector<store::Record>> list(store::Kind kind,
                                          const store::RecordQuery& query) override;
  Status update(store::Kind kind, const store::Record& rec) override;
  Status remove(store::Kind kind, const std::string& id) override;
  Status add_member(const std::string& group_id, const std::string& user_id) override;
  Status remove_member(const std::string& group_id, const std::string& user_id) override;
  Result<bool> is_member(const std::string& group_id, const std::string& user_id) override;
  Result<std::vector<std::string>> groups_of_user(const std::string& user_id) override;
  Result<std::vector<std::string>> users_in_group(const std::string& group_id) override;
  Status add_assignment(const store::Assignment& a) override;
  Status remove_assignment(const store::Assignment& a) override;
  Result<std::vector<store::Assignment>> list_assignments(
      const store::AssignmentQuery& q) override;
  Status add_implied_role(const std::string& prior, const std::string& implied) override;
  Status remove_implied_role(const std::string& prior, const std::string& implied) override;
  Result<std::vector<std::pair<std::string, std::string>>> list_implied_roles() override;
  Result<store::RevocationEvent> add_revocation(store::RevocationEvent ev) override;
  Result<std::vector<store::RevocationEvent>> list_revocations(int64_t after_id) override;
  Status prune_revocations(double cutoff) override;
  Result<int64_t> generation() override;
  Result<std::vector<store::StoredKey>> fernet_keys() override;
  Status update_fernet_keys(const store::KeyRotation& rotate) override;

 private:
  store::IdentityStore& inner_;
  std::shared_ptr<FaultPlan> plan_;
};

}  // namespace onestack::fault
