#include "core/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"

namespace onestack {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return make_error(ErrorCode::kInvalidArgument, "not a digit");
  return c - '0';
}

Result<int> sum_of_digits(const std::string& s) {
  int total = 0;
  for (char c : s) {
    auto d = parse_digit(c);
    if (!d.ok()) return std::move(d).error();
    total += *d;
  }
  return total;
}

Status check_positive(int v) {
  if (v <= 0) return make_error(ErrorCode::kInvalidArgument, "not positive");
  return ok_status();
}

int steps_taken = 0;

Status both_positive(int a, int b) {
  steps_taken = 0;
  ONESTACK_TRY(check_positive(a));
  ++steps_taken;
  ONESTACK_TRY(check_positive(b));
  ++steps_taken;
  return ok_status();
}

Result<std::string> describe(int a) {
  ONESTACK_TRY(check_positive(a));
  ONESTACK_TRY(parse_digit(static_cast<char>('0' + a % 10)));
  return std::string("positive");
}

TEST(Result, HoldsAValueWhenBuiltFromOne) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(r.value(), 42);
}

TEST(Result, HoldsAnErrorWithCodeAndMessage) {
  Result<int> r = make_error(ErrorCode::kNotFound, "no such thing");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "no such thing");
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

TEST(Result, GivesMemberAccessThroughArrow) {
  Result<std::string> r = std::string("abc");
  EXPECT_EQ(r->size(), 3u);
}

TEST(Result, PropagatesTheFirstErrorFromALoop) {
  EXPECT_EQ(*sum_of_digits("123"), 6);
  auto bad = sum_of_digits("12x3");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(Status, IsOkByDefaultAndCarriesAnErrorOtherwise) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(ok_status().ok());
  Status e = make_error(ErrorCode::kConflict, "taken");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::kConflict);
  EXPECT_EQ(e.error().message, "taken");
}

TEST(OnestackTry, ContinuesPastSuccessAndReturnsTheFirstFailure) {
  EXPECT_TRUE(both_positive(1, 2).ok());
  EXPECT_EQ(steps_taken, 2);

  auto first = both_positive(-1, 2);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().message, "not positive");
  EXPECT_EQ(steps_taken, 0);

  auto second = both_positive(1, 0);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(steps_taken, 1);
}

TEST(OnestackTry, WorksInFunctionsReturningAValueResult) {
  EXPECT_EQ(*describe(3), "positive");
  auto r = describe(-3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(ErrorCodeName, GivesEveryCodeADistinctLowerCaseName) {
  const ErrorCode all[] = {
      ErrorCode::kNotFound,
      ErrorCode::kConflict,
      ErrorCode::kUnauthenticated,
      ErrorCode::kForbidden,
      ErrorCode::kInvalidArgument,
      ErrorCode::kPreconditionFailed,
      ErrorCode::kRangeNotSatisfiable,
      ErrorCode::kTooLarge,
      ErrorCode::kInsufficientStorage,
      ErrorCode::kUnavailable,
      ErrorCode::kMethodNotAllowed,
      ErrorCode::kNotImplemented,
      ErrorCode::kInternal,
  };
  std::set<std::string> names;
  for (ErrorCode c : all) {
    std::string n(error_code_name(c));
    EXPECT_TRUE(std::regex_match(n, std::regex("[a-z_]+"))) << n;
    EXPECT_NE(n, "unknown");
    names.insert(n);
  }
  EXPECT_EQ(names.size(), std::size(all));
  EXPECT_EQ(error_code_name(ErrorCode::kNotFound), "not_found");
}

TEST(Ids, HexIdsAre32LowerCaseHexCharacters) {
  for (int i = 0; i < 100; ++i) {
    std::string id = new_hex_id();
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
    EXPECT_TRUE(is_hex_uuid(id));
  }
}

TEST(Ids, HexIdsAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(new_hex_id());
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(Ids, UuidsAreDashedVersion4WithTheRfc4122Variant) {
  std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = new_uuid();
    EXPECT_TRUE(std::regex_match(u, shape)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, RequestUuidsAreVersion4AndUniqueAcrossThreads) {
  std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kEach; ++i) made[t].push_back(new_request_uuid());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> seen;
  for (const auto& v : made) {
    for (const auto& u : v) seen.insert(u);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_TRUE(std::regex_match(made[0][0], shape)) << made[0][0];
  EXPECT_TRUE(std::regex_match(made[3][kEach - 1], shape)) << made[3][kEach - 1];
}

TEST(Ids, RandomBytesHaveTheRequestedLength) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(Ids, IsHexUuidRejectsOtherShapes) {
  const char* bad[] = {
      "",
      "0123456789abcdef0123456789abcde",    // 31
      "0123456789abcdef0123456789abcdef0",  // 33
      "0123456789ABCDEF0123456789abcdef",   // upper case
      "0123456789abcdef0123456789abcdeg",   // non-hex
      "01234567-89ab-cdef-0123-456789abcdef",
  };
  for (const char* s : bad) EXPECT_FALSE(is_hex_uuid(s)) << s;
  EXPECT_TRUE(is_hex_uuid("0123456789abcdef0123456789abcdef"));
}

struct UserTag {};
struct ProjectTag {};

TEST(NamedId, ComparesWithinOneKindOfId) {
  using UserId = NamedId<UserTag>;
  UserId a("a"), b("b"), a2("a");
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_TRUE(UserId().empty());
  EXPECT_EQ(a.str(), "a");
  static_assert(!std::is_convertible_v<NamedId<UserTag>, NamedId<ProjectTag>>);
  static_assert(!std::is_convertible_v<std::string, NamedId<UserTag>>);
}

}  // namespace
}  // namespace onestack
