"""A locker's logs and what its PHP leaves behind, seen from the attacker's
side: a locker floods its error log from a script's stderr and from PHP's
(FastCGI STDERR records), and must find only its budget on disk; PHP's
error lines arrive as PHP wrote them; PHP's sessions in the locker's /tmp
are collected.  docs/SECURITY.md links each promise to its test here.
"""
import os
import re
import time

import pytest

from conftest import Lockerd, get
from conftest import wait_for as conftest_wait_for

LOG_RATE = 4096          # bytes/s, the test's log-rate
LOG_SIZE = 65536         # the test's log-size
GENERATIONS = 2          # old generations logd keeps: error.log.1, error.log.2


@pytest.fixture(scope="module")
def lg(build_dir):
    d = Lockerd(build_dir, extra=f"log-rate {LOG_RATE}\nlog-size {LOG_SIZE}\n"
                                 "script-timeout 30s\nfile-cache-valid 0\n").start()
    for name in ("flood", "calm", "pia"):
        d.signup(name)
    yield d
    d.cleanup()


def home(d, name):
    return d.info(name)["home"]


def error_log(d, name, gen=0):
    p = os.path.join(d.logs, "lockers", name, "error.log")
    return p + f".{gen}" if gen else p


def read_log(d, name, gen=0):
    try:
        with open(error_log(d, name, gen), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def wait_for(pred, timeout=10.0):
    return conftest_wait_for(pred, timeout)


# --- PHP sessions (issue 9, item 12) ---

def test_php_sessions_are_collected(lg):
    # Debian's php.ini says session.gc_probability=0 (its cron job cleans
    # only /var/lib/php/sessions): lockerd's pool and CGI php collect.
    show = ('<?php echo ini_get("session.gc_probability"), " ",'
            ' ini_get("session.gc_divisor"), " ", ini_get("session.gc_maxlifetime");')
    lg.put("pia", "gc.php", show)
    lg.put("pia", "cgi/gc.php", show)
    lg.put("pia", "cgi/php.ini", "; a php.ini of the locker's own: this directory runs as CGI\n")
    for path in ("/gc.php", "/cgi/gc.php"):
        s, _, b = get(lg.port, path, "pia.test.example")
        assert s == 200, b
        prob, div, life = (int(x) for x in b.split())
        assert prob > 0 and div > 0 and prob / div >= 1 / 1000, (path, b)
        assert life == 1440, (path, b)   # PHP's default: the locker's ini may say otherwise

    # Old session files in the locker's /tmp go (PHP's own GC, made certain
    # here by the script's ini_set), a fresh one stays.
    info = lg.info("pia")
    tmp = os.path.join(info["home"], "tmp")
    old = [os.path.join(tmp, f"sess_old{i:026d}") for i in range(5)]
    fresh = os.path.join(tmp, "sess_fresh" + "0" * 22)
    for p in old + [fresh]:
        with open(p, "w") as f:
            f.write('n|i:1;')
        os.chown(p, info["uid"], info["gid"])
        os.chmod(p, 0o600)
    for p in old:
        t = time.time() - 7200
        os.utime(p, (t, t))
    lg.put("pia", "sess.php", '<?php ini_set("session.gc_maxlifetime", "600");'
                              ' ini_set("session.gc_divisor", "1"); session_start();'
                              ' $_SESSION["n"] = 1; echo "ok";')
    s, _, b = get(lg.port, "/sess.php", "pia.test.example")
    assert (s, b) == (200, b"ok")
    assert not any(os.path.exists(p) for p in old), os.listdir(tmp)
    assert os.path.exists(fresh)


# --- PHP's error lines, as PHP wrote them (issue 9, item 13) ---

# Every line of a locker's error log: the time, and which script for CGI.
STAMP = re.compile(rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] (\[script [^]]*\] )?")


