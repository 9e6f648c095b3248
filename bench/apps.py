"""bench/apps.py BUILD_DIR: real applications in a locker against the same
copies under nginx + php-fpm (issue 13, item 5).

DokuWiki and MediaWiki from Debian's `dokuwiki` and `mediawiki` packages,
copied (never symlinked) into a locker's web_scripts as a user would
upload them; MediaWiki installed with SQLite by its own
maintenance/install.php run as the locker (`locker run`), DokuWiki's
search index built by its own bin/indexer.php the same way.  The same
installed copies (paths and server name rewritten where the application
wrote them) are then served by nginx + php-fpm, a pool per application as
a user of its own, as many PHP processes as lockerd's pool and the same
PHP settings (see php_settings()).

Pages: each application's start page and one that writes nothing but does
real work (a full-text search).  Both servers are up at once and measured
in turns (APPS_ROUNDS runs each, the median kept), so that a drift of the
machine's load is not the ratio.  Each page is checked before and after
its runs: a 200 with a string of the real page and none of an error page.

Run as root by `make bench` (its `apps` case) or `make bench-scale`
(SCALE_PARTS=apps).  Figures are printed, never asserted.  APPS_HOLD=FILE
keeps both servers up after the check until FILE is removed (to look at
them with perf or strace); see bench/README.md.
"""
import atexit
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

# Uids and users of this bench's own, set before scale.py reads them: its
# clean-up kills every process in its uid range and removes its users, so
# a scale run beside this one (another part) must not share them.
os.environ.setdefault("SCALE_UIDS", "350000-350999")
os.environ.setdefault("SCALE_FPM_UID", "351000")
os.environ.setdefault("SCALE_USER_PREFIX", "lkapps")
# php-fpm's cgroup (fpm_cgroup()), removed after scale.py's clean-up has
# stopped its processes: handlers registered first run last.
_cgroups = []
atexit.register(lambda: [os.rmdir(d) for d in _cgroups if os.path.isdir(d)])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale as S                                     # noqa: E402 - after the path

ENV = os.environ.get
ROUNDS = int(ENV("APPS_ROUNDS", ENV("SCALE_APP_ROUNDS", "3")))
SECONDS = int(ENV("APPS_SECONDS", ENV("BENCH_SECONDS", ENV("SCALE_SECONDS", "10"))))
CONNS = int(ENV("APPS_CONNS", "16"))
# Before each measured run, the same load unmeasured: each side's pool
# grows to its size and its new processes have their caches filled, as
# bench/run.sh's warm-up does for every case.
WARMUP = int(ENV("APPS_WARMUP_SECONDS", "5"))
# The pool's most PHP processes, both sides: lockerd's php-max-processes,
# php-fpm's pm.max_children (as bench/run.sh: 5, both defaults).
PHP_CHILDREN = int(ENV("BENCH_PHP_PROCESSES", "5"))
# lockerd runs each locker's processes in a cpu cgroup below one of its
# own (cgroup v1 here: <cpu>/lockerd/<name>.<uid>, cpu.shares 1024, its
# cpu-shares), so on a busy CPU a locker's pool weighs what one process
# of the machine weighs, however many processes it has, and all lockers
# together what one does.  php-fpm's pools run in a cgroup of the same
# weight beside them (APPS_FPM_CGROUP=0: where php-fpm was started), so
# that the two pools get the same share of a machine others load.
FPM_CGROUP = ENV("APPS_FPM_CGROUP", "1") == "1"
CPU_PARENT = "/sys/fs/cgroup/cpu/lockerd"
WHICH = (ENV("APPS_PAGES") or "dw-start dw-search mw-main mw-search").split()

# Whether a body is an application's error page rather than the page.
ERRORS = (b"Fatal error", b"Warning</b>:", b"MWException", b"Internal error",
          b"database error", b"DokuWiki Setup Error", b"Parse error")

# app: (Debian's file that says it is installed, locker name)
APPS = {"dokuwiki": ("/usr/share/dokuwiki/doku.php", "dokuwiki"),
        "mediawiki": ("/usr/share/mediawiki/index.php", "mwiki")}
