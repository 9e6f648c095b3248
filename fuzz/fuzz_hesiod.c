/*
 * fuzz_hesiod.c: what the hesiod role reads of a zone transfer's answer
 * (ldns parses the message; hesiod_sync.c keeps the records at owners of
 * its own, joins TXT strings, reads CNAME targets) and the comparison it
 * makes with the lockers' records, against arbitrary bytes: the server is
 * the administrator's, but its answers cross a network.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

#include "lockerd.h"
#include "hesiod.h"
#include "fuzz.h"

/* ldns 1.8.3 loses all but the last TSIG of a message with several (see
 * fuzz_dns01.c): a leak of ldns's, not of this code's. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:ldns_rr_new\n";
}

static struct config C;

/* Everything the plan sends is at an owner of ours. */
static int
emit(const ldns_rr_list *up, void *arg)
{
	size_t i;

	(void)arg;
	REQUIRE(ldns_rr_list_rr_count(up) <= HESIOD_BATCH);
	for (i = 0; i < ldns_rr_list_rr_count(up); i++) {
		char *o = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(up, i)));

		REQUIRE(o != NULL && hesiod_owner_ours(&C, o));
		free(o);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hesiod_locker l[2] = { { "alice", 5001, 5001 },
						    { "bob", 5002, 5002 } };
	struct hesiod_set	 have = { 0 }, want = { 0 };
	ldns_pkt		*p = NULL;
	ldns_rr_list		*an;
	char			 err[256];
	uint32_t		 sent;
	size_t			 i;

	if (C.hesiod.zone[0] == '\0') {
		snprintf(C.lockers, sizeof(C.lockers), "/srv/lockers");
		snprintf(C.domain, sizeof(C.domain), "scripts.test");
		snprintf(C.hesiod.zone, sizeof(C.hesiod.zone), "athena.test");
		snprintf(C.hesiod.lhs, sizeof(C.hesiod.lhs), ".ns");
	}
	if (ldns_wire2pkt(&p, data, size) != LDNS_STATUS_OK || p == NULL)
		return 0;
	an = ldns_pkt_answer(p);
	for (i = 0; i < ldns_rr_list_rr_count(an); i++)
		(void)hesiod_set_add_rr(&have, &C, ldns_rr_list_rr(an, i));	/* -1: skipped */
	for (i = 0; i < 2; i++)
		REQUIRE(hesiod_set_add_locker(&want, &C, &l[i], err, sizeof(err)) == 0);
	REQUIRE(hesiod_plan(&have, &want, &sent, emit, NULL) == 0);
	REQUIRE(sent >= 12 || have.n > 0);
	hesiod_set_free(&have);
	hesiod_set_free(&want);
	ldns_pkt_free(p);
	return 0;
}
