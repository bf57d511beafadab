#include "store/pg/pg.h"

#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace onestack::store::pg {

namespace {

// pg_error writes the SQLSTATE into the message so is_retryable can tell a
// lost race from other unavailability without a field of its own in Error.
constexpr std::string_view kSqlstateTag = " (SQLSTATE ";

// libpq's messages end in a newline and some span lines ("...refused\n\tIs
// the server running..."): one line for logs.
std::string trimmed(const char* text) {
  std::string s;
  bool gap = false;
  for (const char* p = text != nullptr ? text : ""; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\r' || *p == '\t') {
      gap = true;
      continue;
    }
    if (gap && !s.empty() && s.back() != ' ') s += ' ';
    gap = false;
    s += *p;
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

ErrorCode code_for_sqlstate(std::string_view state) {
  if (state.size() != 5) return ErrorCode::kInternal;
  if (state.substr(0, 2) == "23") return ErrorCode::kConflict;
  if (state == "40001" || state == "40P01") return ErrorCode::kUnavailable;
  if (state.substr(0, 2) == "08") return ErrorCode::kUnavailable;
  if (state.substr(0, 4) == "57P0") return ErrorCode::kUnavailable;
  if (state == "53300") return ErrorCode::kUnavailable;
  // Cancelled by statement_timeout, lock_timeout, or the server ending an
  // idle transaction: the database is too slow or stuck right now.
  if (state == "57014" || state == "55P03" || state == "25P03") return ErrorCode::kUnavailable;
  if (state == "53100") return ErrorCode::kInsufficientStorage;
  return ErrorCode::kInternal;
}

// FNV-1a: a stable name for a statement's text.
uint64_t statement_hash(std::string_view sql) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string statement_name(uint64_t hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "s_";
  for (int shift = 60; shift >= 0; shift -= 4) name += kHex[(hash >> shift) & 0xf];
  return name;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

bool result_ok(const PGresult* res) {
  if (res == nullptr) return false;
  ExecStatusType st = PQresultStatus(res);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
}

// False when an idle connection has already been closed by the server (a
// restart, pg_terminate_backend, an idle timeout): the server's parting
// error and its FIN wait unread in the socket, so reading them now lets
// libpq notice, instead of the next query failing. Costs a poll() with no
// wait when nothing is pending.
bool idle_connection_alive(PGconn* conn) {
  for (int i = 0; i < 4; ++i) {
    if (PQstatus(conn) != CONNECTION_OK) return false;
    pollfd p{PQsocket(conn), POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return true;
    if (PQconsumeInput(conn) == 0) return false;
    while (PGnotify* n = PQnotifies(conn)) PQfreemem(n);
  }
  return PQstatus(conn) == CONNECTION_OK;
}

}  // namespace

Error pg_error(pg_conn* conn, pg_result* res, std::string_view context) {
  std::string message(context);
  message += ": ";
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (state != nullptr) {
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    message += trimmed(primary != nullptr ? primary : PQresultErrorMessage(res));
    message += kSqlstateTag;
    message += state;
    message += ')';
    ErrorCode code = code_for_sqlstate(state);
    if (code == ErrorCode::kInternal && conn != nullptr && PQstatus(conn) != CONNECTION_OK) {
      code = ErrorCode::kUnavailable;
    }
    return make_error(code, std::move(message));
  }
  // No SQLSTATE: an error libpq made itself (lost connection, protocol).
  std::string detail;
  if (res != nullptr) detail = trimmed(PQresultErrorMessage(res));
  if (detail.empty() && conn != nullptr) detail = trimmed(PQerrorMessage(conn));
  if (detail.empty()) detail = "no result from the server";
  message += detail;
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    return make_error(ErrorCode::kUnavailable, std::move(message));
  }
  return make_error(ErrorCode::kInternal, std::move(message));
}

bool is_retryable(const Error& e) {
  if (e.code != ErrorCode::kUnavailable) return false;
  return e.message.find(" (SQLSTATE 40001)") != std::string::npos ||
         e.message.find(" (SQLSTATE 40P01)") != std::string::npos;
}

// ---- Params ----

Params& Params::add(std::string_view text) {
  values_.emplace_back(text);
  null_.push_back(false);
  binary_.push_back(false);
  return *this;
}

Params& Params::add(int64_t value) { return add(std::string_view(std::to_string(value))); }

Params& Params::add(bool value) { return add(std::string_view(value ? "true" : "false")); }

Params& Params::add(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  (void)ec;  // 64 bytes always hold a double's shortest form
  return add(std::string_view(buf, static_cast<size_t>(end - buf)));
}

Params& Params::add_null() {
  values_.emplace_back();
  null_.push_back(true);
  binary_.push_back(false);
  return *this;
}

Params& Params::add_bytes(std::string_view bytes) {
  values_.emplace_back(bytes);
  null_.push_back(false);
  binary_.push_back(true);
  return *this;
}

// ---- Rows ----

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr) PQclear(res_);
    res_ = other.res_;
    other.res_ = nullptr;
  }
  return *this;
}

