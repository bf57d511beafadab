// Helpers of the core object routes (defined in object_routes.cc) that the
// features beside them share, so that a large object answers with the same
// headers, and accepts the same metadata, as a plain object.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "object/api/common.h"
#include "object/api/routes.h"

namespace onestack::object::api {

// The media type Swift guesses from an object name's extension (Python's
// mimetypes over /etc/mime.types); "application/octet-stream" when unknown.
std::string guess_content_type(std::string_view name);
// Applies a request's object metadata `updates` to `meta`: X-Object-Meta-*
// values are kept even when empty; other headers only when non-empty;
// `removed` names go; X-Delete-At never (it has its own column).
void set_object_meta(store::Metadata& meta, const store::Metadata& updates,
                     const std::vector<std::string>& removed);
// Swift's config_true_value ("true", "1", "yes", "on", "t", "y").
bool truthy(std::string_view v);
// What a row being written counts toward usage (store::ObjectRecord::
// held_bytes), as Swift's container databases count it: a large object
// its manifest, a versioned object's visible row nothing (Swift's is a
// zero-byte symlink; the data counts once, in the versions container).
std::optional<uint64_t> held_bytes_of(const store::ObjectRecord& o);
// `s` without one pair of surrounding double quotes.
std::string strip_quotes(std::string_view s);
// A POST's timestamp, kept in the row's metadata: Swift's fast-POST moves
// an object's X-Timestamp and Last-Modified but not the data timestamp its
// container lists (the object server's metadata vs data timestamps).
inline constexpr const char* kMetaTimestampSysmeta = "x-object-sysmeta-onestack-meta-timestamp";
// The timestamp a row's data was written at when the row itself was
// written later (a restored version keeps its own, as Swift's link to it
// shows the version's). Shown unless a later POST moved it.
inline constexpr const char* kDataTimestampSysmeta = "x-object-sysmeta-onestack-data-timestamp";
// The timestamp a GET or HEAD shows: the last POST's, else the data's.
int64_t shown_timestamp_us(const store::ObjectRecord& o);
// Whether the row's X-Delete-At has passed at `now_unix` (the service
// clock's now_unix()).
bool expired(const store::ObjectRecord& o, int64_t now_unix);
// Percent-encodes a name for a header value.
std::string quote_path(std::string_view s);
// The headers of a GET or HEAD of `o`: Content-Type, ETag (quoted for an
// SLO), Last-Modified, X-Timestamp, Accept-Ranges and its metadata (system
// metadata left out).
void object_headers(Response& res, const store::ObjectRecord& o);
// The container and account quotas for `incoming` more bytes and one more
// object (an upload counts as one more object even when it replaces one, as
// container_quotas.py counts it): kTooLarge (413) when over.
Status check_quotas(const Rows& rows, uint64_t incoming);
// An account write's row and the caller's access: kUnauthenticated without
// a token, kForbidden unless the caller owns the account.
struct AccountWrite {
  Rows rows;
  Access access;
};
awaitable<Result<AccountWrite>> authorize_account_write(Env env, const Request& req, Target t);
// authorize() for an object request, TempURL signatures included.
awaitable<Result<Access>> authorize_object(Env env, const Request& req, Target t, Op op,
                                           const Rows& rows);
// Writes the row and frees the blobs it replaced; the row's own blob is
// removed if the write fails (unless `cond.blob_shared`, or the blob comes
// as `cond.blob_bytes` and so went with the failed write). put_row runs on
// the worker pool; commit_row takes it there.
Result<store::PutObjectResult> put_row(ObjectService& svc, const store::ObjectRecord& o,
                                       const store::PutConditions& cond);
awaitable<Result<store::PutObjectResult>> commit_row(Env env, store::ObjectRecord o,
                                                     store::PutConditions cond);

}  // namespace onestack::object::api
