"""Autoinstallers, the master's side (issue 16): `locker install|installs|
upgrade|rollback`, their authority and argument checks (refused with
nothing written), the installs table, `upgrade --all`'s report, the jail's
view of lockerd-app and the releases, and what the web never serves of an
install (.git, .lockerd-*).

One lockerd for the module, with app-releases pointing at a directory of
the module's (root's) that holds a synthetic next DokuWiki release.  The
tests that run lockerd-app itself (app-git's program, build/lockerd-app)
need it built: without it they are skipped, and the others still run.
"""
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import TEST_BASE, Lockerd, as_user, get, login_users, refused

MARK = "lockerd test_app_master"
NEXT = "2099-12-31a"        # the synthetic DokuWiki release, newer than Debian's
DOKU = "/usr/share/dokuwiki"


def doku_version():
    with open(os.path.join(DOKU, "VERSION")) as f:
        return f.read().split()[0]


@pytest.fixture(scope="module")
def releases():
    os.makedirs(TEST_BASE, exist_ok=True)
    top = tempfile.mkdtemp(prefix="rel", dir=TEST_BASE)
    os.chmod(top, 0o755)
    if os.path.isdir(DOKU):     # Debian's tree, one line changed
        tree = os.path.join(top, "dokuwiki", NEXT)
        shutil.copytree(DOKU, tree, symlinks=True)
        with open(os.path.join(tree, "VERSION"), "w") as f:
            f.write(f'{NEXT} "Synthetic"\n')
        with open(os.path.join(tree, "doku.php")) as f:
            text = f.read()
        with open(os.path.join(tree, "doku.php"), "w") as f:
            f.write(text.replace(" * DokuWiki mainscript", " * DokuWiki mainscript (2099)", 1))
    yield top
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def d(build_dir, releases):
    d = Lockerd(build_dir, extra=f"app-releases {releases}\napp-upgrade-parallel 3\n"
                "locker-network private\n").start()
    yield d
    d.cleanup()


@pytest.fixture(scope="module")
def users():
    with login_users(["appmown", "appmmal"], MARK) as u:
        yield u


def slow(d, *args):
    """`locker ARGS` as root, not checked, for what runs lockerd-app: its
    git work takes a while on a loaded machine (conftest's CLI waits 30 s)."""
    return subprocess.run([os.path.join(d.build, "locker"), "-c", d.conf, *args],
                          capture_output=True, text=True, timeout=600)


def have_app(build_dir):
    return os.access(os.path.join(build_dir, "lockerd-app"), os.X_OK)


def web_listing(d, name):
    top = os.path.join(d.info(name)["home"], "web_scripts")
    return sorted(os.path.relpath(os.path.join(r, f), top)
                  for r, ds, fs in os.walk(top) for f in ds + fs)


def installs(d, *name):
    return json.loads(d.locker("--json", "installs", *name).stdout)


def audit_actions(d, name):
    return [a["action"] for a in json.loads(d.locker("--json", "audit", name).stdout)]


def test_only_a_lockers_admins_install_and_only_root_upgrades_all(d, users):
    d.signup("amvictim")
    d.signup("amown")
    d.locker("admin", "add", "amown", "appmown")
    before = web_listing(d, "amvictim")
    for args in (["install", "amvictim", "dokuwiki"], ["installs", "amvictim"],
                 ["upgrade", "amvictim"], ["rollback", "amvictim"],
                 ["upgrade", "--opt-out", "amvictim", "--path", "dokuwiki"]):
        refused(as_user(d, "appmmal", *args), "not an admin of amvictim")
    refused(as_user(d, "appmown", "upgrade", "--all", "dokuwiki"),
            "only root may --all: upgrade every install")
    # an admin's own locker: no refusal for want of rights (what follows is
    # the install's business: without an install, no upgrade)
    r = as_user(d, "appmown", "upgrade", "amown")
    assert r.returncode == 1 and "amown has no install" in r.stderr, r.stderr
    # without NAME a user sees only their own lockers' installs
    assert json.loads(as_user(d, "appmmal", "--json", "installs").stdout) == []
    assert web_listing(d, "amvictim") == before
    assert installs(d) == []
    assert "app install" not in audit_actions(d, "amvictim")


