#include "blob/memory/memory_blob_store.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <vector>

#include "blob/bytes_reader.h"
#include "blob/md5.h"
#include "core/ids.h"

namespace onestack::blob::memory {

struct Blob {
  std::shared_ptr<const std::string> bytes;
  int64_t mtime_unix = 0;
};

struct MemoryBlobStore::State {
  mutable std::mutex mu;
  std::map<std::string, Blob, std::less<>> blobs;        // guarded by mu
  std::map<std::string, Blob, std::less<>> quarantined;  // guarded by mu
};

namespace {

Error not_found(std::string_view id) {
  if (!is_hex_uuid(id)) return make_error(ErrorCode::kNotFound, "malformed blob id");
  return make_error(ErrorCode::kNotFound, "no blob " + std::string(id));
}

class MemoryBlobWriter final : public BlobWriter {
 public:
  MemoryBlobWriter(std::shared_ptr<MemoryBlobStore::State> state, std::string id)
      : state_(std::move(state)), id_(std::move(id)) {}

  const std::string& id() const override { return id_; }
  uint64_t size() const override { return size_; }
  std::string md5_hex() const override { return md5_.hex(); }

  Status write(std::string_view data) override {
    ONESTACK_TRY(check_open());
    bytes_.append(data);
    size_ += data.size();
    md5_.update(data);
    return ok_status();
  }

  Status commit() override {
    if (phase_ == Phase::kCommitted) return ok_status();
    ONESTACK_TRY(check_open());
    Blob blob{std::make_shared<const std::string>(std::move(bytes_)),
              static_cast<int64_t>(std::time(nullptr))};
    bytes_.clear();
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->blobs[id_] = std::move(blob);
    }
    phase_ = Phase::kCommitted;
    return ok_status();
  }

  void abort() override {
    if (phase_ != Phase::kOpen) return;
    bytes_.clear();
    bytes_.shrink_to_fit();
    phase_ = Phase::kAborted;
  }

 private:
  enum class Phase { kOpen, kCommitted, kAborted };

  Status check_open() const {
    if (phase_ == Phase::kOpen) return ok_status();
    return make_error(
        ErrorCode::kInternal,
        "blob " + id_ + (phase_ == Phase::kCommitted ? " is already committed" : " was aborted"));
  }

  std::shared_ptr<MemoryBlobStore::State> state_;
  std::string id_;
  std::string bytes_;
  uint64_t size_ = 0;  // bytes written; bytes_ is handed to the store on commit
  Md5 md5_;
  Phase phase_ = Phase::kOpen;
};

}  // namespace

MemoryBlobStore::MemoryBlobStore() : state_(std::make_shared<State>()) {}
MemoryBlobStore::~MemoryBlobStore() = default;

Result<std::unique_ptr<BlobWriter>> MemoryBlobStore::create() {
  return std::unique_ptr<BlobWriter>(std::make_unique<MemoryBlobWriter>(state_, new_hex_id()));
}

Result<std::unique_ptr<BlobReader>> MemoryBlobStore::open(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->blobs.find(id);
  if (it == state_->blobs.end()) return not_found(id);
  return std::unique_ptr<BlobReader>(make_bytes_reader(it->second.bytes));
}

Status MemoryBlobStore::remove(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->blobs.find(id);
  if (it != state_->blobs.end()) state_->blobs.erase(it);
  return ok_status();
}

Status MemoryBlobStore::quarantine(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->blobs.find(id);
  if (it == state_->blobs.end()) return ok_status();
  state_->quarantined[it->first] = std::move(it->second);
  state_->blobs.erase(it);
  return ok_status();
}

Result<size_t> MemoryBlobStore::recover() { return size_t{0}; }

Status MemoryBlobStore::for_each(const std::function<bool(const BlobInfo&)>& fn) {
  // A snapshot, so `fn` may call back into the store without deadlocking.
  std::vector<BlobInfo> infos;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    infos.reserve(state_->blobs.size());
    for (const auto& [id, blob] : state_->blobs) {
      infos.push_back(BlobInfo{id, blob.bytes->size(), blob.mtime_unix});
    }
  }
  for (const BlobInfo& info : infos) {
    if (!fn(info)) break;
  }
  return ok_status();
}

size_t MemoryBlobStore::blob_count() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->blobs.size();
}

size_t MemoryBlobStore::quarantined_count() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->quarantined.size();
}

}  // namespace onestack::blob::memory
