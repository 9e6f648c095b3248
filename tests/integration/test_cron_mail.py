"""Cron scripts' mail (issue 15): a job's output and a refused crontab's
error mailed through the outgoing mail role to a real Postfix (postfix.py),
read back from its sink's maildir.  One Postfix and one lockerd (with a
fast cron clock) for the module, stopped by pid.
"""
import os
import tempfile

import pytest

from conftest import TEST_BASE, Lockerd, wait_for
from postfix import Postfix, available

pytestmark = pytest.mark.skipif(not available(), reason="postfix or swaks is not installed")


@pytest.fixture(scope="module")
def cm(build_dir):
    os.makedirs(TEST_BASE, exist_ok=True)
    p = Postfix(tempfile.mkdtemp(prefix="pfc", dir=TEST_BASE)).start()
    d = Lockerd(build_dir, domain="test.example",
                extra=f"mail-relay 127.0.0.1:{p.port}\ncron-minute 1s\n").start()
    d.postfix = p
    yield d
    d.cleanup()
    p.cleanup()


def crontab(d, name, text):
    info = d.info(name)
    path = os.path.join(info["home"], "cron_scripts", "crontab")
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chown(path + ".new", info["uid"], info["gid"])
    os.rename(path + ".new", path)


def cron_state(d, name):
    import json
    return json.loads(d.locker("--json", "cron", "status", name).stdout)


def test_a_jobs_output_arrives_by_mail_and_in_the_log(cm):
    cm.signup("cronmail")
    crontab(cm, "cronmail", "MAILTO=cron-out@sink.test\n0 0 30 2 * echo MARK-CRON-OUT; id -u\n")
    assert wait_for(lambda: cron_state(cm, "cronmail")["state"] == "ok", 30)
    cm.locker("cron", "run", "cronmail", "1")
    m = cm.postfix.wait_message(lambda m: "MARK-CRON-OUT" in m.get_content())
    assert m["X-Original-To"] == "cron-out@sink.test"
    assert m.get_all("X-Lockerd-Locker") == ["cronmail"]
    assert m["Return-Path"] == "<cronmail@test.example>"
    assert "Cron <cronmail> job 1 (line 2)" in m["Subject"]
    assert str(cm.info("cronmail")["uid"]) in m.get_content()
    log = os.path.join(cm.logs, "lockers", "cronmail", "cron.log")
    assert "job 1: MARK-CRON-OUT" in open(log).read()


def test_a_job_without_output_sends_nothing_and_empty_mailto_none(cm):
    cm.signup("cronquiet")
    crontab(cm, "cronquiet", "MAILTO=\"\"\n0 0 30 2 * echo MARK-NO-MAIL\n"
            "0 0 30 2 * true\n")
    assert wait_for(lambda: cron_state(cm, "cronquiet")["state"] == "ok", 30)
    cm.locker("cron", "run", "cronquiet", "1")
    cm.locker("cron", "run", "cronquiet", "2")
    log = os.path.join(cm.logs, "lockers", "cronquiet", "cron.log")
    assert wait_for(lambda: open(log).read().count("exit status 0") == 2, 30)
    cm.locker("mail", "status", "cronquiet")
    assert not any("MARK-NO-MAIL" in m.get_content() for m in cm.postfix.messages())


def test_a_refused_crontab_is_mailed_with_its_line(cm):
    cm.signup("cronerrmail")
    crontab(cm, "cronerrmail", "MAILTO=cron-err@sink.test\n@daily true\n")
    assert wait_for(lambda: cron_state(cm, "cronerrmail")["state"] == "ok", 30)
    crontab(cm, "cronerrmail", "MAILTO=cron-err@sink.test\n* 25 * * * true\n")
    m = cm.postfix.wait_message(lambda m: m["X-Original-To"] == "cron-err@sink.test")
    assert m["Subject"] == "crontab refused"
    assert "crontab:2: the hour field: 25 is out of range" in m.get_content()
    assert m.get_all("X-Lockerd-Locker") == ["cronerrmail"]
