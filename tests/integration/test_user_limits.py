"""What one login user can make lockerd do for everyone: a loop of signups
or vhost changes, `locker status` over many lockers, a route change that
empties every front's caches.  Run as the attacker would: a real login user
with the CLI, and plain HTTP.

Login users of their own (not test_selfservice's, which another run may be
adding and removing at the same time) are made here and removed after.
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import as_user, get, login_users, parse_responses, raw, wait_for

MALLORY, VICTIM = "ulmallory", "ulvictim"
MARK = "lockerd user-limits test user"


@pytest.fixture(scope="module")
def users():
    with login_users((MALLORY, VICTIM), MARK, shell="/bin/sh") as made:
        yield made


L = as_user


def audit_rows(d, uid):
    db = sqlite3.connect(f"file:{d.dir}/state/directory.db?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM audit WHERE who = ?", (uid,)).fetchone()[0]
    finally:
        db.close()


def test_group_lockers_per_user_are_limited(make_lockerd, users):
    """970 group lockers by one user used up the uid range (uids are never
    reused): now a user may have signed up max-group-lockers-per-user."""
    d = make_lockerd(front_processes=1, extra="self-signup yes\ngroup-signup yes\n"
                     "max-group-lockers-per-user 3\nchange-rate 0\n").start()
    assert L(d, MALLORY, "signup").returncode == 0     # her own: not a group locker
    for i in range(3):
        r = L(d, MALLORY, "signup", "--group", f"mal-club{i}")
        assert r.returncode == 0, r.stderr
    r = L(d, MALLORY, "signup", "--group", "mal-club3")
    assert r.returncode == 77, (r.returncode, r.stderr)
    assert "max-group-lockers-per-user 3" in r.stderr and "signed up 3" in r.stderr
    names = [e["name"] for e in json.loads(d.locker("list", "--json").stdout)]
    assert "mal-club3" not in names
    # handing her lockers to someone else does not make room: she signed them up
    for i in range(3):
        assert L(d, MALLORY, "admin", "add", f"mal-club{i}", VICTIM).returncode == 0
        assert L(d, MALLORY, "admin", "remove", f"mal-club{i}", MALLORY).returncode == 0
    assert L(d, MALLORY, "signup", "--group", "mal-club3").returncode == 77
    # others are not limited by her, and root by nobody
    assert L(d, VICTIM, "signup", "--group", "vic-club").returncode == 0
    for i in range(5):
        d.locker("signup", f"root-made{i}")
    # root removing one of hers gives her one back
    d.locker("remove", "mal-club0")
    assert L(d, MALLORY, "signup", "--group", "mal-club3").returncode == 0


def test_a_loop_of_changes_is_cut_off(make_lockerd, users):
    """A vhost add/remove loop grew the audit trail by 0.5 MB/s and flushed
    every front's caches on each change: now each login user has a token
    bucket (change-burst at once, change-rate a minute)."""
    d = make_lockerd(front_processes=1, extra="self-signup yes\ngroup-signup yes\n"
                     "change-rate 6\nchange-burst 5\n").start()
    mal = users[MALLORY].pw_uid
    assert L(d, MALLORY, "signup").returncode == 0            # 1 token
    assert L(d, VICTIM, "signup").returncode == 0
    results = []
    t0 = time.monotonic()
    for i in range(20):
        r = L(d, MALLORY, "vhost", "add", MALLORY, f"h{i}.{MALLORY}.test.example")
        results.append(r)
        if r.returncode != 0:
            break
        r = L(d, MALLORY, "vhost", "remove", f"h{i}.{MALLORY}.test.example")
        results.append(r)
        if r.returncode != 0:
            break
    elapsed = time.monotonic() - t0
    ok = [r for r in results if r.returncode == 0]
    bad = results[-1]
    assert bad.returncode == 75, (bad.returncode, bad.stderr)
    assert "too many changes" in bad.stderr and "try again in" in bad.stderr
    # 4 tokens were left after her signup, and one more comes every 10 s
    assert len(ok) <= 4 + 1 + int(elapsed / 10), (len(ok), elapsed)
    # refused changes leave no row in the audit trail
    assert audit_rows(d, mal) == 1 + len(ok)
    # signups (even refused ones) and su are changes too
    r = L(d, MALLORY, "signup", "--group", "mal-more")
    assert r.returncode == 75 and "too many changes" in r.stderr
    r = L(d, MALLORY, "su", MALLORY, "--", "true")
    assert r.returncode == 75 and "too many changes" in r.stderr
    # what changes nothing is not counted
    assert L(d, MALLORY, "list").returncode == 0
    assert L(d, MALLORY, "vhost", "list").returncode == 0
    # the victim has a bucket of her own; root is not counted
    r = L(d, VICTIM, "vhost", "add", VICTIM, "www.victim-site.example.org")
    assert r.returncode == 0, r.stderr
    for i in range(10):
        d.locker("vhost", "add", MALLORY, f"root{i}.mallory-site.example.org")


def _strace_master(d, out):
    p = subprocess.Popen(["strace", "-p", str(d.proc.pid), "-e", "trace=openat",
                          "-o", out], stderr=subprocess.PIPE, text=True)
    # strace says "Process N attached" once it is
    line = p.stderr.readline()
    assert "attached" in line, line
    return p


def test_status_of_many_lockers_is_one_walk_of_proc(make_lockerd, users, tmp_path):
    """`locker status` walked /proc once per locker the caller administers
    (970 walks for 970 lockers, delaying every other locker's cold start).
    Now each locker's cgroup says its processes (one small file; none for
    a locker with no process).  Counted in the master's own system calls,
    not timed."""
    if not shutil.which("strace"):
        pytest.skip("strace not installed")
    d = make_lockerd(front_processes=1, extra="self-signup yes\ngroup-signup yes\n"
                     "max-group-lockers-per-user 8\nchange-rate 0\n").start()
    assert L(d, MALLORY, "signup").returncode == 0
    for i in range(6):
        assert L(d, MALLORY, "signup", "--group", f"mal-many{i}").returncode == 0
    # a worker for some of them, so there is something to show
    for name in (MALLORY, "mal-many0", "mal-many1"):
        assert get(d.port, "/", f"{name}.test.example")[0] in (200, 403, 404)
    # and a task (root's `locker run`), which the master started too
    task = subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "run", "mal-many2",
                             "--", "sleep", "5"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: any(p["role"] == "task" for p in json.loads(
            L(d, MALLORY, "status", "mal-many2", "--json").stdout)["processes"]))
        out = str(tmp_path / "strace.out")
        tracer = _strace_master(d, out)
        try:
            r = L(d, MALLORY, "status", "--json")
        finally:
            tracer.terminate()
            tracer.wait(timeout=10)
    finally:
        task.kill()
        task.wait()
    assert r.returncode == 0, r.stderr
    shown = {p["locker"] for p in json.loads(r.stdout)["processes"]}
    assert {MALLORY, "mal-many0", "mal-many1", "mal-many2"} <= shown
    # each process's role is looked up by its locker (no walk of every child
    # per process): the workers and the task are named as such
    roles = {(p["locker"], p["role"]) for p in json.loads(r.stdout)["processes"]}
    assert {(n, "worker") for n in (MALLORY, "mal-many0", "mal-many1")} <= roles, roles
    assert ("mal-many2", "task") in roles, roles
    calls = open(out).read().splitlines()
    walks = [ln for ln in calls if re.search(r'openat\([^,]+, "/proc", .*O_DIRECTORY', ln)]
    cgroups = [ln for ln in calls if "/cgroup.procs" in ln]
    # each locker's processes from its own cgroup, or, without cgroups, one
    # walk of /proc for all of them: never a walk per locker
    assert len(walks) <= 1, (len(walks), walks)
    assert len(cgroups) <= 7, cgroups
    if os.path.isdir("/sys/fs/cgroup/pids") or os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        assert walks == [] and cgroups, calls


def test_limit_directives_are_checked(make_lockerd):
    m = make_lockerd()
    base = open(m.conf).read()
    lockerd = os.path.join(m.build, "lockerd")
    for bad in ("change-rate lots\n", "change-burst 0\n", "max-workers -1\n",
                "max-group-lockers-per-user 1x\n", "dns-timeout 0\n", "dns-timeout 2m\n"):
        m.write_conf(base + bad)
        r = subprocess.run([lockerd, "-t", "-c", m.conf], capture_output=True, text=True)
        key = bad.split()[0]
        assert r.returncode != 0 and re.search(r"lockerd\.conf:\d+: .*" + key, r.stderr), \
            (bad, r.stderr)
    m.write_conf(base + "change-rate 12\nchange-burst 3\nmax-workers 7\n"
                 "max-group-lockers-per-user 2\ndns-timeout 7s\n")
    r = subprocess.run([lockerd, "-t", "-v", "-c", m.conf], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for line in ("change-rate 12", "change-burst 3", "max-workers 7",
                 "max-group-lockers-per-user 2", "dns-timeout 7s"):
        assert line + "\n" in r.stdout, r.stdout


def test_a_route_change_keeps_other_lockers_cached_files(make_lockerd, users):
    """Every vhost change emptied every front's file and script caches, so
    one user's vhost loop cut everybody's throughput.  Now only the entries
    of the lockers the change touched go.  Seen structurally: with the
    victim's worker stopped (SIGSTOP), only front's cache can still answer
    for her file.  (Making web_scripts unreadable no longer shows it: the
    worker's watch tells front that the directory changed.)"""
    d = make_lockerd(front_processes=1, extra="self-signup yes\nfile-cache-valid 60\n"
                     "change-rate 0\n").start()
    assert L(d, MALLORY, "signup").returncode == 0
    assert L(d, VICTIM, "signup").returncode == 0
    d.put(VICTIM, "v.html", "victim's\n")
    d.put(MALLORY, "m.html", "mallory's\n")
    vhost = f"{VICTIM}.test.example"
    mhost = f"{MALLORY}.test.example"
    assert get(d.port, "/v.html", vhost)[::2] == (200, b"victim's\n")
    assert get(d.port, "/m.html", mhost)[::2] == (200, b"mallory's\n")

    def status_soon(path, host):
        """The status, or None when no answer comes within half a second."""
        r = parse_responses(raw(d.port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " +
                                host.encode() + b"\r\nConnection: close\r\n\r\n",
                                timeout=0.5))
        return r[0][0] if r else None

    stopped = []
    for who in (VICTIM, MALLORY):
        uid = d.info(who)["uid"]
        stopped += [p for p, (role, u) in d.children().items() if role == "worker" and u == uid]
    assert len(stopped) == 2, stopped
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        # the control: both answered from the cache, their workers could not
        assert get(d.port, "/v.html", vhost)[::2] == (200, b"victim's\n")
        assert get(d.port, "/m.html", mhost)[::2] == (200, b"mallory's\n")
        assert status_soon("/other.html", vhost) is None
        for i in range(3):
            r = L(d, MALLORY, "vhost", "add", MALLORY, f"loop{i}.{MALLORY}.test.example")
            assert r.returncode == 0, r.stderr
            assert L(d, MALLORY, "vhost", "remove", f"loop{i}.{MALLORY}.test.example") \
                .returncode == 0
            # the victim's entry survives mallory's changes ...
            assert get(d.port, "/v.html", vhost)[::2] == (200, b"victim's\n")
        # ... while mallory's own went with the first of them
        assert status_soon("/m.html", mhost) is None
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    # a locker that goes takes its entries along (a new one of that name is
    # another home)
    d.locker("remove", VICTIM)
    assert get(d.port, "/v.html", vhost)[0] == 404


def _wait_for(fn, within=10.0):
    return wait_for(fn, within)


SLOW_SH = "sleep 4\necho 'Content-Type: text/plain'\necho\necho slept\n"


def test_warm_workers_are_capped_machine_wide(make_lockerd):
    """One user with many lockers could keep a worker (and a PHP pool) warm
    for each.  With max-workers 2, a third locker is served once the idlest
    worker is retired, and gets 503 + Retry-After while both are busy."""
    d = make_lockerd(front_processes=1, extra="max-workers 2\n").start()
    for name in ("wa", "wb", "wc"):
        d.signup(name)
        d.put(name, "i.html", f"{name}\n")
        d.put(name, "slow.sh", SLOW_SH)
    workers = lambda: len(d.pids("worker"))
    assert get(d.port, "/i.html", "wa.test.example")[::2] == (200, b"wa\n")
    # wa's worker clearly the quieter: a worker says it is active up to a
    # second after its last request (worker.c, tell_active()), so with 0.2 s
    # between them a loaded CI machine saw wa's word come after wb's and
    # retired wb
    time.sleep(2.5)
    assert get(d.port, "/i.html", "wb.test.example")[::2] == (200, b"wb\n")
    assert workers() == 2
    time.sleep(3)          # both quiet long enough to be retired
    assert get(d.port, "/i.html", "wc.test.example")[::2] == (200, b"wc\n")
    # wa's was the idlest: it went, and never were three warm for long
    # (the retired worker is gone once it has drained and the master has
    # reaped it, a moment after wc's answer: seen 4357 == 0 on a fresh clone)
    assert _wait_for(lambda: d.info("wa")["worker_pid"] == 0), d.children()
    assert d.info("wb")["worker_pid"] != 0 and d.info("wc")["worker_pid"] != 0
    assert _wait_for(lambda: workers() == 2), d.children()

    # both warm workers busy with a script: the third locker is refused,
    # politely, and nobody's script is killed for it
    time.sleep(3)
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        slow = [ex.submit(get, d.port, "/slow.sh", f"{n}.test.example")
                for n in ("wb", "wc")]
        assert _wait_for(lambda: len([p for p, (r, u) in d.children().items()]) > 0)
        # the scripts run: each locker has more than its worker
        assert _wait_for(lambda: all(len(json.loads(d.locker("status", n, "--json").stdout)
                                         ["processes"]) >= 2 for n in ("wb", "wc")))
        s, h, _ = get(d.port, "/i.html", "wa.test.example")
        assert s == 503 and h.get("retry-after") == "1", (s, h, d.log()[-3000:], d.children())
        for f in slow:
            assert f.result()[::2] == (200, b"slept\n")
    assert workers() == 2
    time.sleep(3)
    assert get(d.port, "/i.html", "wa.test.example")[::2] == (200, b"wa\n")
    assert _wait_for(lambda: workers() == 2), d.children()


SLOW_PHP = '<?php sleep(%d); echo "slept";'


def _slow_get(port, path, host):
    """A request that may take longer than get()'s 5 s."""
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host))
    r = parse_responses(raw(port, req.encode(), timeout=20))
    return r[0] if r else (None, {}, b"")


