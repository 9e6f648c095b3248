/*
 * dir_apply.c: the fleet's changes into this node's copy (dir_fleet.h).
 *
 * lockerd-dirsync reads the rows PostgreSQL changed since this copy's
 * revision and sends them as row records (MSG_DIR_ROWS); they are applied
 * here in one SQLite transaction, with the capture off (they are already
 * the fleet's), and the revision is stored in fleet_state in that same
 * transaction: a crash leaves the copy at the old revision or the new one,
 * never between, and the feed starts again from what was stored.
 *
 * A record is bounded and checked before any of it is used (a bad one
 * rejects the whole message); its JSON is read by SQLite's own json_*()
 * functions, and table and column names come only from dirtab[], never
 * from the record.  Foreign keys are checked at the commit, so the order
 * of the records within a message does not matter.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lockerd.h"
#include "directory.h"
#include "dir_fleet.h"
#include "dirtab.h"
#include "dirrec.h"

struct row {
	int		 tbl, op;
	const char	*json;
	uint32_t	 len;
};

#define OP_UPSERT	DIRREC_UPSERT
#define OP_DELETE	DIRREC_DELETE

/* "a","b" or json_extract(?1,'$.a'), dir_unhex(...) etc., from a column list. */
enum cols_as { AS_NAMES, AS_VALUES, AS_SET, AS_DIFF, AS_PK_EQ, AS_ARRAY_T };

static int
cols_sql(char *out, size_t outsz, const struct dirtab *t, const char *list, enum cols_as as)
{
	static const char *const sep[] = { ", ", ", ", ", ", " OR ", " AND ", ", " };
	const char	*c = list;
	char		 col[64];
	size_t		 len = 0, n;
	int		 w = 0, first = 1;

	out[0] = '\0';
	for (; *c != '\0'; c += n + (c[n] == ',')) {
		n = strcspn(c, ",");
		if (n == 0 || n >= sizeof(col))
			return -1;
		memcpy(col, c, n);
		col[n] = '\0';
		if ((as == AS_SET || as == AS_DIFF) && dirtab_has(t->pk, col))
			continue;	/* the key is what found the row */
		switch (as) {
		case AS_NAMES:
			w = snprintf(out + len, outsz - len, "%s\"%s\"", first ? "" : sep[as], col);
			break;
		case AS_VALUES:
			w = snprintf(out + len, outsz - len, dirtab_has(t->blobs, col) ?
			    "%sdir_unhex(json_extract(?1, '$.%s'))" : "%sjson_extract(?1, '$.%s')",
			    first ? "" : sep[as], col);
			break;
		case AS_SET:
			w = snprintf(out + len, outsz - len, "%s\"%s\" = excluded.\"%s\"",
			    first ? "" : sep[as], col, col);
			break;
		case AS_DIFF:
			w = snprintf(out + len, outsz - len, "%s\"%s\".\"%s\" IS NOT excluded.\"%s\"",
			    first ? "" : sep[as], t->name, col, col);
			break;
		case AS_PK_EQ:
			w = snprintf(out + len, outsz - len, "%s\"%s\" IS json_extract(?1, '$.%s')",
			    first ? "" : sep[as], col, col);
			break;
		case AS_ARRAY_T:
			w = snprintf(out + len, outsz - len, "%s\"%s\".\"%s\"", first ? "" : sep[as],
			    t->name, col);
			break;
		}
		if (w < 0 || (size_t)w >= outsz - len)
			return -1;
		len += (size_t)w;
		first = 0;
	}
	return 0;
}

/* INSERT ... ON CONFLICT (pk) DO UPDATE ... WHERE something differs. */
static int
upsert_sql(char *sql, size_t sqlsz, const struct dirtab *t)
{
	char names[1024], values[2048], set[2048], diff[2048], pk[256];
	int  w;

	if (cols_sql(names, sizeof(names), t, t->cols, AS_NAMES) == -1 ||
	    cols_sql(values, sizeof(values), t, t->cols, AS_VALUES) == -1 ||
	    cols_sql(set, sizeof(set), t, t->cols, AS_SET) == -1 ||
	    cols_sql(diff, sizeof(diff), t, t->cols, AS_DIFF) == -1 ||
	    cols_sql(pk, sizeof(pk), t, t->pk, AS_NAMES) == -1)
		return -1;
	if (set[0] == '\0')
		w = snprintf(sql, sqlsz, "INSERT INTO main.\"%s\" (%s) SELECT %s WHERE true"
		    " ON CONFLICT (%s) DO NOTHING", t->name, names, values, pk);
	else
		w = snprintf(sql, sqlsz, "INSERT INTO main.\"%s\" (%s) SELECT %s WHERE true"
		    " ON CONFLICT (%s) DO UPDATE SET %s WHERE %s", t->name, names, values, pk,
		    set, diff);
	return w < 0 || (size_t)w >= sqlsz ? -1 : 0;
}

