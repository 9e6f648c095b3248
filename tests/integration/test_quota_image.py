"""Per-locker disk limits without btrfs (disk-quota image): each home an
ext4 image of its own, on a loop device, mounted on the home by lockerd.

mallory attacks with her own CGI scripts over HTTP, as in test_quota.py.
Whatever lockerd leaves mounted if a test fails is unmounted by the
fixture's finalizer before the test directory goes.
"""
import json
import os
import subprocess

import pytest

from conftest import Lockerd, get
from test_quota import FULL, MiB, cgi, limits, put_sh


def mounts_under(path):
    with open("/proc/mounts") as f:
        return [line.split()[1] for line in f if line.split()[1].startswith(path + "/")]


def loops_of(path):
    out = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if path in line]


@pytest.fixture(scope="module")
def img_lockerd(request, build_dir):
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no loop devices here (/dev/loop-control)")
    d = Lockerd(build_dir, extra="disk-quota image\ndisk-limit 24m\nfile-size-limit 0\n")
    request.addfinalizer(d.cleanup)

    def leftovers():
        d.stop()
        for m in reversed(mounts_under(d.dir)):
            subprocess.run(["umount", "-l", m])
    request.addfinalizer(leftovers)
    d.start()
    d.signup("mallory")
    d.signup("victim")
    d.put("victim", "index.html", "VICTIM-PAGE\n", mode=0o644)
    return d


def test_home_is_its_own_file_system(img_lockerd):
    d = img_lockerd
    home = d.info("mallory")["home"]
    assert os.stat(home).st_dev != os.stat(d.lockers).st_dev
    assert sorted(os.listdir(home)) == ["cron_scripts", "mail_scripts", "tmp", "web_scripts"]
    assert os.path.getsize(f"{d.dir}/state/images/mallory.img") == 24 * MiB
    lim = limits(d, "mallory")["disk-limit"]
    assert lim["value"] == 24 * MiB and lim["default"] is True


def test_filling_home_and_tmp_fails_and_victim_is_unharmed(img_lockerd):
    d = img_lockerd
    put_sh(d, "mallory", "filltmp.sh",
           "dd if=/dev/zero of=/tmp/fill bs=1M count=40; echo rc=$?; rm -f /tmp/fill")
    put_sh(d, "mallory", "fill.sh",
           "dd if=/dev/zero of=../big bs=1M count=40; echo rc=$?")
    put_sh(d, "mallory", "more.sh",
           "dd if=/dev/zero of=../more bs=1M count=30 && echo WROTE")
    r = cgi(d, "mallory", "filltmp.sh")
    print("mallory fills /tmp:", r.out)
    assert any(f in r.out for f in FULL) and "rc=0" not in r.out, r.out
    r = cgi(d, "mallory", "fill.sh")
    print("mallory fills her home:", r.out)
    assert any(f in r.out for f in FULL) and "rc=0" not in r.out, r.out

    r = cgi(d, "victim", "write.sh", "dd if=/dev/zero of=../data bs=1M count=10 && echo WROTE")
    assert "WROTE" in r.out, r.out
    assert get(d.port, "/", "victim.test.example")[2] == b"VICTIM-PAGE\n"

    use = limits(d, "mallory")["disk-limit"]["use"]
    assert 18 * MiB <= use <= 24 * MiB, use

    # An image cannot shrink.
    r = d.locker("quota", "mallory", "12M", check=False)
    assert r.returncode == 1 and "only grow" in r.stderr, r.stderr


def test_a_larger_quota_grows_the_image(img_lockerd):
    """Online if lockerd has CAP_SYS_RESOURCE, else (this machine) at its next
    start, offline, after the images were unmounted at stop."""
    d = img_lockerd
    r = d.locker("quota", "mallory", "64M")
    assert limits(d, "mallory")["disk-limit"]["default"] is False
    later = "next starts" in r.stdout
    print("grown", "at the next start" if later else "at once", r.stdout)
    d.stop()
    assert mounts_under(d.lockers) == []
    assert loops_of(f"{d.dir}/state/images") == []
    d.start()
    assert len(mounts_under(d.lockers)) == 2
    assert limits(d, "mallory")["disk-limit"]["value"] == 64 * MiB
    assert os.path.getsize(f"{d.dir}/state/images/mallory.img") == 64 * MiB
    r = cgi(d, "mallory", "more.sh")
    assert "WROTE" in r.out, r.out
    assert os.path.exists(os.path.join(d.info("mallory")["home"], "more"))
    assert get(d.port, "/", "victim.test.example")[2] == b"VICTIM-PAGE\n"


def test_kill_9_keeps_every_home_and_a_restart_mounts_each_once(img_lockerd):
    """lockerd killed with SIGKILL cannot unmount: the next start finds the
    images still mounted, and neither mounts them twice nor loses a file."""
    import signal
    import time
    d = img_lockerd
    assert get(d.port, "/", "victim.test.example")[2] == b"VICTIM-PAGE\n"
    kids = list(d.children())
    d.stop(sig=signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{p}") for p in kids):
        time.sleep(0.1)
    assert len(mounts_under(d.lockers)) == 2       # still there: nobody unmounted
    d.start()
    assert len(mounts_under(d.lockers)) == 2, mounts_under(d.lockers)
    assert len(loops_of(f"{d.dir}/state/images")) == 2, loops_of(f"{d.dir}/state/images")
    assert get(d.port, "/", "victim.test.example")[2] == b"VICTIM-PAGE\n"
    home = d.info("mallory")["home"]
    r = cgi(d, "mallory", "after.sh", f"echo x > {home}/after && echo WROTE")
    assert "WROTE" in r.out, r.out


def test_remove_archives_the_image_and_purge_deletes_it(img_lockerd):
    d = img_lockerd
    out = d.locker("remove", "victim").stdout
    arch = out.strip().split("archived to ")[1]
    assert arch.startswith(f"{d.dir}/state/images/victim.") and os.path.isfile(arch)
    d.locker("remove", "mallory", "--purge")
    assert not os.path.exists(f"{d.dir}/state/images/mallory.img")
    assert not os.path.exists(os.path.join(d.lockers, "mallory"))
    assert mounts_under(d.lockers) == []
    # Names are free again.
    d.signup("mallory")
    assert limits(d, "mallory")["disk-limit"]["value"] == 24 * MiB
    # and a new victim has nothing of the old one's: request counts, logs
    d.signup("victim")
    st = json.loads(d.locker("status", "--json").stdout)
    assert [x["requests"] for x in st["lockers"] if x["name"] == "victim"] in ([], [0]), st
    assert "GET" not in d.locker("logs", "victim").stdout
