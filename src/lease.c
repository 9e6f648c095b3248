/*
 * lease.c: what one node of a fleet must do alone -- run cron, order
 * certificates, send Hesiod updates -- decided by a lease in the
 * directory (the `leases` table of schema 13).
 *
 * A take is one UPSERT whose WHERE is the compare-and-swap: the row is
 * (re)written for this node only if it is this node's already or has
 * expired.  On one machine that is the whole story.  In a fleet the
 * statement runs on this node's SQLite copy, whose change the directory
 * sends to PostgreSQL before it commits (DESIGN.md, the fleet): there
 * the update applies only if the row is still the one this node saw
 * (`WHERE to_jsonb(t) = old`), an insert only if no node inserted first;
 * a node whose copy is behind is refused (a conflict: -1 here) instead of
 * stealing a lease renewed elsewhere.  -1 is always safe: not ours.
 *
 * lease_mine() trusts a take only for part of its TTL, on the monotonic
 * clock: a holder that cannot renew (PostgreSQL down, the master stalled)
 * stops acting before the row expires and another node may take it, even
 * if the wall clock jumps.  Clocks of the nodes must agree to within that
 * margin (NTP does far better).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "directory.h"
#include "lease.h"

#define LEASES_MAX	8	/* cron, acme, hesiod, and room */

struct lease {
	char		what[LEASE_WHAT_MAX + 1];
	char		holder[LEASE_NODE_MAX + 1];
	int		held;
	uint64_t	valid_until_ms;	/* monotonic */
};

static struct lease	leases[LEASES_MAX];
static char		node[LEASE_NODE_MAX + 1];

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
lease_node_set(const char *name)
{
	snprintf(node, sizeof(node), "%s", name != NULL ? name : "");
}

const char *
lease_node(void)
{
	char *dot;

	if (node[0] == '\0') {
		if (gethostname(node, sizeof(node)) == -1 || node[0] == '\0')
			snprintf(node, sizeof(node), "localhost");
		node[sizeof(node) - 1] = '\0';
		if ((dot = strchr(node, '.')) != NULL && dot != node)
			*dot = '\0';
	}
	return node;
}

static struct lease *
slot(const char *what, int add)
{
	int i;

	for (i = 0; i < LEASES_MAX; i++)
		if (strcmp(leases[i].what, what) == 0)
			return &leases[i];
	for (i = 0; add && i < LEASES_MAX; i++)
		if (leases[i].what[0] == '\0') {
			snprintf(leases[i].what, sizeof(leases[i].what), "%s", what);
			return &leases[i];
		}
	return NULL;
}

/* One write, one transaction through the directory's path: in a fleet the
 * change reaches PostgreSQL (and may be refused there) before it commits
 * here.  A statement that changes nothing commits nothing to send. */
static int
run(struct directory *d, const char *sql, const char *what, const char *holder, int64_t a,
    int64_t b)
{
	sqlite3_stmt	*st = NULL;
	char		 err[256];
	int		 rc;

	if (dir_tx_begin(d, err, sizeof(err)) == -1)
		return -1;
	if (sqlite3_prepare_v2(dir_sqlite(d), sql, -1, &st, NULL) != SQLITE_OK)
		return dir_tx_abort(d);
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, a);
	sqlite3_bind_int64(st, 4, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dir_tx_abort(d);
	return dir_tx_commit(d, err, sizeof(err));
}

/* The row as the directory has it now: its holder into l. */
static int
read_holder(sqlite3 *db, struct lease *l)
{
	sqlite3_stmt		*st = NULL;
	const unsigned char	*h;
	int			 rc;

	if (sqlite3_prepare_v2(db, "SELECT holder FROM leases WHERE what = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, l->what, -1, SQLITE_STATIC);
	l->holder[0] = '\0';
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && (h = sqlite3_column_text(st, 0)) != NULL)
		snprintf(l->holder, sizeof(l->holder), "%s", (const char *)h);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
lease_take(struct directory *d, const char *what, int64_t now, int64_t ttl)
{
	struct lease	*l;
	uint64_t	 t0 = mono_ms();
	const char	*me = lease_node();

	if (what == NULL || what[0] == '\0' || strlen(what) > LEASE_WHAT_MAX || ttl < 1 ||
	    (l = slot(what, 1)) == NULL)
		return -1;
	l->held = 0;
	if (run(d, "INSERT INTO leases (what, holder, expires) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (what) DO UPDATE SET holder = ?2, expires = ?3"
	    " WHERE leases.holder = ?2 OR leases.expires < ?4", what, me, now + ttl, now) == -1 ||
	    read_holder(dir_sqlite(d), l) == -1)
		return -1;
	l->held = strcmp(l->holder, me) == 0;
	/* Five sixths of the TTL, from before the take began: at 60 s, 50 s;
	 * renewed every third, two renewals may fail before it lapses. */
	l->valid_until_ms = t0 + (uint64_t)ttl * 1000 * 5 / 6;
	return l->held;
}

int
lease_mine(const char *what)
{
	struct lease *l = slot(what, 0);

	return l != NULL && l->held && mono_ms() < l->valid_until_ms;
}

const char *
lease_holder(const char *what)
{
	struct lease *l = slot(what, 0);

	return l != NULL ? l->holder : "";
}

int
lease_release(struct directory *d, const char *what)
{
	struct lease *l = slot(what, 0);

	if (l == NULL || !l->held)
		return 0;
	l->held = 0;
	/* expires 0: any node's next take finds it expired. */
	return run(d, "UPDATE leases SET expires = ?3 WHERE what = ?1 AND"
	    " holder = ?2 AND ?4 = ?4", what, lease_node(), 0, 0);
}

void
lease_release_all(struct directory *d)
{
	int i;

	for (i = 0; i < LEASES_MAX; i++)
		if (leases[i].what[0] != '\0' && leases[i].held)
			lease_release(d, leases[i].what);
}
