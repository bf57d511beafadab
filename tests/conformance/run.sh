#!/usr/bin/env bash
# Runs the Tempest API tests against a running cloud and compares the
# outcome with the expected results kept in tests/conformance/expected/.
#
# Usage:
#   run.sh --auth-url http://127.0.0.1:PORT/v3 --admin-password PW
#          --services identity[,object-store]
#          [--expected FILE] [--workers 2] [--update-expected] [--regex REGEX]
#          [--admin-user admin] [--admin-project admin] [--admin-domain Default]
#          [--region RegionOne] [--set SECTION.OPTION=VALUE]...
#          [--output-dir DIR] [--keep-workdir]
#
# Exit status: 0 when every test expected to pass passed and every interop
# required test of the selected services passed, 1 otherwise, 2 on usage or
# setup errors. See README.md beside this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
py=/usr/bin/python3
# shellcheck source=lib/apt.sh
source "$here/lib/apt.sh"

auth_url=""
admin_password=""
admin_user="admin"
admin_project="admin"
admin_domain="Default"
region="RegionOne"
services=""
expected=""
workers=2
update_expected=0
regex=""
output_dir="$repo_root/build/conformance"
keep_workdir=0
overrides=()

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

die() {
  echo "conformance: error: $*" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --auth-url) auth_url=${2:?}; shift 2 ;;
    --admin-password) admin_password=${2:?}; shift 2 ;;
    --admin-user) admin_user=${2:?}; shift 2 ;;
    --admin-project) admin_project=${2:?}; shift 2 ;;
    --admin-domain) admin_domain=${2:?}; shift 2 ;;
    --region) region=${2:?}; shift 2 ;;
    --services) services=${2:?}; shift 2 ;;
    --expected) expected=${2:?}; shift 2 ;;
    --workers) workers=${2:?}; shift 2 ;;
    --update-expected) update_expected=1; shift ;;
    --regex) regex=${2:?}; shift 2 ;;
    --set) overrides+=("${2:?}"); shift 2 ;;
    --output-dir) output_dir=${2:?}; shift 2 ;;
    --keep-workdir) keep_workdir=1; shift ;;
    -h|--help) usage ;;
    *) echo "conformance: unknown argument: $1" >&2; usage ;;
  esac
done

[[ -n $auth_url ]] || die "--auth-url is required"
[[ -n $admin_password ]] || die "--admin-password is required"
[[ -n $services ]] || die "--services is required"
[[ $workers =~ ^[1-9][0-9]*$ ]] || die "--workers must be a positive integer"
auth_url=${auth_url%/}
output_dir="$(realpath -m "$output_dir")"

# Each service: tempest test package, interop component, expected file.
swift_enabled=false
test_packages=()
components=()
expected_args=()
IFS=',' read -r -a service_list <<< "$services"
for service in "${service_list[@]}"; do
  case "$service" in
    identity)
      test_packages+=("identity"); components+=("identity")
      expected_args+=("--expected" "tempest.api.identity.=$here/expected/identity.txt") ;;
    object-store)
      swift_enabled=true
      test_packages+=("object_storage"); components+=("object")
      expected_args+=("--expected" "tempest.api.object_storage.=$here/expected/object-store.txt") ;;
    *) die "unknown service '$service' (known: identity, object-store)" ;;
  esac
done
if [[ -n $expected ]]; then
  expected_args=("--expected" "tempest.=$(realpath -m "$expected")")
fi
if [[ -z $regex ]]; then
  regex="^tempest\\.api\\.($(IFS='|'; echo "${test_packages[*]}"))\\."
fi
components_csv=$(IFS=','; echo "${components[*]}")

# --- workspace --------------------------------------------------------------

workdir="$(mktemp -d -t onestack-conformance.XXXXXX)"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [[ $keep_workdir -eq 1 ]]; then
    echo "conformance: kept tempest workspace in $workdir"
  else
    rm -rf "$workdir"
  fi
}
trap cleanup EXIT

ensure_debian_packages "$workdir/apt.log" tempest python3-subunit python3-stestr \
  || die "could not install tempest"
mkdir -p "$output_dir"

# Fail fast, with a readable message, when the cloud is not there.
if ! "$py" - "$auth_url" "$admin_user" "$admin_password" "$admin_project" "$admin_domain" <<'EOF'
import json, sys, urllib.request, urllib.error
url, user, password, project, domain = sys.argv[1:]
body = {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": domain}}}},
    "scope": {"project": {"name": project, "domain": {"name": domain}}}}}
req = urllib.request.Request(url + "/auth/tokens", data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=30) as resp:
        if resp.status != 201 or not resp.headers.get("X-Subject-Token"):
            sys.exit(f"unexpected answer {resp.status} to POST /auth/tokens")
except (urllib.error.URLError, OSError) as error:
    sys.exit(f"cannot get an admin token from {url}: {error}")
EOF
then
  die "the cloud at $auth_url is not usable as configured"
fi

