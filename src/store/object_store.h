// The object-storage metadata store: why this exists.
//
// Swift keeps three kinds of rows: accounts (one per project, "AUTH_<id>"),
// containers, and object listing rows. Here they live in one metadata store
// (SQLite, or PostgreSQL for nodes that share one) instead of Swift's per-container SQLite
// files replicated by daemons. An object row points at an immutable blob in
// the blob store (see blob/blob_store.h) by id; several rows may share one
// blob (COPY, version snapshots), and a blob is freed when the last row that
// refers to it goes — the methods that drop a reference say which blobs they
// freed, and the caller removes those blobs after the call returns.
//
// Container counters (object_count, bytes_used) change in the same
// transaction as the object row, so they are always exact. Writes from many
// threads are batched into shared commits (group commit): a write returns
// only after its commit is durable.
//
// Listings are ordered by the names' bytes (UTF-8 order, as Swift's SQLite
// does) and a page costs O(limit) whatever the container size, delimiter
// roll-ups included.
//
// Every method is thread-safe and blocking: call it from a worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace onestack::store {

// Header-like metadata: lower-case name ("x-object-meta-color",
// "content-disposition", "x-container-read") to value.
using Metadata = std::map<std::string, std::string>;

struct AccountRecord {
  std::string name;        // "AUTH_<project_id>"
  int64_t created_us = 0;  // X-Timestamp, microseconds since the epoch
  int64_t put_us = 0;      // X-PUT-Timestamp
  Metadata meta;           // x-account-meta-*, x-account-access-control, ...
  // Totals over the account's containers, computed when read.
  uint64_t container_count = 0;
  uint64_t object_count = 0;
  uint64_t bytes_used = 0;
};

struct ContainerRecord {
  std::string account;
  std::string name;
  int64_t created_us = 0;
  int64_t put_us = 0;
  Metadata meta;  // x-container-meta-*, x-container-read, x-versions-location, ...
  std::string storage_policy;
  uint64_t object_count = 0;  // maintained by the store
  uint64_t bytes_used = 0;    // maintained by the store
};

struct ObjectRecord {
  std::string account;
  std::string container;
  std::string name;
  std::string blob_id;  // "" for an object with no bytes
  uint64_t size = 0;
  std::string etag;  // as listed and returned (hex MD5, or a manifest's etag)
  std::string content_type;
  int64_t timestamp_us = 0;  // last modification (X-Timestamp)
  int64_t delete_at = 0;     // X-Delete-At, unix seconds; 0: never
  Metadata meta;             // x-object-meta-*, content-encoding, x-static-large-object, ...
  // The bytes the row counts toward its container's and account's usage
  // when that is not `size`: a large object's manifest counts the
  // manifest, a row that shares its data with another row (a versioned
  // object and its version) nothing. nullopt: `size`.
  std::optional<uint64_t> held_bytes;
};

// What a row counts toward usage.
inline uint64_t usage_of(const ObjectRecord& o) { return o.held_bytes.value_or(o.size); }

// Listing parameters, as Swift's query string gives them. Unset means no
// bound. `limit` is already clamped by the caller.
struct ListQuery {
  std::string prefix;
  std::string marker;               // strictly after (before, when reverse)
  std::string end_marker;           // strictly before (after, when reverse)
  std::string delimiter;            // any string; empty for none
  std::optional<std::string> path;  // Swift's "path": direct children of path + "/"
  size_t limit = 10000;
  bool reverse = false;
};

// One listing item: a row, or a delimiter roll-up ("photos/") when `subdir`
// is non-empty.
struct ContainerListEntry {
  std::string subdir;
  ContainerRecord container;
};
struct ObjectListEntry {
  std::string subdir;
  ObjectRecord object;
};

// One item of an object listing as the listing formats show it: a row
// without its metadata map (only a symlink's target), or a roll-up when
// `subdir` is non-empty (the other fields are then unset).
struct ObjectListRow {
  std::string subdir;
  std::string name;
  std::string etag;
  std::string content_type;
  uint64_t size = 0;
  int64_t timestamp_us = 0;
  std::string symlink_target;   // "container/object" of a symlink, else ""
  std::string symlink_account;  // the symlink's target account when given, else ""
  std::string symlink_etag;     // a static link's target etag ("x-symlink-target-etag"), else ""
  std::string symlink_bytes;    // a static link's target size ("x-symlink-target-bytes"), else ""
  std::string version_id;       // "x-object-version-id" of a versioned object's row, else ""
};
using ObjectRowVisitor = std::function<void(const ObjectListRow&)>;

struct PutObjectResult {
  std::optional<ObjectRecord> previous;  // the row that was replaced
  std::vector<std::string> freed_blobs;  // remove these from the blob store
};
struct DeleteObjectResult {
  ObjectRecord previous;
  std::vector<std::string> freed_blobs;
};

