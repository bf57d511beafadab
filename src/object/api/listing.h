// Account and container listings as Swift renders them: the query
// parameters, the three formats (plain, JSON, XML) and their content types.
#pragma once

#include <string>
#include <vector>

#include "core/http/request.h"
#include "core/result.h"
#include "store/object_store.h"

namespace onestack::object::api {

enum class ListFormat { kPlain, kJson, kXml };

// The format from ?format= (json, xml, plain; any case), else the Accept header,
// else plain. Swift answers 406 for an Accept it cannot satisfy; we fall
// back to plain as its listing_formats middleware does for "*/*".
ListFormat listing_format(const http::Request& req);
const char* listing_content_type(ListFormat f);

// The listing parameters: limit (412 above `max_limit`, 412 if not a
// number), marker, end_marker, prefix, delimiter (412 unless one
// character no greater than U+00FE), path, reverse. Values must be UTF-8
// without NUL (412).
Result<store::ListQuery> listing_query(const http::Request& req, size_t max_limit);

std::string render_containers(ListFormat f, const std::string& account,
                              const std::vector<store::ContainerListEntry>& items);

// Renders an object listing item by item as the store streams it
// (ObjectStore::scan_objects), so a page costs its body and nothing per row.
class ObjectListingWriter {
 public:
  // `account` names a symlink's target when its row gives none.
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
  std::string out_;
  size_t count_ = 0;
};

// Appends `s` to `out` as a JSON string (quotes, backslashes and control
// characters escaped; UTF-8 passes through, names are valid UTF-8).
void append_json_string(std::string& out, std::string_view s);

// XML-escapes `s` (&, <, >, ", ').
std::string xml_escape(std::string_view s);
void append_xml_escaped(std::string& out, std::string_view s);

}  // namespace onestack::object::api
