// A PostgreSQL database for tests, from the environment.
//
// ONESTACK_TEST_PG holds a conninfo ("postgresql://postgres@127.0.0.1:5432/
// onestack"; scripts/pg.sh start prints one). Each test gets a schema of its
// own (TestSchema), so tests never see each other's tables and the database
// is left as found. Without ONESTACK_TEST_PG the PostgreSQL tests skip,
// unless ONESTACK_TEST_REQUIRE_BACKENDS=1 says every backend must run (CI),
// in which case they fail.
#pragma once

#include <libpq-fe.h>

#include <cstdlib>
#include <optional>
#include <random>
#include <string>

namespace onestack::store::testing {

// The conninfo in ONESTACK_TEST_PG, or nullopt when unset or empty.
inline std::optional<std::string> pg_test_conninfo() {
  const char* v = std::getenv("ONESTACK_TEST_PG");
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

// True when ONESTACK_TEST_REQUIRE_BACKENDS=1: a missing database is a failure.
inline bool pg_test_required() {
  const char* v = std::getenv("ONESTACK_TEST_REQUIRE_BACKENDS");
  return v != nullptr && std::string(v) == "1";
}

inline constexpr const char* kPgTestUnsetMessage =
    "ONESTACK_TEST_PG is not set: PostgreSQL tests need a conninfo there "
    "(scripts/pg.sh start DIR PORT prints one)";

// `conninfo` as a key=value string with `extra` ("options='-c ...'") added.
// Empty on a conninfo libpq cannot parse.
inline std::string pg_conninfo_with(const std::string& conninfo, const std::string& extra) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    if (err != nullptr) PQfreemem(err);
    return {};
  }
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0' || std::string(o->keyword) == "options") continue;
    out += o->keyword;
    out += "='";
    for (const char* p = o->val; *p != '\0'; ++p) {
      if (*p == '\'' || *p == '\\') out += '\\';
      out += *p;
    }
    out += "' ";
  }
  PQconninfoFree(opts);
  return out + extra;
}

// Runs `sql` on a short-lived connection to `conninfo`. Empty on success,
// otherwise libpq's message.
inline std::string pg_test_exec(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    PGresult* res = PQexec(conn, sql.c_str());
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) error = PQresultErrorMessage(res);
    PQclear(res);
  }
  PQfinish(conn);
  return error;
}

// A schema "t_<random>" created in the test database and dropped with
// everything in it when the object goes away. conninfo() connects with
// search_path set to it, so every unqualified table (onestack_schema
// included) lands there.
class TestSchema {
 public:
  explicit TestSchema(std::string base) : base_(std::move(base)) {
    std::random_device rd;
    std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    name_ = "t_";
    for (int i = 0; i < 16; ++i) name_ += kAlphabet[gen() % 36];
    error_ = pg_test_exec(base_, "CREATE SCHEMA " + name_);
    conninfo_ = pg_conninfo_with(base_, "options='-c search_path=" + name_ + "'");
    if (error_.empty() && conninfo_.empty()) error_ = "cannot parse ONESTACK_TEST_PG";
  }
  ~TestSchema() {
    if (error_.empty()) (void)pg_test_exec(base_, "DROP SCHEMA " + name_ + " CASCADE");
  }
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  // Empty when the schema was created; otherwise why not.
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  const std::string& conninfo() const { return conninfo_; }

 private:
  std::string base_;
  std::string name_;
  std::string conninfo_;
  std::string error_;
};

}  // namespace onestack::store::testing
