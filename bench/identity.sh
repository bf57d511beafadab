# shellcheck shell=bash
# Identity (Keystone v3) workloads: token validation, token rescoping and
# password token issue. Sourced by bench/run.sh.
#
# BENCH_IDENTITY_RUNS lists "workload:connections" pairs to measure.

IDENTITY_USER="admin"
IDENTITY_PROJECT="admin"
IDENTITY_PASSWORD="${BENCH_IDENTITY_PASSWORD:-bench-Secret-42}"
BENCH_IDENTITY_RUNS="${BENCH_IDENTITY_RUNS:-validate_token:16 validate_token:64 rescope_token:16 issue_password_token:4}"

# One-line description of each workload, for the report.
identity_workload_doc() {
  case "$1" in
    validate_token) echo 'GET /v3/auth/tokens: an admin token (X-Auth-Token) validates another project-scoped token (X-Subject-Token)' ;;
    rescope_token) echo 'POST /v3/auth/tokens, token method: an unscoped token rescoped to the admin project' ;;
    issue_password_token) echo 'POST /v3/auth/tokens, password method, scoped to the admin project (one bcrypt check, cost 12, per request)' ;;
  esac
}

# POSTs an auth request BODY to URL; prints the issued token (X-Subject-Token)
# or fails when the answer is not 201.
identity_issue_token() {
  local url="$1" body="$2" headers code
  headers="$(mktemp -p "$BENCH_WORK")"
  code="$(curl -s -o /dev/null -D "$headers" -w '%{http_code}' --max-time 30 \
            -H 'Content-Type: application/json' -d "$body" "$url/v3/auth/tokens")"
  [[ "$code" == 201 ]] || die "token request to $url answered $code, not 201"
  tr -d '\r' < "$headers" | awk -F': ' 'tolower($1) == "x-subject-token" { print $2 }'
  rm -f "$headers"
}

# Gets the tokens the workloads need from the service at URL and exports
# them for the wrk scripts.
identity_prepare() {
  local url="$1"
  local domain='"domain":{"id":"default"}'
  local password_identity="{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$IDENTITY_USER\",$domain,\"password\":\"$IDENTITY_PASSWORD\"}}}"
  local scope="\"scope\":{\"project\":{\"name\":\"$IDENTITY_PROJECT\",$domain}}"
  BENCH_ADMIN_TOKEN="$(identity_issue_token "$url" "{\"auth\":{\"identity\":$password_identity,$scope}}")"
  BENCH_SUBJECT_TOKEN="$(identity_issue_token "$url" "{\"auth\":{\"identity\":$password_identity,$scope}}")"
  BENCH_UNSCOPED_TOKEN="$(identity_issue_token "$url" "{\"auth\":{\"identity\":$password_identity}}")"
  [[ -n "$BENCH_ADMIN_TOKEN" && -n "$BENCH_SUBJECT_TOKEN" && -n "$BENCH_UNSCOPED_TOKEN" ]] ||
    die "could not get tokens from $url"
  export BENCH_ADMIN_TOKEN BENCH_SUBJECT_TOKEN BENCH_UNSCOPED_TOKEN
  export BENCH_USER="$IDENTITY_USER" BENCH_PASSWORD="$IDENTITY_PASSWORD" \
         BENCH_PROJECT="$IDENTITY_PROJECT"
  # The validation workload must see 200 before it is measured.
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
            -H "X-Auth-Token: $BENCH_ADMIN_TOKEN" \
            -H "X-Subject-Token: $BENCH_SUBJECT_TOKEN" "$url/v3/auth/tokens")"
  [[ "$code" == 200 ]] || die "token validation at $url answered $code, not 200"
}

# Runs every identity workload against TARGET at URL.
identity_run() {
  local target="$1" url="$2" run workload conns
  identity_prepare "$url"
  for run in $BENCH_IDENTITY_RUNS; do
    workload="${run%%:*}"
    conns="${run##*:}"
    [[ -f "$BENCH_DIR/workloads/identity/$workload.lua" ]] ||
      die "unknown identity workload: $workload"
    measure "$target" identity "$workload" \
      "$BENCH_DIR/workloads/identity/$workload.lua" "$url" "$conns"
  done
}
