/*
 * dirsync_feed.c: what PostgreSQL changed, as row records for the master
 * (dirsync_int.h).  The feed's one statement (dirpg_feed_query) gives
 * rows (pruned_rev, _rev, table, op, json) in _rev order; each becomes a
 * row record naming its table by dirtab[] index.  A table this lockerd does
 * not replicate (a newer node's) is refused rather than skipped: its rows
 * would be lost to this node for good once its revision was passed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirtab.h"
#include "dirsync_int.h"

static int
u64(const char *s, uint64_t *v)
{
	char			*end;
	unsigned long long	 n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

int
dirsync_feed_rows(PGresult *r, uint64_t from_rev, int full, struct feed_out *o,
    char *why, size_t whylen)
{
	struct dir_row	 row;
	const char	*bad;
	uint64_t	 rev;
	int		 i, n = PQntuples(r), idx, got = 0;

	memset(o, 0, sizeof(*o));
	o->to_rev = full ? 0 : from_rev;
	if (n < 1 || PQnfields(r) != 5 || u64(PQgetvalue(r, 0, 0), &o->pruned) == -1) {
		snprintf(why, whylen, "the feed's answer is not as asked");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (PQgetisnull(r, i, 1))
			continue;	/* dir_meta alone: nothing new */
		if (u64(PQgetvalue(r, i, 1), &rev) == -1)
			goto bad;
		if (rev > o->to_rev)
			o->to_rev = rev;
		if (strcmp(PQgetvalue(r, i, 3), "0") == 0)
			continue;	/* a full copy's last tombstone: its revision only */
		if ((idx = dirtab_index(PQgetvalue(r, i, 2))) < 0) {
			snprintf(why, whylen, "PostgreSQL has changes to a table this lockerd does "
			    "not know (%.64s): upgrade it", PQgetvalue(r, i, 2));
			dirbuf_free(&o->buf);
			return -1;
		}
		row.tbl = (uint8_t)idx;
		row.op = strcmp(PQgetvalue(r, i, 3), "3") == 0 ? DIRREC_DELETE : DIRREC_UPSERT;
		row.rev = rev;
		row.json = PQgetvalue(r, i, 4);
		row.len = (uint32_t)PQgetlength(r, i, 4);
		if (dirrec_put_row(&o->buf, &row, &bad) == -1) {
			snprintf(why, whylen, "a row of %s (revision %" PRIu64 "): %s",
			    dirtab[idx].name, rev, bad);
			dirbuf_free(&o->buf);
			return -1;
		}
		got++;
	}
	o->more = !full && got >= DIRPG_FEED_BATCH;
	return 0;
bad:
	snprintf(why, whylen, "the feed's answer is not as asked");
	dirbuf_free(&o->buf);
	return -1;
}
