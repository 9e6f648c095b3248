/*
 * tls.h: a TLS connection's state, shared by tls.c (the handshake, the
 * certificates, the session's facts for scripts) and cio.c (its bytes).
 * Private to front.
 */
#ifndef LOCKERD_TLS_H
#define LOCKERD_TLS_H

#include <openssl/ssl.h>

#include "route.h"

/* A TLS record's plaintext at most. */
#define TLS_RECORD	16384
/* What a response's bytes go out in, while it is being sent: four records
 * of a file per pread(), and four records per write() of the socket. */
#define TLS_BUF		(4 * TLS_RECORD)

struct tls_conn {
	SSL		*ssl;
	BIO		*sock;		/* the socket's BIO (also SSL's read BIO) */
	/*
	 * A buffer in front of sock, so that several records go out in one
	 * write(): pushed for a handshake and for a response, popped once
	 * empty between requests (cio_idle()), so that an idle connection
	 * holds none.
	 */
	BIO		*wbuf;
	int		 hs_wants_write;	/* the handshake waits for room, not bytes */
	/*
	 * Plaintext on its way (a gathered write, or a file's bytes read
	 * ahead: [boff, boff + blen) of file bfd), made when a response needs
	 * it.  An SSL_write() that must be called again is offered the same
	 * bytes (OpenSSL has them encrypted already): the caller's are where
	 * they were, and a file's are read ahead from the same offset.
	 */
	char		*buf;
	int		 bfd;
	off_t		 boff;
	size_t		 blen;
	int		 rd_wants_write;	/* SSL_read() waits for the socket's room */
	int		 ktls;			/* the kernel encrypts: sendfile() works */
	int		 counted;		/* in F.handshakes */
	int		 acme;			/* a TLS-ALPN-01 validation (challenge.c) */
	char		 sni[HOSTNAME_MAX + 1];	/* "" if the client named none */
};

#endif
