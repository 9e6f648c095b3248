/*
 * fcache.c: front's two small caches, of descriptors a worker opened
 * (fcache) and of how a worker resolved a FastCGI script (scache), and how
 * they are dropped when the routes or the configuration change.
 *
 * Apart from the connection code because both caches share one slot
 * format and one invalidation, and neither needs to know about a request
 * beyond its locker and path.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "route.h"
#include "front.h"
#include "wire.h"

/*
 * Descriptors a worker opened are kept for a short while (file-cache-valid)
 * so that a hot file does not cost a round trip to the worker each time, as
 * nginx's open_file_cache does.  front still opens nothing: it reuses what
 * the locker's worker opened.  An entry is dropped as soon as its file
 * changes (ctime: chmod, chown, a write) or is unlinked or replaced
 * (nlink 0), when the routing table changes, and when it ages out.
 *
 * The tables are 4-way set-associative, CACHE_SETS sets: a page each of a
 * thousand lockers fits (direct-mapped in 1,024 slots, two in three of them
 * shared a slot with another and evicted each other on every request).
 * Each entry holds a descriptor, so the size bounds what the cache keeps
 * open beside max-connections.
 */
#define CACHE_WAYS	4
#define CACHE_SETS	1024
#define CACHE_SLOTS	(CACHE_WAYS * CACHE_SETS)

/*
 * One slot of front's caches: open files (fcache, below) and how workers
 * resolved FastCGI scripts (scache).  Both are keyed by
 * "locker\0url_prefix\0fs_path" (a rewrite's URL names the prefix it was
 * asked under), and age out at expires, or as soon as the locker's watch
 * hears of a change (gen).
 */
struct cache_ent {
	char		*key;		/* "locker\0url_prefix\0fs_path", NULL: empty */
	size_t		 keylen;
	uint64_t	 hash;		/* of key */
	uint64_t	 expires;
	uint64_t	 refresh_until;	/* fcache: one request is asking the worker
					   again; the others use this until then */
	uint64_t	 gen;		/* the locker's watch_gen when decided; 0: unwatched */
	char		*hdr;		/* a .htaccess's extra fields, then its Header
					   operations for front (hdrops.c); NULL: none */
	size_t		 hlen, olen;
	char		*match;		/* scache: what the request must repeat (vary_of) */
	/* fcache: the open file, its type, and its ctime when opened */
	int		 fd;
	char		 ctype[128];
	struct timespec	 ctime;
	/* scache: the worker's resolution */
	struct fres	*r;
};

static struct cache_ent fcache[CACHE_SLOTS];

static uint64_t
fcache_hash(const char *k, size_t len)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
	return h;
}

static size_t
cache_key(const struct conn *c, char *buf, size_t bufsz)
{
	size_t ll = strlen(c->locker), ul = strlen(c->url_prefix), pl = strlen(c->fs_path);

	if (ll + 1 + ul + 1 + pl > bufsz)
		return 0;
	memcpy(buf, c->locker, ll + 1);
	memcpy(buf + ll + 1, c->url_prefix, ul + 1);
	memcpy(buf + ll + 1 + ul + 1, c->fs_path, pl);
	return ll + 1 + ul + 1 + pl;
}

static void
cache_drop(struct cache_ent *e)
{
	if (e->key == NULL)
		return;
	if (e->r == NULL)
		close(e->fd);
	free(e->r);
	free(e->key);
	free(e->hdr);
	free(e->match);
	e->key = NULL;
	e->r = NULL;
	e->hdr = e->match = NULL;
	e->refresh_until = 0;
}

static void
cache_clear(struct cache_ent *tab)
{
	size_t i;

	for (i = 0; i < CACHE_SLOTS; i++)
		cache_drop(&tab[i]);
}

#define CACHE_KEY_MAX	(LOCKER_NAME_MAX + 1 + sizeof(((struct conn *)0)->url_prefix) + \
			 sizeof(((struct conn *)0)->fs_path))

/* c's key (kl bytes of key[CACHE_KEY_MAX]) and its hash; 0 if c has none. */
static size_t
cache_key_of(const struct conn *c, char *key, uint64_t *hash)
{
	size_t kl = cache_key(c, key, CACHE_KEY_MAX);

	*hash = kl ? fcache_hash(key, kl) : 0;
	return kl;
}

