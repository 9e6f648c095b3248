"""lockerd-dirsync against a real PostgreSQL (pg.py), on its own: the
master's end of its channel is tests/tools/dirsync_tool.c, which sends
what the master would (HELLO with the conninfo file, change records in a
sealed memfd, beats) and prints what dirsync answers.  The cases with two
lockerds sharing the PostgreSQL (a signup on one served by the other) need
the master's side too: test_dirmaster.py / test_fleet.py.

- two dirsyncs started at once on an empty PostgreSQL make its schema once
  (lockerd_schema has one row, at SQLite's SCHEMA_VERSION) and both come up;
- a change is applied and answered with its revision; the other node's
  feed brings the rows; a node that starts from revision 0 gets a full copy;
- conflicts are refused (DIR_CONFLICT) and change nothing: an update or a
  delete of a row that is no longer what the node saw, an insert of a key
  that is taken, a second locker with a taken uid; a transaction with one
  conflicting record applies none of its records;
- malformed records (cut short, a count that lies, JSON that is not an
  object) are refused (DIR_ERROR) and change nothing;
- PostgreSQL stopped: the master hears it is down, a change is refused at
  once (DIR_DOWN); PostgreSQL frozen (SIGSTOP): a change is refused within
  directory-timeout, not later; both come back by themselves;
- failover: with a primary and a streaming standby in the conninfo, the
  primary stopped and the standby promoted, dirsync finds the new primary
  and changes are taken again;
- a PostgreSQL whose schema is newer than this lockerd is refused with a
  clear reason.
"""
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time

import pytest

import pg
from conftest import schema_version

pytestmark = pytest.mark.skipif(not pg.available(), reason="PostgreSQL 15 is not installed")

OK, CONFLICT, DOWN, ERROR = 0, 1, 2, 3
TIMEOUT_MS = 2000


