/*
 * fuzz_h2req.c: libFuzzer target for h2req.c, the HTTP/2 → HTTP/1.1
 * downgrade of a request's fields.
 *
 * Input: a flags byte, then fields, each "name 0xff value" and separated
 * by 0xfe (bytes h2req treats as any other 0x80+ byte).  Flags: bit 0 the
 * HEADERS end the stream; bit 1 the usual pseudo-headers come first (so
 * that the fuzzer spends its time on regular fields); bit 2 a small limit.
 *
 * Checked (h2req_check.h), for every head h2req lets out: it is one
 * HTTP/1.1 head that http_parse_head() reads whole as what h2req meant,
 * with one Host and no framing but h2req's own; the chunk framing h2req
 * writes round DATA decodes back to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2req.h"

#include "fuzz.h"
#include "h2req_check.h"

#define SEP_FIELD	0xfe
#define SEP_VALUE	0xff

/* Feed one "name 0xff value" record. */
static int
feed(struct h2req *r, const uint8_t *p, size_t n)
{
	const uint8_t	*sep = memchr(p, SEP_VALUE, n);

	if (sep == NULL)
		return h2req_field(r, p, n, p + n, 0);
	return h2req_field(r, p, sep - p, sep + 1, n - (sep - p) - 1);
}

static int
feed_usual(struct h2req *r)
{
	static const char *const f[][2] = {
		{ ":method", "POST" }, { ":scheme", "https" }, { ":authority", "a.test" },
		{ ":path", "/x" },
	};
	size_t	i;

	for (i = 0; i < 4; i++)
		if (h2req_field(r, (const uint8_t *)f[i][0], strlen(f[i][0]),
		    (const uint8_t *)f[i][1], strlen(f[i][1])) != 0)
			return -1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h2req	 r;
	const uint8_t	*p, *end, *q;
	int		 flags, rc = 0;

	if (size == 0)
		return 0;
	flags = data[0];
	h2req_init(&r, (flags & 4) ? 256 : 16384);
	if ((flags & 2) && feed_usual(&r) != 0)
		abort();
	for (p = data + 1, end = data + size; p < end && rc == 0; p = q + 1) {
		if ((q = memchr(p, SEP_FIELD, end - p)) == NULL)
			q = end;
		rc = feed(&r, p, q - p);
		REQUIRE(rc == 0 || rc == -1);
		REQUIRE(r.fields.len <= r.limit + 64);
	}
	if (rc == 0 && h2req_finish(&r, flags & 1) == 0) {
		if (r.status == 0)
			check_head(&r, flags & 1, data, size);
		else
			REQUIRE(r.head == NULL && !r.chunked && r.status >= 400 && r.status < 600);
	}
	h2req_free(&r);
	return 0;
}