/* The first of the CACHE_WAYS slots that a key of hash may be in. */
static struct cache_ent *
cache_set(struct cache_ent *tab, uint64_t hash)
{
	return &tab[(hash % CACHE_SETS) * CACHE_WAYS];
}

/* The entry of key in tab, live or not; NULL if none. */
static struct cache_ent *
cache_find(struct cache_ent *tab, const char *key, size_t kl, uint64_t hash)
{
	struct cache_ent	*e = cache_set(tab, hash);
	int			 i;

	for (i = 0; i < CACHE_WAYS; i++, e++)
		if (e->key != NULL && e->hash == hash && e->keylen == kl &&
		    memcmp(e->key, key, kl) == 0)
			return e;
	return NULL;
}

/* Where a new entry of key goes: its old one, an empty slot, or the one
 * of its set that expires first. */
static struct cache_ent *
cache_victim(struct cache_ent *tab, const char *key, size_t kl, uint64_t hash)
{
	struct cache_ent	*e, *v;
	int			 i;

	if ((v = cache_find(tab, key, kl, hash)) != NULL)
		return v;
	v = e = cache_set(tab, hash);
	for (i = 0; i < CACHE_WAYS; i++, e++) {
		if (e->key == NULL)
			return e;
		if (e->expires < v->expires)
			v = e;
	}
	return v;
}

/*
 * A worker's watch (htwatch.c): an inotify instance of its own for this
 * front, on every directory the worker's answers were decided in.  An
 * event means something there changed (a .htaccess made, written, renamed
 * or removed, a file or directory come or gone): everything this front
 * keeps of the locker is stale from then on.  Read before any entry is
 * used: the kernel queued the event before the change returned to whoever
 * made it, so a request sent after a change never gets what was decided
 * before it.  A read that finds nothing costs one system call.
 */
static void
watch_read(struct wchan *w)
{
	char	buf[4096];
	ssize_t	n;
	int	heard = 0;

	while ((n = read(w->watch_fd, buf, sizeof(buf))) > 0)
		heard = 1;
	if (n == -1 && errno != EAGAIN && errno != EINTR) {
		close(w->watch_fd);	/* cannot be read: nothing it watched is kept */
		w->watch_fd = -1;
		heard = 1;
	}
	if (heard)
		w->watch_gen = ++F.watch_gens;
}

/*
 * The worker sends its watch before it reads a request of the channel, so
 * the answers to requests sent before it came were decided under it: the
 * first keeps the generation.  Another one (the worker's own business)
 * makes everything kept before it stale.
 */
void
wchan_watch_set(struct wchan *w, int fd)
{
	if (w->watch_fd != -1) {
		close(w->watch_fd);
		w->watch_gen = ++F.watch_gens;
	}
	w->watch_fd = fd;
	set_nonblock(fd);
}

uint64_t
wchan_keep_gen(struct wchan *w, const struct conn *c, const struct wire_response *r)
{
	if (!(r->flags & WRESP_WATCHED))
		return 0;
	if (w->watch_fd == -1)
		return WATCH_NO_KEEP;
	watch_read(w);
	/* A change heard since c was sent may not have been seen by its walk. */
	return c->watch_gen == w->watch_gen ? c->watch_gen : WATCH_NO_KEEP;
}

/* Whether an entry kept under gen holds: its locker's watch heard nothing since. */
static int
watch_holds(const char *locker, uint64_t gen)
{
	struct wchan *w;

	if (gen == 0)
		return 1;
	if ((w = wchan_find(locker)) == NULL || w->watch_fd == -1)
		return 0;
	watch_read(w);
	return w->watch_gen == gen;
}

/* c's entry in tab if there is a live one (an expired one is dropped). */
static struct cache_ent *
cache_get(struct cache_ent *tab, const struct conn *c)
{
	char			 key[CACHE_KEY_MAX];
	size_t			 kl;
	uint64_t		 hash;
	struct cache_ent	*e;

	if ((kl = cache_key_of(c, key, &hash)) == 0 ||
	    (e = cache_find(tab, key, kl, hash)) == NULL)
		return NULL;
	if (loop_now >= e->expires || !watch_holds(c->locker, e->gen)) {
		cache_drop(e);
		return NULL;
	}
	return e;
}

