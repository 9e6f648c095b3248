"""ACME: certificates that arrive by themselves, against Debian's pebble.

pebble (the CA) and pebble-challtestsrv (its DNS: every name is 127.0.0.1)
are started once for the module and stopped by their pids.  pebble checks
HTTP-01 on lockerd's own plain listener, so every certificate here was
really answered by front from the token the ACME process handed the
master.  pebble's certificates last 60 s, so renewal happens within the
module; it rejects a share of nonces, so every exchange also goes through
the badNonce retry.
"""
import json
import os
import pwd
import re
import socket
import ssl
import stat
import subprocess
import threading
import time
import http.server
import urllib.request

import pytest

from conftest import Lockerd, free_port, get, login_users, wait_for

VALIDITY = 60          # seconds pebble's certificates last
MARK = "lockerd test_acme"


def _wait_tcp(port, within=10):
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def make_pki(d):
    """A CA and a certificate for 127.0.0.1 signed by it: pebble's own HTTPS."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "2",
             "-subj", "/CN=test_acme CA")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{d}/pebble.key", "-out", f"{d}/pebble.csr", "-subj", "/CN=pebble")
    with open(f"{d}/ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", f"{d}/pebble.csr", "-CA", f"{d}/ca.pem", "-CAkey",
             f"{d}/ca.key", "-CAcreateserial", "-out", f"{d}/pebble.pem", "-days", "2",
             "-extfile", f"{d}/ext")


class Pebble:
    def __init__(self, d, http_port, tls_port, dns_port, nonce_reject=0, validity=VALIDITY):
        self.dir = d
        self.port = free_port()
        self.mport = free_port()
        conf = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mport}",
            "certificate": f"{d}/pebble.pem", "privateKey": f"{d}/pebble.key",
            "httpPort": http_port, "tlsPort": tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": False,
            "certificateValidityPeriod": validity}}
        with open(f"{d}/pebble.json", "w") as f:
            json.dump(conf, f)
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1",
                   PEBBLE_WFE_NONCEREJECT=str(nonce_reject), PEBBLE_AUTHZREUSE="0")
        self.log = open(f"{d}/pebble.log", "wb")
        self.proc = subprocess.Popen(["pebble", "-config", f"{d}/pebble.json",
                                      "-dnsserver", f"127.0.0.1:{dns_port}"],
                                     stdout=self.log, stderr=self.log, env=env, cwd=d)
        _wait_tcp(self.port)
        _wait_tcp(self.mport)

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}/dir"

    def root(self):
        ctx = ssl.create_default_context(cafile=f"{self.dir}/ca.pem")
        with urllib.request.urlopen(f"https://127.0.0.1:{self.mport}/roots/0",
                                    context=ctx, timeout=5) as r:
            pem = r.read().decode()
        with open(f"{self.dir}/root.pem", "w") as f:
            f.write(pem)
        return f"{self.dir}/root.pem"

    def orders_for(self, host):
        """How many orders pebble's log shows for host."""
        with open(f"{self.dir}/pebble.log", errors="replace") as f:
            return sum(1 for line in f if "order" in line.lower() and host in line)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class ChallTestSrv:
    """pebble's DNS: every A query answered 127.0.0.1, unless set_a() says
    otherwise."""
    def __init__(self, d):
        self.port = free_port()
        self.mport = free_port()
        self.log = open(f"{d}/challtestsrv.log", "wb")
        self.proc = subprocess.Popen(
            ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
             "-dns01", f"127.0.0.1:{self.port}", "-http01", "", "-https01", "",
             "-tlsalpn01", "", "-management", f"127.0.0.1:{self.mport}"],
            stdout=self.log, stderr=self.log)
        _wait_tcp(self.mport)

    def set_a(self, host, addr):
        """host's A record is addr (and no other)."""
        host = host.rstrip(".") + "."
        for path, body in (("clear-a", {"host": host}),
                           ("add-a", {"host": host, "addresses": [addr]})):
            urllib.request.urlopen(f"http://127.0.0.1:{self.mport}/{path}",
                                   data=json.dumps(body).encode(), timeout=5).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self.log.close()


def acme_conf(d, ca_url, bundle, extra=""):
    return (f"acme-ca {ca_url}\nacme-ca-bundle {bundle}\n"
            f"acme-retry 2s\nacme-email hostmaster@test.example\n" + extra)


@pytest.fixture(scope="module")
def users():
    with login_users(["acmeadm"], MARK) as made:
        yield made


