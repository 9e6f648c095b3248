"""The directory and the command line: `locker` and `lockerd -t`, as a user
and an administrator run them, against a running master."""
import json
import os
import pwd
import re
import signal
import stat
import subprocess
import time

import pytest

from conftest import Lockerd, get, wait_for

# Every locker uid any test here saw: none may be left as an account.
SEEN_UIDS = set()


@pytest.fixture(scope="module")
def d(build_dir):
    """A running lockerd with no lockers; each test signs up its own."""
    inst = Lockerd(build_dir, front_processes=1).start()
    yield inst
    inst.cleanup()


def signup(d, name):
    info = d.signup(name)
    SEEN_UIDS.add(info["uid"])
    return info


def getent_uid(uid):
    return subprocess.run(["getent", "passwd", str(uid)], capture_output=True,
                          text=True).returncode == 0


def served(d, host, path):
    return get(d.port, path, host)


def wait_status(d, host, path, want, within=3.0):
    deadline = time.time() + within
    s = None
    while time.time() < deadline:
        s, _, b = get(d.port, path, host)
        if s == want:
            return b
        time.sleep(0.05)
    raise AssertionError(f"{host}{path}: status {s}, wanted {want}")


# ---------------------------------------------------------------- signup

def test_signup_creates_the_home(d):
    info = signup(d, "carol")
    assert info["name"] == "carol"
    home = info["home"]
    assert home == os.path.join(d.lockers, "carol")
    st = os.lstat(home)
    assert stat.S_ISDIR(st.st_mode)
    assert (st.st_uid, st.st_gid) == (info["uid"], info["gid"])
    assert stat.S_IMODE(st.st_mode) == 0o700
    for sub in ("web_scripts", "cron_scripts", "mail_scripts", "tmp"):
        st = os.lstat(os.path.join(home, sub))
        assert stat.S_ISDIR(st.st_mode), sub
        assert (st.st_uid, st.st_gid) == (info["uid"], info["gid"]), sub
        assert stat.S_IMODE(st.st_mode) == 0o700, sub
    # uid and gid come from the configured range, never root's
    low, high = [int(x) for x in re.search(r"uid-range (\d+)-(\d+)",
                                           open(d.conf).read()).groups()]
    assert low <= info["uid"] <= high and low <= info["gid"] <= high


def test_signup_prints_what_it_did(d):
    r = d.locker("signup", "carol-two")
    info = d.info("carol-two")
    SEEN_UIDS.add(info["uid"])
    assert "carol-two" in r.stdout and str(info["uid"]) in r.stdout


def test_name_of_63_characters_is_accepted(d):
    name = "l" + "x" * 62
    info = signup(d, name)
    assert info["name"] == name and os.path.isdir(info["home"])


def test_list_and_info_and_their_json(d):
    signup(d, "dora")
    signup(d, "ed-2")
    r = d.locker("list", "--json")
    lst = json.loads(r.stdout)
    assert isinstance(lst, list)
    by_name = {e["name"]: e for e in lst}
    for name in ("dora", "ed-2", "carol"):
        e = by_name[name]
        for k in ("name", "uid", "gid", "home"):
            assert k in e, (name, k)
        assert isinstance(e["uid"], int) and isinstance(e["gid"], int)
        assert e["home"] == os.path.join(d.lockers, name)
    assert len({e["uid"] for e in lst}) == len(lst), "two lockers share a uid"

    info = json.loads(d.locker("info", "dora", "--json").stdout)
    assert info["name"] == "dora"
    assert info["uid"] == by_name["dora"]["uid"]
    assert info["gid"] == by_name["dora"]["gid"]
    assert info["home"] == os.path.join(d.lockers, "dora")
    assert os.stat(info["home"]).st_uid == info["uid"]
    # --json before the command works as well
    assert json.loads(d.locker("--json", "info", "dora").stdout)["uid"] == info["uid"]

    # the human forms name the same things
    text = d.locker("list").stdout
    assert "dora" in text and "ed-2" in text and str(info["uid"]) in text
    text = d.locker("info", "dora").stdout
    assert "dora" in text and str(info["uid"]) in text and info["home"] in text

    r = d.locker("info", "no-such-locker", check=False)
    assert r.returncode != 0 and "no-such-locker" in r.stderr


