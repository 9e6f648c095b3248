"""HTTP/2 attacks on front, from the attacker's side (issue 17).

One lockerd with a TLS listener (HTTP/2 by ALPN h2) and small limits, so
that each attack trips fast: rapid reset (CVE-2023-44487), CONTINUATION
floods (CVE-2024-27316 class), an HPACK bomb, SETTINGS and PING floods, a
zero-window stall, too many streams, huge headers, and the smuggling
cases of RFC 9113 §8.2 (a request that cannot be written as one valid
HTTP/1.1 request is refused, and the script behind it never runs).  Each
attack is driven by hand with Debian's python3-h2 (its state machine with
validation off, or its hyperframe and hpack pieces where the state machine
would refuse to send the attack), and each ends with front's processes the
same pids and still serving.
"""
import hashlib
import http.client
import os
import random
import select
import socket
import ssl
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import hpack
import pytest
from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame, PriorityFrame,
                              SettingsFrame)

from conftest import Lockerd, free_port, sanitized, self_signed, stopped, wait_for

DOMAIN = "test.example"
LOCKER = "h2a"
HOST = f"{LOCKER}.{DOMAIN}"

# The limits this lockerd runs with: small, so that each attack trips fast.
MAX_RESETS = 20
MAX_CONTROL = 50
MAX_STREAMS = 8
MAX_HEADER_FRAMES = 4
MAX_HEADER = 4096
SEND_TIMEOUT = 2
BIG = 8 << 20           # the large static file: more than the kernel buffers of a connection
MEM_SLACK = 4 << 20     # what front may grow by during one attack (kB below)


def mem_slack(d):
    """MEM_SLACK in kB; a sanitizer build's heap keeps what was freed (ASan's
    quarantine) and shadows every page it touches: 40-45 MB more after a
    stalled 3 MiB download there, nothing kept, so its bound is looser."""
    return (128 << 20 if sanitized(d.build) else MEM_SLACK) >> 10

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
GOAWAY, RST_STREAM = 7, 3


def h2_lockerd(build_dir, extra):
    """A started lockerd with one front, a TLS listener (h2 by ALPN) and
    locker LOCKER's pages; extra: its limits.  Stopped by the caller."""
    ld = Lockerd(build_dir, domain=DOMAIN, front_processes=1)
    try:
        crt, key = self_signed(ld.dir, "*." + DOMAIN)
        ld.tls_port = free_port()
        # One front: every connection meets the same process, whose pid
        # and memory each attack checks after.
        ld.write_conf(open(ld.conf).read() + f"listen 127.0.0.1:{ld.tls_port} tls\n"
                      f"certificate *.{DOMAIN} {crt} {key}\n" + extra)
        ld.start()
        ld.signup(LOCKER)
        ld.ran = os.path.join(ld.info(LOCKER)["home"], "ran.log")
        ld.put(LOCKER, "index.html", "h2a's page\n", mode=0o644)
        ld.put(LOCKER, "big.pdf", os.urandom(BIG), mode=0o644)
        ld.put(LOCKER, "slow.cgi", "#!/bin/sh\nsleep 1\n"
               "printf 'Content-Type: text/plain\\n\\nslow\\n'\n", mode=0o755)
        # Each run of ran.cgi leaves its query string in ~/ran.log (its
        # own home, as the locker): what a refused request must never add to.
        ld.put(LOCKER, "ran.cgi", "#!/bin/sh\n"
               f"printf '%s\\n' \"$QUERY_STRING\" >> {ld.ran}\n"
               "printf 'Content-Type: text/plain\\n\\nran\\n'\n", mode=0o755)
        ld.put(LOCKER, "sum.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
               "md5sum\n", mode=0o755)
        ld.put(LOCKER, "env.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
               "env | sort\n", mode=0o755)
        ld.front = sorted(ld.pids("front"))
        assert len(ld.front) == 1, ld.children()
        return ld
    except BaseException:
        ld.cleanup()
        raise


@pytest.fixture(scope="module")
def d(build_dir):
    ld = h2_lockerd(build_dir, (
        f"http2-max-resets {MAX_RESETS}\n"
        f"http2-max-control-frames {MAX_CONTROL}\n"
        f"http2-max-streams {MAX_STREAMS}\n"
        f"http2-max-header-frames {MAX_HEADER_FRAMES}\n"
        f"max-header-size {MAX_HEADER}\n"
        # (a request line may be no longer than the header limit)
        f"max-request-line {MAX_HEADER // 2}\n"
        f"send-timeout {SEND_TIMEOUT}s\n"))
    yield ld
    ld.cleanup()


