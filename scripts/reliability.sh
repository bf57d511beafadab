#!/usr/bin/env bash
# Makes docs/reliability.md from one run of the README's test command:
#   scripts/reliability.sh [--soak MINUTES] [--output FILE]
# Runs scripts/test.sh with ONESTACK_RELIABILITY_LOG set, so each hardening
# test (faults, full disk, crash loop, abuse, isolation) records what it did
# and measured; then scripts/reliability_report.py renders those rows and the
# stages' summaries (unit and API tests under ASan + UBSan, Tempest, every
# fuzz target) as one table. With --soak it also runs scripts/soak.sh for
# MINUTES afterwards. Fails, writing nothing, if any stage fails or any row
# reports a lost object.
set -euo pipefail
cd "$(dirname "$0")/.."

output=docs/reliability.md
soak_minutes=0
command="scripts/reliability.sh"
while [ $# -gt 0 ]; do
  case $1 in
    --soak) soak_minutes=$2; command+=" --soak $2"; shift 2 ;;
    --output) output=$2; shift 2 ;;
    *) echo "usage: $0 [--soak MINUTES] [--output FILE]" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ONESTACK_RELIABILITY_LOG=$work/records.jsonl
: >"$ONESTACK_RELIABILITY_LOG"

scripts/test.sh 2>&1 | tee "$work/test.log"

soak_args=()
if [ "$soak_minutes" != 0 ]; then
  ONESTACK_RELIABILITY_LOG=$work/soak.jsonl scripts/soak.sh "$soak_minutes"
  soak_args=(--soak "$work/soak.jsonl")
fi

/usr/bin/python3 scripts/reliability_report.py --records "$ONESTACK_RELIABILITY_LOG" \
  --log "$work/test.log" --command "$command" "${soak_args[@]}" >"$work/reliability.md"
mv "$work/reliability.md" "$output"
echo "wrote $output"
