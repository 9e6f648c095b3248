"""bench/scale.py BUILD_DIR: the figures of `make bench-scale` (issue 13).

Run through bench/scale.sh as root.  Parts (SCALE_PARTS, all by default):

  dir    100,000 lockers and vhosts in the directory: signup rate before and
         after, lockerd's start time, the routing table's size, build and
         load time, memory of master and front, a new vhost's time to serve
  cold   a worker's cold start (50 lockers) and a PHP pool's (the first
         hello.php on a running worker), against php-fpm ondemand's first
         request to a pool with no child
  warm   1,000 lockers with hello.php and a static page, all warm:
         processes, RSS and PSS, and p50/p99 to a random one, against
         php-fpm's 1,000 ondemand pools (one user each) behind nginx
  conns  10,000 kept connections over 100 lockers against nginx
  apps   DokuWiki and MediaWiki against nginx + php-fpm (bench/apps.py)

Figures are printed, never asserted: the script fails only when a server
does not start or answers wrongly.  See bench/README.md.
"""
import atexit
import json
import os
import pwd
import random
import re
import signal
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# One free_port() for the tests and the benches: the integration tests'.
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from conftest import free_port  # noqa: E402
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ENV = os.environ.get
PARTS = (ENV("SCALE_PARTS") or "cold dir conns warm").split()
N_DIR = int(ENV("SCALE_DIR_LOCKERS", "100000"))
N_SIGNUP = int(ENV("SCALE_SIGNUPS", "200"))
N_WARM = int(ENV("SCALE_WARM_LOCKERS", "1000"))
N_COLD = int(ENV("SCALE_COLD_LOCKERS", "50"))
N_CONNS = int(ENV("SCALE_CONNS", "10000"))
N_CONN_LOCKERS = int(ENV("SCALE_CONN_LOCKERS", "100"))
SECONDS = int(ENV("SCALE_SECONDS", "10"))
# 10,000 connections take wrk seconds to open: a longer run to see past it.
CONN_SECONDS = int(ENV("SCALE_CONN_SECONDS", "30"))
TMPBASE = ENV("BENCH_LOCKERD_TMPDIR", "/var/lib")
DOMAIN = "scale.test"
# lockerd's uids (bench/run.sh has 210000-): another range lets two runs overlap.
UID_LO, UID_HI = map(int, ENV("SCALE_UIDS", "220000-339999").split("-"))
USER_PREFIX = ENV("SCALE_USER_PREFIX", "lkscale")     # php-fpm's throw-away users
PHPFPM = sorted(p for p in os.listdir("/usr/sbin") if re.match(r"php-fpm[0-9.]+$", p))
HELLO_PHP = b"<?php echo 'hello';\n"

RESULTS = []        # (part, what, lockerd, other, unit, target or "")
NOTES = []
_procs = []         # Popen of servers we started, stopped at exit
_scratch = []       # directories removed at exit
_users = []         # throw-away users removed at exit


def say(*a):
    print("bench-scale:", *a, file=sys.stderr, flush=True)


def die(msg):
    say("ERROR:", msg)
    sys.exit(1)


def note(msg):
    NOTES.append(msg)
    say("NOTE:", msg)


def result(part, what, ours, other="", unit="", target=""):
    RESULTS.append((part, what, ours, other, unit, target))
    say("%s: %s: %s %s%s" % (part, what, fmt(ours), unit,
                             "" if other == "" else "   (other: %s)" % fmt(other)))


def fmt(v):
    if isinstance(v, float):
        return "%.2f" % v
    return str(v)


# ------------------------------------------------------------ processes

def stop(p, name="", timeout=20):
    if p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        say("%s (pid %d) ignored SIGTERM for %d s: SIGKILL" % (name, p.pid, timeout))
        p.kill()
        p.wait()


