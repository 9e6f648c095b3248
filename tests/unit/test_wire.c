/* test_wire.c: both ends of each message of wire.c; what each decoder refuses. */
#include <limits.h>
#include <string.h>

#include "unit.h"
#include "wire.h"

static void
test_request(void)
{
	static const char *strs[WS_HEADERS] = { "a/index.html", "/a/index.html",
	    "/a/index.html?x=1", "x=1", "example.org", "/~alice", "GET", "192.0.2.1",
	    "192.0.2.2" };
	struct http_header	 h[2] = {
		{ { "Host", 4 }, { "example.org", 11 } },
		{ { "Accept", 6 }, { "*/*", 3 } },
	};
	struct wire_request	 head, q;
	struct wire_view	 v, back;
	char			 buf[512];
	size_t			 n, i;

	memset(&head, 0, sizeof(head));
	head.id = 42;
	head.flags = WREQ_BODY;
	head.content_length = 5;
	memset(&v, 0, sizeof(v));
	for (i = 0; i < WS_HEADERS; i++) {
		v.s[i] = strs[i];
		v.l[i] = strlen(strs[i]);
	}
	v.s[WS_QUERY] = NULL;		/* an absent string packs as empty */
	v.l[WS_QUERY] = 0;
	v.s[WS_TLS] = "SSL_PROTOCOL=TLSv1.3\n";	/* after the header fields */
	v.l[WS_TLS] = 21;
	n = wire_request_pack(buf, sizeof(buf), &head, &v, h, 2);
	CHECK(n > sizeof(q));
	memcpy(&q, buf, sizeof(q));
	CHECK_INT(q.id, 42);
	CHECK_INT(q.flags, WREQ_BODY);
	CHECK_INT(q.len[WS_QUERY], 0);
	CHECK_INT(wire_view_of(&q, buf + sizeof(q), n - sizeof(q), &back), 0);
	CHECK(back.l[WS_URL] == strlen(strs[WS_URL]) &&
	    memcmp(back.s[WS_URL], strs[WS_URL], back.l[WS_URL]) == 0);
	CHECK(back.l[WS_HEADERS] == 30 &&
	    memcmp(back.s[WS_HEADERS], "Host: example.org\nAccept: */*\n", 30) == 0);
	CHECK(back.l[WS_TLS] == 21 && memcmp(back.s[WS_TLS], "SSL_PROTOCOL=TLSv1.3\n", 21) == 0);
	/* One byte short of room: nothing. */
	CHECK_INT(wire_request_pack(buf, n - 1, &head, &v, h, 2), 0);
	CHECK_INT(wire_request_pack(buf, sizeof(q) - 1, &head, &v, h, 0), 0);
	/* The worker's side: lengths must add up to the message exactly. */
	CHECK_INT(wire_view_of(&q, buf + sizeof(q), n - sizeof(q) - 1, &back), -1);
	CHECK_INT(wire_view_of(&q, buf + sizeof(q), n - sizeof(q) + 1, &back), -1);
	q.len[WS_PATH] = UINT32_MAX;
	CHECK_INT(wire_view_of(&q, buf + sizeof(q), n - sizeof(q), &back), -1);
}

