/*
 * htdocs.c: the .htaccess directives that shape a response rather than
 * choose it: Header (mod_headers), ExpiresActive, ExpiresDefault and
 * ExpiresByType (mod_expires), and ErrorDocument (core), kept in d->docs
 * and run in the HT_PH_DOCS phase.
 *
 * Header's operations act, in file order, on the fields the .htaccess
 * phases give the response (r->hdr): "always" ones on the table sent with
 * every answer, the others on the one sent with a success, as Apache's
 * err_headers_out and headers_out.  What front itself writes (ETag,
 * Last-Modified ...) and what a script prints are not in that table:
 * unset, edit and set's removal of the others reach them as operations
 * front applies (r->hop, wire.h's struct wire_hop), decided here (env=,
 * expr=) and applied there without a .htaccess being read.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "access.h"
#include "htdocs.h"

enum hop { H_SET, H_APPEND, H_ADD, H_MERGE, H_UNSET, H_EDIT, H_EDIT_ALL, H_SETIFEMPTY, H_ECHO };

struct hdr_op {
	enum hop	 op;
	int		 always;
	char		*name;
	char		*value;		/* set/append/add/merge/setifempty; edit's replacement */
	pcre2_code	*re;		/* edit's pattern, echo's */
	char		*pattern;	/* edit's, as written: front compiles it again */
	char		*env;		/* env=[!]VAR */
	int		 env_not;
	struct ht_expr	*expr;		/* expr=... */
};

#define MAX_OPS		64
#define MAX_TYPES	64
#define MAX_ERRDOCS	16

struct expires_rule {
	char	*type;		/* "text/css", or NULL for ExpiresDefault */
	int	 base;		/* 'A' (access) or 'M' (modification) */
	long	 seconds;
};

struct errdoc_rule {
	int		 status;
	char		*doc;		/* a text keeps a leading '"' */
	struct ht_expr	*expr;		/* the document, when it has %{VAR}s */
};

struct ht_docs {
	struct hdr_op		 ops[MAX_OPS];
	int			 nops;
	int			 active;	/* ExpiresActive: -1 unset */
	struct expires_rule	 exp[MAX_TYPES];
	int			 nexp;
	struct errdoc_rule	 err[MAX_ERRDOCS];
	int			 nerr;
	/* a merged part: ops and rules point into the parents' (not freed) */
	int			 merged;
};

const char *(*htdocs_type_fn)(const char *path);

/* ------------------------------------------------------------ parts */

static struct ht_docs *
part(struct ht_dir *d)
{
	if (d->docs == NULL && (d->docs = calloc(1, sizeof(*d->docs))) != NULL)
		d->docs->active = -1;
	return d->docs;
}

void
htdocs_free(void *v)
{
	struct ht_docs	*d = v;
	int		 i;

	if (d == NULL)
		return;
	if (!d->merged) {
		for (i = 0; i < d->nops; i++) {
			free(d->ops[i].name);
			free(d->ops[i].value);
			free(d->ops[i].env);
			free(d->ops[i].pattern);
			pcre2_code_free(d->ops[i].re);
			if (d->ops[i].expr != NULL)
				ht_expr_free(d->ops[i].expr);
		}
		for (i = 0; i < d->nexp; i++)
			free(d->exp[i].type);
		for (i = 0; i < d->nerr; i++) {
			free(d->err[i].doc);
			if (d->err[i].expr != NULL)
				ht_expr_free(d->err[i].expr);
		}
	}
	free(d);
}

/* ------------------------------------------------------------ Header */

static pcre2_code *
compile(struct ht_parse *p, const char *re)
{
	pcre2_code	*c;
	PCRE2_SIZE	 off;
	int		 e;
	char		 msg[128];

	if ((c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &e, &off, NULL)) == NULL) {
		pcre2_get_error_message(e, (PCRE2_UCHAR *)msg, sizeof(msg));
		ht_error(p, "Header: regex '%s': %s", re, msg);
	}
	return c;
}

