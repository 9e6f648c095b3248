/*
 * drain.h: taking this node out of a load balancer's rotation before it
 * stops, or because an administrator asked (issue 18).
 *
 * The master holds the state (why the node drains, as bits); every front
 * has a copy (MSG_DRAIN) and answers the health check GET /.lockerd/health
 * with 200 "up" or 503 "draining" from it (health.c), so that HAProxy's
 * checks take the node out while it still serves what reaches it.
 */
#ifndef LOCKERD_DRAIN_H
#define LOCKERD_DRAIN_H

#include <stdint.h>

enum drain_why { DRAIN_ASKED = 1, DRAIN_STOPPING = 2 };	/* bits */

struct child;

/* master: sets or clears why; every front is told when the state changes. */
void		drain_set(unsigned why, int on);
/* master: the state now, 0 when up. */
unsigned	drain_state(void);
/* master: a front (re)started gets the state now, not at the next change. */
void		drain_send_front(struct child *f);
/*
 * master, SIGTERM: with drain-time secs > 0, drain now and return 1 (the
 * stop begins when drain_stop_due() says so); 0: stop at once (no drain
 * time, or a second SIGTERM while draining: the operator insists).
 */
int		drain_stop_begin(uint32_t secs);
/* master, each round: 1 once the drain before a stop has lasted its time. */
int		drain_stop_due(void);

/* The health check's path: a dot path, never a locker's. */
#define HEALTH_PATH	"/.lockerd/health"

#endif
