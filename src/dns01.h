#ifndef DNS01_H
#define DNS01_H

#include <stddef.h>
#include <stdint.h>

struct config;

struct dnsupdate_conf;

/* c's acme-dns-update and dns-timeout, and the secret read from secret_fd
 * (the master opened the file as root); 0, or -1 with err (also when c
 * configures no update). */
int	dns01_conf_init(struct dnsupdate_conf *dc, const struct config *c, int secret_fd,
	    char *err, size_t errlen);
/*
 * Adds (add 1) or deletes (add 0) the TXT record txt at
 * _acme-challenge.NAME (NAME may be given as *.NAME: the wildcard's
 * challenge is at its base), signed with the TSIG key; 0 when the server
 * answered NOERROR with a TSIG that verifies, else -1 with err naming the
 * server's rcode and TSIG error, or the timeout.
 */
int	dns01_update(const struct dnsupdate_conf *dc, const char *name, const char *txt,
	    int add, char *err, size_t errlen);
/* Asks the zone's server until _acme-challenge.NAME holds txt: 1 when it
 * does, 0 when wait_ms passed without it, -1 on an error (err). */
int	dns01_visible(const struct dnsupdate_conf *dc, const char *name, const char *txt,
	    uint32_t wait_ms, char *err, size_t errlen);

/*
 * Whether name's A or AAAA records, as c's acme-resolver (or the system's
 * resolver) gives them, hold an address this machine serves HTTP on: a
 * listen address, or for 0.0.0.0 and :: an address of an interface.  1
 * yes, 0 no (err says what it resolves to), -1 when the resolver could
 * not tell (err).  The ACME client asks before ordering a vhost's
 * certificate, so that a name pointing elsewhere costs the CA nothing.
 * resolves_here_init() reads the system's resolver configuration, for a
 * caller about to chroot; resolves_here() calls it if it was not.
 */
int	resolves_here_init(const struct config *c, char *err, size_t errlen);
int	resolves_here(const char *name, const struct config *c, char *err, size_t errlen);

#endif
