"""Request bodies from hostile clients (issue 9): a body is held whole by
front before any script runs (src/body.c), so that

- clients dripping their bodies do not pin the locker's PHP pool (each kept
  FastCGI connection pins one PHP process), and body-total-timeout bounds
  the whole body, however regularly its bytes come;
- a body that never ended (a client gone mid-upload, Content-Length or
  chunked) never reaches a script, PHP or CGI.

Every attack is made as an anonymous client over HTTP.
"""
import os
import socket
import threading
import time

import pytest

from conftest import get, parse_responses, raw

HOST = "dana.test.example"


@pytest.fixture(scope="module")
def d(build_dir):
    from conftest import Lockerd
    # One front: its share of dana's pool is 4 kept connections.
    # worker-timeout bounds how long a request waits for one.
    d = Lockerd(build_dir, front_processes=1,
                extra="worker-timeout 4s\nbody-timeout 3s\nbody-total-timeout 6s\n").start()
    d.signup("dana")
    d.home = d.info("dana")["home"]
    d.put("dana", "p.php", '<?php echo "php:", strlen(file_get_contents("php://input"));')
    assert get(d.port, "/p.php", HOST)[:3:2] == (200, b"php:0")
    yield d
    d.cleanup()


class Dripper:
    """A client that sends a request head announcing a body, then the body
    one byte per `every` seconds, until told to stop; what it got back."""

    def __init__(self, port, path, length, every=1.0, chunked=False):
        self.s = socket.create_connection(("127.0.0.1", port))
        frame = b"Transfer-Encoding: chunked\r\n" if chunked else \
            b"Content-Length: %d\r\n" % length
        self.s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + HOST.encode() +
                       b"\r\nContent-Type: application/x-www-form-urlencoded\r\n" + frame +
                       b"\r\n")
        self.chunked, self.every, self.length = chunked, every, length
        self.answer = b""
        self.answered_at = None
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.s.settimeout(self.every)
        sent = 0
        while not self.stop.is_set() and sent < self.length - 1:
            try:
                self.s.sendall(b"1\r\na\r\n" if self.chunked else b"a")
                sent += 1
                got = self.s.recv(4096)
                if not got:
                    break
                self.answer += got
                self.answered_at = time.monotonic()
                break
            except socket.timeout:
                continue
            except OSError:
                break

    def close(self):
        self.stop.set()
        self.t.join(5)
        self.s.close()


