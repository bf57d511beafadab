#!/usr/bin/env bash
# Benchmarks onestack on its scale-out backends beside its embedded default,
# in one run, with the object and identity workloads of bench/run.sh:
#   embedded      one node, SQLite + a local directory (the default)
#   pg-gluster-1  one node, PostgreSQL + a GlusterFS volume
#   pg-gluster-2  two nodes sharing that database and volume, behind haproxy
#                 (deploy/haproxy.cfg)
# and writes (or replaces) the section "Scale-out backends run" of the report
# (docs/benchmarks.md by default), leaving its other sections as they are.
#
# Usage: bench/cluster.sh [--output FILE] [--no-install] [--keep]
#   (also reached as: bench/run.sh --services cluster [same options])
# Environment: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 2),
#   BENCH_WRK_THREADS (default 2), BENCH_WRK_TIMEOUT (s, default 10),
#   BENCH_CLUSTER_RUNS ("workload:connections ...", default
#   "put_4k:64 get_4k:64 get_4m:4 validate_token:64"), ONESTACK (binary),
#   BENCH_ONESTACK_PORT / BENCH_ONESTACK_OBJECT_PORT (node a, default
#   25050 / 25080; node b uses the next port of each), BENCH_LB_PORT /
#   BENCH_LB_OBJECT_PORT (haproxy, default 25060 / 25090), BENCH_PG_PORT
#   (default 25433).
# Needs root: PostgreSQL runs as its system user (scripts/pg.sh), the
# GlusterFS test host lives in a network namespace (scripts/gluster.sh).
# Everything started here is stopped on exit, on error and on Ctrl-C.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
BENCH_COMMAND="${BENCH_CLUSTER_COMMAND:-}"
if [[ -z "$BENCH_COMMAND" ]]; then
  for _v in $(compgen -e | grep -E '^(BENCH_[A-Z_]+|ONESTACK)$' | sort || true); do
    BENCH_COMMAND+="$_v=$(printf '%q' "${!_v}") "
  done
  BENCH_COMMAND+="bench/cluster.sh${*:+ $*}"
fi
unset BENCH_CLUSTER_COMMAND

BENCH_DURATION="${BENCH_DURATION:-10}"
BENCH_WARMUP="${BENCH_WARMUP:-2}"
BENCH_WRK_THREADS="${BENCH_WRK_THREADS:-2}"
BENCH_WRK_TIMEOUT="${BENCH_WRK_TIMEOUT:-10}"
CLUSTER_RUNS="${BENCH_CLUSTER_RUNS:-put_4k:64 get_4k:64 get_4m:4 validate_token:64}"
LB_PORT="${BENCH_LB_PORT:-25060}"
LB_OBJECT_PORT="${BENCH_LB_OBJECT_PORT:-25090}"
PG_PORT="${BENCH_PG_PORT:-25433}"

# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"
# shellcheck source=onestack.sh
source "$BENCH_DIR/onestack.sh"
# shellcheck source=identity.sh
source "$BENCH_DIR/identity.sh"
# shellcheck source=object.sh
source "$BENCH_DIR/object.sh"

NODE_B_PORT=$(( ONESTACK_IDENTITY_PORT + 1 ))
NODE_B_OBJECT_PORT=$(( ONESTACK_OBJECT_PORT + 1 ))

install=1
output="$BENCH_ROOT/docs/benchmarks.md"
while (( $# )); do
  case "$1" in
    --output) output="${2:-}"; shift 2 ;;
    --output=*) output="${1#*=}"; shift ;;
    --no-install) install=0; shift ;;
    --keep) BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for _v in BENCH_DURATION BENCH_WARMUP BENCH_WRK_THREADS BENCH_WRK_TIMEOUT; do
  [[ "${!_v}" =~ ^[0-9]+$ ]] || { echo "$_v must be a number, not '${!_v}'" >&2; exit 2; }
done
for run in $CLUSTER_RUNS; do
  case "${run%%:*}" in
    put_4k|get_4k|get_4m|validate_token) ;;
    *) echo "unknown workload '${run%%:*}' (known: put_4k get_4k get_4m validate_token)" >&2; exit 2 ;;
  esac
done

onestack_check
bench_init
[[ $EUID -eq 0 ]] || die "run as root (PostgreSQL runs as its user, GlusterFS in a network namespace)"
(( install )) && apt_install wrk curl postgresql glusterfs-server haproxy
for _c in wrk curl haproxy glusterd; do
  command -v "$_c" >/dev/null || die "$_c not installed"
