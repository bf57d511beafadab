// Bulk operations (swift/common/middleware/bulk.py): PUT ?extract-archive
// unpacks a tar (optionally gzip or bzip2) into objects, creating containers
// on the way; POST/DELETE ?bulk-delete deletes a list of objects and
// containers. Every object and container is handled by the ordinary route
// for it, with the caller's own identity, so each item is authorized on its
// own exactly as a single request would be. Like Swift, the answer is always
// 200 and its body (text, JSON or XML by Accept) tells what happened.
//
// Extraction streams: libarchive pulls the request body through a read
// callback, which cannot wait on a coroutine, so it runs on a thread of its
// own and trades bytes with the handler one step at a time (see
// ArchiveStream). Each regular file becomes the body of an object PUT; no
// entry is ever held whole in memory.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "core/json.h"
#include "object/api/features.h"
#include "object/api/middleware.h"

namespace onestack::object::api {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string status_line(unsigned code) {
  return std::to_string(code) + " " +
         std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(code)));
}

// swob's Accept.best_match over bulk.py's ACCEPTABLE_FORMATS; "" when the
// client accepts none of them.
std::string best_format(std::string_view accept) {
  static const char* kFormats[] = {"text/plain", "application/json", "application/xml", "text/xml"};
  if (accept.empty()) return "text/plain";
  struct Entry {
    std::string type;
    double q;
  };
  std::vector<Entry> entries;
  size_t i = 0;
  while (i <= accept.size()) {
    size_t j = accept.find(',', i);
    if (j == std::string_view::npos) j = accept.size();
    std::vector<std::pair<std::string, std::string>> params;
    std::string type = parse_header_params(accept.substr(i, j - i), &params);
    double q = 1;
    for (const auto& [k, v] : params) {
      if (k == "q") q = std::atof(v.c_str());
    }
    if (!type.empty() && q > 0) entries.push_back({type, q});
    i = j + 1;
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.q > b.q; });
  for (const auto& e : entries) {
    for (const char* f : kFormats) {
      std::string_view fv = f;
      if (e.type == "*/*" || e.type == fv ||
          (e.type.size() > 2 && e.type.substr(e.type.size() - 2) == "/*" &&
           fv.rfind(e.type.substr(0, e.type.size() - 1), 0) == 0)) {
        return f;
      }
    }
  }
  return "";
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out.push_back(c);
  }
  return out;
}

// One result value: a count or a string.
struct Field {
  std::string key;
  std::string text;
  std::optional<uint64_t> number;
};
using Failures = std::vector<std::pair<std::string, std::string>>;

// bulk.py get_response_body: JSON (keys in Swift's order, then Errors), XML
// (sorted keys), else text ("Key: value" sorted, then "Errors:").
std::string render(const std::string& format, std::vector<Field> fields, const Failures& errors,
                   std::string_view root) {
  if (format == "application/json") {
    boost::json::object o;
    for (const auto& f : fields) {
      if (f.number) o[f.key] = *f.number;
      else o[f.key] = f.text;
    }
    boost::json::array errs;
    for (const auto& [name, status] : errors) errs.push_back(boost::json::array{name, status});
    o["Errors"] = std::move(errs);
    return to_json(o);
  }
  std::sort(fields.begin(), fields.end(), [](const Field& a, const Field& b) { return a.key < b.key; });
  auto value = [](const Field& f) { return f.number ? std::to_string(*f.number) : f.text; };
  if (format.size() >= 4 && format.substr(format.size() - 4) == "/xml") {
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + std::string(root) + ">\n";
    for (const auto& f : fields) {
      std::string key = lower(f.key);
      std::replace(key.begin(), key.end(), ' ', '_');
      out += "<" + key + ">" + xml_escape(value(f)) + "</" + key + ">\n";
    }
    out += "<errors>\n";
    bool first = true;
    for (const auto& [name, status] : errors) {
      if (!first) out += "\n";
      first = false;
      out += "<object><name>" + xml_escape(name) + "</name><status>" + xml_escape(status) +
             "</status></object>";
    }
    out += "</errors>\n</" + std::string(root) + ">\n";
    return out;
  }
  std::string out;
  for (const auto& f : fields) out += f.key + ": " + value(f) + "\n";
  out += "Errors:\n";
  bool first = true;
  for (const auto& [name, status] : errors) {
    if (!first) out += "\n";
    first = false;
    out += name + ", " + status;
  }
  return out;
}

