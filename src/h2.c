/*
 * h2.c: an HTTP/2 session (RFC 9113) on a TLS connection that chose "h2".
 *
 * nghttp2 does the protocol: frames, HPACK, flow control, the stream
 * states and RFC 9113's checks of a request's fields (§8.2).  This file
 * carries its bytes (mem_recv from TLS, mem_send to TLS), turns its
 * callbacks into streams (h2_stream.c gives each its conn), and bounds
 * what a client may make it do, by the http2-* keys:
 *   - streams open at once (SETTINGS_MAX_CONCURRENT_STREAMS), and no new
 *     one while the front is at max-connections;
 *   - resets and refused streams per 10 s (rapid reset, CVE-2023-44487);
 *   - SETTINGS, PING, PRIORITY and empty DATA frames per 10 s (floods);
 *   - HEADERS + CONTINUATION frames per header block (CONTINUATION flood);
 *   - a header list over max-header-size: 431 on its stream (h2req.c);
 *   - a connection that takes no bytes for send-timeout: closed.
 * Over a bound, the connection ends with GOAWAY(ENHANCE_YOUR_CALM): it
 * costs that connection, nobody else's.
 *
 * nghttp2 calls back in the middle of mem_recv and mem_send, where no
 * conn may run (a conn's answer calls nghttp2 again): the callbacks only
 * note what happened and put the stream on the session's run list, which
 * h2_process() runs once nghttp2 has returned.
 */
#include <sys/queue.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "lockerd.h"
#include "front.h"
#include "tls.h"
#include "h2.h"

/* Frames are gathered up to this before a TLS write: one record, not one a frame. */
#define H2_GATHER	16384

static LIST_HEAD(, h2_session)	dirty = LIST_HEAD_INITIALIZER(dirty);
static nghttp2_session_callbacks	*cbs;
static nghttp2_option		*opts;

static void	h2_process(struct h2_session *h);
static int	h2_write(struct h2_session *h);
static int	h2_finished(struct h2_session *h);

int
h2_negotiated(const struct conn *c)
{
	const unsigned char	*p;
	unsigned int		 n;

	if (c->tls == NULL || !F.conf.http2)
		return 0;
	SSL_get0_alpn_selected(c->tls->ssl, &p, &n);
	return n == 2 && memcmp(p, "h2", 2) == 0;
}

void
h2_dirty(struct h2_session *h)
{
	if (h->dirty || h->dying)
		return;
	h->dirty = 1;
	LIST_INSERT_HEAD(&dirty, h, flink);
}

void
h2_stream_kick(struct h2_stream *s)
{
	if (!s->on_run) {
		s->on_run = 1;
		s->run_next = s->h->run;
		s->h->run = s;
	}
	h2_dirty(s->h);
}

/* A client over a bound: GOAWAY(ENHANCE_YOUR_CALM), and the connection ends once it is out. */
static void
h2_calm(struct h2_session *h, const char *bound)
{
	if (h->goaway)
		return;
	h->goaway = 1;
	nghttp2_session_terminate_session(h->ng, NGHTTP2_ENHANCE_YOUR_CALM);
	log_warnx("front: HTTP/2 client %s over %s: GOAWAY", h->c->peer, bound);
	h2_dirty(h);
}

/* One more event of a kind counted per H2_WINDOW_MS; 1: over max. */
static int
h2_window_count(struct h2_session *h, unsigned *n, uint32_t max, const char *bound)
{
	if (loop_now - h->win_start >= H2_WINDOW_MS) {
		h->win_start = loop_now;
		h->resets = h->controls = 0;
	}
	if (++*n <= max)
		return 0;
	h2_calm(h, bound);
	return 1;
}

int
h2_count_reset(struct h2_session *h)
{
	return h2_window_count(h, &h->resets, F.conf.http2_max_resets, "http2-max-resets");
}

static void
h2_count_control(struct h2_session *h)
{
	h2_window_count(h, &h->controls, F.conf.http2_max_control,
	    "http2-max-control-frames");
}

void
h2_stream_free(struct h2_stream *s)
{
	struct h2_session *h = s->h;

	TAILQ_REMOVE(&h->streams, s, link);
	/* The last stream gone: the connection is idle from now (a PING
	 * does not make it less so). */
	if (--h->nstreams == 0 && !h->dying)
		conn_set_state(h->c, C_H2, F.conf.keepalive_timeout);
	h2req_free(&s->req);
	free(s->in);
	free(s->head);
	free(s->out);
	free(s);
}

/* Refuse a stream: no conn, its DATA dropped; its RST_STREAM counts
 * against http2-max-resets as it goes out (on_frame_send). */
static void
h2_refuse(struct h2_stream *s, uint32_t code)
{
	s->refused = 1;
	if (!s->reset_sent && !s->closed) {
		s->reset_sent = 1;
		nghttp2_submit_rst_stream(s->h->ng, NGHTTP2_FLAG_NONE, s->id, code);
	}
}

