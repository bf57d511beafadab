#include "fault/faulty_identity_store.h"

namespace onestack::fault {

// Returns the injected error from the enclosing method when `point` fires.
#define ONESTACK_FAULT_POINT(point)                                   \
  do {                                                                \
    if (auto onestack_fault_ = plan_->hit(point)) {                   \
      return std::move(onestack_fault_->error);                       \
    }                                                                 \
  } while (0)

FaultyIdentityStore::FaultyIdentityStore(store::IdentityStore& inner,
                                         std::shared_ptr<FaultPlan> plan)
    : inner_(inner), plan_(std::move(plan)) {}

Status FaultyIdentityStore::create(store::Kind kind, const store::Record& rec) {
  ONESTACK_FAULT_POINT("identity.create");
  return inner_.create(kind, rec);
}

Result<store::Record> FaultyIdentityStore::get(store::Kind kind, const std::string& id) {
  ONESTACK_FAULT_POINT("identity.get");
  return inner_.get(kind, id);
}

Result<std::vector<store::Record>> FaultyIdentityStore::list(store::Kind kind,
                                                             const store::RecordQuery& query) {
  ONESTACK_FAULT_POINT("identity.list");
  return inner_.list(kind, query);
}

Status FaultyIdentityStore::update(store::Kind kind, const store::Record& rec) {
  ONESTACK_FAULT_POINT("identity.update");
  return inner_.update(kind, rec);
}

Status FaultyIdentityStore::remove(store::Kind kind, const std::string& id) {
  ONESTACK_FAULT_POINT("identity.remove");
  return inner_.remove(kind, id);
}

Status FaultyIdentityStore::add_member(const std::string& group_id, const std::string& user_id) {
  ONESTACK_FAULT_POINT("identity.add_member");
  return inner_.add_member(group_id, user_id);
}

Status FaultyIdentityStore::remove_member(const std::string& group_id,
                                          const std::string& user_id) {
  ONESTACK_FAULT_POINT("identity.remove_member");
  return inner_.remove_member(group_id, user_id);
}

Result<bool> FaultyIdentityStore::is_member(const std::string& group_id,
                                            const std::string& user_id) {
  ONESTACK_FAULT_POINT("identity.is_member");
  return inner_.is_member(group_id, user_id);
}

Result<std::vector<std::string>> FaultyIdentityStore::groups_of_user(const std::string& user_id) {
  ONESTACK_FAULT_POINT("identity.groups_of_user");
  return inner_.groups_of_user(user_id);
}

Result<std::vector<std::string>> FaultyIdentityStore::users_in_group(
    const std::string& group_id) {
  ONESTACK_FAULT_POINT("identity.users_in_group");
  return inner_.users_in_group(group_id);
}

Status FaultyIdentityStore::add_assignment(const store::Assignment& a) {
  ONESTACK_FAULT_POINT("identity.add_assignment");
  return inner_.add_assignment(a);
}

Status FaultyIdentityStore::remove_assignment(const store::Assignment& a) {
  ONESTACK_FAULT_POINT("identity.remove_assignment");
  return inner_.remove_assignment(a);
}

Result<std::vector<store::Assignment>> FaultyIdentityStore::list_assignments(
    const store::AssignmentQuery& q) {
  ONESTACK_FAULT_POINT("identity.list_assignments");
  return inner_.list_assignments(q);
}

Status FaultyIdentityStore::add_implied_role(const std::string& prior,
                                             const std::string& implied) {
  ONESTACK_FAULT_POINT("identity.add_implied_role");
  return inner_.add_implied_role(prior, implied);
}

Status FaultyIdentityStore::remove_implied_role(const std::string& prior,
                                                const std::string& implied) {
  ONESTACK_FAULT_POINT("identity.remove_implied_role");
  return inner_.remove_implied_role(prior, implied);
}

Result<std::vector<std::pair<std::string, std::string>>>
FaultyIdentityStore::list_implied_roles() {
  ONESTACK_FAULT_POINT("identity.list_implied_roles");
  return inner_.list_implied_roles();
}

Result<store::RevocationEvent> FaultyIdentityStore::add_revocation(store::RevocationEvent ev) {
  ONESTACK_FAULT_POINT("identity.add_revocation");
  return inner_.add_revocation(std::move(ev));
}

Result<std::vector<store::RevocationEvent>> FaultyIdentityStore::list_revocations(
    int64_t after_id) {
  ONESTACK_FAULT_POINT("identity.list_revocations");
  return inner_.list_revocations(after_id);
}

Status FaultyIdentityStore::prune_revocations(double cutoff) {
  ONESTACK_FAULT_POINT("identity.prune_revocations");
  return inner_.prune_revocations(cutoff);
}

Result<int64_t> FaultyIdentityStore::generation() {
  ONESTACK_FAULT_POINT("identity.generation");
  return inner_.generation();
}

Result<std::vector<store::StoredKey>> FaultyIdentityStore::fernet_keys() {
  ONESTACK_FAULT_POINT("identity.fernet_keys");
  return inner_.fernet_keys();
}

Status FaultyIdentityStore::update_fernet_keys(const store::KeyRotation& rotate) {
  ONESTACK_FAULT_POINT("identity.update_fernet_keys");
  return inner_.update_fernet_keys(rotate);
}

#undef ONESTACK_FAULT_POINT

}  // namespace onestack::fault
