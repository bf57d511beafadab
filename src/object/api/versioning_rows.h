// Row helpers shared by the two versioning flavours (versioning.cc,
// object_versioning.cc): each runs one store call on the worker pool and
// frees the blobs a write released.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "object/api/common.h"
#include "object/api/object_helpers.h"
#include "object/api/routes.h"

namespace onestack::object::api::versioning {

// Whether the row exists for clients at `now_unix` (not past its
// X-Delete-At).
bool live(const store::ObjectRecord& o, int64_t now_unix);

// The row, nullopt when absent.
awaitable<Result<std::optional<store::ObjectRecord>>> get_row(Env env, std::string account,
                                                              std::string container,
                                                              std::string name);
// Writes `o`, sharing its blob with the rows that already hold it when
// `shared` (then kConflict if none does any more). kNotFound when the
// container does not exist.
awaitable<Status> put_row(Env env, store::ObjectRecord o, bool shared);
// Removes the row: false when it was absent.
awaitable<Result<bool>> delete_row(Env env, std::string account, std::string container,
                                   std::string name);
// A listing page; kNotFound when the container does not exist.
awaitable<Result<std::vector<store::ObjectListEntry>>> list_rows(Env env, std::string account,
                                                                 std::string container,
                                                                 store::ListQuery q);

// Object versioning (object_versioning.cc), called by the hooks in
// versioning.cc for containers with X-Versions-Enabled or a ?version-id.
awaitable<Status> ov_before_overwrite(Env env, Request& req, Target t,
                                      store::ContainerRecord container,
                                      std::optional<store::ObjectRecord> current,
                                      store::ObjectRecord* incoming, store::PutConditions* cond);
awaitable<std::optional<Response>> ov_delete(Env env, Request& req, Target t,
                                             store::ContainerRecord container);
// Whether object versioning was ever enabled on `c` (it has the flag).
bool ov_configured(const store::ContainerRecord& c);

}  // namespace onestack::object::api::versioning
