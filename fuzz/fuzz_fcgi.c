/*
 * fuzz_fcgi.c: libFuzzer target for the FastCGI reader in fcgi.c.
 *
 * The input is what a locker's FastCGI process might send, for request id
 * 1.  Its first byte says how many of the following bytes (1 to 16) are
 * piece sizes; the rest is the stream, fed to a reader in pieces of those
 * sizes in turn (0: an empty call, then 1 byte), each a heap copy of exactly its size so that
 * a read past len is an ASan report.  Checked: used <= len, data inside the
 * piece, progress on every non-empty call, an error is sticky, nothing but
 * an error after END, and the result does not depend on how the bytes
 * arrived (compared with a one-shot decode).  A broken invariant aborts.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

#include "fuzz.h"

#define ID	1

struct result {
	unsigned char	*out, *err;
	size_t		 outlen, errlen;
	int		 ended, failed;
	uint32_t	 app_status;
};

/* One call, with the invariants of a single call checked. */
static enum fcgi_event
step(struct fcgi_reader *r, const unsigned char *p, size_t len, size_t *used,
    struct result *res)
{
	const unsigned char	*d;
	size_t			 dlen;
	enum fcgi_event		 ev;
	int			 was_error = res->failed, was_ended = res->ended;

	ev = fcgi_read(r, p, len, used, &d, &dlen);
	REQUIRE(*used <= len);
	REQUIRE(len == 0 || *used > 0 || ev != FCGI_EV_MORE);
	if (was_error)
		REQUIRE(ev == FCGI_EV_ERROR && *used == 0);
	if (was_ended && len > 0)
		REQUIRE(ev == FCGI_EV_ERROR);
	switch (ev) {
	case FCGI_EV_MORE:
		REQUIRE(*used == len);
		break;
	case FCGI_EV_STDOUT:
	case FCGI_EV_STDERR:
		REQUIRE(dlen > 0 && d >= p && d + dlen <= p + *used);
		if (ev == FCGI_EV_STDOUT) {
			memcpy(res->out + res->outlen, d, dlen);
			res->outlen += dlen;
		} else {
			memcpy(res->err + res->errlen, d, dlen);
			res->errlen += dlen;
		}
		break;
	case FCGI_EV_END:
		REQUIRE(!was_ended && r->ended);
		res->ended = 1;
		res->app_status = r->app_status;
		break;
	case FCGI_EV_ERROR:
		res->failed = 1;
		break;
	default:
		REQUIRE(0);
	}
	return ev;
}

/* Feed all of p[0..len) (the events allowing), checking each call. */
static void
feed(struct fcgi_reader *r, const unsigned char *p, size_t len,
    struct result *res)
{
	size_t	pos = 0, used;

	do {
		if (step(r, p + pos, len - pos, &used, res) == FCGI_EV_ERROR)
			return;
		pos += used;
	} while (pos < len);
}

static void
result_init(struct result *res, size_t size)
{
	memset(res, 0, sizeof(*res));
	/* Output can never exceed the input it came from. */
	if ((res->out = malloc(size + 1)) == NULL ||
	    (res->err = malloc(size + 1)) == NULL)
		abort();
}

static void
result_free(struct result *res)
{
	free(res->out);
	free(res->err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcgi_reader	 r1, rn;
	struct result		 one, many;
	const uint8_t		*sizes, *s;
	unsigned char		*piece;
	size_t			 nsizes, len, off, i, plen, used;

	if (size < 2)
		return 0;
	nsizes = data[0] % 16 + 1;
	if (size < 1 + nsizes)
		return 0;
	sizes = data + 1;
	s = data + 1 + nsizes;
	len = size - 1 - nsizes;

	result_init(&one, len);
	fcgi_reader_init(&r1, ID);
	feed(&r1, s, len, &one);

	result_init(&many, len);
	fcgi_reader_init(&rn, ID);
	for (off = 0, i = 0; off < len && !many.failed; i++) {
		plen = sizes[i % nsizes];
		if (plen == 0) {
			/* An empty call, then a byte: the loop must advance. */
			feed(&rn, s, 0, &many);
			plen = 1;
		}
		if (plen > len - off)
			plen = len - off;
		if ((piece = malloc(plen ? plen : 1)) == NULL)
			abort();
		memcpy(piece, s + off, plen);
		feed(&rn, piece, plen, &many);
		free(piece);
		off += plen;
	}
	/* An error sticks, and an empty call changes nothing. */
	if (many.failed) {
		REQUIRE(step(&rn, s, len, &used, &many) == FCGI_EV_ERROR);
		REQUIRE(step(&rn, s, 0, &used, &many) == FCGI_EV_ERROR);
	} else
		REQUIRE(step(&rn, s, 0, &used, &many) == FCGI_EV_MORE);

	REQUIRE(one.failed == many.failed);
	REQUIRE(one.ended == many.ended);
	REQUIRE(one.app_status == many.app_status);
	REQUIRE(one.outlen == many.outlen);
	REQUIRE(memcmp(one.out, many.out, one.outlen) == 0);
	REQUIRE(one.errlen == many.errlen);
	REQUIRE(memcmp(one.err, many.err, one.errlen) == 0);
	REQUIRE(one.outlen + one.errlen <= len);
	result_free(&one);
	result_free(&many);
	return 0;
}