@pytest.fixture(scope="module")
def env(build_dir, tmp_path_factory, users):
    tmp = str(tmp_path_factory.mktemp("pebble"))
    make_pki(tmp)
    dns = ChallTestSrv(tmp)
    d = Lockerd(build_dir)
    d.tls_port = free_port()
    peb = Pebble(tmp, d.port, d.tls_port, dns.port, nonce_reject=15)
    # Whether a name leads here is asked of pebble's DNS too (dns01.c).
    d.base_conf = (open(d.conf).read() + f"listen 127.0.0.1:{d.tls_port} tls\n" +
                   acme_conf(d, peb.url, f"{tmp}/ca.pem") +
                   f"acme-resolver 127.0.0.1:{dns.port}\n")
    d.write_conf(d.base_conf)
    d.dns = dns
    try:
        d.start()
        d.signup("alice")
        d.signup("bob")
        d.locker("admin", "add", "bob", "acmeadm")
        yield d, peb
    finally:
        d.cleanup()
        peb.stop()
        dns.stop()


def tls_dir(d):
    return os.path.join(d.dir, "state", "tls")


def have_cert(d, host):
    return os.path.exists(os.path.join(tls_dir(d), host + ".crt"))


def cert_status(d, host, user=None):
    """Its state, or None when lockerd has none (for this user)."""
    r = d.locker("--json", "cert", "status", host, user=user)
    s = json.loads(r.stdout)[0]
    return None if s["state"] == "none" else s


def verify(root, crt):
    """openssl verify of a stored chain against pebble's root: (ok, output)."""
    r = subprocess.run(["openssl", "verify", "-CAfile", root, "-untrusted", crt, crt],
                       capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def test_vhost_gets_a_certificate_by_http01(env):
    d, peb = env
    t0 = time.time()
    d.locker("vhost", "add", "alice", "www.alice-site.test")
    assert wait_for(lambda: have_cert(d, "www.alice-site.test"), within=30), d.log()
    took = time.time() - t0
    crt = os.path.join(tls_dir(d), "www.alice-site.test.crt")
    ok, out = verify(peb.root(), crt)
    assert ok, out
    # The key matches, both are key-user's alone.
    key = os.path.join(tls_dir(d), "www.alice-site.test.key")
    pub_c = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-pubkey"],
                           capture_output=True, text=True).stdout
    pub_k = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"],
                           capture_output=True, text=True).stdout
    assert pub_c and pub_c == pub_k
    ku = pwd.getpwnam("lockerd-key").pw_uid
    for p in (crt, key, os.path.join(tls_dir(d), "account.key")):
        st = os.stat(p)
        assert st.st_uid == ku and stat.S_IMODE(st.st_mode) == 0o600, p
    st = os.stat(tls_dir(d))
    assert st.st_uid == ku and stat.S_IMODE(st.st_mode) == 0o700
    s = wait_for(lambda: (cert_status(d, "www.alice-site.test") or {}).get("state") ==
                 "issued" and cert_status(d, "www.alice-site.test"), within=5)
    assert s and s["locker"] == "alice" and "Pebble" in s["issuer"], s
    assert s["not_after"] > time.time() and s["next_renewal"] < s["not_after"]
    print(f"vhost add -> certificate on disk: {took:.2f}s")


def test_the_service_names_get_certificates(env):
    d, peb = env
    root = peb.root()
    for host in ("test.example", "scripts.test.example"):
        assert wait_for(lambda: have_cert(d, host), within=30), d.log()
        ok, out = verify(root, os.path.join(tls_dir(d), host + ".crt"))
        assert ok, (host, out)
        assert cert_status(d, host)["locker"] == ""


def test_front_answers_only_live_tokens(env):
    d, _ = env
    # No token is live between orders: an unknown one falls through to routing.
    st, _, body = get(d.port, "/.well-known/acme-challenge/" + "A" * 43, "test.example")
    assert st == 404


def test_a_locker_webroot_serves_the_challenge_path_when_no_token_matches(env):
    """certbot or lego --webroot: their token files, with no extension, are
    served as text; a script there is shown, never run; other dotfiles stay
    hidden."""
    d, _ = env
    d.put("alice", ".well-known/acme-challenge/certbot_Tok-en1", "certbot's answer\n",
          mode=0o644)
    d.put("alice", ".well-known/acme-challenge/x.php", "<?php echo 6*7; ?>", mode=0o644)
    d.put("alice", ".well-known/secret.txt", "hidden", mode=0o644)
    st, h, body = get(d.port, "/.well-known/acme-challenge/certbot_Tok-en1",
                      "www.alice-site.test")
    assert st == 200 and body == b"certbot's answer\n"
    assert h["content-type"].startswith("text/plain")
    st, _, body = get(d.port, "/.well-known/acme-challenge/x.php", "www.alice-site.test")
    assert st == 200 and body == b"<?php echo 6*7; ?>"
    st, _, _ = get(d.port, "/.well-known/secret.txt", "www.alice-site.test")
    assert st == 404


