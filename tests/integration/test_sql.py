"""Issue 14: the SQL service on a real MariaDB.

A real mariadbd (tests/integration/mariadb.py) on a private data directory
and socket, started once for the module and stopped by its pid, and one
lockerd administering it (`sql mariadb SOCKET CREDENTIALS-FILE`) with
lockers alice and bob.
"""
import json
import os
import re
import subprocess
import tempfile
import time

import pytest

from conftest import TEST_BASE, Lockerd, etc_names, get
from mariadb import MariaDB, available, connections_both_ways

pytestmark = pytest.mark.skipif(not available(), reason="mariadb-server is not installed")

SQL_TIMEOUT = 2


@pytest.fixture(scope="module")
def mariadb():
    os.makedirs(TEST_BASE, exist_ok=True)
    # Debian's way: MariaDB resolves names, so TCP from loopback is
    # "localhost" (test_hostile.py's MariaDB skips name resolution).
    m = MariaDB(tempfile.mkdtemp(prefix="mdb", dir=TEST_BASE), tcp=True,
                skip_name_resolve=False).start()
    yield m
    m.cleanup()


@pytest.fixture(scope="module")
def sq(build_dir, mariadb):
    """lockerd with the SQL service, lockers alice and bob."""
    d = Lockerd(build_dir, extra=f"sql mariadb {mariadb.socket} {mariadb.creds_file}\n"
                f"sql-timeout {SQL_TIMEOUT}s\nsql-max-connections 20\n")
    # The kill -9 tests' step file (src/crashpoint.c): empty, nothing happens.
    d.crash_file = os.path.join(d.dir, "crash-at")
    open(d.crash_file, "w").close()
    d.wrap = ["env", f"LOCKERD_CRASH_AT={d.crash_file}"]
    d.start()
    d.signup("alice")
    d.signup("bob")
    d.mariadb = mariadb
    yield d
    d.cleanup()


def cnf(d, locker):
    """The locker's ~/.sql/my.cnf: {user:, password:, host:}."""
    home = d.info(locker)["home"]
    with open(os.path.join(home, ".sql", "my.cnf")) as f:
        return dict(ln.strip().split("=", 1) for ln in f if "=" in ln and not ln.startswith("#"))


def error_log(d, locker):
    try:
        with open(os.path.join(d.logs, "lockers", locker, "error.log"), errors="replace") as f:
            return f.read()[-3000:]
    except OSError:
        return ""


def signed_up(d, locker):
    r = d.locker("sql", "signup", locker, check=False)
    assert r.returncode == 0 or "already has" in r.stderr, r.stderr
    return cnf(d, locker)


def test_harness_mariadb_answers(mariadb):
    """The private MariaDB runs, its admin account works, TCP on loopback only."""
    assert mariadb.root("SELECT 1").stdout.strip() == "1"
    r = mariadb.query(mariadb.admin_user, mariadb.admin_password, "SELECT CURRENT_USER()")
    assert r.returncode == 0 and r.stdout.startswith("lockerd_admin@localhost"), r.stderr
    assert mariadb.root("SELECT @@bind_address").stdout.strip() == "127.0.0.1"
    assert oct(os.stat(mariadb.creds_file).st_mode & 0o777) == "0o600"
    print(f"mariadbd started in {mariadb.start_seconds:.2f} s")


def test_sqld_is_its_own_unprivileged_process(sq):
    """sqld runs as lockerd-sql, and the master does not link libmariadb."""
    pids = sq.pids("sqld")
    assert len(pids) == 1, (sq.children(), sq.log())
    with open(f"/proc/{pids[0]}/status") as f:
        uid = int(re.search(r"Uid:\s+(\d+)", f.read()).group(1))
    import pwd
    assert uid == pwd.getpwnam("lockerd-sql").pw_uid
    with open(f"/proc/{sq.proc.pid}/maps") as f:
        assert "libmariadb" not in f.read()


