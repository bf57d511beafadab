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
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "object/api/bulk_reply.h"
#include "object/api/features.h"
#include "object/api/middleware.h"
#include "object/api/py_format.h"

namespace onestack::object::api {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
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

// Reads until `buf` is full or the body ends; the count read.
awaitable<Result<size_t>> read_full(http::BodyReader& body, char* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    auto n = co_await body.read(buf + got, len - got);
    if (!n.ok()) co_return n.error();
    if (*n == 0) break;
    got += *n;
  }
  co_return got;
}

bool has_length(const Request& req) {
  return (req.body_reader && req.body_reader->content_length()) ||
         lower(req.header("Transfer-Encoding")).find("chunked") != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------- bulk delete

DeleteList::DeleteList(size_t max_count, size_t max_path)
    : max_count_(max_count), max_path_(max_path) {}

Status DeleteList::check() const {
  if (names_.size() > max_count_) {
    return make_error(ErrorCode::kTooLarge,
                      "Maximum Bulk Deletes: " + std::to_string(max_count_) + " per request");
  }
  if (line_.size() > max_path_ * 2)
    return make_error(ErrorCode::kInvalidArgument, "Invalid File Name");
  return {};
}

void DeleteList::take(std::string_view line) {
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
    line.remove_prefix(1);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
    line.remove_suffix(1);
  names_.push_back(py_unquote(line));
}

Status DeleteList::feed(std::string_view data) {
  if (data.empty()) {
    std::string rest = std::move(line_);
    line_.clear();
    size_t before = names_.size();
    take(rest);
    if (names_.back().empty()) names_.resize(before);  // a blank last line is no name
    return check();
  }
  line_.append(data);
  if (auto st = check(); !st.ok()) return st;
  for (size_t nl; (nl = line_.find('\n')) != std::string::npos;) {
    take(std::string_view(line_).substr(0, nl));
    line_.erase(0, nl + 1);
    if (auto st = check(); !st.ok()) return st;
  }
  return {};
}

bool split_delete_path(std::string_view line, std::string* container, std::string* object) {
  while (!line.empty() && line.front() == '/') line.remove_prefix(1);
  size_t slash = line.find('/');
  *container = std::string(line.substr(0, slash));
  *object = slash == std::string_view::npos ? "" : std::string(line.substr(slash + 1));
  return !container->empty();
}

namespace {

// Whether a bulk-delete name is an object ("c/o"), not a container ("c",
// "/c/"): bulk.py deletes every object before any container.
bool names_object(std::string_view name) {
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  return name.find('/') != std::string_view::npos;
}

// bulk.py handle_delete_iter after the names are read: objects first, then
// containers, each deleted by its own route as the caller.
awaitable<std::string> delete_names(Env env, Request base, std::string format,
                                    std::vector<std::string> names) {
  const Limits& limits = env.svc->limits();
  const std::string account = base.path_params.at(0);
  BulkOutcome out = delete_outcome();
  uint64_t& deleted = out.count("Number Deleted");
  uint64_t& not_found = out.count("Number Not Found");
  unsigned failure_type = 400;
  for (bool objects : {true, false}) {
    for (const auto& name : names) {
      if (name.empty() || names_object(name) != objects) continue;
      std::string quoted = py_quote(name);
      std::string container, object;
      if (!valid_utf8(name) || name.find('\0') != std::string::npos) {
        out.failed.emplace_back(quoted, status_line(412));
        continue;
      }
      if (!split_delete_path(name, &container, &object)) {
        out.failed.emplace_back(quoted, status_line(400));
        continue;
      }
      Response r;
      if (object.empty()) {
        Request sub = subrequest(base, bhttp::verb::delete_, {account, container});
        r = co_await container_delete(env, sub);
      } else {
        Request sub = subrequest(base, bhttp::verb::delete_, {account, container, object});
        r = co_await object_delete(env, sub);
      }
      unsigned code = static_cast<unsigned>(r.status);
      if (code / 100 == 2) {
        ++deleted;
      } else if (code == 404) {
        ++not_found;
      } else {
        if (code / 100 == 5) failure_type = 502;
        out.failed.emplace_back(quoted, status_line(code));
        if (out.failed.size() >= limits.max_failed_deletes) {
          out.set_status(400, "Max delete failures exceeded");
          co_return render_outcome(format, out, "delete");
        }
      }
    }
  }
  if (!out.failed.empty()) {
    out.set_status(failure_type, "");
  } else if (deleted == 0 && not_found == 0) {
    out.set_status(400, "Invalid bulk delete.");
  }
  co_return render_outcome(format, out, "delete");
}

}  // namespace

awaitable<Response> bulk_delete(Env env, Request& req) {
  const Limits& limits = env.svc->limits();
  std::string format = bulk_format(req.header("Accept"));
  BulkOutcome early = delete_outcome();
  auto fail = [&](unsigned code, std::string body) {
    early.set_status(code, std::move(body));
    return bulk_response(req, format, finished_body(render_outcome(format, early, "delete")));
  };
  if (format.empty()) co_return fail(406, "");
  std::string_view incoming = req.header("Content-Type");
  if (!incoming.empty() && incoming.rfind("text/plain", 0) != 0) co_return fail(406, "");
  if (!has_length(req)) co_return fail(411, "");
  // The list of names, read max_path bytes at a time as bulk.py reads it.
  const size_t max_path = limits.max_object_name_length + limits.max_container_name_length + 2;
  DeleteList list(limits.max_deletes_per_request, max_path);
  std::string chunk(max_path, '\0');
  for (;;) {
    auto read = co_await read_full(*req.body_reader, chunk.data(), chunk.size());
    if (!read.ok()) co_return error_for(req, read.error());
    size_t got = *read;
    auto st = list.feed(std::string_view(chunk.data(), got));
    if (!st.ok())
      co_return fail(st.error().code == ErrorCode::kTooLarge ? 413 : 400, st.error().message);
    if (got == 0) break;
  }
  Job job = [env, base = subrequest(req, bhttp::verb::delete_, {target_of(req).account}), format,
             names = std::move(list).names()]() { return delete_names(env, base, format, names); };
  co_return bulk_response(req, format, heartbeat_body(std::move(job), bulk_heartbeat(format)));
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

  // `head` is the start of the body, already read.
  ArchiveStream(http::BodyReader& body, WorkerPool& pool, Compression c, std::string head)
      : body_(body),
        pool_(pool),
        compression_(c),
        input_(std::move(head)),
        input_ready_(!input_.empty()),
        thread_([this] { run(); }) {}
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
    if (!s->input_ready_) {
      s->answer_ = Answer::kNeedInput;
      s->cv_.notify_all();
      s->cv_.wait(lk, [s] { return s->input_ready_ || s->stop_; });
    }
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
  std::string input_;  // the bytes last handed to libarchive
  bool input_ready_ = false;
  bool stop_ = false;
  bool failed_ = false;
  std::string error_;
  Header header_;
  size_t read_n_ = 0;
  std::thread thread_;  // last: starts once the members above exist
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

// Python's tarfile.open(mode="r|...") on the first bytes of the stream,
// whose error Swift reports as "Invalid Tar File: <message>"; "" when the
// stream opens. Past these checks libarchive's own words stand.
std::string tar_open_error(Compression c, std::string_view head) {
  if (c == Compression::kGzip) {
    if (head.size() < 2 || head.substr(0, 2) != "\x1f\x8b") return "not a gzip file";
    if (head.size() > 2 && head[2] != 8) return "unsupported compression method";
    return "";
  }
  if (c == Compression::kBzip2) {
    if (head.empty()) return "empty file";
    return head.rfind("BZh", 0) == 0 ? "" : "invalid compressed data";
  }
  constexpr size_t kBlock = 512;
  if (head.empty()) return "empty file";
  if (head.size() < kBlock) return "truncated header";
  head = head.substr(0, kBlock);
  if (head.find_first_not_of('\0') == std::string_view::npos) return "";  // an empty archive
  // The checksum field: octal digits up to a NUL, blanks around them.
  std::string_view field = head.substr(148, 8);
  if (auto nul = field.find('\0'); nul != std::string_view::npos) field = field.substr(0, nul);
  while (!field.empty() && std::isspace(static_cast<unsigned char>(field.front())))
    field.remove_prefix(1);
  while (!field.empty() && std::isspace(static_cast<unsigned char>(field.back())))
    field.remove_suffix(1);
  int64_t declared = 0;
  for (char ch : field) {
    if (ch < '0' || ch > '7') return "invalid header";
    declared = declared * 8 + (ch - '0');
  }
  // The sum of the block with the checksum field read as blanks, over
  // unsigned and over signed bytes (old tars wrote either).
  int64_t unsigned_sum = 8 * ' ', signed_sum = 8 * ' ';
  for (size_t i = 0; i < kBlock; ++i) {
    if (i >= 148 && i < 156) continue;
    unsigned_sum += static_cast<unsigned char>(head[i]);
    signed_sum += static_cast<signed char>(head[i]);
  }
  return declared == unsigned_sum || declared == signed_sum ? "" : "bad checksum";
}

// The counts and failures of one extraction (bulk.py handle_extract_iter).
// Reading the archive needs the request body, so extraction runs before
// the answer goes out; its outcome is the chunked body.
awaitable<std::string> extract_entries(Env env, Request& req, const std::string& format,
                                       Compression compression, std::string head) {
  const Limits& limits = env.svc->limits();
  Target t = target_of(req);
  BulkOutcome out = extract_outcome();
  uint64_t& created = out.count("Number Files Created");
  auto fail = [&](unsigned code, std::string body) {
    out.set_status(code, std::move(body));
    return render_outcome(format, out, "extract");
  };
  if (auto err = tar_open_error(compression, head); !err.empty())
    co_return fail(400, "Invalid Tar File: " + err);

  std::string base = t.container;
  if (!t.object.empty()) base += "/" + t.object;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const size_t max_path = limits.max_object_name_length + limits.max_container_name_length + 2;
  auto quote_path = [&](const std::string& p) { return py_quote(p.substr(0, max_path)); };

  ArchiveStream archive(*req.body_reader, env.svc->pool(), compression, std::move(head));
  std::set<std::string> accessed;
  size_t created_containers = 0;
  bool first_header = true;
  unsigned failure_type = 400;
  for (;;) {
    auto h = co_await archive.next();
    if (!h.ok()) {
      // tarfile stops quietly at a bad header past the first.
      if (!first_header) break;
      co_return fail(400, "Invalid Tar File: " + h.error().message);
    }
    first_header = false;
    if (h->end || out.failed.size() >= limits.max_failed_extractions) break;
    if (!h->regular) continue;
    std::string path = h->name;
    if (path.rfind("./", 0) == 0) path.erase(0, 2);
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (!base.empty()) path = base + "/" + path;
    size_t slash = path.find('/');
    if (slash == std::string::npos) continue;  // files at the top level are ignored
    std::string container = path.substr(0, slash), object = path.substr(slash + 1);
    if (!valid_utf8(path) || path.find('\0') != std::string::npos) {
      out.failed.emplace_back(quote_path(path), status_line(412));
      continue;
    }
    if (h->size < 0 || static_cast<uint64_t>(h->size) > limits.max_file_size) {
      out.failed.emplace_back(quote_path(path), status_line(413));
      continue;
    }
    std::optional<std::pair<std::string, std::string>> container_failure;
    if (!accessed.count(container)) {
      Request head_req = subrequest(req, bhttp::verb::head, {t.account, container});
      Response hr = co_await container_head_get(env, head_req);
      unsigned code = static_cast<unsigned>(hr.status);
      if (code == 404) {
        Request put = subrequest(req, bhttp::verb::put, {t.account, container});
        Response pr = co_await container_put(env, put);
        code = static_cast<unsigned>(pr.status);
        if (code / 100 == 2 && ++created_containers > limits.max_containers_per_extraction) {
          co_return fail(400, "More than " + std::to_string(limits.max_containers_per_extraction) +
                                  " containers to create from tar.");
        }
      }
      if (code / 100 != 2) {
        // The object PUT may still succeed if ACLs allow it.
        container_failure.emplace(quote_path("/v1/" + t.account + "/" + container),
                                  status_line(code));
        if (code == 401) co_return fail(401, "");
      }
    }

    Request put = subrequest(req, bhttp::verb::put, {t.account, container, object});
    put.headers.set(bhttp::field::content_length, std::to_string(h->size));
    for (const auto& f : req.headers) {
      std::string name = lower(f.name_string());
      if (name == "x-delete-at" || name == "x-delete-after" ||
          name.rfind("x-object-meta-", 0) == 0) {
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
    if (!body.error().empty()) co_return fail(400, "Invalid Tar File: " + body.error());
    accessed.insert(container);
    unsigned code = static_cast<unsigned>(r.status);
    if (code / 100 == 2) {
      ++created;
      continue;
    }
    if (container_failure) out.failed.push_back(*container_failure);
    if (code == 401) {
      out.failed.emplace_back(quote_path(path), status_line(401));
      co_return fail(401, "");
    }
    if (code / 100 == 5) failure_type = 502;
    out.failed.emplace_back(quote_path(path), status_line(code));
  }
  if (!out.failed.empty()) {
    out.set_status(failure_type, "");
  } else if (created == 0) {
    out.set_status(400, "Invalid Tar File: No Valid Files");
  }
  co_return render_outcome(format, out, "extract");
}

}  // namespace

awaitable<Response> bulk_extract(Env env, Request& req) {
  std::string type = lower(req.query.get("extract-archive").value_or(""));
  while (!type.empty() && type.front() == '.') type.erase(0, 1);
  while (!type.empty() && type.back() == '.') type.pop_back();
  Compression compression;
  if (type == "tar")
    compression = Compression::kNone;
  else if (type == "tar.gz")
    compression = Compression::kGzip;
  else if (type == "tar.bz2")
    compression = Compression::kBzip2;
  else
    co_return error_for(req, make_error(ErrorCode::kInvalidArgument, "Unsupported archive format"));

  std::string format = bulk_format(req.header("Accept"));
  auto answer = [&](std::string body) {
    return bulk_response(req, format, finished_body(std::move(body)));
  };
  BulkOutcome early = extract_outcome();
  if (format.empty() || !has_length(req)) {
    early.set_status(format.empty() ? 406 : 411, "");
    co_return answer(render_outcome(format, early, "extract"));
  }
  if (active_extractions.fetch_add(1) >= kMaxActiveExtractions) {
    active_extractions.fetch_sub(1);
    co_return error_for(req, make_error(ErrorCode::kUnavailable, "Too many archive extractions"));
  }
  struct Release {
    ~Release() { active_extractions.fetch_sub(1); }
  } release;
  // The first tar block (or compression magic), read whole before libarchive
  // sees it, to answer a stream that does not open as tarfile answers it.
  std::string head(512, '\0');
  auto got = co_await read_full(*req.body_reader, head.data(), head.size());
  if (!got.ok()) co_return error_for(req, got.error());
  head.resize(*got);
  co_return answer(co_await extract_entries(env, req, format, compression, std::move(head)));
}

}  // namespace onestack::object::api
