"""Autoinstallers and the SQL service (issue 16), the master's side: an app
that needs MariaDB gets the locker's account made first if it has none (as
`locker sql signup` makes it: the password in ~/.sql/my.cnf, written as
the locker) and its own database (NAME+wp), whose name lockerd-app is
given; phpMyAdmin gets the account only.  A real MariaDB, one for the
module, and one lockerd with `sql mariadb`."""
import json
import os
import subprocess
import tempfile

import pytest

from conftest import TEST_BASE, Lockerd
from mariadb import MariaDB, available

pytestmark = pytest.mark.skipif(not available(), reason="no MariaDB server here")


@pytest.fixture(scope="module")
def mariadb():
    m = MariaDB(tempfile.mkdtemp(prefix="mdbam", dir=TEST_BASE)).start()
    yield m
    m.cleanup()


@pytest.fixture(scope="module")
def d(build_dir, mariadb):
    if not os.access(os.path.join(build_dir, "lockerd-app"), os.X_OK):
        pytest.skip("build/lockerd-app is not built")
    d = Lockerd(build_dir, extra=f"sql mariadb {mariadb.socket} {mariadb.creds_file}\n"
                ).start()
    yield d
    d.cleanup()


def slow(d, *args):
    return subprocess.run([os.path.join(d.build, "locker"), "-c", d.conf, *args],
                          capture_output=True, text=True, timeout=600)


def databases(m):
    return set(m.root("SHOW DATABASES").stdout.split())


def test_an_install_makes_the_account_and_its_database_first(d, mariadb):
    info = d.signup("amsql")
    cnf = os.path.join(info["home"], ".sql", "my.cnf")
    assert not os.path.exists(cnf)
    # phpMyAdmin: the account only, made by the install
    r = slow(d, "install", "amsql", "phpmyadmin", "--path", "pma")
    assert r.returncode == 0, r.stdout + r.stderr
    st = os.stat(cnf)
    assert st.st_uid == info["uid"] and st.st_mode & 0o777 == 0o600
    assert not any(db.startswith("amsql+") for db in databases(mariadb))
    # WordPress: the account is there; its database is made, then installed into
    r = slow(d, "install", "amsql", "wordpress", "--path", "blog", "--title", "Blog",
             "--admin", "boss", "--email", "boss@example.org")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "amsql+wp" in databases(mariadb)
    rows = {x["path"]: x for x in json.loads(d.locker("--json", "installs", "amsql").stdout)}
    assert set(rows) == {"pma", "blog"}, rows
    assert rows["blog"]["app"] == "wordpress" and rows["pma"]["app"] == "phpmyadmin"
    audit = [a["action"] for a in json.loads(d.locker("--json", "audit", "amsql").stdout)]
    assert "sql signup" in audit and "sql create" in audit and "app install" in audit
    # the account made once: the locker's own password still opens it
    assert os.stat(cnf).st_ino == st.st_ino
