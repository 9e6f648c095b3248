"""Per-locker disk limits (disk-quota btrfs): each home a btrfs subvolume
whose qgroup carries the limit.

The test builds its own btrfs on a loop device (a sparse image file under
/var/lib/lockerd-test), mounts it as lockerd's lockers root, and attacks it
as mallory would: with her own CGI scripts, over HTTP.  Everything it set up
(mount, loop device, image) is undone by fixture finalizers, failure or
not.  It skips only if the kernel has no btrfs.
"""
import errno
import json
import os
import subprocess
import types

import pytest

from conftest import TEST_BASE, get, lockerd_on_btrfs, parse_responses, raw

MiB = 1 << 20


@pytest.fixture(scope="module")
def btrfs_lockerd(request, build_dir):
    """A lockerd whose lockers root is a fresh btrfs on a loop device."""
    d = lockerd_on_btrfs(request, build_dir, "disk-quota btrfs\ndisk-limit 200m\n"
                         "file-size-limit 0\n")
    d.signup("mallory")
    d.signup("victim")
    d.put("victim", "index.html", "VICTIM-PAGE\n", mode=0o644)
    return d


def put_sh(d, locker, name, script):
    d.put(locker, name, 'echo "Content-Type: text/plain"; echo; exec 2>&1\n' + script + "\n")


def cgi(d, locker, name, script=None, timeout=60):
    """Run a shell script as the locker's CGI script, over HTTP (put first,
    unless it was put before: a full home takes no new script)."""
    if script is not None:
        put_sh(d, locker, name, script)
    req = (f"GET /{name} HTTP/1.1\r\nHost: {locker}.test.example\r\n"
           f"Connection: close\r\n\r\n").encode()
    resp = parse_responses(raw(d.port, req, timeout=timeout))
    assert resp, f"no response from {locker}'s {name}"
    status, _, body = resp[0]
    return types.SimpleNamespace(status=status, out=body.decode(errors="replace"))


def limits(d, name):
    return {lim["key"]: lim for lim in d.info(name)["limits"]}


FULL = ("Disk quota exceeded", "No space left on device")


def test_home_is_a_subvolume_with_the_default_limit(btrfs_lockerd):
    d = btrfs_lockerd
    home = d.info("mallory")["home"]
    assert os.stat(home).st_ino == 256     # the root of a subvolume of its own
    lim = limits(d, "mallory")["disk-limit"]
    assert lim["value"] == 200 * MiB and lim["default"] is True


def test_writing_past_the_quota_fails_and_victim_is_unharmed(btrfs_lockerd):
    d = btrfs_lockerd
    d.locker("quota", "mallory", "20M")
    lim = limits(d, "mallory")["disk-limit"]
    assert lim["value"] == 20 * MiB and lim["default"] is False

    put_sh(d, "mallory", "filltmp.sh",
           "dd if=/dev/zero of=/tmp/fill bs=1M count=40; echo rc=$?; "
           "rm -f /tmp/fill; sync .")
    put_sh(d, "mallory", "fill.sh",
           "dd if=/dev/zero of=../big bs=1M count=40; echo rc=$?; ls -l ../big")
    put_sh(d, "mallory", "more.sh",
           "dd if=/dev/zero of=../more bs=1M count=30 && echo WROTE")

    # Her /tmp is her home's tmp/: under the same limit.
    r = cgi(d, "mallory", "filltmp.sh")
    print("mallory fills /tmp:", r.out)
    assert r.status == 200
    assert any(f in r.out for f in FULL), r.out
    assert "rc=0" not in r.out

    r = cgi(d, "mallory", "fill.sh")
    print("mallory fills her home:", r.out)
    assert any(f in r.out for f in FULL), r.out
    assert "rc=0" not in r.out

    # victim writes more than mallory's whole quota, and is still served.
    r = cgi(d, "victim", "write.sh",
            "dd if=/dev/zero of=../data bs=1M count=30 && echo WROTE")
    assert "WROTE" in r.out, r.out
    assert get(d.port, "/", "victim.test.example")[2] == b"VICTIM-PAGE\n"

    # locker info: use (as of the last commit: sync first) and limit.
    os.sync()
    use = limits(d, "mallory")["disk-limit"]["use"]
    assert 15 * MiB <= use <= 22 * MiB, use
    text = d.locker("info", "mallory").stdout
    assert "disk-limit" in text and "20M (its own" in text, text

    # A larger quota lets her write again.
    d.locker("quota", "mallory", "100M")
    r = cgi(d, "mallory", "more.sh")
    assert "WROTE" in r.out, r.out