// Conditions a write checks inside its transaction.
struct PutConditions {
  // kPreconditionFailed if a live row exists (one past its delete_at is
  // replaced like an absent one: it no longer exists for clients).
  bool if_none_match = false;
  // The new row reuses a blob that another row refers to (COPY, version
  // snapshot): kConflict if no row refers to it any more (it may be gone).
  bool blob_shared = false;
  // The bytes of the row's blob, stored under o.blob_id in the same
  // transaction as the row (blob::BlobWriter::row_bytes): only for a store
  // that also keeps the blob store's small tier; kInternal from one that
  // does not. Null: the blob is stored already.
  const std::string* blob_bytes = nullptr;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Accounts. get_account: kNotFound if the account was never created.
  virtual Result<AccountRecord> get_account(const std::string& account) = 0;
  // Creates the account if absent (with `now_us` as its timestamps).
  virtual Status ensure_account(const std::string& account, int64_t now_us) = 0;
  // Applies `updates` to the account's metadata (an empty value removes the
  // key), creating the account if absent.
  virtual Status update_account_meta(const std::string& account, const Metadata& updates,
                                     int64_t now_us) = 0;
  virtual Result<std::vector<ContainerListEntry>> list_containers(const std::string& account,
                                                                  const ListQuery& q) = 0;
  // The same page as list_objects, streamed: `visit` sees each item in
  // order and must copy what it keeps (the row is reused). Memory does not
  // grow with the page; the listing routes render from here.
  virtual Status scan_objects(const std::string& account, const std::string& container,
                              const ListQuery& q, const ObjectRowVisitor& visit) = 0;

  // Containers. create_container: creates the container (and its account if
  // absent) and returns true; if it exists, applies `c.meta` as updates and
  // returns false.
  virtual Result<bool> create_container(const ContainerRecord& c) = 0;
  // kNotFound if absent.
  virtual Result<ContainerRecord> get_container(const std::string& account,
                                                const std::string& container) = 0;
  // Applies `updates` (empty value removes) and, when given, moves the
  // container's put timestamp (a POST does, as Swift's container server's
  // update_put_timestamp). kNotFound if absent.
  virtual Status update_container_meta(const std::string& account, const std::string& container,
                                       const Metadata& updates, std::optional<int64_t> put_us) = 0;
  // kNotFound if absent, kConflict if it still holds objects.
  virtual Status delete_container(const std::string& account, const std::string& container) = 0;
  virtual Result<std::vector<ObjectListEntry>> list_objects(const std::string& account,
                                                            const std::string& container,
                                                            const ListQuery& q) = 0;

  // Objects. get_object: kNotFound if absent (expired rows are still
  // returned; the caller decides).
  virtual Result<ObjectRecord> get_object(const std::string& account, const std::string& container,
                                          const std::string& name) = 0;
  // Inserts or replaces the row. kNotFound if the container does not exist;
  // see PutConditions for the other failures. Nothing changes on failure.
  virtual Result<PutObjectResult> put_object(const ObjectRecord& o, const PutConditions& cond) = 0;
  // Replaces the row's metadata, content type and delete_at (a POST).
  // kNotFound if absent.
  virtual Status update_object(const std::string& account, const std::string& container,
                               const std::string& name, const Metadata& meta,
                               const std::string& content_type, int64_t delete_at) = 0;
  // Removes the row. kNotFound if absent. If `only_if_delete_at` is set, the
  // row is removed only if its delete_at equals it (the expiry reaper must
  // not remove an object re-PUT since it was scheduled): kPreconditionFailed
  // otherwise.
  virtual Result<DeleteObjectResult> delete_object(const std::string& account,
                                                   const std::string& container,
                                                   const std::string& name,
                                                   std::optional<int64_t> only_if_delete_at) = 0;
  // Rows whose delete_at is in (0, now_unix], oldest first, at most `limit`.
  virtual Result<std::vector<ObjectRecord>> list_expired(int64_t now_unix, size_t limit) = 0;
  // Whether any row refers to blob `blob_id` (the auditor's orphan check).
  virtual Result<bool> blob_referenced(const std::string& blob_id) = 0;
  // The rows that refer to blob `blob_id` (at most `limit`): the auditor
  // checks a blob's size and MD5 against them.
  virtual Result<std::vector<ObjectRecord>> rows_for_blob(const std::string& blob_id,
                                                          size_t limit = 1) = 0;
  // Containers whose metadata holds "x-container-sync-to" (container sync
  // sources), in (account, name) order, at most `limit`, starting strictly
  // after (`after_account`, `after_name`). The default answers kUnavailable:
  // a store that cannot list them simply has no container sync.
  virtual Result<std::vector<ContainerRecord>> list_sync_containers(
      const std::string& after_account, const std::string& after_name, size_t limit) {
    (void)after_account;
    (void)after_name;
    (void)limit;
    return make_error(ErrorCode::kUnavailable, "this store cannot list sync containers");
  }

  // Background jobs that must run on one node of a cluster at a time (the
  // expiry reaper, the auditor, container sync) take a lease named after the
  // job before each pass. Returns true when `holder` holds lease `name` now:
  // it was free, had expired, or was `holder`'s already (then renewed for
  // `ttl` from now); false while another holder's lease is live. The default
  // suits a store one process owns: the caller always holds it.
  virtual Result<bool> acquire_lease(const std::string& name, const std::string& holder,
                                     std::chrono::seconds ttl) {
    (void)name;
    (void)holder;
    (void)ttl;
    return true;
  }
};

}  // namespace onestack::store
