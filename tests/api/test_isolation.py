"""Tenant isolation matrix, generated from the routers' own route tables.

`onestack routes` prints every route of the identity and object-store
routers. Each one is sent, with its path parameters filled from real
resources that project A owns, under every credential that must not reach
A's resources:

    no token, an expired token, a revoked token   -> 401
    a token of project B (same domain)            -> 403, or an allowed read
    a token of a user of another domain           -> 403, or an allowed read
    a token of a `reader` of A (writes only)      -> 403

The expected answer of each route comes from Keystone's default policy
(keystone/common/policies, as src/identity/service/default_rules.cc) and
Swift's keystoneauth semantics: PUBLIC, SPECIAL and the families
of classify() name it. A route that they do not classify fails the test, so a new route cannot
go untested. After every route the whole state is read back as its owners
and compared: a refused request must change nothing.

Routes that answer the same to everyone are listed in PUBLIC with the
reason. TempURL, FormPost and StaticWeb are not routes of their own: they
are modes of the object and container routes, reached only with a
signature or a public-read ACL, which the matrix never sends or sets;
test_signed_and_public_modes_refuse_forgeries sends forged ones (valid
signatures are tested in test_object_features.py).
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import pytest
import requests

import reliability
from conftest import launch, onestack_binary, shut_down, unique

WRITES = {'POST', 'PUT', 'PATCH', 'DELETE', 'COPY'}

# The credentials of the matrix; `reader` is sent only to writes.
UNAUTHENTICATED = ('no token', 'expired token', 'revoked token')
OTHERS = ('project B', 'other domain', 'reader of A')
CASES = UNAUTHENTICATED + OTHERS


class Deny:
    """Refused: 403 by default, or 404 where the service hides existence."""

    def __init__(self, *codes):
        self.codes = codes or (403,)

    def __repr__(self):
        return 'deny%s' % (self.codes,)


class Allow:
    """Allowed by the default policy to any authenticated caller; the answer
    must still not show A's resources named in `hidden` (fixture keys)."""

    def __init__(self, *codes, hidden=()):
        self.codes = codes or (200,)
        self.hidden = hidden

    def __repr__(self):
        return 'allow%s' % (self.codes,)


class Protected:
    """A route that needs a valid token. `b`: a member of project B; `od`: a
    user of another domain; `r`: a reader of project A (writes only)."""

    def __init__(self, b, od, r=None):
        self.b, self.od, self.r = b, od, r or Deny()

    def expect(self, case):
        if case in UNAUTHENTICATED:
            return Deny(401)
        return {'project B': self.b, 'other domain': self.od,
                'reader of A': self.r}[case]


class Public:
    """The same answer whatever the token: public by design."""

    def __init__(self, reason, status, body=None):
        self.reason, self.status, self.body = reason, status, body

    def expect(self, case):
        return Allow(self.status) if self.status < 400 else Deny(self.status)


class Unimplemented(Public):
    """A family onestack does not serve: 501 naming it, to everyone; the
    handler reads nothing and writes nothing."""

    def __init__(self, reason):
        super().__init__(reason, 501)


D = Deny()
ADMIN_ONLY = Protected(D, D)            # rule:admin_required (+ system reader)
ANY_TOKEN = Protected(Allow(), Allow())  # check string "" (any valid token)


def _bad_password(ids):
    return {'auth': {'identity': {'methods': ['password'], 'password': {
        'user': {'id': ids['user_id'], 'password': 'wrong-' + uuid.uuid4().hex}}}}}


def _bad_original(ids):
    return {'user': {'original_password': 'wrong-' + uuid.uuid4().hex,
                     'password': 'evil-' + uuid.uuid4().hex}}


I = 'identity'
O = 'object-store'

