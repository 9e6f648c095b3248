"""Names and what comes with them: a locker name signed up again after a
removal carries none of the old locker's history; host names a locker may
and may not take; who may be an admin; which names are reserved.

Real login users are made here (useradd) and removed after, named apart
from test_selfservice.py's so that the two can run at once: lkvictim
administers the victim lockers, lkmallory is the attacker (group-signup
is on, as on a host that lets anyone make a group locker).
"""
import json
import os
import pwd
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import Lockerd, as_user, get, login_users, refused, wait_for

USERS = ("lkvictim", "lkmallory")
MARK = "lockerd names test user"


@pytest.fixture(scope="module")
def users():
    with login_users(USERS, MARK) as made:
        yield made


@pytest.fixture(scope="module")
def d(build_dir, users):
    inst = Lockerd(build_dir, front_processes=1, extra="group-signup yes\n").start()
    inst.locker("signup", "--group", "vclub", user="lkvictim")
    yield inst
    inst.cleanup()


L = as_user


_wait_for = wait_for


# ---------------------------------------------------------------- history

def test_a_reused_name_inherits_no_history(d, users):
    """victim's admin types a password on a su/run command line and victim
    has access and error log lines; victim is removed; mallory (a login user,
    group-signup yes) signs up the same name and must read none of it."""
    name, secret = "hist-club", f"S3CRET-{os.getpid()}"
    assert L(d, "lkvictim", "signup", "--group", name).returncode == 0
    d.put(name, "err.sh", "echo ERRLINE-%s >&2\necho Content-Type: text/plain\necho\n"
          "echo hi\n" % secret)
    r = L(d, "lkvictim", "su", name, "--", "true", f"--password={secret}")
    assert r.returncode == 0, r.stderr
    d.locker("run", name, "--", "sh", "-c", f"echo {secret}")
    tag = f"/err.sh?ACCESS-{secret}"
    assert get(d.port, tag, f"{name}.test.example")[0] == 200
    assert _wait_for(lambda: tag in L(d, "lkvictim", "logs", name).stdout)
    assert _wait_for(lambda: f"ERRLINE-{secret}" in L(d, "lkvictim", "logs", name,
                                                        "--error").stdout)
    # the trail says what was run, not with which arguments, even to its admins
    mine = json.loads(L(d, "lkvictim", "audit", name, "--json").stdout)
    assert ("su", "true +1 arg") in [(a["action"], a["detail"]) for a in mine]
    assert ("run", "sh +2 args") in [(a["action"], a["detail"]) for a in mine]
    assert secret not in json.dumps(mine)
    old_uid = d.info(name)["uid"]
    d.locker("remove", name)
    r = L(d, "lkmallory", "signup", "--group", name)
    assert r.returncode == 0, r.stderr
    for args in (("audit", name, "--json"), ("audit", "--json")):
        rows = json.loads(L(d, "lkmallory", *args).stdout)
        assert [(a["user"], a["action"]) for a in rows if a["locker"] == name] == \
            [("lkmallory", "signup")], rows
    for args in (("logs", name), ("logs", name, "--error")):
        r = L(d, "lkmallory", *args)
        assert r.returncode == 0, r.stderr
        assert secret not in r.stdout and "err.sh" not in r.stdout, r.stdout
    # nothing lost: the old logs went to the archive, beside the home's
    arch = os.path.join(d.logs, "lockers", ".archive")
    old = [e for e in os.listdir(arch) if e.startswith(name + ".")]
    assert len(old) == 1 and old[0].endswith(".%d" % old_uid), old
    with open(os.path.join(arch, old[0], "access.log")) as f:
        assert tag in f.read()
    with open(os.path.join(arch, old[0], "error.log")) as f:
        assert f"ERRLINE-{secret}" in f.read()
    # and mallory's own requests are logged afresh under the name
    d.put(name, "new.txt", "new\n")
    assert get(d.port, "/new.txt?mallory-own", f"{name}.test.example")[0] == 200
    assert _wait_for(lambda: "mallory-own" in L(d, "lkmallory", "logs", name).stdout)
    d.locker("remove", name)


# ---------------------------------------------------------------- admins and names

