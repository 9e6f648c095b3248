"""A real PostgreSQL for the tests: Debian's PostgreSQL 15 on a private data
directory, its own socket directory and TCP port, run as Debian's postgres
user and stopped by its pid.  A primary, and standbys streaming from it
that can be promoted: the fleet directory's authority and its failover.

    p = pg.primary(directory)            # initdb, started, database lockerd ready
    s = pg.standby(p, directory2)        # pg_basebackup -R of p, started, streaming
    p.conninfo()                         # libpq conninfo of the lockerd account on p
    pg.conninfo(p, s)                    # both, target_session_attrs=read-write
    pg.write_conninfo(path, p, s)        # that, in a 0600 file (directory postgres FILE)
    p.sql("SELECT 1")                    # as the superuser, through the socket: rows
    p.stop(); p.start()                  # fast shutdown (clients cut off); again
    p.kill()                             # SIGKILL: a crash
    s.promote()                          # the standby takes writes
    p.cleanup()                          # stopped, its directory removed

listen: the address it listens on (e.g. the bridge's address of a netns
harness, or "127.0.0.1,10.9.0.1"); the first is what conninfo() names.
The account lockerd uses is `lockerd` with a random password (scram), the
owner of database `lockerd`; replication uses `lockerd_repl`.  Durability
is off (fsync): a test's data directory is thrown away anyway.
"""
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time

from conftest import free_port

BIN = "/usr/lib/postgresql/15/bin"
POSTGRES = os.path.join(BIN, "postgres")


def available():
    return os.path.exists(POSTGRES) and os.path.exists(os.path.join(BIN, "initdb"))


def _as_postgres(args, **kw):
    pw = pwd.getpwnam("postgres")
    return subprocess.run(args, user=pw.pw_uid, group=pw.pw_gid, extra_groups=[],
                          capture_output=True, text=True, **kw)


