#include "blob/gluster/gluster_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <glusterfs/api/glfs.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <optional>
#include <system_error>

#include "blob/md5.h"
#include "core/ids.h"

namespace onestack::blob::gluster {

struct GlusterBlobStore::Shared {
  std::shared_ptr<GlusterVolume> volume;
  std::string base;        // base_dir, normalised
  std::string objects;     // base + "/objects"
  std::string tmp;         // base + "/tmp/" + node name
  std::string quarantine;  // base + "/quarantine"
  // Which fan-out directories this store has seen to exist (see
  // ensure_fan_out). Only ever goes from false to true.
  mutable std::array<std::atomic<bool>, 256> fan_out_made{};
};

namespace {

constexpr mode_t kDirMode = 0750;
constexpr mode_t kFileMode = 0640;
constexpr int kDefaultPort = 24007;
constexpr int kLogWarning = 5;  // libglusterfs's GF_LOG_WARNING

// What an errno from libgfapi means to a caller. A replica that lost all
// its bricks answers ENOTCONN; a brick that dies mid-call often surfaces as
// EIO; both mean "try again later", not "your request is wrong".
ErrorCode code_for(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT: return ErrorCode::kInsufficientStorage;
    case ENOTCONN:
    case EIO:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETUNREACH:
    case ENETDOWN:
    case ESHUTDOWN:
    case EPIPE:
    case EAGAIN:
    case ESTALE: return ErrorCode::kUnavailable;
    default: return ErrorCode::kInternal;
  }
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// Names the failed call, the volume and the path, and the errno.
Error gl_error(std::string_view op, const GlusterVolume& volume, const std::string& path, int err) {
  return make_error(code_for(err),
                    std::string(op) + " " + volume.name() + ":" + path + ": " + errno_text(err));
}

Error not_found(std::string_view id) {
  // A malformed id is not echoed: it may be anything, of any length.
  if (!is_hex_uuid(id)) return make_error(ErrorCode::kNotFound, "malformed blob id");
  return make_error(ErrorCode::kNotFound, "no blob " + std::string(id));
}

std::string fan_out_name(int i) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{kHex[(i >> 4) & 0xf], kHex[i & 0xf]};
}

Status make_dir(const GlusterVolume& volume, const std::string& path) {
  if (glfs_mkdir(volume.fs(), path.c_str(), kDirMode) == 0) return ok_status();
  int err = errno;
  struct stat st;
  if (err == EEXIST && glfs_stat(volume.fs(), path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return ok_status();
  }
  return gl_error("mkdir", volume, path, err == EEXIST ? ENOTDIR : err);
}

// Syncs directory `path` so a rename or mkdir in it survives a crash of
// the bricks' hosts. libgfapi has no fsyncdir call, but an FSYNC on a
// descriptor from glfs_opendir reaches each brick's posix translator,
// which fsyncs its directory descriptor.
Status sync_dir(const GlusterVolume& volume, const std::string& path) {
  glfs_fd_t* fd = glfs_opendir(volume.fs(), path.c_str());
  if (fd == nullptr) return gl_error("opendir", volume, path, errno);
  int rc = glfs_fsync(fd, nullptr, nullptr);
  int err = errno;
  glfs_closedir(fd);
  if (rc != 0) return gl_error("fsync", volume, path, err);
  return ok_status();
}

int hex_digit(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

// The fan-out directory number (0..255) of well-formed id `id`.
int fan_out_index(std::string_view id) { return hex_digit(id[0]) * 16 + hex_digit(id[1]); }

// Makes sure fan-out directory `dir` (number `index`) exists before a
// rename into it. The local backend renames first and makes the directory
// on ENOENT, but libgfapi 10 crashes the process on a rename whose target
// directory is missing (a null dereference in the distribute translator's
// rename, gluster/glusterfs#4378), so the directory must exist first. Each
// store checks each directory once; a new one is synced into objects/ so it
// outlives a crash along with the blob inside it. Fan-out directories are
// never removed, by this store or any other node.
Status ensure_fan_out(const GlusterBlobStore::Shared& shared, const std::string& dir, int index) {
  if (shared.fan_out_made[index].load(std::memory_order_acquire)) return ok_status();
  const GlusterVolume& volume = *shared.volume;
  if (glfs_mkdir(volume.fs(), dir.c_str(), kDirMode) == 0) {
    ONESTACK_TRY(sync_dir(volume, shared.objects));
  } else {
    ONESTACK_TRY(make_dir(volume, dir));  // EEXIST: checks it is a directory
  }
  shared.fan_out_made[index].store(true, std::memory_order_release);
  return ok_status();
}

// Closes a directory descriptor on scope exit.
struct DirCloser {
  void operator()(glfs_fd_t* fd) const { glfs_closedir(fd); }
};
using DirPtr = std::unique_ptr<glfs_fd_t, DirCloser>;

bool valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "/a//b/" -> "/a/b"; nullopt unless absolute and free of "." and "..".
std::optional<std::string> normalise_base(std::string_view dir) {
  if (dir.empty() || dir.front() != '/') return std::nullopt;
  std::string out;
  size_t i = 0;
  while (i < dir.size()) {
    while (i < dir.size() && dir[i] == '/') ++i;
    size_t j = dir.find('/', i);
    if (j == std::string_view::npos) j = dir.size();
    std::string_view part = dir.substr(i, j - i);
    if (part.empty()) break;
    if (part == "." || part == ".." || part.find('\0') != std::string_view::npos) {
      return std::nullopt;
    }
    out += '/';
    out += part;
    i = j;
  }
  if (out.empty()) out = "/";
  return out;
}

struct Server {
  std::string host;
  int port = kDefaultPort;
};

std::optional<Server> parse_server(std::string_view s) {
  Server out;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(s.substr(1, close - 1));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else {
    size_t colon = s.find(':');
    if (colon != std::string_view::npos && s.find(':', colon + 1) != std::string_view::npos) {
      out.host = std::string(s);  // a bare IPv6 address
    } else {
      out.host = std::string(s.substr(0, colon));
      if (colon != std::string_view::npos) port = s.substr(colon + 1);
    }
  }
  if (out.host.empty()) return std::nullopt;
  if (!port.empty() || (s.size() && s.back() == ':')) {
    if (port.empty() || port.size() > 5) return std::nullopt;
    int p = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return std::nullopt;
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return std::nullopt;
    out.port = p;
  }
  return out;
}

// Whether a TCP connection to `server` opens within `timeout`; on failure
// `why` says what happened. libgfapi gives up on a server that drops
// packets only after about 42 s, so open() asks first.
bool reachable(const Server& server, std::chrono::milliseconds timeout, std::string& why) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(server.port);
  int gai = ::getaddrinfo(server.host.c_str(), port.c_str(), &hints, &res);
  if (gai != 0) {
    why = gai_strerror(gai);
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      why = errno_text(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLOUT, 0};
      int n = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (n == 1) {
        socklen_t len = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      } else {
        err = n == 0 ? ETIMEDOUT : errno;
      }
    }
    ::close(fd);
    if (err == 0) return true;
    why = err == ETIMEDOUT ? "no answer within " + std::to_string(timeout.count()) + " ms"
                           : errno_text(err);
  }
  return false;
}

class GlusterBlobWriter final : public BlobWriter {
 public:
  GlusterBlobWriter(std::shared_ptr<const GlusterBlobStore::Shared> shared, std::string id,
                    glfs_fd_t* fd, std::string tmp_path)
      : shared_(std::move(shared)), id_(std::move(id)), fd_(fd), tmp_path_(std::move(tmp_path)) {}
  ~GlusterBlobWriter() override { abort(); }
  GlusterBlobWriter(const GlusterBlobWriter&) = delete;
  GlusterBlobWriter& operator=(const GlusterBlobWriter&) = delete;

