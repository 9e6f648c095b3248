/*
 * dnsupdate.h: RFC 2136 UPDATEs signed with a TSIG key (RFC 8945), and
 * the answers of a zone's server checked, with ldns: what DNS-01 (dns01.c,
 * in the ACME role) and Hesiod's publishing (hesiod.c, the hesiod role)
 * share.  The secret lives only in the process that sends, read from a
 * descriptor the master opened as root.
 */
#ifndef DNSUPDATE_H
#define DNSUPDATE_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

/* The key's secret as base64, the form TSIG libraries and key files use;
 * 64 bytes of key (hmac-sha512's block) is 88 characters. */
#define DNSUPDATE_SECRET_MAX	128

/* A zone's server and the key that may update it. */
struct dnsupdate_conf {
	char		server[64];	/* numeric address */
	char		port[8];
	int		family;
	char		zone[256];	/* "example.org", no trailing dot */
	char		keyname[256];
	int		alg;		/* TSIG_HMAC_* */
	char		secret[DNSUPDATE_SECRET_MAX + 1];
	uint32_t	timeout_ms;	/* each exchange with the server */
};

/* lockerd -t and the master's start: the file holds a well-formed secret
 * and only root can read it; 0, or -1 with err saying what is wrong. */
int	dnsupdate_secret_check(const char *path, char *err, size_t errlen);
/* The secret from fd, read from its start (the descriptor may be read
 * again at a restart of its reader); 0, or -1 with err. */
int	dnsupdate_secret_read(int fd, char *out, size_t outlen, char *err, size_t errlen);

/*
 * What the server's answer says, as ldns parses it (the fuzzers' entry
 * too): -1 when the bytes do not parse.  has_txt: its answer section holds
 * a TXT record whose one string is txt (not NULL).
 */
struct dnsupdate_answer {
	unsigned	id, rcode, tsig_error;
	int		qr, signed_, has_txt;
};
int	dnsupdate_answer_parse(const uint8_t *wire, size_t len, const char *txt,
	    struct dnsupdate_answer *a);

/*
 * One UPDATE of dc->zone carrying up's records (RFC 2136's encoding: class
 * IN adds, class NONE deletes one record, class ANY deletes an RRset or a
 * name), signed with the key, over TCP.  0 when the server answered
 * NOERROR with a TSIG that verifies, else -1 with err naming the server's
 * rcode and TSIG error, or the time-out.  up stays the caller's.
 */
int	dnsupdate_send(const struct dnsupdate_conf *dc, const ldns_rr_list *up, char *err,
	    size_t errlen);
/* Asks the zone's server (unsigned, TCP) for owner's records of type t:
 * 1 if one is a TXT whose one string is txt, else 0; -1 on an error. */
int	dnsupdate_has_txt(const struct dnsupdate_conf *dc, const char *owner, const char *txt,
	    char *err, size_t errlen);

#endif
