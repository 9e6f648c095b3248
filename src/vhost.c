/*
 * vhost.c: which host names a locker may serve as a vhost.
 *
 * A vhost is a name a locker chose, so it must never take what belongs to
 * the service or to another locker:
 *   - the service's host names (the domain and every `hostname`), which
 *     serve every locker's /~name/ URLs;
 *   - names under the domain but the locker's own (x.<domain> is locker
 *     x's address, a.x.<domain> is x's to map);
 *   - IP literals in any form a resolver or browser accepts (127.0.0.1,
 *     [::1], 2130706433, 0x7f.1, 0177.0.0.1, 127.1): a request by address
 *     is the service's;
 *   - names no one owns in the DNS: a single label, localhost and
 *     *.localhost, *.local (mDNS), *.invalid, *.arpa.
 * The same rules drop, at start and at every reload, a vhost the
 * directory already holds that has come to collide (an administrator
 * adding a `hostname` a locker had taken first), with a log line and an
 * audit row; route.c looks service hosts up first anyway.
 *
 * A name outside the domain is the locker's only once it proves it holds
 * the name in the DNS: `locker vhost add` records a claim with a random
 * token, the admin publishes it as a TXT record of _lockerd-challenge.HOST,
 * and `locker vhost verify` finds it there.  Until then the host does not
 * route, and other lockers may claim it too: the first proof takes it,
 * and from then on it is that locker's (root may move it, --force).  A
 * file served from the locker could not prove anything: the host routes
 * to whichever locker we say, so the proof would only show that the
 * claimant can write its own web_scripts.  The query is the system
 * resolver's, asked in a child that drops to the front user first, so
 * the master parses no byte of the answer, and never waits for it
 * (proof.c).
 */
#include <sys/random.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "vhost.h"

/* Names under these are nobody's in the public DNS (RFC 6761, 6762). */
static const char *const special_suffixes[] = {
	"localhost", "local", "invalid", "arpa", NULL
};

static int
is_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len > 0;
}

/*
 * An address, however written: inet_aton() takes every form glibc's
 * resolver and browsers take (one to four parts, decimal, octal, hex).
 * A last label of digits or 0x... is no DNS name either (RFC 3696 2: no
 * top-level domain is all-numeric), and is refused as one.
 */
static int
looks_like_address(const char *host)
{
	const char	*last = strrchr(host, '.');
	struct in_addr	 a;

	if (host[0] == '[' || inet_aton(host, &a) != 0)
		return 1;
	last = last != NULL ? last + 1 : host;
	if (is_digits(last, strlen(last)))
		return 1;
	return last[0] == '0' && last[1] == 'x';
}

/* host is suffix itself or ends in ".suffix". */
static int
ends_with_label(const char *host, const char *suffix)
{
	size_t hl = strlen(host), sl = strlen(suffix);

	if (hl == sl)
		return strcmp(host, suffix) == 0;
	return hl > sl && host[hl - sl - 1] == '.' && strcmp(host + hl - sl, suffix) == 0;
}

int
vhost_is_service_host(const struct config *c, const char *host)
{
	int i;

	if (strcmp(host, c->domain) == 0)
		return 1;
	for (i = 0; i < c->nhostnames; i++)
		if (strcmp(host, c->hostnames[i]) == 0)
			return 1;
	return 0;
}

/* Under the domain: x.domain is locker x; a.b.domain belongs to locker b. */
static int
under_domain_refused(const struct config *c, const char *host, const char *locker,
    char *why, size_t whylen)
{
	size_t		 hl = strlen(host), dl = strlen(c->domain);
	const char	*end, *start;

	if (!(hl > dl + 1 && host[hl - dl - 1] == '.' &&
	    strcmp(host + hl - dl, c->domain) == 0))
		return 0;
	end = start = host + hl - dl - 1;
	while (start > host && start[-1] != '.')
		start--;
	if (start == host) {
		snprintf(why, whylen, "%s is the address of locker \"%.*s\"", host,
		    (int)(end - start), start);
		return 1;
	}
	if ((size_t)(end - start) != strlen(locker) ||
	    strncmp(start, locker, (size_t)(end - start)) != 0) {
		snprintf(why, whylen, "%s is under locker \"%.*s\"'s name", host,
		    (int)(end - start), start);
		return 1;
	}
	return 0;
}

