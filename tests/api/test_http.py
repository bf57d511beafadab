"""Keystone v3 behaviour and bad input, over raw HTTP."""

import datetime
import json
import os
import re
import socket
import statistics
import time
import uuid

import pytest
import requests

from conftest import unique

REQUEST_ID = re.compile(r'^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                        r'[0-9a-f]{4}-[0-9a-f]{12}$')


def assert_error(r, code):
    """The response is Keystone's error document with HTTP status `code`."""
    assert r.status_code == code, (r.status_code, r.text)
    assert r.headers['Content-Type'].startswith('application/json'), r.headers
    body = r.json()
    assert set(body) == {'error'}, body
    error = body['error']
    assert error['code'] == code, body
    assert isinstance(error['title'], str) and error['title'], body
    assert isinstance(error['message'], str) and error['message'], body
    assert REQUEST_ID.match(r.headers['x-openstack-request-id'])
    return error


def project_names(cloud):
    r = cloud.request('GET', '/v3/projects', admin=True)
    assert r.status_code == 200
    return sorted(p['name'] for p in r.json()['projects'])


def password_auth(user_id=None, name=None, password='x', scope=None):
    user = {'password': password}
    if user_id:
        user['id'] = user_id
    else:
        user['name'] = name
        user['domain'] = {'id': 'default'}
    body = {'auth': {'identity': {'methods': ['password'],
                                  'password': {'user': user}}}}
    if scope:
        body['auth']['scope'] = scope
    return body


def tamper(token):
    middle = len(token) // 2
    swapped = 'A' if token[middle] != 'A' else 'B'
    return token[:middle] + swapped + token[middle + 1:]


# -- discovery, headers, health, metrics ----------------------------------

def test_version_discovery_at_root(cloud):
    r = cloud.request('GET', '/')
    assert r.status_code == 300, r.text
    values = r.json()['versions']['values']
    assert values[0]['id'].startswith('v3')
    assert values[0]['status'] == 'stable'
    hrefs = [link['href'] for link in values[0]['links'] if link['rel'] == 'self']
    assert hrefs and hrefs[0].rstrip('/') == cloud.auth_url


def test_version_document_at_v3(cloud):
    for path in ('/v3', '/v3/'):
        r = cloud.request('GET', path)
        assert r.status_code == 200, (path, r.text)
        version = r.json()['version']
        assert version['id'].startswith('v3')
        types = {m['type'] for m in version['media-types']}
        assert 'application/vnd.openstack.identity-v3+json' in types


def test_every_response_has_a_request_id(cloud):
    seen = set()
    for method, path, kwargs in [
            ('GET', '/', {}), ('GET', '/v3', {}), ('GET', '/healthcheck', {}),
            ('GET', '/v3/projects', {}),                      # 401
            ('GET', '/v3/projects/nope', {'admin': True}),    # 404
            ('PUT', '/v3/projects', {'admin': True}),         # 405
            ('POST', '/v3/projects', {'admin': True, 'data': '{'}),  # 400
            ('GET', '/v3/projects', {'admin': True})]:
        r = cloud.request(method, path, **kwargs)
        rid = r.headers.get('x-openstack-request-id', '')
        assert REQUEST_ID.match(rid), (method, path, r.status_code, rid)
        seen.add(rid)
    assert len(seen) == 8, 'request ids are not unique'


def test_healthcheck_get_and_head(cloud):
    r = cloud.request('GET', '/healthcheck')
    assert r.status_code == 200
    assert r.text.strip() == 'OK'
    r = cloud.request('HEAD', '/healthcheck')
    assert r.status_code == 200
    assert r.content == b''


def test_metrics_count_identity_requests(cloud):
    cloud.request('GET', '/v3')
    r = cloud.request('GET', '/metrics')
    assert r.status_code == 200
    assert r.headers['Content-Type'].startswith('text/plain')
    lines = [line for line in r.text.splitlines()
             if line.startswith('onestack_http_requests_total{')]
    assert lines, r.text[:2000]
    identity = [line for line in lines if 'service="identity"' in line]
    assert identity, lines
    assert sum(float(line.rsplit(' ', 1)[1]) for line in identity) >= 1


def test_metrics_count_database_transactions_by_point(cloud):
    def creates():
        r = cloud.request('GET', '/metrics')
        assert r.status_code == 200
        for line in r.text.splitlines():
            if line.startswith('onestack_db_transactions_total{store="identity",'
                               'point="identity.create"}'):
                return float(line.rsplit(' ', 1)[1])
        return 0.0
    before = creates()
    cloud.new_project()
    assert creates() == before + 1


# -- error shapes and bad input -------------------------------------------

def test_malformed_json_is_400_and_changes_nothing(cloud):
    before = project_names(cloud)
    for body in ['{', '{"project": {"name": "x",}}', 'not json', '\xff\xfe',
                 '[]', '{"project": "x"}', '']:
        r = cloud.request('POST', '/v3/projects', admin=True, data=body,
                          headers={'Content-Type': 'application/json'})
        assert_error(r, 400)
    assert project_names(cloud) == before


def test_deeply_nested_json_is_400(cloud):
    before = project_names(cloud)
    deep = '{"project": {"name": "deep", "extra": ' + '[' * 1000 + ']' * 1000 + '}}'
    r = cloud.request('POST', '/v3/projects', admin=True, data=deep,
                      headers={'Content-Type': 'application/json'})
    assert_error(r, 400)
    deep = '{"a":' * 1000 + '1' + '}' * 1000
    r = cloud.request('POST', '/v3/auth/tokens', data=deep,
                      headers={'Content-Type': 'application/json'})
    assert_error(r, 400)
    assert project_names(cloud) == before


@pytest.mark.parametrize('project', [
    {'name': 123},
    {'name': None},
    {'name': ['a']},
    {'name': ''},
    {'name': 'ok-name', 'enabled': 'yes'},
    {'name': 'ok-name', 'domain_id': 7},
    {'name': 'ok-name', 'description': {'a': 1}},
    {'name': 'x' * 100},
])
def test_wrong_types_are_400_and_create_nothing(cloud, project):
    before = project_names(cloud)
    r = cloud.request('POST', '/v3/projects', admin=True,
                      json={'project': project})
    assert_error(r, 400)
    assert project_names(cloud) == before


def _raw_exchange(cloud, head):
    """Sends raw request bytes; returns (status, headers, body) of the answer."""
    with socket.create_connection(('127.0.0.1', cloud.port), timeout=10) as s:
        s.sendall(head)
        data = b''
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
            if b'\r\n\r\n' in data:
                top, _, rest = data.partition(b'\r\n\r\n')
                length = re.search(rb'(?i)content-length: *(\d+)', top)
                if length and len(rest) >= int(length.group(1)):
                    break
    assert data, 'connection closed with no response'
    top, _, body = data.partition(b'\r\n\r\n')
    lines = top.decode('latin-1').split('\r\n')
    headers = dict(line.split(': ', 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize('expect', [False, True])
def test_oversized_body_is_413_and_changes_nothing(cloud, expect):
    # The Content-Length alone is over the limit (1 MiB by default): the
    # answer comes before any body byte is sent.
    before = project_names(cloud)
    head = ('POST /v3/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n'
            'X-Auth-Token: %s\r\nContent-Type: application/json\r\n'
            'Content-Length: %d\r\n%s\r\n') % (
                cloud.admin_token(), 2 << 20,
                'Expect: 100-continue\r\n' if expect else '')
    status, headers, body = _raw_exchange(cloud, head.encode())
    assert status == 413, (status, body)
    assert json.loads(body)['error']['code'] == 413
    assert REQUEST_ID.match(headers['x-openstack-request-id'])
    assert project_names(cloud) == before


def test_invalid_utf8_in_a_name_is_400(cloud):
    before = project_names(cloud)
    body = b'{"project": {"name": "bad-\xc3\x28-name"}}'
    r = cloud.request('POST', '/v3/projects', admin=True, data=body,
                      headers={'Content-Type': 'application/json'})
    assert_error(r, 400)
    assert project_names(cloud) == before


def test_listings_never_show_passwords(cloud):
    user = cloud.new_user()
    r = cloud.request('GET', '/v3/users', admin=True)
    assert r.status_code == 200
    assert user['password'] not in r.text
    assert all('password' not in u for u in r.json()['users'])
    r = cloud.request('GET', '/v3/users/' + user['id'], admin=True)
    assert 'password' not in r.json()['user']
    with open(cloud.log_path, errors='replace') as f:
        assert user['password'] not in f.read()


def test_unknown_method_is_405(cloud):
    before = project_names(cloud)
    r = cloud.request('PUT', '/v3/projects', admin=True,
                      json={'project': {'name': unique('p')}})
    assert_error(r, 405)
    r = cloud.request('DELETE', '/v3/projects', admin=True)
    assert_error(r, 405)
    assert project_names(cloud) == before


def test_duplicate_project_name_is_409(cloud):
    name = unique('dup')
    cloud.new_project(name=name)
    before = project_names(cloud)
    r = cloud.request('POST', '/v3/projects', admin=True,
                      json={'project': {'name': name, 'domain_id': 'default'}})
    assert_error(r, 409)
    assert project_names(cloud) == before
    # The same name in another domain is fine.
    domain = cloud.create('domains', {'name': unique('d')})
    other = cloud.create('projects', {'name': name, 'domain_id': domain['id']})
    assert other['domain_id'] == domain['id']


@pytest.mark.parametrize('path', [
    '/v3/projects/0123456789abcdef0123456789abcdef',
    '/v3/users/does-not-exist',
    '/v3/groups/does-not-exist',
    '/v3/roles/does-not-exist',
    '/v3/domains/does-not-exist',
    '/v3/regions/does-not-exist',
    '/v3/services/does-not-exist',
    '/v3/endpoints/does-not-exist',
    '/v3/no-such-collection',
])
def test_missing_ids_are_404(cloud, path):
    assert_error(cloud.request('GET', path, admin=True), 404)


def test_delete_missing_is_404_and_changes_nothing(cloud):
    before = project_names(cloud)
    r = cloud.request('DELETE', '/v3/projects/0123456789abcdef0123456789abcdef',
                      admin=True)
    assert_error(r, 404)
    assert project_names(cloud) == before


def test_no_token_is_401(cloud):
    assert_error(cloud.request('GET', '/v3/projects'), 401)
    assert_error(cloud.request('GET', '/v3/projects', token='garbage'), 401)


# -- authentication --------------------------------------------------------

def _timed_auth(cloud, body):
    start = time.perf_counter()
    r = cloud.request('POST', '/v3/auth/tokens', json=body)
    return r, time.perf_counter() - start


def test_wrong_password_same_answer_for_existing_and_unknown_user(new_cloud):
    # Hashes costly enough (~20-60 ms) that skipping the check for an
    # unknown user would show far outside the tolerance below.
    cloud = new_cloud(hash_rounds=10)
    user = cloud.new_user()
    known, unknown, answers = [], [], []
    for _ in range(7):
        r1, t1 = _timed_auth(cloud, password_auth(name=user['name'],
                                                  password='wrong'))
        r2, t2 = _timed_auth(cloud, password_auth(name=unique('ghost'),
                                                  password='wrong'))
        r3, t3 = _timed_auth(cloud, password_auth(
            user_id=uuid.uuid4().hex, password='wrong'))
        known.append(t1)
        unknown.append(t2)
        unknown.append(t3)
        answers.extend([r1, r2, r3])
    errors = [assert_error(r, 401) for r in answers]
    assert all(e == errors[0] for e in errors), errors
    # An unknown user must not answer measurably faster (no user
    # enumeration by timing). Generous bounds: loopback noise is large.
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 <= ratio <= 2.0, (statistics.median(known),
                                 statistics.median(unknown))
    # The right password still works.
    cloud.issue_token(user['name'], user['password'])


def test_tampered_token_is_401_as_auth_and_404_as_subject(cloud):
    token, _ = cloud.issue_token(project=cloud.project_name)
    bad = tamper(token)
    assert_error(cloud.request('GET', '/v3/projects', token=bad), 401)
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': bad})
    assert_error(r, 404)
    r = cloud.request('HEAD', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': bad})
    assert r.status_code == 404
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 200


def test_token_validation_returns_the_token(cloud):
    token, body = cloud.issue_token(project=cloud.project_name)
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 200, r.text
    assert r.headers['X-Subject-Token'] == token
    got = r.json()['token']
    for key in ('expires_at', 'issued_at', 'audit_ids', 'methods', 'user',
                'project'):
        assert got[key] == body[key], key
    assert {role['name'] for role in got['roles']} >= {'admin', 'member',
                                                       'reader'}
    r = cloud.request('HEAD', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 200


def test_revocation_is_honoured_at_once(cloud):
    user = cloud.new_user()
    project = cloud.new_project()
    cloud.grant(project['id'], user['id'], 'member')
    token, _ = cloud.issue_token(user['name'], user['password'],
                                 project_id=project['id'])
    path = '/v3/projects/' + project['id']
    assert cloud.request('GET', path, token=token).status_code == 200
    r = cloud.request('DELETE', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 204, r.text
    assert_error(cloud.request('GET', path, token=token), 401)
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert_error(r, 404)


def test_rescoped_token_keeps_expiry_and_chains_audit_ids(cloud):
    user = cloud.new_user()
    project = cloud.new_project()
    cloud.grant(project['id'], user['id'], 'member')
    parent, parent_body = cloud.issue_token(user['name'], user['password'])
    assert 'project' not in parent_body  # unscoped
    time.sleep(1.1)  # so a fresh expiry would be visibly later
    r = cloud.request('POST', '/v3/auth/tokens', json={'auth': {
        'identity': {'methods': ['token'], 'token': {'id': parent}},
        'scope': {'project': {'id': project['id']}}}})
    assert r.status_code == 201, r.text
    child = r.json()['token']
    assert child['project']['id'] == project['id']
    assert child['expires_at'] <= parent_body['expires_at']
    assert len(child['audit_ids']) == 2
    assert child['audit_ids'][1] == parent_body['audit_ids'][0]
    assert child['audit_ids'][0] != parent_body['audit_ids'][0]
    assert child['methods'] == ['token'] or 'token' in child['methods']


def test_nocatalog_omits_the_catalog(cloud):
    body = password_auth(name=cloud.username, password=cloud.password,
                         scope={'project': {'name': cloud.project_name,
                                            'domain': {'id': 'default'}}})
    r = cloud.request('POST', '/v3/auth/tokens', json=body)
    assert r.status_code == 201
    assert r.json()['token']['catalog'], 'a scoped token carries the catalog'
    token = r.headers['X-Subject-Token']

    r = cloud.request('POST', '/v3/auth/tokens?nocatalog', json=body)
    assert r.status_code == 201, r.text
    assert 'catalog' not in r.json()['token']

    r = cloud.request('GET', '/v3/auth/tokens?nocatalog', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 200
    assert 'catalog' not in r.json()['token']
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.json()['token']['catalog']


def test_auth_catalog_matches_token_catalog(cloud):
    token, body = cloud.issue_token(project=cloud.project_name)
    r = cloud.request('GET', '/v3/auth/catalog', token=token)
    assert r.status_code == 200, r.text
    assert r.json()['catalog'] == body['catalog']
    identity = [s for s in body['catalog'] if s['type'] == 'identity']
    assert identity
    urls = {e['interface']: e['url'] for e in identity[0]['endpoints']}
    assert urls['public'].rstrip('/') in (cloud.auth_url, cloud.base_url)


# -- authorization ---------------------------------------------------------

def _member_of_new_project(cloud, role='member'):
    user = cloud.new_user()
    project = cloud.new_project()
    cloud.grant(project['id'], user['id'], role)
    token, _ = cloud.issue_token(user['name'], user['password'],
                                 project_id=project['id'])
    return user, project, token


def test_member_of_one_project_cannot_read_another(cloud):
    _, mine, token = _member_of_new_project(cloud)
    theirs = cloud.new_project()
    assert cloud.request('GET', '/v3/projects/' + mine['id'],
                         token=token).status_code == 200
    assert_error(cloud.request('GET', '/v3/projects/' + theirs['id'],
                               token=token), 403)
    r = cloud.request('PATCH', '/v3/projects/' + theirs['id'], token=token,
                      json={'project': {'description': 'hijacked'}})
    assert_error(r, 403)
    r = cloud.request('GET', '/v3/projects/' + theirs['id'], admin=True)
    assert r.json()['project']['description'] != 'hijacked'
    # Scoping a token to a project the user has no role on is refused.
    user2, _, _ = _member_of_new_project(cloud)
    r = cloud.request('POST', '/v3/auth/tokens', json=password_auth(
        user_id=user2['id'], password=user2['password'],
        scope={'project': {'id': theirs['id']}}))
    assert_error(r, 401)


def test_reader_cannot_create_a_project(cloud):
    _, _, token = _member_of_new_project(cloud, role='reader')
    before = project_names(cloud)
    r = cloud.request('POST', '/v3/projects', token=token,
                      json={'project': {'name': unique('p'),
                                        'domain_id': 'default'}})
    assert_error(r, 403)
    r = cloud.request('POST', '/v3/users', token=token,
                      json={'user': {'name': unique('u')}})
    assert_error(r, 403)
    assert project_names(cloud) == before


def test_member_cannot_grant_itself_admin(cloud):
    user, project, token = _member_of_new_project(cloud)
    r = cloud.request('PUT', '/v3/projects/%s/users/%s/roles/%s' % (
        project['id'], user['id'], cloud.role_id('admin')), token=token)
    assert_error(r, 403)
    r = cloud.request('GET', '/v3/role_assignments?user.id=' + user['id'],
                      admin=True)
    assert [a['role']['id'] for a in r.json()['role_assignments']] == [
        cloud.role_id('member')]


# -- token lifetime and keys (private clouds) ------------------------------

def test_expired_token_is_401_but_allow_expired_validates(new_cloud):
    short = new_cloud('[token]\nexpiration = 2\n')
    user = short.new_user()
    project = short.new_project()
    short.grant(project['id'], user['id'], 'member')
    token, body = short.issue_token(user['name'], user['password'],
                                    project_id=project['id'])
    path = '/v3/projects/' + project['id']
    assert short.request('GET', path, token=token).status_code == 200
    expires = datetime.datetime.strptime(body['expires_at'],
                                         '%Y-%m-%dT%H:%M:%S.%fZ')
    left = (expires - datetime.datetime.utcnow()).total_seconds()
    assert left <= 3, body['expires_at']
    time.sleep(max(0, left) + 1.1)
    assert_error(short.request('GET', path, token=token), 401)

    admin, _ = short.issue_token(project=short.project_name)  # fresh, valid
    r = short.request('GET', '/v3/auth/tokens', token=admin,
                      headers={'X-Subject-Token': token})
    assert_error(r, 404)
    r = short.request('GET', '/v3/auth/tokens?allow_expired=1', token=admin,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 200, r.text
    got = r.json()['token']
    assert got['expires_at'] == body['expires_at']
    assert got['project']['id'] == project['id']


def _validates(c, auth, subject):
    r = c.request('GET', '/v3/auth/tokens', token=auth,
                  headers={'X-Subject-Token': subject})
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def test_fernet_rotate_while_serving(new_cloud):
    # Four active keys: a token outlives two rotations (primary -> secondary,
    # kept), and the third purges its key, as keystone-manage fernet_rotate.
    c = new_cloud('[fernet_tokens]\nmax_active_keys = 4\n')

    def rotate():
        c.onestack('fernet-rotate', '--config-file', c.config_file,
                   '--data-dir', c.data_dir)

    old, _ = c.issue_token(project=c.project_name)
    for _ in range(2):
        rotate()
        assert _validates(c, old, old)
    time.sleep(6)  # the server reloads its key repository every 5 s
    keys = sorted(int(k) for k in os.listdir(os.path.join(c.data_dir,
                                                          'fernet-keys')))
    assert keys == [0, 1, 2, 3]
    fresh, _ = c.issue_token(project=c.project_name)
    assert _validates(c, fresh, old)
    assert _validates(c, fresh, fresh)

    # The third rotation purges the key `old` was made with: the running
    # server refuses it once it has reloaded (it has validated `old` many
    # times, so nothing remembered about it may outlive its key), and a
    # restarted server reads the repository at once.
    rotate()
    time.sleep(6)
    assert _validates(c, fresh, fresh)
    assert not _validates(c, fresh, old)
    assert c.stop() == 0
    c.start()
    assert _validates(c, fresh, fresh)
    assert not _validates(c, fresh, old)


# -- lifecycle effects on tokens and conflicts -----------------------------

def test_enabled_domain_cannot_be_deleted(cloud):
    domain = cloud.create('domains', {'name': unique('d')})
    path = '/v3/domains/' + domain['id']
    assert_error(cloud.request('DELETE', path, admin=True), 403)
    assert cloud.request('GET', path, admin=True).status_code == 200
    r = cloud.request('PATCH', path, admin=True,
                      json={'domain': {'enabled': False}})
    assert r.status_code == 200, r.text
    assert cloud.request('DELETE', path, admin=True).status_code == 204
    assert_error(cloud.request('GET', path, admin=True), 404)


@pytest.mark.parametrize('collection', ['users', 'groups', 'roles', 'domains'])
def test_duplicate_names_are_409(cloud, collection):
    name = unique(collection)
    body = {'name': name}
    if collection in ('users', 'groups'):
        body['domain_id'] = 'default'
    cloud.create(collection, body)
    r = cloud.request('POST', '/v3/' + collection, admin=True,
                      json={collection[:-1]: body})
    assert_error(r, 409)
    r = cloud.request('GET', '/v3/%s?name=%s' % (collection, name), admin=True)
    assert len(r.json()[collection]) == 1


def test_disabling_a_user_ends_its_tokens_and_logins(cloud):
    user, project, token = _member_of_new_project(cloud)
    path = '/v3/projects/' + project['id']
    assert cloud.request('GET', path, token=token).status_code == 200
    r = cloud.request('PATCH', '/v3/users/' + user['id'], admin=True,
                      json={'user': {'enabled': False}})
    assert r.status_code == 200, r.text
    assert_error(cloud.request('GET', path, token=token), 401)
    r = cloud.request('POST', '/v3/auth/tokens', json=password_auth(
        user_id=user['id'], password=user['password']))
    assert_error(r, 401)


def test_deleting_a_user_ends_its_tokens(cloud):
    user, project, token = _member_of_new_project(cloud)
    path = '/v3/projects/' + project['id']
    assert cloud.request('GET', path, token=token).status_code == 200
    r = cloud.request('DELETE', '/v3/users/' + user['id'], admin=True)
    assert r.status_code == 204, r.text
    assert_error(cloud.request('GET', path, token=token), 401)
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert_error(r, 404)


def test_disabled_project_cannot_be_scoped_to(cloud):
    user, project, token = _member_of_new_project(cloud)
    r = cloud.request('PATCH', '/v3/projects/' + project['id'], admin=True,
                      json={'project': {'enabled': False}})
    assert r.status_code == 200, r.text
    assert_error(cloud.request('GET', '/v3/projects/' + project['id'],
                               token=token), 401)
    r = cloud.request('POST', '/v3/auth/tokens', json=password_auth(
        user_id=user['id'], password=user['password'],
        scope={'project': {'id': project['id']}}))
    assert_error(r, 401)


def test_a_token_in_use_loses_what_identity_writes_take_away(cloud):
    """Validated tokens' contexts are remembered; every identity write
    (here a role taken away, a user disabled) must end that at once, for
    Keystone and for Swift."""
    user, project, token = _member_of_new_project(cloud)
    path = '/v3/projects/' + project['id']
    account = '%s/v1/AUTH_%s' % (cloud.object_base_url, project['id'])
    for _ in range(3):  # warm every cache on the way
        assert cloud.request('GET', path, token=token).status_code == 200
        # An account not created yet answers HEAD with the proxy's 200.
        assert requests.head(account, headers={'X-Auth-Token': token},
                             timeout=30).status_code == 200
    r = cloud.request('GET', '/v3/roles?name=member', admin=True)
    role_id = r.json()['roles'][0]['id']
    r = cloud.request('DELETE', '/v3/projects/%s/users/%s/roles/%s' % (
        project['id'], user['id'], role_id), admin=True)
    assert r.status_code == 204, r.text
    assert_error(cloud.request('GET', path, token=token), 401)
    assert requests.head(account, headers={'X-Auth-Token': token},
                         timeout=30).status_code == 401

    user2, project2, token2 = _member_of_new_project(cloud)
    account2 = '%s/v1/AUTH_%s' % (cloud.object_base_url, project2['id'])
    assert requests.head(account2, headers={'X-Auth-Token': token2},
                         timeout=30).status_code == 200
    r = cloud.request('PATCH', '/v3/users/' + user2['id'], admin=True,
                      json={'user': {'enabled': False}})
    assert r.status_code == 200, r.text
    assert requests.head(account2, headers={'X-Auth-Token': token2},
                         timeout=30).status_code == 401


def test_scope_to_missing_project_is_401(cloud):
    r = cloud.request('POST', '/v3/auth/tokens', json=password_auth(
        name=cloud.username, password=cloud.password,
        scope={'project': {'id': uuid.uuid4().hex}}))
    assert_error(r, 401)


def test_project_with_children_cannot_be_deleted(cloud):
    parent = cloud.new_project()
    child = cloud.new_project(parent_id=parent['id'])
    assert child['parent_id'] == parent['id']
    assert_error(cloud.request('DELETE', '/v3/projects/' + parent['id'],
                               admin=True), 403)
    assert cloud.request('DELETE', '/v3/projects/' + child['id'],
                         admin=True).status_code == 204
    assert cloud.request('DELETE', '/v3/projects/' + parent['id'],
                         admin=True).status_code == 204


def test_unauthorized_answers_name_the_auth_url(cloud):
    r = cloud.request('GET', '/v3/projects')
    assert_error(r, 401)
    assert r.headers.get('WWW-Authenticate', '').startswith('Keystone uri='), \
        r.headers


def _app_cred_auth(cred_id, secret):
    return {'auth': {'identity': {
        'methods': ['application_credential'],
        'application_credential': {'id': cred_id, 'secret': secret}}}}


def test_application_credential_limits_roles_and_cannot_make_more(cloud):
    user, project, token = _member_of_new_project(cloud)
    r = cloud.request('POST', '/v3/users/%s/application_credentials' % user['id'],
                      token=token, json={'application_credential': {
                          'name': unique('ac'), 'roles': [{'name': 'reader'}]}})
    assert r.status_code == 201, r.text
    cred = r.json()['application_credential']
    assert cred['project_id'] == project['id']
    assert [role['name'] for role in cred['roles']] == ['reader']
    assert cred['unrestricted'] is False

    r = cloud.request('POST', '/v3/auth/tokens',
                      json=_app_cred_auth(cred['id'], cred['secret']))
    assert r.status_code == 201, r.text
    body = r.json()['token']
    assert body['methods'] == ['application_credential']
    assert body['project']['id'] == project['id']
    assert [role['name'] for role in body['roles']] == ['reader']
    assert body['application_credential']['id'] == cred['id']
    app_token = r.headers['X-Subject-Token']

    # A restricted credential's token cannot create credentials.
    r = cloud.request('POST', '/v3/users/%s/application_credentials' % user['id'],
                      token=app_token, json={'application_credential': {
                          'name': unique('ac')}})
    assert_error(r, 403)

    # Wrong secret: 401; deleting the credential ends its tokens.
    r = cloud.request('POST', '/v3/auth/tokens',
                      json=_app_cred_auth(cred['id'], 'wrong'))
    assert_error(r, 401)
    r = cloud.request('DELETE', '/v3/users/%s/application_credentials/%s' % (
        user['id'], cred['id']), token=token)
    assert r.status_code == 204, r.text
    assert_error(cloud.request('GET', '/v3/projects/' + project['id'],
                               token=app_token), 401)
    r = cloud.request('POST', '/v3/auth/tokens',
                      json=_app_cred_auth(cred['id'], cred['secret']))
    assert_error(r, 401)


def _new_entity(cloud, collection):
    name = unique(collection)
    if collection == 'projects':
        return cloud.new_project()
    if collection == 'users':
        return cloud.new_user()
    if collection == 'groups':
        return cloud.create('groups', {'name': name, 'domain_id': 'default'})
    if collection == 'roles':
        return cloud.create('roles', {'name': name})
    if collection == 'regions':
        return cloud.create('regions', {'id': name})
    if collection == 'services':
        return cloud.create('services', {'name': name, 'type': name})
    if collection == 'endpoints':
        service = cloud.create('services', {'name': name, 'type': name})
        return cloud.create('endpoints', {
            'service_id': service['id'], 'interface': 'public',
            'url': 'http://127.0.0.1:9/' + name, 'region_id': 'RegionOne'})
    raise AssertionError(collection)


@pytest.mark.parametrize('collection', ['projects', 'users', 'groups', 'roles',
                                        'regions', 'services', 'endpoints'])
def test_patch_cannot_change_an_id(cloud, collection):
    # Keystone answers 400 "Cannot change ID" when the body names another id
    # (keystone/server/flask/common.py _require_matching_id).
    entity = _new_entity(cloud, collection)
    key = collection[:-1]
    path = '/v3/%s/%s' % (collection, entity['id'])
    r = cloud.request('PATCH', path, admin=True,
                      json={key: {'id': uuid.uuid4().hex,
                                  'description': 'changed'}})
    assert_error(r, 400)
    r = cloud.request('GET', path, admin=True)
    assert r.status_code == 200
    assert r.json()[key].get('description') != 'changed'
    # Naming its own id is allowed.
    r = cloud.request('PATCH', path, admin=True,
                      json={key: {'id': entity['id'], 'description': 'same'}})
    assert r.status_code == 200, r.text
    assert r.json()[key]['id'] == entity['id']


def test_removing_a_grant_ends_tokens_that_relied_on_it(cloud):
    user, project, token = _member_of_new_project(cloud)
    path = '/v3/projects/' + project['id']
    assert cloud.request('GET', path, token=token).status_code == 200
    r = cloud.request('DELETE', '/v3/projects/%s/users/%s/roles/%s' % (
        project['id'], user['id'], cloud.role_id('member')), admin=True)
    assert r.status_code == 204, r.text
    assert_error(cloud.request('GET', path, token=token), 401)


def test_deleting_a_role_ends_tokens_that_carry_it(cloud):
    user = cloud.new_user()
    project = cloud.new_project()
    role = cloud.create('roles', {'name': unique('role')})
    r = cloud.request('PUT', '/v3/projects/%s/users/%s/roles/%s' % (
        project['id'], user['id'], role['id']), admin=True)
    assert r.status_code == 204, r.text
    token, body = cloud.issue_token(user['name'], user['password'],
                                    project_id=project['id'])
    assert [x['id'] for x in body['roles']] == [role['id']]
    path = '/v3/projects/' + project['id']
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 200
    assert cloud.request('DELETE', '/v3/roles/' + role['id'],
                         admin=True).status_code == 204
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert_error(r, 404)
    r = cloud.request('GET', '/v3/role_assignments?user.id=' + user['id'],
                      admin=True)
    assert r.json()['role_assignments'] == []
    assert_error(cloud.request('GET', path, token=token), 401)


@pytest.mark.parametrize('path', [
    '/v3/OS-TRUST/trusts',
    '/v3/limits',
    '/v3/registered_limits',
    '/v3/policies',
    '/v3/OS-FEDERATION/identity_providers',
    '/v3/OS-FEDERATION/mappings',
    '/v3/OS-EP-FILTER/endpoint_groups',
    '/v3/OS-OAUTH1/consumers',
    '/v3/users/{user_id}/access_rules',
    '/v3/users/{user_id}/credentials/OS-EC2',
])
def test_keystone_routes_answer_or_say_not_implemented(cloud, path):
    # A Keystone v3 route that is not built yet answers 501 naming what is
    # missing, never 404 (which clients read as "no such resource").
    r = cloud.request('GET', '/v3/users?name=admin', admin=True)
    user_id = r.json()['users'][0]['id']
    r = cloud.request('GET', path.format(user_id=user_id), admin=True)
    if r.status_code == 501:
        assert_error(r, 501)
    else:
        assert r.status_code == 200, (r.status_code, r.text)


def test_project_hierarchy_as_ids(cloud):
    parent = cloud.new_project()
    child = cloud.new_project(parent_id=parent['id'])
    grandchild = cloud.new_project(parent_id=child['id'])
    r = cloud.request('GET', '/v3/projects/%s?parents_as_ids' % grandchild['id'],
                      admin=True)
    assert r.status_code == 200, r.text
    # Top-level projects hang off their domain, itself a project.
    assert r.json()['project']['parents'] == {
        child['id']: {parent['id']: {'default': None}}}
    r = cloud.request('GET', '/v3/projects/%s?subtree_as_ids' % parent['id'],
                      admin=True)
    assert r.status_code == 200, r.text
    assert r.json()['project']['subtree'] == {child['id']: {grandchild['id']: None}}
    r = cloud.request('GET', '/v3/projects/%s?parents_as_ids&parents_as_list'
                      % child['id'], admin=True)
    assert_error(r, 400)
