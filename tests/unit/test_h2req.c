/*
 * test_h2req.c: HTTP/2 request fields → one HTTP/1.1 head (h2req.c), and
 * what http.c makes of the head: a rule of RFC 9113 8.2/8.3 per test.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "h2req.h"
#include "http.h"
#include "unit.h"

#define LIMIT	16384

static struct http_request	req;
static const struct http_limits	limits = { 8192, LIMIT, 100 };

static int
field_n(struct h2req *r, const char *n, const char *v, size_t vlen)
{
	return h2req_field(r, (const uint8_t *)n, strlen(n), (const uint8_t *)v, vlen);
}

static int
field(struct h2req *r, const char *n, const char *v)
{
	return field_n(r, n, v, strlen(v));
}

/* The usual pseudo-headers of a GET for path. */
static void
start(struct h2req *r, const char *method, const char *path)
{
	h2req_init(r, LIMIT);
	CHECK_INT(field(r, ":method", method), 0);
	CHECK_INT(field(r, ":scheme", "https"), 0);
	CHECK_INT(field(r, ":authority", "alice.example.test"), 0);
	CHECK_INT(field(r, ":path", path), 0);
}

/* r's head through http.c: its length, or http.c's -status. */
static int
parse(const struct h2req *r)
{
	CHECK(r->head != NULL);
	if (r->head == NULL)
		return -1;
	CHECK(memchr(r->head, '\0', r->len) == NULL);
	return http_parse_head(r->head, r->len, &limits, &req);
}

/* One field alone after the usual pseudo-headers: what h2req_field says. */
static int
one_field(const char *n, const char *v, size_t vlen)
{
	struct h2req	r;
	int		rc;

	start(&r, "GET", "/");
	rc = field_n(&r, n, v, vlen);
	h2req_free(&r);
	return rc;
}

