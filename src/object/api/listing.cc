#include "object/api/listing.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "core/json.h"
#include "object/api/common.h"
#include "object/api/middleware.h"
#include "object/api/py_format.h"
#include "object/service/object_service.h"

namespace onestack::object::api {

namespace {

bool accept_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// RFC 2616's token, as swob.Accept spells it.
bool token_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f &&
         std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

size_t scan_token(std::string_view s, size_t i) {
  while (i < s.size() && token_char(s[i])) ++i;
  return i;
}

size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && accept_space(s[i])) ++i;
  return i;
}

struct AcceptType {
  std::string type, subtype;
  double quality = 1.0;
  bool exact = true;  // neither part is "*"
};

// swob.Accept._get_types: each comma-separated media range must match
// token/token followed by ";name=value" parameters, else the whole header is
// invalid; "q" (once) is the quality, any float Python reads.
std::optional<std::vector<AcceptType>> parse_accept(std::string_view header) {
  std::vector<AcceptType> types;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view part = header.substr(start, comma - start);
    start = comma + 1;
    size_t i = skip_space(part, 0);
    size_t e = scan_token(part, i);
    if (e == i || e >= part.size() || part[e] != '/') return std::nullopt;
    AcceptType t;
    t.type = std::string(part.substr(i, e - i));
    i = e + 1;
    e = scan_token(part, i);
    if (e == i) return std::nullopt;
    t.subtype = std::string(part.substr(i, e - i));
    i = e;
    bool seen_q = false;
    while (true) {
      i = skip_space(part, i);
      if (i == part.size()) break;
      if (part[i] != ';') return std::nullopt;
      i = skip_space(part, i + 1);
      e = scan_token(part, i);
      if (e == i) return std::nullopt;
      std::string_view name = part.substr(i, e - i);
      i = skip_space(part, e);
      if (i == part.size() || part[i] != '=') return std::nullopt;
      i = skip_space(part, i + 1);
      std::string_view value;
      if (i < part.size() && part[i] == '"') {
        size_t j = i + 1;
        while (j < part.size() && part[j] != '"') j += part[j] == '\\' ? 2 : 1;
        if (j >= part.size()) return std::nullopt;
        value = part.substr(i, j + 1 - i);
        i = j + 1;
      } else {
        e = scan_token(part, i);
        if (e == i) return std::nullopt;
        value = part.substr(i, e - i);
        i = e;
      }
      if (name == "q") {
        if (seen_q) return std::nullopt;
        seen_q = true;
        std::string v(value);
        char* endp = nullptr;
        t.quality = std::strtod(v.c_str(), &endp);
        if (endp == v.c_str() || *endp != '\0') return std::nullopt;
      }
    }
    t.exact = t.type != "*" && t.subtype != "*";
    types.push_back(std::move(t));
    if (comma == header.size()) break;
  }
  // Sorted by quality, then exact ranges before globs; stable, as Python's sort.
  std::stable_sort(types.begin(), types.end(), [](const AcceptType& a, const AcceptType& b) {
    if (a.quality != b.quality) return a.quality > b.quality;
    return a.exact && !b.exact;
  });
  return types;
}

struct FormatOption {
  ListFormat format;
  std::string_view type, subtype;
};
constexpr FormatOption kFormatOptions[] = {
    {ListFormat::kPlain, "text", "plain"},
    {ListFormat::kJson, "application", "json"},
    {ListFormat::kXml, "application", "xml"},
    {ListFormat::kTextXml, "text", "xml"},
};

}  // namespace

Result<ListFormat> listing_format(const http::Request& req) {
  std::string_view accept = req.header("Accept");
  std::string from_format;
  if (auto f = req.query.get("format"); f && !f->empty()) {
    if (!valid_utf8(*f)) {
      return make_plain_error(ErrorCode::kInvalidArgument, "\"format\" parameter not valid UTF-8");
    }
    // Swift lower-cases the value and asks for its type; any other is plain.
    std::string v(*f);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    from_format = v == "json" ? "application/json" : v == "xml" ? "application/xml" : "text/plain";
    accept = from_format;
  }
  return accept_best_match(accept);
}

