"""A locker's network: a namespace of its own (`locker-network private`).

Every process of a locker runs in one network namespace of that locker,
whose outbound TCP and UDP pasta (Debian's passt) turns into sockets of its
own on the host.  "The internet" here is a network namespace the test
makes, joined to the host by a veth pair, with a TCP server and a DNS
server in it: no packet leaves the machine.  lockerd runs in a mount
namespace whose /etc/resolv.conf names that DNS server (its lockers' jails
bind the host's /etc).
"""
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import Lockerd, free_port, get, parse_responses, raw

if not os.access("/usr/bin/pasta", os.X_OK):
    pytest.skip("pasta (package passt) is not installed", allow_module_level=True)

TAG = os.getpid() % 200 + 20
NS = f"lkd-inet-{os.getpid()}"
HOST_IF, PEER_IF = f"lkdh{os.getpid()}"[:15], f"lkdp{os.getpid()}"[:15]
HOST_ADDR, OUT_ADDR = f"10.213.{TAG}.1", f"10.213.{TAG}.2"
OUT_NAME = "outside.lockerd-test"

# The servers of "the internet", one python process in its namespace: a TCP
# greeting on 7777 that names the peer, and a DNS server answering one A
# record (NXDOMAIN to anything else).
SERVERS = r'''
import socket, struct, sys, threading
addr, name = sys.argv[1], sys.argv[2]
def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        q, peer = s.recvfrom(4096)
        i, labels = 12, []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode().lower()); i += 1 + q[i]
        end = i + 1
        qtype = struct.unpack(">H", q[end:end + 2])[0]
        ok = ".".join(labels) == name
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
        n = 1 if ok and qtype == 1 else 0
        s.sendto(q[:2] + struct.pack(">HHHHH", 0x8180 | (0 if ok else 3), 1, n, 0, 0)
                 + q[12:end + 4] + (rr if n else b""), peer)
threading.Thread(target=dns, daemon=True).start()
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, 7777)); t.listen(16)
print("ready", flush=True)
while True:
    c, peer = t.accept()
    c.sendall(b"hello from outside\n"); c.close()
'''


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def internet():
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    ip("netns", "add", NS)
    server = None
    try:
        ip("link", "add", HOST_IF, "type", "veth", "peer", "name", PEER_IF, "netns", NS)
        ip("addr", "add", HOST_ADDR + "/30", "dev", HOST_IF)
        ip("link", "set", HOST_IF, "up")
        ip("-n", NS, "addr", "add", OUT_ADDR + "/30", "dev", PEER_IF)
        ip("-n", NS, "link", "set", PEER_IF, "up")
        ip("-n", NS, "link", "set", "lo", "up")
        server = subprocess.Popen(["ip", "netns", "exec", NS, "python3", "-c", SERVERS,
                                   OUT_ADDR, OUT_NAME], stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "ready"
        yield OUT_ADDR
    finally:
        if server is not None:
            server.kill()
            server.wait()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


@pytest.fixture(scope="module")
def n(build_dir, internet):
    # lockerd also listens on a port of a non-loopback address only (the
    # veth's): on the host's loopback that port may be another service's.
    public_port = free_port()
    inst = Lockerd(build_dir, front_processes=1,
                   extra=f"locker-network private\nlisten {HOST_ADDR}:{public_port}\n")
    inst.public_port = public_port
    resolv = os.path.join(inst.dir, "resolv.conf")
    with open(resolv, "w") as f:
        f.write(f"nameserver {internet}\noptions timeout:1 attempts:2\n")
    inst.wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv]
    try:
        inst.start()
        inst.signup("netter")
        inst.signup("other")
        inst.put("other", "index.html", "other's\n", mode=0o644)
        yield inst
    finally:
        inst.cleanup()


def script(inst, locker, name, code, timeout=30):
    """Run python code as the locker's CGI script, over HTTP; its body."""
    inst.put(locker, name, "import sys\nprint('Content-Type: text/plain\\n', flush=True)\n"
             "sys.stderr = sys.stdout\n" + code)
    req = f"GET /{name} HTTP/1.1\r\nHost: {locker}.test.example\r\nConnection: close\r\n\r\n"
    resp = parse_responses(raw(inst.port, req.encode(), timeout=timeout))
    assert resp and resp[0][0] == 200, resp
    return resp[0][2].decode(errors="replace")


# pasta is started without the master waiting for it: the first script of a
# cold locker may run before its default route is there.
CONNECT = r'''
import socket, time
def connect(addr, port, wait=(101, 113)):
    deadline = time.time() + 3
    while True:
        try:
            return socket.create_connection((addr, port), timeout=3)
        except OSError as e:
            if time.time() > deadline or e.errno not in wait:
                raise
            time.sleep(0.02)
def resolve(name):
    # The same for the first look-up: before the route, a resolver's
    # query fails at once ("Temporary failure in name resolution").
    deadline = time.time() + 3
    while True:
        try:
            return socket.gethostbyname(name)
        except socket.gaierror:
            if time.time() > deadline:
                raise
            time.sleep(0.02)
'''


def test_a_locker_connects_out_and_resolves_names(n, internet):
    """A locker's script reaches a server outside the machine (here: in the
    test's namespace, through the host's routing) and resolves names with
    the machine's resolver, as before it had a namespace of its own."""
    out = script(n, "netter", "out.py", CONNECT + f"""
print("resolved", resolve("{OUT_NAME}"))
s = connect("{internet}", 7777)
print("said", s.recv(100).decode().strip())
""")
    assert f"resolved {internet}" in out, out
    assert "said hello from outside" in out, out


