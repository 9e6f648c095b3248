"""keyd, the key process, from the outside: the private keys are in its
memory and in no other process's, HTTPS is served again within 2 s of a
kill -9, its sandbox as the kernel shows it, and a hostile front on its
channel.

keyd holds every TLS private key and answers front's private-key
operations (src/keyd.c, src/keyop.c; front's side is src/keyclient.c).
Here each claim is checked where an attacker would meet it: /proc for the
sandbox (uid, root, seccomp, dumpable, core size, descriptors), the real
channel of a front (taken with pidfd_getfd, as test_trust.py does) for
what a subverted front can send.
"""
import ctypes
import json
import os
import pwd
import re
import socket
import ssl
import struct
import subprocess
import time

import pytest

from conftest import TEST_BASE, Lockerd, free_port, mappings, memory_has, wait_for
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


def as_user_can_read_mem(pw, pid):
    """Whether a process of pw's uid can open pid's memory or attach to it."""
    child = os.fork()
    if child == 0:
        code = 0
        try:
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            try:
                with open(f"/proc/{pid}/mem", "rb") as f:
                    f.read(1)
                code |= 1
            except OSError:
                pass
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.ptrace(16, pid, None, None) == 0:     # PTRACE_ATTACH
                code |= 2
        finally:
            os._exit(code)
    _, st = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(st) != 0


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
    # (Polled: a front's end may still be in flight to it, in a message no
    # process holds yet, when keyd has its own: seen on a loaded CI machine.)
    def settled():
        fds = {int(n) for n in os.listdir(f"/proc/{pid}/fd")} - {0, 1, 2}
        ends = peers(pid)
        ok = fds == set(ends) and \
            sorted(ends.values()) == sorted([k.proc.pid] + k.pids("front"))
        return ok, fds, ends
    assert wait_for(lambda: settled()[0]), settled()[1:]
    fds = settled()[1]
    for fd in fds:
        assert os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    # Neither a process of key-user's own (the ACME client is one) nor one
    # of front's user may read its memory or trace it.
    for user in ("lockerd-key", "lockerd"):
        assert not as_user_can_read_mem(pwd.getpwnam(user), pid), user
    # (The check works: a dumpable process of key-user's is open to it,
    # where Yama lets a process trace more than its own children.)
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            yama = int(f.read())
    except OSError:
        yama = 0
    sleeper = yama == 0 and subprocess.Popen(["setpriv", f"--reuid={key.pw_uid}", f"--regid={key.pw_gid}",
                                "--clear-groups", "sleep", "30"])
    if sleeper:
        try:
            time.sleep(0.2)
            assert as_user_can_read_mem(key, sleeper.pid)
        finally:
            sleeper.kill()
            sleeper.wait()
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


# ------------------------------------------------------------ with HTTPS

def key_numbers(path):
    """{name: int} of a PEM private key's secret numbers (openssl's text)."""
    text = subprocess.run(["openssl", "pkey", "-in", path, "-text", "-noout"],
                          capture_output=True, text=True, check=True).stdout
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\w+):\s*$", line)
        if m:
            name = m.group(1)
            out[name] = ""
        elif name and line.startswith(" "):
            out[name] += line.strip().replace(":", "")
        else:
            name = None
    return {k: int(v, 16) for k, v in out.items() if v}


def needles(path):
    """The secret numbers as bytes, each both ways: big-endian as in the
    file and on the wire, little-endian as a BIGNUM holds it in memory (no
    leading zeros: they are in both or in neither)."""
    nums = key_numbers(path)
    secret = [nums["priv"]] if "priv" in nums else \
        [nums["privateExponent"], nums["prime1"], nums["prime2"]]
    out = []
    for n in secret:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        assert len(b) >= 30
        out += [b, b[::-1]]
    return out


@pytest.fixture(scope="module")
def h(build_dir):
    d = os.path.join(TEST_BASE, f"keyd-pki{os.getpid()}")
    os.makedirs(d, exist_ok=True)
    keys = {}
    for kind, newkey in (("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                         ("rsa", ["-newkey", "rsa:2048"])):
        crt, key = os.path.join(d, kind + ".crt"), os.path.join(d, kind + ".key")
        subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", key,
                        "-out", crt, "-days", "2", "-subj", "/CN=test.example",
                        "-addext", "subjectAltName=DNS:test.example"],
                       capture_output=True, check=True)
        keys[kind] = (crt, key)
    port = free_port()
    ld = Lockerd(build_dir, extra=f"listen 127.0.0.1:{port} tls\n" + "".join(
        f"certificate test.example {c} {k}\n" for c, k in keys.values()))
    ld.tls_port, ld.keys = port, keys
    ld.start()
    ld.signup("alice")
    ld.put("alice", "index.html", "over TLS\n", mode=0o644)
    yield ld
    ld.cleanup()
    subprocess.run(["rm", "-rf", d])