@pytest.mark.parametrize("name", [
    "Alice",            # upper case
    "-abc",             # leading '-'
    "abc-",             # trailing '-'
    "a" * 64,           # longer than a DNS label
    "www", "root", "admin", "postmaster", "nobody",   # reserved
    "12345",            # all digits
    "",                 # empty
    "a_b", "a.b", "a b", "caf\u00e9", "a/b", "..",
    "xn--abc",          # punycode-like
])
def test_invalid_names_refused(d, name):
    r = d.locker("signup", name, check=False)
    assert r.returncode != 0, f"signup {name!r} succeeded"
    assert r.stderr.strip(), f"signup {name!r} refused without a message"
    lst = json.loads(d.locker("list", "--json").stdout)
    assert name not in [e["name"] for e in lst]
    if name and "/" not in name and name not in ("..",):
        assert not os.path.lexists(os.path.join(d.lockers, name))


def test_invalid_name_messages_say_why(d):
    r = d.locker("signup", "Upper", check=False)
    assert r.returncode != 0 and "lower" in r.stderr.lower()
    r = d.locker("signup", "www", check=False)
    assert r.returncode != 0 and "reserved" in r.stderr.lower()
    r = d.locker("signup", "4242", check=False)
    assert r.returncode != 0 and "digit" in r.stderr.lower()


def test_duplicate_signup_refused(d):
    first = signup(d, "fred")
    r = d.locker("signup", "fred", check=False)
    assert r.returncode != 0 and r.stderr.strip()
    assert d.info("fred")["uid"] == first["uid"]
    lst = json.loads(d.locker("list", "--json").stdout)
    assert [e["name"] for e in lst].count("fred") == 1


def test_uids_are_distinct_and_never_reused(d):
    before = {e["uid"] for e in json.loads(d.locker("list", "--json").stdout)}
    x1 = signup(d, "xavier")
    assert x1["uid"] not in before
    d.locker("remove", "xavier")
    x2 = signup(d, "xavier")
    assert x2["uid"] != x1["uid"], "a removed locker's uid was given out again"
    y = signup(d, "yolanda")
    assert y["uid"] not in (x1["uid"], x2["uid"])
    d.locker("remove", "yolanda", "--purge")
    z = signup(d, "zack")
    assert z["uid"] not in (x1["uid"], x2["uid"], y["uid"])
    all_uids = [e["uid"] for e in json.loads(d.locker("list", "--json").stdout)]
    assert len(set(all_uids)) == len(all_uids)


def test_uids_not_reused_across_a_restart(make_lockerd):
    m = make_lockerd(front_processes=1).start()
    a = m.signup("alpha")
    SEEN_UIDS.add(a["uid"])
    m.locker("remove", "alpha", "--purge")
    m.stop()
    m.start()
    b = m.signup("beta")
    SEEN_UIDS.add(b["uid"])
    assert b["uid"] != a["uid"]
    c = m.signup("alpha")
    SEEN_UIDS.add(c["uid"])
    assert c["uid"] not in (a["uid"], b["uid"])
    m.locker("remove", "beta", "--purge")
    m.locker("remove", "alpha", "--purge")
    assert not getent_uid(a["uid"]) and not getent_uid(c["uid"])


# ---------------------------------------------------------------- remove