def test_signup_writes_my_cnf_as_the_locker(sq):
    r = sq.locker("sql", "signup", "alice")
    assert "signed up" in r.stdout, r.stdout
    info = sq.info("alice")
    path = os.path.join(info["home"], ".sql", "my.cnf")
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (info["uid"], info["gid"], 0o600)
    c = cnf(sq, "alice")
    assert c["user"] == "alice" and c["host"] == "localhost" and len(c["password"]) == 24
    r = sq.mariadb.query("alice", c["password"], "SELECT CURRENT_USER()")
    assert r.returncode == 0 and r.stdout.strip() == "alice@localhost", r.stderr
    # The grant's pattern is alice+% with nothing a wildcard could stretch;
    # one account, as this MariaDB resolves names (TCP from loopback is
    # localhost to it: test_php_mysqli_by_tcp_to_127_0_0_1).
    rows = sq.mariadb.root("SELECT Host, Db FROM mysql.db WHERE User='alice' "
                           "ORDER BY Host").stdout.split()
    assert rows == ["localhost", "alice+%"], rows
    # Again: refused, the password unchanged.
    r = sq.locker("sql", "signup", "alice", check=False)
    assert r.returncode != 0 and "already has" in r.stderr
    assert cnf(sq, "alice")["password"] == c["password"]


def test_create_list_drop_keeps_a_dump(sq):
    c = signed_up(sq, "alice")
    sq.locker("sql", "create", "alice", "notes")
    r = sq.mariadb.query("alice", c["password"], "CREATE TABLE t (n INT); "
                         "INSERT INTO t VALUES (41), (42)", database="alice+notes")
    assert r.returncode == 0, r.stderr
    rows = json.loads(sq.locker("--json", "sql", "list", "alice").stdout)
    assert [x["database"] for x in rows] == ["alice+notes"], rows
    assert rows[0]["tables"] == 1 and rows[0]["bytes"] > 0
    r = sq.locker("--json", "sql", "drop", "alice", "notes")
    out = json.loads(r.stdout)
    assert out["file"].startswith(sq.info("alice")["home"] + "/.sql/dumps/"), out
    with open(out["file"]) as f:
        dump = f.read()
    assert "CREATE TABLE `t`" in dump and "(41),\n(42)" in dump, dump
    st = os.stat(out["file"])
    assert st.st_uid == sq.info("alice")["uid"] and st.st_mode & 0o777 == 0o600
    assert sq.mariadb.root("SHOW DATABASES LIKE 'alice+notes'").stdout.strip() == ""
    r = sq.locker("sql", "drop", "alice", "notes", check=False)
    assert r.returncode == 1 and "no database alice+notes" in r.stderr


def test_drop_purge_and_dump(sq):
    signed_up(sq, "alice")
    sq.locker("sql", "create", "alice", "tmpdb")
    out = json.loads(sq.locker("--json", "sql", "dump", "alice", "tmpdb").stdout)
    assert os.path.getsize(out["file"]) > 0
    before = set(os.listdir(os.path.dirname(out["file"])))
    sq.locker("sql", "drop", "alice", "tmpdb", "--purge")
    assert set(os.listdir(os.path.dirname(out["file"]))) == before
    assert sq.mariadb.root("SHOW DATABASES LIKE 'alice+tmpdb'").stdout.strip() == ""


@pytest.mark.parametrize("db", ["x'y", "x`y", "x%", "x y", 'x"y', "x+y", "x;y", "x\\y",
                                "a" * 70])
def test_bad_database_names_refused(sq, db):
    r = sq.locker("sql", "create", "alice", db, check=False)
    assert r.returncode == 2 and "letters, digits" in r.stderr, (db, r.stderr)


def test_password_changes_and_file_follows(sq):
    old = signed_up(sq, "alice")["password"]
    sq.locker("sql", "password", "alice")
    new = cnf(sq, "alice")["password"]
    assert new != old
    assert sq.mariadb.query("alice", old, "SELECT 1").returncode != 0
    assert sq.mariadb.query("alice", new, "SELECT 1").returncode == 0


