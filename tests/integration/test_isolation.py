"""A hostile locker attacks the minimal sandbox from the inside.

Each test runs commands as a locker, inside its sandbox, with
`locker run NAME -- ...` (the same sandbox its worker runs in) and checks
that what DESIGN.md promises holds: nothing of another locker is visible,
nothing outside its home is writable, lockerd's state and logs are out of
sight, /tmp is its own, and no privilege can be regained.
"""
import os
import shutil
import subprocess

from conftest import get


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
