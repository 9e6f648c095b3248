/*
 * conn.c: front's client connections: accept, read a request, route it,
 * hold its body, and the state machine (conn_run) that every event of a
 * connection goes through.
 *
 * It lives apart from the answers (respond.c) and from what serves them
 * (wchan.c, fcache.c, front_cgi.c): this is the one place a connection
 * changes state on its own, everything else is called from conn_run().
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "body.h"
#include "http.h"
#include "route.h"
#include "front.h"
#include "tls.h"
#include "h2.h"
#include "acme.h"

static void	body_expect(struct conn *c);
static void	body_deadline_renew(struct conn *c);
static void	body_hold_begin(struct conn *c);

static void
conn_link(struct conn *c)
{
	c->next = F.conns;
	if (F.conns)
		F.conns->prev = c;
	F.conns = c;
	F.nconns++;
}

static void
conn_unlink(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		F.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	F.nconns--;
}

/*
 * Enter state with secs to leave it: timeouts() acts on the deadline by
 * the state (408, 504, or a close).  With c->state, only the clock is
 * wound on (a script or a client that made progress).
 */
void
conn_set_state(struct conn *c, enum conn_state state, uint32_t secs)
{
	c->state = state;
	c->deadline = loop_now + (uint64_t)secs * 1000;
}

void
conn_close(struct conn *c)
{
	if (c->wc != NULL)
		wchan_dequeue(c->wc, c);
	if (c->fqw != NULL)
		fq_remove(c);
	if (c->have_req && c->status != 0)
		log_access(c);
	if (c->file_fd != -1)
		close(c->file_fd);
	cgi_end(c);
	body_drop(c);
	free(c->redirect_query);
	c->redirect_query = NULL;
	free(c->scr);
	c->scr = NULL;
	xhdr_clear(c);
	if (c->h2 != NULL)
		h2_free(c);	/* its streams' conns close first */
	if (c->h2s != NULL)
		h2s_conn_gone(c);	/* the stream ends or is reset; tls is not ours */
	tls_conn_free(c);
	if (c->fd != -1)
		close(c->fd);
	conn_unlink(c);
	/* Another event of this round may still name it: free it afterwards. */
	c->closed = 1;
	c->next = F.graveyard;
	F.graveyard = c;
}

void
graveyard_empty(void)
{
	struct conn	*c;
	struct wchan	*w;

	while ((c = F.graveyard) != NULL) {
		F.graveyard = c->next;
		free(c->in);
		free(c);
	}
	while ((w = LIST_FIRST(&F.dead_wchans)) != NULL) {
		LIST_REMOVE(w, hlink);
		free(w);
	}
	while (F.dead_kconns != NULL) {
		struct kconn *k = F.dead_kconns;

		F.dead_kconns = k->next;
		free(k);
	}
}

static void
sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t outsz, uint16_t *port)
{
	*port = 0;
	snprintf(out, outsz, "-");
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)outsz);
		*port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)outsz);
		*port = ntohs(in6->sin6_port);
	}
}

/*
 * A listener bound to one address is every connection's local address:
 * known once, not asked of the kernel per connection.  A wildcard one's
 * connections each have their own ("" here: getsockname() each time).
 */
void
listener_addr(int li)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);

	F.laddr[li][0] = '\0';
	if (getsockname(F.listen[li], (struct sockaddr *)&ss, &sl) == -1)
		return;
	if ((ss.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY)) ||
	    (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr)))
		return;
	sockaddr_text(&ss, F.laddr[li], sizeof(F.laddr[li]), &F.lport[li]);
	if (strcmp(F.laddr[li], "-") == 0)
		F.laddr[li][0] = '\0';
}

/* A connection reading its first head; fd -1 for an HTTP/2 stream's. */
static struct conn *
conn_alloc(int fd)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->kind = K_CONN;
	c->fd = fd;
	c->readable = 1;
	c->file_fd = -1;
	c->keep_alive = 1;
	conn_set_state(c, C_READ_HEAD, F.conf.header_timeout);
	body_init(&c->body);
	c->cgi_tag.kind = K_CGI;
	c->cgi_tag.c = c;
	return c;
}