def https(h, kind, timeout=2.0):
    """A GET over TLS 1.2 with the cipher of that kind of key (so the server
    must sign with it); the body, verified against that certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(h.keys[kind][0])
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256" if kind == "ec" else
                    "ECDHE-RSA-AES128-GCM-SHA256")
    with socket.create_connection(("127.0.0.1", h.tls_port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname="test.example") as s:
            s.sendall(b"GET /~alice/ HTTP/1.1\r\nHost: test.example\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    return data.split(b"\r\n\r\n", 1)[1]


def https13(h):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with socket.create_connection(("127.0.0.1", h.tls_port), timeout=2) as raw:
        with ctx.wrap_socket(raw, server_hostname="test.example") as s:
            return s.version()


def test_no_private_key_byte_in_any_process_but_keyd(h):
    for _ in range(3):
        assert https(h, "ec") == b"over TLS\n"
        assert https(h, "rsa") == b"over TLS\n"
        assert https13(h) == "TLSv1.3"
    pats = needles(h.keys["ec"][1]) + needles(h.keys["rsa"][1])
    keyd = keyd_pid(h)
    others = [p for p, (role, _) in h.children().items() if p != keyd]
    if any(hi - lo > 1 << 40 for lo, hi, _ in mappings(others[0])):
        pytest.skip("a sanitizer build: its reserved terabytes cannot be read in a test")
    assert len([p for p in others if h.children()[p][0] == "front"]) == 2
    # The search works: keyd holds every number (a BIGNUM: little-endian).
    held = memory_has(keyd, pats)
    assert all(i in held or (i ^ 1) in held for i in range(0, len(pats), 2)), held
    for pid in others:
        assert memory_has(pid, pats) == set(), f"{h.children()[pid][0]} {pid} holds key bytes"
    # And it reads a front's memory: the public halves are there, in the
    # certificates it serves.
    pubs = [key_numbers(h.keys[k][1])[n] for k, n in (("ec", "pub"), ("rsa", "modulus"))]
    pubs = [n.to_bytes((n.bit_length() + 7) // 8, "big") for n in pubs]
    for pid in h.pids("front"):
        assert memory_has(pid, pubs) == {0, 1}


def test_https_again_within_2s_of_kill_9(h):
    assert https(h, "ec") == b"over TLS\n"
    old = keyd_pid(h)
    t0 = time.monotonic()
    os.kill(old, 9)

    def served():
        try:
            return https(h, "ec", timeout=0.5) == b"over TLS\n" and \
                https(h, "rsa", timeout=0.5) == b"over TLS\n"
        except (OSError, ssl.SSLError):
            return False
    assert wait_for(served, within=2.0), "HTTPS not served again within 2 s"
    took = time.monotonic() - t0
    assert keyd_pid(h) != old
    assert re.search(rf"keyd \(pid {old}\) killed by signal 9", h.log())
    print(f"HTTPS served again {took * 1000:.0f} ms after kill -9 of keyd")


def test_a_thousand_certificates(build_dir):
    """A registry of a thousand certificates (the TLS directory's, a vhost
    each) sends keyd a key and each front a chain for every one at once:
    more than a channel's buffer holds.  What does not fit waits and goes
    as they read (src/outq.c): no child is taken for one that stopped
    reading, and the last name is served."""
    n = 1000
    d = Lockerd(build_dir, extra="")
    try:
        port = free_port()
        d.write_conf(open(d.conf).read() + f"listen 127.0.0.1:{port} tls\n")
        tls = os.path.join(d.dir, "state", "tls")
        os.makedirs(tls)
        crt, key = os.path.join(d.dir, "c.crt"), os.path.join(d.dir, "c.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=test.example",
                        "-addext", "subjectAltName=DNS:*.test.example"],
                       capture_output=True, check=True)
        pem = {s: open(p, "rb").read() for s, p in (("crt", crt), ("key", key))}
        for i in range(n):
            for s in ("crt", "key"):
                with open(os.path.join(tls, f"h{i}.test.example.{s}"), "wb") as f:
                    f.write(pem[s])
        d.start()
        # fronts, logd, keyd, spawner (beside them: the spawner's spare, a zygote),
        # each past its start: a front, logd and keyd run as their own users
        # (a snapshot taken while one still ran as root saw its uid change)
        roles = ("front", "logd", "keyd", "spawner")

        def started():
            k = d.children()
            return (sum(r in roles for r, _ in k.values()) == 5 and keyd_pid(d, 0.1)
                    and all(u != 0 for r, u in k.values() if r in ("front", "logd", "keyd"))
                    and k)
        kids = wait_for(started, within=20)
        assert kids
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(crt)

        def served(name):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                    with ctx.wrap_socket(raw, server_hostname=name) as s:
                        s.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\n"
                                  "Connection: close\r\n\r\n".encode())
                        return s.recv(100).startswith(b"HTTP/1.1 ")
            except (OSError, ssl.SSLError):
                return False
        t0 = time.monotonic()
        assert wait_for(lambda: served(f"h{n - 1}.test.example"), within=120)
        print("served after", time.monotonic() - t0)
        assert served("h0.test.example")
        time.sleep(1)
        assert d.children() == kids, "a child was restarted"
        log = d.log()
        assert "send to" not in log and "killed by signal" not in log, log[-2000:]
    finally:
        d.cleanup()
