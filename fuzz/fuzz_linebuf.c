/*
 * fuzz_linebuf.c: libFuzzer target for linebuf.c, which cuts what a
 * locker's programs write to stderr (a script's pipe, PHP's STDERR
 * records) into log lines.
 *
 * The input's first byte says how many following bytes (1 to 8) are piece
 * sizes; the rest is the stream, fed in pieces of those sizes in turn, each
 * a heap copy of exactly its size (a read past it is an ASan report),
 * alternately with linebuf_feed and linebuf_feed_runs on two buffers.
 * Checked: no line longer than the limit, no newline inside a line (but
 * inside a run), and nothing lost or added: the lines joined with newlines
 * give back the stream (a piece cut from a long line has no newline after
 * it, so those are joined without one).  A broken invariant aborts.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"

#include "fuzz.h"

struct out {
	unsigned char	*buf;
	size_t		 len, cap;
	int		 runs;
	size_t		 full;	/* lines of exactly LOG_LINE_MAX: a newline after them or not */
};

static void
add(struct out *o, const void *p, size_t len)
{
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2 + 64;
		o->buf = realloc(o->buf, o->cap);
		REQUIRE(o->buf != NULL);
	}
	memcpy(o->buf + o->len, p, len);
	o->len += len;
}

static void
line(void *arg, const char *p, size_t len)
{
	struct out *o = arg;

	REQUIRE(len <= (o->runs ? LOG_RUN_MAX : LOG_LINE_MAX));
	if (!o->runs)
		REQUIRE(memchr(p, '\n', len) == NULL);
	add(o, p, len);
	/* A full-size piece of a longer line had no newline after it. */
	if (len == LOG_LINE_MAX && !o->runs)
		o->full++;
	else
		add(o, "\n", 1);
}

/*
 * What the lines must give back: the stream's bytes, in order, and its
 * newlines (one more may end the last line; a full-size line may or may
 * not have had one after it).
 */
static int
same(const struct out *o, const uint8_t *s, size_t len)
{
	size_t	i, j = 0, nl_o = 0, nl_s = 0;

	for (i = 0; i < o->len; i++) {
		if (o->buf[i] == '\n') {
			nl_o++;
			continue;
		}
		while (j < len && s[j] == '\n') {
			j++;
			nl_s++;
		}
		if (j >= len || s[j] != o->buf[i])
			return 0;
		j++;
	}
	for (; j < len; j++)
		if (s[j] == '\n')
			nl_s++;
		else
			return 0;
	return nl_o <= nl_s + 1 && nl_s <= nl_o + o->full;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linebuf	 lb[2] = { { NULL, 0 }, { NULL, 0 } };
	struct out	 o[2] = { { NULL, 0, 0, 0, 0 }, { NULL, 0, 0, 1, 0 } };
	size_t		 nsz, off, k, i;
	const uint8_t	*sz;

	if (size < 2)
		return 0;
	nsz = (size_t)(data[0] % 8) + 1;
	if (size < 1 + nsz)
		return 0;
	sz = data + 1;
	off = 1 + nsz;
	for (i = 0; off < size; i++) {
		unsigned char	*piece;

		k = (size_t)sz[i % nsz] * 97 + 1;
		k = k < size - off ? k : size - off;
		piece = malloc(k);
		REQUIRE(piece != NULL);
		memcpy(piece, data + off, k);
		linebuf_feed(&lb[0], (const char *)piece, k, line, &o[0]);
		linebuf_feed_runs(&lb[1], (const char *)piece, k, line, &o[1]);
		free(piece);
		off += k;
	}
	linebuf_flush(&lb[0], line, &o[0]);
	linebuf_flush(&lb[1], line, &o[1]);
	REQUIRE(lb[0].buf == NULL && lb[1].buf == NULL);
	for (i = 0; i < 2; i++) {
		REQUIRE(same(&o[i], data + 1 + nsz, size - 1 - nsz));
		free(o[i].buf);
	}
	return 0;
}
