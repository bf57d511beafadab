"""Runs `openstack` CLI commands with the client's imports already loaded.

/usr/bin/openstack is `sys.exit(openstackclient.shell.main())`; importing
the client costs well over a second per command. This server imports it once
and forks a child per command, so each command still runs the CLI's own entry
point in a fresh process (its own environment, argv, stdout and stderr) but
without paying the import again.

Protocol: one JSON object per line on stdin,
  {"argv": [...], "env": {...}, "stdout": PATH, "stderr": PATH}
answered by one line on stdout: {"returncode": N}. EOF ends the server.
Run with /usr/bin/python3 (Debian's python3-openstackclient).
"""

import json
import os
import sys

from openstackclient import shell
# The identity commands the tests use, so children do not import them again.
import openstackclient.identity.v3.application_credential  # noqa: F401
import openstackclient.identity.v3.catalog  # noqa: F401
import openstackclient.identity.v3.domain  # noqa: F401
import openstackclient.identity.v3.endpoint  # noqa: F401
import openstackclient.identity.v3.group  # noqa: F401
import openstackclient.identity.v3.project  # noqa: F401
import openstackclient.identity.v3.region  # noqa: F401
import openstackclient.identity.v3.role  # noqa: F401
import openstackclient.identity.v3.role_assignment  # noqa: F401
import openstackclient.identity.v3.service  # noqa: F401
import openstackclient.identity.v3.token  # noqa: F401
import openstackclient.identity.v3.user  # noqa: F401
import keystoneclient.v3.client  # noqa: F401


def run_child(request):
    out = os.open(request['stdout'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(request['stderr'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.environ.clear()
    os.environ.update(request['env'])
    sys.argv = ['openstack'] + request['argv']
    code = 1
    try:
        code = shell.main(request['argv'])
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: B902 - report anything, as the CLI would
        import traceback
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code or 0)


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            run_child(request)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        sys.stdout.write(json.dumps({'returncode': code}) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
