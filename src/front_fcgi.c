/*
 * front_fcgi.c: front's FastCGI client, in the manner of OpenBSD httpd's
 * server_fcgi.c: the request's records written, STDOUT and STDERR taken
 * out of the records the pool sends, and the connections to a locker's
 * pool kept open for the next request (and the requests queued for one).
 *
 * Apart from front_cgi.c because the kept connections outlive a request
 * and belong to the locker's channel, not to a connection.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "cgienv.h"
#include "fcgi.h"
#include "front.h"
#include "wire.h"

static void	fcgi_stderr(struct conn *c, const unsigned char *p, size_t len);

/*
 * FastCGI: take the STDOUT bytes out of the records the pool sends, into
 * dst; STDERR goes to the locker's error log; END_REQUEST is the end of
 * the output.
 */
int
fcgi_take(struct conn *c, char *dst, size_t room)
{
	struct script *sc = c->sc;
	size_t got = 0;

	while (got < room) {
		const unsigned char	*data;
		size_t			 used, dlen, k;
		ssize_t			 n;

		if (sc->fpend_len > 0) {
			k = sc->fpend_len < room - got ? sc->fpend_len : room - got;
			memcpy(dst + got, sc->fpend, k);
			sc->fpend += k;
			sc->fpend_len -= k;
			got += k;
			continue;
		}
		if (sc->fraw_off < sc->fraw_len) {
			switch (fcgi_read(&sc->fr, sc->fraw + sc->fraw_off, sc->fraw_len - sc->fraw_off,
			    &used, &data, &dlen)) {
			case FCGI_EV_STDOUT:
				sc->fpend = data;
				sc->fpend_len = dlen;
				break;
			case FCGI_EV_STDERR:
				fcgi_stderr(c, data, dlen);
				break;
			case FCGI_EV_END:
				sc->cgi_eof = 1;
				sc->fcgi_ended = 1;
				break;
			case FCGI_EV_ERROR:
				sc->fcgi_error = 1;
				sc->cgi_eof = 1;
				break;
			case FCGI_EV_MORE:
				break;
			}
			sc->fraw_off += used;
			if (sc->cgi_eof && sc->fpend_len == 0)
				break;
			continue;
		}
		if (sc->cgi_eof || !sc->cgi_readable)
			break;
		sc->fraw_off = sc->fraw_len = 0;
		n = recv(sc->cgi_fd, sc->fraw, CGI_BUF, 0);
		if (n > 0)
			sc->fraw_len = (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			sc->cgi_eof = 1;
		else
			sc->cgi_readable = 0;
	}
	return (int)got;
}

/*
 * STDERR records cut a message wherever the pool's buffers or our reads
 * cut it, and hold several messages (PHP's "error_log()" and the
 * uncaught exception after it): logd gets whole lines, as written, and
 * splits them.  The lines of a record go in one message: a locker's flood
 * of errors costs front (shared by every locker) a send per record, not
 * per line, and leaves room on the channel for the others' lines.
 */
static void
fcgi_stderr(struct conn *c, const unsigned char *p, size_t len)
{
	linebuf_feed_runs(&c->sc->ferr, (const char *)p, len, locker_log_line, c);
}

/* The request's error stream ended: its last line, even without a newline. */
void
fcgi_stderr_end(struct conn *c)
{
	linebuf_flush(&c->sc->ferr, locker_log_line, c);
}

/*
 * A kept pool connection that closed before saying anything (its PHP
 * process exited between two requests): the request went nowhere, and one
 * without a body is sent again, once, on another connection.
 */
int
fcgi_retry(struct conn *c)
{
	struct wchan *w;

	if (c->sc->kc == NULL || !c->sc->kc_reused || c->fcgi_retried || c->sc->cgi_len > 0 ||
	    c->req.content_length > 0 || c->req.chunked || c->scr == NULL)
		return 0;
	w = c->sc->kc->w;
	c->fcgi_retried = 1;
	cgi_end(c);
	if (w != NULL && !w->dead)
		fcgi_acquire(c, w);
	else
		dispatch_worker(c);
	return 1;
}

struct kconn *
kconn_new(struct wchan *w, int fd, const char *ext, const char *pool)
{
	struct kconn	*kc = calloc(1, sizeof(*kc));
	struct stat	 st;

	if (kc == NULL || fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		free(kc);
		fcgi_fd_unused(w, fd);
		return NULL;
	}
	set_nonblock(fd);
	kc->kind = K_FCONN;
	kc->fd = fd;
	kc->ino = (uint64_t)st.st_ino;
	kc->idle_since = loop_now;
	kc->w = w;
	if (!w->pooled) {
		w->pooled = 1;
		LIST_INSERT_HEAD(&F.pooled, w, plink);
	}
	snprintf(kc->ext, sizeof(kc->ext), "%s", ext);
	snprintf(kc->pool, sizeof(kc->pool), "%s", pool);
	kc->next = w->kconns;
	w->kconns = kc;
	w->nk++;
	/* Registered for its whole life: no epoll_ctl per request. */
	ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, kc);
	return kc;
}

