"""A small HTTP/2 client for the tests: Debian's python3-h2 over Python's
ssl with ALPN h2, several streams at once on one connection, request
bodies sent as the peer's flow-control windows allow, and answers kept
per stream with the time each ended.

h2_get() answers as conftest.get() does, (status, headers, body), so that
a test written for HTTP/1.1 runs unchanged over HTTP/2.
"""
import re
import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

# What HTTP/1.1's parser reads as the end of a field name: a test's
# "extra" head lines are split into (name, value) at the first colon.
_FIELD = re.compile(rb"^([^:\s]+)[ \t]*:[ \t]*(.*?)[ \t]*$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*"
                       r"[A-Za-z0-9])?)*$")


class NotH2(Exception):
    """The server chose another protocol than h2 by ALPN."""


class StreamReset(Exception):
    """The server reset the stream (RST_STREAM) or the connection (GOAWAY)
    before its answer ended."""

    def __init__(self, sid, code):
        super().__init__(f"stream {sid} reset by the server: {code!r}")
        self.code = code


class Stream:
    def __init__(self, sid):
        self.sid = sid
        self.status = None
        self.headers = []       # [(name, value)] as str, names lowercase
        self.interim = []       # 1xx statuses
        self.body = bytearray()
        self.trailers = []
        self.ended = False
        self.reset = None       # the error code of a RST_STREAM or GOAWAY
        self.t_end = None       # time.monotonic() when it ended or was reset
        self.t_first = None     # ... when its first DATA arrived

    @property
    def done(self):
        return self.ended or self.reset is not None

    def head(self):
        """The headers as conftest.get() gives them: a dict, lowercase
        names, the last of repeated fields."""
        return {k: v for k, v in self.headers}


def sni_for(host):
    """The SNI name a browser would send for a Host/:authority: the name
    without its port; none for an address or what is no host name."""
    if host is None:
        return None
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not _HOSTNAME.match(name) or re.match(r"^[0-9.]+$", name):
        return None
    return name


