"""Swift's middleware features over raw HTTP: large objects (SLO and DLO),
symlinks, versioning, TempURL, FormPost, bulk operations, StaticWeb and
CORS, and /info announcing them."""

import base64
import hashlib
import hmac
import io
import json
import tarfile
import time
import urllib.parse

import pytest
import requests

from conftest import unique


def md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope='module')
def acct(cloud):
    return cloud.account_path(), cloud.admin_token()


def new_container(cloud, token, account, **headers):
    name = unique('f')
    r = cloud.swift('PUT', '%s/%s' % (account, name), token=token, headers=headers)
    assert r.status_code == 201, (r.status_code, r.text)
    return name


def put(cloud, token, path, data=b'', **headers):
    return cloud.swift('PUT', path, token=token, data=data, headers=headers)


def names(cloud, token, path, **params):
    params['format'] = 'json'
    r = cloud.swift('GET', path, token=token, params=params)
    return [] if r.status_code == 204 else [row.get('name', row.get('subdir')) for row in r.json()]


# -- /info ----------------------------------------------------------------


@pytest.mark.parametrize('feature', ['slo', 'symlink', 'versioned_writes', 'tempurl',
                                     'formpost', 'bulk_delete', 'bulk_upload', 'staticweb'])
def test_info_announces_feature(cloud, feature):
    info = cloud.swift('GET', '/info').json()
    assert feature in info, sorted(info)


# -- static large objects -------------------------------------------------


def upload_segments(cloud, token, cpath, sizes, prefix='seg/'):
    segs, whole = [], b''
    for i, size in enumerate(sizes):
        data = bytes([65 + i]) * size
        name = '%s%03d' % (prefix, i)
        assert put(cloud, token, '%s/%s' % (cpath, name), data).status_code == 201
        segs.append((name, data))
        whole += data
    return segs, whole


def test_slo_put_get_range_manifest_delete(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)
    segs, whole = upload_segments(cloud, token, cpath, [1000, 2000, 1500])
    manifest = [{'path': '/%s/%s' % (c, n), 'etag': md5(d), 'size_bytes': len(d)}
                for n, d in segs]
    r = cloud.swift('PUT', cpath + '/slo', token=token, params={'multipart-manifest': 'put'},
                    data=json.dumps(manifest), headers={'X-Object-Meta-Kind': 'slo'})
    assert r.status_code == 201, (r.status_code, r.text)
    slo_etag = md5(''.join(md5(d) for _, d in segs).encode())
    assert r.headers['Etag'].strip('"') == slo_etag

    r = cloud.swift('GET', cpath + '/slo', token=token)
    assert r.status_code == 200 and r.content == whole
    assert r.headers['X-Static-Large-Object'].lower() == 'true'
    assert r.headers['Etag'] == '"%s"' % slo_etag
    assert r.headers['Content-Length'] == str(len(whole))
    assert r.headers['X-Object-Meta-Kind'] == 'slo'
    r = cloud.swift('HEAD', cpath + '/slo', token=token)
    assert r.headers['Content-Length'] == str(len(whole))
    # A range across a segment boundary, and a suffix.
    r = cloud.swift('GET', cpath + '/slo', token=token, headers={'Range': 'bytes=900-2100'})
    assert r.status_code == 206 and r.content == whole[900:2101]
    assert r.headers['Content-Range'] == 'bytes 900-2100/%d' % len(whole)
    r = cloud.swift('GET', cpath + '/slo', token=token, headers={'Range': 'bytes=-10'})
    assert r.content == whole[-10:]
    # The manifest itself.
    r = cloud.swift('GET', cpath + '/slo', token=token, params={'multipart-manifest': 'get'})
    got = r.json()
    assert [s['name'] for s in got] == ['/%s/%s' % (c, n) for n, _ in segs]
    assert [s['bytes'] for s in got] == [len(d) for _, d in segs]
    assert [s['hash'] for s in got] == [md5(d) for _, d in segs]
    # The listing shows the whole size.
    r = cloud.swift('GET', cpath, token=token, params={'format': 'json', 'prefix': 'slo'})
    assert r.json()[0]['bytes'] == len(whole)
    # A copy of an SLO is a plain object holding the concatenation.
    r = cloud.swift('COPY', cpath + '/slo', token=token, headers={'Destination': c + '/flat'})
    assert r.status_code == 201
    r = cloud.swift('GET', cpath + '/flat', token=token)
    assert r.content == whole and 'X-Static-Large-Object' not in r.headers
    # Delete with its segments.
    r = cloud.swift('DELETE', cpath + '/slo', token=token,
                    params={'multipart-manifest': 'delete'},
                    headers={'Accept': 'application/json'})
    assert r.status_code == 200, r.text
    assert r.json()['Number Deleted'] == 4
    assert names(cloud, token, cpath) == ['flat']


