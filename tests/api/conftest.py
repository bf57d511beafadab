"""Fixtures that run a real onestack process for the API tests.

The binary is found through the ONESTACK_BIN environment variable; a test
that needs a cloud fails (never skips) when it is unset or missing. Each
cloud lives in its own temporary directory on free loopback ports (one for
identity, one for the object store), is
bootstrapped like `keystone-manage bootstrap`, and is stopped by its PID with
SIGTERM at teardown, which must end it gracefully (exit status 0) and must
have left no sanitizer report (AddressSanitizer, LeakSanitizer or UBSan) in
its log, so a build with -fsanitize=address,undefined fails the test whose
server hit one.

Run with Debian's interpreter, whose site-packages hold the OpenStack clients:
    ONESTACK_BIN=build/debug/onestack /usr/bin/python3 -m pytest -q tests/api
"""

import configparser
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import requests

OPENSTACK_CLI = '/usr/bin/openstack'
ADMIN_PASSWORD = 'secrete-' + uuid.uuid4().hex[:8]
REGION = 'RegionOne'
# Commands (their last verb) that accept `-f json`.
_FORMATTED_VERBS = {'list', 'show', 'create', 'issue'}


def onestack_binary():
    """The onestack executable named by ONESTACK_BIN; fails the test if absent."""
    path = os.environ.get('ONESTACK_BIN')
    if not path:
        pytest.fail('set ONESTACK_BIN to the built onestack binary '
                    '(cmake --build <dir> --target onestack)', pytrace=False)
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail('ONESTACK_BIN=%r is not an executable file' % path,
                    pytrace=False)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(('127.0.0.1', port)) == 0


