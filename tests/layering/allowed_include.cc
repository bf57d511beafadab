// Declares onestack_store, so the store interface is in reach.
#include "store/identity_store.h"

namespace onestack::layering {
const char* allowed_kind() { return store::kind_name(store::Kind::kProject); }
}  // namespace onestack::layering