static void
test_script(void)
{
	static char	 buf[sizeof(struct wire_script) + WSC_MAX * PATH_MAX];
	static char	 lng[PATH_MAX + 10];
	const char	*in[WSC_MAX] = { "/home/alice/web_scripts", "blog/index.php", "/x",
			    "index.php", "", "", "", "", "" };
	const char	*s[WSC_MAX];
	size_t		 l[WSC_MAX], n;
	int		 has_index = -1;

	n = wire_script_pack(buf, sizeof(buf), in, 1);
	CHECK_INT(n, sizeof(struct wire_script) + 23 + 14 + 2 + 9);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), 0);
	CHECK_INT(has_index, 1);
	CHECK(l[WSC_REL] == 14 && memcmp(s[WSC_REL], "blog/index.php", 14) == 0);
	CHECK_INT(wire_script_parse(buf, n - 1, s, l, &has_index), -1);
	CHECK_INT(wire_script_pack(buf, n - 1, in, 1), 0);
	/* A hostile worker: a script above the web root, a relative root, a NUL. */
	in[WSC_REL] = "../../etc/passwd";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	in[WSC_REL] = "index.php";
	in[WSC_DOCROOT] = "home/alice";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	in[WSC_DOCROOT] = "/home/alice";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), 0);
	buf[sizeof(struct wire_script) + 3] = '\0';
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	/* A string longer than a path is cut, as the worker always did. */
	memset(lng, 'a', sizeof(lng) - 1);
	in[WSC_PATH_INFO] = "";
	in[WSC_INDEX] = lng;
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), 0);
	CHECK_INT(l[WSC_INDEX], PATH_MAX - 1);
	/* A rewrite's URL and query: a path, and no control byte in either. */
	in[WSC_INDEX] = "";
	in[WSC_URL] = "/~alice/index.php";
	in[WSC_QUERY] = "title=Main_Page&x=%20";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), 0);
	CHECK(l[WSC_QUERY] == 21 && memcmp(s[WSC_QUERY], "title=Main_Page&x=%20", 21) == 0);
	in[WSC_URL] = "index.php";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	in[WSC_URL] = "/x";
	in[WSC_QUERY] = "a\nLD_PRELOAD=/tmp/x";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	/* A pool's tag: at most 16 lower-case hex digits, nothing else. */
	in[WSC_QUERY] = "";
	in[WSC_POOL] = "0123456789abcdef";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), 0);
	CHECK(l[WSC_POOL] == 16 && memcmp(s[WSC_POOL], "0123456789abcdef", 16) == 0);
	in[WSC_POOL] = "0123456789abcdef0";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	in[WSC_POOL] = "../php";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	in[WSC_POOL] = "";
	/* The headers E= took from: lower-case names, each ended by a newline. */
	in[WSC_VARY] = "authorization\nx-mode\n";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), 0);
	CHECK(l[WSC_VARY] == 21 && memcmp(s[WSC_VARY], "authorization\nx-mode\n", 21) == 0);
	in[WSC_VARY] = "authorization";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	in[WSC_VARY] = "Authorization\n";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	in[WSC_VARY] = "x\n\n";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
	in[WSC_VARY] = "x: y\n";
	n = wire_script_pack(buf, sizeof(buf), in, 0);
	CHECK_INT(wire_script_parse(buf, n, s, l, &has_index), -1);
}

/* A response with extra fields after it, as a worker sends one. */
static int
check_fields(const char *fields)
{
	static struct {
		struct wire_response	r;
		char			f[WIRE_HDR_MAX + 16];
	} m;
	size_t n = strlen(fields);

	memset(&m, 0, sizeof(m));
	m.r.kind = WIRE_STATUS;
	m.r.status = 401;
	m.r.hlen = (uint16_t)n;
	memcpy(m.f, fields, n);
	return wire_response_check(&m.r, sizeof(m.r) + n);
}

static void
test_fields(void)
{
	CHECK_INT(check_fields(""), 0);
	CHECK_INT(check_fields("WWW-Authenticate: Basic realm=\"x\"\r\n"), 0);
	CHECK_INT(check_fields("Location: /x\r\nX-A: b\tc\r\n"), 0);
	/* Splitting the head, framing it, or speaking for front: refused. */
	CHECK_INT(check_fields("X-A: b\r\nSet-Cookie: x\n"), -1);
	CHECK_INT(check_fields("X-A: b\nc\r\n"), -1);
	CHECK_INT(check_fields("X-A: b\r\n\r\nHTTP/1.1 200 OK\r\n"), -1);
	CHECK_INT(check_fields("Content-Length: 0\r\n"), -1);
	CHECK_INT(check_fields("transfer-encoding: chunked\r\n"), -1);
	CHECK_INT(check_fields("Connection: close\r\n"), -1);
	CHECK_INT(check_fields("X A: b\r\n"), -1);
	CHECK_INT(check_fields("X-A : b\r\n"), -1);
	CHECK_INT(check_fields("X-A: b"), -1);
	CHECK_INT(check_fields("X-A: \x01\r\n"), -1);
	{
		struct wire_response r;

		memset(&r, 0, sizeof(r));
		r.kind = WIRE_STATUS;
		r.hlen = 10;	/* more than there is */
		CHECK_INT(wire_response_check(&r, sizeof(r) + 5), -1);
		r.hlen = 0;
		r.flags = 0x80;	/* an unknown flag */
		CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
		r.flags = WRESP_NOCACHE;
		CHECK_INT(wire_response_check(&r, sizeof(r)), 0);
		r.flags = WRESP_WATCHED;
		CHECK_INT(wire_response_check(&r, sizeof(r)), 0);
	}
}

