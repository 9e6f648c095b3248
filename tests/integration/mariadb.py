"""A real MariaDB for the tests: Debian's mariadbd on a private data
directory and a private socket, no TCP unless asked for.

    m = MariaDB(directory).start()   # module-scoped fixture; m.stop() by its pid
    m.socket, m.socket_dir           # <dir>/mysqld/mysqld.sock
    m.creds_file                     # the admin account lockerd's sqld uses
    m.root("SELECT 1")               # as MariaDB's root, by socket auth (uid 0)
    m.query(user, password, "SQL")   # as an account, through the socket

The data directory is made with mariadb-install-db (root authenticated by
the socket: only uid 0 is MariaDB's root), then the admin account lockerd
is given (lockerd_admin, a random password, every privilege with GRANT
OPTION) is created and written to a 0600 file as `[client] user= password=`.
mariadbd runs as Debian's mysql user.  Starting it costs about 1.4 s for the
data directory and 0.6 s until it answers (measured on a loaded 2-core
machine), so a module starts one and its tests share it.
"""
import os
import secrets
import shutil
import signal
import subprocess
import time

from conftest import free_port, stop_server

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"


def available():
    return os.path.exists(MARIADBD) and os.path.exists(INSTALL_DB) and os.path.exists(CLIENT)


class MariaDB:
    def __init__(self, directory, tcp=False, extra_args=(), skip_name_resolve=True):
        self.dir = directory
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        # Its own directory: lockerd places the socket's directory in each
        # locker's sandbox at /run/mysqld, so nothing else may be in it.
        self.socket_dir = os.path.join(self.dir, "mysqld")
        self.socket = os.path.join(self.socket_dir, "mysqld.sock")
        # Its pid file and error log, where the mysql user may write.
        self.var = os.path.join(self.dir, "var")
        self.pid_file = os.path.join(self.var, "mysqld.pid")
        self.err_log = os.path.join(self.var, "mysqld.err")
        # Its temporary tables in a directory of its own, not the shared
        # /tmp (an install beside other tests' once lost its own there).
        self.tmp = os.path.join(self.dir, "tmp")
        self.port = free_port() if tcp else None
        self.extra_args = list(extra_args)
        # MariaDB's default (and Debian's) resolves names: a TCP client on
        # loopback is then "localhost", as the socket's (lockerd makes one
        # account per locker); with skip-name-resolve TCP is 127.0.0.1
        # (two accounts, the limits split).  Each SQL module runs one way.
        self.skip_name_resolve = skip_name_resolve
        self.admin_user = "lockerd_admin"
        self.admin_password = secrets.token_hex(16)
        self.creds_file = os.path.join(self.dir, "admin.cnf")
        self.proc = None
        self.start_seconds = None

    def _install(self):
        import pwd
        mysql = pwd.getpwnam("mysql")
        for d in (self.data, self.socket_dir, self.var, self.tmp):
            os.makedirs(d, exist_ok=True)
            os.chown(d, mysql.pw_uid, mysql.pw_gid)
        os.chmod(self.socket_dir, 0o755)
        r = subprocess.run([INSTALL_DB, "--no-defaults", "--user=mysql",
                            f"--datadir={self.data}", f"--tmpdir={self.tmp}",
                            "--auth-root-authentication-method=socket",
                            "--skip-test-db"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("mariadb-install-db failed: " + r.stdout + r.stderr)

    def _args(self):
        a = [MARIADBD, "--no-defaults", "--user=mysql", f"--datadir={self.data}",
             f"--socket={self.socket}", f"--pid-file={self.pid_file}",
             f"--log-error={self.err_log}", f"--tmpdir={self.tmp}",
             # Small: several of these run beside each other on a test machine.
             "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M",
             "--max-connections=400"]
        if self.skip_name_resolve:
            a.append("--skip-name-resolve")
        if self.port is None:
            a.append("--skip-networking")
        else:
            a += ["--bind-address=127.0.0.1", f"--port={self.port}"]
        return a + self.extra_args

    def start(self):
        """Started and answering, or cleaned up (its directory too) and raised."""
        try:
            return self._start()
        except BaseException:
            self.cleanup()
            raise

    def _start(self):
        t0 = time.monotonic()
        if not os.path.exists(os.path.join(self.data, "mysql")):
            self._install()
        self.proc = subprocess.Popen(self._args(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited: " + self.log())
            if self._answers():
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("mariadbd did not start: " + self.log())
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - t0
        self.root(f"CREATE USER IF NOT EXISTS '{self.admin_user}'@'localhost' "
                  f"IDENTIFIED BY '{self.admin_password}'; "
                  f"GRANT ALL PRIVILEGES ON *.* TO '{self.admin_user}'@'localhost' "
                  f"WITH GRANT OPTION")
        fd = os.open(self.creds_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"[client]\nuser={self.admin_user}\npassword={self.admin_password}\n")
        return self

    def _answers(self):
        r = subprocess.run([CLIENT, "--no-defaults", "-S", self.socket, "-uroot", "-e",
                            "SELECT 1"], capture_output=True, timeout=30)
        return r.returncode == 0

    def log(self):
        try:
            with open(self.err_log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def root(self, sql, check=True):
        """sql as MariaDB's root; the rows, tab-separated lines."""
        r = subprocess.run([CLIENT, "--no-defaults", "-S", self.socket, "-uroot", "-N", "-B",
                            "-e", sql], capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"{sql}: {r.stderr}")
        return r

    def query(self, user, password, sql, database=None):
        """sql as an account, through the socket; the CompletedProcess."""
        cmd = [CLIENT, "--no-defaults", "-S", self.socket, "-u", user, "-N", "-B",
               f"--password={password}", "-e", sql]
        if database is not None:
            cmd.append(database)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def query_tcp(self, user, password, sql):
        """sql as an account, by TCP to 127.0.0.1:port; the CompletedProcess."""
        return subprocess.run([CLIENT, "--no-defaults", "-h127.0.0.1", f"-P{self.port}",
                               "-u", user, "-N", "-B", f"--password={password}", "-e", sql],
                              capture_output=True, text=True, timeout=60)

    def pause(self):
        """SIGSTOP: a MariaDB that does not answer (a test of slowness)."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        if self.proc is None:
            return
        stop_server(self.proc, cont=True)   # a test may have stopped it
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# 200 attempts, by the socket and by TCP in turn, from a locker's sandbox;
# held until stdin closes.  Prints "socket=N tcp=M".
CONNECT_BOTH_WAYS = r"""mysqli_report(MYSQLI_REPORT_OFF); $i = parse_ini_file(getenv('HOME')
. '/.sql/my.cnf', true)['client']; $n = ['socket' => 0, 'tcp' => 0]; $h = [];
for ($k = 0; $k < 200; $k++) { $way = $k % 2 ? 'tcp' : 'socket';
$m = $way == 'tcp' ? @new mysqli('127.0.0.1', $i['user'], $i['password'], '', @PORT@)
: @new mysqli('localhost', $i['user'], $i['password']);
if (!$m->connect_errno) { $n[$way]++; $h[] = $m; } }
echo 'socket=', $n['socket'], ' tcp=', $n['tcp'], "\n"; fflush(STDOUT);
fgets(STDIN);"""


def connections_both_ways(d, locker, port):
    """locker's script (`locker run`, in its sandbox) holding what it could
    get: (Popen, {socket:, tcp:}); closing its stdin lets it go."""
    p = subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "run", locker, "--",
                          "php", "-r", CONNECT_BOTH_WAYS.replace("@PORT@", str(port))],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    held = dict(kv.split("=") for kv in line.split())
    return p, {k: int(v) for k, v in held.items()}