# --- a client that speaks HTTP/2 by hand ---

def tls_socket(port, alpn="h2", timeout=30, rcvbuf=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn])
    raw = socket.socket()
    raw.settimeout(timeout)
    if rcvbuf:
        # Set before connecting: a small window, never grown by the kernel.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.connect(("127.0.0.1", port))
    s = ctx.wrap_socket(raw, server_hostname=HOST)
    assert s.selected_alpn_protocol() == alpn, s.selected_alpn_protocol()
    return s


class Stream:
    def __init__(self):
        self.status = None
        self.headers = []
        self.data = bytearray()
        self.ended = False
        self.reset = None       # the RST_STREAM's error code

    @property
    def done(self):
        return self.ended or self.reset is not None


class H2:
    """One HTTP/2 connection through python3-h2's state machine, with its
    validation and normalisation off: it sends what it is told to."""

    def __init__(self, port, settings=None, rcvbuf=None):
        self.sock = tls_socket(port, rcvbuf=rcvbuf)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding=None, validate_outbound_headers=False,
            normalize_outbound_headers=False, validate_inbound_headers=False,
            normalize_inbound_headers=False))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.streams = {}
        self.goaway = None      # the GOAWAY's error code
        self.closed = False     # the server closed (or reset) the socket
        self.unsent = False     # a send failed: the server closed or reset it
        self.frames = Frames()  # what came, frame by frame, whatever h2 made of it
        self.broken = False     # h2's state machine gave up: frames only
        self.flush()

    def flush(self):
        self.send_raw(self.conn.data_to_send())

    def send_raw(self, data):
        # A send the server refused (it closed) ends no reading: what it
        # said before it closed is still to be read.
        if data and not self.unsent:
            try:
                self.sock.sendall(data)
            except OSError:
                self.unsent = True

    def request(self, path, extra=(), method="GET", body=None, end=True, headers=None,
                flush=True):
        """A stream's HEADERS (and DATA): headers replaces the whole list."""
        sid = self.conn.get_next_available_stream_id()
        if headers is None:
            headers = [(":method", method), (":scheme", "https"), (":authority", HOST),
                       (":path", path)] + list(extra)
        self.streams[sid] = Stream()
        self.conn.send_headers(sid, headers, end_stream=end and body is None)
        if body is not None:
            self.conn.send_data(sid, body, end_stream=end)
        if flush:
            self.flush()
        return sid

    def feed(self, data):
        self.frames.feed(data)
        if self.frames.goaway is not None:
            self.goaway = self.frames.goaway
        for sid, code in self.frames.resets.items():
            self.streams.setdefault(sid, Stream()).reset = code
        if self.broken:
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            # After our own attack the state machine may be out of step
            # (frames on streams it thinks gone): the frames themselves
            # are still read above.
            self.broken = True
            return
        for ev in events:
            st = self.streams.setdefault(getattr(ev, "stream_id", 0) or 0, Stream())
            if isinstance(ev, (h2.events.ResponseReceived,
                               h2.events.InformationalResponseReceived)):
                st.headers = ev.headers
                st.status = int(dict(ev.headers)[b":status"])
            elif isinstance(ev, h2.events.DataReceived):
                st.data += ev.data
                if ev.flow_controlled_length:     # the windows opened again
                    self.conn.acknowledge_received_data(ev.flow_controlled_length,
                                                        ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                st.ended = True
        self.flush()

    def pump(self, until, within=15.0):
        """Read and answer until until() or the socket closes or within
        seconds pass; until()'s last word."""
        deadline = time.monotonic() + within
        while not until() and not self.closed and time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError):
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            self.feed(data)
        return until()

    def wait(self, *sids, within=15.0):
        self.pump(lambda: all(self.streams[s].done for s in sids), within)
        return [self.streams[s] for s in sids] if len(sids) > 1 else self.streams[sids[0]]

    def wait_closed(self, within=15.0):
        return self.pump(lambda: self.closed, within)

    def get(self, path, within=15.0, **kw):
        return self.wait(self.request(path, **kw), within=within)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Frames:
    """The server's frames read from the byte stream by hand: GOAWAY and
    RST_STREAM are seen even where h2's state machine would not say."""

    def __init__(self):
        self.buf = b""
        self.goaway = None      # the first GOAWAY's error code
        self.resets = {}        # stream: RST_STREAM's error code
        self.types = []

    def feed(self, data):
        self.buf += data
        while len(self.buf) >= 9 and len(self.buf) >= 9 + int.from_bytes(self.buf[:3], "big"):
            n = int.from_bytes(self.buf[:3], "big")
            kind, sid = self.buf[3], int.from_bytes(self.buf[5:9], "big") & 0x7fffffff
            payload, self.buf = self.buf[9:9 + n], self.buf[9 + n:]
            self.types.append(kind)
            if kind == GOAWAY and self.goaway is None and n >= 8:
                self.goaway = struct.unpack(">I", payload[4:8])[0]
            elif kind == RST_STREAM and n == 4:
                self.resets[sid] = struct.unpack(">I", payload)[0]


