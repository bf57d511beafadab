#include "identity/token/key_repository.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

namespace onestack::identity::token {
namespace {

namespace fs = std::filesystem;

Error fs_error(std::string_view what, const fs::path& path, int err) {
  return make_error(ErrorCode::kUnavailable,
                    std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

// A key file's number, or -1 when the name is not a plain non-negative
// integer (keystone skips such files, e.g. "0.tmp").
int key_index(const std::string& name) {
  if (name.empty() || name.size() > 9) return -1;
  int v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fs_error("cannot read", path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fs_error("cannot read", path, errno);
  return ss.str();
}

// Number -> file contents of every non-empty key file in `dir`.
Result<std::map<int, std::string>> read_key_files(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return fs_error("cannot list key repository", dir, ec.value());
  std::map<int, std::string> files;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return fs_error("cannot list key repository", dir, ec.value());
    int index = key_index(it->path().filename().string());
    if (index < 0 || !it->is_regular_file(ec)) continue;
    auto text = read_file(it->path());
    if (!text.ok()) return std::move(text).error();
    if (text->empty()) continue;  // keystone ignores empty key files too
    files[index] = std::move(*text);
  }
  if (ec) return fs_error("cannot list key repository", dir, ec.value());
  return files;
}

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fs_error("cannot open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return fs_error("cannot fsync", dir, err);
  return ok_status();
}

// Writes `content` to `path` with mode 0600 (whatever the umask) and fsyncs
// it; an existing file is replaced.
Status write_private_file(const fs::path& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fs_error("cannot create", path, errno);
  auto fail = [&](std::string_view what) {
    int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return fs_error(what, path, err);
  };
  if (::fchmod(fd, 0600) != 0) return fail("cannot chmod");
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync");
  if (::close(fd) != 0) return fs_error("cannot close", path, errno);
  return ok_status();
}

Status rename_file(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return fs_error("cannot rename", from, errno);
  return ok_status();
}

Status write_staged_tmp(const fs::path& dir) {
  return write_private_file(dir / "0.tmp", generate_fernet_key());
}

}  // namespace

Status KeyRepository::setup(const fs::path& dir, int max_active_keys) {
  if (max_active_keys < 1) {
    return make_error(ErrorCode::kInvalidArgument, "max_active_keys must be at least 1");
  }
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return fs_error("cannot create key repository", dir, ec.value());
    if (::chmod(dir.c_str(), 0700) != 0) return fs_error("cannot chmod", dir, errno);
  }
  if (fs::exists(dir / "0", ec)) return ok_status();  // already initialised
  ONESTACK_TRY(write_staged_tmp(dir));
  ONESTACK_TRY(rename_file(dir / "0.tmp", dir / "0"));
  ONESTACK_TRY(fsync_dir(dir));
  return rotate(dir, max_active_keys);
}

Status KeyRepository::rotate(const fs::path& dir, int max_active_keys) {
  if (max_active_keys < 1) {
    return make_error(ErrorCode::kInvalidArgument, "max_active_keys must be at least 1");
  }
  auto files = read_key_files(dir);
  if (!files.ok()) return std::move(files).error();
  if (files->empty() || files->begin()->first != 0) {
    return make_error(ErrorCode::kPreconditionFailed,
                      "key repository " + dir.string() + " has no staged key 0");
  }
  const int new_primary = files->rbegin()->first + 1;

  ONESTACK_TRY(write_staged_tmp(dir));
  ONESTACK_TRY(rename_file(dir / "0", dir / std::to_string(new_primary)));
  ONESTACK_TRY(rename_file(dir / "0.tmp", dir / "0"));

  // Keystone counts the promoted primary and the old secondaries, not the new
  // staged key, against max_active_keys - 1, dropping the lowest numbers.
  // (With max_active_keys = 1 that drops even the new primary, as keystone
  // does, leaving the staged key alone.)
  std::vector<int> active;
  for (const auto& [index, text] : *files) {
    if (index != 0) active.push_back(index);
  }
  active.push_back(new_primary);
  std::sort(active.begin(), active.end());
  size_t keep = static_cast<size_t>(max_active_keys - 1);
  for (size_t i = 0; i + keep < active.size(); ++i) {
    fs::path victim = dir / std::to_string(active[i]);
    if (::unlink(victim.c_str()) != 0 && errno != ENOENT) {
      return fs_error("cannot remove", victim, errno);
    }
  }
  return fsync_dir(dir);
}

Result<KeySet> KeyRepository::load(const fs::path& dir) {
  auto files = read_key_files(dir);
  if (!files.ok()) return std::move(files).error();
  if (files->empty()) {
    return make_error(ErrorCode::kUnavailable, "no fernet keys in " + dir.string());
  }
  KeySet set;
  for (auto it = files->rbegin(); it != files->rend(); ++it) {
    auto key = parse_fernet_key(it->second);
    if (!key.ok()) {
      return make_error(
          ErrorCode::kInvalidArgument,
          "key file " + (dir / std::to_string(it->first)).string() + " does not hold a fernet key");
    }
    set.keys.push_back(*key);
    set.indexes.push_back(it->first);
  }
  return set;
}

}  // namespace onestack::identity::token
