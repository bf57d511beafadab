# shellcheck shell=bash
# onestack under test: one process, bootstrapped into a fresh data dir.
# Sourced by bench/run.sh.
#
# Binary: $ONESTACK (default build/release/onestack in the repository).
# Ports: identity on 127.0.0.1:$BENCH_ONESTACK_PORT (default 25050), object
# storage on 127.0.0.1:$BENCH_ONESTACK_OBJECT_PORT (default 25080).

ONESTACK="${ONESTACK:-$BENCH_ROOT/build/release/onestack}"
ONESTACK_IDENTITY_PORT="${BENCH_ONESTACK_PORT:-25050}"
ONESTACK_OBJECT_PORT="${BENCH_ONESTACK_OBJECT_PORT:-25080}"

# Fails (before anything starts) unless the binary exists.
onestack_check() {
  if [[ ! -x "$ONESTACK" ]]; then
    die "onestack binary not found at $ONESTACK (build it with: cmake --preset release && cmake --build build/release --target onestack; or set ONESTACK=path; or run with --only reference)"
  fi
}

onestack_describe() {
  local ver
  ver="$("$ONESTACK" --version 2>/dev/null | head -n 1 || true)"
  cat <<EOF
onestack ${ver:-(version unknown)} ($(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')),
one process, default settings, embedded SQLite store, identity on
127.0.0.1:$ONESTACK_IDENTITY_PORT$(onestack_describe_object).
EOF
}

onestack_describe_object() {
  [[ ",${ONESTACK_SERVICES:-identity}," == *,object,* ]] || return 0
  printf ', object storage on 127.0.0.1:%s (object bytes in a directory on the temp dir'"'"'s %s filesystem, metadata in SQLite)' \
    "$ONESTACK_OBJECT_PORT" "$(stat -f -c %T "${BENCH_WORK:-/tmp}" 2>/dev/null | sed 's|ext2/ext3|ext4|')"
}

# Bootstraps and starts onestack for TARGET under DIR with the SERVICES
# given (comma-separated: identity, object; identity always runs); sets
# ONESTACK_URL (identity), ONESTACK_OBJECT_URL (object storage, without the
# /v1/AUTH_<project_id> path) and BENCH_ROOTS[TARGET:app]; registers its stop.
#   onestack_start TARGET DIR PASSWORD [SERVICES]
onestack_start() {
  # The user and project are the bootstrap defaults ("admin"); onestack,
  # like keystone-manage, creates them under those names.
  local target="$1" dir="$2" password="$3"
  ONESTACK_SERVICES="${4:-identity}"
  local with_object=0
  [[ ",$ONESTACK_SERVICES," == *,object,* ]] && with_object=1
  onestack_check
  require_port_free "$ONESTACK_IDENTITY_PORT" onestack
  (( with_object )) && require_port_free "$ONESTACK_OBJECT_PORT" "onestack object storage"
  mkdir -p "$dir/data" "$dir/log"
  ONESTACK_URL="http://127.0.0.1:$ONESTACK_IDENTITY_PORT"
  ONESTACK_OBJECT_URL="http://127.0.0.1:$ONESTACK_OBJECT_PORT"

  # Object storage is on unless [object] enabled = false; its bytes go to
  # blob_dir, its metadata to the data dir. bootstrap reads the same file
  # to put the object-store endpoint (public_url + /v1/AUTH_%(project_id)s)
  # in the catalog.
  cat > "$dir/onestack.conf" <<EOF
[identity]
bind_host = 127.0.0.1
bind_port = $ONESTACK_IDENTITY_PORT
EOF
  if (( with_object )); then
    cat >> "$dir/onestack.conf" <<EOF

[object]
enabled = true
bind_host = 127.0.0.1
bind_port = $ONESTACK_OBJECT_PORT
blob_dir = $dir/data/objects
public_url = $ONESTACK_OBJECT_URL
EOF
  else
    printf '\n[object]\nenabled = false\n' >> "$dir/onestack.conf"
  fi

  log "onestack: bootstrap"
  "$ONESTACK" bootstrap --data-dir "$dir/data" --config-file "$dir/onestack.conf" \
      --bootstrap-password "$password" \
      --bootstrap-region-id RegionOne \
      --bootstrap-public-url "$ONESTACK_URL" \
      > "$dir/log/bootstrap.log" 2>&1 ||
    { show_log_tail "$dir/log/bootstrap.log"; die "onestack bootstrap failed"; }

  log "onestack: starting on 127.0.0.1:$ONESTACK_IDENTITY_PORT"
  "$ONESTACK" serve --data-dir "$dir/data" --config-file "$dir/onestack.conf" \
      > "$dir/log/onestack.log" 2>&1 &
  local pid=$!
  on_exit "stop_pid $pid onestack"
  wait_port "$ONESTACK_IDENTITY_PORT" "$pid" onestack "$dir/log/onestack.log" 60
  wait_http "$ONESTACK_URL/v3" "$pid" onestack "$dir/log/onestack.log" 60
  if (( with_object )); then
    wait_port "$ONESTACK_OBJECT_PORT" "$pid" "onestack object storage" "$dir/log/onestack.log" 60
  fi

  BENCH_ROOTS[$target:app]="$pid"
  BENCH_ROOTS[$target:backing]=""
  BENCH_LOGS[$target]="$dir/log/onestack.log"
}
