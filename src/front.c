/*
 * front.c: the only process that talks to the internet ("okd").
 *
 * Runs as an unprivileged system user, chrooted into an empty directory.
 * It parses HTTP, finds the locker a request belongs to from the routing
 * table the master pushes, hands the request to that locker's worker, and
 * sends the answer: a head it builds itself and the body from a descriptor
 * the worker opened with the locker's rights.  Everything a worker says is
 * treated as hostile: a worker is the locker's own process.
 *
 * This file holds the process: its state (F), the master's channel, the
 * stop, and the event loop.  The rest of front is split along its seams,
 * each file saying what it holds (front.h lists them).
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "keyclient.h"
#include "http.h"
#include "route.h"
#include "front.h"
#include "acme.h"
#include "tls.h"
#include "h2.h"

struct front F;
uint64_t	loop_now;

/* epoll's handles on what is not an object of its own (a listener is one kind for all). */
static enum obj_kind master_kind = K_MASTER, signal_kind = K_SIGNAL;
static enum obj_kind listen_kind = K_LISTEN;

static void
update_date(void)
{
	time_t t = time(NULL);

	loop_now = now_ms();
	if (t != F.date_t) {
		F.date_t = t;
		http_format_date(t, F.date);
	}
}

static void
apply_config(const struct config *c)
{
	caches_clear();
	F.conf = *c;
	F.limits.max_request_line = c->max_request_line;
	F.limits.max_head = c->max_header_size;
	F.limits.max_headers = c->max_headers;
}

static int
load_routes(int fd)
{
	struct route_table	*t;
	struct stat		 st;
	struct timespec		 t0, t1;
	char			*buf;

	if (fstat(fd, &st) == -1 || st.st_size <= 0 || st.st_size > (256 << 20)) {
		log_warnx("front: bad routes descriptor");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((buf = malloc((size_t)st.st_size)) == NULL)
		return -1;
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size ||
	    (t = route_table_load(buf, (size_t)st.st_size)) == NULL) {
		log_warnx("front: routing table refused");
		free(buf);
		return -1;
	}
	free(buf);
	caches_routes_changed(F.routes, t);	/* a locker or vhost may be gone */
	if (F.routes)
		route_table_free(F.routes);
	F.routes = t;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("front: routes of %lld bytes loaded in %.2f ms", (long long)st.st_size,
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}

/*
 * One change (route_delta.c).  Refused, the table would miss it until the
 * next whole one: exit, and the master starts a front with a whole table.
 */
static void
apply_route_delta(const struct route_delta *d)
{
	if (F.routes == NULL || route_table_apply(F.routes, d, caches_locker_changed, NULL) == -1)
		fatalx("front %d: a change to the routing table refused (op %u)", F.idx,
		    (unsigned)d->op);
	stats_routes(F.master, d->gen);
}

static void
worker_chan(const struct msg_worker *m, int fd)
{
	char		 name[LOCKER_NAME_MAX + 1];
	struct wchan	*w;

	/* Only the live channel of that locker, and only if still waiting. */
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(m->locker), m->locker);
	if ((w = wchan_find(name)) != NULL && w->fd != -1)
		w = NULL;
	if (w == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	if (fd == -1 || m->status != 0) {
		if (fd != -1)
			close(fd);
		wchan_fail(w, m->status >= 400 && m->status < 600 ? m->status : 503);
		return;
	}
	set_nonblock(fd);
	w->fd = fd;
	memcpy(w->own, m->own, sizeof(w->own));
	ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLET, w);
	wchan_flush(w);
}

/* A locker's own limits changed (locker limit): its channel takes them. */
static void
worker_limits(const struct msg_worker *m)
{
	char		 name[LOCKER_NAME_MAX + 1];
	struct wchan	*w;

	snprintf(name, sizeof(name), "%.*s", (int)sizeof(m->locker), m->locker);
	if ((w = wchan_find(name)) != NULL)
		memcpy(w->own, m->own, sizeof(w->own));
}

