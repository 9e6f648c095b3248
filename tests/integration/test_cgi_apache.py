"""Differential test: the CGI environment under lockerd versus Debian's Apache.

The same environment-dumping script, in sh (`env | sort`) and in Perl (%ENV
sorted), runs under Debian's Apache 2.4 and under lockerd, for every request
in CASES (query strings, PATH_INFO, encoded characters, POST bodies, unusual,
repeated and invalid headers, httpoxy, HTTP/1.0, odd Host headers, the
absolute form), in both URL forms:

- `/~USER/...` on the service host `scripts.test.example`;
- `USER.test.example/...`, a host of its own.

Apache: prefork + mod_cgi with its own config, pid file, logs and port,
running as a throw-away user USER; `/~USER` is an Alias of ~USER/public_html
(UserDir-style: mod_userdir itself would hand every request to suexec when
apache2-suexec-* is installed, and suexec only runs what lies under its
compiled-in docroot), and `USER.test.example` is a name-based virtual host
whose DocumentRoot is that directory.  Two settings make Apache behave as a
server on the port its clients use and as a server without authentication
of its own, which is what lockerd is: `UseCanonicalPhysicalPort On`
(SERVER_PORT without a port in Host is the port connected to, not 80) and
`CGIPassAuth On` (Authorization reaches the script, which must check it).

lockerd: a locker named USER with the same files in web_scripts.

For each request both must answer with the same status and, on 200, the same
meta-variables, once the paths that differ by layout are written <DOCROOT>
(Apache's ~USER/public_html, lockerd's web_scripts) and <SERVER_DOCROOT>
(Apache's main DocumentRoot), and each server's port <PORT>.

Intended differences (INTENDED, INTENDED_TILDE and the cases' `allow`;
anything else fails the test):

- SERVER_SOFTWARE: each server names itself.
- SERVER_SIGNATURE: Apache's HTML footer for its own error pages (empty
  with its default `ServerSignature Off`); lockerd has no such footer.
- SERVER_ADMIN: Apache's `ServerAdmin` setting; lockerd has none.
- PATH: Apache passes on its own environment's PATH; lockerd sets a fixed,
  minimal one.
- PHPRC: lockerd sets it to the script's directory so that a php.ini next
  to the script applies (a scripts.mit.edu feature; issue 3).
- HOME: lockerd sets it to the locker's home, so that `~` and tools'
  dotfiles work (Apache passes its own environment's, if any).
- REDIRECT_STATUS: lockerd always sets 200 because php-cgi refuses to run
  without it (cgi.force_redirect); Apache sets it only after an internal
  redirect.
- REMOTE_PORT: the client's ephemeral port, different on every connection.
- DOCUMENT_ROOT and PATH_TRANSLATED, for `/~USER/` URLs only: Apache keeps
  the server's DocumentRoot for a user directory (mod_userdir and Alias
  alike) and translates PATH_INFO as a URL of the server's root; lockerd
  treats the locker's web_scripts as the document root in both URL forms,
  so that a script sees the same values however it is reached.  (In the
  virtual-host form the two agree and are compared.)
- Per case: SERVER_PORT when the Host header names a port other than the
  one connected to (Apache takes the Host's port; lockerd follows RFC 3875
  4.1.15, the port the request came in on); CONTENT_LENGTH for a chunked
  body (lockerd de-chunks it and sets the length, RFC 3875 4.1.2; Apache's
  mod_cgi passes no length); and the status of a path with an encoded
  slash, which both refuse (Apache 404 with AllowEncodedSlashes Off,
  lockerd 400).

Debian's apache2 is installed with apt-get when missing (policy-rc.d keeps
the package from starting the system's Apache); the test is skipped only
when that fails.  Every server it starts is stopped by its pid, and the user
it creates is removed.  CGI_DIFF_SHOW=1 (with -s) prints both environments
of every request.
"""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import TEST_BASE, Lockerd, free_port

# Variable -> why lockerd's value may differ from Apache's (see above).
INTENDED = {
    "SERVER_SOFTWARE": "each server names itself",
    "SERVER_SIGNATURE": "Apache's HTML footer for its own pages; lockerd has none",
    "SERVER_ADMIN": "Apache's ServerAdmin setting; lockerd has none",
    "PATH": "Apache passes on its own PATH; lockerd sets a fixed, minimal one",
    "PHPRC": "lockerd: the script's directory, so a php.ini next to it applies",
    "HOME": "lockerd: the locker's home, so ~ works",
    "REDIRECT_STATUS": "lockerd always sets 200 for php-cgi's cgi.force_redirect",
    "REMOTE_PORT": "the client's ephemeral port differs per connection",
}
# Only for /~USER/ URLs.
INTENDED_TILDE = {
    "DOCUMENT_ROOT": "Apache keeps the server's DocumentRoot for a user directory; "
                     "lockerd's is the locker's web_scripts in both URL forms",
    "PATH_TRANSLATED": "Apache translates PATH_INFO under the server's DocumentRoot; "
                       "lockerd under the locker's web_scripts",
}

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
DOMAIN = "test.example"
SERVICE = "scripts." + DOMAIN

