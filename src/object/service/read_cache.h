// In-memory copies of hot rows and of small objects' bytes.
//
// A GET of a small object needs its account, container and object rows and
// its bytes: four lookups that, from SQLite, must run on the worker pool,
// and the hop there and back (two thread switches) costs more than the
// lookups. With this cache a GET of a hot object is answered on its I/O
// thread. It plays the part of the memcached tier in front of Swift's
// account and container servers, without its staleness: every write goes
// through CachedObjectStore, which drops the rows it changes once the write
// has committed, and a row read before a write is never cached after it
// (a generation counter). Blobs are immutable, so cached bytes never go
// stale; they are the bytes an MD5 check accepted.
//
// Bounded by bytes (least recently used first out). One process only: nodes
// sharing a database would each need to hear of the others' writes.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "store/object_store.h"

namespace onestack::object {

class ReadCache {
 public:
  // `max_bytes` 0 disables the cache (every lookup misses).
  explicit ReadCache(size_t max_bytes);

  // Take before reading rows from the store; pass to put_*(), which keep
  // nothing if a write invalidated anything in between.
  uint64_t generation() const;

  std::optional<store::AccountRecord> account(const std::string& account);
  std::optional<store::ContainerRecord> container(const std::string& account,
                                                  const std::string& container);
  std::optional<store::ObjectRecord> object(const std::string& account,
                                            const std::string& container, const std::string& name);
  std::shared_ptr<const std::string> body(const std::string& blob_id);
  // An account's or container's row whose counts may be out of date (an
  // object write since it was read): its settings (metadata, policy) are
  // current. For a request that reads only those, such as a PUT's ACL and
  // versioning checks; callers must not use the counts.
  std::optional<store::AccountRecord> account_settings(const std::string& account);
  std::optional<store::ContainerRecord> container_settings(const std::string& account,
                                                           const std::string& container);

  void put_account(uint64_t generation, const store::AccountRecord& a);
  void put_container(uint64_t generation, const store::ContainerRecord& c);
  void put_object(uint64_t generation, const store::ObjectRecord& o);
  void put_body(const std::string& blob_id, std::shared_ptr<const std::string> bytes);

  // An object write committed in `container`: its and its account's
  // counts changed, their settings did not.
  void counts_changed(const std::string& account, const std::string& container);
  // Drop what a committed write changed.
  void invalidate_account(const std::string& account);
  void invalidate_container(const std::string& account, const std::string& container);
  void invalidate_object(const std::string& account, const std::string& container,
                         const std::string& name);

  size_t bytes() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  using Value = std::variant<store::AccountRecord, store::ContainerRecord, store::ObjectRecord,
                             std::shared_ptr<const std::string>>;
  struct Entry {
    std::string key;
    Value value;
    size_t bytes;
    bool counts_stale = false;  // an account's or container's counts
  };
  using Lru = std::list<Entry>;

  template <typename T>
  std::optional<T> get(const std::string& key, bool need_counts);
  void put(uint64_t generation, std::string key, Value value, size_t bytes);
  void erase_locked(const std::string& key);

  const size_t max_bytes_;
  mutable std::mutex mu_;
  Lru lru_;  // most recently used first; guarded by mu_
  std::unordered_map<std::string, Lru::iterator> index_;  // guarded by mu_
  size_t bytes_ = 0;                                      // guarded by mu_
  uint64_t generation_ = 0;                               // guarded by mu_
  uint64_t hits_ = 0, misses_ = 0;                        // guarded by mu_
};

// An ObjectStore that forwards every call to `inner` and tells `cache`
// what each committed write changed.
class CachedObjectStore final : public store::ObjectStore {
 public:
  CachedObjectStore(store::ObjectStore& inner, ReadCache& cache) : inner_(inner), cache_(cache) {}

  Result<store::AccountRecord> get_account(const std::string& account) override;
  Status ensure_account(const std::string& account, int64_t now_us) override;
  Status update_account_meta(const std::string& account, const store::Metadata& updates,
                             int64_t now_us) override;
  Result<std::vector<store::ContainerListEntry>> list_containers(
      const std::string& account, const store::ListQuery& q) override;
  Result<bool> create_container(const store::ContainerRecord& c) override;
  Result<store::ContainerRecord> get_container(const std::string& account,
                                               const std::string& container) override;
  Status update_container_meta(const std::string& account, const std::string& container,
                               const store::Metadata& updates,
                               std::optional<int64_t> put_us) override;
  Status delete_container(const std::string& account, const std::string& container) override;
  Result<std::vector<store::ObjectListEntry>> list_objects(const std::string& account,
                                                           const std::string& container,
                                                           const store::ListQuery& q) override;
  Status scan_objects(const std::string& account, const std::string& container,
                      const store::ListQuery& q, const store::ObjectRowVisitor& visit) override;
  Result<store::ObjectRecord> get_object(const std::string& account, const std::string& container,
                                         const std::string& name) override;
  Result<store::PutObjectResult> put_object(const store::ObjectRecord& o,
                                            const store::PutConditions& cond) override;
  Status update_object(const std::string& account, const std::string& container,
                       const std::string& name, const store::Metadata& meta,
                       const std::string& content_type, int64_t delete_at) override;
  Result<store::DeleteObjectResult> delete_object(
      const std::string& account, const std::string& container, const std::string& name,
      std::optional<int64_t> only_if_delete_at) override;
  Result<std::vector<store::ObjectRecord>> list_expired(int64_t now_unix, size_t limit) override;
  Result<bool> blob_referenced(const std::string& blob_id) override;
  Result<std::vector<store::ObjectRecord>> rows_for_blob(const std::string& blob_id,
                                                         size_t limit = 1) override;
  Result<std::vector<store::ContainerRecord>> list_sync_containers(const std::string& after_account,
                                                                   const std::string& after_name,
                                                                   size_t limit) override;
  Result<bool> acquire_lease(const std::string& name, const std::string& holder,
                             std::chrono::seconds ttl) override;

 private:
  store::ObjectStore& inner_;
  ReadCache& cache_;
};

}  // namespace onestack::object
