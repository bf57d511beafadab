// FormPost (swift/common/middleware/formpost.py): browsers upload files
// straight into a container with an HTML form signed by the Temp-URL key.
//
// The multipart body is parsed as it streams in; each file part is handed to
// the ordinary object PUT as its body, so a file never sits in memory whole
// and gets every check a PUT gets (quotas, names, versioning). That PUT is
// authorized as a TempURL PUT for exactly the object being written, signed
// here with the key that verified the form: the form's signature is the only
// authority, as Swift's pre-authorized subrequest.
#include <cctype>
#include <charconv>
#include <cstring>
#include <map>

#include "object/api/features.h"
#include "object/api/middleware.h"

namespace onestack::object::api {

namespace {

constexpr size_t kReadChunk = 64 * 1024;       // body bytes read at a time
constexpr size_t kMaxHeaderBlock = 16 * 1024;  // one part's headers
constexpr size_t kMaxPreamble = 4096;          // blank lines before the first boundary
constexpr size_t kMaxValueLength = 4096;       // formpost.py MAX_VALUE_LENGTH

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Error invalid(std::string msg) { return make_error(ErrorCode::kInvalidArgument, std::move(msg)); }

}  // namespace

std::string parse_header_params(std::string_view header,
                                std::vector<std::pair<std::string, std::string>>* params) {
  size_t semi = header.find(';');
  std::string value = lower(trim(header.substr(0, semi)));
  size_t i = semi == std::string_view::npos ? header.size() : semi + 1;
  while (i < header.size()) {
    while (i < header.size() &&
           (std::isspace(static_cast<unsigned char>(header[i])) || header[i] == ';'))
      ++i;
    size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key = lower(trim(header.substr(i, eq - i)));
    i = eq + 1;
    std::string v;
    if (i < header.size() && header[i] == '"') {
      ++i;
      while (i < header.size() && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        v.push_back(header[i++]);
      }
      ++i;  // closing quote
      while (i < header.size() && header[i] != ';') ++i;
    } else {
      size_t end = header.find(';', i);
      if (end == std::string_view::npos) end = header.size();
      v = std::string(trim(header.substr(i, end - i)));
      i = end;
    }
    if (!key.empty()) params->emplace_back(std::move(key), std::move(v));
  }
  return value;
}

MultipartReader::MultipartReader(http::BodyReader& body, std::string boundary)
    : body_(body), delim_("\r\n--" + boundary), buf_("\r\n") {}

boost::asio::awaitable<Status> MultipartReader::fill() {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  size_t have = buf_.size();
  buf_.resize(have + kReadChunk);
  auto n = co_await body_.read(buf_.data() + have, kReadChunk);
  if (!n.ok()) {
    buf_.resize(have);
    co_return n.error();
  }
  buf_.resize(have + *n);
  if (*n == 0) eof_ = true;
  co_return Status{};
}

boost::asio::awaitable<Result<bool>> MultipartReader::next_part(PartHeaders* out) {
  if (finished_) co_return false;
  // Find the next delimiter, discarding what is left of the current part.
  for (;;) {
    size_t i = std::string_view(buf_).find(delim_, pos_);
    if (i != std::string::npos) {
      if (!started_ && std::string_view(buf_).substr(pos_, i - pos_).find_first_not_of("\r\n") !=
                           std::string_view::npos) {
        co_return invalid("invalid starting boundary");
      }
      pos_ = i + delim_.size();
      started_ = true;
      in_part_ = false;
      break;
    }
    if (eof_) co_return invalid(started_ ? "premature end of body" : "invalid starting boundary");
    // Only blank lines may come before the first boundary (bounded).
    if (!started_ && buf_.size() - pos_ > kMaxPreamble + delim_.size()) {
      co_return invalid("invalid starting boundary");
    }
    if (started_ && buf_.size() - pos_ > delim_.size()) pos_ = buf_.size() - (delim_.size() - 1);
    if (auto st = co_await fill(); !st.ok()) co_return st.error();
  }
  // The rest of the boundary line: "--" closes the body, else CRLF.
  for (;;) {
    std::string_view rest = std::string_view(buf_).substr(pos_);
    if (rest.rfind("--", 0) == 0) {
      finished_ = true;
      co_return false;
    }
    size_t crlf = rest.find("\r\n");
    if (crlf != std::string_view::npos) {
      if (!trim(rest.substr(0, crlf)).empty()) co_return invalid("malformed boundary line");
      pos_ += crlf;  // keep the CRLF: an empty header block is "\r\n\r\n"
      break;
    }
    if (eof_ || rest.size() > 1024) co_return invalid("malformed boundary line");
    if (auto st = co_await fill(); !st.ok()) co_return st.error();
  }
  // Headers up to the blank line.
  size_t end;
  for (;;) {
    end = std::string_view(buf_).find("\r\n\r\n", pos_);
    if (end != std::string::npos) break;
    if (eof_ || buf_.size() - pos_ > kMaxHeaderBlock) co_return invalid("malformed part headers");
    if (auto st = co_await fill(); !st.ok()) co_return st.error();
  }
  if (end - pos_ > kMaxHeaderBlock) co_return invalid("malformed part headers");
  *out = PartHeaders{};
  std::string_view block = std::string_view(buf_).substr(pos_ + 2, end - pos_ - 2 + 2);
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      std::vector<std::pair<std::string, std::string>> params;
      out->disposition = parse_header_params(value, &params);
      for (auto& [k, v] : params) {
        if (k == "name")
          out->name = v;
        else if (k == "filename")
          out->filename = v;
      }
    } else if (name == "content-type") {
      out->content_type = std::string(value);
    } else if (name == "content-encoding") {
      out->content_encoding = std::string(value);
    }
  }
  pos_ = end + 4;
  in_part_ = true;
  co_return true;
}