Rows::~Rows() {
  if (res_ != nullptr) PQclear(res_);
}

int Rows::size() const { return res_ != nullptr ? PQntuples(res_) : 0; }

int64_t Rows::affected() const {
  if (res_ == nullptr) return 0;
  const char* n = PQcmdTuples(res_);
  return (n != nullptr && *n != '\0') ? std::strtoll(n, nullptr, 10) : 0;
}

std::string_view Rows::text(int row, int col) const {
  if (res_ == nullptr || PQgetisnull(res_, row, col)) return {};
  return std::string_view(PQgetvalue(res_, row, col),
                          static_cast<size_t>(PQgetlength(res_, row, col)));
}

int64_t Rows::int64(int row, int col) const {
  std::string_view t = text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

double Rows::real(int row, int col) const {
  std::string s = str(row, col);
  return s.empty() ? 0.0 : std::strtod(s.c_str(), nullptr);
}

bool Rows::boolean(int row, int col) const {
  std::string_view t = text(row, col);
  return !t.empty() && t[0] == 't';
}

bool Rows::is_null(int row, int col) const {
  return res_ == nullptr || PQgetisnull(res_, row, col) != 0;
}

int Rows::columns() const { return res_ == nullptr ? 0 : PQnfields(res_); }

bool Rows::is_bytea(int col) const {
  constexpr Oid kByteaOid = 17;  // pg_type.oid of bytea (catalog/pg_type.dat)
  return res_ != nullptr && PQftype(res_, col) == kByteaOid;
}

std::string Rows::bytes(int row, int col) const {
  std::string_view t = text(row, col);
  if (t.size() >= 2 && t[0] == '\\' && t[1] == 'x') {
    std::string out;
    out.reserve((t.size() - 2) / 2);
    for (size_t i = 2; i + 1 < t.size(); i += 2) {
      int hi = hex_value(t[i]);
      int lo = hex_value(t[i + 1]);
      if (hi < 0 || lo < 0) break;
      out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
  }
  // The older escape format, in case the server was set to send it.
  if (t.empty()) return {};
  std::string copy(t);
  size_t len = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(copy.c_str()), &len);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), len);
  PQfreemem(raw);
  return out;
}

// ---- Connection ----

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    std::string why = trimmed(parse_error);
    if (parse_error != nullptr) PQfreemem(parse_error);
    return make_error(ErrorCode::kInvalidArgument, "invalid PostgreSQL connection string: " + why);
  }
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    keys.emplace_back(o->keyword);
    values.emplace_back(o->val);
  }
  PQconninfoFree(options);
  // A server that does not answer must not hang a worker: bound the connect,
  // and have the kernel probe idle connections so a dead peer is noticed.
  auto set_default = [&](const char* key, const char* value) {
    for (const std::string& k : keys) {
      if (k == key) return;
    }
    keys.emplace_back(key);
    values.emplace_back(value);
  };
  set_default("connect_timeout", "5");
  set_default("keepalives", "1");
  set_default("keepalives_idle", "10");
  set_default("keepalives_interval", "5");
  set_default("keepalives_count", "3");
  set_default("tcp_user_timeout", "30000");
  set_default("application_name", "onestack");
  std::vector<const char*> key_ptrs;
  std::vector<const char*> value_ptrs;
  for (size_t i = 0; i < keys.size(); ++i) {
    key_ptrs.push_back(keys[i].c_str());
    value_ptrs.push_back(values[i].c_str());
  }
  key_ptrs.push_back(nullptr);
  value_ptrs.push_back(nullptr);

  PGconn* conn = PQconnectdbParams(key_ptrs.data(), value_ptrs.data(), 0);
  if (conn == nullptr) {
    return make_error(ErrorCode::kUnavailable, "connect to PostgreSQL: out of memory");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return make_error(ErrorCode::kUnavailable, "connect to PostgreSQL: " + why);
  }
  // Notices ("relation already exists, skipping") are not errors; libpq's
  // default would print them to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Connection> c(new Connection(conn));
  // A server that is up but stuck, or another node holding a row lock and
  // frozen, must give a 503 after a while, not a request that hangs: bound
  // every statement, every lock wait and every idle open transaction.
  // (Keepalives only notice a server that is gone.)
  if (Status st = c->exec("SET statement_timeout = '30s'; SET lock_timeout = '10s'; "
                          "SET idle_in_transaction_session_timeout = '60s'");
      !st.ok()) {
    return st.error();
  }
  return c;
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Connection::healthy() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