def test_slow_bodies_do_not_pin_the_php_pool(d):
    """Ten clients drip bodies to dana's PHP page at a byte a second (more
    than front's share of her pool, some large enough for a spool, one
    chunked); her PHP pages must still answer at once."""
    drips = [Dripper(d.port, "/p.php", 200) for _ in range(7)]
    drips += [Dripper(d.port, "/p.php", 1 << 20) for _ in range(2)]
    drips.append(Dripper(d.port, "/p.php", 200, chunked=True))
    try:
        time.sleep(1.5)
        for _ in range(3):
            t0 = time.monotonic()
            st, _, body = get(d.port, "/p.php", HOST)
            assert (st, body) == (200, b"php:0"), (st, body)
            form = b"a=" + b"x" * 100
            st, _, body = parse_responses(raw(d.port, (
                "POST /p.php HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                "Content-Length: %d\r\n\r\n" % (HOST, len(form))).encode() + form))[0]
            assert (st, body) == (200, b"php:%d" % len(form)), (st, body)
            assert time.monotonic() - t0 < 2.0
    finally:
        for x in drips:
            x.close()


def test_a_body_dripped_past_body_total_timeout_gets_408(d):
    """Each byte comes in time (every 0.5 s, body-timeout 3 s), but the
    whole body takes longer than body-total-timeout (6 s): 408."""
    x = Dripper(d.port, "/p.php", 100, every=0.5)
    t0 = time.monotonic()
    try:
        x.t.join(15)
        assert x.answer.startswith(b"HTTP/1.1 408"), x.answer[:80]
        assert x.answered_at - t0 < 10
    finally:
        x.close()


def aborted(port, head, body):
    """Send a request head and part of its body, then go away."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head + body)
    time.sleep(0.3)
    s.close()


@pytest.mark.parametrize("kind", ["php", "cgi"])
def test_an_aborted_upload_never_reaches_a_script(d, kind):
    """A script that records each run; uploads cut short (chunked without
    the last chunk, small and past the memory bound; Content-Length with
    bytes missing) must never run it.  A whole one runs it once."""
    log = os.path.join(d.home, "web_scripts", f"ran-{kind}.txt")
    if kind == "php":
        d.put("dana", "rec.php", '<?php file_put_contents(__DIR__ . "/ran-php.txt",'
              ' strlen(file_get_contents("php://input")) . "\\n", FILE_APPEND); echo "ok";')
        path = "/rec.php"
    else:
        # It records that it ran before it reads: a script started on a
        # body still coming may act on it before it is cut short.
        d.put("dana", "rec.cgi", '#!/bin/sh\necho run >> ran-cgi.txt\nn=$(wc -c)\n'
              'echo "$n" >> ran-cgi.txt\nprintf "Content-Type: text/plain\\n\\nok"\n',
              mode=0o700)
        path = "/rec.cgi"
    head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n").encode()
    chunked = head + b"Transfer-Encoding: chunked\r\n\r\n"
    big = os.urandom(200 * 1024).hex().encode()[:200 * 1024]
    aborted(d.port, chunked, b"5\r\nhello\r\n")
    aborted(d.port, chunked, b"%x\r\n" % len(big) + big + b"\r\n")
    aborted(d.port, head + b"Content-Length: 100\r\n\r\n", b"a=" + b"x" * 50)
    aborted(d.port, head + b"Content-Length: %d\r\n\r\n" % (len(big) + 10), big)
    time.sleep(1.5)
    assert not os.path.exists(log), open(log).read()
    st, _, body = parse_responses(raw(d.port, chunked.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") +
                                      b"5\r\nhello\r\n0\r\n\r\n"))[0]
    assert (st, body) == (200, b"ok")
    with open(log) as f:
        assert f.read().split() == (["5"] if kind == "php" else ["run", "5"])


def test_a_php_answer_cut_short_is_not_passed_off_as_whole(d):
    """The same mistake the other way: a PHP process that dies mid-answer
    (no END_REQUEST) must not have its answer ended as if complete (the
    last chunk); the connection is closed instead, so the client knows."""
    d.put("dana", "die.php", '<?php echo str_repeat("a", 100000); while (ob_get_level()) ob_end_flush(); flush();'
          ' posix_kill(getmypid(), 9); echo "never";')
    data = raw(d.port, ("GET /die.php HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST).encode(),
               timeout=10)
    assert data.startswith(b"HTTP/1.1 200"), data[:80]
    assert b"Transfer-Encoding: chunked" in data
    assert not data.endswith(b"\r\n0\r\n\r\n"), data[-40:]
    assert b"never" not in data


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_bodies_around_the_memory_bound_arrive_whole(d, chunked):
    """Bodies just under, at and over what front holds in memory (64 KiB),
    sent in one write (so the last bytes wait in front's buffer when
    memory fills), reach PHP whole, with their length."""
    import hashlib
    d.put("dana", "sum.php", '<?php $b = file_get_contents("php://input");'
          ' echo $_SERVER["CONTENT_LENGTH"], " ", strlen($b), " ", hash("sha256", $b);')
    for n in (1, 65535, 65536, 65537, 70000, 300000):
        body = os.urandom(n)
        if chunked:
            frame = b"Transfer-Encoding: chunked\r\n"
            data = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 5000]), body[i:i + 5000])
                            for i in range(0, n, 5000)) + b"0\r\n\r\n"
        else:
            frame, data = b"Content-Length: %d\r\n" % n, body
        req = (b"POST /sum.php HTTP/1.1\r\nHost: " + HOST.encode() +
               b"\r\nConnection: close\r\n" + frame + b"\r\n" + data)
        got = parse_responses(raw(d.port, req, timeout=10))
        assert got, f"no answer for a body of {n}"
        st, _, b = got[0]
        assert (st, b.decode()) == (200, "%d %d %s" % (n, n, hashlib.sha256(body).hexdigest())), n


def test_a_spooled_body_counts_against_the_lockers_disk_limit(request, build_dir):
    """A large body is spooled in the locker's own /tmp: past its disk
    limit (disk-quota image, 24 MiB) the upload gets 413, and a body that
    fits still goes through."""
    from conftest import image_lockerd
    d = image_lockerd(request, build_dir)
    d.signup("erin")
    d.put("erin", "n.php", '<?php echo strlen(file_get_contents("php://input"));')
    host = "erin.test.example"

    def post(n):
        s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
        s.sendall(b"POST /n.php HTTP/1.1\r\nHost: " + host.encode() +
                  b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % n)
        block = b"x" * 65536
        try:
            for i in range(0, n, len(block)):
                s.sendall(block[:min(len(block), n - i)])
        except OSError:
            pass    # front answered and closed before the end: read it
        data = b""
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                data += got
        except OSError:
            pass
        s.close()
        return data
    assert post(40 << 20).startswith(b"HTTP/1.1 413")
    data = post(4 << 20)
    assert data.startswith(b"HTTP/1.1 200") and b"\r\n%d\r\n" % (4 << 20) in data, data[:80]
