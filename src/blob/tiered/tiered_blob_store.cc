#include "blob/tiered/tiered_blob_store.h"

#include <ctime>

#include "blob/bytes_reader.h"
#include "blob/md5.h"
#include "core/ids.h"

namespace onestack::blob::tiered {

namespace {

Error not_found(std::string_view id) {
  if (!is_hex_uuid(id)) return make_error(ErrorCode::kNotFound, "malformed blob id");
  return make_error(ErrorCode::kNotFound, "no blob " + std::string(id));
}

class TieredWriter final : public BlobWriter {
 public:
  TieredWriter(std::shared_ptr<SmallBlobTable> small, std::shared_ptr<BlobStore> large,
               size_t inline_max)
      : small_(std::move(small)),
        large_(std::move(large)),
        inline_max_(inline_max),
        id_(new_hex_id()) {}

  const std::string& id() const override { return large_writer_ ? large_writer_->id() : id_; }
  uint64_t size() const override { return size_; }
  std::string md5_hex() const override { return md5_.hex(); }

  Status write(std::string_view data) override {
    ONESTACK_TRY(check_open());
    if (!large_writer_ && kept_.size() + data.size() > inline_max_) {
      // Too big for a row: from here on the large store holds it.
      auto w = large_->create();
      if (!w.ok()) return fail(std::move(w).error());
      large_writer_ = std::move(*w);
      if (auto st = large_writer_->write(kept_); !st.ok()) return fail(std::move(st).error());
      kept_.clear();
      kept_.shrink_to_fit();
    }
    if (large_writer_) {
      if (auto st = large_writer_->write(data); !st.ok()) return fail(std::move(st).error());
    } else {
      kept_.append(data);
    }
    size_ += data.size();
    md5_.update(data);
    return ok_status();
  }

  Status commit() override {
    if (phase_ == Phase::kCommitted) return ok_status();
    ONESTACK_TRY(check_open());
    const auto now = static_cast<int64_t>(std::time(nullptr));
    Status st = large_writer_ ? large_writer_->commit() : small_->put_small_blob(id_, kept_, now);
    if (!st.ok()) return fail(std::move(st).error());
    kept_.clear();
    kept_.shrink_to_fit();
    phase_ = Phase::kCommitted;
    return ok_status();
  }

  const std::string* row_bytes() const override {
    return phase_ == Phase::kOpen && !large_writer_ ? &kept_ : nullptr;
  }

  void row_stored() override {
    kept_.clear();
    kept_.shrink_to_fit();
    phase_ = Phase::kCommitted;
  }

  void abort() override {
    if (phase_ == Phase::kCommitted || phase_ == Phase::kAborted) return;
    if (large_writer_) large_writer_->abort();
    kept_.clear();
    kept_.shrink_to_fit();
    phase_ = Phase::kAborted;
  }

  ~TieredWriter() override { abort(); }

 private:
  enum class Phase { kOpen, kFailed, kCommitted, kAborted };

  Status check_open() const {
    if (phase_ == Phase::kOpen) return ok_status();
    const char* why = phase_ == Phase::kCommitted ? " is already committed"
                      : phase_ == Phase::kFailed  ? " failed"
                                                  : " was aborted";
    return make_error(ErrorCode::kInternal, "blob " + id() + why);
  }

  // A failed writer keeps nothing and accepts nothing more.
  Status fail(Error e) {
    if (large_writer_) large_writer_->abort();
    kept_.clear();
    phase_ = Phase::kFailed;
    return e;
  }

  std::shared_ptr<SmallBlobTable> small_;
  std::shared_ptr<BlobStore> large_;
  size_t inline_max_;
  std::string id_;                            // the row's id while the blob is small
  std::string kept_;                          // the bytes while the blob is small
  std::unique_ptr<BlobWriter> large_writer_;  // set once the blob outgrew inline_max_
  uint64_t size_ = 0;
  Md5 md5_;
  Phase phase_ = Phase::kOpen;
};

}  // namespace

TieredBlobStore::TieredBlobStore(std::shared_ptr<SmallBlobTable> small,
                                 std::shared_ptr<BlobStore> large, size_t inline_max)
    : small_(std::move(small)), large_(std::move(large)), inline_max_(inline_max) {}

TieredBlobStore::~TieredBlobStore() = default;

Result<std::unique_ptr<BlobWriter>> TieredBlobStore::create() {
  return std::unique_ptr<BlobWriter>(std::make_unique<TieredWriter>(small_, large_, inline_max_));
}

Result<std::unique_ptr<BlobReader>> TieredBlobStore::open(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  auto row = small_->get_small_blob(std::string(id));
  if (!row.ok()) return std::move(row).error();
  if (*row) return make_bytes_reader(std::move(*row));
  return large_->open(id);
}

// A blob is in one tier: a read finds which, so removing a file costs no
// write transaction on the table.
Result<bool> TieredBlobStore::is_row(std::string_view id) {
  auto row = small_->get_small_blob(std::string(id));
  if (!row.ok()) return std::move(row).error();
  return *row != nullptr;
}

Status TieredBlobStore::remove(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  auto row = is_row(id);
  if (!row.ok()) return std::move(row).error();
  return *row ? small_->remove_small_blob(std::string(id)) : large_->remove(id);
}

Status TieredBlobStore::quarantine(std::string_view id) {
  if (!is_hex_uuid(id)) return not_found(id);
  auto row = is_row(id);
  if (!row.ok()) return std::move(row).error();
  return *row ? small_->quarantine_small_blob(std::string(id)) : large_->quarantine(id);
}

Result<size_t> TieredBlobStore::recover() { return large_->recover(); }

Status TieredBlobStore::for_each(const std::function<bool(const BlobInfo&)>& fn) {
  bool more = true;
  ONESTACK_TRY(small_->for_each_small_blob([&](const BlobInfo& info) { return more = fn(info); }));
  if (!more) return ok_status();
  return large_->for_each(fn);
}

}  // namespace onestack::blob::tiered
