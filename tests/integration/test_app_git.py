"""lockerd-app (issue 16), the autoinstaller that runs as the locker in its
sandbox, through the master's verbs (`locker install|upgrade|rollback`): a
DokuWiki installed into a locker, served by lockerd, upgraded to synthetic
next versions in the app-releases directory (Debian's tree with VERSION
and a file changed), and a hostile locker's install that tries to make our
git commands run its code or write outside the install.

One lockerd and one install per module; the tests run in file order and
each leaves the install working, as a person's upgrades would.
"""
import http.client
import os
import re
import json
import shutil
import subprocess
import tempfile
import urllib.parse

import pytest

from conftest import TEST_BASE, Lockerd, wait_for

DOMAIN = "test.example"
NAME = "agwiki"
HOST = f"{NAME}.{DOMAIN}"
V1 = None       # Debian's, read from /usr/share/dokuwiki/VERSION


def debian_version():
    with open("/usr/share/dokuwiki/VERSION") as f:
        return f.read().split()[0]


@pytest.fixture(scope="module")
def releases():
    os.makedirs(TEST_BASE, exist_ok=True)
    top = tempfile.mkdtemp(prefix="rel", dir=TEST_BASE)
    os.chmod(top, 0o755)
    os.makedirs(os.path.join(top, "dokuwiki"))
    yield top
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def lockerd(build_dir, releases):
    if not os.path.exists("/usr/share/dokuwiki/doku.php"):
        pytest.skip("dokuwiki is not installed (make deps)")
    d = Lockerd(build_dir, domain=DOMAIN,
                extra=f"script-timeout 60\napp-releases {releases}\n").start()
    d.releases = releases
    yield d
    d.cleanup()


@pytest.fixture(scope="module")
def home(lockerd):
    return lockerd.signup(NAME)


def verb(d, *args, check_rc=None):
    """`locker --json VERB ...` as root: (rc, lockerd-app's JSON, stdout, stderr).
    Not conftest's CLI (30 s): the git work takes longer on a loaded machine."""
    r = subprocess.run([os.path.join(d.build, "locker"), "-c", d.conf, "--json"] + list(args),
                       capture_output=True, text=True, timeout=900)
    obj = {}
    for line in reversed(r.stdout.strip().splitlines()):
        try:
            obj = json.loads(line)
            break
        except ValueError:
            continue
    if check_rc is not None:
        assert r.returncode == check_rc, (r.returncode, r.stdout, r.stderr)
    return r.returncode, obj, r.stdout, r.stderr


def upgrade(d, *more, sub="wiki", check_rc=None):
    return verb(d, "upgrade", NAME, "--path", sub, *more, check_rc=check_rc)


def wiki_dir(info, sub="wiki"):
    return os.path.join(info["home"], "web_scripts", sub)


URL = f"http://{HOST}/wiki/"


def release(d, version, changes=None):
    """A synthetic next version as an administrator might unpack one beside
    Debian's: symlinks to Debian's tree (which the copy dereferences, as it
    does Debian's own), with real files where this version differs:
    VERSION and changes {relative path: function(old text) -> new text}."""
    root = os.path.join(d.releases, "dokuwiki", version)
    if os.path.exists(root):
        return root
    changes = dict(changes or {})
    changes["VERSION"] = lambda old: f'{version} "Synthetic"\n'
    os.makedirs(root)
    for rel, fn in changes.items():
        parts = rel.split("/")
        for i in range(len(parts)):         # each ancestor a real directory of links
            sub = "/".join(parts[:i])
            here, orig = os.path.join(root, sub), os.path.join("/usr/share/dokuwiki", sub)
            if os.path.islink(here):
                os.unlink(here)
            os.makedirs(here, exist_ok=True)
            for n in os.listdir(orig):
                if not os.path.lexists(os.path.join(here, n)):
                    os.symlink(os.path.join(orig, n), os.path.join(here, n))
        dst = os.path.join(root, rel)
        with open(os.path.join("/usr/share/dokuwiki", rel)) as f:
            text = fn(f.read())
        os.unlink(dst)
        with open(dst, "w") as f:
            f.write(text)
    return root


def line3(text):
    return lambda old: "\n".join(old.split("\n")[:2] + [text] + old.split("\n")[3:])


