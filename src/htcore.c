/*
 * htcore.c: the .htaccess directives htcore keeps: Options, DirectoryIndex,
 * the types and handlers of mod_mime (AddType, ForceType, DefaultType,
 * AddCharset, AddDefaultCharset, AddHandler, SetHandler, RemoveHandler),
 * mod_env and mod_setenvif (SetEnv, UnsetEnv, SetEnvIf, SetEnvIfNoCase),
 * and PHP's (php_value, php_flag, php_admin_value, php_admin_flag).
 *
 * A merged part is the list of the parsed parts that apply, parent first:
 * a lookup reads it from the child up, as Apache's merges would leave it,
 * and nothing is copied.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "htaccess.h"
#include "htcore.h"

#define CHAIN_MAX	128	/* parts of one merge: files and their sections */

struct chain {
	const void	*p[CHAIN_MAX];
	int		 n;		/* 0: a parsed part, not a merge */
};

struct pair {
	char	*k;
	char	*v;		/* NULL: RemoveHandler */
	int	 flag;		/* unused for php */
};

struct ht_core {
	struct chain	 ch;
	int		 opt_set;	/* Options seen */
	int		 opt_abs;	/* without +/-: replaces the parent's */
	unsigned	 opt_on, opt_off;
	char		*index;		/* DirectoryIndex, ' '-separated; "disabled" */
	char		*force_type;	/* "none" resets */
	char		*set_handler;
	char		*default_charset;	/* "off", "on" or a charset */
	struct pair	*types, *charsets, *handlers, *php;
	int		 ntypes, ncharsets, nhandlers, nphp;
};

enum envop_kind { ENV_SET, ENV_UNSET, ENV_IF };
struct envop {
	enum envop_kind	 kind;
	char		*name, *value;		/* SET, UNSET */
	char		*attr;			/* IF: what is matched */
	pcre2_code	*re;
	char		**assign;		/* IF: "[!]name[=value]" */
	int		 nassign;
};
struct ht_env {
	struct chain	 ch;
	struct envop	*ops;
	int		 nops;
};

/* ------------------------------------------------------------ merging */

static void *
chain_merge(const void *parent, const void *child, size_t size)
{
	const struct chain	*pc = parent;
	struct chain		*m;

	if (pc->n + 2 > CHAIN_MAX || (m = calloc(1, size)) == NULL)
		return NULL;
	if (pc->n > 0) {
		memcpy(m->p, pc->p, sizeof(m->p[0]) * (size_t)pc->n);
		m->n = pc->n;
	} else
		m->p[m->n++] = parent;
	m->p[m->n++] = child;
	return m;
}

/* The parsed parts of a merged or parsed one, parent first. */
static int
chain_of(const void *part, const void **out)
{
	const struct chain *c = part;

	if (c->n == 0) {
		out[0] = part;
		return 1;
	}
	memcpy(out, c->p, sizeof(out[0]) * (size_t)c->n);
	return c->n;
}

void *
htcore_merge(const void *parent, const void *child)
{
	return chain_merge(parent, child, sizeof(struct ht_core));
}

void *
htenv_merge(const void *parent, const void *child)
{
	return chain_merge(parent, child, sizeof(struct ht_env));
}

void
ht_merged_free(void *part)
{
	free(part);
}

static void
pairs_free(struct pair *p, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(p[i].k);
		free(p[i].v);
	}
	free(p);
}

void
htcore_free(void *part)
{
	struct ht_core *c = part;

	free(c->index);
	free(c->force_type);
	free(c->set_handler);
	free(c->default_charset);
	pairs_free(c->types, c->ntypes);
	pairs_free(c->charsets, c->ncharsets);
	pairs_free(c->handlers, c->nhandlers);
	pairs_free(c->php, c->nphp);
	free(c);
}

void
htenv_free(void *part)
{
	struct ht_env	*e = part;
	int		 i, j;

	for (i = 0; i < e->nops; i++) {
		free(e->ops[i].name);
		free(e->ops[i].value);
		free(e->ops[i].attr);
		if (e->ops[i].re != NULL)
			pcre2_code_free(e->ops[i].re);
		for (j = 0; j < e->ops[i].nassign; j++)
			free(e->ops[i].assign[j]);
		free(e->ops[i].assign);
	}
	free(e->ops);
	free(e);
}

