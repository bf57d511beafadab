"""Faults injected into a running server: every failure is a clean answer.

The server runs with `[debug] fault_file` naming a plan file (see
docs/operations.md and src/fault/fault_plan.h): its metadata store and blob
store fail at named points ("blob.write", "store.put_object", ...) with the
errors the real backends return for a full disk (ENOSPC, SQLITE_FULL), an
I/O error (EIO, SQLITE_IOERR), a locked database (SQLITE_BUSY), a short
write or a failed fsync. The file is re-read when it changes, so each case
writes its rule, sends its request, and clears the plan.

For each point x error that matters, on small objects (kept as database
rows, < 64 KiB) and large ones (files), the test checks that:
  * the answer is Swift's: 507, 500 or 503 with swob's generic body (no
    path, no system error), a transaction id;
  * the fault fired exactly once (the server logs each one);
  * nothing half-done is visible: HEAD, GET and the listing show the
    previous state, the container's counters are unchanged, every blob is
    referenced by a row and every row's blob exists, no temp file is left;
  * the very next identical request succeeds.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time

import pytest

import reliability
from conftest import launch, shut_down, unique

KIB = 1024
MIB = 1024 * KIB

# swob's bodies for the server-side statuses (swift/common/swob.py RESPONSE_REASONS).
BODIES = {
    500: '<html><h1>Internal Error</h1><p>The server has either erred or is incapable of '
         'performing the requested operation.</p></html>',
    503: '<html><h1>Service Unavailable</h1><p>The server is currently unavailable. Please '
         'try again at a later time.</p></html>',
    507: '<html><h1>Insufficient Storage</h1><p>There was not enough space to save the '
         'resource.</p></html>',
}

# Below the inline bound (a row in the object database), above it (a file),
# and a body that arrives in several 1 MiB pieces (faults mid-upload).
SIZES = {'small': 4 * KIB, 'large': 200 * KIB, 'streamed': 3 * MIB + 17}


def md5(data):
    return hashlib.md5(data).hexdigest()


class Faults:
    """The plan file of one server, and what its log says fired."""

    def __init__(self, cloud, path):
        self.cloud = cloud
        self.path = path
        self.injected = []  # every rule armed, for the record
        self._log_mark = 0

    def _write(self, text):
        # Written beside and renamed: the server never reads half a plan.
        # The server notices a change by the file's mtime, size and inode;
        # a pause past the filesystem's timestamp tick makes the mtime differ
        # from the previous plan's even if the inode is reused.
        time.sleep(0.02)
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.replace(tmp, self.path)

    def arm(self, *rules):
        self._log_mark = os.path.getsize(self.cloud.log_path)
        self._write(''.join(r + '\n' for r in rules))
        self.injected.extend(rules)

    def clear(self):
        self._write('# no faults\n')

    def log(self):
        """The server's log since the last arm()."""
        with open(self.cloud.log_path, 'rb') as f:
            f.seek(self._log_mark)
            return f.read().decode('utf-8', 'replace')

    def fired(self, point):
        """Faults fired at `point` since the last arm()."""
        return self.log().count('fault injected at %s:' % point)


@pytest.fixture(scope='module')
def faulty():
    plan_dir = tempfile.mkdtemp(prefix='onestack-faults-')
    plan = os.path.join(plan_dir, 'faults')
    cloud = launch('[debug]\nfault_file = %s\n' % plan)
    cloud.faults = Faults(cloud, plan)
    cloud.tried = 0
    try:
        yield cloud
    finally:
        try:
            shut_down(cloud)
        finally:
            shutil.rmtree(plan_dir, ignore_errors=True)


def req(cloud, method, path, **kw):
    cloud.tried += 1
    return cloud.swift(method, path, token=cloud.admin_token(), **kw)


def check_error(cloud, r, status, label, method='PUT'):
    assert r.status_code == status, (label, r.status_code, r.text)
    assert r.headers.get('X-Trans-Id', '').startswith('tx'), label
    if method != 'HEAD':
        assert r.text == BODIES[status], (label, r.text)
        assert r.headers['Content-Type'].startswith('text/html'), label
    assert cloud.root not in r.text and 'injected' not in r.text, label


