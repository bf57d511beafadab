#include "store/pg/identity_migrations_pg.h"

namespace onestack::store::pg {

namespace {

// Every text column compares bytewise (COLLATE "C"), so ORDER BY id and the
// uniqueness of names behave exactly as on SQLite, whatever the database's
// locale. identity_records.unique_key is scope + '\x1f' + name for kinds
// whose names must be unique (NULL otherwise, and NULLs never clash), so one
// constraint enforces all of them; its name contains "unique_key" so a clash
// can be told from a duplicate id. Revocation ids come from an identity
// column, never reused after pruning: pollers rely on ids only growing.
// identity_state holds two counters: 'generation', bumped by every write
// (its row lock also serialises identity writes across nodes, so revocation
// ids commit in increasing order), and 'fernet_keys', the row
// update_fernet_keys locks and bumps.
constexpr std::string_view kIdentitySchema = R"sql(
CREATE TABLE identity_records (
  kind       TEXT COLLATE "C" NOT NULL,
  id         TEXT COLLATE "C" NOT NULL,
  scope      TEXT COLLATE "C" NOT NULL DEFAULT '',
  name       TEXT COLLATE "C" NOT NULL DEFAULT '',
  parent_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
  owner_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
  doc        TEXT NOT NULL,
  unique_key TEXT COLLATE "C",
  CONSTRAINT identity_records_pkey PRIMARY KEY (kind, id),
  CONSTRAINT identity_records_unique_key UNIQUE (kind, unique_key)
);
CREATE INDEX identity_records_by_scope ON identity_records (kind, scope, name);
CREATE INDEX identity_records_by_name ON identity_records (kind, name);
CREATE INDEX identity_records_by_parent ON identity_records (kind, parent_id);
CREATE INDEX identity_records_by_owner ON identity_records (kind, owner_id);

CREATE TABLE identity_memberships (
  group_id TEXT COLLATE "C" NOT NULL,
  user_id  TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX identity_memberships_by_user ON identity_memberships (user_id, group_id);

CREATE TABLE identity_assignments (
  actor_type  TEXT COLLATE "C" NOT NULL,
  actor_id    TEXT COLLATE "C" NOT NULL,
  target_type TEXT COLLATE "C" NOT NULL,
  target_id   TEXT COLLATE "C" NOT NULL,
  role_id     TEXT COLLATE "C" NOT NULL,
  inherited   BOOLEAN NOT NULL,
  PRIMARY KEY (actor_type, actor_id, target_type, target_id, role_id, inherited)
);
CREATE INDEX identity_assignments_by_target ON identity_assignments (target_type, target_id);
CREATE INDEX identity_assignments_by_role ON identity_assignments (role_id);

CREATE TABLE identity_implied_roles (
  prior_id   TEXT COLLATE "C" NOT NULL,
  implied_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (prior_id, implied_id)
);
CREATE INDEX identity_implied_roles_by_implied ON identity_implied_roles (implied_id);

CREATE TABLE identity_revocations (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id        TEXT NOT NULL DEFAULT '',
  project_id     TEXT NOT NULL DEFAULT '',
  audit_id       TEXT NOT NULL DEFAULT '',
  audit_chain_id TEXT NOT NULL DEFAULT '',
  domain_id      TEXT NOT NULL DEFAULT '',
  role_id        TEXT NOT NULL DEFAULT '',
  issued_before  DOUBLE PRECISION NOT NULL,
  revoked_at     DOUBLE PRECISION NOT NULL
);
CREATE INDEX identity_revocations_by_issued_before ON identity_revocations (issued_before);

CREATE TABLE identity_state (
  name  TEXT COLLATE "C" PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO identity_state (name, value) VALUES ('generation', 1), ('fernet_keys', 0);

CREATE TABLE identity_fernet_keys (
  idx INT PRIMARY KEY,
  key TEXT NOT NULL
);
)sql";

// Stored policies move to a table of their own, declared on the resource
// kit (identity/api/declared_routes.cc), with the kit's tag table.
constexpr std::string_view kIdentityDeclared = R"sql(
CREATE TABLE identity_policies (
  id              TEXT COLLATE "C" PRIMARY KEY,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  revision_number BIGINT NOT NULL,
  doc             TEXT NOT NULL,
  type            TEXT COLLATE "C" NOT NULL
);
INSERT INTO identity_policies (id, created_at, updated_at, revision_number, doc, type)
  SELECT id, '', '', 1, doc, COALESCE(doc::json->>'type', '')
  FROM identity_records WHERE kind = 'policy';
DELETE FROM identity_records WHERE kind = 'policy';
CREATE TABLE resource_tags (
  kind        TEXT COLLATE "C" NOT NULL,
  resource_id TEXT COLLATE "C" NOT NULL,
  tag         TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (kind, resource_id, tag)
);
)sql";

// Endpoint groups and OAuth1 consumers join stored policies on the resource
// kit (identity/api/declared_routes.cc), each in a table of its own.
constexpr std::string_view kIdentityDeclaredMore = R"sql(
CREATE TABLE identity_endpoint_groups (
  id              TEXT COLLATE "C" PRIMARY KEY,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  revision_number BIGINT NOT NULL,
  doc             TEXT NOT NULL,
  name            TEXT COLLATE "C" NOT NULL
);
INSERT INTO identity_endpoint_groups (id, created_at, updated_at, revision_number, doc, name)
  SELECT id, '', '', 1, doc, COALESCE(doc::json->>'name', '')
  FROM identity_records WHERE kind = 'endpoint_group';
DELETE FROM identity_records WHERE kind = 'endpoint_group';
CREATE TABLE identity_consumers (
  id              TEXT COLLATE "C" PRIMARY KEY,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  revision_number BIGINT NOT NULL,
  doc             TEXT NOT NULL,
  description     TEXT COLLATE "C" NOT NULL
);
INSERT INTO identity_consumers (id, created_at, updated_at, revision_number, doc, description)
  SELECT id, '', '', 1, doc, COALESCE(doc::json->>'description', '')
  FROM identity_records WHERE kind = 'consumer';
DELETE FROM identity_records WHERE kind = 'consumer';
)sql";

// Append new steps at the end; never edit or reorder a released one.
constexpr Migration kMigrations[] = {
    {1,
     "identity: records, memberships, assignments, implied roles, revocations, generation, "
     "Fernet keys",
     kIdentitySchema},
    {2, "identity: stored policies in a table of their own; resource tags", kIdentityDeclared},
    {3, "identity: endpoint groups and OAuth1 consumers in tables of their own",
     kIdentityDeclaredMore},
};

}  // namespace

std::span<const Migration> identity_migrations() { return kMigrations; }

}  // namespace onestack::store::pg
