/*
 * access.c: Require and its containers, AuthMerging, Order/Allow/Deny and
 * Satisfy, SSLVerifyClient and SSLRequire, with Apache 2.4's meaning.
 *
 * Require (mod_authz_core) builds a tree: every Require of a file goes
 * into an implicit <RequireAny>; a section's result is one of granted,
 * denied, denied-for-want-of-a-user, neutral or error, combined as Apache
 * does (a negation turns granted into denied and a denial into neutral,
 * never into granted, so a "not" is refused where it cannot matter).
 * A requirement written inside <Limit> carries its methods: for another
 * method it is granted below an AND and neutral below an OR.
 *
 * The 2.2 forms (mod_access_compat) run first, as Apache's access_checker
 * hook: with "Satisfy Any" their success alone lets the request in.
 *
 * The addresses, the 2.2 forms and mod_ssl's checks are access_host.c's.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access_int.h"
#include "http.h"

void (*access_log_fn)(const char *line);

void
access_log(const char *fmt, ...)
{
	char	buf[1024], *p;
	va_list	ap;

	if (access_log_fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* A user name or a URL is the client's: no line of its making. */
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	access_log_fn(buf);
}

/* ------------------------------------------------------------ parts */

static struct ht_access *
part(struct ht_dir *d)
{
	struct ht_access	*a;
	int			 i;

	if (d->access != NULL)
		return d->access;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->forbidden_on_fail = -1;
	a->verify = -1;
	for (i = 0; i < NMETHODS; i++)
		a->order[i] = ORDER_DENY_ALLOW;
	d->access = a;
	return a;
}

/* A part a directive inside <Limit> adds to remembers those methods. */
struct ht_access *
az_part_p(struct ht_parse *p, struct ht_dir *d)
{
	struct ht_access	*a = part(d);

	if (a == NULL)
		return NULL;
	a->serial = p->serial;
	if (p->limit != 0)
		a->in_limit |= p->limit;
	return a;
}

static void
node_free(struct az_node *n)
{
	struct az_node	*c, *next;
	int		 i;

	if (n == NULL)
		return;
	for (c = n->first; c != NULL; c = next) {
		next = c->next;
		node_free(c);
	}
	for (i = 0; i < n->nargs; i++)
		free(n->args[i]);
	free(n->args);
	free(n->nets);
	if (n->expr != NULL)
		ht_expr_free(n->expr);
	free(n);
}


void
access_free(void *v)
{
	struct ht_access	*a = v;
	int			 i;

	if (a == NULL)
		return;
	/* containers a parse error left open */
	for (i = 0; i < a->nopen; i++)
		node_free(a->open[i]);
	node_free(a->section);
	az_from_free(a->allows);
	az_from_free(a->denys);
	for (i = 0; i < a->nssl_req; i++)
		ht_expr_free(a->ssl_req[i]);
	free(a);
}

uint32_t
az_limited_of(const struct ht_parse *p)
{
	return p->limit != 0 ? p->limit : ALL_METHODS;
}

/* ------------------------------------------------------------ Require */