def test_remove_archives_the_home_and_stops_serving_at_once(d):
    info = signup(d, "gina")
    d.put("gina", "page.txt", "gina's page\n")
    d.put("gina", "sub/deep.txt", "deep\n")
    s, _, b = get(d.port, "/page.txt", "gina.test.example")
    assert (s, b) == (200, b"gina's page\n")
    s, _, b = get(d.port, "/~gina/page.txt", "scripts.test.example")
    assert (s, b) == (200, b"gina's page\n")

    d.locker("remove", "gina")
    # at once: no waiting, no restart
    assert get(d.port, "/page.txt", "gina.test.example")[0] == 404
    assert get(d.port, "/~gina/page.txt", "scripts.test.example")[0] == 404
    assert not os.path.lexists(info["home"])
    names = [e["name"] for e in json.loads(d.locker("list", "--json").stdout)]
    assert "gina" not in names
    assert d.locker("info", "gina", check=False).returncode != 0

    archive = os.path.join(d.lockers, ".archive")
    found = [n for n in os.listdir(archive) if n.startswith("gina")]
    assert len(found) == 1, found
    home = os.path.join(archive, found[0])
    with open(os.path.join(home, "web_scripts", "page.txt")) as f:
        assert f.read() == "gina's page\n"
    with open(os.path.join(home, "web_scripts", "sub", "deep.txt")) as f:
        assert f.read() == "deep\n"
    for sub in ("web_scripts", "cron_scripts", "mail_scripts", "tmp"):
        assert os.path.isdir(os.path.join(home, sub))
    st = os.stat(os.path.join(home, "web_scripts", "page.txt"))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (info["uid"], 0o600)
    # the worker that served gina is gone too
    time.sleep(0.2)
    for pid, (role, uid) in d.children().items():
        assert uid != info["uid"], f"process {pid} ({role}) of a removed locker"


def test_remove_kills_a_worker_that_does_not_stop(d):
    """A worker that does not act on SIGTERM (stopped here; a hostile
    locker's could be made to ignore it) is killed a second later: the
    master's deadline fires although nothing else happens in its loop."""
    info = signup(d, "ivan")
    d.put("ivan", "p.txt", "ivan\n")
    assert get(d.port, "/p.txt", "ivan.test.example")[0] == 200
    workers = [pid for pid, (role, uid) in d.children().items()
               if uid == info["uid"] and role == "worker"]
    assert len(workers) == 1, d.children()
    os.kill(workers[0], signal.SIGSTOP)
    t0 = time.monotonic()
    d.locker("remove", "ivan", "--purge")
    gone = wait_for(lambda: not os.path.exists(f"/proc/{workers[0]}") or
                    "\nState:\tZ" in open(f"/proc/{workers[0]}/status").read(), within=10)
    assert gone, "a stopped worker outlived its locker's removal by 10 s"
    print(f"stopped worker killed {time.monotonic() - t0:.2f} s after the removal")


def test_remove_purge_deletes_the_home(d):
    info = signup(d, "hank")
    d.put("hank", "p.txt", "hank\n")
    d.put("hank", "a/b/c.txt", "deep\n")
    # the locker made a directory unwritable for itself: still purged
    os.chmod(os.path.join(info["home"], "web_scripts", "a", "b"), 0o500)
    assert get(d.port, "/p.txt", "hank.test.example")[0] == 200
    r = d.locker("remove", "hank", "--purge")
    assert r.returncode == 0
    assert get(d.port, "/p.txt", "hank.test.example")[0] == 404
    assert not os.path.lexists(info["home"])
    archive = os.path.join(d.lockers, ".archive")
    if os.path.isdir(archive):
        assert not [n for n in os.listdir(archive) if n.startswith("hank")]


def purge_watched(d, name, files, look):
    """Sign name up, give its home files, purge it, and call look(pid) on
    each of its processes for as long as the purge runs; its exit status."""
    info = signup(d, name)
    many = os.path.join(info["home"], "web_scripts", "many")
    os.mkdir(many)
    for i in range(files):
        f = os.path.join(many, str(i))
        open(f, "w").close()
        os.chown(f, info["uid"], info["gid"])
    os.chown(many, info["uid"], info["gid"])
    p = subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "remove", name,
                          "--purge"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while p.poll() is None:
        for pid, (_, uid) in d.children().items():
            if uid == info["uid"]:
                try:
                    look(pid)
                except OSError:
                    pass
    return info, p.wait()


