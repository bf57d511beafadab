#!/usr/bin/env bash
# Benchmarks onestack against the reference OpenStack services, side by side
# on loopback, with the same load generator and workloads, and writes the
# report (docs/benchmarks.md by default).
#
# Usage: bench/run.sh [--only reference|onestack] [--services LIST]
#                     [--self-check] [--output FILE] [--no-install] [--keep]
#   --only T        measure one target only (the report then says so)
#   --services L    comma-separated services to measure: identity, object
#                   (default both); object also measures nginx serving the
#                   same files and the disk's durable small-file create rate;
#                   `--services cluster` alone runs bench/cluster.sh instead
#                   (onestack on PostgreSQL + GlusterFS, 1 and 2 nodes, beside
#                   its embedded default; takes --output, --no-install, --keep)
#   --self-check    measure the reference twice (run-to-run noise; also
#                   exercises the comparison path without onestack)
#   --output FILE   where to write the report (default docs/benchmarks.md)
#   --no-install    do not apt-get install missing packages
#   --keep          keep the temp dir with logs and configs
# Environment: BENCH_DURATION (s, default 20), BENCH_WARMUP (s, default 3),
#   BENCH_WRK_THREADS (default 2), BENCH_WRK_TIMEOUT (s, default 10),
#   BENCH_QUIET_WAIT (s to wait for a quiet machine before each run, 0),
#   BENCH_NICE (e.g. -10: run the services and wrk at that priority, and
#   their sessions' autogroups too, to favour them over other load on a
#   shared machine; unset by default),
#   BENCH_IDENTITY_RUNS ("workload:connections ..."), ONESTACK (binary),
#   BENCH_OBJECT_RUNS ("workload:connections ..."), BENCH_OBJECT_GET_COUNT,
#   BENCH_ONESTACK_PORT, BENCH_ONESTACK_OBJECT_PORT, BENCH_KEYSTONE_PORT,
#   BENCH_KEYSTONE_PG_PORT, BENCH_KEYSTONE_MEMCACHED_PORT,
#   BENCH_KEYSTONE_PROCESSES, BENCH_SWIFT_WORKERS, BENCH_SWIFT_PROXY_PORT
#   (and the other ports in the header of reference/swift.sh),
#   BENCH_NGINX_PORT.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
# The command line as given, with the settings taken from the environment.
BENCH_COMMAND=""
for _v in $(compgen -e | grep -E '^(BENCH_[A-Z_]+|ONESTACK)$' | sort || true); do
  BENCH_COMMAND+="$_v=$(printf '%q' "${!_v}") "
done
BENCH_COMMAND+="bench/run.sh${*:+ $*}"

BENCH_DURATION="${BENCH_DURATION:-20}"
BENCH_WARMUP="${BENCH_WARMUP:-3}"
BENCH_WRK_THREADS="${BENCH_WRK_THREADS:-2}"
BENCH_WRK_TIMEOUT="${BENCH_WRK_TIMEOUT:-10}"

# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"
# shellcheck source=reference/keystone.sh
source "$BENCH_DIR/reference/keystone.sh"
# shellcheck source=onestack.sh
source "$BENCH_DIR/onestack.sh"
# shellcheck source=identity.sh
source "$BENCH_DIR/identity.sh"
# shellcheck source=reference/swift.sh
source "$BENCH_DIR/reference/swift.sh"
# shellcheck source=object.sh
source "$BENCH_DIR/object.sh"

only=""
services="identity,object"
self_check=0
install=1
output="$BENCH_ROOT/docs/benchmarks.md"
while (( $# )); do
  case "$1" in
    --only) only="${2:-}"; shift 2 ;;
    --only=*) only="${1#*=}"; shift ;;
    --services) services="${2:-}"; shift 2 ;;
    --services=*) services="${1#*=}"; shift ;;
    --self-check) self_check=1; shift ;;
    --output) output="${2:-}"; shift 2 ;;
    --output=*) output="${1#*=}"; shift ;;
    --no-install) install=0; shift ;;
    --keep) BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in
  ""|reference|onestack) ;;
  *) echo "--only takes reference or onestack" >&2; exit 2 ;;
esac
[[ "$only" == onestack && $self_check == 1 ]] &&
  { echo "--self-check measures the reference" >&2; exit 2; }
if [[ "$services" == cluster ]]; then
  cluster_args=()
  [[ "$output" != "$BENCH_ROOT/docs/benchmarks.md" ]] && cluster_args+=(--output "$output")
  (( install )) || cluster_args+=(--no-install)
  [[ "${BENCH_KEEP:-0}" == 1 ]] && cluster_args+=(--keep)
  BENCH_CLUSTER_COMMAND="$BENCH_COMMAND" exec "$BENCH_DIR/cluster.sh" "${cluster_args[@]}"
fi
want_identity=0; want_object=0
IFS=',' read -r -a _services <<<"$services"
for _s in "${_services[@]}"; do
  case "$_s" in
    identity) want_identity=1 ;;
    object) want_object=1 ;;
    cluster) echo "--services cluster runs alone" >&2; exit 2 ;;
    *) echo "unknown service '$_s' (known: identity, object, cluster)" >&2; exit 2 ;;
  esac
