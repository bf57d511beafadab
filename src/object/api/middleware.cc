// TempURL, FormPost, StaticWeb, bulk operations and CORS.
#include "object/api/features.h"

namespace onestack::object::api {

void cors_decorate(const Request& req, const store::ContainerRecord* c, Response& res) {
  (void)req, (void)c, (void)res;
}

awaitable<Response> cors_preflight(Env env, Request& req) {
  (void)env;
  co_return error_for(req, make_error(ErrorCode::kNotImplemented, "CORS preflight is not implemented yet."));
}

}  // namespace onestack::object::api
