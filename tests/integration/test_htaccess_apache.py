"""Differential test: `.htaccess` under lockerd versus Debian's Apache 2.4.

Every subdirectory of htaccess_corpus/ is a case: a site (its `.htaccess`
files, the files they protect or rewrite to) and a `requests.txt`.  Each
case is deployed as the whole site of a host of its own, CASE.test.example:
under lockerd as the web_scripts of a locker named `ht-CASE`, under Apache
as the DocumentRoot of a name-based virtual host with `AllowOverride All`
(mod_rewrite, mod_alias, mod_auth_basic, mod_authn_file,
mod_authz_groupfile, mod_access_compat, mod_autoindex, mod_headers,
mod_expires, mod_mime, mod_dir, mod_env, mod_setenvif and mod_php, loaded
by the test's own apache2.conf).  One Apache and one lockerd serve every
case of the module.

For each request both servers must agree on the status, `Location` (each
server's port written <PORT>), `WWW-Authenticate`, the headers the case
lists, and the body's source: a static file's bytes (every corpus file
names itself), the echo script's report (which script ran, with which
PATH_INFO, QUERY_STRING and REQUEST_URI, see _lib/echo.php), or a
directory listing's entries in order.

requests.txt, one item a line (shell-like quoting, # comments):

    echo: PATH ...          copies _lib/echo.php to these paths
    compare: HEADER ...     response headers compared for every request
    METHOD PATH [OPTION ...]
        auth=USER:PASSWORD  Basic credentials
        h=NAME:VALUE        a request header (repeatable)
        compare=H1,H2       more response headers compared for this one
        proto=HTTP/1.0      the request line's protocol (HTTP/1.1 unless told)
        body=text           compare the whole body (an ErrorDocument text)
        differ=WHAT:REASON  an intended difference: WHAT (status, location,
                            body or a header) is not compared, for REASON
        gap=PART:REASON     a known gap of lockerd, on main now, that PART of
                            issue 12 owns: the request is compared and must
                            still differ (the case fails once it agrees, so
                            that the gap is struck off); it is shown among pytest's warnings

`@DOCROOT@` in a corpus file is replaced by the site's directory on each
server (AuthUserFile and AuthGroupFile want absolute paths, and the two
servers' directories differ).

A case is skipped, naming what is missing, while the part of issue 12 that
brings it is not on main: lockerd does not read `.htaccess` at all yet
(htcore), an `<IfModule>` the case tests is false under lockerd but true
under Apache, or lockerd answers 500 with `unknown directive NAME` in the
locker's error log where Apache does not.  The list of skips shrinks by
itself as the parts land; a case whose features are all there and that
disagrees with Apache fails.

HTACCESS_DIFF_SHOW=1 (with -s) prints both servers' answers to every
request; HTACCESS_NO_SKIP=1 runs the cases whatever lockerd lacks.

An ETag is compared by its shape (which of inode, size and mtime make it,
in which order), since the two servers' copies of a file differ.

Intended differences for every case (INTENDED): Apache's own error pages
(401, 403, 404, 500 without an ErrorDocument) are its HTML, lockerd's its
own, so their bodies and Content-Types are not compared; lockerd names
`charset=utf-8` for text types where Apache (AddDefaultCharset Off) names
none; a Location lockerd gives as a path (its own slash redirect) is
resolved against the request before comparing.  When lockerd answers 500
where Apache does not, the failure shows the locker's error log lines of
that request.
"""
import html
import os
import re
import urllib.parse
import warnings
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import pwd
from email.utils import parsedate_to_datetime

import pytest

from conftest import TEST_BASE, Lockerd, free_port
from test_cgi_apache import APACHE, MODULES, ensure_apache, pids_of_uid, send, response

DOMAIN = "test.example"
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "htaccess_corpus")
ECHO = os.path.join(CORPUS, "_lib", "echo.php")
MOD_PHP = os.path.join(MODULES, "libphp8.2.so")
PROBE = "LockerdProbeNoSuchDirective"