def test_a_php_request_keeps_its_worker_warm(make_lockerd):
    """front talks to a locker's PHP pool over kept connections, without its
    worker: a locker whose only work was one PHP page longer than 2 s looked
    quiet, and under max-workers its worker, and the pool in it, was retired
    in the middle of the page (502).  Now front tells the worker while a
    request of its locker is in flight: the PHP page ends with 200, and the
    cap still holds (503 while every warm worker is busy, then the idle one
    goes)."""
    import concurrent.futures
    d = make_lockerd(front_processes=1, extra="max-workers 2\n").start()
    for name in ("wa", "wb", "wc"):
        d.signup(name)
        d.put(name, "i.html", f"{name}\n")
    d.put("wa", "slow.php", SLOW_PHP % 10)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        t0 = time.monotonic()
        slow = ex.submit(_slow_get, d.port, "/slow.php", "wa.test.example")
        assert _wait_for(lambda: d.info("wa")["worker_pid"])
        wa = d.info("wa")["worker_pid"]
        time.sleep(max(0, t0 + 3 - time.monotonic()))     # wa's worker heard nothing for 3 s
        b = get(d.port, "/i.html", "wb.test.example")       # a second warm worker: the cap
        c1 = get(d.port, "/i.html", "wc.test.example")      # wa busy, wb just now: none to retire
        # A worker tells the master at most once a second, so the master
        # may hear of wb's request up to a second after it: wb quiet for
        # 2 s in the master's eyes by t0 + 6 at the latest; wa still busy.
        time.sleep(max(0, t0 + 6.8 - time.monotonic()))
        c2 = get(d.port, "/i.html", "wc.test.example")
        assert time.monotonic() < t0 + 9.5, "too slow a machine for this test's timing"
        ps = d.pids("worker")
        st, _, body = slow.result()
    assert (st, body) == (200, b"slept"), (st, body, d.log()[-3000:])
    assert d.info("wa")["worker_pid"] == wa
    assert b[::2] == (200, b"wb\n")
    assert c1[0] == 503 and c1[1].get("retry-after") == "1", (c1, d.log()[-3000:])
    assert c2[::2] == (200, b"wc\n"), (c2, d.log()[-3000:])
    assert d.info("wb")["worker_pid"] == 0
    assert len(ps) <= 2 + 1, ps          # wb's on its way out at most
    assert _wait_for(lambda: len(d.pids("worker")) == 2), d.children()


