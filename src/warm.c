/*
 * warm.c: the machine-wide cap on warm workers (max-workers), and the
 * workers by locker name.
 *
 * Every locker with recent traffic has a worker, and a worker with PHP
 * has its pool of php-cgi processes: one user with a thousand lockers
 * could keep a thousand of each warm, each a few megabytes, by asking for
 * each in turn.  So the master keeps at most max-workers of them.  A PHP
 * pool lives and dies inside its locker's worker (its pid namespace), so
 * the cap bounds the pools too.
 *
 * When a locker needs a worker past the cap, the worker that has been
 * quiet the longest is retired if it has been quiet for WARM_IDLE_MS at
 * least.  "Quiet" is what the workers say (MSG_ACTIVE at most once a
 * second while they serve, run scripts, or hear from front that a request
 * of theirs is in flight there: a PHP page on a pool connection front
 * keeps never passes through the worker) and when fronts last asked for
 * them.  If none is quiet, the request is refused with 503 and
 * Retry-After: the machine is full of work, and refusing is better than
 * killing a busy locker's requests.
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "lockerd.h"
#include "master.h"

#define WARM_IDLE_MS	2000
#define WARM_BUCKETS	1024

/* The master's children of each locker (workers and tasks) by name:
 * front's asks, `locker list` over every locker and `locker status` over
 * every process look one up without a walk of all of them. */
static struct child *by_name[WARM_BUCKETS];
static int over;	/* past the cap with none quiet: warm_tick() tries again */

static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % WARM_BUCKETS;
}

void
warm_index_add(struct child *w)
{
	struct child **b = &by_name[name_hash(w->locker)];

	w->hnext = *b;
	*b = w;
}

void
warm_index_del(struct child *w)
{
	struct child **pp;

	for (pp = &by_name[name_hash(w->locker)]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == w) {
			*pp = w->hnext;
			break;
		}
	w->hnext = NULL;
}

static int
warm(const struct child *w)
{
	return w->role == ROLE_WORKER && w->pid > 0 && !w->idle_exit;
}

struct child *
worker_find(const char *locker)
{
	struct child *w;

	for (w = by_name[name_hash(locker)]; w != NULL; w = w->hnext)
		if (warm(w) && strcmp(w->locker, locker) == 0)
			return w;
	return NULL;
}

int
locker_running(const char *locker, uint32_t uid)
{
	struct child *w;

	for (w = by_name[name_hash(locker)]; w != NULL; w = w->hnext)
		if (w->pid > 0 && w->uid == uid && strcmp(w->locker, locker) == 0)
			return 1;
	return 0;
}

struct child *
locker_child(const char *locker, pid_t pid)
{
	struct child *w;

	for (w = by_name[name_hash(locker)]; w != NULL; w = w->hnext)
		if (w->pid == pid && strcmp(w->locker, locker) == 0)
			return w;
	return NULL;
}

void
warm_active(struct child *w)
{
	w->active_ms = now_ms();
}

/* How many are warm, and the one quiet the longest (NULL if none is). */
static uint32_t
warm_count(uint64_t now, struct child **idlest)
{
	struct child	*w;
	uint32_t	 n = 0;

	*idlest = NULL;
	for (w = M->workers; w != NULL; w = w->next) {
		if (!warm(w))
			continue;
		n++;
		if (now - w->active_ms >= WARM_IDLE_MS &&
		    (*idlest == NULL || w->active_ms < (*idlest)->active_ms))
			*idlest = w;
	}
	return n;
}

/*
 * Killed at once, not asked as worker_stop() asks (SIGTERM, SIGKILL a
 * second later): it has been quiet by every report, its own and front's,
 * so nothing of it is lost; and a worker that its locker's scripts made
 * ignore SIGTERM (they can rewrite its memory) no longer outlives the cap
 * by that second.  As pid 1 of its namespace it takes its scripts and its
 * PHP pool along.
 */
static void
warm_retire(struct child *w, const char *why)
{
	log_info("max-workers %u %s: retiring the worker of %s, quiet for %" PRIu64 " ms",
	    M->conf.max_workers, why, w->locker, now_ms() - w->active_ms);
	if (w->pid > 0)
		kill(w->pid, SIGKILL);
	w->kill_at_ms = 0;
	w->idle_exit = 1;	/* no new channels go to it; not counted */
}

/*
 * Room for one more worker: 0 if there is (having retired the idlest one
 * if the cap was reached), -1 if every warm worker is busy.
 */
int
warm_make_room(void)
{
	struct child	*w, *idlest;
	uint64_t	 now = now_ms();

	if (M->conf.max_workers == 0)
		return 0;
	if (warm_count(now, &idlest) < M->conf.max_workers)
		return 0;
	/* At the cap: first what the workers said that this round has not
	 * read yet (a front's request may come before a worker's MSG_ACTIVE
	 * in the same round), then the idlest. */
	for (w = M->workers; w != NULL; w = w->next)
		if (warm(w) && w->chan != -1)
			child_read(w);
	if (warm_count(now, &idlest) < M->conf.max_workers)
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
	warm_retire(idlest, "reached");
	return 0;
}

/*
 * Down to the cap, now: a reload that lowers max-workers retires the quiet
 * workers beyond it at once (they used to go one per new start).  Busy
 * ones are left to finish; warm_tick() looks again once a second until
 * the count is down.
 */
void
warm_trim(void)
{
	struct child	*idlest;
	uint64_t	 now = now_ms();
	uint32_t	 n;

	over = 0;
	if (M->conf.max_workers == 0)
		return;
	while ((n = warm_count(now, &idlest)) > M->conf.max_workers) {
		if (idlest == NULL) {
			over = 1;
			return;
		}
		warm_retire(idlest, "lowered");
	}
}

void
warm_tick(void)
{
	static uint64_t last;
	uint64_t now;

	if (!over || (now = now_ms()) - last < 1000)
		return;
	last = now;
	warm_trim();
}