PUBLIC = {
    (I, 'GET', '/'): Public('version discovery', 300),
    (I, 'GET', '/v3'): Public('version discovery', 200),
    (I, 'POST', '/v3/auth/tokens'): Public(
        'authenticates the credentials in the body (a wrong password: 401)',
        401, _bad_password),
    (I, 'POST', '/v3/users/{user_id}/password'): Public(
        'authenticated by the original password in the body, not by a token '
        '(Keystone leaves it unenforced); a wrong one: 401', 401, _bad_original),
    (O, 'GET', '/info'): Public('capabilities discovery', 200),
    (O, 'OPTIONS', '/info'): Public('CORS preflight of discovery', 200),
    (O, 'GET', '/crossdomain.xml'): Public('Flash cross-domain policy', 200),
    # Other methods reach Swift's proxy, for which the path names no account.
    **{(O, m, '/crossdomain.xml'): Public('no account in the path: 412 Bad URL', 412)
       for m in ('HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS')},
    # The healthcheck middleware answers every method.
    **{(O, m, '/healthcheck'): Public('load balancer health check', 200)
       for m in ('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS')},
    # CORS preflight carries no token by definition; a container without
    # X-Container-Meta-Access-Control-Allow-Origin refuses every origin.
    (O, 'OPTIONS', '/v1/{account}'): Public('CORS preflight', 200),
    (O, 'OPTIONS', '/v1/{account}/{container}'): Public(
        'CORS preflight (origin not allowed by the container)', 401),
    (O, 'OPTIONS', '/v1/{account}/{container}/{object+}'): Public(
        'CORS preflight (origin not allowed by the container)', 401),
}

UNIMPLEMENTED_PATTERNS = {
    '/v3/OS-TRUST', '/v3/OS-TRUST/{rest+}',
    '/v3/OS-FEDERATION', '/v3/OS-FEDERATION/{rest+}',
    '/v3/auth/OS-FEDERATION', '/v3/auth/OS-FEDERATION/{rest+}',
    '/v3/OS-REVOKE', '/v3/OS-REVOKE/{rest+}',
    '/v3/OS-SIMPLE-CERT', '/v3/OS-SIMPLE-CERT/{rest+}',
    '/v3/OS-EP-FILTER/{rest+}',
    '/v3/ec2tokens',
    '/v3/OS-OAUTH1/request_token', '/v3/OS-OAUTH1/access_token',
    '/v3/OS-OAUTH1/authorize/{request_token_id}',
    '/v3/users/{user_id}/OS-OAUTH1/{rest+}',
}

# Protected routes whose answer to B or another domain is not "admin only".
# Everything else under /v3 that is protected is admin-only (Keystone's
# rule:admin_required, or a system-scoped reader, which no case here is).
SPECIAL = {
    # (GET/HEAD/DELETE /v3/auth/tokens stay in the admin-only family:
    # validate/check/revoke_token allow an admin or the subject token's own
    # user, and the subject sent is A's member's token.)
    # identity:get_auth_*: "" (any token); the lists are the caller's own.
    (I, 'GET', '/v3/auth/catalog'): ANY_TOKEN,
    (I, 'GET', '/v3/auth/projects'): Protected(
        Allow(hidden=('project_id',)), Allow(hidden=('project_id',))),
    (I, 'GET', '/v3/auth/domains'): Protected(
        Allow(hidden=('domain_id',)), Allow(hidden=('domain_id',))),
    (I, 'GET', '/v3/auth/system'): ANY_TOKEN,
    # identity:get_region / list_regions: "" (regions are not a tenant's).
    (I, 'GET', '/v3/regions'): ANY_TOKEN,
    (I, 'GET', '/v3/regions/{region_id}'): ANY_TOKEN,
    # identity:get_domain: token.project.domain.id:%(target.domain.id)s -- a
    # member of B (same domain) may read it, another domain's user may not.
    (I, 'GET', '/v3/domains/{domain_id}'): Protected(Allow(), D),
    # identity:list_credentials: the list is filtered to the caller's own.
    (I, 'GET', '/v3/credentials'): Protected(
        Allow(hidden=('credential_id',)), Allow(hidden=('credential_id',))),
    # identity:get/list_registered_limits and get_limit_model: "" (any
    # token); registered limits are the operator's defaults, no tenant's.
    (I, 'GET', '/v3/registered_limits'): ANY_TOKEN,
    (I, 'GET', '/v3/registered_limits/{registered_limit_id}'): ANY_TOKEN,
    (I, 'GET', '/v3/limits/model'): ANY_TOKEN,
    # identity:list_limits: "", the list narrowed to the caller's project
    # (keystone/api/limits.py): A's limit is not shown. get_limit (a
    # system reader, or the limit's project or domain) and the writes
    # (a system-scoped admin) fall in the admin-only family.
    (I, 'GET', '/v3/limits'): Protected(
        Allow(hidden=('limit_id',)), Allow(hidden=('limit_id',))),
}


