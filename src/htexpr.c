/*
 * htexpr.c: <If>'s expressions, the part of Apache's ap_expr that .htaccess
 * files use: %{VAR}, 'strings' with %{VAR} in them, ==, !=, <, >, =~, !~
 * against /regex/ or m#regex#(i), -eq and the other integer tests, in
 * {...}, the file tests -f -d -s -l -e, -n, -z and -T, the client's
 * address tests -R and -ipmatch, the functions req(),
 * http(), env(), reqenv(), tolower(), toupper(), joined by !, && and ||
 * with parentheses.  Parsed once with the file, evaluated per request.
 */
#include <sys/stat.h>
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "access.h"
#include "htaccess.h"
#include "rewrite.h"

#define EXPR_MAX_DEPTH	32	/* nested ( and ! */
#define WORD_MAX	4096	/* bytes of a word's value */

enum part_kind { P_LIT, P_VAR, P_FUNC };
struct part {
	enum part_kind	 kind;
	char		*s;		/* the literal, or the variable's or function's name */
	struct word	*arg;		/* a function's */
};
struct word {
	struct part	*p;
	int		 n;
};

enum node_kind { N_TRUE, N_FALSE, N_NOT, N_AND, N_OR, N_UNARY, N_BINARY, N_IN };
struct ht_expr {
	enum node_kind	 kind;
	char		 op[12];
	struct ht_expr	*a, *b;
	struct word	*w1, *w2;
	pcre2_code	*re;
	struct word	**list;
	int		 nlist;
};

struct lex {
	struct ht_parse	*p;
	const char	*s;
	int		 depth;
};

static const char *const vars[] = {
	"HTTPS", "REQUEST_METHOD", "REQUEST_SCHEME", "REQUEST_URI", "DOCUMENT_URI",
	"REQUEST_FILENAME", "SCRIPT_FILENAME", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_PORT",
	"REMOTE_USER", "SERVER_NAME", "SERVER_PORT", "DOCUMENT_ROOT", "CONTEXT_PREFIX",
	"CONTEXT_DOCUMENT_ROOT", "IPV6", "SERVER_PROTOCOL", "THE_REQUEST", "PATH_INFO",
	"TIME_YEAR", "TIME_MON", "TIME_DAY", "TIME_HOUR", "TIME_MIN", "TIME_SEC", "TIME_WDAY",
	"TIME", NULL
};
static const char *const funcs[] = {
	"req", "http", "resp", "env", "reqenv", "osenv", "tolower", "toupper", NULL
};

static void
word_free(struct word *w)
{
	int i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++) {
		free(w->p[i].s);
		word_free(w->p[i].arg);
	}
	free(w->p);
	free(w);
}

void
ht_expr_free(struct ht_expr *e)
{
	int i;

	if (e == NULL)
		return;
	ht_expr_free(e->a);
	ht_expr_free(e->b);
	word_free(e->w1);
	word_free(e->w2);
	if (e->re != NULL)
		pcre2_code_free(e->re);
	for (i = 0; i < e->nlist; i++)
		word_free(e->list[i]);
	free(e->list);
	free(e);
}

/* ------------------------------------------------------------ parsing */

static void
blanks(struct lex *l)
{
	while (*l->s == ' ' || *l->s == '\t')
		l->s++;
}

static int
in_list(const char *const *list, const char *s, size_t n)
{
	int i;

	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n && strncasecmp(list[i], s, n) == 0)
			return 1;
	return 0;
}

static int
add_part(struct word *w, enum part_kind k, const char *s, size_t n, struct word *arg)
{
	struct part *p = reallocarray(w->p, (size_t)w->n + 1, sizeof(*p));

	if (p == NULL)
		return -1;
	w->p = p;
	p = &w->p[w->n];
	p->kind = k;
	p->arg = arg;
	if ((p->s = strndup(s, n)) == NULL)
		return -1;
	w->n++;
	return 0;
}

/* %{NAME} at l->s (past "%{"): a variable lockerd knows, or HTTP_X / HTTP:X. */
static int
parse_var(struct lex *l, struct word *w)
{
	const char	*end = strchr(l->s, '}');
	size_t		 n;

	if (end == NULL)
		return ht_error(l->p, "<If>: %%{ not closed");
	n = (size_t)(end - l->s);
	if (!in_list(vars, l->s, n) && !(n > 5 && strncasecmp(l->s, "HTTP_", 5) == 0) &&
	    !(n > 5 && strncasecmp(l->s, "HTTP:", 5) == 0) &&
	    !(n > 4 && strncmp(l->s, "SSL_", 4) == 0))
		return ht_error(l->p, "<If>: unknown variable %%{%.*s}", (int)n, l->s);
	if (add_part(w, P_VAR, l->s, n, NULL) == -1)
		return ht_error(l->p, "out of memory");
	l->s = end + 1;
	return 0;
}