Result<Rows> Connection::query(std::string_view sql, const Params& params) {
  const uint64_t hash = statement_hash(sql);
  const std::string name = statement_name(hash);
  if (prepared_.count(hash) == 0) {
    std::string text(sql);
    ResultPtr prep(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
    if (!result_ok(prep.get())) return pg_error(conn_, prep.get(), "prepare statement");
    prepared_.insert(hash);
  }
  const int n = params.size();
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  std::vector<int> formats(n);
  for (int i = 0; i < n; ++i) {
    values[i] = params.null_[i] ? nullptr : params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
    formats[i] = params.binary_[i] ? 1 : 0;
  }
  // Text parameters must be NUL-terminated: std::string's data() is.
  PGresult* res =
      PQexecPrepared(conn_, name.c_str(), n, values.data(), lengths.data(), formats.data(), 0);
  if (!result_ok(res)) {
    Error err = pg_error(conn_, res, "query");
    if (res != nullptr) PQclear(res);
    // The statement may have been deallocated (DISCARD ALL); prepare again next time.
    if (err.message.find("(SQLSTATE 26000)") != std::string::npos) prepared_.erase(hash);
    return err;
  }
  return Rows(res);
}

Result<int64_t> Connection::run(std::string_view sql, const Params& params) {
  auto rows = query(sql, params);
  if (!rows.ok()) return std::move(rows).error();
  return rows->affected();
}

Status Connection::exec(std::string_view sql) {
  std::string text(sql);
  ResultPtr res(PQexec(conn_, text.c_str()));
  if (!result_ok(res.get())) return pg_error(conn_, res.get(), "exec");
  return ok_status();
}

// ---- Pool ----

Pool::Pool(std::string conninfo, PoolOptions options)
    : conninfo_(std::move(conninfo)), options_(options) {}

Pool::~Pool() = default;

Result<std::unique_ptr<Pool>> Pool::open(const std::string& conninfo, PoolOptions options) {
  if (options.max_connections == 0) options.max_connections = 1;
  std::unique_ptr<Pool> pool(new Pool(conninfo, options));
  auto conn = pool->acquire();
  if (!conn.ok()) return std::move(conn).error();
  pool->release(std::move(*conn));
  return pool;
}

Result<std::unique_ptr<Connection>> Pool::acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->healthy() && idle_connection_alive(conn->raw())) return conn;
      --open_;
      lock.unlock();
      conn.reset();  // PQfinish outside the lock
      lock.lock();
    }
    if (open_ < options_.max_connections) {
      ++open_;
      lock.unlock();
      auto conn = Connection::open(conninfo_);
      if (!conn.ok()) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return std::move(conn).error();
      }
      return conn;
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.max_connections) {
      return make_error(ErrorCode::kUnavailable,
                        "no free PostgreSQL connection within " +
                            std::to_string(options_.acquire_timeout.count()) + " ms (" +
                            std::to_string(options_.max_connections) + " in use)");
    }
  }
}

void Pool::release(std::unique_ptr<Connection> conn) {
  // A connection still inside a transaction or no longer connected is
  // closed: the next borrower opens a fresh one. A lost connection most
  // often means the server restarted, which took the idle ones with it:
  // close those too rather than let each fail one caller.
  std::vector<std::unique_ptr<Connection>> closing;
  const bool lost = conn == nullptr || !conn->healthy();
  if (conn != nullptr && (lost || PQtransactionStatus(conn->raw()) != PQTRANS_IDLE)) {
    closing.push_back(std::move(conn));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn != nullptr) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
      if (lost) {
        open_ -= idle_.size();
        for (auto& c : idle_) closing.push_back(std::move(c));
        idle_.clear();
      }
    }
    cv_.notify_all();
  }
  closing.clear();  // PQfinish outside the lock
}

namespace {

// Ends the transaction `fn` ran in. Returns fn's error, or the commit's.
Status finish_transaction(Connection& conn, Status body, bool* drop) {
  if (body.ok() && PQtransactionStatus(conn.raw()) == PQTRANS_INERROR) {
    // A statement failed but its error was not passed on: COMMIT would
    // silently roll back, so say so instead.
    body = make_error(ErrorCode::kInternal, "transaction aborted by an earlier failed statement");
  }
  if (!body.ok()) {
    if (conn.healthy()) {
      Status rb = conn.exec("ROLLBACK");
      if (!rb.ok()) *drop = true;
    } else {
      *drop = true;
    }
    return body;
  }
  Status commit = conn.exec("COMMIT");
  if (!commit.ok()) {
    if (conn.healthy() && PQtransactionStatus(conn.raw()) != PQTRANS_IDLE) {
      if (!conn.exec("ROLLBACK").ok()) *drop = true;
    }
    return commit;
  }
  return ok_status();
}

}  // namespace

