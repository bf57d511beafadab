"""Durability across kill -9.

Several threads write to the object store (small and ~1 MiB PUTs, POSTs,
DELETEs, SLO manifests over fresh segments, server-side copies with COPY
and with PUT + X-Copy-From) and take container listings while the test
records what was acknowledged. At a random moment the server is killed
with SIGKILL and started again on the same data directory. Then:
  * every acknowledged write is there, unless a later acknowledged write
    changed it; a name whose last request was still in flight may hold the
    old or the new state, but whole: its body's MD5 equals its ETag and one
    of the versions sent;
  * the listing shows nothing half-written: each row reads back with the
    listed size and hash, and the container's counters match what its rows hold (a large object its manifest);
  * the blob store's temp directory is empty and nothing was quarantined
    (no file, no small object's row).
The cycle repeats; the state seen after one restart is the baseline of the
next.

Listings taken during the load are checked too: a thread's own names (no
other thread writes them, and none of its requests is in flight while it
lists) must be listed exactly as the ledger says, and any other row must be
a version that was sent for its name.

After each restart every name touched in the cycle is read back, and so is
a rotating slice of the older ones (segments are write-once and accumulate);
an untouched name that is not read must still have the listing row it had.
The last cycle reads every name.

ONESTACK_CRASH_CYCLES (default 14) sets the number of cycles; a run of more
than the default (the long tier, e.g. 100) loads each cycle for 0.2-1 s
instead of 0.3-3 s. ONESTACK_CRASH_SEED replays a run's choices.
"""

import collections
import concurrent.futures
import hashlib
import json
import os
import random
import sqlite3
import threading
import time
import urllib.parse

import requests

import reliability
from conftest import unique

QUICK_CYCLES = 14
CYCLES = int(os.environ.get('ONESTACK_CRASH_CYCLES', QUICK_CYCLES))
THREADS = 6
NAMES_PER_THREAD = 8
MIB = 1024 * 1024
# Untouched names read back per cycle besides the touched ones, in rotation.
REREAD_PER_CYCLE = 150
VERIFY_THREADS = 4
KINDS = ('put', 'post', 'delete', 'slo', 'copy', 'copy_from', 'list')

# A name's state: its body's MD5, the X-Object-Meta-Gen it carries, whether
# it is an SLO manifest, its size and the hash its listing row shows (an
# SLO's is the MD5 of its segments' ETags).
State = collections.namedtuple('State', 'md5 gen slo size etag')


def md5(data):
    return hashlib.md5(data).hexdigest()


def plain(data, gen):
    digest = md5(data)
    return State(digest, gen, False, len(data), digest)


class Op:
    """One request and what came of it (status None: no answer)."""

    def __init__(self, kind, state=None, gen=None, source=None):
        self.kind = kind        # one of KINDS but 'list'
        self.state = state      # what a put/slo would leave
        self.gen = gen          # the Gen a post/copy sets
        self.source = source    # the name a copy reads
        self.after = None       # what a copy would leave (set by begin)
        self.status = None

    def describe(self):
        return (self.kind, self.state or self.gen, self.source, self.status)