/* ------------------------------------------------------------ parsing */

static struct ht_core *
core(struct ht_parse *p, struct ht_dir *d)
{
	if (d->core == NULL && (d->core = calloc(1, sizeof(*d->core))) == NULL)
		ht_error(p, "out of memory");
	return d->core;
}

static int
set_str(struct ht_parse *p, char **field, const char *s)
{
	char *c = strdup(s);

	if (c == NULL)
		return ht_error(p, "out of memory");
	free(*field);
	*field = c;
	return 0;
}

/* "ext" of ".ext" or "ext", lower-cased. */
static int
add_pair(struct ht_parse *p, struct pair **list, int *n, const char *k, const char *v,
    int flag, int is_ext)
{
	struct pair	*l;
	char		*kc;
	size_t		 i;

	if (*n >= 1024)
		return ht_error(p, "more than 1024 of these");
	if (is_ext && *k == '.')
		k++;
	if ((l = reallocarray(*list, (size_t)*n + 1, sizeof(*l))) == NULL)
		return ht_error(p, "out of memory");
	*list = l;
	if ((kc = strdup(k)) == NULL)
		return ht_error(p, "out of memory");
	if (is_ext)
		for (i = 0; kc[i] != '\0'; i++)
			kc[i] = (char)tolower((unsigned char)kc[i]);
	l[*n].k = kc;
	l[*n].flag = flag;
	l[*n].v = NULL;
	if (v != NULL && (l[*n].v = strdup(v)) == NULL) {
		free(kc);
		return ht_error(p, "out of memory");
	}
	(*n)++;
	return 0;
}

static const struct {
	const char	*name;
	unsigned	 bit;
} options[] = {
	{ "Indexes", HT_OPT_INDEXES }, { "FollowSymLinks", HT_OPT_FOLLOW },
	{ "SymLinksIfOwnerMatch", HT_OPT_OWNER }, { "ExecCGI", HT_OPT_EXECCGI },
	{ "MultiViews", HT_OPT_MULTIVIEWS }, { "Includes", HT_OPT_INCLUDES },
	{ "IncludesNOEXEC", HT_OPT_INCLUDES },
	{ "All", HT_OPT_FOLLOW | HT_OPT_EXECCGI | HT_OPT_INCLUDES | HT_OPT_INDEXES },
	{ "None", 0 },
};

int
dir_options(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core	*c;
	int		 i, rel = 0, abs = 0;
	size_t		 k;

	if (argc < 1 || (c = core(p, d)) == NULL)
		return argc < 1 ? ht_error(p, "Options needs an argument") : -1;
	for (i = 0; i < argc; i++) {
		const char *o = argv[i];
		int sign = *o == '+' ? 1 : *o == '-' ? -1 : 0;

		o += sign != 0;
		for (k = 0; k < sizeof(options) / sizeof(options[0]); k++)
			if (strcasecmp(o, options[k].name) == 0)
				break;
		if (k == sizeof(options) / sizeof(options[0]))
			return ht_error(p, "Options: unknown option %s", argv[i]);
		if (sign == 0) {
			abs = 1;
			c->opt_on |= options[k].bit;
		} else if (sign > 0) {
			rel = 1;
			c->opt_on |= options[k].bit;
			c->opt_off &= ~options[k].bit;
		} else {
			rel = 1;
			c->opt_off |= options[k].bit;
			c->opt_on &= ~options[k].bit;
		}
	}
	/* Apache 2.4 refuses the mix too. */
	if (abs && rel)
		return ht_error(p, "Options: either all options start with + or -, or none");
	c->opt_set = 1;
	c->opt_abs = abs;
	return 0;
}

