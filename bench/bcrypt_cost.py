"""Measures the CPU cost of one bcrypt password check at a given cost.

Prints "python_bcrypt=SECONDS libxcrypt=SECONDS" (CPU seconds per check,
median of several checks): python3-bcrypt is what Keystone uses (through
passlib); libxcrypt's crypt() is the C library implementation.
Usage: python3 bcrypt_cost.py [COST] [CHECKS]
"""
import statistics
import sys
import time
import warnings


def per_check(fn, checks):
    times = []
    for _ in range(checks):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main():
    cost = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    checks = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    password = b"bench-Secret-42"
    results = []

    try:
        import bcrypt
        hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds=cost))
        results.append(("python_bcrypt", per_check(
            lambda: bcrypt.checkpw(password, hashed), checks)))
    except ImportError:
        results.append(("python_bcrypt", float("nan")))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
        salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << cost)
        hashed_c = crypt.crypt(password.decode(), salt)
        if not hashed_c or not hashed_c.startswith("$2"):
            raise ImportError("no bcrypt in crypt()")
        results.append(("libxcrypt", per_check(
            lambda: crypt.crypt(password.decode(), hashed_c), checks)))
    except ImportError:
        results.append(("libxcrypt", float("nan")))

    print(" ".join("%s=%.4f" % (name, secs) for name, secs in results))


if __name__ == "__main__":
    main()