bool accepts_json(const http::Request& req) {
  std::string_view accept = req.header("Accept");
  if (auto f = req.query.get("format"); f && !f->empty()) {
    std::string v(*f);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v == "json";
  }
  if (accept.empty()) return true;
  auto types = parse_accept(accept);
  if (!types) return false;
  for (const auto& t : *types) {
    if ((t.type == "*" || t.type == "application") && (t.subtype == "*" || t.subtype == "json"))
      return true;
  }
  return false;
}

Result<ListFormat> accept_best_match(std::string_view accept) {
  if (accept.empty()) return ListFormat::kPlain;
  auto types = parse_accept(accept);
  if (!types) return make_error(ErrorCode::kInvalidArgument, "Invalid Accept header");
  for (const auto& t : *types) {
    for (const auto& o : kFormatOptions) {
      if ((t.type == "*" || t.type == o.type) && (t.subtype == "*" || t.subtype == o.subtype)) {
        return o.format;
      }
    }
  }
  return make_error(ErrorCode::kNotAcceptable, "");
}

const char* format_type(ListFormat f) {
  switch (f) {
    case ListFormat::kJson: return "application/json";
    case ListFormat::kXml: return "application/xml";
    case ListFormat::kTextXml: return "text/xml";
    case ListFormat::kPlain: return "text/plain";
  }
  return "text/plain";
}

const char* listing_content_type(ListFormat f) {
  switch (f) {
    case ListFormat::kJson: return "application/json; charset=utf-8";
    case ListFormat::kXml: return "application/xml; charset=utf-8";
    case ListFormat::kTextXml: return "text/xml; charset=utf-8";
    case ListFormat::kPlain: return "text/plain; charset=utf-8";
  }
  return "text/plain; charset=utf-8";
}

void listing_headers(const http::Request& req, ListFormat f, Response& res) {
  res.headers.set(bhttp::field::content_type, listing_content_type(f));
  // listing_formats adds Vary: Accept to 200 and 204 answers unless the
  // format came from the query; object versioning's ?versions listings go
  // without it.
  const auto code = static_cast<unsigned>(res.status);
  if (!req.query.has("format") && !req.query.has("versions") && (code == 200 || code == 204)) {
    res.headers.set(bhttp::field::vary, "Accept");
  }
}