Response bulk_response(const Request& req, const std::string& format, std::string body) {
  Response r = Response::with_body(bhttp::status::ok, std::move(body),
                                   format.empty() ? "text/plain; charset=UTF-8" : format);
  add_trans_id(req, r);
  return r;
}

// A subrequest on behalf of `req`: same caller, same origin, another path.
Request subrequest(const Request& req, bhttp::verb method, std::vector<std::string> params) {
  Request sub;
  sub.method = method;
  sub.method_name = std::string(bhttp::to_string(method));
  sub.path = "/v1";
  for (const auto& p : params) sub.path += "/" + py_quote(p);
  sub.target = sub.path;
  sub.path_params = std::move(params);
  sub.request_id = req.request_id;
  sub.remote = req.remote;
  sub.secure = req.secure;
  sub.auth = req.auth;
  sub.auth_error = req.auth_error;
  if (req.has_header("X-Auth-Token")) sub.headers.set("X-Auth-Token", req.header("X-Auth-Token"));
  return sub;
}

bool has_length(const Request& req) {
  return (req.body_reader && req.body_reader->content_length()) ||
         lower(req.header("Transfer-Encoding")).find("chunked") != std::string::npos;
}

// swob's default bodies for the statuses bulk.py raises.
std::string default_body(unsigned code) {
  switch (code) {
    case 401:
      return "<html><h1>Unauthorized</h1><p>This server could not verify that you are "
             "authorized to access the document you requested.</p></html>";
    case 404: return "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>";
    case 406:
      return "<html><h1>Not Acceptable</h1><p>The server has no replies acceptable by the "
             "client.</p></html>";
    case 411: return "<html><h1>Length Required</h1><p>Length required.</p></html>";
    default: return "";
  }
}

}  // namespace

// ---------------------------------------------------------------- bulk delete

Status take_delete_lines(std::string& pending, bool eof, size_t max_count, size_t max_line,
                         std::vector<std::string>* out) {
  auto take = [&](std::string_view line) -> Status {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    if (line.empty()) return {};
    std::string decoded;
    // urllib.unquote leaves a bad escape as it is.
    if (!http::percent_decode(line, &decoded)) decoded = std::string(line);
    out->push_back(std::move(decoded));
    if (out->size() > max_count) {
      return make_error(ErrorCode::kTooLarge,
                        "Maximum Bulk Deletes: " + std::to_string(max_count) + " per request");
    }
    return {};
  };
  size_t start = 0;
  for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (auto st = take(std::string_view(pending).substr(start, nl - start)); !st.ok()) return st;
  }
  pending.erase(0, start);
  if (eof) {
    auto st = take(pending);
    pending.clear();
    return st;
  }
  if (pending.size() > max_line) return make_error(ErrorCode::kInvalidArgument, "Invalid File Name");
  return {};
}

bool split_delete_path(std::string_view line, std::string* container, std::string* object) {
  while (!line.empty() && line.front() == '/') line.remove_prefix(1);
  size_t slash = line.find('/');
  *container = std::string(line.substr(0, slash));
  *object = slash == std::string_view::npos ? "" : std::string(line.substr(slash + 1));
  return !container->empty();
}