class Ledger:
    """Per name: the set of states it may be in given the answers seen."""

    def __init__(self):
        self.possible = {}   # name -> set of states (None: absent)
        self.history = {}    # name -> [Op] of the current cycle
        self.sent = {}       # name -> {(etag, size)} of every version sent
        self.acked = dict.fromkeys(KINDS, 0)
        self.unanswered = 0  # requests the kill cut off
        self.reads = 0       # objects read back whole after restarts
        self.lock = threading.Lock()

    def begin(self, name, op):
        with self.lock:
            self.possible.setdefault(name, {None})
            self.history.setdefault(name, []).append(op)
            if op.kind in ('copy', 'copy_from'):
                # The source is one of this thread's names: nothing changes
                # it while the copy runs.
                op.after = {State(s.md5, op.gen, False, s.size, s.md5)
                            for s in self.possible.get(op.source, {None}) if s is not None}
                versions = op.after
            else:
                versions = {op.state} if op.state is not None else set()
            self.sent.setdefault(name, set()).update((s.etag, s.size) for s in versions)

    def end(self, name, op, status):
        """Folds a finished (or unanswered: status None) request in."""
        with self.lock:
            op.status = status
            before = self.possible[name]
            if op.kind in ('put', 'slo'):
                after = {op.state}
            elif op.kind == 'delete':
                after = {None}
            elif op.kind == 'post':  # new gen on whatever content is there
                after = {s._replace(gen=op.gen) for s in before if s is not None}
            else:
                after = op.after
            if status is not None and 200 <= status < 300:
                self.acked[op.kind] += 1
                if op.kind in ('post', 'copy', 'copy_from') and not after:
                    raise AssertionError('%s %s acknowledged on an absent object' % (
                        op.kind, op.source or name))
                self.possible[name] = after
            elif status is None or status >= 500:
                # No answer (or a server error): done or not, but whole.
                self.possible[name] = before | after
                self.unanswered += status is None
            elif status == 404:
                # Only right if the object (a copy's source) may be absent.
                gone = self.possible.get(op.source or name, {None})
                if None not in gone:
                    raise AssertionError('%s %s: 404 but it holds %s' % (
                        op.kind, op.source or name, gone))
            # Any other 4xx answer changed nothing.

    def settle(self, name, observed):
        with self.lock:
            self.possible[name] = {observed}
            self.history[name] = []

    def check_rows(self, rows, own=None):
        """Problems with a listing taken during the load. `own`: the names
        of the lister's thread, which the listing must show exactly."""
        problems = []
        names = [row['name'] for row in rows]
        if names != sorted(set(names)):
            problems.append('listing not sorted or repeats a name: %s' % names[:10])
        with self.lock:
            listed = {row['name']: row for row in rows}
            for name, row in listed.items():
                if (row['hash'], row['bytes']) not in self.sent.get(name, ()):
                    problems.append('%s listed as %s/%d, never sent' % (
                        name, row['hash'], row['bytes']))
            for name in own or ():
                possible = self.possible.get(name, {None})
                row = listed.get(name)
                if row is None:
                    if None not in possible:
                        problems.append('%s missing from a listing; it holds %s' % (
                            name, possible))
                elif (row['hash'], row['bytes']) not in {
                        (s.etag, s.size) for s in possible if s is not None}:
                    problems.append('%s listed as %s/%d but holds %s' % (
                        name, row['hash'], row['bytes'], possible))
        return problems


