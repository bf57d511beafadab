# shellcheck shell=bash
# Object storage (Swift v1 API) workloads: small PUT and GET, a large GET,
# a container listing; nginx serving the same files as the ceiling of a
# file server on this machine; the durable small-file create bound of the
# disk. Sourced by bench/run.sh.
#
# BENCH_OBJECT_RUNS lists "workload:connections" pairs to measure.

BENCH_OBJECT_RUNS="${BENCH_OBJECT_RUNS:-put_4k:64 get_4k:64 get_64m:1 get_64m:4 list_10k:4}"
OBJECT_GET_COUNT="${BENCH_OBJECT_GET_COUNT:-1000}"   # 4 KiB objects GET reads
OBJECT_LIST_COUNT=10000                               # objects in the listed container
OBJECT_FILL_THREADS="${BENCH_OBJECT_FILL_THREADS:-16}"
OBJECT_FSYNC_THREADS=64
NGINX_PORT="${BENCH_NGINX_PORT:-26090}"

# One-line description of each workload, for the report.
object_workload_doc() {
  case "$1" in
    put_4k) echo 'PUT of a 4 KiB object, a new name every request, into one container' ;;
    get_4k) echo "GET of a 4 KiB object, cycling over $OBJECT_GET_COUNT of them" ;;
    get_64m) echo 'GET of one 64 MiB object (throughput in MB/s = 10^6 bytes/s)' ;;
    list_10k) echo "GET of a container of $OBJECT_LIST_COUNT objects as JSON (format=json, default limit 10000: the whole listing)" ;;
  esac
}

# Makes the object bodies once: a 4 KiB and a 64 MiB file of random bytes.
object_files() {
  OBJECT_FILES="$BENCH_WORK/object-files"
  [[ -f "$OBJECT_FILES/big" ]] && return 0
  mkdir -p "$OBJECT_FILES"
  head -c 4096 /dev/urandom > "$OBJECT_FILES/small"
  head -c $(( 64 * 1024 * 1024 )) /dev/urandom > "$OBJECT_FILES/big"
  chmod 644 "$OBJECT_FILES/small" "$OBJECT_FILES/big"
}

# Gets a project-scoped token (password method) from the identity service
# at URL; sets OBJECT_TOKEN and OBJECT_PROJECT_ID.
#   object_auth URL USER PASSWORD PROJECT
object_auth() {
  local url="$1" user="$2" password="$3" project="$4" headers body code
  headers="$(mktemp -p "$BENCH_WORK")"
  body="$(mktemp -p "$BENCH_WORK")"
  code="$(curl -s -o "$body" -D "$headers" -w '%{http_code}' --max-time 30 \
            -H 'Content-Type: application/json' \
            -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$user\",\"domain\":{\"id\":\"default\"},\"password\":\"$password\"}}},\"scope\":{\"project\":{\"name\":\"$project\",\"domain\":{\"id\":\"default\"}}}}}" \
            "$url/v3/auth/tokens")"
  [[ "$code" == 201 ]] || die "token request to $url answered $code, not 201"
  OBJECT_TOKEN="$(tr -d '\r' < "$headers" | awk -F': ' 'tolower($1) == "x-subject-token" { print $2 }')"
  OBJECT_PROJECT_ID="$(/usr/bin/python3 -c \
      'import json, sys; print(json.load(open(sys.argv[1]))["token"]["project"]["id"])' "$body")"
  rm -f "$headers" "$body"
  [[ -n "$OBJECT_TOKEN" && -n "$OBJECT_PROJECT_ID" ]] || die "no token or project id from $url"
}

# curl with the token; prints the HTTP status.
#   _object_curl TOKEN CURL_ARGS...
_object_curl() {
  local token="$1"; shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 120 -H "X-Auth-Token: $token" "$@"
}

# Creates the containers and objects the workloads use and checks that each
# workload's request answers 2xx.
#   object_prepare URL_BASE TOKEN
object_prepare() {
  local base="$1" token="$2" c code out
  object_files
  for c in bench-put bench-get bench-list; do
    code="$(_object_curl "$token" -X PUT "$base/$c")"
    [[ "$code" == 201 || "$code" == 202 ]] || die "PUT container $base/$c answered $code"
  done
  log "uploading $OBJECT_GET_COUNT + $OBJECT_LIST_COUNT objects of 4 KiB and one of 64 MiB"
  out="$(/usr/bin/python3 "$BENCH_DIR/object_fill.py" "$base" "$token" bench-get \
           "$OBJECT_GET_COUNT" "$OBJECT_FILES/small" "$OBJECT_FILL_THREADS")" ||
    die "uploading to $base/bench-get failed"
  log "bench-get: $out"
  out="$(/usr/bin/python3 "$BENCH_DIR/object_fill.py" "$base" "$token" bench-list \
           "$OBJECT_LIST_COUNT" "$OBJECT_FILES/small" "$OBJECT_FILL_THREADS")" ||
    die "uploading to $base/bench-list failed"
  log "bench-list: $out"
  code="$(_object_curl "$token" -T "$OBJECT_FILES/big" "$base/bench-get/big-64m")"
  [[ "$code" == 201 ]] || die "PUT of the 64 MiB object answered $code"
  object_check "$base" "$token"
  code="$(_object_curl "$token" -T "$OBJECT_FILES/small" "$base/bench-put/check")"
  [[ "$code" == 201 ]] || die "PUT $base/bench-put/check answered $code"
  local listing
  listing="$(curl -s --max-time 60 -H "X-Auth-Token: $token" "$base/bench-list?format=json" |
             /usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" ||
    die "listing $base/bench-list?format=json did not answer a JSON array"
  [[ "$listing" == "$OBJECT_LIST_COUNT" ]] ||
    die "listing $base/bench-list has $listing entries, not $OBJECT_LIST_COUNT"
}

