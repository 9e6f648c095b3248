/*
 * sql_limit.c: the master's side of the limit on a locker's databases
 * (issue 14, item 5; sqld's side is sqlsize.c).
 *
 * A locker's databases count against its disk-limit with its files.
 * Every sql-size-interval sqld reports each locker's database bytes and
 * whether its account's writes are withdrawn (MSG_SQL_SIZE, a round); the
 * master never talks to MariaDB.  At the round's end, for each locker
 * with an account:
 *
 *	files + databases >= disk-limit		-> withdraw its writes (cut)
 *	cut, and below disk-limit - 1/20 of it	-> give them back
 *
 * The 5% between is the hysteresis: a locker deleting its way down does
 * not flap between cut and not at every row.  The files are the disk
 * quota's count (quota.c), as of btrfs's last commit or the image's
 * statfs.
 *
 * The state is MariaDB's (its grant tables), reported every round, so
 * lockerd keeps none: a restart of lockerd or sqld finds it as it was.
 * What the master keeps is to which sqld (its pid) it last sent a cut: an
 * account reported cut but not cut by this sqld is cut again (REVOKE and
 * KILL once more), because a crash of sqld between its REVOKE and its KILL
 * could have left a connection from before the cut writing; a restarted
 * lockerd does the same once for every cut account.  An account a
 * `locker sql password` granted everything again is cut again as soon as
 * the master hears sqld is done (sql_limit_regranted()), before my.cnf
 * has the new password; a crash between is mended by the next round.
 *
 * The file side: with disk-quota btrfs the home's qgroup limit is set to
 * disk-limit minus the databases' bytes each round (files_limit()), so
 * files + databases <= disk-limit holds from both sides, within one
 * interval.  With disk-quota image it cannot be (an image cannot shrink
 * while mounted): the files keep the whole limit, so a locker whose files
 * fill it has its database writes cut too, but one whose databases hold
 * the limit can still write files up to it (twice the limit at worst).
 * `locker info` shows the configured limit either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"
#include "master.h"
#include "quota.h"
#include "sql.h"

#define ENTRIES_MAX	(1 << 20)	/* what one round may hold, whatever sqld says */

struct sl_entry {
	char		locker[LOCKER_NAME_MAX + 1];
	uint32_t	flags;		/* SQL_SIZE_ACCOUNT | SQL_SIZE_CUT, as reported */
	uint64_t	bytes;
	pid_t		cut_by;		/* the sqld a cut was last sent to; 0: none */
};

struct sl_table {
	struct sl_entry	*e;
	size_t		 n, cap;
};

static struct sl_table	cur, nxt;	/* the last whole round; the one arriving */
static uint32_t		nxt_round;
static int		nxt_open;
static int		measured;	/* a round has ended since the master started */

static int
by_locker(const void *a, const void *b)
{
	return strcmp(((const struct sl_entry *)a)->locker, ((const struct sl_entry *)b)->locker);
}

static struct sl_entry *
find(struct sl_table *t, const char *locker)
{
	struct sl_entry key;

	snprintf(key.locker, sizeof(key.locker), "%s", locker);
	return t->n ? bsearch(&key, t->e, t->n, sizeof(*t->e), by_locker) : NULL;
}

static void
append(const struct msg_sql_size *m)
{
	struct sl_entry	*e;

	if (nxt.n == nxt.cap) {
		size_t cap = nxt.cap ? 2 * nxt.cap : 256;

		if (cap > ENTRIES_MAX || (e = reallocarray(nxt.e, cap, sizeof(*e))) == NULL)
			return;		/* the rest of this round is not counted */
		nxt.e = e;
		nxt.cap = cap;
	}
	e = &nxt.e[nxt.n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->locker, sizeof(e->locker), "%s", m->locker);
	e->flags = m->flags & (SQL_SIZE_ACCOUNT | SQL_SIZE_CUT);
	e->bytes = m->bytes;
}

static void
send_cut(struct sl_entry *e, int cut, uint64_t files, uint64_t limit)
{
	struct msg_sql_cut	k;
	struct child		*s = sql_child();

	memset(&k, 0, sizeof(k));
	snprintf(k.locker, sizeof(k.locker), "%s", e->locker);
	k.cut = (uint32_t)cut;
	if (s->pid <= 0 || child_send(s, MSG_SQL_CUT, &k, sizeof(k), -1) == -1)
		return;		/* the next round asks again */
	e->cut_by = cut ? s->pid : 0;
	log_info("sql: %s: files %llu + databases %llu bytes %s its disk limit %llu: "
	    "database writes %s", e->locker, (unsigned long long)files,
	    (unsigned long long)e->bytes, cut ? "at or over" : "back below",
	    (unsigned long long)limit, cut ? "withdrawn" : "given back");
}

/* Whether the locker is to be cut now, given what sqld reported. */
static int
over(uint64_t total, uint64_t limit, int is_cut)
{
	if (limit == 0)
		return 0;
	return is_cut ? total >= limit - limit / 20 : total >= limit;
}

/*
 * disk-quota btrfs: the home's qgroup limit lowered by the databases'
 * bytes, so that files + databases <= disk-limit holds from the files'
 * side too (never below FILES_FLOOR, nor 0, which would clear it).  Set
 * only when it is off by more than 1% (256 KiB at least): each set is a
 * btrfs transaction.  An image cannot shrink while mounted: no-op there.
 */
