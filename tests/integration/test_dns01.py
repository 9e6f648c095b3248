"""DNS-01's RFC 2136 updates with TSIG, and the resolves-here check, against a
real knotd (knot.py): src/dns01.c through build/dns01-tool, and `lockerd -t`'s
check of the secret file."""
import os
import socket
import subprocess
import time

import pytest

from knot import Knot

TEST_BASE = "/var/lib/lockerd-test"
TXT = "Xq3vG1k7_L0nG-b4se64url-d1gest-0f-a-k3y-auth"


@pytest.fixture(scope="module")
def knot():
    os.makedirs(TEST_BASE, exist_ok=True)
    import tempfile
    k = Knot(tempfile.mkdtemp(prefix="knot", dir=TEST_BASE))
    k.start()
    k.set("elsewhere.lockerd.test.", "A", "192.0.2.1")
    k.set("both.lockerd.test.", "AAAA", "2001:db8::1")
    k.set("six.lockerd.test.", "AAAA", "::1")
    yield k
    k.stop()


def write_conf(tmp_path, server, secret_file, extra="", alg="hmac-sha256",
               key="lockerd-key", zone="lockerd.test", listen="127.0.0.1:8080"):
    conf = tmp_path / "lockerd.conf"
    conf.write_text(f"listen {listen}\ndomain {zone}\n"
                    f"# the zone's server, for DNS-01\n"
                    f"acme-dns-update {server} {zone} {key} {alg} {secret_file}\n"
                    + extra)
    os.chmod(conf, 0o644)
    return str(conf)