def classify(service, method, pattern):
    key = (service, method, pattern)
    if key in PUBLIC:
        return PUBLIC[key]
    if service == I and pattern in UNIMPLEMENTED_PATTERNS:
        return Unimplemented('not served by onestack (501 to everyone)')
    if key in SPECIAL:
        return SPECIAL[key]
    if service == I and any(pattern == p or pattern.startswith(p + '/')
                            for p in IDENTITY_FAMILIES):
        return ADMIN_ONLY
    if service == O and pattern.startswith('/v1/{account}') and method in (
            'GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY'):
        # keystoneauth: only the account's project (an operator role, or
        # the reader role for reads) or an ACL reaches it; none is set.
        return Protected(D, D)
    return None


# The identity families whose every route is refused to a caller that is
# neither an admin nor the owner of A's resource (each rule in
# default_rules.cc is admin_required, a system reader or admin, the owner
# (user_id:%(user_id)s / target.credential.user_id), or a reader of the
# target's project or domain -- and the cases here are none of those).
IDENTITY_FAMILIES = (
    '/v3/auth/tokens', '/v3/regions', '/v3/services', '/v3/endpoints',
    '/v3/credentials', '/v3/users', '/v3/groups', '/v3/projects', '/v3/domains',
    '/v3/roles', '/v3/role_inferences', '/v3/role_assignments', '/v3/policies',
    '/v3/OS-EP-FILTER/endpoint_groups', '/v3/OS-OAUTH1/consumers',
    '/v3/OS-INHERIT', '/v3/system', '/v3/users/{user_id}/application_credentials',
    '/v3/registered_limits', '/v3/limits',
)


# -- the route dump ----------------------------------------------------------

def dump_routes(config_file=None):
    data = tempfile.mkdtemp(prefix='onestack-routes-')
    try:
        args = [onestack_binary(), 'routes', '--data-dir', data]
        if config_file:
            args += ['--config-file', config_file]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line) for line in proc.stdout.splitlines() if line]
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_routes_dump_lists_known_routes():
    routes = dump_routes()
    for r in routes:
        assert set(r) == {'service', 'method', 'pattern'}, r
        assert r['service'] in (I, O), r
        assert r['method'] == r['method'].upper(), r
        assert r['pattern'].startswith('/'), r
    got = {(r['service'], r['method'], r['pattern']) for r in routes}
    assert len(got) == len(routes), 'a route is listed twice'
    for known in [(I, 'POST', '/v3/auth/tokens'), (I, 'GET', '/v3/users/{user_id}'),
                  (I, 'PATCH', '/v3/projects/{project_id}'), (I, 'GET', '/'),
                  (I, 'DELETE', '/v3/groups/{group_id}/users/{user_id}'),
                  (O, 'GET', '/info'), (O, 'HEAD', '/v1/{account}'),
                  (O, 'PUT', '/v1/{account}/{container}/{object+}'),
                  (O, 'COPY', '/v1/{account}/{container}/{object+}')]:
        assert known in got, known
    # Identity only when the object store is disabled.
    root = tempfile.mkdtemp(prefix='onestack-routes-conf-')
    try:
        conf = os.path.join(root, 'onestack.conf')
        with open(conf, 'w') as f:
            f.write('[object]\nenabled = false\n')
        services = {r['service'] for r in dump_routes(conf)}
        assert services == {I}, services
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- the cloud and A's resources ---------------------------------------------

def _ok(r, *codes):
    assert r.status_code in (codes or (200, 201, 204)), (
        r.request.method, r.request.url, r.status_code, r.text[:500])
    return r


def _fernet_tool():
    path = os.environ.get('ONESTACK_FERNET_TOOL')
    if not path or not os.access(path, os.X_OK):
        pytest.fail('set ONESTACK_FERNET_TOOL to the built fernet_tool '
                    '(build/<dir>/tests/unit/identity/token/fernet_tool); '
                    'it mints the expired token', pytrace=False)
    return path


