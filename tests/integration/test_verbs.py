"""Who may run each control verb.  The table that says so (src/verbs.c) is
the one `locker --verbs` prints and the master enforces, and it drives these
tests: a verb added to it is tried by construction, as a user outside its
"who", and must be refused without effect.

lkvadmin administers the locker vsite; lkvother is a login user who
administers nothing; nobody is a system account.
"""
import json
import os
import re
import subprocess

import pytest

from conftest import Lockerd, as_user, login_users, refused

USERS = ("lkvadmin", "lkvother")
MARK = "lockerd verb-table test user"
LOCKER = "vsite"
HOST = "vsite-verbs.example.org"

# What each argument of a usage line stands for here.
VALUES = {"NAME": LOCKER, "HOST": HOST, "USER": "lkvother", "COMMAND": "true",
          "SIZE|none|default": "default", "KEY": "memory-limit",
          "VALUE|none|default": "default", "DB": "db1", "ADDRESS": "x@example.org",
          "N": "1", "bounce|discard": "bounce",
          "on|off": "off", "APP": "dokuwiki", "NODE": "vnode"}


def table(build_dir):
    """[(name, who, marks, args)] from `locker --verbs`."""
    r = subprocess.run([os.path.join(build_dir, "locker"), "--verbs"],
                       capture_output=True, text=True, check=True)
    rows = []
    for line in r.stdout.splitlines():
        name, who, args = line.split("\t")
        who, *marks = who.split(",")
        rows.append((name, who, marks, args))
    return rows


def arguments(who, marks, args):
    """The words to try a verb with: its required arguments, NAME always
    (an admin verb about no locker has nobody to refuse), and "--" before a
    COMMAND."""
    words, depth = [], 0
    for w in args.split():
        if w == "[NAME]" and who == "admin":
            w = "NAME"
        optional = depth > 0 or w.startswith("[")
        depth += w.count("[") - w.count("]")
        if optional:
            continue
        words.append(w if w == "--" else VALUES[w])
    return words


@pytest.fixture(scope="module")
def users():
    with login_users(USERS, MARK) as made:
        yield made


@pytest.fixture(scope="module")
def d(build_dir, users):
    inst = Lockerd(build_dir, front_processes=1).start()
    inst.signup(LOCKER)
    inst.locker("admin", "add", LOCKER, "lkvadmin")
    inst.locker("vhost", "add", LOCKER, HOST)
    yield inst
    inst.cleanup()


def state(d):
    """What a refused verb must not have changed."""
    info = d.info(LOCKER)
    return (info["uid"], sorted(a["user"] for a in info["admins"]),
            sorted(v["host"] for v in info["vhosts"]),
            sorted((l["key"], l["value"]) for l in info["limits"]))


def test_the_table_is_the_usage(build_dir):
    rows = table(build_dir)
    assert len(rows) >= 18
    r = subprocess.run([os.path.join(build_dir, "locker")], capture_output=True, text=True)
    assert r.returncode == 2
    for name, who, marks, args in rows:
        assert who in ("anyone", "login", "admin", "root"), name
        assert re.search(r"^  %s +%s" % (re.escape(name), re.escape(args)), r.stderr,
                         re.M), name


def test_every_verb_is_refused_outside_its_who(d, build_dir, users):
    before = state(d)
    home = os.path.join(d.lockers, LOCKER)
    tried = set()
    for name, who, marks, args in table(build_dir):
        words = name.split() + arguments(who, marks, args)
        if who == "anyone":
            # nobody is outside it: even a system account may
            r = as_user(d, "nobody", *words, input="")
            assert r.returncode == 0, (name, r.stderr)
            continue
        if who == "login":
            r = as_user(d, "nobody", *words, input="")
            refused(r, "system account")
        elif who == "admin":
            r = as_user(d, "lkvother", *words, input="")
            refused(r, "not an admin of " + LOCKER)
        else:
            # its admin is not root
            r = as_user(d, "lkvadmin", *words, input="")
            refused(r, "only root")
        for mark in marks:
            if mark.startswith("root:"):
                # an option only root may give, from an admin of the locker
                r = as_user(d, "lkvadmin", *words, mark[len("root:"):], input="")
                refused(r, "only root may " + mark[len("root:"):])
        assert f"refused {name}: " in d.log(), name
        tried.add(who)
        assert state(d) == before, name
        assert os.path.isdir(os.path.join(home, "web_scripts")), name
    assert tried == {"login", "admin", "root"}


def test_admin_verbs_without_a_name_show_only_ones_own(d, build_dir, users):
    for name, who, marks, args in table(build_dir):
        if "any-without-name" not in marks:
            continue
        r = as_user(d, "lkvother", *name.split(), "--json")
        assert r.returncode == 0, (name, r.stderr)
        assert LOCKER not in r.stdout, name


def test_a_mistake_prints_that_verbs_usage(build_dir):
    """One word too many, before any "--": exit 2 and the verb's own usage
    line, for every verb of the table, before any configuration is read."""
    for name, who, marks, args in table(build_dir):
        words, depth = [], 0
        for w in args.split():
            if depth == 0 and w in ("--", "[--"):
                break                   # what a command may hold is not counted
            if depth == 0 and not w.startswith("[--"):
                words.append(VALUES[w.strip("[]")])
            depth += w.count("[") - w.count("]")
        r = subprocess.run([os.path.join(build_dir, "locker"), "-c", "/nonexistent",
                            *name.split(), *words, "extra"],
                           capture_output=True, text=True)
        assert r.returncode == 2, (name, r.stderr)
        assert f"usage: locker {name} {args}" in r.stderr, (name, r.stderr)


def test_refusals_in_a_loop_do_not_flood_the_log(d, users):
    """Any local user can be refused in a loop; each refusal was a line of
    lockerd's log.  Now a burst of them is logged, then one a second, and
    the count of the rest is."""
    import time
    t0 = time.monotonic()
    before = d.log().count(" refused ")
    n = 150
    for _ in range(n):
        refused(as_user(d, "lkvother", "logs", LOCKER, input=""), "not an admin")
    elapsed = time.monotonic() - t0
    log = d.log()
    logged = log.count(" refused ") - before
    assert logged <= 64 + elapsed + 2, (logged, elapsed)
    assert logged < n
    # the next one logged says how many were not
    time.sleep(1.1)
    refused(as_user(d, "lkvother", "logs", LOCKER, input=""), "not an admin")
    assert re.search(r"control: \d+ refusals not logged", d.log()), d.log()[-2000:]
