"""Per-locker limits: the configuration's defaults, overridden for one locker
with `locker limit NAME KEY VALUE|default` (root), kept in the directory,
applied to its worker, cgroup and rlimits, and shown by `locker info`.
"""
import os

import pytest

from conftest import Lockerd, get

MiB = 1 << 20
DEFAULTS = "memory-limit 64m\nprocess-limit 64\n"

FORK_LOOP = r'''
import os, signal, time
print("Content-Type: text/plain\n", flush=True)
kids, err = [], None
try:
    for i in range(40):
        pid = os.fork()
        if pid == 0:
            os.close(1)
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
except OSError as e:
    err = e.errno
print("started", len(kids), "errno", err, flush=True)
for k in kids:
    os.kill(k, signal.SIGKILL)
for k in kids:
    os.waitpid(k, 0)
'''


@pytest.fixture(scope="module")
def d(build_dir):
    d = Lockerd(build_dir, extra=DEFAULTS).start()
    for name in ("mallory", "victim"):
        d.signup(name)
        d.put(name, "index.html", name.upper() + "-PAGE\n", mode=0o644)
        d.put(name, "forks.py", FORK_LOOP, mode=0o644)
    yield d
    d.cleanup()


def limits(d, name):
    return {lim["key"]: lim for lim in d.info(name)["limits"]}


def started(d, name):
    status, _, body = get(d.port, "/forks.py", f"{name}.test.example")
    assert status == 200, body
    words = body.decode().split()
    return int(words[words.index("started") + 1])


def cgroup(d, controller, name, f):
    uid = d.info(name)["uid"]
    p = f"/sys/fs/cgroup/{controller}/lockerd/{name}.{uid}/{f}"
    if not os.path.exists(p):
        return None
    with open(p) as fh:
        return fh.read().strip()


def test_info_shows_every_limit_as_default(d):
    lim = limits(d, "victim")
    for key in ("memory-limit", "process-limit", "cpu-shares", "io-weight",
                "open-files-limit", "file-size-limit", "script-timeout",
                "script-cpu-limit", "max-scripts", "disk-limit"):
        assert key in lim and lim[key]["default"] is True, key
    assert lim["memory-limit"]["value"] == 64 * MiB
    assert lim["process-limit"]["value"] == 64
    text = d.locker("info", "victim").stdout
    assert "memory-limit" in text and "64M (default" in text, text


def test_process_limit_override_is_that_lockers_only(d):
    d.locker("limit", "mallory", "process-limit", "10")
    lim = limits(d, "mallory")["process-limit"]
    assert lim["value"] == 10 and lim["default"] is False
    assert limits(d, "victim")["process-limit"]["default"] is True
    n = started(d, "mallory")
    print("mallory's fork loop stopped after", n)
    assert n < 10
    assert started(d, "victim") == 40           # unaffected: its limit is 64
    assert get(d.port, "/", "victim.test.example")[2] == b"VICTIM-PAGE\n"
    # With her worker running, info reports what it uses now.
    assert limits(d, "mallory")["process-limit"]["use"] >= 1


def test_memory_limit_override_reaches_the_live_cgroup(d):
    assert get(d.port, "/", "mallory.test.example")[2] == b"MALLORY-PAGE\n"
    before = cgroup(d, "memory", "mallory", "memory.limit_in_bytes")
    if before is None:
        pytest.skip("no cgroup v1 memory controller here")
    assert int(before) == 64 * MiB
    d.locker("limit", "mallory", "memory-limit", "48m")
    assert int(cgroup(d, "memory", "mallory", "memory.limit_in_bytes")) == 48 * MiB
    assert get(d.port, "/", "victim.test.example")[2] == b"VICTIM-PAGE\n"
    assert int(cgroup(d, "memory", "victim", "memory.limit_in_bytes")) == 64 * MiB
    lim = limits(d, "mallory")["memory-limit"]
    assert lim["value"] == 48 * MiB and lim["default"] is False and lim["use"] > 0


def test_cpu_and_io_weights_reach_the_live_cgroups(d):
    """cpu-shares and io-weight land in mallory's cpu and blkio cgroups
    (blkio.bfq.weight is in every child cgroup of a kernel with BFQ; it
    counts on devices whose scheduler is bfq)."""
    assert get(d.port, "/", "mallory.test.example")[0] == 200
    if cgroup(d, "cpu", "mallory", "cpu.shares") is None:
        pytest.skip("no cgroup v1 cpu controller here")
    d.locker("limit", "mallory", "cpu-shares", "256")
    assert int(cgroup(d, "cpu", "mallory", "cpu.shares")) == 256
    assert get(d.port, "/", "victim.test.example")[0] == 200
    assert int(cgroup(d, "cpu", "victim", "cpu.shares")) == 1024
    weight = cgroup(d, "blkio", "mallory", "blkio.bfq.weight")
    if weight is not None:
        d.locker("limit", "mallory", "io-weight", "50")
        assert cgroup(d, "blkio", "mallory", "blkio.bfq.weight").split()[-1] == "50"
        assert cgroup(d, "blkio", "victim", "blkio.bfq.weight").split()[-1] == "100"
        d.locker("limit", "mallory", "io-weight", "default")
    d.locker("limit", "mallory", "cpu-shares", "default")