def tool(build_dir, conf, *args, timeout=30):
    return subprocess.run([os.path.join(build_dir, "dns01-tool"), conf] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def test_update_adds_then_deletes_the_txt(build_dir, knot, tmp_path):
    conf = write_conf(tmp_path, knot.address, knot.secret_file)
    assert knot.dig("_acme-challenge.lockerd.test", "TXT") == []
    r = tool(build_dir, conf, "add", "*.lockerd.test", TXT)
    assert r.returncode == 0, r.stderr
    # The wildcard's challenge is at its base name (RFC 8555 8.4).
    assert knot.dig("_acme-challenge.lockerd.test", "TXT") == [TXT]
    r = tool(build_dir, conf, "visible", "*.lockerd.test", TXT, "3000")
    assert r.returncode == 0, r.stderr
    # A second challenge's TXT beside it (a name and its wildcard) stays
    # when the first is deleted: the delete names the rdata.
    assert tool(build_dir, conf, "add", "lockerd.test", "other-token").returncode == 0
    r = tool(build_dir, conf, "delete", "*.lockerd.test", TXT)
    assert r.returncode == 0, r.stderr
    assert knot.dig("_acme-challenge.lockerd.test", "TXT") == ["other-token"]
    assert tool(build_dir, conf, "delete", "lockerd.test", "other-token").returncode == 0
    assert knot.dig("_acme-challenge.lockerd.test", "TXT") == []
    r = tool(build_dir, conf, "visible", "lockerd.test", TXT, "600")
    assert r.returncode == 1, r.stderr


def test_update_of_a_subdomain(build_dir, knot, tmp_path):
    conf = write_conf(tmp_path, knot.address, knot.secret_file)
    r = tool(build_dir, conf, "add", "www.Alice.lockerd.test", TXT)
    assert r.returncode == 0, r.stderr
    assert knot.dig("_acme-challenge.www.alice.lockerd.test", "TXT") == [TXT]
    assert tool(build_dir, conf, "delete", "www.alice.lockerd.test", TXT).returncode == 0
    assert knot.dig("_acme-challenge.www.alice.lockerd.test", "TXT") == []


def test_wrong_secret_is_refused_and_changes_nothing(build_dir, knot, tmp_path):
    bad = str(tmp_path / "bad.secret")
    Knot.write_secret(bad, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    conf = write_conf(tmp_path, knot.address, bad)
    r = tool(build_dir, conf, "add", "lockerd.test", TXT)
    assert r.returncode == 2
    assert "refused the update: NOTAUTH, TSIG BADSIG" in r.stderr, r.stderr
    assert knot.dig("_acme-challenge.lockerd.test", "TXT") == []


def test_unknown_key_is_refused(build_dir, knot, tmp_path):
    conf = write_conf(tmp_path, knot.address, knot.secret_file, key="nobody-key")
    r = tool(build_dir, conf, "add", "lockerd.test", TXT)
    assert r.returncode == 2
    assert "NOTAUTH, TSIG BADKEY" in r.stderr, r.stderr
    assert knot.dig("_acme-challenge.lockerd.test", "TXT") == []


def test_name_outside_the_zone_is_not_sent(build_dir, knot, tmp_path):
    conf = write_conf(tmp_path, knot.address, knot.secret_file)
    for name in ("example.org", "xlockerd.test", "*.test"):
        r = tool(build_dir, conf, "add", name, TXT)
        assert r.returncode == 2
        assert "is not in the zone lockerd.test" in r.stderr, r.stderr
    # A TXT that is not a digest cannot smuggle a second string or record.
    r = tool(build_dir, conf, "add", "lockerd.test", 'a" "b')
    assert r.returncode == 2 and "not a key authorization" in r.stderr


def test_hmac_sha512(build_dir, tmp_path):
    with Knot(str(tmp_path / "knot512"), algorithm="hmac-sha512") as k:
        conf = write_conf(tmp_path, k.address, k.secret_file, alg="hmac-sha512")
        r = tool(build_dir, conf, "add", "lockerd.test", TXT)
        assert r.returncode == 0, r.stderr
        assert k.dig("_acme-challenge.lockerd.test", "TXT") == [TXT]
        # The same secret as the wrong algorithm: the server's MAC differs.
        conf = write_conf(tmp_path, k.address, k.secret_file, alg="hmac-sha256")
        r = tool(build_dir, conf, "delete", "lockerd.test", TXT)
        assert r.returncode == 2 and "NOTAUTH" in r.stderr, r.stderr
        assert k.dig("_acme-challenge.lockerd.test", "TXT") == [TXT]


def test_silent_server_times_out(build_dir, knot, tmp_path):
    # Accepts the connection (the kernel does, from the backlog) and never answers.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    try:
        conf = write_conf(tmp_path, f"127.0.0.1:{s.getsockname()[1]}", knot.secret_file,
                          extra="dns-timeout 2s\n")
        t0 = time.monotonic()
        r = tool(build_dir, conf, "add", "lockerd.test", TXT)
        took = time.monotonic() - t0
    finally:
        s.close()
    assert r.returncode == 2
    assert "no answer within 2000 ms" in r.stderr, r.stderr
    # dns-timeout bounds each step (connect, then the answer); the tool's
    # own start on a loaded machine is the rest.
    assert 1.5 < took < 6, took


def test_resolves_here(build_dir, knot, tmp_path):
    conf = write_conf(tmp_path, knot.address, knot.secret_file,
                      extra=f"acme-resolver {knot.address}\n")
    r = tool(build_dir, conf, "resolves", "alice.lockerd.test")
    assert r.returncode == 0, r.stderr
    r = tool(build_dir, conf, "resolves", "elsewhere.lockerd.test")
    assert r.returncode == 1
    assert "resolves to 192.0.2.1, not to an address served here" in r.stderr
    r = tool(build_dir, conf, "resolves", "both.lockerd.test")
    assert r.returncode == 1 and "2001:db8::1" in r.stderr, r.stderr
    r = tool(build_dir, conf, "resolves", "nonexistent.example")
    assert r.returncode == 1 and "no address" in r.stderr, r.stderr


def test_resolves_here_on_a_wildcard_listener(build_dir, knot, tmp_path):
    # 0.0.0.0 stands for every address of the machine, 127.0.0.1 among them;
    # a listener on another loopback address does not serve 127.0.0.1.
    for listen, want in (("0.0.0.0:8080", 0), ("127.0.0.2:8080", 1)):
        conf = write_conf(tmp_path, knot.address, knot.secret_file, listen=listen,
                          extra=f"acme-resolver {knot.address}\n")
        r = tool(build_dir, conf, "resolves", "alice.lockerd.test")
        assert r.returncode == want, (listen, r.stderr)


def test_resolves_here_over_ipv6(build_dir, knot, tmp_path):
    from test_tls import ipv6_ok
    if not ipv6_ok():
        pytest.skip("no IPv6 loopback")
    # An AAAA record of ::1: served by a [::1] listener and by [::] (an
    # address of an interface), not by IPv4 listeners alone.
    for listen, want in (("[::1]:8080", 0), ("[::]:8080", 0), ("0.0.0.0:8080", 1)):
        conf = write_conf(tmp_path, knot.address, knot.secret_file, listen=listen,
                          extra=f"acme-resolver {knot.address}\n")
        r = tool(build_dir, conf, "resolves", "six.lockerd.test")
        assert r.returncode == want, (listen, r.stderr)


def test_resolver_that_does_not_answer(build_dir, knot, tmp_path):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    try:
        conf = write_conf(tmp_path, knot.address, knot.secret_file,
                          extra=f"dns-timeout 1s\nacme-resolver 127.0.0.1:{u.getsockname()[1]}\n")
        t0 = time.monotonic()
        r = tool(build_dir, conf, "resolves", "alice.lockerd.test")
        took = time.monotonic() - t0
    finally:
        u.close()
    assert r.returncode == 2 and "did not answer" in r.stderr, r.stderr
    assert took < 6, took


def check(build_dir, conf):
    return subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-c", conf],
                          capture_output=True, text=True, timeout=10)


def test_lockerd_t_checks_the_secret_file(build_dir, knot, tmp_path):
    conf = write_conf(tmp_path, knot.address, knot.secret_file)
    r = check(build_dir, conf)
    assert r.returncode == 0, r.stderr
    secret = tmp_path / "s"
    cases = [
        (None, "No such file or directory"),
        ("c2hvcnQ=\n", "a key of 5 bytes; expected 16 to 64"),
        ("secret: \"abc\";\n", "expected the key's base64 secret alone"),
        ("!!!!\n", "expected the key's base64 secret alone"),
        ("\n", "not a base64 secret"),
    ]
    for text, want in cases:
        if secret.exists():
            secret.unlink()
        if text is not None:
            Knot.write_secret(str(secret), text.rstrip("\n"))
        conf = write_conf(tmp_path, knot.address, str(secret))
        r = check(build_dir, conf)
        assert r.returncode == 1, text
        # FILE:LINE of the directive, then what is wrong with the file.
        assert f"{conf}:4: acme-dns-update: {secret}: " in r.stderr, r.stderr
        assert want in r.stderr, (text, r.stderr)
    Knot.write_secret(str(secret), knot.secret)
    os.chmod(secret, 0o640)
    r = check(build_dir, conf)
    assert r.returncode == 1 and "readable by others than root" in r.stderr, r.stderr


def test_lockerd_t_checks_the_directive(build_dir, knot, tmp_path):
    for args, want in (
            ("127.0.0.1:53 lockerd.test k hmac-md5 /x", "expected hmac-sha256 or hmac-sha512"),
            ("ns.example:53 lockerd.test k hmac-sha256 /x", "is not a numeric IPv4 or IPv6"),
            ("127.0.0.1:53 lockerd.test k hmac-sha256", "expected SERVER:PORT ZONE KEYNAME"),
            ("127.0.0.1:53 lockerd.test k hmac-sha256 rel/x", "is not an absolute path"),
            ("127.0.0.1:53 bad_zone! k hmac-sha256 /x", "is not a valid host name")):
        conf = tmp_path / "c.conf"
        conf.write_text(f"listen 127.0.0.1:8080\ndomain lockerd.test\nacme-dns-update {args}\n")
        r = check(build_dir, str(conf))
        assert r.returncode == 1
        assert f"{conf}:3: acme-dns-update: " in r.stderr and want in r.stderr, r.stderr
    # The domain's wildcard is proved in the zone: it must be the domain's.
    conf = tmp_path / "c.conf"
    conf.write_text(f"listen 127.0.0.1:8080\ndomain scripts.example.org\n"
                    f"acme-dns-update 127.0.0.1:53 example.net k hmac-sha256 /x\n")
    r = check(build_dir, str(conf))
    assert r.returncode == 1
    assert "the zone example.net does not hold the domain scripts.example.org" in r.stderr
    conf.write_text(f"listen 127.0.0.1:8080\ndomain scripts.example.org\n"
                    f"acme-dns-update 127.0.0.1:53 example.org k hmac-sha256 "
                    f"{knot.secret_file}\n")
    assert check(build_dir, str(conf)).returncode == 0
    # What `lockerd -t -v` prints gives the same back.
    conf = write_conf(tmp_path, f"[::1]:5353", knot.secret_file, alg="hmac-sha512",
                      extra=f"acme-resolver {knot.address}\n")
    r = subprocess.run([os.path.join(build_dir, "lockerd"), "-t", "-v", "-c", conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert (f"acme-dns-update [::1]:5353 lockerd.test lockerd-key hmac-sha512 "
            f"{knot.secret_file}\n") in r.stdout
    assert f"acme-resolver {knot.address}\n" in r.stdout
