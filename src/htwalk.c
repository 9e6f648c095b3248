/*
 * htwalk.c: which .htaccess files apply to a request, each parsed once and
 * kept while its stamps hold, and their merge from web_scripts/ down with
 * the sections that match (worker only: the files are the locker's bytes).
 *
 * A request costs one fstatat() per directory from web_scripts/ to its
 * target, whether a file is there or not: a locker without any .htaccess
 * pays a failed lookup per level, and one with files re-reads none that
 * did not change (same device, inode, size, mtime and ctime to the
 * nanosecond).
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lockerd.h"
#include "http.h"
#include "htaccess.h"
#include "htcore.h"
#include "autoindex.h"
#include "htwalk.h"
#include "htdocs.h"

#define CACHE_MAX	256	/* parsed files kept; past it, all are dropped */

struct stamp {
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtim, ctim;
};

struct cached {
	char		*dir;		/* "" or "a/b/" */
	struct stamp	 st;
	struct ht_dir	*d;		/* NULL: the file did not parse */
	char		*err;		/* then why */
};

static struct cached	cache[CACHE_MAX];
static int		ncache;

static void
stamp_of(const struct stat *s, struct stamp *t)
{
	memset(t, 0, sizeof(*t));
	t->dev = s->st_dev;
	t->ino = s->st_ino;
	t->size = s->st_size;
	t->mtim = s->st_mtim;
	t->ctim = s->st_ctim;
}

static int
stamp_eq(const struct stamp *a, const struct stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
	    a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static void
cached_clear(struct cached *c)
{
	free(c->dir);
	ht_dir_free(c->d);
	free(c->err);
	memset(c, 0, sizeof(*c));
}

void
ht_cache_clear(void)
{
	int i;

	for (i = 0; i < ncache; i++)
		cached_clear(&cache[i]);
	ncache = 0;
}

static struct cached *
cache_find(const char *dir)
{
	int i;

	for (i = 0; i < ncache; i++)
		if (strcmp(cache[i].dir, dir) == 0)
			return &cache[i];
	return NULL;
}

/* Read the whole file, bounded; NULL with errno (EFBIG past the bound). */
static char *
slurp(int fd, size_t *len)
{
	char	*buf = malloc(HT_MAX_FILE + 1);
	size_t	 n = 0;
	ssize_t	 k;

	if (buf == NULL)
		return NULL;
	while (n <= HT_MAX_FILE && (k = read(fd, buf + n, HT_MAX_FILE + 1 - n)) != 0) {
		if (k == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		n += (size_t)k;
	}
	*len = n;
	return buf;
}

/* Parse dir's file (open as fd, of stamps st) into its cache slot. */
static struct cached *
load(const struct ht_walker *w, const char *dir, int fd, const struct stamp *st)
{
	struct ht_parse	 p;
	struct cached	*c = cache_find(dir);
	char		 file[PATH_MAX];
	char		*buf;
	size_t		 len = 0;

	if (c != NULL)
		cached_clear(c);
	else {
		if (ncache == CACHE_MAX)
			ht_cache_clear();
		c = &cache[ncache++];
	}
	snprintf(file, sizeof(file), "web_scripts/%s.htaccess", dir);
	memset(&p, 0, sizeof(p));
	p.file = file;
	p.dir = dir;
	c->st = *st;
	if ((c->dir = strdup(dir)) == NULL)
		goto fail;
	if ((buf = slurp(fd, &len)) == NULL) {
		snprintf(p.err, sizeof(p.err), "%s: %s", file, strerror(errno));
	} else {
		c->d = ht_parse_file(&p, buf, len);
		free(buf);
	}
	if (c->d == NULL && (c->err = strdup(p.err)) == NULL)
		goto fail;
	(void)w;
	return c;
fail:
	cached_clear(c);
	ncache--;
	if (c != &cache[ncache]) {
		*c = cache[ncache];
		memset(&cache[ncache], 0, sizeof(cache[ncache]));
	}
	return NULL;
}

/*
 * dir's .htaccess, from the cache while its stamps hold.  0 with *out
 * NULL when there is none, 0 with *out set, or -1 with err set.
 */
static int
one_dir(const struct ht_walker *w, const char *dir, struct ht_dir **out, char *err,
    size_t errsz)
{
	char		 rel[PATH_MAX];
	struct stat	 sb;
	struct stamp	 st;
	struct cached	*c;
	int		 fd;

	*out = NULL;
	if (w->watch != NULL)
		w->watch(dir);	/* first: a change after the look is then heard */
	snprintf(rel, sizeof(rel), "%s.htaccess", dir);
	if (fstatat(w->webroot, rel, &sb, 0) == -1) {
		/* A segment longer than NAME_MAX holds no .htaccess either: the
		 * file's own open answers for it, as any missing one. */
		if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG)
			return 0;
		snprintf(err, errsz, "web_scripts/%s: %s", rel, strerror(errno));
		return -1;
	}
	stamp_of(&sb, &st);
	if ((c = cache_find(dir)) == NULL || !stamp_eq(&c->st, &st)) {
		/* Opened as any file of the web is: never through a symlink
		 * out of the home, and only a regular file. */
		if ((fd = w->open_beneath(rel)) == -1) {
			snprintf(err, errsz, "web_scripts/%s: %s", rel, strerror(errno));
			return -1;
		}
		if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
			close(fd);
			snprintf(err, errsz, "web_scripts/%s: not a regular file", rel);
			return -1;
		}
		stamp_of(&sb, &st);
		c = load(w, dir, fd, &st);
		close(fd);
		if (c == NULL) {
			snprintf(err, errsz, "web_scripts/%s: out of memory", rel);
			return -1;
		}
	}
	if (c->d == NULL) {
		snprintf(err, errsz, "%s", c->err);
		return -1;
	}
	*out = c->d;
	return 0;
}