/* A quoted string, %{VAR}s in it: q is its quote ('\0': the whole text). */
static int
parse_string(struct lex *l, struct word *w, char q)
{
	char	buf[WORD_MAX];
	size_t	n = 0;

	for (;;) {
		if (*l->s == '\0' && q != '\0')
			return ht_error(l->p, "<If>: a string not closed");
		if (*l->s == q || (l->s[0] == '%' && l->s[1] == '{')) {
			if (n > 0 && add_part(w, P_LIT, buf, n, NULL) == -1)
				return ht_error(l->p, "out of memory");
			n = 0;
			if (*l->s == q) {
				l->s++;
				return 0;
			}
			l->s += 2;
			if (parse_var(l, w) == -1)
				return -1;
			continue;
		}
		if (*l->s == '\\' && l->s[1] != '\0')
			l->s++;
		if (n == sizeof(buf))
			return ht_error(l->p, "<If>: a string longer than %d bytes", WORD_MAX);
		buf[n++] = *l->s++;
	}
}

static struct word *parse_word(struct lex *l);

/* name(word) at l->s, name already checked. */
static int
parse_func(struct lex *l, struct word *w, size_t n)
{
	const char	*name = l->s;
	struct word	*arg;

	l->s += n + 1;
	if ((arg = parse_word(l)) == NULL)
		return -1;
	blanks(l);
	if (*l->s != ')') {
		word_free(arg);
		return ht_error(l->p, "<If>: ')' expected after %.*s(", (int)n, name);
	}
	l->s++;
	if (add_part(w, P_FUNC, name, n, arg) == -1) {
		word_free(arg);
		return ht_error(l->p, "out of memory");
	}
	return 0;
}