/* The worker hears which connection closed: its PHP process is free. */
static void
done_tell(struct wchan *w, const struct kconn *kc)
{
	struct msg_fcgi m;

	if (w->dead || w->fd == -1)
		return;
	memset(&m, 0, sizeof(m));
	snprintf(m.ext, sizeof(m.ext), "%s", kc->ext);
	snprintf(m.pool, sizeof(m.pool), "%s", kc->pool);
	m.ino = kc->ino;
	m.requests = kc->used;
	m.flags = kc->idled ? FCGI_IDLE : 0;
	if (msg_send(w->fd, MSG_FCGI_DONE, &m, sizeof(m), -1) == -1)
		log_warn("front: tell worker %s of a closed PHP connection", w->locker);
}

/*
 * A descriptor from the worker that front will not use (its request timed
 * out, or the answer was refused): if it is a pool connection, the worker
 * hears that it closed, or its PHP process would stay held for ever.
 */
void
fcgi_fd_unused(struct wchan *w, int fd)
{
	struct kconn	kc;
	struct stat	st;

	if (fd == -1)
		return;
	memset(&kc, 0, sizeof(kc));
	if (w != NULL && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
		kc.ino = (uint64_t)st.st_ino;
		done_tell(w, &kc);	/* ext "": the worker looks in every pool */
	}
	close(fd);
}

/* Close it; freed at the end of the round (an event may still name it). */
void
kconn_drop(struct kconn *kc)
{
	struct wchan *w = kc->w;

	if (w != NULL) {
		struct kconn **pp;

		for (pp = &w->kconns; *pp != NULL; pp = &(*pp)->next)
			if (*pp == kc) {
				*pp = kc->next;
				break;
			}
		w->nk--;
		fcgi_kick(w);
		done_tell(w, kc);
	}
	epoll_ctl(F.epfd, EPOLL_CTL_DEL, kc->fd, NULL);
	close(kc->fd);
	kc->dead = 1;
	kc->w = NULL;
	kc->owner = NULL;
	kc->next = F.dead_kconns;
	F.dead_kconns = kc;
}

/*
 * The request is over: keep the connection for the next one only if the
 * exchange ended cleanly (END_REQUEST complete, our whole STDIN sent,
 * nothing after it); anything else may leave the stream out of step.
 */
void
kconn_release(struct conn *c)
{
	struct script *sc = c->sc;
	struct kconn *kc = sc->kc;

	sc->kc = NULL;
	sc->cgi_fd = -1;
	if (kc->w != NULL && kc->w->owe > 0) {
		kc->w->owe--;	/* the worker asked for one back */
		kconn_drop(kc);
		return;
	}
	if (kc->w != NULL && !kc->w->dead && !F.stopping &&
	    kc->w->nk <= wchan_cap(kc->w) && sc->fr.ended &&
	    sc->fr.protocol_status == 0 && sc->upload_done && sc->fcgi_stdin_ended &&
	    !sc->up_discard && sc->up_off == sc->up_len && sc->fraw_off == sc->fraw_len &&
	    sc->fpend_len == 0 && !sc->fcgi_error) {
		kc->owner = NULL;
		kc->idle_since = loop_now;
		fcgi_kick(kc->w);
		return;
	}
	kconn_drop(kc);
}

void
fcgi_kick(struct wchan *w)
{
	if (w->kick || w->dead || TAILQ_EMPTY(&w->fq))
		return;
	w->kick = 1;
	LIST_INSERT_HEAD(&F.kick, w, klink);
}

/* An idle connection to a pool (a locker's interpreter may have several,
 * one per set of .htaccess PHP settings); ext NULL: to any pool. */
static struct kconn *
kconn_idle_in(struct wchan *w, const char *ext, const char *pool)
{
	struct kconn *kc;

	for (kc = w->kconns; kc != NULL; kc = kc->next)
		if (kc->owner == NULL && (ext == NULL || (strcmp(kc->ext, ext) == 0 &&
		    strcmp(kc->pool, pool) == 0)))
			return kc;
	return NULL;
}

