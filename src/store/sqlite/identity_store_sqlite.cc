#include "store/sqlite/identity_store_sqlite.h"

#include <optional>
#include <utility>

#include "store/sqlite/migrations.h"

namespace onestack::store::sqlite {

namespace {

// Separates scope from name in unique_key; ids and names never contain it
// in practice, and if one did the key would merely be a different string.
constexpr char kKeySeparator = '\x1f';

// The value of the unique_key column, or nullopt for kinds whose names need
// not be unique.
std::optional<std::string> unique_key(Kind kind, const Record& rec) {
  switch (kind) {
    case Kind::kDomain:
      return rec.name;
    case Kind::kProject:
    case Kind::kUser:
    case Kind::kGroup:
    case Kind::kRole:
    case Kind::kAppCredential:
      return rec.scope + kKeySeparator + rec.name;
    case Kind::kRegion:
    case Kind::kService:
    case Kind::kEndpoint:
    case Kind::kCredential:
    case Kind::kAccessRule:
    case Kind::kPolicy:
    case Kind::kEndpointGroup:
    case Kind::kConsumer:
    case Kind::kDomainConfig:
      return std::nullopt;
  }
  return std::nullopt;
}

const char* actor_type_name(ActorType t) { return t == ActorType::kUser ? "user" : "group"; }

const char* target_type_name(TargetType t) {
  switch (t) {
    case TargetType::kProject: return "project";
    case TargetType::kDomain: return "domain";
    case TargetType::kSystem: return "system";
  }
  return "project";
}

ActorType parse_actor_type(const std::string& s) {
  return s == "group" ? ActorType::kGroup : ActorType::kUser;
}

TargetType parse_target_type(const std::string& s) {
  if (s == "domain") return TargetType::kDomain;
  if (s == "system") return TargetType::kSystem;
  return TargetType::kProject;
}

Error not_found(Kind kind, const std::string& id) {
  return make_error(ErrorCode::kNotFound, std::string("could not find ") + kind_name(kind) + ": " + id);
}

// Rewrites a constraint failure on `records` into a message naming what
// clashed; other errors pass through.
Error record_conflict(Kind kind, const Record& rec, Error err) {
  if (err.code != ErrorCode::kConflict) return err;
  if (err.message.find("unique_key") != std::string::npos) {
    std::string msg = std::string("duplicate ") + kind_name(kind) + " name '" + rec.name + "'";
    if (!rec.scope.empty()) msg += " in scope '" + rec.scope + "'";
    return make_error(ErrorCode::kConflict, std::move(msg));
  }
  return make_error(ErrorCode::kConflict,
                    std::string("duplicate ") + kind_name(kind) + " id '" + rec.id + "'");
}

Status bind_key(Statement& stmt, int index, const std::optional<std::string>& key) {
  if (key) {
    stmt.bind(index, *key);
  } else {
    stmt.bind_null(index);
  }
  return ok_status();
}

Record read_record(const Statement& stmt) {
  Record r;
  r.id = stmt.text(0);
  r.scope = stmt.text(1);
  r.name = stmt.text(2);
  r.parent_id = stmt.text(3);
  r.owner_id = stmt.text(4);
  r.doc = stmt.text(5);
  return r;
}

// Runs a parameterless-but-one statement: `sql` with ?1 bound to `arg`.
Status run_with(Connection& conn, const char* sql, const std::string& arg) {
  auto stmt = conn.prepare(sql);
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->bind(1, arg);
  return stmt->run();
}

// Appends "AND <column> = ?N" for a set filter and remembers its value.
void add_filter(std::string& sql, std::vector<std::string>& args, const char* column,
                const std::optional<std::string>& value) {
  if (!value) return;
  args.push_back(*value);
  sql += " AND ";
  sql += column;
  sql += " = ?" + std::to_string(args.size());
}

}  // namespace

Result<std::unique_ptr<SqliteIdentityStore>> SqliteIdentityStore::open(const std::string& path,
                                                                       Options options) {
  auto db = Database::open(path, options);
  if (!db.ok()) return std::move(db).error();
  ONESTACK_TRY(migrate(**db));
  return std::make_unique<SqliteIdentityStore>(std::move(*db));
}

// ---- records ----

Status SqliteIdentityStore::create(Kind kind, const Record& rec) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "INSERT INTO records (kind, id, scope, name, parent_id, owner_id, doc, unique_key) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, kind_name(kind)).bind(2, rec.id).bind(3, rec.scope).bind(4, rec.name);
    stmt->bind(5, rec.parent_id).bind(6, rec.owner_id).bind(7, rec.doc);
    ONESTACK_TRY(bind_key(*stmt, 8, unique_key(kind, rec)));
    Status st = stmt->run();
    if (!st.ok()) return record_conflict(kind, rec, std::move(st).error());
    return ok_status();
  });
}

