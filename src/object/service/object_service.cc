#include "object/service/object_service.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <ctime>

namespace onestack::object {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_timestamp(int64_t us) {
  // Swift keeps 5 decimals (10 µs resolution).
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%05lld", static_cast<long long>(us / 1000000),
                static_cast<long long>((us % 1000000) / 10));
  return buf;
}

std::string http_date(int64_t unix_seconds) {
  char buf[64];
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::optional<int64_t> parse_http_date(std::string_view s) {
  std::string str(s);
  static const char* const kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // RFC 1123
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
      "%a %b %d %H:%M:%S %Y",       // asctime
  };
  for (const char* f : kFormats) {
    std::tm tm{};
    const char* end = strptime(str.c_str(), f, &tm);
    if (end && *end == '\0') return static_cast<int64_t>(timegm(&tm));
  }
  return std::nullopt;
}

std::string iso_timestamp(int64_t us) {
  std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>((us % 1000000) / 10 * 10));
  return buf;
}

int64_t last_modified_seconds(int64_t us) {
  // Swift: Last-Modified is ceil() of the timestamp, so a conditional GET
  // with the Last-Modified it was given never sees the object as newer.
  return (us + 999999) / 1000000;
}

ObjectService::ObjectService(store::ObjectStore& store, blob::BlobStore& blobs, WorkerPool& pool,
                             ObjectConfig config)
    : store_(store), blobs_(blobs), pool_(pool), config_(std::move(config)) {}

ObjectService::~ObjectService() { stop(); }

void ObjectService::free_blobs(const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (id.empty()) continue;
    auto st = blobs_.remove(id);
    if (!st.ok()) spdlog::warn("object: could not remove freed blob {}: {}", id, st.error().message);
  }
}

Status ObjectService::recover() {
  auto n = blobs_.recover();
  if (!n.ok()) return n.error();
  if (*n > 0) spdlog::info("object: removed {} half-written blob(s) left by an interrupted write", *n);
  return {};
}

void ObjectService::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { background_loop(); });
}

void ObjectService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t ObjectService::reap_expired_once(int64_t now_unix) {
  size_t reaped = 0;
  for (;;) {
    auto batch = store_.list_expired(now_unix, 256);
    if (!batch.ok()) {
      spdlog::warn("object: expiry reaper: {}", batch.error().message);
      return reaped;
    }
    if (batch->empty()) return reaped;
    size_t before = reaped;
    for (const auto& o : *batch) {
      auto r = store_.delete_object(o.account, o.container, o.name, o.delete_at);
      if (r.ok()) {
        free_blobs(r->freed_blobs);
        ++reaped;
      }
    }
    if (reaped == before) return reaped;  // nothing removable: stop, retry next pass
  }
}

namespace {

// MD5 of a whole blob, read in 1 MiB pieces.
Result<std::string> blob_md5(blob::BlobReader& r) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  std::string buf(1 << 20, '\0');
  uint64_t off = 0;
  for (;;) {
    auto n = r.read(off, buf.data(), buf.size());
    if (!n.ok()) {
      EVP_MD_CTX_free(ctx);
      return n.error();
    }
    if (*n == 0) break;
    EVP_DigestUpdate(ctx, buf.data(), *n);
    off += *n;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace

ObjectService::AuditResult ObjectService::audit_once(int64_t now_unix) {
  AuditResult res;
  std::vector<blob::BlobInfo> blobs;
  auto st = blobs_.for_each([&](const blob::BlobInfo& b) {
    blobs.push_back(b);
    return true;
  });
  if (!st.ok()) {
    spdlog::warn("object: auditor: {}", st.error().message);
    return res;
  }
  for (const auto& b : blobs) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    ++res.checked;
    auto rows = store_.rows_for_blob(b.id);
    if (!rows.ok()) continue;
    if (rows->empty()) {
      // Unreferenced: a crash between rename and row commit, or a PUT still
      // in flight. Only old ones are orphans.
      if (now_unix - b.mtime_unix > config_.orphan_grace_s) {
        if (blobs_.remove(b.id).ok()) ++res.orphans_removed;
      }
      continue;
    }
    const store::ObjectRecord& row = rows->front();
    // An SLO manifest's row lists the large object's size and ETag; its
    // blob is the manifest JSON, whose size and MD5 the row keeps in
    // system metadata (see api/slo_manifest.h).
    uint64_t want_size = row.size;
    std::string want_md5 = row.etag;
    if (row.meta.count("x-static-large-object")) {
      auto size = row.meta.find("x-object-sysmeta-slo-manifest-size");
      auto md5 = row.meta.find("x-object-sysmeta-slo-manifest-etag");
      want_size = size != row.meta.end() ? std::strtoull(size->second.c_str(), nullptr, 10) : b.size;
      want_md5 = md5 != row.meta.end() ? md5->second : "";
    }
    bool bad = b.size != want_size;
    if (!bad && want_md5.size() == 32) {
      auto reader = blobs_.open(b.id);
      if (!reader.ok()) continue;
      auto md5 = blob_md5(**reader);
      bad = md5.ok() && *md5 != want_md5;
    }
    if (bad) {
      spdlog::error("object: blob {} of {}/{}/{} does not match its row: quarantined", b.id,
                    row.account, row.container, row.name);
      if (blobs_.quarantine(b.id).ok()) ++res.quarantined;
    }
  }
  return res;
}

void ObjectService::background_loop() {
  auto next_audit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(config_.reaper_interval_ms),
                   [this] { return stopping_; });
      if (stopping_) return;
    }
    reap_expired_once(static_cast<int64_t>(std::time(nullptr)));
    if (std::chrono::steady_clock::now() >= next_audit) {
      auto r = audit_once(static_cast<int64_t>(std::time(nullptr)));
      if (r.quarantined || r.orphans_removed) {
        spdlog::info("object: auditor checked {} blobs, quarantined {}, removed {} orphans",
                     r.checked, r.quarantined, r.orphans_removed);
      }
      next_audit = std::chrono::steady_clock::now() + std::chrono::seconds(config_.auditor_interval_s);
    }
  }
}

}  // namespace onestack::object