/* An idle connection to r's pool; r NULL: to any pool. */
static struct kconn *
kconn_idle(struct wchan *w, const struct fres *r)
{
	return r == NULL ? kconn_idle_in(w, NULL, NULL) :
	    kconn_idle_in(w, r->ext, r->s[WSC_POOL]);
}

void
fq_remove(struct conn *c)
{
	TAILQ_REMOVE(&c->fqw->fq, c, flink);
	c->fqw = NULL;
}

/* Whether one of w's connections is idle (a request may take it). */
int
fcgi_idle_any(struct wchan *w)
{
	return kconn_idle(w, NULL) != NULL;
}

/*
 * Whether a request may ask the worker for a connection: not while it told
 * us to wait (its grant comes), nor beyond the pool's size.
 */
int
fcgi_may_ask(const struct wchan *w)
{
	return w->denied == 0 && w->nk + w->npending < wchan_cap(w);
}

/*
 * A pool connection for a resolved script: an idle one of ours, or a new
 * one from the worker (which grows the pool, or tells us to wait), or
 * else a place in the queue until one of ours is free.
 */
void
fcgi_acquire(struct conn *c, struct wchan *w)
{
	struct kconn *kc;

	if (TAILQ_EMPTY(&w->fq) && (kc = kconn_idle(w, c->scr)) != NULL) {
		fcgi_begin(c, kc);
		return;
	}
	/* At the pool's size, an idle one to another pool (another
	 * interpreter's, or another .htaccess's PHP settings) gives up its
	 * place: nothing would ever free it for this request. */
	if (TAILQ_EMPTY(&w->fq) && w->nk + w->npending >= wchan_cap(w) &&
	    (kc = kconn_idle(w, NULL)) != NULL)
		kconn_drop(kc);
	if (TAILQ_EMPTY(&w->fq) && fcgi_may_ask(w)) {
		worker_send(c, w, 1);
		return;
	}
	conn_set_state(c, C_WAIT_FCGI, F.conf.worker_timeout);
	c->fqw = w;
	TAILQ_INSERT_TAIL(&w->fq, c, flink);
}

/* Hand freed connections (or slots for new ones) to the requests waiting. */
void
fcgi_kick_all(void)
{
	struct wchan	*w;
	struct conn	*c;
	struct kconn	*kc;

	while ((w = LIST_FIRST(&F.kick)) != NULL) {
		LIST_REMOVE(w, klink);
		w->kick = 0;
		while (!w->dead && (c = TAILQ_FIRST(&w->fq)) != NULL) {
			if ((kc = kconn_idle(w, c->scr)) != NULL) {
				fq_remove(c);
				fcgi_begin(c, kc);
				conn_run(c);
				continue;
			}
			/* An idle one for another pool gives up its place. */
			if (w->nk + w->npending >= wchan_cap(w) &&
			    (kc = kconn_idle(w, NULL)) != NULL)
				kconn_drop(kc);
			if (!fcgi_may_ask(w))
				break;
			fq_remove(c);
			worker_send(c, w, 1);
		}
	}
}

/*
 * MSG_FCGI_GRANT: the connection the worker told us to wait for (checked:
 * a socket, for a pool of ours, not beyond the pool's size), or without
 * one, the end of the wait: the queue asks again.
 */
void
fcgi_grant(struct wchan *w, const struct msg_fcgi *m, int fd)
{
	struct kconn *kc;

	if (w->denied > 0)
		w->denied--;
	fcgi_kick(w);
	if (fd == -1)
		return;
	if (memchr(m->ext, '\0', sizeof(m->ext)) == NULL ||
	    memchr(m->pool, '\0', sizeof(m->pool)) == NULL) {
		fcgi_fd_unused(w, fd);
		return;
	}
	if ((kc = kconn_new(w, fd, m->ext, m->pool)) == NULL)
		return;
	if (w->nk > wchan_cap(w))
		kconn_drop(kc);
}

/*
 * MSG_FCGI_RECLAIM: an idle connection goes back at once; with FCGI_MUST
 * (we hold more than our part while another front waits), a busy one
 * once its request is done.
 */
