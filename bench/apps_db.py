"""bench/apps_db.py BUILD_DIR: WordPress's front page and a MediaWiki page,
both on MariaDB, through lockerd against the same installs under nginx +
php-fpm with the same MariaDB (issue 16's benchmark).

One mariadbd (tests/integration/mariadb.py's harness: Debian's server on a
private data directory and socket) serves both sides.  lockerd administers
it (`sql mariadb SOCKET CREDENTIALS`); two lockers are signed up to it, and
each gets its application by lockerd's autoinstaller when the build has it
(`locker install NAME wordpress|mediawiki --db mariadb`), else the way a
person would install them (the files copied from Debian's packages,
WordPress's wp_install() and MediaWiki's maintenance/install.php run as the
locker).  The same installed copies (paths and server names changed where
the application wrote them) are then served by nginx + php-fpm, a pool per
application as a user of its own with as many PHP processes as lockerd's
pool, PHP's MariaDB socket pointed at the same server, and the same
database and account: both sides read the same rows.

Pages: WordPress's front page (its default post, through its theme) and
MediaWiki's Main Page by its long URL (nginx applies no .htaccess).  Both
servers are up at once and measured in turns as bench/apps.py does (its
measure(), median of APPS_ROUNDS), each page checked before and after.
Figures are printed, never asserted.
"""
import os
import pwd
import re
import secrets
import subprocess
import sys
import tempfile

# Uids and users of this bench's own (scale.py's clean-up kills every
# process in its range and removes its users): apart from bench/apps.py's.
os.environ.setdefault("SCALE_UIDS", "352000-352999")
os.environ.setdefault("SCALE_FPM_UID", "353000")
os.environ.setdefault("SCALE_USER_PREFIX", "lkappdb")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import apps as A                                      # noqa: E402 - after the path
import scale as S                                     # noqa: E402
from mariadb import MariaDB, available                # noqa: E402

ENV = os.environ.get
WHICH = (ENV("APPS_DB_PAGES") or "wp-front mw-main-db").split()

# app: (Debian's file that says it is installed, locker, path in web_scripts)
APPS = {"wordpress": ("/usr/share/wordpress/wp-settings.php", "wpdb", "wp"),
        "mediawiki": ("/usr/share/mediawiki/index.php", "mwdb", "mw")}
PAGES = {
    "wp-front": ("wordpress", "WordPress front page (MariaDB)", "/wp/",
                 b"Hello world!"),
    "mw-main-db": ("mediawiki", "MediaWiki Main Page (MariaDB)", "/mw/index.php?title=Main_Page",
                   b"MediaWiki has been installed"),
}
for _c, (_app, _label, _path, _want) in PAGES.items():
    A.PAGES[_c] = (_app, _label, _path, _want)      # apps.py's measure() and report

WP_INSTALL = r"""<?php
// WordPress's own installer, as wp-cli's `core install` calls it.
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = $argv[1];
$_SERVER['REQUEST_URI'] = '/wp/';
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$r = wp_install('Locker blog', 'admin', 'admin@example.org', true, '', $argv[3]);
update_option('siteurl', $argv[2]);
update_option('home', $argv[2]);
echo "installed, user ", $r['user_id'], "\n";
"""


def cnf(home):
    with open(os.path.join(home, ".sql", "my.cnf")) as f:
        return dict(ln.strip().split("=", 1) for ln in f if "=" in ln and not ln.startswith("#"))


def has_install_verb(ld):
    r = subprocess.run([os.path.join(S.BUILD, "locker"), "-c", ld.conf, "help"],
                       capture_output=True, text=True)
    return re.search(r"^\s*install\b|\binstall NAME", r.stdout + r.stderr, re.M) is not None


def by_verb(ld, name, app, sub, dbname):
    """lockerd's autoinstaller: `locker install` (its --db mariadb for MediaWiki)."""
    args = ["install", name, app, "--path", sub]
    if app == "mediawiki":
        args += ["--db", "mariadb"]
    r = subprocess.run([os.path.join(S.BUILD, "locker"), "-c", ld.conf] + args,
                       capture_output=True, text=True)
    if r.returncode != 0:
        S.die("locker %s: %s%s" % (" ".join(args), r.stdout[-1500:], r.stderr[-1500:]))
    return "locker install"


