"""Workers started by the spawner (spawner.c): without an exec each, yet
with nothing of the master's memory, as the master's own children, and
sharing an address layout with at most SPAWNER_USES (64) others.

The attacker is a locker that reads its own worker's memory and maps (its
scripts can: the worker runs as the locker's uid): it must find neither the
master's state (here: the name of a locker that never ran, which only the
master's directory and routing table hold) nor a layout shared with every
other worker of the machine.
"""
import os
import re
import signal
import time

import pytest

from conftest import get, memory_has

SPAWNER_USES = 64


def role_pids(d, role):
    return d.pids(role)


def libc_base(pid):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if re.search(r"/libc[.-]", line):
                return line.split("-")[0]
    return None


@pytest.fixture
def d(make_lockerd):
    return make_lockerd().start()


def test_worker_comes_from_the_spawner_with_nothing_of_the_master(d):
    d.signup("alice")
    d.signup("zqunseen")       # never asked for: only the master knows the name
    d.put("alice", "index.html", "<p>alice</p>\n")
    spawners = role_pids(d, "spawner")
    assert len(spawners) == 1
    assert re.search(rf"\bspawner\b.*\b{spawners[0]}\b|\b{spawners[0]}\b.*\bspawner\b",
                     d.locker("status").stdout)
    st, _, body = get(d.port, "/", f"alice.{d.domain}")
    assert st == 200 and body == b"<p>alice</p>\n"
    w = d.worker_of("alice")
    # The master's child, as an exec'd worker was, and pid 1 of its namespace.
    with open(f"/proc/{w}/status") as f:
        status = f.read()
    assert int(re.search(r"PPid:\s+(\d+)", status).group(1)) == d.proc.pid
    assert re.search(r"NSpid:\s+\d+\s+1\n", status), status
    assert int(re.search(r"Uid:\s+(\d+)", status).group(1)) == d.info("alice")["uid"]
    # It was not exec'd (no second loader run): it is the spawner's image.
    assert os.readlink(f"/proc/{w}/exe") == os.readlink(f"/proc/{spawners[0]}/exe")
    # alice: the positive control; zqunseen: the master's directory, not there
    assert memory_has(w, [b"alice", b"zqunseen"]) == {0}
    # The master itself holds it (what a clone of the master would have leaked).
    assert memory_has(d.proc.pid, [b"zqunseen"]) == {0}


def test_spawner_killed_is_replaced_and_workers_still_start(d):
    for n in ("bob", "carol"):
        d.signup(n)
        d.put(n, "index.html", f"<p>{n}</p>\n")
    old = role_pids(d, "spawner")
    assert len(old) == 1
    os.kill(old[0], signal.SIGKILL)
    # Once the master has reaped it (a start caught in the middle of the
    # kill is answered 503 with Retry-After), the next start is at once:
    # by the master itself, or by a new spawner.
    deadline = time.time() + 10
    while os.path.exists(f"/proc/{old[0]}") and time.time() < deadline:
        time.sleep(0.05)
    st, _, body = get(d.port, "/", f"bob.{d.domain}")
    assert st == 200 and body == b"<p>bob</p>\n"
    deadline = time.time() + 10
    while time.time() < deadline:
        new = role_pids(d, "spawner")
        if new and new != old:
            break
        time.sleep(0.1)
    assert new and new != old, d.children()
    st, _, body = get(d.port, "/", f"carol.{d.domain}")
    assert st == 200 and body == b"<p>carol</p>\n"
    assert d.worker_of("carol")
    assert "spawner (pid %d) ended" % old[0] in d.log()


def test_a_layout_is_shared_by_at_most_spawner_uses_workers(d):
    n = SPAWNER_USES + 8
    names = [f"l{i}" for i in range(n)]
    for name in names:
        d.signup(name)
        d.put(name, "index.html", f"<p>{name}</p>\n")
    for name in names:
        st, _, body = get(d.port, "/", f"{name}.{d.domain}")
        assert st == 200 and body == f"<p>{name}</p>\n".encode()
    layouts = {}
    for name in names:
        base = libc_base(d.worker_of(name))
        assert base is not None
        layouts.setdefault(base, []).append(name)
    sizes = sorted(len(v) for v in layouts.values())
    print(f"\n{n} workers, {len(layouts)} layouts, workers per layout: {sizes}")
    assert max(sizes) <= SPAWNER_USES
    assert len(layouts) >= 2


def test_a_spare_holds_nothing_of_the_locker_before_it(d):
    """The spawner keeps a spare made ahead of the next ask (a clone of its
    own image); the attacker is the next locker, reading its own worker's
    memory for the locker started just before it: its name, its home, its
    configuration's copy (MSG_SPAWN) must not be there."""
    d.signup("qxprevious")
    d.signup("nextlocker")
    for n in ("qxprevious", "nextlocker"):
        d.put(n, "index.html", f"<p>{n}</p>\n")
    st, _, _ = get(d.port, "/", f"qxprevious.{d.domain}")
    assert st == 200
    # A spare waits, in its own pid namespace, a child of the master's.
    deadline = time.time() + 10
    while not role_pids(d, "spare") and time.time() < deadline:
        time.sleep(0.05)
    spares = role_pids(d, "spare")
    assert len(spares) == 1, d.children()
    with open(f"/proc/{spares[0]}/status") as f:
        assert re.search(r"NSpid:\s+\d+\s+1\n", f.read())
    assert memory_has(spares[0], [b"qxprevious"]) == set()
    st, _, body = get(d.port, "/", f"nextlocker.{d.domain}")
    assert st == 200 and body == b"<p>nextlocker</p>\n"
    w = d.worker_of("nextlocker")
    assert w == spares[0]                   # the spare became its worker
    # nextlocker: the positive control
    assert memory_has(w, [b"nextlocker", b"qxprevious"]) == {0}
    # The spawner moved it into the locker's cgroups (it waited for that
    # before its ids changed): every hierarchy lockerd uses.
    uid = d.info("nextlocker")["uid"]
    with open(f"/proc/{w}/cgroup") as f:
        cg = f.read()
    for ctl in ("memory", "pids"):
        if os.path.exists(f"/sys/fs/cgroup/{ctl}/cgroup.procs"):
            assert re.search(rf"\b{ctl}:/lockerd/nextlocker\.{uid}\n", cg), cg
    # Its mounts are the host's of the moment it was handed the ask, in a
    # namespace of its own: not the spawner's.
    assert os.readlink(f"/proc/{w}/ns/mnt") != os.readlink(f"/proc/{d.proc.pid}/ns/mnt")