static void
test_response(void)
{
	struct wire_response	r;

	memset(&r, 0, sizeof(r));
	r.kind = WIRE_FILE;
	r.status = 200;
	strcpy(r.content_type, "text/html; charset=utf-8");
	CHECK_INT(wire_response_check(&r, sizeof(r)), 0);
	/* An ErrorDocument's body: an error status, and never for a cache. */
	r.status = 404;
	CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
	r.flags = WRESP_NOCACHE;
	CHECK_INT(wire_response_check(&r, sizeof(r)), 0);
	r.status = 302;
	CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
	r.status = 0;
	CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
	r.status = 200;
	r.flags = 0;
	CHECK_INT(wire_response_check(&r, sizeof(r) + 1), -1);	/* only FCGI has a tail */
	strcpy(r.content_type, "text/html\r\nSet-Cookie: x=1");
	CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
	strcpy(r.content_type, "texthtml");
	CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
	memset(r.content_type, 'a', sizeof(r.content_type));	/* no NUL */
	r.content_type[3] = '/';
	CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
	r.kind = WIRE_FCGI;
	CHECK_INT(wire_response_check(&r, sizeof(r) + 40), 0);
	r.kind = WIRE_SPOOL + 1;
	CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
	r.kind = 0;
	CHECK_INT(wire_response_check(&r, sizeof(r)), -1);
	r.kind = WIRE_STATUS;
	CHECK_INT(wire_response_check(&r, sizeof(r) - 1), -1);
}

/* A response with Header operations (ops[0..n)) after its fields. */
static int
check_ops(const char *ops, size_t n)
{
	static struct {
		struct wire_response	r;
		char			f[WIRE_OPS_MAX + 64];
	} m;

	memset(&m, 0, sizeof(m));
	m.r.kind = WIRE_STATUS;
	m.r.status = 404;
	m.r.hlen = 8;
	memcpy(m.f, "X-A: b\r\n", 8);
	m.r.olen = (uint16_t)n;
	memcpy(m.f + 8, ops, n);
	return wire_response_check(&m.r, sizeof(m.r) + 8 + n);
}

static void
test_hops(void)
{
	static char		 b[WIRE_OPS_MAX];
	struct wire_hop		 h = { WHOP_UNSET, 1, "X-Powered-By", "", "" }, back;
	size_t			 n, off = 0;
	int			 i;

	n = wire_hop_put(b, sizeof(b), 0, &h);
	CHECK_INT(n, 2 + 13 + 1 + 1);
	h.op = WHOP_EDIT;
	h.always = 0;
	h.name = "Set-Cookie";
	h.re = "^(.*)$";
	h.sub = "$1; HttpOnly";
	n = wire_hop_put(b, sizeof(b), n, &h);
	CHECK_INT(check_ops(b, n), 0);
	CHECK_INT(wire_hop_next(b, n, &off, &back), 1);
	CHECK(back.op == WHOP_UNSET && back.always && strcmp(back.name, "X-Powered-By") == 0);
	CHECK_INT(wire_hop_next(b, n, &off, &back), 1);
	CHECK(back.op == WHOP_EDIT && !back.always && strcmp(back.sub, "$1; HttpOnly") == 0);
	CHECK_INT(wire_hop_next(b, n, &off, &back), 0);
	/* Fields front keeps are left alone: nothing written. */
	h.name = "Content-Length";
	CHECK_INT(wire_hop_put(b, sizeof(b), n, &h), n);
	h.name = "date";
	CHECK_INT(wire_hop_put(b, sizeof(b), n, &h), n);
	h.name = "X-A";
	CHECK_INT(wire_hop_put(b, n + 4, n, &h), 0);	/* does not fit */
	/* Hostile lists: each refused whole. */
	CHECK_INT(check_ops("u1Content-Length\0\0\0", 19), -1);
	CHECK_INT(check_ops("u1Transfer-Encoding\0\0\0", 22), -1);
	CHECK_INT(check_ops("u1X A\0\0\0", 8), -1);
	CHECK_INT(check_ops("u1X-A\0x\0\0", 9), -1);		/* unset with a pattern */
	CHECK_INT(check_ops("e1X-A\0\0y\0", 9), -1);		/* edit without one */
	CHECK_INT(check_ops("e1X-A\0a\0b\r\nX: y\0", 15), -1);	/* a CR LF to write */
	CHECK_INT(check_ops("x1X-A\0\0\0", 8), -1);		/* no such operation */
	CHECK_INT(check_ops("u2X-A\0\0\0", 8), -1);
	CHECK_INT(check_ops("u1X-A\0\0", 7), -1);		/* cut */
	CHECK_INT(check_ops("u1X-A\0\0\0", 8), 0);
	/* More operations than a .htaccess can make. */
	for (i = 0, n = 0; i <= WHOP_MAX; i++)
		n = wire_hop_put(b, sizeof(b), n, &(struct wire_hop){ WHOP_UNSET, 0, "X", "", "" });
	CHECK_INT(check_ops(b, n), -1);
	CHECK_INT(check_ops(b, n - 6), 0);	/* 6 bytes each */
}

