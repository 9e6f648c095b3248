/*
 * phppool.c: a locker's PHP pools, kept by its worker as php-fpm's
 * "ondemand" keeps its own, with lockerd deciding.
 *
 * A pool starts with one PHP process on the first PHP request, grows by
 * one whenever a front asks for a connection and every process is held,
 * up to php-max-processes (never over max-scripts), and shrinks: a process
 * unused for php-idle-timeout ends, down to one, which goes with the
 * worker when the worker goes idle.
 *
 * Each process has a listening socket of its own, not one shared by all,
 * so that the worker knows which process each connection it hands out
 * holds (front keeps its connections open, FCGI_KEEP_CONN, and php-cgi
 * serves one connection at a time): it ends exactly a process nobody
 * holds, never one with a kept connection, and a connection it hands out
 * is never queued behind a process another front keeps.  Which front holds
 * what is told here: MSG_FCGI_DONE when front closes one (by the inode of
 * the socket, the same object in both processes).  When every process is
 * held and the pool is full, the asking front is told to wait (an answer
 * without a connection), and gets one with MSG_FCGI_GRANT as soon as one
 * is given back; the front holding the most is asked to give one back
 * (MSG_FCGI_RECLAIM), an idle one at once or, when it holds more than its
 * part, a busy one once its request is done.  So the fronts' shares follow
 * the pool, with no fixed split between them.
 *
 * A process that exits on its own after php-max-requests is replaced when
 * it was in use; one that crashes too, but three that die within a second
 * of their start in a row stop the pool for a while (503 and a line in the
 * locker's error log): a PHP that cannot start does not fork-bomb.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

#define POOL_PROCS_MAX	256	/* php-max-processes' bound */
#define POOL_WANTS_MAX	256	/* fronts told to wait, at most */
#define QUICK_MS	1000	/* a death this soon after the start is a failed start */
#define QUICK_MAX	3	/* failed starts in a row that stop the pool ... */
#define BROKEN_MS	10000	/* ... for this long */
#define GROW_GRACE_MS	20	/* a front's idle connection may come back first */

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
	pid_t		pid;		/* 0: the slot is free */
	int		chan;		/* the front channel whose connection it serves; -1 */
	uint64_t	ino;		/* that connection's socket */
	uint64_t	started;
	uint64_t	free_since;	/* held by nobody since */
	int		ending;		/* ending or gone: not to be handed out */
	int		told;		/* ended by us (SIGTERM, SIGKILL): no crash */
	uint64_t	served;		/* requests, as front counts them at DONE */
};

struct pool {
	struct pool_key		 key;
	struct interpreter	 in;
	char			 docroot[PATH_MAX];
	const struct config	*conf;	/* the worker's, updated in place */
	struct proc		 p[POOL_PROCS_MAX];
	int			 nprocs;
	int			 wants[POOL_WANTS_MAX];	/* channels told to wait, oldest first */
	int			 nwants;
	int			 quick;		/* failed starts in a row */
	uint64_t		 broken_until;
	char			**php_d;	/* a tagged pool's -d settings, owned */
	int			 nphp_d;
	uint64_t		 used;		/* last asked for */
	uint64_t		 grow_at;	/* fronts wait: start a process from then */
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

	for (i = 0; i < p->nphp_d; i++)
		free(p->php_d[i]);
	free(p->php_d);
	free(p);
}

static struct pool *
pool_get(const struct script_req *s)
{
	struct pool	*p = pool_find(s->interp->ext, req_tag(s));
	int		 i;

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
	for (i = 0; i < POOL_PROCS_MAX; i++)
		p->p[i].chan = -1;
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
 * always fit in sun_path.
 */
static int
proc_addr(const struct pool *p, int i, struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (p->key.tag[0] != '\0')
		n = snprintf(sun->sun_path, sizeof(sun->sun_path), "/tmp/.lockerd-fcgi-%s-%s.%d.sock",
		    p->key.ext, p->key.tag, i);
	else
		n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/../tmp/.lockerd-fcgi-%s.%d.sock",
		    p->docroot, p->key.ext, i);
	return n >= (int)sizeof(sun->sun_path) ? -1 : 0;
}

