"""Issue 15, mail scripts 3: outgoing mail from the jails, through a real Postfix.

One Postfix (postfix.py: its own configuration, smtpd on a loopback port,
the sink domain into a maildir) and one lockerd with `mail-relay` on it,
lockers alice, bob, carol and dave, started once for the module and
stopped by pid.  Each message is sent by the jail's /usr/sbin/sendmail
(lockerd-sendmail), from a PHP page's mail() or from `locker run`, and read
back from the sink's maildir.
"""
import json
import os
import socket
import struct
import subprocess
import tempfile

import pytest

from conftest import TEST_BASE, Lockerd, get, wait_for
from postfix import Postfix, available

pytestmark = pytest.mark.skipif(not available(), reason="postfix or swaks is not installed")

DOMAIN = "test.example"
MAX_SIZE = 64 * 1024


@pytest.fixture(scope="module")
def postfix():
    os.makedirs(TEST_BASE, exist_ok=True)
    p = Postfix(tempfile.mkdtemp(prefix="pfo", dir=TEST_BASE)).start()
    yield p
    p.cleanup()


@pytest.fixture(scope="module")
def mo(build_dir, postfix):
    d = Lockerd(build_dir, domain=DOMAIN,
                extra=f"mail-relay 127.0.0.1:{postfix.port}\nmail-max-size {MAX_SIZE}\n"
                "mail-per-hour 50\n").start()
    for n in ("alice", "bob", "carol", "dave"):
        d.signup(n)
    d.postfix = postfix
    yield d
    d.cleanup()


def sendmail(d, locker, msg, *args):
    """/usr/sbin/sendmail ARGS in the locker's sandbox, msg on its stdin."""
    return d.locker("run", locker, "--", "/usr/sbin/sendmail", *args, input=msg, check=False)


def arrived(d, marker, timeout=90):
    return d.postfix.wait_message(lambda m: marker in m.get_content(), timeout=timeout)


def status(d, locker):
    return json.loads(d.locker("mail", "status", locker, "--json").stdout)


PHP_MAIL = r"""<?php
$ok = mail("to-alice-page@sink.test", "from a page", "php body MARK-PHP-1\n",
    "From: Alice's page <alice@test.example>\r\nX-Lockerd-Locker: bob");
echo $ok ? "sent" : "refused";
"""


def test_php_mail_reaches_the_mailbox_with_alice_named(mo):
    mo.put("alice", "mail.php", PHP_MAIL)
    st, _, body = get(mo.port, "/mail.php", f"alice.{DOMAIN}")
    assert st == 200 and body == b"sent", (st, body, mo.log()[-2000:])
    m = arrived(mo, "MARK-PHP-1")
    assert m["X-Lockerd-Locker"] == "alice"
    assert m.get_all("X-Lockerd-Locker") == ["alice"]     # the page's "bob" is gone
    assert m["Return-Path"] == "<alice@test.example>"
    assert m["To"] == "to-alice-page@sink.test"
    head = str(m).split("\n\n", 1)[0]
    assert "bob" not in head, head
    s = status(mo, "alice")
    assert s["sent"] >= 1 and s["messages"][-1]["status"] == "sent"
    assert "to-alice-page@sink.test" in s["messages"][-1]["recipients"]


def test_command_line_recipients_and_t_with_bcc(mo):
    r = sendmail(mo, "alice", "Subject: cmdline\n\nMARK-CMD\n", "cmd@sink.test")
    assert r.returncode == 0, r.stderr
    m = arrived(mo, "MARK-CMD")
    assert m["X-Original-To"] == "cmd@sink.test"
    assert m["From"] == "alice@test.example"      # added: there was none
    r = sendmail(mo, "alice", "To: t1@sink.test\nBcc: hidden@sink.test\nSubject: t\n\n"
                 "MARK-BCC\n", "-t", "-i")
    assert r.returncode == 0, r.stderr
    got = {mo.postfix.wait_message(lambda m, w=w: "MARK-BCC" in m.get_content() and
                                   m["X-Original-To"] == w)["X-Original-To"]
           for w in ("t1@sink.test", "hidden@sink.test")}
    assert got == {"t1@sink.test", "hidden@sink.test"}
    for m in mo.postfix.messages():
        if "MARK-BCC" in m.get_content():
            assert m["Bcc"] is None
            if m["X-Original-To"] == "t1@sink.test":    # Postfix names its own recipient
                assert "hidden" not in str(m).split("\n\n", 1)[0]


