#include "blob/fs/fs_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <system_error>

#include "blob/md5.h"
#include "core/ids.h"

namespace onestack::blob::fs {

struct FsBlobStore::Shared {
  std::string root;
  std::string objects;     // root + "/objects"
  std::string tmp;         // root + "/tmp"
  std::string quarantine;  // root + "/quarantine"
  Options options;
};

namespace {

constexpr mode_t kDirMode = 0750;
constexpr mode_t kFileMode = 0640;

// Names the failed call, the path and the errno; a full disk or quota is
// kInsufficientStorage (Swift's 507), anything else kInternal.
Error sys_error(std::string_view op, const std::string& path, int err) {
  ErrorCode code =
      (err == ENOSPC || err == EDQUOT) ? ErrorCode::kInsufficientStorage : ErrorCode::kInternal;
  return make_error(code, std::string(op) + " " + path + ": " +
                              std::error_code(err, std::generic_category()).message());
}

Error not_found(std::string_view id) {
  // A malformed id is not echoed: it may be anything, of any length.
  if (!is_hex_uuid(id)) return make_error(ErrorCode::kNotFound, "malformed blob id");
  return make_error(ErrorCode::kNotFound, "no blob " + std::string(id));
}

// The two lower-case hex digits 00..ff of fan-out directory `i`.
std::string fan_out_name(int i) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{kHex[(i >> 4) & 0xf], kHex[i & 0xf]};
}

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), kDirMode) == 0) return ok_status();
  int err = errno;
  struct stat st;
  if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return ok_status();
  return sys_error("mkdir", path, err == EEXIST ? ENOTDIR : err);
}

// Syncs directory `path` so a rename into it survives a crash. The
// directory is opened for each sync rather than kept open: opening and
// closing one costs about 3 us against 60-500 us for the fsync itself on
// ext4, not worth holding 256 descriptors for.
Status sync_dir(const FsBlobStore::Options& options, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open", path, errno);
  int rc = options.fsync_dir ? options.fsync_dir(fd) : ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return sys_error("fsync", path, err);
  return ok_status();
}

// Closes a DIR* on scope exit.
struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

class FsBlobWriter final : public BlobWriter {
 public:
  FsBlobWriter(std::shared_ptr<const FsBlobStore::Shared> shared, std::string id, int fd,
               std::string tmp_path)
      : shared_(std::move(shared)), id_(std::move(id)), fd_(fd), tmp_path_(std::move(tmp_path)) {}
  ~FsBlobWriter() override { abort(); }
  FsBlobWriter(const FsBlobWriter&) = delete;
  FsBlobWriter& operator=(const FsBlobWriter&) = delete;

  const std::string& id() const override { return id_; }
  uint64_t size() const override { return size_; }
  std::string md5_hex() const override { return md5_.hex(); }

