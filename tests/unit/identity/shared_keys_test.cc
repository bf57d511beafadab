// Rotation of the Fernet keys kept in a shared store: the numbering must
// follow the key repository's (and so keystone's) exactly, since both sides
// of a rotation decide which tokens still open.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "identity/service/shared_keys.h"
#include "identity/token/fernet.h"

namespace onestack::identity {
namespace {

std::vector<int> indexes(const std::vector<store::StoredKey>& keys) {
  std::vector<int> out;
  for (const auto& k : keys) out.push_back(k.index);
  std::sort(out.begin(), out.end());
  return out;
}

std::string key_at(const std::vector<store::StoredKey>& keys, int index) {
  for (const auto& k : keys) {
    if (k.index == index) return k.key;
  }
  return "";
}

TEST(SharedKeys, SetupMakesStagedAndPrimary) {
  auto keys = rotate_stored_keys({}, 3);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(indexes(*keys), (std::vector<int>{0, 1}));
  for (const auto& k : *keys) EXPECT_TRUE(token::parse_fernet_key(k.key).ok()) << k.index;
  EXPECT_NE(key_at(*keys, 0), key_at(*keys, 1));
}

TEST(SharedKeys, RotationPromotesTheStagedKeyAndDropsTheOldest) {
  auto first = rotate_stored_keys({}, 3);
  ASSERT_TRUE(first.ok());
  const std::string staged = key_at(*first, 0);
  auto second = rotate_stored_keys(*first, 3);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(indexes(*second), (std::vector<int>{0, 1, 2}));
  // The key every node already held as staged is the new primary: tokens
  // it mints open on nodes that have not re-read the keys yet.
  EXPECT_EQ(key_at(*second, 2), staged);
  EXPECT_NE(key_at(*second, 0), staged);
  auto third = rotate_stored_keys(*second, 3);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(indexes(*third), (std::vector<int>{0, 2, 3}));  // key 1 went
  EXPECT_EQ(key_at(*third, 2), key_at(*second, 2));
}

TEST(SharedKeys, OneActiveKeyKeepsOnlyTheStagedKey) {
  auto keys = rotate_stored_keys({}, 1);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(indexes(*keys), (std::vector<int>{0}));
  EXPECT_FALSE(rotate_stored_keys({}, 0).ok());
}

}  // namespace
}  // namespace onestack::identity
