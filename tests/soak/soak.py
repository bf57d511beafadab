"""Soak: mixed load with verification against one onestack process.

Run by scripts/soak.sh, which starts the server and passes its URLs, admin
password and PID. For the given number of minutes several threads each work
on their own names (so every answer can be predicted exactly):
  PUT (0 B to 4 MiB), GET (body MD5 and metadata checked), POST, DELETE,
  COPY and PUT + X-Copy-From, SLO manifests (replaced with their segments
  through multipart-manifest=delete), listings of the thread's names (rows
  must match the ledger exactly), and Keystone token validation, issue and
  revocation.
Every few seconds the server's RSS and open file descriptors are sampled.
At the end every object is read back and compared with the ledger, and the
listing and the container's counters with it. The run fails on any
unexpected answer, any object that does not match, or RSS or descriptors
that grew between the first and the last fifth of the run beyond:
  RSS: last fifth's median <= first fifth's peak * 1.10 + 16 MiB
  fds: last fifth's maximum <= first fifth's maximum + 8
(the first fifth's peak, not its median: the read cache, SQLite's page
cache and the allocator's arenas fill during the first half-minute, after
which a healthy server stays flat; a leak keeps growing.)
A summary is printed and one row is recorded with reliability.record()
(written when ONESTACK_RELIABILITY_LOG is set).
"""

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
import uuid

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'api'))
import reliability  # noqa: E402

THREADS = 4
NAMES = 8            # plain objects per thread
SLO_NAMES = 2        # manifests per thread
KIB = 1024
MIB = 1024 * KIB
SAMPLE_SECONDS = 3
RSS_FACTOR = 1.10
RSS_SLACK_MIB = 16
FD_SLACK = 8


def md5(data):
    return hashlib.md5(data).hexdigest()


class Failures:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def add(self, text):
        with self.lock:
            self.items.append(text)


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = {}
        self.latency = {}

    def add(self, kind, seconds):
        with self.lock:
            self.ops[kind] = self.ops.get(kind, 0) + 1
            self.latency.setdefault(kind, []).append(seconds)


