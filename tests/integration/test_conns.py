"""front under many connections: its file cache when an entry ages out,
and a locker's channel that fills up (issue 13, 10,000 connections).

An aged-out file entry is asked of the worker again in the background
while every request is still served what front holds, for at most another
file-cache-valid; the worker's answer replaces it; past that without one,
nothing is served that the worker was not asked about.  A worker that stops reading (its locker's own, stopped or
hostile) fills its channel: the requests queued behind go out as it drains,
each answered with its own file, and no other locker waits meanwhile.
"""
import os
import signal
import socket
import time

import pytest

from conftest import Lockerd, get, parse_responses, raw, stopped

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


def patient_get(port, path, host):
    """get(), waiting long enough for front's 504 on a stopped worker."""
    r = parse_responses(raw(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " +
                            host.encode() + b"\r\nConnection: close\r\n\r\n",
                            timeout=WORKER_TIMEOUT + 10))
    assert r, "no response"
    return r[0]


def test_aged_entry_is_served_while_the_worker_is_asked_again(d):
    host = "aging.test.example"
    d.put("aging", "a.txt", "kept\n")
    assert get(d.port, "/a.txt", host)[2] == b"kept\n"     # the worker's; kept now
    with stopped(d, "aging"):
        assert get(d.port, "/a.txt", host)[2] == b"kept\n"  # front's alone
        time.sleep(VALID + 0.3)                               # aged out
        # The first of these has the (stopped) worker asked again in the
        # background; none of them waits for it.
        for _ in range(3):
            assert get(d.port, "/a.txt", host)[:3:2] == (200, b"kept\n")
        # Past another file-cache-valid without an answer, front holds
        # nothing it may serve: this one goes to the worker (and times out).
        time.sleep(VALID + 0.3)
        assert patient_get(d.port, "/a.txt", host)[0] == 504
    assert get(d.port, "/a.txt", host)[2] == b"kept\n"


def test_background_answer_replaces_the_entry(d):
    """A change neither the descriptor nor the worker's watch shows (a
    symlink outside web_scripts retargeted): the worker's answer to the
    background ask after file-cache-valid brings the new file, and no
    request meanwhile gets anything but one of the two."""
    info = d.info("aging")
    home, uid, gid = info["home"], info["uid"], info["gid"]
    data = os.path.join(home, "data")
    os.makedirs(data, exist_ok=True)
    for name, text in (("v1.txt", "one\n"), ("v2.txt", "two\n")):
        with open(os.path.join(data, name), "w") as f:
            f.write(text)
        os.chown(os.path.join(data, name), uid, gid)
    cur = os.path.join(data, "cur")
    os.symlink(os.path.join(data, "v1.txt"), cur)
    link = os.path.join(home, "web_scripts", "s.txt")
    os.symlink(cur, link)
    host = "aging.test.example"
    assert get(d.port, "/s.txt", host)[2] == b"one\n"
    tmp = cur + ".new"
    os.symlink(os.path.join(data, "v2.txt"), tmp)
    os.rename(tmp, cur)
    deadline = time.monotonic() + 2 * VALID + 10
    while True:
        s, _, b = get(d.port, "/s.txt", host)
        assert s == 200 and b in (b"one\n", b"two\n")
        if b == b"two\n":
            break
        assert time.monotonic() < deadline, "the old file is still served"
        time.sleep(0.1)
    for _ in range(3):
        assert get(d.port, "/s.txt", host)[2] == b"two\n"


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
