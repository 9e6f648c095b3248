""".htaccess access control from the client's side: Basic auth (401, the
right password, a wrong one), Require all denied, Require ip against a
client on another loopback address, Order/Deny, <LimitExcept GET>, an
AuthUserFile that is another locker's or leads out through a symlink (500,
nothing leaked), front's caches never serving a protected file to a
request without credentials, a rule change applying at once, and a client
certificate required on a verify-client listener.
"""
import base64
import os
import socket
import subprocess

import pytest

from conftest import _H2_PORTS, TEST_BASE, Lockerd, free_port, parse_responses, wait_for
from h2client import H2Conn
from test_tls import CA

# The tests on the module's d run over HTTP/1.1 and again over HTTP/2
# (conftest.py: transports).
TRANSPORTS = ("h1", "h2")

DOMAIN = "test.example"
HOST = "alice." + DOMAIN


def request(port, path, host=HOST, method="GET", auth=None, source="127.0.0.1", body=b""):
    """One request from a chosen loopback address: (status, headers, body)."""
    if port in _H2_PORTS:
        fields = []
        if auth is not None:
            fields.append(("authorization", "Basic " + base64.b64encode(auth.encode()).decode()))
        with H2Conn(port, host, source=source) as c:
            st = c.get(method, path, host, fields, body if method == "POST" else None)
        return st.status, st.head(), bytes(st.body)
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
    if auth is not None:
        head += "Authorization: Basic " + base64.b64encode(auth.encode()).decode() + "\r\n"
    if method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    s = socket.socket()
    s.settimeout(10)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(head.encode() + b"\r\n" + body)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    except socket.timeout:
        pass
    s.close()
    r = parse_responses(b"".join(chunks), head_only=(0,) if method == "HEAD" else ())
    assert r, "no response"
    return r[0]


def put_home(d, locker, rel, content, mode=0o600):
    """A file in the locker's home (not under web_scripts), the locker's own."""
    info = d.info(locker)
    path = os.path.join(info["home"], rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)
    os.chown(path, info["uid"], info["gid"])
    os.chmod(path, mode)
    return path


def htpasswd(user, password, fmt="-B"):
    out = subprocess.run(["htpasswd", "-nb", fmt, user, password], capture_output=True,
                         text=True, check=True).stdout
    return out.strip() + "\n"


