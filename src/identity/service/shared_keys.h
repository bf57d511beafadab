// Fernet keys kept in the identity store: why this exists.
//
// One node keeps its keys in a key repository directory, as Keystone does.
// Several nodes behind one load balancer must hold the same keys, or a
// token minted on one fails on the next. Keystone leaves the copying to the
// operator (rsync after every rotation); here the keys live in the database
// every node already shares, and every node re-reads them every few
// seconds. The numbering is the repository's: 0 is the staged key, the
// highest number the primary, the rest secondaries. Rotation promotes the
// staged key, which every node has held since the previous rotation, so a
// token the rotating node mints next already validates on a node that has
// not re-read yet: rotation cannot lock anyone out as long as two rotations
// are at least one reload interval apart.
#pragma once

#include <memory>
#include <vector>

#include "core/result.h"
#include "identity/token/key_repository.h"
#include "store/identity_store.h"

namespace onestack::identity {

// One Keystone rotation of `keys` (see token::KeyRepository::rotate): the
// staged key 0 becomes the primary (highest number + 1), a new staged key
// is made, and the lowest-numbered keys beyond `max_active_keys` go. With no
// key at all, first makes a staged key (setup). kInvalidArgument for
// max_active_keys < 1.
Result<std::vector<store::StoredKey>> rotate_stored_keys(std::vector<store::StoredKey> keys,
                                                         int max_active_keys);

// Stores a first key set (staged + primary) unless the store has keys
// already: idempotent, and safe when nodes start together (the store
// serialises the check). Blocking.
Status setup_shared_keys(store::IdentityStore& store, int max_active_keys);
// One rotation of the stored keys. Blocking.
Status rotate_shared_keys(store::IdentityStore& store, int max_active_keys);
// The stored keys, primary first, as the token formatter uses them.
// kUnavailable when the store holds none. Blocking.
Result<std::shared_ptr<const token::KeySet>> load_shared_keys(store::IdentityStore& store);

}  // namespace onestack::identity
