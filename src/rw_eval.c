/*
 * rw_eval.c: a request through a merged set of rewrite rules and
 * redirects, with mod_rewrite's per-directory semantics.
 *
 * Matching is done in URL space: the path below the directory whose
 * .htaccess is applied (dir_url) is what a rule's pattern sees, a relative
 * substitution goes back under RewriteBase or, without one, under
 * dir_url.  Apache uses the directory's filesystem path there and, with
 * no RewriteBase, ends up with DocumentRoot-relative guesses; lockerd's
 * lockers live under /~name/ as often as on their own host, so the URL
 * the directory was reached by is the only base that is always right.
 *
 * Whatever the rules say, an internal redirect stays inside the locker:
 * its path, dot segments resolved, must be under root_url, or the answer
 * is 403 and a line in the locker's error log.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rewrite_int.h"

#define EXPAND_MAX	(64 * 1024)	/* a substitution longer than this: 500 */
#define NCAPS		10		/* $0-$9, %0-%9 */
/*
 * A pattern's budget: PCRE2 counts calls of its internal match(), so a
 * catastrophic pattern stops after this many steps (milliseconds), and
 * its backtracking memory stays under the heap limit (KiB).
 */
#define MATCH_LIMIT	200000
#define DEPTH_LIMIT	10000
#define HEAP_LIMIT_KIB	4096

struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 over;	/* grew past EXPAND_MAX */
};

struct caps {
	char		*subj;
	PCRE2_SIZE	 ov[NCAPS * 2];
	int		 n;	/* captures set, 0 for none */
};

struct state {
	struct rw_req	*r;
	struct caps	 rule, cond;
	unsigned	 flags;	/* of the rule being applied (B, BNP) */
	int		 error;	/* a limit was hit: 500 */
	char		*filename;	/* REQUEST_FILENAME once a rule substituted */
	char		 vary_this[256];	/* headers the condition being tested read */
	char		 vary[256];	/* and the rule's conditions that held */
};

/* ------------------------------------------------------------ helpers */

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	char *q;

	if (b->over || b->len + n + 1 > EXPAND_MAX) {
		b->over = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((q = realloc(b->p, b->cap)) == NULL)
			abort();
		b->p = q;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static char *
sb_take(struct sbuf *b)
{
	char *p = b->p != NULL ? b->p : strdup("");

	if (p == NULL)
		abort();
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static void
rlog(struct rw_req *r, const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];

	if (r->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->log(r->ctx, msg);
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xstrdup(s) : NULL;
}

/* ------------------------------------------------------------ matching */

static pcre2_match_context *
match_context(void)
{
	static pcre2_match_context *mc;

	if (mc == NULL) {
		if ((mc = pcre2_match_context_create(NULL)) == NULL)
			abort();
		pcre2_set_match_limit(mc, MATCH_LIMIT);
		pcre2_set_depth_limit(mc, DEPTH_LIMIT);
		pcre2_set_heap_limit(mc, HEAP_LIMIT_KIB);
	}
	return mc;
}

/* 1 if re matches subj (captures in c, if given), 0 if not or bounded. */
static int
rx_match(struct state *s, const pcre2_code *re, const char *subj, struct caps *c)
{
	static pcre2_match_data	*md;
	PCRE2_SIZE		*ov;
	int			 rc, i;

	/* One match block for every pattern: $0-$9 are all a rule can name,
	 * and a pattern with more groups still matches (rc 0: ovector full). */
	if (md == NULL && (md = pcre2_match_data_create(NCAPS, NULL)) == NULL)
		abort();
	rc = pcre2_match(re, (PCRE2_SPTR)subj, strlen(subj), 0, 0, md, match_context());
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT) {
		rlog(s->r, "rewrite: a pattern gave up on '%.100s' (PCRE2's limits): no match",
		    subj);
		s->r->uncacheable = 1;	/* that is not a property of the path alone */
	}
	if (rc == 0)
		rc = NCAPS;
	if (rc > 0 && c != NULL) {
		free(c->subj);
		c->subj = xstrdup(subj);
		ov = pcre2_get_ovector_pointer(md);
		c->n = rc > NCAPS ? NCAPS : rc;
		for (i = 0; i < NCAPS * 2; i++)
			c->ov[i] = i < c->n * 2 ? ov[i] : PCRE2_UNSET;
	}
	return rc > 0;
}

/* Unknown names are empty, as in Apache. */
static void
add_var(struct state *s, struct sbuf *b, const char *name)
{
	char		 buf[4096];
	const char	*v;

	/* Apache's per-directory REQUEST_FILENAME is the file name so far:
	 * after a substitution, the substitution's, as it stands. */
	if (s->filename != NULL && (strcmp(name, "REQUEST_FILENAME") == 0 ||
	    strcmp(name, "SCRIPT_FILENAME") == 0))
		v = s->filename;
	else if ((v = rw_path_var(s->r, name, buf, sizeof(buf))) == NULL) {
		/* Anything else can differ between two requests for one path. */
		s->r->uncacheable = 1;
		v = rw_other_var(s->r, name, buf, sizeof(buf));
	}
	if (v != NULL) {
		sb_str(b, v);
		/* Apache's: a header that was there counts for Vary. */
		if (rw_vary_header(name, buf, sizeof(buf)) != NULL)
			rw_vary_add(s->vary_this, sizeof(s->vary_this), buf);
	}
}

/* ------------------------------------------------------------ expansion */

/* [B]: a back-reference goes into the URL escaped. */
static void
add_escaped(struct sbuf *b, const char *p, size_t n, int plus)
{
	static const char hex[] = "0123456789abcdef";	/* Apache's c2x() is lower case */
	char	 e[3];
	size_t	 i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (isalnum(ch) || ch == '_')	/* Apache's escape_backref() keeps these */
			sb_add(b, p + i, 1);
		else if (ch == ' ' && plus)
			sb_add(b, "+", 1);
		else {
			e[0] = '%';
			e[1] = hex[ch >> 4];
			e[2] = hex[ch & 15];
			sb_add(b, e, 3);
		}
	}
}

