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
 * Without kTLS (this kernel has none: no "tls" upper-layer protocol), a
 * file goes out by pread() into the connection's buffer and SSL_write();
 * with it, OpenSSL's SSL_sendfile() keeps the zero-copy path.
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
	c->tls->rd_wants_write = 0;
	if ((r = SSL_read(c->tls->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n)) > 0)
		return r;
	return tls_fail(c, r, 1);
}

static ssize_t
tls_write(struct conn *c, const void *buf, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = SSL_write(c->tls->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n)) > 0)
		return r;
	return tls_fail(c, r, 0);
}

ssize_t
cio_send(struct conn *c, const void *buf, size_t n, int more)
{
	if (c->tls == NULL)
		return send(c->fd, buf, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	return tls_write(c, buf, n);
}

static int
tls_buf(struct tls_conn *t)
{
	if (t->buf == NULL && (t->buf = malloc(TLS_BUF)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Written from t->buf: what was pending is taken first. */
static ssize_t
tls_write_buf(struct conn *c, size_t n)
{
	ssize_t k = tls_write(c, c->tls->buf, n);

	c->tls->pend = k == -1 && errno == EAGAIN ? n : 0;
	return k;
}

/*
 * Gathered into one record, so that a head and a small body are one
 * segment, as writev() makes them.  A retry gathers the same bytes again
 * (the caller's iov has not moved).
 */
ssize_t
cio_writev(struct conn *c, const struct iovec *iov, int niov)
{
	size_t	n = 0;
	int	i;

	if (c->tls == NULL)
		return writev(c->fd, iov, niov);
	if (tls_buf(c->tls) == -1)
		return -1;
	for (i = 0; i < niov && n < TLS_BUF; i++) {
		size_t k = iov[i].iov_len < TLS_BUF - n ? iov[i].iov_len : TLS_BUF - n;

		memcpy(c->tls->buf + n, iov[i].iov_base, k);
		n += k;
	}
	if (c->tls->pend > n)
		n = c->tls->pend;	/* cannot be: the caller offers the same again */
	return tls_write_buf(c, n);
}

ssize_t
cio_sendfile(struct conn *c, int fd, off_t *off, size_t n)
{
	struct tls_conn	*t = c->tls;
	ssize_t		 k;

	if (t == NULL)
		return sendfile(c->fd, fd, off, n);
	if (t->ktls) {
		if ((k = SSL_sendfile(t->ssl, fd, *off, n, 0)) > 0)
			*off += k;
		return k > 0 ? k : tls_fail(c, (int)k, 0);
	}
	if (tls_buf(t) == -1)
		return -1;
	/* A record still pending holds these very bytes (the offset has not moved). */
	if (t->pend == 0) {
		if ((k = pread(fd, t->buf, n < TLS_BUF ? n : TLS_BUF, *off)) <= 0)
			return k;
		t->pend = (size_t)k;
	}
	if ((k = tls_write_buf(c, t->pend)) > 0)
		*off += k;
	return k;
}

ssize_t
cio_sendfile_cb(void *arg, int fd, off_t *off, size_t n)
{
	return cio_sendfile(arg, fd, off, n);
}

void
cio_shutdown(struct conn *c)
{
	/* One try: a client that does not take the alert loses nothing. */
	if (c->tls != NULL && SSL_is_init_finished(c->tls->ssl) &&
	    SSL_shutdown(c->tls->ssl) < 0)
		ERR_clear_error();
	shutdown(c->fd, SHUT_WR);
}
