"""What each hardening test did, for docs/reliability.md.

scripts/reliability.sh runs the hardening tests with ONESTACK_RELIABILITY_LOG
set to a file; each test calls record() once with what it measured, and
scripts/reliability_report.py turns the lines into the document's table.
Without the variable record() does nothing, so the tests run the same in
the ordinary suite.

A row says what ran (load), what went wrong on purpose (faults), what
hostile input was sent (bad_inputs), what was seen (result) and how many
acknowledged objects were missing or did not match their MD5 afterwards
(lost: must be 0; a test asserts it before recording). `figures` holds
measured numbers (latencies in ms, counts, MiB) shown beside the result.
"""

import json
import os
import threading

_lock = threading.Lock()


def record(test, load, faults, bad_inputs, result, lost=0, figures=None):
    path = os.environ.get('ONESTACK_RELIABILITY_LOG')
    if not path:
        return
    row = {
        'test': test,
        'load': load,
        'faults': faults,
        'bad_inputs': bad_inputs,
        'result': result,
        'lost': int(lost),
        'figures': figures or {},
    }
    with _lock, open(path, 'a', encoding='utf-8') as f:
        f.write(json.dumps(row, sort_keys=True) + '\n')
