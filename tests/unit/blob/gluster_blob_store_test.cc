// GlusterBlobStore beyond the BlobStore contract: several nodes sharing one
// volume, the layout inside it, and mounting errors. Needs the volume in
// ONESTACK_TEST_GLUSTER (see gluster_test_volume.h); without it the tests
// that need one are skipped, or fail under ONESTACK_TEST_REQUIRE_BACKENDS=1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "blob/gluster/gluster_blob_store.h"
#include "blob_test_util.h"
#include "core/ids.h"
#include "gluster_test_volume.h"

namespace onestack::blob::gluster {
namespace {

using blob::testing::md5_of;
using blob::testing::pattern_bytes;
using blob::testing::read_all;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

class GlusterBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = blob::testing::gluster_unavailable(); !why.empty()) {
      const char* require = std::getenv("ONESTACK_TEST_REQUIRE_BACKENDS");
      if (require != nullptr && std::string(require) == "1") {
        FAIL() << why << " (ONESTACK_TEST_REQUIRE_BACKENDS=1 requires every backend)";
      }
      GTEST_SKIP() << why;
    }
    std::string error;
    volume_ = blob::testing::shared_gluster_volume(&error);
    ASSERT_NE(volume_, nullptr) << "cannot mount ONESTACK_TEST_GLUSTER: " << error;
    options_ = *blob::testing::gluster_target();
    options_.base_dir = blob::testing::fresh_gluster_dir();
  }

  void TearDown() override {
    if (volume_ != nullptr) blob::testing::remove_gluster_tree(volume_->fs(), options_.base_dir);
  }

  // A store for node `node` in this test's base directory.
  std::unique_ptr<GlusterBlobStore> open_node(const std::string& node) {
    GlusterOptions options = options_;
    options.node_name = node;
    auto s = GlusterBlobStore::open_on(volume_, options);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(*s) : nullptr;
  }

  bool exists(const std::string& path) {
    struct stat st;
    return glfs_stat(volume_->fs(), path.c_str(), &st) == 0;
  }

  // Leaves a temp file in `store`'s temp directory, as a write cut short
  // by a crash would.
  std::string plant_temp(const GlusterBlobStore& store) {
    std::string path = store.tmp_dir() + "/" + new_hex_id() + ".tmp";
    glfs_fd_t* fd = glfs_creat(volume_->fs(), path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
    EXPECT_NE(fd, nullptr) << path;
    if (fd != nullptr) {
      EXPECT_EQ(glfs_write(fd, "partial", 7, 0), 7);
      glfs_close(fd);
    }
    return path;
  }

  std::shared_ptr<GlusterVolume> volume_;
  GlusterOptions options_;
};

TEST_F(GlusterBlobStoreTest, RecoverRemovesOnlyItsOwnNodesTempFiles) {
  auto a = open_node("node-a");
  auto b = open_node("node-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->tmp_dir(), b->tmp_dir());

  // Node b is uploading while node a restarts after a crash that left a
  // temp file of its own behind.
  auto upload = b->create();
  ASSERT_OK(upload);
  ASSERT_OK((*upload)->write("uploading through node b"));
  const std::string b_temp = b->tmp_dir() + "/" + (*upload)->id() + ".tmp";
  ASSERT_TRUE(exists(b_temp));
  const std::string a_crashed = plant_temp(*a);

  auto removed = a->recover();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 1u);
  EXPECT_FALSE(exists(a_crashed));
  EXPECT_TRUE(exists(b_temp));

  // b's upload goes on as if nothing happened.
  ASSERT_OK((*upload)->write(", finished"));
  ASSERT_OK((*upload)->commit());
  EXPECT_FALSE(exists(b_temp));
  auto r = a->open((*upload)->id());
  ASSERT_OK(r);
  EXPECT_EQ(read_all(**r), "uploading through node b, finished");

  // And b's own recover() finds its directory clean.
  auto b_removed = b->recover();
  ASSERT_OK(b_removed);
  EXPECT_EQ(*b_removed, 0u);
}

