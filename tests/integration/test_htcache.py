"""front's caches under a .htaccess (issue 12's benchmark): an answer the
worker decided from the path alone is kept by front (descriptor cache and
script cache) and served without asking the worker; one that depended on
the request (credentials, the client's address, a header, the query, a
cookie) never reaches another request; and a change to a .htaccess
(written, created, renamed, removed) or to a directory of the walk applies
on the very next request, because the worker's inotify watch, which front
reads before it uses an entry, already holds the event."""
import base64
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import _H2_PORTS, Lockerd, parse_responses, stopped
from h2client import H2Conn, StreamReset, head_fields

# The tests on the module's servers (d, one) run over HTTP/1.1 and again
# over HTTP/2 (conftest.py: transports).
TRANSPORTS = ("h1", "h2")

WP = ("# BEGIN WordPress\n<IfModule mod_rewrite.c>\nRewriteEngine On\n"
      "RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
      "RewriteBase /\nRewriteRule ^index\\.php$ - [L]\n"
      "RewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\n"
      "RewriteRule . /index.php [L]\n</IfModule>\n# END WordPress\n")


@pytest.fixture(scope="module")
def d(build_dir, transport):
    # Two fronts, as in the other tests: each has its own watch to read.
    d = Lockerd(build_dir, extra="file-cache-valid 30\n", transport=transport).start()
    for name in ("wp", "al", "chg"):
        d.signup(name)
    yield d
    d.cleanup()


@pytest.fixture(scope="module")
def one(build_dir, transport):
    """One front: what it keeps is what answers while the worker is stopped
    (with two, a request may reach the one that was never asked)."""
    d = Lockerd(build_dir, extra="file-cache-valid 30\n", front_processes=1,
                transport=transport).start()
    d.signup("wp")
    yield d
    d.cleanup()


def request(port, path, host, extra=b"", source="127.0.0.1", timeout=5.0):
    """One request from source; (status, headers, body), or None on no answer."""
    if port in _H2_PORTS:
        try:
            with H2Conn(port, host, timeout=timeout, source=source) as c:
                st = c.get("GET", path, host, head_fields(extra))
                return st.status, st.head(), bytes(st.body)
        except (OSError, StreamReset):     # a time-out too
            return None
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0))
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() +
              b"\r\nConnection: close\r\n" + extra + b"\r\n")
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except socket.timeout:
        pass
    s.close()
    r = parse_responses(data)
    return r[0] if r else None


def get(port, path, host, extra=b""):
    """As conftest's, but patient: PHP starts slowly on a loaded machine."""
    r = request(port, path, host, extra, timeout=30)
    assert r is not None, "no response"
    return r


def web(d, locker, *rel):
    return os.path.join(d.info(locker)["home"], "web_scripts", *rel)


def warm(d, path, host, want, n=24):
    """Enough requests that both fronts hold the answer (the kernel spreads
    connections over them)."""
    for _ in range(n):
        r = request(d.port, path, host, timeout=30)   # a PHP pool's start, loaded
        assert r is not None and (r[0], r[2]) == want, r


def test_path_only_answers_are_served_from_front_under_wordpress(one):
    d = one
    d.put("wp", ".htaccess", WP, mode=0o644)
    d.put("wp", "1k.html", "<p>static</p>\n")
    d.put("wp", "index.php", "<?php echo 'front controller ', $_SERVER['REQUEST_URI'], "
          "' q=', $_SERVER['QUERY_STRING'], ' auth=', getenv('HTTP_AUTHORIZATION'), \"\\n\";")
    host = "wp.test.example"
    warm(d, "/1k.html", host, (200, b"<p>static</p>\n"))
    perma = b"front controller /2026/12/hello-world/ q= auth=\n"
    warm(d, "/2026/12/hello-world/", host, (200, perma))
    # With the worker stopped, the file (descriptor cache) is still
    # served: front did not ask the worker.  The permalink's resolution is
    # kept too (script cache), but its connection to the PHP pool comes
    # from the worker (MSG_FCGI_ASK: front can connect nowhere), so it
    # waits for the worker, as a request the worker must decide does.
    with stopped(d, "wp"):
        for _ in range(8):
            r = request(d.port, "/1k.html", host, timeout=3)
            assert r is not None and (r[0], r[2]) == (200, b"<p>static</p>\n"), r
        assert request(d.port, "/2026/12/hello-world/", host, timeout=0.5) is None
        assert request(d.port, "/other.html", host, timeout=0.5) is None
    r = request(d.port, "/2026/12/hello-world/", host, timeout=3)
    assert r is not None and (r[0], r[2]) == (200, perma), r


