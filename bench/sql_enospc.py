"""What MariaDB does when one tenant fills its disk (issue 14, item 5).

    sudo python3 bench/sql_enospc.py

A private mariadbd (tests/integration/mariadb.py) whose data directory is
a 320 MB ext4 image on a loop device; "alice" inserts 1 MB rows into her
database until an error, then "bob" tries to use his.  Prints what each
step got, then restarts mariadbd on the still-full disk and tries again.
Measured 2026-12-07 (load ~20 on the shared 2-core machine): after 238 MB
InnoDB failed to extend alice's .ibd (error 28, ENOSPC), then aborted
("[FATAL] InnoDB: Error (Out of disk space) in rollback", signal 6): the
server was down for every tenant, and would not start again until space
was freed ("Plugin 'InnoDB' registration as a STORAGE ENGINE failed").
So a limit must hold before the file system fills, never at ENOSPC.
"""
import os
import pwd
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from mariadb import MariaDB
from conftest import TEST_BASE
d = tempfile.mkdtemp(prefix="mdbfull", dir=TEST_BASE)
img = os.path.join(d, "data.img")
subprocess.run(["truncate", "-s", "320M", img], check=True)
subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True)
m = MariaDB(d)
os.makedirs(m.data)
subprocess.run(["mount", "-o", "loop", img, m.data], check=True)
mysql = pwd.getpwnam("mysql")
os.chown(m.data, mysql.pw_uid, mysql.pw_gid)
try:
    subprocess.run(["rm", "-rf", os.path.join(m.data, "lost+found")])
    m.start()
    print("df after start:", subprocess.run(["df", "-h", m.data], capture_output=True, text=True).stdout.splitlines()[1])
    m.root("CREATE DATABASE `alice+fill`; CREATE DATABASE `bob+app`;"
           "CREATE TABLE `alice+fill`.t (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB;"
           "CREATE TABLE `bob+app`.t (id INT AUTO_INCREMENT PRIMARY KEY, s TEXT) ENGINE=InnoDB;"
           "INSERT INTO `bob+app`.t (s) VALUES ('before')")
    t0 = time.monotonic()
    n = 0
    err = ""
    while True:
        r = m.root("INSERT INTO `alice+fill`.t (b) VALUES (REPEAT('x', 1000000))", check=False)
        if r.returncode != 0:
            err = r.stderr.strip()
            break
        n += 1
        if n > 600:
            break
    print(f"alice: {n} MB inserted, then: {err!r} after {time.monotonic()-t0:.1f}s")
    print("df at full:", subprocess.run(["df", "-h", m.data], capture_output=True, text=True).stdout.splitlines()[1])
    print("mariadbd alive:", m.proc.poll() is None)
    r = m.root("INSERT INTO `bob+app`.t (s) VALUES ('during')", check=False)
    print("bob insert while full:", r.returncode, r.stderr.strip())
    r = m.root("SELECT COUNT(*) FROM `bob+app`.t", check=False)
    print("bob select while full:", r.returncode, r.stdout.strip(), r.stderr.strip())
    r = m.root("CREATE TABLE `bob+app`.u (n INT)", check=False)
    print("bob create table while full:", r.returncode, r.stderr.strip())
    r = m.root("DELETE FROM `alice+fill`.t; ", check=False)
    print("alice delete:", r.returncode, r.stderr.strip())
    r = m.root("DROP TABLE `alice+fill`.t", check=False)
    print("alice drop table:", r.returncode, r.stderr.strip())
    print("df after drop:", subprocess.run(["df", "-h", m.data], capture_output=True, text=True).stdout.splitlines()[1])
    r = m.root("INSERT INTO `bob+app`.t (s) VALUES ('after')", check=False)
    print("bob insert after:", r.returncode, r.stderr.strip())
    r = m.root("CHECK TABLE `bob+app`.t", check=False)
    print("check table:", r.stdout.strip(), r.stderr.strip())
    print("mariadbd alive:", m.proc.poll() is None)
    m.proc = None
    t0 = time.monotonic()
    try:
        m.start()
        print(f"restarted on the full disk in {time.monotonic()-t0:.1f}s")
        r = m.root("CHECK TABLE `bob+app`.t; SELECT COUNT(*) FROM `bob+app`.t; SELECT COUNT(*) FROM `alice+fill`.t", check=False)
        print("after restart:", r.stdout.strip().replace("\n", " | "), r.stderr.strip())
        r = m.root("INSERT INTO `bob+app`.t (s) VALUES ('after restart')", check=False)
        print("bob insert after restart (disk still full):", r.returncode, r.stderr.strip()[-120:])
        r = m.root("DROP DATABASE `alice+fill`", check=False)
        print("drop alice's database:", r.returncode, r.stderr.strip()[-120:])
        print("df after drop:", subprocess.run(["df", "-h", m.data], capture_output=True, text=True).stdout.splitlines()[1])
        r = m.root("INSERT INTO `bob+app`.t (s) VALUES ('after drop'); CHECK TABLE `bob+app`.t", check=False)
        print("bob after the drop:", r.returncode, r.stdout.strip().replace("\n", " | "), r.stderr.strip()[-120:])
    except Exception as e:
        print("restart failed:", str(e)[-600:])
    log = open(m.err_log, errors="replace").read()
    print("the error log's errors:")
    for ln in [x for x in log.splitlines() if "[ERROR]" in x or "signal" in x][-8:]:
        print("   ", ln[:200])
finally:
    m.stop()
    subprocess.run(["umount", m.data])
    subprocess.run(["rm", "-rf", d])