static void
test_round_trip(void)
{
	struct h2req	r;

	start(&r, "GET", "/a/b.php?x=1&y=%20");
	CHECK_INT(field(&r, "user-agent", "curl/8.5 (x)"), 0);
	CHECK_INT(field(&r, "accept", "*/*"), 0);
	CHECK_INT(field(&r, "cookie", "a=1"), 0);
	CHECK_INT(field(&r, "x-empty", ""), 0);
	CHECK_INT(field(&r, "cookie", "b=2"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 0);
	CHECK_INT(r.chunked, 0);
	CHECK_INT(r.content_length, -1);
	CHECK_STR(r.head, "GET /a/b.php?x=1&y=%20 HTTP/1.1\r\nHost: alice.example.test\r\n"
	    "user-agent: curl/8.5 (x)\r\naccept: */*\r\nx-empty: \r\nCookie: a=1; b=2\r\n\r\n");
	CHECK_INT(parse(&r), (int)r.len);
	CHECK(http_str_eq(req.method_str, "GET"));
	CHECK_INT(req.method, HTTP_M_GET);
	CHECK(req.target.len == 18 && memcmp(req.target.p, "/a/b.php?x=1&y=%20", 18) == 0);
	CHECK(http_str_eq(req.host, "alice.example.test"));
	CHECK(http_header_get(&req, "cookie") != NULL &&
	    http_str_eq(http_header_get(&req, "cookie")->value, "a=1; b=2"));
	CHECK(http_header_get(&req, "connection") == NULL);
	CHECK(http_str_eq(req.user_agent, "curl/8.5 (x)"));
	CHECK_INT(req.content_length, -1);
	CHECK_INT(req.chunked, 0);
	h2req_free(&r);
	CHECK(r.head == NULL);
}

static void
test_post_lengths(void)
{
	struct h2req	r;

	/* A length: one Content-Length line, whatever the repeats. */
	start(&r, "POST", "/form");
	CHECK_INT(field(&r, "content-length", "11"), 0);
	CHECK_INT(field(&r, "content-length", "11"), 0);
	CHECK_INT(h2req_finish(&r, 0), 0);
	CHECK_INT(r.content_length, 11);
	CHECK_INT(r.chunked, 0);
	CHECK(strstr(r.head, "Content-Length: 11\r\n") != NULL);
	CHECK(strstr(r.head, "content-length") == NULL);
	CHECK_INT(parse(&r), (int)r.len);
	CHECK_INT(req.content_length, 11);
	h2req_free(&r);

	/* No length and DATA to come: chunks. */
	start(&r, "POST", "/form");
	CHECK_INT(h2req_finish(&r, 0), 0);
	CHECK_INT(r.chunked, 1);
	CHECK(strstr(r.head, "Transfer-Encoding: chunked\r\n") != NULL);
	CHECK_INT(parse(&r), (int)r.len);
	CHECK_INT(req.chunked, 1);
	CHECK_INT(req.content_length, -1);
	h2req_free(&r);

	/* END_STREAM on the HEADERS: no body, no framing line. */
	start(&r, "POST", "/form");
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.chunked, 0);
	CHECK(strstr(r.head, "Transfer-Encoding") == NULL);
	CHECK(strstr(r.head, "Content-Length") == NULL);
	h2req_free(&r);
	start(&r, "POST", "/form");
	CHECK_INT(field(&r, "content-length", "0"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK(strstr(r.head, "Content-Length: 0\r\n") != NULL);
	h2req_free(&r);

	/* A body announced on a stream that has ended: malformed. */
	start(&r, "POST", "/form");
	CHECK_INT(field(&r, "content-length", "5"), 0);
	CHECK_INT(h2req_finish(&r, 1), -1);
	h2req_free(&r);
}

static void
test_content_length_junk(void)
{
	static const char *const bad[] = {
		"", "abc", "5, 5", "5,5", "+5", "-1", "0x10", "1 ", "99999999999999999999",
		"9223372036854775808", "1e3", "5;",
	};
	struct h2req	r;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (one_field("content-length", bad[i], strlen(bad[i])) != -1) {
			fprintf(stderr, "content-length \"%s\" taken\n", bad[i]);
			CHECK(0);
		}
	CHECK_INT(one_field("content-length", "9223372036854775807", 19), 0);
	CHECK_INT(one_field("content-length", "007", 3), 0);
	/* Repeats that disagree. */
	start(&r, "POST", "/");
	CHECK_INT(field(&r, "content-length", "5"), 0);
	CHECK_INT(field(&r, "content-length", "6"), -1);
	h2req_free(&r);
}

static void
test_pseudo_rules(void)
{
	struct h2req	r;

	/* Each required one missing. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(h2req_finish(&r, 1), -1);
	h2req_free(&r);
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(h2req_finish(&r, 1), -1);
	h2req_free(&r);
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), 0);
	CHECK_INT(h2req_finish(&r, 1), -1);
	h2req_free(&r);

	/* Each one twice. */
	CHECK_INT(one_field(":method", "GET", 3), -1);
	CHECK_INT(one_field(":path", "/", 1), -1);
	CHECK_INT(one_field(":scheme", "https", 5), -1);
	CHECK_INT(one_field(":authority", "alice.example.test", 18), -1);

	/* Unknown ones, a response's, extended CONNECT's. */
	CHECK_INT(one_field(":foo", "x", 1), -1);
	CHECK_INT(one_field(":status", "200", 3), -1);
	CHECK_INT(one_field(":protocol", "websocket", 9), -1);
	CHECK_INT(one_field(":", "x", 1), -1);
	CHECK_INT(one_field(":Method", "GET", 3), -1);

	/* After a regular field. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(field(&r, "host", "a.test"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), -1);
	h2req_free(&r);
}

static void
test_method_path_scheme(void)
{
	struct h2req	r;

	/* :method a token; :path what keeps the request line one line. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GE T"), -1);
	CHECK_INT(field(&r, ":method", "GET\x01"), -1);
	CHECK_INT(field(&r, ":method", "G(T"), -1);
	CHECK_INT(field(&r, ":method", ""), -1);
	CHECK_INT(field(&r, ":path", "/a b"), -1);
	CHECK_INT(field(&r, ":path", "/a\tb"), -1);
	CHECK_INT(field(&r, ":path", "/a\x01"), -1);
	CHECK_INT(field(&r, ":path", "/a\x7f"), -1);
	CHECK_INT(field(&r, ":path", "a/b"), -1);
	CHECK_INT(field(&r, ":path", "http://other.test/"), -1);
	CHECK_INT(field(&r, ":path", ""), -1);
	CHECK_INT(field(&r, ":scheme", "ht tp"), -1);
	CHECK_INT(field(&r, ":scheme", "1http"), -1);
	CHECK_INT(r.seen, 0);
	h2req_free(&r);

	/* A method we do not know is still a request: http.c says 501. */
	start(&r, "BREW", "/pot");
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(parse(&r), (int)r.len);
	CHECK_INT(req.method, HTTP_M_UNKNOWN);
	h2req_free(&r);

	/* A raw UTF-8 byte keeps the line's framing: http.c refuses it, 400. */
	start(&r, "GET", "/caf\xc3\xa9");
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(parse(&r), -400);
	h2req_free(&r);

	/* "*" with OPTIONS only. */
	start(&r, "OPTIONS", "*");
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(parse(&r), (int)r.len);
	CHECK(http_str_eq(req.path, "*"));
	h2req_free(&r);
	start(&r, "GET", "*");
	CHECK_INT(h2req_finish(&r, 1), -1);
	h2req_free(&r);

	/* A scheme not ours: well-formed, answered 400. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "ftp"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 400);
	CHECK(r.head == NULL);
	h2req_free(&r);
	/* http is fine (a client may say it over TLS; the route decides). */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "http"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 0);
	h2req_free(&r);
}

static void
test_connect(void)
{
	struct h2req	r;

	/* A well-formed CONNECT: 405, as over HTTP/1.1, and no head. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "CONNECT"), 0);
	CHECK_INT(field(&r, ":authority", "other.test:443"), 0);
	CHECK_INT(h2req_finish(&r, 0), 0);
	CHECK_INT(r.status, 405);
	CHECK(r.head == NULL);
	CHECK_INT(r.chunked, 0);
	h2req_free(&r);
	/* With a :path or :scheme, or without :authority: malformed (8.5). */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "CONNECT"), 0);
	CHECK_INT(field(&r, ":authority", "other.test:443"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(h2req_finish(&r, 0), -1);
	h2req_free(&r);
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "CONNECT"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", "other.test:443"), 0);
	CHECK_INT(h2req_finish(&r, 0), -1);
	h2req_free(&r);
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "CONNECT"), 0);
	CHECK_INT(h2req_finish(&r, 0), -1);
	h2req_free(&r);
}

