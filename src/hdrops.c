/*
 * hdrops.c: a .htaccess's Header operations on the head front builds.
 *
 * mod_headers acts on every field of a response: those front writes (ETag,
 * Last-Modified, Accept-Ranges, Content-Type ...) and those a script
 * prints (X-Powered-By, Set-Cookie ...), which only front sees.  The
 * worker, which alone reads .htaccess files, decides which operations hold
 * for a request (env=, expr=) and applies them to its own fields; what is
 * left for front is a checked list (wire_hops_check()) of unset, edit and
 * edit* on a field name, which this file applies to the rest of the head
 * just before it is closed.  Front never parses a .htaccess: an edit's
 * pattern, which the worker compiled already, is compiled again here
 * under PCRE2's bounds (length, match and depth limits), and a value it
 * makes that is no valid field value is not used.  A worker is the
 * locker's and may be hostile: a head's edits together get a budget of
 * PCRE2 steps (auto-callouts counted), so that 64 runaway patterns on
 * every field cost front a bounded, small time, not a stall of every
 * locker's requests.
 *
 * The fields front keeps for itself (framing, Date, Server, HSTS) are
 * never named by an operation: the wire check refuses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lockerd.h"
#include "http.h"
#include "front.h"
#include "wire.h"

#define MAX_LINES	128		/* fields of a head (out[] holds 8192 bytes) */
#define MATCH_LIMIT	100000		/* PCRE2's: steps of one match */
#define DEPTH_LIMIT	1000
#define HEAD_BUDGET	200000		/* callouts for all of a head's edits */

static long	budget;			/* what is left of the head's */

/* Every step of every edit of a head: past its budget, the match fails. */
static int
count_step(pcre2_callout_block *cb, void *arg)
{
	(void)cb;
	(void)arg;
	return --budget > 0 ? 0 : PCRE2_ERROR_CALLOUT;
}

struct line {
	size_t	 off, len;		/* in c->out, without CRLF */
	size_t	 nlen;			/* of the name */
	int	 dead;
	char	*value;			/* an edit's new value, or NULL */
};

static pcre2_match_context *
match_context(void)
{
	static pcre2_match_context *mc;

	if (mc == NULL && (mc = pcre2_match_context_create(NULL)) != NULL) {
		pcre2_set_match_limit(mc, MATCH_LIMIT);
		pcre2_set_depth_limit(mc, DEPTH_LIMIT);
		pcre2_set_callout(mc, count_step, NULL);
	}
	return mc;
}

/* The head's field lines after the status line; their count, or -1. */
static int
split(const struct conn *c, struct line *l)
{
	const char	*p = c->out, *end = c->out + c->outlen, *eol, *colon;
	int		 n = 0;

	if ((eol = memmem(p, c->outlen, "\r\n", 2)) == NULL)
		return -1;
	for (p = eol + 2; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL || n == MAX_LINES ||
		    (colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			return -1;
		l[n].off = (size_t)(p - c->out);
		l[n].len = (size_t)(eol - p);
		l[n].nlen = (size_t)(colon - p);
		l[n].dead = 0;
		l[n].value = NULL;
		n++;
	}
	return n;
}

/* A field line's value, as it stands now, into buf. */
static const char *
value_of(const struct conn *c, const struct line *l, char *buf, size_t bufsz)
{
	const char	*v = c->out + l->off + l->nlen + 1;
	size_t		 n = l->len - l->nlen - 1;

	if (l->value != NULL)
		return l->value;
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	snprintf(buf, bufsz, "%.*s", (int)n, v);
	return buf;
}

static void
edit(const struct conn *c, struct line *l, pcre2_code *re, const struct wire_hop *h)
{
	pcre2_match_data	*md = pcre2_match_data_create_from_pattern(re, NULL);
	char			 in[sizeof(c->out)], out[sizeof(c->out)], *v;
	PCRE2_SIZE		 outlen = sizeof(out);
	int			 rc;

	if (md == NULL)
		return;
	if (budget <= 0) {
		pcre2_match_data_free(md);
		return;
	}
	rc = pcre2_substitute(re, (PCRE2_SPTR)value_of(c, l, in, sizeof(in)),
	    PCRE2_ZERO_TERMINATED, 0, h->op == WHOP_EDIT_ALL ? PCRE2_SUBSTITUTE_GLOBAL : 0, md,
	    match_context(), (PCRE2_SPTR)h->sub, PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)out,
	    &outlen);
	pcre2_match_data_free(md);
	if (rc <= 0 || !http_valid_field_value(out, outlen) || (v = strdup(out)) == NULL)
		return;
	free(l->value);
	l->value = v;
}

/* One operation on every live field of its name but the worker's own. */
static void
apply(const struct conn *c, struct line *l, int n, const struct wire_hop *h)
{
	pcre2_code	*re = NULL;
	size_t		 nl = strlen(h->name), off;
	int		 i, e;

	if (h->op != WHOP_UNSET && (re = pcre2_compile((PCRE2_SPTR)h->re, PCRE2_ZERO_TERMINATED,
	    PCRE2_NEVER_BACKSLASH_C | PCRE2_AUTO_CALLOUT, &e, &off, NULL)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (l[i].dead || l[i].nlen != nl || strncasecmp(c->out + l[i].off, h->name, nl) != 0)
			continue;
		if (l[i].off >= c->xhdr_at && l[i].off < c->xhdr_end)
			continue;
		if (h->op == WHOP_UNSET)
			l[i].dead = 1;
		else
			edit(c, &l[i], re, h);
	}
	pcre2_code_free(re);
}

/* The head again, from the lines; unchanged if it would not fit. */
static void
rebuild(struct conn *c, struct line *l, int n)
{
	char	out[sizeof(c->out)], buf[sizeof(c->out)];
	size_t	len = l[0].off;
	int	i, k;

	memcpy(out, c->out, len);
	for (i = 0; i < n; i++) {
		if (l[i].dead)
			continue;
		if (l[i].value == NULL) {
			if (l[i].len + 2 > sizeof(out) - len)
				return;
			memcpy(out + len, c->out + l[i].off, l[i].len);
			memcpy(out + len + l[i].len, "\r\n", 2);
			len += l[i].len + 2;
			continue;
		}
		k = snprintf(out + len, sizeof(out) - len, "%.*s: %s\r\n", (int)l[i].nlen,
		    c->out + l[i].off, value_of(c, &l[i], buf, sizeof(buf)));
		if (k < 0 || (size_t)k >= sizeof(out) - len)
			return;
		len += (size_t)k;
	}
	memcpy(c->out, out, len);
	c->outlen = len;
}

void
hdrops_apply(struct conn *c)
{
	static struct line	 l[MAX_LINES];
	const char		*ops = c->xhdr + c->xhdr_len;
	struct wire_hop		 h;
	size_t			 off = 0;
	int			 n, i;

	if (c->xhdr == NULL || c->out_full || (n = split(c, l)) <= 0)
		return;
	budget = HEAD_BUDGET;
	while (wire_hop_next(ops, c->hops_len, &off, &h) == 1)
		if (h.always || !c->own_page)
			apply(c, l, n, &h);
	rebuild(c, l, n);
	for (i = 0; i < n; i++)
		free(l[i].value);
}