def test_a_purge_holds_none_of_the_masters_descriptors(d):
    """The purge runs as the locker, outside any jail and without an exec:
    it must start with nothing of the master's (the directory, the control
    and listening sockets, the workers' channels)."""
    seen = {}

    def look(pid):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            seen[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")

    _, rc = purge_watched(d, "ivy", 40000, look)
    assert rc == 0 and seen, "the purge was not seen running"
    for fd, target in seen.items():
        assert fd <= 2 or target.startswith(d.lockers + "/.archive/ivy."), seen


def test_a_purge_runs_as_the_locker_with_no_new_privs(d):
    """The purge drops root through become(), as every other drop does: the
    locker's uid alone, and no_new_privs (it once skipped it)."""
    seen = []

    def look(pid):
        with open(f"/proc/{pid}/status") as f:
            st = dict(line.split(":", 1) for line in f if ":" in line)
        seen.append((st["Uid"].split(), st["Gid"].split(), st["Groups"].split(),
                     st["NoNewPrivs"].strip()))

    info, rc = purge_watched(d, "ivo", 20000, look)
    assert rc == 0 and seen, "the purge was not seen running"
    u, g = str(info["uid"]), str(info["gid"])
    for uids, gids, groups, nnp in seen:
        assert uids == [u] * 4 and gids == [g] * 4 and groups == [] and nnp == "1", seen


def test_the_cli_links_neither_the_directory_nor_sqlite(d):
    """`locker` only talks to the master: no SQLite, no directory code."""
    cli = os.path.join(d.build, "locker")
    out = subprocess.run(["ldd", cli], capture_output=True, text=True).stdout
    assert "libsqlite3" not in out and "libseccomp" not in out, out
    syms = subprocess.run(["nm", cli], capture_output=True, text=True).stdout
    assert " dir_locker_get" not in syms and "sqlite3_" not in syms


def test_remove_unknown_locker_fails(d):
    r = d.locker("remove", "never-was", check=False)
    assert r.returncode != 0 and "never-was" in r.stderr


# ---------------------------------------------------------------- vhosts

def test_vhost_add_serves_at_once_and_remove_stops_at_once(d):
    signup(d, "ivan")
    d.put("ivan", "index.html", "ivan root\n")
    d.put("ivan", "blog/index.html", "ivan blog\n")
    d.put("ivan", "blog/post.txt", "a post\n")
    assert get(d.port, "/", "www.ivan-site.org")[0] == 404

    d.locker("vhost", "add", "ivan", "www.ivan-site.org")
    s, _, b = get(d.port, "/", "www.ivan-site.org")
    assert (s, b) == (200, b"ivan root\n")
    # case and port do not matter
    s, _, b = get(d.port, "/blog/post.txt", "WWW.Ivan-Site.ORG:8080")
    assert (s, b) == (200, b"a post\n")

    d.locker("vhost", "add", "ivan", "blog.ivan-site.org", "--path", "blog")
    s, _, b = get(d.port, "/", "blog.ivan-site.org")
    assert (s, b) == (200, b"ivan blog\n")
    s, _, b = get(d.port, "/post.txt", "blog.ivan-site.org")
    assert (s, b) == (200, b"a post\n")
    # the subdirectory is the vhost's root: nothing above it
    assert get(d.port, "/../index.html", "blog.ivan-site.org")[2] != b"ivan root\n"
    assert get(d.port, "/index.html", "blog.ivan-site.org")[2] == b"ivan blog\n"

    text = d.locker("vhost", "list").stdout
    assert "www.ivan-site.org" in text and "blog.ivan-site.org" in text
    vl = json.loads(d.locker("vhost", "list", "--json").stdout)
    by_host = {v["host"]: v for v in vl}
    assert by_host["www.ivan-site.org"]["locker"] == "ivan"
    assert by_host["blog.ivan-site.org"]["locker"] == "ivan"
    assert by_host["blog.ivan-site.org"]["path"].strip("/") == "blog"
    assert by_host["www.ivan-site.org"]["path"].strip("/") == ""
    info = json.loads(d.locker("info", "ivan", "--json").stdout)
    assert "www.ivan-site.org" in json.dumps(info["vhosts"])

    d.locker("vhost", "remove", "www.ivan-site.org")
    assert get(d.port, "/", "www.ivan-site.org")[0] == 404
    s, _, b = get(d.port, "/", "blog.ivan-site.org")
    assert (s, b) == (200, b"ivan blog\n")
    vl = json.loads(d.locker("vhost", "list", "--json").stdout)
    assert "www.ivan-site.org" not in [v["host"] for v in vl]
    d.locker("vhost", "remove", "blog.ivan-site.org")
    assert get(d.port, "/", "blog.ivan-site.org")[0] == 404
    r = d.locker("vhost", "remove", "blog.ivan-site.org", check=False)
    assert r.returncode != 0


def test_vhost_refusals(d):
    signup(d, "judy")
    signup(d, "kate")
    d.put("kate", "k.txt", "kate\n")
    bad = [
        ("judy", "kate.test.example"),       # another locker's address
        ("judy", "judy.test.example"),       # a locker's own address is not a vhost
        ("judy", "future.test.example"),     # a name a future locker will own
        ("judy", "www.kate.test.example"),   # under another locker's name
        ("judy", "scripts.test.example"),    # the service's own host name
        ("judy", "test.example"),            # the domain itself
        ("judy", "bad_host!.org"),           # not a host name
        ("nobody-such", "x.judy-site.org"),  # no such locker
    ]
    for locker, host in bad:
        r = d.locker("vhost", "add", locker, host, check=False)
        assert r.returncode != 0, f"vhost add {locker} {host} succeeded"
        assert r.stderr.strip()
    s, _, b = get(d.port, "/k.txt", "kate.test.example")
    assert (s, b) == (200, b"kate\n")
    for path in ("../x", ".git", "/abs/../..", "a/../../b"):
        r = d.locker("vhost", "add", "judy", "p.judy-site.org", "--path", path, check=False)
        assert r.returncode != 0, f"--path {path} accepted"
    # a host can belong to one locker only
    d.locker("vhost", "add", "judy", "shared.example.net")
    r = d.locker("vhost", "add", "kate", "shared.example.net", check=False)
    assert r.returncode != 0
    d.locker("vhost", "remove", "shared.example.net")


def test_vhost_removed_with_its_locker(d):
    signup(d, "liam")
    d.put("liam", "index.html", "liam\n")
    d.locker("vhost", "add", "liam", "liam-site.example.com")
    assert get(d.port, "/", "liam-site.example.com")[0] == 200
    d.locker("remove", "liam")
    assert get(d.port, "/", "liam-site.example.com")[0] == 404
    vl = json.loads(d.locker("vhost", "list", "--json").stdout)
    assert "liam-site.example.com" not in [v["host"] for v in vl]


# ---------------------------------------------------------------- who may do what

def test_non_root_may_list_but_not_change(d):
    signup(d, "mona")
    r = d.locker("list", user="nobody", check=False)
    assert r.returncode == 0, r.stderr
    assert "mona" in r.stdout
    r = d.locker("list", "--json", user="nobody", check=False)
    assert "mona" in [e["name"] for e in json.loads(r.stdout)]
    r = d.locker("signup", "nora", user="nobody", check=False)
    assert r.returncode != 0
    assert "permission denied" in r.stderr.lower()
    assert d.locker("info", "nora", check=False).returncode != 0
    assert not os.path.lexists(os.path.join(d.lockers, "nora"))
    for args in (("remove", "mona"), ("remove", "mona", "--purge"),
                 ("vhost", "add", "mona", "mona-site.example.org"),
                 ("vhost", "remove", "mona-site.example.org")):
        r = d.locker(*args, user="nobody", check=False)
        assert r.returncode != 0, args
        assert "permission denied" in r.stderr.lower(), args
    assert d.info("mona")["name"] == "mona"
    assert os.path.isdir(os.path.join(d.lockers, "mona"))


def test_non_root_may_not_run_as_a_locker(d):
    signup(d, "mona-run")
    marker = os.path.join(d.lockers, "mona-run", "tmp", "ran")
    # Several times: the refusal must reach the user every time, not only
    # when the master happens to answer before the CLI has sent its stdio.
    for _ in range(20):
        r = d.locker("run", "mona-run", "--", "touch", "/tmp/ran", user="nobody",
                     check=False)
        assert r.returncode != 0
        assert not os.path.exists(marker), "a non-root user ran a command as a locker"
        assert "permission denied" in r.stderr.lower(), r.stderr


def test_a_created_user_is_refused_too(d):
    user = f"lkrt{os.getpid() % 100000}"
    subprocess.run(["userdel", user], capture_output=True)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                   check=True, capture_output=True)
    try:
        r = d.locker("list", user=user, check=False)
        assert r.returncode == 0, r.stderr
        r = d.locker("signup", "olga", user=user, check=False)
        assert r.returncode != 0 and "permission denied" in r.stderr.lower()
    finally:
        subprocess.run(["userdel", user], capture_output=True)
    assert subprocess.run(["getent", "passwd", user], capture_output=True).returncode != 0