boost::asio::awaitable<Result<size_t>> MultipartReader::read(char* out, size_t len) {
  while (in_part_ && len > 0) {
    std::string_view window = std::string_view(buf_).substr(pos_);
    size_t i = window.find(delim_);
    size_t avail;
    if (i != std::string_view::npos) {
      avail = i;
      if (avail == 0) {
        in_part_ = false;
        co_return size_t{0};
      }
    } else {
      // Bytes that cannot be the start of a delimiter are safe to hand out.
      avail = window.size() >= delim_.size() ? window.size() - (delim_.size() - 1) : 0;
      if (avail == 0) {
        if (eof_) co_return invalid("premature end of body");
        if (auto st = co_await fill(); !st.ok()) co_return st.error();
        continue;
      }
    }
    size_t n = std::min(len, avail);
    std::memcpy(out, buf_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }
  co_return size_t{0};
}

namespace {

// A file part as a request body for the object PUT, cut off past
// max_file_size.
class PartBody final : public http::BodyReader {
 public:
  PartBody(MultipartReader& mr, uint64_t max) : mr_(mr), max_(max) {}
  boost::asio::awaitable<Result<size_t>> read(char* buf, size_t len) override {
    auto n = co_await mr_.read(buf, len);
    if (!n.ok()) co_return n.error();
    if (*n == 0) ended_ = true;
    total_ += *n;
    if (total_ > max_) {
      exceeded_ = true;
      co_return make_error(ErrorCode::kTooLarge, "max_file_size exceeded");
    }
    co_return *n;
  }
  std::optional<uint64_t> content_length() const override { return std::nullopt; }
  bool done() const override { return ended_; }
  bool exceeded() const { return exceeded_; }

 private:
  MultipartReader& mr_;
  uint64_t max_;
  uint64_t total_ = 0;
  bool ended_ = false;
  bool exceeded_ = false;
};

// Python's str.title().
std::string title(std::string_view s) {
  std::string out(s);
  bool prev_alpha = false;
  for (auto& c : out) {
    auto u = static_cast<unsigned char>(c);
    c = static_cast<char>(prev_alpha ? std::tolower(u) : std::toupper(u));
    prev_alpha = std::isalpha(u) != 0;
  }
  return out;
}

// Python's str.rstrip("\r\n-").
std::string rstrip_form(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == '-')) s.pop_back();
  return s;
}

bool parse_int_attr(const std::map<std::string, std::string>& attrs, const std::string& key,
                    int64_t* out) {
  auto it = attrs.find(key);
  std::string_view v = it == attrs.end() ? std::string_view{} : trim(it->second);
  if (v.empty()) {
    *out = 0;
    return true;
  }
  if (v.front() == '+') v.remove_prefix(1);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size();
}

std::string attr(const std::map<std::string, std::string>& attrs, const std::string& key) {
  auto it = attrs.find(key);
  return it == attrs.end() ? std::string() : it->second;
}

// Failures that end the form: FormInvalid / EOFError → 400 text,
// FormUnauthorized → 401.
struct FormError {
  bool unauthorized = false;
  std::string message;
};

Response form_error(const Request& req, const FormError& e) {
  Response r;
  if (e.unauthorized) {
    r.status = bhttp::status::unauthorized;
    r.body = "FormPost: " + title(e.message);
    r.headers.set(bhttp::field::content_type, "text/html; charset=UTF-8");
  } else {
    r.status = bhttp::status::bad_request;
    r.body = "FormPost: " + e.message;
    r.headers.set(bhttp::field::content_type, "text/plain");
  }
  add_trans_id(req, r);
  return r;
}

struct FileResult {
  std::optional<FormError> error;  // ends the whole form
  unsigned status = 0;
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> cors_headers;
};

