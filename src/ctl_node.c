/*
 * ctl_node.c: `locker node drain|undrain NODE` (root) and the nodes part of
 * `locker status`.
 *
 * A drain is a row of node_drain, written through the directory's path like
 * any change: in a fleet it reaches every node by the feed, and the named
 * node's master, seeing its own row, tells its fronts (drain_set), whose
 * health check then answers 503 so that HAProxy takes it out; it stays
 * drained across restarts until undrained.  On one machine the same row,
 * in the local table, drains this node.
 *
 * The nodes are the rows each node's dirsync writes into the fleet
 * directory every second (name, address, state, load, last contact); on
 * one machine the one node, from memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "ctl.h"
#include "dir_fleet.h"
#include "drain.h"

#define WHO	"node"

/* The NODE of the request: its one argument, a node's name. */
static const char *
node_arg(struct ctl_client *c)
{
	const char *n = c->req.argv;

	if (c->req.argc != 1 || memchr(n, '\0', sizeof(c->req.argv)) == NULL ||
	    !node_name_ok(n))
		return NULL;
	return n;
}

static int
node_known(const char *name)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (strcmp(name, M->conf.node) == 0)
		return 1;
	if ((st = dir_prep(M->dir, WHO, "SELECT 1 FROM nodes WHERE name = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The row written or deleted, in one transaction through the directory's
 * path (a fleet: PostgreSQL's first); 0, or -1 with err. */
static int
drain_write(const char *name, int on, uid_t uid, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if (dir_tx_begin(M->dir, err, errlen) == -1)
		return -1;
	st = dir_prep(M->dir, WHO, on ? "INSERT INTO node_drain (name, at, who) VALUES"
	    " (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING" :
	    "DELETE FROM node_drain WHERE name = ?1");
	if (st == NULL) {
		snprintf(err, errlen, "the directory failed");
		return dir_tx_abort(M->dir);
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (on) {
		sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
		sqlite3_bind_int64(st, 3, (int64_t)uid);
	}
	if (dir_step(M->dir, WHO, st) == -1) {
		snprintf(err, errlen, "the directory failed");
		return dir_tx_abort(M->dir);
	}
	return dir_tx_commit(M->dir, err, errlen);
}

void
do_node(struct ctl_client *c)
{
	const char	*name = node_arg(c);
	int		 on = c->req.verb == CTL_NODE_DRAIN;
	char		 err[512];
	int		 known;

	if (name == NULL) {
		done(c, 2, "usage: locker node %s NODE (a node's name: 1-63 lower-case "
		    "letters, digits and '-')", on ? "drain" : "undrain");
		return;
	}
	if ((known = node_known(name)) == 0 && dir_fleet(M->dir) == NULL) {
		done(c, 1, "no node %s: this lockerd is node %s, on its own (directory sqlite)",
		    name, M->conf.node);
		return;
	}
	if (known == -1 || drain_write(name, on, c->uid, err, sizeof(err)) == -1) {
		done(c, 1, "node %s: %s", name, known == -1 ? "the directory failed" : err);
		return;
	}
	dir_audit(M->dir, on ? "node-drain" : "node-undrain", "", name, err, sizeof(err));
	dir_feed_drain_check();
	log_info("node %s %s by uid %u", name, on ? "drained" : "undrained", (unsigned)c->uid);
	done(c, 0, "node %s %s%s", name, on ? "is drained: its health check says 503, and "
	    "the load balancer sends it no new connections" : "is back in rotation",
	    known ? "" : " (no such node has reported yet)");
}

/* ------------------------------------------------------------ status */

static void
col(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
}

/* This node, from memory: one machine has no nodes rows. */
static void
status_self(struct ctl_client *c, struct ctl_node *n)
{
	double la[1];

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", M->conf.node);
	snprintf(n->state, sizeof(n->state), "%s", drain_state() ? "draining" : "up");
	if (getloadavg(la, 1) == 1)
		n->load = (int32_t)(la[0] * 100);
	n->seen = n->now = (int64_t)time(NULL);
	n->drained = (drain_state() & DRAIN_ASKED) != 0;
	reply(c, MSG_CTL_NODE, n, sizeof(*n));
}

/* Every node that reported, and any drained that never did. */
void
status_nodes(struct ctl_client *c)
{
	struct ctl_node	 n;
	sqlite3_stmt	*st;
	int		 rows = 0;

	if (dir_fleet(M->dir) == NULL) {
		status_self(c, &n);
		return;
	}
	st = dir_prep(M->dir, WHO, "SELECT n.name, n.addr, n.state, n.load, n.seen, n.started,"
	    " d.name IS NOT NULL FROM nodes n LEFT JOIN node_drain d ON d.name = n.name"
	    " UNION ALL SELECT d.name, '', 'unknown', 0, 0, 0, 1 FROM node_drain d"
	    " WHERE d.name NOT IN (SELECT name FROM nodes) ORDER BY 1");
	if (st == NULL)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		memset(&n, 0, sizeof(n));
		col(st, 0, n.name, sizeof(n.name));
		col(st, 1, n.addr, sizeof(n.addr));
		col(st, 2, n.state, sizeof(n.state));
		n.load = sqlite3_column_int(st, 3);
		n.seen = sqlite3_column_int64(st, 4);
		n.started = sqlite3_column_int64(st, 5);
		n.drained = sqlite3_column_int(st, 6);
		n.now = (int64_t)time(NULL);
		reply(c, MSG_CTL_NODE, &n, sizeof(n));
		rows++;
	}
	sqlite3_finalize(st);
	if (rows == 0)		/* dirsync has not written ours yet */
		status_self(c, &n);
}
