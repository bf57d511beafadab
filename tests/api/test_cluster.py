"""Two onestack nodes on the scale-out backends, behind haproxy.

The module starts everything itself and removes it afterwards: a throwaway
PostgreSQL on loopback (scripts/pg.sh), a GlusterFS test host in a network
namespace of its own with a replica-2 volume of two bricks
(scripts/gluster.sh: glusterd refuses loopback brick addresses, so the host
sits behind a veth pair on a private /24), two onestack nodes on both
backends, and haproxy with the repository's deploy/haproxy.cfg. Needs root
(namespaces, and PostgreSQL runs as the postgres user).

Requests alternate between the nodes: what one node writes, the other
reads, lists and deletes; a token minted on one validates on the other; a
revocation or a removed role on one is refused on the other at once; a key
rotation locks no one out. Then the faults: PostgreSQL halted (503s in each
service's format, nothing half-written, service resumes by itself), Gluster
bricks killed, a node killed with kill -9 mid-load (nothing acknowledged
lost, the other node keeps serving), and wrong backend settings (a clear
error at start-up).
"""
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests

from conftest import Cloud, free_port, shut_down, unique
from identity_consistency import run_cycles

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_SH = os.path.join(ROOT, 'scripts', 'pg.sh')
GLUSTER_SH = os.path.join(ROOT, 'scripts', 'gluster.sh')
HAPROXY_CFG = os.path.join(ROOT, 'deploy', 'haproxy.cfg')
INLINE_MAX = 65536  # objects above this go to the Gluster volume


def run(*args, timeout=120):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, '%s failed (%d):\n%s%s' % (
        ' '.join(args), p.returncode, p.stdout, p.stderr)
    return p.stdout.strip()