static char **
copy_args(int argc, char **argv)
{
	char	**v;
	int	  i;

	if ((v = calloc((size_t)argc + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < argc; i++)
		if ((v[i] = strdup(argv[i])) == NULL) {
			while (i-- > 0)
				free(v[i]);
			free(v);
			return NULL;
		}
	return v;
}


static int
leaf_nets(struct ht_parse *p, struct az_node *n, int argc, char **argv)
{
	int	i;

	if (argc == 0)
		return ht_error(p, "Require ip takes at least one address");
	if ((n->nets = calloc((size_t)argc, sizeof(*n->nets))) == NULL)
		return ht_error(p, "out of memory");
	for (i = 0; i < argc; i++)
		if (az_parse_net(argv[i], &n->nets[i]) == -1)
			return ht_error(p, "Require ip: '%s' is not an address or network", argv[i]);
	n->nnets = argc;
	return 0;
}

static int
leaf_methods(struct ht_parse *p, struct az_node *n, int argc, char **argv)
{
	int	i, m;

	if (argc == 0)
		return ht_error(p, "Require method takes at least one method");
	for (i = 0; i < argc; i++) {
		m = az_method_index(argv[i]);
		n->methods |= 1u << m;
		if (m == HTTP_M_GET)
			n->methods |= 1u << HTTP_M_HEAD;
	}
	return 0;
}

/*
 * The expression as written: Apache reads Require's arguments raw, quotes
 * and all ('alyssa' stays a string), so it is taken from the line past
 * "[not] expr", not from the split words.
 */
static const char *
skip_word(const char *s)
{
	s += strcspn(s, " \t");
	return s + strspn(s, " \t");
}

static int
leaf_expr(struct ht_parse *p, struct az_node *n, int argc, char **argv)
{
	char		 text[HT_MAX_LINE];
	const char	*s = p->raw;
	size_t		 len;

	if (s != NULL) {
		s += strspn(s, " \t");
		if (strncasecmp(s, "not", 3) == 0 && (s[3] == ' ' || s[3] == '\t'))
			s = skip_word(s);
		snprintf(text, sizeof(text), "%s", skip_word(s));	/* past "expr" */
	} else if (az_join_args(text, sizeof(text), argc, argv) == -1)
		return ht_error(p, "Require expr: the expression is too long");
	if (text[0] == '\0')
		return ht_error(p, "Require expr takes an expression");
	len = strlen(text);
	if (len >= 2 && text[0] == '"' && text[len - 1] == '"') {
		memmove(text, text + 1, len - 2);
		text[len - 2] = '\0';
	}
	n->want_user = strstr(text, "REMOTE_USER") != NULL;
	if ((n->expr = ht_expr_parse(p, text)) == NULL)
		return -1;
	return 0;
}

static int
leaf_parse(struct ht_parse *p, struct az_node *n, const char *what, int argc, char **argv)
{
	static const struct { const char *name; enum az_kind kind; int nargs; } k[] = {
		{ "all", AK_ALL, 1 }, { "ip", AK_IP, -1 }, { "host", AK_HOST, -1 },
		{ "local", AK_LOCAL, 0 }, { "valid-user", AK_VALID_USER, 0 },
		{ "user", AK_USER, -1 }, { "group", AK_GROUP, -1 }, { "env", AK_ENV, -1 },
		{ "method", AK_METHOD, -1 }, { "expr", AK_EXPR, -1 },
		{ "forward-dns", AK_FWD_DNS, -1 },
	};
	size_t	i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (strcasecmp(what, k[i].name) == 0)
			break;
	if (i == sizeof(k) / sizeof(k[0]))
		return ht_error(p, "Unknown Authz provider: %s", what);
	n->kind = k[i].kind;
	if (k[i].nargs == 0 && argc != 0)
		return ht_error(p, "Require %s takes no argument", k[i].name);
	switch (n->kind) {
	case AK_ALL:
		if (argc != 1 || (strcasecmp(argv[0], "granted") != 0 &&
		    strcasecmp(argv[0], "denied") != 0))
			return ht_error(p, "Argument for 'Require all' must be 'granted' or 'denied'");
		n->granted = strcasecmp(argv[0], "granted") == 0;
		return 0;
	case AK_IP:
		return leaf_nets(p, n, argc, argv);
	case AK_METHOD:
		return leaf_methods(p, n, argc, argv);
	case AK_EXPR:
		return leaf_expr(p, n, argc, argv);
	case AK_HOST:
	case AK_FWD_DNS:
	case AK_USER:
	case AK_GROUP:
	case AK_ENV:
		if (argc == 0)
			return ht_error(p, "Require %s takes at least one argument", k[i].name);
		if ((n->args = copy_args(argc, argv)) == NULL)
			return ht_error(p, "out of memory");
		n->nargs = argc;
		return 0;
	default:
		return 0;
	}
}

/* The container a Require or a section goes into, made if need be. */
static struct az_node *
current(struct ht_access *a)
{
	if (a->nopen > 0)
		return a->open[a->nopen - 1];
	if (a->section == NULL && (a->section = calloc(1, sizeof(*a->section))) != NULL)
		a->section->op = AZ_OR;
	return a->section;
}

static void
append(struct az_node *parent, struct az_node *n)
{
	struct az_node	**tail = &parent->first;

	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = n;
	parent->limited |= n->limited;
}

static const char *
op_name(const struct az_node *n)
{
	if (n->op == AZ_AND)
		return "<RequireAll>";
	return n->negate ? "<RequireNone>" : "<RequireAny>";
}

/*
 * Require's raw arguments into words: blanks separate them, a quote
 * groups to its match and goes; lenient, as expr's text is read raw anyway.
 */
static int
split_raw(char *buf, char **argv, int max)
{
	char	*in = buf, *out = buf, q;
	int	 argc = 0;

	for (;;) {
		while (*in == ' ' || *in == '\t')
			in++;
		if (*in == '\0' || argc == max)
			break;
		argv[argc++] = out;
		while (*in != '\0' && *in != ' ' && *in != '\t') {
			if (*in == '"' || *in == '\'') {
				for (q = *in++; *in != '\0' && *in != q; )
					*out++ = *in++;
				in += *in == q;
			} else
				*out++ = *in++;
		}
		in += *in != '\0';
		*out++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

int
access_require(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	static char		 buf[HT_MAX_LINE + 1];
	char			*words[HT_MAX_ARGS + 1];
	struct ht_access	*a;
	struct az_node		*n, *parent;
	int			 neg = 0;

	if (argc == 0 && p->raw != NULL) {
		snprintf(buf, sizeof(buf), "%s", p->raw);
		argc = split_raw(buf, words, HT_MAX_ARGS);
		argv = words;
	}
	if ((a = az_part_p(p, d)) == NULL)
		return ht_error(p, "out of memory");
	if (argc > 0 && strcasecmp(argv[0], "not") == 0) {
		neg = 1;
		argc--, argv++;
	}
	if (argc == 0)
		return ht_error(p, "Require takes a provider");
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return ht_error(p, "out of memory");
	n->op = AZ_LEAF;
	n->negate = neg;
	n->limited = az_limited_of(p);
	if (leaf_parse(p, n, argv[0], argc - 1, argv + 1) == -1 ||
	    (parent = current(a)) == NULL) {
		node_free(n);
		return p->err[0] ? -1 : ht_error(p, "out of memory");
	}
	if (neg && parent->op == AZ_OR) {
		node_free(n);
		return ht_error(p, "negative Require directive has no effect in %s directive",
		    op_name(parent));
	}
	append(parent, n);
	return 0;
}

static int
open_section(struct ht_parse *p, struct ht_dir *d, int argc, enum az_op op, int negate)
{
	struct ht_access	*a;
	struct az_node		*n;

	if (argc != 0)
		return ht_error(p, "Require container takes no arguments");
	if ((a = az_part_p(p, d)) == NULL || (n = calloc(1, sizeof(*n))) == NULL)
		return ht_error(p, "out of memory");
	if (a->nopen == HT_MAX_DEPTH) {
		free(n);
		return ht_error(p, "Require containers nested too deep");
	}
	n->op = op;
	n->negate = negate;
	a->open[a->nopen++] = n;
	return 0;
}

int
access_open_all(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)argv;
	return open_section(p, d, argc, AZ_AND, 0);
}

int
access_open_any(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)argv;
	return open_section(p, d, argc, AZ_OR, 0);
}

int
access_open_none(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)argv;
	return open_section(p, d, argc, AZ_OR, 1);
}

/* A section needs one requirement that is not negated (authz_core_check_section). */
static int
has_positive(const struct az_node *n)
{
	const struct az_node	*c;

	for (c = n->first; c != NULL; c = c->next)
		if (!c->negate)
			return 1;
	return 0;
}

int
access_close(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_access	*a = d->access;
	struct az_node		*n, *parent = NULL;
	const char		*name;
	int			 rc;

	(void)argc, (void)argv;
	if (a == NULL || a->nopen == 0)
		return ht_error(p, "closing a Require container that is not open");
	n = a->open[--a->nopen];
	name = op_name(n);	/* a string constant: it outlives n */
	if (n->first == NULL)
		rc = ht_error(p, "%s directive contains no authorization directives", name);
	else if (!has_positive(n))
		rc = ht_error(p, "%s directive contains only negative authorization directives", name);
	else if ((parent = current(a)) == NULL)
		rc = ht_error(p, "out of memory");
	else if (n->negate && parent->op == AZ_OR)
		rc = ht_error(p, "%s directive has no effect in %s directive", name, op_name(parent));
	else
		rc = 0;
	if (rc == -1) {
		node_free(n);
		return -1;
	}
	append(parent, n);
	return 0;
}

int
access_finish(struct ht_parse *p, struct ht_dir *d)
{
	struct ht_access	*a = d->access;

	if (a == NULL)
		return 0;
	if (a->nopen > 0)
		return ht_error(p, "%s not closed", op_name(a->open[a->nopen - 1]));
	if (a->section != NULL && !has_positive(a->section))
		return ht_error(p, "the directory contains only negative authorization directives");
	return 0;
}

int
access_merging(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_access	*a;

	if (argc != 1)
		return ht_error(p, "AuthMerging takes one argument");
	if ((a = az_part_p(p, d)) == NULL)
		return ht_error(p, "out of memory");
	if (strcasecmp(argv[0], "Off") == 0)
		a->merging = MERGE_OFF;
	else if (strcasecmp(argv[0], "And") == 0)
		a->merging = MERGE_AND;
	else if (strcasecmp(argv[0], "Or") == 0)
		a->merging = MERGE_OR;
	else
		return ht_error(p, "AuthMerging must be one of: Off | And | Or");
	return 0;
}

int
access_forbidden_on_fail(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_access	*a;

	if (argc != 1 || (strcasecmp(argv[0], "on") != 0 && strcasecmp(argv[0], "off") != 0))
		return ht_error(p, "AuthzSendForbiddenOnFailure takes On or Off");
	if ((a = az_part_p(p, d)) == NULL)
		return ht_error(p, "out of memory");
	a->forbidden_on_fail = strcasecmp(argv[0], "on") == 0;
	return 0;
}

/* ------------------------------------------------------------ merging */

static struct az_node *
node_copy(const struct az_node *n)
{
	struct az_node	*c;

	if ((c = malloc(sizeof(*c))) != NULL)
		*c = *n;
	return c;
}

/*
 * A section of op over copies of a and b (the originals stay their
 * files'); the three nodes are m's to free.
 */
static int
join_sections(struct ht_access *m, const struct az_node *a, const struct az_node *b,
    enum az_op op)
{
	struct az_node *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->first = node_copy(a)) == NULL ||
	    (s->first->next = node_copy(b)) == NULL) {
		if (s != NULL)
			free(s->first);
		free(s);
		return -1;
	}
	s->first->next->next = NULL;
	s->op = op;
	s->limited = a->limited | b->limited;
	m->made[m->nmade++] = s;
	m->made[m->nmade++] = s->first;
	m->made[m->nmade++] = s->first->next;
	m->section = s;
	return 0;
}

