"""ErrorDocument answered (a text, a full URL, a local file or script sent
with the error's status, an error in the document itself), Header's
unset/edit/set reaching the fields front and a script write, and a hostile
locker's ErrorDocument that tries to serve another locker's files."""
import os

from conftest import _H2_PORTS, get, parse_responses, raw, wait_for
from h2client import H2Conn, h2_get

HOST = "alice.test.example"

# Each test on the module's srv runs over HTTP/1.1 and again over HTTP/2
# (conftest.py: transports).
TRANSPORTS = ("h1", "h2")


def error_log(d, name):
    try:
        with open(os.path.join(d.logs, "lockers", name, "error.log"), "rb") as f:
            return f.read()
    except OSError:
        return b""


def pget(port, path, host, extra=b"", method=b"GET"):
    """As conftest's get(), but patient: a PHP pool starts slowly on a loaded machine."""
    if port in _H2_PORTS:
        return h2_get(port, path, host, extra, method, timeout=30)
    req = method + b" " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() + \
        b"\r\nConnection: close\r\n" + extra + b"\r\n"
    r = parse_responses(raw(port, req, timeout=30))
    assert r, "no response"
    return r[0]


def test_text_and_full_url(srv):
    srv.put("alice", "ed1/.htaccess",
            'ErrorDocument 404 "Nothing here, sorry."\n'
            'ErrorDocument 403 http://elsewhere.example/forbidden\n'
            'ErrorDocument 401 http://elsewhere.example/login\n'
            '<Files "no.txt">\nRequire all denied\n</Files>\n'
            '<Files "auth.txt">\nAuthType Basic\nAuthName x\n'
            'AuthUserFile /nonexistent\nRequire valid-user\n</Files>\n', mode=0o644)
    srv.put("alice", "ed1/no.txt", "no\n", mode=0o644)
    srv.put("alice", "ed1/auth.txt", "auth\n", mode=0o644)
    s, h, b = get(srv.port, "/ed1/missing", HOST)
    assert (s, b) == (404, b"Nothing here, sorry.")
    assert h["content-type"] == "text/html; charset=iso-8859-1"
    s, h, b = get(srv.port, "/ed1/missing", HOST, method=b"HEAD")
    assert s == 404 and b == b""
    s, h, b = get(srv.port, "/ed1/no.txt", HOST)
    assert s == 302 and h["location"] == "http://elsewhere.example/forbidden"
    # A full URL for a 401 is dropped, as Apache drops it: the challenge stays.
    s, h, b = get(srv.port, "/ed1/auth.txt", HOST)
    assert s == 401 and "www-authenticate" in h and "location" not in h


def test_local_file_keeps_the_status_and_is_never_cached(srv):
    srv.put("alice", "ed2/.htaccess", "ErrorDocument 404 /ed2/oops.html\n", mode=0o644)
    srv.put("alice", "ed2/oops.html", "<p>oops</p>\n", mode=0o644)
    for _ in range(3):      # front's caches never hold it as the path's answer
        s, h, b = get(srv.port, "/ed2/later.html", HOST)
        assert (s, b) == (404, b"<p>oops</p>\n")
        assert "etag" not in h and h["content-type"].startswith("text/html")
    s, h, b = get(srv.port, "/ed2/oops.html", HOST)
    assert (s, b) == (200, b"<p>oops</p>\n")
    srv.put("alice", "ed2/later.html", "<p>here now</p>\n", mode=0o644)
    s, h, b = get(srv.port, "/ed2/later.html", HOST)
    assert (s, b) == (200, b"<p>here now</p>\n")
    # A conditional or ranged request gets the whole document, not a 304 or a 206.
    s, h, b = get(srv.port, "/ed2/gone.html", HOST,
                  extra=b"If-None-Match: *\r\nRange: bytes=0-1\r\n")
    assert (s, b) == (404, b"<p>oops</p>\n")


