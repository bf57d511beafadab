// The answer of Swift's bulk-style requests (bulk delete, extract-archive,
// SLO manifest delete and heartbeat PUT): a dictionary of results and a list
// of the names that failed, rendered as bulk.py get_response_body renders
// them, in the format the Accept header picks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/request.h"
#include "core/http/response.h"
#include "object/api/heartbeat.h"

namespace onestack::object::api {

// "404 Not Found": a status with swob's title for it.
std::string status_line(unsigned code);

// swob's Accept.best_match over bulk.py's ACCEPTABLE_FORMATS; "" when the
// header is malformed or accepts none of them, text/plain when absent.
std::string bulk_format(std::string_view accept);

struct BulkOutcome {
  // One result: a count or a string.
  struct Field {
    std::string key;
    std::string text;
    std::optional<uint64_t> number;
  };
  std::vector<Field> fields;  // in the order Swift builds its dictionary
  std::vector<std::pair<std::string, std::string>> failed;  // (quoted name, status or reason)

  // The Response Status and Response Body fields (the first two).
  void set_status(unsigned code, std::string body);
  uint64_t& count(std::string_view key);
};

// bulk.py's dictionaries as each operation starts them.
BulkOutcome delete_outcome();   // 200 OK, Number Deleted, Number Not Found
BulkOutcome extract_outcome();  // 201 Created, Number Files Created

// get_response_body: JSON (keys in order, then Errors), XML under `root`
// (keys sorted, no declaration), else text ("Key: value" sorted, then
// "Errors:" and one "name, status" line per failure).
std::string render_outcome(const std::string& format, BulkOutcome out, std::string_view root);

// The answer at once with `body` chunked, typed `format` (swob's default
// type when it is ""); `status` 200, or 202 for a heartbeat SLO PUT.
http::Response bulk_response(const http::Request& req, const std::string& format,
                             std::shared_ptr<http::BodySource> body,
                             boost::beast::http::status status = boost::beast::http::status::ok);

// The heartbeat of a bulk answer: " ", or first the XML declaration for XML.
HeartbeatOptions bulk_heartbeat(std::string_view format);

}  // namespace onestack::object::api
