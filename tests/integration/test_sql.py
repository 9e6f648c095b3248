"""Issue 14: the SQL service on a real MariaDB.

A real mariadbd (tests/integration/mariadb.py) on a private data directory
and socket, started once for the module and stopped by its pid.
"""
import os
import tempfile

import pytest

from conftest import TEST_BASE
from mariadb import MariaDB, available

pytestmark = pytest.mark.skipif(not available(), reason="mariadb-server is not installed")


@pytest.fixture(scope="module")
def mariadb():
    os.makedirs(TEST_BASE, exist_ok=True)
    m = MariaDB(tempfile.mkdtemp(prefix="mdb", dir=TEST_BASE)).start()
    yield m
    m.cleanup()


def test_harness_mariadb_answers(mariadb):
    """The private MariaDB runs, its admin account works, no TCP."""
    assert mariadb.root("SELECT 1").stdout.strip() == "1"
    r = mariadb.query(mariadb.admin_user, mariadb.admin_password, "SELECT CURRENT_USER()")
    assert r.returncode == 0 and r.stdout.startswith("lockerd_admin@localhost"), r.stderr
    assert mariadb.root("SELECT @@skip_networking").stdout.strip() == "1"
    assert oct(os.stat(mariadb.creds_file).st_mode & 0o777) == "0o600"
    print(f"mariadbd started in {mariadb.start_seconds:.2f} s")
