"""bench/h2.py BUILD_DIR: HTTP/2 (issue 17), lockerd against nginx, with
h2load (Debian's nghttp2-client).

Both servers get a TLS listener with the same ECDSA P-256 certificate
(made here with openssl for the name `localhost`), TLS 1.3 only, and the
same files: nginx (`listen ... ssl http2`, Debian's defaults that matter,
access log on) with php-fpm (one ondemand pool as a throw-away user,
pm.max_children = lockerd's php-max-processes), and lockerd with a locker
`bench` served at https://localhost:PORT/~bench/ (the service host), its
hello.php run by the locker's own PHP pool.  Both are up at once and are
measured in turns (H2_ROUNDS rounds, the median run kept), each run after
a warm-up of the same load unmeasured.

Shapes (H2_SHAPES):
  1k-4x25   the 1 KiB file, 4 connections of 25 concurrent streams each
  1k-1x100  the 1 KiB file, 1 connection of 100 concurrent streams
  php-4x25  hello.php, 4 connections of 25 streams
  1k-h1     the 1 KiB file over HTTPS/1.1 (h2load --h1), 100 connections
            of one request at a time: the same 100 requests in flight, the
            HTTP/1.1 reference for what HTTP/2 costs or saves on each side

Each URL is checked before and after its runs with curl: status 200, the
exact body, and the protocol (HTTP/2, or 1.1 for the h1 shape).  A server
whose TLS does not negotiate h2 (lockerd before issue 17) has its h2 rows
reported as not measured, not as a failure.  Figures are printed, never
asserted: the script fails only when a server does not start or answers
wrongly.  H2_HOLD=FILE keeps both up after the checks until FILE is
removed (for perf on front).  See bench/README.md.
"""
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

