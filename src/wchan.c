/*
 * wchan.c: the channels to the lockers' workers: one per locker, looked up
 * by name; requests are packed onto it in batches at the end of an event
 * round, and the answers read back and checked as hostile (a worker is the
 * locker's own process) before a connection sees them.
 *
 * Both directions of front's side of the wire live here, so the one place
 * that trusts nothing a worker says is one file.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "fcgi.h"
#include "http.h"
#include "front.h"
#include "wire.h"

void
wchan_dequeue(struct wchan *w, struct conn *c)
{
	if (w->unsent == c)
		w->unsent = TAILQ_NEXT(c, wlink);
	TAILQ_REMOVE(&w->wq, c, wlink);
	c->wc = NULL;
	c->fcgi_ask = 0;
	if (c->want_conn) {
		/* Answered, timed out or gone: the connection asked for is not
		 * pending any more (one that comes anyway is counted then). */
		c->want_conn = 0;
		w->npending--;
		fcgi_kick(w);
	}
}

/* Channels by locker name: every request not served from the file cache
 * looks its locker's up, among as many as there are active lockers. */
#define WCHAN_BUCKETS	4096

static struct wchan_list	wbuckets[WCHAN_BUCKETS];

static struct wchan_list *
wchan_bucket(const char *locker)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*locker != '\0')
		h = (h ^ (unsigned char)*locker++) * 16777619u;
	return &wbuckets[h % WCHAN_BUCKETS];
}

struct wchan *
wchan_find(const char *locker)
{
	struct wchan *w;

	LIST_FOREACH(w, wchan_bucket(locker), hlink)
		if (!w->dead && strcmp(w->locker, locker) == 0)
			return w;
	return NULL;
}

/* The most kept pool connections this front may hold for w's locker: the
 * pool's size (the worker shares it out between the fronts). */
unsigned
wchan_cap(const struct wchan *w)
{
	return php_pool_cap((unsigned)config_limit_of(&F.conf, w->own, LIMIT_MAX_SCRIPTS),
	    (unsigned)config_limit_of(&F.conf, w->own, LIMIT_PHP_PROCESSES));
}

/* A script's time limit: its locker's own, or the configuration's. */
unsigned
script_limit(const char *locker)
{
	const struct wchan *w = wchan_find(locker);

	return w != NULL ? (unsigned)config_limit_of(&F.conf, w->own, LIMIT_SCRIPT_TIMEOUT) :
	    F.conf.script_timeout;
}

struct wchan *
wchan_get(const char *locker)
{
	struct wchan		*w;
	struct msg_worker	 m;
	int			 k;

	if ((w = wchan_find(locker)) != NULL)
		return w;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->kind = K_WCHAN;
	w->fd = -1;
	w->watch_fd = -1;
	w->watch_gen = ++F.watch_gens;
	for (k = 0; k < LIMIT_N; k++)
		w->own[k] = LIMIT_DEFAULT;
	bucket_fill(&w->errb, F.conf.log_rate * 2, loop_now);
	TAILQ_INIT(&w->wq);
	TAILQ_INIT(&w->fq);
	snprintf(w->locker, sizeof(w->locker), "%s", locker);
	LIST_INSERT_HEAD(wchan_bucket(w->locker), w, hlink);
	memset(&m, 0, sizeof(m));
	memcpy(m.locker, w->locker, sizeof(m.locker));
	if (msg_send(F.master, MSG_WORKER_GET, &m, sizeof(m), -1) == -1)
		log_warn("front: ask master for worker %s", locker);
	return w;
}

static void
wchan_free(struct wchan *w)
{
	LIST_REMOVE(w, hlink);
	if (w->fd != -1) {
		epoll_ctl(F.epfd, EPOLL_CTL_DEL, w->fd, NULL);
		close(w->fd);
		w->fd = -1;
	}
	if (w->watch_fd != -1) {
		close(w->watch_fd);
		w->watch_fd = -1;
	}
	if (w->kick) {
		LIST_REMOVE(w, klink);
		w->kick = 0;
	}
	if (w->dirty) {
		LIST_REMOVE(w, flink);
		w->dirty = 0;
	}
	w->dead = 1;
	LIST_INSERT_HEAD(&F.dead_wchans, w, hlink);
	/* Its pool goes with its worker: idle connections now, busy ones when done. */
	while (w->kconns != NULL) {
		struct kconn *k = w->kconns;

		w->kconns = k->next;
		k->w = NULL;
		if (k->owner == NULL) {
			k->next = NULL;
			kconn_drop(k);
		}
	}
	w->nk = 0;
}

