#include "store/pg/object_store_pg.h"

#include <libpq-fe.h>
#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <ctime>
#include <exception>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "store/object_listing.h"
#include "store/pg/object_migrations_pg.h"

namespace onestack::store::pg {

namespace json = boost::json;

namespace {

using listing::FetchPage;
using listing::list_page;
using listing::NameRange;
using listing::Visit;

// ---- metadata ----

// The same flat JSON object of strings as the SQLite store, kept as bytea:
// boost::json writes bytes that are not UTF-8 through unchanged and reads
// them back with allow_invalid_utf8, so any header value round-trips.
std::string encode_meta(const Metadata& meta) {
  json::object o;
  for (const auto& [key, value] : meta) o[key] = value;
  return json::serialize(o);
}

Result<Metadata> decode_meta(std::string_view text) {
  if (text == "{}") return Metadata{};  // most rows: no parse on the listing path
  json::parse_options opts;
  opts.max_depth = 2;
  opts.allow_invalid_utf8 = true;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec || !v.is_object()) {
    return make_error(ErrorCode::kInternal,
                      "stored metadata is not a JSON object: " + std::string(text));
  }
  Metadata meta;
  for (const auto& kv : v.as_object()) {
    if (!kv.value().is_string()) {
      return make_error(ErrorCode::kInternal,
                        "stored metadata value is not a string: " + std::string(text));
    }
    meta.emplace(std::string(kv.key()), std::string(kv.value().as_string()));
  }
  return meta;
}

// Applies `updates` to `meta`: an empty value removes the key.
void apply_updates(Metadata& meta, const Metadata& updates) {
  for (const auto& [key, value] : updates) {
    if (value.empty()) {
      meta.erase(key);
    } else {
      meta[key] = value;
    }
  }
}

bool syncs(const Metadata& meta) { return meta.count("x-container-sync-to") > 0; }

// ---- errors ----

Error account_not_found(const std::string& account) {
  return make_error(ErrorCode::kNotFound, "account " + account + " not found");
}

Error container_not_found(const std::string& account, const std::string& container) {
  return make_error(ErrorCode::kNotFound, "container " + account + "/" + container + " not found");
}

Error object_not_found(const std::string& account, const std::string& container,
                       const std::string& name) {
  return make_error(ErrorCode::kNotFound,
                    "object " + account + "/" + container + "/" + name + " not found");
}

// ---- rows ----

constexpr std::string_view kContainerColumns =
    "account, name, created_us, put_us, meta, storage_policy, object_count, bytes_used";

Result<ContainerRecord> read_container(const Rows& rows, int row) {
  ContainerRecord c;
  c.account = rows.str(row, 0);
  c.name = rows.str(row, 1);
  c.created_us = rows.int64(row, 2);
  c.put_us = rows.int64(row, 3);
  auto meta = decode_meta(rows.bytes(row, 4));
  if (!meta.ok()) return std::move(meta).error();
  c.meta = std::move(*meta);
  c.storage_policy = rows.str(row, 5);
  c.object_count = static_cast<uint64_t>(rows.int64(row, 6));
  c.bytes_used = static_cast<uint64_t>(rows.int64(row, 7));
  return c;
}

constexpr std::string_view kObjectColumns =
    "account, container, name, blob_id, size, etag, content_type, timestamp_us, delete_at, meta, "
    "held_bytes";

Result<ObjectRecord> read_object(const Rows& rows, int row) {
  ObjectRecord o;
  o.account = rows.str(row, 0);
  o.container = rows.str(row, 1);
  o.name = rows.str(row, 2);
  o.blob_id = rows.str(row, 3);
  o.size = static_cast<uint64_t>(rows.int64(row, 4));
  o.etag = rows.str(row, 5);
  o.content_type = rows.str(row, 6);
  o.timestamp_us = rows.int64(row, 7);
  o.delete_at = rows.int64(row, 8);
  auto meta = decode_meta(rows.bytes(row, 9));
  if (!meta.ok()) return std::move(meta).error();
  o.meta = std::move(*meta);
  if (!rows.is_null(row, 10)) o.held_bytes = static_cast<uint64_t>(rows.int64(row, 10));
  return o;
}

Status collect_objects(const Rows& rows, std::vector<ObjectRecord>& out) {
  for (int i = 0; i < rows.size(); ++i) {
    auto o = read_object(rows, i);
    if (!o.ok()) return std::move(o).error();
    out.push_back(std::move(*o));
  }
  return ok_status();
}

Status insert_account_if_absent(Connection& conn, const std::string& account, int64_t created_us,
                                int64_t put_us) {
  Params p;
  p.add(account).add(created_us).add(put_us);
  auto r = conn.run(
      "INSERT INTO accounts (name, created_us, put_us) VALUES ($1, $2, $3) "
      "ON CONFLICT (name) DO NOTHING",
      p);
  if (!r.ok()) return std::move(r).error();
  return ok_status();
}

// The container's row, locked for update when `lock`; nullopt if absent.
Result<std::optional<ContainerRecord>> select_container(Connection& conn,
                                                        const std::string& account,
                                                        const std::string& container, bool lock) {
  static const std::string kSql = "SELECT " + std::string(kContainerColumns) +
                                  " FROM containers WHERE account = $1 AND name = $2";
  static const std::string kLockSql = kSql + " FOR UPDATE";
  Params p;
  p.add(account).add(container);
  auto rows = conn.query(lock ? kLockSql : kSql, p);
  if (!rows.ok()) return std::move(rows).error();
  if (rows->empty()) return std::optional<ContainerRecord>{};
  auto c = read_container(*rows, 0);
  if (!c.ok()) return std::move(c).error();
  return std::optional<ContainerRecord>(std::move(*c));
}

Result<std::optional<ObjectRecord>> select_object(Connection& conn, const std::string& account,
                                                  const std::string& container,
                                                  const std::string& name) {
  static const std::string kSql =
      "SELECT " + std::string(kObjectColumns) +
      " FROM objects WHERE account = $1 AND container = $2 AND name = $3";
  Params p;
  p.add(account).add(container).add(name);
  auto rows = conn.query(kSql, p);
  if (!rows.ok()) return std::move(rows).error();
  if (rows->empty()) return std::optional<ObjectRecord>{};
  auto o = read_object(*rows, 0);
  if (!o.ok()) return std::move(o).error();
  return std::optional<ObjectRecord>(std::move(*o));
}

// Whether any object row refers to `blob_id`. With `lock`, the row found
// is share-locked until the transaction ends, so that no other node can
// drop or repoint it (and free the blob) before this transaction's new
// reference commits; a row another node removed meanwhile is skipped.
// The second condition repeats the partial index's own.
Result<bool> select_blob_referenced(Connection& conn, const std::string& blob_id, bool lock) {
  if (blob_id.empty()) return false;
  Params p;
  p.add(blob_id);
  auto rows = conn.query(lock ? "SELECT 1 FROM objects WHERE blob_id = $1 AND blob_id <> '' "
                                "LIMIT 1 FOR SHARE"
                              : "SELECT 1 FROM objects WHERE blob_id = $1 AND blob_id <> '' "
                                "LIMIT 1",
                         p);
  if (!rows.ok()) return std::move(rows).error();
  return !rows->empty();
}

Status insert_small_blob(Connection& conn, const std::string& id, std::string_view data,
                         int64_t mtime_unix) {
  Params p;
  p.add(id).add_bytes(data).add(mtime_unix);
  auto r = conn.run("INSERT INTO small_blobs (id, data, mtime_unix) VALUES ($1, $2, $3)", p);
  if (!r.ok()) return std::move(r).error();
  return ok_status();
}

// Appends `blob_id` to `freed` if it names a blob no row refers to any more.
Status collect_if_unreferenced(Connection& conn, const std::string& blob_id,
                               std::vector<std::string>& freed) {
  if (blob_id.empty()) return ok_status();
  auto referenced = select_blob_referenced(conn, blob_id, /*lock=*/false);
  if (!referenced.ok()) return std::move(referenced).error();
  if (!*referenced) freed.push_back(blob_id);
  return ok_status();
}

// ---- name bounds ----

// The length of the code point at s[i] if it is one PostgreSQL stores in
// text (shortest-form UTF-8, no surrogate, at most U+10FFFF, not NUL), else
// 0; its value in `cp`.
size_t storable_code_point(std::string_view s, size_t i, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 == 0) return 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t n = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

std::string utf8(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return out;
}

// Code points without the surrogates, numbered in order: k -> code point.
constexpr uint32_t kStorableCodePoints = 0x110000 - 0x800;
uint32_t nth_code_point(uint32_t k) { return k < 0xd800 ? k : k + 0x800; }

// A listing bound (a marker, a prefix or its successor) may be any bytes,
// but a text parameter must be UTF-8 without NUL, which every stored name
// is. Returns the smallest such string that is >= `s` in byte order
// (`s` itself when it is storable): every stored name compares with it as
// with `s`, except that a name equal to the result is greater than a
// non-storable `s`. nullopt when no storable string is >= `s`.
std::optional<std::string> storable_bound(const std::string& s) {
  size_t i = 0;
  uint32_t cp = 0;
  while (i < s.size()) {
    const size_t n = storable_code_point(s, i, cp);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) return s;
  // UTF-8 preserves code point order, so the first code point whose
  // encoding sorts after the bytes from i on is found by bisection.
  const std::string_view rest = std::string_view(s).substr(i);
  uint32_t lo = 1;
  uint32_t hi = kStorableCodePoints;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    const std::string enc = utf8(nth_code_point(mid));
    if (std::string_view(enc) > rest) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  std::string out = s.substr(0, i);
  if (lo < kStorableCodePoints) return out + utf8(nth_code_point(lo));
  // Nothing follows at position i: step the code point before it.
  while (!out.empty()) {
    size_t start = out.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(out[start]) & 0xc0) == 0x80) --start;
    storable_code_point(out, start, cp);
    out.resize(start);
    if (cp < 0x10ffff) return out + utf8(cp + 1 == 0xd800 ? 0xe000 : cp + 1);
  }
  return std::nullopt;
}

