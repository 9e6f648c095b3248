"""Scripts run as their locker: CGI/1.1 through lockerd, from the wire."""
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import _H2_PORTS, get, parse_responses, raw, wait_for
from h2client import H2Conn, h2_get

# The tests on the module's servers (cgi, fcgi, fdirect) run over HTTP/1.1
# and again over HTTP/2 (conftest.py: transports).
TRANSPORTS = ("h1", "h2")

ENV_SH = """echo "Content-Type: text/plain"
echo
env | sort
echo "uid=$(id -u)"
"""


def env_of(body):
    out = {}
    for line in body.decode(errors="replace").splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k] = v
    return out


@pytest.fixture(scope="module")
def cgi(build_dir, transport):
    from conftest import Lockerd
    d = Lockerd(build_dir, extra="script-timeout 3\nfile-cache-valid 0\n",
                transport=transport).start()
    d.signup("alice")
    d.signup("bob")
    yield d
    d.cleanup()


def uid_of(d, name):
    return d.info(name)["uid"]


def test_interpreters_by_extension_without_exec_bit(cgi):
    cgi.put("alice", "s.sh", 'echo "Content-Type: text/plain"; echo; echo "sh $(id -u)"')
    cgi.put("alice", "p.pl", 'print "Content-Type: text/plain\\n\\n"; print "perl $<\\n";')
    cgi.put("alice", "y.py", 'import os\nprint("Content-Type: text/plain\\n")\nprint("python", os.getuid())')
    cgi.put("alice", "x.php", '<?php echo "php ", posix_getuid(), "\\n";')
    uid = uid_of(cgi, "alice")
    for f, word in (("s.sh", "sh"), ("p.pl", "perl"), ("y.py", "python"), ("x.php", "php")):
        s, h, b = get(cgi.port, "/" + f, "alice.test.example")
        assert s == 200, (f, s, b)
        assert b.decode().strip() == f"{word} {uid}", (f, b)


@pytest.mark.h1_only("how a file is run, not how it is asked for: the same over either transport")
def test_cgi_file_runs_by_shebang_or_as_a_program(cgi):
    cgi.put("alice", "shebang.cgi", '#!/usr/bin/perl -w\nprint "Content-Type: text/plain\\n\\nshebang $<\\n";')
    s, _, b = get(cgi.port, "/shebang.cgi", "alice.test.example")
    assert s == 200 and b == f"shebang {uid_of(cgi, 'alice')}\n".encode()
    if shutil.which("gcc"):
        src = os.path.join(cgi.dir, "hello.c")
        with open(src, "w") as f:
            f.write('#include <stdio.h>\n#include <unistd.h>\nint main(void){'
                    'printf("Content-Type: text/plain\\r\\n\\r\\nC %d\\n", (int)getuid());return 0;}\n')
        binp = os.path.join(cgi.dir, "hello.cgi")
        subprocess.run(["gcc", "-O2", "-o", binp, src], check=True)
        with open(binp, "rb") as f:
            cgi.put("alice", "hello.cgi", f.read(), mode=0o700)
        s, _, b = get(cgi.port, "/hello.cgi", "alice.test.example")
        assert s == 200 and b == f"C {uid_of(cgi, 'alice')}\n".encode()


