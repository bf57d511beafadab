// A thin RAII layer over the sqlite3 C API: why this exists.
//
// Every store backend built on SQLite needs the same few things done the
// same careful way: durable pragmas, prepared statements with bound
// parameters, transactions that always end, and SQLite result codes turned
// into our ErrorCode values. Nothing here knows about identity or objects.
//
// Concurrency model (see Database below): one writer connection guarded by an
// in-process mutex and `BEGIN IMMEDIATE`, plus a pool of reader connections,
// so concurrent requests inside one process never see "database is locked".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace onestack::store::sqlite {

// Turns SQLite result code `rc` (with the connection's message, if `db` is
// non-null) into an Error: constraint violations are kConflict, BUSY and
// LOCKED are kUnavailable, FULL is kInsufficientStorage, all else kInternal.
// `context` says what was being done ("prepare", "commit").
Error sqlite_error(sqlite3* db, int rc, std::string_view context);

class Connection;

// One prepared statement borrowed from a Connection's cache. Parameters are
// 1-based, columns 0-based (as in SQLite). Bind calls chain; a bind failure is
// remembered and returned by the next step()/run(). On destruction the
// statement is reset and handed back to its connection's cache.
// Not thread-safe: used by the thread that holds its connection. Must not
// outlive its Connection.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds a value to parameter `index` (text is copied).
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, bool value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind_null(int index);
  // Binds bytes as a BLOB (copied).
  Statement& bind_blob(int index, std::string_view bytes);

  // Advances one row. Returns true when a row is available, false when the
  // statement is done, or the mapped error (see sqlite_error).
  Result<bool> step();
  // Steps until done, discarding rows: for INSERT/UPDATE/DELETE.
  Status run();

  // Column accessors for the current row. NULL reads as "" / 0 / 0.0.
  std::string text(int column) const;
  // The same bytes without a copy: valid until the next step() or reset.
  std::string_view text_view(int column) const;
  // A BLOB column's bytes without a copy: valid until the next step() or reset.
  std::string_view blob_view(int column) const;
  int64_t int64(int column) const;
  double real(int column) const;
  bool is_null(int column) const;
  // The current row's column count, and the storage class of one of its
  // values (SQLite types values, not columns).
  enum class ColumnType { kNull, kInteger, kReal, kText, kBlob };
  int column_count() const;
  ColumnType column_type(int column) const;

 private:
  friend class Connection;
  Statement(Connection* conn, std::string sql, sqlite3_stmt* stmt);

  Connection* conn_;
  std::string sql_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // first failed bind's result code, 0 if none
};

// Tunables for Database::open.
struct Options {
  // How long SQLite itself waits for a lock held by another process (or by
  // a checkpoint) before reporting kUnavailable.
  int busy_timeout_ms = 10000;
  // Idle reader connections kept open for reuse; more are opened on demand
  // and closed when returned beyond this count.
  size_t max_idle_readers = 8;
};

// One open sqlite3 handle with its prepared-statement cache.
// Not thread-safe: one thread uses a Connection at a time (Database hands
// each out to a single caller).
class Connection {
 public:
  // Opens (creating if needed) `path` and applies the pragmas: WAL journal
  // mode when `writer` is true, synchronous=FULL (a committed transaction
  // survives power loss), foreign_keys=ON, busy_timeout. Errors as in
  // sqlite_error.
  static Result<std::unique_ptr<Connection>> open(const std::string& path, const Options& options,
                                                  bool writer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL statements that take no parameters.
  Status exec(std::string_view sql);
  // Returns a prepared statement for `sql`, reusing a cached one when
  // possible. Errors as in sqlite_error.
  Result<Statement> prepare(std::string_view sql);
  // The rowid of the last successful INSERT on this connection.
  int64_t last_insert_rowid() const;
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int changes() const;
  // The raw handle, for what this wrapper does not cover. Owned here.
  sqlite3* raw() const { return db_; }

 private:
  friend class Statement;
  explicit Connection(sqlite3* db) : db_(db) {}
  // Takes back a statement from a finished Statement.
  void release(std::string sql, sqlite3_stmt* stmt);

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;  // idle statements by SQL text
};

// A database file shared by many threads of one process.
//
// Thread-safety: all methods are thread-safe. Writes are serialised by an
// in-process mutex around a single writer connection and run as
// `BEGIN IMMEDIATE ... COMMIT`, so two writers of this process never race
// for SQLite's lock. Reads run concurrently on pooled reader connections,
// each inside its own read transaction (a consistent snapshot); in WAL mode
// readers and the writer do not block each other. A ":memory:" database
// exists only on one connection, so there reads share the writer connection
// and its mutex. Callbacks must not call back into the same Database.
class Database {
 public:
  // Opens `path` (or ":memory:"), creating the file if needed. Returns the
  // mapped error if the file cannot be opened or configured.
  static Result<std::unique_ptr<Database>> open(const std::string& path, Options options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `fn` inside one write transaction. Commits if `fn` succeeds;
  // otherwise rolls back and returns `fn`'s error. A failed commit is
  // returned too (nothing is then applied).
  Status write(const std::function<Status(Connection&)>& fn);
  // Runs `fn` inside one read transaction on a reader connection and returns
  // its status. Writes attempted by `fn` fail.
  Status read(const std::function<Status(Connection&)>& fn);

  const std::string& path() const { return path_; }
  bool in_memory() const { return in_memory_; }

 private:
  Database(std::string path, Options options, std::unique_ptr<Connection> writer);
  Result<std::unique_ptr<Connection>> acquire_reader();
  void release_reader(std::unique_ptr<Connection> conn);

  const std::string path_;
  const Options options_;
  const bool in_memory_;
  std::mutex write_mu_;
  std::unique_ptr<Connection> writer_;  // guarded by write_mu_
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by pool_mu_
};

}  // namespace onestack::store::sqlite