// ---- listings ----

// Appends `r` to `sql` as conditions on name, its bounds to `params`.
// False when no stored name can be in the range.
bool append_bounds(std::string& sql, Params& params, const NameRange& r) {
  if (r.lower) {
    auto bound = storable_bound(*r.lower);
    if (!bound) return false;
    const bool inclusive = r.lower_inclusive || *bound != *r.lower;
    params.add(*bound);
    sql += inclusive ? " AND name >= $" : " AND name > $";
    sql += std::to_string(params.size());
  }
  if (r.upper) {
    if (auto bound = storable_bound(*r.upper)) {
      const bool inclusive = r.upper_inclusive && *bound == *r.upper;
      params.add(*bound);
      sql += inclusive ? " AND name <= $" : " AND name < $";
      sql += std::to_string(params.size());
    }
  }
  return true;
}

Status read_entry(const Rows& rows, int row, ContainerListEntry& e) {
  auto c = read_container(rows, row);
  if (!c.ok()) return std::move(c).error();
  e.container = std::move(*c);
  return ok_status();
}

Status read_entry(const Rows& rows, int row, ObjectListEntry& e) {
  auto o = read_object(rows, row);
  if (!o.ok()) return std::move(o).error();
  e.object = std::move(*o);
  return ok_status();
}

