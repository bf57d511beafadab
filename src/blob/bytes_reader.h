// A BlobReader over bytes in memory, for backends that hand out whole
// blobs (the memory backend, small blobs kept as table rows).
#pragma once

#include <memory>
#include <string>

#include "blob/blob_store.h"

namespace onestack::blob {

// Reads `bytes`, which the reader shares (they stay readable after the
// blob is removed). fd() is -1: no zero-copy sends.
std::unique_ptr<BlobReader> make_bytes_reader(std::shared_ptr<const std::string> bytes);

}  // namespace onestack::blob
