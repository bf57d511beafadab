#include "store/sqlite/object_store_sqlite.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <ctime>
#include <exception>
#include <optional>
#include <utility>

#include "store/object_listing.h"
#include "store/sqlite/object_migrations.h"

namespace onestack::store::sqlite {

namespace json = boost::json;

namespace {

using listing::FetchPage;
using listing::list_page;
using listing::NameRange;
using listing::Visit;

// ---- metadata ----

// Metadata is stored as a flat JSON object of strings. Header values are
// bytes, not necessarily UTF-8; boost::json writes such bytes through
// unchanged and reads them back with allow_invalid_utf8, so any value
// round-trips.
std::string encode_meta(const Metadata& meta) {
  json::object o;
  for (const auto& [key, value] : meta) o[key] = value;
  return json::serialize(o);
}

Result<Metadata> decode_meta(const std::string& text) {
  if (text == "{}") return Metadata{};  // most rows: no parse on the listing path
  json::parse_options opts;
  opts.max_depth = 2;
  opts.allow_invalid_utf8 = true;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec || !v.is_object()) {
    return make_error(ErrorCode::kInternal, "stored metadata is not a JSON object: " + text);
  }
  Metadata meta;
  for (const auto& kv : v.as_object()) {
    if (!kv.value().is_string()) {
      return make_error(ErrorCode::kInternal, "stored metadata value is not a string: " + text);
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

Result<ContainerRecord> read_container(const Statement& stmt) {
  ContainerRecord c;
  c.account = stmt.text(0);
  c.name = stmt.text(1);
  c.created_us = stmt.int64(2);
  c.put_us = stmt.int64(3);
  auto meta = decode_meta(stmt.text(4));
  if (!meta.ok()) return std::move(meta).error();
  c.meta = std::move(*meta);
  c.storage_policy = stmt.text(5);
  c.object_count = static_cast<uint64_t>(stmt.int64(6));
  c.bytes_used = static_cast<uint64_t>(stmt.int64(7));
  return c;
}

constexpr std::string_view kObjectColumns =
    "account, container, name, blob_id, size, etag, content_type, timestamp_us, delete_at, meta, "
    "held_bytes";

Result<ObjectRecord> read_object(const Statement& stmt) {
  ObjectRecord o;
  o.account = stmt.text(0);
  o.container = stmt.text(1);
  o.name = stmt.text(2);
  o.blob_id = stmt.text(3);
  o.size = static_cast<uint64_t>(stmt.int64(4));
  o.etag = stmt.text(5);
  o.content_type = stmt.text(6);
  o.timestamp_us = stmt.int64(7);
  o.delete_at = stmt.int64(8);
  auto meta = decode_meta(stmt.text(9));
  if (!meta.ok()) return std::move(meta).error();
  o.meta = std::move(*meta);
  if (!stmt.is_null(10)) o.held_bytes = static_cast<uint64_t>(stmt.int64(10));
  return o;
}

// Steps `stmt` to the end, appending each object row to `out`.
Status collect_objects(Statement& stmt, std::vector<ObjectRecord>& out) {
  while (true) {
    auto row = stmt.step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return ok_status();
    auto o = read_object(stmt);
    if (!o.ok()) return std::move(o).error();
    out.push_back(std::move(*o));
  }
}

// Runs a statement that takes no parameters through the statement cache.
Status run_cached(Connection& conn, std::string_view sql) {
  auto stmt = conn.prepare(sql);
  if (!stmt.ok()) return std::move(stmt).error();
  return stmt->run();
}

// Reads the metadata of account `account`, nullopt if absent.
Result<std::optional<Metadata>> select_account_meta(Connection& conn, const std::string& account) {
  auto stmt = conn.prepare("SELECT meta FROM accounts WHERE name = ?1");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, account);
  auto row = stmt->step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<Metadata>{};
  auto meta = decode_meta(stmt->text(0));
  if (!meta.ok()) return std::move(meta).error();
  return std::optional<Metadata>(std::move(*meta));
}

Status insert_account_if_absent(Connection& conn, const std::string& account, int64_t created_us,
                                int64_t put_us) {
  auto stmt = conn.prepare(
      "INSERT OR IGNORE INTO accounts (name, created_us, put_us, meta) VALUES (?1, ?2, ?3, '{}')");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, account).bind(2, created_us).bind(3, put_us);
  return stmt->run();
}

Result<std::optional<ContainerRecord>> select_container(Connection& conn,
                                                        const std::string& account,
                                                        const std::string& container) {
  auto stmt = conn.prepare("SELECT " + std::string(kContainerColumns) +
                           " FROM containers WHERE account = ?1 AND name = ?2");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, account).bind(2, container);
  auto row = stmt->step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<ContainerRecord>{};
  auto c = read_container(*stmt);
  if (!c.ok()) return std::move(c).error();
  return std::optional<ContainerRecord>(std::move(*c));
}

Result<bool> container_exists(Connection& conn, const std::string& account,
                              const std::string& container) {
  auto stmt = conn.prepare("SELECT 1 FROM containers WHERE account = ?1 AND name = ?2");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, account).bind(2, container);
  return stmt->step();
}

