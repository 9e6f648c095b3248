/*
 * lockerd.c: the master ("okld").  Runs as root and is the only process
 * that does: it reads the configuration, opens the directory, binds the
 * listeners, and starts, supervises and restarts every other process.  It
 * parses nothing from the network: only fixed-size messages from its
 * children and from the control socket.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "dnsupdate.h"
#include "dns01.h"
#include "hesiod.h"
#include "cron.h"
#include "master.h"
#include "drain.h"
#include "certs.h"
#include "vhost.h"
#include "directory.h"
#include "route.h"
#include "quota.h"
#include "acme.h"
#include "lease.h"
#include "sql.h"
#include "mail.h"
#include "mailin.h"
#include "dirsync.h"

struct master	*M;
static struct master master_state;
static enum ev_kind signal_marker = EV_SIGNAL;
static enum ev_kind listen_marker = EV_CONTROL_LISTEN;
static int	 sigfd = -1;

#define WORKER_BUCKETS	1024

static void	front_start(struct child *f);
static void	logd_start(void);
static void	child_send_config(struct child *c);
static void	child_what(const struct child *c, char *buf, size_t len);
static void	link_front_logd(struct child *f);
static void	link_worker_logd(struct child *w);
static void	mime_reload(void);

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr,
	    "usage: lockerd [-dtv] [-c file]\n"
	    "  -c file  configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -t       check the configuration and exit\n"
	    "  -v       with -t: print the configuration in effect\n"
	    "  -d       debug messages\n");
	exit(2);
}

void
ev_add(int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	if (epoll_ctl(M->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		fatal("ev_add");
}

void
ev_mod(int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	if (epoll_ctl(M->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		log_warn("epoll_ctl mod");
}

void
ev_del(int fd)
{
	epoll_ctl(M->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void
locker_home(const char *name, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", M->conf.lockers, name);
}

static int
own_cb(const char *key, uint64_t value, void *arg)
{
	uint64_t	*own = arg;
	int		 k = config_limit_key(key);

	if (k >= 0)		/* a key this build lacks: ignored */
		own[k] = value;
	return 0;
}

/* A locker's own limits, from the directory: LIMIT_DEFAULT where it has none. */
static void
dir_own(const char *name, uint64_t *own)
{
	int k;

	for (k = 0; k < LIMIT_N; k++)
		own[k] = LIMIT_DEFAULT;
	dir_limit_foreach(M->dir, name, own_cb, own);
}

/* The locker's own limits that front applies itself. */
void
locker_front_limits(const char *name, struct msg_worker *m)
{
	uint64_t own[LIMIT_N];

	dir_own(name, own);
	config_limits_only(own, CONF_FRONT, m->own);
}

/* A locker's limits changed: every front hears it. */
void
fronts_send_limits(const char *name)
{
	struct msg_worker	m;
	int			i;

	memset(&m, 0, sizeof(m));
	snprintf(m.locker, sizeof(m.locker), "%s", name);
	locker_front_limits(name, &m);
	for (i = 0; i < M->nfronts; i++)
		if (M->fronts[i].pid > 0)
			child_send(&M->fronts[i], MSG_WORKER_LIMITS, &m, sizeof(m), -1);
}

/* A locker's own log budget, to logd, which keeps it (and parses nothing). */
void
logd_send_limits(const char *name)
{
	struct msg_log_limits	m;
	uint64_t		own[LIMIT_N];

	if (M->logd.pid <= 0)
		return;
	memset(&m, 0, sizeof(m));
	snprintf(m.locker, sizeof(m.locker), "%s", name);
	dir_own(name, own);
	config_limits_only(own, CONF_LOGD, m.own);
	child_send(&M->logd, MSG_LOG_LIMITS, &m, sizeof(m), -1);
}

/*
 * The configuration as one locker sees it: the defaults, then its own
 * limits.  One view is kept (about 30 KB: not one per locker), for the
 * locker last asked about; the uid tells a new locker from a removed one of
 * the same name.  locker_conf_forget() drops it when the configuration or
 * a locker's limits change.  The pointer is good until the next call.
 */
static struct {
	char		name[LOCKER_NAME_MAX + 1];
	uid_t		uid;
	int		valid;
	uint64_t	own[LIMIT_N];
	struct config	conf;
} view;

const struct config *
locker_conf(const char *name, uid_t uid)
{
	/* The count of fronts is the master's (M->conf's is set only as it is
	 * sent): a view made before they start, by quota_apply_all(), would
	 * size a worker's PHP pool for one. */
	if (view.valid && view.uid == uid && view.conf.nfronts == M->nfronts &&
	    strcmp(view.name, name) == 0)
		return &view.conf;
	snprintf(view.name, sizeof(view.name), "%s", name);
	view.uid = uid;
	view.conf = M->conf;
	view.conf.nfronts = M->nfronts;
	dir_own(name, view.own);
	config_limits_apply(&view.conf, view.own);
	view.valid = 1;
	return &view.conf;
}

/* The same view's own limits: LIMIT_DEFAULT where the configuration's holds. */
const uint64_t *
locker_own(const char *name, uid_t uid)
{
	locker_conf(name, uid);
	return view.own;
}

void
locker_conf_forget(void)
{
	view.valid = 0;
}

/*
 * Every locker's disk limit as the directory and configuration say, at
 * start-up and reload (the default may have changed meanwhile).
 */
static int
quota_apply_cb(const struct locker_rec *lr, void *arg)
{
	const struct config	*lc = locker_conf(lr->name, lr->uid);
	char			 err[PATH_MAX + 200];

	(void)arg;
	/* An image grows before it is mounted (offline). */
	if (quota_set(lc, lr->name, lc->disk_limit, err, sizeof(err)) == -1)
		log_warnx("disk limit of %s: %s", lr->name, err);
	if (quota_attach(lc, lr->name, err, sizeof(err)) == -1)
		log_warnx("disk of %s: %s", lr->name, err);
	return 0;
}

static int
quota_detach_cb(const struct locker_rec *lr, void *arg)
{
	(void)arg;
	quota_detach(&M->conf, lr->name);
	return 0;
}

void
quota_apply_all(void)
{
	if (M->conf.disk_quota != DISK_QUOTA_NONE)
		dir_locker_foreach(M->dir, quota_apply_cb, NULL);
}

/* ------------------------------------------------------------ set-up */

/* The parents of a configured directory are made as root, mode 0755. */
static void
make_parents(const char *path)
{
	char	p[PATH_MAX], *s;

	snprintf(p, sizeof(p), "%s", path);
	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", p);
		*s = '/';
	}
}

static void
ensure_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	make_parents(path);
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", path);
	if (lstat(path, &st) == -1)
		fatal("stat %s", path);
	if (!S_ISDIR(st.st_mode))
		fatalx("%s is not a directory", path);
	if (chown(path, uid, gid) == -1 || chmod(path, mode) == -1)
		fatal("chown/chmod %s", path);
}

