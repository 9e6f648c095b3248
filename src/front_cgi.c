/*
 * front_cgi.c: the relay of a running script's answer: its body up the
 * socket to the script, its head checked and rewritten, its output framed
 * and sent, and the answer held (respbuf.h) when the client is slower than
 * the script.
 *
 * The same relay serves CGI and FastCGI (front_fcgi.c only brings the
 * records in and out); it is apart from conn.c because it runs its own
 * small state machine (cgi_run) inside the C_CGI state.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "body.h"
#include "cgi.h"
#include "cookie.h"
#include "fcgi.h"
#include "http.h"
#include "respbuf.h"
#include "route.h"
#include "front.h"

static int	cgi_head(struct conn *c, struct cgi_head *h, size_t hlen);
static void	upstream_release(struct conn *c);

#define CGI_MAX_HEAD	(16 * 1024)
#define CGI_MAX_REDIRECTS 10

/* The answer's spool and its place in the worker's queue go with the script. */
static void
resp_end(struct conn *c)
{
	if (c->want_rspool && c->wc != NULL)
		wchan_dequeue(c->wc, c);
	c->want_rspool = 0;
	respbuf_free(&c->sc->rb);
}

int
script_new(struct conn *c)
{
	if (c->sc != NULL)
		cgi_end(c);	/* not reached: every script ends in cgi_end() */
	if ((c->sc = calloc(1, sizeof(*c->sc))) == NULL)
		return -1;
	c->sc->cgi_fd = -1;
	respbuf_init(&c->sc->rb);
	return 0;
}

void
cgi_end(struct conn *c)
{
	if (c->sc == NULL)
		return;
	upstream_release(c);
	free(c->sc->cgi_buf);
	resp_end(c);
	free(c->sc);
	c->sc = NULL;
}

void
cgi_start(struct conn *c, int fd, int nph, const void *pre, size_t prelen)
{
	struct script	*sc = c->sc;
	size_t		 upsz = CGI_BUF + FCGI_HEADER_LEN > prelen ? CGI_BUF + FCGI_HEADER_LEN :
			    prelen;

	sc->cgi_fd = sc->kc ? fd : -1;
	if ((sc->cgi_buf = malloc(CGI_BUF)) == NULL ||
	    ((cgi_body_len(c) || prelen) && (sc->up = malloc(upsz)) == NULL) ||
	    (sc->fcgi && (sc->fraw = malloc(CGI_BUF)) == NULL)) {
		if (sc->kc == NULL)
			close(fd);
		cgi_end(c);
		send_error(c, 503, 1);
		return;
	}
	set_nonblock(fd);
	sc->cgi_fd = fd;
	sc->cgi_nph = nph;
	c->cgi_gen++;
	/* The rest of sc starts at zero (script_new()). */
	sc->cgi_readable = sc->cgi_writable = 1;
	if (prelen) {
		/* The FastCGI request's head goes up first, like body bytes. */
		memcpy(sc->up, pre, prelen);
		sc->up_len = prelen;
	}
	sc->out_left = -1;
	sc->upload_done = cgi_body_len(c) == 0 && prelen == 0;
	if (sc->fcgi)
		fcgi_reader_init(&sc->fr, 1);
	/* FastCGI ends stdin with an empty record (the worker sent it if there
	 * is no body), not by closing.  A body was held whole before (so
	 * "100 Continue" went out then). */
	if (sc->upload_done && !sc->fcgi)
		shutdown(fd, SHUT_WR);
	if (sc->kc == NULL)
		ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->cgi_tag);
	sc->script_s = script_limit(c->locker);
	conn_set_state(c, C_CGI, sc->script_s);
}

/*
 * Move the body held (c->body) toward the script: into c->sc->up, as STDIN
 * records for FastCGI, and from there into the script's socket.  Returns
 * 1 on progress, 0 when blocked, -1 when the spool could not be read back.
 */