def client_context(alpn=("h2",), cafile=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(list(alpn))
    return ctx


class H2Conn:
    """One HTTP/2 connection over TLS to 127.0.0.1:port."""

    def __init__(self, port, host=None, timeout=30.0, window=None, cafile=None,
                 addr="127.0.0.1", sni=True, source=None):
        self.source = source    # the client's address (127.0.0.2, ...)
        self.timeout = timeout
        ctx = client_context(cafile=cafile)
        name = sni_for(host) if sni else None
        try:
            self.sock = self._connect(ctx, addr, port, name)
        except ssl.SSLError as e:
            # A name that is not the server's is refused at the handshake
            # (unrecognized_name), as a browser would see it; the tests ask
            # what the server answers such a Host, so ask without SNI.
            if name is None or "UNRECOGNIZED_NAME" not in str(e).upper():
                raise
            self.sock = self._connect(ctx, addr, port, None)
        proto = self.sock.selected_alpn_protocol()
        if proto != "h2":
            self.sock.close()
            raise NotH2(f"ALPN chose {proto!r}, not h2")
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding=None, validate_outbound_headers=False,
            normalize_outbound_headers=False, validate_inbound_headers=False))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.streams = {}
        self.sending = {}       # sid -> [memoryview left, end_stream when sent]
        self.goaway = None
        self.closed = False
        self.flush()

    def _connect(self, ctx, addr, port, name):
        raw = socket.create_connection((addr, port), timeout=10,
                                       source_address=(self.source, 0) if self.source else None)
        # As curl and browsers: a frame's tail is not held back by Nagle
        # until the server's (delayed) ACK, 40 ms per window of a body.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            return ctx.wrap_socket(raw, server_hostname=name)
        except BaseException:
            raw.close()
            raise

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method, path, authority, headers=(), body=None, content_length=True,
                scheme="https", priority=None):
        """Opens a stream: its id.  body (bytes) is sent as DATA as windows
        allow, with a content-length field unless content_length is False;
        priority: (weight, depends_on, exclusive)."""
        sid = self.conn.get_next_available_stream_id()
        fields = [(b":method", _b(method)), (b":scheme", _b(scheme)),
                  (b":authority", _b(authority)), (b":path", _b(path))]
        fields += [(_b(k).lower(), _b(v)) for k, v in headers]
        if body is not None and content_length:
            fields.append((b"content-length", b"%d" % len(body)))
        kw = {}
        if priority is not None:
            kw = {"priority_weight": priority[0], "priority_depends_on": priority[1],
                  "priority_exclusive": priority[2]}
        self.streams[sid] = Stream(sid)
        self.conn.send_headers(sid, fields, end_stream=not body, **kw)
        if body:
            self.sending[sid] = memoryview(body)
        self._send_bodies()
        self.flush()
        return sid

    def _send_bodies(self):
        for sid, left in list(self.sending.items()):
            st = self.streams[sid]
            if st.done:     # answered and closed, or reset: nothing more to send
                del self.sending[sid]
                continue
            while len(left):
                n = min(self.conn.local_flow_control_window(sid),
                        self.conn.max_outbound_frame_size, len(left))
                if n <= 0:
                    break
                self.conn.send_data(sid, left[:n].tobytes())
                left = left[n:]
            if len(left):
                self.sending[sid] = left
            else:
                del self.sending[sid]
                self.conn.end_stream(sid)

    def pump(self, until, timeout=None):
        """Reads and answers frames until until() is true; raises
        TimeoutError after timeout (the connection's) seconds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not until():
            if self.closed:
                raise ConnectionError("the server closed the connection")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ssl.SSLError, OSError):
                data = b""
            if not data:
                self._closed()
                continue
            self._events(self.conn.receive_data(data))
            self._send_bodies()
            self.flush()

    def _closed(self):
        self.closed = True
        now = time.monotonic()
        for st in self.streams.values():
            if not st.done:
                st.reset, st.t_end = "connection closed", now

    def _events(self, events):
        now = time.monotonic()
        for ev in events:
            st = self.streams.get(getattr(ev, "stream_id", None))
            if isinstance(ev, h2.events.ResponseReceived):
                st.headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                              for k, v in ev.headers if not k.startswith(b":")]
                st.status = int(dict(ev.headers)[b":status"])
            elif isinstance(ev, h2.events.InformationalResponseReceived):
                st.interim.append(int(dict(ev.headers)[b":status"]))
            elif isinstance(ev, h2.events.DataReceived):
                if st.t_first is None:
                    st.t_first = now
                st.body += ev.data
                # Read as it comes: the window given back at once.
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.TrailersReceived):
                st.trailers = ev.headers
            elif isinstance(ev, h2.events.StreamEnded):
                st.ended, st.t_end = True, now
            elif isinstance(ev, h2.events.StreamReset):
                if st is not None and not st.done:
                    st.reset, st.t_end = ev.error_code, now
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = ev
                for sid, s in self.streams.items():
                    if not s.done and sid > (ev.last_stream_id or 0):
                        s.reset, s.t_end = ev.error_code, now

    def wait(self, sids=None, timeout=None):
        """Every stream of sids (all) ended or reset: their Streams."""
        sids = list(self.streams) if sids is None else list(sids)
        self.pump(lambda: all(self.streams[s].done for s in sids), timeout)
        return [self.streams[s] for s in sids]

    def get(self, method, path, authority, headers=(), body=None, content_length=True,
            timeout=None):
        """One request to its end: its Stream (reset: StreamReset)."""
        sid = self.request(method, path, authority, headers, body, content_length)
        st = self.wait([sid], timeout)[0]
        if st.reset is not None:
            raise StreamReset(sid, st.reset)
        return st

    def close(self):
        try:
            if not self.closed:
                self.conn.close_connection()
                self.flush()
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def _b(s):
    return s if isinstance(s, bytes) else str(s).encode("latin-1")


def head_fields(extra):
    """An HTTP/1.1 test's extra head lines as HTTP/2 fields."""
    out = []
    for line in extra.split(b"\r\n"):
        if not line:
            continue
        m = _FIELD.match(line)
        if not m:
            raise ValueError(f"not a header line: {line!r}")
        out.append((m.group(1).lower(), m.group(2)))
    return out


def h2_get(port, path, host, extra=b"", method=b"GET", body=None, content_length=True,
           timeout=30.0):
    """conftest.get() over HTTP/2: one connection, one stream."""
    with H2Conn(port, host, timeout=timeout) as c:
        st = c.get(method, path, host, head_fields(extra), body, content_length)
        return st.status, st.head(), bytes(st.body)
