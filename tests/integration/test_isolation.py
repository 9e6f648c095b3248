"""A hostile locker attacks the minimal sandbox from the inside.

Each test runs commands as a locker, inside its sandbox, with
`locker run NAME -- ...` (the same sandbox its worker runs in) and checks
that what DESIGN.md promises holds: nothing of another locker is visible,
nothing outside its home is writable, lockerd's state and logs are out of
sight, /tmp is its own, and no privilege can be regained.
"""
import os
import re
import shutil
import subprocess
import time

from conftest import get, wait_for


def sh(srv, locker, script, check=False):
    r = srv.locker("run", locker, "--", "sh", "-c", script, check=False)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_another_locker_is_invisible(srv):
    srv.put("bob", "secret.txt", "BOB\n", mode=0o644)
    bob_home = srv.info("bob")["home"]
    r = sh(srv, "alice", f"ls -a {srv.lockers}")
    assert r.returncode == 0
    assert set(r.stdout.split()) == {".", "..", "alice"}, r.stdout
    r = sh(srv, "alice", f"cat {bob_home}/web_scripts/secret.txt")
    assert r.returncode != 0 and "BOB" not in r.stdout
    r = sh(srv, "alice", f"ls {srv.lockers}/.archive")
    assert r.returncode != 0


def test_lockerd_state_and_logs_are_out_of_sight(srv):
    get(srv.port, "/", "alice.test.example")
    state = os.path.join(srv.dir, "state")
    assert os.path.exists(os.path.join(state, "directory.db"))
    r = sh(srv, "alice", f"ls -a {state}; ls -a {srv.logs}; "
                         f"test -e {state}/control.sock && echo CONTROL")
    assert "directory.db" not in r.stdout
    assert "control.sock" not in r.stdout and "CONTROL" not in r.stdout
    assert "access.log" not in r.stdout


def test_cannot_reach_the_control_socket(srv):
    # Even by a path that existed at start-up, the socket is not there.
    sock = os.path.join(srv.dir, "state", "control.sock")
    r = sh(srv, "alice", f"python3 -c 'import socket; s=socket.socket(socket.AF_UNIX, "
                         f"socket.SOCK_SEQPACKET); s.connect(\"{sock}\")' && echo CONNECTED")
    assert "CONNECTED" not in r.stdout


def test_nothing_outside_home_is_writable(srv):
    home = srv.info("alice")["home"]
    for target in (f"{srv.lockers}/x", "/etc/x", "/usr/x", f"{srv.dir}/x", "/var/x",
                   f"{os.path.dirname(home)}/bob/x"):
        r = sh(srv, "alice", f"echo pwned > {target} && echo WROTE")
        assert "WROTE" not in r.stdout, target
        assert not os.path.exists(target)
    r = sh(srv, "alice", f"echo mine > {home}/web_scripts/mine.txt && echo WROTE")
    assert "WROTE" in r.stdout
    assert os.stat(f"{home}/web_scripts/mine.txt").st_uid == srv.info("alice")["uid"]


def test_tmp_is_private(srv):
    sh(srv, "alice", "echo alice-tmp > /tmp/drop.txt", check=True)
    assert os.path.exists(os.path.join(srv.info("alice")["home"], "tmp", "drop.txt"))
    assert not os.path.exists("/tmp/drop.txt")
    r = sh(srv, "bob", "cat /tmp/drop.txt")
    assert r.returncode != 0 and "alice-tmp" not in r.stdout


def test_identity_and_no_privileges(srv):
    alice = srv.info("alice")
    r = sh(srv, "alice", "id; whoami; grep -E '^(NoNewPrivs|Groups|CapEff|Uid|Gid)' /proc/self/status",
           check=True)
    out = r.stdout
    assert f"uid={alice['uid']}(alice) gid={alice['gid']}(alice) groups={alice['gid']}(alice)" in out
    assert "\nalice\n" in out
    assert "NoNewPrivs:\t1" in out
    assert "CapEff:\t0000000000000000" in out
    r = sh(srv, "alice", f"ls -ld {alice['home']}/web_scripts", check=True)
    assert r.stdout.split()[2] == "alice"
    # setuid programs do not raise privileges under no_new_privs
    if shutil.which("su"):
        r = sh(srv, "alice", "su -c id root </dev/null")
        assert "uid=0" not in r.stdout


def test_cannot_signal_or_trace_others(srv):
    get(srv.port, "/", "bob.test.example")
    bob_workers = [p for p, (role, uid) in srv.children().items()
                   if role == "worker" and uid == srv.info("bob")["uid"]]
    fronts = srv.pids("front")
    assert bob_workers and fronts
    for pid in bob_workers + fronts + [srv.proc.pid]:
        r = sh(srv, "alice", f"kill -0 {pid} && echo SIGNALLED")
        assert "SIGNALLED" not in r.stdout
        r = sh(srv, "alice", f"cat /proc/{pid}/environ >/dev/null && echo READ")
        assert "READ" not in r.stdout


