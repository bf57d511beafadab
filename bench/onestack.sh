# shellcheck shell=bash
# onestack under test: one process, bootstrapped into a fresh data dir.
# Sourced by bench/run.sh.
#
# Binary: $ONESTACK (default build/release/onestack in the repository).
# Port: identity on 127.0.0.1:$BENCH_ONESTACK_PORT (default 25050).

ONESTACK="${ONESTACK:-$BENCH_ROOT/build/release/onestack}"
ONESTACK_IDENTITY_PORT="${BENCH_ONESTACK_PORT:-25050}"

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
127.0.0.1:$ONESTACK_IDENTITY_PORT.
EOF
}

# Bootstraps and starts onestack for TARGET under DIR; sets ONESTACK_URL and
# BENCH_ROOTS[TARGET:app]; registers its stop.
#   onestack_start TARGET DIR PASSWORD
onestack_start() {
  # The user and project are the bootstrap defaults ("admin"); onestack,
  # like keystone-manage, creates them under those names.
  local target="$1" dir="$2" password="$3"
  onestack_check
  require_port_free "$ONESTACK_IDENTITY_PORT" onestack
  mkdir -p "$dir/data" "$dir/log"
  ONESTACK_URL="http://127.0.0.1:$ONESTACK_IDENTITY_PORT"

  log "onestack: bootstrap"
  "$ONESTACK" bootstrap --data-dir "$dir/data" \
      --bootstrap-password "$password" \
      --bootstrap-region-id RegionOne \
      --bootstrap-public-url "$ONESTACK_URL" \
      > "$dir/log/bootstrap.log" 2>&1 ||
    { show_log_tail "$dir/log/bootstrap.log"; die "onestack bootstrap failed"; }

  cat > "$dir/onestack.conf" <<EOF
[identity]
bind_host = 127.0.0.1
bind_port = $ONESTACK_IDENTITY_PORT
EOF

  log "onestack: starting on 127.0.0.1:$ONESTACK_IDENTITY_PORT"
  "$ONESTACK" serve --data-dir "$dir/data" --config-file "$dir/onestack.conf" \
      > "$dir/log/onestack.log" 2>&1 &
  local pid=$!
  on_exit "stop_pid $pid onestack"
  wait_port "$ONESTACK_IDENTITY_PORT" "$pid" onestack "$dir/log/onestack.log" 60
  wait_http "$ONESTACK_URL/v3" "$pid" onestack "$dir/log/onestack.log" 60

  BENCH_ROOTS[$target:app]="$pid"
  BENCH_ROOTS[$target:backing]=""
  BENCH_LOGS[$target]="$dir/log/onestack.log"
}