def test_edit_applies_on_the_next_request_even_with_the_worker_stopped(one):
    d = one
    d.put("wp", "edit/x.txt", "x\n")
    host = "wp.test.example"
    warm(d, "/edit/x.txt", host, (200, b"x\n"))
    with stopped(d, "wp"):
        assert request(d.port, "/edit/x.txt", host, timeout=3)[0] == 200
        d.put("wp", ".htaccess", WP + "<Files x.txt>\nRequire all denied\n</Files>\n",
              mode=0o644)
        # The watch already holds the change: front must ask the (stopped)
        # worker, so no answer comes, and never the cached 200.
        assert request(d.port, "/edit/x.txt", host, timeout=1.0) is None
    assert get(d.port, "/edit/x.txt", host)[0] == 403
    for _ in range(6):
        assert get(d.port, "/edit/x.txt", host)[0] == 403
    d.put("wp", ".htaccess", WP, mode=0o644)
    assert get(d.port, "/edit/x.txt", host)[:3:2] == (200, b"x\n")


def test_created_renamed_removed_apply_at_once(d):
    host = "chg.test.example"
    d.put("chg", "sub/deep/x.txt", "x\n")
    deny = "Require all denied\n"
    for where in ("sub/deep", "sub", ""):
        warm(d, "/sub/deep/x.txt", host, (200, b"x\n"), n=8)
        d.put("chg", os.path.join(where, ".htaccess"), deny, mode=0o644)
        # Created where none was, at any level of the walk: at once.
        for _ in range(4):
            assert get(d.port, "/sub/deep/x.txt", host)[0] == 403, where
        ht = web(d, "chg", where, ".htaccess")
        os.rename(ht, ht + ".off")
        for _ in range(4):
            assert get(d.port, "/sub/deep/x.txt", host)[0] == 200, where
        os.rename(ht + ".off", ht)
        assert get(d.port, "/sub/deep/x.txt", host)[0] == 403, where
        os.unlink(ht)
        for _ in range(4):
            assert get(d.port, "/sub/deep/x.txt", host)[0] == 200, where
    # A directory of the walk renamed away and another put in its place.
    warm(d, "/sub/deep/x.txt", host, (200, b"x\n"), n=8)
    os.rename(web(d, "chg", "sub"), web(d, "chg", "sub.old"))
    assert get(d.port, "/sub/deep/x.txt", host)[0] == 404
    d.put("chg", "sub/deep/x.txt", "new\n")
    assert get(d.port, "/sub/deep/x.txt", host)[:3:2] == (200, b"new\n")
    d.put("chg", "sub/deep/.htaccess", deny, mode=0o644)
    assert get(d.port, "/sub/deep/x.txt", host)[0] == 403


def test_a_directory_made_where_a_permalink_was_rewritten(d):
    host = "chg.test.example"
    d.put("chg", "blog/.htaccess", "RewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\n"
          "RewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . index.txt [L]\n", mode=0o644)
    d.put("chg", "blog/index.txt", "index\n")
    warm(d, "/blog/2026/post/a.txt", host, (200, b"index\n"), n=8)
    # -f now holds: the file itself, at once.
    d.put("chg", "blog/2026/post/a.txt", "the post\n")
    assert get(d.port, "/blog/2026/post/a.txt", host)[:3:2] == (200, b"the post\n")


def htpasswd(user, password):
    out = subprocess.run(["htpasswd", "-nbB", user, password], capture_output=True,
                         text=True, check=True).stdout
    return out.strip() + "\n"


def test_protected_file_never_served_without_credentials_after_with(d):
    host = "al.test.example"
    home = d.info("al")["home"]
    pw = os.path.join(home, "pw.htpasswd")
    with open(pw, "w") as f:
        f.write(htpasswd("alyssa", "correct horse"))
    os.chown(pw, d.info("al")["uid"], d.info("al")["gid"])
    os.chmod(pw, 0o600)
    d.put("al", "priv/.htaccess", f"AuthType Basic\nAuthName priv\nAuthUserFile {pw}\n"
          "Require valid-user\n", mode=0o644)
    d.put("al", "priv/secret.txt", "secret\n")
    d.put("al", "priv/s.php", "<?php echo 'secret php';")
    good = b"Authorization: Basic " + base64.b64encode(b"alyssa:correct horse") + b"\r\n"
    bad = b"Authorization: Basic " + base64.b64encode(b"alyssa:wrong") + b"\r\n"
    for path, body in (("/priv/secret.txt", b"secret\n"), ("/priv/s.php", b"secret php")):
        for _ in range(6):
            assert get(d.port, path, host, extra=good)[:3:2] == (200, body)
            r = get(d.port, path, host)
            assert r[0] == 401 and body not in r[2], r
            assert get(d.port, path, host, extra=bad)[0] == 401