Result<std::optional<ObjectRecord>> select_object(Connection& conn, const std::string& account,
                                                  const std::string& container,
                                                  const std::string& name) {
  auto stmt = conn.prepare("SELECT " + std::string(kObjectColumns) +
                           " FROM objects WHERE account = ?1 AND container = ?2 AND name = ?3");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, account).bind(2, container).bind(3, name);
  auto row = stmt->step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<ObjectRecord>{};
  auto o = read_object(*stmt);
  if (!o.ok()) return std::move(o).error();
  return std::optional<ObjectRecord>(std::move(*o));
}

// Whether any object row refers to `blob_id`. The second condition repeats
// the partial index's own so that SQLite may use it.
Result<bool> select_blob_referenced(Connection& conn, const std::string& blob_id) {
  if (blob_id.empty()) return false;
  auto stmt = conn.prepare("SELECT 1 FROM objects WHERE blob_id = ?1 AND blob_id != '' LIMIT 1");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, blob_id);
  return stmt->step();
}

Status add_to_container_counters(Connection& conn, const std::string& account,
                                 const std::string& container, int64_t objects, int64_t bytes) {
  auto stmt = conn.prepare(
      "UPDATE containers SET object_count = object_count + ?3, bytes_used = bytes_used + ?4 "
      "WHERE account = ?1 AND name = ?2");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, account).bind(2, container).bind(3, objects).bind(4, bytes);
  return stmt->run();
}

// Appends `blob_id` to `freed` if it names a blob no row refers to any more.
Status insert_small_blob(Connection& conn, const std::string& id, std::string_view data,
                         int64_t mtime_unix) {
  auto stmt = conn.prepare("INSERT INTO small_blobs (id, data, mtime_unix) VALUES (?1, ?2, ?3)");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, id).bind_blob(2, data).bind(3, mtime_unix);
  return stmt->run();
}

Status collect_if_unreferenced(Connection& conn, const std::string& blob_id,
                               std::vector<std::string>& freed) {
  if (blob_id.empty()) return ok_status();
  auto referenced = select_blob_referenced(conn, blob_id);
  if (!referenced.ok()) return std::move(referenced).error();
  if (!*referenced) freed.push_back(blob_id);
  return ok_status();
}

// ---- listings ----

// Builds `head` (which binds ?1 and ?2) + the bounds as ?3 and ?4 + the
// order + "LIMIT ?5". Every variant binds the same parameter numbers, so one
// binding routine serves all; SQLite caches each variant's statement.
std::string range_sql(std::string_view head, const NameRange& r, bool reverse) {
  std::string sql(head);
  if (r.lower) sql += r.lower_inclusive ? " AND name >= ?3" : " AND name > ?3";
  if (r.upper) sql += r.upper_inclusive ? " AND name <= ?4" : " AND name < ?4";
  sql += reverse ? " ORDER BY name DESC LIMIT ?5" : " ORDER BY name LIMIT ?5";
  return sql;
}