  const std::string& id() const override { return id_; }
  uint64_t size() const override { return size_; }
  std::string md5_hex() const override { return md5_.hex(); }

  Status write(std::string_view data) override {
    ONESTACK_TRY(check_open());
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = glfs_write(fd_, p, left, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(gl_error("write", volume(), tmp_path_, errno));
      }
      if (n == 0) {
        return fail(make_error(ErrorCode::kInternal,
                               "write " + volume().name() + ":" + tmp_path_ + ": no progress"));
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    md5_.update(data);
    return ok_status();
  }

  Status commit() override {
    if (state_ == State::kCommitted) return ok_status();
    ONESTACK_TRY(check_open());
    // The write-behind translator may still hold bytes: a failed fsync or
    // close is where a full volume or a lost brick shows up.
    if (glfs_fsync(fd_, nullptr, nullptr) != 0) {
      return fail(gl_error("fsync", volume(), tmp_path_, errno));
    }
    int rc = glfs_close(fd_);
    int err = errno;
    fd_ = nullptr;
    if (rc != 0) return fail(gl_error("close", volume(), tmp_path_, err));

    const std::string dir = shared_->objects + "/" + id_.substr(0, 2);
    const std::string final_path = dir + "/" + id_;
    glfs_t* fs = volume().fs();
    Status made = ensure_fan_out(*shared_, dir, fan_out_index(id_));
    if (!made.ok()) return fail(made.error());
    if (glfs_rename(fs, tmp_path_.c_str(), final_path.c_str()) != 0) {
      return fail(gl_error("rename", volume(), final_path, errno));
    }
    Status synced = sync_dir(volume(), dir);
    if (!synced.ok()) {
      // The rename may not survive a crash, so the blob must not be used:
      // take it back out of sight.
      glfs_unlink(fs, final_path.c_str());
      state_ = State::kFailed;
      failure_ = synced.error();
      return synced;
    }
    state_ = State::kCommitted;
    return ok_status();
  }

  void abort() override {
    if (state_ != State::kOpen) return;
    discard();
    state_ = State::kAborted;
  }

 private:
  enum class State { kOpen, kCommitted, kAborted, kFailed };

  const GlusterVolume& volume() const { return *shared_->volume; }

  Status check_open() const {
    switch (state_) {
      case State::kOpen: return ok_status();
      case State::kFailed: return *failure_;
      case State::kCommitted:
        return make_error(ErrorCode::kInternal, "blob " + id_ + " is already committed");
      case State::kAborted: return make_error(ErrorCode::kInternal, "blob " + id_ + " was aborted");
    }
    return make_error(ErrorCode::kInternal, "blob writer in an unknown state");
  }

  // Drops the temp file at once (a full volume gets its space back now)
  // and keeps the error for later calls.
  Status fail(Error error) {
    discard();
    state_ = State::kFailed;
    failure_ = error;
    return error;
  }

  void discard() {
    if (fd_ != nullptr) glfs_close(fd_);
    fd_ = nullptr;
    // With the volume gone this fails too; recover() removes the file at
    // the node's next start.
    glfs_unlink(volume().fs(), tmp_path_.c_str());
  }

  std::shared_ptr<const GlusterBlobStore::Shared> shared_;  // keeps the volume mounted
  std::string id_;
  glfs_fd_t* fd_;  // null once closed
  std::string tmp_path_;
  uint64_t size_ = 0;
  Md5 md5_;
  State state_ = State::kOpen;
  std::optional<Error> failure_;  // set in kFailed
};

class GlusterBlobReader final : public BlobReader {
 public:
  GlusterBlobReader(std::shared_ptr<GlusterVolume> volume, glfs_fd_t* fd, uint64_t size,
                    std::string path)
      : volume_(std::move(volume)), fd_(fd), size_(size), path_(std::move(path)) {}
  ~GlusterBlobReader() override { glfs_close(fd_); }
  GlusterBlobReader(const GlusterBlobReader&) = delete;
  GlusterBlobReader& operator=(const GlusterBlobReader&) = delete;

