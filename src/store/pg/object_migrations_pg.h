// Schema of the object-storage metadata in PostgreSQL: why this exists.
//
// The PostgreSQL object store (object_store_pg.h) keeps the same rows as the
// SQLite one (accounts, containers, objects, small blobs) in a database that
// every node of a cluster shares, plus the leases that keep a background
// job on one node at a time. Its steps are numbered apart from identity's
// and applied with pg::migrate(pool, "object", object_migrations_pg()).
#pragma once

#include <span>

#include "store/pg/pg.h"

namespace onestack::store::pg {

// The object store's steps, oldest first. The returned span is static.
std::span<const Migration> object_migrations_pg();

}  // namespace onestack::store::pg
