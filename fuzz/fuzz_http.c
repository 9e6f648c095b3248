/*
 * fuzz_http.c: libFuzzer target for http.c.
 *
 * Every input goes through each parser, and the results are checked against
 * invariants the rest of front relies on: pointers stay inside the head, a
 * normalised path cannot leave the root, the chunked decoder gives the same
 * answer however the bytes are split, and so on.  A broken invariant aborts.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

#include "fuzz.h"

static struct http_request req;

static void
check_str_in(struct http_str s, const char *base, size_t len)
{
	if (s.p == NULL) {
		REQUIRE(s.len == 0);
		return;
	}
	REQUIRE(s.p >= base && s.p <= base + len);
	REQUIRE(s.len <= (size_t)(base + len - s.p));
}

static void
check_normalized(const char *out, ssize_t n, size_t inlen)
{
	ssize_t i;
	int need = 0;

	REQUIRE(n > 0 && (size_t)n <= inlen);
	REQUIRE(out[0] == '/');
	REQUIRE((size_t)n == strlen(out));
	REQUIRE(strstr(out, "/../") == NULL);
	REQUIRE(strstr(out, "/./") == NULL);
	REQUIRE(strstr(out, "//") == NULL);
	REQUIRE(!(n >= 3 && memcmp(out + n - 3, "/..", 3) == 0));
	REQUIRE(!(n >= 2 && memcmp(out + n - 2, "/.", 2) == 0));
	REQUIRE(strchr(out, '\\') == NULL);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		REQUIRE(c >= 0x20 && c != 0x7f);
		/* Structure only; http.c checks the finer UTF-8 ranges. */
		if (need > 0) {
			REQUIRE((c & 0xc0) == 0x80);
			need--;
		} else if (c >= 0x80) {
			REQUIRE(c >= 0xc2 && c <= 0xf4);
			need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		}
	}
	REQUIRE(need == 0);
}

static void
fuzz_normalize(const char *p, size_t len)
{
	char out[512];
	ssize_t n;

	n = http_normalize_path(p, len, out, sizeof(out));
	if (n < 0)
		return;
	check_normalized(out, n, len);
	/* Without '%' (from %25) a second pass must change nothing. */
	if (memchr(out, '%', (size_t)n) == NULL) {
		char again[512];

		REQUIRE(http_normalize_path(out, (size_t)n, again,
		    sizeof(again)) == n);
		REQUIRE(memcmp(out, again, (size_t)n) == 0);
	}
}

static void
check_request(const char *buf, size_t len, const struct http_limits *l, int r)
{
	size_t i;

	REQUIRE((size_t)r <= len && (size_t)r <= l->max_head);
	REQUIRE(req.nheaders <= l->max_headers);
	REQUIRE(req.method_str.p != NULL && req.method_str.len > 0);
	REQUIRE(req.target.p != NULL && req.target.len > 0);
	REQUIRE(req.version_minor == 0 || req.version_minor == 1);
	REQUIRE(req.content_length >= -1);
	REQUIRE(!(req.chunked && req.content_length != -1));
	REQUIRE(!(req.chunked && req.version_minor == 0));
	REQUIRE(req.keep_alive == 0 || req.keep_alive == 1);
	REQUIRE(req.version_minor == 0 || req.host.p != NULL);
	REQUIRE(req.method == HTTP_M_CONNECT || req.path.p != NULL);
	REQUIRE(memchr(req.target.p, '#', req.target.len) == NULL);
	check_str_in(req.method_str, buf, (size_t)r);
	check_str_in(req.target, buf, (size_t)r);
	check_str_in(req.path, buf, (size_t)r);
	check_str_in(req.query, buf, (size_t)r);
	check_str_in(req.host, buf, (size_t)r);
	check_str_in(req.if_none_match, buf, (size_t)r);
	check_str_in(req.range, buf, (size_t)r);
	if (req.path.p != NULL)
		REQUIRE(memchr(req.path.p, '?', req.path.len) == NULL);
	for (i = 0; i < req.nheaders; i++) {
		const struct http_header *h = &req.headers[i];

		REQUIRE(h->name.len > 0);
		check_str_in(h->name, buf, (size_t)r);
		check_str_in(h->value, buf, (size_t)r);
		REQUIRE(http_valid_field_value(h->value.p, h->value.len));
		REQUIRE(memchr(h->name.p, ':', h->name.len) == NULL);
		REQUIRE(http_header_get(&req, "x") == NULL ||
		    http_header_get(&req, "x")->name.len == 1);
	}
	if (req.path.p != NULL && req.path.len > 0 && req.path.p[0] == '/')
		fuzz_normalize(req.path.p, req.path.len);
}