static void
add_capture(struct state *s, struct sbuf *b, const struct caps *c, int i)
{
	size_t	start, end;

	if (i >= c->n || c->ov[2 * i] == PCRE2_UNSET)
		return;
	start = c->ov[2 * i];
	end = c->ov[2 * i + 1];
	if (end < start)	/* \K can do that */
		return;
	if (c == &s->rule && (s->flags & RF_B))
		add_escaped(b, c->subj + start, end - start, !(s->flags & RF_BNP));
	else
		sb_add(b, c->subj + start, end - start);
}

static char *
expand(struct state *s, const char *t)
{
	struct sbuf	 b = { 0 };
	const char	*end;
	char		 name[128];

	while (*t != '\0') {
		if (*t == '\\' && t[1] != '\0') {
			sb_add(&b, t + 1, 1);
			t += 2;
		} else if ((*t == '$' || *t == '%') && isdigit((unsigned char)t[1])) {
			add_capture(s, &b, *t == '$' ? &s->rule : &s->cond, t[1] - '0');
			t += 2;
		} else if (*t == '%' && t[1] == '{' && (end = strchr(t + 2, '}')) != NULL &&
		    (size_t)(end - t - 2) < sizeof(name)) {
			memcpy(name, t + 2, (size_t)(end - t - 2));
			name[end - t - 2] = '\0';
			add_var(s, &b, name);
			t = end + 1;
		} else
			sb_add(&b, t++, 1);
	}
	if (b.over) {
		rlog(s->r, "rewrite: a substitution grew past %d bytes", EXPAND_MAX);
		s->error = 1;
	}
	return sb_take(&b);
}

/* ------------------------------------------------------------ conditions */

static int
compare(const struct rw_cond *c, const char *v)
{
	long long	a, b;
	int		d;

	if (c->kind >= CK_EQ) {
		a = strtoll(v, NULL, 10);
		b = strtoll(c->arg, NULL, 10);
		return c->kind == CK_EQ ? a == b : c->kind == CK_NE ? a != b :
		    c->kind == CK_LT ? a < b : c->kind == CK_LE ? a <= b :
		    c->kind == CK_GT ? a > b : a >= b;
	}
	d = c->nocase ? strcasecmp(v, c->arg) : strcmp(v, c->arg);
	return c->kind == CK_STREQ ? d == 0 : c->kind == CK_STRLT ? d < 0 :
	    c->kind == CK_STRGT ? d > 0 : c->kind == CK_STRLE ? d <= 0 : d >= 0;
}

