"""Keystone v3 behaviour and bad input, over raw HTTP."""

import os
import re
import statistics
import time

import pytest

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


def test_wrong_password_same_answer_for_existing_and_unknown_user(cloud):
    user = cloud.new_user()
    known, unknown = [], []
    bodies = []
    for _ in range(7):
        r1, t1 = _timed_auth(cloud, password_auth(name=user['name'],
                                                  password='wrong'))
        r2, t2 = _timed_auth(cloud, password_auth(name=unique('ghost'),
                                                  password='wrong'))
        known.append(t1)
        unknown.append(t2)
        bodies.append((r1, r2))
    for r1, r2 in bodies:
        e1 = assert_error(r1, 401)
        e2 = assert_error(r2, 401)
        assert e1 == e2
    # An unknown user must not answer measurably faster (no user
    # enumeration by timing). Generous bounds: loopback noise is large.
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 <= ratio <= 2.0, (statistics.median(known),
                                 statistics.median(unknown))
    # Same for a user id that does not exist.
    r = cloud.request('POST', '/v3/auth/tokens', json=password_auth(
        user_id='0123456789abcdef0123456789abcdef', password='wrong'))
    assert assert_error(r, 401) == assert_error(bodies[0][0], 401)


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
    time.sleep(3)
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

    # The third rotation purges the key `old` was made with; a restarted
    # server reads the repository at once.
    rotate()
    assert c.stop() == 0
    c.start()
    assert _validates(c, fresh, fresh)
    assert not _validates(c, fresh, old)