static int
alive(const struct pool *p)
{
	int i, n = 0;

	for (i = 0; i < POOL_PROCS_MAX; i++)
		n += p->p[i].pid > 0 && !p->p[i].ending;
	return n;
}

static int
held_by_others(const struct pool *p, int chan)
{
	int i, n = 0;

	for (i = 0; i < POOL_PROCS_MAX; i++)
		n += p->p[i].pid > 0 && p->p[i].chan != -1 && p->p[i].chan != chan;
	return n;
}

static int
held_by(const struct pool *p, int chan)
{
	int i, n = 0;

	for (i = 0; i < POOL_PROCS_MAX; i++)
		n += p->p[i].pid > 0 && p->p[i].chan == chan;
	return n;
}

static int
any_free(const struct pool *p)
{
	int i;

	for (i = 0; i < POOL_PROCS_MAX; i++)
		if (p->p[i].pid > 0 && p->p[i].chan == -1 && !p->p[i].ending)
			return 1;
	return 0;
}

/* A new process in a free slot: its index, or -1. */
static int
proc_start(struct pool *p)
{
	struct sockaddr_un	sun;
	struct script_req	s;
	int			i, lfd;
	pid_t			pid;

	for (i = 0; i < POOL_PROCS_MAX && p->p[i].pid != 0; i++)
		;
	if (i == POOL_PROCS_MAX || proc_addr(p, i, &sun) == -1 ||
	    (lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	unlink(sun.sun_path);
	/* The worker keeps no copy of it: once the process is gone, a connect
	 * is refused rather than left waiting in a backlog nobody reads. */
	memset(&s, 0, sizeof(s));
	s.conf = p->conf;
	s.interp = &p->in;
	s.docroot = p->docroot;
	s.php_d = (const char *const *)p->php_d;
	s.nphp_d = p->nphp_d;
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0600) == -1 || listen(lfd, 16) == -1 ||
	    (pid = script_php_spawn(&s, lfd, p->conf->php_max_requests)) == -1) {
		close(lfd);
		return -1;
	}
	close(lfd);
	p->p[i].pid = pid;
	p->p[i].chan = -1;
	p->p[i].ending = 0;
	p->p[i].told = 0;
	p->p[i].served = 0;
	p->p[i].started = p->p[i].free_since = now_ms();
	p->nprocs++;
	return i;
}

/* A connection to process i, held by chan from now on: the socket, or -1. */
static int
proc_connect(struct pool *p, int i, int chan)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;

	if (proc_addr(p, i, &sun) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 || fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	p->p[i].chan = chan;
	p->p[i].ino = (uint64_t)st.st_ino;
	return fd;
}

/* A process nobody holds, or with may_start a new one while the pool may
 * grow: -1, none. */
static int
proc_free(struct pool *p, int may_start)
{
	int i;

	for (i = 0; i < POOL_PROCS_MAX; i++)
		if (p->p[i].pid > 0 && p->p[i].chan == -1 && !p->p[i].ending)
			return i;
	if (!may_start || p->broken_until > now_ms() || (unsigned)alive(p) >= pool_cap(p))
		return -1;
	return proc_start(p);
}

/* A connection for chan (to process *slot): the socket, or -1 when none
 * is free now. */
static int
grant(struct pool *p, int chan, int *slot, int may_start)
{
	int i, fd, tries;

	for (tries = 0; tries < 3; tries++) {
		if ((i = proc_free(p, may_start)) == -1)
			return -1;
		if ((fd = proc_connect(p, i, chan)) != -1) {
			*slot = i;
			return fd;
		}
		/* It died and is not reaped yet: not to be handed out again. */
		p->p[i].ending = 1;
	}
	return -1;
}

/*
 * chan waits: ask the front holding the most to give one back; one that
 * holds more than its part (or any, while the asker holds none) gives a
 * busy one back once its request is done.
 */
