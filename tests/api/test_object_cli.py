"""Debian's `swift` command-line client (python3-swiftclient) against the
object store, authenticating through onestack's Keystone v3."""

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import types
import urllib.parse

import pytest
import requests

from conftest import unique

SWIFT_CLI = '/usr/bin/swift'
# /usr/bin/swift is `sys.exit(swiftclient.shell.main())`, and its imports
# cost two seconds a command. By default each command runs that entry point
# in a child forked from this process, with the imports done once (as
# cli_forkserver.py does for `openstack`); ONESTACK_CLI_FORKSERVER=0 runs
# /usr/bin/swift itself.
USE_FORK = os.environ.get('ONESTACK_CLI_FORKSERVER', '1') != '0'
if USE_FORK:
    import keystoneclient.v3.client  # noqa: F401 - the v3 auth, loaded once
    import swiftclient.shell as swift_shell


class SwiftError(Exception):
    pass


def _forked(argv, env, cwd, timeout):
    """Runs swiftclient's entry point in a forked child; a CompletedProcess."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                if cwd:
                    os.chdir(cwd)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = open(1, 'w', encoding='utf-8', closefd=False)
                sys.stderr = open(2, 'w', encoding='utf-8', closefd=False)
                os.environ.clear()
                os.environ.update(env)
                sys.argv = ['swift'] + argv
                try:
                    swift_shell.main(['swift'] + argv)
                    code = 0
                except SystemExit as e:
                    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:  # noqa: B902 - report anything, as the CLI would
                import traceback
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(['swift'] + argv, timeout)
            time.sleep(0.01)
        out.seek(0)
        err.seek(0)
        return types.SimpleNamespace(returncode=os.waitstatus_to_exitcode(status),
                                     stdout=out.read().decode('utf-8', 'replace'),
                                     stderr=err.read().decode('utf-8', 'replace'))


def swift(cloud, *args, cwd=None, env=None, check=True, timeout=120):
    """Runs the swift CLI; returns its stdout (raises SwiftError on failure)."""
    # No retries: swiftclient would retry a 5xx answer five times with
    # backoff, and a failure should show at once.
    argv = ['--retries', '0', *[str(a) for a in args]]
    env = env or cloud.swift_env()
    if USE_FORK:
        proc = _forked(argv, env, cwd and str(cwd), timeout)
    else:
        proc = subprocess.run([SWIFT_CLI, *argv], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise SwiftError('swift %s -> exit %d\nstdout: %s\nstderr: %s' % (
            ' '.join(map(str, args)), proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout if check else proc


def stat_fields(text):
    """`swift stat` output as a dict of its 'Key: value' lines."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(':')
        if sep:
            out[key.strip()] = value.strip()
    return out