def test_slo_bad_manifests_are_400(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)
    segs, _ = upload_segments(cloud, token, cpath, [100, 100])
    good = [{'path': '/%s/%s' % (c, n), 'etag': md5(d), 'size_bytes': len(d)} for n, d in segs]
    bad_cases = [
        'not json',
        json.dumps({'path': 'x'}),
        json.dumps([dict(good[0], etag=md5(b'other')), good[1]]),
        json.dumps([dict(good[0], size_bytes=99), good[1]]),
        json.dumps([dict(good[0], path='/%s/missing' % c)]),
    ]
    for body in bad_cases:
        r = cloud.swift('PUT', cpath + '/bad', token=token,
                        params={'multipart-manifest': 'put'}, data=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
    assert 'bad' not in names(cloud, token, cpath)
    # Null etag and size are allowed (checked against the segment).
    loose = [{'path': '/%s/%s' % (c, n), 'etag': None, 'size_bytes': None} for n, _ in segs]
    r = cloud.swift('PUT', cpath + '/loose', token=token,
                    params={'multipart-manifest': 'put'}, data=json.dumps(loose))
    assert r.status_code == 201, r.text


# -- dynamic large objects ------------------------------------------------


def test_dlo(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)
    segs, whole = upload_segments(cloud, token, cpath, [10, 20, 30], prefix='parts/')
    r = put(cloud, token, cpath + '/dlo', b'', **{'X-Object-Manifest': '%s/parts/' % c})
    assert r.status_code == 201
    r = cloud.swift('GET', cpath + '/dlo', token=token)
    assert r.status_code == 200 and r.content == whole
    assert r.headers['X-Object-Manifest'] == '%s/parts/' % c
    assert r.headers['Etag'] == '"%s"' % md5(''.join(md5(d) for _, d in segs).encode())
    r = cloud.swift('GET', cpath + '/dlo', token=token, headers={'Range': 'bytes=5-14'})
    assert r.status_code == 206 and r.content == whole[5:15]
    # A new segment shows up at once.
    put(cloud, token, cpath + '/parts/999', b'tail')
    assert cloud.swift('GET', cpath + '/dlo', token=token).content == whole + b'tail'
    # The manifest itself is empty.
    r = cloud.swift('GET', cpath + '/dlo', token=token, params={'multipart-manifest': 'get'})
    assert r.content == b''
    # Bad manifest values.
    assert put(cloud, token, cpath + '/bad', b'', **{'X-Object-Manifest': 'noslash'}).status_code == 400


# -- symlinks -------------------------------------------------------------


def test_symlinks(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)
    put(cloud, token, cpath + '/target', b'pointed at', **{'X-Object-Meta-Color': 'blue'})
    r = put(cloud, token, cpath + '/link', b'', **{'X-Symlink-Target': '%s/target' % c})
    assert r.status_code == 201, r.text
    r = cloud.swift('GET', cpath + '/link', token=token)
    assert r.status_code == 200 and r.content == b'pointed at'
    assert r.headers['Content-Location'].endswith('/%s/target' % c)
    r = cloud.swift('HEAD', cpath + '/link', token=token, params={'symlink': 'get'})
    assert r.headers['X-Symlink-Target'] == '%s/target' % c
    rows = {row['name']: row for row in cloud.swift(
        'GET', cpath, token=token, params={'format': 'json'}).json()}
    assert rows['link']['symlink_path'] == '%s/%s/target' % (account, c)
    # A symlink to a symlink, and a dangling one.
    put(cloud, token, cpath + '/link2', b'', **{'X-Symlink-Target': '%s/link' % c})
    assert cloud.swift('GET', cpath + '/link2', token=token).content == b'pointed at'
    put(cloud, token, cpath + '/dangling', b'', **{'X-Symlink-Target': '%s/none' % c})
    assert cloud.swift('GET', cpath + '/dangling', token=token).status_code == 404
    # Bad targets and bodies.
    assert put(cloud, token, cpath + '/bad', b'', **{'X-Symlink-Target': 'noslash'}).status_code == 412
    assert put(cloud, token, cpath + '/bad', b'x', **{'X-Symlink-Target': '%s/target' % c}).status_code == 400
    # A loop is refused on read.
    put(cloud, token, cpath + '/loop1', b'', **{'X-Symlink-Target': '%s/loop2' % c})
    put(cloud, token, cpath + '/loop2', b'', **{'X-Symlink-Target': '%s/loop1' % c})
    assert cloud.swift('GET', cpath + '/loop1', token=token).status_code == 409


# -- versioning -----------------------------------------------------------


def test_versions_location_stack_mode(cloud, acct):
    account, token = acct
    archive = new_container(cloud, token, account)
    c = new_container(cloud, token, account, **{'X-Versions-Location': archive})
    cpath = '%s/%s' % (account, c)
    for v in (b'v1', b'v2', b'v3'):
        assert put(cloud, token, cpath + '/o', v).status_code == 201
    assert cloud.swift('GET', cpath + '/o', token=token).content == b'v3'
    versions = names(cloud, token, '%s/%s' % (account, archive))
    assert len(versions) == 2 and all(v.startswith('001o/') for v in versions), versions
    # DELETE pops the stack.
    assert cloud.swift('DELETE', cpath + '/o', token=token).status_code == 204
    assert cloud.swift('GET', cpath + '/o', token=token).content == b'v2'
    assert cloud.swift('DELETE', cpath + '/o', token=token).status_code == 204
    assert cloud.swift('GET', cpath + '/o', token=token).content == b'v1'
    assert cloud.swift('DELETE', cpath + '/o', token=token).status_code == 204
    assert cloud.swift('GET', cpath + '/o', token=token).status_code == 404
    assert names(cloud, token, '%s/%s' % (account, archive)) == []


def test_history_location_mode(cloud, acct):
    account, token = acct
    archive = new_container(cloud, token, account)
    c = new_container(cloud, token, account, **{'X-History-Location': archive})
    cpath = '%s/%s' % (account, c)
    put(cloud, token, cpath + '/o', b'v1')
    put(cloud, token, cpath + '/o', b'v2')
    assert cloud.swift('DELETE', cpath + '/o', token=token).status_code == 204
    assert cloud.swift('GET', cpath + '/o', token=token).status_code == 404
    versions = names(cloud, token, '%s/%s' % (account, archive))
    contents = sorted(cloud.swift('GET', '%s/%s/%s' % (account, archive, urllib.parse.quote(v)),
                                  token=token).content for v in versions)
    assert b'v1' in contents and b'v2' in contents


def test_versioning_header_rules(cloud, acct):
    account, token = acct
    r = cloud.swift('PUT', '%s/%s' % (account, unique('f')), token=token, headers={
        'X-Versions-Location': 'a', 'X-History-Location': 'b'})
    assert r.status_code == 400
    c = new_container(cloud, token, account, **{'X-Versions-Location': unique('missing')})
    put(cloud, token, '%s/%s/o' % (account, c), b'v1')
    r = put(cloud, token, '%s/%s/o' % (account, c), b'v2')
    assert r.status_code == 412, r.status_code


# -- TempURL --------------------------------------------------------------


def temp_url(path, key, method='GET', expires=None, digest='sha1', prefix=None):
    """TempURL query parameters for `path`; with `prefix` (the object name
    prefix), a prefix signature over the container path plus the prefix."""
    expires = expires or int(time.time()) + 600
    sig_path = ('prefix:' + path) if prefix is not None else path
    body = '%s\n%d\n%s' % (method, expires, sig_path)
    mac = hmac.new(key.encode(), body.encode(), getattr(hashlib, digest))
    if digest == 'sha512':
        sig = 'sha512:' + base64.urlsafe_b64encode(mac.digest()).decode().rstrip('=')
    else:
        sig = mac.hexdigest()
    q = {'temp_url_sig': sig, 'temp_url_expires': str(expires)}
    if prefix is not None:
        q['temp_url_prefix'] = prefix
    return q


def test_tempurl_container_key_stays_in_its_container(cloud, acct):
    """A container key signs for its container only: an SLO or DLO whose
    segments live in another container must not read them through it (Swift's
    authorize_same_container); an account key reaches the whole account."""
    account, token = acct
    secret = new_container(cloud, token, account)
    public = new_container(cloud, token, account)
    put(cloud, token, '%s/%s/seg' % (account, secret), b'secret bytes')
    put(cloud, token, '%s/%s/local' % (account, public), b'local bytes')
    manifest = json.dumps([{'path': '/%s/seg' % secret}]).encode()
    r = cloud.swift('PUT', '%s/%s/slo' % (account, public), token=token, data=manifest,
                    params={'multipart-manifest': 'put'})
    assert r.status_code == 201, (r.status_code, r.text)
    r = put(cloud, token, '%s/%s/dlo' % (account, public), b'',
            **{'X-Object-Manifest': '%s/seg' % secret})
    assert r.status_code == 201
    ckey = unique('ckey')
    cloud.swift('POST', '%s/%s' % (account, public), token=token,
                headers={'X-Container-Meta-Temp-URL-Key': ckey})
    # The container key reads its own container's plain object...
    path = '%s/%s/local' % (account, public)
    assert cloud.swift('GET', path, params=temp_url(path, ckey)).content == b'local bytes'
    # ...but not another container's bytes through a manifest.
    for name in ('slo', 'dlo'):
        path = '%s/%s/%s' % (account, public, name)
        r = cloud.swift('GET', path, params=temp_url(path, ckey))
        assert b'secret bytes' not in r.content, (name, r.status_code)
        assert r.status_code in (401, 403, 409), (name, r.status_code)
    # An account key covers the account, segments included.
    akey = unique('akey')
    cloud.swift('POST', account, token=token, headers={'X-Account-Meta-Temp-URL-Key': akey})
    path = '%s/%s/slo' % (account, public)
    r = cloud.swift('GET', path, params=temp_url(path, akey))
    assert r.status_code == 200 and r.content == b'secret bytes'


def test_tempurl_raw(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    cpath = '%s/%s' % (account, c)
    put(cloud, token, cpath + '/doc.txt', b'signed content')
    key = unique('key')
    cloud.swift('POST', account, token=token, headers={'X-Account-Meta-Temp-URL-Key-2': key})
    path = cpath + '/doc.txt'
    for digest in ('sha1', 'sha256', 'sha512'):
        r = cloud.swift('GET', path, params=temp_url(path, key, digest=digest))
        assert r.status_code == 200 and r.content == b'signed content', (digest, r.status_code)
        assert 'attachment' in r.headers.get('Content-Disposition', '')
    q = temp_url(path, key)
    q['filename'] = 'report.txt'
    r = cloud.swift('GET', path, params=q)
    assert r.headers['Content-Disposition'] == 'attachment; filename="report.txt"; filename*=UTF-8\'\'report.txt'
    q = temp_url(path, key)
    q['inline'] = ''
    assert cloud.swift('GET', path, params=q).headers['Content-Disposition'] == 'inline'
    # Expired, wrong method, wrong key, no key at all.
    assert cloud.swift('GET', path, params=temp_url(path, key, expires=int(time.time()) - 1)).status_code == 401
    assert cloud.swift('DELETE', path, params=temp_url(path, key)).status_code == 401
    assert cloud.swift('GET', path, params=temp_url(path, 'wrong')).status_code == 401
    # A prefix signature covers objects under the prefix.
    put(cloud, token, cpath + '/dir/a', b'a')
    q = temp_url(cpath + '/dir/', key, prefix='dir/')
    assert cloud.swift('GET', cpath + '/dir/a', params=q).content == b'a'
    assert cloud.swift('GET', cpath + '/doc.txt', params=q).status_code == 401


# -- FormPost -------------------------------------------------------------


def test_formpost(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    key = unique('key')
    cloud.swift('POST', account, token=token, headers={'X-Account-Meta-Temp-URL-Key': key})
    path = '%s/%s/up/' % (account, c)
    redirect = 'http://example.com/done'
    max_size, max_count, expires = 1024, 3, int(time.time()) + 600
    sig = hmac.new(key.encode(), ('%s\n%s\n%d\n%d\n%d' % (
        path, redirect, max_size, max_count, expires)).encode(), hashlib.sha1).hexdigest()
    fields = {'redirect': redirect, 'max_file_size': str(max_size),
              'max_file_count': str(max_count), 'expires': str(expires), 'signature': sig}
    files = [('file1', ('one.txt', b'first file', 'text/plain')),
             ('file2', ('two.bin', b'\x00\x01second', 'application/octet-stream'))]
    r = requests.post(cloud.object_base_url + path, data=fields, files=files,
                      allow_redirects=False, timeout=30)
    assert r.status_code == 303, (r.status_code, r.text)
    assert r.headers['Location'].startswith(redirect + '?status=201')
    assert cloud.swift('GET', '%s/%s/up/one.txt' % (account, c), token=token).content == b'first file'
    assert cloud.swift('GET', '%s/%s/up/two.bin' % (account, c), token=token).content == b'\x00\x01second'
    # A bad signature uploads nothing.
    fields['signature'] = '0' * 40
    r = requests.post(cloud.object_base_url + path, data=fields,
                      files=[('file1', ('three.txt', b'x', 'text/plain'))],
                      allow_redirects=False, timeout=30)
    assert r.status_code == 401 or 'status=401' in r.headers.get('Location', '')
    assert cloud.swift('GET', '%s/%s/up/three.txt' % (account, c), token=token).status_code == 404


# -- bulk -----------------------------------------------------------------


def tar_of(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_bulk_extract_archive_and_bulk_delete(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account)
    entries = {'a.txt': b'A', 'dir/b.txt': b'BB', 'dir/sub/c.txt': b'CCC'}
    r = cloud.swift('PUT', '%s/%s' % (account, c), token=token,
                    params={'extract-archive': 'tar'}, data=tar_of(entries),
                    headers={'Accept': 'application/json'})
    assert r.status_code == 200, (r.status_code, r.text)
    body = r.json()
    assert body['Number Files Created'] == 3, body
    assert body['Errors'] == []
    assert names(cloud, token, '%s/%s' % (account, c)) == sorted(entries)
    assert cloud.swift('GET', '%s/%s/dir/b.txt' % (account, c), token=token).content == b'BB'
    # At account level the first path part names the container.
    c2 = unique('bulk')
    r = cloud.swift('PUT', account, token=token, params={'extract-archive': 'tar'},
                    data=tar_of({c2 + '/x': b'x', c2 + '/y': b'y'}),
                    headers={'Accept': 'application/json'})
    assert r.json()['Number Files Created'] == 2
    # Bulk delete: objects, a missing one, then the emptied container.
    lines = ['/%s/%s' % (c, urllib.parse.quote(n)) for n in entries] + ['/%s/missing' % c,
                                                                         '/%s/x' % c2,
                                                                         '/%s/y' % c2, '/' + c2]
    r = cloud.swift('POST', account, token=token, params={'bulk-delete': ''},
                    data='\n'.join(lines), headers={'Content-Type': 'text/plain',
                                                    'Accept': 'application/json'})
    assert r.status_code == 200, (r.status_code, r.text)
    body = r.json()
    assert body['Number Deleted'] == 6, body
    assert body['Number Not Found'] == 1, body
    assert names(cloud, token, '%s/%s' % (account, c)) == []
    assert cloud.swift('HEAD', '%s/%s' % (account, c2), token=token).status_code == 404


# -- StaticWeb ------------------------------------------------------------


def test_staticweb(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account, **{
        'X-Container-Read': '.r:*,.rlistings',
        'X-Container-Meta-Web-Index': 'index.html',
        'X-Container-Meta-Web-Error': 'error.html',
        'X-Container-Meta-Web-Listings': 'true'})
    cpath = '%s/%s' % (account, c)
    put(cloud, token, cpath + '/index.html', b'<h1>home</h1>', **{'Content-Type': 'text/html'})
    put(cloud, token, cpath + '/404error.html', b'not here', **{'Content-Type': 'text/html'})
    put(cloud, token, cpath + '/docs/page.html', b'page', **{'Content-Type': 'text/html'})
    r = cloud.swift('GET', cpath, allow_redirects=False)
    assert r.status_code == 301 and r.headers['Location'].endswith(cpath + '/')
    r = cloud.swift('GET', cpath + '/')
    assert r.status_code == 200 and r.content == b'<h1>home</h1>'
    r = cloud.swift('GET', cpath + '/docs/')
    assert r.status_code == 200 and 'page.html' in r.text
    r = cloud.swift('GET', cpath + '/nothing.html')
    assert r.status_code == 404 and r.content == b'not here'
    # The owner with a token still gets the plain API.
    r = cloud.swift('GET', cpath, token=token)
    assert r.status_code == 200 and 'index.html' in r.text.splitlines()


# -- CORS -----------------------------------------------------------------


def test_cors(cloud, acct):
    account, token = acct
    c = new_container(cloud, token, account, **{
        'X-Container-Read': '.r:*',
        'X-Container-Meta-Access-Control-Allow-Origin': 'http://good.example',
        'X-Container-Meta-Access-Control-Max-Age': '60',
        'X-Container-Meta-Access-Control-Expose-Headers': 'X-Object-Meta-Color'})
    cpath = '%s/%s' % (account, c)
    put(cloud, token, cpath + '/o', b'cors', **{'X-Object-Meta-Color': 'red'})
    r = cloud.swift('OPTIONS', cpath + '/o', headers={
        'Origin': 'http://good.example', 'Access-Control-Request-Method': 'GET'})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers['Access-Control-Allow-Origin'] == 'http://good.example'
    assert 'GET' in r.headers['Access-Control-Allow-Methods']
    assert r.headers['Access-Control-Max-Age'] == '60'
    r = cloud.swift('OPTIONS', cpath + '/o', headers={
        'Origin': 'http://evil.example', 'Access-Control-Request-Method': 'GET'})
    assert r.status_code == 401
    r = cloud.swift('GET', cpath + '/o', headers={'Origin': 'http://good.example'})
    assert r.status_code == 200
    assert r.headers['Access-Control-Allow-Origin'] == 'http://good.example'
    assert 'x-object-meta-color' in r.headers['Access-Control-Expose-Headers'].lower()
    r = cloud.swift('GET', cpath + '/o', headers={'Origin': 'http://evil.example'})
    assert 'Access-Control-Allow-Origin' not in r.headers
