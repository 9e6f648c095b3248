/*
 * hesiod_sync.c: what the hesiod role sends.  A locker's change is one
 * UPDATE (its six owners deleted whole and given their records again: the
 * same message whether the records were there or not, so a retry is
 * harmless).  A full round compares the zone's records, as a transfer
 * gives them, with the lockers', and sends the difference: stale owners
 * (a removal missed while the server was down) deleted, wrong or missing
 * ones written.  What the transfer says is read as text through ldns, and
 * only at owners of ours (hesiod_owner_ours()); what it cannot say makes
 * an owner differ, and be written again.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "lockerd.h"
#include "hesiod.h"

struct hesiod_item {
	char		*owner;		/* lower case, absolute */
	char		*data;		/* TXT: its one string; CNAME: the target */
	uint16_t	 type;		/* LDNS_RR_TYPE_*; another type: data "" */
};

void
hesiod_set_free(struct hesiod_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].owner);
		free(s->v[i].data);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int
push(struct hesiod_set *s, const char *owner, uint16_t type, const char *data, size_t dlen)
{
	struct hesiod_item *it;

	if (s->n == s->cap) {
		size_t	cap = s->cap ? s->cap * 2 : 64;
		void	*v = realloc(s->v, cap * sizeof(*s->v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	it = &s->v[s->n];
	it->type = type;
	it->owner = strdup(owner);
	it->data = strndup(data, dlen);
	if (it->owner == NULL || it->data == NULL) {
		free(it->owner);
		free(it->data);
		return -1;
	}
	lower(it->owner);
	s->n++;
	return 0;
}

/* A TXT's character-strings joined, as libhesiod joins them; -1 if one is
 * malformed, holds a NUL, or the whole is longer than ours can be. */
static int
txt_join(const ldns_rr *rr, char *out, size_t outlen)
{
	size_t	i, n = 0;

	if (ldns_rr_rd_count(rr) == 0)
		return -1;
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf	*rd = ldns_rr_rdf(rr, i);
		size_t		 len;

		if (ldns_rdf_get_type(rd) != LDNS_RDF_TYPE_STR || ldns_rdf_size(rd) < 1 ||
		    (len = ldns_rdf_data(rd)[0]) != ldns_rdf_size(rd) - 1 || n + len >= outlen ||
		    memchr(ldns_rdf_data(rd) + 1, '\0', len) != NULL)
			return -1;
		memcpy(out + n, ldns_rdf_data(rd) + 1, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}

int
hesiod_set_add_rr(struct hesiod_set *s, const struct config *c, const ldns_rr *rr)
{
	char		*owner, *target = NULL, text[HESIOD_TXT_MAX + 1];
	const ldns_rdf	*rd = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : NULL;
	uint16_t	 type = (uint16_t)ldns_rr_get_type(rr);
	int		 rc = 0;

	if (ldns_rr_owner(rr) == NULL || (owner = ldns_rdf2str(ldns_rr_owner(rr))) == NULL)
		return -1;
	if (!hesiod_owner_ours(c, owner))
		goto out;
	rc = 1;
	if (type == LDNS_RR_TYPE_TXT && txt_join(rr, text, sizeof(text)) == 0) {
		if (push(s, owner, type, text, strlen(text)) == -1)
			rc = -1;
	} else if (type == LDNS_RR_TYPE_CNAME && rd != NULL &&
	    ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_DNAME &&
	    (target = ldns_rdf2str(rd)) != NULL) {
		lower(target);
		if (push(s, owner, type, target, strlen(target)) == -1)
			rc = -1;
	} else if (push(s, owner, type == LDNS_RR_TYPE_TXT || type == LDNS_RR_TYPE_CNAME ?
	    0 : type, "", 0) == -1)	/* not one we could have written: differs */
		rc = -1;
out:
	free(target);
	free(owner);
	return rc;
}

int
hesiod_set_add_locker(struct hesiod_set *s, const struct config *c,
    const struct hesiod_locker *l, char *err, size_t errlen)
{
	struct hesiod_rec	r[HESIOD_RECS];
	int			i;

	if (hesiod_records(c, l, r, err, errlen) == -1)
		return -1;
	for (i = 0; i < HESIOD_RECS; i++)
		if (push(s, r[i].owner, r[i].type == HESIOD_TXT ? LDNS_RR_TYPE_TXT :
		    LDNS_RR_TYPE_CNAME, r[i].data, strlen(r[i].data)) == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	return 0;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct hesiod_item	*x = a, *y = b;
	int				 d = strcmp(x->owner, y->owner);

	if (d == 0)
		d = (int)x->type - (int)y->type;
	return d != 0 ? d : strcmp(x->data, y->data);
}

/* ------------------------------------------------------------ records */

static ldns_rr *
rr_new(const char *owner, ldns_rr_type type, ldns_rr_class cls, uint32_t ttl)
{
	ldns_rr		*rr = ldns_rr_new();
	ldns_rdf	*o = ldns_dname_new_frm_str(owner);

	if (rr == NULL || o == NULL) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(o);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

/* RFC 2136 2.5.3: class ANY, type ANY, TTL 0, no rdata: every RRset at owner. */
static int
up_delete_name(ldns_rr_list *up, const char *owner)
{
	ldns_rr *rr = rr_new(owner, LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_ANY, 0);

	if (rr == NULL || !ldns_rr_list_push_rr(up, rr)) {
		ldns_rr_free(rr);
		return -1;
	}
	return 0;
}

/* The record as wire data: a TXT's one character-string, made here from
 * the bytes (no presentation format to escape), or a CNAME's target. */
static int
up_add(ldns_rr_list *up, const char *owner, uint16_t type, const char *data)
{
	uint8_t		 buf[HESIOD_STR_MAX + 1];
	size_t		 n = strlen(data), off = 0, k;
	ldns_rr		*rr;
	ldns_rdf	*rd;

	if ((type != LDNS_RR_TYPE_TXT && type != LDNS_RR_TYPE_CNAME) || n > HESIOD_TXT_MAX)
		return -1;
	if ((rr = rr_new(owner, type, LDNS_RR_CLASS_IN, HESIOD_TTL)) == NULL)
		return -1;
	do {
		if (type == LDNS_RR_TYPE_TXT) {
			k = n - off > HESIOD_STR_MAX ? HESIOD_STR_MAX : n - off;
			buf[0] = (uint8_t)k;
			memcpy(buf + 1, data + off, k);
			rd = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, k + 1, buf);
			off += k;
		} else {
			rd = ldns_dname_new_frm_str(data);
			off = n;
		}
		if (rd == NULL || !ldns_rr_push_rdf(rr, rd)) {
			ldns_rdf_deep_free(rd);
			ldns_rr_free(rr);
			return -1;
		}
	} while (off < n);
	if (!ldns_rr_list_push_rr(up, rr)) {
		ldns_rr_free(rr);
		return -1;
	}
	return 0;
}

ldns_rr_list *
hesiod_locker_update(const struct config *c, const struct hesiod_locker *l, int del,
    char *err, size_t errlen)
{
	struct hesiod_rec	 r[HESIOD_RECS];
	ldns_rr_list		*up;
	int			 i;

	if (hesiod_records(c, l, r, err, errlen) == -1)
		return NULL;
	if ((up = ldns_rr_list_new()) == NULL)
		goto fail;
	for (i = 0; i < HESIOD_RECS; i++)
		if (up_delete_name(up, r[i].owner) == -1 || (!del && up_add(up, r[i].owner,
		    r[i].type == HESIOD_TXT ? LDNS_RR_TYPE_TXT : LDNS_RR_TYPE_CNAME,
		    r[i].data) == -1))
			goto fail;
	return up;
fail:
	ldns_rr_list_deep_free(up);
	snprintf(err, errlen, "cannot build the update of locker %s", l->name);
	return NULL;
}

/* ------------------------------------------------------------ the plan */

/* The items of s from i on with the owner of s->v[i]: how many. */
static size_t
group(const struct hesiod_set *s, size_t i)
{
	size_t j = i;

	while (j < s->n && strcmp(s->v[j].owner, s->v[i].owner) == 0)
		j++;
	return j - i;
}

static int
same(const struct hesiod_set *a, size_t i, size_t na, const struct hesiod_set *b, size_t j,
    size_t nb)
{
	size_t k;

	if (na != nb)
		return 0;
	for (k = 0; k < na; k++)
		if (item_cmp(&a->v[i + k], &b->v[j + k]) != 0)
			return 0;
	return 1;
}

struct batch {
	ldns_rr_list	*up;
	uint32_t	*sent;
	int		(*emit)(const ldns_rr_list *, void *);
	void		*arg;
};

static int
flush(struct batch *b, size_t room)
{
	int rc = 0;

	if (ldns_rr_list_rr_count(b->up) == 0 ||
	    ldns_rr_list_rr_count(b->up) + room <= HESIOD_BATCH)
		return 0;
	rc = b->emit(b->up, b->arg);
	*b->sent += (uint32_t)ldns_rr_list_rr_count(b->up);
	ldns_rr_list_deep_free(b->up);
	b->up = ldns_rr_list_new();
	return b->up == NULL ? -1 : rc;
}

/* One owner: deleted whole (if the zone has it), then want's records. */
static int
owner_fix(struct batch *b, const char *owner, int had, const struct hesiod_set *want,
    size_t j, size_t nw)
{
	size_t k;

	if (flush(b, (size_t)(had != 0) + nw) == -1)
		return -1;
	if (had && up_delete_name(b->up, owner) == -1)
		return -1;
	for (k = 0; k < nw; k++)
		if (up_add(b->up, owner, want->v[j + k].type, want->v[j + k].data) == -1)
			return -1;
	return 0;
}

int
hesiod_plan(struct hesiod_set *have, struct hesiod_set *want, uint32_t *sent,
    int (*emit)(const ldns_rr_list *up, void *arg), void *arg)
{
	struct batch	b = { ldns_rr_list_new(), sent, emit, arg };
	size_t		i = 0, j = 0, nh, nw;
	int		d, rc = 0;

	*sent = 0;
	if (b.up == NULL)
		return -1;
	if (have->n > 0)	/* an empty set has no array: qsort wants one */
		qsort(have->v, have->n, sizeof(*have->v), item_cmp);
	if (want->n > 0)
		qsort(want->v, want->n, sizeof(*want->v), item_cmp);
	while (rc == 0 && (i < have->n || j < want->n)) {
		d = i == have->n ? 1 : j == want->n ? -1 :
		    strcmp(have->v[i].owner, want->v[j].owner);
		nh = d <= 0 ? group(have, i) : 0;
		nw = d >= 0 ? group(want, j) : 0;
		if (d < 0)
			rc = owner_fix(&b, have->v[i].owner, 1, want, j, 0);
		else if (d > 0)
			rc = owner_fix(&b, want->v[j].owner, 0, want, j, nw);
		else if (!same(have, i, nh, want, j, nw))
			rc = owner_fix(&b, want->v[j].owner, 1, want, j, nw);
		i += nh;
		j += nw;
	}
	if (rc == 0)
		rc = flush(&b, HESIOD_BATCH + 1);
	ldns_rr_list_deep_free(b.up);
	return rc;
}
