"""Unified limits (/v3/registered_limits, /v3/limits, /v3/limits/model) as
Keystone Zed serves them with its default flat enforcement model: the real
`openstack` CLI for the everyday commands, raw HTTP for the refusals and
their exact words (keystone/exception.py, keystone/limit/backends/sql.py).

Zed's policies give every write to a system-scoped admin only
(role:admin and system_scope:all, with no deprecated rule), so the writes
here run as the bootstrap admin scoped to the system, as Keystone's own
tests do; the same admin scoped to a project is refused.
"""

import uuid

import pytest

from conftest import CliError, unique

FLAT = ('Limit enforcement and validation does not take project hierarchy '
        'into consideration.')
EXPECTING = (' The server could not comply with the request since it is '
             'either malformed or otherwise incorrect. The client is assumed '
             'to be in error.')

_SYSTEM_TOKENS = {}


def system_token(cloud):
    if cloud not in _SYSTEM_TOKENS:
        _SYSTEM_TOKENS[cloud] = cloud.issue_token(system=True)[0]
    return _SYSTEM_TOKENS[cloud]


def sys_request(cloud, method, path, **kw):
    return cloud.request(method, path, token=system_token(cloud), **kw)


def system_env(cloud):
    """OS_* variables for the CLI as the bootstrap admin, system-scoped."""
    return cloud.env(OS_PROJECT_NAME=None, OS_PROJECT_DOMAIN_NAME=None,
                     OS_SYSTEM_SCOPE='all')


def error_of(r, code):
    assert r.status_code == code, (r.status_code, r.text)
    err = r.json()['error']
    assert err['code'] == code, err
    return err['message']


def new_service(cloud):
    return cloud.create('services', {'type': unique('svc'), 'name': unique('svc')})['id']


def new_region(cloud):
    return cloud.create('regions', {'id': unique('region')})['id']


def register(cloud, service_id, resource, default=10, region_id=None, **extra):
    body = dict(service_id=service_id, resource_name=resource, default_limit=default,
                **extra)
    if region_id is not None:
        body['region_id'] = region_id
    r = sys_request(cloud, 'POST', '/v3/registered_limits',
                    json={'registered_limits': [body]})
    assert r.status_code == 201, r.text
    return r.json()['registered_limits'][0]


def limit(cloud, service_id, resource, value, region_id=None, **owner):
    body = dict(service_id=service_id, resource_name=resource, resource_limit=value,
                **owner)
    if region_id is not None:
        body['region_id'] = region_id
    r = sys_request(cloud, 'POST', '/v3/limits', json={'limits': [body]})
    assert r.status_code == 201, r.text
    return r.json()['limits'][0]


def member_of(cloud, project, role='member'):
    user = cloud.new_user()
    cloud.grant(project['id'], user['id'], role)
    token = cloud.issue_token(user['id'], user['password'], project_id=project['id'])[0]
    return user, token


# -- the model ----------------------------------------------------------------

def test_the_model_is_flat_for_any_token_and_needs_one(cloud):
    _, token = member_of(cloud, cloud.new_project())
    r = cloud.request('GET', '/v3/limits/model', token=token)
    assert r.status_code == 200, r.text
    assert r.json() == {'model': {'name': 'flat', 'description': FLAT}}
    assert cloud.request('HEAD', '/v3/limits/model', token=token).status_code == 200
    assert cloud.request('GET', '/v3/limits/model').status_code == 401


# -- the CLI ------------------------------------------------------------------

