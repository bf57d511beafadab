"""Read-your-writes in identity, as a new user tries it.

One cycle: create a user, change its password (which revokes its tokens),
grant it a role on a project, log in to that project with the new password;
then remove the role and log in again. Every write has answered before the
next request is sent, so the first login must see the grant and the second
must not see the role. `writer` and `reader` may be two nodes of one
cluster: what the first acknowledged, the second must already know.

Cycles run from several threads at once, as the failure was first seen.
"""
import concurrent.futures
import uuid

import requests


def _token(cloud):
    return cloud.admin_token()


def _login(node, user_id, password, project_id):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'id': user_id, 'password': password}}},
        'scope': {'project': {'id': project_id}}}}
    return requests.post(node.auth_url + '/auth/tokens', json=body, timeout=30)


def _cycle(writer, reader, admin, project_id, role_id, role_name):
    """One cycle; returns a description of what went wrong, or None."""
    hdr = {'X-Auth-Token': admin}
    base = writer.base_url + '/v3'
    r = requests.post(base + '/users', headers=hdr, timeout=30, json={'user': {
        'name': 'ryw-' + uuid.uuid4().hex[:12], 'domain_id': 'default',
        'password': 'first-' + uuid.uuid4().hex}})
    if r.status_code != 201:
        return 'create user: %d %s' % (r.status_code, r.text)
    user_id = r.json()['user']['id']
    password = 'second-' + uuid.uuid4().hex
    r = requests.patch(base + '/users/' + user_id, headers=hdr, timeout=30,
                       json={'user': {'password': password}})
    if r.status_code != 200:
        return 'change password: %d %s' % (r.status_code, r.text)
    grant = base + '/projects/%s/users/%s/roles/%s' % (project_id, user_id, role_id)
    r = requests.put(grant, headers=hdr, timeout=30)
    if r.status_code != 204:
        return 'grant: %d %s' % (r.status_code, r.text)
    r = _login(reader, user_id, password, project_id)
    if r.status_code != 201:
        return 'login after the grant: %d %s' % (r.status_code, r.text)
    roles = [x['name'] for x in r.json()['token'].get('roles', [])]
    if role_name not in roles:
        return 'login after the grant lacks the role: %s' % roles
    token = r.headers['X-Subject-Token']
    r = requests.delete(grant, headers=hdr, timeout=30)
    if r.status_code != 204:
        return 'revoke: %d %s' % (r.status_code, r.text)
    r = _login(reader, user_id, password, project_id)
    if r.status_code != 401:
        return 'login after the revoke: %d %s' % (r.status_code, r.text)
    # The token issued before the revoke loses the role at once too.
    r = requests.get(reader.auth_url + '/auth/tokens', timeout=30,
                     headers={'X-Auth-Token': admin, 'X-Subject-Token': token})
    if r.status_code != 404:
        return 'token after the revoke validates: %d %s' % (r.status_code, r.text)
    r = requests.delete(base + '/users/' + user_id, headers=hdr, timeout=30)
    if r.status_code != 204:
        return 'delete user: %d %s' % (r.status_code, r.text)
    return None


def run_cycles(writer, reader, cycles, threads=8):
    """Runs `cycles` cycles from `threads` threads; returns the failures."""
    admin = writer.admin_token()
    project_id = writer.new_project()['id']
    role_id = writer.role_id('member')
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(
            lambda _: _cycle(writer, reader, admin, project_id, role_id, 'member'),
            range(cycles)))
    return [r for r in results if r is not None]