static void
fuzz_head(const char *buf, size_t len, const struct http_limits *l)
{
	int r, r2;

	r = http_parse_head(buf, len, l, &req);
	REQUIRE(r >= 0 || r == -400 || r == -414 || r == -417 || r == -431 ||
	    r == -501 || r == -505);
	if (r <= 0)
		return;
	check_request(buf, len, l, r);
	/* A head is self-delimiting: the bytes after it do not matter ... */
	r2 = http_parse_head(buf, (size_t)r, l, &req);
	REQUIRE(r2 == r);
	/* ... and every prefix of it is merely incomplete. */
	REQUIRE(http_parse_head(buf, (size_t)r - 1, l, &req) == 0);
	REQUIRE(http_parse_head(buf, (size_t)r / 2, l, &req) == 0);
}

/*
 * Decode the whole input at once, then again in pieces of `step`; the two
 * must agree on the decoded bytes, the bytes consumed and the outcome.
 */
static void
fuzz_chunked(const uint8_t *data, size_t len, size_t step)
{
	struct http_chunked a, b;
	char *one, *pieces, *out;
	size_t got, outa, outb = 0, have = 0, pos = 0, n;
	ssize_t ra, rb = 0;
	int failed_b = 0;

	one = malloc(len + 1);
	pieces = malloc(len + 1);
	out = malloc(len + 1);
	if (one == NULL || pieces == NULL || out == NULL)
		abort();
	memcpy(one, data, len);

	http_chunked_init(&a);
	ra = http_chunked_decode(&a, one, len, &outa);
	REQUIRE(ra == -1 || (size_t)ra <= len);
	if (ra >= 0) {
		REQUIRE(outa <= (size_t)ra);
		REQUIRE(a.done || (size_t)ra == len);
	}

	http_chunked_init(&b);
	while (pos < len && !b.done) {
		n = len - pos < step ? len - pos : step;
		memcpy(pieces + have, data + pos, n);
		pos += n;
		have += n;
		rb = http_chunked_decode(&b, pieces, have, &got);
		if (rb < 0) {
			failed_b = 1;
			break;
		}
		REQUIRE((size_t)rb <= have && got <= (size_t)rb);
		memcpy(out + outb, pieces, got);
		outb += got;
		memmove(pieces, pieces + rb, have - (size_t)rb);
		have -= (size_t)rb;
	}

	REQUIRE((ra == -1) == failed_b);
	if (ra >= 0) {
		REQUIRE(a.done == b.done);
		REQUIRE(outa == outb);
		REQUIRE(memcmp(one, out, outa) == 0);
		REQUIRE((size_t)ra == pos - have);
	}
	free(one);
	free(pieces);
	free(out);
}

static void
fuzz_range(const char *p, size_t len, off_t size)
{
	off_t off = -1, cnt = -1;
	int r;

	r = http_parse_range(p, len, size, &off, &cnt);
	REQUIRE(r >= -1 && r <= 1);
	if (r == 1) {
		REQUIRE(off >= 0 && cnt >= 1);
		REQUIRE(off < size && cnt <= size - off);
	}
}

static void
fuzz_date(const char *p, size_t len)
{
	char d[30];
	time_t t;

	t = http_parse_date(p, len);
	if (t == -1)
		return;
	REQUIRE(t >= 0);
	http_format_date(t, d);
	REQUIRE(strlen(d) == 29);
	REQUIRE(http_parse_date(d, 29) == t);
}

static void
fuzz_encode(const char *p, size_t len)
{
	char *s, out[256];
	ssize_t n, i;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	n = http_encode_path(s, out, sizeof(out));
	if (n >= 0) {
		REQUIRE((size_t)n == strlen(out));
		for (i = 0; i < n; i++)
			REQUIRE(out[i] > 0x20 && out[i] < 0x7f &&
			    strchr("\"<>\\^`{|}?# ", out[i]) == NULL);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits small = { 48, 160, 4 };
	static const struct http_limits big = { 8192, 16384, 100 };
	const char *p = (const char *)data;
	uint64_t fsize = 0;
	size_t i;

	fuzz_head(p, size, &small);
	fuzz_head(p, size, &big);
	fuzz_chunked(data, size, 1);
	fuzz_chunked(data, size, size > 0 ? (size_t)data[0] % 7 + 2 : 1);
	fuzz_normalize(p, size);
	fuzz_range(p, size, 0);
	fuzz_range(p, size, 1000);
	for (i = 0; i < size && i < 8; i++)
		fsize = fsize << 8 | data[i];
	fuzz_range(p, size, (off_t)(fsize & INT64_MAX));
	fuzz_date(p, size);
	fuzz_encode(p, size);
	/* The word-at-a-time scanner against the plain definition. */
	{
		int ok = 1;

		for (i = 0; i < size; i++)
			if (data[i] != '\t' && (data[i] < 0x20 || data[i] == 0x7f))
				ok = 0;
		REQUIRE(http_valid_field_value(p, size) == ok);
	}
	return 0;
}
