"""Issue 16: the MediaWiki recipe of the autoinstaller (src/app_mediawiki.c).

One real MariaDB (tests/integration/mariadb.py) and one lockerd with the
SQL service for the module, its app-releases a directory holding a
synthetic next MediaWiki; one locker.  Everything goes through the CLI:
`locker install NAME mediawiki` (the master runs lockerd-app as the locker
in its sandbox; for --db mariadb it makes the locker's account and the
wiki's database first) and `locker upgrade NAME --path mw --to V`.

- SQLite (the default): MediaWiki's own maintenance/install.php run as the
  locker; Main_Page answers by its short URL (/mw/wiki/Main_Page, the
  rewrite in the install's .htaccess); Debian's shims are real directories
  (extensions/ with the bundled extensions, images/, cache/); the SQLite
  database in data/ is never served (its .htaccess), and out of git.
- The admin logs in with the printed password (Special:UserLogin and its
  token) and edits a page through the API with the session's CSRF token;
  the page shows the edit to anyone.
- MariaDB on request (--db mariadb): the wiki's tables are in the master's
  database, and its Main_Page answers.
- An upgrade to a synthetic next version (Debian's tree copied as it is,
  MW_VERSION bumped, a file changed and one added in a bundled extension)
  keeps the locker's edit to LocalSettings.php and runs update.php.
"""
import http.client
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import urllib.parse

import pytest

from conftest import TEST_BASE, Lockerd, wait_for
from mariadb import MariaDB, available

MW_TREE = "/usr/share/mediawiki"
pytestmark = pytest.mark.skipif(not available() or not os.path.exists(MW_TREE + "/index.php"),
                                reason="mariadb-server or mediawiki not installed")


def mw_version(tree=MW_TREE):
    with open(os.path.join(tree, "includes", "Defines.php")) as f:
        return re.search(r"'MW_VERSION',\s*'([^']+)'", f.read()).group(1)


class Browser:
    """An HTTP client with cookies, to lockerd's port with the locker's Host."""

    def __init__(self, port, host):
        self.port, self.host, self.cookies = port, host, {}

    def request(self, method, path, form=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=180)
        h = {"Host": f"{self.host}:{self.port}", "Connection": "close"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value == "deleted" or "expires=Thu, 01 Jan 1970" in v or "Max-Age=0" in v:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, form):
        return self.request("POST", path, form=form)


@pytest.fixture(scope="module")
def mariadb():
    os.makedirs(TEST_BASE, exist_ok=True)
    m = MariaDB(tempfile.mkdtemp(prefix="mdbmw", dir=TEST_BASE)).start()
    yield m
    m.cleanup()


NEXT = mw_version() + ".1"      # the synthetic next release


@pytest.fixture(scope="module")
def releases():
    """app-releases: a next MediaWiki, Debian's tree copied as it is (its
    shims kept, as an updated package has them), MW_VERSION bumped, a file
    added to a bundled extension.  Root's, as the master wants it."""
    os.makedirs(TEST_BASE, exist_ok=True)
    top = tempfile.mkdtemp(prefix="relmw", dir=TEST_BASE)
    os.chmod(top, 0o755)
    rel = os.path.join(top, "mediawiki", NEXT)
    shutil.copytree(MW_TREE, rel, symlinks=True)
    defines = os.path.join(rel, "includes", "Defines.php")
    with open(defines) as f:
        text = f.read()
    new = text.replace(f"'MW_VERSION', '{mw_version()}'", f"'MW_VERSION', '{NEXT}'")
    assert new != text
    with open(defines, "w") as f:
        f.write(new)
    with open(os.path.join(rel, "extensions-core", "Cite", "synthetic-next.txt"), "w") as f:
        f.write("added by the next release\n")
    yield top
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def site(build_dir, mariadb, releases):
    """lockerd with the SQL service and the releases; a locker."""
    d = Lockerd(build_dir, extra=f"sql mariadb {mariadb.socket} {mariadb.creds_file}\n"
                f"app-releases {releases}\nscript-timeout 120\n").start()
    name = "mw" + secrets.token_hex(3)
    info = d.signup(name)
    d.mariadb = mariadb
    d.name, d.home, d.uid, d.gid = name, info["home"], info["uid"], info["gid"]
    d.host = f"{name}.{d.domain}"
    yield d
    d.cleanup()


