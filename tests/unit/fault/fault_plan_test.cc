#include "fault/fault_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "unit/store/temp_dir.h"

namespace onestack::fault {
namespace {

TEST(FaultPlanParser, ReadsEveryErrorAndOption) {
  auto r = parse_plan(
      "# a comment\n"
      "\n"
      "blob.write ENOSPC\n"
      "  blob.write\tEIO short=100 count=2 after=3\r\n"
      "blob.write EDQUOT short\n"
      "blob.commit EIO count=-1\n"
      "store.put_object SQLITE_FULL\n"
      "store.get_object SQLITE_IOERR after=1\n"
      "store.delete_object SQLITE_BUSY");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 7u);
  const auto& v = *r;
  EXPECT_EQ(v[0].point, "blob.write");
  EXPECT_EQ(v[0].kind, FaultKind::kEnospc);
  EXPECT_EQ(v[0].count, 1);
  EXPECT_EQ(v[0].after, 0);
  EXPECT_FALSE(v[0].short_bytes);
  EXPECT_EQ(v[1].kind, FaultKind::kEio);
  EXPECT_EQ(v[1].count, 2);
  EXPECT_EQ(v[1].after, 3);
  EXPECT_EQ(v[1].short_bytes, 100);
  EXPECT_EQ(v[2].kind, FaultKind::kEdquot);
  EXPECT_EQ(v[2].short_bytes, -1);
  EXPECT_EQ(v[3].count, -1);
  EXPECT_EQ(v[4].kind, FaultKind::kSqliteFull);
  EXPECT_EQ(v[5].kind, FaultKind::kSqliteIoerr);
  EXPECT_EQ(v[5].after, 1);
  EXPECT_EQ(v[6].point, "store.delete_object");
  EXPECT_EQ(v[6].kind, FaultKind::kSqliteBusy);
}

TEST(FaultPlanParser, RejectsMalformedRulesNamingTheLine) {
  const char* bad[] = {
      "blob.write",                  // no error
      "blob.write ENOSPACE",         // unknown error
      "blob.write EIO count=x",      // not a number
      "blob.write EIO count=-2",     // below -1
      "blob.write EIO after=-1",     // negative
      "blob.write EIO short=-5",     // negative
      "blob.write EIO sometimes=1",  // unknown option
      "blob.write EIO count",        // count without a value
      "blob.write EIO count=1x",     // trailing garbage
  };
  for (const char* line : bad) {
    std::string text = std::string("blob.open EIO\n") + line + "\n";
    auto r = parse_plan(text);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << line;
    EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
  }
}

TEST(FaultErrors, MapAsTheRealBackendsDo) {
  EXPECT_EQ(fault_error(FaultKind::kEnospc, "blob.write").code, ErrorCode::kInsufficientStorage);
  EXPECT_EQ(fault_error(FaultKind::kEdquot, "blob.write").code, ErrorCode::kInsufficientStorage);
  EXPECT_EQ(fault_error(FaultKind::kEio, "blob.write").code, ErrorCode::kInternal);
  EXPECT_EQ(fault_error(FaultKind::kSqliteFull, "store.put_object").code,
            ErrorCode::kInsufficientStorage);
  EXPECT_EQ(fault_error(FaultKind::kSqliteIoerr, "store.put_object").code, ErrorCode::kInternal);
  EXPECT_EQ(fault_error(FaultKind::kSqliteBusy, "store.put_object").code, ErrorCode::kUnavailable);
  auto e = fault_error(FaultKind::kEnospc, "blob.create");
  EXPECT_NE(e.message.find("blob.create"), std::string::npos);
  EXPECT_NE(e.message.find("No space left on device"), std::string::npos);
  EXPECT_NE(e.message.find("injected"), std::string::npos);
}

TEST(FaultPlan, PassesAfterCallsThenFailsCountCalls) {
  FaultPlan plan;
  plan.set_rules(*parse_plan("store.put_object SQLITE_FULL count=2 after=1\n"));
  EXPECT_FALSE(plan.hit("store.get_object"));  // another point
  EXPECT_TRUE(plan.armed("store.put_object"));
  EXPECT_FALSE(plan.hit("store.put_object"));  // after=1
  auto f = plan.hit("store.put_object");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->error.code, ErrorCode::kInsufficientStorage);
  EXPECT_TRUE(plan.hit("store.put_object"));
  EXPECT_FALSE(plan.armed("store.put_object"));
  EXPECT_FALSE(plan.hit("store.put_object"));  // used up
  EXPECT_EQ(plan.fired("store.put_object"), 2u);
  EXPECT_EQ(plan.fired("store.get_object"), 0u);
}

TEST(FaultPlan, CountMinusOneFailsEveryCall) {
  FaultPlan plan;
  plan.set_rules(*parse_plan("blob.open EIO count=-1\n"));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(plan.hit("blob.open"));
  EXPECT_TRUE(plan.armed("blob.open"));
  EXPECT_EQ(plan.fired("blob.open"), 50u);
}

TEST(FaultPlan, FirstFiringRuleWinsAndCarriesShortBytes) {
  FaultPlan plan;
  plan.set_rules(*parse_plan("blob.write EIO short=7\nblob.write ENOSPC count=-1\n"));
  auto first = plan.hit("blob.write");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->kind, FaultKind::kEio);
  EXPECT_EQ(first->short_bytes, 7);
  auto second = plan.hit("blob.write");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->kind, FaultKind::kEnospc);
  EXPECT_FALSE(second->short_bytes);
}

void write_file(const std::string& path, const std::string& text) {
  // Written beside and renamed, as the API tests do: a new inode each time.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

TEST(FaultPlanFile, MissingFileMeansNoFaults) {
  store::testing::TempDir dir;
  FaultPlan plan(dir.file("plan"));
  EXPECT_FALSE(plan.hit("blob.write"));
  EXPECT_FALSE(plan.armed("blob.write"));
}

TEST(FaultPlanFile, RereadsTheFileWhenItChangesAndResetsCounters) {
  store::testing::TempDir dir;
  const std::string path = dir.file("plan");
  FaultPlan plan(path);
  write_file(path, "blob.write ENOSPC count=1\n");
  ASSERT_TRUE(plan.hit("blob.write"));
  EXPECT_FALSE(plan.hit("blob.write"));  // used up; file unchanged
  write_file(path, "blob.write EIO count=1\n");
  auto f = plan.hit("blob.write");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, FaultKind::kEio);
  // Removing the file clears the plan.
  write_file(path, "blob.write EIO count=-1\n");
  ASSERT_TRUE(plan.armed("blob.write"));
  ASSERT_EQ(::unlink(path.c_str()), 0);
  EXPECT_FALSE(plan.armed("blob.write"));
  EXPECT_FALSE(plan.hit("blob.write"));
}

TEST(FaultPlanFile, MalformedFileKeepsThePreviousRules) {
  store::testing::TempDir dir;
  const std::string path = dir.file("plan");
  FaultPlan plan(path);
  write_file(path, "blob.open EIO count=-1\n");
  ASSERT_TRUE(plan.hit("blob.open"));
  write_file(path, "blob.open NOPE\n");
  EXPECT_TRUE(plan.hit("blob.open"));
}

}  // namespace
}  // namespace onestack::fault