static int
delete_sql(char *sql, size_t sqlsz, const struct dirtab *t)
{
	char	eq[1024];
	int	w;

	if (cols_sql(eq, sizeof(eq), t, t->pk, AS_PK_EQ) == -1)
		return -1;
	w = snprintf(sql, sqlsz, "DELETE FROM main.\"%s\" WHERE %s", t->name, eq);
	return w < 0 || (size_t)w >= sqlsz ? -1 : 0;
}

/* A full copy: the key of every row received, to delete the rest after. */
static int
seen_sql(char *sql, size_t sqlsz, const struct dirtab *t, int i)
{
	char	vals[1024];
	int	w;

	if (cols_sql(vals, sizeof(vals), t, t->pk, AS_VALUES) == -1)
		return -1;
	w = snprintf(sql, sqlsz, "INSERT OR IGNORE INTO temp.fleet_seen (tbl, pk)"
	    " SELECT %d, json_array(%s)", i, vals);
	return w < 0 || (size_t)w >= sqlsz ? -1 : 0;
}

static int
unseen_sql(char *sql, size_t sqlsz, const struct dirtab *t, int i)
{
	char	arr[1024];
	int	w;

	if (cols_sql(arr, sizeof(arr), t, t->pk, AS_ARRAY_T) == -1)
		return -1;
	w = snprintf(sql, sqlsz, "DELETE FROM main.\"%s\" WHERE NOT EXISTS (SELECT 1 FROM"
	    " temp.fleet_seen s WHERE s.tbl = %d AND s.pk = json_array(%s))", t->name, i, arr);
	return w < 0 || (size_t)w >= sqlsz ? -1 : 0;
}

/* Runs sql with the record's JSON as ?1; the rows it changed, or -1. */
static int
run(sqlite3 *db, const char *sql, const struct row *r, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "fleet feed: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (r != NULL)
		sqlite3_bind_text(st, 1, r->json, (int)r->len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "fleet feed: %s%s%s", r ? dirtab[r->tbl].name : "",
		    r ? ": " : "", sqlite3_errmsg(db));
		return -1;
	}
	return sqlite3_changes(db);
}

