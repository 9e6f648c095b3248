"""Issue 15: incoming mail, through a real Postfix.

A real Postfix (tests/integration/postfix.py) on its own configuration,
queue and data directories, smtpd on a loopback port, started once for the
module and stopped by its pid; mail to its lockers' domain goes by LMTP to
lockerd's maild (`mail-lmtp`), mail to its sink domain (the tests' sender,
so bounces land there) into a maildir the tests read.  One lockerd for the
module, with lockers that each have their own mail program.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import TEST_BASE, Lockerd, as_user, refused, wait_for
from postfix import Postfix, available

pytestmark = pytest.mark.skipif(not available(), reason="postfix or swaks is not installed")

MAIL_TIMEOUT = 4
VHOST = "mvh-alice.example.net"           # vhost's mail, turned on
VHOST_OFF = "mvh-off.example.net"         # a vhost whose mail stays off
VHOST_VICTIM = "mvh-victim.example.net"   # victim's; mallory tries to turn it on


@pytest.fixture(scope="module")
def postfix():
    os.makedirs(TEST_BASE, exist_ok=True)
    d = tempfile.mkdtemp(prefix="pfx", dir=TEST_BASE)
    os.chmod(d, 0o755)
    # Vhost domains too: whether their mail is a locker's is lockerd's to say.
    p = Postfix(os.path.join(d, "postfix"), extra={
        "virtual_mailbox_domains": f"lockers.test sink.test {VHOST} {VHOST_OFF} {VHOST_VICTIM}"}).start()
    POSTFIX[:] = [p]
    yield p
    p.cleanup()
    os.rmdir(d)


def mail_conf(postfix, extra=""):
    return (f"mail-lmtp {postfix.lmtp_socket}\nmail-lmtp-domain {postfix.domain}\n"
            f"mail-program-timeout {MAIL_TIMEOUT}s\nmail-lmtp-max-size 1m\nmail-lmtp-max-recipients 5\n"
            f"mail-lmtp-timeout 3s\n" + extra)


@pytest.fixture(scope="module")
def ml(build_dir, postfix):
    d = Lockerd(build_dir, extra=mail_conf(postfix)).start()
    d.postfix = postfix
    yield d
    d.cleanup()


def put_mail(d, locker, name, content, mode=0o700):
    """A file in the locker's mail_scripts, owned by the locker."""
    info = d.info(locker)
    ms = os.path.join(info["home"], "mail_scripts")
    os.makedirs(ms, exist_ok=True)
    os.chown(ms, info["uid"], info["gid"])
    path = os.path.join(ms, name)
    with open(path, "w") as f:
        f.write(content)
    os.chown(path, info["uid"], info["gid"])
    os.chmod(path, mode)
    return path


def home(d, locker):
    return d.info(locker)["home"]


POSTFIX = []     # the module's, for what wait_file() says when it fails


def wait_file(path, within=90):
    """path's text once it exists; every 5 s Postfix is asked to try what
    it holds now (Postfix.flush() says why)."""
    deadline = time.monotonic() + within
    nudge = time.monotonic() + 5
    while not os.path.exists(path):
        if POSTFIX and time.monotonic() > nudge:
            POSTFIX[0].flush()
            nudge = time.monotonic() + 5
        assert time.monotonic() < deadline, (
            f"{path} never appeared; queue: {POSTFIX[0].queue() if POSTFIX else ''}\n"
            f"postfix's log: {POSTFIX[0].log(20000) if POSTFIX else ''}")
        time.sleep(0.1)
    time.sleep(0.1)
    with open(path) as f:
        return f.read()


def bounce_for(postfix, rcpt, within=90):
    """The bounce Postfix sent the tests' sender for rcpt."""
    return postfix.wait_message(
        lambda m: "MAILER-DAEMON" in str(m["From"]) and rcpt in m.as_string(), within)


RECORD = """#!/bin/sh
# alice's program: what it was given, in her home, as her.
out="$HOME/got-$EXTENSION"
{ echo "uid=$(id -u)"; echo "ext=$EXTENSION"; echo "rcpt=$RECIPIENT"; echo "orig=$ORIGINAL_RECIPIENT";
  echo "sender=$SENDER"; echo "---"; cat; } > "$out.tmp" && mv "$out.tmp" "$out"
"""