static int
cond_true(struct state *s, const struct rw_cond *c)
{
	struct caps	 got = { 0 };
	char		*v = expand(s, c->test);
	int		 rc;

	if (c->kind == CK_REGEX) {
		rc = rx_match(s, c->re, v, &got);
		/* %N: from the last condition that matched, not a negated one. */
		if (rc && !c->neg) {
			free(s->cond.subj);
			s->cond = got;
			got.subj = NULL;
		}
		free(got.subj);
	} else if (c->kind >= CK_FILE && c->kind <= CK_EXEC)
		rc = rw_file_test(s->r, c->kind, v);
	else
		rc = compare(c, v);
	free(v);
	return c->neg ? !rc : rc;
}

/* Apache's order: [OR] chains a condition to the next; the headers each
 * condition that held read go to Vary if the rule applies. */
static int
conds_true(struct state *s, const struct rw_rule *u)
{
	size_t i;

	for (i = 0; i < u->nconds; i++) {
		int rc;

		s->vary_this[0] = '\0';
		rc = cond_true(s, &u->conds[i]);
		if (u->conds[i].novary)
			s->vary_this[0] = '\0';
		if (u->conds[i].ornext) {
			if (!rc)
				continue;	/* what a false [OR] read does not count */
			while (i < u->nconds && u->conds[i].ornext)
				i++;
		} else if (!rc)
			return 0;
		rw_vary_merge(s->vary, sizeof(s->vary), s->vary_this);
	}
	return 1;
}

/* ------------------------------------------------------------ env */

const char *
rw_env_get(const struct rw_req *r, const char *name)
{
	size_t i;

	if (r->getenv != NULL)
		return r->getenv(r->ctx, name);
	for (i = 0; i < r->nenv; i++)
		if (strcmp(r->env[i].name, name) == 0)
			return r->env[i].value;
	return NULL;
}

static void
env_set(struct rw_req *r, const char *name, const char *value)
{
	struct rw_env	*e;
	size_t		 i;

	if (r->setenv != NULL) {
		r->setenv(r->ctx, name, value);
		return;
	}
	for (i = 0; i < r->nenv; i++)
		if (strcmp(r->env[i].name, name) == 0)
			break;
	if (value == NULL) {
		if (i < r->nenv) {
			free(r->env[i].name);
			free(r->env[i].value);
			r->env[i] = r->env[--r->nenv];
		}
		return;
	}
	if (i == r->nenv) {
		if ((e = reallocarray(r->env, r->nenv + 1, sizeof(*e))) == NULL)
			abort();
		r->env = e;
		r->env[r->nenv].name = xstrdup(name);
		r->env[r->nenv++].value = NULL;
	}
	set_str(&r->env[i].value, value);
}

/* E=VAR:VALUE (expanded) or E=!VAR. */
static void
apply_env(struct state *s, const struct rw_rule *u)
{
	size_t	 i;
	char	*x, *colon;

	for (i = 0; i < u->nenv; i++) {
		x = expand(s, u->env[i]);
		if (x[0] == '!')
			env_set(s->r, x + 1, NULL);
		else if ((colon = strchr(x, ':')) != NULL) {
			*colon = '\0';
			env_set(s->r, x, colon + 1);
		} else
			env_set(s->r, x, "");
		free(x);
	}
}

/* ------------------------------------------------------------ rules */

struct run {
	char	*cur;		/* the URL path so far, or an absolute URL */
	char	*query;
	int	 changed;
	int	 redirect;	/* R='s code */
	int	 status;	/* F, G */
	int	 noescape;
	int	 substituted;	/* cur is a substitution's, no longer the request's */
	int	 discard_pi;	/* [DPI] */
};

static int
is_url(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
		n++;
	if (n == 0 || !isalpha((unsigned char)s[0]) || s[n] != ':')
		return 0;
	return strncmp(s + n, "://", 3) == 0 || strncasecmp(s, "mailto:", 7) == 0;
}

static char *
join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s%s", a, b) == -1)
		abort();
	return p;
}

/*
 * What a rule matches: Apache's per-directory subject is the file name so
 * far with the PATH_INFO of the directory walk appended, so after a
 * substitution that copied it, it is there twice, unless [DPI] discarded
 * it (Apache's documented pitfall, kept).  Before any substitution the
 * request's path is both.
 */