def raw_h2(port):
    """A TLS connection past the preface and an empty SETTINGS: frames are
    then written by hand."""
    s = tls_socket(port)
    s.sendall(PREFACE + SettingsFrame(0).serialize())
    return s


def read_frames(s, frames, until, within=10.0):
    """Reads s into frames (a Frames) until until(), the server closes,
    or within seconds pass; whether the server closed."""
    deadline = time.monotonic() + within
    while not until() and time.monotonic() < deadline:
        s.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        except (OSError, ssl.SSLError):
            return True
        if not data:
            return True
        frames.feed(data)
    return False


# --- what each attack checks after ---

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def front_rss(d):
    return sum(rss_kb(p) for p in d.front)


def still_serving(d, honest=None):
    """front is the same process and answers, over a new connection (and
    over honest, a connection opened before the attack, if given)."""
    assert sorted(d.pids("front")) == d.front, (d.children(), d.front)
    c = H2(d.tls_port)
    try:
        st = c.get("/index.html")
        assert (st.status, bytes(st.data)) == (200, b"h2a's page\n"), vars(st)
    finally:
        c.close()
    if honest is not None:
        st = honest.get("/index.html")
        assert (st.status, bytes(st.data)) == (200, b"h2a's page\n"), vars(st)


def ran_lines(d):
    try:
        with open(d.ran) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


# --- the attacks ---

def test_rapid_reset_is_cut_with_enhance_your_calm(d):
    honest = H2(d.tls_port)
    assert honest.get("/index.html").status == 200
    c = H2(d.tls_port)
    try:
        # Each pair costs the server a stream set up and torn down, and
        # the client nothing: CVE-2023-44487.
        for _ in range(MAX_RESETS + 10):
            sid = c.request("/index.html", flush=False)
            c.conn.reset_stream(sid, ErrorCodes.CANCEL)
        c.flush()
        c.pump(lambda: c.goaway is not None)
        assert c.goaway == ErrorCodes.ENHANCE_YOUR_CALM, (c.goaway, c.closed)
        assert c.wait_closed(), "the socket stayed open after the GOAWAY"
    finally:
        c.close()
    still_serving(d, honest)
    honest.close()


def test_streams_the_server_must_reset_count_as_resets(d):
    """MadeYouReset (CVE-2025-8671): the client resets nothing itself but
    makes the server reset each stream (DATA longer than the request's
    content-length is a stream error, RFC 9113 §8.1.1), so that rapid
    reset's bound is not met by RST_STREAM frames of its own."""
    honest = H2(d.tls_port)
    assert honest.get("/index.html").status == 200
    lines = ran_lines(d)
    c = H2(d.tls_port)
    try:
        for _ in range(MAX_RESETS + 10):
            c.request("/ran.cgi?made-you-reset", method="POST", body=b"xx", flush=False,
                      extra=[("content-length", "1")])
        c.flush()
        c.pump(lambda: c.goaway is not None)
        # The server's own resets (those after the GOAWAY refused), and no
        # other connection error: the attack meant.
        codes = set(c.frames.resets.values())
        assert ErrorCodes.PROTOCOL_ERROR in codes and \
            codes <= {ErrorCodes.PROTOCOL_ERROR, ErrorCodes.REFUSED_STREAM}, (codes, c.goaway)
        assert c.goaway == ErrorCodes.ENHANCE_YOUR_CALM, (c.goaway, c.closed, c.frames.resets)
        assert c.wait_closed(), "the socket stayed open after the GOAWAY"
    finally:
        c.close()
    assert ran_lines(d) == lines
    still_serving(d, honest)
    honest.close()


