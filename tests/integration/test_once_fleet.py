"""Cron on the `cron` lease with two lockerds sharing one PostgreSQL (issue
18): jobs run on one node only, and the other takes over within the lease's
TTL (one cron minute, at least 3 s: cron-minute 1s here) when the holder's
master is killed."""
import os
import subprocess
import tempfile

import pytest

import pg
from conftest import wait_for
from test_dirsync import fleet, fleet_conf, fleet_up  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not pg.available(), reason="PostgreSQL 15 is not installed")


@pytest.fixture(scope="module")
def ab(fleet, build_dir):  # noqa: F811
    from conftest import Lockerd, TEST_BASE
    os.makedirs(TEST_BASE, exist_ok=True)
    shared = tempfile.mkdtemp(prefix="oncefleet", dir=TEST_BASE)
    os.chmod(shared, 0o755)
    lockers = os.path.join(shared, "lockers")
    low = 600000 + (os.getpid() % 100) * 1000
    a, b = Lockerd(build_dir), Lockerd(build_dir)
    for d, node in ((a, "oncenode-a"), (b, "oncenode-b")):
        fleet_conf(d, node, lockers, low, fleet["conninfo"])
        with open(d.conf) as f:
            d.write_conf(f.read() + "cron-minute 1s\n")
    try:
        a.start()
        fleet_up(a)
        b.start()
        fleet_up(b)
        yield a, b, fleet["pg"]
    finally:
        a.cleanup()
        b.cleanup()
        subprocess.run(["rm", "-rf", shared])


def runs(d, name):
    try:
        with open(os.path.join(d.logs, "lockers", name, "cron.log"), errors="replace") as f:
            return f.read().count("job 1: exit status 0")
    except FileNotFoundError:
        return 0


def test_cron_runs_on_the_lease_holder_only_and_moves_when_it_dies(ab):
    a, b, p = ab
    a.locker("signup", "oncecron")
    assert wait_for(lambda: b.locker("info", "oncecron", "--json", check=False).returncode == 0,
                    within=15), b.log()[-2000:]
    info = a.info("oncecron")
    path = os.path.join(info["home"], "cron_scripts", "crontab")
    with open(path + ".new", "w") as f:
        f.write("* * * * * echo ran\n")
    os.chown(path + ".new", info["uid"], info["gid"])
    os.rename(path + ".new", path)
    assert wait_for(lambda: p.sql("SELECT holder FROM leases WHERE what = 'cron'"), within=30), \
        a.log()[-3000:] + b.log()[-3000:]
    holder = p.sql("SELECT holder FROM leases WHERE what = 'cron'")
    assert holder and holder[0][0] in ("oncenode-a", "oncenode-b"), holder
    first, other = (a, b) if holder[0][0] == "oncenode-a" else (b, a)
    assert wait_for(lambda: runs(first, "oncecron") >= 3, within=60), first.log()[-3000:]
    assert runs(other, "oncecron") == 0
    # the holder dies without giving the lease up: the other takes it over
    # once it has expired, reads the schedule the holder compiled, runs it
    first.stop(sig=9)
    assert wait_for(lambda: runs(other, "oncecron") >= 2, within=60), other.log()[-3000:]
    assert wait_for(lambda: p.sql("SELECT holder FROM leases WHERE what = 'cron'")[0][0] ==
                    ("oncenode-a" if other is a else "oncenode-b"), within=15)
