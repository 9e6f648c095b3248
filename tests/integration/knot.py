"""A real authoritative DNS server for the tests: Debian's knotd on loopback.

One zone (lockerd.test. by default) with SOA and NS, the zone's name and
every name under it pointing at 127.0.0.1, and a TSIG key allowed to update
it (RFC 2136), which is how lockerd writes DNS-01's TXT records.  pebble uses
it as its resolver (-dnsserver), so names a test gives pebble resolve here.

    with Knot(tmpdir) as k:          # or: k = Knot(d).start(); ...; k.stop()
        k.port, k.zone, k.key_name, k.secret, k.secret_file
        k.dig("x.lockerd.test", "TXT")   # the strings of its TXT records
        k.set("elsewhere.lockerd.test", "A", "192.0.2.1")

Started once per test module (a module-scoped fixture) and stopped by its pid.
"""
import base64
import os
import shutil
import socket
import subprocess
import time

from conftest import stop_server

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
KDIG = shutil.which("kdig") or "/usr/bin/kdig"


def _free_port():
    # A port free for both UDP and TCP: knotd listens on both.
    for _ in range(50):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


class Knot:
    def __init__(self, directory, zone="lockerd.test", key_name="lockerd-key",
                 algorithm="hmac-sha256", host="127.0.0.1", port=None, transfer=False):
        """host, port: where knotd listens (hesinfo's resolver needs port
        53: a loopback address of its own, 127.A.B.C, keeps it apart);
        transfer: the key may also transfer the zone (AXFR)."""
        self.dir = directory
        os.makedirs(self.dir, exist_ok=True)
        self.zone = zone
        self.key_name = key_name
        self.algorithm = algorithm
        self.secret = base64.b64encode(os.urandom(32)).decode()
        self.host = host
        self.port = port if port is not None else _free_port()
        self.transfer = transfer
        self.proc = None
        self.conf = os.path.join(self.dir, "knot.conf")
        self.sock = os.path.join(self.dir, "knot.sock")
        self.log_path = os.path.join(self.dir, "knotd.log")
        # What lockerd reads: the secret alone, readable by root only.
        self.secret_file = os.path.join(self.dir, "tsig.secret")
        self.write_secret(self.secret_file, self.secret)

    @staticmethod
    def write_secret(path, secret):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        os.chmod(path, 0o600)

    def _zone_text(self):
        z = self.zone + "."
        return (f"$ORIGIN {z}\n$TTL 60\n"
                f"@ SOA ns.{z} hostmaster.{z} 1 3600 600 86400 60\n"
                f"@ NS ns.{z}\n"
                f"ns A 127.0.0.1\n"
                f"@ A 127.0.0.1\n"
                f"* A 127.0.0.1\n")

    def _conf_text(self):
        return f"""server:
    listen: {self.host}@{self.port}
    rundir: "{self.dir}"
    pidfile: "{self.dir}/knotd.pid"
database:
    storage: "{self.dir}/db"
control:
    listen: "{self.sock}"
log:
  - target: "{self.log_path}"
    any: info
key:
  - id: {self.key_name}
    algorithm: {self.algorithm}
    secret: {self.secret}
acl:
  - id: lockerd_update
    key: {self.key_name}
    action: {"[update, transfer]" if self.transfer else "update"}
template:
  - id: default
    storage: "{self.dir}"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
zone:
  - domain: {self.zone}
    acl: lockerd_update
"""

    def start(self, timeout=10):
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        with open(os.path.join(self.dir, self.zone + ".zone"), "w") as f:
            f.write(self._zone_text())
        with open(self.conf, "w") as f:
            f.write(self._conf_text())
        self.log = open(self.log_path + ".stderr", "ab")
        self.proc = subprocess.Popen([KNOTD, "-c", self.conf], stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("knotd exited: " + self.logs())
            if self.dig(self.zone, "SOA", check=False):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("knotd did not answer: " + self.logs())

    def stop(self):
        stop_server(self.proc, timeout=10)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def logs(self):
        out = ""
        for p in (self.log_path, self.log_path + ".stderr"):
            try:
                with open(p, errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def dig(self, name, rtype="A", check=True):
        """The rdata (as kdig +short prints it) of name's records of rtype,
        asked of this server over TCP."""
        r = subprocess.run([KDIG, "@" + self.host, "-p", str(self.port), "+tcp", "+short",
                            "+timeout=2", "+retry=0", name, rtype],
                           capture_output=True, text=True, timeout=10)
        if check and r.returncode != 0:
            raise RuntimeError(f"kdig {name} {rtype}: {r.stdout}{r.stderr}")
        return [line.strip().strip('"') for line in r.stdout.splitlines() if line.strip()]

    def knotc(self, *args):
        r = subprocess.run([KNOTC, "-s", self.sock] + list(args), capture_output=True,
                           text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"knotc {args}: {r.stdout}{r.stderr}")
        return r.stdout

    def set(self, name, rtype, data, ttl=60):
        """Add a record through the control socket (not through lockerd's
        code): name relative to the zone or absolute with a final dot."""
        self.knotc("zone-begin", self.zone)
        try:
            self.knotc("zone-set", self.zone, name, str(ttl), rtype, data)
        except RuntimeError:
            self.knotc("zone-abort", self.zone)
            raise
        self.knotc("zone-commit", self.zone)

    def unset(self, name, rtype=None):
        self.knotc("zone-begin", self.zone)
        self.knotc(*(["zone-unset", self.zone, name] + ([rtype] if rtype else [])))
        self.knotc("zone-commit", self.zone)
