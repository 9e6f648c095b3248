"""Cron scripts (issue 15): a locker's cron_scripts/crontab compiled as the
locker in its sandbox, kept by the master, its jobs run at their minutes
as the locker in its sandbox, their output in the locker's cron log.

One lockerd for the module, with a fast clock (cron-minute 1s: a crontab's
minute passes in a second), so `* * * * *` runs within seconds.  Each test
has lockers of its own, so the tests do not depend on each other's jobs.
"""
import json
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import Lockerd, free_port, login_users, wait_for

MARK = "lockerd test_cron"


@pytest.fixture(scope="module")
def d(build_dir):
    d = Lockerd(build_dir, extra="cron-minute 1s\nlocker-network private\n"
                "memory-limit 256m\nprocess-limit 64\n").start()
    yield d
    d.cleanup()


def crontab(d, name, text, mode=0o600):
    info = d.info(name)
    path = os.path.join(info["home"], "cron_scripts", "crontab")
    if os.path.islink(path):
        os.unlink(path)
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chown(path + ".new", info["uid"], info["gid"])
    os.chmod(path + ".new", mode)
    os.rename(path + ".new", path)
    return info


def cron_log(d, name):
    try:
        with open(os.path.join(d.logs, "lockers", name, "cron.log"), errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def status(d, name):
    return json.loads(d.locker("--json", "cron", "status", name).stdout)


def entries(d, name):
    return json.loads(d.locker("--json", "cron", "list", name).stdout)


def test_every_minute_runs_as_the_locker_in_its_sandbox(d):
    info = d.signup("cronalice")
    crontab(d, "cronalice", "# a comment\nGREETING = 'hello there'\n"
            "* * * * * echo \"$GREETING uid=$(id -u) home=$HOME user=$USER pid=$$\"; "
            "ls /proc | grep -cE '^[0-9]+$'; ls -a " + d.lockers + "; "
            "id -u > $HOME/ran.txt\n")
    got = wait_for(lambda: "hello there uid=" in cron_log(d, "cronalice"), within=30)
    log = cron_log(d, "cronalice")
    assert got, log + d.log()[-2000:]
    m = re.search(r"hello there uid=(\d+) home=(\S+) user=(\S+) pid=(\d+)", log)
    assert m and int(m.group(1)) == info["uid"], log
    assert m.group(2) == info["home"] and m.group(3) == "cronalice", log
    # pid 2 of its own pid namespace (the task is 1), few processes seen,
    # and the lockers root shows only its own home
    assert m.group(4) == "2", log
    assert "crontab compiled: 1 job" in log
    ran = os.path.join(info["home"], "ran.txt")
    assert wait_for(lambda: os.path.exists(ran) and os.path.getsize(ran) > 0, 10)
    assert os.stat(ran).st_uid == info["uid"]
    assert wait_for(lambda: "job 1: exit status 0" in cron_log(d, "cronalice"), 10)
    lines = cron_log(d, "cronalice").splitlines()
    after = lines[[i for i, l in enumerate(lines) if "hello there" in l][0]:]
    assert any(l.endswith("job 1: cronalice") for l in after), after
    assert not any("cronbob" in l for l in lines)
    # the CLI: status, list, log
    st = status(d, "cronalice")
    assert st["state"] == "ok" and st["jobs"] == 1 and st["lease_here"], st
    es = entries(d, "cronalice")
    assert es[0]["job"] == 1 and es[0]["line"] == 3 and es[0]["when"] == "* * * * *", es
    assert wait_for(lambda: entries(d, "cronalice")[0]["runs"] >= 2, 15)
    r = d.locker("cron", "log", "cronalice")
    assert "hello there" in r.stdout


def test_a_bad_crontab_keeps_the_old_schedule_and_says_the_line(d):
    info = d.signup("cronbad")
    crontab(d, "cronbad", "* * * * * date >> $HOME/ticks\n")
    assert wait_for(lambda: status(d, "cronbad")["state"] == "ok", 30), status(d, "cronbad")
    crontab(d, "cronbad", "# fine\n@daily echo fine\n61 * * * * echo bad\n")
    st = wait_for(lambda: status(d, "cronbad")["state"] == "error" and status(d, "cronbad"),
                  30)
    assert st and st["error"].startswith("crontab:3: the minute field: 61 is out of range"), st
    # the old one runs on
    assert entries(d, "cronbad")[0]["command"] == "date >> $HOME/ticks"
    ticks = os.path.join(info["home"], "ticks")
    n = wait_for(lambda: os.path.exists(ticks) and len(open(ticks).read().splitlines()), 10)
    assert wait_for(lambda: len(open(ticks).read().splitlines()) > n, 15)
    assert "crontab refused, the previous schedule stays: crontab:3:" in cron_log(d, "cronbad")
    # binary garbage, a huge file: refused the same way, never a crash
    crontab(d, "cronbad", "\x00\xff\xfe garbage\n")
    assert wait_for(lambda: "NUL" in status(d, "cronbad")["error"], 30), status(d, "cronbad")
    crontab(d, "cronbad", "# x\n" * 20000)
    assert wait_for(lambda: "larger than" in status(d, "cronbad")["error"], 30)
    assert d.proc.poll() is None
    # fixed: takes effect, with `locker cron reload` at once
    crontab(d, "cronbad", "@hourly echo hourly\n@reboot echo boot\n")
    d.locker("cron", "reload", "cronbad")
    assert wait_for(lambda: status(d, "cronbad")["state"] == "ok", 10), status(d, "cronbad")
    assert [e["when"] for e in entries(d, "cronbad")] == ["@hourly", "@reboot"]


def test_a_long_job_is_not_started_twice_and_is_killed_at_its_limit(d):
    info = d.signup("cronlong")
    d.locker("limit", "cronlong", "cron-job-timeout", "4s")
    crontab(d, "cronlong", "* * * * * echo start; sleep 60; echo never\n")
    assert wait_for(lambda: "not started again" in cron_log(d, "cronlong"), 30), \
        cron_log(d, "cronlong")
    log = cron_log(d, "cronlong")
    assert len(re.findall(r"job 1: start$", log, re.M)) == 1, log
    sleeps = subprocess.run(["pgrep", "-u", str(info["uid"]), "-x", "sleep"],
                            capture_output=True, text=True).stdout.split()
    assert len(sleeps) == 1, sleeps
    assert wait_for(lambda: "killed at its time limit" in cron_log(d, "cronlong"), 30)
    assert not re.search(r"job 1: never$", cron_log(d, "cronlong"), re.M)
    e = wait_for(lambda: [e for e in entries(d, "cronlong") if e["last_status"] == -9], 10)
    assert e and e[0]["skipped"] >= 1, entries(d, "cronlong")
    d.locker("cron", "reload", "cronlong")     # stop it for the other tests
    crontab(d, "cronlong", "")


def test_cron_run_starts_one_entry_now(d):
    d.signup("cronrun")
    # a time that never comes (February 30th): only `run` starts it
    crontab(d, "cronrun", "0 0 30 2 * echo by-hand %line one%line two\n")
    assert wait_for(lambda: status(d, "cronrun")["state"] == "ok", 30)
    r = d.locker("cron", "run", "cronrun", "1")
    assert "job 1 of cronrun started" in r.stdout
    assert wait_for(lambda: "job 1: by-hand" in cron_log(d, "cronrun"), 15)
    # crontab(5)'s %: the command ends there; the rest is its stdin
    crontab(d, "cronrun", "0 0 30 2 * cat%line one%line two\n")
    d.locker("cron", "reload", "cronrun")
    assert wait_for(lambda: entries(d, "cronrun")[0]["command"].startswith("cat%"), 10)
    d.locker("cron", "run", "cronrun", "1")
    assert wait_for(lambda: "job 1: line two" in cron_log(d, "cronrun"), 15)
    for bad in (["cron", "run", "cronrun", "9"], ["cron", "run", "cronrun", "x"],
                ["cron", "run", "nosuchlocker", "1"], ["cron", "run", "cronrun"]):
        r = d.locker(*bad, check=False)
        assert r.returncode != 0 and r.stderr, (bad, r.stdout, r.stderr)


def test_a_crontab_that_is_a_symlink_is_refused(d):
    info = d.signup("cronlink")
    d.signup("cronother")
    other = d.info("cronother")
    crontab(d, "cronother", "* * * * * echo OTHER-JOB\n")
    path = os.path.join(info["home"], "cron_scripts", "crontab")
    os.symlink(os.path.join(other["home"], "cron_scripts", "crontab"), path)
    st = wait_for(lambda: status(d, "cronlink")["state"] == "error" and status(d, "cronlink"),
                  30)
    assert st and st["error"].startswith("crontab:1:") and "symbolic link" in st["error"], st
    assert entries(d, "cronlink") == []
    # cron_scripts itself a link to another locker's: refused too
    os.unlink(path)
    cs = os.path.join(info["home"], "cron_scripts")
    os.rmdir(cs)
    os.symlink(os.path.join(other["home"], "cron_scripts"), cs)
    d.locker("cron", "reload", "cronlink")
    assert wait_for(lambda: status(d, "cronlink")["state"] == "error", 10)
    time.sleep(2)
    assert "OTHER-JOB" not in cron_log(d, "cronlink")
    assert entries(d, "cronlink") == []


# ------------------------------------------------------------ hostile

def test_a_hostile_job_gets_what_a_hostile_script_gets(d):
    """mallory's cron job tries what its web scripts try (test_hostile.py):
    read victim's files (mode 0777), signal every process, reach the
    master's control socket and logs; it fails the same way."""
    victim = d.signup("cronvictim")
    mallory = d.signup("cronmallory")
    os.chmod(victim["home"], 0o777)
    secret = os.path.join(victim["home"], "web_scripts", "open.txt")
    with open(secret, "w") as f:
        f.write("VICTIM-OPEN\n")
    os.chmod(secret, 0o777)
    sock = os.path.join(d.dir, "state", "control.sock")
    crontab(d, "cronvictim", "* * * * * sleep 30\n")
    crontab(d, "cronmallory", "0 0 30 2 * exec 2>&1; "
            f"cat {secret} && echo READ; echo x >> {secret} && echo WROTE; "
            f"ls -a {d.lockers} | tr '\\n' ' '; echo; "
            f"ls {d.logs}/lockers/cronvictim && echo LOGS; cat {d.conf} && echo CONF; "
            "python3 -c \"import socket; s = socket.socket(socket.AF_UNIX, "
            f"socket.SOCK_SEQPACKET); s.connect('{sock}'); print('CONNECTED')\"; "
            "echo ATTACK-DONE; "
            "for p in $(seq 1 300); do [ $p = $$ ] || kill -9 $p 2>/dev/null; done; "
            "kill -9 -1\n")
    assert wait_for(lambda: status(d, "cronmallory")["state"] == "ok", 30)
    vuid = victim["uid"]
    assert wait_for(lambda: subprocess.run(["pgrep", "-u", str(vuid), "sleep"],
                                           capture_output=True).returncode == 0, 30)
    before = subprocess.run(["pgrep", "-u", str(vuid), "sleep"], capture_output=True,
                            text=True).stdout.split()
    d.locker("cron", "run", "cronmallory", "1")
    assert wait_for(lambda: "ATTACK-DONE" in cron_log(d, "cronmallory"), 30), \
        cron_log(d, "cronmallory")
    log = cron_log(d, "cronmallory")
    for bad in ("READ", "WROTE", "LOGS", "CONF", "CONNECTED", "VICTIM-OPEN"):
        assert f"job 1: {bad}" not in log, log
    assert re.search(r"job 1: \. \.\. cronmallory $", log, re.M), log
    with open(secret) as f:
        assert f.read() == "VICTIM-OPEN\n"
    # victim's job and lockerd live on
    still = subprocess.run(["pgrep", "-u", str(vuid), "sleep"], capture_output=True,
                           text=True).stdout.split()
    assert set(before) & set(still), (before, still)
    assert d.proc.poll() is None and d.locker("cron", "status", "cronvictim").returncode == 0
    crontab(d, "cronvictim", "")


def test_mallorys_crontab_cannot_run_anything_as_victim(d):
    victim = d.signup("cronvic2")
    mallory = d.signup("cronmal2")
    crontab(d, "cronmal2", "LOGNAME=cronvic2\n* * * * * id -u\n")
    st = wait_for(lambda: status(d, "cronmal2")["state"] == "error" and status(d, "cronmal2"),
                  30)
    assert st and "crontab:1: LOGNAME is the locker's name" in st["error"], st
    crontab(d, "cronmal2", "USER=cronvic2\nHOME=/\n* * * * * echo uid=$(id -u) user=$USER\n")
    st = wait_for(lambda: "USER" in status(d, "cronmal2")["error"] and status(d, "cronmal2"),
                  30)
    assert st["state"] == "error", st
    crontab(d, "cronmal2", "HOME=" + victim["home"] + "\n* * * * * echo uid=$(id -u); "
            "cat $HOME/cron_scripts/crontab && echo READ-VICTIM\n")
    assert wait_for(lambda: "job 1: exit status" in cron_log(d, "cronmal2"), 30)
    log = cron_log(d, "cronmal2")
    assert f"uid={mallory['uid']}" in log and f"uid={victim['uid']}" not in log, log
    assert not re.search(r"job 1: READ-VICTIM$", log, re.M), log
    assert not os.path.exists(os.path.join(d.logs, "lockers", "cronvic2", "cron.log")) or \
        "uid=" not in cron_log(d, "cronvic2")
    crontab(d, "cronmal2", "")


def test_only_admins_see_and_run_a_lockers_cron(d):
    d.signup("cronpriv")
    crontab(d, "cronpriv", "0 0 30 2 * echo private\n")
    with login_users(["cronusr1"], MARK):
        for verb in (["status"], ["list"], ["run", "cronpriv", "1"], ["log"], ["reload"]):
            args = ["cron"] + (verb if len(verb) > 1 else verb + ["cronpriv"])
            r = d.locker(*args, user="cronusr1", check=False)
            assert r.returncode == 77 and "permission denied" in r.stderr.lower(), (args, r)


def test_schedules_survive_a_restart_and_reboot_runs_once_per_start(make_lockerd):
    """The schedule is the directory's: after a restart the jobs run with
    no compile (and no worker); @reboot runs once per start of lockerd."""
    d = make_lockerd(extra="cron-minute 1s\n")
    d.start()
    d.signup("cronboot")
    crontab(d, "cronboot", "@reboot echo BOOTED\n* * * * * echo tick\n")
    assert wait_for(lambda: "job 2: tick" in cron_log(d, "cronboot"), 30)
    time.sleep(1.5)
    booted = cron_log(d, "cronboot").count("job 1: BOOTED")
    assert booted <= 1
    d.stop()
    ticks = cron_log(d, "cronboot").count("job 2: tick")
    d.start()
    assert wait_for(lambda: cron_log(d, "cronboot").count("job 2: tick") > ticks + 1, 30)
    time.sleep(2)
    log = cron_log(d, "cronboot")
    assert log.count("job 1: BOOTED") == booted + 1, log
    assert log.count("crontab compiled") == 1, log
    assert status(d, "cronboot")["state"] == "ok"


def test_a_new_locker_under_a_removed_ones_name_runs_none_of_its_jobs(d):
    """The schedule is kept by name, but a name removed and signed up again
    is another locker (another uid): nothing of the old crontab runs as it."""
    old = d.signup("cronreuse")
    crontab(d, "cronreuse", "* * * * * echo OLD-OWNER-JOB\n")
    assert wait_for(lambda: "job 1: OLD-OWNER-JOB" in cron_log(d, "cronreuse"), 30)
    d.locker("remove", "cronreuse", "--purge")
    new = d.signup("cronreuse")
    assert new["uid"] != old["uid"]
    time.sleep(3)
    assert "OLD-OWNER-JOB" not in cron_log(d, "cronreuse")
    st = status(d, "cronreuse")
    assert st["state"] in ("none", "new") and st["jobs"] == 0, st
    assert entries(d, "cronreuse") == []
