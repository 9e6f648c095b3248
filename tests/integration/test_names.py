"""Names and what comes with them: a locker name signed up again after a
removal carries none of the old locker's history; host names a locker may
and may not take; who may be an admin; which names are reserved.

Real login users are made here (useradd) and removed after, named apart
from test_selfservice.py's so that the two can run at once: lkvictim
administers the victim lockers, lkmallory is the attacker (group-signup
is on, as on a host that lets anyone make a group locker).
"""
import json
import os
import pwd
import signal
import subprocess
import time

import pytest

from conftest import Lockerd, get

USERS = ("lkvictim", "lkmallory")
MARK = "lockerd names test user"


def _user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _remove_user(name):
    pw = _user(name)
    if pw is not None and pw.pw_gecos == MARK:
        subprocess.run(["userdel", "-r", name], capture_output=True)


@pytest.fixture(scope="module")
def users():
    for u in USERS:
        if _user(u) is not None and _user(u).pw_gecos != MARK:
            pytest.skip(f"a real user {u} exists on this machine")
    for u in USERS:
        _remove_user(u)
        subprocess.run(["useradd", "-m", "-c", MARK, "-s", "/bin/bash", u],
                       check=True, capture_output=True)
    yield {u: pwd.getpwnam(u) for u in USERS}
    for u in USERS:
        _remove_user(u)


@pytest.fixture(scope="module")
def d(build_dir, users):
    inst = Lockerd(build_dir, front_processes=1, extra="group-signup yes\n").start()
    inst.locker("signup", "--group", "vclub", user="lkvictim")
    yield inst
    inst.cleanup()


def L(d, user, *args, **kw):
    """`locker ARGS` as a login user, not checked."""
    return d.locker(*args, user=user, check=False, **kw)


def _wait_for(fn, within=5.0):
    deadline = time.time() + within
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


# ---------------------------------------------------------------- history

def test_a_reused_name_inherits_no_history(d, users):
    """victim's admin types a password on a su/run command line and victim
    has access and error log lines; victim is removed; mallory (a login user,
    group-signup yes) signs up the same name and must read none of it."""
    name, secret = "hist-club", f"S3CRET-{os.getpid()}"
    assert L(d, "lkvictim", "signup", "--group", name).returncode == 0
    d.put(name, "err.sh", "echo ERRLINE-%s >&2\necho Content-Type: text/plain\necho\n"
          "echo hi\n" % secret)
    r = L(d, "lkvictim", "su", name, "--", "true", f"--password={secret}")
    assert r.returncode == 0, r.stderr
    d.locker("run", name, "--", "sh", "-c", f"echo {secret}")
    tag = f"/err.sh?ACCESS-{secret}"
    assert get(d.port, tag, f"{name}.test.example")[0] == 200
    assert _wait_for(lambda: tag in L(d, "lkvictim", "logs", name).stdout)
    assert _wait_for(lambda: f"ERRLINE-{secret}" in L(d, "lkvictim", "logs", name,
                                                        "--error").stdout)
    # the trail says what was run, not with which arguments, even to its admins
    mine = json.loads(L(d, "lkvictim", "audit", name, "--json").stdout)
    assert ("su", "true +1 arg") in [(a["action"], a["detail"]) for a in mine]
    assert ("run", "sh +2 args") in [(a["action"], a["detail"]) for a in mine]
    assert secret not in json.dumps(mine)
    old_uid = d.info(name)["uid"]
    d.locker("remove", name)
    r = L(d, "lkmallory", "signup", "--group", name)
    assert r.returncode == 0, r.stderr
    for args in (("audit", name, "--json"), ("audit", "--json")):
        rows = json.loads(L(d, "lkmallory", *args).stdout)
        assert [(a["user"], a["action"]) for a in rows if a["locker"] == name] == \
            [("lkmallory", "signup")], rows
    for args in (("logs", name), ("logs", name, "--error")):
        r = L(d, "lkmallory", *args)
        assert r.returncode == 0, r.stderr
        assert secret not in r.stdout and "err.sh" not in r.stdout, r.stdout
    # nothing lost: the old logs went to the archive, beside the home's
    arch = os.path.join(d.logs, "lockers", ".archive")
    old = [e for e in os.listdir(arch) if e.startswith(name + ".")]
    assert len(old) == 1 and old[0].endswith(".%d" % old_uid), old
    with open(os.path.join(arch, old[0], "access.log")) as f:
        assert tag in f.read()
    with open(os.path.join(arch, old[0], "error.log")) as f:
        assert f"ERRLINE-{secret}" in f.read()
    # and mallory's own requests are logged afresh under the name
    d.put(name, "new.txt", "new\n")
    assert get(d.port, "/new.txt?mallory-own", f"{name}.test.example")[0] == 200
    assert _wait_for(lambda: "mallory-own" in L(d, "lkmallory", "logs", name).stdout)
    d.locker("remove", name)


# ---------------------------------------------------------------- admins and names

