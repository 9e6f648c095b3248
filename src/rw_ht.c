/*
 * rw_ht.c: mod_rewrite's and mod_alias's places in htcore's tables: the
 * directive rows' parse functions, the modules' merge and free hooks, and
 * their HT_PH_FIXUP runs, which put a struct ht_req into rewrite.h's
 * terms and the decision back.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "htaccess.h"
#include "rewrite.h"
#include "rw_ht.h"

/* The parts ht_dir holds: one rw_dir each, rules in one, redirects in the other. */
struct ht_rewrite {
	struct rw_dir	*d;
};
struct ht_alias {
	struct rw_dir	*d;
};

/* ------------------------------------------------------------ parsing */

static int
take(struct ht_parse *p, struct rw_dir **dp, const char *name, int argc, char **argv)
{
	char err[400];

	if (rw_directive(dp, name, argc, argv, err, sizeof(err)) == -1)
		return ht_error(p, "%s: %s", name, err);
	rw_set_dir(*dp, p->dir);
	return 0;
}

static struct rw_dir **
rewrite_part(struct ht_dir *d)
{
	if (d->rw == NULL && (d->rw = calloc(1, sizeof(*d->rw))) == NULL)
		abort();
	return &d->rw->d;
}

static struct rw_dir **
alias_part(struct ht_dir *d)
{
	if (d->alias == NULL && (d->alias = calloc(1, sizeof(*d->alias))) == NULL)
		abort();
	return &d->alias->d;
}

#define RW_ROW(fn, name, part)							\
int										\
fn(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)			\
{										\
	return take(p, part(d), name, argc, argv);				\
}
RW_ROW(rw_ht_engine, "RewriteEngine", rewrite_part)
RW_ROW(rw_ht_base, "RewriteBase", rewrite_part)
RW_ROW(rw_ht_options, "RewriteOptions", rewrite_part)
RW_ROW(rw_ht_cond, "RewriteCond", rewrite_part)
RW_ROW(rw_ht_rule, "RewriteRule", rewrite_part)
RW_ROW(rw_ht_map, "RewriteMap", rewrite_part)
RW_ROW(rw_ht_redirect, "Redirect", alias_part)
RW_ROW(rw_ht_redirect_match, "RedirectMatch", alias_part)
RW_ROW(rw_ht_redirect_perm, "RedirectPermanent", alias_part)
RW_ROW(rw_ht_redirect_temp, "RedirectTemp", alias_part)

/* ------------------------------------------------------------ hooks */

void *
rw_ht_merge_rewrite(const void *parent, const void *child)
{
	const struct ht_rewrite	*a = parent, *b = child;
	struct ht_rewrite	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->d = rw_merge(a->d, b->d);
	return m;
}

void *
rw_ht_merge_alias(const void *parent, const void *child)
{
	const struct ht_alias	*a = parent, *b = child;
	struct ht_alias		*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->d = rw_merge(a->d, b->d);
	return m;
}

/* A merged part shares nothing freeable with its sources (rules are
 * counted), so merged_free and free are the same. */
void
rw_ht_free_rewrite(void *part)
{
	struct ht_rewrite *p = part;

	if (p == NULL)
		return;
	rw_dir_free(p->d);
	free(p);
}

void
rw_ht_free_alias(void *part)
{
	struct ht_alias *p = part;

	if (p == NULL)
		return;
	rw_dir_free(p->d);
	free(p);
}

/* ------------------------------------------------------------ requests */

struct ctx {
	struct ht_req	*r;
};

static void	(*note)(const char *);
static void	(*watch_fn)(const char *);

void
rw_ht_set_note(void (*fn)(const char *))
{
	note = fn;
}

void
rw_ht_set_watch(void (*fn)(const char *))
{
	watch_fn = fn;
}

/* A header read: front compares it again before it reuses an answer. */
static void
vary_add(struct ht_req *r, const char *name)
{
	size_t	have = strlen(r->vary), n = strlen(name), i;
	char	low[64];

	if (n == 0 || n >= sizeof(low) || have + n + 2 > sizeof(r->vary)) {
		r->env_unvaried = 1;
		return;
	}
	for (i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)low[i]) && low[i] != '-' && low[i] != '_') {
			r->env_unvaried = 1;
			return;
		}
	snprintf(r->vary + have, sizeof(r->vary) - have, "%s\n", low);
}