/* ------------------------------------------------------------ callbacks */

static struct h2_stream *
stream_of(struct h2_session *h, int32_t id)
{
	return nghttp2_session_get_stream_user_data(h->ng, id);
}

static int
on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_session	*h = arg;
	struct h2_stream	*s;

	(void)ng;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	s->h = h;
	s->id = f->hd.stream_id;
	s->first_chunk = 1;
	s->hdr_frames = 1;
	h2req_init(&s->req, F.conf.max_header_size);
	TAILQ_INSERT_TAIL(&h->streams, s, link);
	h->nstreams++;
	nghttp2_session_set_stream_user_data(h->ng, s->id, s);
	if (h->goaway || F.stopping || F.nconns >= F.conf.max_connections)
		h2_refuse(s, NGHTTP2_REFUSED_STREAM);
	return 0;
}

/* Frames that do no work for anyone: counted; CONTINUATIONs of one block, too. */
static int
on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *arg)
{
	struct h2_session	*h = arg;
	struct h2_stream	*s;

	(void)ng;
	switch (hd->type) {
	case NGHTTP2_SETTINGS:
	case NGHTTP2_PING:
	case NGHTTP2_PRIORITY:
		h2_count_control(h);
		break;
	case NGHTTP2_DATA:
		if (hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM))
			h2_count_control(h);
		break;
	case NGHTTP2_CONTINUATION:
		if ((s = stream_of(h, hd->stream_id)) != NULL && ++s->hdr_frames >
		    F.conf.http2_max_header_frames)
			h2_calm(h, "http2-max-header-frames");
		break;
	}
	return 0;
}

static int
on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
    const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
	struct h2_session	*h = arg;
	struct h2_stream	*s;

	(void)ng;
	(void)flags;
	/* Trailers are read and dropped, as front does HTTP/1.1's. */
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST ||
	    (s = stream_of(h, f->hd.stream_id)) == NULL || s->refused)
		return 0;
	if (h2req_field(&s->req, name, nlen, value, vlen) == -1)
		h2_refuse(s, NGHTTP2_PROTOCOL_ERROR);
	return 0;
}

/* A request's header block is whole: its head for the conn, which runs next. */
static void
headers_done(struct h2_session *h, struct h2_stream *s, int end_stream)
{
	if (h2req_finish(&s->req, end_stream) == -1) {
		h2_refuse(s, NGHTTP2_PROTOCOL_ERROR);
		return;
	}
	if (s->req.status == 0 && h2s_data_in(s, NULL, 0) == -1) {
		h2_refuse(s, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	s->ready = 1;
	if (end_stream)
		h2s_data_end(s);
	h2_stream_kick(s);
	/* New work: the connection is not idle. */
	conn_set_state(h->c, C_H2, F.conf.send_timeout);
}

static int
on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_session	*h = arg;
	struct h2_stream	*s;
	int			 end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	(void)ng;
	if (f->hd.type == NGHTTP2_RST_STREAM) {
		h2_count_reset(h);
		return 0;
	}
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    (s = stream_of(h, f->hd.stream_id)) == NULL || s->refused)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		headers_done(h, s, end);
	else if (end && s->ready)
		h2s_data_end(s);
	return 0;
}

static int
on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
    void *arg)
{
	struct h2_session	*h = arg;
	struct h2_stream	*s = stream_of(h, id);

	(void)flags;
	/* Nobody reads it: its window is given back at once. */
	if (s == NULL || s->refused || !s->ready || s->req.status != 0) {
		nghttp2_session_consume(ng, id, n);
		return 0;
	}
	if (h2s_data_in(s, p, n) == -1) {
		nghttp2_session_consume(ng, id, n);
		h2_refuse(s, NGHTTP2_FLOW_CONTROL_ERROR);
	}
	return 0;
}

static int
on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *arg)
{
	struct h2_session	*h = arg;
	struct h2_stream	*s = stream_of(h, id);

	(void)code;
	if (s == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	s->closed = 1;
	/* Its conn, if any, closes once nghttp2 has returned. */
	if (s->c != NULL || s->on_run)
		h2_stream_kick(s);
	else
		h2_stream_free(s);
	return 0;
}

/*
 * Every stream the server resets for what the client did counts as one
 * the client reset: nghttp2 resets a stream by itself for what RFC 9113
 * calls malformed (DATA past its content-length, a field it refuses), and
 * a client that makes the server do the resetting (MadeYouReset,
 * CVE-2025-8671: 30 such streams in a burst drew no GOAWAY when only
 * h2_refuse() counted) must meet http2-max-resets as rapid reset does.
 * Not counted: INTERNAL_ERROR (our side gave up: a script, a worker, a
 * stall) and NO_ERROR (the answer was whole before the request).
 */
static int
on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_session	*h = arg;
	struct h2_stream	*s;

	if (f->hd.type == NGHTTP2_RST_STREAM &&
	    f->rst_stream.error_code != NGHTTP2_NO_ERROR &&
	    f->rst_stream.error_code != NGHTTP2_INTERNAL_ERROR)
		h2_count_reset(h);
	/* An answer given before its request's body was all in is out now:
	 * the client may stop sending that body (RFC 9113 §8.1). */
	if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
	    (s = stream_of(h, f->hd.stream_id)) != NULL && s->reset_when_sent &&
	    !s->reset_sent && !s->closed) {
		s->reset_sent = 1;
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
	}
	return 0;
}