// What a listing shows; the metadata only of a symlink (NULL otherwise), so
// that most rows carry and decode none.
constexpr std::string_view kObjectListColumns =
    "name, etag, size, content_type, timestamp_us, "
    "CASE WHEN position('\"x-symlink-target\"'::bytea IN meta) > 0 "
    "OR position('\"x-object-version-id\"'::bytea IN meta) > 0 THEN meta END";

Status read_entry(const Rows& rows, int row, ObjectListRow& e) {
  e.name.assign(rows.text(row, 0));
  e.etag.assign(rows.text(row, 1));
  e.size = static_cast<uint64_t>(rows.int64(row, 2));
  e.content_type.assign(rows.text(row, 3));
  e.timestamp_us = rows.int64(row, 4);
  e.symlink_target.clear();
  e.symlink_account.clear();
  e.symlink_etag.clear();
  e.symlink_bytes.clear();
  e.version_id.clear();
  if (!rows.is_null(row, 5)) {
    auto m = decode_meta(rows.bytes(row, 5));
    if (!m.ok()) return std::move(m).error();
    if (auto it = m->find("x-symlink-target"); it != m->end()) e.symlink_target = it->second;
    if (auto it = m->find("x-symlink-target-account"); it != m->end()) {
      e.symlink_account = it->second;
    }
    if (auto it = m->find("x-symlink-target-etag"); it != m->end()) e.symlink_etag = it->second;
    if (auto it = m->find("x-symlink-target-bytes"); it != m->end()) e.symlink_bytes = it->second;
    if (auto it = m->find("x-object-version-id"); it != m->end()) e.version_id = it->second;
  }
  return ok_status();
}

// One range of a listing: `head` (scoped by $1 = scope1 and, when given, $2
// = *scope2) within `range`, in order, at most `limit` rows, each passed to
// `visit` until it returns false. The rows come in queries of `chunk` rows,
// doubling (to at most `limit`), each resuming after the last: a delimiter
// listing often stops at the first row (a roll-up), and a query for the
// whole rest of the page would fetch rows nobody reads. `name_col` is the
// column of the name. Counts the rows fetched.
template <typename Entry>
Status fetch_range(Connection& conn, std::string_view head, int name_col, const std::string& scope1,
                   const std::string* scope2, NameRange range, bool reverse, size_t limit,
                   size_t chunk, std::atomic<uint64_t>& rows_read, const Visit<Entry>& visit) {
  Entry entry;
  size_t left = limit;
  while (left > 0) {
    const size_t want = std::min(chunk, left);
    std::string sql(head);
    Params params;
    params.add(scope1);
    if (scope2 != nullptr) params.add(*scope2);
    if (!append_bounds(sql, params, range)) return ok_status();
    params.add(static_cast<int64_t>(want));
    sql += reverse ? " ORDER BY name DESC LIMIT $" : " ORDER BY name LIMIT $";
    sql += std::to_string(params.size());
    auto rows = conn.query(sql, params);
    if (!rows.ok()) return std::move(rows).error();
    const int n = rows->size();
    rows_read.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    for (int i = 0; i < n; ++i) {
      ONESTACK_TRY(read_entry(*rows, i, entry));
      if (!visit(entry)) return ok_status();
    }
    if (static_cast<size_t>(n) < want) return ok_status();
    left -= want;
    std::string last = rows->str(n - 1, name_col);
    if (reverse) {
      range.upper = std::move(last);
      range.upper_inclusive = false;
    } else {
      range.lower = std::move(last);
      range.lower_inclusive = false;
    }
    chunk = std::min(chunk * 2, limit);
  }
  return ok_status();
}

size_t first_chunk(const ListQuery& q, bool allow_path, size_t limit) {
  const bool rolls_up = !q.delimiter.empty() || (allow_path && q.path.has_value());
  return rolls_up ? std::min(limit, PgObjectStore::kRollUpChunk) : limit;
}

// Runs one queued write. The only exception an op can raise is bad_alloc
// (from JSON or strings); it must not escape into the leader, which would
// leave the other callers of its batch waiting forever.
Status run_op(const std::function<Status(Connection&)>& op, Connection& conn) {
  try {
    return op(conn);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, std::string("object store write failed: ") + e.what());
  }
}

Result<bool> container_exists(Connection& conn, const std::string& account,
                              const std::string& container) {
  Params p;
  p.add(account).add(container);
  auto rows = conn.query("SELECT 1 FROM containers WHERE account = $1 AND name = $2", p);
  if (!rows.ok()) return std::move(rows).error();
  return !rows->empty();
}

}  // namespace

// ---- group commit ----

PgObjectStore::PgObjectStore(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

PgObjectStore::~PgObjectStore() = default;

Result<std::unique_ptr<PgObjectStore>> PgObjectStore::open(const std::string& conninfo,
                                                           PoolOptions options) {
  auto pool = Pool::open(conninfo, options);
  if (!pool.ok()) return std::move(pool).error();
  ONESTACK_TRY(migrate(**pool, "object", object_migrations_pg()));
  return std::make_unique<PgObjectStore>(std::move(*pool));
}

Status PgObjectStore::write(const Op& op) {
  write_ops_.fetch_add(1, std::memory_order_relaxed);
  return queue_.submit(op, [this](const std::vector<Writer*>& batch) { run_batch(batch); });
}

void PgObjectStore::run_batch(const std::vector<Writer*>& batch) {
  bool savepoints = false;
  for (int attempt = 1;; ++attempt) {
    commits_.fetch_add(1, std::memory_order_relaxed);
    bool need_savepoints = false;
    Status st = run_once(batch, savepoints, need_savepoints);
    if (need_savepoints) {
      savepoints = true;
      --attempt;  // not a lost race: run it again at once
      continue;
    }
    if (!st.ok() && batch.size() > 1) {
      for (Writer* w : batch) w->result = st;
    }
    if (st.ok() || !is_retryable(st.error()) || attempt == kMaxAttempts) return;
    // Another node's transaction won a deadlock or serialization race: the
    // batch was rolled back whole; run it again after a short, jittered
    // pause so that the two do not collide again in step.
    retries_.fetch_add(1, std::memory_order_relaxed);
    thread_local std::minstd_rand rng(std::random_device{}());
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt * 2 + rng() % 5));
  }
}