static int
header_op(const char *w, enum hop *op)
{
	static const struct { const char *name; enum hop op; } t[] = {
		{ "set", H_SET }, { "append", H_APPEND }, { "add", H_ADD }, { "merge", H_MERGE },
		{ "unset", H_UNSET }, { "edit", H_EDIT }, { "edit*", H_EDIT_ALL },
		{ "setifempty", H_SETIFEMPTY }, { "echo", H_ECHO },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(w, t[i].name) == 0) {
			*op = t[i].op;
			return 0;
		}
	return -1;
}

/* The optional last word: early (ignored here), env=[!]VAR or expr=... */
static int
header_cond(struct ht_parse *p, struct hdr_op *o, const char *w)
{
	if (strcasecmp(w, "early") == 0)
		return 0;
	if (strncasecmp(w, "env=", 4) == 0) {
		o->env_not = w[4] == '!';
		if ((o->env = strdup(w + 4 + o->env_not)) == NULL)
			return ht_error(p, "out of memory");
		return 0;
	}
	if (strncasecmp(w, "expr=", 5) == 0)
		return (o->expr = ht_expr_parse(p, w + 5)) == NULL ? -1 : 0;
	return ht_error(p, "Header: '%s' is not early, env= or expr=", w);
}

int
htdocs_header(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_docs	*x;
	struct hdr_op	*o;
	int		 i = 0, want;

	if ((x = part(d)) == NULL)
		return ht_error(p, "out of memory");
	if (x->nops == MAX_OPS)
		return ht_error(p, "more than %d Header directives", MAX_OPS);
	o = &x->ops[x->nops];
	memset(o, 0, sizeof(*o));
	if (argc > 0 && (strcasecmp(argv[0], "always") == 0 || strcasecmp(argv[0], "onsuccess") == 0))
		o->always = strcasecmp(argv[i++], "always") == 0;
	if (i >= argc || header_op(argv[i], &o->op) == -1)
		return ht_error(p, "Header: the first argument must be set, append, add, merge, "
		    "unset, edit, edit*, setifempty or echo");
	i++;
	/* unset NAME, echo REGEX; set NAME VALUE; edit NAME REGEX REPLACEMENT; then a condition */
	want = o->op == H_UNSET || o->op == H_ECHO ? 1 : o->op == H_EDIT || o->op == H_EDIT_ALL ? 3 : 2;
	if (argc - i < want || argc - i > want + 1)
		return ht_error(p, "Header %s takes %d argument%s and an optional condition",
		    argv[i - 1], want, want > 1 ? "s" : "");
	x->nops++;
	if (o->op == H_ECHO)
		o->re = compile(p, argv[i]);
	else if ((o->name = strdup(argv[i])) == NULL)
		return ht_error(p, "out of memory");
	if (want == 3 && (o->pattern = strdup(argv[i + 1])) == NULL)
		return ht_error(p, "out of memory");
	if (want == 3)
		o->re = compile(p, argv[i + 1]);
	if ((o->op == H_ECHO || want == 3) && o->re == NULL)
		return -1;
	if (want >= 2 && (o->value = strdup(argv[i + want - 1])) == NULL)
		return ht_error(p, "out of memory");
	if (argc - i == want + 1)
		return header_cond(p, o, argv[argc - 1]);
	return 0;
}

/* ------------------------------------------------------------ Expires */

int
htdocs_expires_active(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_docs	*x;

	if (argc != 1 || (strcasecmp(argv[0], "on") != 0 && strcasecmp(argv[0], "off") != 0))
		return ht_error(p, "ExpiresActive takes On or Off");
	if ((x = part(d)) == NULL)
		return ht_error(p, "out of memory");
	x->active = strcasecmp(argv[0], "on") == 0;
	return 0;
}

static long
unit_seconds(const char *u)
{
	static const struct { const char *name; long s; } t[] = {
		{ "year", 31536000 }, { "month", 2592000 }, { "week", 604800 }, { "day", 86400 },
		{ "hour", 3600 }, { "minute", 60 }, { "second", 1 },
	};
	size_t	i, n = strlen(u);

	if (n > 1 && u[n - 1] == 's')
		n--;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].name) == n && strncasecmp(u, t[i].name, n) == 0)
			return t[i].s;
	return -1;
}

/*
 * "A600", "M3600", or "access plus 1 month 2 days" (also now, modification).
 * 0, or -1 after ht_error().
 */
