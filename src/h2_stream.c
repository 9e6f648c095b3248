/*
 * h2_stream.c: an HTTP/2 stream as front's conns see it: cio.c's calls
 * for a conn with no socket of its own.
 *
 * In: the HTTP/1.1 head h2req.c wrote from the stream's fields, then its
 * DATA (chunk-framed when the client gave no content-length), read by
 * the same parser and body code as a socket's bytes.  A stream's DATA is
 * given back to its flow-control window only as its conn reads it
 * (nghttp2_session_consume), so a client cannot make a stream hold more
 * than its window.
 *
 * Out: front's response head, its own bytes, becomes a HEADERS frame
 * (1xx: an interim one); the body waits in a bounded buffer for the DATA
 * frames nghttp2 makes as the peer's window allows (h2s_data_read); a
 * file's bytes are read there straight from the worker's descriptor.
 * A full buffer is EAGAIN, as a full socket is, and the conn runs again
 * when nghttp2 has taken some (h2_stream_kick).  The end of the body is
 * cio_shutdown(): END_STREAM.  A conn that closes before that (an error,
 * a script that died) resets its stream, as a connection cut short would.
 */
#include <sys/queue.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "front.h"
#include "h2.h"

/* A response head front wrote: at most this long, at most this many fields. */
#define H2S_HEAD_MAX	(64 * 1024)
#define H2S_FIELDS_MAX	128
/* What a stream's conn may have waiting to be read: its window and chunk framing. */
#define H2S_IN_MAX	(128 * 1024)

/* ------------------------------------------------------------ in */

/* Room for n more bytes in s->in (what was read moves to the front). */
static int
in_room(struct h2_stream *s, size_t n)
{
	size_t	 cap, max = H2S_IN_MAX + s->req.len;
	char	*b;

	if (s->inoff > 0 && s->inoff == s->inlen) {
		s->inoff = s->inlen = 0;
		s->ck_open = 0;
	}
	if (s->inlen + n <= s->incap)
		return 0;
	if (s->inoff > 0) {
		memmove(s->in, s->in + s->inoff, s->inlen - s->inoff);
		s->inlen -= s->inoff;
		/* An open size line moved too; one the conn has begun to
		 * read is no longer open (its offset would wrap). */
		if (s->ck_open && s->ck_at < s->inoff)
			s->ck_open = 0;
		else if (s->ck_open)
			s->ck_at -= s->inoff;
		s->inoff = 0;
		if (s->inlen + n <= s->incap)
			return 0;
	}
	if (s->inlen + n > max)
		return -1;
	/* Doubling: a body of many small frames is not a realloc() each. */
	for (cap = s->incap ? s->incap : 4096; cap < s->inlen + n; cap *= 2)
		;
	if (cap > max)
		cap = max;
	if ((b = realloc(s->in, cap)) == NULL)
		return -1;
	s->in = b;
	s->incap = cap;
	return 0;
}

/*
 * Frame n DATA bytes as HTTP/1.1 chunks.  While the last chunk's size
 * line is still unread, the bytes join that chunk (its size is written
 * with eight digits, so it can be written again in place): a client's
 * one-byte DATA frames cost the buffer what their bytes do, not a size
 * line and a CRLF each, and what a stream holds stays about its window.
 */
static int
chunk_put(struct h2_stream *s, const uint8_t *p, size_t n)
{
	char	line[16];
	int	k;

	/* Room first: making it may find the size line read (ck_open 0). */
	if (in_room(s, sizeof(line) + n) == -1)
		return -1;
	/* Joined only while the conn has read nothing of its size line:
	 * written again where it has been read, the digits went behind the
	 * buffer's start (ck_at wrapped), over front's heap. */
	if (s->ck_open && s->inoff > s->ck_at)
		s->ck_open = 0;
	if (s->ck_open && s->ck_len + n <= 0xffffffffu)
		s->ck_len += n;
	else {
		k = snprintf(line, sizeof(line), "%s%08zx\r\n", s->first_chunk ? "" : "\r\n", n);
		memcpy(s->in + s->inlen, line, (size_t)k);
		s->ck_at = s->inlen + (s->first_chunk ? 0 : 2);
		s->inlen += (size_t)k;
		s->ck_len = n;
		s->ck_open = 1;
		s->first_chunk = 0;
	}
	snprintf(line, sizeof(line), "%08zx", s->ck_len);
	memcpy(s->in + s->ck_at, line, 8);
	memcpy(s->in + s->inlen, p, n);
	s->inlen += n;
	return 0;
}

static int
in_put(struct h2_stream *s, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (in_room(s, n) == -1)
		return -1;
	memcpy(s->in + s->inlen, p, n);
	s->inlen += n;
	return 0;
}