# Uids and users of this bench's own (scale.py's clean-up kills every
# process in its range and removes its users): apart from apps.py's and
# apps_db.py's.
os.environ.setdefault("SCALE_UIDS", "354000-354999")
os.environ.setdefault("SCALE_FPM_UID", "355000")
os.environ.setdefault("SCALE_USER_PREFIX", "lkh2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scale as S                                     # noqa: E402 - after the path

ENV = os.environ.get
SECONDS = int(ENV("H2_SECONDS", ENV("BENCH_SECONDS", "10")))
WARMUP = int(ENV("H2_WARMUP_SECONDS", ENV("BENCH_WARMUP_SECONDS", "2")))
ROUNDS = int(ENV("H2_ROUNDS", "1"))
PHP_CHILDREN = int(ENV("BENCH_PHP_PROCESSES", "5"))
WHICH = (ENV("H2_SHAPES") or "1k-4x25 1k-1x100 php-4x25 1k-h1").split()
# Requests on one connection, both servers (h2load does not reconnect).
KEEPALIVE = 1000000
HELLO_PHP = b'<?php echo "hello\\n";\n'

# shape: (label, file, connections, streams per connection, HTTP/1.1)
SHAPES = {
    "1k-4x25": ("1 KiB, 4 conns x 25 streams", "1k.html", 4, 25, False),
    "1k-1x100": ("1 KiB, 1 conn x 100 streams", "1k.html", 1, 100, False),
    "php-4x25": ("hello.php, 4 conns x 25 streams", "hello.php", 4, 25, False),
    "1k-h1": ("1 KiB, HTTPS/1.1, 100 conns", "1k.html", 100, 1, True),
}


def make_files(d):
    """The 1 KiB page (printable, exactly 1024 bytes), hello.php, and the
    certificate both servers use."""
    os.makedirs(os.path.join(d, "tls"))
    with open("/dev/urandom", "rb") as f:
        page = subprocess.run(["base64", "-w", "76"], input=f.read(2000), check=True,
                              capture_output=True).stdout[:1024]
    files = {"1k.html": page, "hello.php": HELLO_PHP}
    key, cert = os.path.join(d, "tls", "key.pem"), os.path.join(d, "tls", "cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert],
                       capture_output=True, text=True)
    if r.returncode != 0:
        S.die("cannot make the bench's certificate: %s" % r.stderr[-1000:])
    os.chmod(cert, 0o644)
    os.chmod(key, 0o600)
    return files, cert, key


class Sides:
    """nginx + php-fpm and lockerd, both up, each with a TLS port."""

    def setup(self):
        self.scratch = tempfile.mkdtemp(prefix="lockerd-h2bench.", dir="/tmp")
        S._scratch.append(self.scratch)
        os.chmod(self.scratch, 0o755)
        self.files, self.cert, key = make_files(self.scratch)
        self.expect = {}
        for name, data in self.files.items():
            self.expect[name] = os.path.join(self.scratch, "expect-" + name)
            with open(self.expect[name], "wb") as f:
                f.write(b"hello\n" if name == "hello.php" else data)
        self.nginx_up(key)
        self.lockerd_up(key)

    def nginx_up(self, key):
        fp = self.fp = S.FpmNginx(0, max_children=PHP_CHILDREN)
        user = "%s0" % S.USER_PREFIX
        S.make_users([user])
        root = os.path.join(fp.dir, "www")
        os.makedirs(root)
        os.chmod(root, 0o755)
        pw = pwd.getpwnam(user)
        for name, data in self.files.items():
            p = os.path.join(root, name)
            with open(p, "wb") as f:
                f.write(data)
            os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(p, 0o644)
        fp.add_sites([(user, "plain.h2.test", root)])
        self.nport = S.free_port()
        # The TLS server, as run.sh's https case has it, and HTTP/2.
        # h2load never opens a connection again once the server ends it
        # (nginx after keepalive_requests, 1000, HTTP/2 streams included):
        # both servers' limit is raised to the most lockerd takes.
        fp.ngx_conf.append(
            "server { listen 127.0.0.1:%d ssl http2; server_name localhost; root %s;\n"
            " ssl_certificate %s; ssl_certificate_key %s; ssl_protocols TLSv1.3;\n"
            " keepalive_requests %d;\n"
            " location ~ \\.php$ { include /etc/nginx/fastcgi.conf;"
            " fastcgi_pass unix:%s/%s.sock; } }\n"
            % (self.nport, root, self.cert, key, KEEPALIVE, fp.dir, user))
        fp.write_conf()
        fp.start()
        S.wait_port(self.nport, fp.nginx, "nginx", os.path.join(fp.dir, "error.log"))

    def lockerd_up(self, key):
        self.lport = S.free_port()
        # 100 streams of hello.php at once are 100 scripts of one locker:
        # max-scripts above that, so that none is a 503.
        self.ld = ld = S.Lockerd(
            "listen 127.0.0.1:%d tls\nhostname localhost\ncertificate localhost %s %s\n"
            "tls-protocols TLSv1.3\nphp-max-processes %d\nmax-scripts 256\n"
            "keepalive-requests %d\n" % (self.lport, self.cert, key, PHP_CHILDREN, KEEPALIVE))
        ld.start()
        S.wait_port(self.lport, ld.proc, "lockerd", ld.log)
        ld.signup("bench")
        ld.put("bench", self.files)

    def roots(self, server):
        """The processes whose CPU a server's runs are charged."""
        if server.startswith("lockerd"):
            return [self.ld.proc.pid]
        return [self.fp.nginx.pid, self.fp.fpm.pid]

    def sides(self, shape):
        """((server, URL), ...) for a shape: lockerd's locker under /~bench/."""
        f = SHAPES[shape][1]
        peer = "nginx+fpm" if f.endswith(".php") else "nginx"
        tag = "-h1" if SHAPES[shape][4] else "-h2"
        return (("lockerd" + tag, self.lport, "/~bench/" + f),
                (peer + tag, self.nport, "/" + f))


def curl(port, path, h1):
    """(status, HTTP version, body) by curl over TLS against our certificate."""
    out = tempfile.NamedTemporaryFile(prefix="lockerd-h2bench-body.", dir="/tmp", delete=False)
    out.close()
    try:
        r = subprocess.run(["curl", "-s", "--max-time", "30", "--http1.1" if h1 else "--http2",
                            "--cacert", SIDES.cert, "--resolve", "localhost:%d:127.0.0.1" % port,
                            "-o", out.name, "-w", "%{http_code} %{http_version}",
                            "https://localhost:%d%s" % (port, path)],
                           capture_output=True, text=True)
        with open(out.name, "rb") as f:
            body = f.read()
    finally:
        os.unlink(out.name)
    st, ver = (r.stdout.split() + ["0", "?"])[:2]
    return int(st or 0), ver, body


def check(shape, server, port, path, when):
    """The answer is the file, 200; the protocol: False when a server does
    not speak HTTP/2 (then its h2 rows are not measured)."""
    h1 = SHAPES[shape][4]
    st, ver, body = curl(port, path, h1)
    with open(SIDES.expect[SHAPES[shape][1]], "rb") as f:
        want = f.read()
    if not h1 and st == 200 and ver != "2":
        return False
    if st != 200 or body != want or ver != ("1.1" if h1 else "2"):
        S.die("%s: GET https://localhost:%d%s %s gave %d over HTTP/%s, %d bytes: %r"
              % (server, port, path, when, st, ver, len(body), body[:300]))
    return True


def h2load(port, path, conns, streams, h1, log):
    """One h2load run (its connections made and loaded for WARMUP s first,
    unmeasured): its figures, or None when it negotiated no h2."""
    cmd = ["h2load", "-t", str(min(2, conns)), "-c", str(conns), "-m", str(streams),
           "-D", str(SECONDS), "--warm-up-time", str(max(1, WARMUP)), "--log-file", log,
           "--connect-to", "127.0.0.1:%d" % port, "https://localhost:%d%s" % (port, path)]
    if h1:
        cmd.insert(1, "--h1")
    r = subprocess.run(cmd, capture_output=True, text=True)
    out = r.stdout
    if "No protocol negotiated" in out + r.stderr or ("h2" not in re.findall(
            r"Application protocol: (\S+)", out) and not h1):
        return None
    rps = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    req = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                    r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if not (rps and req and codes) or r.returncode != 0:
        sys.stderr.write(out + r.stderr)
        S.die("h2load gave no figures (exit %d)" % r.returncode)
    cipher = re.search(r"Cipher: (\S+)", out)
    return {"rps": float(rps.group(1)), "done": int(req.group(2)),
            "bad": int(codes.group(3)) + int(codes.group(4)),
            "errs": int(req.group(5)) + int(req.group(6)),
            "cipher": cipher.group(1) if cipher else "?"}


def latencies(log):
    """p50 and p99 in ms from h2load's per-request log (3rd column: µs to the
    end of the response)."""
    us = []
    with open(log) as f:
        for line in f:
            p = line.split("\t")
            if len(p) >= 3:
                us.append(int(p[2]))
    return S.pct(us, 0.50) / 1000, S.pct(us, 0.99) / 1000, len(us)


def cpu_snapshot(roots):
    """{pid: (CPU ticks, its reaped children's included; command line)} of
    every process under roots."""
    out = {}
    for root in roots:
        for pid in S.tree(root):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    r = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[pid] = (sum(int(x) for x in r[11:15]), S.comm_args(pid))
    return out


def cpu_use(a, b):
    """CPU seconds of a server between two snapshots, and the shares (%,
    largest first) of its processes that serve connections: lockerd's
    fronts, nginx's workers.  With 1 or 4 connections, how the kernel
    spread them over 2 processes (SO_REUSEPORT for lockerd, nginx's
    accepts) decides how many CPUs a side can use: the shares say it."""
    ticks, serving = 0, []
    for pid, (t, cmd) in b.items():
        d = t - a.get(pid, (0, ""))[0]
        ticks += d
        if " -R front" in cmd or "nginx: worker process" in cmd:
            serving.append(d)
    whole = sum(serving) or 1
    return (ticks / os.sysconf("SC_CLK_TCK"),
            "/".join("%d" % round(100 * d / whole) for d in sorted(serving, reverse=True)))


def run_one(shape, server, port, path):
    _, _, conns, streams, h1 = SHAPES[shape]
    log = os.path.join(SIDES.scratch, "h2load.log")
    roots = SIDES.roots(server)
    a, t0 = cpu_snapshot(roots), time.monotonic()
    r = h2load(port, path, conns, streams, h1, log)
    wall, b = time.monotonic() - t0, cpu_snapshot(roots)
    if r is None:
        return None
    r["p50"], r["p99"], _ = latencies(log)
    os.unlink(log)
    # Over the whole run, warm-up included, at the measured rate.
    cpu, r["spread"] = cpu_use(a, b)
    r["cpu_us"] = cpu * 1e6 / max(1.0, r["rps"] * wall)
    S.say("h2: %-13s %-9s %10.0f req/s  p50 %.2f ms  p99 %.2f ms  non-2xx %d  errors %d"
          "  CPU %.0f us/req (serving processes %s %%)"
          % (server, shape, r["rps"], r["p50"], r["p99"], r["bad"], r["errs"], r["cpu_us"],
             r["spread"]))
    return r


def measure():
    """[(shape, {server: run or None})], each the median of ROUNDS."""
    rows = []
    for shape in WHICH:
        ours, theirs = SIDES.sides(shape)
        speaks = {}
        for server, port, path in (ours, theirs):
            speaks[server] = check(shape, server, port, path, "before its runs")
            if not speaks[server]:
                S.note("h2: %s negotiates no HTTP/2 (ALPN): its %s rows not measured"
                       % (server, shape))
        runs = {ours[0]: [], theirs[0]: []}
        for _ in range(ROUNDS):
            for server, port, path in (theirs, ours):
                if speaks[server]:
                    r = run_one(shape, server, port, path)
                    if r is not None:
                        runs[server].append(r)
        for server, port, path in (ours, theirs):
            if speaks[server]:
                check(shape, server, port, path, "after its runs")
        rows.append((shape, {s: (sorted(v, key=lambda r: r["rps"])[len(v) // 2] if v else None)
                             for s, v in runs.items()}))
    return rows


def report(rows, tsv=None):
    """The table (bench/run.sh's columns), the ratios, the notes; and the
    rows for run.sh's table when it runs this (H2_RESULTS)."""
    ciphers, lines, ratios = set(), [], []
    for shape, by in rows:
        (ours, _, _), (theirs, _, _) = SIDES.sides(shape)
        for who in (theirs, ours):
            r = by[who]
            if r is None:
                lines.append("%-13s %-9s %12s" % (who, shape, "not measured"))
                continue
            lines.append("%-13s %-9s %12.0f %9.2f %9.2f %8d %7d %8.0f %s"
                         % (who, shape, r["rps"], r["p50"], r["p99"], r["bad"], r["errs"],
                            r["cpu_us"], r["spread"]))
            ciphers.add(r["cipher"])
            if r["bad"] or r["errs"]:
                S.note("h2 %s: %s had %d non-2xx answers and %d errored or timed-out requests"
                       % (shape, who, r["bad"], r["errs"]))
        a, b = by[ours], by[theirs]
        label = "%s / %s, %s" % (ours, theirs, SHAPES[shape][0])
        if a or b:
            S.note("h2 %s: CPU per request (the servers' processes, PHP's included) %s;"
                   " their connections' processes' shares of it (fronts, nginx workers) %s"
                   % (shape, ", ".join("%s %.0f us" % (w, r["cpu_us"]) for w, r in
                                       ((ours, a), (theirs, b)) if r),
                      ", ".join("%s %s %%" % (w, r["spread"]) for w, r in
                                ((ours, a), (theirs, b)) if r)))
        if a and b:
            ratios.append("  %-58s %6.2fx   (target >= 1.0x; p50 %.2fx, p99 %.2fx, CPU/req %.2fx)"
                          % (label, a["rps"] / b["rps"], a["p50"] / b["p50"], a["p99"] / b["p99"],
                             a["cpu_us"] / b["cpu_us"]))
        else:
            ratios.append("  %-58s    n/a (not measured)" % label)
    S.note("h2: h2load -D %d s after %d s unmeasured on the same connections, %d round(s)"
           " in turns, the median kept; TLS 1.3 (%s), one ECDSA P-256 certificate;"
           " %d PHP processes a pool at most; load average before: %s"
           % (SECONDS, WARMUP, ROUNDS, ", ".join(sorted(ciphers)) or "?", PHP_CHILDREN, LOAD0))
    if tsv:
        # bench/run.sh's rows: server, case, req/s, p50, p99, non-2xx, errors, requests
        with open(tsv, "a") as f:
            for shape, by in rows:
                for who, r in by.items():
                    if r:
                        f.write("%s\t%s\t%s\t%.3f\t%.3f\t%d\t%d\t%d\n"
                                % (who, shape, r["rps"], r["p50"], r["p99"], r["bad"], r["errs"],
                                   r["done"]))
    print("\nlockerd HTTP/2 benchmark (bench/h2.py): h2load over TLS 1.3, 127.0.0.1, %d CPUs"
          " shared by h2load and the servers\n" % os.cpu_count())
    print("%-13s %-9s %12s %9s %9s %8s %7s %8s %s" % ("server", "shape", "req/s", "p50 ms",
                                                      "p99 ms", "non-2xx", "errors", "CPU us",
                                                      "spread %"))
    print("%-13s %-9s %12s %9s %9s %8s %7s %8s %s" % ("-" * 13, "-" * 9, "-" * 12, "-" * 9,
                                                      "-" * 9, "-" * 8, "-" * 7, "-" * 8,
                                                      "-" * 8))
    print("\n".join(lines))
    print("\nratios (req/s; latency ratios: lower is better):")
    print("\n".join(ratios))
    for n in S.NOTES:
        print("note:", n)


def hold(path):
    S.say("h2: holding: lockerd https://localhost:%d/~bench/ (pid %d), nginx"
          " https://localhost:%d/ (pid %d); rm %s to go on"
          % (SIDES.lport, SIDES.ld.proc.pid, SIDES.nport, SIDES.fp.nginx.pid, path))
    with open(path, "w") as f:
        f.write("lockerd %d %d\nnginx %d %d\n" % (SIDES.lport, SIDES.ld.proc.pid, SIDES.nport,
                                                  SIDES.fp.nginx.pid))
    while os.path.exists(path):
        time.sleep(1)


SIDES = Sides()
LOAD0 = ""


def main():
    global LOAD0
    if os.geteuid() != 0:
        S.die("run as root")
    for prog, pkg in (("h2load", "nghttp2-client"), ("openssl", "openssl"), ("nginx", "nginx"),
                      ("curl", "curl")):
        if not shutil.which(prog):
            S.die("%s not found: apt-get install -y %s (make deps-bench)" % (prog, pkg))
    for f in ("lockerd", "locker"):
        if not os.access(os.path.join(S.BUILD, f), os.X_OK):
            S.die("%s/%s is missing: make all" % (S.BUILD, f))
    bad = [s for s in WHICH if s not in SHAPES]
    if bad:
        S.die("unknown H2_SHAPES %s (%s)" % (" ".join(bad), " ".join(SHAPES)))
    with open("/proc/loadavg") as f:
        LOAD0 = " ".join(f.read().split()[:3])
    S.say("h2: %s; lockerd against nginx over TLS 1.3, h2load" % " ".join(WHICH))
    SIDES.setup()
    if ENV("H2_HOLD"):
        for shape in WHICH:
            for server, port, path in SIDES.sides(shape):
                check(shape, server, port, path, "before holding")
        hold(ENV("H2_HOLD"))
    rows = measure()
    SIDES.ld.stop()
    SIDES.fp.stop()
    report(rows, ENV("H2_RESULTS"))


if __name__ == "__main__":
    main()
