""".htaccess as the worker walks it (htcore): which files apply, the
parser's errors as Apache's (500 and FILE:LINE in the locker's error log),
<IfModule> fallbacks, a change that applies at once, answers decided by
the request never served from front's caches to another, and a hostile
file that costs only its own locker."""
import os
import time

from conftest import get, wait_for

# Each test on the module's srv runs over HTTP/1.1 and again over HTTP/2
# (conftest.py: transports).
TRANSPORTS = ("h1", "h2")


def error_log(d, name):
    try:
        with open(os.path.join(d.logs, "lockers", name, "error.log"), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def ctype(r):
    return r[1].get("content-type", "")


def test_without_htaccess_unchanged(srv):
    srv.put("alice", "plain/a.txt", "plain\n")
    for _ in range(3):
        s, h, b = get(srv.port, "/plain/a.txt", "alice.test.example")
        assert (s, b) == (200, b"plain\n")
        assert h["content-type"].startswith("text/plain")


def test_unknown_directive_is_500_with_file_and_line(srv):
    srv.put("alice", "bad/.htaccess", "# WordPress\n\nFrobnicate on\n", mode=0o644)
    srv.put("alice", "bad/x.txt", "x\n")
    srv.put("alice", "bad/sub/y.txt", "y\n")
    assert get(srv.port, "/bad/x.txt", "alice.test.example")[0] == 500
    # Below it too: the file applies to its whole tree.
    assert get(srv.port, "/bad/sub/y.txt", "alice.test.example")[0] == 500
    line = b"web_scripts/bad/.htaccess:3: unknown directive Frobnicate"
    assert wait_for(lambda: line in error_log(srv, "alice")), error_log(srv, "alice")
    # Not bob's business, nor a neighbour directory's.
    assert line not in error_log(srv, "bob")
    srv.put("alice", "good/x.txt", "x\n")
    assert get(srv.port, "/good/x.txt", "alice.test.example")[0] == 200


def test_ifmodule_fallbacks(srv):
    # What lockerd lacks, and the fallback for what it has, are never read.
    srv.put("alice", "ifm/.htaccess",
            "<IfModule !mod_rewrite.c>\n  Frobnicate on\n</IfModule>\n"
            "<IfModule mod_deflate.c>\n  AddOutputFilterByType DEFLATE text/html\n</IfModule>\n"
            "<IfModule mod_mime.c>\n  AddType text/x-lockerd-test .txt\n</IfModule>\n",
            mode=0o644)
    srv.put("alice", "ifm/x.txt", "x\n")
    r = get(srv.port, "/ifm/x.txt", "alice.test.example")
    assert r[0] == 200 and ctype(r) == "text/x-lockerd-test"


def test_change_applies_at_once(srv):
    srv.put("alice", "chg/x.txt", "x\n")
    srv.put("alice", "chg/.htaccess", "ForceType text/x-one\n", mode=0o644)
    for _ in range(3):
        assert ctype(get(srv.port, "/chg/x.txt", "alice.test.example")) == "text/x-one"
    # Same size, same second: the stamps (mtime, ctime to the ns) still tell.
    srv.put("alice", "chg/.htaccess", "ForceType text/x-two\n", mode=0o644)
    assert ctype(get(srv.port, "/chg/x.txt", "alice.test.example")) == "text/x-two"
    srv.put("alice", "chg/.htaccess", "Frobnicate\n", mode=0o644)
    assert get(srv.port, "/chg/x.txt", "alice.test.example")[0] == 500
    os.unlink(os.path.join(srv.info("alice")["home"], "web_scripts", "chg", ".htaccess"))
    r = get(srv.port, "/chg/x.txt", "alice.test.example")
    assert r[0] == 200 and ctype(r).startswith("text/plain")


def test_answer_decided_by_a_header_is_never_cached_for_another(srv):
    srv.put("alice", "hdr/x.txt", "x\n")
    srv.put("alice", "hdr/.htaccess",
            "<If \"%{HTTP:X-Mode} == 'odd'\">\n  ForceType text/x-odd\n</If>\n"
            "<ElseIf \"%{QUERY_STRING} =~ /^q=/\">\n  ForceType text/x-query\n</ElseIf>\n",
            mode=0o644)
    for _ in range(4):
        r = get(srv.port, "/hdr/x.txt", "alice.test.example", extra=b"X-Mode: odd\r\n")
        assert ctype(r) == "text/x-odd"
        r = get(srv.port, "/hdr/x.txt", "alice.test.example")
        assert ctype(r).startswith("text/plain")
        r = get(srv.port, "/hdr/x.txt?q=1", "alice.test.example")
        assert ctype(r) == "text/x-query"


def test_sections_files_and_limit(srv):
    srv.put("alice", "sec/a.txt", "a\n")
    srv.put("alice", "sec/b.txt", "b\n")
    srv.put("alice", "sec/.htaccess",
            "<Files a.txt>\n  ForceType text/x-a\n</Files>\n"
            "<FilesMatch \"^b\\.\">\n  <Limit GET>\n    ForceType text/x-b\n  </Limit>\n"
            "</FilesMatch>\n", mode=0o644)
    assert ctype(get(srv.port, "/sec/a.txt", "alice.test.example")) == "text/x-a"
    assert ctype(get(srv.port, "/sec/b.txt", "alice.test.example")) == "text/x-b"
    r = get(srv.port, "/sec/b.txt", "alice.test.example", method=b"HEAD")
    assert r[0] == 200 and ctype(r) == "text/x-b"   # <Limit GET> is HEAD's too


def test_directory_index_and_handler(srv):
    srv.put("alice", "di/home.html", "<?php echo 'php ', 6*7; ?>\n")
    srv.put("alice", "di/.htaccess", "DirectoryIndex missing.html home.html\n"
            "AddHandler application/x-httpd-php .html\n", mode=0o644)
    s, h, b = get(srv.port, "/di/", "alice.test.example")
    assert (s, b.strip()) == (200, b"php 42")


def test_hostile_htaccess_costs_only_its_locker(srv):
    home = srv.info("alice")["home"]
    srv.put("bob", "calm.txt", "calm\n")
    srv.put("alice", "huge/x.txt", "x\n")
    srv.put("alice", "huge/.htaccess", "#" * (10 << 20), mode=0o644)
    srv.put("alice", "deep/x.txt", "x\n")
    srv.put("alice", "deep/.htaccess", "<IfModule mod_rewrite.c>\n" * 10000 +
            "</IfModule>\n" * 10000, mode=0o644)
    srv.put("alice", "long/x.txt", "x\n")
    srv.put("alice", "long/.htaccess", "ForceType " + "a" * 100000 + "\n", mode=0o644)
    for path in ("/huge/x.txt", "/deep/x.txt", "/long/x.txt"):
        t = time.monotonic()
        assert get(srv.port, path, "alice.test.example")[0] == 500
        assert time.monotonic() - t < 2
        assert get(srv.port, "/calm.txt", "bob.test.example")[:3:2] == (200, b"calm\n")
    log = wait_for(lambda: b"nested deeper" in error_log(srv, "alice") and
                   error_log(srv, "alice"))
    assert b"web_scripts/huge/.htaccess: larger than" in log
    assert b"web_scripts/deep/.htaccess:17: sections nested deeper than 16" in log
    assert b"web_scripts/long/.htaccess:1: line longer than" in log
    assert os.path.exists(home)


def test_htaccess_never_served_and_symlink_out_refused(srv):
    srv.put("alice", "own/.htaccess", "ForceType text/x-own\n", mode=0o644)
    srv.put("alice", "own/x.txt", "x\n")
    assert get(srv.port, "/own/.htaccess", "alice.test.example")[0] == 404
    # A .htaccess that is a symlink to another locker's: bob's home is not
    # in alice's sandbox, so it is none (as Apache takes a dangling one).
    bob = srv.info("bob")["home"]
    srv.put("bob", "secret/.htaccess", "ForceType text/x-bob\n", mode=0o600)
    alice = srv.info("alice")["home"]
    os.makedirs(os.path.join(alice, "web_scripts", "lnk"), exist_ok=True)
    srv.put("alice", "lnk/x.txt", "x\n")
    link = os.path.join(alice, "web_scripts", "lnk", ".htaccess")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.join(bob, "web_scripts", "secret", ".htaccess"), link)
    r = get(srv.port, "/lnk/x.txt", "alice.test.example")
    assert r[0] == 200 and ctype(r).startswith("text/plain")
    # One to the locker's own file beside web_scripts applies.
    with open(os.path.join(alice, "mine.htaccess"), "w") as f:
        f.write("ForceType text/x-mine\n")
    os.chown(os.path.join(alice, "mine.htaccess"), srv.info("alice")["uid"],
             srv.info("alice")["gid"])
    os.unlink(link)
    os.symlink(os.path.join(alice, "mine.htaccess"), link)
    # Where there was none, front may hold the file for file-cache-valid (1 s).
    assert wait_for(lambda: ctype(get(srv.port, "/lnk/x.txt", "alice.test.example")) ==
                    "text/x-mine", within=2.5)