def cleanup():
    for p in reversed(_procs):
        stop(p)
    # Anything still running as a bench locker's or user's uid outlived its server.
    lo_user = min((pwd.getpwnam(u).pw_uid for u in _users if _exists(u)), default=None)
    for pid in pids():
        try:
            uid = os.stat("/proc/%d" % pid).st_uid
        except OSError:
            continue
        if UID_LO <= uid <= UID_HI:
            _kill(pid)
    for u in _users:
        if _exists(u):
            for pid in pids():
                try:
                    if os.stat("/proc/%d" % pid).st_uid == pwd.getpwnam(u).pw_uid:
                        _kill(pid)
                except (OSError, KeyError):
                    pass
            subprocess.run(["userdel", u], stderr=subprocess.DEVNULL)
    del lo_user
    for d in _scratch:
        shutil.rmtree(d, ignore_errors=True)


def _exists(user):
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


atexit.register(cleanup)
for _s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_s, lambda *_: sys.exit(130))


def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def tree(root):
    """root and every process below it (by parent pid)."""
    kids = {}
    for pid in pids():
        try:
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def memory(pidlist):
    """(processes, RSS bytes, PSS bytes) from smaps_rollup."""
    n = rss = pss = 0
    for pid in pidlist:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                t = f.read()
        except OSError:
            continue
        n += 1
        m = re.search(r"^Rss:\s+(\d+) kB", t, re.M)
        rss += int(m.group(1)) * 1024 if m else 0
        m = re.search(r"^Pss:\s+(\d+) kB", t, re.M)
        pss += int(m.group(1)) * 1024 if m else 0
    return n, rss, pss


def mib(b):
    return b / (1 << 20)


