/*
 * h2req_check.h: what fuzz_h2req and fuzz_h2frames check of every head
 * h2req lets out, and of the chunk framing it puts round DATA.
 *
 * One HTTP/1.1 head and no more (CRLF line ends only, its one empty line
 * at its end, NUL-free, within the limit), which http_parse_head() reads
 * whole (or refuses with a status, never asks more bytes of: the DATA
 * would become head) as the same method, target, Host, Content-Length and
 * framing h2req meant, with exactly one Host line, no Transfer-Encoding
 * unless h2req chunked the body, no Connection.
 */
#ifndef H2REQ_CHECK_H
#define H2REQ_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2req.h"
#include "http.h"

#include "fuzz.h"

static struct http_request	req;

static int
buf_eq(struct http_str s, const struct h2req_buf *b)
{
	return s.p != NULL && s.len == b->len && (b->len == 0 || memcmp(s.p, b->p, b->len) == 0);
}

static size_t
count_header(const char *name)
{
	size_t	i, n = 0;

	for (i = 0; i < req.nheaders; i++)
		if (http_str_eq(req.headers[i].name, name))
			n++;
	return n;
}

/* One head, its framing: CRLF line ends only, one empty line, at the end. */
static void
check_framing(const struct h2req *r)
{
	size_t	i;

	REQUIRE(r->head != NULL && r->len >= 4 && r->len <= r->limit);
	REQUIRE(r->head[r->len] == '\0');
	REQUIRE(memchr(r->head, '\0', r->len) == NULL);
	REQUIRE(memcmp(r->head + r->len - 4, "\r\n\r\n", 4) == 0);
	for (i = 0; i < r->len; i++) {
		if (r->head[i] == '\r')
			REQUIRE(i + 1 < r->len && r->head[i + 1] == '\n');
		if (r->head[i] == '\n')
			REQUIRE(i > 0 && r->head[i - 1] == '\r');
	}
	REQUIRE(memmem(r->head, r->len, "\r\n\r\n", 4) == r->head + r->len - 4);
}

/* What http.c read is what h2req meant. */
static void
check_same(const struct h2req *r, int end_stream)
{
	/* :authority, when given (h2req answers 400 to an empty one), else host. */
	const struct h2req_buf *host = r->authority.len > 0 ? &r->authority : &r->host;

	REQUIRE(buf_eq(req.method_str, &r->method));
	REQUIRE(buf_eq(req.target, &r->path));
	REQUIRE(buf_eq(req.host, host));
	REQUIRE(count_header("host") == 1);
	REQUIRE(count_header("connection") == 0);
	REQUIRE(count_header("content-length") == (r->content_length >= 0));
	REQUIRE(count_header("cookie") <= 1);
	REQUIRE(req.content_length == r->content_length);
	REQUIRE(req.chunked == r->chunked);
	REQUIRE(count_header("transfer-encoding") == (size_t)r->chunked);
	REQUIRE(req.version_minor == 1);
	if (r->chunked)
		REQUIRE(!end_stream && r->content_length == -1);
	if (r->cookie.len > 0)
		REQUIRE(http_header_get(&req, "cookie") != NULL &&
		    buf_eq(http_header_get(&req, "cookie")->value, &r->cookie));
}

/* DATA of the sizes sz[], framed by h2req, read back by http.c's decoder. */
static void
check_chunks(const struct h2req *r, const uint8_t *sz, size_t nsz)
{
	struct http_chunked	 ch;
	char			*buf, *want, out[32];
	size_t			 i, j, n = 0, w = 0, k, got;
	int			 first = 1;

	if ((buf = malloc(nsz * (256 + 32) + 16)) == NULL ||
	    (want = malloc(nsz * 256 + 1)) == NULL)
		abort();
	for (i = 0; i < nsz; i++) {
		k = h2req_chunk_head(r, first, sz[i], out);
		REQUIRE(sz[i] == 0 ? k == 0 : k > 0 && k < 32);
		if (sz[i] == 0)
			continue;	/* an empty DATA frame frames nothing */
		memcpy(buf + n, out, k);
		n += k;
		for (j = 0; j < sz[i]; j++)
			buf[n++] = want[w++] = (char)(i + j);
		first = 0;
	}
	k = h2req_chunk_end(first, out);
	memcpy(buf + n, out, k);
	n += k;
	http_chunked_init(&ch);
	REQUIRE(http_chunked_decode(&ch, buf, n, &got) == (ssize_t)n);
	REQUIRE(ch.done && got == w && memcmp(buf, want, w) == 0);
	free(buf);
	free(want);
}

/* A head h2req let out (r->status 0), checked; chunk sizes from data. */
static void
check_head(const struct h2req *r, int end_stream, const uint8_t *data, size_t size)
{
	struct http_limits	limits = { r->limit, r->limit, HTTP_MAX_HEADERS_HARD };
	int			p;

	check_framing(r);
	p = http_parse_head(r->head, r->len, &limits, &req);
	/* Never "more bytes please": DATA would be read as the head. */
	REQUIRE(p == (int)r->len || p == -400 || p == -417 || p == -431);
	if (p == (int)r->len)
		check_same(r, end_stream);
	if (r->chunked)
		check_chunks(r, data, size < 8 ? size : 8);
}

#endif
