"""A fleet of lockerd nodes on one machine (issue 18), for test_fleet.py
and bench/fleet.py.

Each node is a machine of its own as far as lockerd can tell:
  - its own network namespace (`ip netns`), with a veth pair to a bridge in
    the root namespace: the bridge is 10.N.0.1/24, node A 10.N.0.2, B .3,
    C .4; N and every name are unique per run, so that two runs on this
    machine never meet;
  - its own mount namespace (`ip netns exec` makes one, with a fresh /sys)
    and cgroup namespace rooted at a cgroup of its own (lkfTAG-X under the
    test's own cgroup in each hierarchy), with the cgroup hierarchies
    mounted again inside it: the three masters each make
    lockerd/NAME.UID for the same locker, and without this they would
    share one cgroup (one node's cleanup would kill the others' workers);
  - its own state and logs directories, its own listeners on its address;
  - the SAME lockers root: the stand-in for the shared storage (NFS) that a
    real fleet mounts; this kernel has no NFS (see the README).
HAProxy runs in the root namespace on 127.0.0.1:PORT in TCP mode (with
send-proxy-v2 and HTTP health checks once lockerd has proxy listeners and
/.lockerd/health), and `retries` + `option redispatch` so that a refused
connection goes to another node.

Everything is started by the fleet and stopped by its pid; what is left of
a node after its master died (a kill -9) is killed through its own cgroup
(cgroup.kill of the node's v2 cgroup: only processes the node started);
namespaces, links and cgroups are removed by close() even when a test
failed (the fixture's finalizer).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import conftest
from conftest import TEST_BASE, Lockerd, free_port, parse_responses

ROOT = conftest.ROOT
NODES = ("a", "b", "c")
CG = "/sys/fs/cgroup"
V1 = ("memory", "pids", "cpu", "cpuacct", "blkio")   # what src/cgroup.c uses
NODE_PORT = 80           # every node its own address: the same port on each
DIRECT_PORT = 81         # a plain listener beside it: a client straight to a node
_count = [0]


def _src(path):
    try:
        with open(os.path.join(ROOT, path)) as f:
            return f.read()
    except OSError:
        return ""


def features():
    """What the tree this build comes from has of issue 18's parts: the
    harness and the tests follow what has landed on main."""
    conf = _src("src/config.c")
    return {
        "node": re.search(r'\{\s*"node",', conf) is not None,
        "proxy": '"proxy-from"' in conf,
        "health": os.path.exists(os.path.join(ROOT, "src", "drain.c")),
        "drain-time": '"drain-time"' in conf,
        # The key, and the master's side that starts lockerd-dirsync.
        "directory": re.search(r'\{\s*"directory",', conf) is not None and
        os.path.exists(os.path.join(ROOT, "src", "dir_master.c")),
        "hesiod": '"hesiod-server"' in conf,
        "node-drain": os.path.exists(os.path.join(ROOT, "src", "ctl_node.c")),
    }


def fleet_directory(build):
    """Whether this build has the fleet directory (lockerd-dirsync and the
    `directory` key) and this machine PostgreSQL."""
    if not features()["directory"] or not os.path.exists(os.path.join(build, "lockerd-dirsync")):
        return False
    import pg as PG
    return PG.available()


def sh(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.returncode}: {r.stderr.strip()}")
    return r


def get_at(addr, port, path, host, extra=b"", timeout=10.0):
    """One HTTP/1.1 request on a connection of its own to addr:port:
    (status, headers, body)."""
    req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() + \
        b"\r\nConnection: close\r\n" + extra + b"\r\n"
    s = socket.create_connection((addr, port), timeout=timeout)
    try:
        s.sendall(req)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    r = parse_responses(b"".join(chunks))
    assert r, f"no response from {addr}:{port}"
    return r[0]


# ------------------------------------------------------------ the network

def _subnet_free(n):
    out = sh("ip", "-4", "-o", "addr").stdout + sh("ip", "-4", "route").stdout
    return f"10.{n}.0." not in out


class Net:
    """A bridge in the root namespace and one namespace per node."""

    def __init__(self, tag, names):
        self.tag = tag
        self.bridge = f"lkf{tag}br"
        self.ns = {n: f"lkf{tag}-{n}" for n in names}
        self.made_ns, self.made_links = [], []
        seed = os.getpid() * 7 + _count[0] * 13
        for i in range(200):
            n = 16 + (seed + i) % 230
            if _subnet_free(n):
                self.n = n
                break
        else:
            raise RuntimeError("no free 10.N.0.0/24 for the fleet's bridge")
        self.gateway = f"10.{self.n}.0.1"

    def addr(self, i):
        return f"10.{self.n}.0.{i}"

    def up(self):
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        self.made_links.append(self.bridge)
        sh("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        for i, (n, ns) in enumerate(self.ns.items()):
            host, peer = f"lkf{self.tag}{n}", f"lkf{self.tag}{n}p"
            sh("ip", "netns", "add", ns)
            self.made_ns.append(ns)
            sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
            self.made_links.append(host)
            sh("ip", "link", "set", host, "master", self.bridge, "up")
            sh("ip", "link", "set", peer, "netns", ns)
            sh("ip", "-n", ns, "link", "set", peer, "name", "eth0")
            sh("ip", "-n", ns, "addr", "add", f"{self.addr(2 + i)}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "route", "add", "default", "via", self.gateway)
        return self

    def pids(self, ns):
        r = sh("ip", "netns", "pids", ns, check=False)
        return [int(p) for p in r.stdout.split()]

    def down(self):
        for ns in self.made_ns:
            # Only what runs in our own namespace: processes the fleet started.
            for pid in self.pids(ns):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh("ip", "netns", "del", ns, check=False)
        for link in self.made_links:
            if os.path.exists(f"/sys/class/net/{link}"):
                sh("ip", "link", "del", link, check=False)
        self.made_ns, self.made_links = [], []


# ------------------------------------------------------------ cgroups

def _my_cgroups():
    """{hierarchy dir under /sys/fs/cgroup: this process's path in it}."""
    out = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrls == "":
                out["unified"] = path
            for c in ctrls.split(","):
                if c in V1:
                    out[c] = path
    return {h: p for h, p in out.items() if os.path.isdir(os.path.join(CG, h) + p)}


class NodeCgroups:
    """The cgroup a node's processes start in, in every hierarchy lockerd
    uses: the root of the node's cgroup namespace."""

    def __init__(self, leaf):
        self.dirs = {h: os.path.join(CG, h) + p.rstrip("/") + "/" + leaf
                     for h, p in _my_cgroups().items()}

    def make(self):
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        return self

    def procs_files(self):
        return [os.path.join(d, "cgroup.procs") for d in self.dirs.values()]

    def kill_all(self):
        """Every process left in the node (v2 cgroup.kill: what the node
        started, whoever its parent is now)."""
        d = self.dirs.get("unified")
        if d is None or not os.path.isdir(d):
            return
        try:
            with open(os.path.join(d, "cgroup.kill"), "w") as f:
                f.write("1")
        except OSError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._populated(d):
            time.sleep(0.05)

    @staticmethod
    def _populated(d):
        try:
            with open(os.path.join(d, "cgroup.events")) as f:
                return "populated 1" in f.read()
        except OSError:
            return False

    def remove(self):
        for d in self.dirs.values():
            for sub, _, _ in sorted(os.walk(d), key=lambda w: -len(w[0])):
                for _ in range(50):
                    try:
                        os.rmdir(sub)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.05)