int
dir_index(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core	*c = core(p, d);
	char		 buf[1024] = "";
	int		 i;

	if (c == NULL)
		return -1;
	if (argc < 1)
		return ht_error(p, "DirectoryIndex needs a file name");
	for (i = 0; i < argc; i++) {
		/* A name below the directory: no way up, nothing hidden. */
		if (strstr(argv[i], "..") != NULL || argv[i][0] == '.' || strchr(argv[i], ' '))
			return ht_error(p, "DirectoryIndex: %s is not a file name here", argv[i]);
		if (strlen(buf) + strlen(argv[i]) + 2 > sizeof(buf))
			return ht_error(p, "DirectoryIndex: too long");
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, argv[i][0] == '/' ? argv[i] + 1 : argv[i]);
	}
	return set_str(p, &c->index, buf);
}

/* AddType type ext..., AddCharset charset ext..., AddHandler handler ext... */
static int
dir_add(struct ht_parse *p, struct ht_dir *d, int argc, char **argv, struct pair **list,
    int *n, const char *what)
{
	int i;

	if (argc < 2)
		return ht_error(p, "%s needs a value and an extension", what);
	if (!strchr(argv[0], '/') && strcmp(what, "AddType") == 0)
		return ht_error(p, "AddType: %s is not a media type", argv[0]);
	(void)d;
	for (i = 1; i < argc; i++)
		if (add_pair(p, list, n, argv[i], argv[0], 0, 1) == -1)
			return -1;
	return 0;
}

int
dir_addtype(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core *c = core(p, d);

	return c == NULL ? -1 : dir_add(p, d, argc, argv, &c->types, &c->ntypes, "AddType");
}

int
dir_addcharset(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core	*c = core(p, d);
	char		*s;

	/* mod_mime keeps a charset lower-cased (AddDefaultCharset's is as written). */
	for (s = argc > 0 ? argv[0] : ""; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
	return c == NULL ? -1 : dir_add(p, d, argc, argv, &c->charsets, &c->ncharsets,
	    "AddCharset");
}

int
dir_addhandler(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core *c = core(p, d);

	return c == NULL ? -1 : dir_add(p, d, argc, argv, &c->handlers, &c->nhandlers,
	    "AddHandler");
}

int
dir_removehandler(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core	*c = core(p, d);
	int		 i;

	if (c == NULL)
		return -1;
	if (argc < 1)
		return ht_error(p, "RemoveHandler needs an extension");
	for (i = 0; i < argc; i++)
		if (add_pair(p, &c->handlers, &c->nhandlers, argv[i], NULL, 0, 1) == -1)
			return -1;
	return 0;
}

static int
one_arg(struct ht_parse *p, int argc, char **argv, const char *what)
{
	if (argc != 1)
		return ht_error(p, "%s takes one argument", what);
	(void)argv;
	return 0;
}

int
dir_forcetype(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core *c = core(p, d);

	if (c == NULL || one_arg(p, argc, argv, "ForceType") == -1)
		return -1;
	if (strcasecmp(argv[0], "none") != 0 && strchr(argv[0], '/') == NULL)
		return ht_error(p, "ForceType: %s is not a media type", argv[0]);
	return set_str(p, &c->force_type, argv[0]);
}

/* DefaultType: only "none" is left of it in Apache 2.4; anything else is ignored. */
int
dir_defaulttype(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)d;
	return one_arg(p, argc, argv, "DefaultType");
}

int
dir_sethandler(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core *c = core(p, d);

	if (c == NULL || one_arg(p, argc, argv, "SetHandler") == -1)
		return -1;
	/*
	 * None in a <Files> names the files to give out as files, as Apache
	 * would (default-handler says so anywhere); a directory's None only
	 * stops scripts, and its non-static names stay refused (an upload
	 * directory's .php is neither run nor handed out).
	 */
	if (strcasecmp(argv[0], "none") == 0 && p->where == HT_IN_FILES)
		return set_str(p, &c->set_handler, "default-handler");
	return set_str(p, &c->set_handler, argv[0]);
}

int
dir_defaultcharset(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_core *c = core(p, d);

	if (c == NULL || one_arg(p, argc, argv, "AddDefaultCharset") == -1)
		return -1;
	return set_str(p, &c->default_charset, strcasecmp(argv[0], "on") == 0 ? "iso-8859-1" :
	    argv[0]);
}