class Soak:
    def __init__(self, args):
        self.args = args
        self.failures = Failures()
        self.counters = Counters()
        self.stop = threading.Event()
        self.http = requests.Session()
        self.token, body = self.issue_token()
        self.account = '%s/v1/AUTH_%s' % (args.object_url, body['project']['id'])
        self.container = 'soak-' + uuid.uuid4().hex[:8]
        self.cpath = '%s/%s' % (self.account, self.container)
        # name -> (md5, size, gen) or None, for every name of every thread
        self.ledger = {}
        self.ledger_lock = threading.Lock()

    # -- identity ------------------------------------------------------------

    def issue_token(self, session=None):
        body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'admin', 'password': self.args.password, 'domain': {'id': 'default'}}}},
            'scope': {'project': {'name': 'admin', 'domain': {'id': 'default'}}}}}
        r = (session or self.http).post(self.args.auth_url + '/auth/tokens', json=body,
                                        timeout=30)
        if r.status_code != 201:
            raise RuntimeError('token issue answered %d: %s' % (r.status_code, r.text[:200]))
        return r.headers['X-Subject-Token'], r.json()['token']

    # -- the load ------------------------------------------------------------

    def run_thread(self, index, seed):
        rng = random.Random(seed)
        session = requests.Session()
        session.headers['X-Auth-Token'] = self.token
        prefix = 's%d-' % index
        names = ['%sobj%d' % (prefix, i) for i in range(NAMES)]
        slo_names = ['%sslo%d' % (prefix, i) for i in range(SLO_NAMES)]
        state = dict.fromkeys(names + slo_names)   # name -> (md5, size, gen) | None
        segments = {}                              # slo name -> [segment names]

        def url(name):
            return '%s/%s' % (self.cpath, urllib.parse.quote(name))

        def expect(kind, r, *codes):
            if r.status_code not in codes:
                self.failures.add('%s answered %d (expected %s): %s' % (
                    kind, r.status_code, codes, r.text[:200]))
                return False
            return True

        def timed(kind, method, target, **kwargs):
            start = time.monotonic()
            r = session.request(method, target, timeout=120, **kwargs)
            self.counters.add(kind, time.monotonic() - start)
            return r

        def check_get(name):
            r = timed('get', 'GET', url(name))
            want = state[name]
            if want is None:
                expect('GET %s' % name, r, 404)
                return
            if not expect('GET %s' % name, r, 200):
                return
            got = (md5(r.content), len(r.content), r.headers.get('X-Object-Meta-Gen'))
            if got != want:
                self.failures.add('GET %s: read %s, expected %s' % (name, got, want))

        try:
            while not self.stop.is_set():
                pick = rng.random()
                name = rng.choice(names)
                gen = uuid.uuid4().hex[:10]
                if pick < 0.22:
                    size = rng.choice([0, 1, 100, 4 * KIB, rng.randrange(1, 256 * KIB),
                                       rng.randrange(1, 256 * KIB)])
                    if rng.random() < 0.05:
                        size = rng.randrange(MIB, 4 * MIB)
                    data = rng.randbytes(size)
                    r = timed('put', 'PUT', url(name), data=data,
                              headers={'X-Object-Meta-Gen': gen})
                    if expect('PUT', r, 201):
                        if r.headers.get('Etag') != md5(data):
                            self.failures.add('PUT %s: ETag %s for MD5 %s' % (
                                name, r.headers.get('Etag'), md5(data)))
                        state[name] = (md5(data), size, gen)
                elif pick < 0.47:
                    check_get(rng.choice(names + slo_names))
                elif pick < 0.55:
                    r = timed('post', 'POST', url(name), headers={'X-Object-Meta-Gen': gen})
                    if state[name] is None:
                        expect('POST absent', r, 404)
                    elif expect('POST', r, 202):
                        state[name] = state[name][:2] + (gen,)
                elif pick < 0.62:
                    r = timed('delete', 'DELETE', url(name))
                    if expect('DELETE', r, 404 if state[name] is None else 204):
                        state[name] = None
                elif pick < 0.72:
                    source = rng.choice(names + slo_names)
                    if rng.random() < 0.5:
                        r = timed('copy', 'COPY', url(source), headers={
                            'Destination': '%s/%s' % (self.container, urllib.parse.quote(name)),
                            'X-Object-Meta-Gen': gen})
                    else:
                        r = timed('copy', 'PUT', url(name), data=b'', headers={
                            'X-Copy-From': '%s/%s' % (self.container,
                                                      urllib.parse.quote(source)),
                            'X-Object-Meta-Gen': gen})
                    if state[source] is None:
                        expect('copy of absent', r, 404)
                    elif expect('copy', r, 201):
                        state[name] = state[source][:2] + (gen,)
                elif pick < 0.80:
                    r = timed('list', 'GET', self.cpath,
                              params={'format': 'json', 'prefix': prefix})
                    if expect('listing', r, 200, 204):
                        rows = r.json() if r.status_code == 200 else []
                        got = {row['name']: row['bytes'] for row in rows}
                        want = {n: s[1] for n, s in state.items() if s is not None}
                        # Segments live under seg/, outside the prefix.
                        if got != want:
                            self.failures.add('listing %s: %s, expected %s' % (
                                prefix, sorted(got.items()), sorted(want.items())))
                        hashes = {row['name']: row['hash'] for row in rows}
                        for n, s in state.items():
                            if s is not None and n in names and hashes.get(n) != s[0]:
                                self.failures.add('listing %s: hash %s, expected %s' % (
                                    n, hashes.get(n), s[0]))
                elif pick < 0.90:
                    self.tokens(session, rng)
                else:
                    self.replace_slo(rng.choice(slo_names), state, segments, timed,
                                     expect, url, gen, rng)
                with self.ledger_lock:
                    self.ledger.update(state)
        except Exception as e:  # noqa: BLE001 - reported as a failure
            self.failures.add('thread %d: %r' % (index, e))
        finally:
            with self.ledger_lock:
                self.ledger.update(state)
            session.close()

    def replace_slo(self, name, state, segments, timed, expect, url, gen, rng):
        if state[name] is not None:
            r = timed('slo_delete', 'DELETE', url(name),
                      params={'multipart-manifest': 'delete'})
            if not expect('SLO delete', r, 200):
                return
            state[name] = None
            for seg in segments.pop(name, []):
                r = timed('get', 'HEAD', url(seg))
                expect('HEAD deleted segment', r, 404)
        manifest, whole, segs = [], b'', []
        for i in range(rng.randrange(2, 5)):
            seg = 'seg/%s/%s-%d' % (name, gen, i)
            data = rng.randbytes(rng.randrange(1, 128 * KIB))
            r = timed('put', 'PUT', url(seg), data=data)
            if not expect('segment PUT', r, 201):
                return
            segs.append(seg)
            manifest.append({'path': '/%s/%s' % (self.container, seg), 'etag': md5(data),
                             'size_bytes': len(data)})
            whole += data
        segments[name] = segs
        r = timed('slo', 'PUT', url(name), params={'multipart-manifest': 'put'},
                  data=json.dumps(manifest).encode(), headers={'X-Object-Meta-Gen': gen})
        if expect('SLO PUT', r, 201):
            state[name] = (md5(whole), len(whole), gen)

    def tokens(self, session, rng):
        """Validates the long-lived token; now and then issues, validates,
        revokes and re-checks a fresh one."""
        admin = {'X-Auth-Token': self.token}
        start = time.monotonic()
        r = session.get(self.args.auth_url + '/auth/tokens', timeout=30,
                        headers=dict(admin, **{'X-Subject-Token': self.token}))
        self.counters.add('token_validate', time.monotonic() - start)
        if r.status_code != 200:
            self.failures.add('token validation answered %d' % r.status_code)
        if rng.random() < 0.2:
            start = time.monotonic()
            fresh, _ = self.issue_token(session)
            self.counters.add('token_issue', time.monotonic() - start)
            subject = dict(admin, **{'X-Subject-Token': fresh})
            checks = [('GET', 200), ('DELETE', 204), ('GET', 404)]
            for method, want in checks:
                r = session.request(method, self.args.auth_url + '/auth/tokens',
                                    headers=subject, timeout=30)
                if r.status_code != want:
                    self.failures.add('token %s answered %d, expected %d' % (
                        method, r.status_code, want))
            # The revoked token no longer opens the object store.
            r = session.head(self.account, headers={'X-Auth-Token': fresh}, timeout=30)
            if r.status_code != 401:
                self.failures.add('revoked token: account HEAD answered %d' % r.status_code)

    # -- sampling --------------------------------------------------------------

    def sample(self, samples):
        while not self.stop.is_set():
            samples.append((time.monotonic(), rss_mib(self.args.pid), open_fds(self.args.pid)))
            self.stop.wait(SAMPLE_SECONDS)

    # -- the end -------------------------------------------------------------

    def verify_all(self):
        """Every name read back and the listing compared with the ledger."""
        session = requests.Session()
        session.headers['X-Auth-Token'] = self.token
        rows, marker = [], ''
        while True:
            r = session.get(self.cpath, params={'format': 'json', 'marker': marker},
                            timeout=60)
            if r.status_code not in (200, 204):
                self.failures.add('final listing answered %d' % r.status_code)
                return 0
            page = r.json() if r.status_code == 200 else []
            if not page:
                break
            rows.extend(page)
            marker = page[-1]['name']
        listed = {row['name']: row for row in rows if not row['name'].startswith('seg/')}
        verified = 0
        for name, want in sorted(self.ledger.items()):
            r = session.get('%s/%s' % (self.cpath, urllib.parse.quote(name)), timeout=120)
            if want is None:
                if r.status_code != 404 or name in listed:
                    self.failures.add('%s should be absent: GET %d, listed %s' % (
                        name, r.status_code, name in listed))
                continue
            got = (md5(r.content), len(r.content), r.headers.get('X-Object-Meta-Gen'))
            if r.status_code != 200 or got != want:
                self.failures.add('%s: GET %d %s, expected %s' % (
                    name, r.status_code, got, want))
                continue
            row = listed.get(name)
            if row is None or row['bytes'] != want[1]:
                self.failures.add('%s: listed as %s' % (name, row))
                continue
            verified += 1
        extra = set(listed) - set(self.ledger)
        if extra:
            self.failures.add('listed but never written: %s' % sorted(extra)[:5])
        head = session.head(self.cpath, timeout=30)
        if int(head.headers.get('X-Container-Object-Count', -1)) != len(rows):
            self.failures.add('object count %s but %d rows' % (
                head.headers.get('X-Container-Object-Count'), len(rows)))
        if int(head.headers.get('X-Container-Bytes-Used', -1)) != sum(r['bytes'] for r in rows):
            self.failures.add('bytes used %s but rows add up to %d' % (
                head.headers.get('X-Container-Bytes-Used'), sum(r['bytes'] for r in rows)))
        session.close()
        return verified

    def run(self):
        r = self.http.put(self.cpath, headers={'X-Auth-Token': self.token}, timeout=30)
        if r.status_code != 201:
            raise RuntimeError('container PUT answered %d' % r.status_code)
        samples = []
        sampler = threading.Thread(target=self.sample, args=(samples,))
        seeds = random.Random(self.args.seed)
        workers = [threading.Thread(target=self.run_thread, args=(i, seeds.randrange(1 << 30)))
                   for i in range(THREADS)]
        started = time.monotonic()
        sampler.start()
        for t in workers:
            t.start()
        deadline = started + self.args.minutes * 60
        while time.monotonic() < deadline and not self.failures.items:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        self.stop.set()
        for t in workers + [sampler]:
            t.join()
        elapsed = time.monotonic() - started
        samples.append((time.monotonic(), rss_mib(self.args.pid), open_fds(self.args.pid)))
        verified = self.verify_all()
        return self.report(samples, elapsed, verified)

    def report(self, samples, elapsed, verified):
        fifth = max(1, len(samples) // 5)
        first, last = samples[:fifth], samples[-fifth:]
        rss_first = max(s[1] for s in first)
        rss_last = statistics.median(s[1] for s in last)
        fds_first = max(s[2] for s in first)
        fds_last = max(s[2] for s in last)
        rss_bound = rss_first * RSS_FACTOR + RSS_SLACK_MIB
        fds_bound = fds_first + FD_SLACK
        problems = list(self.failures.items)
        if len(samples) < 10:
            problems.append('only %d samples: run longer' % len(samples))
        if rss_last > rss_bound:
            problems.append('RSS grew: %.1f MiB -> %.1f MiB (bound %.1f)' % (
                rss_first, rss_last, rss_bound))
        if fds_last > fds_bound:
            problems.append('open fds grew: %d -> %d (bound %d)' % (fds_first, fds_last,
                                                                      fds_bound))
        ops = dict(sorted(self.counters.ops.items()))
        total = sum(ops.values())
        p99 = {kind: round(1000 * quantile(v, 0.99), 1)
               for kind, v in sorted(self.counters.latency.items())}
        print('soak: %.0f s, %d requests (%.0f/s), seed %d' % (
            elapsed, total, total / elapsed, self.args.seed))
        print('  ops: %s' % ops)
        print('  p99 ms: %s' % p99)
        print('  RSS MiB: first fifth peak %.1f, last fifth median %.1f (bound %.1f), peak %.1f' % (
            rss_first, rss_last, rss_bound, max(s[1] for s in samples)))
        print('  open fds: first fifth %d, last fifth %d (bound %d)' % (
            fds_first, fds_last, fds_bound))
        step = max(1, len(samples) // 10)
        print('  RSS MiB / fds over the run: %s' % ' '.join(
            '%.0f/%d' % (s[1], s[2]) for s in samples[::step]))
        print('  objects verified at the end: %d of %d names' % (verified, len(self.ledger)))
        for p in problems[:20]:
            print('  FAIL: %s' % p)
        if problems:
            return 1
        figures = {'seconds': round(elapsed), 'requests': total,
                   'requests_per_s': round(total / elapsed, 1),
                   'rss_first_mib': round(rss_first, 1), 'rss_last_mib': round(rss_last, 1),
                   'fds_first': fds_first, 'fds_last': fds_last,
                   'objects_verified': verified}
        figures.update(('ops_' + kind, n) for kind, n in ops.items())
        figures.update(('p99_ms_' + kind, v) for kind, v in p99.items())
        reliability.record(
            'scripts/soak.sh',
            load='%d threads for %.0f min: PUT (0 B-4 MiB), GET, POST, DELETE, COPY, '
                 'PUT + X-Copy-From, SLO replace, listings, token validate/issue/revoke'
                 % (THREADS, self.args.minutes),
            faults='none (duration)',
            bad_inputs='none',
            result='every answer as predicted; every object read back with its MD5 at the '
                   'end; RSS and open fds flat (last fifth within %.2fx + %d MiB of the first '
                   "fifth's peak, fds within +%d)" % (RSS_FACTOR, RSS_SLACK_MIB, FD_SLACK),
            lost=0, figures=figures)
        print('soak: passed')
        return 0


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def rss_mib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError('no VmRSS for %d' % pid)


def open_fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--minutes', type=float, default=10)
    parser.add_argument('--auth-url', required=True, help='http://host:port/v3')
    parser.add_argument('--object-url', required=True, help='http://host:port')
    parser.add_argument('--password', required=True)
    parser.add_argument('--pid', type=int, required=True, help='the server to sample')
    parser.add_argument('--seed', type=int, default=random.randrange(1 << 30))
    sys.exit(Soak(parser.parse_args()).run())


if __name__ == '__main__':
    main()
