"""The trust edges from the attacker's side: every message a role may not
send, sent by that role on its real channel, is refused without harm.

msg_rules[] (src/msg.c) declares who may send which message to whom;
tests/unit/test_msg.c checks the checker against it for every type, every
sender and every receiver.  Here the messages travel the real channels of a
running lockerd:

- a CLI (any user: the control socket is everyone's) sends every type
  but its own two; each connection is answered with an error and closed;
- a worker (a locker's own process) sends to the master every type it may
  not: the master kills it, and the locker is served again at once;
- the same worker sends front what it may not on its channel to front:
  front drops the channel, and takes a new one for the next request;
- front and logd send the master what they may not: it kills them, they
  are restarted;
- a worker, and a front, send logd what they may not: logd drops that
  input;
- front sends a worker what it may not: the worker drops that channel;
- a front sends keyd what it may not: keyd drops that front's channel and
  goes on serving the others;
- keyd sends the master what it may not: it is killed and restarted;
- the master sends front, logd and keyd what they may not take: each exits
  (a breach by the master, root, is a bug) and is restarted.

A locker's code cannot reach any of these channels from inside its sandbox
(test_hostile.py: no ptrace, no pidfd_getfd, no descriptor leaks), so the
test takes the channel from outside, as root, with pidfd_getfd(2), and
speaks on it as that process would.
"""
import ctypes
import os
import re
import select
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import Lockerd, get, wait_for

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ROLES = ("MR_MASTER", "MR_FRONT", "MR_WORKER", "MR_LOGD", "MR_CLI", "MR_KEYD")


def _enum_msg_type():
    text = open(os.path.join(ROOT, "src", "msg.h")).read()
    body = re.search(r"enum msg_type \{(.*?)\};", text, re.S).group(1)
    out, v = {}, 0
    for line in body.splitlines():
        m = re.match(r"\s*(MSG_[A-Z_0-9]+)\s*(?:=\s*(\d+))?\s*,?", line)
        if m:
            v = int(m.group(2)) if m.group(2) else v
            out[m.group(1)] = v
            v += 1
    return out


def _rules():
    """{type name: (senders, receivers)} from msg_rules[] in src/msg.c."""
    text = open(os.path.join(ROOT, "src", "msg.c")).read()
    macros = {"CHILDREN": {"MR_FRONT", "MR_WORKER", "MR_LOGD"}}
    out = {}
    for m in re.finditer(r"ROW\((MSG_\w+),\s*([^,]+),\s*([^,]+),", text):
        def roles(expr):
            s = set()
            for w in re.findall(r"\w+", expr):
                s |= macros.get(w, {w})
            return s
        out[m.group(1)] = (roles(m.group(2)), roles(m.group(3)))
    return out


MSG = _enum_msg_type()
RULES = _rules()
NO_SUCH = [0, MSG["MSG_MAX"], 60000]


def refused_types(sender, receiver):
    """The types sender may not send receiver (and some that do not exist)."""
    names = [n for n in MSG if n not in ("MSG_NONE", "MSG_MAX")]
    assert set(names) == set(RULES), "every message has its row in msg_rules[]"
    bad = [MSG[n] for n in names
           if not (sender in RULES[n][0] and receiver in RULES[n][1])]
    return bad + NO_SUCH


def frame(mtype, payload=b"\0" * 16):
    return struct.pack("=HHI", mtype, 0, len(payload)) + payload


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def steal(pid, fd):
    """A copy of another process's descriptor (pidfd_getfd), as a socket."""
    pidfd = os.pidfd_open(pid)
    try:
        n = _libc.syscall(438, pidfd, fd, 0)
        if n < 0:
            raise OSError(ctypes.get_errno(), f"pidfd_getfd {pid} {fd}")
    finally:
        os.close(pidfd)
    s = socket.socket(fileno=n)
    s.setblocking(True)
    return s


