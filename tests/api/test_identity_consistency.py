"""Read-your-writes in identity on one node (SQLite); the two-node run on
PostgreSQL is in test_cluster.py. See identity_consistency.py."""
from identity_consistency import run_cycles


def test_login_sees_every_acknowledged_grant_and_no_revoked_role(cloud):
    failures = run_cycles(cloud, cloud, cycles=200)
    assert not failures, '%d of 200 cycles failed; first: %s' % (
        len(failures), failures[0])