done
(( want_identity || want_object )) || { echo "--services needs at least one service" >&2; exit 2; }
services="$( (( want_identity )) && printf identity; (( want_identity && want_object )) && printf ,; (( want_object )) && printf object; true)"

BENCH_QUIET_WAIT="${BENCH_QUIET_WAIT:-0}"
for _v in BENCH_DURATION BENCH_WARMUP BENCH_WRK_THREADS BENCH_WRK_TIMEOUT BENCH_QUIET_WAIT \
          KEYSTONE_PROCESSES KEYSTONE_THREADS; do
  [[ "${!_v}" =~ ^[0-9]+$ ]] || { echo "$_v must be a number, not '${!_v}'" >&2; exit 2; }
done
[[ -z "${BENCH_NICE:-}" || "$BENCH_NICE" =~ ^-?[0-9]+$ ]] ||
  { echo "BENCH_NICE must be a number" >&2; exit 2; }
(( BENCH_DURATION > 0 && BENCH_WRK_THREADS > 0 && KEYSTONE_PROCESSES > 0 && KEYSTONE_THREADS > 0 )) ||
  { echo "durations, threads and processes must be positive" >&2; exit 2; }

want_reference=1; want_onestack=1
[[ "$only" == reference ]] && want_onestack=0
[[ "$only" == onestack ]] && want_reference=0

# Fail before installing or starting anything when onestack is missing.
(( want_onestack )) && onestack_check

bench_init
[[ $EUID -eq 0 ]] || die "run as root (installs packages, runs PostgreSQL as its user)"

packages=(wrk curl python3-bcrypt)
(( want_reference )) && read -r -a ref_pkgs <<<"$(keystone_packages)" && packages+=("${ref_pkgs[@]}")
if (( want_reference && want_object )); then
  read -r -a ref_pkgs <<<"$(swift_packages)" && packages+=("${ref_pkgs[@]}")
fi
(( want_object )) && packages+=(nginx)
if (( install )); then
  apt_install "${packages[@]}"
fi
command -v wrk >/dev/null || die "wrk not installed"
command -v curl >/dev/null || die "curl not installed"

meta="$BENCH_WORK/meta"
mkdir -p "$meta"
echo "$BENCH_COMMAND" > "$meta/command"
date -u '+%Y-%m-%d %H:%M UTC' > "$meta/date"
nproc > "$meta/nproc"
awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo > "$meta/cpu"
uname -r > "$meta/kernel"
awk '/^MemTotal/ { printf "%.0f GiB\n", $2 / 1048576 }' /proc/meminfo > "$meta/memory"
( . /etc/os-release && echo "$PRETTY_NAME" ) > "$meta/os"
wrk --version 2>&1 | head -n 1 | awk '{ print $1, $2 }' > "$meta/wrk" || true
echo "$BENCH_WRK_THREADS" > "$meta/wrk_threads"
echo "$BENCH_DURATION" > "$meta/duration"
echo "$BENCH_WARMUP" > "$meta/warmup"
echo "$BENCH_WRK_TIMEOUT" > "$meta/wrk_timeout"
cut -d' ' -f1-3 /proc/loadavg > "$meta/loadavg"
echo "${BENCH_NICE:-}" > "$meta/nice"
if (( want_identity )); then
  for run in $BENCH_IDENTITY_RUNS; do identity_workload_doc "${run%%:*}"; done |
    awk '!seen[$0]++' > "$meta/workloads_identity"
  /usr/bin/python3 "$BENCH_DIR/bcrypt_cost.py" 12 5 > "$meta/bcrypt"
fi
if (( want_object )); then
  for run in $BENCH_OBJECT_RUNS; do object_workload_doc "${run%%:*}"; done |
    awk '!seen[$0]++' > "$meta/workloads_object"
fi

# Targets run one after the other, each alone on the machine: a target's
# processes are stopped before the next one starts.
# The reference's object storage authenticates against its Keystone, which
# therefore runs for both services (only measured for identity).
if (( want_reference )); then
  mark="$(cleanup_mark)"
  keystone_start reference "$BENCH_WORK/reference" \
    "$IDENTITY_USER" "$IDENTITY_PASSWORD" "$IDENTITY_PROJECT"
  keystone_describe > "$meta/describe_reference"
  if (( want_identity )); then
    identity_run reference "$KEYSTONE_URL"
    if (( self_check )); then
      BENCH_ROOTS["reference-rerun:app"]="${BENCH_ROOTS["reference:app"]}"
      BENCH_ROOTS["reference-rerun:backing"]="${BENCH_ROOTS["reference:backing"]}"
      identity_run reference-rerun "$KEYSTONE_URL"
    fi
  fi
  if (( want_object )); then
    # From here on the reference's measured processes are Swift's.
    swift_start reference "$BENCH_WORK/reference/swift" "$KEYSTONE_URL" \
      "$IDENTITY_USER" "$IDENTITY_PASSWORD" "$IDENTITY_PROJECT"
    swift_describe > "$meta/describe_reference_object"
    object_auth "$KEYSTONE_URL" "$IDENTITY_USER" "$IDENTITY_PASSWORD" "$IDENTITY_PROJECT"
    object_run reference "$SWIFT_URL/v1/AUTH_$OBJECT_PROJECT_ID" "$OBJECT_TOKEN"
    if (( self_check )); then
      BENCH_ROOTS["reference-rerun:app"]="${BENCH_ROOTS["reference:app"]}"
      BENCH_ROOTS["reference-rerun:backing"]="${BENCH_ROOTS["reference:backing"]}"
      object_rerun reference-rerun "$SWIFT_URL/v1/AUTH_$OBJECT_PROJECT_ID" "$OBJECT_TOKEN"
    fi
  fi
  log "reference: stopping"
  cleanup_to "$mark"
