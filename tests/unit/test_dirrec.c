/*
 * test_dirrec.c: the fleet directory's change and row records (dirrec.c):
 * what one side writes the other reads back the same, and every malformed
 * record — cut short, too long, a table past dirtab[], a wrong op or the
 * wrong rows for its op, a NUL in the JSON, a count that does not match —
 * refuses the whole buffer; a memfd that is not sealed is refused.
 */
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include "unit.h"
#include "dirrec.h"

#define NTAB	14

static const char OLD[] = "{\"name\":\"a\",\"uid\":10001}";
static const char NEW[] = "{\"name\":\"a\",\"uid\":10002}";

static struct dir_change
change(uint8_t tbl, uint8_t op, const char *o, const char *n)
{
	struct dir_change c = { tbl, op, o, o ? (uint32_t)strlen(o) : 0, n,
		n ? (uint32_t)strlen(n) : 0 };
	return c;
}

static void
test_changes_round_trip(void)
{
	struct dirbuf	  b = { 0 };
	struct dir_change c[3] = { change(0, DIRREC_INSERT, NULL, NEW),
		change(3, DIRREC_UPDATE, OLD, NEW), change(NTAB - 1, DIRREC_DELETE, OLD, NULL) };
	struct dir_change got;
	const char	 *why = NULL;
	size_t		  off = 0;
	int		  i;

	for (i = 0; i < 3; i++)
		CHECK_INT(dirrec_put_change(&b, &c[i], &why), 0);
	CHECK_INT(b.nrec, 3);
	CHECK_INT(dirrec_check_changes(b.p, b.len, 3, NTAB, &why), 0);
	for (i = 0; i < 3; i++) {
		CHECK_INT(dirrec_next_change(b.p, b.len, &off, NTAB, &got, &why), 1);
		CHECK_INT(got.tbl, c[i].tbl);
		CHECK_INT(got.op, c[i].op);
		CHECK_INT(got.oldlen, c[i].oldlen);
		CHECK_INT(got.newlen, c[i].newlen);
		CHECK(got.oldlen == 0 ? got.old == NULL : memcmp(got.old, c[i].old, got.oldlen) == 0);
		CHECK(got.newlen == 0 ? got.new == NULL : memcmp(got.new, c[i].new, got.newlen) == 0);
	}
	CHECK_INT(dirrec_next_change(b.p, b.len, &off, NTAB, &got, &why), 0);
	/* A count that does not match, and a table dirtab[] does not have */
	CHECK_INT(dirrec_check_changes(b.p, b.len, 2, NTAB, &why), -1);
	CHECK_STR(why, "not as many change records as the message says");
	CHECK_INT(dirrec_check_changes(b.p, b.len, 3, NTAB - 1, &why), -1);
	CHECK_STR(why, "a change to a table that is not replicated");
	/* Every cut short of the whole is refused */
	for (off = 1; off < b.len; off++) {
		size_t end = 10 + strlen(NEW), e2 = end + 10 + strlen(OLD) + strlen(NEW);

		if (off == end || off == e2)
			continue;	/* a cut between records is a shorter, valid buffer */
		CHECK_INT(dirrec_check_changes(b.p, off, 3, NTAB, &why), -1);
	}
	dirbuf_free(&b);
}

static void
test_changes_refused(void)
{
	struct dirbuf	  b = { 0 };
	struct dir_change c;
	const char	 *why;
	unsigned char	  raw[64];
	uint32_t	  big = DIRREC_JSON_MAX + 1, two = 2;
	size_t		  off = 0;

	c = change(0, DIRREC_INSERT, OLD, NEW);
	CHECK_INT(dirrec_put_change(&b, &c, &why), -1);
	c = change(0, DIRREC_UPDATE, NULL, NEW);
	CHECK_INT(dirrec_put_change(&b, &c, &why), -1);
	c = change(0, DIRREC_DELETE, OLD, NEW);
	CHECK_INT(dirrec_put_change(&b, &c, &why), -1);
	c = change(0, 7, OLD, NEW);
	CHECK_INT(dirrec_put_change(&b, &c, &why), -1);
	CHECK_STR(why, "an unknown operation");
	c = change(0, DIRREC_INSERT, NULL, NEW);
	c.newlen = sizeof(NEW);		/* with its NUL */
	CHECK_INT(dirrec_put_change(&b, &c, &why), -1);
	CHECK_STR(why, "a NUL byte in a row");
	CHECK_INT(b.len, 0);
	CHECK_INT(b.nrec, 0);

	/* by hand: a length past the end, an over-long one, a NUL inside */
	memset(raw, 'x', sizeof(raw));
	raw[0] = 1;
	raw[1] = DIRREC_INSERT;
	memset(raw + 2, 0, 4);
	memcpy(raw + 6, &big, 4);
	CHECK_INT(dirrec_next_change(raw, sizeof(raw), &off, NTAB, &c, &why), -1);
	memcpy(raw + 6, &two, 4);
	off = 0;
	CHECK_INT(dirrec_next_change(raw, 12, &off, NTAB, &c, &why), 1);
	CHECK_INT(off, 12);
	raw[11] = '\0';
	off = 0;
	CHECK_INT(dirrec_next_change(raw, 12, &off, NTAB, &c, &why), -1);
	CHECK_STR(why, "a NUL byte in a row");
	off = 0;
	CHECK_INT(dirrec_next_change(raw, 11, &off, NTAB, &c, &why), -1);
	CHECK_STR(why, "a change record longer than what is left");
	off = 0;
	CHECK_INT(dirrec_next_change(raw, 5, &off, NTAB, &c, &why), -1);
	CHECK_STR(why, "a change record cut short");
}