BAD = [
    (["nosuch"], 2, 'unknown app "nosuch"'),
    (["dokuwiki", "--path", "/abs"], 2, "not absolute"),
    (["dokuwiki", "--path", "../up"], 2, "start with '.'"),
    (["dokuwiki", "--path", "a/../../b"], 2, "start with '.'"),
    (["dokuwiki", "--path", ".git"], 2, "start with '.'"),
    (["dokuwiki", "--path", "w/.lockerd"], 2, "start with '.'"),
    (["dokuwiki", "--path", "a//b"], 2, "empty part"),
    (["dokuwiki", "--path", "a/"], 2, "empty part"),
    (["dokuwiki", "--path", "a b"], 2, "only letters"),
    (["dokuwiki", "--path", "x$(id)"], 2, "only letters"),
    (["dokuwiki", "--title", "a;rm -rf ~"], 2, "';' is not allowed"),
    (["dokuwiki", "--title", "it's"], 2, "''' is not allowed"),
    (["dokuwiki", "--title", "`id`"], 2, "'`' is not allowed"),
    (["dokuwiki", "--title", "a\nb"], 2, "is not allowed"),
    (["dokuwiki", "--admin", "x' OR 1=1"], 2, "admin user"),
    (["dokuwiki", "--admin", "a b"], 2, "admin user"),
    (["dokuwiki", "--email", "nobody"], 2, "not an address"),
    (["dokuwiki", "--email", "a@b;reboot"], 2, "email"),
    (["dokuwiki", "--db", "postgres"], 2, "sqlite or mariadb"),
    (["dokuwiki", "--db", "mariadb"], 2, "no database to choose"),
    (["wordpress", "--db", "sqlite"], 2, "MariaDB only"),
    (["wordpress"], 1, "no SQL service here (sql none)"),
    (["phpmyadmin"], 1, "no SQL service here (sql none)"),
    (["mediawiki", "--db", "mariadb"], 1, "no SQL service here (sql none)"),
]


def test_bad_input_is_refused_with_nothing_written(d):
    d.signup("ambad")
    before = web_listing(d, "ambad")
    for args, code, what in BAD:
        r = d.locker("install", "ambad", *args, check=False)
        assert r.returncode == code and what in r.stderr, (args, r.returncode, r.stderr)
    for args, what in ((["--to", "1.0;rm"], "version 1.0;rm"),
                       (["--to", "../../etc"], "version ../../etc"),
                       (["--resolve", "--abort"], "usage"),
                       (["--opt-out", "--opt-in"], "usage"),
                       (["--opt-out", "--to", "1.0"], "usage"),
                       (["--path", "/etc"], "not absolute")):
        r = d.locker("upgrade", "ambad", *args, check=False)
        assert r.returncode == 2 and what in r.stderr, (args, r.returncode, r.stderr)
    # options of other verbs, and --all with a NAME or an unknown app
    assert d.locker("installs", "ambad", "--title", "x", check=False).returncode == 2
    assert d.locker("rollback", "ambad", "--to", "1", check=False).returncode == 2
    r = d.locker("upgrade", "--all", "nosuch", check=False)
    assert r.returncode == 2 and "usage: locker upgrade --all APP" in r.stderr, r.stderr
    r = d.locker("upgrade", "ambad", "dokuwiki", "--all", check=False)
    assert r.returncode == 2, r.stderr
    assert web_listing(d, "ambad") == before
    assert installs(d, "ambad") == []
    assert not any(a.startswith("app ") for a in audit_actions(d, "ambad"))


def test_git_and_lockerd_files_of_an_install_are_never_served(d):
    d.signup("amweb")
    secret = "SECRET-of-amweb"
    for rel in ("wp/.git/config", "wp/.git/HEAD", "wp/.lockerd-app",
                "wp/.lockerd-no-upgrade", "wp/.gitignore", "wp/sub/.git/config"):
        d.put("amweb", rel, secret + "\n", mode=0o644)
    d.put("amweb", "wp/index.html", "<p>front page</p>\n", mode=0o644)
    d.put("amweb", "wp/.htaccess", "RewriteEngine On\nRewriteRule ^leak$ .git/config [L]\n"
          "RewriteRule ^meta$ .lockerd-app [L]\n", mode=0o644)
    d.locker("vhost", "add", "amweb", "wiki.amweb.example", "--path", "wp")
    host = "amweb.test.example"
    assert get(d.port, "/wp/index.html", host)[0] == 200
    for path, h in (("/wp/.git/config", host), ("/wp/.git/HEAD", host),
                    ("/wp/.lockerd-app", host), ("/wp/.lockerd-no-upgrade", host),
                    ("/wp/.gitignore", host), ("/wp/sub/.git/config", host),
                    ("/wp/.git/", host), ("/wp/.git", host),
                    ("/~amweb/wp/.git/config", "scripts.test.example"),
                    ("/.git/config", "wiki.amweb.example"),
                    ("/.git/HEAD", "wiki.amweb.example"),
                    ("/.lockerd-app", "wiki.amweb.example"),
                    ("/wp/%2egit/config", host), ("/wp/leak", host), ("/wp/meta", host),
                    ("/leak", "wiki.amweb.example")):
        status, _, body = get(d.port, path, h)
        assert status == 404, (path, h, status)
        assert secret.encode() not in body, (path, h)