def test_script_sees_the_error(srv):
    srv.put("alice", "ed3/.htaccess",
            "SetEnv FIRST one\nErrorDocument 404 /ed3/err.php\n"
            "ErrorDocument 403 /ed3/ok.php\n"
            '<Files "no.txt">\nRequire all denied\n</Files>\n', mode=0o644)
    srv.put("alice", "ed3/err.php",
            "<?php foreach (['REDIRECT_STATUS', 'REDIRECT_URL', 'REDIRECT_QUERY_STRING', "
            "'REDIRECT_REQUEST_METHOD', 'REDIRECT_FIRST', 'REQUEST_METHOD', 'QUERY_STRING'] "
            "as $k) echo $k, '=', getenv($k), \"\\n\";\n", mode=0o644)
    srv.put("alice", "ed3/ok.php", "<?php http_response_code(201); echo 'fine';\n", mode=0o644)
    srv.put("alice", "ed3/no.txt", "no\n", mode=0o644)
    s, h, b = pget(srv.port, "/ed3/nothing?x=1", HOST)
    assert s == 404, b
    env = dict(l.split("=", 1) for l in b.decode().splitlines())
    assert env["REDIRECT_STATUS"] == "404"
    assert env["REDIRECT_URL"] == "/ed3/nothing"
    assert env["REDIRECT_QUERY_STRING"] == "x=1"
    assert env["REDIRECT_REQUEST_METHOD"] == "GET"
    assert env["REDIRECT_FIRST"] == "one"
    assert env["QUERY_STRING"] == ""
    s, h, b = pget(srv.port, "/ed3/nothing", HOST, method=b"POST",
                  extra=b"Content-Length: 0\r\n")
    assert s == 404 and b"REDIRECT_REQUEST_METHOD=POST" in b and b"\nREQUEST_METHOD=GET" in b
    # A script that gives its own status keeps it, as under Apache (PHP's
    # CGI says nothing of a 200: that one is the error's, as under Apache's CGI).
    s, h, b = pget(srv.port, "/ed3/no.txt", HOST)
    assert (s, b) == (201, b"fine")


def test_an_error_in_the_document(srv):
    srv.put("alice", "ed4/.htaccess",
            "ErrorDocument 404 /ed4/missing-too.html\nErrorDocument 403 /ed4/locked/page.html\n"
            '<Files "no.txt">\nRequire all denied\n</Files>\n', mode=0o644)
    srv.put("alice", "ed4/locked/.htaccess", "Require all denied\n", mode=0o644)
    srv.put("alice", "ed4/locked/page.html", "secret page\n", mode=0o644)
    srv.put("alice", "ed4/no.txt", "no\n", mode=0o644)
    s, h, b = get(srv.port, "/ed4/nothing", HOST)
    assert s == 404 and b"404 Not Found" in b and b"ErrorDocument" in b
    s, h, b = get(srv.port, "/ed4/no.txt", HOST)
    assert s == 403 and b"403 Forbidden" in b and b"secret page" not in b
    # A document that is itself the error's path: no loop.
    srv.put("alice", "ed4/self/.htaccess", "ErrorDocument 404 /ed4/self/nothing\n", mode=0o644)
    s, h, b = get(srv.port, "/ed4/self/nothing", HOST)
    assert s == 404