PHP_PAGE = r"""<?php
$ini = parse_ini_file(__DIR__ . '/../.sql/my.cnf', true)['client'];
$db = $ini['user'] . '+' . $_GET['db'];
$m = new mysqli('localhost', $ini['user'], $ini['password'], $db);
$m->query('CREATE TABLE IF NOT EXISTS kv (k VARCHAR(20) PRIMARY KEY, v TEXT)');
$m->query("REPLACE INTO kv VALUES ('mysqli', 'from mysqli')");
$p = new PDO('mysql:host=localhost;dbname=' . $db, $ini['user'], $ini['password']);
$p->prepare('REPLACE INTO kv VALUES (?, ?)')->execute(['pdo', 'from PDO']);
foreach ($p->query('SELECT k, v FROM kv ORDER BY k') as $r)
    echo $r['k'], '=', $r['v'], "\n";
$r = $m->query('SELECT COUNT(*) FROM kv')->fetch_row();
echo 'count=', $r[0], "\n";
"""


def test_php_mysqli_by_tcp_to_127_0_0_1(sq):
    """The same account by TCP, as scripts configured with 127.0.0.1 connect
    (locker-network host: the machine's loopback): MariaDB, resolving names,
    takes it for alice@localhost, the one account of hers."""
    signed_up(sq, "alice")
    sq.locker("sql", "create", "alice", "web", check=False)
    sq.put("alice", "tcp.php", "<?php $i = parse_ini_file(__DIR__ . '/../.sql/my.cnf', true)"
           "['client']; $m = new mysqli('127.0.0.1', $i['user'], $i['password'], 'alice+web', "
           f"{sq.mariadb.port}); echo $m->query('SELECT CURRENT_USER()')->fetch_row()[0];")
    status, _, body = get(sq.port, "/tcp.php", "alice.test.example")
    assert (status, body) == (200, b"alice@localhost"), (body, error_log(sq, "alice"))


def test_php_mysqli_and_pdo_through_the_jails_socket(sq):
    signed_up(sq, "alice")
    sq.locker("sql", "create", "alice", "web", check=False)
    sq.put("alice", "db.php", PHP_PAGE)
    status, _, body = get(sq.port, "/db.php?db=web", "alice.test.example")
    assert status == 200, (body, error_log(sq, "alice"))
    assert body.decode() == "mysqli=from mysqli\npdo=from PDO\ncount=2\n", body


# ------------------------------------------------------------ hostile lockers

BOB_PROBE = r"""<?php
mysqli_report(MYSQLI_REPORT_OFF);
$ini = parse_ini_file(__DIR__ . '/../.sql/my.cnf', true)['client'];
$out = [];
// bob's own account, on alice's database
$m = @new mysqli('localhost', $ini['user'], $ini['password']);
$out['own'] = $m->connect_errno ? 'connect ' . $m->connect_error : 'ok';
$out['use_alice'] = $m->select_db('alice+web') ? 'ok' : $m->error;
$r = $m->query('SELECT * FROM `alice+web`.kv');
$out['read_alice'] = $r ? 'ok' : $m->error;
$out['create_alice'] = $m->query('CREATE DATABASE `alice+bobs`') ? 'ok' : $m->error;
$out['create_wild'] = $m->query('CREATE DATABASE `bobx`') ? 'ok' : $m->error;
$out['grant'] = $m->query("GRANT ALL ON `alice+web`.* TO 'bob'@'localhost'") ? 'ok' : $m->error;
$out['mysql_user'] = $m->query('SELECT * FROM mysql.global_priv') ? 'ok' : $m->error;
$r = $m->query('SHOW DATABASES');
$out['databases'] = $r ? implode(',', array_column($r->fetch_all(), 0)) : $m->error;
// the admin account, MariaDB's root by its socket, alice's my.cnf
$a = @new mysqli('localhost', 'lockerd_admin', '');
$out['admin'] = $a->connect_errno ? 'refused' : 'ok';
$a = @new mysqli('localhost', 'root', '');
$out['root'] = $a->connect_errno ? 'refused' : 'ok';
$out['alice_cnf'] = @file_get_contents($_GET['alice'] . '/.sql/my.cnf') === false ? 'unreadable' : 'read';
$out['admin_cnf'] = @file_get_contents($_GET['creds']) === false ? 'unreadable' : 'read';
echo json_encode($out);
"""


