/*
 * htreq.c: the request as the .htaccess modules see it (struct ht_req),
 * PCRE2's limits for every regex of a .htaccess, and <If>'s expressions.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "htaccess.h"

/*
 * Limits on one match: enough for every rule applications ship, a few
 * milliseconds at most for a regex that would backtrack for hours.
 */
#define HT_MATCH_LIMIT		100000
#define HT_DEPTH_LIMIT		5000
#define HT_HEAP_LIMIT_KB	4096

void *
ht_match_context(void)
{
	static pcre2_match_context *mc;

	if (mc == NULL && (mc = pcre2_match_context_create(NULL)) != NULL) {
		pcre2_set_match_limit(mc, HT_MATCH_LIMIT);
		pcre2_set_depth_limit(mc, HT_DEPTH_LIMIT);
		pcre2_set_heap_limit(mc, HT_HEAP_LIMIT_KB);
	}
	return mc;
}

/* ------------------------------------------------------------ request */

/* The value of a "Name: value\n" line of blob, copied to a new string. */
static char *
line_value(const char *blob, size_t len, const char *name, char sep)
{
	size_t		 nl = strlen(name);
	const char	*p = blob, *end = blob + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == sep && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			return strndup(v, (size_t)(eol - v));
		}
		p = eol + 1;
	}
	return NULL;
}

/* What the request's lookups returned, freed with it. */
static const char *
keep(struct ht_req *r, char *s)
{
	char **k;

	if (s == NULL)
		return NULL;
	if ((k = reallocarray(r->kept, (size_t)r->nkept + 1, sizeof(*k))) == NULL) {
		free(s);
		return NULL;
	}
	r->kept = k;
	r->kept[r->nkept++] = s;
	return s;
}

const char *
ht_req_header(struct ht_req *r, const char *name)
{
	r->cacheable = 0;
	if (r->headers == NULL)
		return NULL;
	return keep(r, line_value(r->headers, r->headers_len, name, ':'));
}

const char *
ht_req_ssl(struct ht_req *r, const char *name)
{
	r->cacheable = 0;
	if (r->tls == NULL)
		return NULL;
	return keep(r, line_value(r->tls, r->tls_len, name, '='));
}

static struct ht_kv *
kv_find(struct ht_kv *kv, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].name, name) == 0)
			return &kv[i];
	return NULL;
}

const char *
ht_req_getenv(const struct ht_req *r, const char *name)
{
	struct ht_kv *e = kv_find((struct ht_kv *)r->env, r->nenv, name);

	return e != NULL ? e->value : NULL;
}

int
ht_req_setenv(struct ht_req *r, const char *name, const char *value)
{
	struct ht_kv	*e = kv_find(r->env, r->nenv, name);
	char		*v = strdup(value);

	if (v == NULL)
		return -1;
	if (e != NULL) {
		free(e->value);
		e->value = v;
		return 0;
	}
	if (r->nenv == HT_ENV_MAX || (r->env[r->nenv].name = strdup(name)) == NULL) {
		free(v);
		return -1;
	}
	r->env[r->nenv].value = v;
	r->env[r->nenv++].flag = 0;
	return 0;
}

void
ht_req_unsetenv(struct ht_req *r, const char *name)
{
	struct ht_kv *e = kv_find(r->env, r->nenv, name);

	if (e == NULL)
		return;
	free(e->name);
	free(e->value);
	*e = r->env[--r->nenv];
}

/* A field name is a token; a value has no control byte but tab. */
static int
field_ok(const char *name, const char *value)
{
	const char *s;

	if (*name == '\0' || strlen(name) > 128 || strlen(value) > 2048)
		return 0;
	for (s = name; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	for (s = value; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

int
ht_req_add_header(struct ht_req *r, const char *name, const char *value, int flag)
{
	if (r->nhdr == HT_HDR_MAX || !field_ok(name, value))
		return -1;
	if ((r->hdr[r->nhdr].name = strdup(name)) == NULL)
		return -1;
	if ((r->hdr[r->nhdr].value = strdup(value)) == NULL) {
		free(r->hdr[r->nhdr].name);
		return -1;
	}
	r->hdr[r->nhdr++].flag = flag;
	return 0;
}

int
ht_req_add_hop(struct ht_req *r, int op, int always, const char *name, const char *re,
    const char *sub)
{
	struct ht_hop *h = &r->hop[r->nhop];

	if (r->nhop == HT_HOP_MAX)
		return -1;
	h->op = op;
	h->always = always;
	h->name = strdup(name);
	h->re = strdup(re);
	h->sub = strdup(sub);
	if (h->name == NULL || h->re == NULL || h->sub == NULL) {
		free(h->name);
		free(h->re);
		free(h->sub);
		return -1;
	}
	r->nhop++;
	return 0;
}

static void
hops_free(struct ht_req *r)
{
	int i;

	for (i = 0; i < r->nhop; i++) {
		free(r->hop[i].name);
		free(r->hop[i].re);
		free(r->hop[i].sub);
	}
}

int
ht_req_set(char **field, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

static void
kv_free(struct ht_kv *kv, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
}

void
ht_req_free(struct ht_req *r)
{
	kv_free(r->hdr, r->nhdr);
	kv_free(r->env, r->nenv);
	kv_free(r->php, r->nphp);
	while (r->nkept > 0)
		free(r->kept[--r->nkept]);
	free(r->kept);
	free(r->uri);
	free(r->query);
	free(r->path);
	free(r->dir);
	free(r->filename);
	free(r->location);
	free(r->content_type);
	free(r->handler);
	free(r->user);
	free(r->error_docs);
	hops_free(r);
	free(r->index);
	free(r->charset);
	ht_listing_free(r->listing);
	memset(r, 0, sizeof(*r));
}

void
ht_listing_free(struct ht_listing *l)
{
	int i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nignore; i++)
		free(l->ignore[i]);
	free(l->ignore);
	free(l);
}