def blob_state(cloud):
    """(blobs the rows refer to, blobs that exist, temp files left)."""
    db = sqlite3.connect('file:%s?mode=ro' % os.path.join(cloud.data_dir, 'objects.db'),
                         uri=True, timeout=10)
    try:
        referenced = {row[0] for row in db.execute(
            "SELECT blob_id FROM objects WHERE blob_id != ''")}
        present = {row[0] for row in db.execute('SELECT id FROM small_blobs')}
    finally:
        db.close()
    root = os.path.join(cloud.data_dir, 'objects')
    for fan in os.listdir(os.path.join(root, 'objects')):
        present.update(os.listdir(os.path.join(root, 'objects', fan)))
    return referenced, present, os.listdir(os.path.join(root, 'tmp'))


def check_blobs(cloud, label, orphans=0):
    referenced, present, tmp = blob_state(cloud)
    assert tmp == [], (label, 'temp files left', tmp)
    assert referenced <= present, (label, 'rows without blobs', referenced - present)
    assert len(present - referenced) == orphans, (label, 'unreferenced blobs',
                                                  present - referenced)


def container_state(cloud, cpath):
    """What a client can see of a container: its listing and counters."""
    h = req(cloud, 'HEAD', cpath)
    assert h.status_code == 204, h.status_code
    r = req(cloud, 'GET', cpath + '?format=json')
    assert r.status_code == 200, r.status_code
    listing = sorted((o['name'], o['hash'], o['bytes'], o['content_type']) for o in r.json())
    meta = {k.lower(): v for k, v in h.headers.items()
            if k.lower().startswith('x-container-meta-')}
    return (listing, h.headers['X-Container-Object-Count'],
            h.headers['X-Container-Bytes-Used'], meta)


def new_container(cloud):
    cpath = '%s/%s' % (cloud.account_path(), unique('faults'))
    assert req(cloud, 'PUT', cpath).status_code == 201
    return cpath


def check_object(cloud, path, data, label):
    """The object reads back as `data` (None: it does not exist)."""
    h = req(cloud, 'HEAD', path)
    g = req(cloud, 'GET', path)
    if data is None:
        assert h.status_code == 404 and g.status_code == 404, (label, h.status_code,
                                                               g.status_code)
        return
    assert h.status_code == 200, (label, h.status_code)
    assert h.headers['Etag'] == md5(data), label
    assert g.status_code == 200, (label, g.status_code)
    assert md5(g.content) == md5(data), (label, len(g.content), len(data))


PUT_CASES = [
    ('blob.create ENOSPC', 507),
    ('blob.write ENOSPC', 507),
    ('blob.write EDQUOT', 507),
    ('blob.write EIO', 500),
    ('blob.write EIO short=1000', 500),  # part of the data reached the disk
    ('blob.write ENOSPC short', 507),
    ('blob.commit EIO', 500),            # the fsync before the rename failed
    ('blob.commit ENOSPC', 507),
    ('store.put_object SQLITE_FULL', 507),
    ('store.put_object SQLITE_IOERR', 500),
    ('store.put_object SQLITE_BUSY', 503),
]