static void
log_cb(void *arg, const char *msg)
{
	(void)arg;
	if (note != NULL)
		note(msg);
}

/* What the rules ask of the request's headers decides through rw_req's
 * own uncacheable (E= does not count): ht_req's is left to us. */
static const char *
header(void *arg, const char *name)
{
	struct ctx	*c = arg;
	int		 was = c->r->cacheable;
	const char	*v = ht_req_header(c->r, name);

	c->r->cacheable = was;
	vary_add(c->r, name);
	return v;
}

static const char *
ssl(void *arg, const char *name)
{
	struct ctx	*c = arg;
	int		 was = c->r->cacheable;
	const char	*v = ht_req_ssl(c->r, name);

	c->r->cacheable = was;
	return v;
}

static const char *
getenv_cb(void *arg, const char *name)
{
	return ht_req_getenv(((struct ctx *)arg)->r, name);
}

static void
setenv_cb(void *arg, const char *name, const char *value)
{
	struct ctx *c = arg;

	if (value == NULL)
		ht_req_unsetenv(c->r, name);
	else if (ht_req_setenv(c->r, name, value) == -1)
		log_cb(c, "rewrite: E=: too many environment variables");
}

/* web_scripts as an O_PATH descriptor, for -f and friends: opened once. */
static int
webroot_fd(const char *docroot)
{
	static int	 fd = -1;
	static char	 opened[PATH_MAX];

	if (fd != -1 && strcmp(opened, docroot) == 0)
		return fd;
	if (fd != -1)
		close(fd);
	fd = open(docroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(opened, sizeof(opened), "%s", docroot);
	return fd;
}

/*
 * The URL of the directory whose .htaccess said the rules: the request's
 * path below web_scripts is uri with its URL prefix (and a vhost's
 * subdirectory) swapped, so what follows the directory in path follows
 * it in uri too.
 */
static void
dir_url(const struct ht_req *r, const char *dir, char *out, size_t sz)
{
	size_t	dl = strlen(dir), ul = strlen(r->uri), rl;

	if (r->path[0] == '/' && strncmp(r->path + 1, dir, dl) == 0) {
		rl = strlen(r->path + 1 + dl);
		if (rl <= ul && strcmp(r->uri + ul - rl, r->path + 1 + dl) == 0 &&
		    ul - rl < sz) {
			memcpy(out, r->uri, ul - rl);
			out[ul - rl] = '\0';
			if (ul - rl == 0 || out[ul - rl - 1] != '/')
				snprintf(out, sz, "%.*s/", (int)(ul - rl), r->uri);
			return;
		}
	}
	snprintf(out, sz, "%s/%s", r->url_prefix, dir);
}

static void
fill(struct rw_req *q, struct ht_req *r, struct ctx *c, const struct rw_dir *d,
    char *durl, size_t dsz, char *the_request, size_t tsz, char *name, size_t nsz)
{
	memset(q, 0, sizeof(*q));
	c->r = r;
	q->method = r->method_str;
	q->uri = r->uri;
	q->query = r->query;
	q->protocol = r->protocol != NULL ? r->protocol : "HTTP/1.1";
	snprintf(the_request, tsz, "%s %s %s", r->method_str, r->raw_uri, q->protocol);
	q->the_request = the_request;
	q->host = r->host;
	snprintf(name, nsz, "%.*s", (int)strcspn(r->host, r->host[0] == '[' ? "]" : ":"),
	    r->host);
	if (r->host[0] == '[')
		snprintf(name, nsz, "%.*s]", (int)strcspn(r->host, "]"), r->host);
	q->server_name = name;
	q->remote_addr = r->remote;
	q->https = r->https;
	q->port = r->server_port;
	q->root_url = r->url_prefix;
	dir_url(r, rw_get_dir(d) != NULL ? rw_get_dir(d) : "", durl, dsz);
	q->dir_url = durl;
	q->document_root = r->docroot;
	q->webroot_fd = webroot_fd(r->docroot);
	q->filename = r->filename;
	q->path_base = r->path_base;
	q->header = header;
	q->ssl = ssl;
	q->log = log_cb;
	q->getenv = getenv_cb;
	q->setenv = setenv_cb;
	q->ctx = c;
	q->watch = watch_fn;
	q->internal = r->redirects;
	q->ended = r->rewrite_ended;
}

/* [CO]'s cookies onto every answer, as mod_rewrite's err_headers_out:
 * a name an earlier pass of this request set stays as that pass set it. */
static void
add_cookies(struct ht_req *r, const struct rw_req *q)
{
	size_t	i;
	int	k;

	for (i = 0; i < q->ncookies; i++) {
		for (k = 0; k < r->nhdr; k++)
			if (strcasecmp(r->hdr[k].name, "Set-Cookie") == 0 &&
			    rw_cookie_same(q->cookies[i], r->hdr[k].value))
				break;
		if (k == r->nhdr &&
		    ht_req_add_header(r, "Set-Cookie", q->cookies[i], HT_HDR_ALWAYS) == -1)
			log_cb(NULL, "rewrite: [CO]: a cookie refused (a control character in it, "
			    "or too many fields)");
	}
}

/* Vary onto a success (Apache's headers_out), one field for every pass. */
static void
add_vary(struct ht_req *r, const struct rw_req *q)
{
	char	merged[512];
	int	k;

	if (q->vary[0] == '\0')
		return;
	for (k = 0; k < r->nhdr; k++)
		if (strcasecmp(r->hdr[k].name, "Vary") == 0 && r->hdr[k].flag == 0)
			break;
	if (k == r->nhdr) {
		if (ht_req_add_header(r, "Vary", q->vary, 0) == -1)
			log_cb(NULL, "rewrite: Vary: too many fields");
		return;
	}
	snprintf(merged, sizeof(merged), "%s", r->hdr[k].value);
	rw_vary_merge(merged, sizeof(merged), q->vary);
	if (ht_req_set(&r->hdr[k].value, merged) == -1)
		r->status = 500;
}

/* rw_req's decision into ht_req. */
static int
decided(struct ht_req *r, struct rw_req *q, enum rw_result res)
{
	int rc = HT_FIX_NONE;

	add_cookies(r, q);
	add_vary(r, q);
	if (q->uncacheable)
		r->cacheable = 0;
	if (q->unvaried)
		r->env_unvaried = 1;
	if (q->ended)
		r->rewrite_ended = 1;
	if ((q->content_type != NULL && ht_req_set(&r->content_type, q->content_type) == -1) ||
	    (q->handler != NULL && ht_req_set(&r->handler, q->handler) == -1))
		r->status = 500;
	if (res == RW_STATUS) {
		r->status = q->status;
		if (q->location != NULL && ht_req_set(&r->location, q->location) == -1)
			r->status = 500;
		rc = HT_FIX_STATUS;
	} else if (res == RW_INTERNAL) {
		if (ht_req_set(&r->uri, q->new_uri) == -1 ||
		    ht_req_set(&r->query, q->new_query != NULL ? q->new_query : "") == -1) {
			r->status = 500;
			rc = HT_FIX_STATUS;
		} else
			rc = HT_FIX_INTERNAL;
	}
	rw_req_clear(q);
	return rc;
}

static int
run(const struct rw_dir *d, struct ht_req *r, int alias)
{
	struct rw_req	q;
	struct ctx	c;
	char		durl[PATH_MAX], the_request[PATH_MAX + 64], name[256];

	if (d == NULL)
		return HT_FIX_NONE;
	fill(&q, r, &c, d, durl, sizeof(durl), the_request, sizeof(the_request), name,
	    sizeof(name));
	return decided(r, &q, alias ? alias_fixup(d, &q) : rewrite_fixup(d, &q));
}

int
rw_ht_rewrite(const struct ht_conf *c, struct ht_req *r)
{
	return run(c->d.rw != NULL ? c->d.rw->d : NULL, r, 0);
}

int
rw_ht_alias(const struct ht_conf *c, struct ht_req *r)
{
	return run(c->d.alias != NULL ? c->d.alias->d : NULL, r, 1);
}
