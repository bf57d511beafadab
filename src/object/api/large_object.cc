// Large objects: SLO (multipart-manifest) and DLO (X-Object-Manifest).
#include "object/api/features.h"

namespace onestack::object::api {

awaitable<Response> slo_put(Env env, Request& req, Target t, Rows rows) {
  (void)env, (void)t, (void)rows;
  co_return error_for(req, make_error(ErrorCode::kNotImplemented,
                                      "Static large objects (multipart-manifest=put) are not implemented yet."));
}

awaitable<std::optional<Response>> large_object_get(Env env, Request& req, Target t,
                                                    store::ObjectRecord o) {
  (void)env, (void)t;
  if (o.meta.count("x-static-large-object") || o.meta.count("x-object-manifest")) {
    co_return error_for(req, make_error(ErrorCode::kNotImplemented,
                                        "Large object reads (SLO/DLO) are not implemented yet."));
  }
  co_return std::nullopt;
}

std::optional<Response> slo_manifest_get(Env env, Request& req, const store::ObjectRecord& o) {
  (void)env, (void)req, (void)o;
  return std::nullopt;
}

awaitable<Response> slo_delete(Env env, Request& req, Target t, store::ObjectRecord o) {
  (void)env, (void)t, (void)o;
  co_return error_for(req, make_error(ErrorCode::kNotImplemented,
                                      "multipart-manifest=delete is not implemented yet."));
}

awaitable<Result<std::vector<Part>>> large_object_parts(Env env, Request& req, Target t,
                                                        store::ObjectRecord o, uint64_t* size) {
  (void)env, (void)req, (void)t, (void)o, (void)size;
  co_return make_error(ErrorCode::kNotImplemented, "Copying large objects is not implemented yet.");
}

}  // namespace onestack::object::api