Status read_entry(const Statement& stmt, ContainerListEntry& e) {
  auto c = read_container(stmt);
  if (!c.ok()) return std::move(c).error();
  e.container = std::move(*c);
  return ok_status();
}

Status read_entry(const Statement& stmt, ObjectListEntry& e) {
  auto o = read_object(stmt);
  if (!o.ok()) return std::move(o).error();
  e.object = std::move(*o);
  return ok_status();
}

// The columns read_entry(ObjectListRow) reads: what a listing shows.
constexpr std::string_view kObjectListColumns =
    "name, etag, size, content_type, timestamp_us, meta";

// Reads into the strings already there (no allocation once they are big
// enough); the metadata is parsed only for a symlink's target or a
// versioned object's version.
Status read_entry(const Statement& stmt, ObjectListRow& e) {
  e.name.assign(stmt.text_view(0));
  e.etag.assign(stmt.text_view(1));
  e.size = static_cast<uint64_t>(stmt.int64(2));
  e.content_type.assign(stmt.text_view(3));
  e.timestamp_us = stmt.int64(4);
  e.symlink_target.clear();
  e.symlink_account.clear();
  e.symlink_etag.clear();
  e.symlink_bytes.clear();
  e.version_id.clear();
  std::string_view meta = stmt.text_view(5);
  if (meta.find("x-symlink-target") != std::string_view::npos ||
      meta.find("x-object-version-id") != std::string_view::npos) {
    auto m = decode_meta(std::string(meta));
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

// Runs one range query: `head` scoped by ?1 = scope1 and ?2 = scope2; calls
// `visit` with each row in order until it returns false. Counts rows read.
template <typename Entry>
Status fetch_range(Connection& conn, std::string_view head, const std::string& scope1,
                   const std::string& scope2, const NameRange& r, bool reverse, size_t limit,
                   std::atomic<uint64_t>& rows_read, const Visit<Entry>& visit) {
  auto stmt = conn.prepare(range_sql(head, r, reverse));
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, scope1).bind(2, scope2);
  stmt->bind(3, r.lower.value_or("")).bind(4, r.upper.value_or(""));
  stmt->bind(5, static_cast<int64_t>(limit));
  Entry entry;
  while (true) {
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return ok_status();
    rows_read.fetch_add(1, std::memory_order_relaxed);
    ONESTACK_TRY(read_entry(*stmt, entry));
    if (!visit(entry)) return ok_status();
  }
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

}  // namespace

// ---- group commit ----

SqliteObjectStore::SqliteObjectStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

SqliteObjectStore::~SqliteObjectStore() = default;

Result<std::unique_ptr<SqliteObjectStore>> SqliteObjectStore::open(const std::string& path,
                                                                   Options options) {
  auto db = Database::open(path, options);
  if (!db.ok()) return std::move(db).error();
  ONESTACK_TRY(migrate(**db, object_migrations()));
  return std::make_unique<SqliteObjectStore>(std::move(*db));
}

Status SqliteObjectStore::write(const Op& op) {
  write_ops_.fetch_add(1, std::memory_order_relaxed);
  return queue_.submit(op, [this](const std::vector<Writer*>& batch) { run_batch(batch); });
}

void SqliteObjectStore::run_batch(const std::vector<Writer*>& batch) {
  commits_.fetch_add(1, std::memory_order_relaxed);
  if (batch.size() == 1) {
    // Alone, a failing op simply rolls the transaction back.
    const Op& op = batch[0]->op;
    batch[0]->result = db_->write([&](Connection& conn) { return run_op(op, conn); });
    return;
  }
  Status st = db_->write([&](Connection& conn) -> Status {
    for (Writer* w : batch) {
      ONESTACK_TRY(run_cached(conn, "SAVEPOINT op"));
      w->result = run_op(w->op, conn);
      if (!w->result.ok()) {
        // If SQLite already rolled the whole transaction back (e.g. after
        // SQLITE_FULL), this fails and so does the batch, as it must.
        ONESTACK_TRY(run_cached(conn, "ROLLBACK TO op"));
      }
      ONESTACK_TRY(run_cached(conn, "RELEASE op"));
    }
    return ok_status();
  });
  if (!st.ok()) {
    for (Writer* w : batch) w->result = st;
  }
}

// ---- accounts ----

Result<AccountRecord> SqliteObjectStore::get_account(const std::string& account) {
  std::optional<AccountRecord> found;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("SELECT name, created_us, put_us, meta FROM accounts WHERE name = ?1");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, account);
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return ok_status();
    AccountRecord a;
    a.name = stmt->text(0);
    a.created_us = stmt->int64(1);
    a.put_us = stmt->int64(2);
    auto meta = decode_meta(stmt->text(3));
    if (!meta.ok()) return std::move(meta).error();
    a.meta = std::move(*meta);

    auto totals = conn.prepare(
        "SELECT count(*), coalesce(sum(object_count), 0), coalesce(sum(bytes_used), 0) "
        "FROM containers WHERE account = ?1");
    if (!totals.ok()) return std::move(totals).error();
    totals->bind(1, account);
    auto trow = totals->step();
    if (!trow.ok()) return std::move(trow).error();
    if (*trow) {
      a.container_count = static_cast<uint64_t>(totals->int64(0));
      a.object_count = static_cast<uint64_t>(totals->int64(1));
      a.bytes_used = static_cast<uint64_t>(totals->int64(2));
    }
    found = std::move(a);
    return ok_status();
  }));
  if (!found) return account_not_found(account);
  return std::move(*found);
}