class Tool:
    """A dirsync-tool (and so a lockerd-dirsync) for one node."""

    def __init__(self, build, base, node, conninfo, rev=0, timeout_ms=TIMEOUT_MS):
        self.node = node
        self.state = os.path.join(base, "state-" + node)
        os.makedirs(os.path.join(self.state, "empty"), exist_ok=True)
        self.proc = subprocess.Popen(
            [os.path.join(build, "dirsync-tool"), os.path.join(build, "lockerd-dirsync"),
             self.state, "lockerd-dir", node, conninfo, str(timeout_ms), str(rev)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1)
        self.lines = queue.Queue()
        self.log = []
        self.rows = []          # (table, op, rev, json) from every ROWS seen
        self.row_msgs = []      # (from, to, full, nrec)
        self.up = None
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()

    def _read(self):
        for ln in self.proc.stdout:
            f = ln.rstrip("\n").split("\t")
            if f[0] == "row":
                self.rows.append((f[1], int(f[2]), int(f[3]), json.loads(f[4])))
                continue
            if f[0] == "rows":
                self.row_msgs.append(tuple(int(x) for x in f[1:5]))
                continue
            if f[0] == "state":
                self.up = f[1] == "1"
            self.lines.put(f)

    def _err(self):
        for ln in self.proc.stderr:
            self.log.append(ln)

    def send(self, *fields):
        self.proc.stdin.write("\t".join(str(x) for x in fields) + "\n")
        self.proc.stdin.flush()

    def next(self, kind, within=30):
        """The next line of kind (others before it are dropped, states noted)."""
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"{self.node}: no {kind} within {within}s; log: {''.join(self.log)[-2000:]}"
            try:
                f = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if f[0] == kind:
                return f

    def wait_up(self, up=True, within=60):
        deadline = time.monotonic() + within
        while self.up is not up:
            assert time.monotonic() < deadline, f"{self.node} not {'up' if up else 'down'}: " \
                + "".join(self.log)[-2000:]
            time.sleep(0.05)

    def change(self, cid, *records, within=30):
        """records: (table, op, old dict or None, new dict or None); the result line."""
        fields = ["change", cid]
        for t, op, old, new in records:
            fields += [t, op, json.dumps(old) if old is not None else "-",
                       json.dumps(new) if new is not None else "-"]
        t0 = time.monotonic()
        self.send(*fields)
        while True:
            r = self.next("result", within)
            if int(r[1]) == cid:
                return int(r[2]), int(r[3]), r[4], time.monotonic() - t0

    def saw(self, table, pred, within=15):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if any(t == table and pred(op, j) for t, op, rev, j in list(self.rows)):
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def uid_row(uid, name, at=1000):
    return {"uid": uid, "name": name, "allocated": at, "released": None, "archive": None}


def locker_row(name, uid, created=1000):
    return {"name": name, "uid": uid, "gid": uid, "created": created}


@pytest.fixture(scope="module")
def fleet(build_dir):
    base = tempfile.mkdtemp(prefix="lockerd-dirsync-")
    os.chmod(base, 0o755)
    p = pg.primary(os.path.join(base, "pg"))
    ci = pg.write_conninfo(os.path.join(base, "fleet.conninfo"), p)
    tools = []

    def tool(node, rev=0, conninfo=ci, timeout_ms=TIMEOUT_MS):
        t = Tool(build_dir, base, node, conninfo, rev, timeout_ms)
        tools.append(t)
        return t
    # Both at once on the empty PostgreSQL: the schema is made once.
    a, b = tool("ds-a"), tool("ds-b")
    yield {"pg": p, "a": a, "b": b, "tool": tool, "base": base, "conninfo": ci}
    for t in tools:
        t.stop()
    p.cleanup()
    subprocess.run(["rm", "-rf", base])


def test_two_starts_make_the_schema_once(fleet):
    p, a, b = fleet["pg"], fleet["a"], fleet["b"]
    a.wait_up()
    b.wait_up()
    assert p.sql("SELECT version FROM lockerd_schema") == [[str(schema_version())]]
    tables = {r[0] for r in p.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"uids", "lockers", "vhosts", "audit", "cron", "leases", "nodes", "node_drain",
            "dir_gone", "dir_meta"} <= tables
    # Nothing of the nodes' own (mail_log, mail_totals, fleet_state).
    assert not tables & {"mail_log", "mail_totals", "fleet_state"}
    # A fresh node's first feed is a full copy.
    assert a.row_msgs and a.row_msgs[0][2] == 1
    # Each node's heartbeat row, written by its dirsync, reaches the other.
    assert b.saw("nodes", lambda op, j: j["name"] == "ds-a")
    assert a.saw("nodes", lambda op, j: j["name"] == "ds-b")


def test_a_change_is_applied_and_reaches_the_other_node(fleet):
    p, a, b = fleet["pg"], fleet["a"], fleet["b"]
    a.wait_up()
    st, rev, why, _ = a.change(1, ("uids", 1, None, uid_row(150001, "dsalice")),
                               ("lockers", 1, None, locker_row("dsalice", 150001)))
    assert (st, why) == (OK, ""), why
    assert rev > 0
    assert p.sql("SELECT name, uid FROM lockers WHERE name = 'dsalice'") == [["dsalice", "150001"]]
    assert b.saw("lockers", lambda op, j: op == 1 and j == locker_row("dsalice", 150001))
    assert b.saw("uids", lambda op, j: j == uid_row(150001, "dsalice"))
    # An update, then a delete: the other node sees the new row, then the tombstone.
    st, _, why, _ = a.change(2, ("lockers", 2, locker_row("dsalice", 150001),
                                 locker_row("dsalice", 150001, created=2000)))
    assert st == OK, why
    assert b.saw("lockers", lambda op, j: op == 1 and j.get("created") == 2000)
    st, _, why, _ = a.change(3, ("lockers", 3, locker_row("dsalice", 150001, created=2000), None))
    assert st == OK, why
    assert b.saw("lockers", lambda op, j: op == 3 and j == {"name": "dsalice"})
    assert p.sql("SELECT count(*) FROM lockers WHERE name = 'dsalice'") == [["0"]]
    # A node that starts from revision 0 gets every row in a full copy;
    # one that starts from the current revision gets only what follows.
    now = int(p.sql("SELECT last_value FROM dir_rev")[0][0])
    c = fleet["tool"]("ds-c", rev=now)
    c.wait_up()
    assert c.saw("nodes", lambda op, j: j["name"] == "ds-c")
    assert all(m[2] == 0 for m in c.row_msgs)
    assert not any(t == "uids" for t, *_ in c.rows)
    c.stop()


def test_conflicts_are_refused_and_change_nothing(fleet):
    p, a, b = fleet["pg"], fleet["a"], fleet["b"]
    a.wait_up()
    b.wait_up()
    st, _, why, _ = a.change(10, ("uids", 1, None, uid_row(150002, "dsbob")),
                             ("lockers", 1, None, locker_row("dsbob", 150002)))
    assert st == OK, why
    # b changes the row first; a's update of the row as it saw it is refused.
    st, _, why, _ = b.change(11, ("lockers", 2, locker_row("dsbob", 150002),
                                  locker_row("dsbob", 150002, created=3000)))
    assert st == OK, why
    st, _, why, _ = a.change(12, ("lockers", 2, locker_row("dsbob", 150002),
                                  locker_row("dsbob", 150002, created=4000)))
    assert st == CONFLICT, why
    assert "another node" in why
    st, _, why, _ = a.change(13, ("lockers", 3, locker_row("dsbob", 150002), None))
    assert st == CONFLICT
    assert p.sql("SELECT created FROM lockers WHERE name = 'dsbob'") == [["3000"]]
    # The same key inserted twice; the same uid for a second locker.
    st, _, why, _ = b.change(14, ("lockers", 1, None, locker_row("dsbob", 150002)))
    assert st == CONFLICT, why
    st, _, why, _ = b.change(15, ("lockers", 1, None, locker_row("dscarol", 150002)))
    assert st == CONFLICT, why
    # One conflicting record: none of the transaction's records is applied.
    st, _, why, _ = b.change(16, ("uids", 1, None, uid_row(150003, "dscarol")),
                             ("lockers", 1, None, locker_row("dscarol", 150002)))
    assert st == CONFLICT, why
    assert p.sql("SELECT count(*) FROM uids WHERE uid = 150003") == [["0"]]
    assert p.sql("SELECT count(*) FROM lockers WHERE name = 'dscarol'") == [["0"]]


def test_malformed_changes_are_refused(fleet):
    p, a = fleet["pg"], fleet["a"]
    a.wait_up()
    before = p.sql("SELECT last_value FROM dir_rev")
    good = bytes([1, 1]) + (0).to_bytes(4, "little") + (2).to_bytes(4, "little") + b"{}"
    for cid, nrec, data in [(20, 1, good[:-1]),            # cut short
                            (21, 2, good),                 # a count that lies
                            (22, 1, bytes([99]) + good[1:]),  # a table not replicated
                            (23, 1, bytes([1, 1]) + (0).to_bytes(4, "little") +
                             (2).to_bytes(4, "little") + b"[]")]:   # not an object
        a.send("raw", cid, nrec, data.hex())
        r = a.next("result")
        assert (int(r[1]), int(r[2])) == (cid, ERROR), r
    # A row that is JSON of the wrong shape for its table: PostgreSQL says why.
    st, _, why, _ = a.change(24, ("lockers", 1, None, {"name": "dsdave", "uid": "many"}))
    assert st == ERROR, why
    assert "bigint" in why
    assert p.sql("SELECT last_value FROM dir_rev") >= before
    assert p.sql("SELECT count(*) FROM lockers WHERE name = 'dsdave'") == [["0"]]


def test_postgres_down_then_back(fleet):
    p, a, b = fleet["pg"], fleet["a"], fleet["b"]
    a.wait_up()
    b.wait_up()
    p.stop()
    a.wait_up(False, within=30)
    st, _, why, took = a.change(30, ("uids", 1, None, uid_row(150010, "dsdown")))
    assert st == DOWN
    assert took < TIMEOUT_MS / 1000
    p.start()
    a.wait_up(within=60)
    b.wait_up(within=60)
    st, _, why, _ = a.change(31, ("uids", 1, None, uid_row(150010, "dsdown")))
    assert st == OK, why
    assert b.saw("uids", lambda op, j: j["uid"] == 150010)


def test_a_frozen_postgres_is_down_within_the_timeout(fleet):
    p, a = fleet["pg"], fleet["a"]
    a.wait_up()
    os.kill(p.proc.pid, signal.SIGSTOP)
    # Every backend too: a frozen machine, not only its postmaster.
    kids = [int(x) for x in subprocess.run(["pgrep", "-P", str(p.proc.pid)],
                                           capture_output=True, text=True).stdout.split()]
    for k in kids:
        os.kill(k, signal.SIGSTOP)
    try:
        st, _, why, took = a.change(40, ("uids", 1, None, uid_row(150020, "dsfrozen")))
        assert st == DOWN, why
        assert "directory-timeout" in why
        assert took < TIMEOUT_MS / 1000 + 1.0    # the master's own wait is TIMEOUT_MS
    finally:
        for k in kids:
            os.kill(k, signal.SIGCONT)
        os.kill(p.proc.pid, signal.SIGCONT)
    a.wait_up(within=60)
    st, _, why, _ = a.change(41, ("uids", 1, None, uid_row(150021, "dsthawed")))
    assert st == OK, why


def test_failover_to_the_promoted_standby(fleet, build_dir):
    base = fleet["base"]
    p1 = pg.primary(os.path.join(base, "pg1"))
    try:
        s1 = pg.standby(p1, os.path.join(base, "pg1s"))
        try:
            assert pg.wait_streaming(p1)
            ci = pg.write_conninfo(os.path.join(base, "pair.conninfo"), p1, s1)
            t = fleet["tool"]("ds-f", conninfo=ci)
            t.wait_up()
            st, _, why, _ = t.change(50, ("uids", 1, None, uid_row(150030, "dsfail")))
            assert st == OK, why
            p1.stop()
            t.wait_up(False, within=30)
            s1.promote()
            t.wait_up(within=60)
            st, _, why, _ = t.change(51, ("uids", 1, None, uid_row(150031, "dsover")))
            assert st == OK, why
            assert s1.sql("SELECT count(*) FROM uids WHERE uid IN (150030, 150031)") == [["2"]]
            t.stop()
        finally:
            s1.cleanup()
    finally:
        p1.cleanup()


def test_a_newer_schema_is_refused(fleet):
    p = fleet["pg"]
    p.sql("UPDATE lockerd_schema SET version = 99")
    try:
        t = fleet["tool"]("ds-new")
        f = t.next("state")
        while "newer" not in f[4]:
            f = t.next("state", within=30)
        assert f[1] == "0"
        assert "version 99, newer than this lockerd knows" in f[4]
        t.stop()
    finally:
        p.sql(f"UPDATE lockerd_schema SET version = {schema_version()}")


# --- two lockerds sharing the PostgreSQL: the master's side with dirsync ---

def fleet_conf(d, node, lockers, low, conninfo):
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
        f"directory-timeout 2s\n")


