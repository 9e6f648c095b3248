"""A .htaccess's php_value and php_flag under lockerd, as mod_php applies
them: they reach PHP whether it runs through the locker's FastCGI pool (a
pool per set of settings, src/phpini.c) or by CGI, apply at once after an
edit and only where the .htaccess applies, an inner file overriding an
outer one; php_admin_* is "not allowed here" (500); settings PHP lets only
php.ini make are ignored; lockerd's own settings still win; and a hostile
locker's settings reach no other locker."""
import itertools
import os
import re
import subprocess
import time

import pytest

from conftest import _H2_PORTS, parse_responses, raw, wait_for
from h2client import h2_get

# Each test on the module's srv runs over HTTP/1.1 and again over HTTP/2
# (conftest.py: transports).
TRANSPORTS = ("h1", "h2")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Which settings, and how PHP ran: FCGI_ROLE is set by php-cgi in FastCGI
# mode only.
SHOW = ("<?php foreach (explode(',', $_GET['ini']) as $k) echo $k, '=', "
        "var_export(ini_get($k), true), \"\\n\"; echo 'via=', "
        "isset($_SERVER['FCGI_ROLE']) ? 'fastcgi' : 'cgi', \"\\n\";")


def get(port, path, host):
    """GET, waiting as long as a pool's start may take on a loaded machine
    (a new set's first page starts its pool: seconds at load 25)."""
    if port in _H2_PORTS:
        return h2_get(port, path, host, timeout=60.0)
    req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").encode()
    r = parse_responses(raw(port, req, timeout=60.0))
    assert r, "no response"
    return r[0]


