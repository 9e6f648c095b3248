"""The core promise: every locker's web_scripts served with the locker's own
rights, by a front that can open nothing, with crashed parts replaced."""
import os
import signal
import subprocess
import time

import pytest

from conftest import get, parse_responses, raw
from h2client import StreamReset

# Each test on the module's srv runs over HTTP/1.1 and again over HTTP/2
# (conftest.py: transports).
TRANSPORTS = ("h1", "h2")


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]


def test_private_files_served_through_both_url_forms(srv):
    # Mode 0600, owned by the locker: only the locker's own uid can open them.
    srv.put("alice", "secret.txt", "alice's page\n")
    srv.put("bob", "secret.txt", "bob's page\n")
    for who in ("alice", "bob"):
        s, h, b = get(srv.port, "/secret.txt", f"{who}.test.example")
        assert (s, b) == (200, f"{who}'s page\n".encode())
        s, h, b = get(srv.port, f"/~{who}/secret.txt", "scripts.test.example")
        assert (s, b) == (200, f"{who}'s page\n".encode())
        s, h, b = get(srv.port, f"/~{who}/secret.txt", "test.example")
        assert (s, b) == (200, f"{who}'s page\n".encode())


def test_process_identities(srv):
    srv.put("alice", "id.txt", "x")
    assert get(srv.port, "/id.txt", "alice.test.example")[0] == 200
    alice, bob = srv.info("alice"), srv.info("bob")
    lockers = {alice["uid"], bob["uid"]}
    fronts = srv.pids("front")
    assert fronts
    for pid in fronts:
        uids = proc_uid(pid)
        assert 0 not in uids and not (set(uids) & lockers), uids
        # chrooted into an empty directory
        assert os.readlink(f"/proc/{pid}/root") == os.path.join(srv.dir, "state", "empty")
        assert os.listdir(f"/proc/{pid}/root") == []
    for pid in srv.pids("logd"):
        uids = proc_uid(pid)
        assert 0 not in uids and not (set(uids) & lockers)
    workers = srv.pids("worker")
    assert workers
    for pid in workers:
        assert proc_uid(pid) == [alice["uid"]] * 4 or proc_uid(pid) == [bob["uid"]] * 4
        with open(f"/proc/{pid}/status") as f:
            st = f.read()
        assert "NoNewPrivs:\t1" in st
        groups = [l for l in st.splitlines() if l.startswith("Groups:")][0]
        assert groups.split(":")[1].strip() == "", groups


@pytest.mark.h1_only("no request is made: nothing differs over HTTP/2")
def test_front_holds_no_file_and_no_directory_access(srv):
    # The front's root is an empty read-only directory: no locker is under it.
    for pid in srv.pids("front"):
        root = f"/proc/{pid}/root"
        st = os.stat(root)
        assert st.st_uid == 0 and (st.st_mode & 0o222) == 0


def test_alice_url_never_yields_bobs_file(srv):
    srv.put("bob", "bobonly.txt", "BOB SECRET\n")
    bob_home = srv.info("bob")["home"]
    alice_home = srv.info("alice")["home"]
    # a symlink in alice's web_scripts to bob's file
    link = os.path.join(alice_home, "web_scripts", "steal.txt")
    if not os.path.lexists(link):
        os.symlink(os.path.join(bob_home, "web_scripts", "bobonly.txt"), link)
    os.lchown(link, srv.info("alice")["uid"], srv.info("alice")["gid"])
    rel = os.path.join(alice_home, "web_scripts", "rel.txt")
    if not os.path.lexists(rel):
        os.symlink("../../bob/web_scripts/bobonly.txt", rel)
    attempts = [
        ("alice.test.example", "/steal.txt"),
        ("alice.test.example", "/rel.txt"),
        ("alice.test.example", "/../bob/web_scripts/bobonly.txt"),
        ("alice.test.example", "/%2e%2e/bob/web_scripts/bobonly.txt"),
        ("alice.test.example", "/..%2fbob%2fweb_scripts%2fbobonly.txt"),
        ("alice.test.example", "/%c0%ae%c0%ae/bob/web_scripts/bobonly.txt"),
        ("scripts.test.example", "/~alice/..%2f~bob/bobonly.txt"),
        ("alice.test.example", "/~bob/bobonly.txt"),
        ("bob.alice.test.example", "/bobonly.txt"),
        ("alice.test.example/../bob", "/bobonly.txt"),
    ]
    for host, path in attempts:
        try:
            s, h, b = get(srv.port, path, host)
        except StreamReset:
            # HTTP/2: an :authority that is no authority is a malformed
            # request, reset (RFC 9113 8.1.1, 8.3.1)
            assert srv.transport == "h2" and "/" in host, (host, path)
            continue
        assert b"BOB SECRET" not in b, (host, path, s)
        assert s in (400, 403, 404), (host, path, s)
    # /~alice/../~bob/x *is* bob's URL once dot segments are removed, as any
    # client would; it must resolve to bob's locker by its own name, not alice's.
    s, h, b = get(srv.port, "/~alice/../~bob/bobonly.txt", "scripts.test.example")
    assert s == 200 and b == b"BOB SECRET\n"
    # the absolute-form target with bob's host must route to bob, honestly
    # (HTTP/2 has no absolute form: its :authority is the one host)
    if srv.transport == "h1":
        s, h, b = get(srv.port, "http://bob.test.example/bobonly.txt", "alice.test.example")
        assert s == 200 and b == b"BOB SECRET\n"