INTENDED = {
    "relative Location": "lockerd's own redirects (a directory's slash) may give a path, "
                         "which RFC 9110 10.2.2 allows; it is resolved before comparing",
    "error page bodies": "Apache's built-in error pages are its HTML, lockerd's its own",
    "error page types": "and so are their Content-Types",
    "text charset": "lockerd names charset=utf-8 for a text type where Apache, with its "
                    "default AddDefaultCharset Off, names none (a charset both name is compared)",
}

ERROR_PAGE = "(" + INTENDED["error page bodies"] + ")"

# Which part of issue 12 brings a directive or a module (for skip reasons).
PART_OF_DIRECTIVE = [
    (r"^(Rewrite\w*|Redirect\w*)$", "htrw (mod_rewrite, mod_alias)"),
    (r"^(Require|Order|Allow|Deny|Satisfy|Auth\w*|SSL\w*)$", "htaccess (access, passwords)"),
    (r"^(ErrorDocument|Header|Expires\w*|Index\w*)$", "htaccess (documents)"),
    (r"^(DirectoryIndex|Options|Add(Type|Charset|DefaultCharset|Handler)|ForceType|"
     r"DefaultType|SetHandler|RemoveHandler|SetEnv\w*|UnsetEnv|php_\w*)$", "htcore (types)"),
]
PART_OF_MODULE = {
    "rewrite": "htrw", "alias": "htrw", "authz_core": "htaccess", "access_compat": "htaccess",
    "auth_basic": "htaccess", "authn_file": "htaccess", "authz_host": "htaccess",
    "authz_user": "htaccess", "authz_groupfile": "htaccess",
}

# The modules loaded in Apache, by the names <IfModule> accepts.
APACHE_MODULES = [
    ("mpm_prefork", "mod_mpm_prefork.so"), ("authz_core", "mod_authz_core.so"),
    ("authz_host", "mod_authz_host.so"), ("authz_user", "mod_authz_user.so"),
    ("authz_groupfile", "mod_authz_groupfile.so"), ("authn_core", "mod_authn_core.so"),
    ("authn_file", "mod_authn_file.so"), ("auth_basic", "mod_auth_basic.so"),
    ("access_compat", "mod_access_compat.so"), ("rewrite", "mod_rewrite.so"),
    ("alias", "mod_alias.so"), ("autoindex", "mod_autoindex.so"),
    ("headers", "mod_headers.so"), ("expires", "mod_expires.so"), ("mime", "mod_mime.so"),
    ("dir", "mod_dir.so"), ("env", "mod_env.so"), ("setenvif", "mod_setenvif.so"),
]


def part_of_directive(name):
    for pat, part in PART_OF_DIRECTIVE:
        if re.match(pat, name, re.I):
            return part
    return "no part of issue 12 names it"


def module_known_to_apache(name):
    """<IfModule> names Apache's configuration here satisfies: mod_X.c,
    X_module (and php's)."""
    n = name.lower()
    known = {m for m, _ in APACHE_MODULES} | {"php"}
    m = re.fullmatch(r"mod_(\w+)\.c", n) or re.fullmatch(r"(\w+)_module", n)
    return bool(m) and m.group(1) in known


# --- the corpus ------------------------------------------------------------