Status PgObjectStore::run_once(const std::vector<Writer*>& batch, bool savepoints,
                               bool& need_savepoints) {
  return pool_->write([&](Connection& conn) -> Status {
    locked_.clear();
    if (batch.size() == 1) {
      // Alone, a failing op simply rolls the transaction back.
      batch[0]->result = run_op(batch[0]->op, conn);
      return batch[0]->result;
    }
    bool first = true;
    for (Writer* w : batch) {
      if (savepoints) {
        ONESTACK_TRY(conn.exec(first ? "SAVEPOINT op" : "RELEASE SAVEPOINT op; SAVEPOINT op"));
      }
      first = false;
      w->result = run_op(w->op, conn);
      if (w->result.ok()) continue;
      // A lost race or a lost connection ends the batch.
      if (is_retryable(w->result.error()) || !conn.healthy()) return w->result;
      if (savepoints) {
        ONESTACK_TRY(conn.exec("ROLLBACK TO SAVEPOINT op"));
        locked_.clear();  // the rollback released the op's locks
      } else if (PQtransactionStatus(conn.raw()) != PQTRANS_INTRANS) {
        // A statement failed: the transaction is aborted and the ops before
        // this one would be lost with it.
        need_savepoints = true;
        return w->result;
      }
      // Otherwise the op refused before writing anything: nothing to undo.
    }
    return ok_status();
  });
}

Result<bool> PgObjectStore::lock_container(Connection& conn, const std::string& account,
                                           const std::string& container) {
  // Every write that moves a container's counters takes this lock (the one
  // its counter update takes anyway) before reading the rows it changes, so
  // writes to one container serialize across nodes and each reads the rows
  // the one before it committed.
  std::pair<std::string, std::string> key(account, container);
  if (locked_.count(key) > 0) return true;
  Params p;
  p.add(account).add(container);
  auto rows =
      conn.query("SELECT 1 FROM containers WHERE account = $1 AND name = $2 FOR NO KEY UPDATE", p);
  if (!rows.ok()) return std::move(rows).error();
  if (rows->empty()) return false;
  locked_.insert(std::move(key));
  return true;
}

// ---- accounts ----

Result<AccountRecord> PgObjectStore::get_account(const std::string& account) {
  std::optional<AccountRecord> found;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    Params p;
    p.add(account);
    auto rows = conn.query(
        "SELECT a.name, a.created_us, a.put_us, a.meta, t.n, t.objects, t.bytes "
        "FROM accounts a, LATERAL (SELECT count(*) AS n, "
        "coalesce(sum(object_count), 0)::bigint AS objects, "
        "coalesce(sum(bytes_used), 0)::bigint AS bytes "
        "FROM containers WHERE account = a.name) t WHERE a.name = $1",
        p);
    if (!rows.ok()) return std::move(rows).error();
    if (rows->empty()) return ok_status();
    AccountRecord a;
    a.name = rows->str(0, 0);
    a.created_us = rows->int64(0, 1);
    a.put_us = rows->int64(0, 2);
    auto meta = decode_meta(rows->bytes(0, 3));
    if (!meta.ok()) return std::move(meta).error();
    a.meta = std::move(*meta);
    a.container_count = static_cast<uint64_t>(rows->int64(0, 4));
    a.object_count = static_cast<uint64_t>(rows->int64(0, 5));
    a.bytes_used = static_cast<uint64_t>(rows->int64(0, 6));
    found = std::move(a);
    return ok_status();
  }));
  if (!found) return account_not_found(account);
  return std::move(*found);
}

Status PgObjectStore::ensure_account(const std::string& account, int64_t now_us) {
  return write([&](Connection& conn) -> Status {
    return insert_account_if_absent(conn, account, now_us, now_us);
  });
}

Status PgObjectStore::update_account_meta(const std::string& account, const Metadata& updates,
                                          int64_t now_us) {
  return write([&](Connection& conn) -> Status {
    // Read, then write: an op refuses only before its first write.
    for (int round = 0; round < 3; ++round) {
      Params p;
      p.add(account);
      auto rows = conn.query("SELECT meta FROM accounts WHERE name = $1 FOR UPDATE", p);
      if (!rows.ok()) return std::move(rows).error();
      Metadata meta;
      if (!rows->empty()) {
        auto stored = decode_meta(rows->bytes(0, 0));
        if (!stored.ok()) return std::move(stored).error();
        meta = std::move(*stored);
      }
      apply_updates(meta, updates);
      Params u;
      u.add(account).add_bytes(encode_meta(meta));
      if (!rows->empty()) {
        auto r = conn.run("UPDATE accounts SET meta = $2 WHERE name = $1", u);
        if (!r.ok()) return std::move(r).error();
        return ok_status();
      }
      u.add(now_us);
      auto inserted = conn.run(
          "INSERT INTO accounts (name, created_us, put_us, meta) VALUES ($1, $3, $3, $2) "
          "ON CONFLICT (name) DO NOTHING",
          u);
      if (!inserted.ok()) return std::move(inserted).error();
      if (*inserted == 1) return ok_status();
      // Another node created it meanwhile: read it again.
    }
    return make_error(ErrorCode::kUnavailable, "account " + account + " keeps changing; try again");
  });
}