static void
setup_dirs(void)
{
	struct config	*c = &M->conf;
	struct passwd	*pw;
	char		 p[PATH_MAX];
	uid_t		 log_uid, key_uid, front_uid;
	gid_t		 log_gid, key_gid;

	if ((pw = getpwnam(c->log_user)) == NULL)
		fatalx("log-user \"%s\" does not exist (create it with: "
		    "useradd --system --no-create-home --shell /usr/sbin/nologin %s)",
		    c->log_user, c->log_user);
	log_uid = pw->pw_uid;
	log_gid = pw->pw_gid;
	if ((pw = getpwnam(c->front_user)) == NULL)
		fatalx("front-user \"%s\" does not exist (create it with: "
		    "useradd --system --no-create-home --shell /usr/sbin/nologin %s)",
		    c->front_user, c->front_user);
	front_uid = pw->pw_uid;
	ensure_dir(c->lockers, 0755, 0, 0);
	snprintf(p, sizeof(p), "%s/.archive", c->lockers);
	ensure_dir(p, 0700, 0, 0);
	ensure_dir(c->state, 0755, 0, 0);
	snprintf(p, sizeof(p), "%s/empty", c->state);
	ensure_dir(p, 0555, 0, 0);
	if ((pw = getpwnam(c->key_user)) == NULL)
		fatalx("key-user \"%s\" does not exist (create it with: "
		    "useradd --system --no-create-home --shell /usr/sbin/nologin %s)",
		    c->key_user, c->key_user);
	key_uid = pw->pw_uid;
	key_gid = pw->pw_gid;
	/* A front of keyd's uid could read keyd's memory: the keys. */
	if (key_uid == 0 || key_uid == log_uid || key_uid == front_uid)
		fatalx("key-user \"%s\" must be a user of its own (not root, front-user "
		    "or log-user)", c->key_user);
	ensure_dir(c->logs, 0750, log_uid, log_gid);
	/* Only keyd (and the ACME client, its user too) may read the keys. */
	ensure_dir(c->tls_dir, 0700, key_uid, key_gid);
}

static int
bind_one(const struct listen_addr *l)
{
	struct addrinfo	 hints, *res;
	int		 fd, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = l->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(l->host, l->port, &hints, &res)) != 0)
		fatalx("listen %s:%s: %s", l->host, l->port, gai_strerror(rc));
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		fatal("SO_REUSEPORT");
	if (l->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		fatal("bind %s:%s", l->host, l->port);
	if (listen(fd, 4096) == -1)
		fatal("listen %s:%s", l->host, l->port);
	freeaddrinfo(res);
	return fd;
}

static void
setup_listeners(void)
{
	int i, f;

	for (f = 0; f < M->nfronts; f++)
		for (i = 0; i < M->conf.nlisten; i++)
			M->listen_fds[f][i] = bind_one(&M->conf.listen[i]);
	M->nlisten = M->conf.nlisten;
}

static void
setup_signals(void)
{
	static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR1, 0 };

	signal(SIGPIPE, SIG_IGN);
	if ((sigfd = signals_fd(sigs)) == -1)
		fatal("signalfd");
	ev_add(sigfd, &signal_marker);
}

static int
front_count(void)
{
	long n;

	if (M->conf.front_processes > 0)
		return M->conf.front_processes;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	return (int)n;
}

/* ------------------------------------------------------------ children */

/*
 * A child's channel is non-blocking on our side: a child that stops
 * reading must not stall the master.  What the channel cannot take yet
 * waits in the child's queue (outq.c), up to a bound; a child that lets
 * more pile up, or whose channel broke, is killed.
 */
int
child_send(struct child *c, enum msg_type t, const void *d, size_t len, int fd)
{
	char what[96];

	if (c->chan == -1)
		return -1;
	if (outq_send(c, t, d, len, fd) == -1) {
		child_what(c, what, sizeof(what));
		log_warn("send to %s[%d]", what, (int)c->pid);
		if (c->pid > 0)
			kill(c->pid, SIGKILL);
		return -1;
	}
	return 0;
}

static void
child_send_config(struct child *c)
{
	M->conf.nfronts = M->nfronts;
	child_send(c, MSG_CONFIG, &M->conf, sizeof(M->conf), -1);
}

/* A worker's configuration is its locker's own (locker_conf). */
void
worker_send_config(struct child *w)
{
	child_send(w, MSG_CONFIG, locker_conf(w->locker, w->uid), sizeof(struct config), -1);
}

int
new_channel(struct child *c)
{
	int sv[2];

	if (chan_pair(sv) == -1) {
		log_warn("socketpair");
		return -1;
	}
	set_nonblock(sv[0]);
	c->chan = sv[0];
	return sv[1];
}

static void
child_closed(struct child *c)
{
	outq_clear(c);
	if (c->chan != -1) {
		ev_del(c->chan);
		close(c->chan);
		c->chan = -1;
	}
	c->pid = 0;
}

/* Restart with a growing delay; a child that ran for a minute starts afresh. */
static void
schedule_restart(struct child *c, const char *what)
{
	uint64_t	now = now_ms(), delay;

	if (now - c->started_ms > 60000)
		c->crashes = 0;
	delay = c->crashes == 0 ? 0 : 100ULL << (c->crashes > 7 ? 7 : c->crashes - 1);
	if (delay > 10000)
		delay = 10000;
	c->crashes++;
	c->restarts++;
	if (c->crashes == 10)
		log_warnx("%s has died 10 times within a minute; still restarting "
		    "every %llus", what, (unsigned long long)delay / 1000);
	c->restart_at_ms = now + delay;
}

/*
 * After spawn_role(): a child that did not fork is tried again in a
 * second (-1); one that did is watched and has its configuration (0).
 */
int
child_spawned(struct child *c, const char *what)
{
	if (c->pid == -1) {
		log_warn("fork %s", what);
		child_closed(c);
		c->restart_at_ms = now_ms() + 1000;
		return -1;
	}
	c->started_ms = now_ms();
	c->restart_at_ms = 0;
	ev_add(c->chan, c);
	child_send_config(c);
	return 0;
}

static void
front_start(struct child *f)
{
	char	 arg[32];
	int	 end;

	if ((end = new_channel(f)) == -1) {
		f->restart_at_ms = now_ms() + 1000;
		return;
	}
	snprintf(arg, sizeof(arg), "%d,%d", f->idx, M->nlisten);
	f->pid = spawn_role(M->exe_fd, "front", arg, end, M->listen_fds[f->idx], M->nlisten,
	    NULL, NULL);
	close(end);
	if (child_spawned(f, "front") == -1)
		return;
	routes_push_one(f);
	acme_front_started(f);
	tickets_send_front(f);
	certs_send_front(f);
	drain_send_front(f);
	if (M->logd.pid > 0)
		link_front_logd(f);
	if (M->keyd.pid > 0)
		keyd_link_front(f);
	log_debug("front %d started, pid %d", f->idx, (int)f->pid);
}

