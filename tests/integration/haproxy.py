"""Debian's HAProxy, started by a test with its own configuration and
stopped by its pid: TCP mode, the PROXY protocol to lockerd (issue 18).

    hp = HAProxy(workdir).start(frontends, backends_text)

frontends: {name: (port, backend)}; the backends are given as HAProxy
configuration text (server lines with send-proxy-v2, checks, ...).
"""
import os
import socket
import subprocess
import time

HEALTH_CHECK = ("    option httpchk\n"
                "    http-check send meth GET uri /.lockerd/health ver HTTP/1.1 "
                "hdr Host health.invalid\n"
                "    http-check expect status 200\n")


class HAProxy:
    def __init__(self, workdir):
        self.dir = workdir
        os.makedirs(self.dir, exist_ok=True)
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        self.sock = os.path.join(self.dir, "admin.sock")
        self.logpath = os.path.join(self.dir, "haproxy.log")
        self.proc = None
        self.ports = []

    def start(self, frontends, backends):
        text = ("global\n"
                "    maxconn 2000\n"
                f"    stats socket {self.sock} mode 600 level admin\n"
                "defaults\n"
                "    mode tcp\n"
                "    timeout connect 5s\n"
                "    timeout client 60s\n"
                "    timeout server 60s\n"
                "    retries 3\n"
                "    option redispatch 1\n")
        for name, (port, backend) in frontends.items():
            text += f"frontend {name}\n    bind 127.0.0.1:{port}\n    default_backend {backend}\n"
            self.ports.append(port)
        text += backends
        with open(self.cfg, "w") as f:
            f.write(text)
        r = subprocess.run(["haproxy", "-c", "-q", "-f", self.cfg], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.cfg], stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.proc.poll() is None, "haproxy exited: " + self.text()
            try:
                for p in self.ports:
                    socket.create_connection(("127.0.0.1", p), timeout=0.5).close()
                if os.path.exists(self.sock):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("haproxy did not start: " + self.text())

    def text(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def admin(self, cmd):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.sock)
            s.sendall(cmd.encode() + b"\n")
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    return out.decode(errors="replace")
                out += b

    def server_state(self, backend, server):
        """"UP", "DOWN", ... of a server, from the stats socket."""
        for line in self.admin("show stat").splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == backend and f[1] == server:
                return f[17]
        return None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