TEST_F(GlusterBlobStoreTest, ABlobWrittenThroughOneNodeIsServedByTheOther) {
  auto a = open_node("node-a");
  auto b = open_node("node-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  const std::string data = pattern_bytes(300001);
  auto w = a->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write(data));
  // Not visible through either node before commit.
  EXPECT_CODE(b->open((*w)->id()), ErrorCode::kNotFound);
  ASSERT_OK((*w)->commit());
  const std::string id = (*w)->id();

  auto r = b->open(id);
  ASSERT_OK(r);
  EXPECT_EQ((*r)->size(), data.size());
  EXPECT_EQ((*r)->fd(), -1);
  EXPECT_EQ(md5_of(read_all(**r)), md5_of(data));

  std::set<std::string> seen;
  ASSERT_OK(b->for_each([&](const BlobInfo& info) {
    seen.insert(info.id);
    EXPECT_EQ(info.size, data.size());
    return true;
  }));
  EXPECT_EQ(seen, std::set<std::string>{id});

  // Removed through b, gone for a; b's reader still reads.
  ASSERT_OK(b->remove(id));
  EXPECT_CODE(a->open(id), ErrorCode::kNotFound);
  EXPECT_EQ(md5_of(read_all(**r)), md5_of(data));
}

TEST_F(GlusterBlobStoreTest, BlobsLiveInFanOutDirectoriesAndTempsUnderTheNode) {
  auto s = open_node("node-a");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->tmp_dir(), options_.base_dir + "/tmp/node-a");
  auto w = s->create();
  ASSERT_OK(w);
  const std::string id = (*w)->id();
  EXPECT_TRUE(exists(s->tmp_dir() + "/" + id + ".tmp"));
  ASSERT_OK((*w)->write("placed"));
  ASSERT_OK((*w)->commit());
  EXPECT_EQ(s->object_path(id), options_.base_dir + "/objects/" + id.substr(0, 2) + "/" + id);
  EXPECT_TRUE(exists(s->object_path(id)));
  EXPECT_FALSE(exists(s->tmp_dir() + "/" + id + ".tmp"));

  ASSERT_OK(s->quarantine(id));
  EXPECT_FALSE(exists(s->object_path(id)));
  EXPECT_TRUE(exists(options_.base_dir + "/quarantine/" + id));
}

TEST_F(GlusterBlobStoreTest, ATempDirectoryRemovedUnderTheStoreIsMadeAgain) {
  auto s = open_node("node-a");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(glfs_rmdir(volume_->fs(), s->tmp_dir().c_str()), 0);
  auto w = s->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("again"));
  ASSERT_OK((*w)->commit());
  auto r = s->open((*w)->id());
  ASSERT_OK(r);
  EXPECT_EQ(read_all(**r), "again");
}

TEST_F(GlusterBlobStoreTest, A64MiBBlobStreamsInAndOut) {
  auto s = open_node("node-a");
  ASSERT_NE(s, nullptr);
  const std::string data = pattern_bytes(64u << 20);
  for (size_t size : {size_t{4096}, data.size()}) {
    SCOPED_TRACE(size);
    const std::string_view bytes = std::string_view(data).substr(0, size);
    Clock::time_point t0 = Clock::now();
    auto w = s->create();
    ASSERT_OK(w);
    const double create_ms = ms_since(t0);
    t0 = Clock::now();
    for (size_t at = 0; at < bytes.size(); at += 1u << 20) {
      ASSERT_OK((*w)->write(bytes.substr(at, 1u << 20)));
    }
    const double write_ms = ms_since(t0);
    t0 = Clock::now();
    ASSERT_OK((*w)->commit());
    const double commit_ms = ms_since(t0);
    t0 = Clock::now();
    auto r = s->open((*w)->id());
    ASSERT_OK(r);
    std::string back = read_all(**r, 1u << 20);
    const double read_ms = ms_since(t0);
    EXPECT_EQ(back.size(), size);
    EXPECT_EQ(md5_of(back), md5_of(bytes));
    EXPECT_EQ((*w)->md5_hex(), md5_of(bytes));
    std::cout << "[ timing   ] " << size << " bytes: create " << create_ms << " ms, write "
              << write_ms << " ms, commit " << commit_ms << " ms, open+read " << read_ms << " ms\n";
  }
}

