"""The real `openstack` command-line client against a running onestack."""

import time
import uuid

import pytest

from conftest import CliError, unique


def names(rows, column='Name'):
    return {row[column] for row in rows}


def test_token_issue_gives_a_project_scoped_token(cloud):
    token = cloud.openstack('token', 'issue')
    assert token['id']
    assert token['expires']
    admin = cloud.openstack('project', 'show', 'admin')
    assert token['project_id'] == admin['id']
    user = cloud.openstack('user', 'show', 'admin')
    assert token['user_id'] == user['id']


def test_catalog_list_shows_the_identity_endpoints(cloud):
    catalog = cloud.openstack('catalog', 'list')
    identity = [entry for entry in catalog if entry['Type'] == 'identity']
    assert len(identity) == 1, catalog
    endpoints = identity[0]['Endpoints']
    # Each endpoint is a dict (newer clients) or a rendered line (older).
    text = str(endpoints)
    assert 'public' in text and cloud.base_url in text
    assert 'RegionOne' in text


def _domain_disable(cloud, ref):
    cloud.openstack('domain', 'set', '--disable', ref)


# Each case: how to create a named entity, find it in a listing, check it
# with `show`, change one field with `set`, and delete it.
CRUD_CASES = {
    'project': dict(
        create=lambda n: ['project', 'create', n, '--domain', 'default',
                          '--description', 'first'],
        fields=lambda n: {'name': n, 'domain_id': 'default',
                          'description': 'first', 'enabled': True},
        set=['--description', 'second'], changed={'description': 'second'}),
    'user': dict(
        create=lambda n: ['user', 'create', n, '--domain', 'default',
                          '--password', 'pw-' + n, '--email', n + '@example.org'],
        fields=lambda n: {'name': n, 'domain_id': 'default',
                          'email': n + '@example.org', 'enabled': True},
        set=['--email', 'changed@example.org'],
        changed={'email': 'changed@example.org'}),
    'group': dict(
        create=lambda n: ['group', 'create', n, '--domain', 'default',
                          '--description', 'first'],
        fields=lambda n: {'name': n, 'domain_id': 'default',
                          'description': 'first'},
        set=['--description', 'second'], changed={'description': 'second'}),
    'role': dict(
        create=lambda n: ['role', 'create', n, '--description', 'first'],
        fields=lambda n: {'name': n, 'description': 'first'},
        set=['--description', 'second'], changed={'description': 'second'}),
    'domain': dict(
        create=lambda n: ['domain', 'create', n, '--description', 'first'],
        fields=lambda n: {'name': n, 'description': 'first', 'enabled': True},
        set=['--description', 'second'], changed={'description': 'second'},
        before_delete=_domain_disable),
    'region': dict(
        create=lambda n: ['region', 'create', n, '--description', 'first'],
        fields=lambda n: {'region': n, 'description': 'first'},
        set=['--description', 'second'], changed={'description': 'second'},
        list_column='Region', ref='region', id_key='region'),
    'service': dict(
        create=lambda n: ['service', 'create', '--name', n,
                          '--description', 'first', 'type-' + n],
        fields=lambda n: {'name': n, 'type': 'type-' + n,
                          'description': 'first', 'enabled': True},
        set=['--description', 'second'], changed={'description': 'second'},
        ref='id'),
}


@pytest.mark.parametrize('kind', sorted(CRUD_CASES))
def test_create_list_show_set_delete(cloud, kind):
    case = CRUD_CASES[kind]
    name = unique(kind)
    created = cloud.openstack(*case['create'](name))
    expected = case['fields'](name)
    for key, value in expected.items():
        assert created[key] == value, (key, created)

    listed = cloud.openstack(kind, 'list')
    assert name in names(listed, case.get('list_column', 'Name'))

    ref = created[case.get('ref', 'id')]
    shown = cloud.openstack(kind, 'show', ref)
    id_key = case.get('id_key', 'id')
    assert shown[id_key] == created[id_key]
    for key, value in expected.items():
        assert shown[key] == value, (key, shown)

    cloud.openstack(kind, 'set', *case['set'], ref)
    shown = cloud.openstack(kind, 'show', ref)
    for key, value in case['changed'].items():
        assert shown[key] == value, (key, shown)

    if 'before_delete' in case:
        case['before_delete'](cloud, ref)
    cloud.openstack(kind, 'delete', ref)
    if kind == 'region':
        # `region show X` falls back to GET /v3/regions?name=X, a filter
        # Keystone ignores for regions; with one region left the client
        # shows that one. Ask the API directly.
        r = cloud.request('GET', '/v3/regions/' + ref, admin=True)
        assert r.status_code == 404, r.text
    else:
        with pytest.raises(CliError) as err:
            cloud.openstack(kind, 'show', ref)
        assert 'No ' in err.value.stderr or '404' in err.value.stderr, \
            err.value
    assert name not in names(cloud.openstack(kind, 'list'),
                             case.get('list_column', 'Name'))