static int
cgi_upload(struct conn *c)
{
	struct script	*sc = c->sc;
	int		framed = sc->fcgi;	/* as STDIN records */
	size_t		hdr = framed ? FCGI_HEADER_LEN : 0;
	uint64_t	total = cgi_body_len(c);
	int		progress = 0;

	for (;;) {
		if (sc->up_off < sc->up_len) {
			ssize_t n;

			if (!sc->cgi_writable)
				return progress;
			if (sc->up_discard) {
				sc->up_off = sc->up_len;
				continue;
			}
			n = send(sc->cgi_fd, sc->up + sc->up_off, sc->up_len - sc->up_off,
			    MSG_NOSIGNAL);
			if (n == -1) {
				if (errno == EAGAIN) {
					sc->cgi_writable = 0;
					return progress;
				}
				/* The script stopped reading: the rest is dropped. */
				sc->up_off = sc->up_len;
				sc->up_discard = 1;
				progress = 1;
				continue;
			}
			sc->up_off += (size_t)n;
			progress = 1;
			continue;
		}
		sc->up_off = sc->up_len = 0;
		if (sc->up_src < total && !sc->up_discard && !(framed && sc->fcgi_stdin_ended)) {
			ssize_t n = body_read(&c->body, sc->up_src, sc->up + hdr,
			    CGI_BUF - FCGI_HEADER_LEN);

			if (n <= 0)
				return -1;	/* the locker's spool shrank under us */
			sc->up_src += (uint64_t)n;
			sc->up_len = (size_t)n;
			if (hdr) {
				/* FastCGI: the piece goes up as one STDIN record. */
				fcgi_header((unsigned char *)sc->up, FCGI_STDIN, 1,
				    (uint16_t)n, 0);
				sc->up_len += hdr;
			}
			progress = 1;
			continue;
		}
		if (framed && !sc->fcgi_stdin_ended && !sc->up_discard) {
			/* The empty STDIN record that ends the body. */
			fcgi_header((unsigned char *)sc->up, FCGI_STDIN, 1, 0, 0);
			sc->up_len = FCGI_HEADER_LEN;
			sc->fcgi_stdin_ended = 1;
			continue;
		}
		sc->upload_done = 1;
		if (!sc->up_discard && !framed)
			shutdown(sc->cgi_fd, SHUT_WR);
		return 1;
	}
}

/* Read what the script wrote into dst; the bytes read. */
static int
cgi_read(struct conn *c, char *dst, size_t room)
{
	struct script *sc = c->sc;
	ssize_t n;

	if (sc->fcgi)
		return room == 0 ? 0 : fcgi_take(c, dst, room);

	if (!sc->cgi_readable || sc->cgi_eof || room == 0)
		return 0;
	n = recv(sc->cgi_fd, dst, room, 0);
	if (n > 0)
		return (int)n;
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		sc->cgi_eof = 1;
		return 0;
	}
	sc->cgi_readable = 0;
	return 0;
}

/* A Location: /path with no Status: the locker's own URL, served instead. */
static void
cgi_local_redirect(struct conn *c, struct http_str loc)
{
	struct route_result	rr;
	const char		*q = memchr(loc.p, '?', loc.len);
	size_t			plen = q ? (size_t)(q - loc.p) : loc.len;
	size_t			qlen = q ? loc.len - plen - 1 : 0;

	/* The location lives in the script's buffer, which goes with it. */
	if (++c->redirects > CGI_MAX_REDIRECTS ||
	    http_normalize_path(loc.p, plen, c->path, sizeof(c->path)) < 0) {
		cgi_end(c);
		send_error(c, 500, 1);
		return;
	}
	free(c->redirect_query);
	if ((c->redirect_query = malloc(qlen + 1)) == NULL) {
		cgi_end(c);
		send_error(c, 503, 1);
		return;
	}
	if (qlen)
		memcpy(c->redirect_query, q + 1, qlen);
	c->redirect_query[qlen] = '\0';
	cgi_end(c);
	if (route_lookup(F.routes, c->req.host.p ? c->req.host.p : "",
	    c->req.host.p ? c->req.host.len : 0, c->path, &rr) != ROUTE_LOCKER ||
	    strcmp(rr.locker, c->locker) != 0 || rr.fs_path[0] == '\0') {
		send_error(c, 500, 1);
		return;
	}
	memcpy(c->url_prefix, rr.url_prefix, sizeof(c->url_prefix));
	memcpy(c->fs_path, rr.fs_path, sizeof(c->fs_path));
	/* The redirected request is a GET without a body, as in Apache. */
	c->req.method = HTTP_M_GET;	/* method_str stays: the log shows the request */
	c->req.query.p = q ? c->redirect_query : NULL;
	c->req.query.len = qlen;
	c->req.range.p = c->req.if_none_match.p = c->req.if_modified_since.p = NULL;
	dispatch_worker(c);
}