def test_a_name_not_in_the_directory_is_never_ordered(env):
    d, peb = env
    # Requests for it, on every path, change nothing.
    for path in ("/", "/.well-known/acme-challenge/x"):
        get(d.port, path, "stranger.test")
    time.sleep(2)
    assert not have_cert(d, "stranger.test")
    assert peb.orders_for("stranger.test") == 0
    assert cert_status(d, "stranger.test") is None
    names = {f[:-4] for f in os.listdir(tls_dir(d)) if f.endswith(".crt")}
    allowed = {"test.example", "scripts.test.example"} | \
        {v["host"] for v in json.loads(d.locker("--json", "vhost", "list").stdout)}
    assert names <= allowed, names


def test_a_locker_over_its_weekly_budget_is_rate_limited(env):
    d, peb = env
    d.locker("limit", "bob", "acme-names-per-week", "1")
    d.locker("vhost", "add", "bob", "one.bob-site.test")
    d.locker("vhost", "add", "bob", "two.bob-site.test")
    assert wait_for(lambda: have_cert(d, "one.bob-site.test"), within=30), d.log()
    s = wait_for(lambda: cert_status(d, "two.bob-site.test"), within=5)
    assert s["state"] == "rate-limited", s
    s = wait_for(lambda: (cert_status(d, "two.bob-site.test") or {}).get("error") and
                 cert_status(d, "two.bob-site.test"), within=5)
    assert s["state"] == "rate-limited", s
    assert "acme-names-per-week" in s["error"]
    time.sleep(1)
    assert not have_cert(d, "two.bob-site.test")
    assert peb.orders_for("two.bob-site.test") == 0
    # The text form says the same.
    out = d.locker("cert", "status", "two.bob-site.test").stdout
    assert "rate-limited" in out
    # A larger budget lets it through at once.
    d.locker("limit", "bob", "acme-names-per-week", "2")
    assert wait_for(lambda: have_cert(d, "two.bob-site.test"), within=30), d.log()[-2000:]


def test_an_admin_sees_the_service_and_their_lockers_certificates_only(env, users):
    d, _ = env
    d.locker("vhost", "add", "alice", "www.alice-site.test", check=False)
    d.locker("vhost", "add", "bob", "one.bob-site.test", check=False)
    assert wait_for(lambda: have_cert(d, "one.bob-site.test"), within=30)
    assert wait_for(lambda: cert_status(d, "www.alice-site.test"), within=10)
    r = d.locker("--json", "cert", "list", user="acmeadm")
    assert r.returncode == 0, r.stderr
    hosts = {c["host"]: c["locker"] for c in json.loads(r.stdout)}
    assert "one.bob-site.test" in hosts and "test.example" in hosts
    assert "www.alice-site.test" not in hosts, hosts
    assert set(hosts.values()) <= {"bob", ""}
    s = json.loads(d.locker("--json", "cert", "status", "www.alice-site.test",
                            user="acmeadm").stdout)[0]
    assert s["state"] == "none" and s["issuer"] == "" and s["not_after"] == 0, s
    # root sees alice's too.
    hosts = {c["host"] for c in json.loads(d.locker("--json", "cert", "list").stdout)}
    assert "www.alice-site.test" in hosts


def test_a_short_lived_certificate_is_renewed(env):
    d, peb = env
    host = "www.alice-site.test"
    assert wait_for(lambda: have_cert(d, host), within=30)
    first = cert_status(d, host)
    assert first["next_renewal"] <= first["not_after"] - VALIDITY // 3 + 2
    s = wait_for(lambda: (cert_status(d, host) or {}).get("not_after", 0) >
                 first["not_after"] and cert_status(d, host), within=VALIDITY)
    assert s, (first, cert_status(d, host), d.log())
    ok, out = verify(peb.root(), os.path.join(tls_dir(d), host + ".crt"))
    assert ok, out


