#!/usr/bin/env python3
"""Runs request scenarios against Swift and onestack and compares the answers.

A scenario is data (tests/differential/scenarios/*.yaml, README.md there
describes the format): a list of requests run in order in an account of its
own, first against Swift, then against onestack. Every compared step's
status, headers and body must be the same on both, once the values that
legitimately differ are masked: timestamps (replaced by their order of first
appearance in the scenario, so "the same timestamp as before" and "a newer
one" still compare), HTTP dates, transaction ids, the server's host:port.

A difference fails the run unless allowed.yaml lists it with its reason; an
entry there that no difference matches fails the run too, so the list only
shrinks as behaviour converges.

The closing line reads "differential: N passed, M failed", counting
scenarios.
"""

import argparse
import base64
import fnmatch
import hashlib
import hmac
import http.client
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import urllib.parse
import uuid

import requests
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# Headers whose values say nothing about behaviour; their presence is compared.
# X-Manifest-Etag is the MD5 of an SLO manifest, which holds its segments'
# Last-Modified to the second: two uploads a moment apart can make it differ
# between servers (the manifest itself is compared, masked, by
# ?multipart-manifest=get steps).
OPAQUE_HEADERS = {'x-trans-id', 'x-openstack-request-id', 'x-manifest-etag'}
# Headers not compared at all: every server sends a Date; neither name nor
# value of Server is behaviour a client relies on.
IGNORED_HEADERS = {'date'}
# Comma-separated lists whose order carries no meaning.
UNORDERED_HEADERS = {'allow', 'access-control-allow-methods', 'access-control-allow-headers',
                     'access-control-expose-headers'}
BODY_LIMIT = 4 << 20

_TS = re.compile(r'(?<![\d.])\d{10}\.\d{5}(?:_[0-9a-f]{16})?(?![\d])')
_ISO = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?')
_HTTP_DATE = re.compile(
    r'(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)'
    r' \d{4} \d\d:\d\d:\d\d GMT')
# StaticWeb's listing pages show times as "2026-12-07 11:31:46".
_SPACED_TIME = re.compile(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?')
# multipart/byteranges boundaries are random per response.
_BOUNDARY = re.compile(r'(boundary=|--)([0-9a-fA-F]{16,40})\b')
_TXID = re.compile(r'\btx[0-9a-f]{21}-[0-9a-f]{10}\b|\breq-[0-9a-f-]{36}\b')
_VAR = re.compile(r'\$\{(\w+)(?:([+-])(\d+))?\}')


# ---------------------------------------------------------------- identity

class Identity:
    """Admin access to onestack's Keystone: users, projects, grants, tokens."""

    def __init__(self, url, admin_password):
        self.url = url.rstrip('/')
        self.admin_password = admin_password
        self.admin_token = self.token('admin', admin_password, project_name='admin')
        roles = self._call('GET', '/roles')['roles']
        self.roles = {r['name']: r['id'] for r in roles}
        self.users = {}
        self.passwords = {}

    def _call(self, method, path, body=None, token=None, expect=(200, 201, 204)):
        r = requests.request(method, self.url + path, json=body, timeout=30,
                             headers={'X-Auth-Token': token or self.admin_token})
        if r.status_code not in expect:
            raise RuntimeError('identity %s %s -> %d %s' % (method, path, r.status_code,
                                                          r.text[:300]))
        return r.json() if r.content else {}

    def token(self, user, password, project_id=None, project_name=None):
        scope = {'project': {'id': project_id}} if project_id else {
            'project': {'name': project_name, 'domain': {'id': 'default'}}}
        body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': user, 'domain': {'id': 'default'}, 'password': password}}},
            'scope': scope}}
        r = requests.post(self.url + '/auth/tokens', json=body, timeout=30)
        if r.status_code != 201:
            raise RuntimeError('token for %s -> %d %s' % (user, r.status_code, r.text[:300]))
        return r.headers['X-Subject-Token']

    def user(self, name):
        """A user of the default domain (made once per run); returns its id."""
        if name not in self.users:
            password = uuid.uuid4().hex
            u = self._call('POST', '/users', {'user': {'name': name, 'password': password,
                                                        'domain_id': 'default'}})['user']
            self.users[name] = u['id']
            self.passwords[name] = password
        return self.users[name]

    def project(self, name):
        return self._call('POST', '/projects', {'project': {
            'name': name, 'domain_id': 'default'}})['project']['id']

    def grant(self, project_id, user_id, role):
        self._call('PUT', '/projects/%s/users/%s/roles/%s' % (
            project_id, user_id, self.roles[role]))


