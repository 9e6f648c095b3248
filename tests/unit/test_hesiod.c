/*
 * test_hesiod.c: Hesiod's records (hesiod_rec.c) and what the role sends
 * (hesiod_sync.c): each locker's six records, the owners it deals with,
 * the configuration's checks, one locker's UPDATE, long TXTs in strings
 * of 255, and the comparison of a zone's records with the lockers'.  The
 * exchanges with a real server are tests/integration/test_hesiod.py's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "lockerd.h"
#include "hesiod.h"
#include "unit.h"

static struct config C;

static void
conf_init(void)
{
	memset(&C, 0, sizeof(C));
	snprintf(C.lockers, sizeof(C.lockers), "/srv/lockers");
	snprintf(C.domain, sizeof(C.domain), "scripts.test");
	snprintf(C.hesiod.zone, sizeof(C.hesiod.zone), "example.org");
	snprintf(C.hesiod.lhs, sizeof(C.hesiod.lhs), ".ns");
	snprintf(C.hesiod.filsys, sizeof(C.hesiod.filsys),
	    "NFS /export/lockers/%%s files.example.org w /mit/%%s");
}

static const struct hesiod_locker alice = { "alice", 5001, 5001 };

static void
test_records(void)
{
	struct hesiod_rec	r[HESIOD_RECS];
	struct hesiod_locker	bad = { "Alice", 1, 1 };
	char			err[256];

	conf_init();
	CHECK_INT(hesiod_records(&C, &alice, r, err, sizeof(err)), 0);
	CHECK_STR(r[0].owner, "alice.filsys.ns.example.org.");
	CHECK_STR(r[0].data, "NFS /export/lockers/alice files.example.org w /mit/alice");
	CHECK_INT(r[0].type, HESIOD_TXT);
	CHECK_STR(r[1].owner, "alice.passwd.ns.example.org.");
	CHECK_STR(r[1].data, "alice:*:5001:5001:Locker alice:/srv/lockers/alice:/usr/sbin/nologin");
	CHECK_STR(r[2].owner, "5001.uid.ns.example.org.");
	CHECK_INT(r[2].type, HESIOD_CNAME);
	CHECK_STR(r[2].data, "alice.passwd.ns.example.org.");
	CHECK_STR(r[3].owner, "alice.group.ns.example.org.");
	CHECK_STR(r[3].data, "alice:*:5001:");
	CHECK_STR(r[4].owner, "5001.gid.ns.example.org.");
	CHECK_STR(r[4].data, "alice.group.ns.example.org.");
	CHECK_STR(r[5].owner, "alice.url.ns.example.org.");
	CHECK_STR(r[5].data, "http://alice.scripts.test/");
	C.https_only = 1;
	CHECK_INT(hesiod_records(&C, &alice, r, err, sizeof(err)), 0);
	CHECK_STR(r[5].data, "https://alice.scripts.test/");
	/* No LHS; the default filsys. */
	snprintf(C.hesiod.lhs, sizeof(C.hesiod.lhs), "none");
	C.hesiod.filsys[0] = '\0';
	CHECK_INT(hesiod_records(&C, &alice, r, err, sizeof(err)), 0);
	CHECK_STR(r[0].owner, "alice.filsys.example.org.");
	CHECK_STR(r[0].data, "NFS /srv/lockers/alice scripts.test w /mit/alice");
	/* A name that is not a locker's is refused, not published. */
	CHECK_INT(hesiod_records(&C, &bad, r, err, sizeof(err)), -1);
	snprintf(bad.name, sizeof(bad.name), "a.b");
	CHECK_INT(hesiod_records(&C, &bad, r, err, sizeof(err)), -1);
	snprintf(bad.name, sizeof(bad.name), "x\"y");
	CHECK_INT(hesiod_records(&C, &bad, r, err, sizeof(err)), -1);
	memset(bad.name, 'a', sizeof(bad.name));	/* no NUL */
	CHECK_INT(hesiod_records(&C, &bad, r, err, sizeof(err)), -1);
}