def wp_by_hand(ld, name, home, uid, gid, dbname):
    root = os.path.join(home, "web_scripts", "wp")
    A.copy_tree("/usr/share/wordpress", root, uid, gid)
    c = cnf(home)
    with open("/usr/share/wordpress/wp-config-sample.php") as f:
        cfg = f.read()
    cfg = (cfg.replace("database_name_here", dbname).replace("username_here", c["user"])
           .replace("password_here", c["password"]))
    while "put your unique phrase here" in cfg:
        cfg = cfg.replace("put your unique phrase here", secrets.token_hex(24), 1)
    A.write_as(os.path.join(root, "wp-config.php"), cfg, uid, gid, 0o600)
    if os.path.lexists(os.path.join(root, ".htaccess")):
        os.unlink(os.path.join(root, ".htaccess"))
    A.write_as(os.path.join(root, "lockerd-install.php"), WP_INSTALL, uid, gid)
    # The address the bench's clients ask by: WordPress redirects any
    # other to its own.
    A.run_as_locker(ld, name, ["/usr/bin/php", os.path.join(root, "lockerd-install.php"),
                               ld.host(name), "http://%s:%d/wp" % (ld.host(name), ld.port),
                               secrets.token_hex(12)], "WordPress's wp_install()")
    os.unlink(os.path.join(root, "lockerd-install.php"))


def mw_by_hand(ld, name, home, uid, gid, dbname):
    root = os.path.join(home, "web_scripts", "mw")
    A.copy_tree("/usr/share/mediawiki", root, uid, gid)
    for p in ("LocalSettings.php",):
        if os.path.lexists(os.path.join(root, p)):
            os.unlink(os.path.join(root, p))
    c = cnf(home)
    A.run_as_locker(ld, name, ["/usr/bin/php", os.path.join(root, "maintenance", "install.php"),
                               "--dbtype", "mysql", "--dbserver", "localhost",
                               "--dbname", dbname, "--installdbuser", c["user"],
                               "--installdbpass", c["password"], "--dbuser", c["user"],
                               "--dbpass", c["password"],
                               "--server", "http://%s:%d" % (ld.host(name), ld.port),
                               "--scriptpath", "/mw", "--lang", "en",
                               "--pass", secrets.token_hex(12), "--", "Locker Wiki", "Admin"],
                    "MediaWiki's install.php")
    with open(os.path.join(root, "LocalSettings.php"), "a") as f:
        f.write('\n$wgCacheDirectory = "$IP/cache";\n')


def fpm_site(home, base, sub, uid, gid, ld, name, fhost):
    """The installed site for php-fpm's user: the same files, its paths and
    server name changed where the application wrote them."""
    A.copy_tree(os.path.join(home, "web_scripts"), os.path.join(base, "web_scripts"), uid, gid)
    root = os.path.join(base, "web_scripts", sub)
    for rel in ("LocalSettings.php", "wp-config.php"):
        p = os.path.join(root, rel)
        if not os.path.exists(p):
            continue
        with open(p) as f:
            text = f.read().replace(home, base)
        text = text.replace("http://%s:%d" % (ld.host(name), ld.port), "http://%s" % fhost)
        if rel == "wp-config.php":
            # The same database, so the same siteurl: the constants say
            # where this copy is, or WordPress redirects to lockerd's.
            assert text.startswith("<?php")
            text = ("<?php\ndefine('WP_HOME', 'http://%s/wp');\n"
                    "define('WP_SITEURL', 'http://%s/wp');\n" % (fhost, fhost)
                    + text[len("<?php"):])
        A.write_as(p, text, uid, gid, 0o600)
    # nginx (www-data) finds the files; php-fpm's user reads them.
    for d in (base, os.path.join(base, "web_scripts"), root):
        os.chmod(d, 0o755)


