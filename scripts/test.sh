#!/usr/bin/env bash
# Installs everything, checks the code's layout (.clang-format, scripts/
# format.sh), builds onestack once with AddressSanitizer and UBSan
# (the asan preset: gcc, -fsanitize=address,undefined, Debug) and runs the
# whole test suite; stages 1-3 run on that build with the sanitizer options
# below, so any ASan, LeakSanitizer or UBSan report fails them:
#   1. unit tests (GoogleTest), the store and blob contract suites also on
#      PostgreSQL and GlusterFS (started here, removed after), and the
#      layering check (a module including a header of a module it does not
#      depend on must fail to compile: tests/layering)
#   2. API tests (pytest) with Debian's openstack and swift CLIs, rclone,
#      openstacksdk and keystone's own token code, against a real onestack
#      process, including the hardening tests: 100 kill -9 cycles under
#      mixed load (ONESTACK_CRASH_CYCLES), injected store and blob faults, a
#      real full disk, abuse with a latency probe, the isolation matrix and
#      the security-advisory tests, and the multi-node test (two nodes on
#      PostgreSQL + GlusterFS behind haproxy, tests/api/test_cluster.py); a
#      server whose log holds a sanitizer report fails its test
#      (tests/api/conftest.py)
#   3. differential: every scenario of tests/differential/ against Debian's
#      Swift and against onestack; a difference neither allowed.yaml nor
#      pending.yaml lists fails it, as does a sanitizer report in the server
#   4. conformance: Tempest's identity and object-storage API tests against a
#      running onestack, compared with tests/conformance/expected/*.txt; the
#      server must then stop cleanly with no sanitizer report in its log
#   5. fuzzing: every libFuzzer target (clang, ASan + UBSan) for
#      ONESTACK_FUZZ_SECONDS (default 60) after replaying its regressions
#      (scripts/fuzz.sh)
# Exits non-zero on the first failing stage. Needs root the first time (apt).
# scripts/reliability.sh runs this and makes docs/reliability.md of it.
# The debug preset (cmake --preset debug) stays for day-to-day development.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh test

echo "== format"
scripts/format.sh --check

# Every report stops the process; exit status 86 tells a sanitizer's exit from
# a program's own failure codes (fernet_tool exits 1 on a bad token).
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:exitcode=86:print_stacktrace=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86
# GlusterFS's client library frees not all it allocates (tests/lsan.supp).
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0

echo "== build (asan)"
cmake --preset asan >/dev/null
cmake --build --preset asan

echo "== unit tests"
# The store and blob contract suites also run on the scale-out backends: a
# throwaway PostgreSQL on loopback and a GlusterFS test host in a network
# namespace (replica-2 volume), both removed afterwards. A suite whose
# backend is missing fails rather than skips.
backends=$(mktemp -d)
chmod 755 "$backends"
stop_backends() {
  scripts/gluster.sh down "$backends/gluster" >/dev/null 2>&1 || true
  scripts/pg.sh stop "$backends/pg" >/dev/null 2>&1 || true
  rm -rf "$backends"
}
trap stop_backends EXIT
ONESTACK_TEST_PG=$(scripts/pg.sh start "$backends/pg" "$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')")
ONESTACK_TEST_GLUSTER=$(scripts/gluster.sh up "$backends/gluster")
export ONESTACK_TEST_PG ONESTACK_TEST_GLUSTER ONESTACK_TEST_GLUSTER_DIR=$backends/gluster
export ONESTACK_TEST_REQUIRE_BACKENDS=1
ctest --preset asan
stop_backends
trap - EXIT
unset ONESTACK_TEST_PG ONESTACK_TEST_GLUSTER ONESTACK_TEST_GLUSTER_DIR ONESTACK_TEST_REQUIRE_BACKENDS

echo "== API tests"
# The kill -9 test's long tier: 100 crash-and-restart cycles under load.
export ONESTACK_CRASH_CYCLES=${ONESTACK_CRASH_CYCLES:-100}
export ONESTACK_BIN=$root/build/asan/onestack
export ONESTACK_FERNET_TOOL=$root/build/asan/tests/unit/identity/token/fernet_tool
/usr/bin/python3 -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning tests/api

echo "== differential (object storage against Debian's Swift)"
tests/differential/run.sh

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
kill -TERM "$pid"
server_status=0
wait "$pid" || server_status=$?
# ASan's and LSan's report header, UBSan's "file:line:col: runtime error:".
report='^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|^[^ ]+:[0-9]+:[0-9]+: runtime error: '
if [ $server_status -ne 0 ] || grep -Eq "$report" "$work/onestack.log"; then
  echo "onestack exited $server_status after the conformance run; its log:" >&2
  grep -E -A60 "$report" "$work/onestack.log" >&2 || tail -40 "$work/onestack.log" >&2
  exit 1
fi
cleanup
trap - EXIT

echo "== fuzzing"
# scripts/fuzz.sh sets its own sanitizer options for libFuzzer.
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
scripts/fuzz.sh "${ONESTACK_FUZZ_SECONDS:-60}"