def test_registered_limit_create_list_show_set_delete_with_the_cli(cloud):
    env = system_env(cloud)
    service, region = new_service(cloud), new_region(cloud)
    created = cloud.openstack('registered', 'limit', 'create', '--service', service,
                              '--default-limit', 10, '--region', region,
                              '--description', 'volumes per project', 'volumes',
                              env=env)
    assert created['service_id'] == service
    assert created['region_id'] == region
    assert created['resource_name'] == 'volumes'
    assert created['default_limit'] == 10
    assert created['description'] == 'volumes per project'
    rid = created['id']

    listed = cloud.openstack('registered', 'limit', 'list', '--service', service, env=env)
    assert [row['ID'] for row in listed] == [rid]
    assert listed[0]['Default Limit'] == 10 and listed[0]['Region ID'] == region
    listed = cloud.openstack('registered', 'limit', 'list', '--resource-name', 'volumes',
                             '--region', region, env=env)
    assert rid in [row['ID'] for row in listed]

    shown = cloud.openstack('registered', 'limit', 'show', rid, env=env)
    assert shown == created

    cloud.openstack('registered', 'limit', 'set', '--default-limit', 20,
                    '--description', 'changed', rid, env=env)
    shown = cloud.openstack('registered', 'limit', 'show', rid, env=env)
    assert shown['default_limit'] == 20 and shown['description'] == 'changed'
    # The help of `registered limit set` warns that naming the service,
    # region or resource it already has is a duplicate entry: so it is.
    with pytest.raises(CliError) as err:
        cloud.openstack('registered', 'limit', 'set', '--service', service, rid, env=env)
    assert 'Duplicate entry' in err.value.stderr

    cloud.openstack('registered', 'limit', 'delete', rid, env=env)
    with pytest.raises(CliError):
        cloud.openstack('registered', 'limit', 'show', rid, env=env)


def test_limit_create_list_show_set_delete_with_the_cli(cloud):
    env = system_env(cloud)
    service, region = new_service(cloud), new_region(cloud)
    project = cloud.new_project()
    registered = register(cloud, service, 'cores', 20, region)
    created = cloud.openstack('limit', 'create', '--project', project['id'],
                              '--service', service, '--region', region,
                              '--resource-limit', 5, '--description', 'few', 'cores',
                              env=env)
    assert created['project_id'] == project['id']
    assert created['domain_id'] is None
    assert created['service_id'] == service
    assert created['region_id'] == region
    assert created['resource_name'] == 'cores'
    assert created['resource_limit'] == 5
    assert created['description'] == 'few'
    lid = created['id']

    listed = cloud.openstack('limit', 'list', '--service', service, env=env)
    assert [row['ID'] for row in listed] == [lid]
    assert listed[0]['Resource Limit'] == 5
    listed = cloud.openstack('limit', 'list', '--project', project['id'], env=env)
    assert [row['ID'] for row in listed] == [lid]

    assert cloud.openstack('limit', 'show', lid, env=env) == created
    cloud.openstack('limit', 'set', '--resource-limit', 7, '--description', 'more', lid,
                    env=env)
    shown = cloud.openstack('limit', 'show', lid, env=env)
    assert shown['resource_limit'] == 7 and shown['description'] == 'more'

    # A registered limit with a limit on it cannot be deleted.
    with pytest.raises(CliError):
        cloud.openstack('registered', 'limit', 'delete', registered['id'], env=env)
    cloud.openstack('limit', 'delete', lid, env=env)
    with pytest.raises(CliError):
        cloud.openstack('limit', 'show', lid, env=env)
    cloud.openstack('registered', 'limit', 'delete', registered['id'], env=env)


# -- rendering, lists and filters ------------------------------------------------

