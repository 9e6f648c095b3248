/*
 * tls.h: a TLS connection's state, shared by tls.c (the handshake, the
 * certificates, the session's facts for scripts) and cio.c (its bytes).
 * Private to front.
 */
#ifndef LOCKERD_TLS_H
#define LOCKERD_TLS_H

#include <openssl/ssl.h>

#include "route.h"

/* One TLS record's worth: what a file or a gathered write goes out in. */
#define TLS_BUF		16384

struct tls_conn {
	SSL		*ssl;
	/*
	 * Bytes of a gathered write or of a file on their way, made only on
	 * the first such write.  pend: how many were handed to SSL_write()
	 * that wants to be called again; OpenSSL has them encrypted already,
	 * so the retry must offer at least as many (it gets the same back).
	 */
	char		*buf;
	size_t		 pend;
	int		 rd_wants_write;	/* SSL_read() waits for the socket's room */
	int		 ktls;			/* the kernel encrypts: sendfile() works */
	int		 counted;		/* in F.handshakes */
	int		 acme;			/* a TLS-ALPN-01 validation (challenge.c) */
	char		 sni[HOSTNAME_MAX + 1];	/* "" if the client named none */
};

#endif
