/* test_cgi.c: the CGI and nph- response head parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "unit.h"

static struct cgi_head h;

/*
 * Parse the first n bytes of s from a heap copy of exactly n bytes, so that
 * a read past len is an ASan error under SAN=1, not a silent pass.  The
 * copy lives until the next parse: h points into it.
 */
static char *copy;

static int
parse_n(const char *s, size_t n, size_t max, int nph)
{
	free(copy);
	if ((copy = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(copy, s, n);
	return cgi_parse_head(copy, n, max, nph, &h);
}

static int
parse(const char *s)
{
	return parse_n(s, strlen(s), 8192, 0);
}

static int
parse_nph(const char *s)
{
	return parse_n(s, strlen(s), 8192, 1);
}

/* A counted string as a C string (one of a few static buffers), or NULL. */
static const char *
cstr(struct http_str s)
{
	static char	out[4][512];
	static int	i;
	char		*o;

	if (s.p == NULL)
		return NULL;
	o = out[i++ % 4];
	if (s.len >= sizeof(out[0]))
		return "(too long)";
	memcpy(o, s.p, s.len);
	o[s.len] = '\0';
	return o;
}

/* The value of the listed field `name`, or NULL. */
static const char *
hv(const char *name)
{
	size_t	i;

	for (i = 0; i < h.nheaders; i++)
		if (http_str_eq(h.headers[i].name, name))
			return cstr(h.headers[i].value);
	return NULL;
}

static int
parse_keep(const char *s, int nph)
{
	return parse_n(s, strlen(s), 8192, nph);
}

static void
test_status(void)
{
	const char *s;

	s = "Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\n";
	CHECK_INT(parse_keep(s, 0), (int)strlen(s));
	CHECK_INT(h.status, 404);
	CHECK_INT(h.local_redirect, 0);
	CHECK_STR(cstr(h.content_type), "text/html");
	CHECK_INT(h.nheaders, 0);

	CHECK_INT(parse("Status: 204\r\n\r\n"), 15);
	CHECK_INT(h.status, 204);
	CHECK_INT(parse("Status:500\n\n"), 12);
	CHECK_INT(h.status, 500);
	CHECK_INT(parse("status:   503   Busy now  \n\n") > 0, 1);
	CHECK_INT(h.status, 503);
	CHECK_INT(parse("Status: 599\n\n") > 0, 1);
	CHECK_INT(parse("Status: 200\n\n") > 0, 1);
	CHECK_INT(h.status, 200);
	CHECK_INT(parse("Status: 418\tteapot\n\n") > 0, 1);
	CHECK_INT(h.status, 418);

	/* Bad digits, bad lengths, out of range. */
	CHECK_INT(parse("Status: 4O4\n\n"), -1);
	CHECK_INT(parse("Status: 40\n\n"), -1);
	CHECK_INT(parse("Status: 4040\n\n"), -1);
	CHECK_INT(parse("Status: 404Not Found\n\n"), -1);
	CHECK_INT(parse("Status: \n\n"), -1);
	CHECK_INT(parse("Status: -404\n\n"), -1);
	CHECK_INT(parse("Status: +404\n\n"), -1);
	CHECK_INT(parse("Status: 100 Continue\n\n"), -1);
	CHECK_INT(parse("Status: 101 Switching Protocols\n\n"), -1);
	CHECK_INT(parse("Status: 199\n\n"), -1);
	CHECK_INT(parse("Status: 600\n\n"), -1);
	CHECK_INT(parse("Status: 999\n\n"), -1);
	CHECK_INT(parse("Status: 099\n\n"), -1);
	/* Repeated, even with the same value. */
	CHECK_INT(parse("Status: 200\nStatus: 200\n\n"), -1);
	CHECK_INT(parse("Status: 200\nContent-Type: a/b\nSTATUS: 404\n\n"), -1);
	/* No whitespace before the colon. */
	CHECK_INT(parse("Status : 200\n\n"), -1);
}

static void
test_location(void)
{
	const char *s;

	s = "Location: http://example.org/x?y=1\r\n\r\n";
	CHECK_INT(parse_keep(s, 0), (int)strlen(s));
	CHECK_INT(h.status, 302);
	CHECK_INT(h.local_redirect, 0);
	CHECK_STR(cstr(h.location), "http://example.org/x?y=1");
	CHECK(h.content_type.p == NULL);

	s = "Location: /other/page.php?a=b\n\n";
	CHECK_INT(parse_keep(s, 0), (int)strlen(s));
	CHECK_INT(h.status, 0);
	CHECK_INT(h.local_redirect, 1);
	CHECK_STR(cstr(h.location), "/other/page.php?a=b");

	s = "Status: 301 Moved Permanently\nLocation: https://a.example/\n\n";
	CHECK_INT(parse_keep(s, 0), (int)strlen(s));
	CHECK_INT(h.status, 301);
	CHECK_INT(h.local_redirect, 0);
	CHECK_STR(cstr(h.location), "https://a.example/");

	/* Status after Location: order does not matter. */
	CHECK_INT(parse("Location: https://a.example/\nStatus: 303\n\n") > 0, 1);
	CHECK_INT(h.status, 303);

	/* A local path with a Status goes to the client as it is. */
	CHECK_INT(parse("Status: 302\nLocation: /x\n\n") > 0, 1);
	CHECK_INT(h.status, 302);
	CHECK_INT(h.local_redirect, 0);

	/* A network-path reference names another host: client redirect. */
	CHECK_INT(parse("Location: //evil.example/x\n\n") > 0, 1);
	CHECK_INT(h.status, 302);
	CHECK_INT(h.local_redirect, 0);
	CHECK_INT(parse("Location: /\n\n") > 0, 1);
	CHECK_INT(h.local_redirect, 1);

	/* Other schemes and relative references: 302, as Apache does. */
	CHECK_INT(parse("Location: mailto:a@b.example\n\n") > 0, 1);
	CHECK_INT(h.status, 302);
	CHECK_INT(parse("Location: page2.html\n\n") > 0, 1);
	CHECK_INT(h.status, 302);
	CHECK_INT(h.local_redirect, 0);

	CHECK_INT(parse("Location:\n\n"), -1);
	CHECK_INT(parse("Location: /a\nLocation: /a\n\n"), -1);
	CHECK_INT(parse("Location: /a\r\nlocation: /b\r\n\r\n"), -1);
}

static void
test_content_type(void)
{
	const char *s;

	s = "Content-Type: text/plain; charset=utf-8\r\n\r\nbody";
	CHECK_INT(parse_keep(s, 0), (int)strlen(s) - 4);
	CHECK_INT(h.status, 200);
	CHECK_STR(cstr(h.content_type), "text/plain; charset=utf-8");
	CHECK_INT(h.content_length, -1);
	CHECK(h.location.p == NULL);

	CHECK_INT(parse("Content-Type: a/b\nContent-Type: a/b\n\n"), -1);
	CHECK_INT(parse("Content-Type:\n\n"), -1);
	CHECK_INT(parse("Content-Type:   \n\n"), -1);

	/* None of Status, Location, Content-Type. */
	CHECK_INT(parse("X-Powered-By: PHP\n\n"), -1);
	CHECK_INT(parse("\n"), -1);
	CHECK_INT(parse("\r\n"), -1);
	CHECK_INT(parse("\r\nContent-Type: a/b\r\n\r\n"), -1);
	CHECK_INT(parse("Content-Length: 5\n\n"), -1);
}

static void
test_line_endings(void)
{
	const char *s;

	s = "Content-Type: a/b\nX-A: 1\r\nX-B: 2\n\r\n";
	CHECK_INT(parse_keep(s, 0), (int)strlen(s));
	CHECK_STR(hv("x-a"), "1");
	CHECK_STR(hv("X-B"), "2");

	/* Bare CR: inside a value, ending a line, or before the end. */
	CHECK_INT(parse("Content-Type: a/b\rX-A: 1\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nX-A: 1\r\r\n\r\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nX-A: 1\rSet-Cookie: x=1\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\n\r\r\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nX-\rA: 1\n\n"), -1);
	/* A CR LF pair is just a line end: two lines, both checked. */
	s = "Content-Type: a/b\r\nX: a\r\nSet-Cookie: b\r\n\r\n";
	CHECK_INT(parse_keep(s, 0), (int)strlen(s));
	CHECK_STR(hv("X"), "a");
	CHECK_STR(hv("Set-Cookie"), "b");
	CHECK_INT(h.nheaders, 2);
	/* NUL and other controls. */
	CHECK_INT(parse_n("Content-Type: a/b\nX: a\0b\n\n", 26, 8192, 0), -1);
	CHECK_INT(parse_n("Content-Type: a/b\nX\0: ab\n\n", 26, 8192, 0), -1);
	CHECK_INT(parse("Content-Type: a/b\nX: a\033b\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nX: a\177b\n\n"), -1);
	/* HTAB and obs-text are allowed in values. */
	CHECK_INT(parse("Content-Type: a/b\nX: a\tb \xe2\x82\xac\n\n") > 0, 1);
	/* obs-fold. */
	CHECK_INT(parse("Content-Type: a/b\nX: a\n b\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nX: a\n\tb\n\n"), -1);
	CHECK_INT(parse(" Content-Type: a/b\n\n"), -1);
	/* Bad names. */
	CHECK_INT(parse("Content-Type: a/b\nNo colon here\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\n: empty\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nX(Y): z\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nX Y: z\n\n"), -1);
	/* An empty value is fine for other fields. */
	CHECK_INT(parse("Content-Type: a/b\nX-Empty:\n\n") > 0, 1);
	CHECK_STR(hv("X-Empty"), "");
}

static void
test_owned(void)
{
	const char *s;

	s = "Content-Type: a/b\n"
	    "Connection: close\n"
	    "Transfer-Encoding: chunked\n"
	    "Keep-Alive: timeout=5\n"
	    "Upgrade: websocket\n"
	    "TE: trailers\n"
	    "Trailer: X\n"
	    "Date: Thu, 01 Jan 1970 00:00:00 GMT\n"
	    "Server: evil/1.0\n"
	    "content-length: 42\n"
	    "Set-Cookie: a=1\n"
	    "Set-Cookie: b=2\n"
	    "Cache-Control: no-cache\n"
	    "\n";
	CHECK_INT(parse_keep(s, 0), (int)strlen(s));
	CHECK_INT(h.nheaders, 3);
	CHECK_INT(h.content_length, 42);
	CHECK(hv("Connection") == NULL);
	CHECK(hv("Transfer-Encoding") == NULL);
	CHECK(hv("Keep-Alive") == NULL);
	CHECK(hv("Upgrade") == NULL);
	CHECK(hv("TE") == NULL);
	CHECK(hv("Trailer") == NULL);
	CHECK(hv("Date") == NULL);
	CHECK(hv("Server") == NULL);
	CHECK(hv("Content-Length") == NULL);
	CHECK(hv("Content-Type") == NULL);
	CHECK_STR(cstr(h.headers[0].value), "a=1");
	CHECK_STR(cstr(h.headers[1].value), "b=2");
	CHECK_STR(hv("cache-control"), "no-cache");
	/* Names that merely start like an owned one are kept. */
	CHECK_INT(parse("Content-Type: a/b\nTEx: 1\nServer-Timing: a\n\n") > 0, 1);
	CHECK_INT(h.nheaders, 2);
	/* Owned fields are still checked. */
	CHECK_INT(parse("Content-Type: a/b\nDate: a\rb\n\n"), -1);
}

static void
test_content_length(void)
{
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: 0\n\n") > 0, 1);
	CHECK_INT(h.content_length, 0);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length:  9223372036854775807 \n\n") > 0, 1);
	CHECK_INT(h.content_length, INT64_MAX);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: 9223372036854775808\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: 99999999999999999999999\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: 12abc\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: -1\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: +1\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: 0x10\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: 5, 5\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: 1 2\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length:\n\n"), -1);
	CHECK_INT(parse("Content-Type: a/b\nContent-Length: 5\nContent-Length: 5\n\n"), -1);
}

static void
test_limits(void)
{
	char	buf[8192];
	size_t	n, i;
	int	r;

	/* CGI_MAX_HEADERS field lines in all, Content-Type included. */
	n = (size_t)snprintf(buf, sizeof(buf), "Content-Type: a/b\n");
	for (i = 1; i < CGI_MAX_HEADERS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-%zu: v\n", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n");
	CHECK_INT(parse_n(buf, n, 8192, 0), (int)n);
	CHECK_INT(h.nheaders, CGI_MAX_HEADERS - 1);
	/* One more is too many. */
	n -= 1;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-last: v\n\n");
	CHECK_INT(parse_n(buf, n, 8192, 0), -1);

	/* Incomplete: 0 while under max, -1 at max. */
	CHECK_INT(parse("Content-Type: a/b\n"), 0);
	CHECK_INT(parse("Content-Type: a/b\r\n\r"), 0);
	CHECK_INT(parse("Content-Ty"), 0);
	CHECK_INT(parse_n("", 0, 10, 0), 0);
	CHECK_INT(parse_n("", 0, 0, 0), -1);
	CHECK_INT(parse_n("Content-Type: a/b\n", 18, 18, 0), -1);
	CHECK_INT(parse_n("Content-Type: a/b\n", 18, 100, 0), 0);
	/* Exactly max long is fine; one byte more is not. */
	CHECK_INT(parse_n("Content-Type: a/b\n\n", 19, 19, 0), 19);
	CHECK_INT(parse_n("Content-Type: a/b\n\n", 19, 18, 0), -1);
	CHECK_INT(parse_n("Content-Type: a/b\r\n\r\n", 21, 20, 0), -1);
	/* A complete head within max, body beyond max: fine. */
	CHECK_INT(parse_n("Content-Type: a/b\n\nbody body body", 33, 20, 0), 19);
	/* A bad line is refused before the head is complete. */
	CHECK_INT(parse("Content-Type: a/b\nX: a\rb\nY: still"), -1);

	/* Fed byte by byte: 0 until the last byte, then the length. */
	{
		const char *s = "Status: 201 Created\r\nLocation: /x\r\n"
		    "Content-Type: text/plain\r\nX-A: b\r\n\r\n";
		size_t	len = strlen(s), ok = 1;

		for (i = 0; i < len; i++)
			if (parse_n(s, i, 8192, 0) != 0)
				ok = 0;
		CHECK_INT(ok, 1);
		r = parse_n(s, len, 8192, 0);
		CHECK_INT(r, (int)len);
		CHECK_INT(h.status, 201);
	}
}

static void
test_body_untouched(void)
{
	char	s[] = "Content-Type: a/b\r\nX: 1\r\n\r\n\r\nStatus: 500\r\n\r\nX";
	char	copy[sizeof(s)];
	int	r;

	memcpy(copy, s, sizeof(s));
	r = cgi_parse_head(s, sizeof(s) - 1, 8192, 0, &h);
	CHECK_INT(r, 27);
	CHECK_INT(h.status, 200);
	CHECK_INT(memcmp(s, copy, sizeof(s)), 0);
	CHECK_STR(s + r, "\r\nStatus: 500\r\n\r\nX");
	/* The values point into the buffer, not into a copy. */
	CHECK(h.content_type.p == s + 14);
	CHECK(h.headers[0].value.p == s + 22);
}

static void
test_nph(void)
{
	const char *s;

	s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\nhi";
	CHECK_INT(parse_keep(s, 1), (int)strlen(s) - 2);
	CHECK_INT(h.status, 200);
	CHECK_STR(cstr(h.content_type), "text/plain");
	CHECK_STR(hv("X-A"), "1");

	CHECK_INT(parse_nph("HTTP/1.0 404 Not Found\n\n"), 24);
	CHECK_INT(h.status, 404);
	CHECK_INT(parse_nph("HTTP/1.1 204\r\n\r\n"), 16);
	CHECK_INT(h.status, 204);
	CHECK_INT(parse_nph("HTTP/1.1 302 Found\nLocation: /x\n\n") > 0, 1);
	CHECK_INT(h.status, 302);
	CHECK_INT(h.local_redirect, 0);
	CHECK_INT(parse_nph("HTTP/1.1 200 OK\n"), 0);
	CHECK_INT(parse_nph("HTTP/1.1 2"), 0);

	CHECK_INT(parse_nph("HTTP/1.1 100 Continue\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/1.1 600 Nope\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/1.1 20 OK\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/1.1 2000 OK\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/1.1 200OK\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/1.1  200 OK\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/2 200 OK\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/1.2 200 OK\n\n"), -1);
	CHECK_INT(parse_nph("http/1.1 200 OK\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/1.1 200 O\rK\n\n"), -1);
	CHECK_INT(parse_nph("Status: 200\nContent-Type: a/b\n\n"), -1);
	CHECK_INT(parse_nph("\r\nHTTP/1.1 200 OK\r\n\r\n"), -1);
	/* The status line is the status: a Status field repeats it. */
	CHECK_INT(parse_nph("HTTP/1.1 200 OK\nStatus: 404\n\n"), -1);
	CHECK_INT(parse_nph("HTTP/1.1 200 OK\nX: a\rb\n\n"), -1);
	/* Owned fields are dropped here too. */
	CHECK_INT(parse_nph("HTTP/1.1 200 OK\nConnection: close\n"
	    "Transfer-Encoding: chunked\nX: y\n\n") > 0, 1);
	CHECK_INT(h.nheaders, 1);
	/* Not nph: the status line is not a field. */
	CHECK_INT(parse("HTTP/1.1 200 OK\nContent-Type: a/b\n\n"), -1);
}

int
main(void)
{
	test_status();
	test_location();
	test_content_type();
	test_line_endings();
	test_owned();
	test_content_length();
	test_limits();
	test_body_untouched();
	test_nph();
	free(copy);
	UNIT_DONE();
}