def test_hostile_bob_cannot_reach_alices_databases_or_the_admin(sq):
    """bob's account, bob's scripts: nothing of alice's, nothing of the admin's."""
    signed_up(sq, "alice")
    sq.locker("sql", "create", "alice", "web", check=False)
    status, _, body = get(sq.port, "/db.php?db=web", "alice.test.example")
    assert status == 200, body
    signed_up(sq, "bob")
    sq.put("bob", "probe.php", BOB_PROBE)
    status, _, body = get(sq.port, "/probe.php?alice=" + sq.info("alice")["home"] +
                          "&creds=" + sq.mariadb.creds_file, "bob.test.example")
    assert status == 200, (body, error_log(sq, "bob"))
    out = json.loads(body)
    assert out["own"] == "ok", out
    for k in ("use_alice", "read_alice", "create_alice", "create_wild", "grant", "mysql_user"):
        assert "denied" in out[k], (k, out)
    assert "alice" not in out["databases"], out
    assert out["admin"] == "refused" and out["root"] == "refused", out
    assert out["alice_cnf"] == "unreadable" and out["admin_cnf"] == "unreadable", out
    # and from outside any sandbox, with bob's password: the same refusal
    b = cnf(sq, "bob")
    r = sq.mariadb.query("bob", b["password"], "SELECT * FROM `alice+web`.kv")
    assert r.returncode != 0 and "denied" in r.stderr


def test_hostile_sql_symlink_to_etc_changes_nothing_outside(sq):
    """alice makes ~/.sql a symlink to /etc: lockerd writes as alice, beneath
    her home, without following it; /etc is untouched."""
    import shutil
    signed_up(sq, "alice")
    info = sq.info("alice")
    sqldir = os.path.join(info["home"], ".sql")
    keep = sqldir + ".kept"
    shutil.move(sqldir, keep)
    etc_before = etc_names()
    os.symlink("/etc", sqldir)
    os.lchown(sqldir, info["uid"], info["gid"])
    try:
        for verb in (("password", "alice"), ("dump", "alice")):
            r = sq.locker("sql", *verb, check=False)
            assert r.returncode == 1 and "not a directory of the locker's" in r.stderr, r.stderr
        assert etc_names() == etc_before
        assert not os.path.exists("/etc/my.cnf") and not os.path.exists("/etc/dumps")
    finally:
        os.unlink(sqldir)
        shutil.move(keep, sqldir)
    # mended by the next password
    sq.locker("sql", "password", "alice")
    assert sq.mariadb.query("alice", cnf(sq, "alice")["password"], "SELECT 1").returncode == 0


def test_hostile_my_cnf_as_a_symlink_is_replaced_not_followed(sq):
    """~/.sql/my.cnf a symlink to a file of root's: the new my.cnf replaces
    the link; the file it pointed at is unchanged."""
    signed_up(sq, "alice")
    info = sq.info("alice")
    path = os.path.join(info["home"], ".sql", "my.cnf")
    victim = os.path.join(sq.dir, "victim")
    with open(victim, "w") as f:
        f.write("root's\n")
    os.unlink(path)
    os.symlink(victim, path)
    os.lchown(path, info["uid"], info["gid"])
    sq.locker("sql", "password", "alice")
    assert not os.path.islink(path)
    with open(victim) as f:
        assert f.read() == "root's\n"
    assert os.stat(path).st_uid == info["uid"]