def test_system_accounts_are_never_admins(d):
    """root, daemons and nobody are not login users: an admin who adds one
    would hand the locker to whoever subverts that daemon."""
    for user in ("root", "daemon", "nobody", "0", "1"):
        for caller in ("lkvictim", None):
            r = d.locker("admin", "add", "vclub", user, user=caller, check=False)
            assert r.returncode != 0, (user, caller)
            assert "system account" in r.stderr or "no login user" in r.stderr, r.stderr
    assert [a["user"] for a in json.loads(
        d.locker("admin", "list", "vclub", "--json").stdout)] == ["lkvictim"]
    # and a daemon's account signs nothing up, not even with group-signup yes
    r = d.locker("signup", "--group", "daemons-club", user="daemon", check=False)
    assert r.returncode == 77 and "system account" in r.stderr, r.stderr
    assert d.locker("info", "daemons-club", check=False).returncode != 0


@pytest.mark.parametrize("name", [
    "isatap", "wpad", "login", "sso", "accounts", "auth", "admin", "root", "mail",
    "smtp", "imap", "pop", "ftp", "autoconfig", "autodiscover", "webmail", "ns1",
    "ns42", "www", "www2", "mx3", "api", "static", "cdn", "_dmarc", "_acme-challenge",
    "ab--cd", "xn--club", "123", "club-",
])
def test_names_that_invite_phishing_are_reserved(d, name):
    r = L(d, "lkvictim", "signup", "--group", name)
    assert r.returncode in (1, 2), (name, r.stderr)
    # (a system user's name may be refused as another user's login first)
    assert "invalid locker name" in r.stderr or "login of another user" in r.stderr, r.stderr
    assert d.locker("info", name, check=False).returncode != 0


# ---------------------------------------------------------------- vhosts

@pytest.fixture(scope="module")
def mallory(d):
    r = L(d, "lkmallory", "signup", "--group", "mallory")
    assert r.returncode == 0, r.stderr
    d.put("mallory", "index.html", "mallory's\n")
    d.put("vclub", "index.html", "victim's\n")
    return "mallory"


@pytest.mark.parametrize("host", [
    # the service's own names
    "test.example", "scripts.test.example", "SCRIPTS.test.example.",
    # addresses, in every form resolvers take
    "127.0.0.1", "2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "127.1",
    "10.0.0.1", "1.2.3.4.5", "[::1]", "::1", "[::ffff:127.0.0.1]",
    # nobody's names
    "localhost", "a.localhost", "intranet", "printer.local", "x.invalid",
    "1.0.0.127.in-addr.arpa",
    # another locker's
    "vclub.test.example", "www.vclub.test.example",
])
def test_a_vhost_cannot_be_a_service_name_an_address_or_nobodys(d, mallory, host):
    r = L(d, "lkmallory", "vhost", "add", "mallory", host)
    assert r.returncode in (1, 2), (host, r.stderr)
    assert host.lower().strip(".") not in [
        v["host"] for v in json.loads(d.locker("vhost", "list", "--json").stdout)]
    # root cannot make one either: these are never a locker's
    assert d.locker("vhost", "add", "mallory", host, check=False).returncode != 0
    # and a request by that name still reaches the victim through /~vclub/
    if host in ("test.example", "scripts.test.example"):
        s, _, b = get(d.port, "/~vclub/", host)
        assert (s, b) == (200, b"victim's\n"), host
    if not host.startswith(("[", ":")):
        assert get(d.port, "/", host)[2] != b"mallory's\n"


