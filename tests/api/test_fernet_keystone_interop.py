"""onestack's Fernet tokens and Keystone's are interchangeable.

Tokens minted by onestack (through tests/support/fernet_tool, located by the
ONESTACK_FERNET_TOOL environment variable) are decoded by Keystone's own
TokenFormatter from Debian's python3-keystone, and the other way round, over
one key repository; key repositories written and rotated by either side have
the same layout.

Run with Debian's interpreter: /usr/bin/python3 -m pytest tests/api
"""

import datetime
import json
import os
import stat
import subprocess

import msgpack
import pytest

import keystone.conf
from keystone.common import fernet_utils
from keystone.token import token_formatters as tf

USER = '0123456789abcdef0123456789abcdef'
PROJECT = 'fedcba9876543210fedcba9876543210'
DOMAIN = '11112222333344445555666677778888'
APP_CRED = 'abcdefabcdefabcdefabcdefabcdef12'
AUDIT = 'cXVpY2sgYnJvd24gZm94IQ'
PARENT_AUDIT = 'AAECAwQFBgcICQoLDA0ODw'
FUTURE = 1935817689.123456  # 2031-05-06T07:08:09.123456Z
PAST = 981173106.0          # 2001-02-03T04:05:06Z

CONF = keystone.conf.CONF


@pytest.fixture(scope='module', autouse=True)
def keystone_conf():
    keystone.conf.configure(CONF)
    CONF([], project='keystone', default_config_files=[])
    yield
    CONF.reset()


@pytest.fixture(scope='module')
def tool():
    path = os.environ.get('ONESTACK_FERNET_TOOL')
    if not path or not os.access(path, os.X_OK):
        pytest.fail('set ONESTACK_FERNET_TOOL to the built fernet_tool '
                    '(build/<dir>/tests/unit/identity/token/fernet_tool); '
                    'got %r' % (path,))
    return path