Status SqliteObjectStore::ensure_account(const std::string& account, int64_t now_us) {
  return write([&](Connection& conn) -> Status {
    return insert_account_if_absent(conn, account, now_us, now_us);
  });
}

Status SqliteObjectStore::update_account_meta(const std::string& account, const Metadata& updates,
                                              int64_t now_us) {
  return write([&](Connection& conn) -> Status {
    ONESTACK_TRY(insert_account_if_absent(conn, account, now_us, now_us));
    auto meta = select_account_meta(conn, account);
    if (!meta.ok()) return std::move(meta).error();
    if (!*meta) return account_not_found(account);
    Metadata merged = std::move(**meta);
    apply_updates(merged, updates);
    auto stmt = conn.prepare("UPDATE accounts SET meta = ?2 WHERE name = ?1");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, account).bind(2, encode_meta(merged));
    return stmt->run();
  });
}

Result<std::vector<ContainerListEntry>> SqliteObjectStore::list_containers(
    const std::string& account, const ListQuery& q) {
  static const std::string kHead =
      "SELECT " + std::string(kContainerColumns) + " FROM containers WHERE account = ?1";
  std::vector<ContainerListEntry> out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    FetchPage<ContainerListEntry> fetch = [&](const NameRange& r, size_t limit,
                                              const Visit<ContainerListEntry>& visit) {
      return fetch_range<ContainerListEntry>(conn, kHead, account, "", r, q.reverse, limit,
                                             listing_rows_, visit);
    };
    return list_page<ContainerListEntry>(
        q, /*allow_path=*/false, fetch,
        [&](ContainerListEntry& e) { out.push_back(std::move(e)); });
  }));
  return out;
}

// ---- containers ----

