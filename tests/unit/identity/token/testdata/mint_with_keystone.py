#!/usr/bin/python3
"""Regenerates the Keystone-minted Fernet token fixtures in this directory.

Runs with Debian's python3-keystone (`apt-get install -y python3-keystone`,
then `/usr/bin/python3 mint_with_keystone.py`). It builds a key repository with
keystone's own FernetUtils (setup, then one rotation, so tokens exist under
both a secondary and the primary key), mints tokens of each supported scope
with keystone's own TokenFormatter, and writes:

  keystone_keys/            the key repository (files 0, 1, 2)
  keystone_tokens.json      each token, the msgpack plaintext keystone sealed in
                            it, and the fields keystone decodes from it

The unit tests check that onestack decodes every token to those fields and
encodes the same fields to the same plaintext bytes.
"""

import base64
import json
import os
import shutil
import struct
import sys

import msgpack

import keystone.conf
from keystone.common import fernet_utils
from keystone.token import token_formatters as tf

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_DIR = os.path.join(HERE, 'keystone_keys')
OUT = os.path.join(HERE, 'keystone_tokens.json')

USER = '0123456789abcdef0123456789abcdef'
PROJECT = 'fedcba9876543210fedcba9876543210'
DOMAIN = '11112222333344445555666677778888'
APP_CRED = 'abcdefabcdefabcdefabcdefabcdef12'
AUDIT = 'cXVpY2sgYnJvd24gZm94IQ'
PARENT_AUDIT = 'AAECAwQFBgcICQoLDA0ODw'
FUTURE = '2031-05-06T07:08:09.123456Z'
PAST = '2001-02-03T04:05:06.000000Z'

# name, payload class, scope name, create_token keyword arguments
CASES = [
    ('unscoped', tf.UnscopedPayload, 'unscoped',
     dict(user_id=USER, methods=['password'], expires_at=FUTURE,
          audit_ids=[AUDIT])),
    ('unscoped_expired', tf.UnscopedPayload, 'unscoped',
     dict(user_id=USER, methods=['password'], expires_at=PAST,
          audit_ids=[AUDIT])),
    ('domain_uuid', tf.DomainScopedPayload, 'domain',
     dict(user_id=USER, methods=['password'], expires_at=FUTURE,
          audit_ids=[AUDIT], domain_id=DOMAIN)),
    ('domain_default', tf.DomainScopedPayload, 'domain',
     dict(user_id=USER, methods=['password'], expires_at=FUTURE,
          audit_ids=[AUDIT], domain_id='default')),
    ('project', tf.ProjectScopedPayload, 'project',
     dict(user_id=USER, methods=['password'], expires_at=FUTURE,
          audit_ids=[AUDIT], project_id=PROJECT)),
    ('project_rescoped', tf.ProjectScopedPayload, 'project',
     dict(user_id=USER, methods=['password', 'token'], expires_at=FUTURE,
          audit_ids=[AUDIT, PARENT_AUDIT], project_id=PROJECT)),
    ('project_non_uuid_ids', tf.ProjectScopedPayload, 'project',
     dict(user_id='ldap-jdoe', methods=['external', 'ec2credential'],
          expires_at=PAST, audit_ids=[AUDIT], project_id='admin-project')),
    ('system', tf.SystemScopedPayload, 'system',
     dict(user_id=USER, methods=['password'], expires_at=FUTURE,
          audit_ids=[AUDIT], system='all')),
    ('application_credential', tf.ApplicationCredentialScopedPayload,
     'application_credential',
     dict(user_id=USER, methods=['application_credential'],
          expires_at=FUTURE, audit_ids=[AUDIT], project_id=PROJECT,
          app_cred_id=APP_CRED)),
]


def mint(formatter, key_index, out):
    for name, payload_class, scope, kwargs in CASES:
        args = dict(kwargs)
        token = formatter.create_token(
            args.pop('user_id'), args.pop('expires_at'), args.pop('audit_ids'),
            payload_class, **args)
        plaintext = formatter.unpack(token)
        fields = msgpack.unpackb(plaintext)
        (user_id, methods, audit_ids, system, domain_id, project_id, _trust,
         _groups, _idp, _protocol, _access, app_cred_id, issued_at,
         expires_at) = formatter.validate_token(token)
        out.append({
            'name': '%s_key%d' % (name, key_index),
            'token': token,
            'signed_with_key': key_index,
            'plaintext_hex': plaintext.hex(),
            'expected': {
                'user_id': user_id,
                'methods': methods,
                'scope': scope,
                'project_id': project_id or '',
                'domain_id': domain_id or '',
                'system': system or '',
                'app_cred_id': app_cred_id or '',
                # the float exactly as packed (keystone decodes it to a
                # string precise to the second, also recorded)
                'expires_at': fields[3 if scope == 'unscoped' else 4],
                'audit_ids': audit_ids,
                'issued_at': fernet_timestamp(token),
                'keystone_issued_at': issued_at,
                'keystone_expires_at': expires_at,
            },
        })


def fernet_timestamp(token):
    raw = base64.urlsafe_b64decode(tf.TokenFormatter.restore_padding(token))
    return struct.unpack('>Q', raw[1:9])[0]


def main():
    conf = keystone.conf.CONF
    keystone.conf.configure(conf)
    conf([], project='keystone', default_config_files=[])
    conf.set_override('key_repository', KEY_DIR, group='fernet_tokens')
    conf.set_override('max_active_keys', 3, group='fernet_tokens')

    shutil.rmtree(KEY_DIR, ignore_errors=True)
    os.makedirs(KEY_DIR, 0o700)
    keys = fernet_utils.FernetUtils(KEY_DIR, 3, 'fernet_tokens')
    keys.initialize_key_repository()  # 0 (staged), 1 (primary)

    formatter = tf.TokenFormatter()
    tokens = []
    mint(formatter, 1, tokens)
    keys.rotate_keys()  # 0 (staged), 1 (secondary), 2 (primary)
    mint(formatter, 2, tokens)

    with open(OUT, 'w') as f:
        json.dump({'auth_methods': list(conf.auth.methods), 'tokens': tokens},
                  f, indent=2, sort_keys=True)
        f.write('\n')
    print('wrote %d tokens to %s' % (len(tokens), OUT), file=sys.stderr)


if __name__ == '__main__':
    main()
