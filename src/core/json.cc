#include "core/json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace onestack {

namespace json = boost::json;

Result<json::value> parse_json(std::string_view text, unsigned max_depth) {
  json::parse_options opts;
  opts.max_depth = max_depth;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return make_error(ErrorCode::kInvalidArgument, "malformed JSON: " + ec.message());
  return v;
}

Result<json::object> parse_json_object(std::string_view text, unsigned max_depth) {
  auto v = parse_json(text, max_depth);
  if (!v.ok()) return std::move(v).error();
  if (!v->is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "the request body must be a JSON object");
  }
  return std::move(v->as_object());
}

Result<std::optional<std::string>> get_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::optional<std::string>{};
  if (!it->value().is_string()) {
    return make_error(ErrorCode::kInvalidArgument, "'" + std::string(key) + "' must be a string");
  }
  return std::optional<std::string>(std::string(it->value().as_string()));
}

Result<std::optional<bool>> get_bool(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::optional<bool>{};
  if (!it->value().is_bool()) {
    return make_error(ErrorCode::kInvalidArgument, "'" + std::string(key) + "' must be a boolean");
  }
  return std::optional<bool>(it->value().as_bool());
}

Result<const json::object*> get_object(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return static_cast<const json::object*>(nullptr);
  if (!it->value().is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "'" + std::string(key) + "' must be an object");
  }
  return &it->value().as_object();
}

std::string to_json(const json::value& v) { return json::serialize(v); }

}  // namespace onestack
