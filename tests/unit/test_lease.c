/* test_lease.c: leases taken, renewed, refused and taken over, in a real
 * SQLite file opened twice (two nodes' masters on one directory file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "directory.h"
#include "lease.h"
#include "unit.h"

static char	tmpdir[] = "/tmp/test_lease.XXXXXX";
static char	dbpath[256];

static struct directory *
open_db(void)
{
	struct directory	*d;
	char			 err[256];

	if ((d = dir_open(dbpath, err, sizeof(err))) == NULL)
		fprintf(stderr, "dir_open: %s\n", err);
	CHECK(d != NULL);
	return d;
}

/* The row as another reader sees it. */
static void
row(struct directory *d, const char *what, char *holder, size_t holdersz, int64_t *expires)
{
	sqlite3_stmt *st = NULL;

	holder[0] = '\0';
	*expires = -1;
	CHECK(sqlite3_prepare_v2(dir_sqlite(d), "SELECT holder, expires FROM leases WHERE what = ?1",
	    -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(holder, holdersz, "%s", (const char *)sqlite3_column_text(st, 0));
		*expires = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
}

/* One process plays both nodes: the node name is switched around each take. */
static int
take_as(const char *node, struct directory *d, const char *what, int64_t now, int64_t ttl)
{
	lease_node_set(node);
	return lease_take(d, what, now, ttl);
}

static void
test_take_renew_expire(struct directory *a, struct directory *b)
{
	char	h[64];
	int64_t	exp;

	CHECK_INT(take_as("node-a", a, "cron", 1000, 60), 1);
	CHECK_INT(lease_mine("cron"), 1);
	row(b, "cron", h, sizeof(h), &exp);
	CHECK_STR(h, "node-a");
	CHECK_INT(exp, 1060);
	/* b before the expiry: a's still, and b is told whose. */
	CHECK_INT(take_as("node-b", b, "cron", 1059, 60), 0);
	CHECK_INT(lease_mine("cron"), 0);
	CHECK_STR(lease_holder("cron"), "node-a");
	row(b, "cron", h, sizeof(h), &exp);
	CHECK_INT(exp, 1060);
	/* a renews: later expiry. */
	CHECK_INT(take_as("node-a", a, "cron", 1020, 60), 1);
	row(b, "cron", h, sizeof(h), &exp);
	CHECK_INT(exp, 1080);
	/* exactly at the expiry it is still a's (expires < now takes over) */
	CHECK_INT(take_as("node-b", b, "cron", 1080, 60), 0);
	/* a stopped renewing: b takes it over past the expiry... */
	CHECK_INT(take_as("node-b", b, "cron", 1081, 60), 1);
	CHECK_STR(lease_holder("cron"), "node-b");
	row(a, "cron", h, sizeof(h), &exp);
	CHECK_STR(h, "node-b");
	CHECK_INT(exp, 1141);
	/* ...and a, back, does not get it back while b renews. */
	CHECK_INT(take_as("node-a", a, "cron", 1100, 60), 0);
	CHECK_STR(lease_holder("cron"), "node-b");
}

static void
test_leases_are_independent(struct directory *a, struct directory *b)
{
	CHECK_INT(take_as("node-a", a, "acme", 2000, 60), 1);
	CHECK_INT(take_as("node-b", b, "hesiod", 2000, 60), 1);
	CHECK_INT(take_as("node-b", b, "acme", 2001, 60), 0);
	CHECK_INT(take_as("node-a", a, "hesiod", 2001, 60), 0);
	CHECK_STR(lease_holder("acme"), "node-a");
	CHECK_STR(lease_holder("hesiod"), "node-b");
}

static void
test_release(struct directory *a, struct directory *b)
{
	char	h[64];
	int64_t	exp;

	CHECK_INT(take_as("node-a", a, "rel", 3000, 600), 1);
	CHECK_INT(take_as("node-b", b, "rel", 3001, 600), 0);
	/* a release by a node that does not hold it changes nothing */
	lease_node_set("node-b");
	CHECK_INT(lease_release(b, "rel"), 0);
	row(a, "rel", h, sizeof(h), &exp);
	CHECK_STR(h, "node-a");
	CHECK_INT(exp, 3600);
	CHECK_INT(take_as("node-a", a, "rel", 3002, 600), 1);
	CHECK_INT(lease_release(a, "rel"), 0);
	CHECK_INT(lease_mine("rel"), 0);
	/* b takes it at its next try, long before the old expiry */
	CHECK_INT(take_as("node-b", b, "rel", 3003, 600), 1);
}

/* lease_mine() trusts a take for 5/6 of its TTL on the monotonic clock,
 * whatever `now` said: a holder that cannot renew stops first. */
static void
test_mine_lapses(struct directory *a)
{
	CHECK_INT(take_as("node-a", a, "short", (int64_t)time(NULL), 3), 1);
	CHECK_INT(lease_mine("short"), 1);
	usleep(2600 * 1000);
	CHECK_INT(lease_mine("short"), 0);
}

static void
test_bad_input(struct directory *a)
{
	char	h[64];
	int64_t	exp;

	lease_node_set("node-a");
	CHECK_INT(lease_take(a, "", 1, 60), -1);
	CHECK_INT(lease_take(a, "sixteen-chars-x", 1, 60), 1);	/* 15: fits */
	CHECK_INT(lease_take(a, "sixteen-chars-xy", 1, 60), -1);
	CHECK_INT(lease_take(a, "cron2", 1, 0), -1);
	CHECK_INT(lease_mine("never-taken"), 0);
	CHECK_STR(lease_holder("never-taken"), "");
	/* a node name the table refuses (CHECK: 1..63): an error, no row */
	lease_node_set("");
	CHECK(lease_node()[0] != '\0');		/* the host name then */
	{
		char long_name[80];

		memset(long_name, 'n', sizeof(long_name) - 1);
		long_name[sizeof(long_name) - 1] = '\0';
		lease_node_set(long_name);	/* cut to 63: still fits */
		CHECK_INT((int)strlen(lease_node()), 63);
		CHECK_INT(lease_take(a, "long", 1, 60), 1);
	}
	row(a, "long", h, sizeof(h), &exp);
	CHECK_INT((int)strlen(h), 63);
}

/* The directory going away under a take: -1, and not ours. */
static void
test_error_is_not_ours(struct directory *a)
{
	CHECK_INT(take_as("node-a", a, "gone", 4000, 60), 1);
	CHECK(sqlite3_exec(dir_sqlite(a), "ALTER TABLE leases RENAME TO leases_x", NULL, NULL,
	    NULL) == SQLITE_OK);
	CHECK_INT(take_as("node-a", a, "gone", 4001, 60), -1);
	CHECK_INT(lease_mine("gone"), 0);
	CHECK(sqlite3_exec(dir_sqlite(a), "ALTER TABLE leases_x RENAME TO leases", NULL, NULL,
	    NULL) == SQLITE_OK);
}

int
main(void)
{
	struct directory *a, *b;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/directory.db", tmpdir);
	a = open_db();
	b = open_db();
	if (a != NULL && b != NULL) {
		test_take_renew_expire(a, b);
		test_leases_are_independent(a, b);
		test_release(a, b);
		test_mine_lapses(a);
		test_bad_input(a);
		test_error_is_not_ours(a);
	}
	dir_close(a);
	dir_close(b);
	unlink(dbpath);
	rmdir(tmpdir);
	UNIT_DONE();
}