def _mint(cloud, user_id, project_id, now, expires_at):
    proc = subprocess.run(
        [_fernet_tool(), 'issue', '--key-dir',
         os.path.join(cloud.data_dir, 'fernet-keys'), '--user-id', user_id,
         '--scope', 'project', '--project-id', project_id,
         '--methods', 'password', '--now', str(int(now)),
         '--expires-at', repr(float(expires_at))],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


class World:
    pass


@pytest.fixture(scope='module')
def world():
    cloud = launch()
    try:
        yield _build_world(cloud)
    finally:
        shut_down(cloud)


def _build_world(cloud):
    w = World()
    w.cloud = cloud
    w.http = requests.Session()
    admin = cloud.admin_token()
    w.admin = admin

    def req(method, path, token=admin, **kw):
        headers = dict(kw.pop('headers', {}) or {})
        if token:
            headers['X-Auth-Token'] = token
        return w.http.request(method, cloud.base_url + path, headers=headers,
                              timeout=30, **kw)
    w.req = req

    cloud.ensure_role('reader')
    pa = cloud.new_project(name=unique('proj-a'))
    pb = cloud.new_project(name=unique('proj-b'))
    w.user_aa = cloud.new_user()      # admin role on A
    w.user_am = cloud.new_user()      # member of A: owner of A's resources
    w.user_ar = cloud.new_user()      # reader of A
    user_b = cloud.new_user()
    cloud.grant(pa['id'], w.user_aa['id'], 'admin')
    cloud.grant(pa['id'], w.user_am['id'], 'member')
    cloud.grant(pa['id'], w.user_ar['id'], 'reader')
    cloud.grant(pb['id'], user_b['id'], 'member')
    d2 = cloud.create('domains', {'name': unique('dom')})
    pd = cloud.new_project(name=unique('proj-d'), domain_id=d2['id'])
    user_d = cloud.new_user(domain_id=d2['id'])
    cloud.grant(pd['id'], user_d['id'], 'member')

    def token(user, project):
        return cloud.issue_token(user['id'], user['password'],
                                 project_id=project['id'])[0]

    w.token_am = token(w.user_am, pa)
    w.token_aa = token(w.user_aa, pa)
    tokens = {'project B': token(user_b, pb), 'other domain': token(user_d, pd),
              'reader of A': token(w.user_ar, pa)}
    # Each credential works where it should (so a refusal below is policy's).
    _ok(req('GET', '/v3/projects/' + pb['id'], tokens['project B']), 200)
    _ok(req('GET', '/v3/projects/' + pd['id'], tokens['other domain']), 200)
    _ok(req('GET', '/v3/projects/' + pa['id'], tokens['reader of A']), 200)

    # Revoked: an admin-role token of A, revoked by its own user.
    revoked = token(w.user_aa, pa)
    _ok(req('GET', '/v3/users', revoked), 200)
    _ok(req('DELETE', '/v3/auth/tokens', revoked,
            headers={'X-Subject-Token': revoked}), 204)
    _ok(req('GET', '/v3/auth/tokens', admin,
            headers={'X-Subject-Token': revoked}), 404)
    tokens['revoked token'] = revoked
    # Expired: the same user and scope, signed with the cloud's own keys; a
    # twin that has not expired is accepted.
    now = time.time()
    fresh = _mint(cloud, w.user_aa['id'], pa['id'], now - 10, now + 3600)
    _ok(req('GET', '/v3/users', fresh), 200)
    tokens['expired token'] = _mint(cloud, w.user_aa['id'], pa['id'],
                                    now - 7200, now - 3600)
    tokens['no token'] = None
    w.tokens = tokens

    ids = {'project_id': pa['id'], 'user_id': w.user_am['id'],
           'domain_id': 'default', 'tag': 'tag-a'}
    ids['group_id'] = cloud.create('groups', {'name': unique('grp-a'),
                                              'domain_id': 'default'})['id']
    _ok(req('PUT', '/v3/groups/%s/users/%s' % (ids['group_id'], ids['user_id'])), 204)
    ids['role_id'] = cloud.create('roles', {'name': unique('role-a')})['id']
    ids['prior_role_id'] = ids['role_id']
    ids['implied_role_id'] = cloud.create('roles', {'name': unique('role-a2')})['id']
    _ok(req('PUT', '/v3/roles/%s/implies/%s' % (ids['role_id'], ids['implied_role_id'])), 201)
    _ok(req('PUT', '/v3/projects/%s/tags/tag-a' % pa['id']), 201)
    ids['region_id'] = cloud.create('regions', {'id': unique('region-a')})['id']
    ids['service_id'] = cloud.create('services', {'type': unique('svc'),
                                                  'name': 'svc-a'})['id']
    ids['endpoint_id'] = cloud.create('endpoints', {
        'service_id': ids['service_id'], 'interface': 'public',
        'url': 'http://127.0.0.1:9/a', 'region_id': ids['region_id']})['id']
    r = _ok(req('POST', '/v3/policies', json={'policy': {
        'type': 'application/json', 'blob': '{}'}}), 201)
    ids['policy_id'] = r.json()['policy']['id']
    r = _ok(req('POST', '/v3/OS-EP-FILTER/endpoint_groups', json={'endpoint_group': {
        'name': 'eg-a', 'filters': {'interface': 'public'}}}), 201)
    ids['endpoint_group_id'] = r.json()['endpoint_group']['id']
    r = _ok(req('POST', '/v3/OS-OAUTH1/consumers',
                json={'consumer': {'description': 'consumer-a'}}), 201)
    ids['consumer_id'] = r.json()['consumer']['id']
    # Unified limits are written by a system-scoped admin only (Zed): a
    # limit of A on one registered limit, and one registered limit free of
    # limits, so a refused PATCH or DELETE of it would otherwise succeed.
    w.system = cloud.issue_token(system=True)[0]
    r = _ok(req('POST', '/v3/registered_limits', w.system, json={'registered_limits': [
        {'service_id': ids['service_id'], 'resource_name': 'res-a', 'default_limit': 5},
        {'service_id': ids['service_id'], 'resource_name': 'res-free',
         'default_limit': 5}]}), 201)
    ids['registered_limit_id'] = r.json()['registered_limits'][1]['id']
    r = _ok(req('POST', '/v3/limits', w.system, json={'limits': [
        {'project_id': pa['id'], 'service_id': ids['service_id'],
         'resource_name': 'res-a', 'resource_limit': 1}]}), 201)
    ids['limit_id'] = r.json()['limits'][0]['id']
    ids['credential_id'] = cloud.create('credentials', {
        'type': 'cert', 'user_id': ids['user_id'], 'project_id': pa['id'],
        'blob': 'secret-a'})['id']
    r = _ok(req('POST', '/v3/users/%s/application_credentials' % ids['user_id'],
                w.token_am, json={'application_credential': {
                    'name': 'ac-a', 'access_rules': [{
                        'service': 'identity', 'method': 'GET',
                        'path': '/v3/users'}]}}), 201)
    ac = r.json()['application_credential']
    ids['application_credential_id'] = ac['id']
    ids['access_rule_id'] = ac['access_rules'][0]['id']
    r = _ok(req('POST', '/v3/users/%s/credentials/OS-EC2' % ids['user_id'],
                w.token_am, json={'tenant_id': pa['id']}), 201)
    ids['ec2_access'] = r.json()['credential']['access']
    _ok(req('PUT', '/v3/domains/default/config',
            json={'config': {'identity': {'driver': 'sql'}}}), 200, 201)
    ids['group'] = 'identity'
    ids['option'] = 'driver'
    ids['request_token_id'] = uuid.uuid4().hex
    ids['rest'] = 'anything'
    # Objects in A's account, written by A's member.
    ids['account'] = 'AUTH_' + pa['id']
    ids['container'] = 'ca'
    ids['object'] = 'o1'
    acct = '/v1/' + ids['account']

    def swift(method, path, token=w.token_am, **kw):
        headers = dict(kw.pop('headers', {}) or {})
        if token:
            headers['X-Auth-Token'] = token
        return w.http.request(method, cloud.object_base_url + path,
                              headers=headers, timeout=30, **kw)
    w.swift = swift
    _ok(swift('POST', acct, headers={'X-Account-Meta-Owner': 'a'}), 204)
    _ok(swift('PUT', acct + '/ca', headers={'X-Container-Meta-Owner': 'a'}), 201)
    _ok(swift('PUT', acct + '/ca/o1', data=b'bytes of A',
              headers={'X-Object-Meta-Owner': 'a'}), 201)
    w.ids = ids
    w.routes = dump_routes(cloud.config_file)
    # Every grant route as admin, so check/list/revoke find a real grant.
    for r in w.routes:
        if r['service'] == I and r['method'] == 'PUT' and re.search(
                r'/roles/\{role_id\}(/inherited_to_projects)?$', r['pattern']):
            _ok(req('PUT', fill(r['pattern'], ids)), 204)
    return w


def fill(pattern, ids):
    def one(m):
        name = m.group(1).rstrip('+')
        if name == 'credential_id' and '/OS-EC2/' in pattern:
            value = ids['ec2_access']
        else:
            value = ids.get(name)
        if value is None:
            raise KeyError('no value for path parameter {%s} of %s' % (name, pattern))
        return urllib.parse.quote(value, safe='')
    return re.sub(r'\{([^}]+)\}', one, pattern)


# -- bodies: what each write would do if it were let through -----------------

CREATE = {
    'users': {'name': 'evil-user', 'domain_id': 'default'},
    'groups': {'name': 'evil-group', 'domain_id': 'default'},
    'projects': {'name': 'evil-project', 'domain_id': 'default'},
    'domains': {'name': 'evil-domain'},
    'roles': {'name': 'evil-role'},
    'regions': {'id': 'evil-region'},
    'services': {'type': 'evil', 'name': 'evil'},
    'policies': {'type': 'application/json', 'blob': '{"evil": 1}'},
    'endpoint_groups': {'name': 'evil', 'filters': {'interface': 'admin'}},
    'consumers': {'description': 'evil'},
    'application_credentials': {'name': 'evil-ac'},
}


def request_for(route, ids):
    """(method, path, headers, body kwargs) for one route against A."""
    method, pattern = route['method'], route['pattern']
    path = fill(pattern, ids)
    headers, kw = {}, {}
    rule = PUBLIC.get((route['service'], method, pattern))
    if rule is not None and rule.body:
        kw['json'] = rule.body(ids)
    elif route['service'] == I:
        if pattern == '/v3/auth/tokens':
            headers['X-Subject-Token'] = ids['subject_token']
        last = pattern.rstrip('/').split('/')[-1]
        coll = last.split('-')[-1]
        if method == 'POST' and coll in CREATE:
            kw['json'] = {coll[:-1] if coll != 'policies' else 'policy': CREATE[coll]}
        elif method == 'POST' and pattern == '/v3/endpoints':
            kw['json'] = {'endpoint': {'service_id': ids['service_id'],
                                       'interface': 'admin', 'url': 'http://evil'}}
        elif method == 'POST' and pattern == '/v3/registered_limits':
            kw['json'] = {'registered_limits': [{
                'service_id': ids['service_id'], 'resource_name': 'evil',
                'default_limit': 1}]}
        elif method == 'POST' and pattern == '/v3/limits':
            kw['json'] = {'limits': [{
                'project_id': ids['project_id'], 'service_id': ids['service_id'],
                'resource_name': 'res-free', 'resource_limit': 1000}]}
        elif method == 'POST' and pattern == '/v3/credentials':
            kw['json'] = {'credential': {'type': 'cert', 'user_id': ids['user_id'],
                                         'blob': 'evil'}}
        elif method == 'POST' and pattern.endswith('/OS-EC2'):
            kw['json'] = {'tenant_id': ids['project_id']}
        elif method in ('PATCH', 'PUT') and pattern.endswith('/config') or \
                '/config/' in pattern and method == 'PATCH':
            kw['json'] = {'config': {'identity': {'driver': 'evil'}}}
        elif method == 'PUT' and pattern.endswith('/tags'):
            kw['json'] = {'tags': ['evil']}
        elif method in ('PATCH', 'PUT') and last.startswith('{'):
            entity = pattern.split('/')[-2]
            singular = {'policies': 'policy'}.get(entity, entity[:-1])
            kw['json'] = {singular: {'description': 'evil'}}
        elif method in WRITES:
            kw['json'] = {}
    else:
        if method in ('PUT', 'POST') and pattern.startswith('/v1/'):
            kind = {1: 'Account', 2: 'Container', 3: 'Object'}[
                len(pattern.split('/')) - 2]
            headers['X-%s-Meta-Evil' % kind] = 'yes'
            if kind == 'Object' and method == 'PUT':
                kw['data'] = b'evil bytes'
        if method == 'COPY':
            headers['Destination'] = 'ca/evil-copy'
        if method == 'OPTIONS':
            headers['Origin'] = 'http://evil.example'
            headers['Access-Control-Request-Method'] = 'DELETE'
    return method, path, headers, kw


# -- the fingerprint: the whole state, read by its owners --------------------

_VOLATILE = {'date', 'x-trans-id', 'x-openstack-request-id', 'connection',
             'keep-alive', 'content-length', 'transfer-encoding'}


def fingerprint(w):
    ids, out = w.ids, []
    listings = ['/v3/users', '/v3/groups', '/v3/projects', '/v3/domains',
                '/v3/roles', '/v3/role_assignments', '/v3/regions',
                '/v3/services', '/v3/endpoints', '/v3/credentials',
                '/v3/policies', '/v3/OS-EP-FILTER/endpoint_groups',
                '/v3/OS-OAUTH1/consumers', '/v3/role_inferences',
                '/v3/registered_limits',
                '/v3/projects/%s/tags' % ids['project_id'],
                '/v3/groups/%s/users' % ids['group_id'],
                '/v3/domains/default/config',
                '/v3/system/users/%s/roles' % ids['user_id']]
    for path in listings:
        r = w.req('GET', path)
        out.append((path, r.status_code, _canon(r)))
    # Only a system scope sees every project's limits.
    r = w.req('GET', '/v3/limits', w.system)
    out.append(('/v3/limits', r.status_code, _canon(r)))
    for path in ['/v3/users/%s/application_credentials' % ids['user_id'],
                 '/v3/users/%s/credentials/OS-EC2' % ids['user_id'],
                 '/v3/users/%s/access_rules' % ids['user_id']]:
        r = w.req('GET', path, w.token_am)
        out.append((path, r.status_code, _canon(r)))
    # Tokens still valid; A's member's password unchanged.
    for t in (w.token_am, w.token_aa, w.tokens['reader of A']):
        r = w.req('HEAD', '/v3/auth/tokens', headers={'X-Subject-Token': t})
        out.append(('token', r.status_code))
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'id': ids['user_id'], 'password': w.user_am['password']}}}}}
    out.append(('password', w.req('POST', '/v3/auth/tokens', None, json=body).status_code))
    acct = '/v1/' + ids['account']
    for path in [acct, acct + '/ca', acct + '/ca/o1']:
        r = w.swift('HEAD', path)
        out.append((path, r.status_code, sorted(
            (k.lower(), v) for k, v in r.headers.items() if k.lower() not in _VOLATILE)))
    for path in [acct + '?format=json', acct + '/ca?format=json']:
        r = w.swift('GET', path)
        out.append((path, r.status_code, r.text))
    r = w.swift('GET', acct + '/ca/o1')
    out.append(('o1 bytes', r.status_code, r.content))
    return out


