/*
 * dns01.c: the DNS side of ACME's DNS-01 challenge, and whether a name
 * resolves to this machine.
 *
 * The wildcard *.DOMAIN for the locker subdomains can only be proved by
 * DNS-01: a TXT record at _acme-challenge.DOMAIN.  It is written with an
 * RFC 2136 UPDATE to the zone's server, signed with a TSIG key (RFC 8945)
 * that the administrator gave that server and lockerd; ldns builds, signs
 * and parses the messages.  Only the ACME client calls this: the secret
 * reaches it as a descriptor the master opened as root, and nothing here
 * writes a file.  An answer is believed only if its TSIG verifies (an
 * error answer carries none to verify; it only makes an update fail).
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
#include "dns01.h"

#define CHALLENGE_LABEL		"_acme-challenge."
#define TXT_TTL			60	/* the CA asks once; resolvers should not keep it */
#define TSIG_FUDGE		300	/* seconds of clock skew allowed (RFC 8945 10) */
#define POLL_MS			500	/* between dns01_visible()'s questions */
#define SECRET_FILE_MAX		4096

/* ------------------------------------------------------------ the key */

/* The base64 text of buf (whitespace around it dropped) is a key of 16 to
 * 64 bytes: shorter is guessable, longer than the hash's block is
 * hashed down by HMAC anyway and is more likely the wrong file. */
static int
secret_parse(char *buf, char *out, size_t outlen, char *err, size_t errlen)
{
	char		*s = buf, *e;
	unsigned char	 key[96];
	size_t		 n, len;
	int		 dec;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	for (char *q = s; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '+' && *q != '/' && *q != '=') {
			snprintf(err, errlen, "expected the key's base64 secret alone "
			    "(what keymgr -t or tsig-keygen print after secret), found '%c'",
			    isprint((unsigned char)*q) ? *q : '?');
			return -1;
		}
	/* Decoded here, into a buffer that is wiped, not by ldns: the master
	 * checks the file too, and must not keep the key in freed memory. */
	len = strlen(s);
	if (len == 0 || len % 4 != 0 || len > sizeof(key) / 3 * 4 ||
	    (dec = EVP_DecodeBlock(key, (const unsigned char *)s, (int)len)) < 0) {
		snprintf(err, errlen, "not a base64 secret");
		return -1;
	}
	explicit_bzero(key, sizeof(key));
	n = (size_t)dec - (s[len - 1] == '=') - (len > 1 && s[len - 2] == '=');
	if (n < 16 || n > 64 || len >= outlen) {
		snprintf(err, errlen, "a key of %zu bytes; expected 16 to 64", n);
		return -1;
	}
	snprintf(out, outlen, "%s", s);
	return 0;
}

/* The secret from fd, read from its start (the descriptor may be read
 * again at a restart of its reader). */
static int
secret_read(int fd, char *out, size_t outlen, char *err, size_t errlen)
{
	char	buf[SECRET_FILE_MAX + 1];
	ssize_t	n;
	int	rc;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) == -1)
		return errno_fail(err, errlen, "read");
	if (n == (ssize_t)sizeof(buf) - 1) {
		snprintf(err, errlen, "more than %d bytes", SECRET_FILE_MAX);
		return -1;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n) != NULL) {
		snprintf(err, errlen, "a NUL byte: not a text file");
		return -1;
	}
	rc = secret_parse(buf, out, outlen, err, errlen);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int
