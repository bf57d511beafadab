#!/usr/bin/env bash
# Starts or stops Debian's Keystone as a reference cloud for the conformance
# runner: same users, roles and region as onestack's test setup, so that the
# two can be scored with the same expectations.
#
# Usage:
#   reference-keystone.sh start --dir DIR [--port 15000] [--password PW]
#                               [--db sqlite|postgresql]
#   reference-keystone.sh stop --dir DIR
#
# start installs keystone and uwsgi from Debian if missing (with services
# blocked from starting), writes keystone.conf and keys under DIR, creates
# the database (SQLite file in DIR, or a private PostgreSQL cluster in
# DIR/pg on port PORT+432 listening on a socket in DIR), bootstraps the
# admin user/project (domain Default, region RegionOne, identity endpoint
# http://127.0.0.1:PORT/v3), adds the ResellerAdmin role and serves Keystone
# under uwsgi on 127.0.0.1:PORT. PIDs are kept in DIR; stop ends exactly
# those processes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/apt.sh
source "$here/lib/apt.sh"

action=${1:-}
[[ $action == start || $action == stop ]] || {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
shift
dir=""
port=15000
password="admin-secret"
db=sqlite
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir=${2:?}; shift 2 ;;
    --port) port=${2:?}; shift 2 ;;
    --password) password=${2:?}; shift 2 ;;
    --db) db=${2:?}; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n $dir ]] || { echo "--dir is required" >&2; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pg_port=$((port + 432))
pg_bin=""

find_pg_bin() {
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [[ -n $pg_bin ]] || { echo "postgresql binaries not found" >&2; exit 1; }
}

stop_pid_file() {
  local file=$1 pid
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

if [[ $action == stop ]]; then
  stop_pid_file "$dir/uwsgi.pid"
  if [[ -f $dir/pg/postmaster.pid ]]; then
    find_pg_bin
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/pg" -m fast stop > /dev/null || true
  fi
  echo "reference keystone stopped"
  exit 0
fi

packages=(keystone uwsgi-core uwsgi-plugin-python3)
[[ $db == postgresql ]] && packages+=(postgresql python3-psycopg2)
ensure_debian_packages "$dir/apt.log" "${packages[@]}"

if [[ $db == postgresql ]]; then
  find_pg_bin
  chmod 755 "$dir"
  if [[ ! -d $dir/pg ]]; then
    install -d -o postgres -g postgres "$dir/pg" "$dir/pgsock"
    runuser -u postgres -- "$pg_bin/initdb" -D "$dir/pg" -A trust -U postgres > "$dir/initdb.log"
  fi
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg/server.log" -w \
    -o "-p $pg_port -k $dir/pgsock -c listen_addresses=''" start > /dev/null
  runuser -u postgres -- "$pg_bin/psql" -h "$dir/pgsock" -p "$pg_port" -U postgres -qtA \
    -c "SELECT 1 FROM pg_database WHERE datname='keystone'" | grep -q 1 \
    || runuser -u postgres -- "$pg_bin/createdb" -h "$dir/pgsock" -p "$pg_port" -U postgres keystone
  connection="postgresql+psycopg2://postgres@/keystone?host=$dir/pgsock&port=$pg_port"
else
  connection="sqlite:///$dir/keystone.db"
fi

url="http://127.0.0.1:$port/v3"
mkdir -p "$dir/log" "$dir/fernet-keys" "$dir/credential-keys"
cat > "$dir/keystone.conf" <<EOF
[DEFAULT]
log_dir = $dir/log
log_file = keystone.log

[database]
connection = $connection

[token]
provider = fernet

[fernet_tokens]
key_repository = $dir/fernet-keys

[fernet_receipts]
key_repository = $dir/fernet-keys

[credential]
key_repository = $dir/credential-keys

[catalog]
driver = sql
EOF

manage() { keystone-manage --config-file "$dir/keystone.conf" "$@" >> "$dir/manage.log" 2>&1; }
manage db_sync
manage fernet_setup --keystone-user root --keystone-group root
manage credential_setup --keystone-user root --keystone-group root
manage bootstrap --bootstrap-password "$password" \
  --bootstrap-username admin --bootstrap-project-name admin \
  --bootstrap-role-name admin \
  --bootstrap-region-id RegionOne --bootstrap-public-url "$url"

stop_pid_file "$dir/uwsgi.pid"
OS_KEYSTONE_CONFIG_DIR="$dir" uwsgi --plugin python3 \
  --http-socket "127.0.0.1:$port" \
  --wsgi-file /usr/bin/keystone-wsgi-public \
  --master --processes 2 --threads 1 --lazy-apps \
  --buffer-size 65535 \
  --add-header "Connection: close" \
  --die-on-term --no-orphans \
  --logto "$dir/uwsgi.log" < /dev/null > /dev/null 2>&1 &
echo $! > "$dir/uwsgi.pid"

for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "$url" 2>/dev/null && break
  sleep 0.5
done
curl -fsS -o /dev/null "$url" || { tail -20 "$dir/uwsgi.log" >&2; exit 1; }

# bootstrap makes admin, member and reader; the object-store tests also
# need ResellerAdmin.
/usr/bin/python3 - "$url" "$password" <<'EOF'
import json, sys, urllib.request, urllib.error
url, password = sys.argv[1:]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json",
                 **({"X-Auth-Token": token} if token else {})})
    return urllib.request.urlopen(req, timeout=30)
auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": "admin", "password": password, "domain": {"id": "default"}}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
token = call("POST", "/auth/tokens", auth).headers["X-Subject-Token"]
roles = json.load(call("GET", "/roles?name=ResellerAdmin", token=token))["roles"]
if not roles:
    call("POST", "/roles", {"role": {"name": "ResellerAdmin"}}, token=token)
EOF
echo "reference keystone at $url (uwsgi pid $(cat "$dir/uwsgi.pid"))"