def md5_file(path):
    h = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def write(path, data):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def tree(root):
    """{relative path: md5} of files and {relative dir: None} of empty dirs."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if not dirnames and not filenames and rel != '.':
            out[rel] = None
        for f in filenames:
            out[os.path.normpath(os.path.join(rel, f))] = md5_file(os.path.join(dirpath, f))
    return out


@pytest.fixture
def work(tmp_path):
    src = tmp_path / 'src'
    dst = tmp_path / 'dst'
    src.mkdir()
    dst.mkdir()
    return src, dst


def test_auth_and_account_stat(cloud):
    out = swift(cloud, 'stat')
    fields = stat_fields(out)
    assert fields['Account'] == 'AUTH_' + cloud.admin_project_id()
    assert 'Containers' in fields and 'Objects' in fields and 'Bytes' in fields
    # --os-storage-url / auth only: the catalog gives the object URL.
    out = swift(cloud, 'auth')
    assert cloud.object_url() in out


def test_upload_download_list_stat_delete_files(cloud, work):
    src, dst = work
    c = unique('cli')
    files = {
        'hello.txt': b'hello world\n',
        'empty.bin': b'',
        'one.bin': b'\x00',
        'with space.txt': b'spaced out',
        'ünïcødé-文件.txt': 'unicode body ✓'.encode(),
        'dir/sub/deep.txt': os.urandom(3000),
        'dir/other.dat': os.urandom(70000),
    }
    for name, data in files.items():
        write(os.path.join(src, name), data)
    os.makedirs(os.path.join(src, 'dir', 'empty'))
    # Upload the whole tree (names relative to src), then one more file.
    out = swift(cloud, 'upload', c, '.', '--object-threads', '4', cwd=src)
    names = swift(cloud, 'list', c).splitlines()
    # swift upload of "." keeps the relative names; an empty directory
    # becomes a directory marker object.
    expected = sorted(list(files) + ['dir/empty'], key=lambda s: s.encode())
    assert names == expected, (names, out)
    assert c in swift(cloud, 'list').splitlines()

    # stat of an object: size, ETag, content type guessed from the name.
    fields = stat_fields(swift(cloud, 'stat', c, 'hello.txt'))
    assert fields['Content Length'] == str(len(files['hello.txt']))
    assert fields['ETag'] == hashlib.md5(files['hello.txt']).hexdigest()
    assert fields['Content Type'].startswith('text/plain')
    # swift upload records the file's mtime.
    assert 'Meta Mtime' in fields
    fields = stat_fields(swift(cloud, 'stat', c, 'dir/empty'))
    assert fields['Content Type'] == 'application/directory'
    assert fields['Content Length'] == '0'
    fields = stat_fields(swift(cloud, 'stat', c))
    assert fields['Objects'] == str(len(expected))
    assert fields['Bytes'] == str(sum(len(d) for d in files.values()))

    # Download everything into a fresh directory: same tree, same bytes.
    swift(cloud, 'download', c, '-D', dst, '--object-threads', '4')
    want = {os.path.normpath(k): hashlib.md5(v).hexdigest() for k, v in files.items()}
    want['dir/empty'] = None
    assert tree(dst) == want

    # One object to a named file and to stdout.
    swift(cloud, 'download', c, 'with space.txt', '-o', os.path.join(dst, 'renamed'))
    assert open(os.path.join(dst, 'renamed'), 'rb').read() == b'spaced out'
    out = swift(cloud, 'download', c, 'ünïcødé-文件.txt', '-o', '-')
    assert out == 'unicode body ✓'

    # Delete one object, then the container with everything in it.
    swift(cloud, 'delete', c, 'with space.txt')
    assert 'with space.txt' not in swift(cloud, 'list', c).splitlines()
    proc = swift(cloud, 'download', c, 'with space.txt', '-o', '-', check=False)
    assert proc.returncode != 0
    swift(cloud, 'delete', c)
    assert c not in swift(cloud, 'list').splitlines()


def test_list_prefix_and_delimiter(cloud, work):
    src, _ = work
    c = unique('cli')
    for name in ['a/1', 'a/2', 'a/b/3', 'c', 'photos/2024/x.jpg', 'photos/2025/y.jpg']:
        write(os.path.join(src, name), name.encode())
    swift(cloud, 'upload', c, '.', cwd=src)
    assert swift(cloud, 'list', c, '--prefix', 'a/').splitlines() == ['a/1', 'a/2', 'a/b/3']
    assert swift(cloud, 'list', c, '--delimiter', '/').splitlines() == ['a/', 'c', 'photos/']
    assert swift(cloud, 'list', c, '--prefix', 'photos/', '--delimiter', '/').splitlines() == [
        'photos/2024/', 'photos/2025/']
    assert swift(cloud, 'list', c, '--prefix', 'zzz').splitlines() == []
    # Long listing: one line per object with its size, and a total.
    out = swift(cloud, 'list', c, '--long', '--prefix', 'a/')
    assert 'a/b/3' in out and '5' in out
    # Container listing with a prefix.
    assert swift(cloud, 'list', '--prefix', c).splitlines() == [c]


def test_post_metadata_and_stat_headers(cloud, work):
    src, _ = work
    c = unique('cli')
    write(os.path.join(src, 'f.txt'), b'meta')
    swift(cloud, 'upload', c, 'f.txt', cwd=src)
    swift(cloud, 'post', c, 'f.txt', '-m', 'Color:blue', '-m', 'Size:large',
          '-H', 'Content-Disposition:attachment')
    fields = stat_fields(swift(cloud, 'stat', c, 'f.txt'))
    assert fields['Meta Color'] == 'blue'
    assert fields['Meta Size'] == 'large'
    assert fields['Content-Disposition'] == 'attachment'
    # A later post replaces the object's metadata.
    swift(cloud, 'post', c, 'f.txt', '-m', 'Color:red')
    fields = stat_fields(swift(cloud, 'stat', c, 'f.txt'))
    assert fields['Meta Color'] == 'red'
    assert 'Meta Size' not in fields
    # Container metadata and ACLs.
    swift(cloud, 'post', c, '-m', 'Owner:tests', '-r', '.r:*,.rlistings')
    fields = stat_fields(swift(cloud, 'stat', c))
    assert fields['Meta Owner'] == 'tests'
    assert fields['Read ACL'] == '.r:*,.rlistings'
    r = requests.get('%s/%s/f.txt' % (cloud.object_url(), c), timeout=30)
    assert r.status_code == 200 and r.content == b'meta'
    # Account metadata.
    # (swiftclient title-cases the name it sends: compare without case.)
    key = 'Key' + unique('k').replace('-', '')

    def account_meta():
        return {k.lower(): v for k, v in stat_fields(swift(cloud, 'stat')).items()}

    swift(cloud, 'post', '-m', '%s:v' % key)
    assert account_meta().get('meta ' + key.lower()) == 'v'
    swift(cloud, 'post', '-m', '%s:' % key)
    assert 'meta ' + key.lower() not in account_meta()
    # A container that does not exist is made by post.
    c2 = unique('cli')
    swift(cloud, 'post', c2)
    assert c2 in swift(cloud, 'list').splitlines()


def test_copy(cloud, work):
    src, dst = work
    c1, c2 = unique('cli'), unique('cli')
    data = os.urandom(10000)
    write(os.path.join(src, 'orig.bin'), data)
    swift(cloud, 'upload', c1, 'orig.bin', '-H', 'X-Object-Meta-Color:green', cwd=src)
    swift(cloud, 'post', c2)
    swift(cloud, 'copy', c1, 'orig.bin', '-d', '/%s/copy.bin' % c2, '-m', 'Extra:1')
    fields = stat_fields(swift(cloud, 'stat', c2, 'copy.bin'))
    assert fields['ETag'] == hashlib.md5(data).hexdigest()
    assert fields['Meta Color'] == 'green'
    assert fields['Meta Extra'] == '1'
    swift(cloud, 'copy', c1, 'orig.bin', '-d', '/%s/fresh.bin' % c2, '--fresh-metadata',
          '-m', 'Only:this')
    fields = stat_fields(swift(cloud, 'stat', c2, 'fresh.bin'))
    assert fields['Meta Only'] == 'this'
    assert 'Meta Color' not in fields
    # Copy in place with new metadata.
    swift(cloud, 'copy', c1, 'orig.bin', '-m', 'Color:purple')
    assert stat_fields(swift(cloud, 'stat', c1, 'orig.bin'))['Meta Color'] == 'purple'
    swift(cloud, 'download', c2, 'copy.bin', '-o', os.path.join(dst, 'copy.bin'))
    assert open(os.path.join(dst, 'copy.bin'), 'rb').read() == data


@pytest.mark.parametrize('slo', [False, True], ids=['dlo', 'slo'])
def test_segmented_upload_and_download(cloud, work, slo):
    src, dst = work
    c = unique('seg')
    data = os.urandom(10 * 1024 + 123)
    write(os.path.join(src, 'big.bin'), data)
    args = ['upload', c, 'big.bin', '--segment-size', '1024']
    if slo:
        args.append('--use-slo')
    swift(cloud, *args, cwd=src)
    fields = stat_fields(swift(cloud, 'stat', c, 'big.bin'))
    assert fields['Content Length'] == str(len(data))
    if slo:
        assert 'Static Large Object' in str(fields) or fields.get('X-Static-Large-Object') == 'True'
    else:
        assert fields['Manifest'].startswith(c + '_segments/')
    segments = swift(cloud, 'list', c + '_segments').splitlines()
    assert len(segments) == 11
    swift(cloud, 'download', c, 'big.bin', '-o', os.path.join(dst, 'big.bin'))
    assert md5_file(os.path.join(dst, 'big.bin')) == hashlib.md5(data).hexdigest()
    # Ranged read across segment boundaries.
    r = cloud.swift('GET', '%s/%s/big.bin' % (cloud.account_path(), c), admin=True,
                    headers={'Range': 'bytes=1000-3000'})
    assert r.status_code == 206 and r.content == data[1000:3001]
    # Re-upload with a different size replaces the segments; delete removes
    # manifest and segments.
    data2 = os.urandom(5 * 1024)
    write(os.path.join(src, 'big.bin'), data2)
    swift(cloud, *args, cwd=src)
    swift(cloud, 'download', c, 'big.bin', '-o', os.path.join(dst, 'big2.bin'))
    assert md5_file(os.path.join(dst, 'big2.bin')) == hashlib.md5(data2).hexdigest()
    swift(cloud, 'delete', c, 'big.bin')
    assert swift(cloud, 'list', c + '_segments').splitlines() == []


def test_tempurl(cloud, work):
    src, _ = work
    c = unique('tmp')
    write(os.path.join(src, 'shared.txt'), b'temporary access')
    write(os.path.join(src, 'other.txt'), b'not shared')
    swift(cloud, 'upload', c, 'shared.txt', 'other.txt', cwd=src)
    key = 'secret-' + unique('k')
    swift(cloud, 'post', '-m', 'Temp-URL-Key:' + key)
    path = '%s/%s/shared.txt' % (cloud.account_path(), c)
    signed = swift(cloud, 'tempurl', 'GET', '3600', path, key).strip()
    assert signed.startswith(path + '?temp_url_sig='), signed
    url = cloud.object_base_url + signed
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.content == b'temporary access'
    assert r.headers.get('X-Trans-Id')
    # HEAD is allowed by a GET signature; PUT is not.
    assert requests.head(url, timeout=30).status_code == 200
    assert requests.put(url, data=b'x', timeout=30).status_code == 401
    # A tampered signature, or the signature on another object: 401.
    parsed = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parsed.query)
    sig = query['temp_url_sig'][0]
    bad = sig[:-1] + ('0' if sig[-1] != '0' else '1')
    r = requests.get(url.replace(sig, bad), timeout=30)
    assert r.status_code == 401, r.status_code
    r = requests.get(url.replace('shared.txt', 'other.txt'), timeout=30)
    assert r.status_code == 401, r.status_code
    # An expired signature: 401.
    expired = swift(cloud, 'tempurl', 'GET', '--absolute', '1000000000', path, key).strip()
    assert requests.get(cloud.object_base_url + expired, timeout=30).status_code == 401
    # A container-level key works too.
    ckey = 'ckey-' + unique('k')
    swift(cloud, 'post', c, '-m', 'Temp-URL-Key:' + ckey)
    signed = swift(cloud, 'tempurl', 'GET', '60', '%s/%s/other.txt' % (cloud.account_path(), c),
                   ckey).strip()
    r = requests.get(cloud.object_base_url + signed, timeout=30)
    assert r.status_code == 200 and r.content == b'not shared'
    # A PUT signature uploads.
    put_path = '%s/%s/uploaded.txt' % (cloud.account_path(), c)
    signed = swift(cloud, 'tempurl', 'PUT', '60', put_path, key).strip()
    r = requests.put(cloud.object_base_url + signed, data=b'via tempurl', timeout=30)
    assert r.status_code == 201, (r.status_code, r.text)
    assert swift(cloud, 'download', c, 'uploaded.txt', '-o', '-') == 'via tempurl'
