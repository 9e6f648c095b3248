"""front under many connections: its file cache when an entry ages out,
and a locker's channel that fills up (issue 13, 10,000 connections).

An aged-out file entry is asked of the worker again by one request while
the others are still served what front holds, for at most another
file-cache-valid; past that, nothing is served that the worker was not
asked about.  A worker that stops reading (its locker's own, stopped or
hostile) fills its channel: the requests queued behind go out as it drains,
each answered with its own file, and no other locker waits meanwhile.
"""
import os
import signal
import socket
import threading
import time

import pytest

from conftest import Lockerd, get, parse_responses, raw

VALID = 3           # file-cache-valid, s
WORKER_TIMEOUT = 5  # > VALID: a request the stopped worker never answers outlives the grace


@pytest.fixture(scope="module")
def d(build_dir):
    """One front: what it keeps is what answers while the worker is stopped."""
    d = Lockerd(build_dir, front_processes=1,
                extra="file-cache-valid %d\nworker-timeout %d\n" % (VALID, WORKER_TIMEOUT)
                ).start()
    for name in ("aging", "busy", "calm"):
        d.signup(name)
    yield d
    d.cleanup()


def worker_of(d, locker):
    uid = d.info(locker)["uid"]
    ws = [p for p, (role, u) in d.children().items() if role == "worker" and u == uid]
    assert len(ws) == 1, ws
    return ws[0]


def patient_get(port, path, host):
    """get(), waiting long enough for front's 504 on a stopped worker."""
    r = parse_responses(raw(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " +
                            host.encode() + b"\r\nConnection: close\r\n\r\n",
                            timeout=WORKER_TIMEOUT + 10))
    assert r, "no response"
    return r[0]


class stopped:
    """The locker's worker stopped (SIGSTOP): it reads nothing."""

    def __init__(self, d, locker):
        self.pid = worker_of(d, locker)

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *a):
        os.kill(self.pid, signal.SIGCONT)


def test_aged_entry_serves_others_while_one_asks_the_worker(d):
    host = "aging.test.example"
    d.put("aging", "a.txt", "kept\n")
    assert get(d.port, "/a.txt", host)[2] == b"kept\n"     # the worker's; kept now
    with stopped(d, "aging"):
        assert get(d.port, "/a.txt", host)[2] == b"kept\n"  # front's alone
        time.sleep(VALID + 0.3)                               # aged out
        asked = {}

        def ask():
            asked["r"] = patient_get(d.port, "/a.txt", host)
        t = threading.Thread(target=ask)
        t.start()
        time.sleep(0.3)
        assert t.is_alive()        # this one waits for the stopped worker
        # ... and the others are served what front holds, not sent after it.
        for _ in range(3):
            assert get(d.port, "/a.txt", host)[:3:2] == (200, b"kept\n")
        t.join(WORKER_TIMEOUT + 5)
        assert asked["r"][0] == 504
        # Past the grace (the ask outlived it), front holds nothing it may
        # serve: this one goes to the worker too.
        assert patient_get(d.port, "/a.txt", host)[0] == 504
    assert get(d.port, "/a.txt", host)[2] == b"kept\n"


def _send_all(port, reqs):
    socks = []
    for r in reqs:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(r)
        socks.append(s)
    return socks


def _read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    return parse_responses(data)


def test_full_channel_drains_in_order_and_stalls_no_other_locker(d):
    """Hundreds of requests to a locker whose worker reads nothing fill its
    channel (each carries a 2 KiB field: more than the socket holds).
    Another locker is served meanwhile; once the worker runs again, every
    queued request gets its own file."""
    n = 300
    for i in range(n):
        d.put("busy", "f%d.txt" % i, "file %d\n" % i)
    d.put("calm", "c.txt", "calm\n")
    assert get(d.port, "/f0.txt", "busy.test.example")[0] == 200
    assert get(d.port, "/c.txt", "calm.test.example")[0] == 200
    pad = b"X-Pad: " + b"p" * 2048 + b"\r\n"
    with stopped(d, "busy"):
        socks = _send_all(d.port, [
            b"GET /f%d.txt HTTP/1.1\r\nHost: busy.test.example\r\nConnection: close\r\n%s\r\n"
            % (i, pad) for i in range(n)])
        for _ in range(5):
            assert get(d.port, "/c.txt", "calm.test.example")[2] == b"calm\n"
    for i, s in enumerate(socks):
        r = _read_all(s)
        assert len(r) == 1 and r[0][0] == 200 and r[0][2] == b"file %d\n" % i, (i, r)