def test_headers_naming_another_locker_are_overridden_or_refused(mo):
    # -f and our header of bob's: replaced by alice's own.
    r = sendmail(mo, "alice", "X-Lockerd-Locker: bob\nx-lockerd-locker: carol\n"
                 "Return-Path: <bob@test.example>\nSubject: x\n\nMARK-OVR\n",
                 "-f", "bob@test.example", "ovr@sink.test")
    assert r.returncode == 0, r.stderr
    m = arrived(mo, "MARK-OVR")
    assert m.get_all("X-Lockerd-Locker") == ["alice"]
    assert m["Return-Path"] == "<alice@test.example>"
    # A From or Sender of bob's address: refused, with why.
    for hdr in ("From: Bob <bob@test.example>", "Sender: bob+x@TEST.example"):
        r = sendmail(mo, "alice", f"{hdr}\nSubject: x\n\nMARK-NO\n", "no@sink.test")
        assert r.returncode == 65, (hdr, r.returncode, r.stderr)
        assert "another locker" in r.stderr and "bob" in r.stderr.lower()
    # Her own, with a tag: fine, and the envelope too.
    r = sendmail(mo, "alice", "From: alice+news@test.example\n\nMARK-TAG\n",
                 "-falice+bounces@test.example", "tag@sink.test")
    assert r.returncode == 0, r.stderr
    assert arrived(mo, "MARK-TAG")["Return-Path"] == "<alice+bounces@test.example>"


def test_no_recipient_is_refused(mo):
    r = sendmail(mo, "alice", "Subject: nobody\n\nbody\n", "-t")
    assert r.returncode == 64 and "no recipient" in r.stderr, (r.returncode, r.stderr)
    r = sendmail(mo, "alice", "To: not an address\n\nbody\n", "-t")
    assert r.returncode == 64 and "bad recipient" in r.stderr, r.stderr
    r = sendmail(mo, "alice", "x\n", "-bs")
    assert r.returncode == 64 and "not supported" in r.stderr, r.stderr
    assert any(x["status"] == "refused" and "no recipient" in x["text"]
               for x in status(mo, "alice")["messages"])