@pytest.fixture(scope="module")
def pair(fleet, build_dir):
    from conftest import Lockerd, TEST_BASE
    os.makedirs(TEST_BASE, exist_ok=True)
    shared = tempfile.mkdtemp(prefix="dsfleet", dir=TEST_BASE)     # the shared lockers root
    os.chmod(shared, 0o755)
    lockers = os.path.join(shared, "lockers")
    low = 500000 + (os.getpid() % 100) * 1000
    a, b = Lockerd(build_dir), Lockerd(build_dir)
    fleet_conf(a, "dsnode-a", lockers, low, fleet["conninfo"])
    fleet_conf(b, "dsnode-b", lockers, low, fleet["conninfo"])
    try:
        a.start()
        b.start()
        yield {"a": a, "b": b, "pg": fleet["pg"], "conninfo": fleet["conninfo"]}
    finally:
        a.cleanup()
        b.cleanup()
        subprocess.run(["rm", "-rf", shared])


def fleet_up(d, within=60):
    """Until d's log says PostgreSQL is reachable (dir_master.c's line)."""
    deadline = time.monotonic() + within
    while "PostgreSQL is reachable" not in d.log():
        assert time.monotonic() < deadline, d.log()[-3000:]
        time.sleep(0.1)


def test_a_signup_on_one_node_reaches_the_other(pair):
    a, b, p = pair["a"], pair["b"], pair["pg"]
    fleet_up(a)
    fleet_up(b)
    r = a.locker("signup", "dsfleet1", check=False)
    assert r.returncode == 0, r.stderr + a.log()[-3000:]
    uid = a.info("dsfleet1")["uid"]
    assert p.sql("SELECT uid FROM lockers WHERE name = 'dsfleet1'") == [[str(uid)]]
    deadline = time.monotonic() + 10
    while b.locker("info", "dsfleet1", "--json", check=False).returncode != 0:
        assert time.monotonic() < deadline, b.log()[-3000:]
        time.sleep(0.1)
    assert b.info("dsfleet1")["uid"] == uid
    # Served by B too: its routes follow the feed (the lockers root is shared).
    from conftest import get
    a.put("dsfleet1", "hi.html", "from a\n", mode=0o644)
    deadline = time.monotonic() + 10
    while get(b.port, "/hi.html", "dsfleet1.test.example")[0] != 200:
        assert time.monotonic() < deadline, b.log()[-2000:]
        time.sleep(0.1)
    assert get(b.port, "/hi.html", "dsfleet1.test.example")[2] == b"from a\n"
    # Each node's heartbeat row, in PostgreSQL and in the other's copy.
    assert {r[0] for r in p.sql("SELECT name FROM nodes")} >= {"dsnode-a", "dsnode-b"}