static int
parse_expiry(struct ht_parse *p, const char *text, struct expires_rule *e)
{
	char	 buf[512], *w, *save, *end;
	long	 n, u;

	if ((text[0] == 'A' || text[0] == 'M') && text[1] >= '0' && text[1] <= '9') {
		e->base = text[0];
		e->seconds = strtol(text + 1, &end, 10);
		if (*end != '\0' || e->seconds < 0)
			return ht_error(p, "Expires: '%s' is not A or M and seconds", text);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	if ((w = strtok_r(buf, " \t", &save)) == NULL)
		return ht_error(p, "Expires: an empty time");
	if (strcasecmp(w, "access") == 0 || strcasecmp(w, "now") == 0)
		e->base = 'A';
	else if (strcasecmp(w, "modification") == 0)
		e->base = 'M';
	else
		return ht_error(p, "Expires: '%s' is not access, now or modification", w);
	if ((w = strtok_r(NULL, " \t", &save)) != NULL && strcasecmp(w, "plus") == 0)
		w = strtok_r(NULL, " \t", &save);
	e->seconds = 0;
	while (w != NULL) {
		n = strtol(w, &end, 10);
		if (*end != '\0' || n < 0 || (w = strtok_r(NULL, " \t", &save)) == NULL ||
		    (u = unit_seconds(w)) < 0 || n > 100L * 31536000 / u)
			return ht_error(p, "Expires: '%s' is not a number and a unit", text);
		e->seconds += n * u;
		w = strtok_r(NULL, " \t", &save);
	}
	return 0;
}

static int
add_rule(struct ht_parse *p, struct ht_dir *d, const char *type, const char *text)
{
	struct ht_docs		*x;
	struct expires_rule	 e = { 0 };

	if (parse_expiry(p, text, &e) == -1)
		return -1;
	if ((x = part(d)) == NULL)
		return ht_error(p, "out of memory");
	if (x->nexp == MAX_TYPES)
		return ht_error(p, "more than %d Expires rules", MAX_TYPES);
	if (type != NULL && (e.type = strdup(type)) == NULL)
		return ht_error(p, "out of memory");
	x->exp[x->nexp++] = e;
	return 0;
}

int
htdocs_expires_default(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	if (argc != 1)
		return ht_error(p, "ExpiresDefault takes one argument");
	return add_rule(p, d, NULL, argv[0]);
}

int
htdocs_expires_by_type(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	if (argc != 2 || strchr(argv[0], '/') == NULL)
		return ht_error(p, "ExpiresByType takes a type and a time");
	return add_rule(p, d, argv[0], argv[1]);
}

/* ------------------------------------------------------------ ErrorDocument */

/* Apache's ap_is_url(): a scheme, then ':'. */
static int
is_url(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	return n > 0 && s[n] == ':';
}

int
htdocs_error_document(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_docs	*x;
	char		*end;
	long		 st;

	if (argc != 2)
		return ht_error(p, "ErrorDocument takes a status and a document");
	st = strtol(argv[0], &end, 10);
	if (*end != '\0' || st < 400 || st > 599)
		return ht_error(p, "ErrorDocument: '%s' is not an error status", argv[0]);
	if ((x = part(d)) == NULL)
		return ht_error(p, "out of memory");
	if (x->nerr == MAX_ERRDOCS)
		return ht_error(p, "more than %d ErrorDocuments", MAX_ERRDOCS);
	/*
	 * Apache's reading: a text if it holds a space, else a local URL, a
	 * full one ("scheme:"), or a text again (kept with a leading quote to
	 * say so).  A full URL for a 401 is dropped, as Apache drops it: the
	 * client would never see the challenge.
	 */
	if (st == 401 && strchr(argv[1], ' ') == NULL && is_url(argv[1]))
		return 0;
	if (strcasecmp(argv[1], "default") != 0 && (strchr(argv[1], ' ') != NULL ||
	    (argv[1][0] != '/' && !is_url(argv[1])))) {
		if ((x->err[x->nerr].doc = malloc(strlen(argv[1]) + 2)) == NULL)
			return ht_error(p, "out of memory");
		x->err[x->nerr].doc[0] = '"';
		strcpy(x->err[x->nerr].doc + 1, argv[1]);
	} else if ((x->err[x->nerr].doc = strdup(argv[1])) == NULL)
		return ht_error(p, "out of memory");
	x->err[x->nerr].expr = NULL;
	x->err[x->nerr++].status = (int)st;
	/* Apache 2.4 reads the document as a string expression. */
	if (strstr(argv[1], "%{") != NULL &&
	    (x->err[x->nerr - 1].expr = ht_expr_parse_string(p, argv[1])) == NULL)
		return -1;
	return 0;
}

/* A document as it holds for r: its %{VAR}s evaluated, on one line. */
static const char *
doc_of(const struct errdoc_rule *e, struct ht_req *r, char *buf, size_t bufsz)
{
	char *p;

	if (e->expr == NULL)
		return e->doc;
	buf[0] = e->doc[0] == '"' ? '"' : '\0';
	ht_expr_string(e->expr, r, buf + (buf[0] == '"'), bufsz - 1);
	for (p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return buf;
}

int
htdocs_keep_errdocs(const struct ht_conf *c, struct ht_req *r)
{
	const struct ht_docs	*x = c->d.docs;
	char			*all = NULL, *more, buf[4096];
	int			 i, j, seen;

	free(r->error_docs);
	r->error_docs = NULL;
	for (i = x != NULL ? x->nerr - 1 : -1; i >= 0; i--) {
		for (seen = 0, j = x->nerr - 1; j > i && !seen; j--)
			seen = x->err[j].status == x->err[i].status;
		if (seen)
			continue;
		if (asprintf(&more, "%s%d %s\n", all ? all : "", x->err[i].status,
		    doc_of(&x->err[i], r, buf, sizeof(buf))) == -1) {
			free(all);
			return -1;
		}
		free(all);
		all = more;
	}
	r->error_docs = all;
	return 0;
}

const char *
htdocs_error_doc(const struct ht_conf *c, int status)
{
	const struct ht_docs	*x = c->d.docs;
	int			 i;

	if (x == NULL)
		return NULL;
	for (i = x->nerr - 1; i >= 0; i--)
		if (x->err[i].status == status)
			return strcasecmp(x->err[i].doc, "default") == 0 ? NULL : x->err[i].doc;
	return NULL;
}

/* ------------------------------------------------------------ merging */

/*
 * Header accumulates (the parent's, then the child's: Apache's
 * fixup-time order); Expires rules of the child come first, so they win;
 * ErrorDocuments are searched from the last, so the child's win.
 */
void *
htdocs_merge(const void *pv, const void *cv)
{
	const struct ht_docs	*a = pv, *b = cv;
	struct ht_docs		*m;
	int			 i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->merged = 1;
	for (i = 0; i < a->nops && m->nops < MAX_OPS; i++)
		m->ops[m->nops++] = a->ops[i];
	for (i = 0; i < b->nops && m->nops < MAX_OPS; i++)
		m->ops[m->nops++] = b->ops[i];
	m->active = b->active != -1 ? b->active : a->active;
	for (i = 0; i < b->nexp && m->nexp < MAX_TYPES; i++)
		m->exp[m->nexp++] = b->exp[i];
	for (i = 0; i < a->nexp && m->nexp < MAX_TYPES; i++)
		m->exp[m->nexp++] = a->exp[i];
	for (i = 0; i < a->nerr && m->nerr < MAX_ERRDOCS; i++)
		m->err[m->nerr++] = a->err[i];
	for (i = 0; i < b->nerr && m->nerr < MAX_ERRDOCS; i++)
		m->err[m->nerr++] = b->err[i];
	return m;
}

void
htdocs_merged_free(void *v)
{
	free(v);
}

/* ------------------------------------------------------------ the phase */

static int
cond_holds(const struct hdr_op *o, struct ht_req *r)
{
	int	set;

	if (o->env != NULL) {
		set = ht_req_getenv(r, o->env) != NULL;
		if (set == o->env_not)
			return 0;
	}
	return o->expr == NULL || ht_expr_eval(o->expr, r) == 1;
}

/* The first field of that name in the table (always or not) from i on, or -1. */
static int
find(const struct ht_req *r, const char *name, int always, int i)
{
	for (; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0 && !!(r->hdr[i].flag & HT_HDR_ALWAYS) == always)
			return i;
	return -1;
}

static void
drop(struct ht_req *r, int i)
{
	free(r->hdr[i].name);
	free(r->hdr[i].value);
	memmove(&r->hdr[i], &r->hdr[i + 1], sizeof(r->hdr[0]) * (size_t)(r->nhdr - i - 1));
	r->nhdr--;
}

static void
unset(struct ht_req *r, const char *name, int always)
{
	int	i;

	while ((i = find(r, name, always, 0)) != -1)
		drop(r, i);
}

/* Is tok one of the comma-separated members of list (merge's test)? */
static int
has_token(const char *list, const char *tok)
{
	size_t	n = strlen(tok), k;

	while (*list != '\0') {
		list += strspn(list, " \t,");
		k = strcspn(list, ",");
		while (k > 0 && (list[k - 1] == ' ' || list[k - 1] == '\t'))
			k--;
		if (k == n && strncasecmp(list, tok, n) == 0)
			return 1;
		list += strcspn(list, ",");
	}
	return 0;
}

/* Replace field i's value (through ht_req_add_header(), which checks it). */
static int
replace(struct ht_req *r, int i, const char *value)
{
	char	*name = strdup(r->hdr[i].name);
	int	 flag = r->hdr[i].flag, rc;

	if (name == NULL)
		return -1;
	drop(r, i);
	rc = ht_req_add_header(r, name, value, flag);
	free(name);
	return rc;
}

static int
join(struct ht_req *r, const struct hdr_op *o, int flag)
{
	char	*v;
	int	 i = find(r, o->name, o->always, 0), rc;

	if (i == -1)
		return ht_req_add_header(r, o->name, o->value, flag);
	if (o->op == H_MERGE && has_token(r->hdr[i].value, o->value))
		return 0;
	if (asprintf(&v, "%s, %s", r->hdr[i].value, o->value) == -1)
		return -1;
	rc = replace(r, i, v);
	free(v);
	return rc;
}

/* A field value of our making: no control byte but tab (front checks again). */
static int
value_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return 0;
	return 1;
}

/* Header edit / edit*: each field of the name, in place. */
static void
edit(struct ht_req *r, const struct hdr_op *o)
{
	char			 out[4096], *v;
	PCRE2_SIZE		 outlen;
	pcre2_match_data	*md;
	int			 i, rc;
	uint32_t		 opt = o->op == H_EDIT_ALL ? PCRE2_SUBSTITUTE_GLOBAL : 0;

	if ((md = pcre2_match_data_create_from_pattern(o->re, NULL)) == NULL)
		return;
	for (i = find(r, o->name, o->always, 0); i != -1; i = find(r, o->name, o->always, i + 1)) {
		outlen = sizeof(out);
		rc = pcre2_substitute(o->re, (PCRE2_SPTR)r->hdr[i].value, PCRE2_ZERO_TERMINATED, 0,
		    opt, md, ht_match_context(), (PCRE2_SPTR)o->value, PCRE2_ZERO_TERMINATED,
		    (PCRE2_UCHAR *)out, &outlen);
		if (rc <= 0 || !value_ok(out) || (v = strdup(out)) == NULL)
			continue;
		free(r->hdr[i].value);
		r->hdr[i].value = v;
	}
	pcre2_match_data_free(md);
}

/* Header echo: the request's fields whose names match, back on the response. */
static void
echo(struct ht_req *r, const struct hdr_op *o)
{
	pcre2_match_data	*md;
	const char		*s = r->headers, *end = s + r->headers_len, *nl, *colon;
	char			 name[256], value[4096];
	size_t			 n;

	if (s == NULL || (md = pcre2_match_data_create_from_pattern(o->re, NULL)) == NULL)
		return;
	r->cacheable = 0;
	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if ((colon = memchr(s, ':', (size_t)(nl - s))) == NULL ||
		    (n = (size_t)(colon - s)) >= sizeof(name))
			continue;
		memcpy(name, s, n);
		name[n] = '\0';
		for (colon++; colon < nl && (*colon == ' ' || *colon == '\t'); colon++)
			;
		snprintf(value, sizeof(value), "%.*s", (int)(nl - colon), colon);
		if (pcre2_match(o->re, (PCRE2_SPTR)name, n, 0, 0, md, ht_match_context()) >= 0)
			ht_req_add_header(r, name, value, o->always ? HT_HDR_ALWAYS : 0);
	}
	pcre2_match_data_free(md);
}