static struct word *
parse_word(struct lex *l)
{
	struct word	*w = calloc(1, sizeof(*w));
	size_t		 n;
	int		 rc;

	if (w == NULL) {
		ht_error(l->p, "out of memory");
		return NULL;
	}
	blanks(l);
	n = strspn(l->s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_");
	if (*l->s == '\'' || *l->s == '"') {
		char q = *l->s++;

		rc = parse_string(l, w, q);
	} else if (l->s[0] == '%' && l->s[1] == '{') {
		l->s += 2;
		rc = parse_var(l, w);
	} else if (n > 0 && l->s[n] == '(' && in_list(funcs, l->s, n)) {
		rc = parse_func(l, w, n);
	} else if (isdigit((unsigned char)*l->s) || (*l->s == '-' &&
	    isdigit((unsigned char)l->s[1]))) {
		n = 1 + strspn(l->s + 1, "0123456789");
		rc = add_part(w, P_LIT, l->s, n, NULL) == -1 ?
		    ht_error(l->p, "out of memory") : 0;
		l->s += n;
	} else
		rc = ht_error(l->p, "<If>: a string, %%{VARIABLE} or function expected at "
		    "\"%.40s\"", l->s);
	if (rc == -1) {
		word_free(w);
		return NULL;
	}
	return w;
}

/* /regex/flags or m#regex#flags (any punctuation as the delimiter). */
static pcre2_code *
parse_regex(struct lex *l)
{
	char		 d, re[WORD_MAX];
	const char	*end;
	size_t		 n;
	pcre2_code	*c;
	PCRE2_UCHAR	 msg[128];
	PCRE2_SIZE	 at;
	int		 e, icase = 0;

	blanks(l);
	if (*l->s == 'm' && ispunct((unsigned char)l->s[1]))
		l->s++;
	if (!ispunct((unsigned char)*l->s)) {
		ht_error(l->p, "<If>: a regular expression expected at \"%.40s\"", l->s);
		return NULL;
	}
	d = *l->s++;
	if ((end = strchr(l->s, d)) == NULL || (n = (size_t)(end - l->s)) >= sizeof(re)) {
		ht_error(l->p, "<If>: a regular expression not closed");
		return NULL;
	}
	memcpy(re, l->s, n);
	re[n] = '\0';
	l->s = end + 1;
	if (*l->s == 'i') {
		icase = 1;
		l->s++;
	}
	c = pcre2_compile((PCRE2_SPTR)re, n, icase ? PCRE2_CASELESS : 0, &e, &at, NULL);
	if (c == NULL) {
		pcre2_get_error_message(e, msg, sizeof(msg));
		ht_error(l->p, "<If>: regular expression \"%s\": %s", re, (char *)msg);
	}
	return c;
}

static struct ht_expr *parse_or(struct lex *l);

static struct ht_expr *
node(struct lex *l, enum node_kind k)
{
	struct ht_expr *e = calloc(1, sizeof(*e));

	if (e == NULL)
		ht_error(l->p, "out of memory");
	else
		e->kind = k;
	return e;
}

static const char *const binops[] = {
	"==", "!=", "<=", ">=", "=~", "!~", "=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt",
	"-ge", "-strmatch", "-strcmatch", "-ipmatch", NULL
};
static const char *const unops[] = {
	"-f", "-d", "-s", "-l", "-L", "-h", "-e", "-n", "-z", "-F", "-U", "-R", "-T", NULL
};

/* An operator at l->s from list (the longest first in list order); NULL if none. */
static const char *
operator(struct lex *l, const char *const *list)
{
	int i;

	blanks(l);
	for (i = 0; list[i] != NULL; i++) {
		size_t n = strlen(list[i]);

		if (strncmp(l->s, list[i], n) == 0 &&
		    (list[i][0] != '-' || !isalnum((unsigned char)l->s[n]))) {
			l->s += n;
			return list[i];
		}
	}
	return NULL;
}

/* word in { word, word ... } */
static int
parse_in(struct lex *l, struct ht_expr *e)
{
	blanks(l);
	if (*l->s++ != '{')
		return ht_error(l->p, "<If>: '{' expected after in");
	for (;;) {
		struct word	*w, **list;

		if ((w = parse_word(l)) == NULL)
			return -1;
		if ((list = reallocarray(e->list, (size_t)e->nlist + 1, sizeof(*list))) == NULL) {
			word_free(w);
			return ht_error(l->p, "out of memory");
		}
		e->list = list;
		e->list[e->nlist++] = w;
		blanks(l);
		if (*l->s == '}') {
			l->s++;
			return 0;
		}
		if (*l->s++ != ',')
			return ht_error(l->p, "<If>: ',' or '}' expected in a list");
	}
}

static struct ht_expr *
parse_test(struct lex *l)
{
	struct ht_expr	*e;
	const char	*op;

	if ((op = operator(l, unops)) != NULL) {
		if ((e = node(l, N_UNARY)) == NULL)
			return NULL;
		snprintf(e->op, sizeof(e->op), "%s", op);
		if ((e->w1 = parse_word(l)) == NULL) {
			ht_expr_free(e);
			return NULL;
		}
		return e;
	}
	if ((e = node(l, N_BINARY)) == NULL)
		return NULL;
	if ((e->w1 = parse_word(l)) == NULL)
		goto fail;
	blanks(l);
	if (strncmp(l->s, "in", 2) == 0 && !isalnum((unsigned char)l->s[2])) {
		l->s += 2;
		e->kind = N_IN;
		if (parse_in(l, e) == -1)
			goto fail;
		return e;
	}
	if ((op = operator(l, binops)) == NULL) {
		ht_error(l->p, "<If>: an operator expected at \"%.40s\"", l->s);
		goto fail;
	}
	snprintf(e->op, sizeof(e->op), "%s", op);
	if (strcmp(op, "=~") == 0 || strcmp(op, "!~") == 0) {
		if ((e->re = parse_regex(l)) == NULL)
			goto fail;
	} else if ((e->w2 = parse_word(l)) == NULL)
		goto fail;
	return e;
fail:
	ht_expr_free(e);
	return NULL;
}

static struct ht_expr *
parse_unary(struct lex *l)
{
	struct ht_expr *e;

	blanks(l);
	if (++l->depth > EXPR_MAX_DEPTH) {
		ht_error(l->p, "<If>: nested deeper than %d", EXPR_MAX_DEPTH);
		return NULL;
	}
	if (*l->s == '!' && l->s[1] != '=' && l->s[1] != '~') {
		l->s++;
		if ((e = node(l, N_NOT)) != NULL && (e->a = parse_unary(l)) == NULL) {
			ht_expr_free(e);
			e = NULL;
		}
	} else if (*l->s == '(') {
		l->s++;
		if ((e = parse_or(l)) != NULL) {
			blanks(l);
			if (*l->s != ')') {
				ht_error(l->p, "<If>: ')' expected at \"%.40s\"", l->s);
				ht_expr_free(e);
				e = NULL;
			} else
				l->s++;
		}
	} else if (strncasecmp(l->s, "true", 4) == 0 && !isalnum((unsigned char)l->s[4])) {
		l->s += 4;
		e = node(l, N_TRUE);
	} else if (strncasecmp(l->s, "false", 5) == 0 && !isalnum((unsigned char)l->s[5])) {
		l->s += 5;
		e = node(l, N_FALSE);
	} else
		e = parse_test(l);
	l->depth--;
	return e;
}

static struct ht_expr *
parse_binary(struct lex *l, const char *tok, enum node_kind k,
    struct ht_expr *(*sub)(struct lex *))
{
	struct ht_expr *e = sub(l), *n;

	while (e != NULL) {
		blanks(l);
		if (strncmp(l->s, tok, 2) != 0)
			break;
		l->s += 2;
		if ((n = node(l, k)) == NULL) {
			ht_expr_free(e);
			return NULL;
		}
		n->a = e;
		e = n;
		if ((n->b = sub(l)) == NULL) {
			ht_expr_free(e);
			return NULL;
		}
	}
	return e;
}

static struct ht_expr *
parse_and(struct lex *l)
{
	return parse_binary(l, "&&", N_AND, parse_unary);
}

static struct ht_expr *
parse_or(struct lex *l)
{
	return parse_binary(l, "||", N_OR, parse_and);
}

struct ht_expr *
ht_expr_parse(struct ht_parse *p, const char *text)
{
	struct lex	 l = { p, text, 0 };
	struct ht_expr	*e;
	size_t		 n = strlen(text);
	char		*copy;

	/* <If "expr">: the quotes around the whole are Apache's too. */
	if (n >= 2 && (text[0] == '"' || text[0] == '\'') && text[n - 1] == text[0]) {
		if ((copy = strndup(text + 1, n - 2)) == NULL) {
			ht_error(p, "out of memory");
			return NULL;
		}
		e = ht_expr_parse(p, copy);
		free(copy);
		return e;
	}
	if ((e = parse_or(&l)) == NULL)
		return NULL;
	blanks(&l);
	if (*l.s != '\0') {
		ht_error(p, "<If>: unexpected \"%.40s\"", l.s);
		ht_expr_free(e);
		return NULL;
	}
	return e;
}

/* ------------------------------------------------------------ evaluation */

/* A header by its HTTP_ name: HTTP_USER_AGENT is User-Agent. */
static const char *
header_var(struct ht_req *r, const char *name)
{
	char	h[128];
	size_t	i;

	for (i = 0; name[i] != '\0' && i + 1 < sizeof(h); i++)
		h[i] = name[i] == '_' ? '-' : name[i];
	h[i] = '\0';
	return ht_req_header(r, h);
}

static void
server_name(const struct ht_req *r, char *out, size_t outsz)
{
	size_t i, n = strcspn(r->host, r->host[0] == '[' ? "]" : ":");

	if (r->host[0] == '[' && r->host[n] == ']')
		n++;
	for (i = 0; i < n && i + 1 < outsz; i++)
		out[i] = (char)tolower((unsigned char)r->host[i]);
	out[i] = '\0';
}

/* The value of a variable into out. */
static void
var_value(struct ht_req *r, const char *v, char *out, size_t outsz)
{
	const char *s = NULL;

	if (rw_time_var(v, out, outsz, strcasecmp) != NULL)
		return;
	if (strncasecmp(v, "HTTP:", 5) == 0)
		s = ht_req_header(r, v + 5);
	else if (strcasecmp(v, "HTTPS") == 0)
		s = r->https ? "on" : "off";
	else if (strcasecmp(v, "REQUEST_SCHEME") == 0)
		s = r->https ? "https" : "http";
	else if (strcasecmp(v, "REQUEST_METHOD") == 0)
		s = r->method_str;
	else if (strcasecmp(v, "REQUEST_URI") == 0 || strcasecmp(v, "DOCUMENT_URI") == 0)
		s = r->uri;
	else if (strcasecmp(v, "REQUEST_FILENAME") == 0 || strcasecmp(v, "SCRIPT_FILENAME") == 0)
		s = r->filename;
	else if (strcasecmp(v, "QUERY_STRING") == 0)
		s = r->query;
	else if (strcasecmp(v, "REMOTE_ADDR") == 0)
		s = r->remote;
	else if (strcasecmp(v, "REMOTE_USER") == 0)
		s = r->user;
	else if (strcasecmp(v, "SERVER_NAME") == 0) {
		server_name(r, out, outsz);
		return;
	} else if (strcasecmp(v, "REMOTE_PORT") == 0 || strcasecmp(v, "SERVER_PORT") == 0) {
		snprintf(out, outsz, "%u", v[0] == 'R' || v[0] == 'r' ? r->remote_port :
		    r->server_port);
		return;
	} else if (strcasecmp(v, "DOCUMENT_ROOT") == 0 ||
	    strcasecmp(v, "CONTEXT_DOCUMENT_ROOT") == 0)
		s = r->docroot;
	else if (strcasecmp(v, "CONTEXT_PREFIX") == 0)
		s = r->url_prefix;
	else if (strcasecmp(v, "IPV6") == 0)
		s = r->remote != NULL && strchr(r->remote, ':') != NULL ? "on" : "off";
	else if (strcasecmp(v, "SERVER_PROTOCOL") == 0)
		s = r->protocol != NULL ? r->protocol : "HTTP/1.1";
	else if (strcasecmp(v, "THE_REQUEST") == 0) {
		snprintf(out, outsz, "%s %s %s", r->method_str, r->raw_uri,
		    r->protocol != NULL ? r->protocol : "HTTP/1.1");
		return;
	} else if (strncasecmp(v, "HTTP_", 5) == 0)
		s = header_var(r, v + 5);
	else if (strncmp(v, "SSL_", 4) == 0)
		s = ht_req_ssl(r, v);	/* the TLS session's, as mod_ssl names them */
	snprintf(out, outsz, "%s", s != NULL ? s : "");
}

static void word_value(struct ht_req *r, const struct word *w, char *out, size_t outsz);

static void
func_value(struct ht_req *r, const struct part *p, char *out, size_t outsz)
{
	char		 arg[WORD_MAX];
	const char	*s = NULL;
	size_t		 i;

	word_value(r, p->arg, arg, sizeof(arg));
	if (strcasecmp(p->s, "req") == 0 || strcasecmp(p->s, "http") == 0)
		s = ht_req_header(r, arg);
	else if (strcasecmp(p->s, "env") == 0 || strcasecmp(p->s, "reqenv") == 0)
		s = ht_req_getenv(r, arg);
	else if (strcasecmp(p->s, "tolower") == 0 || strcasecmp(p->s, "toupper") == 0) {
		for (i = 0; arg[i] != '\0'; i++)
			arg[i] = (char)(p->s[2] == 'l' ? tolower((unsigned char)arg[i]) :
			    toupper((unsigned char)arg[i]));
		s = arg;
	}
	snprintf(out, outsz, "%s", s != NULL ? s : "");
}

static void
word_value(struct ht_req *r, const struct word *w, char *out, size_t outsz)
{
	size_t	n = 0;
	int	i;

	out[0] = '\0';
	for (i = 0; i < w->n && n + 1 < outsz; i++) {
		if (w->p[i].kind == P_LIT)
			snprintf(out + n, outsz - n, "%s", w->p[i].s);
		else if (w->p[i].kind == P_VAR)
			var_value(r, w->p[i].s, out + n, outsz - n);
		else
			func_value(r, &w->p[i], out + n, outsz - n);
		n += strlen(out + n);
	}
}

static int
file_test(const char *op, const char *path)
{
	struct stat st;

	if (strcmp(op, "-l") == 0 || strcmp(op, "-L") == 0 || strcmp(op, "-h") == 0)
		return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
	if (stat(path, &st) == -1)
		return 0;
	if (strcmp(op, "-d") == 0)
		return S_ISDIR(st.st_mode);
	if (strcmp(op, "-s") == 0)
		return S_ISREG(st.st_mode) && st.st_size > 0;
	if (strcmp(op, "-e") == 0)
		return 1;
	return S_ISREG(st.st_mode);	/* -f, and -F, -U without a subrequest */
}

static int
fnmatch_cs(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

static int
fnmatch_ci(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, FNM_CASEFOLD) == 0;
}

static int
compare(const char *op, const char *a, const char *b)
{
	long long x = strtoll(a, NULL, 10), y = strtoll(b, NULL, 10);

	if (strcmp(op, "==") == 0 || strcmp(op, "=") == 0)
		return strcmp(a, b) == 0;
	if (strcmp(op, "!=") == 0)
		return strcmp(a, b) != 0;
	if (strcmp(op, "<") == 0)
		return strcmp(a, b) < 0;
	if (strcmp(op, "<=") == 0)
		return strcmp(a, b) <= 0;
	if (strcmp(op, ">") == 0)
		return strcmp(a, b) > 0;
	if (strcmp(op, ">=") == 0)
		return strcmp(a, b) >= 0;
	if (strcmp(op, "-eq") == 0)
		return x == y;
	if (strcmp(op, "-ne") == 0)
		return x != y;
	if (strcmp(op, "-lt") == 0)
		return x < y;
	if (strcmp(op, "-le") == 0)
		return x <= y;
	if (strcmp(op, "-gt") == 0)
		return x > y;
	if (strcmp(op, "-ge") == 0)
		return x >= y;
	if (strcmp(op, "-strcmatch") == 0)
		return fnmatch_ci(b, a);
	if (strcmp(op, "-ipmatch") == 0)
		return access_ip_match(a, b);
	return fnmatch_cs(b, a);	/* -strmatch */
}

static int
eval(const struct ht_expr *e, struct ht_req *r)
{
	static char		 a[WORD_MAX], b[WORD_MAX];
	pcre2_match_data	*md;
	int			 x, i;

	switch (e->kind) {
	case N_TRUE:
		return 1;
	case N_FALSE:
		return 0;
	case N_NOT:
		x = eval(e->a, r);
		return x < 0 ? x : !x;
	case N_AND:
	case N_OR:
		if ((x = eval(e->a, r)) < 0 || x == (e->kind == N_OR))
			return x;
		return eval(e->b, r);
	case N_UNARY:
		word_value(r, e->w1, a, sizeof(a));
		if (strcmp(e->op, "-n") == 0)
			return a[0] != '\0';
		if (strcmp(e->op, "-z") == 0)
			return a[0] == '\0';
		if (strcmp(e->op, "-R") == 0)
			return access_ip_match(r->remote != NULL ? r->remote : "", a);
		if (strcmp(e->op, "-T") == 0)
			return a[0] != '\0' && strcmp(a, "0") != 0 && strcasecmp(a, "off") != 0 &&
			    strcasecmp(a, "false") != 0 && strcasecmp(a, "no") != 0;
		return file_test(e->op, a);
	case N_IN:
		word_value(r, e->w1, a, sizeof(a));
		for (i = 0; i < e->nlist; i++) {
			word_value(r, e->list[i], b, sizeof(b));
			if (strcmp(a, b) == 0)
				return 1;
		}
		return 0;
	case N_BINARY:
		word_value(r, e->w1, a, sizeof(a));
		if (e->re == NULL) {
			word_value(r, e->w2, b, sizeof(b));
			return compare(e->op, a, b);
		}
		if ((md = pcre2_match_data_create_from_pattern(e->re, NULL)) == NULL)
			return -1;
		x = pcre2_match(e->re, (PCRE2_SPTR)a, strlen(a), 0, 0, md, ht_match_context());
		pcre2_match_data_free(md);
		if (x < 0 && x != PCRE2_ERROR_NOMATCH)
			return -1;	/* a limit: the locker's regex, its 500 */
		return (x >= 0) == (e->op[0] == '=');
	}
	return -1;
}

int
ht_expr_eval(const struct ht_expr *e, struct ht_req *r)
{
	/* Whatever it looked at, the answer is this request's alone. */
	r->cacheable = 0;
	return eval(e, r);
}

struct ht_expr *
ht_expr_parse_string(struct ht_parse *p, const char *text)
{
	struct lex	 l = { p, text, 0 };
	struct ht_expr	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL || (e->w1 = calloc(1, sizeof(*e->w1))) == NULL) {
		free(e);
		ht_error(p, "out of memory");
		return NULL;
	}
	e->kind = N_TRUE;
	if (parse_string(&l, e->w1, '\0') == -1) {
		ht_expr_free(e);
		return NULL;
	}
	return e;
}

void
ht_expr_string(const struct ht_expr *e, struct ht_req *r, char *out, size_t outsz)
{
	r->cacheable = 0;
	word_value(r, e->w1, out, outsz);
}
