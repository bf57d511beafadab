#!/usr/bin/env bash
# A throwaway GlusterFS host and volume for tests: glusterd and two bricks
# (replica 2) in their own network namespace, reached over a veth pair on a
# private /24, with every file (config, state, sockets, pid files, bricks)
# under one directory. Needs root and glusterfs-server.
#
#   scripts/gluster.sh up DIR            start; writes DIR/env (NS=, SERVER=,
#                                        VOLUME=) and prints VOLUME@SERVER
#   scripts/gluster.sh down DIR          stop what `up` started (by pid),
#                                        delete the namespace, veth and DIR
#   scripts/gluster.sh kill-brick DIR N  SIGKILL brick N (1 or 2), for fault tests
#   scripts/gluster.sh start-brick DIR   restart dead bricks (volume start force)
#                                        and wait until both are online
#
# The blob tests take the printed VOLUME@SERVER from ONESTACK_TEST_GLUSTER:
#   export ONESTACK_TEST_GLUSTER=$(scripts/gluster.sh up /tmp/gv)
set -euo pipefail

volume=onestack

die() { echo "gluster.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# The gluster CLI, talking to our glusterd through its private socket.
gcli() {
  ip netns exec "$NS" gluster --glusterd-sock="$dir/run/glusterd.socket" --mode=script "$@"
}

load_env() {
  [ -f "$dir/env" ] || die "$dir/env not found: is a volume up there?"
  # shellcheck disable=SC1091
  . "$dir/env"
}

# How many of the volume's bricks glusterd reports online.
bricks_online() {
  gcli volume status "$volume" --xml 2>/dev/null | tr -d '\n' | sed 's/<node>/\n<node>/g' |
    grep -F "<path>$dir/brick" | grep -c '<status>1</status>' || true
}

wait_bricks_online() {
  local n
  for _ in $(seq 1 300); do
    n=$(bricks_online)
    [ "$n" = 2 ] && return 0
    sleep 0.1
  done
  die "bricks not online after 30 s (glusterd log: $dir/glusterd.log, brick logs: /var/log/glusterfs/bricks)"
}

# Every pid file glusterd and its daemons wrote under run/ (glusterd's own,
# the bricks' under run/vols, the self-heal daemon's under run/shd).
pid_files() {
  [ -f "$dir/glusterd.pid" ] && echo "$dir/glusterd.pid"
  [ -d "$dir/run" ] && find "$dir/run" -name '*.pid' -type f
  true
}

# Sends `sig` to the process in pid file `f` if it is alive and in our
# namespace (a stale pid file must never hit a stranger).
signal_pid_file() {
  local sig=$1 f=$2 pid
  pid=$(cat "$f" 2>/dev/null) || return 0
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  in_our_ns "$pid" || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
}

in_our_ns() {
  [ -n "${NS:-}" ] || return 1
  ip netns pids "$NS" 2>/dev/null | grep -qx "$1"
}

cmd_up() {
  command -v glusterd >/dev/null || die "glusterd not installed (apt-get install glusterfs-server)"
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces, glusterd)"
  [ -e "$dir/env" ] && die "$dir already holds a volume; run: $0 down $dir"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)

  # A /24 no route uses yet: 10.231.X.0 with X from our pid.
  local x=$(( $$ % 200 + 20 )) tries=0
  while ip -4 route show | grep -q "^10\.231\.$x\."; do
    x=$(( (x - 20 + 1) % 200 + 20 )); tries=$((tries + 1))
    [ $tries -lt 200 ] || die "no free 10.231.X.0/24"
  done
  local tag
  tag=$(printf '%04x' $(( ($$ ^ RANDOM) & 0xffff )))
  NS=ostg$tag
  local veth_host=${NS}h veth_ns=${NS}n
  SERVER=10.231.$x.2

  # Record what we are about to make first, so `down` can clean up a
  # half-finished `up`.
  printf 'NS=%s\nSERVER=%s\nVOLUME=%s\nVETH=%s\n' "$NS" "$SERVER" "$volume" "$veth_host" >"$dir/env"

  ip netns add "$NS"
  ip link add "$veth_host" type veth peer name "$veth_ns"
  ip link set "$veth_ns" netns "$NS"
  ip addr add "10.231.$x.1/24" dev "$veth_host"
  ip link set "$veth_host" up
  ip netns exec "$NS" ip addr add "$SERVER/24" dev "$veth_ns"
  ip netns exec "$NS" ip link set "$veth_ns" up
  ip netns exec "$NS" ip link set lo up

  mkdir -p "$dir/wd" "$dir/run" "$dir/brick1" "$dir/brick2"
  sed -e "s|option working-directory .*|option working-directory $dir/wd|" \
      -e "/option working-directory/a\\    option glusterd-sockfile $dir/run/glusterd.socket\\n    option run-directory $dir/run" \
      /etc/glusterfs/glusterd.vol >"$dir/glusterd.vol"
  grep -q "run-directory $dir/run" "$dir/glusterd.vol" || die "could not write $dir/glusterd.vol"

  ip netns exec "$NS" glusterd -f "$dir/glusterd.vol" -l "$dir/glusterd.log" -p "$dir/glusterd.pid"
  local ok=0
  for _ in $(seq 1 300); do
    if [ -S "$dir/run/glusterd.socket" ] && gcli volume list >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
  done
  [ $ok = 1 ] || die "glusterd did not answer in 30 s (log: $dir/glusterd.log)"

  gcli volume create "$volume" replica 2 "$SERVER:$dir/brick1" "$SERVER:$dir/brick2" force >/dev/null
  gcli volume start "$volume" >/dev/null
  wait_bricks_online
  echo "$volume@$SERVER"
}

