#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and CI:
#   scripts/pg.sh start DIR PORT   create a cluster in DIR, start it on
#                                  127.0.0.1:PORT, create database "onestack"
#                                  and print its conninfo on stdout
#   scripts/pg.sh stop DIR         stop the cluster in DIR (its pid file) and
#                                  remove DIR
#   scripts/pg.sh halt DIR         stop the server at once (immediate mode, as
#                                  a crash would), keeping its data: for tests
#                                  of a database that goes away
#   scripts/pg.sh resume DIR       start a halted server again
# The superuser is "postgres" with trust authentication from 127.0.0.1 (and
# the Unix socket, which lives in DIR); fsync stays on. Run as root, the
# server runs as the system user postgres (DIR and its parents must be
# reachable by it); run as another user, it runs as that user.
# Typical use:
#   export ONESTACK_TEST_PG=$(scripts/pg.sh start /tmp/pg 35433)
#   ...
#   scripts/pg.sh stop /tmp/pg
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | stop DIR | halt DIR | resume DIR" >&2
  exit 2
}

# The newest PostgreSQL under /usr/lib/postgresql (Debian's layout).
find_bindir() {
  local dir best=""
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] || continue
    if [ -z "$best" ] || [ "$(basename "$(dirname "$dir")")" -gt "$(basename "$(dirname "$best")")" ]; then
      best=$dir
    fi
  done
  if [ -z "$best" ]; then
    echo "pg.sh: no PostgreSQL under /usr/lib/postgresql (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
  echo "$best"
}

# Runs a command as the server's user.
as_server() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

marker=.onestack-pg

start() {
  local dir=$1 port=$2
  case $port in '' | *[!0-9]*) echo "pg.sh: PORT must be a number" >&2; exit 2 ;; esac
  local bin
  bin=$(find_bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -e "$dir/data" ]; then
    echo "pg.sh: $dir/data exists; stop that cluster first (pg.sh stop $dir)" >&2
    exit 1
  fi
  touch "$dir/$marker"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "pg.sh: the postgres user cannot reach $dir (check its parents' permissions)" >&2
      exit 1
    fi
  fi
  as_server "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    echo "pg.sh: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    exit 1
  }
  as_server tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
  as_server tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
max_connections = 200
EOF
  if ! as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 start >/dev/null; then
    echo "pg.sh: the server did not start:" >&2
    cat "$dir/data/server.log" >&2 || true
    exit 1
  fi
  as_server "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres onestack
  echo "postgresql://postgres@127.0.0.1:$port/onestack"
}

stop() {
  local dir=$1
  if [ ! -d "$dir" ]; then
    echo "pg.sh: no directory $dir" >&2
    exit 1
  fi
  if [ ! -e "$dir/$marker" ]; then
    echo "pg.sh: $dir was not made by pg.sh start; not touching it" >&2
    exit 1
  fi
  local bin
  bin=$(find_bindir)
  if [ -f "$dir/data/postmaster.pid" ]; then
    if ! as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null; then
      # pg_ctl could not stop it: signal the postmaster named in the pid file.
      local pid
      pid=$(head -n 1 "$dir/data/postmaster.pid")
      case $pid in
        '' | *[!0-9]*) ;;
        *)
          kill -QUIT "$pid" 2>/dev/null || true
          for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
          ;;
      esac
    fi
  fi
  rm -rf "$dir"
}

halt() {
  local dir=$1 bin
  [ -e "$dir/$marker" ] || { echo "pg.sh: $dir was not made by pg.sh start" >&2; exit 1; }
  bin=$(find_bindir)
  as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null
}

resume() {
  local dir=$1 bin
  [ -e "$dir/$marker" ] || { echo "pg.sh: $dir was not made by pg.sh start" >&2; exit 1; }
  bin=$(find_bindir)
  as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 start >/dev/null
}

case ${1:-} in
  start) [ $# = 3 ] || usage; start "$2" "$3" ;;
  halt) [ $# = 2 ] || usage; halt "$2" ;;
  resume) [ $# = 2 ] || usage; resume "$2" ;;
  stop) [ $# = 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