@pytest.mark.parametrize('size', sorted(SIZES))
def test_failed_put_is_clean_and_the_next_put_lands(faulty, size):
    """An overwrite and a new object's PUT fail at each point; the old bytes
    stay, the new name stays absent, then the same PUTs succeed."""
    cloud = faulty
    cloud.tried = 0
    cpath = new_container(cloud)
    n = SIZES[size]
    old_path, new_path = cpath + '/old', cpath + '/new'
    old = os.urandom(n)
    assert req(cloud, 'PUT', old_path, data=old).status_code == 201
    fired = 0
    for i, (rule, status) in enumerate(PUT_CASES):
        label = '%s %s' % (size, rule)
        point = rule.split()[0]
        if size == 'streamed' and point == 'blob.write':
            rule += ' after=1'  # the second 1 MiB piece of the body
        before = container_state(cloud, cpath)
        data = os.urandom(n)
        for path, now in ((old_path, old), (new_path, None)):
            cloud.faults.arm(rule)
            r = req(cloud, 'PUT', path, data=data)
            check_error(cloud, r, status, label)
            assert cloud.faults.fired(point) == 1, label
            fired += 1
            cloud.faults.clear()
            assert container_state(cloud, cpath) == before, label
            check_object(cloud, path, now, label)
            check_blobs(cloud, label)
        # The very next identical requests land.
        for path in (old_path, new_path):
            r = req(cloud, 'PUT', path, data=data)
            assert r.status_code == 201, (label, r.status_code, r.text)
            assert r.headers['Etag'] == md5(data), label
            check_object(cloud, path, data, label)
        old = data
        assert req(cloud, 'DELETE', new_path).status_code == 204
        check_blobs(cloud, label)
    after = container_state(cloud, cpath)
    assert after[1] == '1' and after[2] == str(n), after
    lost = 0 if md5(req(cloud, 'GET', old_path).content) == md5(old) else 1
    assert lost == 0
    reliability.record(
        'test_faults.py::test_failed_put_is_clean_and_the_next_put_lands[%s]' % size,
        load='PUT of %d-byte objects (%s), an overwrite and a new name per fault' % (n, size),
        faults='; '.join(r for r, _ in PUT_CASES) + ' (each once, on the overwrite and on '
               'the new name)',
        bad_inputs='none',
        result='%d faults, each answered 507/500/503 with Swift\'s generic body; old bytes, '
               'listing and counters unchanged, no orphan blob or temp file; the next '
               'identical PUT 201' % fired,
        lost=lost, figures={'faults': fired, 'requests': cloud.tried})


GET_CASES = [
    ('blob.open EIO', 500),
    ('store.get_object SQLITE_IOERR', 500),
    ('store.get_object SQLITE_BUSY', 503),
    ('blob.read EIO', 500),
]


@pytest.mark.parametrize('size', sorted(SIZES))
def test_failed_read_is_an_error_never_wrong_bytes(faulty, size):
    """A GET whose row or blob cannot be read answers Swift's 500/503; the
    next GET returns the whole object. Objects up to 1 MiB are read (and
    MD5-checked) before the answer starts, so their read failures are clean
    statuses too; a larger one is sent as it is read, and a read failure
    after its headers cuts the body short of its Content-Length, as Swift's
    does: never a complete 200 with the wrong bytes."""
    cloud = faulty
    cloud.tried = 0
    cpath = new_container(cloud)
    n = SIZES[size]
    fired = 0
    cut = 0
    for rule, status in GET_CASES:
        label = '%s %s' % (size, rule)
        point = rule.split()[0]
        path = '%s/%s' % (cpath, unique('o'))
        data = os.urandom(n)
        # A fresh PUT: the object's row and bytes are not in the read cache.
        assert req(cloud, 'PUT', path, data=data).status_code == 201
        before = container_state(cloud, cpath)
        cloud.faults.arm(rule)
        cloud.tried += 1
        r = cloud.swift('GET', path, token=cloud.admin_token(), stream=True)
        body = b''
        broken = False
        try:
            for piece in r.iter_content(64 * KIB):
                body += piece
        except Exception:  # the connection was cut mid-body
            broken = True
        r.close()
        assert cloud.faults.fired(point) == 1, label
        fired += 1
        cloud.faults.clear()
        if size == 'streamed' and point == 'blob.read':
            # The headers are out when the read fails: the body must end
            # short of its Content-Length, so no client takes it as whole.
            assert r.status_code == 200, (label, r.status_code)
            assert broken or len(body) < int(r.headers['Content-Length']), label
            assert md5(body) != md5(data), label
            cut += 1
        else:
            r._content = body
            check_error(cloud, r, status, label, 'GET')
        assert container_state(cloud, cpath) == before, label
        check_object(cloud, path, data, label)
    check_blobs(cloud, 'get')
    reliability.record(
        'test_faults.py::test_failed_read_is_an_error_never_wrong_bytes[%s]' % size,
        load='GET of freshly written %d-byte objects (%s)' % (n, size),
        faults='; '.join(r for r, _ in GET_CASES),
        bad_inputs='none',
        result='%d faults: %d answered 500/503 with Swift\'s body, %d cut the body short '
               '(headers already sent); the next GET returned the whole object'
               % (fired, fired - cut, cut),
        lost=0, figures={'faults': fired, 'requests': cloud.tried})


