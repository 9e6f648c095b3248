"""A real Postfix for the tests: Debian's postfix with its own configuration,
queue and data directories under the test's directory, smtpd on
127.0.0.1:<a free port> only, and nothing of the machine's /etc/postfix.

    p = Postfix(directory, lmtp_socket=PATH).start()  # module-scoped; p.cleanup() by its pid
    p.port, p.domain                 # smtpd's port; the lockers' domain (mail to
                                     # it goes by LMTP to lmtp_socket)
    p.sink                           # a domain whose mail lands in a maildir
    p.send(to, body=..., sender=...) # swaks through smtpd; the CompletedProcess
    p.messages()                     # what the sink's maildir holds, parsed
    p.wait_message(pred, timeout)    # the first one pred() accepts, polled
    p.queue()                        # postqueue -j's rows (what is still queued)
    p.flush()                        # postqueue -f: try every deferred one now
    p.log()                          # its maillog's tail (postlogd writes it)

Mail to anything@<domain> goes by `virtual_transport = lmtp:unix:PATH` to
whatever listens on lmtp_socket (lockerd's LMTP role); mail to
anything@<sink> (sink.test by default, the sender of the tests' mail, so its
bounces land there too, and a place for lockers' outgoing mail) is
delivered by Postfix's virtual(8) into one maildir the tests read; any
other domain is refused at once (default_transport = error), so nothing
leaves the machine.  Retries are fast (queue_run_delay and the back-off
times 1 s), so a deferred message (4xx) is tried again within seconds.
The master is started with `master -c DIR -d` (not detached: stopped by
its pid, SIGTERM, which stops its children), after `postfix -c DIR check`
has made the queue directories.  The lmtp client runs as the postfix user
and is not chrooted: the socket's directories must let that user through.
"""
import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import time

from conftest import free_port, stop_server

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
POSTQUEUE = shutil.which("postqueue") or "/usr/sbin/postqueue"
MASTER = "/usr/lib/postfix/sbin/master"
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"


def available():
    return all(os.path.exists(p) for p in (POSTFIX, POSTCONF, MASTER, SWAKS))




