"""Durable small-file creation rate of a filesystem: the bound of a
file-per-object store's 4 KiB PUT rate on that disk.

Each of THREADS threads, in its own directory under DIR, repeats for
SECONDS: create a temp file, write 4 KiB, fdatasync, rename it to its final
name, fsync the directory. fsync and friends release the GIL, so the
threads wait on the disk concurrently, as a server's workers would.

Usage: python3 fsync_bound.py DIR [THREADS] [SECONDS]
Prints "creates_per_s=R creates=N threads=T seconds=S cpu_s=C".
"""
import os
import sys
import threading
import time


def worker(directory, deadline, counts, index):
    body = os.urandom(4096)
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    n = 0
    try:
        while time.monotonic() < deadline:
            tmp = os.path.join(directory, ".tmp-%d" % n)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, body)
                os.fdatasync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, os.path.join(directory, "obj-%d" % n))
            os.fsync(dir_fd)
            n += 1
    finally:
        os.close(dir_fd)
    counts[index] = n


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    root = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    dirs = []
    for t in range(threads):
        d = os.path.join(root, "t%03d" % t)
        os.makedirs(d, exist_ok=True)
        dirs.append(d)
    counts = [0] * threads
    cpu0 = time.process_time()
    start = time.monotonic()
    deadline = start + seconds
    workers = [threading.Thread(target=worker, args=(dirs[t], deadline, counts, t))
               for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - start
    total = sum(counts)
    print("creates_per_s=%.1f creates=%d threads=%d seconds=%.1f cpu_s=%.2f" %
          (total / elapsed, total, threads, elapsed, time.process_time() - cpu0))


if __name__ == "__main__":
    main()