def test_a_list_post_creates_every_entity_and_renders_keystones_fields(cloud):
    service, region = new_service(cloud), new_region(cloud)
    r = sys_request(cloud, 'POST', '/v3/registered_limits', json={'registered_limits': [
        {'service_id': service, 'resource_name': 'a', 'default_limit': 1,
         'region_id': region, 'description': 'first'},
        {'service_id': service, 'resource_name': 'b', 'default_limit': -1}]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {'registered_limits'}
    first, second = body['registered_limits']
    assert set(first) == {'id', 'service_id', 'region_id', 'resource_name',
                          'default_limit', 'description', 'links'}
    assert first['links'] == {'self': cloud.auth_url + '/registered_limits/' + first['id']}
    assert (first['resource_name'], first['region_id'], first['description']) == (
        'a', region, 'first')
    assert (second['region_id'], second['description'], second['default_limit']) == (
        None, None, -1)

    project = cloud.new_project()
    r = sys_request(cloud, 'POST', '/v3/limits', json={'limits': [
        {'project_id': project['id'], 'service_id': service, 'resource_name': 'a',
         'region_id': region, 'resource_limit': 3},
        {'domain_id': 'default', 'service_id': service, 'resource_name': 'b',
         'resource_limit': 4, 'description': 'domain-wide'}]})
    assert r.status_code == 201, r.text
    p_limit, d_limit = r.json()['limits']
    assert set(p_limit) == {'id', 'project_id', 'domain_id', 'service_id', 'region_id',
                            'resource_name', 'resource_limit', 'description', 'links'}
    assert (p_limit['project_id'], p_limit['domain_id'], p_limit['description']) == (
        project['id'], None, None)
    assert (d_limit['project_id'], d_limit['domain_id'], d_limit['region_id']) == (
        None, 'default', None)
    assert p_limit['links'] == {'self': cloud.auth_url + '/limits/' + p_limit['id']}

    r = sys_request(cloud, 'GET', '/v3/registered_limits?service_id=' + service)
    assert r.status_code == 200
    assert r.json()['links']['self'].endswith('/v3/registered_limits?service_id=' + service)
    assert sorted(x['resource_name'] for x in r.json()['registered_limits']) == ['a', 'b']
    for query, names in [('&region_id=' + region, ['a']), ('&resource_name=b', ['b']),
                         ('&region_id=nowhere', [])]:
        r = sys_request(cloud, 'GET', '/v3/registered_limits?service_id=' + service + query)
        assert [x['resource_name'] for x in r.json()['registered_limits']] == names, query
    for query, ids in [('', [p_limit['id'], d_limit['id']]),
                       ('&region_id=' + region, [p_limit['id']]),
                       ('&resource_name=b', [d_limit['id']]),
                       ('&project_id=' + project['id'], [p_limit['id']]),
                       ('&domain_id=default', [d_limit['id']])]:
        r = sys_request(cloud, 'GET', '/v3/limits?service_id=' + service + query)
        assert r.status_code == 200
        assert sorted(x['id'] for x in r.json()['limits']) == sorted(ids), query
    # A domain's limit may be created by naming the domain as a project, as
    # Keystone (where a domain is a project) allows.
    sys_request(cloud, 'DELETE', '/v3/limits/' + d_limit['id'])
    as_project = limit(cloud, service, 'b', 9, project_id='default')
    assert (as_project['project_id'], as_project['domain_id']) == (None, 'default')
    sys_request(cloud, 'DELETE', '/v3/limits/' + as_project['id'])


def test_missing_ones_answer_keystones_404s(cloud):
    missing = uuid.uuid4().hex
    for method in ('GET', 'PATCH', 'DELETE'):
        r = sys_request(cloud, method, '/v3/registered_limits/' + missing,
                        json={'registered_limit': {}} if method == 'PATCH' else None)
        assert error_of(r, 404) == 'Could not find registered limit for %s.' % missing
        r = sys_request(cloud, method, '/v3/limits/' + missing,
                        json={'limit': {}} if method == 'PATCH' else None)
        assert error_of(r, 404) == 'Could not find limit for %s.' % missing


# -- what must exist, what must be unique ------------------------------------------

def test_duplicates_conflict_and_a_failing_list_creates_nothing(cloud):
    service = new_service(cloud)
    register(cloud, service, 'ram')
    r = sys_request(cloud, 'POST', '/v3/registered_limits', json={'registered_limits': [
        {'service_id': service, 'resource_name': 'disk', 'default_limit': 1},
        {'service_id': service, 'resource_name': 'ram', 'default_limit': 2}]})
    assert error_of(r, 409) == ('Conflict occurred attempting to store registered_limit'
                                ' - Duplicate entry.')
    r = sys_request(cloud, 'POST', '/v3/registered_limits', json={'registered_limits': [
        {'service_id': service, 'resource_name': 'gpus', 'default_limit': 1},
        {'service_id': service, 'resource_name': 'gpus', 'default_limit': 2}]})
    error_of(r, 409)
    r = sys_request(cloud, 'GET', '/v3/registered_limits?service_id=' + service)
    assert [x['resource_name'] for x in r.json()['registered_limits']] == ['ram']
    # The same resource in a region is another registered limit.
    region = new_region(cloud)
    register(cloud, service, 'ram', region_id=region)

    project = cloud.new_project()
    limit(cloud, service, 'ram', 1, project_id=project['id'])
    r = sys_request(cloud, 'POST', '/v3/limits', json={'limits': [
        {'project_id': project['id'], 'service_id': service, 'resource_name': 'ram',
         'resource_limit': 2}]})
    assert error_of(r, 409) == 'Conflict occurred attempting to store limit - Duplicate entry.'
    # Another project, or the region's registered limit, is not a duplicate.
    limit(cloud, service, 'ram', 1, project_id=cloud.new_project()['id'])
    limit(cloud, service, 'ram', 1, region, project_id=project['id'])


def test_what_a_limit_names_must_exist(cloud):
    service = new_service(cloud)
    register(cloud, service, 'cores')
    project = cloud.new_project()
    missing = uuid.uuid4().hex
    cases = [
        ('/v3/registered_limits', 'registered_limits', 'registered_limit',
         {'service_id': missing, 'resource_name': 'x', 'default_limit': 1}, 'service_id'),
        ('/v3/registered_limits', 'registered_limits', 'registered_limit',
         {'service_id': service, 'region_id': missing, 'resource_name': 'x',
          'default_limit': 1}, 'region_id'),
        ('/v3/limits', 'limits', 'limit',
         {'project_id': project['id'], 'service_id': missing, 'resource_name': 'cores',
          'resource_limit': 1}, 'service_id'),
        ('/v3/limits', 'limits', 'limit',
         {'project_id': project['id'], 'service_id': service, 'region_id': missing,
          'resource_name': 'cores', 'resource_limit': 1}, 'region_id'),
        ('/v3/limits', 'limits', 'limit',
         {'project_id': missing, 'service_id': service, 'resource_name': 'cores',
          'resource_limit': 1}, 'project_id'),
        ('/v3/limits', 'limits', 'limit',
         {'domain_id': missing, 'service_id': service, 'resource_name': 'cores',
          'resource_limit': 1}, 'domain_id'),
    ]
    for path, key, target, body, attr in cases:
        r = sys_request(cloud, 'POST', path, json={key: [body]})
        assert error_of(r, 400) == 'Expecting to find %s in %s.%s' % (
            attr, target, EXPECTING), body
    # A limit needs a registered limit for its service, region and resource.
    r = sys_request(cloud, 'POST', '/v3/limits', json={'limits': [
        {'project_id': project['id'], 'service_id': service, 'resource_name': 'ram',
         'resource_limit': 1}]})
    assert error_of(r, 403) == ('Unable to create a limit that has no corresponding '
                                'registered limit.')
    region = new_region(cloud)
    r = sys_request(cloud, 'POST', '/v3/limits', json={'limits': [
        {'project_id': project['id'], 'service_id': service, 'region_id': region,
         'resource_name': 'cores', 'resource_limit': 1}]})
    error_of(r, 403)
    r = sys_request(cloud, 'GET', '/v3/limits?service_id=' + service)
    assert r.json()['limits'] == []


@pytest.mark.parametrize('path,body,message', [
    ('/v3/registered_limits', {}, "{} is not of type 'array'"),
    ('/v3/registered_limits', {'registered_limits': []}, '[] is too short'),
    ('/v3/registered_limits', {'registered_limits': [{'service_id': 'S',
                                                      'resource_name': 'r',
                                                      'default_limit': -2}]},
     "Invalid input for field '0/default_limit': -2 is less than the minimum of -1"),
    ('/v3/registered_limits', {'registered_limits': [{'service_id': 'S',
                                                      'resource_name': 'r',
                                                      'default_limit': 2 ** 31}]},
     "Invalid input for field '0/default_limit': 2147483648 is greater than the "
     "maximum of 2147483647"),
    ('/v3/registered_limits', {'registered_limits': [{'service_id': 'S',
                                                      'resource_name': 'r',
                                                      'default_limit': 'ten'}]},
     "Invalid input for field '0/default_limit': 'ten' is not of type 'integer'"),
    ('/v3/registered_limits', {'registered_limits': [{'service_id': 'S',
                                                      'resource_name': 'x' * 256,
                                                      'default_limit': 1}]},
     "Invalid input for field '0/resource_name': '%s' is too long" % ('x' * 256)),
    ('/v3/registered_limits', {'registered_limits': [{'service_id': 'a b',
                                                      'resource_name': 'r',
                                                      'default_limit': 1}]},
     "Invalid input for field '0/service_id': 'a b' does not match "
     "'^[a-zA-Z0-9-]+$'"),
    ('/v3/registered_limits', {'registered_limits': [{'service_id': 'S',
                                                      'resource_name': 'r',
                                                      'default_limit': 1,
                                                      'id': 'mine'}]},
     "Invalid input for field '0': Additional properties are not allowed "
     "('id' was unexpected)"),
    ('/v3/registered_limits', {'registered_limits': [{'service_id': 'S',
                                                      'default_limit': 1}]},
     "Invalid input for field '0': 'resource_name' is a required property"),
    ('/v3/limits', {'limits': [{'service_id': 'S', 'resource_name': 'r',
                                'resource_limit': 1}]},
     "Invalid input for field '0': {'service_id': 'S', 'resource_name': 'r', "
     "'resource_limit': 1} is not valid under any of the given schemas"),
    ('/v3/limits', {'limits': [{'project_id': 'P', 'domain_id': 'D', 'service_id': 'S',
                                'resource_name': 'r', 'resource_limit': 1}]},
     "Invalid input for field '0': {'project_id': 'P', 'domain_id': 'D', "
     "'service_id': 'S', 'resource_name': 'r', 'resource_limit': 1} is not valid "
     "under any of the given schemas"),
    ('/v3/limits', {'limits': 'all'}, "'all' is not of type 'array'"),
])
def test_bad_bodies_answer_keystones_schema_errors(cloud, path, body, message):
    r = sys_request(cloud, 'POST', path, json=body)
    assert error_of(r, 400) == message


def test_patch_bodies_are_checked_like_keystones(cloud):
    service = new_service(cloud)
    reg = register(cloud, service, 'cpu')
    path = '/v3/registered_limits/' + reg['id']
    for body, message in [
            ({'registered_limit': {'default_limit': 1.5}},
             "Invalid input for field 'default_limit': 1.5 is not of type 'integer'"),
            ({'registered_limit': {'description': 5}},
             "Invalid input for field 'description': 5 is not of type 'string', 'null'"),
            ({'registered_limit': {'region_id': 7}},
             "Invalid input for field 'region_id': 7 is not of type 'null', 'string'"),
            ({'registered_limit': {'id': reg['id']}},
             "Additional properties are not allowed ('id' was unexpected)"),
            ({'registered_limit': 'x'}, "'x' is not of type 'object'")]:
        assert error_of(sys_request(cloud, 'PATCH', path, json=body), 400) == message
    r = sys_request(cloud, 'PATCH', path, json={'registered_limit': {
        'service_id': uuid.uuid4().hex}})
    assert error_of(r, 400) == 'Expecting to find service_id in registered_limit.' + EXPECTING
    # An empty PATCH changes nothing and is no error.
    r = sys_request(cloud, 'PATCH', path, json={'registered_limit': {}})
    assert r.status_code == 200 and r.json()['registered_limit'] == reg
    project = cloud.new_project()
    lim = limit(cloud, service, 'cpu', 4, project_id=project['id'])
    r = sys_request(cloud, 'PATCH', '/v3/limits/' + lim['id'],
                    json={'limit': {'resource_name': 'other'}})
    assert error_of(r, 400) == ("Additional properties are not allowed "
                                "('resource_name' was unexpected)")


# -- updates and deletes ------------------------------------------------------------

def test_registered_limit_updates_follow_keystones_rules(cloud):
    service, other = new_service(cloud), new_service(cloud)
    region = new_region(cloud)
    reg = register(cloud, service, 'volumes', 10)
    path = '/v3/registered_limits/' + reg['id']
    r = sys_request(cloud, 'PATCH', path, json={'registered_limit': {
        'service_id': other, 'region_id': region, 'resource_name': 'snapshots',
        'default_limit': 5, 'description': 'moved'}})
    assert r.status_code == 200, r.text
    got = r.json()['registered_limit']
    assert (got['service_id'], got['region_id'], got['resource_name'],
            got['default_limit'], got['description']) == (
                other, region, 'snapshots', 5, 'moved')
    assert sys_request(cloud, 'GET', path).json()['registered_limit'] == got
    # Naming the (service, region, resource) it already has is a duplicate,
    # as in Keystone, whose check does not leave the limit itself out.
    r = sys_request(cloud, 'PATCH', path, json={'registered_limit': {
        'resource_name': 'snapshots'}})
    error_of(r, 409)
    # Moving onto another registered limit's (service, region, resource) too.
    register(cloud, other, 'snapshots')
    r = sys_request(cloud, 'PATCH', path, json={'registered_limit': {'region_id': None}})
    error_of(r, 409)
    r = sys_request(cloud, 'PATCH', path, json={'registered_limit': {'region_id': ''}})
    assert error_of(r, 400) == 'Expecting to find region_id in registered_limit.' + EXPECTING


def test_a_registered_limit_with_limits_cannot_change_or_go(cloud):
    service = new_service(cloud)
    reg = register(cloud, service, 'ips')
    path = '/v3/registered_limits/' + reg['id']
    project = cloud.new_project()
    lim = limit(cloud, service, 'ips', 2, project_id=project['id'])
    in_use = ('Unable to update or delete registered limit %s because there are '
              'project limits associated with it.' % reg['id'])
    # Keystone refuses any change while a limit refers to it, even of the
    # default alone.
    for patch in ({'resource_name': 'ports'}, {'default_limit': 99}, {}):
        r = sys_request(cloud, 'PATCH', path, json={'registered_limit': patch})
        assert error_of(r, 403) == in_use, patch
    assert error_of(sys_request(cloud, 'DELETE', path), 403) == in_use
    assert sys_request(cloud, 'GET', path).json()['registered_limit'] == reg
    assert sys_request(cloud, 'DELETE', '/v3/limits/' + lim['id']).status_code == 204
    r = sys_request(cloud, 'PATCH', path, json={'registered_limit': {'default_limit': 3}})
    assert r.status_code == 200 and r.json()['registered_limit']['default_limit'] == 3
    assert sys_request(cloud, 'DELETE', path).status_code == 204
    error_of(sys_request(cloud, 'GET', path), 404)


def test_limit_updates_keep_keystones_truthiness_quirk(cloud):
    service = new_service(cloud)
    register(cloud, service, 'gigabytes')
    lim = limit(cloud, service, 'gigabytes', 10, project_id=cloud.new_project()['id'],
                description='ten')
    path = '/v3/limits/' + lim['id']
    r = sys_request(cloud, 'PATCH', path, json={'limit': {'resource_limit': -1,
                                                          'description': 'any'}})
    assert r.status_code == 200, r.text
    assert (r.json()['limit']['resource_limit'], r.json()['limit']['description']) == (
        -1, 'any')
    # keystone/limit/backends/sql.py sets only truthy values: a limit of 0,
    # or an empty description, leaves the old one.
    r = sys_request(cloud, 'PATCH', path, json={'limit': {'resource_limit': 0,
                                                          'description': ''}})
    assert r.status_code == 200, r.text
    assert (r.json()['limit']['resource_limit'], r.json()['limit']['description']) == (
        -1, 'any')


def test_deleting_what_limits_name(cloud):
    service, region = new_service(cloud), new_region(cloud)
    reg = register(cloud, service, 'networks', region_id=region)
    project = cloud.new_project()
    lim = limit(cloud, service, 'networks', 1, region, project_id=project['id'])
    # Keystone's foreign keys keep a service or region that a registered
    # limit names; here the delete is refused with a 403.
    r = cloud.request('DELETE', '/v3/services/' + service, admin=True)
    assert error_of(r, 403) == ('Unable to delete service %s because it has associated '
                                'registered limits.' % service)
    r = cloud.request('DELETE', '/v3/regions/' + region, admin=True)
    assert error_of(r, 403) == ('Unable to delete region %s because it or its child '
                                'regions have associated registered limits.' % region)
    # A project takes its limits with it (Keystone's delete_limits_for_project).
    assert cloud.request('DELETE', '/v3/projects/' + project['id'],
                         admin=True).status_code == 204
    error_of(sys_request(cloud, 'GET', '/v3/limits/' + lim['id']), 404)
    assert sys_request(cloud, 'DELETE', '/v3/registered_limits/' + reg['id']).status_code == 204
    assert cloud.request('DELETE', '/v3/services/' + service, admin=True).status_code == 204
    assert cloud.request('DELETE', '/v3/regions/' + region, admin=True).status_code == 204


# -- who may do what, who sees what ------------------------------------------------

def test_writes_need_a_system_scoped_admin(cloud):
    service = new_service(cloud)
    reg = register(cloud, service, 'routers')
    project = cloud.new_project()
    lim = limit(cloud, service, 'routers', 1, project_id=project['id'])
    _, member = member_of(cloud, project)
    _, project_admin = member_of(cloud, project, 'admin')
    writes = [
        ('POST', '/v3/registered_limits', {'registered_limits': [
            {'service_id': service, 'resource_name': 'evil', 'default_limit': 1}]},
         'create_registered_limits'),
        ('PATCH', '/v3/registered_limits/' + reg['id'],
         {'registered_limit': {'default_limit': 1}}, 'update_registered_limit'),
        ('DELETE', '/v3/registered_limits/' + reg['id'], None, 'delete_registered_limit'),
        ('POST', '/v3/limits', {'limits': [
            {'project_id': project['id'], 'service_id': service,
             'resource_name': 'routers', 'resource_limit': 100}]}, 'create_limits'),
        ('PATCH', '/v3/limits/' + lim['id'], {'limit': {'resource_limit': 100}},
         'update_limit'),
        ('DELETE', '/v3/limits/' + lim['id'], None, 'delete_limit'),
    ]
    # Zed's rules are role:admin and system_scope:all: an admin of a
    # project (the bootstrap admin's usual token too) is refused.
    for token in (member, project_admin, cloud.admin_token()):
        for method, path, body, rule in writes:
            r = cloud.request(method, path, token=token, json=body)
            assert error_of(r, 403) == ('You are not authorized to perform the requested '
                                        'action: identity:%s.' % rule), (method, path)
    assert sys_request(cloud, 'GET', '/v3/limits/' + lim['id']).json()['limit'] == lim
    assert sys_request(cloud, 'GET', '/v3/registered_limits/' + reg['id']).json()[
        'registered_limit'] == reg
    for method, path, _, _ in writes:
        assert cloud.request(method, path).status_code == 401


def test_a_member_sees_its_own_projects_limits_only(cloud):
    service = new_service(cloud)
    reg = register(cloud, service, 'instances')
    pa, pb = cloud.new_project(), cloud.new_project()
    la = limit(cloud, service, 'instances', 1, project_id=pa['id'])
    lb = limit(cloud, service, 'instances', 2, project_id=pb['id'])
    ld = limit(cloud, service, 'instances', 3, domain_id='default')
    _, token = member_of(cloud, pa, 'reader')
    # Registered limits are everyone's to read.
    r = cloud.request('GET', '/v3/registered_limits/' + reg['id'], token=token)
    assert r.status_code == 200 and r.json()['registered_limit'] == reg
    r = cloud.request('GET', '/v3/registered_limits?service_id=' + service, token=token)
    assert [x['id'] for x in r.json()['registered_limits']] == [reg['id']]
    # The list is the caller's project's, whatever the filters ask.
    r = cloud.request('GET', '/v3/limits', token=token)
    assert r.status_code == 200
    assert [x['id'] for x in r.json()['limits']] == [la['id']]
    for query in ('project_id=' + pb['id'], 'domain_id=default'):
        r = cloud.request('GET', '/v3/limits?' + query, token=token)
        assert r.json()['limits'] == [], query
    r = cloud.request('GET', '/v3/limits?project_id=' + pa['id'], token=token)
    assert [x['id'] for x in r.json()['limits']] == [la['id']]
    # get_limit: the project's own, not another's, nor the domain's (which
    # needs a domain-scoped token).
    r = cloud.request('GET', '/v3/limits/' + la['id'], token=token)
    assert r.status_code == 200 and r.json()['limit'] == la
    for other in (lb, ld):
        r = cloud.request('GET', '/v3/limits/' + other['id'], token=token)
        assert error_of(r, 403) == ('You are not authorized to perform the requested '
                                    'action: identity:get_limit.')
    # A limit that does not exist is a 403 before it is a 404: the rule
    # sees an empty target.
    r = cloud.request('GET', '/v3/limits/' + uuid.uuid4().hex, token=token)
    error_of(r, 403)
    # A system-scoped caller sees them all.
    r = sys_request(cloud, 'GET', '/v3/limits?service_id=' + service)
    assert sorted(x['id'] for x in r.json()['limits']) == sorted(
        [la['id'], lb['id'], ld['id']])


def test_a_domain_scoped_caller_sees_its_domain_and_its_projects_limits(cloud):
    service = new_service(cloud)
    register(cloud, service, 'keypairs')
    domain = cloud.create('domains', {'name': unique('dom')})
    inside = cloud.new_project(domain_id=domain['id'])
    outside = cloud.new_project()
    l_dom = limit(cloud, service, 'keypairs', 1, domain_id=domain['id'])
    l_in = limit(cloud, service, 'keypairs', 2, project_id=inside['id'])
    l_out = limit(cloud, service, 'keypairs', 3, project_id=outside['id'])
    user = cloud.new_user(domain_id=domain['id'])
    r = cloud.request('PUT', '/v3/domains/%s/users/%s/roles/%s' % (
        domain['id'], user['id'], cloud.role_id('member')), admin=True)
    assert r.status_code == 204, r.text
    r = cloud.request('POST', '/v3/auth/tokens', json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'id': user['id'], 'password': user['password']}}},
        'scope': {'domain': {'id': domain['id']}}}})
    assert r.status_code == 201, r.text
    token = r.headers['X-Subject-Token']
    r = cloud.request('GET', '/v3/limits', token=token)
    assert sorted(x['id'] for x in r.json()['limits']) == sorted([l_dom['id'], l_in['id']])
    for lim in (l_dom, l_in):
        assert cloud.request('GET', '/v3/limits/' + lim['id'], token=token).status_code == 200
    error_of(cloud.request('GET', '/v3/limits/' + l_out['id'], token=token), 403)
    # Deleting the domain takes its limits along (Keystone leaves the
    # domain's own behind).
    cloud.request('PATCH', '/v3/domains/' + domain['id'], admin=True,
                  json={'domain': {'enabled': False}})
    assert cloud.request('DELETE', '/v3/domains/' + domain['id'],
                         admin=True).status_code == 204
    r = sys_request(cloud, 'GET', '/v3/limits?service_id=' + service)
    assert [x['id'] for x in r.json()['limits']] == [l_out['id']]
