/*
 * dirsync_int.h: the parts of lockerd-dirsync (dirsync.c: the process and
 * its loop; dirpg.c: the PostgreSQL schema and the SQL it sends;
 * dirsync_apply.c: the master's changes into PostgreSQL; dirsync_feed.c:
 * PostgreSQL's changes to the master).
 */
#ifndef LOCKERD_DIRSYNC_INT_H
#define LOCKERD_DIRSYNC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "dirrec.h"
#include "dirsync.h"

/* The advisory locks every writer and the migration take (fleet design). */
#define DIRPG_WRITE_LOCK	1811
#define DIRPG_MIGRATE_LOCK	1812
#define DIRPG_CHANNEL		"lockerd_dir"
#define DIRPG_FEED_BATCH	20000	/* row records per MSG_DIR_ROWS, but a full copy */

/* A growing string of SQL; err set once anything failed (no memory, a catalogue gap). */
struct sqlbuf {
	char		*s;
	size_t		 len, cap;
	const char	*err;
};
void	sqlbuf_add(struct sqlbuf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	sqlbuf_free(struct sqlbuf *b);

/* dirpg.c */
int	dirpg_schema_version(void);	/* SQLite's SCHEMA_VERSION, which PostgreSQL's follows */
/*
 * The one transaction of the start (a simple query of several statements):
 * under the migration lock, the schema made if there is none, the
 * functions (re)defined, and last a row of the version PostgreSQL's schema
 * is at.  NULL with *err if dirtab[] has a table dirpg.c has no types for.
 */
char	*dirpg_migration(const char **err);
/* The columns' check: rows (table, "c1,c2,..."), to compare with dirpg_columns_ok(). */
const char *dirpg_columns_query(void);
int	dirpg_columns_ok(PGresult *r, char *why, size_t whylen);
/* The feed: rows (pruned_rev, _rev, table, op, json) after $1, or every row (full). */
char	*dirpg_feed_query(int full);

/* dirsync_apply.c: MSG_DIR_CHANGE's records as lockerd_apply()'s one jsonb argument */
char	*dirsync_changes_json(const unsigned char *p, size_t len, char *why, size_t whylen);
/* A failed statement's SQLSTATE as the master's status (DIR_CONFLICT, DIR_DOWN, DIR_ERROR). */
int	dirsync_status_of(const char *sqlstate);

/* dirsync_feed.c: a feed's result into row records; -1 with why */
struct feed_out {
	struct dirbuf	 buf;
	uint64_t	 to_rev;	/* the highest _rev seen (from_rev if none) */
	uint64_t	 pruned;	/* dir_meta.pruned_rev */
	int		 more;		/* a full batch: there may be more */
};
int	dirsync_feed_rows(PGresult *r, uint64_t from_rev, int full, struct feed_out *o,
	    char *why, size_t whylen);

#endif
