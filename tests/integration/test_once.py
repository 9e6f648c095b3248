"""Several machines, what must happen once and what must be shared (issue
18): PHP sessions that survive a request landing on another node, a
configuration that cannot be shared refused in a fleet.

Two lockerds on one machine stand in for two nodes: each its own state
directory, port and logs, the same lockers root (the shared storage's
stand-in, as in test_fleet.py) and the same directory rows (here a copy of
A's directory file, made with SQLite's online backup: what the fleet
directory's feed gives every node)."""
import os
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import tempfile

import pytest

from conftest import Lockerd, free_port, get, self_signed, wait_for


def _share(a, b):
    """b serves a's lockers: a's lockers root, tls-dir and uid range, a copy
    of a's directory."""
    with open(b.conf) as f:
        conf = f.read()
    conf = re.sub(r"^lockers .*$", f"lockers {a.lockers}", conf, flags=re.M)
    conf = re.sub(r"^tls-dir .*$", f"tls-dir {a.dir}/state/tls", conf, flags=re.M)
    rng = re.search(r"^uid-range .*$", open(a.conf).read(), flags=re.M).group(0)
    conf = re.sub(r"^uid-range .*$", rng, conf, flags=re.M)
    b.write_conf(conf)
    state = os.path.join(b.dir, "state")
    os.makedirs(state, mode=0o700, exist_ok=True)
    src = sqlite3.connect(os.path.join(a.dir, "state", "directory.db"))
    dst = sqlite3.connect(os.path.join(state, "directory.db"))
    src.backup(dst)
    dst.execute("INSERT INTO leases (what, holder, expires) VALUES ('acme', 'oncea', "
                "strftime('%s','now') + 86400) ON CONFLICT (what) DO UPDATE SET "
                "holder = 'oncea', expires = excluded.expires")
    dst.commit()
    dst.close()
    src.close()
    os.chmod(os.path.join(state, "directory.db"), 0o600)


@pytest.fixture(scope="module")
def pair(build_dir):
    a = Lockerd(build_dir, extra="file-cache-valid 0\n").start()
    b = pki = None
    try:
        a.signup("sessa")
        a.signup("sessmal")
        pki = tempfile.mkdtemp(prefix="once-pki", dir=os.path.dirname(a.dir))
        crt, key = self_signed(pki, "test.example")
        # b's ACME client never orders: the acme lease is another node's
        # (below), and its CA is nowhere
        b = Lockerd(build_dir, extra="file-cache-valid 0\ntls-rescan 1s\n"
                    f"certificate test.example {crt} {key}\nnode onceb\n"
                    "acme-ca https://127.0.0.1:9/directory\n")
        b.tls_port = free_port()
        with open(b.conf) as f:
            b.write_conf(f.read() + f"listen 127.0.0.1:{b.tls_port} tls\n")
        _share(a, b)
        b.start()
        yield a, b
    finally:
        if b is not None:
            b.stop()
            # b's lockers root is a's: only its own directories go
            b.cleanup()
        a.cleanup()
        if pki is not None:
            shutil.rmtree(pki, ignore_errors=True)


def test_a_php_session_started_on_one_node_is_read_on_another(pair):
    a, b = pair
    host = "sessa.test.example"
    # lockerd's own php.ini settings (script.c): no session_save_path() here
    a.put("sessa", "count.php", '<?php session_start();'
          ' $_SESSION["n"] = ($_SESSION["n"] ?? 0) + 1;'
          ' echo $_SESSION["n"], " ", session_save_path();', mode=0o644)
    s, h, body = get(a.port, "/count.php", host)
    assert s == 200 and body == b"1 /tmp", (s, body, a.log()[-2000:])
    cookie = h["set-cookie"].split(";")[0].encode()
    # the next request lands on the other node: the session is there
    s, h, body = get(b.port, "/count.php", host, extra=b"Cookie: " + cookie + b"\r\n")
    assert (s, body) == (200, b"2 /tmp"), (s, body, b.log()[-2000:])
    s, h, body = get(a.port, "/count.php", host, extra=b"Cookie: " + cookie + b"\r\n")
    assert (s, body) == (200, b"3 /tmp"), (s, body)
    # the session file is in the locker's home on the shared root (its
    # /tmp is the home's tmp/), owned by it: counted in its disk limit
    info = a.info("sessa")
    sid = cookie.split(b"=", 1)[1].decode()
    path = os.path.join(a.lockers, "sessa", "tmp", "sess_" + sid)
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (info["uid"], info["gid"])
    assert st.st_mode & 0o077 == 0, oct(st.st_mode)