struct conn *
conn_new_stream(struct conn *parent)
{
	struct conn *c;

	if (F.nconns >= F.conf.max_connections || (c = conn_alloc(-1)) == NULL)
		return NULL;
	memcpy(c->peer, parent->peer, sizeof(c->peer));
	memcpy(c->local, parent->local, sizeof(c->local));
	c->peer_port = parent->peer_port;
	c->local_port = parent->local_port;
	c->lflags = parent->lflags;
	c->tls = parent->tls;	/* HTTPS, SSL_*, SNI: the carrier's */
	c->keep_alive = 0;	/* one request a stream */
	conn_link(c);
	return c;
}

/*
 * At most ACCEPT_BATCH a call: the connections already open get their
 * turn between batches.  Returns 1 when it stopped at that bound (more
 * may wait), 0 when the queue is empty.
 */
#define ACCEPT_BATCH	256

int
accept_conns(int li)
{
	struct sockaddr_storage	 ss, ss_peer;
	socklen_t		 sl;
	struct conn		*c;
	int			 fd, i, one = 1, lfd = F.listen[li];

	for (i = 0; i < ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
				log_warn("front: accept");
			return 0;
		}
		if (F.nconns >= F.conf.max_connections || F.stopping ||
		    (c = conn_alloc(fd)) == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sockaddr_text(&ss, c->peer, sizeof(c->peer), &c->peer_port);
		ss_peer = ss;
		if (F.laddr[li][0] != '\0') {
			memcpy(c->local, F.laddr[li], sizeof(c->local));
			c->local_port = F.lport[li];
		} else {
			sl = sizeof(ss);
			if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
				sockaddr_text(&ss, c->local, sizeof(c->local), &c->local_port);
		}
		c->lflags = (uint8_t)F.lflags[li];
		if (c->lflags & LISTEN_PROXY) {
			if (!proxy_peer_allowed(&ss_peer, c->peer)) {
				close(fd);
				free(c);
				continue;
			}
			conn_set_state(c, C_PROXY, F.conf.header_timeout);
		} else if ((c->lflags & LISTEN_TLS) && tls_conn_new(c) == -1) {
			close(fd);
			free(c);
			continue;
		}
		conn_link(c);
		ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, c);
		conn_run(c);
	}
	return 1;
}

void
request_done(struct conn *c)
{
	log_access(c);
	c->have_req = 0;
	c->status = 0;
	c->body_bytes = 0;
	c->body_pending = 0;
	c->continued = 0;
	body_drop(c);
	c->retried = 0;
	c->fcgi_retried = 0;
	c->fcgi_no_ask = 0;
	free(c->scr);
	c->scr = NULL;
	xhdr_clear(c);
	if (!c->keep_alive) {
		if (cio_flushed(c) == 0) {
			conn_set_state(c, C_FLUSH, F.conf.send_timeout);
			return;
		}
		cio_shutdown(c);
		conn_close(c);
		return;
	}
	cio_idle(c);
	/* Keep what the client pipelined after this request. */
	if (c->pos < c->inlen)
		memmove(c->in, c->in + c->pos, c->inlen - c->pos);
	c->inlen -= c->pos;
	c->pos = 0;
	c->head_len = 0;
	conn_set_state(c, C_READ_HEAD, c->inlen ? F.conf.header_timeout :
	    F.conf.keepalive_timeout);
	if (F.stopping && c->inlen == 0)
		conn_close(c);
	else
		conn_run(c);
}

