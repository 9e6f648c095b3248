"""keyd, the key process, from the outside: its sandbox as the kernel
shows it, its restart after kill -9, and a hostile front on its channel.

keyd holds every TLS private key and answers front's private-key
operations (src/keyd.c, src/keyop.c; front's side is src/keyclient.c).
Here each claim is checked where an attacker would meet it: /proc for the
sandbox (uid, root, seccomp, dumpable, core size, descriptors), the real
channel of a front (taken with pidfd_getfd, as test_trust.py does) for
what a subverted front can send.
"""
import json
import os
import pwd
import re
import socket
import struct
import time

import pytest

from conftest import Lockerd, wait_for
from test_trust import MSG, frame, peers, steal

KEY_OK, KEY_ENOKEY, KEY_EOP, KEY_ELEN = 0, 1, 2, 3
OP_ECDSA, OP_RSA = 1, 2


@pytest.fixture(scope="module")
def k(build_dir):
    d = Lockerd(build_dir).start()
    yield d
    d.cleanup()


def keyd_pid(d, within=10.0):
    """keyd's pid, once it is in its sandbox (and so in its loop)."""
    def ready():
        p = d.pids("keyd")
        try:
            with open(f"/proc/{p[0]}/status") as f:
                return len(p) == 1 and re.search(r"Seccomp:\s+2", f.read()) and p[0]
        except (OSError, IndexError):
            return False
    return wait_for(ready, within=within)


def front_chans(d, keyd):
    """[(front pid, its fd of the channel to keyd)]"""
    return [(f, fd) for f in d.pids("front") for fd, p in peers(f).items() if p == keyd]


def op(seq, key_id=1, kind=OP_ECDSA, pad=0, data=b"\1" * 32):
    return frame(MSG["MSG_KEY_OP"], struct.pack("=IIHH", key_id, seq, kind, pad) + data)


def answer(s, within=5.0):
    """(seq, status, output) of the next answer on s."""
    s.settimeout(within)
    m = s.recv(70000)
    ty, _, n = struct.unpack("=HHI", m[:8])
    assert ty == MSG["MSG_KEY_RESULT"] and n == len(m) - 8
    seq, status = struct.unpack("=Ii", m[8:16])
    return seq, status, m[16:]


def test_sandbox(k):
    pid = keyd_pid(k)
    assert pid
    key = pwd.getpwnam("lockerd-key")
    with open(f"/proc/{pid}/status") as f:
        st = f.read()
    uids = re.search(r"Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", st).groups()
    assert set(int(u) for u in uids) == {key.pw_uid}
    assert re.search(r"Groups:\s*$", st, re.M), "no supplementary groups"
    assert re.search(r"Seccomp:\s+2", st) and re.search(r"NoNewPrivs:\s+1", st)
    assert re.search(r"CapEff:\s+0+$", st, re.M)
    tls = os.path.join(k.dir, "state", "tls")
    assert os.readlink(f"/proc/{pid}/root") == tls
    s = os.stat(tls)
    assert (s.st_uid, s.st_mode & 0o777) == (key.pw_uid, 0o700)
    # Not dumpable: the files of its memory are root's, though it runs as
    # key-user (so no process of key-user's may ptrace it or read them).
    assert os.stat(f"/proc/{pid}/mem").st_uid == 0
    with open(f"/proc/{pid}/limits") as f:
        core = [l for l in f if l.startswith("Max core file size")][0].split()
    assert core[4:6] == ["0", "0"]
    # Its descriptors: stdio, and unix channels to the master and each front.
    fds = {int(n) for n in os.listdir(f"/proc/{pid}/fd")} - {0, 1, 2}
    ends = peers(pid)
    assert fds == set(ends), (fds, ends)
    assert sorted(ends.values()) == sorted([k.proc.pid] + k.pids("front"))
    for fd in fds:
        assert os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    # `locker status` shows it, like logd.
    st = json.loads(k.locker("status", "--json").stdout)["processes"]
    assert [p["pid"] for p in st if p["role"] == "keyd"] == [pid]