static void
logd_start(void)
{
	struct child	*l = &M->logd, *w;
	int		 end, i;

	if ((end = new_channel(l)) == -1) {
		l->restart_at_ms = now_ms() + 1000;
		return;
	}
	l->pid = spawn_role(M->exe_fd, "logd", NULL, end, NULL, 0, NULL, NULL);
	close(end);
	if (child_spawned(l, "logd") == -1)
		return;
	for (i = 0; i < M->nfronts; i++)
		if (M->fronts[i].pid > 0)
			link_front_logd(&M->fronts[i]);
	for (w = M->workers; w != NULL; w = w->next)
		if (w->role == ROLE_WORKER && w->pid > 0)
			link_worker_logd(w);
}

/* The ends of the pair sv to logd, bound to the locker owner (NULL: to
 * none), and to c. */
static void
logd_link(struct child *c, const char *owner, int sv[2])
{
	child_send(&M->logd, MSG_LOG_CHAN, owner, owner ? strlen(owner) : 0, sv[0]);
	child_send(c, MSG_LOG_CHAN, NULL, 0, sv[1]);
	close(sv[0]);
	close(sv[1]);
}

/*
 * A worker's channel to logd carries its scripts' stderr.  logd binds it to
 * the locker named here, by the master: a worker cannot write in another
 * locker's log.
 */
static void
link_worker_logd(struct child *w)
{
	int sv[2];

	if (M->logd.pid <= 0 || w->pid <= 0 || chan_pair(sv) == -1)
		return;
	logd_send_limits(w->locker);
	logd_link(w, w->locker, sv);
}

/* A fresh front<->logd channel, one end to each. */
static void
link_front_logd(struct child *f)
{
	int sv[2];

	if (chan_pair(sv) == -1) {
		log_warn("socketpair");
		return;
	}
	logd_link(f, NULL, sv);
}

/* --- workers, by locker name and by pid --- */

/*
 * Workers and tasks by pid: every child that exits is looked up here
 * (reap()), and at a stop with a thousand warm workers a walk of the list
 * for each was a thousand walks of a thousand.
 */
#define PID_BUCKETS	4096

static struct child *by_pid[PID_BUCKETS];

static struct child **
pid_bucket(pid_t pid)
{
	return &by_pid[(uint32_t)pid % PID_BUCKETS];
}

static void
pid_index_add(struct child *w)
{
	struct child **b = pid_bucket(w->pid);

	w->hpid = w->pid;
	w->pnext = *b;
	*b = w;
}

static void
pid_index_del(struct child *w)
{
	struct child **pp;

	for (pp = pid_bucket(w->hpid); *pp != NULL; pp = &(*pp)->pnext)
		if (*pp == w) {
			*pp = w->pnext;
			break;
		}
	w->pnext = NULL;
}

/* A worker (or a locker's task) just started, on the list of workers. */
static void
worker_link(struct child *w)
{
	w->started_ms = now_ms();
	w->next = M->workers;
	if (M->workers != NULL)
		M->workers->wprev = &w->next;
	M->workers = w;
	w->wprev = &M->workers;
	warm_index_add(w);
	pid_index_add(w);
}

static void
worker_unlink(struct child *w)
{
	/* Doubly linked: a worker that exits leaves without a walk. */
	*w->wprev = w->next;
	if (w->next != NULL)
		w->next->wprev = w->wprev;
	warm_index_del(w);
	pid_index_del(w);
	startq_done(w);
	child_closed(w);
	/* A later event of this round may still point at it. */
	w->kind = EV_NONE;
	w->next = M->graveyard;
	M->graveyard = w;
}

void
worker_stop(struct child *w)
{
	/* Asked first, so it takes its scripts along; forced a second later. */
	if (w->pid > 0) {
		kill(w->pid, SIGTERM);
		w->kill_at_ms = now_ms() + 1000;
		if (M->kill_next_ms == 0 || w->kill_at_ms < M->kill_next_ms)
			M->kill_next_ms = w->kill_at_ms;
	}
	w->idle_exit = 1;	/* no new channels go to it */
}

struct sandbox_ctx {
	struct sandbox_spec	spec;
	char			home[PATH_MAX];
};

static int
worker_prepare(void *arg)
{
	struct sandbox_ctx	*s = arg;
	char			 err[256];

	if (sandbox_enter(&s->spec, err, sizeof(err)) == -1) {
		log_warnx("worker %s: sandbox: %s", s->spec.locker, err);
		return -1;
	}
	return 0;
}

static struct child *
child_new(enum role role, const struct locker_rec *lr)
{
	struct child *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->kind = EV_CHILD;
	c->role = role;
	c->chan = -1;
	snprintf(c->locker, sizeof(c->locker), "%s", lr->name);
	c->uid = lr->uid;
	c->gid = lr->gid;
	return c;
}

/*
 * The sandbox of a task of lr's: its configuration (copied at clone), its
 * identity and its home, written into home (PATH_MAX) for spec to point at.
 */
void
task_spec(struct sandbox_spec *spec, char *home, const struct locker_rec *lr)
{
	locker_home(lr->name, home, PATH_MAX);
	spec->conf = locker_conf(lr->name, lr->uid);
	spec->locker = lr->name;
	spec->home = home;
	spec->uid = lr->uid;
	spec->gid = lr->gid;
}

/*
 * Start a process of the locker, tracked in the worker list: in new
 * namespaces (sandbox_clone), where prepare() calls sandbox_enter() and
 * executes the command; it is pid 1 of its pid namespace, so when it ends
 * whatever it left running ends with it.  It keeps only the descriptors
 * named in keep_fds (prepare's own), none of the master's: prepare runs as
 * root, then as the locker before its exec (a purge never execs at all).
 */
struct child *
task_spawn(const struct locker_rec *lr, int (*prepare)(void *), void *ctx,
    const int *keep_fds, int nkeep)
{
	struct child	*t;
	int		 sv[2];

	if ((t = child_new(ROLE_TASK, lr)) == NULL)
		return NULL;
	if (chan_pair(sv) == -1) {
		free(t);
		return NULL;
	}
	/* The locker's cgroups first: the child joins them before its jail. */
	sandbox_prepare(locker_conf(lr->name, lr->uid), lr->name, lr->uid);
	t->pid = sandbox_clone();
	if (t->pid == 0) {
		if (close_fds_except(3, keep_fds, nkeep) == -1)
			_exit(127);
		child_reset(CHILD_DIE_WITH_PARENT);
		if (prepare(ctx) == -1)
			_exit(127);
		_exit(126);
	}
	close(sv[1]);
	close(sv[0]);
	if (t->pid == -1) {
		free(t);
		return NULL;
	}
	worker_link(t);
	return t;
}