class Cluster:
    """PostgreSQL, a Gluster volume, nodes A and B, and haproxy."""

    def __init__(self):
        assert os.geteuid() == 0, 'the multi-node test needs root (network namespaces)'
        self.root = tempfile.mkdtemp(prefix='onestack-cluster-')
        os.chmod(self.root, 0o755)  # the postgres user must reach pg/
        self.pg_dir = os.path.join(self.root, 'pg')
        self.gluster_dir = os.path.join(self.root, 'gluster')
        self.pg = None
        self.volume = None
        self.nodes = []
        self.haproxy = None
        self.lb_identity_port = free_port()
        self.lb_object_port = free_port()

    def start(self):
        self.pg = run(PG_SH, 'start', self.pg_dir, str(free_port()))
        self.volume = run(GLUSTER_SH, 'up', self.gluster_dir)
        name, server = self.volume.split('@')
        lb = 'http://127.0.0.1:%d'
        self.backend_config = (
            '[database]\nconnection = %s\n'
            '[object_store]\nbackend = glusterfs\nvolume = %s\nservers = %s\n'
            '[object]\ninline_max_bytes = %d\npublic_url = %s\n'
            '[identity]\npublic_url = %s\n' % (
                self.pg, name, server, INLINE_MAX, lb % self.lb_object_port,
                lb % self.lb_identity_port))
        a = self._node('a')
        a.bootstrap()
        a.start()
        b = self._node('b')
        b.start()
        self._start_haproxy()

    def _node(self, name):
        root = os.path.join(self.root, 'node-' + name)
        os.makedirs(root)
        node = Cloud(root, self.backend_config)
        self.nodes.append(node)
        return node

    def _start_haproxy(self):
        a, b = self.nodes
        env = dict(os.environ,
                   ONESTACK_LB_HOST='127.0.0.1',
                   ONESTACK_LB_IDENTITY_PORT=str(self.lb_identity_port),
                   ONESTACK_LB_OBJECT_PORT=str(self.lb_object_port),
                   ONESTACK_NODE_A='127.0.0.1', ONESTACK_NODE_B='127.0.0.1',
                   ONESTACK_NODE_IDENTITY_PORT=str(a.port),
                   ONESTACK_NODE_OBJECT_PORT=str(a.object_port),
                   ONESTACK_NODE_B_IDENTITY_PORT=str(b.port),
                   ONESTACK_NODE_B_OBJECT_PORT=str(b.object_port))
        self.haproxy_log = open(os.path.join(self.root, 'haproxy.log'), 'wb')
        self.haproxy = subprocess.Popen(['haproxy', '-db', '-f', HAPROXY_CFG], env=env,
                                        stdout=self.haproxy_log, stderr=self.haproxy_log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.lb_object + '/healthcheck', timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.haproxy_log.flush()
        with open(os.path.join(self.root, 'haproxy.log'), errors='replace') as f:
            raise AssertionError('haproxy did not come up:\n' + f.read()[-2000:])

    @property
    def lb_object(self):
        return 'http://127.0.0.1:%d' % self.lb_object_port

    @property
    def lb_identity(self):
        return 'http://127.0.0.1:%d' % self.lb_identity_port

    def psql(self, sql):
        return run('psql', '-At', self.pg, '-c', sql)

    def stop(self):
        errors = []
        if self.haproxy is not None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait()
            self.haproxy_log.close()
        for node in self.nodes:
            try:
                shut_down(node)
            except AssertionError as e:  # keep tearing down; report after
                errors.append(str(e))
        subprocess.run([GLUSTER_SH, 'down', self.gluster_dir], capture_output=True)
        # pg.sh stop refuses a directory its start did not make, so this is
        # safe even when start failed half-way.
        subprocess.run([PG_SH, 'stop', self.pg_dir], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
        assert not errors, '\n'.join(errors)


@pytest.fixture(scope='module')
def cluster():
    c = Cluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()


def put(node, token, path, data, **headers):
    headers['X-Auth-Token'] = token
    return requests.put(node.object_base_url + path, data=data, headers=headers, timeout=60)


def get(node, token, path, headers=None):
    headers = dict(headers or {}, **{'X-Auth-Token': token})
    return requests.get(node.object_base_url + path, headers=headers, timeout=60)


def validate(node, token, subject):
    return requests.get(node.auth_url + '/auth/tokens',
                        headers={'X-Auth-Token': token, 'X-Subject-Token': subject},
                        timeout=30)


def brick_files(cluster, size):
    """Paths under each brick of files of exactly `size` bytes."""
    found = {}
    for brick in ('brick1', 'brick2'):
        top = os.path.join(cluster.gluster_dir, brick)
        hits = []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != '.glusterfs']
            for f in filenames:
                p = os.path.join(dirpath, f)
                if os.path.getsize(p) == size:
                    hits.append(os.path.relpath(p, top))
        found[brick] = sorted(hits)
    return found


def test_write_on_one_node_read_list_delete_on_the_other(cluster):
    a, b = cluster.nodes
    token = a.admin_token()
    account = a.account_path()
    c = account + '/' + unique('c')
    assert put(a, token, c, b'').status_code == 201
    small = os.urandom(1000)
    large = os.urandom(3 * INLINE_MAX + 17)  # on the volume
    assert put(a, token, c + '/small', small).status_code == 201
    r = put(a, token, c + '/large', large, **{'X-Object-Meta-Color': 'blue'})
    assert r.status_code == 201
    assert r.headers['Etag'] == hashlib.md5(large).hexdigest()

    # B sees A's writes: bytes, metadata, listing, counters.
    for name, data in (('small', small), ('large', large)):
        r = get(b, token, c + '/' + name)
        assert r.status_code == 200 and r.content == data, (name, r.status_code)
    assert get(b, token, c + '/large').headers['X-Object-Meta-Color'] == 'blue'
    r = get(b, token, c + '?format=json')
    assert [o['name'] for o in r.json()] == ['large', 'small']
    assert r.headers['X-Container-Object-Count'] == '2'
    assert r.headers['X-Container-Bytes-Used'] == str(len(small) + len(large))
    # A ranged read of the large object, through B.
    r = get(b, token, c + '/large', headers={'Range': 'bytes=70000-70009'})
    assert r.status_code == 206 and r.content == large[70000:70010]

    # The large object's bytes are on both bricks of the replica-2 volume.
    on_bricks = brick_files(cluster, len(large))
    assert on_bricks['brick1'] and on_bricks['brick1'] == on_bricks['brick2'], on_bricks

    # B deletes; A no longer has them, and the volume lets go of the bytes.
    for name in ('small', 'large'):
        r = requests.delete(b.object_base_url + c + '/' + name,
                            headers={'X-Auth-Token': token}, timeout=30)
        assert r.status_code == 204
        assert get(a, token, c + '/' + name).status_code == 404
    assert get(a, token, c + '?format=json').json() == []
    assert brick_files(cluster, len(large)) == {'brick1': [], 'brick2': []}
    r = requests.delete(a.object_base_url + c, headers={'X-Auth-Token': token}, timeout=30)
    assert r.status_code == 204


def test_swift_client_through_the_balancer(cluster, tmp_path):
    """The swift CLI through haproxy, which balances every request on its
    own: upload, list, download and delete cross both nodes."""
    a, _ = cluster.nodes
    env = a.swift_env()
    env['OS_AUTH_URL'] = cluster.lb_identity + '/v3'
    src = tmp_path / 'up'
    src.mkdir()
    files = {}
    for i in range(6):
        data = os.urandom(200 if i % 2 else 100000)
        (src / ('f%d' % i)).write_bytes(data)
        files['f%d' % i] = data
    c = unique('lb')
    p = subprocess.run(['swift', 'upload', c, '.'], cwd=str(src), env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    p = subprocess.run(['swift', 'list', c], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and sorted(p.stdout.split()) == sorted(files)
    out = tmp_path / 'down'
    p = subprocess.run(['swift', 'download', c, '-D', str(out)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    for name, data in files.items():
        assert (out / name).read_bytes() == data
    p = subprocess.run(['swift', 'delete', c], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    r = requests.get(cluster.lb_object + a.account_path() + '/' + c,
                     headers={'X-Auth-Token': a.admin_token()}, timeout=30)
    assert r.status_code == 404


def test_token_from_one_node_revoked_on_it_refused_on_the_other_at_once(cluster):
    a, b = cluster.nodes
    admin = a.admin_token()
    for _ in range(10):
        token, _ = a.issue_token(project=a.project_name)
        assert validate(b, admin, token).status_code == 200
        assert get(b, token, a.account_path()).status_code in (200, 204)
        r = requests.delete(a.auth_url + '/auth/tokens',
                            headers={'X-Auth-Token': admin, 'X-Subject-Token': token},
                            timeout=30)
        assert r.status_code == 204
        # No wait: the very next request to the other node refuses it.
        assert validate(b, admin, token).status_code == 404
        assert get(b, token, a.account_path()).status_code == 401


def test_removed_role_and_disabled_user_refused_on_the_other_node_at_once(cluster):
    a, b = cluster.nodes
    u = a.object_user()
    assert get(b, u['token'], u['account']).status_code in (200, 204)
    r = a.request('DELETE', '/v3/projects/%s/users/%s/roles/%s' % (
        u['project_id'], u['user']['id'], a.role_id('member')), admin=True)
    assert r.status_code == 204
    assert get(b, u['token'], u['account']).status_code in (401, 403)

    v = a.object_user()
    assert get(b, v['token'], v['account']).status_code in (200, 204)
    r = a.request('PATCH', '/v3/users/' + v['user']['id'], admin=True,
                  json={'user': {'enabled': False}})
    assert r.status_code == 200
    assert get(b, v['token'], v['account']).status_code == 401


def test_user_made_on_one_node_logs_in_on_the_other_at_once(cluster):
    a, b = cluster.nodes
    project = a.new_project()
    user = a.new_user()
    a.grant(project['id'], user['id'], 'member')
    # A password login carries no token to validate: B must still see A's
    # new user and grant before deciding.
    token, body = b.issue_token(user['id'], user['password'], project_id=project['id'])
    assert 'member' in [r['name'] for r in body['roles']]
    r = a.request('DELETE', '/v3/projects/%s/users/%s/roles/%s' % (
        project['id'], user['id'], a.role_id('member')), admin=True)
    assert r.status_code == 204
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'id': user['id'], 'password': user['password']}}},
        'scope': {'project': {'id': project['id']}}}}
    r = requests.post(b.auth_url + '/auth/tokens', json=body, timeout=30)
    assert r.status_code == 401, (r.status_code, r.text)


def test_login_on_the_other_node_sees_every_acknowledged_grant_and_revoke(cluster):
    a, b = cluster.nodes
    failures = run_cycles(a, b, cycles=200)
    assert not failures, '%d of 200 cycles failed; first: %s' % (
        len(failures), failures[0])


def test_key_rotation_locks_no_one_out(cluster):
    a, b = cluster.nodes
    before, _ = a.issue_token(project=a.project_name)
    for rotation in range(2):
        out = run(a.binary, 'fernet-rotate', '--config-file', a.config_file,
                  '--data-dir', a.data_dir)
        assert 'rotated' in out
        # For longer than the nodes' key re-read interval, tokens minted on
        # either node validate on both, and the first token still does.
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:
            for minter, checker in ((a, b), (b, a)):
                token, _ = minter.issue_token(project=a.project_name)
                for node in (minter, checker):
                    r = validate(node, token, token)
                    assert r.status_code == 200, (rotation, r.status_code, r.text)
            if rotation == 0:
                assert validate(b, before, before).status_code == 200
            time.sleep(0.5)
    # With max_active_keys = 3 (staged, primary, one secondary) a token
    # outlives one rotation, not two, as with keystone's key repository.
    assert validate(a, before, before).status_code == 401
    assert validate(b, before, before).status_code == 401
    keys = cluster.psql('SELECT count(*) FROM identity_fernet_keys')
    assert keys == '3'
    for node in (a, b):  # their cached admin tokens went with the old key
        node._admin_token = None


def test_background_jobs_run_on_one_node(cluster):
    a, b = cluster.nodes
    token = a.admin_token()
    c = a.account_path() + '/' + unique('exp')
    assert put(a, token, c, b'').status_code == 201
    assert put(a, token, c + '/soon', b'x', **{'X-Delete-After': '1'}).status_code == 201
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if get(b, token, c + '?format=json').json() == []:
            break
        time.sleep(0.3)
    else:
        raise AssertionError('the expired object was never reaped')
    rows = cluster.psql("SELECT name || '=' || holder FROM leases ORDER BY name").split()
    holders = dict(r.split('=', 1) for r in rows)
    assert 'object-expirer' in holders, rows
    names = set(holders.values())
    # Each job has one holder, and it is one of the two nodes.
    assert len(names) >= 1
    for job, holder in holders.items():
        assert holder.endswith('-%d' % a.object_port) or holder.endswith('-%d' % b.object_port), (
            job, holder)


def expect_swift_503(r):
    assert r.status_code == 503, (r.status_code, r.text[:200])
    assert 'sqlite' not in r.text.lower() and 'postgres' not in r.text.lower()
    assert '/' not in r.text.replace('</', '')  # no path in the body


def test_postgres_outage_answers_503_and_resumes(cluster):
    a, b = cluster.nodes
    token = a.admin_token()
    c = a.account_path() + '/' + unique('pgdown')
    assert put(a, token, c, b'').status_code == 201
    assert put(a, token, c + '/kept', b'kept').status_code == 201
    run(PG_SH, 'halt', cluster.pg_dir)
    try:
        expect_swift_503(put(a, token, c + '/lost', b'never'))
        expect_swift_503(get(b, token, c + '/kept'))
        # A stalled database does not stall validation of a known token: it
        # answers from the node's snapshot (nothing can commit meanwhile),
        # the first time after at most the sync patience (2 s), then at once.
        for limit in (5.0, 1.0, 1.0):
            started = time.monotonic()
            r = validate(b, token, token)
            assert r.status_code == 200, r.text
            assert time.monotonic() - started < limit
        # A login needs the database (the password hash): Keystone's 503.
        body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': b.username, 'domain': {'id': 'default'}, 'password': b.password}}}}}
        r = requests.post(b.auth_url + '/auth/tokens', json=body, timeout=60)
        assert r.status_code == 503, r.text
        assert r.json()['error']['code'] == 503  # Keystone's JSON format
        big = os.urandom(2 * INLINE_MAX)
        expect_swift_503(put(b, token, c + '/big', big))
    finally:
        run(PG_SH, 'resume', cluster.pg_dir)
    # The nodes come back by themselves.
    deadline = time.monotonic() + 30
    while True:
        r = get(b, token, c + '/kept')
        if r.status_code == 200:
            break
        assert time.monotonic() < deadline, (r.status_code, r.text)
        time.sleep(0.3)
    assert r.content == b'kept'
    assert get(a, token, c + '/kept').status_code == 200
    # Nothing the refused writes began is visible.
    assert get(a, token, c + '/lost').status_code == 404
    assert get(a, token, c + '/big').status_code == 404
    assert [o['name'] for o in get(b, token, c + '?format=json').json()] == ['kept']
    assert put(b, token, c + '/after', b'ok').status_code == 201


def test_gluster_bricks_going_away(cluster):
    a, b = cluster.nodes
    token = a.admin_token()
    c = a.account_path() + '/' + unique('brick')
    assert put(a, token, c, b'').status_code == 201
    one = os.urandom(2 * INLINE_MAX)
    assert put(a, token, c + '/one', one).status_code == 201
    run(GLUSTER_SH, 'kill-brick', cluster.gluster_dir, '1')
    try:
        # One brick of two: the replica keeps serving, reads and writes.
        two = os.urandom(2 * INLINE_MAX)
        assert put(b, token, c + '/two', two).status_code == 201
        assert get(a, token, c + '/two').content == two
        assert get(b, token, c + '/one').content == one
        run(GLUSTER_SH, 'kill-brick', cluster.gluster_dir, '2')
        # No brick: large objects answer 503; small ones (in the database)
        # still serve.
        expect_swift_503(put(a, token, c + '/three', os.urandom(2 * INLINE_MAX)))
        r = get(b, token, c + '/one')
        assert r.status_code == 503, r.status_code
        assert put(a, token, c + '/tiny', b'tiny').status_code == 201
        assert get(b, token, c + '/tiny').content == b'tiny'
    finally:
        run(GLUSTER_SH, 'start-brick', cluster.gluster_dir)
    # The bricks reconnect and heal in their own time: each large object
    # reads again within it (the one written with a brick down included).
    deadline = time.monotonic() + 40

    def read_back(node, name):
        while True:
            r = get(node, token, c + '/' + name)
            if r.status_code == 200:
                return r.content
            assert time.monotonic() < deadline, (name, r.status_code, r.text)
            time.sleep(0.5)

    assert read_back(b, 'one') == one
    assert read_back(a, 'two') == two
    assert get(a, token, c + '/three').status_code == 404
    names = [o['name'] for o in get(a, token, c + '?format=json').json()]
    assert names == ['one', 'tiny', 'two']


def test_node_killed_mid_load_loses_nothing_acknowledged(cluster):
    a, b = cluster.nodes
    token = a.admin_token()
    c = a.account_path() + '/' + unique('kill')
    assert put(a, token, c, b'').status_code == 201
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()
    after_kill = {'ok': 0, 'failed': 0}
    killed = threading.Event()

    def writer(n):
        s = requests.Session()
        i = 0
        while not stop.is_set():
            name = 'w%d-%d' % (n, i)
            i += 1
            data = os.urandom(2000 if i % 3 else 3 * INLINE_MAX)
            try:
                r = s.put(cluster.lb_object + c + '/' + name, data=data,
                          headers={'X-Auth-Token': token}, timeout=30)
                ok = r.status_code == 201
            except requests.RequestException:
                ok = False
            with lock:
                if ok:
                    acked[name] = hashlib.md5(data).hexdigest()
                if killed.is_set():
                    after_kill['ok' if ok else 'failed'] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(2)
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=10)
    killed.set()
    time.sleep(5)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert acked, 'no write succeeded'
    # The balancer moved the load to B: writes kept succeeding after the kill.
    assert after_kill['ok'] > 10, after_kill
    # Every acknowledged object is on B, whole.
    s = requests.Session()
    for name, md5 in acked.items():
        r = s.get(b.object_base_url + c + '/' + name, headers={'X-Auth-Token': token},
                  timeout=30)
        assert r.status_code == 200, (name, r.status_code)
        assert hashlib.md5(r.content).hexdigest() == md5, name
    listed = {o['name'] for o in get(b, token, c + '?format=json&limit=10000').json()}
    assert set(acked) <= listed
    # A comes back and serves what B wrote while it was gone.
    a.start()
    name = sorted(acked)[-1]
    r = get(a, token, c + '/' + name)
    assert r.status_code == 200 and hashlib.md5(r.content).hexdigest() == acked[name]


def start_failure(extra, tmp_path):
    node = Cloud(str(tmp_path / uuid.uuid4().hex[:8]), extra)
    p = subprocess.run([node.binary, 'serve', '--config-file', node.config_file,
                        '--data-dir', node.data_dir], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode != 0
    return p.stdout + p.stderr


def test_wrong_backend_settings_fail_at_start_up_naming_what(cluster, tmp_path):
    dead_port = free_port()
    out = start_failure('[database]\nconnection = postgresql://postgres@127.0.0.1:%d/onestack\n'
                        % dead_port, tmp_path)
    assert 'PostgreSQL' in out and str(dead_port) in out, out
    out = start_failure('[database]\nconnection = %s_missing\n' % cluster.pg, tmp_path)
    assert 'onestack_missing' in out, out
    server = cluster.volume.split('@')[1]
    out = start_failure('[database]\nconnection = %s\n[object_store]\nbackend = glusterfs\n'
                        'volume = novolume\nservers = %s\n' % (cluster.pg, server), tmp_path)
    assert 'novolume' in out, out
    out = start_failure('[object_store]\nbackend = glusterfs\n', tmp_path)
    assert 'volume and servers' in out, out