def _canon(r):
    try:
        body = r.json()
    except ValueError:
        return r.text
    body.pop('links', None)
    for v in body.values():
        if isinstance(v, list):
            v.sort(key=lambda e: json.dumps(e, sort_keys=True))
    return json.dumps(body, sort_keys=True)


def _ids_in(value):
    """Every "id" value anywhere in a JSON document."""
    found = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == 'id' and isinstance(v, str):
                found.add(v)
            found |= _ids_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= _ids_in(v)
    return found


# -- the matrix ----------------------------------------------------------------

def _check(service, case, expect, r, hidden_ids):
    """Returns a problem string, or None when `r` is what `expect` says."""
    if r.status_code not in expect.codes:
        return 'got %d, want %s: %s' % (r.status_code, expect, r.text[:200])
    if isinstance(expect, Deny) and r.status_code in (401, 403, 404):
        if service == I and r.request.method != 'HEAD':
            try:
                err = r.json()['error']
            except (ValueError, KeyError, TypeError):
                return 'not a Keystone error document: %r' % r.text[:200]
            if err.get('code') != r.status_code:
                return 'error.code %r != %d' % (err.get('code'), r.status_code)
        if r.status_code == 401 and service == I and \
                'www-authenticate' not in {k.lower() for k in r.headers}:
            return '401 without WWW-Authenticate'
        if r.status_code == 401 and service == O and r.request.method != 'HEAD':
            if 'Unauthorized' not in r.text:
                return 'Swift 401 body: %r' % r.text[:200]
    if isinstance(expect, Allow) and expect.hidden:
        leaked = _ids_in(r.json()) & hidden_ids
        if leaked:
            return 'shows A\'s %s' % sorted(leaked)
    return None