def test_harness_postfix_delivers_to_the_sink_and_nowhere_else(postfix):
    """The private Postfix answers on loopback, delivers its sink domain's
    mail into the maildir and refuses any other domain."""
    postfix.send(f"harness@{postfix.sink}", subject="harness-sink")
    m = postfix.wait_message(lambda m: m["Subject"] == "harness-sink")
    assert m["To"] == f"harness@{postfix.sink}"
    r = postfix.send("someone@example.com", check=False)
    assert r.returncode != 0 and "5" in r.stdout, r.stdout
    print(f"postfix started in {postfix.start_seconds:.2f} s")


def test_mail_runs_the_lockers_program_as_the_locker(ml):
    """alice+foo@DOMAIN runs alice's mail_scripts/deliver in her sandbox, as
    her uid, with the tag, the recipient and the message."""
    info = ml.signup("alice")
    put_mail(ml, "alice", "deliver", RECORD)
    ml.postfix.send(f"alice+foo@{ml.postfix.domain}", body="hello alice\n", subject="tagged")
    got = wait_file(os.path.join(info["home"], "got-foo"))
    assert f"uid={info['uid']}" in got
    assert "ext=foo" in got
    assert f"rcpt=alice+foo@{ml.postfix.domain}" in got
    assert f"orig=alice+foo@{ml.postfix.domain}" in got     # Postfix's ORCPT (we offer DSN)
    assert f"sender=tester@{ml.postfix.sink}" in got
    assert "Subject: tagged" in got and "hello alice" in got
    assert "\r" not in got
    st = os.stat(os.path.join(info["home"], "got-foo"))
    assert st.st_uid == info["uid"]
    # Acknowledged only after it ran: nothing is left in Postfix's queue.
    wait_for(lambda: not any(f"alice+foo@" in str(q.get("recipients")) for q in ml.postfix.queue()),
             within=30)


def test_exit_75_is_tried_again_and_the_second_try_delivers(ml):
    """EX_TEMPFAIL: 4xx, Postfix keeps the message and tries again."""
    info = ml.signup("tempy")
    put_mail(ml, "tempy", "deliver", """#!/bin/sh
if [ ! -e "$HOME/tried" ]; then touch "$HOME/tried"; echo "busy, later" >&2; exit 75; fi
cat > "$HOME/delivered"
""")
    ml.postfix.send(f"tempy@{ml.postfix.domain}", body="try twice\n")
    got = wait_file(os.path.join(info["home"], "delivered"))
    assert "try twice" in got
    assert os.path.exists(os.path.join(info["home"], "tried"))
    assert "busy, later" in ml.postfix.log(200000)


def test_a_failing_program_bounces_with_its_first_stderr_line(ml):
    ml.signup("carol")
    put_mail(ml, "carol", "deliver", "#!/bin/sh\ncat >/dev/null\n"
             "echo 'carol refuses: over quota' >&2\necho second line >&2\nexit 1\n")
    ml.postfix.send(f"carol@{ml.postfix.domain}", subject="to-carol")
    b = bounce_for(ml.postfix, f"carol@{ml.postfix.domain}")
    assert "carol refuses: over quota" in b.as_string()
    assert "second line" not in b.as_string()


def test_unknown_locker_and_locker_without_program_bounce(ml):
    ml.signup("noprog")
    ml.postfix.send(f"nosuchlocker@{ml.postfix.domain}", subject="to-nobody")
    ml.postfix.send(f"noprog@{ml.postfix.domain}", subject="to-noprog")
    b = bounce_for(ml.postfix, f"nosuchlocker@{ml.postfix.domain}")
    assert "no such locker" in b.as_string()
    b = bounce_for(ml.postfix, f"noprog@{ml.postfix.domain}")
    assert "no mail program" in b.as_string()