def cli(d, *args, timeout=900):
    """`locker ARGS` as root, not checked: lockerd-app's work takes minutes
    on a loaded machine (conftest's CLI waits 30 s)."""
    return subprocess.run([os.path.join(d.build, "locker"), "-c", d.conf, *args],
                          capture_output=True, text=True, timeout=timeout)


def install(d, sub, *extra):
    r = cli(d, "install", d.name, "mediawiki", "--path", sub, "--to", mw_version(),
            "--title", "Locker Wiki", "--admin", "wikiboss", *extra)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and f"installed mediawiki {mw_version()}" in out, out
    pw = re.search(r"password\W+([A-Za-z0-9]{12,})", r.stdout)
    assert pw, out
    return dict(dir=f"{d.home}/web_scripts/{sub}", password=pw.group(1), sub=sub)


@pytest.fixture(scope="module")
def wiki(site):
    return install(site, "mw")


def test_sqlite_install_serves_main_page_by_short_url(site, wiki):
    st, _, body = Browser(site.port, site.host).get("/mw/wiki/Main_Page")
    assert st == 200 and "MediaWiki has been installed" in body, (st, body[:2000])
    assert 'href="/mw/wiki/' in body            # its own links are short URLs
    assert "<title>Locker Wiki</title>" in body
    # Upstream's layout: real directories where Debian had its shims.
    d = wiki["dir"]
    for rel in ("LocalSettings.php", "extensions", "images", "cache", "data"):
        assert not os.path.islink(os.path.join(d, rel)), rel
    assert os.path.isfile(os.path.join(d, "extensions", "Cite", "extension.json"))
    assert not os.path.exists(os.path.join(d, "extensions-core"))
    assert os.path.isfile(os.path.join(d, "data", "wiki.sqlite"))
    st = os.stat(os.path.join(d, "data"))
    assert (st.st_uid, st.st_mode & 0o777) == (site.uid, 0o700)
    assert not [f for f in os.listdir(os.path.join(d, "data")) if f.startswith(".lockerd-")]
    # The database and caches are run-time data, out of git; the
    # configuration is the install's own commit.
    files = subprocess.run(["git", "-c", "safe.directory=*", "-C", d, "ls-files"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert "LocalSettings.php" in files and ".htaccess" in files and "data/.htaccess" in files
    assert not [f for f in files if f.startswith(("data/wiki", "cache/l10n"))], files


@pytest.mark.parametrize("path", ["/mw/data/wiki.sqlite", "/mw/data/", "/mw/cache/",
                                  "/mw/includes/Setup.php", "/mw/.git/config"])
def test_sqlite_database_is_never_served(site, wiki, path):
    """The hostile visitor's side: the wiki's database (its password hashes)
    and its caches are refused, and not a byte of them leaks."""
    st, _, body = Browser(site.port, site.host).get(path)
    assert st in (403, 404), (path, st, body[:300])
    assert "SQLite format 3" not in body


def login_token(body):
    """The login form's token (MediaWiki writes the value before the name)."""
    tag = re.search(r'<input[^>]*name="wpLoginToken"[^>]*>', body)
    assert tag, body[:3000]
    return re.search(r'value="([^"]+)"', tag.group(0)).group(1)


def test_admin_logs_in_and_edits_a_page(site, wiki):
    b = Browser(site.port, site.host)
    st, _, body = b.get("/mw/index.php?title=Special:UserLogin")
    assert st == 200, (st, body[:1000])
    token = login_token(body)
    st, h, body = b.post("/mw/index.php?title=Special:UserLogin", {
        "wpName": "wikiboss", "wpPassword": wiki["password"], "wpLoginToken": token,
        "authAction": "login", "title": "Special:UserLogin", "force": "",
        "wploginattempt": "Log in"})
    assert st == 302 and any(k.endswith("UserName") for k in b.cookies), (st, h, body[-1500:])
    st, _, body = b.get("/mw/api.php?action=query&meta=tokens&type=csrf&format=json")
    csrf = json.loads(body)["query"]["tokens"]["csrftoken"]
    assert csrf != "+\\", "the session is not logged in"
    st, _, body = b.post("/mw/api.php", {
        "action": "edit", "title": "Lockerd test", "text": "Written by the admin: plover-xyzzy",
        "summary": "a test edit", "token": csrf, "format": "json"})
    assert st == 200 and json.loads(body)["edit"]["result"] == "Success", body[:1000]
    st, _, body = Browser(site.port, site.host).get("/mw/wiki/Lockerd_test")
    assert st == 200 and "plover-xyzzy" in body, (st, body[:1000])
    wiki["edited"] = True
    # A wrong password is MediaWiki's refusal.
    other = Browser(site.port, site.host)
    _, _, body = other.get("/mw/index.php?title=Special:UserLogin")
    token = login_token(body)
    st, _, body = other.post("/mw/index.php?title=Special:UserLogin", {
        "wpName": "wikiboss", "wpPassword": "not-" + wiki["password"], "wpLoginToken": token,
        "authAction": "login", "title": "Special:UserLogin", "wploginattempt": "Log in"})
    assert st == 200 and not any(k.endswith("UserName") for k in other.cookies)


def test_mariadb_install_serves_main_page(site):
    w = install(site, "mwdb", "--db", "mariadb")
    row = [x for x in json.loads(cli(site, "--json", "installs", site.name).stdout)
           if x["path"] == "mwdb"]
    assert row and row[0]["app"] == "mediawiki", row
    with open(os.path.join(w["dir"], "LocalSettings.php")) as f:
        dbname = re.search(r'\$wgDBname = "([^"]+)";', f.read()).group(1)
    assert dbname.startswith(site.name + "+"), dbname
    st, _, body = Browser(site.port, site.host).get("/mwdb/wiki/Main_Page")
    assert st == 200 and "MediaWiki has been installed" in body, (st, body[:2000])
    assert 'href="/mwdb/wiki/' in body
    # The wiki's tables are in the master's database, made by the locker's
    # own account; no SQLite file was made.
    tables = site.mariadb.root(f"SHOW TABLES FROM `{dbname}`").stdout.split()
    assert "page" in tables and "user" in tables, tables
    assert not [f for f in os.listdir(os.path.join(w["dir"], "data")) if f.endswith(".sqlite")]
    with open(os.path.join(w["dir"], "LocalSettings.php")) as f:
        text = f.read()
    assert '$wgDBtype = "mysql";' in text


def test_upgrade_keeps_local_settings_edit_and_runs_update(site, wiki):
    settings = os.path.join(wiki["dir"], "LocalSettings.php")
    with open(settings, "a") as f:
        f.write('\n# the locker\'s own edit\n$wgSitename = "Heron-7 Wiki";\n')
    st, _, body = Browser(site.port, site.host).get("/mw/wiki/Main_Page")
    assert st == 200 and "Heron-7 Wiki" in body
    # update.php purges the wiki's object cache: a row of ours there goes.
    dbfile = os.path.join(wiki["dir"], "data", "wiki.sqlite")
    db = sqlite3.connect(dbfile)
    db.execute("INSERT INTO objectcache (keyname, value, exptime) "
               "VALUES ('lockerd-test-sentinel', x'00', '20991231000000')")
    db.commit()
    db.close()
    new = NEXT
    r = cli(site, "upgrade", site.name, "--path", "mw", "--to", new)
    assert r.returncode == 0 and "upgraded mediawiki" in r.stdout, r.stdout + r.stderr
    row = [x for x in json.loads(cli(site, "--json", "installs", site.name).stdout)
           if x["path"] == "mw"]
    assert row and row[0]["version"] == new, row
    # (polled: PHP looks again at a compiled file at most every 2 s,
    # opcache.revalidate_freq in script.c)
    seen = []

    def served_new():
        st, _, body = Browser(site.port, site.host).get("/mw/wiki/Special:Version")
        seen[:] = [st, body[:1000]]
        return st == 200 and new in body
    assert wait_for(served_new), seen
    st, _, body = Browser(site.port, site.host).get("/mw/wiki/Main_Page")
    assert st == 200 and "Heron-7 Wiki" in body        # the edit kept
    with open(settings) as f:
        assert "Heron-7 Wiki" in f.read()
    # The release's new file, in upstream's place (extensions/, where the
    # install keeps Debian's extensions-core).
    assert os.path.isfile(os.path.join(wiki["dir"], "extensions", "Cite", "synthetic-next.txt"))
    # update.php ran on the wiki's database (its cache purge took our row).
    db = sqlite3.connect(dbfile)
    left = db.execute("SELECT COUNT(*) FROM objectcache WHERE keyname = "
                      "'lockerd-test-sentinel'").fetchone()[0]
    db.close()
    assert left == 0
    if wiki.get("edited"):        # the page written before the upgrade is still there
        st, _, body = Browser(site.port, site.host).get("/mw/wiki/Lockerd_test")
        assert st == 200 and "plover-xyzzy" in body