Result<bool> SqliteObjectStore::create_container(const ContainerRecord& c) {
  bool created = false;
  ONESTACK_TRY(write([&](Connection& conn) -> Status {
    created = false;
    ONESTACK_TRY(insert_account_if_absent(conn, c.account, c.created_us, c.put_us));
    auto existing = select_container(conn, c.account, c.name);
    if (!existing.ok()) return std::move(existing).error();
    if (*existing) {
      Metadata merged = std::move((*existing)->meta);
      apply_updates(merged, c.meta);
      auto stmt = conn.prepare(
          "UPDATE containers SET meta = ?3, put_us = max(put_us, ?4) "
          "WHERE account = ?1 AND name = ?2");
      if (!stmt.ok()) return std::move(stmt).error();
      stmt->bind(1, c.account).bind(2, c.name).bind(3, encode_meta(merged)).bind(4, c.put_us);
      return stmt->run();
    }
    Metadata meta;
    apply_updates(meta, c.meta);  // drops empty values
    auto stmt = conn.prepare(
        "INSERT INTO containers (account, name, created_us, put_us, meta, storage_policy, "
        "object_count, bytes_used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, c.account).bind(2, c.name).bind(3, c.created_us).bind(4, c.put_us);
    stmt->bind(5, encode_meta(meta)).bind(6, c.storage_policy);
    ONESTACK_TRY(stmt->run());
    created = true;
    return ok_status();
  }));
  return created;
}

Result<ContainerRecord> SqliteObjectStore::get_container(const std::string& account,
                                                         const std::string& container) {
  std::optional<ContainerRecord> found;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto c = select_container(conn, account, container);
    if (!c.ok()) return std::move(c).error();
    found = std::move(*c);
    return ok_status();
  }));
  if (!found) return container_not_found(account, container);
  return std::move(*found);
}

Status SqliteObjectStore::update_container_meta(const std::string& account,
                                                const std::string& container,
                                                const Metadata& updates,
                                                std::optional<int64_t> put_us) {
  return write([&](Connection& conn) -> Status {
    auto existing = select_container(conn, account, container);
    if (!existing.ok()) return std::move(existing).error();
    if (!*existing) return container_not_found(account, container);
    Metadata merged = std::move((*existing)->meta);
    apply_updates(merged, updates);
    const int64_t put = put_us.value_or((*existing)->put_us);
    auto stmt = conn.prepare(
        "UPDATE containers SET meta = ?3, put_us = ?4 WHERE account = ?1 AND name = ?2");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, account).bind(2, container).bind(3, encode_meta(merged)).bind(4, put);
    return stmt->run();
  });
}

Status SqliteObjectStore::delete_container(const std::string& account,
                                           const std::string& container) {
  return write([&](Connection& conn) -> Status {
    auto existing = select_container(conn, account, container);
    if (!existing.ok()) return std::move(existing).error();
    if (!*existing) return container_not_found(account, container);
    if ((*existing)->object_count > 0) {
      return make_error(ErrorCode::kConflict,
                        "container " + account + "/" + container + " is not empty");
    }
    auto stmt = conn.prepare("DELETE FROM containers WHERE account = ?1 AND name = ?2");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, account).bind(2, container);
    return stmt->run();
  });
}

Result<std::vector<ObjectListEntry>> SqliteObjectStore::list_objects(const std::string& account,
                                                                     const std::string& container,
                                                                     const ListQuery& q) {
  static const std::string kHead = "SELECT " + std::string(kObjectColumns) +
                                   " FROM objects WHERE account = ?1 AND container = ?2";
  std::vector<ObjectListEntry> out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    // Same snapshot as the rows: a listing of a container that does not
    // exist is an error, not an empty page.
    auto exists = container_exists(conn, account, container);
    if (!exists.ok()) return std::move(exists).error();
    if (!*exists) return container_not_found(account, container);
    FetchPage<ObjectListEntry> fetch = [&](const NameRange& r, size_t limit,
                                           const Visit<ObjectListEntry>& visit) {
      return fetch_range<ObjectListEntry>(conn, kHead, account, container, r, q.reverse, limit,
                                          listing_rows_, visit);
    };
    return list_page<ObjectListEntry>(q, /*allow_path=*/true, fetch,
                                      [&](ObjectListEntry& e) { out.push_back(std::move(e)); });
  }));
  return out;
}

