#!/usr/bin/env bash
# The differential test: every scenario in tests/differential/scenarios/ runs
# against Debian's Swift (proxy, account, container and object servers with
# the middleware onestack implements, keystone auth) and against onestack,
# and every difference in status, headers or body fails the run unless
# tests/differential/allowed.yaml lists it with its reason.
#
# Both sides authenticate against onestack's identity service, so the same
# token, project and account name (AUTH_<project id>) serve both; each
# scenario gets a project (an account) of its own.
#
#   tests/differential/run.sh [diff.py options]   run the scenarios, exit non-zero on
#                                                 an unlisted difference
#   tests/differential/run.sh serve               start both and wait (prints the
#                                                 diff.py command to run against them)
# Needs ONESTACK_BIN (the onestack binary) and root (Swift runs as user swift
# in a private mount namespace; the packages are installed when missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../../bench/lib.sh
source "$root/bench/lib.sh"
# shellcheck source=../../bench/reference/swift.sh
source "$root/bench/reference/swift.sh"

mode=run
if [[ "${1:-}" == serve ]]; then mode=serve; shift; fi
bin="${ONESTACK_BIN:?set ONESTACK_BIN to the onestack binary}"

# Swift's servers run as user swift and must reach their files: a temp dir
# under one everybody may traverse (/tmp is not always so).
for base in "${TMPDIR:-/tmp}" /var/tmp; do
  if (( 0$(stat -c %a "$base") & 1 )); then export TMPDIR=$base; break; fi
done
bench_init
apt_install $(swift_packages) swift-object-expirer

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
declare -A taken=()
# Sets a variable to a free port no other of this run's servers uses.
take_port() {
  local p
  while :; do
    p=$(free_port)
    if [[ -z "${taken[$p]:-}" ]]; then taken[$p]=1; printf -v "$1" '%s' "$p"; return; fi
  done
}
take_port identity_port
take_port object_port
take_port BENCH_SWIFT_PROXY_PORT
take_port BENCH_SWIFT_OBJECT_PORT
take_port BENCH_SWIFT_CONTAINER_PORT
take_port BENCH_SWIFT_ACCOUNT_PORT
take_port BENCH_SWIFT_MEMCACHED_PORT
take_port BENCH_SWIFT_SYSLOG_PORT
SWIFT_PROXY_PORT=$BENCH_SWIFT_PROXY_PORT
SWIFT_OBJECT_PORT=$BENCH_SWIFT_OBJECT_PORT
SWIFT_CONTAINER_PORT=$BENCH_SWIFT_CONTAINER_PORT
SWIFT_ACCOUNT_PORT=$BENCH_SWIFT_ACCOUNT_PORT
SWIFT_MEMCACHED_PORT=$BENCH_SWIFT_MEMCACHED_PORT
SWIFT_SYSLOG_PORT=$BENCH_SWIFT_SYSLOG_PORT

# onestack: identity and object storage on loopback.
work="$BENCH_WORK/onestack"
mkdir -p "$work"
password=$(openssl rand -hex 12)
cat > "$work/onestack.conf" <<CONF
[identity]
bind_host = 127.0.0.1
bind_port = $identity_port
[object]
bind_host = 127.0.0.1
bind_port = $object_port
CONF
"$bin" bootstrap --config-file "$work/onestack.conf" --data-dir "$work/data" \
  --bootstrap-password "$password" >/dev/null
"$bin" serve --config-file "$work/onestack.conf" --data-dir "$work/data" \
  >"$work/onestack.log" 2>&1 &
onestack_pid=$!
on_exit "stop_pid $onestack_pid onestack"
wait_http "http://127.0.0.1:$identity_port/healthcheck" "$onestack_pid" onestack "$work/onestack.log" 60
wait_http "http://127.0.0.1:$object_port/healthcheck" "$onestack_pid" onestack "$work/onestack.log" 60

# Swift: the middleware onestack implements, in the order of Swift's sample
# proxy-server.conf, with Swift's default constraints and one sync realm
# named as onestack's default ([object] sync_realm / sync_cluster).
swift_etc="$BENCH_WORK/swift-conf"
mkdir -p "$swift_etc"
chmod 755 "$swift_etc"
cat > "$swift_etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = onestack-differential
swift_hash_path_suffix = onestack-differential