def test_continuation_flood_is_cut_and_costs_no_memory(d):
    honest = H2(d.tls_port)
    assert honest.get("/index.html").status == 200
    before = front_rss(d)
    s = raw_h2(d.tls_port)
    enc = hpack.Encoder()
    block = enc.encode([(":method", "GET"), (":scheme", "https"), (":authority", HOST),
                        (":path", "/index.html")])
    frames, closed = Frames(), False
    try:
        s.sendall(HeadersFrame(1, data=block).serialize())     # no END_HEADERS
        # Frames of new fields, never END_HEADERS, up to 16 MiB in all.
        # Once the block is over the limit the GOAWAY is waited for (a
        # server that closes with our frames unread resets the TCP
        # connection, and a reset can take the GOAWAY with it); without
        # one, the flood goes on, to see what front's memory makes of it.
        piece = hpack.Encoder().encode([(b"x-flood", b"a" * 16000)], huffman=False)
        for n in range(1, 1025):
            try:
                s.sendall(ContinuationFrame(1, data=piece).serialize())
            except OSError:
                break
            wait = 10 if n == MAX_HEADER_FRAMES else 0.2
            if n == MAX_HEADER_FRAMES or select.select([s], [], [], 0)[0] or s.pending():
                closed = read_frames(s, frames, lambda: frames.goaway is not None, within=wait)
                if frames.goaway is not None or closed:
                    break
        closed = closed or read_frames(s, frames, lambda: False, within=10)
    finally:
        s.close()
    code = frames.goaway
    assert code is not None and code != ErrorCodes.NO_ERROR, (code, frames.types[-5:])
    assert closed, "the socket stayed open after the GOAWAY"
    assert front_rss(d) - before < mem_slack(d), (before, front_rss(d))
    still_serving(d, honest)
    honest.close()


def test_hpack_bomb_is_a_431_and_bounded(d):
    before = front_rss(d)
    c = H2(d.tls_port)
    try:
        # One 4000-byte value put in the dynamic table, then referred to
        # 4000 times by one byte each: a few KiB sent, 16 MB decoded.
        fields = [("x-bomb", "b" * 4000)] * 4000
        sid = c.request("/ran.cgi?bomb", extra=fields, flush=False)
        sent = c.conn.data_to_send()
        assert len(sent) < 16384, len(sent)
        c.send_raw(sent)
        st = c.wait(sid)
        # That stream answered 431 or reset; or, at worst, the connection
        # ended with an error (it cost that connection only).
        assert st.status == 431 or st.reset is not None or \
            c.goaway not in (None, ErrorCodes.NO_ERROR), (vars(st), c.goaway)
        assert front_rss(d) - before < mem_slack(d), (before, front_rss(d))
        # If it goes on, its HPACK table stayed in step.
        if c.goaway is None and not c.closed:
            st = c.get("/index.html")
            assert st.status == 200, vars(st)
    finally:
        c.close()
    assert "bomb" not in ran_lines(d)
    still_serving(d)


@pytest.mark.parametrize("kind", ["settings", "ping", "priority", "empty-data"])
def test_control_frame_flood_is_cut_with_enhance_your_calm(d, kind):
    honest = H2(d.tls_port)
    c = H2(d.tls_port)
    try:
        assert c.get("/index.html").status == 200
        if kind == "empty-data":
            sid = c.request("/ran.cgi?empty-data", method="POST", end=False)
        for i in range(MAX_CONTROL + 20):
            if kind == "settings":
                c.conn.update_settings({SettingCodes.ENABLE_PUSH: 0})
            elif kind == "ping":
                c.conn.ping(struct.pack(">Q", i))
            elif kind == "priority":
                # Idle streams' priorities: the frames cost the client
                # nothing and need not be answered.
                c.send_raw(PriorityFrame(1001 + 2 * i, depends_on=0,
                                         stream_weight=15).serialize())
            else:
                c.conn.send_data(sid, b"", end_stream=False)
        c.flush()
        c.pump(lambda: c.goaway is not None)
        assert c.goaway == ErrorCodes.ENHANCE_YOUR_CALM, (c.goaway, c.closed)
        assert c.wait_closed(), "the socket stayed open after the GOAWAY"
    finally:
        c.close()
    assert "empty-data" not in ran_lines(d)
    still_serving(d, honest)
    honest.close()


