"""bench/fleet.py BUILD_DIR: a fleet of lockerd nodes behind HAProxy
(issue 18), on this one machine: tests/integration/fleet.py's harness (each
node in its own network and cgroup namespace, one shared lockers root,
HAProxy in TCP mode in front).

Printed, never asserted (the script fails only when something does not
start or answers wrongly):
  - requests/s through HAProxy with one, two and three nodes in the
    backend (the others put in maintenance through HAProxy's admin
    socket), for a 1 KiB static file and hello.php, as ratios to one node,
    and one node straight (no HAProxy) as the proxy's own cost;
  - what a node costs at rest and after the load: the resident memory of
    its processes (its own cgroup's);
  - with the fleet directory (`directory postgres`, once lockerd has it):
    the directory's write rate (signups/s on one node, and on three at
    once) and the NOTIFY fan-out delay (a signup on A until C serves the
    new locker's host), p50 and max.

On this machine the nodes share its 2 cores with HAProxy and wrk, so the
1/2/3-node ratios say what the fleet costs, not what three machines give:
bench/README.md ("Fleet") puts the figures on paper for a 10-node fleet.

Knobs: FLEET_SECONDS (each wrk run, default 8), FLEET_CONNS (32),
FLEET_ROUNDS (rounds of every shape in turn, the median kept; 3),
FLEET_SIGNUPS (signups timed, default 30), FLEET_FANOUT (fan-out samples,
default 10).
"""
import os
import re
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import fleet as F                                     # noqa: E402 - after the path

ENV = os.environ.get
SECONDS = int(ENV("FLEET_SECONDS", "8"))
CONNS = int(ENV("FLEET_CONNS", "32"))
SIGNUPS = int(ENV("FLEET_SIGNUPS", "30"))
ROUNDS = int(ENV("FLEET_ROUNDS", "3"))
FANOUT = int(ENV("FLEET_FANOUT", "10"))
HOST = "bench.fleet.example"
ONE_K = (b"x" * 1023) + b"\n"
HELLO_PHP = b'<?php echo "hello\\n";\n'


def say(*a):
    print(*a, flush=True)


def wrk(url, seconds=SECONDS, conns=CONNS):
    """(req/s, p99 ms, errors) of wrk with the bench host."""
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s",
           "-H", f"Host: {HOST}", url]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if not rps:
        sys.stderr.write(out)
        raise SystemExit("bench-fleet: wrk gave no figures")
    ms = 0.0
    if p99:
        ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errs = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return float(rps.group(1)), ms, errs


def check(get, path, want):
    s, _, b = get(path, HOST)
    if (s, b) != (200, want):
        raise SystemExit(f"bench-fleet: {path}: {s} {b[:80]!r}")


def node_rss_kib(node):
    """Resident memory of every process in the node's cgroup (kB)."""
    d = node.cg.dirs.get("unified")
    total = 0
    for sub, _, _ in os.walk(d):
        try:
            with open(os.path.join(sub, "cgroup.procs")) as f:
                pids = f.read().split()
        except OSError:
            continue
        for p in pids:
            try:
                with open(f"/proc/{p}/status") as f:
                    m = re.search(r"VmRSS:\s+(\d+)", f.read())
                total += int(m.group(1)) if m else 0
            except OSError:
                pass
    return total


def set_nodes(fl, k):
    """The first k nodes in HAProxy's backend, the others in maintenance."""
    names = list(fl.nodes)
    for i, n in enumerate(names):
        fl.proxy.admin(f"{'enable' if i < k else 'disable'} server nodes/{n}")
    for i, n in enumerate(names):
        want = "UP" if i < k else "MAINT"
        if not fl.proxy.wait_state(n, want, 60):
            raise SystemExit(f"bench-fleet: HAProxy: {n} not {want}: {fl.proxy.states()}")