def test_a_removed_vhost_is_no_longer_ordered(env):
    d, peb = env
    d.locker("vhost", "add", "alice", "gone.alice-site.test")
    assert wait_for(lambda: have_cert(d, "gone.alice-site.test"), within=30)
    d.locker("vhost", "remove", "gone.alice-site.test")
    assert wait_for(lambda: cert_status(d, "gone.alice-site.test") is None, within=5)


def https_get(d, root, host, path="/"):
    """A page over lockerd's TLS listener, verified against pebble's root."""
    r = subprocess.run(["curl", "-sS", "--cacert", root, "--resolve",
                        f"{host}:{d.tls_port}:127.0.0.1", f"https://{host}:{d.tls_port}{path}"],
                       capture_output=True, text=True, timeout=10)
    return r.stdout if r.returncode == 0 else None


def test_an_issued_certificate_is_served_at_once(env):
    """MSG_ACME_ISSUED: the master reads tls-dir again; new handshakes get it."""
    d, peb = env
    d.put("alice", "index.html", "alice over https\n", mode=0o644)
    root = peb.root()
    d.locker("vhost", "add", "alice", "fresh.alice-site.test")
    assert wait_for(lambda: https_get(d, root, "fresh.alice-site.test") ==
                    "alice over https\n", within=30), d.log()[-3000:]
    ctx = ssl.create_default_context(cafile=root)
    with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="fresh.alice-site.test") as t:
            assert t.getpeercert()["subjectAltName"] == (("DNS", "fresh.alice-site.test"),)


def test_a_vhost_by_tls_alpn01(env):
    d, peb = env
    d.put("alice", "index.html", "alice over https\n", mode=0o644)
    d.write_conf(d.base_conf + "acme-challenge tls-alpn-01\n")
    d.proc.send_signal(1)
    time.sleep(0.5)
    d.locker("vhost", "add", "alice", "alpn.alice-site.test")
    root = peb.root()
    assert wait_for(lambda: have_cert(d, "alpn.alice-site.test"), within=30), d.log()[-3000:]
    ok, out = verify(root, os.path.join(tls_dir(d), "alpn.alice-site.test.crt"))
    assert ok, out
    assert "alpn.alice-site.test: answering tls-alpn-01" in d.log(), d.log()[-3000:]
    assert "alpn.alice-site.test: answering http-01" not in d.log()
    assert wait_for(lambda: https_get(d, root, "alpn.alice-site.test") ==
                    "alice over https\n", within=10)
    # A ClientHello offering acme-tls/1 for a name with no live challenge
    # gets no challenge certificate (the handshake fails or is the site's).
    ctx = ssl.create_default_context(cafile=root)
    ctx.set_alpn_protocols(["acme-tls/1"])
    try:
        with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="alpn.alice-site.test") as t:
                assert t.selected_alpn_protocol() != "acme-tls/1"
    except (ssl.SSLError, OSError):
        pass
    d.write_conf(d.base_conf)
    d.proc.send_signal(1)


def test_a_failed_renewal_keeps_serving_warns_and_falls_back(env):
    """The CA goes away: renewals fail, the certificates already there are
    still served, `locker status` says so; a fallback CA renews them."""
    d, peb = env
    root = peb.root()
    host = "fresh.alice-site.test"
    d.put("alice", "index.html", "alice over https\n", mode=0o644)
    d.locker("vhost", "add", "alice", host, check=False)
    assert wait_for(lambda: have_cert(d, host), within=30)
    d.write_conf(d.base_conf.replace(f"acme-ca {peb.url}", "acme-ca https://127.0.0.1:1/dir"))
    d.proc.send_signal(1)
    s = wait_for(lambda: (cert_status(d, host) or {}).get("renew_failed") and
                 cert_status(d, host), within=VALIDITY + 15)
    assert s, cert_status(d, host)
    assert s["state"] == "issued" and "127.0.0.1" in s["error"], s
    assert s["not_after"] > time.time()
    out = d.locker("status").stdout
    assert f"the certificate of {host} expires" in out and "could not be renewed" in out, out
    assert https_get(d, root, host) == "alice over https\n"
    # An admin of bob is not told of alice's.
    out = d.locker("status", user="acmeadm", check=False).stdout
    assert host not in out
    old_after = s["not_after"]
    d.write_conf(d.base_conf.replace(f"acme-ca {peb.url}", "acme-ca https://127.0.0.1:1/dir") +
                 f"acme-ca-fallback {peb.url}\nacme-fallback-after 1\n")
    d.proc.send_signal(1)
    s = wait_for(lambda: (cert_status(d, host) or {}).get("not_after", 0) > old_after and
                 cert_status(d, host), within=45)
    assert s and not s["renew_failed"] and s["error"] == "", (s, d.log()[-3000:])
    assert f"the certificate of {host}" not in d.locker("status", "alice").stdout
    d.write_conf(d.base_conf)
    d.proc.send_signal(1)


