// The object service (Swift v1): why this exists.
//
// ObjectService is the domain half of object storage: it owns nothing but
// ties together the metadata store (accounts, containers, object rows), the
// blob store (object bytes) and the worker pool that runs their blocking
// calls, and holds the service's limits as /info announces them. The HTTP
// half (api/) turns requests into calls on it. Background work — the expiry
// reaper and the blob auditor — runs on its own thread, started by start()
// and stopped by stop().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/worker_pool.h"
#include "object/service/read_cache.h"
#include "store/object_store.h"

namespace onestack::object {

// Swift's constraints (swift/common/constraints.py), published by /info.
struct Limits {
  uint64_t max_file_size = 5368709122ULL;
  size_t max_meta_name_length = 128;
  size_t max_meta_value_length = 256;
  size_t max_meta_count = 90;
  size_t max_meta_overall_size = 4096;
  size_t max_header_size = 8192;
  size_t max_object_name_length = 1024;
  size_t container_listing_limit = 10000;
  size_t account_listing_limit = 10000;
  size_t max_account_name_length = 256;
  size_t max_container_name_length = 256;
  size_t extra_header_count = 0;
  // SLO (swift/common/middleware/slo.py defaults).
  size_t max_manifest_segments = 1000;
  size_t max_manifest_size = 8 * 1024 * 1024;
  uint64_t min_segment_size = 1;
  size_t max_nested_manifest_depth = 10;  // Swift: 10 levels of nesting
  // Bulk.
  size_t max_containers_per_extraction = 10000;
  size_t max_failed_extractions = 1000;
  size_t max_deletes_per_request = 10000;
  size_t max_failed_deletes = 1000;
  // Ranges (swift/common/swob.py).
  size_t max_ranges = 50;
};

struct ObjectConfig {
  Limits limits;
  std::string storage_policy = "Policy-0";
  // Roles that own their project's account (keystoneauth operator_roles).
  std::vector<std::string> operator_roles = {"admin", "member", "swiftoperator"};
  std::string reader_role = "reader";
  std::string reseller_admin_role = "ResellerAdmin";
  std::string reseller_prefix = "AUTH_";
  // The identity service's public URL, named in the WWW-Authenticate
  // challenge of a 401 (keystonemiddleware's www_authenticate_uri); "" for
  // none.
  std::string auth_uri;
  // Background work.
  int reaper_interval_ms = 1000;
  int auditor_interval_s = 3600;
  int orphan_grace_s = 300;  // an unreferenced blob younger than this may be mid-PUT
  // The auditor's pace (Swift's object-auditor defaults); 0: unpaced.
  int auditor_files_per_second = 20;
  int64_t auditor_bytes_per_second = 10'000'000;
  // Container sync (swift/container/sync.py), within this cluster only: the
  // realm and cluster names "//realm/cluster/account/container" may name
  // (container-sync-realms.conf; Tempest's defaults), compared
  // case-insensitively, and the seconds between two sync passes.
  std::string sync_realm = "realm1";
  std::string sync_cluster = "name1";
  int container_sync_interval_s = 1;
  // Hot rows and small objects' bytes kept in memory (read_cache.h); 0: off.
  // Must be off when other nodes write the same store: the cache sees only
  // this node's writes.
  size_t read_cache_bytes = 32 << 20;
  // This node's name: the holder of the leases that keep each background
  // job on one node of a cluster at a time (ObjectStore::acquire_lease).
  std::string node_name = "local";
};

// The container an X-Container-Sync-To value names.
struct SyncTarget {
  std::string account;
  std::string container;
};

// Parses an X-Container-Sync-To value as Swift's validate_sync_to does
// (swift/common/utils): "//realm/cluster/account/container" with this
// cluster's realm and cluster names, or a full URL
// "http(s)://host[:port]/v1/account/container" whose host is this machine
// (Swift's allowed_sync_hosts default). Trailing slashes are ignored.
// kInvalidArgument with Swift's message otherwise ("No realm key for
// 'x'", "No cluster endpoint for 'r' 'x'", ...). Thread-safe.
Result<SyncTarget> parse_sync_to(std::string_view value, const ObjectConfig& config);

class ObjectService {
 public:
  // Borrows everything; all must outlive the service. Every time the
  // service and its HTTP half read (X-Timestamp, expiry, the background
  // jobs' schedule and the auditor's pace) comes from `clock`.
  ObjectService(store::ObjectStore& store, blob::BlobStore& blobs, WorkerPool& pool,
                ObjectConfig config, const Clock& clock = SystemClock::instance());
  ~ObjectService();
  ObjectService(const ObjectService&) = delete;
  ObjectService& operator=(const ObjectService&) = delete;

