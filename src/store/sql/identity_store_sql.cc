#include "store/sql/identity_store_sql.h"

#include <optional>
#include <utility>

namespace onestack::store::sql {

namespace {

// Separates scope from name in unique_key; ids and names never contain it
// in practice, and if one did the key would merely be a different string.
constexpr char kKeySeparator = '\x1f';

// The value of the unique_key column, or nullopt for kinds whose names need
// not be unique (NULLs never clash).
std::optional<std::string> unique_key(Kind kind, const Record& rec) {
  switch (kind) {
    case Kind::kDomain: return rec.name;
    case Kind::kProject:
    case Kind::kUser:
    case Kind::kGroup:
    case Kind::kRole:
    case Kind::kAppCredential: return rec.scope + kKeySeparator + rec.name;
    // Keystone's uniqueness of unified limits: a registered limit per
    // (service, region, resource), a limit per owner and registered limit.
    case Kind::kRegisteredLimit:
      return rec.parent_id + kKeySeparator + rec.scope + kKeySeparator + rec.name;
    case Kind::kLimit:
      return rec.owner_id + kKeySeparator + rec.parent_id + kKeySeparator + rec.scope +
             kKeySeparator + rec.name;
    case Kind::kRegion:
    case Kind::kService:
    case Kind::kEndpoint:
    case Kind::kCredential:
    case Kind::kAccessRule:
    case Kind::kPolicy:
    case Kind::kEndpointGroup:
    case Kind::kConsumer:
    case Kind::kDomainConfig: return std::nullopt;
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
  return make_error(ErrorCode::kNotFound,
                    std::string("could not find ") + kind_name(kind) + ": " + id);
}

// Rewrites a constraint failure on identity_records into a message naming
// what clashed (both engines name the constraint's column or the
// constraint, which contains "unique_key"); other errors pass through.
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

Status as_status(const Result<int64_t>& r) {
  if (!r.ok()) return r.error();
  return ok_status();
}

// Runs `sql` with $1 bound to `arg`.
Status run_with(Tx& tx, std::string_view sql, const std::string& arg) {
  return as_status(tx.run(sql, Params().add(arg)));
}

constexpr std::string_view kRecordColumns =
    "SELECT id, scope, name, parent_id, owner_id, doc FROM identity_records ";

Record read_record(const Rows& rows, int row) {
  return Record{rows.str(row, 0), rows.str(row, 1), rows.str(row, 2),
                rows.str(row, 3), rows.str(row, 4), rows.str(row, 5)};
}

// The parameters of a record's INSERT or UPDATE: $1 kind ... $8 unique_key.
Params record_params(Kind kind, const Record& rec) {
  Params p;
  p.add(kind_name(kind)).add(rec.id).add(rec.scope).add(rec.name).add(rec.parent_id);
  p.add(rec.owner_id).add(rec.doc);
  if (auto key = unique_key(kind, rec)) {
    p.add(*key);
  } else {
    p.add_null();
  }
  return p;
}

constexpr std::string_view kInsertRecord =
    "INSERT INTO identity_records (kind, id, scope, name, parent_id, owner_id, doc, unique_key) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

// Appends "AND <column> = $N" for a set filter and binds its value.
void add_filter(std::string& sql, Params& params, const char* column,
                const std::optional<std::string>& value) {
  if (!value) return;
  params.add(*value);
  sql += " AND ";
  sql += column;
  sql += " = $" + std::to_string(params.size());
}

// The statements that remove what names a removed record, by kind, each
// with $1 bound to its id.
std::vector<std::string_view> cascades(Kind kind) {
  switch (kind) {
    case Kind::kUser:
      return {"DELETE FROM identity_memberships WHERE user_id = $1",
              "DELETE FROM identity_assignments WHERE actor_type = 'user' AND actor_id = $1",
              // An application credential's scope is its user; a credential
              // and an access rule name their user as owner.
              "DELETE FROM identity_records WHERE "
              "(kind = 'application_credential' AND (scope = $1 OR owner_id = $1)) "
              "OR (kind IN ('credential', 'access_rule') AND owner_id = $1)"};
    case Kind::kGroup:
      return {"DELETE FROM identity_memberships WHERE group_id = $1",
              "DELETE FROM identity_assignments WHERE actor_type = 'group' AND actor_id = $1"};
    case Kind::kProject:
      return {"DELETE FROM identity_assignments WHERE target_type = 'project' AND target_id = $1",
              // Keystone deletes a project's limits with it.
              "DELETE FROM identity_records WHERE kind = 'limit' AND owner_id = $1"};
    case Kind::kDomain:
      return {"DELETE FROM identity_assignments WHERE target_type = 'domain' AND target_id = $1",
              // A domain's configuration is keyed by the domain id.
              "DELETE FROM identity_records WHERE kind = 'domain_config' AND id = $1",
              // Keystone leaves a domain's limits behind, naming a domain
              // that is gone; they go with it here.
              "DELETE FROM identity_records WHERE kind = 'limit' AND owner_id = $1"};
    case Kind::kRole:
      return {"DELETE FROM identity_assignments WHERE role_id = $1",
              "DELETE FROM identity_implied_roles WHERE prior_id = $1 OR implied_id = $1"};
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
    case Kind::kRegisteredLimit:
    case Kind::kLimit: break;
  }
  return {};
}

constexpr std::string_view kBumpGeneration =
    "UPDATE identity_state SET value = value + 1 WHERE name = 'generation'";

Status bump_generation(Tx& tx) {
  auto bumped = tx.run(kBumpGeneration);
  if (!bumped.ok()) return std::move(bumped).error();
  if (*bumped != 1) return make_error(ErrorCode::kInternal, "identity_state has no generation row");
  return ok_status();
}

Result<std::vector<std::string>> read_ids(Db& db, std::string_view point, std::string_view sql,
                                          const std::string& arg) {
  std::vector<std::string> out;
  ONESTACK_TRY(db.read(point, [&](Tx& tx) -> Status {
    auto rows = tx.query(sql, Params().add(arg));
    if (!rows.ok()) return std::move(rows).error();
    out.clear();
    for (int i = 0; i < rows->size(); ++i) out.push_back(rows->str(i, 0));
    return ok_status();
  }));
  return out;
}

Params assignment_params(const Assignment& a) {
  Params p;
  p.add(actor_type_name(a.actor_type)).add(a.actor_id);
  p.add(target_type_name(a.target_type)).add(a.target_id);
  p.add(a.role_id).add(a.inherited);
  return p;
}

Result<std::vector<StoredKey>> read_keys(Tx& tx) {
  auto rows = tx.query("SELECT idx, key FROM identity_fernet_keys ORDER BY idx");
  if (!rows.ok()) return std::move(rows).error();
  std::vector<StoredKey> keys;
  for (int i = 0; i < rows->size(); ++i) {
    keys.push_back(StoredKey{static_cast<int>(rows->int64(i, 0)), rows->str(i, 1)});
  }
  return keys;
}

Error no_stored_keys() {
  return make_error(ErrorCode::kNotImplemented, "this store keeps no Fernet keys");
}

}  // namespace

Status SqlIdentityStore::write(std::string_view point, const std::function<Status(Tx&)>& fn) {
  return db_->write(point, [&](Tx& tx) -> Status {
    // First, so the counter row's lock orders this write after every other
    // identity write in flight.
    ONESTACK_TRY(bump_generation(tx));
    return fn(tx);
  });
}

// ---- records ----

Status SqlIdentityStore::create(Kind kind, const Record& rec) {
  return write("identity.create", [&](Tx& tx) -> Status {
    auto n = tx.run(kInsertRecord, record_params(kind, rec));
    if (!n.ok()) return record_conflict(kind, rec, std::move(n).error());
    return ok_status();
  });
}

Status SqlIdentityStore::create_all(Kind kind, const std::vector<Record>& recs) {
  return write("identity.create_all", [&](Tx& tx) -> Status {
    for (const Record& rec : recs) {
      auto n = tx.run(kInsertRecord, record_params(kind, rec));
      if (!n.ok()) return record_conflict(kind, rec, std::move(n).error());
    }
    return ok_status();
  });
}

Result<Record> SqlIdentityStore::get(Kind kind, const std::string& id) {
  std::optional<Record> found;
  ONESTACK_TRY(db_->read("identity.get", [&](Tx& tx) -> Status {
    auto rows = tx.query(std::string(kRecordColumns) + "WHERE kind = $1 AND id = $2",
                         Params().add(kind_name(kind)).add(id));
    if (!rows.ok()) return std::move(rows).error();
    if (!rows->empty()) found = read_record(*rows, 0);
    return ok_status();
  }));
  if (!found) return not_found(kind, id);
  return std::move(*found);
}

Result<std::vector<Record>> SqlIdentityStore::list(Kind kind, const RecordQuery& query) {
  Params params;
  params.add(kind_name(kind));
  std::string sql = std::string(kRecordColumns) + "WHERE kind = $1";
  add_filter(sql, params, "scope", query.scope);
  add_filter(sql, params, "name", query.name);
  add_filter(sql, params, "parent_id", query.parent_id);
  add_filter(sql, params, "owner_id", query.owner_id);
  sql += " ORDER BY id";
  std::vector<Record> out;
  ONESTACK_TRY(db_->read("identity.list", [&](Tx& tx) -> Status {
    auto rows = tx.query(sql, params);
    if (!rows.ok()) return std::move(rows).error();
    out.clear();
    out.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) out.push_back(read_record(*rows, i));
    return ok_status();
  }));
  return out;
}

Status SqlIdentityStore::update(Kind kind, const Record& rec) {
  return write("identity.update", [&](Tx& tx) -> Status {
    auto n = tx.run(
        "UPDATE identity_records SET scope = $3, name = $4, parent_id = $5, owner_id = $6, "
        "doc = $7, unique_key = $8 WHERE kind = $1 AND id = $2",
        record_params(kind, rec));
    if (!n.ok()) return record_conflict(kind, rec, std::move(n).error());
    if (*n == 0) return not_found(kind, rec.id);
    return ok_status();
  });
}

Status SqlIdentityStore::remove(Kind kind, const std::string& id) {
  return write("identity.remove", [&](Tx& tx) -> Status {
    auto n = tx.run("DELETE FROM identity_records WHERE kind = $1 AND id = $2",
                    Params().add(kind_name(kind)).add(id));
    if (!n.ok()) return std::move(n).error();
    if (*n == 0) return not_found(kind, id);
    for (std::string_view sql : cascades(kind)) ONESTACK_TRY(run_with(tx, sql, id));
    return ok_status();
  });
}

// ---- group membership ----

Status SqlIdentityStore::add_member(const std::string& group_id, const std::string& user_id) {
  return write("identity.add_member", [&](Tx& tx) -> Status {
    return as_status(
        tx.run("INSERT INTO identity_memberships (group_id, user_id) VALUES ($1, $2) "
               "ON CONFLICT DO NOTHING",
               Params().add(group_id).add(user_id)));
  });
}

Status SqlIdentityStore::remove_member(const std::string& group_id, const std::string& user_id) {
  return write("identity.remove_member", [&](Tx& tx) -> Status {
    auto n = tx.run("DELETE FROM identity_memberships WHERE group_id = $1 AND user_id = $2",
                    Params().add(group_id).add(user_id));
    if (!n.ok()) return std::move(n).error();
    if (*n == 0) {
      return make_error(ErrorCode::kNotFound,
                        "user " + user_id + " is not a member of group " + group_id);
    }
    return ok_status();
  });
}

Result<bool> SqlIdentityStore::is_member(const std::string& group_id, const std::string& user_id) {
  bool member = false;
  ONESTACK_TRY(db_->read("identity.is_member", [&](Tx& tx) -> Status {
    auto rows = tx.query("SELECT 1 FROM identity_memberships WHERE group_id = $1 AND user_id = $2",
                         Params().add(group_id).add(user_id));
    if (!rows.ok()) return std::move(rows).error();
    member = !rows->empty();
    return ok_status();
  }));
  return member;
}

Result<std::vector<std::string>> SqlIdentityStore::groups_of_user(const std::string& user_id) {
  return read_ids(*db_, "identity.groups_of_user",
                  "SELECT group_id FROM identity_memberships WHERE user_id = $1 ORDER BY group_id",
                  user_id);
}

Result<std::vector<std::string>> SqlIdentityStore::users_in_group(const std::string& group_id) {
  return read_ids(*db_, "identity.users_in_group",
                  "SELECT user_id FROM identity_memberships WHERE group_id = $1 ORDER BY user_id",
                  group_id);
}

// ---- role assignments ----

Status SqlIdentityStore::add_assignment(const Assignment& a) {
  return write("identity.add_assignment", [&](Tx& tx) -> Status {
    return as_status(
        tx.run("INSERT INTO identity_assignments "
               "(actor_type, actor_id, target_type, target_id, role_id, inherited) "
               "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
               assignment_params(a)));
  });
}

Status SqlIdentityStore::remove_assignment(const Assignment& a) {
  return write("identity.remove_assignment", [&](Tx& tx) -> Status {
    auto n = tx.run(
        "DELETE FROM identity_assignments WHERE actor_type = $1 AND actor_id = $2 "
        "AND target_type = $3 AND target_id = $4 AND role_id = $5 AND inherited = $6",
        assignment_params(a));
    if (!n.ok()) return std::move(n).error();
    if (*n == 0) {
      return make_error(ErrorCode::kNotFound,
                        "could not find role assignment: role " + a.role_id + " for " +
                            actor_type_name(a.actor_type) + " " + a.actor_id + " on " +
                            target_type_name(a.target_type) + " " + a.target_id);
    }
    return ok_status();
  });
}

Result<std::vector<Assignment>> SqlIdentityStore::list_assignments(const AssignmentQuery& q) {
  Params params;
  std::string sql =
      "SELECT actor_type, actor_id, target_type, target_id, role_id, inherited "
      "FROM identity_assignments WHERE true";
  if (q.actor_type)
    add_filter(sql, params, "actor_type", std::string(actor_type_name(*q.actor_type)));
  add_filter(sql, params, "actor_id", q.actor_id);
  if (q.target_type) {
    add_filter(sql, params, "target_type", std::string(target_type_name(*q.target_type)));
  }
  add_filter(sql, params, "target_id", q.target_id);
  add_filter(sql, params, "role_id", q.role_id);
  sql += " ORDER BY actor_type, actor_id, target_type, target_id, role_id, inherited";
  std::vector<Assignment> out;
  ONESTACK_TRY(db_->read("identity.list_assignments", [&](Tx& tx) -> Status {
    auto rows = tx.query(sql, params);
    if (!rows.ok()) return std::move(rows).error();
    out.clear();
    for (int i = 0; i < rows->size(); ++i) {
      out.push_back(Assignment{parse_actor_type(rows->str(i, 0)), rows->str(i, 1),
                               parse_target_type(rows->str(i, 2)), rows->str(i, 3), rows->str(i, 4),
                               rows->boolean(i, 5)});
    }
    return ok_status();
  }));
  return out;
}

// ---- implied roles ----

Status SqlIdentityStore::add_implied_role(const std::string& prior, const std::string& implied) {
  return write("identity.add_implied_role", [&](Tx& tx) -> Status {
    auto n = tx.run("INSERT INTO identity_implied_roles (prior_id, implied_id) VALUES ($1, $2)",
                    Params().add(prior).add(implied));
    if (!n.ok() && n.error().code == ErrorCode::kConflict) {
      return make_error(ErrorCode::kConflict, "role " + prior + " already implies role " + implied);
    }
    return as_status(n);
  });
}

Status SqlIdentityStore::remove_implied_role(const std::string& prior, const std::string& implied) {
  return write("identity.remove_implied_role", [&](Tx& tx) -> Status {
    auto n = tx.run("DELETE FROM identity_implied_roles WHERE prior_id = $1 AND implied_id = $2",
                    Params().add(prior).add(implied));
    if (!n.ok()) return std::move(n).error();
    if (*n == 0) {
      return make_error(ErrorCode::kNotFound,
                        "could not find implied role: " + prior + " implies " + implied);
    }
    return ok_status();
  });
}

Result<std::vector<std::pair<std::string, std::string>>> SqlIdentityStore::list_implied_roles() {
  std::vector<std::pair<std::string, std::string>> out;
  ONESTACK_TRY(db_->read("identity.list_implied_roles", [&](Tx& tx) -> Status {
    auto rows = tx.query(
        "SELECT prior_id, implied_id FROM identity_implied_roles ORDER BY prior_id, implied_id");
    if (!rows.ok()) return std::move(rows).error();
    out.clear();
    for (int i = 0; i < rows->size(); ++i) out.emplace_back(rows->str(i, 0), rows->str(i, 1));
    return ok_status();
  }));
  return out;
}

// ---- revocations ----

Result<RevocationEvent> SqlIdentityStore::add_revocation(RevocationEvent ev) {
  ONESTACK_TRY(write("identity.add_revocation", [&](Tx& tx) -> Status {
    Params p;
    p.add(ev.user_id).add(ev.project_id).add(ev.audit_id).add(ev.audit_chain_id);
    p.add(ev.domain_id).add(ev.role_id).add(ev.issued_before).add(ev.revoked_at);
    auto rows = tx.query(
        "INSERT INTO identity_revocations (user_id, project_id, audit_id, audit_chain_id, "
        "domain_id, role_id, issued_before, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "RETURNING id",
        p);
    if (!rows.ok()) return std::move(rows).error();
    if (rows->empty()) return make_error(ErrorCode::kInternal, "insert revocation returned no id");
    ev.id = rows->int64(0, 0);
    return ok_status();
  }));
  return ev;
}

Result<std::vector<RevocationEvent>> SqlIdentityStore::list_revocations(int64_t after_id) {
  std::vector<RevocationEvent> out;
  ONESTACK_TRY(db_->read("identity.list_revocations", [&](Tx& tx) -> Status {
    auto rows = tx.query(
        "SELECT id, user_id, project_id, audit_id, audit_chain_id, domain_id, role_id, "
        "issued_before, revoked_at FROM identity_revocations WHERE id > $1 ORDER BY id",
        Params().add(after_id));
    if (!rows.ok()) return std::move(rows).error();
    out.clear();
    for (int i = 0; i < rows->size(); ++i) {
      out.push_back(RevocationEvent{rows->int64(i, 0), rows->str(i, 1), rows->str(i, 2),
                                    rows->str(i, 3), rows->str(i, 4), rows->str(i, 5),
                                    rows->str(i, 6), rows->real(i, 7), rows->real(i, 8)});
    }
    return ok_status();
  }));
  return out;
}

Status SqlIdentityStore::prune_revocations(double cutoff) {
  // Every node prunes on a timer: only a prune that removed something is a
  // change the others need to notice.
  return db_->write("identity.prune_revocations", [&](Tx& tx) -> Status {
    auto n =
        tx.run("DELETE FROM identity_revocations WHERE issued_before < $1", Params().add(cutoff));
    if (!n.ok()) return std::move(n).error();
    if (*n > 0) return bump_generation(tx);
    return ok_status();
  });
}

// ---- shared cluster state ----

Result<int64_t> SqlIdentityStore::generation() {
  int64_t value = 0;
  ONESTACK_TRY(db_->read("identity.generation", [&](Tx& tx) -> Status {
    auto rows = tx.query("SELECT value FROM identity_state WHERE name = 'generation'");
    if (!rows.ok()) return std::move(rows).error();
    if (rows->empty())
      return make_error(ErrorCode::kInternal, "identity_state has no generation row");
    value = rows->int64(0, 0);
    return ok_status();
  }));
  return value;
}

Result<std::vector<StoredKey>> SqlIdentityStore::fernet_keys() {
  if (!db_->dialect().shared) return no_stored_keys();
  std::vector<StoredKey> keys;
  ONESTACK_TRY(db_->read("identity.fernet_keys", [&](Tx& tx) -> Status {
    auto k = read_keys(tx);
    if (!k.ok()) return std::move(k).error();
    keys = std::move(*k);
    return ok_status();
  }));
  return keys;
}

Status SqlIdentityStore::update_fernet_keys(const KeyRotation& rotate) {
  if (!db_->dialect().shared) return no_stored_keys();
  return db_->write("identity.update_fernet_keys", [&](Tx& tx) -> Status {
    // The lock row serialises updaters; under READ COMMITTED the keys read
    // after it is granted include the previous holder's commit.
    auto locked = tx.run("UPDATE identity_state SET value = value + 1 WHERE name = 'fernet_keys'");
    if (!locked.ok()) return std::move(locked).error();
    if (*locked != 1)
      return make_error(ErrorCode::kInternal, "identity_state has no fernet_keys row");
    auto current = read_keys(tx);
    if (!current.ok()) return std::move(current).error();
    auto next = rotate(std::move(*current));
    if (!next.ok()) return std::move(next).error();
    ONESTACK_TRY(as_status(tx.run("DELETE FROM identity_fernet_keys")));
    for (const StoredKey& k : *next) {
      auto n = tx.run("INSERT INTO identity_fernet_keys (idx, key) VALUES ($1, $2)",
                      Params().add(k.index).add(k.key));
      if (!n.ok()) {
        Error e = std::move(n).error();
        if (e.code == ErrorCode::kConflict) {
          return make_error(ErrorCode::kInvalidArgument, "Fernet key rotation produced index " +
                                                             std::to_string(k.index) + " twice");
        }
        return e;
      }
    }
    return ok_status();
  });
}

}  // namespace onestack::store::sql