def error_log(d, name):
    try:
        with open(os.path.join(d.logs, "lockers", name, "error.log"), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def show(srv, locker, path, *names):
    s, h, b = get(srv.port, f"/{path}?ini={','.join(names)}", f"{locker}.test.example")
    assert s == 200, (path, s, b)
    return dict(line.split("=", 1) for line in b.decode().splitlines())


def ht(srv, locker, rel, text):
    srv.put(locker, rel, text, mode=0o644)


_n = itertools.count()


@pytest.fixture
def me(srv):
    """A locker of the test's own: each has at most four pools of settings."""
    name = f"pv{next(_n)}"
    srv.signup(name)
    return name


def test_values_reach_the_fastcgi_pool(srv, me):
    srv.put(me, "pv/i.php", SHOW)
    srv.put(me, "plain/i.php", SHOW)
    ht(srv, me, "pv/.htaccess", "php_value memory_limit 64M\nphp_flag display_errors on\n")
    r = show(srv, me, "pv/i.php", "memory_limit", "display_errors")
    assert r == {"memory_limit": "'64M'", "display_errors": "'1'", "via": "fastcgi"}
    # Only where the .htaccess applies: a page beside pv/ keeps PHP's own.
    r = show(srv, me, "plain/i.php", "memory_limit", "display_errors")
    assert r["memory_limit"] == "'128M'" and r["via"] == "fastcgi", r


def test_an_edit_applies_at_once(srv, me):
    srv.put(me, "edit/i.php", SHOW)
    ht(srv, me, "edit/.htaccess", "php_value precision 7\n")
    assert show(srv, me, "edit/i.php", "precision")["precision"] == "'7'"
    ht(srv, me, "edit/.htaccess", "php_value precision 9\n")
    assert show(srv, me, "edit/i.php", "precision")["precision"] == "'9'"
    os.unlink(os.path.join(srv.info(me)["home"], "web_scripts", "edit", ".htaccess"))
    assert show(srv, me, "edit/i.php", "precision")["precision"] == "'14'"


def test_directories_differ_and_inner_overrides(srv, me):
    for d in ("two/a", "two/a/in", "two/b"):
        srv.put(me, f"{d}/i.php", SHOW)
    ht(srv, me, "two/a/.htaccess", "php_value precision 5\nphp_value memory_limit 40M\n")
    ht(srv, me, "two/a/in/.htaccess", "php_value precision 11\n")
    ht(srv, me, "two/b/.htaccess", "php_value precision 6\n")
    for _ in range(2):      # the second time on kept connections to each pool
        a = show(srv, me, "two/a/i.php", "precision", "memory_limit")
        i = show(srv, me, "two/a/in/i.php", "precision", "memory_limit")
        b = show(srv, me, "two/b/i.php", "precision", "memory_limit")
        assert (a["precision"], a["memory_limit"], a["via"]) == ("'5'", "'40M'", "fastcgi")
        assert (i["precision"], i["memory_limit"], i["via"]) == ("'11'", "'40M'", "fastcgi")
        assert (b["precision"], b["memory_limit"], b["via"]) == ("'6'", "'128M'", "fastcgi")


def test_files_section_scopes_a_value(srv, me):
    srv.put(me, "fs/one.php", SHOW)
    srv.put(me, "fs/two.php", SHOW)
    ht(srv, me, "fs/.htaccess", '<Files "one.php">\nphp_value precision 3\n</Files>\n')
    assert show(srv, me, "fs/one.php", "precision")["precision"] == "'3'"
    assert show(srv, me, "fs/two.php", "precision")["precision"] == "'14'"


def test_values_reach_cgi_runs_too(srv, me):
    # A .html handled as PHP runs by CGI; so does a page with a php.ini beside it.
    srv.put(me, "cgi/page.html", SHOW)
    srv.put(me, "cgi2/i.php", SHOW)
    srv.put(me, "cgi2/php.ini", "precision = 4\n")
    ht(srv, me, "cgi/.htaccess", "AddHandler application/x-httpd-php .html\n"
        "php_value precision 8\nphp_flag display_errors on\n")
    ht(srv, me, "cgi2/.htaccess", "php_value memory_limit 48M\n")
    r = show(srv, me, "cgi/page.html", "precision", "display_errors")
    assert r == {"precision": "'8'", "display_errors": "'1'", "via": "cgi"}
    r = show(srv, me, "cgi2/i.php", "precision", "memory_limit")
    assert r == {"precision": "'4'", "memory_limit": "'48M'", "via": "cgi"}


def test_values_are_taken_as_mod_php_takes_them(srv, me):
    srv.put(me, "raw/i.php", SHOW)
    # Raw values (no INI keyword, constant or ${VAR}), "none" is empty, a
    # flag that is neither on nor 1 is off.
    ht(srv, me, "raw/.htaccess", "php_value highlight.html \"it's\"\n"
        "php_value highlight.keyword ${HOME}\nphp_value highlight.comment none\n"
        "php_flag display_errors yes\nphp_flag html_errors On\n"
        "php_value error_reporting E_ALL\n")
    r = show(srv, me, "raw/i.php", "highlight.html", "highlight.keyword", "highlight.comment",
             "display_errors", "html_errors", "error_reporting")
    assert (r["highlight.html"], r["highlight.keyword"]) == ("'it\\'s'", "'${HOME}'"), r
    assert (r["highlight.comment"], r["display_errors"], r["html_errors"]) == ("''", "'0'", "'1'")
    assert r["error_reporting"] == "'E_ALL'" and r["via"] == "fastcgi", r
    # A value PHP's INI syntax cannot carry raw is left out, and said.
    ht(srv, me, "raw/.htaccess", "php_value highlight.html \"it's ${HOME}\"\n")
    r = show(srv, me, "raw/i.php", "highlight.html")
    assert r["highlight.html"] == "'#000000'", r
    assert wait_for(lambda: b"php_value highlight.html: a value too long, or with both" in
                    error_log(srv, me)), error_log(srv, me)


def test_php_admin_is_not_allowed_here(srv, me):
    srv.put(me, "adm/i.php", SHOW)
    srv.put(me, "adm2/i.php", SHOW)
    ht(srv, me, "adm/.htaccess", "php_admin_value memory_limit 1G\n")
    ht(srv, me, "adm2/.htaccess", "php_admin_flag display_errors on\n")
    assert get(srv.port, "/adm/i.php?ini=memory_limit", f"{me}.test.example")[0] == 500
    assert get(srv.port, "/adm2/i.php?ini=memory_limit", f"{me}.test.example")[0] == 500
    for line in (b"web_scripts/adm/.htaccess:1: php_admin_value not allowed here",
                 b"web_scripts/adm2/.htaccess:1: php_admin_flag not allowed here"):
        assert wait_for(lambda: line in error_log(srv, me)), error_log(srv, me)


def test_system_settings_are_ignored(srv, me):
    # A hostile (or mistaken) locker: what only php.ini may set, and what
    # loads code, is left out, as mod_php leaves it; the page still runs.
    srv.put(me, "sys/i.php", SHOW + " echo 'phpinfo=', function_exists('phpinfo') ? "
            "'yes' : 'no', \"\\n\";")
    ht(srv, me, "sys/.htaccess", "php_value disable_functions phpinfo\n"
        "php_value extension /tmp/evil.so\nphp_value zend_extension /tmp/evil.so\n"
        "php_flag allow_url_include on\nphp_value user_ini.filename evil.ini\n"
        "php_value precision 12\n")
    r = show(srv, me, "sys/i.php", "disable_functions", "allow_url_include",
             "user_ini.filename", "precision")
    assert r["phpinfo"] == "yes" and r["disable_functions"] == "''", r
    assert r["allow_url_include"] in ("''", "'0'"), r
    assert r["user_ini.filename"] == "'.user.ini'", r
    assert r["precision"] == "'12'" and r["via"] == "fastcgi", r
    assert wait_for(lambda: b"php.ini only" in error_log(srv, me)), error_log(srv, me)


def test_lockerd_settings_still_win(srv, me):
    srv.put(me, "own/i.php", SHOW)
    ht(srv, me, "own/.htaccess", "php_value session.save_path /var/lib/php/sessions\n"
        "php_value upload_max_filesize 2G\nphp_value opcache.revalidate_freq 600\n")
    r = show(srv, me, "own/i.php", "session.save_path", "upload_max_filesize",
             "opcache.revalidate_freq")
    assert r["session.save_path"] == "'/tmp'" and r["opcache.revalidate_freq"] == "'2'", r
    assert r["upload_max_filesize"] != "'2G'", r


def test_engine_off_runs_no_php(srv, me):
    # An upload directory's guard: an uploaded .php is not run there (403:
    # lockerd serves no file it has no type for), unless a type is given.
    srv.put(me, "up/evil.php", "<?php echo 'ran';")
    srv.put(me, "up/sub/evil.php", "<?php echo 'ran';")
    srv.put(me, "up/txt/evil.php", "<?php echo 'ran';")
    srv.put(me, "up/on/evil.php", "<?php echo 'ran';")
    ht(srv, me, "up/.htaccess", "php_flag engine off\n")
    ht(srv, me, "up/txt/.htaccess", "AddType text/plain .php\n")
    ht(srv, me, "up/on/.htaccess", "php_value engine on\n")
    for path in ("up/evil.php", "up/sub/evil.php"):
        s, h, b = get(srv.port, "/" + path, f"{me}.test.example")
        assert s == 403 and b"ran" not in b, (path, s, b)
    s, h, b = get(srv.port, "/up/txt/evil.php", f"{me}.test.example")
    assert (s, b) == (200, b"<?php echo 'ran';"), (s, b)
    assert h["content-type"].startswith("text/plain"), h
    assert get(srv.port, "/up/on/evil.php", f"{me}.test.example")[2] == b"ran"


def test_user_ini_still_applies_under_php_values(srv, me):
    srv.put(me, "ui/i.php", SHOW)
    srv.put(me, "ui/.user.ini", "precision = 13\n", mode=0o644)
    ht(srv, me, "ui/.htaccess", "php_value memory_limit 72M\n")
    r = show(srv, me, "ui/i.php", "precision", "memory_limit")
    assert (r["precision"], r["memory_limit"], r["via"]) == ("'13'", "'72M'", "fastcgi")


def test_another_locker_is_not_touched(srv, me):
    for who in (me, "bob"):
        srv.put(who, "iso/i.php", SHOW)
    ht(srv, me, "iso/.htaccess", "php_value memory_limit 24M\n")
    assert show(srv, me, "iso/i.php", "memory_limit")["memory_limit"] == "'24M'"
    assert show(srv, "bob", "iso/i.php", "memory_limit")["memory_limit"] == "'128M'"


def php_pools(d, locker):
    """The precision= of each pool of the locker ("" for its plain pool)."""
    uid = d.info(locker)["uid"]
    masters = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            with open(f"/proc/{pid}/status") as f:
                ppid = int(re.search(r"PPid:\s+(\d+)", f.read()).group(1))
            st = os.stat(f"/proc/{pid}")
        except (OSError, AttributeError):
            continue
        if st.st_uid != uid or not cmd or not cmd[0].endswith(b"php-cgi"):
            continue
        with open(f"/proc/{ppid}/cmdline", "rb") as f:
            if f.read().split(b"\0")[0].endswith(b"php-cgi"):
                continue    # a child of a pool's master
        masters.append(b" ".join(a for a in cmd if a.startswith(b"precision=")).decode())
    return sorted(set(masters))    # a pool may have several processes


def test_an_unused_pool_of_settings_retires(make_lockerd):
    # An edit leaves the old set's pool behind: it goes once unused for
    # max(worker-idle-timeout, script-timeout + file-cache-valid + 1 s) =
    # 12 s here, while the worker, kept busy, stays.  (A script-timeout
    # shorter than a pool's start on a loaded machine would be a 504, and
    # a short worker-idle-timeout would let the worker go between pages.)
    d = make_lockerd(extra="script-timeout 10s\nworker-idle-timeout 12s\n").start()
    d.signup("dave")
    d.put("dave", "a/i.php", SHOW)
    d.put("dave", "b/i.php", SHOW)
    d.put("dave", "a/.htaccess", "php_value precision 5\n", mode=0o644)
    d.put("dave", "b/.htaccess", "php_value precision 6\n", mode=0o644)
    assert show(d, "dave", "a/i.php", "precision")["precision"] == "'5'"
    assert show(d, "dave", "b/i.php", "precision")["precision"] == "'6'"
    assert php_pools(d, "dave") == ["precision='5'", "precision='6'"]
    end = time.time() + 90
    while time.time() < end and "precision='5'" in php_pools(d, "dave"):
        assert show(d, "dave", "b/i.php", "precision")["precision"] == "'6'"
        time.sleep(0.2)
    assert php_pools(d, "dave") == ["precision='6'"]
    assert show(d, "dave", "a/i.php", "precision")["precision"] == "'5'"   # started anew


def test_pools_of_settings_are_bounded(make_lockerd):
    d = make_lockerd().start()
    d.signup("carol")
    for n in range(6):
        d.put("carol", f"p{n}/i.php", SHOW)
        d.put("carol", f"p{n}/.htaccess", f"php_value precision {n + 2}\n", mode=0o644)
    got = [show(d, "carol", f"p{n}/i.php", "precision") for n in range(6)]
    # Each page has its own settings, whether its pool runs or it ran by CGI.
    assert [g["precision"] for g in got] == [f"'{n + 2}'" for n in range(6)], got
    # Four pools of settings at most, besides the locker's own: the others
    # (none quiet long enough to retire) ran by CGI, said once in the log.
    assert [g["via"] for g in got] == ["fastcgi"] * 4 + ["cgi"] * 2, got
    assert wait_for(lambda: b"more sets of .htaccess php_value" in error_log(d, "carol"))
    assert php_pools(d, "carol") == [f"precision='{n + 2}'" for n in range(4)]


def test_the_table_of_system_settings_matches_php():
    """src/phpini.c's not_perdir[] is PHP 8.2's: the installed php-cgi's
    settings without PHP_INI_PERDIR, plus extension and zend_extension."""
    with open(os.path.join(ROOT, "src", "phpini.c")) as f:
        src = f.read()
    body = src[src.index("not_perdir[] = {"):]
    body = body[:body.index("};")]
    table = re.findall(r'"([^"]+)"', body)
    assert table == sorted(table), "not_perdir[] must stay sorted for bsearch"
    script = (b'<?php foreach (ini_get_all(null, true) as $k => $v) '
              b'if (!($v["access"] & 2)) echo $k, "\\n";')
    out = subprocess.run(["php-cgi", "-q"], input=script, capture_output=True,
                         timeout=30, env={"PATH": "/usr/bin:/bin"}).stdout.decode().split()
    assert set(table) == set(out) | {"extension", "zend_extension"}
