// StaticWeb (swift/common/middleware/staticweb.py): a public container served
// as a web site to anonymous browsers — its index object for the container
// URL, an HTML listing when X-Container-Meta-Web-Listings is on, and
// "<status><suffix>" error pages from X-Container-Meta-Web-Error.
//
// Only containers this anonymous request may already read (".r:" in
// X-Container-Read) are served this way; a listing also needs ".rlistings",
// as Swift's listing subrequest would. Everything else falls through to the
// ordinary container GET.
#include <cmath>

#include "object/api/features.h"
#include "object/api/middleware.h"

namespace onestack::object::api {

namespace {

bool truthy(std::string_view v) {
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "true" || s == "1" || s == "yes" || s == "on" || s == "t" || s == "y";
}

std::string meta(const store::ContainerRecord& c, const char* key) {
  auto it = c.meta.find(key);
  if (it == c.meta.end()) return "";
  std::string_view v = it->second;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return std::string(v);
}

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

struct Site {
  std::string index, error, listings, css;
};

// A GET of another object of the container for this request (the index,
// an error page): the request's own headers, another path.
awaitable<Response> get_object(Env env, const Request& req, Target t, std::string name) {
  Request sub = req;
  // The sub-request is a plain API GET: it must not turn into a web page
  // again (an index that is itself missing would recurse).
  sub.headers.set("X-Web-Mode", "false");
  sub.method = bhttp::verb::get;
  sub.method_name = "GET";
  sub.path_params = {t.account, t.container, name};
  sub.path = "/v1/" + py_quote(t.account) + "/" + py_quote(t.container) + "/" + py_quote(name);
  co_return co_await object_head_get(env, sub);
}

// staticweb.py _error_response: the "<status><web-error>" object's body with
// the original status, when that object exists.
awaitable<Response> error_page(Env env, const Request& req, Target t, Site site, Response original) {
  if (site.error.empty()) co_return original;
  unsigned status = static_cast<unsigned>(original.status);
  // Arguments named first: g++ 12 destroys a temporary of a co_await
  // expression twice.
  std::string page_name = std::to_string(status) + site.error;
  Response page = co_await get_object(env, req, t, page_name);
  if (static_cast<unsigned>(page.status) / 100 != 2) co_return original;
  page.status = original.status;
  co_return page;
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

// staticweb.py _listing: the HTML page for `prefix` ("" or "dir/").
awaitable<Response> listing(Env env, Request& req, Target t, Site site, std::string prefix,
                            const store::ContainerRecord& c) {
  std::string label;
  if (!http::percent_decode(req.path, &label)) label = req.path;
  if (!truthy(site.listings)) {
    std::string body =
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" "
        "\"http://www.w3.org/TR/html4/loose.dtd\">\n<html>\n<head>\n<title>Listing of " +
        html_escape(label) + "</title>\n";
    if (!site.css.empty()) {
      body += css_link(site, prefix);
    } else {
      body += "  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n"
              "   p {font-size: 2}\n  </style>\n";
    }
    body += "</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site has "
            "disabled web listing.   <p>If you are the owner of this web site, you can enable   "
            "web listing by setting X-Container-Meta-Web-Listings.</p>";
    if (!site.index.empty()) {
      body += "<h1>Index File Not Found</h1> <p>The owner of this web site has set  <b>"
              "X-Container-Meta-Web-Index: " + html_escape(site.index) +
              "</b>.  However, this file is not found.</p>";
    }
    body += " </body>\n</html>\n";
    Response r = Response::with_body(bhttp::status::not_found, std::move(body), "text/html; charset=UTF-8");
    add_trans_id(req, r);
    co_return co_await error_page(env, req, t, site, std::move(r));
  }
  auto access = authorize(env, req, t, Op::kContainerRead, nullptr, &c.meta);
  if (!access.ok()) {
    Response denied = error_for(req, access.error());
    co_return co_await error_page(env, req, t, site, std::move(denied));
  }
  store::ListQuery q;
  q.delimiter = "/";
  q.prefix = prefix;
  q.limit = env.svc->limits().container_listing_limit;
  auto job = [&]() { return env.svc->store().list_objects(t.account, t.container, q); };
  auto listed = co_await env.svc->pool().run(job);
  ONESTACK_SWIFT_TRY(req, listed);
  if (!prefix.empty() && listed->empty()) {
    Response missing = error_for(req, make_error(ErrorCode::kNotFound, ""));
    co_return co_await error_page(env, req, t, site, std::move(missing));
  }
  std::string body =
      "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" "
      "\"http://www.w3.org/TR/html4/loose.dtd\">\n<html>\n <head>\n  <title>Listing of " +
      html_escape(label) + "</title>\n";
  if (!site.css.empty()) {
    body += css_link(site, prefix);
  } else {
    body += "  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n"
            "   th {text-align: left; padding: 0px 1em 0px 1em;}\n"
            "   td {padding: 0px 1em 0px 1em;}\n   a {text-decoration: none;}\n  </style>\n";
  }
  body += " </head>\n <body>\n  <h1 id=\"title\">Listing of " + html_escape(label) +
          "</h1>\n  <table id=\"listing\">\n   <tr id=\"heading\">\n"
          "    <th class=\"colname\">Name</th>\n    <th class=\"colsize\">Size</th>\n"
          "    <th class=\"coldate\">Date</th>\n   </tr>\n";
  if (!prefix.empty()) {
    body += "   <tr id=\"parent\" class=\"item\">\n"
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
    std::string classes;
    std::string_view ct = o.content_type;
    ct = ct.substr(0, ct.find(';'));
    size_t i = 0;
    while (i <= ct.size()) {
      size_t j = ct.find('/', i);
      if (j == std::string_view::npos) j = ct.size();
      std::string part(ct.substr(i, j - i));
      for (auto& ch : part) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      classes += (classes.empty() ? "type-" : " type-") + html_escape(part);
      i = j + 1;
    }
    std::string date = iso_timestamp(o.timestamp_us);
    date = date.substr(0, date.find('.'));
    if (size_t tpos = date.find('T'); tpos != std::string::npos) date[tpos] = ' ';
    body += "   <tr class=\"item " + classes + "\">\n    <td class=\"colname\"><a href=\"" +
            py_quote(name) + "\">" + html_escape(name) + "</a></td>\n    <td class=\"colsize\">" +
            human_readable(o.size) + "</td>\n    <td class=\"coldate\">" + html_escape(date) +
            "</td>\n   </tr>\n";
  }
  body += "  </table>\n </body>\n</html>\n";
  Response r = Response::with_body(bhttp::status::ok, std::move(body), "text/html; charset=UTF-8");
  add_trans_id(req, r);
  co_return r;
}

// The container's web site when `req` is a web request for it: GET/HEAD,
// anonymous unless X-Web-Mode: false (token holders only with X-Web-Mode:
// true), a public container with a site configured. nullopt otherwise (the
// ordinary API answers).
std::optional<Site> web_site(const Env& env, const Request& req, const Target& t,
                             const store::ContainerRecord& c) {
  if (req.method != bhttp::verb::get && req.method != bhttp::verb::head) return std::nullopt;
  std::string_view mode = req.header("X-Web-Mode");
  if (req.auth ? !truthy(mode) : (!mode.empty() && !truthy(mode))) return std::nullopt;
  Site site{meta(c, "x-container-meta-web-index"), meta(c, "x-container-meta-web-error"),
            meta(c, "x-container-meta-web-listings"), meta(c, "x-container-meta-web-listings-css")};
  if (site.index.empty() && site.listings.empty() && site.error.empty()) return std::nullopt;
  if (!authorize(env, req, t, Op::kObjectRead, nullptr, &c.meta).ok()) return std::nullopt;
  return site;
}

// 301 to `location` (a directory asked for without its slash).
Response moved_permanently(const Request& req, std::string location) {
  Response r = Response::with_body(
      bhttp::status::moved_permanently,
      "<html><h1>Moved Permanently</h1><p>The resource has moved permanently.</p></html>",
      "text/html; charset=UTF-8");
  r.headers.set(bhttp::field::location, location);
  add_trans_id(req, r);
  return r;
}

}  // namespace

awaitable<std::optional<Response>> staticweb_get(Env env, Request& req, Target t,
                                                 store::ContainerRecord c) {
  auto found = web_site(env, req, t, c);
  if (!found || (found->index.empty() && found->listings.empty())) co_return std::nullopt;
  Site site = *found;

  if (req.path.empty() || req.path.back() != '/') {
    std::string host(req.header("Host"));
    std::string location = req.path + "/";
    if (!host.empty()) location = std::string(req.secure ? "https://" : "http://") + host + location;
    co_return moved_permanently(req, location);
  }
  if (!site.index.empty()) {
    Response r = co_await get_object(env, req, t, site.index);
    unsigned status = static_cast<unsigned>(r.status);
    if (status != 404) {
      if (status / 100 == 2 || status / 100 == 3) co_return r;
      co_return co_await error_page(env, req, t, site, std::move(r));
    }
  }
  std::string root_prefix;
  co_return co_await listing(env, req, t, site, root_prefix, c);
}

awaitable<std::optional<Response>> staticweb_object_get(Env env, Request& req, Target t,
                                                        store::ContainerRecord c) {
  auto found = web_site(env, req, t, c);
  if (!found) co_return std::nullopt;
  Site site = *found;
  Response not_found = error_for(req, make_error(ErrorCode::kNotFound, ""));
  if (!t.object.empty() && t.object.back() == '/') {
    // staticweb.py _handle_object: a pseudo-directory serves its index,
    // else its listing.
    if (!site.index.empty()) {
      std::string index_name = t.object + site.index;
      Response r = co_await get_object(env, req, t, index_name);
      if (static_cast<unsigned>(r.status) / 100 == 2) co_return r;
    }
    if (truthy(site.listings)) {
      co_return co_await listing(env, req, t, site, t.object, c);
    }
    co_return co_await error_page(env, req, t, site, std::move(not_found));
  }
  // A name with objects below it is a directory asked for without its
  // slash: redirect, as Swift does.
  store::ListQuery q;
  q.prefix = t.object + "/";
  q.limit = 1;
  auto job = [&]() { return env.svc->store().list_objects(t.account, t.container, q); };
  auto below = co_await env.svc->pool().run(job);
  if (below.ok() && !below->empty()) co_return moved_permanently(req, req.path + "/");
  co_return co_await error_page(env, req, t, site, std::move(not_found));
}

}  // namespace onestack::object::api