TEST_F(GlusterBlobStoreTest, AnUnknownVolumeFailsToOpenNamingTheVolumeAndServers) {
  GlusterOptions options = options_;
  options.volume = "no-such-volume-" + new_hex_id().substr(0, 8);
  options.node_name = "node-a";
  const Clock::time_point t0 = Clock::now();
  auto s = GlusterBlobStore::open(options);
  const double took_ms = ms_since(t0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound) << s.error().message;
  EXPECT_NE(s.error().message.find(options.volume), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(options.servers.front()), std::string::npos)
      << s.error().message;
  EXPECT_LT(took_ms, 10000.0);
}

TEST_F(GlusterBlobStoreTest, AMalformedBaseDirectoryIsRefused) {
  for (const char* bad : {"", "relative", "/a/../b", "/a/./b"}) {
    SCOPED_TRACE(bad);
    GlusterOptions options = options_;
    options.base_dir = bad;
    options.node_name = "node-a";
    EXPECT_CODE(GlusterBlobStore::open_on(volume_, options), ErrorCode::kInvalidArgument);
  }
}

// The volume losing every brick (ONESTACK_TEST_GLUSTER_DIR names the
// directory scripts/gluster.sh brought the volume up in, so the test can
// kill and restart its bricks): every call is kUnavailable, which the
// services answer with 503, and the store works again once a brick is back.
TEST_F(GlusterBlobStoreTest, WithEveryBrickGoneCallsAreUnavailableUntilABrickReturns) {
  const char* dir = std::getenv("ONESTACK_TEST_GLUSTER_DIR");
  const char* source = std::getenv("ONESTACK_SOURCE_DIR");
  if (dir == nullptr || source == nullptr) {
    GTEST_SKIP() << "needs ONESTACK_TEST_GLUSTER_DIR (the directory given to scripts/gluster.sh "
                    "up) and ONESTACK_SOURCE_DIR (set by ctest)";
  }
  const std::string script = std::string(source) + "/scripts/gluster.sh";
  auto run = [&](const std::string& args) {
    const std::string command = script + " " + args + " >/dev/null";
    return std::system(command.c_str());
  };
  auto s = open_node("node-a");
  ASSERT_NE(s, nullptr);
  auto w = s->create();
  ASSERT_OK(w);
  ASSERT_OK((*w)->write("before"));
  ASSERT_OK((*w)->commit());
  const std::string id = (*w)->id();
  auto pending = s->create();
  ASSERT_OK(pending);

  // Whatever happens below, the bricks are restarted for the next test.
  struct Restart {
    std::function<int(const std::string&)> run;
    std::string dir;
    ~Restart() { (void)run("start-brick " + dir); }
  } restart{run, dir};
  ASSERT_EQ(run(std::string("kill-brick ") + dir + " 1"), 0);
  // One brick left: the replica still serves.
  {
    auto one_left = s->open(id);
    ASSERT_OK(one_left);
    EXPECT_EQ(read_all(**one_left), "before");
  }
  ASSERT_EQ(run(std::string("kill-brick ") + dir + " 2"), 0);

  EXPECT_CODE(s->open(id), ErrorCode::kUnavailable);
  EXPECT_CODE(s->create(), ErrorCode::kUnavailable);
  EXPECT_CODE(s->remove(id), ErrorCode::kUnavailable);
  EXPECT_CODE(s->for_each([](const BlobInfo&) { return true; }), ErrorCode::kUnavailable);
  // A write under way fails at the latest when it commits.
  Status wrote = (*pending)->write("during");
  Status committed = wrote.ok() ? (*pending)->commit() : wrote;
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code, ErrorCode::kUnavailable) << committed.error().message;
  EXPECT_NE(committed.error().message.find(volume_->name()), std::string::npos);

  ASSERT_EQ(run(std::string("start-brick ") + dir), 0);
  // The client reconnects to the restarted bricks within a few seconds.
  Result<std::unique_ptr<BlobReader>> r = s->open(id);
  for (int i = 0; i < 300 && !r.ok(); ++i) {
    ::usleep(100 * 1000);
    r = s->open(id);
  }
  ASSERT_OK(r);
  EXPECT_EQ(read_all(**r), "before");
  auto after = s->create();
  ASSERT_OK(after);
  ASSERT_OK((*after)->write("after"));
  ASSERT_OK((*after)->commit());
}