def test_a_hostile_front_gets_errors_not_a_crash(k):
    """Operations that pass the trust table but are wrong in what they ask:
    an answer with an error each, keyd the same process, the other front's
    channel answered."""
    pid = keyd_pid(k)
    (f1, fd1), (f2, fd2) = front_chans(k, pid)
    s = steal(f1, fd1)
    try:
        cases = [
            (op(1, key_id=0xfffffff0), KEY_ENOKEY),
            (op(2, kind=0), None),
            (op(3, kind=999), None),
            (op(4, data=b""), None),
            (op(5, kind=OP_RSA, pad=77, data=b"\0" * 256), None),
            (op(6, kind=OP_RSA, pad=2, data=b"\xff" * 1024), None),
            (op(7, data=os.urandom(1024)), None),
        ]
        for i, (m, want) in enumerate(cases, 1):
            s.send(m)
            seq, status, out = answer(s)
            assert seq == i and status != KEY_OK and out == b""
            if want is not None:
                assert status == want
    finally:
        s.close()
    assert k.pids("keyd") == [pid]
    s = steal(f2, fd2)
    try:
        s.send(op(99, key_id=0xfffffff1))
        assert answer(s)[:2] == (99, KEY_ENOKEY)
    finally:
        s.close()


def test_a_front_that_does_not_read_cannot_stall_keyd(k):
    """Thousands of operations never read: keyd drops the answers that do
    not fit, and answers the other front at once."""
    pid = keyd_pid(k)
    (f1, fd1), (f2, fd2) = front_chans(k, pid)
    flood = steal(f1, fd1)
    flood.setblocking(False)
    sent = 0
    try:
        for i in range(20000):
            try:
                flood.send(op(i, key_id=0xfffffff2))
                sent += 1
            except BlockingIOError:
                time.sleep(0.001)
        s = steal(f2, fd2)
        try:
            t0 = time.monotonic()
            s.send(op(4242, key_id=0xfffffff3))
            assert answer(s, within=2.0)[:2] == (4242, KEY_ENOKEY)
            assert time.monotonic() - t0 < 1.0
        finally:
            s.close()
    finally:
        flood.close()
    assert sent > 1000 and k.pids("keyd") == [pid]


def test_kill_9_restarts_it_with_new_channels(k):
    old = keyd_pid(k)
    restarts = [p["restarts"] for p in json.loads(k.locker("status", "--json").stdout)
                ["processes"] if p["role"] == "keyd"][0]
    t0 = time.monotonic()
    os.kill(old, 9)
    def restarted():
        p = keyd_pid(k, within=0.05)
        return p and p != old and p
    new = wait_for(restarted, within=2.0)
    assert new, "keyd not restarted within 2 s"
    # Each front has a channel to the new keyd, which answers on it.
    assert wait_for(lambda: len(front_chans(k, new)) == 2, within=2.0 - (time.monotonic() - t0))
    for f, fd in front_chans(k, new):
        s = steal(f, fd)
        try:
            s.send(op(5, key_id=0xfffffff4))
            assert answer(s)[:2] == (5, KEY_ENOKEY)
        finally:
            s.close()
    log = k.log()
    assert re.search(rf"keyd \(pid {old}\) killed by signal 9", log)
    assert re.search(rf"keyd started again \(pid {new}\)", log)
    st = json.loads(k.locker("status", "--json").stdout)["processes"]
    assert [p["restarts"] for p in st if p["role"] == "keyd"] == [restarts + 1]


def test_key_user_must_be_its_own(make_lockerd):
    """keyd as the fronts' user would let a front read its memory."""
    d = make_lockerd()
    with open(d.conf, "a") as f:
        f.write("key-user lockerd\n")
    with pytest.raises(RuntimeError, match="key-user .lockerd. must be a user of its own"):
        d.start()