def test_key_type_both_gives_an_rsa_certificate_beside(env):
    d, peb = env
    d.put("alice", "index.html", "alice over https\n", mode=0o644)
    d.write_conf(d.base_conf + "acme-key-type both\n")
    d.proc.send_signal(1)
    time.sleep(0.5)
    host = "dual.alice-site.test"
    d.locker("vhost", "add", "alice", host)
    rsa = os.path.join(tls_dir(d), host + ".rsa.crt")
    assert wait_for(lambda: os.path.exists(rsa) and have_cert(d, host), within=40), \
        d.log()[-3000:]
    root = peb.root()
    assert verify(root, rsa)[0]
    text = subprocess.run(["openssl", "x509", "-in", rsa, "-noout", "-text"],
                          capture_output=True, text=True).stdout
    assert "rsaEncryption" in text
    # A client that takes RSA only gets it; any other the ECDSA one.
    for ciphers, want in (("ECDHE-RSA-AES128-GCM-SHA256", "rsaEncryption"),
                          ("ECDHE-ECDSA-AES128-GCM-SHA256", "id-ecPublicKey")):
        def served():
            ctx = ssl.create_default_context(cafile=root)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers(ciphers)
            with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname=host) as t:
                    der = t.getpeercert(binary_form=True)
            return subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-text"],
                                  input=der, capture_output=True).stdout.decode()
        assert wait_for(lambda: want in served(), within=10), ciphers
    d.write_conf(d.base_conf)
    d.proc.send_signal(1)


def test_a_visitor_brings_a_waiting_vhost_forward_and_a_stranger_nothing(env):
    """On demand, from the directory only: a handshake naming a vhost that
    waits (its DNS pointed elsewhere, its next try an hour away) has it
    tried at once; names that are no vhost cost nothing."""
    d, peb = env
    host = "late.alice-site.test"
    d.dns.set_a(host, "192.0.2.9")
    d.write_conf(d.base_conf.replace("acme-retry 2s", "acme-retry 1h"))
    d.proc.send_signal(1)
    time.sleep(0.5)
    d.locker("vhost", "add", "alice", host)
    s = wait_for(lambda: (cert_status(d, host) or {}).get("error") and
                 cert_status(d, host), within=10)
    assert s["state"] == "pending" and s["next_renewal"] > time.time() + 600, s
    d.dns.set_a(host, "127.0.0.1")
    time.sleep(5)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for name in (host, "stranger-on-demand.test", "alice.test.example"):
        try:
            with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as so:
                with ctx.wrap_socket(so, server_hostname=name):
                    pass
        except (ssl.SSLError, OSError):
            pass
    assert wait_for(lambda: have_cert(d, host), within=20), (cert_status(d, host),
                                                             d.log()[-2000:])
    assert peb.orders_for("stranger-on-demand.test") == 0
    assert cert_status(d, "stranger-on-demand.test") is None
    d.write_conf(d.base_conf)
    d.proc.send_signal(1)


# ---------------------------------------------------------------- a hostile CA