def test_locker_uid_has_no_account_outside(srv):
    # The locker's name exists only inside its sandbox.
    uid = srv.info("alice")["uid"]
    assert subprocess.run(["getent", "passwd", str(uid)], capture_output=True).returncode != 0
    with open("/etc/passwd") as f:
        assert f":{uid}:" not in f.read()


# --- a worker is the locker's own process: front treats it as hostile ---

def test_silent_worker_delays_only_its_own_locker(make_lockerd):
    import signal
    import time
    d = make_lockerd(extra="worker-timeout 2\nfile-cache-valid 0\n").start()
    d.signup("slow")
    d.signup("fast")
    d.put("slow", "a.txt", "slow\n")
    d.put("fast", "a.txt", "fast\n")
    assert get(d.port, "/a.txt", "slow.test.example")[0] == 200
    w = d.worker_of("slow")
    os.kill(w, signal.SIGSTOP)
    try:
        import threading
        result = {}

        def slow_req():
            t0 = time.time()
            result["status"] = get(d.port, "/a.txt", "slow.test.example")[0]
            result["took"] = time.time() - t0
        t = threading.Thread(target=slow_req)
        t.start()
        time.sleep(0.2)
        t0 = time.time()
        for _ in range(20):
            assert get(d.port, "/a.txt", "fast.test.example")[2] == b"fast\n"
        assert time.time() - t0 < 1.5
        t.join(10)
        assert result["status"] == 504 and result["took"] < 5
        time.sleep(0.3)
        with open(os.path.join(d.logs, "error.log")) as f:
            assert "locker slow: 504 Gateway Timeout for /a.txt" in f.read()
    finally:
        os.kill(w, signal.SIGCONT)


def test_worker_speaking_garbage_is_dropped_not_trusted(make_lockerd):
    """Make the worker (as its locker could, with ptrace) write garbage on its
    channel to front: front drops that channel, stays up, and the locker is
    served again by a fresh channel; other lockers never notice."""
    if not shutil.which("gdb"):
        import pytest
        pytest.skip("gdb not installed")
    d = make_lockerd(front_processes=1, extra="file-cache-valid 0\n").start()
    d.signup("evil")
    d.signup("good")
    d.put("evil", "a.txt", "evil\n")
    d.put("good", "a.txt", "good\n")
    assert get(d.port, "/a.txt", "evil.test.example")[0] == 200
    front = d.pids("front")
    w = d.worker_of("evil")
    # the worker's channels to front: sockets other than its master channel (fd 3)
    chans = [int(fd) for fd in os.listdir(f"/proc/{w}/fd")
             if int(fd) > 3 and os.readlink(f"/proc/{w}/fd/{fd}").startswith("socket:")]
    assert chans
    for payload in ('"\\x0c\\x00\\x00\\x00\\xff\\xff\\xff\\xff"',   # a lying length
                    '"\\x0c\\x00\\x00\\x00\\x00\\x00\\x00\\x00"'):  # right type, no body
        # every channel but the master's (fd 3): front's, and logd's
        cmds = []
        for fd in chans:
            cmds += ["-ex", f"call (long)write({fd}, {payload}, 8)"]
        # the worker lives in other namespaces: give gdb our binary and its root
        subprocess.run(["gdb", "-batch", "-nx", "-ex", "file " + os.path.join(d.build, "lockerd"),
                        "-ex", f"set sysroot /proc/{w}/root", "-ex", f"attach {w}"] + cmds,
                       capture_output=True, timeout=60)
        time.sleep(0.3)
        assert d.pids("front") == front, "front must survive a lying worker"
        assert get(d.port, "/a.txt", "good.test.example")[2] == b"good\n"
        assert get(d.port, "/a.txt", "evil.test.example")[2] == b"evil\n"
        w = d.worker_of("evil")
        chans = [int(fd) for fd in os.listdir(f"/proc/{w}/fd")
                 if int(fd) > 3 and os.readlink(f"/proc/{w}/fd/{fd}").startswith("socket:")]
    assert "worker evil" in d.log()


def lockerd_with_lockers_at(make_lockerd, path):
    """A lockerd whose lockers root is path, removed again at the end."""
    d = make_lockerd()
    with open(d.conf) as f:
        conf = f.read()
    d.write_conf(conf.replace(f"lockers {d.lockers}\n", f"lockers {path}\n"))
    d.start()
    return d