/* Apache's merge_authz_core_dir_config: Off replaces, And/Or join. */
static int
merge_authz(struct ht_access *m, const struct ht_access *base, const struct ht_access *new)
{
	m->merging = new->merging;
	m->section = new->section;
	if (new->section == NULL && new->merging == MERGE_UNSET) {
		m->section = base->section;
		m->merging = base->merging;
		return 0;
	}
	if (new->merging == MERGE_OFF || new->merging == MERGE_UNSET ||
	    (base->section == NULL && new->section == NULL))
		return 0;
	if (base->section == NULL || new->section == NULL) {
		m->section = base->section != NULL ? base->section : new->section;
		return 0;
	}
	return join_sections(m, base->section, new->section,
	    new->merging == MERGE_AND ? AZ_AND : AZ_OR);
}

/* A <Limit>'s requirements join its file's implicit <RequireAny>. */
static int
merge_limit_authz(struct ht_access *m, const struct ht_access *base,
    const struct ht_access *new)
{
	m->merging = base->merging;
	if (base->section == NULL || new->section == NULL) {
		m->section = base->section != NULL ? base->section : new->section;
		return 0;
	}
	return join_sections(m, base->section, new->section, AZ_OR);
}

/* A <Limit>'s Order for its methods, its Allow and Deny after its file's. */
static void
merge_limit_compat(struct ht_access *m, const struct ht_access *base,
    const struct ht_access *new)
{
	int	i;

	m->has_compat = base->has_compat || new->has_compat;
	for (i = 0; i < NMETHODS; i++)
		m->order[i] = (new->in_limit & (1u << i)) ? new->order[i] : base->order[i];
	m->allows = base->allows;
	m->denys = base->denys;
	m->allows2 = new->allows;
	m->denys2 = new->denys;
}