/*
 * An nph- script's status line, as it wrote it (cgi_parse_head checked it:
 * "HTTP/1.x NNN reason", no CTL), and front's Server and Date: the fields a
 * script may not send were dropped by the parser as in any other head.
 */
static void
nph_status_line(struct conn *c, const struct cgi_head *h)
{
	struct script	*sc = c->sc;
	const char	*nl = memchr(sc->cgi_buf, '\n', sc->cgi_len);
	size_t		 n = nl ? (size_t)(nl - sc->cgi_buf) : 0;
	int		 k;

	if (n > 0 && sc->cgi_buf[n - 1] == '\r')
		n--;
	head_begin(c, h->status);
	k = snprintf(c->out, sizeof(c->out), "%.*s\r\nServer: " SERVER_SOFTWARE
	    "\r\nDate: %s\r\n", (int)n, sc->cgi_buf, F.date);
	/* A reason phrase as long as the head may be does not fit ours. */
	if (k < 0 || (size_t)k >= sizeof(c->out)) {
		c->outlen = 0;
		c->out_full = 1;
	} else
		c->outlen = (size_t)k;
	c->xhdr_at = c->xhdr_end = 0;	/* the worker's fields are not in this head */
}

/*
 * The host a script's cookies may name in Domain= (cookie.h): the one the
 * request came to when it is the locker's own (its subdomain or a vhost);
 * none on the service's shared names, where /~locker/ pages of every
 * locker share one origin.
 */
static const char *
cookie_host(const struct conn *c, char *buf, size_t bufsz)
{
	if (c->url_prefix[0] != '\0' || c->req.host.p == NULL ||
	    route_canon_host(c->req.host.p, c->req.host.len, buf, bufsz) == -1)
		return NULL;
	return buf;
}

/*
 * Set-Cookie of a script (nph- too), without a Domain that reaches past
 * the locker's own host.  Rewritten in the script's buffer: only ever
 * shorter.
 */
static void
cgi_cookie(struct conn *c, struct http_header *f)
{
	char	host[HOSTNAME_MAX + 1];
	int	removed;

	if (!http_str_eq(f->name, "Set-Cookie"))
		return;
	f->value.len = cookie_strip_domain(f->value.p, f->value.len,
	    cookie_host(c, host, sizeof(host)), (char *)f->value.p, &removed);
}

/*
 * The script's head is complete: turn it into ours.  1 when it is ours,
 * 0 when the request went elsewhere (a local redirect), -1 when it does
 * not fit in ours: refused whole (502), never sent with fields missing.
 *
 * An nph- script's answer is framed like any other: a script must not be
 * able to write a second response that a pipelining client would take for
 * the answer to its next request (to another locker, maybe).  It is cut at
 * its Content-Length; without one it ends where the connection does; and
 * the connection closes after it either way, as nph always did, so nothing
 * the client pipelined behind it is answered on it.
 */