def worker(index, base, token, container, ledger, stop, seed, errors):
    rng = random.Random(seed)
    session = requests.Session()
    session.headers['X-Auth-Token'] = token
    prefix = 't%d-obj' % index
    names = ['%s%d' % (prefix, i) for i in range(NAMES_PER_THREAD)]
    cpath = '%s/%s' % (base, container)
    seg_counter = 0

    def url(name):
        return '%s/%s' % (cpath, urllib.parse.quote(name))

    def send(name, op, method, **kwargs):
        ledger.begin(name, op)
        try:
            r = session.request(method, url(name), timeout=30, **kwargs)
        except requests.RequestException:
            ledger.end(name, op, None)
            return None
        ledger.end(name, op, r.status_code)
        return r.status_code

    def listing():
        own = rng.random() < 0.7
        if own:
            params = {'format': 'json', 'prefix': prefix}
        else:
            params = {'format': 'json', 'limit': str(rng.randrange(1, 300)),
                      'marker': rng.choice(['', 'seg/', 't%d' % rng.randrange(THREADS)])}
        try:
            r = session.get(cpath, params=params, timeout=30)
        except requests.RequestException:
            return None
        if r.status_code not in (200, 204):
            errors.append('worker %d: listing answered %d: %s' % (
                index, r.status_code, r.text[:200]))
            return r.status_code
        rows = r.json() if r.status_code == 200 else []
        problems = ledger.check_rows(rows, names if own else None)
        errors.extend('worker %d: %s' % (index, p) for p in problems)
        with ledger.lock:
            ledger.acked['list'] += 1
        return r.status_code

    try:
        while not stop.is_set():
            name = rng.choice(names)
            gen = unique('g')
            pick = rng.random()
            if pick < 0.32:
                data = rng.randbytes(rng.choice([0, 1, 100, 4096, rng.randrange(1, 64 * 1024)]))
                status = send(name, Op('put', plain(data, gen)), 'PUT', data=data,
                              headers={'X-Object-Meta-Gen': gen})
            elif pick < 0.42:
                data = rng.randbytes(MIB + rng.randrange(-4096, 4096))
                status = send(name, Op('put', plain(data, gen)), 'PUT', data=data,
                              headers={'X-Object-Meta-Gen': gen})
            elif pick < 0.54:
                status = send(name, Op('post', gen=gen), 'POST',
                              headers={'X-Object-Meta-Gen': gen})
            elif pick < 0.66:
                status = send(name, Op('delete'), 'DELETE')
            elif pick < 0.74:
                # Swift's COPY verb: the source names the destination.
                source = rng.choice(names)
                op = Op('copy', gen=gen, source=source)
                ledger.begin(name, op)
                try:
                    r = session.request('COPY', url(source), timeout=30, headers={
                        'Destination': '%s/%s' % (container, urllib.parse.quote(name)),
                        'X-Object-Meta-Gen': gen})
                    status = r.status_code
                except requests.RequestException:
                    status = None
                ledger.end(name, op, status)
            elif pick < 0.82:
                source = rng.choice(names)
                status = send(name, Op('copy_from', gen=gen, source=source), 'PUT', data=b'',
                              headers={'X-Copy-From': '%s/%s' % (
                                  container, urllib.parse.quote(source)),
                                  'X-Object-Meta-Gen': gen})
            elif pick < 0.88:
                status = listing()
            else:
                # An SLO: fresh segments (write-once names), then the manifest.
                segments, whole = [], b''
                status = 201
                for _ in range(rng.randrange(2, 4)):
                    seg_counter += 1
                    seg = 'seg/t%d/%s-%d' % (index, unique('s'), seg_counter)
                    data = rng.randbytes(rng.randrange(1, 64 * 1024))
                    status = send(seg, Op('put', plain(data, gen)), 'PUT', data=data,
                                  headers={'X-Object-Meta-Gen': gen})
                    if status != 201:
                        break
                    segments.append({'path': '/%s/%s' % (container, seg), 'etag': md5(data),
                                     'size_bytes': len(data)})
                    whole += data
                if status == 201:
                    slo_etag = md5(''.join(s['etag'] for s in segments).encode())
                    state = State(md5(whole), gen, True, len(whole), slo_etag)
                    status = send(name, Op('slo', state), 'PUT',
                                  params={'multipart-manifest': 'put'},
                                  data=json.dumps(segments).encode(),
                                  headers={'X-Object-Meta-Gen': gen})
            if status is None:
                return  # the server is gone
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append('worker %d: %r' % (index, e))
    finally:
        session.close()


def observe(session, url, name):
    """The state `name` is in now, checked to be whole."""
    r = session.get('%s/%s' % (url, urllib.parse.quote(name)), timeout=60)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, (name, r.status_code, r.text[:200])
    body_md5 = md5(r.content)
    assert int(r.headers['Content-Length']) == len(r.content)
    slo = r.headers.get('X-Static-Large-Object', '').lower() == 'true'
    etag = r.headers['Etag'].strip('"')
    if not slo:
        assert etag == body_md5, (
            '%s: body MD5 %s but ETag %s' % (name, body_md5, etag))
    return State(body_md5, r.headers.get('X-Object-Meta-Gen'), slo, len(r.content), etag)