# case: (app, label, path, a string of the real page)
PAGES = {
    "dw-start": ("dokuwiki", "DokuWiki start page", "/wiki/doku.php?id=start",
                 b"This is the start page of the locker wiki."),
    "dw-search": ("dokuwiki", "DokuWiki search", "/wiki/doku.php?do=search&q=wiki",
                  b"search_fulltextresult"),
    "mw-main": ("mediawiki", "MediaWiki Main Page", "/w/index.php?title=Main_Page",
                b"MediaWiki has been installed"),
    "mw-search": ("mediawiki", "MediaWiki search",
                  "/w/index.php?title=Special:Search&search=installed&fulltext=1",
                  b"mw-search-result-heading"),
}


def copy_tree(src, dst, uid, gid):
    """cp -rL, owned by uid, as a user's own upload would be."""
    shutil.copytree(src, dst, symlinks=False, dirs_exist_ok=True, ignore_dangling_symlinks=True)
    subprocess.run(["chown", "-R", "%d:%d" % (uid, gid), dst], check=True)


def write_as(path, text, uid, gid, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def run_as_locker(ld, name, argv, what):
    r = subprocess.run([os.path.join(S.BUILD, "locker"), "-c", ld.conf, "run", name, "--"] + argv,
                       capture_output=True, text=True)
    if r.returncode != 0:
        S.die("%s failed as the locker: %s%s" % (what, r.stdout[-1500:], r.stderr[-1500:]))
    return r.stdout


def install_dokuwiki(ld, name, home, uid, gid):
    """The upstream layout from Debian's split one, as
    tests/integration/test_apps_htaccess.py deploys it, its search index
    built by its own indexer."""
    root = os.path.join(home, "web_scripts", "wiki")
    copy_tree("/usr/share/dokuwiki", root, uid, gid)
    for p in ("inc/preload.php", ".htaccess"):
        if os.path.lexists(os.path.join(root, p)):
            os.unlink(os.path.join(root, p))
    shutil.copy(os.path.join(root, ".htaccess.dist"), os.path.join(root, ".htaccess"))
    copy_tree("/etc/dokuwiki", os.path.join(root, "conf"), uid, gid)
    copy_tree("/var/lib/dokuwiki/data", os.path.join(root, "data"), uid, gid)
    conf = os.path.join(root, "conf", "dokuwiki.php")
    with open(conf) as f:
        text = f.read()
    write_as(conf, re.sub(r"\$conf\['savedir'\]\s*=\s*'[^']*';",
                          "$conf['savedir'] = './data';", text), uid, gid)
    write_as(os.path.join(root, "conf", "local.php"),
             "<?php\n$conf['title'] = 'Locker wiki';\n$conf['useacl'] = 0;\n", uid, gid)
    write_as(os.path.join(root, "data", "pages", "start.txt"),
             "====== Welcome ======\nThis is the start page of the locker wiki.\n", uid, gid)
    subprocess.run(["chown", "-R", "%d:%d" % (uid, gid), root], check=True)
    run_as_locker(ld, name, ["/usr/bin/php", os.path.join(root, "bin", "indexer.php"), "-q"],
                  "DokuWiki's bin/indexer.php")


def install_mediawiki(ld, name, home, uid, gid):
    """Debian's MediaWiki with SQLite, by its own install.php run as the locker."""
    root = os.path.join(home, "web_scripts", "w")
    copy_tree("/usr/share/mediawiki", root, uid, gid)
    if os.path.lexists(os.path.join(root, "LocalSettings.php")):
        os.unlink(os.path.join(root, "LocalSettings.php"))
    data = os.path.join(home, "mwdata")
    os.makedirs(data, 0o700, exist_ok=True)
    os.chown(data, uid, gid)
    run_as_locker(ld, name, ["/usr/bin/php", os.path.join(root, "maintenance", "install.php"),
                             "--dbtype", "sqlite", "--dbpath", data, "--dbname", "wiki",
                             "--server", "http://%s:%d" % (ld.host(name), ld.port),
                             "--scriptpath", "/w", "--lang", "en",
                             "--pass", "correct-horse-battery", "Locker Wiki", "Admin"],
                  "MediaWiki's install.php")
    settings = os.path.join(root, "LocalSettings.php")
    if not os.path.exists(settings):
        S.die("MediaWiki's install.php wrote no LocalSettings.php")
    with open(settings, "a") as f:
        f.write('\n$wgCacheDirectory = "%s/cache";\n' % data)


def fpm_copy(home, base, uid, gid, ld_server, fpm_server):
    """The locker's installed site for php-fpm's user: the same files, its
    paths and server name changed where the application wrote them."""
    for part in ("web_scripts", "mwdata"):
        if os.path.isdir(os.path.join(home, part)):
            copy_tree(os.path.join(home, part), os.path.join(base, part), uid, gid)
    settings = os.path.join(base, "web_scripts", "w", "LocalSettings.php")
    if os.path.exists(settings):
        with open(settings) as f:
            text = f.read().replace(home, base).replace(ld_server, fpm_server)
        write_as(settings, text, uid, gid)
    os.chmod(base, 0o755)


def opcache_freq(cmd):
    r = subprocess.run(cmd + ["-i"], capture_output=True, text=True)
    m = re.search(r"^opcache.revalidate_freq => (\S+)", r.stdout, re.M)
    return m.group(1) if m else "?"


def median_run(runs):
    """The run of median req/s (its own latencies and errors with it)."""
    return sorted(runs, key=lambda r: r[0])[len(runs) // 2]


def check(port, host, path, want, who):
    st, body = S.get(port, host, path, timeout=60)
    bad = [e for e in ERRORS if e in body]
    if st != 200 or want not in body or bad:
        S.die("%s: %s%s gave %d%s: %r" % (who, host, path, st,
                                           ", an error page (%s)" % bad[0].decode() if bad else "",
                                           body[:800]))


def fpm_cgroup(pid):
    """php-fpm's master (its children are forked into it) in a cpu cgroup
    beside the lockers', of a locker's weight: the cgroup, or why not."""
    if not FPM_CGROUP:
        return "not asked (APPS_FPM_CGROUP=0)"
    if not os.path.isdir(CPU_PARENT):
        return "none: no %s (lockerd's lockers are in no cpu cgroup either)" % CPU_PARENT
    d = os.path.join(CPU_PARENT, "bench-fpm.%d" % os.getpid())
    os.mkdir(d)
    _cgroups.append(d)
    with open(os.path.join(d, "cpu.shares"), "w") as f:
        f.write("1024\n")
    with open(os.path.join(d, "cgroup.procs"), "w") as f:
        f.write("%d\n" % pid)
    return d


class Apps:
    """Both servers up with both applications installed."""

    def setup(self):
        for _, (marker, _) in APPS.items():
            if not os.path.exists(marker):
                S.die("%s is not installed (make deps-bench)" % marker)
        self.scratch = tempfile.mkdtemp(prefix="lockerd-apps-wrk.", dir="/tmp")
        S._scratch.append(self.scratch)
        self.ld = ld = S.Lockerd("script-timeout 60\nphp-max-processes %d\nmax-scripts 64"
                                 % PHP_CHILDREN)
        ld.start()
        homes = {}
        for app, (_, name) in APPS.items():
            ld.signup(name)
            i = ld.info(name)
            homes[app] = i
            ws = os.path.join(i["home"], "web_scripts")
            os.makedirs(ws, 0o700, exist_ok=True)
            os.chown(ws, i["uid"], i["gid"])
        for app, fn in (("dokuwiki", install_dokuwiki), ("mediawiki", install_mediawiki)):
            i = homes[app]
            fn(ld, APPS[app][1], i["home"], i["uid"], i["gid"])
        base = tempfile.mkdtemp(prefix="lockerd-apps.", dir=S.TMPBASE)
        S._scratch.append(base)
        os.chmod(base, 0o755)
        self.fp = fp = S.FpmNginx(0, max_children=PHP_CHILDREN)
        users = ["%s%d" % (S.USER_PREFIX, k) for k in range(len(APPS))]
        S.make_users(users)
        self.hosts = {}
        sites = []
        for (app, (_, name)), user in zip(APPS.items(), users):
            pw = pwd.getpwnam(user)
            b = os.path.join(base, app)
            os.makedirs(b)
            fhost = "%s.fpm.test" % name
            fpm_copy(homes[app]["home"], b, pw.pw_uid, pw.pw_gid,
                     "http://%s:%d" % (ld.host(name), ld.port),
                     "http://%s:%d" % (fhost, fp.port))
            sites.append((user, fhost, os.path.join(b, "web_scripts")))
            self.hosts[app] = (ld.host(name), fhost)
        fp.add_sites(sites)
        fp.start()
        # php-fpm has forked no child yet (ondemand): all come into it.
        self.fpm_cg = fpm_cgroup(fp.fpm.pid)

    def sides(self, app):
        lh, fh = self.hosts[app]
        return ((self.ld.port, lh, "lockerd"), (self.fp.port, fh, "nginx+php-fpm"))

    def check_all(self):
        for case in WHICH:
            app, _, path, want = PAGES[case]
            for port, host, who in self.sides(app):
                check(port, host, path, want, who)

    def measure(self):
        """[(case, lockerd's run, php-fpm's run)], each the median of ROUNDS."""
        rows = []
        for case in WHICH:
            app, _, path, want = PAGES[case]
            (lp, lh, _), (fp, fh, _) = self.sides(app)
            ours, theirs = [], []
            for _ in range(ROUNDS):
                for port, host, runs in ((lp, lh, ours), (fp, fh, theirs)):
                    if WARMUP:
                        S.wrk(port, [host], path, CONNS, WARMUP, self.scratch)
                    rps, p50, p99, errs = S.wrk(port, [host], path, CONNS, SECONDS,
                                                self.scratch)
                    # Only pages count: a fast error (a 503) is no page served.
                    runs.append((max(0.0, rps - errs / SECONDS), p50, p99, errs))
            for port, host, who in self.sides(app):
                check(port, host, path, want, who + " after its runs")
            rows.append((case, median_run(ours), median_run(theirs)))
        return rows

    def hold(self, path):
        S.say("apps: holding: lockerd 127.0.0.1:%d, nginx 127.0.0.1:%d, hosts %s; rm %s to go on"
              % (self.ld.port, self.fp.port, self.hosts, path))
        with open(path, "w") as f:
            f.write("lockerd %d\nnginx %d\n" % (self.ld.port, self.fp.port))
            for app, (lh, fh) in self.hosts.items():
                f.write("%s %s %s\n" % (app, lh, fh))
        while os.path.exists(path):
            time.sleep(1)

    def stop(self):
        self.ld_freq = [m for p in S.tree(self.ld.proc.pid)
                        for m in re.findall(r"opcache\.revalidate_freq=(\d+)", S.comm_args(p))]
        self.ld.stop()
        self.fp.stop()


def report_rows(a, rows, tsv=None):
    for case, ours, theirs in rows:
        label = PAGES[case][1]
        S.result("apps", "%s: req/s" % label, ours[0], theirs[0], target=">= 1.0x")
        S.result("apps", "%s: p50" % label, ours[1], theirs[1], unit="ms")
        S.result("apps", "%s: p99" % label, ours[2], theirs[2], unit="ms")
        if ours[3] or theirs[3]:
            S.note("apps %s: errors under load: lockerd %d, nginx+php-fpm %d"
                   % (case, ours[3], theirs[3]))
    S.note("apps: both up, measured in turns, %d rounds of %d s each with %d connections"
           " after %d s of the same load unmeasured, the median kept; %d PHP processes a pool"
           " at most; php-fpm's cpu cgroup: %s; opcache.revalidate_freq: php-fpm's %s"
           " (Debian's php.ini), lockerd's %s"
           % (ROUNDS, SECONDS, CONNS, WARMUP, PHP_CHILDREN, a.fpm_cg,
              opcache_freq(["/usr/sbin/" + S.PHPFPM[-1]]),
              a.ld_freq[0] + " (php-cgi's -d)" if a.ld_freq else "Debian's php.ini's"))
    if tsv:
        # bench/run.sh's rows: server, case, req/s, p50, p99, non-2xx, errors, requests
        with open(tsv, "a") as f:
            for case, ours, theirs in rows:
                for who, r in (("lockerd", ours), ("nginx+fpm", theirs)):
                    f.write("%s\t%s\t%s\t%.3f\t%.3f\t0\t%d\t%d\n"
                            % (who, case, r[0], r[1], r[2], r[3], max(1, int(r[0] * SECONDS))))


def part_apps(tsv=None):
    S.say("apps: %s, lockerd vs nginx + php-fpm" % ", ".join(PAGES[c][1] for c in WHICH))
    a = Apps()
    a.setup()
    a.check_all()
    if ENV("APPS_HOLD"):
        a.hold(ENV("APPS_HOLD"))
    rows = a.measure()
    a.stop()
    report_rows(a, rows, tsv)


def main():
    if os.geteuid() != 0:
        S.die("run as root")
    part_apps(ENV("APPS_RESULTS"))
    S.report()


if __name__ == "__main__":
    main()