/*
 * A locker's worker is what max-workers retires (the quietest first) and
 * what exits after worker-idle-timeout, and its PHP pool goes with it; both
 * decisions go by what the worker hears.  A PHP page on a pool connection
 * front keeps never passes through the worker, so a locker whose only work
 * was one long page looked idle and lost it (502).  So while a request of
 * a locker is in flight here, front says so to that locker's worker
 * (MSG_BUSY, no payload, at most once a second per locker and channel),
 * which counts it as a request and tells the master (MSG_ACTIVE) as for
 * any other work.  Telling the worker rather than the master keeps one
 * source of "busy", needs no new message the master must check, keeps the
 * worker's own idle exit right, and reaches exactly the worker whose pool
 * runs the request (after a retire, the locker's new worker is another).
 */
#define BUSY_EVERY_MS	1000	/* the master counts 2 s of silence as quiet */

void
wchan_busy(struct wchan *w)
{
	if (w == NULL || w->dead || w->fd == -1 || loop_now - w->told_busy < BUSY_EVERY_MS)
		return;
	/* A full channel holds requests of ours, which say the same. */
	if (msg_send(w->fd, MSG_BUSY, NULL, 0, -1) == 0)
		w->told_busy = loop_now;
}

/* Every request waiting for, or running in, a locker's worker or pool. */
void
busy_tell_all(void)
{
	struct conn *c;

	F.busy_walked = loop_now;
	F.busy_seen = 0;
	for (c = F.conns; c != NULL; c = c->next) {
		if (c->closed)
			continue;
		if (c->sc != NULL && c->sc->kc != NULL) {
			wchan_busy(c->sc->kc->w);	/* the pool's own worker */
			F.busy_seen = 1;
		} else if (c->state == C_WAIT_WORKER || c->state == C_WAIT_FCGI ||
		    (c->state == C_CGI && !c->sc->detached)) {
			/* (An answer held after its script went needs no worker.) */
			wchan_busy(wchan_find(c->locker));
			F.busy_seen = 1;
		}
	}
}

/* One string of the request: length 0 for an absent one. */
static void
view_set(struct wire_view *v, enum wire_str i, const char *p, size_t len)
{
	v->s[i] = p;
	v->l[i] = len;
}

/* The request as the worker needs it (wire.c); its length, or 0 if it does not fit. */
size_t
wire_pack(struct conn *c, char *buf, size_t cap)
{
	static char		 tls_env_buf[4096];
	struct wire_request	 r;
	struct wire_view	 v;
	struct http_request	*q = &c->req;

	memset(&r, 0, sizeof(r));
	r.id = c->req_id;
	r.method = (uint8_t)q->method;
	r.version_minor = (uint8_t)q->version_minor;
	r.remote_port = c->peer_port;
	r.local_port = c->local_port;
	r.content_length = q->chunked ? -1 : q->content_length;
	if (cgi_body_len(c) > 0)
		r.flags |= WREQ_BODY;
	if (c->want_conn)
		r.flags |= WREQ_CONNECT;
	if (c->want_spool || c->want_rspool)
		r.flags |= WREQ_SPOOL;
	memset(&v, 0, sizeof(v));
	view_set(&v, WS_PATH, c->fs_path, strlen(c->fs_path));
	view_set(&v, WS_URL, c->path, strlen(c->path));
	view_set(&v, WS_TARGET, q->target.p, q->target.len);
	view_set(&v, WS_QUERY, q->query.p, q->query.p ? q->query.len : 0);
	view_set(&v, WS_HOST, q->host.p, q->host.p ? q->host.len : 0);
	view_set(&v, WS_PREFIX, c->url_prefix, strlen(c->url_prefix));
	view_set(&v, WS_METHOD, c->redirects ? "GET" : q->method_str.p,
	    c->redirects ? 3 : q->method_str.len);
	view_set(&v, WS_REMOTE, c->peer, strlen(c->peer));
	view_set(&v, WS_LOCAL, c->local, strlen(c->local));
	if (c->tls != NULL) {
		r.flags |= WREQ_TLS;
		if (c->h2s != NULL)
			r.flags |= WREQ_H2;
		view_set(&v, WS_TLS, tls_env_buf, tls_env(c, tls_env_buf, sizeof(tls_env_buf)));
	}
	return wire_request_pack(buf, cap, &r, &v, q->headers, q->nheaders);
}

/*
 * Write the queued requests not yet sent, many per system call; stop at a
 * full channel (EPOLLOUT brings us back).
 */
