"""Header and Expires* from a .htaccess, on the wire: a success carries
every field the file sets, an error only the "always" ones; Expires and
Cache-Control from the file's type; a change applies at once."""
from conftest import get

# Each test on the module's srv runs over HTTP/1.1 and again over HTTP/2
# (conftest.py: transports).
TRANSPORTS = ("h1", "h2")


def test_headers_on_success_and_always_on_errors(srv):
    srv.put("alice", "hd/.htaccess",
            'Header set X-Frame-Options SAMEORIGIN\n'
            'Header append X-Corpus one\nHeader append X-Corpus two\n'
            'Header always set X-Always yes\n'
            'Header set X-Gone soon\nHeader unset X-Gone\n'
            # HTTP/2's field names come lowercase (as Apache's mod_http2
            # hands them to mod_headers, whose echo regex is case-sensitive)
            'Header echo ^[Xx]-[Ee]cho\n', mode=0o644)
    srv.put("alice", "hd/page.txt", "page\n", mode=0o644)
    s, h, b = get(srv.port, "/hd/page.txt", "alice.test.example", extra=b"X-Echo-Me: 42\r\n")
    assert (s, b) == (200, b"page\n")
    assert h["x-frame-options"] == "SAMEORIGIN"
    assert h["x-corpus"] == "one, two"
    assert h["x-always"] == "yes"
    assert h["x-echo-me"] == "42"
    assert "x-gone" not in h
    s, h, b = get(srv.port, "/hd/missing.txt", "alice.test.example")
    assert s == 404
    assert h["x-always"] == "yes"
    assert "x-frame-options" not in h and "x-corpus" not in h


def test_expires_by_type_and_a_change_at_once(srv):
    srv.put("alice", "ex/.htaccess",
            'ExpiresActive On\nExpiresDefault "access plus 1 day"\n'
            'ExpiresByType text/css "access plus 10 minutes"\n', mode=0o644)
    srv.put("alice", "ex/style.css", "p{}\n", mode=0o644)
    srv.put("alice", "ex/page.html", "<p>x</p>\n", mode=0o644)
    s, h, b = get(srv.port, "/ex/style.css", "alice.test.example")
    assert s == 200 and h["cache-control"] == "max-age=600" and h["expires"].endswith(" GMT")
    s, h, b = get(srv.port, "/ex/page.html", "alice.test.example")
    assert s == 200 and h["cache-control"] == "max-age=86400"
    srv.put("alice", "ex/.htaccess", "ExpiresActive Off\n", mode=0o644)
    s, h, b = get(srv.port, "/ex/style.css", "alice.test.example")
    assert s == 200 and "expires" not in h and "cache-control" not in h