class Principals:
    """The accounts and tokens of one scenario, made on first use.

    owner: member of the scenario's project (its account).
    other: member of a second project (the other account), no role on the first.
    reader: the reader role on the scenario's project.
    admin: the cloud admin, scoped to the scenario's project.
    anon: no token.
    """

    def __init__(self, identity, run_id, index):
        self.identity = identity
        self.run_id = run_id
        self.prefix = 'diff-%s-%03d' % (run_id, index)
        self.values = {}
        self.tokens = {}

    def _project(self, key):
        if key not in self.values:
            self.values[key] = self.identity.project('%s-%s' % (self.prefix, key))
        return self.values[key]

    def token(self, who):
        if who == 'anon':
            return None
        if who in self.tokens:
            return self.tokens[who]
        ident = self.identity
        if who == 'owner':
            pid, user, role = self._project('p'), 'diff-owner-' + self.run_id, 'member'
        elif who == 'other':
            pid, user, role = self._project('q'), 'diff-other-' + self.run_id, 'member'
        elif who == 'reader':
            pid, user, role = self._project('p'), 'diff-reader-' + self.run_id, 'reader'
        elif who == 'admin':
            pid, user, role = self._project('p'), 'admin', 'admin'
        else:
            raise ValueError('unknown principal %r' % who)
        if user == 'admin':
            password = ident.admin_password
            uid = None
        else:
            uid = ident.user(user)
            password = ident.passwords[user]
        ident.grant(pid, uid or self._admin_id(), role)
        self.tokens[who] = ident.token(user, password, project_id=pid)
        return self.tokens[who]

    def _admin_id(self):
        users = self.identity._call('GET', '/users?name=admin')['users']
        return users[0]['id']

    def variables(self):
        ident = self.identity
        v = {
            'account': 'AUTH_' + self._project('p'),
            'project_id': self._project('p'),
            'project_name': '%s-p' % self.prefix,
            'user_id': ident.user('diff-owner-' + self.run_id),
            'user_name': 'diff-owner-' + self.run_id,
        }
        return v

    def other_variables(self):
        ident = self.identity
        return {
            'other_account': 'AUTH_' + self._project('q'),
            'other_project_id': self._project('q'),
            'other_project_name': '%s-q' % self.prefix,
            'other_user_id': ident.user('diff-other-' + self.run_id),
            'other_user_name': 'diff-other-' + self.run_id,
        }


# ---------------------------------------------------------------- requests

def substitute(text, variables):
    def one(m):
        name, sign, num = m.group(1), m.group(2), m.group(3)
        if name not in variables:
            raise KeyError('unknown variable ${%s}' % name)
        value = variables[name]
        if sign:
            value = int(value) + (int(num) if sign == '+' else -int(num))
        return str(value)
    return _VAR.sub(one, text)


def subst_any(value, variables):
    if isinstance(value, str):
        return substitute(value, variables)
    if isinstance(value, list):
        return [subst_any(v, variables) for v in value]
    if isinstance(value, dict):
        return {subst_any(k, variables): subst_any(v, variables) for k, v in value.items()}
    return value


def quote_path(path):
    """Percent-encodes what a client would (spaces, non-ASCII); keeps escapes."""
    return urllib.parse.quote(path, safe="/%:@!$&'()*+,;=~-._")


def split_request_line(line):
    method, _, target = line.strip().partition(' ')
    return method, target.strip()


def resolve_target(target, variables):
    """Turns a scenario path into (raw path as sent, decoded path, query)."""
    target = substitute(target, variables)
    if target.startswith('^'):
        full = target[1:]
    else:
        full = '/v1/' + variables['account'] + target
    path, sep, query = full.partition('?')
    return quote_path(path) + sep + query, urllib.parse.unquote(path), query