Result<store::ListQuery> listing_query(const http::Request& req, size_t max_limit) {
  store::ListQuery q;
  q.limit = max_limit;
  // swift/common/request_helpers.py validate_container_params: these must
  // be UTF-8 (NUL is fine), in this order; other parameters are not read.
  for (const char* name :
       {"marker", "end_marker", "prefix", "delimiter", "path", "format", "reverse", "limit"}) {
    if (auto v = req.query.get(name); v && !valid_utf8(*v)) {
      return make_plain_error(ErrorCode::kInvalidArgument,
                              "\"" + std::string(name) + "\" parameter not valid UTF-8");
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
  // Swift 2.30 groups by a delimiter of any length
  // (swift/container/backend.py list_objects_iter).
  if (auto v = req.query.get("delimiter")) q.delimiter = std::string(*v);
  if (auto v = req.query.get("path")) q.path = std::string(*v);
  if (auto v = req.query.get("reverse")) {
    std::string r(*v);
    for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    q.reverse = r == "true" || r == "1" || r == "yes" || r == "on" || r == "t" || r == "y";
  }
  return q;
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

namespace {

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

bool is_xml(ListFormat f) { return f == ListFormat::kXml || f == ListFormat::kTextXml; }

}  // namespace

// swift/account/utils.py account_listing_response and listing_formats.py:
// each container as {"name", "count", "bytes", "last_modified"}; in XML,
// one element per line between the account's tags.
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
    out.push_back('[');
    for (const auto& e : items) {
      if (out.size() > 1) out += ", ";
      if (!e.subdir.empty()) {
        out += "{\"subdir\": ";
        append_py_json_string(out, e.subdir);
        out.push_back('}');
        continue;
      }
      const auto& c = e.container;
      out += "{\"name\": ";
      append_py_json_string(out, c.name);
      out += ", \"count\": " + std::to_string(c.object_count) +
             ", \"bytes\": " + std::to_string(c.bytes_used) + ", \"last_modified\": \"";
      out += iso_timestamp(c.put_us);
      out += "\"}";
    }
    out.push_back(']');
    return out;
  }
  out = kXmlDeclaration;
  out += "<account name=\"";
  append_xml_attr(out, account);
  out += "\">\n";
  for (const auto& e : items) {
    if (!e.subdir.empty()) {
      out += "<subdir name=\"";
      append_xml_attr(out, e.subdir);
      out += "\" />\n";
      continue;
    }
    const auto& c = e.container;
    out += "<container><name>";
    append_xml_text(out, c.name);
    out += "</name><count>" + std::to_string(c.object_count) + "</count><bytes>" +
           std::to_string(c.bytes_used) + "</bytes><last_modified>" + iso_timestamp(c.put_us) +
           "</last_modified></container>\n";
  }
  out += "</account>";
  return out;
}

ObjectListingWriter::ObjectListingWriter(ListFormat f, std::string_view account,
                                         std::string_view container, size_t expected_rows)
    : format_(f), account_(account), container_(container) {
  // About what a row of JSON or XML takes with a short name; a body this
  // large is mapped fresh, so pages reserved but not written cost nothing,
  // and growing it would copy it.
  out_.reserve(64 + expected_rows * (f == ListFormat::kPlain ? 32 : 200));
  if (f == ListFormat::kJson) {
    out_.push_back('[');
  } else if (is_xml(f)) {
    out_ = kXmlDeclaration;
    out_ += "<container name=\"";
    append_xml_attr(out_, container);
    out_ += "\"";
  }
}

namespace {

bool rfc_token_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f &&
         std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// One match of utils._rfc_extension_pattern at `i`:
//   \s*;\s*(token)\s*(?:=\s*(token|"quoted"))?
// Returns the end of the match, or npos.
size_t match_param(std::string_view s, size_t i, std::string_view* key, std::string_view* value) {
  while (i < s.size() && space(s[i])) ++i;
  if (i >= s.size() || s[i] != ';') return std::string_view::npos;
  ++i;
  while (i < s.size() && space(s[i])) ++i;
  size_t k = i;
  while (i < s.size() && rfc_token_char(s[i])) ++i;
  if (i == k) return std::string_view::npos;
  *key = s.substr(k, i - k);
  *value = {};
  size_t after_key = i;
  while (i < s.size() && space(s[i])) ++i;
  if (i >= s.size() || s[i] != '=') return i;
  size_t j = i + 1;
  while (j < s.size() && space(s[j])) ++j;
  size_t v = j;
  if (j < s.size() && s[j] == '"') {
    ++j;
    while (j < s.size() && s[j] != '"') j += s[j] == '\\' && j + 1 < s.size() ? 2 : 1;
    if (j >= s.size()) return i;  // unterminated: the value group does not match
    *value = s.substr(v, j + 1 - v);
    return j + 1;
  }
  while (j < s.size() && rfc_token_char(s[j])) ++j;
  if (j == v) return i;
  (void)after_key;
  *value = s.substr(v, j - v);
  return j;
}

}  // namespace

std::string listed_content_type(std::string_view ct) {
  size_t semi = ct.find(';');
  if (semi == std::string_view::npos) return std::string(ct);
  // utils.extract_swift_bytes: the type, then each parameter the pattern
  // finds re-joined as ";key=value" (spaces gone), swift_bytes dropped.
  std::string out(ct.substr(0, semi));
  std::string_view rest = ct.substr(semi);
  size_t i = 0;
  while (i < rest.size()) {
    std::string_view key, value;
    size_t end = match_param(rest, i, &key, &value);
    if (end == std::string_view::npos) {
      ++i;
      continue;
    }
    if (key != "swift_bytes") {
      out += ";";
      out += key;
      out += "=";
      out += value;
    }
    i = end;
  }
  return out;
}

// swift/container/server.py update_data_record: {"bytes", "hash", "name",
// "content_type", "last_modified"}, then what the symlink middleware adds.
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
    if (count_ > 1) out_ += ", ";
    if (!o.subdir.empty()) {
      out_ += "{\"subdir\": ";
      append_py_json_string(out_, o.subdir);
      out_.push_back('}');
      return;
    }
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, o.size);
    out_ += "{\"bytes\": ";
    out_.append(digits, end);
    out_ += ", \"hash\": ";
    append_py_json_string(out_, o.etag);
    out_ += ", \"name\": ";
    append_py_json_string(out_, o.name);
    out_ += ", \"content_type\": ";
    if (o.content_type.find(';') == std::string::npos) {
      append_py_json_string(out_, o.content_type);
    } else {
      append_py_json_string(out_, listed_content_type(o.content_type));
    }
    out_ += ", \"last_modified\": \"";
    append_iso_timestamp(out_, o.timestamp_us);
    out_ += "\"";
    if (!o.version_id.empty()) {
      // object_versioning.py shows a versioned object as the link to its
      // version that Swift keeps it as.
      out_ += ", \"symlink_path\": ";
      append_py_json_string(out_, py_quote("/v1/" + account_ + "/" + container_ + "/" + o.name) +
                                      "?version-id=" + o.version_id);
      out_ += ", \"version_symlink\": true";
    } else if (!o.symlink_target.empty()) {
      // symlink.py: a static link's target etag and size, then the path
      // as the link keeps its target, quoted.
      if (!o.symlink_etag.empty()) {
        out_ += ", \"symlink_etag\": ";
        append_py_json_string(out_, o.symlink_etag);
        out_ += ", \"symlink_bytes\": ";
        bool digits =
            !o.symlink_bytes.empty() && std::all_of(o.symlink_bytes.begin(), o.symlink_bytes.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
        out_ += digits ? std::string_view(o.symlink_bytes) : std::string_view("0");
      }
      const std::string& acct = o.symlink_account.empty() ? account_ : o.symlink_account;
      out_ += ", \"symlink_path\": ";
      append_py_json_string(out_, py_quote("/v1/" + acct + "/" + o.symlink_target));
    }
    out_.push_back('}');
    return;
  }
  if (count_ == 1) out_.push_back('>');
  if (!o.subdir.empty()) {
    out_ += "<subdir name=\"";
    append_xml_attr(out_, o.subdir);
    out_ += "\"><name>";
    append_xml_text(out_, o.subdir);
    out_ += "</name></subdir>";
    return;
  }
  out_ += "<object><name>";
  append_xml_text(out_, o.name);
  out_ += "</name><hash>";
  append_xml_text(out_, o.etag);
  out_ += "</hash><bytes>" + std::to_string(o.size) + "</bytes><content_type>";
  append_xml_text(out_, listed_content_type(o.content_type));
  out_ += "</content_type><last_modified>";
  append_iso_timestamp(out_, o.timestamp_us);
  out_ += "</last_modified></object>";
}

std::string ObjectListingWriter::finish() {
  if (format_ == ListFormat::kJson) {
    out_.push_back(']');
  } else if (is_xml(format_)) {
    // ElementTree writes an element without children as <container ... />.
    out_ += count_ == 0 ? " />" : "</container>";
  }
  return std::move(out_);
}

}  // namespace onestack::object::api
