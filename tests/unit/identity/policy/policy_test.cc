#include "identity/policy/policy.h"

#include <gtest/gtest.h>

namespace onestack::identity::policy {
namespace {

TEST(PolicyEngine, DefaultsLoad) {
  auto engine = PolicyEngine::load("", false);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
}

}  // namespace
}  // namespace onestack::identity::policy