// formpost.py _perform_subrequest: checks the form's limits and signature,
// then PUTs the part as <path>/<filename>.
awaitable<FileResult> upload_file(Env env, const Request& req, Target t,
                                  std::map<std::string, std::string> attrs,
                                  std::vector<std::string> keys, MultipartReader& mr) {
  FileResult out;
  if (keys.empty()) {
    out.error = FormError{true, "invalid signature"};
    co_return out;
  }
  int64_t max_file_size = 0, expires = 0, delete_at = 0, delete_after = 0;
  if (!parse_int_attr(attrs, "max_file_size", &max_file_size)) {
    out.error = FormError{false, "max_file_size not an integer"};
    co_return out;
  }
  bool has_delete_at = attrs.count("x_delete_at") > 0;
  bool has_delete_after = attrs.count("x_delete_after") > 0;
  if (has_delete_at &&
      (!parse_int_attr(attrs, "x_delete_at", &delete_at) || attr(attrs, "x_delete_at").empty())) {
    out.error = FormError{false, "x_delete_at not an integer: Unix timestamp required."};
    co_return out;
  }
  if (has_delete_after && (!parse_int_attr(attrs, "x_delete_after", &delete_after) ||
                           attr(attrs, "x_delete_after").empty())) {
    out.error = FormError{false, "x_delete_after not an integer: Number of seconds required."};
    co_return out;
  }
  if (!parse_int_attr(attrs, "expires", &expires)) {
    out.error = FormError{false, "expired not an integer"};
    co_return out;
  }
  if (expires < env.svc->clock().now_unix()) {
    out.error = FormError{true, "form expired"};
    co_return out;
  }
  // The signed path is the request's path as sent (decoded, trailing slash
  // and all), like Swift's PATH_INFO.
  std::string path;
  if (!http::percent_decode(req.path, &path)) path = req.path;
  std::string body = path + "\n" + attr(attrs, "redirect") + "\n" +
                     (attr(attrs, "max_file_size").empty() ? "0" : attr(attrs, "max_file_size")) +
                     "\n" +
                     (attr(attrs, "max_file_count").empty() ? "0" : attr(attrs, "max_file_count")) +
                     "\n" + (attr(attrs, "expires").empty() ? "0" : attr(attrs, "expires"));
  auto sig = parse_signature(attr(attrs, "signature"));
  const std::string* good_key = nullptr;
  if (sig) {
    for (const auto& k : keys) {
      if (signature_matches(*sig, k, body)) good_key = &k;
    }
  }
  if (!good_key) {
    out.error = FormError{true, "invalid signature"};
    co_return out;
  }

  Target dst = t;
  dst.object = t.object + attrs["filename"];
  Request sub;
  sub.method = bhttp::verb::put;
  sub.method_name = "PUT";
  sub.path =
      "/v1/" + py_quote(dst.account) + "/" + py_quote(dst.container) + "/" + py_quote(dst.object);
  sub.target = sub.path;
  sub.path_params = {dst.account, dst.container, dst.object};
  sub.request_id = req.request_id;
  sub.remote = req.remote;
  sub.secure = req.secure;
  sub.headers.set(bhttp::field::transfer_encoding, "chunked");
  if (attrs.count("content-type")) {
    std::string ct = attrs["content-type"];
    sub.headers.set(bhttp::field::content_type, ct.empty() ? "application/octet-stream" : ct);
  }
  if (attrs.count("content-encoding"))
    sub.headers.set(bhttp::field::content_encoding, attrs["content-encoding"]);
  if (has_delete_at) sub.headers.set("X-Delete-At", std::to_string(delete_at));
  if (has_delete_after) sub.headers.set("X-Delete-After", std::to_string(delete_after));
  // The PUT carries a TempURL for exactly this object, made with the key
  // that verified the form.
  std::string obj_path = "/v1/" + dst.account + "/" + dst.container + "/" + dst.object;
  sub.query.add("temp_url_sig",
                hmac_hex(Digest::kSha256, *good_key, tempurl_message("PUT", expires, obj_path, "")),
                true);
  sub.query.add("temp_url_expires", std::to_string(expires), true);
  PartBody part(mr, static_cast<uint64_t>(std::max<int64_t>(max_file_size, 0)));
  sub.body_reader = &part;
  Response res = co_await object_put(env, sub);
  if (part.exceeded()) {
    out.error = FormError{false, "max_file_size exceeded"};
    co_return out;
  }
  out.status = static_cast<unsigned>(res.status);
  out.status_line =
      std::to_string(out.status) + " " + std::string(bhttp::obsolete_reason(res.status));
  for (const auto& f : res.headers) {
    if (lower(f.name_string()).rfind("access-control", 0) == 0) {
      out.cors_headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
  }
  co_return out;
}

}  // namespace