def pattern_bytes(size, seed='x'):
    chunk = hashlib.sha256(seed.encode()).hexdigest().encode() * 64
    out = bytearray()
    while len(out) < size:
        out += chunk
    return bytes(out[:size])


def make_tar(spec):
    buf = io.BytesIO()
    mode = {'gz': 'w:gz', 'bz2': 'w:bz2', None: 'w'}[spec.get('compress')]
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        for name, content in spec['files'].items():
            if name.endswith('/') and content is None:
                info = tarfile.TarInfo(name.rstrip('/'))
                info.type = tarfile.DIRTYPE
                info.mtime = 1700000000
                tar.addfile(info)
                continue
            data = content.encode() if isinstance(content, str) else b''
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sign(key, message, digest='sha1', fmt='hex'):
    mac = hmac.new(key.encode(), message.encode(), getattr(hashlib, digest))
    if fmt == 'hex':
        return mac.hexdigest()
    return '%s:%s' % (digest, base64.urlsafe_b64encode(mac.digest()).decode())


def tempurl_query(spec, path, variables):
    expires = spec.get('expires_at') or int(variables['now']) + int(spec.get('expires', 600))
    expires = substitute(str(expires), variables)
    method = spec.get('method', 'GET')
    signed = spec.get('path', path)
    if spec.get('prefix') is not None:
        signed = 'prefix:' + signed
    message = '%s\n%s\n%s' % (method, expires, signed)
    if spec.get('ip'):
        message = 'ip=%s\n%s' % (spec['ip'], message)
    sig = sign(spec['key'], message, spec.get('digest', 'sha1'), spec.get('format', 'hex'))
    q = {'temp_url_sig': sig, 'temp_url_expires': expires}
    if spec.get('prefix') is not None:
        q['temp_url_prefix'] = spec['prefix']
    if spec.get('ip'):
        q['temp_url_ip_range'] = spec['ip']
    extra = spec.get('query', '')
    return urllib.parse.urlencode(q) + ('&' + extra if extra else '')


def formpost_body(spec, path, variables):
    """A signed multipart/form-data body for Swift's FormPost."""
    expires = int(variables['now']) + int(spec.get('expires', 600))
    redirect = spec.get('redirect', '')
    max_size = str(spec.get('max_file_size', 1024))
    max_count = str(spec.get('max_file_count', 5))
    message = '%s\n%s\n%s\n%s\n%s' % (spec.get('sign_path', path), redirect, max_size,
                                     max_count, expires)
    sig = spec.get('signature') or sign(spec['key'], message, spec.get('digest', 'sha1'),
                                        spec.get('format', 'hex'))
    fields = [('redirect', redirect), ('max_file_size', max_size),
              ('max_file_count', max_count), ('expires', str(expires)),
              ('signature', sig)]
    for k, v in (spec.get('fields') or {}).items():
        fields.append((k, str(v)))
    boundary = '----differential-boundary'
    out = []
    for k, v in fields:
        out.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                   % (boundary, k, v))
    for i, f in enumerate(spec.get('files', [])):
        ctype = f.get('content_type', 'text/plain')
        out.append('--%s\r\nContent-Disposition: form-data; name="file%d"; filename="%s"\r\n'
                   'Content-Type: %s\r\n\r\n%s\r\n' % (boundary, i + 1, f['name'], ctype,
                                                    f.get('content', '')))
    out.append('--%s--\r\n' % boundary)
    return ''.join(out).encode(), 'multipart/form-data; boundary=%s' % boundary


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body