Status SqliteObjectStore::scan_objects(const std::string& account, const std::string& container,
                                       const ListQuery& q, const ObjectRowVisitor& visit) {
  static const std::string kHead = "SELECT " + std::string(kObjectListColumns) +
                                   " FROM objects WHERE account = ?1 AND container = ?2";
  return db_->read([&](Connection& conn) -> Status {
    auto exists = container_exists(conn, account, container);
    if (!exists.ok()) return std::move(exists).error();
    if (!*exists) return container_not_found(account, container);
    FetchPage<ObjectListRow> fetch = [&](const NameRange& r, size_t limit,
                                         const Visit<ObjectListRow>& v) {
      return fetch_range<ObjectListRow>(conn, kHead, account, container, r, q.reverse, limit,
                                        listing_rows_, v);
    };
    return list_page<ObjectListRow>(q, /*allow_path=*/true, fetch,
                                    [&](ObjectListRow& e) { visit(e); });
  });
}

// ---- objects ----

Result<ObjectRecord> SqliteObjectStore::get_object(const std::string& account,
                                                   const std::string& container,
                                                   const std::string& name) {
  std::optional<ObjectRecord> found;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto o = select_object(conn, account, container, name);
    if (!o.ok()) return std::move(o).error();
    found = std::move(*o);
    return ok_status();
  }));
  if (!found) return object_not_found(account, container, name);
  return std::move(*found);
}

Result<PutObjectResult> SqliteObjectStore::put_object(const ObjectRecord& o,
                                                      const PutConditions& cond) {
  PutObjectResult result;
  ONESTACK_TRY(write([&](Connection& conn) -> Status {
    result = PutObjectResult{};
    auto exists = container_exists(conn, o.account, o.container);
    if (!exists.ok()) return std::move(exists).error();
    if (!*exists) return container_not_found(o.account, o.container);
    auto previous = select_object(conn, o.account, o.container, o.name);
    if (!previous.ok()) return std::move(previous).error();
    const int64_t now_unix = static_cast<int64_t>(std::time(nullptr));
    if (*previous && cond.if_none_match &&
        !((*previous)->delete_at > 0 && (*previous)->delete_at <= now_unix)) {
      return make_error(ErrorCode::kPreconditionFailed,
                        "object " + o.account + "/" + o.container + "/" + o.name + " exists");
    }
    if (cond.blob_shared && !o.blob_id.empty()) {
      auto referenced = select_blob_referenced(conn, o.blob_id);
      if (!referenced.ok()) return std::move(referenced).error();
      if (!*referenced) {
        return make_error(ErrorCode::kConflict,
                          "blob " + o.blob_id + " is no longer referenced by any object");
      }
    }
    if (cond.blob_bytes) {
      if (o.blob_id.empty())
        return make_error(ErrorCode::kInternal, "blob bytes without a blob id");
      ONESTACK_TRY(insert_small_blob(conn, o.blob_id, *cond.blob_bytes,
                                     static_cast<int64_t>(std::time(nullptr))));
    }
    auto stmt = conn.prepare(
        "INSERT OR REPLACE INTO objects (account, container, name, blob_id, size, etag, "
        "content_type, timestamp_us, delete_at, meta, held_bytes) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, o.account).bind(2, o.container).bind(3, o.name).bind(4, o.blob_id);
    stmt->bind(5, static_cast<int64_t>(o.size)).bind(6, o.etag).bind(7, o.content_type);
    stmt->bind(8, o.timestamp_us).bind(9, o.delete_at).bind(10, encode_meta(o.meta));
    if (o.held_bytes) {
      stmt->bind(11, static_cast<int64_t>(*o.held_bytes));
    } else {
      stmt->bind_null(11);
    }
    ONESTACK_TRY(stmt->run());

    const int64_t old_usage = *previous ? static_cast<int64_t>(usage_of(**previous)) : 0;
    ONESTACK_TRY(add_to_container_counters(conn, o.account, o.container, *previous ? 0 : 1,
                                           static_cast<int64_t>(usage_of(o)) - old_usage));
    if (*previous && (*previous)->blob_id != o.blob_id) {
      ONESTACK_TRY(collect_if_unreferenced(conn, (*previous)->blob_id, result.freed_blobs));
    }
    result.previous = std::move(*previous);
    return ok_status();
  }));
  return result;
}

Status SqliteObjectStore::update_object(const std::string& account, const std::string& container,
                                        const std::string& name, const Metadata& meta,
                                        const std::string& content_type, int64_t delete_at) {
  return write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "UPDATE objects SET meta = ?4, content_type = ?5, delete_at = ?6 "
        "WHERE account = ?1 AND container = ?2 AND name = ?3");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, account).bind(2, container).bind(3, name);
    stmt->bind(4, encode_meta(meta)).bind(5, content_type).bind(6, delete_at);
    ONESTACK_TRY(stmt->run());
    if (conn.changes() == 0) return object_not_found(account, container, name);
    return ok_status();
  });
}

