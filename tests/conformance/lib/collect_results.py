#!/usr/bin/python3
"""Turns a Tempest subunit v2 stream into one result per test.

Usage:
  collect_results.py --subunit FILE --listing FILE --results OUT --details OUT

--listing is the output of `tempest run --list-tests` for the same filter:
it is what makes the result complete. Tests that the stream never mentions
get their outcome from their class fixture (a skipped or failed setUpClass
is reported once for the whole class), or `fail` when nothing at all was
reported for them (a crashed worker, an interrupted run).

Writes:
  OUT (--results): `test_id status` lines, status in pass/fail/skip, sorted.
  OUT (--details): `test_id<TAB>status<TAB>reason` lines, same order; the
                   reason is the skip message or the last line of the
                   failure's traceback (empty for passes).
Test ids lose their `[id-...,tags]` suffix. A failing tearDownClass is kept
as a pseudo test `<class>.tearDownClass` so that cleanup errors stay visible.
"""

import argparse
import re
import sys

import subunit
import testtools

_SUFFIX = re.compile(r"\[[^\]]*\]$")
_FIXTURE = re.compile(r"^(setUpClass|tearDownClass) \(([^)]*)\)$")

# Worst outcome wins when one id is reported more than once.
_RANK = {"pass": 0, "skip": 1, "fail": 2}


def strip_id(test_id):
    """Returns the test id without its `[id-...,tags]` suffix."""
    return _SUFFIX.sub("", test_id.strip())


def _detail_text(details, name):
    content = details.get(name)
    if content is None:
        return ""
    try:
        return content.as_text()
    except Exception:  # undecodable attachment: the status still counts
        return ""


def _one_line(text, limit=200):
    """Condenses a skip message or traceback to a single short line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[-1]
    # Tempest puts the exception on the line before its "Details:" line.
    if line.startswith("Details:") and len(lines) > 1:
        line = lines[-2] + " " + line
    line = line.replace("\t", " ").replace("#", "No.")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _status_of(subunit_status):
    if subunit_status == "success":
        return "pass"
    if subunit_status == "skip":
        return "skip"
    if subunit_status in ("fail", "uxsuccess", "xfail"):
        return "fail"
    return None  # exists / inprogress / unknown: not an outcome


def read_stream(path):
    """Returns {raw_test_id: (status, reason)} for every finished test."""
    outcomes = {}

    def on_test(test):
        status = _status_of(test["status"])
        if status is None:
            return
        details = test["details"]
        if status == "skip":
            reason = _one_line(_detail_text(details, "reason"))
        elif status == "fail":
            reason = _one_line(_detail_text(details, "traceback"))
            if test["status"] == "xfail":
                reason = "expected failure (xfail): " + reason
        else:
            reason = ""
        previous = outcomes.get(test["id"])
        if previous is None or _RANK[status] >= _RANK[previous[0]]:
            outcomes[test["id"]] = (status, reason)

    with open(path, "rb") as stream:
        case = subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout")
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        try:
            case.run(result)
        finally:
            result.stopTestRun()
    return outcomes


def merge(listing, outcomes):
    """Returns {test_id: (status, reason)} covering every listed test."""
    results = {}
    class_outcome = {}
    for raw_id, (status, reason) in outcomes.items():
        fixture = _FIXTURE.match(raw_id)
        if fixture:
            kind, cls = fixture.groups()
            if kind == "setUpClass":
                class_outcome[cls] = (status, "setUpClass: " + reason)
            elif status == "fail":
                results[cls + ".tearDownClass"] = ("fail", reason)
            continue
        results[strip_id(raw_id)] = (status, reason)

    for test_id in listing:
        if test_id in results:
            continue
        cls = test_id.rsplit(".", 1)[0]
        if cls in class_outcome and class_outcome[cls][0] != "pass":
            results[test_id] = class_outcome[cls]
        else:
            results[test_id] = ("fail", "no result reported (test did not run)")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subunit", required=True)
    parser.add_argument("--listing", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--details", required=True)
    args = parser.parse_args()

    with open(args.listing, encoding="utf-8") as f:
        listing = sorted({strip_id(ln) for ln in f if ln.startswith("tempest.")})
    results = merge(listing, read_stream(args.subunit))
    if not results:
        print("collect_results: no test results found", file=sys.stderr)
        return 1

    with open(args.results, "w", encoding="utf-8") as out, open(
        args.details, "w", encoding="utf-8"
    ) as det:
        for test_id in sorted(results):
            status, reason = results[test_id]
            out.write(f"{test_id} {status}\n")
            det.write(f"{test_id}\t{status}\t{reason}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
