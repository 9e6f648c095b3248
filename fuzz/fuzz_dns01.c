/*
 * fuzz_dns01.c: what dns01.c reads of a DNS server's answer (ldns parses
 * the message; dns01.c picks the rcode, the TSIG's error field and the TXT
 * strings out of the result) against arbitrary bytes.  The server is the
 * zone's, named by the administrator, but what it sends crosses a network.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dnsupdate.h"

/*
 * ldns 1.8.3's ldns_wire2pkt() keeps only the last TSIG of a message with
 * several and loses the others (ldns_pkt_set_tsig() does not free the one
 * it replaces): a few dozen bytes per such answer, in ldns, not here.  An
 * orphaned record is the only direct leak ldns_rr_new() can make, so this
 * hides no leak of dns01.c's (a packet it failed to free is reported).
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:ldns_rr_new\n";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsupdate_answer	a;

	if (dnsupdate_answer_parse(data, size, "Xq3vG1k7_token", &a) == 0) {
		/* An rcode is 4 bits in the header (extended ones need OPT). */
		if (a.rcode > 0xfff || a.tsig_error > 0xffff || a.id > 0xffff)
			abort();
		if (!a.has_txt && dnsupdate_answer_parse(data, size, NULL, &a) == 0 && a.has_txt)
			abort();
	}
	return 0;
}
