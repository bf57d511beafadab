#include "store/sqlite/migrations.h"

#include <string>

namespace onestack::store::sqlite {

namespace {

// Identity tables. `records` holds every Keystone entity kind; unique_key is
// scope + '\x1f' + name for kinds whose names must be unique (NULL
// otherwise), so one UNIQUE constraint enforces all of them. Relation tables
// are WITHOUT ROWID with a second index for the other query direction.
// Revocation ids use AUTOINCREMENT so an id is never reused after pruning:
// pollers rely on ids only growing.
constexpr std::string_view kIdentitySchema = R"sql(
CREATE TABLE records (
  kind       TEXT NOT NULL,
  id         TEXT NOT NULL,
  scope      TEXT NOT NULL DEFAULT '',
  name       TEXT NOT NULL DEFAULT '',
  parent_id  TEXT NOT NULL DEFAULT '',
  owner_id   TEXT NOT NULL DEFAULT '',
  doc        TEXT NOT NULL,
  unique_key TEXT,
  PRIMARY KEY (kind, id),
  UNIQUE (kind, unique_key)
) WITHOUT ROWID;
CREATE INDEX records_by_scope ON records (kind, scope, name);
CREATE INDEX records_by_name ON records (kind, name);
CREATE INDEX records_by_parent ON records (kind, parent_id);
CREATE INDEX records_by_owner ON records (kind, owner_id);

CREATE TABLE memberships (
  group_id TEXT NOT NULL,
  user_id  TEXT NOT NULL,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (user_id, group_id);

CREATE TABLE assignments (
  actor_type  TEXT NOT NULL,
  actor_id    TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id   TEXT NOT NULL,
  role_id     TEXT NOT NULL,
  inherited   INTEGER NOT NULL,
  PRIMARY KEY (actor_type, actor_id, target_type, target_id, role_id, inherited)
) WITHOUT ROWID;
CREATE INDEX assignments_by_target ON assignments (target_type, target_id);
CREATE INDEX assignments_by_role ON assignments (role_id);

CREATE TABLE implied_roles (
  prior_id   TEXT NOT NULL,
  implied_id TEXT NOT NULL,
  PRIMARY KEY (prior_id, implied_id)
) WITHOUT ROWID;
CREATE INDEX implied_roles_by_implied ON implied_roles (implied_id);

CREATE TABLE revocations (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id        TEXT NOT NULL DEFAULT '',
  project_id     TEXT NOT NULL DEFAULT '',
  audit_id       TEXT NOT NULL DEFAULT '',
  audit_chain_id TEXT NOT NULL DEFAULT '',
  domain_id      TEXT NOT NULL DEFAULT '',
  role_id        TEXT NOT NULL DEFAULT '',
  issued_before  REAL NOT NULL,
  revoked_at     REAL NOT NULL
);
CREATE INDEX revocations_by_issued_before ON revocations (issued_before);
)sql";

// The identity store is written once for both engines (store/sql/
// identity_store_sql.cc): the tables take PostgreSQL's names, and the
// generation counter and Fernet key table join them. ALTER TABLE RENAME
// carries indexes and the AUTOINCREMENT sequence along.
constexpr std::string_view kIdentityOneStore = R"sql(
ALTER TABLE records RENAME TO identity_records;
ALTER TABLE memberships RENAME TO identity_memberships;
ALTER TABLE assignments RENAME TO identity_assignments;
ALTER TABLE implied_roles RENAME TO identity_implied_roles;
ALTER TABLE revocations RENAME TO identity_revocations;
CREATE TABLE identity_state (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO identity_state (name, value) VALUES ('generation', 1), ('fernet_keys', 0);
CREATE TABLE identity_fernet_keys (
  idx INTEGER PRIMARY KEY,
  key TEXT NOT NULL
);
)sql";

// Stored policies move to a table of their own, declared on the resource
// kit (identity/api/declared_routes.cc), with the kit's tag table.
constexpr std::string_view kIdentityDeclared = R"sql(
CREATE TABLE identity_policies (
  id              TEXT PRIMARY KEY,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  revision_number INTEGER NOT NULL,
  doc             TEXT NOT NULL,
  type            TEXT NOT NULL
);
INSERT INTO identity_policies (id, created_at, updated_at, revision_number, doc, type)
  SELECT id, '', '', 1, doc, COALESCE(json_extract(doc, '$.type'), '')
  FROM identity_records WHERE kind = 'policy';
DELETE FROM identity_records WHERE kind = 'policy';
CREATE TABLE resource_tags (
  kind        TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  tag         TEXT NOT NULL,
  PRIMARY KEY (kind, resource_id, tag)
) WITHOUT ROWID;
)sql";

// Endpoint groups and OAuth1 consumers join stored policies on the resource
// kit (identity/api/declared_routes.cc), each in a table of its own.
constexpr std::string_view kIdentityDeclaredMore = R"sql(
CREATE TABLE identity_endpoint_groups (
  id              TEXT PRIMARY KEY,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  revision_number INTEGER NOT NULL,
  doc             TEXT NOT NULL,
  name            TEXT NOT NULL
);
INSERT INTO identity_endpoint_groups (id, created_at, updated_at, revision_number, doc, name)
  SELECT id, '', '', 1, doc, COALESCE(json_extract(doc, '$.name'), '')
  FROM identity_records WHERE kind = 'endpoint_group';
DELETE FROM identity_records WHERE kind = 'endpoint_group';
CREATE TABLE identity_consumers (
  id              TEXT PRIMARY KEY,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  revision_number INTEGER NOT NULL,
  doc             TEXT NOT NULL,
  description     TEXT NOT NULL
);
INSERT INTO identity_consumers (id, created_at, updated_at, revision_number, doc, description)
  SELECT id, '', '', 1, doc, COALESCE(json_extract(doc, '$.description'), '')
  FROM identity_records WHERE kind = 'consumer';
DELETE FROM identity_records WHERE kind = 'consumer';
)sql";

