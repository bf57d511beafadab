#!/usr/bin/env python3
"""Renders docs/reliability.md from one run of the test command.

    reliability_report.py --records FILE --log FILE --command CMD [--soak FILE]

--records: the JSON lines the hardening tests wrote (tests/api/reliability.py)
--log:     the test command's whole output (ctest's and pytest's summaries,
           the conformance line and fuzz.sh's per-target lines are read
           from it)
--soak:    JSON lines of a soak run (scripts/soak.sh), if one was made
Writes Markdown on stdout. Fails when a row reports lost or corrupted
objects, or when the log shows a failed stage: the document is only made
from a green run.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys


def read_records(path):
    rows = []
    if path and os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.strip()
                if line:
                    rows.append(json.loads(line))
    return rows


def cell(v):
    if isinstance(v, (list, tuple)):
        v = '; '.join(str(x) for x in v)
    return str(v).replace('|', '\\|').replace('\n', ' ')


def figures_text(figs):
    parts = []
    for k, v in figs.items():
        if isinstance(v, float):
            v = ('%.1f' % v) if v >= 10 else ('%.2f' % v)
        parts.append('%s %s' % (k.replace('_', ' '), v))
    return ', '.join(parts)


def parse_log(text):
    """The test command's stage summaries, as rows of the same table."""
    rows, problems = [], []
    m = re.search(r'(\d+)% tests passed, (\d+) tests failed out of (\d+)', text)
    if m:
        rows.append({
            'test': 'unit tests (GoogleTest, ctest) under ASan + UBSan',
            'load': '%s test binaries' % m.group(3),
            'faults': 'failing stores and blob stores in the contract suites',
            'bad_inputs': 'malformed names, ranges, manifests, tokens, JSON',
            'result': '%s failed; sanitizer reports fail the run' % m.group(2),
            'lost': 0, 'figures': {}})
        if m.group(2) != '0':
            problems.append('unit tests failed')
    else:
        problems.append('no ctest summary in the log')
    m = None
    for m in re.finditer(r'^=*\s*(?:(\d+) failed, )?(\d+) passed\b.* in ([\d.]+)s',
                         text, re.M):
        pass
    api = m
    if api:
        failed = api.group(1) or '0'
        rows.append({
            'test': 'API tests (pytest, tests/api) against the ASan + UBSan server',
            'load': 'every client: openstack and swift CLIs, openstacksdk, rclone, raw HTTP',
            'faults': 'kill -9, full disk, injected store and blob failures',
            'bad_inputs': 'see the rows above',
            'result': '%s passed, %s failed in %.0f s; a sanitizer report in any server fails it'
                      % (api.group(2), failed, float(api.group(3))),
            'lost': 0, 'figures': {}})
        if failed != '0':
            problems.append('API tests failed')
    else:
        problems.append('no pytest summary in the log')
    m = re.search(r'conformance: (\d+) passed, (\d+) failed, (\d+) skipped', text)
    if m:
        rows.append({
            'test': 'Tempest identity and object-storage API tests',
            'load': "Tempest's own", 'faults': '-', 'bad_inputs': "Tempest's negative tests",
            'result': '%s passed, %s failed, %s skipped' % m.groups(), 'lost': 0, 'figures': {}})
        if m.group(2) != '0':
            problems.append('conformance failed')
    fuzz = re.findall(r'^(fuzz_\w+): ok \((\S+) runs in (\d+)s\)', text, re.M)
    for target, runs, secs in fuzz:
        rows.append({
            'test': 'libFuzzer %s' % target, 'load': '%s s' % secs, 'faults': '-',
            'bad_inputs': 'generated from the seed corpus (fuzz/corpus/%s)' % target,
            'result': 'no crash, leak, timeout or sanitizer report', 'lost': 0,
            'figures': {'inputs run': runs}})
    if re.search(r'^fuzz_\w+: FAILED', text, re.M):
        problems.append('a fuzz target failed')
    if not fuzz:
        problems.append('no fuzz results in the log')
    return rows, problems


def machine():
    cores = os.cpu_count()
    try:
        with open('/proc/meminfo') as f:
            mem = int(f.readline().split()[1]) // (1024 * 1024)
    except OSError:
        mem = 0
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
                            text=True).stdout.strip() or 'unknown'
    return '%d cores, %d GiB memory, kernel %s; onestack %s' % (
        cores, mem, platform.release(), commit)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--records', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--soak')
    ap.add_argument('--command', required=True)
    args = ap.parse_args()

    records = read_records(args.records)
    with open(args.log, encoding='utf-8', errors='replace') as f:
        stage_rows, problems = parse_log(f.read())
    soak = read_records(args.soak)
    lost = [r for r in records + soak if r['lost']]
    if lost:
        problems.append('objects lost or corrupted in: %s' % ', '.join(r['test'] for r in lost))
    if problems:
        sys.exit('reliability report: not made from a green run: ' + '; '.join(problems))

    out = []
    w = out.append
    w('# Reliability')
    w('')
    w('Generated by `%s`; do not edit by hand, re-run it. It runs the README\'s '
      'test command (scripts/test.sh) with every hardening test recording what it '
      'did, and renders this table from that one run. The soak tier runs only '
      'when asked for (`--soak MINUTES`).' % args.command)
    w('')
    w('- Date: %s UTC' % datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M'))
    w('- Machine: %s' % machine())
    w('- Builds: the `asan` preset (gcc, ASan + UBSan) for the unit, API and '
      'conformance tests; the `fuzz` preset (clang, libFuzzer, ASan + UBSan) for fuzzing.')
    w('')
    w('"Lost" counts acknowledged objects that were missing or did not match '
      'their MD5 afterwards; every test asserts it is 0.')
    w('')
    w('| test | load | faults injected | bad inputs tried | result | lost or corrupted |')
    w('|---|---|---|---|---|--:|')
    for r in records + soak + stage_rows:
        result = cell(r['result'])
        figs = figures_text(r.get('figures') or {})
        if figs:
            result += ' (%s)' % cell(figs)
        w('| %s | %s | %s | %s | %s | %d |' % (cell(r['test']), cell(r['load']),
                                               cell(r['faults']), cell(r['bad_inputs']),
                                               result, r['lost']))
    w('')
    sys.stdout.write('\n'.join(out))


if __name__ == '__main__':
    main()
