"""Issue 16: the WordPress and phpMyAdmin recipes of the autoinstaller.

One real MariaDB (tests/integration/mariadb.py) and one lockerd with the
SQL service and its own app-releases directory for the module, one
locker.  Everything goes through the CLI as its admin would: `locker
install` (the master signs the locker up for SQL, makes NAME+wp, and runs
lockerd-app as the locker in its sandbox), `locker upgrade --to`.

- WordPress: installed by WordPress's own wp_install() from php-cli; its
  front page has the title; its admin logs in (wp-login.php, the printed
  password, cookies) and reaches wp-admin; a post written through the REST
  API (as the block editor writes it, with the cookie's nonce) shows on the
  front page, and its pretty permalink reaches it.
- An upgrade to a synthetic next WordPress (a copy of Debian's tree,
  version.php and $wp_db_version bumped so wp_upgrade() really runs, one
  file changed) keeps a local edit to a theme file; a synthetic version
  whose database upgrade changes the database and then dies is rolled
  back: the old version and the old database serve.
- phpMyAdmin: its login form takes the locker's own MariaDB account
  (~/.sql/my.cnf) and lists its databases; its code directories answer 403.
"""
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import urllib.parse

import pytest

from conftest import TEST_BASE, Lockerd, wait_for
from mariadb import MariaDB, available

pytestmark = pytest.mark.skipif(not available() or not os.path.exists("/usr/share/wordpress")
                                or not os.path.exists("/usr/share/phpmyadmin"),
                                reason="mariadb-server, wordpress or phpmyadmin not installed")

WP_TREE = "/usr/share/wordpress"
PMA_TREE = "/usr/share/phpmyadmin"
THEME_CSS = "wp-content/themes/twentytwentythree/style.css"


def tree_version(tree, rel, key):
    with open(os.path.join(tree, rel)) as f:
        return re.search(re.escape(key) + r"\s*'([^']+)'", f.read()).group(1)


WP_VERSION = tree_version(WP_TREE, "wp-includes/version.php", "$wp_version =")


