/*
 * maillog.c: outgoing mail's records in the directory (schema 8 of
 * directory.c): the rows `locker mail status` shows and the hourly rate
 * counts, the totals, root's block.  Its own file and statements on the
 * directory's database (dir_sqlite()), so that directory.c does not grow.
 *
 * Keyed by uid, which is never reused: a new locker of a removed one's
 * name starts with nothing of the old one's.  A message's row is written
 * when the master grants it (so two at once cannot both pass the rate's
 * last place) and finished when the relay has answered; rows older than
 * the hour are pruned past the last MAILLOG_KEEP.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "directory.h"
#include "maillog.h"

/* One statement, bound from a format of 'i' (int64) and 't' (text). */
static int
run(struct directory *d, const char *sql, const char *fmt, const void *const *args)
{
	sqlite3_stmt	*s;
	int		 i, rc;

	if (sqlite3_prepare_v2(dir_sqlite(d), sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; fmt[i] != '\0'; i++)
		if (fmt[i] == 'i')
			sqlite3_bind_int64(s, i + 1, *(const int64_t *)args[i]);
		else
			sqlite3_bind_text(s, i + 1, (const char *)args[i], -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int
totals_bump(struct directory *d, int64_t uid, const char *status)
{
	const void *a[] = { &uid };

	if (run(d, "INSERT OR IGNORE INTO mail_totals (uid) VALUES (?1)", "i", a) == -1)
		return -1;
	if (strcmp(status, "sent") == 0)
		return run(d, "UPDATE mail_totals SET sent = sent + 1 WHERE uid = ?1", "i", a);
	if (strcmp(status, "refused") == 0 || strcmp(status, "failed") == 0)
		return run(d, "UPDATE mail_totals SET refused = refused + 1 WHERE uid = ?1",
		    "i", a);
	return 0;
}

static int
tx(struct directory *d, const char *what)
{
	return sqlite3_exec(dir_sqlite(d), what, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
prune(struct directory *d, int64_t uid, int64_t now)
{
	int64_t		 before = now - 3600, keep = MAILLOG_KEEP;
	const void	*a[] = { &uid, &before, &keep };

	return run(d, "DELETE FROM mail_log WHERE uid = ?1 AND at < ?2 AND id NOT IN "
	    "(SELECT id FROM mail_log WHERE uid = ?1 ORDER BY id DESC LIMIT ?3)", "iii", a);
}

int
maillog_add(struct directory *d, uint32_t uid, int64_t now, const char *status,
    const char *rcpts, uint64_t bytes, const char *text, uint64_t *id)
{
	int64_t		 u = uid, b = (int64_t)bytes;
	const void	*a[] = { &u, &now, status, rcpts, &b, text };

	if (tx(d, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (run(d, "INSERT INTO mail_log (uid, at, status, rcpts, bytes, text) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "iittit", a) == -1)
		goto fail;
	*id = (uint64_t)sqlite3_last_insert_rowid(dir_sqlite(d));
	if (totals_bump(d, u, status) == -1 || prune(d, u, now) == -1)
		goto fail;
	return tx(d, "COMMIT");
 fail:
	tx(d, "ROLLBACK");
	return -1;
}

int
maillog_finish(struct directory *d, uint64_t id, uint32_t uid, const char *status,
    const char *rcpts, const char *text)
{
	int64_t		 i = (int64_t)id, u = uid;
	const void	*a[] = { status, rcpts, text, &i, &u };

	if (tx(d, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (run(d, "UPDATE mail_log SET status = ?1, rcpts = ?2, text = ?3 "
	    "WHERE id = ?4 AND uid = ?5 AND status = 'granted'", "tttii", a) == -1 ||
	    sqlite3_changes(dir_sqlite(d)) != 1 || totals_bump(d, u, status) == -1) {
		tx(d, "ROLLBACK");
		return -1;
	}
	return tx(d, "COMMIT");
}

static int64_t
one_int(struct directory *d, const char *sql, int64_t a1, int64_t a2, int col, int64_t dflt)
{
	sqlite3_stmt	*s;
	int64_t		 v = dflt;

	if (sqlite3_prepare_v2(dir_sqlite(d), sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, a1);
	sqlite3_bind_int64(s, 2, a2);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		v = sqlite3_column_int64(s, col);
		break;
	case SQLITE_DONE:
		break;
	default:
		v = -1;
	}
	sqlite3_finalize(s);
	return v;
}

int64_t
maillog_count_since(struct directory *d, uint32_t uid, int64_t since)
{
	return one_int(d, "SELECT count(*) FROM mail_log WHERE uid = ?1 AND at >= ?2 AND "
	    "status IN ('granted', 'sent', 'failed')", uid, since, 0, 0);
}

int
maillog_totals(struct directory *d, uint32_t uid, uint64_t *sent, uint64_t *refused,
    int *blocked)
{
	static const char sql[] = "SELECT sent, refused, blocked FROM mail_totals "
	    "WHERE uid = ?1 AND ?2 = ?2";
	int64_t s = one_int(d, sql, uid, 0, 0, 0), r = one_int(d, sql, uid, 0, 1, 0),
		b = one_int(d, sql, uid, 0, 2, 0);

	if (s < 0 || r < 0 || b < 0)
		return -1;
	*sent = (uint64_t)s;
	*refused = (uint64_t)r;
	*blocked = b != 0;
	return 0;
}

int
maillog_block(struct directory *d, uint32_t uid, int blocked)
{
	int64_t		 u = uid, b = blocked != 0;
	const void	*a[] = { &u, &b };

	if (run(d, "INSERT OR IGNORE INTO mail_totals (uid) VALUES (?1)", "i", a) == -1)
		return -1;
	return run(d, "UPDATE mail_totals SET blocked = ?2 WHERE uid = ?1", "ii", a);
}

int
maillog_foreach_last(struct directory *d, uint32_t uid, int n,
    int (*cb)(const struct maillog_row *, void *), void *arg)
{
	sqlite3_stmt		*s;
	struct maillog_row	 r;
	const char		*t;
	int			 rc = 0;

	if (sqlite3_prepare_v2(dir_sqlite(d), "SELECT * FROM (SELECT id, at, status, rcpts, "
	    "bytes, text FROM mail_log WHERE uid = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id",
	    -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, uid);
	sqlite3_bind_int64(s, 2, n);
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.id = (uint64_t)sqlite3_column_int64(s, 0);
		r.at = sqlite3_column_int64(s, 1);
		if ((t = (const char *)sqlite3_column_text(s, 2)) != NULL)
			snprintf(r.status, sizeof(r.status), "%s", t);
		if ((t = (const char *)sqlite3_column_text(s, 3)) != NULL)
			snprintf(r.rcpts, sizeof(r.rcpts), "%s", t);
		r.bytes = (uint64_t)sqlite3_column_int64(s, 4);
		if ((t = (const char *)sqlite3_column_text(s, 5)) != NULL)
			snprintf(r.text, sizeof(r.text), "%s", t);
		rc = cb(&r, arg);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Incoming mail's choice for a locker without a mail program (mailrun.c):
 * MAILLOG_NOPROG_BOUNCE (the default, also with no row) or _DISCARD. */
int
maillog_no_program(struct directory *d, uint32_t uid)
{
	return (int)one_int(d, "SELECT no_program FROM mail_totals WHERE uid = ?1 AND ?2 = ?2",
	    uid, 0, 0, MAILLOG_NOPROG_BOUNCE);
}

int
maillog_set_no_program(struct directory *d, uint32_t uid, int choice)
{
	int64_t		 u = uid, v = choice == MAILLOG_NOPROG_DISCARD;
	const void	*a[] = { &u, &v };

	if (run(d, "INSERT OR IGNORE INTO mail_totals (uid) VALUES (?1)", "i", a) == -1)
		return -1;
	return run(d, "UPDATE mail_totals SET no_program = ?2 WHERE uid = ?1", "ii", a);
}

/* Incoming mail at a vhost (schema 11): the locker whose vhost host is, if
 * its admins turned mail on for it; 1, 0 (none, or off) or -1. */
int
maillog_vhost_locker(struct directory *d, const char *host, char *locker, size_t lockersz)
{
	sqlite3_stmt	*s;
	int		 rc, ret = 0;

	if (sqlite3_prepare_v2(dir_sqlite(d), "SELECT locker FROM vhosts WHERE host = ?1 "
	    "AND mail = 1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, host, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		snprintf(locker, lockersz, "%s", (const char *)sqlite3_column_text(s, 0));
		ret = 1;
	} else if (rc != SQLITE_DONE)
		ret = -1;
	sqlite3_finalize(s);
	return ret;
}

/* Mail at host on or off, if host is a vhost of locker's: 1 done, 0 not its, -1. */
int
maillog_vhost_set(struct directory *d, const char *locker, const char *host, int on)
{
	int64_t		 v = on != 0;
	const void	*a[] = { host, locker, &v };

	char		 err[256];
	int		 n;

	/* vhosts is replicated: through the directory's write path. */
	if (dir_tx_begin(d, err, sizeof(err)) == -1)
		return -1;
	if (run(d, "UPDATE vhosts SET mail = ?3 WHERE host = ?1 AND locker = ?2", "tti",
	    a) == -1)
		return dir_tx_abort(d);
	n = sqlite3_changes(dir_sqlite(d));
	if (dir_tx_commit(d, err, sizeof(err)) == -1)
		return -1;
	return n == 1;
}