static int
cgi_head(struct conn *c, struct cgi_head *h, size_t hlen)
{
	size_t i;

	if (h->local_redirect) {
		cgi_local_redirect(c, h->location);
		return 0;
	}
	/* An ErrorDocument's script answers with the error, unless it says otherwise. */
	if (h->status_implied && c->doc_status != 0)
		h->status = c->doc_status;
	if (c->sc->cgi_nph) {
		nph_status_line(c, h);
		c->keep_alive = 0;
	} else
		head_begin(c, h->status);
	if (h->content_type.p)
		head_add(c, "Content-Type: %.*s\r\n", (int)h->content_type.len,
		    h->content_type.p);
	if (h->location.p)
		head_add(c, "Location: %.*s\r\n", (int)h->location.len, h->location.p);
	for (i = 0; i < h->nheaders; i++) {
		/* An https-only name's HSTS is the service's (head_begin()): a
		 * script's own would make two, which browsers may both ignore. */
		if (c->hsts && h->headers[i].name.len == 25 &&
		    strncasecmp(h->headers[i].name.p, "Strict-Transport-Security", 25) == 0)
			continue;
		cgi_cookie(c, &h->headers[i]);
		head_add(c, "%.*s: %.*s\r\n", (int)h->headers[i].name.len,
		    h->headers[i].name.p, (int)h->headers[i].value.len, h->headers[i].value.p);
	}
	c->sc->out_left = h->content_length;
	if (c->req.method == HTTP_M_HEAD || h->status == 304 || h->status == 204) {
		c->sc->out_left = 0;
		if (h->content_length >= 0)
			head_add(c, "Content-Length: %lld\r\n", (long long)h->content_length);
	} else if (h->content_length >= 0)
		head_add(c, "Content-Length: %lld\r\n", (long long)h->content_length);
	else if (c->req.version_minor == 1 && !c->sc->cgi_nph && c->h2s == NULL) {
		c->sc->chunked_out = 1;
		head_add(c, "Transfer-Encoding: chunked\r\n");
	} else	/* the end of the body is the end of the connection (or stream) */
		c->keep_alive = 0;
	/* Room left for head_end()'s Connection field and the empty line. */
	if (c->out_full || c->outlen + 64 >= sizeof(c->out))
		return -1;
	head_end(c);
	/* What came after the head is body: keep it at the front of the buffer. */
	memmove(c->sc->cgi_buf, c->sc->cgi_buf + hlen, c->sc->cgi_len - hlen);
	c->sc->cgi_len -= hlen;
	c->sc->cgi_off = 0;
	c->sc->cgi_head_done = 1;
	return 1;
}

/*
 * A script's answer refused: the server's error log says so, and for a
 * 502 (the script's own fault) so does its locker's, which is where its
 * owner looks (a page that "just says 502" is otherwise a mystery).
 */
void
cgi_fail(struct conn *c, int status, const char *why)
{
	char	line[600];
	int	n;

	cgi_end(c);
	if (F.logfd != -1) {
		n = snprintf(line, sizeof(line), "[client %s] locker %s: %s: %.300s", c->peer,
		    c->locker, why, c->path);
		if (n > 0)
			msg_send(F.logfd, MSG_LOG_ERROR, line, (size_t)n < sizeof(line) ?
			    (size_t)n : sizeof(line) - 1, -1);
		n = snprintf(line, sizeof(line), "[client %s] %d for %.300s: %s", c->peer,
		    status, c->path, why);
		if (status == 502 && n > 0)
			locker_log_line(c, line, (size_t)n < sizeof(line) ? (size_t)n :
			    sizeof(line) - 1);
	}
	send_error(c, status, 1);
}

/* Take n written bytes off a piece still to send; returns what is left of n. */
static size_t
sent_off(size_t n, size_t *left)
{
	size_t k = n < *left ? n : *left;

	*left -= k;
	return n - k;
}

/*
 * A FastCGI answer that ended without END_REQUEST (its PHP process died
 * mid-way) is not passed off as whole: no last chunk, and the connection
 * closes, so the client knows.  (A CGI script's end is its EOF: there is
 * nothing else to tell.)
 */
static int
cgi_cut_short(const struct conn *c)
{
	return c->sc->fcgi && !c->sc->fcgi_ended;
}

