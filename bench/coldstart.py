#!/usr/bin/python3
"""Where a worker's cold start goes, step by step (issue 13).

    python3 bench/coldstart.py BUILD_DIR [N] [exec]

Starts a lockerd of its own (the integration tests' Lockerd, under
/var/lib/lockerd-test) with LOCKERD_COLDSTART set, signs up N lockers (50),
sends each one request (its worker's cold start) and prints, per step
coldstart.c marks, the p50 and p99 of the time since the step before, with
the end-to-end time the client saw.  "exec": every worker started as
before the spawner (the master's clone, then an exec).  Figures depend on what else runs on
the machine: compare runs made side by side.
"""
import os
import re
import socket
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from conftest import Lockerd  # noqa: E402


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(len(v) * p + 0.999999) - 1))]


def one(port, host):
    t = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    if not data.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"{host}: {data[:200]!r}")
    return (time.monotonic() - t) * 1000


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    os.environ["LOCKERD_COLDSTART"] = sys.argv[3] if len(sys.argv) > 3 else "1"
    d = Lockerd(build)
    d.start()
    try:
        t = time.monotonic()
        for i in range(n):
            d.signup(f"cs{i}")
            d.put(f"cs{i}", "index.html", f"<p>cs{i}</p>\n")
        signup_ms = (time.monotonic() - t) * 1000 / n
        client = [one(d.port, f"cs{i}.{d.domain}") for i in range(n)]
        # The same request once the worker runs: front's and the worker's
        # share of a request, which the cold one pays too.
        warm = [one(d.port, f"cs{i}.{d.domain}") for i in range(n)]
        time.sleep(0.5)
        rows = {}
        order = []
        for m in re.finditer(r"coldstart((?: [a-z]+ [0-9.]+)+) total ([0-9.]+) ms", d.log()):
            parts = m.group(1).split()
            for k, v in zip(parts[::2], parts[1::2]):
                if k not in rows:
                    order.append(k)
                rows.setdefault(k, []).append(float(v))
            rows.setdefault("total (ask to first request)", []).append(float(m.group(2)))
        order.append("total (ask to first request)")
        print(f"{n} cold starts ({os.environ['LOCKERD_COLDSTART']}); signup + a file: {signup_ms:.1f} ms each")
        print(f"{'step':32s} {'p50 ms':>8s} {'p99 ms':>8s}")
        for k in order:
            print(f"{k:32s} {pct(rows[k], 0.5):8.3f} {pct(rows[k], 0.99):8.3f}")
        print(f"{'client (connect to last byte)':32s} {pct(client, 0.5):8.3f} "
              f"{pct(client, 0.99):8.3f}")
        print(f"{'client, the worker running':32s} {pct(warm, 0.5):8.3f} "
              f"{pct(warm, 0.99):8.3f}")
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