static void
master_read(void)
{
	union {
		struct config		c;
		struct msg_worker	w;
		uint32_t		gen;	/* MSG_ROUTES: its generation */
		struct route_delta	d;
		struct msg_acme_token	t;
		struct msg_acme_alpn	a;
		uint32_t		drain;	/* MSG_DRAIN: DRAIN_* bits */
	} *m;
	static char	 buf[sizeof(struct config) + 64];
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	m = (void *)buf;
	for (;;) {
		n = msg_recv_checked(F.master, MR_FRONT, MR_MASTER, &type, buf, sizeof(buf), &fd,
		    &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == MSG_BREACH) {
			msg_breach(MR_FRONT, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
			exit(1);
		}
		if (n == -1 || type == MSG_NONE)
			fatalx("front %d: master went away", F.idx);
		/* msg_rules[]: each at its size; MSG_ROUTES and MSG_LOG_CHAN with
		 * their descriptor, MSG_WORKER_CHAN with one if the worker is up. */
		switch (type) {
		case MSG_CONFIG:
			apply_config(&m->c);
			break;
		case MSG_ROUTES:
			/* What was logged under the old table goes first: a
			 * removed locker's lines reach logd before its name can
			 * be signed up again (a CLI round trip later). */
			log_flush();
			if (load_routes(fd) == 0)
				stats_routes(F.master, m->gen);
			break;
		case MSG_ROUTE_DELTA:
			log_flush();	/* as for MSG_ROUTES */
			apply_route_delta(&m->d);
			break;
		case MSG_WORKER_CHAN:
			worker_chan(&m->w, fd);
			fd = -1;
			break;
		case MSG_WORKER_LIMITS:
			worker_limits(&m->w);
			break;
		case MSG_DRAIN:
			health_drain_msg(m->drain);
			break;
		case MSG_KEY_CHAN:
			keyclient_set_chan(fd);
			fd = -1;
			break;
		case MSG_CHALLENGE:
			challenge_set(&m->t);
			break;
		case MSG_CHALLENGE_ALPN:
			challenge_alpn_set(&m->a);
			break;
		case MSG_TLS_CERT:
		case MSG_TLS_COMMIT:
		case MSG_TLS_TICKETS:
			tls_master_msg(type, buf, (size_t)n, fd);
			break;
		case MSG_LOG_CHAN:
			if (F.logfd != -1) {
				epoll_ctl(F.epfd, EPOLL_CTL_DEL, F.logfd, NULL);
				close(F.logfd);
			}
			F.logfd = fd;
			set_nonblock(fd);
			fd = -1;
			break;
		default:
			break;
		}
		if (fd != -1)
			close(fd);
	}
}

static void
timeouts(void)
{
	struct conn	*c, *next;

	/*
	 * Closing an HTTP/2 connection closes its streams' conns too: they
	 * are newer, so nearer the head of the list, and already passed.
	 */
	for (c = F.conns; c != NULL; c = next) {
		next = c->next;
		if (c->deadline > loop_now)
			continue;
		switch (c->state) {
		case C_READ_HEAD:
			if (c->inlen == 0) {
				conn_close(c);	/* an idle keep-alive connection */
				continue;
			}
			c->have_req = 1;
			c->req.method_str.p = NULL;
			c->nreq++;
			c->started = time(NULL);
			send_error(c, 408, 0);
			break;
		case C_READ_BODY:
			send_error(c, 408, 0);
			break;
		case C_WAIT_WORKER:
			if (c->wc)
				wchan_dequeue(c->wc, c);
			send_error(c, 504, 1);
			break;
		case C_WAIT_FCGI:
			if (c->fqw)
				fq_remove(c);
			send_error(c, 504, 1);
			break;
		case C_CGI:
			if (c->sc == NULL || c->sc->cgi_head_done) {
				conn_close(c);
				continue;
			}
			cgi_fail(c, 504, "script timed out");
			break;
		case C_PROXY:		/* header-timeout: a slow PROXY header */
			proxy_timed_out(c);
			conn_close(c);
			continue;
		case C_SEND:
		case C_FLUSH:
		case C_HANDSHAKE:	/* tls-handshake-timeout: a slow hello */
			conn_close(c);
			continue;
		case C_H2:
			h2_expired(c);
			continue;
		}
		conn_run(c);
	}
}

static void
stop_begin(void)
{
	struct conn	*c, *next;
	int		 i;

	if (F.stopping)
		return;
	F.stopping = 1;
	F.stop_deadline = loop_now + (uint64_t)F.conf.shutdown_timeout * 1000;
	for (i = 0; i < F.nlisten; i++) {
		epoll_ctl(F.epfd, EPOLL_CTL_DEL, F.listen[i], NULL);
		close(F.listen[i]);
	}
	F.nlisten = 0;
	for (c = F.conns; c != NULL; c = next) {
		next = c->next;
		if ((c->state == C_READ_HEAD && c->inlen == 0 && c->h2s == NULL) ||
		    c->state == C_HANDSHAKE || c->state == C_PROXY)
			conn_close(c);
		else if (c->state == C_H2)
			h2_stop(c);
	}
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = (rlim_t)F.conf.max_connections * 2 + 256;

		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Accept on every listener.  A listener is level-triggered, so epoll
 * reports it again, but only once it comes round the ready list: behind
 * every connection with an event, thousands under load.  So a queue left
 * unemptied is taken up again every round (round_end()) until it is: with
 * 10,000 connections opened at once, the accept queues otherwise drained
 * at a hundred a second, and a request waiting there was the p99.
 */
static void
accept_all(void)
{
	int j;

	F.accept_more = 0;
	for (j = 0; j < F.nlisten; j++)
		F.accept_more |= accept_conns(j);
}

/* A client's socket: note what the kernel said, then run the connection. */
static void
ev_conn(struct conn *c, uint32_t events)
{
	if (c->closed)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rdhup = 1;
	/* A TLS read that waited for room to write (cio.c). */
	if ((events & EPOLLOUT) && c->tls != NULL && c->tls->rd_wants_write)
		c->readable = 1;
	/* Room alone does nothing for a handshake waiting for the client's
	 * bytes (its own flight just made that room's edge). */
	if (c->state == C_HANDSHAKE && !c->readable && !c->tls->hs_wants_write)
		return;
	conn_run(c);
}

/* A worker's channel: requests still queued go out, answers come in. */
static void
ev_wchan(struct wchan *w, uint32_t events)
{
	if (w->dead)
		return;
	if (events & EPOLLOUT)
		wchan_flush(w);
	wchan_read(w);
}

/* The script side of c (a CGI socket, or a pool connection it uses). */
static void
ev_script(struct conn *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->sc->cgi_readable = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->sc->cgi_writable = 1;
	conn_run(c);
}

static void
ev_cgi(struct cgi_tag *t, uint32_t events)
{
	struct conn *c = t->c;

	if (c->closed || c->sc == NULL || c->sc->cgi_fd == -1)
		return;
	ev_script(c, events);
}

static void
ev_fconn(struct kconn *kc, uint32_t events)
{
	struct conn	*c = kc->owner;
	char		 b;

	if (kc->dead)
		return;
	if (c != NULL) {
		if (c->closed)
			return;
		ev_script(c, events);
		return;
	}
	/* Not in use (its request not begun, or gone): the pool closed
	 * it, or spoke out of turn; an event left from before is not
	 * either. */
	if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    !(recv(kc->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 &&
	    errno == EAGAIN))
		kconn_drop(kc);
}

/* SIGTERM or SIGINT: stop; SIGHUP is the master's business. */
static void
ev_signal(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo != SIGHUP)
			stop_begin();
}

/* One event, by the kind of object it is for. */
static void
ev_one(void *p, uint32_t events, int sfd)
{
	switch (*(enum obj_kind *)p) {
	case K_LISTEN:
		accept_all();
		break;
	case K_CONN:
		ev_conn(p, events);
		break;
	case K_WCHAN:
		ev_wchan(p, events);
		break;
	case K_CGI:
		ev_cgi(p, events);
		break;
	case K_FCONN:
		ev_fconn(p, events);
		break;
	case K_MASTER:
		master_read();
		break;
	case K_SIGNAL:
		ev_signal(sfd);
		break;
	default:
		break;
	}
}

/*
 * What is done once per round, after its events: timeouts (once a second),
 * the queues written in batches, logs and counts sent, the closed freed.
 */
static void
round_end(void)
{
	static time_t	last;
	uint64_t	since;

	if (F.date_t != last) {
		last = F.date_t;
		timeouts();
	}
	if (F.accept_more)
		accept_all();
	fcgi_kick_all();
	flush_all();
	h2_flush_all();
	if (loop_now - F.busy_walked >= BUSY_WALK_MS)
		busy_tell_all();
	/* Log lines go to logd in batches: at most 100 ms late. */
	if (F.loglen > 16384 || (F.loglen > 0 && loop_now - F.log_first >= 100))
		log_flush();
	if (stats_pending(&since) && loop_now - since >= STATS_EVERY_MS)
		stats_flush(F.master);
	graveyard_empty();
	if (F.stopping && (F.nconns == 0 || loop_now > F.stop_deadline)) {
		log_flush();
		stats_flush(F.master);
		exit(0);
	}
}

int
front_main(int idx)
{
	struct epoll_event	 evs[256];
	struct config		 conf;
	char			 root[PATH_MAX + 8], err[256];
	enum msg_type		 type;
	const char		*why;
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, 0 };
	ssize_t			 n;
	int			 i, fd, sfd, nlisten;

	memset(&F, 0, sizeof(F));
	F.idx = idx;
	F.master = CHILD_CHAN_FD;
	F.logfd = -1;
	log_init("front", 0);
	/* The first message is always the configuration. */
	n = msg_recv_checked(F.master, MR_FRONT, MR_MASTER, &type, &conf, sizeof(conf), &fd,
	    &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("front: no configuration from the master");
	apply_config(&conf);
	nlisten = F.conf.nlisten;
	for (i = 0; i < nlisten && i < CONF_MAX_LISTEN; i++) {
		F.lflags[F.nlisten] = F.conf.listen[i].flags;
		F.listen[F.nlisten++] = CHILD_FIRST_LISTEN_FD + i;
	}

	raise_nofile();
	/* Connections come and go by the thousand a second, a TLS one with
	 * OpenSSL's tens of KiB: the heap's top is kept rather than given
	 * back and taken again (a brk() or two per connection). */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 4 << 20);
	tzset();	/* before the chroot hides /etc/localtime */
	tls_init();
	update_date();
	snprintf(root, sizeof(root), "%s/empty", F.conf.state);
	drop_privileges(F.conf.front_user, root);

	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signals_fd(sigs)) == -1)
		fatal("front: signalfd");
	if ((F.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("front: epoll_create1");
	set_nonblock(F.master);
	ev_add(F.master, EPOLLIN, &master_kind);
	ev_add(sfd, EPOLLIN, &signal_kind);
	for (i = 0; i < F.nlisten; i++) {
		set_nonblock(F.listen[i]);
		listener_addr(i);
		ev_add(F.listen[i], EPOLLIN, &listen_kind);
	}
	/* Everything front opens, it has opened by now. */
	if (seccomp_service(0, err, sizeof(err)) == -1)
		fatalx("front: %s", err);

	for (;;) {
		uint64_t since;
		int nev = epoll_wait(F.epfd, evs, 256, F.loglen || stats_pending(&since) ? 100 :
		    F.busy_seen ? BUSY_WALK_MS : 1000);

		update_date();
		for (i = 0; i < nev; i++)
			ev_one(evs[i].data.ptr, evs[i].events, sfd);
		round_end();
	}
}
