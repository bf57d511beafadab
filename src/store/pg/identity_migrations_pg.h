// Schema of the identity tables on PostgreSQL: why this exists.
//
// The same entities as the SQLite identity file (store/sqlite/migrations.cc),
// plus what a database shared by several nodes needs: a generation counter
// every write bumps, and the Fernet keys. Applied with
// migrate(pool, "identity", identity_migrations()) (see pg.h).
#pragma once

#include <span>

#include "store/pg/pg.h"

namespace onestack::store::pg {

// The identity steps, oldest first. The returned span is static.
std::span<const Migration> identity_migrations();

}  // namespace onestack::store::pg