def test_another_lockers_sessions_stay_out_of_reach_on_every_node(pair):
    """mallory, on the node that did not start the session, goes after the
    victim's session file on the shared lockers root: by its path under the
    lockers root, and in its own /tmp (which is its home's tmp/)."""
    a, b = pair
    host = "sessa.test.example"
    a.put("sessa", "secret.php", '<?php session_start(); $_SESSION["pw"] = "hunter2-once";'
          ' echo session_id();', mode=0o644)
    s, h, sid = get(a.port, "/secret.php", host)
    assert s == 200 and re.fullmatch(rb"[A-Za-z0-9,-]+", sid), (s, sid)
    sid = sid.decode()
    victim = os.path.join(a.lockers, "sessa", "tmp", "sess_" + sid)
    assert "hunter2-once" in open(victim).read()
    b.put("sessmal", "steal.php", '<?php foreach (["root", "tmp", "home"] as $k) { $p = $_GET[$k]; $r = @file_get_contents($p);'
          ' echo $k, "=", $r === false ? "refused" : $r, "\n"; }'
          ' session_id($_GET["sid"]); session_start(); echo "own=", json_encode($_SESSION);',
          mode=0o644)
    q = f"?root={victim}&tmp=/tmp/sess_{sid}&home=/home/sessa/tmp/sess_{sid}&sid={sid}"
    for node in (a, b):
        s, h, body = get(node.port, "/steal.php" + q, "sessmal.test.example")
        assert s == 200, (s, body)
        assert b"hunter2-once" not in body, body
        # its own /tmp holds its own (empty) session of that id, at most
        assert b"root=refused\n" in body and b"home=refused\n" in body, body
        assert re.search(rb"\ntmp=(refused)?\n", body) and body.endswith(b"own=[]"), body


def _served_cn(port, name):
    """The CN of the certificate the listener presents for SNI name."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            der = s.getpeercert(binary_form=True)
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
                         input=der, capture_output=True, check=True).stdout.decode()
    return out.strip().rsplit("=", 1)[-1].strip()


def test_a_certificate_written_to_the_shared_tls_dir_is_served_by_another_node(pair):
    a, b = pair
    name = "peer-once.test.example"
    assert _served_cn(b.tls_port, name) == "test.example"
    # What the acme lease's holder (node a) writes to tls-dir: a key, then
    # its certificate, each by rename.  b was told nothing (no SIGHUP, no
    # message): its tls-rescan finds them.
    tls = os.path.join(a.dir, "state", "tls")
    with tempfile.TemporaryDirectory(dir=os.path.dirname(a.dir)) as t:
        crt, key = self_signed(t, name)
        for src, ext in ((key, ".key"), (crt, ".crt")):
            os.rename(src, os.path.join(tls, ".x" + ext))
            os.rename(os.path.join(tls, ".x" + ext), os.path.join(tls, name + ext))
    assert wait_for(lambda: _served_cn(b.tls_port, name) == name, within=30), b.log()[-3000:]
    assert "changed: its certificates are read again" in b.log()


def test_disk_quota_image_is_refused_in_a_fleet(build_dir, tmp_path):
    """An image is a file on one machine's disk: a fleet (directory
    postgres) cannot share it, and lockerd -t says so with the line."""
    d = Lockerd(build_dir)
    try:
        conninfo = tmp_path / "fleet.conninfo"
        conninfo.write_text("host=127.0.0.1 dbname=lockerd user=lockerd\n")
        os.chmod(conninfo, 0o600)
        with open(d.conf) as f:
            base = f.read()
        d.write_conf(base + f"directory postgres {conninfo}\ndisk-quota image\n")
        line = len(base.splitlines()) + 2
        r = subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-c", d.conf],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0, r
        assert (f"{d.conf}:{line}: disk-quota image keeps each locker's files in an image "
                "on this machine's own disk; in a fleet (directory postgres) the lockers "
                "root is shared storage") in r.stderr, r.stderr
        # the same fleet without the image is a configuration lockerd -t accepts
        d.write_conf(base + f"directory postgres {conninfo}\n")
        r = subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-c", d.conf],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    finally:
        d.cleanup()


def test_an_http01_token_the_acme_holder_published_is_answered_by_another_node(pair):
    """The CA's check may reach any node behind the balancer: b, which
    does not hold the acme lease, answers what the holder's master wrote
    to tls-dir/acme-tokens/ (acme_share.c), and stops when it is gone."""
    a, b = pair
    token = "onceTok3n_-" + "x" * 32
    keyauth = token + "." + "T" * 43
    tokens = os.path.join(a.dir, "state", "tls", "acme-tokens")
    os.makedirs(tokens, exist_ok=True)
    path = "/.well-known/acme-challenge/" + token

    def answer():
        return get(b.port, path, "sessa.test.example")

    assert answer()[0] == 404
    with open(os.path.join(tokens, token), "w") as f:
        f.write(keyauth)
    assert wait_for(lambda: answer()[:3:2] == (200, keyauth.encode()), within=30), \
        (answer(), b.log()[-2000:])
    # a file that is not a token is not relayed
    with open(os.path.join(tokens, "bad token"), "w") as f:
        f.write("bad token.x")
    os.unlink(os.path.join(tokens, token))
    assert wait_for(lambda: answer()[0] == 404, within=30), answer()
    assert get(b.port, "/.well-known/acme-challenge/bad%20token", "sessa.test.example")[0] == 404
