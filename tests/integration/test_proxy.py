"""A load balancer in front (issue 18): the PROXY protocol on listeners
marked `proxy`, the health check, and the drain before a stop.

HAProxy (Debian's, haproxy.py) is started by the tests with its own
configuration in TCP mode, sending PROXY v2 (and v1) to lockerd from
127.0.0.2, the only proxy-from; the test clients connect to HAProxy from
127.0.0.3 or 127.0.0.4, so the address lockerd must see is neither its
peer's nor 127.0.0.1.
"""
import os
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import (Lockerd, TEST_BASE, free_port, parse_responses, raw, shared_leaf,
                      wait_for)
from h2client import H2Conn
from haproxy import HEALTH_CHECK, HAProxy

HEALTH = b"GET /.lockerd/health HTTP/1.1\r\nHost: anything.example\r\nConnection: close\r\n\r\n"
LB = "127.0.0.2"            # HAProxy's source address: proxy-from
CLIENT, OTHER = "127.0.0.3", "127.0.0.4"
ALT = "proxyalt.example"    # a second name with a certificate of its own
ENV_SH = '#!/bin/sh\necho "Content-Type: text/plain"\necho\nenv | sort\n'
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def status_of(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1 ") else None


def env_of(body):
    return dict(l.partition("=")[::2] for l in body.decode(errors="replace").splitlines()
                if "=" in l)


def send(port, data, source=None, timeout=10.0, tls_host=None):
    """data on a connection of its own (from source), all that comes back
    until the server closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    local = s.getsockname()[1]
    if tls_host is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname=tls_host)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ssl.SSLError, ConnectionResetError):
        pass
    cert = s.getpeercert(binary_form=True) if tls_host is not None else None
    s.close()
    return out, local, cert


def req(path, host="scripts.test.example"):
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


def access_lines(d, locker):
    try:
        with open(os.path.join(d.logs, "lockers", locker, "access.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


@pytest.fixture(scope="module")
def px(build_dir):
    """One lockerd with a plain and a TLS proxy listener and a plain one
    without proxy, HAProxy in front (v2 plain, v1 plain, v2 TLS)."""
    crt, key = shared_leaf("test.example")
    acrt, akey = shared_leaf(ALT)
    pp, pt = free_port(), free_port()
    d = Lockerd(build_dir, extra=(
        f"listen 127.0.0.1:{pp} proxy\n"
        f"listen 127.0.0.1:{pt} tls proxy\n"
        f"proxy-from {LB} 192.0.2.0/24\n"
        f"hostname www.{ALT}\n"
        f"certificate test.example {crt} {key}\n"
        f"certificate *.test.example {crt} {key}\n"
        f"certificate www.{ALT} {acrt} {akey}\n"
        "header-timeout 3s\n")).start()
    d.proxy_port, d.proxy_tls = pp, pt
    d.signup("pxa")
    d.put("pxa", "env.cgi", ENV_SH, mode=0o755)
    d.put("pxa", "index.html", "pxa home\n", mode=0o644)
    d.put("pxa", "mine/.htaccess", f"Require ip {CLIENT}\n", mode=0o644)
    d.put("pxa", "mine/index.html", "for .3 only\n", mode=0o644)
    d.put("pxa", "lb/.htaccess", f"Require ip {LB}\n", mode=0o644)
    d.put("pxa", "lb/index.html", "for the balancer only\n", mode=0o644)
    hp = HAProxy(os.path.join(d.dir, "haproxy"))
    fv2, fv1, ftls = free_port(), free_port(), free_port()
    try:
        hp.start({"fv2": (fv2, "bv2"), "fv1": (fv1, "bv1"), "ftls": (ftls, "btls")},
                 f"backend bv2\n    server n 127.0.0.1:{pp} send-proxy-v2 source {LB}\n"
                 f"backend bv1\n    server n 127.0.0.1:{pp} send-proxy source {LB}\n"
                 f"backend btls\n    server n 127.0.0.1:{pt} send-proxy-v2 source {LB}\n")
    except BaseException:
        d.cleanup()
        raise
    d.hp = hp
    d.fv2, d.fv1, d.ftls = fv2, fv1, ftls
    yield d
    hp.stop()
    d.cleanup()


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_the_clients_address_reaches_scripts_and_the_log(px, version):
    port = px.fv2 if version == "v2" else px.fv1
    out, local, _ = send(port, req("/~pxa/env.cgi"), source=CLIENT)
    assert status_of(out) == 200, out
    e = env_of(out.partition(b"\r\n\r\n")[2])
    assert e["REMOTE_ADDR"] == CLIENT and e["REMOTE_PORT"] == str(local), e
    wait_for(lambda: any(l.startswith(CLIENT + " ") and "env.cgi" in l
                         for l in access_lines(px, "pxa")), within=15)
    assert not any(l.startswith(LB + " ") for l in access_lines(px, "pxa"))


def test_require_ip_sees_the_client_not_the_balancer(px):
    assert status_of(send(px.fv2, req("/~pxa/mine/"), source=CLIENT)[0]) == 200
    assert status_of(send(px.fv2, req("/~pxa/mine/"), source=OTHER)[0]) == 403
    assert status_of(send(px.fv2, req("/~pxa/lb/"), source=CLIENT)[0]) == 403


def test_tls_through_the_balancer_each_name_its_certificate(px):
    seen = {}
    for host in ("pxa.test.example", f"www.{ALT}"):
        out, local, cert = send(px.ftls, req("/env.cgi" if host.startswith("pxa") else "/",
                                             host), source=CLIENT, tls_host=host)
        seen[host] = cert
        assert status_of(out) in (200, 404), out
        if host.startswith("pxa"):
            e = env_of(out.partition(b"\r\n\r\n")[2])
            assert e["REMOTE_ADDR"] == CLIENT and e["HTTPS"] == "on", e
    with open(shared_leaf("test.example")[0]) as f:
        a = ssl.PEM_cert_to_DER_cert(f.read())
    with open(shared_leaf(ALT)[0]) as f:
        b = ssl.PEM_cert_to_DER_cert(f.read())
    assert seen["pxa.test.example"] == a and seen[f"www.{ALT}"] == b


def test_http2_through_the_balancer(px):
    with H2Conn(px.ftls, "pxa.test.example", source=CLIENT) as c:
        for _ in range(2):
            st = c.get(b"GET", b"/env.cgi", b"pxa.test.example", [], None, True)
            assert st.status == 200
            assert env_of(bytes(st.body))["REMOTE_ADDR"] == CLIENT
    wait_for(lambda: any(l.startswith(CLIENT + " ") and "HTTP/2.0" in l
                         for l in access_lines(px, "pxa")), within=15)


def test_a_spoofed_header_from_elsewhere_is_refused(px):
    """127.0.0.1 is not in proxy-from: its header is not read, nothing is answered."""
    spoof = b"PROXY TCP4 203.0.113.66 127.0.0.1 4444 80\r\n" + req("/~pxa/env.cgi")
    out, _, _ = send(px.proxy_port, spoof)
    assert out == b""
    v2 = V2_SIG + b"\x21\x11\x00\x0c" + bytes([203, 0, 113, 66, 127, 0, 0, 1, 0, 1, 0, 80])
    assert send(px.proxy_port, v2 + req("/~pxa/env.cgi"), source=OTHER)[0] == b""
    wait_for(lambda: "to a proxy listener closed: not in proxy-from" in px.log(), within=10)
    assert not any("203.0.113.66" in l for l in access_lines(px, "pxa"))


def test_a_bad_or_slow_header_from_the_balancers_address_is_closed(px):
    # from LB itself (trusted), but no header: closed, not served
    assert send(px.proxy_port, req("/~pxa/"), source=LB)[0] == b""
    assert send(px.proxy_port, b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n" + req("/~pxa/"),
                source=LB)[0] == b""
    # half a header, then silence: closed after header-timeout (3s)
    t0 = time.monotonic()
    assert send(px.proxy_port, b"PROXY TCP4 1.2.3.4", source=LB, timeout=30)[0] == b""
    assert time.monotonic() - t0 >= 2.5
    wait_for(lambda: "no whole PROXY header within header-timeout" in px.log(), within=10)


def test_v2_local_keeps_the_peers_own_address(px):
    """LOCAL (HAProxy's own checks): the connection's own address stands."""
    out, _, _ = send(px.proxy_port, V2_SIG + b"\x20\x00\x00\x00" + req("/~pxa/env.cgi"),
                     source=LB)
    assert env_of(out.partition(b"\r\n\r\n")[2])["REMOTE_ADDR"] == LB


def test_a_proxy_header_on_a_listener_without_proxy_is_a_bad_request(px):
    for hdr in (b"PROXY TCP4 203.0.113.66 127.0.0.1 4444 80\r\n",
                V2_SIG + b"\x21\x11\x00\x0c" + bytes([203, 0, 113, 66, 127, 0, 0, 1, 0, 1, 0, 80])):
        out, _, _ = send(px.port, hdr + req("/~pxa/env.cgi"))
        assert status_of(out) == 400, out


def test_the_configuration_is_checked(build_dir):
    d = Lockerd(build_dir)
    try:
        base = open(d.conf).read()
        for extra, want in (
                ("listen 127.0.0.1:1 proxy\n", "needs proxy-from"),
                ("proxy-from 10.0.0.5\n", "without a proxy listener"),
                ("listen 127.0.0.1:1 proxy\nproxy-from 10.0.0.5/8\n", "no host bits"),
                ("listen 127.0.0.1:1 proxy\nproxy-from example.org\n", "not a numeric"),
                ("listen 127.0.0.1:1 proxy\nproxy-from 10.0.0.0/33\n", "not a numeric")):
            d.write_conf(base + extra)
            r = subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-c", d.conf],
                               capture_output=True, text=True)
            assert r.returncode != 0 and want in r.stderr, (extra, r.stderr)
        d.write_conf(base + "listen 127.0.0.1:1 tls proxy\nproxy-from 10.0.0.0/8 ::1\n"
                     "certificate test.example %s %s\n" % shared_leaf("test.example"))
        r = subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-v", "-c", d.conf],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert "listen 127.0.0.1:1 tls proxy\n" in r.stdout
        assert "proxy-from 10.0.0.0/8\nproxy-from ::1/128\n" in r.stdout
    finally:
        d.cleanup()


# ------------------------------------------------------------ health and drain

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


def test_haproxy_takes_a_draining_node_out_and_no_request_is_lost(make_lockerd):
    """Two nodes behind HAProxy with health checks (inter 200ms) sent with
    PROXY v2 (check-send-proxy); node A gets SIGTERM with drain-time 3s
    while a client requests pages through HAProxy without a pause: every
    request is answered 200, and A's last request comes before it stops."""
    nodes = []
    for _ in range(2):
        pp = free_port()
        n = make_lockerd(extra=f"listen 127.0.0.1:{pp} proxy\nproxy-from {LB}\n"
                               "drain-time 3s\n").start()
        n.proxy_port = pp
        n.signup("pxd")
        n.put("pxd", "index.html", "drained or not\n", mode=0o644)
        nodes.append(n)
    a, b = nodes
    fp = free_port()
    hp = HAProxy(os.path.join(a.dir, "haproxy"))
    hp.start({"f": (fp, "nodes")},
             "backend nodes\n    balance roundrobin\n" + HEALTH_CHECK +
             "    default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 2\n"
             f"    server a 127.0.0.1:{a.proxy_port} send-proxy-v2 source {LB} check "
             "check-send-proxy\n"
             f"    server b 127.0.0.1:{b.proxy_port} send-proxy-v2 source {LB} check "
             "check-send-proxy\n")
    try:
        wait_for(lambda: hp.server_state("nodes", "a") == "UP" and
                 hp.server_state("nodes", "b") == "UP", within=20)
        results, stop = [], threading.Event()

        def client():
            while not stop.is_set():
                out, _, _ = send(fp, req("/~pxd/"), source=CLIENT, timeout=30)
                results.append((time.monotonic(), status_of(out), out[-200:]))
        t = threading.Thread(target=client)
        t.start()
        time.sleep(0.5)
        a.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: hp.server_state("nodes", "a") not in ("UP", None), within=10)
        out_at = time.monotonic()
        a.proc.wait(timeout=60)
        stopped_at = time.monotonic()
        time.sleep(0.5)
        stop.set()
        t.join(timeout=60)
        bad = [r for r in results if r[1] != 200]
        assert results and not bad, bad[:3]
        assert out_at < stopped_at
        assert any(at > stopped_at for at, _, _ in results)
        a_lines = [l for l in access_lines(a, "pxd") if l.startswith(CLIENT + " ")]
        assert a_lines, "node A served nothing before its drain"
        assert any(l.startswith(CLIENT + " ") for l in access_lines(b, "pxd"))
    finally:
        hp.stop()


def test_a_draining_node_tells_http2_clients_goaway(make_lockerd):
    """An HTTP/2 session would keep its client on a node the balancer took
    out: draining, front sends GOAWAY (the client opens a new connection,
    which the balancer sends elsewhere), and the stop comes after."""
    d = make_lockerd(extra="drain-time 2s\n", transport="h2").start()
    d.signup("drh")
    d.put("drh", "index.html", "h2 page\n", mode=0o644)
    with H2Conn(d.port, "drh.test.example") as c:
        st = c.get(b"GET", b"/", b"drh.test.example", [], None, True)
        assert st.status == 200 and bytes(st.body) == b"h2 page\n"
        assert c.goaway is None
        d.proc.send_signal(signal.SIGTERM)
        c.pump(lambda: c.goaway is not None, timeout=15)
    d.proc.wait(timeout=60)