class PG:
    def __init__(self, directory, listen="127.0.0.1", port=None):
        self.dir = directory
        self.data = os.path.join(directory, "data")
        self.sock = os.path.join(directory, "sock")
        self.log_file = os.path.join(directory, "postgres.log")
        self.listen = listen
        self.host = listen.split(",")[0]
        self.port = port or free_port()
        self.password = secrets.token_hex(16)
        self.repl_password = secrets.token_hex(16)
        self.proc = None
        self.start_seconds = None

    # --- making it ---

    def _dirs(self):
        pw = pwd.getpwnam("postgres")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        for d in (self.sock,):
            os.makedirs(d, exist_ok=True)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        with open(self.log_file, "a"):
            pass
        os.chown(self.log_file, pw.pw_uid, pw.pw_gid)

    def _initdb(self):
        pw = pwd.getpwnam("postgres")
        os.makedirs(self.data, mode=0o700, exist_ok=True)
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        r = _as_postgres([os.path.join(BIN, "initdb"), "-D", self.data, "-U", "postgres",
                          "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                          "--locale=C.UTF-8", "--no-sync"], timeout=300)
        if r.returncode != 0:
            raise RuntimeError("initdb failed: " + r.stdout + r.stderr)
        with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
            # Any address: a netns harness's nodes come from their own.
            f.write("host all all 0.0.0.0/0 scram-sha-256\n"
                    "host replication lockerd_repl 0.0.0.0/0 scram-sha-256\n")

    def _args(self):
        return [POSTGRES, "-D", self.data, "-p", str(self.port),
                "-c", f"listen_addresses={self.listen}",
                "-c", f"unix_socket_directories={self.sock}",
                "-c", "fsync=off", "-c", "full_page_writes=off",
                "-c", "synchronous_commit=off",
                "-c", "shared_buffers=16MB", "-c", "max_connections=100",
                "-c", "wal_level=replica", "-c", "max_wal_senders=8",
                "-c", "wal_keep_size=64MB", "-c", "hot_standby=on",
                "-c", "logging_collector=off", "-c", "log_min_messages=warning"]

    def start(self):
        """Started and answering; raised (with its log) if it will not."""
        pw = pwd.getpwnam("postgres")
        t0 = time.monotonic()
        log = open(self.log_file, "a")
        self.proc = subprocess.Popen(self._args(), user=pw.pw_uid, group=pw.pw_gid,
                                     extra_groups=[], stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 120
        while not self._answers():
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited: " + self.log())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("postgres did not start: " + self.log())
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - t0
        return self

    def _answers(self):
        r = _as_postgres([os.path.join(BIN, "pg_isready"), "-q", "-h", self.sock,
                          "-p", str(self.port)], timeout=30)
        return r.returncode == 0

    def _accounts(self):
        self.sql(f"CREATE ROLE lockerd LOGIN PASSWORD '{self.password}'; "
                 f"CREATE ROLE lockerd_repl LOGIN REPLICATION PASSWORD '{self.repl_password}'",
                 db="postgres")
        self.sql("CREATE DATABASE lockerd OWNER lockerd", db="postgres")

    # --- using it ---

    def sql(self, text, db="lockerd", check=True):
        """text as the superuser (socket, trust); rows as lists of strings."""
        r = _as_postgres([os.path.join(BIN, "psql"), "-X", "-q", "-A", "-t", "-F", "\t",
                          "-v", "ON_ERROR_STOP=1", "-h", self.sock, "-p", str(self.port),
                          "-U", "postgres", "-d", db if db else "postgres", "-c", text],
                         timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"{text}: {r.stderr}")
        return [ln.split("\t") for ln in r.stdout.splitlines() if ln != ""]

    def conninfo(self, extra=""):
        return conninfo(self, extra=extra)

    def is_primary(self):
        return self.sql("SELECT pg_is_in_recovery()", db="postgres")[0][0] == "f"

    def promote(self, within=60):
        """The standby takes writes (pg_promote waits until it does)."""
        rows = self.sql(f"SELECT pg_promote(true, {int(within)})", db="postgres")
        assert rows[0][0] == "t", "pg_promote did not finish: " + self.log()
        return self

    def stop(self, timeout=60):
        """Fast shutdown (SIGINT: clients are cut off, as a crash would),
        SIGKILL if it has not gone within timeout seconds."""
        self._signal(signal.SIGINT, timeout)

    def kill(self):
        self._signal(signal.SIGKILL, 60)

    def _signal(self, sig, timeout):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            with open(self.log_file, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def primary(directory, listen="127.0.0.1", port=None):
    """A fresh primary, started, with the lockerd database and accounts."""
    p = PG(directory, listen, port)
    try:
        p._dirs()
        p._initdb()
        p.start()
        p._accounts()
    except BaseException:
        p.cleanup()
        raise
    return p


def standby(prim, directory, listen="127.0.0.1", port=None):
    """A hot standby of prim, copied with pg_basebackup -R (streaming from
    prim's TCP address as lockerd_repl), started; same accounts."""
    s = PG(directory, listen, port)
    s.password, s.repl_password = prim.password, prim.repl_password
    try:
        s._dirs()
        pw = pwd.getpwnam("postgres")
        os.makedirs(s.data, mode=0o700, exist_ok=True)
        os.chown(s.data, pw.pw_uid, pw.pw_gid)
        r = _as_postgres([os.path.join(BIN, "pg_basebackup"), "-h", prim.host,
                          "-p", str(prim.port), "-U", "lockerd_repl", "-D", s.data, "-R",
                          "-X", "stream", "--no-sync", "-c", "fast"],
                         env={"PGPASSWORD": prim.repl_password, "PATH": "/usr/bin:/bin"},
                         timeout=300)
        if r.returncode != 0:
            raise RuntimeError("pg_basebackup failed: " + r.stdout + r.stderr)
        s.start()
    except BaseException:
        s.cleanup()
        raise
    return s


def conninfo(*servers, extra=""):
    """The libpq conninfo of the lockerd account: every server, in order,
    the one that takes writes chosen by libpq (target_session_attrs)."""
    hosts = ",".join(s.host for s in servers)
    ports = ",".join(str(s.port) for s in servers)
    ci = (f"host={hosts} port={ports} dbname=lockerd user=lockerd "
          f"password={servers[0].password} connect_timeout=2")
    if len(servers) > 1:
        ci += " target_session_attrs=read-write"
    return ci + (" " + extra if extra else "")


def write_conninfo(path, *servers, extra=""):
    """conninfo(servers) into path, root's and 0600 (as `directory
    postgres FILE` wants it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(conninfo(*servers, extra=extra) + "\n")
    return path


def wait_streaming(prim, within=60):
    """Until prim has a standby streaming from it (pg_stat_replication)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if prim.sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
                    db="postgres")[0][0] != "0":
            return True
        time.sleep(0.1)
    return False
