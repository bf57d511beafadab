// The bytes Swift's Python writes: json.dumps with its defaults (", " and
// ": " separators, every non-ASCII character as \uXXXX) and ElementTree's
// escaping. Swift's bodies are compared byte for byte by clients that hash
// or diff them, so listings, bulk and SLO answers use these, not a generic
// JSON writer.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace onestack::object::api {

// Appends `s` (UTF-8; invalid bytes pass as U+FFFD) as json.dumps writes a
// str: quotes, "\\", \n \r \t \b \f short escapes, other controls, DEL and
// everything past ASCII as \u00e9 (UTF-16 surrogate pairs past U+FFFF).
void append_py_json_string(std::string& out, std::string_view s);
// json.dumps(v): objects in their insertion order.
std::string py_json(const boost::json::value& v);
void append_py_json(std::string& out, const boost::json::value& v);

// ElementTree's escaping of element text (& < >) and of attribute values
// (also ", and \n \r \t as character references).
void append_xml_text(std::string& out, std::string_view s);
void append_xml_attr(std::string& out, std::string_view s);

// urllib.parse.unquote over bytes: each valid %XX becomes its byte, a "%"
// not followed by two hex digits stays as it is. Never fails.
std::string py_unquote(std::string_view s);

}  // namespace onestack::object::api