/* c's slot in tab, emptied and keyed for c (with its extra fields), valid
 * for valid_ms while the watch generation is gen; or NULL. */
static struct cache_ent *
cache_claim(struct cache_ent *tab, const struct conn *c, uint64_t valid_ms, uint64_t gen)
{
	char			 key[CACHE_KEY_MAX];
	size_t			 kl;
	uint64_t		 hash;
	struct cache_ent	*e;

	if ((kl = cache_key_of(c, key, &hash)) == 0)
		return NULL;
	e = cache_victim(tab, key, kl, hash);
	cache_drop(e);
	if ((e->key = malloc(kl)) == NULL)
		return NULL;
	memcpy(e->key, key, kl);
	e->keylen = kl;
	e->hash = hash;
	e->expires = loop_now + valid_ms;
	e->gen = gen;
	if (c->xhdr != NULL && (e->hdr = malloc(c->xhdr_len + c->hops_len)) != NULL) {
		memcpy(e->hdr, c->xhdr, c->xhdr_len + c->hops_len);
		e->hlen = c->xhdr_len;
		e->olen = c->hops_len;
	}
	if (c->xhdr != NULL && e->hdr == NULL) {
		cache_drop(e);	/* kept without its fields, it would lie */
		return NULL;
	}
	return e;
}

/*
 * c's file entry, if it may answer c; *ask says that it aged out and c is
 * the request to have the worker asked again.  The entry is not dropped
 * then: the worker is asked in the background (fcache_refresh()), its
 * answer replaces the entry or drops it (fcache_refreshed()), and until it
 * comes every request, the one that asked too, is served what is kept, for
 * at most another file-cache-valid.  Dropping it instead sent every
 * request to the worker until the first answer came back: with thousands
 * of connections on a hundred lockers, each expiry became a burst of
 * hundreds of requests on one worker, whose answers came back slower than
 * the next expiry (a cache that hit one request in four); and a request
 * that waits for the worker on each expiry is the p99 of a busy page.
 * The file itself is still checked on every use (fcache_serve()), and the
 * watch too: only what neither sees (a renamed parent directory, a
 * retargeted symlink) can be that much older.
 */
static struct cache_ent *
fcache_get(const struct conn *c, int *ask)
{
	char			 key[CACHE_KEY_MAX];
	size_t			 kl;
	uint64_t		 hash;
	struct cache_ent	*e;

	*ask = 0;
	if ((kl = cache_key_of(c, key, &hash)) == 0 ||
	    (e = cache_find(fcache, key, kl, hash)) == NULL)
		return NULL;
	if (!watch_holds(c->locker, e->gen)) {
		cache_drop(e);
		return NULL;
	}
	if (loop_now < e->expires)
		return e;
	if (e->refresh_until == 0) {
		*ask = 1;
		return e;
	}
	if (loop_now < e->refresh_until)
		return e;
	cache_drop(e);	/* the worker was asked again and never answered */
	return NULL;
}

/*
 * The worker asked again about c's file in the background: a copy of c's
 * request, with no client (c->ghost), queued on the locker's channel.  Only
 * a request that a copy repeats faithfully (plain HTTP, its head as read,
 * no body) and at most GHOSTS_MAX a channel (a worker that never answers
 * holds them until its channel goes); else -1, and c asks itself.
 */
#define GHOSTS_MAX	8

