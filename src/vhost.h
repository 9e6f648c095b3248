/* vhost.h: the host names a locker may take as vhosts (vhost.c). */
#ifndef LOCKERD_VHOST_H
#define LOCKERD_VHOST_H

#include "lockerd.h"
#include "directory.h"

/* host (canonical) is the domain or a `hostname`. */
int	vhost_is_service_host(const struct config *c, const char *host);
/* 0 if locker may have host (canonical) as a vhost, else -1 with why. */
int	vhost_name_check(const struct config *c, const char *host, const char *locker,
	    char *why, size_t whylen);
/* host (allowed) must be proved: it is not under the domain. */
int	vhost_needs_proof(const struct config *c, const char *host);
/* Master: drop (logged, audited) the directory's vhosts the rules refuse. */
void	vhosts_drop_refused(void);
/* Master: log each `hostname` that is a locker's <name>.<domain>. */
void	hostnames_check_lockers(void);

/* A fresh claim token (VHOST_TOKEN_LEN hex digits). */
int	vhost_token_new(char *out, size_t outsz);
/* Where the proof goes: the TXT record "_lockerd-challenge.HOST". */
void	vhost_proof_name(const char *host, char *out, size_t outsz);
/* Does that record hold token?  Asked of the system resolver in a child
 * (proof.c), which answers one of these. */
#define VHOST_PROOF_YES		1
#define VHOST_PROOF_NO		0
#define VHOST_PROOF_NOANSWER	(-1)

#endif