def peers(pid):
    """{fd: peer pid} of pid's unix sockets whose other end another process holds."""
    out = subprocess.run(["ss", "-xpaH"], capture_output=True, text=True).stdout
    by_inode = {}       # inode -> [(pid, fd)]
    peer_of = {}        # inode -> peer inode
    for line in out.splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        try:
            ino, peer = int(f[5]), int(f[7])
        except ValueError:
            continue
        peer_of[ino] = peer
        for p, d in re.findall(r"pid=(\d+),fd=(\d+)", line):
            by_inode.setdefault(ino, []).append((int(p), int(d)))
    res = {}
    for ino, holders in by_inode.items():
        for p, d in holders:
            if p != pid:
                continue
            for q, _ in by_inode.get(peer_of.get(ino, -1), []):
                if q != pid:
                    res[d] = q
    return res


def hung_up(s, within=5.0):
    """True once the other end of s has closed."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        r, _, x = select.select([s], [], [s], 0.1)
        if r or x:
            try:
                if s.recv(70000, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b"":
                    return True
                # the peer's own messages to the worker: take them, look again
                s.recv(70000, socket.MSG_DONTWAIT)
            except BlockingIOError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                return True
    return False


@pytest.fixture(scope="module")
def t(build_dir):
    d = Lockerd(build_dir).start()
    d.signup("mallory")
    d.signup("victim")
    d.put("mallory", "index.html", "mallory\n", mode=0o644)
    d.put("victim", "index.html", "VICTIM\n", mode=0o644)
    yield d
    d.cleanup()


def victim_ok(t):
    try:
        return get(t.port, "/", "victim.test.example")[:3:2] == (200, b"VICTIM\n")
    except OSError:
        return False


def mallory_worker(t):
    """mallory's worker, started if need be, with a channel to a front (a
    path never asked for: front has no descriptor of it cached)."""
    uid = t.info("mallory")["uid"]

    def one():
        st = get(t.port, f"/new{time.monotonic_ns()}", "mallory.test.example")[0]
        w = [p for p, (role, u) in t.children().items() if role == "worker" and u == uid]
        return st == 404 and w and w[0]
    w = wait_for(one, within=10)
    assert w, "mallory's worker did not start"
    return w


def gone(pid, within=5.0):
    return wait_for(lambda: not os.path.exists(f"/proc/{pid}"), within=within)


def breaches(t, where):
    return [l for l in t.log().splitlines() if f"{where}: malformed message from" in l]


# ------------------------------------------------------------------- CLI

CLI_SENDER = r"""
import json, socket, struct, sys
path, types = sys.argv[1], json.loads(sys.argv[2])
out = {}
for t in types:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.settimeout(5)
    payload = b"\0" * 16
    s.send(struct.pack("=HHI", t, 0, len(payload)) + payload)
    code = None
    try:
        while True:
            data = s.recv(70000)
            if not data:
                break
            if struct.unpack("=HHI", data[:8])[0] == %d:
                code = struct.unpack("=i", data[8:12])[0]
                break
    except (ConnectionResetError, socket.timeout):
        pass
    out[t] = code
    s.close()
