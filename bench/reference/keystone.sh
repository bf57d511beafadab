# shellcheck shell=bash
# Reference identity service: Debian's Keystone under uWSGI, with its own
# PostgreSQL cluster and memcached, all on loopback. Sourced by bench/run.sh.
#
# Ports (override with env): keystone 25000, PostgreSQL 25432, memcached 21211.

KEYSTONE_PORT="${BENCH_KEYSTONE_PORT:-25000}"
KEYSTONE_PG_PORT="${BENCH_KEYSTONE_PG_PORT:-25432}"
KEYSTONE_MEMCACHED_PORT="${BENCH_KEYSTONE_MEMCACHED_PORT:-21211}"
# uWSGI workers: one process per worker, one thread each (Keystone's Python
# code holds the GIL, so threads add little under CPU-bound load).
KEYSTONE_PROCESSES="${BENCH_KEYSTONE_PROCESSES:-4}"
KEYSTONE_THREADS="${BENCH_KEYSTONE_THREADS:-1}"

# Debian packages the reference needs.
keystone_packages() {
  echo keystone uwsgi uwsgi-plugin-python3 memcached python3-memcache \
       postgresql python3-psycopg2
}

# Describes the reference setup (one Markdown paragraph, for the report).
keystone_describe() {
  local ver
  ver="$(dpkg-query -W -f='${Version}' keystone 2>/dev/null || echo '?')"
  cat <<EOF
Keystone $ver (Debian package) under uWSGI $(uwsgi --version 2>/dev/null || echo '?'):
\`--http-socket\` on 127.0.0.1:$KEYSTONE_PORT, $KEYSTONE_PROCESSES processes × $KEYSTONE_THREADS thread, master,
request logging off, \`Connection: close\` added (uWSGI's http-socket does not
keep connections alive). Fernet tokens, bcrypt cost 12, PostgreSQL
$(keystone_pg_bin_dir | sed 's|.*/postgresql/\([0-9]*\)/.*|\1|') (own cluster on 127.0.0.1:$KEYSTONE_PG_PORT, default settings) via psycopg2,
dogpile.cache.memcached cache on memcached $(memcached -V 2>/dev/null | awk '{print $2}') (127.0.0.1:$KEYSTONE_MEMCACHED_PORT, 64 MiB).
EOF
}

keystone_pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Starts PostgreSQL, memcached and Keystone for TARGET under DIR; sets
# KEYSTONE_URL and BENCH_ROOTS[TARGET:app|backing]; registers their stop.
#   keystone_start TARGET DIR USER PASSWORD PROJECT
keystone_start() {
  local target="$1" dir="$2" user="$3" password="$4" project="$5"
  local pgbin
  pgbin="$(keystone_pg_bin_dir)"
  [[ -x "$pgbin/initdb" ]] || die "PostgreSQL server binaries not found"
  command -v uwsgi >/dev/null || die "uwsgi not installed"
  command -v keystone-manage >/dev/null || die "keystone not installed"
  require_port_free "$KEYSTONE_PORT" keystone
  require_port_free "$KEYSTONE_PG_PORT" postgresql
  require_port_free "$KEYSTONE_MEMCACHED_PORT" memcached

  mkdir -p "$dir/pg" "$dir/log"
  chown postgres:postgres "$dir/pg"
  chmod 700 "$dir/pg"

  # PostgreSQL: a private cluster, trust auth on loopback only.
  log "reference: starting PostgreSQL on 127.0.0.1:$KEYSTONE_PG_PORT"
  runuser -u postgres -- "$pgbin/initdb" -D "$dir/pg/data" -U postgres \
      -A trust -E UTF8 --locale=C.UTF-8 > "$dir/log/initdb.log" 2>&1 ||
    { show_log_tail "$dir/log/initdb.log"; die "initdb failed"; }
  on_exit "keystone_stop_postgres '$pgbin' '$dir'"
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/pg/data" -w -t 60 \
      -l "$dir/pg/postgres.log" \
      -o "-p $KEYSTONE_PG_PORT -c listen_addresses=127.0.0.1 -k $dir/pg" \
      start > "$dir/log/pg_ctl.log" 2>&1 ||
    { show_log_tail "$dir/log/pg_ctl.log" "$dir/pg/postgres.log"; die "PostgreSQL did not start"; }
  local pg_pid
  pg_pid="$(head -n 1 "$dir/pg/data/postmaster.pid")"
  wait_port "$KEYSTONE_PG_PORT" "$pg_pid" postgresql "$dir/pg/postgres.log" 30
  runuser -u postgres -- "$pgbin/psql" -q -h 127.0.0.1 -p "$KEYSTONE_PG_PORT" \
      -U postgres -c "CREATE DATABASE keystone" > "$dir/log/psql.log" 2>&1 ||
    { show_log_tail "$dir/log/psql.log"; die "could not create the keystone database"; }

  # memcached
  log "reference: starting memcached on 127.0.0.1:$KEYSTONE_MEMCACHED_PORT"
  memcached -l 127.0.0.1 -p "$KEYSTONE_MEMCACHED_PORT" -U 0 -m 64 -u memcache \
      > "$dir/log/memcached.log" 2>&1 &
  local mc_pid=$!
  on_exit "stop_pid $mc_pid memcached"
  wait_port "$KEYSTONE_MEMCACHED_PORT" "$mc_pid" memcached "$dir/log/memcached.log" 30

  # Keystone configuration, keys, schema and bootstrap data.
  local conf="$dir/keystone.conf"
  cat > "$conf" <<EOF
[DEFAULT]
debug = false
log_file = $dir/log/keystone.log
use_stderr = false

[database]
connection = postgresql+psycopg2://postgres@127.0.0.1:$KEYSTONE_PG_PORT/keystone

[token]
provider = fernet

[fernet_tokens]
key_repository = $dir/fernet-keys

[fernet_receipts]
key_repository = $dir/fernet-receipts

[credential]
key_repository = $dir/credential-keys

[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = 12
# bcrypt reads at most 72 bytes; a larger limit makes Keystone log a
# warning on every password check.
max_password_length = 72

[cache]
enabled = true
backend = dogpile.cache.memcached
memcache_servers = 127.0.0.1:$KEYSTONE_MEMCACHED_PORT
EOF
  local km=(keystone-manage --config-file "$conf")
  log "reference: keystone-manage fernet_setup, credential_setup, db_sync, bootstrap"
  {
    "${km[@]}" fernet_setup --keystone-user root --keystone-group root &&
    "${km[@]}" credential_setup --keystone-user root --keystone-group root &&
    "${km[@]}" db_sync &&
    "${km[@]}" bootstrap \
        --bootstrap-username "$user" --bootstrap-password "$password" \
        --bootstrap-project-name "$project" \
        --bootstrap-region-id RegionOne \
        --bootstrap-public-url "http://127.0.0.1:$KEYSTONE_PORT"
  } > "$dir/log/keystone-manage.out" 2>&1 ||
    { show_log_tail "$dir/log/keystone-manage.out" "$dir/log/keystone.log"; die "keystone-manage failed"; }

  # uWSGI serving keystone-wsgi-public (which reads OS_KEYSTONE_CONFIG_FILES).
  log "reference: starting keystone (uwsgi) on 127.0.0.1:$KEYSTONE_PORT"
  OS_KEYSTONE_CONFIG_FILES="$conf" uwsgi \
      --http-socket "127.0.0.1:$KEYSTONE_PORT" \
      --plugin python3 \
      --wsgi-file /usr/bin/keystone-wsgi-public \
      --master --processes "$KEYSTONE_PROCESSES" --threads "$KEYSTONE_THREADS" \
      --enable-threads --thunder-lock --lazy-apps \
      --die-on-term --no-orphans \
      --buffer-size 65535 --listen 128 \
      --add-header 'Connection: close' \
      --disable-logging \
      --chdir "$dir" \
      > "$dir/log/uwsgi-server.log" 2>&1 &
  local uwsgi_pid=$!
  on_exit "stop_pid $uwsgi_pid uwsgi"
  wait_port "$KEYSTONE_PORT" "$uwsgi_pid" keystone "$dir/log/uwsgi-server.log" 60
  KEYSTONE_URL="http://127.0.0.1:$KEYSTONE_PORT"
  wait_http "$KEYSTONE_URL/v3" "$uwsgi_pid" keystone "$dir/log/uwsgi-server.log" 120

  BENCH_ROOTS[$target:app]="$uwsgi_pid"
  BENCH_ROOTS[$target:backing]="$pg_pid $mc_pid"
  BENCH_LOGS[$target]="$dir/log/uwsgi-server.log $dir/log/keystone.log $dir/pg/postgres.log"
}

keystone_stop_postgres() {
  local pgbin="$1" dir="$2" pid
  [[ -f "$dir/pg/data/postmaster.pid" ]] || return 0
  pid="$(head -n 1 "$dir/pg/data/postmaster.pid")"
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/pg/data" -m fast -w -t 30 \
      stop > /dev/null 2>&1 || stop_pid "$pid" postgresql
}