static void
test_log(void)
{
	char		 b[64], line[WIRE_LOG_LINE_MAX + 1];
	struct wire_log	 r;
	size_t		 n, off = 0;

	n = wire_log_put(b, sizeof(b), 0, "alice", 5, "GET / 200", 9);
	CHECK_INT(n, 1 + 5 + 2 + 9);
	n = wire_log_put(b, sizeof(b), n, "", 0, "x", 1);
	CHECK_INT(n, 17 + 1 + 0 + 2 + 1);
	CHECK_INT(wire_log_put(b, sizeof(b), n, "bob", 3, "a line too long for what is left of b "
	    "by some margin", 52), 0);
	CHECK_INT(wire_log_next(b, n, &off, &r), 1);
	CHECK(r.nlen == 5 && memcmp(r.name, "alice", 5) == 0);
	CHECK(r.llen == 9 && memcmp(r.line, "GET / 200", 9) == 0);
	CHECK_INT(wire_log_next(b, n, &off, &r), 1);
	CHECK(r.nlen == 0 && r.llen == 1 && r.line[0] == 'x');
	CHECK_INT(wire_log_next(b, n, &off, &r), 0);
	CHECK_INT(off, n);
	/* A batch cut in a record: the rest is dropped. */
	off = 0;
	CHECK_INT(wire_log_next(b, 17 + 2, &off, &r), 1);
	CHECK_INT(wire_log_next(b, 17 + 2, &off, &r), 0);
	/* Bounds: a name longer than a locker's, a line longer than a log's. */
	memset(line, 'a', sizeof(line));
	CHECK_INT(wire_log_put(line, sizeof(line), 0, line, LOCKER_NAME_MAX + 1, "", 0), 0);
	{
		static char big[WIRE_LOG_LINE_MAX + 64];

		CHECK_INT(wire_log_put(big, sizeof(big), 0, "", 0, line, WIRE_LOG_LINE_MAX + 1), 0);
		n = wire_log_put(big, sizeof(big), 0, "", 0, line, WIRE_LOG_LINE_MAX);
		CHECK_INT(n, 3 + WIRE_LOG_LINE_MAX);
		big[1] = (char)0xff;	/* the length now says 4096 + 255 */
		big[2] = 0x10;
		off = 0;
		CHECK_INT(wire_log_next(big, n, &off, &r), 0);
	}
}

static void
test_locker(void)
{
	char		 b[64];
	const char	*nm, *data;
	size_t		 nl, dl, n;

	n = wire_locker_pack(b, sizeof(b), "alice", "oops\n", 5);
	CHECK_INT(n, 1 + 5 + 5);
	CHECK_INT(wire_locker_parse(b, n, &nm, &nl, &data, &dl), 0);
	CHECK(nl == 5 && memcmp(nm, "alice", 5) == 0 && dl == 5 && memcmp(data, "oops\n", 5) == 0);
	CHECK_INT(wire_locker_pack(b, sizeof(b), "", "x", 1), 0);
	CHECK_INT(wire_locker_pack(b, 8, "alice", "oops\n", 5), 0);
	CHECK_INT(wire_locker_parse(b, 3, &nm, &nl, &data, &dl), -1);	/* name cut */
	b[0] = 0;
	CHECK_INT(wire_locker_parse(b, n, &nm, &nl, &data, &dl), -1);
	CHECK_INT(wire_locker_parse(b, 0, &nm, &nl, &data, &dl), -1);
}

int
main(void)
{
	test_request();
	test_script();
	test_fields();
	test_hops();
	test_response();
	test_log();
	test_locker();
	UNIT_DONE();
}
