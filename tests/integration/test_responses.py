"""Script answers to hostile clients (issue 9): front reads a script's answer
as fast as the script writes it, into memory and then a spool the locker's
worker makes (src/respbuf.c), so that

- clients that never read a large answer do not pin the locker's PHP pool
  (a kept FastCGI connection goes back once END_REQUEST is read), nor its
  CGI slots (max-scripts): the script ends once its answer is held;
- a client that reads slowly still gets the whole answer, byte for byte,
  with its framing (chunks, Content-Length) and keep-alive as before.

Every attack is made as an anonymous client over HTTP.
"""
import hashlib
import socket
import time

import pytest

from conftest import get, parse_responses

HOST = "erin.test.example"
LINES = 20000           # of 1000 bytes: a 20 MB answer

BIG_PHP = ('<?php header("Content-Type: text/plain");\n'
           'for ($i = 0; $i < %d; $i++) printf("%%07d %%s\\n", $i, str_repeat("x", 991));\n'
           % LINES)
BIG_PY = ('import sys\n'
          'out = sys.stdout.buffer\n'
          'out.write(b"Content-Type: text/plain\\r\\nContent-Length: %d\\r\\n\\r\\n")\n'
          'for i in range(%d):\n'
          '    out.write(b"%%07d %%s\\n" %% (i, b"x" * 991))\n' % (LINES * 1000, LINES))


def big_sha():
    h = hashlib.sha256()
    for i in range(LINES):
        h.update(b"%07d %s\n" % (i, b"x" * 991))
    return h.hexdigest()


@pytest.fixture(scope="module")
def d(build_dir):
    from conftest import Lockerd
    # One front: its share of erin's pool is 4 kept connections (max-scripts
    # 4), and 4 CGI scripts may run at once.  worker-timeout bounds how long
    # a request waits for a pool connection (then 504).
    d = Lockerd(build_dir, front_processes=1,
                extra="worker-timeout 4s\nmax-scripts 4\nsend-timeout 30s\n").start()
    d.signup("erin")
    d.put("erin", "big.php", BIG_PHP)
    d.put("erin", "big.py", BIG_PY)
    d.put("erin", "small.php", '<?php echo "small";')
    d.put("erin", "small.py", 'print("Content-Type: text/plain\\n")\nprint("small", end="")')
    assert get(d.port, "/small.php", HOST)[:3:2] == (200, b"small")
    assert get(d.port, "/small.py", HOST)[:3:2] == (200, b"small")
    yield d
    d.cleanup()


def stalled(port, path, n=6):
    """n clients that ask for path and never read a byte of the answer."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n")
        socks.append(s)
    return socks


def timed_get(port, path):
    t = time.monotonic()
    r = get(port, path, HOST)
    return r, time.monotonic() - t


@pytest.mark.parametrize("big,small", [("/big.php", "/small.php"), ("/big.py", "/small.py")])
def test_clients_that_never_read_do_not_pin_scripts(d, big, small):
    """Six clients that never read a 20 MB answer: PHP's kept connections
    (4) and CGI's slots (max-scripts 4) are all taken without buffering, so
    the other page got 504 (PHP, after worker-timeout) or 503 (CGI)."""
    socks = stalled(d.port, big)
    try:
        time.sleep(3)       # time for every answer to be held
        for _ in range(3):
            (status, _, body), took = timed_get(d.port, small)
            assert (status, body) == (200, b"small"), (status, body)
            assert took < 2, took
    finally:
        for s in socks:
            s.close()


def read_slowly(s, want_end):
    """Read in small pieces with pauses, as a slow client; until want_end(data).
    (A client that also shrinks its receive buffer to a few KiB gets 200 ms
    stalls from loopback TCP, static files as much: too slow for a test.)"""
    data = bytearray()
    n = 0
    while not want_end(data):
        b = s.recv(32768)
        assert b, "closed after %d bytes" % len(data)
        data += b
        n += 1
        if n % 8 == 0:
            time.sleep(0.01)
    return bytes(data)


def chunked_end(data):
    return data.endswith(b"\r\n0\r\n\r\n")


def length_end(n):
    """The end of an answer with a body of n bytes."""
    def end(data):
        h = data.find(b"\r\n\r\n", 0, 4096)
        return h > 0 and len(data) >= h + 4 + n
    return end


def test_a_slow_reader_gets_the_whole_answer_chunked_then_keep_alive(d):
    s = socket.create_connection(("127.0.0.1", d.port))
    s.settimeout(30)
    s.sendall(b"GET /big.php HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n")
    time.sleep(2)       # the script is done by now; the answer is held
    data = read_slowly(s, chunked_end)
    (status, h, body), = parse_responses(data)
    assert status == 200 and h["transfer-encoding"] == "chunked"
    assert len(body) == LINES * 1000
    assert hashlib.sha256(body).hexdigest() == big_sha()
    # The same connection goes on: the framing was right.
    s.sendall(b"GET /small.php HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n")
    data = read_slowly(s, chunked_end)
    assert parse_responses(data)[0][::2] == (200, b"small")
    s.close()


def test_a_slow_reader_gets_the_whole_answer_with_length(d):
    s = socket.create_connection(("127.0.0.1", d.port))
    s.settimeout(30)
    s.sendall(b"GET /big.py HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n")
    time.sleep(2)
    data = read_slowly(s, length_end(LINES * 1000))
    (status, h, body), = parse_responses(data)
    assert status == 200 and h["content-length"] == str(LINES * 1000)
    assert hashlib.sha256(body).hexdigest() == big_sha()
    s.sendall(b"GET /small.py HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nConnection: close\r\n\r\n")
    data = b""
    while (b := s.recv(65536)):
        data += b
    assert parse_responses(data)[0][::2] == (200, b"small")
    s.close()


def test_head_of_a_large_answer(d):
    status, h, body = get(d.port, "/big.py", HOST, method=b"HEAD")
    assert status == 200 and body == b"" and h["content-length"] == str(LINES * 1000)


def test_an_answer_past_the_disk_limit_is_cut_and_said(request, build_dir):
    """The spool is in the locker's own /tmp, against its disk limit
    (disk-quota image, 24 MiB): a 40 MB answer to a client that does not
    read is cut there (the connection closes without the last chunk, the
    locker's error log says why), nothing lands outside the locker, and its
    other pages go on."""
    import os
    from conftest import image_lockerd
    d = image_lockerd(request, build_dir, front_processes=1)
    d.signup("erin")
    d.put("erin", "huge.php", BIG_PHP.replace(str(LINES), str(2 * LINES)))
    d.put("erin", "small.php", '<?php echo "small";')
    s = socket.create_connection(("127.0.0.1", d.port))
    s.settimeout(30)
    s.sendall(b"GET /huge.php HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n")
    time.sleep(4)
    data = bytearray()
    while (b := s.recv(1 << 20)):
        data += b
    s.close()
    assert data.startswith(b"HTTP/1.1 200")
    assert 0 < len(data) < 2 * LINES * 1000 and not data.endswith(b"\r\n0\r\n\r\n")
    log = os.path.join(d.logs, "lockers", "erin", "error.log")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if os.path.exists(log) and "spool" in open(log, errors="replace").read():
            break
        time.sleep(0.1)
    text = open(log, errors="replace").read()
    assert "/huge.php cut after" in text and ("quota" in text or "space" in text), text
    assert get(d.port, "/small.php", HOST)[::2] == (200, b"small")