/*
 * php_value NAME VALUE; php_flag NAME on|off; as mod_php reads them: a
 * value "none" is empty, and a flag is 1 for "on" (any case) or "1" and 0
 * for anything else.  Which settings PHP takes from them is phpini.c's.
 */
static int
dir_php(struct ht_parse *p, struct ht_dir *d, int argc, char **argv, int flag)
{
	struct ht_core	*c = core(p, d);
	const char	*v;
	size_t		 i;

	if (c == NULL)
		return -1;
	if (argc != 2)
		return ht_error(p, "php_%s takes two arguments", flag ? "flag" : "value");
	for (i = 0; argv[0][i] != '\0'; i++)
		if (!isalnum((unsigned char)argv[0][i]) && argv[0][i] != '_' && argv[0][i] != '.')
			return ht_error(p, "php: %s is not a setting's name", argv[0]);
	v = argv[1];
	if (flag)
		v = strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0 ? "1" : "0";
	else if (strcasecmp(v, "none") == 0)
		v = "";
	if (strpbrk(v, "\n\r") != NULL)
		return ht_error(p, "php: a value of more than one line");
	return add_pair(p, &c->php, &c->nphp, argv[0], v, 0, 0);
}

int
dir_php_value(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	return dir_php(p, d, argc, argv, 0);
}

int
dir_php_flag(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	return dir_php(p, d, argc, argv, 1);
}

/*
 * mod_php takes the admin forms only in the server's configuration: in a
 * .htaccess they are Apache's "not allowed here", a 500.  (Were they
 * honoured, a locker could set what its administrator meant to fix.)
 */
int
dir_php_admin_value(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	(void)argv;
	return ht_error(p, "php_admin_value not allowed here");
}

int
dir_php_admin_flag(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	(void)argv;
	return ht_error(p, "php_admin_flag not allowed here");
}

/* ------------------------------------------------------------ mod_env */