static char *
subject(struct state *s, const struct run *run)
{
	char buf[PATH_MAX];

	if (!run->substituted || run->discard_pi || is_url(run->cur))
		return xstrdup(run->cur);
	return join(run->cur, rw_path_info(s->r, buf, sizeof(buf)));
}

/* The file a substituted URL path names (a URL names none, as in Apache). */
static char *
substituted_file(const struct rw_req *r, const char *cur)
{
	size_t	 n = strlen(r->root_url);
	char	*p;

	if (is_url(cur) || r->document_root == NULL || strncmp(cur, r->root_url, n) != 0)
		return xstrdup(cur);
	if (asprintf(&p, "%s%s%s", r->document_root, r->path_base != NULL ? r->path_base : "",
	    cur + n) == -1)
		abort();
	return p;
}

/* Apache's splitout_queryargs(): a '?' in the substitution. */
static void
split_query(struct run *u, char *news, unsigned flags)
{
	char *q = (flags & RF_QSL) ? strrchr(news, '?') : strchr(news, '?');
	char *nq;

	if (flags & RF_QSD)
		set_str(&u->query, NULL);
	if (q == NULL)
		return;
	*q++ = '\0';
	if ((flags & RF_QSA) && u->query != NULL) {
		if (asprintf(&nq, "%s%s%s", q, *q ? "&" : "", u->query) == -1)
			abort();
	} else
		nq = xstrdup(q);
	free(u->query);
	u->query = *nq != '\0' ? nq : (free(nq), NULL);
}

/* Where a rewritten path goes in URL space (see the top of this file). */
static char *
place(const struct rw_req *r, char *news)
{
	size_t	 n;
	char	*p;

	if (is_url(news))
		return news;
	if (news[0] != '/') {
		p = join(r->dir_url, news);
		free(news);
		return p;
	}
	/* %{DOCUMENT_ROOT}/w/index.php: a filesystem path under web_scripts. */
	n = r->document_root != NULL ? strlen(r->document_root) : 0;
	if (n > 1 && strncmp(news, r->document_root, n) == 0 &&
	    (news[n] == '/' || news[n] == '\0')) {
		p = join(r->root_url, news[n] ? news + n : "/");
		free(news);
		return p;
	}
	return news;
}

/* 1 if the rule matched and its conditions held (then it was applied). */
static int
apply_rule(struct state *s, const struct rw_rule *u, struct run *run)
{
	struct rw_req	*r = s->r;
	size_t		 dl = strlen(r->dir_url);
	const char	*subj;
	char		*news, *x, *whole;
	size_t		 i;
	int		 m, was;

	subj = whole = subject(s, run);
	if (strncmp(subj, r->dir_url, dl) == 0)
		subj += dl;
	s->rule.n = s->cond.n = 0;
	s->flags = u->flags;
	s->vary[0] = '\0';
	m = rx_match(s, u->re, subj, u->neg ? NULL : &s->rule);
	free(whole);
	if (u->neg ? m : !m)
		return 0;
	if (!conds_true(s, u))
		return 0;
	rw_vary_merge(r->vary, sizeof(r->vary), s->vary);
	/* What E= takes from the request goes to scripts' environments only,
	 * never into this decision: it leaves the answer cacheable. */
	was = r->uncacheable;
	apply_env(s, u);
	r->uncacheable = was;
	for (i = 0; i < u->ncookies; i++) {
		x = expand(s, u->cookies[i]);
		rw_add_cookie(r, x);
		free(x);
	}
	if (u->type != NULL)
		set_str(&r->content_type, u->type);
	if (u->handler != NULL)
		set_str(&r->handler, u->handler);
	if (u->flags & (RF_F | RF_G)) {
		run->status = (u->flags & RF_F) ? 403 : 410;
		return 1;
	}
	if (u->redirect >= 400) {
		run->status = u->redirect;
		return 1;
	}
	if (strcmp(u->subst, "-") != 0) {
		news = expand(s, u->subst);
		split_query(run, news, u->flags);
		free(run->cur);
		run->cur = place(r, news);
		run->changed = run->substituted = 1;
		if (u->flags & RF_DPI)
			run->discard_pi = 1;
		free(s->filename);
		s->filename = substituted_file(r, run->cur);
	} else if (u->flags & RF_QSD) {
		set_str(&run->query, NULL);
		run->changed = 1;
	}
	if (u->redirect) {
		run->redirect = u->redirect;
		run->changed = 1;
	}
	if (u->flags & RF_NE)
		run->noescape = 1;
	return 1;
}

