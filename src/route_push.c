/*
 * route_push.c: the master's side of route_delta.c.  A signup, a removal
 * or a vhost's change goes to every front as that one change
 * (MSG_ROUTE_DELTA), not as a new whole table: with 100,000 lockers and
 * vhosts a whole table took half a second to build from the directory
 * and a fifth to load in each front, per change.  A whole table still
 * goes at start, on reload and to a front that (re)starts (routes_push,
 * routes_push_one in lockerd.c).
 */
#include <stdio.h>
#include <string.h>

#include "lockerd.h"
#include "master.h"
#include "route.h"
#include "hesiod.h"

/*
 * A front that cannot take it is killed by child_send() and restarted
 * with a whole table, so no front goes on with a table that misses it.
 */
static void
delta_send(struct route_delta *d)
{
	int i;

	d->gen = ++M->route_gen;	/* the kept whole table is now stale */
	stats_routes_pushed(M->route_gen);
	for (i = 0; i < M->nfronts; i++)
		if (M->fronts[i].pid > 0)
			child_send(&M->fronts[i], MSG_ROUTE_DELTA, d, sizeof(*d), -1);
}

static void
locker_delta(enum route_op op, const char *name)
{
	struct route_delta d;

	memset(&d, 0, sizeof(d));
	d.op = op;
	snprintf(d.locker, sizeof(d.locker), "%s", name);
	delta_send(&d);
}

void
routes_locker_added(const char *name)
{
	locker_delta(ROUTE_ADD_LOCKER, name);
	hesiod_locker_added(name);
}

/* Front drops its vhosts with it, as the directory did. */
void
routes_locker_removed(const char *name)
{
	locker_delta(ROUTE_DEL_LOCKER, name);
	acme_names_push();	/* its vhosts' names went */
	hesiod_locker_removed(name);
}

/* Whatever the directory now says of host: routed there, or not at all. */
void
routes_vhost_changed(const char *host)
{
	struct route_delta	d;
	struct vhost_rec	v;

	memset(&d, 0, sizeof(d));
	snprintf(d.host, sizeof(d.host), "%s", host);
	switch (dir_vhost_get(M->dir, host, &v)) {
	case 1:
		d.op = ROUTE_SET_VHOST;
		d.https = (uint8_t)v.https;
		snprintf(d.locker, sizeof(d.locker), "%s", v.locker);
		snprintf(d.subdir, sizeof(d.subdir), "%s", v.subdir);
		break;
	case 0:
		d.op = ROUTE_DEL_VHOST;
		break;
	default:
		/* The directory did not answer: the whole table says it all. */
		routes_push();
		return;
	}
	delta_send(&d);
	acme_names_push();
}
