/*
 * phppool.c: a locker's PHP pools, kept by its worker as php-fpm's
 * "ondemand" keeps its own, with lockerd deciding (poolpolicy.c).
 *
 * A pool's processes accept on one listening socket, in the locker's own
 * tmp/, which the worker holds for the pool's life.  front opens a
 * connection per request, as nginx does by default (fastcgi_keep_conn
 * off): it asks the worker, which connects and passes the connection over
 * (front can open nothing), and the request goes to whichever process is
 * free first, whichever front it came through.  Kept connections were
 * tried and pinned a process to one front: a request through the other
 * front waited for it to be handed back, or for a new process's start
 * (an exec, ~100 ms), and a hundred lockers' requests spread at random
 * over two fronts were mostly such waits (534 req/s, p99 2.7 s, against
 * php-fpm's 7,485 req/s and 78 ms).
 *
 * The pool starts with one process on the first PHP request and grows by
 * one whenever a connection is asked for while every process has one
 * (it would queue), up to php-max-processes (never over max-scripts).
 * front says which connections it closed (MSG_FCGI_DONE, a count per pool,
 * kept in front until it is sent), so the worker knows how many are busy
 * without a message per request of its own.  A process whose count of
 * wake-ups stood still for php-idle-timeout is unused (it sleeps in
 * accept()) and ends, down to one, which goes with the worker when the
 * worker goes idle.
 *
 * A process that exits on its own after php-max-requests, or crashes, is
 * replaced at once if requests wait (else at the next one); its
 * connection in the socket's backlog stays there for the others.  Three
 * that die within a second of their start in a row stop the pool for a
 * while (503 and a line in the locker's error log): a PHP that cannot
 * start does not fork-bomb.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "poolpolicy.h"

#define POOL_PROCS_MAX	256	/* php-max-processes' bound */
#define POOL_BACKLOG	512	/* connections queued for a pool's processes */
#define QUICK_MS	1000	/* a death this soon after the start is a failed start */
#define QUICK_MAX	3	/* failed starts in a row that stop the pool ... */
#define BROKEN_MS	10000	/* ... for this long */

/* Pools of a .htaccess's settings a locker may have besides each
 * interpreter's own: each grows as the plain pool does. */
#define TAGGED_POOLS_MAX	4
#define POOLS_MAX	(CONF_MAX_INTERP + TAGGED_POOLS_MAX)

/* What makes two pools different: the interpreter, and a .htaccess's
 * php_value set (its tag, phpini.c; "" for none). */
struct pool_key {
	char	ext[CONF_EXT_LEN];
	char	tag[WSC_POOL_MAX + 1];
};

struct proc {
	pid_t			pid;		/* 0: the slot is free */
	uint64_t		started;
	int			told;		/* ended by us (SIGTERM, SIGKILL): no crash */
	struct proc_activity	act;
};

struct pool {
	struct pool_key		 key;
	struct interpreter	 in;
	char			 docroot[PATH_MAX];
	const struct config	*conf;	/* the worker's, updated in place */
	int			 lfd;	/* the processes' listening socket; -1 */
	struct proc		 p[POOL_PROCS_MAX];
	int			 nprocs;	/* alive and not told to end */
	struct pool_hands	 hands;	/* connections out, per front channel */
	int			 quick;		/* failed starts in a row */
	uint64_t		 broken_until;
	char			**php_d;	/* a tagged pool's -d settings, owned */
	int			 nphp_d;
	uint64_t		 used;		/* last asked for */
	uint64_t		 idle_check;	/* when to look for unused processes */
	uint64_t		 queued_since;	/* more connections out than processes; 0 */
	uint64_t		 last_start;
};

static void		 pool_retire(struct pool *p);
static struct pool	*pools[POOLS_MAX];
static int		 npools;

static unsigned
pool_cap(const struct pool *p)
{
	unsigned n = php_pool_cap(p->conf->max_scripts, p->conf->php_max_processes);

	return n < POOL_PROCS_MAX ? n : POOL_PROCS_MAX;
}

static const char *
req_tag(const struct script_req *s)
{
	return s->pool_tag != NULL ? s->pool_tag : "";
}

static struct pool *
pool_find(const char *ext, const char *tag)
{
	int i;

	for (i = 0; i < npools; i++)
		if (strcmp(pools[i]->key.ext, ext) == 0 && strcmp(pools[i]->key.tag, tag) == 0)
			return pools[i];
	return NULL;
}

