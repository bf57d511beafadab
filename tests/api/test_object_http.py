"""Swift v1 over raw HTTP: who may do what, listings, limits, conditional
and ranged reads, expiry, copies, quotas and odd requests."""

import hashlib
import http.client
import json
import os
import re
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET
from email.utils import formatdate

import pytest

from conftest import unique


def md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope='module')
def acct(cloud):
    """The admin's account path and token."""
    return cloud.account_path(), cloud.admin_token()


def new_container(cloud, token, account, **headers):
    name = unique('c')
    r = cloud.swift('PUT', '%s/%s' % (account, name), token=token,
                    headers=headers)
    assert r.status_code == 201, (r.status_code, r.text)
    return name


def put(cloud, token, path, data=b'', **headers):
    r = cloud.swift('PUT', path, token=token, data=data, headers=headers)
    return r


def raw(cloud, method, path, headers=None, body=None):
    """A request whose path goes out byte for byte (requests would normalize
    dot segments and re-quote)."""
    conn = http.client.HTTPConnection('127.0.0.1', cloud.object_port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader('Content-Length', str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), data
    finally:
        conn.close()


def listing(cloud, token, where, **params):
    params.setdefault('format', 'json')
    r = cloud.swift('GET', where, token=token, params=params)
    assert r.status_code in (200, 204), (r.status_code, r.text)
    if r.status_code == 204:
        return []
    return r.json()


def names_of(rows):
    return [row.get('name', row.get('subdir')) for row in rows]


# -- authentication and authorization ----------------------------------------


def test_no_token_is_401(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    assert put(cloud, token, '%s/%s/o' % (account, c), b'x').status_code == 201
    for method, path in [('GET', account), ('HEAD', account),
                         ('POST', account),
                         ('PUT', account + '/' + unique('c')),
                         ('GET', '%s/%s' % (account, c)),
                         ('GET', '%s/%s/o' % (account, c)),
                         ('PUT', '%s/%s/o2' % (account, c)),
                         ('DELETE', '%s/%s/o' % (account, c))]:
        r = cloud.swift(method, path)
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert r.headers.get('X-Trans-Id')
    r = cloud.swift('GET', account, token='not-a-token')
    assert r.status_code == 401, r.text
    # The object is still there.
    assert cloud.swift('GET', '%s/%s/o' % (account, c), token=token).content == b'x'


def test_other_projects_member_is_403(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    assert put(cloud, token, '%s/%s/o' % (account, c), b'x').status_code == 201
    other = cloud.object_user('member')
    t = other['token']
    for method, path in [('GET', account), ('HEAD', account),
                         ('POST', account),
                         ('PUT', account + '/' + unique('c')),
                         ('GET', '%s/%s' % (account, c)),
                         ('DELETE', '%s/%s' % (account, c)),
                         ('GET', '%s/%s/o' % (account, c)),
                         ('PUT', '%s/%s/o2' % (account, c)),
                         ('POST', '%s/%s/o' % (account, c)),
                         ('DELETE', '%s/%s/o' % (account, c))]:
        r = cloud.swift(method, path, token=t)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    # Its own account is its own.
    r = cloud.swift('PUT', other['account'] + '/mine', token=t)
    assert r.status_code == 201, r.text
    r = cloud.swift('GET', other['account'], token=t)
    assert r.status_code == 200 and r.text == 'mine\n', (r.status_code, r.text)


def test_reader_role_reads_but_does_not_write(cloud):
    owner = cloud.object_user('member')
    reader = cloud.object_user('reader', project=owner['project'])
    account = owner['account']
    c = new_container(cloud, owner['token'], account)
    assert put(cloud, owner['token'], '%s/%s/o' % (account, c), b'data').status_code == 201
    t = reader['token']
    assert cloud.swift('HEAD', account, token=t).status_code == 204
    assert cloud.swift('GET', account, token=t).text == c + '\n'
    assert cloud.swift('GET', '%s/%s' % (account, c), token=t).text == 'o\n'
    assert cloud.swift('GET', '%s/%s/o' % (account, c), token=t).content == b'data'
    for method, path in [('PUT', '%s/%s/o' % (account, c)),
                         ('PUT', '%s/%s/new' % (account, c)),
                         ('POST', '%s/%s/o' % (account, c)),
                         ('DELETE', '%s/%s/o' % (account, c)),
                         ('PUT', account + '/' + unique('c')),
                         ('POST', '%s/%s' % (account, c)),
                         ('DELETE', '%s/%s' % (account, c)),
                         ('POST', account)]:
        r = cloud.swift(method, path, token=t, data=b'z')
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert cloud.swift('GET', '%s/%s/o' % (account, c), token=t).content == b'data'


def test_reseller_admin_reaches_any_account(cloud):
    cloud.ensure_role('ResellerAdmin')
    owner = cloud.object_user('member')
    reseller = cloud.object_user('ResellerAdmin')
    account = owner['account']
    t = reseller['token']
    r = cloud.swift('PUT', account + '/by-reseller', token=t)
    assert r.status_code == 201, r.text
    assert put(cloud, t, account + '/by-reseller/o', b'r').status_code == 201
    assert cloud.swift('GET', account, token=owner['token']).text == 'by-reseller\n'
    assert cloud.swift('GET', account + '/by-reseller/o', token=owner['token']).content == b'r'
    r = cloud.swift('POST', account, token=t, headers={'X-Account-Meta-Note': 'hi'})
    assert r.status_code == 204, r.text
    r = cloud.swift('HEAD', account, token=owner['token'])
    assert r.headers['X-Account-Meta-Note'] == 'hi'


def test_container_acl_public_read_and_listings(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s' % (account, c)
    assert put(cloud, token, path + '/o', b'public').status_code == 201
    assert cloud.swift('GET', path + '/o').status_code == 401
    r = cloud.swift('POST', path, token=token, headers={'X-Container-Read': '.r:*'})
    assert r.status_code == 204, r.text
    r = cloud.swift('GET', path + '/o')
    assert r.status_code == 200 and r.content == b'public'
    # .r:* reads objects but does not list.
    assert cloud.swift('GET', path).status_code == 401
    # Nor write.
    assert cloud.swift('PUT', path + '/o2', data=b'x').status_code == 401
    cloud.swift('POST', path, token=token,
                headers={'X-Container-Read': '.r:*,.rlistings'})
    r = cloud.swift('GET', path)
    assert r.status_code == 200 and r.text == 'o\n', (r.status_code, r.text)
    # The anonymous reader does not see the ACL.
    r = cloud.swift('HEAD', path)
    assert r.status_code == 204
    assert 'X-Container-Read' not in r.headers
    assert cloud.swift('HEAD', path, token=token).headers['X-Container-Read'] == '.r:*,.rlistings'
    # A referrer restriction: only pages from .example.com.
    cloud.swift('POST', path, token=token, headers={'X-Container-Read': '.r:.example.com'})
    assert cloud.swift('GET', path + '/o').status_code == 401
    r = cloud.swift('GET', path + '/o', headers={'Referer': 'http://www.example.com/page'})
    assert r.status_code == 200
    r = cloud.swift('GET', path + '/o', headers={'Referer': 'http://example.org/page'})
    assert r.status_code == 401
    # Removing the ACL closes the container again.
    cloud.swift('POST', path, token=token, headers={'X-Remove-Container-Read': 'x'})
    assert cloud.swift('GET', path + '/o', headers={'Referer': 'http://www.example.com/'}).status_code == 401


def test_container_acl_project_user_read_and_write(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s' % (account, c)
    assert put(cloud, token, path + '/o', b'secret').status_code == 201
    reader = cloud.object_user('member')
    writer = cloud.object_user('member')
    assert cloud.swift('GET', path + '/o', token=reader['token']).status_code == 403
    r = cloud.swift('POST', path, token=token, headers={
        'X-Container-Read': '%s:%s' % (reader['project_id'], reader['user']['id']),
        'X-Container-Write': '%s:%s' % (writer['project']['name'], writer['user']['name'])})
    assert r.status_code == 204, r.text
    # The reader reads and lists, but may not write.
    assert cloud.swift('GET', path + '/o', token=reader['token']).content == b'secret'
    assert cloud.swift('GET', path, token=reader['token']).text == 'o\n'
    assert put(cloud, reader['token'], path + '/r', b'x').status_code == 403
    # The writer writes (by names in the ACL) and deletes, but does not read.
    assert put(cloud, writer['token'], path + '/w', b'written').status_code == 201
    assert cloud.swift('GET', path + '/w', token=token).content == b'written'
    assert cloud.swift('GET', path + '/w', token=writer['token']).status_code == 403
    assert cloud.swift('DELETE', path + '/w', token=writer['token']).status_code == 204
    # Neither may change the container itself.
    for who in (reader, writer):
        r = cloud.swift('POST', path, token=who['token'],
                        headers={'X-Container-Read': '*:*'})
        assert r.status_code == 403
        assert cloud.swift('DELETE', path, token=who['token']).status_code == 403
    # A wildcard user of the reader's project.
    cloud.swift('POST', path, token=token,
                headers={'X-Container-Read': '%s:*' % reader['project_id']})
    other_in_project = cloud.object_user('member', project=reader['project'])
    assert cloud.swift('GET', path + '/o', token=other_in_project['token']).status_code == 200
    assert cloud.swift('GET', path + '/o', token=writer['token']).status_code == 403


def test_write_acl_refuses_referrers(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    r = cloud.swift('POST', '%s/%s' % (account, c), token=token,
                    headers={'X-Container-Write': '.r:*'})
    assert r.status_code == 400, r.text


def test_account_acl_levels(cloud):
    owner = cloud.object_user('member')
    account = owner['account']
    c = new_container(cloud, owner['token'], account)
    assert put(cloud, owner['token'], '%s/%s/o' % (account, c), b'abc').status_code == 201
    ro = cloud.object_user('member')
    rw = cloud.object_user('member')
    adm = cloud.object_user('member')
    acl = {'read-only': [ro['user']['id']], 'read-write': [rw['user']['id']],
           'admin': [adm['user']['id']]}
    r = cloud.swift('POST', account, token=owner['token'],
                    headers={'X-Account-Access-Control': json.dumps(acl)})
    assert r.status_code == 204, r.text
    # Only the owner (and admins) see the ACL.
    r = cloud.swift('HEAD', account, token=owner['token'])
    assert json.loads(r.headers['X-Account-Access-Control']) == acl
    r = cloud.swift('HEAD', account, token=ro['token'])
    assert r.status_code == 204 and 'X-Account-Access-Control' not in r.headers
    # read-only: reads everything, writes nothing.
    assert cloud.swift('GET', account, token=ro['token']).text == c + '\n'
    assert cloud.swift('GET', '%s/%s/o' % (account, c), token=ro['token']).content == b'abc'
    assert put(cloud, ro['token'], '%s/%s/ro' % (account, c), b'x').status_code == 403
    # read-write: reads and writes objects, may not change the account.
    assert cloud.swift('GET', '%s/%s/o' % (account, c), token=rw['token']).content == b'abc'
    assert put(cloud, rw['token'], '%s/%s/rw' % (account, c), b'x').status_code == 201
    assert cloud.swift('DELETE', '%s/%s/rw' % (account, c), token=rw['token']).status_code == 204
    r = cloud.swift('POST', account, token=rw['token'], headers={'X-Account-Meta-A': 'b'})
    assert r.status_code == 403
    # admin: everything the owner may, ACL included.
    r = cloud.swift('PUT', account + '/by-admin', token=adm['token'])
    assert r.status_code == 201, r.text
    r = cloud.swift('POST', account, token=adm['token'], headers={'X-Account-Meta-A': 'b'})
    assert r.status_code == 204
    r = cloud.swift('HEAD', account, token=adm['token'])
    assert 'X-Account-Access-Control' in r.headers
    # Malformed ACLs are refused.
    for bad in ['not json', '{"owner": ["x"]}', '{"admin": "x"}', '{"admin": [1]}']:
        r = cloud.swift('POST', account, token=owner['token'],
                        headers={'X-Account-Access-Control': bad})
        assert r.status_code == 400, (bad, r.status_code)


# -- listings --------------------------------------------------------------


@pytest.fixture(scope='module')
def listed(cloud, acct):
    """A container holding a small tree of objects."""
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s' % (account, c)
    objects = ['a', 'b', 'c/1', 'c/2', 'c/3/x', 'd', 'e&<x>']
    for name in objects:
        r = put(cloud, token, '%s/%s' % (path, urllib.parse.quote(name)), name.encode(),
                **{'Content-Type': 'text/plain'})
        assert r.status_code == 201
    return path, token, objects


def test_listing_plain_json_xml(cloud, listed):
    path, token, objects = listed
    r = cloud.swift('GET', path, token=token)
    assert r.status_code == 200
    assert r.headers['Content-Type'].startswith('text/plain')
    assert r.text.splitlines() == objects
    assert int(r.headers['X-Container-Object-Count']) == len(objects)
    assert int(r.headers['X-Container-Bytes-Used']) == sum(len(o) for o in objects)

    r = cloud.swift('GET', path, token=token, params={'format': 'json'})
    assert r.headers['Content-Type'].startswith('application/json')
    rows = r.json()
    assert [row['name'] for row in rows] == objects
    for row in rows:
        assert row['hash'] == md5(row['name'].encode())
        assert row['bytes'] == len(row['name'])
        assert row['content_type'] == 'text/plain'
        assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$', row['last_modified'])

    r = cloud.swift('GET', path, token=token, params={'format': 'xml'})
    assert r.headers['Content-Type'].startswith('application/xml')
    root = ET.fromstring(r.content)
    assert root.tag == 'container'
    assert [o.find('name').text for o in root.findall('object')] == objects
    assert [o.find('hash').text for o in root.findall('object')] == [
        md5(o.encode()) for o in objects]

    # The Accept header chooses when no format= is given.
    r = cloud.swift('GET', path, token=token, headers={'Accept': 'application/json'})
    assert r.headers['Content-Type'].startswith('application/json')
    assert [row['name'] for row in r.json()] == objects
    r = cloud.swift('GET', path, token=token, headers={'Accept': 'application/xml'})
    assert ET.fromstring(r.content).tag == 'container'
    r = cloud.swift('GET', path, token=token, headers={'Accept': 'text/xml'})
    assert ET.fromstring(r.content).tag == 'container'
    # format= wins over Accept, in any case.
    r = cloud.swift('GET', path, token=token, params={'format': 'JSON'},
                    headers={'Accept': 'application/xml'})
    assert r.headers['Content-Type'].startswith('application/json')
    assert [row['name'] for row in r.json()] == objects


@pytest.mark.parametrize('params,expected', [
    ({'limit': '2'}, ['a', 'b']),
    ({'limit': '0'}, []),
    ({'marker': 'b'}, ['c/1', 'c/2', 'c/3/x', 'd', 'e&<x>']),
    ({'marker': 'b', 'limit': '2'}, ['c/1', 'c/2']),
    ({'end_marker': 'c/2'}, ['a', 'b', 'c/1']),
    ({'marker': 'a', 'end_marker': 'd'}, ['b', 'c/1', 'c/2', 'c/3/x']),
    ({'prefix': 'c/'}, ['c/1', 'c/2', 'c/3/x']),
    ({'prefix': 'zz'}, []),
    ({'delimiter': '/'}, ['a', 'b', 'c/', 'd', 'e&<x>']),
    ({'prefix': 'c/', 'delimiter': '/'}, ['c/1', 'c/2', 'c/3/']),
    ({'path': 'c'}, ['c/1', 'c/2']),
    ({'reverse': 'true'}, ['e&<x>', 'd', 'c/3/x', 'c/2', 'c/1', 'b', 'a']),
    ({'reverse': 'true', 'marker': 'c/1'}, ['b', 'a']),
    ({'reverse': 'true', 'limit': '2'}, ['e&<x>', 'd']),
    ({'reverse': 'true', 'delimiter': '/'}, ['e&<x>', 'd', 'c/', 'b', 'a']),
    # Paging through a delimited listing: a subdir counts toward the limit
    # and, as the next marker, is not listed again.
    ({'delimiter': '/', 'limit': '3'}, ['a', 'b', 'c/']),
    ({'delimiter': '/', 'marker': 'c/'}, ['d', 'e&<x>']),
    ({'delimiter': '/', 'marker': 'b', 'limit': '2'}, ['c/', 'd']),
    ({'prefix': 'c', 'delimiter': '/'}, ['c/']),
    ({'prefix': 'c/', 'delimiter': '/', 'marker': 'c/2'}, ['c/3/']),
    ({'prefix': 'c/', 'delimiter': '/', 'marker': 'c/3/'}, []),
    ({'path': 'c', 'marker': 'c/1'}, ['c/2']),
])
def test_listing_queries(cloud, listed, params, expected):
    path, token, _ = listed
    assert names_of(listing(cloud, token, path, **params)) == expected
    # The plain form says the same.
    r = cloud.swift('GET', path, token=token, params=params)
    assert r.text.splitlines() == expected, (params, r.text)
    assert r.status_code == (200 if expected else 204)


def test_listing_subdirs_in_json_and_xml(cloud, listed):
    path, token, _ = listed
    rows = listing(cloud, token, path, delimiter='/')
    assert {'subdir': 'c/'} in rows
    r = cloud.swift('GET', path, token=token, params={'format': 'xml', 'delimiter': '/'})
    root = ET.fromstring(r.content)
    assert [s.get('name') for s in root.findall('subdir')] == ['c/']
    # XML escapes what it must.
    assert 'e&amp;&lt;x&gt;' in r.text


@pytest.mark.parametrize('params', [
    {'limit': '10001'}, {'limit': '99999999999999999999999'},
])
def test_listing_limits_past_the_maximum_are_412(cloud, listed, acct, params):
    path, token, _ = listed
    r = cloud.swift('GET', path, token=token, params=params)
    assert r.status_code == 412, (params, r.status_code, r.text)
    assert r.text == 'Maximum limit is 10000'
    r = cloud.swift('GET', acct[0], token=token, params=params)
    assert r.status_code == 412, (params, r.status_code, r.text)


@pytest.mark.parametrize('name', ['prefix', 'marker', 'delimiter', 'format'])
def test_listing_parameters_that_are_not_utf8_are_400(cloud, listed, acct, name):
    # swift/common/request_helpers.py get_param, as Swift 2.30 answers: in
    # text/plain where the proxy finds it (a container listing, and the
    # format of any listing), in swob's text/html where the account server
    # does and the proxy passes its answer on.
    path, token, _ = listed
    params = {name: b'a\xff'}
    for target in (path, acct[0]):
        r = cloud.swift('GET', target, token=token, params=params)
        assert r.status_code == 400, (target, r.status_code, r.text)
        assert r.text == '"%s" parameter not valid UTF-8' % name
        plain = target == path or name == 'format'
        assert r.headers['Content-Type'] == (
            'text/plain' if plain else 'text/html; charset=UTF-8'), target


def test_listing_groups_by_a_delimiter_of_several_characters(cloud, listed):
    path, token, names = listed
    r = cloud.swift('GET', path, token=token, params={'delimiter': '/3', 'prefix': 'c'})
    assert r.status_code == 200, r.text
    # 'c/3/x' holds '/3' after the prefix: it rolls up to 'c/3'.
    assert r.text.splitlines() == ['c/1', 'c/2', 'c/3']


@pytest.mark.parametrize('limit', ['', '-1', 'abc', '1.5', ' 2'])
def test_listing_limit_that_is_not_a_number_is_ignored(cloud, listed, limit):
    """Swift's constrain_req_limit uses the maximum unless limit is all digits."""
    path, token, objects = listed
    assert len(listing(cloud, token, path, limit=limit)) == len(objects)


def test_listing_limit_10000_is_allowed(cloud, listed):
    path, token, objects = listed
    assert len(listing(cloud, token, path, limit='10000')) == len(objects)


def test_account_listing(cloud):
    user = cloud.object_user('member')
    account, t = user['account'], user['token']
    r = cloud.swift('GET', account, token=t)
    assert r.status_code == 204
    assert r.headers['X-Account-Container-Count'] == '0'
    r = cloud.swift('GET', account, token=t, params={'format': 'json'})
    assert r.status_code == 200 and r.json() == []
    for name in ['alpha', 'beta', 'gamma-1', 'gamma-2']:
        assert cloud.swift('PUT', account + '/' + name, token=t).status_code == 201
    put(cloud, t, account + '/beta/obj', b'12345')
    rows = listing(cloud, t, account)
    assert [row['name'] for row in rows] == ['alpha', 'beta', 'gamma-1', 'gamma-2']
    beta = rows[1]
    assert beta['count'] == 1 and beta['bytes'] == 5
    assert names_of(listing(cloud, t, account, prefix='gamma')) == ['gamma-1', 'gamma-2']
    assert names_of(listing(cloud, t, account, marker='alpha', limit='1')) == ['beta']
    assert names_of(listing(cloud, t, account, end_marker='beta')) == ['alpha']
    assert names_of(listing(cloud, t, account, delimiter='-')) == ['alpha', 'beta', 'gamma-']
    assert names_of(listing(cloud, t, account, reverse='on')) == [
        'gamma-2', 'gamma-1', 'beta', 'alpha']
    r = cloud.swift('GET', account, token=t, params={'format': 'xml'})
    root = ET.fromstring(r.content)
    assert root.tag == 'account'
    assert [c.find('name').text for c in root.findall('container')][:2] == ['alpha', 'beta']
    r = cloud.swift('HEAD', account, token=t)
    assert r.headers['X-Account-Container-Count'] == '4'
    assert r.headers['X-Account-Object-Count'] == '1'
    assert r.headers['X-Account-Bytes-Used'] == '5'


# -- names ------------------------------------------------------------------


def test_name_length_limits(cloud, acct):
    account, token = acct
    assert cloud.swift('PUT', account + '/' + 'c' * 256, token=token).status_code in (201, 202)
    r = cloud.swift('PUT', account + '/' + 'c' * 257, token=token)
    assert r.status_code == 400, r.text
    c = new_container(cloud, token, account)
    r = put(cloud, token, '%s/%s/%s' % (account, c, 'o' * 1024), b'x')
    assert r.status_code == 201
    r = put(cloud, token, '%s/%s/%s' % (account, c, 'o' * 1025), b'x')
    assert r.status_code == 400, r.text
    assert listing(cloud, token, '%s/%s' % (account, c))[0]['name'] == 'o' * 1024
    cloud.swift('DELETE', account + '/' + 'c' * 256 + '', token=token)


@pytest.mark.parametrize('bad', ['%00', 'a%00b', '%FF', '%C0%AF', '%ED%A0%80'])
def test_nul_and_bad_utf8_names_are_412(cloud, acct, bad):
    account, token = acct
    c = new_container(cloud, token, account)
    status, headers, _ = raw(cloud, 'PUT', '%s/%s/%s' % (account, c, bad),
                             {'X-Auth-Token': token}, b'x')
    assert status == 412, status
    assert headers.get('X-Trans-Id')
    status, _, _ = raw(cloud, 'PUT', '%s/%s' % (account, bad), {'X-Auth-Token': token}, b'')
    assert status == 412
    status, _, _ = raw(cloud, 'GET', '%s/%s/%s' % (account, c, bad), {'X-Auth-Token': token})
    assert status == 412


@pytest.mark.parametrize('name', ['.', '..', 'a/./b', 'a/../b', 'x/..', './y'])
def test_dot_segments_are_plain_object_names(cloud, acct, name):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/%s' % (account, c, name)
    status, _, _ = raw(cloud, 'PUT', path, {'X-Auth-Token': token}, name.encode())
    assert status == 201
    status, _, body = raw(cloud, 'GET', path, {'X-Auth-Token': token})
    assert status == 200 and body == name.encode()
    assert names_of(listing(cloud, token, '%s/%s' % (account, c))) == [name]
    status, _, _ = raw(cloud, 'DELETE', path, {'X-Auth-Token': token})
    assert status == 204


def test_unicode_and_reserved_characters_round_trip(cloud, acct):
    account, token = acct
    c = 'c-\u00e9\u4e2d-' + unique('x')
    assert cloud.swift('PUT', '%s/%s' % (account, urllib.parse.quote(c)), token=token).status_code == 201
    names = ['caf\u00e9', 'sp ace', 'q?uery', 'h#ash', 'per%cent', 'plus+', 'emoji-\U0001f600',
             'semi;colon', 'slash//double', 'trailing/']
    for n in names:
        r = put(cloud, token, '%s/%s/%s' % (account, urllib.parse.quote(c), urllib.parse.quote(n)),
                n.encode())
        assert r.status_code == 201, (n, r.status_code)
    got = names_of(listing(cloud, token, '%s/%s' % (account, urllib.parse.quote(c))))
    assert got == sorted(names, key=lambda s: s.encode())
    for n in names:
        r = cloud.swift('GET', '%s/%s/%s' % (account, urllib.parse.quote(c), urllib.parse.quote(n)),
                        token=token)
        assert r.content == n.encode()
    assert c in cloud.swift('GET', account, token=token).text.splitlines()


# -- metadata ---------------------------------------------------------------


@pytest.mark.parametrize('level', ['account', 'container', 'object'])
def test_metadata_limits(cloud, level):
    user = cloud.object_user('member')
    t = user['token']
    c = new_container(cloud, t, user['account'])
    path = {'account': user['account'], 'container': '%s/%s' % (user['account'], c),
            'object': '%s/%s/o' % (user['account'], c)}[level]
    prefix = 'X-%s-Meta-' % level.capitalize()
    remove = 'X-Remove-%s-Meta-' % level.capitalize()
    ok = {'account': 204, 'container': 204, 'object': 201}[level]

    def post(headers):
        """Sets `headers` (a PUT for objects); returns the status. Account
        and container metadata accumulate, so what was set is removed again."""
        if level == 'object':
            return put(cloud, t, path, b'x', **headers).status_code
        status = cloud.swift('POST', path, token=t, headers=headers).status_code
        if status == ok:
            r = cloud.swift('POST', path, token=t, headers={
                remove + k[len(prefix):]: 'x' for k in headers})
            assert r.status_code == ok
        return status

    assert post({prefix + 'n' * 128: 'v'}) == ok
    assert post({prefix + 'n' * 129: 'v'}) == 400
    assert post({prefix + 'Name': 'v' * 256}) == ok
    assert post({prefix + 'Name': 'v' * 257}) == 400
    assert post({prefix + 'K%d' % i: 'v' for i in range(90)}) == ok
    assert post({prefix + 'K%d' % i: 'v' for i in range(91)}) == 400
    assert post({prefix + 'K%02d' % i: 'v' * 250 for i in range(16)}) == ok
    assert post({prefix + 'K%02d' % i: 'v' * 250 for i in range(17)}) == 400
    # The limits hold for the merged set too: 60 now and 31 more is 91.
    if level != 'object':
        r = cloud.swift('POST', path, token=t,
                        headers={prefix + 'A%d' % i: 'v' for i in range(60)})
        assert r.status_code == ok
        r = cloud.swift('POST', path, token=t,
                        headers={prefix + 'B%d' % i: 'v' for i in range(31)})
        assert r.status_code == 400
        assert sum(1 for k in cloud.swift('HEAD', path, token=t).headers
                   if k.lower().startswith(prefix.lower())) == 60


def test_object_metadata_round_trip_and_post_replaces(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/o' % (account, c)
    r = put(cloud, token, path, b'x', **{'X-Object-Meta-Color': 'blue',
                                         'X-Object-Meta-Shape': 'round',
                                         'Content-Disposition': 'attachment; filename=o.txt',
                                         'Content-Encoding': 'identity',
                                         'X-Ignored-Header': 'nope'})
    assert r.status_code == 201
    r = cloud.swift('HEAD', path, token=token)
    assert r.headers['X-Object-Meta-Color'] == 'blue'
    assert r.headers['X-Object-Meta-Shape'] == 'round'
    assert r.headers['Content-Disposition'] == 'attachment; filename=o.txt'
    assert 'X-Ignored-Header' not in r.headers
    r = cloud.swift('POST', path, token=token, headers={'X-Object-Meta-Color': 'red'})
    assert r.status_code == 202
    r = cloud.swift('HEAD', path, token=token)
    assert r.headers['X-Object-Meta-Color'] == 'red'
    assert 'X-Object-Meta-Shape' not in r.headers
    # POST does not touch the content.
    assert r.headers['Etag'] == md5(b'x')
    assert cloud.swift('POST', '%s/%s/missing' % (account, c), token=token).status_code == 404


def test_container_metadata_post_merges_and_removes(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account, **{'X-Container-Meta-One': '1'})
    path = '%s/%s' % (account, c)
    r = cloud.swift('POST', path, token=token, headers={'X-Container-Meta-Two': '2'})
    assert r.status_code == 204
    r = cloud.swift('HEAD', path, token=token)
    assert r.headers['X-Container-Meta-One'] == '1'
    assert r.headers['X-Container-Meta-Two'] == '2'
    cloud.swift('POST', path, token=token, headers={'X-Remove-Container-Meta-One': 'x'})
    r = cloud.swift('HEAD', path, token=token)
    assert 'X-Container-Meta-One' not in r.headers
    # A PUT on an existing container updates, 202.
    r = cloud.swift('PUT', path, token=token, headers={'X-Container-Meta-Three': '3'})
    assert r.status_code == 202
    assert cloud.swift('HEAD', path, token=token).headers['X-Container-Meta-Three'] == '3'
    assert cloud.swift('POST', account + '/' + unique('missing'), token=token).status_code == 404


# -- writes -------------------------------------------------------------------


def test_etag_mismatch_is_422_and_stores_nothing(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/o' % (account, c)
    r = put(cloud, token, path, b'hello', ETag=md5(b'other'))
    assert r.status_code == 422, r.text
    assert cloud.swift('GET', path, token=token).status_code == 404
    assert listing(cloud, token, '%s/%s' % (account, c)) == []
    # An old version stays when the new one is refused.
    assert put(cloud, token, path, b'v1', ETag=md5(b'v1')).status_code == 201
    assert put(cloud, token, path, b'v2', ETag=md5(b'v1')).status_code == 422
    assert cloud.swift('GET', path, token=token).content == b'v1'
    # A quoted ETag is accepted; the object server compares it as sent, so
    # an upper-case one does not match (422, with the Last-Modified the
    # proxy gives every stored write).
    r = put(cloud, token, path, b'v3', ETag='"%s"' % md5(b'v3').upper())
    assert r.status_code == 422 and 'Last-Modified' in r.headers
    r = put(cloud, token, path, b'v3', ETag='"%s"' % md5(b'v3'))
    assert r.status_code == 201 and r.headers['Etag'] == md5(b'v3')
    r = cloud.swift('HEAD', '%s/%s' % (account, c), token=token)
    assert r.headers['X-Container-Object-Count'] == '1'
    assert r.headers['X-Container-Bytes-Used'] == '2'


def test_if_none_match_star(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/o' % (account, c)
    r = put(cloud, token, path, b'first', **{'If-None-Match': '*'})
    assert r.status_code == 201
    r = put(cloud, token, path, b'second', **{'If-None-Match': '*'})
    assert r.status_code == 412, r.text
    assert cloud.swift('GET', path, token=token).content == b'first'
    r = put(cloud, token, path, b'third', **{'If-None-Match': 'abc'})
    assert r.status_code == 400


def test_put_into_missing_container_is_404(cloud, acct):
    account, token = acct
    r = put(cloud, token, '%s/%s/o' % (account, unique('nope')), b'x')
    assert r.status_code == 404


def test_chunked_transfer_put(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    pieces = [os.urandom(1000 + i * 777) for i in range(20)]
    data = b''.join(pieces)

    def gen():
        yield from pieces

    r = cloud.swift('PUT', '%s/%s/chunked' % (account, c), token=token, data=gen())
    assert r.status_code == 201, r.text
    assert r.headers['Etag'] == md5(data)
    r = cloud.swift('GET', '%s/%s/chunked' % (account, c), token=token)
    assert r.content == data
    assert r.headers['Content-Length'] == str(len(data))
    # A chunked body with a wrong ETag is refused as well.
    r = cloud.swift('PUT', '%s/%s/chunked2' % (account, c), token=token, data=gen(),
                    headers={'ETag': md5(b'nope')})
    assert r.status_code == 422
    # No length at all: 411.
    status, _, _ = raw(cloud, 'PUT', '%s/%s/nolength' % (account, c), {'X-Auth-Token': token})
    assert status == 411


def read_response_head(sock, timeout):
    sock.settimeout(timeout)
    buf = b''
    while b'\r\n\r\n' not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def test_expect_100_continue_refused_before_the_body(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    size = 8 * 1024 * 1024
    for headers in ['', 'X-Auth-Token: bogus-token\r\n']:
        with socket.create_connection(('127.0.0.1', cloud.object_port), timeout=10) as s:
            s.sendall(('PUT %s/%s/big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n'
                       'Expect: 100-continue\r\n%s\r\n' % (account, c, size, headers)).encode())
            head = read_response_head(s, 5)
            assert head.startswith(b'HTTP/1.1 401'), head
            assert b'x-trans-id' in head.lower()
    # With a good token the server asks for the body.
    with socket.create_connection(('127.0.0.1', cloud.object_port), timeout=10) as s:
        body = b'z' * 1000
        s.sendall(('PUT %s/%s/small HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n'
                   'Expect: 100-continue\r\nX-Auth-Token: %s\r\n\r\n'
                   % (account, c, len(body), token)).encode())
        head = read_response_head(s, 5)
        assert head.startswith(b'HTTP/1.1 100'), head
        rest = head.split(b'\r\n\r\n', 1)[1]
        s.sendall(body)
        final = rest + read_response_head(s, 10)
        assert final.startswith(b'HTTP/1.1 201'), final
    assert cloud.swift('GET', '%s/%s/small' % (account, c), token=token).content == body
    assert cloud.swift('GET', '%s/%s/big' % (account, c), token=token).status_code == 404


def test_content_type_guessing(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    base = '%s/%s/' % (account, c)
    cases = {'page.html': 'text/html', 'pic.PNG': 'image/png', 'data.json': 'application/json',
             'noext': 'application/octet-stream', 'dir/file.txt': 'text/plain',
             'odd.zzzunknown': 'application/octet-stream'}
    for name, want in cases.items():
        assert put(cloud, token, base + name, b'x').status_code == 201
        got = cloud.swift('HEAD', base + name, token=token).headers['Content-Type']
        assert got.split(';')[0] == want, (name, got)
    # An explicit type wins, unless X-Detect-Content-Type asks for a guess.
    put(cloud, token, base + 'x.html', b'x', **{'Content-Type': 'application/x-mine'})
    assert cloud.swift('HEAD', base + 'x.html', token=token).headers['Content-Type'] == 'application/x-mine'
    put(cloud, token, base + 'y.html', b'x', **{'Content-Type': 'application/x-mine',
                                               'X-Detect-Content-Type': 'true'})
    assert cloud.swift('HEAD', base + 'y.html', token=token).headers['Content-Type'].startswith('text/html')
    rows = {r['name']: r['content_type'] for r in listing(cloud, token, base[:-1])}
    assert rows['page.html'].startswith('text/html')


def test_empty_object(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/empty' % (account, c)
    r = put(cloud, token, path, b'')
    assert r.status_code == 201 and r.headers['Etag'] == md5(b'')
    r = cloud.swift('GET', path, token=token)
    assert r.status_code == 200 and r.content == b''
    assert r.headers['Content-Length'] == '0'
    r = cloud.swift('GET', path, token=token, headers={'Range': 'bytes=0-1'})
    assert r.status_code == 416


def test_delete_object_and_container(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)
    put(cloud, token, cpath + '/o', b'x')
    r = cloud.swift('DELETE', cpath, token=token)
    assert r.status_code == 409, r.text
    assert cloud.swift('DELETE', cpath + '/o', token=token).status_code == 204
    assert cloud.swift('DELETE', cpath + '/o', token=token).status_code == 404
    assert cloud.swift('GET', cpath + '/o', token=token).status_code == 404
    assert cloud.swift('DELETE', cpath, token=token).status_code == 204
    assert cloud.swift('DELETE', cpath, token=token).status_code == 404
    assert cloud.swift('HEAD', cpath, token=token).status_code == 404
    assert cloud.swift('GET', cpath, token=token).status_code == 404


# -- ranges -------------------------------------------------------------------


@pytest.fixture(scope='module')
def ranged(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    data = bytes(range(256)) * 4  # 1024 bytes
    path = '%s/%s/r.bin' % (account, c)
    assert put(cloud, token, path, data, **{'Content-Type': 'application/x-test'}).status_code == 201
    big = os.urandom(3 * 1024 * 1024 + 17)  # beyond the in-memory verify size
    bigpath = '%s/%s/big.bin' % (account, c)
    assert put(cloud, token, bigpath, big).status_code == 201
    return token, {'small': (path, data), 'big': (bigpath, big)}


def parse_byteranges(content_type, body):
    m = re.search(r'boundary=("?)([^";]+)\1', content_type)
    assert m, content_type
    boundary = m.group(2).encode()
    parts = []
    for chunk in body.split(b'--' + boundary)[1:]:
        if chunk.startswith(b'--'):
            break
        chunk = chunk[2:] if chunk.startswith(b'\r\n') else chunk
        head, _, payload = chunk.partition(b'\r\n\r\n')
        if payload.endswith(b'\r\n'):
            payload = payload[:-2]
        headers = {}
        for line in head.split(b'\r\n'):
            k, _, v = line.decode().partition(':')
            headers[k.strip().lower()] = v.strip()
        parts.append((headers, payload))
    assert body.rstrip().endswith(b'--' + boundary + b'--'), body[-100:]
    return parts


@pytest.mark.parametrize('which', ['small', 'big'])
def test_ranges(cloud, ranged, which):
    token, objs = ranged
    path, data = objs[which]
    n = len(data)

    def get(rng):
        return cloud.swift('GET', path, token=token, headers={'Range': rng})

    for rng, lo, hi in [('bytes=0-9', 0, 9), ('bytes=100-199', 100, 199),
                        ('bytes=-5', n - 5, n - 1), ('bytes=%d-' % (n - 10), n - 10, n - 1),
                        ('bytes=0-', 0, n - 1), ('bytes=5-%d' % (n * 10), 5, n - 1),
                        ('bytes=-%d' % (n * 2), 0, n - 1)]:
        r = get(rng)
        assert r.status_code == 206, (rng, r.status_code)
        assert r.content == data[lo:hi + 1], rng
        assert r.headers['Content-Range'] == 'bytes %d-%d/%d' % (lo, hi, n), rng
        assert r.headers['Content-Length'] == str(hi - lo + 1)
    # swob answers a HEAD before it looks at Range: the whole object's length.
    r = cloud.swift('HEAD', path, token=token, headers={'Range': 'bytes=0-9'})
    assert r.status_code == 200 and r.headers['Content-Length'] == str(n)

    # Several ranges: multipart/byteranges, each part with its own range.
    want = [(0, 9), (20, 29), (n - 3, n - 1)]
    r = get('bytes=0-9,20-29,-3')
    assert r.status_code == 206
    assert r.headers['Content-Type'].startswith('multipart/byteranges')
    parts = parse_byteranges(r.headers['Content-Type'], r.content)
    assert len(parts) == 3
    for (headers, payload), (lo, hi) in zip(parts, want):
        assert headers['content-range'] == 'bytes %d-%d/%d' % (lo, hi, n)
        assert headers['content-type'] == cloud.swift('HEAD', path, token=token).headers['Content-Type']
        assert payload == data[lo:hi + 1]
    assert int(r.headers['Content-Length']) == len(r.content)

    # 50 ranges are served, 51 are refused (swob: more than MAX_RANGES → 416).
    many = ','.join('%d-%d' % (i * 10, i * 10 + 1) for i in range(50))
    r = get('bytes=' + many)
    assert r.status_code == 206
    assert len(parse_byteranges(r.headers['Content-Type'], r.content)) == 50
    many = ','.join('%d-%d' % (i * 10, i * 10 + 1) for i in range(51))
    r = get('bytes=' + many)
    assert r.status_code == 416 and r.headers['Content-Range'] == 'bytes */%d' % n

    # Unsatisfiable ranges: 416 with the size.
    for rng in ['bytes=%d-' % n, 'bytes=%d-%d' % (n + 5, n + 10), 'bytes=-0']:
        r = get(rng)
        assert r.status_code == 416, (rng, r.status_code)
        assert r.headers['Content-Range'] == 'bytes */%d' % n
    # One good range among bad ones is served.
    r = get('bytes=%d-,0-1' % n)
    assert r.status_code == 206 and r.content == data[0:2]
    # Syntactically bad ranges are ignored: the whole object.
    for rng in ['bytes=9-5', 'bytes=a-b', 'bits=0-1', 'bytes=', 'bytes=--1']:
        r = get(rng)
        assert r.status_code == 200 and r.content == data, rng


# -- conditionals -------------------------------------------------------------


def test_conditional_requests(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/cond' % (account, c)
    data = b'conditional'
    etag = put(cloud, token, path, data).headers['Etag']
    head = cloud.swift('HEAD', path, token=token)
    last_modified = head.headers['Last-Modified']
    past = formatdate(time.time() - 3600, usegmt=True)
    future = formatdate(time.time() + 3600, usegmt=True)

    def status(method='GET', **headers):
        r = cloud.swift(method, path, token=token, headers=headers)
        if r.status_code in (304, 412):
            assert r.content == b''
            assert r.headers['Etag'] == etag
        return r.status_code

    for method in ('GET', 'HEAD'):
        assert status(method, **{'If-Match': etag}) == 200
        assert status(method, **{'If-Match': '"%s"' % etag}) == 200
        assert status(method, **{'If-Match': '*'}) == 200
        assert status(method, **{'If-Match': 'nope, %s' % etag}) == 200
        assert status(method, **{'If-Match': 'nope'}) == 412
        assert status(method, **{'If-None-Match': etag}) == 304
        assert status(method, **{'If-None-Match': '"%s"' % etag}) == 304
        assert status(method, **{'If-None-Match': '*'}) == 304
        assert status(method, **{'If-None-Match': 'other'}) == 200
        assert status(method, **{'If-Modified-Since': last_modified}) == 304
        assert status(method, **{'If-Modified-Since': future}) == 304
        assert status(method, **{'If-Modified-Since': past}) == 200
        assert status(method, **{'If-Modified-Since': 'garbage'}) == 200
        assert status(method, **{'If-Unmodified-Since': past}) == 412
        assert status(method, **{'If-Unmodified-Since': last_modified}) == 200
        assert status(method, **{'If-Unmodified-Since': future}) == 200
        # swob checks every condition whatever the others said (not RFC
        # 7232's "a date only without its entity-tag counterpart"): a
        # non-matching If-None-Match leaves If-Modified-Since to answer 304,
        # a matching If-Match leaves If-Unmodified-Since to answer 412.
        assert status(method, **{'If-None-Match': 'other', 'If-Modified-Since': future}) == 304
        assert status(method, **{'If-Match': etag, 'If-Unmodified-Since': past}) == 412
        assert status(method, **{'If-None-Match': etag, 'If-Match': 'other'}) == 304
    # A conditional GET that proceeds returns the body.
    r = cloud.swift('GET', path, token=token, headers={'If-Match': etag, 'Range': 'bytes=0-3'})
    assert r.status_code == 206 and r.content == data[:4]


# -- expiry -------------------------------------------------------------------


def test_delete_after_expires_at_once_and_reaper_cleans_listing(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)
    r = put(cloud, token, cpath + '/short', b'bye', **{'X-Delete-After': '2'})
    assert r.status_code == 201, r.text
    put(cloud, token, cpath + '/stays', b'hi')
    r = cloud.swift('HEAD', cpath + '/short', token=token)
    assert r.status_code == 200
    delete_at = int(r.headers['X-Delete-At'])
    assert abs(delete_at - (time.time() + 2)) < 3
    while time.time() < delete_at + 0.05:
        time.sleep(0.05)
    assert cloud.swift('GET', cpath + '/short', token=token).status_code == 404
    assert cloud.swift('HEAD', cpath + '/short', token=token).status_code == 404
    assert cloud.swift('POST', cpath + '/short', token=token).status_code == 404
    deadline = time.time() + 10
    while time.time() < deadline:
        if names_of(listing(cloud, token, cpath)) == ['stays']:
            break
        time.sleep(0.1)
    assert names_of(listing(cloud, token, cpath)) == ['stays']
    r = cloud.swift('HEAD', cpath, token=token)
    assert r.headers['X-Container-Object-Count'] == '1'
    assert r.headers['X-Container-Bytes-Used'] == '2'


def test_delete_at_set_by_post_and_removed(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/o' % (account, c)
    put(cloud, token, path, b'x')
    at = int(time.time()) + 1000
    r = cloud.swift('POST', path, token=token, headers={'X-Delete-At': str(at)})
    assert r.status_code == 202
    assert cloud.swift('HEAD', path, token=token).headers['X-Delete-At'] == str(at)
    r = cloud.swift('POST', path, token=token, headers={'X-Remove-Delete-At': 'x'})
    assert 'X-Delete-At' not in cloud.swift('HEAD', path, token=token).headers
    for bad in [{'X-Delete-At': str(int(time.time()) - 10)}, {'X-Delete-At': 'soon'},
                {'X-Delete-After': '-1'}, {'X-Delete-After': 'x'}]:
        assert put(cloud, token, path, b'y', **bad).status_code == 400, bad
        assert cloud.swift('POST', path, token=token, headers=bad).status_code == 400, bad
    assert cloud.swift('GET', path, token=token).content == b'x'


# -- copies -------------------------------------------------------------------


def test_copy_method_and_x_copy_from(cloud, acct):
    account, token = acct
    c1 = new_container(cloud, token, account)
    c2 = new_container(cloud, token, account)
    src = '%s/%s/src' % (account, c1)
    data = os.urandom(5000)
    put(cloud, token, src, data, **{'X-Object-Meta-Color': 'blue', 'X-Object-Meta-Size': 'big',
                                    'Content-Type': 'application/x-src'})
    # COPY with Destination: the source's metadata plus the request's.
    r = cloud.swift('COPY', src, token=token, headers={
        'Destination': '/%s/copied' % c2, 'X-Object-Meta-Extra': 'yes'})
    assert r.status_code == 201, r.text
    assert r.headers['X-Copied-From'] == '%s/src' % c1
    assert r.headers['Etag'] == md5(data)
    r = cloud.swift('GET', '%s/%s/copied' % (account, c2), token=token)
    assert r.content == data
    assert r.headers['X-Object-Meta-Color'] == 'blue'
    assert r.headers['X-Object-Meta-Extra'] == 'yes'
    assert r.headers['Content-Type'] == 'application/x-src'
    # PUT with X-Copy-From and X-Fresh-Metadata: only the request's metadata.
    r = cloud.swift('PUT', '%s/%s/fresh' % (account, c2), token=token, headers={
        'X-Copy-From': '%s/src' % c1, 'X-Fresh-Metadata': 'true',
        'X-Object-Meta-New': '1', 'Content-Length': '0'})
    assert r.status_code == 201, r.text
    r = cloud.swift('HEAD', '%s/%s/fresh' % (account, c2), token=token)
    assert r.headers['X-Object-Meta-New'] == '1'
    assert 'X-Object-Meta-Color' not in r.headers
    assert r.headers['Etag'] == md5(data)
    # Without X-Fresh-Metadata the source's metadata is kept and updated.
    r = cloud.swift('PUT', '%s/%s/merged' % (account, c2), token=token, headers={
        'X-Copy-From': '/%s/src' % c1, 'X-Object-Meta-Color': 'red', 'Content-Length': '0'})
    assert r.status_code == 201
    r = cloud.swift('HEAD', '%s/%s/merged' % (account, c2), token=token)
    assert r.headers['X-Object-Meta-Color'] == 'red'
    assert r.headers['X-Object-Meta-Size'] == 'big'
    # The copy outlives its source and is independent of it.
    assert cloud.swift('DELETE', src, token=token).status_code == 204
    assert cloud.swift('GET', '%s/%s/copied' % (account, c2), token=token).content == data
    put(cloud, token, src, b'new source')
    assert cloud.swift('GET', '%s/%s/merged' % (account, c2), token=token).content == data
    # Errors: missing source, bad Destination, missing destination container.
    r = cloud.swift('COPY', '%s/%s/none' % (account, c1), token=token,
                    headers={'Destination': '%s/x' % c2})
    assert r.status_code == 404
    r = cloud.swift('COPY', src, token=token, headers={'Destination': 'no-slash'})
    assert r.status_code == 412
    r = cloud.swift('COPY', src, token=token)
    assert r.status_code == 412
    r = cloud.swift('COPY', src, token=token, headers={'Destination': unique('nc') + '/x'})
    assert r.status_code == 404
    # A copy onto itself with new metadata works.
    r = cloud.swift('COPY', src, token=token, headers={
        'Destination': '%s/src' % c1, 'X-Object-Meta-Self': 'y'})
    assert r.status_code == 201
    assert cloud.swift('GET', src, token=token).content == b'new source'


def test_copy_needs_read_on_source_and_write_on_destination(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    put(cloud, token, '%s/%s/o' % (account, c), b'mine')
    other = cloud.object_user('member')
    dst = new_container(cloud, other['token'], other['account'])
    r = cloud.swift('PUT', '%s/%s/stolen' % (other['account'], dst), token=other['token'],
                    headers={'X-Copy-From': '%s/o' % c, 'X-Copy-From-Account': account[4:],
                             'Content-Length': '0'})
    assert r.status_code == 403, (r.status_code, r.text)
    # Across accounts with rights on both it works.
    r = cloud.swift('COPY', '%s/%s/o' % (account, c), token=token, headers={
        'Destination': '%s/given' % dst, 'Destination-Account': other['account'][4:]})
    assert r.status_code == 403  # the admin is not an operator of the other account
    cloud.swift('POST', '%s/%s' % (account, c), token=token,
                headers={'X-Container-Read': '%s:*' % other['project_id']})
    r = cloud.swift('PUT', '%s/%s/shared' % (other['account'], dst), token=other['token'],
                    headers={'X-Copy-From': '%s/o' % c, 'X-Copy-From-Account': account[4:],
                             'Content-Length': '0'})
    assert r.status_code == 201, r.text
    assert r.headers['X-Copied-From-Account'] == account[4:]
    assert cloud.swift('GET', '%s/%s/shared' % (other['account'], dst),
                       token=other['token']).content == b'mine'


# -- quotas -----------------------------------------------------------------


def test_container_quotas(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account, **{'X-Container-Meta-Quota-Bytes': '10'})
    cpath = '%s/%s' % (account, c)
    assert put(cloud, token, cpath + '/a', b'123456').status_code == 201
    r = put(cloud, token, cpath + '/b', b'12345')
    assert r.status_code == 413, r.text
    assert cloud.swift('GET', cpath + '/b', token=token).status_code == 404
    # A chunked upload is checked once its size is known (Swift checks only
    # the announced length, so there it passes: a deliberate difference).
    r = cloud.swift('PUT', cpath + '/c', token=token, data=iter([b'1234', b'5678']))
    assert r.status_code == 413, r.text
    assert names_of(listing(cloud, token, cpath)) == ['a']
    assert put(cloud, token, cpath + '/d', b'1234').status_code == 201
    # Count quota: every upload is one object more, even one that replaces
    # (container_quotas.py: object_count + 1).
    cloud.swift('POST', cpath, token=token, headers={'X-Remove-Container-Meta-Quota-Bytes': 'x',
                                                     'X-Container-Meta-Quota-Count': '3'})
    assert put(cloud, token, cpath + '/e', b'x').status_code == 201
    assert put(cloud, token, cpath + '/f', b'x').status_code == 413
    assert put(cloud, token, cpath + '/e', b'xy').status_code == 413
    # Bad quota values.
    r = cloud.swift('POST', cpath, token=token, headers={'X-Container-Meta-Quota-Bytes': 'lots'})
    assert r.status_code == 400


def test_account_quota_only_reseller_sets_it(cloud):
    cloud.ensure_role('ResellerAdmin')
    owner = cloud.object_user('member')
    reseller = cloud.object_user('ResellerAdmin')
    account, t = owner['account'], owner['token']
    c = new_container(cloud, t, account)
    r = cloud.swift('POST', account, token=t, headers={'X-Account-Meta-Quota-Bytes': '100'})
    assert r.status_code == 403, r.text
    r = cloud.swift('POST', account, token=reseller['token'],
                    headers={'X-Account-Meta-Quota-Bytes': '10'})
    assert r.status_code == 204, r.text
    assert cloud.swift('HEAD', account, token=t).headers['X-Account-Meta-Quota-Bytes'] == '10'
    assert put(cloud, t, '%s/%s/a' % (account, c), b'12345678').status_code == 201
    assert put(cloud, t, '%s/%s/b' % (account, c), b'12345').status_code == 413
    # The owner may not lift it either.
    r = cloud.swift('POST', account, token=t, headers={'X-Remove-Account-Meta-Quota-Bytes': 'x'})
    assert r.status_code == 403
    r = cloud.swift('POST', account, token=reseller['token'],
                    headers={'X-Account-Meta-Quota-Bytes': 'many'})
    assert r.status_code == 400
    r = cloud.swift('POST', account, token=reseller['token'],
                    headers={'X-Remove-Account-Meta-Quota-Bytes': 'x'})
    assert r.status_code == 204
    assert put(cloud, t, '%s/%s/b' % (account, c), b'12345').status_code == 201


# -- every response ---------------------------------------------------------


def test_every_response_has_a_trans_id(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)
    put(cloud, token, cpath + '/o', b'0123456789')
    requests_made = [
        ('GET', '/info', None, {}),
        ('GET', account, token, {}), ('HEAD', account, token, {}),
        ('GET', cpath, token, {}), ('HEAD', cpath, token, {}),
        ('GET', cpath + '/o', token, {}), ('HEAD', cpath + '/o', token, {}),
        ('GET', cpath + '/o', token, {'Range': 'bytes=0-1'}),
        ('GET', cpath + '/o', token, {'Range': 'bytes=0-1,3-4'}),
        ('GET', cpath + '/o', token, {'Range': 'bytes=100-'}),
        ('GET', cpath + '/o', token, {'If-None-Match': '*'}),
        ('GET', cpath + '/o', token, {'If-Match': 'x'}),
        ('GET', cpath + '/missing', token, {}),
        ('GET', cpath + '/o', None, {}),
        ('GET', cpath + '/o', 'bad-token', {}),
        ('GET', cpath, token, {'limit': 'x'}),
        ('POST', cpath + '/o', token, {'X-Object-Meta-A': 'b'}),
        ('POST', cpath, token, {}), ('POST', account, token, {}),
        ('PUT', cpath + '/o2', token, {}),
        ('COPY', cpath + '/o', token, {'Destination': c + '/o3'}),
        ('DELETE', cpath + '/o2', token, {}),
        ('DELETE', cpath, token, {}),
        ('PUT', cpath + '/o4', token, {'ETag': 'x' * 32}),
    ]
    for method, path, tok, headers in requests_made:
        params = {}
        if 'limit' in headers:
            params = {'limit': headers.pop('limit')}
        data = b'' if method == 'PUT' else None
        r = cloud.swift(method, path, token=tok, headers=headers, params=params, data=data)
        trans = r.headers.get('X-Trans-Id', '')
        assert re.match(r'^tx[0-9a-f]{21}-[0-9a-f]{10}$', trans), (method, path, r.status_code,
                                                                   dict(r.headers))


def test_unrouted_responses_have_a_trans_id(cloud, acct):
    """Swift's catch_errors gives even a 404 for an unknown path or a 405 a
    transaction id, and X-Openstack-Request-Id is the same id."""
    account, token = acct
    for method, path in [('PATCH', account), ('GET', '/v1'), ('GET', '/nowhere'),
                         ('GET', '/info'), ('GET', account)]:
        r = cloud.swift(method, path, token=token)
        trans = r.headers.get('X-Trans-Id', '')
        assert re.match(r'^tx[0-9a-f]{21}-[0-9a-f]{10}$', trans), (method, path, r.status_code,
                                                                   dict(r.headers))
        assert r.headers.get('X-Openstack-Request-Id') == trans, (method, path, dict(r.headers))


def test_info_lists_capabilities(cloud):
    r = cloud.swift('GET', '/info')
    assert r.status_code == 200
    info = r.json()
    swift = info['swift']
    assert swift['max_object_name_length'] == 1024
    assert swift['container_listing_limit'] == 10000
    assert swift['max_meta_count'] == 90


# -- more edges -------------------------------------------------------------


def test_expect_100_continue_refused_for_a_missing_container_and_too_large(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cases = [('%s/%s/o' % (account, unique('none')), 1024, b'HTTP/1.1 404'),
             ('%s/%s/o' % (account, c), 6 * 1024 ** 3, b'HTTP/1.1 413')]
    for path, size, want in cases:
        with socket.create_connection(('127.0.0.1', cloud.object_port), timeout=10) as s:
            s.sendall(('PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n'
                       'Expect: 100-continue\r\nX-Auth-Token: %s\r\n\r\n'
                       % (path, size, token)).encode())
            head = read_response_head(s, 5)
            assert head.startswith(want), (path, head)


def test_client_gone_mid_body_stores_nothing(new_cloud):
    """A client that closes its connection halfway through a body: nothing
    is stored, the old object stays, and the server lets go of the request
    at once (not when the read timeout fires, which would also hold up a
    graceful stop)."""
    cloud = new_cloud('[http]\nread_timeout_ms = 4000\n')
    token = cloud.admin_token()
    account = cloud.account_path()
    c = new_container(cloud, token, account)
    path = '%s/%s/partial' % (account, c)
    assert put(cloud, token, path, b'old').status_code == 201
    for sent in (5000, 0):
        with socket.create_connection(('127.0.0.1', cloud.object_port), timeout=10) as s:
            s.sendall(('PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n'
                       'X-Auth-Token: %s\r\n\r\n' % (path, token)).encode() + b'y' * sent)
            time.sleep(0.2)
        gone = time.monotonic()
        finished = None
        while time.monotonic() - gone < 6:
            with open(cloud.log_path, errors='replace') as f:
                puts = [line for line in f if 'method=PUT' in line and '/partial ' in line]
            if len(puts) == (2 if sent else 3):
                finished = time.monotonic() - gone
                break
            time.sleep(0.05)
        assert finished is not None and finished < 1.5, (
            'the server noticed the client was gone after %s s (read timeout 4 s)' % finished)
    assert cloud.swift('GET', path, token=token).content == b'old'
    rows = listing(cloud, token, '%s/%s' % (account, c))
    assert [(r['name'], r['bytes']) for r in rows] == [('partial', 3)]
    assert os.listdir(os.path.join(cloud.data_dir, 'objects', 'tmp')) == []


def test_post_changes_content_type(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/o.txt' % (account, c)
    put(cloud, token, path, b'x')
    r = cloud.swift('POST', path, token=token, headers={'Content-Type': 'application/x-new'})
    assert r.status_code == 202
    assert cloud.swift('HEAD', path, token=token).headers['Content-Type'] == 'application/x-new'
    assert listing(cloud, token, '%s/%s' % (account, c))[0]['content_type'] == 'application/x-new'


def test_copy_of_names_needing_quotes(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    src_name = 'caf\u00e9 & sp ace?.txt'
    q = urllib.parse.quote(src_name)
    put(cloud, token, '%s/%s/%s' % (account, c, q), b'quoted')
    r = cloud.swift('PUT', '%s/%s/copy1' % (account, c), token=token,
                    headers={'X-Copy-From': '%s/%s' % (c, q), 'Content-Length': '0'})
    assert r.status_code == 201, r.text
    assert r.headers['X-Copied-From'] == '%s/%s' % (c, q)
    r = cloud.swift('COPY', '%s/%s/%s' % (account, c, q), token=token,
                    headers={'Destination': '%s/%s' % (c, urllib.parse.quote('d\u00e9st ination'))})
    assert r.status_code == 201, r.text
    assert sorted(names_of(listing(cloud, token, '%s/%s' % (account, c)))) == sorted(
        ['copy1', 'd\u00e9st ination', src_name])
    # Slashes in the object name stay slashes in X-Copied-From.
    put(cloud, token, '%s/%s/dir/sub/file' % (account, c), b'nested')
    r = cloud.swift('COPY', '%s/%s/dir/sub/file' % (account, c), token=token,
                    headers={'Destination': '%s/flat' % c})
    assert r.status_code == 201
    assert r.headers['X-Copied-From'] == '%s/dir/sub/file' % c


def test_overwrite_drops_the_old_expiry(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/o' % (account, c)
    put(cloud, token, path, b'x', **{'X-Delete-After': '1000'})
    assert 'X-Delete-At' in cloud.swift('HEAD', path, token=token).headers
    put(cloud, token, path, b'y')
    assert 'X-Delete-At' not in cloud.swift('HEAD', path, token=token).headers


def test_encoded_slash_is_a_slash(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    status, _, _ = raw(cloud, 'PUT', '%s/%s/a%%2Fb' % (account, c), {'X-Auth-Token': token}, b'ab')
    assert status == 201
    assert cloud.swift('GET', '%s/%s/a/b' % (account, c), token=token).content == b'ab'
    assert names_of(listing(cloud, token, '%s/%s' % (account, c))) == ['a/b']


def test_utf8_metadata_values_round_trip(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/o' % (account, c)
    value = urllib.parse.quote('caf\u00e9 \u2713')
    r = put(cloud, token, path, b'x', **{'X-Object-Meta-Note': value})
    assert r.status_code == 201
    assert cloud.swift('HEAD', path, token=token).headers['X-Object-Meta-Note'] == value
    status, headers, _ = raw(cloud, 'PUT', path, {'X-Auth-Token': token,
                                                  'X-Object-Meta-Raw': 'caf\u00e9'.encode().decode('latin-1')},
                             b'x')
    assert status == 201
    status, headers, _ = raw(cloud, 'HEAD', path, {'X-Auth-Token': token})
    assert headers['X-Object-Meta-Raw'].encode('latin-1').decode() == 'caf\u00e9'


def test_listing_json_escapes_and_unicode(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    odd = ['quote"d', 'back\\slash', 'tab\tname', 'new\nline', '\u00e9\u4e2d\U0001f600', '<xml>&']
    for n in odd:
        assert put(cloud, token, '%s/%s/%s' % (account, c, urllib.parse.quote(n)), b'x').status_code == 201
    got = names_of(listing(cloud, token, '%s/%s' % (account, c)))
    assert got == sorted(odd, key=lambda s: s.encode())
    r = cloud.swift('GET', '%s/%s' % (account, c), token=token, params={'format': 'xml'})
    assert [o.find('name').text for o in ET.fromstring(r.content).findall('object')] == got
    # prefix and marker with non-ASCII text.
    assert names_of(listing(cloud, token, '%s/%s' % (account, c), prefix='\u00e9')) == [
        '\u00e9\u4e2d\U0001f600']
    assert names_of(listing(cloud, token, '%s/%s' % (account, c), marker='tab\tname')) == [
        '\u00e9\u4e2d\U0001f600']


def test_reverse_with_end_marker_and_prefix(cloud, listed):
    path, token, _ = listed
    assert names_of(listing(cloud, token, path, reverse='true', end_marker='c/1')) == [
        'e&<x>', 'd', 'c/3/x', 'c/2']
    assert names_of(listing(cloud, token, path, reverse='true', prefix='c/')) == [
        'c/3/x', 'c/2', 'c/1']
    assert names_of(listing(cloud, token, path, reverse='true', marker='d', end_marker='b')) == [
        'c/3/x', 'c/2', 'c/1']


def test_head_and_get_agree(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s/o.json' % (account, c)
    put(cloud, token, path, b'{"a": 1}', **{'X-Object-Meta-A': 'b'})
    g = cloud.swift('GET', path, token=token)
    h = cloud.swift('HEAD', path, token=token)
    for k in ('Content-Type', 'Etag', 'Last-Modified', 'X-Timestamp', 'X-Object-Meta-A',
              'Content-Length', 'Accept-Ranges'):
        assert g.headers[k] == h.headers[k], k
    assert h.content == b''
    row = listing(cloud, token, '%s/%s' % (account, c))[0]
    # The listing's time is the object's X-Timestamp.
    ts = float(h.headers['X-Timestamp'])
    listed_ts = time.mktime(time.strptime(row['last_modified'][:19], '%Y-%m-%dT%H:%M:%S')) - \
        time.timezone + float('0.' + row['last_modified'][20:])
    assert abs(ts - listed_ts) < 0.001, (h.headers['X-Timestamp'], row['last_modified'])


def test_container_counters_follow_writes(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)

    def counters():
        h = cloud.swift('HEAD', cpath, token=token).headers
        return int(h['X-Container-Object-Count']), int(h['X-Container-Bytes-Used'])

    put(cloud, token, cpath + '/a', b'12345')
    put(cloud, token, cpath + '/b', b'123')
    assert counters() == (2, 8)
    put(cloud, token, cpath + '/a', b'1')
    assert counters() == (2, 4)
    cloud.swift('COPY', cpath + '/b', token=token, headers={'Destination': c + '/c'})
    assert counters() == (3, 7)
    cloud.swift('DELETE', cpath + '/a', token=token)
    assert counters() == (2, 6)
    cloud.swift('POST', cpath + '/b', token=token, headers={'X-Object-Meta-X': 'y'})
    assert counters() == (2, 6)


@pytest.mark.parametrize('given,stored', [
    ('.referrer:*', '.r:*'),
    ('.ref:*', '.r:*'),
    ('.referer:.example.com', '.r:.example.com'),
    ('.r:*.example.com', '.r:.example.com'),
    ('.r:*, .rlistings', '.r:*,.rlistings'),
    ('.r:-evil.example,,.r:*', '.r:-evil.example,.r:*'),
])
def test_container_read_acl_is_cleaned_as_swift_does(cloud, acct, given, stored):
    account, token = acct
    c = new_container(cloud, token, account)
    path = '%s/%s' % (account, c)
    r = cloud.swift('POST', path, token=token, headers={'X-Container-Read': given})
    assert r.status_code == 204, r.text
    assert cloud.swift('HEAD', path, token=token).headers['X-Container-Read'] == stored
    put(cloud, token, path + '/o', b'x')
    r = cloud.swift('GET', path + '/o', headers={'Referer': 'http://www.example.com/'})
    assert r.status_code == 200


def test_referrer_deny_after_allow(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account, **{'X-Container-Read': '.r:*,.r:-evil.example'})
    path = '%s/%s/o' % (account, c)
    put(cloud, token, path, b'x')
    assert cloud.swift('GET', path, headers={'Referer': 'http://good.example/'}).status_code == 200
    assert cloud.swift('GET', path, headers={'Referer': 'http://evil.example/'}).status_code == 401
    assert cloud.swift('GET', path).status_code == 200


@pytest.mark.parametrize('header,value', [
    ('X-Container-Read', '.r:'),
    ('X-Container-Read', '.r:-'),
    ('X-Container-Read', '.r:.'),
    ('X-Container-Read', '.unknown:x'),
    ('X-Container-Write', '.r:*'),
    ('X-Container-Write', '.referrer:*'),
])
def test_bad_container_acls_are_400(cloud, acct, header, value):
    account, token = acct
    c = new_container(cloud, token, account)
    r = cloud.swift('POST', '%s/%s' % (account, c), token=token, headers={header: value})
    assert r.status_code == 400, (value, r.status_code, r.text)
    r = cloud.swift('PUT', '%s/%s' % (account, unique('c')), token=token, headers={header: value})
    assert r.status_code == 400