static void
test_names(void)
{
	CHECK_INT(one_field("X-Foo", "1", 1), -1);
	CHECK_INT(one_field("x foo", "1", 1), -1);
	CHECK_INT(one_field("x:foo", "1", 1), -1);
	CHECK_INT(one_field("x\r\nfoo", "1", 1), -1);
	CHECK_INT(one_field("x(foo)", "1", 1), -1);
	{
		struct h2req	r;

		start(&r, "GET", "/");
		CHECK_INT(h2req_field(&r, (const uint8_t *)"", 0, (const uint8_t *)"1", 1), -1);
		CHECK_INT(h2req_field(&r, (const uint8_t *)"x\0y", 3, (const uint8_t *)"1", 1), -1);
		CHECK_INT(h2req_field(&r, (const uint8_t *)"x\x80", 2, (const uint8_t *)"1", 1), -1);
		/* As given: lower case, which HTTP/1.1 reads as the same name. */
		CHECK_INT(field(&r, "x-custom-name_1!", "v"), 0);
		CHECK_INT(h2req_finish(&r, 1), 0);
		CHECK(strstr(r.head, "\r\nx-custom-name_1!: v\r\n") != NULL);
		CHECK_INT(parse(&r), (int)r.len);
		h2req_free(&r);
	}
}