// Needs no volume: nothing answers there.
TEST(GlusterBlobStoreOpen, AServerThatRefusesFailsAtOnceNamingIt) {
  GlusterOptions options;
  options.volume = "onestack";
  options.servers = {"127.0.0.1:1"};
  options.node_name = "node-a";
  const Clock::time_point t0 = Clock::now();
  auto s = GlusterBlobStore::open(options);
  ASSERT_FALSE(s.ok());
  EXPECT_LT(ms_since(t0), 2000.0);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable) << s.error().message;
  EXPECT_NE(s.error().message.find("'onestack'"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("127.0.0.1:1"), std::string::npos) << s.error().message;
}

// An address nobody answers: either the network says so at once or the
// connect timeout ends the wait; libgfapi alone would wait about 42 s.
TEST(GlusterBlobStoreOpen, AnAddressNobodyAnswersFailsWithinTheConnectTimeout) {
  GlusterOptions options;
  options.volume = "onestack";
  options.servers = {"192.0.2.1", "192.0.2.2:24007"};  // TEST-NET-1 (RFC 5737)
  options.node_name = "node-a";
  options.connect_timeout = std::chrono::milliseconds(300);
  const Clock::time_point t0 = Clock::now();
  auto s = GlusterBlobStore::open(options);
  ASSERT_FALSE(s.ok());
  EXPECT_LT(ms_since(t0), 2 * 300.0 + 1000.0);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable) << s.error().message;
  EXPECT_NE(s.error().message.find("192.0.2.1"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("192.0.2.2:24007"), std::string::npos) << s.error().message;
}

// A server whose accept queue is full drops connection attempts without a
// word, as a host behind a dropping firewall does: the connect timeout,
// not libgfapi's 42 s, decides how long open() waits.
TEST(GlusterBlobStoreOpen, AServerThatNeverAnswersFailsAfterTheConnectTimeout) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  GlusterOptions options;
  options.volume = "onestack";
  options.servers = {"127.0.0.1:" + std::to_string(ntohs(addr.sin_port))};
  options.node_name = "node-a";
  options.connect_timeout = std::chrono::milliseconds(400);
  const Clock::time_point t0 = Clock::now();
  auto s = GlusterBlobStore::open(options);
  const double took_ms = ms_since(t0);
  for (int fd : fillers) ::close(fd);
  ::close(listener);
  ASSERT_FALSE(s.ok());
  EXPECT_GE(took_ms, 350.0);
  EXPECT_LT(took_ms, 2000.0);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable) << s.error().message;
  EXPECT_NE(s.error().message.find(options.servers.front()), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("400 ms"), std::string::npos) << s.error().message;
}

TEST(GlusterBlobStoreOpen, MalformedOptionsAreRefusedBeforeConnecting) {
  GlusterOptions base;
  base.volume = "onestack";
  base.servers = {"127.0.0.1:1"};
  base.node_name = "node-a";
  struct Case {
    const char* what;
    GlusterOptions options;
  };
  std::vector<Case> cases;
  for (const char* node : {"", ".", "..", "a/b", "a b", "\xc3\xa9"}) {
    GlusterOptions o = base;
    o.node_name = node;
    cases.push_back({node, o});
  }
  for (const char* server : {"", ":24007", "host:", "host:0", "host:65536", "host:x", "[::1"}) {
    GlusterOptions o = base;
    o.servers = {server};
    cases.push_back({server, o});
  }
  GlusterOptions no_servers = base;
  no_servers.servers.clear();
  cases.push_back({"no servers", no_servers});
  GlusterOptions no_volume = base;
  no_volume.volume.clear();
  cases.push_back({"no volume", no_volume});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_CODE(GlusterBlobStore::open(c.options), ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace onestack::blob::gluster
