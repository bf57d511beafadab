#!/usr/bin/env bash
# Builds onestack's libFuzzer targets (clang 14, ASan + UBSan) and runs them:
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# For every target (all of them unless named): first replays each file in
# fuzz/regressions/<target>/ (any crash there fails), then fuzzes for SECONDS
# (default 60) a copy of the seed corpus fuzz/corpus/<target>/ with
# fuzz/dict/<target>.dict when there is one, two targets at a time.
# Exits non-zero on any crash, leak, sanitizer report, timeout or
# out-of-memory, naming the input that caused it.
#
# Environment:
#   ONESTACK_FUZZ_BUILD_DIR  build directory (default build/fuzz, the preset's)
#   ONESTACK_FUZZ_JOBS       build parallelism (default 2)
#   ONESTACK_FUZZ_PARALLEL   targets fuzzed at once (default 2)
#   ONESTACK_FUZZ_NO_INSTALL set to 1 to skip scripts/install-deps.sh fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-60}
shift || true
all_targets=(fuzz_http fuzz_range fuzz_swift_names fuzz_acl fuzz_slo_manifest fuzz_tempurl
             fuzz_keystone_json fuzz_fernet fuzz_tar)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
build=${ONESTACK_FUZZ_BUILD_DIR:-build/fuzz}
case $build in /*) ;; *) build=$root/$build ;; esac
jobs=${ONESTACK_FUZZ_JOBS:-2}
parallel=${ONESTACK_FUZZ_PARALLEL:-2}

[ "${ONESTACK_FUZZ_NO_INSTALL:-0}" = 1 ] || scripts/install-deps.sh fuzz

echo "== build (fuzz preset, $build)"
cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

# Per-target limits: -timeout is per input (seconds), -rss_limit_mb the
# process's resident memory. The HTTP-level targets run a whole server, a
# SQLite store and bcrypt in process, so they get more of both.
limits_for() {
  case $1 in
    fuzz_http|fuzz_acl|fuzz_tempurl|fuzz_keystone_json)
      echo "-timeout=60 -rss_limit_mb=4096 -max_len=16384" ;;
    fuzz_tar)
      echo "-timeout=60 -rss_limit_mb=4096 -max_len=65536" ;;
    *)
      echo "-timeout=10 -rss_limit_mb=2048 -max_len=8192" ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if command -v llvm-symbolizer-14 >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-14)}
fi

work=$build/fuzz-work
mkdir -p "$work"

# Replays the regressions, then fuzzes. Writes its log to $work/<t>.log and
# exits non-zero with the offending input's path on its last line.
run_target() {
  local t=$1 bin=$build/fuzz/$1 dir=$work/$1
  local limits
  limits=$(limits_for "$t")
  rm -rf "$dir" "$dir.log"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local dict=()
  [ -f "$root/fuzz/dict/$t.dict" ] && dict=(-dict="$root/fuzz/dict/$t.dict")
  local reg=$root/fuzz/regressions/$t
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    for f in "$reg"/*; do
      # shellcheck disable=SC2086
      if ! "$bin" $limits "$f" >>"$dir.log" 2>&1; then
        echo "$t: regression input crashes: $f"
        return 1
      fi
    done
  fi
  [ -d "$root/fuzz/corpus/$t" ] && cp -r "$root/fuzz/corpus/$t/." "$dir/corpus/"
  # shellcheck disable=SC2086
  if ! "$bin" $limits "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$dir/artifacts/" "$dir/corpus" >>"$dir.log" 2>&1; then
    local found
    found=$(ls -1 "$dir/artifacts" 2>/dev/null | grep -E '^(crash|leak|timeout|oom)-' | head -1 || true)
    echo "$t: FAILED (log: $dir.log)"
    grep -m1 -E "ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|fuzz harness:" \
      "$dir.log" || true
    if [ -n "$found" ]; then
      echo "$t: crashing input: $dir/artifacts/$found"
    fi
    return 1
  fi
  local execs
  execs=$(grep "stat::number_of_executed_units" "$dir.log" | tail -1 | awk '{print $2}')
  echo "$t: ok (${execs:-?} runs in ${seconds}s)"
}

echo "== fuzzing ${#targets[@]} targets for ${seconds}s each, $parallel at a time"
declare -A pids=()
failed=()
wait_one() {
  local done_pid
  wait -n -p done_pid "${!pids[@]}" && rc=0 || rc=$?
  local name=${pids[$done_pid]}
  unset "pids[$done_pid]"
  [ "$rc" = 0 ] || failed+=("$name")
}
for t in "${targets[@]}"; do
  while [ ${#pids[@]} -ge "$parallel" ]; do wait_one; done
  run_target "$t" &
  pids[$!]=$t
done
while [ ${#pids[@]} -gt 0 ]; do wait_one; done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} passed, 0 failed"