def test_zero_window_stall_is_reset_after_send_timeout(d):
    before = front_rss(d)
    c = H2(d.tls_port, settings={SettingCodes.INITIAL_WINDOW_SIZE: 0})
    try:
        sid = c.request("/big.pdf")
        c.pump(lambda: c.streams[sid].status is not None, within=10)
        assert c.streams[sid].status == 200, vars(c.streams[sid])
        # Meanwhile an honest client is served in full (with wide windows:
        # few round trips, so that a loaded machine's slow client does not
        # meet send-timeout itself).
        h = H2(d.tls_port, settings={SettingCodes.INITIAL_WINDOW_SIZE: BIG})
        h.conn.increment_flow_control_window(BIG)
        st = h.get("/big.pdf", within=30)
        h.close()
        assert st.status == 200 and len(st.data) == BIG, (st.status, len(st.data))
        # Polled: the reset comes after send-timeout, and no claim is made
        # on how late a loaded machine lets it come.
        st = c.wait(sid, within=SEND_TIMEOUT + 20)
        assert st.reset is not None, (vars(st), c.goaway, c.closed)
        assert len(st.data) == 0
    finally:
        c.close()
    assert front_rss(d) - before < mem_slack(d), (before, front_rss(d))
    still_serving(d)


def test_a_body_in_tiny_frames_arrives_whole(d):
    """A body without a length in thousands of DATA frames of 1 to 40
    bytes, sent in bursts that front reads while more come: front frames
    them as HTTP/1.1 chunks, joining frames into the chunk whose size line
    is still unread; the script gets every byte (md5).  (The join's heap
    overrun, when the stream had begun to read that size line, was found
    by the test below: its stream stops reading half-way.)"""
    rnd = random.Random(17)
    body = bytes(rnd.randrange(256) for _ in range(60000))
    c = H2(d.tls_port)
    try:
        sid = c.request("/sum.cgi", method="POST", end=False)
        at = 0
        while at < len(body):
            for _ in range(50):
                n = rnd.randrange(1, 41)
                c.send_raw(DataFrame(sid, data=body[at:at + n]).serialize())
                at += n
                if at >= len(body):
                    break
            c.pump(lambda: False, within=0.01)
        c.send_raw(DataFrame(sid, data=b"", flags=["END_STREAM"]).serialize())
        st = c.wait(sid, within=30)
        assert st.status == 200, (vars(st), c.goaway, c.closed)
        assert bytes(st.data).split()[0].decode() == hashlib.md5(body).hexdigest()
    finally:
        c.close()
    still_serving(d)


def test_data_past_the_window_is_refused_and_costs_no_memory(d):
    """A body sent whatever the windows say, to a request whose worker
    answers nothing (stopped): front reads at most what the windows
    allow, and the rest is a flow-control error, not memory."""
    c = H2(d.tls_port)
    try:
        assert c.get("/env.cgi").status == 200     # the worker is up
        before, lines = front_rss(d), ran_lines(d)
        with stopped(d, LOCKER):
            sid = c.request("/ran.cgi?overrun", method="POST", end=False)
            piece = DataFrame(sid, data=b"x" * 16384).serialize()
            # 4 MiB; past any window front could have opened (its 64 KiB
            # and a body's 64 KiB in memory) the answer is waited for
            # (front reading on while its buffer is read once wrote over
            # its heap: a TLS "bad record MAC" ended the connection);
            # without one the flood goes on.
            for n in range(1, 257):
                c.send_raw(piece)
                if n == 12:
                    c.pump(lambda: c.streams[sid].reset is not None or c.goaway is not None,
                           within=10)
                if c.streams[sid].reset is not None or c.goaway is not None or c.closed:
                    break
            c.pump(lambda: c.streams[sid].reset is not None or c.goaway is not None)
            assert ErrorCodes.FLOW_CONTROL_ERROR in (c.streams[sid].reset, c.goaway), \
                (vars(c.streams[sid]), c.goaway, c.closed, c.frames.types)
            assert front_rss(d) - before < mem_slack(d), (before, front_rss(d))
    finally:
        c.close()
    still_serving(d)
    assert ran_lines(d) == lines