/* A tagged pool keeps its own copy of the settings its processes start with. */
static int
pool_keep_settings(struct pool *p, const struct script_req *s)
{
	if (s->nphp_d <= 0 || s->php_d == NULL)
		return 0;
	if ((p->php_d = calloc((size_t)s->nphp_d, sizeof(*p->php_d))) == NULL)
		return -1;
	for (p->nphp_d = 0; p->nphp_d < s->nphp_d; p->nphp_d++)
		if ((p->php_d[p->nphp_d] = strdup(s->php_d[p->nphp_d])) == NULL)
			return -1;
	return 0;
}

static void
pool_free(struct pool *p)
{
	int i;

	if (p->lfd != -1)
		close(p->lfd);
	for (i = 0; i < p->nphp_d; i++)
		free(p->php_d[i]);
	free(p->php_d);
	free(p);
}

static struct pool *
pool_get(const struct script_req *s)
{
	struct pool *p = pool_find(s->interp->ext, req_tag(s));

	if (p != NULL || npools == POOLS_MAX)
		return p;
	/* calloc: the slots' pages are touched only as the pool grows. */
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	snprintf(p->key.ext, sizeof(p->key.ext), "%s", s->interp->ext);
	snprintf(p->key.tag, sizeof(p->key.tag), "%s", req_tag(s));
	p->in = *s->interp;
	snprintf(p->docroot, sizeof(p->docroot), "%s", s->docroot);
	p->conf = s->conf;
	p->lfd = -1;
	hands_init(&p->hands);
	if (pool_keep_settings(p, s) == -1) {
		pool_free(p);
		return NULL;
	}
	pools[npools++] = p;
	return p;
}

/*
 * Its socket, which is all that names it: in the locker's own tmp/ (mode
 * 0600, in a 0700 home); a pool of a .htaccess's settings in /tmp (the
 * home's tmp/ too, in the sandbox): the home's path and a tag would not
 * always fit in sun_path.  The name holds this node's (`node`): in a
 * fleet every node's worker of the locker has a pool, and the home is on
 * shared storage, so without it each node's bind() replaced the others'
 * socket (on one machine their fronts' requests then crossed to another
 * node's pool; over NFS a socket bound elsewhere cannot be reached).  A
 * home path too long for that goes to /tmp as a tagged pool does.
 */
