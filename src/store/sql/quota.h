// Quotas, counted once for every service: why this exists.
//
// Every wave-2 service limits what a project may hold (instances, cores and
// RAM; networks, ports and floating IPs; volumes and gigabytes; images and
// image bytes). The usage is a counter row per (service, project, resource)
// in the service's own database, moved in the same transaction as the
// create or delete that uses it, by one conditional UPDATE: on SQLite
// writers run one at a time, and on PostgreSQL the UPDATE locks the row and
// re-checks its condition against the committed count, so parallel creates
// can never pass a limit, on one node or many. The limit itself comes from
// the caller (Keystone's unified limits, or a service's own override).
#pragma once

#include <cstdint>
#include <string_view>

#include "store/sql/db.h"

namespace onestack::store::sql {

// The usage table, in SQL both engines run: a service's migrations include
// it once.
inline constexpr std::string_view kQuotaUsageSchema = R"sql(
CREATE TABLE quota_usage (
  service    TEXT NOT NULL,
  project_id TEXT NOT NULL,
  resource   TEXT NOT NULL,
  in_use     BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (service, project_id, resource)
);
)sql";

// What a claim counts against: `amount` of `resource` ("instances",
// "cores") of `service` ("compute") for `project_id`.
struct QuotaClaim {
  std::string_view service;
  std::string_view project_id;
  std::string_view resource;
  int64_t amount = 1;
};

// Inside the caller's write transaction `tx`: adds claim.amount to the usage
// if the result stays within `limit` (-1: no limit). kOverQuota naming the
// resource, the limit and the usage when it would not (nothing changes; the
// caller rolls its transaction back with that error); the engine's error
// otherwise.
Status claim_quota(Tx& tx, const QuotaClaim& claim, int64_t limit);

// Inside `tx`: gives claim.amount back (never below zero).
Status release_quota(Tx& tx, const QuotaClaim& claim);

// The usage now (0 when nothing was ever claimed).
Result<int64_t> quota_usage(Tx& tx, std::string_view service, std::string_view project_id,
                            std::string_view resource);

}  // namespace onestack::store::sql
