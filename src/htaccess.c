/*
 * htaccess.c: one .htaccess file's bytes into a struct ht_dir, with
 * Apache 2.4's syntax: a directive a line, '\' continuing a line, '#'
 * starting a comment line, arguments in double or single quotes (a
 * backslash escapes the quote inside them), names compared without case,
 * and sections <Files>, <FilesMatch>, <Limit>, <LimitExcept>, <If>,
 * <ElseIf>, <Else>, with <IfModule> and <IfDefine> read in place.
 *
 * The bytes are the locker's: every bound (size, line, nesting, count)
 * is an error naming its FILE:LINE, never a crash nor a long stall.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "htaccess.h"
#include "http.h"

int
ht_error(struct ht_parse *p, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (p->err[0] != '\0')
		return -1;
	n = snprintf(p->err, sizeof(p->err), "%s:%d: ", p->file, p->line);
	if (n < 0 || (size_t)n >= sizeof(p->err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, sizeof(p->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The names applications test with <IfModule>: a module's source file
 * ("mod_rewrite.c") or its identifier ("rewrite_module").  Only what
 * lockerd implements is here, so that a fallback for a missing module
 * (<IfModule !mod_rewrite.c>) is taken.
 */
static const char *const have_modules[] = {
	"core", "mod_so", "http_core",
	"mod_rewrite", "rewrite_module", "mod_alias", "alias_module",
	"mod_headers", "headers_module", "mod_expires", "expires_module",
	"mod_mime", "mime_module", "mod_dir", "dir_module",
	"mod_autoindex", "autoindex_module", "mod_authz_core", "authz_core_module",
	"mod_authn_core", "authn_core_module", "mod_authn_file", "authn_file_module",
	"mod_auth_basic", "auth_basic_module", "mod_access_compat", "access_compat_module",
	"mod_authz_host", "authz_host_module", "mod_authz_user", "authz_user_module",
	"mod_authz_groupfile", "authz_groupfile_module", "mod_env", "env_module",
	/* PHP 8's module names only, as Apache with mod_php 8.2 knows them: a
	 * <IfModule mod_php7.c> or mod_php5.c block is for another PHP. */
	"mod_setenvif", "setenvif_module", "mod_php", "php_module",
	"mod_ssl", "ssl_module",
	NULL
};