awaitable<Response> bulk_delete(Env env, Request& req) {
  const Limits& limits = env.svc->limits();
  Target t = target_of(req);
  std::string format = best_format(req.header("Accept"));
  std::vector<Field> fields = {{"Response Status", "200 OK", std::nullopt},
                               {"Response Body", "", std::nullopt},
                               {"Number Deleted", "", 0},
                               {"Number Not Found", "", 0}};
  auto set_status = [&](unsigned code, std::string body) {
    fields[0].text = status_line(code);
    fields[1].text = std::move(body);
  };
  Failures failed;
  auto finish = [&]() { return bulk_response(req, format, render(format, fields, failed, "delete")); };
  if (format.empty()) {
    set_status(406, default_body(406));
    co_return finish();
  }
  std::string_view incoming = req.header("Content-Type");
  if (!incoming.empty() && incoming.rfind("text/plain", 0) != 0) {
    set_status(406, default_body(406));
    co_return finish();
  }
  if (!has_length(req)) {
    set_status(411, default_body(411));
    co_return finish();
  }
  // The list of names, read as it streams in (bounded by
  // max_deletes_per_request names of bounded length).
  const size_t max_path = limits.max_object_name_length + limits.max_container_name_length + 2;
  std::vector<std::string> names;
  std::string pending;
  std::string chunk(max_path, '\0');
  for (;;) {
    auto n = co_await req.body_reader->read(chunk.data(), chunk.size());
    if (!n.ok()) co_return error_for(req, n.error());
    pending.append(chunk.data(), *n);
    auto st = take_delete_lines(pending, *n == 0, limits.max_deletes_per_request, max_path * 2, &names);
    if (!st.ok()) {
      set_status(st.error().code == ErrorCode::kTooLarge ? 413 : 400, st.error().message);
      co_return finish();
    }
    if (*n == 0) break;
  }

  unsigned failure_type = 400;
  for (const auto& name : names) {
    if (failed.size() >= limits.max_failed_deletes) {
      set_status(400, "Max delete failures exceeded");
      co_return finish();
    }
    std::string container, object;
    std::string quoted = py_quote(name);
    if (!valid_utf8(name) || name.find('\0') != std::string::npos) {
      failed.emplace_back(quoted, status_line(412));
      continue;
    }
    if (!split_delete_path(name, &container, &object)) {
      failed.emplace_back(quoted, status_line(400));
      continue;
    }
    Response r;
    if (object.empty()) {
      Request sub = subrequest(req, bhttp::verb::delete_, {t.account, container});
      r = co_await container_delete(env, sub);
    } else {
      Request sub = subrequest(req, bhttp::verb::delete_, {t.account, container, object});
      r = co_await object_delete(env, sub);
    }
    unsigned code = static_cast<unsigned>(r.status);
    if (code / 100 == 2) {
      ++*fields[2].number;
    } else if (code == 404) {
      ++*fields[3].number;
    } else {
      if (code / 100 == 5) failure_type = 502;
      failed.emplace_back(quoted, status_line(code));
    }
  }
  if (!failed.empty()) {
    set_status(failure_type, "");
  } else if (*fields[2].number == 0 && *fields[3].number == 0) {
    set_status(400, "Invalid bulk delete.");
  }
  co_return finish();
}

// ------------------------------------------------------------ extract archive

namespace {

enum class Compression { kNone, kGzip, kBzip2 };

// Runs libarchive on its own thread and hands its results to the handler
// one step at a time. The handler posts a command (next header, read data)
// and waits for the answer on the worker pool; that wait is bounded by the
// thread's own decoding work, because when libarchive needs more input the
// thread answers "need input" instead of waiting, and the handler reads the
// body and passes the bytes on. mu_ guards every member below it.
class ArchiveStream {
 public:
  struct Header {
    bool end = false;
    bool regular = false;
    std::string name;
    int64_t size = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;  // "user.meta.color" → value
  };

  ArchiveStream(http::BodyReader& body, WorkerPool& pool, Compression c)
      : body_(body), pool_(pool), compression_(c), thread_([this] { run(); }) {}
  ~ArchiveStream() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  ArchiveStream(const ArchiveStream&) = delete;
  ArchiveStream& operator=(const ArchiveStream&) = delete;

  awaitable<Result<Header>> next() {
    auto st = co_await exchange(Cmd::kNext, nullptr, 0);
    if (!st.ok()) co_return st.error();
    std::lock_guard lk(mu_);
    co_return header_;
  }
  awaitable<Result<size_t>> read(char* buf, size_t len) {
    auto st = co_await exchange(Cmd::kRead, buf, len);
    if (!st.ok()) co_return st.error();
    std::lock_guard lk(mu_);
    co_return read_n_;
  }