/* Under the domain, vhost_name_check() let through only the locker's own. */
int
vhost_needs_proof(const struct config *c, const char *host)
{
	size_t hl = strlen(host), dl = strlen(c->domain);

	return !(hl > dl + 1 && host[hl - dl - 1] == '.' &&
	    strcmp(host + hl - dl, c->domain) == 0);
}

int
vhost_name_check(const struct config *c, const char *host, const char *locker,
    char *why, size_t whylen)
{
	int i;

	if (looks_like_address(host)) {
		snprintf(why, whylen, "%s is an IP address; requests by address are "
		    "the service's", host);
		return -1;
	}
	if (vhost_is_service_host(c, host)) {
		snprintf(why, whylen, "%s is a service host name", host);
		return -1;
	}
	if (strchr(host, '.') == NULL) {
		snprintf(why, whylen, "%s is a single label, not a name in the DNS", host);
		return -1;
	}
	for (i = 0; special_suffixes[i] != NULL; i++)
		if (ends_with_label(host, special_suffixes[i])) {
			snprintf(why, whylen, "%s is under .%s, which no one owns in the "
			    "DNS", host, special_suffixes[i]);
			return -1;
		}
	if (under_domain_refused(c, host, locker, why, whylen))
		return -1;
	return 0;
}

/* ------------------------------------------------- at start and reload */

struct refused {
	struct vhost_rec	*v;
	size_t			 n, cap;
};

static int
collect_refused(const struct vhost_rec *v, void *arg)
{
	struct refused	*r = arg;
	char		 why[256];

	if (vhost_name_check(&M->conf, v->host, v->locker, why, sizeof(why)) == 0)
		return 0;
	if (r->n == r->cap) {
		size_t			 cap = r->cap ? r->cap * 2 : 8;
		struct vhost_rec	*nv = reallocarray(r->v, cap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		r->v = nv;
		r->cap = cap;
	}
	r->v[r->n++] = *v;
	return 0;
}

void
vhosts_drop_refused(void)
{
	struct refused	 r = { NULL, 0, 0 };
	char		 why[256], err[256];
	size_t		 i;

	if (dir_vhost_foreach(M->dir, NULL, collect_refused, &r) != 0)
		log_warnx("vhosts: cannot walk the directory's vhosts");
	dir_set_actor(M->dir, 0);
	for (i = 0; i < r.n; i++) {
		vhost_name_check(&M->conf, r.v[i].host, r.v[i].locker, why, sizeof(why));
		if (dir_vhost_remove(M->dir, r.v[i].host, err, sizeof(err)) == -1)
			log_warnx("vhost %s of %s: cannot drop it: %s", r.v[i].host,
			    r.v[i].locker, err);
		else
			log_warnx("vhost %s of %s dropped: %s", r.v[i].host, r.v[i].locker,
			    why);
	}
	free(r.v);
}

/* ------------------------------------------------------------- proof */

#define PROOF_LABEL		"_lockerd-challenge"

int
vhost_token_new(char *out, size_t outsz)
{
	unsigned char	b[VHOST_TOKEN_LEN / 2];
	size_t		i;

	if (outsz < VHOST_TOKEN_LEN + 1 || getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

void
vhost_proof_name(const char *host, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s.%s", PROOF_LABEL, host);
}

/*
 * A `hostname` one label under the domain that is a locker's address:
 * the service's now (route.c looks service hosts up first).  The reserved
 * names keep lockers off the usual ones; this says so for the others.
 */
void
hostnames_check_lockers(void)
{
	const struct config	*c = &M->conf;
	size_t			 dl = strlen(c->domain), hl;
	char			 label[LOCKER_NAME_MAX + 1];
	int			 i;

	for (i = 0; i < c->nhostnames; i++) {
		const char *h = c->hostnames[i];

		hl = strlen(h);
		if (hl <= dl + 1 || hl - dl - 1 > LOCKER_NAME_MAX || h[hl - dl - 1] != '.' ||
		    strcmp(h + hl - dl, c->domain) != 0)
			continue;
		memcpy(label, h, hl - dl - 1);
		label[hl - dl - 1] = '\0';
		if (strchr(label, '.') == NULL && dir_locker_get(M->dir, label, NULL) == 1)
			log_warnx("hostname %s is the address of locker %s; the service "
			    "answers there now, the locker at %s/~%s/", h, label, c->domain,
			    label);
	}
}