def test_no_program_is_discarded_when_its_admins_choose_so(ml):
    """`locker mail no-program NAME discard`: mail to the locker while it has
    no program is taken (250) and nothing runs; a program's own exit 67
    still bounces (the choice is made where the program is looked for, not
    from the exit status); mistakes get the usage and a non-zero exit; a user
    who is not its admin is refused."""
    ml.signup("dropper")
    addr = f"dropper@{ml.postfix.domain}"
    for bad in (["dropper", "maybe"], ["dropper"], ["dropper", "discard", "extra"]):
        r = ml.locker("mail", "no-program", *bad, check=False)
        assert r.returncode != 0 and "usage" in r.stderr, (bad, r.returncode, r.stderr)
    r = ml.locker("mail", "no-program", "nosuchlocker", "discard", check=False)
    assert r.returncode != 0 and "nosuchlocker" in r.stderr, r.stderr
    refused(as_user(ml, "nobody", "mail", "no-program", "dropper", "discard"), "dropper")
    st = json.loads(ml.locker("mail", "status", "dropper", "--json").stdout)
    assert st["no_program"] == "bounce"
    ml.locker("mail", "no-program", "dropper", "discard", "--json")
    st = json.loads(ml.locker("mail", "status", "dropper", "--json").stdout)
    assert st["no_program"] == "discard"
    ml.postfix.send(addr, subject="to-dropper")
    # Postfix logs the delivery as sent, with maild's 250.
    wait_for(lambda: any(f"to=<{addr}>" in l and "status=sent" in l
                         for l in ml.postfix.log(400000).splitlines()), within=90)
    put_mail(ml, "dropper", "deliver", "#!/bin/sh\ncat >/dev/null\n"
             "echo 'dropper: no such user here' >&2\nexit 67\n")
    ml.postfix.send(addr, subject="to-dropper-67")
    b = bounce_for(ml.postfix, addr)
    assert "no such user here" in b.as_string()
    ml.locker("mail", "no-program", "dropper", "bounce")
    st = json.loads(ml.locker("mail", "status", "dropper", "--json").stdout)
    assert st["no_program"] == "bounce"


def test_mail_at_a_vhost_runs_its_lockers_program_once_turned_on(ml):
    """`locker mail vhost NAME HOST on`: any address at HOST (a vhost of
    NAME's) runs NAME's program, RECIPIENT the address, EXTENSION its whole
    local part; at a vhost whose mail is off, or one of another locker's,
    550.  Hostile: mallory cannot turn on mail for victim's vhost, neither
    naming her own locker nor victim's."""
    info = ml.signup("vhmail")
    ml.signup("vhvictim")
    ml.signup("vhmallory")
    ml.locker("vhost", "add", "vhmail", VHOST)
    ml.locker("vhost", "add", "vhmail", VHOST_OFF)
    ml.locker("vhost", "add", "vhvictim", VHOST_VICTIM)
    put_mail(ml, "vhmail", "deliver", RECORD)
    put_mail(ml, "vhvictim", "deliver", RECORD)
    for bad in (["vhmail", VHOST, "maybe"], ["vhmail", VHOST]):
        r = ml.locker("mail", "vhost", *bad, check=False)
        assert r.returncode != 0 and "usage" in r.stderr, (bad, r.returncode, r.stderr)
    # Not its vhost: refused, and the victim's vhost stays off.
    r = ml.locker("mail", "vhost", "vhmallory", VHOST_VICTIM, "on", check=False)
    assert r.returncode != 0 and "not a vhost of vhmallory" in r.stderr, r.stderr
    refused(as_user(ml, "nobody", "mail", "vhost", "vhvictim", VHOST_VICTIM, "on"), "vhvictim")
    r = ml.locker("mail", "vhost", "vhmail", "not a host!", "on", check=False)
    assert r.returncode != 0 and "not a host name" in r.stderr, r.stderr
    # The host as the directory spells it: case does not matter.
    ml.locker("mail", "vhost", "vhmail", VHOST.upper(), "on", "--json")

    ml.postfix.send(f"Info.Desk@{VHOST}", subject="to-vhost")
    got = wait_file(os.path.join(info["home"], "got-Info.Desk"))
    assert f"uid={info['uid']}" in got
    assert f"rcpt=Info.Desk@{VHOST}" in got and "Subject: to-vhost" in got
    for addr in (f"someone@{VHOST_OFF}", f"someone@{VHOST_VICTIM}"):
        ml.postfix.send(addr, subject="to-" + addr)
        b = bounce_for(ml.postfix, addr)
        assert "no such locker" in b.as_string(), addr
    assert not os.path.exists(os.path.join(home(ml, "vhvictim"), "got-someone"))
    # Off again: refused again.
    ml.locker("mail", "vhost", "vhmail", VHOST, "off")
    ml.postfix.send(f"late@{VHOST}", subject="to-vhost-off")
    b = bounce_for(ml.postfix, f"late@{VHOST}")
    assert "no such locker" in b.as_string()