Result<std::vector<ContainerListEntry>> PgObjectStore::list_containers(const std::string& account,
                                                                       const ListQuery& q) {
  static const std::string kHead =
      "SELECT " + std::string(kContainerColumns) + " FROM containers WHERE account = $1";
  std::vector<ContainerListEntry> out;
  ONESTACK_TRY(pool_->read([&](Connection& conn) -> Status {
    out.clear();
    FetchPage<ContainerListEntry> fetch = [&](const NameRange& r, size_t limit,
                                              const Visit<ContainerListEntry>& visit) {
      return fetch_range<ContainerListEntry>(conn, kHead, 1, account, nullptr, r, q.reverse, limit,
                                             first_chunk(q, false, limit), listing_rows_, visit);
    };
    return list_page<ContainerListEntry>(
        q, /*allow_path=*/false, fetch,
        [&](ContainerListEntry& e) { out.push_back(std::move(e)); });
  }));
  return out;
}

// ---- containers ----

Result<bool> PgObjectStore::create_container(const ContainerRecord& c) {
  bool created = false;
  ONESTACK_TRY(write([&](Connection& conn) -> Status {
    created = false;
    // A container another node deletes between the two statements is
    // simply inserted on the next round. The account comes last: an op
    // refuses only before its first write.
    for (int round = 0; round < 3; ++round) {
      Metadata meta;
      apply_updates(meta, c.meta);  // drops empty values
      Params p;
      p.add(c.account).add(c.name).add(c.created_us).add(c.put_us);
      p.add_bytes(encode_meta(meta)).add(syncs(meta)).add(c.storage_policy);
      auto inserted = conn.run(
          "INSERT INTO containers (account, name, created_us, put_us, meta, syncs, "
          "storage_policy) VALUES ($1, $2, $3, $4, $5, $6, $7) "
          "ON CONFLICT (account, name) DO NOTHING",
          p);
      if (!inserted.ok()) return std::move(inserted).error();
      if (*inserted == 1) {
        created = true;
        return insert_account_if_absent(conn, c.account, c.created_us, c.put_us);
      }
      auto existing = select_container(conn, c.account, c.name, /*lock=*/true);
      if (!existing.ok()) return std::move(existing).error();
      if (!*existing) continue;
      Metadata merged = std::move((*existing)->meta);
      apply_updates(merged, c.meta);
      Params u;
      u.add(c.account).add(c.name).add_bytes(encode_meta(merged)).add(syncs(merged)).add(c.put_us);
      auto r = conn.run(
          "UPDATE containers SET meta = $3, syncs = $4, put_us = greatest(put_us, $5) "
          "WHERE account = $1 AND name = $2",
          u);
      if (!r.ok()) return std::move(r).error();
      return insert_account_if_absent(conn, c.account, c.created_us, c.put_us);
    }
    return make_error(ErrorCode::kUnavailable,
                      "container " + c.account + "/" + c.name + " keeps changing; try again");
  }));
  return created;
}

Result<ContainerRecord> PgObjectStore::get_container(const std::string& account,
                                                     const std::string& container) {
  std::optional<ContainerRecord> found;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    auto c = select_container(conn, account, container, /*lock=*/false);
    if (!c.ok()) return std::move(c).error();
    found = std::move(*c);
    return ok_status();
  }));
  if (!found) return container_not_found(account, container);
  return std::move(*found);
}

Status PgObjectStore::update_container_meta(const std::string& account,
                                            const std::string& container, const Metadata& updates,
                                            std::optional<int64_t> put_us) {
  return write([&](Connection& conn) -> Status {
    auto existing = select_container(conn, account, container, /*lock=*/true);
    if (!existing.ok()) return std::move(existing).error();
    if (!*existing) return container_not_found(account, container);
    Metadata merged = std::move((*existing)->meta);
    apply_updates(merged, updates);
    Params p;
    p.add(account).add(container).add_bytes(encode_meta(merged)).add(syncs(merged));
    p.add(put_us.value_or((*existing)->put_us));
    auto r = conn.run(
        "UPDATE containers SET meta = $3, syncs = $4, put_us = $5 WHERE account = $1 AND name = $2",
        p);
    if (!r.ok()) return std::move(r).error();
    return ok_status();
  });
}

Status PgObjectStore::delete_container(const std::string& account, const std::string& container) {
  return write([&](Connection& conn) -> Status {
    // The lock orders this after any object write in flight on another
    // node (each locks the row first), so the count read is final.
    auto existing = select_container(conn, account, container, /*lock=*/true);
    if (!existing.ok()) return std::move(existing).error();
    if (!*existing) return container_not_found(account, container);
    if ((*existing)->object_count > 0) {
      return make_error(ErrorCode::kConflict,
                        "container " + account + "/" + container + " is not empty");
    }
    Params p;
    p.add(account).add(container);
    auto r = conn.run("DELETE FROM containers WHERE account = $1 AND name = $2", p);
    if (!r.ok()) return std::move(r).error();
    locked_.erase({account, container});  // a later op of the batch must find it gone
    return ok_status();
  });
}

Result<std::vector<ObjectListEntry>> PgObjectStore::list_objects(const std::string& account,
                                                                 const std::string& container,
                                                                 const ListQuery& q) {
  static const std::string kHead = "SELECT " + std::string(kObjectColumns) +
                                   " FROM objects WHERE account = $1 AND container = $2";
  std::vector<ObjectListEntry> out;
  ONESTACK_TRY(pool_->read([&](Connection& conn) -> Status {
    out.clear();
    // Same snapshot as the rows: a listing of a container that does not
    // exist is an error, not an empty page.
    auto exists = container_exists(conn, account, container);
    if (!exists.ok()) return std::move(exists).error();
    if (!*exists) return container_not_found(account, container);
    FetchPage<ObjectListEntry> fetch = [&](const NameRange& r, size_t limit,
                                           const Visit<ObjectListEntry>& visit) {
      return fetch_range<ObjectListEntry>(conn, kHead, 2, account, &container, r, q.reverse, limit,
                                          first_chunk(q, true, limit), listing_rows_, visit);
    };
    return list_page<ObjectListEntry>(q, /*allow_path=*/true, fetch,
                                      [&](ObjectListEntry& e) { out.push_back(std::move(e)); });
  }));
  return out;
}

