/*
 * poolpolicy.c: when a locker's PHP pool grows, replaces and ends its
 * processes, and who holds its connections (see phppool.c for the pool
 * itself).  Nothing here touches a process or a socket.
 *
 * The pool's processes share one listening socket and front opens a
 * connection per request (as nginx does by default, fastcgi_keep_conn
 * off), so "busy" is a count, not a map of who holds which process: the
 * connections the worker made and front has not said closed.  A
 * connection counts from its connect: one waiting in the socket's backlog
 * is a request queued, which is what makes the pool grow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolpolicy.h"

void
hands_init(struct pool_hands *h)
{
	memset(h, 0, sizeof(*h));
}

static int
hands_find(const struct pool_hands *h, int chan)
{
	int i;

	for (i = 0; i < h->nh; i++)
		if (h->h[i].chan == chan)
			return i;
	return -1;
}

/* One more connection held by chan; -1 when no room is left to count it
 * (more front channels than any lockerd runs): it is not handed out. */
int
hands_add(struct pool_hands *h, int chan)
{
	int i = hands_find(h, chan);

	if (i == -1) {
		/* A channel holding none is forgotten first: its slot is free. */
		for (i = 0; i < h->nh && h->h[i].n > 0; i++)
			;
		if (i == h->nh) {
			if (h->nh == POOL_HANDS_MAX)
				return -1;
			h->nh++;
		}
		h->h[i].chan = chan;
		h->h[i].n = 0;
	}
	h->h[i].n++;
	h->busy++;
	return 0;
}

/* chan closed n of them: never more than it holds (front's word on its
 * own connections only). */
void
hands_done(struct pool_hands *h, int chan, unsigned n)
{
	int i = hands_find(h, chan);

	if (i == -1)
		return;
	if (n > h->h[i].n)
		n = h->h[i].n;
	h->h[i].n -= n;
	h->busy -= n;
}

/* chan is gone: what it held went with it. */
void
hands_drop(struct pool_hands *h, int chan)
{
	int i = hands_find(h, chan);

	if (i == -1)
		return;
	h->busy -= h->h[i].n;
	h->h[i] = h->h[--h->nh];
}

unsigned
hands_of(const struct pool_hands *h, int chan)
{
	int i = hands_find(h, chan);

	return i == -1 ? 0 : h->h[i].n;
}

/*
 * More connections out (busy) than processes: requests queue in the
 * pool's backlog.  A queue that lasted POOL_GROW_MS makes the pool grow by
 * one, up to its size, and at most one start per POOL_START_GAP_MS.  A
 * start is an exec of PHP, 60-100 ms of a core (measured: a hundred
 * lockers at random, growing at a 10 ms queue, spent most of the
 * machine's CPU starting processes): a queue behind requests of a
 * fraction of a millisecond is over long before a new process could
 * help, and costs nothing to wait out, since whichever process is free
 * first takes the next connection, whoever asked for it.  (From the
 * zygote a start is about 1 ms, but the process's memory stays until it
 * has been unused for php-idle-timeout: the times stay until figures
 * say otherwise.)  None running: one at once.
 */
int
pool_should_grow(unsigned alive, unsigned busy, unsigned cap, uint64_t queued_ms,
    uint64_t since_start_ms)
{
	if (alive == 0)
		return 1;
	return busy > alive && alive < cap && queued_ms >= POOL_GROW_MS &&
	    since_start_ms >= POOL_START_GAP_MS;
}

/* A process went (crashed, recycled, or ended by us): another starts now
 * if connections wait that the others cannot all take at once. */
int
pool_should_replace(unsigned alive, unsigned busy, unsigned cap)
{
	return busy > 0 && busy > alive && alive < cap;
}

/* How many processes may end for being unused: those no connection can
 * be on, and never the last (it goes with the worker). */
unsigned
pool_may_end(unsigned alive, unsigned busy)
{
	unsigned spare;

	if (alive <= 1 || busy >= alive)
		return 0;
	spare = alive - busy;
	return spare < alive ? spare : alive - 1;
}

/*
 * Whether a process has been unused for idle_ms: a PHP process waiting in
 * accept() does not wake, so its count of voluntary context switches
 * stands still; serving a request moves it.  The kernel keeps the count,
 * so a locker's script cannot make an idle process look busy other than
 * by running in it.
 */
int
activity_quiet(struct proc_activity *a, uint64_t switches, uint64_t now, uint64_t idle_ms)
{
	if (switches != a->switches || a->quiet_since == 0) {
		a->switches = switches;
		a->quiet_since = now;
		return 0;
	}
	return now - a->quiet_since >= idle_ms;
}

/* voluntary_ctxt_switches of /proc/PID/status: 0, or -1 when absent. */
int
activity_parse(const char *status, uint64_t *switches)
{
	static const char	key[] = "\nvoluntary_ctxt_switches:";
	const char		*p = strstr(status, key);
	char			*end;
	unsigned long long	 v;

	if (p == NULL)
		return -1;
	p += sizeof(key) - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	v = strtoull(p, &end, 10);
	if (*end != '\n' && *end != '\0')
		return -1;
	*switches = v;
	return 0;
}

/*
 * One connection to ext's pool closed.  Kept by pool until the worker is
 * told; a locker with more pools in play than the tally holds has the
 * rest counted under ext "" (the worker takes them from any of that
 * front's), so nothing is ever dropped.
 */
void
tally_add(struct done_tally *t, const char *ext, const char *pool)
{
	int i;

	for (i = 0; i < t->ne; i++)
		if (strcmp(t->e[i].ext, ext) == 0 && strcmp(t->e[i].pool, pool) == 0) {
			t->e[i].n++;
			return;
		}
	if (t->ne >= DONE_TALLY_MAX - 1 && ext[0] != '\0') {
		tally_add(t, "", "");
		return;
	}
	snprintf(t->e[t->ne].ext, sizeof(t->e[t->ne].ext), "%s", ext);
	snprintf(t->e[t->ne].pool, sizeof(t->e[t->ne].pool), "%s", pool);
	t->e[t->ne].n = 1;
	t->ne++;
}