def test_a_new_hostname_outranks_a_vhost_taken_before_it(d, mallory):
    """mallory takes a name the administrator later adds as a `hostname`;
    after the reload every /~victim/ URL on it is the victim's, and the
    vhost is gone, logged."""
    host = "portal.test-svc.example"
    # in the directory from before (proved, or from before proofs were asked)
    d.locker("vhost", "add", "mallory", host)
    assert get(d.port, "/", host)[2] == b"mallory's\n"
    with open(d.conf) as f:
        conf = f.read()
    d.write_conf(conf + f"hostname {host}\nhostname mallory.test.example\n")
    os.kill(d.proc.pid, signal.SIGHUP)
    assert _wait_for(lambda: "configuration and directory reloaded" in d.log())
    # a hostname that is a locker's own address is the service's too, said so
    assert "hostname mallory.test.example is the address of locker mallory" in d.log()
    assert get(d.port, "/", "mallory.test.example")[2] != b"mallory's\n"
    assert get(d.port, "/~mallory/", "mallory.test.example")[2] == b"mallory's\n"
    s, _, b = get(d.port, "/~vclub/", host)
    assert (s, b) == (200, b"victim's\n")
    assert get(d.port, "/", host)[2] != b"mallory's\n"
    assert f"vhost {host} of mallory dropped: {host} is a service host name" in d.log()
    assert host not in [v["host"] for v in json.loads(
        d.locker("vhost", "list", "--json").stdout)]
    audit = json.loads(d.locker("audit", "mallory", "--json").stdout)
    assert ("root", "vhost-remove", host) in [(a["user"], a["action"], a["detail"])
                                               for a in audit]
    # and it cannot be taken again
    r = L(d, "lkmallory", "vhost", "add", "mallory", host)
    assert r.returncode == 1 and "service host name" in r.stderr


# ---------------------------------------------------------------- proving a name

class TinyDNS:
    """A DNS server on a loopback address, port 53, answering TXT questions
    from `records` ({name: [text, ...]}) and NXDOMAIN to anything else.
    Questions for a name in `hold` get no answer until release(name): the
    attacker's silent (or slow) DNS.  `asked` lists the names asked.
    lockerd is started in a mount namespace of its own whose /etc/resolv.conf
    names it, so the system resolver it uses asks nobody else."""

    def __init__(self):
        self.addr = f"127.83.{os.getpid() % 250 + 1}.1"
        self.records = {}
        self.hold = set()
        self.held = []          # (question, peer) not answered yet
        self.asked = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.addr, 53))
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @staticmethod
    def qname(q, i):
        labels = []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
            i += 1 + q[i]
        return ".".join(labels), i + 1

    def answer(self, q):
        name, end = self.qname(q, 12)
        qtype = struct.unpack(">H", q[end:end + 2])[0]
        question = q[12:end + 4]
        texts = self.records.get(name, []) if qtype == 16 else []
        rcode = 0 if name in self.records else 3
        head = q[:2] + struct.pack(">HHHHH", 0x8180 | rcode, 1, len(texts), 0, 0)
        rrs = b""
        for t in texts:
            rdata = bytes([len(t)]) + t.encode()
            rrs += b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 60, len(rdata)) + rdata
        return head + question + rrs

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                q, peer = self.sock.recvfrom(4096)
                name = self.qname(q, 12)[0]
                with self.lock:
                    self.asked.append(name)
                    if name in self.hold:
                        self.held.append((q, peer))
                        continue
                self.sock.sendto(self.answer(q), peer)
            except (socket.timeout, IndexError, struct.error, UnicodeDecodeError):
                continue

    def release(self, name):
        """Answer the held questions for name, and the next ones at once."""
        with self.lock:
            self.hold.discard(name)
            held = [(q, p) for q, p in self.held if self.qname(q, 12)[0] == name]
            self.held = [h for h in self.held if h not in held]
        for q, peer in held:
            self.sock.sendto(self.answer(q), peer)

    def was_asked(self, name):
        with self.lock:
            return name in self.asked

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def dns(build_dir, users):
    """(lockerd whose resolver is a TinyDNS, the TinyDNS)."""
    ns = TinyDNS()
    # The resolver waits for a held answer longer than any test needs; the
    # master's own deadline (dns-timeout) longer still.
    inst = Lockerd(build_dir, front_processes=1,
                   extra="group-signup yes\ndns-timeout 30s\n")
    resolv = os.path.join(inst.dir, "resolv.conf")
    with open(resolv, "w") as f:
        f.write(f"nameserver {ns.addr}\noptions timeout:20 attempts:1\n")
    inst.wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv]
    try:
        inst.start()
        assert L(inst, "lkvictim", "signup", "--group", "vsite").returncode == 0
        assert L(inst, "lkmallory", "signup", "--group", "msite").returncode == 0
        inst.put("vsite", "index.html", "victim's\n")
        inst.put("msite", "index.html", "mallory's\n")
        yield inst, ns
    finally:
        inst.cleanup()
        ns.close()


