/*
 * dirtab.h: the directory's replicated tables, for a fleet (several
 * machines sharing one directory in PostgreSQL; the design in
 * docs/FLEET.md).
 *
 * One catalogue read by both sides: the master, which captures its own
 * changes to these tables and applies the fleet's, and lockerd-dirsync,
 * which writes them to PostgreSQL and reads them back.  A message names a
 * table by its index here, never by a name it carries.  Tables not here
 * (mail_log, mail_totals, fleet_state) are each node's own.
 */
#ifndef LOCKERD_DIRTAB_H
#define LOCKERD_DIRTAB_H

struct dirtab {
	const char	*name;	/* the table, in SQLite and in PostgreSQL */
	const char	*cols;	/* every column, in order: "a,b,c" */
	const char	*pk;	/* its primary key's columns: "a" or "a,b" */
	const char	*blobs;	/* "" or the BLOB columns, carried as hex */
};

#define DIRTAB_MAX	32

/* The replicated tables, in an order where a table comes after those it
 * refers to (uids, then lockers, then the rest); ends with a NULL name. */
extern const struct dirtab dirtab[];

int	dirtab_count(void);
/* -1 / NULL: not a replicated table. */
int	dirtab_index(const char *name);
const struct dirtab *dirtab_find(const char *name);
/* Whether col is one of the comma-separated names in list. */
int	dirtab_has(const char *list, const char *col);

#endif