static int
fcache_refresh(const struct conn *c)
{
	struct conn	*g;
	struct wchan	*w;

	if (c->tls != NULL || c->redirects != 0 || c->body_pending || c->head_len == 0 ||
	    (w = wchan_get(c->locker)) == NULL || w->ghosts >= GHOSTS_MAX ||
	    (g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	if ((g->in = malloc(c->head_len)) == NULL) {
		free(g);
		return -1;
	}
	memcpy(g->in, c->in, c->head_len);
	g->insz = g->inlen = g->head_len = c->head_len;
	if (http_parse_head(g->in, g->inlen, &F.limits, &g->req) != (int)c->head_len) {
		free(g->in);
		free(g);
		return -1;
	}
	g->kind = K_CONN;
	g->ghost = 1;
	g->fd = -1;
	g->file_fd = -1;
	body_init(&g->body);
	memcpy(g->path, c->path, sizeof(g->path));
	memcpy(g->fs_path, c->fs_path, sizeof(g->fs_path));
	memcpy(g->locker, c->locker, sizeof(g->locker));
	memcpy(g->url_prefix, c->url_prefix, sizeof(g->url_prefix));
	memcpy(g->peer, c->peer, sizeof(g->peer));
	memcpy(g->local, c->local, sizeof(g->local));
	g->peer_port = c->peer_port;
	g->local_port = c->local_port;
	w->ghosts++;
	worker_send(g, w, 0);
	return 0;
}

/* A ghost is done with (answered, refused, or its channel gone). */
void
ghost_free(struct wchan *w, struct conn *g)
{
	if (w != NULL)
		w->ghosts--;
	xhdr_clear(g);
	free(g->in);
	free(g);
}

/*
 * The worker's answer to a ghost: a file it may keep replaces the entry,
 * anything else drops it (the worker's word changed).  Nobody waits for
 * it, so nothing is sent anywhere.
 */
void
fcache_refreshed(struct wchan *w, struct conn *g, const struct wire_response *r, size_t len,
    int fd)
{
	struct stat st;

	fcache_answered(g);
	if (wire_response_check(r, len) == 0 && r->kind == WIRE_FILE && fd != -1 &&
	    r->status == 200 && !(r->flags & (WRESP_NOCACHE | WRESP_ETAG_MASK)) &&
	    fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		xhdr_set(g, (const char *)(r + 1), r->hlen, r->olen);
		fcache_put(g, fd, r->content_type, &st, wchan_keep_gen(w, g, r));
	}
	if (fd != -1) {
		if (r->kind == WIRE_FCGI)
			fcgi_fd_unused(w, fd);	/* not asked for: given back */
		else
			close(fd);
	}
	ghost_free(w, g);
}

/* Serve from the cache; 1 if it did. */
int
fcache_serve(struct conn *c)
{
	struct cache_ent	*e;
	struct stat		 st;
	int			 fd, ask;

	if (F.conf.file_cache_valid == 0 || (e = fcache_get(c, &ask)) == NULL)
		return 0;
	if (fstat(e->fd, &st) == -1 || st.st_nlink == 0 ||
	    st.st_ctim.tv_sec != e->ctime.tv_sec || st.st_ctim.tv_nsec != e->ctime.tv_nsec) {
		cache_drop(e);
		return 0;
	}
	if (ask) {
		e->refresh_until = loop_now + (uint64_t)F.conf.file_cache_valid * 1000;
		if (fcache_refresh(c) == -1)
			return 0;	/* c asks the worker itself */
	}
	if ((fd = dup(e->fd)) == -1)
		return 0;
	xhdr_set(c, e->hdr, e->hlen, e->olen);
	send_file(c, fd, e->ctype, &st, 0);
	return 1;
}

void
fcache_put(const struct conn *c, int fd, const char *ctype, const struct stat *st,
    uint64_t gen)
{
	struct cache_ent	*e;
	int			 dfd;

	if (F.conf.file_cache_valid == 0 || gen == WATCH_NO_KEEP ||
	    (dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return;
	if ((e = cache_claim(fcache, c, (uint64_t)F.conf.file_cache_valid * 1000, gen)) == NULL) {
		close(dfd);
		return;
	}
	e->fd = dfd;
	snprintf(e->ctype, sizeof(e->ctype), "%s", ctype);
	e->ctime = st->st_ctim;
}

/*
 * The worker answered c (a GET or HEAD) with what the cache does not keep
 * (an error, a script, a choice of the request's): what the cache holds
 * for c's file is no longer what the worker says, even if it has not aged
 * out (an entry kept while it was asked again, fcache_get()).
 */
void
fcache_answered(const struct conn *c)
{
	char			 key[CACHE_KEY_MAX];
	size_t			 kl;
	uint64_t		 hash;
	struct cache_ent	*e;

	if ((kl = cache_key_of(c, key, &hash)) != 0 &&
	    (e = cache_find(fcache, key, kl, hash)) != NULL)
		cache_drop(e);
}

/*
 * The script cache: how the worker resolved a FastCGI script (which file,
 * PATH_INFO, index), kept for file-cache-valid seconds like the file cache,
 * and dropped with it when the routes or the configuration change, so that
 * a page of PHP needs no round trip to the worker either.  PHP reads the
 * script itself, by name, on every request (opcache checks its time stamp):
 * an edit shows at once.  What may lag by up to file-cache-valid is only a
 * change of the resolution itself: a php.ini appearing beside the script
 * (which switches it to CGI), or an index file replacing another.
 */
static struct cache_ent scache[CACHE_SLOTS];

void
caches_clear(void)
{
	cache_clear(fcache);
	cache_clear(scache);
}

/*
 * A new routing table drops only the entries of the lockers it changed
 * (route_table_diff): one locker's vhost loop must not cost every other
 * locker its cached files.  The entries are keyed by the locker and a path
 * below its web_scripts, not by host, so only a locker that went (and a
 * new one of the same name would be another home) strictly needs it; a
 * locker whose vhosts changed loses its entries too, to be simple about
 * it.  A change of the domain or the service names, or of more lockers
 * than fit here, drops everything.
 */
#define CHANGED_MAX	64

struct changed {
	char	names[CHANGED_MAX][LOCKER_NAME_MAX + 1];
	size_t	n;
	int	all;
};

static void
changed_cb(const char *locker, void *arg)
{
	struct changed	*ch = arg;
	size_t		 i;

	for (i = 0; i < ch->n; i++)
		if (strcmp(ch->names[i], locker) == 0)
			return;
	if (ch->n == CHANGED_MAX) {
		ch->all = 1;
		return;
	}
	snprintf(ch->names[ch->n++], sizeof(ch->names[0]), "%s", locker);
}

static void
cache_drop_lockers(struct cache_ent *tab, const struct changed *ch)
{
	size_t i, j;

	for (i = 0; i < CACHE_SLOTS; i++)
		for (j = 0; tab[i].key != NULL && j < ch->n; j++)
			if (strcmp(tab[i].key, ch->names[j]) == 0)	/* "locker\0path" */
				cache_drop(&tab[i]);
}

void
caches_routes_changed(const struct route_table *old, const struct route_table *new)
{
	struct changed ch;

	ch.n = 0;
	ch.all = 0;
	if (route_table_diff(old, new, changed_cb, &ch) == -1 || ch.all) {
		caches_clear();
		return;
	}
	cache_drop_lockers(fcache, &ch);
	cache_drop_lockers(scache, &ch);
}

/* One change to the table (route_table_apply's callback): that locker's. */
void
caches_locker_changed(const char *locker, void *arg)
{
	struct changed ch;

	(void)arg;
	ch.n = 0;
	ch.all = 0;
	changed_cb(locker, &ch);
	cache_drop_lockers(fcache, &ch);
	cache_drop_lockers(scache, &ch);
}

/* The tail of a WIRE_FCGI answer, checked (cgienv.c), as our own copy. */
struct fres *
fres_parse(const struct wire_response *r, size_t len)
{
	const char			*str[WSC_MAX], *ext;
	const struct interpreter	*in;
	struct fres			*f;
	size_t				 l[WSC_MAX], total = 0, i;
	int				 has_index;
	char				*d;

	if (len < sizeof(*r) + r->hlen + r->olen ||
	    wire_script_parse(wire_response_tail(r), len - sizeof(*r) - r->hlen - r->olen, str, l,
	    &has_index) == -1)
		return NULL;
	for (i = 0; i < WSC_MAX; i++)
		total += l[i] + 1;
	if ((f = malloc(sizeof(*f) + total)) == NULL)
		return NULL;
	f->size = sizeof(*f) + total;
	d = (char *)(f + 1);
	for (i = 0; i < WSC_MAX; i++) {
		memcpy(d, str[i], l[i]);
		d[l[i]] = '\0';
		f->s[i] = d;
		d += l[i] + 1;
	}
	f->has_index = has_index;
	/* Only a script our configuration runs through FastCGI. */
	ext = path_ext(f->s[WSC_REL]);
	in = script_interp(&F.conf, ext);
	if (in == NULL || !in->fastcgi || strlen(ext) >= sizeof(f->ext)) {
		free(f);
		return NULL;
	}
	snprintf(f->ext, sizeof(f->ext), "%s", ext);
	return f;
}

static struct fres *
fres_dup(const struct fres *r)
{
	struct fres	*f = malloc(r->size);
	int		 i;

	if (f == NULL)
		return NULL;
	memcpy(f, r, r->size);
	/* The strings live right after the struct: the same offsets in the copy. */
	for (i = 0; i < WSC_MAX; i++)
		f->s[i] = (char *)f + (r->s[i] - (const char *)r);
	return f;
}

/*
 * What a request must repeat to be given a resolution made for another:
 * the query, when a rewrite made the script's QUERY_STRING (passed on, or
 * appended by QSA), and the value, or absence, of each header a .htaccess
 * E= took into the script's environment (WSC_VARY, e.g. WordPress's
 * Authorization).  malloc'd; NULL without memory.
 */
static char *
vary_of(const struct conn *c, const struct fres *r)
{
	const struct http_header	*h;
	const char			*v = r->s[WSC_VARY], *nl;
	char				 name[64], *out, *p;
	size_t				 cap = 2;
	int				 rewritten = r->s[WSC_URL][0] != '\0';

	if (rewritten && c->req.query.p != NULL)
		cap += c->req.query.len;
	for (; *v != '\0'; v = nl + 1) {
		nl = strchr(v, '\n');	/* wire.c: every name ends in one */
		snprintf(name, sizeof(name), "%.*s", (int)(nl - v), v);
		h = http_header_get(&c->req, name);
		cap += 2 + (h != NULL ? h->value.len : 0);
	}
	if ((out = p = malloc(cap)) == NULL)
		return NULL;
	*p++ = rewritten ? '?' : '-';
	if (rewritten && c->req.query.p != NULL) {
		memcpy(p, c->req.query.p, c->req.query.len);
		p += c->req.query.len;
	}
	for (v = r->s[WSC_VARY]; *v != '\0'; v = nl + 1) {
		nl = strchr(v, '\n');
		snprintf(name, sizeof(name), "%.*s", (int)(nl - v), v);
		h = http_header_get(&c->req, name);
		*p++ = '\n';
		*p++ = h != NULL ? '=' : '-';
		if (h != NULL) {
			memcpy(p, h->value.p, h->value.len);
			p += h->value.len;
		}
	}
	*p = '\0';
	return out;
}

/* How long a resolution is reused: never as long as a worker stays idle,
 * so that a locker's busy PHP still keeps its worker (and pool) alive. */
static uint64_t
scache_valid_ms(void)
{
	uint64_t v = (uint64_t)F.conf.file_cache_valid * 1000;
	uint64_t idle = (uint64_t)F.conf.worker_idle_timeout * 1000 / 2;

	return v < idle ? v : idle;
}

int
scache_get(struct conn *c)
{
	struct cache_ent	*e;
	char			*m;
	int			 same;

	if (scache_valid_ms() == 0 || (e = cache_get(scache, c)) == NULL)
		return 0;
	if ((m = vary_of(c, e->r)) == NULL)
		return 0;
	same = strcmp(m, e->match) == 0;
	free(m);
	if (!same || (c->scr = fres_dup(e->r)) == NULL)
		return 0;
	xhdr_set(c, e->hdr, e->hlen, e->olen);
	return 1;
}

void
scache_put(const struct conn *c, const struct fres *r, uint64_t gen)
{
	struct cache_ent	*e;
	struct fres		*copy;
	char			*m;

	if (scache_valid_ms() == 0 || gen == WATCH_NO_KEEP || (m = vary_of(c, r)) == NULL)
		return;
	if ((copy = fres_dup(r)) == NULL) {
		free(m);
		return;
	}
	if ((e = cache_claim(scache, c, scache_valid_ms(), gen)) == NULL) {
		free(copy);
		free(m);
		return;
	}
	e->r = copy;
	e->match = m;
}
