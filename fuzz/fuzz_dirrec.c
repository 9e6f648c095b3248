/*
 * fuzz_dirrec.c: libFuzzer target for the fleet directory's records
 * (dirrec.c): the master reads row records that every node of the fleet
 * wrote into PostgreSQL, and dirsync reads the master's change records.
 *
 * The first byte picks the reader, the rest is its input, in a heap copy of
 * exactly its size.  Checked: every record accepted lies inside the input,
 * has a table below ntab, an op its kind allows and the rows that op
 * implies, and JSON without NUL; writing the accepted records again gives
 * the same bytes; the whole-buffer check agrees with the walk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dirrec.h"
#include "fuzz.h"

#define NTAB	14

static int
inside(const unsigned char *p, size_t len, const char *j, uint32_t n)
{
	return (const unsigned char *)j >= p && (const unsigned char *)j + n <= p + len;
}

static void
changes(const unsigned char *p, size_t len)
{
	struct dirbuf	  again = { 0 };
	struct dir_change c;
	const char	 *why;
	size_t		  off = 0;
	uint32_t	  n = 0;
	int		  rc;

	while ((rc = dirrec_next_change(p, len, &off, NTAB, &c, &why)) == 1) {
		REQUIRE(c.tbl < NTAB && off <= len);
		REQUIRE(c.op >= 1 && c.op <= 3);
		REQUIRE((c.oldlen == 0) == (c.op == DIRREC_INSERT));
		REQUIRE((c.newlen == 0) == (c.op == DIRREC_DELETE));
		REQUIRE(c.old == NULL || (inside(p, len, c.old, c.oldlen) &&
		    memchr(c.old, 0, c.oldlen) == NULL));
		REQUIRE(c.new == NULL || (inside(p, len, c.new, c.newlen) &&
		    memchr(c.new, 0, c.newlen) == NULL));
		REQUIRE(dirrec_put_change(&again, &c, &why) == 0);
		n++;
	}
	REQUIRE(rc == 0 || rc == -1);
	if (rc == 0) {
		REQUIRE(again.len == len && (len == 0 || memcmp(again.p, p, len) == 0));
		REQUIRE(dirrec_check_changes(p, len, n, NTAB, &why) == 0);
	} else
		REQUIRE(dirrec_check_changes(p, len, n, NTAB, &why) == -1);
	dirbuf_free(&again);
}

static void
rows(const unsigned char *p, size_t len)
{
	struct dirbuf	again = { 0 };
	struct dir_row	r;
	const char     *why;
	size_t		off = 0;
	uint32_t	n = 0;
	int		rc;

	while ((rc = dirrec_next_row(p, len, &off, NTAB, &r, &why)) == 1) {
		REQUIRE(r.tbl < NTAB && off <= len);
		REQUIRE(r.op == DIRREC_UPSERT || r.op == DIRREC_DELETE);
		REQUIRE(r.len > 0 && inside(p, len, r.json, r.len) &&
		    memchr(r.json, 0, r.len) == NULL);
		REQUIRE(dirrec_put_row(&again, &r, &why) == 0);
		n++;
	}
	REQUIRE(rc == 0 || rc == -1);
	if (rc == 0)
		REQUIRE(again.len == len && (len == 0 || memcmp(again.p, p, len) == 0));
	REQUIRE(dirrec_check_rows(p, len, n, NTAB, &why) == (rc == 0 ? 0 : -1));
	dirbuf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;

	if (size < 1)
		return 0;
	if ((copy = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		rows(copy, size - 1);
	else
		changes(copy, size - 1);
	free(copy);
	return 0;
}