def throughput(fl):
    say(f"== requests/s through HAProxy (wrk -t2 -c{CONNS} -d{SECONDS}s, median of "
        f"{ROUNDS}), ratio to one node")
    rows = {}
    a = fl["a"]
    for path in ("/1k.txt", "/hello.php"):
        # warm every node's worker and PHP pool first
        for n in fl.nodes.values():
            wrk(f"http://{n.addr}:{n.direct_port}{path}", seconds=2)
        runs = {}
        # Rounds of every shape in turn, the median kept: the machine is
        # shared, and its load swings within a minute.
        for _ in range(ROUNDS):
            runs.setdefault("direct", []).append(wrk(f"http://{a.addr}:{a.direct_port}{path}"))
            for k in (1, 2, 3):
                set_nodes(fl, k)
                runs.setdefault(k, []).append(wrk(f"http://127.0.0.1:{fl.port}{path}"))
            set_nodes(fl, 3)
        for key, rs in runs.items():
            rows[(path, key)] = sorted(rs)[len(rs) // 2]
        direct = rows[(path, "direct")]
        one = rows[(path, 1)][0]
        say(f"{path:12s} one node straight {direct[0]:9.0f}/s ({direct[0] / one:.2f}x HAProxy+1)")
        for k in (1, 2, 3):
            r = rows[(path, k)]
            say(f"{path:12s} {k} node(s)         {r[0]:9.0f}/s  {r[0] / one:.2f}x  "
                f"p99 {r[1]:.1f} ms  errors {r[2]}")
    return rows


def signup_rate(fl, prefix):
    """Signups/s on node A alone, then on A, B and C at once."""
    say(f"== the directory's write rate ({SIGNUPS} signups)")
    t0 = time.monotonic()
    for i in range(SIGNUPS):
        fl["a"].locker("signup", f"{prefix}a{i}")
    one = SIGNUPS / (time.monotonic() - t0)
    errs = []

    def on(node, names):
        for nm in names:
            r = node.locker("signup", nm, check=False)
            if r.returncode != 0:
                errs.append(r.stderr.strip())
    per = max(1, SIGNUPS // 3)
    ts = [threading.Thread(target=on, args=(n, [f"{prefix}{n.name}x{i}" for i in range(per)]))
          for n in fl.nodes.values()]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    three = per * 3 / (time.monotonic() - t0)
    say(f"signups/s on one node: {one:.1f}; on three at once: {three:.1f} "
        f"({three / one:.2f}x); refused: {len(errs)} {errs[:2]}")
    return one, three


def fanout(fl, prefix):
    """A signup on A until C serves its host (not the unknown-host answer)."""
    say(f"== NOTIFY fan-out: a signup on A until C serves it ({FANOUT} samples)")
    c = fl["c"]
    unknown = c.get("/", f"nosuch{prefix}.fleet.example")[0]
    delays = []
    for i in range(FANOUT):
        name = f"{prefix}f{i}"
        t0 = time.monotonic()
        fl["a"].locker("signup", name)
        t1 = time.monotonic()
        while c.get("/", f"{name}.fleet.example")[0] == unknown:
            if time.monotonic() - t1 > 30:
                raise SystemExit(f"bench-fleet: {name} not on C within 30 s")
            time.sleep(0.005)
        delays.append((time.monotonic() - t1) * 1000)
        del t0
    say(f"after the signup returned on A, C served it within p50 "
        f"{statistics.median(delays):.0f} ms, max {max(delays):.0f} ms")
    return delays


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    build = os.path.abspath(build)
    fleet_dir = F.features()["directory"] and os.path.exists(
        os.path.join(build, "lockerd-dirsync"))
    fl = F.Fleet(build, extra="max-scripts 64\n", pg=fleet_dir)
    try:
        fl.start()
        say(f"fleet: 3 nodes on 10.{fl.net.n}.0.2-4, HAProxy on 127.0.0.1:{fl.port}, "
            f"directory {'postgres (primary + standby)' if fl.pg else 'sqlite per node'}; "
            f"load {os.getloadavg()[0]:.1f}")
        fl.signup("bench")
        a = fl["a"]
        a.put("bench", "1k.txt", ONE_K)
        a.put("bench", "hello.php", HELLO_PHP)
        rest = {n: node_rss_kib(node) for n, node in fl.nodes.items()}
        for n in fl.nodes.values():
            check(n.get, "/1k.txt", ONE_K)
            check(n.get, "/hello.php", b"hello\n")
        throughput(fl)
        for n in fl.nodes.values():
            check(n.get, "/1k.txt", ONE_K)
            check(n.get, "/hello.php", b"hello\n")
        busy = {n: node_rss_kib(node) for n, node in fl.nodes.items()}
        say("== what a node costs: resident memory of its processes, MiB (at rest, "
            "after the load)")
        for n in fl.nodes:
            say(f"node {n.upper()}: {rest[n] / 1024:.1f}, {busy[n] / 1024:.1f}")
        if fl.pg:
            signup_rate(fl, "bs")
            fanout(fl, "bs")
        else:
            say("== the directory's write rate and fan-out: not measured (no fleet "
                "directory in this build: each node has its own SQLite)")
        say(f"load at the end {os.getloadavg()[0]:.1f}")
    finally:
        fl.close()


if __name__ == "__main__":
    main()