def test_system_accounts_are_never_admins(d):
    """root, daemons and nobody are not login users: an admin who adds one
    would hand the locker to whoever subverts that daemon."""
    for user in ("root", "daemon", "nobody", "0", "1"):
        for caller in ("lkvictim", None):
            r = d.locker("admin", "add", "vclub", user, user=caller, check=False)
            assert r.returncode != 0, (user, caller)
            assert "system account" in r.stderr or "no login user" in r.stderr, r.stderr
    assert [a["user"] for a in json.loads(
        d.locker("admin", "list", "vclub", "--json").stdout)] == ["lkvictim"]
    # and a daemon's account signs nothing up, not even with group-signup yes
    r = d.locker("signup", "--group", "daemons-club", user="daemon", check=False)
    assert r.returncode == 77 and "system account" in r.stderr, r.stderr
    assert d.locker("info", "daemons-club", check=False).returncode != 0


@pytest.mark.parametrize("name", [
    "isatap", "wpad", "login", "sso", "accounts", "auth", "admin", "root", "mail",
    "smtp", "imap", "pop", "ftp", "autoconfig", "autodiscover", "webmail", "ns1",
    "ns42", "www", "www2", "mx3", "api", "static", "cdn", "_dmarc", "_acme-challenge",
    "ab--cd", "xn--club", "123", "club-",
])
def test_names_that_invite_phishing_are_reserved(d, name):
    r = L(d, "lkvictim", "signup", "--group", name)
    assert r.returncode in (1, 2), (name, r.stderr)
    # (a system user's name may be refused as another user's login first)
    assert "invalid locker name" in r.stderr or "login of another user" in r.stderr, r.stderr
    assert d.locker("info", name, check=False).returncode != 0


# ---------------------------------------------------------------- vhosts

@pytest.fixture(scope="module")
def mallory(d):
    r = L(d, "lkmallory", "signup", "--group", "mallory")
    assert r.returncode == 0, r.stderr
    d.put("mallory", "index.html", "mallory's\n")
    d.put("vclub", "index.html", "victim's\n")
    return "mallory"


@pytest.mark.parametrize("host", [
    # the service's own names
    "test.example", "scripts.test.example", "SCRIPTS.test.example.",
    # addresses, in every form resolvers take
    "127.0.0.1", "2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "127.1",
    "10.0.0.1", "1.2.3.4.5", "[::1]", "::1", "[::ffff:127.0.0.1]",
    # nobody's names
    "localhost", "a.localhost", "intranet", "printer.local", "x.invalid",
    "1.0.0.127.in-addr.arpa",
    # another locker's
    "vclub.test.example", "www.vclub.test.example",
])
def test_a_vhost_cannot_be_a_service_name_an_address_or_nobodys(d, mallory, host):
    r = L(d, "lkmallory", "vhost", "add", "mallory", host)
    assert r.returncode in (1, 2), (host, r.stderr)
    assert host.lower().strip(".") not in [
        v["host"] for v in json.loads(d.locker("vhost", "list", "--json").stdout)]
    # root cannot make one either: these are never a locker's
    assert d.locker("vhost", "add", "mallory", host, check=False).returncode != 0
    # and a request by that name still reaches the victim through /~vclub/
    if host in ("test.example", "scripts.test.example"):
        s, _, b = get(d.port, "/~vclub/", host)
        assert (s, b) == (200, b"victim's\n"), host
    if not host.startswith(("[", ":")):
        assert get(d.port, "/", host)[2] != b"mallory's\n"


def test_a_new_hostname_outranks_a_vhost_taken_before_it(d, mallory):
    """mallory takes a name the administrator later adds as a `hostname`;
    after the reload every /~victim/ URL on it is the victim's, and the
    vhost is gone, logged."""
    host = "portal.test-svc.example"
    assert L(d, "lkmallory", "vhost", "add", "mallory", host).returncode == 0
    assert get(d.port, "/", host)[2] == b"mallory's\n"
    with open(d.conf) as f:
        conf = f.read()
    d.write_conf(conf + f"hostname {host}\n")
    os.kill(d.proc.pid, signal.SIGHUP)
    assert _wait_for(lambda: "configuration and directory reloaded" in d.log())
    s, _, b = get(d.port, "/~vclub/", host)
    assert (s, b) == (200, b"victim's\n")
    assert get(d.port, "/", host)[2] != b"mallory's\n"
    assert f"vhost {host} of mallory dropped: {host} is a service host name" in d.log()
    assert host not in [v["host"] for v in json.loads(
        d.locker("vhost", "list", "--json").stdout)]
    audit = json.loads(d.locker("audit", "mallory", "--json").stdout)
    assert ("root", "vhost-remove", host) in [(a["user"], a["action"], a["detail"])
                                               for a in audit]
    # and it cannot be taken again
    r = L(d, "lkmallory", "vhost", "add", "mallory", host)
    assert r.returncode == 1 and "service host name" in r.stderr