  Status write(std::string_view data) override {
    ONESTACK_TRY(check_open());
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n =
          shared_->options.write ? shared_->options.write(fd_, p, left) : ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(sys_error("write", tmp_path_, errno));
      }
      if (n == 0) {
        return fail(make_error(ErrorCode::kInternal, "write " + tmp_path_ + ": no progress"));
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
    int rc = shared_->options.fdatasync ? shared_->options.fdatasync(fd_) : ::fdatasync(fd_);
    if (rc != 0) return fail(sys_error("fdatasync", tmp_path_, errno));
    // Linux releases the descriptor even when close() fails; a failure here
    // is a late write error (NFS), so the bytes are not trusted.
    rc = ::close(fd_);
    int err = errno;
    fd_ = -1;
    if (rc != 0 && err != EINTR) return fail(sys_error("close", tmp_path_, err));

    const std::string dir = shared_->objects + "/" + id_.substr(0, 2);
    const std::string final_path = dir + "/" + id_;
    int renamed = ::rename(tmp_path_.c_str(), final_path.c_str());
    if (renamed != 0 && errno == ENOENT) {
      // First blob in this fan-out directory: make it, and sync objects/ so
      // the directory outlives a crash along with the blob inside it.
      Status made = make_dir(dir);
      if (made.ok()) made = sync_dir(shared_->options, shared_->objects);
      if (!made.ok()) return fail(made.error());
      renamed = ::rename(tmp_path_.c_str(), final_path.c_str());
    }
    if (renamed != 0) return fail(sys_error("rename", final_path, errno));
    Status synced = sync_dir(shared_->options, dir);
    if (!synced.ok()) {
      // The rename may not survive a crash, so the blob must not be used:
      // take it back out of sight.
      ::unlink(final_path.c_str());
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

  // Drops the temp file at once (a full disk gets its space back now, not
  // when the caller gets round to abort()) and keeps the error for later
  // calls.
  Status fail(Error error) {
    discard();
    state_ = State::kFailed;
    failure_ = error;
    return error;
  }

  void discard() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(tmp_path_.c_str());
  }

  std::shared_ptr<const FsBlobStore::Shared> shared_;
  std::string id_;
  int fd_;  // -1 once closed
  std::string tmp_path_;
  uint64_t size_ = 0;
  Md5 md5_;
  State state_ = State::kOpen;
  std::optional<Error> failure_;  // set in kFailed
};

class FsBlobReader final : public BlobReader {
 public:
  FsBlobReader(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FsBlobReader() override { ::close(fd_); }
  FsBlobReader(const FsBlobReader&) = delete;
  FsBlobReader& operator=(const FsBlobReader&) = delete;

  uint64_t size() const override { return size_; }
  int fd() const override { return fd_; }

  Result<size_t> read(uint64_t offset, char* buf, size_t len) override {
    // Blobs never change after commit, so the size taken at open() bounds
    // every read.
    if (offset >= size_) return size_t{0};
    if (len > size_ - offset) len = static_cast<size_t>(size_ - offset);
    size_t total = 0;
    while (total < len) {
      ssize_t n = ::pread(fd_, buf + total, len - total, static_cast<off_t>(offset + total));
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("pread", path_, errno);
      }
      if (n == 0) break;
      total += static_cast<size_t>(n);
    }
    return total;
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

}  // namespace

FsBlobStore::FsBlobStore(std::shared_ptr<const Shared> shared) : shared_(std::move(shared)) {}
FsBlobStore::~FsBlobStore() = default;

Result<std::unique_ptr<FsBlobStore>> FsBlobStore::open_dir(const std::string& root_dir,
                                                           Options options) {
  auto shared = std::make_shared<Shared>();
  shared->root = root_dir;
  while (shared->root.size() > 1 && shared->root.back() == '/') shared->root.pop_back();
  shared->objects = shared->root + "/objects";
  shared->tmp = shared->root + "/tmp";
  shared->quarantine = shared->root + "/quarantine";
  shared->options = std::move(options);

  ONESTACK_TRY(make_dir(shared->root));
  ONESTACK_TRY(make_dir(shared->objects));
  ONESTACK_TRY(make_dir(shared->tmp));
  ONESTACK_TRY(make_dir(shared->quarantine));
  // Fan-out directories are made by the first commit() that needs one: 256
  // mkdirs up front cost a fresh store (every file-backed test) 30-80 ms.
  return std::make_unique<FsBlobStore>(std::move(shared));
}

const std::string& FsBlobStore::root() const { return shared_->root; }

std::string FsBlobStore::object_path(std::string_view id) const {
  return shared_->objects + "/" + std::string(id.substr(0, 2)) + "/" + std::string(id);
}

Result<std::unique_ptr<BlobWriter>> FsBlobStore::create() {
  std::string id = new_hex_id();
  std::string tmp_path = shared_->tmp + "/" + id + ".tmp";
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
  if (fd < 0) return sys_error("create", tmp_path, errno);
  return std::unique_ptr<BlobWriter>(
      std::make_unique<FsBlobWriter>(shared_, std::move(id), fd, std::move(tmp_path)));
}

Result<std::unique_ptr<BlobReader>> FsBlobStore::open(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  std::string path = object_path(id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(id);
    return sys_error("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return sys_error("fstat", path, err);
  }
  return std::unique_ptr<BlobReader>(
      std::make_unique<FsBlobReader>(fd, static_cast<uint64_t>(st.st_size), std::move(path)));
}

Status FsBlobStore::remove(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  std::string path = object_path(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("unlink", path, errno);
  return ok_status();
}

Status FsBlobStore::quarantine(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  std::string from = object_path(id);
  std::string to = shared_->quarantine + "/" + std::string(id);
  if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
    return sys_error("rename", to, errno);
  }
  return ok_status();
}

Result<size_t> FsBlobStore::recover() {
  DirPtr dir(::opendir(shared_->tmp.c_str()));
  if (!dir) return sys_error("opendir", shared_->tmp, errno);
  size_t removed = 0;
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(dir.get());
    if (e == nullptr) {
      if (errno != 0) return sys_error("readdir", shared_->tmp, errno);
      break;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || e->d_type == DT_DIR) continue;
    if (::unlinkat(::dirfd(dir.get()), e->d_name, 0) == 0) {
      ++removed;
    } else if (errno != ENOENT) {
      return sys_error("unlink", shared_->tmp + "/" + std::string(name), errno);
    }
  }
  return removed;
}

Status FsBlobStore::for_each(const std::function<bool(const BlobInfo&)>& fn) {
  for (int i = 0; i < 256; ++i) {
    const std::string prefix = fan_out_name(i);
    const std::string path = shared_->objects + "/" + prefix;
    DirPtr dir(::opendir(path.c_str()));
    if (!dir) {
      if (errno == ENOENT) continue;
      return sys_error("opendir", path, errno);
    }
    for (;;) {
      errno = 0;
      dirent* e = ::readdir(dir.get());
      if (e == nullptr) {
        if (errno != 0) return sys_error("readdir", path, errno);
        break;
      }
      std::string_view name = e->d_name;
      // Only what commit() puts here counts; anything else is not a blob.
      if (!is_hex_uuid(name) || name.substr(0, 2) != prefix) continue;
      struct stat st;
      if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile
        return sys_error("stat", path + "/" + std::string(name), errno);
      }
      if (!S_ISREG(st.st_mode)) continue;
      BlobInfo info{std::string(name), static_cast<uint64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec)};
      if (!fn(info)) return ok_status();
    }
  }
  return ok_status();
}

}  // namespace onestack::blob::fs
