"""Self-service: login users sign up, administer, su into, add vhosts to, read
the logs of and see the status of their lockers, with nobody's help, and
nothing of anyone else's.

Real login users are made here (useradd) and removed after: alice2
administers her own locker and the group locker `club`; bob2 only his own;
carol2 is in the Unix group that group-signup names in one test.
"""
import concurrent.futures
import ctypes
import glob
import json
import os
import pty
import pwd
import random
import re
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import termios
import fcntl
import time

import pytest

from conftest import ROOT, Lockerd, as_user, get, login_users, refused, schema_version, wait_for

USERS = ("alice2", "bob2", "carol2")
GROUP = "lkclubgrp"
MARK = "lockerd self-service test user"


# ---------------------------------------------------------------- users

@pytest.fixture(scope="module")
def users():
    subprocess.run(["groupdel", GROUP], capture_output=True)
    subprocess.run(["groupadd", GROUP], check=True, capture_output=True)
    try:
        with login_users(USERS, MARK, groups={"carol2": [GROUP]}) as made:
            yield made
    finally:
        subprocess.run(["groupdel", GROUP], capture_output=True)


@pytest.fixture(scope="module")
def d(build_dir, users):
    """lockerd with self-signup and group-signup on; alice2, bob2, club signed up."""
    inst = Lockerd(build_dir, front_processes=1,
                   extra="self-signup yes\ngroup-signup yes\n").start()
    inst.locker("signup", user="alice2")
    inst.locker("signup", user="bob2")
    inst.locker("signup", "--group", "club", user="alice2")
    yield inst
    inst.cleanup()


L = as_user


# ---------------------------------------------------------------- signup

def test_users_sign_up_their_own_lockers(d, users):
    for u in ("alice2", "bob2"):
        info = d.info(u)
        assert info["name"] == u
        st = os.stat(info["home"])
        assert (st.st_uid, st.st_mode & 0o777) == (info["uid"], 0o700)
        # the locker's uid is its own, not the login's
        assert info["uid"] != users[u].pw_uid
        admins = json.loads(L(d, u, "admin", "list", u, "--json").stdout)
        assert [(a["user"], a["uid"]) for a in admins] == [(u, users[u].pw_uid)]
    # twice is refused, and so is another user's name
    r = L(d, "alice2", "signup")
    assert r.returncode != 0 and "already exists" in r.stderr
    r = L(d, "alice2", "signup", "bob2")
    refused(r, "your own locker")
    r = L(d, "alice2", "signup", "someone-else")
    refused(r, "alice2")
    assert d.locker("info", "someone-else", check=False).returncode != 0


def test_group_signup_makes_the_caller_first_admin(d, users):
    info = d.info("club")
    assert info["name"] == "club"
    admins = json.loads(L(d, "alice2", "admin", "list", "club", "--json").stdout)
    assert [a["user"] for a in admins] == ["alice2"]
    # info shows admins to admins, and not to others
    mine = json.loads(L(d, "alice2", "info", "club", "--json").stdout)
    assert [a["user"] for a in mine["admins"]] == ["alice2"]
    theirs = json.loads(L(d, "bob2", "info", "club", "--json").stdout)
    assert "admins" not in theirs and theirs["name"] == "club"
    # a group locker cannot take another user's login (their personal locker's name)
    r = L(d, "alice2", "signup", "--group", "carol2")
    assert r.returncode != 0 and "login of another user" in r.stderr
    assert d.locker("info", "carol2", check=False).returncode != 0
    # usual name rules apply
    r = L(d, "alice2", "signup", "--group", "www")
    assert r.returncode == 2 and "reserved" in r.stderr


def test_root_must_name_a_locker(d):
    r = d.locker("signup", check=False)
    assert r.returncode == 2 and "usage" in r.stderr.lower()


def test_signup_switched_off_and_group_limited(make_lockerd, users):
    m = make_lockerd(front_processes=1, extra=f"group-signup {GROUP}\n").start()
    r = L(m, "alice2", "signup")
    refused(r, "self-signup is off")
    r = L(m, "bob2", "signup", "--group", "bobs-club")
    refused(r, f"only members of group {GROUP}")
    r = L(m, "carol2", "signup", "--group", "carols-club")
    assert r.returncode == 0, r.stderr
    admins = json.loads(L(m, "carol2", "admin", "list", "carols-club", "--json").stdout)
    assert [a["user"] for a in admins] == ["carol2"]
    assert m.locker("info", "alice2", check=False).returncode != 0
    assert m.locker("info", "bobs-club", check=False).returncode != 0

    n = make_lockerd(front_processes=1).start()   # the defaults: both off
    refused(L(n, "carol2", "signup", "--group", "c2"), "administrator")
    refused(L(n, "carol2", "signup"), "self-signup is off")


# ---------------------------------------------------------------- admins

def test_admins_add_and_remove(d, users):
    # bob2 is nobody to club
    refused(L(d, "bob2", "admin", "add", "club", "bob2"), "not an admin of club")
    refused(L(d, "bob2", "admin", "list", "club"), "not an admin of club")
    refused(L(d, "bob2", "su", "club", "--", "true"), "not an admin of club")
    # alice2 makes him one, and then he can su into it
    r = L(d, "alice2", "admin", "add", "club", "bob2")
    assert r.returncode == 0, r.stderr
    r = L(d, "bob2", "su", "club", "--", "id", "-un")
    assert (r.returncode, r.stdout.strip()) == (0, "club"), r.stderr
    text = L(d, "bob2", "admin", "list", "club").stdout
    assert "alice2" in text and "bob2" in text
    # adding twice is harmless; unknown users are refused
    assert L(d, "alice2", "admin", "add", "club", "bob2").returncode == 0
    r = L(d, "alice2", "admin", "add", "club", "no-such-user-xyz")
    assert r.returncode == 1 and "no-such-user-xyz" in r.stderr
    # bob2 may now change club's admins too, but never alice2's own locker's
    refused(L(d, "bob2", "admin", "add", "alice2", "bob2"), "not an admin of alice2")
    refused(L(d, "bob2", "admin", "remove", "alice2", "alice2"), "not an admin of alice2")
    refused(L(d, "bob2", "admin", "list", "alice2"), "not an admin of alice2")
    # a locker keeps at least one admin
    r = L(d, "bob2", "admin", "remove", "bob2", "bob2")
    assert r.returncode == 1 and "at least one admin" in r.stderr
    assert [a["user"] for a in json.loads(
        L(d, "bob2", "admin", "list", "bob2", "--json").stdout)] == ["bob2"]
    # removing one of two works, and takes the right away at once
    r = L(d, "alice2", "admin", "remove", "club", "bob2")
    assert r.returncode == 0, r.stderr
    refused(L(d, "bob2", "su", "club", "--", "true"), "not an admin of club")
    r = L(d, "alice2", "admin", "remove", "club", "bob2")
    assert r.returncode == 1 and "not an admin" in r.stderr
    # root can always fix a locker
    d.locker("admin", "add", "club", "bob2")
    d.locker("admin", "remove", "club", "bob2")
    assert [a["user"] for a in json.loads(
        d.locker("admin", "list", "club", "--json").stdout)] == ["alice2"]