 private:
  enum class Cmd { kNone, kNext, kRead };
  enum class Answer { kNone, kNeedInput, kDone };

  awaitable<Status> exchange(Cmd cmd, char* buf, size_t len) {
    {
      std::lock_guard lk(mu_);
      if (failed_) co_return make_error(ErrorCode::kInvalidArgument, error_);
      if (stop_) co_return make_error(ErrorCode::kUnavailable, "request body ended early");
      cmd_ = cmd;
      read_buf_ = buf;
      read_len_ = len;
      answer_ = Answer::kNone;
    }
    cv_.notify_all();
    for (;;) {
      auto wait = [this]() -> Answer {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [this] { return answer_ != Answer::kNone; });
        Answer a = answer_;
        answer_ = Answer::kNone;
        return a;
      };
      Answer a = co_await pool_.run(wait);
      if (a == Answer::kDone) break;
      // libarchive wants more of the body.
      std::string chunk(kInputChunk, '\0');
      auto n = co_await body_.read(chunk.data(), chunk.size());
      {
        std::lock_guard lk(mu_);
        if (!n.ok()) {
          stop_ = true;
        } else {
          chunk.resize(*n);
          input_ = std::move(chunk);
          input_ready_ = true;
        }
      }
      cv_.notify_all();
      if (!n.ok()) co_return n.error();
    }
    std::lock_guard lk(mu_);
    if (failed_) co_return make_error(ErrorCode::kInvalidArgument, error_);
    co_return Status{};
  }

  static la_ssize_t read_cb(struct archive*, void* self, const void** out) {
    auto* s = static_cast<ArchiveStream*>(self);
    std::unique_lock lk(s->mu_);
    s->answer_ = Answer::kNeedInput;
    s->cv_.notify_all();
    s->cv_.wait(lk, [s] { return s->input_ready_ || s->stop_; });
    if (s->stop_) return -1;
    s->input_ready_ = false;
    *out = s->input_.data();
    return static_cast<la_ssize_t>(s->input_.size());
  }

  void run() {
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    if (compression_ == Compression::kGzip) archive_read_support_filter_gzip(a);
    if (compression_ == Compression::kBzip2) archive_read_support_filter_bzip2(a);
    bool opened = false;
    for (;;) {
      Cmd cmd;
      char* buf;
      size_t len;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [this] { return cmd_ != Cmd::kNone || stop_; });
        if (stop_) break;
        cmd = cmd_;
        cmd_ = Cmd::kNone;
        buf = read_buf_;
        len = read_len_;
      }
      // libarchive runs without the lock; its read callback takes it.
      Header h;
      la_ssize_t n = 0;
      std::string err;
      if (!opened) {
        opened = true;
        if (archive_read_open(a, this, nullptr, &ArchiveStream::read_cb, nullptr) != ARCHIVE_OK) {
          err = archive_error_string(a) ? archive_error_string(a) : "unreadable archive";
        }
      }
      if (err.empty() && cmd == Cmd::kNext) {
        struct archive_entry* e = nullptr;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) {
          h.end = true;
        } else if (r == ARCHIVE_OK || r == ARCHIVE_WARN) {
          const char* name = archive_entry_pathname_utf8(e);
          if (!name) name = archive_entry_pathname(e);
          h.name = name ? name : "";
          h.regular = archive_entry_filetype(e) == AE_IFREG;
          h.size = archive_entry_size(e);
          archive_entry_xattr_reset(e);
          const char* xname;
          const void* xvalue;
          size_t xsize;
          while (archive_entry_xattr_next(e, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
            h.xattrs.emplace_back(xname, std::string(static_cast<const char*>(xvalue), xsize));
          }
        } else {
          err = archive_error_string(a) ? archive_error_string(a) : "bad archive header";
        }
      } else if (err.empty() && cmd == Cmd::kRead) {
        n = archive_read_data(a, buf, len);
        if (n < 0) err = archive_error_string(a) ? archive_error_string(a) : "bad archive data";
      }
      {
        std::lock_guard lk(mu_);
        if (!err.empty()) {
          failed_ = true;
          error_ = err;
        }
        header_ = std::move(h);
        read_n_ = n < 0 ? 0 : static_cast<size_t>(n);
        answer_ = Answer::kDone;
      }
      cv_.notify_all();
    }
    archive_read_free(a);
  }

  static constexpr size_t kInputChunk = 256 * 1024;
  http::BodyReader& body_;
  WorkerPool& pool_;
  const Compression compression_;
  std::mutex mu_;
  std::condition_variable cv_;
  Cmd cmd_ = Cmd::kNone;
  char* read_buf_ = nullptr;
  size_t read_len_ = 0;
  Answer answer_ = Answer::kNone;
  std::string input_;       // the bytes last handed to libarchive
  bool input_ready_ = false;
  bool stop_ = false;
  bool failed_ = false;
  std::string error_;
  Header header_;
  size_t read_n_ = 0;
  std::thread thread_;      // last: starts once the members above exist
};

