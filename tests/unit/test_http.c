/* test_http.c: the HTTP wire format, attacked from every side we know. */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "unit.h"

static const struct http_limits lim = { 1024, 8192, 64 };
static struct http_request req;

static int
parse_lim(const char *s, const struct http_limits *l)
{
	return http_parse_head(s, strlen(s), l, &req);
}

static int
parse(const char *s)
{
	return parse_lim(s, &lim);
}

/* Counted strings are not NUL-terminated; compare them as such. */
static int
str_is(struct http_str s, const char *c)
{
	if (c == NULL)
		return s.p == NULL;
	return s.p != NULL && s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

static void
test_valid_heads(void)
{
	const char *get = "GET /a/b.html?x=1&y HTTP/1.1\r\n"
	    "Host: Example.COM:8080\r\n"
	    "User-Agent:  curl/8.0 \r\n"
	    "Accept: */*\r\n"
	    "\r\n";
	const struct http_header *h;

	CHECK_INT(parse(get), strlen(get));
	CHECK_INT(req.method, HTTP_M_GET);
	CHECK(str_is(req.method_str, "GET"));
	CHECK(str_is(req.target, "/a/b.html?x=1&y"));
	CHECK(str_is(req.path, "/a/b.html"));
	CHECK(str_is(req.query, "x=1&y"));
	CHECK_INT(req.version_minor, 1);
	CHECK_INT(req.nheaders, 3);
	CHECK(str_is(req.host, "Example.COM:8080"));
	CHECK(str_is(req.user_agent, "curl/8.0"));
	CHECK_INT(req.content_length, -1);
	CHECK_INT(req.chunked, 0);
	CHECK_INT(req.keep_alive, 1);
	CHECK_INT(req.expect_continue, 0);
	CHECK(str_is(req.range, NULL));
	h = http_header_get(&req, "accept");
	CHECK(h != NULL && str_is(h->value, "*/*"));
	CHECK(http_header_get(&req, "Accep") == NULL);
	CHECK(http_header_get(&req, "Accept-Encoding") == NULL);
	h = http_header_get(&req, "HOST");
	CHECK(h != NULL && str_is(h->name, "Host"));

	/* Bare LF line ends, HTTP/1.0 without Host, close by default. */
	CHECK_INT(parse("GET / HTTP/1.0\n\n"), 16);
	CHECK_INT(req.version_minor, 0);
	CHECK_INT(req.keep_alive, 0);
	CHECK(str_is(req.host, NULL));
	CHECK(str_is(req.query, NULL));
	CHECK_INT(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 42);
	CHECK_INT(req.keep_alive, 1);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, CLOSE\r\n\r\n"), 55);
	CHECK_INT(req.keep_alive, 0);
	CHECK_INT(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), 49);
	CHECK_INT(req.keep_alive, 0);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: TE ,\tKeep-Alive\t,\r\n\r\n") > 0);
	CHECK_INT(req.keep_alive, 1);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n") > 0);
	CHECK_INT(req.keep_alive, 0);
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n") > 0);
	CHECK_INT(req.keep_alive, 1);

	/* Leading empty lines are skipped, and counted in the length. */
	CHECK_INT(parse("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 30);
	CHECK(str_is(req.path, "/"));

	/* Empty query, empty Host value, empty header value. */
	CHECK(parse("GET /?  HTTP/1.1\r\nHost: a\r\n\r\n") == -400);
	CHECK(parse("GET /? HTTP/1.1\r\nHost:\r\nX-Empty:   \r\n\r\n") > 0);
	CHECK(str_is(req.query, ""));
	CHECK(str_is(req.host, ""));
	CHECK(str_is(req.headers[1].value, ""));

	/* Known methods, and an unknown but valid token. */
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n") > 0);
	CHECK_INT(req.method, HTTP_M_POST);
	CHECK_INT(req.content_length, 5);
	CHECK(parse("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
	CHECK_INT(req.method, HTTP_M_DELETE);
	CHECK(parse("PROPFIND /x HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
	CHECK_INT(req.method, HTTP_M_UNKNOWN);
	CHECK(str_is(req.method_str, "PROPFIND"));
	{
		static const struct { const char *m; enum http_method e; } ms[] = {
			{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD },
			{ "POST", HTTP_M_POST }, { "PUT", HTTP_M_PUT },
			{ "DELETE", HTTP_M_DELETE }, { "OPTIONS", HTTP_M_OPTIONS },
			{ "PATCH", HTTP_M_PATCH }, { "TRACE", HTTP_M_TRACE },
			{ "GETS", HTTP_M_UNKNOWN }, { "PUTT", HTTP_M_UNKNOWN },
			{ "PATCHY", HTTP_M_UNKNOWN }, { "OPTIONZ", HTTP_M_UNKNOWN },
			{ "X", HTTP_M_UNKNOWN }, { "M-SEARCH", HTTP_M_UNKNOWN },
		};
		char h[64];
		size_t i;
		int ok = 1;

		for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
			snprintf(h, sizeof(h), "%s /x HTTP/1.1\r\nHost: a\r\n\r\n", ms[i].m);
			if (parse(h) <= 0 || req.method != ms[i].e)
				ok = 0;
		}
		CHECK(ok);
	}
	CHECK(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
	CHECK_INT(req.method, HTTP_M_UNKNOWN);	/* methods are case-sensitive */

	/* Conditional and range fields are picked up. */
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n"
	    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "Range: bytes=0-1\r\nIf-Range: \"x\"\r\nReferer: http://r/\r\n\r\n") > 0);
	CHECK(str_is(req.if_none_match, "\"x\""));
	CHECK(str_is(req.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT"));
	CHECK(str_is(req.range, "bytes=0-1"));
	CHECK(str_is(req.if_range, "\"x\""));
	CHECK(str_is(req.referer, "http://r/"));

	/* Expect. */
	CHECK(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
	    "Content-Length: 1\r\n\r\n") > 0);
	CHECK_INT(req.expect_continue, 1);
	CHECK(parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n\r\n") > 0);
	CHECK_INT(req.expect_continue, 0);
	CHECK_INT(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"), -417);

	/* obs-text in a value is allowed, and tabs as OWS. */
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Name:\t\xc3\xa9t\xc3\xa9\t\r\n\r\n") > 0);
	CHECK(str_is(req.headers[1].value, "\xc3\xa9t\xc3\xa9"));
}

static void
test_pipelined(void)
{
	const char *two = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
	    "HEAD /two HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
	    "GET /thr";
	size_t len = strlen(two);
	int n, m;

	n = http_parse_head(two, len, &lim, &req);
	CHECK_INT(n, 30);
	CHECK(str_is(req.path, "/one"));
	CHECK_INT(req.keep_alive, 1);
	m = http_parse_head(two + n, len - n, &lim, &req);
	CHECK_INT(m, 50);
	CHECK_INT(req.method, HTTP_M_HEAD);
	CHECK(str_is(req.path, "/two"));
	CHECK(str_is(req.host, "b"));
	CHECK_INT(req.keep_alive, 0);
	CHECK_INT(http_parse_head(two + n + m, len - n - m, &lim, &req), 0);
}

/* Every prefix of a valid head is "incomplete", never an error. */
static void
test_incremental(void)
{
	const char *h = "\r\nPOST /up?x HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	size_t i, len = strlen(h);
	int bad = 0;

	for (i = 0; i < len; i++)
		if (http_parse_head(h, i, &lim, &req) != 0)
			bad++;
	CHECK_INT(bad, 0);
	CHECK_INT(http_parse_head(h, len, &lim, &req), len);
	CHECK_INT(req.chunked, 1);
	CHECK_INT(req.content_length, -1);
}

static void
test_request_line(void)
{
	CHECK_INT(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), -505);
	CHECK_INT(parse("GET / HTTP/2.0\r\n\r\n"), -505);
	CHECK_INT(parse("GET / HTTP/0.9\r\n\r\n"), -505);
	CHECK_INT(parse("GET / http/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET /\r\n\r\n"), -400);		/* HTTP/0.9 */
	CHECK_INT(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\rHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET /#frag HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400);

	/* Binary garbage is refused before its line is complete. */
	CHECK_INT(parse("\x16\x03\x01\x02\x00"), -400);
	CHECK_INT(parse("GET"), 0);
	CHECK_INT(parse("GET /"), 0);

	/* Target forms. */
	CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
	CHECK(str_is(req.path, "*"));
	CHECK_INT(parse("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n") > 0);
	CHECK_INT(req.method, HTTP_M_CONNECT);
	CHECK(str_is(req.host, "example.com:443"));
	CHECK(str_is(req.path, NULL));
	CHECK_INT(parse("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("CONNECT a:b HTTP/1.1\r\nHost: a\r\n\r\n"), -400);

	CHECK(parse("GET http://Alice.Example.org:8080/p/q?r=1 HTTP/1.1\r\n"
	    "Host: other\r\n\r\n") > 0);
	CHECK(str_is(req.host, "Alice.Example.org:8080"));
	CHECK(str_is(req.path, "/p/q"));
	CHECK(str_is(req.query, "r=1"));
	CHECK(parse("GET HTTPS://h HTTP/1.1\r\nHost: other\r\n\r\n") > 0);
	CHECK(str_is(req.host, "h"));
	CHECK(str_is(req.path, "/"));
	CHECK(str_is(req.query, NULL));
	CHECK(parse("GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(str_is(req.path, "/"));
	CHECK(str_is(req.query, "q"));
	CHECK(parse("GET http://[::1]:80/ HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(str_is(req.host, "[::1]:80"));
	CHECK_INT(parse("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"), -400);
	CHECK_INT(parse("GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), -400);
	CHECK_INT(parse("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), -400);
	CHECK_INT(parse("GET http://h/#x HTTP/1.1\r\nHost: h\r\n\r\n"), -400);
	/* Absolute-form still needs a Host header on 1.1 (RFC 9112 3.2). */
	CHECK_INT(parse("GET http://h/ HTTP/1.1\r\n\r\n"), -400);
	CHECK(parse("GET http://h/ HTTP/1.0\r\n\r\n") > 0);
	CHECK(str_is(req.host, "h"));
}

static void
test_fields(void)
{
	CHECK_INT(parse("GET / HTTP/1.1\r\n\r\n"), -400);		/* no Host */
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n\tX: 1\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b[0m\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n: novalue\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX(Y): 1\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n"
	    "Range: bytes=2-3\r\n\r\n"), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: x\r\n"
	    "If-Modified-Since: y\r\n\r\n"), -400);

	/* NUL in a value, which a C string cannot carry. */
	{
		static const char h[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";

		CHECK_INT(http_parse_head(h, sizeof(h) - 1, &lim, &req), -400);
	}
	{
		static const char h[] = "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n";

		CHECK_INT(http_parse_head(h, sizeof(h) - 1, &lim, &req), -400);
	}
}

static void
test_body_framing(void)
{
	/* Content-Length. */
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n") > 0);
	CHECK_INT(req.content_length, 0);
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n") > 0);
	CHECK_INT(req.content_length, INT64_MAX);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), -400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n") > 0);
	CHECK_INT(req.content_length, 5);
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n") > 0);
	CHECK_INT(req.content_length, 5);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n"), -400);

	/* Transfer-Encoding. */
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChunKed \r\n\r\n") > 0);
	CHECK_INT(req.chunked, 1);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), -501);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"), -501);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), -501);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), -501);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n"), -501);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), -501);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n"), -400);
	/* Chunked twice, in one line or in two: framing it twice is malformed. */
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), -400);
	/* HTTP/1.0 has no chunked coding. */
	CHECK_INT(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400);

	/* Smuggling: CL and TE together, in either order, in any spelling. */
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\n"
	    "content-length: 4\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n"
	    "Content-Length: 4\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
	    " Transfer-Encoding: chunked\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
	    "Transfer-Encoding: \x0b" "chunked\r\n\r\n"), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "X: 1\nContent-Length: 4\r\n\r\n"), -400);
}

static void
test_limits(void)
{
	struct http_limits small = { 20, 64, 3 };
	char big[200];

	/* Request line: exactly at the limit, over it, and over it unfinished. */
	CHECK(parse_lim("GET /23456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n", &(struct http_limits){ 28, 8192, 64 }) > 0);
	CHECK_INT(parse_lim("GET /23456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n", &(struct http_limits){ 27, 8192, 64 }), -414);
	CHECK_INT(parse_lim("GET /23456789abcdefghijklmnop", &small), -414);
	CHECK_INT(parse_lim("GET /23456789abcd", &small), 0);
	CHECK_INT(parse_lim("GET /23456789abcdef", &(struct http_limits){ 19, 64, 3 }), 0);
	CHECK_INT(parse_lim("GET /23456789abcdef\r", &(struct http_limits){ 19, 64, 3 }), 0);
	CHECK_INT(parse_lim("GET /23456789abcdefg", &(struct http_limits){ 19, 64, 3 }), -414);

	/* Head size. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(parse_lim(big, &small), -431);
	CHECK_INT(parse_lim("GET / HTTP/1.1\r\nHost: a\r\nX: 123456789012345678\r\n\r\n",
	    &(struct http_limits){ 100, 50, 10 }), 50);
	CHECK_INT(parse_lim("GET / HTTP/1.1\r\nHost: a\r\nX: 123456789012345678\r\n\r\n",
	    &(struct http_limits){ 100, 49, 10 }), -431);
	CHECK_INT(parse_lim("GET / HTTP/1.1\r\nHost: a\r\nX: 123456789012345678\r\n\r",
	    &(struct http_limits){ 100, 49, 10 }), -431);
	CHECK_INT(parse_lim("GET / HTTP/1.1\r\nHost: a\r\nX: 123456789012345678\r\n\r",
	    &(struct http_limits){ 100, 50, 10 }), 0);
	/* Empty lines before the request count against the head too. */
	CHECK_INT(parse_lim("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
	    &small), -431);

	/* Header count. */
	CHECK(parse_lim("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", &small) > 0);
	CHECK_INT(parse_lim("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &small), -431);
	/* A configured limit above the array size is clamped to it. */
	{
		struct http_limits huge = { 1024, 1 << 20, 100000 };
		static char h[(HTTP_MAX_HEADERS_HARD + 2) * 8 + 64];
		size_t n, i;

		n = (size_t)snprintf(h, sizeof(h), "GET / HTTP/1.1\r\nHost: a\r\n");
		for (i = 0; i < HTTP_MAX_HEADERS_HARD; i++)
			n += (size_t)snprintf(h + n, sizeof(h) - n, "X: %03zu\r\n", i);
		n += (size_t)snprintf(h + n, sizeof(h) - n, "\r\n");
		CHECK_INT(http_parse_head(h, n, &huge, &req), -431);
	}
}

/* Feed the decoder in pieces of `step` bytes, as a slow client would. */
static int
chunked_feed(const char *in, size_t len, size_t step, char *out, size_t *outlen,
    size_t *consumed)
{
	struct http_chunked c;
	char buf[512];
	size_t pos = 0, n, got, have = 0;
	ssize_t r;

	http_chunked_init(&c);
	*outlen = 0;
	while (pos < len && !c.done) {
		n = len - pos < step ? len - pos : step;
		/* Unconsumed bytes stay at the front, as conn.c keeps them. */
		memcpy(buf + have, in + pos, n);
		pos += n;
		have += n;
		r = http_chunked_decode(&c, buf, have, &got);
		if (r < 0)
			return -1;
		memcpy(out + *outlen, buf, got);
		*outlen += got;
		memmove(buf, buf + r, have - (size_t)r);
		have -= (size_t)r;
	}
	*consumed = pos - have;
	return c.done;
}

static void
test_chunked(void)
{
	static const char body[] = "5;name=\"v\"\r\nhello\r\n"
	    "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	    "000\r\nTrailer-A: x\r\nT2:\r\n\r\n"
	    "GET / HTTP/1.1\r\n";
	char out[512];
	size_t outlen, consumed, step;
	int ok = 1;

	for (step = 1; step <= sizeof(body); step++) {
		if (chunked_feed(body, sizeof(body) - 1, step, out, &outlen,
		    &consumed) != 1 || outlen != 31 ||
		    memcmp(out, "helloabcdefghijklmnopqrstuvwxyz", 31) != 0 ||
		    consumed != sizeof(body) - 1 - 16)
			ok = 0;
	}
	CHECK(ok);

	/* Decoded in place, in one call. */
	{
		struct http_chunked c;
		char b[] = "3\r\nabc\r\n0\r\n\r\nNEXT";
		size_t got;

		http_chunked_init(&c);
		CHECK_INT(http_chunked_decode(&c, b, strlen(b), &got), strlen(b) - 4);
		CHECK_INT(got, 3);
		CHECK(memcmp(b, "abc", 3) == 0);
		CHECK_INT(c.done, 1);
		CHECK_INT(http_chunked_decode(&c, b, 4, &got), 0);
		CHECK_INT(got, 0);
	}

#define BAD(s) CHECK_INT(chunked_feed(s, sizeof(s) - 1, 1, out, &outlen, &consumed), -1)
#define BADALL(s) CHECK_INT(chunked_feed(s, sizeof(s) - 1, sizeof(s), out, &outlen, &consumed), -1)
	BAD("x\r\n");
	BAD("\r\n");
	BAD("-1\r\n");
	BAD("0x5\r\nhello\r\n0\r\n\r\n");
	BAD("5 \r\nhello\r\n0\r\n\r\n");
	BAD("5\nhello\r\n0\r\n\r\n");			/* bare LF */
	BAD("5\rhello\r\n0\r\n\r\n");			/* bare CR */
	BAD("5\r\nhelloX\r\n0\r\n\r\n");			/* no CRLF after data */
	BAD("5\r\nhello\n0\r\n\r\n");
	BAD("5\r\nhello\r\n0\r\n\n");
	BAD("5;a=\x01\r\nhello\r\n0\r\n\r\n");		/* CTL in extension */
	BAD("5;a\rb\r\nhello\r\n0\r\n\r\n");
	BAD("0\r\n X: folded\r\n\r\n");
	BAD("0\r\nX : 1\r\n\r\n");
	BAD("0\r\nX: \x7f\r\n\r\n");
	BAD("0\r\nX: 1\n\r\n");
	/* Sizes that overflow, and one just over the cap. */
	BAD("ffffffffffffffffffff\r\n");
	BADALL("10000000000000001\r\n");
	BADALL("4000000000000001\r\n");
	CHECK_INT(chunked_feed("4000000000000000\r\n", 18, 18, out, &outlen, &consumed), 0);
	CHECK_INT(chunked_feed("5 \t;x\r\nhello\r\n0;last\r\n\r\n", 26, 1, out, &outlen,
	    &consumed), 1);
	CHECK_INT(outlen, 5);
	CHECK_INT(chunked_feed("00000000000000000000000005\r\nhello\r\n0\r\n\r\n", 41, 3,
	    out, &outlen, &consumed), 1);
	CHECK_INT(outlen, 5);
	/* Size line and trailers are bounded. */
	{
		static char ext[5000 + 16];

		memset(ext, 'a', sizeof(ext));
		memcpy(ext, "1;", 2);
		CHECK_INT(chunked_feed(ext, sizeof(ext), 100, out, &outlen, &consumed), -1);
	}
	{
		static char tr[20000 + 64];
		size_t n = 0;

		n += (size_t)snprintf(tr, sizeof(tr), "0\r\n");
		while (n < sizeof(tr) - 64)
			n += (size_t)snprintf(tr + n, sizeof(tr) - n, "X: 123456789\r\n");
		n += (size_t)snprintf(tr + n, sizeof(tr) - n, "\r\n");
		CHECK_INT(chunked_feed(tr, n, 7, out, &outlen, &consumed), -1);
	}
	/* Once it failed, it stays failed. */
	{
		struct http_chunked c;
		char b[] = "z\r\n";
		size_t got;

		http_chunked_init(&c);
		CHECK_INT(http_chunked_decode(&c, b, 3, &got), -1);
		memcpy(b, "0\r\n", 3);
		CHECK_INT(http_chunked_decode(&c, b, 3, &got), -1);
	}
#undef BAD
#undef BADALL
}

static const char *
norm(const char *in)
{
	static char out[256];

	if (http_normalize_path(in, strlen(in), out, sizeof(out)) < 0)
		return "(refused)";
	return out;
}

static void
test_normalize(void)
{
	char small[6];

	CHECK_STR(norm("/"), "/");
	CHECK_STR(norm("/a/b/c.html"), "/a/b/c.html");
	CHECK_STR(norm("/a/b/"), "/a/b/");
	CHECK_STR(norm("//a///b//"), "/a/b/");
	CHECK_STR(norm("/a/./b/."), "/a/b/");
	CHECK_STR(norm("/./"), "/");
	CHECK_STR(norm("/a/../b"), "/b");
	CHECK_STR(norm("/a/b/.."), "/a/");
	CHECK_STR(norm("/a/b/../../c/"), "/c/");
	CHECK_STR(norm("/a/.."), "/");
	CHECK_STR(norm("/a/..."), "/a/...");
	CHECK_STR(norm("/a/..b/.c"), "/a/..b/.c");
	CHECK_STR(norm("/~alice/x%20y.txt"), "/~alice/x y.txt");
	CHECK_STR(norm("/%7ealice/%41%62"), "/~alice/Ab");
	CHECK_STR(norm("/caf%C3%A9"), "/caf\xc3\xa9");
	CHECK_STR(norm("/\xe2\x82\xac"), "/\xe2\x82\xac");
	CHECK_STR(norm("/%F0%9F%98%80"), "/\xf0\x9f\x98\x80");
	CHECK_STR(norm("/%f4%8f%bf%bf"), "/\xf4\x8f\xbf\xbf");
	CHECK_STR(norm("/%f3%a0%80%81"), "/\xf3\xa0\x80\x81");
	CHECK_STR(norm("/%ed%9f%bf"), "/\xed\x9f\xbf");
	CHECK_STR(norm("/%ef%bf%bd"), "/\xef\xbf\xbd");
	CHECK_STR(norm("/a%3Fb%23c"), "/a?b#c");

	/* Traversal. */
	CHECK_STR(norm("/.."), "(refused)");
	CHECK_STR(norm("/../etc/passwd"), "(refused)");
	CHECK_STR(norm("/a/../../etc/passwd"), "(refused)");
	CHECK_STR(norm("/a/./../.."), "(refused)");
	CHECK_STR(norm("//../x"), "(refused)");
	CHECK_STR(norm("/%2e%2e/etc/passwd"), "(refused)");
	CHECK_STR(norm("/%2E%2e/x"), "(refused)");
	CHECK_STR(norm("/.%2e/x"), "(refused)");
	CHECK_STR(norm("/a/%2e%2e/b"), "/b");
	CHECK_STR(norm("/a/%2e/b"), "/a/b");
	CHECK_STR(norm("/a%2F..%2F..%2Fetc"), "(refused)");
	CHECK_STR(norm("/a%2fb"), "(refused)");
	CHECK_STR(norm("/..\\..\\etc"), "(refused)");
	CHECK_STR(norm("/a%5cb"), "(refused)");
	CHECK_STR(norm("/a%00.html"), "(refused)");
	CHECK_STR(norm("/a%0d%0aSet-Cookie:x"), "(refused)");
	CHECK_STR(norm("/a%7f"), "(refused)");
	CHECK_STR(norm("/a\tb"), "(refused)");
	/* Overlong, surrogate and out-of-range UTF-8. */
	CHECK_STR(norm("/%c0%ae%c0%ae/x"), "(refused)");
	CHECK_STR(norm("/%c0%af"), "(refused)");
	CHECK_STR(norm("/%c1%bf"), "(refused)");
	CHECK_STR(norm("/%e0%80%af"), "(refused)");
	CHECK_STR(norm("/%e0%9f%bf"), "(refused)");
	CHECK_STR(norm("/%f0%80%80%af"), "(refused)");
	CHECK_STR(norm("/%f0%8f%bf%bf"), "(refused)");
	CHECK_STR(norm("/%ed%a0%80"), "(refused)");
	CHECK_STR(norm("/%ed%bf%bf"), "(refused)");
	CHECK_STR(norm("/%f4%90%80%80"), "(refused)");
	CHECK_STR(norm("/%f5%80%80%80"), "(refused)");
	CHECK_STR(norm("/%ff"), "(refused)");
	CHECK_STR(norm("/%80"), "(refused)");
	CHECK_STR(norm("/%c3"), "(refused)");
	CHECK_STR(norm("/%c3/%a9"), "(refused)");
	CHECK_STR(norm("/%e2%82"), "(refused)");
	CHECK_STR(norm("/\xc3"), "(refused)");
	/* Broken escapes, and paths that are not absolute. */
	CHECK_STR(norm("/a%"), "(refused)");
	CHECK_STR(norm("/a%2"), "(refused)");
	CHECK_STR(norm("/a%zz"), "(refused)");
	CHECK_STR(norm("/a%%41"), "(refused)");
	CHECK_STR(norm("/a%+1"), "(refused)");
	CHECK_STR(norm(""), "(refused)");
	CHECK_STR(norm("a/b"), "(refused)");
	CHECK_STR(norm("%2fa"), "(refused)");
	CHECK_STR(norm("*"), "(refused)");
	/* NUL inside the counted string. */
	CHECK_INT(http_normalize_path("/a\0b", 4, small, sizeof(small)), -1);
	/* Too small an output buffer. */
	CHECK_INT(http_normalize_path("/abcd", 5, small, sizeof(small)), 5);
	CHECK_STR(small, "/abcd");
	CHECK_INT(http_normalize_path("/abcde", 6, small, sizeof(small)), -1);
	CHECK_INT(http_normalize_path("/abcd/", 6, small, sizeof(small)), -1);
	CHECK_INT(http_normalize_path("/", 1, small, 1), -1);
}

static void
test_encode(void)
{
	char out[64];

	CHECK_INT(http_encode_path("/a/b-c_d.e~f", out, sizeof(out)), 12);
	CHECK_STR(out, "/a/b-c_d.e~f");
	CHECK(http_encode_path("/a b/?#%\"<>\xc3\xa9", out, sizeof(out)) > 0);
	CHECK_STR(out, "/a%20b/%3F%23%25%22%3C%3E%C3%A9");
	CHECK(http_encode_path("\r\n", out, sizeof(out)) > 0);
	CHECK_STR(out, "%0D%0A");
	CHECK_INT(http_encode_path("/abc", out, 5), 4);
	CHECK_INT(http_encode_path("/abc", out, 4), -1);
	CHECK_INT(http_encode_path("/ ", out, 4), -1);
	CHECK_INT(http_encode_path("/ ", out, 5), 4);
	CHECK_INT(http_encode_path("", out, 1), 0);
	CHECK_INT(http_encode_path("", out, 0), -1);
}

static void
test_dates(void)
{
	char d[30];
	time_t t;

	http_format_date(784111777, d);
	CHECK_STR(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	http_format_date(0, d);
	CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 GMT");
	http_format_date(951782400, d);
	CHECK_STR(d, "Tue, 29 Feb 2000 00:00:00 GMT");
	http_format_date(4102444799, d);
	CHECK_STR(d, "Thu, 31 Dec 2099 23:59:59 GMT");

#define PD(s) http_parse_date(s, strlen(s))
	CHECK_INT(PD("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
	CHECK_INT(PD("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
	CHECK_INT(PD("Sun Nov  6 08:49:37 1994"), 784111777);
	CHECK_INT(PD("Sun Nov 06 08:49:37 1994"), 784111777);
	CHECK_INT(PD("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
	CHECK_INT(PD("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
	CHECK_INT(PD("Thu, 31 Dec 2099 23:59:59 GMT"), 4102444799LL);
	CHECK_INT(PD("Wednesday, 09-Sep-09 09:09:09 GMT"), 1252487349);
	CHECK_INT(PD("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799LL);
	/* Round trip across leap years. */
	{
		int ok = 1;

		for (t = 0; t < 4200000000LL; t += 86399 * 37 + 13) {
			http_format_date(t, d);
			if (http_parse_date(d, 29) != t)
				ok = 0;
		}
		CHECK(ok);
	}
	/* Out of the format's range: the epoch rather than garbage. */
	http_format_date((time_t)1 << 50, d);
	CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 GMT");
	http_format_date(-86400, d);
	CHECK_STR(d, "Wed, 31 Dec 1969 00:00:00 GMT");
	CHECK_INT(PD("Sun, 06 Nov 1994 08:49:37 UTC"), -1);
	CHECK_INT(PD("Sun, 06 Nov 1994 08-49-37 GMT"), -1);
	CHECK_INT(PD("Sunday, 06-Nov-9x 08:49:37 GMT"), -1);
	CHECK_INT(PD("Tuesday, 01-Jan-69 00:00:00 GMT"), 3124224000LL);
	CHECK_INT(PD("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
	CHECK_INT(PD("Sun, 06 Nov 1994 23:59:60 GMT"), 784166400);
	CHECK_INT(PD("Sun, 06 Nov 1994 08:49:37 gmt"), -1);
	CHECK_INT(PD("Sun, 06 nov 1994 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 6 Nov 1994 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 06 Nov 1994 8:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 06 Nov 1994 08:49:37 GMT "), -1);
	CHECK_INT(PD("Xyz, 06 Nov 1994 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 30 Feb 1994 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 29 Feb 1900 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 00 Nov 1994 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 06 Nov 1994 24:00:00 GMT"), -1);
	CHECK_INT(PD("Sun, 06 Nov 1994 08:60:00 GMT"), -1);
	CHECK_INT(PD("Sun, 06 Nov 1969 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 06 Nov 19x4 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun, 06-Nov-94 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sund, 06-Nov-94 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sunday, 06 Nov 1994 08:49:37 GMT"), -1);
	CHECK_INT(PD("Sun Nov  6 08:49:37 1994 "), -1);
	CHECK_INT(PD("Sun Nov 6 08:49:37 1994"), -1);
	CHECK_INT(PD("1994-11-06T08:49:37Z"), -1);
	CHECK_INT(PD(""), -1);
	CHECK_INT(PD("Sun"), -1);
	CHECK_INT(http_parse_date(NULL, 0), -1);
#undef PD
}

static void
test_ranges(void)
{
	off_t off = -7, cnt = -7;

#define PR(s, size) http_parse_range(s, strlen(s), size, &off, &cnt)
	CHECK_INT(PR("bytes=0-99", 1000), 1);
	CHECK(off == 0 && cnt == 100);
	CHECK_INT(PR("bytes=500-", 1000), 1);
	CHECK(off == 500 && cnt == 500);
	CHECK_INT(PR("bytes=-100", 1000), 1);
	CHECK(off == 900 && cnt == 100);
	CHECK_INT(PR("bytes=-5000", 1000), 1);
	CHECK(off == 0 && cnt == 1000);
	CHECK_INT(PR("bytes=900-5000", 1000), 1);
	CHECK(off == 900 && cnt == 100);
	CHECK_INT(PR("bytes=999-999", 1000), 1);
	CHECK(off == 999 && cnt == 1);
	CHECK_INT(PR("Bytes= 0-0 ", 1000), 1);
	CHECK(off == 0 && cnt == 1);
	CHECK_INT(PR("bytes=0-99999999999999999999999", 1000), 1);
	CHECK(off == 0 && cnt == 1000);
	CHECK_INT(PR("bytes=-99999999999999999999999", 1000), 1);
	CHECK(off == 0 && cnt == 1000);

	CHECK_INT(PR("bytes=1000-", 1000), -1);
	CHECK_INT(PR("bytes=1000-2000", 1000), -1);
	CHECK_INT(PR("bytes=99999999999999999999999-", 1000), -1);
	CHECK_INT(PR("bytes=-0", 1000), -1);
	CHECK_INT(PR("bytes=0-", 0), -1);
	CHECK_INT(PR("bytes=-5", 0), 0);

	CHECK_INT(PR("bytes=0-1,5-6", 1000), 0);
	CHECK_INT(PR("bytes=0-1,", 1000), 0);
	CHECK_INT(PR("bytes=5-4", 1000), 0);
	CHECK_INT(PR("bytes=a-b", 1000), 0);
	CHECK_INT(PR("bytes=-", 1000), 0);
	CHECK_INT(PR("bytes=", 1000), 0);
	CHECK_INT(PR("bytes=5", 1000), 0);
	CHECK_INT(PR("bytes=1-2-3", 1000), 0);
	CHECK_INT(PR("bytes=--5", 1000), 0);
	CHECK_INT(PR("bytes=+1-2", 1000), 0);
	CHECK_INT(PR("bytes=1 -2", 1000), 0);
	CHECK_INT(PR("items=0-1", 1000), 0);
	CHECK_INT(PR("bytes 0-1", 1000), 0);
	CHECK_INT(http_parse_range(NULL, 0, 1000, &off, &cnt), 0);
#undef PR
}

static void
test_misc(void)
{
	static const int codes[] = { 100, 200, 204, 206, 301, 302, 303, 304,
	    307, 308, 400, 401, 403, 404, 405, 408, 411, 413, 414, 416, 417,
	    421, 431, 500, 501, 502, 503, 504, 505 };
	struct http_str s = { "Content-Length", 14 }, none = { NULL, 0 };
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(http_reason(codes[i]), "Unknown") == 0)
			ok = 0;
	CHECK(ok);
	CHECK_STR(http_reason(404), "Not Found");
	CHECK_STR(http_reason(416), "Range Not Satisfiable");
	CHECK_STR(http_reason(505), "HTTP Version Not Supported");
	CHECK_STR(http_reason(299), "Unknown");
	CHECK_STR(http_reason(-1), "Unknown");

	CHECK(http_str_eq(s, "content-length"));
	CHECK(http_str_eq(s, "CONTENT-LENGTH"));
	CHECK(!http_str_eq(s, "content-lengt"));
	CHECK(!http_str_eq(s, "content-lengthx"));
	CHECK(!http_str_eq(none, ""));
	s.len = 0;
	CHECK(http_str_eq(s, ""));

	CHECK(http_valid_field_value("text/html; charset=utf-8", 24));
	CHECK(http_valid_field_value("a\tb \xff", 5));
	CHECK(http_valid_field_value("", 0));
	CHECK(!http_valid_field_value("a\r\nb", 4));
	CHECK(!http_valid_field_value("a\nb", 3));
	CHECK(!http_valid_field_value("a\0b", 3));
	CHECK(!http_valid_field_value("a\x7f", 2));

	/* Every byte value in every lane of the word-at-a-time scanners. */
	{
		char v[19], h[64];
		int b, pos, okf = 1, okt = 1, want, r;

		for (b = 0; b < 256; b++) {
			for (pos = 0; pos < 19; pos++) {
				memset(v, 'a', sizeof(v));
				v[pos] = (char)b;
				want = b == '\t' || (b >= 0x20 && b != 0x7f);
				if (http_valid_field_value(v, sizeof(v)) != want)
					okf = 0;

				memcpy(h, "GET /", 5);
				memcpy(h + 5, v, sizeof(v));
				memcpy(h + 5 + sizeof(v), " HTTP/1.0\r\n\r\n", 14);
				r = http_parse_head(h, 5 + sizeof(v) + 14, &lim, &req);
				want = b > 0x20 && b < 0x7f && b != '#';
				if ((r > 0) != want)
					okt = 0;
			}
		}
		CHECK(okf);
		CHECK(okt);
	}
}

int
main(void)
{
	test_valid_heads();
	test_pipelined();
	test_incremental();
	test_request_line();
	test_fields();
	test_body_framing();
	test_limits();
	test_chunked();
	test_normalize();
	test_encode();
	test_dates();
	test_ranges();
	test_misc();
	UNIT_DONE();
}