def test_script_by_extension_and_procmail(ml):
    """deliver.py runs with the interpreter of .py; a procmailrc alone is
    run by procmail."""
    pinfo = ml.signup("pyth")
    put_mail(ml, "pyth", "deliver.py", "import os, sys\n"
             "open(os.environ['HOME'] + '/py-got', 'w').write(os.environ['EXTENSION'] + "
             "':' + sys.stdin.read())\n", mode=0o600)
    minfo = ml.signup("procm")
    put_mail(ml, "procm", "procmailrc", ":0\n$HOME/procmail-box\n", mode=0o600)
    ml.postfix.send(f"pyth+bar@{ml.postfix.domain}", body="by python\n")
    ml.postfix.send(f"procm@{ml.postfix.domain}", body="by procmail\n")
    assert wait_file(os.path.join(pinfo["home"], "py-got")).startswith("bar:")
    box = os.path.join(minfo["home"], "procmail-box")
    deadline = time.monotonic() + 90
    while not (os.path.exists(box) and "by procmail" in open(box).read()):
        assert time.monotonic() < deadline, ml.postfix.log()
        time.sleep(0.2)


class Lmtp:
    """A client on maild's socket, driven by hand."""

    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.line()

    def line(self):
        return self.f.readline().decode(errors="replace")

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, c):
        self.send(c + "\r\n")
        lines = [self.line()]
        while lines[-1][3:4] == "-":
            lines.append(self.line())
        return lines[-1]

    def close(self):
        self.s.close()


def maild_pid(d):
    pids = d.pids("maild")
    assert len(pids) == 1, d.children()
    return pids[0]


def test_lmtp_bad_clients_get_errors_and_maild_lives_on(ml):
    """Garbage, an overlong line, too many recipients, a message over
    mail-lmtp-max-size and a silent client: an error reply or a close each, and
    the same maild keeps serving."""
    ml.signup("alice") if "alice" not in ml.locker("list").stdout else None
    pid = maild_pid(ml)
    c = Lmtp(ml.postfix.lmtp_socket)
    c.send(b"\x00\xff\xfe garbage\r\n" + b"A" * 5000 + b"\r\n")
    assert c.line().startswith("500")
    assert c.line().startswith("500 5.5.6")
    assert c.cmd("LHLO t").startswith("250 SIZE")
    assert c.cmd("MAIL FROM:<x@y>").startswith("250")
    replies = [c.cmd(f"RCPT TO:<alice+{i}@{ml.postfix.domain}>") for i in range(6)]
    assert replies[-1].startswith("452"), replies
    assert c.cmd("DATA").startswith("354")
    chunk = b"x" * 1000 + b"\r\n"
    for _ in range(1200):          # 1.2 MB against mail-lmtp-max-size 1m
        c.send(chunk)
    c.send(b".\r\n")
    answers = [c.line() for _ in range(5)]
    assert all(a.startswith("552") for a in answers), answers
    assert c.cmd("QUIT").startswith("221")
    c.close()
    # Too many errors: closed.
    c = Lmtp(ml.postfix.lmtp_socket)
    c.send(b"BOGUS\r\n" * 12)
    lines = [c.line() for _ in range(10)]
    assert lines[-1].startswith("421"), lines
    assert c.line() == ""
    c.close()
    # Silent past mail-lmtp-timeout (3 s): 421 and closed.
    c = Lmtp(ml.postfix.lmtp_socket)
    c.send("LHLO slow\r\n")
    while c.line().startswith("250-"):
        pass
    assert c.line().startswith("421 4.4.2")
    c.close()
    assert maild_pid(ml) == pid, "maild restarted"
    with open(f"/proc/{pid}/status") as f:
        rss = int([l for l in f if l.startswith("VmRSS")][0].split()[1])
    assert rss < 64 * 1024, f"maild holds {rss} kB"


