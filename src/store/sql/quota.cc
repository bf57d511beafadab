#include "store/sql/quota.h"

#include <string>

namespace onestack::store::sql {

namespace {

Params key_params(const QuotaClaim& c) {
  Params p;
  p.add(c.service).add(c.project_id).add(c.resource);
  return p;
}

}  // namespace

Status claim_quota(Tx& tx, const QuotaClaim& claim, int64_t limit) {
  if (claim.amount < 0) {
    return make_error(ErrorCode::kInvalidArgument, "a quota claim cannot be negative");
  }
  auto made = tx.run(
      "INSERT INTO quota_usage (service, project_id, resource, in_use) VALUES ($1, $2, $3, 0) "
      "ON CONFLICT DO NOTHING",
      key_params(claim));
  if (!made.ok()) return std::move(made).error();
  // One statement: the row lock it takes and the condition it re-checks
  // are what keep parallel claims within the limit. The casts pin the
  // parameters to 64 bits (PostgreSQL would infer int4 from `$5 < 0`).
  auto claimed = tx.run(
      "UPDATE quota_usage SET in_use = in_use + CAST($4 AS BIGINT) "
      "WHERE service = $1 AND project_id = $2 AND resource = $3 "
      "AND (CAST($5 AS BIGINT) < 0 OR in_use + CAST($4 AS BIGINT) <= CAST($5 AS BIGINT))",
      key_params(claim).add(claim.amount).add(limit));
  if (!claimed.ok()) return std::move(claimed).error();
  if (*claimed == 1) return ok_status();
  auto used = quota_usage(tx, claim.service, claim.project_id, claim.resource);
  return make_error(ErrorCode::kOverQuota,
                    "Quota exceeded for " + std::string(claim.resource) + ": requested " +
                        std::to_string(claim.amount) + ", but already used " +
                        std::to_string(used.ok() ? *used : 0) + " of " + std::to_string(limit));
}

Status release_quota(Tx& tx, const QuotaClaim& claim) {
  auto released = tx.run(
      "UPDATE quota_usage SET in_use = CASE WHEN in_use >= CAST($4 AS BIGINT) "
      "THEN in_use - CAST($4 AS BIGINT) ELSE 0 END "
      "WHERE service = $1 AND project_id = $2 AND resource = $3",
      key_params(claim).add(claim.amount));
  if (!released.ok()) return std::move(released).error();
  return ok_status();
}

Result<int64_t> quota_usage(Tx& tx, std::string_view service, std::string_view project_id,
                            std::string_view resource) {
  auto rows = tx.query(
      "SELECT in_use FROM quota_usage WHERE service = $1 AND project_id = $2 AND resource = $3",
      Params().add(service).add(project_id).add(resource));
  if (!rows.ok()) return std::move(rows).error();
  return rows->empty() ? int64_t{0} : rows->int64(0, 0);
}

}  // namespace onestack::store::sql