done

meta="$BENCH_WORK/meta"
mkdir -p "$meta"
CLUSTER_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
CLUSTER_LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"

# The 4 KiB and 4 MiB bodies.
cluster_files() {
  CLUSTER_FILES="$BENCH_WORK/cluster-files"
  mkdir -p "$CLUSTER_FILES"
  head -c 4096 /dev/urandom > "$CLUSTER_FILES/small"
  head -c $(( 4 * 1024 * 1024 )) /dev/urandom > "$CLUSTER_FILES/big"
}

# Writes a node's config: NAME DIR IDENTITY_PORT OBJECT_PORT IDENTITY_URL
# OBJECT_URL [CONNINFO VOLUME SERVER] (without the last three: embedded).
cluster_node_conf() {
  local name="$1" dir="$2" port="$3" oport="$4" url="$5" ourl="$6"
  local conninfo="${7:-}" volume="${8:-}" server="${9:-}"
  mkdir -p "$dir/data" "$dir/log"
  cat > "$dir/onestack.conf" <<EOF
[DEFAULT]
node_name = $name

[identity]
bind_host = 127.0.0.1
bind_port = $port
public_url = $url

[object]
enabled = true
bind_host = 127.0.0.1
bind_port = $oport
blob_dir = $dir/data/objects
public_url = $ourl
EOF
  if [[ -n "$conninfo" ]]; then
    cat >> "$dir/onestack.conf" <<EOF

[database]
connection = $conninfo

[object_store]
backend = glusterfs
volume = $volume
servers = $server
EOF
  fi
}

# Starts the node configured in DIR; prints its PID.
cluster_node_start() {
  local name="$1" dir="$2" port="$3" oport="$4"
  require_port_free "$port" "onestack $name"
  require_port_free "$oport" "onestack $name object storage"
  "$ONESTACK" serve --data-dir "$dir/data" --config-file "$dir/onestack.conf" \
      > "$dir/log/onestack.log" 2>&1 &
  local pid=$!
  on_exit "stop_pid $pid 'onestack $name'"
  wait_port "$port" "$pid" "onestack $name" "$dir/log/onestack.log" 60
  wait_http "http://127.0.0.1:$port/v3" "$pid" "onestack $name" "$dir/log/onestack.log" 60
  wait_port "$oport" "$pid" "onestack $name object storage" "$dir/log/onestack.log" 60
  CLUSTER_PID="$pid"
}

cluster_bootstrap() {
  local dir="$1" url="$2"
  "$ONESTACK" bootstrap --data-dir "$dir/data" --config-file "$dir/onestack.conf" \
      --bootstrap-password "$IDENTITY_PASSWORD" --bootstrap-region-id RegionOne \
      --bootstrap-public-url "$url" > "$dir/log/bootstrap.log" 2>&1 ||
    { show_log_tail "$dir/log/bootstrap.log"; die "onestack bootstrap failed"; }
}

# A fresh database for a configuration: PostgreSQL in DIR on PG_PORT.
# Sets CLUSTER_CONNINFO and CLUSTER_PG_PID (the postmaster).
cluster_pg_start() {
  local dir="$1"
  require_port_free "$PG_PORT" PostgreSQL
  log "PostgreSQL: starting on 127.0.0.1:$PG_PORT"
  on_exit "'$BENCH_ROOT/scripts/pg.sh' stop '$dir' >/dev/null 2>&1"
  CLUSTER_CONNINFO="$("$BENCH_ROOT/scripts/pg.sh" start "$dir" "$PG_PORT")" ||
    die "scripts/pg.sh start failed"
  CLUSTER_PG_PID="$(head -n 1 "$dir/data/postmaster.pid")"
}

# The GlusterFS test host (one volume, two bricks, replica 2, in a network
# namespace); each configuration uses its own directory on the volume.
cluster_gluster_up() {
  local dir="$1" out
  log "GlusterFS: starting the test host"
  on_exit "'$BENCH_ROOT/scripts/gluster.sh' down '$dir' >/dev/null 2>&1"
  out="$("$BENCH_ROOT/scripts/gluster.sh" up "$dir")" || die "scripts/gluster.sh up failed"
  GLUSTER_VOLUME="${out%@*}"
  GLUSTER_SERVER="${out#*@}"
  # shellcheck disable=SC1091
  GLUSTER_NS="$(. "$dir/env" && echo "$NS")"
}