/* json_extract() of bad JSON would fail too, but this says which record. */
static int
is_object(sqlite3 *db, const struct row *r)
{
	sqlite3_stmt	*st;
	int		 ok = -1;

	if (sqlite3_prepare_v2(db, "SELECT json_valid(?1) AND json_type(?1) = 'object'", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, r->json, (int)r->len, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		ok = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ok;
}

static void (*applied_cb)(struct directory *, const struct dir_applied *);

void
dir_fleet_on_applied(void (*cb)(struct directory *, const struct dir_applied *))
{
	applied_cb = cb;
}

/* A locker whose own limits changed: its name, from the record. */
static void
limits_note(sqlite3 *db, const struct row *r, struct dir_applied *a)
{
	sqlite3_stmt		*st;
	const unsigned char	*name;

	if (a->nlimits == DIR_APPLIED_LIMITS) {
		a->all_limits = 1;
		return;
	}
	if (sqlite3_prepare_v2(db, "SELECT json_extract(?1, '$.locker')", -1, &st, NULL) !=
	    SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, r->json, (int)r->len, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && (name = sqlite3_column_text(st, 0)) != NULL &&
	    strlen((const char *)name) < sizeof(a->limits[0]))
		snprintf(a->limits[a->nlimits++], sizeof(a->limits[0]), "%s", name);
	else
		a->all_limits = 1;
	sqlite3_finalize(st);
}

static int
apply_row(sqlite3 *db, const struct row *r, int full, struct dir_applied *a, char *err,
    size_t errlen)
{
	uint64_t *changed = &a->changed;

	const struct dirtab	*t = &dirtab[r->tbl];
	char			 sql[8192];
	int			 n;

	if (is_object(db, r) != 1)
		return snprintf(err, errlen, "fleet feed: %s: a record is not a JSON object",
		    t->name), -1;
	if (r->op == OP_DELETE ? delete_sql(sql, sizeof(sql), t) : upsert_sql(sql, sizeof(sql), t))
		return snprintf(err, errlen, "fleet feed: %s: too many columns", t->name), -1;
	if ((n = run(db, sql, r, err, errlen)) == -1)
		return -1;
	if (n > 0) {
		*changed |= (uint64_t)1 << r->tbl;
		if (r->tbl == dirtab_index("locker_limits"))
			limits_note(db, r, a);
	}
	if (full && r->op == OP_UPSERT) {
		if (seen_sql(sql, sizeof(sql), t, r->tbl) == -1 || run(db, sql, r, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* A full copy: what was not sent is not the fleet's any more. */
static int
drop_unseen(sqlite3 *db, uint64_t *changed, char *err, size_t errlen)
{
	char	sql[4096];
	int	i, n;

	for (i = dirtab_count() - 1; i >= 0; i--) {
		/* uids and audit are never deleted anywhere (their triggers say
		 * so): a row here that the fleet lacks is this node's history from
		 * before it joined, kept (its uid stays retired here too). */
		if (strcmp(dirtab[i].name, "uids") == 0 || strcmp(dirtab[i].name, "audit") == 0)
			continue;
		if (unseen_sql(sql, sizeof(sql), &dirtab[i], i) == -1)
			return -1;
		if ((n = run(db, sql, NULL, err, errlen)) == -1)
			return -1;
		if (n > 0)
			*changed |= (uint64_t)1 << i;
	}
	return 0;
}

static int
store_rev(sqlite3 *db, uint64_t rev, char *err, size_t errlen)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "INSERT INTO fleet_state (id, rev) VALUES (1, %llu)"
	    " ON CONFLICT (id) DO UPDATE SET rev = excluded.rev", (unsigned long long)rev);
	return run(db, sql, NULL, err, errlen) == -1 ? -1 : 0;
}

static int
apply_all(sqlite3 *db, const void *buf, size_t len, uint32_t nrec, int full,
    struct dir_applied *a, char *err, size_t errlen)
{
	struct dir_row	 dr;
	struct row	 r;
	const char	*why = NULL;
	size_t		 off = 0;
	uint32_t	 i;

	if (dirrec_check_rows(buf, len, nrec, (unsigned)dirtab_count(), &why) == -1) {
		snprintf(err, errlen, "fleet feed: %s", why ? why : "malformed records");
		return -1;
	}
	if (full && run(db, "CREATE TEMP TABLE IF NOT EXISTS fleet_seen (tbl INTEGER, pk TEXT,"
	    " PRIMARY KEY (tbl, pk))", NULL, err, errlen) == -1)
		return -1;
	for (i = 0; i < nrec; i++) {
		if (dirrec_next_row(buf, len, &off, (unsigned)dirtab_count(), &dr, &why) != 1) {
			snprintf(err, errlen, "fleet feed: record %u of %u: %s", i + 1, nrec,
			    why ? why : "missing");
			return -1;
		}
		r.tbl = dr.tbl;
		r.op = dr.op;
		r.json = dr.json;
		r.len = dr.len;
		if (apply_row(db, &r, full, a, err, errlen) == -1)
			return -1;
	}
	/* A full copy's deletions: which locker's limits went is not known. */
	if (full && (drop_unseen(db, &a->changed, err, errlen) == -1 ||
	    run(db, "DELETE FROM temp.fleet_seen", NULL, err, errlen) == -1))
		return -1;
	return 0;
}

int
dir_fleet_apply(struct directory *d, const void *buf, size_t len, uint32_t nrec,
    uint64_t from_rev, uint64_t to_rev, int full, uint64_t *changed, char *err,
    size_t errlen)
{
	sqlite3			*db = dir_sqlite(d);
	int64_t			 have = dir_fleet_rev(d);
	struct dir_applied	 a;
	int			 rc;

	(void)from_rev;
	*changed = 0;
	memset(&a, 0, sizeof(a));
	if (have < 0)
		return snprintf(err, errlen, "fleet feed: fleet_state unreadable"), -1;
	if (dir_tx_begin(d, err, errlen) == -1)
		return -1;
	/* Foreign keys at the commit: the records come table by table. */
	sqlite3_exec(db, "PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL);
	dir_fleet_applying(dir_fleet(d), 1);
	rc = apply_all(db, buf, len, nrec, full, &a, err, errlen);
	if (rc == 0 && to_rev > (uint64_t)have)
		rc = store_rev(db, to_rev, err, errlen);
	if (rc == 0)
		rc = dir_tx_commit(d, err, errlen);
	else
		dir_tx_abort(d);
	dir_fleet_applying(dir_fleet(d), 0);
	if (rc == -1)
		return -1;
	if (full && (a.changed & (uint64_t)1 << dirtab_index("locker_limits")))
		a.all_limits = 1;
	*changed = a.changed;
	if (a.changed != 0 && applied_cb != NULL)
		applied_cb(d, &a);
	return 0;
}

int64_t
dir_fleet_rev(struct directory *d)
{
	sqlite3_stmt	*st;
	int64_t		 rev = -1;
	int		 rc;

	if (sqlite3_prepare_v2(dir_sqlite(d), "SELECT rev FROM fleet_state WHERE id = 1", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rev = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		rev = 0;
	sqlite3_finalize(st);
	return rev;
}
