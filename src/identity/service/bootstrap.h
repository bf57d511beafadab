// First-run set-up of the identity data, as `keystone-manage bootstrap`
// does: the default domain, an admin project and user, the roles admin,
// member and reader (admin implies member implies reader) plus ResellerAdmin,
// the admin role on the project and the system, a region, and the service
// and endpoints of every enabled service. Idempotent: running it again
// resets the admin password, re-enables the user and fills in anything
// missing, and never duplicates. Blocking (database and bcrypt).
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "store/identity_store.h"

namespace onestack::identity {

struct ServiceEndpoints {
  std::string type;  // "identity", "object-store"
  std::string name;  // "keystone", "swift"
  std::string public_url, internal_url, admin_url;
};

struct BootstrapOptions {
  std::string username = "admin";
  std::string password;  // required
  std::string project_name = "admin";
  std::string role_name = "admin";
  std::string region_id = "RegionOne";
  std::vector<ServiceEndpoints> services;
  int bcrypt_rounds = 12;
};

// Returns kInvalidArgument when the password is empty.
Status bootstrap(store::IdentityStore& store, const BootstrapOptions& options);

}  // namespace onestack::identity
