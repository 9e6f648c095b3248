/*
 * test_dir_fleet.c: the master's side of the fleet directory against a
 * real SQLite file: what the triggers capture (decoded with dirrec.c, as
 * dirsync reads it), a refusal leaving nothing behind, the commit hook's
 * veto of a write that bypasses the path, the feed's rows applied (and a
 * bad message applying nothing), a full copy, and single-machine mode
 * untouched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "directory.h"
#include "dir_fleet.h"
#include "dirrec.h"
#include "dirtab.h"
#include "unit.h"

static char	tmpdir[] = "/tmp/test_dir_fleet.XXXXXX";
static char	path[256];

/* What the fake link saw, and what it answers. */
struct link {
	int		 calls;
	int		 status;		/* for the next send */
	int		 conflicts_left;	/* answer DIR_CONFLICT this many times first */
	int		 catch_ups;
	struct directory *d;
	struct {
		int	tbl, op;
		char	old[2048], new[2048];
	}		 rec[64];
	int		 nrec;
};

static void
copy_json(char *out, size_t outsz, const char *p, uint32_t n)
{
	snprintf(out, outsz, "%.*s", (int)n, p ? p : "");
}

static void
fake_send(void *arg, const void *buf, size_t len, uint32_t nrec, struct dir_answer *ans)
{
	struct link		*l = arg;
	struct dir_change	 c;
	const char		*why = NULL;
	size_t			 off = 0;

	l->calls++;
	l->nrec = 0;
	CHECK(dirrec_check_changes(buf, len, nrec, (unsigned)dirtab_count(), &why) == 0);
	while (dirrec_next_change(buf, len, &off, (unsigned)dirtab_count(), &c, &why) == 1 &&
	    l->nrec < 64) {
		l->rec[l->nrec].tbl = c.tbl;
		l->rec[l->nrec].op = c.op;
		copy_json(l->rec[l->nrec].old, sizeof(l->rec[0].old), c.old, c.oldlen);
		copy_json(l->rec[l->nrec].new, sizeof(l->rec[0].new), c.new, c.newlen);
		l->nrec++;
	}
	if (l->conflicts_left > 0) {
		l->conflicts_left--;
		ans->status = DIR_CONFLICT;
		return;
	}
	ans->status = l->status;
	ans->rev = 42;
	snprintf(ans->why, sizeof(ans->why), "%s", l->status == DIR_OK ? "" : "said no");
}

/* After a conflict: the feed brings the other node's locker, on uid 5001. */
static void apply_rows(struct directory *, const char *const *, int, uint64_t, int,
    uint64_t *);

static void
fake_catch_up(void *arg)
{
	struct link		*l = arg;
	uint64_t		 changed;
	static const char *const rows[] = {
		"uids", "{\"uid\":5001,\"name\":\"other\",\"allocated\":1,\"released\":null,"
		    "\"archive\":null}",
		"lockers", "{\"name\":\"other\",\"uid\":5001,\"gid\":5001,\"created\":1}",
	};

	l->catch_ups++;
	apply_rows(l->d, rows, 2, 7, 0, &changed);
}

static const struct dir_fleet_ops ops = { fake_send, fake_catch_up };

static int
find(const struct link *l, const char *tbl, int op)
{
	int i;

	for (i = 0; i < l->nrec; i++)
		if (l->rec[i].tbl == dirtab_index(tbl) && l->rec[i].op == op)
			return i;
	return -1;
}

