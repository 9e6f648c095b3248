/*
 * lease.h: what one node of a fleet must do alone (lease.c).
 *
 * A lease is a row of the directory's `leases` table: what (cron, acme,
 * hesiod), the node that holds it and until when.  The holder renews it
 * while it lives; another node takes it only once it has expired.  On one
 * machine every lease is always this node's.
 */
#ifndef LOCKERD_LEASE_H
#define LOCKERD_LEASE_H

#include <stddef.h>
#include <stdint.h>

struct directory;

#define LEASE_WHAT_MAX	15	/* the table's CHECK */
#define LEASE_NODE_MAX	63

/* This node's name as a holder (the `node` key); before it is set, the
 * host name's first label. */
void	lease_node_set(const char *node);
const char *lease_node(void);

/* Takes or renews lease `what` for this node for ttl seconds; 1 held, 0
 * someone else's, -1 error (the directory refused: e.g. PostgreSQL down --
 * then 0 is safe). */
int	lease_take(struct directory *d, const char *what, int64_t now, int64_t ttl);
/* From the last take, no I/O: 1 only while that take's lease has not run
 * out (on this node's monotonic clock, with a margin), so a holder that
 * cannot renew stops before another node may take over. */
int	lease_mine(const char *what);
/* The holder the last take saw ("" before one), for status lines. */
const char *lease_holder(const char *what);
/* Gives it up at once (a graceful stop): another node takes it at its
 * next try, not a TTL later.  0, or -1 when the directory refused. */
int	lease_release(struct directory *d, const char *what);
/* Every lease this node holds given up (the master's graceful stop). */
void	lease_release_all(struct directory *d);

#endif