Result<Record> SqliteIdentityStore::get(Kind kind, const std::string& id) {
  std::optional<Record> found;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "SELECT id, scope, name, parent_id, owner_id, doc FROM records WHERE kind = ?1 AND id = ?2");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, kind_name(kind)).bind(2, id);
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    if (*row) found = read_record(*stmt);
    return ok_status();
  }));
  if (!found) return not_found(kind, id);
  return std::move(*found);
}

Result<std::vector<Record>> SqliteIdentityStore::list(Kind kind, const RecordQuery& query) {
  std::vector<std::string> args{kind_name(kind)};
  std::string sql =
      "SELECT id, scope, name, parent_id, owner_id, doc FROM records WHERE kind = ?1";
  add_filter(sql, args, "scope", query.scope);
  add_filter(sql, args, "name", query.name);
  add_filter(sql, args, "parent_id", query.parent_id);
  add_filter(sql, args, "owner_id", query.owner_id);
  sql += " ORDER BY id";
  std::vector<Record> out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    for (size_t i = 0; i < args.size(); ++i) stmt->bind(static_cast<int>(i) + 1, args[i]);
    while (true) {
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) return ok_status();
      out.push_back(read_record(*stmt));
    }
  }));
  return out;
}

Status SqliteIdentityStore::update(Kind kind, const Record& rec) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "UPDATE records SET scope = ?3, name = ?4, parent_id = ?5, owner_id = ?6, doc = ?7, "
        "unique_key = ?8 WHERE kind = ?1 AND id = ?2");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, kind_name(kind)).bind(2, rec.id).bind(3, rec.scope).bind(4, rec.name);
    stmt->bind(5, rec.parent_id).bind(6, rec.owner_id).bind(7, rec.doc);
    ONESTACK_TRY(bind_key(*stmt, 8, unique_key(kind, rec)));
    Status st = stmt->run();
    if (!st.ok()) return record_conflict(kind, rec, std::move(st).error());
    if (conn.changes() == 0) return not_found(kind, rec.id);
    return ok_status();
  });
}

Status SqliteIdentityStore::remove(Kind kind, const std::string& id) {
  return db_->write([&](Connection& conn) -> Status {
    {
      auto stmt = conn.prepare("DELETE FROM records WHERE kind = ?1 AND id = ?2");
      if (!stmt.ok()) return std::move(stmt).error();
      stmt->bind(1, kind_name(kind)).bind(2, id);
      ONESTACK_TRY(stmt->run());
      if (conn.changes() == 0) return not_found(kind, id);
    }
    switch (kind) {
      case Kind::kUser:
        ONESTACK_TRY(run_with(conn, "DELETE FROM memberships WHERE user_id = ?1", id));
        ONESTACK_TRY(run_with(
            conn, "DELETE FROM assignments WHERE actor_type = 'user' AND actor_id = ?1", id));
        // An application credential's scope is its user; a credential and an
        // access rule name their user as owner.
        ONESTACK_TRY(run_with(conn,
                              "DELETE FROM records WHERE "
                              "(kind = 'application_credential' AND (scope = ?1 OR owner_id = ?1)) "
                              "OR (kind IN ('credential', 'access_rule') AND owner_id = ?1)",
                              id));
        break;
      case Kind::kGroup:
        ONESTACK_TRY(run_with(conn, "DELETE FROM memberships WHERE group_id = ?1", id));
        ONESTACK_TRY(run_with(
            conn, "DELETE FROM assignments WHERE actor_type = 'group' AND actor_id = ?1", id));
        break;
      case Kind::kProject:
        ONESTACK_TRY(run_with(
            conn, "DELETE FROM assignments WHERE target_type = 'project' AND target_id = ?1", id));
        break;
      case Kind::kDomain:
        ONESTACK_TRY(run_with(
            conn, "DELETE FROM assignments WHERE target_type = 'domain' AND target_id = ?1", id));
        // A domain's configuration is keyed by the domain id.
        ONESTACK_TRY(
            run_with(conn, "DELETE FROM records WHERE kind = 'domain_config' AND id = ?1", id));
        break;
      case Kind::kRole:
        ONESTACK_TRY(run_with(conn, "DELETE FROM assignments WHERE role_id = ?1", id));
        ONESTACK_TRY(run_with(
            conn, "DELETE FROM implied_roles WHERE prior_id = ?1 OR implied_id = ?1", id));
        break;
      case Kind::kRegion:
      case Kind::kService:
      case Kind::kEndpoint:
      case Kind::kCredential:
      case Kind::kAppCredential:
      case Kind::kAccessRule:
      case Kind::kPolicy:
      case Kind::kEndpointGroup:
      case Kind::kConsumer:
      case Kind::kDomainConfig:
        break;
    }
    return ok_status();
  });
}