# Checks that the GET workloads' objects read back whole.
#   object_check URL_BASE TOKEN
object_check() {
  local base="$1" token="$2" got
  got="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 60 \
           -H "X-Auth-Token: $token" "$base/bench-get/obj-$(printf %05d $(( OBJECT_GET_COUNT - 1 )))")"
  [[ "$got" == "200 4096" ]] || die "GET of a 4 KiB object at $base answered '$got'"
  got="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 60 \
           -H "X-Auth-Token: $token" "$base/bench-get/big-64m")"
  [[ "$got" == "200 $(( 64 * 1024 * 1024 ))" ]] || die "GET of the 64 MiB object at $base answered '$got'"
}

# Exports what the wrk scripts read and runs the given workloads.
#   _object_measure TARGET URL_BASE TOKEN RUNS...
_object_measure() {
  local target="$1" base="$2" token="$3" run workload conns; shift 3
  local origin="${base%%/v1/*}"
  export BENCH_OBJECT_PATH="${base#"$origin"}" BENCH_OBJECT_TOKEN="$token" \
         BENCH_OBJECT_GET_COUNT="$OBJECT_GET_COUNT"
  for run in "$@"; do
    workload="${run%%:*}"
    conns="${run##*:}"
    [[ -f "$BENCH_DIR/workloads/object/$workload.lua" ]] ||
      die "unknown object workload: $workload"
    measure "$target" object "$workload" \
      "$BENCH_DIR/workloads/object/$workload.lua" "$origin" "$conns"
  done
}

# Prepares and runs every object workload against TARGET, whose account
# is at URL_BASE (http://HOST:PORT/v1/AUTH_<project_id>), with TOKEN.
#   object_run TARGET URL_BASE TOKEN
object_run() {
  local target="$1" base="$2" token="$3"
  [[ "$base" == http://*/v1/AUTH_* ]] || die "object_run: bad account URL $base"
  favour "$target"
  object_prepare "$base" "$token"
  # shellcheck disable=SC2086
  _object_measure "$target" "$base" "$token" $BENCH_OBJECT_RUNS
}

# Runs the workloads again against the same prepared account (--self-check).
#   object_rerun TARGET URL_BASE TOKEN
object_rerun() {
  # shellcheck disable=SC2086
  _object_measure "$@" $BENCH_OBJECT_RUNS
}

# nginx: the same 4 KiB and 64 MiB files from a plain directory, under the
# same paths, as the ceiling of serving files over HTTP on this machine.
nginx_describe() {
  cat <<EOF
nginx $(nginx -v 2>&1 | sed 's|.*nginx/||') (Debian package) on 127.0.0.1:$NGINX_PORT serving the same files
from a directory on the same filesystem: worker_processes auto ($(nproc)), sendfile
on, access log off, keep-alive; the token header is ignored. Only the GET
workloads apply.
EOF
}

# Starts nginx for TARGET under DIR; sets NGINX_URL_BASE and
# BENCH_ROOTS[TARGET:app]; registers its stop.
#   nginx_start TARGET DIR
nginx_start() {
  local target="$1" dir="$2" i
  command -v nginx >/dev/null || die "nginx not installed"
  require_port_free "$NGINX_PORT" nginx
  object_files
  local account="$dir/www/v1/AUTH_nginx"
  mkdir -p "$account/bench-get" "$dir/log" "$dir/tmp"
  for (( i=0; i<OBJECT_GET_COUNT; i++ )); do
    cp "$OBJECT_FILES/small" "$account/bench-get/$(printf 'obj-%05d' "$i")"
  done
  cp "$OBJECT_FILES/big" "$account/bench-get/big-64m"
  chmod -R a+rX "$dir/www"
  cat > "$dir/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/log/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  default_type application/octet-stream;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $dir/www;
  }
}
EOF
  log "nginx: starting on 127.0.0.1:$NGINX_PORT"
  nginx -e "$dir/log/error.log" -p "$dir/" -c "$dir/nginx.conf" > "$dir/log/nginx.out" 2>&1 &
  local pid=$!
  on_exit "stop_pid $pid nginx"
  wait_port "$NGINX_PORT" "$pid" nginx "$dir/log/error.log" 30
  NGINX_URL_BASE="http://127.0.0.1:$NGINX_PORT/v1/AUTH_nginx"
  object_check "$NGINX_URL_BASE" none
  BENCH_ROOTS[$target:app]="$pid"
  BENCH_ROOTS[$target:backing]=""
  BENCH_LOGS[$target]="$dir/log/error.log"
}

# Runs the GET workloads of BENCH_OBJECT_RUNS against nginx.
#   nginx_run TARGET
nginx_run() {
  local target="$1" run runs=()
  for run in $BENCH_OBJECT_RUNS; do
    [[ "$run" == get_* ]] && runs+=("$run")
  done
  (( ${#runs[@]} )) || return 0
  _object_measure "$target" "$NGINX_URL_BASE" none "${runs[@]}"
}

# Measures the disk's durable small-file create rate (fsync_bound.py, in
# the run's temp dir, BENCH_DURATION seconds); prints its result line.
object_fsync_bound() {
  local dir="$BENCH_WORK/fsync-bound" out
  mkdir -p "$dir"
  out="$(/usr/bin/python3 "$BENCH_DIR/fsync_bound.py" "$dir" "$OBJECT_FSYNC_THREADS" \
           "$BENCH_DURATION")" || die "fsync_bound.py failed"
  rm -rf -- "$dir"
  log "durable 4 KiB creates: $out"
  echo "$out"
}