  uint64_t size() const override { return size_; }
  int fd() const override { return -1; }

  Result<size_t> read(uint64_t offset, char* buf, size_t len) override {
    // Blobs never change after commit, so the size taken at open() bounds
    // every read.
    if (offset >= size_) return size_t{0};
    if (len > size_ - offset) len = static_cast<size_t>(size_ - offset);
    size_t total = 0;
    while (total < len) {
      ssize_t n =
          glfs_pread(fd_, buf + total, len - total, static_cast<off_t>(offset + total), 0, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        return gl_error("pread", *volume_, path_, errno);
      }
      if (n == 0) break;
      total += static_cast<size_t>(n);
    }
    return total;
  }

 private:
  std::shared_ptr<GlusterVolume> volume_;  // keeps the volume mounted
  glfs_fd_t* fd_;
  uint64_t size_;
  std::string path_;
};

}  // namespace

// ---- GlusterVolume ----

GlusterVolume::GlusterVolume(glfs* fs, std::string name, std::string description)
    : fs_(fs), name_(std::move(name)), description_(std::move(description)) {}

GlusterVolume::~GlusterVolume() { glfs_fini(fs_); }

Result<std::shared_ptr<GlusterVolume>> GlusterVolume::mount(const GlusterOptions& options) {
  std::string servers_text;
  for (const std::string& s : options.servers) {
    if (!servers_text.empty()) servers_text += ",";
    servers_text += s;
  }
  const std::string what = "GlusterFS volume '" + options.volume + "' on servers " +
                           (servers_text.empty() ? "(none)" : servers_text);
  if (options.volume.empty())
    return make_error(ErrorCode::kInvalidArgument, "no volume name given");
  if (options.servers.empty()) {
    return make_error(ErrorCode::kInvalidArgument, what + ": no server given");
  }
  std::vector<Server> servers;
  for (const std::string& s : options.servers) {
    std::optional<Server> server = parse_server(s);
    if (!server) {
      return make_error(ErrorCode::kInvalidArgument,
                        what + ": malformed server '" + s + "' (want host or host:port)");
    }
    servers.push_back(std::move(*server));
  }

  std::string unreachable;
  bool any = false;
  for (size_t i = 0; i < servers.size() && !any; ++i) {
    std::string why;
    any = reachable(servers[i], options.connect_timeout, why);
    if (!any) unreachable += (unreachable.empty() ? "" : "; ") + options.servers[i] + ": " + why;
  }
  if (!any) {
    return make_error(ErrorCode::kUnavailable,
                      what + ": no server reachable (" + unreachable + ")");
  }

  glfs_t* fs = glfs_new(options.volume.c_str());
  if (fs == nullptr) return make_error(ErrorCode::kInternal, what + ": glfs_new failed");
  for (const Server& s : servers) {
    if (glfs_set_volfile_server(fs, "tcp", s.host.c_str(), s.port) != 0) {
      int err = errno;
      glfs_fini(fs);
      return make_error(ErrorCode::kInvalidArgument,
                        what + ": server " + s.host + ": " + errno_text(err));
    }
  }
  if (glfs_set_logging(fs, options.log_file.c_str(), kLogWarning) != 0) {
    int err = errno;
    glfs_fini(fs);
    return make_error(ErrorCode::kInvalidArgument,
                      what + ": log file " + options.log_file + ": " + errno_text(err));
  }
  if (glfs_init(fs) != 0) {
    int err = errno;
    glfs_fini(fs);
    // glusterd answers a request for a volume it does not know with ENOENT.
    if (err == ENOENT) {
      return make_error(ErrorCode::kNotFound, what + ": the servers know no such volume");
    }
    return make_error(ErrorCode::kUnavailable, what + ": cannot mount: " + errno_text(err));
  }
  return std::make_shared<GlusterVolume>(fs, options.volume, options.volume + "@" + servers_text);
}

// ---- GlusterBlobStore ----

GlusterBlobStore::GlusterBlobStore(std::shared_ptr<const Shared> shared)
    : shared_(std::move(shared)) {}
GlusterBlobStore::~GlusterBlobStore() = default;

Result<std::unique_ptr<GlusterBlobStore>> GlusterBlobStore::open(const GlusterOptions& options) {
  // Checked before mounting: a typo should not cost a connection.
  if (!valid_node_name(options.node_name)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "GlusterFS blob store: malformed node name '" + options.node_name + "'");
  }
  Result<std::shared_ptr<GlusterVolume>> volume = GlusterVolume::mount(options);
  if (!volume.ok()) return std::move(volume).error();
  return open_on(std::move(*volume), options);
}