def test_bob_cannot_touch_alice(d):
    for args in (("su", "alice2"), ("su", "alice2", "--", "id"),
                 ("vhost", "add", "alice2", "bob-steals.example.org"),
                 ("logs", "alice2"), ("logs", "alice2", "--error"),
                 ("status", "alice2"),
                 ("admin", "add", "alice2", "bob2"), ("admin", "list", "alice2")):
        refused(L(d, "bob2", *args), "not an admin of alice2")
    # nor may a user run as a locker by the root-only verb, or remove one
    refused(L(d, "alice2", "run", "alice2", "--", "true"), "only root")
    refused(L(d, "alice2", "remove", "alice2"), "only root")
    assert d.info("alice2")["name"] == "alice2"


# ---------------------------------------------------------------- su

def test_su_runs_a_command_as_the_locker_in_its_sandbox(d, users):
    info = d.info("alice2")
    r = L(d, "alice2", "su", "alice2", "--", "id", "-un")
    assert (r.returncode, r.stdout) == (0, "alice2\n"), r.stderr
    r = L(d, "alice2", "su", "alice2", "--", "id", "-u")
    assert int(r.stdout) == info["uid"]
    # the exit status is the command's
    r = L(d, "alice2", "su", "alice2", "--", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (r.returncode, r.stdout, r.stderr) == (7, "out\n", "err\n")
    # stdin is passed
    r = L(d, "alice2", "su", "alice2", "--", "tr", "a-z", "A-Z", input="hello\n")
    assert r.stdout == "HELLO\n"
    # alice2's sandbox: her home only, no lockerd state, no logs
    r = L(d, "alice2", "su", "alice2", "--", "ls", "-A", d.lockers)
    assert r.stdout.split() == ["alice2"], r.stdout
    r = L(d, "alice2", "su", "alice2", "--", "ls", "-A", os.path.join(d.dir, "state"))
    assert "directory.db" not in r.stdout and "control.sock" not in r.stdout
    r = L(d, "alice2", "su", "alice2", "--", "sh", "-c",
          f"cat {d.logs}/lockers/alice2/access.log")
    assert r.returncode != 0
    r = L(d, "alice2", "su", "alice2", "--", "sh", "-c", "echo $HOME; pwd; touch ~/su-was-here")
    assert r.stdout.split() == [info["home"], info["home"]]
    st = os.stat(os.path.join(info["home"], "su-was-here"))
    assert st.st_uid == info["uid"]
    # not the login's groups, not the login's uid
    r = L(d, "alice2", "su", "alice2", "--", "cat", "/proc/self/status")
    uids = re.search(r"Uid:\s+(\d+)\s+(\d+)\s+(\d+)", r.stdout).groups()
    assert set(int(u) for u in uids) == {info["uid"]}
    assert re.search(r"Groups:\s*\n", r.stdout), r.stdout
    assert re.search(r"NoNewPrivs:\s+1", r.stdout)
    # a command that does not exist: 127, said on stderr
    r = L(d, "alice2", "su", "alice2", "--", "no-such-command-xyz")
    assert r.returncode == 127 and "no-such-command-xyz" in r.stderr
    # root may su too
    r = d.locker("su", "bob2", "--", "id", "-un")
    assert r.stdout == "bob2\n"


def test_su_output_to_a_terminal_is_relayed_not_handed_over(d):
    """When stdout is a terminal but stdin is not, the locker still gets no
    descriptor of the caller's terminal: it sees a pipe."""
    mfd, sfd = pty.openpty()
    try:
        p = subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "su", "alice2",
                              "--", "sh", "-c", "ls -l /proc/self/fd/1; [ -t 1 ] || echo notatty"],
                             stdin=subprocess.DEVNULL, stdout=sfd, stderr=sfd,
                             user="alice2")
        os.close(sfd)
        sfd = -1
        out = b""
        deadline = time.time() + 10
        while time.time() < deadline:
            r, _, _ = select.select([mfd], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(mfd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
        assert p.wait(10) == 0
        assert b"notatty" in out and b"pipe:" in out, out
    finally:
        os.close(mfd)
        if sfd != -1:
            os.close(sfd)


class Pty:
    """`locker su NAME` as a login user, on a pseudo-terminal we drive."""

    def __init__(self, d, user, name, rows=24, cols=80):
        pw = pwd.getpwnam(user)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
                os.execve(os.path.join(d.build, "locker"),
                          ["locker", "-c", d.conf, "su", name],
                          {"TERM": "xterm", "PATH": "/usr/bin:/bin", "HOME": pw.pw_dir})
            finally:
                os._exit(99)
        self.winsize(rows, cols)
        self.buf = b""

    def winsize(self, rows, cols):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, s):
        os.write(self.fd, s.encode() if isinstance(s, str) else s)

    def expect(self, pattern, timeout=10):
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} in {self.buf!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"EOF waiting for {pattern!r}; got {self.buf!r}")
                self.buf += chunk

    def wait(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            # keep reading so the child is never blocked on output
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    self.buf += os.read(self.fd, 4096)
                except OSError:
                    pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("locker su did not end: " + repr(self.buf))

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def test_su_interactive_shell_with_job_control(d):
    t = Pty(d, "alice2", "alice2", rows=33, cols=101)
    try:
        t.expect(r"alice2@[^\r\n]*\$ ")        # the login shell's prompt
        t.send("PS1='P''ROMPT> '; echo ready\n")
        t.expect(r"[\r\n]ready")
        t.expect("PROMPT> ")
        t.send("id -un; [ -t 0 ] && echo tty-yes\n")
        t.expect("alice2")
        t.expect("tty-yes")
        # a real terminal: its size, and a change of it, reach the session
        t.send("stty size\n")
        t.expect(r"33 101")
        t.winsize(40, 120)
        time.sleep(0.3)
        t.send("stty size\n")
        t.expect(r"40 120")
        t.send("echo $TERM\n")
        t.expect("xterm")
        # job control: the shell is a session leader with this terminal
        t.send("set -m; sleep 300\n")
        time.sleep(0.5)
        t.send(b"\x1a")                       # ^Z
        t.expect(r"Stopped\s+sleep 300")
        t.expect("PROMPT> ")
        t.send("jobs -l\n")
        t.expect(r"\[1\]\+\s+\d+ Stopped\s+sleep 300")
        t.send("bg %1; fg %1\n")
        t.expect("sleep 300")
        time.sleep(0.3)
        t.send(b"\x03")                       # ^C ends the foreground job only
        t.expect("PROMPT> ")
        t.send("echo still-here $?\n")
        t.expect(r"still-here 130")
        # nothing of the caller's terminal: a pty of the CLI's, ours is the parent
        t.send("exit 5\n")
        assert t.wait() == 5
    finally:
        t.close()


def test_su_interactive_refused_and_terminal_restored(d):
    mfd, sfd = pty.openpty()
    before = termios.tcgetattr(sfd)
    try:
        p = subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "su", "alice2"],
                             stdin=sfd, stdout=sfd, stderr=sfd, user="bob2")
        assert p.wait(10) == 77
        assert termios.tcgetattr(sfd) == before
        out = os.read(mfd, 4096)
        assert b"not an admin of alice2" in out
        # an accepted session leaves the terminal as it found it as well
        p = subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "su", "alice2",
                              "--", "true"], stdin=sfd, stdout=sfd, stderr=sfd, user="alice2")
        assert p.wait(10) == 0
        assert termios.tcgetattr(sfd) == before
    finally:
        os.close(mfd)
        os.close(sfd)


