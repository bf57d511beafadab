#include "object/service/read_cache.h"

namespace onestack::object {

namespace {

// Keys: a kind letter, then the names separated by NUL (which no name holds).
std::string account_key(const std::string& a) { return "a" + a; }
std::string container_key(const std::string& a, const std::string& c) {
  std::string k = "c" + a;
  k.push_back('\0');
  k += c;
  return k;
}
std::string object_key(const std::string& a, const std::string& c, const std::string& o) {
  std::string k = "o" + a;
  k.push_back('\0');
  k += c;
  k.push_back('\0');
  k += o;
  return k;
}
std::string body_key(const std::string& blob_id) { return "b" + blob_id; }

size_t meta_bytes(const store::Metadata& m) {
  size_t n = 0;
  for (const auto& [k, v] : m) n += k.size() + v.size() + 64;
  return n;
}

// What an entry holds, roughly: strings, map nodes and bookkeeping.
constexpr size_t kEntryOverhead = 256;

}  // namespace

ReadCache::ReadCache(size_t max_bytes) : max_bytes_(max_bytes) {}

uint64_t ReadCache::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

template <typename T>
std::optional<T> ReadCache::get(const std::string& key, bool need_counts) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end() || (need_counts && it->second->counts_stale)) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return std::get<T>(it->second->value);
}

std::optional<store::AccountRecord> ReadCache::account(const std::string& account) {
  return get<store::AccountRecord>(account_key(account), true);
}

std::optional<store::ContainerRecord> ReadCache::container(const std::string& account,
                                                           const std::string& container) {
  return get<store::ContainerRecord>(container_key(account, container), true);
}

std::optional<store::AccountRecord> ReadCache::account_settings(const std::string& account) {
  return get<store::AccountRecord>(account_key(account), false);
}

std::optional<store::ContainerRecord> ReadCache::container_settings(const std::string& account,
                                                                    const std::string& container) {
  return get<store::ContainerRecord>(container_key(account, container), false);
}

std::optional<store::ObjectRecord> ReadCache::object(const std::string& account,
                                                     const std::string& container,
                                                     const std::string& name) {
  return get<store::ObjectRecord>(object_key(account, container, name), true);
}

std::shared_ptr<const std::string> ReadCache::body(const std::string& blob_id) {
  auto b = get<std::shared_ptr<const std::string>>(body_key(blob_id), true);
  return b ? *b : nullptr;
}

void ReadCache::put(uint64_t generation, std::string key, Value value, size_t bytes) {
  if (bytes > max_bytes_ / 8) return;  // never let one entry push out most of the rest
  std::lock_guard lock(mu_);
  if (generation != generation_) return;  // a write happened since the read
  erase_locked(key);
  lru_.push_front(Entry{key, std::move(value), bytes});
  index_.emplace(std::move(key), lru_.begin());
  bytes_ += bytes;
  while (bytes_ > max_bytes_ && !lru_.empty()) erase_locked(lru_.back().key);
}

void ReadCache::put_account(uint64_t generation, const store::AccountRecord& a) {
  put(generation, account_key(a.name), a, kEntryOverhead + a.name.size() + meta_bytes(a.meta));
}

void ReadCache::put_container(uint64_t generation, const store::ContainerRecord& c) {
  put(generation, container_key(c.account, c.name), c,
      kEntryOverhead + c.account.size() + c.name.size() + meta_bytes(c.meta));
}

void ReadCache::put_object(uint64_t generation, const store::ObjectRecord& o) {
  put(generation, object_key(o.account, o.container, o.name), o,
      kEntryOverhead + o.account.size() + o.container.size() + o.name.size() + o.etag.size() +
          o.content_type.size() + o.blob_id.size() + meta_bytes(o.meta));
}

void ReadCache::put_body(const std::string& blob_id, std::shared_ptr<const std::string> bytes) {
  // Blobs never change: no generation to check.
  const size_t n = kEntryOverhead + bytes->size();
  if (n > max_bytes_ / 8) return;
  std::lock_guard lock(mu_);
  std::string key = body_key(blob_id);
  erase_locked(key);
  lru_.push_front(Entry{key, std::move(bytes), n});
  index_.emplace(std::move(key), lru_.begin());
  bytes_ += n;
  while (bytes_ > max_bytes_ && !lru_.empty()) erase_locked(lru_.back().key);
}

void ReadCache::erase_locked(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  bytes_ -= it->second->bytes;
  lru_.erase(it->second);
  index_.erase(it);
}

void ReadCache::invalidate_account(const std::string& account) {
  std::lock_guard lock(mu_);
  ++generation_;
  erase_locked(account_key(account));
}

void ReadCache::invalidate_container(const std::string& account, const std::string& container) {
  std::lock_guard lock(mu_);
  ++generation_;
  erase_locked(container_key(account, container));
}

void ReadCache::counts_changed(const std::string& account, const std::string& container) {
  std::lock_guard lock(mu_);
  ++generation_;
  for (const std::string& key : {container_key(account, container), account_key(account)}) {
    if (auto it = index_.find(key); it != index_.end()) it->second->counts_stale = true;
  }
}

