/*
 * poolpolicy.h: the decisions of a locker's PHP pool (phppool.c), apart
 * from its processes and sockets so that they can be tested alone
 * (tests/unit/test_poolpolicy.c): how many connections each front holds,
 * when the pool grows, when a process that went is replaced, and how many
 * may end for being unused; and front's tally of the connections it closed,
 * which it tells the worker (MSG_FCGI_DONE) and never loses.
 */
#ifndef POOLPOLICY_H
#define POOLPOLICY_H

#include <stdint.h>

#define POOL_HANDS_MAX	64	/* front channels holding connections of one pool */

/* Connections handed out per front channel, not yet said closed. */
struct pool_hands {
	struct {
		int		chan;
		unsigned	n;
	}		h[POOL_HANDS_MAX];
	int		nh;
	unsigned	busy;		/* the sum of h[].n */
};

void		hands_init(struct pool_hands *h);
int		hands_add(struct pool_hands *h, int chan);
void		hands_done(struct pool_hands *h, int chan, unsigned n);
void		hands_drop(struct pool_hands *h, int chan);
unsigned	hands_of(const struct pool_hands *h, int chan);

#define POOL_GROW_MS	100	/* a queue this old makes the pool grow ... */
#define POOL_START_GAP_MS 100	/* ... at most one start per this long */

int	pool_should_grow(unsigned alive, unsigned busy, unsigned cap, uint64_t queued_ms,
	    uint64_t since_start_ms);
int	pool_should_replace(unsigned alive, unsigned busy, unsigned cap);
unsigned pool_may_end(unsigned alive, unsigned busy);

/* One process's activity, from the kernel's count of its wake-ups. */
struct proc_activity {
	uint64_t	switches;	/* voluntary context switches, last seen */
	uint64_t	quiet_since;	/* unchanged since (ms) */
};

int	activity_quiet(struct proc_activity *a, uint64_t switches, uint64_t now,
	    uint64_t idle_ms);
int	activity_parse(const char *status, uint64_t *switches);

/* front: connections closed per pool, until the worker is told. */
#define DONE_TALLY_MAX	12
#define DONE_EXT_LEN	16
#define DONE_POOL_LEN	17

struct done_tally {
	struct {
		char		ext[DONE_EXT_LEN];
		char		pool[DONE_POOL_LEN];
		unsigned	n;
	}	e[DONE_TALLY_MAX];
	int	ne;
};

void	tally_add(struct done_tally *t, const char *ext, const char *pool);

#endif