fi

if (( want_onestack )); then
  mark="$(cleanup_mark)"
  onestack_start onestack "$BENCH_WORK/onestack" "$IDENTITY_PASSWORD" "$services"
  onestack_describe > "$meta/describe_onestack"
  (( want_identity )) && identity_run onestack "$ONESTACK_URL"
  if (( want_object )); then
    object_auth "$ONESTACK_URL" "$IDENTITY_USER" "$IDENTITY_PASSWORD" "$IDENTITY_PROJECT"
    object_run onestack "$ONESTACK_OBJECT_URL/v1/AUTH_$OBJECT_PROJECT_ID" "$OBJECT_TOKEN"
  fi
  log "onestack: stopping"
  cleanup_to "$mark"
fi

# The ceilings of object storage on this machine, measured alone: nginx
# serving the same files, and the disk's durable small-file create rate.
if (( want_object )); then
  mark="$(cleanup_mark)"
  nginx_start nginx "$BENCH_WORK/nginx"
  nginx_describe > "$meta/describe_nginx"
  nginx_run nginx
  log "nginx: stopping"
  cleanup_to "$mark"
  object_fsync_bound > "$meta/fsync_bound"
fi

cat > "$meta/notes" <<EOF
Targets run one after the other (never at the same time); wrk shares the machine's cores with the service under test.
CPU seconds: utime+stime of every process in the service's process tree during the measured run (not the warm-up), including children reaped meanwhile (from /proc/PID/stat). "CPU ms/req (all)" and the ratios count the service and what serves it (db+cache, cache+log).
Peak RSS: VmHWM of each process of the tree, summed, read after the run (peaks since the process started, so they include start-up). Shared pages (e.g. forked workers) count once per process.
CPU s wrk: the load generator's own CPU time. CPU s other: CPU time the machine spent on any other process during the run (machine-wide user+system time from /proc/stat minus the service, what serves it and wrk); a run where it exceeds 5% of the machine's core-seconds is marked "disturbed": its figures are not representative.
errors: socket errors, timeouts and HTTP statuses >= 400 seen by wrk; each workload's request is checked once with curl before it runs. A run with any error is marked INVALID and its ratios are not to be trusted.
On a shared or busy machine, throughput and latency move with the other load, while CPU ms per request stays close from run to run: compare that figure first.
EOF
if (( want_identity )); then
  cat >> "$meta/notes" <<EOF
Identity: for the reference, "service" is the uWSGI master and its workers; "db+cache" is the PostgreSQL cluster (postmaster and backends) and memcached, which serve it.
The reference Keystone answers with Connection: close (uWSGI's http-socket has no keep-alive), so wrk opens one TCP connection per request to it; onestack keeps connections alive.
Token validation at the reference is served from its memcached cache after the first request (same token every time), as in a warm production deployment.
EOF
fi
if (( want_object )); then
  cat >> "$meta/notes" <<EOF
Object storage: one project-scoped token, obtained once from the target's own identity service, is sent as X-Auth-Token with every request, to both targets. The reference's Keystone runs during the object runs but is not counted: Swift's auth_token middleware validates the token once and then serves it from memcached. For the reference, "service" is the proxy, object, container and account servers with their workers; "cache+log" is Swift's memcached and the rsyslogd that writes its logs. onestack's figures are its whole process (identity included).
Object data lives on the temp dir's filesystem for every target; the GET workloads read objects the page cache holds (uploaded just before). Each object workload's request is checked once with curl before it runs (2xx, whole body, 10,000 listing entries).
nginx serves the same files from a plain directory with sendfile, as the ceiling of serving bytes over HTTP on this machine with this client (wrk reads responses in 8 KiB pieces, so at high rates the client shares the bound).
EOF
fi

/usr/bin/python3 "$BENCH_DIR/report.py" "$BENCH_RESULTS" "$meta" "$output"
log "report written to $output"
if awk -F'\t' '$NF != "yes" { bad = 1 } END { exit !bad }' "$BENCH_RESULTS"; then
  log "some runs had errors (marked INVALID in the report)"
  show_log_tail ${BENCH_LOGS[reference]:-} ${BENCH_LOGS[onestack]:-} ${BENCH_LOGS[nginx]:-}
  exit 1
fi
