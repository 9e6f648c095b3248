/*
 * app_dir.c: the directory's table of installs (schema 12, directory.c).
 *
 * A row is what the master knows of an install without looking inside it:
 * which locker, where below web_scripts, which app, the version it last
 * installed or upgraded it to (the master chose that release, so it knows
 * it; lockerd-app's output is never parsed), its state (ok, or conflict:
 * an upgrade waits for --resolve or --abort), the database it made for it,
 * and whether its locker opted out of upgrades through `locker upgrade
 * --opt-out` (the marker in the install is the locker's, and lockerd-app
 * honours it; this column is the master's own record of the verb).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "lockerd.h"
#include "directory.h"
#include "app_master.h"

#define prep(d, sql)	dir_prep((d), "app", (sql))

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
		log_warnx("app: directory: %s", err);
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

	if (dir_step(d, "app", st) == -1)
		return dir_tx_abort(d);
	if (dir_tx_commit(d, err, sizeof(err)) == -1) {
		log_warnx("app: directory: %s", err);
		return -1;
	}
	return 0;
}

static void
col_text(sqlite3_stmt *st, int col, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
}

#define APP_COLS "locker, path, app, version, state, dbname, opted_out, updated, target, previous"

static void
row_read(sqlite3_stmt *st, struct app_rec *r)
{
	memset(r, 0, sizeof(*r));
	col_text(st, 0, r->locker, sizeof(r->locker));
	col_text(st, 1, r->path, sizeof(r->path));
	col_text(st, 2, r->app, sizeof(r->app));
	col_text(st, 3, r->version, sizeof(r->version));
	col_text(st, 4, r->state, sizeof(r->state));
	col_text(st, 5, r->dbname, sizeof(r->dbname));
	r->opted_out = sqlite3_column_int(st, 6);
	r->updated = sqlite3_column_int64(st, 7);
	col_text(st, 8, r->target, sizeof(r->target));
	col_text(st, 9, r->previous, sizeof(r->previous));
}

int
app_dir_get(struct directory *d, const char *locker, const char *path, struct app_rec *r)
{
	sqlite3_stmt	*st = prep(d, "SELECT " APP_COLS " FROM app_installs"
	    " WHERE locker = ?1 AND path = ?2");
	int		 rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, locker, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_read(st, r);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
app_dir_put(struct directory *d, const struct app_rec *r)
{
	/* An upsert, not OR REPLACE: a fleet captures it as the update it is. */
	sqlite3_stmt *st = wprep(d, "INSERT INTO app_installs (" APP_COLS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (locker, path)"
	    " DO UPDATE SET app = ?3, version = ?4, state = ?5, dbname = ?6, opted_out = ?7,"
	    " updated = ?8, target = ?9, previous = ?10");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, r->locker, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->state[0] ? r->state : "ok", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->dbname, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, r->opted_out != 0);
	sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
	sqlite3_bind_text(st, 9, r->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, r->previous, -1, SQLITE_STATIC);
	return write1(d, st);
}

int
app_dir_foreach(struct directory *d, const char *locker, const char *app,
    int (*cb)(const struct app_rec *r, void *arg), void *arg)
{
	sqlite3_stmt	*st = prep(d, "SELECT " APP_COLS " FROM app_installs"
	    " WHERE (?1 IS NULL OR locker = ?1) AND (?2 IS NULL OR app = ?2)"
	    " ORDER BY locker, path");
	struct app_rec	 r;
	int		 rc = 0, step;

	if (st == NULL)
		return -1;
	if (locker != NULL)
		sqlite3_bind_text(st, 1, locker, -1, SQLITE_STATIC);
	if (app != NULL)
		sqlite3_bind_text(st, 2, app, -1, SQLITE_STATIC);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		row_read(st, &r);
		rc = cb(&r, arg);
	}
	sqlite3_finalize(st);
	return rc < 0 ? -1 : 0;
}
