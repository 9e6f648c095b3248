/*
 * rewrite.c: mod_rewrite's and mod_alias's directives in a locker's
 * .htaccess files, parsed into rules with PCRE2, and their per-directory
 * evaluation (rw_eval.c has the request side).
 *
 * Everything here runs in the locker's worker, as the locker: the bytes
 * are the locker's own and a hostile file harms only its locker.  Regexes
 * run with PCRE2's match, depth and heap limits (rw_eval.c), so a pattern
 * that backtracks catastrophically costs a bounded time and is taken as
 * no match.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rewrite_int.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

static void *
xreallocarray(void *p, size_t n, size_t sz)
{
	void *q = reallocarray(p, n, sz);

	if (q == NULL && n != 0)
		abort();
	return q;
}

/* ------------------------------------------------------------ regexes */

static pcre2_code *
compile_re(const char *pat, int nocase, char *err, size_t errlen)
{
	pcre2_code	*re;
	PCRE2_UCHAR	 msg[160];
	PCRE2_SIZE	 off;
	int		 code;

	/* Apache's ap_regcomp(): $ matches at the very end only. */
	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_DOLLAR_ENDONLY | (nocase ? PCRE2_CASELESS : 0), &code, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		fail(err, errlen, "bad regular expression '%s' at offset %zu: %s", pat,
		    (size_t)off, (char *)msg);
	}
	return re;
}

/* ------------------------------------------------------------ objects */

static void
cond_free(struct rw_cond *c)
{
	free(c->test);
	free(c->arg);
	if (c->re != NULL)
		pcre2_code_free(c->re);
}

static void
rule_unref(struct rw_rule *u)
{
	size_t i;

	if (u == NULL || --u->refs > 0)
		return;
	for (i = 0; i < u->nconds; i++)
		cond_free(&u->conds[i]);
	free(u->conds);
	for (i = 0; i < u->nenv; i++)
		free(u->env[i]);
	free(u->env);
	for (i = 0; i < u->ncookies; i++)
		free(u->cookies[i]);
	free(u->cookies);
	if (u->re != NULL)
		pcre2_code_free(u->re);
	free(u->subst);
	free(u->type);
	free(u->handler);
	free(u);
}

static void
redir_unref(struct rw_redirect *x)
{
	if (x == NULL || --x->refs > 0)
		return;
	if (x->re != NULL)
		pcre2_code_free(x->re);
	free(x->path);
	free(x->url);
	free(x);
}

void
rw_dir_free(struct rw_dir *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nrules; i++)
		rule_unref(d->rules[i]);
	free(d->rules);
	for (i = 0; i < d->npending; i++)
		cond_free(&d->pending[i]);
	free(d->pending);
	for (i = 0; i < d->nredirects; i++)
		redir_unref(d->redirects[i]);
	free(d->redirects);
	free(d->base);
	free(d->dir);
	free(d);
}

static struct rw_dir *
dir_new(void)
{
	struct rw_dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		abort();
	d->engine = -1;
	return d;
}

/* ------------------------------------------------------------ flags */

