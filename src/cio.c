/*
 * cio.c: front's client I/O: every read and write of a client's socket.
 *
 * A plain connection goes straight to the system call, as it always did:
 * one branch on c->tls is all TLS costs it.  A TLS connection goes
 * through its SSL, and OpenSSL's "want read" or "want write" become
 * EAGAIN: the socket is watched for both, edge-triggered, so every event
 * runs the connection again and the call is retried; a read that waits
 * for room to write marks itself (rd_wants_write) so that room alone
 * brings the read back (front.c's ev_conn()).
 *
 * An HTTP/2 stream's conn has no socket: its calls go to h2_stream.c
 * (tested after the plain case, which pays one branch more).
 *
 * System calls are what TLS costs most here (a virtual machine's), so a
 * response's records are gathered: a write buffer in front of the socket
 * while a response goes out takes the head with the first records of the
 * body, up to four records per write(), and a file is read ahead four
 * records at a time.  Bytes may then wait in that buffer after a call
 * said they went: cio_flushed() says when they are all out, and a
 * connection does not start the next request, nor close, before.
 *
 * Without kTLS (this kernel has none: no "tls" upper-layer protocol), a
 * file goes out by pread() and SSL_write(); with it, OpenSSL's
 * SSL_sendfile() keeps the zero-copy path.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lockerd.h"
#include "front.h"
#include "tls.h"
#include "h2.h"

/* Room for four records with their headers and tags. */
#define TLS_WBUF	(TLS_BUF + 1024)

/*
 * Buffers a response took, kept for the next: taking and giving back
 * 130 KiB a request made glibc move the heap's end three times a request.
 * A front keeps at most POOL_MAX of each (8 MiB).
 */
#define POOL_MAX	64
static char	*bufs[POOL_MAX];
static BIO	*wbufs[POOL_MAX];
static int	 nbufs, nwbufs;