# The -S control sockets of the processes in our namespace.
daemon_sockets() {
  local pid
  for pid in $(ip netns pids "$NS"); do
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -A1 -x -- -S | grep -E '^/(var/)?run/gluster/[0-9a-f]+\.socket$' || true
  done
}

cmd_down() {
  [ -d "$dir" ] || die "$dir does not exist"
  dir=$(cd "$dir" && pwd)
  # `up` writes env before it makes anything: without it, DIR is not ours.
  [ -f "$dir/env" ] || die "$dir was not made by $0 up; not touching it"
  # shellcheck disable=SC1091
  . "$dir/env"
  if [ -n "${NS:-}" ] && ip netns list | grep -qw "$NS"; then
    # The daemons' control sockets live outside DIR (glusterd puts them in
    # /var/run/gluster whatever its run-directory): note them to remove.
    local sockets
    sockets=$(daemon_sockets)
    # glusterd first, so it restarts nothing, then its daemons.
    [ -f "$dir/glusterd.pid" ] && signal_pid_file TERM "$dir/glusterd.pid"
    local f
    while read -r f; do signal_pid_file TERM "$f"; done < <(pid_files)
    for _ in $(seq 1 100); do
      [ -z "$(ip netns pids "$NS")" ] && break
      sleep 0.1
    done
    # Whatever is still in the namespace was started there by us.
    local pid
    for pid in $(ip netns pids "$NS"); do kill -KILL "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
      [ -z "$(ip netns pids "$NS")" ] && break
      sleep 0.1
    done
    [ -z "$(ip netns pids "$NS")" ] || die "processes left in namespace $NS: $(ip netns pids "$NS" | tr '\n' ' ')"
    ip netns del "$NS"
    local s
    for s in $sockets; do rm -f "$s"; done
  fi
  # Deleting the namespace deletes the pair; this covers a half-made one.
  if [ -n "${VETH:-}" ] && ip link show "$VETH" >/dev/null 2>&1; then ip link del "$VETH"; fi
  rm -rf "$dir"
}

brick_pid_file() {
  find "$dir/run/vols/$volume" -name "*-brick$1.pid" -type f 2>/dev/null | head -n 1
}

cmd_kill_brick() {
  local n=$1
  [[ "$n" =~ ^[12]$ ]] || die "brick number must be 1 or 2"
  load_env
  local f
  f=$(brick_pid_file "$n")
  [ -n "$f" ] || die "no pid file for brick $n"
  local pid
  pid=$(cat "$f")
  in_our_ns "$pid" || die "brick $n (pid $pid) is not running"
  kill -KILL "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  die "brick $n (pid $pid) did not die"
}

cmd_start_brick() {
  load_env
  gcli volume start "$volume" force >/dev/null
  wait_bricks_online
}

[ $# -ge 2 ] || usage
action=$1
dir=$2
case $action in
  up) cmd_up ;;
  down) cmd_down ;;
  kill-brick) [ $# -eq 3 ] || usage; dir=$(cd "$dir" && pwd); cmd_kill_brick "$3" ;;
  start-brick) dir=$(cd "$dir" && pwd); cmd_start_brick ;;
  *) usage ;;
esac