class HostileCA(http.server.BaseHTTPRequestHandler):
    """Answers by the path's first word: garbage JSON, a 10 MB body, a
    redirect to another host, an answer that trickles a byte a second."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        mode = self.path.split("/")[1]
        self.server.seen.append(mode)
        try:
            if mode == "garbage":
                body = b'{"newNonce": [1, 2, {"\\u0000": nul}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif mode == "huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(10 << 20))
                self.end_headers()
                chunk = b"[" * 65536
                for _ in range(160):
                    self.wfile.write(chunk)
            elif mode == "redirect":
                self.send_response(302)
                self.send_header("Location", "https://evil.example/dir")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif mode == "slow":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(60):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
        except OSError:
            pass      # the client gave up: that is the point


def test_a_hostile_ca_stalls_nothing_and_writes_nowhere(make_lockerd, tmp_path):
    tmp = str(tmp_path)
    os.chmod(tmp, 0o755)
    make_pki(tmp)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileCA)
    srv.daemon_threads = True
    srv.seen = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{tmp}/pebble.pem", f"{tmp}/pebble.key")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    dns = ChallTestSrv(tmp)
    d = make_lockerd()
    base = open(d.conf).read() + f"acme-resolver 127.0.0.1:{dns.port}\n"
    ku = pwd.getpwnam("lockerd-key").pw_uid
    try:
        d.write_conf(base + acme_conf(d, f"https://127.0.0.1:{port}/garbage/dir",
                                      f"{tmp}/ca.pem"))
        d.start()
        d.signup("alice")
        d.put("alice", "index.html", "hello\n", mode=0o644)
        errors = {}
        for mode, says in (("garbage", "not JSON"), ("huge", "oversized"),
                           ("redirect", "HTTP 302"), ("slow", "no whole answer")):
            if mode != "garbage":
                d.write_conf(base + acme_conf(d, f"https://127.0.0.1:{port}/{mode}/dir",
                                              f"{tmp}/ca.pem"))
                d.proc.send_signal(1)
            # While acme talks to it, lockerd answers at once, every time.
            t_end = time.time() + (12 if mode == "slow" else 3)
            worst = 0
            while time.time() < t_end:
                t0 = time.time()
                st, _, body = get(d.port, "/~alice/index.html", "scripts.test.example")
                worst = max(worst, time.time() - t0)
                assert st == 200 and body == b"hello\n"
                time.sleep(0.1)
            assert worst < 1.0, (mode, worst)
            print(f"hostile CA {mode}: slowest plain request {worst * 1000:.1f} ms")
            def shown():
                for c in json.loads(d.locker("--json", "cert", "list").stdout):
                    if says in c["error"]:
                        return c
            s = wait_for(shown, within=25)
            assert s, (mode, d.locker("cert", "list").stdout, d.log())
            assert s["state"] == "failed", s
            errors[mode] = s["error"]
        assert set(srv.seen) >= {"garbage", "huge", "redirect", "slow"}
        assert "evil.example" not in "".join(srv.seen)
        # Nothing of key-user's outside tls-dir; in it, its own files only.
        for root, dirs, files in os.walk(d.dir):
            for f in dirs + files:
                p = os.path.join(root, f)
                if os.lstat(p).st_uid == ku:
                    assert p == tls_dir(d) or p.startswith(tls_dir(d) + "/"), p
        names = sorted(os.listdir(tls_dir(d)))
        assert set(names) <= {"account.key", "test.example.state",
                              "scripts.test.example.state"}, names
        assert d.pids("acme"), "the acme process is gone"
        print("errors shown:", errors)
    finally:
        srv.shutdown()
        dns.stop()


def test_the_acme_process_runs_as_key_user_under_its_filter(env):
    d, _ = env
    pids = d.pids("acme")
    assert len(pids) == 1, d.children()
    with open(f"/proc/{pids[0]}/status") as f:
        st = f.read()
    ku = pwd.getpwnam("lockerd-key").pw_uid
    uids = [int(x) for x in re.search(r"Uid:\s+(.*)", st).group(1).split()]
    assert uids == [ku] * 4, st
    assert re.search(r"Seccomp:\s+2", st) and re.search(r"NoNewPrivs:\s+1", st), st
    assert os.readlink(f"/proc/{pids[0]}/cwd") == tls_dir(d)
    # Its filter refuses what it never needs: no program can be started.
    assert re.search(r"CapEff:\s+0+$", st, re.M), st


def test_lockerd_t_checks_the_acme_keys(make_lockerd, tmp_path):
    d = make_lockerd()
    base = open(d.conf).read()
    for extra, says in (
            ("acme-ca http://ca.example/dir\n",
             f":{len(base.splitlines()) + 1}: acme-ca: \"http://ca.example/dir\" is not an "
             "https:// URL"),
            ("acme-ca-fallback https://ca.example/dir\n", "needs acme-ca"),
            ("acme-ca https://ca.example/dir\nacme-ca-bundle /nonexistent/roots.pem\n",
             "acme-ca-bundle /nonexistent/roots.pem"),
            ("acme-ca https://ca.example/dir\nacme-challenge tls-alpn-01\n",
             "needs a TLS listener"),
            ("acme-key-type dsa\n", "acme-key-type")):
        d.write_conf(base + extra)
        r = subprocess.run([os.path.join(d.build, "lockerd"), "-t", "-c", d.conf],
                           capture_output=True, text=True)
        assert r.returncode != 0 and says in r.stderr, (extra, r.stderr)
        assert f"{d.conf}:" in r.stderr, r.stderr
    d.write_conf(base + "acme-ca https://ca.example/dir\nacme-key-type both\n")
    r = subprocess.run([os.path.join(d.build, "lockerd"), "-t", "-c", d.conf],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