@pytest.mark.parametrize("where", ["fastcgi", "cgi"])
def test_php_error_lines_arrive_as_written(lg, where):
    # The pool (FastCGI STDERR records through front), and php-cgi as CGI
    # (a php.ini beside the script: its stderr through the worker).
    sub = "" if where == "fastcgi" else "cgi/"
    if sub:   # it replaces Debian's php.ini: say what Debian's says of errors
        lg.put("pia", "cgi/php.ini", "display_errors = Off\nlog_errors = On\n")
    mark = f"{where}-mark"
    lg.put("pia", f"{sub}trace.php", f'<?php error_log("first-{mark}\\nsecond-{mark}");'
                                     ' throw new Exception(str_repeat("x", 3000));')
    s, _, b = get(lg.port, f"/{sub}trace.php", "pia.test.example")
    assert s == 500, b
    assert wait_for(lambda: b"thrown in" in read_log(lg, "pia").split(mark.encode())[-1])
    lines = read_log(lg, "pia").split(b"\n")
    lines = lines[[i for i, l in enumerate(lines) if l.endswith(b"first-" + mark.encode())][-1]:]
    assert all(STAMP.match(l) for l in lines if l), lines[:8]
    text = [STAMP.sub(b"", l) for l in lines]
    assert text[1] == b"second-" + mark.encode(), text[:3]
    fatal = [t for t in text if b"Uncaught Exception" in t]
    assert fatal and b"x" * 3000 in fatal[0], text[:4]
    assert b"Stack trace:" in text and b"#0 {main}" in text, text
    assert not any(b"?Stack" in t or b"\\x0a" in t for t in text)


def test_control_characters_are_escaped_newlines_split(lg):
    lg.put("pia", "ctl.sh", 'printf "Content-Type: text/plain\\n\\nok"; '
                            'printf "esc-\\033[2J-bell\\007\\r\\nnext-ctl\\n" >&2')
    assert get(lg.port, "/ctl.sh", "pia.test.example")[2] == b"ok"
    assert wait_for(lambda: b"next-ctl" in read_log(lg, "pia"))
    log = read_log(lg, "pia")
    assert b"\x1b" not in log and b"\x07" not in log and b"\r" not in log
    assert b"esc-\\x1b[2J-bell\\x07\n" in log


# --- A locker's log budget (issue 9, item 6) ---

def bucket_cap():
    return max(LOG_RATE * 4, 2 * (8192 + 64))


def log_bytes(d, name):
    return sum(len(read_log(d, name, g)) for g in range(GENERATIONS + 2))


def flood_then(lg, path, seconds, during=None):
    """Fetch flood's flooding script; `during` runs meanwhile; returns the
    seconds the flood took."""
    import threading
    t0 = time.time()
    out = {}
    th = threading.Thread(target=lambda: out.setdefault(
        "r", get(lg.port, path, "flood.test.example")))
    th.start()
    if during:
        time.sleep(0.5)
        during()
    th.join(timeout=seconds + 30)
    assert out["r"][0] == 200, out["r"]
    return time.time() - t0


