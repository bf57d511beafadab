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
std::string render_objects(ListFormat f, const std::string& container,
                           const std::vector<store::ObjectListEntry>& items);

// Appends `s` to `out` as a JSON string (quotes, backslashes and control
// characters escaped; UTF-8 passes through, names are valid UTF-8).
void append_json_string(std::string& out, std::string_view s);

// XML-escapes `s` (&, <, >, ", ').
std::string xml_escape(std::string_view s);

}  // namespace onestack::object::api
