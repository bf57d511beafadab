// An immutable in-memory view of the identity data a token check needs:
// users, projects, domains, roles, assignments, group membership, implied
// roles, application credentials, revocation events and the catalog.
//
// Why: token validation must not read the database. Every identity write
// rebuilds the snapshot on the worker thread that made the write, before the
// write is answered, so a later request always sees it; readers take the
// current one with one atomic load. Identity data is small (thousands of
// rows), so a rebuild is cheap next to the write that caused it.
#pragma once

#include <atomic>
#include <boost/json/array.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "store/identity_store.h"

namespace onestack::identity {

struct DomainInfo {
  std::string id, name;
  bool enabled = true;
};
struct ProjectInfo {
  std::string id, name, domain_id, parent_id;
  bool enabled = true;
};
struct UserInfo {
  std::string id, name, domain_id, default_project_id;
  bool enabled = true;
};
struct RoleInfo {
  std::string id, name, domain_id;
};
struct AppCredInfo {
  std::string id, name, user_id, project_id;
  std::vector<std::string> role_ids;
  bool unrestricted = false;
  double expires_at = 0;  // 0: never
};

class Snapshot {
 public:
  // Loads everything from `store`. Blocking: call on a worker thread.
  static Result<std::shared_ptr<const Snapshot>> load(store::IdentityStore& store);

  const DomainInfo* domain(const std::string& id) const { return find(domains_, id); }
  const ProjectInfo* project(const std::string& id) const { return find(projects_, id); }
  const UserInfo* user(const std::string& id) const { return find(users_, id); }
  const RoleInfo* role(const std::string& id) const { return find(roles_, id); }
  const AppCredInfo* app_cred(const std::string& id) const { return find(app_creds_, id); }
  // Name lookups (names are unique within their domain; domains globally).
  const DomainInfo* domain_by_name(const std::string& name) const;
  const UserInfo* user_by_name(const std::string& name, const std::string& domain_id) const;
  const ProjectInfo* project_by_name(const std::string& name, const std::string& domain_id) const;
  // Projects and domains on which `user_id` has at least one effective role.
  std::vector<const ProjectInfo*> projects_of_user(const std::string& user_id) const;
  std::vector<const DomainInfo*> domains_of_user(const std::string& user_id) const;

  // Effective role ids (direct, through groups, inherited from parent
  // projects and the domain, then implied roles expanded) of `user_id` on a
  // project, a domain, or the system ("all"). Exactly one target is set.
  std::vector<std::string> roles_on_project(const std::string& user_id,
                                            const std::string& project_id) const;
  std::vector<std::string> roles_on_domain(const std::string& user_id,
                                           const std::string& domain_id) const;
  std::vector<std::string> roles_on_system(const std::string& user_id) const;
  // Adds every role implied by `role_ids`, transitively, and drops
  // domain-specific roles (they only imply); sorted, unique.
  std::vector<std::string> expand_implied(std::vector<std::string> role_ids) const;
  // True if `from` implies `to`, directly or through other roles.
  bool implies(const std::string& from, const std::string& to) const;

  const std::vector<std::string>& groups_of(const std::string& user_id) const;
  const std::vector<store::RevocationEvent>& revocations() const { return revocations_; }
  // The catalog in a token's shape (services with their enabled endpoints).
  const boost::json::array& catalog() const { return catalog_; }
  // The unified limit of `resource` of service type `service_type` for
  // `project_id` in `region` (auth/limits.h): the project's limit, else the
  // registered default; nullopt when none is registered.
  std::optional<int64_t> limit(std::string_view service_type, std::string_view region,
                               std::string_view resource, std::string_view project_id) const;

  // The ancestors of a project, nearest first (projects only, not the domain).
  std::vector<std::string> ancestors(const std::string& project_id) const;
  // The direct children of a project, sorted by id.
  std::vector<std::string> children(const std::string& project_id) const;

 private:
  template <typename M>
  static const typename M::mapped_type* find(const M& m, const std::string& id) {
    auto it = m.find(id);
    return it == m.end() ? nullptr : &it->second;
  }
  std::vector<std::string> collect(const std::string& user_id, store::TargetType type,
                                   const std::vector<std::string>& direct_targets,
                                   const std::vector<std::string>& inherited_targets) const;

  std::unordered_map<std::string, std::string> domain_names_;   // name -> id
  std::unordered_map<std::string, std::string> user_names_;     // domain \x1f name -> id
  std::unordered_map<std::string, std::string> project_names_;  // domain \x1f name -> id
  std::unordered_map<std::string, DomainInfo> domains_;
  std::unordered_map<std::string, ProjectInfo> projects_;
  std::unordered_map<std::string, UserInfo> users_;
  std::unordered_map<std::string, RoleInfo> roles_;
  std::unordered_map<std::string, AppCredInfo> app_creds_;
  std::unordered_map<std::string, std::vector<std::string>> implied_;
  std::unordered_map<std::string, std::vector<std::string>> user_groups_;
  std::unordered_map<std::string, std::vector<store::Assignment>> by_actor_;
  std::vector<store::RevocationEvent> revocations_;
  boost::json::array catalog_;
  // Unified limits, keyed service id \x1f region \x1f resource (plus
  // project id \x1f in front for project limits), and service ids by type.
  std::unordered_map<std::string, int64_t> registered_limits_;
  std::unordered_map<std::string, int64_t> project_limits_;
  std::unordered_map<std::string, std::vector<std::string>> services_by_type_;
};

// Holds the current snapshot. current() is lock-free and thread-safe;
// refresh() serialises rebuilds and is called after every write.
class SnapshotCache {
 public:
  explicit SnapshotCache(store::IdentityStore& store) : store_(store) {}
  std::shared_ptr<const Snapshot> current() const { return current_.load(); }
  // Rebuilds from the store. Blocking: call on a worker thread.
  Status refresh();
  // The store's generation() read just before the current snapshot was
  // loaded: a store whose generation has moved since holds writes the
  // snapshot lacks.
  int64_t built_generation() const { return built_generation_.load(); }

 private:
  store::IdentityStore& store_;
  std::mutex refresh_mu_;  // one rebuild at a time
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<int64_t> built_generation_{0};
};

}  // namespace onestack::identity
