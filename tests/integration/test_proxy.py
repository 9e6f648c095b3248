"""A load balancer in front (issue 18): the PROXY protocol on listeners
marked `proxy`, the health check, and the drain before a stop.

HAProxy (Debian's) is started by the tests with its own configuration, in
TCP mode, sending PROXY v2 to lockerd, and stopped by its pid.
"""
import os
import signal
import socket
import time

import pytest

from conftest import Lockerd, raw, wait_for

HEALTH = b"GET /.lockerd/health HTTP/1.1\r\nHost: anything.example\r\nConnection: close\r\n\r\n"


def status_of(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1 ") else None


def test_health_says_up_then_draining_through_a_sigterm_drain(make_lockerd):
    """SIGTERM with drain-time: the health check says 503 at once while
    pages are still served, the node stops only after drain-time."""
    d = make_lockerd(extra="drain-time 3s\n").start()
    d.signup("drn")
    d.put("drn", "index.html", "still here\n", mode=0o644)
    page = b"GET /~drn/ HTTP/1.1\r\nHost: scripts.test.example\r\nConnection: close\r\n\r\n"
    r = raw(d.port, HEALTH)
    assert status_of(r) == 200 and r.endswith(b"\r\n\r\nup\n"), r
    assert status_of(raw(d.port, b"HEAD /.lockerd/health HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\n\r\n")) == 200
    assert status_of(raw(d.port, b"POST /.lockerd/health HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n")) == 405
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: status_of(raw(d.port, HEALTH)) == 503, within=5)
    r = raw(d.port, HEALTH)
    assert r.endswith(b"\r\n\r\ndraining\n"), r
    # A keep-alive request while draining is answered, and its connection closed.
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    s.sendall(b"GET /~drn/ HTTP/1.1\r\nHost: scripts.test.example\r\n\r\n")
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    assert status_of(got) == 200 and b"still here" in got and b"Connection: close" in got, got
    assert status_of(raw(d.port, page)) == 200
    d.proc.wait(timeout=60)
    assert time.monotonic() - t0 >= 3 - 0.2
    assert "draining for 3s first" in d.log()


def test_drain_time_0_stops_at_once_and_a_second_sigterm_cuts_a_drain(make_lockerd):
    d = make_lockerd(extra="drain-time 1h\n").start()
    d.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: status_of(raw(d.port, HEALTH)) == 503, within=5)
    d.proc.send_signal(signal.SIGTERM)     # the operator insists
    d.proc.wait(timeout=30)
    e = make_lockerd().start()
    assert status_of(raw(e.port, HEALTH)) == 200
    e.proc.send_signal(signal.SIGTERM)
    e.proc.wait(timeout=30)
    assert "drain-time" not in e.log()
