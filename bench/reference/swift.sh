# shellcheck shell=bash
# Reference object storage: Debian's Swift (proxy, account, container and
# object servers, eventlet workers as the Debian units start them) on
# loopback, with keystone auth against the reference Keystone, its own
# memcached, and an rsyslogd that writes the servers' logs to a file.
# Sourced by bench/run.sh.
#
# Only the four WSGI servers run: no replicators, auditors, updaters,
# reapers or sharders, so nothing but the requests uses the disk.
# Storage: one device, a plain directory under the run's temp dir
# (mount_check = false), 1-replica rings.
#
# Ports (override with env): proxy 26080, object 26000, container 26001,
# account 26002, memcached 26211, rsyslog (UDP) 26514.
#
# Also used by the differential test (tests/differential/), which sets:
#   BENCH_SWIFT_PIPELINE          the proxy pipeline (default: the bench's)
#   BENCH_SWIFT_VERSIONING=true   legacy versioned writes and object versioning on
#   BENCH_SWIFT_CONF=DIR          a swift.conf of its own (DIR/swift.conf): every
#                                 server runs in a private mount namespace where DIR
#                                 is bind-mounted over /etc/swift (Swift reads
#                                 swift.conf only there; the host's is not touched)
#   BENCH_SWIFT_SYNC_REALMS=FILE  container-sync-realms.conf for the proxy
#   BENCH_SWIFT_AUTH_URI=URL      authtoken's www_authenticate_uri (default: the
#                                 Keystone URL swift_start is given)
#   BENCH_SWIFT_PROXY_OPTIONS     more lines for [app:proxy-server]
#   BENCH_SWIFT_USER=root         the user the servers run as (default swift; root
#                                 where system directories are not open to
#                                 other users, as on some sandboxed hosts)

SWIFT_PROXY_PORT="${BENCH_SWIFT_PROXY_PORT:-26080}"
SWIFT_OBJECT_PORT="${BENCH_SWIFT_OBJECT_PORT:-26000}"
SWIFT_CONTAINER_PORT="${BENCH_SWIFT_CONTAINER_PORT:-26001}"
SWIFT_ACCOUNT_PORT="${BENCH_SWIFT_ACCOUNT_PORT:-26002}"
SWIFT_MEMCACHED_PORT="${BENCH_SWIFT_MEMCACHED_PORT:-26211}"
SWIFT_SYSLOG_PORT="${BENCH_SWIFT_SYSLOG_PORT:-26514}"
# Workers per server: "auto" is one per core, Swift's default (Debian's
# sample proxy-server.conf says 20, sized for a bigger machine).
SWIFT_WORKERS="${BENCH_SWIFT_WORKERS:-auto}"
# Swift reads its hash prefix and storage policies from this fixed path.
SWIFT_CONF_FILE="/etc/swift/swift.conf"

# Debian packages the reference needs (besides Keystone's).
swift_packages() {
  echo swift swift-proxy swift-account swift-container swift-object \
       python3-keystonemiddleware memcached rsyslog
}