def test_require_ip_is_not_cached_across_addresses(d):
    host = "al.test.example"
    d.put("al", "ip/.htaccess", "Require ip 127.0.0.2\n", mode=0o644)
    d.put("al", "ip/x.txt", "for .2\n")
    d.put("al", "ip/x.php", "<?php echo 'php for .2';")
    for path, body in (("/ip/x.txt", b"for .2\n"), ("/ip/x.php", b"php for .2")):
        for _ in range(6):
            r = request(d.port, path, host, source="127.0.0.2")
            assert (r[0], r[2]) == (200, body), r
            r = request(d.port, path, host, source="127.0.0.1")
            assert r[0] == 403 and body not in r[2], r


def test_rewrite_on_header_query_or_cookie_is_never_cached_for_another(d):
    host = "al.test.example"
    d.put("al", "rw/.htaccess",
          "RewriteEngine On\n"
          "RewriteCond %{HTTP:X-Mode} ^admin$\nRewriteRule ^page\\.txt$ admin.txt [L]\n"
          "RewriteCond %{QUERY_STRING} (^|&)v=2\nRewriteRule ^page\\.txt$ v2.txt [L]\n"
          "RewriteCond %{HTTP_COOKIE} beta=1\nRewriteRule ^page\\.txt$ beta.txt [L]\n"
          "RewriteCond %{HTTP:X-Mode} ^admin$\nRewriteRule ^app/ app.php [L]\n"
          "RewriteRule ^app/ app.php?public=1 [L,QSA]\n", mode=0o644)
    for name in ("page", "admin", "v2", "beta"):
        d.put("al", f"rw/{name}.txt", f"{name}\n")
    d.put("al", "rw/app.php", "<?php echo 'app ', $_SERVER['QUERY_STRING'];")
    for _ in range(5):
        assert get(d.port, "/rw/page.txt", host)[2] == b"page\n"
        assert get(d.port, "/rw/page.txt", host, extra=b"X-Mode: admin\r\n")[2] == b"admin\n"
        assert get(d.port, "/rw/page.txt?v=2", host)[2] == b"v2\n"
        assert get(d.port, "/rw/page.txt", host, extra=b"Cookie: beta=1\r\n")[2] == b"beta\n"
        assert get(d.port, "/rw/page.txt?v=3", host)[2] == b"page\n"
        assert get(d.port, "/rw/app/x", host)[2] == b"app public=1"
        assert get(d.port, "/rw/app/x?a=b", host)[2] == b"app public=1&a=b"
        assert get(d.port, "/rw/app/x", host, extra=b"X-Mode: admin\r\n")[2] == b"app "


def test_environment_from_a_header_is_compared_before_reuse(d):
    # WordPress's E=HTTP_AUTHORIZATION: the permalink's resolution is kept,
    # but given only to a request with the same Authorization (or none).
    host = "wp.test.example"
    d.put("wp", ".htaccess", WP, mode=0o644)
    d.put("wp", "index.php", "<?php echo 'front controller ', $_SERVER['REQUEST_URI'], "
          "' q=', $_SERVER['QUERY_STRING'], ' auth=', getenv('HTTP_AUTHORIZATION'), \"\\n\";")
    base = b"front controller /2026/12/hello-world/ q="
    for _ in range(5):
        r = get(d.port, "/2026/12/hello-world/", host, extra=b"Authorization: Bearer alice\r\n")
        assert r[2] == base + b" auth=Bearer alice\n", r
        assert get(d.port, "/2026/12/hello-world/", host)[2] == base + b" auth=\n"
        r = get(d.port, "/2026/12/hello-world/", host, extra=b"Authorization: Bearer bob\r\n")
        assert r[2] == base + b" auth=Bearer bob\n", r
        # The rewritten query is the request's own.
        r = get(d.port, "/2026/12/hello-world/?p=7", host)
        assert r[2] == b"front controller /2026/12/hello-world/?p=7 q=p=7 auth=\n", r
