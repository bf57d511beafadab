"""Durability across kill -9.

Several threads write to the object store (small and ~1 MiB PUTs, POSTs,
DELETEs, SLO manifests over fresh segments) while the test records what was
acknowledged. At a random moment the server is killed with SIGKILL and
started again on the same data directory. Then:
  * every acknowledged write is there, unless a later acknowledged write
    changed it; a name whose last request was still in flight may hold the
    old or the new state, but whole: its body's MD5 equals its ETag and one
    of the versions sent;
  * the listing shows nothing half-written: each row reads back with the
    listed size and hash, and the container's counters match the rows;
  * the blob store's temp directory is empty and nothing was quarantined
    (no file, no small object's row).
The cycle repeats; the state seen after one restart is the baseline of the
next.
"""

import hashlib
import json
import os
import random
import sqlite3
import threading
import time
import urllib.parse

import requests

from conftest import unique

CYCLES = 14
THREADS = 6
NAMES_PER_THREAD = 8
MIB = 1024 * 1024


def md5(data):
    return hashlib.md5(data).hexdigest()


class Op:
    """One request and what came of it (status None: no answer)."""

    def __init__(self, kind, state=None):
        self.kind = kind        # put, post, delete, slo
        self.state = state      # what a put/slo/post would leave: (md5, gen, slo)
        self.status = None


class Ledger:
    """Per name: the set of states it may be in given the answers seen."""

    def __init__(self):
        self.possible = {}   # name -> set of states (None: absent)
        self.history = {}    # name -> [Op] of the current cycle
        self.acked = {'put': 0, 'post': 0, 'delete': 0, 'slo': 0}
        self.unanswered = 0  # requests the kill cut off
        self.lock = threading.Lock()

    def begin(self, name, op):
        with self.lock:
            self.possible.setdefault(name, {None})
            self.history.setdefault(name, []).append(op)

    def end(self, name, op, status):
        """Folds a finished (or unanswered: status None) request in."""
        with self.lock:
            op.status = status
            before = self.possible[name]
            if op.kind in ('put', 'slo'):
                after = {op.state}
            elif op.kind == 'delete':
                after = {None}
            else:  # post: new gen on whatever content is there
                after = {(s[0], op.state[1], s[2]) for s in before if s is not None}
            if status is not None and 200 <= status < 300:
                self.acked[op.kind] += 1
                if op.kind == 'post' and not after:
                    raise AssertionError('POST %s acknowledged on an absent object' % name)
                self.possible[name] = after
            elif status is None or status >= 500:
                # No answer (or a server error): done or not, but whole.
                self.possible[name] = before | after
                self.unanswered += status is None
            # A 4xx answer changed nothing.

    def settle(self, name, observed):
        with self.lock:
            self.possible[name] = {observed}
            self.history[name] = []


def worker(index, base, token, container, ledger, stop, seed, errors):
    rng = random.Random(seed)
    session = requests.Session()
    session.headers['X-Auth-Token'] = token
    names = ['t%d-obj%d' % (index, i) for i in range(NAMES_PER_THREAD)]
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

    try:
        while not stop.is_set():
            name = rng.choice(names)
            gen = unique('g')
            pick = rng.random()
            if pick < 0.40:
                data = rng.randbytes(rng.choice([0, 1, 100, 4096, rng.randrange(1, 64 * 1024)]))
                status = send(name, Op('put', (md5(data), gen, False)), 'PUT', data=data,
                              headers={'X-Object-Meta-Gen': gen})
            elif pick < 0.55:
                data = rng.randbytes(MIB + rng.randrange(-4096, 4096))
                status = send(name, Op('put', (md5(data), gen, False)), 'PUT', data=data,
                              headers={'X-Object-Meta-Gen': gen})
            elif pick < 0.70:
                status = send(name, Op('post', (None, gen, None)), 'POST',
                              headers={'X-Object-Meta-Gen': gen})
            elif pick < 0.85:
                status = send(name, Op('delete'), 'DELETE')
            else:
                # An SLO: fresh segments (write-once names), then the manifest.
                segments, whole = [], b''
                status = 201
                for _ in range(rng.randrange(2, 4)):
                    seg_counter += 1
                    seg = 'seg/t%d/%s-%d' % (index, unique('s'), seg_counter)
                    data = rng.randbytes(rng.randrange(1, 64 * 1024))
                    status = send(seg, Op('put', (md5(data), gen, False)), 'PUT', data=data,
                                  headers={'X-Object-Meta-Gen': gen})
                    if status != 201:
                        break
                    segments.append({'path': '/%s/%s' % (container, seg), 'etag': md5(data),
                                     'size_bytes': len(data)})
                    whole += data
                if status == 201:
                    status = send(name, Op('slo', (md5(whole), gen, True)), 'PUT',
                                  params={'multipart-manifest': 'put'},
                                  data=json.dumps(segments).encode(),
                                  headers={'X-Object-Meta-Gen': gen})
            if status is None:
                return  # the server is gone
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append('worker %d: %r' % (index, e))
    finally:
        session.close()


