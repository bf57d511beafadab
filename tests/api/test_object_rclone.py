"""Debian's rclone (its swift backend, Keystone v3 auth) syncing a tree of
about a thousand files, one of them over 100 MiB, to onestack and back."""

import hashlib
import os
import random
import shutil
import subprocess

import pytest

from conftest import unique

RCLONE = '/usr/bin/rclone'
REMOTE = 'onestack'
BIG_SIZE = 100 * 1024 * 1024 + 12345


def rclone_env(cloud, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('RCLONE_', 'OS_', 'ST_'))}
    prefix = 'RCLONE_CONFIG_%s_' % REMOTE.upper()
    env.update({
        'RCLONE_CONFIG': str(tmp_path / 'rclone.conf'),  # empty: env only
        prefix + 'TYPE': 'swift',
        prefix + 'ENV_AUTH': 'false',
        prefix + 'USER': cloud.username,
        prefix + 'KEY': cloud.password,
        prefix + 'AUTH': cloud.auth_url,
        prefix + 'DOMAIN': cloud.user_domain_name,
        prefix + 'TENANT': cloud.project_name,
        prefix + 'TENANT_DOMAIN': cloud.project_domain_name,
        prefix + 'AUTH_VERSION': '3',
        prefix + 'REGION': cloud.region,
    })
    (tmp_path / 'rclone.conf').write_text('')
    return env


def rclone(env, *args, timeout=600):
    proc = subprocess.run([RCLONE, *args, '--transfers', '8', '--checkers', '16',
                           '--retries', '1', '--low-level-retries', '2'],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, 'rclone %s -> exit %d\n%s\n%s' % (
        ' '.join(args), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def make_tree(root, rng):
    """~1,000 files: empty ones, 1-byte ones, assorted small ones in nested
    directories, and one file over 100 MiB. Returns {relative path: md5}."""
    files = {}
    dirs = ['']
    for i in range(40):
        parent = rng.choice(dirs)
        if parent.count('/') >= 4:
            parent = ''
        dirs.append(parent + 'dir%02d%s/' % (i, rng.choice(['', ' with space', '-ü', '.d'])))
    names = []
    for i in range(999):
        d = rng.choice(dirs)
        stem = rng.choice(['file', 'data', 'x', 'émoji-😀', 'a b', 'UPPER', '.hidden'])
        names.append('%s%s-%04d%s' % (d, stem, i, rng.choice(['', '.txt', '.bin', '.json'])))
    for i, name in enumerate(names):
        if i < 100:
            data = b''
        elif i < 300:
            data = bytes([rng.randrange(256)])
        else:
            data = rng.randbytes(rng.choice([2, 10, 100, 1000, 4095, 4096, 4097,
                                             rng.randrange(1, 200 * 1024)]))
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
        files[name] = hashlib.md5(data).hexdigest()
    # The big one: random bytes written a MiB at a time.
    big = os.path.join(root, 'big/huge file.bin')
    os.makedirs(os.path.dirname(big), exist_ok=True)
    h = hashlib.md5()
    with open(big, 'wb') as f:
        left = BIG_SIZE
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
    files['big/huge file.bin'] = h.hexdigest()
    return files


def local_tree(root):
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            path = os.path.join(dirpath, f)
            h = hashlib.md5()
            with open(path, 'rb') as fh:
                for block in iter(lambda: fh.read(1 << 20), b''):
                    h.update(block)
            out[os.path.relpath(path, root)] = h.hexdigest()
    return out


def test_rclone_sync_round_trip(cloud, tmp_path):
    env = rclone_env(cloud, tmp_path)
    src = tmp_path / 'src'
    back = tmp_path / 'back'
    src.mkdir()
    try:
        sync_round_trip(cloud, env, src, back)
    finally:
        # Over 200 MiB: not left for pytest's kept temp directories.
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(back, ignore_errors=True)


def sync_round_trip(cloud, env, src, back):
    rng = random.Random(20240601)
    files = make_tree(str(src), rng)
    assert len(files) == 1000
    container = unique('rclone')
    remote = '%s:%s' % (REMOTE, container)

    rclone(env, 'sync', str(src), remote)
    # The container holds exactly the tree, sizes and MD5s included.
    listed = rclone(env, 'md5sum', remote).stdout.splitlines()
    remote_md5 = {}
    for line in listed:
        digest, _, name = line.partition('  ')
        remote_md5[name] = digest
    assert remote_md5 == files
    r = cloud.swift('HEAD', '%s/%s' % (cloud.account_path(), container), admin=True)
    assert r.headers['X-Container-Object-Count'] == '1000'
    total = sum(os.path.getsize(os.path.join(src, n)) for n in files)
    assert r.headers['X-Container-Bytes-Used'] == str(total)

    proc = rclone(env, 'check', str(src), remote)
    assert '0 differences found' in proc.stderr, proc.stderr[-2000:]

    # Back into a fresh directory: identical to the source.
    rclone(env, 'sync', remote, str(back))
    assert local_tree(str(back)) == files
    proc = rclone(env, 'check', str(src), str(back))
    assert '0 differences found' in proc.stderr
    proc = rclone(env, 'check', remote, str(back), '--download')
    assert '0 differences found' in proc.stderr

    # An incremental sync: changed, removed and new files.
    names = sorted(n for n in files if not n.startswith('big/'))
    for name in names[:5]:
        with open(os.path.join(src, name), 'wb') as f:
            f.write(b'changed ' + name.encode())
    for name in names[5:10]:
        os.remove(os.path.join(src, name))
    with open(os.path.join(src, 'brand new.txt'), 'wb') as f:
        f.write(b'new')
    rclone(env, 'sync', str(src), remote)
    proc = rclone(env, 'check', str(src), remote)
    assert '0 differences found' in proc.stderr
    r = cloud.swift('HEAD', '%s/%s' % (cloud.account_path(), container), admin=True)
    assert r.headers['X-Container-Object-Count'] == str(1000 - 5 + 1)
    rclone(env, 'sync', remote, str(back))
    assert local_tree(str(back)) == local_tree(str(src))

    # Purge removes every object and the container.
    rclone(env, 'purge', remote)
    r = cloud.swift('HEAD', '%s/%s' % (cloud.account_path(), container), admin=True)
    assert r.status_code == 404