dns01_secret_check(const char *path, char *err, size_t errlen)
{
	char		why[200], secret[DNS01_SECRET_MAX + 1];
	struct stat	st;
	int		fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	/* Whoever reads it can write the zone's records. */
	if (st.st_uid != 0 || (st.st_mode & 077) != 0) {
		close(fd);
		snprintf(err, errlen, "%s: readable by others than root (owner %u, mode "
		    "%04o); chown root and chmod 600 it", path, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	rc = secret_read(fd, secret, sizeof(secret), why, sizeof(why));
	close(fd);
	explicit_bzero(secret, sizeof(secret));
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

int
dns01_conf_init(struct dns01_conf *dc, const struct config *c, int secret_fd,
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
	if (secret_read(secret_fd, dc->secret, sizeof(dc->secret), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", u->secret_file, why);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------ one exchange */

static const char *
alg_name(int alg)
{
	return alg == TSIG_HMAC_SHA512 ? "hmac-sha512." : "hmac-sha256.";
}

/* The rcodes an UPDATE's answer may carry (RFC 2136 2.2, RFC 8945 5.3). */
static const char *
rcode_name(unsigned rc)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"
	};

	if (rc < sizeof(names) / sizeof(names[0]))
		return names[rc];
	switch (rc) {
	case 16:
		return "BADSIG";
	case 17:
		return "BADKEY";
	case 18:
		return "BADTIME";
	case 22:
		return "BADTRUNC";
	}
	return "an unknown rcode";
}

static socklen_t
server_addr(const struct dns01_conf *dc, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	uint16_t		 port = (uint16_t)atoi(dc->port);

	memset(ss, 0, sizeof(*ss));
	if (dc->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, dc->server, &sin6->sin6_addr);
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, dc->server, &sin->sin_addr);
	return sizeof(*sin);
}

/* The answer's TSIG error, when it carries a TSIG: what the server thought
 * of our signature (BADSIG: the secret differs; BADKEY: no such key). */
static unsigned
tsig_error(const ldns_pkt *ans)
{
	const ldns_rr	*t = ldns_pkt_tsig(ans);
	const ldns_rdf	*e = t != NULL && ldns_rr_rd_count(t) > 5 ? ldns_rr_rdf(t, 5) : NULL;

	return e != NULL && ldns_rdf_size(e) == 2 ? ldns_rdf2native_int16(e) : 0;
}

/* Whether ans's answer section holds a TXT whose one string is txt. */
static int
answer_has_txt(const ldns_pkt *ans, const char *txt)
{
	ldns_rr_list	*an = ldns_pkt_answer(ans);
	const ldns_rdf	*rd;
	size_t		 i, n = strlen(txt);

	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT || ldns_rr_rd_count(rr) != 1)
			continue;
		rd = ldns_rr_rdf(rr, 0);
		/* One character-string: a length byte, then the text. */
		if (ldns_rdf_size(rd) == n + 1 && ldns_rdf_data(rd)[0] == n &&
		    memcmp(ldns_rdf_data(rd) + 1, txt, n) == 0)
			return 1;
	}
	return 0;
}

/* The server's bytes, as ldns parses them: -1 if they do not parse; the
 * packet kept in *keep for its TSIG's check if keep is not NULL. */
static int
answer_parse(const uint8_t *wire, size_t len, const char *txt, struct dns01_answer *a,
    ldns_pkt **keep)
{
	ldns_pkt *ans = NULL;

	memset(a, 0, sizeof(*a));
	if (ldns_wire2pkt(&ans, wire, len) != LDNS_STATUS_OK || ans == NULL)
		return -1;
	a->id = ldns_pkt_id(ans);
	a->qr = ldns_pkt_qr(ans);
	a->rcode = ldns_pkt_get_rcode(ans);
	a->signed_ = ldns_pkt_tsig(ans) != NULL;
	a->tsig_error = tsig_error(ans);
	a->has_txt = txt != NULL && answer_has_txt(ans, txt);
	if (keep != NULL)
		*keep = ans;
	else
		ldns_pkt_free(ans);
	return 0;
}

int
dns01_answer_parse(const uint8_t *wire, size_t len, const char *txt, struct dns01_answer *a)
{
	return answer_parse(wire, len, txt, a, NULL);
}

/*
 * q to the zone's server over TCP (an UPDATE must not be lost or
 * truncated, and TCP makes a forged answer harder than UDP does); the
 * answer read into *a, parsed in *ans and as bytes in *wire (the TSIG is
 * computed over them).  0, or -1 with err.
 */
static int
exchange(const struct dns01_conf *dc, const ldns_pkt *q, const char *txt,
    struct dns01_answer *a, ldns_pkt **ans, uint8_t **wire, size_t *wlen, char *err,
    size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = server_addr(dc, &ss);
	struct timeval		 tv = { dc->timeout_ms / 1000, (dc->timeout_ms % 1000) * 1000 };
	ldns_buffer		*qb;
	ldns_status		 st;

	*ans = NULL;
	*wire = NULL;
	if ((qb = ldns_buffer_new(LDNS_MAX_PACKETLEN)) == NULL ||
	    ldns_pkt2buffer_wire(qb, q) != LDNS_STATUS_OK) {
		ldns_buffer_free(qb);
		snprintf(err, errlen, "cannot build the message");
		return -1;
	}
	st = ldns_tcp_send(wire, qb, &ss, sslen, tv, wlen);
	ldns_buffer_free(qb);
	if (st != LDNS_STATUS_OK || *wire == NULL) {
		snprintf(err, errlen, "%s port %s: no answer within %u ms (%s)", dc->server,
		    dc->port, (unsigned)dc->timeout_ms, ldns_get_errorstr_by_id(st));
		return -1;
	}
	if (answer_parse(*wire, *wlen, txt, a, ans) == -1) {
		snprintf(err, errlen, "%s port %s: an answer that does not parse", dc->server,
		    dc->port);
		return -1;
	}
	if (a->id != ldns_pkt_id(q) || !a->qr) {
		snprintf(err, errlen, "%s port %s: an answer to another question", dc->server,
		    dc->port);
		return -1;
	}
	return 0;
}

static void
exchange_free(ldns_pkt *ans, uint8_t *wire)
{
	ldns_pkt_free(ans);
	LDNS_FREE(wire);
}

/* ------------------------------------------------------------ update */

/*
 * "_acme-challenge.NAME." for name (or *.name), which must be the zone or
 * under it: a name elsewhere is no business of this key's.
 */
static int
challenge_owner(const struct dns01_conf *dc, const char *name, char *out, size_t outlen,
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

static ldns_pkt *
update_pkt(const struct dns01_conf *dc, ldns_rr *rr)
{
	ldns_rr_list	*up;
	ldns_rdf	*zone;
	ldns_pkt	*q = NULL;
	char		 zname[HOSTNAME_MAX + 2];

	snprintf(zname, sizeof(zname), "%s.", dc->zone);
	if ((up = ldns_rr_list_new()) == NULL)
		return NULL;
	if ((zone = ldns_dname_new_frm_str(zname)) != NULL && ldns_rr_list_push_rr(up, rr))
		q = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, up, NULL);
	else
		ldns_rdf_deep_free(zone);
	ldns_rr_list_free(up);		/* the packet holds a clone of rr */
	if (q != NULL)
		ldns_pkt_set_random_id(q);
	return q;
}

/* NOERROR, signed by the key, over the question we signed. */
static int
answer_check(const struct dns01_conf *dc, const ldns_pkt *q, const struct dns01_answer *a,
    ldns_pkt *ans, uint8_t *wire, size_t wlen, char *err, size_t errlen)
{
	char		 key[HOSTNAME_MAX + 2];
	unsigned	 rc = a->rcode, te = a->tsig_error;
	const ldns_rdf	*qmac = ldns_rr_rdf(ldns_pkt_tsig(q), 3);

	if (rc != LDNS_RCODE_NOERROR || te != 0) {
		snprintf(err, errlen, "%s port %s refused the update: %s%s%s", dc->server,
		    dc->port, rcode_name(rc), te ? ", TSIG " : "", te ? rcode_name(te) : "");
		return -1;
	}
	snprintf(key, sizeof(key), "%s.", dc->keyname);
	if (!a->signed_ || !ldns_pkt_tsig_verify(ans, wire, wlen, key, dc->secret, qmac)) {
		snprintf(err, errlen, "%s port %s: the answer is not signed with the key %s",
		    dc->server, dc->port, dc->keyname);
		return -1;
	}
	return 0;
}

int
dns01_update(const struct dns01_conf *dc, const char *name, const char *txt, int add,
    char *err, size_t errlen)
{
	char			 owner[HOSTNAME_MAX + 32], key[HOSTNAME_MAX + 2];
	struct dns01_answer	 a;
	ldns_rr			*rr;
	ldns_pkt		*q, *ans;
	uint8_t			*wire;
	size_t			 wlen;
	int			 rc;

	if (challenge_owner(dc, name, owner, sizeof(owner), err, errlen) == -1)
		return -1;
	if (!txt_ok(txt)) {
		snprintf(err, errlen, "a TXT value that is not a key authorization's digest");
		return -1;
	}
	if ((rr = txt_rr(owner, txt, add)) == NULL || (q = update_pkt(dc, rr)) == NULL) {
		ldns_rr_free(rr);
		snprintf(err, errlen, "cannot build the update");
		return -1;
	}
	ldns_rr_free(rr);
	snprintf(key, sizeof(key), "%s.", dc->keyname);
	if (ldns_pkt_tsig_sign(q, key, dc->secret, TSIG_FUDGE, alg_name(dc->alg), NULL) !=
	    LDNS_STATUS_OK) {
		ldns_pkt_free(q);
		snprintf(err, errlen, "cannot sign the update with the key %s", dc->keyname);
		return -1;
	}
	rc = exchange(dc, q, NULL, &a, &ans, &wire, &wlen, err, errlen);
	if (rc == 0)
		rc = answer_check(dc, q, &a, ans, wire, wlen, err, errlen);
	exchange_free(ans, wire);
	ldns_pkt_free(q);
	return rc;
}

/* ------------------------------------------------------ is it there */

static int
txt_there(const struct dns01_conf *dc, const char *owner, const char *txt, char *err,
    size_t errlen)
{
	ldns_rdf		*dname = ldns_dname_new_frm_str(owner);
	struct dns01_answer	 a;
	ldns_pkt		*q, *ans;
	uint8_t			*wire;
	size_t			 wlen;
	int			 rc;

	q = dname != NULL ? ldns_pkt_query_new(dname, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0) :
	    NULL;
	if (q == NULL) {
		snprintf(err, errlen, "cannot build the question");
		return -1;
	}
	ldns_pkt_set_random_id(q);
	rc = exchange(dc, q, txt, &a, &ans, &wire, &wlen, err, errlen);
	if (rc == 0)
		rc = a.has_txt;
	exchange_free(ans, wire);
	ldns_pkt_free(q);
	return rc;
}

int
dns01_visible(const struct dns01_conf *dc, const char *name, const char *txt,
    uint32_t wait_ms, char *err, size_t errlen)
{
	char			owner[HOSTNAME_MAX + 32];
	uint64_t		deadline = now_ms() + wait_ms;
	const struct timespec	pause = { 0, POLL_MS * 1000000L };
	int			rc;

	if (challenge_owner(dc, name, owner, sizeof(owner), err, errlen) == -1)
		return -1;
	for (;;) {
		if ((rc = txt_there(dc, owner, txt, err, errlen)) != 0)
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