# ---------------------------------------------------------------- usage

@pytest.mark.parametrize("args", [
    (),
    ("frobnicate",),
    ("vhost",),
    ("vhost", "frob"),
    ("info",),
    ("signup",),
    ("signup", "a", "b"),
    ("remove",),
    ("list", "extra"),
    ("vhost", "add", "alice"),
    ("vhost", "add", "alice", "a.example.org", "extra"),
    ("vhost", "remove"),
    ("run", "alice"),
    ("run", "alice", "id"),
    ("run", "--", "id"),
    ("signup", "abc", "--purge"),
    ("list", "--path", "x"),
    ("--bogus-option", "list"),
    ("audit", "a", "b"),
    ("audit", "--error"),
    ("status", "a", "b"),
    ("vhost", "verify", "alice"),
    ("vhost", "verify", "alice", "a.example.org", "extra"),
    ("vhost", "remove", "a.example.org", "--force"),
    ("list", "--force"),
])
def test_usage_errors_exit_2(d, args):
    r = d.locker(*args, check=False)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert "usage" in r.stderr.lower(), args


def test_help_without_a_config_still_prints_usage(build_dir):
    r = subprocess.run([os.path.join(build_dir, "locker")], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr.lower()
    for cmd in ("signup", "list", "info", "remove", "vhost add", "vhost remove",
                "vhost list", "vhost verify", "run"):
        assert cmd in r.stderr, cmd


def test_locker_without_a_running_master_fails_cleanly(make_lockerd):
    m = make_lockerd()    # configured, never started
    r = m.locker("list", check=False)
    assert r.returncode not in (0, 2) and "lockerd" in r.stderr


# ---------------------------------------------------------------- run

def test_run_as_the_locker(d):
    info = signup(d, "pete")
    d.put("pete", "f.txt", "x")
    r = d.locker("run", "pete", "--", "id", "-un")
    assert r.stdout.strip() == "pete"
    r = d.locker("run", "pete", "--", "whoami")
    assert r.stdout.strip() == "pete"
    r = d.locker("run", "pete", "--", "id")
    assert f"uid={info['uid']}(pete)" in r.stdout
    assert f"gid={info['gid']}(pete)" in r.stdout
    web = os.path.join(info["home"], "web_scripts")
    r = d.locker("run", "pete", "--", "ls", "-ld", web)
    assert r.stdout.split()[2] == "pete", r.stdout
    assert r.stdout.split()[3] == "pete", r.stdout
    r = d.locker("run", "pete", "--", "ls", "-l", web)
    line = [l for l in r.stdout.splitlines() if l.endswith("f.txt")][0]
    assert line.split()[2] == "pete", line
    r = d.locker("run", "pete", "--", "ls", "-l", info["home"])
    line = [l for l in r.stdout.splitlines() if l.endswith("web_scripts")][0]
    assert line.split()[2] == "pete", line


def test_run_passes_exit_status_stdin_and_stderr(d):
    signup(d, "quinn")
    r = d.locker("run", "quinn", "--", "sh", "-c", "exit 7", check=False)
    assert r.returncode == 7
    r = d.locker("run", "quinn", "--", "cat", input="from stdin\n")
    assert r.stdout == "from stdin\n"
    r = d.locker("run", "quinn", "--", "sh", "-c", "echo oops >&2", check=False)
    assert "oops" in r.stderr
    r = d.locker("run", "quinn", "--", "no-such-command-xyz", check=False)
    assert r.returncode != 0


def test_run_does_not_see_other_lockers(d):
    a = signup(d, "rita")
    b = signup(d, "sam")
    d.put("sam", "s.txt", "sam secret\n")
    r = d.locker("run", "rita", "--", "cat", os.path.join(b["home"], "web_scripts", "s.txt"),
                 check=False)
    assert r.returncode != 0 and "sam secret" not in r.stdout


def test_run_leaves_no_account_on_the_machine(d):
    info = signup(d, "tina")
    d.locker("run", "tina", "--", "id")
    assert not getent_uid(info["uid"]), "an account for a locker exists on the host"
    assert subprocess.run(["getent", "passwd", "tina"], capture_output=True).returncode != 0
    with open("/etc/passwd") as f:
        assert ":%d:" % info["uid"] not in f.read()


# ---------------------------------------------------------------- lockerd itself

def write_conf(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return str(path)


def good_conf(d):
    return (f"listen 127.0.0.1:{d.port}\n"
            "domain test.example\n"
            f"lockers {d.dir}/lockers\n"
            f"state {d.dir}/state\n"
            f"logs {d.dir}/logs\n"
            "uid-range 300000-300999\n")


def lockerd_t(build_dir, path):
    return subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-c", path],
                          capture_output=True, text=True, timeout=10)


def test_lockerd_t_accepts_a_good_file(build_dir, d, tmp_path):
    p = write_conf(tmp_path / "good.conf", "# a comment\n" + good_conf(d) +
                   "hostname other.example more.example   # trailing comment\n"
                   "header-timeout 5s\nmax-body-size 10m\n")
    r = lockerd_t(build_dir, p)
    assert r.returncode == 0, r.stderr
    # the running instance's own file too
    assert lockerd_t(build_dir, d.conf).returncode == 0


@pytest.mark.parametrize("bad_line,what", [
    ("frobnicate yes", "unknown directive"),
    ("listen 127.0.0.1:99999", "bad port"),
    ("listen 127.0.0.1:0", "port zero"),
    ("listen 127.0.0.1", "no port"),
    ("uid-range 5000-100", "reversed uid range"),
    ("uid-range abc", "not a range"),
    ("uid-range 0-100", "range including root"),
    ("header-timeout forever", "bad duration"),
    ("max-body-size lots", "bad size"),
    ("lockers relative/path", "relative path"),
    ("domain not_a_host!", "bad host name"),
    ("front-processes 0", "zero fronts"),
    ("domain a.example b.example", "two arguments"),
])
def test_lockerd_t_names_file_and_line(build_dir, d, tmp_path, bad_line, what):
    lines = good_conf(d).splitlines()
    # the bad line is line 3; an earlier directive it repeats is dropped
    key = bad_line.split()[0]
    lines = [l for l in lines if l.split()[0] != key]
    lines.insert(2, bad_line)
    p = write_conf(tmp_path / "bad.conf", "\n".join(lines) + "\n")
    r = lockerd_t(build_dir, p)
    assert r.returncode != 0, f"{what}: accepted"
    assert f"{p}:3:" in r.stderr, f"{what}: {r.stderr!r}"


def test_lockerd_t_refuses_a_file_others_can_write(build_dir, d, tmp_path):
    p = write_conf(tmp_path / "open.conf", good_conf(d), mode=0o666)
    r = lockerd_t(build_dir, p)
    assert r.returncode != 0
    assert p in r.stderr
    os.chmod(p, 0o644)
    assert lockerd_t(build_dir, p).returncode == 0
    # group-writable by a group other than root's
    os.chown(p, 0, 65534)
    os.chmod(p, 0o664)
    assert lockerd_t(build_dir, p).returncode != 0


def test_lockerd_t_missing_file(build_dir, tmp_path):
    p = str(tmp_path / "nope.conf")
    r = lockerd_t(build_dir, p)
    assert r.returncode != 0 and p in r.stderr


def test_lockerd_t_refuses_dirs_under_tmp(build_dir, d, tmp_path):
    text = good_conf(d).replace(f"lockers {d.dir}/lockers", "lockers /tmp/lockers-x")
    p = write_conf(tmp_path / "tmp.conf", text)
    assert lockerd_t(build_dir, p).returncode != 0


@pytest.mark.parametrize("args", [["-x"], ["--bogus"], ["-c"], ["extra-arg"],
                                  ["-t", "-c", "/dev/null", "extra"]])
def test_lockerd_bad_option_prints_usage(build_dir, args):
    r = subprocess.run([os.path.join(build_dir, "lockerd")] + args, capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2, (args, r.returncode)
    assert "usage" in r.stderr.lower()


# ---------------------------------------------------------------- reload

def test_sighup_adds_a_hostname_without_restart(make_lockerd):
    m = make_lockerd(front_processes=2).start()
    info = m.signup("alice")
    SEEN_UIDS.add(info["uid"])
    m.put("alice", "hup.txt", "hup\n")
    assert get(m.port, "/~alice/hup.txt", "other.example")[0] == 404
    assert get(m.port, "/~alice/hup.txt", "scripts.test.example")[2] == b"hup\n"
    pid = m.proc.pid
    fronts = set(m.pids("front"))
    with open(m.conf, "a") as f:
        f.write("hostname other.example\n")
    m.proc.send_signal(signal.SIGHUP)
    # every front process picks it up (several connections, so both are hit)
    deadline = time.time() + 3
    while True:
        got = [get(m.port, "/~alice/hup.txt", "OTHER.example:8080") for _ in range(6)]
        if all(g[0] == 200 and g[2] == b"hup\n" for g in got):
            break
        assert time.time() < deadline, [g[0] for g in got]
        time.sleep(0.1)
    # no restart: the same master, the same fronts
    assert m.proc.pid == pid and m.proc.poll() is None
    assert set(m.pids("front")) == fronts
    # what worked before still works
    assert get(m.port, "/hup.txt", "alice.test.example")[2] == b"hup\n"
    assert get(m.port, "/~alice/hup.txt", "scripts.test.example")[2] == b"hup\n"
    m.locker("remove", "alice", "--purge")


def test_sighup_keeps_what_needs_a_restart(make_lockerd):
    """A directive flagged CONF_RESTART in config.c's table (listen, the
    directories, the users, front-processes, disk-quota) keeps its running
    value on SIGHUP, and the log names those the file changed; the rest of
    the file takes effect."""
    m = make_lockerd(front_processes=1).start()
    info = m.signup("hugo")
    SEEN_UIDS.add(info["uid"])
    m.put("hugo", "h.txt", "hugo\n")
    with open(m.conf) as f:
        good = f.read()
    moved = good.replace(f"state {m.dir}/state\n", f"state {m.dir}/state2\n")
    m.write_conf(moved.replace("front-processes 1\n", "front-processes 3\n") +
                 "hostname late.example\n")
    n = m.log().count("configuration and directory reloaded")
    m.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: m.log().count("configuration and directory reloaded") > n)
    assert "reload: state, front-processes change only at restart; keeping the " \
        "running values" in m.log(), m.log()[-2000:]
    assert len(m.pids("front")) == 1
    assert get(m.port, "/~hugo/h.txt", "late.example")[2] == b"hugo\n"
    assert not os.path.exists(os.path.join(m.dir, "state2"))
    m.write_conf(good)
    m.locker("remove", "hugo", "--purge")


def test_sighup_with_a_broken_config_keeps_serving(make_lockerd):
    m = make_lockerd(front_processes=1).start()
    info = m.signup("bruno")
    SEEN_UIDS.add(info["uid"])
    m.put("bruno", "b.txt", "bruno\n")
    with open(m.conf) as f:
        good = f.read()
    with open(m.conf, "a") as f:
        f.write("hostname broken.example\nnot-a-directive here\n")
    m.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert m.proc.poll() is None, "a bad reload killed lockerd"
    assert get(m.port, "/b.txt", "bruno.test.example")[2] == b"bruno\n"
    assert get(m.port, "/~bruno/b.txt", "broken.example")[0] == 404
    m.write_conf(good)
    m.locker("remove", "bruno", "--purge")


# ---------------------------------------------------------------- last: no strays

def test_no_account_left_for_any_locker(d):
    # remove everything still signed up here, then look for every uid seen
    for e in json.loads(d.locker("list", "--json").stdout):
        SEEN_UIDS.add(e["uid"])
        d.locker("remove", e["name"], "--purge")
    assert json.loads(d.locker("list", "--json").stdout) == []
    assert SEEN_UIDS
    for uid in sorted(SEEN_UIDS):
        assert not getent_uid(uid), f"getent passwd {uid} finds an account"
        with pytest.raises(KeyError):
            pwd.getpwuid(uid)
