#include "core/log.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace onestack {
namespace {

// The level the rest of the suite runs at (see server_fixture.cc).
void restore_test_level() {
  const char* level = std::getenv("ONESTACK_TEST_LOG_LEVEL");
  init_logging(level ? level : "warning");
}

TEST(Logging, WarningLevelSilencesInfoAndTheAccessLog) {
  init_logging("warning");
  EXPECT_TRUE(spdlog::default_logger()->should_log(spdlog::level::warn));
  EXPECT_FALSE(spdlog::default_logger()->should_log(spdlog::level::info));
  EXPECT_FALSE(access_log().should_log(spdlog::level::info));
  restore_test_level();
}

TEST(Logging, DebugLevelKeepsTheAccessLogAtInfo) {
  init_logging("debug");
  EXPECT_TRUE(spdlog::default_logger()->should_log(spdlog::level::debug));
  EXPECT_TRUE(access_log().should_log(spdlog::level::info));
  EXPECT_FALSE(access_log().should_log(spdlog::level::debug));
  restore_test_level();
}

TEST(Logging, InfoLevelWritesAccessLines) {
  init_logging("info");
  EXPECT_TRUE(access_log().should_log(spdlog::level::info));
  EXPECT_EQ(access_log().name(), "access");
  restore_test_level();
}

}  // namespace
}  // namespace onestack