def test_hostile_names_with_sql_in_them_are_refused_everywhere(sq):
    """A quote, a backtick, a % or a NUL never reaches sqld."""
    for args in (("create", "alice", "w'); DROP DATABASE mysql; --"),
                 ("drop", "alice", "%"), ("dump", "alice", "x`"),
                 ("create", "alice", "a_b%")):
        r = sq.locker("sql", *args, check=False)
        assert r.returncode == 2, (args, r.stderr)
    assert sq.mariadb.root("SHOW DATABASES LIKE 'mysql'").stdout.strip() == "mysql"


def test_the_admins_of_another_locker_are_refused(sq):
    """Only a locker's admins (and root) may run its sql verbs."""
    from conftest import login_users, as_user, refused
    with login_users(["sqlmallory"], "lockerd sql test"):
        for args in (("signup", "alice"), ("password", "alice"), ("dump", "alice"),
                     ("create", "alice", "x"), ("list", "alice")):
            refused(as_user(sq, "sqlmallory", "sql", *args), "alice")
        # without a NAME: only their own lockers' databases, none here
        r = as_user(sq, "sqlmallory", "--json", "sql", "list")
        assert r.returncode == 0 and json.loads(r.stdout) == [], r.stderr


def test_200_connections_of_alice_leave_bob_able_to_connect(sq):
    """sql-max-connections (20 here) holds alice to her share, by the socket
    and by TCP together: 200 attempts, both ways in turn, from her sandbox,
    hold 20 in all (not 20 each way)."""
    signed_up(sq, "alice")
    b = signed_up(sq, "bob")
    p, held = connections_both_ways(sq, "alice", sq.mariadb.port)
    try:
        assert held["socket"] + held["tcp"] == 20, held
        assert held["tcp"] > 0, held
        r = sq.mariadb.query("bob", b["password"], "SELECT 1")
        assert r.returncode == 0, r.stderr
    finally:
        p.stdin.close()
        p.wait(timeout=60)


def test_an_older_lockerds_tcp_account_is_dropped_and_tcp_goes_on(sq):
    """An account an older lockerd made as a pair (alice@127.0.0.1 beside
    alice@localhost, each with the whole limit): sqld drops the twin when
    it connects, and TCP goes on as alice@localhost with the same password."""
    import signal
    from conftest import wait_for
    a = signed_up(sq, "alice")
    sq.mariadb.root(f"CREATE USER 'alice'@'127.0.0.1' IDENTIFIED BY '{a['password']}' "
                    "WITH MAX_USER_CONNECTIONS 20; GRANT ALL PRIVILEGES ON `alice+%`.* TO "
                    "'alice'@'127.0.0.1'")
    pid = sq.pids("sqld")[0]
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: sq.pids("sqld") and sq.pids("sqld")[0] != pid, within=10)
    assert wait_for(lambda: sq.locker("sql", "list", "alice", check=False).returncode == 0,
                    within=10)
    assert sq.mariadb.root("SELECT Host FROM mysql.global_priv WHERE User='alice'"
                           ).stdout.split() == ["localhost"]
    r = sq.mariadb.query_tcp("alice", a["password"], "SELECT CURRENT_USER()")
    assert r.stdout.strip() == "alice@localhost", r.stderr


