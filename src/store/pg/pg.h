// A thin RAII layer over libpq: why this exists.
//
// The PostgreSQL backends (identity and object metadata) need what the
// SQLite layer gives the embedded ones: parameterised statements prepared
// once per connection, transactions that always end, a pool of connections
// shared by the worker threads, versioned migrations, and PostgreSQL's
// errors turned into our ErrorCode values. Nothing here knows about
// identity or objects.
//
// Every node of a cluster talks to the same database, so the layer also
// owns what a shared database adds: a lost connection is dropped and
// reopened on the next use (the caller sees kUnavailable once, never a
// hang), and a transaction that lost a deadlock or a serialization race is
// reported as retryable so the caller can run it again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.h"

struct pg_conn;
struct pg_result;

namespace onestack::store::pg {

// Turns a failed result (or, with `res` null, the connection's state) into
// an Error by SQLSTATE class: 23xxx (integrity: unique, foreign key, check)
// is kConflict; 40001/40P01 (serialization failure, deadlock), 08xxx
// (connection), 57P0x (shutdown), 53300 (too many connections) and a
// connection that is gone are kUnavailable; 53100 (disk full) is
// kInsufficientStorage; everything else kInternal. The message starts with
// `context` ("insert object") and carries the server's primary message.
Error pg_error(pg_conn* conn, pg_result* res, std::string_view context);

// True for an error pg_error made from a serialization failure or deadlock
// (SQLSTATE 40001/40P01): running the whole transaction again may succeed.
bool is_retryable(const Error& e);

// Positional parameters $1, $2, ... of one statement, sent in text format
// (bytes: binary, as bytea). Values are copied.
class Params {
 public:
  Params& add(std::string_view text);
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(int64_t value);
  Params& add(int value) { return add(static_cast<int64_t>(value)); }
  Params& add(uint64_t value) { return add(static_cast<int64_t>(value)); }
  Params& add(bool value);
  Params& add(double value);
  Params& add_null();
  // Bytes for a bytea parameter, sent in binary (no escaping).
  Params& add_bytes(std::string_view bytes);

  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class Connection;
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<bool> binary_;
};

// The rows of one statement's result, in text format. Owns the PGresult.
// Rows and columns are 0-based. NULL reads as "" / 0 / 0.0.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* res) : res_(res) {}
  Rows(Rows&& other) noexcept : res_(other.res_) { other.res_ = nullptr; }
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  int size() const;
  bool empty() const { return size() == 0; }
  // Rows an INSERT/UPDATE/DELETE changed (PQcmdTuples).
  int64_t affected() const;
  // The value's bytes without a copy: valid while this Rows lives.
  std::string_view text(int row, int col) const;
  std::string str(int row, int col) const { return std::string(text(row, col)); }
  int64_t int64(int row, int col) const;
  double real(int row, int col) const;
  bool boolean(int row, int col) const;  // 't' / 'f'
  bool is_null(int row, int col) const;
  int columns() const;
  // Whether column `col` is of type bytea (read it with bytes()).
  bool is_bytea(int col) const;
  // A bytea column's bytes, decoded from the text format's "\x<hex>".
  std::string bytes(int row, int col) const;

 private:
  pg_result* res_ = nullptr;
};

// One open connection with its prepared statements. Not thread-safe: one
// thread uses a Connection at a time (the Pool hands each to one caller).
class Connection {
 public:
  // Connects with `conninfo` (a libpq URI "postgresql://user@host:port/db"
  // or "key=value" string). kUnavailable naming the server's reason when
  // the connection fails.
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with `params`. The statement is prepared on first
  // use on this connection and reused (named by a hash of its text).
  // Errors as in pg_error.
  Result<Rows> query(std::string_view sql, const Params& params = {});
  // query(), discarding rows; returns the count of rows changed.
  Result<int64_t> run(std::string_view sql, const Params& params = {});
  // Runs one or more statements that take no parameters (no preparing).
  Status exec(std::string_view sql);

  // False once the connection is gone (server restart, network loss); the
  // pool then closes it instead of reusing it.
  bool healthy() const;
  pg_conn* raw() const { return conn_; }

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
  std::unordered_set<uint64_t> prepared_;  // hashes of statements prepared here
};

struct PoolOptions {
  // Connections open at most; callers beyond wait for one to come back.
  size_t max_connections = 16;
  // How long acquire() waits for a free connection (or a failed server to
  // answer) before giving kUnavailable.
  std::chrono::milliseconds acquire_timeout{10000};
};

// Connections to one database, shared by many threads.
//
// Thread-safety: all methods are thread-safe. Each call borrows one
// connection for its duration; a connection that turned unhealthy is closed
// rather than returned, and the next borrower opens a fresh one, so the
// pool heals by itself when the server comes back.
class Pool {
 public:
  // Opens one connection to check `conninfo` (so a wrong connection string
  // or an unreachable server fails here, with the server's reason).
  static Result<std::unique_ptr<Pool>> open(const std::string& conninfo, PoolOptions options = {});
  ~Pool();

  // Runs `fn` inside one READ COMMITTED transaction: BEGIN, fn, COMMIT;
  // ROLLBACK if `fn` fails (its error is returned) or the commit fails.
  Status write(const std::function<Status(Connection&)>& fn);
  // Runs `fn` inside one REPEATABLE READ READ ONLY transaction (one
  // consistent snapshot).
  Status read(const std::function<Status(Connection&)>& fn);
  // Runs `fn` on a connection outside any transaction (autocommit).
  Status with_connection(const std::function<Status(Connection&)>& fn);

  const std::string& conninfo() const { return conninfo_; }

 private:
  Pool(std::string conninfo, PoolOptions options);
  // Runs `fn` between `begin_sql` and COMMIT (ROLLBACK on failure).
  Status transaction(std::string_view begin_sql, const std::function<Status(Connection&)>& fn);
  Result<std::unique_ptr<Connection>> acquire();
  void release(std::unique_ptr<Connection> conn);

  const std::string conninfo_;
  const PoolOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  size_t open_ = 0;                                // guarded by mu_: idle + lent
};

// One schema step of a component's schema ("identity", "object"). Versions
// are 1, 2, 3, ... with no gaps; `sql` may hold several statements and must
// not use BEGIN/COMMIT itself.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// Applies every step of `steps` newer than the version recorded for
// `component` (table onestack_schema), each in its own transaction that
// also records the version. Holds a transaction-level advisory lock while
// it runs, so nodes starting together migrate once. kInternal if the
// database is newer than the last step (written by a newer binary) or if
// `steps` is misnumbered. Applying twice is a no-op.
Status migrate(Pool& pool, std::string_view component, std::span<const Migration> steps);

}  // namespace onestack::store::pg
