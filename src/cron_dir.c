/*
 * cron_dir.c: the directory's cron table (schema 8, directory.c).
 *
 * A locker's row holds the schedule in effect (a struct cron_sched as a
 * blob, NULL: none), the fingerprint of the crontab it was compiled from
 * (or last refused: a bad crontab is not compiled again until it changes)
 * and the last error.  So a schedule survives a restart of lockerd, and no
 * worker need run for its jobs to be known.  The blob is checked again
 * (size, cron_sched_check()) every time it is read back: the database file
 * is root's, but a bad row must cost one locker its jobs, not the master.
 *
 * Which node runs cron is the `cron` lease (lease.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cron.h"
#include "directory.h"

#define prep(d, sql)	dir_prep((d), "cron", (sql))

/*
 * A write of a replicated table is one transaction through the directory's
 * path (in a fleet, PostgreSQL's first): wprep() begins it, write1() runs
 * the statement and commits, or rolls back (and logs why).
 */
static sqlite3_stmt *
wprep(struct directory *d, const char *sql)
{
	sqlite3_stmt	*st;
	char		 err[256];

	if (dir_tx_begin(d, err, sizeof(err)) == -1) {
		log_warnx("cron: directory: %s", err);
		return NULL;
	}
	if ((st = prep(d, sql)) == NULL)
		dir_tx_abort(d);
	return st;
}

static int
write1(struct directory *d, sqlite3_stmt *st)
{
	char err[256];

	if (dir_step(d, "cron", st) == -1)
		return dir_tx_abort(d);
	if (dir_tx_commit(d, err, sizeof(err)) == -1) {
		log_warnx("cron: directory: %s", err);
		return -1;
	}
	return 0;
}

int
cron_dir_set_sched(struct directory *d, const char *locker, const struct cron_sched *s,
    const char *stamp, int64_t compiled)
{
	sqlite3_stmt *st = wprep(d, "INSERT INTO cron (locker, sched, stamp, error, compiled)"
	    " VALUES (?1, ?2, ?3, '', ?4) ON CONFLICT (locker) DO UPDATE SET"
	    " sched = ?2, stamp = ?3, error = '', compiled = ?4");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, locker, -1, SQLITE_STATIC);
	if (s != NULL)
		sqlite3_bind_blob(st, 2, s, sizeof(*s), SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, stamp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, compiled);
	return write1(d, st);
}

int
cron_dir_set_error(struct directory *d, const char *locker, const char *stamp,
    const char *error)
{
	sqlite3_stmt *st = wprep(d, "INSERT INTO cron (locker, stamp, error) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (locker) DO UPDATE SET stamp = ?2, error = ?3");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, locker, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stamp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
	return write1(d, st);
}

static void
col_text(sqlite3_stmt *st, int col, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
}

int
cron_dir_foreach(struct directory *d, int (*cb)(const struct cron_row *, void *), void *arg)
{
	static struct cron_sched s;
	struct cron_row	 r;
	sqlite3_stmt	*st = prep(d, "SELECT locker, sched, stamp, error, compiled FROM cron");
	const char	*why;
	int		 rc = 0;

	if (st == NULL)
		return -1;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		col_text(st, 0, r.locker, sizeof(r.locker));
		col_text(st, 2, r.stamp, sizeof(r.stamp));
		col_text(st, 3, r.error, sizeof(r.error));
		r.compiled = sqlite3_column_int64(st, 4);
		if (sqlite3_column_type(st, 1) == SQLITE_BLOB) {
			if ((size_t)sqlite3_column_bytes(st, 1) != sizeof(s)) {
				log_warnx("cron: %s's schedule in the directory is of another "
				    "size; dropped", r.locker);
			} else {
				memcpy(&s, sqlite3_column_blob(st, 1), sizeof(s));
				if ((why = cron_sched_check(&s)) != NULL)
					log_warnx("cron: %s's schedule in the directory: %s; "
					    "dropped", r.locker, why);
				else
					r.sched = &s;
			}
		}
		rc = cb(&r, arg);
	}
	sqlite3_finalize(st);
	return rc;
}