def run(tool, *args):
    proc = subprocess.run([tool, *args], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def keystone_formatter(key_dir):
    CONF.set_override('key_repository', str(key_dir), group='fernet_tokens')
    return tf.TokenFormatter()


def keystone_time(unix):
    # Keystone's isotime(subsecond=True): microseconds shown, always zero.
    at = datetime.datetime.utcfromtimestamp(unix)
    return at.strftime('%Y-%m-%dT%H:%M:%S') + '.000000Z'


# name, fernet_tool issue arguments, fields keystone must decode
CASES = [
    ('unscoped',
     ['--scope', 'unscoped', '--user-id', USER, '--methods', 'password',
      '--expires-at', repr(FUTURE), '--audit-id', AUDIT],
     dict(user_id=USER, methods=['password'], expires_at=FUTURE)),
    ('unscoped_expired',
     ['--scope', 'unscoped', '--user-id', USER, '--methods', 'password',
      '--expires-at', repr(PAST), '--audit-id', AUDIT],
     dict(user_id=USER, methods=['password'], expires_at=PAST)),
    ('domain',
     ['--scope', 'domain', '--user-id', USER, '--domain-id', DOMAIN,
      '--expires-at', repr(FUTURE), '--audit-id', AUDIT],
     dict(user_id=USER, methods=['password'], domain_id=DOMAIN,
          expires_at=FUTURE)),
    ('domain_default',
     ['--scope', 'domain', '--user-id', USER, '--domain-id', 'default',
      '--expires-at', repr(FUTURE), '--audit-id', AUDIT],
     dict(user_id=USER, methods=['password'], domain_id='default',
          expires_at=FUTURE)),
    ('project',
     ['--scope', 'project', '--user-id', USER, '--project-id', PROJECT,
      '--expires-at', repr(FUTURE), '--audit-id', AUDIT],
     dict(user_id=USER, methods=['password'], project_id=PROJECT,
          expires_at=FUTURE)),
    ('project_rescoped_non_uuid_user',
     ['--scope', 'project', '--user-id', 'ldap-jdoe',
      '--project-id', 'admin-project', '--methods', 'password,token',
      '--expires-at', repr(FUTURE), '--audit-id', AUDIT,
      '--audit-id', PARENT_AUDIT],
     dict(user_id='ldap-jdoe', methods=['token', 'password'],
          project_id='admin-project', expires_at=FUTURE,
          audit_ids=[AUDIT, PARENT_AUDIT])),
    ('system',
     ['--scope', 'system', '--user-id', USER, '--system', 'all',
      '--methods', 'external,ec2credential',
      '--expires-at', repr(FUTURE), '--audit-id', AUDIT],
     dict(user_id=USER, methods=['ec2credential', 'external'], system='all',
          expires_at=FUTURE)),
    ('application_credential',
     ['--scope', 'application_credential', '--user-id', USER,
      '--project-id', PROJECT, '--app-cred-id', APP_CRED,
      '--methods', 'application_credential',
      '--expires-at', repr(FUTURE), '--audit-id', AUDIT],
     dict(user_id=USER, methods=['application_credential'],
          project_id=PROJECT, app_cred_id=APP_CRED, expires_at=FUTURE)),
]


@pytest.mark.parametrize('name,args,want', CASES, ids=[c[0] for c in CASES])
def test_keystone_decodes_a_token_onestack_minted(tool, tmp_path, name, args,
                                                  want):
    key_dir = tmp_path / 'keys'
    run(tool, 'setup', '--key-dir', str(key_dir))
    token = run(tool, 'issue', '--key-dir', str(key_dir), '--now',
                '1700000000', *args)
    assert '=' not in token

    formatter = keystone_formatter(key_dir)
    (user_id, methods, audit_ids, system, domain_id, project_id, trust_id,
     _groups, _idp, _protocol, _access, app_cred_id, issued_at,
     expires_at) = formatter.validate_token(token)

    assert user_id == want['user_id']
    assert methods == want['methods']
    assert audit_ids == want.get('audit_ids', [AUDIT])
    assert system == want.get('system')
    assert domain_id == want.get('domain_id')
    assert project_id == want.get('project_id')
    assert app_cred_id == want.get('app_cred_id')
    assert trust_id is None
    assert issued_at == '2023-11-14T22:13:20.000000Z'
    assert expires_at == keystone_time(want['expires_at'])
    # the float itself survives exactly
    fields = msgpack.unpackb(formatter.unpack(token))
    assert want['expires_at'] in fields


def keystone_setup(key_dir, max_active_keys=3):
    ks = fernet_utils.FernetUtils(str(key_dir), max_active_keys,
                                  'fernet_tokens')
    ks.create_key_directory()
    ks.initialize_key_repository()
    return ks


def keystone_mint(key_dir, payload_class, **kwargs):
    formatter = keystone_formatter(key_dir)
    return formatter.create_token(
        kwargs.pop('user_id'), kwargs.pop('expires_at'),
        kwargs.pop('audit_ids'), payload_class, **kwargs)


KEYSTONE_CASES = [
    ('unscoped', tf.UnscopedPayload, dict(), 'unscoped'),
    ('domain', tf.DomainScopedPayload, dict(domain_id=DOMAIN), 'domain'),
    ('project', tf.ProjectScopedPayload, dict(project_id=PROJECT), 'project'),
    ('system', tf.SystemScopedPayload, dict(system='all'), 'system'),
    ('application_credential', tf.ApplicationCredentialScopedPayload,
     dict(project_id=PROJECT, app_cred_id=APP_CRED),
     'application_credential'),
]


@pytest.mark.parametrize('name,payload_class,extra,scope', KEYSTONE_CASES,
                         ids=[c[0] for c in KEYSTONE_CASES])
def test_onestack_decodes_a_token_keystone_minted(tool, tmp_path, name,
                                                  payload_class, extra, scope):
    key_dir = tmp_path / 'keys'
    keystone_setup(key_dir)
    token = keystone_mint(key_dir, payload_class, user_id=USER,
                          expires_at='2031-05-06T07:08:09.123456Z',
                          audit_ids=[AUDIT], methods=['password'], **extra)
    got = json.loads(run(tool, 'validate', '--key-dir', str(key_dir), token))
    assert got['user_id'] == USER
    assert got['methods'] == ['password']
    assert got['scope'] == scope
    assert got['project_id'] == extra.get('project_id', '')
    assert got['domain_id'] == extra.get('domain_id', '')
    assert got['system'] == extra.get('system', '')
    assert got['app_cred_id'] == extra.get('app_cred_id', '')
    assert got['expires_at'] == FUTURE
    assert got['audit_ids'] == [AUDIT]
    assert keystone_time(got['issued_at']) == \
        keystone_formatter(key_dir).validate_token(token)[12]


def test_onestack_rejects_a_tampered_keystone_token(tool, tmp_path):
    key_dir = tmp_path / 'keys'
    keystone_setup(key_dir)
    token = keystone_mint(key_dir, tf.UnscopedPayload, user_id=USER,
                          expires_at='2031-05-06T07:08:09Z',
                          audit_ids=[AUDIT], methods=['password'])
    bad = token[:40] + ('A' if token[40] != 'A' else 'B') + token[41:]
    proc = subprocess.run([tool, 'validate', '--key-dir', str(key_dir), bad],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert 'unauthenticated' in proc.stderr


def listing(key_dir):
    return sorted(os.listdir(key_dir), key=int)


@pytest.mark.parametrize('max_active_keys', [1, 2, 3, 5])
def test_key_repository_layout_matches_keystone(tool, tmp_path,
                                                max_active_keys):
    ours = tmp_path / 'ours'
    theirs = tmp_path / 'theirs'
    run(tool, 'setup', '--key-dir', str(ours), '--max-active-keys',
        str(max_active_keys))
    ks = keystone_setup(theirs, max_active_keys)
    assert listing(ours) == listing(theirs)
    assert listing(ours) == (['0'] if max_active_keys == 1 else ['0', '1'])
    for _ in range(6):
        run(tool, 'rotate', '--key-dir', str(ours), '--max-active-keys',
            str(max_active_keys))
        ks.rotate_keys()
        assert listing(ours) == listing(theirs)
    assert stat.S_IMODE(os.stat(ours).st_mode) == 0o700
    for name in listing(ours):
        assert stat.S_IMODE(os.stat(ours / name).st_mode) == 0o600
        assert len((ours / name).read_text()) == 44


def test_rotation_by_either_side_keeps_tokens_flowing(tool, tmp_path):
    key_dir = tmp_path / 'keys'
    run(tool, 'setup', '--key-dir', str(key_dir))
    ks = fernet_utils.FernetUtils(str(key_dir), 3, 'fernet_tokens')
    assert len(ks.load_keys()) == 2

    def issue():
        return run(tool, 'issue', '--key-dir', str(key_dir), '--user-id',
                   USER, '--expires-at', repr(FUTURE), '--audit-id', AUDIT)

    before = issue()
    ks.rotate_keys()          # keystone rotates onestack's repository
    after_keystone = issue()  # now signed with key 2
    run(tool, 'rotate', '--key-dir', str(key_dir))
    after_ours = issue()      # key 3; key 1 dropped (max 3)
    assert listing(key_dir) == ['0', '2', '3']

    formatter = keystone_formatter(key_dir)
    for token in (after_keystone, after_ours):
        assert formatter.validate_token(token)[0] == USER
        run(tool, 'validate', '--key-dir', str(key_dir), token)
    with pytest.raises(keystone.exception.ValidationError):
        formatter.validate_token(before)
    proc = subprocess.run([tool, 'validate', '--key-dir', str(key_dir),
                           before], capture_output=True, timeout=30)
    assert proc.returncode == 1
