"""Stored policies (/v3/policies), the first identity resource declared on
the resource kit: the real `openstack policy` commands, and Keystone's
shapes over raw HTTP (keystone/policy/schema.py, keystone/api/policy.py)."""

import json
import os
import uuid

from conftest import CliError


def test_policy_create_list_show_set_delete_with_the_cli(cloud, tmp_path):
    blob = tmp_path / 'policy.json'
    blob.write_text(json.dumps({'rule': 'role:admin'}))
    made = cloud.openstack('policy', 'create', '--type', 'application/json', str(blob),
                           json_output=True)
    assert made['type'] == 'application/json'
    # The CLI shows the blob as 'rules' (openstackclient's policy.py).
    assert json.loads(made['rules']) == {'rule': 'role:admin'}
    listed = cloud.openstack('policy', 'list', '--long', json_output=True)
    assert made['id'] in [p['ID'] for p in listed]
    cloud.openstack('policy', 'set', '--type', 'text/plain', made['id'])
    shown = cloud.openstack('policy', 'show', made['id'], json_output=True)
    assert shown['type'] == 'text/plain'
    cloud.openstack('policy', 'delete', made['id'])
    try:
        cloud.openstack('policy', 'show', made['id'], json_output=True)
        raise AssertionError('the deleted policy is still shown')
    except CliError as e:
        # The CLI looks the id up, is answered 404, and says so its way.
        assert "No policy with a name or ID of '%s' exists" % made['id'] in str(e)


def test_policies_keep_keystones_shapes(cloud):
    r = cloud.request('POST', '/v3/policies', admin=True, json={'policy': {
        'type': 'application/json', 'blob': '{}', 'extra': {'kept': True},
        'id': 'chosen-by-the-client'}})
    assert r.status_code == 201, r.text
    policy = r.json()['policy']
    pid = policy['id']
    assert len(pid) == 32 and pid != 'chosen-by-the-client'
    assert policy['extra'] == {'kept': True}
    assert policy['links']['self'] == cloud.base_url + '/v3/policies/' + pid
    for hidden in ('created_at', 'updated_at', 'revision_number'):
        assert hidden not in policy
    # Filtered by type; the list carries Keystone's links.
    kind = 'text/x-' + uuid.uuid4().hex
    r = cloud.request('POST', '/v3/policies', admin=True, json={'policy': {
        'type': kind, 'blob': 'b'}})
    assert r.status_code == 201
    r = cloud.request('GET', '/v3/policies?type=' + kind, admin=True)
    assert r.status_code == 200
    body = r.json()
    assert [p['type'] for p in body['policies']] == [kind]
    assert set(body['links']) == {'self', 'previous', 'next'}
    # An update must change something, names no unknown policy, and PATCHes.
    r = cloud.request('PATCH', '/v3/policies/' + pid, admin=True, json={'policy': {}})
    assert r.status_code == 400, r.text
    assert r.json()['error']['code'] == 400
    r = cloud.request('PATCH', '/v3/policies/' + pid, admin=True,
                      json={'policy': {'blob': '{"a": 1}'}})
    assert r.status_code == 200
    assert r.json()['policy']['blob'] == '{"a": 1}'
    assert r.json()['policy']['extra'] == {'kept': True}
    r = cloud.request('GET', '/v3/policies/' + uuid.uuid4().hex, admin=True)
    assert r.status_code == 404
    assert r.json()['error']['message'].startswith('Could not find policy: ')
    # blob and type are required, and typed.
    for bad in ({'type': 'x'}, {'blob': 'x'}, {'type': 5, 'blob': 'x'}):
        r = cloud.request('POST', '/v3/policies', admin=True, json={'policy': bad})
        assert r.status_code == 400, (bad, r.text)
    assert cloud.request('DELETE', '/v3/policies/' + pid, admin=True).status_code == 204
    assert cloud.request('DELETE', '/v3/policies/' + pid, admin=True).status_code == 404


def test_a_consumers_secret_is_shown_by_its_create_only(cloud):
    r = cloud.request('POST', '/v3/OS-OAUTH1/consumers', admin=True,
                      json={'consumer': {'description': 'c1', 'secret': 'mine'}})
    assert r.status_code == 201, r.text
    consumer = r.json()['consumer']
    secret = consumer['secret']
    assert len(secret) == 32 and secret != 'mine'  # generated, whatever was sent
    cid = consumer['id']
    r = cloud.request('GET', '/v3/OS-OAUTH1/consumers/' + cid, admin=True)
    assert r.status_code == 200
    assert 'secret' not in r.json()['consumer']
    assert r.json()['consumer']['description'] == 'c1'
    r = cloud.request('GET', '/v3/OS-OAUTH1/consumers?description=c1', admin=True)
    assert cid in [c['id'] for c in r.json()['consumers']]
    assert all('secret' not in c for c in r.json()['consumers'])
    r = cloud.request('PATCH', '/v3/OS-OAUTH1/consumers/' + cid, admin=True,
                      json={'consumer': {'secret': 'new'}})
    assert r.status_code == 400, r.text
    r = cloud.request('PATCH', '/v3/OS-OAUTH1/consumers/' + cid, admin=True,
                      json={'consumer': {'description': 'c2'}})
    assert r.status_code == 200 and 'secret' not in r.json()['consumer']
    assert cloud.request('DELETE', '/v3/OS-OAUTH1/consumers/' + cid,
                         admin=True).status_code == 204


def test_endpoint_groups_check_their_filters_and_name_themselves_in_404s(cloud):
    base = '/v3/OS-EP-FILTER/endpoint_groups'
    for bad in ({'name': 'g'}, {'filters': {}}, {'name': '', 'filters': {}},
                {'name': 'g', 'filters': {'colour': 'red'}}, {'name': 'g', 'filters': []}):
        r = cloud.request('POST', base, admin=True, json={'endpoint_group': bad})
        assert r.status_code == 400, (bad, r.text)
    r = cloud.request('POST', base, admin=True, json={'endpoint_group': {
        'name': 'g', 'filters': {'interface': 'public'}}})
    assert r.status_code == 201, r.text
    group = r.json()['endpoint_group']
    assert group['description'] is None and group['filters'] == {'interface': 'public'}
    assert group['links']['self'] == cloud.base_url + base + '/' + group['id']
    r = cloud.request('GET', base + '/' + uuid.uuid4().hex, admin=True)
    assert r.status_code == 404
    assert r.json()['error']['message'].startswith('Could not find Endpoint Group: ')
    # The project associations are not offered: 501, not 404.
    r = cloud.request('GET', base + '/' + group['id'] + '/projects', admin=True)
    assert r.status_code == 501, r.text
    assert cloud.request('DELETE', base + '/' + group['id'], admin=True).status_code == 204