int
ht_walk(const struct ht_walker *w, const char *rel, struct ht_chain *ch, char *err,
    size_t errsz)
{
	char		 dir[PATH_MAX];
	size_t		 i, n = strlen(rel);
	struct ht_dir	*d;

	ch->n = 0;
	if (n + 2 >= sizeof(dir))
		return 0;
	/* "", then every directory of rel ("a/", "a/b/"), then rel itself,
	 * which may be one (a file there ends in ENOTDIR: nothing). */
	for (i = 0; i <= n; i++) {
		if (i > 0 && i < n && rel[i - 1] != '/')
			continue;
		if (i == n && n == 0)
			break;
		if (i == n) {
			memcpy(dir, rel, n);
			dir[n] = '/';
			dir[n + (rel[n - 1] != '/')] = '\0';
		} else {
			memcpy(dir, rel, i);
			dir[i] = '\0';
		}
		if (one_dir(w, dir, &d, err, errsz) == -1)
			return -1;
		if (d != NULL && ch->n < HT_MAX_CHAIN)
			ch->d[ch->n++] = d;
	}
	if (n == 0) {
		if (one_dir(w, "", &d, err, errsz) == -1)
			return -1;
		if (d != NULL)
			ch->d[ch->n++] = d;
	}
	return 0;
}

/* ------------------------------------------------------------ merge */

static int
own(struct ht_conf *c, const struct ht_module *m, void *part)
{
	if (c->nowned == c->cap) {
		int	 cap = c->cap ? c->cap * 2 : 16;
		void	**o = reallocarray(c->owned, (size_t)cap, sizeof(*o));
		const struct ht_module **w;

		if (o == NULL)
			return -1;
		c->owned = o;
		if ((w = reallocarray(c->owner, (size_t)cap, sizeof(*w))) == NULL)
			return -1;
		c->owner = w;
		c->cap = cap;
	}
	c->owned[c->nowned] = part;
	c->owner[c->nowned++] = m;
	return 0;
}

/* Merge child's parts over what c holds: 0, or -1 (out of memory). */
static int
merge_dir(struct ht_conf *c, const struct ht_dir *child)
{
	const struct ht_module *m;

	for (m = ht_modules; m->name != NULL; m++) {
		void	**have = (void **)((char *)&c->d + m->off);
		void	 *part = *(void *const *)((const char *)child + m->off);
		void	 *merged;

		if (part == NULL)
			continue;
		if (*have == NULL || m->merge == NULL) {
			*have = part;
			continue;
		}
		if ((merged = m->merge(*have, part)) == NULL)
			return -1;
		if (own(c, m, merged) == -1) {
			if (m->merged_free != NULL)
				m->merged_free(merged);
			return -1;
		}
		*have = merged;
	}
	return 0;
}

