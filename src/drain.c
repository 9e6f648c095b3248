/*
 * drain.c: the master's side of draining (drain.h).
 *
 * Two reasons may hold at once: an administrator's `locker node drain`
 * (DRAIN_ASKED, from the directory) and a stop under way (DRAIN_STOPPING,
 * SIGTERM with drain-time).  The node is up only when neither does.  The
 * fronts keep a copy, pushed on every change and to each front started,
 * because they answer the health checks themselves: a check never waits
 * on the master.
 */
#include <stdint.h>

#include "lockerd.h"
#include "master.h"
#include "drain.h"

static unsigned	state;		/* DRAIN_* bits */
static uint64_t	stop_at_ms;	/* 0: no stop pending behind a drain */

void
drain_send_front(struct child *f)
{
	uint32_t s = state;

	if (f->pid > 0)
		child_send(f, MSG_DRAIN, &s, sizeof(s), -1);
}

void
drain_set(unsigned why, int on)
{
	unsigned	old = state;
	int		i;

	state = on ? state | why : state & ~why;
	if (state == old)
		return;
	log_info("node %s (%s%s%s)", state ? "draining: health checks answer 503" :
	    "up: health checks answer 200", state & DRAIN_ASKED ? "drained by an admin" : "",
	    (state & DRAIN_ASKED) && (state & DRAIN_STOPPING) ? ", " : "",
	    state & DRAIN_STOPPING ? "stopping" : state ? "" : "nothing drains it");
	for (i = 0; i < M->nfronts; i++)
		drain_send_front(&M->fronts[i]);
}

unsigned
drain_state(void)
{
	return state;
}

int
drain_stop_begin(uint32_t secs)
{
	if (secs == 0 || stop_at_ms != 0) {
		stop_at_ms = 0;
		return 0;
	}
	stop_at_ms = now_ms() + (uint64_t)secs * 1000;
	log_info("stopping: draining for %us first (drain-time), still serving", secs);
	drain_set(DRAIN_STOPPING, 1);
	return 1;
}

int
drain_stop_due(void)
{
	if (stop_at_ms == 0 || now_ms() < stop_at_ms)
		return 0;
	stop_at_ms = 0;
	return 1;
}