def test_isolation_matrix(world):
    w = world
    unclassified, problems = [], []
    counts = {'routes': 0, 'requests': 0, 'public': 0, 'unimplemented': 0}
    w.ids['subject_token'] = w.token_am
    before = fingerprint(w)
    for route in w.routes:
        service, method, pattern = route['service'], route['method'], route['pattern']
        rule = classify(service, method, pattern)
        if rule is None:
            unclassified.append('%s %s %s' % (service, method, pattern))
            continue
        try:
            method, path, headers, kw = request_for(route, w.ids)
        except KeyError as e:
            unclassified.append(str(e))
            continue
        counts['routes'] += 1
        if isinstance(rule, Unimplemented):
            counts['unimplemented'] += 1
        elif isinstance(rule, Public):
            counts['public'] += 1
        base = w.cloud.base_url if service == I else w.cloud.object_base_url
        for case in CASES:
            if case == 'reader of A' and method not in WRITES and \
                    isinstance(rule, Protected):
                continue
            expect = rule.expect(case)
            h = dict(headers)
            if w.tokens[case]:
                h['X-Auth-Token'] = w.tokens[case]
            r = w.http.request(method, base + path, headers=h, timeout=30,
                               allow_redirects=False, **kw)
            counts['requests'] += 1
            hidden = {w.ids[k] for k in getattr(expect, 'hidden', ())}
            problem = _check(service, case, expect, r, hidden)
            if problem:
                problems.append('%s %s %s [%s]: %s' % (service, method, pattern,
                                                       case, problem))
        after = fingerprint(w)
        if after != before:
            changed = [a for a, b in zip(after, before) if a != b]
            problems.append('%s %s %s changed state: %s' % (
                service, method, pattern, str(changed)[:600]))
            before = after
    print('\nisolation matrix: %d routes (%d public, %d unimplemented) x %d cases'
          ' = %d requests; %d unclassified, %d problems' % (
              counts['routes'], counts['public'], counts['unimplemented'],
              len(CASES), counts['requests'], len(unclassified), len(problems)))
    assert not unclassified, (
        'routes the isolation matrix cannot classify (add them to PUBLIC/SPECIAL/IDENTITY_FAMILIES with '
        'their expected answers):\n' + '\n'.join(unclassified))
    assert not problems, '\n'.join(problems)
    assert counts['routes'] == len(w.routes)
    reliability.record(
        'tenant isolation matrix (test_isolation.py)',
        load='every route of `onestack routes`',
        faults='-',
        bad_inputs=', '.join(CASES),
        result='401/403/404 as expected, no state change',
        lost=0, figures={'routes': counts['routes'], 'requests': counts['requests']})


