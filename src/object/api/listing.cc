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
  size_t run = 0;  // start of the pending run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u != '"' && u != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (u == '"' || u == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(u));
    } else {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_xml_escaped(std::string& out, std::string_view s) {
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
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_xml_escaped(out, s);
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

ObjectListingWriter::ObjectListingWriter(ListFormat f, std::string_view account,
                                         std::string_view container, size_t expected_rows)
    : format_(f), account_(account) {
  // About what a row of JSON or XML takes with a short name; a body this
  // large is mapped fresh, so pages reserved but not written cost nothing,
  // and growing it would copy it.
  out_.reserve(64 + expected_rows * (f == ListFormat::kPlain ? 32 : 200));
  if (f == ListFormat::kJson) {
    out_.push_back('[');
  } else if (f == ListFormat::kXml) {
    out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"";
    append_xml_escaped(out_, container);
    out_ += "\">";
  }
}

void ObjectListingWriter::add(const store::ObjectListRow& o) {
  ++count_;
  if (format_ == ListFormat::kPlain) {
    out_ += o.subdir.empty() ? o.name : o.subdir;
    out_.push_back('\n');
    return;
  }
  if (format_ == ListFormat::kJson) {
    // Written straight into the body: a DOM of 10,000 objects costs more
    // than the query.
    if (count_ > 1) out_.push_back(',');
    if (!o.subdir.empty()) {
      out_ += "{\"subdir\":";
      append_json_string(out_, o.subdir);
      out_.push_back('}');
      return;
    }
    out_ += "{\"hash\":";
    append_json_string(out_, o.etag);
    out_ += ",\"last_modified\":\"";
    append_iso_timestamp(out_, o.timestamp_us);
    out_ += "\",\"bytes\":";
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, o.size);
    out_.append(digits, end);
    out_ += ",\"name\":";
    append_json_string(out_, o.name);
    out_ += ",\"content_type\":";
    append_json_string(out_, o.content_type);
    if (!o.symlink_target.empty()) {
      const std::string& acct = o.symlink_account.empty() ? account_ : o.symlink_account;
      out_ += ",\"symlink_path\":";
      append_json_string(out_, "/v1/" + acct + "/" + o.symlink_target);
    }
    out_.push_back('}');
    return;
  }
  if (!o.subdir.empty()) {
    out_ += "<subdir name=\"";
    append_xml_escaped(out_, o.subdir);
    out_ += "\"><name>";
    append_xml_escaped(out_, o.subdir);
    out_ += "</name></subdir>";
    return;
  }
  out_ += "<object><name>";
  append_xml_escaped(out_, o.name);
  out_ += "</name><hash>";
  append_xml_escaped(out_, o.etag);
  out_ += "</hash><bytes>" + std::to_string(o.size) + "</bytes><content_type>";
  append_xml_escaped(out_, o.content_type);
  out_ += "</content_type><last_modified>";
  append_iso_timestamp(out_, o.timestamp_us);
  out_ += "</last_modified></object>";
}

std::string ObjectListingWriter::finish() {
  if (format_ == ListFormat::kJson) {
    out_.push_back(']');
  } else if (format_ == ListFormat::kXml) {
    out_ += "</container>";
  }
  return std::move(out_);
}

}  // namespace onestack::object::api