def test_new_htaccess_applies_at_once(srv):
    # A file front holds, where no .htaccess was: the worker's watch on the
    # directory tells front before the next request (test_htcache.py).
    srv.put("alice", "late/x.txt", "x\n")
    for _ in range(6):
        assert get(srv.port, "/late/x.txt", "alice.test.example")[0] == 200
    srv.put("alice", "late/.htaccess", "ForceType text/x-late\n", mode=0o644)
    for _ in range(4):
        assert ctype(get(srv.port, "/late/x.txt", "alice.test.example")) == "text/x-late"


def test_sethandler_none_and_default_charset(srv):
    srv.put("alice", "up/evil.php", "<?php echo 'ran'; ?>\n")
    srv.put("alice", "up/a.txt", "a\n")
    srv.put("alice", "up/.htaccess", "SetHandler None\nAddDefaultCharset ISO-8859-1\n",
            mode=0o644)
    # An upload directory's scripts never run (nor are they served: not static).
    s, h, b = get(srv.port, "/up/evil.php", "alice.test.example")
    assert s == 403 and b"ran" not in b
    r = get(srv.port, "/up/a.txt", "alice.test.example")
    assert ctype(r) == "text/plain; charset=ISO-8859-1"
    # None in a <Files> names a file to give out as a file, as Apache does:
    # its source, typed so that no browser sniffs it into a page.
    srv.put("alice", "src/show.php", "<?php echo 'ran'; ?>\n")
    srv.put("alice", "src/other.php", "<?php echo 'ran'; ?>\n")
    srv.put("alice", "src/.htaccess", '<Files "show.php">\n  SetHandler None\n</Files>\n',
            mode=0o644)
    s, h, b = get(srv.port, "/src/show.php", "alice.test.example")
    assert s == 200 and b == b"<?php echo 'ran'; ?>\n", (s, b)
    assert ctype((s, h, b)) == "application/octet-stream"
    s, h, b = get(srv.port, "/src/other.php", "alice.test.example")
    assert s == 200 and b == b"ran", (s, b)