/* Route a parsed head; the body (if any) is read before the worker is asked. */
static void
request_route(struct conn *c)
{
	struct route_result	 rr;
	enum route_status	 rs;
	const char		*host = c->req.host.p ? c->req.host.p : "";
	size_t			 hostlen = c->req.host.p ? c->req.host.len : 0;

	/* HTTP/1.0 without Host over TLS: the name of the hello, as nginx. */
	if (c->req.host.p == NULL && c->tls != NULL && c->tls->sni[0] != '\0') {
		host = c->tls->sni;
		hostlen = strlen(host);
	}
	c->nreq++;
	c->hsts = 0;
	c->started = time(NULL);
	c->keep_alive = c->req.keep_alive && c->h2s == NULL;
	c->body_pending = c->req.content_length > 0 || c->req.chunked;
	c->locker[0] = '\0';
	if (c->req.method == HTTP_M_UNKNOWN) {
		send_error(c, 501, 0);
		return;
	}
	if (c->req.method == HTTP_M_CONNECT || c->req.method == HTTP_M_TRACE) {
		send_error(c, 405, 0);
		return;
	}
	if (c->req.method == HTTP_M_OPTIONS && c->req.path.p != NULL &&
	    c->req.path.len == 1 && c->req.path.p[0] == '*') {
		/* "OPTIONS *": the server's own options. */
		head_begin(c, 200);
		head_add(c, "Allow: GET, HEAD, POST, OPTIONS\r\nContent-Length: 0\r\n");
		head_end(c);
		c->state = C_SEND;
		return;
	}
	if (c->req.path.p == NULL ||
	    http_normalize_path(c->req.path.p, c->req.path.len, c->path, sizeof(c->path)) < 0) {
		send_error(c, 400, 0);
		return;
	}
	if (challenge_answer(c) || health_request(c))
		return;
	if (F.routes == NULL) {
		send_error(c, 503, 1);
		return;
	}
	/* SNI named another site than Host: its certificate was not this one's. */
	if (c->tls != NULL && tls_misdirected(c)) {
		send_error(c, 421, 1);
		return;
	}
	rs = route_lookup(F.routes, host, hostlen, c->path, &rr);
	if (rs != ROUTE_LOCKER) {
		send_error(c, rs == ROUTE_UNKNOWN_HOST && c->req.host.p &&
		    route_canon_host(c->req.host.p, c->req.host.len, rr.fs_path,
		    sizeof(rr.fs_path)) == -1 ? 400 : 404, 1);
		return;
	}
	if (https_only_check(c, &rr))
		return;
	memcpy(c->locker, rr.locker, sizeof(c->locker));
	memcpy(c->url_prefix, rr.url_prefix, sizeof(c->url_prefix));
	memcpy(c->fs_path, rr.fs_path, sizeof(c->fs_path));
	if (rr.fs_path[0] == '\0') {
		send_redirect(c, c->path);
		return;
	}

	c->redirects = 0;
	if (c->body_pending) {
		if (c->req.content_length > 0 &&
		    (uint64_t)c->req.content_length > F.conf.max_body_size) {
			send_error(c, 413, 0);
			return;
		}
		body_expect(c);
		/* The worker is asked only once the body is all in (body.c). */
		body_hold_begin(c);
		return;
	}
	dispatch_worker(c);
}

/* Where the next body bytes start: Content-Length's count or chunks. */
static void
body_expect(struct conn *c)
{
	c->body_left = c->req.content_length > 0 ? c->req.content_length : 0;
	c->body_chunked = c->req.chunked;
	c->body_seen = 0;
	if (c->body_chunked)
		http_chunked_init(&c->chunk);
}

/*
 * A body's deadline: body-timeout after the last bytes came, and never
 * past body-total-timeout after it began, so that a client dripping it a
 * byte at a time, each in time, gets 408 all the same.
 */
static void
body_deadline_begin(struct conn *c)
{
	c->body_deadline = loop_now + (uint64_t)F.conf.body_total_timeout * 1000;
	body_deadline_renew(c);
}

static void
body_deadline_renew(struct conn *c)
{
	uint64_t pause = loop_now + (uint64_t)F.conf.body_timeout * 1000;

	c->deadline = pause < c->body_deadline ? pause : c->body_deadline;
}

/* Hold the body whole before the worker is asked to run anything (body.c). */
static void
body_hold_begin(struct conn *c)
{
	c->body_keep = 1;
	body_deadline_begin(c);
	c->state = C_READ_BODY;
	if (c->req.expect_continue && c->req.version_minor == 1 && !c->continued) {
		cio_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, 0);
		c->continued = 1;
	}
	/* Too large for memory whatever comes: the spool at once. */
	if (c->req.content_length > BODY_MEM_MAX)
		body_ask_spool(c);
}

/* Ask the locker's worker for a file to hold a large body in. */
void
body_ask_spool(struct conn *c)
{
	struct wchan *w;

	if ((w = wchan_get(c->locker)) == NULL) {
		send_error(c, 503, 0);
		return;
	}
	c->want_spool = 1;
	worker_send(c, w, 0);
}