def test_back_to_default(d):
    d.locker("limit", "mallory", "process-limit", "default")
    d.locker("limit", "mallory", "memory-limit", "default")
    lim = limits(d, "mallory")
    assert lim["process-limit"]["default"] is True and lim["process-limit"]["value"] == 64
    assert lim["memory-limit"]["default"] is True
    # A new worker starts with the default again.
    r = d.locker("run", "mallory", "--", "bash", "-c", "ulimit -u")
    assert r.stdout.strip() == "64", r.stdout


def test_overrides_survive_a_restart(d):
    d.locker("limit", "mallory", "open-files-limit", "100")
    d.stop()
    d.start()
    r = d.locker("run", "mallory", "--", "bash", "-c", "ulimit -n")
    assert r.stdout.strip() == "100", r.stdout
    r = d.locker("run", "victim", "--", "bash", "-c", "ulimit -n")
    assert r.stdout.strip() != "100", r.stdout
    d.locker("limit", "mallory", "open-files-limit", "default")


def test_limit_cli_checks(d):
    r = d.locker("limit", "mallory", "lockers", "/x", check=False)
    assert r.returncode == 2 and "not a limit" in r.stderr, r.stderr
    r = d.locker("limit", "mallory", "lockers", "default", check=False)
    assert r.returncode == 2 and "not a limit" in r.stderr, r.stderr
    r = d.locker("limit", "mallory", "cpu-shares", "1", check=False)
    assert r.returncode == 2 and "cpu-shares" in r.stderr, r.stderr
    r = d.locker("limit", "nosuch", "process-limit", "5", check=False)
    assert r.returncode == 1 and "nosuch" in r.stderr
    r = d.locker("limit", "mallory", "process-limit", check=False)
    assert r.returncode == 2 and "usage" in r.stderr
    r = d.locker("limit", "mallory", "process-limit", "5", check=False, user="nobody")
    assert r.returncode == 77, r.stderr
    # Limits are for root and the locker's admins to see.
    r = d.locker("info", "mallory", "--json", check=False, user="nobody")
    assert r.returncode == 0 and "limits" not in r.stdout


@pytest.fixture(scope="module")
def short(build_dir):
    """script-timeout 2 for all; a locker may have more, or less."""
    d = Lockerd(build_dir, extra="script-timeout 2\n"
                "interpreter php /usr/bin/php-cgi fastcgi\ninterpreter sh /bin/sh\n").start()
    for name in ("mallory", "victim"):
        d.signup(name)
        d.put(name, "nap.php", '<?php sleep(4); echo "awake";', mode=0o644)
        d.put(name, "nap.sh", 'sleep 4; echo "Content-Type: text/plain"; echo; echo awake',
              mode=0o644)
    yield d
    d.cleanup()


@pytest.mark.parametrize("script", ["nap.php", "nap.sh"])
def test_a_longer_script_timeout_of_its_own(short, script):
    """front waits for a locker's script as long as that locker's own
    script-timeout, for PHP through front's kept pool connections too."""
    short.locker("limit", "mallory", "script-timeout", "8")
    try:
        status, _, body = get(short.port, "/" + script, "mallory.test.example")
        assert (status, body.strip()) == (200, b"awake")
        status, _, _ = get(short.port, "/" + script, "victim.test.example")
        assert status == 504
    finally:
        short.locker("limit", "mallory", "script-timeout", "default")
    status, _, _ = get(short.port, "/" + script, "mallory.test.example")
    assert status == 504


def test_a_smaller_max_scripts_of_its_own_does_not_stall_php(short):
    """max-scripts 1 for mallory: her pool is one PHP process (and a spare);
    front's share of kept connections follows, so requests queue in front
    rather than behind a process that will never accept them."""
    short.put("mallory", "hi.php", '<?php echo "hi";', mode=0o644)
    short.locker("limit", "mallory", "max-scripts", "1")
    try:
        import concurrent.futures as cf
        with cf.ThreadPoolExecutor(8) as ex:
            def one(_):
                try:
                    return get(short.port, "/hi.php", "mallory.test.example")[:3:2]
                except AssertionError:
                    return None
            res = list(ex.map(one, range(24)))
        assert res == [(200, b"hi")] * 24, [i for i, r in enumerate(res) if r is None]
    finally:
        short.locker("limit", "mallory", "max-scripts", "default")


def test_one_php_process_goes_round_both_fronts_once_warm(short):
    """max-scripts 1 with the worker's channels open (front knows the
    pool is one process): the process given back goes to the front that
    waits, which keeps asking for it in turn, burst after burst; none of
    the requests is left without an answer."""
    import concurrent.futures as cf
    short.put("mallory", "hi.php", '<?php echo "hi";', mode=0o644)
    short.locker("limit", "mallory", "max-scripts", "1")

    def one(_):
        try:
            return get(short.port, "/hi.php", "mallory.test.example")[:3:2]
        except AssertionError:
            return None
    try:
        assert one(0) == (200, b"hi")
        for _ in range(3):
            with cf.ThreadPoolExecutor(8) as ex:
                res = list(ex.map(one, range(16)))
            assert res == [(200, b"hi")] * 16, [i for i, r in enumerate(res) if r is None]
    finally:
        short.locker("limit", "mallory", "max-scripts", "default")
