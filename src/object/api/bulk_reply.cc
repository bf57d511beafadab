#include "object/api/bulk_reply.h"

#include <algorithm>
#include <boost/json.hpp>

#include "object/api/common.h"
#include "object/api/listing.h"
#include "object/api/py_format.h"

namespace onestack::object::api {

namespace {

bool is_xml(std::string_view format) {
  return format.size() >= 4 && format.substr(format.size() - 4) == "/xml";
}

}  // namespace

std::string status_line(unsigned code) {
  auto reason = swob_reason(code);
  return std::to_string(code) + " " +
         (reason ? std::string(reason->title)
                 : std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(code))));
}

std::string bulk_format(std::string_view accept) {
  auto f = accept_best_match(accept);
  return f.ok() ? format_type(*f) : "";
}

void BulkOutcome::set_status(unsigned code, std::string body) {
  fields[0].text = status_line(code);
  fields[1].text = std::move(body);
}

uint64_t& BulkOutcome::count(std::string_view key) {
  for (auto& f : fields) {
    if (f.key == key && f.number) return *f.number;
  }
  fields.push_back({std::string(key), "", 0});
  return *fields.back().number;
}

BulkOutcome delete_outcome() {
  BulkOutcome o;
  o.fields = {{"Response Status", "200 OK", std::nullopt},
              {"Response Body", "", std::nullopt},
              {"Number Deleted", "", 0},
              {"Number Not Found", "", 0}};
  return o;
}

BulkOutcome extract_outcome() {
  BulkOutcome o;
  o.fields = {{"Response Status", "201 Created", std::nullopt},
              {"Response Body", "", std::nullopt},
              {"Number Files Created", "", 0}};
  return o;
}

std::string render_outcome(const std::string& format, BulkOutcome out, std::string_view root) {
  if (format == "application/json") {
    boost::json::object o;
    for (const auto& f : out.fields) {
      if (f.number)
        o[f.key] = *f.number;
      else
        o[f.key] = f.text;
    }
    boost::json::array errs;
    for (const auto& [name, status] : out.failed) errs.push_back(boost::json::array{name, status});
    o["Errors"] = std::move(errs);
    return py_json(o);
  }
  auto& fields = out.fields;
  std::stable_sort(fields.begin(), fields.end(),
                   [](const auto& a, const auto& b) { return a.key < b.key; });
  auto value = [](const BulkOutcome::Field& f) {
    return f.number ? std::to_string(*f.number) : f.text;
  };
  std::string text;
  if (is_xml(format)) {
    text = "<" + std::string(root) + ">\n";
    for (const auto& f : fields) {
      std::string key;
      for (char c : f.key)
        key.push_back(c == ' ' ? '_'
                               : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      text += "<" + key + ">";
      append_xml_text(text, value(f));
      text += "</" + key + ">\n";
    }
    text += "<errors>\n";
    for (const auto& [name, status] : out.failed) {
      text += "<object><name>";
      append_xml_text(text, name);
      text += "</name><status>";
      append_xml_text(text, status);
      text += "</status></object>\n";
    }
    return text + "</errors>\n</" + std::string(root) + ">\n";
  }
  for (const auto& f : fields) text += f.key + ": " + value(f) + "\n";
  text += "Errors:\n";
  for (const auto& [name, status] : out.failed) text += name + ", " + status + "\n";
  return text;
}

http::Response bulk_response(const http::Request& req, const std::string& format,
                             std::shared_ptr<http::BodySource> body, bhttp::status status) {
  http::Response r;
  r.status = status;
  r.headers.set(bhttp::field::content_type, format.empty() ? "text/html; charset=UTF-8" : format);
  r.stream = std::move(body);
  add_trans_id(req, r);
  return r;
}

HeartbeatOptions bulk_heartbeat(std::string_view format) {
  HeartbeatOptions o;
  if (is_xml(format)) o.first_beat = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  return o;
}

}  // namespace onestack::object::api
