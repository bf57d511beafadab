#include "store/sqlite/object_migrations.h"

namespace onestack::store::sqlite {

namespace {

// Names are TEXT compared with SQLite's default BINARY collation, i.e. by
// their UTF-8 bytes, which is the order Swift lists in. Containers and
// objects are WITHOUT ROWID so a listing page walks the primary key in name
// order with no separate index lookup. Container counters are maintained by
// the store in the same transaction as the object rows; account totals are
// summed over containers when read. The two partial indexes cover only the
// rows their queries look for: rows that hold a blob (the "is this blob
// still referenced" check) and rows that expire.
constexpr std::string_view kObjectSchema = R"sql(
CREATE TABLE accounts (
  name       TEXT NOT NULL PRIMARY KEY,
  created_us INTEGER NOT NULL,
  put_us     INTEGER NOT NULL,
  meta       TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;

CREATE TABLE containers (
  account        TEXT NOT NULL,
  name           TEXT NOT NULL,
  created_us     INTEGER NOT NULL,
  put_us         INTEGER NOT NULL,
  meta           TEXT NOT NULL DEFAULT '{}',
  storage_policy TEXT NOT NULL DEFAULT '',
  object_count   INTEGER NOT NULL DEFAULT 0,
  bytes_used     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account, name)
) WITHOUT ROWID;

CREATE TABLE objects (
  account      TEXT NOT NULL,
  container    TEXT NOT NULL,
  name         TEXT NOT NULL,
  blob_id      TEXT NOT NULL DEFAULT '',
  size         INTEGER NOT NULL DEFAULT 0,
  etag         TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT '',
  timestamp_us INTEGER NOT NULL DEFAULT 0,
  delete_at    INTEGER NOT NULL DEFAULT 0,
  meta         TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (account, container, name)
) WITHOUT ROWID;
CREATE INDEX objects_by_blob ON objects (blob_id) WHERE blob_id != '';
CREATE INDEX objects_by_delete_at ON objects (delete_at) WHERE delete_at > 0;
)sql";

// Container sync: the background job lists the containers that sync every
// pass; a partial index holds just those (usually few) rows.
constexpr std::string_view kSyncIndex = R"sql(
CREATE INDEX containers_syncing ON containers (account, name)
  WHERE json_extract(meta, '$."x-container-sync-to"') IS NOT NULL;
)sql";

// Small objects' bytes as rows (blob/small_blob_table.h): written in the
// same group commits as the object rows. Quarantined ones move aside.
// Rowid tables: rows of kilobytes spill to overflow pages, which a
// WITHOUT ROWID table handles badly.
constexpr std::string_view kSmallBlobs = R"sql(
CREATE TABLE small_blobs (
  id         TEXT PRIMARY KEY,
  data       BLOB NOT NULL,
  mtime_unix INTEGER NOT NULL
);
CREATE TABLE quarantined_small_blobs (
  id         TEXT PRIMARY KEY,
  data       BLOB NOT NULL,
  mtime_unix INTEGER NOT NULL
);
)sql";

// What a row counts toward usage when not its size (ObjectRecord::held_bytes).
constexpr std::string_view kHeldBytes = R"sql(
ALTER TABLE objects ADD COLUMN held_bytes INTEGER;
)sql";

// Append new steps at the end; never edit or reorder a released one.
constexpr Migration kMigrations[] = {
    {1, "objects: accounts, containers, objects, blob and expiry indexes", kObjectSchema},
    {2, "containers: partial index of the containers that sync", kSyncIndex},
    {3, "small_blobs: small objects' bytes beside their rows", kSmallBlobs},
    {4, "objects: held_bytes, what a row counts toward usage", kHeldBytes},
};

}  // namespace

std::span<const Migration> object_migrations() { return kMigrations; }

}  // namespace onestack::store::sqlite