Result<std::unique_ptr<GlusterBlobStore>> GlusterBlobStore::open_on(
    std::shared_ptr<GlusterVolume> volume, const GlusterOptions& options) {
  if (!valid_node_name(options.node_name)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "GlusterFS blob store: malformed node name '" + options.node_name + "'");
  }
  std::optional<std::string> base = normalise_base(options.base_dir);
  if (!base) {
    return make_error(ErrorCode::kInvalidArgument, "GlusterFS blob store: base directory '" +
                                                       options.base_dir +
                                                       "' must be absolute, without . or ..");
  }
  auto shared = std::make_shared<Shared>();
  shared->volume = std::move(volume);
  shared->base = *base;
  const std::string prefix = shared->base == "/" ? "" : shared->base;
  shared->objects = prefix + "/objects";
  shared->tmp = prefix + "/tmp/" + options.node_name;
  shared->quarantine = prefix + "/quarantine";

  // Every directory on the way down to the base, then the store's own.
  for (size_t slash = 1; slash < shared->base.size();) {
    size_t next = shared->base.find('/', slash);
    if (next == std::string::npos) next = shared->base.size();
    ONESTACK_TRY(make_dir(*shared->volume, shared->base.substr(0, next)));
    slash = next + 1;
  }
  ONESTACK_TRY(make_dir(*shared->volume, shared->objects));
  ONESTACK_TRY(make_dir(*shared->volume, prefix + "/tmp"));
  ONESTACK_TRY(make_dir(*shared->volume, shared->tmp));
  ONESTACK_TRY(make_dir(*shared->volume, shared->quarantine));
  return std::make_unique<GlusterBlobStore>(std::move(shared));
}