class CliError(Exception):
    """An `openstack` command exited non-zero."""

    def __init__(self, args, returncode, stdout, stderr):
        super().__init__('openstack %s -> exit %d\nstdout: %s\nstderr: %s' % (
            ' '.join(args), returncode, stdout.strip(), stderr.strip()))
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class CliRunner:
    """Runs /usr/bin/openstack commands, by default through cli_forkserver.

    The fork server runs the CLI's own entry point in a fresh child process
    per command with the imports done once; ONESTACK_CLI_FORKSERVER=0 runs
    /usr/bin/openstack itself for every command instead.
    """

    def __init__(self):
        self.proc = None
        self.dir = None
        self.use_server = os.environ.get('ONESTACK_CLI_FORKSERVER', '1') != '0'

    def run(self, args, env, timeout):
        if not self.use_server:
            proc = subprocess.run([OPENSTACK_CLI, *args], capture_output=True,
                                  text=True, timeout=timeout, env=env)
            return proc.returncode, proc.stdout, proc.stderr
        if self.proc is None:
            self.dir = tempfile.mkdtemp(prefix='onestack-cli-')
            self.proc = subprocess.Popen(
                [sys.executable, os.path.join(os.path.dirname(__file__),
                                              'cli_forkserver.py')],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        out = os.path.join(self.dir, 'stdout')
        err = os.path.join(self.dir, 'stderr')
        self.proc.stdin.write(json.dumps({'argv': args, 'env': env,
                                          'stdout': out, 'stderr': err}) + '\n')
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            raise subprocess.TimeoutExpired(['openstack', *args], timeout)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('cli_forkserver exited with %s' % self.proc.poll())
        code = json.loads(line)['returncode']
        with open(out) as f_out, open(err) as f_err:
            return code, f_out.read(), f_err.read()

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


CLI = CliRunner()


@pytest.fixture(scope='session', autouse=True)
def _stop_cli_runner():
    yield
    CLI.close()


class ServerExited(AssertionError):
    """onestack serve exited before it answered /healthcheck."""


class Cloud:
    """One onestack process: its URLs, admin credentials and helpers."""

    def __init__(self, root, extra_config='', hash_rounds=4):
        self.binary = onestack_binary()
        self.root = root
        self.data_dir = os.path.join(root, 'data')
        self.config_file = os.path.join(root, 'onestack.conf')
        self.log_path = os.path.join(root, 'onestack.log')
        self.port = free_port()
        self.base_url = 'http://127.0.0.1:%d' % self.port
        self.auth_url = self.base_url + '/v3'
        self.object_port = free_port()
        while self.object_port == self.port:
            self.object_port = free_port()
        # The object-store listener: /info and /v1/AUTH_<project id>/...
        self.object_base_url = 'http://127.0.0.1:%d' % self.object_port
        self._admin_project_id = None
        self.username = 'admin'
        self.password = ADMIN_PASSWORD
        self.project_name = 'admin'
        self.user_domain_name = 'Default'
        self.project_domain_name = 'Default'
        self.region = REGION
        self.proc = None
        self._log = None
        self._admin_token = None
        self.http = requests.Session()
        os.makedirs(self.data_dir)
        with open(self.config_file, 'w') as f:
            f.write('[identity]\nbind_host = 127.0.0.1\nbind_port = %d\n'
                    'password_hash_rounds = %d\n' % (self.port, hash_rounds))
            # A short reaper interval so expired objects leave listings
            # within a test's patience; extra_config may override it.
            f.write('[object]\nbind_host = 127.0.0.1\nbind_port = %d\n'
                    'reaper_interval_ms = 200\n' % self.object_port)
            f.write(extra_config)
        ini = configparser.ConfigParser(strict=False, interpolation=None)
        ini.read(self.config_file)
        self.object_enabled = ini.getboolean('object', 'enabled', fallback=True)

    # -- process lifecycle -------------------------------------------------

    def bootstrap(self):
        proc = subprocess.run(
            [self.binary, 'bootstrap', '--config-file', self.config_file,
             '--data-dir', self.data_dir,
             '--bootstrap-password', self.password,
             '--bootstrap-username', self.username,
             '--bootstrap-project-name', self.project_name,
             '--bootstrap-region-id', self.region],
            capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, 'bootstrap failed (%d): %s%s' % (
            proc.returncode, proc.stdout, proc.stderr)

    def start(self, timeout=30):
        self.http = requests.Session()
        self._log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(
            [self.binary, 'serve', '--config-file', self.config_file,
             '--data-dir', self.data_dir],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerExited('onestack exited with %d before ready:\n%s'
                                     % (self.proc.returncode, self.log_tail()))
            try:
                r = requests.get(self.base_url + '/healthcheck', timeout=1)
                if r.status_code == 200 and self._object_ready():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError('onestack not healthy within %ds:\n%s'
                             % (timeout, self.log_tail()))

    def _object_ready(self):
        """Whether the object-store listener answers (always, when disabled)."""
        if not self.object_enabled:
            return True
        r = requests.get(self.object_base_url + '/info', timeout=1)
        return r.status_code == 200

    def stop(self, timeout=15):
        """SIGTERM by PID; returns the exit status (kills after `timeout`)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError('onestack ignored SIGTERM for %ds:\n%s'
                                     % (timeout, self.log_tail()))
        self._close_log()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close_log()

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None
        self.http.close()

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return '(no log)'

    def onestack(self, *args, check=True):
        """Runs another onestack subcommand (e.g. fernet-rotate)."""
        proc = subprocess.run([self.binary, *args], capture_output=True,
                              text=True, timeout=60)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    # -- clients -------------------------------------------------------------

    def env(self, **overrides):
        """OS_* variables for the openstack CLI as the bootstrap admin."""
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update({
            'OS_AUTH_URL': self.auth_url,
            'OS_USERNAME': self.username,
            'OS_PASSWORD': self.password,
            'OS_PROJECT_NAME': self.project_name,
            'OS_USER_DOMAIN_NAME': self.user_domain_name,
            'OS_PROJECT_DOMAIN_NAME': self.project_domain_name,
            'OS_IDENTITY_API_VERSION': '3',
            'OS_INTERFACE': 'public',
            'OS_REGION_NAME': self.region,
        })
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def openstack(self, *args, env=None, json_output=None, timeout=60):
        """Runs the openstack CLI; returns parsed JSON (or stdout text).

        `-f json` is added when the command's verb supports it, unless
        json_output says otherwise. Raises CliError on a non-zero exit.
        """
        args = [str(a) for a in args]
        if json_output is None:
            words = [a for a in args if not a.startswith('-')]
            json_output = any(w in _FORMATTED_VERBS for w in words[:4])
        cmd = args + (['-f', 'json'] if json_output else [])
        code, out, err = CLI.run(cmd, env if env is not None else self.env(),
                                 timeout)
        if code != 0:
            raise CliError(cmd, code, out, err)
        if json_output:
            return json.loads(out)
        return out

    def issue_token(self, username=None, password=None, project=None,
                    project_id=None, domain='default', system=False):
        """Password auth through the API; returns (token, token body)."""
        user = {'password': password or self.password,
                'domain': {'id': domain}}
        if username is None:
            user['name'] = self.username
        elif len(username) == 32 and all(c in '0123456789abcdef' for c in username):
            user['id'] = username
            user.pop('domain')
        else:
            user['name'] = username
        body = {'auth': {'identity': {'methods': ['password'],
                                      'password': {'user': user}}}}
        if project_id:
            body['auth']['scope'] = {'project': {'id': project_id}}
        elif project:
            body['auth']['scope'] = {'project': {'name': project,
                                                 'domain': {'id': domain}}}
        elif system:
            body['auth']['scope'] = {'system': {'all': True}}
        r = self.http.post(self.auth_url + '/auth/tokens', json=body, timeout=30)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.headers['X-Subject-Token'], r.json()['token']

    def admin_token(self):
        if self._admin_token is None:
            self._admin_token = self.issue_token(project=self.project_name)[0]
        return self._admin_token

    def request(self, method, path, token=None, admin=False, **kwargs):
        """One HTTP request to the cloud; `path` is relative to the base URL."""
        headers = dict(kwargs.pop('headers', {}) or {})
        if admin:
            token = self.admin_token()
        if token is not None:
            headers['X-Auth-Token'] = token
        kwargs.setdefault('timeout', 30)
        return self.http.request(method, self.base_url + path,
                                 headers=headers, **kwargs)

    def create(self, collection, body, token=None):
        """POST /v3/<collection> as admin (or `token`); returns the entity."""
        key = collection[:-1]
        r = self.request('POST', '/v3/' + collection, token=token,
                         admin=token is None, json={key: body})
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()[key]

    def role_id(self, name):
        r = self.request('GET', '/v3/roles?name=' + name, admin=True)
        assert r.status_code == 200, r.text
        roles = r.json()['roles']
        assert len(roles) == 1, roles
        return roles[0]['id']

    def grant(self, project_id, user_id, role):
        r = self.request('PUT', '/v3/projects/%s/users/%s/roles/%s' % (
            project_id, user_id, self.role_id(role)), admin=True)
        assert r.status_code == 204, (r.status_code, r.text)

    def new_project(self, **fields):
        fields.setdefault('name', unique('proj'))
        fields.setdefault('domain_id', 'default')
        return self.create('projects', fields)

    def new_user(self, password=None, **fields):
        password = password or 'pw-' + uuid.uuid4().hex
        fields.setdefault('name', unique('user'))
        fields.setdefault('domain_id', 'default')
        fields['password'] = password
        user = self.create('users', fields)
        user['password'] = password
        return user

    # -- object storage ------------------------------------------------------

    def admin_project_id(self):
        if self._admin_project_id is None:
            _, body = self.issue_token(project=self.project_name)
            self._admin_project_id = body['project']['id']
        return self._admin_project_id

    def account_path(self, project_id=None):
        """'/v1/AUTH_<project id>' (the admin project's by default)."""
        return '/v1/AUTH_' + (project_id or self.admin_project_id())

    def object_url(self, project_id=None):
        """The storage URL the catalog gives for `project_id`'s account."""
        return self.object_base_url + self.account_path(project_id)

    def swift(self, method, path, token=None, admin=False, **kwargs):
        """One request to the object store; `path` is relative to its base URL
        ('/info', '/v1/AUTH_.../c/o'). No token unless given (or `admin`)."""
        headers = dict(kwargs.pop('headers', {}) or {})
        if admin:
            token = self.admin_token()
        if token is not None:
            headers['X-Auth-Token'] = token
        kwargs.setdefault('timeout', 60)
        return self.http.request(method, self.object_base_url + path,
                                 headers=headers, **kwargs)

    def swift_env(self, **overrides):
        """OS_* variables for the `swift` CLI (Keystone v3) as the admin."""
        env = self.env(**overrides)
        env.pop('OS_IDENTITY_API_VERSION', None)
        env['OS_AUTH_VERSION'] = env.get('OS_AUTH_VERSION', '3')
        return env

    def object_user(self, role='member', project=None):
        """A new user with `role` on a project (a new one unless given);
        returns a dict with user, password, project, project_id, token and
        account (the account path)."""
        project = project or self.new_project()
        user = self.new_user()
        if role:
            self.grant(project['id'], user['id'], role)
        out = {'user': user, 'password': user['password'], 'project': project,
               'project_id': project['id'],
               'account': self.account_path(project['id'])}
        if role:
            out['token'] = self.issue_token(user['id'], user['password'],
                                            project_id=project['id'])[0]
        return out

    def ensure_role(self, name):
        """The id of role `name`, created when missing."""
        r = self.request('GET', '/v3/roles?name=' + name, admin=True)
        assert r.status_code == 200, r.text
        roles = r.json()['roles']
        if roles:
            return roles[0]['id']
        return self.create('roles', {'name': name})['id']


# The first line of a sanitizer report in a server's log: ASan's and LSan's
# "==PID==ERROR: ...Sanitizer" header, UBSan's "file:line:col: runtime error:"
# (with -fno-sanitize-recover it aborts right after that line).
_SANITIZER_REPORT = re.compile(
    r'^==\d+==ERROR: \w+Sanitizer|^\S+:\d+:\d+: runtime error: '
    r'|^SUMMARY: \w+Sanitizer', re.MULTILINE)


def sanitizer_report(log_path, lines=80):
    """The start of the first sanitizer report in a log file, or None."""
    try:
        with open(log_path, errors='replace') as f:
            text = f.read()
    except OSError:
        return None
    m = _SANITIZER_REPORT.search(text)
    if m is None:
        return None
    return '\n'.join(text[m.start():].splitlines()[:lines])


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:12])


def launch(extra_config='', hash_rounds=4):
    """Bootstraps and starts a cloud in a fresh temp dir; returns it started.

    `extra_config` is appended to the INI file after its [identity] section.
    """
    for attempt in range(3):
        root = tempfile.mkdtemp(prefix='onestack-api-')
        cloud = Cloud(root, extra_config, hash_rounds)
        try:
            cloud.bootstrap()
            cloud.start()
            return cloud
        except ServerExited:
            # The failure message holds the log's tail; the directory goes.
            cloud.kill()
            shutil.rmtree(root, ignore_errors=True)
            # The free port may have been taken between our probe and the
            # server's bind: try another one.
            if attempt == 2:
                raise
        except BaseException:
            cloud.kill()
            shutil.rmtree(root, ignore_errors=True)
            raise


def shut_down(cloud):
    """Stops a cloud by PID and asserts it ended gracefully, left no
    sanitizer report in its log and let go of its port."""
    try:
        code = cloud.stop()
    finally:
        cloud.kill()
    report = sanitizer_report(cloud.log_path)
    assert report is None, 'sanitizer report in onestack\'s log (%s):\n%s' % (
        cloud.log_path, report)
    assert code == 0, 'onestack exited %s after SIGTERM:\n%s' % (
        code, cloud.log_tail())
    assert cloud.proc.poll() is not None
    assert not port_open(cloud.port), 'port %d still listening' % cloud.port
    assert not port_open(cloud.object_port), (
        'object port %d still listening' % cloud.object_port)
    shutil.rmtree(cloud.root, ignore_errors=True)


@pytest.fixture(scope='session')
def cloud():
    """The shared cloud for tests that leave it as they found it."""
    c = launch()
    try:
        yield c
    finally:
        shut_down(c)


@pytest.fixture
def new_cloud():
    """A factory of private clouds (own config), all stopped at teardown."""
    started = []

    def make(extra_config='', hash_rounds=4):
        c = launch(extra_config, hash_rounds)
        started.append(c)
        return c

    yield make
    errors = []
    for c in started:
        try:
            shut_down(c)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, errors