bool is_formpost(const Request& req) {
  // formpost.py: any POST whose Content-Type is multipart/form-data with a
  // boundary, token or not (Tempest's form posts carry one).
  if (req.method != bhttp::verb::post) return false;
  std::vector<std::pair<std::string, std::string>> params;
  if (parse_header_params(req.header("Content-Type"), &params) != "multipart/form-data")
    return false;
  for (const auto& [k, v] : params) {
    if (k == "boundary") return true;
  }
  return false;
}

awaitable<Response> formpost(Env env, Request& req) {
  Target t = target_of(req);
  std::vector<std::pair<std::string, std::string>> params;
  parse_header_params(req.header("Content-Type"), &params);
  std::string boundary;
  for (const auto& [k, v] : params) {
    if (k == "boundary") boundary = v;
  }
  auto rows = co_await load_rows(
      env, t, static_cast<int>(Want::kAccount) | static_cast<int>(Want::kContainer));
  ONESTACK_SWIFT_TRY(req, rows);
  std::vector<std::string> keys;
  for (const char* k : {"x-account-meta-temp-url-key", "x-account-meta-temp-url-key-2"}) {
    if (rows->account) {
      auto it = rows->account->meta.find(k);
      if (it != rows->account->meta.end() && !it->second.empty()) keys.push_back(it->second);
    }
  }
  for (const char* k : {"x-container-meta-temp-url-key", "x-container-meta-temp-url-key-2"}) {
    if (rows->container) {
      auto it = rows->container->meta.find(k);
      if (it != rows->container->meta.end() && !it->second.empty()) keys.push_back(it->second);
    }
  }

  MultipartReader mr(*req.body_reader, boundary);
  std::map<std::string, std::string> attrs;
  int64_t file_count = 0;
  std::string status_line, message;
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> cors_headers;
  for (;;) {
    MultipartReader::PartHeaders h;
    auto more = co_await mr.next_part(&h);
    if (!more.ok()) {
      if (more.error().code != ErrorCode::kInvalidArgument) co_return error_for(req, more.error());
      co_return form_error(req, FormError{false, more.error().message});
    }
    if (!*more) break;
    if (h.disposition == "form-data" && h.filename && !h.filename->empty()) {
      ++file_count;
      int64_t max_count = 0;
      if (!parse_int_attr(attrs, "max_file_count", &max_count)) {
        co_return form_error(req, FormError{false, "max_file_count not an integer"});
      }
      if (file_count > max_count) {
        status = 400;
        status_line = "400 Bad Request";
        message = "max file count exceeded";
        break;
      }
      auto file_attrs = attrs;
      file_attrs["filename"] = *h.filename;
      if (!attrs.count("content-type") && !h.content_type.empty())
        file_attrs["content-type"] = h.content_type;
      if (!attrs.count("content-encoding") && !h.content_encoding.empty()) {
        file_attrs["content-encoding"] = h.content_encoding;
      }
      auto r = co_await upload_file(env, req, t, std::move(file_attrs), keys, mr);
      if (r.error) co_return form_error(req, *r.error);
      status = r.status;
      status_line = r.status_line;
      cors_headers = r.cors_headers;
      if (status / 100 != 2) break;
    } else {
      std::string data;
      char buf[4096];
      for (;;) {
        auto n = co_await mr.read(buf, sizeof buf);
        if (!n.ok()) {
          if (n.error().code != ErrorCode::kInvalidArgument) co_return error_for(req, n.error());
          co_return form_error(req, FormError{false, n.error().message});
        }
        if (*n == 0) break;
        size_t keep = std::min(*n, kMaxValueLength - std::min(kMaxValueLength, data.size()));
        data.append(buf, keep);
      }
      if (!h.name.empty()) attrs[lower(h.name)] = rstrip_form(std::move(data));
    }
  }
  if (status == 0) {
    status = 400;
    status_line = "400 Bad Request";
    message = "no files to process";
  }

  Response res;
  for (const auto& [k, v] : cors_headers) res.headers.set(k, v);
  std::string redirect = attr(attrs, "redirect");
  if (redirect.empty()) {
    res.status = static_cast<bhttp::status>(status);
    res.body = status_line;
    if (!message.empty()) res.body += "\r\nFormPost: " + title(message);
    res.headers.set(bhttp::field::content_type, "text/plain");
    add_trans_id(req, res);
    co_return res;
  }
  redirect += redirect.find('?') == std::string::npos ? "?" : "&";
  redirect += "status=" + std::to_string(status) + "&message=" + py_quote(message);
  res.status = bhttp::status::see_other;
  res.headers.set(bhttp::field::location, redirect);
  // formpost.py's 303 names no Content-Type.
  res.body =
      "<html><body><p><a href=\"" + redirect + "\">Click to continue...</a></p></body></html>";
  add_trans_id(req, res);
  co_return res;
}

}  // namespace onestack::object::api