static void
test_conf_check(void)
{
	char err[256];

	conf_init();
	CHECK_INT(hesiod_conf_check(&C, err, sizeof(err)), 0);
	snprintf(C.hesiod.filsys, sizeof(C.hesiod.filsys), "NFS /x/%%d");
	CHECK_INT(hesiod_conf_check(&C, err, sizeof(err)), -1);
	snprintf(C.hesiod.filsys, sizeof(C.hesiod.filsys), "NFS \"/x/%%s");
	CHECK_INT(hesiod_conf_check(&C, err, sizeof(err)), -1);
	snprintf(C.hesiod.filsys, sizeof(C.hesiod.filsys), "NFS /x/%%");
	CHECK_INT(hesiod_conf_check(&C, err, sizeof(err)), -1);
	snprintf(C.hesiod.filsys, sizeof(C.hesiod.filsys), "NFS /x/%%s");
	snprintf(C.hesiod.lhs, sizeof(C.hesiod.lhs), "ns");
	CHECK_INT(hesiod_conf_check(&C, err, sizeof(err)), -1);
	snprintf(C.hesiod.lhs, sizeof(C.hesiod.lhs), ".n s");
	CHECK_INT(hesiod_conf_check(&C, err, sizeof(err)), -1);
	snprintf(C.hesiod.lhs, sizeof(C.hesiod.lhs), "none");
	CHECK_INT(hesiod_conf_check(&C, err, sizeof(err)), 0);
	/* A template whose longest locker's record no longer fits. */
	memset(C.hesiod.filsys, 'x', 250);
	C.hesiod.filsys[250] = '\0';
	memcpy(C.hesiod.filsys, "%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s", 32);
	CHECK_INT(hesiod_conf_check(&C, err, sizeof(err)), -1);
}

static void
test_owners(void)
{
	conf_init();
	CHECK(hesiod_owner_ours(&C, "alice.filsys.ns.example.org."));
	CHECK(hesiod_owner_ours(&C, "ALICE.Filsys.NS.example.ORG."));
	CHECK(hesiod_owner_ours(&C, "5001.uid.ns.example.org"));
	CHECK(hesiod_owner_ours(&C, "x.url.ns.example.org."));
	CHECK(!hesiod_owner_ours(&C, "filsys.ns.example.org."));
	CHECK(!hesiod_owner_ours(&C, "a.b.filsys.ns.example.org."));
	CHECK(!hesiod_owner_ours(&C, "a.mail.ns.example.org."));
	CHECK(!hesiod_owner_ours(&C, "a.filsys.ns.example.org.evil."));
	CHECK(!hesiod_owner_ours(&C, "a.filsys.xns.example.org."));
	CHECK(!hesiod_owner_ours(&C, "example.org."));
	CHECK(!hesiod_owner_ours(&C, ".filsys.ns.example.org."));
	CHECK(!hesiod_owner_ours(&C, ""));
}

static void
test_locker_update(void)
{
	ldns_rr_list	*up;
	char		 err[256];
	size_t		 i;

	conf_init();
	up = hesiod_locker_update(&C, &alice, 0, err, sizeof(err));
	CHECK(up != NULL);
	CHECK_INT(ldns_rr_list_rr_count(up), 12);
	for (i = 0; up != NULL && i < 12; i += 2) {
		/* Each owner deleted whole, then given its record. */
		CHECK_INT(ldns_rr_get_class(ldns_rr_list_rr(up, i)), LDNS_RR_CLASS_ANY);
		CHECK_INT(ldns_rr_get_type(ldns_rr_list_rr(up, i)), LDNS_RR_TYPE_ANY);
		CHECK_INT(ldns_rr_get_class(ldns_rr_list_rr(up, i + 1)), LDNS_RR_CLASS_IN);
		CHECK_INT(ldns_rr_ttl(ldns_rr_list_rr(up, i + 1)), HESIOD_TTL);
	}
	ldns_rr_list_deep_free(up);
	up = hesiod_locker_update(&C, &alice, 1, err, sizeof(err));
	CHECK(up != NULL);
	CHECK_INT(ldns_rr_list_rr_count(up), 6);
	ldns_rr_list_deep_free(up);
}

static ldns_rr *
rr_of(const char *text)
{
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, text, 300, NULL, NULL) != LDNS_STATUS_OK)
		return NULL;
	return rr;
}

/* have's records as ldns would give them from a transfer. */
static void
have_add(struct hesiod_set *have, const char *text, int want)
{
	ldns_rr *rr = rr_of(text);

	CHECK(rr != NULL);
	if (rr != NULL)
		CHECK_INT(hesiod_set_add_rr(have, &C, rr), want);
	ldns_rr_free(rr);
}

struct seen {
	int	updates;
	size_t	rrs, deletes, adds;
};

static int
count(const ldns_rr_list *up, void *arg)
{
	struct seen	*s = arg;
	size_t		 i;

	s->updates++;
	for (i = 0; i < ldns_rr_list_rr_count(up); i++) {
		s->rrs++;
		if (ldns_rr_get_class(ldns_rr_list_rr(up, i)) == LDNS_RR_CLASS_ANY)
			s->deletes++;
		else
			s->adds++;
	}
	return 0;
}

