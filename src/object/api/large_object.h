// What the two large-object files (large_object.cc, slo_write.cc) share.
#pragma once

#include <vector>

#include "object/api/slo_manifest.h"
#include "object/service/object_service.h"

namespace onestack::object::api {

// Reads and parses the manifest an SLO row's blob holds. Blocking: call it
// on the worker pool. kInternal ("Unable to load SLO manifest") when the
// blob is gone or is not a manifest.
Result<std::vector<StoredSegment>> load_manifest(ObjectService& svc, const store::ObjectRecord& row);

}  // namespace onestack::object::api