def test_uids_stay_unique_under_concurrent_signups(pair):
    a, b, p = pair["a"], pair["b"], pair["pg"]
    fleet_up(a)
    fleet_up(b)
    names = {a: [f"dsua{i}" for i in range(3)], b: [f"dsub{i}" for i in range(3)]}
    results = {}

    def signups(d):
        for n in names[d]:
            results[n] = d.locker("signup", n, check=False)
    ts = [threading.Thread(target=signups, args=(d,)) for d in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    done = [n for n, r in results.items() if r.returncode == 0]
    # A signup may lose every re-pick to the other node, and then says so.
    for n, r in results.items():
        assert r.returncode == 0 or "try again" in r.stderr, (n, r.stderr)
    assert len(done) >= 4, {n: r.stderr for n, r in results.items()}
    rows = p.sql("SELECT name, uid FROM lockers WHERE name LIKE 'dsu%'")
    assert sorted(r[0] for r in rows) == sorted(done)
    assert len({r[1] for r in rows}) == len(rows)
    # Both copies agree on every uid.
    for n, uid in rows:
        for d in (a, b):
            deadline = time.monotonic() + 10
            while d.locker("info", n, "--json", check=False).returncode != 0:
                assert time.monotonic() < deadline, (n, d.log()[-2000:])
                time.sleep(0.1)
            assert d.info(n)["uid"] == int(uid)


def test_postgres_down_refuses_changes_and_pages_are_served(pair):
    from conftest import get
    a, b, p = pair["a"], pair["b"], pair["pg"]
    fleet_up(a)
    a.locker("signup", "dspage")
    a.put("dspage", "hi.html", "fail static\n", mode=0o644)
    assert get(a.port, "/hi.html", "dspage.test.example")[0] == 200
    p.stop()
    try:
        deadline = time.monotonic() + 30
        while "PostgreSQL is unreachable" not in a.log():
            assert time.monotonic() < deadline, a.log()[-2000:]
            time.sleep(0.1)
        t0 = time.monotonic()
        r = a.locker("signup", "dsrefused", check=False)
        assert r.returncode != 0
        assert "PostgreSQL" in r.stderr and "unreachable" in r.stderr, r.stderr
        assert time.monotonic() - t0 < 10
        assert a.locker("info", "dsrefused", "--json", check=False).returncode != 0
        # Reads are the copy's: pages are served, listings answered.
        assert get(a.port, "/hi.html", "dspage.test.example")[2] == b"fail static\n"
        assert a.info("dspage")["uid"] > 0
    finally:
        p.start()
    fleet_up_again = time.monotonic() + 60
    while True:
        r = a.locker("signup", "dsafter", check=False)
        if r.returncode == 0:
            break
        assert time.monotonic() < fleet_up_again, r.stderr
        time.sleep(0.5)
    deadline = time.monotonic() + 10
    while b.locker("info", "dsafter", "--json", check=False).returncode != 0:
        assert time.monotonic() < deadline, b.log()[-2000:]
        time.sleep(0.1)


def test_dirsync_is_sandboxed(pair):
    """What PostgreSQL (or whoever answers in its place) could reach through
    a hole in libpq: dir-user's process, chrooted into an empty directory,
    under seccomp with no_new_privs, undumpable (no core, no ptrace by its
    own uid)."""
    import pwd
    a = pair["a"]
    fleet_up(a)
    pid = wait_for_pid(a)
    with open(f"/proc/{pid}/status") as f:
        st = dict(ln.split(":", 1) for ln in f.read().splitlines() if ":" in ln)
    uid = pwd.getpwnam("lockerd-dir").pw_uid
    assert st["Uid"].split() == [str(uid)] * 4
    assert st["Seccomp"].strip() == "2"
    assert st["NoNewPrivs"].strip() == "1"
    assert os.readlink(f"/proc/{pid}/root") == os.path.join(a.dir, "state", "empty")
    assert os.listdir(f"/proc/{pid}/root") == []
    # The conninfo (PostgreSQL's password) was handed as a descriptor, read
    # and closed: dirsync keeps no descriptor of it.
    ci = os.path.realpath(pair["conninfo"])
    for fd in os.listdir(f"/proc/{pid}/fd"):
        assert os.readlink(f"/proc/{pid}/fd/{fd}") != ci


def wait_for_pid(d, within=30):
    deadline = time.monotonic() + within
    while not d.pids("dirsync"):
        assert time.monotonic() < deadline, d.log()[-2000:]
        time.sleep(0.1)
    return d.pids("dirsync")[0]


def test_dirsync_killed_is_restarted_and_changes_go_on(pair):
    a, b = pair["a"], pair["b"]
    fleet_up(a)
    old = wait_for_pid(a)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        pids = a.pids("dirsync")
        if pids and pids[0] != old:
            r = a.locker("signup", "dsrestart", check=False)
            if r.returncode == 0:
                break
        assert time.monotonic() < deadline, a.log()[-3000:]
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while b.locker("info", "dsrestart", "--json", check=False).returncode != 0:
        assert time.monotonic() < deadline, b.log()[-2000:]
        time.sleep(0.1)


def test_a_conninfo_others_may_read_is_refused(fleet, build_dir):
    from conftest import Lockerd
    d = Lockerd(build_dir)
    loose = os.path.join(d.dir, "loose.conninfo")
    pg.write_conninfo(loose, fleet["pg"])
    os.chmod(loose, 0o644)
    d.write_conf(open(d.conf).read() + f"node dsloose\ndirectory postgres {loose}\n")
    try:
        r = subprocess.run([os.path.join(build_dir, "lockerd"), "-c", d.conf, "-t"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0
        assert "must be a regular file of root's that only root may read" in r.stderr + r.stdout
    finally:
        d.cleanup()


def test_the_trust_table_holds_between_master_and_dirsync(pair):
    """MR_DIRSYNC's column of msg_rules[] on the real channel, taken from
    outside with pidfd_getfd (test_trust.py's way): what dirsync may not
    send gets it killed by the master, and restarted; what the master may
    not send makes dirsync exit, and it is restarted; changes go on."""
    from test_trust import MSG, frame, gone, peers, refused_types, steal
    a = pair["a"]
    fleet_up(a)
    bad = refused_types("MR_DIRSYNC", "MR_MASTER")
    for name in ("MSG_CONFIG", "MSG_DIR_HELLO", "MSG_DIR_CHANGE", "MSG_WORKER_GET"):
        assert MSG[name] in bad
    for ty in (MSG["MSG_DIR_CHANGE"], MSG["MSG_WORKER_GET"], 60000):
        pid = wait_for_pid(a)
        s = steal(pid, 3)
        try:
            s.send(frame(ty))
            assert gone(pid), f"dirsync not killed for type {ty}"
        finally:
            s.close()
        deadline = time.monotonic() + 30
        while not a.pids("dirsync") or a.pids("dirsync")[0] == pid:
            assert time.monotonic() < deadline, a.log()[-2000:]
            time.sleep(0.1)
    assert "malformed message from dirsync" in a.log()
    # The master's side: a message dirsync may not take ends it.
    pid = wait_for_pid(a)
    chans = [fd for fd, p in peers(a.proc.pid).items() if p == pid]
    assert chans, "the master has no channel to dirsync"
    assert MSG["MSG_DIR_RESULT"] in refused_types("MR_MASTER", "MR_DIRSYNC")
    s = steal(a.proc.pid, chans[0])
    try:
        s.send(frame(MSG["MSG_DIR_RESULT"]))
    finally:
        s.close()
    assert gone(pid), "dirsync did not exit"
    assert "dirsync: malformed message from master" in a.log()
    deadline = time.monotonic() + 60
    while a.locker("signup", "dstrust", check=False).returncode != 0:
        assert time.monotonic() < deadline, a.log()[-2000:]
        time.sleep(0.3)
