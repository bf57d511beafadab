"""Uploads many small objects into one container, over keep-alive
connections from several threads (the benchmark's set-up, not measured).

Usage: python3 object_fill.py URL_BASE TOKEN CONTAINER COUNT FILE [THREADS]
  URL_BASE  http://HOST:PORT/v1/AUTH_<project_id>
  objects are named obj-00000 .. obj-<COUNT-1>, each with FILE's bytes.
Prints "uploaded=N seconds=S"; exits 1 on the first answer that is not 2xx.
"""
import http.client
import sys
import threading
import time
import urllib.parse


def name(i):
    return "obj-%05d" % i


def upload(host, port, path, token, body, indexes, errors):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"X-Auth-Token": token,
               "Content-Type": "application/octet-stream"}
    for i in indexes:
        if errors:
            return
        for attempt in range(3):
            try:
                conn.request("PUT", f"{path}/{name(i)}", body=body,
                             headers=headers)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                if attempt == 2:
                    errors.append(f"{name(i)}: {e}")
                    return
                continue
            if resp.status // 100 == 2:
                break
            if resp.status == 503 and attempt < 2:
                time.sleep(0.5)
                continue
            errors.append(f"{name(i)}: HTTP {resp.status}")
            return
    conn.close()


def main():
    if len(sys.argv) < 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    url_base, token, container = sys.argv[1], sys.argv[2], sys.argv[3]
    count = int(sys.argv[4])
    with open(sys.argv[5], "rb") as f:
        body = f.read()
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 16
    url = urllib.parse.urlsplit(url_base)
    path = url.path.rstrip("/") + "/" + urllib.parse.quote(container)
    errors = []
    start = time.monotonic()
    workers = [threading.Thread(
        target=upload,
        args=(url.hostname, url.port or 80, path, token, body,
              range(t, count, threads), errors)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        print("upload failed: " + errors[0], file=sys.stderr)
        sys.exit(1)
    print("uploaded=%d seconds=%.1f" % (count, time.monotonic() - start))


if __name__ == "__main__":
    main()