void
fcgi_reclaim(struct wchan *w, const struct msg_fcgi *m)
{
	struct kconn *kc;

	if (memchr(m->ext, '\0', sizeof(m->ext)) == NULL ||
	    memchr(m->pool, '\0', sizeof(m->pool)) == NULL)
		return;
	if ((kc = kconn_idle_in(w, m->ext, m->pool)) != NULL && TAILQ_EMPTY(&w->fq))
		kconn_drop(kc);
	else if ((m->flags & FCGI_MUST) && w->owe < w->nk)
		w->owe++;
}

/* Connections unused for php-idle-timeout go back: the pool shrinks. */
void
fcgi_idle_sweep(void)
{
	struct wchan	*w, *next;
	struct kconn	*kc, *kn;

	for (w = LIST_FIRST(&F.pooled); w != NULL; w = next) {
		uint64_t idle_ms = config_limit_of(&F.conf, w->own, LIMIT_PHP_IDLE) * 1000;

		next = LIST_NEXT(w, plink);
		for (kc = w->kconns; kc != NULL; kc = kn) {
			kn = kc->next;
			if (kc->owner == NULL && loop_now - kc->idle_since >= idle_ms) {
				kc->idled = 1;
				kconn_drop(kc);
			}
		}
		if (w->nk == 0 || w->dead) {
			LIST_REMOVE(w, plink);
			w->pooled = 0;
		}
	}
}

/* Write the request (BEGIN_REQUEST, PARAMS) on kc and run it. */
void
fcgi_begin(struct conn *c, struct kconn *kc)
{
	static char		 wbuf[MSG_MAX_PAYLOAD];
	static unsigned char	 req[FCGI_REQUEST_MAX];
	static char		 file[2 * PATH_MAX];
	struct wire_request	*q = (struct wire_request *)wbuf;
	struct wire_view	 v;
	struct script_req	 s;
	size_t			 wl, rl;
	int			 end_stdin;

	if ((wl = wire_pack(c, wbuf, sizeof(wbuf))) == 0 ||
	    wire_view_of(q, wbuf + sizeof(*q), wl - sizeof(*q), &v) == -1) {
		fcgi_kick(kc->w);	/* still idle: for whoever waits */
		send_error(c, 431, 0);
		return;
	}
	/* A .htaccess rewrite's URL and query are the script's. */
	if (c->scr->s[WSC_URL][0] != '\0') {
		v.s[WS_URL] = c->scr->s[WSC_URL];
		v.l[WS_URL] = strlen(c->scr->s[WSC_URL]);
		v.s[WS_QUERY] = c->scr->s[WSC_QUERY];
		v.l[WS_QUERY] = strlen(c->scr->s[WSC_QUERY]);
	}
	/* An ErrorDocument's script runs as a GET, as the worker's CGI does (errdoc.c). */
	if (c->doc_status != 0 && c->req.method != HTTP_M_HEAD) {
		v.s[WS_METHOD] = "GET";
		v.l[WS_METHOD] = 3;
	}
	snprintf(file, sizeof(file), "%s/%s", c->scr->s[WSC_DOCROOT], c->scr->s[WSC_REL]);
	memset(&s, 0, sizeof(s));
	s.conf = &F.conf;
	s.q = q;
	s.view = &v;
	s.filename = file;
	s.docroot = c->scr->s[WSC_DOCROOT];
	s.path_info = c->scr->s[WSC_PATH_INFO];
	s.index_name = c->scr->has_index ? c->scr->s[WSC_INDEX] : NULL;
	s.ht_env = c->scr->s[WSC_ENV];
	s.ht_env_len = strlen(c->scr->s[WSC_ENV]);
	end_stdin = !(q->flags & WREQ_BODY);
	if ((rl = cgi_fcgi_request(&s, req, sizeof(req), 1, end_stdin)) == 0) {
		fcgi_kick(kc->w);
		send_error(c, 500, 1);
		return;
	}
	if (script_new(c) == -1) {
		fcgi_kick(kc->w);
		send_error(c, 503, 1);
		return;
	}
	kc->owner = c;
	c->sc->kc = kc;
	c->sc->kc_reused = kc->used++ > 0;
	wchan_busy(kc->w);	/* at once: the worker may have been quiet for long */
	c->sc->fcgi = 1;
	/* Until the reader has seen END_REQUEST, the connection is not reusable. */
	fcgi_reader_init(&c->sc->fr, 1);
	cgi_start(c, kc->fd, 0, req, rl);
	if (c->state != C_CGI)
		return;
	/* A body that is not for this script (a local redirect's) is read and
	 * dropped: nothing may follow the end of STDIN (see cgi_upload). */
	c->sc->fcgi_stdin_ended = end_stdin;
}