void
wchan_flush(struct wchan *w)
{
	static char	 scratch[CHAN_BATCH * 2048 + MSG_MAX_PAYLOAD];
	struct msg_out	 out[CHAN_BATCH];
	struct conn	*batch[CHAN_BATCH], *c, *next;
	size_t		 used, len;
	int		 n, k, i;

	if (w->fd == -1 || w->dead)
		return;
	/* Closed connections first: the worker counts the pool's processes
	 * free before it hears of the requests that want them. */
	if (fcgi_done_flush(w) == -1) {
		if (errno != EAGAIN)
			wchan_fail(w, 502);
		return;
	}
	/* Not a walk past those already written: a busy worker has hundreds. */
	c = w->unsent;
	while (c != NULL) {
		used = 0;
		for (n = 0; c != NULL && n < CHAN_BATCH; c = next) {
			next = TAILQ_NEXT(c, wlink);
			if (c->fcgi_ask) {
				/* A script known: a connection is all it needs. */
				if (sizeof(scratch) - used < sizeof(struct msg_fcgi))
					break;	/* no room left in this batch */
				len = fcgi_ask_pack(c, scratch + used);
				out[n].type = MSG_FCGI_ASK;
				out[n].data = scratch + used;
				out[n].len = len;
				out[n].fd = -1;
				used += (len + 7) & ~(size_t)7;
				batch[n++] = c;
				continue;
			}
			len = wire_pack(c, scratch + used, sizeof(scratch) - used < MSG_MAX_PAYLOAD ?
			    sizeof(scratch) - used : MSG_MAX_PAYLOAD);
			if (len == 0) {
				if (n > 0)
					break;	/* no room left in this batch */
				wchan_dequeue(w, c);
				if (c->ghost) {
					ghost_free(w, c);
					continue;
				}
				if (c->want_rspool) {
					resp_spool_refused(c);
					conn_run(c);
					continue;
				}
				/* Too big for any message: this request alone fails. */
				send_error(c, 431, 0);
				conn_run(c);
				continue;
			}
			out[n].type = MSG_REQUEST;
			out[n].data = scratch + used;
			out[n].len = len;
			out[n].fd = -1;
			used += (len + 7) & ~(size_t)7;
			batch[n++] = c;
		}
		if (n == 0)
			return;
		k = msg_send_many(w->fd, out, n);
		if (k == -1) {
			if (errno != EAGAIN)
				wchan_fail(w, 502);
			return;
		}
		for (i = 0; i < k; i++)
			batch[i]->sent = 1;
		w->unsent = TAILQ_NEXT(batch[k - 1], wlink);
		if (k < n)
			return;
	}
}

void
flush_all(void)
{
	struct wchan *w;

	while ((w = LIST_FIRST(&F.flush)) != NULL) {
		LIST_REMOVE(w, flink);
		w->dirty = 0;
		wchan_flush(w);
	}
}

/* w has something to write: at the end of this round, with every other
 * request for it. */
void
wchan_dirty(struct wchan *w)
{
	if (!w->dirty) {
		w->dirty = 1;
		LIST_INSERT_HEAD(&F.flush, w, flink);
	}
}

/* Put the message for the worker in w's queue, to go at the end of the round. */
void
worker_queue(struct conn *c, struct wchan *w)
{
	c->req_id = ++F.next_id;
	c->sent = 0;
	c->wc = w;
	c->watch_gen = w->watch_gen;
	TAILQ_INSERT_TAIL(&w->wq, c, wlink);
	if (w->unsent == NULL)
		w->unsent = c;
	wchan_dirty(w);
}

/* Queue the request for the locker's worker; with want, ask for a pool connection. */
void
worker_send(struct conn *c, struct wchan *w, int want)
{
	c->want_conn = want;
	c->fcgi_ask = 0;
	if (want)
		w->npending++;
	conn_set_state(c, C_WAIT_WORKER, F.conf.worker_timeout);
	worker_queue(c, w);
}

void
dispatch_worker(struct conn *c)
{
	struct wchan *w;

	free(c->scr);
	c->scr = NULL;
	xhdr_clear(c);
	if ((c->req.method == HTTP_M_GET || c->req.method == HTTP_M_HEAD) && fcache_serve(c))
		return;
	if ((w = wchan_get(c->locker)) == NULL) {
		send_error(c, 503, 1);
		return;
	}
	/* A FastCGI script resolved a moment ago goes straight to its pool. */
	if (!c->req.chunked && scache_get(c)) {
		fcgi_acquire(c, w);
		return;
	}
	/* Not known to be PHP yet: a connection is asked for in case (none is
	 * made unless it is). */
	worker_send(c, w, fcgi_may_ask(w));
}