ws="$workdir/workspace"
# Tempest writes a tempest.log into the current directory: keep it out of
# the caller's tree.
cd "$workdir"
tempest init --workspace-path "$workdir/workspace.yaml" "$ws" > "$workdir/init.log" 2>&1 \
  || { cat "$workdir/init.log" >&2; die "tempest init failed"; }
conf="$ws/etc/tempest.conf"

# Feature flags are what a Keystone v3-only cloud without federation and
# without trusts advertises; README.md explains each choice.
cat > "$conf" <<EOF
[DEFAULT]
log_dir = $ws/logs
log_file = tempest.log

[oslo_concurrency]
lock_path = $ws/tempest_lock

[auth]
use_dynamic_credentials = true
admin_username = $admin_user
admin_password = $admin_password
admin_project_name = $admin_project
admin_domain_name = $admin_domain
default_credentials_domain_name = $admin_domain
create_isolated_networks = false

[identity]
uri_v3 = $auth_url
auth_version = v3
region = $region
v3_endpoint_type = public
admin_role = admin
default_domain_id = default
admin_domain_scope = false

[identity-feature-enabled]
api_v3 = true
api_v2 = false
api_v2_admin = false
api_extensions = all
trust = false
domain_specific_drivers = false
security_compliance = false
project_tags = true
application_credentials = true
access_rules = true
immutable_user_source = false

[enforce_scope]
keystone = false

[object-storage]
catalog_type = object-store
endpoint_type = public
region = $region
operator_role = member
reseller_admin_role = ResellerAdmin
# Container sync runs in-process every few seconds; Tempest's default wait
# is sized for the reference's daemons.
container_sync_timeout = 60
container_sync_interval = 1

[object-storage-feature-enabled]
discoverable_apis = all
discoverability = true
object_versioning = true
container_sync = false
tempurl_digest_hashlib = sha256

[service_available]
swift = $swift_enabled
nova = false
glance = false
cinder = false
neutron = false
horizon = false
EOF

if [[ ${#overrides[@]} -gt 0 ]]; then
  "$py" - "$conf" "${overrides[@]}" <<'EOF' || die "bad --set value"
import configparser, sys
path, *items = sys.argv[1:]
parser = configparser.ConfigParser(interpolation=None)
parser.optionxform = str
parser.read(path)
for item in items:
    key, sep, value = item.partition("=")
    section, dot, option = key.rpartition(".")
    if not sep or not dot or not section or not option:
        sys.exit(f"--set expects SECTION.OPTION=VALUE, got {item!r}")
    if not parser.has_section(section):
        parser.add_section(section)
    parser.set(section, option, value)
with open(path, "w") as f:
    parser.write(f)
EOF
fi

# --- run --------------------------------------------------------------------

cd "$ws"
export PYTHON="$py"

tempest run --config-file "$conf" --list-tests --regex "$regex" \
  > "$workdir/list.out" 2> "$workdir/list.err" \
  || { cat "$workdir/list.err" >&2; die "tempest could not list the tests"; }
grep '^tempest\.' "$workdir/list.out" > "$workdir/listing.txt" || true
listed=$(wc -l < "$workdir/listing.txt")
[[ $listed -gt 0 ]] || die "no tests match regex '$regex'"
echo "conformance: running $listed tests matching '$regex' with $workers workers"

start=$(date +%s)
run_rc=0
tempest run --config-file "$conf" --regex "$regex" --concurrency "$workers" \
  > "$output_dir/tempest-run.txt" 2>&1 || run_rc=$?
elapsed=$(( $(date +%s) - start ))
echo "conformance: tempest run finished in ${elapsed}s (exit $run_rc)"

stestr last --subunit > "$output_dir/results.subunit" 2> "$workdir/stestr.err" \
  || { tail -40 "$output_dir/tempest-run.txt" >&2; cat "$workdir/stestr.err" >&2;
       die "no subunit stream from the run"; }
for log in "$ws/logs/tempest.log" "$ws/tempest.log"; do
  if [[ -f $log ]]; then cp "$log" "$output_dir/tempest.log"; fi
done
# Keep the configuration for debugging, without the password.
sed "s/^admin_password = .*/admin_password = <redacted>/" "$conf" > "$output_dir/tempest.conf"

"$py" "$here/lib/collect_results.py" \
  --subunit "$output_dir/results.subunit" \
  --listing "$workdir/listing.txt" \
  --results "$output_dir/results.txt" \
  --details "$output_dir/results-details.tsv" \
  || die "could not collect per-test results"

compare_args=(--details "$output_dir/results-details.tsv"
              --required "$here/interop-required.txt"
              --components "$components_csv"
              --regex "$regex"
              "${expected_args[@]}")
[[ $update_expected -eq 1 ]] && compare_args+=(--update-expected)

compare_rc=0
"$py" "$here/lib/compare.py" "${compare_args[@]}" || compare_rc=$?
echo "conformance: run took ${elapsed}s; results in $output_dir/results.txt"
exit "$compare_rc"