/* Rules in order, with [C], [S], [N], [L] and [END]. */
static void
apply_rules(struct state *s, const struct rw_dir *d, struct run *run)
{
	size_t	i;
	int	passes = 0;

	for (i = 0; i < d->nrules && !s->error; i++) {
		const struct rw_rule *u = d->rules[i];

		if (!apply_rule(s, u, run)) {
			while (i < d->nrules && (d->rules[i]->flags & RF_CHAIN))
				i++;	/* a broken chain skips the rest of it */
			continue;
		}
		if (run->status || run->redirect)
			return;	/* [R] stops here: see the README's differences */
		if (u->flags & RF_END)
			s->r->ended = 1;
		if (u->flags & (RF_END | RF_LAST | RF_PT))
			return;
		if (u->flags & RF_NEXT) {
			/* Apache's count: the first pass is round 1, and reaching
			 * round N= is the error, so N=3 allows one restart. */
			if (++passes > (u->maxrounds ? u->maxrounds - 2 : RW_MAX_NEXT)) {
				rlog(s->r, "rewrite: [N] looped %d times", passes - 1);
				s->error = 1;
				return;
			}
			i = (size_t)-1;
			continue;
		}
		i += (size_t)u->skip;
	}
}

/* ------------------------------------------------------------ results */

/*
 * Into a Location: the path (and a query that rules changed) escaped as
 * Apache's ap_escape_uri() does unless [NE]; bytes that could end or bend
 * the header line (controls, spaces, non-ASCII) escaped even with [NE].
 */
static void
add_location_part(struct sbuf *b, const char *p, size_t n, int escape)
{
	static const char hex[] = "0123456789abcdef";	/* Apache's c2x() is lower case */
	char	e[3];
	size_t	i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch <= 0x20 || ch >= 0x7f ||
		    (escape && !isalnum(ch) && strchr("$-_.+!*'(),:@&=/~", ch) == NULL)) {
			e[0] = '%';
			e[1] = hex[ch >> 4];
			e[2] = hex[ch & 15];
			sb_add(b, e, 3);
		} else
			sb_add(b, p + i, 1);
	}
}

/* Where an absolute URL's path begins (its end if it has none). */
static const char *
url_path(const char *url)
{
	const char *h = strstr(url, "://");

	h = h != NULL ? h + 3 : url + strlen(url);
	return h + strcspn(h, "/");
}

static int
host_has_port(const char *host)
{
	const char *c = strrchr(host, ':');

	return c != NULL && (host[0] != '[' || c > strchr(host, ']'));
}

static char *
location(const struct rw_req *r, const char *target, const char *query, int escape_path,
    int escape_query)
{
	struct sbuf	 b = { 0 };
	const char	*path = target, *host;
	char		 port[16];

	if (is_url(target)) {
		path = url_path(target);
		add_location_part(&b, target, (size_t)(path - target), 0);
	} else {
		host = r->host != NULL && *r->host ? r->host : r->server_name;
		sb_str(&b, r->https ? "https://" : "http://");
		if (host != NULL)
			add_location_part(&b, host, strlen(host), 0);
		/* Apache's: a Host without a port gets the listener's, unless it
		 * is the scheme's own. */
		if (host != NULL && !host_has_port(host) && r->port != 0 &&
		    r->port != (r->https ? 443u : 80u)) {
			snprintf(port, sizeof(port), ":%u", r->port);
			sb_str(&b, port);
		}
	}
	add_location_part(&b, path, strlen(path), escape_path);
	if (query != NULL && *query != '\0') {
		sb_add(&b, "?", 1);
		add_location_part(&b, query, strlen(query), escape_query);
	}
	return sb_take(&b);
}