# Every service unchrooted (a chroot would need copies of /etc files in it)
# and only those the tests need.
MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
virtual   unix - n n - - virtual
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    def __init__(self, directory, lmtp_socket=None, domain="lockers.test", sink="sink.test",
                 extra=None):
        self.dir = directory
        self.config = os.path.join(directory, "etc")
        self.queue_dir = os.path.join(directory, "spool")
        self.data = os.path.join(directory, "data")
        self.mail = os.path.join(directory, "mail")
        self.maildir = os.path.join(self.mail, "sink")
        self.maillog = os.path.join(directory, "maillog")
        # Nothing listens there unless a test starts lockerd's LMTP role on it.
        self.lmtp_socket = lmtp_socket or os.path.join(directory, "lmtp.sock")
        self.domain = domain
        self.sink = sink
        self.port = free_port()
        self.extra = dict(extra or {})
        self.proc = None

    def _main_cf(self):
        import pwd
        nobody = pwd.getpwnam("nobody")
        cf = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mx.lockers.test",
            "mydomain": "lockers.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "smtputf8_enable": "no",
            "biff": "no",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            # The lockers' domain by LMTP; the sink's into a maildir.
            "virtual_mailbox_domains": f"{self.domain} {self.sink}",
            "virtual_transport": f"lmtp:unix:{self.lmtp_socket}",
            "transport_maps": f"inline:{{ {self.sink}=virtual: }}",
            "virtual_mailbox_base": self.mail,
            "virtual_mailbox_maps": "static:sink/",
            "virtual_uid_maps": f"static:{nobody.pw_uid}",
            "virtual_gid_maps": f"static:{nobody.pw_gid}",
            "default_transport": "error:the tests' Postfix sends nowhere else",
            "relay_transport": "error:the tests' Postfix relays nowhere",
            # Fast retries: a deferred message is tried again within seconds.
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "delay_warning_time": "0",
            "lmtp_connection_cache_on_demand": "no",
            "in_flow_delay": "0",
            "smtpd_error_sleep_time": "0",
        }
        cf.update(self.extra)
        return "".join(f"{k} = {v}\n" for k, v in cf.items())

    def _write_config(self):
        import pwd
        nobody = pwd.getpwnam("nobody")
        for d in (self.dir, self.config, self.queue_dir, self.data, self.mail):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        postfix = pwd.getpwnam("postfix")
        os.chown(self.data, postfix.pw_uid, postfix.pw_gid)
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        with open(os.path.join(self.config, "main.cf"), "w") as f:
            f.write(self._main_cf())
        with open(os.path.join(self.config, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=f"127.0.0.1:{self.port}"))

    def _env(self):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = self.config
        return e

    def start(self):
        """Started and answering on its port, or cleaned up and raised."""
        try:
            return self._start()
        except BaseException:
            self.cleanup()
            raise

    def _start(self):
        t0 = time.monotonic()
        self._write_config()
        r = subprocess.run([POSTFIX, "-c", self.config, "check"], capture_output=True,
                           text=True, timeout=120, env=self._env())
        if r.returncode != 0:
            raise RuntimeError("postfix check failed: " + r.stdout + r.stderr)
        self.proc = subprocess.Popen([MASTER, "-c", self.config, "-d"], env=self._env(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.proc.poll() is not None:
                raise RuntimeError("postfix's master exited: " + self.log())
            if time.monotonic() > deadline:
                raise RuntimeError("postfix did not start: " + self.log())
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - t0
        return self

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
                return s.recv(512).startswith(b"220")
        except OSError:
            return False

    def send(self, to, body="hello from the tests\n", sender=None, headers=(), subject="test",
             check=True, timeout=120):
        """One message through smtpd with swaks; the CompletedProcess."""
        cmd = [SWAKS, "--server", "127.0.0.1", "--port", str(self.port), "--to", to,
               "--from", sender or f"tester@{self.sink}", "--header", f"Subject: {subject}",
               "--body", body, "--suppress-data", "--hide-informational"]
        for h in headers:
            cmd += ["--add-header", h]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"swaks to {to}: {r.stdout}{r.stderr}")
        return r

    def messages(self):
        """The sink maildir's messages, oldest first (email.message objects,
        .path the file)."""
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            for n in names:
                p = os.path.join(d, n)
                try:
                    with open(p, "rb") as f:
                        m = email.message_from_binary_file(f, policy=email.policy.default)
                    m.path = p
                    m.mtime = os.stat(p).st_mtime
                except FileNotFoundError:
                    continue
                out.append(m)
        out.sort(key=lambda m: (m.mtime, m.path))
        return out

    def wait_message(self, pred, timeout=90):
        """The first sink message pred(msg) accepts, polled until timeout;
        every 5 s Postfix is told to try what it holds now (see nudge())."""
        deadline = time.monotonic() + timeout
        nudge = time.monotonic() + 5
        while True:
            for m in self.messages():
                if pred(m):
                    return m
            if time.monotonic() > nudge:
                self.flush()
                nudge = time.monotonic() + 5
            if time.monotonic() > deadline:
                raise AssertionError("no such message in the sink; queue: "
                                     f"{self.queue()}\nlog: {self.log()}")
            time.sleep(0.2)

    def clear_sink(self):
        for m in self.messages():
            try:
                os.unlink(m.path)
            except FileNotFoundError:
                pass

    def queue(self):
        """postqueue -j's rows: what Postfix still holds."""
        r = subprocess.run([POSTQUEUE, "-c", self.config, "-j"], capture_output=True,
                           text=True, timeout=60, env=self._env())
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]

    def flush(self):
        """postqueue -f: every message held is tried now.  Needed now and
        then, not only to save time: a message deferred while qmgr's scan
        of the incoming queue saw it ("skipped, still being delivered")
        stays in incoming with its next try's time ahead, and qmgr looks at
        incoming again only when new mail (or this) wakes it: seen once in
        a few runs, a 4xx'd message waited past 90 s."""
        subprocess.run([POSTQUEUE, "-c", self.config, "-f"], capture_output=True,
                       timeout=60, env=self._env())

    def log(self, chars=6000):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        stop_server(self.proc)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
