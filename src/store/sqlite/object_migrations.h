// Schema of the object-storage metadata database: why this exists.
//
// Object metadata lives in its own SQLite file, apart from identity, so that
// object writes (the bulk of all writes) never queue behind identity writes
// for the one writer lock a file has. The file has its own numbered step
// list, applied with migrate(db, object_migrations()) (see migrations.h).
#pragma once

#include <span>

#include "store/sqlite/migrations.h"

namespace onestack::store::sqlite {

// The object store's steps, oldest first. The returned span is static.
std::span<const Migration> object_migrations();

}  // namespace onestack::store::sqlite