# Describes the reference setup (one Markdown paragraph, for the report).
swift_describe() {
  local ver
  ver="$(dpkg-query -W -f='${Version}' swift 2>/dev/null || echo '?')"
  cat <<EOF
Swift $ver (Debian packages): proxy on 127.0.0.1:$SWIFT_PROXY_PORT with
object, container and account servers (\`swift-*-server\` as the Debian units
run them, eventlet, workers = $SWIFT_WORKERS, i.e. $(swift_worker_count) per server, running as
user ${BENCH_SWIFT_USER:-swift}), one storage device (a plain directory on the temp dir's
$(stat -f -c %T "${BENCH_WORK:-/tmp}" 2>/dev/null | sed 's|ext2/ext3|ext4|') filesystem,
mount_check off), 1-replica rings of 2^10 partitions; no replicator, auditor or
updater running. Proxy pipeline: $SWIFT_PIPELINE;
keystonemiddleware $(dpkg-query -W -f='${Version}' python3-keystonemiddleware 2>/dev/null || echo '?')
auth_token validating against the reference Keystone (cached in memcached
$(memcached -V 2>/dev/null | awk '{print $2}') on 127.0.0.1:$SWIFT_MEMCACHED_PORT, 64 MiB, which also holds
Swift's account and container info), keystoneauth with operator roles admin,
member; account_autocreate on. Request logging on (Swift's default), sent
over UDP to an rsyslogd $(rsyslogd -v 2>/dev/null | awk 'NR == 1 { print $2 }') that writes one file.
EOF
}

SWIFT_PIPELINE="${BENCH_SWIFT_PIPELINE:-catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit authtoken keystoneauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server}"
SWIFT_VERSIONING="${BENCH_SWIFT_VERSIONING:-false}"
SWIFT_USER="${BENCH_SWIFT_USER:-swift}"

swift_worker_count() {
  if [[ "$SWIFT_WORKERS" == auto ]]; then nproc; else echo "$SWIFT_WORKERS"; fi
}

# Writes the [DEFAULT] section shared by the four servers.
#   _swift_default_section PORT LOG_NAME ETC DEVICES
_swift_default_section() {
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = $SWIFT_WORKERS
user = $SWIFT_USER
swift_dir = $3
devices = $4
mount_check = false
log_name = $2
log_udp_host = 127.0.0.1
log_udp_port = $SWIFT_SYSLOG_PORT
EOF
}

# Writes the storage server config for KIND (account, container, object).
#   _swift_storage_conf KIND PORT ETC DEVICES CACHE
_swift_storage_conf() {
  local kind="$1" port="$2" etc="$3" devices="$4" cache="$5"
  _swift_default_section "$port" "swift-$kind" "$etc" "$devices"
  cat <<EOF

[pipeline:main]
pipeline = healthcheck recon $kind-server

[app:$kind-server]
use = egg:swift#$kind

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:recon]
use = egg:swift#recon
recon_cache_path = $cache
EOF
}

# Starts memcached, rsyslogd and the Swift servers for TARGET under DIR,
# with keystone auth against KEYSTONE_URL as USER (admin of PROJECT); sets
# SWIFT_URL and BENCH_ROOTS[TARGET:app|backing]; registers their stop.
#   swift_start TARGET DIR KEYSTONE_URL USER PASSWORD PROJECT
swift_start() {
  local target="$1" dir="$2" keystone_url="$3" user="$4" password="$5" project="$6"
  local b
  for b in swift-ring-builder swift-proxy-server swift-account-server \
           swift-container-server swift-object-server memcached rsyslogd; do
    command -v "$b" >/dev/null || die "$b not installed"
  done
  id "$SWIFT_USER" >/dev/null 2>&1 || die "no $SWIFT_USER user (is the swift package installed?)"
  local port
  for port in "$SWIFT_PROXY_PORT" "$SWIFT_OBJECT_PORT" "$SWIFT_CONTAINER_PORT" \
              "$SWIFT_ACCOUNT_PORT" "$SWIFT_MEMCACHED_PORT"; do
    require_port_free "$port" swift
  done

  local etc="$dir/etc" devices="$dir/node" cache="$dir/cache" logdir="$dir/log"
  mkdir -p "$etc" "$devices/d1" "$cache" "$logdir" "$dir/rsyslog"
  chown -R "$SWIFT_USER:$SWIFT_USER" "$devices" "$cache"

  # swift.conf: Swift reads it from /etc/swift whatever swift_dir says. The
  # package installs one (policy 0 only); write one only when it is missing,
  # and remove it again on exit.
  local own_conf="${BENCH_SWIFT_CONF:-}"
  if [[ -n "$own_conf" ]]; then
    command -v unshare >/dev/null || die "unshare not installed (util-linux)"
  elif [[ ! -f "$SWIFT_CONF_FILE" ]]; then
    mkdir -p "$(dirname "$SWIFT_CONF_FILE")"
    cat > "$SWIFT_CONF_FILE" <<EOF
[swift-hash]
swift_hash_path_prefix = onestack-bench
swift_hash_path_suffix = onestack-bench

[storage-policy:0]
name = Policy-0
default = yes
EOF
    on_exit "rm -f '$SWIFT_CONF_FILE'"
  fi
  if [[ -n "$own_conf" ]]; then
    [[ -f "$own_conf/swift.conf" ]] || die "BENCH_SWIFT_CONF: no $own_conf/swift.conf"
    mkdir -p /etc/swift
  fi
  if [[ -n "${BENCH_SWIFT_SYNC_REALMS:-}" ]]; then
    cp "$BENCH_SWIFT_SYNC_REALMS" "$etc/container-sync-realms.conf"
  fi
  local conf_file="$SWIFT_CONF_FILE"
  [[ -n "$own_conf" ]] && conf_file="$own_conf/swift.conf"
  if grep -q '^\[storage-policy:[1-9]' "$conf_file"; then
    die "$conf_file defines storage policies other than 0; the benchmark builds rings for policy 0 only"
  fi

  # Rings: 2^10 partitions, 1 replica, one device.
  log "reference: building 1-replica rings"
  local kind
  for kind in account container object; do
    case "$kind" in
      account) port="$SWIFT_ACCOUNT_PORT" ;;
      container) port="$SWIFT_CONTAINER_PORT" ;;
      object) port="$SWIFT_OBJECT_PORT" ;;
    esac
    {
      swift-ring-builder "$etc/$kind.builder" create 10 1 1 &&
      swift-ring-builder "$etc/$kind.builder" add "r1z1-127.0.0.1:$port/d1" 100 &&
      swift-ring-builder "$etc/$kind.builder" rebalance
    } >> "$logdir/ring-builder.log" 2>&1 ||
      { show_log_tail "$logdir/ring-builder.log"; die "swift-ring-builder failed for $kind"; }
  done

  # rsyslogd: the log destination (a Debian host sends Swift's logs to
  # syslog); UDP on loopback, everything into one file.
  cat > "$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/rsyslog")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$SWIFT_SYSLOG_PORT")
*.* action(type="omfile" file="$logdir/swift.log")
EOF
  log "reference: starting rsyslogd (UDP 127.0.0.1:$SWIFT_SYSLOG_PORT) for Swift's logs"
  rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" > "$logdir/rsyslogd.out" 2>&1 &
  local syslog_pid=$!
  on_exit "stop_pid $syslog_pid rsyslogd"
  sleep 0.2
  kill -0 "$syslog_pid" 2>/dev/null ||
    { show_log_tail "$logdir/rsyslogd.out"; die "rsyslogd did not start"; }

  log "reference: starting memcached on 127.0.0.1:$SWIFT_MEMCACHED_PORT"
  memcached -l 127.0.0.1 -p "$SWIFT_MEMCACHED_PORT" -U 0 -m 64 -u memcache \
      > "$logdir/memcached.log" 2>&1 &
  local mc_pid=$!
  on_exit "stop_pid $mc_pid memcached"
  wait_port "$SWIFT_MEMCACHED_PORT" "$mc_pid" memcached "$logdir/memcached.log" 30

  _swift_storage_conf account "$SWIFT_ACCOUNT_PORT" "$etc" "$devices" "$cache" \
    > "$etc/account-server.conf"
  _swift_storage_conf container "$SWIFT_CONTAINER_PORT" "$etc" "$devices" "$cache" \
    > "$etc/container-server.conf"
  _swift_storage_conf object "$SWIFT_OBJECT_PORT" "$etc" "$devices" "$cache" \
    > "$etc/object-server.conf"

  {
    _swift_default_section "$SWIFT_PROXY_PORT" swift-proxy "$etc" "$devices"
    cat <<EOF

[pipeline:main]
pipeline = $SWIFT_PIPELINE

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
${BENCH_SWIFT_PROXY_OPTIONS:-}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$SWIFT_MEMCACHED_PORT

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:tempurl]
use = egg:swift#tempurl

[filter:ratelimit]
use = egg:swift#ratelimit

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = ${BENCH_SWIFT_AUTH_URI:-$keystone_url}
auth_url = $keystone_url
auth_type = password
# The reference Keystone's catalog has its public endpoint only.
interface = public
project_domain_id = default
user_domain_id = default
project_name = $project
username = $user
password = $password
delay_auth_decision = true
cache = swift.cache
include_service_catalog = false
service_token_roles_required = true

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_prefix = AUTH_

[filter:copy]
use = egg:swift#copy

[filter:container-quotas]
use = egg:swift#container_quotas

[filter:account-quotas]
use = egg:swift#account_quotas

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = $SWIFT_VERSIONING
allow_object_versioning = $SWIFT_VERSIONING

[filter:symlink]
use = egg:swift#symlink

[filter:staticweb]
use = egg:swift#staticweb

[filter:formpost]
use = egg:swift#formpost

[filter:crossdomain]
use = egg:swift#crossdomain

[filter:container_sync]
use = egg:swift#container_sync
EOF
  } > "$etc/proxy-server.conf"
  chmod 640 "$etc/proxy-server.conf"
  chgrp "$SWIFT_USER" "$etc/proxy-server.conf"

  # The servers, in the foreground (they fork their workers and stop them
  # on TERM), with the open-file limit of Debian's units.
  local pids=() name pid
  for kind in object container account proxy; do
    name="swift-$kind-server"
    case "$kind" in
      account) port="$SWIFT_ACCOUNT_PORT" ;;
      container) port="$SWIFT_CONTAINER_PORT" ;;
      object) port="$SWIFT_OBJECT_PORT" ;;
      proxy) port="$SWIFT_PROXY_PORT" ;;
    esac
    log "reference: starting $name on 127.0.0.1:$port"
    if [[ -n "$own_conf" ]]; then
      ( ulimit -n 65535 2>/dev/null || true
        exec unshare --mount --propagation private sh -c \
          'mount --bind "$1" /etc/swift && shift && exec "$@"' \
          sh "$own_conf" "$name" "$etc/$kind-server.conf" ) > "$logdir/$kind-server.out" 2>&1 &
    else
      ( ulimit -n 65535 2>/dev/null || true
        exec "$name" "$etc/$kind-server.conf" ) > "$logdir/$kind-server.out" 2>&1 &
    fi
    pid=$!
    on_exit "stop_pid $pid $name"
    pids+=("$pid")
    wait_port "$port" "$pid" "$name" "$logdir/$kind-server.out" 60
  done
  SWIFT_URL="http://127.0.0.1:$SWIFT_PROXY_PORT"
  wait_http "$SWIFT_URL/healthcheck" "${pids[3]}" swift-proxy-server \
    "$logdir/proxy-server.out" 60

  # Each server's parent process polls its workers 100 times a second,
  # a few percent of a core at rest.
  BENCH_IDLE_CPU[$target]=0.10
  BENCH_ROOTS[$target:app]="${pids[*]}"
  BENCH_ROOTS[$target:backing]="$mc_pid $syslog_pid"
  BENCH_LOGS[$target]="$logdir/proxy-server.out $logdir/swift.log"
}
