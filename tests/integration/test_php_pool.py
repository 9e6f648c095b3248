"""A locker's PHP pool follows its load (issue 13): the worker starts PHP
processes as requests queue, ends those left unused, replaces one that
crashes or served php-max-requests, stops restarting one that dies at its
start, and every process serves every front (one listening socket, a
connection per request, as nginx + php-fpm): no front's share is fixed,
and one process serves both fronts without the pool growing for it.
Processes are counted in /proc by the locker's uid."""
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import get, parse_responses, raw, wait_for

CAP = 4     # php-max-processes of the lockers here


@pytest.fixture(scope="module")
def pool(build_dir):
    from conftest import Lockerd
    d = Lockerd(build_dir, front_processes=2,
                extra=f"php-max-processes {CAP}\nphp-idle-timeout 1\n"
                      "worker-idle-timeout 30\n").start()
    yield d
    d.cleanup()


def uid_of(d, name):
    return d.info(name)["uid"]


def php_pids(uid):
    """The locker's php-cgi processes."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                st = f.read()
        except OSError:
            continue
        if re.search(rf"^Uid:\s+{uid}\s", st, re.M) and re.search(r"^Name:\s+php-cgi", st, re.M):
            out.append(int(pid))
    return sorted(out)


def worker_alive(d, uid):
    return any(role == "worker" and u == uid for role, u in d.children().values())


def error_log(d, name):
    try:
        with open(os.path.join(d.logs, "lockers", name, "error.log")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def burst(port, path, host, n):
    """n requests at once, each on its own client connection (spread over
    the fronts by SO_REUSEPORT): [(status, body)]."""
    out = [(None, b"")] * n
    req = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()

    def one(i):
        # Waits in a queue are the point: far more than conftest's 5 s.
        r = parse_responses(raw(port, req, timeout=60))
        if r:
            out[i] = (r[0][0], r[0][2])
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    return ts, out


def test_pool_grows_with_queued_requests_then_shrinks_to_one_then_none(pool):
    pool.signup("gro")
    uid = uid_of(pool, "gro")
    pool.put("gro", "slow.php", '<?php usleep(700000); echo getmypid();')
    pool.put("gro", "pid.php", '<?php echo getmypid();')
    assert php_pids(uid) == []
    # The first PHP request starts one process, not a pool of them.
    assert get(pool.port, "/pid.php", "gro.test.example")[0] == 200
    assert len(php_pids(uid)) == 1
    ts, out = burst(pool.port, "/slow.php", "gro.test.example", 12)
    most = 0
    while any(t.is_alive() for t in ts):
        most = max(most, len(php_pids(uid)))
        time.sleep(0.05)
    for t in ts:
        t.join()
    assert all(s == 200 for s, _ in out), out
    served_by = {b for _, b in out}
    # Requests queued: the pool grew, up to its size and no further.
    assert len(served_by) > 1 and 1 < most <= CAP, (served_by, most)
    # Unused for php-idle-timeout (1 s): back to one process.
    assert wait_for(lambda: len(php_pids(uid)) == 1, within=15), php_pids(uid)
    assert get(pool.port, "/pid.php", "gro.test.example")[0] == 200
    assert worker_alive(pool, uid)
    # The worker idle (worker-idle-timeout): none at all.
    assert wait_for(lambda: not php_pids(uid) and not worker_alive(pool, uid), within=60), \
        php_pids(uid)


def test_crashed_php_process_is_replaced(pool):
    pool.signup("cra")
    uid = uid_of(pool, "cra")
    pool.put("cra", "pid.php", '<?php echo getmypid();')
    s, _, b = get(pool.port, "/pid.php", "cra.test.example")
    assert s == 200
    # (getmypid() is the pid in the sandbox's namespace: the host's is
    # found by uid.)
    [first] = php_pids(uid)
    os.kill(first, 9)
    assert wait_for(lambda: not os.path.exists(f"/proc/{first}"), within=5)
    # The request goes to its replacement, and does not fail.
    s, _, b2 = get(pool.port, "/pid.php", "cra.test.example")
    assert s == 200 and b2 != b, (b, b2)
    assert len(php_pids(uid)) == 1 and php_pids(uid) != [first]
    assert wait_for(lambda: re.search(r"PHP process \d+ \(/usr/bin/php-cgi\) killed by "
                                      r"signal 9", error_log(pool, "cra")), within=5)


def test_php_process_recycled_after_max_requests(make_lockerd):
    # One front, requests one at a time: one process serves them all.
    d = make_lockerd(front_processes=1, extra="php-idle-timeout 60\n").start()
    d.signup("rec")
    # A locker's own value, as `locker limit` sets it.
    d.locker("limit", "rec", "php-max-requests", "3")
    d.put("rec", "pid.php", '<?php echo getmypid();')
    pids = []
    for _ in range(9):
        s, _, b = get(d.port, "/pid.php", "rec.test.example")
        assert s == 200, b
        pids.append(int(b))
    # One process serves three, then a new one.
    assert pids[0:3] == [pids[0]] * 3 and pids[3:6] == [pids[3]] * 3 and \
        pids[6:9] == [pids[6]] * 3, pids
    assert len(set(pids)) == 3, pids
    # A clean exit at php-max-requests is not a crash.
    assert "PHP process" not in error_log(d, "rec")


def front_holders(d, uid):
    """The front processes holding a connection to one of the locker's PHP
    processes, from ss: the peer of each socket a php-cgi accepted."""
    out = subprocess.run(["ss", "-xpn"], capture_output=True, text=True).stdout
    front_pids = set(d.pids("front"))
    php = set(php_pids(uid))
    by_inode, peers = {}, []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 8 or f[0] != "u_str":
            continue
        pids = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        by_inode[f[5]] = pids
        if pids & php and ".lockerd-fcgi-php." in f[4]:
            peers.append(f[7])
    return {p for i in peers for p in by_inode.get(i, ()) if p in front_pids}


def test_both_fronts_get_connections_as_the_pool_grows(pool):
    pool.signup("two")
    uid = uid_of(pool, "two")
    pool.put("two", "slow.php", '<?php usleep(800000); echo "done";')
    assert get(pool.port, "/slow.php", "two.test.example")[0] == 200
    ts, out = burst(pool.port, "/slow.php", "two.test.example", 16)
    holders = set()
    while any(t.is_alive() for t in ts):
        holders |= front_holders(pool, uid)
        time.sleep(0.1)
    for t in ts:
        t.join()
    assert all(s == 200 for s, _ in out), out
    assert len(pool.pids("front")) == 2
    # No fixed split: the pool grew to its size, and each front holds part.
    assert holders == set(pool.pids("front")), holders


def test_one_process_serves_both_fronts(pool):
    """Requests one at a time, each on its own client connection, so spread
    over both fronts by SO_REUSEPORT (all 30 on one front: one chance in
    2**29): a pool of one serves them all.  With connections kept by each
    front, the one process was held by one front and the other's requests
    waited for it or made the pool grow (an exec each)."""
    pool.signup("one")
    uid = uid_of(pool, "one")
    pool.put("one", "pid.php", '<?php echo getmypid();')
    served_by = set()
    for _ in range(30):
        s, _, b = get(pool.port, "/pid.php", "one.test.example")
        assert s == 200, b
        served_by.add(b)
    assert len(served_by) == 1, served_by
    assert len(php_pids(uid)) == 1, php_pids(uid)


def test_pool_socket_replaced_by_the_locker(pool):
    """A locker's script removes its pool's socket and puts a file in its
    place (its tmp/ is its own): the worker makes the socket anew, its
    old processes end, and the pages are served again."""
    pool.signup("sab")
    uid = uid_of(pool, "sab")
    pool.put("sab", "pid.php", '<?php echo getmypid();')
    pool.put("sab", "break.php", '<?php $s = glob("/tmp/.lockerd-fcgi-php.*.sock")[0]; '
             'var_dump(file_exists($s)); unlink($s); file_put_contents($s, "x"); echo "done";')
    s, _, b = get(pool.port, "/break.php", "sab.test.example")
    assert s == 200 and b"bool(true)" in b and b.endswith(b"done"), b
    [first] = php_pids(uid)
    s, _, b = get(pool.port, "/pid.php", "sab.test.example")
    assert s == 200, b
    assert wait_for(lambda: first not in php_pids(uid), within=10), php_pids(uid)
    assert get(pool.port, "/pid.php", "sab.test.example")[0] == 200


def test_php_dying_at_start_is_not_restarted_in_a_loop(make_lockerd):
    d = make_lockerd(front_processes=1,
                     extra="interpreter php /bin/false fastcgi\n").start()
    d.signup("die")
    d.put("die", "x.php", '<?php echo "never";')
    statuses = [get(d.port, "/x.php", "die.test.example")[0] for _ in range(8)]
    assert all(s in (502, 503) for s in statuses), statuses
    # Three failed starts stop the pool: 503 from then on, said in its log.
    assert statuses[-1] == 503, statuses
    log = error_log(d, "die")
    assert "exits at its start (3 times in a row)" in log, log
    # Each failed start was a request's (one a request started while the
    # last ones were being reaped may come too); none since.
    started = len(re.findall(r"PHP process \d+ \(/bin/false\) exited with status 1", log))
    assert 3 <= started <= 5, log
    time.sleep(1.5)
    assert get(d.port, "/x.php", "die.test.example")[0] == 503
    assert len(re.findall(r"PHP process \d+ \(/bin/false\) exited", error_log(d, "die"))) \
        == started