void *
access_merge(const void *pv, const void *cv)
{
	const struct ht_access	*base = pv, *new = cv;
	struct ht_access	*m;
	int			 i, same;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->merged = 1;
	m->serial = new->serial;
	/* A <Limit>'s joins its own file's; with none there, it is the file's
	 * whole configuration and replaces the parent's, like any child's. */
	same = new->in_limit && base->serial == new->serial;
	if ((same ? merge_limit_authz(m, base, new) : merge_authz(m, base, new)) == -1) {
		free(m);
		return NULL;
	}
	m->forbidden_on_fail = new->forbidden_on_fail != -1 ? new->forbidden_on_fail :
	    base->forbidden_on_fail;
	/* mod_access_compat has no merge: a directory naming any replaces all. */
	if (same)
		merge_limit_compat(m, base, new);
	else {
		const struct ht_access	*src = new->has_compat ? new : base;

		m->has_compat = src->has_compat;
		memcpy(m->order, src->order, sizeof(m->order));
		m->allows = src->allows;
		m->denys = src->denys;
	}
	for (i = 0; i < NMETHODS; i++)
		m->satisfy[i] = new->satisfy[i] != SAT_UNSET ? new->satisfy[i] : base->satisfy[i];
	m->verify = new->verify != -1 ? new->verify : base->verify;
	/* mod_ssl appends a directory's SSLRequire to its parent's. */
	for (i = 0; i < base->nssl_req && m->nssl_req < 16; i++)
		m->ssl_req[m->nssl_req++] = base->ssl_req[i];
	for (i = 0; i < new->nssl_req && m->nssl_req < 16; i++)
		m->ssl_req[m->nssl_req++] = new->ssl_req[i];
	return m;
}