static void
reclaim(struct pool *p, int asker)
{
	struct msg_fcgi	m;
	int		i, best = -1, most = 0, mine = held_by(p, asker);

	for (i = 0; i < POOL_PROCS_MAX; i++) {
		int c = p->p[i].chan, n;

		if (p->p[i].pid <= 0 || c == -1 || c == asker || c == best)
			continue;
		if ((n = held_by(p, c)) > most) {
			most = n;
			best = c;
		}
	}
	if (best == -1)
		return;
	memset(&m, 0, sizeof(m));
	snprintf(m.ext, sizeof(m.ext), "%s", p->key.ext);
	snprintf(m.pool, sizeof(m.pool), "%s", p->key.tag);
	/* A busy one only when the pool cannot grow for the asker. */
	m.flags = (unsigned)alive(p) >= pool_cap(p) && (most > mine + 1 || mine == 0) ?
	    FCGI_MUST : 0;
	msg_send(best, MSG_FCGI_RECLAIM, &m, sizeof(m), -1);	/* lost: the next ask asks again */
}

/* Hand what is free to the fronts told to wait, oldest first. */
static void
grant_wants(struct pool *p)
{
	struct msg_fcgi	m;
	int		fd, chan, i, granted = 0;

	memset(&m, 0, sizeof(m));
	snprintf(m.ext, sizeof(m.ext), "%s", p->key.ext);
	snprintf(m.pool, sizeof(m.pool), "%s", p->key.tag);
	while (p->nwants > 0) {
		chan = p->wants[0];
		/* It holds the whole pool already: a front asks beyond the pool
		 * before its channel opens (its locker's own max-scripts comes
		 * with the opening).  Its wait ends without a connection, rather
		 * than with each of the others' given back to it while the
		 * front behind waits for one nobody is asked for. */
		if ((unsigned)held_by(p, chan) >= pool_cap(p)) {
			msg_send(chan, MSG_FCGI_GRANT, &m, sizeof(m), -1);
			memmove(p->wants, p->wants + 1, sizeof(p->wants[0]) * (size_t)--p->nwants);
			continue;
		}
		if ((fd = grant(p, chan, &i, now_ms() >= p->grow_at)) == -1) {
			/* The one granted now is held: the next front in line asks
			 * for one back, or it waits for ever (told to wait, it
			 * does not ask again, and a held process is not given
			 * back unasked). */
			if (granted)
				reclaim(p, p->wants[0]);
			return;
		}
		granted = 1;
		m.ino = p->p[i].ino;
		if (msg_send(chan, MSG_FCGI_GRANT, &m, sizeof(m), fd) == -1) {
			/* Its channel is full: again from php_pool_timeouts(). */
			p->p[i].chan = -1;
			p->p[i].free_since = now_ms();
			close(fd);
			return;
		}
		close(fd);
		memmove(p->wants, p->wants + 1, sizeof(p->wants[0]) * (size_t)--p->nwants);
	}
	p->grow_at = 0;
}

/* The pool stopped: every front told to wait is told the wait is over. */
static void
wants_cancel(struct pool *p)
{
	struct msg_fcgi	m;
	int		i;

	memset(&m, 0, sizeof(m));
	snprintf(m.ext, sizeof(m.ext), "%s", p->key.ext);
	snprintf(m.pool, sizeof(m.pool), "%s", p->key.tag);
	for (i = 0; i < p->nwants; i++)
		msg_send(p->wants[i], MSG_FCGI_GRANT, &m, sizeof(m), -1);
	p->nwants = 0;
}

/*
 * A PHP request: the pool runs (one process at least), and with want_conn
 * the asking front (chan) gets a connection.  Returns it, -1 when none
 * was asked for or front must wait for one (MSG_FCGI_GRANT), or -status.
 */
