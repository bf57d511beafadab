#!/usr/bin/env bash
# Installs everything, builds, and runs the whole test suite:
#   1. unit tests (GoogleTest, Debug build)
#   2. API tests (pytest) with Debian's openstack and swift CLIs, rclone,
#      openstacksdk and keystone's own token code, against a real onestack
#      process (including the kill -9 durability test, the isolation matrix
#      and the security-advisory tests)
#   3. conformance: Tempest's identity and object-storage API tests against a
#      running onestack, compared with tests/conformance/expected/*.txt
#   4. fuzzing: every libFuzzer target (clang, ASan + UBSan) for
#      ONESTACK_FUZZ_SECONDS (default 60) after replaying its regressions
#      (scripts/fuzz.sh)
# Exits non-zero on the first failing stage. Needs root the first time (apt).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh test

echo "== build (debug)"
cmake --preset debug >/dev/null
cmake --build --preset debug

echo "== unit tests"
ctest --preset debug

echo "== API tests"
export ONESTACK_BIN=$root/build/debug/onestack
export ONESTACK_FERNET_TOOL=$root/build/debug/tests/unit/identity/token/fernet_tool
/usr/bin/python3 -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning tests/api

echo "== conformance (Tempest identity and object storage)"
work=$(mktemp -d)
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
[object]
bind_host = 127.0.0.1
bind_port = $object_port
CONF
"$ONESTACK_BIN" bootstrap --config-file "$work/onestack.conf" --data-dir "$work/data" \
  --bootstrap-password "$password" >/dev/null
"$ONESTACK_BIN" serve --config-file "$work/onestack.conf" --data-dir "$work/data" \
  >"$work/onestack.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthcheck" >/dev/null 2>&1 && break
  sleep 0.1
done
status=0
tests/conformance/run.sh --auth-url "http://127.0.0.1:$port/v3" --admin-password "$password" \
  --services identity,object-store \
  --output-dir "$root/build/conformance" || status=$?
if [ $status -ne 0 ]; then
  echo "conformance failed; onestack log tail:" >&2
  tail -40 "$work/onestack.log" >&2
fi
# Sums up the conformance run (Tempest's own counts).
results=$root/build/conformance/results.txt
if [ -f "$results" ]; then
  echo "conformance: $(grep -c ' pass$' "$results") passed, $(grep -c ' fail$' "$results") failed, $(grep -c ' skip$' "$results") skipped"
fi
[ $status -eq 0 ] || exit $status
cleanup
trap - EXIT

echo "== fuzzing"
scripts/fuzz.sh "${ONESTACK_FUZZ_SECONDS:-60}"