static int
callbacks_init(void)
{
	if (cbs != NULL)
		return 0;
	if (nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opts) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, on_begin_frame);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	/* A stream's window opens as its conn reads (h2s_recv()), not as
	 * bytes arrive: what a stream holds unread is bounded by its window. */
	nghttp2_option_set_no_auto_window_update(opts, 1);
	/* Our HPACK encoder's table stays at 4 KiB whatever size the client
	 * allows it: memory a connection holds does not grow on its say-so. */
	nghttp2_option_set_max_deflate_dynamic_table_size(opts, 4096);
	return 0;
}

/* ------------------------------------------------------------ the session */

int
h2_start(struct conn *c)
{
	struct h2_session	*h;
	nghttp2_settings_entry	 set[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, F.conf.http2_max_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 65535 },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, F.conf.max_header_size },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};

	if (callbacks_init() == -1 || (h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	TAILQ_INIT(&h->streams);
	h->c = c;
	h->last_out = h->win_start = loop_now;
	if (nghttp2_session_server_new2(&h->ng, cbs, h, opts) != 0) {
		free(h);
		return -1;
	}
	/* The session window: what all streams may hold unread together. */
	if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, set,
	    sizeof(set) / sizeof(set[0])) != 0 ||
	    nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0,
	    1 << 20) != 0) {
		nghttp2_session_del(h->ng);
		free(h);
		return -1;
	}
	c->h2 = h;
	conn_set_state(c, C_H2, F.conf.keepalive_timeout);
	h2_run(c);
	return 0;
}

/* Streams whose conns have something to do, now that nghttp2 is out of the way. */
static void
h2_process(struct h2_session *h)
{
	struct h2_stream	*s;
	struct conn		*c;

	while ((s = h->run) != NULL && !h->dying) {
		h->run = s->run_next;
		s->on_run = 0;
		if ((c = s->c) == NULL) {
			if (s->closed)
				h2_stream_free(s);
			else if (s->ready && !s->refused)
				h2s_conn_new(s);
			continue;
		}
		if (s->closed) {
			conn_close(c);	/* the client reset it: what it was doing stops */
			continue;
		}
		conn_run(c);
	}
}

/* Read what the client sent and feed it to nghttp2; -1: the session is over. */
static int
h2_read(struct h2_session *h)
{
	struct conn	*c = h->c;
	uint8_t		 buf[16384];
	ssize_t		 n, r;

	while (c->readable && !h->fatal) {
		if ((n = cio_recv(c, buf, sizeof(buf))) == 0)
			return -1;	/* the client closed: its streams go with it */
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				c->readable = 0;
				break;
			}
			return -1;
		}
		if ((r = nghttp2_session_mem_recv(h->ng, buf, (size_t)n)) < 0) {
			/* nghttp2 may have a GOAWAY for it: one flush, then the close. */
			h->fatal = 1;
			break;
		}
		h2_process(h);
	}
	return 0;
}

/* Gather frames from nghttp2 into obuf, up to H2_GATHER; -1: out of memory or fatal. */
static int
h2_gather(struct h2_session *h)
{
	const uint8_t	*p;
	ssize_t		 n;

	while (h->olen < H2_GATHER) {
		if ((n = nghttp2_session_mem_send(h->ng, &p)) < 0)
			return -1;
		if (n == 0)
			break;
		if (h->olen + (size_t)n > h->ocap) {
			size_t	 cap = h->olen + (size_t)n > 2 * H2_GATHER ?
			    h->olen + (size_t)n : 2 * H2_GATHER;
			char	*b = realloc(h->obuf, cap);

			if (b == NULL)
				return -1;
			h->obuf = b;
			h->ocap = cap;
		}
		memcpy(h->obuf + h->olen, p, (size_t)n);
		h->olen += (size_t)n;
	}
	return 0;
}

