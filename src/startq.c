/*
 * startq.c: the cap on workers starting at once, and the queue past it.
 *
 * A request storm naming thousands of lockers, each without a worker,
 * would have the master clone a sandbox for every one of them in a row:
 * each start is cheap, but hundreds of them at once take the machine's
 * cores from the lockers that are already warm, and the master's loop
 * from everyone else.  So at most max-worker-starts workers are starting
 * at any time: from their clone until the first word they say (the
 * MSG_ACTIVE every worker sends as it enters its loop), or their end.
 *
 * Past the cap, front's ask waits here, in arrival order, at most
 * worker-start-queue of them and each at most worker-start-wait; past
 * either bound the ask is answered 503 (front adds Retry-After), which
 * costs the master nothing.  Asks for lockers already warm, or already
 * starting, never wait: they get a channel at once.  Asks for lockers
 * that do not exist never reach the master: front's routing table has
 * no such locker and answers 404 itself.
 *
 * A start that never says anything (a sandbox stuck on a slow disk) stops
 * counting after START_STUCK_MS, so it cannot hold a slot forever.
 */
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"
#include "master.h"

#define START_STUCK_MS	10000

struct ask {
	struct child	*front;		/* M->fronts[i]: never freed */
	pid_t		 front_pid;	/* the front that asked, not a restart of it */
	struct msg_worker req;
	uint64_t	 since_ms;
};

static struct ask	*q;		/* a ring of M->conf.worker_start_queue */
static size_t		 qcap, qhead, qlen;
static uint32_t		 nstarting;

uint32_t
startq_starting(void)
{
	return nstarting;
}

size_t
startq_waiting(void)
{
	return qlen;
}

int
startq_room(void)
{
	return nstarting < M->conf.max_worker_starts;
}

void
startq_started(struct child *w)
{
	w->starting = 1;
	nstarting++;
}

/* Its first word, its end, or stuck: the slot is free. */
void
startq_done(struct child *w)
{
	if (!w->starting)
		return;
	w->starting = 0;
	nstarting--;
}

/* The ring sized to the configuration (a reload may change it): asks
 * already waiting keep their order; those past a smaller bound are busy. */
static int
ring_fit(void)
{
	size_t	 want = M->conf.worker_start_queue, i;
	struct ask *n;

	if (want == qcap)
		return 0;
	if (want < qlen)
		return 0;	/* shrinks once the queue drains below it */
	if ((n = calloc(want ? want : 1, sizeof(*n))) == NULL)
		return -1;
	for (i = 0; i < qlen; i++)
		n[i] = q[(qhead + i) % qcap];
	free(q);
	q = n;
	qcap = want;
	qhead = 0;
	return 0;
}

/* 0: queued; -1: the queue is full (answer 503). */
int
startq_wait(struct child *front, const struct msg_worker *req)
{
	struct ask *a;

	if (ring_fit() == -1 || qlen >= M->conf.worker_start_queue || qlen >= qcap)
		return -1;
	a = &q[(qhead + qlen) % qcap];
	a->front = front;
	a->front_pid = front->pid;
	a->req = *req;
	a->since_ms = now_ms();
	qlen++;
	return 0;
}

static int
pop(struct ask *out)
{
	if (qlen == 0)
		return 0;
	*out = q[qhead];
	qhead = (qhead + 1) % qcap;
	qlen--;
	return 1;
}

/*
 * From the master's loop: stuck starts stop counting, asks waited too long
 * are refused, and as many as there is room for are answered again (a
 * start, or a channel to a worker another ask started meanwhile).
 */
void
startq_tick(void)
{
	struct child	*w;
	struct ask	 a;
	uint64_t	 now = now_ms(), wait_ms = (uint64_t)M->conf.worker_start_wait * 1000;

	for (w = M->workers; nstarting > 0 && w != NULL; w = w->next)
		if (w->starting && now - w->started_ms >= START_STUCK_MS) {
			log_warnx("worker %s: not started after %d ms; no longer counted "
			    "as starting", w->locker, START_STUCK_MS);
			startq_done(w);
		}
	while (qlen > 0 && (startq_room() || now - q[qhead].since_ms >= wait_ms)) {
		pop(&a);
		/* A front that went (and came back) asks again for what it needs. */
		if (a.front->pid != a.front_pid || a.front->chan == -1)
			continue;
		if (now - a.since_ms >= wait_ms)
			worker_ask_refuse(a.front, &a.req);
		else
			worker_ask(a.front, &a.req);
	}
}