def test_the_hosts_loopback_is_lockerds_port_only(n):
    """A service listening on the host's 127.0.0.1 (a database, an admin
    interface) is out of a locker's reach, also on a port lockerd has on
    another address only; lockerd's own port, public anyway, is at
    127.0.0.1 as before."""
    privates = []
    for port in (0, n.public_port):
        p = socket.socket()
        p.bind(("127.0.0.1", port))
        p.listen(4)
        privates.append(p)
    try:
        out = script(n, "netter", "loop.py", CONNECT + f"""
# lockerd's port first: it is there once pasta is (refused until then).
s = connect("127.0.0.1", {n.port}, wait=(101, 111, 113))
s.sendall(b"GET / HTTP/1.1\\r\\nHost: other.test.example\\r\\nConnection: close\\r\\n\\r\\n")
print("lockerd said", s.recv(200).split(b"\\r\\n")[0].decode())
for port in {[p.getsockname()[1] for p in privates]}:
    try:
        connect("127.0.0.1", port)
        print("private service reached", port)
    except OSError as e:
        print("private service refused", port, e)
""")
    finally:
        for p in privates:
            p.close()
    assert "private service reached" not in out and out.count("private service refused") == 2, out
    assert "lockerd said HTTP/1.1 200" in out, out


def ns_of(inst, locker, name):
    return script(inst, locker, name, "import os\nprint(os.readlink('/proc/self/ns/net'))\n"
                  ).strip()


def test_one_namespace_per_locker_shared_by_its_processes(n):
    """A locker's scripts and its `locker run` share one network namespace
    (so `ss` shows the same sockets), not the host's, not another locker's;
    its lo is up from the first process on."""
    web = ns_of(n, "netter", "ns1.py")
    assert web.startswith("net:["), web
    run = n.locker("run", "netter", "--", "readlink", "/proc/self/ns/net").stdout.strip()
    assert run == web
    assert web != os.readlink("/proc/self/ns/net")
    assert ns_of(n, "other", "ns2.py") not in (web, os.readlink("/proc/self/ns/net"))
    out = script(n, "netter", "lo.py", """
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
socket.create_connection(s.getsockname(), timeout=2).close()
print("lo is up")
""")
    assert "lo is up" in out, out


def pastas(master_pid):
    """{pid: uid} of the pasta processes under the master (each is the child
    of a keeper, the master's child)."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            if not exe.startswith(("pasta", "passt")):
                continue
            with open(f"/proc/{pid}/status") as f:
                st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
            with open(f"/proc/{int(st['PPid'])}/status") as f:
                keeper = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except (OSError, KeyError, ValueError):
            continue
        if int(keeper["PPid"]) == master_pid:
            out[int(pid)] = int(st["Uid"].split()[0])
    return out


def test_pasta_runs_as_nobody_and_goes_with_the_locker(build_dir):
    """pasta runs unprivileged (nobody), one per locker with processes, and
    ends with the locker's last process, and with the master, even one
    killed by SIGKILL."""
    inst = Lockerd(build_dir, front_processes=1,
                   extra="locker-network private\nworker-idle-timeout 1s\n")
    try:
        inst.start()
        master = inst.proc.pid
        inst.signup("brief")
        inst.put("brief", "index.html", "x\n", mode=0o644)
        assert get(inst.port, "/", "brief.test.example")[0] == 200
        # Started without waiting for it: root until it has set itself up.
        deadline = time.time() + 5
        while list(pastas(master).values()) != [65534] and time.time() < deadline:
            time.sleep(0.02)
        assert list(pastas(master).values()) == [65534], pastas(master)
        deadline = time.time() + 10
        while pastas(master) and time.time() < deadline:
            time.sleep(0.1)
        assert not pastas(master), "pasta outlived the locker's worker"
        assert get(inst.port, "/", "brief.test.example")[0] == 200
        deadline = time.time() + 5
        while not pastas(master) and time.time() < deadline:
            time.sleep(0.02)
        left = list(pastas(master))
        assert len(left) == 1
        inst.stop(sig=signal.SIGKILL)
        deadline = time.time() + 5
        while any(os.path.exists(f"/proc/{p}") for p in left) and time.time() < deadline:
            time.sleep(0.05)
        assert not any(os.path.exists(f"/proc/{p}") for p in left), "pasta outlived the master"
    finally:
        inst.cleanup()



def test_config_check_says_when_pasta_is_missing(build_dir, tmp_path):
    """`lockerd -t` refuses `locker-network private` without pasta; the
    default is host, with or without it.  pasta is hidden here in a mount
    namespace of the check's own."""
    lockerd = os.path.join(build_dir, "lockerd")
    conf = tmp_path / "l.conf"

    def check(text, hide):
        conf.write_text(text)
        cmd = [lockerd, "-t", "-v", "-c", str(conf)]
        if hide:
            cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                   'mount --bind /dev/null /usr/bin/pasta && exec "$@"', "sh"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10)

    r = check("", False)
    assert r.returncode == 0 and "locker-network host\n" in r.stdout, r.stdout + r.stderr
    r = check("locker-network private\n", False)
    assert r.returncode == 0 and "locker-network private\n" in r.stdout, r.stdout + r.stderr
    r = check("", True)
    assert r.returncode == 0 and "locker-network host\n" in r.stdout, r.stdout + r.stderr
    r = check("locker-network private\n", True)
    assert r.returncode != 0 and "locker-network private needs /usr/bin/pasta" in r.stderr, \
        r.stderr
    r = check("locker-network maybe\n", False)
    assert r.returncode != 0 and ":1: locker-network: expected private or host" in r.stderr