def test_setenv_reaches_scripts_but_never_replaces_lockerds(srv):
    srv.put("alice", "env/e.php",
            "<?php foreach (['GREETING', 'BOT', 'SCRIPT_NAME', 'LD_PRELOAD', 'PATH']"
            " as $k) echo $k, '=', $_SERVER[$k] ?? '', \"\\n\";")
    srv.put("alice", "env/e.cgi",
            "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nGREETING=%s\\nBOT=%s\\n"
            "SCRIPT_NAME=%s\\n' \"$GREETING\" \"$BOT\" \"$SCRIPT_NAME\"\n", mode=0o700)
    srv.put("alice", "env/.htaccess",
            "SetEnv GREETING hello\nSetEnv SCRIPT_NAME /forged\nSetEnv LD_PRELOAD /tmp/x.so\n"
            "SetEnv PATH /tmp\nSetEnvIfNoCase User-Agent ^corpus BOT=yes\n", mode=0o644)
    for path in ("/env/e.php", "/env/e.cgi"):
        s, h, b = get(srv.port, path, "alice.test.example", extra=b"User-Agent: Corpus/1\r\n")
        assert s == 200, (path, b)
        assert b"GREETING=hello\n" in b and b"BOT=yes\n" in b, (path, b)
        assert b"SCRIPT_NAME=/env/e." in b and b"/forged" not in b, (path, b)
        assert b"/tmp/x.so" not in b and b"PATH=/tmp\n" not in b, (path, b)
        s, h, b = get(srv.port, path, "alice.test.example")
        assert b"GREETING=hello\n" in b and b"BOT=yes" not in b, (path, b)


def test_php_value_and_flag_reach_php(srv):
    srv.put("alice", "phpv/i.php", "<?php echo ini_get('precision'), '|', "
            "ini_get('short_open_tag'), '|', ini_get('post_max_size') === '1M' ? 'mine' : 'lockerd';")
    srv.put("alice", "phpv/.htaccess", "php_value precision 7\nphp_flag short_open_tag on\n"
            "php_value post_max_size 1M\n", mode=0o644)
    s, h, b = get(srv.port, "/phpv/i.php", "alice.test.example")
    # lockerd's own settings (the body limit) still win over the locker's.
    assert (s, b) == (200, b"7|1|lockerd")


def test_every_extension_of_a_name_counts(srv):
    srv.put("alice", "ext/c.txt.utf8", "c\n")
    srv.put("alice", "ext/page.html.php", "<?php echo 'ran';")
    srv.put("alice", "ext/.htaccess", "AddType text/plain .txt\nAddCharset UTF-8 .utf8\n",
            mode=0o644)
    r = get(srv.port, "/ext/c.txt.utf8", "alice.test.example")
    # mod_mime keeps AddCharset's value lower-cased, as Apache answers it
    assert (r[0], ctype(r), r[2]) == (200, "text/plain; charset=utf-8", b"c\n")
    assert get(srv.port, "/ext/page.html.php", "alice.test.example")[2] == b"ran"


