/* vhost.h: the host names a locker may take as vhosts (vhost.c). */
#ifndef LOCKERD_VHOST_H
#define LOCKERD_VHOST_H

#include "lockerd.h"

/* host (canonical) is the domain or a `hostname`. */
int	vhost_is_service_host(const struct config *c, const char *host);
/* 0 if locker may have host (canonical) as a vhost, else -1 with why. */
int	vhost_name_check(const struct config *c, const char *host, const char *locker,
	    char *why, size_t whylen);
/* Master: drop (logged, audited) the directory's vhosts the rules refuse. */
void	vhosts_drop_refused(void);

#endif