/* p NULL: the head h2req wrote (once); else DATA, framed if it must be. */
int
h2s_data_in(struct h2_stream *s, const uint8_t *p, size_t n)
{
	if (p == NULL)
		return in_put(s, s->req.head, s->req.len);
	if (n == 0 || s->in_end)
		return 0;
	if ((s->req.chunked ? chunk_put(s, p, n) : in_put(s, p, n)) == -1)
		return -1;
	s->owed += n;
	if (s->c != NULL)
		s->c->readable = 1;
	h2_stream_kick(s);
	return 0;
}

void
h2s_data_end(struct h2_stream *s)
{
	char	ck[16];
	size_t	cl;

	if (s->in_end)
		return;
	s->in_end = 1;
	/* (No room for the last chunk: the body never ends, and its conn
	 * answers 408 at body-timeout, as for a client that stopped.) */
	if (s->req.chunked) {
		cl = h2req_chunk_end(s->first_chunk, ck);
		(void)in_put(s, ck, cl);
		s->ck_open = 0;
	}
	if (s->c != NULL)
		s->c->readable = 1;
	h2_stream_kick(s);
}

ssize_t
h2s_recv(struct conn *c, void *buf, size_t n)
{
	struct h2_stream	*s = c->h2s;
	size_t			 k = s->inlen - s->inoff;

	if (k == 0) {
		errno = s->closed ? ECONNRESET : EAGAIN;
		return -1;
	}
	if (k > n)
		k = n;
	memcpy(buf, s->in + s->inoff, k);
	s->inoff += k;
	/* DATA read: the window opens by as much (the head and the chunk
	 * framing are ours, and counted first: never more than came). */
	if (s->owed > 0 && !s->closed) {
		size_t m = k < s->owed ? k : s->owed;

		s->owed -= m;
		nghttp2_session_consume(s->h->ng, s->id, m);
		h2_dirty(s->h);
	}
	return (ssize_t)k;
}

/*
 * The request line of a head h2req answered with a status, for the access
 * log alone: "METHOD PATH HTTP/1.1" in c->in, where a head read there
 * would have left it (log_access() says HTTP/2.0); nothing without both.
 */
static void
refused_line(struct conn *c, const struct h2req *r)
{
	size_t	m = r->method.len, t = r->path.len < 1024 ? r->path.len : 1024;
	size_t	cap = F.conf.max_header_size + 4096;

	if (m == 0 || m > 32 || t == 0 || (c->in = malloc(cap)) == NULL)
		return;
	c->insz = cap;
	memcpy(c->in, r->method.p, m);
	c->in[m] = ' ';
	memcpy(c->in + m + 1, r->path.p, t);
	memcpy(c->in + m + 1 + t, " HTTP/1.1", 9);
	c->req.method_str.p = c->in;
	c->req.method_str.len = m;
	c->req.target.p = c->in + m + 1;
	c->req.target.len = t;
}

/* The conn for a stream whose head is whole; it runs at once. */
int
h2s_conn_new(struct h2_stream *s)
{
	struct conn *c;

	if ((c = conn_new_stream(s->h->c)) == NULL) {
		s->refused = 1;
		if (!s->closed && !s->reset_sent) {
			s->reset_sent = 1;
			/* counted against http2-max-resets as it goes out */
			nghttp2_submit_rst_stream(s->h->ng, NGHTTP2_FLAG_NONE, s->id,
			    NGHTTP2_REFUSED_STREAM);
		}
		return -1;
	}
	c->h2s = s;
	s->c = c;
	s->h->nconns++;
	if (s->req.status != 0) {
		/* A head h2req refused (431, 400): answered as HTTP/1.1's would be. */
		c->have_req = 1;
		c->req.method = HTTP_M_UNKNOWN;
		c->req.method_str.p = NULL;
		refused_line(c, &s->req);
		c->nreq++;
		c->started = time(NULL);
		send_error(c, s->req.status, 0);
	}
	conn_run(c);
	return 0;
}

/* ------------------------------------------------------------ out */

/*
 * *buf grown to hold want bytes (at most max), by doubling from 4 KiB:
 * most heads and many bodies are a few hundred bytes, and a stream that
 * took 64 KiB at once for each made glibc move the heap's end per request.
 * 0, or -1 without memory.
 */
static int
grow(char **buf, size_t *cap, size_t want, size_t max)
{
	size_t	 n = *cap ? *cap : 4096;
	char	*b;

	if (want <= *cap)
		return 0;
	while (n < want)
		n *= 2;
	if (n > max)
		n = max;
	if ((b = realloc(*buf, n)) == NULL)
		return -1;
	*buf = b;
	*cap = n;
	return 0;
}