Status PgObjectStore::scan_objects(const std::string& account, const std::string& container,
                                   const ListQuery& q, const ObjectRowVisitor& visit) {
  static const std::string kHead = "SELECT " + std::string(kObjectListColumns) +
                                   " FROM objects WHERE account = $1 AND container = $2";
  return pool_->read([&](Connection& conn) -> Status {
    auto exists = container_exists(conn, account, container);
    if (!exists.ok()) return std::move(exists).error();
    if (!*exists) return container_not_found(account, container);
    FetchPage<ObjectListRow> fetch = [&](const NameRange& r, size_t limit,
                                         const Visit<ObjectListRow>& v) {
      return fetch_range<ObjectListRow>(conn, kHead, 0, account, &container, r, q.reverse, limit,
                                        first_chunk(q, true, limit), listing_rows_, v);
    };
    return list_page<ObjectListRow>(q, /*allow_path=*/true, fetch,
                                    [&](ObjectListRow& e) { visit(e); });
  });
}

// ---- objects ----

Result<ObjectRecord> PgObjectStore::get_object(const std::string& account,
                                               const std::string& container,
                                               const std::string& name) {
  std::optional<ObjectRecord> found;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    auto o = select_object(conn, account, container, name);
    if (!o.ok()) return std::move(o).error();
    found = std::move(*o);
    return ok_status();
  }));
  if (!found) return object_not_found(account, container, name);
  return std::move(*found);
}

namespace {

// The previous row's columns, as put and delete return them.
constexpr std::string_view kPreviousColumns =
    "blob_id, size, etag, content_type, timestamp_us, delete_at, meta, held_bytes";

Result<ObjectRecord> read_previous(const Rows& rows, const std::string& account,
                                   const std::string& container, const std::string& name) {
  ObjectRecord o;
  o.account = account;
  o.container = container;
  o.name = name;
  o.blob_id = rows.str(0, 0);
  o.size = static_cast<uint64_t>(rows.int64(0, 1));
  o.etag = rows.str(0, 2);
  o.content_type = rows.str(0, 3);
  o.timestamp_us = rows.int64(0, 4);
  o.delete_at = rows.int64(0, 5);
  auto meta = decode_meta(rows.bytes(0, 6));
  if (!meta.ok()) return std::move(meta).error();
  o.meta = std::move(*meta);
  if (!rows.is_null(0, 7)) o.held_bytes = static_cast<uint64_t>(rows.int64(0, 7));
  return o;
}

}  // namespace

Result<PutObjectResult> PgObjectStore::put_object(const ObjectRecord& o,
                                                  const PutConditions& cond) {
  // One statement reads the row it replaces, stores the blob's bytes (when
  // given), writes the row and moves the counters; with if_none_match and a
  // row present it writes nothing and the row it returns says why. Its
  // snapshot is current: the container lock taken before it keeps every
  // other writer of the container's rows out.
  static const std::string kSql =
      "WITH prev AS (SELECT " + std::string(kPreviousColumns) +
      " FROM objects WHERE account = $1 AND container = $2 AND name = $3), "
      "go AS (SELECT NOT ($11::boolean AND EXISTS (SELECT 1 FROM prev WHERE "
      "prev.delete_at = 0 OR prev.delete_at > $13::bigint)) AS ok), "
      "sb AS (INSERT INTO small_blobs (id, data, mtime_unix) "
      "SELECT $4, $12::bytea, $13::bigint FROM go WHERE go.ok AND $12::bytea IS NOT NULL), "
      "ins AS (INSERT INTO objects (account, container, name, blob_id, size, etag, "
      "content_type, timestamp_us, delete_at, meta, held_bytes) "
      "SELECT $1, $2, $3, $4, $5::bigint, $6, $7, $8::bigint, $9::bigint, $10::bytea, "
      "$14::bigint FROM go WHERE go.ok "
      "ON CONFLICT (account, container, name) DO UPDATE SET blob_id = excluded.blob_id, "
      "size = excluded.size, etag = excluded.etag, content_type = excluded.content_type, "
      "timestamp_us = excluded.timestamp_us, delete_at = excluded.delete_at, "
      "meta = excluded.meta, held_bytes = excluded.held_bytes RETURNING 1), "
      "cnt AS (UPDATE containers SET "
      "object_count = object_count + CASE WHEN EXISTS (SELECT 1 FROM prev) THEN 0 ELSE 1 END, "
      "bytes_used = bytes_used + coalesce($14::bigint, $5::bigint) "
      "- coalesce((SELECT coalesce(held_bytes, size) FROM prev), 0) "
      "WHERE account = $1 AND name = $2 AND EXISTS (SELECT 1 FROM ins)) "
      "SELECT " +
      std::string(kPreviousColumns) + " FROM prev";
  if (cond.blob_bytes && o.blob_id.empty()) {
    return make_error(ErrorCode::kInternal, "blob bytes without a blob id");
  }
  PutObjectResult result;
  ONESTACK_TRY(write([&](Connection& conn) -> Status {
    result = PutObjectResult{};
    auto exists = lock_container(conn, o.account, o.container);
    if (!exists.ok()) return std::move(exists).error();
    if (!*exists) return container_not_found(o.account, o.container);
    if (cond.blob_shared && !o.blob_id.empty()) {
      auto referenced = select_blob_referenced(conn, o.blob_id, /*lock=*/true);
      if (!referenced.ok()) return std::move(referenced).error();
      if (!*referenced) {
        return make_error(ErrorCode::kConflict,
                          "blob " + o.blob_id + " is no longer referenced by any object");
      }
    }
    Params p;
    p.add(o.account).add(o.container).add(o.name).add(o.blob_id).add(o.size).add(o.etag);
    p.add(o.content_type).add(o.timestamp_us).add(o.delete_at).add_bytes(encode_meta(o.meta));
    p.add(cond.if_none_match);
    if (cond.blob_bytes) {
      p.add_bytes(*cond.blob_bytes);
    } else {
      p.add_null();
    }
    // One clock reading decides both in the statement and here whether the
    // row replaced had expired.
    const int64_t now_unix = static_cast<int64_t>(std::time(nullptr));
    p.add(now_unix);
    if (o.held_bytes) {
      p.add(static_cast<int64_t>(*o.held_bytes));
    } else {
      p.add_null();
    }
    auto rows = conn.query(kSql, p);
    if (!rows.ok()) return std::move(rows).error();
    if (rows->empty()) return ok_status();
    auto previous = read_previous(*rows, o.account, o.container, o.name);
    if (!previous.ok()) return std::move(previous).error();
    const bool live = previous->delete_at == 0 || previous->delete_at > now_unix;
    if (cond.if_none_match && live) {
      return make_error(ErrorCode::kPreconditionFailed,
                        "object " + o.account + "/" + o.container + "/" + o.name + " exists");
    }
    if (previous->blob_id != o.blob_id) {
      // Its own statement, after the row is written: a fresh snapshot sees
      // a row another node added meanwhile under its share lock.
      ONESTACK_TRY(collect_if_unreferenced(conn, previous->blob_id, result.freed_blobs));
    }
    result.previous = std::move(*previous);
    return ok_status();
  }));
  return result;
}

