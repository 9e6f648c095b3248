"""Hesiod (issue 18): every locker published as Athena's clients find it,
by RFC 2136 updates from the hesiod role to a real knotd (knot.py), and
read back with Debian's hesinfo through the system's resolver and
libhesiod, as an organisation's machines would.

knotd listens on port 53 of a loopback address of its own (127.A.B.C):
resolv.conf has no port.  hesinfo runs in a mount namespace of its own
(unshare -m) where a test resolv.conf is bound over /etc/resolv.conf, and
HESIOD_CONFIG names a test hesiod.conf: the machine's files are never
touched.  One knotd and one lockerd for the module, stopped by pid.
"""
import json
import os
import random
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import Lockerd, TEST_BASE, wait_for, get
from knot import Knot, KDIG
from hesiod_client import hesiod_env, hesinfo

ZONE = "athena.test"
FILSYS = "NFS /export/lockers/%s files.athena.test w /mit/%s"


def _loopback():
    """A loopback address nobody else's test uses: port 53 is free there."""
    return f"127.{random.randint(10, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"


@pytest.fixture(scope="module")
def knot():
    os.makedirs(TEST_BASE, exist_ok=True)
    k = Knot(tempfile.mkdtemp(prefix="hesknot", dir=TEST_BASE), zone=ZONE,
             host=_loopback(), port=53, transfer=True)
    k.start()
    yield k
    k.stop()
    shutil.rmtree(k.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def d(build_dir, knot):
    srv = Lockerd(build_dir, extra=(
        f"hesiod-server {knot.address}\n"
        f"hesiod-zone {ZONE}\n"
        f"hesiod-key {knot.key_name} hmac-sha256 {knot.secret_file}\n"
        f"hesiod-filsys {FILSYS}\n"
        f"hesiod-retry 1s\n"))
    srv.start()
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def hes_env(knot):
    """resolv.conf and hesiod.conf for hesinfo, in a directory of the test's."""
    env = hesiod_env(tempfile.mkdtemp(prefix="hesconf", dir=TEST_BASE), knot.host, ZONE)
    yield env
    shutil.rmtree(env, ignore_errors=True)


def passwd_line(d, name, uid):
    return f"{name}:*:{uid}:{uid}:Locker {name}:{d.lockers}/{name}:/usr/sbin/nologin"


def unique(prefix):
    return f"{prefix}{os.getpid() % 1000}{random.randint(100, 999)}"


def test_a_signup_is_found_by_hesinfo(d, knot, hes_env):
    name = unique("hes")
    uid = d.signup(name)["uid"]
    want = FILSYS.replace("%s", name)
    assert wait_for(lambda: knot.dig(f"{name}.filsys.ns.{ZONE}", "TXT") == [want],
                    within=20), d.log()
    assert hesinfo(hes_env, name, "filsys") == [want]
    assert hesinfo(hes_env, name, "passwd") == [passwd_line(d, name, uid)]
    assert hesinfo(hes_env, str(uid), "uid") == [passwd_line(d, name, uid)]
    assert hesinfo(hes_env, name, "group") == [f"{name}:*:{uid}:"]
    assert hesinfo(hes_env, str(uid), "gid") == [f"{name}:*:{uid}:"]
    assert hesinfo(hes_env, name, "url") == [f"http://{name}.{d.domain}/"]


def test_a_removal_disappears(d, knot, hes_env):
    name = unique("gone")
    uid = d.signup(name)["uid"]
    assert wait_for(lambda: hesinfo(hes_env, name, "filsys"), within=20), d.log()
    d.locker("remove", name, "--purge")
    for owner in (f"{name}.filsys", f"{name}.passwd", f"{uid}.uid", f"{name}.group",
                  f"{uid}.gid", f"{name}.url"):
        assert wait_for(lambda: knot.dig(f"{owner}.ns.{ZONE}", "ANY") == [], within=20), owner
    assert hesinfo(hes_env, name, "filsys") == []


def axfr(knot):
    r = subprocess.run([KDIG, "@" + knot.host, "-p", str(knot.port), "-y",
                        f"hmac-sha256:{knot.key_name}:{knot.secret}", ZONE, "AXFR"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_nothing_secret_is_published(d, knot):
    """The whole zone as published, and the export: no key, no password."""
    name = unique("sec")
    d.signup(name)
    assert wait_for(lambda: knot.dig(f"{name}.passwd.ns.{ZONE}", "TXT"), within=20)
    zone = axfr(knot)
    export = d.locker("export", "hesiod").stdout
    for text in (zone, export):
        assert knot.secret not in text
        assert knot.secret_file not in text
    for line in zone.splitlines():
        if ".passwd.ns." in line and "\tTXT\t" in line:
            fields = line.split('"')[1].split(":")
            assert fields[1] == "*", line     # never a hash
    # A hostile locker cannot read the key the role holds.
    r = d.locker("run", name, "--", "/bin/cat", knot.secret_file, check=False)
    assert r.returncode != 0 and knot.secret not in r.stdout


def test_the_key_is_in_no_process_but_hesiod(d, knot):
    """The key that writes the zone: the master opens its file and hands the
    hesiod role the descriptor; no other process holds it (read as root
    through /proc/PID/mem, as an attacker who took one of them would)."""
    import base64
    from conftest import memory_has
    name = unique("key")
    d.signup(name)      # the role has signed an update with it by now
    assert wait_for(lambda: knot.dig(f"{name}.url.ns.{ZONE}", "TXT"), within=20)
    pats = [knot.secret.encode(), base64.b64decode(knot.secret)]
    kids = d.children()
    hes = [p for p, (role, _) in kids.items() if role == "hesiod"]
    assert len(hes) == 1, kids
    assert memory_has(hes[0], pats)     # the search works: it holds the key
    for pid, (role, uid) in kids.items():
        if pid != hes[0]:
            assert memory_has(pid, pats) == set(), f"{role} {pid} holds the TSIG key"
        else:
            assert uid != 0, "the hesiod role runs as root"
        fds = os.listdir(f"/proc/{pid}/fd")
        assert all(os.readlink(f"/proc/{pid}/fd/{n}") != knot.secret_file for n in fds)
    assert memory_has(d.proc.pid, pats) == set(), "the master holds the TSIG key"
    procs = json.loads(d.locker("--json", "status").stdout)["processes"]
    assert [p for p in procs if p["role"] == "hesiod" and p["pid"] == hes[0]], procs


def test_a_killed_role_starts_again_with_its_key(d, knot):
    import signal
    pid = wait_for(lambda: d.pids("hesiod") and d.pids("hesiod")[0], within=15)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: d.pids("hesiod") and d.pids("hesiod")[0] != pid, within=30)
    name = unique("again")
    d.signup(name)
    assert wait_for(lambda: knot.dig(f"{name}.filsys.ns.{ZONE}", "TXT") ==
                    [FILSYS.replace("%s", name)], within=30), d.log()


def test_export_lists_the_records_and_only_root_may(d):
    name = unique("exp")
    uid = d.signup(name)["uid"]
    text = d.locker("export", "hesiod").stdout
    assert f'{name}.filsys.ns.{ZONE}. 300 IN TXT "{FILSYS.replace("%s", name)}"' in text
    assert f"{uid}.uid.ns.{ZONE}. 300 IN CNAME {name}.passwd.ns.{ZONE}." in text
    j = json.loads(d.locker("--json", "export", "hesiod").stdout)
    mine = [r for r in j["records"] if r["locker"] == name]
    assert sorted(r["owner"].split(".")[1] for r in mine) == \
        ["filsys", "gid", "group", "passwd", "uid", "url"]
    assert j["zone"] == ZONE
    assert wait_for(lambda: json.loads(d.locker("--json", "export", "hesiod").stdout)
                    ["state"] == "ok", within=20)
    r = d.locker("export", "hesiod", user="nobody", check=False)
    assert r.returncode != 0 and "root" in r.stderr
    r = d.locker("export", "hesiod", "--bogus", check=False)
    assert r.returncode != 0


def test_sync_repairs_the_zone(d, knot, hes_env):
    """A stale owner (a removal missed) and a changed record: --sync fixes both."""
    name = unique("syn")
    d.signup(name)
    want = FILSYS.replace("%s", name)
    assert wait_for(lambda: knot.dig(f"{name}.filsys.ns.{ZONE}", "TXT") == [want], within=20)
    knot.set(f"ghost{name}.filsys.ns.{ZONE}.", "TXT", '"NFS /elsewhere"')
    knot.unset(f"{name}.filsys.ns.{ZONE}.", "TXT")
    knot.set(f"{name}.filsys.ns.{ZONE}.", "TXT", '"AFS /afs/wrong"')
    r = d.locker("export", "hesiod", "--sync")
    assert "compares the zone" in r.stderr
    assert wait_for(lambda: knot.dig(f"{name}.filsys.ns.{ZONE}", "TXT") == [want], within=20)
    assert wait_for(lambda: knot.dig(f"ghost{name}.filsys.ns.{ZONE}", "TXT") == [], within=20)
    assert hesinfo(hes_env, name, "filsys") == [want]


def test_dns_server_down_then_records_catch_up(d, knot, hes_env):
    """The server down: signups and pages go on; once it is back the records
    follow (hesiod-retry 1s), the removal made meanwhile too."""
    old = unique("old")
    d.signup(old)
    assert wait_for(lambda: knot.dig(f"{old}.filsys.ns.{ZONE}", "TXT"), within=20)
    knot.stop()
    try:
        new = unique("new")
        t0 = time.monotonic()
        d.signup(new)
        d.locker("remove", old, "--purge")
        d.put(new, "index.html", "served\n", mode=0o644)
        status, _, body = get(d.port, "/", f"{new}.{d.domain}")
        assert status == 200 and body == b"served\n"
        assert wait_for(lambda: json.loads(d.locker("--json", "export", "hesiod").stdout)
                        ["state"] == "failing", within=30), d.log()
    finally:
        knot.start()
    assert wait_for(lambda: knot.dig(f"{new}.filsys.ns.{ZONE}", "TXT") ==
                    [FILSYS.replace("%s", new)], within=30), d.log()
    assert wait_for(lambda: knot.dig(f"{old}.filsys.ns.{ZONE}", "TXT") == [], within=30)
    assert hesinfo(hes_env, new, "filsys") == [FILSYS.replace("%s", new)]
    assert t0  # the signup above did not wait for the DNS server


def check(build_dir, conf):
    return subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-c", conf],
                          capture_output=True, text=True, timeout=30)


def test_lockerd_t_checks_the_hesiod_keys(build_dir, knot, tmp_path):
    base = f"listen 127.0.0.1:8080\ndomain x.test\nhesiod-server {knot.address}\n"
    cases = [
        ("", "hesiod-server needs hesiod-zone and hesiod-key"),
        (f"hesiod-zone {ZONE}\nhesiod-key k hmac-sha1 {knot.secret_file}\n",
         "expected hmac-sha256 or hmac-sha512"),
        (f"hesiod-zone {ZONE}\nhesiod-key k hmac-sha256 {knot.secret_file}\n"
         "hesiod-filsys NFS /x/%d\n", "only %s"),
        (f"hesiod-zone {ZONE}\nhesiod-key k hmac-sha256 {knot.secret_file}\n"
         "hesiod-lhs ns\n", "hesiod-lhs: expected .LABEL"),
        (f"hesiod-zone {ZONE}\nhesiod-key k hmac-sha256 {tmp_path}/nokey\n",
         "No such file or directory"),
    ]
    for extra, want in cases:
        conf = tmp_path / "c.conf"
        conf.write_text(base + extra)
        os.chmod(conf, 0o644)
        r = check(build_dir, str(conf))
        assert r.returncode != 0 and want in r.stderr, (extra, r.stderr)
        assert f"{conf}:" in r.stderr, r.stderr
    conf.write_text(base + f"hesiod-zone {ZONE}\nhesiod-key k hmac-sha256 {knot.secret_file}\n")
    r = check(build_dir, str(conf))
    assert r.returncode == 0, r.stderr