Result<DeleteObjectResult> SqliteObjectStore::delete_object(
    const std::string& account, const std::string& container, const std::string& name,
    std::optional<int64_t> only_if_delete_at) {
  DeleteObjectResult result;
  ONESTACK_TRY(write([&](Connection& conn) -> Status {
    result = DeleteObjectResult{};
    auto previous = select_object(conn, account, container, name);
    if (!previous.ok()) return std::move(previous).error();
    if (!*previous) return object_not_found(account, container, name);
    if (only_if_delete_at && (*previous)->delete_at != *only_if_delete_at) {
      return make_error(ErrorCode::kPreconditionFailed, "object " + account + "/" + container +
                                                            "/" + name + " no longer expires at " +
                                                            std::to_string(*only_if_delete_at));
    }
    auto stmt =
        conn.prepare("DELETE FROM objects WHERE account = ?1 AND container = ?2 AND name = ?3");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, account).bind(2, container).bind(3, name);
    ONESTACK_TRY(stmt->run());
    ONESTACK_TRY(add_to_container_counters(conn, account, container, -1,
                                           -static_cast<int64_t>(usage_of(**previous))));
    ONESTACK_TRY(collect_if_unreferenced(conn, (*previous)->blob_id, result.freed_blobs));
    result.previous = std::move(**previous);
    return ok_status();
  }));
  return result;
}

Result<std::vector<ObjectRecord>> SqliteObjectStore::list_expired(int64_t now_unix, size_t limit) {
  static const std::string kSql = "SELECT " + std::string(kObjectColumns) +
                                  " FROM objects WHERE delete_at > 0 AND delete_at <= ?1 "
                                  "ORDER BY delete_at, account, container, name LIMIT ?2";
  std::vector<ObjectRecord> out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(kSql);
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, now_unix).bind(2, static_cast<int64_t>(limit));
    return collect_objects(*stmt, out);
  }));
  return out;
}

Result<bool> SqliteObjectStore::blob_referenced(const std::string& blob_id) {
  bool referenced = false;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto r = select_blob_referenced(conn, blob_id);
    if (!r.ok()) return std::move(r).error();
    referenced = *r;
    return ok_status();
  }));
  return referenced;
}

Result<std::vector<ObjectRecord>> SqliteObjectStore::rows_for_blob(const std::string& blob_id,
                                                                   size_t limit) {
  static const std::string kSql = "SELECT " + std::string(kObjectColumns) +
                                  " FROM objects WHERE blob_id = ?1 AND blob_id != '' "
                                  "ORDER BY account, container, name LIMIT ?2";
  std::vector<ObjectRecord> out;
  if (blob_id.empty()) return out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(kSql);
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, blob_id).bind(2, static_cast<int64_t>(limit));
    return collect_objects(*stmt, out);
  }));
  return out;
}

