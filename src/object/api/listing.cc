#include "object/api/listing.h"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "core/json.h"
#include "object/api/common.h"
#include "object/service/object_service.h"

namespace onestack::object::api {

ListFormat listing_format(const http::Request& req) {
  if (auto f = req.query.get("format")) {
    // Swift lower-cases the value (listing_formats.get_listing_content_type).
    std::string v(*f);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "json") return ListFormat::kJson;
    if (v == "xml") return ListFormat::kXml;
    return ListFormat::kPlain;
  }
  std::string_view accept = req.header("Accept");
  if (accept.find("application/json") != std::string_view::npos) return ListFormat::kJson;
  if (accept.find("application/xml") != std::string_view::npos ||
      accept.find("text/xml") != std::string_view::npos) {
    return ListFormat::kXml;
  }
  return ListFormat::kPlain;
}

const char* listing_content_type(ListFormat f) {
  switch (f) {
    case ListFormat::kJson: return "application/json; charset=utf-8";
    case ListFormat::kXml: return "application/xml; charset=utf-8";
    case ListFormat::kPlain: return "text/plain; charset=utf-8";
  }
  return "text/plain; charset=utf-8";
}

Result<store::ListQuery> listing_query(const http::Request& req, size_t max_limit) {
  store::ListQuery q;
  q.limit = max_limit;
  for (const auto& item : req.query.items()) {
    if (item.value.find('\0') != std::string::npos || !valid_utf8(item.value)) {
      return make_error(ErrorCode::kPreconditionFailed, "Invalid UTF8 or contains NULL");
    }
  }
  // Swift's constrain_req_limit: a limit that is not all digits ("", "-1",
  // "abc") is ignored and the maximum applies; only one above it is 412.
  if (auto l = req.query.get("limit");
      l && !l->empty() && l->find_first_not_of("0123456789") == std::string_view::npos) {
    unsigned long long v = 0;
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), v);
    if (ec != std::errc() || v > max_limit) {
      return make_error(ErrorCode::kPreconditionFailed,
                        "Maximum limit is " + std::to_string(max_limit));
    }
    q.limit = static_cast<size_t>(v);
  }
  if (auto v = req.query.get("marker")) q.marker = std::string(*v);
  if (auto v = req.query.get("end_marker")) q.end_marker = std::string(*v);
  if (auto v = req.query.get("prefix")) q.prefix = std::string(*v);
  if (auto v = req.query.get("delimiter")) {
    // Swift: one character (code point) no greater than U+00FE; the value
    // is valid UTF-8 by now, so that is one byte, or two starting C2/C3.
    bool one_char = v->size() <= 1;
    if (v->size() == 2) {
      auto lead = static_cast<unsigned char>((*v)[0]), tail = static_cast<unsigned char>((*v)[1]);
      one_char = lead == 0xc2 || (lead == 0xc3 && tail <= 0xbe);
    }
    if (!one_char) return make_error(ErrorCode::kPreconditionFailed, "Bad delimiter");
    q.delimiter = std::string(*v);
  }
  if (auto v = req.query.get("path")) q.path = std::string(*v);
  if (auto v = req.query.get("reverse")) {
    std::string r(*v);
    for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    q.reverse = r == "true" || r == "1" || r == "yes" || r == "on" || r == "t" || r == "y";
  }
  return q;
}

void append_json_string(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string render_containers(ListFormat f, const std::string& account,
                              const std::vector<store::ContainerListEntry>& items) {
  std::string out;
  if (f == ListFormat::kPlain) {
    for (const auto& e : items) {
      out += e.subdir.empty() ? e.container.name : e.subdir;
      out.push_back('\n');
    }
    return out;
  }
  if (f == ListFormat::kJson) {
    boost::json::array arr;
    for (const auto& e : items) {
      if (!e.subdir.empty()) {
        arr.push_back(boost::json::object{{"subdir", e.subdir}});
        continue;
      }
      const auto& c = e.container;
      arr.push_back(boost::json::object{{"name", c.name},
                                        {"count", c.object_count},
                                        {"bytes", c.bytes_used},
                                        {"last_modified", iso_timestamp(c.put_us)}});
    }
    return to_json(arr);
  }
  out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"" + xml_escape(account) + "\">";
  for (const auto& e : items) {
    if (!e.subdir.empty()) {
      out += "<subdir name=\"" + xml_escape(e.subdir) + "\"><name>" + xml_escape(e.subdir) +
             "</name></subdir>";
      continue;
    }
    const auto& c = e.container;
    out += "<container><name>" + xml_escape(c.name) + "</name><count>" +
           std::to_string(c.object_count) + "</count><bytes>" + std::to_string(c.bytes_used) +
           "</bytes><last_modified>" + iso_timestamp(c.put_us) + "</last_modified></container>";
  }
  out += "</account>";
  return out;
}

std::string render_objects(ListFormat f, const std::string& container,
                           const std::vector<store::ObjectListEntry>& items) {
  std::string out;
  if (f == ListFormat::kPlain) {
    for (const auto& e : items) {
      out += e.subdir.empty() ? e.object.name : e.subdir;
      out.push_back('\n');
    }
    return out;
  }
  if (f == ListFormat::kJson) {
    // Written straight into one string: a 10,000-row page is the hot path
    // of listings, and a DOM of 10,000 objects costs more than the query.
    out.reserve(items.size() * 160 + 2);
    out.push_back('[');
    bool first = true;
    for (const auto& e : items) {
      if (!first) out.push_back(',');
      first = false;
      if (!e.subdir.empty()) {
        out += "{\"subdir\":";
        append_json_string(out, e.subdir);
        out.push_back('}');
        continue;
      }
      const auto& o = e.object;
      out += "{\"hash\":";
      append_json_string(out, o.etag);
      out += ",\"last_modified\":\"";
      out += iso_timestamp(o.timestamp_us);
      out += "\",\"bytes\":";
      out += std::to_string(o.size);
      out += ",\"name\":";
      append_json_string(out, o.name);
      out += ",\"content_type\":";
      append_json_string(out, o.content_type);
      if (auto it = o.meta.find("x-symlink-target"); it != o.meta.end()) {
        std::string acct = o.account;
        if (auto a = o.meta.find("x-symlink-target-account"); a != o.meta.end()) acct = a->second;
        out += ",\"symlink_path\":";
        append_json_string(out, "/v1/" + acct + "/" + it->second);
      }
      out.push_back('}');
    }
    out.push_back(']');
    return out;
  }
  out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"" + xml_escape(container) +
        "\">";
  for (const auto& e : items) {
    if (!e.subdir.empty()) {
      out += "<subdir name=\"" + xml_escape(e.subdir) + "\"><name>" + xml_escape(e.subdir) +
             "</name></subdir>";
      continue;
    }
    const auto& o = e.object;
    out += "<object><name>" + xml_escape(o.name) + "</name><hash>" + o.etag + "</hash><bytes>" +
           std::to_string(o.size) + "</bytes><content_type>" + xml_escape(o.content_type) +
           "</content_type><last_modified>" + iso_timestamp(o.timestamp_us) +
           "</last_modified></object>";
  }
  out += "</container>";
  return out;
}

}  // namespace onestack::object::api
