#!/usr/bin/env bash
# Soak test, run on demand (not in CI): starts its own onestack on loopback
# ports in a temporary directory, runs mixed verified load against it for
# MINUTES (default 10) with tests/soak/soak.py, samples the server's RSS and
# open file descriptors, and fails on any unexpected answer, any object that
# does not read back with its MD5, or RSS/fds that grew between the first and
# the last fifth of the run (bounds in tests/soak/soak.py). Password hashing
# runs at the lowest cost (4 rounds) so that token issues, a small part of
# the mix, do not starve the rest on a debug build.
#
#   scripts/soak.sh [MINUTES]
# Environment: ONESTACK_BIN (default build/release/onestack if built, else
# build/debug/onestack), ONESTACK_SOAK_SEED (replay a run's choices),
# ONESTACK_RELIABILITY_LOG (append the run's row for docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
minutes=${1:-10}

bin=${ONESTACK_BIN:-}
if [ -z "$bin" ]; then
  if [ -x "$root/build/release/onestack" ]; then
    bin=$root/build/release/onestack
  else
    bin=$root/build/debug/onestack
  fi
fi
[ -x "$bin" ] || { echo "soak: no onestack binary at $bin" >&2; exit 2; }

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
object_port=$(free_port)
while [ "$object_port" = "$port" ]; do object_port=$(free_port); done
password=$(openssl rand -hex 12)
cat > "$work/onestack.conf" <<CONF
[identity]
bind_host = 127.0.0.1
bind_port = $port
password_hash_rounds = 4
[object]
bind_host = 127.0.0.1
bind_port = $object_port
CONF
if ! "$bin" bootstrap --config-file "$work/onestack.conf" --data-dir "$work/data" \
    --bootstrap-password "$password" >"$work/bootstrap.log" 2>&1; then
  cat "$work/bootstrap.log" >&2
  exit 1
fi
"$bin" serve --config-file "$work/onestack.conf" --data-dir "$work/data" \
  >"$work/onestack.log" 2>&1 &
pid=$!
ready=
for _ in $(seq 1 200); do
  if curl -fsS "http://127.0.0.1:$port/healthcheck" >/dev/null 2>&1 &&
     curl -fsS "http://127.0.0.1:$object_port/info" >/dev/null 2>&1; then
    ready=1
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "soak: onestack did not start; log tail:" >&2
  tail -40 "$work/onestack.log" >&2
  exit 1
fi
echo "soak: $bin (pid $pid) for $minutes min"

seed_args=()
[ -n "${ONESTACK_SOAK_SEED:-}" ] && seed_args=(--seed "$ONESTACK_SOAK_SEED")
status=0
/usr/bin/python3 tests/soak/soak.py --minutes "$minutes" \
  --auth-url "http://127.0.0.1:$port/v3" --object-url "http://127.0.0.1:$object_port" \
  --password "$password" --pid "$pid" "${seed_args[@]}" || status=$?

# The server must still be up, then stop on SIGTERM with status 0.
if ! kill -0 "$pid" 2>/dev/null; then
  echo "soak: onestack died during the run; log tail:" >&2
  grep -v ' access ' "$work/onestack.log" | tail -40 >&2 || true
  exit 1
fi
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=
if [ $code -ne 0 ]; then
  echo "soak: onestack exited $code after SIGTERM; log tail:" >&2
  tail -40 "$work/onestack.log" >&2
  status=1
fi
if [ $status -ne 0 ]; then
  echo "soak: FAILED; server log tail (without access lines):" >&2
  grep -v ' access ' "$work/onestack.log" | tail -20 >&2 || true
fi
exit $status
