// Account and container listings as Swift renders them: the query
// parameters, the three formats (plain, JSON, XML) and their content types.
#pragma once

#include <string>
#include <vector>

#include "core/http/request.h"
#include "core/http/response.h"
#include "core/result.h"
#include "store/object_store.h"

namespace onestack::object::api {

// The four types a listing comes in (listing_formats.py): text/plain,
// application/json, application/xml and text/xml (the same XML).
enum class ListFormat { kPlain, kJson, kXml, kTextXml };

// Swift's get_listing_content_type: ?format= (json, xml; any other value is
// plain) stands for the Accept header; otherwise the Accept header's best
// match among the four types, by quality then exactness, text/plain when it
// is absent. kInvalidArgument ("Invalid Accept header") for a malformed one,
// kNotAcceptable when it accepts none of them.
Result<ListFormat> listing_format(const http::Request& req);
// Whether a listing only JSON can answer (object versioning's ?versions)
// may be sent: swob's Accept.best_match(["application/json"]) on the Accept
// header, or on the type ?format= stands for.
bool accepts_json(const http::Request& req);
// swob's Accept.best_match over the four types (bulk.py's ACCEPTABLE_FORMATS
// too): text/plain for an absent header, kInvalidArgument for a malformed
// one, kNotAcceptable when it accepts none of them.
Result<ListFormat> accept_best_match(std::string_view accept);
// "text/plain", "application/json", "application/xml" or "text/xml".
const char* format_type(ListFormat f);
const char* listing_content_type(ListFormat f);
// The Content-Type of `f`, and Vary: Accept on a 200 or 204 when the
// request did not name its format in the query (listing_formats.py).
// Call after setting res.status.
void listing_headers(const http::Request& req, ListFormat f, http::Response& res);

// The listing parameters: limit (412 above `max_limit`; ignored unless
// digits), marker, end_marker, prefix, delimiter (any length), path,
// reverse. Values must be UTF-8 without NUL (412).
Result<store::ListQuery> listing_query(const http::Request& req, size_t max_limit);

// An object's Content-Type as its container lists it: parameters re-joined
// without spaces and swift_bytes left out (utils.extract_swift_bytes).
std::string listed_content_type(std::string_view content_type);

std::string render_containers(ListFormat f, const std::string& account,
                              const std::vector<store::ContainerListEntry>& items);

// Renders an object listing item by item as the store streams it
// (ObjectStore::scan_objects), so a page costs its body and nothing per row.
class ObjectListingWriter {
 public:
  // `account` names a symlink's target when its row gives none; `account`
  // and `container` name a versioned object's version link.
  // `expected_rows` sizes the body once (a guess; it may be exceeded).
  ObjectListingWriter(ListFormat f, std::string_view account, std::string_view container,
                      size_t expected_rows = 0);
  void add(const store::ObjectListRow& row);
  size_t count() const { return count_; }
  // The whole body; the writer is spent.
  std::string finish();

 private:
  ListFormat format_;
  std::string account_;
  std::string container_;
  std::string out_;
  size_t count_ = 0;
};

// XML-escapes `s` (&, <, >, ", ').
std::string xml_escape(std::string_view s);
void append_xml_escaped(std::string& out, std::string_view s);

}  // namespace onestack::object::api