class AppsDB(A.Apps):
    """Both servers, one MariaDB, WordPress and MediaWiki on it."""

    def setup(self):
        for _, (marker, _, _) in APPS.items():
            if not os.path.exists(marker):
                S.die("%s is not installed (make deps-bench)" % marker)
        if not available():
            S.die("mariadb-server is not installed (make deps-bench)")
        sqldir = tempfile.mkdtemp(prefix="lockerd-appsdb-sql.", dir=S.TMPBASE)
        S._scratch.append(sqldir)
        self.m = MariaDB(sqldir).start()
        S._procs.insert(0, self.m.proc)     # stopped last, after lockerd's sqld
        self.scratch = tempfile.mkdtemp(prefix="lockerd-appsdb-wrk.", dir="/tmp")
        S._scratch.append(self.scratch)
        self.ld = ld = S.Lockerd("script-timeout 60\nphp-max-processes %d\nmax-scripts 64\n"
                                 "sql mariadb %s %s\nsql-max-connections 40"
                                 % (A.PHP_CHILDREN, self.m.socket, self.m.creds_file))
        ld.start()
        verb = has_install_verb(ld)
        self.how = "by `locker install`" if verb else "by hand (no `locker install` in this build)"
        homes = {}
        for app, (_, name, sub) in APPS.items():
            ld.signup(name)
            ld.locker("sql", "signup", name)
            i = ld.info(name)
            homes[app] = i
            ws = os.path.join(i["home"], "web_scripts")
            os.makedirs(ws, 0o700, exist_ok=True)
            os.chown(ws, i["uid"], i["gid"])
            dbname = None
            if not verb:
                ld.locker("sql", "create", name, "x")
                dbname = "%s+x" % name
            if verb:
                by_verb(ld, name, app, sub, dbname)
            elif app == "wordpress":
                wp_by_hand(ld, name, i["home"], i["uid"], i["gid"], dbname)
            else:
                mw_by_hand(ld, name, i["home"], i["uid"], i["gid"], dbname)
        base = tempfile.mkdtemp(prefix="lockerd-appsdb.", dir=S.TMPBASE)
        S._scratch.append(base)
        os.chmod(base, 0o755)
        self.fp = fp = S.FpmNginx(0, max_children=A.PHP_CHILDREN)
        users = ["%s%d" % (S.USER_PREFIX, k) for k in range(len(APPS))]
        S.make_users(users)
        self.hosts, sites = {}, []
        for (app, (_, name, sub)), user in zip(APPS.items(), users):
            pw = pwd.getpwnam(user)
            b = os.path.join(base, app)
            os.makedirs(b)
            fhost = "%s.fpm.test" % name
            fpm_site(homes[app]["home"], b, sub, pw.pw_uid, pw.pw_gid, ld, name, fhost)
            sites.append((user, fhost, os.path.join(b, "web_scripts")))
            # With lockerd's port, as its URL has it (WordPress redirects
            # a request for another host to its own).
            self.hosts[app] = ("%s:%d" % (ld.host(name), ld.port), fhost)
        fp.add_sites(sites)
        # PHP's MariaDB socket, as lockerd's jail has it at /run/mysqld.
        for k, part in enumerate(fp.fpm_conf):
            if any(part.startswith("[%s]" % u) for u in users):
                fp.fpm_conf[k] = part + ("php_admin_value[mysqli.default_socket] = %s\n"
                                         "php_admin_value[pdo_mysql.default_socket] = %s\n"
                                         % (self.m.socket, self.m.socket))
        fp.write_conf()
        fp.start()
        self.fpm_cg = A.fpm_cgroup(fp.fpm.pid)


def part_apps_db(tsv=None):
    A.WHICH = WHICH
    S.say("apps-db: %s, lockerd vs nginx + php-fpm, one MariaDB"
          % ", ".join(PAGES[c][1] for c in WHICH))
    a = AppsDB()
    a.setup()
    a.check_all()
    if ENV("APPS_HOLD"):
        a.hold(ENV("APPS_HOLD"))
    rows = a.measure()
    a.stop()
    A.report_rows(a, rows, tsv)
    S.note("apps-db: installed %s; WordPress and MediaWiki on one mariadbd, the same"
           " database and account from both sides" % a.how)


def main():
    if os.geteuid() != 0:
        S.die("run as root")
    part_apps_db(ENV("APPS_RESULTS"))
    S.report()


if __name__ == "__main__":
    main()
