/*
 * dir_fleet.c: the capture of the master's changes in a fleet (dir_fleet.h).
 *
 * SQLite itself says what a transaction changed: TEMP triggers (AFTER
 * INSERT/UPDATE/DELETE on every table of dirtab[]) hand each row's old and
 * new values, as JSON made by SQLite's json_object() (BLOBs as hex), to
 * dir_capture(), which appends a change record to the outbox.  So no
 * writer has to say what it wrote, and a writer added later is captured
 * without being taught.  TEMP objects live only in this connection: the
 * file on disk stays the single-machine schema, and a node that leaves the
 * fleet is an ordinary lockerd again.
 *
 * The outbox is sent by dir_fleet_send() before the COMMIT; the commit
 * hook refuses a commit with records that were not sent (a write outside
 * dir_tx_commit(): rolled back and logged, never a silent divergence).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "lockerd.h"
#include "directory.h"
#include "dir_fleet.h"
#include "dirtab.h"
#include "dirrec.h"

#define OUTBOX_MAX	(32u << 20)	/* one transaction's records; a remove is a few KiB */

struct dir_fleet {
	struct directory		*d;
	const struct dir_fleet_ops	*ops;
	void				*arg;
	char				 node[64];
	uint32_t			 node_hash;
	int64_t				 last_audit;
	struct dirbuf			 out;	/* change records of the open transaction */
	int				 sent;		/* dir_fleet_send() said yes */
	int				 overflow;	/* too big: the commit fails */
	int				 applying;	/* the feed's rows: not captured */
	int				 conflict;	/* the last refusal was one */
	/* the link's state, from MSG_DIR_STATE */
	int				 up;
	int64_t				 since;
	char				 why[160];
};