static int64_t
count(struct directory *d, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if (sqlite3_prepare_v2(dir_sqlite(d), sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* rows: pairs of table name, JSON (a delete: "-table"). */
static void
apply_rows(struct directory *d, const char *const *rows, int n, uint64_t rev, int full,
    uint64_t *changed)
{
	struct dirbuf	 b;
	struct dir_row	 r;
	const char	*why;
	char		 err[256];
	int		 i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < n; i++) {
		const char *t = rows[2 * i];

		r.op = t[0] == '-' ? DIRREC_DELETE : DIRREC_UPSERT;
		r.tbl = (uint8_t)dirtab_index(t[0] == '-' ? t + 1 : t);
		r.rev = rev;
		r.json = rows[2 * i + 1];
		r.len = (uint32_t)strlen(r.json);
		CHECK(dirrec_put_row(&b, &r, &why) == 0);
	}
	if (dir_fleet_apply(d, b.p, b.len, b.nrec, 0, rev, full, changed, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "apply: %s\n", err);
		*changed = UINT64_MAX;
	}
	dirbuf_free(&b);
}

static struct directory *
open_fleet(const char *name, struct link *l)
{
	struct directory	*d;
	char			 err[256];

	snprintf(path, sizeof(path), "%s/%s.db", tmpdir, name);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		exit(1);
	memset(l, 0, sizeof(*l));
	l->d = d;
	if (dir_fleet_on(d, "node-a", &ops, l, err, sizeof(err)) == -1) {
		fprintf(stderr, "dir_fleet_on: %s\n", err);
		exit(1);
	}
	dir_fleet_state(dir_fleet(d), 1, time(NULL), "");
	return d;
}

static void
test_capture(void)
{
	struct link		 l;
	struct directory	*d = open_fleet("capture", &l);
	struct locker_rec	 lr;
	char			 err[256];
	int			 i;

	CHECK_INT(dir_locker_add(d, "alice", 5000, 5999, &lr, err, sizeof(err)), 0);
	CHECK_INT(l.calls, 1);
	CHECK_INT(l.nrec, 3);
	CHECK((i = find(&l, "lockers", DIRREC_INSERT)) >= 0);
	CHECK(i >= 0 && strstr(l.rec[i].new, "\"name\":\"alice\",\"uid\":5000") != NULL);
	CHECK(i >= 0 && l.rec[i].old[0] == '\0');
	CHECK(find(&l, "uids", DIRREC_INSERT) >= 0);
	/* The audit row carries an id of this node's: ms << 12 | hash. */
	CHECK((i = find(&l, "audit", DIRREC_INSERT)) >= 0);
	CHECK(count(d, "SELECT min(id) FROM audit") > ((int64_t)1600000000000 << 12));

	/* An update carries the row before and after. */
	CHECK_INT(dir_limit_set(d, "alice", "memory-limit", 100, err, sizeof(err)), 0);
	CHECK(find(&l, "locker_limits", DIRREC_INSERT) >= 0);
	CHECK_INT(dir_limit_set(d, "alice", "memory-limit", 200, err, sizeof(err)), 0);
	CHECK((i = find(&l, "locker_limits", DIRREC_UPDATE)) >= 0);
	CHECK(i >= 0 && strstr(l.rec[i].old, "\"value\":100") != NULL);
	CHECK(i >= 0 && strstr(l.rec[i].new, "\"value\":200") != NULL);

	/* A remove: deletes of the locker, its limits, a release of its uid. */
	CHECK_INT(dir_vhost_add(d, "www.alice.test", "alice", "", 0, err, sizeof(err)), 0);
	CHECK_INT(dir_locker_remove(d, "alice", "", err, sizeof(err)), 0);
	CHECK(find(&l, "lockers", DIRREC_DELETE) >= 0);
	CHECK(find(&l, "vhosts", DIRREC_DELETE) >= 0);
	CHECK(find(&l, "locker_limits", DIRREC_DELETE) >= 0);
	CHECK((i = find(&l, "uids", DIRREC_UPDATE)) >= 0);
	CHECK(i >= 0 && strstr(l.rec[i].new, "\"archive\":\"\"") != NULL);
	dir_close(d);
}

static void
test_refused(void)
{
	struct link		 l;
	struct directory	*d = open_fleet("refused", &l);
	struct locker_rec	 lr;
	char			 err[256];
	int			 calls;

	CHECK_INT(dir_locker_add(d, "bob", 5000, 5999, &lr, err, sizeof(err)), 0);
	l.status = DIR_CONFLICT;
	CHECK_INT(dir_vhost_add(d, "bob.example", "bob", "", 0, err, sizeof(err)), -1);
	CHECK(strstr(err, "another node changed this") != NULL);
	CHECK_INT(dir_vhost_get(d, "bob.example", NULL), 0);
	l.status = DIR_ERROR;
	CHECK_INT(dir_admin_add(d, "bob", 1000, err, sizeof(err)), -1);
	CHECK(strstr(err, "said no") != NULL);
	CHECK_INT(dir_admin_is(d, "bob", 1000), 0);

	/* Down: refused at once, the link not even asked. */
	l.status = DIR_OK;
	dir_fleet_state(dir_fleet(d), 0, 1700000000, "connection refused");
	calls = l.calls;
	CHECK_INT(dir_vhost_add(d, "bob.example", "bob", "", 0, err, sizeof(err)), -1);
	CHECK(strstr(err, "unreachable since") != NULL);
	CHECK(strstr(err, "pages are still served") != NULL);
	CHECK_INT(l.calls, calls);
	CHECK_INT(dir_vhost_get(d, "bob.example", NULL), 0);
	/* A node's own tables are still written (mail counters). */
	CHECK(sqlite3_exec(dir_sqlite(d), "INSERT INTO mail_totals (uid) VALUES (5000)",
	    NULL, NULL, NULL) == SQLITE_OK);
	dir_fleet_state(dir_fleet(d), 1, 1700000001, "");
	CHECK_INT(dir_vhost_add(d, "bob.example", "bob", "", 0, err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_get(d, "bob.example", NULL), 1);

	/* A uid another node took at the same moment: picked again. */
	l.conflicts_left = 1;
	CHECK_INT(dir_locker_add(d, "carol", 5000, 5999, &lr, err, sizeof(err)), 0);
	CHECK_INT(l.catch_ups, 1);
	CHECK_INT(lr.uid, 5002);
	CHECK_INT(dir_locker_get(d, "other", NULL), 1);
	dir_close(d);
}

static void
test_veto(void)
{
	struct link		 l;
	struct directory	*d = open_fleet("veto", &l);
	int			 rc;

	/* A write that skips dir_tx_commit() is rolled back, not kept. */
	rc = sqlite3_exec(dir_sqlite(d), "INSERT INTO node_drain (name, at, who) VALUES"
	    " ('node-b', 1, 0)", NULL, NULL, NULL);
	CHECK(rc != SQLITE_OK);
	CHECK_INT(count(d, "SELECT count(*) FROM node_drain"), 0);
	CHECK(sqlite3_exec(dir_sqlite(d), "BEGIN; INSERT INTO node_drain (name, at, who) VALUES"
	    " ('node-b', 1, 0); COMMIT", NULL, NULL, NULL) != SQLITE_OK);
	sqlite3_exec(dir_sqlite(d), "ROLLBACK", NULL, NULL, NULL);
	CHECK_INT(count(d, "SELECT count(*) FROM node_drain"), 0);
	CHECK_INT(l.calls, 0);
	/* The same through the path goes. */
	{
		char		 err[256];
		sqlite3_stmt	*st;

		CHECK_INT(dir_tx_begin(d, err, sizeof(err)), 0);
		st = dir_prep(d, "test", "INSERT INTO node_drain (name, at, who) VALUES"
		    " ('node-b', 1, 0)");
		CHECK(st != NULL);
		CHECK_INT(dir_step(d, "test", st), 0);
		CHECK_INT(dir_tx_commit(d, err, sizeof(err)), 0);
	}
	CHECK_INT(count(d, "SELECT count(*) FROM node_drain"), 1);
	CHECK_INT(l.calls, 1);
	dir_close(d);
}

static struct dir_applied seen;
static int nseen;

static void
hook(struct directory *d, const struct dir_applied *a)
{
	(void)d;
	seen = *a;
	nseen++;
}

static void
test_apply(void)
{
	struct link		 l;
	struct directory	*d = open_fleet("apply", &l);
	uint64_t		 changed = 0;
	struct vhost_rec	 v;
	static const char *const add[] = {
		"vhosts", "{\"host\":\"dave.example\",\"locker\":\"dave\",\"subdir\":\"\","
		    "\"https\":0,\"mail\":0}",
		"lockers", "{\"name\":\"dave\",\"uid\":6000,\"gid\":6000,\"created\":1}",
		"uids", "{\"uid\":6000,\"name\":\"dave\",\"allocated\":1,\"released\":null,"
		    "\"archive\":null}",
		"cron", "{\"locker\":\"dave\",\"sched\":\"00ff10\",\"stamp\":\"s\","
		    "\"error\":\"\",\"compiled\":3}",
	};
	static const char *const del[] = {
		"-vhosts", "{\"host\":\"dave.example\"}",
	};
	static const char *const bad[] = {
		"vhosts", "{\"host\":\"eve.example\",\"locker\":\"dave\",\"subdir\":\"\","
		    "\"https\":0,\"mail\":0}",
		"vhosts", "[1,2]",
	};
	static const char *const orphan[] = {
		"vhosts", "{\"host\":\"eve.example\",\"locker\":\"nobody\",\"subdir\":\"\","
		    "\"https\":0,\"mail\":0}",
	};

	/* Out of order (vhost before its locker): keys are checked at the end. */
	apply_rows(d, add, 4, 10, 0, &changed);
	CHECK(changed == ((1ull << dirtab_index("vhosts")) | (1ull << dirtab_index("lockers")) |
	    (1ull << dirtab_index("uids")) | (1ull << dirtab_index("cron"))));
	CHECK_INT(dir_vhost_get(d, "dave.example", &v), 1);
	CHECK_STR(v.locker, "dave");
	CHECK_INT(count(d, "SELECT length(sched) FROM cron WHERE locker = 'dave'"), 3);
	CHECK_INT(count(d, "SELECT sched = x'00ff10' FROM cron WHERE locker = 'dave'"), 1);
	CHECK_INT(dir_fleet_rev(d), 10);
	CHECK_INT(l.calls, 0);		/* the fleet's own rows are not sent back */
	/* The same again changes nothing, and the master hears nothing. */
	dir_fleet_on_applied(hook);
	apply_rows(d, add, 4, 11, 0, &changed);
	CHECK(changed == 0);
	CHECK_INT(nseen, 0);
	{
		static const char *const lim[] = {
			"locker_limits", "{\"locker\":\"dave\",\"key\":\"memory-limit\","
			    "\"value\":5}",
		};

		apply_rows(d, lim, 1, 11, 0, &changed);
		CHECK_INT(nseen, 1);
		CHECK(seen.changed == 1ull << dirtab_index("locker_limits"));
		CHECK_INT(seen.nlimits, 1);
		CHECK_STR(seen.limits[0], "dave");
		CHECK_INT(seen.all_limits, 0);
	}
	dir_fleet_on_applied(NULL);
	CHECK_INT(dir_fleet_rev(d), 11);
	apply_rows(d, del, 1, 12, 0, &changed);
	CHECK(changed == 1ull << dirtab_index("vhosts"));
	CHECK_INT(dir_vhost_get(d, "dave.example", NULL), 0);
	/* A bad record refuses the whole message; a broken key too. */
	apply_rows(d, bad, 2, 13, 0, &changed);
	CHECK(changed == UINT64_MAX);
	CHECK_INT(dir_vhost_get(d, "eve.example", NULL), 0);
	apply_rows(d, orphan, 1, 13, 0, &changed);
	CHECK(changed == UINT64_MAX);
	CHECK_INT(dir_vhost_get(d, "eve.example", NULL), 0);
	CHECK_INT(dir_fleet_rev(d), 12);

	/* A full copy: what it does not hold goes, but for uids and audit,
	 * which nothing deletes (this node's own history is kept). */
	{
		static const char *const mine[] = {
			"uids", "{\"uid\":6001,\"name\":\"old\",\"allocated\":1,"
			    "\"released\":2,\"archive\":\"\"}",
		};

		apply_rows(d, mine, 1, 19, 0, &changed);
		CHECK_INT(count(d, "SELECT count(*) FROM uids WHERE uid = 6001"), 1);
	}
	apply_rows(d, add, 4, 20, 0, &changed);
	CHECK_INT(dir_vhost_get(d, "dave.example", NULL), 1);
	apply_rows(d, add + 2, 3, 21, 1, &changed);
	CHECK(changed == ((1ull << dirtab_index("vhosts")) |
	    (1ull << dirtab_index("locker_limits"))));
	CHECK_INT(count(d, "SELECT count(*) FROM locker_limits"), 0);
	CHECK_INT(dir_vhost_get(d, "dave.example", NULL), 0);
	CHECK_INT(dir_locker_get(d, "dave", NULL), 1);
	CHECK_INT(count(d, "SELECT count(*) FROM uids WHERE uid = 6001"), 1);
	CHECK_INT(dir_fleet_rev(d), 21);

	/* A blob captured goes out as hex. */
	{
		char		 err[256];
		sqlite3_stmt	*st;
		int		 i;

		CHECK_INT(dir_tx_begin(d, err, sizeof(err)), 0);
		st = dir_prep(d, "test", "UPDATE cron SET sched = x'0102' WHERE locker = 'dave'");
		CHECK_INT(dir_step(d, "test", st), 0);
		CHECK_INT(dir_tx_commit(d, err, sizeof(err)), 0);
		CHECK((i = find(&l, "cron", DIRREC_UPDATE)) >= 0);
		CHECK(i >= 0 && strstr(l.rec[i].old, "\"sched\":\"00FF10\"") != NULL);
		CHECK(i >= 0 && strstr(l.rec[i].new, "\"sched\":\"0102\"") != NULL);
	}
	dir_close(d);
}

/* One machine: no trigger, no hook; a bare write goes as it always did. */
static void
test_single(void)
{
	struct directory	*d;
	char			 err[256];

	snprintf(path, sizeof(path), "%s/single.db", tmpdir);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	CHECK(dir_fleet(d) == NULL);
	CHECK_INT(count(d, "SELECT count(*) FROM sqlite_temp_master"), 0);
	CHECK(sqlite3_exec(dir_sqlite(d), "INSERT INTO node_drain (name, at, who) VALUES"
	    " ('me', 1, 0)", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_INT(dir_audit(d, "test", "", "", err, sizeof(err)), 0);
	CHECK_INT(count(d, "SELECT max(id) FROM audit"), 1);
	dir_close(d);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_capture();
	test_refused();
	test_veto();
	test_apply();
	test_single();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	UNIT_DONE();
}