def test_a_program_that_never_exits_is_killed_at_the_limit_with_4xx(ml):
    info = ml.signup("hangs")
    put_mail(ml, "hangs", "deliver", "#!/bin/sh\necho $$ > $HOME/pid\nsleep 1000\n")
    c = Lmtp(ml.postfix.lmtp_socket, timeout=120)
    c.cmd("LHLO t")
    c.cmd("MAIL FROM:<x@y>")
    assert c.cmd(f"RCPT TO:<hangs@{ml.postfix.domain}>").startswith("250")
    assert c.cmd("DATA").startswith("354")
    t0 = time.monotonic()
    c.send("Subject: forever\r\n\r\nbody\r\n.\r\n")
    r = c.line()
    took = time.monotonic() - t0
    c.close()
    assert r.startswith("451 4.4.7") and f"limit of {MAIL_TIMEOUT} s" in r, r
    assert took >= MAIL_TIMEOUT - 0.5, took
    # Its own limit (`locker limit`), shorter than the configuration's.
    ml.locker("limit", "hangs", "mail-program-timeout", "2s")
    c = Lmtp(ml.postfix.lmtp_socket, timeout=120)
    c.cmd("LHLO t")
    c.cmd("MAIL FROM:<x@y>")
    c.cmd(f"RCPT TO:<hangs@{ml.postfix.domain}>")
    c.cmd("DATA")
    c.send("Subject: forever\r\n\r\nbody\r\n.\r\n")
    r = c.line()
    c.close()
    assert r.startswith("451 4.4.7") and "limit of 2 s" in r, r
    # Nothing of it is left running.
    uid = info["uid"]
    left = []
    for p in os.listdir("/proc"):
        try:
            with open(f"/proc/{p}/status") as f:
                if f"Uid:\t{uid}\t" in f.read():
                    left.append(p)
        except OSError:
            pass
    assert wait_for(lambda: not [p for p in left if os.path.exists(f"/proc/{p}")], within=10) \
        or not left


HOSTILE = """#!/bin/sh
# mallory's mail program: what its web scripts try.
exec > "$HOME/report.tmp" 2>&1
cat {victim}/web_scripts/open.txt && echo READ-VICTIM
echo pwned >> {victim}/web_scripts/open.txt && echo WROTE-VICTIM
ls {lockers}
cat /etc/shadow
cat {conf} && echo READ-CONF
ls {state} && echo LISTED-STATE
python3 -c "import socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect('{state}/control.sock'); print('CONTROL')"
python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('{lmtp}'); print('LMTP')"
echo pwned > /proc/self/fd/0 && echo WROTE-STDIN
python3 -c "import os; fd = os.open('/proc/self/fd/0', os.O_RDWR); os.pwrite(fd, b'X', 0) and print('WROTE-RW')"
mkdir -p {victim}/mail_scripts && echo x > {victim}/mail_scripts/deliver && echo PLANTED
kill -9 -1; echo killed-all
unshare -U -r id && echo USERNS
echo "uid=$(id -u)"
echo "pids=$(ls /proc | grep -cE '^[0-9]+$')"
for f in /proc/$$/fd/*; do echo "fd $f $(readlink $f)"; done
echo DONE
mv "$HOME/report.tmp" "$HOME/report"
"""


