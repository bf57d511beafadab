#include "store/sqlite/database.h"

#include <sqlite3.h>

#include <utility>

namespace onestack::store::sqlite {

Error sqlite_error(sqlite3* db, int rc, std::string_view context) {
  std::string message(context);
  message += ": ";
  message += (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return make_error(ErrorCode::kConflict, std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return make_error(ErrorCode::kUnavailable, std::move(message));
    case SQLITE_FULL: return make_error(ErrorCode::kInsufficientStorage, std::move(message));
    default: return make_error(ErrorCode::kInternal, std::move(message));
  }
}

// ---- Statement ----

Statement::Statement(Connection* conn, std::string sql, sqlite3_stmt* stmt)
    : conn_(conn), sql_(std::move(sql)), stmt_(stmt) {}

Statement::Statement(Statement&& other) noexcept
    : conn_(other.conn_),
      sql_(std::move(other.sql_)),
      stmt_(other.stmt_),
      bind_rc_(other.bind_rc_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ != nullptr) conn_->release(std::move(sql_), stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::step() {
  if (bind_rc_ != 0) return sqlite_error(nullptr, bind_rc_, "bind");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error err = sqlite_error(conn_->raw(), rc, "step");
  sqlite3_reset(stmt_);
  return err;
}

Status Statement::run() {
  while (true) {
    Result<bool> row = step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return ok_status();
  }
}

std::string Statement::text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, column));
}

std::string_view Statement::text_view(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p),
          static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string_view Statement::blob_view(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  if (p == nullptr) return {};
  return {static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

Statement::ColumnType Statement::column_type(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER: return ColumnType::kInteger;
    case SQLITE_FLOAT: return ColumnType::kReal;
    case SQLITE_TEXT: return ColumnType::kText;
    case SQLITE_BLOB: return ColumnType::kBlob;
    default: return ColumnType::kNull;
  }
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// ---- Connection ----

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path,
                                                     const Options& options, bool writer) {
  sqlite3* db = nullptr;
  // NOMUTEX: a connection is only ever used by one thread at a time (the
  // Database hands it out exclusively), so SQLite's per-connection mutex
  // would be pure overhead.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error err = sqlite_error(db, rc, "open " + path);
    sqlite3_close(db);
    return err;
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<Connection> conn(new Connection(db));
  // The busy timeout goes first so the pragmas below wait out a checkpoint
  // or another process instead of failing.
  rc = sqlite3_busy_timeout(db, options.busy_timeout_ms);
  if (rc != SQLITE_OK) return sqlite_error(db, rc, "busy_timeout");
  if (writer) {
    // journal_mode is persistent in the file; only the writer sets it.
    // For ":memory:" SQLite answers "memory", which is fine.
    ONESTACK_TRY(conn->exec("PRAGMA journal_mode=WAL"));
  } else {
    ONESTACK_TRY(conn->exec("PRAGMA query_only=ON"));
  }
  // In WAL mode NORMAL may lose the last commits on power loss; FULL syncs
  // the WAL on every commit, which is what "201 means stored" requires.
  ONESTACK_TRY(conn->exec("PRAGMA synchronous=FULL"));
  ONESTACK_TRY(conn->exec("PRAGMA foreign_keys=ON"));
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Connection::exec(std::string_view sql) {
  std::string copy(sql);
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &msg);
  sqlite3_free(msg);  // errmsg on the handle holds the same text
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, "exec");
  return ok_status();
}

Result<Statement> Connection::prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    sqlite3_stmt* stmt = it->second;
    cache_.erase(it);
    return Statement(this, std::move(key), stmt);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, "prepare");
  if (stmt == nullptr) return make_error(ErrorCode::kInternal, "prepare: empty statement");
  return Statement(this, std::move(key), stmt);
}

void Connection::release(std::string sql, sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  // Two live Statements for the same SQL can exist at once; keep one.
  auto [it, inserted] = cache_.emplace(std::move(sql), stmt);
  if (!inserted) sqlite3_finalize(stmt);
}

int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Connection::changes() const { return sqlite3_changes(db_); }

// ---- Database ----

Database::Database(std::string path, Options options, std::unique_ptr<Connection> writer)
    : path_(std::move(path)),
      options_(options),
      in_memory_(path_ == ":memory:" || path_.empty()),
      writer_(std::move(writer)) {}

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::open(const std::string& path, Options options) {
  auto writer = Connection::open(path, options, /*writer=*/true);
  if (!writer.ok()) return std::move(writer).error();
  return std::unique_ptr<Database>(new Database(path, options, std::move(*writer)));
}

namespace {

// Rolls back `conn` when a transaction body failed. A failed ROLLBACK is
// ignored: SQLite may already have rolled back on its own (e.g. after
// SQLITE_FULL), and the body's error is the one worth reporting.
void rollback(Connection& conn) { (void)conn.exec("ROLLBACK"); }

// Runs a parameterless statement through the statement cache; every
// request begins and ends a transaction, so this skips re-parsing them.
Status run_cached(Connection& conn, const char* sql) {
  auto stmt = conn.prepare(sql);
  if (!stmt.ok()) return std::move(stmt).error();
  return stmt->run();
}

Status run_transaction(Connection& conn, const char* begin,
                       const std::function<Status(Connection&)>& fn) {
  ONESTACK_TRY(run_cached(conn, begin));
  Status st = fn(conn);
  if (!st.ok()) {
    rollback(conn);
    return st;
  }
  Status commit = run_cached(conn, "COMMIT");
  if (!commit.ok()) {
    rollback(conn);
    return commit;
  }
  return ok_status();
}

}  // namespace

Status Database::write(const std::function<Status(Connection&)>& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  // IMMEDIATE takes SQLite's write lock up front, so a transaction never
  // fails half-way with BUSY when upgrading from a read lock.
  return run_transaction(*writer_, "BEGIN IMMEDIATE", fn);
}

Status Database::read(const std::function<Status(Connection&)>& fn) {
  if (in_memory_) {
    std::lock_guard<std::mutex> lock(write_mu_);
    return run_transaction(*writer_, "BEGIN", fn);
  }
  auto conn = acquire_reader();
  if (!conn.ok()) return std::move(conn).error();
  Status st = run_transaction(**conn, "BEGIN", fn);
  release_reader(std::move(*conn));
  return st;
}

Result<std::unique_ptr<Connection>> Database::acquire_reader() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
  }
  return Connection::open(path_, options_, /*writer=*/false);
}

void Database::release_reader(std::unique_ptr<Connection> conn) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (idle_readers_.size() < options_.max_idle_readers) idle_readers_.push_back(std::move(conn));
}

}  // namespace onestack::store::sqlite