gluster_pids() { ip netns pids "$GLUSTER_NS" | tr '\n' ' '; }

haproxy_start() {
  local dir="$1" pid
  require_port_free "$LB_PORT" haproxy
  require_port_free "$LB_OBJECT_PORT" "haproxy object storage"
  mkdir -p "$dir"
  env ONESTACK_LB_HOST=127.0.0.1 ONESTACK_LB_IDENTITY_PORT="$LB_PORT" \
      ONESTACK_LB_OBJECT_PORT="$LB_OBJECT_PORT" \
      ONESTACK_NODE_A=127.0.0.1 ONESTACK_NODE_B=127.0.0.1 \
      ONESTACK_NODE_IDENTITY_PORT="$ONESTACK_IDENTITY_PORT" \
      ONESTACK_NODE_OBJECT_PORT="$ONESTACK_OBJECT_PORT" \
      ONESTACK_NODE_B_IDENTITY_PORT="$NODE_B_PORT" \
      ONESTACK_NODE_B_OBJECT_PORT="$NODE_B_OBJECT_PORT" \
      haproxy -db -f "$BENCH_ROOT/deploy/haproxy.cfg" > "$dir/haproxy.log" 2>&1 &
  pid=$!
  on_exit "stop_pid $pid haproxy"
  wait_port "$LB_PORT" "$pid" haproxy "$dir/haproxy.log" 30
  wait_port "$LB_OBJECT_PORT" "$pid" haproxy "$dir/haproxy.log" 30
  wait_http "http://127.0.0.1:$LB_PORT/v3" "$pid" haproxy "$dir/haproxy.log" 30
  CLUSTER_HAPROXY_PID="$pid"
}

# Account set-up: the GET objects (1,000 of 4 KiB, one of 4 MiB), the PUT
# container, and a check of each workload's request.
cluster_prepare() {
  local base="$1" token="$2" c code out got
  for c in bench-put bench-get; do
    code="$(_object_curl "$token" -X PUT "$base/$c")"
    [[ "$code" == 201 || "$code" == 202 ]] || die "PUT container $base/$c answered $code"
  done
  out="$(/usr/bin/python3 "$BENCH_DIR/object_fill.py" "$base" "$token" bench-get \
           "$OBJECT_GET_COUNT" "$CLUSTER_FILES/small" "$OBJECT_FILL_THREADS")" ||
    die "uploading to $base/bench-get failed"
  log "bench-get: $out"
  code="$(_object_curl "$token" -T "$CLUSTER_FILES/big" "$base/bench-get/big-4m")"
  [[ "$code" == 201 ]] || die "PUT of the 4 MiB object answered $code"
  code="$(_object_curl "$token" -T "$CLUSTER_FILES/small" "$base/bench-put/check")"
  [[ "$code" == 201 ]] || die "PUT $base/bench-put/check answered $code"
  got="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 60 \
           -H "X-Auth-Token: $token" "$base/bench-get/obj-$(printf %05d $(( OBJECT_GET_COUNT - 1 )))")"
  [[ "$got" == "200 4096" ]] || die "GET of a 4 KiB object at $base answered '$got'"
  got="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 60 \
           -H "X-Auth-Token: $token" "$base/bench-get/big-4m")"
  [[ "$got" == "200 $(( 4 * 1024 * 1024 ))" ]] || die "GET of the 4 MiB object at $base answered '$got'"
}

# Runs the workloads against TARGET: identity at URL, objects at OBJECT_URL.
cluster_measure() {
  local target="$1" url="$2" ourl="$3" run workload conns
  object_auth "$url" "$IDENTITY_USER" "$IDENTITY_PASSWORD" "$IDENTITY_PROJECT"
  local base="$ourl/v1/AUTH_$OBJECT_PROJECT_ID"
  cluster_prepare "$base" "$OBJECT_TOKEN"
  identity_prepare "$url"
  for run in $CLUSTER_RUNS; do
    workload="${run%%:*}"
    conns="${run##*:}"
    if [[ "$workload" == validate_token ]]; then
      measure "$target" identity "$workload" \
        "$BENCH_DIR/workloads/identity/$workload.lua" "$url" "$conns"
    else
      _object_measure "$target" "$base" "$OBJECT_TOKEN" "$run"
    fi
  done
}