class Verifier:
    """Reads the container back after a restart (see the module's text)."""

    def __init__(self, cloud, token, container, ledger):
        self.cloud = cloud
        self.token = token
        self.container = container
        self.ledger = ledger
        self.cursor = 0
        self.local = threading.local()

    def _get(self, url, name):
        session = getattr(self.local, 'session', None)
        if session is None:
            session = self.local.session = requests.Session()
            session.headers['X-Auth-Token'] = self.token
        return observe(session, url, name)

    def listing(self, cpath):
        rows, marker = [], ''
        while True:
            r = self.cloud.swift('GET', cpath, token=self.token,
                                 params={'format': 'json', 'marker': marker, 'limit': '1000'})
            assert r.status_code in (200, 204), (r.status_code, r.text)
            page = r.json() if r.status_code == 200 else []
            if not page:
                return rows
            rows.extend(page)
            marker = page[-1]['name']

    def verify(self, everything):
        ledger = self.ledger
        cpath = '%s/%s' % (self.cloud.account_path(), self.container)
        failures = []
        rows = self.listing(cpath)
        listed = {row['name']: row for row in rows}
        assert len(listed) == len(rows), 'a name listed twice'
        head = self.cloud.swift('HEAD', cpath, token=self.token)
        assert int(head.headers['X-Container-Object-Count']) == len(rows), (
            'object count %s but %d rows' % (head.headers['X-Container-Object-Count'], len(rows)))
        # A large object counts its manifest, not the bytes it lists (as
        # Swift's container databases count it): HEAD ?multipart-manifest=get
        # gives what a row that may be one holds.
        held = 0
        for row in rows:
            states = ledger.possible.get(row['name'], {None})
            if not any(s is not None and s.slo for s in states):
                held += row['bytes']
                continue
            r = self.cloud.swift('HEAD', '%s/%s' % (cpath, urllib.parse.quote(row['name'])),
                                 token=self.token, params={'multipart-manifest': 'get'})
            assert r.status_code == 200, (row['name'], r.status_code)
            held += int(r.headers['Content-Length'])
        assert int(head.headers['X-Container-Bytes-Used']) == held, (
            'bytes used %s but rows hold %d' % (head.headers['X-Container-Bytes-Used'], held))
        unknown = set(listed) - set(ledger.possible)
        if unknown:
            failures.append('listed but never written: %s' % sorted(unknown)[:5])

        touched = sorted(n for n in ledger.possible if ledger.history.get(n))
        rest = sorted(n for n in ledger.possible if not ledger.history.get(n))
        if everything or len(rest) <= REREAD_PER_CYCLE:
            reread = rest
        else:
            self.cursor %= len(rest)
            reread = (rest + rest)[self.cursor:self.cursor + REREAD_PER_CYCLE]
            self.cursor += REREAD_PER_CYCLE
        url = self.cloud.object_base_url + cpath
        with concurrent.futures.ThreadPoolExecutor(VERIFY_THREADS) as pool:
            observed = dict(zip(touched + reread,
                                pool.map(lambda n: self._get(url, n), touched + reread)))
        for name, state in observed.items():
            allowed = ledger.possible[name]
            if state not in allowed:
                failures.append('%s: found %s, expected one of %s; requests this cycle: %s' % (
                    name, state, allowed,
                    [op.describe() for op in ledger.history.get(name, [])]))
            self._check_row(name, state, listed.get(name), failures)
            ledger.reads += state is not None
            ledger.settle(name, state)
        for name in set(rest) - set(reread):
            # Verified whole earlier and not written since: its row is the same.
            (state,) = ledger.possible[name]
            self._check_row(name, state, listed.get(name), failures)
        return failures

    @staticmethod
    def _check_row(name, state, row, failures):
        if state is None:
            if row is not None:
                failures.append('%s: listed but not readable' % name)
        elif row is None:
            failures.append('%s: readable but not listed' % name)
        elif (row['hash'], row['bytes']) != (state.etag, state.size):
            failures.append('%s: listed as %s/%d but reads as %s/%d' % (
                name, row['hash'], row['bytes'], state.etag, state.size))


def quarantined_rows(cloud):
    """Small objects' blobs the server took out of service (read-only)."""
    db = sqlite3.connect('file:%s?mode=ro' % os.path.join(cloud.data_dir, 'objects.db'), uri=True)
    try:
        return db.execute('SELECT count(*) FROM quarantined_small_blobs').fetchone()[0]
    finally:
        db.close()


