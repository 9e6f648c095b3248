"""PHP processes forked from the zygote (zygote.c): one php-cgi started by
lockerd, every locker's PHP process forked from it and moved into that
locker's sandbox.  They serve as php-cgi did (hello, sessions in the
locker's /tmp, .user.ini), are in the locker's cgroups, pid and mount
namespaces, uid, seccomp and Landlock, are replaced when they crash or
have served php-max-requests, and keep being served when the zygote is
killed.  A php_value pool still starts its own php-cgi.  The attacker's
side: a locker's PHP finds no writable mapping and no descriptor in common
with another locker's, and opcache keeps each locker's scripts apart."""
import os
import re
import signal
import time

import pytest

from conftest import get, wait_for

MAX_REQUESTS = 5


@pytest.fixture(scope="module")
def zd(build_dir):
    from conftest import Lockerd
    # One front: a locker's requests go on one kept connection, to one process.
    d = Lockerd(build_dir, front_processes=1,
                extra=f"php-max-requests {MAX_REQUESTS}\nphp-idle-timeout 60\n").start()
    yield d
    d.cleanup()


def status_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return f.read()
    except OSError:
        return ""


def field(st, name):
    m = re.search(rf"^{name}:[ \t]*(.*)$", st, re.M)
    return m.group(1).split() if m else []


def ready(pid):
    """PHP started and its shared memory made private: it takes forks."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "memfd:lockerd-zygote" in f.read()
    except OSError:
        return False


def zygotes(d):
    """The master's php-cgi children (root) that are ready: the zygote."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        st = status_of(pid)
        if field(st, "PPid") == [str(d.proc.pid)] and field(st, "Name") == ["php-cgi"] and \
                field(st, "Uid")[0] == "0" and ready(pid):
            out.append(int(pid))
    return out


def php_pids(uid):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        st = status_of(pid)
        if field(st, "Name") == ["php-cgi"] and field(st, "Uid")[:1] == [str(uid)]:
            out.append(int(pid))
    return sorted(out)


def worker_of(d, uid):
    return [p for p, (role, u) in d.children().items() if role == "worker" and u == uid]


