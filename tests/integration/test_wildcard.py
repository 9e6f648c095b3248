"""The wildcard *.DOMAIN by DNS-01: lockerd's ACME client writes the TXT record
with a TSIG-signed RFC 2136 update to a real knotd (knot.py), which is also
pebble's resolver; pebble checks the record there and issues.  A vhost whose
name points elsewhere is not ordered, and says why."""
import os
import subprocess
import time

import pytest

from conftest import TEST_BASE, Lockerd, free_port, wait_for
from knot import Knot
from test_acme import Pebble, make_pki, verify

DOMAIN = "lockerd.test"


@pytest.fixture(scope="module")
def env(build_dir, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("wildcard"))
    make_pki(tmp)
    os.makedirs(TEST_BASE, exist_ok=True)
    import tempfile
    k = Knot(tempfile.mkdtemp(prefix="knot", dir=TEST_BASE), zone=DOMAIN)
    k.start()
    k.set(f"elsewhere.alice.{DOMAIN}.", "A", "192.0.2.1")
    d = Lockerd(build_dir, domain=DOMAIN)
    d.tls_port = free_port()
    peb = Pebble(tmp, d.port, d.tls_port, k.port)
    d.write_conf(open(d.conf).read() + f"listen 127.0.0.1:{d.tls_port} tls\n" +
                 f"acme-ca {peb.url}\nacme-ca-bundle {tmp}/ca.pem\nacme-retry 2s\n"
                 f"acme-dns-update {k.address} {DOMAIN} {k.key_name} hmac-sha256 "
                 f"{k.secret_file}\n"
                 f"acme-resolver {k.address}\n")
    try:
        d.start()
        d.signup("alice")
        d.put("alice", "index.html", "alice's page\n", mode=0o644)
        yield d, peb, k
    finally:
        d.cleanup()
        peb.stop()
        k.stop()


def tls_dir(d):
    return os.path.join(d.dir, "state", "tls")


def cert_state(d, host):
    import json
    r = d.locker("--json", "cert", "status", host, check=False)
    try:
        return json.loads(r.stdout)[0]
    except (ValueError, IndexError):
        return {}


def test_the_wildcard_is_issued_by_dns01(env):
    d, peb, k = env
    crt = os.path.join(tls_dir(d), f"_wildcard.{DOMAIN}.crt")
    assert wait_for(lambda: os.path.exists(crt), within=60), d.log()
    ok, out = verify(peb.root(), crt)
    assert ok, out
    text = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-ext", "subjectAltName"],
                          capture_output=True, text=True).stdout
    assert f"DNS:*.{DOMAIN}" in text, text
    s = wait_for(lambda: cert_state(d, f"*.{DOMAIN}").get("state") == "issued" and
                 cert_state(d, f"*.{DOMAIN}"), within=10)
    assert s, cert_state(d, f"*.{DOMAIN}")
    # The challenge's record is taken away once the CA has looked.
    assert wait_for(lambda: k.dig(f"_acme-challenge.{DOMAIN}", "TXT") == [], within=10)
    # knotd took the update signed with the key, and nothing unsigned.
    log = k.logs()
    assert "DDNS, processing 1 updates" in log, log[-2000:]


def test_a_locker_subdomain_is_served_over_https_with_it(env):
    d, peb, _ = env
    root = peb.root()
    host = f"alice.{DOMAIN}"

    def fetch():
        r = subprocess.run(["curl", "-sS", "--cacert", root, "--resolve",
                            f"{host}:{d.tls_port}:127.0.0.1", f"https://{host}:{d.tls_port}/"],
                           capture_output=True, text=True, timeout=10)
        return r.stdout if r.returncode == 0 else None
    # The master loads tls-dir again when acme says a certificate is new.
    assert wait_for(lambda: fetch() == "alice's page\n", within=30), d.log()[-3000:]
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.tls_port}",
                        "-servername", host, "-CAfile", root], input="",
                       capture_output=True, text=True, timeout=10)
    assert f"CN = *.{DOMAIN}" in r.stdout or f"*.{DOMAIN}" in r.stdout, r.stdout[-2000:]
    assert "Verify return code: 0 (ok)" in r.stdout, r.stdout[-2000:]


def test_the_service_name_beside_it_by_http01(env):
    d, peb, _ = env
    crt = os.path.join(tls_dir(d), f"{DOMAIN}.crt")
    assert wait_for(lambda: os.path.exists(crt), within=60), d.log()
    assert verify(peb.root(), crt)[0]


def test_a_vhost_pointing_elsewhere_is_pending_and_not_ordered(env):
    d, peb, _ = env
    host = f"elsewhere.alice.{DOMAIN}"
    d.locker("vhost", "add", "alice", host)
    s = wait_for(lambda: "does not lead here" in cert_state(d, host).get("error", "") and
                 cert_state(d, host), within=20)
    assert s and s["state"] == "pending", cert_state(d, host)
    assert "192.0.2.1" in s["error"], s
    time.sleep(1)
    assert not os.path.exists(os.path.join(tls_dir(d), host + ".crt"))
    assert peb.orders_for(host) == 0


def test_the_tsig_secret_is_in_no_process_but_acme(env):
    """The key that writes the zone: the master opens its file and hands acme
    the descriptor; no other process ever holds it (read as root, through
    /proc/PID/mem, as an attacker who took one of them would)."""
    import base64
    from conftest import memory_has
    d, _, k = env
    text = k.secret.encode()
    raw = base64.b64decode(text)
    pats = [text, raw]
    kids = d.children()
    acme = [p for p, (role, _) in kids.items() if role == "acme"]
    assert len(acme) == 1, kids
    # The search works: acme holds the key (it signs every update with it).
    assert 0 in memory_has(acme[0], pats)
    for pid, (role, _) in kids.items():
        if pid != acme[0]:
            assert memory_has(pid, pats) == set(), f"{role} {pid} holds the TSIG key"
        fds = os.listdir(f"/proc/{pid}/fd")
        assert all(os.readlink(f"/proc/{pid}/fd/{n}") != k.secret_file for n in fds), role
    # Nor does the master keep it, or the file open, after handing it over.
    assert memory_has(d.proc.pid, pats) == set(), "the master holds the TSIG key"
    fds = os.listdir(f"/proc/{d.proc.pid}/fd")
    assert all(os.readlink(f"/proc/{d.proc.pid}/fd/{n}") != k.secret_file for n in fds)


def test_a_restarted_acme_renews_the_wildcard_with_the_key_again(env):
    """pebble's certificates last 60 s, so the wildcard is renewed within the
    module; after a kill -9 of the ACME process, the one the master starts
    again is handed the key again and renews it by DNS-01 all the same."""
    import signal
    d, peb, _ = env
    wild = f"*.{DOMAIN}"
    first = wait_for(lambda: cert_state(d, wild).get("not_after"), within=30)
    assert first, cert_state(d, wild)
    old = [p for p, (role, _) in d.children().items() if role == "acme"]
    assert len(old) == 1
    os.kill(old[0], signal.SIGKILL)
    assert wait_for(lambda: [p for p, (role, _) in d.children().items()
                             if role == "acme" and p != old[0]], within=10), d.children()
    renewed = wait_for(lambda: cert_state(d, wild).get("not_after", 0) > first and
                       cert_state(d, wild), within=90)
    assert renewed and renewed["state"] == "issued", (cert_state(d, wild), d.log()[-3000:])
    crt = os.path.join(tls_dir(d), f"_wildcard.{DOMAIN}.crt")
    assert verify(peb.root(), crt)[0]
