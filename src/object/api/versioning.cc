// Symlinks and versioning (X-Versions-Location, X-History-Location).
#include "object/api/features.h"

namespace onestack::object::api {

awaitable<Result<Resolved>> resolve_symlink(Env env, Request& req, Target t,
                                            store::ObjectRecord o) {
  (void)env, (void)req, (void)t, (void)o;
  co_return make_error(ErrorCode::kNotImplemented, "Following symlinks is not implemented yet.");
}

awaitable<Status> version_before_overwrite(Env env, Request& req, Target t,
                                           store::ContainerRecord container,
                                           std::optional<store::ObjectRecord> current) {
  (void)env, (void)req, (void)t, (void)current;
  if (container.meta.count("x-versions-location") || container.meta.count("x-history-location")) {
    co_return make_error(ErrorCode::kNotImplemented, "Versioned writes are not implemented yet.");
  }
  co_return Status{};
}

awaitable<std::optional<Response>> version_delete(Env env, Request& req, Target t,
                                                  store::ContainerRecord container) {
  (void)env, (void)t;
  if (container.meta.count("x-versions-location") || container.meta.count("x-history-location")) {
    co_return error_for(req, make_error(ErrorCode::kNotImplemented,
                                        "Versioned deletes are not implemented yet."));
  }
  co_return std::nullopt;
}

}  // namespace onestack::object::api
