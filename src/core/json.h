// JSON parsing at the edge: boost::json throws and allocates without bound,
// so every body from a client goes through parse_json_object(), which bounds
// depth and size and turns failures into values.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace onestack {

// Parses `text` as a JSON object nested at most `max_depth` deep.
// kInvalidArgument with a short reason on malformed, non-object, invalid
// UTF-8 or too-deep input.
Result<boost::json::object> parse_json_object(std::string_view text, unsigned max_depth = 32);

// Parses any JSON value (used for stored documents we wrote ourselves).
Result<boost::json::value> parse_json(std::string_view text, unsigned max_depth = 64);

// Field access that never throws. Each returns nullopt when the key is absent
// and kInvalidArgument naming `key` when it has the wrong type.
Result<std::optional<std::string>> get_string(const boost::json::object& o, std::string_view key);
Result<std::optional<bool>> get_bool(const boost::json::object& o, std::string_view key);
Result<const boost::json::object*> get_object(const boost::json::object& o, std::string_view key);

// Serialises compactly.
std::string to_json(const boost::json::value& v);

}  // namespace onestack