// One archive entry as the body of an object PUT.
class EntryBody final : public http::BodyReader {
 public:
  EntryBody(ArchiveStream& as, uint64_t size) : as_(as), size_(size) {}
  awaitable<Result<size_t>> read(char* buf, size_t len) override {
    if (ended_) co_return size_t{0};
    auto n = co_await as_.read(buf, len);
    if (!n.ok()) {
      error_ = n.error().message;
      co_return make_error(ErrorCode::kInvalidArgument, n.error().message);
    }
    if (*n == 0) ended_ = true;
    co_return *n;
  }
  std::optional<uint64_t> content_length() const override { return size_; }
  bool done() const override { return ended_; }
  const std::string& error() const { return error_; }

 private:
  ArchiveStream& as_;
  uint64_t size_;
  bool ended_ = false;
  std::string error_;  // the archive's own error, if reading it failed
};

std::atomic<int> active_extractions{0};
constexpr int kMaxActiveExtractions = 8;  // each holds one decoding thread

// bulk.py pax_key_to_swift_header, on libarchive's xattr names.
std::string xattr_header(std::string_view name) {
  if (name == "user.mime_type") return "Content-Type";
  if (name.rfind("user.meta.", 0) == 0 && name.size() > 10) {
    return "X-Object-Meta-" + std::string(name.substr(10));
  }
  return "";
}

}  // namespace