ENV_SH = """#!/bin/sh
echo "Content-Type: text/plain"
echo
env | sort
"""
ENV_PL = """#!/usr/bin/perl
print "Content-Type: text/plain\\n\\n";
print "$_=$ENV{$_}\\n" for sort keys %ENV;
"""
SCRIPTS = {"env.sh": ENV_SH, "env.pl": ENV_PL, "dir/index.pl": ENV_PL}

BODY_FORM = b"a=1&b=two+words&c=%2F"
BODY_MULTI = (b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
              b"Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n")

# Requests.  path: after the root of the URL form ("/~USER" or the virtual
# host); it names env.sh, and is sent once as it is and once with env.pl in
# its place (scripts: other choices).  headers: sent to both servers as they
# are.  host: the Host header instead of the usual one ({name}: the URL
# form's host name, {NAME} the same upper-cased, {port}: the server's own).
# absolute: the request-target in absolute form.  tilde: the "/~USER" prefix
# spelt otherwise.  refused: both must refuse (any 4xx).  allow: variables
# that may differ for this request, with the reason.
CASES = [
    dict(id="plain", path="/env.sh"),
    dict(id="empty-query", path="/env.sh?"),
    dict(id="query-encoded", path="/env.sh?a=1&b=%20x&c=%2F&d=a+b&e=%C3%A9&f&g=a/b?c&h=%25"),
    dict(id="query-plus-only", path="/env.sh?+"),
    dict(id="path-info", path="/env.sh/extra/p%20ath"),
    dict(id="path-info-encoded", path="/env.sh/a%25b/%C3%A9/c+d/%7Euser/x%3Fy%23z?q=1"),
    dict(id="path-info-slash", path="/env.sh/"),
    dict(id="path-info-dots", path="/env.sh/a/./b/../c"),
    dict(id="path-info-double-slash", path="/env.sh/a//b"),
    dict(id="path-info-encoded-slash", path="/env.sh/a%2Fb", refused=True),
    dict(id="script-name-encoded", path="/env%2Esh/x"),
    dict(id="directory-index", path="/dir/?x=1", scripts=("dir/index.pl",)),
    dict(id="post-form", method="POST", path="/env.sh?q=1",
         headers=[b"Content-Type: application/x-www-form-urlencoded",
                  b"Content-Length: %d" % len(BODY_FORM)], body=BODY_FORM),
    dict(id="post-multipart", method="POST", path="/env.sh",
         headers=[b"Content-Type: multipart/form-data; boundary=XyZ",
                  b"Content-Length: %d" % len(BODY_MULTI)], body=BODY_MULTI),
    dict(id="post-empty", method="POST", path="/env.sh",
         headers=[b"Content-Type: text/plain", b"Content-Length: 0"]),
    dict(id="post-chunked", method="POST", path="/env.sh",
         headers=[b"Content-Type: application/octet-stream", b"Transfer-Encoding: chunked"],
         body=b"5\r\nhello\r\n0\r\n\r\n", allow={"CONTENT_LENGTH": "lockerd de-chunks the "
                                                 "body and sets its length (RFC 3875 4.1.2)"}),
    dict(id="put", method="PUT", path="/env.sh/res",
         headers=[b"Content-Type: application/json", b"Content-Length: 2"], body=b"{}"),
    dict(id="delete", method="DELETE", path="/env.sh/res"),
    dict(id="headers", path="/env.sh",
         headers=[b"X-Custom-Thing: yes", b"x-lower-case: v", b"X-Empty:", b"X-Spaces:   padded   ",
                  b"X-Dup: 1", b"X-Dup: 2", b"Cookie: a=1", b"Cookie: b=2",
                  b"Accept-Language: en, fr;q=0.5", b"User-Agent: differential/1.0",
                  b"X-Long: " + b"v" * 3000, b"X-1: one", b"Referer: http://x.example/?a=b",
                  b"Content-Type: text/x-on-a-get"]),
    dict(id="header-underscore", path="/env.sh",
         headers=[b"X_Under: no", b"X-Under: yes", b"Content_Length: 99", b"X.Dot: no",
                  b"X~Tilde: no", b"X-Ok-9: yes"]),
    dict(id="httpoxy", path="/env.sh", headers=[b"Proxy: http://evil.example:3128/"]),
    dict(id="authorization", path="/env.sh",
         headers=[b"Authorization: Basic dXNlcjpwYXNz", b"Proxy-Authorization: Basic eDp5"]),
    dict(id="http10", path="/env.sh?v=10", version=b"HTTP/1.0"),
    dict(id="host-with-port", path="/env.sh", host="{name}:{port}"),
    dict(id="host-other-port", path="/env.sh", host="{name}:8080",
         allow={"SERVER_PORT": "Apache takes the Host's port (UseCanonicalName Off); "
                               "lockerd the port connected to (RFC 3875 4.1.15)"}),
    dict(id="host-upper-case", path="/env.sh", host="{NAME}"),
    dict(id="host-trailing-dot", path="/env.sh", host="{name}."),
    dict(id="absolute-form", path="/env.sh?x=1", absolute=True),
    dict(id="absolute-form-other-host", path="/env.sh?x=1", absolute=True,
         host="nobody.elsewhere.example"),
    dict(id="dot-segments-to-script", path="/dir/../env.sh/p?x=1"),
    dict(id="encoded-tilde", path="/env.sh", tilde="/%7E{user}"),
    dict(id="directory-without-slash", path="/dir?x=1", scripts=("dir/index.pl",)),
    dict(id="missing-script", path="/nope.sh/x"),
]