def test_a_stopped_mariadb_fails_the_request_in_bounds_and_pages_go_on(sq):
    """MariaDB stopped (SIGSTOP): `locker sql` fails within sql-timeout's
    bound with a clear message; the master answers other verbs and pages
    are served meanwhile; all is well once it runs again."""
    signed_up(sq, "alice")
    sq.put("alice", "static.txt", "still here\n", mode=0o644)
    sq.mariadb.pause()
    try:
        t0 = time.monotonic()
        p = subprocess.Popen([os.path.join(sq.build, "locker"), "-c", sq.conf, "sql", "list",
                              "alice"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        # the master's loop is not blocked: another verb and a page, now
        assert sq.locker("info", "alice", "--json").returncode == 0
        assert get(sq.port, "/static.txt", "alice.test.example")[2] == b"still here\n"
        out, err = p.communicate(timeout=3 * SQL_TIMEOUT * 3 + 10)
        assert p.returncode == 69 and "did not answer" in err, (p.returncode, err)
        print(f"a stopped MariaDB: `locker sql list` failed after {time.monotonic() - t0:.1f} s "
              f"(sql-timeout {SQL_TIMEOUT}s)")
    finally:
        sq.mariadb.resume()
    assert sq.locker("sql", "list", "alice").returncode == 0


def test_sqld_killed_is_restarted(sq):
    import signal
    pid = sq.pids("sqld")[0]
    os.kill(pid, signal.SIGKILL)

    def again():
        p = sq.pids("sqld")
        return p and p[0] != pid
    from conftest import wait_for
    assert wait_for(again, within=10)
    assert wait_for(lambda: sq.locker("sql", "list", "alice", check=False).returncode == 0,
                    within=10)


def test_remove_keeps_a_final_dump_and_a_new_locker_of_the_name_gets_nothing(sq):
    """`locker remove`: a final dump of carol's databases goes into the
    archive with her home; her databases and account go, so a locker signed
    up later under the name starts with none of them."""
    import glob
    sq.signup("carol")
    c = signed_up(sq, "carol")
    sq.locker("sql", "create", "carol", "blog")
    assert sq.mariadb.query("carol", c["password"], "CREATE TABLE p (t TEXT); INSERT INTO p "
                            "VALUES ('CAROLS-POST')", database="carol+blog").returncode == 0
    # one of hers made with her own CREATE DATABASE, a name lockerd would refuse
    assert sq.mariadb.query("carol", c["password"],
                            "CREATE DATABASE `carol+we ird``q`").returncode == 0
    r = sq.locker("remove", "carol")
    assert "final dump" in r.stdout, r.stdout
    dumps = glob.glob(os.path.join(sq.lockers, ".archive", "carol.*", ".sql", "dumps", "*.sql"))
    assert len(dumps) == 1, dumps
    with open(dumps[0]) as f:
        assert "CAROLS-POST" in f.read()
    assert sq.mariadb.root("SHOW DATABASES LIKE 'carol+%'").stdout.strip() == ""
    assert sq.mariadb.root("SELECT User FROM mysql.global_priv WHERE User='carol'").stdout == ""
    sq.signup("carol")
    c2 = signed_up(sq, "carol")
    r = sq.mariadb.query("carol", c2["password"], "SHOW DATABASES")
    assert "carol+blog" not in r.stdout, r.stdout
    sq.locker("remove", "carol", "--purge")
    assert sq.mariadb.root("SELECT User FROM mysql.global_priv WHERE User='carol'").stdout == ""


def test_remove_purge_drops_the_databases_without_a_dump(sq):
    sq.signup("dave")
    signed_up(sq, "dave")
    sq.locker("sql", "create", "dave", "x")
    sq.locker("remove", "dave", "--purge")
    assert sq.mariadb.root("SHOW DATABASES LIKE 'dave+%'").stdout.strip() == ""
    assert sq.mariadb.root("SELECT User FROM mysql.global_priv WHERE User='dave'").stdout == ""


def test_remove_without_an_account_is_as_before(sq):
    sq.signup("erin")
    r = sq.locker("remove", "erin")
    assert "archived" in r.stdout


def test_remove_with_mariadb_stopped_removes_nothing(sq):
    """The databases cannot be dealt with: the locker stays, whole."""
    sq.signup("frank")
    signed_up(sq, "frank")
    sq.mariadb.pause()
    try:
        r = sq.locker("remove", "frank", check=False)
    finally:
        sq.mariadb.resume()
    assert r.returncode == 69 and "not removed" in r.stderr, r.stderr
    assert sq.info("frank")["name"] == "frank"
    assert os.path.exists(os.path.join(sq.info("frank")["home"], ".sql", "my.cnf"))
    sq.locker("remove", "frank", "--purge")


# ------------------------------------------------------------ kill -9

def restart_after_crash(d):
    """The master killed itself (LOCKERD_CRASH_AT): lockerd started again,
    the same way (the step file is empty now, so it goes on past it)."""
    import socket
    from conftest import wait_for
    d.proc.wait(timeout=60)
    assert d.proc.returncode == -9, d.log()[-2000:]
    d.proc = None
    d.stderr.close()
    # Its children die with it (PR_SET_PDEATHSIG); until the last front
    # has, the old listener may still answer, and the old socket file is
    # there: start() must not take either for the new lockerd's.

    def gone():
        try:
            socket.create_connection(("127.0.0.1", d.port), timeout=0.2).close()
            return False
        except OSError:
            return True
    assert wait_for(gone, within=30)
    os.unlink(os.path.join(d.dir, "state", "control.sock"))
    d.start()


def crash_at(d, step, *verb):
    """`locker *verb` with lockerd (or sqld, for a sqld-* step) killed at
    step; lockerd and sqld running again afterwards.  The verb's result."""
    from conftest import wait_for
    with open(d.crash_file, "w") as f:
        f.write(step)
    if step.startswith("sqld-"):
        # the master hands the step to the next sqld it starts
        old = d.pids("sqld")[0]
        os.kill(old, 9)
        assert wait_for(lambda: d.pids("sqld") and d.pids("sqld")[0] != old, within=20)
        old = d.pids("sqld")[0]
    r = d.locker(*verb, check=False)
    if step.startswith("sqld-"):
        assert wait_for(lambda: d.pids("sqld") and d.pids("sqld")[0] != old, within=20), \
            "sqld did not die at " + step
    else:
        restart_after_crash(d)
    with open(d.crash_file) as f:
        assert f.read() == "", f"{step} was never reached"
    # sqld answers again
    assert wait_for(lambda: d.locker("sql", "list", check=False).returncode == 0, within=20)
    return r


def account_state(d, locker):
    """(hosts of the account, hosts with its grant, its databases)."""
    m = d.mariadb
    hosts = m.root(f"SELECT Host FROM mysql.global_priv WHERE User='{locker}'").stdout.split()
    grants = m.root(f"SELECT Host FROM mysql.db WHERE User='{locker}' AND Db='{locker}+%'"
                    ).stdout.split()
    dbs = m.root(f"SHOW DATABASES LIKE '{locker}+%'").stdout.split()
    return sorted(hosts), sorted(grants), dbs


def works(d, locker):
    """The locker's my.cnf is its account's, and the account reaches its own."""
    try:
        c = cnf(d, locker)
    except OSError:
        return False
    return d.mariadb.query(locker, c["password"], "SELECT 1").returncode == 0


# Every step boundary of signup, password, create, drop and remove where a
# crash leaves something to see: sqld-* inside sqld (between its
# statements, or sqld-answer-OP: done but not answered; killed as a crash
# of the master kills it), sql-* in the master (lockerd killed).  What each leaves, and
# that the verb done again completes it (or says it is done).
CRASHES = [
    ("sqld-created", "signup"), ("sqld-altered", "signup"),
    ("sqld-answer-signup", "signup"), ("sql-account", "signup"), ("sql-cnf", "signup"),
    ("sqld-altered", "password"), ("sqld-answer-password", "password"),
    ("sql-account", "password"), ("sql-cnf", "password"),
    ("sqld-answer-create", "create"),
    ("sql-dumped", "drop"), ("sqld-answer-drop", "drop"), ("sql-dropped", "drop"),
    ("sql-remove-dumped", "remove"), ("sqld-remove-dbs", "remove"),
    ("sqld-answer-remove", "remove"), ("sql-removed", "remove"),
]


@pytest.mark.parametrize("step,verb", CRASHES, ids=[f"{v}-{s}" for s, v in CRASHES])
def test_kill_9_at_every_step_leaves_things_consistent(sq, step, verb):
    import glob
    name = f"k{CRASHES.index((step, verb))}{verb[:3]}"
    sq.signup(name)
    if verb != "signup":
        signed_up(sq, name)
        sq.locker("sql", "create", name, "keep")
        pw = cnf(sq, name)["password"]
        assert sq.mariadb.query(name, pw, "CREATE TABLE t (s TEXT); INSERT INTO t VALUES "
                                "('ROW')", database=f"{name}+keep").returncode == 0
    args = {"signup": ("sql", "signup", name), "password": ("sql", "password", name),
            "create": ("sql", "create", name, "more"), "drop": ("sql", "drop", name, "keep"),
            "remove": ("remove", name)}[verb]
    r = crash_at(sq, step, *args)
    assert r.returncode != 0, (step, r.stdout)
    hosts, grants, dbs = account_state(sq, name)
    home = sq.info(name)["home"]        # the locker is in the directory, whole

    if verb == "signup":
        # an account half made (no grant yet) or whole; never a grant alone
        assert hosts == ["localhost"] and dbs == [], (hosts, dbs)
        assert grants == ([] if step in ("sqld-created", "sqld-altered") else ["localhost"])
        assert os.path.exists(os.path.join(home, ".sql", "my.cnf")) == (step == "sql-cnf")
        again = sq.locker("sql", "signup", name, check=False)
        if step in ("sqld-created", "sqld-altered"):
            assert again.returncode == 0, again.stderr      # completed
        else:
            assert again.returncode == 1 and f"locker sql password {name}" in again.stderr
        if not works(sq, name):
            sq.locker("sql", "password", name)
        assert works(sq, name)
    elif verb == "password":
        assert hosts == grants == ["localhost"] and dbs == [f"{name}+keep"]
        assert works(sq, name) == (step == "sql-cnf")
        sq.locker("sql", "password", name)
        assert works(sq, name)
    elif verb == "create":
        assert sorted(dbs) == [f"{name}+keep", f"{name}+more"], dbs
        again = sq.locker("sql", "create", name, "more", check=False)
        assert again.returncode == 1 and "exists" in again.stderr, again.stderr
    elif verb == "drop":
        dumps = glob.glob(os.path.join(home, ".sql", "dumps", f"{name}+keep.*.sql"))
        assert len(dumps) == 1 and "ROW" in open(dumps[0]).read(), dumps
        if step == "sql-dumped":
            assert dbs == [f"{name}+keep"]          # the dump first, then the drop
            time.sleep(1.1)     # the next dump's name has another second
            sq.locker("sql", "drop", name, "keep")
        else:
            assert dbs == []
            again = sq.locker("sql", "drop", name, "keep", check=False)
            assert again.returncode == 1 and "no database" in again.stderr
        assert account_state(sq, name)[2] == []
    else:   # remove: the locker stays until its databases and account are gone
        if step == "sql-remove-dumped":
            assert hosts == ["localhost"] and dbs == [f"{name}+keep"]
        elif step == "sqld-remove-dbs":
            assert hosts == ["localhost"] and dbs == []
        else:
            assert hosts == [] and dbs == []
        dumps = glob.glob(os.path.join(home, ".sql", "dumps", f"{name}.*.sql"))
        assert len(dumps) == 1 and "ROW" in open(dumps[0]).read(), dumps
        time.sleep(1.1)
        sq.locker("remove", name)
        assert account_state(sq, name) == ([], [], [])
        assert sq.locker("info", name, check=False).returncode != 0
        archived = glob.glob(os.path.join(sq.lockers, ".archive", f"{name}.*", ".sql", "dumps",
                                          f"{name}.*.sql"))
        assert any("ROW" in open(a).read() for a in archived), archived
