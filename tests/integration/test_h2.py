"""HTTP/2 from real clients: curl --http2 (static, a CGI with a body
streamed in and a large answer streamed out, PHP, redirects, errors,
.htaccess), the access log's and scripts' HTTP/2.0, nghttp fetching a page
with many assets at once and streams with weights, one slow stream beside
fast ones on one connection, a large file through a small window, ALPN's
choice (h2 first, http/1.1 for the clients that ask only that, none when
`http2 off`), and headless Chromium loading a locker's page.

The attacks and the smuggling cases are test_h2_attacks.py's; the static,
script and .htaccess tests run again over HTTP/2 in their own modules
(conftest.py: transports).
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

import pytest

from conftest import TEST_BASE, Lockerd, shared_ca, wait_for
from h2client import H2Conn, StreamReset, client_context

HOST = "alice.test.example"

SHA_PY = """import hashlib, os, sys
h = hashlib.sha256()
n = 0
while True:
    b = sys.stdin.buffer.read(65536)
    if not b:
        break
    h.update(b)
    n += len(b)
sys.stdout.write("Content-Type: text/plain\\r\\n\\r\\n%d %s %s\\n" %
                 (n, h.hexdigest(), os.environ.get("CONTENT_LENGTH", "-")))
"""

# 24 MiB, written as it is made: no Content-Length, so streamed out.
BIG_LETTERS = "abcdefghijklmnopqrstuvwx"
BIG_SH = """echo "Content-Type: application/octet-stream"; echo
for c in %s; do head -c 1048576 /dev/zero | tr '\\0' $c; done
""" % " ".join(BIG_LETTERS)

ENV_SH = """echo "Content-Type: text/plain"; echo; env | sort"""

PAGE_ASSETS = 24


def page_html():
    """A page with PAGE_ASSETS assets (images, styles, scripts) whose own
    script writes "loaded N J" once the page has loaded: N images that
    arrived whole, J scripts that ran."""
    imgs = "".join(f'<img src="/a/i{i}.svg">' for i in range(PAGE_ASSETS - 4))
    return ("<!doctype html><html><head><title>h2</title>"
            '<link rel="stylesheet" href="/a/s0.css"><link rel="stylesheet" href="/a/s1.css">'
            '<script src="/a/j0.js"></script><script src="/a/j1.js"></script>'
            '<script>window.onload = function () { var n = 0;'
            ' for (var i = 0; i < document.images.length; i++)'
            '  if (document.images[i].complete && document.images[i].naturalWidth > 0) n++;'
            ' document.getElementById("out").textContent = "loaded " + n + " " + (window.J || 0);'
            ' };</script></head><body><p id="out">waiting</p>' + imgs + '</body></html>')


def put_assets(d, who):
    d.put(who, "index.html", page_html(), mode=0o644)
    for i in range(PAGE_ASSETS - 4):
        d.put(who, f"a/i{i}.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="4" '
              f'height="4"><rect width="4" height="4" fill="#{i:02x}{i:02x}99"/></svg>\n',
              mode=0o644)
    for i in range(2):
        d.put(who, f"a/s{i}.css", f"p {{ margin: {i}px; }}\n" * 50, mode=0o644)
        d.put(who, f"a/j{i}.js", f"window.J = (window.J || 0) + 1; // {i}\n" + "//" * 500 + "\n",
              mode=0o644)


@pytest.fixture(scope="module")
def d(build_dir):
    ld = Lockerd(build_dir, transport="h2", extra="script-timeout 60\nfile-cache-valid 0\n")
    ld.start()
    ld.ca = shared_ca()
    ld.signup("alice")
    ld.signup("bob")
    ld.put("alice", "hello.html", "hello over h2\n", mode=0o644)
    ld.put("alice", "sha.py", SHA_PY)
    ld.put("alice", "big.sh", BIG_SH)
    ld.put("alice", "env.sh", ENV_SH)
    ld.put("alice", "proto.php", '<?php header("Content-Type: text/plain"); echo '
           '$_SERVER["SERVER_PROTOCOL"], " ", $_SERVER["HTTPS"], " ", $_GET["q"];')
    # Its head and a first line at once, the rest once the test opens the
    # gate (in alice's /tmp): slow for as long as the test needs, no clock.
    ld.put("alice", "slow.sh", 'echo "Content-Type: text/plain"; echo; echo started\n'
           'i=0; while [ ! -e /tmp/h2gate ] && [ $i -lt 500 ]; do sleep 0.1; i=$((i+1)); done\n'
           'echo slow')
    ld.put("alice", "large.pdf", os.urandom(6 << 20), mode=0o644)
    put_assets(ld, "alice")
    yield ld
    ld.cleanup()


def curl(d, path, *extra, host=HOST, proto="--http2"):
    """curl over TLS to the h2 listener: (http_version, status, body bytes,
    headers text)."""
    hdr = tempfile.NamedTemporaryFile(dir=d.dir, delete=False)
    hdr.close()
    try:
        r = subprocess.run(["curl", "-sS", proto, "--cacert", d.ca, "--resolve",
                            f"{host}:{d.port}:127.0.0.1", "-D", hdr.name, "-o", "-",
                            "-w", "\n%{http_version} %{http_code}", *extra,
                            f"https://{host}:{d.port}{path}"],
                           capture_output=True, timeout=120)
        with open(hdr.name, "rb") as f:
            heads = f.read().decode("latin-1")
    finally:
        os.unlink(hdr.name)
    assert r.returncode == 0, r.stderr
    body, _, tail = r.stdout.rpartition(b"\n")
    version, code = tail.decode().split()
    return version, int(code), body, heads


def access_log(d, who="alice"):
    try:
        with open(os.path.join(d.logs, "lockers", who, "access.log")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def logged(d, request_line, within=15.0):
    """The lines of alice's access log whose request is request_line,
    waited for (logd writes after the answer)."""
    def lines():
        return [ln for ln in access_log(d).splitlines() if f'"{request_line}"' in ln]
    return wait_for(lines, within)


def test_curl_static_page(d):
    version, code, body, heads = curl(d, "/hello.html")
    assert (version, code, body) == ("2", 200, b"hello over h2\n")
    assert heads.startswith("HTTP/2 200"), heads
    assert "content-length: 14" in heads.lower()
    # HEAD: the same head, no body (curl -I prints the head as its output)
    version, code, body, heads = curl(d, "/hello.html", "-I")
    assert (version, code) == ("2", 200) and "content-length: 14" in heads.lower()
    assert b"hello" not in body


def test_curl_cgi_body_streamed_in_and_large_answer_streamed_out(d):
    data = os.urandom(9 << 20)
    src = os.path.join(d.dir, "post.bin")
    with open(src, "wb") as f:
        f.write(data)
    want = f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode()
    # with a content-length (without one: the next test)
    version, code, body, _ = curl(d, "/sha.py", "--data-binary", f"@{src}",
                                  "-H", "Content-Type: application/octet-stream")
    assert (version, code, body) == ("2", 200, want + f" {len(data)}\n".encode())
    version, code, body, heads = curl(d, "/big.sh")
    assert (version, code) == ("2", 200)
    assert "content-length" not in heads.lower() and "transfer-encoding" not in heads.lower()
    want = b"".join(c.encode() * (1 << 20) for c in BIG_LETTERS)
    assert len(body) == len(want) and hashlib.sha256(body).digest() == hashlib.sha256(want).digest()


def test_curl_stdin_body_without_length(d):
    """curl reading its body from stdin sends no content-length over h2:
    the script reads the DATA to its end."""
    data = os.urandom(3 << 20)
    r = subprocess.run(["curl", "-sS", "--http2", "--cacert", d.ca, "--resolve",
                        f"{HOST}:{d.port}:127.0.0.1", "--data-binary", "@-", "-H",
                        "Content-Type: application/octet-stream",
                        f"https://{HOST}:{d.port}/sha.py"], input=data,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    n, sha, _ = r.stdout.decode().split()
    assert (int(n), sha) == (len(data), hashlib.sha256(data).hexdigest())


def test_curl_php_page_says_http2(d):
    version, code, body, _ = curl(d, "/proto.php?q=7")
    assert (version, code, body) == ("2", 200, b"HTTP/2.0 on 7")


def test_curl_redirect_and_error_pages(d):
    version, code, _, heads = curl(d, "/~alice", host="scripts.test.example")
    assert (version, code) == ("2", 301)
    assert re.search(r"(?im)^location: /~alice/\r?$", heads), heads
    d.put("alice", "go/.htaccess", "Redirect 302 /go/there https://elsewhere.example/x\n"
          "ErrorDocument 404 /go/missing.html\n", mode=0o644)
    d.put("alice", "go/missing.html", "our own 404 page\n", mode=0o644)
    version, code, _, heads = curl(d, "/go/there")
    assert (version, code) == ("2", 302)
    assert re.search(r"(?im)^location: https://elsewhere.example/x\r?$", heads), heads
    version, code, body, _ = curl(d, "/go/nothing-here.html")
    assert (version, code, body) == ("2", 404, b"our own 404 page\n")
    version, code, body, _ = curl(d, "/no-such-file.html")
    assert (version, code) == ("2", 404) and b"404" in body
    # a locker that does not exist: the service's own error
    version, code, _, _ = curl(d, "/", host="nobody-here.test.example")
    assert (version, code) == ("2", 404)


def test_curl_htaccess_require_and_rewrite(d):
    d.put("alice", "ht/.htaccess", "RewriteEngine On\n"
          "RewriteCond %{THE_REQUEST} \"^GET /ht/therequest HTTP/2\\.0$\"\n"
          "RewriteRule ^therequest$ yes.txt [L]\n"
          "RewriteCond %{SERVER_PROTOCOL} =HTTP/2.0\n"
          "RewriteCond %{HTTPS} =on\n"
          "RewriteRule ^proto$ yes.txt [L]\n"
          "RewriteRule ^old/(.*)$ /ht/new/$1 [R=301,L]\n"
          "<Files closed.txt>\nRequire all denied\n</Files>\n", mode=0o644)
    d.put("alice", "ht/yes.txt", "rewritten\n", mode=0o644)
    d.put("alice", "ht/closed.txt", "closed\n", mode=0o644)
    d.put("alice", "ht/new/x.txt", "new\n", mode=0o644)
    assert curl(d, "/ht/therequest")[:3] == ("2", 200, b"rewritten\n")
    assert curl(d, "/ht/proto")[:3] == ("2", 200, b"rewritten\n")
    version, code, body, _ = curl(d, "/ht/closed.txt")
    assert (version, code) == ("2", 403) and b"closed\n" != body
    version, code, _, heads = curl(d, "/ht/old/x.txt")
    assert (version, code) == ("2", 301), heads
    assert re.search(rf"(?im)^location: https://{HOST}:{d.port}/ht/new/x\.txt\r?$", heads), heads
    assert curl(d, "/ht/old/x.txt", "-L")[:3] == ("2", 200, b"new\n")


def test_access_log_says_http2(d):
    d.put("alice", "logme.txt", "log me\n", mode=0o644)
    curl(d, "/logme.txt?x=1", "-A", "h2-tester/1.0", "-e", "https://r.example/")
    lines = logged(d, "GET /logme.txt?x=1 HTTP/2.0")
    assert len(lines) == 1, access_log(d)[-2000:]
    assert re.match(r'^127\.0\.0\.1 - - \[[^]]+\] "GET /logme.txt\?x=1 HTTP/2\.0" 200 7 '
                    r'"https://r\.example/" "h2-tester/1\.0"$', lines[0]), lines[0]
    with open(os.path.join(d.logs, "access.log")) as f:
        assert lines[0] in f.read()
    # over HTTP/1.1 on the same listener, HTTP/1.1
    curl(d, "/logme.txt?x=2", proto="--http1.1")
    assert logged(d, "GET /logme.txt?x=2 HTTP/1.1")


def env_of(body):
    return dict(ln.split("=", 1) for ln in body.decode(errors="replace").splitlines() if "=" in ln)


def test_cgi_environment_is_http11s_but_the_protocol(d):
    """A script sees over HTTP/2 what it sees over HTTPS/1.1, but
    SERVER_PROTOCOL (and the client's port); cookie fields joined by "; "."""
    hdrs = ["-H", "X-Custom-Thing: yes", "-H", "Cookie: a=1; b=2", "-A", "env-tester"]
    v1, c1, b1, _ = curl(d, "/env.sh/p%20i?q=1&r=2", *hdrs, proto="--http1.1")
    v2, c2, b2, _ = curl(d, "/env.sh/p%20i?q=1&r=2", *hdrs)
    assert (v1, c1, v2, c2) == ("1.1", 200, "2", 200)
    e1, e2 = env_of(b1), env_of(b2)
    assert e2["SERVER_PROTOCOL"] == "HTTP/2.0" and e1["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert e2["HTTPS"] == "on" and e2["REQUEST_SCHEME"] == "https"
    assert e2["HTTP_HOST"] == f"{HOST}:{d.port}"
    assert e2["HTTP_COOKIE"] == "a=1; b=2", e2.get("HTTP_COOKIE")
    # cookie fields apart (HTTP/2 clients send each crumb alone, RFC 9113
    # 8.2.3): one Cookie line for the script, joined by "; "
    with H2Conn(d.port, HOST) as c:
        st = c.get("GET", "/env.sh", HOST, [("cookie", "a=1"), ("cookie", "b=2"),
                                           ("cookie", "c=3")])
    assert env_of(bytes(st.body))["HTTP_COOKIE"] == "a=1; b=2; c=3"
    assert e2["PATH_INFO"] == "/p i" and e2["QUERY_STRING"] == "q=1&r=2"
    assert "CONTENT_LENGTH" not in e2
    differ = {k for k in set(e1) | set(e2) if e1.get(k) != e2.get(k)}
    assert differ <= {"SERVER_PROTOCOL", "REMOTE_PORT", "SSL_SESSION_ID"}, \
        {k: (e1.get(k), e2.get(k)) for k in differ}


def nghttp(d, *args, timeout=120):
    """nghttp against the h2 listener by address (no SNI: the default
    certificate), :authority naming alice: its HAR (parsed) and output."""
    har = os.path.join(d.dir, f"nghttp{time.monotonic_ns()}.har")
    r = subprocess.run(["nghttp", "-n", "-H", f":authority: {HOST}", "-r", har, *args],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    with open(har) as f:
        out = json.load(f)
    os.unlink(har)
    return out["log"]["entries"], r.stdout


def test_nghttp_page_with_many_assets_at_once(d):
    base = f"https://127.0.0.1:{d.port}"
    entries, _ = nghttp(d, "-a", base + "/index.html")
    got = {urlsplit(e["request"]["url"]).path: e["response"]["status"] for e in entries}
    assert got.get("/index.html") == 200
    assets = {p: s for p, s in got.items() if p.startswith("/a/")}
    assert len(assets) == PAGE_ASSETS and set(assets.values()) == {200}, got
    assert len(entries) == PAGE_ASSETS + 1
    for path in assets:
        assert logged(d, f"GET {path} HTTP/2.0"), path
    # the same page many times at once (-m): every answer whole
    entries, _ = nghttp(d, "-m", "40", base + "/a/s0.css")
    assert len(entries) == 40
    assert {(e["response"]["status"], e["response"]["content"]["size"]) for e in entries} == \
        {(200, len("p { margin: 0px; }\n") * 50)}, entries[:2]


def test_nghttp_streams_with_priorities_and_weights(d):
    """Weights and dependencies (RFC 7540 priorities, deprecated by RFC 9113
    but still sent by clients) are taken, and every stream is answered
    whole, whatever the server makes of them."""
    base = f"https://127.0.0.1:{d.port}"
    entries, _ = nghttp(d, "-p", "256", "-p", "1", "-p", "32", base + "/large.pdf",
                        base + "/hello.html", base + "/a/j0.js")
    sizes = {e["request"]["url"].rsplit("/", 1)[1]: (e["response"]["status"],
                                                     e["response"]["content"]["size"])
             for e in entries}
    assert sizes["large.pdf"] == (200, 6 << 20) and sizes["hello.html"] == (200, 14), sizes
    # by hand: an exclusive dependency on a stream, and a dependency on a
    # stream that does not exist (RFC 9113 5.3.1: treated as the root)
    with H2Conn(d.port, HOST) as c:
        a = c.request("GET", "/large.pdf", HOST, priority=(256, 0, False))
        b = c.request("GET", "/hello.html", HOST, priority=(1, a, True))
        e = c.request("GET", "/a/j1.js", HOST, priority=(16, 99, False))
        sa, sb, se = c.wait([a, b, e])
        assert (sa.status, len(sa.body)) == (200, 6 << 20)
        assert (sb.status, bytes(sb.body)) == (200, b"hello over h2\n")
        assert se.status == 200 and bytes(se.body).startswith(b"window.J")


def test_a_slow_stream_does_not_stall_the_others(d):
    """One stream whose script has answered in part and then waits, and
    meanwhile static pages and a large file on the same connection: they
    all end while it still waits; then it ends too, whole."""
    gate = os.path.join(d.lockers, "alice", "tmp", "h2gate")
    if os.path.exists(gate):
        os.unlink(gate)
    with H2Conn(d.port, HOST, timeout=60) as c:
        slow = c.request("GET", "/slow.sh", HOST)
        c.pump(lambda: bytes(c.streams[slow].body) == b"started\n")
        fast = [c.request("GET", f"/a/i{i}.svg", HOST) for i in range(PAGE_ASSETS - 4)]
        fast.append(c.request("GET", "/large.pdf", HOST))
        done = c.wait(fast)
        assert all(st.status == 200 for st in done)
        assert len(done[-1].body) == 6 << 20
        assert not c.streams[slow].done, "the slow stream ended before the fast ones"
        open(gate, "w").close()
        st = c.wait([slow])[0]
        assert (st.status, bytes(st.body)) == (200, b"started\nslow\n")
        assert max(s.t_end for s in done) < st.t_end


def test_a_large_file_through_a_small_window(d):
    """A client whose stream window is 4 KiB: the server sends no more than
    it may, and the whole file arrives (sha256)."""
    with open(os.path.join(d.lockers, "alice", "web_scripts", "large.pdf"), "rb") as f:
        want = hashlib.sha256(f.read(2 << 20)).hexdigest()
    d.put("alice", "half.pdf", open(os.path.join(d.lockers, "alice", "web_scripts",
                                                  "large.pdf"), "rb").read(2 << 20), mode=0o644)
    with H2Conn(d.port, HOST, window=4096, timeout=120) as c:
        st = c.get("GET", "/half.pdf", HOST)
        assert st.status == 200 and hashlib.sha256(st.body).hexdigest() == want
        # and a script's answer (no length) the same way
        st = c.get("GET", "/big.sh", HOST)
        assert st.status == 200 and len(st.body) == 24 << 20


def alpn_of(d, protos, host=HOST):
    ctx = client_context(alpn=protos)
    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            chosen = s.selected_alpn_protocol()
            s.sendall(f"GET /hello.html HTTP/1.1\r\nHost: {host}\r\nConnection: close"
                      f"\r\n\r\n".encode() if chosen != "h2" else b"")
            data = b""
            if chosen != "h2":
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    data += b
            return chosen, data


def test_alpn_http11_only_clients_still_get_http11(d):
    assert alpn_of(d, ["h2", "http/1.1"])[0] == "h2"
    chosen, data = alpn_of(d, ["http/1.1"])
    assert chosen == "http/1.1" and data.startswith(b"HTTP/1.1 200") and \
        data.endswith(b"hello over h2\n")
    chosen, data = alpn_of(d, [])     # no ALPN at all
    assert chosen is None and data.startswith(b"HTTP/1.1 200")
    assert curl(d, "/hello.html", proto="--http1.1")[:3] == ("1.1", 200, b"hello over h2\n")


def test_http2_off_offers_no_h2(make_lockerd):
    ld = make_lockerd(transport="h2", extra="http2 off\n").start()
    ld.signup("carol")
    ld.put("carol", "x.txt", "x\n", mode=0o644)
    ld.ca = shared_ca()
    host = "carol.test.example"
    assert alpn_of(ld, ["h2"], host)[0] is None
    chosen, data = alpn_of(ld, ["h2", "http/1.1"], host)
    assert chosen == "http/1.1" and data.startswith(b"HTTP/1.1 404")    # no hello.html
    assert curl(ld, "/x.txt", host=host)[:3] == ("1.1", 200, b"x\n")


# --- headless Chromium -----------------------------------------------------

def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def test_chromium_loads_a_page_over_http2(d):
    """Debian's Chromium, headless, loads alice's page over HTTPS from
    lockerd: its script sees every image loaded, and the access log shows
    the page and each asset fetched with HTTP/2.0."""
    exe = chromium()
    if exe is None:
        pytest.skip("chromium is not installed (scripts/deps.sh installs it)")
    home = tempfile.mkdtemp(prefix="chromium", dir=TEST_BASE)
    url = f"https://{HOST}:{d.port}/index.html?chromium"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-dev-shm-usage", "--disable-extensions", "--disable-background-networking",
           f"--user-data-dir={home}/profile", "--ignore-certificate-errors",
           f"--host-resolver-rules=MAP {HOST} 127.0.0.1", "--virtual-time-budget=20000",
           "--dump-dom", url]
    # A process group of its own: Chromium's helpers (zygote, renderer,
    # network service) are stopped with it, by its id.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, HOME=home), start_new_session=True)
    try:
        out, err = p.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise AssertionError("chromium did not finish: " + err.decode(errors="replace")[-2000:])
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        try:
            os.killpg(p.pid, signal.SIGKILL)     # helpers left behind, if any
        except ProcessLookupError:
            pass
        shutil.rmtree(home, ignore_errors=True)
    dom = out.decode(errors="replace")
    assert f'<p id="out">loaded {PAGE_ASSETS - 4} 2</p>' in dom, \
        (dom[-1500:], err.decode(errors="replace")[-1500:])
    assert logged(d, "GET /index.html?chromium HTTP/2.0")
    for i in range(PAGE_ASSETS - 4):
        assert logged(d, f"GET /a/i{i}.svg HTTP/2.0"), i
    for path in ("/a/s0.css", "/a/s1.css", "/a/j0.js", "/a/j1.js"):
        assert logged(d, f"GET {path} HTTP/2.0"), path
    assert not [ln for ln in access_log(d).splitlines()
                if "Chrome" in ln and "HTTP/1.1" in ln], "Chromium fell back to HTTP/1.1"