def case_id(c):
    return c["id"]


# --- the throw-away user and Apache ---------------------------------------

def ensure_apache():
    """Install Debian's apache2 if it is missing; skip when that fails.
    Package scripts must not start Apache on port 80: policy-rc.d says no."""
    if os.path.exists(APACHE):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("apache2 is not installed and cannot be (need root and apt-get)")
    made_policy = not os.path.exists("/usr/sbin/policy-rc.d")
    if made_policy:
        with open("/usr/sbin/policy-rc.d", "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod("/usr/sbin/policy-rc.d", 0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "apache2"],
                           capture_output=True, text=True, env=env, timeout=600)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env, timeout=600)
            r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                                "apache2"], capture_output=True, text=True, env=env, timeout=600)
    finally:
        if made_policy:
            os.unlink("/usr/sbin/policy-rc.d")
    if r.returncode != 0 or not os.path.exists(APACHE):
        pytest.skip("apache2 is not installed and apt-get could not install it: " +
                    (r.stderr or r.stdout).strip()[-300:])


class Apache:
    """Debian's apache2, prefork + mod_cgi, running as USER, with its own
    config, pid file, logs and port; stopped by its pid."""

    def __init__(self, base, user, home):
        self.dir = os.path.join(base, "apache")
        self.docroot = os.path.join(base, "htdocs")
        os.makedirs(self.dir)
        os.makedirs(self.docroot)
        os.chmod(self.docroot, 0o755)
        self.userdir = os.path.join(home, "public_html")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "apache2.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.proc = None
        with open(self.conf, "w") as f:
            f.write(f"""# written by tests/integration/test_cgi_apache.py
ServerRoot /etc/apache2
DefaultRuntimeDir {self.dir}
PidFile {self.dir}/apache2.pid
Mutex file:{self.dir} default
ErrorLog {self.error_log}
LogLevel warn
User {user}
Group {user}
Listen 127.0.0.1:{self.port}
LoadModule mpm_prefork_module {MODULES}/mod_mpm_prefork.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule mime_module {MODULES}/mod_mime.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule alias_module {MODULES}/mod_alias.so
LoadModule cgi_module {MODULES}/mod_cgi.so
StartServers 2
MinSpareServers 1
MaxSpareServers 4
TypesConfig /etc/mime.types
ServerName {SERVICE}
ServerAdmin webmaster@{DOMAIN}
HostnameLookups Off
# Without a port in the Host header, SERVER_PORT is the port connected to (as
# for a server on the usual port), not ServerName's or 80.
UseCanonicalPhysicalPort On

<Directory />
	AllowOverride None
	Require all denied
</Directory>
<VirtualHost 127.0.0.1:{self.port}>
	ServerName {SERVICE}
	DocumentRoot {self.docroot}
	Alias /~{user} {self.userdir}
</VirtualHost>
<VirtualHost 127.0.0.1:{self.port}>
	ServerName {user}.{DOMAIN}
	DocumentRoot {self.userdir}
</VirtualHost>
<Directory {self.docroot}>
	Require all granted
</Directory>
<Directory {self.userdir}>
	Options +ExecCGI
	AllowOverride None
	AddHandler cgi-script .sh .pl
	DirectoryIndex index.pl
	CGIPassAuth On
	Require all granted
</Directory>
""")

    def start(self):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
               "LANG": "C"}
        r = subprocess.run([APACHE, "-t", "-f", self.conf], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError("apache2 refused its configuration: " + r.stderr + r.stdout)
        self.out = open(os.path.join(self.dir, "stdout"), "wb")
        # Its own session: prefork's parent signals its whole process group
        # when it stops (killpg), which would otherwise include pytest.
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
        text = ""
        for p in (os.path.join(self.dir, "stdout"), self.error_log):
            try:
                with open(p, errors="replace") as f:
                    text += f.read()[-3000:]
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)	# its own group
                self.proc.wait()
        self.proc = None
        self.out.close()