[storage-policy:0]
name = Policy-0
default = yes
EOF
cat > "$swift_etc/container-sync-realms.conf" <<EOF
[realm1]
key = differential-realm-key
cluster_name1 = http://127.0.0.1:$SWIFT_PROXY_PORT/v1/
EOF
chmod 644 "$swift_etc"/*
export BENCH_SWIFT_CONF="$swift_etc"
export BENCH_SWIFT_SYNC_REALMS="$swift_etc/container-sync-realms.conf"
export BENCH_SWIFT_VERSIONING=true
# As root: a sandboxed host may close its system directories to other users,
# and these servers only ever hold this test's data on loopback.
export BENCH_SWIFT_USER=root
# A device that answered 507 once (an object's metadata past what the file
# system's extended attributes hold) would otherwise be skipped for a minute,
# failing every scenario after it.
export BENCH_SWIFT_PROXY_OPTIONS="error_suppression_interval = 0"
# The URI a 401 names: onestack's identity public URL, as onestack names it.
export BENCH_SWIFT_AUTH_URI="http://127.0.0.1:$identity_port"
export BENCH_SWIFT_PIPELINE="catch_errors gatekeeper healthcheck proxy-logging cache listing_formats container_sync bulk tempurl ratelimit crossdomain formpost authtoken keystoneauth staticweb copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server"
# swift.sh read its settings when sourced: take the ones set since.
SWIFT_PIPELINE=$BENCH_SWIFT_PIPELINE
SWIFT_VERSIONING=$BENCH_SWIFT_VERSIONING
SWIFT_USER=$BENCH_SWIFT_USER
swift_start swift "$BENCH_WORK/swift" "http://127.0.0.1:$identity_port/v3" admin "$password" admin

# Swift's background daemons, run once by the scenarios' settle steps: the
# container updater (account totals) and the object expirer (X-Delete-At).
cat > "$swift_etc/container-updater.conf" <<EOF
[DEFAULT]
devices = $BENCH_WORK/swift/node
mount_check = false
swift_dir = $BENCH_WORK/swift/etc
user = root
log_udp_host = 127.0.0.1
log_udp_port = $SWIFT_SYSLOG_PORT

[container-updater]
concurrency = 1
# Unpaced: its default of 50 containers a second takes a minute here.
containers_per_second = 0
EOF
cat > "$swift_etc/object-expirer.conf" <<EOF
[DEFAULT]
swift_dir = $BENCH_WORK/swift/etc
user = root
log_udp_host = 127.0.0.1
log_udp_port = $SWIFT_SYSLOG_PORT

[object-expirer]

[pipeline:main]
pipeline = catch_errors cache proxy-server

[app:proxy-server]
use = egg:swift#proxy

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$SWIFT_MEMCACHED_PORT

[filter:catch_errors]
use = egg:swift#catch_errors
EOF
chmod 644 "$swift_etc"/*
settle="unshare --mount --propagation private sh -c 'mount --bind $swift_etc /etc/swift && \
swift-container-updater /etc/swift/container-updater.conf once && \
swift-object-expirer /etc/swift/object-expirer.conf once'"

args=(--identity "http://127.0.0.1:$identity_port/v3" --admin-password "$password"
      --onestack "http://127.0.0.1:$object_port" --swift "http://127.0.0.1:$SWIFT_PROXY_PORT"
      --swift-settle "$settle")
if [[ $mode == serve ]]; then
  # onestack is started again whenever it exits, from $ONESTACK_BIN as it is
  # then: kill the pid in $BENCH_WORK/onestack.pid after a rebuild.
  echo "$onestack_pid" > "$BENCH_WORK/onestack.pid"
  echo "onestack pid file $BENCH_WORK/onestack.pid, log $work/onestack.log; Swift logs $BENCH_WORK/swift/log"
  echo "run: /usr/bin/python3 $here/diff.py $(printf "%q " "${args[@]}")[SCENARIO_FILE...]"
  echo "stop with Ctrl-C or kill $$"
  while true; do
    if ! kill -0 "$onestack_pid" 2>/dev/null; then
      wait "$onestack_pid" 2>/dev/null || true
      "$bin" serve --config-file "$work/onestack.conf" --data-dir "$work/data" \
        >>"$work/onestack.log" 2>&1 &
      onestack_pid=$!
      on_exit "stop_pid $onestack_pid onestack"
      echo "$onestack_pid" > "$BENCH_WORK/onestack.pid"
      wait_http "http://127.0.0.1:$identity_port/healthcheck" "$onestack_pid" onestack "$work/onestack.log" 60
      log "onestack restarted (pid $onestack_pid)"
    fi
    sleep 0.5
  done
fi
status=0
/usr/bin/python3 "$here/diff.py" "${args[@]}" "$@" || status=$?
if ! kill -0 "$onestack_pid" 2>/dev/null; then
  echo "onestack died during the differential run; its log:" >&2
  tail -40 "$work/onestack.log" >&2
  exit 1
fi
# ASan's and LSan's report header, UBSan's "file:line:col: runtime error:".
report='^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|^[^ ]+:[0-9]+:[0-9]+: runtime error: '
stop_pid "$onestack_pid" onestack
if grep -Eq "$report" "$work/onestack.log"; then
  echo "onestack's log holds a sanitizer report:" >&2
  grep -E -A60 "$report" "$work/onestack.log" >&2
  exit 1
fi
exit $status