awaitable<Response> bulk_extract(Env env, Request& req) {
  const Limits& limits = env.svc->limits();
  Target t = target_of(req);
  std::string type = lower(req.query.get("extract-archive").value_or(""));
  while (!type.empty() && type.front() == '.') type.erase(0, 1);
  while (!type.empty() && type.back() == '.') type.pop_back();
  Compression compression;
  if (type == "tar") compression = Compression::kNone;
  else if (type == "tar.gz") compression = Compression::kGzip;
  else if (type == "tar.bz2") compression = Compression::kBzip2;
  else co_return error_for(req, make_error(ErrorCode::kInvalidArgument, "Unsupported archive format"));

  std::string format = best_format(req.header("Accept"));
  std::vector<Field> fields = {{"Response Status", "201 Created", std::nullopt},
                               {"Response Body", "", std::nullopt},
                               {"Number Files Created", "", 0}};
  auto set_status = [&](unsigned code, std::string body) {
    fields[0].text = status_line(code);
    fields[1].text = std::move(body);
  };
  Failures failed;
  auto finish = [&]() { return bulk_response(req, format, render(format, fields, failed, "extract")); };
  if (format.empty()) {
    set_status(406, default_body(406));
    co_return finish();
  }
  if (!has_length(req)) {
    set_status(411, default_body(411));
    co_return finish();
  }
  if (active_extractions.fetch_add(1) >= kMaxActiveExtractions) {
    active_extractions.fetch_sub(1);
    co_return error_for(req, make_error(ErrorCode::kUnavailable, "Too many archive extractions"));
  }
  struct Release {
    ~Release() { active_extractions.fetch_sub(1); }
  } release;

  std::string base = t.container;
  if (!t.object.empty()) base += "/" + t.object;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const size_t max_path = limits.max_object_name_length + limits.max_container_name_length + 2;
  auto quote_path = [&](const std::string& p) { return py_quote(p.substr(0, max_path)); };

  ArchiveStream archive(*req.body_reader, env.svc->pool(), compression);
  std::set<std::string> accessed;
  size_t created_containers = 0;
  unsigned failure_type = 400;
  for (;;) {
    auto h = co_await archive.next();
    if (!h.ok()) {
      set_status(400, "Invalid Tar File: " + h.error().message);
      co_return finish();
    }
    if (h->end || failed.size() >= limits.max_failed_extractions) break;
    if (!h->regular) continue;
    std::string path = h->name;
    if (path.rfind("./", 0) == 0) path.erase(0, 2);
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (!base.empty()) path = base + "/" + path;
    size_t slash = path.find('/');
    if (slash == std::string::npos) continue;  // files at the top level are ignored
    std::string container = path.substr(0, slash), object = path.substr(slash + 1);
    if (!valid_utf8(path) || path.find('\0') != std::string::npos) {
      failed.emplace_back(quote_path(path), status_line(412));
      continue;
    }
    if (h->size < 0 || static_cast<uint64_t>(h->size) > limits.max_file_size) {
      failed.emplace_back(quote_path(path), status_line(413));
      continue;
    }
    std::optional<std::pair<std::string, std::string>> container_failure;
    if (!accessed.count(container)) {
      Request head = subrequest(req, bhttp::verb::head, {t.account, container});
      Response hr = co_await container_head_get(env, head);
      unsigned code = static_cast<unsigned>(hr.status);
      if (code == 404) {
        Request put = subrequest(req, bhttp::verb::put, {t.account, container});
        Response pr = co_await container_put(env, put);
        code = static_cast<unsigned>(pr.status);
        if (code / 100 == 2) {
          if (++created_containers > limits.max_containers_per_extraction) {
            set_status(400, "More than " + std::to_string(limits.max_containers_per_extraction) +
                                " containers to create from tar.");
            co_return finish();
          }
        }
      }
      if (code / 100 != 2) {
        // The object PUT may still succeed if ACLs allow it.
        container_failure.emplace(quote_path("/v1/" + t.account + "/" + container), status_line(code));
        if (code == 401) {
          set_status(401, default_body(401));
          co_return finish();
        }
      }
    }

    Request put = subrequest(req, bhttp::verb::put, {t.account, container, object});
    put.headers.set(bhttp::field::content_length, std::to_string(h->size));
    for (const auto& f : req.headers) {
      std::string name = lower(f.name_string());
      if (name == "x-delete-at" || name == "x-delete-after" || name.rfind("x-object-meta-", 0) == 0) {
        put.headers.set(f.name_string(), f.value());
      }
    }
    for (const auto& [k, v] : h->xattrs) {
      std::string hdr = xattr_header(k);
      if (!hdr.empty()) put.headers.set(hdr, v);
    }
    EntryBody body(archive, static_cast<uint64_t>(h->size));
    put.body_reader = &body;
    Response r = co_await object_put(env, put);
    if (!body.error().empty()) {
      set_status(400, "Invalid Tar File: " + body.error());
      co_return finish();
    }
    accessed.insert(container);
    unsigned code = static_cast<unsigned>(r.status);
    if (code / 100 == 2) {
      ++*fields[2].number;
      continue;
    }
    if (container_failure) failed.push_back(*container_failure);
    if (code == 401) {
      failed.emplace_back(quote_path(path), status_line(401));
      set_status(401, default_body(401));
      co_return finish();
    }
    if (code / 100 == 5) failure_type = 502;
    failed.emplace_back(quote_path(path), status_line(code));
  }
  if (!failed.empty()) {
    set_status(failure_type, "");
  } else if (*fields[2].number == 0) {
    set_status(400, "Invalid Tar File: No Valid Files");
  }
  co_return finish();
}

}  // namespace onestack::object::api