def tcp_state(local, remote):
    """The kernel's state of the loopback TCP socket from port local to
    port remote (/proc/net/tcp's hex code: "01" established), or None."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == local and \
                    int(fields[2].split(":")[1], 16) == remote:
                return fields[3]
    return None


def test_a_client_that_stops_reading_is_closed_after_send_timeout(d):
    """The stall one level down: windows wide open, but the client reads
    nothing, so TCP's own window shuts and front can write nothing."""
    before = front_rss(d)
    c = H2(d.tls_port, settings={SettingCodes.INITIAL_WINDOW_SIZE: BIG}, rcvbuf=16384)
    try:
        c.conn.increment_flow_control_window(BIG)
        sid = c.request("/big.pdf")
        mine = c.sock.getsockname()[1]
        # front's end of the connection leaves ESTABLISHED once front
        # gives up on it (FIN queued behind the unsent bytes, or a reset).
        assert wait_for(lambda: tcp_state(d.tls_port, mine) != "01",
                        within=SEND_TIMEOUT + 30), tcp_state(d.tls_port, mine)
        st = c.wait(sid, within=30)
        assert not (st.ended and len(st.data) == BIG), "the whole file went out"
        assert c.wait_closed()
    finally:
        c.close()
    assert front_rss(d) - before < mem_slack(d), (before, front_rss(d))
    still_serving(d)


def test_a_body_over_max_body_size_is_a_413_the_client_sees(d):
    """Answered before the body is in (a 200 MB content-length, over the
    default max-body-size): the 413 goes out, then RST_STREAM(NO_ERROR)
    tells the client to stop sending (RFC 9113 §8.1); the connection goes
    on.  (The reset once went first, and nghttp2 dropped the 413.)"""
    lines = ran_lines(d)
    c = H2(d.tls_port)
    try:
        sid = c.request("/ran.cgi?too-big", method="POST", end=False,
                        extra=[("content-length", str(200 << 20))])
        c.send_raw(DataFrame(sid, data=b"x" * 1000).serialize())
        st = c.wait(sid)
        assert st.status == 413, (vars(st), c.frames.types, c.goaway)
        assert st.reset in (None, ErrorCodes.NO_ERROR), vars(st)
        assert c.get("/index.html").status == 200
    finally:
        c.close()
    assert ran_lines(d) == lines
    still_serving(d)


def test_streams_beyond_the_limit_are_refused_the_first_answered(d):
    c = H2(d.tls_port)
    try:
        # All in the first flight, before the server's SETTINGS are even
        # read: the client cannot have known the limit yet.
        # A script that takes a second: the first streams are surely open
        # still when the last come.
        sids = [c.request("/slow.cgi", flush=False) for _ in range(MAX_STREAMS + 4)]
        c.flush()
        sts = c.wait(*sids, within=30)
        answered = [s for s in sts if s.status == 200 and bytes(s.data) == b"slow\n"]
        refused = [s for s in sts if s.reset is not None]
        assert len(answered) == MAX_STREAMS, [vars(s) for s in sts]
        assert len(refused) == 4, [vars(s) for s in sts]
        assert all(s.status == 200 for s in sts[:MAX_STREAMS])
        assert c.goaway is None
        st = c.get("/index.html")
        assert st.status == 200, vars(st)
    finally:
        c.close()
    still_serving(d)


def test_huge_headers_are_a_431_and_the_connection_goes_on(d):
    c = H2(d.tls_port)
    try:
        sid = c.request("/ran.cgi?huge", extra=[("x-huge", "h" * (2 * MAX_HEADER))])
        st = c.wait(sid)
        assert st.status == 431 or st.reset is not None, vars(st)
        # Many fields, each small, over the limit together.
        sid = c.request("/ran.cgi?many", extra=[(f"x-f{i}", "v" * 100) for i in range(100)])
        st = c.wait(sid)
        assert st.status == 431 or st.reset is not None, vars(st)
        assert c.goaway is None and not c.closed
        st = c.get("/index.html")
        assert st.status == 200, vars(st)
    finally:
        c.close()
    assert not {"huge", "many"} & set(ran_lines(d))
    still_serving(d)


# --- slow clients: holding a connection or a stream open for nothing ---

SLOW = 2    # each of their timeouts, in seconds