def send(base, step, variables, token):
    """Sends one step to the server at `base`; returns its Response."""
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    variables = dict(variables, host='%s:%d' % (host, port), token=token or '')
    if 'raw' in step:
        return send_raw(host, port, substitute(step['raw'], variables).encode('utf-8'),
                        step.get('raw_method', 'GET'))
    method, target = split_request_line(substitute(step['req'], variables))
    raw_path, path, query = resolve_target(target, variables)
    headers = {}
    if token and step.get('as', variables.get('_as', 'owner')) != 'anon':
        headers['X-Auth-Token'] = token
    for k, v in (step.get('headers') or {}).items():
        headers[k] = substitute(str(v), variables)
    body = None
    if 'body' in step:
        body = substitute(str(step['body']), variables).encode('utf-8')
    elif 'body_size' in step:
        body = pattern_bytes(int(step['body_size']), step.get('seed', 'x'))
    elif 'body_json' in step:
        body = json.dumps(subst_any(step['body_json'], variables),
                          separators=(',', ':')).encode()
    elif 'tar' in step:
        body = make_tar(subst_any(step['tar'], variables))
    elif 'formpost' in step:
        body, ctype = formpost_body(subst_any(step['formpost'], variables), path, variables)
        headers.setdefault('Content-Type', ctype)
    if 'tempurl' in step:
        q = tempurl_query(subst_any(step['tempurl'], variables), path, variables)
        raw_path += ('&' if '?' in raw_path else '?') + q
    if body is None and method in ('PUT', 'POST') and not step.get('no_length'):
        body = b''
    names = {k.lower() for k in headers}
    chunked = step.get('chunked')
    if body is not None and not chunked and 'content-length' not in names \
            and not step.get('no_length'):
        headers['Content-Length'] = str(len(body))
    if chunked and 'transfer-encoding' not in names:
        headers['Transfer-Encoding'] = 'chunked'
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.putrequest(method, raw_path, skip_host='host' in names,
                        skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v.encode('utf-8') if isinstance(v, str) else v)
        conn.endheaders()
        if body:
            if chunked:
                size = int(step.get('chunk_size', 1 << 16))
                for i in range(0, len(body), size):
                    piece = body[i:i + size]
                    conn.send(b'%x\r\n%s\r\n' % (len(piece), piece))
                conn.send(b'0\r\n\r\n')
            else:
                conn.send(body)
        elif chunked:
            conn.send(b'0\r\n\r\n')
        resp = conn.getresponse()
        return read_response(resp)
    finally:
        conn.close()


def read_response(resp):
    data = resp.read(BODY_LIMIT)
    rest = hashlib.md5()
    extra = 0
    while True:
        more = resp.read(1 << 20)
        if not more:
            break
        rest.update(more)
        extra += len(more)
    if extra:
        data += b'...<%d more bytes, md5 %s>' % (extra, rest.hexdigest().encode())
    return Response(resp.status, resp.getheaders(), data)


def send_raw(host, port, data, method):
    import socket
    sock = socket.create_connection((host, port), timeout=60)
    try:
        sock.sendall(data)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        return read_response(resp)
    except (http.client.HTTPException, OSError) as e:
        return Response(0, [], ('connection: %s' % type(e).__name__).encode())
    finally:
        sock.close()


# ---------------------------------------------------------------- masking

class Masker:
    """Replaces per-server values by stable placeholders, per scenario."""

    def __init__(self, base, track_dates):
        self.ordinals = {}
        self.host = urllib.parse.urlsplit(base).netloc
        self.track_dates = track_dates

    def _ordinal(self, kind, value):
        key = (kind, value)
        if key not in self.ordinals:
            self.ordinals[key] = sum(1 for k in self.ordinals if k[0] == kind) + 1
        return '<%s%d>' % (kind, self.ordinals[key])

    def _iso(self, m):
        # A time to the second (SLO manifests keep segments' Last-Modified)
        # is as coarse as an HTTP date: two writes a moment apart may share
        # it on one server and not on the other, so it is masked the same
        # way; finer times keep their order of appearance.
        value = m.group(0)
        fraction = value[20:] if len(value) > 19 else ''
        if not self.track_dates and fraction.strip('0') == '':
            return '<iso-second>'
        return self._ordinal('iso', value)

    def text(self, s):
        s = s.replace(self.host, '<host>')
        s = _TXID.sub('<txid>', s)
        s = _TS.sub(lambda m: self._ordinal('ts', m.group(0)), s)
        s = _ISO.sub(self._iso, s)
        s = _SPACED_TIME.sub('<listing-time>', s)
        s = _BOUNDARY.sub(lambda m: m.group(1) + '<boundary>', s)
        if self.track_dates:
            s = _HTTP_DATE.sub(lambda m: self._ordinal('date', m.group(0)), s)
        else:
            s = _HTTP_DATE.sub('<http-date>', s)
        return s

    def response(self, r):
        headers = {}
        for name, value in sorted(r.headers, key=lambda kv: kv[0].lower()):
            n = name.lower()
            if n in IGNORED_HEADERS:
                continue
            v = '<id>' if n in OPAQUE_HEADERS else self.text(value)
            if n in UNORDERED_HEADERS:
                # Swift builds these from Python sets: their order changes
                # from one worker process to the next.
                v = ', '.join(sorted(p.strip() for p in v.split(',')))
            headers[n] = headers[n] + ', ' + v if n in headers else v
        body = self.text(r.body.decode('utf-8', 'surrogateescape'))
        parsed = None
        if body[:1] in ('{', '['):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        return r.status, headers, body, parsed