  // The store every read and write of the service goes through: the one
  // given, behind the read cache's invalidation (read_cache.h).
  store::ObjectStore& store() { return store_; }
  ReadCache& cache() { return cache_; }
  blob::BlobStore& blobs() { return blobs_; }
  WorkerPool& pool() { return pool_; }
  const ObjectConfig& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  const Limits& limits() const { return config_.limits; }

  // Removes blobs no row refers to any more. Blocking; errors are logged
  // (an orphan left behind is swept by the auditor).
  void free_blobs(const std::vector<std::string>& ids);

  // Start-up recovery: removes half-written temp blobs. Blocking.
  Status recover();
  // Starts / stops the background threads (the expiry reaper; the auditor
  // and container sync).
  void start();
  void stop();

  // One pass of each background job, for tests. Blocking. Return how many
  // rows were reaped / blobs quarantined or swept.
  size_t reap_expired_once(int64_t now_unix);
  struct AuditResult {
    size_t checked = 0;
    size_t quarantined = 0;
    size_t orphans_removed = 0;
  };
  AuditResult audit_once(int64_t now_unix);
  // One container sync pass: for every container with X-Container-Sync-To
  // and X-Container-Sync-Key whose target (in this cluster) has the same
  // key, copies the rows the target lacks or has older, and removes from
  // the target the rows an earlier pass copied that the source no longer
  // has. Copies keep the row (timestamp, etag, size, content type,
  // metadata) and share its blob. Errors are logged and skipped. Blocking.
  struct SyncResult {
    size_t containers = 0;  // source containers synced
    size_t copied = 0;
    size_t deleted = 0;
  };
  SyncResult sync_containers_once();

 private:
  // The expiry reaper runs on a thread of its own, every reaper interval:
  // the auditor's paced pass over every blob, or a slow container sync,
  // must not hold expired objects back for its whole length.
  void reaper_loop();
  void background_loop();
  // Whether this node may run background job `job` now: it holds the job's
  // lease (taken or renewed for `ttl`). A store error counts as no.
  bool holds_lease(const std::string& job, std::chrono::seconds ttl);
  // Syncs one source container into its target; adds to `res`.
  void sync_container(const store::ContainerRecord& src, SyncResult& res);
  bool stopping();

  const ObjectConfig config_;
  const Clock& clock_;
  ReadCache cache_;
  CachedObjectStore store_;
  blob::BlobStore& blobs_;
  WorkerPool& pool_;

  std::mutex mu_;  // guards stopping_ with cv_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;         // auditor and container sync
  std::thread reaper_thread_;  // expiry
};

// Swift's X-Timestamp rendering: seconds with 5 decimals ("1700000000.12345").
std::string format_timestamp(int64_t us);
// HTTP date (RFC 7231) of `unix_seconds`.
std::string http_date(int64_t unix_seconds);
// Parses an HTTP date in any of the three RFC 7231 forms; nullopt if bad.
std::optional<int64_t> parse_http_date(std::string_view s);
// Listing's last_modified: "2024-01-02T03:04:05.123450".
std::string iso_timestamp(int64_t us);
void append_iso_timestamp(std::string& out, int64_t us);
// Last-Modified of a row: Swift rounds its timestamp up to whole seconds.
int64_t last_modified_seconds(int64_t us);

}  // namespace onestack::object
