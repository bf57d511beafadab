"""SIGTERM drains: requests in flight finish, then the process exits 0."""

import signal
import threading
import time

import requests

from conftest import port_open

CONCURRENT = 6


def test_sigterm_lets_in_flight_requests_finish(new_cloud):
    # Costly password hashes keep each token issue busy for a while, so the
    # requests are still being worked on when the signal arrives.
    cloud = new_cloud(hash_rounds=12)
    body = {'auth': {'identity': {'methods': ['password'], 'password': {
        'user': {'name': cloud.username, 'domain': {'id': 'default'},
                 'password': cloud.password}}}}}
    start = time.monotonic()
    r = requests.post(cloud.auth_url + '/auth/tokens', json=body, timeout=30)
    assert r.status_code == 201
    one_request = time.monotonic() - start

    results = [None] * CONCURRENT
    barrier = threading.Barrier(CONCURRENT + 1)

    def issue(i):
        barrier.wait()
        try:
            # A fresh connection per request: nothing idle to be closed.
            resp = requests.post(cloud.auth_url + '/auth/tokens', json=body,
                                 timeout=60, headers={'Connection': 'close'})
            results[i] = resp.status_code
        except requests.RequestException as e:
            results[i] = repr(e)

    threads = [threading.Thread(target=issue, args=(i,), daemon=True)
               for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    barrier.wait()
    time.sleep(min(0.3, one_request / 2))  # all connected, none finished
    cloud.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    for t in threads:
        t.join(timeout=60)
    assert results == [201] * CONCURRENT, (results, cloud.log_tail())

    code = cloud.proc.wait(timeout=30)
    took = time.monotonic() - signalled
    assert code == 0, cloud.log_tail()
    assert took < 5 + CONCURRENT * one_request, took
    assert not port_open(cloud.port)
    # Every request that was answered was logged before the exit.
    with open(cloud.log_path, errors='replace') as f:
        log = f.read()
    assert log.count('/v3/auth/tokens') >= CONCURRENT + 1, log[-3000:]