/* The worker's answer to body_ask_spool(): anything but an empty regular file is refused. */
void
body_got_spool(struct conn *c, const struct wire_response *r, int fd)
{
	struct stat st;

	c->want_spool = 0;
	if (r->kind != WIRE_SPOOL || fd == -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_size != 0) {
		if (fd != -1)
			close(fd);
		send_error(c, r->kind == WIRE_STATUS && (r->status == 500 ||
		    r->status == 503) ? r->status : 502, 0);
		return;
	}
	if (body_spool(&c->body, fd) == -1) {
		close(fd);
		send_error(c, 500, 0);
		return;
	}
	c->state = C_READ_BODY;
	body_deadline_renew(c);
}

/* The body held is not for any script after all: free it. */
void
body_drop(struct conn *c)
{
	body_free(&c->body);
	c->body_keep = 0;
	c->want_spool = 0;
}

/* The whole body is in: from here on it has a length, whatever its framing was. */
static void
body_held(struct conn *c)
{
	c->body_keep = 0;
	c->body_pending = 0;
	c->req.content_length = (int64_t)c->body.len;
	c->req.chunked = 0;
	c->retried = 0;
	dispatch_worker(c);
}

/*
 * Consume body bytes already in the buffer, into c->body when it is held
 * for a script: 1 when the body is complete, 0 for more, -1 for a
 * malformed chunk, -2 for a body over the limit, -3 when the rest needs a
 * spool first, -4 when the spool refused bytes.
 */
static int
body_consume(struct conn *c)
{
	size_t avail = c->inlen - c->pos, room = avail;

	/* What may follow a Content-Length body is the next request's. */
	if (!c->body_chunked && (uint64_t)c->body_left < avail)
		avail = room = (size_t)c->body_left;
	if (c->body_keep && avail > 0 && (room = body_room(&c->body, avail)) == 0)
		return -3;
	if (c->body_chunked) {
		size_t	out;
		ssize_t	used = http_chunked_decode(&c->chunk, c->in + c->pos, room, &out);

		if (used < 0)
			return -1;
		if (c->body_seen + out > F.conf.max_body_size)
			return -2;
		if (c->body_keep && body_append(&c->body, c->in + c->pos, out) == -1)
			return -4;
		c->pos += (size_t)used;
		c->body_seen += out;
		if (c->chunk.done)
			return 1;
		if (used == 0 && room < avail)
			return -3;	/* what memory holds was not enough to go on */
	} else {
		size_t take = (uint64_t)c->body_left < room ? (size_t)c->body_left : room;

		if (c->body_keep && body_append(&c->body, c->in + c->pos, take) == -1)
			return -4;
		c->pos += take;
		c->body_left -= (int64_t)take;
		if (c->body_left == 0)
			return 1;
	}
	/* Nothing of the body needs keeping: reuse the space after the head. */
	if (c->pos == c->inlen)
		c->pos = c->inlen = c->head_len;
	return 0;
}

static void
parse_head(struct conn *c)
{
	int r = http_parse_head(c->in, c->inlen, &F.limits, &c->req);

	if (r == 0)
		return;
	c->have_req = 1;
	if (r < 0) {
		/* Nothing after a bad head can be trusted to be a request. */
		c->req.method = HTTP_M_UNKNOWN;
		c->req.method_str.p = NULL;
		c->nreq++;
		c->started = time(NULL);
		c->locker[0] = '\0';
		send_error(c, -r, 0);
		return;
	}
	c->head_len = c->pos = (size_t)r;
	request_route(c);
}

static int
read_more(struct conn *c)
{
	ssize_t n;

	if (c->in == NULL) {
		c->insz = F.conf.max_header_size + 4096;
		if ((c->in = malloc(c->insz)) == NULL)
			return -1;
	}
	if (c->inlen == c->insz)
		return 1;	/* full: the parser will refuse with 431 */
	/*
	 * Edge-triggered: a short read drained the socket, and new bytes bring
	 * a new event, so the recv() that would only say EAGAIN is skipped.
	 */
	if (!c->readable)
		return 0;
	n = cio_recv(c, c->in + c->inlen, c->insz - c->inlen);
	if (n > 0) {
		/* (TLS reads a record at a time: short says nothing.) */
		if ((size_t)n < c->insz - c->inlen && !c->rdhup && c->tls == NULL)
			c->readable = 0;
		c->inlen += (size_t)n;
		return 1;
	}
	if (n == 0)
		return -1;
	if (errno == EAGAIN || errno == EINTR) {
		c->readable = 0;
		return 0;
	}
	return -1;
}