def observe(cloud, token, cpath, name):
    """The state `name` is in now, checked to be whole."""
    r = cloud.swift('GET', '%s/%s' % (cpath, urllib.parse.quote(name)), token=token)
    if r.status_code == 404:
        return None, r
    assert r.status_code == 200, (name, r.status_code, r.text[:200])
    body_md5 = md5(r.content)
    assert int(r.headers['Content-Length']) == len(r.content)
    slo = r.headers.get('X-Static-Large-Object', '').lower() == 'true'
    if not slo:
        assert r.headers['Etag'] == body_md5, (
            '%s: body MD5 %s but ETag %s' % (name, body_md5, r.headers['Etag']))
    return (body_md5, r.headers.get('X-Object-Meta-Gen'), slo), r


def verify(cloud, token, container, ledger):
    cpath = '%s/%s' % (cloud.account_path(), container)
    failures = []
    rows = []
    marker = ''
    while True:
        r = cloud.swift('GET', cpath, token=token,
                        params={'format': 'json', 'marker': marker, 'limit': '1000'})
        assert r.status_code in (200, 204), (r.status_code, r.text)
        page = r.json() if r.status_code == 200 else []
        if not page:
            break
        rows.extend(page)
        marker = page[-1]['name']
    listed = {row['name']: row for row in rows}
    assert len(listed) == len(rows), 'a name listed twice'
    head = cloud.swift('HEAD', cpath, token=token)
    assert int(head.headers['X-Container-Object-Count']) == len(rows), (
        'object count %s but %d rows' % (head.headers['X-Container-Object-Count'], len(rows)))
    assert int(head.headers['X-Container-Bytes-Used']) == sum(row['bytes'] for row in rows), (
        'bytes used %s but rows add up to %d' % (head.headers['X-Container-Bytes-Used'],
                                                 sum(row['bytes'] for row in rows)))
    unknown = set(listed) - set(ledger.possible)
    if unknown:
        failures.append('listed but never written: %s' % sorted(unknown)[:5])
    for name in sorted(ledger.possible):
        observed, resp = observe(cloud, token, cpath, name)
        allowed = ledger.possible[name]
        if observed not in allowed:
            failures.append('%s: found %s, expected one of %s; requests this cycle: %s' % (
                name, observed, allowed,
                [(op.kind, op.state, op.status) for op in ledger.history.get(name, [])]))
        row = listed.get(name)
        if observed is None and row is not None:
            failures.append('%s: listed but not readable' % name)
        if observed is not None:
            if row is None:
                failures.append('%s: readable but not listed' % name)
            elif not observed[2]:
                if row['hash'] != observed[0] or row['bytes'] != len(resp.content):
                    failures.append('%s: listed as %s/%d but reads as %s/%d' % (
                        name, row['hash'], row['bytes'], observed[0], len(resp.content)))
        ledger.settle(name, observed)
    return failures


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
    seed = int(os.environ.get('ONESTACK_CRASH_SEED', random.randrange(1 << 30)))
    rng = random.Random(seed)
    tmp_dir = os.path.join(cloud.data_dir, 'objects', 'tmp')
    quarantine_dir = os.path.join(cloud.data_dir, 'objects', 'quarantine')
    started = time.monotonic()
    for cycle in range(CYCLES):
        stop = threading.Event()
        errors = []
        threads = [threading.Thread(target=worker, args=(
            i, base, token, container, ledger, stop, rng.randrange(1 << 30), errors))
            for i in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 3.0))
        cloud.kill()  # SIGKILL by PID
        stop.set()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive(), 'a worker hung after the kill'
        assert not errors, errors
        cloud.start()
        leftovers = os.listdir(tmp_dir)
        assert leftovers == [], 'cycle %d (seed %d): temp blobs left: %s' % (
            cycle, seed, leftovers[:5])
        failures = verify(cloud, token, container, ledger)
        assert not failures, 'cycle %d (seed %d):\n%s' % (cycle, seed, '\n'.join(failures[:20]))
        assert os.listdir(quarantine_dir) == [], 'cycle %d: blobs quarantined' % cycle
        assert quarantined_rows(cloud) == 0, 'cycle %d: small blobs quarantined' % cycle
    elapsed = time.monotonic() - started
    assert ledger.acked['put'] > CYCLES, ledger.acked
    assert ledger.acked['delete'] > 0 and ledger.acked['post'] > 0, ledger.acked
    print('crash test: seed %d, %d cycles in %.1fs, acknowledged %s, %d cut off by kills'
          % (seed, CYCLES, elapsed, ledger.acked, ledger.unanswered))
    assert ledger.unanswered >= CYCLES // 2, 'the kills rarely hit a request in flight'
    # Last, so that a missing feature does not hide a durability failure:
    # the SLO part of the load must have been exercised.
    assert ledger.acked['slo'] > 0, (
        'no SLO manifest PUT was acknowledged (seed %d): %s' % (seed, ledger.acked))
