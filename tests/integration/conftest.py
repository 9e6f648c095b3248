"""Integration tests: the real lockerd, started as root, driven by real clients.

Every test directory lives under /var/lib/lockerd-test (lockerd refuses
directories under /tmp: each locker gets its own /tmp).  Every lockerd a test
starts is stopped by its pid when the test ends.
"""
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_BASE = "/var/lib/lockerd-test"


def pytest_addoption(parser):
    parser.addoption("--lockerd-build", default="build",
                     help="directory holding the lockerd and locker binaries")


@pytest.fixture(scope="session")
def build_dir(request):
    d = request.config.getoption("--lockerd-build")
    return d if os.path.isabs(d) else os.path.join(ROOT, d)


def sanitized(build):
    """Whether build's lockerd is a sanitizer build (make SAN=1): its heap
    keeps what was freed a while (ASan's quarantine) and every page it
    touches has a shadow, so a resident-memory bound a test sets for a
    plain build means nothing there."""
    try:
        with open(os.path.join(build, "lockerd"), "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def free_port():
    """A port free now, and not one get() would speak HTTP/2 to."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _H2_PORTS:
            return port


_instance = [0]


# --- transports: a module's tests again over HTTP/2 ---
#
# A module that sets TRANSPORTS = ("h1", "h2") has each test whose fixtures
# use `transport` run once per transport, the module's servers started once
# per transport (module scope: one more lockerd per module, not per test).
# The h2 lockerd has a TLS listener (ALPN h2) as its .port, and get() on
# that port goes over HTTP/2 (h2client.py) with get()'s own answer shape.
# A test about HTTP/1.1 itself (framing, pipelining, raw heads) says so with
# @pytest.mark.h1_only("why"): its h2 run is skipped with that reason.

_H2_PORTS = set()
_leaves = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "h1_only(reason): the test is about HTTP/1.1 "
                            "itself; not run over HTTP/2")


def pytest_generate_tests(metafunc):
    want = getattr(metafunc.module, "TRANSPORTS", None)
    if want is None or "transport" not in metafunc.fixturenames:
        return
    only = metafunc.definition.get_closest_marker("h1_only")
    params = [pytest.param(t, marks=pytest.mark.skip(reason="HTTP/1.1 only: " + only.args[0]))
              if t != "h1" and only is not None else t for t in want]
    metafunc.parametrize("transport", params, indirect=True, scope="module")


@pytest.fixture(scope="module")
def transport(request):
    """"h1" (plain HTTP/1.1) or "h2" (HTTP/2 over TLS): see above."""
    return getattr(request, "param", "h1")


def shared_leaf(domain):
    """(crt, key) of a certificate for domain and *.domain, signed by a
    test CA made once per test session (test_tls.py's CA)."""
    if domain not in _leaves:
        from test_tls import CA     # here: test_tls imports conftest
        d = os.path.join(TEST_BASE, f"h2pki{os.getpid()}")
        if not _leaves:
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            _leaves["ca"] = CA(d)
        _leaves[domain] = _leaves["ca"].leaf(domain, f"/CN={domain}", [domain, "*." + domain])
        os.chmod(d, 0o755)
    return _leaves[domain]


def shared_ca():
    """The test CA's certificate file (after a shared_leaf())."""
    return _leaves["ca"].crt


@pytest.fixture(scope="session", autouse=True)
def _shared_pki():
    yield
    if _leaves:
        shutil.rmtree(os.path.join(TEST_BASE, f"h2pki{os.getpid()}"), ignore_errors=True)


class Lockerd:
    """One lockerd master with its own directories, port and uid range."""

    def __init__(self, build, extra="", domain="test.example", front_processes=2,
                 transport="h1"):
        os.makedirs(TEST_BASE, exist_ok=True)
        os.chmod(TEST_BASE, 0o755)
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="t", dir=TEST_BASE)
        os.chmod(self.dir, 0o755)
        self.port = self.plain_port = free_port()
        self.domain = domain
        self.transport = transport
        self.proto, self.scheme = "HTTP/1.1", "http"
        if transport == "h2":
            extra = self._h2_listener() + extra
        _instance[0] += 1
        low = 400000 + (os.getpid() % 100) * 10000 + _instance[0] * 100
        self.conf = os.path.join(self.dir, "lockerd.conf")
        self.write_conf(
            f"listen 127.0.0.1:{self.plain_port}\n"
            f"domain {domain}\n"
            f"hostname scripts.{domain}\n"
            f"lockers {self.dir}/lockers\n"
            f"state {self.dir}/state\n"
            f"logs {self.dir}/logs\n"
            f"tls-dir {self.dir}/state/tls\n"
            f"uid-range {low}-{low + 99}\n"
            f"front-processes {front_processes}\n"
            f"shutdown-timeout 5\n" + extra)
        self.proc = None
        self.stderr_path = os.path.join(self.dir, "lockerd.stderr")
        self.wrap = []      # a command lockerd is started through (its pid stays)

    def _h2_listener(self):
        """The h2 transport: a TLS listener whose ALPN gives h2, with a
        certificate of the test CA for the domain and its subdomains;
        self.port is then that listener's, and get() speaks HTTP/2 to it."""
        crt, key = shared_leaf(self.domain)
        self.port = free_port()
        _H2_PORTS.add(self.port)
        self.proto, self.scheme = "HTTP/2.0", "https"
        return (f"listen 127.0.0.1:{self.port} tls\n"
                f"certificate {self.domain} {crt} {key}\n"
                f"certificate *.{self.domain} {crt} {key}\n")

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o644)

    @property
    def lockers(self):
        return os.path.join(self.dir, "lockers")

    @property
    def logs(self):
        return os.path.join(self.dir, "logs")

    def start(self):
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.wrap + [os.path.join(self.build, "lockerd"), "-c",
                                                  self.conf],
                                     stdout=self.stderr, stderr=self.stderr)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("lockerd exited: " + self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                # The control socket answering, not only there: a restart
                # finds the last master's file, and a loaded CI machine ran
                # `locker` before the new master listened (refused).
                with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as c:
                    c.settimeout(0.2)
                    c.connect(os.path.join(self.dir, "state", "control.sock"))
                return self
            except OSError:
                pass
            time.sleep(0.05)
        # Stopped by its pid before the error: a start that never answered
        # left its lockerd running for the rest of the machine's life.
        self.stop()
        raise RuntimeError("lockerd did not start: " + self.log())

    def log(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.stderr.close()
        return rc

    def cleanup(self):
        self.stop()
        # Its port is free again: a plain listener may get it next (a
        # later module's get() then spoke HTTP/2 to test_acme's port 80).
        if self.transport == "h2":
            _H2_PORTS.discard(self.port)
        log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        # A sanitizer build reports on stderr, from whichever process erred.
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert bad not in log, log

    # --- the CLI ---
    def locker(self, *args, check=True, user=None, input=None):
        cmd = [os.path.join(self.build, "locker"), "-c", self.conf] + list(args)
        kw = {}
        if user is not None:
            kw["user"] = user
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, input=input, **kw)
        if check and r.returncode != 0:
            raise AssertionError(f"locker {args} failed ({r.returncode}): {r.stderr}")
        return r

    def signup(self, name):
        self.locker("signup", name)
        return self.info(name)

    def info(self, name):
        return json.loads(self.locker("info", name, "--json").stdout)

    def put(self, locker, rel, content, mode=0o600):
        """Write a file into a locker's web_scripts, owned by the locker."""
        info = self.info(locker)
        path = os.path.join(info["home"], "web_scripts", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        d = os.path.dirname(path)
        while d != info["home"]:
            os.chown(d, info["uid"], info["gid"])
            d = os.path.dirname(d)
        if isinstance(content, str):
            content = content.encode()
        with open(path, "wb") as f:
            f.write(content)
        os.chown(path, info["uid"], info["gid"])
        os.chmod(path, mode)
        return path

    # --- pids ---
    def children(self):
        """{pid: (role, uid)} of the master's child processes."""
        out = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/status") as f:
                    st = f.read()
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            ppid = int(re.search(r"PPid:\s+(\d+)", st).group(1))
            if self.proc is None or ppid != self.proc.pid:
                continue
            uid = int(re.search(r"Uid:\s+(\d+)", st).group(1))
            role = cmd[2].decode() if len(cmd) > 2 and cmd[1] == b"-R" else "?"
            out[int(pid)] = (role, uid)
        return out

    def pids(self, role):
        return [p for p, (r, _) in self.children().items() if r == role]

    def worker_of(self, locker):
        """The pid of the locker's one running worker."""
        uid = self.info(locker)["uid"]
        ws = [p for p, (r, u) in self.children().items() if r == "worker" and u == uid]
        assert len(ws) == 1, self.children()
        return ws[0]


class stopped:
    """The locker's worker stopped (SIGSTOP) for the with block: it reads
    nothing, so only what front holds can answer."""

    def __init__(self, d, locker):
        self.pid = d.worker_of(locker)

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *a):
        os.kill(self.pid, signal.SIGCONT)


@pytest.fixture
def make_lockerd(build_dir):
    made = []

    def make(**kw):
        d = Lockerd(build_dir, **kw)
        made.append(d)
        return d
    yield make
    for d in made:
        d.cleanup()


@pytest.fixture(scope="module")
def srv(build_dir, transport):
    """A running lockerd with lockers alice and bob, shared by a test module."""
    d = Lockerd(build_dir, transport=transport).start()
    d.signup("alice")
    d.signup("bob")
    yield d
    d.cleanup()


# --- HTTP on raw sockets, to send what curl would refuse to ---

def raw(port, data, timeout=5.0, shut=False):
    """Send bytes, read until the server closes (or timeout); return bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    except socket.timeout:
        pass
    s.close()
    return b"".join(chunks)


def raw_tls(port, data, host, timeout=5.0):
    """raw() over TLS, naming host by SNI; the certificate is not checked
    (test_tls.py checks certificates)."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=timeout),
                        server_hostname=host)
    s.sendall(data)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    except (socket.timeout, ssl.SSLError):
        pass
    s.close()
    return b"".join(chunks)