def test_symlinks_inside_the_locker_work_and_outside_do_not(srv):
    info = srv.info("alice")
    home = info["home"]
    srv.put("alice", "real/target.txt", "target\n")
    os.makedirs(os.path.join(home, "private"), exist_ok=True)
    os.chown(os.path.join(home, "private"), info["uid"], info["gid"])
    p = os.path.join(home, "private", "p.txt")
    with open(p, "w") as f:
        f.write("private but mine\n")
    os.chown(p, info["uid"], info["gid"])
    links = {
        "in.txt": "real/target.txt",
        "abs.txt": os.path.join(home, "web_scripts", "real", "target.txt"),
        "up.txt": "../private/p.txt",
        "etc.txt": "/etc/passwd",
        "root.txt": "/",
    }
    for name, target in links.items():
        path = os.path.join(home, "web_scripts", name)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)
        os.lchown(path, info["uid"], info["gid"])
    assert get(srv.port, "/in.txt", "alice.test.example")[2] == b"target\n"
    assert get(srv.port, "/abs.txt", "alice.test.example")[2] == b"target\n"
    assert get(srv.port, "/up.txt", "alice.test.example")[2] == b"private but mine\n"
    s, _, b = get(srv.port, "/etc.txt", "alice.test.example")
    assert s == 404 and b"root:" not in b
    assert get(srv.port, "/root.txt", "alice.test.example")[0] in (403, 404)


def test_unknown_locker_and_service_host(srv):
    assert get(srv.port, "/", "nobody-here.test.example")[0] == 404
    assert get(srv.port, "/~nobody-here/", "test.example")[0] == 404
    assert get(srv.port, "/", "elsewhere.example.org")[0] == 404


def test_tilde_without_slash_redirects(srv):
    s, h, _ = get(srv.port, "/~alice", "scripts.test.example")
    assert s == 301 and h["location"] == "/~alice/"


@pytest.mark.h1_only("pipelining is HTTP/1.1's; HTTP/2's streams: test_h2.py")
def test_keepalive_and_pipelining_in_order(srv):
    for i in range(5):
        srv.put("alice", f"p{i}.txt", f"page {i}\n" * (i + 1))
    req = b"".join(b"GET /p%d.txt HTTP/1.1\r\nHost: alice.test.example\r\n\r\n" % i
                   for i in range(5))
    req += b"GET /p0.txt HTTP/1.1\r\nHost: alice.test.example\r\nConnection: close\r\n\r\n"
    rs = parse_responses(raw(srv.port, req))
    assert [r[0] for r in rs] == [200] * 6
    for i in range(5):
        assert rs[i][2] == (f"page {i}\n" * (i + 1)).encode()


@pytest.mark.h1_only("raw HTTP/1.1 heads; HTTP/2's malformed requests: test_h2_attacks.py")
def test_bad_heads_get_4xx_and_service_goes_on(srv):
    srv.put("alice", "ok.txt", "ok\n")
    bad = [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: alice.test.example\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 500 + b"\r\n",
        b"\x00\x01\x02\r\n\r\n",
    ]
    for b in bad:
        r = parse_responses(raw(srv.port, b))
        assert r and 400 <= r[0][0] < 500, (b[:40], r[:1])
        assert get(srv.port, "/ok.txt", "alice.test.example")[0] == 200


def wait_served(srv, host, path, body, within=2.0):
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            s, _, b = get(srv.port, path, host)
            if s == 200 and b == body:
                return time.time()
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"not served again within {within}s")


def test_kill_9_of_each_child_is_repaired(make_lockerd):
    # Without front's file cache, every request needs the worker.
    d = make_lockerd(front_processes=1, extra="file-cache-valid 0\n").start()
    d.signup("carol")
    d.put("carol", "k.txt", "alive\n")
    wait_served(d, "carol.test.example", "/k.txt", b"alive\n")
    for role in ("worker", "front", "logd"):
        pids = d.pids(role)
        assert pids, role
        for p in pids:
            os.kill(p, signal.SIGKILL)
        t0 = time.time()
        wait_served(d, "carol.test.example", "/k.txt", b"alive\n", within=2.0)
        assert time.time() - t0 < 2.0
        # the replacement exists and is a different process
        deadline = time.time() + 2
        while time.time() < deadline and not (set(d.pids(role)) - set(pids)):
            time.sleep(0.05)
        assert set(d.pids(role)) - set(pids), role
    # logd came back: a new request reaches the log
    wait_served(d, "carol.test.example", "/k.txt", b"alive\n")
    time.sleep(0.3)
    with open(os.path.join(d.logs, "access.log")) as f:
        assert f.read().count("GET /k.txt") >= 1


