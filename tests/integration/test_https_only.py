"""Per-vhost HTTPS choices: `locker vhost add ... --https-only|--no-https-only`,
the configuration's `https-only` default, kept in the directory and listed."""
import json
import signal
import time

import pytest


@pytest.fixture
def d(make_lockerd):
    from conftest import free_port
    m = make_lockerd(extra=f"listen 127.0.0.1:{free_port()} tls\n").start()
    m.signup("alice")
    return m


def test_https_only_needs_a_tls_listener(make_lockerd, build_dir):
    import os
    import subprocess
    m = make_lockerd().start()
    m.signup("alice")
    r = m.locker("vhost", "add", "alice", "x.alice.org", "--https-only", check=False)
    assert r.returncode == 1 and "--https-only needs a TLS listener" in r.stderr, r.stderr
    assert m.locker("vhost", "add", "alice", "x.alice.org", "--no-https-only").returncode == 0
    with open(m.conf, "a") as f:
        f.write("https-only yes\n")
    r = subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-c", m.conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "https-only yes needs a TLS listener" in r.stderr, r.stderr


def vhosts(d):
    return {v["host"]: v for v in json.loads(d.locker("vhost", "list", "--json").stdout)}


def test_https_only_is_kept_and_listed(d):
    d.locker("vhost", "add", "alice", "secure.alice.org", "--https-only")
    d.locker("vhost", "add", "alice", "plain.alice.org", "--no-https-only")
    d.locker("vhost", "add", "alice", "either.alice.org")
    v = vhosts(d)
    assert (v["secure.alice.org"]["https_only"], v["secure.alice.org"]["https"]) == \
        (True, "only")
    assert (v["plain.alice.org"]["https_only"], v["plain.alice.org"]["https"]) == \
        (False, "plain-ok")
    assert (v["either.alice.org"]["https_only"], v["either.alice.org"]["https"]) == \
        (False, "default")
    out = d.locker("vhost", "list").stdout
    assert any(line.startswith("secure.alice.org") and "(https-only)" in line
               for line in out.splitlines()), out
    assert "https://secure.alice.org/" in d.locker("info", "alice").stdout


def test_adding_again_changes_only_the_choice(d):
    d.locker("vhost", "add", "alice", "blog.alice.org", "--path", "blog")
    d.locker("vhost", "add", "alice", "blog.alice.org", "--path", "blog", "--https-only")
    v = vhosts(d)["blog.alice.org"]
    assert (v["https"], v["path"]) == ("only", "blog")
    d.locker("vhost", "add", "alice", "blog.alice.org", "--path", "blog", "--no-https-only")
    assert vhosts(d)["blog.alice.org"]["https"] == "plain-ok"
    audit = d.locker("audit", "alice").stdout
    assert "vhost-https" in audit and "https-only" in audit, audit
    # Another path, or no choice given, is still "already belongs".
    r = d.locker("vhost", "add", "alice", "blog.alice.org", "--https-only", check=False)
    assert r.returncode == 1 and "already belongs to this locker" in r.stderr
    r = d.locker("vhost", "add", "alice", "blog.alice.org", "--path", "blog", check=False)
    assert r.returncode == 1 and "already belongs to this locker" in r.stderr


def test_both_choices_at_once_are_a_usage_error(d):
    r = d.locker("vhost", "add", "alice", "x.alice.org", "--https-only", "--no-https-only",
                 check=False)
    assert r.returncode == 2
    assert "x.alice.org" not in vhosts(d)
    # Other verbs take neither.
    r = d.locker("vhost", "remove", "x.alice.org", "--https-only", check=False)
    assert r.returncode == 2


def test_configuration_default_applies_to_names_without_a_choice(d):
    d.locker("vhost", "add", "alice", "either.alice.org")
    d.locker("vhost", "add", "alice", "plain.alice.org", "--no-https-only")
    with open(d.conf, "a") as f:
        f.write("https-only yes\n")
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and not vhosts(d)["either.alice.org"]["https_only"]:
        time.sleep(0.1)
    v = vhosts(d)
    assert v["either.alice.org"]["https_only"] is True
    assert v["plain.alice.org"]["https_only"] is False


# --- in front: the redirect and HSTS, over a real TLS listener ---

from conftest import TEST_BASE, Lockerd, free_port, get   # noqa: E402
from test_tls import CA, run   # noqa: E402

DOMAIN = "test.example"
SECURE, PLAIN, EITHER = "secure.alice-site.org", "plain.alice-site.org", "either.alice-site.org"