def error_log(d, name):
    try:
        with open(os.path.join(d.logs, "lockers", name, "error.log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


@pytest.fixture(scope="module")
def pki():
    os.makedirs(TEST_BASE, exist_ok=True)
    base = os.path.join(TEST_BASE, f"pkiaccess{os.getpid()}")
    for sub in ("", "clients"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    ca = CA(base)
    clients = CA(os.path.join(base, "clients"), name="lockerd client CA")
    yield {"ca": ca, "clients": clients,
           "svc": ca.leaf("svc", f"/CN=*.{DOMAIN}", ["*." + DOMAIN, DOMAIN]),
           "alyssa": clients.leaf("alyssa", "/CN=alyssa/O=MIT", [], client=True),
           "ben": clients.leaf("ben", "/CN=ben/O=MIT", [], client=True)}
    subprocess.run(["rm", "-rf", base])


@pytest.fixture(scope="module")
def d(build_dir, pki, transport):
    vport = free_port()
    extra = (f"listen 127.0.0.1:{vport} tls verify-client\n"
             f"certificate *.{DOMAIN} {pki['svc'][0]} {pki['svc'][1]}\n"
             f"tls-client-ca {pki['clients'].crt}\n")
    ld = Lockerd(build_dir, extra=extra, domain=DOMAIN, transport=transport)
    ld.verify_port = vport
    ld.start()
    ld.signup("alice")
    ld.signup("bob")
    yield ld
    ld.cleanup()


def basic_site(d, sub, realm="Private area", fmt="-B"):
    home = d.info("alice")["home"]
    put_home(d, "alice", f"pw/{sub}.htpasswd", htpasswd("alyssa", "correct horse", fmt))
    d.put("alice", f"{sub}/.htaccess",
          f'AuthType Basic\nAuthName "{realm}"\nAuthUserFile {home}/pw/{sub}.htpasswd\n'
          "Require valid-user\n", mode=0o644)
    d.put("alice", f"{sub}/secret.txt", f"the {sub} secret\n", mode=0o644)


@pytest.mark.parametrize("fmt", ["-B", "-m", "-s", "-2", "-5"])
def test_basic_auth_401_then_200_with_each_hash(d, fmt):
    sub = "basic" + fmt.strip("-")
    basic_site(d, sub, fmt=fmt)
    s, h, b = request(d.port, f"/{sub}/secret.txt")
    assert s == 401 and b"secret" not in b
    assert h["www-authenticate"] == 'Basic realm="Private area"'
    s, h, b = request(d.port, f"/{sub}/secret.txt", auth="alyssa:correct horse")
    assert (s, b) == (200, f"the {sub} secret\n".encode())
    for bad in ("alyssa:wrong horse", "mallory:correct horse", "alyssa:", "alyssa"):
        s, h, b = request(d.port, f"/{sub}/secret.txt", auth=bad)
        assert s == 401 and b"secret" not in b, bad
        assert h["www-authenticate"].startswith("Basic realm=")


def test_protected_file_never_served_without_credentials_after_one_with(d):
    basic_site(d, "cached")
    for _ in range(3):
        assert request(d.port, "/cached/secret.txt", auth="alyssa:correct horse")[0] == 200
        # Every front process, several times: none keeps what the first decided.
        for _ in range(4):
            s, h, b = request(d.port, "/cached/secret.txt")
            assert s == 401 and b"secret" not in b
            s, h, b = request(d.port, "/cached/secret.txt", method="HEAD")
            assert s == 401


def test_require_all_denied_and_a_rule_change_applies_at_once(d):
    d.put("alice", "data/pages/start.txt", "wiki page\n", mode=0o644)
    d.put("alice", "data/.htaccess", "Require all granted\n", mode=0o644)
    assert request(d.port, "/data/pages/start.txt")[:3:2] == (200, b"wiki page\n")
    d.put("alice", "data/.htaccess", "Require all denied\n", mode=0o644)
    s, h, b = request(d.port, "/data/pages/start.txt")
    assert s == 403 and b"wiki page" not in b
    assert request(d.port, "/data/")[0] == 403
    assert "client denied by server configuration" in error_log(d, "alice")


def test_require_ip_against_another_loopback_address(d):
    d.put("alice", "local/.htaccess", "Require ip 127.0.0.1\n", mode=0o644)
    d.put("alice", "local/a.txt", "local only\n", mode=0o644)
    assert request(d.port, "/local/a.txt")[:3:2] == (200, b"local only\n")
    s, h, b = request(d.port, "/local/a.txt", source="127.0.0.2")
    assert s == 403 and b"local only" not in b
    # Then from 127.0.0.1 again: the 403 was not kept for it, nor the 200 for 127.0.0.2.
    assert request(d.port, "/local/a.txt")[0] == 200
    assert request(d.port, "/local/a.txt", source="127.0.0.2")[0] == 403


def test_order_deny_from_all_and_allow_from_an_address(d):
    d.put("alice", "old/.htaccess", "Order deny,allow\nDeny from all\n", mode=0o644)
    d.put("alice", "old/a.txt", "old style\n", mode=0o644)
    assert request(d.port, "/old/a.txt")[0] == 403
    d.put("alice", "old2/.htaccess", "Order deny,allow\nDeny from all\nAllow from 127.0.0.2\n",
          mode=0o644)
    d.put("alice", "old2/a.txt", "old style\n", mode=0o644)
    assert request(d.port, "/old2/a.txt")[0] == 403
    assert request(d.port, "/old2/a.txt", source="127.0.0.2")[0] == 200


def test_limit_except_get_protects_post_only(d):
    home = d.info("alice")["home"]
    put_home(d, "alice", "pw/limit.htpasswd", htpasswd("alyssa", "correct horse"))
    d.put("alice", "form/.htaccess",
          f"AuthType Basic\nAuthName form\nAuthUserFile {home}/pw/limit.htpasswd\n"
          "<LimitExcept GET>\nRequire valid-user\n</LimitExcept>\n", mode=0o644)
    d.put("alice", "form/post.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
          "echo \"ran $REQUEST_METHOD as $REMOTE_USER\"\n", mode=0o755)
    s, h, b = request(d.port, "/form/post.cgi")
    assert (s, b) == (200, b"ran GET as \n")
    s, h, b = request(d.port, "/form/post.cgi", method="POST", body=b"x=1")
    assert s == 401 and b"ran" not in b
    s, h, b = request(d.port, "/form/post.cgi", method="POST", body=b"x=1",
                      auth="alyssa:correct horse")
    assert s == 200 and b.startswith(b"ran POST"), (s, b)


def test_authuserfile_of_another_locker_or_through_a_symlink_is_500(d):
    bob = d.info("bob")["home"]
    alice = d.info("alice")["home"]
    put_home(d, "bob", "bob.htpasswd", htpasswd("bob", "bobs password"), mode=0o644)
    cases = {
        "other": f"{bob}/bob.htpasswd",
        "dotdot": f"{alice}/../bob/bob.htpasswd",
        "link": f"{alice}/link.htpasswd",
        "abs": "/etc/passwd",
    }
    link = os.path.join(alice, "link.htpasswd")
    if not os.path.lexists(link):
        os.symlink(f"{bob}/bob.htpasswd", link)
    os.lchown(link, d.info("alice")["uid"], d.info("alice")["gid"])
    for name, path in cases.items():
        d.put("alice", f"steal{name}/.htaccess",
              f"AuthType Basic\nAuthName x\nAuthUserFile {path}\nRequire valid-user\n",
              mode=0o644)
        d.put("alice", f"steal{name}/a.txt", "alice's\n", mode=0o644)
        # Without credentials, as in Apache, the 401 comes before the file is read.
        for auth in ("bob:bobs password", "root:x", None):
            s, h, b = request(d.port, f"/steal{name}/a.txt", auth=auth)
            assert s == (500 if auth else 401), (name, auth, s)
            assert b"bob" not in b and b"$2y$" not in b and b"alice's" not in b
    log = error_log(d, "alice")
    assert "AuthUserFile" in log and "bobs password" not in log


@pytest.mark.h1_only("on the module's own verify-client listener, whatever the transport "
                    "(curl takes h2 there by ALPN): once")
def test_client_certificate_required(d, pki):
    d.put("alice", "certs/.htaccess", "SSLVerifyClient require\n", mode=0o644)
    d.put("alice", "certs/a.txt", "cert holders\n", mode=0o644)

    def curl(path, *extra):
        r = subprocess.run(["curl", "-sS", "--cacert", pki["ca"].crt, "--resolve",
                            f"{HOST}:{d.verify_port}:127.0.0.1", "-o", "-", "-w",
                            "\n%{http_code}", *extra, f"https://{HOST}:{d.verify_port}{path}"],
                           capture_output=True, text=True, timeout=30)
        body, _, code = r.stdout.rpartition("\n")
        return int(code or 0), body

    alyssa = ("--cert", pki["alyssa"][0], "--key", pki["alyssa"][1])
    ben = ("--cert", pki["ben"][0], "--key", pki["ben"][1])
    assert curl("/certs/a.txt", *alyssa) == (200, "cert holders\n")
    assert curl("/certs/a.txt")[0] == 403
    # Plain HTTP has no certificate at all.
    assert request(d.port, "/certs/a.txt")[0] == 403
    d.put("alice", "who/.htaccess", "Require expr %{SSL_CLIENT_S_DN_CN} == 'alyssa'\n",
          mode=0o644)
    d.put("alice", "who/a.txt", "alyssa only\n", mode=0o644)
    assert curl("/who/a.txt", *alyssa) == (200, "alyssa only\n"), error_log(d, "alice")[-600:]
    assert curl("/who/a.txt", *ben)[0] == 403
    assert curl("/who/a.txt")[0] == 403