void
access_merged_free(void *v)
{
	struct ht_access	*m = v;
	int			 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nmade; i++)
		free(m->made[i]);
	free(m);
}

/* ------------------------------------------------------------ evaluation */

static int
in_list(char *const *list, int n, const char *s)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static enum az_result
leaf_check(const struct ht_conf *c, const struct az_node *n, struct ht_req *r)
{
	uint8_t	a[16];
	int	i, g;

	if (n->kind != AK_ALL)
		r->cacheable = 0;
	switch (n->kind) {
	case AK_ALL:
		return n->granted ? AZ_GRANTED : AZ_DENIED;
	case AK_IP:
		if (az_remote_addr(r, a) == 0)
			for (i = 0; i < n->nnets; i++)
				if (az_net_match(&n->nets[i], a))
					return AZ_GRANTED;
		return AZ_DENIED;
	case AK_LOCAL:
		return az_remote_addr(r, a) == 0 && az_is_loopback(a) ? AZ_GRANTED : AZ_DENIED;
	case AK_HOST:
		for (i = 0; i < n->nargs; i++)
			if (az_remote_name(r) != NULL && az_host_match(n->args[i], az_remote_name(r)))
				return AZ_GRANTED;
		return AZ_DENIED;
	case AK_FWD_DNS:
		if (az_remote_addr(r, a) == 0)
			for (i = 0; i < n->nargs; i++)
				if (az_name_has_addr(n->args[i], a))
					return AZ_GRANTED;
		return AZ_DENIED;
	case AK_ENV:
		for (i = 0; i < n->nargs; i++)
			if (ht_req_getenv(r, n->args[i]) != NULL)
				return AZ_GRANTED;
		return AZ_DENIED;
	case AK_METHOD:
		return n->methods & (1u << (r->method >= 0 && r->method < NMETHODS ? r->method : 0)) ?
		    AZ_GRANTED : AZ_DENIED;
	case AK_VALID_USER:
		return r->user != NULL ? AZ_GRANTED : AZ_NO_USER;
	case AK_USER:
		if (r->user == NULL)
			return AZ_NO_USER;
		return in_list(n->args, n->nargs, r->user) ? AZ_GRANTED : AZ_DENIED;
	case AK_GROUP:
		if (r->user == NULL)
			return AZ_NO_USER;
		g = auth_in_group(c, r->user, n->nargs, n->args);
		return g < 0 ? AZ_ERROR : g ? AZ_GRANTED : AZ_DENIED;
	case AK_EXPR:
		g = ht_expr_eval(n->expr, r);
		if (g < 0) {
			access_log("error evaluating expression in 'Require expr'");
			return AZ_ERROR;
		}
		return g ? AZ_GRANTED : n->want_user && r->user == NULL ? AZ_NO_USER : AZ_DENIED;
	}
	return AZ_ERROR;
}

