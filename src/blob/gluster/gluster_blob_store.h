// Blobs as files on a GlusterFS volume, through libgfapi (no FUSE mount).
//
// Why this exists: several onestack nodes behind a load balancer must see
// the same object bytes. A replicated GlusterFS volume gives them one
// namespace of files with the same rename and fsync semantics the local
// filesystem backend (blob/fs) relies on, so the write protocol is the same:
// temp file, fsync, atomic rename, directory fsync.
//
// Layout under the base directory inside the volume (default /objects):
//   objects/<id[0:2]>/<id>    committed blobs, up to 256 fan-out directories
//   tmp/<node>/<id>.tmp       blobs being written by node <node>; recover()
//                             removes only its own node's, so one node's
//                             start-up never kills another node's upload
//   quarantine/<id>           blobs taken out of service for an operator
// Ids are 32 lower-case hex characters; nothing else ever becomes a path.
//
// Errors: a full volume or quota (ENOSPC, EDQUOT) is kInsufficientStorage;
// a brick or the whole volume unreachable (ENOTCONN, EIO and the other
// transport errors) is kUnavailable, which the services answer with 503;
// anything else is kInternal.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blob/blob_store.h"

struct glfs;  // libgfapi's glfs_t

namespace onestack::blob::gluster {

struct GlusterOptions {
  // The volume to use, as `gluster volume create` named it.
  std::string volume;
  // Management servers (glusterd) that hand out the volume's layout, each
  // "host" or "host:port" (IPv6 as "[addr]:port"; port 24007 by default).
  // All are given to libgfapi, which falls back from one to the next.
  std::vector<std::string> servers;
  // The directory inside the volume that holds the store; made if missing.
  // Absolute, without "." or ".." components.
  std::string base_dir = "/objects";
  // This node's name, unique among the nodes sharing the volume: its temp
  // files live under tmp/<node_name>/. Letters, digits, '.', '_' and '-',
  // at most 64 characters, not "." or "..".
  std::string node_name;
  // libgfapi's own log (warnings and worse); /dev/null to drop it.
  std::string log_file = "/dev/null";
  // How long to wait for a TCP connection to some management server before
  // open() gives up. libgfapi itself waits about 42 s for a server that
  // drops packets silently.
  std::chrono::milliseconds connect_timeout{5000};
};

// One mounted volume: a libgfapi glfs_t, shared by every store opened on it
// and by their writers and readers, which keep it mounted while they live.
// Thread-safe (libgfapi is).
class GlusterVolume {
 public:
  // Mounts `options.volume` from `options.servers` (the other fields are
  // unused). Fails with kInvalidArgument for a malformed server, kNotFound
  // when the servers answer but know no such volume, kUnavailable when no
  // server can be reached; each message names the volume and the servers.
  static Result<std::shared_ptr<GlusterVolume>> mount(const GlusterOptions& options);

  // Unmounts (glfs_fini). libgfapi 10 can take up to ~10 s here: it waits
  // for a reconnect timer of the connections it is closing to fire.
  ~GlusterVolume();
  GlusterVolume(const GlusterVolume&) = delete;
  GlusterVolume& operator=(const GlusterVolume&) = delete;

  // The libgfapi handle; valid while this object lives.
  glfs* fs() const { return fs_; }
  const std::string& name() const { return name_; }
  // "volume@server1,server2", for messages.
  const std::string& description() const { return description_; }

  GlusterVolume(glfs* fs, std::string name, std::string description);

 private:
  glfs* fs_;  // immutable; libgfapi serialises what needs it
  std::string name_;
  std::string description_;
};

// Implements the BlobStore contract (blob/blob_store.h) on a GlusterFS
// volume. Beyond the interface, as FsBlobStore: remove() and quarantine()
// of a malformed id are kNotFound; committing a writer twice is a no-op;
// writing to or committing an aborted or failed writer is an error; writers
// and readers may outlive the store. Readers have no file descriptor
// (fd() is -1): bytes are read with glfs_pread. Thread-safe as the
// interface says.
class GlusterBlobStore final : public BlobStore {
 public:
  // Mounts the volume (GlusterVolume::mount) and opens the store in it:
  // see open_on.
  static Result<std::unique_ptr<GlusterBlobStore>> open(const GlusterOptions& options);
  // Opens the store under `options.base_dir` of the mounted `volume`,
  // making base_dir, objects/, tmp/<node_name>/ and quarantine/ as needed
  // (fan-out directories appear with their first blob). Does not run
  // recover(). kInvalidArgument for a malformed base_dir or node_name;
  // otherwise errors as described at the top of this file.
  static Result<std::unique_ptr<GlusterBlobStore>> open_on(std::shared_ptr<GlusterVolume> volume,
                                                           const GlusterOptions& options);

  Result<std::unique_ptr<BlobWriter>> create() override;
  Result<std::unique_ptr<BlobReader>> open(std::string_view id) override;
  Status remove(std::string_view id) override;
  Status quarantine(std::string_view id) override;
  // Removes this node's temp files (tmp/<node_name>/), never another's.
  Result<size_t> recover() override;
  Status for_each(const std::function<bool(const BlobInfo&)>& fn) override;

  // Where committed blob `id` lives inside the volume (whether or not it
  // exists); for tests and operators. `id` must be well formed.
  std::string object_path(std::string_view id) const;
  // This node's temp directory inside the volume.
  std::string tmp_dir() const;
  const std::shared_ptr<GlusterVolume>& volume() const;

  // What the store shares with its writers (defined in the .cc).
  struct Shared;
  explicit GlusterBlobStore(std::shared_ptr<const Shared> shared);
  ~GlusterBlobStore() override;

 private:
  std::shared_ptr<const Shared> shared_;  // immutable after open
};

}  // namespace onestack::blob::gluster