def set_line(path, n, text):
    with open(path) as f:
        lines = f.read().split("\n")
    lines[n - 1] = text
    with open(path, "w") as f:
        f.write("\n".join(lines))


def req(d, method, path, body=None, cookies=None, host=HOST):
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=120)
    hdrs = {"Host": host, "Connection": "close"}
    if cookies:
        hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        body = urllib.parse.urlencode(body)
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=hdrs)
    r = c.getresponse()
    data = r.read()
    set_cookies = {}
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            set_cookies[name.strip()] = rest.split(";")[0]
    c.close()
    return r.status, data, set_cookies


def as_locker(info, *cmd):
    """A command as the locker (the repository must stay all the locker's)."""
    return subprocess.run(["env", "HOME=/nonexistent", "setpriv", f"--reuid={info['uid']}", f"--regid={info['gid']}",
                           "--clear-groups"] + list(cmd), capture_output=True, text=True,
                          timeout=300)


def git(info, *args, sub="wiki"):
    r = as_locker(info, "git", "-c", "safe.directory=*", "--no-optional-locks", "-C",
                  wiki_dir(info, sub), *args)
    return r.stdout


def locker_write(info, path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, info["uid"], info["gid"])
    os.chmod(path, mode)


def du(path):
    return int(subprocess.run(["du", "-s", "--block-size=1", path], capture_output=True,
                              text=True).stdout.split()[0])


def version_served(info):
    with open(os.path.join(wiki_dir(info), "VERSION")) as f:
        return f.read().split()[0]


@pytest.fixture(scope="module")
def wiki(lockerd, home):
    before = du(home["home"])
    v1 = debian_version()
    rc, out, so, se = verb(lockerd, "install", NAME, "dokuwiki", "--path", "wiki",
                           "--title", "Locker Wiki", "--admin", "admin", "--to", v1)
    assert rc == 0, (so, se)
    return dict(v1=v1, password=out["password"], out=out, du_before=before)


# --- install ----------------------------------------------------------------

def test_install_result(home, wiki):
    out = wiki["out"]
    assert out.get("result") == "installed" and out["app"] == "dokuwiki" and out.get("to") == wiki["v1"]
    assert re.fullmatch(r"[A-Za-z0-9]{20}", wiki["password"])
    w = wiki_dir(home)
    meta = os.path.join(w, ".lockerd-app")
    assert os.stat(meta).st_mode & 0o777 == 0o600
    with open(meta) as f:
        text = f.read()
    assert "app=dokuwiki\n" in text and f"password={wiki['password']}\n" in text
    # copied, never symlinked: no symlink anywhere, everything the locker's
    for root, dirs, files in os.walk(w):
        for n in dirs + files:
            p = os.path.join(root, n)
            assert not os.path.islink(p), p
            assert os.lstat(p).st_uid == home["uid"], p
    # templates and plugins came through Debian's symlinks into /var/lib
    assert os.path.isfile(os.path.join(w, "lib/tpl/dokuwiki/main.php"))
    assert os.path.isfile(os.path.join(w, "lib/plugins/acl/admin.php"))
    assert not os.path.exists(os.path.join(w, "inc/preload.php"))   # Debian's shim


def test_repository_layout(home, wiki):
    log = git(home, "log", "--format=%s", "main")
    assert f"dokuwiki {wiki['v1']} (pristine)" in log
    assert "lockerd install: configuration" in log
    assert git(home, "log", "--format=%s", "upstream").strip() == f"dokuwiki {wiki['v1']} (pristine)"
    assert git(home, "status", "--porcelain").strip() == ""
    ignored = git(home, "check-ignore", "data/pages", ".lockerd-app", "conf/users.auth.php")
    assert ignored.split() == ["data/pages", ".lockerd-app", "conf/users.auth.php"]


def test_git_counted_in_home(home, wiki):
    """The repository is in the install, the locker's, counted like any file."""
    w = wiki_dir(home)
    assert os.stat(os.path.join(w, ".git")).st_uid == home["uid"]
    grown = du(home["home"]) - wiki["du_before"]
    assert du(os.path.join(w, ".git")) > 1 << 20
    assert grown >= du(w) > du(os.path.join(w, ".git"))