def test_access_logs_global_and_per_locker(srv):
    srv.put("bob", "log.txt", "x")
    get(srv.port, "/log.txt", "bob.test.example", extra=b"User-Agent: tester/1.0\r\nReferer: http://r.example/\r\n")
    time.sleep(0.3)
    with open(os.path.join(srv.logs, "access.log")) as f:
        glob = f.read()
    with open(os.path.join(srv.logs, "lockers", "bob", "access.log")) as f:
        mine = f.read()
    line = [l for l in mine.splitlines() if "/log.txt" in l][-1]
    # Apache combined: host ident user [time] "request" status bytes "referer" "ua"
    import re
    assert re.match(r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                    r'"GET /log.txt ' + re.escape(srv.proto) + r'" 200 1 "http://r.example/" "tester/1.0"$', line), line
    assert line in glob
    alice_log = os.path.join(srv.logs, "lockers", "alice", "access.log")
    if os.path.exists(alice_log):
        assert "/log.txt" not in open(alice_log).read()
    # only logd writes there: every file is owned by the log user
    import pwd
    log_uid = pwd.getpwnam("lockerd-log").pw_uid
    for root, dirs, files in os.walk(srv.logs):
        for n in files:
            assert os.stat(os.path.join(root, n)).st_uid == log_uid


def test_sighup_reopens_logs(srv):
    srv.put("alice", "rot.txt", "x")
    os.rename(os.path.join(srv.logs, "access.log"), os.path.join(srv.logs, "access.log.1"))
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    get(srv.port, "/rot.txt", "alice.test.example")
    time.sleep(0.3)
    with open(os.path.join(srv.logs, "access.log")) as f:
        assert "/rot.txt" in f.read()


def test_worker_exits_when_idle_and_comes_back(make_lockerd):
    d = make_lockerd(extra="worker-idle-timeout 1\n").start()
    d.signup("dave")
    d.put("dave", "i.txt", "idle\n")
    assert get(d.port, "/i.txt", "dave.test.example")[2] == b"idle\n"
    assert d.pids("worker")
    deadline = time.time() + 5
    while time.time() < deadline and d.pids("worker"):
        time.sleep(0.1)
    assert not d.pids("worker")
    assert get(d.port, "/i.txt", "dave.test.example")[2] == b"idle\n"


def test_graceful_stop_finishes_and_exits(make_lockerd):
    d = make_lockerd().start()
    d.signup("erin")
    d.put("erin", "big.bin", os.urandom(8 << 20), mode=0o600)
    d.put("erin", "big.txt", "y" * 100)
    # a slow reader holds a response in flight while the master is told to stop
    import socket
    s = socket.create_connection(("127.0.0.1", d.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /big.txt HTTP/1.1\r\nHost: erin.test.example\r\n\r\n")
    time.sleep(0.2)
    d.proc.send_signal(signal.SIGTERM)
    data = b""
    s.settimeout(5)
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    r = parse_responses(data)
    assert r[0][0] == 200 and r[0][2] == b"y" * 100
    assert d.proc.wait(timeout=15) == 0
    assert d.children() == {}


def test_config_error_names_file_and_line(build_dir, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("domain example.org\n\nlisten nowhere\n")
    os.chmod(conf, 0o644)
    r = subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-c", str(conf)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert f"{conf}:3:" in r.stderr


def test_file_cache_never_serves_a_changed_file(make_lockerd):
    """front reuses a worker's descriptor for a second, but never once the
    file was changed, chmodded, deleted or replaced."""
    d = make_lockerd(extra="file-cache-valid 30\n").start()
    d.signup("fay")
    path = d.put("fay", "c.txt", "one\n")
    host = "fay.test.example"
    assert get(d.port, "/c.txt", host)[2] == b"one\n"
    assert get(d.port, "/c.txt", host)[2] == b"one\n"    # from the cache
    with open(path, "w") as f:                             # written in place
        f.write("two, longer\n")
    s, h, b = get(d.port, "/c.txt", host)
    assert b == b"two, longer\n" and h["content-length"] == str(len(b))
    os.chmod(path, 0)                                      # the locker withdraws it
    assert get(d.port, "/c.txt", host)[0] == 403
    os.chmod(path, 0o600)
    assert get(d.port, "/c.txt", host)[0] == 200
    new = path + ".new"                                    # replaced by rename
    with open(new, "w") as f:
        f.write("three\n")
    info = d.info("fay")
    os.chown(new, info["uid"], info["gid"])
    os.chmod(new, 0o600)
    os.rename(new, path)
    assert get(d.port, "/c.txt", host)[2] == b"three\n"
    os.unlink(path)                                        # deleted
    assert get(d.port, "/c.txt", host)[0] == 404
    d.put("fay", "c.txt", "four\n")
    assert get(d.port, "/c.txt", host)[2] == b"four\n"
    d.locker("remove", "fay")                              # the locker goes
    assert get(d.port, "/c.txt", host)[0] == 404