class Browser:
    """An HTTP client with cookies, to lockerd's port with the locker's Host."""

    def __init__(self, port, host):
        self.port, self.host, self.cookies = port, host, {}

    def request(self, method, path, form=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = {"Host": self.host, "Connection": "close"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if "expires=Thu, 01-Jan-1970" in v or "Max-Age=0" in v or value == "deleted":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form, **kw):
        return self.request("POST", path, form=form, **kw)


@pytest.fixture(scope="module")
def mariadb():
    os.makedirs(TEST_BASE, exist_ok=True)
    m = MariaDB(tempfile.mkdtemp(prefix="mdbwp", dir=TEST_BASE)).start()
    yield m
    m.cleanup()


@pytest.fixture(scope="module")
def releases():
    """The module's app-releases: synthetic next versions, root's, read-only
    in every jail."""
    os.makedirs(TEST_BASE, exist_ok=True)
    d = tempfile.mkdtemp(prefix="rel", dir=TEST_BASE)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def site(build_dir, mariadb, releases):
    """lockerd with the SQL service and app-releases; a locker."""
    d = Lockerd(build_dir, extra=f"sql mariadb {mariadb.socket} {mariadb.creds_file}\n"
                f"app-releases {releases}\n").start()
    name = "wp" + secrets.token_hex(3)
    info = d.signup(name)
    d.mariadb, d.releases = mariadb, releases
    d.name, d.home, d.uid, d.gid = name, info["home"], info["uid"], info["gid"]
    yield d
    d.cleanup()


def cli(d, *args, timeout=600):
    """`locker --json ARGS`: (exit code, lockerd-app's JSON line, output)."""
    r = subprocess.run([os.path.join(d.build, "locker"), "-c", d.conf, "--json"] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    return r.returncode, (json.loads(lines[-1]) if lines else {}), r.stdout + r.stderr


def installed(d, path):
    """The master's row of the install at path (`locker installs`)."""
    rows = json.loads(d.locker("--json", "installs", d.name).stdout)
    return {r["path"]: r for r in rows}[path]


def mycnf(d):
    with open(os.path.join(d.home, ".sql", "my.cnf")) as f:
        return dict(ln.strip().split("=", 1) for ln in f if "=" in ln and not ln.startswith(";"))


def sql(d, query):
    c = mycnf(d)
    r = d.mariadb.query(c["user"], c["password"], query, database=f"{d.name}+wp")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def generator(body):
    """The WordPress version a page says it was made by."""
    m = re.search(r'<meta name="generator" content="WordPress ([^"]+)"', body)
    return m and m.group(1)


@pytest.fixture(scope="module")
def wp(site):
    rc, res, out = cli(site, "install", site.name, "wordpress", "--path", "blog",
                       "--title", "Lockerd Test Blog", "--admin", "boss",
                       "--email", "boss@example.org")
    assert rc == 0 and res.get("result") == "installed", out
    assert res.get("password") and res.get("to") == WP_VERSION, res
    # The URL the master gave it (the listener's port in it): WordPress
    # answers for that host and redirects any other to it.
    site.host = urllib.parse.urlparse(res["url"]).netloc
    return dict(password=res["password"], dir=f"{site.home}/web_scripts/blog", url=res["url"])


def wp_login(site, wp):
    b = Browser(site.port, site.host)
    b.get("/blog/wp-login.php")         # WordPress's test cookie
    st, h, body = b.post("/blog/wp-login.php", {
        "log": "boss", "pwd": wp["password"], "wp-submit": "Log In", "testcookie": "1",
        "redirect_to": wp["url"] + "wp-admin/"})
    assert st == 302 and any(k.startswith("wordpress_logged_in_") for k in b.cookies), \
        (st, h, body[-2000:])
    return b


def test_wordpress_front_page_has_the_title(site, wp):
    st, _, body = Browser(site.port, site.host).get("/blog/")
    assert st == 200 and "<title>Lockerd Test Blog</title>" in body, (st, body[:2000])
    assert generator(body) == WP_VERSION
    # The configuration is the recipe's: the locker's own account, the
    # master's database, fresh salts, the file the locker's alone.
    with open(os.path.join(wp["dir"], "wp-config.php")) as f:
        cfg = f.read()
    assert f"define('DB_NAME', '{site.name}+wp')" in cfg and "define('DB_HOST', 'localhost')" in cfg
    assert len(set(re.findall(r"_(?:KEY|SALT)', '([0-9a-f]{64})'", cfg))) == 8, cfg
    st = os.stat(os.path.join(wp["dir"], "wp-config.php"))
    assert (st.st_uid, st.st_mode & 0o777) == (site.uid, 0o600)
    with open(os.path.join(wp["dir"], ".htaccess")) as f:
        assert "RewriteBase /blog/\n" in f.read()
    assert sql(site, "SELECT option_value FROM wp_options WHERE option_name='permalink_structure'") \
        == "/%year%/%monthnum%/%postname%/"


def test_wordpress_admin_logs_in_and_posts(site, wp):
    b = wp_login(site, wp)
    st, _, body = b.get("/blog/wp-admin/")
    assert st == 200 and "Dashboard" in body, (st, body[:1000])
    # WordPress's own core updater is lockerd's (a must-use plugin).
    st, _, body = b.post("/blog/wp-admin/update-core.php?action=do-core-reinstall", {})
    assert "Sorry, you are not allowed to update this site." in body, (st, body[:1000])
    # The block editor's way to save: the REST API, with the nonce of the
    # logged-in session.
    st, _, nonce = b.get("/blog/wp-admin/admin-ajax.php?action=rest-nonce")
    assert st == 200 and re.fullmatch(r"[0-9a-f]{10}", nonce), (st, nonce)
    st, _, body = b.post("/blog/wp-json/wp/v2/posts", {
        "title": "Written through lockerd", "content": "The body: plover-xyzzy",
        "status": "publish"}, headers={"X-WP-Nonce": nonce})
    assert st == 201, (st, body[:1000])
    link = urllib.parse.urlparse(json.loads(body)["link"]).path
    assert re.fullmatch(r"/blog/\d{4}/\d{2}/written-through-lockerd/", link), link
    anon = Browser(site.port, site.host)
    st, _, body = anon.get("/blog/")
    assert st == 200 and "Written through lockerd" in body
    st, _, body = anon.get(link)
    assert st == 200 and "plover-xyzzy" in body, (st, body[:1000])
    wp["post"] = link


def test_wordpress_with_defaults_gets_its_own_database(site, wp):
    """A second WordPress, nothing but the path given: the defaults (the
    title, the admin), a database of its own beside the first's, and the
    password as the human output prints it logs in."""
    r = subprocess.run([os.path.join(site.build, "locker"), "-c", site.conf, "install",
                        site.name, "wordpress", "--path", "blog2"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"admin: (\S+)\s+password: (\S+)", r.stdout)
    assert m and m.group(1) == "admin", r.stdout
    with open(os.path.join(site.home, "web_scripts/blog2/wp-config.php")) as f:
        db2 = re.search(r"define\('DB_NAME', '([^']+)'\)", f.read()).group(1)
    assert db2.startswith(site.name + "+") and db2 != f"{site.name}+wp", db2
    b = Browser(site.port, site.host)
    st, _, body = b.get("/blog2/")
    assert st == 200 and "<title>wordpress</title>" in body, (st, body[:600])
    b.get("/blog2/wp-login.php")
    st, _, body = b.post("/blog2/wp-login.php", {
        "log": "admin", "pwd": m.group(2), "wp-submit": "Log In", "testcookie": "1"})
    assert st == 302 and any(k.startswith("wordpress_logged_in_") for k in b.cookies), st
    # The first blog is untouched by the second.
    st, _, body = Browser(site.port, site.host).get("/blog/")
    assert "<title>Lockerd Test Blog</title>" in body


def synthetic_release(site, version, db_version, changes):
    """A next WordPress: Debian's tree copied (symlinks dereferenced, as
    an administrator's unpacked release has none), version.php bumped,
    files changed ({rel: function(text) -> text}), in app-releases."""
    rel = os.path.join(site.releases, "wordpress", version)
    shutil.rmtree(rel, ignore_errors=True)
    shutil.copytree(WP_TREE, rel, symlinks=False)
    changes = dict(changes)
    changes["wp-includes/version.php"] = lambda t: re.sub(
        r"\$wp_db_version = \d+;", f"$wp_db_version = {db_version};",
        t.replace(f"$wp_version = '{WP_VERSION}';", f"$wp_version = '{version}';"))
    for path, change in changes.items():
        p = os.path.join(rel, path)
        with open(p) as f:
            text = f.read()
        new = change(text)
        assert new != text, path
        os.unlink(p)
        with open(p, "w") as f:
            f.write(new)
    return rel


def current_db_version():
    with open(os.path.join(WP_TREE, "wp-includes/version.php")) as f:
        return int(re.search(r"\$wp_db_version = (\d+);", f.read()).group(1))


def test_wordpress_upgrade_keeps_a_theme_edit(site, wp):
    css = os.path.join(wp["dir"], THEME_CSS)
    with open(css, "a") as f:
        f.write("\n/* the locker's own edit: heron-7 */\n")
    new = WP_VERSION + ".1"
    db = current_db_version() + 1
    synthetic_release(site, new, db, {
        "readme.html": lambda t: t.replace("</body>", "<p>synthetic-next-release</p></body>")})
    rc, res, out = cli(site, "upgrade", site.name, "--path", "blog", "--to", new)
    assert rc == 0 and res.get("result") == "upgraded", out
    # (polled: the locker's PHP looks again at a file it compiled at most
    # every 2 s, opcache.revalidate_freq in script.c; a fresh-clone CI run
    # saw the old version.php's 6.1.9 just after the upgrade)
    seen = []

    def served_new():
        st, _, body = Browser(site.port, site.host).get("/blog/")
        seen[:] = [st, body[:600]]
        return st == 200 and generator(body) == new
    assert wait_for(served_new), seen
    with open(css) as f:
        assert "heron-7" in f.read()
    with open(os.path.join(wp["dir"], "readme.html")) as f:
        assert "synthetic-next-release" in f.read()
    assert installed(site, "blog")["version"] == new
    # wp_upgrade() ran: the database is at the new $wp_db_version.
    assert sql(site, "SELECT option_value FROM wp_options WHERE option_name='db_version'") == str(db)
    if "post" in wp:
        st, _, body = Browser(site.port, site.host).get(wp["post"])
        assert st == 200 and "plover-xyzzy" in body


def test_wordpress_failing_db_upgrade_rolls_back(site, wp):
    b = Browser(site.port, site.host)
    st, _, body = b.get("/blog/")
    before = generator(body)
    assert st == 200 and before
    db_before = sql(site, "SELECT option_value FROM wp_options WHERE option_name='db_version'")
    new = WP_VERSION + ".9"
    # Its database upgrade changes the database, then dies (exit status 0,
    # as WordPress's own die() calls do).
    synthetic_release(site, new, int(db_before) + 1, {
        "wp-admin/includes/upgrade.php": lambda t: t.replace(
            "function upgrade_all() {",
            "function upgrade_all() { update_option('blogname', 'half-upgraded');"
            " die('synthetic failure');", 1)})
    rc, res, out = cli(site, "upgrade", site.name, "--path", "blog", "--to", new)
    assert rc != 0 and res.get("result") == "rolled-back", out
    assert "wp_upgrade" in out, out
    st, _, body = b.get("/blog/")
    assert st == 200 and generator(body) == before, (st, body[:600])
    assert "<title>Lockerd Test Blog</title>" in body and "half-upgraded" not in body
    assert installed(site, "blog")["version"] == before
    assert sql(site, "SELECT option_value FROM wp_options WHERE option_name='db_version'") \
        == db_before
    if "post" in wp:
        st, _, body = b.get(wp["post"])
        assert st == 200 and "plover-xyzzy" in body


# --- phpMyAdmin ---------------------------------------------------------------

@pytest.fixture(scope="module")
def pma(site, wp):
    d = f"{site.home}/web_scripts/pma"
    rc, res, out = cli(site, "install", site.name, "phpmyadmin", "--path", "pma")
    assert rc == 0 and res.get("result") == "installed", out
    # No admin password of its own: the locker's MariaDB account logs in.
    assert "password" not in res, res
    with open(os.path.join(d, ".lockerd-app")) as f:
        meta = dict(ln.rstrip("\n").split("=", 1) for ln in f if "=" in ln)
    assert meta["admin"] == mycnf(site)["user"] and meta["password"] == "", meta
    return dict(dir=d)


def test_phpmyadmin_lists_the_lockers_databases(site, pma):
    """Its own databases, and not another locker's (hostile: the other
    locker's database exists on the same MariaDB)."""
    other = "ot" + secrets.token_hex(3)
    site.signup(other)
    site.locker("sql", "signup", other)
    site.locker("sql", "create", other, "secret")
    c = mycnf(site)
    b = Browser(site.port, site.host)
    st, _, body = b.get("/pma/")
    assert st == 200, (st, body[:1000])
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    form = {"pma_username": c["user"], "pma_password": c["password"], "server": "1",
            "token": token, "route": "/"}
    m = re.search(r'name="set_session" value="([^"]+)"', body)
    if m:
        form["set_session"] = m.group(1)
    st, h, body = b.post("/pma/index.php?route=/", form)
    assert st == 302 and "pmaAuth-1" in b.cookies, (st, h, body[:1000])
    st, _, body = b.get("/pma/index.php?route=/server/databases")
    assert st == 200 and f"{site.name}+wp" in body, (st, body[:3000])
    assert f"{other}+secret" not in body and f"{other}+" not in body
    # A wrong password is phpMyAdmin's refusal, not a way in.
    other = Browser(site.port, site.host)
    st, _, body = other.get("/pma/")
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    form.update(token=token, pma_password="not-" + c["password"])
    form.pop("set_session", None)
    other.post("/pma/index.php?route=/", form)
    st, _, body = other.get("/pma/index.php?route=/server/databases")
    assert f"{site.name}+wp" not in body


@pytest.mark.parametrize("path", ["libraries/config.default.php", "templates/login/form.twig",
                                  "sql/create_tables.sql", "tmp/"])
def test_phpmyadmin_code_is_not_served(site, pma, path):
    st, _, body = Browser(site.port, site.host).get("/pma/" + path)
    assert st == 403, (path, st, body[:300])


def test_phpmyadmin_configuration(site, pma):
    with open(os.path.join(pma["dir"], "config.inc.php")) as f:
        cfg = f.read()
    assert re.search(r"sodium_hex2bin\('[0-9a-f]{64}'\)", cfg) and "'cookie'" in cfg
    assert os.stat(os.path.join(pma["dir"], "config.inc.php")).st_mode & 0o777 == 0o600
    with open(os.path.join(pma["dir"], "libraries/vendor_config.php")) as f:
        vc = f.read()
    assert "/etc/phpmyadmin" not in vc and "/var/lib/phpmyadmin" not in vc


def test_phpmyadmin_upgrade_keeps_its_configuration(site, pma):
    """A synthetic next phpMyAdmin (its version bumped, one file changed):
    the install's own config.inc.php, vendor_config.php pointed inside the
    install and a local edit stay; the login still works."""
    version = tree_version(PMA_TREE, "libraries/classes/Version.php", "const VERSION =")
    new = version + ".1"
    rel = os.path.join(site.releases, "phpmyadmin", new)
    shutil.copytree(PMA_TREE, rel, symlinks=False)
    for path, old, repl in (("libraries/classes/Version.php", f"VERSION = '{version}'",
                             f"VERSION = '{new}'"),
                            ("robots.txt", "Disallow", "Disallow: /synthetic-next\nDisallow")):
        p = os.path.join(rel, path)
        with open(p) as f:
            text = f.read()
        assert old in text, path
        os.unlink(p)
        with open(p, "w") as f:
            f.write(text.replace(old, repl, 1))
    with open(os.path.join(pma["dir"], "config.inc.php")) as f:
        cfg = f.read()
    with open(os.path.join(pma["dir"], "config.inc.php"), "a") as f:
        f.write("$cfg['LoginCookieValidity'] = 7200; /* the locker's own edit */\n")
    rc, res, out = cli(site, "upgrade", site.name, "--path", "pma", "--to", new)
    assert rc == 0 and res.get("result") == "upgraded", out
    with open(os.path.join(pma["dir"], "config.inc.php")) as f:
        assert f.read() == cfg + "$cfg['LoginCookieValidity'] = 7200; /* the locker's own edit */\n"
    with open(os.path.join(pma["dir"], "robots.txt")) as f:
        assert "synthetic-next" in f.read()
    assert installed(site, "pma")["version"] == new
    c = mycnf(site)
    b = Browser(site.port, site.host)
    st, _, body = b.get("/pma/")
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    st, _, body = b.post("/pma/index.php?route=/", {
        "pma_username": c["user"], "pma_password": c["password"], "server": "1",
        "token": token, "route": "/"})
    st, _, body = b.get("/pma/index.php?route=/server/databases")
    assert st == 200 and f"{site.name}+wp" in body, (st, body[:2000])
