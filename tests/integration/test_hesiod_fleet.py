"""Hesiod in a fleet (issue 18): two lockerds sharing one PostgreSQL (pg.py)
and one knotd; only the holder of the `hesiod` lease runs the role, a
signup on either node is published by it, and when it stops (SIGTERM: the
lease given up) the other node takes the lease and publishes."""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import pg
from conftest import Lockerd, TEST_BASE, wait_for
from knot import Knot

ZONE = "fleet.athena.test"


def _loopback():
    return f"127.{random.randint(10, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"


def node_conf(d, node, lockers, low, conninfo, k):
    d.write_conf(
        f"listen 127.0.0.1:{d.plain_port}\n"
        f"domain {d.domain}\n"
        f"hostname scripts.{d.domain}\n"
        f"lockers {lockers}\n"
        f"state {d.dir}/state\n"
        f"logs {d.dir}/logs\n"
        f"tls-dir {d.dir}/state/tls\n"
        f"uid-range {low}-{low + 99}\n"
        f"front-processes 1\n"
        f"shutdown-timeout 5\n"
        f"node {node}\n"
        f"directory postgres {conninfo}\n"
        f"directory-timeout 2s\n"
        f"hesiod-server {k.address}\n"
        f"hesiod-zone {ZONE}\n"
        f"hesiod-key {k.key_name} hmac-sha256 {k.secret_file}\n"
        f"hesiod-retry 1s\n")


@pytest.fixture(scope="module")
def fleet(build_dir):
    os.makedirs(TEST_BASE, exist_ok=True)
    base = tempfile.mkdtemp(prefix="hesfleet", dir=TEST_BASE)
    os.chmod(base, 0o755)
    p = pg.primary(os.path.join(base, "pg"))
    ci = pg.write_conninfo(os.path.join(base, "fleet.conninfo"), p)
    k = Knot(os.path.join(base, "knot"), zone=ZONE, host=_loopback(), port=53, transfer=True)
    k.start()
    lockers = os.path.join(base, "lockers")
    low = 600000 + (os.getpid() % 100) * 1000
    tag = f"{os.getpid() % 1000}"
    a, b = Lockerd(build_dir), Lockerd(build_dir)
    node_conf(a, f"hesa{tag}", lockers, low, ci, k)
    node_conf(b, f"hesb{tag}", lockers, low, ci, k)
    try:
        a.start()
        b.start()
        for d in (a, b):
            assert wait_for(lambda: "PostgreSQL is reachable" in d.log(), within=60), \
                d.log()[-3000:]
        yield {"a": a, "b": b, "pg": p, "knot": k}
    finally:
        a.cleanup()
        b.cleanup()
        k.stop()
        p.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def publishers(nodes):
    return [d for d in nodes if d.proc is not None and d.pids("hesiod")]


def signed_up_and_published(on, k, prefix):
    name = f"{prefix}{os.getpid() % 1000}{random.randint(100, 999)}"
    r = on.locker("signup", name, check=False)
    assert r.returncode == 0, r.stderr + on.log()[-3000:]
    assert wait_for(lambda: k.dig(f"{name}.filsys.ns.{ZONE}", "TXT"), within=30), name
    return name


def test_one_node_publishes_a_signup_on_either(fleet):
    a, b, k, p = fleet["a"], fleet["b"], fleet["knot"], fleet["pg"]
    assert wait_for(lambda: len(publishers((a, b))) == 1, within=40), (a.log()[-2000:],
                                                                       b.log()[-2000:])
    holder = publishers((a, b))[0]
    other = b if holder is a else a
    time.sleep(1)       # a second role would have started by now: still one
    assert publishers((a, b)) == [holder]
    rows = p.sql("SELECT holder FROM leases WHERE what = 'hesiod'")
    assert len(rows) == 1 and rows[0][0].startswith("hesa" if holder is a else "hesb")
    ex = json.loads(other.locker("--json", "export", "hesiod").stdout)
    assert ex["state"] == "elsewhere" and rows[0][0] in ex["why"], ex
    assert other.locker("export", "hesiod", "--sync", check=False).returncode == 1
    signed_up_and_published(other, k, "hfo")   # through the feed, by the holder
    assert wait_for(lambda: json.loads(holder.locker("--json", "export", "hesiod").stdout)
                    ["state"] == "ok", within=20)
    signed_up_and_published(holder, k, "hfh")


def test_the_other_node_takes_over_when_the_holder_stops(fleet):
    a, b, k = fleet["a"], fleet["b"], fleet["knot"]
    assert wait_for(lambda: len(publishers((a, b))) == 1, within=40)
    holder = publishers((a, b))[0]
    other = b if holder is a else a
    holder.stop(signal.SIGTERM)     # a graceful stop gives the lease up
    assert wait_for(lambda: publishers((other,)), within=40), other.log()[-3000:]
    signed_up_and_published(other, k, "hft")