static void
header_run(const struct hdr_op *o, struct ht_req *r)
{
	int	flag = o->always ? HT_HDR_ALWAYS : 0;

	if ((o->env != NULL || o->expr != NULL))
		r->cacheable = 0;
	if (!cond_holds(o, r))
		return;
	switch (o->op) {
	case H_SET:
		unset(r, o->name, o->always);
		ht_req_add_header(r, o->name, o->value, flag);
		ht_req_add_hop(r, 'u', o->always, o->name, "", "");
		break;
	case H_SETIFEMPTY:
		if (find(r, o->name, o->always, 0) == -1)
			ht_req_add_header(r, o->name, o->value, flag);
		break;
	case H_ADD:
		ht_req_add_header(r, o->name, o->value, flag);
		break;
	case H_APPEND:
	case H_MERGE:
		join(r, o, flag);
		break;
	case H_UNSET:
		unset(r, o->name, o->always);
		ht_req_add_hop(r, 'u', o->always, o->name, "", "");
		break;
	case H_EDIT:
	case H_EDIT_ALL:
		edit(r, o);
		ht_req_add_hop(r, o->op == H_EDIT ? 'e' : 'E', o->always, o->name, o->pattern,
		    o->value);
		break;
	case H_ECHO:
		echo(r, o);
		break;
	}
}

