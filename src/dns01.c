/*
 * dns01.c: the DNS side of ACME's DNS-01 challenge, and whether a name
 * resolves to this machine.
 *
 * The wildcard *.DOMAIN for the locker subdomains can only be proved by
 * DNS-01: a TXT record at _acme-challenge.DOMAIN.  It is written with an
 * RFC 2136 UPDATE to the zone's server, signed with a TSIG key (RFC 8945)
 * that the administrator gave that server and lockerd; dnsupdate.c (shared
 * with Hesiod's publishing) builds, signs, sends and checks the messages.
 * Only the ACME client calls this: the secret reaches it as a descriptor
 * the master opened as root, and nothing here writes a file.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "lockerd.h"
#include "dnsupdate.h"
#include "dns01.h"

#define CHALLENGE_LABEL		"_acme-challenge."
#define TXT_TTL			60	/* the CA asks once; resolvers should not keep it */
#define POLL_MS			500	/* between dns01_visible()'s questions */

int
dns01_conf_init(struct dnsupdate_conf *dc, const struct config *c, int secret_fd,
    char *err, size_t errlen)
{
	const struct acme_dns_update	*u = &c->acme_dns;
	char				 why[200];

	memset(dc, 0, sizeof(*dc));
	if (u->server.host[0] == '\0') {
		snprintf(err, errlen, "no acme-dns-update in %s", c->path);
		return -1;
	}
	snprintf(dc->server, sizeof(dc->server), "%s", u->server.host);
	snprintf(dc->port, sizeof(dc->port), "%s", u->server.port);
	dc->family = u->server.family;
	snprintf(dc->zone, sizeof(dc->zone), "%s", u->zone);
	snprintf(dc->keyname, sizeof(dc->keyname), "%s", u->keyname);
	dc->alg = u->alg;
	dc->timeout_ms = c->dns_timeout * 1000;
	if (dnsupdate_secret_read(secret_fd, dc->secret, sizeof(dc->secret), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", u->secret_file, why);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ update */

/*
 * "_acme-challenge.NAME." for name (or *.name), which must be the zone or
 * under it: a name elsewhere is no business of this key's.
 */
static int
challenge_owner(const struct dnsupdate_conf *dc, const char *name, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char	host[HOSTNAME_MAX + 1];
	size_t	hl, zl = strlen(dc->zone);

	if (strncmp(name, "*.", 2) == 0)
		name += 2;
	if (route_canon_host(name, strlen(name), host, sizeof(host)) == -1 ||
	    strchr(host, ':') != NULL || host[0] == '[') {
		snprintf(err, errlen, "\"%s\" is not a host name", name);
		return -1;
	}
	hl = strlen(host);
	if (!(hl == zl && strcmp(host, dc->zone) == 0) &&
	    !(hl > zl && host[hl - zl - 1] == '.' && strcmp(host + hl - zl, dc->zone) == 0)) {
		snprintf(err, errlen, "%s is not in the zone %s", host, dc->zone);
		return -1;
	}
	if ((size_t)snprintf(out, outlen, CHALLENGE_LABEL "%s.", host) >= outlen) {
		snprintf(err, errlen, "%s is too long a name", host);
		return -1;
	}
	return 0;
}

/* A key authorization's digest is base64url (RFC 8555 8.4): 43 characters
 * of a safe alphabet, so it goes into the record's text form as it is. */
static int
txt_ok(const char *txt)
{
	size_t n = strlen(txt);

	if (n == 0 || n > 255)
		return 0;
	for (; *txt; txt++)
		if (!isalnum((unsigned char)*txt) && strchr("-_=+/.", *txt) == NULL)
			return 0;
	return 1;
}

/* The RR to add, or (add 0) the one to delete: class NONE, TTL 0, the
 * same rdata (RFC 2136 2.5.4), so another challenge's TXT stays. */
static ldns_rr *
txt_rr(const char *owner, const char *txt, int add)
{
	char	 text[600];
	ldns_rr	*rr = NULL;

	snprintf(text, sizeof(text), "%s %d IN TXT \"%s\"", owner, TXT_TTL, txt);
	if (ldns_rr_new_frm_str(&rr, text, TXT_TTL, NULL, NULL) != LDNS_STATUS_OK)
		return NULL;
	if (!add) {
		ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);
		ldns_rr_set_ttl(rr, 0);
	}
	return rr;
}

int
dns01_update(const struct dnsupdate_conf *dc, const char *name, const char *txt, int add,
    char *err, size_t errlen)
{
	char		 owner[HOSTNAME_MAX + 32];
	ldns_rr		*rr;
	ldns_rr_list	*up;
	int		 rc = -1;

	if (challenge_owner(dc, name, owner, sizeof(owner), err, errlen) == -1)
		return -1;
	if (!txt_ok(txt)) {
		snprintf(err, errlen, "a TXT value that is not a key authorization's digest");
		return -1;
	}
	if ((up = ldns_rr_list_new()) == NULL || (rr = txt_rr(owner, txt, add)) == NULL ||
	    !ldns_rr_list_push_rr(up, rr))
		snprintf(err, errlen, "cannot build the update");
	else
		rc = dnsupdate_send(dc, up, err, errlen);
	ldns_rr_list_deep_free(up);
	return rc;
}

/* ------------------------------------------------------ is it there */

int
dns01_visible(const struct dnsupdate_conf *dc, const char *name, const char *txt,
    uint32_t wait_ms, char *err, size_t errlen)
{
	char			owner[HOSTNAME_MAX + 32];
	uint64_t		deadline = now_ms() + wait_ms;
	const struct timespec	pause = { 0, POLL_MS * 1000000L };
	int			rc;

	if (challenge_owner(dc, name, owner, sizeof(owner), err, errlen) == -1)
		return -1;
	for (;;) {
		if ((rc = dnsupdate_has_txt(dc, owner, txt, err, errlen)) != 0)
			return rc;
		if (now_ms() + POLL_MS > deadline)
			return 0;
		nanosleep(&pause, NULL);
	}
}

/* ---------------------------------------------------- resolves here */

static ldns_resolver	*system_res;

static ldns_resolver *
resolver_of(const struct config *c, char *err, size_t errlen)
{
	const struct listen_addr	*r = &c->acme_resolver;
	ldns_resolver			*res;
	ldns_rdf			*ns;

	if (r->host[0] == '\0') {
		if (system_res == NULL && resolves_here_init(c, err, errlen) == -1)
			return NULL;
		return system_res;
	}
	if ((res = ldns_resolver_new()) == NULL)
		return NULL;
	ns = ldns_rdf_new_frm_str(r->family == AF_INET6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
	    r->host);
	if (ns == NULL || ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(ns);
		ldns_resolver_deep_free(res);
		snprintf(err, errlen, "acme-resolver %s: not an address", r->host);
		return NULL;
	}
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(res, (uint16_t)atoi(r->port));
	return res;
}

int
resolves_here_init(const struct config *c, char *err, size_t errlen)
{
	ldns_status st;

	(void)c;
	if (system_res != NULL)
		ldns_resolver_deep_free(system_res);
	system_res = NULL;
	if ((st = ldns_resolver_new_frm_file(&system_res, NULL)) != LDNS_STATUS_OK) {
		system_res = NULL;
		snprintf(err, errlen, "the system's resolver (/etc/resolv.conf): %s",
		    ldns_get_errorstr_by_id(st));
		return -1;
	}
	return 0;
}

/* a (4 or 16 bytes of family af) is an address of an interface here. */
static int
iface_has(int af, const void *a)
{
	struct ifaddrs	*ifs, *i;
	int		 found = 0;

	if (getifaddrs(&ifs) == -1)
		return 0;
	for (i = ifs; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != af)
			continue;
		if (af == AF_INET)
			found = memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
			    a, 4) == 0;
		else
			found = memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr,
			    a, 16) == 0;
	}
	freeifaddrs(ifs);
	return found;
}

