#!/usr/bin/python3
"""Compares conformance results with the expected results kept in the repo.

Usage:
  compare.py --details FILE --expected PREFIX=FILE [--expected ...]
             --required FILE --components identity[,object]
             [--regex REGEX] [--update-expected]

--details is collect_results.py's `test_id<TAB>status<TAB>reason` output.
Each --expected maps the tests whose id starts with PREFIX to one expected
file (the longest matching prefix wins). An expected file has one line per
test, `test_id pass|fail|skip  # reason`, with a reason required for fail
and skip; lines starting with `#` and blank lines are ignored.

Exit status: 0 when every test expected to pass passed and every interop
required test of the selected components passed; 1 otherwise; 2 on bad
input. With --update-expected the expected files are rewritten from the
results (keeping the reasons of tests whose status did not change) and the
exit status only reflects the interop required tests.
"""

import argparse
import os
import re
import sys

STATUSES = ("pass", "fail", "skip")


class InputError(Exception):
    pass


def read_details(path):
    """Returns {test_id: (status, reason)} from collect_results' details."""
    results = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t", 2)
            if len(parts) < 2 or parts[1] not in STATUSES:
                raise InputError(f"{path}:{number}: malformed result line")
            results[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return results


def read_expected(path):
    """Returns (header_lines, {test_id: (status, reason)}) of an expected file.

    A missing file reads as empty: a new service starts with no expectations.
    """
    header, entries = [], {}
    if not os.path.exists(path):
        return header, entries
    with open(path, encoding="utf-8") as f:
        seen_entry = False
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                if not seen_entry:
                    header.append(raw.rstrip("\n"))
                continue
            seen_entry = True
            body, _, reason = line.partition("#")
            fields = body.split()
            reason = reason.strip()
            if len(fields) != 2 or fields[1] not in STATUSES:
                raise InputError(
                    f"{path}:{number}: expected `test_id pass|fail|skip  # reason`"
                )
            test_id, status = fields
            if status != "pass" and not reason:
                raise InputError(f"{path}:{number}: {status} needs a `# reason`")
            if test_id in entries:
                raise InputError(f"{path}:{number}: {test_id} listed twice")
            entries[test_id] = (status, reason)
    return header, entries


def read_required(path, components):
    """Returns [(test_id, capability, flagged)] for the selected components."""
    required = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            if len(fields) != 4:
                raise InputError(f"{path}: malformed line: {line}")
            test_id, component, capability, flagged = fields
            if component in components:
                required.append((test_id, capability, flagged))
    return required


def write_expected(path, header, entries):
    if not header:
        header = ["# test_id pass|fail|skip  # reason (required for fail/skip)"]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for line in header:
            f.write(line + "\n")
        for test_id in sorted(entries):
            status, reason = entries[test_id]
            if status == "pass":
                f.write(f"{test_id} pass\n")
            else:
                f.write(f"{test_id} {status}  # {reason or 'TODO: explain'}\n")
    os.replace(tmp, path)


def owner(test_id, mapping):
    """Returns the expected file whose prefix is the longest match, or None."""
    best = None
    for prefix, path in mapping:
        if test_id.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, path)
    return best[1] if best else None


def percent(part, whole):
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def print_list(title, rows):
    if not rows:
        return
    print(f"\n{title} ({len(rows)}):")
    for row in rows:
        print("  " + row)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", required=True)
    parser.add_argument("--expected", action="append", default=[],
                        metavar="PREFIX=FILE")
    parser.add_argument("--required", required=True)
    parser.add_argument("--components", required=True)
    parser.add_argument("--regex", default="")
    parser.add_argument("--update-expected", action="store_true")
    args = parser.parse_args()

    try:
        mapping = []
        for item in args.expected:
            prefix, sep, path = item.partition("=")
            if not sep:
                raise InputError(f"--expected needs PREFIX=FILE, got {item}")
            mapping.append((prefix, path))
        results = read_details(args.details)
        expected_files = {path: read_expected(path) for _, path in mapping}
        required = read_required(args.required, set(args.components.split(",")))
    except (InputError, OSError) as error:
        print(f"conformance: error: {error}", file=sys.stderr)
        return 2

    in_scope = re.compile(args.regex).search if args.regex else (lambda _: True)

    # Every expectation this run should have checked.
    expected = {}
    for path, (_, entries) in expected_files.items():
        for test_id, entry in entries.items():
            if owner(test_id, mapping) == path and in_scope(test_id):
                expected[test_id] = entry

    counts = {s: sum(1 for st, _ in results.values() if st == s) for s in STATUSES}
    total = len(results)
    run = counts["pass"] + counts["fail"]
    print(f"conformance: {counts['pass']} passed, {counts['fail']} failed, "
          f"{counts['skip']} skipped")
    print(f"conformance: pass rate {percent(counts['pass'], total)} of {total} "
          f"tests ({percent(counts['pass'], run)} of the {run} not skipped)")

    regressions, new_passes, changed, unlisted = [], [], [], []
    for test_id in sorted(set(results) | set(expected)):
        actual, reason = results.get(test_id, ("fail", "missing from this run"))
        if test_id not in expected:
            unlisted.append(f"{test_id} {actual}" + (f"  # {reason}" if reason else ""))
            continue
        want = expected[test_id][0]
        if want == actual:
            continue
        if want == "pass":
            regressions.append(f"{test_id}: expected pass, got {actual}"
                               + (f" ({reason})" if reason else ""))
        elif actual == "pass":
            new_passes.append(f"{test_id}: expected {want}, now passes")
        else:
            changed.append(f"{test_id}: expected {want}, got {actual}"
                           + (f" ({reason})" if reason else ""))

    print_list("REGRESSIONS: expected to pass but did not", regressions)
    print_list("Newly passing (update the expected file)", new_passes)
    print_list("Changed between fail and skip", changed)
    print_list("Not in the expected file", unlisted)

    required_failures = []
    checked = [r for r in required if in_scope(r[0])]
    print(f"\ninterop required tests ({args.components}): ", end="")
    passed_required = 0
    lines = []
    for test_id, capability, flagged in checked:
        status, reason = results.get(test_id, ("fail", "missing from this run"))
        note = "" if flagged == "-" else f" [flagged {flagged}]"
        lines.append(f"  {status:4} {test_id} ({capability}){note}")
        if status == "pass":
            passed_required += 1
        else:
            required_failures.append(test_id)
    print(f"{passed_required} of {len(checked)} passed")
    for line in lines:
        print(line)

    if args.update_expected:
        for path, (header, entries) in expected_files.items():
            new_entries = {t: e for t, e in entries.items()
                           if not (owner(t, mapping) == path and in_scope(t))}
            for test_id, (status, reason) in results.items():
                if owner(test_id, mapping) != path:
                    continue
                old = entries.get(test_id)
                if old is not None and old[0] == status and old[1]:
                    reason = old[1]
                new_entries[test_id] = (status, "" if status == "pass" else reason)
            write_expected(path, header, new_entries)
            print(f"\nconformance: wrote {len(new_entries)} expectations to {path}")

    failed = bool(required_failures) or (bool(regressions) and not args.update_expected)
    if regressions and not args.update_expected:
        print(f"\nconformance: FAILED: {len(regressions)} test(s) expected to "
              "pass did not pass")
    if required_failures:
        print(f"conformance: FAILED: {len(required_failures)} interop required "
              "test(s) did not pass")
    if not failed:
        print("\nconformance: OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