void ReadCache::invalidate_object(const std::string& account, const std::string& container,
                                  const std::string& name) {
  std::lock_guard lock(mu_);
  ++generation_;
  erase_locked(object_key(account, container, name));
}

size_t ReadCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

uint64_t ReadCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

uint64_t ReadCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

// ---- CachedObjectStore: reads pass through; writes invalidate ----

Result<store::AccountRecord> CachedObjectStore::get_account(const std::string& account) {
  return inner_.get_account(account);
}

Status CachedObjectStore::ensure_account(const std::string& account, int64_t now_us) {
  auto st = inner_.ensure_account(account, now_us);
  cache_.invalidate_account(account);
  return st;
}

Status CachedObjectStore::update_account_meta(const std::string& account,
                                              const store::Metadata& updates, int64_t now_us) {
  auto st = inner_.update_account_meta(account, updates, now_us);
  cache_.invalidate_account(account);
  return st;
}

Result<std::vector<store::ContainerListEntry>> CachedObjectStore::list_containers(
    const std::string& account, const store::ListQuery& q) {
  return inner_.list_containers(account, q);
}

Result<bool> CachedObjectStore::create_container(const store::ContainerRecord& c) {
  auto r = inner_.create_container(c);
  cache_.invalidate_container(c.account, c.name);
  cache_.invalidate_account(c.account);  // its container count, or the account itself
  return r;
}

Result<store::ContainerRecord> CachedObjectStore::get_container(const std::string& account,
                                                                const std::string& container) {
  return inner_.get_container(account, container);
}

Status CachedObjectStore::update_container_meta(const std::string& account,
                                                const std::string& container,
                                                const store::Metadata& updates,
                                                std::optional<int64_t> put_us) {
  auto st = inner_.update_container_meta(account, container, updates, put_us);
  cache_.invalidate_container(account, container);
  return st;
}

Status CachedObjectStore::delete_container(const std::string& account,
                                           const std::string& container) {
  auto st = inner_.delete_container(account, container);
  cache_.invalidate_container(account, container);
  cache_.invalidate_account(account);
  return st;
}

Result<std::vector<store::ObjectListEntry>> CachedObjectStore::list_objects(
    const std::string& account, const std::string& container, const store::ListQuery& q) {
  return inner_.list_objects(account, container, q);
}

Status CachedObjectStore::scan_objects(const std::string& account, const std::string& container,
                                       const store::ListQuery& q,
                                       const store::ObjectRowVisitor& visit) {
  return inner_.scan_objects(account, container, q, visit);
}

Result<store::ObjectRecord> CachedObjectStore::get_object(const std::string& account,
                                                          const std::string& container,
                                                          const std::string& name) {
  return inner_.get_object(account, container, name);
}

Result<store::PutObjectResult> CachedObjectStore::put_object(const store::ObjectRecord& o,
                                                             const store::PutConditions& cond) {
  auto r = inner_.put_object(o, cond);
  // The row, and the counts of its container and account; their settings
  // (ACLs, quotas, versioning) are unchanged by a committed put.
  cache_.invalidate_object(o.account, o.container, o.name);
  if (r.ok()) {
    cache_.counts_changed(o.account, o.container);
  } else {
    cache_.invalidate_container(o.account, o.container);
    cache_.invalidate_account(o.account);
  }
  return r;
}

Status CachedObjectStore::update_object(const std::string& account, const std::string& container,
                                        const std::string& name, const store::Metadata& meta,
                                        const std::string& content_type, int64_t delete_at) {
  auto st = inner_.update_object(account, container, name, meta, content_type, delete_at);
  cache_.invalidate_object(account, container, name);
  return st;
}

Result<store::DeleteObjectResult> CachedObjectStore::delete_object(
    const std::string& account, const std::string& container, const std::string& name,
    std::optional<int64_t> only_if_delete_at) {
  auto r = inner_.delete_object(account, container, name, only_if_delete_at);
  cache_.invalidate_object(account, container, name);
  if (r.ok()) {
    cache_.counts_changed(account, container);
  } else {
    cache_.invalidate_container(account, container);
    cache_.invalidate_account(account);
  }
  return r;
}

Result<std::vector<store::ObjectRecord>> CachedObjectStore::list_expired(int64_t now_unix,
                                                                         size_t limit) {
  return inner_.list_expired(now_unix, limit);
}

Result<bool> CachedObjectStore::blob_referenced(const std::string& blob_id) {
  return inner_.blob_referenced(blob_id);
}

Result<std::vector<store::ObjectRecord>> CachedObjectStore::rows_for_blob(
    const std::string& blob_id, size_t limit) {
  return inner_.rows_for_blob(blob_id, limit);
}

Result<std::vector<store::ContainerRecord>> CachedObjectStore::list_sync_containers(
    const std::string& after_account, const std::string& after_name, size_t limit) {
  return inner_.list_sync_containers(after_account, after_name, limit);
}

Result<bool> CachedObjectStore::acquire_lease(const std::string& name, const std::string& holder,
                                              std::chrono::seconds ttl) {
  return inner_.acquire_lease(name, holder, ttl);
}

}  // namespace onestack::object