@pytest.mark.parametrize('size', ['small', 'large'])
def test_failed_delete_post_and_copy_change_nothing(faulty, size):
    """DELETE, POST and COPY whose row write fails leave the object, its
    metadata and the destination as they were; the retry succeeds."""
    cloud = faulty
    cloud.tried = 0
    cpath = new_container(cloud)
    n = SIZES[size]
    path = cpath + '/obj'
    data = os.urandom(n)
    assert req(cloud, 'PUT', path, data=data,
               headers={'X-Object-Meta-Color': 'blue'}).status_code == 201
    fired = 0
    injected = []

    def fail(rule, status, method, target, absent=(), **kw):
        nonlocal fired
        label = '%s %s %s' % (size, method, rule)
        before = container_state(cloud, cpath)
        cloud.faults.arm(rule)
        injected.append('%s on %s' % (rule, method))
        r = req(cloud, method, target, **kw)
        check_error(cloud, r, status, label, method)
        assert cloud.faults.fired(rule.split()[0]) == 1, label
        fired += 1
        cloud.faults.clear()
        assert container_state(cloud, cpath) == before, label
        check_object(cloud, path, data, label)
        assert req(cloud, 'HEAD', path).headers.get('X-Object-Meta-Color') == 'blue', label
        for other in absent:
            check_object(cloud, other, None, label)
        check_blobs(cloud, label)
        return req(cloud, method, target, **kw)

    # POST: the metadata stays until the retry.
    for rule, status in (('store.update_object SQLITE_IOERR', 500),
                         ('store.update_object SQLITE_FULL', 507),
                         ('store.update_object SQLITE_BUSY', 503)):
        r = fail(rule, status, 'POST', path, headers={'X-Object-Meta-Color': 'red'})
        assert r.status_code == 202, (rule, r.status_code)
        assert req(cloud, 'HEAD', path).headers.get('X-Object-Meta-Color') == 'red'
        assert req(cloud, 'POST', path,
                   headers={'X-Object-Meta-Color': 'blue'}).status_code == 202

    # COPY to a new name: the destination stays absent until the retry.
    copy_path = cpath + '/copy'
    for rule, status in (('store.put_object SQLITE_FULL', 507),
                         ('store.put_object SQLITE_IOERR', 500),
                         ('store.get_object SQLITE_IOERR', 500)):
        r = fail(rule, status, 'COPY', path, absent=[copy_path],
                 headers={'Destination': cpath.split('/', 3)[3] + '/copy'})
        assert r.status_code == 201, (rule, r.status_code, r.text)
        check_object(cloud, copy_path, data, rule)
        assert req(cloud, 'DELETE', copy_path).status_code == 204
        check_blobs(cloud, rule)

    # DELETE: the object stays until the retry.
    for rule, status in (('store.delete_object SQLITE_IOERR', 500),
                         ('store.delete_object SQLITE_BUSY', 503),
                         ('store.delete_object SQLITE_FULL', 507)):
        r = fail(rule, status, 'DELETE', path)
        assert r.status_code == 204, (rule, r.status_code)
        check_object(cloud, path, None, rule)
        check_blobs(cloud, rule)
        assert req(cloud, 'PUT', path, data=data,
                   headers={'X-Object-Meta-Color': 'blue'}).status_code == 201
    lost = 0 if md5(req(cloud, 'GET', path).content) == md5(data) else 1
    assert lost == 0
    reliability.record(
        'test_faults.py::test_failed_delete_post_and_copy_change_nothing[%s]' % size,
        load='POST, COPY and DELETE of a %d-byte object (%s)' % (n, size),
        faults='; '.join(injected), bad_inputs='none',
        result='%d faults, each answered 507/500/503 with Swift\'s body; object, metadata, '
               'destination, listing and counters unchanged; each retry succeeded' % fired,
        lost=lost, figures={'faults': fired, 'requests': cloud.tried})