def test_kill_9_under_load_loses_nothing_acknowledged(new_cloud):
    cloud = new_cloud('[object]\ndisk_threads = 16\n')
    token = cloud.admin_token()
    container = unique('crash')
    base = cloud.object_url()
    assert cloud.swift('PUT', '%s/%s' % (cloud.account_path(), container),
                       token=token).status_code == 201
    ledger = Ledger()
    verifier = Verifier(cloud, token, container, ledger)
    seed = int(os.environ.get('ONESTACK_CRASH_SEED', random.randrange(1 << 30)))
    rng = random.Random(seed)
    load_seconds = (0.3, 3.0) if CYCLES <= QUICK_CYCLES else (0.2, 1.0)
    tmp_dir = os.path.join(cloud.data_dir, 'objects', 'tmp')
    quarantine_dir = os.path.join(cloud.data_dir, 'objects', 'quarantine')
    started = time.monotonic()
    restart_seconds = 0.0
    verify_seconds = 0.0
    for cycle in range(CYCLES):
        stop = threading.Event()
        errors = []
        threads = [threading.Thread(target=worker, args=(
            i, base, token, container, ledger, stop, rng.randrange(1 << 30), errors))
            for i in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(*load_seconds))
        cloud.kill()  # SIGKILL by PID
        stop.set()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive(), 'a worker hung after the kill'
        assert not errors, 'cycle %d (seed %d):\n%s' % (cycle, seed, '\n'.join(errors[:20]))
        before = time.monotonic()
        cloud.start()
        restart_seconds += time.monotonic() - before
        leftovers = os.listdir(tmp_dir)
        assert leftovers == [], 'cycle %d (seed %d): temp blobs left: %s' % (
            cycle, seed, leftovers[:5])
        before = time.monotonic()
        failures = verifier.verify(everything=cycle == CYCLES - 1)
        verify_seconds += time.monotonic() - before
        assert not failures, 'cycle %d (seed %d):\n%s' % (cycle, seed, '\n'.join(failures[:20]))
        assert os.listdir(quarantine_dir) == [], 'cycle %d: blobs quarantined' % cycle
        assert quarantined_rows(cloud) == 0, 'cycle %d: small blobs quarantined' % cycle
    elapsed = time.monotonic() - started
    objects = sum(1 for states in ledger.possible.values() if states != {None})
    assert ledger.acked['put'] > CYCLES, ledger.acked
    assert ledger.acked['delete'] > 0 and ledger.acked['post'] > 0, ledger.acked
    assert ledger.acked['copy'] > 0 and ledger.acked['copy_from'] > 0, ledger.acked
    assert ledger.acked['list'] > 0, ledger.acked
    print('crash test: seed %d, %d cycles in %.1fs (restarts %.1fs, verification %.1fs), '
          'acknowledged %s, %d cut off by kills, %d reads verified, %d objects at the end'
          % (seed, CYCLES, elapsed, restart_seconds, verify_seconds, ledger.acked,
             ledger.unanswered, ledger.reads, objects))
    assert ledger.unanswered >= CYCLES // 2, 'the kills rarely hit a request in flight'
    # Last, so that a missing feature does not hide a durability failure:
    # the SLO part of the load must have been exercised.
    assert ledger.acked['slo'] > 0, (
        'no SLO manifest PUT was acknowledged (seed %d): %s' % (seed, ledger.acked))
    figures = {'cycles': CYCLES, 'seconds': round(elapsed, 1),
               'restart_seconds': round(restart_seconds, 1),
               'verify_seconds': round(verify_seconds, 1),
               'unanswered': ledger.unanswered, 'objects_verified': ledger.reads,
               'objects_at_end': objects}
    figures.update(('acked_' + kind, count) for kind, count in ledger.acked.items())
    reliability.record(
        'test_object_crash.py::test_kill_9_under_load_loses_nothing_acknowledged',
        load='%d threads: PUT (0 B-64 KiB and ~1 MiB), POST, DELETE, SLO, COPY, '
             'PUT + X-Copy-From, container listings; %.1f-%.1f s per cycle'
             % ((THREADS,) + load_seconds),
        faults='kill -9 at a random moment in each of %d cycles, restart on the same data'
               % CYCLES,
        bad_inputs='none',
        result='after every restart each acknowledged object read back with its MD5 and '
               'each listing row matched a GET; counters matched the rows; no temp or '
               'quarantined blobs; listings during the load showed only versions sent',
        lost=0, figures=figures)