def test_hostile_error_document_never_serves_another_locker(srv):
    """alice's ErrorDocument points at bob's files every way it can: by bob's
    URL, by "..", by a symlink, under her /~alice/ URLs; bob's secret never
    comes back, and what she asked for is in her own error log."""
    secret = "bob's secret\n"
    srv.put("bob", "secret.txt", secret, mode=0o644)
    srv.put("bob", ".htaccess", "ErrorDocument 404 /secret.txt\n", mode=0o644)
    bob_home = srv.info("bob")["home"]
    tries = ["/~bob/secret.txt", "/../../bob/web_scripts/secret.txt",
             "/%2e%2e/%2e%2e/bob/web_scripts/secret.txt",
             bob_home + "/web_scripts/secret.txt", "/link/secret.txt", "/.hidden",
             "//bob.test.example/secret.txt"]
    path = srv.put("alice", "link-target-placeholder", "x\n", mode=0o644)
    os.unlink(path)
    os.symlink(os.path.join(bob_home, "web_scripts"), os.path.join(os.path.dirname(path), "link"))
    srv.put("alice", ".hidden", "alice's dotfile\n", mode=0o644)
    for i, doc in enumerate(tries):
        srv.put("alice", f"h{i}/.htaccess", f"ErrorDocument 404 {doc}\n", mode=0o644)
        for host, url in ((HOST, f"/h{i}/nothing"), ("scripts.test.example", f"/~alice/h{i}/nothing")):
            s, h, b = get(srv.port, url, host)
            assert s == 404, (doc, url, s, b)
            assert b"secret" not in b and b"dotfile" not in b, (doc, url, b)
    # The same way to her own files works, on both kinds of URL.
    srv.put("alice", "own.txt", "alice's own page\n", mode=0o644)
    srv.put("alice", "ok/.htaccess", "ErrorDocument 404 /own.txt\n", mode=0o644)
    srv.put("alice", "tilde/.htaccess", "ErrorDocument 404 /~alice/own.txt\n", mode=0o644)
    assert get(srv.port, "/ok/nothing", HOST)[::2] == (404, b"alice's own page\n")
    assert get(srv.port, "/~alice/tilde/nothing", "scripts.test.example")[::2] == \
        (404, b"alice's own page\n")
    # Under /~alice/, an ErrorDocument outside /~alice/ is refused, and said so.
    assert wait_for(lambda: b"ErrorDocument: " in error_log(srv, "alice")), error_log(srv, "alice")
    # bob's own still works for bob.
    s, h, b = get(srv.port, "/nothing", "bob.test.example")
    assert (s, b.decode()) == (404, secret)


def test_header_reaches_front_and_script_fields(srv):
    srv.put("alice", "hf/.htaccess",
            "Header unset ETag\nHeader unset Accept-Ranges\n"
            "Header always set X-Frame-Options DENY\n"
            "Header unset X-Powered-By\n"
            'Header edit Set-Cookie "^(sid=[^;]*)$" "$1; HttpOnly; Secure"\n'
            "Header set Cache-Control no-store\n"
            'Header always edit* X-Mixed "a" "b"\n'
            # What front keeps for itself is not Header's to touch.
            "Header unset Content-Length\nHeader unset Date\nHeader unset Server\n"
            "Header unset Transfer-Encoding\n", mode=0o644)
    srv.put("alice", "hf/page.txt", "page\n", mode=0o644)
    srv.put("alice", "hf/page.php",
            "<?php header('X-Powered-By: PHP/evil'); header('Cache-Control: private');\n"
            "setcookie('sid', 'abc'); setcookie('other', 'x');\n"
            "header('X-Mixed: banana'); echo 'php';\n", mode=0o644)
    s, h, b = get(srv.port, "/hf/page.txt", HOST)
    assert (s, b) == (200, b"page\n")
    assert "etag" not in h and "accept-ranges" not in h and "last-modified" in h
    assert h["x-frame-options"] == "DENY" and h["cache-control"] == "no-store"
    assert h["content-length"] == "5" and "date" in h and "server" in h
    s, h, b = pget(srv.port, "/hf/page.php", HOST)
    assert (s, b) == (200, b"php")
    assert "x-powered-by" not in h
    assert h["cache-control"] == "no-store"
    assert h["x-mixed"] == "bbnbnb"
    if srv.transport == "h2":
        with H2Conn(srv.port, HOST) as c:
            head = c.get("GET", "/hf/page.php", HOST).headers
        cookies = [v for k, v in head if k == "set-cookie"]
    else:
        head = raw(srv.port, b"GET /hf/page.php HTTP/1.1\r\nHost: " + HOST.encode() +
                   b"\r\nConnection: close\r\n\r\n", timeout=30).split(b"\r\n\r\n")[0].decode()
        cookies = [l.split(":", 1)[1].strip() for l in head.split("\r\n")
                   if l.lower().startswith("set-cookie:")]
    assert sorted(cookies) == ["other=x", "sid=abc; HttpOnly; Secure"], head
    # An error page of front's own: only the "always" operations.
    s, h, b = get(srv.port, "/hf/missing.txt", HOST)
    assert s == 404 and h["x-frame-options"] == "DENY" and "cache-control" not in h