/* The rule for a content type: its own (parameters aside), else the default. */
static const struct expires_rule *
expires_rule(const struct ht_docs *x, const char *type)
{
	size_t	n = type != NULL ? strcspn(type, "; \t") : 0;
	int	i;

	for (i = 0; type != NULL && i < x->nexp; i++)
		if (x->exp[i].type != NULL && strlen(x->exp[i].type) == n &&
		    strncasecmp(x->exp[i].type, type, n) == 0)
			return &x->exp[i];
	for (i = 0; i < x->nexp; i++)
		if (x->exp[i].type == NULL)
			return &x->exp[i];
	return NULL;
}

/* mod_expires: Expires and Cache-Control's max-age, on a success. */
static void
expires_run(const struct ht_docs *x, struct ht_req *r)
{
	const struct expires_rule	*e;
	const char			*type = r->content_type;
	struct stat			 st;
	struct tm			 tm;
	time_t				 now = time(NULL), base = now, at;
	char				 date[64], age[64];
	int				 i;

	if (x->active != 1)
		return;
	if (type == NULL && htdocs_type_fn != NULL && r->path != NULL)
		type = htdocs_type_fn(r->path);
	if ((e = expires_rule(x, type)) == NULL)
		return;
	if (e->base == 'M') {
		if (r->filename == NULL || stat(r->filename, &st) == -1)
			return;	/* no file, no modification time: Apache sets nothing either */
		base = st.st_mtime;
	}
	at = base + e->seconds;
	gmtime_r(&at, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(age, sizeof(age), "max-age=%lld", (long long)(at > now ? at - now : 0));
	unset(r, "Expires", 0);
	ht_req_add_header(r, "Expires", date, 0);
	if ((i = find(r, "Cache-Control", 0, 0)) == -1)
		ht_req_add_header(r, "Cache-Control", age, 0);
	else if (!has_token(r->hdr[i].value, age)) {
		char *v;

		if (asprintf(&v, "%s, %s", r->hdr[i].value, age) != -1) {
			replace(r, i, v);
			free(v);
		}
	}
}

int
htdocs_run(const struct ht_conf *c, struct ht_req *r)
{
	const struct ht_docs	*x = c->d.docs;
	int			 i;

	if (x == NULL)
		return 0;
	expires_run(x, r);
	for (i = 0; i < x->nops; i++)
		header_run(&x->ops[i], r);
	return 0;
}