static int fail(char *, size_t, const char *, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void
outbox_clear(struct dir_fleet *f)
{
	f->out.len = 0;
	f->out.nrec = 0;
	f->sent = 0;
	f->overflow = 0;
}

/* dir_capture(tbl, op, old_json, new_json), called by the TEMP triggers. */
static void
capture_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct dir_fleet	*f = sqlite3_user_data(ctx);
	int			 tbl = sqlite3_value_int(argv[0]);
	int			 op = sqlite3_value_int(argv[1]);
	const char		*old = (const char *)sqlite3_value_text(argv[2]);
	const char		*new = (const char *)sqlite3_value_text(argv[3]);
	uint32_t		 oldlen = old ? (uint32_t)sqlite3_value_bytes(argv[2]) : 0;
	uint32_t		 newlen = new ? (uint32_t)sqlite3_value_bytes(argv[3]) : 0;
	struct dir_change	 c;
	const char		*why = NULL;

	(void)argc;
	sqlite3_result_null(ctx);
	if (f->applying)
		return;
	/* An UPDATE that set what was there changes nothing anywhere. */
	if (op == 2 && old && new && oldlen == newlen && memcmp(old, new, oldlen) == 0)
		return;
	c.tbl = (uint8_t)tbl;
	c.op = (uint8_t)op;
	c.old = old;
	c.oldlen = oldlen;
	c.new = new;
	c.newlen = newlen;
	if (f->out.len > OUTBOX_MAX || dirrec_put_change(&f->out, &c, &why) == -1) {
		f->overflow = 1;
		sqlite3_result_error(ctx, why ? why : "the change is too big for the fleet "
		    "directory", -1);
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* dir_unhex(text): the BLOB that hex() made of it (SQLite 3.40 has no unhex()). */
static void
unhex_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char	*t;
	unsigned char		*out;
	int			 n, i, hi, lo;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	t = sqlite3_value_text(argv[0]);
	n = sqlite3_value_bytes(argv[0]);
	if (t == NULL || n % 2 != 0) {
		sqlite3_result_error(ctx, "dir_unhex: not hex", -1);
		return;
	}
	if ((out = sqlite3_malloc(n / 2 + 1)) == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	for (i = 0; i < n; i += 2) {
		if ((hi = hexval(t[i])) < 0 || (lo = hexval(t[i + 1])) < 0) {
			sqlite3_free(out);
			sqlite3_result_error(ctx, "dir_unhex: not hex", -1);
			return;
		}
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	sqlite3_result_blob(ctx, out, n / 2, sqlite3_free);
}

/* json_object('a', P."a", 'sched', <hex of P."sched">, ...) for one row. */
static int
row_json(char *out, size_t outsz, const struct dirtab *t, const char *p)
{
	char		 col[64];
	const char	*c = t->cols;
	size_t		 len = 0, n;
	int		 w;

	w = snprintf(out, outsz, "json_object(");
	for (len = (size_t)w; *c != '\0'; c += n + (c[n] == ',')) {
		n = strcspn(c, ",");
		if (n == 0 || n >= sizeof(col))
			return -1;
		memcpy(col, c, n);
		col[n] = '\0';
		if (dirtab_has(t->blobs, col))
			w = snprintf(out + len, outsz - len, "%s'%s', CASE WHEN %s.\"%s\" IS NULL"
			    " THEN NULL ELSE hex(%s.\"%s\") END", c == t->cols ? "" : ", ", col,
			    p, col, p, col);
		else
			w = snprintf(out + len, outsz - len, "%s'%s', %s.\"%s\"",
			    c == t->cols ? "" : ", ", col, p, col);
		if (w < 0 || (size_t)w >= outsz - len)
			return -1;
		len += (size_t)w;
	}
	w = snprintf(out + len, outsz - len, ")");
	return w < 0 || (size_t)w >= outsz - len ? -1 : 0;
}

/* The three TEMP triggers of table i. */
static int
triggers_add(sqlite3 *db, int i, char *err, size_t errlen)
{
	static const struct { const char *ev, *tag; int op; } ev[] = {
		{ "INSERT", "ins", 1 }, { "UPDATE", "upd", 2 }, { "DELETE", "del", 3 },
	};
	const struct dirtab	*t = &dirtab[i];
	char			 old[2048], new[2048], sql[5120];
	size_t			 k;
	char			*msg = NULL;

	if (row_json(old, sizeof(old), t, "OLD") == -1 ||
	    row_json(new, sizeof(new), t, "NEW") == -1)
		return fail(err, errlen, "fleet: table %s: too many columns", t->name);
	for (k = 0; k < sizeof(ev) / sizeof(ev[0]); k++) {
		snprintf(sql, sizeof(sql), "CREATE TEMP TRIGGER fleet_%s_%s AFTER %s ON main.\"%s\""
		    " BEGIN SELECT dir_capture(%d, %d, %s, %s); END", t->name, ev[k].tag,
		    ev[k].ev, t->name, i, ev[k].op, ev[k].op == 1 ? "NULL" : old,
		    ev[k].op == 3 ? "NULL" : new);
		if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
			fail(err, errlen, "fleet: triggers of %s: %s", t->name,
			    msg ? msg : "failed");
			sqlite3_free(msg);
			return -1;
		}
	}
	return 0;
}

/* A commit whose records were not sent would make this copy differ from
 * the fleet's for good: refused (SQLITE_CONSTRAINT_COMMITHOOK). */
static int
commit_hook(void *arg)
{
	struct dir_fleet *f = arg;

	if (f->out.nrec > 0 && !f->sent) {
		log_warnx("directory: a write of %u row%s to replicated tables was committed"
		    " without going to the fleet directory (dir_tx_commit); rolled back",
		    f->out.nrec, f->out.nrec == 1 ? "" : "s");
		outbox_clear(f);
		return 1;
	}
	outbox_clear(f);
	return 0;
}

static void
rollback_hook(void *arg)
{
	outbox_clear(arg);
}

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int
dir_fleet_on(struct directory *d, const char *node, const struct dir_fleet_ops *ops,
    void *arg, char *err, size_t errlen)
{
	struct dir_fleet	*f;
	sqlite3			*db = dir_sqlite(d);
	int			 i;

	if (dir_fleet(d) != NULL)
		return fail(err, errlen, "fleet: already on");
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return fail(err, errlen, "fleet: out of memory");
	f->d = d;
	f->ops = ops;
	f->arg = arg;
	snprintf(f->node, sizeof(f->node), "%s", node);
	f->node_hash = fnv1a(node);
	snprintf(f->why, sizeof(f->why), "lockerd-dirsync has not said yet");
	if (sqlite3_create_function(db, "dir_capture", 4, SQLITE_UTF8, f, capture_fn,
	    NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "dir_unhex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
	    NULL, unhex_fn, NULL, NULL) != SQLITE_OK) {
		fail(err, errlen, "fleet: functions: %s", sqlite3_errmsg(db));
		free(f);
		return -1;
	}
	for (i = 0; dirtab[i].name != NULL; i++)
		if (triggers_add(db, i, err, errlen) == -1) {
			free(f);
			return -1;
		}
	sqlite3_commit_hook(db, commit_hook, f);
	sqlite3_rollback_hook(db, rollback_hook, f);
	dir_set_fleet(d, f);
	return 0;
}

void
dir_fleet_free(struct dir_fleet *f)
{
	if (f == NULL)
		return;
	dirbuf_free(&f->out);
	free(f);
}

void
dir_fleet_state(struct dir_fleet *f, int up, int64_t since, const char *why)
{
	if (f == NULL)
		return;
	f->up = up;
	f->since = since;
	snprintf(f->why, sizeof(f->why), "%s", why ? why : "");
}

int
dir_fleet_up(const struct dir_fleet *f)
{
	return f == NULL || f->up;
}

static void
down_msg(const struct dir_fleet *f, char *err, size_t errlen)
{
	char		at[32] = "";
	time_t		t = (time_t)f->since;
	struct tm	tm;

	if (f->since > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(at, sizeof(at), " since %H:%M:%S UTC", &tm);
	fail(err, errlen, "the fleet directory (PostgreSQL) is unreachable%s: changes are "
	    "refused until it is back; pages are still served%s%s", at,
	    f->why[0] ? " (" : "", f->why[0] ? f->why : "");
	if (f->why[0] && strlen(err) + 1 < errlen)
		strcat(err, ")");
}

/* The answer of the link in words, for the caller's err. */
static int
refusal(struct dir_fleet *f, const struct dir_answer *a, char *err, size_t errlen)
{
	f->conflict = a->status == DIR_CONFLICT;
	switch (a->status) {
	case DIR_CONFLICT:
		return fail(err, errlen, "another node changed this at the same time; try again");
	case DIR_DOWN:
		return fail(err, errlen, "the fleet directory (PostgreSQL) is unreachable: "
		    "changes are refused until it is back; pages are still served (%s)",
		    a->why[0] ? a->why : "no answer in time");
	case DIR_NOLINK:
		return fail(err, errlen, "the fleet directory's link (lockerd-dirsync) is not "
		    "running: changes are refused until it is back; pages are still served");
	default:
		return fail(err, errlen, "the fleet directory refused the change: %s",
		    a->why[0] ? a->why : "no reason given");
	}
}

int
dir_fleet_send(struct dir_fleet *f, char *err, size_t errlen)
{
	struct dir_answer a;

	if (f == NULL)
		return 0;
	f->conflict = 0;
	if (f->overflow)
		return fail(err, errlen, "the change is too big for the fleet directory");
	if (f->out.nrec == 0)
		return 0;	/* only this node's own tables */
	if (!f->up) {
		down_msg(f, err, errlen);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.status = DIR_ERROR;
	f->ops->send(f->arg, f->out.p, f->out.len, f->out.nrec, &a);
	a.why[sizeof(a.why) - 1] = '\0';
	if (a.status != DIR_OK)
		return refusal(f, &a, err, errlen);
	f->sent = 1;
	return 0;
}

int
dir_fleet_conflict(const struct dir_fleet *f)
{
	return f != NULL && f->conflict;
}

void
dir_fleet_catch_up(struct dir_fleet *f)
{
	if (f != NULL && f->ops->catch_up != NULL)
		f->ops->catch_up(f->arg);
}

size_t
dir_fleet_mark(const struct dir_fleet *f)
{
	return f == NULL ? 0 : f->out.len | (size_t)f->out.nrec << 40;
}

/* Back to the mark: the records of a statement that failed. */
void
dir_fleet_cut(struct dir_fleet *f, size_t mark)
{
	if (f == NULL)
		return;
	f->out.len = mark & (((size_t)1 << 40) - 1);
	f->out.nrec = (uint32_t)(mark >> 40);
}

int64_t
dir_fleet_audit_id(struct dir_fleet *f)
{
	struct timespec	ts;
	int64_t		ms, id;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	id = ms << 12 | (int64_t)(f->node_hash & 0xfff);
	/* Two rows in a millisecond, or a clock stepped back: the next one
	 * up that still carries this node's bits. */
	if (id <= f->last_audit)
		id = f->last_audit + 4096;
	f->last_audit = id;
	return id;
}

void
dir_fleet_applying(struct dir_fleet *f, int on)
{
	if (f != NULL)
		f->applying = on;
}
