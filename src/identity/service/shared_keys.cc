#include "identity/service/shared_keys.h"

#include <algorithm>

#include "identity/token/fernet.h"

namespace onestack::identity {

namespace {

bool by_index(const store::StoredKey& a, const store::StoredKey& b) { return a.index < b.index; }

}  // namespace

Result<std::vector<store::StoredKey>> rotate_stored_keys(std::vector<store::StoredKey> keys,
                                                         int max_active_keys) {
  if (max_active_keys < 1) {
    return make_error(ErrorCode::kInvalidArgument, "max_active_keys must be at least 1");
  }
  std::sort(keys.begin(), keys.end(), by_index);
  if (keys.empty() || keys.front().index != 0) {
    keys.insert(keys.begin(), store::StoredKey{0, token::generate_fernet_key()});
  }
  const int new_primary = keys.back().index + 1;
  keys.front().index = new_primary;  // the staged key is promoted
  std::sort(keys.begin(), keys.end(), by_index);
  // Keystone counts the promoted primary and the old secondaries, not the
  // new staged key, against max_active_keys - 1, dropping the lowest
  // numbers (with max_active_keys = 1, even the new primary).
  size_t keep = static_cast<size_t>(max_active_keys - 1);
  if (keys.size() > keep) keys.erase(keys.begin(), keys.end() - static_cast<ptrdiff_t>(keep));
  keys.insert(keys.begin(), store::StoredKey{0, token::generate_fernet_key()});
  return keys;
}

Status setup_shared_keys(store::IdentityStore& store, int max_active_keys) {
  return store.update_fernet_keys([max_active_keys](std::vector<store::StoredKey> keys)
                                      -> Result<std::vector<store::StoredKey>> {
    if (!keys.empty()) return keys;
    return rotate_stored_keys(std::move(keys), max_active_keys);
  });
}

Status rotate_shared_keys(store::IdentityStore& store, int max_active_keys) {
  return store.update_fernet_keys([max_active_keys](std::vector<store::StoredKey> keys)
                                      -> Result<std::vector<store::StoredKey>> {
    if (keys.empty()) {
      return make_error(ErrorCode::kPreconditionFailed, "the database holds no Fernet keys");
    }
    return rotate_stored_keys(std::move(keys), max_active_keys);
  });
}

Result<std::shared_ptr<const token::KeySet>> load_shared_keys(store::IdentityStore& store) {
  auto stored = store.fernet_keys();
  if (!stored.ok()) return std::move(stored).error();
  if (stored->empty())
    return make_error(ErrorCode::kUnavailable, "the database holds no Fernet keys");
  std::vector<store::StoredKey> keys = std::move(stored).value();
  std::sort(keys.begin(), keys.end(), by_index);
  auto set = std::make_shared<token::KeySet>();
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    auto key = token::parse_fernet_key(it->key);
    if (!key.ok()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "stored Fernet key " + std::to_string(it->index) + " is not a valid key");
    }
    set->keys.push_back(*key);
    set->indexes.push_back(it->index);
  }
  return std::shared_ptr<const token::KeySet>(std::move(set));
}

}  // namespace onestack::identity