#define FILES_FLOOR	((uint64_t)1 << 20)

static void
files_limit(const struct config *lc, const char *name, uint64_t db)
{
	uint64_t	 limit = lc->disk_limit, want, slack;
	int64_t		 used, now;
	char		 err[PATH_MAX + 200];

	if (lc->disk_quota != DISK_QUOTA_BTRFS || limit == 0)
		return;
	want = limit > db + FILES_FLOOR ? limit - db : (limit < FILES_FLOOR ? limit : FILES_FLOOR);
	slack = limit / 100 > ((uint64_t)256 << 10) ? limit / 100 : (uint64_t)256 << 10;
	quota_usage(lc, name, &used, &now);
	if (now <= 0)
		return;		/* no qgroup limit to lower (a home made before btrfs) */
	if ((uint64_t)now + slack > want && (uint64_t)now < want + slack)
		return;
	if (quota_set(lc, name, want, err, sizeof(err)) == -1)
		log_warnx("sql: the files' limit of %s: %s", name, err);
}

static void
decide(struct sl_entry *e)
{
	const struct config	*lc;
	struct locker_rec	 lr;
	int64_t			 files = 0, qlimit;
	uint64_t		 limit = 0;
	int			 is_cut = (e->flags & SQL_SIZE_CUT) != 0, want = 0;

	if (!(e->flags & SQL_SIZE_ACCOUNT))
		return;
	/* An account of no locker's (a removed one's, half dropped) has no limit. */
	if (dir_locker_get(M->dir, e->locker, &lr) == 1) {
		lc = locker_conf(lr.name, lr.uid);
		quota_usage(lc, lr.name, &files, &qlimit);
		if (files < 0)
			files = 0;
		limit = lc->disk_limit;
		want = over((uint64_t)files + e->bytes, limit, is_cut);
		files_limit(lc, lr.name, e->bytes);
	}
	if (want && (!is_cut || e->cut_by != sql_child()->pid))
		send_cut(e, 1, (uint64_t)files, limit);
	else if (!want && is_cut)
		send_cut(e, 0, (uint64_t)files, limit);
}

/* One entry per locker, whatever sqld sent (its own are folded already). */
static size_t
unique(struct sl_table *t)
{
	size_t i, out = 0;

	for (i = 0; i < t->n; i++)
		if (out == 0 || strcmp(t->e[out - 1].locker, t->e[i].locker) != 0)
			t->e[out++] = t->e[i];
	return out;
}

/* A locker with no databases any more: its files get the whole limit back. */
static void
gone(const char *locker)
{
	struct locker_rec lr;

	if (dir_locker_get(M->dir, locker, &lr) == 1)
		files_limit(locker_conf(lr.name, lr.uid), lr.name, 0);
}

/* A round ended: it becomes what the master knows, and each locker is judged. */
static void
round_end(uint32_t round)
{
	struct sl_table	 t;
	struct sl_entry	*old;
	size_t		 i;

	if (!nxt_open || nxt_round != round)
		nxt.n = 0;	/* an empty round, or the end of another one */
	qsort(nxt.e, nxt.n, sizeof(*nxt.e), by_locker);
	nxt.n = unique(&nxt);
	for (i = 0; i < nxt.n; i++)
		if ((old = find(&cur, nxt.e[i].locker)) != NULL)
			nxt.e[i].cut_by = old->cut_by;
	for (i = 0; i < cur.n; i++)
		if (find(&nxt, cur.e[i].locker) == NULL)
			gone(cur.e[i].locker);
	t = cur;
	cur = nxt;
	nxt = t;
	nxt.n = 0;
	nxt_open = 0;
	measured = 1;
	for (i = 0; i < cur.n; i++)
		decide(&cur.e[i]);
}

const char *
sql_limit_msg(const void *buf, size_t len)
{
	struct msg_sql_size m;

	(void)len;	/* msg_rules[]: exactly the struct */
	memcpy(&m, buf, sizeof(m));
	if (m.flags & SQL_SIZE_END) {
		round_end(m.round);
		return NULL;
	}
	if (memchr(m.locker, '\0', sizeof(m.locker)) == NULL ||
	    !sql_word_ok(m.locker, LOCKER_NAME_MAX))
		return "names no locker";
	if (!nxt_open || nxt_round != m.round) {
		nxt.n = 0;	/* a round sqld did not end (it restarted): dropped */
		nxt_round = m.round;
		nxt_open = 1;
	}
	append(&m);
	return NULL;
}

/*
 * A signup or password granted the account everything again (sqld.c's
 * account_make()): a locker that was cut is cut again now, not a round
 * later.
 */
void
sql_limit_regranted(const char *locker)
{
	struct sl_entry *e;

	if ((e = find(&cur, locker)) == NULL || !(e->flags & SQL_SIZE_CUT))
		return;
	e->cut_by = 0;
	decide(e);
}

int
sql_limit_of(const char *locker, uint64_t *bytes, int *cut)
{
	struct sl_entry *e;

	*bytes = 0;
	*cut = 0;
	if (M->conf.sql.kind == SQL_NONE || !measured)
		return -1;
	if ((e = find(&cur, locker)) == NULL)
		return 0;	/* no databases */
	*bytes = e->bytes;
	*cut = (e->flags & SQL_SIZE_CUT) != 0;
	return 0;
}