def test_su_session_ends_when_the_cli_goes(d):
    info = d.info("alice2")
    p = subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "su", "alice2",
                          "--", "sleep", "1000"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, user="alice2")
    deadline = time.time() + 5

    def sleepers():
        out = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read()
                    if cmd == b"sleep\x001000\x00" and os.stat(f"/proc/{pid}").st_uid == info["uid"]:
                        out.append(pid)
                except OSError:
                    pass
        return out
    while not sleepers() and time.time() < deadline:
        time.sleep(0.05)
    assert sleepers()
    p.kill()
    p.wait()
    deadline = time.time() + 5
    while sleepers() and time.time() < deadline:
        time.sleep(0.05)
    assert not sleepers()


# ---------------------------------------------------------------- vhosts

def test_vhosts_by_admins(d):
    d.put("alice2", "index.html", "alice2's\n")
    d.put("bob2", "index.html", "bob2's\n")
    r = L(d, "alice2", "vhost", "add", "alice2", "www.alice2.test.example")
    assert r.returncode == 0, r.stderr
    # at once, without a restart
    s, _, b = get(d.port, "/", "www.alice2.test.example")
    assert (s, b) == (200, b"alice2's\n")
    vl = json.loads(L(d, "alice2", "vhost", "list", "alice2", "--json").stdout)
    assert [v["host"] for v in vl] == ["www.alice2.test.example"]
    # can't be stolen: not by adding it elsewhere, not by removing it
    r = L(d, "bob2", "vhost", "add", "bob2", "www.alice2.test.example")
    assert r.returncode == 1
    assert "www.alice2.test.example is under locker \"alice2\"'s name" in r.stderr
    r = L(d, "bob2", "vhost", "remove", "www.alice2.test.example")
    refused(r, "www.alice2.test.example")
    refused(L(d, "bob2", "vhost", "add", "alice2", "x.alice2-site.example.org"),
            "not an admin of alice2")
    s, _, b = get(d.port, "/", "www.alice2.test.example")
    assert (s, b) == (200, b"alice2's\n")
    # names under the service's domain that are not the locker's own
    for host in ("bob2.test.example", "www.bob2.test.example", "test.example",
                 "scripts.test.example", "alice2.test.example"):
        r = L(d, "alice2", "vhost", "add", "alice2", host)
        assert r.returncode != 0, host
    r = L(d, "alice2", "vhost", "add", "alice2", "blog.alice2.test.example")
    assert r.returncode == 0, r.stderr
    # a name outside the domain waits for its proof (test_names.py)
    r = L(d, "alice2", "vhost", "add", "alice2", "www.alice2-site.example.org")
    assert r.returncode == 0 and "pending" in r.stdout, (r.stdout, r.stderr)
    assert get(d.port, "/", "www.alice2-site.example.org")[0] == 404
    # club's admin adds to club
    assert L(d, "alice2", "vhost", "add", "club", "www.club.test.example").returncode == 0
    # removal by the admin, at once
    assert L(d, "alice2", "vhost", "remove", "www.alice2.test.example").returncode == 0
    assert get(d.port, "/", "www.alice2.test.example")[0] == 404
    assert L(d, "alice2", "vhost", "remove", "blog.alice2.test.example").returncode == 0
    assert L(d, "alice2", "vhost", "remove", "www.club.test.example").returncode == 0


# ---------------------------------------------------------------- logs

_wait_for = wait_for