/* "[L,R=301,NC]" into its parts: brackets required, as in Apache. */
static int
split_flags(const char *arg, char ***out, size_t *n, char *err, size_t errlen)
{
	size_t	 len = strlen(arg);
	char	*copy, *p, *tok, *save = NULL;

	*out = NULL;
	*n = 0;
	if (len < 2 || arg[0] != '[' || arg[len - 1] != ']')
		return fail(err, errlen, "flags '%s' must be in brackets, like [L,NC]", arg);
	copy = xstrdup(arg + 1);
	copy[len - 2] = '\0';
	for (p = copy; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		while (isspace((unsigned char)*tok))
			tok++;
		if (*tok == '\0')
			continue;
		*out = xreallocarray(*out, *n + 1, sizeof(char *));
		(*out)[(*n)++] = xstrdup(tok);
	}
	free(copy);
	return 0;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A flag's name (before '=') is one of the names given, in any case. */
static int
flag_is(const char *f, const char *a, const char *b)
{
	size_t n = strcspn(f, "=");

	return (strlen(a) == n && strncasecmp(f, a, n) == 0) ||
	    (b != NULL && strlen(b) == n && strncasecmp(f, b, n) == 0);
}

static const char *
flag_value(const char *f)
{
	const char *eq = strchr(f, '=');

	return eq == NULL ? NULL : eq + 1;
}

static int
cond_flags(struct rw_cond *c, const char *arg, char *err, size_t errlen)
{
	char	**v;
	size_t	  n, i;
	int	  rc = 0;

	if (split_flags(arg, &v, &n, err, errlen) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (flag_is(v[i], "NC", "nocase"))
			c->nocase = 1;
		else if (flag_is(v[i], "OR", "ornext"))
			c->ornext = 1;
		else if (flag_is(v[i], "NV", "novary"))
			c->novary = 1;
		else
			rc = fail(err, errlen, "unknown RewriteCond flag '%s'", v[i]);
	}
	free_strv(v, n);
	return rc;
}

static int
redirect_code(const char *v, int *code, char *err, size_t errlen)
{
	char *end;
	long  n;

	if (v == NULL || *v == '\0') {
		*code = 302;
		return 0;
	}
	if (strcasecmp(v, "permanent") == 0)
		n = 301;
	else if (strcasecmp(v, "temp") == 0)
		n = 302;
	else if (strcasecmp(v, "seeother") == 0)
		n = 303;
	else {
		n = strtol(v, &end, 10);
		if (*end != '\0')
			n = 0;
	}
	/* Apache's R= takes a 4xx or 5xx too: the substitution is dropped and
	 * that is the answer (nextcloud's [R=404,L]). */
	if (n < 300 || n > 599)
		return fail(err, errlen, "redirect status '%s' is not a status of 300 to 599", v);
	*code = (int)n;
	return 0;
}

static int
rule_flag_value(struct rw_rule *u, const char *f, char *err, size_t errlen)
{
	const char	*v = flag_value(f);
	char		*end;
	long		 n;

	if (flag_is(f, "R", "redirect"))
		return redirect_code(v, &u->redirect, err, errlen);
	if (!flag_is(f, "E", "env") && !flag_is(f, "T", "type") && !flag_is(f, "H", "handler") &&
	    !flag_is(f, "S", "skip") && !flag_is(f, "CO", "cookie") && !flag_is(f, "N", "next"))
		return fail(err, errlen, "unknown RewriteRule flag '%s'", f);
	if (v == NULL || *v == '\0')
		return fail(err, errlen, "RewriteRule flag '%s' needs a value", f);
	if (flag_is(f, "E", "env")) {
		if (*v == ':' || (*v == '!' && v[1] == '\0'))
			return fail(err, errlen, "E= needs VAR:VALUE or !VAR");
		u->env = xreallocarray(u->env, u->nenv + 1, sizeof(char *));
		u->env[u->nenv++] = xstrdup(v);
	} else if (flag_is(f, "N", "next")) {
		/* Apache 2.4.8's N=rounds; lockerd's own bound stays the ceiling. */
		n = strtol(v, &end, 10);
		if (*end != '\0' || n < 1)
			return fail(err, errlen, "N= needs a number of rounds, not '%s'", v);
		u->flags |= RF_NEXT;
		u->maxrounds = n > RW_MAX_NEXT ? RW_MAX_NEXT : (int)n;
	} else if (flag_is(f, "CO", "cookie")) {
		/* Checked when expanded: a line with fewer than three fields
		 * sets nothing, as in Apache. */
		u->cookies = xreallocarray(u->cookies, u->ncookies + 1, sizeof(char *));
		u->cookies[u->ncookies++] = xstrdup(v);
	} else if (flag_is(f, "T", "type")) {
		free(u->type);
		u->type = xstrdup(v);
	} else if (flag_is(f, "H", "handler")) {
		free(u->handler);
		u->handler = xstrdup(v);
	} else if (flag_is(f, "S", "skip")) {
		n = strtol(v, &end, 10);
		if (*end != '\0' || n < 0 || n > 1000)
			return fail(err, errlen, "S= needs a number of rules, not '%s'", v);
		u->skip = (int)n;
	} else
		return fail(err, errlen, "unknown RewriteRule flag '%s'", f);
	return 0;
}

static const struct {
	const char	*a, *b;
	unsigned	 bit;
} rule_bits[] = {
	{ "L", "last", RF_LAST },		{ "END", NULL, RF_END },
	{ "QSA", "qsappend", RF_QSA },		{ "QSD", "qsdiscard", RF_QSD },
	{ "QSL", "qslast", RF_QSL },		{ "NC", "nocase", RF_NC },
	{ "F", "forbidden", RF_F },		{ "G", "gone", RF_G },
	{ "NE", "noescape", RF_NE },		{ "PT", "passthrough", RF_PT },
	{ "C", "chain", RF_CHAIN },		{ "N", "next", RF_NEXT },
	{ "B", NULL, RF_B },			{ "BNP", "backrefnoplus", RF_BNP },
	{ "DPI", "discardpath", RF_DPI },	{ "NS", "nosubreq", RF_NS },
	/* Apache 2.4.60's opt-outs of its CVE-2024-38474/38475 checks, which
	 * its per-directory rules do not make (the differential corpus shows
	 * it): taken, meaning nothing here either. */
	{ "UnsafeAllow3F", NULL, 0 },		{ "UnsafePrefixStat", NULL, 0 },
};

static int
rule_flags(struct rw_rule *u, const char *arg, char *err, size_t errlen)
{
	char	**v;
	size_t	  n, i, k;
	int	  rc = 0;

	if (split_flags(arg, &v, &n, err, errlen) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		for (k = 0; k < sizeof(rule_bits) / sizeof(rule_bits[0]); k++)
			if (strchr(v[i], '=') == NULL &&
			    flag_is(v[i], rule_bits[k].a, rule_bits[k].b))
				break;
		if (k < sizeof(rule_bits) / sizeof(rule_bits[0]))
			u->flags |= rule_bits[k].bit;
		else if (flag_is(v[i], "P", "proxy"))
			rc = fail(err, errlen, "[P]: proxying is not offered here");
		else
			rc = rule_flag_value(u, v[i], err, errlen);
	}
	free_strv(v, n);
	return rc;
}

/* ------------------------------------------------------------ RewriteCond */

static const struct {
	const char	*op;
	enum cond_kind	 kind;
} cond_ops[] = {
	{ "-f", CK_FILE }, { "-F", CK_FILE }, { "-U", CK_FILE }, { "-d", CK_DIR },
	{ "-l", CK_LINK }, { "-L", CK_LINK }, { "-h", CK_LINK }, { "-s", CK_SIZE },
	{ "-x", CK_EXEC }, { "-eq", CK_EQ }, { "-ne", CK_NE }, { "-lt", CK_LT },
	{ "-le", CK_LE }, { "-gt", CK_GT }, { "-ge", CK_GE },
};

/* The forms that compare instead of matching: =str, <str, <=str, ... */
static int
cond_compare(struct rw_cond *c, const char *p)
{
	if (strncmp(p, "<=", 2) == 0 || strncmp(p, ">=", 2) == 0) {
		c->kind = p[0] == '<' ? CK_STRLE : CK_STRGE;
		c->arg = xstrdup(p + 2);
	} else if (*p == '=' || *p == '<' || *p == '>') {
		c->kind = *p == '=' ? CK_STREQ : *p == '<' ? CK_STRLT : CK_STRGT;
		c->arg = xstrdup(p + 1);
	} else
		return 0;
	return 1;
}

static int
cond_pattern(struct rw_cond *c, const char *pat, const char *operand, char *err, size_t errlen)
{
	size_t i;

	if (*pat == '!') {
		c->neg = 1;
		pat++;
	}
	for (i = 0; i < sizeof(cond_ops) / sizeof(cond_ops[0]); i++)
		if (strcmp(pat, cond_ops[i].op) == 0) {
			c->kind = cond_ops[i].kind;
			if (c->kind >= CK_EQ) {
				if (operand == NULL)
					return fail(err, errlen, "'%s' needs a number to compare with", pat);
				c->arg = xstrdup(operand);
				return 1;	/* the operand was taken */
			}
			return 0;
		}
	if (*pat == '-' && strlen(pat) <= 3 && isalpha((unsigned char)pat[1]))
		return fail(err, errlen, "RewriteCond test '%s' is not offered", pat);
	if (cond_compare(c, pat))
		return 0;
	c->kind = CK_REGEX;
	c->re = compile_re(pat, c->nocase, err, errlen);
	return c->re == NULL ? -1 : 0;
}

static int
parse_cond(struct rw_dir *d, int argc, char **argv, char *err, size_t errlen)
{
	struct rw_cond	 c;
	int		 took, nflags;

	if (argc < 2 || argc > 4)
		return fail(err, errlen, "RewriteCond takes TESTSTRING CONDPATTERN [flags]");
	memset(&c, 0, sizeof(c));
	/* The flags first: NC changes how the regex is compiled. */
	nflags = argc >= 3 && argv[argc - 1][0] == '[' ? 1 : 0;
	if (nflags && cond_flags(&c, argv[argc - 1], err, errlen) == -1)
		return -1;
	if ((took = cond_pattern(&c, argv[1], argc - nflags > 2 ? argv[2] : NULL, err,
	    errlen)) == -1) {
		cond_free(&c);
		return -1;
	}
	if (2 + took + nflags != argc) {
		cond_free(&c);
		return fail(err, errlen, "RewriteCond: unexpected '%s'", argv[2 + took]);
	}
	if (strstr(argv[0], "${") != NULL) {
		cond_free(&c);
		return fail(err, errlen, "RewriteMap lookups (${...}) are not offered");
	}
	c.test = xstrdup(argv[0]);
	d->pending = xreallocarray(d->pending, d->npending + 1, sizeof(c));
	d->pending[d->npending++] = c;
	return 0;
}

/* ------------------------------------------------------------ RewriteRule */

static int
parse_rule(struct rw_dir *d, int argc, char **argv, char *err, size_t errlen)
{
	struct rw_rule	*u;
	const char	*pat = argv[0];

	if (argc < 2 || argc > 3)
		return fail(err, errlen, "RewriteRule takes PATTERN SUBSTITUTION [flags]");
	if ((u = calloc(1, sizeof(*u))) == NULL)
		abort();
	u->refs = 1;
	if (argc == 3 && rule_flags(u, argv[2], err, errlen) == -1)
		goto bad;
	if (strstr(argv[1], "${") != NULL) {
		fail(err, errlen, "RewriteMap lookups (${...}) are not offered");
		goto bad;
	}
	if (*pat == '!') {
		u->neg = 1;
		pat++;
	}
	if ((u->re = compile_re(pat, u->flags & RF_NC, err, errlen)) == NULL)
		goto bad;
	u->subst = xstrdup(argv[1]);
	/* The conditions written since the last rule are this rule's. */
	u->conds = d->pending;
	u->nconds = d->npending;
	d->pending = NULL;
	d->npending = 0;
	d->rules = xreallocarray(d->rules, d->nrules + 1, sizeof(*d->rules));
	d->rules[d->nrules++] = u;
	return 0;
bad:
	rule_unref(u);
	return -1;
}

/* ------------------------------------------------------------ the rest */

static int
parse_engine(struct rw_dir *d, int argc, char **argv, char *err, size_t errlen)
{
	if (argc != 1 || (strcasecmp(argv[0], "on") != 0 && strcasecmp(argv[0], "off") != 0))
		return fail(err, errlen, "RewriteEngine takes on or off");
	d->engine = strcasecmp(argv[0], "on") == 0;
	return 0;
}

static int
parse_base(struct rw_dir *d, int argc, char **argv, char *err, size_t errlen)
{
	if (argc != 1 || argv[0][0] != '/')
		return fail(err, errlen, "RewriteBase takes one URL path starting with '/'");
	free(d->base);
	d->base = xstrdup(argv[0]);
	return 0;
}

static const struct {
	const char	*name;
	unsigned	 bit;
} rw_options[] = {
	{ "Inherit", OPT_INHERIT },		{ "InheritBefore", OPT_INHERIT_BEFORE },
	{ "InheritDown", OPT_INHERIT_DOWN },	{ "InheritDownBefore", OPT_INHERIT_DOWN_BEFORE },
	{ "IgnoreInherit", OPT_IGNORE_INHERIT }, { "MergeBase", OPT_MERGEBASE },
	/* Taken and without effect here: lockerd's paths are its own
	 * (LegacyPrefixDocRoot, IgnoreContextInfo), any URI is one
	 * (AllowAnyURI), and a directory's own rules never see it without
	 * its slash (AllowNoSlash; see the README's differences). */
	{ "AllowNoSlash", 0 },			{ "AllowAnyURI", 0 },
	{ "IgnoreContextInfo", 0 },		{ "LegacyPrefixDocRoot", 0 },
};

static int
parse_options(struct rw_dir *d, int argc, char **argv, char *err, size_t errlen)
{
	size_t	k;
	int	i;

	if (argc < 1)
		return fail(err, errlen, "RewriteOptions needs an option");
	for (i = 0; i < argc; i++) {
		for (k = 0; k < sizeof(rw_options) / sizeof(rw_options[0]); k++)
			if (strcasecmp(argv[i], rw_options[k].name) == 0)
				break;
		if (k < sizeof(rw_options) / sizeof(rw_options[0]))
			d->options |= rw_options[k].bit;
		else if (strncasecmp(argv[i], "MaxRedirects=", 13) != 0)	/* Apache ignores it */
			return fail(err, errlen, "unknown option '%s'", argv[i]);
	}
	d->options_set = 1;
	return 0;
}

/* Redirect's status: a keyword or any number; "permanent" etc. are 3xx. */
static int
alias_status(const char *v, int *code, char *err, size_t errlen)
{
	char *end;
	long  n;

	if (strcasecmp(v, "gone") == 0) {
		*code = 410;
		return 0;
	}
	if (!isdigit((unsigned char)*v))
		return redirect_code(v, code, err, errlen);
	n = strtol(v, &end, 10);
	/* A 1xx or 2xx from a redirect means nothing, and a 101 would lie
	 * about the connection: 3xx, 4xx and 5xx only. */
	if (*end != '\0' || n < 300 || n > 599)
		return fail(err, errlen, "redirect status '%s' is not a status of 300 to 599", v);
	*code = (int)n;
	return 0;
}

/*
 * Redirect [status] URL-path [URL], and its relatives.  As in Apache, a
 * 3xx takes a URL and any other status none.
 */
static int
parse_redirect(struct rw_dir *d, int code, int match, int argc, char **argv, char *err,
    size_t errlen)
{
	struct rw_redirect	*x;
	int			 i = 0, is3xx;

	/* Apache's test: a keyword or a number is a status, anything else the
	 * path or the regex. */
	if (code == 0 && argc >= 2 && (isdigit((unsigned char)argv[0][0]) ||
	    strcasecmp(argv[0], "permanent") == 0 || strcasecmp(argv[0], "temp") == 0 ||
	    strcasecmp(argv[0], "seeother") == 0 || strcasecmp(argv[0], "gone") == 0)) {
		if (alias_status(argv[0], &code, err, errlen) == -1)
			return -1;
		i = 1;
	}
	if (code == 0)
		code = 302;
	is3xx = code >= 300 && code <= 399;
	if (argc - i != (is3xx ? 2 : 1))
		return fail(err, errlen, is3xx ? "Redirect takes [status] URL-path URL" :
		    "a redirect with status %d takes no URL", code);
	if (is3xx && strchr(argv[i + 1], ':') == NULL && argv[i + 1][0] != '/')
		return fail(err, errlen, "redirect target '%s' is neither a URL nor a path",
		    argv[i + 1]);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		abort();
	x->refs = 1;
	x->code = code;
	if (match && (x->re = compile_re(argv[i], 0, err, errlen)) == NULL) {
		free(x);
		return -1;
	}
	x->path = xstrdup(argv[i]);
	x->url = is3xx ? xstrdup(argv[i + 1]) : NULL;
	d->redirects = xreallocarray(d->redirects, d->nredirects + 1, sizeof(x));
	d->redirects[d->nredirects++] = x;
	return 0;
}

static const char *const names[] = {
	"RewriteEngine", "RewriteBase", "RewriteOptions", "RewriteCond", "RewriteRule",
	"RewriteMap", "Redirect", "RedirectMatch", "RedirectPermanent", "RedirectTemp",
};

int
rw_is_directive(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	return 0;
}

int
rw_directive(struct rw_dir **dp, const char *name, int argc, char **argv, char *err,
    size_t errlen)
{
	int rc;

	if (!rw_is_directive(name))
		return 0;
	if (*dp == NULL)
		*dp = dir_new();
	if (strcasecmp(name, "RewriteEngine") == 0)
		rc = parse_engine(*dp, argc, argv, err, errlen);
	else if (strcasecmp(name, "RewriteBase") == 0)
		rc = parse_base(*dp, argc, argv, err, errlen);
	else if (strcasecmp(name, "RewriteOptions") == 0)
		rc = parse_options(*dp, argc, argv, err, errlen);
	else if (strcasecmp(name, "RewriteCond") == 0)
		rc = parse_cond(*dp, argc, argv, err, errlen);
	else if (strcasecmp(name, "RewriteRule") == 0)
		rc = parse_rule(*dp, argc, argv, err, errlen);
	else if (strcasecmp(name, "RewriteMap") == 0)
		rc = fail(err, errlen, "RewriteMap not allowed here");	/* Apache's words */
	else if (strcasecmp(name, "RedirectMatch") == 0)
		rc = parse_redirect(*dp, 0, 1, argc, argv, err, errlen);
	else if (strcasecmp(name, "RedirectPermanent") == 0)
		rc = parse_redirect(*dp, 301, 0, argc, argv, err, errlen);
	else if (strcasecmp(name, "RedirectTemp") == 0)
		rc = parse_redirect(*dp, 302, 0, argc, argv, err, errlen);
	else
		rc = parse_redirect(*dp, 0, 0, argc, argv, err, errlen);
	return rc == -1 ? -1 : 1;
}

/* ------------------------------------------------------------ merging */

static void
append_rules(struct rw_dir *m, const struct rw_dir *from)
{
	size_t i;

	if (from == NULL || from->nrules == 0)
		return;
	m->rules = xreallocarray(m->rules, m->nrules + from->nrules, sizeof(*m->rules));
	for (i = 0; i < from->nrules; i++) {
		from->rules[i]->refs++;
		m->rules[m->nrules++] = from->rules[i];
	}
}

static void
append_redirects(struct rw_dir *m, const struct rw_dir *from)
{
	size_t i;

	if (from == NULL || from->nredirects == 0)
		return;
	m->redirects = xreallocarray(m->redirects, m->nredirects + from->nredirects,
	    sizeof(*m->redirects));
	for (i = 0; i < from->nredirects; i++) {
		from->redirects[i]->refs++;
		m->redirects[m->nredirects++] = from->redirects[i];
	}
}

/* Apache's order: Inherit (or a parent's InheritDown) puts the parent's
 * rules after the child's, InheritBefore (InheritDownBefore) before;
 * IgnoreInherit refuses only what a parent pushes down. */
static void
append_merged_rules(struct rw_dir *m, const struct rw_dir *parent, const struct rw_dir *child)
{
	unsigned	pushed = parent != NULL && !(m->options & OPT_IGNORE_INHERIT) ?
			    parent->options : 0;

	if ((m->options & OPT_INHERIT) || (pushed & OPT_INHERIT_DOWN)) {
		append_rules(m, child);
		append_rules(m, parent);
	} else if ((m->options & OPT_INHERIT_BEFORE) || (pushed & OPT_INHERIT_DOWN_BEFORE)) {
		append_rules(m, parent);
		append_rules(m, child);
	} else
		append_rules(m, child);
}

struct rw_dir *
rw_merge(const struct rw_dir *parent, const struct rw_dir *child)
{
	struct rw_dir		*m = dir_new();
	const struct rw_dir	*opts;
	const char		*base = NULL;

	/* A file without rewrite lines keeps its parent's part as it is
	 * (Apache creates a module's part only for its directives). */
	if (child == NULL) {
		child = parent;
		parent = NULL;
	}
	m->engine = parent != NULL ? parent->engine : -1;
	if (child != NULL && child->engine != -1)
		m->engine = child->engine;
	/* Options hold downwards until a file says its own. */
	opts = child != NULL && child->options_set ? child : parent;
	if (opts != NULL) {
		m->options = opts->options;
		m->options_set = opts->options_set;
	}
	/* RewriteBase is the file's own: since Apache 2.4.4 a subdirectory
	 * gets its parent's only with RewriteOptions MergeBase. */
	if (child != NULL)
		base = child->base;
	if (base == NULL && parent != NULL && (m->options & OPT_MERGEBASE))
		base = parent->base;
	m->base = base != NULL ? xstrdup(base) : NULL;
	m->dir = child != NULL && child->dir != NULL ? xstrdup(child->dir) : NULL;
	append_merged_rules(m, parent, child);
	append_redirects(m, child);
	append_redirects(m, parent);
	return m;
}

void
rw_set_dir(struct rw_dir *d, const char *dir)
{
	if (d != NULL && d->dir == NULL)
		d->dir = xstrdup(dir);
}

const char *
rw_get_dir(const struct rw_dir *d)
{
	return d != NULL ? d->dir : NULL;
}