def test_meta_variables(cgi):
    cgi.put("alice", "env.sh", ENV_SH)
    s, h, b = get(cgi.port, "/~alice/env.sh/extra/p%20ath?a=1&b=%20x", "scripts.test.example:8080",
                  extra=b"X-Custom-Thing: yes\r\nProxy: http://evil/\r\nCookie: a=1\r\n"
                        b"X-Dup: 1\r\nX-Dup: 2\r\nX_Under: no\r\n")
    assert s == 200, b
    e = env_of(b)
    home = cgi.info("alice")["home"]
    assert e["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert e["REQUEST_METHOD"] == "GET"
    assert e["QUERY_STRING"] == "a=1&b=%20x"
    assert e["SCRIPT_NAME"] == "/~alice/env.sh"
    assert e["PATH_INFO"] == "/extra/p ath"
    assert e["PATH_TRANSLATED"] == home + "/web_scripts/extra/p ath"
    assert e["SCRIPT_FILENAME"] == home + "/web_scripts/env.sh"
    assert e["REQUEST_URI"] == "/~alice/env.sh/extra/p%20ath?a=1&b=%20x"
    assert e["SERVER_NAME"] == "scripts.test.example"
    assert e["SERVER_PORT"] == str(cgi.port)
    assert e["SERVER_PROTOCOL"] == cgi.proto
    assert e["REMOTE_ADDR"] == "127.0.0.1" and int(e["REMOTE_PORT"]) > 0
    assert e["SERVER_ADDR"] == "127.0.0.1"
    assert e["CONTEXT_PREFIX"] == "/~alice"
    assert e["DOCUMENT_ROOT"] == home + "/web_scripts"
    assert e["REDIRECT_STATUS"] == "200"
    assert e["REQUEST_SCHEME"] == cgi.scheme
    assert e.get("HTTPS") == ("on" if cgi.scheme == "https" else None)
    assert e["PHPRC"] == home + "/web_scripts"
    assert e["HTTP_X_CUSTOM_THING"] == "yes"
    assert e["HTTP_COOKIE"] == "a=1"
    assert e["HTTP_X_DUP"] == "1, 2"
    assert "HTTP_PROXY" not in e, "httpoxy"
    assert not any(k.startswith("HTTP_X_UNDER") for k in e)
    assert e["uid"] == str(uid_of(cgi, "alice"))
    assert "CONTENT_LENGTH" not in e
    # the working directory is the script's own
    cgi.put("alice", "sub/pwd.sh", 'echo "Content-Type: text/plain"; echo; pwd')
    assert get(cgi.port, "/sub/pwd.sh", "alice.test.example")[2].decode().strip() == \
        home + "/web_scripts/sub"


def test_index_script_and_subdomain_script_name(cgi):
    cgi.put("alice", "app/index.php", '<?php echo $_SERVER["SCRIPT_NAME"], "|", $_GET["q"];')
    s, _, b = get(cgi.port, "/app/?q=7", "alice.test.example")
    assert (s, b) == (200, b"/app/index.php|7")


def post(port, path, host, body, chunked=False, extra=b"",
         ctype=b"application/octet-stream"):
    """A POST of body on a connection of its own, with a length or chunked
    (over HTTP/2: DATA without a content-length)."""
    if port in _H2_PORTS:
        return h2_get(port, path, host, b"Content-Type: " + ctype + b"\r\n" + extra,
                      b"POST", body, content_length=not chunked, timeout=60)
    head = b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() + \
        b"\r\nConnection: close\r\nContent-Type: " + ctype + b"\r\n" + extra
    if chunked:
        parts = [body[i:i + 65536] for i in range(0, len(body), 65536)]
        data = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(
            b"%x\r\n" % len(p) + p + b"\r\n" for p in parts) + b"0\r\n\r\n"
    else:
        data = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    return parse_responses(raw(port, data, timeout=60))[0]


SHA_PY = """import hashlib, os, sys
n = int(os.environ.get("CONTENT_LENGTH", "0"))
h = hashlib.sha256()
left = n
while left > 0:
    b = sys.stdin.buffer.read(min(left, 65536))
    if not b:
        break
    h.update(b)
    left -= len(b)
sys.stdout.write("Content-Type: text/plain\\r\\n\\r\\n%d %s\\n" % (n - left, h.hexdigest()))
"""


def test_large_post_reaches_stdin_intact(cgi):
    cgi.put("alice", "sha.py", SHA_PY)
    body = os.urandom(10 << 20)
    want = f"{len(body)} {hashlib.sha256(body).hexdigest()}\n".encode()
    s, h, b = post(cgi.port, "/sha.py", "alice.test.example", body)
    assert (s, b) == (200, want)
    s, h, b = post(cgi.port, "/sha.py", "alice.test.example", body, chunked=True)
    assert (s, b) == (200, want)


@pytest.mark.h1_only("chunked framing and keep-alive are HTTP/1.1's; HTTP/2's streamed "
                    "answer: test_h2.py")
def test_output_without_length_is_chunked_and_keepalive_goes_on(cgi):
    cgi.put("alice", "big.sh", 'echo "Content-Type: text/plain"; echo; seq 1 20000')
    cgi.put("alice", "k.txt", "after\n")
    req = (b"GET /big.sh HTTP/1.1\r\nHost: alice.test.example\r\n\r\n"
           b"GET /k.txt HTTP/1.1\r\nHost: alice.test.example\r\nConnection: close\r\n\r\n")
    data = raw(cgi.port, req)
    head, _, rest = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    # de-chunk
    body = b""
    while True:
        line, _, rest = rest.partition(b"\r\n")
        n = int(line, 16)
        if n == 0:
            rest = rest[2:]
            break
        body += rest[:n]
        rest = rest[n + 2:]
    assert body == "".join(f"{i}\n" for i in range(1, 20001)).encode()
    assert parse_responses(rest)[0][2] == b"after\n"


def test_status_location_and_headers(cgi):
    cgi.put("alice", "st.sh", 'printf "Status: 418 I am a teapot\\r\\nContent-Type: text/plain\\r\\nX-Mine: 1\\r\\n\\r\\ntea"')
    s, h, b = get(cgi.port, "/st.sh", "alice.test.example")
    assert (s, b, h["x-mine"]) == (418, b"tea", "1")
    cgi.put("alice", "away.sh", 'printf "Location: http://example.org/x\\r\\n\\r\\n"')
    s, h, b = get(cgi.port, "/away.sh", "alice.test.example")
    assert s == 302 and h["location"] == "http://example.org/x"
    cgi.put("alice", "target.txt", "the target\n")
    cgi.put("alice", "local.sh", 'printf "Location: /~alice/target.txt\\r\\n\\r\\n"')
    s, h, b = get(cgi.port, "/~alice/local.sh", "scripts.test.example")
    assert (s, b) == (200, b"the target\n")
    # a local redirect cannot leave the locker
    cgi.put("bob", "b.txt", "BOB\n")
    cgi.put("alice", "steal.sh", 'printf "Location: /~bob/b.txt\\r\\n\\r\\n"')
    s, h, b = get(cgi.port, "/~alice/steal.sh", "scripts.test.example")
    assert b"BOB" not in b and s >= 400


def test_malformed_head_is_502_and_logged(cgi):
    cgi.put("alice", "bad.sh", 'printf "Content-Type: text/plain\\r\\nX-Split: a\\rInjected: b\\r\\n\\r\\nbody"')
    s, h, b = get(cgi.port, "/bad.sh", "alice.test.example")
    assert s == 502 and b"Injected" not in b and "injected" not in h
    cgi.put("alice", "nohead.sh", "echo just text without a head")
    assert get(cgi.port, "/nohead.sh", "alice.test.example")[0] == 502
    cgi.put("alice", "silent.sh", "exit 0")
    assert get(cgi.port, "/silent.sh", "alice.test.example")[0] == 502


def many_headers_sh(n):
    """A CGI script printing n headers of about 200 bytes, then a CSP."""
    return ('echo "Content-Type: text/plain"\n'
            f'for i in $(seq 1 {n}); do printf "X-Pad-%03d: %0190d\\r\\n" $i 0; done\n'
            'echo "Content-Security-Policy: default-src \'self\'"\n'
            'echo; echo body\n')


def locker_error_log(d, name):
    time.sleep(0.5)
    try:
        with open(os.path.join(d.logs, "lockers", name, "error.log")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def test_a_head_too_big_for_front_is_502_not_cut(cgi):
    # Under the limit (8 KiB with front's own fields): every field arrives.
    cgi.put("alice", "hdr-ok.sh", many_headers_sh(36))
    s, h, b = get(cgi.port, "/hdr-ok.sh", "alice.test.example")
    assert (s, b) == (200, b"body\n")
    assert len([k for k in h if k.startswith("x-pad-")]) == 36
    assert h["content-security-policy"] == "default-src 'self'"
    # Over it: refused whole, as nginx's "upstream sent too big header",
    # and the locker is told why in its own error log.
    cgi.put("alice", "hdr-big.sh", many_headers_sh(60))
    s, h, b = get(cgi.port, "/hdr-big.sh", "alice.test.example")
    assert s == 502 and "x-pad-001" not in h and not b.startswith(b"body"), (s, h)
    assert "script head too large" in locker_error_log(cgi, "alice")


def test_stderr_goes_to_the_lockers_error_log(cgi):
    cgi.put("alice", "err.sh", 'echo "secret-stderr-line" >&2; echo "Content-Type: text/plain"; echo; echo out')
    s, h, b = get(cgi.port, "/err.sh", "alice.test.example")
    assert (s, b) == (200, b"out\n")
    time.sleep(0.5)
    log = os.path.join(cgi.logs, "lockers", "alice", "error.log")
    with open(log) as f:
        text = f.read()
    assert "secret-stderr-line" in text and "err.sh" in text
    bob_log = os.path.join(cgi.logs, "lockers", "bob", "error.log")
    assert not os.path.exists(bob_log) or "secret-stderr-line" not in open(bob_log).read()


def locker_procs(uid, pools=False):
    """The locker's processes but its worker (and its PHP pool, unless asked)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                st = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if re.search(rf"^Uid:\s+{uid}\s", st, re.M) and b"lockerd" not in cmd and \
                (pools or b"php-cgi" not in cmd):
            out.append(int(pid))
    return out


def test_script_over_the_time_limit_is_504_and_killed(cgi):
    cgi.put("alice", "slow.sh", 'sleep 30 & sleep 30; echo "Content-Type: text/plain"; echo; echo late')
    t0 = time.time()
    s, h, b = get(cgi.port, "/slow.sh", "alice.test.example")
    assert s == 504 and time.time() - t0 < 10
    time.sleep(1.5)
    assert locker_procs(uid_of(cgi, "alice")) == []


def test_client_going_away_kills_its_script(cgi):
    """The connection closed; over HTTP/2 the stream reset (RST_STREAM) on a
    connection that stays open, then a second one on a connection closed."""
    cgi.put("alice", "forever.sh", 'echo "Content-Type: text/plain"; echo; while :; do echo x; sleep 0.1; done')
    if cgi.transport == "h2":
        for close in (False, True):
            with H2Conn(cgi.port, "alice.test.example") as c:
                sid = c.request("GET", "/forever.sh", "alice.test.example")
                c.pump(lambda: c.streams[sid].body)
                if close:
                    continue
                c.conn.reset_stream(sid)
                c.flush()
                assert wait_for(lambda: not locker_procs(uid_of(cgi, "alice"))), \
                    "a reset stream's script still runs"
                # and the connection serves on
                cgi.put("alice", "after.txt", "after\n")
                assert bytes(c.get("GET", "/after.txt", "alice.test.example").body) == b"after\n"
            assert wait_for(lambda: not locker_procs(uid_of(cgi, "alice")))
        return
    s = socket.create_connection(("127.0.0.1", cgi.port))
    s.sendall(b"GET /forever.sh HTTP/1.1\r\nHost: alice.test.example\r\n\r\n")
    assert s.recv(100)
    s.close()
    deadline = time.time() + 5
    while time.time() < deadline and locker_procs(uid_of(cgi, "alice")):
        time.sleep(0.1)
    assert locker_procs(uid_of(cgi, "alice")) == []


def test_script_ignoring_stdin_or_closing_stdout_early(cgi):
    cgi.put("alice", "ignore.sh", 'echo "Content-Type: text/plain"; echo; echo ignored')
    s, h, b = post(cgi.port, "/ignore.sh", "alice.test.example", os.urandom(4 << 20))
    assert (s, b) == (200, b"ignored\n")
    cgi.put("alice", "early.sh", 'echo "Content-Type: text/plain"; echo; echo bye; exec >&-; sleep 1')
    t0 = time.time()
    s, h, b = get(cgi.port, "/early.sh", "alice.test.example")
    assert (s, b) == (200, b"bye\n")


def test_nph_script(cgi):
    cgi.put("alice", "nph-raw.sh", 'printf "HTTP/1.1 299 Mine\\r\\nContent-Type: text/plain\\r\\n\\r\\nraw"')
    if cgi.transport == "h2":
        # HTTP/2 has no reason phrase: the status and the body pass
        assert get(cgi.port, "/nph-raw.sh", "alice.test.example")[::2] == (299, b"raw")
    else:
        data = raw(cgi.port, b"GET /nph-raw.sh HTTP/1.1\r\nHost: alice.test.example\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 299 Mine\r\n") and data.endswith(b"raw")
    # a status line longer than front's whole head is refused, not copied
    cgi.put("alice", "nph-long.sh", 'printf "HTTP/1.1 200 %09000d\\r\\nContent-Type: text/plain'
            '\\r\\nX-After: 1\\r\\n\\r\\nlong" 0')
    s, h, b = get(cgi.port, "/nph-long.sh", "alice.test.example")
    assert s == 502 and "x-after" not in h, (s, h)
    assert get(cgi.port, "/nph-raw.sh", "alice.test.example")[0] == 299


def test_php_session_and_post_form(cgi):
    cgi.put("alice", "sess.php", '<?php session_save_path("/tmp"); session_start();'
                                 ' $_SESSION["n"] = ($_SESSION["n"] ?? 0) + 1; echo $_SESSION["n"];')
    s, h, b = get(cgi.port, "/sess.php", "alice.test.example")
    assert (s, b) == (200, b"1")
    cookie = h["set-cookie"].split(";")[0]
    s, h, b = get(cgi.port, "/sess.php", "alice.test.example",
                  extra=b"Cookie: " + cookie.encode() + b"\r\n")
    assert (s, b) == (200, b"2")
    # the session file is in alice's own tmp
    tmp = os.path.join(cgi.info("alice")["home"], "tmp")
    assert any(n.startswith("sess_") for n in os.listdir(tmp))
    cgi.put("alice", "form.php", '<?php echo $_POST["a"], "+", $_POST["b"];')
    s, h, b = post(cgi.port, "/form.php", "alice.test.example", b"a=1&b=two",
                   extra=b"")
    # Content-Type of the helper is octet-stream: PHP only parses forms
    r = post(cgi.port, "/form.php", "alice.test.example", b"a=1&b=two",
             ctype=b"application/x-www-form-urlencoded")
    assert (r[0], r[2]) == (200, b"1+two")


def test_too_many_scripts_at_once(make_lockerd):
    d = make_lockerd(extra="max-scripts 2\nscript-timeout 5\n").start()
    d.signup("carl")
    d.put("carl", "wait.sh", 'sleep 2; echo "Content-Type: text/plain"; echo; echo done')
    socks = []
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(b"GET /wait.sh HTTP/1.1\r\nHost: carl.test.example\r\n\r\n")
        socks.append(s)
    time.sleep(0.5)
    assert get(d.port, "/wait.sh", "carl.test.example")[0] == 503
    for s in socks:
        s.settimeout(5)
        assert s.recv(100).startswith(b"HTTP/1.1 200")
        s.close()


# --- PHP through the locker's own persistent FastCGI pool ---

@pytest.fixture(scope="module")
def fcgi(build_dir, transport):
    from conftest import Lockerd
    d = Lockerd(build_dir, extra="interpreter php /usr/bin/php-cgi fastcgi\n"
                                 "interpreter sh /bin/sh\nfile-cache-valid 0\n",
                transport=transport).start()
    d.signup("pia")
    d.signup("quinn")
    yield d
    d.cleanup()


def test_php_fastcgi_is_persistent_and_runs_as_the_locker(fcgi):
    fcgi.put("pia", "pid.php", '<?php echo getmypid(), " ", posix_getuid();')
    pids = set()
    for _ in range(12):
        s, h, b = get(fcgi.port, "/pid.php", "pia.test.example")
        assert s == 200, b
        pid, uid = b.decode().split()
        assert int(uid) == uid_of(fcgi, "pia")
        pids.add(pid)
    # a pool of at most 4 PHP children served all twelve: no fork per page
    assert len(pids) <= 4, pids
    # each locker has its own pool, never shared
    fcgi.put("quinn", "pid.php", '<?php echo getmypid(), " ", posix_getuid();')
    s, h, b = get(fcgi.port, "/pid.php", "quinn.test.example")
    qpid, quid = b.decode().split()
    assert int(quid) == uid_of(fcgi, "quinn")

    def php_procs(uid):
        out = []
        for pid in locker_procs(uid, pools=True):
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"php-cgi" in f.read():
                    out.append(pid)
        return out
    # each its own, persistent, pool (a process tree per locker)
    assert php_procs(uid_of(fcgi, "pia")) and php_procs(uid_of(fcgi, "quinn"))


def test_php_fastcgi_post_session_stderr_and_status(fcgi):
    fcgi.put("pia", "form.php", '<?php header("X-Php: yes"); echo strlen(file_get_contents("php://input")), ":", $_POST["a"] ?? "";')
    body = b"a=" + b"x" * 200000
    s, h, b = post(fcgi.port, "/form.php", "pia.test.example", body,
                   ctype=b"application/x-www-form-urlencoded")
    assert s == 200 and h["x-php"] == "yes" and b == b"200002:" + b"x" * 200000
    fcgi.put("pia", "sess.php", '<?php session_save_path("/tmp"); session_start();'
                                ' $_SESSION["n"] = ($_SESSION["n"] ?? 0) + 1; echo $_SESSION["n"];')
    s, h, b = get(fcgi.port, "/sess.php", "pia.test.example")
    cookie = h["set-cookie"].split(";")[0]
    s, h, b = get(fcgi.port, "/sess.php", "pia.test.example", extra=b"Cookie: " + cookie.encode() + b"\r\n")
    assert (s, b) == (200, b"2")
    fcgi.put("pia", "err.php", '<?php error_log("php-stderr-marker"); http_response_code(404); echo "nope";')
    s, h, b = get(fcgi.port, "/err.php", "pia.test.example")
    assert (s, b) == (404, b"nope")
    time.sleep(0.5)
    with open(os.path.join(fcgi.logs, "lockers", "pia", "error.log")) as f:
        assert "php-stderr-marker" in f.read()


def test_php_head_too_big_for_front_is_502(fcgi):
    big = ('<?php for ($i = 1; $i <= %d; $i++) header(sprintf("X-Pad-%%03d: %%s", $i, '
           'str_repeat("v", 190))); header("Content-Security-Policy: default-src \'self\'");'
           ' echo "body";')
    fcgi.put("pia", "hdr-ok.php", big % 36)
    s, h, b = get(fcgi.port, "/hdr-ok.php", "pia.test.example")
    assert (s, b) == (200, b"body")
    assert len([k for k in h if k.startswith("x-pad-")]) == 36
    assert h["content-security-policy"] == "default-src 'self'"
    fcgi.put("pia", "hdr-big.php", big % 60)
    s, h, b = get(fcgi.port, "/hdr-big.php", "pia.test.example")
    assert s == 502 and "x-pad-001" not in h and not b.startswith(b"body"), (s, h)
    assert "script head too large" in locker_error_log(fcgi, "pia")
    # and the pool still answers
    assert get(fcgi.port, "/hdr-ok.php", "pia.test.example")[0] == 200


def test_php_ini_beside_the_script_applies(fcgi):
    fcgi.put("pia", "ini/show.php", '<?php echo ini_get("precision");')
    fcgi.put("pia", "ini/php.ini", "precision = 7\n")
    fcgi.put("pia", "noini/show.php", '<?php echo ini_get("precision");')
    assert get(fcgi.port, "/ini/show.php", "pia.test.example")[2] == b"7"
    assert get(fcgi.port, "/noini/show.php", "pia.test.example")[2] == b"14"
    # It costs a PHP start per request: the locker's error log says so, once.
    assert get(fcgi.port, "/ini/show.php", "pia.test.example")[2] == b"7"
    time.sleep(0.5)
    with open(os.path.join(fcgi.logs, "lockers", "pia", "error.log")) as f:
        assert f.read().count("ini/php.ini: PHP starts anew for every request") == 1


def test_user_ini_applies_through_the_pool(fcgi):
    """A .user.ini (PHP's own per-directory settings) applies to the pages
    of its directory and below, served by the locker's running pool (the
    same few PHP processes, not one per request), and an edit shows at
    once, as an edit of a page does."""
    page = ('<?php echo php_sapi_name(), " ", getmypid(), " ", ini_get("precision"), " ",'
            ' ini_get("memory_limit"), " ", ini_get("display_errors");')
    fcgi.put("pia", "uini/show.php", page)
    fcgi.put("pia", "uini/sub/show.php", page)
    fcgi.put("pia", "uini/.user.ini", "precision = 9\nmemory_limit = 99M\ndisplay_errors = On\n")
    fcgi.put("pia", "nouini/show.php", page)
    pids = set()
    for _ in range(12):
        for path in ("/uini/show.php", "/uini/sub/show.php"):
            s, _, b = get(fcgi.port, path, "pia.test.example")
            sapi, pid, precision, mem, disp = b.decode().split()
            assert (s, sapi, precision, mem, disp) == (200, "cgi-fcgi", "9", "99M", "1"), b
            pids.add(pid)
    assert len(pids) <= 5, f"a PHP process per request, not the pool: {pids}"
    s, _, b = get(fcgi.port, "/nouini/show.php", "pia.test.example")
    assert b.decode().split()[2:4] == ["14", "128M"], b
    fcgi.put("pia", "uini/.user.ini", "precision = 5\n")
    deadline = time.time() + 3
    while time.time() < deadline:
        b = get(fcgi.port, "/uini/show.php", "pia.test.example")[2]
        if b.decode().split()[2] == "5":
            break
        time.sleep(0.1)
    assert b.decode().split()[2:4] == ["5", "128M"], b


def test_scripts_have_the_lockers_home(fcgi):
    """HOME is the locker's home, as suexec sets it: for a CGI script, a
    Python one's expanduser("~"), a page of the PHP pool and what it runs."""
    home = fcgi.info("pia")["home"]
    fcgi.put("pia", "home.sh", 'echo "Content-Type: text/plain"; echo; echo "sh=$HOME"\n'
             'python3 -c \'import os; print("py=" + os.path.expanduser("~"))\'')
    fcgi.put("pia", "home.php", '<?php echo "env=", getenv("HOME"), "\\n", '
             '"server=", $_SERVER["HOME"] ?? "", "\\n", "child=", shell_exec(\'echo $HOME\');')
    s, _, b = get(fcgi.port, "/home.sh", "pia.test.example")
    assert s == 200 and b.decode().split() == [f"sh={home}", f"py={home}"], b
    for _ in range(3):      # every process of the pool
        s, _, b = get(fcgi.port, "/home.php", "pia.test.example")
        assert s == 200 and b.decode().split() == [f"env={home}", f"server={home}",
                                                   f"child={home}"], b
    r = fcgi.locker("run", "pia", "--", "sh", "-c", "echo $HOME")
    assert r.stdout.strip() == home


def test_php_pool_crash_is_repaired(fcgi):
    fcgi.put("pia", "ok.php", '<?php echo "ok";')
    assert get(fcgi.port, "/ok.php", "pia.test.example")[2] == b"ok"
    uid = uid_of(fcgi, "pia")
    # Killing the pool's parent ends its children: they may be gone already.
    for pid in locker_procs(uid, pools=True):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"php-cgi" in f.read():
                    os.kill(pid, 9)
        except (FileNotFoundError, ProcessLookupError):
            pass
    time.sleep(0.3)
    for _ in range(3):
        s, _, b = get(fcgi.port, "/ok.php", "pia.test.example")
        if s == 200:
            break
    assert (s, b) == (200, b"ok")


# --- front's own FastCGI path: kept connections, no worker round trip ---

@pytest.fixture(scope="module")
def fdirect(build_dir, transport):
    """One front process, resolutions kept 30 s: PHP goes straight to the pool."""
    from conftest import Lockerd
    d = Lockerd(build_dir, front_processes=1, extra="file-cache-valid 30\n"
                "worker-idle-timeout 300\n", transport=transport).start()
    d.signup("tia")
    yield d
    d.cleanup()


def php_children(uid):
    """pid -> ppid of the locker's php-cgi processes."""
    out = {}
    for pid in locker_procs(uid, pools=True):
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
        except OSError:
            continue
        if "(php-cgi" in st:
            out[pid] = int(st[st.rindex(")") + 2:].split()[1])
    return out


def worker_pid(d, name):
    uid = uid_of(d, name)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                st = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if re.search(rf"^Uid:\s+{uid}\s", st, re.M) and b"lockerd" in cmd:
            return int(pid)
    return None


def test_php_sequential_requests_are_served_by_one_process(fdirect):
    fdirect.put("tia", "pid.php", '<?php echo getmypid();')
    assert get(fdirect.port, "/pid.php", "tia.test.example")[0] == 200
    pids = {get(fdirect.port, "/pid.php", "tia.test.example")[2] for _ in range(40)}
    # Sequential requests never queue: one PHP process serves them all,
    # and the pool (which grows only when requests wait) has that one.
    # (Each request's connection is asked of the worker: phppool.c.)
    assert len(pids) == 1, pids
    assert len(php_children(uid_of(fdirect, "tia"))) == 1


@pytest.mark.h1_only("opcache's revalidation, not the request's path: the same over either transport")
def test_php_edit_is_seen_within_revalidate_freq(fdirect):
    """opcache looks at a cached script's time stamp every 2 s (Debian's
    opcache.revalidate_freq), not on every request: an edit shows within
    that; a file just written (younger than file_update_protection) is
    never cached, so it shows at once."""
    path = os.path.join(fdirect.lockers, "tia", "web_scripts", "ed.php")
    fdirect.put("tia", "ed.php", '<?php echo "one";')
    assert get(fdirect.port, "/ed.php", "tia.test.example")[2] == b"one"
    with open(path, "w") as f:
        f.write('<?php echo "new";')
    assert get(fdirect.port, "/ed.php", "tia.test.example")[2] == b"new"
    # Old enough for opcache to cache it (file_update_protection is 2 s).
    os.utime(path, (time.time() - 60, time.time() - 60))
    for _ in range(3):
        assert get(fdirect.port, "/ed.php", "tia.test.example")[2] == b"new"
    with open(path, "w") as f:
        f.write('<?php echo "two";')
    os.utime(path, (time.time() - 30, time.time() - 30))
    deadline = time.time() + 10
    while time.time() < deadline:
        b = get(fdirect.port, "/ed.php", "tia.test.example")[2]
        if b == b"two":
            break
        assert b == b"new"
        time.sleep(0.2)
    assert b == b"two"


@pytest.mark.h1_only("opcache's file cache, not the request's path: the same over either transport")
def test_php_file_cache_is_the_lockers_own_and_follows_edits(fdirect):
    """opcache's file cache (what a new PHP process of the pool loads
    instead of compiling) is beneath the locker's own /tmp, as its uid;
    another locker's PHP finds none of it; and a process started after an
    edit runs the edited file, not what the cache kept."""
    lockers = fdirect.lockers
    path = os.path.join(lockers, "tia", "web_scripts", "fc.php")
    fdirect.put("tia", "fc.php", '<?php echo "one";')
    old = time.time() - 60      # older than file_update_protection: cached
    os.utime(path, (old, old))
    assert get(fdirect.port, "/fc.php", "tia.test.example")[2] == b"one"
    tmp = os.path.join(lockers, "tia", "tmp")
    bins = [os.path.join(r, f) for r, _, fs in os.walk(tmp) for f in fs
            if f == "fc.php.bin"]
    assert bins, "no file cache for fc.php beneath tia's tmp/"
    uid = uid_of(fdirect, "tia")
    st = os.stat(bins[0])
    assert st.st_uid == uid and st.st_mode & 0o077 == 0, (st.st_uid, oct(st.st_mode))
    # mallory, another locker, looks for it: in its /tmp, at tia's path.
    if "mallory" not in fdirect.locker("list").stdout.split():
        fdirect.signup("mallory")
    fdirect.put("mallory", "look.php", '<?php $a = [];'
                ' foreach (new RecursiveIteratorIterator(new RecursiveDirectoryIterator("/tmp",'
                ' FilesystemIterator::SKIP_DOTS)) as $f) $a[] = (string)$f;'
                f' $a[] = @file_get_contents({bins[0]!r}) === false ? "unreadable" : "READ";'
                f' $a[] = @scandir({tmp!r}) === false ? "unlisted" : "LISTED";'
                ' echo implode("\\n", $a);')
    s, _, b = get(fdirect.port, "/look.php", "mallory.test.example")
    assert s == 200, b
    assert b"fc.php" not in b and b"READ" not in b and b"LISTED" not in b, b
    assert b"unreadable" in b and b"unlisted" in b, b
    # An edit, then only new processes: they find the old compiled file in
    # the cache and must see that fc.php changed since.
    with open(path, "w") as f:
        f.write('<?php echo "two";')
    os.utime(path, (old + 30, old + 30))
    killed = list(php_children(uid))
    for pid in killed:
        os.kill(pid, 9)
    for _ in range(100):
        if not any(os.path.exists(f"/proc/{pid}") for pid in killed):
            break
        time.sleep(0.05)
    for _ in range(3):
        s, _, b = get(fdirect.port, "/fc.php", "tia.test.example")
        assert (s, b) == (200, b"two"), (s, b[:300])


def test_php_working_after_its_answer_keeps_its_process(fdirect):
    """A page that sends all its Content-Length says and then goes on
    working (MediaWiki's updates after its answer): the client has its
    answer, front follows the exchange to its end, and the same PHP
    process serves the next request; before, front closed the pool's
    connection at the length and the process died writing its end
    (SIGPIPE)."""
    fdirect.put("tia", "early.php", '<?php $b = "early"; header("Content-Length: 5");'
                ' echo $b; while (ob_get_level()) ob_end_flush(); flush(); usleep(300000);'
                ' file_put_contents("/tmp/early-after", getmypid());')
    fdirect.put("tia", "pid.php", '<?php echo getmypid();')
    after = os.path.join(fdirect.lockers, "tia", "tmp", "early-after")
    # PHP processes from the zygote (which do not ignore SIGPIPE), when it
    # is ready: the pool's present ones go.
    deadline = time.time() + 20
    while time.time() < deadline and not zygote_ready(fdirect):
        time.sleep(0.1)
    killed = list(php_children(uid_of(fdirect, "tia")))
    for pid in killed:
        os.kill(pid, 9)
    while any(os.path.exists(f"/proc/{pid}") for pid in killed):
        time.sleep(0.05)
    log_before = locker_error_log(fdirect, "tia").count("killed by signal 13")
    for _ in range(3):
        s, _, b = get(fdirect.port, "/early.php", "tia.test.example")
        assert (s, b) == (200, b"early")
        s, _, pid = get(fdirect.port, "/pid.php", "tia.test.example")
        assert s == 200
        with open(after) as f:
            assert f.read() == pid.decode()     # the work after the answer was done
        # by the process that then served the next request: it lived on
    assert locker_error_log(fdirect, "tia").count("killed by signal 13") == log_before


def zygote_ready(d):
    """The master's PHP zygote has started PHP and takes forks."""
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/status") as f:
                st = f.read()
            if not re.search(rf"^PPid:\s+{d.proc.pid}$", st, re.M) or \
                    not re.search(r"^Name:\s+php-cgi$", st, re.M):
                continue
            with open(f"/proc/{pid}/maps") as f:
                if "memfd:lockerd-zygote" in f.read():
                    return True
        except (OSError, ValueError):
            continue
    return False


def test_php_children_killed_between_requests(fdirect):
    fdirect.put("tia", "ok.php", '<?php echo "ok";')
    assert get(fdirect.port, "/ok.php", "tia.test.example")[2] == b"ok"
    killed = list(php_children(uid_of(fdirect, "tia")))
    for pid in killed:	# every process of the pool
        os.kill(pid, 9)
    # Gone for good (one killed while it accepts may still take a connection
    # and drop it: that is a crash, not what this tests).
    for _ in range(100):
        if not any(os.path.exists(f"/proc/{pid}") for pid in killed):
            break
        time.sleep(0.05)
    # Kept connections to them are dead: none of these may fail.
    for _ in range(6):
        assert get(fdirect.port, "/ok.php", "tia.test.example")[:3:2] == (200, b"ok")


def all_at_once(port, path, host, n, timeout=20):
    """n requests on n connections sent before any answer is read (over
    HTTP/2: n streams of one connection); the answers, each read to the
    end, as (status, body)."""
    if port in _H2_PORTS:
        with H2Conn(port, host, timeout=timeout) as c:
            sids = [c.request("GET", path, host) for _ in range(n)]
            return [(st.status, bytes(st.body)) for st in c.wait(sids)]
    socks = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        socks.append(c)
    answers = []
    for c in socks:
        c.settimeout(timeout)
        data = b""
        while True:
            d = c.recv(4096)
            if not d:
                break
            data += d
        c.close()
        answers.append(parse_responses(data)[0][::2])
    return answers


def test_php_more_requests_than_connections_wait_their_turn(fdirect):
    fdirect.put("tia", "slow.php", '<?php usleep(300000); echo "done";')
    assert get(fdirect.port, "/slow.php", "tia.test.example")[2] == b"done"
    for answer in all_at_once(fdirect.port, "/slow.php", "tia.test.example", 8):
        assert answer == (200, b"done"), answer


def test_php_chunked_body_goes_to_the_pool(fdirect):
    fdirect.put("tia", "sum.php", '<?php echo php_sapi_name(), " ", $_SERVER["CONTENT_LENGTH"],'
                ' " ", hash("sha256", file_get_contents("php://input"));')
    body = os.urandom(3 * 1024 * 1024 + 17)
    for chunked in (False, True):
        s, h, b = post(fdirect.port, "/sum.php", "tia.test.example", body, chunked=chunked)
        assert s == 200, b
        assert b.decode() == "cgi-fcgi %d %s" % (len(body), hashlib.sha256(body).hexdigest())
    # A form, chunked, is parsed as one.
    s, h, b = post(fdirect.port, "/sum.php", "tia.test.example", b"a=1", chunked=True)
    assert s == 200 and b.startswith(b"cgi-fcgi 3 ")


def test_php_a_worker_timeout_gives_back_the_connection_asked_for(make_lockerd):
    """A request that asked the worker for a pool connection and timed out
    must not hold front's share (here one connection) for ever."""
    d = make_lockerd(front_processes=1, extra="max-scripts 1\nworker-timeout 2\n"
                     "file-cache-valid 30\nworker-idle-timeout 300\n").start()
    d.signup("uma")
    d.put("uma", "a.html", "a")
    d.put("uma", "ok.php", '<?php echo "ok";')
    assert get(d.port, "/a.html", "uma.test.example")[0] == 200
    w = worker_pid(d, "uma")
    os.kill(w, 19)	# SIGSTOP
    try:
        assert get(d.port, "/ok.php", "uma.test.example")[0] == 504
    finally:
        os.kill(w, 18)
    for _ in range(3):
        assert get(d.port, "/ok.php", "uma.test.example")[:3:2] == (200, b"ok")


def test_php_pool_follows_a_reload_that_changes_its_size(make_lockerd):
    """The pool's size follows max-scripts: front may ask for more
    connections, and the worker must start processes for them, or they
    would wait for ever."""
    d = make_lockerd(front_processes=1, extra="max-scripts 1\nfile-cache-valid 30\n"
                     "worker-idle-timeout 300\n").start()
    d.signup("vic")
    d.put("vic", "slow.php", '<?php usleep(200000); echo "done";')
    assert get(d.port, "/slow.php", "vic.test.example")[2] == b"done"
    with open(d.conf) as f:
        conf = f.read()
    d.write_conf(conf.replace("max-scripts 1\n", "max-scripts 16\n"))
    d.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    for answer in all_at_once(d.port, "/slow.php", "vic.test.example", 6):
        assert answer == (200, b"done"), answer
    uid = uid_of(d, "vic")
    # Grown for the requests that waited: to php-max-processes (5) at most.
    assert 1 < len(php_children(uid)) <= 5


def test_nothing_of_a_locker_outlives_lockerd(make_lockerd):
    d = make_lockerd(extra="file-cache-valid 0\n").start()
    d.signup("rex")
    d.put("rex", "p.php", '<?php echo "up";')
    d.put("rex", "bg.sh", 'sleep 60 & echo "Content-Type: text/plain"; echo; echo started')
    assert get(d.port, "/p.php", "rex.test.example")[2] == b"up"
    assert get(d.port, "/bg.sh", "rex.test.example")[2] == b"started\n"
    uid = uid_of(d, "rex")
    assert locker_procs(uid, pools=True)
    d.locker("remove", "rex")
    deadline = time.time() + 5
    while time.time() < deadline and locker_procs(uid, pools=True):
        time.sleep(0.1)
    assert locker_procs(uid, pools=True) == []
    d.signup("sam")
    d.put("sam", "p.php", '<?php echo "up";')
    assert get(d.port, "/p.php", "sam.test.example")[2] == b"up"
    uid = uid_of(d, "sam")
    d.stop()
    time.sleep(0.5)
    assert locker_procs(uid, pools=True) == []


def test_php_sessions_by_default_and_a_20_mib_upload(fcgi):
    # no session_save_path(): sessions land in the locker's own /tmp
    fcgi.put("pia", "s2.php", '<?php session_start(); $_SESSION["k"] = ($_SESSION["k"] ?? 0) + 1;'
                              ' echo $_SESSION["k"];')
    s, h, b = get(fcgi.port, "/s2.php", "pia.test.example")
    assert (s, b) == (200, b"1"), b
    cookie = h["set-cookie"].split(";")[0]
    s, h, b = get(fcgi.port, "/s2.php", "pia.test.example", extra=b"Cookie: " + cookie.encode() + b"\r\n")
    assert (s, b) == (200, b"2")
    fcgi.put("pia", "up.php", '<?php $f = $_FILES["f"]; echo $f["error"], " ", $f["size"], " ",'
                              ' md5_file($f["tmp_name"]), " ", $_POST["note"];')
    data = os.urandom(20 << 20)
    boundary = b"----lockerdtest"
    body = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
            b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--" + boundary + b"--\r\n")
    s, h, b = post(fcgi.port, "/up.php", "pia.test.example", body,
                   ctype=b"multipart/form-data; boundary=" + boundary)
    assert s == 200, b[:200]
    assert b.decode() == f"0 {len(data)} {hashlib.md5(data).hexdigest()} hi"


def test_php_pdo_sqlite_works_in_a_locker_without_signing_up(fcgi):
    # Issue 14, item 6: SQLite is the embedded default, nothing to sign up
    # for; the database is a file of the locker's own, in its home.
    fcgi.put("pia", "lite.php",
             '<?php $db = new PDO("sqlite:" . getenv("HOME") . "/lite.db");'
             ' $db->exec("CREATE TABLE IF NOT EXISTS t (v TEXT)");'
             ' $db->prepare("INSERT INTO t VALUES (?)")->execute([$_GET["v"]]);'
             ' echo implode(",", $db->query("SELECT v FROM t")->fetchAll(PDO::FETCH_COLUMN));')
    s, h, b = get(fcgi.port, "/lite.php?v=a", "pia.test.example")
    assert (s, b) == (200, b"a"), b
    s, h, b = get(fcgi.port, "/lite.php?v=b", "pia.test.example")
    assert (s, b) == (200, b"a,b"), b
    st = os.stat(os.path.join(fcgi.lockers, "pia", "lite.db"))
    assert st.st_uid == uid_of(fcgi, "pia")