def self_signed(d, name):
    """A self-signed ECDSA certificate for name in directory d: (crt, key)."""
    crt, key = os.path.join(d, "self.crt"), os.path.join(d, "self.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", f"/CN={name}", "-addext",
                    f"subjectAltName=DNS:{name}"], check=True, capture_output=True)
    return crt, key


def parse_responses(data, head_only=()):
    """Split a byte stream into (status, headers, body) triples by Content-Length.
    head_only: indexes of responses to HEAD requests (no body)."""
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head = data[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        data = data[end + 4:]
        if 100 <= status < 200:
            continue
        if len(out) not in head_only and status not in (204, 304) and \
                headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                line, _, data = data.partition(b"\r\n")
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    _, _, data = data.partition(b"\r\n")   # no trailers from us
                    break
                body += data[:size]
                data = data[size + 2:]
            out.append((status, headers, body))
            continue
        n = int(headers.get("content-length", "0"))
        if len(out) in head_only or status in (304,):
            n = 0
        out.append((status, headers, data[:n]))
        data = data[n:]
    return out


def get(port, path, host, extra=b"", method=b"GET"):
    """One request on a connection of its own: (status, headers, body),
    headers a dict with lowercase names.  Over HTTP/2 when port is an h2
    transport's (see transport below)."""
    if port in _H2_PORTS:
        from h2client import h2_get
        return h2_get(port, path, host, extra, method)
    req = method + b" " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() + \
        b"\r\nConnection: close\r\n" + extra + b"\r\n"
    r = parse_responses(raw(port, req), head_only=(0,) if method == b"HEAD" else ())
    assert r, "no response"
    return r[0]


# ------------------------------------------------------------ login users

def _login_user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _remove_login_user(name, mark):
    pw = _login_user(name)
    if pw is not None and pw.pw_gecos == mark:
        subprocess.run(["userdel", "-r", name], capture_output=True)


@contextlib.contextmanager
def login_users(names, mark, shell="/bin/bash", groups=None):
    """Real login users (useradd -m) for a module, each marked by its GECOS
    field so that only ours are ever removed, and removed after: {name:
    pwent}.  groups: {name: [group, ...]}, groups that must exist.  Skips
    when a real user of that name exists on the machine."""
    for u in names:
        pw = _login_user(u)
        if pw is not None and pw.pw_gecos != mark:
            pytest.skip(f"a real user {u} exists on this machine")
    for u in names:
        _remove_login_user(u, mark)
        extra = ["-G", ",".join(groups[u])] if groups and u in groups else []
        subprocess.run(["useradd", "-m", "-c", mark, "-s", shell] + extra + [u],
                       check=True, capture_output=True)
    try:
        yield {u: pwd.getpwnam(u) for u in names}
    finally:
        for u in names:
            _remove_login_user(u, mark)
            assert _login_user(u) is None, u


def as_user(d, user, *args, **kw):
    """`locker ARGS` as a login user, not checked."""
    return d.locker(*args, user=user, check=False, **kw)


def refused(r, what):
    """A CLI refusal for want of rights: exit 77 and a message naming what."""
    assert r.returncode == 77, (r.returncode, r.stdout, r.stderr)
    assert "permission denied" in r.stderr.lower(), r.stderr
    assert what in r.stderr, r.stderr


def image_lockerd(request, build_dir, extra="", limit="24m", **kw):
    """A started lockerd whose lockers have a 24 MiB (limit) disk limit of
    their own (disk-quota image), stopped and its images unmounted after the
    test; skips where there are no loop devices."""
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no loop devices here (/dev/loop-control)")
    d = Lockerd(build_dir,
                extra=f"disk-quota image\ndisk-limit {limit}\n" + extra, **kw)
    request.addfinalizer(d.cleanup)

    def leftovers():
        d.stop()
        with open("/proc/mounts") as f:
            mounts = [ln.split()[1] for ln in f if ln.split()[1].startswith(d.dir + "/")]
        for m in reversed(mounts):
            subprocess.run(["umount", "-l", m])
    request.addfinalizer(leftovers)
    return d.start()


def wait_for(fn, within=5.0):
    """fn() until it gives something true (returned) or within seconds
    pass (then its last answer)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


def etc_names():
    """/etc's names, less the lock and backup files that useradd and
    userdel (run by every signup and removal, in this suite or beside it)
    make and remove as they go: what a test that nothing landed in /etc
    compares."""
    return sorted(n for n in os.listdir("/etc")
                  if not n.endswith((".lock", "+", "-")) and n != ".pwd.lock")


def mappings(pid):
    """[(start, end, resident or swapped kB)] of pid's readable mappings."""
    out, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if m:
                cur = [int(m.group(1), 16), int(m.group(2), 16), 0]
                if "r" in m.group(3) and not line.rstrip().endswith(("[vvar]", "[vsyscall]")):
                    out.append(cur)
            elif line.startswith(("Rss:", "Swap:")):
                cur[2] += int(line.split()[1])
    return [tuple(m) for m in out]


def memory_has(pid, pats):
    """Which of pats the process's memory holds (read as root): every
    readable mapping with a page in memory or swap (the others hold none)."""
    found = set()
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for lo, hi, kb in mappings(pid):
            if kb == 0:
                continue
            at, tail = lo, b""
            while at < hi:
                n = min(hi - at, 16 << 20)
                try:
                    mem.seek(at)
                    chunk = tail + mem.read(n)
                except OSError:
                    break
                for i, p in enumerate(pats):
                    if i not in found and p in chunk:
                        found.add(i)
                tail = chunk[-1024:]
                at += n
    return found


def stop_server(proc, timeout=60, cont=False):
    """Stops a server a test started (a Popen), by its pid: SIGTERM, then
    SIGKILL if it has not gone within timeout seconds; cont first wakes one
    a test stopped with SIGSTOP.  Reaped either way."""
    if proc is None or proc.poll() is not None:
        return
    if cont:
        os.kill(proc.pid, signal.SIGCONT)
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def lockerd_on_btrfs(request, build_dir, extra, size_mib=512):
    """A started Lockerd whose lockers root is a fresh btrfs on a loop
    device of size_mib (a sparse file: it costs what is written), for
    disk-quota btrfs; unmounted, detached and removed when request ends."""
    with open("/proc/filesystems") as f:
        if not any(ln.split()[-1] == "btrfs" for ln in f if ln.strip()):
            pytest.skip("this kernel has no btrfs (not in /proc/filesystems)")
    mkfs = shutil.which("mkfs.btrfs") or "/usr/sbin/mkfs.btrfs"
    assert os.path.exists(mkfs), "mkfs.btrfs missing: scripts/deps.sh installs btrfs-progs"
    d = Lockerd(build_dir, extra=extra)
    request.addfinalizer(d.cleanup)    # runs last: after the unmount below
    img = os.path.join(d.dir, "btrfs.img")
    with open(img, "wb") as f:
        f.truncate(size_mib << 20)
    subprocess.run([mkfs, "-q", "-f", img], check=True, capture_output=True, timeout=60)
    loop = subprocess.run(["losetup", "--find", "--show", img], check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()
    request.addfinalizer(lambda: subprocess.run(["losetup", "-d", loop]))
    os.makedirs(d.lockers)
    subprocess.run(["mount", "-t", "btrfs", loop, d.lockers], check=True, timeout=60)

    def unmount():
        d.stop()
        if subprocess.run(["umount", d.lockers]).returncode != 0:
            subprocess.run(["umount", "-l", d.lockers])
    request.addfinalizer(unmount)
    d.start()
    return d


def schema_version():
    """The directory's schema as src/directory.c's SCHEMA_VERSION says: what
    a directory this build made must be at (a test that wrote the number
    down went stale with each new table)."""
    with open(os.path.join(ROOT, "src", "directory.c")) as f:
        return int(re.search(r"#define SCHEMA_VERSION\s+(\d+)", f.read()).group(1))