static int
files_match(const struct ht_section *s, const char *base)
{
	pcre2_match_data	*md;
	int			 rc;

	if (!s->is_regex)
		return fnmatch(s->pattern, base, FNM_PERIOD) == 0;
	if ((md = pcre2_match_data_create_from_pattern(s->re, NULL)) == NULL)
		return 0;
	rc = pcre2_match(s->re, (PCRE2_SPTR)base, PCRE2_ZERO_TERMINATED, 0, 0, md,
	    ht_match_context());
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* The sections of d of a kind that hold for r, merged in file order. */
static int
merge_sections(struct ht_conf *c, const struct ht_dir *d, enum ht_section_kind kind,
    const char *base, struct ht_req *r)
{
	int i, taken = 0;

	for (i = 0; i < d->nsec; i++) {
		const struct ht_section	*s = &d->sec[i];
		int			 holds = 0;

		if (s->kind == HT_SEC_IF)
			taken = 0;
		if (kind == HT_SEC_IF && (s->kind == HT_SEC_IF || s->kind == HT_SEC_ELSEIF ||
		    s->kind == HT_SEC_ELSE)) {
			if (taken)
				continue;
			holds = s->kind == HT_SEC_ELSE ? 1 : ht_expr_eval(s->expr, r);
			if (holds == -1)
				return -1;
			taken = holds;
		} else if (s->kind != kind)
			continue;
		else if (kind == HT_SEC_FILES)
			holds = files_match(s, base);
		else if (kind == HT_SEC_LIMIT) {
			/* As Apache: a <Limit> restricts only the access
			 * control in it (access.c keeps each requirement's
			 * methods); anything else in it holds for every
			 * method.  front's caches key no method, and that
			 * access control decides by it. */
			holds = 1;
			r->cacheable = 0;
		}
		if (!holds)
			continue;
		if (merge_dir(c, s->dir) == -1)
			return -1;
		/* What a <Files> or <If> holds may have <Limit>s of its own. */
		if (kind != HT_SEC_LIMIT && merge_sections(c, s->dir, HT_SEC_LIMIT, base, r) == -1)
			return -1;
	}
	return 0;
}

/*
 * As Apache: each directory's file in turn (its <Limit>s with it), then
 * the <Files> sections of them all against the target's base name, then
 * their <If>s.
 */
int
ht_conf_build(const struct ht_chain *ch, const char *base, struct ht_req *r,
    struct ht_conf *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->nfiles = ch->n;
	for (i = 0; i < ch->n; i++)
		if (merge_dir(c, ch->d[i]) == -1 ||
		    merge_sections(c, ch->d[i], HT_SEC_LIMIT, base, r) == -1)
			return -1;
	for (i = 0; i < ch->n; i++)
		if (merge_sections(c, ch->d[i], HT_SEC_FILES, base, r) == -1)
			return -1;
	for (i = 0; i < ch->n; i++)
		if (merge_sections(c, ch->d[i], HT_SEC_IF, base, r) == -1)
			return -1;
	return 0;
}

void
ht_conf_free(struct ht_conf *c)
{
	int i;

	for (i = 0; i < c->nowned; i++)
		if (c->owner[i]->merged_free != NULL)
			c->owner[i]->merged_free(c->owned[i]);
	free(c->owned);
	free(c->owner);
	memset(c, 0, sizeof(*c));
}

/* Every module's hooks of a phase, in table order. */
int
ht_run_phase(const struct ht_conf *c, enum ht_phase ph, struct ht_req *r)
{
	const struct ht_module	*m;
	int			 rc;

	for (m = ht_modules; m->name != NULL; m++)
		if (m->phase == ph && m->run != NULL && (rc = m->run(c, r)) != 0)
			return rc;
	return 0;
}

/* ------------------------------------------------------------ a request */

static char *
copy(const char *p, size_t len)
{
	return strndup(p != NULL ? p : "", p != NULL ? len : 0);
}

/* An input string of r, copied: kept with what the lookups return. */
static int
dup_in(struct ht_req *r, const char **p, const char *s, size_t len)
{
	char	*c = copy(s, len);
	char	**k;

	if (c == NULL ||
	    (k = reallocarray(r->kept, (size_t)r->nkept + 1, sizeof(*k))) == NULL) {
		free(c);
		return -1;
	}
	r->kept = k;
	r->kept[r->nkept++] = c;
	*p = c;
	return 0;
}

/* path_base: what of the path comes before what the URL maps (a vhost's subdirectory). */
static int
set_base(struct ht_req *r)
{
	size_t		 pl = strlen(r->url_prefix), ul = strlen(r->uri), fl = strlen(r->path);
	const char	*tail = r->uri + pl;

	if (ul < pl || strncmp(r->uri, r->url_prefix, pl) != 0 || fl < ul - pl ||
	    strcmp(r->path + fl - (ul - pl), tail) != 0)
		return -1;
	return dup_in(r, &r->path_base, r->path, fl - (ul - pl));
}

int
ht_request_init(struct ht_req *r, const struct wire_request *q, const struct wire_view *v,
    const char *docroot)
{
	memset(r, 0, sizeof(*r));
	r->method = q->method;
	r->https = (q->flags & WREQ_TLS) != 0;
	r->remote_port = q->remote_port;
	r->protocol = q->flags & WREQ_H2 ? "HTTP/2.0" : q->version_minor == 0 ? "HTTP/1.0" :
	    "HTTP/1.1";
	r->server_port = q->local_port;
	r->headers = v->s[WS_HEADERS];
	r->headers_len = v->l[WS_HEADERS];
	r->tls = v->s[WS_TLS];
	r->tls_len = v->l[WS_TLS];
	r->cacheable = 1;
	r->docroot = docroot;
	if (dup_in(r, &r->method_str, v->s[WS_METHOD], v->l[WS_METHOD]) == -1 ||
	    dup_in(r, &r->raw_uri, v->s[WS_TARGET], v->l[WS_TARGET]) == -1 ||
	    dup_in(r, &r->host, v->s[WS_HOST], v->l[WS_HOST]) == -1 ||
	    dup_in(r, &r->remote, v->s[WS_REMOTE], v->l[WS_REMOTE]) == -1 ||
	    dup_in(r, &r->local, v->s[WS_LOCAL], v->l[WS_LOCAL]) == -1 ||
	    dup_in(r, &r->url_prefix, v->s[WS_PREFIX], v->l[WS_PREFIX]) == -1 ||
	    (r->uri = copy(v->s[WS_URL], v->l[WS_URL])) == NULL ||
	    (r->query = copy(v->s[WS_QUERY], v->l[WS_QUERY])) == NULL ||
	    (r->path = copy(v->s[WS_PATH], v->l[WS_PATH])) == NULL)
		return -1;
	if (set_base(r) == -1 && dup_in(r, &r->path_base, "", 0) == -1)
		return -1;
	return 0;
}

/* filename and dir for the path the walk is at. */
static int
set_names(struct ht_req *r)
{
	char		 buf[2 * PATH_MAX];
	const char	*slash = strrchr(r->path, '/');

	snprintf(buf, sizeof(buf), "%s%s", r->docroot, r->path);
	if (strlen(buf) > 1 && buf[strlen(buf) - 1] == '/')
		buf[strlen(buf) - 1] = '\0';
	if (ht_req_set(&r->filename, buf) == -1)
		return -1;
	snprintf(buf, sizeof(buf), "%.*s", slash ? (int)(slash - r->path + 1) : 1,
	    slash ? r->path : "/");
	return ht_req_set(&r->dir, buf);
}

/*
 * An internal redirect's URL (r->uri) back to a path below web_scripts:
 * it must stay under this locker's URLs, and resolves like a request's
 * own (encoded, then normalised: no "..", no NUL, no dotfile).  0, -1, or
 * -2 for a dotfile (.htaccess, an install's .git or .lockerd-app), which
 * is answered as a request for it is: it does not exist for the web.
 */
int
ht_remap(struct ht_req *r, void (*note)(const char *))
{
	size_t	 pl = strlen(r->url_prefix);
	char	 enc[3 * PATH_MAX], norm[PATH_MAX], buf[2 * PATH_MAX];
	ssize_t	 n = -1;

	if (strncmp(r->uri, r->url_prefix, pl) != 0 || r->uri[pl] != '/') {
		snprintf(buf, sizeof(buf), "%s: a rewrite to %.512s, outside this locker's "
		    "URLs (%s/)", r->raw_uri, r->uri, r->url_prefix);
		note(buf);
		return -1;
	}
	if (http_encode_path(r->uri + pl, enc, sizeof(enc)) < 0 ||
	    (n = http_normalize_path(enc, strlen(enc), norm, sizeof(norm))) < 0 ||
	    strstr(norm, "/.") != NULL) {
		snprintf(buf, sizeof(buf), "%s: a rewrite to %.512s, not a path of the web",
		    r->raw_uri, r->uri);
		note(buf);
		return n >= 0 && strstr(norm, "/.") != NULL ? -2 : -1;
	}
	snprintf(buf, sizeof(buf), "%s%s", r->url_prefix, norm);
	if (ht_req_set(&r->uri, buf) == -1)
		return -1;
	snprintf(buf, sizeof(buf), "%s%s", r->path_base, norm);
	return ht_req_set(&r->path, buf);
}

/* One round of the phases on the files of r->path; HT_RUN_*, or a status. */
static int
run_once(const struct ht_walker *w, struct ht_req *r, const char *base,
    void (*note)(const char *), int *applied)
{
	struct ht_chain	 ch;
	struct ht_conf	 c;
	char		 err[1024];
	int		 rc;

	free(r->error_docs);
	r->error_docs = NULL;
	if (ht_walk(w, r->path + 1, &ch, err, sizeof(err)) == -1) {
		note(err);
		return 500;
	}
	if (ch.n == 0)
		return HT_RUN_SERVE;
	*applied = 1;
	if (set_names(r) == -1)
		return 500;
	if (ht_conf_build(&ch, base, r, &c) == -1) {
		ht_conf_free(&c);
		snprintf(err, sizeof(err), "%s: a .htaccess could not be applied (an <If> "
		    "that failed, or out of memory)", r->filename);
		note(err);
		return 500;
	}
	/* Kept before any phase: access's 401 and a missing file want them too. */
	if (htdocs_keep_errdocs(&c, r) == -1) {
		ht_conf_free(&c);
		return 500;
	}
	if ((rc = ht_run_phase(&c, HT_PH_ACCESS, r)) != 0) {
		/* A refusal carries the "always" fields too (Drupal's nosniff). */
		rc = r->status ? r->status : rc;
		(void)ht_run_phase(&c, HT_PH_DOCS, r);
		ht_conf_free(&c);
		return rc;
	}
	rc = ht_run_phase(&c, HT_PH_FIXUP, r);
	if (rc == HT_FIX_INTERNAL) {
		ht_conf_free(&c);
		return HT_RUN_AGAIN;
	}
	if (rc == HT_FIX_STATUS || r->status != 0) {
		/* mod_headers' "always" fields go on a rewrite's redirect or
		 * error too (Nextcloud's on its [R=404]): the docs phase runs for
		 * them, and ht_fields() sends only those. */
		rc = r->status ? r->status : 500;
		(void)ht_run_phase(&c, HT_PH_DOCS, r);
		ht_conf_free(&c);
		return rc;
	}
	rc = ht_run_phase(&c, HT_PH_DOCS, r);
	ht_conf_free(&c);
	if (rc != 0 || r->status != 0)
		return r->status ? r->status : 500;
	return HT_RUN_SERVE;
}

int
ht_request_run(const struct ht_walker *w, struct ht_req *r, const char *base,
    void (*note)(const char *), int *applied)
{
	char	msg[1024];
	int	rc;

	*applied = 0;
	for (;;) {
		if ((rc = run_once(w, r, base, note, applied)) != HT_RUN_AGAIN)
			return rc;
		if (++r->redirects > HT_MAX_RECURSION) {
			snprintf(msg, sizeof(msg), "%s: more than %d internal redirects (a "
			    "rewrite loop?)", r->raw_uri, HT_MAX_RECURSION);
			note(msg);
			return 500;
		}
		if ((rc = ht_remap(r, note)) < 0)
			return rc == -2 ? 404 : 403;
		base = strrchr(r->path, '/') + 1;
	}
}

/* Append "Name: value\r\n"; -1 if it does not fit. */
static int
field(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
	int n = snprintf(buf + *len, cap - *len, "%s: %s\r\n", name, value);

	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

ssize_t
ht_fields(const struct ht_req *r, int status, char *buf, size_t cap)
{
	size_t	len = 0;
	int	i, always_only = status >= 300;

	if (status >= 300 && status < 400 && r->location != NULL &&
	    field(buf, cap, &len, "Location", r->location) == -1)
		return -1;
	for (i = 0; i < r->nhdr; i++) {
		if (always_only && !(r->hdr[i].flag & HT_HDR_ALWAYS))
			continue;
		if (field(buf, cap, &len, r->hdr[i].name, r->hdr[i].value) == -1)
			return -1;
	}
	return (ssize_t)len;
}

/* ------------------------------------------------------------ to scripts */

/* hr's variables as "NAME=value\n" lines, as many whole ones as fit. */
size_t
ht_env_lines(const struct ht_req *hr, char *buf, size_t cap)
{
	size_t	n = 0;
	int	i, k;

	buf[0] = '\0';
	for (i = 0; i < hr->nenv; i++) {
		k = snprintf(buf + n, cap - n, "%s=%s\n", hr->env[i].name, hr->env[i].value);
		if (k < 0 || (size_t)k >= cap - n) {
			buf[n] = '\0';
			break;
		}
		n += (size_t)k;
	}
	return n;
}

void
ht_index_reset(struct ht_req *r)
{
	while (r->nhdr > 0) {
		r->nhdr--;
		free(r->hdr[r->nhdr].name);
		free(r->hdr[r->nhdr].value);
	}
	free(r->handler);
	r->handler = NULL;
	free(r->content_type);
	r->content_type = NULL;
	r->ext_meta = 0;
}

const char *
ht_type_ext(const struct ht_req *r, const char *rel, int (*is_static)(const char *),
    const char *ext)
{
	static struct ht_exts	 x;
	const char		*base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	int			 i;

	if (r->ext_meta == 0 || (ext != NULL && is_static(ext)))
		return ext;
	ht_exts_of(base, &x);
	/* Only extensions the locker's .htaccess gave a meaning are passed
	 * over: a "config.php.bak" stays refused as it always was. */
	for (i = x.n - 1; i >= 0 && (r->ext_meta & (1u << i)); i--)
		if (i > 0 && is_static(x.e[i - 1]))
			return x.e[i - 1];
	return ext;
}

unsigned
ht_etag_flags(const struct ht_req *r)
{
	unsigned f = 0;

	if (!(r->etag & HT_ETAG_SET))
		return 0;
	if (r->etag & HT_ETAG_INODE)
		f |= WRESP_ETAG_INODE;
	if (!(r->etag & HT_ETAG_MTIME))
		f |= WRESP_ETAG_NOMTIME;
	if (!(r->etag & HT_ETAG_SIZE))
		f |= WRESP_ETAG_NOSIZE;
	return f;
}

char *
ht_listing_render(int dirfd, const struct ht_req *r, size_t *len)
{
	struct autoindex_opts o;

	if (r->listing == NULL)
		return autoindex_render(dirfd, r->uri, r->query, NULL, len);
	o.flags = r->listing->flags;
	o.order_key = r->listing->order_key;
	o.order_desc = r->listing->order_desc;
	o.ignore = (const char *const *)r->listing->ignore;
	return autoindex_render(dirfd, r->uri, r->query, &o, len);
}

int
ht_as_file(const struct ht_req *r)
{
	return r->handler != NULL && strcmp(r->handler, "default-handler") == 0;
}