static struct child *
worker_start(const struct locker_rec *lr)
{
	struct child		*w;
	struct sandbox_ctx	 ctx;
	struct msg_worker_init	 init;
	const struct config	*lc;	/* the child gets a copy at clone */
	int			 end;

	if ((w = child_new(ROLE_WORKER, lr)) == NULL)
		return NULL;
	if ((end = new_channel(w)) == -1) {
		free(w);
		return NULL;
	}
	memset(&ctx, 0, sizeof(ctx));
	locker_home(lr->name, ctx.home, sizeof(ctx.home));
	lc = locker_conf(lr->name, lr->uid);
	ctx.spec.conf = lc;
	ctx.spec.locker = lr->name;
	ctx.spec.home = ctx.home;
	ctx.spec.uid = lr->uid;
	ctx.spec.gid = lr->gid;
	ctx.spec.keep_fds = 1;		/* its channel, CHILD_CHAN_FD */
	sandbox_prepare(lc, lr->name, lr->uid);
	cs_mark(CS_PREPARED);
	/* The spawner, but where the master must join the locker's network. */
	w->pid = config_locker_netns(lc) ? -1 : spawner_spawn(&ctx.spec, end);
	if (w->pid == -1)
		w->pid = spawn_role_sandboxed(M->exe_fd, "worker", end, worker_prepare, &ctx);
	close(end);
	if (w->pid <= 0) {
		log_warn("fork worker %s", lr->name);
		child_closed(w);
		free(w);
		return NULL;
	}
	worker_link(w);
	startq_started(w);
	ev_add(w->chan, w);

	memset(&init, 0, sizeof(init));
	snprintf(init.locker, sizeof(init.locker), "%s", lr->name);
	snprintf(init.home, sizeof(init.home), "%s", ctx.home);
	init.uid = lr->uid;
	init.gid = lr->gid;
	child_send(w, MSG_CONFIG, lc, sizeof(*lc), -1);
	child_send(w, MSG_WORKER_INIT, &init, sizeof(init), -1);
	child_send(w, MSG_MIME, M->mime, sizeof(*M->mime), -1);
	link_worker_logd(w);
	log_debug("worker %s started, pid %d", lr->name, (int)w->pid);
	return w;
}

/* front asks for a channel to a locker's worker.  req is read before
 * warm_make_room(), which reads other children's messages (into the same
 * buffer req may be in).  may_wait: a start past max-worker-starts waits in
 * startq.c's queue (0 when the queue itself answers it again). */
static void
worker_answer(struct child *f, const struct msg_worker *req, int may_wait)
{
	struct msg_worker	 rep;
	struct locker_rec	 lr;
	struct child		*w;
	int			 sv[2];

	memset(&rep, 0, sizeof(rep));
	memcpy(rep.locker, req->locker, sizeof(rep.locker));
	if (M->stopping) {
		rep.status = 503;
		goto fail;
	}
	if (dir_locker_get(M->dir, rep.locker, &lr) != 1) {
		rep.status = 404;
		goto fail;
	}
	w = worker_find(lr.name);
	if (w == NULL && may_wait && (!startq_room() || startq_waiting() > 0)) {
		if (startq_wait(f, req) == 0)
			return;
		rep.status = 503;	/* the queue is full */
		goto fail;
	}
	if (w == NULL && (warm_make_room() == -1 || (w = worker_start(&lr)) == NULL)) {
		rep.status = 503;
		goto fail;
	}
	warm_active(w);
	if (chan_pair(sv) == -1) {
		rep.status = 503;
		goto fail;
	}
	if (child_send(w, MSG_CHANNEL, NULL, 0, sv[0]) == -1) {
		close(sv[0]);
		close(sv[1]);
		rep.status = 503;
		goto fail;
	}
	locker_front_limits(lr.name, &rep);
	child_send(f, MSG_WORKER_CHAN, &rep, sizeof(rep), sv[1]);
	close(sv[0]);
	close(sv[1]);
	return;
fail:
	child_send(f, MSG_WORKER_CHAN, &rep, sizeof(rep), -1);
}

/* cs_begin(): a cold start is timed from the master taking up front's
 * ask, its directory lookup included (coldstart.c). */
static void
handle_worker_get(struct child *f, const struct msg_worker *req)
{
	cs_begin();
	worker_answer(f, req, 1);
}

/* startq.c: a queued ask's turn came. */
void
worker_ask(struct child *f, const struct msg_worker *req)
{
	cs_begin();
	worker_answer(f, req, 0);
}

/* startq.c: a queued ask waited worker-start-wait: busy, try again. */
void
worker_ask_refuse(struct child *f, const struct msg_worker *req)
{
	struct msg_worker rep;

	memset(&rep, 0, sizeof(rep));
	memcpy(rep.locker, req->locker, sizeof(rep.locker));
	rep.status = 503;
	child_send(f, MSG_WORKER_CHAN, &rep, sizeof(rep), -1);
}

/* A front's counts name lockers; only those in the directory get a row. */
static int
stats_locker_ok(const char *name)
{
	struct locker_rec lr;

	return dir_locker_get(M->dir, name, &lr) == 1;
}

/* What the log calls a child: "front 0", "logd", "worker alice". */
static void
child_what(const struct child *c, char *buf, size_t len)
{
	if (c->role == ROLE_FRONT)
		snprintf(buf, len, "front %d", c->idx);
	else if (c->role == ROLE_LOGD)
		snprintf(buf, len, "logd");
	else if (c->role == ROLE_KEYD)
		snprintf(buf, len, "keyd");
	else if (c->role == ROLE_ACME)
		snprintf(buf, len, "acme");
	else if (c->role == ROLE_SQLD)
		snprintf(buf, len, "sqld");
	else if (c->role == ROLE_MAILOUT)
		snprintf(buf, len, "mailout");
	else if (c->role == ROLE_MAILD)
		snprintf(buf, len, "maild");
	else if (c->role == ROLE_HESIOD)
		snprintf(buf, len, "hesiod");
	else if (c->role == ROLE_DIRSYNC)
		snprintf(buf, len, "dirsync");
	else
		snprintf(buf, len, "%s %s", c->role == ROLE_WORKER ? "worker" : "task", c->locker);
}

static enum msg_role
child_msg_role(const struct child *c)
{
	switch (c->role) {
	case ROLE_FRONT:	return MR_FRONT;
	case ROLE_LOGD:		return MR_LOGD;
	case ROLE_KEYD:		return MR_KEYD;
	case ROLE_ACME:		return MR_ACME;
	case ROLE_SQLD:		return MR_SQLD;
	case ROLE_MAILOUT:	return MR_MAILOUT;
	case ROLE_MAILD:	return MR_MAILIN;
	case ROLE_HESIOD:	return MR_HESIOD;
	case ROLE_DIRSYNC:	return MR_DIRSYNC;
	case ROLE_WORKER:
	case ROLE_TASK:		break;
	}
	return MR_WORKER;
}

/* Stop listening to a child; SIGCHLD does the rest. */
static void
child_unlisten(struct child *c)
{
	outq_clear(c);
	ev_del(c->chan);
	close(c->chan);
	c->chan = -1;
}