def load_case(name):
    d = os.path.join(CORPUS, name)
    files = {}
    for top, dirs, names in os.walk(d):
        for n in names:
            p = os.path.join(top, n)
            rel = os.path.relpath(p, d)
            if rel != "requests.txt":
                with open(p, "rb") as f:
                    files[rel] = f.read()
    case = dict(name=name, files=files, compare=[], requests=[])
    with open(os.path.join(d, "requests.txt")) as f:
        for lineno, line in enumerate(f, 1):
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] == "echo:":
                with open(ECHO, "rb") as e:
                    text = e.read()
                for p in words[1:]:
                    files[p] = text
            elif words[0] == "compare:":
                case["compare"] += [w.lower() for w in words[1:]]
            else:
                req = dict(method=words[0], path=words[1], headers=[], compare=[], differ={},
                           line=f"requests.txt:{lineno}: {line.strip()}")
                for opt in words[2:]:
                    k, _, v = opt.partition("=")
                    if k == "auth":
                        import base64
                        req["headers"].append("Authorization: Basic " +
                                              base64.b64encode(v.encode()).decode())
                    elif k == "h":
                        n, _, hv = v.partition(":")
                        req["headers"].append(f"{n}: {hv}")
                    elif k == "compare":
                        req["compare"] += [h.lower() for h in v.split(",")]
                    elif k == "body":
                        req["body"] = v
                    elif k == "proto":
                        assert v in ("HTTP/1.0", "HTTP/1.1"), f"{name}: {line}: proto={v}"
                        req["proto"] = v
                    elif k == "gap":
                        part, _, why = v.partition(":")
                        assert why, f"{name}: {line}: gap= needs PART:REASON"
                        req["gap"] = v
                    elif k == "differ":
                        what, _, why = v.partition(":")
                        assert why, f"{name}: {line}: differ= needs a reason"
                        req["differ"][what.lower()] = why
                    else:
                        raise AssertionError(f"{name}: requests.txt:{lineno}: unknown option {k}")
                case["requests"].append(req)
    return case


CASES = sorted(n for n in os.listdir(CORPUS)
               if not n.startswith("_") and os.path.isfile(os.path.join(CORPUS, n, "requests.txt")))


def htaccess_modules(case):
    """The <IfModule> names the case's .htaccess files test."""
    out = set()
    for rel, text in case["files"].items():
        if os.path.basename(rel) == ".htaccess":
            out |= set(re.findall(rb"<IfModule\s+!?\"?([\w.]+)", text, re.I))
    return {m.decode() for m in out}


# --- Apache -----------------------------------------------------------------

def ensure_mod_php():
    if os.path.exists(MOD_PHP):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    made_policy = not os.path.exists("/usr/sbin/policy-rc.d")
    if made_policy:
        with open("/usr/sbin/policy-rc.d", "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod("/usr/sbin/policy-rc.d", 0o755)
    try:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                        "libapache2-mod-php8.2"], capture_output=True, env=env, timeout=600)
    finally:
        if made_policy:
            os.unlink("/usr/sbin/policy-rc.d")
    if not os.path.exists(MOD_PHP):
        pytest.skip("libapache2-mod-php8.2 is not installed and apt-get could not install it")