int
php_pool_ask(const struct script_req *s, int chan, int want_conn)
{
	struct pool	*p;
	int		 fd, i;

	if ((p = pool_get(s)) == NULL)
		return -500;
	p->used = now_ms();
	if (p->broken_until > now_ms())
		return -503;
	if (!want_conn) {
		if (alive(p) == 0 && proc_start(p) == -1)
			return -503;
		return -1;
	}
	/*
	 * A free process, or a new one at once if no other front holds any;
	 * else the others are asked for an idle one first, and the pool grows
	 * only if none comes within GROW_GRACE_MS: a front's idle connection
	 * is a warm process, a new one a cold start (and memory).
	 */
	/* Not while fronts wait: a process given back is theirs (grant_wants()
	 * at the top of the next round); taken by a front that asks after
	 * them (the one that gave it back, its queue asking again at once),
	 * they would wait with nobody asked to give one back. */
	if (p->nwants == 0 && (fd = grant(p, chan, &i, held_by_others(p, chan) == 0)) != -1)
		return fd;
	if (p->broken_until > now_ms() || p->nwants == POOL_WANTS_MAX ||
	    (alive(p) == 0 && held_by_others(p, chan) == 0))
		return -503;
	p->wants[p->nwants++] = chan;
	if (p->grow_at == 0)
		p->grow_at = now_ms() + GROW_GRACE_MS;
	reclaim(p, chan);
	return -1;
}

/* The process chan's connection ino holds: its slot in *pp, or -1. */
static int
held(int chan, uint64_t ino, struct pool **pp)
{
	int i, k;

	for (k = 0; k < npools; k++)
		for (i = 0; i < POOL_PROCS_MAX; i++)
			if (pools[k]->p[i].pid > 0 && pools[k]->p[i].chan == chan &&
			    pools[k]->p[i].ino == ino) {
				*pp = pools[k];
				return i;
			}
	return -1;
}

/*
 * front closed a connection (m checked here: front's word on its own
 * connections only).  Found by its inode in every pool: front may not
 * know which pool an answer it dropped was for.
 */
void
php_pool_done(int chan, const struct msg_fcgi *m)
{
	struct pool	*p;
	int		 i;

	if ((i = held(chan, m->ino, &p)) == -1)
		return;		/* its process is gone already */
	if (!(m->flags & FCGI_IDLE))
		p->used = now_ms();	/* (an idle one was last used long ago) */
	p->p[i].chan = -1;
	p->p[i].free_since = now_ms();
	/* At php-max-requests it is exiting (or gone): a connection made to it
	 * now could wait in its backlog as it goes, and fail. */
	p->p[i].served += m->requests;
	if (p->conf->php_max_requests > 0 && p->p[i].served >= p->conf->php_max_requests)
		p->p[i].ending = 1;
	/* Its waiting fronts get it from php_pool_timeouts(), at the top of
	 * the worker's next round: after the answers of this one, so that a
	 * grant never passes the "wait" it ends. */
	/* Unused for php-idle-timeout in front: it ends now, unless it is
	 * the last (that one goes with the worker) or a front waits. */
	if ((m->flags & FCGI_IDLE) && p->nwants == 0 && !p->p[i].ending && alive(p) > 1) {
		p->p[i].ending = p->p[i].told = 1;
		script_php_kill(p->p[i].pid, SIGTERM);
	}
}

/* A front's channel closed: what it held is free, and it waits no more. */
void
php_pool_chan_gone(int chan)
{
	int i, k, n;

	for (k = 0; k < npools; k++) {
		struct pool *p = pools[k];

		for (i = 0; i < POOL_PROCS_MAX; i++)
			if (p->p[i].chan == chan) {
				p->p[i].chan = -1;
				p->p[i].free_since = now_ms();
			}
		for (i = n = 0; i < p->nwants; i++)
			if (p->wants[i] != chan)
				p->wants[n++] = p->wants[i];
		p->nwants = n;
		grant_wants(p);
	}
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
	snprintf(msg, sizeof(msg), "PHP pool of .%s: %s exits at its start (%d times in a row); "
	    "no new one for %d s, requests answered 503", p->key.ext, p->in.path, p->quick,
	    BROKEN_MS / 1000);
	script_note(msg);
	wants_cancel(p);
	return 1;
}

/* script_reap() reaped one of ours. */
void
php_pool_exited(pid_t pid, int status)
{
	struct sockaddr_un	sun;
	struct proc		pr;
	struct pool		*p;
	int			i, k;

	for (k = 0; k < npools; k++)
		for (i = 0; i < POOL_PROCS_MAX; i++)
			if (pools[k]->p[i].pid == pid)
				goto found;
	return;
found:
	p = pools[k];
	pr = p->p[i];
	p->p[i].pid = 0;
	p->p[i].chan = -1;
	p->nprocs--;
	if (proc_addr(p, i, &sun) == 0)
		unlink(sun.sun_path);
	if (pr.told)
		goto refill;
	/* php-max-requests served: a clean exit, said nothing of. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		note_exit(p, pid, status);
	if (count_failure(p, &pr, status))
		return;
	/* In use when it went: its replacement starts now, not when front
	 * asks again (unless another is free for that). */
	if (pr.chan != -1 && p->nwants == 0 && !any_free(p) &&
	    (unsigned)alive(p) < pool_cap(p))
		proc_start(p);
refill:
	grant_wants(p);
}