def test_a_blob_that_cannot_be_removed_does_not_fail_the_delete(faulty):
    """The row goes first: a DELETE whose blob cannot be removed afterwards
    still answers 204 and the object is gone; the blob is left unreferenced
    (the auditor sweeps it) and nothing else."""
    cloud = faulty
    cloud.tried = 0
    cpath = new_container(cloud)
    path = cpath + '/obj'
    assert req(cloud, 'PUT', path, data=os.urandom(SIZES['large'])).status_code == 201
    check_blobs(cloud, 'before')
    _, present_before, _ = blob_state(cloud)
    cloud.faults.arm('blob.remove EIO')
    r = req(cloud, 'DELETE', path)
    assert r.status_code == 204, (r.status_code, r.text)
    assert cloud.faults.fired('blob.remove') == 1
    cloud.faults.clear()
    check_object(cloud, path, None, 'blob.remove')
    listing, count, used, _ = container_state(cloud, cpath)
    assert (listing, count, used) == ([], '0', '0')
    check_blobs(cloud, 'blob.remove', orphans=1)
    referenced, present, _ = blob_state(cloud)
    assert present == present_before  # the one left is the deleted object's
    # Sweep it the way the auditor would, so later checks see none.
    for blob_id in present - referenced:
        os.remove(os.path.join(cloud.data_dir, 'objects', 'objects', blob_id[:2], blob_id))
    reliability.record(
        'test_faults.py::test_a_blob_that_cannot_be_removed_does_not_fail_the_delete',
        load='DELETE of a 200 KiB object', faults='blob.remove EIO', bad_inputs='none',
        result='204, object gone from HEAD/GET/listing/counters; exactly one unreferenced '
               'blob left for the auditor', lost=0,
        figures={'faults': 1, 'requests': cloud.tried})


def test_failed_container_writes_change_nothing(faulty):
    """Container PUT, POST and DELETE whose row write fails: the account
    listing and the container are as before; the retry succeeds."""
    cloud = faulty
    cloud.tried = 0
    account = cloud.account_path()
    fired = 0
    injected = []

    def containers():
        r = req(cloud, 'GET', account + '?format=json')
        assert r.status_code == 200
        return sorted(c['name'] for c in r.json())

    name = unique('cfault')
    cpath = '%s/%s' % (account, name)
    for rule, status in (('store.create_container SQLITE_FULL', 507),
                         ('store.create_container SQLITE_IOERR', 500),
                         ('store.create_container SQLITE_BUSY', 503)):
        before = containers()
        cloud.faults.arm(rule)
        injected.append(rule + ' on PUT')
        r = req(cloud, 'PUT', cpath)
        check_error(cloud, r, status, rule)
        assert cloud.faults.fired('store.create_container') == 1, rule
        fired += 1
        cloud.faults.clear()
        assert containers() == before, rule
        assert req(cloud, 'HEAD', cpath).status_code == 404, rule
        r = req(cloud, 'PUT', cpath)
        assert r.status_code == 201, (rule, r.status_code)
        assert req(cloud, 'DELETE', cpath).status_code == 204

    assert req(cloud, 'PUT', cpath, headers={'X-Container-Meta-Color': 'blue'}).status_code == 201
    assert req(cloud, 'PUT', cpath + '/o', data=b'x' * 10).status_code == 201
    for rule, status, method, headers in (
            ('store.update_container_meta SQLITE_IOERR', 500, 'POST',
             {'X-Container-Meta-Color': 'red'}),
            ('store.update_container_meta SQLITE_FULL', 507, 'POST',
             {'X-Container-Meta-Color': 'red'}),
            ('store.delete_container SQLITE_IOERR', 500, 'DELETE', {}),
            ('store.delete_container SQLITE_BUSY', 503, 'DELETE', {})):
        if method == 'DELETE':
            assert req(cloud, 'DELETE', cpath + '/o').status_code in (204, 404)
        before = container_state(cloud, cpath)
        names = containers()
        cloud.faults.arm(rule)
        injected.append('%s on %s' % (rule, method))
        r = req(cloud, method, cpath, headers=headers)
        check_error(cloud, r, status, rule, method)
        assert cloud.faults.fired(rule.split()[0]) == 1, rule
        fired += 1
        cloud.faults.clear()
        assert container_state(cloud, cpath) == before, rule
        assert containers() == names, rule
        r = req(cloud, method, cpath, headers=headers)
        assert r.status_code in (202, 204), (rule, r.status_code)
        if method == 'POST':
            assert req(cloud, 'HEAD', cpath).headers['X-Container-Meta-Color'] == 'red'
            assert req(cloud, 'POST', cpath,
                       headers={'X-Container-Meta-Color': 'blue'}).status_code == 204
        else:
            assert req(cloud, 'HEAD', cpath).status_code == 404
            assert req(cloud, 'PUT', cpath).status_code == 201
    check_blobs(cloud, 'containers')
    reliability.record(
        'test_faults.py::test_failed_container_writes_change_nothing',
        load='container PUT, POST and DELETE', faults='; '.join(injected),
        bad_inputs='none',
        result='%d faults, each answered 507/500/503 with Swift\'s body; account listing, '
               'container metadata and counters unchanged; each retry succeeded' % fired,
        lost=0, figures={'faults': fired, 'requests': cloud.tried})


