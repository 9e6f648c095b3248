/*
 * certs.h: the master's certificate registry (certs.c) and session-ticket
 * keys (tickets.c).  Master side only.
 */
#ifndef LOCKERD_CERTS_H
#define LOCKERD_CERTS_H

#include <stdint.h>
#include <time.h>

#include "lockerd.h"

struct child;

/* What the registry says of one certificate (for `locker cert list`). */
struct cert_info {
	uint32_t	key_id;
	char		host[HOSTNAME_MAX + 1];	/* a name, or *.DOMAIN */
	char		crt[PATH_MAX];		/* its file */
	char		issuer[256];		/* one line, OpenSSL's */
	time_t		not_after;
	int		from_dir;		/* the TLS directory's, not a config line */
};

/* Where HOST.crt/HOST.key pairs are found besides the configuration's. */
static inline const char *
certs_dir(const struct config *c)
{
	return c->tls_dir;
}

/* `lockerd -t` (strict: an expired certificate is an error too), start and
 * reload: "FILE:LINE: what" in err for a certificate, key, CA bundle or
 * cipher list that cannot serve.  0 if all can. */
int	certs_check(const struct config *c, int strict, char *err, size_t errlen);
/* (Re)build the registry from c and the TLS directory: keys to the key
 * process, chains to every front, then the commit. */
void	certs_load(const struct config *c);
/* A front (re)started: the current set. */
void	certs_send_front(struct child *f);
/* The key process (re)started: every key again, under the same ids. */
void	certs_send_keys(void);
/* From the master's loop: the key process forgets replaced keys when due. */
void	certs_tick(void);
/* From the master's loop: tls-dir read again when it changed (tls-rescan). */
void	certs_rescan_tick(const struct config *c);
/* cb for each certificate served; stops at cb's -1 (returned). */
int	certs_foreach(int (*cb)(const struct cert_info *, void *), void *arg);

/* tickets.c: ticket keys made here, sent to every front, rotated every
 * tls-ticket-lifetime. */
void	tickets_init(void);
void	tickets_send_front(struct child *f);
void	tickets_tick(const struct config *c);

#endif
