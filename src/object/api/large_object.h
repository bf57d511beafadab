// What the two large-object files (large_object.cc, slo_write.cc) share.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "object/api/common.h"
#include "object/api/slo_manifest.h"
#include "object/service/object_service.h"

namespace onestack::object::api {

// Reads and parses the manifest an SLO row's blob holds. Blocking: call it
// on the worker pool. kInternal ("Unable to load SLO manifest") when the
// blob is gone or is not a manifest.
Result<std::vector<StoredSegment>> load_manifest(ObjectService& svc,
                                                 const store::ObjectRecord& row);

// Access of the caller to the containers of one account, looked up once
// per container. A TempURL grants its request's subrequests too (Swift's
// swift.authorize_override). Not thread-safe; blocking: for one worker-thread
// job.
class AccessCache {
 public:
  AccessCache(const Env& env, const Request& req, std::string account);

  // Whether the caller may perform `op` on `container` of the account.
  Status may(const std::string& container, Op op);

 private:
  const Env& env_;
  const Request& req_;
  const std::string account_;
  const bool check_;
  bool account_loaded_ = false;
  std::optional<store::Metadata> account_meta_;
  std::map<std::pair<int, std::string>, Status> cache_;
};

}  // namespace onestack::object::api