def test_failed_slo_manifest_put_leaves_no_manifest(faulty):
    """An SLO manifest PUT whose segment check cannot read a segment's row
    is refused as Swift's slo refuses a segment whose HEAD failed (400 with
    the segment's 500 in the error list); one whose manifest cannot be
    stored is 507/500. No manifest is left either way; the retry lands."""
    cloud = faulty
    cloud.tried = 0
    cpath = new_container(cloud)
    cname = cpath.split('/', 3)[3]
    segs = [os.urandom(SIZES['large']), os.urandom(SIZES['small'])]
    manifest = []
    for i, seg in enumerate(segs):
        assert req(cloud, 'PUT', '%s/seg%d' % (cpath, i), data=seg).status_code == 201
        manifest.append({'path': '/%s/seg%d' % (cname, i), 'etag': md5(seg),
                         'size_bytes': len(seg)})
    body = json.dumps(manifest).encode()
    mpath = cpath + '/manifest?multipart-manifest=put'
    whole = b''.join(segs)
    fired = 0
    injected = []
    for rule, status in (('store.get_object SQLITE_IOERR after=1', 400),
                         ('store.put_object SQLITE_FULL', 507),
                         ('store.put_object SQLITE_IOERR', 500),
                         ('blob.write ENOSPC', 507),
                         ('blob.commit EIO', 500)):
        before = container_state(cloud, cpath)
        cloud.faults.arm(rule)
        injected.append(rule)
        r = req(cloud, 'PUT', mpath, data=body)
        point = rule.split()[0]
        assert cloud.faults.fired(point) == 1, (rule, r.status_code, r.text)
        fired += 1
        cloud.faults.clear()
        if status == 400:
            assert r.status_code == 400, (rule, r.status_code, r.text)
            assert '500 Internal Error' in r.text and '/seg0' in r.text, r.text
            assert cloud.root not in r.text and 'injected' not in r.text
        else:
            check_error(cloud, r, status, rule)
        assert container_state(cloud, cpath) == before, rule
        check_object(cloud, cpath + '/manifest', None, rule)
        check_blobs(cloud, rule)
        r = req(cloud, 'PUT', mpath, data=body)
        assert r.status_code == 201, (rule, r.status_code, r.text)
        g = req(cloud, 'GET', cpath + '/manifest')
        assert g.status_code == 200 and md5(g.content) == md5(whole), rule
        assert req(cloud, 'DELETE', cpath + '/manifest').status_code == 204
    check_blobs(cloud, 'slo')
    # A COPY of the manifest writes the concatenated segments as a new
    # blob: a failure reading a segment, writing or storing the copy leaves
    # no destination and no orphan.
    assert req(cloud, 'PUT', mpath, data=body).status_code == 201
    dest = cpath + '/joined'
    for rule, status in (('blob.open EIO', 500), ('blob.write ENOSPC', 507),
                         ('blob.commit EIO', 500), ('store.put_object SQLITE_FULL', 507)):
        label = 'COPY of the manifest, ' + rule
        before = container_state(cloud, cpath)
        cloud.faults.arm(rule)
        injected.append(rule + ' on COPY of the manifest')
        r = req(cloud, 'COPY', cpath + '/manifest', headers={'Destination': cname + '/joined'})
        check_error(cloud, r, status, label, 'COPY')
        assert cloud.faults.fired(rule.split()[0]) == 1, label
        fired += 1
        cloud.faults.clear()
        assert container_state(cloud, cpath) == before, label
        check_object(cloud, dest, None, label)
        check_blobs(cloud, label)
        r = req(cloud, 'COPY', cpath + '/manifest', headers={'Destination': cname + '/joined'})
        assert r.status_code == 201, (label, r.status_code, r.text)
        check_object(cloud, dest, whole, label)
        assert req(cloud, 'DELETE', dest).status_code == 204
        check_blobs(cloud, label)
    reliability.record(
        'test_faults.py::test_failed_slo_manifest_put_leaves_no_manifest',
        load='SLO manifest PUT over a 200 KiB and a 4 KiB segment, and COPY of the manifest',
        faults='; '.join(injected), bad_inputs='none',
        result='%d faults: the segment check\'s read failure is slo\'s 400 naming the '
               'segment\'s 500, storage failures 507/500 with Swift\'s body; no manifest '
               'visible, segments and counters unchanged; each retry 201 and the GET whole'
               % fired,
        lost=0, figures={'faults': fired, 'requests': cloud.tried})