# ---------------------------------------------------------------- running

class Difference:
    def __init__(self, scenario, step, request, field, swift, onestack, who='owner', method=''):
        self.scenario, self.step, self.request = scenario, step, request
        self.field, self.swift, self.onestack = field, swift, onestack
        self.who, self.method = who, method

    def show(self):
        return '  [%s] step %d (%s) %s\n    swift:    %s\n    onestack: %s' % (
            self.scenario, self.step, self.request, self.field,
            clip(self.swift), clip(self.onestack))


def clip(v, n=600):
    s = v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + '…(%d chars)' % len(s)


def compare(scenario, index, request, what, a, b):
    out = []
    sa, ha, ba, ja = a
    sb, hb, bb, jb = b
    if 'status' in what and sa != sb:
        out.append(Difference(scenario, index, request, 'status', sa, sb))
    if 'headers' in what:
        for name in sorted(set(ha) | set(hb)):
            va, vb = ha.get(name), hb.get(name)
            if va != vb:
                out.append(Difference(scenario, index, request, 'header:' + name,
                                      '(absent)' if va is None else va,
                                      '(absent)' if vb is None else vb))
    if 'body' in what:
        if ja is not None and jb is not None:
            if ja != jb:
                out.append(Difference(scenario, index, request, 'body', ja, jb))
        elif ba != bb:
            out.append(Difference(scenario, index, request, 'body', ba, bb))
    return out


def step_method(step):
    if 'req' in step:
        return step['req'].split(' ', 1)[0]
    if 'raw' in step:
        return step['raw'].split(' ', 1)[0]
    return ''


def capture(r, where):
    """The raw value `where` names in response `r`: "header:<name>" or
    "json:<index or key>.<...>" into a JSON body; "" when absent."""
    kind, _, what = where.partition(':')
    if kind == 'header':
        for name, value in r.headers:
            if name.lower() == what.lower():
                return value
        return ''
    if kind == 'json':
        try:
            value = json.loads(r.body)
            for part in what.split('.'):
                value = value[int(part)] if isinstance(value, list) else value[part]
            return str(value)
        except (ValueError, KeyError, IndexError, TypeError):
            return ''
    raise ValueError('capture: unknown source %r' % where)


def step_label(step):
    if 'raw' in step:
        return 'raw ' + step['raw'].split('\\r\\n')[0].split('\r\n')[0][:60]
    if 'req' in step:
        return step['req'] + (' as ' + step['as'] if 'as' in step else '')
    return ', '.join(step)


def normalize_steps(items, compare_default):
    steps = []
    for item in items or []:
        if isinstance(item, str):
            item = {'req': item}
        item = dict(item)
        item.setdefault('compare', compare_default)
        steps.append(item)
    return steps