int
ht_have_module(const char *name)
{
	size_t	n = strlen(name);
	int	i;

	/* "mod_rewrite.c" is the file; "mod_rewrite" names the same. */
	if (n > 2 && strcmp(name + n - 2, ".c") == 0)
		n -= 2;
	for (i = 0; have_modules[i] != NULL; i++)
		if (strlen(have_modules[i]) == n && strncasecmp(name, have_modules[i], n) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ lines */

struct reader {
	const char	*buf;
	size_t		 len, off;
	int		 next_line;	/* of the next physical line */
	char		 line[HT_MAX_LINE + 1];
};

/*
 * The next logical line into rd->line (continuations joined, blanks
 * trimmed), p->line set to its first physical line.  1, 0 at the end, or
 * -1 after ht_error().
 */
static int
next_line(struct ht_parse *p, struct reader *rd)
{
	size_t	n = 0;
	int	more;

	if (rd->off >= rd->len)
		return 0;
	p->line = rd->next_line;
	do {
		const char	*s = rd->buf + rd->off;
		const char	*nl = memchr(s, '\n', rd->len - rd->off);
		size_t		 l = nl ? (size_t)(nl - s) : rd->len - rd->off;

		rd->off += l + (nl != NULL);
		rd->next_line++;
		while (l > 0 && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		more = l > 0 && s[l - 1] == '\\' && rd->off < rd->len;
		if (more)
			l--;
		if (n + l > HT_MAX_LINE)
			return ht_error(p, "line longer than %d bytes", HT_MAX_LINE);
		memcpy(rd->line + n, s, l);
		n += l;
	} while (more);
	rd->line[n] = '\0';
	if (memchr(rd->line, '\0', n) != NULL)
		return ht_error(p, "a NUL byte");
	return 1;
}

/*
 * Split s in place into words, as Apache's ap_getword_conf(): a word in
 * quotes keeps its blanks, and \" (or \') inside it is the quote itself.
 * argv[argc] is NULL.  The number of words, or -1 after ht_error().
 */
static int
split_words(struct ht_parse *p, char *s, char **argv)
{
	int argc = 0;

	for (;;) {
		char *out;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (argc == HT_MAX_ARGS)
			return ht_error(p, "more than %d arguments", HT_MAX_ARGS);
		argv[argc++] = out = s;
		if (*s == '"' || *s == '\'') {
			char q = *s++;

			while (*s != q) {
				if (*s == '\0')
					return ht_error(p, "a quote (%c) not closed", q);
				if (*s == '\\' && (s[1] == q || s[1] == '\\'))
					s++;
				*out++ = *s++;
			}
			s++;
		} else
			while (*s != '\0' && *s != ' ' && *s != '\t')
				*out++ = *s++;
		if (*s != '\0' && *s != ' ' && *s != '\t')
			return ht_error(p, "text right after a closing quote");
		if (*s != '\0')
			s++;
		*out = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* ------------------------------------------------------------ sections */

static struct ht_dir *
dir_new(const struct ht_parse *p)
{
	struct ht_dir *d = calloc(1, sizeof(*d));

	if (d != NULL)
		snprintf(d->path, sizeof(d->path), "%s", p->dir);
	return d;
}

static void
section_free(struct ht_section *s)
{
	free(s->pattern);
	if (s->re != NULL)
		pcre2_code_free(s->re);
	ht_expr_free(s->expr);
	ht_dir_free(s->dir);
}

void
ht_dir_free(struct ht_dir *d)
{
	const struct ht_module	*m;
	int			 i;

	if (d == NULL)
		return;
	for (m = ht_modules; m->name != NULL; m++) {
		void *part = *(void **)((char *)d + m->off);

		if (part != NULL && m->free != NULL)
			m->free(part);
	}
	for (i = 0; i < d->nsec; i++)
		section_free(&d->sec[i]);
	free(d->sec);
	free(d);
}

static struct ht_section *
section_add(struct ht_parse *p, struct ht_dir *d, enum ht_section_kind kind)
{
	struct ht_section *s;

	s = reallocarray(d->sec, (size_t)d->nsec + 1, sizeof(*d->sec));
	if (s == NULL)
		return NULL;
	d->sec = s;
	s = &d->sec[d->nsec];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = p->line;
	if ((s->dir = dir_new(p)) == NULL)
		return NULL;
	d->nsec++;
	return s;
}

/* A regex of the locker's, compiled with PCRE2 (its limits are set at match). */
static void *
compile_re(struct ht_parse *p, const char *re, int icase)
{
	pcre2_code	*c;
	PCRE2_UCHAR	 msg[128];
	PCRE2_SIZE	 at;
	int		 e;

	c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, icase ? PCRE2_CASELESS : 0,
	    &e, &at, NULL);
	if (c == NULL) {
		pcre2_get_error_message(e, msg, sizeof(msg));
		ht_error(p, "regular expression \"%s\": %s", re, (char *)msg);
	}
	return c;
}

static const char *const method_names[] = {
	[HTTP_M_GET] = "GET", [HTTP_M_HEAD] = "HEAD", [HTTP_M_POST] = "POST",
	[HTTP_M_PUT] = "PUT", [HTTP_M_DELETE] = "DELETE", [HTTP_M_OPTIONS] = "OPTIONS",
	[HTTP_M_PATCH] = "PATCH", [HTTP_M_CONNECT] = "CONNECT", [HTTP_M_TRACE] = "TRACE",
};

/* <Limit GET POST>: the methods' bits (GET brings HEAD, as in Apache). */
static int
limit_methods(struct ht_parse *p, int argc, char **argv, uint32_t *bits)
{
	int i, m;

	if (argc < 1)
		return ht_error(p, "<Limit> needs a method");
	*bits = 0;
	for (i = 0; i < argc; i++) {
		for (m = 1; m < (int)(sizeof(method_names) / sizeof(method_names[0])); m++)
			if (method_names[m] != NULL && strcmp(argv[i], method_names[m]) == 0)
				break;
		if (m == (int)(sizeof(method_names) / sizeof(method_names[0])))
			m = 0;	/* PROPFIND, MKCOL ...: no method lockerd serves */
		*bits |= HT_M_BIT(m);
		if (m == HTTP_M_GET)
			*bits |= HT_M_BIT(HTTP_M_HEAD);
	}
	return 0;
}

/* The argument of a section's opening line, its closing '>' taken off. */
static int
section_open(struct ht_parse *p, char *line, char **name, char **argv, int *argc)
{
	size_t n = strlen(line);

	if (n < 3 || line[n - 1] != '>')
		return ht_error(p, "a section's line must end with '>'");
	line[n - 1] = '\0';
	*name = line + 1;
	line = *name + strcspn(*name, " \t");
	if (*line != '\0')
		*line++ = '\0';
	if ((*argc = split_words(p, line, argv)) == -1)
		return -1;
	return 0;
}

static int parse_block(struct ht_parse *p, struct reader *rd, struct ht_dir *d,
    const char *closing);

/*
 * Skip to the end of a section that does not hold (a false <IfModule>):
 * its directives are not even looked up, so a module lockerd lacks may
 * be configured there.  Nested sections are counted by their names.
 */
static int
skip_block(struct ht_parse *p, struct reader *rd, const char *closing)
{
	int depth = 0, r, start = p->line;

	while ((r = next_line(p, rd)) == 1) {
		char *s = rd->line + strspn(rd->line, " \t");

		if (s[0] == '<' && s[1] == '/') {
			if (depth == 0) {
				if (strncasecmp(s + 2, closing, strlen(closing)) != 0 ||
				    s[2 + strlen(closing)] != '>')
					return ht_error(p, "</%.*s> where </%s> was expected",
					    (int)strcspn(s + 2, ">"), s + 2, closing);
				return 0;
			}
			depth--;
		} else if (s[0] == '<') {
			if (++depth + p->depth > HT_MAX_DEPTH)
				return ht_error(p, "sections nested deeper than %d", HT_MAX_DEPTH);
		}
	}
	if (r == 0) {
		p->line = start;
		return ht_error(p, "<%s> not closed", closing);
	}
	return -1;
}

/* Parse what a section holds into d, with where and limit as inside it. */
static int
section_body(struct ht_parse *p, struct reader *rd, struct ht_dir *d, const char *closing,
    unsigned where, uint32_t limit)
{
	unsigned	saved_where = p->where;
	uint32_t	saved_limit = p->limit;
	int		rc;

	if (++p->depth > HT_MAX_DEPTH)
		return ht_error(p, "sections nested deeper than %d", HT_MAX_DEPTH);
	p->where = where;
	if (limit != 0)
		p->limit = limit;
	rc = parse_block(p, rd, d, closing);
	p->where = saved_where;
	p->limit = saved_limit;
	p->depth--;
	return rc;
}

static int
section_files(struct ht_parse *p, struct reader *rd, struct ht_dir *d, const char *name,
    int argc, char **argv)
{
	struct ht_section	*s;
	int			 regex = strcasecmp(name, "FilesMatch") == 0;

	if (p->where & HT_IN_FILES)
		return ht_error(p, "<%s> inside <Files>", name);
	if (argc == 2 && !regex && strcmp(argv[0], "~") == 0) {
		regex = 1;
		argv++;
		argc--;
	}
	if (argc != 1)
		return ht_error(p, "<%s> takes one argument", name);
	if ((s = section_add(p, d, HT_SEC_FILES)) == NULL ||
	    (s->pattern = strdup(argv[0])) == NULL)
		return ht_error(p, "out of memory");
	s->is_regex = regex;
	if (regex && (s->re = compile_re(p, argv[0], 0)) == NULL)
		return -1;
	return section_body(p, rd, s->dir, name, HT_IN_FILES, 0);
}

static int
section_limit(struct ht_parse *p, struct reader *rd, struct ht_dir *d, const char *name,
    int argc, char **argv)
{
	struct ht_section	*s;
	uint32_t		 bits = 0;

	if (p->where & HT_IN_LIMIT)
		return ht_error(p, "<%s> inside <Limit>", name);
	if (limit_methods(p, argc, argv, &bits) == -1)
		return -1;
	if (strcasecmp(name, "LimitExcept") == 0)
		bits = ~bits;
	if ((s = section_add(p, d, HT_SEC_LIMIT)) == NULL)
		return ht_error(p, "out of memory");
	s->methods = bits;
	return section_body(p, rd, s->dir, name, HT_IN_LIMIT, bits);
}

/* <If>, <ElseIf> and <Else>: the expression is the rest of the line, unsplit. */
static int
section_if(struct ht_parse *p, struct reader *rd, struct ht_dir *d, const char *name,
    char *rest)
{
	struct ht_section	*s;
	enum ht_section_kind	 kind = HT_SEC_IF;
	size_t			 n;

	if (strcasecmp(name, "ElseIf") == 0)
		kind = HT_SEC_ELSEIF;
	else if (strcasecmp(name, "Else") == 0)
		kind = HT_SEC_ELSE;
	if (kind != HT_SEC_IF && (d->nsec == 0 || (d->sec[d->nsec - 1].kind != HT_SEC_IF &&
	    d->sec[d->nsec - 1].kind != HT_SEC_ELSEIF)))
		return ht_error(p, "<%s> not right after <If> or <ElseIf>", name);
	rest += strspn(rest, " \t");
	n = strlen(rest);
	if (n == 0 || rest[n - 1] != '>')
		return ht_error(p, "a section's line must end with '>'");
	rest[--n] = '\0';
	if ((kind == HT_SEC_ELSE) != (rest[strspn(rest, " \t")] == '\0'))
		return ht_error(p, kind == HT_SEC_ELSE ? "<Else> takes no argument" :
		    "<%s> needs an expression", name);
	if ((s = section_add(p, d, kind)) == NULL)
		return ht_error(p, "out of memory");
	if (kind != HT_SEC_ELSE && (s->expr = ht_expr_parse(p, rest)) == NULL)
		return -1;
	return section_body(p, rd, s->dir, name, HT_IN_IF, 0);
}

/* <IfModule> and <IfDefine>: read in place, or skipped. */
static int
section_ifmodule(struct ht_parse *p, struct reader *rd, struct ht_dir *d, const char *name,
    int argc, char **argv, const char *closing)
{
	const char	*arg;
	int		 neg, holds;

	if (argc != 1)
		return ht_error(p, "<%s> takes one argument", name);
	arg = argv[0];
	neg = *arg == '!';
	arg += neg;
	/* No -D is ever given to a locker's .htaccess. */
	holds = strcasecmp(name, "IfModule") == 0 ? ht_have_module(arg) : 0;
	if (holds == neg) {
		p->depth++;
		if (skip_block(p, rd, closing) == -1)
			return -1;
		p->depth--;
		return 0;
	}
	if (++p->depth > HT_MAX_DEPTH)
		return ht_error(p, "sections nested deeper than %d", HT_MAX_DEPTH);
	if (parse_block(p, rd, d, closing) == -1)
		return -1;
	p->depth--;
	return 0;
}

/*
 * A module's own container (<RequireAll>, <RequireAny>, <RequireNone>):
 * rows "<Name" and "</Name" of ht_directives[] bracket its body, which is
 * read in place into d (the module keeps its own nesting).
 */
static const struct ht_directive *
module_section(const char *name)
{
	const struct ht_directive	*t;
	char				 row[40];

	snprintf(row, sizeof(row), "<%s", name);
	for (t = ht_directives; t->name != NULL; t++)
		if (strcasecmp(t->name, row) == 0)
			return t;
	return NULL;
}

static int
section_module(struct ht_parse *p, struct reader *rd, struct ht_dir *d, const char *name,
    int argc, char **argv)
{
	const struct ht_directive	*open = module_section(name), *close;
	char				 row[40];

	snprintf(row, sizeof(row), "/%s", name);
	if ((close = module_section(row)) == NULL)
		return ht_error(p, "<%s> has no closing row", name);
	if ((open->where & p->where) == 0)
		return ht_error(p, "<%s> is not allowed here", name);
	if (open->parse(p, d, argc, argv) == -1)
		return -1;
	if (++p->depth > HT_MAX_DEPTH)
		return ht_error(p, "sections nested deeper than %d", HT_MAX_DEPTH);
	if (parse_block(p, rd, d, name) == -1)
		return -1;
	p->depth--;
	return close->parse(p, d, 0, argv + argc);
}

static int
section(struct ht_parse *p, struct reader *rd, struct ht_dir *d, char *line)
{
	char	*name = NULL, *argv[HT_MAX_ARGS + 1], closing[32];
	char	 copy[HT_MAX_LINE + 1];
	int	 argc = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	if (section_open(p, line, &name, argv, &argc) == -1)
		return -1;
	/* name and argv point into the line buffer, which the section's own
	 * lines will overwrite: what outlives the opening line is copied. */
	snprintf(closing, sizeof(closing), "%s", name);
	if (strcasecmp(name, "IfModule") == 0 || strcasecmp(name, "IfDefine") == 0)
		return section_ifmodule(p, rd, d, closing, argc, argv, closing);
	if (strcasecmp(name, "Files") == 0 || strcasecmp(name, "FilesMatch") == 0)
		return section_files(p, rd, d, closing, argc, argv);
	if (strcasecmp(name, "Limit") == 0 || strcasecmp(name, "LimitExcept") == 0)
		return section_limit(p, rd, d, closing, argc, argv);
	if (strcasecmp(name, "If") == 0 || strcasecmp(name, "ElseIf") == 0 ||
	    strcasecmp(name, "Else") == 0)
		return section_if(p, rd, d, closing, copy + 1 + strlen(closing));
	if (module_section(name) != NULL)
		return section_module(p, rd, d, closing, argc, argv);
	/* <Directory>, <Location>, <VirtualHost>: the server's, never a .htaccess's. */
	return ht_error(p, "unknown directive <%s", name);
}

/* ------------------------------------------------------------ directives */

static const struct ht_directive *
lookup(const char *name)
{
	const struct ht_directive *t;

	for (t = ht_directives; t->name != NULL; t++)
		if (strcasecmp(t->name, name) == 0)
			return t;
	return NULL;
}

static int
directive(struct ht_parse *p, struct ht_dir *d, char *line)
{
	static char			 raw[HT_MAX_LINE + 1];
	const struct ht_directive	*t;
	char				*argv[HT_MAX_ARGS + 1];
	const char			*s;
	size_t				 cut;
	int				 argc;
	char				 c;

	/* The arguments unsplit, before split_words() cuts the line up. */
	s = line + strspn(line, " \t");
	s += strcspn(s, " \t");
	snprintf(raw, sizeof(raw), "%s", s + strspn(s, " \t"));
	p->raw = raw;
	cut = (size_t)(s - line);
	c = line[cut];
	line[cut] = '\0';		/* the name alone, for a row taking raw arguments */
	t = lookup(line + strspn(line, " \t"));
	line[cut] = c;
	if (t != NULL && (t->where & HT_RAW)) {
		if ((t->where & p->where) == 0)
			return ht_error(p, "%s is not allowed here", t->name);
		argv[0] = NULL;
		return t->parse(p, d, 0, argv);
	}
	if ((argc = split_words(p, line, argv)) <= 0)
		return argc;
	if ((t = lookup(argv[0])) == NULL)
		return ht_error(p, "unknown directive %s", argv[0]);
	if ((t->where & p->where) == 0)
		return ht_error(p, "%s is not allowed here", t->name);
	return t->parse(p, d, argc - 1, argv + 1);
}

/*
 * Directives and sections into d until `closing` (NULL: the end of the
 * file).  0, or -1 after ht_error().
 */
static int
parse_block(struct ht_parse *p, struct reader *rd, struct ht_dir *d, const char *closing)
{
	int r, start = p->line;

	while ((r = next_line(p, rd)) == 1) {
		char *s = rd->line + strspn(rd->line, " \t");

		if (*s == '\0' || *s == '#')
			continue;
		if (++p->ndirectives > HT_MAX_DIRECTIVES)
			return ht_error(p, "more than %d directives", HT_MAX_DIRECTIVES);
		if (s[0] == '<' && s[1] == '/') {
			size_t n = strcspn(s + 2, ">");

			if (closing == NULL || n != strlen(closing) ||
			    strncasecmp(s + 2, closing, n) != 0 || s[2 + n] != '>' ||
			    s[3 + n + strspn(s + 3 + n, " \t")] != '\0')
				return ht_error(p, "</%.*s> without its opening", (int)n, s + 2);
			return 0;
		}
		if ((s[0] == '<' ? section(p, rd, d, s) : directive(p, d, s)) == -1)
			return -1;
	}
	if (r == 0 && closing != NULL) {
		p->line = start;
		return ht_error(p, "<%s> not closed", closing);
	}
	return r;
}

struct ht_dir *
ht_parse_file(struct ht_parse *p, const char *buf, size_t len)
{
	static struct reader	 rd;	/* a line buffer too large for the stack */
	static unsigned		 serial;
	struct ht_dir		*d;

	p->line = 0;
	p->where = HT_FILE;
	p->limit = 0;
	p->depth = 0;
	p->ndirectives = 0;
	p->serial = ++serial;
	p->err[0] = '\0';
	if (len > HT_MAX_FILE) {
		snprintf(p->err, sizeof(p->err), "%s: larger than %d bytes", p->file, HT_MAX_FILE);
		return NULL;
	}
	if ((d = dir_new(p)) == NULL) {
		snprintf(p->err, sizeof(p->err), "%s: out of memory", p->file);
		return NULL;
	}
	rd.buf = buf;
	rd.len = len;
	rd.off = 0;
	rd.next_line = 1;
	if (parse_block(p, &rd, d, NULL) == -1) {
		ht_dir_free(d);
		return NULL;
	}
	return d;
}