KEYSTONE_UNEXPECTED = 'An unexpected error prevented the server from fulfilling your request.'


def test_failed_identity_writes_change_nothing(faulty):
    """Keystone writes whose store transaction fails: the answer is
    Keystone's error document with UnexpectedError's text (no database or
    system detail), nothing is created or granted, and the retry lands."""
    cloud = faulty
    cloud.tried = 0
    fired = 0
    injected = []

    def check(r, status, rule):
        assert r.status_code == status, (rule, r.status_code, r.text)
        err = r.json()['error']
        assert err['code'] == status, (rule, err)
        assert err['message'] == KEYSTONE_UNEXPECTED, (rule, err)
        assert 'injected' not in r.text and cloud.root not in r.text, rule

    for rule, status in (('identity.create SQLITE_FULL', 507),
                         ('identity.create SQLITE_IOERR', 500),
                         ('identity.create SQLITE_BUSY', 503)):
        name = unique('fproj')
        cloud.faults.arm(rule)
        injected.append(rule + ' on POST /v3/projects')
        cloud.tried += 1
        r = cloud.request('POST', '/v3/projects', admin=True,
                          json={'project': {'name': name, 'domain_id': 'default'}})
        check(r, status, rule)
        assert cloud.faults.fired('identity.create') == 1, rule
        fired += 1
        cloud.faults.clear()
        cloud.tried += 1
        listed = cloud.request('GET', '/v3/projects?name=' + name, admin=True)
        assert listed.status_code == 200 and listed.json()['projects'] == [], (rule, listed.text)
        cloud.tried += 1
        r = cloud.request('POST', '/v3/projects', admin=True,
                          json={'project': {'name': name, 'domain_id': 'default'}})
        assert r.status_code == 201, (rule, r.status_code, r.text)

    project = cloud.new_project()
    user = cloud.new_user()
    role = cloud.role_id('member')
    grant = '/v3/projects/%s/users/%s/roles/%s' % (project['id'], user['id'], role)
    for rule, status in (('identity.add_assignment SQLITE_FULL', 507),
                         ('identity.add_assignment SQLITE_IOERR', 500)):
        cloud.faults.arm(rule)
        injected.append(rule + ' on PUT role grant')
        cloud.tried += 1
        r = cloud.request('PUT', grant, admin=True)
        check(r, status, rule)
        assert cloud.faults.fired('identity.add_assignment') == 1, rule
        fired += 1
        cloud.faults.clear()
        cloud.tried += 1
        assert cloud.request('HEAD', grant, admin=True).status_code == 404, rule
        cloud.tried += 1
        assert cloud.request('PUT', grant, admin=True).status_code == 204, rule
        cloud.tried += 1
        assert cloud.request('HEAD', grant, admin=True).status_code == 204, rule
        cloud.tried += 1
        assert cloud.request('DELETE', grant, admin=True).status_code == 204, rule
    reliability.record(
        'test_faults.py::test_failed_identity_writes_change_nothing',
        load='Keystone project creation and role grants', faults='; '.join(injected),
        bad_inputs='none',
        result='%d faults, each answered 507/500/503 with Keystone\'s error document and '
               'UnexpectedError\'s text; nothing created or granted; each retry succeeded'
               % fired,
        lost=0, figures={'faults': fired, 'requests': cloud.tried})