print(json.dumps(out))
"""


def test_a_cli_sends_what_only_lockerd_may(t):
    """Any user, on the control socket: each answered with an error, closed."""
    import json
    types = refused_types("MR_CLI", "MR_MASTER")
    r = subprocess.run(["/usr/bin/python3", "-c", CLI_SENDER % MSG["MSG_CTL_DONE"],
                        os.path.join(t.dir, "state", "control.sock"), json.dumps(types)],
                       capture_output=True, text=True, user="nobody", timeout=120)
    assert r.returncode == 0, r.stderr
    codes = json.loads(r.stdout)
    assert len(codes) == len(types)
    for ty, code in codes.items():
        assert code in (None, 2), (ty, code)
    assert t.proc.poll() is None
    lines = breaches(t, "control")
    assert lines and "from uid 65534" in lines[0] and "closing the connection" in lines[0]
    assert "may not come from it" in lines[0] or "is no message" in lines[0]
    assert t.locker("list").returncode == 0
    assert victim_ok(t)


# ---------------------------------------------------------------- worker

def test_a_worker_sends_the_master_what_it_may_not(t):
    """Each kills the worker; the locker is served by a new one at once."""
    logged = len(breaches(t, "master"))
    for ty in refused_types("MR_WORKER", "MR_MASTER"):
        w = mallory_worker(t)
        s = steal(w, 3)     # CHILD_CHAN_FD: its channel to the master
        try:
            s.send(frame(ty))
            assert gone(w), f"worker not killed for type {ty}"
        finally:
            s.close()
        assert victim_ok(t)
    assert get(t.port, "/", "mallory.test.example")[0] == 200
    lines = breaches(t, "master")[logged:]
    assert lines and all("from worker mallory" in l and "killing it" in l for l in lines)
    assert t.proc.poll() is None


def test_a_worker_sends_front_what_it_may_not(t):
    """Each drops the channel; the next request takes a new one."""
    fronts = set(t.pids("front"))
    n = 0
    for ty in refused_types("MR_WORKER", "MR_FRONT"):
        w = mallory_worker(t)
        chans = {fd: p for fd, p in peers(w).items() if p in fronts}
        assert chans, "the worker has no channel to a front"
        fd = sorted(chans)[0]
        s = steal(w, fd)
        try:
            s.send(frame(ty))
            assert hung_up(s), f"front kept the channel after type {ty}"
        finally:
            s.close()
        n += 1
        assert wait_for(lambda: get(t.port, "/", "mallory.test.example")[0] == 200)
        assert victim_ok(t)
    assert n > 20
    assert set(t.pids("front")) == fronts, "front itself is not harmed"
    assert any("from worker mallory" in l for l in breaches(t, "front"))


def test_a_worker_sends_logd_what_it_may_not(t):
    logd = t.pids("logd")[0]
    for ty in refused_types("MR_WORKER", "MR_LOGD"):
        w = mallory_worker(t)
        chans = [fd for fd, p in peers(w).items() if p == logd]
        assert chans, "the worker has no channel to logd"
        s = steal(w, chans[0])
        try:
            s.send(frame(ty))
            assert hung_up(s), f"logd kept the channel after type {ty}"
        finally:
            s.close()
        # a new worker gets a new channel to logd
        os.kill(w, 9)
        gone(w)
    assert t.pids("logd") == [logd]
    assert any("from worker mallory" in l for l in breaches(t, "logd"))
    assert victim_ok(t)


# ------------------------------------------------------------ front, logd

SAMPLE = ("MSG_CONFIG", "MSG_IDLE", "MSG_RESPONSE", "MSG_CTL_REQUEST", "MSG_LOG_DROPPED")


def all_up(t):
    return (len(t.pids("front")) == 2 and len(t.pids("logd")) == 1 and
            len(t.pids("keyd")) == 1)


def test_front_and_logd_send_the_master_what_they_may_not(t):
    """A sample (each kill slows the next restart): killed, restarted."""
    for role, mr in (("front", "MR_FRONT"), ("logd", "MR_LOGD"), ("keyd", "MR_KEYD")):
        bad = [MSG[n] for n in SAMPLE if MSG[n] in refused_types(mr, "MR_MASTER")]
        for ty in bad + [60000]:
            pid = wait_for(lambda: t.pids(role) and t.pids(role)[0], within=15)
            assert pid, f"no {role} running"
            s = steal(pid, 3)
            try:
                s.send(frame(ty))
                assert gone(pid), f"{role} not killed for type {ty}"
            finally:
                s.close()
            assert wait_for(lambda: victim_ok(t), within=15)
        assert any(f"from {role}" in l and "killing it" in l for l in breaches(t, "master"))
    assert wait_for(lambda: all_up(t), within=15)
    assert t.proc.poll() is None


def test_a_front_sends_logd_what_it_may_not(t):
    logd = t.pids("logd")[0]
    front = t.pids("front")[0]
    chans = [fd for fd, p in peers(front).items() if p == logd]
    assert chans, "front has no channel to logd"
    s = steal(front, chans[0])
    try:
        s.send(frame(MSG["MSG_CONFIG"]))
        assert hung_up(s), "logd kept the channel"
    finally:
        s.close()
    assert any("from front" in l and "dropping the channel" in l for l in breaches(t, "logd"))
    assert t.pids("logd") == [logd]
    assert wait_for(lambda: victim_ok(t))


def test_a_front_sends_keyd_what_it_may_not(t):
    """keyd drops that channel, and only that one: the other front's still
    gets answers (an operation on a key it does not hold: KEY_ENOKEY).  A
    sample: the front that lost its channel is killed for the next round."""
    keyd = t.pids("keyd")[0]
    sample = ("MSG_CONFIG", "MSG_KEY_RESULT", "MSG_KEY_LOAD", "MSG_KEY_CHAN", "MSG_REQUEST")
    bad = [MSG[n] for n in sample if MSG[n] in refused_types("MR_FRONT", "MR_KEYD")]
    assert len(bad) == len(sample)
    for ty in bad + [60000]:
        fronts = t.pids("front")
        chans = [(f, fd) for f in fronts for fd, p in peers(f).items() if p == keyd]
        assert len(chans) == 2, "each front has a channel to keyd"
        s = steal(*chans[0])
        try:
            s.send(frame(ty))
            assert hung_up(s), f"keyd kept the channel after type {ty}"
        finally:
            s.close()
        s = steal(*chans[1])
        try:
            op = struct.pack("=IIHH", 0xfffffff0, 77, 1, 0) + b"\1" * 32
            s.send(frame(MSG["MSG_KEY_OP"], op))
            s.settimeout(5)
            ans = s.recv(4096)
            assert struct.unpack("=HHIIi", ans[:16]) == (MSG["MSG_KEY_RESULT"], 0, 8, 77, 1)
        finally:
            s.close()
        # The front whose channel went is restarted, so the next round has two.
        os.kill(chans[0][0], signal.SIGKILL)
        assert wait_for(lambda: all_up(t) and chans[0][0] not in t.pids("front"), within=15)
        assert wait_for(lambda: len([1 for f in t.pids("front")
                                     for p in peers(f).values() if p == keyd]) == 2)
    assert any("keyd: malformed message from front" in l and "dropping the channel" in l
               for l in t.log().splitlines())
    assert t.pids("keyd") == [keyd]


def test_front_sends_a_worker_what_it_may_not(t):
    """The worker drops that channel; front takes a new one next time."""
    w = mallory_worker(t)
    for ty in refused_types("MR_FRONT", "MR_WORKER"):
        w = mallory_worker(t)
        chans = [(fd, f) for f in t.pids("front") for fd, p in peers(f).items() if p == w]
        assert chans, "no front has a channel to the worker"
        fd, f = chans[0]
        s = steal(f, fd)
        try:
            s.send(frame(ty))
            assert hung_up(s), f"the worker kept the channel after type {ty}"
        finally:
            s.close()
        assert wait_for(lambda: get(t.port, "/", "mallory.test.example")[0] == 200)
    assert any("worker: malformed message from front" in l for l in t.log().splitlines())
    assert os.path.exists(f"/proc/{w}"), "the worker itself goes on"


def test_the_master_breaking_the_rules_ends_the_receiver(t):
    """A child takes from the master only what the master may send it: a
    breach is the master's bug, and the child exits, to be restarted."""
    master = t.proc.pid
    for role, mr in (("front", "MR_FRONT"), ("logd", "MR_LOGD"), ("keyd", "MR_KEYD")):
        pid = wait_for(lambda: t.pids(role) and t.pids(role)[0], within=15)
        chans = [fd for fd, p in peers(master).items() if p == pid]
        assert chans, f"the master has no channel to {role}"
        bad = refused_types("MR_MASTER", mr)
        s = steal(master, chans[0])
        try:
            s.send(frame(bad[0]))
        finally:
            s.close()
        assert gone(pid), f"{role} did not exit"
        assert any(f"{role}: malformed message from master" in l and "exiting" in l
                   for l in t.log().splitlines())
    assert wait_for(lambda: all_up(t), within=15)
    assert wait_for(lambda: victim_ok(t), within=15)