@pytest.fixture(scope="module")
def tls(build_dir):
    import os
    import shutil
    os.makedirs(TEST_BASE, exist_ok=True)
    pki = os.path.join(TEST_BASE, f"pki-https-only{os.getpid()}")
    os.makedirs(pki, exist_ok=True)
    ca = CA(pki)
    wild = ca.leaf("wild", f"/CN=*.{DOMAIN}", ["*." + DOMAIN, DOMAIN])
    sites = ca.leaf("sites", f"/CN={SECURE}", [SECURE, PLAIN, EITHER])
    port = free_port()
    ld = Lockerd(build_dir, domain=DOMAIN, extra=(
        f"listen 127.0.0.1:{port} tls\n"
        f"certificate *.{DOMAIN} {wild[0]} {wild[1]}\n"
        f"certificate {DOMAIN} {wild[0]} {wild[1]}\n"
        + "".join(f"certificate {h} {sites[0]} {sites[1]}\n" for h in (SECURE, PLAIN, EITHER))))
    ld.tls_port, ld.ca = port, ca.crt
    ld.start()
    ld.signup("alice")
    ld.put("alice", "index.html", "alice's page\n", mode=0o644)
    ld.put("alice", "sts.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n"
           "Strict-Transport-Security: max-age=1\\n\\nhi\\n'\n", mode=0o755)
    ld.locker("vhost", "add", "alice", SECURE, "--https-only")
    ld.locker("vhost", "add", "alice", PLAIN, "--no-https-only")
    ld.locker("vhost", "add", "alice", EITHER)
    yield ld
    ld.cleanup()
    shutil.rmtree(pki, ignore_errors=True)


def https_get(d, host, path="/"):
    """(status, headers lower-cased, body) of a GET over TLS, verified against the CA."""
    r = run("curl", "-sS", "--cacert", d.ca, "--resolve", f"{host}:{d.tls_port}:127.0.0.1",
            "-D", "-", "-o", "/dev/null", f"https://{host}:{d.tls_port}{path}")
    lines = r.stdout.replace("\r", "").split("\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    heads = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            heads.setdefault(k.strip().lower(), []).append(v.strip())
    return status, heads


def reload_with(d, **keys):
    """Set these directives (https_only: https-only) and SIGHUP."""
    import signal
    import time
    keys = {k.replace("_", "-"): v for k, v in keys.items()}
    with open(d.conf) as f:
        lines = [line for line in f.read().splitlines() if line.split(" ")[0] not in keys]
    d.write_conf("\n".join(lines + [f"{k} {v}" for k, v in keys.items()]) + "\n")
    d.proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)


def test_https_only_vhost_redirects_plain_http_and_sends_hsts(tls):
    s, h, _ = get(tls.port, "/dir/a%20b.html?x=1&y=2", SECURE)
    assert s == 301
    assert h["location"] == f"https://{SECURE}:{tls.tls_port}/dir/a%20b.html?x=1&y=2", h
    status, heads = https_get(tls, SECURE)
    assert status == 200
    assert heads["strict-transport-security"] == ["max-age=31536000"]
    # ACME's HTTP-01 is asked over plain HTTP: never redirected.
    s, h, _ = get(tls.port, "/.well-known/acme-challenge/tok", SECURE)
    assert s != 301


def test_a_script_cannot_add_a_second_hsts_header(tls):
    status, heads = https_get(tls, SECURE, "/sts.cgi")
    assert status == 200
    assert heads["strict-transport-security"] == ["max-age=31536000"], heads
    # Where the name is not https-only, the script's own goes out as it is.
    status, heads = https_get(tls, EITHER, "/sts.cgi")
    assert heads["strict-transport-security"] == ["max-age=1"], heads


def test_other_vhosts_are_served_over_both_without_hsts(tls):
    for host in (PLAIN, EITHER, "alice." + DOMAIN):
        s, _, b = get(tls.port, "/", host)
        assert (s, b) == (200, b"alice's page\n"), host
        status, heads = https_get(tls, host)
        assert status == 200 and "strict-transport-security" not in heads, host


def test_redirect_cannot_be_made_to_carry_a_header(tls):
    # What the client sends goes back in Location only as the parser let it
    # through: no CR or LF reaches it, and a Host with a port loses the port.
    s, h, _ = get(tls.port, "/x%0d%0aSet-Cookie:%20a=b", SECURE)
    assert s == 400 and "set-cookie" not in h and "location" not in h
    s, h, _ = get(tls.port, "/x;Set-Cookie:a=b", "SECURE.alice-site.org.:80")
    assert s == 301 and "set-cookie" not in h
    assert h["location"] == f"https://{SECURE}:{tls.tls_port}/x;Set-Cookie:a=b"


def test_configuration_https_only_and_hsts_max_age(tls):
    reload_with(tls, https_only="yes", hsts_max_age="1h")
    try:
        s, h, _ = get(tls.port, "/p", "alice." + DOMAIN)
        assert s == 301
        assert h["location"] == f"https://alice.{DOMAIN}:{tls.tls_port}/p"
        assert get(tls.port, "/p", EITHER)[0] == 301
        # Its own choice wins over the configuration's.
        assert get(tls.port, "/", PLAIN)[0] == 200
        status, heads = https_get(tls, EITHER)
        assert heads["strict-transport-security"] == ["max-age=3600"]
        reload_with(tls, hsts_max_age="0")
        status, heads = https_get(tls, SECURE)
        assert status == 200 and "strict-transport-security" not in heads
        assert get(tls.port, "/", SECURE)[0] == 301
    finally:
        reload_with(tls, https_only="no", hsts_max_age="365d")
    status, heads = https_get(tls, SECURE)
    assert status == 200 and heads["strict-transport-security"] == ["max-age=31536000"]
