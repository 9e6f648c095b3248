/*
 * cookie.h: the Domain a locker's page may give its cookies.
 *
 * Every locker's site is a host under the service's domain (or a vhost of
 * its own), so a cookie with `Domain=<the service domain>` would go to every
 * other locker's pages too (session fixation, tossing, a victim's page
 * reading it).  front removes such a Domain attribute from a script's
 * Set-Cookie; the cookie stays, scoped to the host that set it.
 */
#ifndef LOCKERD_COOKIE_H
#define LOCKERD_COOKIE_H

#include <stddef.h>

/*
 * May a page served for host own (canonical: lower case, no port, no
 * trailing dot) set Domain=d (the attribute's value as sent)?  Only own
 * itself or a name below it, in letters, digits, '-' and '.', one leading
 * '.' allowed (RFC 6265 5.2.3 ignores it).  own NULL (the service's shared
 * names, /~locker/ URLs): never.
 */
int	cookie_domain_ok(const char *d, size_t dlen, const char *own);

/*
 * A Set-Cookie field value v[0..len) without the Domain attributes (any
 * case, RFC 6265 5.2 parsing) cookie_domain_ok refuses.  Writes the result
 * to out, which has room for len bytes; returns its length and in *removed
 * how many attributes went.
 */
size_t	cookie_strip_domain(const char *v, size_t len, const char *own, char *out,
	    int *removed);

#endif