Status PgObjectStore::update_object(const std::string& account, const std::string& container,
                                    const std::string& name, const Metadata& meta,
                                    const std::string& content_type, int64_t delete_at) {
  return write([&](Connection& conn) -> Status {
    Params p;
    p.add(account).add(container).add(name).add_bytes(encode_meta(meta)).add(content_type);
    p.add(delete_at);
    auto changed = conn.run(
        "UPDATE objects SET meta = $4, content_type = $5, delete_at = $6 "
        "WHERE account = $1 AND container = $2 AND name = $3",
        p);
    if (!changed.ok()) return std::move(changed).error();
    if (*changed == 0) return object_not_found(account, container, name);
    return ok_status();
  });
}

Result<DeleteObjectResult> PgObjectStore::delete_object(const std::string& account,
                                                        const std::string& container,
                                                        const std::string& name,
                                                        std::optional<int64_t> only_if_delete_at) {
  static const std::string kSql =
      "WITH del AS (DELETE FROM objects WHERE account = $1 AND container = $2 AND name = $3 "
      "AND ($4::bigint IS NULL OR delete_at = $4::bigint) RETURNING " +
      std::string(kPreviousColumns) +
      "), "
      "cnt AS (UPDATE containers SET object_count = object_count - 1, "
      "bytes_used = bytes_used - (SELECT coalesce(held_bytes, size) FROM del) "
      "WHERE account = $1 AND name = $2 AND EXISTS (SELECT 1 FROM del)) "
      "SELECT " +
      std::string(kPreviousColumns) + " FROM del";
  DeleteObjectResult result;
  ONESTACK_TRY(write([&](Connection& conn) -> Status {
    result = DeleteObjectResult{};
    auto exists = lock_container(conn, account, container);
    if (!exists.ok()) return std::move(exists).error();
    if (!*exists) return object_not_found(account, container, name);
    Params p;
    p.add(account).add(container).add(name);
    if (only_if_delete_at) {
      p.add(*only_if_delete_at);
    } else {
      p.add_null();
    }
    auto rows = conn.query(kSql, p);
    if (!rows.ok()) return std::move(rows).error();
    if (rows->empty()) {
      if (!only_if_delete_at) return object_not_found(account, container, name);
      auto current = select_object(conn, account, container, name);
      if (!current.ok()) return std::move(current).error();
      if (!*current) return object_not_found(account, container, name);
      return make_error(ErrorCode::kPreconditionFailed, "object " + account + "/" + container +
                                                            "/" + name + " no longer expires at " +
                                                            std::to_string(*only_if_delete_at));
    }
    auto previous = read_previous(*rows, account, container, name);
    if (!previous.ok()) return std::move(previous).error();
    ONESTACK_TRY(collect_if_unreferenced(conn, previous->blob_id, result.freed_blobs));
    result.previous = std::move(*previous);
    return ok_status();
  }));
  return result;
}

Result<std::vector<ObjectRecord>> PgObjectStore::list_expired(int64_t now_unix, size_t limit) {
  static const std::string kSql = "SELECT " + std::string(kObjectColumns) +
                                  " FROM objects WHERE delete_at > 0 AND delete_at <= $1 "
                                  "ORDER BY delete_at, account, container, name LIMIT $2";
  std::vector<ObjectRecord> out;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    Params p;
    p.add(now_unix).add(static_cast<int64_t>(limit));
    auto rows = conn.query(kSql, p);
    if (!rows.ok()) return std::move(rows).error();
    return collect_objects(*rows, out);
  }));
  return out;
}

