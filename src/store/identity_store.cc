#include "store/identity_store.h"

namespace onestack::store {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kDomain: return "domain";
    case Kind::kProject: return "project";
    case Kind::kUser: return "user";
    case Kind::kGroup: return "group";
    case Kind::kRole: return "role";
    case Kind::kRegion: return "region";
    case Kind::kService: return "service";
    case Kind::kEndpoint: return "endpoint";
    case Kind::kCredential: return "credential";
    case Kind::kAppCredential: return "application_credential";
  }
  return "unknown";
}

}  // namespace onestack::store
