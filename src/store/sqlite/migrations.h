// Versioned schema migrations: why this exists.
//
// The schema of a SQLite database evolves with the binary. Each change is one
// numbered step in an ordered list; `PRAGMA user_version` records the last
// step applied, so start-up applies exactly the steps a file is missing.
// Each database file has its own ordered list: the identity file's is
// schema_migrations() (migrations.cc), the object store's is
// object_migrations() (object_migrations.cc). Adding a table to a file is
// adding an entry to its list.
#pragma once

#include <span>
#include <string_view>

#include "core/result.h"
#include "store/sqlite/database.h"

namespace onestack::store::sqlite {

// One schema step. Versions are numbered 1, 2, 3, ... with no gaps, in order;
// `sql` may hold several statements and must not use BEGIN/COMMIT itself.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// The built-in steps, oldest first. The returned span is static.
std::span<const Migration> schema_migrations();

// Returns the schema version recorded in `db` (0 for a new file).
// Thread-safe (runs as a Database::read).
Result<int> schema_version(Database& db);

// Applies every step of `steps` newer than the database's version, each in
// its own write transaction that also records its version, so a failing step
// leaves the previous version intact and returns that step's error (kInternal,
// or whatever its SQL produced). Returns kInternal if the database is newer
// than the last step (written by a newer binary) or if `steps` is not numbered
// 1, 2, 3, ... in order. Applying twice is a no-op. Thread-safe.
Status migrate(Database& db, std::span<const Migration> steps = schema_migrations());

}  // namespace onestack::store::sqlite
