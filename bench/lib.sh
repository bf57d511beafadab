# shellcheck shell=bash
# Common helpers for the benchmark harness: logging, cleanup, waiting for
# ports, process-tree accounting (CPU seconds, peak memory), running wrk and
# recording results. Sourced by bench/run.sh; not meant to be run directly.

# Where results of this run are collected (one TSV line per measured run).
BENCH_WORK=""          # temp dir of this run, removed on exit
BENCH_RESULTS=""       # $BENCH_WORK/results.tsv
BENCH_KEEP="${BENCH_KEEP:-0}"   # 1: keep the temp dir (logs) after the run

# Cleanup registry: commands run in reverse order of registration on exit.
declare -a _BENCH_CLEANUPS=()

# Process roots of each target, by group: "app" (the service itself) and
# "backing" (what serves it: database, cache). Keys: "<target>:<group>".
declare -A BENCH_ROOTS=()
# Log files of each target, shown when something fails.
declare -A BENCH_LOGS=()
# CPU (in cores) a target's processes use at rest, by target: measure()
# waits until they use no more than this before a run. Default 0.02.
declare -A BENCH_IDLE_CPU=()

log()  { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# Registers a shell command to run at exit (last registered runs first).
on_exit() { _BENCH_CLEANUPS+=("$1"); }

# Prints a mark for cleanup_to: the number of cleanups registered so far.
cleanup_mark() { echo "${#_BENCH_CLEANUPS[@]}"; }

# Runs (last first) and forgets the cleanups registered after MARK: stops
# one target's processes before the next target starts.
cleanup_to() {
  local mark="$1" i
  for (( i=${#_BENCH_CLEANUPS[@]}-1; i>=mark; i-- )); do
    eval "${_BENCH_CLEANUPS[i]}" || true
    unset '_BENCH_CLEANUPS[i]'
  done
}

_bench_run_cleanups() {
  local rc=$?
  trap - EXIT INT TERM
  local i
  for (( i=${#_BENCH_CLEANUPS[@]}-1; i>=0; i-- )); do
    eval "${_BENCH_CLEANUPS[i]}" || true
  done
  exit "$rc"
}

# Installs the exit/signal traps and creates the run's temp dir.
bench_init() {
  trap _bench_run_cleanups EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  BENCH_WORK="$(mktemp -d -t onestack-bench.XXXXXX)"
  chmod 755 "$BENCH_WORK"
  BENCH_RESULTS="$BENCH_WORK/results.tsv"
  : > "$BENCH_RESULTS"
  on_exit '_bench_remove_work'
}

_bench_remove_work() {
  if [[ "$BENCH_KEEP" == 1 ]]; then
    log "kept $BENCH_WORK"
  else
    # Object storage runs leave tens of thousands of files: this can take
    # a minute on a busy disk.
    log "removing $BENCH_WORK"
    rm -rf -- "$BENCH_WORK"
  fi
}

# Stops a process by PID: TERM, wait up to 10 s, then KILL.
stop_pid() {
  local pid="$1" name="${2:-process}" i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for (( i=0; i<100; i++ )); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  log "$name ($pid) did not stop on TERM; killing"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Fails unless nothing listens on 127.0.0.1:PORT.
require_port_free() {
  if port_open "$1"; then
    die "port 127.0.0.1:$1 is already in use (needed by $2)"
  fi
}

# Waits until 127.0.0.1:PORT accepts connections. Fails (showing LOG's tail)
# after TIMEOUT seconds or as soon as PID dies.
wait_port() {
  local port="$1" pid="$2" name="$3" logfile="$4" timeout="${5:-60}"
  local deadline=$(( SECONDS + timeout ))
  while (( SECONDS < deadline )); do
    if port_open "$port"; then return 0; fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail "$logfile"
      die "$name exited before listening on 127.0.0.1:$port"
    fi
    sleep 0.1
  done
  show_log_tail "$logfile"
  die "$name did not listen on 127.0.0.1:$port within ${timeout}s"
}

# Waits until URL answers 200. Fails (showing LOG's tail) after TIMEOUT
# seconds or as soon as PID dies.
#   wait_http URL PID NAME LOG [TIMEOUT]
wait_http() {
  local url="$1" pid="$2" name="$3" logfile="$4" timeout="${5:-60}" code=""
  local deadline=$(( SECONDS + timeout ))
  while (( SECONDS < deadline )); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)"
    [[ "$code" == 200 ]] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail "$logfile"
      die "$name exited before answering $url"
    fi
    sleep 0.2
  done
  show_log_tail "$logfile"
  die "$name: $url did not answer 200 within ${timeout}s (last: ${code:-none})"
}

show_log_tail() {
  local f
  for f in "$@"; do
    [[ -n "$f" && -f "$f" ]] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 40 "$f" >&2
    echo "-----" >&2
  done
}

# Installs the Debian packages given as arguments, only those missing.
# Debian's service packages try to start daemons on install; a policy-rc.d
# that denies it is put in place for the install when none exists.
apt_install() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
      missing+=("$p")
    fi
  done
  (( ${#missing[@]} )) || { log "packages present: $*"; return 0; }
  [[ $EUID -eq 0 ]] || die "installing ${missing[*]} needs root"
  local created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  log "installing: ${missing[*]}"
  local rc=0
  if ! apt-cache show "${missing[0]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null || true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y -q --no-install-recommends "${missing[@]}" \
    > "$BENCH_WORK/apt.log" 2>&1 || rc=$?
  [[ $created_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
  if (( rc != 0 )); then
    show_log_tail "$BENCH_WORK/apt.log"
    die "apt-get install failed"
  fi
}

# Prints all PIDs of the process trees rooted at the given PIDs.
proc_tree() {
  ps -e -o pid=,ppid= | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2; pids[++m] = $1 }
    END {
      changed = 1
      while (changed) {
        changed = 0
        for (i = 1; i <= m; i++) {
          p = pids[i]
          if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
        }
      }
      for (p in keep) print p
    }'
}

# CPU time (seconds, 2 decimals) of the trees rooted at the given PIDs:
# utime+stime of every live process plus cutime+cstime (children already
# reaped), so a difference of two readings covers processes that came and
# went in between.
tree_cpu_seconds() {
  local pids
  pids="$(proc_tree "$@")"
  [[ -n "$pids" ]] || { echo 0; return; }
  local hz
  hz="$(getconf CLK_TCK)"
  local pid
  for pid in $pids; do
    cat "/proc/$pid/stat" 2>/dev/null || true
  done | awk -v hz="$hz" '{
      sub(/^.*\) /, "")            # drop "pid (comm) ", comm may hold spaces
      # now $1 is state (field 3); utime..cstime are fields 14..17 → $12..$15
      t += $12 + $13 + $14 + $15
    } END { printf "%.2f\n", t / hz }'
}

# Peak resident memory (MiB) summed over the trees: VmHWM of each process.
tree_hwm_mib() {
  local pids pid
  pids="$(proc_tree "$@")"
  for pid in $pids; do
    awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true
  done | awk '{ s += $1 } END { printf "%.1f\n", s / 1024 }'
}

# Waits (up to 30 s) until the trees use less than CORES of a core (0.02:
# 2%): requests a finished wrk run left in flight are done before the next
# measurement.
#   wait_idle CORES PID...
wait_idle() {
  local cores="$1" i c0 c1
  shift
  c0="$(tree_cpu_seconds "$@")"
  for (( i=0; i<60; i++ )); do
    sleep 0.5
    c1="$(tree_cpu_seconds "$@")"
    if awk -v a="$c0" -v b="$c1" -v c="$cores" 'BEGIN { exit !(b - a < c / 2) }'; then
      return 0
    fi
    c0="$c1"
  done
  log "service still busy after 30 s; measuring anyway"
}

# With BENCH_QUIET_WAIT=N > 0, waits up to N seconds for the machine to be
# quiet (under 10% of one core busy over a second) before a measurement;
# goes on regardless after that.
wait_quiet() {
  (( ${BENCH_QUIET_WAIT:-0} > 0 )) || return 0
  local deadline=$(( SECONDS + BENCH_QUIET_WAIT )) b0 b1
  while (( SECONDS < deadline )); do
    b0="$(machine_busy_seconds)"; sleep 1; b1="$(machine_busy_seconds)"
    awk -v a="$b0" -v b="$b1" 'BEGIN { exit !(b - a < 0.1) }' && return 0
  done
  log "machine still busy after ${BENCH_QUIET_WAIT}s; measuring anyway"
}

# With the kernel's autogroup scheduling on, a process's nice value only
# weighs against processes of its own session: sessions share the CPU
# equally whatever their members' nice. Gives the sessions (autogroups) of
# the given PIDs the priority BENCH_NICE too; this script's own session
# gets its priority back on exit.
declare -A _BENCH_AUTOGROUPS=()
autogroup_nice() {
  [[ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" == 1 ]] || return 0
  local own pid group
  own="$(awk '{ print $1 }' /proc/$$/autogroup 2>/dev/null)"
  for pid in "$@"; do
    group="$(awk '{ print $1 }' "/proc/$pid/autogroup" 2>/dev/null)" || continue
    [[ -n "$group" && -z "${_BENCH_AUTOGROUPS[$group]:-}" ]] || continue
    _BENCH_AUTOGROUPS[$group]=1
    if [[ "$group" == "$own" ]]; then
      on_exit "_autogroup_restore '$group' $(awk '{ print $3 }' /proc/$$/autogroup)"
    fi
    echo "$BENCH_NICE" > "/proc/$pid/autogroup" 2>/dev/null || true
  done
}

_autogroup_restore() {
  echo "$2" > /proc/$$/autogroup 2>/dev/null || true
  unset "_BENCH_AUTOGROUPS[$1]"
}

# Runs wrk once. Prints the "BENCH ..." line of the workload script's done().
#   run_wrk SCRIPT URL CONNECTIONS SECONDS
run_wrk() {
  local script="$1" url="$2" conns="$3" secs="$4"
  local threads=$(( conns < BENCH_WRK_THREADS ? conns : BENCH_WRK_THREADS ))
  local out
  # The subshell runs wrk as its only child, so its children's CPU time
  # (second line of bash's `times`, run in the subshell itself) is wrk's.
  local nice=(nice -n "${BENCH_NICE:-0}")
  out="$(BENCH_LUA_DIR="$BENCH_DIR/workloads" "${nice[@]}" wrk -t "$threads" -c "$conns" \
           -d "${secs}s" --timeout "${BENCH_WRK_TIMEOUT}s" --latency \
           -s "$script" "$url" 2>&1; rc=$?
         echo WRKCPU; times; exit $rc)" || {
    echo "$out" >&2
    die "wrk failed on $script"
  }
  echo "$out" >> "$BENCH_WORK/wrk.log"
  local line wrk_cpu
  line="$(grep '^BENCH ' <<<"$out" | tail -n 1)"
  [[ -n "$line" ]] || { echo "$out" >&2; die "no BENCH line from $script"; }
  wrk_cpu="$(awk '/^WRKCPU$/ { n = NR } n && NR == n + 2 {
      t = 0
      for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
      printf "%.2f", t }' <<<"$out")"
  echo "$line wrk_cpu_s=${wrk_cpu:-0}"
}

# CPU seconds the whole machine has spent so far running processes (user,
# nice, system; interrupt time is left out as it is not charged to any).
machine_busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / {
      printf "%.2f\n", ($2 + $3 + $4) / hz; exit }' /proc/stat
}

# Reads key=value from a BENCH line.
bench_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# With BENCH_NICE set, favours TARGET's processes (BENCH_ROOTS) and this
# script over other load on a shared machine; processes they fork later
# inherit the priority.
favour() {
  [[ -n "${BENCH_NICE:-}" ]] || return 0
  local pids
  pids="$(proc_tree ${BENCH_ROOTS[$1:app]:-} ${BENCH_ROOTS[$1:backing]:-})"
  [[ -n "$pids" ]] || return 0
  # shellcheck disable=SC2086
  renice -n "$BENCH_NICE" -p $pids >/dev/null
  # shellcheck disable=SC2086
  autogroup_nice $$ $pids
}

# Measures one workload against one target and appends a result row.
#   measure TARGET SERVICE WORKLOAD SCRIPT URL CONNECTIONS
# The target's process roots come from BENCH_ROOTS[TARGET:app|backing].
measure() {
  local target="$1" service="$2" workload="$3" script="$4" url="$5" conns="$6"
  local app="${BENCH_ROOTS[$target:app]:-}" backing="${BENCH_ROOTS[$target:backing]:-}"
  [[ -n "$app" ]] || die "no process roots recorded for $target"

  favour "$target"
  if (( BENCH_WARMUP > 0 )); then
    run_wrk "$script" "$url" "$conns" "$BENCH_WARMUP" >/dev/null
  fi
  local idle="${BENCH_IDLE_CPU[$target]:-${BENCH_IDLE_CPU[${target%%-*}]:-0.02}}"
  wait_idle "$idle" $app $backing
  wait_quiet
  local cpu_app0 cpu_back0=0 cpu_app1 cpu_back1=0 busy0 busy1
  cpu_app0="$(tree_cpu_seconds $app)"
  [[ -n "$backing" ]] && cpu_back0="$(tree_cpu_seconds $backing)"
  busy0="$(machine_busy_seconds)"
  local line
  line="$(run_wrk "$script" "$url" "$conns" "$BENCH_DURATION")"
  busy1="$(machine_busy_seconds)"
  cpu_app1="$(tree_cpu_seconds $app)"
  [[ -n "$backing" ]] && cpu_back1="$(tree_cpu_seconds $backing)"

  local hwm_app hwm_back=0
  hwm_app="$(tree_hwm_mib $app)"
  [[ -n "$backing" ]] && hwm_back="$(tree_hwm_mib $backing)"

  local rps p50 p99 req errs
  rps="$(bench_field "$line" rps)"
  p50="$(bench_field "$line" p50_ms)"
  p99="$(bench_field "$line" p99_ms)"
  req="$(bench_field "$line" requests)"
  errs="$(bench_field "$line" errors)"
  local cpu_app cpu_back
  cpu_app="$(awk -v a="$cpu_app0" -v b="$cpu_app1" 'BEGIN { printf "%.2f", b - a }')"
  cpu_back="$(awk -v a="$cpu_back0" -v b="$cpu_back1" 'BEGIN { printf "%.2f", b - a }')"
  local wrk_cpu other_cpu
  wrk_cpu="$(bench_field "$line" wrk_cpu_s)"
  # CPU the machine spent on anything but the service and wrk: high values
  # mean something else was running and the figures are disturbed.
  other_cpu="$(awk -v b0="$busy0" -v b1="$busy1" -v a="$cpu_app" -v k="$cpu_back" \
      -v w="$wrk_cpu" 'BEGIN { o = b1 - b0 - a - k - w; if (o < 0) o = 0; printf "%.2f", o }')"
  local valid=yes
  [[ "$errs" == 0 && "$req" -gt 0 ]] || valid=no
  log "$target $workload c=$conns: $rps req/s p50=${p50}ms p99=${p99}ms errors=$errs cpu=${cpu_app}s+${cpu_back}s wrk=${wrk_cpu}s other=${other_cpu}s mem=${hwm_app}+${hwm_back}MiB"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$target" "$service" "$workload" "$conns" "$req" "$rps" "$p50" "$p99" \
    "$errs" "$cpu_app" "$cpu_back" "$hwm_app" "$hwm_back" "$wrk_cpu" \
    "$other_cpu" "$BENCH_DURATION" "$valid" >> "$BENCH_RESULTS"
}