static struct envop *
env_op(struct ht_parse *p, struct ht_dir *d, enum envop_kind kind)
{
	struct envop *o;

	if (d->env == NULL && (d->env = calloc(1, sizeof(*d->env))) == NULL)
		goto oom;
	if (d->env->nops >= 1024) {
		ht_error(p, "more than 1024 environment directives");
		return NULL;
	}
	if ((o = reallocarray(d->env->ops, (size_t)d->env->nops + 1, sizeof(*o))) == NULL)
		goto oom;
	d->env->ops = o;
	o = &d->env->ops[d->env->nops++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	return o;
oom:
	ht_error(p, "out of memory");
	return NULL;
}

int
dir_setenv(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct envop *o;

	if (argc < 1 || argc > 2)
		return ht_error(p, "SetEnv takes a name and maybe a value");
	if ((o = env_op(p, d, ENV_SET)) == NULL)
		return -1;
	if ((o->name = strdup(argv[0])) == NULL ||
	    (o->value = strdup(argc == 2 ? argv[1] : "")) == NULL)
		return ht_error(p, "out of memory");
	return 0;
}

int
dir_unsetenv(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct envop	*o;
	int		 i;

	if (argc < 1)
		return ht_error(p, "UnsetEnv needs a name");
	for (i = 0; i < argc; i++) {
		if ((o = env_op(p, d, ENV_UNSET)) == NULL)
			return -1;
		if ((o->name = strdup(argv[i])) == NULL)
			return ht_error(p, "out of memory");
	}
	return 0;
}

static int
setenvif(struct ht_parse *p, struct ht_dir *d, int argc, char **argv, int icase)
{
	struct envop	*o;
	PCRE2_UCHAR	 msg[128];
	PCRE2_SIZE	 at;
	int		 e, i;

	if (argc < 3)
		return ht_error(p, "SetEnvIf takes an attribute, a regex and a variable");
	if ((o = env_op(p, d, ENV_IF)) == NULL)
		return -1;
	if ((o->attr = strdup(argv[0])) == NULL ||
	    (o->assign = calloc((size_t)argc - 2, sizeof(char *))) == NULL)
		return ht_error(p, "out of memory");
	o->re = pcre2_compile((PCRE2_SPTR)argv[1], PCRE2_ZERO_TERMINATED,
	    icase ? PCRE2_CASELESS : 0, &e, &at, NULL);
	if (o->re == NULL) {
		pcre2_get_error_message(e, msg, sizeof(msg));
		return ht_error(p, "SetEnvIf: regular expression \"%s\": %s", argv[1], (char *)msg);
	}
	for (i = 2; i < argc; i++)
		if ((o->assign[o->nassign++] = strdup(argv[i])) == NULL)
			return ht_error(p, "out of memory");
	return 0;
}

int
dir_setenvif(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	return setenvif(p, d, argc, argv, 0);
}

int
dir_setenvifnocase(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	return setenvif(p, d, argc, argv, 1);
}

/* ------------------------------------------------------------ requests */

/* SetEnvIf's attribute: a request's part, a header, or a variable set before. */
static const char *
env_attr(struct ht_req *r, const char *a)
{
	if (strcasecmp(a, "Remote_Addr") == 0 || strcasecmp(a, "Remote_Host") == 0)
		return r->remote;
	if (strcasecmp(a, "Server_Addr") == 0)
		return r->local;
	if (strcasecmp(a, "Request_Method") == 0)
		return r->method_str;
	if (strcasecmp(a, "Request_Protocol") == 0)
		return "HTTP/1.1";
	if (strcasecmp(a, "Request_URI") == 0)
		return r->uri;
	if (ht_req_getenv(r, a) != NULL)
		return ht_req_getenv(r, a);
	return ht_req_header(r, a);
}

/*
 * A value with $0..$9 replaced by what the regex captured in v (an unset
 * group: nothing), as mod_setenvif does; -1 when it does not fit.
 */
static int
env_subst(const char *val, const char *v, pcre2_match_data *md, int ngroups, char *out,
    size_t outsz)
{
	PCRE2_SIZE	*ov = pcre2_get_ovector_pointer(md);
	size_t		 o = 0, len;
	const char	*s, *from;

	for (s = val; *s != '\0'; s++) {
		if (*s == '$' && isdigit((unsigned char)s[1])) {
			int g = *++s - '0';

			if (g >= ngroups || ov[2 * g] == PCRE2_UNSET)
				continue;
			from = v + ov[2 * g];
			len = ov[2 * g + 1] - ov[2 * g];
		} else {
			from = s;
			len = 1;
		}
		if (o + len >= outsz)
			return -1;
		memcpy(out + o, from, len);
		o += len;
	}
	out[o] = '\0';
	return 0;
}

/* SetEnvIf's variables, once its regex matched v. */
static int
env_assign(struct ht_req *r, const struct envop *o, const char *v, pcre2_match_data *md,
    int ngroups)
{
	char	value[4096];
	int	i;

	for (i = 0; i < o->nassign; i++) {
		const char	*a = o->assign[i];
		const char	*eq = strchr(a, '=');
		char		 name[256];

		if (*a == '!') {
			ht_req_unsetenv(r, a + 1);
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (eq != NULL && env_subst(eq + 1, v, md, ngroups, value, sizeof(value)) == -1)
			return -1;
		if (ht_req_setenv(r, name, eq ? value : "1") == -1)
			return -1;
	}
	return 0;
}

static int
env_if(struct ht_req *r, const struct envop *o)
{
	const char		*v;
	pcre2_match_data	*md;
	int			 rc;

	r->cacheable = 0;	/* whatever it matched, it was this request's */
	if ((v = env_attr(r, o->attr)) == NULL)
		return 0;
	if ((md = pcre2_match_data_create_from_pattern(o->re, NULL)) == NULL)
		return -1;
	rc = pcre2_match(o->re, (PCRE2_SPTR)v, strlen(v), 0, 0, md, ht_match_context());
	if (rc == PCRE2_ERROR_NOMATCH || rc < 0) {
		pcre2_match_data_free(md);
		return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
	}
	rc = env_assign(r, o, v, md, rc);
	pcre2_match_data_free(md);
	return rc;
}

int
htenv_run(const struct ht_conf *c, struct ht_req *r)
{
	const void	*parts[CHAIN_MAX];
	int		 n, i, j;

	if (c->d.env == NULL)
		return 0;
	n = chain_of(c->d.env, parts);
	for (i = 0; i < n; i++) {
		const struct ht_env *e = parts[i];

		for (j = 0; j < e->nops; j++) {
			const struct envop *o = &e->ops[j];

			if (o->kind == ENV_SET && ht_req_setenv(r, o->name, o->value) == -1)
				return 500;
			if (o->kind == ENV_UNSET)
				ht_req_unsetenv(r, o->name);
			if (o->kind == ENV_IF && env_if(r, o) == -1)
				return 500;
		}
	}
	return 0;
}

/* The last value of ext in a map of the chain, child first; NULL if none. */
static const struct pair *
lookup_ext(const void **parts, int n, size_t off, size_t noff, const char *ext)
{
	int i, j;

	for (i = n - 1; i >= 0; i--) {
		const struct pair	*l = *(struct pair *const *)((const char *)parts[i] + off);
		int			 nl = *(const int *)((const char *)parts[i] + noff);

		for (j = nl - 1; j >= 0; j--)
			if (strcmp(l[j].k, ext) == 0)
				return &l[j];
	}
	return NULL;
}

/*
 * The extensions of a file name, as mod_mime reads them: every one after
 * the first dot ("c.txt.utf8": txt, utf8), lower-cased.
 */
void
ht_exts_of(const char *base, struct ht_exts *x)
{
	const char *p = *base == '.' ? base + 1 : base;

	x->n = 0;
	while ((p = strchr(p, '.')) != NULL && x->n < HT_EXTS_MAX) {
		size_t i, len = strcspn(++p, ".");

		if (len == 0 || len >= sizeof(x->e[0]))
			continue;
		for (i = 0; i < len; i++)
			x->e[x->n][i] = (char)tolower((unsigned char)p[i]);
		x->e[x->n++][len] = '\0';
	}
}

/* The value of the last extension that has one in a map; NULL if none. */
static const struct pair *
lookup_exts(const void **parts, int n, size_t off, size_t noff, const struct ht_exts *x)
{
	const struct pair	*found = NULL, *p;
	int			 i;

	for (i = 0; i < x->n; i++)
		if ((p = lookup_ext(parts, n, off, noff, x->e[i])) != NULL)
			found = p;
	return found;
}

static const char *
last_str(const void **parts, int n, size_t off)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		const char *s = *(char *const *)((const char *)parts[i] + off);

		if (s != NULL)
			return s;
	}
	return NULL;
}