def test_each_jail_shows_lockerd_app_and_the_releases_read_only(d, build_dir, releases):
    d.signup("amjail")
    script = ("ls -l /usr/lib/lockerd/lockerd-app; sha256sum /usr/lib/lockerd/lockerd-app;"
              f" ls {releases}; cat {releases}/dokuwiki/{NEXT}/VERSION;"
              f" touch {releases}/x 2>&1 || echo releases-read-only;"
              f" touch {releases}/dokuwiki/{NEXT}/doku.php 2>&1 || echo tree-read-only;"
              " echo hi > /usr/lib/lockerd/lockerd-app 2>&1 || echo prog-read-only;"
              " ls /var/lib/dokuwiki/lib/tpl >/dev/null && echo tpl-readable;"
              f" echo DIR: $(ls {d.dir})")
    r = d.locker("run", "amjail", "--", "/bin/sh", "-c", script, check=False)
    out = r.stdout + r.stderr
    assert "dokuwiki" in out and NEXT in out, out
    assert "releases-read-only" in out and "tree-read-only" in out, out
    assert "prog-read-only" in out, out
    if os.path.isdir("/var/lib/dokuwiki/lib/tpl"):
        assert "tpl-readable" in out, out
    # of lockerd's own test directory, the jail shows the way to the home only
    assert "DIR: lockers\n" in out, out
    prog = os.path.join(build_dir, "lockerd-app")
    if have_app(build_dir):
        with open(prog, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() in out, out
    assert not os.path.exists(os.path.join(releases, "x"))


# What a hostile locker plants in its install before a mass upgrade: every
# hook git could run, a filter driver named by .gitattributes, a symlink
# out; each would leave RAN-* in its home (or /tmp/ammass4-ran) if it ran.
HOSTILE = r"""
cd "$HOME/web_scripts/wiki" || exit 1
for h in pre-commit post-commit pre-merge-commit post-merge post-checkout \
         reference-transaction post-rewrite pre-auto-gc; do
  printf '#!/bin/sh\ntouch "$HOME/RAN-%s"; echo %s > /tmp/ammass4-ran\n' $h $h > .git/hooks/$h
  chmod 755 .git/hooks/$h
done
printf '* filter=evil diff=evil merge=evil\n' > .gitattributes
git config filter.evil.clean 'touch "$HOME/RAN-filter"; cat'
git config filter.evil.smudge 'touch "$HOME/RAN-smudge"; cat'
git config merge.evil.driver 'touch "$HOME/RAN-merge"; false'
ln -s /etc/passwd passwd-link
"""


def test_mass_upgrade_reports_each_install(d, build_dir):
    """Four installs at Debian's version; one opted out, one edited where
    the next release changes the same line, one hostile: the report says
    upgraded, opted-out, conflict, refused, the table follows, and nothing
    the hostile locker planted ran."""
    if not have_app(build_dir):
        pytest.skip("build/lockerd-app is not built (app-git)")
    old = doku_version()
    names = ("ammass1", "ammass2", "ammass3", "ammass4")
    for n in names:
        d.signup(n)
    # all at once: each its own locker's task
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda n: slow(d, "install", n, "dokuwiki", "--path", "wiki",
                                            "--to", old), names))
    for r in done:
        assert r.returncode == 0, r.stdout + r.stderr
    by = {x["locker"]: x for x in installs(d) if x["locker"] in names}
    assert all(by[n]["version"] == old and by[n]["available"] == NEXT for n in names), by
    r = slow(d, "upgrade", "--opt-out", "ammass2", "--path", "wiki")
    assert r.returncode == 0, r.stdout + r.stderr
    # the locker's own edit, as the locker, of the line the release changes
    assert slow(d, "run", "ammass3", "--", "sed", "-i", "s/ \\* DokuWiki mainscript.*/ * "
                "DokuWiki edited by ammass3/", d.info("ammass3")["home"] +
                "/web_scripts/wiki/doku.php").returncode == 0
    # a hostile locker's install: hooks, a filter driver, a symlink
    hostile = d.info("ammass4")["home"]
    r = slow(d, "run", "ammass4", "--", "/bin/sh", "-c", HOSTILE)
    assert r.returncode == 0, r.stdout + r.stderr
    # a dry run first: what would happen, and nothing changes
    before = {x["locker"]: x for x in installs(d) if x["locker"] in names}
    r = slow(d, "--json", "upgrade", "--all", "dokuwiki", "--dry-run")
    dry = {x["locker"]: x["result"] for x in json.loads(r.stdout)}
    assert dry["ammass1"] == "would-upgrade" and dry["ammass2"] == "opted-out", dry
    assert dry["ammass3"] == "would-conflict" and dry["ammass4"] == "refused", dry
    assert {x["locker"]: x for x in installs(d) if x["locker"] in names} == before
    r = slow(d, "--json", "upgrade", "--all", "dokuwiki")
    report = {x["locker"]: x for x in json.loads(r.stdout)}
    assert set(names) <= set(report), (report, r.stderr)
    assert report["ammass1"]["result"] == "upgraded", report
    assert report["ammass2"]["result"] == "opted-out", report
    assert report["ammass3"]["result"] == "conflict", report
    # what lockerd-app said is the locker's to read, in its home, not the web's
    log = os.path.join(d.info("ammass3")["home"], ".lockerd-upgrades.log")
    st = os.stat(log)
    assert st.st_uid == d.info("ammass3")["uid"] and st.st_mode & 0o777 == 0o600
    with open(log) as f:
        text = f.read()
    assert "upgrade --all: dokuwiki at web_scripts/wiki to " + NEXT in text, text
    assert "doku.php" in text, text
    # the hostile install is refused, and nothing it planted ran, as anyone
    assert report["ammass4"]["result"] == "refused", report
    for n in names:
        home = d.info(n)["home"]
        assert not [f for f in os.listdir(home) if f.startswith("RAN-")], n
    assert not os.path.exists("/tmp/ammass4-ran")
    assert all(report[n]["to"] == NEXT and report[n]["version"] == old for n in names)
    by = {x["locker"]: x for x in installs(d) if x["locker"] in names}
    assert by["ammass4"]["version"] == old and by["ammass4"]["state"] == "ok", by
    assert r.returncode == 1        # not everything went through: a conflict
    text = slow(d, "upgrade", "--all", "dokuwiki").stdout
    assert "ammass1" in text and "current" in text and "opted-out" in text, text
    by = {x["locker"]: x for x in installs(d) if x["locker"] in names}
    assert by["ammass1"]["version"] == NEXT and by["ammass1"]["state"] == "ok", by
    assert by["ammass2"]["opted_out"] is True and by["ammass2"]["version"] == old, by
    assert by["ammass3"]["state"] == "conflict" and by["ammass3"]["version"] == old, by
    # the conflict dropped: the old version, state ok again
    r = slow(d, "upgrade", "ammass3", "--abort")
    assert r.returncode == 0, r.stdout + r.stderr
    by = {x["locker"]: x for x in installs(d) if x["locker"] in names}
    assert by["ammass3"]["state"] == "ok" and by["ammass3"]["version"] == old, by
    # rollback: ammass1 back to the version before its upgrade
    r = slow(d, "rollback", "ammass1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert {x["locker"]: x for x in installs(d)}["ammass1"]["version"] == old
    # the listing, and what is refused before lockerd-app runs
    row = {x["locker"]: x for x in installs(d, "ammass1")}["ammass1"]
    assert row["app"] == "dokuwiki" and row["path"] == "wiki", row
    assert row["url"].startswith("http://ammass1.test.example:") and \
        row["url"].endswith("/wiki/"), row
    for path in ("wiki", "wiki/sub"):
        r = slow(d, "install", "ammass1", "dokuwiki", "--path", path)
        assert r.returncode == 1 and "already an install" in r.stderr, r.stderr
    r = slow(d, "upgrade", "ammass1", "--to", "0.0.1")
    assert r.returncode == 1 and "no release 0.0.1 of dokuwiki" in r.stderr, r.stderr
    r = slow(d, "upgrade", "ammass1", "--resolve")
    assert r.returncode == 1 and "no upgrade waits" in r.stderr, r.stderr
    text = d.locker("installs", "ammass1").stdout
    assert "dokuwiki" in text and "wiki" in text and NEXT in text, text
    assert "app install" in audit_actions(d, "ammass1")
    # a removed locker's installs go with it
    assert slow(d, "remove", "ammass2", "--purge").returncode == 0
    assert "ammass2" not in {x["locker"] for x in installs(d)}