/* The address a (of family af) is one lockerd accepts connections on. */
static int
served_here(const struct config *c, int af, const void *a)
{
	unsigned char	l[16];
	size_t		alen = af == AF_INET ? 4 : 16;
	int		i;

	for (i = 0; i < c->nlisten; i++) {
		if (c->listen[i].family != af ||
		    inet_pton(af, c->listen[i].host, l) != 1)
			continue;
		if (memcmp(l, a, alen) == 0)
			return 1;
		/* 0.0.0.0 or ::: every address of the machine (IPv6 listeners are
		 * IPV6_V6ONLY, so :: does not stand for the IPv4 ones). */
		if (memcmp(l, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", alen) == 0 &&
		    iface_has(af, a))
			return 1;
	}
	return 0;
}

/* Of name's records of type t, whether one is served here; what they
 * were goes at the end of seen. */
static int
type_here(ldns_resolver *res, const struct config *c, ldns_rdf *dname, ldns_rr_type t,
    char *seen, size_t seenlen, int *answered)
{
	ldns_pkt	*ans;
	ldns_rr_list	*rrs;
	char		 text[INET6_ADDRSTRLEN];
	int		 af = t == LDNS_RR_TYPE_A ? AF_INET : AF_INET6, here = 0;
	size_t		 i;

	if ((ans = ldns_resolver_query(res, dname, t, LDNS_RR_CLASS_IN, LDNS_RD)) == NULL)
		return 0;
	*answered = 1;
	rrs = ldns_pkt_rr_list_by_type(ans, t, LDNS_SECTION_ANSWER);
	for (i = 0; rrs != NULL && i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);

		if (rd == NULL || ldns_rdf_size(rd) != (af == AF_INET ? 4u : 16u))
			continue;
		if (served_here(c, af, ldns_rdf_data(rd)))
			here = 1;
		if (inet_ntop(af, ldns_rdf_data(rd), text, sizeof(text)) != NULL)
			snprintf(seen + strlen(seen), seenlen - strlen(seen), "%s%s",
			    seen[0] ? " " : "", text);
	}
	ldns_rr_list_deep_free(rrs);
	ldns_pkt_free(ans);
	return here;
}

