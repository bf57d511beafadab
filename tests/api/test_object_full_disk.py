"""A real full disk under the object store.

The object database and blob directory live on a 24 MiB tmpfs the test
mounts (root only, as the test command runs), beside a ballast file. Uploads
of 1 MiB objects (files) and 4 KiB ones (rows in the database) go on until
the filesystem is full, then 64 KiB ones (rows) until the database cannot
grow either. Then:
  * a write that does not fit answers 507 in Swift's format, and nothing it
    wrote is visible: the listing holds exactly the acknowledged objects,
    each reads back with its MD5, the container's counts match, no temp
    file is left;
  * deleting the ballast frees space and uploads of both kinds succeed
    again; after a restart every acknowledged object is still whole.
"""

import hashlib
import os
import subprocess
import tempfile

import pytest

import reliability
from conftest import unique

MIB = 1024 * 1024


def md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def small_fs():
    if os.geteuid() != 0:
        pytest.fail('the full-disk test mounts a tmpfs: run the test command as root',
                    pytrace=False)
    mnt = tempfile.mkdtemp(prefix='onestack-fulldisk-')
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', mnt],
                   check=True)
    try:
        yield mnt
    finally:
        subprocess.run(['umount', '-l', mnt], check=False)
        os.rmdir(mnt)


def test_full_disk_is_507_leaves_nothing_half_written_and_recovers(new_cloud, small_fs):
    ballast = os.path.join(small_fs, 'ballast')
    with open(ballast, 'wb') as f:
        f.write(b'\0' * (6 * MIB))
    cloud = new_cloud('[object]\nblob_dir = %s/blobs\ndatabase = %s/objects.db\n'
                      % (small_fs, small_fs))
    token = cloud.admin_token()
    container = unique('full')
    cpath = '%s/%s' % (cloud.account_path(), container)
    assert cloud.swift('PUT', cpath, token=token).status_code == 201

    acked = {}
    refused = None
    for i in range(200):
        for name, data in (('big-%03d' % i, os.urandom(MIB)),
                           ('small-%03d' % i, os.urandom(4096))):
            r = cloud.swift('PUT', '%s/%s' % (cpath, name), token=token, data=data)
            if r.status_code == 201:
                assert r.headers['Etag'] == md5(data)
                acked[name] = md5(data)
            else:
                refused = r
                break
        if refused is not None:
            break
    assert refused is not None, 'the 24 MiB filesystem never filled'
    assert refused.status_code == 507, (refused.status_code, refused.text)
    assert 'Insufficient Storage' in refused.text
    assert small_fs not in refused.text  # no path or system error for the client
    assert refused.headers.get('X-Trans-Id')
    assert len(acked) >= 4
    # What space is left goes to objects kept as database rows (64 KiB, the
    # largest kept that way) until the database cannot grow either.
    refused = None
    for i in range(400):
        name, data = 'row-%03d' % i, os.urandom(64 * 1024)
        r = cloud.swift('PUT', '%s/%s' % (cpath, name), token=token, data=data)
        if r.status_code != 201:
            refused = r
            break
        acked[name] = md5(data)
    assert refused is not None and refused.status_code == 507, refused
    assert small_fs not in refused.text

    def check_state(label):
        r = cloud.swift('GET', cpath + '?format=json', token=token)
        assert r.status_code == 200, (label, r.status_code, r.text)
        rows = {o['name']: o for o in r.json()}
        assert set(rows) == set(acked), (label, sorted(set(rows) ^ set(acked))[:10])
        for name, want in acked.items():
            g = cloud.swift('GET', '%s/%s' % (cpath, name), token=token)
            assert g.status_code == 200, (label, name, g.status_code)
            assert md5(g.content) == want, (label, name)
            assert rows[name]['hash'] == want and rows[name]['bytes'] == len(g.content)
        h = cloud.swift('HEAD', cpath, token=token)
        assert int(h.headers['X-Container-Object-Count']) == len(acked), label
        assert int(h.headers['X-Container-Bytes-Used']) == sum(
            o['bytes'] for o in rows.values()), label
        tmp = os.path.join(small_fs, 'blobs', 'tmp')
        assert os.listdir(tmp) == [], (label, os.listdir(tmp)[:5])

    check_state('full')

    # Free space: both kinds of upload work again.
    os.remove(ballast)
    for name, data in (('after-big', os.urandom(MIB)), ('after-small', os.urandom(4096))):
        r = cloud.swift('PUT', '%s/%s' % (cpath, name), token=token, data=data)
        assert r.status_code == 201, (name, r.status_code, r.text)
        acked[name] = md5(data)
    check_state('space freed')

    assert cloud.stop() == 0
    cloud.start()
    token = cloud.admin_token()
    check_state('after restart')
    reliability.record(
        'full disk (test_object_full_disk.py)',
        load='1 MiB, 4 KiB and 64 KiB uploads until a 24 MiB tmpfs is full, then a restart',
        faults='a real full filesystem (ENOSPC for files and for the database)',
        bad_inputs='-',
        result='507 in Swift\'s format, no path in the body, nothing half-written, '
               'recovered once space was freed',
        lost=0, figures={'objects acknowledged': len(acked)})