cluster_files
export BENCH_OBJECT_GET_COUNT="$OBJECT_GET_COUNT"
url_a="http://127.0.0.1:$ONESTACK_IDENTITY_PORT"
ourl_a="http://127.0.0.1:$ONESTACK_OBJECT_PORT"

# 1. The embedded default: one node, SQLite, objects in a local directory.
mark="$(cleanup_mark)"
dir="$BENCH_WORK/embedded"
cluster_node_conf a "$dir" "$ONESTACK_IDENTITY_PORT" "$ONESTACK_OBJECT_PORT" "$url_a" "$ourl_a"
log "embedded: bootstrap and start"
cluster_bootstrap "$dir" "$url_a"
cluster_node_start a "$dir" "$ONESTACK_IDENTITY_PORT" "$ONESTACK_OBJECT_PORT"
BENCH_ROOTS[embedded:app]="$CLUSTER_PID"
BENCH_ROOTS[embedded:backing]=""
BENCH_LOGS[embedded]="$dir/log/onestack.log"
cluster_measure embedded "$url_a" "$ourl_a"
log "embedded: stopping"
cleanup_to "$mark"

# The GlusterFS test host serves both scale-out configurations; each gets a
# directory of its own on the volume and a fresh PostgreSQL cluster.
cluster_gluster_up "$BENCH_WORK/gluster"
# glusterd and the brick processes poll a little at rest.
BENCH_IDLE_CPU[pg]=0.15

# 2. PostgreSQL + GlusterFS, one node.
mark="$(cleanup_mark)"
cluster_pg_start "$BENCH_WORK/pg1"
dir="$BENCH_WORK/pg-gluster-1"
cluster_node_conf a "$dir" "$ONESTACK_IDENTITY_PORT" "$ONESTACK_OBJECT_PORT" "$url_a" "$ourl_a" \
  "$CLUSTER_CONNINFO" "$GLUSTER_VOLUME" "$GLUSTER_SERVER"
printf 'directory = /onestack-1\n' >> "$dir/onestack.conf"
log "pg-gluster-1: bootstrap and start"
cluster_bootstrap "$dir" "$url_a"
cluster_node_start a "$dir" "$ONESTACK_IDENTITY_PORT" "$ONESTACK_OBJECT_PORT"
BENCH_ROOTS[pg-gluster-1:app]="$CLUSTER_PID"
BENCH_ROOTS[pg-gluster-1:backing]="$CLUSTER_PG_PID $(gluster_pids)"
BENCH_LOGS[pg-gluster-1]="$dir/log/onestack.log"
cluster_measure pg-gluster-1 "$url_a" "$ourl_a"
log "pg-gluster-1: stopping"
cleanup_to "$mark"

# 3. PostgreSQL + GlusterFS, two nodes behind haproxy: the public URLs are
# the balancer's, as deploy/haproxy.cfg asks.
mark="$(cleanup_mark)"
cluster_pg_start "$BENCH_WORK/pg2"
lb_url="http://127.0.0.1:$LB_PORT"
lb_ourl="http://127.0.0.1:$LB_OBJECT_PORT"
dir_a="$BENCH_WORK/pg-gluster-2/a"
dir_b="$BENCH_WORK/pg-gluster-2/b"
cluster_node_conf a "$dir_a" "$ONESTACK_IDENTITY_PORT" "$ONESTACK_OBJECT_PORT" "$lb_url" "$lb_ourl" \
  "$CLUSTER_CONNINFO" "$GLUSTER_VOLUME" "$GLUSTER_SERVER"
cluster_node_conf b "$dir_b" "$NODE_B_PORT" "$NODE_B_OBJECT_PORT" "$lb_url" "$lb_ourl" \
  "$CLUSTER_CONNINFO" "$GLUSTER_VOLUME" "$GLUSTER_SERVER"
printf 'directory = /onestack-2\n' >> "$dir_a/onestack.conf"
printf 'directory = /onestack-2\n' >> "$dir_b/onestack.conf"
log "pg-gluster-2: bootstrap and start two nodes and haproxy"
cluster_bootstrap "$dir_a" "$lb_url"
cluster_node_start a "$dir_a" "$ONESTACK_IDENTITY_PORT" "$ONESTACK_OBJECT_PORT"
pid_a="$CLUSTER_PID"
cluster_node_start b "$dir_b" "$NODE_B_PORT" "$NODE_B_OBJECT_PORT"
pid_b="$CLUSTER_PID"
haproxy_start "$BENCH_WORK/pg-gluster-2/haproxy"
BENCH_ROOTS[pg-gluster-2:app]="$pid_a $pid_b $CLUSTER_HAPROXY_PID"
BENCH_ROOTS[pg-gluster-2:backing]="$CLUSTER_PG_PID $(gluster_pids)"
BENCH_LOGS[pg-gluster-2]="$dir_a/log/onestack.log"
cluster_measure pg-gluster-2 "$lb_url" "$lb_ourl"
log "pg-gluster-2: stopping"
cleanup_to "$mark"

