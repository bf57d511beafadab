// StaticWeb (swift/common/middleware/staticweb.py): a container served as a
// web site — its index object for the container URL and pseudo-directories,
// an HTML listing when X-Container-Meta-Web-Listings is on, "<status><suffix>"
// error pages from X-Container-Meta-Web-Error, and a 301 that adds the slash
// a directory was asked for without.
//
// A GET or HEAD is the site's when it comes without a token, or with one and
// X-Web-Mode: true (keystoneauth names every token holder, which is what
// takes a request out of StaticWeb). Every read it makes is made as the
// caller, so the container's ACLs decide as they would for the API: an
// anonymous visitor needs ".r:" to read and ".rlistings" to list.
#include <cmath>

#include "object/api/features.h"
#include "object/api/listing.h"
#include "object/api/middleware.h"
#include "object/api/object_helpers.h"
#include "object/api/py_format.h"

namespace onestack::object::api {

namespace {

std::string meta(const store::ContainerRecord* c, const char* key) {
  if (!c) return "";
  auto it = c->meta.find(key);
  if (it == c->meta.end()) return "";
  std::string_view v = it->second;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return std::string(v);
}

// Python's html.escape(s, quote=True).
std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#x27;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// swift.common.utils.human_readable: 1023 → "1023", 2048 → "2Ki".
std::string human_readable(uint64_t bytes) {
  double v = static_cast<double>(bytes);
  const char* suffixes = "KMGTPEZY";
  int index = -1;
  while (v >= 1024 && index + 1 < 8) {
    ++index;
    v = std::nearbyint(v / 1024);
  }
  if (index < 0) return std::to_string(bytes);
  return std::to_string(static_cast<uint64_t>(std::nearbyint(v))) + suffixes[index] + "i";
}

// The container's web settings (_get_container_info); all empty when the
// container does not exist.
struct Site {
  std::string index, error, listings, label, css, dir_type;
  explicit Site(const store::ContainerRecord* c)
      : index(meta(c, "x-container-meta-web-index")),
        error(meta(c, "x-container-meta-web-error")),
        listings(meta(c, "x-container-meta-web-listings")),
        label(meta(c, "x-container-meta-web-listings-label")),
        css(meta(c, "x-container-meta-web-listings-css")),
        dir_type(meta(c, "x-container-meta-web-directory-type")) {}
};

// The request's path, decoded (Swift's PATH_INFO).
std::string path_info(const Request& req) {
  std::string path;
  if (!http::percent_decode(req.path, &path)) path = req.path;
  return path;
}

bool ok_or_redirect(const Response& r) {
  unsigned s = static_cast<unsigned>(r.status);
  return s / 100 == 2 || s / 100 == 3;
}

// A read of another object of the container for this request, as the
// caller: the index (same method) or an error page (GET).
awaitable<Response> read_object(Env env, const Request& req, Target t, std::string name,
                                bhttp::verb method) {
  Request sub = detached(req);
  sub.method = method;
  sub.method_name = std::string(bhttp::to_string(method));
  sub.path_params = {t.account, t.container, name};
  sub.path = "/v1/" + py_quote(t.account) + "/" + py_quote(t.container) + "/" + py_quote(name);
  co_return co_await object_head_get(env, sub);
}

// staticweb.py _error_response: the "<status><web-error>" object, with the
// original status, in place of an error when the site has one.
awaitable<Response> error_page(Env env, const Request& req, Target t, const Site& site,
                               Response original) {
  if (site.error.empty()) co_return original;
  // Named first: g++ 12 destroys a temporary of a co_await expression twice.
  std::string page_name = std::to_string(static_cast<unsigned>(original.status)) + site.error;
  Response page = co_await read_object(env, req, t, page_name, bhttp::verb::get);
  if (static_cast<unsigned>(page.status) / 100 != 2) co_return original;
  page.status = original.status;
  co_return page;
}

// swob makes a relative Location absolute with the request's host.
Response redirect_with_slash(const Request& req) {
  Response r = Response::with_body(
      bhttp::status::moved_permanently,
      "<html><h1>Moved Permanently</h1><p>The resource has moved permanently.</p></html>",
      "text/html; charset=UTF-8");
  std::string location = py_quote(path_info(req) + "/");
  std::string host(req.header("Host"));
  if (!host.empty()) location = std::string(req.secure ? "https://" : "http://") + host + location;
  r.headers.set(bhttp::field::location, location);
  add_trans_id(req, r);
  return r;
}

// The container listed as the caller would list it.
awaitable<Result<std::vector<store::ObjectListEntry>>> list_as_caller(Env env, const Request& req,
                                                                      Target t,
                                                                      store::ListQuery q) {
  auto rows = co_await load_rows(
      env, t, static_cast<int>(Want::kAccount) | static_cast<int>(Want::kContainer));
  if (!rows.ok()) co_return rows.error();
  auto access =
      authorize(env, req, t, Op::kContainerRead, rows->account ? &rows->account->meta : nullptr,
                rows->container ? &rows->container->meta : nullptr);
  if (!access.ok()) co_return access.error();
  if (!rows->container) co_return make_error(ErrorCode::kNotFound, "");
  auto job = [&]() { return env.svc->store().list_objects(t.account, t.container, q); };
  co_return co_await env.svc->pool().run(job);
}

std::string css_link(const Site& site, std::string_view prefix) {
  std::string href;
  if (site.css.rfind("/", 0) == 0 || site.css.rfind("http://", 0) == 0 ||
      site.css.rfind("https://", 0) == 0) {
    href = py_quote(site.css, ":/");
  } else {
    for (char c : prefix) {
      if (c == '/') href += "../";
    }
    href += py_quote(site.css);
  }
  return "  <link rel=\"stylesheet\" type=\"text/css\" href=\"" + href + "\" />\n";
}

// staticweb.py _listing: the HTML page for `prefix` ("" or "dir/"), or the
// "Web Listing Disabled" 404 when listings are not on.
awaitable<Response> listing(Env env, const Request& req, Target t, const Site& site,
                            std::string prefix) {
  std::string label = path_info(req);
  if (!site.label.empty()) {
    // "<label>/<what follows the container>"
    std::string rest;
    size_t slashes = 0, i = 0;
    for (; i < label.size() && slashes < 4; ++i) slashes += label[i] == '/';
    if (slashes == 4) rest = label.substr(i);
    label = site.label + "/" + rest;
  }
  if (!truthy(site.listings)) {
    std::string body =
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" "
        "\"http://www.w3.org/TR/html4/loose.dtd\">\n<html>\n<head>\n<title>Listing of " +
        html_escape(label) + "</title>\n";
    if (!site.css.empty()) {
      body += css_link(site, prefix);
    } else {
      body +=
          "  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n"
          "   p {font-size: 2}\n  </style>\n";
    }
    body +=
        "</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site has "
        "disabled web listing.   <p>If you are the owner of this web site, you can enable   "
        "web listing by setting X-Container-Meta-Web-Listings.</p>";
    if (!site.index.empty()) {
      // Swift writes the index name as it is set.
      body +=
          "<h1>Index File Not Found</h1> <p>The owner of this web site has set  <b>"
          "X-Container-Meta-Web-Index: " +
          site.index + "</b>.  However, this file is not found.</p>";
    }
    body += " </body>\n</html>\n";
    Response r =
        Response::with_body(bhttp::status::not_found, std::move(body), "text/html; charset=UTF-8");
    add_trans_id(req, r);
    co_return co_await error_page(env, req, t, site, std::move(r));
  }
  store::ListQuery q;
  q.delimiter = "/";
  q.prefix = prefix;
  q.limit = env.svc->limits().container_listing_limit;
  auto listed = co_await list_as_caller(env, req, t, q);
  if (!listed.ok())
    co_return co_await error_page(env, req, t, site, error_for(req, listed.error()));
  if (!prefix.empty() && listed->empty()) {
    co_return co_await error_page(env, req, t, site,
                                  error_for(req, make_error(ErrorCode::kNotFound, "")));
  }
  std::string body =
      "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" "
      "\"http://www.w3.org/TR/html4/loose.dtd\">\n<html>\n <head>\n  <title>Listing of " +
      html_escape(label) + "</title>\n";
  if (!site.css.empty()) {
    body += css_link(site, prefix);
  } else {
    body +=
        "  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n"
        "   th {text-align: left; padding: 0px 1em 0px 1em;}\n"
        "   td {padding: 0px 1em 0px 1em;}\n   a {text-decoration: none;}\n  </style>\n";
  }
  body += " </head>\n <body>\n  <h1 id=\"title\">Listing of " + html_escape(label) +
          "</h1>\n  <table id=\"listing\">\n   <tr id=\"heading\">\n"
          "    <th class=\"colname\">Name</th>\n    <th class=\"colsize\">Size</th>\n"
          "    <th class=\"coldate\">Date</th>\n   </tr>\n";
  if (!prefix.empty()) {
    body +=
        "   <tr id=\"parent\" class=\"item\">\n"
        "    <td class=\"colname\"><a href=\"../\">../</a></td>\n"
        "    <td class=\"colsize\">&nbsp;</td>\n    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n";
  }
  for (const auto& e : *listed) {
    if (e.subdir.empty()) continue;
    std::string sub = e.subdir.substr(prefix.size());
    body += "   <tr class=\"item subdir\">\n    <td class=\"colname\"><a href=\"" + py_quote(sub) +
            "\">" + html_escape(sub) +
            "</a></td>\n    <td class=\"colsize\">&nbsp;</td>\n"
            "    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n";
  }
  for (const auto& e : *listed) {
    if (!e.subdir.empty()) continue;
    const store::ObjectRecord& o = e.object;
    std::string name = o.name.substr(prefix.size());
    // "type-text type-plain" from the type as the listing shows it,
    // parameters and all.
    std::string classes;
    std::string ct = listed_content_type(o.content_type);
    size_t i = 0;
    while (i <= ct.size()) {
      size_t j = ct.find('/', i);
      if (j == std::string::npos) j = ct.size();
      std::string part = ct.substr(i, j - i);
      for (auto& ch : part) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      classes += (classes.empty() ? "type-" : " type-") + html_escape(part);
      i = j + 1;
    }
    std::string date = html_escape(iso_timestamp(o.timestamp_us));
    date = date.substr(0, date.find('.'));
    for (auto& ch : date) {
      if (ch == 'T') ch = ' ';
    }
    body += "   <tr class=\"item " + classes + "\">\n    <td class=\"colname\"><a href=\"" +
            py_quote(name) + "\">" + html_escape(name) + "</a></td>\n    <td class=\"colsize\">" +
            human_readable(o.size) + "</td>\n    <td class=\"coldate\">" + date +
            "</td>\n   </tr>\n";
  }
  body += "  </table>\n </body>\n</html>\n";
  Response r = Response::with_body(bhttp::status::ok, std::move(body), "text/html; charset=UTF-8");
  add_trans_id(req, r);
  co_return r;
}

// staticweb.py StaticWeb.__call__.
bool web_request(const Request& req) {
  if (req.method != bhttp::verb::get && req.method != bhttp::verb::head) return false;
  return !req.auth || truthy(req.header("X-Web-Mode"));
}

// staticweb.py handle_container.
awaitable<Response> web_container(Env env, Request& req, Target t) {
  auto rows = co_await load_rows(
      env, t, static_cast<int>(Want::kAccount) | static_cast<int>(Want::kContainer));
  ONESTACK_SWIFT_TRY(req, rows);
  const store::ContainerRecord* c = rows->container ? &*rows->container : nullptr;
  Site site(c);
  auto access = authorize(env, req, t, Op::kContainerRead,
                          rows->account ? &rows->account->meta : nullptr, c ? &c->meta : nullptr);
  if (!access.ok())
    co_return co_await error_page(env, req, t, site, error_for(req, access.error()));
  if (site.listings.empty() && site.index.empty()) {
    if (truthy(req.header("X-Web-Mode")))
      co_return error_for(req, make_error(ErrorCode::kNotFound, ""));
    co_return co_await container_head_get(env, req);
  }
  if (req.path.empty() || req.path.back() != '/') co_return redirect_with_slash(req);
  if (site.index.empty()) co_return co_await listing(env, req, t, site, "");
  Response index = co_await read_object(env, req, t, site.index, req.method);
  if (index.status == bhttp::status::not_found) co_return co_await listing(env, req, t, site, "");
  if (!ok_or_redirect(index)) co_return co_await error_page(env, req, t, site, std::move(index));
  co_return index;
}

// staticweb.py handle_object: the object itself unless it is missing or a
// directory marker; then the directory's index, its listing, or a redirect
// to its slash.
awaitable<Response> web_object(Env env, Request& req, Target t) {
  Response r = co_await object_head_get(env, req);
  auto rows = co_await load_rows(env, t, static_cast<int>(Want::kContainer));
  const store::ContainerRecord* c = rows.ok() && rows->container ? &*rows->container : nullptr;
  Site site(c);
  if (ok_or_redirect(r)) {
    const std::string dir_type = site.dir_type.empty() ? "application/directory" : site.dir_type;
    auto length = r.headers.find(bhttp::field::content_length);
    uint64_t size = length == r.headers.end()
                        ? 0
                        : std::strtoull(std::string(length->value()).c_str(), nullptr, 10);
    bool marker = r.headers[bhttp::field::content_type] == dir_type && size <= 1;
    if (!marker) co_return r;
  } else if (r.status != bhttp::status::not_found) {
    co_return r;
  }
  if (site.listings.empty() && site.index.empty()) co_return r;
  bool slashed = !req.path.empty() && req.path.back() == '/';
  if (!site.index.empty()) {
    std::string index_name = t.object + (slashed ? "" : "/") + site.index;
    Response index = co_await read_object(env, req, t, index_name, req.method);
    if (ok_or_redirect(index)) {
      if (!slashed) co_return redirect_with_slash(req);
      co_return index;
    }
    if (index.status != bhttp::status::not_found) co_return index;
  }
  if (slashed) co_return co_await listing(env, req, t, site, t.object);
  store::ListQuery q;
  q.delimiter = "/";
  q.prefix = t.object + "/";
  q.limit = 1;
  auto below = co_await list_as_caller(env, req, t, q);
  if (!below.ok() || below->empty()) {
    co_return co_await error_page(env, req, t, site,
                                  error_for(req, make_error(ErrorCode::kNotFound, "")));
  }
  co_return redirect_with_slash(req);
}

}  // namespace

awaitable<Response> staticweb_container(Env env, Request& req) {
  if (!web_request(req)) co_return co_await container_head_get(env, req);
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  // listing_formats runs first: it checks Accept and marks what it lets
  // through as varying by it.
  auto format = listing_format(req);
  ONESTACK_SWIFT_TRY(req, format);
  Response r = co_await web_container(env, req, t);
  if ((r.status == bhttp::status::ok || r.status == bhttp::status::no_content) &&
      !req.query.has("format")) {
    auto vary = r.headers.find(bhttp::field::vary);
    if (vary == r.headers.end()) {
      r.headers.set(bhttp::field::vary, "Accept");
    } else if (vary->value() != "Accept") {
      r.headers.set(bhttp::field::vary, std::string(vary->value()) + ", Accept");
    }
  }
  co_return r;
}

awaitable<Response> staticweb_object(Env env, Request& req) {
  if (!web_request(req)) co_return co_await object_head_get(env, req);
  Target t = target_of(req);
  ONESTACK_SWIFT_TRY(req, check_names(t));
  co_return co_await web_object(env, req, t);
}

}  // namespace onestack::object::api
