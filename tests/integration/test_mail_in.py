"""Issue 15: incoming mail, through a real Postfix.

A real Postfix (tests/integration/postfix.py) on its own configuration,
queue and data directories, smtpd on a loopback port, started once for the
module and stopped by its pid; mail to its lockers' domain goes by LMTP to
a Unix socket, mail to its sink domain into a maildir the tests read.
"""
import os
import tempfile
import time

import pytest

from conftest import TEST_BASE
from postfix import Postfix, available

pytestmark = pytest.mark.skipif(not available(), reason="postfix or swaks is not installed")


@pytest.fixture(scope="module")
def postfix():
    os.makedirs(TEST_BASE, exist_ok=True)
    d = tempfile.mkdtemp(prefix="pfx", dir=TEST_BASE)
    os.chmod(d, 0o755)
    p = Postfix(os.path.join(d, "postfix")).start()
    yield p
    p.cleanup()
    os.rmdir(d)


def test_harness_postfix_delivers_to_the_sink_and_nowhere_else(postfix):
    """The private Postfix answers on loopback, delivers its sink domain's
    mail into the maildir, refuses any other domain, and holds the lockers'
    domain's mail while nothing listens on its LMTP socket."""
    postfix.send(f"harness@{postfix.sink}", subject="harness-sink")
    m = postfix.wait_message(lambda m: m["Subject"] == "harness-sink")
    assert m["To"] == f"harness@{postfix.sink}"
    r = postfix.send("someone@example.com", check=False)
    assert r.returncode != 0 and "5" in r.stdout, r.stdout
    postfix.send(f"nobody-listens@{postfix.domain}", subject="harness-held")
    deadline = time.monotonic() + 60
    while not any(f"nobody-listens@{postfix.domain}" in str(q.get("recipients"))
                  for q in postfix.queue()):
        assert time.monotonic() < deadline, postfix.log()
        time.sleep(0.2)
    print(f"postfix started in {postfix.start_seconds:.2f} s")