static void
test_plan(void)
{
	struct hesiod_set	 have = { 0 }, want = { 0 };
	struct hesiod_locker	 bob = { "bob", 5002, 5002 };
	struct hesiod_rec	 r[HESIOD_RECS];
	struct seen		 s = { 0 };
	char			 err[256], text[1200];
	uint32_t		 sent;
	int			 i;

	conf_init();
	/* The zone: alice's records, her filsys changed since; a ghost; the
	 * zone's own records (not ours). */
	CHECK_INT(hesiod_records(&C, &alice, r, err, sizeof(err)), 0);
	for (i = 1; i < HESIOD_RECS; i++) {
		snprintf(text, sizeof(text), r[i].type == HESIOD_TXT ? "%s 300 IN TXT \"%s\"" :
		    "%s 300 IN CNAME %s", r[i].owner, r[i].data);
		have_add(&have, text, 1);
	}
	have_add(&have, "alice.filsys.ns.example.org. 300 IN TXT \"AFS /afs/old\"", 1);
	have_add(&have, "ghost.filsys.ns.example.org. 300 IN TXT \"NFS /x\"", 1);
	have_add(&have, "example.org. 300 IN NS ns.example.org.", 0);
	have_add(&have, "www.example.org. 300 IN A 192.0.2.1", 0);
	CHECK_INT(hesiod_set_add_locker(&want, &C, &alice, err, sizeof(err)), 0);
	CHECK_INT(hesiod_set_add_locker(&want, &C, &bob, err, sizeof(err)), 0);
	CHECK_INT(hesiod_plan(&have, &want, &sent, count, &s), 0);
	/* ghost deleted; alice's filsys deleted and written; bob's six written. */
	CHECK_INT(s.deletes, 2);
	CHECK_INT(s.adds, 7);
	CHECK_INT(sent, 9);
	CHECK_INT(s.updates, 1);
	hesiod_set_free(&have);
	hesiod_set_free(&want);

	/* The same sets: nothing to send. */
	memset(&s, 0, sizeof(s));
	CHECK_INT(hesiod_set_add_locker(&have, &C, &alice, err, sizeof(err)), 0);
	CHECK_INT(hesiod_set_add_locker(&want, &C, &alice, err, sizeof(err)), 0);
	CHECK_INT(hesiod_plan(&have, &want, &sent, count, &s), 0);
	CHECK_INT(s.rrs, 0);
	CHECK_INT(s.updates, 0);
	hesiod_set_free(&have);
	hesiod_set_free(&want);
}

/* Many lockers: UPDATEs of at most HESIOD_BATCH records each. */
static void
test_batches(void)
{
	struct hesiod_set	have = { 0 }, want = { 0 };
	struct hesiod_locker	l;
	struct seen		s = { 0 };
	char			err[256];
	uint32_t		sent;
	int			i;

	conf_init();
	for (i = 0; i < 300; i++) {
		snprintf(l.name, sizeof(l.name), "l%d", i);
		l.uid = l.gid = 10000 + (uint32_t)i;
		CHECK_INT(hesiod_set_add_locker(&want, &C, &l, err, sizeof(err)), 0);
	}
	CHECK_INT(hesiod_plan(&have, &want, &sent, count, &s), 0);
	CHECK_INT(s.adds, 1800);
	CHECK_INT(sent, 1800);
	CHECK_INT(s.updates, 3);
	hesiod_set_free(&have);
	hesiod_set_free(&want);
}

/* A passwd line longer than 255: two strings, joined again on the way in. */
static void
test_long_txt(void)
{
	struct hesiod_set	 have = { 0 }, want = { 0 };
	struct hesiod_locker	 l;
	ldns_rr_list		*up;
	struct seen		 s = { 0 };
	char			 err[256];
	uint32_t		 sent;
	size_t			 i;

	conf_init();
	memset(l.name, 'a', 63);
	l.name[63] = '\0';
	l.uid = l.gid = 4000000000u;
	snprintf(C.lockers, sizeof(C.lockers), "/%0200d", 0);
	up = hesiod_locker_update(&C, &l, 0, err, sizeof(err));
	CHECK(up != NULL);
	if (up == NULL)
		return;
	/* [3] is passwd's TXT: split in strings of at most 255. */
	CHECK(ldns_rr_rd_count(ldns_rr_list_rr(up, 3)) == 2);
	for (i = 0; i < ldns_rr_list_rr_count(up); i++)
		if (ldns_rr_get_class(ldns_rr_list_rr(up, i)) == LDNS_RR_CLASS_IN)
			CHECK_INT(hesiod_set_add_rr(&have, &C, ldns_rr_list_rr(up, i)), 1);
	CHECK_INT(hesiod_set_add_locker(&want, &C, &l, err, sizeof(err)), 0);
	CHECK_INT(hesiod_plan(&have, &want, &sent, count, &s), 0);
	CHECK_INT(s.rrs, 0);		/* what it sent is what it wants */
	ldns_rr_list_deep_free(up);
	hesiod_set_free(&have);
	hesiod_set_free(&want);
}

int
main(void)
{
	test_records();
	test_conf_check();
	test_owners();
	test_locker_update();
	test_plan();
	test_batches();
	test_long_txt();
	UNIT_DONE();
}
