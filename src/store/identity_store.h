// The identity metadata store: why this exists.
//
// Keystone's entities (domains, projects, users, groups, roles, regions,
// services, endpoints, credentials, application credentials) share one shape
// here: a few indexed columns the service filters and enforces uniqueness on,
// plus the entity's full JSON document (Keystone itself keeps free-form
// "extra" attributes the same way). Relations that are queried in both
// directions (group membership, role assignments, implied roles) and the
// revocation list are typed tables of their own.
//
// The interface is backend-neutral; one implementation serves both engines
// (store/sql/identity_store_sql.h, on SQLite or PostgreSQL). Every method is
// thread-safe and blocking: call it from a worker thread, never from an I/O
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace onestack::store {

enum class Kind {
  kDomain,
  kProject,
  kUser,
  kGroup,
  kRole,
  kRegion,
  kService,
  kEndpoint,
  kCredential,
  kAppCredential,
  kAccessRule,     // owner_id: the user whose application credentials use it
  kPolicy,         // a stored policy blob (/v3/policies)
  kEndpointGroup,  // OS-EP-FILTER endpoint group
  kConsumer,       // OS-OAUTH1 consumer
  kDomainConfig,   // id: the domain id; one record per domain
  // Unified limits. parent_id: the service, scope: the region ("" for none),
  // name: the resource name; unique together. A limit's owner_id is its
  // project or domain, and it is unique per owner and registered limit.
  kRegisteredLimit,
  kLimit,
};

// Returns the stable table-level name of `kind` ("project").
const char* kind_name(Kind kind);

// One entity. `scope` is the namespace in which `name` must be unique for
// kinds that require it: the domain id for projects, users, groups and
// domain-specific roles ("" for global roles and for domains themselves), the
// user id for application credentials, the region of a (registered) limit.
// `parent_id` is the parent project, parent region, or the endpoint's or
// limit's service. `owner_id` is the user that owns a credential or
// application credential, or the project or domain a limit applies to. `doc`
// is the entity's JSON object.
struct Record {
  std::string id;
  std::string scope;
  std::string name;
  std::string parent_id;
  std::string owner_id;
  std::string doc;
};

// Narrows a list. Unset fields do not filter.
struct RecordQuery {
  std::optional<std::string> scope;
  std::optional<std::string> name;
  std::optional<std::string> parent_id;
  std::optional<std::string> owner_id;
};

// Whom a role is granted on what. `target_id` is a project id, a domain id,
// or "system" for the system scope.
enum class ActorType { kUser, kGroup };
enum class TargetType { kProject, kDomain, kSystem };

struct Assignment {
  ActorType actor_type = ActorType::kUser;
  std::string actor_id;
  TargetType target_type = TargetType::kProject;
  std::string target_id;
  std::string role_id;
  bool inherited = false;
  friend bool operator==(const Assignment&, const Assignment&) = default;
};

struct AssignmentQuery {
  std::optional<ActorType> actor_type;
  std::optional<std::string> actor_id;
  std::optional<TargetType> target_type;
  std::optional<std::string> target_id;
  std::optional<std::string> role_id;
};

// A revocation event, as Keystone records them: every token matching all of
// the set fields and issued at or before `issued_before` is revoked.
struct RevocationEvent {
  int64_t id = 0;  // assigned by the store
  std::string user_id;
  std::string project_id;
  std::string audit_id;
  std::string audit_chain_id;
  std::string domain_id;
  std::string role_id;
  double issued_before = 0;  // seconds since the epoch
  double revoked_at = 0;
};

// One Fernet key kept in the database, numbered as the key repository
// numbers its files (identity/token/key_repository.h): 0 is the staged key,
// the highest number the primary.
struct StoredKey {
  int index = 0;
  std::string key;  // the key's base64url text
  friend bool operator==(const StoredKey&, const StoredKey&) = default;
};
using KeyRotation = std::function<Result<std::vector<StoredKey>>(std::vector<StoredKey>)>;

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;

  // Inserts `rec`. kConflict if the id exists, or if `kind` requires unique
  // names and (scope, name) is taken.
  virtual Status create(Kind kind, const Record& rec) = 0;
  // Inserts every record of `recs`, in order, in one transaction: all of
  // them or, on the first failure (kConflict as create()), none.
  virtual Status create_all(Kind kind, const std::vector<Record>& recs) = 0;
  // Returns the record, or kNotFound.
  virtual Result<Record> get(Kind kind, const std::string& id) = 0;
  // Returns matching records ordered by id (possibly empty).
  virtual Result<std::vector<Record>> list(Kind kind, const RecordQuery& query) = 0;
  // Replaces the stored record with the same id. kNotFound if absent,
  // kConflict on a name clash.
  virtual Status update(Kind kind, const Record& rec) = 0;
  // Deletes the record and, atomically with it, every relation naming it:
  // memberships and assignments of a user or group, assignments on a project
  // or domain, assignments and implications of a role. kNotFound if absent.
  virtual Status remove(Kind kind, const std::string& id) = 0;

  // Group membership. add is idempotent; remove returns kNotFound if absent.
  virtual Status add_member(const std::string& group_id, const std::string& user_id) = 0;
  virtual Status remove_member(const std::string& group_id, const std::string& user_id) = 0;
  virtual Result<bool> is_member(const std::string& group_id, const std::string& user_id) = 0;
  virtual Result<std::vector<std::string>> groups_of_user(const std::string& user_id) = 0;
  virtual Result<std::vector<std::string>> users_in_group(const std::string& group_id) = 0;

  // Role assignments (grants). add is idempotent; remove returns kNotFound if absent.
  virtual Status add_assignment(const Assignment& a) = 0;
  virtual Status remove_assignment(const Assignment& a) = 0;
  virtual Result<std::vector<Assignment>> list_assignments(const AssignmentQuery& q) = 0;

  // Implied roles: `prior` implies `implied`. add returns kConflict if present.
  virtual Status add_implied_role(const std::string& prior, const std::string& implied) = 0;
  virtual Status remove_implied_role(const std::string& prior, const std::string& implied) = 0;
  // All (prior, implied) pairs.
  virtual Result<std::vector<std::pair<std::string, std::string>>> list_implied_roles() = 0;

  // Revocation events. add fills in the id; list returns those with id >
  // `after_id` in id order, so callers can poll incrementally.
  virtual Result<RevocationEvent> add_revocation(RevocationEvent ev) = 0;
  virtual Result<std::vector<RevocationEvent>> list_revocations(int64_t after_id) = 0;
  // Drops events whose tokens have all expired (issued_before < cutoff).
  virtual Status prune_revocations(double cutoff) = 0;

  // Shared state of a cluster, for a store that several nodes share.
  //
  // A number that changes whenever any identity data changes, through any
  // node: a node compares it with the number its cached view was built at to
  // notice another node's writes (a new revocation event, a disabled user).
  // The default suits a store one process owns, whose writes all pass
  // through that process: always 0.
  virtual Result<int64_t> generation() { return int64_t{0}; }
  // The Fernet keys kept in the store, in no particular order (empty when
  // none were stored yet). The default: kNotImplemented (the keys live in
  // the key repository on disk).
  virtual Result<std::vector<StoredKey>> fernet_keys() {
    return make_error(ErrorCode::kNotImplemented, "this store keeps no Fernet keys");
  }
  // Replaces the stored keys with what `rotate` makes of the current ones,
  // in one transaction that holds a lock serialising every other
  // update_fernet_keys of the store, so two nodes rotating at once rotate
  // twice, never lose a key. `rotate`'s error is returned and nothing
  // changes. The default: kNotImplemented.
  virtual Status update_fernet_keys(const KeyRotation& rotate) {
    (void)rotate;
    return make_error(ErrorCode::kNotImplemented, "this store keeps no Fernet keys");
  }
};

}  // namespace onestack::store