/* What read_more() or send_some() returned: -1 closes c, 0 waits for an event. */
static int
conn_io_ok(struct conn *c, int r)
{
	if (r == -1)
		conn_close(c);
	return r > 0;
}

void
conn_run(struct conn *c)
{
	int r;

	for (;;) {
		switch (c->state) {
		case C_PROXY:
			if ((r = proxy_read(c)) <= 0) {
				if (r == -1)
					conn_close(c);
				return;
			}
			/* Now the TLS hello, or the request, as on any listener. */
			if (!(c->lflags & LISTEN_TLS))
				conn_set_state(c, C_READ_HEAD, F.conf.header_timeout);
			else if (tls_conn_new(c) == -1) {
				conn_close(c);
				return;
			}
			continue;
		case C_HANDSHAKE:
			if ((r = tls_handshake(c)) <= 0) {
				if (r == -1)
					conn_close(c);
				return;
			}
			if (h2_negotiated(c)) {
				if (h2_start(c) == -1)
					conn_close(c);
				return;
			}
			conn_set_state(c, C_READ_HEAD, F.conf.header_timeout);
			continue;
		case C_H2:
			h2_run(c);
			return;
		case C_FLUSH:
			if ((r = cio_flushed(c)) == 0)
				return;
			if (r == 1)
				cio_shutdown(c);
			conn_close(c);
			return;
		case C_READ_HEAD:
			/* TLS: what the last answer left in the buffer goes first. */
			if (c->tls != NULL && c->tls->wbuf != NULL) {
				if ((r = cio_flushed(c)) == -1) {
					conn_close(c);
					return;
				}
				if (r == 1)
					cio_idle(c);
			}
			if (c->inlen > 0) {
				parse_head(c);
				if (c->state != C_READ_HEAD)
					continue;
			}
			if (!conn_io_ok(c, read_more(c)))
				return;
			break;
		case C_READ_BODY:
			if ((r = body_consume(c)) < 0) {
				if (r == -3 && c->body_keep) {
					body_ask_spool(c);
					continue;
				}
				send_error(c, r == -2 || (r == -4 && (errno == EDQUOT ||
				    errno == ENOSPC || errno == EFBIG)) ? 413 : r == -4 ? 500 : 400, 0);
				continue;
			}
			if (r == 1 && c->body_keep) {
				body_held(c);
				continue;
			}
			/* Bytes left that memory had no room for: on to the spool. */
			if (r == 0 && c->body_keep && c->pos < c->inlen)
				continue;
			if (r == 1) {
				c->body_pending = 0;
				c->then_send = 0;
				conn_set_state(c, C_SEND, F.conf.send_timeout);
				continue;
			}
			/* A client gone before the end of its body: nothing runs. */
			if (!conn_io_ok(c, read_more(c)))
				return;
			body_deadline_renew(c);
			break;
		case C_WAIT_WORKER:
		case C_WAIT_FCGI:
			return;
		case C_CGI: {
			unsigned gen = c->cgi_gen;

			cgi_run(c);
			/* It may have answered otherwise (an error, a redirect), or
			 * started another script (a redirect, a retry): run that. */
			if (c->closed || (c->state == C_CGI && c->cgi_gen == gen))
				return;
			continue;
		}
		case C_SEND:
			/*
			 * An unread body would be taken for the next request: read
			 * and drop it before answering, or close after the answer.
			 */
			if (c->body_pending && c->keep_alive) {
				if (c->req.expect_continue && c->req.version_minor == 1 &&
				    !c->continued)
					cio_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, 0);
				c->continued = 1;
				body_drop(c);
				c->then_send = 1;
				c->state = C_READ_BODY;
				body_deadline_begin(c);
				continue;
			}
			if (!conn_io_ok(c, send_some(c)))
				return;
			request_done(c);
			return;
		}
	}
}