def chunks(data, size=64 * KIB):
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.parametrize('size', ['small', 'large'])
def test_failed_chunked_and_versioned_puts_are_clean(faulty, size):
    """The two other upload paths: a chunked body (no Content-Length: its
    size and tier are known only at its end) and an overwrite in a container
    with X-Versions-Location (the blob is committed first, then the current
    version is archived, then the row is written). A failure anywhere leaves
    the current object, the archive and the counters as they were, and no
    orphan blob; the retry lands."""
    cloud = faulty
    cloud.tried = 0
    n = SIZES[size]
    fired = 0
    injected = []
    cpath = new_container(cloud)
    archive = new_container(cloud)
    vpath = new_container(cloud)
    assert req(cloud, 'POST', vpath,
               headers={'X-Versions-Location': archive.split('/', 3)[3]}).status_code == 204
    for target, chunked in ((cpath + '/obj', True), (vpath + '/obj', False)):
        container = target.rsplit('/', 1)[0]
        old = os.urandom(n)
        assert req(cloud, 'PUT', target, data=old).status_code == 201
        # Versioned: the first row written is the archived copy of the
        # current version; when it fails Swift's versioned_writes answers
        # 503 whatever the archive PUT's error (legacy.py
        # _check_response_error).
        archive_status = 507 if chunked else 503
        for rule, status in (('blob.create ENOSPC', 507), ('blob.write EIO short', 500),
                             ('blob.commit EIO', 500),
                             ('store.put_object SQLITE_FULL', archive_status),
                             ('store.put_object SQLITE_BUSY', 503)):
            label = '%s %s %s' % (size, 'chunked' if chunked else 'versioned', rule)
            data = os.urandom(n)
            before = (container_state(cloud, container), container_state(cloud, archive))
            cloud.faults.arm(rule)
            injected.append('%s (%s)' % (rule, 'chunked' if chunked else 'versioned'))
            r = req(cloud, 'PUT', target, data=chunks(data) if chunked else data)
            check_error(cloud, r, status, label)
            assert cloud.faults.fired(rule.split()[0]) == 1, label
            if not chunked and rule.startswith('store.put_object'):
                # The client sees the generic 503; the log keeps the cause.
                assert 'versioning failed: store.put_object (injected fault)' in \
                    cloud.faults.log(), label
            fired += 1
            cloud.faults.clear()
            assert (container_state(cloud, container),
                    container_state(cloud, archive)) == before, label
            check_object(cloud, target, old, label)
            check_blobs(cloud, label)
            r = req(cloud, 'PUT', target, data=chunks(data) if chunked else data)
            assert r.status_code == 201, (label, r.status_code, r.text)
            check_object(cloud, target, data, label)
            check_blobs(cloud, label)
            old = data
        if not chunked:
            # The archive copy lands, then the new row fails: as in Swift
            # (the copy is its own request there), the archive keeps a copy
            # of the current version; the object itself is unchanged.
            label = '%s versioned archive then row' % size
            data = os.urandom(n)
            before = container_state(cloud, container)
            archived = container_state(cloud, archive)[0]
            cloud.faults.arm('store.put_object SQLITE_FULL after=1')
            injected.append('store.put_object SQLITE_FULL after=1 (versioned)')
            r = req(cloud, 'PUT', target, data=data)
            check_error(cloud, r, 507, label)
            assert cloud.faults.fired('store.put_object') == 1, label
            fired += 1
            cloud.faults.clear()
            assert container_state(cloud, container) == before, label
            check_object(cloud, target, old, label)
            now_archived = container_state(cloud, archive)[0]
            added = [e for e in now_archived if e not in archived]
            assert len(now_archived) == len(archived) + 1 and len(added) == 1, label
            assert added[0][1] == md5(old), label
            check_blobs(cloud, label)
            assert req(cloud, 'PUT', target, data=data).status_code == 201, label
            check_object(cloud, target, data, label)
            check_blobs(cloud, label)
    reliability.record(
        'test_faults.py::test_failed_chunked_and_versioned_puts_are_clean[%s]' % size,
        load='chunked PUTs and overwrites under X-Versions-Location of %d-byte objects' % n,
        faults='; '.join(injected), bad_inputs='none',
        result='%d faults, each answered 507/500/503 with Swift\'s body; current object, '
               'archive container and counters unchanged, no orphan blob or temp file; each '
               'retry 201' % fired,
        lost=0, figures={'faults': fired, 'requests': cloud.tried})