# The section of the report.
pg_version="$("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/postgres" --version | awk '{ print $3 }')"
gluster_version="$(glusterd --version | awk 'NR == 1 { print $2 }')"
haproxy_version="$(haproxy -v | awk 'NR == 1 { print $3 }')"
cat > "$meta/section.json" <<EOF
{
  "command": $(printf '%s' "$BENCH_COMMAND" | /usr/bin/python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))'),
  "date": "$CLUSTER_DATE",
  "loadavg": "$CLUSTER_LOADAVG",
  "nproc": "$(nproc)",
  "cpu": "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)",
  "commit": "$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')",
  "duration": $BENCH_DURATION,
  "warmup": $BENCH_WARMUP,
  "threads": $BENCH_WRK_THREADS,
  "pg": "$pg_version",
  "gluster": "$gluster_version",
  "haproxy": "$haproxy_version",
  "get_count": $OBJECT_GET_COUNT
}
EOF
/usr/bin/python3 - "$BENCH_RESULTS" "$meta/section.json" "$output" <<'PY'
import json, sys

results, meta_file, output = sys.argv[1:4]
meta = json.load(open(meta_file))
rows = {}
order = []
for line in open(results):
    f = line.rstrip("\n").split("\t")
    (target, service, workload, conns, req, rps, p50, p99, errs, cpu_app, cpu_back,
     hwm_app, hwm_back, wrk_cpu, other, duration, valid) = f
    key = (workload, conns)
    if key not in order:
        order.append(key)
    rows[(target,) + key] = dict(rps=float(rps), p50=float(p50), p99=float(p99),
                                 errs=int(errs), req=int(req), cpu=float(cpu_app) + float(cpu_back),
                                 cpu_app=float(cpu_app), cpu_back=float(cpu_back),
                                 other=float(other), valid=valid == "yes",
                                 duration=float(duration))
targets = ["embedded", "pg-gluster-1", "pg-gluster-2"]
names = {"embedded": "embedded (SQLite + local dir), 1 node",
         "pg-gluster-1": "PostgreSQL + GlusterFS, 1 node",
         "pg-gluster-2": "PostgreSQL + GlusterFS, 2 nodes + haproxy"}
labels = {"put_4k": "PUT 4 KiB", "get_4k": "GET 4 KiB", "get_4m": "GET 4 MiB",
          "validate_token": "token validation"}
cores = int(meta["nproc"])

def cell(t, k, fn):
    r = rows.get((t,) + k)
    return fn(r) if r else "–"

def rps(r):
    s = f"{r['rps']:,.0f}"
    if not r["valid"]:
        s += " INVALID"
    elif r["other"] > 0.05 * cores * r["duration"]:
        s += " (disturbed)"
    return s