def test_options_indexes_lists_a_directory_without_index(srv):
    srv.put("alice", "lst/one.txt", "1\n")
    srv.put("alice", "lst/<b>.txt", "2\n")
    srv.put("alice", "lst/.hidden", "3\n")
    assert get(srv.port, "/lst/", "alice.test.example")[0] == 403
    srv.put("alice", "lst/.htaccess", "Options +Indexes\n", mode=0o644)
    s, h, b = get(srv.port, "/lst/", "alice.test.example")
    assert s == 200 and h["content-type"].startswith("text/html")
    assert b"one.txt" in b and b"&lt;b&gt;.txt" in b and b"<b>.txt" not in b
    assert b".hidden" not in b and b".htaccess" not in b
    srv.put("alice", "lst/.htaccess", "Options -Indexes\n", mode=0o644)
    assert get(srv.port, "/lst/", "alice.test.example")[0] == 403


def test_fileetag_and_conditional_requests(srv):
    """FileETag chooses the parts of front's ETag (Apache's order: inode,
    size, mtime); None sends none, and then If-None-Match never matches
    while If-Modified-Since still gives 304."""
    import re
    host = "alice.test.example"
    sa = os.stat(srv.put("alice", "etag/a.txt", "abc\n"))
    srv.put("alice", "etag/none/n.txt", "n\n")
    st = os.stat(srv.put("alice", "etag/all/x.txt", "x\n"))
    srv.put("alice", "etag/none/.htaccess", "FileETag None\n", mode=0o644)
    srv.put("alice", "etag/all/.htaccess", "FileETag INode MTime Size\n", mode=0o644)
    s, h, b = get(srv.port, "/etag/a.txt", host)
    assert s == 200 and re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', h["etag"]), h
    mtime_us = sa.st_mtime_ns // 1000
    assert h["etag"] == '"%x-%x"' % (sa.st_size, mtime_us), (h, sa)   # size, then mtime
    s, h, b = get(srv.port, "/etag/all/x.txt", host)
    tag = h["etag"]
    assert s == 200 and tag.startswith('"%x-%x-' % (st.st_ino, st.st_size)), (tag, st.st_ino)
    s, h, b = get(srv.port, "/etag/all/x.txt", host, extra=f"If-None-Match: {tag}\r\n".encode())
    assert s == 304 and h["etag"] == tag
    s, h, b = get(srv.port, "/etag/none/n.txt", host)
    assert s == 200 and "etag" not in h and b == b"n\n", h
    lm = h["last-modified"]
    s, h, b = get(srv.port, "/etag/none/n.txt", host, extra=b'If-None-Match: "0-0"\r\n')
    assert s == 200 and "etag" not in h
    s, h, b = get(srv.port, "/etag/none/n.txt", host,
                  extra=f"If-Modified-Since: {lm}\r\n".encode())
    assert s == 304 and "etag" not in h
    # A range with an If-Range ETag gets the whole file: there is no tag to match.
    s, h, b = get(srv.port, "/etag/none/n.txt", host,
                  extra=b'Range: bytes=0-0\r\nIf-Range: "x"\r\n')
    assert s == 200 and b == b"n\n"


def test_encoding_and_listing_options(srv):
    """AddEncoding's Content-Encoding beside the type of the other
    extension; IndexOptions and IndexIgnore in a listing."""
    host = "alice.test.example"
    srv.put("alice", "gz/page.css.br", "not really brotli\n")
    srv.put("alice", "gz/data.tar.gz", "not really gzip\n")
    srv.put("alice", "gz/old.css.bak", "backup\n")
    srv.put("alice", "gz/.htaccess", "AddEncoding br .br\nAddEncoding gzip .gz\n", mode=0o644)
    s, h, b = get(srv.port, "/gz/page.css.br", host)
    assert s == 200 and h.get("content-encoding") == "br", h
    assert h["content-type"].startswith("text/css"), h
    # .gz has a type of its own (mime.types), which wins as in mod_mime
    s, h, b = get(srv.port, "/gz/data.tar.gz", host)
    assert s == 200 and h.get("content-encoding") == "gzip", h
    assert h["content-type"] == "application/gzip", h
    # an extension the .htaccess gave no meaning keeps the static list's refusal
    assert get(srv.port, "/gz/old.css.bak", host)[0] == 403
    srv.put("alice", "ls/B.txt", "b\n")
    srv.put("alice", "ls/a.txt", "a\n")
    srv.put("alice", "ls/z/x.txt", "x\n")
    srv.put("alice", "ls/secret.log", "s\n")
    srv.put("alice", "ls/.htaccess",
            "Options +Indexes\nIndexOptions +FoldersFirst +IgnoreCase\nIndexIgnore *.log\n",
            mode=0o644)
    s, h, b = get(srv.port, "/ls/", host)
    assert s == 200 and b"secret.log" not in b, b
    i = [b.index(n) for n in (b'href="z/"', b'href="a.txt"', b'href="B.txt"')]
    assert i == sorted(i), b
    assert h["content-type"] == "text/html;charset=UTF-8"