static unsigned
fold_options(const void **parts, int n)
{
	unsigned	o = HT_OPT_FOLLOW;	/* scripts.mit.edu's default */
	int		i;

	for (i = 0; i < n; i++) {
		const struct ht_core *c = parts[i];

		if (!c->opt_set)
			continue;
		o = c->opt_abs ? c->opt_on : (o | c->opt_on) & ~c->opt_off;
	}
	return o;
}

/* What a type says of a handler: the old way of running .html as PHP. */
static const char *
type_handler(const char *type)
{
	return type != NULL && strncasecmp(type, "application/x-httpd-php", 23) == 0 ?
	    "application/x-httpd-php" : NULL;
}

/* AddDefaultCharset's types, as Apache has them. */
int
ht_charset_type(const char *type)
{
	return strcasecmp(type, "text/plain") == 0 || strcasecmp(type, "text/html") == 0;
}

/* An extension that names only a charset does not name the file's type. */
static void
mark_charset_exts(struct ht_req *r, const void **parts, int n, const struct ht_exts *ext)
{
	int i;

	for (i = 0; i < ext->n; i++)
		if (lookup_ext(parts, n, offsetof(struct ht_core, charsets),
		    offsetof(struct ht_core, ncharsets), ext->e[i]) != NULL &&
		    lookup_ext(parts, n, offsetof(struct ht_core, types),
		    offsetof(struct ht_core, ntypes), ext->e[i]) == NULL)
			r->ext_meta |= 1u << i;
}