def _claim(d, user, locker, host):
    r = L(d, user, "vhost", "add", locker, host)
    assert r.returncode == 0, r.stderr
    m = re.search(r'_lockerd-challenge\.(\S+)\. IN TXT "([0-9a-f]{32})"', r.stdout)
    assert m and m.group(1) == host, r.stdout
    return m.group(2)


def test_a_name_outside_the_domain_routes_only_once_proved(dns):
    d, ns = dns
    host = "www.victim-company.example"
    token = _claim(d, "lkvictim", "vsite", host)
    # pending: not served, not listed
    assert get(d.port, "/", host)[0] == 404
    assert host not in [v["host"] for v in json.loads(d.locker("vhost", "list",
                                                                "--json").stdout)]
    # mallory claims it too, while it is nobody's yet
    mtoken = _claim(d, "lkmallory", "msite", host)
    assert mtoken != token
    # no record yet: no proof
    r = L(d, "lkvictim", "vhost", "verify", "vsite", host)
    assert r.returncode == 1 and "no TXT record" in r.stderr, r.stderr
    # the owner of the name publishes victim's token: only victim's claim proves
    ns.records[f"_lockerd-challenge.{host}"] = [token]
    r = L(d, "lkmallory", "vhost", "verify", "msite", host)
    assert r.returncode == 1, r.stderr
    refused(L(d, "lkmallory", "vhost", "verify", "vsite", host), "not an admin of vsite")
    r = L(d, "lkvictim", "vhost", "verify", "vsite", host)
    assert r.returncode == 0, r.stderr
    assert get(d.port, "/", host)[2] == b"victim's\n"
    # proved, it is victim's: mallory can neither claim nor prove it now
    r = L(d, "lkmallory", "vhost", "add", "msite", host)
    assert r.returncode == 1 and "another locker" in r.stderr, r.stderr
    ns.records[f"_lockerd-challenge.{host}"] = [token, mtoken]
    r = L(d, "lkmallory", "vhost", "verify", "msite", host)
    assert r.returncode == 1 and "another locker" in r.stderr, r.stderr
    assert get(d.port, "/", host)[2] == b"victim's\n"
    audit = json.loads(L(d, "lkvictim", "audit", "vsite", "--json").stdout)
    assert ("vhost-claim", host) in [(a["action"], a["detail"]) for a in audit]
    assert ("vhost-add", host) in [(a["action"], a["detail"]) for a in audit]


def test_root_adds_at_once_and_force_moves_a_name(dns):
    d, ns = dns
    host = "moved.example-org.example"
    d.locker("vhost", "add", "msite", host)             # root: no proof asked
    assert get(d.port, "/", host)[2] == b"mallory's\n"
    r = L(d, "lkmallory", "vhost", "add", "msite", "other.example-org.example", "--force")
    refused(r, "only root may --force")
    r = d.locker("vhost", "add", "vsite", host, check=False)
    assert r.returncode == 1 and "another locker" in r.stderr
    d.locker("vhost", "add", "vsite", host, "--force")
    assert get(d.port, "/", host)[2] == b"victim's\n"
    assert [v["locker"] for v in json.loads(d.locker("vhost", "list", "--json").stdout)
            if v["host"] == host] == ["vsite"]


def test_a_locker_s_own_subdomain_needs_no_proof(dns):
    d, ns = dns
    r = L(d, "lkvictim", "vhost", "add", "vsite", "blog.vsite.test.example")
    assert r.returncode == 0 and "pending" not in r.stdout, (r.stdout, r.stderr)
    assert get(d.port, "/", "blog.vsite.test.example")[2] == b"victim's\n"


def test_a_claim_cannot_be_proved_once_the_name_is_a_service_host(dns):
    """Claimed while it was nobody's, made a `hostname` by the administrator
    before the proof: the proof no longer makes it a vhost."""
    d, ns = dns
    host = "later.svc-name.example"
    token = _claim(d, "lkmallory", "msite", host)
    with open(d.conf) as f:
        conf = f.read()
    d.write_conf(conf + f"hostname {host}\n")
    n = d.log().count("configuration and directory reloaded")
    os.kill(d.proc.pid, signal.SIGHUP)
    assert _wait_for(lambda: d.log().count("configuration and directory reloaded") > n)
    ns.records[f"_lockerd-challenge.{host}"] = [token]
    r = L(d, "lkmallory", "vhost", "verify", "msite", host)
    assert r.returncode == 1 and "service host name" in r.stderr, r.stderr
    assert get(d.port, "/~vsite/", host)[2] == b"victim's\n"


