/*
 * dnstxt.c: does a DNS answer hold a TXT record with exactly this token?
 *
 * The one parser here of bytes from the DNS, which the owner of the name
 * being proved controls (`locker vhost verify`): it runs only in proof.c's
 * child, as the front user, and the message structure is libresolv's to
 * parse; this reads only the character-strings of each TXT rdata.  Kept
 * apart from proof.c, which needs the master, so fuzz/fuzz_dnstxt.c can
 * feed it any bytes.
 */
#include <arpa/nameser.h>
#include <string.h>

#include "dnstxt.h"

/* One of the character-strings of a TXT record's rdata is exactly token. */
static int
txt_has(const unsigned char *p, size_t len, const char *token)
{
	size_t i = 0, n, tl = strlen(token);

	while (i < len) {
		n = p[i++];
		if (n > len - i)
			return 0;
		if (n == tl && memcmp(p + i, token, tl) == 0)
			return 1;
		i += n;
	}
	return 0;
}

int
dns_txt_answer_has(const unsigned char *ans, int len, const char *token)
{
	ns_msg	msg;
	ns_rr	rr;
	int	i;

	if (len < 0 || ns_initparse(ans, len, &msg) < 0)
		return -1;
	for (i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			break;
		if (ns_rr_type(rr) == ns_t_txt &&
		    txt_has(ns_rr_rdata(rr), ns_rr_rdlen(rr), token))
			return 1;
	}
	return 0;
}
