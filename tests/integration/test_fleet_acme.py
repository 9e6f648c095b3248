"""A fleet's certificate is obtained once (issue 18), end to end with real
parts: two lockerds sharing one PostgreSQL directory, one lockers root and
one tls-dir; a real pebble (test_acme's) whose HTTP-01 checks go to
HAProxy, round robin with PROXY v2 to both nodes' proxy listeners, so the
CA's check may land on the node that does not hold the `acme` lease
(acme_share.c's tokens).  A vhost added on node A must end up served by
both nodes' TLS listeners, the same certificate, ordered by one node only
and seen by pebble as one order.  Which node holds the lease is read from
PostgreSQL, never assumed.  No port 80 or 443: pebble's httpPort is
HAProxy's free port."""
import hashlib
import os
import re
import socket
import ssl
import subprocess
import tempfile

import pytest

import pg
from conftest import free_port, wait_for
from haproxy import HAProxy
from test_acme import ChallTestSrv, Pebble, acme_conf, make_pki
from test_dirsync import fleet, fleet_conf, fleet_up  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not pg.available(), reason="PostgreSQL 15 is not installed")

HOST = "www.certonce-site.test"
LOCKER = "certonce1"
NODES = ("certnode-a", "certnode-b")


@pytest.fixture(scope="module")
def ab(fleet, build_dir):  # noqa: F811
    from conftest import Lockerd, TEST_BASE
    os.makedirs(TEST_BASE, exist_ok=True)
    shared = tempfile.mkdtemp(prefix="certonce", dir=TEST_BASE)
    os.chmod(shared, 0o755)
    lockers, tls = os.path.join(shared, "lockers"), os.path.join(shared, "tls")
    pki = os.path.join(shared, "pki")
    os.makedirs(pki)
    make_pki(pki)
    low = 800000 + (os.getpid() % 100) * 1000
    http_port = free_port()          # pebble's HTTP-01 port: HAProxy's frontend
    started = []
    try:
        dns = ChallTestSrv(pki)
        started.append(dns)
        # An hour: no renewal muddles the count of orders.
        peb = Pebble(pki, http_port, free_port(), dns.port, validity=3600)
        started.append(peb)
        a, b = Lockerd(build_dir), Lockerd(build_dir)
        for d, node in zip((a, b), NODES):
            fleet_conf(d, node, lockers, low, fleet["conninfo"])
            d.tls_port, d.proxy_port = free_port(), free_port()
            with open(d.conf) as f:
                conf = re.sub(r"^tls-dir .*$", f"tls-dir {tls}", f.read(), flags=re.M)
            d.write_conf(conf + f"listen 127.0.0.1:{d.tls_port} tls\n"
                         f"listen 127.0.0.1:{d.proxy_port} proxy\n"
                         "proxy-from 127.0.0.1\ntls-rescan 1s\n" +
                         acme_conf(d, peb.url, f"{pki}/ca.pem") +
                         f"acme-resolver 127.0.0.1:{dns.port}\n")
        hp = HAProxy(os.path.join(shared, "haproxy"))
        started.append(hp)
        hp.start({"acmehttp": (http_port, "nodes")},
                 "backend nodes\n    balance roundrobin\n" +
                 "".join(f"    server {n} 127.0.0.1:{d.proxy_port} send-proxy-v2\n"
                         for n, d in zip("ab", (a, b))))
        started += [a, b]
        a.start()
        b.start()
        fleet_up(a)
        fleet_up(b)
        yield a, b, peb, hp, fleet["pg"]
    finally:
        for s in reversed(started):
            (s.cleanup if hasattr(s, "cleanup") else s.stop)()
        subprocess.run(["rm", "-rf", shared])


def served(d, root, host):
    """The DER certificate d's TLS listener gives host, verified against
    pebble's root (so issued by pebble, chain included), or None."""
    ctx = ssl.create_default_context(cafile=root)
    try:
        with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname=host) as t:
                return t.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError):
        return None


def serial(der):
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial", "-issuer"],
                       input=der, capture_output=True, check=True)
    return r.stdout.decode()


def test_a_vhost_certificate_is_ordered_once_and_served_by_both_nodes(ab):
    a, b, peb, hp, p = ab
    r = a.locker("signup", LOCKER, check=False)
    assert r.returncode == 0, r.stderr + a.log()[-3000:]
    a.locker("vhost", "add", LOCKER, HOST)
    root = peb.root()
    assert wait_for(lambda: served(a, root, HOST) and served(b, root, HOST), within=90), \
        a.log()[-4000:] + b.log()[-4000:] + peb_log(peb)[-3000:]
    da, db = served(a, root, HOST), served(b, root, HOST)
    assert hashlib.sha256(da).digest() == hashlib.sha256(db).digest(), (serial(da), serial(db))
    assert "Pebble" in serial(da)
    # The lease says who ordered; only that node's ACME client did.
    holder = p.sql("SELECT holder FROM leases WHERE what = 'acme'")
    assert holder and holder[0][0] in NODES, holder
    first, other = (a, b) if holder[0][0] == NODES[0] else (b, a)
    ordered = f"acme: {HOST}: answering http-01"
    issued = f"acme: {HOST}: certificate issued by"
    assert first.log().count(ordered) == 1 and first.log().count(issued) == 1, first.log()[-4000:]
    assert ordered not in other.log() and issued not in other.log(), other.log()[-4000:]
    assert "another node holds the acme lease" in other.log()
    # pebble saw one order for it: one validation task for the name, and
    # as many orders in all as names validated, each once (the service's
    # names are ordered too, by the same holder).
    log = peb_log(peb)
    tasks = re.findall(r'Pulled a task from the Tasks queue: .*Value:"([^"]+)"', log)
    assert tasks.count(HOST) == 1, tasks
    assert len(tasks) == len(set(tasks)) == log.count('Added order "'), log[-4000:]
    # pebble checks from several perspectives, round robin: both nodes
    # answered the CA, the holder's tokens reached the other.
    sessions = {f[1]: int(f[7]) for f in
                (line.split(",") for line in hp.admin("show stat").splitlines())
                if len(f) > 7 and f[0] == "nodes" and f[1] in ("a", "b")}
    assert sessions.get("a", 0) > 0 and sessions.get("b", 0) > 0, sessions


def peb_log(peb):
    with open(f"{peb.dir}/pebble.log", errors="replace") as f:
        return f.read()