/*
 * A PHP page that has sent all its Content-Length said and goes on working
 * (MediaWiki's updates after its answer): its FastCGI exchange is followed
 * to END_REQUEST, as nginx does, and what it writes past its length is
 * dropped.  Ending the request at its length closed the pool's connection
 * under it: the process met a closed socket with its END_REQUEST (killed
 * by SIGPIPE where it does not ignore it) and the pool started another,
 * which compiles the application again.  The client has its whole answer
 * meanwhile; its next request on the connection waits, bounded by the
 * script's time limit.
 */
static int
fcgi_working_on(const struct conn *c)
{
	const struct script *sc = c->sc;

	return sc->fcgi && sc->kc != NULL && !sc->cgi_eof && sc->out_left == 0;
}

/*
 * Send our head (while it is not out) and the body bytes buffered, framed
 * as chunks when we chose to, and the last chunk when the script has
 * finished: all in one writev, so that a small answer is one segment.  A
 * piece cut short by a full socket is finished on the next call.  1 when
 * all of it is out, 0 when the socket is full, -1 on error.
 */
static int
cgi_send_body(struct conn *c)
{
	struct script	*sc = c->sc;

	for (;;) {
		struct iovec	iov[5];
		size_t		n, left;
		ssize_t		w;
		int		niov = 0;

		if (sc->ck_hoff == sc->ck_hlen && sc->ck_data == 0 && sc->ck_tail == 0) {
			size_t data = sc->cgi_len - sc->cgi_off;

			/* A script that says less than it sends is cut at its word. */
			if (sc->out_left >= 0 && (uint64_t)data > (uint64_t)sc->out_left)
				data = (size_t)sc->out_left;
			sc->ck_data = data;
			sc->ck_hoff = sc->ck_hlen = 0;
			if (sc->chunked_out && data > 0) {
				sc->ck_hlen = (size_t)snprintf(sc->ck_h, sizeof(sc->ck_h), "%zx\r\n", data);
				sc->ck_tail = 2;
			}
		}
		/* The script is done and this is the rest of its output. */
		if (sc->chunked_out && !sc->ck_end_queued && sc->cgi_eof && !cgi_cut_short(c) &&
		    sc->ck_data == sc->cgi_len - sc->cgi_off && respbuf_pending(&sc->rb) == 0) {
			sc->ck_end = 5;
			sc->ck_end_queued = 1;
		}
		if (c->outoff < c->outlen) {
			iov[niov].iov_base = c->out + c->outoff;
			iov[niov++].iov_len = c->outlen - c->outoff;
		}
		if (sc->ck_hoff < sc->ck_hlen) {
			iov[niov].iov_base = sc->ck_h + sc->ck_hoff;
			iov[niov++].iov_len = sc->ck_hlen - sc->ck_hoff;
		}
		if (sc->ck_data > 0) {
			iov[niov].iov_base = sc->cgi_buf + sc->cgi_off;
			iov[niov++].iov_len = sc->ck_data;
		}
		if (sc->ck_tail > 0) {
			iov[niov].iov_base = (char *)"\r\n" + (2 - sc->ck_tail);
			iov[niov++].iov_len = sc->ck_tail;
		}
		if (sc->ck_end > 0) {
			iov[niov].iov_base = (char *)"0\r\n\r\n" + (5 - sc->ck_end);
			iov[niov++].iov_len = sc->ck_end;
		}
		if (niov == 0)
			break;
		if ((w = cio_writev(c, iov, niov)) == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		n = (size_t)w;
		left = c->outlen - c->outoff;
		n = sent_off(n, &left);
		c->outoff = c->outlen - left;
		left = sc->ck_hlen - sc->ck_hoff;
		n = sent_off(n, &left);
		sc->ck_hoff = sc->ck_hlen - left;
		if (n > 0 && sc->ck_data > 0) {
			size_t k = n < sc->ck_data ? n : sc->ck_data;

			sc->ck_data -= k;
			sc->cgi_off += k;
			c->body_bytes += (off_t)k;
			if (sc->out_left >= 0)
				sc->out_left -= (int64_t)k;
			n -= k;
		}
		n = sent_off(n, &sc->ck_tail);
		sent_off(n, &sc->ck_end);
		/* Next, either the client reads or the script writes: the longer. */
		conn_set_state(c, c->state, F.conf.send_timeout > sc->script_s ?
		    F.conf.send_timeout : sc->script_s);
	}
	sc->cgi_off = sc->cgi_len = 0;
	return cio_flushed(c);
}

/* Ask the locker's worker for a spool for the rest of the answer. */
static void
resp_ask_spool(struct conn *c)
{
	struct wchan *w = wchan_get(c->locker);

	if (w == NULL) {
		c->sc->rb.refused = 1;
		return;
	}
	c->sc->rb.asked = 1;
	c->want_rspool = 1;
	worker_queue(c, w);
}

/* No spool to be had: the script waits for the client, as it always did. */
void
resp_spool_refused(struct conn *c)
{
	c->want_rspool = 0;
	c->sc->rb.asked = 0;
	c->sc->rb.refused = 1;
}

/* The worker's answer to resp_ask_spool(): anything but an empty regular file is refused. */
void
resp_got_spool(struct conn *c, const struct wire_response *r, int fd)
{
	c->want_rspool = 0;
	if (r->kind != WIRE_SPOOL && fd != -1) {
		close(fd);
		fd = -1;
	}
	respbuf_spool(&c->sc->rb, fd);
}

/*
 * Take what the script wrote into the answer held: into memory while
 * nothing waits in the spool (what is in memory always goes out before
 * what is in the spool), else into the spool.  The bytes taken; 0 when
 * none (the script is silent or done, or there is no room: a spool is
 * asked for); -1 when the spool refused them (errno).
 */
static int
resp_fill(struct conn *c)
{
	struct script	*sc = c->sc;
	static char	scratch[CGI_BUF];
	size_t		room;
	int		n;

	if (sc->cgi_eof)
		return 0;
	if (respbuf_pending(&sc->rb) == 0) {
		if (sc->cgi_off == sc->cgi_len)
			sc->cgi_off = sc->cgi_len = 0;
		else if (sc->cgi_off >= CGI_BUF / 2) {
			memmove(sc->cgi_buf, sc->cgi_buf + sc->cgi_off, sc->cgi_len - sc->cgi_off);
			sc->cgi_len -= sc->cgi_off;
			sc->cgi_off = 0;
		}
		if (sc->cgi_len < CGI_BUF) {
			n = cgi_read(c, sc->cgi_buf + sc->cgi_len, CGI_BUF - sc->cgi_len);
			sc->cgi_len += (size_t)n;
			return n;
		}
	}
	if (sc->rb.fd == -1) {
		if (!sc->rb.asked && !sc->rb.refused)
			resp_ask_spool(c);
		return 0;
	}
	if ((room = respbuf_room(&sc->rb, sizeof(scratch))) == 0)
		return 0;
	n = cgi_read(c, scratch, room);
	if (n > 0 && respbuf_write(&sc->rb, scratch, (size_t)n) == -1)
		return -1;
	return n;
}

/* The next piece of the answer comes from the spool: a chunk of its own. */
static void
resp_piece_begin(struct conn *c)
{
	struct script *sc = c->sc;
	uint64_t data = respbuf_pending(&sc->rb);

	if (data > (1 << 20))
		data = 1 << 20;
	if (sc->out_left >= 0 && data > (uint64_t)sc->out_left)
		data = (uint64_t)sc->out_left;
	sc->sp_data = (size_t)data;
	sc->ck_hoff = sc->ck_hlen = sc->ck_tail = 0;
	if (sc->chunked_out) {
		sc->ck_hlen = (size_t)snprintf(sc->ck_h, sizeof(sc->ck_h), "%zx\r\n",
		    sc->sp_data);
		sc->ck_tail = 2;
	}
	sc->sp_piece = 1;
}

/* Send the piece from the spool: its chunk's size line, sendfile(), its CRLF. */
static int
resp_piece_send(struct conn *c)
{
	struct script *sc = c->sc;
	ssize_t n;

	while (sc->ck_hoff < sc->ck_hlen) {
		n = cio_send(c, sc->ck_h + sc->ck_hoff, sc->ck_hlen - sc->ck_hoff, 1);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		sc->ck_hoff += (size_t)n;
	}
	while (sc->sp_data > 0) {
		n = respbuf_send(&sc->rb, sc->sp_data, cio_sendfile_cb, c);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		if (n == 0)
			return -1;	/* the spool shrank: what we framed cannot come */
		sc->sp_data -= (size_t)n;
		c->body_bytes += n;
		if (sc->out_left >= 0)
			sc->out_left -= n;
		conn_set_state(c, c->state, F.conf.send_timeout > sc->script_s ?
		    F.conf.send_timeout : sc->script_s);
	}
	while (sc->ck_tail > 0) {
		n = cio_send(c, "\r\n" + (2 - sc->ck_tail), sc->ck_tail, 0);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		sc->ck_tail -= (size_t)n;
	}
	sc->sp_piece = 0;
	return 1;
}

/*
 * Send what is held: from memory (our head first), then from the spool.
 * 1 when all of it is out, 0 when the socket is full, -1 on error.
 */
static int
resp_send(struct conn *c)
{
	int r;

	for (;;) {
		if (c->sc->sp_piece && (r = resp_piece_send(c)) != 1)
			return r;
		if ((r = cgi_send_body(c)) != 1)
			return r;
		if (respbuf_pending(&c->sc->rb) == 0 || c->sc->out_left == 0)
			return 1;
		resp_piece_begin(c);
	}
}

/*
 * The script's whole answer is held and the client is behind: let the
 * script go (a pool connection back to the pool, a CGI script's slot
 * free) and send the rest at the client's pace, bounded by send-timeout.
 * The memory kept counts in front's total; past it, the script waits for
 * the client, as before.
 */
/*
 * The script's side of a request goes: a kept PHP connection back to its
 * pool (or closed), a CGI socket closed (which tells the worker to kill a
 * script still running), and the upload's buffers.  At the end of a
 * request (cgi_end), or once a held answer no longer needs it (cgi_detach).
 */
static void
upstream_release(struct conn *c)
{
	struct script	*sc = c->sc;

	fcgi_stderr_end(c);
	if (sc->kc != NULL)
		kconn_release(c);	/* to a request waiting for it, or closed */
	if (sc->cgi_fd != -1) {
		epoll_ctl(F.epfd, EPOLL_CTL_DEL, sc->cgi_fd, NULL);
		close(sc->cgi_fd);
		sc->cgi_fd = -1;
	}
	free(sc->up);
	sc->up = NULL;
	free(sc->fraw);
	sc->fraw = NULL;
	sc->up_len = sc->up_off = 0;
	sc->fraw_len = sc->fraw_off = 0;
}

static void
cgi_detach(struct conn *c)
{
	struct script	*sc = c->sc;
	size_t		 left = sc->cgi_len - sc->cgi_off;
	char		*p;

	if (!respbuf_mem_keep(&sc->rb, left))
		return;
	if (sc->cgi_off > 0)
		memmove(sc->cgi_buf, sc->cgi_buf + sc->cgi_off, left);
	sc->cgi_off = 0;
	sc->cgi_len = left;
	if ((p = realloc(sc->cgi_buf, left ? left : 1)) != NULL)
		sc->cgi_buf = p;
	upstream_release(c);
	body_drop(c);		/* the script read it all */
	sc->script_s = 0;	/* no script: send-timeout alone bounds the client */
	conn_set_state(c, c->state, F.conf.send_timeout);
	sc->detached = 1;
}

/*
 * The answer cannot be held whole (the spool hit the locker's disk limit):
 * it cannot be completed either, so the connection closes; the locker's
 * error log says why.
 */
static void
resp_fail(struct conn *c)
{
	char	line[600];
	int	n, e = errno;

	n = snprintf(line, sizeof(line), "[client %s] answer to %.300s cut after %llu bytes: "
	    "its spool: %s", c->peer, c->path, (unsigned long long)(c->body_bytes +
	    (off_t)(c->sc->cgi_len - c->sc->cgi_off) + (off_t)respbuf_pending(&c->sc->rb)),
	    strerror(e));
	if (n > 0)
		locker_log_line(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	conn_close(c);
}

/* Drive a running script: body up, head and body down. */
void
cgi_run(struct conn *c)
{
	struct script	*sc = c->sc;	/* until the script ends: then we return */
	struct cgi_head	 h;
	int		 r, n;

	for (;;) {
		int progress = 0;

		if (!sc->upload_done) {
			r = cgi_upload(c);
			if (r == -1) {
				cgi_fail(c, 500, "request body spool unreadable");
				return;
			}
			progress |= r > 0;
		}
		if (!sc->cgi_head_done) {
			n = cgi_read(c, sc->cgi_buf + sc->cgi_len, CGI_MAX_HEAD - sc->cgi_len);
			sc->cgi_len += (size_t)n;
			progress |= n > 0;
			r = cgi_parse_head(sc->cgi_buf, sc->cgi_len, CGI_MAX_HEAD, sc->cgi_nph, &h);
			if (sc->fcgi_error) {
				cgi_fail(c, 502, "malformed FastCGI records");
				return;
			}
			if (r == -1 && sc->cgi_len >= CGI_MAX_HEAD) {
				cgi_fail(c, 502, "script head too large (over 16 KiB)");
				return;
			}
			if (r == -1) {
				cgi_fail(c, 502, "malformed script output head");
				return;
			}
			if (r == 0 && sc->cgi_eof) {
				if (fcgi_retry(c))
					return;
				cgi_fail(c, 502, "script ended before its head");
				return;
			}
			if (r > 0) {
				int hr = cgi_head(c, &h, (size_t)r);

				if (hr == 0)
					return;		/* re-dispatched */
				if (hr == -1) {
					cgi_fail(c, 502, "script head too large (over 8 KiB "
					    "with front's own fields)");
					return;
				}
			}
			if (!sc->cgi_head_done) {
				if (!progress)
					return;
				continue;
			}
		}
		/* Our head, with the body as it comes; what the client does
		 * not take yet is held (respbuf.h). */
		if ((r = resp_send(c)) == -1) {
			conn_close(c);
			return;
		}
		if (r == 1 && (sc->out_left == 0 || (sc->cgi_eof && sc->upload_done)) &&
		    !fcgi_working_on(c)) {
			int cut = sc->out_left != 0 && cgi_cut_short(c);

			if (sc->out_left > 0 || (!sc->upload_done) || cut)
				c->keep_alive = 0;	/* cut short: the length was a lie */
			if (sc->chunked_out && !sc->ck_end_queued && !cut &&
			    cio_send(c, "0\r\n\r\n", 5, 0) != 5)
				c->keep_alive = 0;
			cgi_end(c);
			request_done(c);
			return;
		}
		if (sc->cgi_eof && !sc->upload_done) {
			if (!progress)
				return;
			continue;
		}
		if ((n = resp_fill(c)) == -1) {
			resp_fail(c);
			return;
		}
		if (n > 0) {
			/* A script that streams slowly is bounded by its own limit. */
			conn_set_state(c, c->state, sc->script_s);
			continue;
		}
		if (r == 0) {
			/* The client is behind: once the whole answer is held,
			 * the script need not wait for it. */
			if (sc->cgi_eof && sc->upload_done && !sc->detached)
				cgi_detach(c);
			return;
		}
		if (sc->cgi_eof)
			continue;
		if (!progress)
			return;
	}
}
