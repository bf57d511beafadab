#include "store/pg/object_migrations_pg.h"

namespace onestack::store::pg {

namespace {

// Names are text with the "C" collation, so they compare by their UTF-8
// bytes, the order Swift lists in, and the primary keys serve listing pages
// in name order. (The database must be UTF8; names reach the store already
// checked to be UTF-8 without NUL, as Swift requires.)
//
// Metadata is the same flat JSON object the SQLite store keeps, stored as
// bytea: header values are bytes, not necessarily UTF-8, which neither text
// nor jsonb accepts. `syncs` says whether the metadata holds
// "x-container-sync-to"; the store sets it with every metadata write, and
// a partial index holds just the (usually few) containers that sync.
//
// Container counters are maintained by the store in the same transaction
// as the object rows; account totals are summed over containers when read.
// The partial indexes on objects cover only the rows their queries look
// for: rows that hold a blob and rows that expire.
constexpr std::string_view kObjectSchema = R"sql(
CREATE TABLE accounts (
  name       text COLLATE "C" NOT NULL PRIMARY KEY,
  created_us bigint NOT NULL,
  put_us     bigint NOT NULL,
  meta       bytea NOT NULL DEFAULT '\x7b7d'
);

CREATE TABLE containers (
  account        text COLLATE "C" NOT NULL,
  name           text COLLATE "C" NOT NULL,
  created_us     bigint NOT NULL,
  put_us         bigint NOT NULL,
  meta           bytea NOT NULL DEFAULT '\x7b7d',
  syncs          boolean NOT NULL DEFAULT false,
  storage_policy text NOT NULL DEFAULT '',
  object_count   bigint NOT NULL DEFAULT 0,
  bytes_used     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (account, name)
);
CREATE INDEX containers_syncing ON containers (account, name) WHERE syncs;

CREATE TABLE objects (
  account      text COLLATE "C" NOT NULL,
  container    text COLLATE "C" NOT NULL,
  name         text COLLATE "C" NOT NULL,
  blob_id      text COLLATE "C" NOT NULL DEFAULT '',
  size         bigint NOT NULL DEFAULT 0,
  etag         text NOT NULL DEFAULT '',
  content_type text NOT NULL DEFAULT '',
  timestamp_us bigint NOT NULL DEFAULT 0,
  delete_at    bigint NOT NULL DEFAULT 0,
  meta         bytea NOT NULL DEFAULT '\x7b7d',
  PRIMARY KEY (account, container, name)
);
CREATE INDEX objects_by_blob ON objects (blob_id) WHERE blob_id <> '';
CREATE INDEX objects_by_delete_at ON objects (delete_at) WHERE delete_at > 0;

CREATE TABLE small_blobs (
  id         text COLLATE "C" PRIMARY KEY,
  data       bytea NOT NULL,
  mtime_unix bigint NOT NULL
);
CREATE TABLE quarantined_small_blobs (
  id         text COLLATE "C" PRIMARY KEY,
  data       bytea NOT NULL,
  mtime_unix bigint NOT NULL
);
)sql";

// Leases of the background jobs (ObjectStore::acquire_lease): one row per
// job, its holder and when the lease lapses, by the database's clock.
constexpr std::string_view kLeases = R"sql(
CREATE TABLE leases (
  name       text COLLATE "C" NOT NULL PRIMARY KEY,
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL
);
)sql";

// What a row counts toward usage when not its size (ObjectRecord::held_bytes).
constexpr std::string_view kHeldBytes = R"sql(
ALTER TABLE objects ADD COLUMN held_bytes bigint;
)sql";

// Append new steps at the end; never edit or reorder a released one.
constexpr Migration kMigrations[] = {
    {1, "objects: accounts, containers, objects, small blobs; sync, blob and expiry indexes",
     kObjectSchema},
    {2, "leases: background jobs on one node at a time", kLeases},
    {3, "objects: held_bytes, what a row counts toward usage", kHeldBytes},
};

}  // namespace

std::span<const Migration> object_migrations_pg() { return kMigrations; }

}  // namespace onestack::store::pg