out = ["## Scale-out backends run", "",
       "Generated by `bench/cluster.sh` (also `bench/run.sh --services cluster`); "
       "re-running it replaces this section only.", "", "### Run", "",
       f"- Command: `{meta['command']}`",
       f"- Date: {meta['date']}",
       f"- Machine: {meta['nproc']} cores ({meta['cpu']}) shared with other work, "
       f"loopback only; load average at start {meta['loadavg']}. The figures were taken "
       "on a shared machine: other jobs may have run meanwhile (the \"other\" CPU column "
       "shows how much).",
       "- The GlusterFS bricks and glusterd run in a network namespace on the same machine "
       "(reached over a veth pair), so they compete with onestack, PostgreSQL, haproxy and "
       "wrk for the same cores: this measures the software path, not a scale-out gain.",
       f"- Load generator: wrk, {meta['threads']} threads (at most one per connection), "
       f"{meta['duration']} s per run after a {meta['warmup']} s warm-up, on the same cores.",
       "", "### Setup", "",
       f"- **embedded**: onestack ({meta['commit']}), one process, default settings: "
       "identity and object metadata in SQLite, object bytes in a local directory.",
       f"- **PostgreSQL + GlusterFS, 1 node**: the same binary with `[database] connection = "
       f"postgresql://...` (PostgreSQL {meta['pg']}, a fresh cluster on 127.0.0.1, fsync on, "
       "default settings) and `[object_store] backend = glusterfs` (GlusterFS "
       f"{meta['gluster']}, one volume of two bricks, replica 2, through libgfapi). Objects up "
       "to `[object] inline_max_bytes` (64 KiB) live in the database, so the 4 KiB rows "
       "exercise PostgreSQL; the 4 MiB object lives on the volume.",
       f"- **2 nodes + haproxy**: two such nodes on one fresh database and the same volume, "
       f"behind haproxy {meta['haproxy']} with `deploy/haproxy.cfg` as shipped (round robin, "
       "`option http-server-close`: one node connection per request; clients keep alive to "
       "haproxy). Both nodes and haproxy count as the service.",
       f"- Workloads: PUT 4 KiB (new name every request) and GET 4 KiB (cycling over "
       f"{meta['get_count']:,} objects) at 64 connections, GET of one 4 MiB object at 4, "
       "token validation (`GET /v3/auth/tokens`, an admin token checks a project-scoped one) "
       "at 64; the same wrk scripts as the object and identity runs.",
       "", "### Throughput (req/s)", "",
       "| workload | conns | " + " | ".join(names[t] for t in targets) + " |",
       "|---|--:|" + "--:|" * len(targets)]
for k in order:
    out.append(f"| {labels.get(k[0], k[0])} | {k[1]} | " +
               " | ".join(cell(t, k, rps) for t in targets) + " |")
out += ["", "### Ratio to the embedded default", "",
        "| workload | " + " | ".join(names[t] for t in targets[1:]) + " |",
        "|---|" + "--:|" * (len(targets) - 1)]
for k in order:
    base = rows.get(("embedded",) + k)
    cells = []
    for t in targets[1:]:
        r = rows.get((t,) + k)
        cells.append(f"{r['rps'] / base['rps']:.2f}×" if r and base and base["rps"] > 0 else "–")
    out.append(f"| {labels.get(k[0], k[0])} | " + " | ".join(cells) + " |")
out += ["", "### Details", "",
        "| configuration | workload | req/s | p50 ms | p99 ms | errors | CPU s service | "
        "CPU s db+volume | CPU ms/req (all) | CPU s other |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
for t in targets:
    for k in order:
        r = rows.get((t,) + k)
        if not r:
            continue
        per = 1000 * r["cpu"] / r["req"] if r["req"] else 0
        out.append(f"| {names[t]} | {labels.get(k[0], k[0])} c{k[1]} | {rps(r)} | "
                   f"{r['p50']:.2f} | {r['p99']:.2f} | {r['errs']} | {r['cpu_app']:.2f} | "
                   f"{r['cpu_back']:.2f} | {per:.3f} | {r['other']:.2f} |")
out += ["", "CPU s: utime+stime of the service's processes (onestack; with 2 nodes both "
        "nodes and haproxy) and of what serves it (the PostgreSQL cluster and every process "
        "of the GlusterFS namespace) during the measured run. \"other\": CPU time the machine "
        "spent on anything else meanwhile (a run where it exceeds 5% of the machine's "
        "core-seconds is marked disturbed). Errors are socket errors, timeouts and HTTP "
        "statuses >= 400; a run with any is marked INVALID. A ratio whose rows were "
        "disturbed by different amounts is skewed: compare CPU ms/req (all) first, which "
        "moves far less with other load than req/s does.", ""]
section = "\n".join(out)

try:
    text = open(output).read()
except FileNotFoundError:
    text = ""
lines = text.split("\n")
start = next((i for i, l in enumerate(lines) if l == "## Scale-out backends run"), None)
if start is None:
    new = text.rstrip("\n") + ("\n\n" if text.strip() else "") + section
else:
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    rest = "\n".join(lines[end:])
    new = "\n".join(lines[:start]) + "\n" + section + ("\n" + rest if rest.strip() else "")
open(output, "w").write(new.rstrip("\n") + "\n")
PY
log "section written to $output"
if awk -F'\t' '$NF != "yes" { bad = 1 } END { exit !bad }' "$BENCH_RESULTS"; then
  log "some runs had errors (marked INVALID in the report)"
  exit 1
fi
