// Declares only onestack_core: the store interface must be out of reach,
// so this file must not compile.
#include "store/identity_store.h"

namespace onestack::layering {
const char* forbidden_kind() { return store::kind_name(store::Kind::kProject); }
}  // namespace onestack::layering