/* A message msg_rules[] or its contents refuse: msg_breach() says what now. */
static void
child_breach(struct child *c, unsigned type, const char *why)
{
	char	 what[96], who[128];

	child_what(c, what, sizeof(what));
	snprintf(who, sizeof(who), "%s (pid %d)", what, (int)c->pid);
	if (msg_breach(MR_MASTER, child_msg_role(c), who, type, why) == MSG_ACT_KILL &&
	    c->pid > 0)
		kill(c->pid, SIGKILL);
	child_unlisten(c);
}

/* Its channel has room again: what waited goes. */
static void
child_flush(struct child *c)
{
	char what[96];

	if (c->chan == -1 || outq_flush(c) == 0)
		return;
	child_what(c, what, sizeof(what));
	log_warn("send to %s[%d]", what, (int)c->pid);
	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	child_unlisten(c);
}

void
child_read(struct child *c)
{
	static union {
		struct msg_worker	w;
		struct msg_log_dropped	d;
		struct msg_acme_status	s;
		struct msg_acme_alpn	a;
		struct msg_sql_done	q;
		struct msg_mail_ask	ma;
		struct msg_mail_sent	ms;
		struct msg_mailin_deliver	md;
		struct msg_dir_rows	dr;
		struct msg_dir_state	ds;
		char			buf[sizeof(struct msg_stats) +
					    STATS_MAX_LOCKERS * sizeof(struct msg_stats_locker)];
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd, k;

	/* A bounded number per round (epoll is level-triggered: the rest come
	 * next round), so a child that keeps writing cannot keep the master
	 * from everyone else.  msg_rules[] let through only what this kind of
	 * child may send, at its size and without a descriptor. */
	for (k = 0; c->chan != -1 && k < 64; k++) {
		n = msg_recv_checked(c->chan, MR_MASTER, child_msg_role(c), &type, &m,
		    sizeof(m), &fd, &why);
		if (n == MSG_BREACH) {
			child_breach(c, type, why);
			return;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1 || type == MSG_NONE) {
			if (n == -1) {
				log_warn("read from pid %d; killing it", (int)c->pid);
				if (c->pid > 0)
					kill(c->pid, SIGKILL);
			}
			child_unlisten(c);
			return;
		}
		switch (type) {
		case MSG_WORKER_GET:
			if (memchr(m.w.locker, '\0', sizeof(m.w.locker)) == NULL) {
				child_breach(c, type, "names no locker");
				return;
			}
			handle_worker_get(c, &m.w);
			break;
		case MSG_STATS:
			if (stats_apply(m.buf, (size_t)n, &c->served, stats_locker_ok) == -1) {
				child_breach(c, type, "does not add up");
				return;
			}
			break;
		case MSG_IDLE:
			c->idle_exit = 1;
			break;
		case MSG_PHP_FORK:
			if (c->role == ROLE_WORKER)
				zygote_fork(c, fd);
			else
				close(fd);
			break;
		case MSG_ACTIVE:
			startq_done(c);	/* its first word: started */
			warm_active(c);
			break;
		case MSG_LOG_DROPPED:
			if (memchr(m.d.locker, '\0', sizeof(m.d.locker)) == NULL) {
				child_breach(c, type, "names no locker");
				return;
			}
			stats_log_dropped(m.d.locker, m.d.bytes, stats_locker_ok);
			break;
		case MSG_TLS_WANT:
		case MSG_ACME_TOKEN:
		case MSG_ACME_STATUS:
		case MSG_ACME_ISSUED:
		case MSG_ACME_ALPN:
			if ((why = acme_master_msg(type, &m, (size_t)n)) != NULL) {
				child_breach(c, type, why);
				return;
			}
			break;
		case MSG_SQL_ROW:
		case MSG_SQL_DONE:
			if ((why = sql_master_msg(type, &m, (size_t)n)) != NULL) {
				child_breach(c, type, why);
				return;
			}
			break;
		case MSG_MAIL_ASK:
		case MSG_MAIL_SENT:
			if ((why = mail_master_msg(type, &m, (size_t)n)) != NULL) {
				child_breach(c, type, why);
				return;
			}
			break;
		case MSG_SQL_SIZE:
			if ((why = sql_limit_msg(&m, (size_t)n)) != NULL) {
				child_breach(c, type, why);
				return;
			}
			break;
		case MSG_HESIOD_STATUS:
			if ((why = hesiod_master_msg(type, &m, (size_t)n)) != NULL) {
				child_breach(c, type, why);
				return;
			}
			break;
		case MSG_DIR_ROWS:
		case MSG_DIR_STATE:
		case MSG_DIR_RESULT:	/* late: its transaction gave up on it */
			if ((why = dirsync_master_msg(type, &m, (size_t)n, fd)) != NULL) {
				child_breach(c, type, why);
				return;
			}
			break;
		case MSG_MAILIN_DELIVER:
			if ((why = mailin_master_msg(type, &m, (size_t)n, fd)) != NULL) {
				child_breach(c, type, why);
				return;
			}
			break;
		default:
			break;	/* msg_rules[] let no other through */
		}
	}
}

static struct child *
child_by_pid(pid_t pid)
{
	struct child	*w;
	int		 i;

	for (i = 0; i < M->nfronts; i++)
		if (M->fronts[i].pid == pid)
			return &M->fronts[i];
	if (M->logd.pid == pid)
		return &M->logd;
	if (M->keyd.pid == pid)
		return &M->keyd;
	if (M->acme.pid == pid)
		return &M->acme;
	if (sql_child()->pid == pid)
		return sql_child();
	if (mail_child()->pid == pid)
		return mail_child();
	if (mailin_child()->pid == pid)
		return mailin_child();
	if (hesiod_child()->pid == pid)
		return hesiod_child();
	if (dirsync_child()->pid == pid)
		return dirsync_child();
	for (w = *pid_bucket(pid); w != NULL; w = w->pnext)
		if (w->pid == pid)
			return w;
	return NULL;
}

/* A locker's cgroups go with its last process (the pid namespace of each
 * process is empty once that process has been reaped). */
static void
locker_release_if_idle(const struct child *gone)
{
	if (!locker_running(gone->locker, gone->uid))
		sandbox_release(gone->locker, gone->uid);
}

static void
reap(void)
{
	struct child	*c;
	pid_t		 pid;
	int		 status;
	char		 what[96];

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((c = child_by_pid(pid)) == NULL) {
			if (!netns_reaped(pid, status) && !spawner_reaped(pid, status) &&
			    !zygote_reaped(pid, status))
				proof_reaped(pid);
			continue;
		}
		child_what(c, what, sizeof(what));
		if (WIFSIGNALED(status) && !M->stopping &&
		    !((c->role == ROLE_WORKER || c->role == ROLE_TASK) && c->idle_exit))
			log_warnx("%s (pid %d) killed by signal %d", what, (int)pid,
			    WTERMSIG(status));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && !M->stopping)
			log_warnx("%s (pid %d) exited with status %d", what, (int)pid,
			    WEXITSTATUS(status));
		else
			log_debug("%s (pid %d) exited", what, (int)pid);
		child_closed(c);
		switch (c->role) {
		case ROLE_SQLD:
			sql_child_gone();
			/* FALLTHROUGH */
		case ROLE_MAILD:
			if (c->role == ROLE_MAILD)
				mailin_child_gone();
			/* FALLTHROUGH */
		case ROLE_DIRSYNC:
			if (c->role == ROLE_DIRSYNC)
				dirsync_child_gone();
			/* FALLTHROUGH */
		case ROLE_FRONT:
		case ROLE_LOGD:
		case ROLE_KEYD:
		case ROLE_ACME:
		case ROLE_MAILOUT:
		case ROLE_HESIOD:
			if (!M->stopping)
				schedule_restart(c, what);
			break;
		case ROLE_WORKER:
			worker_unlink(c);
			locker_release_if_idle(c);
			break;
		case ROLE_TASK:
			if (c->waiter != NULL)
				control_task_done(c->waiter, status);
			if (c->on_exit != NULL)
				c->on_exit(c, status);
			worker_unlink(c);
			locker_release_if_idle(c);
			break;
		}
	}
}