def test_logs_for_admins_only(d):
    d.put("alice2", "hello.txt", "hi\n")
    tag = f"/hello.txt?logs-{os.getpid()}"
    assert get(d.port, tag, "alice2.test.example")[0] == 200
    r = _wait_for(lambda: (lambda r: r if tag in r.stdout else None)(
        L(d, "alice2", "logs", "alice2")))
    assert r is not None and r.returncode == 0
    # only alice2's requests are in alice2's log
    assert get(d.port, "/?bob2-only", "bob2.test.example")[0] in (200, 403, 404)
    time.sleep(0.3)
    assert "bob2-only" not in L(d, "alice2", "logs", "alice2").stdout
    refused(L(d, "bob2", "logs", "alice2"), "not an admin of alice2")
    # the error log: there may be none yet, which is not an error
    r = L(d, "alice2", "logs", "alice2", "--error")
    assert r.returncode == 0, r.stderr
    # and the log file itself is still unreadable to the login user
    r = subprocess.run(["cat", os.path.join(d.logs, "lockers", "alice2", "access.log")],
                       user="alice2", capture_output=True)
    assert r.returncode != 0


def test_logs_follow(d):
    p = subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "logs", "alice2",
                          "--follow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         user="alice2")
    try:
        time.sleep(0.5)
        tag = f"/hello.txt?follow-{os.getpid()}-{random.randint(0, 1 << 30)}"
        assert get(d.port, tag, "alice2.test.example")[0] == 200
        os.set_blocking(p.stdout.fileno(), False)
        got = b""
        deadline = time.time() + 10
        while tag.encode() not in got and time.time() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                got += p.stdout.read() or b""
        assert tag.encode() in got, got
        assert p.poll() is None, "--follow ended by itself"
    finally:
        p.kill()
        p.wait()


# ---------------------------------------------------------------- status

def test_status(d, users):
    st = json.loads(d.locker("status", "--json").stdout)["processes"]
    roles = [p["role"] for p in st]
    assert roles.count("master") == 1 and roles.count("front") == 1 and "logd" in roles
    master = [p for p in st if p["role"] == "master"][0]
    assert master["pid"] == d.proc.pid and master["uptime_ms"] > 0
    kids = d.children()
    for p in st:
        if p["role"] in ("front", "logd"):
            assert p["pid"] in kids and p["restarts"] >= 0
    assert "master" in d.locker("status").stdout

    assert get(d.port, "/hello.txt", "alice2.test.example")[0] == 200
    info = d.info("alice2")
    st = json.loads(L(d, "alice2", "status", "alice2", "--json").stdout)["processes"]
    workers = [p for p in st if p["role"] == "worker"]
    assert len(workers) == 1, st
    w = workers[0]
    assert w["uid"] == info["uid"] and w["locker"] == "alice2"
    assert w["rss_kb"] > 0 and w["cpu_ms"] >= 0 and w["uptime_ms"] >= 0
    assert w["pid"] == info["worker_pid"]
    # no name: every locker alice2 administers, nothing of bob2's
    assert get(d.port, "/", "bob2.test.example")[0] == 200
    st = json.loads(L(d, "alice2", "status", "--json").stdout)["processes"]
    assert {p["locker"] for p in st} <= {"alice2", "club"} and st
    st = json.loads(L(d, "bob2", "status", "--json").stdout)["processes"]
    assert {p["locker"] for p in st} == {"bob2"}
    assert "worker" in L(d, "alice2", "status", "alice2").stdout
    refused(L(d, "bob2", "status", "alice2"), "not an admin of alice2")