def test_lockers_root_under_var_tmp(make_lockerd):
    """The jail's /var/tmp is a symlink to /tmp: a home below /var/tmp must
    still get its own path in the jail (it used to fail: EEXIST)."""
    top = f"/var/tmp/lockerd-test-{os.getpid()}"
    try:
        d = lockerd_with_lockers_at(make_lockerd, f"{top}/deep/er/lockers")
        d.signup("alice")
        d.put("alice", "index.html", "ALICE-VARTMP\n", mode=0o644)
        assert get(d.port, "/", "alice.test.example")[2] == b"ALICE-VARTMP\n"
        r = sh(d, "alice", "pwd; echo hi > /tmp/x && cat /tmp/x; ls /var/tmp", check=True)
        assert f"{top}/deep/er/lockers/alice" in r.stdout and "hi" in r.stdout, r.stdout
        d.stop()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_lockers_root_deep_path(make_lockerd):
    d = make_lockerd()
    d2 = lockerd_with_lockers_at(make_lockerd, f"{d.dir}/a/b/c/d/e/lockers")
    d2.signup("alice")
    d2.put("alice", "index.html", "ALICE-DEEP\n", mode=0o644)
    assert get(d2.port, "/", "alice.test.example")[2] == b"ALICE-DEEP\n"
    r = sh(d2, "alice", "pwd", check=True)
    assert r.stdout.strip() == f"{d.dir}/a/b/c/d/e/lockers/alice"


def test_lockers_root_where_the_jail_has_system_dirs_is_refused(make_lockerd):
    for bad in ("/lib/lockers", "/bin/x", "/dev/lockers", "/sys/x", "/sbin/l"):
        d = make_lockerd()
        with open(d.conf) as f:
            conf = f.read()
        d.write_conf(conf.replace(f"lockers {d.lockers}\n", f"lockers {bad}\n"))
        r = subprocess.run([os.path.join(d.build, "lockerd"), "-t", "-c", d.conf],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "system directory" in r.stderr, (bad, r.stderr)


GDB_CALLS = {"socket": "call (int)socket(2, 1, 0)",
             "memfd": 'call (int)memfd_create("x", 0)',
             "fork": "call (int)fork()",
             "execve": 'call (int)execve("/bin/sh", 0, 0)',
             "pipe": "call (int)pipe((int *)$sp - 64)"}


def gdb_calls(d, pid, calls):
    """Make pid call each of calls (as an exploit in it would); name -> result."""
    cmds = []
    for name, call in calls.items():
        cmds += ["-ex", f"echo {name}=", "-ex", call]
    r = subprocess.run(["gdb", "-batch", "-nx", "-ex", "file " + os.path.join(d.build, "lockerd"),
                        "-ex", f"attach {pid}"] + cmds,
                       capture_output=True, text=True, timeout=60)
    return dict(re.findall(r"(\w+)=\$\d+ = (-?\d+)", r.stdout)), r.stdout + r.stderr


def test_a_subverted_front_can_open_and_connect_nothing(make_lockerd):
    """front (the process facing the internet) runs under an allow-list
    seccomp filter.  Made (via gdb, as an exploit would) to open a file,
    make a socket, connect out or start a program, it gets nothing, and it
    still serves."""
    if not shutil.which("gdb"):
        import pytest
        pytest.skip("gdb not installed")
    d = make_lockerd(front_processes=1).start()
    d.signup("alice")
    d.put("alice", "a.txt", "alice\n", mode=0o644)
    front = d.pids("front")[0]

    def status():
        with open(f"/proc/{front}/status") as f:
            return f.read()
    # A front just forked may not have entered its filter yet: wait for it.
    assert wait_for(lambda: "Seccomp:\t2" in status(), within=10), status()
    calls = dict(GDB_CALLS, open='call (int)open("/", 0)', kill=f"call (int)kill({front}, 0)")
    results, out = gdb_calls(d, front, calls)
    assert results == {name: "-1" for name in calls}, out
    assert d.pids("front") == [front]
    assert get(d.port, "/a.txt", "alice.test.example")[2] == b"alice\n"


def test_a_subverted_logd_can_only_write_logs(make_lockerd):
    """logd, under its own allow-list: it may open files in its log
    directory, but not make a socket, fork or exec; and it keeps logging."""
    if not shutil.which("gdb"):
        import pytest
        pytest.skip("gdb not installed")
    d = make_lockerd(front_processes=1).start()
    d.signup("alice")
    d.put("alice", "a.txt", "alice\n", mode=0o644)
    logd = d.pids("logd")[0]
    with open(f"/proc/{logd}/status") as f:
        assert "Seccomp:\t2" in f.read()
    results, out = gdb_calls(d, logd, GDB_CALLS)
    assert results == {name: "-1" for name in GDB_CALLS}, out
    assert d.pids("logd") == [logd]
    assert get(d.port, "/a.txt", "alice.test.example")[0] == 200
    deadline = time.time() + 5
    while time.time() < deadline:
        with open(os.path.join(d.logs, "access.log")) as f:
            if "/a.txt" in f.read():
                break
        time.sleep(0.1)
    else:
        raise AssertionError("logd no longer logs")
