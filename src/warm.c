/*
 * warm.c: the machine-wide cap on warm workers (max-workers).
 *
 * Every locker with recent traffic has a worker, and a worker with PHP
 * has its pool of php-cgi processes: one user with a thousand lockers
 * could keep a thousand of each warm, each a few megabytes, by asking for
 * each in turn.  So the master keeps at most max-workers of them.  A PHP
 * pool lives and dies inside its locker's worker (its pid namespace), so
 * the cap bounds the pools too.
 *
 * When a locker needs a worker past the cap, the worker that has been
 * quiet the longest is retired (asked to stop, as an idle one stops by
 * itself) if it has been quiet for WARM_IDLE_MS at least; "quiet" is what
 * the workers say (MSG_ACTIVE at most once a second while they serve or
 * run scripts) and when fronts last asked for them.  If none is quiet, the
 * request is refused with 503 and Retry-After: the machine is full of
 * work, and refusing is better than killing a busy locker's requests.
 */
#include <inttypes.h>

#include "lockerd.h"
#include "master.h"

#define WARM_IDLE_MS	2000

static int
warm(const struct child *w)
{
	return w->role == ROLE_WORKER && w->pid > 0 && !w->idle_exit;
}

void
warm_active(struct child *w)
{
	w->active_ms = now_ms();
}

/*
 * Room for one more worker: 0 if there is (having retired the idlest one
 * if the cap was reached), -1 if every warm worker is busy.
 */
int
warm_make_room(void)
{
	struct child	*w, *idlest = NULL;
	uint64_t	 now = now_ms();
	uint32_t	 n = 0;

	if (M->conf.max_workers == 0)
		return 0;
	for (w = M->workers; w != NULL; w = w->next)
		n += warm(w);
	if (n < M->conf.max_workers)
		return 0;
	/* At the cap: first what the workers said that this round has not
	 * read yet (a front's request may come before a worker's MSG_ACTIVE
	 * in the same round), then the idlest. */
	for (w = M->workers; w != NULL; w = w->next)
		if (warm(w) && w->chan != -1)
			child_read(w);
	for (n = 0, w = M->workers; w != NULL; w = w->next) {
		if (!warm(w))
			continue;
		n++;
		if (now - w->active_ms >= WARM_IDLE_MS &&
		    (idlest == NULL || w->active_ms < idlest->active_ms))
			idlest = w;
	}
	if (n < M->conf.max_workers)
		return 0;
	if (idlest == NULL) {
		static uint64_t logged;

		if (now - logged >= 1000) {	/* once a second, not once a request */
			log_warnx("max-workers %u reached and every worker busy: 503",
			    M->conf.max_workers);
			logged = now;
		}
		return -1;
	}
	log_info("max-workers %u reached: retiring the worker of %s, quiet for %" PRIu64
	    " ms", M->conf.max_workers, idlest->locker, now - idlest->active_ms);
	worker_stop(idlest);
	return 0;
}