/* What an SSL call that did not succeed means, as a system call says it. */
static ssize_t
tls_fail(struct conn *c, int r, int reading)
{
	switch (SSL_get_error(c->tls->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->readable = 0;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (reading)
			c->tls->rd_wants_write = 1;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		if (reading)
			return 0;
		/* FALLTHROUGH */
	default:
		/* The error queue is per thread, not per connection: empty it. */
		ERR_clear_error();
		errno = ECONNRESET;
		return -1;
	}
}

ssize_t
cio_recv(struct conn *c, void *buf, size_t n)
{
	int r;

	if (c->tls == NULL)
		return recv(c->fd, buf, n, 0);
	if (c->h2s != NULL)
		return h2s_recv(c, buf, n);
	c->tls->rd_wants_write = 0;
	if ((r = SSL_read(c->tls->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n)) > 0)
		return r;
	return tls_fail(c, r, 1);
}

/* The write buffer in front of the socket, while a response goes out. */
static void
wbuf_push(struct tls_conn *t)
{
	BIO *b;

	if (t->wbuf != NULL)
		return;
	if (nwbufs > 0)
		b = wbufs[--nwbufs];
	else if ((b = BIO_new(BIO_f_buffer())) == NULL ||
	    BIO_set_write_buffer_size(b, TLS_WBUF) != 1) {
		BIO_free(b);
		ERR_clear_error();
		return;		/* records go out one by one, as without it */
	}
	BIO_up_ref(t->sock);
	BIO_push(b, t->sock);
	SSL_set0_wbio(t->ssl, b);	/* drops SSL's reference to sock as its wbio */
	t->wbuf = b;
}

static int
buf_get(struct tls_conn *t)
{
	if (t->buf == NULL && nbufs > 0)
		t->buf = bufs[--nbufs];
	if (t->buf == NULL && (t->buf = malloc(TLS_BUF)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/*
 * n bytes at p, a record per SSL_write() (partial writes: OpenSSL returns
 * after each): how many were taken, or -1 if none were.  The retry of one
 * that must be called again gets the same bytes at the same place of p.
 */
static ssize_t
tls_write(struct conn *c, const char *p, size_t n)
{
	size_t	done = 0;
	int	r;

	while (done < n) {
		size_t k = n - done < TLS_RECORD ? n - done : TLS_RECORD;

		if ((r = SSL_write(c->tls->ssl, p + done, (int)k)) <= 0) {
			ssize_t f = tls_fail(c, r, 0);

			return done > 0 ? (ssize_t)done : f;
		}
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int
cio_flushed(struct conn *c)
{
	struct tls_conn *t = c->tls;

	/* A stream's bytes are the session's to send: out of its hands. */
	if (t == NULL || c->h2s != NULL || t->wbuf == NULL || BIO_wpending(t->wbuf) == 0)
		return 1;
	if (BIO_flush(t->wbuf) > 0)
		return 1;
	if (BIO_should_retry(t->wbuf)) {
		errno = EAGAIN;
		return 0;
	}
	ERR_clear_error();
	return -1;
}

void
cio_idle(struct conn *c)
{
	struct tls_conn *t = c->tls;

	BIO *b;

	if (t == NULL || c->h2s != NULL || cio_flushed(c) != 1)
		return;
	if (t->buf != NULL && nbufs < POOL_MAX)
		bufs[nbufs++] = t->buf;
	else
		free(t->buf);
	t->buf = NULL;
	t->blen = 0;
	if ((b = t->wbuf) == NULL)
		return;
	t->wbuf = NULL;
	/* The socket alone again; the buffer, empty, kept for another. */
	BIO_up_ref(t->sock);
	BIO_up_ref(b);
	SSL_set0_wbio(t->ssl, t->sock);	/* lets go of b, not of what follows it */
	BIO_pop(b);
	BIO_free(t->sock);		/* b's hold on it */
	if (nwbufs < POOL_MAX)
		wbufs[nwbufs++] = b;
	else
		BIO_free(b);
}

ssize_t
cio_send(struct conn *c, const void *buf, size_t n, int more)
{
	ssize_t k;

	if (c->tls == NULL)
		return send(c->fd, buf, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	if (c->h2s != NULL)
		return h2s_send(c, buf, n);
	/* A head waits in the buffer for the body that follows it. */
	if (more)
		wbuf_push(c->tls);
	c->tls->blen = 0;	/* what comes next of a file is read anew */
	if ((k = tls_write(c, buf, n)) > 0 && !more)
		cio_flushed(c);
	return k;
}

/*
 * Gathered into the buffer and sent as records, so that a head and a
 * small body are one record in one segment, as writev() makes them.  A
 * retry gathers the same bytes again (the caller's iov has not moved).
 */
ssize_t
cio_writev(struct conn *c, const struct iovec *iov, int niov)
{
	struct tls_conn	*t = c->tls;
	size_t		 n = 0;
	ssize_t		 k;
	int		 i;

	if (t == NULL)
		return writev(c->fd, iov, niov);
	if (c->h2s != NULL)
		return h2s_writev(c, iov, niov);
	if (buf_get(t) == -1)
		return -1;
	wbuf_push(t);
	t->blen = 0;
	for (i = 0; i < niov && n < TLS_BUF; i++) {
		size_t m = iov[i].iov_len < TLS_BUF - n ? iov[i].iov_len : TLS_BUF - n;

		memcpy(t->buf + n, iov[i].iov_base, m);
		n += m;
	}
	if ((k = tls_write(c, t->buf, n)) > 0)
		cio_flushed(c);
	return k;
}

ssize_t
cio_sendfile(struct conn *c, int fd, off_t *off, size_t n)
{
	struct tls_conn	*t = c->tls;
	size_t		 avail;
	ssize_t		 k;

	if (t == NULL)
		return sendfile(c->fd, fd, off, n);
	if (c->h2s != NULL)
		return h2s_sendfile(c, fd, off, n);
	if (t->ktls) {
		if ((k = SSL_sendfile(t->ssl, fd, *off, n, 0)) > 0)
			*off += k;
		return k > 0 ? k : tls_fail(c, (int)k, 0);
	}
	if (buf_get(t) == -1)
		return -1;
	wbuf_push(t);
	/* Read ahead from *off, unless what was read ahead starts here or before. */
	if (t->blen == 0 || t->bfd != fd || *off < t->boff ||
	    *off >= t->boff + (off_t)t->blen) {
		t->blen = 0;
		if ((k = pread(fd, t->buf, n < TLS_BUF ? n : TLS_BUF, *off)) <= 0)
			return k;
		t->bfd = fd;
		t->boff = *off;
		t->blen = (size_t)k;
	}
	avail = t->blen - (size_t)(*off - t->boff);
	if ((k = tls_write(c, t->buf + (*off - t->boff), avail < n ? avail : n)) > 0) {
		*off += k;
		/* The end of a connection's last response waits for its
		 * close_notify (cio_done(), which its callers come to next). */
		if ((size_t)k < n || c->keep_alive)
			cio_flushed(c);
	}
	return k;
}

ssize_t
cio_sendfile_cb(void *arg, int fd, off_t *off, size_t n)
{
	return cio_sendfile(arg, fd, off, n);
}

/* TLS's close_notify, once; OpenSSL flushes what waits with it. */
static void
tls_close_notify(struct tls_conn *t)
{
	if (SSL_is_init_finished(t->ssl) && !(SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN) &&
	    SSL_shutdown(t->ssl) < 0)
		ERR_clear_error();
}

int
cio_done(struct conn *c)
{
	/* The last response of the connection: its close_notify goes out in
	 * the same write() as its last records. */
	if (c->tls != NULL && c->h2s == NULL && !c->keep_alive && c->tls->wbuf != NULL)
		tls_close_notify(c->tls);
	return cio_flushed(c);
}

void
cio_shutdown(struct conn *c)
{
	if (c->h2s != NULL) {
		h2s_shutdown(c);	/* END_STREAM, the session's socket untouched */
		return;
	}
	/* One try: a client that does not take the alert loses nothing. */
	if (c->tls != NULL) {
		tls_close_notify(c->tls);
		cio_flushed(c);
	}
	shutdown(c->fd, SHUT_WR);
}