def test_front_page(lockerd, home, wiki):
    st, body, _ = req(lockerd, "GET", "/wiki/doku.php")
    assert st == 200, body[:2000]
    assert b"Locker Wiki" in body


def login(d, wiki):
    st, body, cookies = req(d, "GET", "/wiki/doku.php?do=login")
    assert st == 200, body[:1000]
    st, body, more = req(d, "POST", "/wiki/doku.php", cookies=cookies,
                          body={"do": "login", "id": "start", "u": "admin",
                                "p": wiki["password"]})
    cookies.update(more)
    assert st in (200, 302, 303), body[:1000]
    assert any(k.startswith("DW") for k in cookies), cookies
    return cookies


def test_login_and_page_edit(lockerd, home, wiki):
    cookies = login(lockerd, wiki)
    st, body, more = req(lockerd, "GET", "/wiki/doku.php?id=start&do=edit", cookies=cookies)
    cookies.update(more)
    assert st == 200 and b'name="wikitext"' in body, body[:2000]
    form = dict(re.findall(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    fields = {k.decode(): v.decode() for k, v in form.items()}
    fields.update({"wikitext": "====== Start ======\nWritten-by-admin-4711\n",
                   "summary": "test", "do[save]": "1", "id": "start"})
    st, body, _ = req(lockerd, "POST", "/wiki/doku.php?id=start", cookies=cookies, body=fields)
    assert st in (200, 302, 303), body[:1000]
    st, body, _ = req(lockerd, "GET", "/wiki/doku.php?id=start")
    assert st == 200 and b"Written-by-admin-4711" in body, body[:2000]
    assert os.path.isfile(os.path.join(wiki_dir(home), "data/pages/start.txt"))


# --- upgrades ---------------------------------------------------------------

V2, V3, V4 = "2099-01-01a", "2099-01-01b", "2099-01-01c"


def doku_line3(text):
    return {"doku.php": line3(text)}


def test_upgrade_keeps_local_edits(lockerd, home, wiki):
    w = wiki_dir(home)
    release(lockerd, V2, doku_line3(" * DokuWiki mainscript, release two"))
    with open(os.path.join(w, "feed.php")) as f:
        feed = f.read()
    locker_write(home, os.path.join(w, "feed.php"), feed + "\n// the locker's own feed tweak\n")
    with open(os.path.join(w, "conf/local.php")) as f:
        local = f.read()
    locker_write(home, os.path.join(w, "conf/local.php"),
                 local + "$conf['tagline'] = 'tagline-of-the-locker';\n")
    rc, out, so, se = upgrade(lockerd, "--to", V2, "--dry-run")
    assert rc == 0 and version_served(home) == wiki["v1"], (so, se)
    rc, out, so, se = upgrade(lockerd, "--to", V2)
    assert rc == 0, (so, se)
    assert out.get("result") == "upgraded" and out["from"] == wiki["v1"] and out.get("to") == V2
    assert version_served(home) == V2
    with open(os.path.join(w, "doku.php")) as f:
        assert "release two" in f.read()
    with open(os.path.join(w, "feed.php")) as f:
        assert "the locker's own feed tweak" in f.read()
    # (polled: the locker's PHP looks at a file it compiled at most every
    # 2 s, opcache.revalidate_freq in script.c, and conf/local.php was
    # compiled by the login test a moment ago)
    def shown():
        st, body, _ = req(lockerd, "GET", "/wiki/doku.php?id=start")
        return st == 200 and b"tagline-of-the-locker" in body and b"Written-by-admin-4711" in body
    assert wait_for(shown)
    assert "lockerd/backup-1" in git(home, "tag")
    rc, out, so, se = upgrade(lockerd, "--to", V2)     # already current
    assert rc == 10 and out.get("result") == "current", (so, se)


def test_conflict_abort_resolve(lockerd, home, wiki):
    w = wiki_dir(home)
    release(lockerd, V3, doku_line3(" * DokuWiki mainscript, release three"))
    set_line(os.path.join(w, "doku.php"), 3, " * the locker's own main script")
    # a dry run sees the uncommitted edit's conflict, and changes nothing
    head = git(home, "rev-parse", "main")
    rc, out, so, se = upgrade(lockerd, "--to", V3, "--dry-run")
    assert rc == 12 and out.get("files") == ["doku.php"], (so, se)
    assert git(home, "rev-parse", "main") == head and git(home, "status", "--porcelain").strip() == "M doku.php"
    assert not os.path.exists(os.path.join(w, ".git/lockerd/stage"))
    rc, out, so, se = upgrade(lockerd, "--to", V3)
    assert rc == 12 and out.get("result") == "conflict" and out.get("files") == ["doku.php"], (so, se)
    assert "conflict: doku.php" in so
    assert version_served(home) == V2           # the old version serving
    assert req(lockerd, "GET", "/wiki/doku.php")[0] == 200
    rc, out, so, se = upgrade(lockerd, "--abort")
    assert rc == 0 and out.get("result") == "aborted", (so, se)
    assert not os.path.exists(os.path.join(w, ".git/lockerd/stage"))
    rc, out, so, se = upgrade(lockerd, "--to", V3)
    assert rc == 12, (so, se)
    stage = os.path.join(w, ".git/lockerd/stage/doku.php")
    # --resolve with the markers still there: refused, still in conflict
    rc, out, so, se = upgrade(lockerd, "--resolve")
    assert rc == 12 and out.get("files") == ["doku.php"], (so, se)
    with open(stage) as f:
        text = f.read()
    text = re.sub(r"<<<<<<< [^\n]*\n.*?>>>>>>> [^\n]*\n",
                  " * the locker's own main script, on release three\n", text, flags=re.S)
    locker_write(home, stage, text)
    # the live tree changed meanwhile: no fast-forward over it, the resolution kept
    feed = os.path.join(w, "feed.php")
    with open(feed) as f:
        before = f.read()
    locker_write(home, feed, before + "// edited while in conflict\n")
    rc, out, so, se = upgrade(lockerd, "--resolve")
    assert rc == 1 and "live tree has changes" in se, (so, se)
    assert os.path.exists(stage) and version_served(home) == V2
    locker_write(home, feed, before)
    rc, out, so, se = upgrade(lockerd, "--resolve")
    assert rc == 0 and out.get("result") == "upgraded" and out.get("to") == V3, (so, se)
    assert version_served(home) == V3
    with open(os.path.join(w, "doku.php")) as f:
        assert "on release three" in f.read()
    assert req(lockerd, "GET", "/wiki/doku.php")[0] == 200


def test_rollback(lockerd, home, wiki):
    rc, out, so, se = verb(lockerd, "rollback", NAME, "--path", "wiki")
    # (the master's rollback passes no --json to lockerd-app: its human line)
    assert rc == 0 and f"back to lockerd/backup-3 ({V2})" in so, (so, se)
    assert version_served(home) == V2
    with open(os.path.join(wiki_dir(home), ".lockerd-app")) as f:
        assert f"version={V2}\n" in f.read()
    st, body, _ = req(lockerd, "GET", "/wiki/doku.php?id=start")
    assert st == 200 and b"Written-by-admin-4711" in body  # content is not code: kept


def test_failing_check_rolls_back(lockerd, home, wiki):
    w = wiki_dir(home)
    set_line(os.path.join(w, "doku.php"), 3, " * DokuWiki mainscript, release two")
    release(lockerd, V4, {"inc/init.php": lambda old: old.replace("<?php", "<?php this is not PHP(", 1)})
    rc, out, so, se = upgrade(lockerd, "--to", V4)
    assert rc == 13 and out.get("result") == "rolled-back", (so, se)
    assert "does not load" in out.get("reason", "")
    assert version_served(home) == V2
    with open(os.path.join(w, "inc/init.php")) as f:
        assert "this is not PHP" not in f.read()
    assert req(lockerd, "GET", "/wiki/doku.php")[0] == 200


def test_opt_out(lockerd, home, wiki):
    upgrade(lockerd, "--opt-out", check_rc=0)
    assert os.path.exists(os.path.join(wiki_dir(home), ".lockerd-no-upgrade"))
    rc, out, so, se = upgrade(lockerd, "--to", V3)
    assert rc == 11 and out.get("result") == "opted-out", (so, se)
    assert version_served(home) == V2
    upgrade(lockerd, "--opt-in", check_rc=0)
    assert not os.path.exists(os.path.join(wiki_dir(home), ".lockerd-no-upgrade"))
    # lockerd-app's own view of the install (what the master never reads)
    r = as_locker(home, "env", f"HOME={home['home']}", os.path.join(lockerd.build, "lockerd-app"),
                  "info", "--dir", wiki_dir(home), "--json")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["from"] == V2 and out["opted_out"] is False and out["state"] == "ok", r.stdout


# --- a hostile locker's install ----------------------------------------------

def pwned(info):
    return [n for n in os.listdir(info["home"]) if n.startswith("pwned")] + \
        [n for n in os.listdir(wiki_dir(info)) if n.startswith("pwned")]


def test_hostile_hooks_filters_and_global_config(lockerd, home, wiki):
    """Hooks, a ~/.gitconfig with a hooks path and drivers, and a
    .gitattributes naming them: an upgrade runs none of it."""
    w, h = wiki_dir(home), home["home"]
    hook = "#!/bin/sh\ntouch \"$HOME/pwned-$(basename $0)\"\n"
    for name in ("pre-commit", "post-merge", "post-checkout", "pre-merge-commit",
                 "reference-transaction", "post-commit", "post-rewrite", "pre-auto-gc"):
        locker_write(home, os.path.join(w, ".git/hooks", name), hook, 0o755)
    os.makedirs(os.path.join(h, "evilhooks"), exist_ok=True)
    os.chown(os.path.join(h, "evilhooks"), home["uid"], home["gid"])
    locker_write(home, os.path.join(h, "evilhooks/post-merge"), hook, 0o755)
    locker_write(home, os.path.join(h, "evil.sh"), "#!/bin/sh\ntouch $HOME/pwned-driver\ncat\n", 0o755)
    locker_write(home, os.path.join(h, ".gitconfig"),
                 f"[core]\n\thooksPath = {h}/evilhooks\n\tfsmonitor = {h}/evil.sh\n"
                 f"[filter \"evil\"]\n\tclean = {h}/evil.sh\n\tsmudge = {h}/evil.sh\n"
                 f"[merge \"evil\"]\n\tdriver = {h}/evil.sh %O %A %B\n"
                 f"[diff \"evil\"]\n\ttextconv = {h}/evil.sh\n")
    locker_write(home, os.path.join(w, ".gitattributes"), "* filter=evil merge=evil diff=evil\n")
    locker_write(home, os.path.join(w, ".git/info/attributes"), "* filter=evil merge=evil\n")
    rc, out, so, se = upgrade(lockerd, "--to", V3)
    assert rc == 0, (so, se)
    assert version_served(home) == V3
    assert pwned(home) == []
    assert req(lockerd, "GET", "/wiki/doku.php")[0] == 200


def test_hostile_repository_config_refused(lockerd, home, wiki):
    """A driver (or include, or worktree) in the install's own .git/config
    refuses the rollback: exit 14, nothing run, nothing changed."""
    w = wiki_dir(home)
    cfg = os.path.join(w, ".git/config")
    with open(cfg) as f:
        orig = f.read()
    h = home["home"]
    for evil in (f"[filter \"evil\"]\n\tclean = {h}/evil.sh\n\tsmudge = {h}/evil.sh\n",
                 f"[include]\n\tpath = {h}/.gitconfig\n",
                 "[core]\n\tworktree = /tmp\n"):
        locker_write(home, cfg, orig + evil)
        rc, out, so, se = verb(lockerd, "rollback", NAME, "--path", "wiki")
        assert rc == 14 and "refused: .git/config sets" in se, (so, se)
    locker_write(home, cfg, orig)
    assert version_served(home) == V3
    assert pwned(home) == []


def test_hostile_symlinks(lockerd, home, wiki):
    """A symlink in place of a tracked file, of the install, of .git: the
    target outside the install never changes; the install is refused or
    upgraded without following it."""
    w, h = wiki_dir(home), home["home"]
    victim = os.path.join(h, "victim.txt")
    locker_write(home, victim, "victim's own bytes\n")
    for tracked in ("feed.php", "index.php"):
        os.unlink(os.path.join(w, tracked))
        os.symlink(victim, os.path.join(w, tracked))
        os.lchown(os.path.join(w, tracked), home["uid"], home["gid"])
    v5 = "2099-01-01e"
    release(lockerd, v5, {"feed.php": line3(" * feed, release five")})
    rc, out, so, se = upgrade(lockerd, "--to", v5)
    assert rc in (0, 12), (so, se)
    with open(victim) as f:
        assert f.read() == "victim's own bytes\n"
    if rc == 12:
        assert "feed.php" in out.get("files")
        upgrade(lockerd, "--abort", check_rc=0)
    # the install itself made a symlink to the real directory: refused
    real = os.path.join(h, "web_scripts", "wiki-real")
    os.rename(w, real)
    os.symlink(real, w)
    try:
        rc, out, so, se = upgrade(lockerd, "--to", v5)
        assert rc == 14 and "symlink" in out.get("reason", ""), (so, se)
    finally:
        os.unlink(w)
        os.rename(real, w)
    # .git a symlink to the real one: refused
    gitstore = os.path.join(h, "gitstore")
    os.rename(os.path.join(w, ".git"), gitstore)
    os.symlink(gitstore, os.path.join(w, ".git"))
    try:
        rc, out, so, se = upgrade(lockerd, "--to", v5)
        assert rc == 14 and ".git" in out.get("reason", ""), (so, se)
    finally:
        os.unlink(os.path.join(w, ".git"))
        os.rename(gitstore, os.path.join(w, ".git"))
    # a file of another uid's in the install: refused
    other = os.path.join(w, "lib", "planted-by-root")
    with open(other, "w") as f:
        f.write("x")
    rc, out, so, se = upgrade(lockerd, "--to", v5)
    assert rc == 14 and "planted-by-root" in out.get("reason", ""), (so, se)
    os.unlink(other)
    with open(victim) as f:
        assert f.read() == "victim's own bytes\n"
    assert pwned(home) == []


def test_bad_arguments(lockerd, home):
    """lockerd-app's own checks of its command line (the master checked it
    first: test_app_master): refused before anything is touched, so run as
    the locker directly."""
    app = os.path.join(lockerd.build, "lockerd-app")
    for args in (["install", "nosuchapp", "--dir", wiki_dir(home, "x"), "--url", URL,
                  "--release", "/usr/share/dokuwiki", "--version", "1"],
                 ["install", "dokuwiki", "--dir", "relative", "--url", URL,
                  "--release", "/usr/share/dokuwiki", "--version", "1"],
                 ["install", "dokuwiki", "--dir", wiki_dir(home, "x"), "--url", URL,
                  "--release", "/usr/share/dokuwiki", "--version", "1;rm"],
                 ["install", "dokuwiki", "--dir", wiki_dir(home, "x"), "--url", URL,
                  "--release", "/usr/share/dokuwiki", "--version", "1", "--title", "a'b"],
                 ["upgrade", "--dir", wiki_dir(home), "--url", URL, "--resolve", "--abort"]):
        r = as_locker(home, app, *args)
        assert r.returncode == 1 and "usage" in r.stderr, (args, r.stdout, r.stderr)
        assert not os.path.exists(wiki_dir(home, "x"))
    # a directory of the locker's that is not empty: lockerd-app refuses it
    used = wiki_dir(home, "used")
    os.makedirs(used)
    locker_write(home, os.path.join(used, "index.html"), "mine\n")
    os.chown(used, home["uid"], home["gid"])
    rc, out, so, se = verb(lockerd, "install", NAME, "dokuwiki", "--path", "used",
                           "--to", debian_version())
    assert rc == 14 and "not empty" in out.get("reason", ""), (so, se)
    assert os.listdir(used) == ["index.html"]
    # an install whose check fails leaves nothing behind
    rc, out, so, se = verb(lockerd, "install", NAME, "dokuwiki", "--path", "broken", "--to", V4)
    assert rc == 13 and "does not load" in out.get("reason", ""), (so, se)
    assert not os.path.exists(wiki_dir(home, "broken"))


def test_refuses_root(lockerd):
    r = subprocess.run([os.path.join(lockerd.build, "lockerd-app"), "info", "--dir", "/tmp"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "root" in r.stderr