// ---- group membership ----

Status SqliteIdentityStore::add_member(const std::string& group_id, const std::string& user_id) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("INSERT OR IGNORE INTO memberships (group_id, user_id) VALUES (?1, ?2)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, group_id).bind(2, user_id);
    return stmt->run();
  });
}

Status SqliteIdentityStore::remove_member(const std::string& group_id,
                                          const std::string& user_id) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("DELETE FROM memberships WHERE group_id = ?1 AND user_id = ?2");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, group_id).bind(2, user_id);
    ONESTACK_TRY(stmt->run());
    if (conn.changes() == 0) {
      return make_error(ErrorCode::kNotFound,
                        "user " + user_id + " is not a member of group " + group_id);
    }
    return ok_status();
  });
}

Result<bool> SqliteIdentityStore::is_member(const std::string& group_id,
                                            const std::string& user_id) {
  bool member = false;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("SELECT 1 FROM memberships WHERE group_id = ?1 AND user_id = ?2");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, group_id).bind(2, user_id);
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    member = *row;
    return ok_status();
  }));
  return member;
}

namespace {

Result<std::vector<std::string>> read_ids(Database& db, const char* sql, const std::string& arg) {
  std::vector<std::string> out;
  ONESTACK_TRY(db.read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, arg);
    while (true) {
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) return ok_status();
      out.push_back(stmt->text(0));
    }
  }));
  return out;
}

}  // namespace

Result<std::vector<std::string>> SqliteIdentityStore::groups_of_user(const std::string& user_id) {
  return read_ids(*db_, "SELECT group_id FROM memberships WHERE user_id = ?1 ORDER BY group_id",
                  user_id);
}

Result<std::vector<std::string>> SqliteIdentityStore::users_in_group(const std::string& group_id) {
  return read_ids(*db_, "SELECT user_id FROM memberships WHERE group_id = ?1 ORDER BY user_id",
                  group_id);
}

// ---- role assignments ----

namespace {

void bind_assignment(Statement& stmt, const Assignment& a) {
  stmt.bind(1, actor_type_name(a.actor_type)).bind(2, a.actor_id);
  stmt.bind(3, target_type_name(a.target_type)).bind(4, a.target_id);
  stmt.bind(5, a.role_id).bind(6, a.inherited);
}

}  // namespace

Status SqliteIdentityStore::add_assignment(const Assignment& a) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "INSERT OR IGNORE INTO assignments "
        "(actor_type, actor_id, target_type, target_id, role_id, inherited) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!stmt.ok()) return std::move(stmt).error();
    bind_assignment(*stmt, a);
    return stmt->run();
  });
}

Status SqliteIdentityStore::remove_assignment(const Assignment& a) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "DELETE FROM assignments WHERE actor_type = ?1 AND actor_id = ?2 AND target_type = ?3 "
        "AND target_id = ?4 AND role_id = ?5 AND inherited = ?6");
    if (!stmt.ok()) return std::move(stmt).error();
    bind_assignment(*stmt, a);
    ONESTACK_TRY(stmt->run());
    if (conn.changes() == 0) {
      return make_error(ErrorCode::kNotFound, "could not find role assignment: role " + a.role_id +
                                                  " for " + actor_type_name(a.actor_type) + " " +
                                                  a.actor_id + " on " +
                                                  target_type_name(a.target_type) + " " +
                                                  a.target_id);
    }
    return ok_status();
  });
}