def test_a_huge_message_is_refused(mo):
    body = "Subject: big\n\n" + ("x" * 99 + "\n") * (MAX_SIZE // 100 + 10)
    r = sendmail(mo, "alice", body, "big@sink.test")
    assert r.returncode == 73 and "too large" in r.stderr, (r.returncode, r.stderr)
    # The bound is the role's: just under it goes.
    r = sendmail(mo, "alice", "Subject: fits\n\nMARK-FITS\n" + "y" * (MAX_SIZE - 200),
                 "fits@sink.test")
    assert r.returncode == 0, r.stderr
    arrived(mo, "MARK-FITS")


def test_the_rate_limit_refuses_past_it_and_php_mail_says_false(mo):
    mo.locker("limit", "carol", "mail-per-hour", "2")
    for i in range(2):
        r = sendmail(mo, "carol", f"Subject: r{i}\n\nMARK-RATE-{i}\n", "rate@sink.test")
        assert r.returncode == 0, r.stderr
    r = sendmail(mo, "carol", "Subject: r2\n\nMARK-RATE-2\n", "rate@sink.test")
    assert r.returncode == 77, (r.returncode, r.stderr)
    assert "mail-per-hour 2" in r.stderr and "carol" in r.stderr
    mo.put("carol", "m.php", PHP_MAIL.replace("alice", "carol").replace("MARK-PHP-1",
                                                                        "MARK-RATE-PHP"))
    st, _, body = get(mo.port, "/m.php", f"carol.{DOMAIN}")
    assert (st, body) == (200, b"refused")
    s = status(mo, "carol")
    assert (s["sent"], s["refused"], s["last_hour"], s["per_hour"]) == (2, 2, 2, 2)
    assert [(x["status"], x["recipients"]) for x in s["messages"]][-2:] == \
        [("refused", "rate@sink.test"), ("refused", "to-carol-page@sink.test")]
    lim = {x["key"]: x for x in mo.info("carol")["limits"]}["mail-per-hour"]
    assert (lim["value"], lim["default"], lim["use"]) == (2, False, 2)
    arrived(mo, "MARK-RATE-1")
    assert not any("MARK-RATE-2" in m.get_content() or "MARK-RATE-PHP" in m.get_content()
                   for m in mo.postfix.messages())
    # Another locker's rate is its own.
    r = sendmail(mo, "dave", "Subject: d\n\nMARK-DAVE\n", "d@sink.test")
    assert r.returncode == 0, r.stderr


def test_block_and_unblock(mo):
    mo.locker("mail", "block", "dave")
    r = sendmail(mo, "dave", "Subject: b\n\nMARK-BLOCKED\n", "b@sink.test")
    assert r.returncode == 77 and "blocked" in r.stderr, (r.returncode, r.stderr)
    assert status(mo, "dave")["blocked"] is True
    assert "mail-block" in mo.locker("audit", "dave").stdout
    mo.locker("mail", "unblock", "dave")
    r = sendmail(mo, "dave", "Subject: b\n\nMARK-UNBLOCKED\n", "b@sink.test")
    assert r.returncode == 0, r.stderr
    arrived(mo, "MARK-UNBLOCKED")
    assert not any("MARK-BLOCKED" in m.get_content() for m in mo.postfix.messages())
    r = mo.locker("mail", "block", "nosuch", check=False)
    assert r.returncode != 0


def test_lockerds_own_notice_goes_the_same_road(mo):
    """mail_notice() (what cron's output and errors take), through `locker mail
    test`: from the locker's address, named, and held by its block and rate as
    its own messages are (a crontab's MAILTO is the locker's choice)."""
    mo.locker("mail", "block", "dave")
    r = mo.locker("mail", "test", "dave", "n0@sink.test", check=False)
    assert r.returncode == 69 and "blocked" in r.stderr, (r.returncode, r.stderr)
    mo.locker("mail", "unblock", "dave")
    r = mo.locker("mail", "test", "carol", "n0@sink.test", check=False)     # over its rate
    assert r.returncode == 69 and "mail-per-hour" in r.stderr, (r.returncode, r.stderr)
    before = status(mo, "dave")["last_hour"]
    r = mo.locker("mail", "test", "dave", "n1@sink.test, n2@sink.test", check=False)
    assert r.returncode == 0, r.stderr
    for w in ("n1@sink.test", "n2@sink.test"):
        m = mo.postfix.wait_message(lambda m, w=w: m["X-Original-To"] == w)
        assert m["Subject"] == "lockerd: a test message"
        assert m.get_all("X-Lockerd-Locker") == ["dave"]
        assert m["Auto-Submitted"] == "auto-generated"
        assert m["Return-Path"] == "<dave@test.example>"
        assert "n1@sink.test" in m["To"] and "n2@sink.test" in m["To"]
    s = wait_for(lambda: (lambda s: s if s["messages"][-1]["status"] == "sent" else None)(
        status(mo, "dave")), within=30)
    assert s and s["last_hour"] == before + 1, s
    assert not any(m["X-Original-To"] == "n0@sink.test" for m in mo.postfix.messages())
    r = mo.locker("mail", "test", "dave", "not-an-address", check=False)
    assert r.returncode == 69 and "bad recipient" in r.stderr, (r.returncode, r.stderr)
    r = mo.locker("mail", "test", "dave", check=False)
    assert r.returncode != 0


def test_a_worker_from_a_spare_sends_mail_too(mo):
    """The spawner's spare, its jail made before its locker was known, gets
    the socket's directory and the client from the spawner (MSG_SPARE_TREE)."""
    mo.signup("erin")
    mo.put("erin", "mail.php", PHP_MAIL.replace("alice", "erin").replace("MARK-PHP-1",
                                                                       "MARK-SPARE"))
    spares = wait_for(lambda: mo.pids("spare"), within=20)
    assert spares, mo.children()
    st, _, body = get(mo.port, "/mail.php", f"erin.{DOMAIN}")
    assert (st, body) == (200, b"sent"), (st, body)
    assert mo.worker_of("erin") == spares[0]      # the spare became erin's worker
    m = arrived(mo, "MARK-SPARE")
    assert m.get_all("X-Lockerd-Locker") == ["erin"]
    # Read-only there as in a jail made in one go.
    mo.put("erin", "ro.php", "<?php echo implode(',', scandir('/run/lockerd')), ' ', "
           "@touch('/run/lockerd/x') ? 'wrote' : 'ro', ' ', "
           "@fopen('/usr/sbin/sendmail', 'r+') ? 'wrote' : 'ro';")
    st, _, body = get(mo.port, "/ro.php", f"erin.{DOMAIN}")
    assert (st, body) == (200, b".,..,sendmail.sock ro ro"), (st, body)
    assert mo.worker_of("erin") == spares[0]


# ------------------------------------------------------------ hostile

def _submit_type():
    import re
    text = open(os.path.join(os.path.dirname(__file__), "..", "..", "src", "msg.h")).read()
    body = re.search(r"enum msg_type \{(.*?)\};", text, re.S).group(1)
    return re.findall(r"^\s*(MSG_[A-Z_0-9]+)", body, re.M).index("MSG_MAIL_SUBMIT")


# One raw MSG_MAIL_SUBMIT on the jails' socket, as a client would send it
# (run here and, as text, inside a sandbox): (code, text), or None if the
# role dropped the connection without an answer.
SUBMIT = r"""
import os, socket, struct
def submit(path, t, fd):
    payload = struct.pack("=I", 0) + b"\0" * 255 + b"x@sink.test\0"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(60)
    s.connect(path)
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))] if fd >= 0 else []
    s.sendmsg([struct.pack("=HHI", t, 0, len(payload)) + payload], anc)
    data = s.recv(4096)
    s.close()
    if len(data) < 12:
        return None
    return struct.unpack("=i", data[8:12])[0], data[12:].split(b"\0")[0].decode()
"""


def test_hostile_bob_cannot_send_as_alice(mo):
    """Everything bob can say names alice, and the message is bob's or refused."""
    r = sendmail(mo, "bob", "X-Lockerd-Locker: alice\nSubject: spoof\n\nMARK-SPOOF\n",
                 "-f", "alice@test.example", "spoof@sink.test")
    assert r.returncode == 0, r.stderr
    m = arrived(mo, "MARK-SPOOF")
    assert m.get_all("X-Lockerd-Locker") == ["bob"]
    assert m["Return-Path"] == "<bob@test.example>"
    r = sendmail(mo, "bob", "From: alice@test.example\n\nMARK-SPOOF2\n", "spoof@sink.test")
    assert r.returncode == 65, r.stderr
    # A message bob's status counts, none of alice's.
    assert all("MARK" not in x["text"] for x in status(mo, "bob")["messages"])


def test_hostile_not_a_locker_and_unsealed_messages_are_refused(mo):
    """The socket answers a locker's uid only; a message must come sealed (else it
    could change between the role's check and its sending); a slow client holds
    up no one."""
    t = _submit_type()
    ns = {}
    exec(SUBMIT, ns)
    mfd = os.memfd_create("m", os.MFD_ALLOW_SEALING)
    os.write(mfd, b"Subject: x\n\nMARK-ROOT\n")
    code, text = ns["submit"](os.path.join(mo.dir, "state", "mail", "sendmail.sock"), t, mfd)
    assert code == 77 and "locker" in text, (code, text)     # root: no locker's uid
    # In bob's sandbox: an unsealed memfd, a pipe, no descriptor at all.
    prog = SUBMIT + f"""
P = '/run/lockerd/sendmail.sock'
m = os.memfd_create('m', os.MFD_ALLOW_SEALING)
os.write(m, b'Subject: x\\n\\nMARK-UNSEALED\\n')
print(submit(P, {t}, m))
r, w = os.pipe()
print(submit(P, {t}, r))
print(submit(P, {t}, -1))
"""
    slow = None
    try:
        # A client that connects and says nothing, meanwhile.
        slow = subprocess.Popen([os.path.join(mo.build, "locker"), "-c", mo.conf, "run", "bob",
                                 "--", "/usr/bin/python3", "-c",
                                 "import socket,time; s=socket.socket(socket.AF_UNIX,"
                                 "socket.SOCK_SEQPACKET); s.connect('/run/lockerd/sendmail.sock')"
                                 "; print('connected', flush=True); time.sleep(15)"],
                                stdout=subprocess.PIPE, text=True)
        assert slow.stdout.readline().strip() == "connected"
        r = mo.locker("run", "bob", "--", "/usr/bin/python3", "-c", prog, check=False)
        lines = r.stdout.strip().splitlines()
        assert len(lines) == 3, (r.stdout, r.stderr)
        assert "did not come sealed" in lines[0] and "did not come sealed" in lines[1], lines
        assert lines[2] == "None", lines        # a breach of msg_rules[]: dropped
        r = sendmail(mo, "bob", "Subject: x\n\nMARK-AFTER-SLOW\n", "slow@sink.test")
        assert r.returncode == 0, r.stderr
    finally:
        if slow is not None:
            slow.kill()
            slow.wait()
    arrived(mo, "MARK-AFTER-SLOW")
    assert not any("MARK-UNSEALED" in m.get_content() or "MARK-ROOT" in m.get_content()
                   for m in mo.postfix.messages())


def test_hostile_the_socket_directory_is_read_only_and_holds_only_the_socket(mo):
    r = mo.locker("run", "bob", "--", "/bin/sh", "-c",
                  "ls -A /run/lockerd; touch /run/lockerd/x 2>&1; "
                  "(echo x > /usr/sbin/sendmail) 2>&1; sha256sum < /usr/sbin/sendmail",
                  check=False)
    out = r.stdout
    assert out.splitlines()[0] == "sendmail.sock", out
    assert "Read-only file system" in out, out
    assert out.count("Read-only file system") == 2, out
    import hashlib
    with open(os.path.join(mo.build, "lockerd-sendmail"), "rb") as f:
        ours = hashlib.sha256(f.read()).hexdigest()
    assert out.splitlines()[-1].split()[0] == ours, out     # lockerd's, not the system's


# ------------------------------------------------------------ trust

def test_the_mail_role_sends_the_master_what_it_may_not(mo):
    """msg_rules[] from the role's side: each message it may not send the
    master kills it; it is restarted, and mail goes again through the same
    socket."""
    from test_trust import MSG, frame, gone, refused_types, steal
    sample = ("MSG_CONFIG", "MSG_MAIL_GRANT", "MSG_MAIL_SUBMIT", "MSG_CTL_REQUEST",
              "MSG_SQL_DONE")
    for ty in [MSG[n] for n in sample if MSG[n] in refused_types("MR_MAILOUT", "MR_MASTER")] \
            + [60000]:
        pid = wait_for(lambda: mo.pids("mailout") and mo.pids("mailout")[0], within=20)
        assert pid, "no mail role running"
        s = steal(pid, 3)
        try:
            s.send(frame(ty))
            assert gone(pid, within=10), f"mailout not killed for type {ty}"
        finally:
            s.close()
    assert any("malformed message from mailout" in l and "killing it" in l
               for l in mo.log().splitlines())
    assert wait_for(lambda: mo.pids("mailout"), within=20)
    r = sendmail(mo, "dave", "Subject: again\n\nMARK-RESTARTED\n", "again@sink.test")
    assert r.returncode == 0, r.stderr
    arrived(mo, "MARK-RESTARTED")


def test_the_master_breaking_the_rules_ends_the_mail_role(mo):
    from test_trust import MSG, frame, gone, peers, refused_types, steal
    pid = wait_for(lambda: mo.pids("mailout") and mo.pids("mailout")[0], within=20)
    chans = [fd for fd, p in peers(mo.proc.pid).items() if p == pid]
    assert chans, "the master has no channel to the mail role"
    s = steal(mo.proc.pid, chans[0])
    try:
        s.send(frame(MSG["MSG_MAIL_SUBMIT"]))   # a jail's message, not the master's
    finally:
        s.close()
    assert gone(pid, within=10)
    assert any("mailout: malformed message from master" in l and "exiting" in l
               for l in mo.log().splitlines())
    assert wait_for(lambda: mo.pids("mailout"), within=20)


def test_counts_survive_a_restart(mo):
    before = status(mo, "carol")
    mo.stop()
    mo.start()
    after = status(mo, "carol")
    assert (after["sent"], after["refused"], after["last_hour"]) == \
        (before["sent"], before["refused"], before["last_hour"])
    r = sendmail(mo, "carol", "Subject: r\n\nMARK-RATE-AFTER\n", "rate@sink.test")
    assert r.returncode == 77, (r.returncode, r.stderr)