def pids_of_uid(uid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/status") as f:
                    if re.search(rf"^Uid:\s+{uid}\s", f.read(), re.M):
                        out.append(int(p))
            except OSError:
                pass
    return out


@pytest.fixture(scope="module")
def pair(build_dir):
    ensure_apache()
    if os.geteuid() != 0:
        pytest.skip("needs root (useradd, lockerd)")
    os.makedirs(TEST_BASE, exist_ok=True)
    os.chmod(TEST_BASE, 0o755)
    base = tempfile.mkdtemp(prefix="cgiab", dir=TEST_BASE)
    os.chmod(base, 0o755)
    name = f"cgiab{os.getpid() % 100000}"
    home = os.path.join(base, "home", name)
    user_made = apache = lockerd = None
    try:
        if subprocess.run(["id", "-u", name], capture_output=True).returncode == 0:
            subprocess.run(["userdel", name], check=True)
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", home, "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        user_made = pwd.getpwnam(name)
        os.makedirs(os.path.join(base, "home"), mode=0o755)
        for d in (home, os.path.join(home, "public_html"), os.path.join(home, "public_html", "dir")):
            os.mkdir(d, 0o755)
            os.chown(d, user_made.pw_uid, user_made.pw_gid)
        for rel, text in SCRIPTS.items():
            p = os.path.join(home, "public_html", rel)
            with open(p, "w") as f:
                f.write(text)
            os.chown(p, user_made.pw_uid, user_made.pw_gid)
            os.chmod(p, 0o755)

        apache = Apache(base, name, home)
        apache.start()
        lockerd = Lockerd(build_dir, domain=DOMAIN, extra="script-timeout 10\n")
        lockerd.start()
        info = lockerd.signup(name)
        for rel, text in SCRIPTS.items():
            lockerd.put(name, rel, text, mode=0o700)
        yield dict(name=name, apache=apache, lockerd=lockerd,
                   a_docroot=apache.userdir, a_server_docroot=apache.docroot,
                   l_docroot=os.path.join(info["home"], "web_scripts"))
    finally:
        if apache is not None:
            apache.stop()
        if lockerd is not None:
            lockerd.cleanup()
        if user_made is not None:
            for p in pids_of_uid(user_made.pw_uid):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


# --- requests -------------------------------------------------------------

def send(port, data, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    return b"".join(chunks)


def response(data):
    """(status, body) of one response that ends when the connection does."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    assert sep, f"no response head in {data[:300]!r}"
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            line, _, rest = rest.partition(b"\r\n")
            n = int(line.split(b";")[0], 16)
            if n == 0:
                break
            body += rest[:n]
            rest = rest[n + 2:]
        return status, body
    if "content-length" in hdrs:
        return status, rest[:int(hdrs["content-length"])]
    return status, rest


def request(case, port, prefix, host):
    method = case.get("method", "GET").encode()
    version = case.get("version", b"HTTP/1.1")
    target = (prefix + case["path"]).encode()
    if case.get("absolute"):
        target = b"http://" + case["uri_host"].encode() + b":%d" % port + target
    lines = [method + b" " + target + b" " + version, b"Host: " + host.encode(),
             b"Connection: close"]
    lines += [h.replace(b"{port}", str(port).encode()) for h in case.get("headers", [])]
    return b"\r\n".join(lines) + b"\r\n\r\n" + case.get("body", b"")


def env_of(body):
    out = {}
    for line in body.decode("utf-8", "surrogateescape").split("\n"):
        k, sep, v = line.partition("=")
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
            out[k] = v
    return out


def normalise(env, port, docroots):
    out = {}
    for k, v in env.items():
        for path, token in docroots:
            v = v.replace(path, token)
        if k == "SERVER_PORT" and v == str(port):
            v = "<PORT>"
        v = v.replace(f":{port}", ":<PORT>") if k in ("HTTP_HOST", "REQUEST_URI") else v
        out[k] = v
    return out


def run_both(pair, case, form, script):
    """Send the case to both servers: [(status, env, body) of Apache, of lockerd],
    env normalised (empty unless the status is 200)."""
    name = pair["name"]
    path_case = dict(case)
    if script == "env.pl":
        path_case["path"] = case["path"].replace("/env.sh", "/" + script, 1)
    prefix = case.get("tilde", "/~{user}").format(user=name) if form == "tilde" else ""
    results = []
    for who in ("apache", "lockerd"):
        srv = pair[who]
        hostname = SERVICE if form == "tilde" else f"{name}.{DOMAIN}"
        host = case.get("host", "{name}").format(name=hostname, NAME=hostname.upper(),
                                                 port=srv.port)
        path_case["uri_host"] = hostname
        data = send(srv.port, request(path_case, srv.port, prefix, host))
        status, body = response(data)
        docroots = [(pair["a_docroot"], "<DOCROOT>"), (pair["a_server_docroot"], "<SERVER_DOCROOT>")] \
            if who == "apache" else [(pair["l_docroot"], "<DOCROOT>")]
        env = normalise(env_of(body), srv.port, docroots) if status == 200 else {}
        results.append((status, env, body))
    return results


def differences(case, form, a_env, l_env):
    """[(var, apache's, lockerd's)] not covered by an intended difference."""
    allowed = dict(INTENDED)
    allowed.update(case.get("allow", {}))
    if form == "tilde":
        allowed.update(INTENDED_TILDE)
    out = []
    for k in sorted(set(a_env) | set(l_env)):
        if k in allowed:
            continue
        if a_env.get(k) != l_env.get(k):
            out.append((k, a_env.get(k), l_env.get(k)))
    return out


@pytest.mark.parametrize("form", ["tilde", "vhost"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_cgi_environment_matches_apache(pair, case, form):
    report = []
    for script in case.get("scripts", ("env.sh", "env.pl")):
        (a_st, a_env, a_body), (l_st, l_env, l_body) = run_both(pair, case, form, script)
        if os.environ.get("CGI_DIFF_SHOW"):
            print(f"\n== {case['id']} {form} {script}: apache {a_st}, lockerd {l_st}")
            for k in sorted(set(a_env) | set(l_env)):
                mark = " " if a_env.get(k) == l_env.get(k) else "*"
                print(f"{mark} {k}\n    apache:  {a_env.get(k)!r}\n    lockerd: {l_env.get(k)!r}")
        if case.get("refused") and 400 <= a_st < 500 and 400 <= l_st < 500:
            continue
        if a_st != l_st:
            report.append(f"{script}: status: Apache {a_st}, lockerd {l_st}"
                          f" (lockerd's body: {l_body[:200]!r})")
            if a_st >= 500:
                report.append("Apache's error log: " + pair["apache"].log()[-1500:])
            continue
        if a_st != 200:
            continue
        assert "GATEWAY_INTERFACE" in a_env, a_body[:500]
        for k, a, l in differences(case, form, a_env, l_env):
            report.append(f"{script}: {k}: Apache {a!r}, lockerd {l!r}")
    assert not report, f"{case['id']} ({form}): lockerd differs from Apache:\n  " + \
        "\n  ".join(report)


def test_intended_differences_have_lockerds_values(pair):
    """The intended differences are what they claim to be: lockerd's own
    values, in both URL forms (Apache's are covered by the other test)."""
    case = dict(id="x", path="/env.sh/p%20i?x=1")
    for form in ("tilde", "vhost"):
        (_, a_env, _), (l_st, l, body) = run_both(pair, case, form, "env.sh")
        assert l_st == 200, body
        assert l["SERVER_SOFTWARE"].startswith("lockerd/")
        assert l["PHPRC"] == "<DOCROOT>"
        assert l["REDIRECT_STATUS"] == "200"
        assert l["PATH"] and "/usr/bin" in l["PATH"].split(":")
        assert re.fullmatch(r"[1-9][0-9]*", l["REMOTE_PORT"]) and \
            re.fullmatch(r"[1-9][0-9]*", a_env["REMOTE_PORT"])
        assert l["DOCUMENT_ROOT"] == "<DOCROOT>"
        assert l["PATH_TRANSLATED"] == "<DOCROOT>/p i"
        if form == "tilde":
            assert a_env["DOCUMENT_ROOT"] == "<SERVER_DOCROOT>"
            assert a_env["PATH_TRANSLATED"] == "<SERVER_DOCROOT>/p i"