/*
 * The head in s->head (through its empty line) as a HEADERS frame: the
 * status, then each field with its name lowercased.  Front wrote it, so it
 * is well formed; anything else is refused, not guessed at.
 */
static int
head_submit(struct h2_stream *s)
{
	nghttp2_nv		 nv[H2S_FIELDS_MAX + 1];
	nghttp2_data_provider	 prd;
	char			*p = s->head, *end = s->head + s->headlen - 2, *eol, *colon, *v;
	char			 status[4];
	size_t			 n = 1, i;
	int			 code, body = 1;

	if (s->headlen < 16 || strncmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[9]) ||
	    !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11]))
		return -1;
	memcpy(status, p + 9, 3);
	status[3] = '\0';
	code = atoi(status);
	nv[0] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)status, 7, 3, NGHTTP2_NV_FLAG_NONE };
	if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return -1;
	for (p++; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p + 1))) == NULL || eol == p ||
		    eol[-1] != '\r' || (colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			return -1;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (i = 0; p + i < colon; i++)
			p[i] = (char)tolower((unsigned char)p[i]);
		/* HTTP/1.1's hop-by-hop fields have no place in HTTP/2: the
		 * list h2req refuses in requests. */
		if (h2req_connection_field((const uint8_t *)p, (size_t)(colon - p)))
			continue;
		if (n > H2S_FIELDS_MAX)
			return -1;
		nv[n++] = (nghttp2_nv){ (uint8_t *)p, (uint8_t *)v, (size_t)(colon - p),
		    (size_t)(eol - 1 - v), NGHTTP2_NV_FLAG_NONE };
		if (colon - p == 14 && memcmp(p, "content-length", 14) == 0 && eol - 1 - v == 1 &&
		    *v == '0')
			body = 0;
	}
	if (code >= 100 && code < 200)	/* 100 Continue: the final head follows */
		return nghttp2_submit_headers(s->h->ng, NGHTTP2_FLAG_NONE, s->id, NULL, nv, n,
		    NULL) == 0 ? 0 : -1;
	if (code == 204 || code == 304 || (s->c != NULL && s->c->have_req &&
	    s->c->req.method == HTTP_M_HEAD))
		body = 0;
	s->head_sent = 1;
	s->no_body = !body;
	prd.source.ptr = s;
	prd.read_callback = h2s_data_read;
	return nghttp2_submit_response(s->h->ng, s->id, nv, n, body ? &prd : NULL) == 0 ? 0 : -1;
}

/* Take head bytes from p: how many (up to its empty line); -1 a bad or huge head. */
static ssize_t
head_take(struct h2_stream *s, const char *p, size_t n)
{
	size_t	k = 0;
	char	*b;

	if (grow(&s->head, &s->headcap, s->headlen + n, H2S_HEAD_MAX) == -1)
		return -1;
	b = s->head;
	while (k < n) {
		size_t	take = n - k, from = s->headlen >= 3 ? s->headlen - 3 : 0;
		char	*e;

		if (s->headlen == s->headcap)
			return -1;	/* over H2S_HEAD_MAX */
		if (take > s->headcap - s->headlen)
			take = s->headcap - s->headlen;
		/* The piece at once; its empty line may begin in the bytes before. */
		memcpy(b + s->headlen, p + k, take);
		e = memmem(b + from, s->headlen + take - from, "\r\n\r\n", 4);
		if (e != NULL)
			take = (size_t)(e + 4 - (b + s->headlen));
		s->headlen += take;
		k += take;
		if (e != NULL) {
			if (head_submit(s) == -1)
				return -1;
			s->headlen = 0;
			if (s->head_sent)
				break;
		}
	}
	if (s->head_sent) {
		free(s->head);
		s->head = NULL;
		s->headcap = 0;
	}
	return (ssize_t)k;
}

/* nghttp2 waits for this stream's bytes: it may go on. */
static void
out_more(struct h2_stream *s)
{
	if (s->deferred && !s->closed) {
		s->deferred = 0;
		nghttp2_session_resume_data(s->h->ng, s->id);
	}
	h2_dirty(s->h);
}

/* Room in s->out for up to n body bytes (what was sent moves to the front). */
static size_t
out_room(struct h2_stream *s, size_t n)
{
	if (s->outoff > 0) {
		memmove(s->out, s->out + s->outoff, s->outlen - s->outoff);
		s->outlen -= s->outoff;
		s->outoff = 0;
	}
	if (grow(&s->out, &s->outcap, s->outlen + n, H2_STREAM_OUT) == -1)
		return 0;
	return s->outcap - s->outlen;
}

