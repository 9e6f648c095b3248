/*
 * fuzz_cgi.c: libFuzzer target for cgi.c.
 *
 * The first input byte chooses nph (bit 0) and the head limit (the rest);
 * the remaining bytes are what a script printed.  The result is checked
 * against what front relies on when it passes a script's head on: nothing
 * points outside the head, no value can split a header, the status is one
 * front may send, and the answer does not depend on how the bytes arrived.
 * A broken invariant aborts.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "cookie.h"

#include "fuzz.h"

static struct cgi_head	h;

static const char *const not_listed[] = {
	"Status", "Location", "Content-Type", "Content-Length",
	"Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade", "TE",
	"Trailer", "Date", "Server",
};

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
check_value(struct http_str v)
{
	REQUIRE(memchr(v.p, '\r', v.len) == NULL);
	REQUIRE(memchr(v.p, '\n', v.len) == NULL);
	REQUIRE(memchr(v.p, '\0', v.len) == NULL);
	REQUIRE(http_valid_field_value(v.p, v.len));
}

/*
 * front strips a script's Set-Cookie of Domain attributes in place: the
 * result is never longer, is still a valid field value, and stripping it
 * again removes nothing (no attribute appears by the removal of another).
 */
static void
check_cookie(struct http_str v)
{
	static const char *const owns[] = { "alice.test.example", NULL };
	char	*b;
	size_t	 i, n, n2;
	int	 removed;

	for (i = 0; i < 2; i++) {
		if ((b = malloc(v.len ? v.len : 1)) == NULL)
			abort();
		memcpy(b, v.p, v.len);
		n = cookie_strip_domain(b, v.len, owns[i], b, &removed);
		REQUIRE(n <= v.len && (removed > 0 || n == v.len));
		REQUIRE(http_valid_field_value(b, n));
		n2 = cookie_strip_domain(b, n, owns[i], b, &removed);
		REQUIRE(n2 == n && removed == 0);
		free(b);
	}
}

static void
check_head(const char *buf, size_t r, int nph)
{
	size_t	i, j;

	REQUIRE(h.nheaders <= CGI_MAX_HEADERS);
	REQUIRE(h.content_length >= -1);
	REQUIRE(buf[r - 1] == '\n');
	if (h.local_redirect) {
		REQUIRE(!nph && h.status == 0);
		REQUIRE(h.location.p != NULL && h.location.p[0] == '/');
	} else
		REQUIRE(h.status >= 200 && h.status <= 599);
	REQUIRE(nph || h.status != 0 || h.location.p != NULL);
	check_str_in(h.location, buf, r);
	check_str_in(h.content_type, buf, r);
	if (h.location.p != NULL) {
		REQUIRE(h.location.len > 0);
		check_value(h.location);
	}
	if (h.content_type.p != NULL) {
		REQUIRE(h.content_type.len > 0);
		check_value(h.content_type);
	}
	for (i = 0; i < h.nheaders; i++) {
		const struct http_header *f = &h.headers[i];

		REQUIRE(f->name.p != NULL && f->name.len > 0);
		REQUIRE(f->value.p != NULL);
		check_str_in(f->name, buf, r);
		check_str_in(f->value, buf, r);
		check_value(f->name);
		check_value(f->value);
		REQUIRE(memchr(f->name.p, ':', f->name.len) == NULL);
		REQUIRE(memchr(f->name.p, ' ', f->name.len) == NULL);
		REQUIRE(f->value.len == 0 || (f->value.p[0] != ' ' &&
		    f->value.p[f->value.len - 1] != ' '));
		for (j = 0; j < sizeof(not_listed) / sizeof(not_listed[0]); j++)
			REQUIRE(!http_str_eq(f->name, not_listed[j]));
		check_cookie(f->value);
	}
}

/* Parse from a heap copy of exactly n bytes: an over-read is an ASan report. */
static int
parse_copy(const uint8_t *data, size_t n, size_t max, int nph)
{
	char	*b;
	int	 r;

	if ((b = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(b, data, n);
	r = cgi_parse_head(b, n, max, nph, &h);
	free(b);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = { 0, 1, 16, 64, 256, 1024, 8192, SIZE_MAX };
	const char	*buf;
	size_t		 len, max;
	int		 nph, r;

	if (size == 0)
		return 0;
	nph = data[0] & 1;
	max = maxes[(data[0] >> 1) % (sizeof(maxes) / sizeof(maxes[0]))];
	buf = (const char *)data + 1;
	len = size - 1;

	r = cgi_parse_head(buf, len, max, nph, &h);
	REQUIRE(r >= -1);
	if (r == 0) {
		REQUIRE(len < max);
		return 0;
	}
	if (r == -1)
		return 0;
	REQUIRE((size_t)r <= len && (size_t)r <= max);
	check_head(buf, (size_t)r, nph);

	/* The head is self-delimiting: the bytes after it do not matter ... */
	REQUIRE(parse_copy(data + 1, (size_t)r, max, nph) == r);
	/* ... a larger limit changes nothing ... */
	REQUIRE(cgi_parse_head(buf, len, SIZE_MAX, nph, &h) == r);
	check_head(buf, (size_t)r, nph);
	/* ... and every proper prefix of it is merely incomplete. */
	REQUIRE(parse_copy(data + 1, (size_t)r - 1, max, nph) == 0);
	REQUIRE(parse_copy(data + 1, (size_t)r / 2, max, nph) == 0);
	return 0;
}