static int
set_type(struct ht_req *r, const void **parts, int n, const struct ht_exts *ext)
{
	const struct pair	*t, *cs;
	const char		*type = last_str(parts, n, offsetof(struct ht_core, force_type));
	const char		*dcs;
	char			 buf[256];

	if (type != NULL && strcasecmp(type, "none") == 0)
		type = NULL;
	if (type == NULL && (t = lookup_exts(parts, n,
	    offsetof(struct ht_core, types), offsetof(struct ht_core, ntypes), ext)) != NULL)
		type = t->v;
	if (type_handler(type) != NULL)
		return ht_req_set(&r->handler, type_handler(type));
	cs = lookup_exts(parts, n, offsetof(struct ht_core, charsets),
	    offsetof(struct ht_core, ncharsets), ext);
	mark_charset_exts(r, parts, n, ext);
	dcs = last_str(parts, n, offsetof(struct ht_core, default_charset));
	/* The worker applies it to the configuration's type when none is set here. */
	if (cs != NULL && ht_req_set(&r->charset, cs->v) == -1)
		return -1;
	if (cs == NULL && dcs != NULL && ht_req_set(&r->charset, dcs) == -1)
		return -1;
	if (type == NULL)
		return 0;
	if (cs != NULL)
		snprintf(buf, sizeof(buf), "%s; charset=%s", type, cs->v);
	else if (dcs != NULL && strcasecmp(dcs, "off") != 0 && ht_charset_type(type))
		snprintf(buf, sizeof(buf), "%s; charset=%s", type, dcs);
	else
		snprintf(buf, sizeof(buf), "%s", type);
	return ht_req_set(&r->content_type, buf);
}

static int
set_handler(struct ht_req *r, const void **parts, int n, const struct ht_exts *ext)
{
	const struct pair	*h;
	const char		*s = last_str(parts, n, offsetof(struct ht_core, set_handler));

	/* SetHandler None: no script runs, whatever the extension says. */
	if (s != NULL)
		return ht_req_set(&r->handler, strcasecmp(s, "none") == 0 ? "none" :
		    strcasecmp(s, "default-handler") == 0 ? "default-handler" : s);
	if ((h = lookup_exts(parts, n, offsetof(struct ht_core, handlers),
	    offsetof(struct ht_core, nhandlers), ext)) != NULL && h->v != NULL)
		return ht_req_set(&r->handler, h->v);
	return 0;
}

static int
set_php(struct ht_req *r, const void **parts, int n)
{
	int i, j, k;

	for (i = 0; i < n; i++) {
		const struct ht_core *c = parts[i];

		for (j = 0; j < c->nphp; j++) {
			for (k = 0; k < r->nphp; k++)
				if (strcmp(r->php[k].name, c->php[j].k) == 0)
					break;
			if (k < r->nphp) {
				if (ht_req_set(&r->php[k].value, c->php[j].v) == -1)
					return -1;
				continue;
			}
			if (r->nphp == HT_PHP_MAX)
				return -1;
			if ((r->php[k].name = strdup(c->php[j].k)) == NULL ||
			    (r->php[k].value = strdup(c->php[j].v)) == NULL)
				return -1;
			r->php[k].flag = 0;
			r->nphp++;
		}
	}
	return 0;
}

int
htcore_run(const struct ht_conf *c, struct ht_req *r)
{
	const void	*parts[CHAIN_MAX];
	const char	*base, *idx;
	struct ht_exts	 ext;
	int		 n;

	if (c->d.core == NULL)
		return 0;
	n = chain_of(c->d.core, parts);
	base = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
	ht_exts_of(base, &ext);
	r->options = fold_options(parts, n);
	if ((idx = last_str(parts, n, offsetof(struct ht_core, index))) != NULL &&
	    ht_req_set(&r->index, idx) == -1)
		return 500;
	if (set_type(r, parts, n, &ext) == -1 ||
	    (r->handler == NULL && set_handler(r, parts, n, &ext) == -1) ||
	    set_php(r, parts, n) == -1)
		return 500;
	return 0;
}