# The node's view of cgroups: a tmpfs over the fresh sysfs's fs/cgroup
# (ip netns exec mounted a new /sys), and each hierarchy mounted again
# inside the node's cgroup namespace, so that its root is the node's own.
_INNER = r'''
set -e
mount -t tmpfs -o mode=755 lkfleet /sys/fs/cgroup
for h in {v1}; do mkdir /sys/fs/cgroup/$h; mount -t cgroup -o $h cgroup /sys/fs/cgroup/$h; done
mkdir /sys/fs/cgroup/unified; mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
exec "$@"
'''

# Join the node's cgroups (seen from the root namespace), then enter its
# network namespace, a new cgroup namespace, and the inner script above.
# Every step execs: the pid Popen gives is the master's.
_OUTER = r'''
for f in {procs}; do echo $$ > $f; done
exec ip netns exec {ns} unshare -C sh -c '{inner}' inner "$@"
'''


# ------------------------------------------------------------ the nodes

class Node(Lockerd):
    """One lockerd of the fleet: conftest's Lockerd (its CLI, its children),
    started in its namespace, listening on its own address."""

    def __init__(self, fleet, name, index):
        os.makedirs(TEST_BASE, exist_ok=True)
        self.build = fleet.build
        self.name = name
        self.fleet = fleet
        self.dir = os.path.join(fleet.dir, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.addr = fleet.net.addr(2 + index)
        # port: HAProxy's (PROXY v2 once lockerd has proxy listeners);
        # direct_port: plain HTTP, for what goes to this node by name.
        self.port = self.plain_port = NODE_PORT
        self.direct_port = DIRECT_PORT
        self.domain = fleet.domain
        self.transport = "h1"
        self.proto, self.scheme = "HTTP/1.1", "http"
        self.conf = os.path.join(self.dir, "lockerd.conf")
        self.proc = None
        self.stderr_path = os.path.join(self.dir, "lockerd.stderr")
        self.wrap = []
        self.cg = NodeCgroups(f"lkf{fleet.net.tag}-{name}")
        self.write_conf(fleet.node_conf(self))

    @property
    def lockers(self):
        return self.fleet.lockers

    def start(self, timeout=30):
        self.cg.make()
        inner = _INNER.format(v1=" ".join(h for h in V1 if h in self.cg.dirs))
        outer = _OUTER.format(procs=" ".join(self.cg.procs_files()),
                              ns=self.fleet.net.ns[self.name], inner=inner)
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(["sh", "-c", outer, "outer",
                                      os.path.join(self.build, "lockerd"), "-c", self.conf],
                                     stdout=self.stderr, stderr=self.stderr)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node {self.name}: lockerd exited: " + self.log())
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"node {self.name}: lockerd did not start: " + self.log())

    def answers(self):
        """Its listener and its control socket both answer."""
        try:
            socket.create_connection((self.addr, self.port), timeout=0.5).close()
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as c:
                c.settimeout(0.5)
                c.connect(os.path.join(self.dir, "state", "control.sock"))
            return True
        except OSError:
            return False

    def listening(self):
        """Its front's listener takes connections."""
        try:
            socket.create_connection((self.addr, self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def get(self, path, host, extra=b""):
        """Straight to this node (its plain listener)."""
        return get_at(self.addr, self.direct_port, path, host, extra)

    def kill9(self):
        """kill -9 of the master alone (its children find out by
        themselves, as on a real machine)."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.stderr.close()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        rc = super().stop(sig, timeout)
        self.cg.kill_all()
        return rc

    def access_lines(self):
        try:
            with open(os.path.join(self.logs, "access.log"), errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def cleanup(self):
        if self.proc is not None:
            self.stop()
        self.cg.kill_all()
        self.cg.remove()
        log = self.log()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert bad not in log, log


# ------------------------------------------------------------ HAProxy

class HAProxy:
    """Debian's haproxy in the root namespace, TCP mode, in front of the
    nodes; stopped by its pid."""

    def __init__(self, fleet):
        self.fleet = fleet
        self.dir = os.path.join(fleet.dir, "haproxy")
        os.makedirs(self.dir)
        self.port = free_port()
        self.sock = os.path.join(self.dir, "admin.sock")
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        self.proc = None

    def config(self, nodes):
        f = self.fleet.features
        if f["proxy"]:
            per = " send-proxy-v2"
        else:
            per = ""
        if f["health"]:
            check = ("    option httpchk\n"
                     "    http-check send meth GET uri /.lockerd/health ver HTTP/1.1 "
                     "hdr Host health.invalid\n"
                     "    http-check expect status 200\n")
            srv = " check" + (" check-send-proxy" if f["proxy"] else "")
        else:
            check, srv = "", " check"
        servers = "".join(f"    server {n.name} {n.addr}:{n.port}{per}{srv}\n" for n in nodes)
        return (
            "global\n"
            "    maxconn 4000\n"
            f"    stats socket {self.sock} mode 600 level admin\n"
            "defaults\n"
            "    mode tcp\n"
            "    timeout connect 3s\n"
            "    timeout client 60s\n"
            "    timeout server 60s\n"
            # A refused connection is tried again, on another node each
            # time (redispatch 1): what HAProxy can retry in TCP mode.
            "    retries 3\n"
            "    option redispatch 1\n"
            "frontend lockerd\n"
            f"    bind 127.0.0.1:{self.port}\n"
            "    default_backend nodes\n"
            "backend nodes\n"
            "    balance roundrobin\n"
            "    default-server inter 300ms fastinter 100ms downinter 300ms fall 2 rise 2\n"
            + check + servers)

    def start(self, nodes):
        with open(self.cfg, "w") as f:
            f.write(self.config(nodes))
        r = sh("haproxy", "-c", "-q", "-f", self.cfg, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        self.log = open(os.path.join(self.dir, "haproxy.log"), "ab")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.cfg],
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            assert self.proc.poll() is None, "haproxy exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                if os.path.exists(self.sock):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("haproxy did not start")

    def admin(self, cmd):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.sock)
            s.sendall(cmd.encode() + b"\n")
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        return out.decode()

    def states(self):
        """{server name: status} as HAProxy's checks see it (UP, DOWN, ...)."""
        lines = self.admin("show stat").splitlines()
        head = lines[0].lstrip("# ").split(",")
        out = {}
        for ln in lines[1:]:
            row = dict(zip(head, ln.split(",")))
            if row.get("pxname") == "nodes" and row.get("svname") not in ("BACKEND", None):
                out[row["svname"]] = row["status"]
        return out

    def wait_state(self, name, want, within=30.0):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.states().get(name, "") == want:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        conftest.stop_server(self.proc, timeout=20)
        self.proc = None


# ------------------------------------------------------------ the fleet

class Fleet:
    """Three nodes behind HAProxy sharing one lockers root.  close() undoes
    everything, also after a failed start."""

    def __init__(self, build, names=NODES, extra="", domain="fleet.example", pg=None):
        """pg: the fleet directory on a PostgreSQL primary + standby
        (`directory postgres`); None: whenever this build has it."""
        _count[0] += 1
        if pg is None:
            pg = fleet_directory(build)
        self.pg = pg
        self.pgs = []
        self.knot = None
        self.hesiod_zone = "athena.test"
        self.hesiod_filsys = "NFS /export/lockers/%s files.athena.test w /mit/%s"
        self.build = build
        self.features = features()
        self.domain = domain
        self.extra = extra
        os.makedirs(TEST_BASE, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="fleet", dir=TEST_BASE)
        os.chmod(self.dir, 0o755)
        self.lockers = os.path.join(self.dir, "lockers")
        tag = f"{os.getpid() % 10000}{_count[0] % 10}"
        self.net = Net(tag, names)
        low = 600000 + (os.getpid() % 100) * 10000 + _count[0] * 100
        self.uid_range = (low, low + 99)
        self.nodes = {}
        self.proxy = None
        self.names = names
        self.conninfo = os.path.join(self.dir, "directory.conninfo")

    def pg_up(self):
        """A PostgreSQL primary and its streaming standby, both on the
        bridge's address (ports of their own): the nodes' conninfo names
        both, and libpq finds the one that takes writes."""
        import pg as PG
        gw = self.net.gateway
        self.primary = PG.primary(os.path.join(self.dir, "pg1"), listen=gw)
        self.pgs.append(self.primary)
        self.standby = PG.standby(self.primary, os.path.join(self.dir, "pg2"), listen=gw)
        self.pgs.append(self.standby)
        assert PG.wait_streaming(self.primary), self.standby.log()
        PG.write_conninfo(self.conninfo, self.primary, self.standby)

    def knot_up(self):
        """knotd on the bridge's address, port 53 (hesinfo's resolver has
        no port): the zone the hesiod lease holder updates."""
        from knot import Knot
        self.knot = Knot(os.path.join(self.dir, "knot"), zone=self.hesiod_zone,
                         host=self.net.gateway, port=53, transfer=True)
        self.knot.start()

    def hesinfo(self, name, kind):
        """hesinfo NAME KIND's lines, asking the fleet's knotd (a resolv.conf
        bound over the machine's in a mount namespace of its own)."""
        d = os.path.join(self.dir, "hesconf")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "resolv.conf"), "w") as f:
            f.write(f"nameserver {self.net.gateway}\noptions timeout:2 attempts:2\n")
        with open(os.path.join(d, "hesiod.conf"), "w") as f:
            f.write(f"lhs=.ns\nrhs=.{self.hesiod_zone}\nclasses=IN\n")
        script = (f"mount --bind {d}/resolv.conf /etc/resolv.conf && "
                  f"HESIOD_CONFIG={d}/hesiod.conf exec hesinfo {name} {kind}")
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                           capture_output=True, text=True, timeout=30)
        return r.stdout.splitlines()

    def node_conf(self, node):
        f = self.features
        listen = f"listen {node.addr}:{node.port}"
        text = (f"{listen}{' proxy' if f['proxy'] else ''}\n"
                f"listen {node.addr}:{node.direct_port}\n"
                + (f"proxy-from {self.net.gateway}/32\n" if f["proxy"] else "")
                + (f"node {node.name}\n" if f["node"] else "")
                + ("drain-time 2s\n" if f["drain-time"] else "")
                + (f"directory postgres {self.conninfo}\n" if self.pg else "")
                + (f"hesiod-server {self.knot.address}\nhesiod-zone {self.hesiod_zone}\n"
                   f"hesiod-key {self.knot.key_name} hmac-sha256 {self.knot.secret_file}\n"
                   f"hesiod-filsys {self.hesiod_filsys}\nhesiod-retry 1s\n"
                   if self.knot else "")
                + f"domain {self.domain}\n"
                f"hostname scripts.{self.domain}\n"
                f"lockers {self.lockers}\n"
                f"state {node.dir}/state\n"
                f"logs {node.dir}/logs\n"
                f"tls-dir {node.dir}/state/tls\n"
                f"uid-range {self.uid_range[0]}-{self.uid_range[1]}\n"
                "front-processes 1\n"
                "shutdown-timeout 5\n" + self.extra)
        return text

    def start(self):
        try:
            self.net.up()
            os.makedirs(self.lockers)
            os.chmod(self.lockers, 0o755)
            if self.pg:
                self.pg_up()
            if self.features["hesiod"]:
                self.knot_up()
            for i, n in enumerate(self.names):
                self.nodes[n] = Node(self, n, i)
            for n in self.nodes.values():
                n.start()
            self.proxy = HAProxy(self).start(list(self.nodes.values()))
            for n in self.nodes:
                assert self.proxy.wait_state(n, "UP"), self.proxy.states()
        except BaseException:
            self.close()
            raise
        return self

    def __getitem__(self, name):
        return self.nodes[name]

    @property
    def port(self):
        """HAProxy's: where clients go."""
        return self.proxy.port

    def get(self, path, host, extra=b""):
        """Through HAProxy."""
        return get_at("127.0.0.1", self.port, path, host, extra)

    def signup(self, name):
        """A locker every node serves.  Until the fleet directory exists
        each node has its own SQLite: the same signup on each, in the same
        order, gives the same uid; the shared home is kept aside meanwhile
        (a signup makes its home, and the first node made it)."""
        nodes = list(self.nodes.values())
        first = nodes[0].signup(name)
        if self.pg:
            # The fleet directory: every node learns it from the feed.
            for n in nodes[1:]:
                deadline = time.monotonic() + 30
                while n.locker("info", name, check=False).returncode != 0:
                    assert time.monotonic() < deadline, f"{name} not on node {n.name}"
                    time.sleep(0.05)
            return first
        home = first["home"]
        aside = home + ".fleet-aside"
        os.rename(home, aside)
        try:
            for n in nodes[1:]:
                info = n.signup(name)
                assert info["uid"] == first["uid"], (info, first)
                shutil.rmtree(home)
        finally:
            if os.path.exists(home):
                shutil.rmtree(home)
            os.rename(aside, home)
        return first

    def served_by(self):
        """{node: access-log lines of requests, HAProxy's health checks left
        out}."""
        return {n: sum(1 for ln in node.access_lines() if "/.lockerd/health" not in ln)
                for n, node in self.nodes.items()}

    def close(self):
        errors = []
        if self.proxy is not None:
            self.proxy.stop()
        for n in self.nodes.values():
            try:
                n.cleanup()
            except AssertionError as e:
                errors.append(e)
        for p in self.pgs:
            p.cleanup()
        if self.knot is not None:
            self.knot.stop()
        self.net.down()
        for n in self.nodes.values():
            n.cg.remove()
        shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise errors[0]


def states_json(node):
    return json.loads(node.locker("status", "--json").stdout)


def raw_from(ns, addr, port, data, timeout=5.0):
    """Bytes sent to addr:port from inside namespace ns (a client on another
    machine of the fleet's network); what came back before the close."""
    code = ("import socket,sys\n"
            f"s=socket.create_connection(({addr!r},{port}),timeout={timeout})\n"
            "s.sendall(sys.stdin.buffer.read())\n"
            "out=b''\n"
            "try:\n"
            "    while True:\n"
            "        b=s.recv(65536)\n"
            "        if not b: break\n"
            "        out+=b\n"
            "except (socket.timeout, ConnectionResetError): pass\n"
            "sys.stdout.buffer.write(out)\n")
    r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code],
                       input=data, capture_output=True, timeout=timeout + 30)
    assert r.returncode == 0, r.stderr
    return r.stdout
