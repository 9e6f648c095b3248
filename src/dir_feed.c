/*
 * dir_feed.c: what the fleet's changes mean to this node's master.
 *
 * dir_apply.c has put another node's changes into the local copy; what the
 * master built from those tables is rebuilt here, and only what the changed
 * tables feed: the routing table (lockers, vhosts), a locker's limits
 * (locker_limits: its running worker, the fronts, logd), the names the ACME
 * client waits for (acme_names, vhost_claims), and this node's drain
 * (node_drain).  nodes and leases rows feed nothing here: they are read
 * when asked (locker status, lease_take).
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "ctl.h"
#include "dir_fleet.h"
#include "dirtab.h"
#include "drain.h"

static int
changed(const struct dir_applied *a, const char *tbl)
{
	int i = dirtab_index(tbl);

	return i >= 0 && (a->changed & (uint64_t)1 << i) != 0;
}

/* A worker whose locker another node removed stops here too. */
static void
workers_of_removed(void)
{
	struct child *w, *next;

	for (w = M->workers; w != NULL; w = next) {
		next = w->next;
		if (w->pid > 0 && w->role == ROLE_WORKER &&
		    dir_locker_get(M->dir, w->locker, NULL) == 0)
			worker_stop(w);
	}
}

static void
limits_one(const char *name)
{
	struct locker_rec lr;

	if (dir_locker_get(M->dir, name, &lr) == 1)
		limit_apply_live(&lr);
}

/* Too many to name (or a full copy): every locker that runs here. */
static void
limits_running(void)
{
	struct child *w;

	for (w = M->workers; w != NULL; w = w->next)
		if (w->pid > 0 && w->role == ROLE_WORKER)
			limits_one(w->locker);
}

static void
applied(struct directory *d, const struct dir_applied *a)
{
	int i, routes = changed(a, "lockers") || changed(a, "vhosts");

	(void)d;
	if (routes) {
		routes_push();		/* and acme_names_push() */
		workers_of_removed();
	} else if (changed(a, "acme_names") || changed(a, "vhost_claims"))
		acme_names_push();
	if (changed(a, "locker_limits")) {
		locker_conf_forget();
		if (a->all_limits)
			limits_running();
		for (i = 0; !a->all_limits && i < a->nlimits; i++)
			limits_one(a->limits[i]);
	}
	if (changed(a, "node_drain"))
		dir_feed_drain_check();
}

void
dir_feed_init(void)
{
	dir_fleet_on_applied(applied);
}

/* Whether an admin asked that this node be drained: its node_drain row. */
void
dir_feed_drain_check(void)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = dir_prep(M->dir, "node", "SELECT 1 FROM node_drain WHERE name = ?1")) == NULL)
		return;
	sqlite3_bind_text(st, 1, M->conf.node, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		drain_set(DRAIN_ASKED, rc == SQLITE_ROW);
}