std::string GlusterBlobStore::object_path(std::string_view id) const {
  return shared_->objects + "/" + std::string(id.substr(0, 2)) + "/" + std::string(id);
}

std::string GlusterBlobStore::tmp_dir() const { return shared_->tmp; }

const std::shared_ptr<GlusterVolume>& GlusterBlobStore::volume() const { return shared_->volume; }

Result<std::unique_ptr<BlobWriter>> GlusterBlobStore::create() {
  const GlusterVolume& volume = *shared_->volume;
  std::string id = new_hex_id();
  std::string tmp_path = shared_->tmp + "/" + id + ".tmp";
  glfs_fd_t* fd = glfs_creat(volume.fs(), tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, kFileMode);
  if (fd == nullptr && errno == ENOENT) {
    // Someone removed this node's temp directory: make it again.
    ONESTACK_TRY(make_dir(volume, shared_->tmp));
    fd = glfs_creat(volume.fs(), tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, kFileMode);
  }
  if (fd == nullptr) return gl_error("create", volume, tmp_path, errno);
  return std::unique_ptr<BlobWriter>(
      std::make_unique<GlusterBlobWriter>(shared_, std::move(id), fd, std::move(tmp_path)));
}

Result<std::unique_ptr<BlobReader>> GlusterBlobStore::open(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  const GlusterVolume& volume = *shared_->volume;
  std::string path = object_path(id);
  glfs_fd_t* fd = glfs_open(volume.fs(), path.c_str(), O_RDONLY);
  if (fd == nullptr) {
    if (errno == ENOENT) return not_found(id);
    return gl_error("open", volume, path, errno);
  }
  struct stat st;
  if (glfs_fstat(fd, &st) != 0) {
    int err = errno;
    glfs_close(fd);
    return gl_error("fstat", volume, path, err);
  }
  return std::unique_ptr<BlobReader>(std::make_unique<GlusterBlobReader>(
      shared_->volume, fd, static_cast<uint64_t>(st.st_size), std::move(path)));
}