def test_endpoint_create_list_show_set_delete(cloud):
    name = unique('svc')
    service = cloud.openstack('service', 'create', '--name', name, 'type-' + name)
    url = 'http://127.0.0.1:9/%s' % name
    created = cloud.openstack('endpoint', 'create', '--region', 'RegionOne',
                              service['id'], 'public', url)
    assert created['url'] == url
    assert created['interface'] == 'public'
    assert created['region'] == 'RegionOne'
    assert created['service_id'] == service['id']
    assert created['enabled'] is True

    listed = cloud.openstack('endpoint', 'list', '--service', service['id'])
    assert [row['ID'] for row in listed] == [created['id']]

    shown = cloud.openstack('endpoint', 'show', created['id'])
    for key in ('id', 'url', 'interface', 'region', 'service_id', 'service_name'):
        assert shown[key] == created[key], key
    assert shown['service_name'] == name

    cloud.openstack('endpoint', 'set', '--url', url + '/v2', created['id'])
    assert cloud.openstack('endpoint', 'show', created['id'])['url'] == url + '/v2'

    cloud.openstack('endpoint', 'delete', created['id'])
    with pytest.raises(CliError):
        cloud.openstack('endpoint', 'show', created['id'])
    cloud.openstack('service', 'delete', service['id'])


def test_role_add_shows_in_effective_assignments_with_implied_reader(cloud):
    project = cloud.new_project()
    user = cloud.new_user()
    cloud.openstack('role', 'add', '--project', project['name'],
                    '--project-domain', 'Default', '--user', user['name'],
                    '--user-domain', 'Default', 'member')

    direct = cloud.openstack('role', 'assignment', 'list', '--names',
                             '--user', user['id'])
    assert [(a['Role'], a['User'], a['Project']) for a in direct] == [
        ('member', user['name'] + '@Default', project['name'] + '@Default')]

    effective = cloud.openstack('role', 'assignment', 'list', '--names',
                                '--effective', '--user', user['id'])
    roles = sorted(a['Role'] for a in effective)
    assert roles == ['member', 'reader'], effective
    assert {a['Project'] for a in effective} == {project['name'] + '@Default'}

    cloud.openstack('role', 'remove', '--project', project['id'],
                    '--user', user['id'], 'member')
    assert cloud.openstack('role', 'assignment', 'list', '--user', user['id']) == []


def _user_env(cloud, user, project):
    return cloud.env(OS_USERNAME=user['name'], OS_PASSWORD=user['password'],
                     OS_PROJECT_NAME=project['name'])


def test_application_credential_authenticates_to_its_project(cloud):
    project = cloud.new_project()
    user = cloud.new_user()
    cloud.grant(project['id'], user['id'], 'member')
    name = unique('appcred')
    cred = cloud.openstack('application', 'credential', 'create', name,
                           env=_user_env(cloud, user, project))
    assert cred['name'] == name
    assert cred['project_id'] == project['id']
    assert cred['secret']

    listed = cloud.openstack('application', 'credential', 'list',
                             env=_user_env(cloud, user, project))
    assert name in names(listed)

    env = cloud.env(OS_AUTH_TYPE='v3applicationcredential',
                    OS_APPLICATION_CREDENTIAL_ID=cred['id'],
                    OS_APPLICATION_CREDENTIAL_SECRET=cred['secret'],
                    OS_USERNAME=None, OS_PASSWORD=None, OS_PROJECT_NAME=None,
                    OS_USER_DOMAIN_NAME=None, OS_PROJECT_DOMAIN_NAME=None)
    token = cloud.openstack('token', 'issue', env=env)
    assert token['project_id'] == project['id']
    assert token['user_id'] == user['id']

    bad = dict(env, OS_APPLICATION_CREDENTIAL_SECRET='not-the-secret')
    with pytest.raises(CliError):
        cloud.openstack('token', 'issue', env=bad)


def test_group_membership(cloud):
    group = cloud.openstack('group', 'create', unique('group'),
                            '--domain', 'default')
    user = cloud.new_user()
    other = cloud.new_user()
    cloud.openstack('group', 'add', 'user', group['id'], user['id'])

    out = cloud.openstack('group', 'contains', 'user', group['id'], user['id'])
    assert 'in group' in out and 'not in group' not in out, out
    err = cloud.openstack('group', 'contains', 'user', group['id'], other['id'])
    assert 'in group' not in err  # the "not in group" message goes to stderr

    members = cloud.openstack('user', 'list', '--group', group['id'])
    assert names(members) == {user['name']}

    cloud.openstack('group', 'remove', 'user', group['id'], user['id'])
    assert cloud.openstack('user', 'list', '--group', group['id']) == []
    cloud.openstack('group', 'delete', group['id'])


def test_user_changes_own_password(cloud):
    project = cloud.new_project()
    user = cloud.new_user()
    cloud.grant(project['id'], user['id'], 'member')
    new_password = 'new-' + uuid.uuid4().hex
    cloud.openstack('user', 'password', 'set', '--password', new_password,
                    '--original-password', user['password'],
                    env=_user_env(cloud, user, project))
    # Changing a password revokes the user's tokens issued up to that
    # second; Keystone's times are whole seconds (Tempest sleeps here too).
    time.sleep(1.1)

    cloud.issue_token(user['name'], new_password, project=project['name'])
    r = cloud.request('POST', '/v3/auth/tokens', json={'auth': {'identity': {
        'methods': ['password'], 'password': {'user': {
            'id': user['id'], 'password': user['password']}}}}})
    assert r.status_code == 401, r.text


def test_token_revoke_invalidates_the_token(cloud):
    token = cloud.openstack('token', 'issue')['id']
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 200, r.text

    cloud.openstack('token', 'revoke', token)
    r = cloud.request('GET', '/v3/auth/tokens', admin=True,
                      headers={'X-Subject-Token': token})
    assert r.status_code == 404, r.text
    r = cloud.request('GET', '/v3/projects', token=token)
    assert r.status_code == 401, r.text