static void
test_rows(void)
{
	struct dirbuf	b = { 0 };
	struct dir_row	r = { 2, DIRREC_UPSERT, 77, NEW, (uint32_t)strlen(NEW) }, got;
	struct dir_row	d = { 2, DIRREC_DELETE, 78, "{\"name\":\"a\"}", 12 };
	struct dir_row	bad = { 2, DIRREC_UPDATE, 79, NEW, (uint32_t)strlen(NEW) };
	const char     *why;
	size_t		off = 0;

	CHECK_INT(dirrec_put_row(&b, &r, &why), 0);
	CHECK_INT(dirrec_put_row(&b, &d, &why), 0);
	CHECK_INT(dirrec_put_row(&b, &bad, &why), -1);	/* rows are upserts and deletes */
	CHECK_INT(dirrec_check_rows(b.p, b.len, 2, NTAB, &why), 0);
	CHECK_INT(dirrec_next_row(b.p, b.len, &off, NTAB, &got, &why), 1);
	CHECK_INT(got.rev, 77);
	CHECK_INT(got.len, strlen(NEW));
	CHECK(memcmp(got.json, NEW, got.len) == 0);
	CHECK_INT(dirrec_next_row(b.p, b.len, &off, NTAB, &got, &why), 1);
	CHECK_INT(got.op, DIRREC_DELETE);
	CHECK_INT(got.rev, 78);
	CHECK_INT(dirrec_next_row(b.p, b.len, &off, NTAB, &got, &why), 0);
	CHECK_INT(dirrec_check_rows(b.p, b.len, 2, 2, &why), -1);
	CHECK_STR(why, "a row of a table that is not replicated");
	CHECK_INT(dirrec_check_rows(b.p, b.len - 1, 2, NTAB, &why), -1);
	b.p[1] = 2;	/* op update, which rows do not have */
	CHECK_INT(dirrec_check_rows(b.p, b.len, 2, NTAB, &why), -1);
	CHECK_STR(why, "an unknown operation");
	dirbuf_free(&b);
}

static void
test_memfd(void)
{
	struct dirbuf	     b = { 0 };
	struct dir_change    c = change(0, DIRREC_INSERT, NULL, NEW);
	const unsigned char *p;
	const char	    *why;
	size_t		     len;
	int		     fd;

	CHECK_INT(dirrec_put_change(&b, &c, &why), 0);
	fd = dirbuf_seal(&b, "test");
	CHECK(fd >= 0);
	CHECK(write(fd, "x", 1) == -1);	/* sealed */
	CHECK_INT(dirrec_map(fd, &p, &len, &why), 0);
	CHECK_INT(len, b.len);
	CHECK(memcmp(p, b.p, len) == 0);
	CHECK_INT(dirrec_check_changes(p, len, 1, NTAB, &why), 0);
	dirrec_unmap(p, len);
	close(fd);
	/* an unsealed memfd: its writer could change it under the reader */
	fd = memfd_create("open", MFD_CLOEXEC);
	CHECK(write(fd, b.p, b.len) == (ssize_t)b.len);
	CHECK_INT(dirrec_map(fd, &p, &len, &why), -1);
	CHECK_STR(why, "the records' memfd is not sealed");
	close(fd);
	dirbuf_free(&b);
}

int
main(void)
{
	test_changes_round_trip();
	test_changes_refused();
	test_rows();
	test_memfd();
	UNIT_DONE();
}
