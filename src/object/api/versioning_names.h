// The names Swift's versioning and symlink middleware give things, as pure
// functions: legacy version names ("%03x<name>/<timestamp>"), the reserved
// (NUL-separated) names of the hidden versions namespace, Swift's
// Timestamp text and its inversion, and symlink target parsing.
//
// Reserved names follow swift/common/request_helpers.py get_reserved_name:
// "\x00" + parts joined by "\x00". check_names() refuses NUL in any name a
// client sends, so nothing under a reserved name is reachable from the API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "object/api/common.h"

namespace onestack::object::api {

// The content type of a versioning delete marker (both versioning flavours).
// Marks a visible row shown as object versioning's link to its version
// (?symlink=get), holding the version id; never stored.
inline constexpr std::string_view kVersionsLinkSysmeta = "x-object-sysmeta-versions-symlink";
inline constexpr std::string_view kDeleteMarkerType =
    "application/x-deleted;swift_versions_deleted=1";

// Swift's Timestamp.internal: seconds zero-padded to 10 digits and 5
// decimals ("1700000000.12345"). `us` is truncated to 10 µs.
std::string swift_timestamp(int64_t us);
// Parses a Swift timestamp ("1700000000.12345", "1700000000", "17.5"):
// microseconds, truncated to 10 µs. nullopt for anything else (signs,
// exponents, empty, more than 10 integer digits).
std::optional<int64_t> parse_swift_timestamp(std::string_view s);

// ---- legacy versioned writes (versioned_writes/legacy.py) ----
// "%03x%s/" of `object_name` (its length in bytes, lower-case hex).
std::string legacy_version_prefix(std::string_view object_name);
// The prefix followed by swift_timestamp(us).
std::string legacy_version_name(std::string_view object_name, int64_t us);

// ---- object versioning (versioned_writes/object_versioning.py) ----
// "\x00versions\x00<container>".
std::string versions_container_name(std::string_view container);
// Swift's ~Timestamp: 9999999999.99999 minus the timestamp, so that newer
// versions sort first.
std::string inverted_timestamp(int64_t us);
// "\x00<object>\x00<inverted timestamp>".
std::string version_object_name(std::string_view object_name, int64_t us);
// "\x00<object>\x00" — every version of `object_name` starts so.
std::string version_object_prefix(std::string_view object_name);
// Splits a hidden version row's name back into the object name and the
// version's timestamp (µs). nullopt if `name` is not such a name.
std::optional<std::pair<std::string, int64_t>> split_version_object_name(std::string_view name);

// ---- symlinks (symlink.py) ----
// The object a link stored as `target` ("container/object", decoded) names,
// in `target_account` when non-empty, else in `link_account`.
// kPreconditionFailed when `target` is not of that form.
Result<Target> parse_symlink_target(std::string_view target, std::string_view target_account,
                                    std::string_view link_account);

}  // namespace onestack::object::api