def test_a_claim_is_withdrawn_by_its_own_admins_only(dns):
    d, ns = dns
    host = "withdrawn.example-x.example"
    vtoken = _claim(d, "lkvictim", "vsite", host)
    _claim(d, "lkmallory", "msite", host)
    # mallory's `vhost remove` withdraws her own claim, never the victim's
    assert L(d, "lkmallory", "vhost", "remove", host).returncode == 0
    r = L(d, "lkmallory", "vhost", "verify", "msite", host)
    assert r.returncode == 1 and "no pending claim" in r.stderr, r.stderr
    refused(L(d, "lkmallory", "vhost", "remove", host), "not a vhost of a locker")
    ns.records[f"_lockerd-challenge.{host}"] = [vtoken]
    assert L(d, "lkvictim", "vhost", "verify", "vsite", host).returncode == 0
    assert get(d.port, "/", host)[2] == b"victim's\n"
    audit = json.loads(L(d, "lkmallory", "audit", "msite", "--json").stdout)
    assert ("vhost-unclaim", host) in [(a["action"], a["detail"]) for a in audit]


# ------------------------------------------------- a slow DNS holds nobody else

def _verify_bg(d, user, locker, host):
    """`locker vhost verify` as user (None: root), left running."""
    return subprocess.Popen([os.path.join(d.build, "locker"), "-c", d.conf, "vhost",
                             "verify", locker, host], user=user, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _lookups(d):
    """The master's children running as the front user: its DNS lookups."""
    front = pwd.getpwnam("lockerd").pw_uid
    return [p for p, (role, uid) in d.children().items() if uid == front and role == "?"]


def test_a_silent_dns_holds_no_one_but_its_asker(dns):
    """mallory's name answers her proof's question never (until released):
    while her verify waits for it, the master serves others at once: victim's
    `locker info`, a cold start of victim's new locker over HTTP, victim's
    own verify; mallory gets one lookup at a time.  Then her DNS answers
    and her verify completes the claim."""
    d, ns = dns
    host = "slow.mallory-dns.example"
    qname = f"_lockerd-challenge.{host}"
    assert L(d, "lkvictim", "signup", "--group", "vcold").returncode == 0
    d.put("vcold", "index.html", "cold start\n")
    token = _claim(d, "lkmallory", "msite", host)
    other = "other.mallory-dns.example"
    _claim(d, "lkmallory", "msite", other)
    vhost = "www.victim-dns.example"
    _claim(d, "lkvictim", "vsite", vhost)
    ns.records[qname] = [token]
    ns.hold.add(qname)
    v = _verify_bg(d, "lkmallory", "msite", host)
    try:
        assert _wait_for(lambda: ns.was_asked(qname), within=10), "the DNS was not asked"
        # the master is free while the question waits
        r = L(d, "lkvictim", "info", "vcold")
        assert r.returncode == 0, r.stderr
        st, _, body = get(d.port, "/", "vcold.test.example")
        assert (st, body) == (200, b"cold start\n")
        assert v.poll() is None, ("verify ended before the others", v.communicate())
        r = L(d, "lkvictim", "vhost", "verify", "vsite", vhost)
        assert r.returncode == 1 and "no TXT record" in r.stderr, r.stderr
        # one lookup at a time per user
        r = L(d, "lkmallory", "vhost", "verify", "msite", other)
        assert r.returncode == 75 and "one at a time" in r.stderr, (r.returncode, r.stderr)
        # all of that while mallory's verify was still waiting for her DNS
        assert v.poll() is None, ("verify ended before the others", v.communicate())
        assert get(d.port, "/", host)[0] == 404
    finally:
        ns.release(qname)
        out, err = v.communicate(timeout=30)
    assert v.returncode == 0, err
    assert get(d.port, "/", host)[2] == b"mallory's\n"
    assert _wait_for(lambda: not _lookups(d)), _lookups(d)


def test_a_lookup_goes_with_its_client_and_at_its_deadline(dns):
    """A verify whose CLI is killed takes its lookup along (the user's slot
    is free again and nothing is claimed); one whose DNS never answers is
    answered at dns-timeout, and its lookup killed."""
    d, ns = dns
    host = "gone.mallory-dns.example"
    qname = f"_lockerd-challenge.{host}"
    token = _claim(d, "lkmallory", "msite", host)
    ns.records[qname] = [token]
    ns.hold.add(qname)
    v = _verify_bg(d, "lkmallory", "msite", host)
    try:
        assert _wait_for(lambda: ns.was_asked(qname), within=10)
        assert _lookups(d)
        v.kill()
        v.communicate()
        assert _wait_for(lambda: not _lookups(d)), "the lookup outlived its client"
        assert get(d.port, "/", host)[0] == 404
        # the slot is free: a new verify asks again (and is held again)
        n = ns.asked.count(qname)
        v = _verify_bg(d, "lkmallory", "msite", host)
        assert _wait_for(lambda: ns.asked.count(qname) > n, within=10), \
            v.poll() is None or v.communicate()
    finally:
        v.kill()
        v.communicate()
    # the deadline: a DNS that never answers (the resolver would wait 20 s)
    with open(d.conf) as f:
        conf = f.read()
    assert _wait_for(lambda: not _lookups(d))
    try:
        d.write_conf(conf.replace("dns-timeout 30s", "dns-timeout 1s"))
        n = d.log().count("configuration and directory reloaded")
        os.kill(d.proc.pid, signal.SIGHUP)
        assert _wait_for(lambda: d.log().count("configuration and directory reloaded") > n)
        t0 = time.monotonic()
        r = L(d, "lkmallory", "vhost", "verify", "msite", host)
        assert r.returncode == 1 and "gave no answer" in r.stderr, r.stderr
        assert time.monotonic() - t0 < 15, "the master did not keep its deadline"
        assert _wait_for(lambda: not _lookups(d)), "the lookup outlived its deadline"
    finally:
        d.write_conf(conf)
        os.kill(d.proc.pid, signal.SIGHUP)
        ns.release(qname)
    assert get(d.port, "/", host)[0] == 404


def test_lookups_in_flight_are_capped_machine_wide(dns):
    """16 verifies waiting for a silent DNS (root's here: root has no
    per-user bound) fill the machine's lookups: a login user's verify is
    refused at once (exit 75), root still gets one of its reserve; all answer
    once the DNS does."""
    d, ns = dns
    hosts = [f"h{i}.capped-dns.example" for i in range(17)]
    for h in hosts:
        ns.records[f"_lockerd-challenge.{h}"] = [_claim(d, "lkmallory", "msite", h)]
        ns.hold.add(f"_lockerd-challenge.{h}")
    vhost = "www.victim-capped.example"
    _claim(d, "lkvictim", "vsite", vhost)
    vs = []
    try:
        for h in hosts[:16]:
            vs.append(_verify_bg(d, None, "msite", h))
            q = f"_lockerd-challenge.{h}"
            assert _wait_for(lambda: ns.was_asked(q), within=10), h
        r = L(d, "lkvictim", "vhost", "verify", "vsite", vhost)
        assert r.returncode == 75 and "waiting for the DNS already" in r.stderr, \
            (r.returncode, r.stderr)
        vs.append(_verify_bg(d, None, "msite", hosts[16]))
        q = f"_lockerd-challenge.{hosts[16]}"
        assert _wait_for(lambda: ns.was_asked(q), within=10), "root's reserve"
        assert all(v.poll() is None for v in vs)
    finally:
        for h in hosts:
            ns.release(f"_lockerd-challenge.{h}")
        for v in vs:
            v.communicate(timeout=30)
    assert [v.returncode for v in vs] == [0] * 17, [v.stderr for v in vs]
    assert get(d.port, "/", hosts[16])[2] == b"mallory's\n"
    assert _wait_for(lambda: not _lookups(d))
    r = L(d, "lkvictim", "vhost", "verify", "vsite", vhost)
    assert r.returncode == 1 and "no TXT record" in r.stderr, r.stderr