static void
test_values(void)
{
	struct h2req	r;

	CHECK_INT(one_field("x-a", "a\0b", 3), -1);
	CHECK_INT(one_field("x-a", "a\rb", 3), -1);
	CHECK_INT(one_field("x-a", "a\nb", 3), -1);
	CHECK_INT(one_field("x-a", "a\r\nx-b: 1", 10), -1);
	CHECK_INT(one_field("x-a", " a", 2), -1);
	CHECK_INT(one_field("x-a", "a ", 2), -1);
	CHECK_INT(one_field("x-a", "\ta", 2), -1);
	CHECK_INT(one_field("x-a", "a\t", 2), -1);
	CHECK_INT(one_field("x-a", " ", 1), -1);
	CHECK_INT(one_field(":authority", "a.test\r\nX: 1", 12), -1);
	CHECK_INT(one_field(":path", "/\r\nX: 1", 7), -1);
	/* Far into a long value too (eight bytes at a time there). */
	CHECK_INT(one_field("x-a", "0123456789abcdefghij\nklmnopqrstuvwxyz", 37), -1);
	CHECK_INT(one_field("x-a", "0123456789abcdefghijklmnopqrstuvwxy\rz", 37), -1);
	CHECK_INT(one_field("x-a", "0123456789abcdefghijklmnopqrstuvwx\0yz", 37), -1);
	CHECK_INT(one_field("x-a", "0123456789abcdefghijklmnopqrstuvwxyz\n", 37), -1);
	CHECK_INT(one_field("x-a", "0123456789abcdefghijklmnopqrstuv\x0e\x7f\xff\x80", 36), 0);
	CHECK_INT(one_field("x-a", "a b\tc", 5), 0);
	/* obs-text is a value's, as in HTTP/1.1. */
	CHECK_INT(one_field("x-a", "caf\xc3\xa9", 5), 0);

	/* Another control byte keeps the framing; http.c refuses it, 400. */
	start(&r, "GET", "/");
	CHECK_INT(field(&r, "x-a", "a\x01"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(parse(&r), -400);
	h2req_free(&r);
}

static void
test_connection_fields(void)
{
	static const char *const names[] = {
		"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
	};
	struct h2req	r;
	size_t		i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (one_field(names[i], "chunked", 7) != -1) {
			fprintf(stderr, "%s taken\n", names[i]);
			CHECK(0);
		}
	CHECK_INT(one_field("transfer-encoding", "identity", 8), -1);
	CHECK_INT(one_field("connection", "close", 5), -1);
	CHECK_INT(one_field("te", "gzip", 4), -1);
	CHECK_INT(one_field("te", "trailers, gzip", 14), -1);
	CHECK_INT(one_field("te", "", 0), -1);
	/* te: trailers is allowed, and is not written (hop-by-hop in 1.1). */
	start(&r, "GET", "/");
	CHECK_INT(field(&r, "te", "trailers"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK(strstr(r.head, "te:") == NULL && strstr(r.head, "TE:") == NULL);
	CHECK(strstr(r.head, "onnection") == NULL);
	h2req_free(&r);
}

static void
test_host(void)
{
	struct h2req	r;

	/* :authority and host that agree (case aside): one Host. */
	start(&r, "GET", "/");
	CHECK_INT(field(&r, "host", "Alice.Example.TEST"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 0);
	CHECK(strstr(r.head, "Host: alice.example.test\r\n") != NULL);
	CHECK(strcasestr(strstr(r.head, "Host:") + 1, "host:") == NULL);
	CHECK_INT(parse(&r), (int)r.len);
	CHECK(http_str_eq(req.host, "alice.example.test"));
	h2req_free(&r);

	/* That disagree: 400. */
	start(&r, "GET", "/");
	CHECK_INT(field(&r, "host", "bob.example.test"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 400);
	CHECK(r.head == NULL);
	h2req_free(&r);

	/* One the other's prefix (a port more): they disagree. */
	start(&r, "GET", "/");
	CHECK_INT(field(&r, "host", "alice.example.test:443"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 400);
	h2req_free(&r);
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", "alice.example.test:443"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(field(&r, "host", "alice.example.test"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 400);
	h2req_free(&r);

	/* host alone. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(field(&r, "host", "bob.example.test"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 0);
	CHECK_INT(parse(&r), (int)r.len);
	CHECK(http_str_eq(req.host, "bob.example.test"));
	h2req_free(&r);

	/* Two host fields, even equal: 400, as HTTP/1.1's two Host lines. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(field(&r, "host", "bob.example.test"), 0);
	CHECK_INT(field(&r, "host", "bob.example.test"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 400);
	h2req_free(&r);

	/* Neither, or an empty one: 400. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 400);
	h2req_free(&r);
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", ""), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 400);
	h2req_free(&r);

	/* Userinfo or other bytes no host name has: http.c's 400. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", "user@a.test"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(parse(&r), -400);
	h2req_free(&r);
}

static void
test_cookies(void)
{
	struct h2req	r;

	start(&r, "GET", "/");
	CHECK_INT(field(&r, "cookie", "a=1"), 0);
	CHECK_INT(field(&r, "cookie", ""), 0);
	CHECK_INT(field(&r, "x-between", "y"), 0);
	CHECK_INT(field(&r, "cookie", "b=2"), 0);
	CHECK_INT(field(&r, "cookie", "c=3; d=4"), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(parse(&r), (int)r.len);
	CHECK(http_header_get(&req, "cookie") != NULL &&
	    http_str_eq(http_header_get(&req, "cookie")->value, "a=1; b=2; c=3; d=4"));
	CHECK(strcasestr(strstr(r.head, "Cookie:") + 1, "cookie:") == NULL);
	h2req_free(&r);
}

static void
test_list_bound(void)
{
	struct h2req	r;
	char		big[200];
	int		i;

	/* 431 once the decoded list passes the limit; fields still taken. */
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	h2req_init(&r, 1000);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	for (i = 0; i < 3; i++)		/* 172 + 3 * 236 */
		CHECK_INT(field(&r, "x-big", big), 0);
	CHECK_INT(r.status, 0);
	CHECK_INT(field(&r, "x-big", big), 0);
	CHECK_INT(r.status, 431);
	CHECK(r.list > 1000);
	/* Nothing more is kept, whatever comes. */
	for (i = 0; i < 1000; i++)
		CHECK_INT(field(&r, "x-big", big), 0);
	CHECK(r.fields.len < 1000);
	CHECK(r.fields.cap <= 2048);
	/* A malformed field still resets the stream. */
	CHECK_INT(field(&r, "x-a", "a\r\n"), -1);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 431);
	CHECK(r.head == NULL);
	h2req_free(&r);

	/* A huge pseudo-header is a 431 too; the structure still checked. */
	h2req_init(&r, 100);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":path", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 0);
	CHECK_INT(r.status, 431);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 431);
	h2req_free(&r);
	h2req_init(&r, 100);
	CHECK_INT(field(&r, ":path", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 0);
	CHECK_INT(r.status, 431);
	CHECK_INT(h2req_finish(&r, 1), -1);	/* no :method */
	h2req_free(&r);
}

/*
 * A list just within the limit, of many small fields or one large one,
 * gives a head http.c reads whole with max_head = the limit (and so in the
 * stream conn's buffer of limit + 4096).
 */
static void
test_head_fits(void)
{
	struct h2req	r;
	static char	v[LIMIT];
	size_t		room;
	int		i;

	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "POST"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	for (i = 0; i < 90; i++)
		CHECK_INT(field(&r, "cookie", "k=v"), 0);
	memset(v, 'x', sizeof(v));
	room = LIMIT - r.list - 32 - 3;
	CHECK_INT(field_n(&r, "x-b", v, room), 0);
	CHECK_INT(r.list, LIMIT);
	CHECK_INT(h2req_finish(&r, 0), 0);
	CHECK_INT(r.status, 0);
	CHECK(r.len <= LIMIT);
	CHECK_INT(parse(&r), (int)r.len);
	CHECK_INT(req.chunked, 1);
	h2req_free(&r);

	/* One byte more: 431 from h2req, not a head http.c cannot finish. */
	h2req_init(&r, LIMIT);
	CHECK_INT(field(&r, ":method", "GET"), 0);
	CHECK_INT(field(&r, ":scheme", "https"), 0);
	CHECK_INT(field(&r, ":authority", "a.test"), 0);
	CHECK_INT(field(&r, ":path", "/"), 0);
	room = LIMIT - r.list - 32 - 3 + 1;
	CHECK_INT(field_n(&r, "x-b", v, room), 0);
	CHECK_INT(h2req_finish(&r, 1), 0);
	CHECK_INT(r.status, 431);
	h2req_free(&r);
}

/* The chunk framing, and http.c's decoder reading it back. */
static void
test_chunks(void)
{
	struct h2req		r;
	struct http_chunked	ch;
	char			buf[256], out[32];
	size_t			n = 0, k, got;
	ssize_t			used;

	start(&r, "PUT", "/f");
	CHECK_INT(h2req_finish(&r, 0), 0);
	CHECK_INT(r.chunked, 1);
	CHECK_INT(h2req_chunk_head(&r, 1, 0, out), 0);
	k = h2req_chunk_head(&r, 1, 5, out);
	CHECK_INT(k, 3);
	CHECK_STR(out, "5\r\n");
	memcpy(buf + n, out, k);
	n += k;
	memcpy(buf + n, "hello", 5);
	n += 5;
	k = h2req_chunk_head(&r, 0, 26, out);
	CHECK_STR(out, "\r\n1a\r\n");
	memcpy(buf + n, out, k);
	n += k;
	memcpy(buf + n, "abcdefghijklmnopqrstuvwxyz", 26);
	n += 26;
	k = h2req_chunk_end(0, out);
	CHECK_STR(out, "\r\n0\r\n\r\n");
	memcpy(buf + n, out, k);
	n += k;
	http_chunked_init(&ch);
	used = http_chunked_decode(&ch, buf, n, &got);
	CHECK_INT(used, (ssize_t)n);
	CHECK_INT(ch.done, 1);
	CHECK_INT(got, 31);
	CHECK(memcmp(buf, "helloabcdefghijklmnopqrstuvwxyz", 31) == 0);

	/* No DATA at all. */
	k = h2req_chunk_end(1, out);
	CHECK_STR(out, "0\r\n\r\n");
	http_chunked_init(&ch);
	CHECK_INT(http_chunked_decode(&ch, out, k, &got), (ssize_t)k);
	CHECK_INT(ch.done, 1);
	CHECK_INT(got, 0);
	CHECK_INT(h2req_chunk_head(&r, 0, SIZE_MAX, out), 20);
	h2req_free(&r);

	/* Not chunked: no framing. */
	start(&r, "PUT", "/f");
	CHECK_INT(field(&r, "content-length", "3"), 0);
	CHECK_INT(h2req_finish(&r, 0), 0);
	CHECK_INT(h2req_chunk_head(&r, 1, 3, out), 0);
	h2req_free(&r);
}

int
main(void)
{
	test_round_trip();
	test_post_lengths();
	test_content_length_junk();
	test_pseudo_rules();
	test_method_path_scheme();
	test_connect();
	test_names();
	test_values();
	test_connection_fields();
	test_host();
	test_cookies();
	test_list_bound();
	test_head_fits();
	test_chunks();
	UNIT_DONE();
}
