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
#include "poolpolicy.h"
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
 * A pool connection reused for a request waiting here that closed before
 * saying anything (its PHP process exited at php-max-requests after the
 * last one): the request went nowhere, and one without a body is sent
 * again, once, on another connection.
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
	kc->w = w;
	snprintf(kc->ext, sizeof(kc->ext), "%s", ext);
	snprintf(kc->pool, sizeof(kc->pool), "%s", pool);
	kc->next = w->kconns;
	w->kconns = kc;
	w->nk++;
	ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, kc);
	return kc;
}

/*
 * The worker hears that a connection to pool closed, with the requests of
 * this round (wchan_flush()): a count per pool, kept until it is sent, so
 * that no full channel can make the worker believe a process busy for
 * ever (it would grow the pool for requests that do not queue, and never
 * shrink it).
 */
static void
done_tell(struct wchan *w, const char *ext, const char *pool)
{
	if (w->dead || w->fd == -1)
		return;
	tally_add(&w->done, ext, pool);
	wchan_dirty(w);
}

int
fcgi_done_flush(struct wchan *w)
{
	struct msg_fcgi	m;
	int		i;

	for (i = w->done.ne - 1; i >= 0; i--) {
		memset(&m, 0, sizeof(m));
		snprintf(m.ext, sizeof(m.ext), "%s", w->done.e[i].ext);
		snprintf(m.pool, sizeof(m.pool), "%s", w->done.e[i].pool);
		m.requests = w->done.e[i].n;
		if (msg_send(w->fd, MSG_FCGI_DONE, &m, sizeof(m), -1) == -1)
			return -1;	/* the rest at the next flush: EPOLLOUT brings it */
		w->done.ne = i;
	}
	return 0;
}

/*
 * A descriptor from the worker that front will not use (its request timed
 * out, or the answer was refused): if it is a pool connection, the worker
 * hears that it closed (of some pool of its: ext ""), or it would count a
 * process busy for ever.
 */