/* ------------------------------------------------------------ routes */

static int
add_locker_cb(const struct locker_rec *lr, void *arg)
{
	return route_builder_add_locker(arg, lr->name) == -1 ? -1 : 0;
}

static int
add_vhost_cb(const struct vhost_rec *v, void *arg)
{
	return route_builder_add_vhost_https(arg, v->host, v->locker, v->subdir, v->https) ==
	    -1 ? -1 : 0;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The current routing table, in a sealed memfd every front can read. */
static int
routes_build(void)
{
	struct route_builder	*b;
	void			*blob = NULL;
	size_t			 len = 0;
	int			 fd = -1, i;
	double			 t0 = mono_ms();

	if ((b = route_builder_new(M->conf.domain)) == NULL)
		return -1;
	for (i = 0; i < M->conf.nhostnames; i++)
		route_builder_add_hostname(b, M->conf.hostnames[i]);
	if (dir_locker_foreach(M->dir, add_locker_cb, b) != 0 ||
	    dir_vhost_foreach(M->dir, NULL, add_vhost_cb, b) != 0 ||
	    route_builder_finish(b, &blob, &len) == -1) {
		log_warnx("cannot build the routing table");
		goto done;
	}
	if ((fd = memfd_create("lockerd-routes", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1 ||
	    write_all(fd, blob, len) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		log_warn("routes memfd");
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	/* bench/scale.sh reads this (lockerd -d): the table's size and cost. */
	log_debug("routes: built %zu bytes in %.2f ms", len, mono_ms() - t0);
done:
	free(blob);
	route_builder_free(b);
	return fd;
}

/* Keeps fd as the current whole table (the fronts that start next get it). */
static void
routes_keep(int fd)
{
	if (M->routes_fd > 0)
		close(M->routes_fd);
	M->routes_fd = fd;
	M->routes_fd_gen = M->route_gen;
}

/* A starting front: the table as it is now, built again only if it changed
 * since (at start, every front shares one build). */
void
routes_push_one(struct child *f)
{
	int fd;

	if (M->routes_fd <= 0 || M->routes_fd_gen != M->route_gen) {
		if ((fd = routes_build()) == -1)
			return;
		routes_keep(fd);
	}
	child_send(f, MSG_ROUTES, &M->route_gen, sizeof(M->route_gen), M->routes_fd);
}

/* The whole table again (start, reload): what one change cannot say. */
void
routes_push(void)
{
	int fd, i;

	if ((fd = routes_build()) == -1)
		return;
	M->route_gen++;
	routes_keep(fd);
	stats_routes_pushed(M->route_gen);
	for (i = 0; i < M->nfronts; i++)
		if (M->fronts[i].pid > 0)
			child_send(&M->fronts[i], MSG_ROUTES, &M->route_gen,
			    sizeof(M->route_gen), fd);
	acme_names_push();	/* the names changed with the routes */
	hesiod_push_all(0);	/* the role sends what changed (a feed, a reload) */
}

/* logd closes every file it keeps and opens them again by name. */
void
logd_reopen(void)
{
	child_send(&M->logd, MSG_REOPEN, NULL, 0, -1);
}

static void
mime_reload(void)
{
	struct mime_map *m = mime_load("/etc/mime.types", &M->conf);

	if (m == NULL)
		return;
	mime_free(M->mime);
	M->mime = m;
}

/* ------------------------------------------------------------ signals */

/* The files the configuration names that only root reads (so not in
 * config_load(), which `locker` calls too): FILE:LINE: what is wrong. */
static int
check_secrets(struct config *c, char *err, size_t errlen)
{
	char	why[400];

	if (c->acme_dns.server.host[0] != '\0' &&
	    dnsupdate_secret_check(c->acme_dns.secret_file, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: acme-dns-update: %s", config_where("acme-dns-update"),
		    why);
		return -1;
	}
	/* The ACME client reads it as root at its start: missing, it would
	 * only fail there, in a log line. */
	if (c->acme_ca[0] != '\0' && c->acme_ca_bundle[0] != '\0' &&
	    access(c->acme_ca_bundle, R_OK) == -1) {
		snprintf(err, errlen, "%s: acme-ca-bundle %s: %s", config_where("acme-ca-bundle"),
		    c->acme_ca_bundle, strerror(errno));
		return -1;
	}
	if (sql_check(c, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", config_where("sql"), why);
		return -1;
	}
	if (mail_check(c, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", config_where("mail-relay"), why);
		return -1;
	}
	if (hesiod_check(c, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", config_where("hesiod-server"), why);
		return -1;
	}
	if (dirsync_check(c, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", config_where("directory"), why);
		return -1;
	}
	if (mailin_check(c, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", config_where("mail-lmtp"), why);
		return -1;
	}
	app_check(c);
	return 0;
}

/*
 * SIGHUP: a new configuration and the directory, pushed to everyone.
 * A configuration that fails to load changes nothing.
 */
static void
reload(void)
{
	struct config	 nc;
	struct child	*w;
	char		 err[512], changed[256];
	int		 i;

	if (config_load(&nc, M->conf_path, err, sizeof(err)) == -1 ||
	    check_secrets(&nc, err, sizeof(err)) == -1 ||
	    certs_check(&nc, 0, err, sizeof(err)) == -1) {
		log_warnx("reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (config_keep_restart_only(&nc, &M->conf, changed, sizeof(changed)) > 0)
		log_warnx("reload: %s change%s only at restart; keeping the running "
		    "value%s", changed, strchr(changed, ',') ? "" : "s",
		    strchr(changed, ',') ? "s" : "");
	M->conf = nc;
	locker_conf_forget();
	mime_reload();
	for (i = 0; i < M->nfronts; i++)
		child_send_config(&M->fronts[i]);
	child_send_config(&M->logd);
	child_send(&M->logd, MSG_REOPEN, NULL, 0, -1);
	if (M->acme.pid > 0) {
		child_send_config(&M->acme);
		acme_tsig_send();
	}
	else if (M->conf.acme_ca[0] != '\0' && M->acme.restart_at_ms == 0)
		acme_start();
	if (mail_child()->pid > 0)
		child_send_config(mail_child());	/* its sizes and time-outs */
	hesiod_reload();	/* started, stopped, or told the new zone and key */
	/* sqld applies new sql-max-* to every account (sqlsize.c) */
	if (sql_child()->pid > 0)
		child_send_config(sql_child());
	/* Workers pick up the new configuration by being replaced. */
	for (w = M->workers; w != NULL; w = w->next)
		if (w->role == ROLE_WORKER && w->pid > 0) {
			worker_send_config(w);
			child_send(w, MSG_MIME, M->mime, sizeof(*M->mime), -1);
		}
	quota_apply_all();
	warm_trim();		/* a lower max-workers holds at once, not one per start */
	vhosts_drop_refused();	/* a new hostname outranks a locker's vhost */
	hostnames_check_lockers();
	routes_push();
	certs_load(&M->conf);
	log_info("configuration and directory reloaded");
}

static void
stop_begin(void)
{
	int i;

	if (M->stopping)
		return;
	M->stopping = 1;
	M->stop_deadline_ms = now_ms() + (uint64_t)M->conf.shutdown_timeout * 1000 + 2000;
	log_info("stopping: finishing requests in flight (up to %us)",
	    M->conf.shutdown_timeout);
	for (i = 0; i < M->nfronts; i++)
		if (M->fronts[i].pid > 0)
			kill(M->fronts[i].pid, SIGTERM);
	if (M->acme.pid > 0)
		kill(M->acme.pid, SIGTERM);	/* an order in flight is simply left */
	sql_stop(SIGTERM);	/* a statement in flight is MariaDB's to finish or undo */
	mail_stop(SIGTERM);	/* a message in flight: its sendmail is told to try again */
	mailin_stop(SIGTERM);	/* a delivery in flight is Postfix's to try again */
	hesiod_stop(SIGTERM);	/* an update in flight: the next start's round redoes it */
	spawner_stop();		/* workers are started no more */
	zygote_stop();
	lease_release_all(M->dir);	/* another node of a fleet takes over at once */
	if (M->control_fd != -1) {
		char p[PATH_MAX];

		ev_del(M->control_fd);
		close(M->control_fd);
		M->control_fd = -1;
		snprintf(p, sizeof(p), "%s/%s", M->conf.state, CONTROL_SOCKET);
		unlink(p);
	}
}

/*
 * Order of the stop: fronts first (their requests need the workers), then
 * workers and tasks, then logd last, so every log line is written.
 */
static int
stop_step(void)
{
	struct child	*w;
	int		 i, sig, fronts = 0, others = 0;

	for (i = 0; i < M->nfronts; i++)
		fronts += M->fronts[i].pid > 0;
	if (now_ms() > M->stop_deadline_ms) {
		for (i = 0; i < M->nfronts; i++)
			if (M->fronts[i].pid > 0)
				kill(M->fronts[i].pid, SIGKILL);
		fronts = 0;
	}
	if (fronts > 0)
		return 0;
	/* Workers are asked first (they take their scripts with them); keyd
	 * has no one left to sign for.  Each signal goes once, not once a
	 * round: a round per exit, each signalling every worker left, was a
	 * million signals for a thousand workers. */
	sig = now_ms() > M->stop_deadline_ms + 1000 ? SIGKILL : SIGTERM;
	for (w = M->workers; w != NULL; w = w->next)
		if (w->pid > 0) {
			if (sig != M->stop_signal)
				kill(w->pid, sig);
			others++;
		}
	if (M->keyd.pid > 0) {
		if (sig != M->stop_signal)
			kill(M->keyd.pid, sig);
		others++;
	}
	/* The fleet's link goes with the workers: their last writes need it. */
	if (dirsync_child()->pid > 0) {
		if (sig != M->stop_signal)
			dirsync_stop(sig);
		others++;
	}
	M->stop_signal = sig;
	if (M->acme.pid > 0) {
		if (now_ms() > M->stop_deadline_ms)
			kill(M->acme.pid, SIGKILL);
		others++;
	}
	if (sql_child()->pid > 0) {
		if (now_ms() > M->stop_deadline_ms)
			sql_stop(SIGKILL);
		others++;
	}
	if (mail_child()->pid > 0) {
		if (now_ms() > M->stop_deadline_ms)
			mail_stop(SIGKILL);
		others++;
	}
	if (mailin_child()->pid > 0) {
		if (now_ms() > M->stop_deadline_ms)
			mailin_stop(SIGKILL);
		others++;
	}
	if (hesiod_child()->pid > 0) {
		if (now_ms() > M->stop_deadline_ms)
			hesiod_stop(SIGKILL);
		others++;
	}
	if (others > 0)
		return 0;
	if (M->logd.pid > 0) {
		kill(M->logd.pid, SIGTERM);
		if (now_ms() > M->stop_deadline_ms + 3000)
			kill(M->logd.pid, SIGKILL);
		return 0;
	}
	return 1;
}

static void
signals_read(void)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap();
			break;
		case SIGHUP:
			reload();
			break;
		case SIGTERM:
		case SIGINT:
			if (M->stopping || !drain_stop_begin(M->conf.drain_time))
				stop_begin();
			break;
		case SIGUSR1:
			child_send(&M->logd, MSG_REOPEN, NULL, 0, -1);
			break;
		}
	}
}

/*
 * Workers asked to stop a second ago are killed.  The walk over every
 * worker runs only when the earliest such deadline has come, not every
 * round of the loop (a thousand warm workers, each saying MSG_ACTIVE once
 * a second, make rounds often).
 */
static void
kills_due(uint64_t now)
{
	struct child *w;

	M->kill_next_ms = 0;
	for (w = M->workers; w != NULL; w = w->next) {
		if (w->kill_at_ms == 0 || w->pid <= 0)
			continue;
		if (now >= w->kill_at_ms) {
			kill(w->pid, SIGKILL);
			w->kill_at_ms = 0;
		} else if (M->kill_next_ms == 0 || w->kill_at_ms < M->kill_next_ms)
			M->kill_next_ms = w->kill_at_ms;
	}
}

static void
restarts_due(void)
{
	uint64_t	 now = now_ms();
	int		 i;

	if (M->kill_next_ms != 0 && now >= M->kill_next_ms)
		kills_due(now);

	if (M->stopping)
		return;
	if (M->logd.pid == 0 && M->logd.restart_at_ms && now >= M->logd.restart_at_ms)
		logd_start();
	if (M->keyd.pid == 0 && M->keyd.restart_at_ms && now >= M->keyd.restart_at_ms)
		keyd_start();
	if (M->acme.pid == 0 && M->acme.restart_at_ms && now >= M->acme.restart_at_ms)
		acme_start();
	if (sql_child()->pid == 0 && sql_child()->restart_at_ms &&
	    now >= sql_child()->restart_at_ms)
		sql_start();
	for (i = 0; i < M->nfronts; i++) {
		struct child *f = &M->fronts[i];

		if (f->pid == 0 && f->restart_at_ms && now >= f->restart_at_ms)
			front_start(f);
	}
}

static void
master_loop(void)
{
	struct epoll_event	 evs[64];
	int			 n, i;

	for (;;) {
		n = epoll_wait(M->epfd, evs, 64, 50);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < n; i++) {
			enum ev_kind *k = evs[i].data.ptr;

			switch (*k) {
			case EV_SIGNAL:
				signals_read();
				break;
			case EV_CONTROL_LISTEN:
				control_accept();
				break;
			case EV_CONTROL_CLIENT:
				control_event((struct ctl_client *)k, evs[i].events);
				break;
			case EV_CHILD:
				if (evs[i].events & EPOLLOUT)
					child_flush((struct child *)k);
				child_read((struct child *)k);
				break;
			case EV_PROOF:
				proof_event((struct proof *)k);
				break;
			case EV_NONE:
				break;
			}
		}
		control_round_end();
		while (M->graveyard != NULL) {
			struct child *g = M->graveyard;

			M->graveyard = g->next;
			free(g);
		}
		restarts_due();
		warm_tick();
		startq_tick();
		spawner_tick();
		zygote_tick();
		certs_tick();
		certs_rescan_tick(&M->conf);
		acme_lease_tick();
		acme_share_tick();
		tickets_tick(&M->conf);
		control_timeouts();
		proof_tick();
		sql_tick();
		mail_tick();
		hesiod_tick();
		cron_tick();
		mailin_tick();
		dirsync_tick();
		if (drain_stop_due())
			stop_begin();
		if (M->stopping && stop_step())
			return;
	}
}

static int
check_config(const char *path, int verbose)
{
	struct config	 c;
	char		 err[512];

	if (config_load(&c, path, err, sizeof(err)) == -1 ||
	    check_secrets(&c, err, sizeof(err)) == -1 ||
	    certs_check(&c, 1, err, sizeof(err)) == -1) {
		fprintf(stderr, "lockerd: %s\n", err);
		return 1;
	}
	if (verbose)
		config_dump(&c, STDOUT_FILENO);
	fprintf(stderr, "lockerd: configuration %s OK\n", path);
	return 0;
}

static int
role_main(const char *role, const char *arg)
{
	if (strcmp(role, "front") == 0 && arg != NULL)
		return front_main(atoi(arg));
	if (strcmp(role, "logd") == 0)
		return logd_main();
	if (strcmp(role, "acme") == 0)
		return acme_main();
	if (strcmp(role, "worker") == 0)
		return worker_main();
	if (strcmp(role, "keyd") == 0)
		return keyd_main();
	if (strcmp(role, "mailout") == 0)
		return mailout_main();
	if (strcmp(role, "maild") == 0)
		return maild_main();
	if (strcmp(role, "hesiod") == 0)
		return hesiod_main();
	if (strcmp(role, "spawner") == 0)
		return spawner_main((char *)role);	/* argv's own memory */
	fatalx("unknown role %s", role);
}

int
main(int argc, char **argv)
{
	const char	*path = DEFAULT_CONFIG;
	char		 err[512];
	int		 ch, test = 0, verbose = 0, debug = 0, i;

	if (argc >= 3 && strcmp(argv[1], "-R") == 0)
		return role_main(argv[2], argc > 3 ? argv[3] : NULL);

	while ((ch = getopt(argc, argv, "c:dtv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (test)
		return check_config(path, verbose);
	log_init("lockerd", debug);
	if (debug)
		setenv("LOCKERD_DEBUG", "1", 1);

	M = &master_state;
	memset(M, 0, sizeof(*M));
	M->control_fd = -1;
	if (realpath(path, M->conf_path) == NULL)
		fatal("%s", path);
	if (config_load(&M->conf, M->conf_path, err, sizeof(err)) == -1 ||
	    check_secrets(&M->conf, err, sizeof(err)) == -1 ||
	    certs_check(&M->conf, 0, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (geteuid() != 0)
		fatalx("must be started as root (it starts each locker's worker as that locker)");
	umask(022);
	if ((M->exe_fd = exe_open()) == -1)
		fatal("open /proc/self/exe");
	if ((M->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");

	setup_dirs();
	if (sandbox_init(&M->conf) == -1)
		fatalx("cannot set up the lockers' sandbox");
	if (quota_init(&M->conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	mime_reload();
	if (M->mime == NULL)
		fatalx("out of memory");
	{
		char dbpath[PATH_MAX];

		snprintf(dbpath, sizeof(dbpath), "%s/%s", M->conf.state, DIRECTORY_FILE);
		if ((M->dir = dir_open(dbpath, err, sizeof(err))) == NULL)
			fatalx("directory %s: %s", dbpath, err);
		if (dirsync_init(err, sizeof(err)) == -1)
			fatalx("directory %s: the fleet's mode: %s", dbpath, err);
	}
	lease_node_set(M->conf.node);	/* the holder's name in the leases table */
	dir_feed_init();
	dir_feed_drain_check();		/* a node drained stays so across restarts */
	vhosts_drop_refused();
	hostnames_check_lockers();
	quota_apply_all();
	M->nfronts = front_count();
	setup_listeners();
	setup_signals();
	if ((M->control_fd = control_open()) == -1)
		fatalx("cannot open the control socket");
	ev_add(M->control_fd, &listen_marker);

	tickets_init();
	M->logd.kind = EV_CHILD;
	M->logd.role = ROLE_LOGD;
	M->logd.chan = -1;
	logd_start();
	M->keyd.kind = EV_CHILD;
	M->keyd.role = ROLE_KEYD;
	M->keyd.chan = -1;
	keyd_start();
	M->acme.kind = EV_CHILD;
	M->acme.role = ROLE_ACME;
	M->acme.chan = -1;
	acme_names_push();
	acme_start();
	sql_start();
	mail_start();
	hesiod_start();
	mailin_start();
	dirsync_start();
	spawner_start();
	zygote_start();
	for (i = 0; i < M->nfronts; i++) {
		M->fronts[i].kind = EV_CHILD;
		M->fronts[i].role = ROLE_FRONT;
		M->fronts[i].idx = i;
		M->fronts[i].chan = -1;
		front_start(&M->fronts[i]);
	}
	certs_load(&M->conf);
	cron_start();
	for (i = 0; i < M->conf.nlisten; i++)
		log_info("listening on %s:%s%s", M->conf.listen[i].host, M->conf.listen[i].port,
		    M->conf.listen[i].flags & LISTEN_TLS ? " (TLS)" : "");
	log_info("started: %d front process%s, %zu lockers, domain %s", M->nfronts,
	    M->nfronts == 1 ? "" : "es", dir_locker_count(M->dir), M->conf.domain);

	master_loop();
	sandbox_release_all(&M->conf);
	/* disk-quota image: every home's image unmounted, its loop device freed. */
	dir_locker_foreach(M->dir, quota_detach_cb, NULL);
	dir_close(M->dir);
	log_info("stopped");
	return 0;
}