Status GlusterBlobStore::remove(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  std::string path = object_path(id);
  if (glfs_unlink(shared_->volume->fs(), path.c_str()) != 0 && errno != ENOENT) {
    return gl_error("unlink", *shared_->volume, path, errno);
  }
  return ok_status();
}

Status GlusterBlobStore::quarantine(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  std::string from = object_path(id);
  std::string to = shared_->quarantine + "/" + std::string(id);
  // The target directory must exist before the rename (see ensure_fan_out);
  // quarantine is rare enough to check every time.
  ONESTACK_TRY(make_dir(*shared_->volume, shared_->quarantine));
  if (glfs_rename(shared_->volume->fs(), from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
    return gl_error("rename", *shared_->volume, to, errno);
  }
  return ok_status();
}

Result<size_t> GlusterBlobStore::recover() {
  const GlusterVolume& volume = *shared_->volume;
  DirPtr dir(glfs_opendir(volume.fs(), shared_->tmp.c_str()));
  if (!dir) return gl_error("opendir", volume, shared_->tmp, errno);
  size_t removed = 0;
  for (;;) {
    struct dirent entry;
    struct dirent* e = nullptr;
    if (glfs_readdir_r(dir.get(), &entry, &e) != 0) {
      return gl_error("readdir", volume, shared_->tmp, errno);
    }
    if (e == nullptr) break;
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || e->d_type == DT_DIR) continue;
    const std::string path = shared_->tmp + "/" + std::string(name);
    if (glfs_unlink(volume.fs(), path.c_str()) == 0) {
      ++removed;
    } else if (errno != ENOENT) {
      return gl_error("unlink", volume, path, errno);
    }
  }
  return removed;
}

Status GlusterBlobStore::for_each(const std::function<bool(const BlobInfo&)>& fn) {
  const GlusterVolume& volume = *shared_->volume;
  for (int i = 0; i < 256; ++i) {
    const std::string prefix = fan_out_name(i);
    const std::string path = shared_->objects + "/" + prefix;
    DirPtr dir(glfs_opendir(volume.fs(), path.c_str()));
    if (!dir) {
      if (errno == ENOENT) continue;
      return gl_error("opendir", volume, path, errno);
    }
    for (;;) {
      struct stat st {};
      struct dirent entry;
      struct dirent* e = nullptr;
      if (glfs_readdirplus_r(dir.get(), &st, &entry, &e) != 0) {
        return gl_error("readdir", volume, path, errno);
      }
      if (e == nullptr) break;
      std::string_view name = e->d_name;
      // Only what commit() puts here counts; anything else is not a blob.
      if (!is_hex_uuid(name) || name.substr(0, 2) != prefix) continue;
      if (!S_ISREG(st.st_mode)) {
        // readdirplus leaves the stat empty when it has none cached.
        const std::string file = path + "/" + std::string(name);
        if (glfs_lstat(volume.fs(), file.c_str(), &st) != 0) {
          if (errno == ENOENT) continue;  // removed meanwhile
          return gl_error("stat", volume, file, errno);
        }
        if (!S_ISREG(st.st_mode)) continue;
      }
      BlobInfo info{std::string(name), static_cast<uint64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec)};
      if (!fn(info)) return ok_status();
    }
  }
  return ok_status();
}

}  // namespace onestack::blob::gluster
