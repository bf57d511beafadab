#include "store/sqlite/sqlite_db.h"

#include <cctype>
#include <optional>

namespace onestack::store::sqlite {

namespace {

class SqliteTx final : public sql::Tx {
 public:
  explicit SqliteTx(Connection& conn) : conn_(conn) {}

  Result<sql::Rows> query(std::string_view text, const sql::Params& params) override {
    auto stmt = prepare(text, params);
    if (!stmt.ok()) return std::move(stmt).error();
    std::optional<sql::Rows> rows;
    while (true) {
      auto more = stmt->step();
      if (!more.ok()) return std::move(more).error();
      if (!*more) break;
      const int n = stmt->column_count();
      if (!rows) rows.emplace(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) rows->push(cell(*stmt, c));
    }
    if (!rows) return sql::Rows();
    return std::move(*rows);
  }

  Result<int64_t> run(std::string_view text, const sql::Params& params) override {
    auto stmt = prepare(text, params);
    if (!stmt.ok()) return std::move(stmt).error();
    ONESTACK_TRY(stmt->run());
    return static_cast<int64_t>(conn_.changes());
  }

 private:
  Result<Statement> prepare(std::string_view text, const sql::Params& params) {
    auto stmt = conn_.prepare(sqlite_placeholders(text));
    if (!stmt.ok()) return stmt;
    const auto& values = params.values();
    for (size_t i = 0; i < values.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const sql::Value& v = values[i];
      switch (v.type) {
        case sql::Value::Type::kNull: stmt->bind_null(index); break;
        case sql::Value::Type::kText: stmt->bind(index, std::string_view(v.text)); break;
        case sql::Value::Type::kBytes: stmt->bind_blob(index, v.text); break;
        case sql::Value::Type::kInt:
        case sql::Value::Type::kBool: stmt->bind(index, v.integer); break;
        case sql::Value::Type::kReal: stmt->bind(index, v.real); break;
      }
    }
    return stmt;
  }

  static sql::Value cell(const Statement& stmt, int c) {
    sql::Value v;
    switch (stmt.column_type(c)) {
      case Statement::ColumnType::kNull: break;
      case Statement::ColumnType::kInteger:
        v.type = sql::Value::Type::kInt;
        v.integer = stmt.int64(c);
        break;
      case Statement::ColumnType::kReal:
        v.type = sql::Value::Type::kReal;
        v.real = stmt.real(c);
        break;
      case Statement::ColumnType::kText:
        v.type = sql::Value::Type::kText;
        v.text = stmt.text(c);
        break;
      case Statement::ColumnType::kBlob:
        v.type = sql::Value::Type::kBytes;
        v.text = std::string(stmt.blob_view(c));
        break;
    }
    return v;
  }

  Connection& conn_;
};

constexpr sql::Dialect kDialect{.name = "sqlite", .shared = false, .lock_rows = ""};

}  // namespace

std::string sqlite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;  // the quote character we are inside, or 0
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote reopens at once: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out += '?';
      continue;
    }
    out += c;
  }
  return out;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path, Options options,
                                                 std::span<const Migration> steps) {
  auto db = Database::open(path, options);
  if (!db.ok()) return std::move(db).error();
  ONESTACK_TRY(migrate(**db, steps));
  return std::make_unique<SqliteDb>(std::move(*db));
}

const sql::Dialect& SqliteDb::dialect() const { return kDialect; }

Status SqliteDb::run_write(const std::function<Status(sql::Tx&)>& fn) {
  return db_->write([&](Connection& conn) {
    SqliteTx tx(conn);
    return fn(tx);
  });
}

Status SqliteDb::run_read(const std::function<Status(sql::Tx&)>& fn) {
  return db_->read([&](Connection& conn) {
    SqliteTx tx(conn);
    return fn(tx);
  });
}

}  // namespace onestack::store::sqlite