def test_no_subvolume_or_snapshot_of_her_own(btrfs_lockerd):
    """A subvolume of mallory's would have a qgroup of its own, without a limit."""
    d = btrfs_lockerd
    d.put("mallory", "subvol.py", r'''
import fcntl, os, struct
print("Content-Type: text/plain\n")
SUBVOL_CREATE = 0x5000940E       # _IOW(0x94, 14, struct btrfs_ioctl_vol_args)
SNAP_CREATE = 0x50009401         # _IOW(0x94, 1, ...)
home = os.open("..", os.O_RDONLY | os.O_DIRECTORY)
for what, cmd, src in (("subvol", SUBVOL_CREATE, 0), ("snap", SNAP_CREATE, home)):
    arg = bytearray(struct.pack("q", src) + what.encode().ljust(4088, b"\0"))
    try:
        fcntl.ioctl(home, cmd, arg)
        print(what, "CREATED")
    except OSError as e:
        print(what, "errno", e.errno)
''')
    status, _, body = get(d.port, "/subvol.py", "mallory.test.example")
    out = body.decode()
    print(out)
    assert status == 200
    assert f"subvol errno {errno.EPERM}" in out and f"snap errno {errno.EPERM}" in out, out


def test_quota_cli_checks(btrfs_lockerd):
    d = btrfs_lockerd
    r = d.locker("quota", "mallory", "lots", check=False)
    assert r.returncode == 2 and "disk-limit" in r.stderr
    r = d.locker("quota", "nosuch", "1G", check=False)
    assert r.returncode == 1 and "nosuch" in r.stderr
    r = d.locker("quota", "mallory", check=False)
    assert r.returncode == 2 and "usage" in r.stderr
    d.locker("quota", "victim", "none")
    lim = limits(d, "victim")["disk-limit"]
    assert lim["value"] == 0 and lim["default"] is False
    d.locker("quota", "victim", "default")
    assert limits(d, "victim")["disk-limit"]["default"] is True


def test_quota_is_root_only(btrfs_lockerd):
    d = btrfs_lockerd
    r = d.locker("quota", "mallory", "1G", check=False, user="nobody")
    assert r.returncode == 77, r.stderr


def test_limits_survive_a_restart(btrfs_lockerd):
    d = btrfs_lockerd
    d.locker("quota", "mallory", "30M")
    d.stop()
    d.start()
    lim = limits(d, "mallory")["disk-limit"]
    assert lim["value"] == 30 * MiB and lim["default"] is False


def test_remove_archives_and_purge_destroys_the_subvolume(btrfs_lockerd):
    d = btrfs_lockerd
    d.signup("tmpone")
    d.signup("tmptwo")
    d.locker("quota", "tmptwo", "8M")
    r = cgi(d, "tmptwo", "w.sh", "mkdir -p ../a/b; echo x > ../a/b/f; "
            "ln -s / ../root; ln -s /etc/passwd ../pw; "
            "dd if=/dev/zero of=../a/full bs=1M count=20")
    assert any(f in r.out for f in FULL), r.out     # purged full to its limit
    out = d.locker("remove", "tmpone").stdout
    assert "archived to" in out
    arch = out.strip().split("archived to ")[1]
    assert os.stat(arch).st_ino == 256       # still its subvolume, renamed
    d.locker("remove", "tmptwo", "--purge")
    assert not os.path.exists(os.path.join(d.lockers, "tmptwo"))
    assert not [a for a in os.listdir(os.path.join(d.lockers, ".archive"))
                if a.startswith("tmptwo.")]
    assert os.path.exists("/etc/passwd")     # the purge followed no symlink


def test_refuses_to_start_without_btrfs(make_lockerd):
    d = make_lockerd(extra="disk-quota btrfs\n")
    with pytest.raises(RuntimeError) as e:
        d.start()
    assert "is not on a btrfs file system" in str(e.value)


def test_disk_limit_needs_disk_quota(make_lockerd):
    d = make_lockerd(extra="disk-limit 1g\n")
    r = subprocess.run([os.path.join(d.build, "lockerd"), "-t", "-c", d.conf],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "disk-quota" in r.stderr, r.stderr
    d2 = make_lockerd()
    d2.start()
    d2.signup("plain")
    r = d2.locker("quota", "plain", "1G", check=False)
    assert r.returncode == 1 and "disk-quota none" in r.stderr
    assert json.loads(d2.locker("info", "plain", "--json").stdout)["limits"]