int
resolves_here(const char *name, const struct config *c, char *err, size_t errlen)
{
	ldns_resolver	*res;
	ldns_rdf	*dname;
	char		 host[HOSTNAME_MAX + 2], seen[256] = "";
	struct timeval	 tv = { c->dns_timeout, 0 };
	int		 here, answered = 0;

	if (route_canon_host(name, strlen(name), host, sizeof(host) - 1) == -1 ||
	    strchr(host, ':') != NULL || host[0] == '[') {
		snprintf(err, errlen, "\"%s\" is not a host name", name);
		return -1;
	}
	if ((res = resolver_of(c, err, errlen)) == NULL)
		return -1;
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, 1);
	strcat(host, ".");
	if ((dname = ldns_dname_new_frm_str(host)) == NULL) {
		snprintf(err, errlen, "\"%s\" is not a host name", name);
		here = -1;
	} else {
		here = type_here(res, c, dname, LDNS_RR_TYPE_A, seen, sizeof(seen), &answered) |
		    type_here(res, c, dname, LDNS_RR_TYPE_AAAA, seen, sizeof(seen), &answered);
		if (!answered) {
			snprintf(err, errlen, "%s: the resolver did not answer", name);
			here = -1;
		} else if (!here)
			snprintf(err, errlen, "%s resolves to %s, not to an address served here",
			    name, seen[0] ? seen : "no address");
	}
	ldns_rdf_deep_free(dname);
	if (res != system_res)
		ldns_resolver_deep_free(res);
	return here;
}