def test_a_lower_max_workers_holds_at_reload(make_lockerd):
    """A reload that lowered max-workers retired the workers beyond it only
    one per new start: the machine kept the old number warm.  Now the quiet
    ones go at the reload, and the busy ones once they are quiet, with
    their scripts finished."""
    import concurrent.futures
    import signal
    d = make_lockerd(front_processes=1, extra="max-workers 3\n").start()
    for name in ("wa", "wb", "wc"):
        d.signup(name)
        d.put(name, "i.html", f"{name}\n")
        d.put(name, "slow.sh", SLOW_SH)
    workers = lambda: len(d.pids("worker"))
    assert get(d.port, "/i.html", "wa.test.example")[0] == 200
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        slow = [ex.submit(get, d.port, "/slow.sh", f"{n}.test.example") for n in ("wb", "wc")]
        assert _wait_for(lambda: workers() == 3)
        time.sleep(2.5)     # wa quiet; wb and wc run their scripts
        with open(d.conf) as f:
            conf = f.read()
        d.write_conf(conf.replace("max-workers 3\n", "max-workers 1\n"))
        os.kill(d.proc.pid, signal.SIGHUP)
        assert _wait_for(lambda: d.info("wa")["worker_pid"] == 0, within=1.5), d.log()[-2000:]
        assert workers() == 2, d.children()    # the busy ones are left to finish
        for f in slow:
            assert f.result()[::2] == (200, b"slept\n")
    # and once quiet, one of them goes without any new start
    assert _wait_for(lambda: workers() == 1, within=5), (d.children(), d.log()[-2000:])

def test_a_long_php_request_outlives_worker_idle_timeout(make_lockerd):
    """The same blindness, without any cap: a worker exits after
    worker-idle-timeout without a request, and its PHP pool with it, so a
    PHP page longer than that (a locker's only traffic) ended in 502."""
    d = make_lockerd(front_processes=1, extra="worker-idle-timeout 2s\n").start()
    d.signup("wa")
    d.put("wa", "slow.php", SLOW_PHP % 5)
    st, _, body = _slow_get(d.port, "/slow.php", "wa.test.example")
    assert (st, body) == (200, b"slept"), (st, body, d.log()[-3000:])
    # and an idle worker still goes when it should
    assert _wait_for(lambda: d.info("wa")["worker_pid"] == 0, within=6)
