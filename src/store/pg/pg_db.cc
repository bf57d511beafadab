#include "store/pg/pg_db.h"

#include <libpq-fe.h>

namespace onestack::store::pg {

namespace {

class PgTx final : public sql::Tx {
 public:
  explicit PgTx(Connection& conn) : conn_(conn) {}

  Result<sql::Rows> query(std::string_view text, const sql::Params& params) override {
    auto rows = conn_.query(text, convert(params));
    if (!rows.ok()) return std::move(rows).error();
    const int columns = rows->columns();
    sql::Rows out(static_cast<size_t>(columns));
    for (int r = 0; r < rows->size(); ++r) {
      for (int c = 0; c < columns; ++c) {
        sql::Value v;
        if (!rows->is_null(r, c)) {
          v.type = rows->is_bytea(c) ? sql::Value::Type::kBytes : sql::Value::Type::kText;
          v.text = rows->is_bytea(c) ? rows->bytes(r, c) : rows->str(r, c);
        }
        out.push(std::move(v));
      }
    }
    return out;
  }

  Result<int64_t> run(std::string_view text, const sql::Params& params) override {
    return conn_.run(text, convert(params));
  }

 private:
  static Params convert(const sql::Params& params) {
    Params p;
    for (const sql::Value& v : params.values()) {
      switch (v.type) {
        case sql::Value::Type::kNull: p.add_null(); break;
        case sql::Value::Type::kText: p.add(std::string_view(v.text)); break;
        case sql::Value::Type::kBytes: p.add_bytes(v.text); break;
        case sql::Value::Type::kInt: p.add(v.integer); break;
        case sql::Value::Type::kBool: p.add(v.integer != 0); break;
        case sql::Value::Type::kReal: p.add(v.real); break;
      }
    }
    return p;
  }

  Connection& conn_;
};

constexpr sql::Dialect kDialect{.name = "postgresql", .shared = true, .lock_rows = " FOR UPDATE"};

}  // namespace

std::string describe_target(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    if (err != nullptr) PQfreemem(err);
    return "PostgreSQL";
  }
  std::string host, port, db, user;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view k = o->keyword;
    if (k == "host" || (k == "hostaddr" && host.empty())) host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
    if (k == "user") user = o->val;
  }
  PQconninfoFree(opts);
  std::string out = "PostgreSQL database '" + (db.empty() ? std::string("(default)") : db) +
                    "' on " + (host.empty() ? std::string("(default host)") : host);
  if (!port.empty()) out += ":" + port;
  out += " as user '" + (user.empty() ? std::string("(default)") : user) + "'";
  return out;
}

Result<std::unique_ptr<PgDb>> PgDb::open(const std::string& conninfo, PoolOptions options,
                                         std::string_view component,
                                         std::span<const Migration> steps, std::string_view what) {
  auto pool = Pool::open(conninfo, options);
  if (!pool.ok()) {
    Error e = std::move(pool).error();
    return make_error(e.code, "cannot open " + std::string(what) + " in " +
                                  describe_target(conninfo) + ": " + e.message);
  }
  Status migrated = migrate(**pool, component, steps);
  if (!migrated.ok()) {
    return make_error(migrated.error().code, "cannot migrate " + std::string(what) + " in " +
                                                 describe_target(conninfo) + ": " +
                                                 migrated.error().message);
  }
  return std::make_unique<PgDb>(std::move(*pool));
}

const sql::Dialect& PgDb::dialect() const { return kDialect; }

Status PgDb::run_write(const std::function<Status(sql::Tx&)>& fn) {
  return pool_->write([&](Connection& conn) {
    PgTx tx(conn);
    return fn(tx);
  });
}

Status PgDb::run_read(const std::function<Status(sql::Tx&)>& fn) {
  return pool_->read([&](Connection& conn) {
    PgTx tx(conn);
    return fn(tx);
  });
}

}  // namespace onestack::store::pg
