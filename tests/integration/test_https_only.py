"""Per-vhost HTTPS choices: `locker vhost add ... --https-only|--no-https-only`,
the configuration's `https-only` default, kept in the directory and listed."""
import json
import signal
import time

import pytest


@pytest.fixture
def d(make_lockerd):
    m = make_lockerd().start()
    m.signup("alice")
    return m


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