/*
 * The channel is gone (a worker crashed, went idle, or misbehaved).
 * Requests without an answer are re-sent once on a fresh channel: static
 * requests are idempotent.
 */
void
wchan_fail(struct wchan *w, int status)
{
	struct conn *c;

	w->dead = 1;
	/* A retried request joins a fresh channel's queue, never this one. */
	w->unsent = NULL;
	while ((c = TAILQ_FIRST(&w->wq)) != NULL) {
		TAILQ_REMOVE(&w->wq, c, wlink);
		c->wc = NULL;
		c->fcgi_ask = 0;
		if (c->ghost) {
			ghost_free(w, c);	/* asked again once its entry's grace is over */
			continue;
		}
		if (c->want_rspool) {
			/* An answer going out: it goes on without a spool. */
			resp_spool_refused(c);
			conn_run(c);
			continue;
		}
		if (status == 0 && !c->retried) {
			c->retried = 1;
			if (c->want_spool)
				body_ask_spool(c);
			else
				dispatch_worker(c);
		} else {
			c->want_spool = 0;
			send_error(c, status ? status : 502, 1);
			conn_run(c);
		}
	}
	/* Those waiting for a pool connection never reached the worker. */
	while ((c = TAILQ_FIRST(&w->fq)) != NULL) {
		fq_remove(c);
		dispatch_worker(c);
	}
	wchan_free(w);
}

/* A FastCGI script: build its request here, on a pool connection. */
static void
fcgi_response(struct wchan *w, struct conn *c, const struct wire_response *r, size_t len,
    int fd, int asked)
{
	struct kconn *kc;

	if ((c->scr = fres_parse(r, len)) == NULL) {
		log_warnx("front: bad FastCGI answer from worker %s", w->locker);
		fcgi_fd_unused(w, fd);
		send_error(c, 502, 1);
		return;
	}
	if (fd != -1 && !asked) {
		fcgi_fd_unused(w, fd);	/* one we did not ask for would be over our share */
		send_error(c, 502, 1);
		return;
	}
	if (!(r->flags & WRESP_NOCACHE))
		scache_put(c, c->scr, wchan_keep_gen(w, c, r));
	if (fd == -1) {
		/* Not asked for (this front had the pool's size in flight): it
		 * waits for one of ours to close. */
		fcgi_acquire(c, w);
		return;
	}
	if ((kc = kconn_new(w, fd, c->scr->ext, c->scr->s[WSC_POOL])) == NULL) {
		send_error(c, 503, 1);
		return;
	}
	fcgi_begin(c, kc);
}

/*
 * A status a worker may answer with: its own errors, and what a .htaccess
 * decides (401, 410, a redirect, which must come with its Location).
 */
static int
status_ok(const struct wire_response *r)
{
	static const char	loc[] = "Location: ";
	const char		*p = (const char *)(r + 1);
	size_t			 i;

	switch (r->status) {
	case 400: case 401: case 403: case 404: case 405: case 410:
	case 500: case 502: case 503:
		return 1;
	case 301: case 302: case 303: case 307: case 308:
		for (i = 0; i + sizeof(loc) - 1 <= r->hlen; i++)
			if ((i == 0 || p[i - 1] == '\n') &&
			    strncasecmp(p + i, loc, sizeof(loc) - 1) == 0)
				return 1;
		return 0;
	default:
		return 0;
	}
}

