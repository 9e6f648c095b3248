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

from conftest import TEST_BASE, Lockerd, get
from mariadb import MariaDB, available

pytestmark = pytest.mark.skipif(not available(), reason="mariadb-server is not installed")

SQL_TIMEOUT = 2


@pytest.fixture(scope="module")
def mariadb():
    os.makedirs(TEST_BASE, exist_ok=True)
    m = MariaDB(tempfile.mkdtemp(prefix="mdb", dir=TEST_BASE)).start()
    yield m
    m.cleanup()


@pytest.fixture(scope="module")
def sq(build_dir, mariadb):
    """lockerd with the SQL service, lockers alice and bob."""
    d = Lockerd(build_dir, extra=f"sql mariadb {mariadb.socket} {mariadb.creds_file}\n"
                f"sql-timeout {SQL_TIMEOUT}s\nsql-max-connections 20\n").start()
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
    """The private MariaDB runs, its admin account works, no TCP."""
    assert mariadb.root("SELECT 1").stdout.strip() == "1"
    r = mariadb.query(mariadb.admin_user, mariadb.admin_password, "SELECT CURRENT_USER()")
    assert r.returncode == 0 and r.stdout.startswith("lockerd_admin@localhost"), r.stderr
    assert mariadb.root("SELECT @@skip_networking").stdout.strip() == "1"
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
    # The grant's pattern is alice+% with nothing a wildcard could stretch.
    rows = sq.mariadb.root("SELECT Db FROM mysql.db WHERE User='alice'").stdout.split()
    assert rows == ["alice+%"], rows
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


def test_php_mysqli_and_pdo_through_the_jails_socket(sq):
    signed_up(sq, "alice")
    sq.locker("sql", "create", "alice", "web", check=False)
    sq.put("alice", "db.php", PHP_PAGE)
    status, _, body = get(sq.port, "/db.php?db=web", "alice.test.example")
    assert status == 200, (body, error_log(sq, "alice"))
    assert body.decode() == "mysqli=from mysqli\npdo=from PDO\ncount=2\n", body
