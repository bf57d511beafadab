// The one transaction seam over SQLite and PostgreSQL: why this exists.
//
// A store written against this header is written once and runs on both
// engines: its SQL uses `$1, $2, ...` placeholders and the subset both
// engines speak (ON CONFLICT DO NOTHING, RETURNING, `true`/`false`), and
// the few real differences are named in a Dialect. What every store needs
// around its transactions lives here, once: a name per transaction
// ("identity.create") for metrics and for fault injection (a test makes any
// named transaction fail exactly as the engine would, instead of wrapping
// each store interface by hand), and running a write again when the engine
// says it lost a race it may win the second time (a PostgreSQL deadlock or
// serialization failure).
//
// The adapters (store/sqlite/sqlite_db.h, store/pg/pg_db.h) only open
// transactions and move values; nothing here knows identity or objects.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace onestack::store::sql {

// One value: bound to a placeholder or read from a result cell.
struct Value {
  enum class Type { kNull, kText, kInt, kReal, kBool, kBytes };
  Type type = Type::kNull;
  std::string text;  // kText, kBytes; a PostgreSQL cell's text form
  int64_t integer = 0;
  double real = 0;
};

// Positional parameters $1, $2, ... of one statement, in order. Values are
// copied.
class Params {
 public:
  Params& add(std::string_view text);
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(int64_t value);
  Params& add(int value) { return add(static_cast<int64_t>(value)); }
  Params& add(bool value);
  Params& add(double value);
  Params& add_null();
  // Bytes for a BLOB / bytea parameter.
  Params& add_bytes(std::string_view bytes);

  int size() const { return static_cast<int>(values_.size()); }
  const std::vector<Value>& values() const { return values_; }

 private:
  std::vector<Value> values_;
};

// The rows of one statement's result, copied out of the engine. Rows and
// columns are 0-based. Accessors convert the way SQL does: NULL reads as ""
// / 0 / 0.0 / false; an integer or real column read as text gives its
// decimal form; PostgreSQL's text cells ("42", "t") read as the numbers and
// booleans they spell. Not thread-safe; cheap to move.
class Rows {
 public:
  int size() const { return columns_ == 0 ? 0 : static_cast<int>(cells_.size() / columns_); }
  bool empty() const { return size() == 0; }
  int columns() const { return static_cast<int>(columns_); }

  std::string str(int row, int col) const;
  int64_t int64(int row, int col) const;
  double real(int row, int col) const;
  bool boolean(int row, int col) const;
  bool is_null(int row, int col) const;
  // A BLOB / bytea cell's bytes.
  std::string bytes(int row, int col) const { return cell(row, col).text; }

  // For adapters: starts a result of `columns` columns, then appends cells
  // row by row.
  explicit Rows(size_t columns = 0) : columns_(columns) {}
  void push(Value v) { cells_.push_back(std::move(v)); }

 private:
  const Value& cell(int row, int col) const {
    return cells_[static_cast<size_t>(row) * columns_ + static_cast<size_t>(col)];
  }
  size_t columns_;
  std::vector<Value> cells_;
};

// One transaction, used by the one thread that runs it.
class Tx {
 public:
  virtual ~Tx() = default;
  // Runs `sql` with `params` and returns its rows. Errors carry the
  // engine's mapping: a constraint violation is kConflict (its message
  // names the constraint or its columns), a lock or connection problem
  // kUnavailable, a full disk kInsufficientStorage, anything else kInternal.
  virtual Result<Rows> query(std::string_view sql, const Params& params = {}) = 0;
  // Runs `sql` and returns how many rows it changed.
  virtual Result<int64_t> run(std::string_view sql, const Params& params = {}) = 0;
};

// What differs between the engines, named once.
struct Dialect {
  std::string_view name;  // "sqlite", "postgresql"
  // Several nodes may share the database (so a store keeps in it what a
  // single process could keep to itself, such as the Fernet keys).
  bool shared = false;
  // Appended to a SELECT that must lock the rows it reads until commit:
  // " FOR UPDATE" on PostgreSQL, "" on SQLite (whose writers run one at a
  // time anyway).
  std::string_view lock_rows;
};

// What happened to the transactions named `point` since start-up.
struct PointStats {
  std::string point;
  uint64_t calls = 0;     // transactions started (a retry is not a new call)
  uint64_t failures = 0;  // calls that returned an error
  uint64_t retries = 0;   // extra runs after a retryable failure
  double seconds = 0;     // wall time of all calls, retries included
};

// A database shared by many threads.
//
// write() and read() are thread-safe and blocking (call them from a worker
// thread, never an I/O thread). `fn` must not call back into the same Db.
// A write's `fn` may run more than once (see write), so it must start from
// scratch each time: assign its outputs, never append to them.
class Db {
 public:
  virtual ~Db() = default;

  virtual const Dialect& dialect() const = 0;

  // Runs `fn` inside one write transaction named `point`. Commits if `fn`
  // succeeds; otherwise rolls back and returns `fn`'s error (a failed commit
  // too: nothing is then applied). When the engine reports a race the whole
  // transaction may win on a second try, it runs again, up to
  // kWriteAttempts times in all.
  Status write(std::string_view point, const std::function<Status(Tx&)>& fn);
  // Runs `fn` inside one read-only transaction named `point`: one
  // consistent snapshot of the database.
  Status read(std::string_view point, const std::function<Status(Tx&)>& fn);

  static constexpr int kWriteAttempts = 4;

  // Fault injection, for tests: before each transaction, `hook` is asked
  // with its point; an error it returns is returned from write()/read()
  // without running the transaction, as if the engine had failed it
  // (nothing changes). Set once, before the first transaction.
  using FaultHook = std::function<std::optional<Error>(std::string_view point)>;
  void set_fault_hook(FaultHook hook) { fault_hook_ = std::move(hook); }

  // Every point seen so far, in name order. Thread-safe.
  std::vector<PointStats> stats() const;

 protected:
  // The engine's transactions, without the seam's work.
  virtual Status run_write(const std::function<Status(Tx&)>& fn) = 0;
  virtual Status run_read(const std::function<Status(Tx&)>& fn) = 0;
  // True when running the failed write again may succeed.
  virtual bool retryable(const Error& e) const = 0;

 private:
  Status call(std::string_view point, bool write, const std::function<Status(Tx&)>& fn);

  FaultHook fault_hook_;  // set before use, then only read
  mutable std::mutex stats_mu_;
  std::map<std::string, PointStats, std::less<>> stats_;  // guarded by stats_mu_
};

// One database's statistics under the name of the store that uses it.
struct StoreStats {
  std::string store;  // "identity"
  std::vector<PointStats> points;
};

// Renders `stores` as Prometheus series (onestack_db_transactions_total,
// _failures_total, _retries_total, _seconds_total) labelled with the store
// and the point, appended to `out`.
void render_stats(const std::vector<StoreStats>& stores, std::string* out);

}  // namespace onestack::store::sql