/* A conn that may not write to its stream any more. */
static int
stream_gone(const struct h2_stream *s)
{
	return s->closed || s->reset_sent || s->h->dying;
}

ssize_t
h2s_send(struct conn *c, const void *buf, size_t n)
{
	struct h2_stream	*s = c->h2s;
	const char		*p = buf;
	ssize_t			 took = 0;
	size_t			 room;

	if (stream_gone(s)) {
		errno = ECONNRESET;
		return -1;
	}
	if (!s->head_sent) {
		if ((took = head_take(s, p, n)) == -1) {
			errno = EPROTO;
			return -1;
		}
		if (!s->head_sent || (size_t)took == n) {
			h2_dirty(s->h);
			return took;
		}
	}
	if (s->no_body)
		return (ssize_t)n;
	if ((room = out_room(s, n - (size_t)took)) == 0) {
		if (took > 0)
			return took;
		s->want_write = 1;
		errno = EAGAIN;
		return -1;
	}
	if (room > n - (size_t)took)
		room = n - (size_t)took;
	memcpy(s->out + s->outlen, p + took, room);
	s->outlen += room;
	out_more(s);
	return took + (ssize_t)room;
}

ssize_t
h2s_writev(struct conn *c, const struct iovec *iov, int niov)
{
	ssize_t	total = 0, k;
	int	i;

	for (i = 0; i < niov; i++) {
		if (iov[i].iov_len == 0)
			continue;
		if ((k = h2s_send(c, iov[i].iov_base, iov[i].iov_len)) < 0)
			return total > 0 ? total : -1;
		total += k;
		if ((size_t)k < iov[i].iov_len)
			break;
	}
	return total;
}

ssize_t
h2s_sendfile(struct conn *c, int fd, off_t *off, size_t n)
{
	struct h2_stream	*s = c->h2s;
	size_t			 room;
	ssize_t			 k;

	if (stream_gone(s) || !s->head_sent) {
		errno = ECONNRESET;
		return -1;
	}
	if (s->no_body) {
		*off += (off_t)n;
		return (ssize_t)n;
	}
	if ((room = out_room(s, n)) == 0) {
		s->want_write = 1;
		errno = EAGAIN;
		return -1;
	}
	if ((k = pread(fd, s->out + s->outlen, n < room ? n : room, *off)) <= 0)
		return k;
	s->outlen += (size_t)k;
	*off += k;
	out_more(s);
	return k;
}

void
h2s_shutdown(struct conn *c)
{
	struct h2_stream *s = c->h2s;

	if (stream_gone(s))
		return;
	s->eof = 1;
	out_more(s);
}

ssize_t
h2s_data_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
    nghttp2_data_source *src, void *arg)
{
	struct h2_stream	*s = src->ptr;
	size_t			 k = s->outlen - s->outoff;

	(void)ng;
	(void)id;
	(void)arg;
	if (k > len)
		k = len;
	if (k > 0) {
		memcpy(buf, s->out + s->outoff, k);
		s->outoff += k;
		if (s->outoff == s->outlen)
			s->outoff = s->outlen = 0;
		if (s->want_write && s->c != NULL) {
			s->want_write = 0;
			h2_stream_kick(s);
		}
	}
	if (s->outoff == s->outlen && s->eof) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return (ssize_t)k;
	}
	if (k == 0) {
		s->deferred = 1;
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)k;
}

void
h2s_conn_gone(struct conn *c)
{
	struct h2_stream	*s = c->h2s;
	struct h2_session	*h = s->h;

	c->h2s = NULL;
	c->tls = NULL;		/* the carrier's: not this conn's to free */
	s->c = NULL;
	h->nconns--;
	s->refused = 1;		/* what DATA still comes is dropped */
	if (h->dying)
		return;
	/* Cut short (no answer, or not all of it): the client must know.
	 * Answered before its body was all in: it may stop sending it
	 * (RFC 9113 §8.1). */
	if (!s->closed && !s->reset_sent && !(s->head_sent && (s->eof || s->no_body))) {
		s->reset_sent = 1;
		nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->id,
		    NGHTTP2_INTERNAL_ERROR);
	} else if (!s->closed && !s->reset_sent && !s->in_end) {
		/* Not before the answer is out: nghttp2 drops a stream's
		 * frames not yet sent once a RST_STREAM for it is queued (a
		 * 413 or 408 before the body was all in reached nobody). */
		if (nghttp2_session_get_stream_local_close(h->ng, s->id) == 1) {
			s->reset_sent = 1;
			nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->id,
			    NGHTTP2_NO_ERROR);
		} else
			s->reset_when_sent = 1;
	}
	h2_dirty(h);
	if (s->closed && !s->on_run)
		h2_stream_free(s);
}
