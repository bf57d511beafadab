#include "fault/faulty_blob_store.h"

#include <algorithm>

namespace onestack::fault {

namespace {

class FaultyWriter final : public blob::BlobWriter {
 public:
  FaultyWriter(std::unique_ptr<blob::BlobWriter> inner, std::shared_ptr<FaultPlan> plan)
      : inner_(std::move(inner)), plan_(std::move(plan)) {}

  const std::string& id() const override { return inner_->id(); }
  uint64_t size() const override { return inner_->size(); }
  std::string md5_hex() const override { return inner_->md5_hex(); }

  Status write(std::string_view data) override {
    if (failed_) return make_error(ErrorCode::kInternal, "blob " + id() + " failed");
    if (auto f = plan_->hit("blob.write")) {
      if (f->short_bytes) {
        // write(2) took part of the data, then the next call failed.
        size_t n = *f->short_bytes < 0
                       ? data.size() / 2
                       : std::min(data.size(), static_cast<size_t>(*f->short_bytes));
        (void)inner_->write(data.substr(0, n));
      }
      return fail(std::move(f->error));
    }
    return inner_->write(data);
  }

  Status commit() override {
    if (failed_) return make_error(ErrorCode::kInternal, "blob " + id() + " failed");
    if (auto f = plan_->hit("blob.commit")) return fail(std::move(f->error));
    return inner_->commit();
  }

  void abort() override { inner_->abort(); }

  // While "blob.commit" is armed a small blob is not handed to the caller's
  // transaction: commit() runs, so the fault fires for both tiers.
  const std::string* row_bytes() const override {
    if (failed_ || plan_->armed("blob.commit")) return nullptr;
    return inner_->row_bytes();
  }

  void row_stored() override { inner_->row_stored(); }

 private:
  // As the real writers do: a failed blob is aborted and accepts nothing.
  Status fail(Error e) {
    inner_->abort();
    failed_ = true;
    return e;
  }

  std::unique_ptr<blob::BlobWriter> inner_;
  std::shared_ptr<FaultPlan> plan_;
  bool failed_ = false;
};

class FaultyReader final : public blob::BlobReader {
 public:
  FaultyReader(std::unique_ptr<blob::BlobReader> inner, std::shared_ptr<FaultPlan> plan)
      : inner_(std::move(inner)), plan_(std::move(plan)) {}

  uint64_t size() const override { return inner_->size(); }

  Result<size_t> read(uint64_t offset, char* buf, size_t len) override {
    if (auto f = plan_->hit("blob.read")) return std::move(f->error);
    return inner_->read(offset, buf, len);
  }

  int fd() const override { return plan_->armed("blob.read") ? -1 : inner_->fd(); }

 private:
  std::unique_ptr<blob::BlobReader> inner_;
  std::shared_ptr<FaultPlan> plan_;
};

}  // namespace

FaultyBlobStore::FaultyBlobStore(std::shared_ptr<blob::BlobStore> inner,
                                 std::shared_ptr<FaultPlan> plan)
    : inner_(std::move(inner)), plan_(std::move(plan)) {}

Result<std::unique_ptr<blob::BlobWriter>> FaultyBlobStore::create() {
  if (auto f = plan_->hit("blob.create")) return std::move(f->error);
  auto w = inner_->create();
  if (!w.ok()) return w;
  return std::unique_ptr<blob::BlobWriter>(
      std::make_unique<FaultyWriter>(std::move(w).value(), plan_));
}

Result<std::unique_ptr<blob::BlobReader>> FaultyBlobStore::open(std::string_view id) {
  if (auto f = plan_->hit("blob.open")) return std::move(f->error);
  auto r = inner_->open(id);
  if (!r.ok()) return r;
  return std::unique_ptr<blob::BlobReader>(
      std::make_unique<FaultyReader>(std::move(r).value(), plan_));
}

Status FaultyBlobStore::remove(std::string_view id) {
  if (auto f = plan_->hit("blob.remove")) return std::move(f->error);
  return inner_->remove(id);
}

Status FaultyBlobStore::quarantine(std::string_view id) {
  if (auto f = plan_->hit("blob.quarantine")) return std::move(f->error);
  return inner_->quarantine(id);
}

Result<size_t> FaultyBlobStore::recover() {
  if (auto f = plan_->hit("blob.recover")) return std::move(f->error);
  return inner_->recover();
}

Status FaultyBlobStore::for_each(const std::function<bool(const blob::BlobInfo&)>& fn) {
  if (auto f = plan_->hit("blob.for_each")) return std::move(f->error);
  return inner_->for_each(fn);
}

}  // namespace onestack::fault
