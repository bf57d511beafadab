#!/usr/bin/env bash
# One command to a working cloud: installs what the build needs, builds
# Release, bootstraps the embedded default (SQLite + ./data) and starts
# onestack in the background on 127.0.0.1:5000. Prints how to use it.
#
#   scripts/start.sh            start (bootstrapping on first run)
#   scripts/start.sh stop       stop it
# Environment: ONESTACK_DATA_DIR (default ./data), ONESTACK_PORT (5000),
# ONESTACK_OBJECT_PORT (8080).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${ONESTACK_DATA_DIR:-$root/data}
port=${ONESTACK_PORT:-5000}
object_port=${ONESTACK_OBJECT_PORT:-8080}
pidfile=$data/onestack.pid

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  if running; then
    kill -TERM "$(cat "$pidfile")"
    for _ in $(seq 1 100); do running || break; sleep 0.1; done
    rm -f "$pidfile"
    echo "onestack stopped"
  else
    echo "onestack is not running"
  fi
  exit 0
fi

scripts/install-deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release
bin=$root/build/release/onestack

mkdir -p "$data"
chmod 700 "$data"
conf=$data/onestack.conf
if [ ! -f "$conf" ]; then
  cat > "$conf" <<CONF
[DEFAULT]
data_dir = $data

[identity]
bind_host = 127.0.0.1
bind_port = $port

[object]
bind_host = 127.0.0.1
bind_port = $object_port
CONF
fi
pwfile=$data/admin-password
if [ ! -f "$pwfile" ]; then
  (umask 077; openssl rand -hex 16 > "$pwfile")
fi
password=$(cat "$pwfile")

if running; then
  echo "onestack is already running (pid $(cat "$pidfile")); 'scripts/start.sh stop' stops it"
else
  "$bin" bootstrap --config-file "$conf" --bootstrap-password "$password" \
    --bootstrap-region-id RegionOne >/dev/null
  nohup "$bin" serve --config-file "$conf" >>"$data/onestack.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthcheck" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$port/healthcheck" >/dev/null || {
    tail -20 "$data/onestack.log" >&2
    echo "onestack did not start" >&2
    exit 1
  }
fi

cat <<MSG

onestack is running: identity (Keystone v3) at http://127.0.0.1:$port/v3,
object storage (Swift v1) at http://127.0.0.1:$object_port/v1/AUTH_<project id>
log: $data/onestack.log    stop: scripts/start.sh stop

Use it with the openstack CLI:
  export OS_AUTH_URL=http://127.0.0.1:$port/v3
  export OS_IDENTITY_API_VERSION=3
  export OS_USERNAME=admin
  export OS_PASSWORD=$password
  export OS_PROJECT_NAME=admin
  export OS_USER_DOMAIN_NAME=Default
  export OS_PROJECT_DOMAIN_NAME=Default
  export OS_REGION_NAME=RegionOne
  openstack token issue
  swift stat          # object storage, found through the catalog

or in ~/.config/openstack/clouds.yaml:
  clouds:
    onestack:
      auth:
        auth_url: http://127.0.0.1:$port/v3
        username: admin
        password: $password
        project_name: admin
        user_domain_name: Default
        project_domain_name: Default
      region_name: RegionOne
      identity_api_version: 3
MSG