class Apache:
    """Debian's apache2 (prefork, mod_php), a virtual host per case with
    AllowOverride All, running as USER; stopped by its pid."""

    def __init__(self, base, user):
        self.dir = os.path.join(base, "apache")
        self.sites = os.path.join(base, "sites")
        os.makedirs(self.dir)
        os.makedirs(self.sites)
        os.chmod(self.sites, 0o755)
        self.user = user
        self.port = free_port()
        self.conf = os.path.join(self.dir, "apache2.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.proc = None

    def site(self, case):
        return os.path.join(self.sites, case)

    def write_conf(self, cases):
        loads = "".join(f"LoadModule {m}_module {MODULES}/{so}\n" for m, so in APACHE_MODULES)
        vhosts = "".join(f"""<VirtualHost 127.0.0.1:{self.port}>
	ServerName {host_of(c)}
	DocumentRoot {self.site(c)}
</VirtualHost>
""" for c in cases)
        with open(self.conf, "w") as f:
            f.write(f"""# written by tests/integration/test_htaccess_apache.py
ServerRoot /etc/apache2
DefaultRuntimeDir {self.dir}
PidFile {self.dir}/apache2.pid
Mutex file:{self.dir} default
ErrorLog {self.error_log}
LogLevel warn
User {self.user}
Group {self.user}
Listen 127.0.0.1:{self.port}
{loads}LoadModule php_module {MOD_PHP}
StartServers 2
MinSpareServers 1
MaxSpareServers 4
TypesConfig /etc/mime.types
ServerName scripts.{DOMAIN}
HostnameLookups Off
UseCanonicalPhysicalPort On
AccessFileName .htaccess
# As Debian's apache2.conf: no .htaccess or .htpasswd is served.
<FilesMatch "^\\.ht">
	Require all denied
</FilesMatch>
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory {self.sites}>
	Options FollowSymLinks
	AllowOverride All
	Require all granted
	DirectoryIndex index.html index.htm index.php index.cgi index.pl index.py
</Directory>
# As Debian's autoindex.conf (its HeaderName and ReadmeName aside: lockerd
# shows neither, and no corpus directory has those files).
IndexOptions FancyIndexing VersionSort HTMLTable NameWidth=* DescriptionWidth=* Charset=UTF-8
IndexIgnore .??* *~ *# RCS CVS *,v *,t
# As Debian's php8.2.conf.
<FilesMatch ".+\\.ph(ar|p|tml)$">
	SetHandler application/x-httpd-php
</FilesMatch>
{vhosts}""")

    def start(self):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin", "LANG": "C"}
        r = subprocess.run([APACHE, "-t", "-f", self.conf], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError("apache2 refused its configuration: " + r.stderr + r.stdout)
        self.out = open(os.path.join(self.dir, "stdout"), "wb")
        self.proc = subprocess.Popen([APACHE, "-f", self.conf, "-DFOREGROUND"],
                                     stdout=self.out, stderr=self.out, env=env,
                                     start_new_session=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("apache2 exited while starting: " + self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("apache2 did not start: " + self.log())

    def log(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        self.out.close()


def locker_of(case):
    return "ht-" + case.replace("_", "-")


def host_of(case):
    return f"{locker_of(case)}.{DOMAIN}"


def deploy_apache(apache, case, uid, gid):
    root = apache.site(case["name"])
    os.makedirs(root, 0o755)
    os.chown(root, uid, gid)
    for rel, text in case["files"].items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), 0o755, exist_ok=True)
        d = os.path.dirname(p)
        while d != root:
            os.chown(d, uid, gid)
            d = os.path.dirname(d)
        with open(p, "wb") as f:
            f.write(text.replace(b"@DOCROOT@", root.encode()))
        os.chown(p, uid, gid)
        os.chmod(p, 0o644)


def deploy_lockerd(lockerd, case):
    name = locker_of(case["name"])
    info = lockerd.signup(name)
    root = os.path.join(info["home"], "web_scripts")
    for rel, text in case["files"].items():
        lockerd.put(name, rel, text.replace(b"@DOCROOT@", root.encode()), mode=0o644)


@pytest.fixture(scope="module")
def pair(build_dir):
    ensure_apache()
    ensure_mod_php()
    if os.geteuid() != 0:
        pytest.skip("needs root (useradd, lockerd)")
    os.makedirs(TEST_BASE, exist_ok=True)
    os.chmod(TEST_BASE, 0o755)
    base = tempfile.mkdtemp(prefix="htab", dir=TEST_BASE)
    os.chmod(base, 0o755)
    user = f"htab{os.getpid() % 100000}"
    made = apache = lockerd = None
    cases = {n: load_case(n) for n in CASES}
    try:
        if subprocess.run(["id", "-u", user], capture_output=True).returncode == 0:
            subprocess.run(["userdel", user], check=True)
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", base, "--shell", "/usr/sbin/nologin", user],
                       check=True, capture_output=True)
        made = pwd.getpwnam(user)
        apache = Apache(base, user)
        for c in cases.values():
            deploy_apache(apache, c, made.pw_uid, made.pw_gid)
        apache.write_conf(CASES)
        apache.start()
        lockerd = Lockerd(build_dir, domain=DOMAIN, extra="script-timeout 10\n")
        lockerd.start()
        for c in cases.values():
            deploy_lockerd(lockerd, c)
        lockerd.signup(locker_of("probe"))
        yield dict(apache=apache, lockerd=lockerd, cases=cases, probes={})
    finally:
        if apache is not None:
            apache.stop()
        if lockerd is not None:
            lockerd.cleanup()
        if made is not None:
            for p in pids_of_uid(made.pw_uid):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


# --- what lockerd has of issue 12 yet ---------------------------------------

def lockerd_get(lockerd, host, path):
    data = send(lockerd.port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                              f"Connection: close\r\n\r\n".encode())
    return response(data)[0]


def probe(pair, key, htaccess):
    """Whether lockerd answers 500 for a directory with this .htaccess
    (memoised; each probe in a directory of its own)."""
    if key not in pair["probes"]:
        n = len(pair["probes"])
        pair["lockerd"].put(locker_of("probe"), f"p{n}/.htaccess", htaccess, mode=0o644)
        pair["lockerd"].put(locker_of("probe"), f"p{n}/index.html", "probe\n", mode=0o644)
        pair["probes"][key] = lockerd_get(pair["lockerd"], host_of("probe"), f"/p{n}/") == 500
    return pair["probes"][key]


def missing_features(pair, case):
    """Why the case cannot pass yet, or None."""
    if not probe(pair, "htcore", PROBE + "\n"):
        return "lockerd does not read .htaccess yet (htcore)"
    for m in sorted(htaccess_modules(case)):
        if module_known_to_apache(m) and \
                not probe(pair, "mod " + m, f"<IfModule {m}>\n{PROBE}\n</IfModule>\n"):
            short = re.sub(r"^mod_|\.c$|_module$", "", m)
            return f"<IfModule {m}> is false under lockerd ({PART_OF_MODULE.get(short, 'htcore')})"
    return None


def error_logs(pair, case):
    """{path: size} of the locker's error logs."""
    logs = os.path.join(pair["lockerd"].logs, "lockers", locker_of(case["name"]))
    out = {}
    for top, _, names in os.walk(logs):
        for n in names:
            if "error" in n:
                out[os.path.join(top, n)] = os.path.getsize(os.path.join(top, n))
    return out


def new_log_text(pair, case, before):
    text = ""
    for path in error_logs(pair, case):
        with open(path, "rb") as f:
            f.seek(before.get(path, 0))
            text += f.read().decode("utf-8", "replace")
    return text


def unknown_directive(pair, case, before):
    """The directive the locker's error log has called unknown since
    `before` (error_logs()), for the request just made."""
    deadline = time.time() + 2      # the line goes through logd
    while True:
        m = re.search(r"unknown directive[:\s]+'?\"?([\w<>]+)", new_log_text(pair, case, before))
        if m or time.time() > deadline:
            return m.group(1).strip("<>") if m else None
        time.sleep(0.1)


# --- comparing ----------------------------------------------------------------

def head_and_body(data):
    head, _, _ = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        k = k.strip().lower()
        hdrs[k] = (hdrs[k] + ", " + v.strip()) if k in hdrs else v.strip()
    status, body = response(data)
    return status, hdrs, body


def body_source(status, hdrs, body, req):
    """What the body says about where it came from (see the module doc)."""
    if req.get("body") == "text":
        return body.decode("latin-1").strip()
    text = body.decode("utf-8", "replace")
    if "Index of" in text and "text/html" in hdrs.get("content-type", ""):
        # Names as the browser reads them: each server may escape otherwise.
        names = [urllib.parse.unquote(html.unescape(h))
                 for h in re.findall(r'href="([^"]+)"', text) if not h.startswith("?")]
        return "listing: " + " ".join(n for n in names if not n.startswith("/"))
    if text.startswith("script: ") or text.startswith("source: "):
        return text.strip()
    if status == 200:
        return text.strip()
    return ERROR_PAGE


def normalise_location(v, port, host):
    if v and v.startswith("/"):
        v = f"http://{host}:{port}{v}"
    return v.replace(f":{port}/", ":<PORT>/").replace(f":{port}", ":<PORT>") if v else v


def etag_shape(v):
    """An ETag's parts, not their values (each server has its own copy of a
    file: another inode and mtime); Apache's weak W/ for a file changed in
    the last second is not lockerd's."""
    return re.sub(r"[0-9a-f]+", "X", v[2:] if v.startswith("W/") else v)


def expires_close(a, b):
    try:
        return abs((parsedate_to_datetime(a) - parsedate_to_datetime(b)).total_seconds()) <= 5
    except (TypeError, ValueError):
        return a == b


def ask(srv, case, req):
    lines = [f"{req['method']} {req['path']} {req.get('proto', 'HTTP/1.1')}",
             f"Host: {host_of(case['name'])}",
             "Connection: close"] + req["headers"]
    if req["method"] in ("POST", "PUT"):
        lines.append("Content-Length: 0")
    data = send(srv.port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    status, hdrs, body = head_and_body(data)
    return dict(status=status, hdrs=hdrs, body=body,
                location=normalise_location(hdrs.get("location"), srv.port, host_of(case["name"])),
                source=body_source(status, hdrs, body, req))


def compare(case, req, a, l):
    out = []
    differ = req["differ"]
    if "status" not in differ and a["status"] != l["status"]:
        out.append(f"status: Apache {a['status']}, lockerd {l['status']}")
    if "location" not in differ and a["location"] != l["location"]:
        out.append(f"Location: Apache {a['location']!r}, lockerd {l['location']!r}")
    error_pages = a["source"] == l["source"] == ERROR_PAGE
    for h in ["www-authenticate"] + case["compare"] + req["compare"]:
        if h in differ or (h == "content-type" and error_pages):
            continue
        av, lv = a["hdrs"].get(h), l["hdrs"].get(h)
        if h == "content-type" and av and lv and "charset" not in av.lower():
            lv = re.sub(r";\s*charset=utf-8$", "", lv, flags=re.I)
        if h == "expires" and av and lv and expires_close(av, lv):
            continue
        if h == "etag" and av and lv:
            av, lv = etag_shape(av), etag_shape(lv)
        if av != lv:
            out.append(f"{h}: Apache {av!r}, lockerd {lv!r}")
    if "body" not in differ and a["source"] != l["source"]:
        out.append(f"body: Apache {a['source'][:400]!r}\n      lockerd {l['source'][:400]!r}")
    return out


@pytest.mark.parametrize("name", CASES)
def test_htaccess_matches_apache(pair, name):
    case = pair["cases"][name]
    why = missing_features(pair, case)
    if why and not os.environ.get("HTACCESS_NO_SKIP"):
        pytest.skip(why)
    report = []
    for req in case["requests"]:
        a = ask(pair["apache"], case, req)
        before = error_logs(pair, case)
        l = ask(pair["lockerd"], case, req)
        if os.environ.get("HTACCESS_DIFF_SHOW"):
            extra = lambda x: "".join(f"\n    {h}: {x['hdrs'].get(h)!r}" for h in
                                      case["compare"] + req["compare"] if h != "content-type")
            print(f"\n== {name}: {req['line']}\n  apache:  {a['status']} {a['location']} "
                  f"{a['source'][:300]!r}{extra(a)}\n  lockerd: {l['status']} {l['location']} "
                  f"{l['source'][:300]!r}{extra(l)}")
        if l["status"] == 500 and a["status"] != 500:
            d = unknown_directive(pair, case, before)
            if d:
                pytest.skip(f"lockerd: unknown directive {d} ({part_of_directive(d)})")
        diffs = compare(case, req, a, l)
        if req.get("gap"):
            if diffs:
                where = req["line"].split(" gap=")[0].split(' "gap=')[0]
                warnings.warn(f"{name}: known gap ({req['gap']}): {where}: " +
                              "; ".join(diffs))
            else:
                report.append(req["line"] + "\n    lockerd now agrees with Apache: strike the gap")
            continue
        if diffs:
            report.append(req["line"] + "\n    " + "\n    ".join(diffs))
            if a["status"] >= 500:
                report.append("Apache's error log: " + pair["apache"].log()[-800:])
            if l["status"] >= 500:
                time.sleep(0.3)     # the line goes through logd
                report.append("    the locker's error log: " +
                              new_log_text(pair, case, before)[-600:].strip())
    assert not report, f"{name}: lockerd differs from Apache:\n  " + "\n  ".join(report)


def test_corpus_is_well_formed():
    """Every case parses, has requests, and its differences carry reasons
    (this runs even while the cases themselves are skipped)."""
    assert len(CASES) >= 14
    for n in CASES:
        c = load_case(n)
        assert c["requests"], n
        assert any(os.path.basename(p) == ".htaccess" for p in c["files"]), n
        for r in c["requests"]:
            assert r["method"] in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"), r["line"]
            assert r["path"].startswith("/"), r["line"]