@pytest.fixture(scope="module")
def slow(build_dir):
    """A lockerd of its own whose clocks are short (the attacks' lockerd
    keeps honest connections idle while it is attacked)."""
    ld = h2_lockerd(build_dir, (
        f"keepalive-timeout {SLOW}s\nheader-timeout {SLOW}s\nbody-timeout {SLOW}s\n"
        f"body-total-timeout {2 * SLOW}s\nsend-timeout {SLOW}s\n"))
    yield ld
    ld.cleanup()


def test_an_idle_connection_is_closed_whatever_its_pings(slow):
    """No stream, only PINGs, each answered: they keep nothing open."""
    c = H2(slow.tls_port)
    try:
        assert c.get("/index.html").status == 200
        acks = 0
        deadline = time.monotonic() + SLOW + 30
        while c.goaway is None and not c.closed and time.monotonic() < deadline:
            c.conn.ping(struct.pack(">Q", acks))
            c.flush()
            c.pump(lambda: c.goaway is not None, within=0.25)
            acks = c.frames.types.count(6)
        assert c.goaway == ErrorCodes.NO_ERROR, (c.goaway, c.closed, acks)
        assert acks > 0
        assert c.wait_closed(), "the socket stayed open after the GOAWAY"
    finally:
        c.close()
    still_serving(slow)


@pytest.mark.parametrize("how", ["never", "dripping"])
def test_a_body_that_never_ends_is_cut_and_the_script_never_runs(slow, how):
    """A request's body promised and never sent (body-timeout), or sent a
    byte at a time, never ending (body-total-timeout): its stream is
    answered 408 or reset, and the script behind it never runs."""
    lines = ran_lines(slow)
    c = H2(slow.tls_port)
    try:
        extra = [("content-length", "100")] if how == "never" else []
        sid = c.request(f"/ran.cgi?{how}", method="POST", end=False, extra=extra)
        deadline = time.monotonic() + 2 * SLOW + 30
        while not c.streams[sid].done and not c.closed and time.monotonic() < deadline:
            if how == "dripping" and not c.unsent:
                c.conn.send_data(sid, b"x", end_stream=False)
                c.flush()
            c.pump(lambda: c.streams[sid].done, within=0.5)
        st = c.streams[sid]
        assert st.status == 408 or st.reset is not None, (vars(st), c.goaway, c.closed)
        assert c.goaway is None, (vars(st), c.goaway, c.frames.types, c.frames.resets)
        assert c.get("/index.html").status == 200      # the connection goes on
    finally:
        c.close()
    assert ran_lines(slow) == lines
    still_serving(slow)


def test_a_header_block_never_finished_is_closed(slow):
    """HEADERS without END_HEADERS, then nothing: no stream ever starts,
    and the connection does not stay open for it."""
    s = raw_h2(slow.tls_port)
    frames = Frames()
    try:
        block = hpack.Encoder().encode([(":method", "GET"), (":scheme", "https"),
                                        (":authority", HOST), (":path", "/index.html")])
        s.sendall(HeadersFrame(1, data=block).serialize())     # no END_HEADERS
        closed = read_frames(s, frames, lambda: False, within=2 * SLOW + 30)
    finally:
        s.close()
    assert closed, frames.types
    still_serving(slow)


# --- smuggling through the downgrade to HTTP/1.1 (RFC 9113 §8.2) ---

def _req(path, method="GET"):
    return [(":method", method), (":scheme", "https"), (":authority", HOST), (":path", path)]


SMUGGLE = {
    # name: (header list for /ran.cgi?NAME, body or None)
    "cr-in-value": (lambda p: _req(p) + [("x-a", "a\rb")], None),
    "lf-in-value": (lambda p: _req(p) + [("x-a", "a\nTransfer-Encoding: chunked")], None),
    "nul-in-value": (lambda p: _req(p) + [("x-a", "a\0b")], None),
    "transfer-encoding": (lambda p: _req(p, "POST") + [("transfer-encoding", "chunked")],
                          b"0\r\n\r\nGET /ran.cgi?smuggled HTTP/1.1\r\nHost: " +
                          HOST.encode() + b"\r\n\r\n"),
    "content-length-under-data": (lambda p: _req(p, "POST") + [("content-length", "5")],
                                  b"hello" + b"GET /ran.cgi?smuggled HTTP/1.1\r\n\r\n"),
    "content-length-over-data": (lambda p: _req(p, "POST") + [("content-length", "100")],
                                 b"hello"),
    "authority-host-disagree": (lambda p: _req(p) + [("host", f"other.{DOMAIN}")], None),
    "connection": (lambda p: _req(p) + [("connection", "keep-alive")], None),
    "keep-alive": (lambda p: _req(p) + [("keep-alive", "timeout=5")], None),
    "proxy-connection": (lambda p: _req(p) + [("proxy-connection", "keep-alive")], None),
    "upgrade": (lambda p: _req(p) + [("upgrade", "websocket")], None),
    "te-gzip": (lambda p: _req(p) + [("te", "gzip")], None),
    "uppercase-name": (lambda p: _req(p) + [("X-Upper", "1")], None),
    "pseudo-after-regular": (lambda p: _req(p)[:3] + [("x-a", "1"), (":path", p)], None),
    "missing-path": (lambda p: _req(p)[:3], None),
    "space-in-path": (lambda p: _req(p + " x"), None),
}


