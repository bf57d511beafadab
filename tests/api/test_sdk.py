"""openstacksdk and python-keystoneclient against a running onestack."""

import openstack
import pytest
from keystoneauth1 import exceptions as ksa_exc
from keystoneclient.v3 import client as ks_client
from openstack import exceptions as sdk_exc

from conftest import unique


def connect(cloud, **overrides):
    args = dict(auth_url=cloud.auth_url, username=cloud.username,
                password=cloud.password, project_name=cloud.project_name,
                user_domain_name='Default', project_domain_name='Default',
                region_name=cloud.region, interface='public',
                identity_api_version='3',
                load_yaml_config=False, load_envvars=False)
    args.update(overrides)
    return openstack.connect(**args)


@pytest.fixture(scope='module')
def conn(cloud):
    c = connect(cloud)
    yield c
    c.close()


# kind: (create kwargs for a name, field to update, new value)
SDK_CASES = {
    'project': (lambda n: dict(name=n, domain_id='default', description='a'),
                'description', 'b'),
    'user': (lambda n: dict(name=n, domain_id='default', password='pw-' + n,
                            email=n + '@example.org'),
             'email', 'changed@example.org'),
    'group': (lambda n: dict(name=n, domain_id='default', description='a'),
              'description', 'b'),
    'role': (lambda n: dict(name=n, description='a'), 'description', 'b'),
    'domain': (lambda n: dict(name=n, description='a'), 'description', 'b'),
    'region': (lambda n: dict(id=n, description='a'), 'description', 'b'),
    'service': (lambda n: dict(name=n, type='t-' + n, description='a'),
                'description', 'b'),
}


def _public(resource):
    fields = resource.to_dict(computed=False)
    fields.pop('password', None)
    return fields


@pytest.mark.parametrize('kind', sorted(SDK_CASES))
def test_sdk_create_get_update_list_delete(conn, kind):
    make, field, value = SDK_CASES[kind]
    name = unique(kind)
    create = getattr(conn.identity, 'create_' + kind)
    get = getattr(conn.identity, 'get_' + kind)
    update = getattr(conn.identity, 'update_' + kind)
    delete = getattr(conn.identity, 'delete_' + kind)
    listing = getattr(conn.identity, kind + 's')

    attrs = make(name)
    created = create(**attrs)
    for key, expected in attrs.items():
        if key != 'password':
            assert getattr(created, key) == expected, key
    fetched = get(created.id)
    assert fetched.id == created.id
    # A create echoes nothing secret; a get never shows a password.
    assert _public(fetched) == _public(created)
    assert created.id in {r.id for r in listing()}

    updated = update(created, **{field: value})
    assert getattr(updated, field) == value
    assert getattr(get(created.id), field) == value

    if kind == 'domain':
        update(created, is_enabled=False)
    delete(created)
    with pytest.raises(sdk_exc.ResourceNotFound):
        get(created.id)
    assert created.id not in {r.id for r in listing()}


def test_sdk_list_filters_by_name(conn):
    project = conn.identity.create_project(name=unique('p'), domain_id='default')
    try:
        found = list(conn.identity.projects(name=project.name))
        assert [p.id for p in found] == [project.id]
        assert conn.identity.find_project(project.name).id == project.id
    finally:
        conn.identity.delete_project(project)


def test_sdk_role_assignments(conn, cloud):
    project = conn.identity.create_project(name=unique('p'), domain_id='default')
    user = conn.identity.create_user(name=unique('u'), domain_id='default',
                                     password='pw')
    member = conn.identity.find_role('member')
    reader = conn.identity.find_role('reader')
    conn.identity.assign_project_role_to_user(project, user, member)
    assert conn.identity.validate_user_has_project_role(project, user, member)
    assert not conn.identity.validate_user_has_project_role(project, user, reader)

    direct = list(conn.identity.role_assignments(user_id=user.id))
    assert [(a.role['id'], a.scope['project']['id']) for a in direct] == [
        (member.id, project.id)]
    effective = list(conn.identity.role_assignments(user_id=user.id,
                                                    effective=True))
    assert sorted(a.role['id'] for a in effective) == sorted([member.id,
                                                             reader.id])

    # The cloud layer's grant/revoke/list wrappers.
    listed = conn.list_role_assignments(filters={'user': user.id,
                                                 'project': project.id})
    assert [a.role['id'] for a in listed] == [member.id]
    conn.identity.unassign_project_role_from_user(project, user, member)
    assert not conn.identity.validate_user_has_project_role(project, user,
                                                            member)
    assert list(conn.identity.role_assignments(user_id=user.id)) == []
    conn.identity.delete_user(user)
    conn.identity.delete_project(project)


def test_sdk_token_and_keystoneclient_validation(conn, cloud):
    token = conn.identity.get_token()
    assert token
    keystone = ks_client.Client(session=conn.session, interface='public',
                                region_name=cloud.region)
    access = keystone.tokens.validate(token)
    assert access.project_name == cloud.project_name
    assert access.username == cloud.username
    assert 'admin' in access.role_names
    assert access.service_catalog.url_for(
        service_type='identity', endpoint_type='public',
        region_name=cloud.region).startswith(cloud.base_url)

    other, _ = cloud.issue_token(project=cloud.project_name)
    assert keystone.tokens.validate(other).auth_token == other
    keystone.tokens.revoke_token(other)
    with pytest.raises(Exception) as err:
        keystone.tokens.validate(other)
    assert getattr(err.value, 'http_status', None) == 404, err.value


def test_sdk_discovers_endpoints_from_the_catalog(conn, cloud):
    identity = conn.session.get_endpoint(service_type='identity',
                                         interface='public',
                                         region_name=cloud.region)
    assert identity.rstrip('/') in (cloud.base_url, cloud.auth_url)
    assert conn.endpoint_for('identity').rstrip('/') in (cloud.base_url,
                                                         cloud.auth_url)

    name = unique('svc')
    service = conn.identity.create_service(name=name, type='x-' + name)
    url = 'http://127.0.0.1:9/%s/v1' % name
    endpoint = conn.identity.create_endpoint(service_id=service.id,
                                             interface='public', url=url,
                                             region_id=cloud.region)
    try:
        fresh = connect(cloud)  # a new token carries the new catalog entry
        try:
            assert fresh.endpoint_for('x-' + name) == url
            found = fresh.session.get_endpoint(service_type='x-' + name,
                                               interface='public',
                                               region_name=cloud.region)
            assert found == url
            with pytest.raises(ksa_exc.EndpointNotFound):
                fresh.session.get_endpoint(service_type='x-' + name,
                                           interface='internal',
                                           region_name=cloud.region)
        finally:
            fresh.close()
    finally:
        conn.identity.delete_endpoint(endpoint)
        conn.identity.delete_service(service)


def test_sdk_wrong_password_raises_unauthorized(cloud):
    bad = connect(cloud, password='wrong')
    try:
        with pytest.raises((ksa_exc.Unauthorized, sdk_exc.HttpException)) as err:
            list(bad.identity.projects())
        assert getattr(err.value, 'http_status', None) == 401 or \
            getattr(err.value, 'status_code', None) == 401, err.value
    finally:
        bad.close()