def wait_port(port, proc, name, log=None, timeout=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            if log and os.path.exists(log):
                sys.stderr.write(open(log, errors="replace").read()[-3000:])
            die("%s exited while starting" % name)
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return time.monotonic() - t0
        except OSError:
            time.sleep(0.02)
    die("%s did not listen on %d within %d s" % (name, port, timeout))


def get(port, host, path="/", timeout=30):
    """(status, body) of one request on a new connection."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def timed_get(port, host, path="/"):
    t0 = time.monotonic()
    st, body = get(port, host, path)
    return st, body, (time.monotonic() - t0) * 1000


def pct(values, q):
    v = sorted(values)
    if not v:
        return float("nan")
    i = max(0, min(len(v) - 1, int(-(-len(v) * q // 1)) - 1))
    return v[i]


def parallel(fn, items, threads=8):
    """fn over items with a few threads; the first exception is raised."""
    items = list(items)
    out = [None] * len(items)
    err = []
    lock = threading.Lock()
    nxt = [0]

    def run():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(items) or err:
                return
            try:
                out[i] = fn(items[i])
            except BaseException as e:      # noqa: B902 - re-raised below
                err.append(e)
                return
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if err:
        raise err[0]
    return out


# ------------------------------------------------------------ wrk

WRK_LUA = """
local hosts = {}
for line in io.lines("%s") do hosts[#hosts + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "%s", { Host = hosts[math.random(#hosts)] })
end
"""


def wrk(port, hosts, path, conns, seconds, scratch, threads=2):
    """req/s, p50 ms, p99 ms, errors (non-2xx + socket) of wrk to random hosts."""
    hf = os.path.join(scratch, "hosts.txt")
    with open(hf, "w") as f:
        f.write("\n".join(hosts) + "\n")
    lua = os.path.join(scratch, "random.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA % (hf, path))
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency",
           "--timeout", "10s", "-s", lua, "http://127.0.0.1:%d%s" % (port, path)]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errs = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    if not rps:
        sys.stderr.write(out)
        die("wrk gave no figures")
    return float(rps.group(1)), to_ms(lat.get("50", "0")), to_ms(lat.get("99", "0")), errs


def to_ms(v):
    n = float(re.match(r"[\d.]+", v).group(0))
    if v.endswith("us"):
        return n / 1000
    if v.endswith("ms"):
        return n
    if v.endswith("m"):
        return n * 60000
    if v.endswith("s"):
        return n * 1000
    return n


# ------------------------------------------------------------ lockerd

class Lockerd:
    def __init__(self, extra="", debug=False):
        self.dir = tempfile.mkdtemp(prefix="lockerd-scale.", dir=TMPBASE)
        _scratch.append(self.dir)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "lockerd.conf")
        self.log = os.path.join(self.dir, "lockerd.out")
        self.debug = debug
        with open(self.conf, "w") as f:
            f.write("# written by bench/scale.py\n"
                    "listen 127.0.0.1:%d\ndomain %s\nlockers %s/lockers\nstate %s/state\n"
                    "logs %s/logs\nuid-range %d-%d\nfront-processes auto\n"
                    "change-rate 0\nmax-workers 0\n%s\n"
                    % (self.port, DOMAIN, self.dir, self.dir, self.dir, UID_LO, UID_HI, extra))
        os.chmod(self.conf, 0o644)
        self.proc = None

    def start(self):
        """seconds until the port answers"""
        args = [os.path.join(BUILD, "lockerd"), "-c", self.conf] + (["-d"] if self.debug else [])
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT)
        _procs.append(self.proc)
        return wait_port(self.port, self.proc, "lockerd", self.log)

    def stop(self):
        stop(self.proc, "lockerd")
        self.logf.close()

    def locker(self, *args, check=True):
        r = subprocess.run([os.path.join(BUILD, "locker"), "-c", self.conf] + list(args),
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            die("locker %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def signup(self, name):
        self.locker("signup", name)

    def info(self, name):
        return json.loads(self.locker("info", name, "--json"))

    def put(self, name, files):
        """files: {relative path: bytes}, written as the locker, mode 0600."""
        i = self.info(name)
        ws = os.path.join(i["home"], "web_scripts")
        if not os.path.isdir(ws):
            os.mkdir(ws, 0o700)
            os.chown(ws, i["uid"], i["gid"])
        for rel, data in files.items():
            p = os.path.join(ws, rel)
            with open(p, "wb") as f:
                f.write(data)
            os.chmod(p, 0o600)
            os.chown(p, i["uid"], i["gid"])

    def host(self, name):
        return "%s.%s" % (name, DOMAIN)

    def fronts(self):
        return [p for p in tree(self.proc.pid)[1:] if comm_args(p).startswith("lockerd -R front")]

    def log_lines(self, pattern):
        with open(self.log, errors="replace") as f:
            return re.findall(pattern, f.read())


def comm_args(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def mem_avail():
    with open("/proc/meminfo") as f:
        return int(re.search(r"MemAvailable:\s+(\d+)", f.read()).group(1)) * 1024


# ------------------------------------------------------------ part: dir

def signup_rate(ld, names):
    t0 = time.monotonic()
    for n in names:
        ld.signup(n)
    return len(names) / (time.monotonic() - t0)


def bulk_directory(db, n_lockers, n_vhosts, first_uid):
    """The directory's rows for n lockers and vhosts, in one transaction
    (the CLI would take hours: this is the bench's bulk path, no homes)."""
    c = sqlite3.connect(db)
    now = int(time.time())
    c.execute("BEGIN")
    c.executemany("INSERT INTO uids (uid, name, allocated) VALUES (?, ?, ?)",
                  ((first_uid + i, "b%d" % i, now) for i in range(n_lockers)))
    c.executemany("INSERT INTO lockers (name, uid, gid, created) VALUES (?, ?, ?, ?)",
                  (("b%d" % i, first_uid + i, first_uid + i, now) for i in range(n_lockers)))
    c.executemany("INSERT INTO vhosts (host, locker, subdir) VALUES (?, ?, '')",
                  (("www.v%d.example.net" % i, "b%d" % (i % n_lockers)) for i in range(n_vhosts)))
    c.execute("COMMIT")
    c.close()


def route_figures(ld, since=0):
    built = ld.log_lines(r"routes: built (\d+) bytes in ([\d.]+) ms")[since:]
    loaded = ld.log_lines(r"front: routes of (\d+) bytes loaded in ([\d.]+) ms")
    return built, loaded


def served_within(ld, host, t0, timeout=30):
    """ms from t0 until host answers 200"""
    while time.monotonic() - t0 < timeout:
        try:
            st, _ = get(ld.port, host, "/", timeout=5)
            if st == 200:
                return (time.monotonic() - t0) * 1000
        except OSError:
            pass
        time.sleep(0.005)
    return float("inf")


def part_dir():
    say("dir: %d lockers and vhosts in the directory" % N_DIR)
    ld = Lockerd(debug=True)
    ld.start()
    rate0 = signup_rate(ld, ["s%d" % i for i in range(N_SIGNUP)])
    result("dir", "signups/s, empty directory (CLI)", rate0, unit="/s")
    ld.put("s0", {"index.html": b"s0\n"})
    ld.stop()
    bulk_directory(os.path.join(ld.dir, "state", "directory.db"), N_DIR, N_DIR, UID_LO + N_SIGNUP)
    nlines = len(ld.log_lines(r"routes: built"))
    t = ld.start()
    # Up means serving the lockers: the first locker answers.
    t_up = served_within(ld, ld.host("s0"), time.monotonic() - t) / 1000
    result("dir", "lockerd start (listening)", t * 1000, unit="ms")
    result("dir", "lockerd start (serving)", t_up * 1000, unit="ms")
    built, loaded = route_figures(ld, nlines)
    if built:
        result("dir", "routing table size", int(built[-1][0]) / (1 << 20), unit="MiB")
        result("dir", "routing table build (master)", float(built[-1][1]), unit="ms")
    if loaded:
        result("dir", "routing table load (front)", float(loaded[-1][1]), unit="ms")
    mem = memory([ld.proc.pid])
    result("dir", "master RSS / PSS", "%.1f / %.1f" % (mib(mem[1]), mib(mem[2])), unit="MiB")
    fr = ld.fronts()
    if fr:
        mem = memory(fr[:1])
        result("dir", "one front RSS / PSS", "%.1f / %.1f" % (mib(mem[1]), mib(mem[2])),
               unit="MiB")
    nb = len(route_figures(ld)[0])
    rate = signup_rate(ld, ["s%d" % i for i in range(N_SIGNUP, 2 * N_SIGNUP)])
    result("dir", "signups/s at %d lockers (CLI)" % N_DIR, rate, unit="/s")
    built = route_figures(ld)[0][nb:]
    result("dir", "whole routing tables built for %d signups" % N_SIGNUP, len(built))
    if built:
        result("dir", "routing table build per signup, p50",
               pct([float(b[1]) for b in built], 0.5), unit="ms")
    # A new vhost of a locker that has a page: from the command to its 200.
    ms = []
    for i in range(5):
        host = "new%d.example.org" % i
        t0 = time.monotonic()
        ld.locker("vhost", "add", "s0", host, "--force")
        ms.append(served_within(ld, host, t0))
    result("dir", "new vhost served after (p50 of 5)", pct(ms, 0.5), unit="ms",
           target="< 1000 ms")
    ld.stop()


# ------------------------------------------------------------ php-fpm + nginx

class FpmNginx:
    """php-fpm with one ondemand pool per throw-away user, nginx in front
    with a server per user: what a host would run instead of lockerd."""

    def __init__(self, n, max_children=5, idle="10s"):
        if not PHPFPM:
            die("php-fpm is missing (make deps-bench)")
        self.n = n
        self.dir = tempfile.mkdtemp(prefix="lockerd-scale-fpm.", dir="/tmp")
        _scratch.append(self.dir)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.users = ["%s%d" % (USER_PREFIX, i) for i in range(n)]
        make_users(self.users)
        fpm = ["[global]\npid = %s/fpm.pid\nerror_log = %s/fpm.log\n"
               "process.max = 0\n" % (self.dir, self.dir)]
        ngx = ["user www-data;\nworker_processes auto;\nworker_rlimit_nofile 20000;\n"
               "pid %s/nginx.pid;\nerror_log %s/error.log;\n"
               "events { worker_connections 10240; }\nhttp {\n"
               "sendfile on; tcp_nopush on; types_hash_max_size 2048;\n"
               "server_names_hash_bucket_size 128; server_names_hash_max_size 65536;\n"
               "include /etc/nginx/mime.types; default_type application/octet-stream;\n"
               "access_log %s/access.log;\n" % (self.dir, self.dir, self.dir)]
        for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            ngx.append("%s_temp_path %s/%s;\n" % (t, self.dir, t))
        for i, u in enumerate(self.users):
            root = os.path.join(self.dir, "www", u)
            os.makedirs(root)
            pw = pwd.getpwnam(u)
            for name, data in (("hello.php", HELLO_PHP), ("index.html", b"%s\n" % u.encode())):
                p = os.path.join(root, name)
                with open(p, "wb") as f:
                    f.write(data)
                os.chown(p, pw.pw_uid, pw.pw_gid)
                os.chmod(p, 0o644)
            sock = os.path.join(self.dir, "%s.sock" % u)
            fpm.append("[%s]\nuser = %s\ngroup = nogroup\nlisten = %s\nlisten.owner = www-data\n"
                       "listen.group = www-data\npm = ondemand\npm.max_children = %d\n"
                       "pm.process_idle_timeout = %s\n"
                       % (u, u, sock, max_children, idle))
            ngx.append("server { listen 127.0.0.1:%d; server_name %s.fpm.test;"
                       " root %s; index index.html;\n"
                       " location ~ \\.php$ { include /etc/nginx/fastcgi.conf;"
                       " fastcgi_pass unix:%s; } }\n" % (self.port, u, root, sock))
            if i == 0:
                # Once per address: each nginx worker its own queue, as
                # lockerd's fronts have (SO_REUSEPORT), deep enough for 10,000.
                ngx[-1] = ngx[-1].replace("%d;" % self.port, "%d reuseport backlog=16384;"
                                          % self.port, 1)
        self.fpm_conf, self.ngx_conf = fpm, ngx
        self.max_children, self.idle = max_children, idle
        self.write_conf()

    def write_conf(self):
        with open(os.path.join(self.dir, "fpm.conf"), "w") as f:
            f.write("".join(self.fpm_conf))
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write("".join(self.ngx_conf) + "}\n")

    def add_sites(self, sites):
        """(user, server name, document root): a pool and a server each."""
        for user, name, root in sites:
            sock = os.path.join(self.dir, "%s.sock" % user)
            self.fpm_conf.append("[%s]\nuser = %s\ngroup = nogroup\nlisten = %s\n"
                                 "listen.owner = www-data\nlisten.group = www-data\n"
                                 "pm = ondemand\npm.max_children = %d\n"
                                 "pm.process_idle_timeout = %s\n"
                                 % (user, user, sock, self.max_children, self.idle))
            self.ngx_conf.append("server { listen 127.0.0.1:%d; server_name %s; root %s;"
                                 " index index.php index.html;\n"
                                 " location ~ \\.php$ { include /etc/nginx/fastcgi.conf;"
                                 " fastcgi_pass unix:%s; } }\n" % (self.port, name, root, sock))
            self.users.append(user)
        self.write_conf()

    def host(self, i):
        return "%s.fpm.test" % self.users[i]

    def start(self):
        self.fpm = subprocess.Popen(["/usr/sbin/" + PHPFPM[-1], "-F", "-y",
                                     os.path.join(self.dir, "fpm.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _procs.append(self.fpm)
        self.nginx = subprocess.Popen(["nginx", "-c", os.path.join(self.dir, "nginx.conf"),
                                       "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        _procs.append(self.nginx)
        wait_port(self.port, self.nginx, "nginx", os.path.join(self.dir, "error.log"))
        t0 = time.monotonic()
        while not os.path.exists(os.path.join(self.dir, "%s.sock" % self.users[-1])):
            if self.fpm.poll() is not None or time.monotonic() - t0 > 120:
                sys.stderr.write(open(os.path.join(self.dir, "fpm.log")).read()[-3000:])
                die("php-fpm did not start")
            time.sleep(0.1)

    def stop(self):
        stop(self.nginx, "nginx")
        stop(self.fpm, "php-fpm")


FPM_UID0 = int(ENV("SCALE_FPM_UID", "360000"))   # above lockerd's range, below the tests'


def make_users(names):
    """Throw-away users (php-fpm's pools run as them), of uids of their own
    in a range of this bench's: a thousand do not fit among system ids."""
    for u in names:
        if _exists(u):
            subprocess.run(["userdel", u], check=False)
    base = FPM_UID0 + sum(1 for u in _users)
    for k, u in enumerate(names):
        r = subprocess.run(["useradd", "--no-create-home", "--no-user-group", "--gid", "nogroup",
                            "--uid", str(base + k), "--home-dir", "/nonexistent",
                            "--shell", "/usr/sbin/nologin", u], capture_output=True, text=True)
        if r.returncode != 0:
            die("useradd %s: %s" % (u, r.stderr.strip()))
        _users.append(u)


# ------------------------------------------------------------ part: cold

def part_cold():
    say("cold: %d lockers' first request, and their first hello.php" % N_COLD)
    ld = Lockerd()
    ld.start()
    names = ["c%d" % i for i in range(N_COLD)]
    for n in names:
        ld.signup(n)
        ld.put(n, {"index.html": b"%s\n" % n.encode(), "hello.php": HELLO_PHP})
    cold, warm, php, phpwarm = [], [], [], []
    for n in names:
        st, body, ms = timed_get(ld.port, ld.host(n))
        if st != 200 or body != b"%s\n" % n.encode():
            die("lockerd: GET / of %s gave %d" % (n, st))
        cold.append(ms)
        warm.append(timed_get(ld.port, ld.host(n))[2])
        st, body, ms = timed_get(ld.port, ld.host(n), "/hello.php")
        if st != 200 or body != b"hello":
            die("lockerd: GET /hello.php of %s gave %d %r" % (n, st, body[:200]))
        php.append(ms)
        phpwarm.append(timed_get(ld.port, ld.host(n), "/hello.php")[2])
    ld.stop()
    fp = FpmNginx(N_COLD)
    fp.start()
    fcold, fwarm = [], []
    for i in range(N_COLD):
        st, body, ms = timed_get(fp.port, fp.host(i), "/hello.php")
        if st != 200 or body != b"hello":
            die("nginx+php-fpm: GET /hello.php gave %d %r" % (st, body[:200]))
        fcold.append(ms)
        fwarm.append(timed_get(fp.port, fp.host(i), "/hello.php")[2])
    fp.stop()
    for q, label in ((0.5, "p50"), (0.99, "p99")):
        result("cold", "worker cold start (first GET /) %s" % label, pct(cold, q), unit="ms",
               target="< 5 ms p50" if q == 0.5 else "")
    result("cold", "same, worker running, p50", pct(warm, 0.5), unit="ms")
    for q, label in ((0.5, "p50"), (0.99, "p99")):
        result("cold", "PHP pool cold start (first hello.php) %s" % label, pct(php, q),
               pct(fcold, q), unit="ms", target="<= php-fpm ondemand")
    result("cold", "hello.php, pool warm, p50", pct(phpwarm, 0.5), pct(fwarm, 0.5), unit="ms")


# ------------------------------------------------------------ part: warm

def part_warm():
    n = N_WARM
    # 14 MiB a warm PHP locker (issue 13's measure); 60% of what is free,
    # for the others' work on the machine and php-fpm's side after.
    need = n * 14 << 20
    if "lockerd" in WARM_SIDES and need > mem_avail() * 0.6:
        n2 = max(50, int(mem_avail() * 0.6 / (14 << 20)) // 50 * 50)
        note("warm: %d warm lockers need about %.1f GiB, %.1f GiB available: %d instead"
             % (n, need / (1 << 30), mem_avail() / (1 << 30), n2))
        n = n2
    say("warm: %d lockers with hello.php and index.html, all warm" % n)
    scratch = tempfile.mkdtemp(prefix="lockerd-scale-wrk.", dir="/tmp")
    _scratch.append(scratch)
    lmem = lmem2 = (0, 0, 0)
    lphp = lstat = (0.0, 0.0, 0.0, 0)
    if "lockerd" in WARM_SIDES:
        lmem, lmem2, lphp, lstat = warm_lockerd(n, scratch)
    fmem = fmem2 = (0, 0, 0)
    fphp = fstat = (0.0, 0.0, 0.0, 0)
    if "fpm" in WARM_SIDES:
        fmem, fmem2, fphp, fstat = warm_fpm(n, scratch)
    warm_report(n, lmem, lmem2, lphp, lstat, fmem, fmem2, fphp, fstat)


def warm_lockerd(n, scratch):
    ld = Lockerd("worker-idle-timeout 3600s")
    ld.start()
    names = ["w%d" % i for i in range(n)]
    t0 = time.monotonic()
    for nm in names:
        ld.signup(nm)
        ld.put(nm, {"index.html": b"%s\n" % nm.encode(), "hello.php": HELLO_PHP})
    say("warm: %d signups in %.1f s" % (n, time.monotonic() - t0))

    def warm_one(nm):
        for path, want in (("/", b"%s\n" % nm.encode()), ("/hello.php", b"hello")):
            st, body = get(ld.port, ld.host(nm), path)
            if st != 200 or body != want:
                die("lockerd: GET %s of %s gave %d %r" % (path, nm, st, body[:200]))
    t0 = time.monotonic()
    parallel(warm_one, names, 8)
    say("warm: all warm in %.1f s" % (time.monotonic() - t0))
    lmem = memory(tree(ld.proc.pid))
    hosts = [ld.host(nm) for nm in names]
    lphp = wrk(ld.port, hosts, "/hello.php", 32, SECONDS, scratch)
    lstat = wrk(ld.port, hosts, "/", 32, SECONDS, scratch)
    lmem2 = memory(tree(ld.proc.pid))
    ld.stop()
    return lmem, lmem2, lphp, lstat


def warm_fpm(n, scratch):
    # Idle children stay (as lockerd's workers do here): "all warm" is a
    # state of both sides, not of one that warms faster than it trims.
    fp = FpmNginx(n, idle="3600s")
    fp.start()
    fhosts = [fp.host(i) for i in range(n)]

    def fwarm_one(i):
        st, body = get(fp.port, fp.host(i), "/hello.php")
        if st != 200 or body != b"hello":
            die("nginx+php-fpm: GET /hello.php gave %d %r" % (st, body[:200]))
    parallel(fwarm_one, range(n), 8)
    fmem = memory(tree(fp.fpm.pid) + tree(fp.nginx.pid))
    fphp = wrk(fp.port, fhosts, "/hello.php", 32, SECONDS, scratch)
    fstat = wrk(fp.port, fhosts, "/index.html", 32, SECONDS, scratch)
    fmem2 = memory(tree(fp.fpm.pid) + tree(fp.nginx.pid))
    fp.stop()
    return fmem, fmem2, fphp, fstat


def warm_report(n, lmem, lmem2, lphp, lstat, fmem, fmem2, fphp, fstat):
    result("warm", "lockers (pools) warm", n, n)
    result("warm", "processes, all warm", lmem[0], fmem[0])
    result("warm", "RSS, all warm", mib(lmem[1]), mib(fmem[1]), unit="MiB")
    result("warm", "PSS, all warm", mib(lmem[2]), mib(fmem[2]), unit="MiB",
           target="< 1536 MiB at 1000, <= 0.5x php-fpm")
    result("warm", "PSS per locker", mib(lmem[2]) / n, mib(fmem[2]) / n, unit="MiB")
    result("warm", "processes / PSS after the load runs", "%d / %.0f" % (lmem2[0], mib(lmem2[2])),
           "%d / %.0f" % (fmem2[0], mib(fmem2[2])), unit="MiB")
    for label, a, b in (("hello.php", lphp, fphp), ("static page", lstat, fstat)):
        result("warm", "random locker, %s: req/s" % label, a[0], b[0])
        result("warm", "random locker, %s: p50" % label, a[1], b[1], unit="ms")
        result("warm", "random locker, %s: p99" % label, a[2], b[2], unit="ms")
        if a[3] or b[3]:
            note("warm %s: errors under load: lockerd %d, nginx %d" % (label, a[3], b[3]))


# ------------------------------------------------------------ part: conns

class during:
    """fn() run once, after seconds, in a thread: get() waits for its value."""

    def __init__(self, seconds, fn):
        self.value = None
        self.t = threading.Timer(seconds, self._run, [fn])
        self.t.start()

    def _run(self, fn):
        self.value = fn()

    def get(self):
        self.t.join()
        return self.value if self.value is not None else (0, 0, 0)


def part_conns():
    n, c = N_CONN_LOCKERS, N_CONNS
    say("conns: %d kept connections over %d lockers" % (c, n))
    scratch = tempfile.mkdtemp(prefix="lockerd-scale-wrk.", dir="/tmp")
    _scratch.append(scratch)
    page = b"x" * 1023 + b"\n"
    ld = Lockerd("max-connections %d" % c)
    ld.start()
    names = ["k%d" % i for i in range(n)]
    for nm in names:
        ld.signup(nm)
        ld.put(nm, {"index.html": page})
    for nm in names:
        st, body = get(ld.port, ld.host(nm))
        if st != 200 or body != page:
            die("lockerd: GET / of %s gave %d" % (nm, st))
    lmem = during(CONN_SECONDS / 2, lambda: memory(ld.fronts()))
    lr = wrk(ld.port, [ld.host(nm) for nm in names], "/index.html", c, CONN_SECONDS, scratch)
    ld.stop()
    fp = FpmNginx(n)
    for i in range(n):
        with open(os.path.join(fp.dir, "www", fp.users[i], "index.html"), "wb") as f:
            f.write(page)
    fp.start()
    nmem = during(CONN_SECONDS / 2, lambda: memory(tree(fp.nginx.pid)[1:]))
    nr = wrk(fp.port, [fp.host(i) for i in range(n)], "/index.html", c, CONN_SECONDS, scratch)
    fp.stop()
    result("conns", "%d connections: req/s" % c, lr[0], nr[0])
    result("conns", "%d connections: p50" % c, lr[1], nr[1], unit="ms")
    result("conns", "%d connections: p99" % c, lr[2], nr[2], unit="ms", target="<= nginx")
    result("conns", "%d connections: errors" % c, lr[3], nr[3])
    # What the connections cost: lockerd's fronts against nginx's workers,
    # half way through the run (every connection open).
    result("conns", "%d connections: RSS of fronts / nginx workers" % c,
           mib(lmem.get()[1]), mib(nmem.get()[1]), unit="MiB")
    result("conns", "%d connections: PSS of fronts / nginx workers" % c,
           mib(lmem.get()[2]), mib(nmem.get()[2]), unit="MiB")


# ------------------------------------------------------------ part: apps

WARM_SIDES = (ENV("SCALE_WARM_SIDES") or "lockerd fpm").split()


def part_apps():
    """bench/apps.py (also make bench's apps case), run as a program of its
    own: it has its own uids and users, and prints its own table."""
    r = subprocess.run([sys.executable, os.path.join(HERE, "apps.py"), BUILD])
    if r.returncode != 0:
        die("bench/apps.py failed")


# ------------------------------------------------------------ report

def report():
    print()
    print("lockerd at scale (bench/scale.sh): %d CPUs shared by the load and the servers"
          % os.cpu_count())
    print()
    print("%-6s %-46s %16s %16s %-6s %s" % ("part", "figure", "lockerd", "other", "unit",
                                             "target"))
    print("%-6s %-46s %16s %16s %-6s %s" % ("-" * 6, "-" * 46, "-" * 16, "-" * 16, "-" * 6,
                                             "-" * 6))
    for part, what, a, b, unit, target in RESULTS:
        print("%-6s %-46s %16s %16s %-6s %s" % (part, what, fmt(a), fmt(b), unit, target))
    ratios = []
    for part, what, a, b, unit, target in RESULTS:
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b and a != "":
            ratios.append("  %-54s %8.2fx   %s" % ("%s, %s" % (part, what), a / b, target))
    if ratios:
        print("\nratios (lockerd / other; for ms and MiB lower is better):")
        print("\n".join(ratios))
    for n in NOTES:
        print("note:", n)


def main():
    if os.geteuid() != 0:
        die("run as root")
    for f in ("lockerd", "locker"):
        if not os.access(os.path.join(BUILD, f), os.X_OK):
            die("%s/%s is missing: make all" % (BUILD, f))
    todo = {"dir": part_dir, "cold": part_cold, "warm": part_warm, "conns": part_conns,
            "apps": part_apps}
    for p in PARTS:
        if p not in todo:
            die("unknown part %s (dir, cold, warm, conns, apps)" % p)
    for p in PARTS:
        todo[p]()
    report()


if __name__ == "__main__":
    main()