@pytest.mark.parametrize("case", sorted(SMUGGLE))
def test_smuggling_case_is_refused_and_the_script_never_runs(d, case):
    headers, body = SMUGGLE[case]
    before = ran_lines(d)
    c = H2(d.tls_port)
    try:
        # HEADERS and DATA in one write: the server sees them together.
        bad = c.request(None, headers=headers(f"/ran.cgi?{case}"), body=body)
        st = c.wait(bad)
        assert st.reset == ErrorCodes.PROTOCOL_ERROR or st.status == 400, \
            (case, vars(st), c.goaway)
        # The connection's next stream is served, and runs the script once.
        ok = c.wait(c.request(f"/ran.cgi?after-{case}"))
        assert (ok.status, bytes(ok.data)) == (200, b"ran\n"), (case, vars(ok), c.goaway)
    finally:
        c.close()
    assert ran_lines(d)[len(before):] == [f"after-{case}"], ran_lines(d)[len(before):]
    if st.status == 400:
        # The refusal is logged with the request line it had, as Apache would.
        line = f'"GET /ran.cgi?{case} HTTP/2.0" 400 '
        assert wait_for(lambda: line in access_log(d)), access_log(d)[-600:]
    still_serving(d)


# --- the same CGI environment as over HTTP/1.1 ---

FIELDS = [("user-agent", "h2a-test/1"), ("accept", "text/plain"), ("x-h2a", "same")]


def access_log(d):
    with open(os.path.join(d.logs, "access.log")) as f:
        return f.read()


def env_of(body):
    return dict(line.split("=", 1) for line in body.decode().splitlines() if "=" in line)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cgi_environment_is_that_of_http11_but_the_protocol(d, method):
    body = b"a=1&b=2" if method == "POST" else None
    fields = FIELDS + ([("content-type", "application/x-www-form-urlencoded"),
                        ("content-length", str(len(body)))] if body else [])
    s = tls_socket(d.tls_port, alpn="http/1.1")
    hc = http.client.HTTPConnection(HOST)
    hc.sock = s
    hc.putrequest(method, "/env.cgi?q=1", skip_host=True, skip_accept_encoding=True)
    hc.putheader("Host", HOST)
    for k, v in fields:
        hc.putheader(k, v)
    hc.putheader("Cookie", "a=1; b=2")
    hc.endheaders(body)
    r = hc.getresponse()
    assert r.status == 200
    one = env_of(r.read())
    hc.close()

    c = H2(d.tls_port)
    try:
        # Two cookie fields, joined with "; " as RFC 9113 §8.2.3 says.
        st = c.get("/env.cgi?q=1", method=method, body=body,
                   extra=fields + [("cookie", "a=1"), ("cookie", "b=2")])
    finally:
        c.close()
    assert st.status == 200, vars(st)
    two = env_of(bytes(st.data))

    assert one["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert two["SERVER_PROTOCOL"] == "HTTP/2.0"
    assert two["HTTP_COOKIE"] == "a=1; b=2"
    assert two["REQUEST_METHOD"] == method
    assert two.get("CONTENT_LENGTH") == (str(len(body)) if body else None), two
    per_request = {"SERVER_PROTOCOL", "REMOTE_PORT", "SSL_SESSION_ID", "UNIQUE_ID"}
    assert {k: v for k, v in one.items() if k not in per_request} == \
        {k: v for k, v in two.items() if k not in per_request}
