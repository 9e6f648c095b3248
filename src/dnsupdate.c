/*
 * dnsupdate.c: RFC 2136 UPDATEs with TSIG (RFC 8945), built, signed and
 * sent with ldns, and the zone server's answers checked: the part DNS-01
 * (dns01.c, in the ACME role) and Hesiod's publishing (hesiod.c, in the
 * hesiod role) share.  The secret reaches the sending process as a
 * descriptor the master opened as root, and nothing here writes a file.
 * An answer is believed only if its TSIG verifies (an error answer
 * carries none to verify; it only makes an update fail).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "lockerd.h"
#include "dnsupdate.h"

#define TSIG_FUDGE		300	/* seconds of clock skew allowed (RFC 8945 10) */
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

int
dnsupdate_secret_read(int fd, char *out, size_t outlen, char *err, size_t errlen)
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
dnsupdate_secret_check(const char *path, char *err, size_t errlen)
{
	char		why[200], secret[DNSUPDATE_SECRET_MAX + 1];
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
	rc = dnsupdate_secret_read(fd, secret, sizeof(secret), why, sizeof(why));
	close(fd);
	explicit_bzero(secret, sizeof(secret));
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
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
server_addr(const struct dnsupdate_conf *dc, struct sockaddr_storage *ss)
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
answer_parse(const uint8_t *wire, size_t len, const char *txt, struct dnsupdate_answer *a,
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
dnsupdate_answer_parse(const uint8_t *wire, size_t len, const char *txt, struct dnsupdate_answer *a)
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
exchange(const struct dnsupdate_conf *dc, const ldns_pkt *q, const char *txt,
    struct dnsupdate_answer *a, ldns_pkt **ans, uint8_t **wire, size_t *wlen, char *err,
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

static ldns_pkt *
update_pkt(const struct dnsupdate_conf *dc, const ldns_rr_list *up)
{
	ldns_rdf	*zone;
	ldns_pkt	*q = NULL;
	char		 zname[HOSTNAME_MAX + 2];

	snprintf(zname, sizeof(zname), "%s.", dc->zone);
	/* The packet takes a copy of up (ldns_update_pkt_new clones it). */
	if ((zone = ldns_dname_new_frm_str(zname)) != NULL)
		q = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, up, NULL);
	if (q != NULL)
		ldns_pkt_set_random_id(q);
	return q;
}

/* NOERROR, signed by the key, over the question we signed. */
static int
answer_check(const struct dnsupdate_conf *dc, const ldns_pkt *q, const struct dnsupdate_answer *a,
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
dnsupdate_send(const struct dnsupdate_conf *dc, const ldns_rr_list *up, char *err,
    size_t errlen)
{
	char			 key[HOSTNAME_MAX + 2];
	struct dnsupdate_answer	 a;
	ldns_pkt		*q, *ans;
	uint8_t			*wire;
	size_t			 wlen;
	int			 rc;

	if ((q = update_pkt(dc, up)) == NULL) {
		snprintf(err, errlen, "cannot build the update");
		return -1;
	}
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

int
dnsupdate_has_txt(const struct dnsupdate_conf *dc, const char *owner, const char *txt,
    char *err, size_t errlen)
{
	ldns_rdf		*dname = ldns_dname_new_frm_str(owner);
	struct dnsupdate_answer	 a;
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