static int
pool_addr(const struct pool *p, struct sockaddr_un *sun)
{
	const char	*node = p->conf->node;
	int		 n = (int)sizeof(sun->sun_path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (p->key.tag[0] == '\0')
		n = snprintf(sun->sun_path, sizeof(sun->sun_path),
		    "%s/../tmp/.lockerd-fcgi-%s.%s.sock", p->docroot, p->key.ext, node);
	if (n >= (int)sizeof(sun->sun_path))
		n = snprintf(sun->sun_path, sizeof(sun->sun_path), "/tmp/.lockerd-fcgi-%s%s%s.%s.sock",
		    p->key.ext, p->key.tag[0] != '\0' ? "-" : "", p->key.tag, node);
	return n >= (int)sizeof(sun->sun_path) ? -1 : 0;
}

/* The pool's listening socket, made anew (the locker may have removed
 * its file): processes on an old one are told to end, since nothing
 * reaches them any more. */
static int
pool_listen(struct pool *p)
{
	struct sockaddr_un	sun;
	int			i, lfd;

	if (pool_addr(p, &sun) == -1 ||
	    (lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	unlink(sun.sun_path);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0600) == -1 || listen(lfd, POOL_BACKLOG) == -1) {
		close(lfd);
		return -1;
	}
	if (p->lfd != -1) {
		close(p->lfd);
		for (i = 0; i < POOL_PROCS_MAX; i++)
			if (p->p[i].pid > 0 && !p->p[i].told) {
				p->p[i].told = 1;
				p->nprocs--;
				script_php_kill(p->p[i].pid, SIGTERM);
			}
	}
	p->lfd = lfd;
	return 0;
}

/* A new process on the pool's socket: 0, or -1. */
static int
proc_start(struct pool *p)
{
	struct script_req	s;
	int			i;
	pid_t			pid;

	for (i = 0; i < POOL_PROCS_MAX && p->p[i].pid != 0; i++)
		;
	if (i == POOL_PROCS_MAX || (p->lfd == -1 && pool_listen(p) == -1))
		return -1;
	memset(&s, 0, sizeof(s));
	s.conf = p->conf;
	s.interp = &p->in;
	s.docroot = p->docroot;
	s.php_d = (const char *const *)p->php_d;
	s.nphp_d = p->nphp_d;
	if ((pid = script_php_spawn(&s, p->lfd, p->conf->php_max_requests)) == -1)
		return -1;
	memset(&p->p[i], 0, sizeof(p->p[i]));
	p->p[i].pid = pid;
	p->p[i].started = p->last_start = now_ms();
	p->nprocs++;
	return 0;
}

/* A connection to the pool's socket: the descriptor, or -1 (errno). */
static int
pool_connect(struct pool *p)
{
	struct sockaddr_un	sun;
	int			fd, tries;

	for (tries = 0; tries < 2; tries++) {
		if (pool_addr(p, &sun) == -1 ||
		    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		close(fd);
		/* Its file gone or replaced (the locker's tmp/ is its own). */
		if ((errno != ENOENT && errno != ECONNREFUSED) || pool_listen(p) == -1 ||
		    proc_start(p) == -1)
			break;
	}
	return -1;
}

/* Requests queue (or none runs): one more process, when poolpolicy.c says. */
static void
pool_grow(struct pool *p, uint64_t now)
{
	if (p->hands.busy <= (unsigned)p->nprocs) {
		p->queued_since = 0;
		if (p->nprocs > 0)
			return;
	} else if (p->queued_since == 0)
		p->queued_since = now;
	if (p->broken_until > now)
		return;
	if (pool_should_grow((unsigned)p->nprocs, p->hands.busy, pool_cap(p),
	    p->queued_since ? now - p->queued_since : 0, now - p->last_start) &&
	    proc_start(p) == 0 && p->queued_since != 0)
		p->queued_since = now;	/* the next one after another wait */
}

/* A connection to p's socket for front's channel chan, counted as that
 * front's (the pool grows first if requests queue): the descriptor, or
 * -503 when its backlog is full (more queued than any front sends) or no
 * process could start. */
static int
pool_hand(struct pool *p, int chan)
{
	int fd;

	if (hands_add(&p->hands, chan) == -1)
		return -503;
	pool_grow(p, p->used);
	if (p->nprocs == 0 || (fd = pool_connect(p)) == -1) {
		hands_done(&p->hands, chan, 1);
		return -503;
	}
	if (p->idle_check == 0)
		p->idle_check = p->used + 1000;
	return fd;
}

/*
 * A PHP request: the pool runs (one process at least), and with want_conn
 * the asking front (chan) gets a connection.  Returns it, -1 when none
 * was asked for, or -status.
 */
int
php_pool_ask(const struct script_req *s, int chan, int want_conn)
{
	struct pool	*p;

	if ((p = pool_get(s)) == NULL)
		return -500;
	p->used = now_ms();
	if (p->broken_until > now_ms())
		return -503;
	if (!want_conn) {
		if (p->nprocs == 0 && proc_start(p) == -1)
			return -503;
		return -1;
	}
	return pool_hand(p, chan);
}

/*
 * MSG_FCGI_ASK: a connection for a script front resolved before (no
 * resolution here, as none was when front kept its connections): the
 * descriptor, -404 when the pool is not one of ours (this worker is a new
 * one, or the pool of a .htaccess's settings went), or -status.
 */
int
php_pool_connect(const struct msg_fcgi *m, int chan)
{
	struct pool	*p;

	if (memchr(m->ext, '\0', sizeof(m->ext)) == NULL ||
	    memchr(m->pool, '\0', sizeof(m->pool)) == NULL ||
	    (p = pool_find(m->ext, m->pool)) == NULL)
		return -404;
	p->used = now_ms();
	if (p->broken_until > p->used)
		return -503;
	return pool_hand(p, chan);
}

/*
 * front closed m->requests connections of a pool (m checked here: front's
 * word on its own connections only, never more than it holds).  ext "":
 * front did not know which pool (a connection it never used): any of its.
 */
void
php_pool_done(int chan, const struct msg_fcgi *m)
{
	unsigned	n = m->requests, k;
	int		i;

	if (memchr(m->ext, '\0', sizeof(m->ext)) == NULL ||
	    memchr(m->pool, '\0', sizeof(m->pool)) == NULL)
		return;
	for (i = 0; i < npools && n > 0; i++) {
		struct pool *p = pools[i];

		if (m->ext[0] != '\0' && (strcmp(p->key.ext, m->ext) != 0 ||
		    strcmp(p->key.tag, m->pool) != 0))
			continue;
		k = hands_of(&p->hands, chan);
		k = k < n ? k : n;
		hands_done(&p->hands, chan, k);
		n -= k;
		if (p->hands.busy <= (unsigned)p->nprocs)
			p->queued_since = 0;
	}
}

/* A front's channel closed: what it held is free. */
void
php_pool_chan_gone(int chan)
{
	int k;

	for (k = 0; k < npools; k++)
		hands_drop(&pools[k]->hands, chan);
}

static void
note_exit(const struct pool *p, pid_t pid, int status)
{
	char msg[200];

	if (WIFSIGNALED(status))
		snprintf(msg, sizeof(msg), "PHP process %d (%s) killed by signal %d",
		    (int)pid, p->in.path, WTERMSIG(status));
	else
		snprintf(msg, sizeof(msg), "PHP process %d (%s) exited with status %d",
		    (int)pid, p->in.path, WEXITSTATUS(status));
	script_note(msg);
}

/*
 * A failed start (a crash within a second of it) counts; QUICK_MAX in a
 * row stop the pool for BROKEN_MS.  Returns whether it is stopped.
 */
static int
count_failure(struct pool *p, const struct proc *pr, int status)
{
	char msg[200];

	if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	    now_ms() - pr->started >= QUICK_MS) {
		p->quick = 0;
		return 0;
	}
	if (++p->quick < QUICK_MAX)
		return 0;
	if (p->broken_until > now_ms())
		return 1;	/* one started before the pool stopped: said already */
	p->broken_until = now_ms() + BROKEN_MS;
	/* The requests queued for it end (front reads the end of each
	 * connection: 502); a new socket comes with the next start. */
	if (p->lfd != -1) {
		close(p->lfd);
		p->lfd = -1;
	}
	snprintf(msg, sizeof(msg), "PHP pool of .%s: %s exits at its start (%d times in a row); "
	    "no new one for %d s, requests answered 503", p->key.ext, p->in.path, p->quick,
	    BROKEN_MS / 1000);
	script_note(msg);
	return 1;
}

/* script_reap() reaped one of ours. */
void
php_pool_exited(pid_t pid, int status)
{
	struct proc	pr;
	struct pool	*p;
	int		i, k;

	for (k = 0; k < npools; k++)
		for (i = 0; i < POOL_PROCS_MAX; i++)
			if (pools[k]->p[i].pid == pid)
				goto found;
	return;
found:
	p = pools[k];
	pr = p->p[i];
	p->p[i].pid = 0;
	if (!pr.told)
		p->nprocs--;
	if (!pr.told) {
		/* php-max-requests served: a clean exit, said nothing of. */
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			note_exit(p, pid, status);
		if (count_failure(p, &pr, status))
			return;
	}
	/* Requests wait in the socket's backlog: its replacement starts now,
	 * not when front asks again. */
	if (pool_should_replace((unsigned)p->nprocs, p->hands.busy, pool_cap(p)) ||
	    (p->nprocs == 0 && p->hands.busy > 0))
		proc_start(p);
}

/* A process's wake-ups, from its /proc status: -1 when unreadable. */
static int
proc_switches(pid_t pid, uint64_t *switches)
{
	char	path[64], buf[2048];
	ssize_t	n;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return activity_parse(buf, switches);
}

/*
 * End the processes unused for php-idle-timeout (as many as no connection
 * can be on; the last one stays), and those beyond the pool's size (a
 * reload made it smaller).  Looked at twice per idle time.
 */
static void
procs_idle(struct pool *p, uint64_t now, uint64_t *next)
{
	uint64_t	idle_ms = (uint64_t)p->conf->php_idle_timeout * 1000;
	unsigned	may = pool_may_end((unsigned)p->nprocs, p->hands.busy);
	uint64_t	sw;
	int		i;

	if (p->nprocs <= 1) {
		p->idle_check = 0;
		return;
	}
	if (p->idle_check > now)
		goto again;
	for (i = 0; i < POOL_PROCS_MAX && p->nprocs > 1; i++) {
		struct proc *pr = &p->p[i];
		int quiet;

		if (pr->pid <= 0 || pr->told)
			continue;
		/* A process we cannot look at (one the zygote made, outside
		 * our view): unused when the whole pool was. */
		if (proc_switches(pr->pid, &sw) == -1)
			quiet = p->hands.busy == 0 && now - p->used >= idle_ms;
		else
			quiet = activity_quiet(&pr->act, sw, now, idle_ms);
		if ((quiet && may > 0) || (unsigned)p->nprocs > pool_cap(p)) {
			pr->told = 1;
			p->nprocs--;
			may -= may > 0;
			script_php_kill(pr->pid, SIGTERM);	/* in accept(): it exits at once */
		}
	}
	p->idle_check = now + (idle_ms / 2 > 100 ? idle_ms / 2 : 100);
again:
	if (p->nprocs > 1 && (*next == 0 || p->idle_check < *next))
		*next = p->idle_check;
}

/*
 * A pool of a .htaccess's settings nothing has asked for during its quiet
 * time, with no connection out, goes whole (an edit leaves the old set's
 * behind), as an idle worker goes with its plain pool:
 * max(worker-idle-timeout, script-timeout + file-cache-valid + 1 s), so
 * that no request can still be on its way to it.  Returns whether it went.
 */
static int
pool_quiet(struct pool *p, uint64_t now, uint64_t *next)
{
	const struct config	*c = p->conf;
	uint64_t		 busy = ((uint64_t)c->script_timeout + c->file_cache_valid + 1) * 1000;
	uint64_t		 quiet = (uint64_t)c->worker_idle_timeout * 1000;

	if (p->key.tag[0] == '\0' || p->hands.busy > 0)
		return 0;
	if (busy > quiet)
		quiet = busy;
	if (p->used + quiet <= now) {
		pool_retire(p);
		return 1;
	}
	if (*next == 0 || p->used + quiet < *next)
		*next = p->used + quiet;
	return 0;
}

/* Milliseconds to the next look at the pools; -1: none due. */
int
php_pool_timeouts(void)
{
	uint64_t	now = now_ms(), next = 0;
	int		k;

	for (k = npools - 1; k >= 0; k--) {
		struct pool *p = pools[k];

		if (pool_quiet(p, now, &next))
			continue;
		procs_idle(p, now, &next);
		/* A queue that lasts: grown here if no request comes to see it
		 * (looked at again only while the pool may grow). */
		if (p->queued_since != 0) {
			uint64_t due;

			pool_grow(p, now);
			due = p->queued_since + POOL_GROW_MS;
			if (due < p->last_start + POOL_START_GAP_MS)
				due = p->last_start + POOL_START_GAP_MS;
			if (due <= now)
				due = now + POOL_GROW_MS;
			if (p->queued_since != 0 && (unsigned)p->nprocs < pool_cap(p) &&
			    p->broken_until <= now && (next == 0 || due < next))
				next = due;
		}
	}
	return next == 0 ? -1 : (int)(next > now ? next - now : 0);
}

/*
 * A new configuration that changes what a process was started with (the
 * body limit; the interpreters): the processes go, and start again as
 * requests need them (the ones queued in the socket's backlog at once).
 * A new size or idle time holds from now on.
 */
void
php_pools_reconfigure(const struct config *old, const struct config *new)
{
	int i, k;

	if (old->max_body_size == new->max_body_size && old->ninterp == new->ninterp &&
	    memcmp(old->interp, new->interp, sizeof(old->interp)) == 0)
		return;
	for (k = 0; k < npools; k++) {
		struct pool		*p = pools[k];
		const struct interpreter *in = script_interp(new, p->key.ext);

		if (in != NULL)
			p->in = *in;
		p->quick = 0;
		p->broken_until = 0;
		for (i = 0; i < POOL_PROCS_MAX; i++)
			if (p->p[i].pid > 0 && !p->p[i].told) {
				p->p[i].told = 1;
				p->nprocs--;
				script_php_kill(p->p[i].pid, SIGKILL);
			}
	}
}

/* A pool goes whole: its processes killed, its socket removed. */
static void
pool_retire(struct pool *p)
{
	struct sockaddr_un	sun;
	int			i;

	for (i = 0; i < POOL_PROCS_MAX; i++)
		if (p->p[i].pid > 0)
			script_php_kill(p->p[i].pid, SIGKILL);	/* reaped by script_reap() */
	if (pool_addr(p, &sun) == 0)
		unlink(sun.sun_path);
	for (i = 0; i < npools && pools[i] != p; i++)
		;
	pools[i] = pools[--npools];
	pool_free(p);
}

/*
 * Whether s's pool runs or may start: its interpreter's own always; a pool
 * of a .htaccess's settings is one of at most TAGGED_POOLS_MAX; past them,
 * the one asked for least recently goes, if no request can be on it still
 * (not asked for during a whole script-timeout and front's resolution
 * cache).  1, or 0: the page runs by CGI this time.
 */
int
php_pool_room(const struct script_req *s)
{
	struct pool	*lru = NULL;
	uint64_t	 quiet = ((uint64_t)s->conf->script_timeout +
			    (uint64_t)s->conf->file_cache_valid + 1) * 1000;
	int		 i, n = 0;

	if (req_tag(s)[0] == '\0' || pool_find(s->interp->ext, req_tag(s)) != NULL)
		return 1;
	for (i = 0; i < npools; i++) {
		if (pools[i]->key.tag[0] == '\0')
			continue;
		n++;
		if (lru == NULL || pools[i]->used < lru->used)
			lru = pools[i];
	}
	if (n < TAGGED_POOLS_MAX)
		return 1;
	if (lru->used + quiet > now_ms())
		return 0;
	pool_retire(lru);
	return 1;
}