def _counts(d, user, name):
    """(locker's requests, 4xx, 5xx) and the status JSON, as `user` sees it."""
    r = L(d, user, "status", name, "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    mine = [x for x in st["lockers"] if x["name"] == name]
    assert len(mine) == 1, st
    return (mine[0]["requests"], mine[0]["errors_4xx"], mine[0]["errors_5xx"]), st


def test_status_counts_requests_and_errors(d, users):
    """front counts every request it logs, per locker and per front process
    (cached static files included, which the worker never sees), and
    reports to the master a few times a second."""
    d.locker("signup", "counted")
    d.locker("admin", "add", "counted", "alice2")
    d.put("counted", "count.txt", "count me\n")
    d.put("counted", "broken.sh", "echo no head at all")
    (r0, e40, e50), _ = _counts(d, "alice2", "counted")
    assert (r0, e40, e50) == (0, 0, 0)
    root0 = json.loads(d.locker("status", "--json").stdout)
    front0 = sum(p["requests"] for p in root0["processes"] if p["role"] == "front")
    for _ in range(7):      # the second and later from front's file cache
        assert get(d.port, "/count.txt", "counted.test.example")[0] == 200
    for i in range(3):
        assert get(d.port, f"/no-such-{i}.txt", "counted.test.example")[0] == 404
    for _ in range(2):
        assert get(d.port, "/broken.sh", "counted.test.example")[0] == 502
    want = (r0 + 12, e40 + 3, e50 + 2)
    got = _wait_for(lambda: (lambda c: c if c[0] == want else None)(
        _counts(d, "alice2", "counted")))
    assert got is not None, (_counts(d, "alice2", "counted"), want)
    # root sees the same per locker, and each front's (one here) and the sum
    st = json.loads(d.locker("status", "--json").stdout)
    assert [x for x in st["lockers"] if x["name"] == "counted"][0]["requests"] == want[0]
    fronts = [p for p in st["processes"] if p["role"] == "front"]
    master = [p for p in st["processes"] if p["role"] == "master"][0]
    assert sum(p["requests"] for p in fronts) >= front0 + 12
    assert master["requests"] == sum(p["requests"] for p in fronts)
    assert master["errors_4xx"] >= e40 + 3 and master["errors_5xx"] >= 2
    # the text form shows them too; bob2 sees only his own locker's counts
    text = L(d, "alice2", "status", "counted").stdout
    assert re.search(r"counted\s+%d\s+%d\s+%d" % want, text), text
    st = json.loads(L(d, "bob2", "status", "--json").stdout)
    assert {x["name"] for x in st["lockers"]} == {"bob2"}
    # requests to no locker count for the front only
    assert get(d.port, "/", "nobody-here.example.net")[0] == 404
    assert _wait_for(lambda: [p for p in json.loads(d.locker("status", "--json").stdout)
                              ["processes"] if p["role"] == "master"][0]["requests"]
                     > master["requests"])
    # a removed locker's counts go with it
    d.locker("remove", "counted", "--purge")
    st = json.loads(d.locker("status", "--json").stdout)
    assert "counted" not in [x["name"] for x in st["lockers"]]


# ---------------------------------------------------------------- audit

def test_the_audit_trail_names_who_did_what(d, users):
    db = sqlite3.connect(f"file:{d.dir}/state/directory.db?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT who, action, locker, detail FROM audit ORDER BY id").fetchall()
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema_version()
    finally:
        db.close()
    alice = users["alice2"].pw_uid
    assert (alice, "signup", "alice2") in [r[:3] for r in rows]
    assert (alice, "signup", "club") in [r[:3] for r in rows]
    assert (alice, "admin-add", "club", f"uid {users['bob2'].pw_uid}") in rows
    assert (alice, "admin-remove", "club", f"uid {users['bob2'].pw_uid}") in rows
    assert (alice, "su", "alice2", "id +1 arg") in rows
    assert (alice, "vhost-add", "alice2", "www.alice2.test.example") in rows
    assert (alice, "vhost-remove", "alice2", "www.alice2.test.example") in rows
    assert (0, "admin-add", "club", f"uid {users['bob2'].pw_uid}") in rows
    # nothing a refused request tried is there
    assert not [r for r in rows if r[0] == users["bob2"].pw_uid and r[2] in ("alice2", "club")
                and r[1] != "su"]


def test_locker_audit_shows_who_did_what(d, users):
    st = json.loads(d.locker("audit", "--json").stdout)
    rows = [(a["user"], a["action"], a["locker"], a["detail"]) for a in st]
    bob = users["bob2"].pw_uid
    assert ("alice2", "signup", "alice2") in [r[:3] for r in rows]
    assert ("bob2", "signup", "bob2") in [r[:3] for r in rows]
    assert ("alice2", "admin-add", "club", f"uid {bob}") in rows
    assert ("root", "admin-add", "club", f"uid {bob}") in rows
    assert ("alice2", "admin-remove", "club", f"uid {bob}") in rows
    assert ("alice2", "vhost-add", "alice2", "www.alice2.test.example") in rows
    assert ("alice2", "vhost-remove", "alice2", "www.alice2.test.example") in rows
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", a["at"]) for a in st)
    ids = [a["id"] for a in st]
    assert ids == sorted(ids)
    # an admin sees their lockers' rows, and only those
    mine = json.loads(L(d, "alice2", "audit", "club", "--json").stdout)
    assert mine and {a["locker"] for a in mine} == {"club"}
    assert ("alice2", "signup") in [(a["user"], a["action"]) for a in mine]
    every = json.loads(L(d, "alice2", "audit", "--json").stdout)
    assert {a["locker"] for a in every} == {"alice2", "club"}
    assert {a["locker"] for a in json.loads(L(d, "bob2", "audit", "--json").stdout)} \
        == {"bob2"}
    refused(L(d, "bob2", "audit", "alice2"), "not an admin of alice2")
    refused(L(d, "bob2", "audit", "club"), "not an admin of club")
    # the text form
    text = L(d, "alice2", "audit", "alice2").stdout
    assert re.search(r"alice2\s+vhost-add\s+alice2\s+www.alice2.test.example", text), text
    assert d.locker("audit", "no-such-locker", "--json").stdout.strip() == "[]"


# ---------------------------------------------------------------- migration

SCHEMA_V1 = [
    "CREATE TABLE uids (uid INTEGER PRIMARY KEY CHECK (uid > 0 AND uid < 4294967295),"
    " name TEXT NOT NULL, allocated INTEGER NOT NULL, released INTEGER, archive TEXT)",
    "CREATE TRIGGER uids_keep BEFORE DELETE ON uids BEGIN"
    " SELECT RAISE(ABORT, 'uids are never deleted'); END",
    "CREATE TRIGGER uids_fixed BEFORE UPDATE OF uid ON uids BEGIN"
    " SELECT RAISE(ABORT, 'uids are never renumbered'); END",
    "CREATE TABLE lockers (name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),"
    " uid INTEGER NOT NULL UNIQUE REFERENCES uids(uid), gid INTEGER NOT NULL CHECK (gid = uid),"
    " created INTEGER NOT NULL)",
    "CREATE TABLE vhosts (host TEXT PRIMARY KEY CHECK (length(host) BETWEEN 1 AND 253),"
    " locker TEXT NOT NULL REFERENCES lockers(name),"
    " subdir TEXT NOT NULL DEFAULT '' CHECK (length(subdir) <= 255))",
    "CREATE INDEX vhosts_by_locker ON vhosts(locker, host)",
    "PRAGMA user_version = 1",
]


def test_a_version_1_directory_is_migrated(make_lockerd, users):
    m = make_lockerd(front_processes=1)
    low = int(re.search(r"uid-range (\d+)-", open(m.conf).read()).group(1))
    state = os.path.join(m.dir, "state")
    os.makedirs(state, mode=0o700)
    db = sqlite3.connect(os.path.join(state, "directory.db"))
    for sql in SCHEMA_V1:
        db.execute(sql)
    db.execute("INSERT INTO uids VALUES (?, 'oldie', 1, NULL, NULL)", (low,))
    db.execute("INSERT INTO lockers VALUES ('oldie', ?, ?, 1)", (low, low))
    db.execute("INSERT INTO vhosts VALUES ('oldie.example.org', 'oldie', '')")
    db.commit()
    db.close()
    os.chmod(os.path.join(state, "directory.db"), 0o600)
    m.start()
    info = m.info("oldie")
    assert info["uid"] == low
    assert "oldie.example.org" in json.dumps(info["vhosts"])
    # a locker from before admins existed: root gives it one, who can then act
    refused(L(m, "alice2", "su", "oldie", "--", "true"), "not an admin of oldie")
    m.locker("admin", "add", "oldie", "alice2")
    assert [a["user"] for a in json.loads(
        L(m, "alice2", "admin", "list", "oldie", "--json").stdout)] == ["alice2"]
    # new uids still skip the old one
    assert m.signup("newer")["uid"] == low + 1


# ---------------------------------------------------------------- concurrency

def test_a_burst_of_one_users_calls_all_succeed(d):
    """40 calls at once by one user all succeed: any over the per-user limit
    are told busy and `locker` tries again (test_one_user_cannot_take_every_
    connection makes sure that happens)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as ex:
        rs = list(ex.map(lambda _: L(d, "bob2", "list", "--json"), range(40)))
    for r in rs:
        assert r.returncode == 0, r.stderr
        assert "bob2" in [e["name"] for e in json.loads(r.stdout)]


def test_50_concurrent_cli_calls_leave_the_directory_consistent(d, users):
    calls = []
    for i in range(15):
        calls.append((None, ("signup", f"conc{i}")))
    for i in range(10):
        calls.append((None, ("vhost", "add", "club", f"c{i}.club-conc.example.org")))
    for i in range(10):
        calls.append((None, ("signup", "conc-dup")))      # exactly one wins
    for i in range(5):
        calls.append((None, ("vhost", "add", "bob2", f"c{i}.club-conc.example.org")))
    for i in range(5):
        calls.append(("alice2", ("list", "--json")))
    for i in range(5):
        calls.append(("bob2", ("status", "--json")))
    assert len(calls) == 50
    random.shuffle(calls)

    def run(c):
        user, args = c
        return c, d.locker(*args, user=user, check=False)
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        results = list(ex.map(run, calls))

    dup_ok = [r for (u, a), r in results if a == ("signup", "conc-dup") and r.returncode == 0]
    assert len(dup_ok) == 1
    for (u, a), r in results:
        if a[0] == "signup" and a[1] != "conc-dup":
            assert r.returncode == 0, (a, r.stderr)
        if u == "alice2" and a[0] == "list":
            json.loads(r.stdout)
    lst = json.loads(d.locker("list", "--json").stdout)
    names = [e["name"] for e in lst]
    assert names.count("conc-dup") == 1
    for i in range(15):
        assert f"conc{i}" in names
    assert len({e["uid"] for e in lst}) == len(lst)
    # every vhost has exactly one owner: whoever got there first
    vl = json.loads(d.locker("vhost", "list", "--json").stdout)
    conc = [v for v in vl if v["host"].endswith(".club-conc.example.org")]
    assert sorted(v["host"] for v in conc) == sorted(f"c{i}.club-conc.example.org"
                                                     for i in range(10))
    for v in conc:
        assert v["locker"] in ("club", "bob2")
        n_ok = [r for (u, a), r in results if a[:2] == ("vhost", "add")
                and a[3] == v["host"] and r.returncode == 0]
        assert len(n_ok) == 1, v
    db = sqlite3.connect(f"file:{d.dir}/state/directory.db?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        # one audit row per change that happened
        n = db.execute("SELECT count(*) FROM audit WHERE action = 'signup'"
                       " AND locker LIKE 'conc%'").fetchone()[0]
        assert n == 16
    finally:
        db.close()
    for (u, a), r in results:
        if a[0] == "signup" and r.returncode == 0:
            d.locker("remove", a[1], "--purge")
    for v in conc:
        d.locker("vhost", "remove", v["host"])
    assert d.proc.poll() is None


def test_login_users_read_nothing_of_the_state_but_reach_the_socket(d):
    """The control socket is the one thing in the state directory a login user
    can use; the directory, its journal and everything else stay unreadable."""
    state = os.path.join(d.dir, "state")
    found = []
    for root, dirs, files in os.walk(state):
        for f in files:
            p = os.path.join(root, f)
            found.append(p)
            if f == "control.sock":
                assert os.stat(p).st_mode & 0o777 == 0o666
                continue
            r = subprocess.run(["cat", p], user="bob2", capture_output=True)
            assert r.returncode != 0, p
    assert os.path.join(state, "directory.db") in found
    r = subprocess.run(["ls", os.path.join(d.dir, "logs")], user="bob2", capture_output=True)
    assert r.returncode != 0


# ---------------------------------------------------------------- the socket

def _enum(name):
    """The values of a C enum in src/*.h, so the test follows the headers."""
    text = "".join(open(p).read() for p in sorted(glob.glob(os.path.join(ROOT, "src", "*.h"))))
    body = re.search(r"enum " + name + r" \{(.*?)\};", text, re.S).group(1)
    out, v = {}, 0
    for line in body.splitlines():
        m = re.match(r"\s*([A-Z_0-9]+)\s*(?:=\s*(\d+))?\s*,?", line)
        if m and m.group(1):
            if m.group(2):
                v = int(m.group(2))
            out[m.group(1)] = v
            v += 1
    return out


MSG = _enum("msg_type")
VERB = _enum("ctl_verb")


class CtlRequest(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("verb", ctypes.c_uint32),
                ("flags", ctypes.c_uint32), ("name", ctypes.c_char * 64),
                ("host", ctypes.c_char * 254), ("subdir", ctypes.c_char * 256),
                ("user", ctypes.c_char * 33), ("term", ctypes.c_char * 64),
                ("argc", ctypes.c_uint32), ("argv", ctypes.c_char * 4096)]


CTL_VERSION = int(re.search(r"#define CTL_VERSION\s+(0x[0-9a-fA-F]+)u",
                            open(os.path.join(ROOT, "src", "lockerd.h")).read()).group(1), 16)


def _conn(d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # Blocking: a full backlog waits instead of failing with EAGAIN.
    s.connect(os.path.join(d.dir, "state", "control.sock"))
    s.settimeout(5)
    return s


def _frame(mtype, payload):
    return struct.pack("=HHI", mtype, 0, len(payload)) + payload


def _answer(s):
    """The ctl_done of a connection: (code, message), or None if it just closed."""
    while True:
        try:
            data = s.recv(70000)
        except (ConnectionResetError, socket.timeout):
            return None
        if not data:
            return None
        t, _, n = struct.unpack("=HHI", data[:8])
        if t == MSG["MSG_CTL_DONE"]:
            code = struct.unpack("=i", data[8:12])[0]
            return code, data[12:].split(b"\0")[0].decode()


def test_garbage_on_the_control_socket(d):
    assert ctypes.sizeof(CtlRequest) > 4096
    size = ctypes.sizeof(CtlRequest)
    rnd = random.Random(5)
    # random bytes of many sizes
    for n in (1, 3, 7, 8, 9, 100, size - 1, size, size + 1, size + 8, 65536):
        s = _conn(d)
        try:
            s.send(bytes(rnd.getrandbits(8) for _ in range(n)))
        except OSError:
            pass
        _answer(s)
        s.close()
    # well framed, but the wrong size, type or version
    for payload, mtype in ((b"x" * 10, MSG["MSG_CTL_REQUEST"]),
                           (bytes(size - 4), MSG["MSG_CTL_REQUEST"]),
                           (bytes(size + 4), MSG["MSG_CTL_REQUEST"]),
                           (bytes(CtlRequest(version=CTL_VERSION, verb=VERB["CTL_LIST"])),
                            MSG["MSG_CTL_DONE"]),
                           (bytes(CtlRequest(version=CTL_VERSION, verb=0)),
                            MSG["MSG_CTL_REQUEST"]),
                           (bytes(CtlRequest(version=CTL_VERSION, verb=9999)),
                            MSG["MSG_CTL_REQUEST"]),
                           (bytes(CtlRequest(version=CTL_VERSION, verb=VERB["CTL_STATUS"])),
                            MSG["MSG_MAX"]),
                           (bytes(CtlRequest(version=CTL_VERSION, verb=VERB["CTL_STATUS"])),
                            60000)):
        s = _conn(d)
        s.send(_frame(mtype, payload))
        a = _answer(s)
        assert a is None or a[0] != 0, (payload[:16], mtype)
        s.close()
    # a header that lies about the length
    s = _conn(d)
    s.send(struct.pack("=HHI", MSG["MSG_CTL_REQUEST"], 0, 1 << 30) + b"abc")
    _answer(s)
    s.close()
    # another version's CLI is told so
    s = _conn(d)
    s.send(_frame(MSG["MSG_CTL_REQUEST"], bytes(CtlRequest(version=0x4c4b0001,
                                                           verb=VERB["CTL_LIST"]))))
    code, msg = _answer(s)
    assert code == 2 and "different versions" in msg
    s.close()
    # strings without their NUL, in every string field
    for field, n in (("name", 64), ("host", 254), ("subdir", 256), ("user", 33), ("term", 64)):
        r = CtlRequest(version=CTL_VERSION, verb=VERB["CTL_INFO"])
        raw = bytearray(bytes(r))
        off = getattr(CtlRequest, field).offset
        raw[off:off + n] = b"a" * n
        s = _conn(d)
        s.send(_frame(MSG["MSG_CTL_REQUEST"], bytes(raw)))
        code, msg = _answer(s)
        assert code == 2 and "malformed" in msg, field
        s.close()
    # su / run with a packed argv that runs off its buffer, or too many words
    for verb in ("CTL_SU", "CTL_RUN"):
        for argc, argv in ((3, b"a" * 4096), (33, b"a\0" * 33), (2 ** 31, b"id\0")):
            r = CtlRequest(version=CTL_VERSION, verb=VERB[verb], name=b"alice2", argc=argc)
            r.argv = argv[:4096]
            s = _conn(d)
            s.send(_frame(MSG["MSG_CTL_REQUEST"], bytes(r)))
            code, msg = _answer(s)
            assert code == 2, (verb, argc, msg)
            s.close()
    # descriptors where none belong, and stdio before any request
    s = _conn(d)
    socket.send_fds(s, [_frame(MSG["MSG_CTL_STDIO"], b"")], [0, 1, 2])
    _answer(s)
    s.close()
    # a second request on one connection
    s = _conn(d)
    req = bytes(CtlRequest(version=CTL_VERSION, verb=VERB["CTL_SU"], name=b"alice2"))
    s.send(_frame(MSG["MSG_CTL_REQUEST"], req))
    s.send(_frame(MSG["MSG_CTL_REQUEST"], req))
    code, _ = _answer(s)
    assert code == 2
    s.close()
    # clients that connect and say nothing, or go away at once, many times
    idle = [_conn(d) for _ in range(20)]
    for _ in range(100):
        _conn(d).close()
    # through all of that, the master answers everyone else
    r = d.locker("list", "--json")
    assert "alice2" in [e["name"] for e in json.loads(r.stdout)]
    assert L(d, "alice2", "su", "alice2", "--", "id", "-un").stdout == "alice2\n"
    for s in idle:
        s.close()
    assert d.proc.poll() is None
    # refused, and said so in lockerd's log
    assert "control: malformed" in d.log()   # at most a line a second
    d.put("alice2", "garbage.txt", "still served\n")
    assert get(d.port, "/garbage.txt", "alice2.test.example")[2] == b"still served\n"


def test_signup_directives_are_checked(make_lockerd):
    m = make_lockerd()
    for bad in ("self-signup maybe\n", "group-signup\n", "group-signup a:b\n",
                "self-signup yes\nself-signup no\n"):
        m.write_conf(open(m.conf).read().split("# extra\n")[0] + "# extra\n" + bad)
        r = subprocess.run([os.path.join(m.build, "lockerd"), "-t", "-c", m.conf],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "signup" in r.stderr, (bad, r.stderr)
    m.write_conf(open(m.conf).read().split("# extra\n")[0] +
                 "# extra\nself-signup yes\ngroup-signup staff\n")
    r = subprocess.run([os.path.join(m.build, "lockerd"), "-t", "-v", "-c", m.conf],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "self-signup yes" in r.stdout and "group-signup staff" in r.stdout


def connection_hog(sock, n):
    """bob2's process holding n idle connections to the control socket;
    it prints "holding" once they are all open."""
    return subprocess.Popen(
        ["/usr/bin/python3", "-c",
         "import socket, sys, time\n"
         "ss = []\n"
         "for _ in range(int(sys.argv[2])):\n"
         "    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
         "    s.connect(sys.argv[1]); ss.append(s)\n"
         "print('holding', flush=True)\n"
         "time.sleep(60)\n", sock, str(n)],
        stdout=subprocess.PIPE, text=True, user="bob2")


def test_a_user_holding_many_connections_does_not_lock_root_out(d):
    sock = os.path.join(d.dir, "state", "control.sock")
    hog = connection_hog(sock, 300)
    try:
        assert hog.stdout.readline().strip() == "holding"
        r = d.locker("list", "--json")
        assert "alice2" in [e["name"] for e in json.loads(r.stdout)]
        assert d.locker("su", "alice2", "--", "id", "-un").stdout == "alice2\n"
        # nor other users: bob2 may hold only so many
        assert L(d, "alice2", "su", "alice2", "--", "true").returncode == 0
        # bob2 himself is told lockerd is busy (su does not try again), cleanly
        r = L(d, "bob2", "su", "bob2", "--", "true")
        assert r.returncode == 75 and "busy" in r.stderr, (r.returncode, r.stderr)
    finally:
        hog.kill()
        hog.wait()
    # once they are gone, users are let in again
    deadline = time.time() + 5
    while L(d, "alice2", "list").returncode != 0 and time.time() < deadline:
        time.sleep(0.1)
    assert L(d, "alice2", "list").returncode == 0


# ---------------------------------------------------------------- slow clients

def _request(verb, **kw):
    return _frame(MSG["MSG_CTL_REQUEST"],
                  bytes(CtlRequest(version=CTL_VERSION, verb=VERB[verb], **kw)))


def _all_replies(s, timeout=10):
    """Every message of a connection up to its ctl_done: ([types], code)."""
    s.settimeout(timeout)
    types = []
    while True:
        data = s.recv(70000)
        assert data, "closed before its answer"
        t = struct.unpack("=HHI", data[:8])[0]
        types.append(t)
        if t == MSG["MSG_CTL_DONE"]:
            return types, struct.unpack("=i", data[8:12])[0]


@pytest.fixture(scope="module")
def quick(build_dir, users):
    """A lockerd that closes silent control connections after 2 s, with 90
    lockers and 250 vhosts: their audit trail of 340 rows is more than a
    control socket's buffer holds."""
    inst = Lockerd(build_dir, front_processes=1, extra="control-timeout 2s\n")
    try:
        inst.start()
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
            list(ex.map(lambda i: inst.locker("signup", f"many{i}"), range(90)))
            list(ex.map(lambda i: inst.locker("vhost", "add", "many0",
                                              f"v{i}.many.example.org"), range(250)))
        yield inst
    finally:
        inst.cleanup()


def test_a_client_that_never_reads_stalls_nobody(quick):
    """Its replies wait in the master's queue for it; everyone else is answered
    meanwhile, and it still gets all of them once it reads."""
    hog = _conn(quick)
    hog.send(_request("CTL_AUDIT"))    # 340 rows: more than the socket holds
    time.sleep(0.3)
    for _ in range(10):
        t = time.time()
        r = quick.locker("list", "--json")
        assert len(json.loads(r.stdout)) == 90
        # the old master waited up to 5 s on such a client, once
        assert time.time() - t < 2.5
    types, code = _all_replies(hog)
    assert code == 0 and types.count(MSG["MSG_CTL_AUDIT"]) == 340
    hog.close()
    # one that never reads at all is dropped after control-timeout
    hog = _conn(quick)
    hog.send(_request("CTL_AUDIT"))
    deadline = time.time() + 15
    while "read none of its replies" not in quick.log() and time.time() < deadline:
        time.sleep(0.1)
    assert "read none of its replies" in quick.log()
    hog.close()
    assert quick.proc.poll() is None


def test_idle_control_connections_are_dropped(quick):
    idle = [_conn(quick) for _ in range(40)]
    t = time.time()
    for s in idle:
        s.settimeout(15)
        a = _answer(s)
        assert a is None or (a[0] == 2 and "timed out" in a[1]), a
        s.close()
    assert time.time() - t >= 1.0      # not before the timeout
    assert "sent no request" in quick.log()
    assert json.loads(quick.locker("list", "--json").stdout)
    # a su session waits as long as its command runs, silent or not
    r = quick.locker("su", "many0", "--", "sleep", "3")
    assert r.returncode == 0, r.stderr


def test_one_user_cannot_take_every_connection(quick):
    sock = os.path.join(quick.dir, "state", "control.sock")
    hog = connection_hog(sock, 40)
    try:
        assert hog.stdout.readline().strip() == "holding"
        # other users are not affected
        r = L(quick, "alice2", "list", "--json")
        assert r.returncode == 0 and len(json.loads(r.stdout)) == 90
        # bob2's own command waits until his idle connections are closed
        r = L(quick, "bob2", "list", "--json")
        assert r.returncode == 0, r.stderr
        assert "connections open; refused another" in quick.log()
    finally:
        hog.kill()
        hog.wait()


# ---------------------------------------------------------------- a slow NSS

def test_a_hanging_user_database_does_not_hang_the_master(build_dir, users, tmp_path):
    """With the password database behind a network (LDAP, NIS) a lookup can
    hang; the master asks in a child and waits for it only so long."""
    so = str(tmp_path / "slow_nss.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", so,
                    os.path.join(ROOT, "tests", "integration", "slow_nss.c"), "-ldl"],
                   check=True)
    env = dict(os.environ)
    os.environ["LD_PRELOAD"] = so
    os.environ["ASAN_OPTIONS"] = "verify_asan_link_order=0:" + env.get("ASAN_OPTIONS", "")
    m = Lockerd(build_dir, front_processes=1, extra="self-signup yes\n")
    try:
        m.start()
    finally:
        os.environ.clear()
        os.environ.update(env)
    try:
        m.locker("signup", user="alice2")
        m.put("alice2", "i.txt", "up\n")
        t = time.time()
        r = L(m, "alice2", "admin", "add", "alice2", "slownss1")
        assert r.returncode == 1 and "did not answer in time" in r.stderr, r.stderr
        assert time.time() - t < 20          # not the 30 s the lookup takes
        # meanwhile and after, everything else goes on
        assert get(m.port, "/i.txt", "alice2.test.example")[2] == b"up\n"
        assert L(m, "alice2", "admin", "add", "alice2", "bob2").returncode == 0
        assert "did not answer within" in m.log()
    finally:
        m.cleanup()