namespace {

// Runs a caller's function; an exception out of it becomes an error, so the
// transaction is rolled back and the connection goes back to the pool (a
// lent connection that never came back would shrink the pool for good).
Status call(const std::function<Status(Connection&)>& fn, Connection& c) {
  try {
    return fn(c);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, std::string("unexpected exception: ") + e.what());
  }
}

}  // namespace

Status Pool::write(const std::function<Status(Connection&)>& fn) {
  return transaction("BEGIN", fn);
}

Status Pool::read(const std::function<Status(Connection&)>& fn) {
  return transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn);
}

Status Pool::transaction(std::string_view begin_sql, const std::function<Status(Connection&)>& fn) {
  auto conn = acquire();
  if (!conn.ok()) return std::move(conn).error();
  std::unique_ptr<Connection> c = std::move(*conn);
  Status begin = c->exec(begin_sql);
  if (!begin.ok()) {
    release(std::move(c));
    return begin;
  }
  bool drop = false;
  Status result = finish_transaction(*c, call(fn, *c), &drop);
  if (drop) c.reset();
  release(std::move(c));
  return result;
}

Status Pool::with_connection(const std::function<Status(Connection&)>& fn) {
  auto conn = acquire();
  if (!conn.ok()) return std::move(conn).error();
  std::unique_ptr<Connection> c = std::move(*conn);
  Status result = call(fn, *c);
  release(std::move(c));
  return result;
}

// ---- migrate ----

namespace {

constexpr std::string_view kLockSql = "SELECT pg_advisory_xact_lock(hashtext('onestack_schema'))";

Result<int> read_version(Connection& conn, std::string_view component) {
  auto rows = conn.query("SELECT version FROM onestack_schema WHERE component = $1",
                         Params().add(component));
  if (!rows.ok()) return std::move(rows).error();
  if (rows->empty()) return 0;
  return static_cast<int>(rows->int64(0, 0));
}

Error too_new(std::string_view component, int version, int latest) {
  return make_error(ErrorCode::kInternal,
                    "PostgreSQL schema of " + std::string(component) + " has version " +
                        std::to_string(version) + " but this binary knows only up to version " +
                        std::to_string(latest) + "; it was written by a newer onestack");
}

}  // namespace

Status migrate(Pool& pool, std::string_view component, std::span<const Migration> steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1) {
      return make_error(ErrorCode::kInternal,
                        "schema migrations must be numbered 1, 2, 3, ... in order; step " +
                            std::to_string(i + 1) + " of " + std::string(component) +
                            " has version " + std::to_string(steps[i].version));
    }
  }
  const int latest = static_cast<int>(steps.size());
  int version = 0;
  // CREATE TABLE IF NOT EXISTS races with itself across nodes; under the lock it cannot.
  ONESTACK_TRY(pool.write([&](Connection& conn) -> Status {
    ONESTACK_TRY(conn.exec(kLockSql));
    ONESTACK_TRY(
        conn.exec("CREATE TABLE IF NOT EXISTS onestack_schema ("
                  "component TEXT PRIMARY KEY, version INT NOT NULL)"));
    auto v = read_version(conn, component);
    if (!v.ok()) return std::move(v).error();
    version = *v;
    return ok_status();
  }));
  if (version > latest) return too_new(component, version, latest);

  for (const Migration& step : steps) {
    if (step.version <= version) continue;
    ONESTACK_TRY(pool.write([&](Connection& conn) -> Status {
      ONESTACK_TRY(conn.exec(kLockSql));
      // Re-read under the lock: another node may have migrated since we looked.
      auto current = read_version(conn, component);
      if (!current.ok()) return std::move(current).error();
      if (*current > latest) return too_new(component, *current, latest);
      if (*current >= step.version) return ok_status();
      Status body = conn.exec(step.sql);
      if (!body.ok()) {
        return make_error(body.error().code, "schema migration " + std::string(component) + " " +
                                                 std::to_string(step.version) + " (" +
                                                 std::string(step.description) +
                                                 ") failed: " + body.error().message);
      }
      auto recorded = conn.run(
          "INSERT INTO onestack_schema (component, version) VALUES ($1, $2) "
          "ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version",
          Params().add(component).add(step.version));
      if (!recorded.ok()) return std::move(recorded).error();
      return ok_status();
    }));
  }
  return ok_status();
}

}  // namespace onestack::store::pg