def test_account_put_delete_authorize_before_405(world):
    """Swift asks the auth middleware before the handler: account PUT and
    DELETE are 401 without a token, 403 to a stranger, 405 to the owner."""
    w = world
    acct = '/v1/' + w.ids['account']
    for method in ('PUT', 'DELETE'):
        assert w.swift(method, acct, None).status_code == 401
        assert w.swift(method, acct, w.tokens['project B']).status_code == 403
        r = w.swift(method, acct, w.token_am)
        assert r.status_code == 405, r.text


def test_signed_and_public_modes_refuse_forgeries(world):
    """TempURL, FormPost and StaticWeb are the public faces of the object
    routes: without a valid signature or a public ACL they are 401, and the
    refused request changes nothing."""
    w = world
    acct = '/v1/' + w.ids['account']
    before = fingerprint(w)
    expires = str(int(time.time()) + 600)
    forged = {'temp_url_sig': 'a' * 40, 'temp_url_expires': expires}
    for method in ('GET', 'HEAD', 'PUT', 'DELETE'):
        r = w.swift(method, acct + '/ca/o1', None, params=forged,
                    data=b'evil' if method == 'PUT' else None)
        assert r.status_code == 401, (method, r.status_code, r.text)
        if method != 'HEAD':
            assert 'Temp URL invalid' in r.text, r.text
    # A prefix-scoped signature for another account's prefix is no better.
    r = w.swift('GET', acct + '/ca/o1', None, params=dict(
        forged, temp_url_prefix='o'))
    assert r.status_code == 401, r.text
    fields = {'redirect': '', 'max_file_size': '1024', 'max_file_count': '1',
              'expires': expires, 'signature': 'b' * 40}
    r = w.swift('POST', acct + '/ca', None, data=fields,
                files={'file1': ('evil.txt', b'evil')})
    assert r.status_code == 401, (r.status_code, r.text)
    assert 'FormPost' in r.text, r.text
    # StaticWeb answers only where the container is public (.r:*): here a
    # listing and an index without a token are 401.
    for path in (acct + '/ca', acct + '/ca/', acct + '/ca/o1'):
        r = w.swift('GET', path, None)
        assert r.status_code == 401, (path, r.status_code, r.text)
    assert fingerprint(w) == before