// Append new steps at the end; never edit or reorder a released one.
constexpr Migration kMigrations[] = {
    {1, "identity: records, memberships, assignments, implied roles, revocations", kIdentitySchema},
    {2, "identity: PostgreSQL's table names, generation counter, Fernet key table",
     kIdentityOneStore},
    {3, "identity: stored policies in a table of their own; resource tags", kIdentityDeclared},
    {4, "identity: endpoint groups and OAuth1 consumers in tables of their own",
     kIdentityDeclaredMore},
};

Result<int> read_version(Connection& conn) {
  auto stmt = conn.prepare("PRAGMA user_version");
  if (!stmt.ok()) return std::move(stmt).error();
  auto row = stmt->step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return make_error(ErrorCode::kInternal, "PRAGMA user_version returned no row");
  return static_cast<int>(stmt->int64(0));
}

Error too_new(const Database& db, int version, int latest) {
  return make_error(ErrorCode::kInternal,
                    "database " + db.path() + " has schema version " + std::to_string(version) +
                        " but this binary knows only up to version " + std::to_string(latest) +
                        "; it was written by a newer onestack");
}

}  // namespace

std::span<const Migration> schema_migrations() { return kMigrations; }

Result<int> schema_version(Database& db) {
  int version = 0;
  ONESTACK_TRY(db.read([&](Connection& conn) -> Status {
    auto v = read_version(conn);
    if (!v.ok()) return std::move(v).error();
    version = *v;
    return ok_status();
  }));
  return version;
}

Status migrate(Database& db, std::span<const Migration> steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1) {
      return make_error(ErrorCode::kInternal,
                        "schema migrations must be numbered 1, 2, 3, ... in order; step " +
                            std::to_string(i + 1) + " has version " +
                            std::to_string(steps[i].version));
    }
  }
  const int latest = static_cast<int>(steps.size());
  auto version = schema_version(db);
  if (!version.ok()) return std::move(version).error();
  if (*version > latest) return too_new(db, *version, latest);

  for (const Migration& step : steps) {
    if (step.version <= *version) continue;
    ONESTACK_TRY(db.write([&](Connection& conn) -> Status {
      // Re-read under the write lock: another process on the same file may
      // have migrated since we looked.
      auto current = read_version(conn);
      if (!current.ok()) return std::move(current).error();
      if (*current > latest) return too_new(db, *current, latest);
      if (*current >= step.version) return ok_status();
      Status body = conn.exec(step.sql);
      if (!body.ok()) {
        return make_error(body.error().code, "schema migration " + std::to_string(step.version) +
                                                 " (" + std::string(step.description) +
                                                 ") failed: " + body.error().message);
      }
      // user_version lives in the file header and is written inside this
      // transaction, so it commits or rolls back together with the step.
      return conn.exec("PRAGMA user_version = " + std::to_string(step.version));
    }));
  }
  return ok_status();
}

}  // namespace onestack::store::sqlite