def test_hostile_mail_program_fails_as_web_scripts_do(ml):
    """mallory's mail program tries what its web scripts try (test_hostile)
    and fails the same way; mail to victim never runs mallory's code."""
    minfo = ml.signup("mallory")
    vinfo = ml.signup("victim")
    os.makedirs(os.path.join(vinfo["home"], "web_scripts"), exist_ok=True)
    ml.put("victim", "open.txt", "VICTIM-OPEN\n", mode=0o777)
    os.chmod(vinfo["home"], 0o777)
    put_mail(ml, "victim", "deliver", "#!/bin/sh\ncat > $HOME/victim-got\n")
    put_mail(ml, "mallory", "deliver", HOSTILE.format(
        victim=vinfo["home"], lockers=ml.lockers, conf=ml.conf,
        state=os.path.join(ml.dir, "state"), lmtp=ml.postfix.lmtp_socket))
    before = set(ml.children())
    ml.postfix.send(f"mallory@{ml.postfix.domain}", body="attack\n")
    out = wait_file(os.path.join(minfo["home"], "report"))
    assert "DONE" in out, out
    assert "root:" not in out, out      # the filtered /etc has no shadow entry
    for bad in ("READ-VICTIM", "WROTE-VICTIM", "VICTIM-OPEN", "READ-CONF",
                "LISTED-STATE", "CONTROL", "LMTP", "WROTE-STDIN", "WROTE-RW", "PLANTED",
                "USERNS"):
        assert bad not in out, (bad, out)
    assert "\nvictim\n" not in out and "\nmallory\n" in out, out     # ls of the lockers root
    assert f"uid={minfo['uid']}" in out
    assert int(out.split("pids=")[1].split()[0]) < 10, out
    fds = [l for l in out.splitlines() if l.startswith("fd ")]
    # stdin (the message), stdout and stderr, the shell's own script and loop: nothing else
    assert len(fds) <= 5, fds
    for l in fds:
        target = l.split(" ", 2)[2]
        assert target.startswith(("/memfd:mail", "pipe:", "/dev/", minfo["home"] + "/")), fds
    with open(os.path.join(vinfo["home"], "web_scripts", "open.txt")) as f:
        assert f.read() == "VICTIM-OPEN\n"
    # lockerd's processes are all still there after mallory's kill -9 -1.
    assert before <= set(ml.children()) | {p for p in before if not os.path.exists(f"/proc/{p}")}
    assert maild_pid(ml) in before
    # Mail to victim runs victim's program, not anything of mallory's.
    os.unlink(os.path.join(minfo["home"], "report"))
    ml.postfix.send(f"victim@{ml.postfix.domain}", body="for victim only\n")
    assert "for victim only" in wait_file(os.path.join(vinfo["home"], "victim-got"))
    assert not os.path.exists(os.path.join(minfo["home"], "report"))
    assert not os.path.exists(os.path.join(minfo["home"], "report.tmp"))


def test_lockerd_killed_mid_delivery_loses_nothing(ml):
    """SIGKILL of lockerd while a program runs: Postfix never heard 250, so
    it tries again after the restart, and the message arrives once."""
    info = ml.signup("erin")
    put_mail(ml, "erin", "deliver", """#!/bin/sh
if [ ! -e "$HOME/started" ]; then touch "$HOME/started"; sleep 60; fi
cat >> "$HOME/deliveries"; echo "=END=" >> "$HOME/deliveries"
""")
    ml.postfix.send(f"erin@{ml.postfix.domain}", body="exactly once\n")
    wait_file(os.path.join(info["home"], "started"))
    ml.stop(signal.SIGKILL)
    ml.start()
    ml.postfix.flush()      # no need to wait for the deferred queue's next scan
    try:
        got = wait_file(os.path.join(info["home"], "deliveries"))
    except AssertionError:
        raise AssertionError(f"lockerd: {ml.log()[-3000:]}\npostfix: {ml.postfix.log()}")
    deadline = time.monotonic() + 30
    while "=END=" not in got and time.monotonic() < deadline:
        time.sleep(0.2)
        got = open(os.path.join(info["home"], "deliveries")).read()
    time.sleep(3)           # time for a second, wrong, delivery to show
    got = open(os.path.join(info["home"], "deliveries")).read()
    assert got.count("exactly once") == 1 and got.count("=END=") == 1, got