/* Write frames until nghttp2 has none or TLS takes no more: 1 all out, 0 wait, -1 over. */
static int
h2_write(struct h2_session *h)
{
	struct conn	*c = h->c;
	ssize_t		 k;

	for (;;) {
		if (h2_gather(h) == -1)
			return -1;
		if (h->ooff == h->olen) {
			h->ooff = h->olen = 0;
			/* nghttp2 has nothing more; streams that got room may. */
			if (h->run == NULL)
				return 1;
			h2_process(h);
			if (h->dying)
				return -1;
			continue;
		}
		if ((k = cio_send(c, h->obuf + h->ooff, h->olen - h->ooff, 0)) < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		h->ooff += (size_t)k;
		h->last_out = loop_now;
		if (h->ooff == h->olen) {
			h->ooff = h->olen = 0;
			/* Freed when idle, as an HTTP/1.1 connection's buffers are. */
			if (h->ocap > 4 * H2_GATHER) {
				free(h->obuf);
				h->obuf = NULL;
				h->ocap = 0;
			}
		}
		h2_process(h);
	}
}

/* Whether the session is over: fatal, or nothing more to read or write. */
static int
h2_finished(struct h2_session *h)
{
	if (h->fatal)
		return 1;
	if (h->olen > h->ooff)
		return 0;
	if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng))
		return 1;
	return h->goaway && h->nstreams == 0 && !nghttp2_session_want_write(h->ng);
}

/* Write, then close the connection if the session is over. */
static void
h2_write_or_close(struct h2_session *h)
{
	struct conn	*c = h->c;
	int		 w = h2_write(h);

	if (w == -1 || (w == 1 && h2_finished(h))) {
		if (w == 1)
			cio_shutdown(c);
		conn_close(c);
		return;
	}
	/* Waiting for room with frames to send: the stall clock runs. */
	if (w == 0)
		c->deadline = h->last_out + (uint64_t)F.conf.send_timeout * 1000;
}

void
h2_run(struct conn *c)
{
	struct h2_session *h = c->h2;

	if (h2_read(h) == -1) {
		conn_close(c);
		return;
	}
	h2_write_or_close(h);
}

void
h2_flush_all(void)
{
	struct h2_session *h;

	while ((h = LIST_FIRST(&dirty)) != NULL) {
		LIST_REMOVE(h, flink);
		h->dirty = 0;
		h2_write_or_close(h);
	}
}

int
h2_expired(struct conn *c)
{
	struct h2_session *h = c->h2;

	uint64_t	st = (uint64_t)F.conf.send_timeout * 1000;
	int		moving;

	/* What a stream's conn queued in this same pass of the clocks (its
	 * 408 or 504: streams' conns come first in the list) goes out first,
	 * and those bytes moving keep the connection, as does a new clock
	 * (its last stream gone, the idle one): else a 408 at body-timeout,
	 * with send-timeout as short, closed the connection with all its
	 * other streams. */
	if (h2_write(h) == -1) {
		conn_close(c);
		return 1;
	}
	if (c->deadline > loop_now)
		return 0;	/* its last stream went: idle from now */
	moving = loop_now - h->last_out < st;

	/* Streams whose bytes moved lately: on, until they stop moving. */
	if (h->nstreams > 0 && moving) {
		c->deadline = h->nconns > 0 ? loop_now + 1000 : h->last_out + st;
		return 0;
	}
	/* A stream's conn keeps its own clocks (408, 504, a script's limit,
	 * send-timeout for its window) while the socket takes what it gets. */
	if (h->nconns > 0 && h->olen == h->ooff) {
		conn_set_state(c, C_H2, 1);
		return 0;
	}
	/* Idle for keepalive-timeout, bytes that have not moved for
	 * send-timeout (a zero window), or a socket that takes nothing. */
	if (!h->goaway) {
		h->goaway = 1;
		nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE,
		    nghttp2_session_get_last_proc_stream_id(h->ng), NGHTTP2_NO_ERROR, NULL, 0);
		h2_gather(h);
		if (h->olen > h->ooff)
			cio_send(c, h->obuf + h->ooff, h->olen - h->ooff, 0);
	}
	cio_shutdown(c);
	conn_close(c);
	return 1;
}

void
h2_stop(struct conn *c)
{
	struct h2_session *h = c->h2;

	if (h->goaway)
		return;
	h->goaway = 1;
	nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(h->ng), NGHTTP2_NO_ERROR, NULL, 0);
	h2_dirty(h);
}

void
h2_free(struct conn *c)
{
	struct h2_session	*h = c->h2;
	struct h2_stream	*s;

	h->dying = 1;
	if (h->dirty)
		LIST_REMOVE(h, flink);
	h->dirty = 0;
	while ((s = TAILQ_FIRST(&h->streams)) != NULL) {
		if (s->c != NULL)
			conn_close(s->c);	/* logged as a client gone */
		h2_stream_free(s);
	}
	nghttp2_session_del(h->ng);
	free(h->obuf);
	free(h);
	c->h2 = NULL;
}