/* mod_authz_core's apply_authz_sections(), result for result. */
static enum az_result
apply(const struct ht_conf *c, const struct az_node *n, enum az_op parent, struct ht_req *r)
{
	const struct az_node	*k;
	enum az_result		 res = AZ_NEUTRAL, kr;

	if (!(n->limited & (1u << az_req_method(r)))) {
		r->cacheable = 0;
		return parent == AZ_AND ? AZ_GRANTED : AZ_NEUTRAL;
	}
	if (n->op == AZ_LEAF)
		res = leaf_check(c, n, r);
	else
		for (k = n->first; k != NULL; k = k->next) {
			kr = apply(c, k, n->op, r);
			if (kr == AZ_ERROR)
				return AZ_ERROR;
			if (kr == AZ_NEUTRAL)
				continue;
			if (n->op == AZ_AND) {
				if (kr == AZ_DENIED) {
					res = kr;
					break;
				}
				if ((kr == AZ_NO_USER && res != AZ_DENIED) || res == AZ_NEUTRAL)
					res = kr;
			} else {
				if (kr == AZ_GRANTED) {
					res = kr;
					break;
				}
				if ((kr == AZ_NO_USER && res == AZ_DENIED) || res == AZ_NEUTRAL)
					res = kr;
			}
		}
	if (n->negate) {
		if (res == AZ_GRANTED)
			res = AZ_DENIED;
		else if (res == AZ_DENIED || res == AZ_NO_USER)
			res = AZ_NEUTRAL;
	}
	return res;
}

static int
finish(struct ht_req *r, int status)
{
	r->status = status;
	return status;
}

/* After authentication: authorize_user_core(r, 1). */
static int
authz_with_user(const struct ht_conf *c, const struct ht_access *a, struct ht_req *r)
{
	enum az_result	res = apply(c, a->section, AZ_AND, r);

	if (res == AZ_GRANTED)
		return 0;
	if (res == AZ_ERROR)
		return finish(r, 500);
	access_log("user %s: authorization failure for \"%s\"", r->user, r->uri ? r->uri : "");
	if (res != AZ_NO_USER && a->forbidden_on_fail == 1)
		return finish(r, 403);
	auth_challenge(c, r);
	return finish(r, 401);
}

int
access_run(const struct ht_conf *c, struct ht_req *r)
{
	const struct ht_access	*a = c->d.access;
	enum az_result		 res;
	int			 st, any;

	if ((st = az_ssl_check(a, r)) != 0)
		return finish(r, st);
	any = a != NULL && a->satisfy[az_req_method(r)] == SAT_ANY;
	if ((st = az_compat_check(a, r)) == 0 && any) {
		r->cacheable = 0;
		return 0;
	}
	if (st != 0 && !any) {
		access_log("client denied by server configuration: %s", r->uri ? r->uri : "");
		return finish(r, 403);
	}
	/*
	 * Apache answers 500 to an AuthType with no Require; here a Require
	 * inside a <Limit> for other methods is not merged for this one (its
	 * section does not hold), so no Require is "nothing required".
	 */
	if (a == NULL || a->section == NULL)
		return 0;
	res = apply(c, a->section, AZ_AND, r);
	if (res == AZ_GRANTED)
		return 0;
	if (res == AZ_ERROR)
		return finish(r, 500);
	if (res != AZ_NO_USER) {
		access_log("client denied by server configuration: %s", r->uri ? r->uri : "");
		return finish(r, 403);
	}
	r->cacheable = 0;
	if (!auth_configured(c)) {
		access_log("a Require needs a user, and no AuthType is set");
		return finish(r, 500);
	}
	if ((st = auth_authenticate(c, r)) != 0)
		return finish(r, st);
	return authz_with_user(c, a, r);
}