def test_a_flood_of_stderr_leaves_only_the_budget(lg):
    lg.put("flood", "flood.sh", 'echo "Content-Type: text/plain"; echo;'
                                ' timeout 3 yes "flood-line-$(head -c 60 /dev/zero | tr "\\0" x)" >&2;'
                                ' echo done')
    lg.put("flood", "flood.php", '<?php $end = microtime(true) + 2;'
                                 ' while (microtime(true) < $end) error_log(str_repeat("p", 200));'
                                 ' echo "done";')
    lg.put("calm", "calm.sh", 'echo "Content-Type: text/plain"; echo; echo calm-cgi-mark >&2; echo ok')
    lg.put("calm", "calm.php", '<?php error_log("calm-php-mark"); echo "ok";')

    def calm():
        for _ in range(3):
            assert get(lg.port, "/calm.sh", "calm.test.example")[2] == b"ok\n"
            assert get(lg.port, "/calm.php", "calm.test.example")[2] == b"ok"
            time.sleep(0.3)

    elapsed = flood_then(lg, "/flood.sh", 3, during=calm)
    elapsed += flood_then(lg, "/flood.php", 2, during=calm)
    time.sleep(1.5)    # logd has drained what was sent, and said what it dropped
    total = log_bytes(lg, "flood")
    budget = bucket_cap() + LOG_RATE * (elapsed + 2)
    print(f"flood: {total} bytes on disk in {elapsed:.1f} s, budget {budget:.0f}")
    assert 0 < total <= budget, (total, budget)
    log = read_log(lg, "flood") + read_log(lg, "flood", 1)
    dropped = [int(n) for n in re.findall(rb"lockerd: dropped (\d+) bytes \(log-rate\)", log)]
    assert dropped and sum(dropped) > 100 * budget, dropped[:5]
    assert b"flood-line-" in log and b"ppppp" in log
    # `locker info`: the bytes dropped, and the bytes of its error logs
    limits = {l["key"]: l for l in lg.info("flood")["limits"]}
    assert limits["log-rate"]["use"] == sum(dropped), (limits["log-rate"], sum(dropped))
    assert limits["log-size"]["use"] == log_bytes(lg, "flood")
    text = lg.locker("info", "flood").stdout
    assert re.search(r"log-rate +4K \(default, [0-9.]+[KMG] dropped\)", text), text
    calm_log = read_log(lg, "calm")
    # every line of calm's, during both floods
    assert calm_log.count(b"calm-cgi-mark") == 6 and calm_log.count(b"calm-php-mark") == 6, calm_log


def test_error_log_rotates_at_its_own_log_size(lg):
    lg.locker("limit", "flood", "log-rate", "none")
    lg.locker("limit", "flood", "log-size", "16k")
    try:
        info = {l["key"]: l for l in lg.info("flood")["limits"]}
        assert info["log-size"]["value"] == 16384 and not info["log-size"]["default"]
        lg.put("flood", "burst.sh", 'echo "Content-Type: text/plain"; echo;'
                                    ' yes "rotate-line-0123456789" | head -c 2000000 >&2; echo done')
        assert get(lg.port, "/burst.sh", "flood.test.example")[2] == b"done\n"
        assert wait_for(lambda: len(read_log(lg, "flood", 2)) > 0)
        time.sleep(1)
        sizes = [len(read_log(lg, "flood", g)) for g in range(GENERATIONS + 2)]
        print("flood's error logs:", sizes)
        assert all(0 < s <= 16384 for s in sizes[:GENERATIONS + 1]), sizes
        assert not os.path.exists(error_log(lg, "flood", GENERATIONS + 1))
        assert b"rotate-line-0123456789\n" in read_log(lg, "flood")
        # the other lockers keep the configuration's size
        assert not os.path.exists(error_log(lg, "calm", 1))
    finally:
        lg.locker("limit", "flood", "log-rate", "default")
        lg.locker("limit", "flood", "log-size", "default")


def test_every_dropped_byte_is_said_even_at_stop(make_lockerd):
    # What logd keeps and what it says it dropped add up to what was
    # written, byte for byte, even when lockerd stops right after.
    d = make_lockerd(extra="log-rate 1024\n").start()
    d.signup("noisy")
    d.put("noisy", "n.sh", 'echo "Content-Type: text/plain"; echo; i=0;'
                           ' while [ $i -lt 3000 ]; do echo "noisy-line-$i-padding" >&2; i=$((i+1)); done;'
                           ' echo done')
    assert get(d.port, "/n.sh", "noisy.test.example")[2] == b"done\n"
    time.sleep(0.3)    # the worker has read the script's last lines
    d.stop()
    log = read_log(d, "noisy")
    kept = [l for l in log.split(b"\n") if b"noisy-line-" in l]
    prefix = STAMP.match(kept[0]).group(0)
    offered = sum(len(prefix) + len(b"noisy-line-%d-padding" % i) + 1 for i in range(3000))
    dropped = sum(int(n) for n in re.findall(rb"lockerd: dropped (\d+) bytes \(log-rate\)", log))
    assert len(kept) < 3000 and dropped > 0
    assert sum(len(l) + 1 for l in kept) + dropped == offered, (len(kept), dropped, offered)
