// The GlusterFS volume the blob tests use, named by ONESTACK_TEST_GLUSTER
// ("VOLUME@SERVER" or "VOLUME@SERVER1,SERVER2"; scripts/gluster.sh up
// prints one). Every test works in a fresh base directory of its own.
#pragma once

#include <glusterfs/api/glfs.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "blob/gluster/gluster_blob_store.h"

namespace onestack::blob::testing {

// The volume and servers in ONESTACK_TEST_GLUSTER, or nullopt when unset.
inline std::optional<gluster::GlusterOptions> gluster_target() {
  const char* env = std::getenv("ONESTACK_TEST_GLUSTER");
  if (env == nullptr || *env == '\0') return std::nullopt;
  std::string spec = env;
  gluster::GlusterOptions options;
  size_t at = spec.find('@');
  options.volume = spec.substr(0, at);
  if (at != std::string::npos) {
    std::string servers = spec.substr(at + 1);
    size_t start = 0;
    while (start <= servers.size()) {
      size_t comma = servers.find(',', start);
      if (comma == std::string::npos) comma = servers.size();
      if (comma > start) options.servers.push_back(servers.substr(start, comma - start));
      start = comma + 1;
    }
  }
  options.node_name = "test-node";
  return options;
}

// Why the GlusterFS tests cannot run ("" when they can).
inline std::string gluster_unavailable() {
  return gluster_target() ? std::string()
                          : std::string(
                                "ONESTACK_TEST_GLUSTER is not set (VOLUME@SERVER, as "
                                "scripts/gluster.sh up prints); GlusterFS tests skipped");
}

// One mount for the whole test process: unmounting costs libgfapi up to
// ~10 s, too much to pay per test. Null (with `error` set) when mounting
// failed.
inline std::shared_ptr<gluster::GlusterVolume> shared_gluster_volume(std::string* error) {
  static const Result<std::shared_ptr<gluster::GlusterVolume>> volume = [] {
    std::optional<gluster::GlusterOptions> target = gluster_target();
    if (!target) {
      return Result<std::shared_ptr<gluster::GlusterVolume>>(
          make_error(ErrorCode::kInvalidArgument, "ONESTACK_TEST_GLUSTER is not set"));
    }
    return gluster::GlusterVolume::mount(*target);
  }();
  if (!volume.ok()) {
    if (error != nullptr) *error = volume.error().message;
    return nullptr;
  }
  return *volume;
}

// "/t-<16 random hex digits>": a base directory no other test uses.
inline std::string fresh_gluster_dir() {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof buf, "/t-%08x%08x", rd(), rd());
  return buf;
}

// Removes `path` and everything under it from the volume; best effort.
inline void remove_gluster_tree(glfs_t* fs, const std::string& path) {
  struct stat st;
  if (glfs_lstat(fs, path.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    glfs_unlink(fs, path.c_str());
    return;
  }
  std::vector<std::string> children;
  if (glfs_fd_t* dir = glfs_opendir(fs, path.c_str())) {
    for (;;) {
      struct dirent entry;
      struct dirent* e = nullptr;
      if (glfs_readdir_r(dir, &entry, &e) != 0 || e == nullptr) break;
      std::string name = e->d_name;
      if (name != "." && name != "..") children.push_back(path + "/" + name);
    }
    glfs_closedir(dir);
  }
  for (const std::string& child : children) remove_gluster_tree(fs, child);
  glfs_rmdir(fs, path.c_str());
}

}  // namespace onestack::blob::testing