/* Resolve . and .. in place; -1 if .. would climb above "/". */
static int
remove_dots(char *p)
{
	char	*out = p, *in = p;

	while (*in != '\0') {
		if (in[0] == '/' && in[1] == '.' && (in[2] == '/' || in[2] == '\0')) {
			in += 2;
		} else if (in[0] == '/' && in[1] == '.' && in[2] == '.' &&
		    (in[3] == '/' || in[3] == '\0')) {
			if (out == p)
				return -1;
			while (out > p && *--out != '/')
				;
			in += 3;
		} else {
			*out++ = *in++;
			continue;
		}
		if (*in == '\0')
			*out++ = '/';	/* "/a/b/.." is the directory "/a/" */
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
	return 0;
}

static char *
apply_base(const struct rw_dir *d, const struct rw_req *r, const char *cur)
{
	size_t dl = strlen(r->dir_url), bl;

	if (d->base == NULL || strncmp(cur, r->dir_url, dl) != 0)
		return xstrdup(cur);
	bl = strlen(d->base);
	if (bl > 0 && d->base[bl - 1] == '/')
		return join(d->base, cur + dl);
	return join(d->base, cur + dl - 1);	/* dir_url ends in '/' */
}

static int
same_host(const struct rw_req *r, const char *url)
{
	const char	*h = strstr(url, "://");
	size_t		 n;

	if (h == NULL || r->host == NULL || *r->host == '\0')
		return 0;
	h += 3;
	n = strcspn(h, "/?#");
	return strlen(r->host) == n && strncasecmp(h, r->host, n) == 0 &&
	    strncasecmp(url, r->https ? "https:" : "http:", r->https ? 6 : 5) == 0;
}

static enum rw_result
status(struct rw_req *r, int code, char *loc)
{
	r->status = code;
	free(r->location);
	r->location = loc;
	return RW_STATUS;
}

/* p is the file the request's path named: the path itself, or the path
 * without what the walk makes PATH_INFO (Apache compares file names). */
static int
same_file(struct rw_req *r, const char *p)
{
	char	pi[PATH_MAX];
	size_t	n = strlen(p);

	if (strcmp(p, r->uri) == 0)
		return 1;
	if (strncmp(p, r->uri, n) != 0 || r->uri[n] != '/')
		return 0;
	return strcmp(r->uri + n, rw_path_info(r, pi, sizeof(pi))) == 0;
}

static enum rw_result
internal(const struct rw_dir *d, struct rw_req *r, struct run *run)
{
	char	*p = apply_base(d, r, run->cur);

	size_t	 n = strlen(r->root_url);

	if (remove_dots(p) == -1 || strncmp(p, r->root_url, n) != 0 ||
	    (p[n] != '/' && p[n] != '\0')) {
		rlog(r, "rewrite: %.200s is outside the locker: refused", p);
		free(p);
		return status(r, 403, NULL);
	}
	/* Apache's guard: a rule that gives back the file it got does
	 * nothing, whatever the query. */
	if (same_file(r, p)) {
		free(p);
		if ((run->query == NULL && (r->query == NULL || *r->query == '\0')) ||
		    (run->query != NULL && r->query != NULL && strcmp(run->query, r->query) == 0))
			return RW_NONE;
		/* Apache keeps the new query (and the PATH_INFO) and makes no
		 * second pass: served again, with no more rules. */
		p = xstrdup(r->uri);
		r->ended = 1;
	}
	if (++r->internal > RW_MAX_INTERNAL) {
		rlog(r, "rewrite: more than %d internal redirects (a loop?)", RW_MAX_INTERNAL);
		free(p);
		return status(r, 500, NULL);
	}
	free(r->new_uri);
	r->new_uri = p;
	set_str(&r->new_query, run->query);
	return RW_INTERNAL;
}

static enum rw_result
finish(const struct rw_dir *d, struct rw_req *r, struct run *run)
{
	char	*p, *loc;
	int	 esc = !run->noescape;
	int	 qesc = esc && !(r->query != NULL && run->query != NULL &&
		    strcmp(r->query, run->query) == 0);

	if (run->status)
		return status(r, run->status, NULL);
	if (!run->changed)
		return RW_NONE;
	if (is_url(run->cur) && !run->redirect && same_host(r, run->cur)) {
		p = xstrdup(*url_path(run->cur) ? url_path(run->cur) : "/");
		free(run->cur);
		run->cur = p;
	}
	if (is_url(run->cur))
		return status(r, run->redirect ? run->redirect : 302,
		    location(r, run->cur, run->query, esc, qesc));
	if (run->redirect) {
		p = apply_base(d, r, run->cur);
		loc = location(r, p, run->query, esc, qesc);
		free(p);
		r->uncacheable = 1;	/* the Location names the Host asked for */
		return status(r, run->redirect, loc);
	}
	return internal(d, r, run);
}

static void
state_clear(struct state *s)
{
	free(s->rule.subj);
	free(s->cond.subj);
	free(s->filename);
}

enum rw_result
rewrite_fixup(const struct rw_dir *d, struct rw_req *r)
{
	struct state	s = { .r = r };
	struct run	run = { 0 };
	enum rw_result	res;

	if (d == NULL || d->engine != 1 || d->nrules == 0 || r->ended)
		return RW_NONE;
	if (strncmp(r->uri, r->dir_url, strlen(r->dir_url)) != 0)
		return RW_NONE;	/* the directory without its slash: mod_dir's first */
	run.cur = xstrdup(r->uri);
	run.query = r->query != NULL && *r->query ? xstrdup(r->query) : NULL;
	apply_rules(&s, d, &run);
	res = s.error ? status(r, 500, NULL) : finish(d, r, &run);
	/* T= and H= are this request's: an internal redirect makes a new one
	 * (Apache loses them there too; they work with a "-" substitution). */
	if (res == RW_INTERNAL) {
		set_str(&r->content_type, NULL);
		set_str(&r->handler, NULL);
	}
	free(run.cur);
	free(run.query);
	state_clear(&s);
	return res;
}

/* ------------------------------------------------------------ mod_alias */

/* Redirect's URL-path matches whole segments: /old, /old/x, not /older. */
static const char *
prefix_rest(const char *uri, const char *path)
{
	size_t n = strlen(path);

	if (strncmp(uri, path, n) != 0)
		return NULL;
	if (uri[n] == '\0' || uri[n] == '/' || (n > 0 && path[n - 1] == '/'))
		return uri + n;
	return NULL;
}

static char *
redirect_target(struct state *s, const struct rw_redirect *x)
{
	struct sbuf	 b = { 0 };
	const char	*rest;

	if (x->re == NULL) {
		if ((rest = prefix_rest(s->r->uri, x->path)) == NULL)
			return NULL;
		if (x->url == NULL)
			return xstrdup("");
		sb_str(&b, x->url);
		add_location_part(&b, rest, strlen(rest), 1);
		return sb_take(&b);
	}
	s->rule.n = 0;
	s->flags = 0;
	if (!rx_match(s, x->re, s->r->uri, &s->rule))
		return NULL;
	if (x->url == NULL)
		return xstrdup("");
	/* RedirectMatch: $N only; a '%' is just a '%' there. */
	for (rest = x->url; *rest != '\0'; rest++) {
		if (*rest == '$' && isdigit((unsigned char)rest[1]))
			add_capture(s, &b, &s->rule, *++rest - '0');
		else if (*rest == '\\' && (rest[1] == '$' || rest[1] == '\\'))
			sb_add(&b, ++rest, 1);
		else
			sb_add(&b, rest, 1);
	}
	return b.over ? (free(b.p), NULL) : sb_take(&b);
}

enum rw_result
alias_fixup(const struct rw_dir *d, struct rw_req *r)
{
	struct state	 s = { .r = r };
	char		*t, *loc;
	size_t		 i;

	if (d == NULL)
		return RW_NONE;
	for (i = 0; i < d->nredirects; i++) {
		if ((t = redirect_target(&s, d->redirects[i])) == NULL)
			continue;
		state_clear(&s);
		if (d->redirects[i]->url == NULL) {	/* gone, or any non-3xx */
			free(t);
			return status(r, d->redirects[i]->code, NULL);
		}
		/* mod_alias passes the query on unless the target has its own. */
		loc = location(r, t, strchr(t, '?') == NULL ? r->query : NULL, 0, 0);
		if (t[0] == '/')
			r->uncacheable = 1;	/* the Location names the Host asked for */
		free(t);
		return status(r, d->redirects[i]->code, loc);
	}
	state_clear(&s);
	return RW_NONE;
}

void
rw_req_clear(struct rw_req *r)
{
	size_t i;

	for (i = 0; i < r->nenv; i++) {
		free(r->env[i].name);
		free(r->env[i].value);
	}
	free(r->env);
	r->env = NULL;
	r->nenv = 0;
	free(r->location);
	free(r->new_uri);
	free(r->new_query);
	free(r->content_type);
	free(r->handler);
	rw_cookies_clear(r);
	r->vary[0] = '\0';
	r->location = r->new_uri = r->new_query = r->content_type = r->handler = NULL;
	r->status = 0;
}
