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
    case Kind::kAccessRule: return "access_rule";
    case Kind::kPolicy: return "policy";
    case Kind::kEndpointGroup: return "endpoint_group";
    case Kind::kConsumer: return "consumer";
    case Kind::kDomainConfig: return "domain_config";
    case Kind::kRegisteredLimit: return "registered_limit";
    case Kind::kLimit: return "limit";
  }
  return "unknown";
}

}  // namespace onestack::store
