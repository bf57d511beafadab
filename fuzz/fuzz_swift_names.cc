// Swift names and listing queries: a request target ("/v1/a/c/o?k=v&...")
// goes through the object-store router's matching (percent-decoding of the
// path), target_of and check_names (UTF-8, NUL, lengths), its query through
// percent_decode and listing_query / listing_format; the bulk-delete line
// splitter sees the input too.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/http/router.h"
#include "object/api/common.h"
#include "object/api/listing.h"
#include "object/api/middleware.h"
#include "object/api/routes.h"

namespace api = onestack::object::api;
namespace http = onestack::http;

static const http::Router& router() {
  // Matching never runs a handler, so the routes need no service behind them.
  static const api::Env env{nullptr};
  static const http::Router r = api::build_router(env);
  return r;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view target = in;
  size_t q = in.find('?');
  http::Request req;
  req.method = http::beast_http::verb::get;
  req.method_name = "GET";
  req.target = std::string(in);
  req.path = std::string(in.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view query = in.substr(q + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view item = query.substr(0, amp);
      size_t eq = item.find('=');
      std::string key, value;
      bool ok = http::percent_decode(item.substr(0, eq), &key);
      if (eq != std::string_view::npos)
        ok = ok && http::percent_decode(item.substr(eq + 1), &value);
      if (ok) req.query.add(std::move(key), std::move(value), eq != std::string_view::npos);
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  target = req.path;
  std::string decoded;
  (void)http::percent_decode(target, &decoded);
  (void)api::valid_utf8(decoded);

  onestack::object::Limits limits;
  auto m = router().match(http::beast_http::verb::get, target);
  if (m.kind == http::Router::MatchKind::kFound) {
    req.path_params = m.params;
    api::Target t = api::target_of(req);
    (void)api::check_names(t);
    for (auto level :
         {api::NameLevel::kAccount, api::NameLevel::kContainer, api::NameLevel::kObject}) {
      (void)api::check_name_length(limits, t, level);
    }
  }
  (void)api::listing_format(req);
  auto lq = api::listing_query(req, limits.container_listing_limit);
  (void)lq;
  (void)api::py_quote(decoded);

  // The delete list arrives in pieces: feed the input split in two, then the
  // end of the body.
  api::DeleteList list(100, 4096);
  std::string_view whole(in);
  size_t cut = whole.empty() ? 0 : static_cast<unsigned char>(whole.front()) % whole.size();
  onestack::Status fed;
  for (std::string_view piece : {whole.substr(0, cut), whole.substr(cut)}) {
    if (fed.ok() && !piece.empty()) fed = list.feed(piece);  // an empty piece would end the body
  }
  if (fed.ok() && list.feed({}).ok()) {
    for (const std::string& line : std::move(list).names()) {
      std::string c, o;
      (void)api::split_delete_path(line, &c, &o);
    }
  }
  return 0;
}