def ns(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def locker(d, name):
    d.signup(name)
    info = d.info(name)
    d.put(name, "pid.php", '<?php echo getmypid();')
    return info


def serve(d, name, path="/pid.php"):
    s, _, b = get(d.port, path, f"{name}.test.example")
    assert s == 200, b
    return b


def one_php(d, name, uid):
    """The locker's one PHP process, served from the zygote."""
    serve(d, name)
    [pid] = wait_for(lambda: php_pids(uid), within=5)
    return pid


def test_php_process_comes_from_the_zygote_into_the_sandbox(zd):
    assert wait_for(lambda: zygotes(zd), within=10)
    a = locker(zd, "zya")
    [z] = zygotes(zd)
    pid = one_php(zd, "zya", a["uid"])
    st = status_of(pid)
    [w] = worker_of(zd, a["uid"])
    # Forked by the zygote, not exec'd by the worker.
    assert field(st, "PPid") == [str(z)]
    # The locker's uid and gid alone, no_new_privs, seccomp's filter on.
    assert field(st, "Uid") == [str(a["uid"])] * 4
    assert field(st, "Gid") == [str(a["gid"])] * 4
    assert field(st, "Groups") == []
    assert field(st, "NoNewPrivs") == ["1"] and field(st, "Seccomp") == ["2"]
    assert field(st, "CapEff") == ["0000000000000000"]
    # The worker's namespaces (the pid one: it is pid 2 or more in there).
    for kind in ("pid", "mnt", "ipc", "uts", "net"):
        assert ns(pid, kind) == ns(w, kind), kind
    assert int(field(st, "NSpid")[-1]) > 1
    # The locker's cgroups, as its worker.
    with open(f"/proc/{pid}/cgroup") as f1, open(f"/proc/{w}/cgroup") as f2:
        assert f1.read() == f2.read()
    # Its PHP answers with the locker's identity.
    zd.put("zya", "who.php", '<?php echo posix_getuid(), " ", getcwd(), " ", getenv("HOME");')
    uid, cwd, home = serve(zd, "zya", "/who.php").decode().split()
    assert uid == str(a["uid"]) and cwd == a["home"] + "/web_scripts" and home == a["home"]


def test_php_keeps_its_own_signal_handlers(zd):
    """A PHP process from the zygote handles SIGPIPE (ignored, as lockerd
    starts php-cgi, or FastCGI's handler) and SIGUSR1 as an exec'd php-cgi
    does: a connection closed
    before the end of its answer ends that request, not the process (with
    the default, it was killed, and its pool compiled everything again)."""
    a = locker(zd, "zysig")
    pid = one_php(zd, "zysig", a["uid"])
    st = status_of(pid)
    handled = int(field(st, "SigCgt")[0], 16) | int(field(st, "SigIgn")[0], 16)
    for sig in (signal.SIGPIPE, signal.SIGUSR1):
        assert handled & (1 << (sig - 1)), (sig, st)


def test_sessions_land_in_the_lockers_tmp(zd):
    a = locker(zd, "zys")
    zd.put("zys", "sess.php", '<?php session_start(); $_SESSION["n"] = 7; echo session_id();')
    sid = serve(zd, "zys", "/sess.php").decode()
    assert re.fullmatch(r"[A-Za-z0-9,-]+", sid), sid
    assert os.path.exists(os.path.join(a["home"], "tmp", "sess_" + sid))


def test_user_ini_applies(zd):
    locker(zd, "zyu")
    zd.put("zyu", "d/.user.ini", "precision = 5\n")
    zd.put("zyu", "d/pi.php", '<?php echo ini_get("precision");')
    assert serve(zd, "zyu", "/d/pi.php") == b"5"


def test_php_value_pool_still_starts_its_own_php_cgi(zd):
    a = locker(zd, "zyv")
    zd.put("zyv", "v/.htaccess", "php_value precision 7\n")
    zd.put("zyv", "v/pi.php", '<?php echo ini_get("precision");')
    assert serve(zd, "zyv", "/v/pi.php") == b"7"
    [w] = worker_of(zd, a["uid"])
    parents = {field(status_of(p), "PPid")[0] for p in php_pids(a["uid"])}
    # The php_value pool's process is the worker's own child (an exec).
    assert str(w) in parents


def test_cannot_read_another_locker_nor_see_lockerd(zd):
    v = locker(zd, "zyvictim")
    locker(zd, "zymal")
    zd.put("zyvictim", "secret.txt", "victim's secret")
    target = os.path.join(v["home"], "web_scripts", "secret.txt")
    zd.put("zymal", "steal.php",
           f'<?php $r = @file_get_contents("{target}"); echo $r === false ? "no" : $r;'
           ' echo " "; echo count(glob("/proc/[0-9]*"));'
           ' echo " "; echo @file_get_contents("/proc/1/cmdline") === false ? "-" : "1";')
    got = serve(zd, "zymal", "/steal.php").decode().split()
    assert got[0] == "no", got
    # Its own pid namespace: the worker (pid 1), itself, perhaps a sibling;
    # never lockerd's processes or the zygote.
    assert int(got[1]) <= 6, got
    with open(f"/proc/{php_pids(zd.info('zymal')['uid'])[0]}/status") as f:
        assert "php-cgi" in f.read()


def maps_of(pid):
    """[(perms, dev, inode, path)] of a process's mappings."""
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            out.append((parts[1], parts[3], parts[4], parts[5].strip() if len(parts) > 5 else ""))
    return out


def fds_of(pid):
    """{(st_dev, st_ino)} of a process's descriptors, and their targets."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
            out[(st.st_dev, st.st_ino)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return out


def test_attacker_finds_nothing_writable_or_open_in_common(zd):
    """A hostile locker's PHP (and its CGI, reading its PHP's /proc, which
    it may: same uid and namespace) compares what it has with another
    locker's PHP: no shared mapping that either may write, no descriptor
    in common, an opcache lock file of its own."""
    a = locker(zd, "zyatt")
    b = locker(zd, "zyoth")
    pa = one_php(zd, "zyatt", a["uid"])
    pb = one_php(zd, "zyoth", b["uid"])
    assert field(status_of(pa), "PPid") == field(status_of(pb), "PPid")   # same zygote
    # From the attacker's own side: its maps, as its PHP reads them.
    zd.put("zyatt", "maps.php", '<?php readfile("/proc/self/maps");')
    own = serve(zd, "zyatt", "/maps.php").decode()
    assert own and not any(l.split()[1][3] == "s" for l in own.splitlines()), own
    ma, mb = maps_of(pa), maps_of(pb)
    for perms, dev, inode, path in ma + mb:
        assert perms[3] == "p", (perms, path)       # nothing MAP_SHARED at all
    writable_a = {(dev, inode) for perms, dev, inode, _ in ma if "w" in perms and inode != "0"}
    writable_b = {(dev, inode) for perms, dev, inode, _ in mb if "w" in perms and inode != "0"}
    # A file both map writable could only be a private (copy-on-write)
    # mapping of the same file (a library's data, the sealed snapshot).
    for key in writable_a & writable_b:
        paths = {p for _, d, i, p in ma + mb if (d, i) == key}
        assert all("(deleted)" in p or p.startswith("/") for p in paths), paths
    # No descriptor in common, stdio included; opcache's lock file is its own.
    fa, fb = fds_of(pa), fds_of(pb)
    assert not set(fa) & set(fb), (fa, fb)
    assert not any(".ZendSem" in t for t in list(fa.values()) + list(fb.values()))
    # The sealed snapshot cannot be written through any path either: a CGI
    # of the attacker's tries its PHP's map_files (root alone may open them).
    zd.put("zyatt", "mf.cgi", "#!/bin/sh\necho 'Content-Type: text/plain'\necho\n"
           "for f in /proc/[0-9]*/map_files/*; do [ -w \"$f\" ] && : > \"$f\" 2>/dev/null "
           "&& echo \"wrote $f\"; done; echo done\n", mode=0o700)
    s, _, out = get(zd.port, "/mf.cgi", "zyatt.test.example")
    assert s == 200 and b"wrote" not in out and b"done" in out, out


def test_opcache_keeps_each_lockers_script(zd):
    locker(zd, "zyop1")
    locker(zd, "zyop2")
    zd.put("zyop1", "same.php", '<?php echo "one";')
    zd.put("zyop2", "same.php", '<?php echo "two";')
    for _ in range(3):
        assert serve(zd, "zyop1", "/same.php") == b"one"
        assert serve(zd, "zyop2", "/same.php") == b"two"
    # What one locker's PHP cached is its own: opcache_get_status() sees
    # only its own scripts.
    zd.put("zyop2", "st.php",
           '<?php $s = opcache_get_status(true); echo json_encode(array_keys($s["scripts"] ?? []));')
    seen = serve(zd, "zyop2", "/st.php").decode()
    assert "zyop1" not in seen, seen


def test_crashed_php_process_is_replaced(zd):
    a = locker(zd, "zycr")
    first = one_php(zd, "zycr", a["uid"])
    os.kill(first, signal.SIGKILL)
    assert wait_for(lambda: not os.path.exists(f"/proc/{first}"), within=5)
    serve(zd, "zycr")
    assert wait_for(lambda: php_pids(a["uid"]) and php_pids(a["uid"]) != [first], within=5)
    log = os.path.join(zd.logs, "lockers", "zycr", "error.log")
    assert wait_for(lambda: os.path.exists(log) and
                    re.search(r"killed by signal 9", open(log).read()), within=5)


def test_recycled_after_php_max_requests(zd):
    locker(zd, "zyrec")
    pids = [int(serve(zd, "zyrec")) for _ in range(3 * MAX_REQUESTS)]
    runs = [pids[i:i + MAX_REQUESTS] for i in range(0, len(pids), MAX_REQUESTS)]
    # (pids in the locker's namespace: a new process may reuse a number,
    # but not that of the one it replaces while that one is still there.)
    for run in runs:
        assert run == [run[0]] * MAX_REQUESTS, pids
    a = zd.info("zyrec")
    assert all(field(status_of(p), "PPid") == [str(zygotes(zd)[0])] for p in php_pids(a["uid"]))


def test_zygote_killed_is_restarted_and_php_still_served(zd):
    a = locker(zd, "zyk")
    serve(zd, "zyk")
    [z] = zygotes(zd)
    os.kill(z, signal.SIGKILL)
    # Its children die with it (a request racing their death may get no
    # answer); the pool starts another, through php-cgi of its own until
    # the new zygote is there.

    def served():
        try:
            return get(zd.port, "/pid.php", "zyk.test.example")[0] == 200
        except (AssertionError, OSError):
            return False
    assert wait_for(served, within=20)
    assert wait_for(lambda: zygotes(zd) and zygotes(zd) != [z], within=10), zygotes(zd)
    [z2] = zygotes(zd)
    # A new locker's PHP comes from the new zygote.
    b = locker(zd, "zyk2")
    pid = one_php(zd, "zyk2", b["uid"])
    assert field(status_of(pid), "PPid") == [str(z2)]
    assert serve(zd, "zyk")
    del a


def test_zygote_off_starts_php_cgi_per_process(make_lockerd):
    d = make_lockerd(front_processes=1, extra="php-zygote off\n").start()
    a = locker(d, "zyoff")
    serve(d, "zyoff")
    time.sleep(0.3)
    assert zygotes(d) == []
    [w] = worker_of(d, a["uid"])
    assert all(field(status_of(p), "PPid") == [str(w)] for p in php_pids(a["uid"]))


def test_a_burst_of_starts_keeps_the_zygote(zd):
    """Twenty pools starting at once: every page served, by processes of
    the same zygote (a full channel to it once made the master kill it, and
    every locker's PHP with it)."""
    from concurrent.futures import ThreadPoolExecutor
    assert wait_for(lambda: zygotes(zd), within=10)
    [z] = zygotes(zd)
    names = [f"zyb{i}" for i in range(20)]
    for n in names:
        locker(zd, n)
    before = len(zd.log())
    with ThreadPoolExecutor(10) as ex:
        got = list(ex.map(lambda n: get(zd.port, "/pid.php", f"{n}.test.example")[0], names))
    assert got == [200] * len(names)
    assert zygotes(zd) == [z]
    assert "zygote" not in zd.log()[before:]


def base_of(pid):
    """Where php-cgi's image is mapped: the layout's mark."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if line.rstrip().endswith("php-cgi8.2") or "/php-cgi" in line:
                return line.split("-")[0]
    return None


def test_a_layout_is_shared_by_at_most_128_php_processes(make_lockerd):
    """Every fork shares the zygote's layout, so each zygote serves 128
    and is replaced by a freshly exec'd one (another layout); the old one
    ends with its last child."""
    d = make_lockerd(front_processes=1, extra="php-max-requests 1\n").start()
    assert wait_for(lambda: zygotes(d), within=10)
    [z] = zygotes(d)
    base = base_of(z)
    locker(d, "zyl")
    for _ in range(132):        # a process a request: 132 forks
        serve(d, "zyl")
    assert wait_for(lambda: zygotes(d) and zygotes(d) != [z], within=10), zygotes(d)
    [z2] = zygotes(d)
    assert base_of(z2) != base
    # The retired one forks no more and ends once its children have.
    assert wait_for(lambda: not os.path.exists(f"/proc/{z}") or
                    field(status_of(z), "State")[:1] == ["Z"], within=10)