static void
handle_response(struct wchan *w, const struct wire_response *r, size_t len, int fd)
{
	struct conn	*c;
	int		 asked, ask;

	/* The worker answers in order, mostly: the oldest first, and only
	 * then the walk. */
	c = TAILQ_FIRST(&w->wq);
	if (c == NULL || c->req_id != r->id || !c->sent)
		TAILQ_FOREACH(c, &w->wq, wlink)
			if (c->req_id == r->id && c->sent)
				break;
	if (c == NULL) {
		/* An answer to a request that timed out, or a lie: a pool
		 * connection in it is given back (a WIRE_STATUS with one is
		 * MSG_FCGI_ASK's). */
		if (r->kind == WIRE_FCGI || r->kind == WIRE_STATUS)
			fcgi_fd_unused(w, fd);
		else if (fd != -1)
			close(fd);
		return;
	}
	asked = c->want_conn;
	ask = c->fcgi_ask;
	wchan_dequeue(w, c);
	if (c->ghost) {
		fcache_refreshed(w, c, r, len, fd);
		return;
	}
	if (ask) {
		fcgi_ask_answer(w, c, r, fd);
		conn_run(c);
		return;
	}
	/* What the file cache held for this request is the worker's old word:
	 * its new one replaces it below, if it may be kept at all. */
	if (!c->want_spool && !c->want_rspool &&
	    (c->req.method == HTTP_M_GET || c->req.method == HTTP_M_HEAD))
		fcache_answered(c);
	if (c->want_spool) {
		body_got_spool(c, r, fd);
		conn_run(c);
		return;
	}
	if (c->want_rspool) {
		resp_got_spool(c, r, fd);
		conn_run(c);
		return;
	}
	if (wire_response_check(r, len) == -1) {
		if (fd != -1)
			close(fd);
		fd = -1;
		send_error(c, 502, 1);
		conn_run(c);
		return;
	}
	xhdr_set(c, (const char *)(r + 1), r->hlen, r->olen);
	/* A file's or a script's other status is an ErrorDocument's: 4xx, 5xx
	 * and never cached (wire_response_check()). */
	if (r->status != 200 && (r->kind == WIRE_FILE || r->kind == WIRE_CGI ||
	    r->kind == WIRE_CGI_NPH || r->kind == WIRE_FCGI))
		c->doc_status = r->status;
	switch (r->kind) {
	case WIRE_FILE:
		if (fd == -1) {
			send_error(c, 502, 1);
			break;
		}
		{
			struct stat st;

			if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
				send_error(c, 502, 1);
				break;
			}
			if (c->doc_status != 0) {
				send_doc(c, fd, r->content_type, &st, c->doc_status);
				fd = -1;
				break;
			}
			/* The cache keeps no FileETag choice: such a file is not kept. */
			if (!c->body_pending && !(r->flags & (WRESP_NOCACHE | WRESP_ETAG_MASK)))
				fcache_put(c, fd, r->content_type, &st, wchan_keep_gen(w, c, r));
			send_file(c, fd, r->content_type, &st, r->flags & WRESP_ETAG_MASK);
			fd = -1;
		}
		break;
	case WIRE_SLASH:
		send_redirect(c, c->path);
		break;
	case WIRE_CGI:
	case WIRE_CGI_NPH:
		if (fd == -1) {
			send_error(c, 502, 1);
			break;
		}
		if (script_new(c) == -1) {
			close(fd);
			send_error(c, 503, 1);
			break;
		}
		cgi_start(c, fd, r->kind == WIRE_CGI_NPH, NULL, 0);
		fd = -1;
		break;
	case WIRE_FCGI:
		fcgi_response(w, c, r, len, fd, asked);
		fd = -1;
		break;
	case WIRE_STATUS:
		send_error(c, status_ok(r) ? r->status : 502, 1);
		break;
	default:
		send_error(c, 502, 1);
	}
	if (fd != -1)
		close(fd);
	conn_run(c);
}

/* A message msg_rules[] refuses: msg_breach() logs it; the channel goes. */
static void
wchan_breach(struct wchan *w, unsigned type, const char *why)
{
	char who[LOCKER_NAME_MAX + 16];

	snprintf(who, sizeof(who), "worker %s", w->locker);
	msg_breach(MR_FRONT, MR_WORKER, who, type, why);	/* MSG_ACT_DROP */
	wchan_fail(w, 502);
}

void
wchan_read(struct wchan *w)
{
	static union {
		struct wire_response	r;
		char			buf[WIRE_RESPONSE_MAX];
	}				 r[CHAN_BATCH];
	struct msg_in			 in[CHAN_BATCH];
	const char			*why;
	unsigned			 bad;
	int				 i, k, round;

	for (round = 0; round < 8 && !w->dead; round++) {
		for (i = 0; i < CHAN_BATCH; i++) {
			in[i].buf = &r[i];
			in[i].cap = sizeof(r[i]);
		}
		k = msg_recv_many_checked(w->fd, MR_FRONT, MR_WORKER, in, CHAN_BATCH, &bad, &why);
		if (k == MSG_BREACH) {
			wchan_breach(w, bad, why);
			return;
		}
		if (k == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (k <= 0) {
			wchan_fail(w, 0);
			return;
		}
		/* msg_rules[]: MSG_RESPONSE, at least a wire_response long, and
		 * MSG_WATCH with its descriptor. */
		for (i = 0; i < k; i++) {
			if (w->dead) {
				if (in[i].fd != -1)
					close(in[i].fd);
				continue;
			}
			if (in[i].type == MSG_WATCH) {
				wchan_watch_set(w, in[i].fd);
				continue;
			}
			handle_response(w, &r[i].r, in[i].len, in[i].fd);
		}
		if (k < CHAN_BATCH)
			return;
	}
}