/* End the processes unused for php-idle-timeout, the last one apart, and
 * those beyond the pool's size (a reload made it smaller). */
static void
procs_idle(struct pool *p, uint64_t now, uint64_t *next)
{
	uint64_t	idle_ms = (uint64_t)p->conf->php_idle_timeout * 1000;
	int		i, n = alive(p);

	for (i = 0; i < POOL_PROCS_MAX && n > 1; i++) {
		struct proc *pr = &p->p[i];

		if (pr->pid <= 0 || pr->chan != -1 || pr->ending)
			continue;
		if (now - pr->free_since >= idle_ms || (unsigned)n > pool_cap(p)) {
			pr->ending = pr->told = 1;
			script_php_kill(pr->pid, SIGTERM);
			n--;
			continue;
		}
		if (*next == 0 || pr->free_since + idle_ms < *next)
			*next = pr->free_since + idle_ms;
	}
}

/*
 * A pool of a .htaccess's settings nothing has held or asked for during
 * its quiet time goes whole (an edit leaves the old set's behind), as an
 * idle worker goes with its plain pool: max(worker-idle-timeout,
 * script-timeout + file-cache-valid + 1 s), so that no request can still
 * be on its way to it.  Returns whether it went.
 */
static int
pool_quiet(struct pool *p, uint64_t now, uint64_t *next)
{
	const struct config	*c = p->conf;
	uint64_t		 busy = ((uint64_t)c->script_timeout + c->file_cache_valid + 1) * 1000;
	uint64_t		 quiet = (uint64_t)c->worker_idle_timeout * 1000;
	int			 i;

	if (p->key.tag[0] == '\0')
		return 0;
	for (i = 0; i < POOL_PROCS_MAX; i++)
		if (p->p[i].pid > 0 && p->p[i].chan != -1)
			return 0;	/* held: front's kept connections are use too */
	if (busy > quiet)
		quiet = busy;
	if (p->used + quiet <= now && p->nwants == 0) {
		pool_retire(p);
		return 1;
	}
	if (*next == 0 || p->used + quiet < *next)
		*next = p->used + quiet;
	return 0;
}

/* Milliseconds to the next process to end, or to a wait to try again; -1. */
int
php_pool_timeouts(void)
{
	uint64_t	now = now_ms(), next = 0;
	int		k;

	for (k = npools - 1; k >= 0; k--) {
		struct pool *p = pools[k];

		if (p->nwants > 0) {
			uint64_t again = p->grow_at > now ? p->grow_at : now + 100;

			grant_wants(p);
			if (p->nwants > 0 && (next == 0 || again < next))
				next = again;
		}
		if (!pool_quiet(p, now, &next))
			procs_idle(p, now, &next);
	}
	return next == 0 ? -1 : (int)(next > now ? next - now : 0);
}

/*
 * A new configuration that changes what a process was started with (the
 * body limit; the interpreters): the processes go, and start again as
 * requests need them.  A new size or idle time holds from now on.
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
				p->p[i].ending = p->p[i].told = 1;
				script_php_kill(p->p[i].pid, SIGKILL);
			}
	}
}

/* A pool goes whole: its processes killed, its fronts' waits ended. */
static void
pool_retire(struct pool *p)
{
	struct sockaddr_un	sun;
	int			i;

	wants_cancel(p);
	for (i = 0; i < POOL_PROCS_MAX; i++)
		if (p->p[i].pid > 0) {
			script_php_kill(p->p[i].pid, SIGKILL);	/* reaped by script_reap() */
			if (proc_addr(p, i, &sun) == 0)
				unlink(sun.sun_path);
		}
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