Result<std::vector<Assignment>> SqliteIdentityStore::list_assignments(const AssignmentQuery& q) {
  std::vector<std::string> args;
  std::string sql =
      "SELECT actor_type, actor_id, target_type, target_id, role_id, inherited "
      "FROM assignments WHERE 1";
  if (q.actor_type) add_filter(sql, args, "actor_type", std::string(actor_type_name(*q.actor_type)));
  add_filter(sql, args, "actor_id", q.actor_id);
  if (q.target_type) {
    add_filter(sql, args, "target_type", std::string(target_type_name(*q.target_type)));
  }
  add_filter(sql, args, "target_id", q.target_id);
  add_filter(sql, args, "role_id", q.role_id);
  sql += " ORDER BY actor_type, actor_id, target_type, target_id, role_id, inherited";
  std::vector<Assignment> out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    for (size_t i = 0; i < args.size(); ++i) stmt->bind(static_cast<int>(i) + 1, args[i]);
    while (true) {
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) return ok_status();
      Assignment a;
      a.actor_type = parse_actor_type(stmt->text(0));
      a.actor_id = stmt->text(1);
      a.target_type = parse_target_type(stmt->text(2));
      a.target_id = stmt->text(3);
      a.role_id = stmt->text(4);
      a.inherited = stmt->int64(5) != 0;
      out.push_back(std::move(a));
    }
  }));
  return out;
}

// ---- implied roles ----

Status SqliteIdentityStore::add_implied_role(const std::string& prior, const std::string& implied) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("INSERT INTO implied_roles (prior_id, implied_id) VALUES (?1, ?2)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, prior).bind(2, implied);
    Status st = stmt->run();
    if (!st.ok() && st.error().code == ErrorCode::kConflict) {
      return make_error(ErrorCode::kConflict,
                        "role " + prior + " already implies role " + implied);
    }
    return st;
  });
}

Status SqliteIdentityStore::remove_implied_role(const std::string& prior,
                                                const std::string& implied) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("DELETE FROM implied_roles WHERE prior_id = ?1 AND implied_id = ?2");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, prior).bind(2, implied);
    ONESTACK_TRY(stmt->run());
    if (conn.changes() == 0) {
      return make_error(ErrorCode::kNotFound,
                        "could not find implied role: " + prior + " implies " + implied);
    }
    return ok_status();
  });
}

Result<std::vector<std::pair<std::string, std::string>>>
SqliteIdentityStore::list_implied_roles() {
  std::vector<std::pair<std::string, std::string>> out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("SELECT prior_id, implied_id FROM implied_roles ORDER BY prior_id, implied_id");
    if (!stmt.ok()) return std::move(stmt).error();
    while (true) {
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) return ok_status();
      out.emplace_back(stmt->text(0), stmt->text(1));
    }
  }));
  return out;
}

// ---- revocations ----

Result<RevocationEvent> SqliteIdentityStore::add_revocation(RevocationEvent ev) {
  ONESTACK_TRY(db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "INSERT INTO revocations (user_id, project_id, audit_id, audit_chain_id, domain_id, "
        "role_id, issued_before, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, ev.user_id).bind(2, ev.project_id).bind(3, ev.audit_id);
    stmt->bind(4, ev.audit_chain_id).bind(5, ev.domain_id).bind(6, ev.role_id);
    stmt->bind(7, ev.issued_before).bind(8, ev.revoked_at);
    ONESTACK_TRY(stmt->run());
    ev.id = conn.last_insert_rowid();
    return ok_status();
  }));
  return ev;
}

Result<std::vector<RevocationEvent>> SqliteIdentityStore::list_revocations(int64_t after_id) {
  std::vector<RevocationEvent> out;
  ONESTACK_TRY(db_->read([&](Connection& conn) -> Status {
    auto stmt = conn.prepare(
        "SELECT id, user_id, project_id, audit_id, audit_chain_id, domain_id, role_id, "
        "issued_before, revoked_at FROM revocations WHERE id > ?1 ORDER BY id");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, after_id);
    while (true) {
      auto row = stmt->step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) return ok_status();
      RevocationEvent ev;
      ev.id = stmt->int64(0);
      ev.user_id = stmt->text(1);
      ev.project_id = stmt->text(2);
      ev.audit_id = stmt->text(3);
      ev.audit_chain_id = stmt->text(4);
      ev.domain_id = stmt->text(5);
      ev.role_id = stmt->text(6);
      ev.issued_before = stmt->real(7);
      ev.revoked_at = stmt->real(8);
      out.push_back(std::move(ev));
    }
  }));
  return out;
}

Status SqliteIdentityStore::prune_revocations(double cutoff) {
  return db_->write([&](Connection& conn) -> Status {
    auto stmt = conn.prepare("DELETE FROM revocations WHERE issued_before < ?1");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind(1, cutoff);
    return stmt->run();
  });
}

}  // namespace onestack::store::sqlite