Result<std::vector<ContainerRecord>> SqliteObjectStore::list_sync_containers(
    const std::string& after_account, const std::string& after_name, size_t limit) {
  // The WHERE clause repeats the partial index's own (migration 2), so the
  // query walks only the containers that sync.
  static const std::string kSql =
      "SELECT " + std::string(kContainerColumns) +
      " FROM containers WHERE json_extract(meta, '$.\"x-container-sync-to\"') IS NOT NULL"
      " AND (account, name) > (?1, ?2) ORDER BY account, name LIMIT ?3";
  std::vector<ContainerRecord> out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(kSql);
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, after_account).bind(2, after_name).bind(3, static_cast<int64_t>(limit));
    while (true) {
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) return ok_status();
      auto c = read_container(*stmt);
      if (!c.ok()) return std::move(c).error();
      out.push_back(std::move(*c));
    }
  }));
  return out;
}

// ---- small blobs ----

Status SqliteObjectStore::put_small_blob(const std::string& id, std::string_view data,
                                         int64_t mtime_unix) {
  return write([&](Connection& conn) { return insert_small_blob(conn, id, data, mtime_unix); });
}

Result<std::shared_ptr<const std::string>> SqliteObjectStore::get_small_blob(
    const std::string& id) {
  std::shared_ptr<const std::string> found;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("SELECT data FROM small_blobs WHERE id = ?1");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, id);
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    if (*row) found = std::make_shared<const std::string>(stmt->blob_view(0));
    return ok_status();
  }));
  return found;
}

Status SqliteObjectStore::remove_small_blob(const std::string& id) {
  return write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("DELETE FROM small_blobs WHERE id = ?1");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, id);
    return stmt->run();
  });
}

Status SqliteObjectStore::quarantine_small_blob(const std::string& id) {
  return write([&](Connection& conn) -> Status {
    auto move = conn.prepare(
        "INSERT OR REPLACE INTO quarantined_small_blobs (id, data, mtime_unix) "
        "SELECT id, data, mtime_unix FROM small_blobs WHERE id = ?1");
    if (!move.ok()) return std::move(move).error();
    move->bind(1, id);
    ONESTACK_TRY(move->run());
    auto del = conn.prepare("DELETE FROM small_blobs WHERE id = ?1");
    if (!del.ok()) return std::move(del).error();
    del->bind(1, id);
    return del->run();
  });
}

Status SqliteObjectStore::for_each_small_blob(
    const std::function<bool(const blob::BlobInfo&)>& fn) {
  // Pages of ids read in short transactions, `fn` called between them: a
  // pass over many blobs neither pins the log nor holds a connection while
  // the caller works (and may call back into the store).
  constexpr int64_t kPage = 512;
  std::string after;
  while (true) {
    std::vector<blob::BlobInfo> page;
    ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
      auto stmt = conn.prepare(
          "SELECT id, length(data), mtime_unix FROM small_blobs WHERE id > ?1 "
          "ORDER BY id LIMIT ?2");
      if (!stmt.ok()) return std::move(stmt).error();
      stmt->bind(1, after).bind(2, kPage);
      while (true) {
        auto row = stmt->step();
        if (!row.ok()) return std::move(row).error();
        if (!*row) return ok_status();
        page.push_back(
            blob::BlobInfo{stmt->text(0), static_cast<uint64_t>(stmt->int64(1)), stmt->int64(2)});
      }
    }));
    for (const blob::BlobInfo& info : page) {
      if (!fn(info)) return ok_status();
    }
    if (page.size() < static_cast<size_t>(kPage)) return ok_status();
    after = page.back().id;
  }
}

}  // namespace onestack::store::sqlite
