#include "blob/bytes_reader.h"

#include <algorithm>
#include <cstring>

namespace onestack::blob {

namespace {

class BytesReader final : public BlobReader {
 public:
  explicit BytesReader(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}

  uint64_t size() const override { return bytes_->size(); }
  int fd() const override { return -1; }

  Result<size_t> read(uint64_t offset, char* buf, size_t len) override {
    if (offset >= bytes_->size()) return size_t{0};
    size_t n = std::min<uint64_t>(len, bytes_->size() - offset);
    std::memcpy(buf, bytes_->data() + offset, n);
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
};

}  // namespace

std::unique_ptr<BlobReader> make_bytes_reader(std::shared_ptr<const std::string> bytes) {
  return std::make_unique<BytesReader>(std::move(bytes));
}

}  // namespace onestack::blob