class Runner:
    def __init__(self, args):
        self.args = args
        self.identity = Identity(args.identity, args.admin_password)
        self.run_id = uuid.uuid4().hex[:6]
        self.targets = [('swift', args.swift.rstrip('/')), ('onestack', args.onestack.rstrip('/'))]

    def settle(self, target):
        """Swift updates account totals and expires objects in background
        daemons; run them once so what a client eventually sees is compared."""
        if target == 'swift' and self.args.swift_settle:
            subprocess.run(self.args.swift_settle, shell=True, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run_scenario(self, index, sc):
        name = sc['name']
        principals = Principals(self.identity, self.run_id, index)
        variables = principals.variables()
        text = json.dumps(sc)
        uses_other = '"as": "other"' in text or '${other_' in text
        if uses_other:
            variables.update(principals.other_variables())
        variables['now'] = str(int(time.time()))
        variables['run'] = self.run_id
        default_as = sc.get('as', 'owner')
        steps = normalize_steps(sc.get('setup'), 'status') + \
            normalize_steps(sc.get('steps'), 'status headers body')
        results = {}
        for target, base in self.targets:
            masker = Masker(base, sc.get('track_dates', False))
            results[target] = []
            captured = {}  # this server's own values, for later steps
            for step in steps:
                if 'sleep' in step:
                    time.sleep(float(step['sleep']))
                    results[target].append(None)
                    continue
                if 'settle' in step:
                    self.settle(target)
                    results[target].append(None)
                    continue
                who = step.get('as', default_as)
                token = principals.token(who)
                if who == 'anon':
                    token = None
                v = dict(variables, _as=who, **captured)
                try:
                    r = send(base, step, v, token)
                except (OSError, http.client.HTTPException) as e:
                    r = Response(0, [], ('connection: %s' % type(e).__name__).encode())
                for var, where in (step.get('capture') or {}).items():
                    captured[var] = capture(r, where)
                results[target].append(masker.response(r))
                if self.args.dump:
                    print('--- %s %s step %d: %s\n%d\n%s\n\n%s' % (
                        target, name, len(results[target]), step_label(step), r.status,
                        '\n'.join('%s: %s' % hv for hv in r.headers),
                        r.body[:2000].decode('utf-8', 'replace')))
        diffs = []
        for i, step in enumerate(steps):
            a, b = results['swift'][i], results['onestack'][i]
            if a is None:
                continue
            found = compare(name, i + 1, step_label(step), step['compare'].split(), a, b)
            for d in found:
                d.who = step.get('as', default_as)
                d.method = step_method(step)
            diffs += found
        return diffs


def load_scenarios(paths, only):
    scenarios = []
    seen = set()
    for path in paths:
        with open(path, encoding='utf-8') as f:
            data = yaml.safe_load(f) or []
        area = os.path.splitext(os.path.basename(path))[0]
        for sc in data:
            sc = dict(sc)
            sc['name'] = '%s/%s' % (area, sc['name'])
            if sc['name'] in seen:
                raise SystemExit('duplicate scenario name: %s' % sc['name'])
            seen.add(sc['name'])
            if only and not any(fnmatch.fnmatchcase(sc['name'], p) for p in only):
                continue
            scenarios.append(sc)
    return scenarios


def load_allowed(path, pending=False):
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as f:
        entries = yaml.safe_load(f) or []
    for e in entries:
        if not pending and not e.get('reason'):
            raise SystemExit('%s: entry without a reason: %r' % (path, e))
        e['used'] = 0
        e['pending'] = pending
    return entries


def allowed_by(entries, d):
    for e in entries:
        if not fnmatch.fnmatchcase(d.scenario, e.get('scenario', '*')):
            continue
        if 'step' in e and int(e['step']) != d.step:
            continue
        if not fnmatch.fnmatchcase(d.field, e.get('field', '*')):
            continue
        if 'as' in e and e['as'] != d.who:
            continue
        if 'method' in e and e['method'] != d.method:
            continue
        e['used'] += 1
        return e
    return None


def write_pending(path, pending, unlisted):
    """Rewrites the pending file: its entries still matched, plus one entry per
    (scenario, step, field) of this run's unlisted differences."""
    keep = [e for e in pending if e['used']]
    seen = set()
    out = []
    for e in keep:
        key = (e['scenario'], e.get('step'), e.get('field'))
        if key not in seen:
            seen.add(key)
            out.append({k: e[k] for k in ('scenario', 'step', 'field', 'swift', 'onestack')
                        if k in e})
    for d in unlisted:
        key = (d.scenario, d.step, d.field)
        if key in seen:
            continue
        seen.add(key)
        out.append({'scenario': d.scenario, 'step': d.step, 'field': d.field,
                    'swift': clip(d.swift, 160), 'onestack': clip(d.onestack, 160)})
    out.sort(key=lambda e: (e['scenario'], e.get('step', 0), e.get('field', '')))
    with open(path, 'w', encoding='utf-8') as f:
        f.write('# Differences from Swift seen and not yet matched: each is work to do, not a\n'
                '# choice (those are in allowed.yaml). A difference listed here does not fail\n'
                '# the run; one not listed here or in allowed.yaml does. Rewritten by\n'
                '# diff.py --write-pending, which keeps only entries still seen.\n')
        yaml.safe_dump(out, f, allow_unicode=True, sort_keys=False, width=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--identity', required=True, help="onestack's Keystone URL (…/v3)")
    ap.add_argument('--admin-password', required=True)
    ap.add_argument('--onestack', required=True, help="onestack's object storage URL")
    ap.add_argument('--swift', required=True, help="Swift's proxy URL")
    ap.add_argument('--swift-settle', default='',
                    help="shell command that runs Swift's updater and expirer once")
    ap.add_argument('--allowed', default=os.path.join(HERE, 'allowed.yaml'))
    ap.add_argument('--pending', default=os.path.join(HERE, 'pending.yaml'),
                    help='differences seen and not yet matched (see README.md)')
    ap.add_argument('--write-pending', action='store_true',
                    help='rewrite the pending file with every unlisted difference of this run')
    ap.add_argument('--only', action='append', default=[],
                    help='run only scenarios whose name matches this glob (repeatable)')
    ap.add_argument('--report', help='write every difference as JSON here')
    ap.add_argument('--dump', action='store_true',
                    help="print every answer of both servers as received")
    ap.add_argument('files', nargs='*')
    args = ap.parse_args()

    files = args.files or sorted(
        os.path.join(HERE, 'scenarios', f) for f in os.listdir(os.path.join(HERE, 'scenarios'))
        if f.endswith('.yaml'))
    scenarios = load_scenarios(files, args.only)
    allowed = load_allowed(args.allowed)
    pending = load_allowed(args.pending, pending=True)
    runner = Runner(args)
    passed = failed = listed = still_pending = errors = pending_scenarios = 0
    report = []
    unlisted = []
    for index, sc in enumerate(scenarios):
        try:
            diffs = runner.run_scenario(index, sc)
        except Exception as e:  # a broken scenario fails, it never passes
            failed += 1
            errors += 1
            print('ERROR in scenario %s: %s: %s' % (sc['name'], type(e).__name__, e))
            continue
        bad = []
        waiting = False
        for d in diffs:
            entry = allowed_by(allowed, d) or allowed_by(pending, d)
            report.append(dict(vars(d), allowed=entry.get('reason', 'pending') if entry else None))
            if entry and entry['pending']:
                still_pending += 1
                waiting = True
            elif entry:
                listed += 1
            else:
                bad.append(d)
        if bad:
            failed += 1
            unlisted += bad
            print('DIFFERENT %s' % sc['name'])
            for d in bad:
                print(d.show())
        elif waiting:
            pending_scenarios += 1
        else:
            passed += 1
    if args.write_pending:
        write_pending(args.pending, pending, unlisted)
        print('differential: wrote %d unlisted differences to %s' % (len(unlisted), args.pending))
        unlisted = []
        failed = errors
    stale = [e for e in allowed if not e['used']] if not args.only and not args.files else []
    matched = [e for e in pending if not e['used']] if not args.only and not args.files else []
    if matched:
        print('differential: %d entries of %s match no difference any more: remove them '
              '(diff.py --write-pending does)' % (len(matched), os.path.basename(args.pending)))
    for e in stale:
        failed += 1
        print('STALE allowed.yaml entry (no difference matches it): %s %s' % (
            e['scenario'], e.get('field', '*')))
    if args.report:
        with open(args.report, 'w', encoding='utf-8') as f:
            json.dump(report, f, indent=1, ensure_ascii=False, default=str)
    print('differential: %d scenarios, %d differences listed in allowed.yaml, %d still '
          'pending, %d unlisted' % (len(scenarios), listed, still_pending, len(unlisted)))
    print('differential: %d scenarios match Swift but for pending.yaml\'s differences' %
          pending_scenarios)
    print('differential: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