void
fcgi_fd_unused(struct wchan *w, int fd)
{
	struct stat st;

	if (fd == -1)
		return;
	if (w != NULL && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		done_tell(w, "", "");
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
		done_tell(w, kc->ext, kc->pool);
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
 * The request is over.  Its connection goes on only to a request of this
 * front already waiting for its pool (fcgi_kick_all(), this round), at
 * most KEEP_MAX times: the PHP process at its other end is pinned to us
 * while we hold it, and requests through the other fronts queue behind
 * it in the pool's backlog.  So under a queue of ours the connect, the
 * worker's round trip and the accept are paid once per KEEP_MAX requests,
 * and with no queue here the process is free for whoever asks next.
 * Only after a clean exchange (END_REQUEST complete, our whole STDIN
 * sent, nothing after it); anything else may leave the stream out of
 * step.
 */
#define KEEP_MAX	8

void
kconn_release(struct conn *c)
{
	struct script *sc = c->sc;
	struct kconn *kc = sc->kc;
	struct conn *next;

	sc->kc = NULL;
	sc->cgi_fd = -1;
	if (kc->w != NULL && !kc->w->dead && !F.stopping && kc->used < KEEP_MAX &&
	    (next = TAILQ_FIRST(&kc->w->fq)) != NULL && next->scr != NULL &&
	    strcmp(next->scr->ext, kc->ext) == 0 &&
	    strcmp(next->scr->s[WSC_POOL], kc->pool) == 0 && sc->fr.ended &&
	    sc->fr.protocol_status == 0 && sc->upload_done && sc->fcgi_stdin_ended &&
	    !sc->up_discard && sc->up_off == sc->up_len && sc->fraw_off == sc->fraw_len &&
	    sc->fpend_len == 0 && !sc->fcgi_error) {
		kc->owner = NULL;
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

void
fq_remove(struct conn *c)
{
	TAILQ_REMOVE(&c->fqw->fq, c, flink);
	c->fqw = NULL;
}

/*
 * Ask the worker for a connection to c's pool, c's script being known:
 * MSG_FCGI_ASK, which it answers without resolving the request again.
 */
static void
fcgi_ask(struct conn *c, struct wchan *w)
{
	worker_send(c, w, 1);
	c->fcgi_ask = !c->fcgi_no_ask;
}

size_t
fcgi_ask_pack(struct conn *c, char *buf)
{
	struct msg_fcgi m;

	memset(&m, 0, sizeof(m));
	snprintf(m.ext, sizeof(m.ext), "%s", c->scr->ext);
	snprintf(m.pool, sizeof(m.pool), "%s", c->scr->s[WSC_POOL]);
	m.id = c->req_id;
	memcpy(buf, &m, sizeof(m));
	return sizeof(m);
}

/*
 * The worker's answer: the connection, an error for the request, or
 * (404) no such pool there (a new worker, or a pool of a .htaccess's
 * settings gone): the request goes the whole way, resolved again.
 */
void
fcgi_ask_answer(struct wchan *w, struct conn *c, const struct wire_response *r, int fd)
{
	struct kconn *kc;

	if (r->kind == WIRE_STATUS && r->status == 200 && fd != -1 && c->scr != NULL) {
		if ((kc = kconn_new(w, fd, c->scr->ext, c->scr->s[WSC_POOL])) == NULL)
			send_error(c, 503, 1);
		else
			fcgi_begin(c, kc);
		return;
	}
	fcgi_fd_unused(w, fd);
	/* Once: a worker saying so again would send the request round for
	 * ever. */
	if (r->kind == WIRE_STATUS && r->status == 404 && !c->fcgi_no_ask) {
		c->fcgi_no_ask = 1;
		dispatch_worker(c);
	}
	else
		send_error(c, r->kind == WIRE_STATUS && r->status == 503 ? 503 : 502, 1);
}

/*
 * Whether a request may ask the worker for a connection: not beyond the
 * pool's size of them in flight from this front (the others wait here, as
 * they would in the pool's backlog, but each front's share of that
 * backlog is bounded: no front asks beyond the pool).
 */
int
fcgi_may_ask(const struct wchan *w)
{
	return w->nk + w->npending < wchan_cap(w);
}

/* A pool connection for a resolved script: asked of the worker (which
 * grows the pool if every process is busy), or a place in the queue
 * until one of ours closes. */
void
fcgi_acquire(struct conn *c, struct wchan *w)
{
	if (TAILQ_EMPTY(&w->fq) && fcgi_may_ask(w)) {
		fcgi_ask(c, w);
		return;
	}
	conn_set_state(c, C_WAIT_FCGI, F.conf.worker_timeout);
	c->fqw = w;
	TAILQ_INSERT_TAIL(&w->fq, c, flink);
}

/* A connection a request gave up for the next one in line (kconn_release()). */
static struct kconn *
kconn_idle(struct wchan *w, const struct fres *r)
{
	struct kconn *kc;

	for (kc = w->kconns; kc != NULL; kc = kc->next)
		if (kc->owner == NULL && strcmp(kc->ext, r->ext) == 0 &&
		    strcmp(kc->pool, r->s[WSC_POOL]) == 0)
			return kc;
	return NULL;
}

/* Requests waiting get the connections given up for them, or ask for
 * their own as ours close; one given up and not taken closes now. */
void
fcgi_kick_all(void)
{
	struct wchan	*w;
	struct conn	*c;
	struct kconn	*kc, *kn;

	while ((w = LIST_FIRST(&F.kick)) != NULL) {
		LIST_REMOVE(w, klink);
		w->kick = 0;
		while (!w->dead && (c = TAILQ_FIRST(&w->fq)) != NULL) {
			if (c->scr != NULL && (kc = kconn_idle(w, c->scr)) != NULL) {
				fq_remove(c);
				fcgi_begin(c, kc);
				conn_run(c);
				continue;
			}
			if (!fcgi_may_ask(w))
				break;
			fq_remove(c);
			fcgi_ask(c, w);
		}
		for (kc = w->dead ? NULL : w->kconns; kc != NULL; kc = kn) {
			kn = kc->next;
			if (kc->owner == NULL)
				kconn_drop(kc);
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
		kconn_drop(kc);	/* for the next request, which asks anew */
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
	/* FCGI_KEEP_CONN: the next request waiting here may take it
	 * (kconn_release()); PHP goes back to accept() when we close it. */
	if ((rl = cgi_fcgi_request(&s, req, sizeof(req), 1, end_stdin)) == 0) {
		kconn_drop(kc);
		send_error(c, 500, 1);
		return;
	}
	if (script_new(c) == -1) {
		kconn_drop(kc);
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