Result<bool> PgObjectStore::blob_referenced(const std::string& blob_id) {
  bool referenced = false;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    auto r = select_blob_referenced(conn, blob_id, /*lock=*/false);
    if (!r.ok()) return std::move(r).error();
    referenced = *r;
    return ok_status();
  }));
  return referenced;
}

Result<std::vector<ObjectRecord>> PgObjectStore::rows_for_blob(const std::string& blob_id,
                                                               size_t limit) {
  static const std::string kSql = "SELECT " + std::string(kObjectColumns) +
                                  " FROM objects WHERE blob_id = $1 AND blob_id <> '' "
                                  "ORDER BY account, container, name LIMIT $2";
  std::vector<ObjectRecord> out;
  if (blob_id.empty()) return out;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    Params p;
    p.add(blob_id).add(static_cast<int64_t>(limit));
    auto rows = conn.query(kSql, p);
    if (!rows.ok()) return std::move(rows).error();
    return collect_objects(*rows, out);
  }));
  return out;
}

Result<std::vector<ContainerRecord>> PgObjectStore::list_sync_containers(
    const std::string& after_account, const std::string& after_name, size_t limit) {
  // "WHERE syncs" is the partial index's own condition, so the query walks
  // only the containers that sync.
  static const std::string kSql = "SELECT " + std::string(kContainerColumns) +
                                  " FROM containers WHERE syncs AND (account, name) > ($1, $2)"
                                  " ORDER BY account, name LIMIT $3";
  std::vector<ContainerRecord> out;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    Params p;
    p.add(after_account).add(after_name).add(static_cast<int64_t>(limit));
    auto rows = conn.query(kSql, p);
    if (!rows.ok()) return std::move(rows).error();
    for (int i = 0; i < rows->size(); ++i) {
      auto c = read_container(*rows, i);
      if (!c.ok()) return std::move(c).error();
      out.push_back(std::move(*c));
    }
    return ok_status();
  }));
  return out;
}

Result<bool> PgObjectStore::acquire_lease(const std::string& name, const std::string& holder,
                                          std::chrono::seconds ttl) {
  bool held = false;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    Params p;
    p.add(name).add(holder).add(static_cast<int64_t>(ttl.count()));
    auto rows = conn.query(
        "INSERT INTO leases AS l (name, holder, expires_at) "
        "VALUES ($1, $2, now() + $3::bigint * interval '1 second') "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
        "expires_at = excluded.expires_at "
        "WHERE l.holder = excluded.holder OR l.expires_at < now() RETURNING holder",
        p);
    if (!rows.ok()) return std::move(rows).error();
    held = !rows->empty();
    return ok_status();
  }));
  return held;
}

// ---- small blobs ----

Status PgObjectStore::put_small_blob(const std::string& id, std::string_view data,
                                     int64_t mtime_unix) {
  Status st =
      write([&](Connection& conn) { return insert_small_blob(conn, id, data, mtime_unix); });
  if (!st.ok() && st.error().code == ErrorCode::kConflict) {
    return make_error(ErrorCode::kInternal, "small blob " + id + " is stored already");
  }
  return st;
}

Result<std::shared_ptr<const std::string>> PgObjectStore::get_small_blob(const std::string& id) {
  std::shared_ptr<const std::string> found;
  ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
    Params p;
    p.add(id);
    auto rows = conn.query("SELECT data FROM small_blobs WHERE id = $1", p);
    if (!rows.ok()) return std::move(rows).error();
    if (!rows->empty()) found = std::make_shared<const std::string>(rows->bytes(0, 0));
    return ok_status();
  }));
  return found;
}

Status PgObjectStore::remove_small_blob(const std::string& id) {
  return write([&](Connection& conn) -> Status {
    Params p;
    p.add(id);
    auto r = conn.run("DELETE FROM small_blobs WHERE id = $1", p);
    if (!r.ok()) return std::move(r).error();
    return ok_status();
  });
}

Status PgObjectStore::quarantine_small_blob(const std::string& id) {
  return write([&](Connection& conn) -> Status {
    Params p;
    p.add(id);
    auto moved = conn.run(
        "INSERT INTO quarantined_small_blobs (id, data, mtime_unix) "
        "SELECT id, data, mtime_unix FROM small_blobs WHERE id = $1 "
        "ON CONFLICT (id) DO UPDATE SET data = excluded.data, mtime_unix = excluded.mtime_unix",
        p);
    if (!moved.ok()) return std::move(moved).error();
    auto removed = conn.run("DELETE FROM small_blobs WHERE id = $1", p);
    if (!removed.ok()) return std::move(removed).error();
    return ok_status();
  });
}

Status PgObjectStore::for_each_small_blob(const std::function<bool(const blob::BlobInfo&)>& fn) {
  // Pages of ids, `fn` called between them: a pass over many blobs holds no
  // connection while the caller works (and may call back into the store).
  constexpr int64_t kPage = 512;
  std::string after;
  while (true) {
    std::vector<blob::BlobInfo> page;
    ONESTACK_TRY(pool_->with_connection([&](Connection& conn) -> Status {
      Params p;
      p.add(after).add(kPage);
      auto rows = conn.query(
          "SELECT id, length(data), mtime_unix FROM small_blobs WHERE id > $1 "
          "ORDER BY id LIMIT $2",
          p);
      if (!rows.ok()) return std::move(rows).error();
      for (int i = 0; i < rows->size(); ++i) {
        page.push_back(blob::BlobInfo{rows->str(i, 0), static_cast<uint64_t>(rows->int64(i, 1)),
                                      rows->int64(i, 2)});
      }
      return ok_status();
    }));
    for (const blob::BlobInfo& info : page) {
      if (!fn(info)) return ok_status();
    }
    if (page.size() < static_cast<size_t>(kPage)) return ok_status();
    after = page.back().id;
  }
}

}  // namespace onestack::store::pg
