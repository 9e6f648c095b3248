/*
 * route.c: the routing table, built by the master and loaded by front.
 *
 * The blob is the only thing front learns about lockers, and front is the
 * process the internet talks to, so the loader treats it as hostile: every
 * count, length and reference is checked, and every string must pass the
 * same checks the builder applied, before a table is returned.
 *
 * Blob format, all integers little-endian, nothing aligned:
 *
 *	"LKRT"  u32 version  u32 nhostnames  u32 nlockers  u32 nvhosts
 *	str domain
 *	str hostname				nhostnames times, strictly ascending
 *	str locker				nlockers times, strictly ascending
 *	str host  u32 locker-index  str subdir  u8 https
 *						nvhosts times, host strictly ascending
 *
 * where str is a u16 length followed by that many bytes (no NUL), https is
 * the vhost's own ROUTE_HTTPS_* (version 2 added it), and
 * nothing follows the last record.  "Ascending" is bytewise, a prefix
 * first, which is strcmp() order; the loader insists on it so that lookups
 * can binary-search without sorting anything.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "route_int.h"

#define RT_MAGIC	"LKRT"
#define RT_VERSION	2
#define RT_HDRLEN	20
#define RT_LABEL_MAX	63

struct rb_vhost {
	char	*host;
	char	*locker;
	char	*subdir;
	int	 https;
};

struct route_builder {
	char		*domain;
	char		**hostnames;
	size_t		 nhostnames, caphostnames;
	char		**lockers;
	size_t		 nlockers, caplockers;
	struct rb_vhost	*vhosts;
	size_t		 nvhosts, capvhosts;
};

/* ------------------------------------------------------------ checks */

/* strcmp() order for strings that are not NUL-terminated. */
int
str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

static int
is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* why, if the caller wants it; always -1. */
static int
name_refuse(char *why, size_t whylen, const char *what)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", what);
	return -1;
}

/*
 * The one definition of a locker name's syntax, for every process: the
 * master at signup (directory.c adds its reserved list), front's table
 * loader, logd before a name becomes a path.  A name is a DNS label, since
 * it is also a host name (<name>.<domain>).
 */
int
locker_label_check(const char *s, size_t len, char *why, size_t whylen)
{
	size_t	i;
	int	digits = 1;

	if (s == NULL || len == 0)
		return name_refuse(why, whylen, "a locker name cannot be empty");
	if (len > RT_LABEL_MAX)
		return name_refuse(why, whylen, "a locker name is at most 63 characters");
	for (i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			return name_refuse(why, whylen, "a locker name is lower case");
		if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-')
			return name_refuse(why, whylen, "a locker name may contain only "
			    "letters, digits and '-'");
		if (s[i] < '0' || s[i] > '9')
			digits = 0;
	}
	if (s[0] == '-' || s[len - 1] == '-')
		return name_refuse(why, whylen, "a locker name cannot start or end "
		    "with '-'");
	/* An all-digit label would read as part of an IPv4 address. */
	if (digits)
		return name_refuse(why, whylen, "a locker name cannot be all digits");
	/* RFC 5891 4.2.3.1: "ab--" labels are punycode (xn--) and its kin. */
	if (len >= 4 && s[2] == '-' && s[3] == '-')
		return name_refuse(why, whylen, "a locker name cannot have '--' as "
		    "its third and fourth characters");
	return 0;
}

static int
label_ok(const char *s, size_t len)
{
	return locker_label_check(s, len, NULL, 0) == 0;
}

/*
 * A vhost's subdir, the one check for the master (at vhost add) and
 * front's table loader: it is pasted in front of a request path, so
 * nothing in it may climb out of web_scripts or name a dot file.
 */
int
subdir_check(const char *subdir, char *why, size_t whylen)
{
	const char	*p;
	int		 segstart = 1;

	if (subdir == NULL)
		return name_refuse(why, whylen, "no subdirectory");
	if (strlen(subdir) > SUBDIR_MAX)
		return name_refuse(why, whylen, "a subdirectory is at most 255 characters");
	if (subdir[0] == '/')
		return name_refuse(why, whylen, "a subdirectory is relative to web_scripts: "
		    "no leading '/'");
	for (p = subdir; *p != '\0'; p++) {
		if (segstart && *p == '/')
			return name_refuse(why, whylen, "a subdirectory has no empty "
			    "components ('//' or a trailing '/')");
		if (segstart && *p == '.')
			return name_refuse(why, whylen, "no component of a subdirectory may "
			    "start with '.'");
		segstart = (*p == '/');
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._~-/", *p) != NULL))
			return name_refuse(why, whylen, "a subdirectory may contain only "
			    "letters, digits, '.', '_', '~', '-' and '/'");
	}
	if (p > subdir && p[-1] == '/')
		return name_refuse(why, whylen, "a subdirectory has no empty components "
		    "('//' or a trailing '/')");
	return 0;
}

static int
subdir_ok(const char *s, size_t len)
{
	return strlen(s) == len && subdir_check(s, NULL, 0) == 0;
}

/* Already what route_canon_host() would make of it. */
static int
canon_ok(const char *s, size_t len)
{
	char	buf[HOSTNAME_MAX + 1];

	if (route_canon_host(s, len, buf, sizeof(buf)) == -1)
		return 0;
	return strlen(buf) == len && memcmp(buf, s, len) == 0;
}

/* A canonical DNS name: what a domain or a vhost has to be. */
static int
dns_name_ok(const char *s, size_t len)
{
	return len > 0 && s[0] != '[' && canon_ok(s, len);
}

/* ------------------------------------------------------- host names */

/* Digits only, possibly none (RFC 9110 7.2: port = *DIGIT). */
static int
port_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * "[v6addr]" or "[v6addr]:port"; the address must parse (no zone ids) and
 * comes out in inet_ntop()'s RFC 5952 form, so [0:0::1] is [::1].
 */
static int
canon_ipv6(const char *host, size_t len, char *out, size_t outsz)
{
	const char	*end;
	char		 addr[INET6_ADDRSTRLEN];
	unsigned char	 bin[16];
	size_t		 alen, rest;

	if ((end = memchr(host, ']', len)) == NULL)
		return -1;
	alen = end - (host + 1);
	rest = len - (end - host) - 1;
	if (rest > 0 && (end[1] != ':' || !port_ok(end + 2, rest - 1)))
		return -1;
	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, host + 1, alen);
	addr[alen] = '\0';
	if (memchr(addr, '\0', alen) != NULL || inet_pton(AF_INET6, addr, bin) != 1 ||
	    inet_ntop(AF_INET6, bin, addr, sizeof(addr)) == NULL)
		return -1;
	alen = strlen(addr);
	if (alen + 3 > outsz)
		return -1;
	out[0] = '[';
	memcpy(out + 1, addr, alen);
	out[alen + 1] = ']';
	out[alen + 2] = '\0';
	return 0;
}

/*
 * Letters, digits, '-' and '.', in labels of 1..63 bytes.  Hyphen
 * placement is not policed: such a name can match nothing we serve, and
 * refusing it would only turn a 404 into a 400.
 */
static int
canon_name(const char *host, size_t len, char *out, size_t outsz)
{
	size_t	i, label = 0;
	char	c;

	if (len == 0 || len > HOSTNAME_MAX || len >= outsz)
		return -1;
	for (i = 0; i < len; i++) {
		c = host[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else {
			if (++label > RT_LABEL_MAX)
				return -1;
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			else if (!is_lower_alnum((unsigned char)c) && c != '-')
				return -1;
		}
		out[i] = c;
	}
	if (label == 0)
		return -1;
	out[len] = '\0';
	return 0;
}

int
route_canon_host(const char *host, size_t len, char *out, size_t outsz)
{
	const char	*colon;
	size_t		 namelen = len;

	if (host == NULL || out == NULL || outsz == 0 || len == 0)
		return -1;
	if (host[0] == '[')
		return canon_ipv6(host, len, out, outsz);
	if ((colon = memchr(host, ':', len)) != NULL) {
		namelen = colon - host;
		if (!port_ok(colon + 1, len - namelen - 1))
			return -1;
	}
	if (namelen > 0 && host[namelen - 1] == '.')
		namelen--;
	return canon_name(host, namelen, out, outsz);
}

/* The loader's checks, for route_delta.c's changes. */
int
rt_label_ok(const char *s, size_t len)
{
	return label_ok(s, len);
}

int
rt_host_ok(const char *s, size_t len)
{
	return dns_name_ok(s, len);
}

int
rt_subdir_ok(const char *s, size_t len)
{
	return subdir_ok(s, len);
}

/* ----------------------------------------------------------- builder */

/* arr with room for element n: arr itself, a larger copy, or NULL. */
static void *
grow(void *arr, size_t *cap, size_t n, size_t elsize)
{
	void	*p;
	size_t	 ncap;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > SIZE_MAX / elsize)
		return NULL;
	if ((p = realloc(arr, ncap * elsize)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

struct route_builder *
route_builder_new(const char *domain)
{
	struct route_builder *b;

	if (domain == NULL || !dns_name_ok(domain, strlen(domain)))
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->domain = strdup(domain)) == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

/* A copy of str appended to the list *v of *n names: 0, or -1 (no memory). */
static int
names_add(char ***v, size_t *cap, size_t *n, const char *str)
{
	char **nv, *s;

	if ((nv = grow(*v, cap, *n, sizeof(*nv))) == NULL)
		return -1;
	*v = nv;
	if ((s = strdup(str)) == NULL)
		return -1;
	nv[(*n)++] = s;
	return 0;
}

int
route_builder_add_hostname(struct route_builder *b, const char *host)
{
	if (b == NULL || host == NULL || !canon_ok(host, strlen(host)))
		return -1;
	return names_add(&b->hostnames, &b->caphostnames, &b->nhostnames, host);
}

int
route_builder_add_locker(struct route_builder *b, const char *name)
{
	if (b == NULL || name == NULL || !label_ok(name, strlen(name)))
		return -1;
	return names_add(&b->lockers, &b->caplockers, &b->nlockers, name);
}

int
route_builder_add_vhost(struct route_builder *b, const char *host,
    const char *locker, const char *subdir)
{
	return route_builder_add_vhost_https(b, host, locker, subdir, ROUTE_HTTPS_DEFAULT);
}

int
route_builder_add_vhost_https(struct route_builder *b, const char *host,
    const char *locker, const char *subdir, int https)
{
	struct rb_vhost v, *vv;

	if (subdir == NULL)
		subdir = "";
	if (https < ROUTE_HTTPS_DEFAULT || https > ROUTE_HTTPS_PLAIN_OK)
		return -1;
	if (b == NULL || host == NULL || locker == NULL ||
	    !dns_name_ok(host, strlen(host)) || !label_ok(locker, strlen(locker)) ||
	    !subdir_ok(subdir, strlen(subdir)))
		return -1;
	vv = grow(b->vhosts, &b->capvhosts, b->nvhosts, sizeof(*vv));
	if (vv == NULL)
		return -1;
	b->vhosts = vv;
	v.host = strdup(host);
	v.locker = strdup(locker);
	v.subdir = strdup(subdir);
	v.https = https;
	if (v.host == NULL || v.locker == NULL || v.subdir == NULL) {
		free(v.host);
		free(v.locker);
		free(v.subdir);
		return -1;
	}
	b->vhosts[b->nvhosts++] = v;
	return 0;
}

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_vhost(const void *a, const void *b)
{
	return strcmp(((const struct rb_vhost *)a)->host,
	    ((const struct rb_vhost *)b)->host);
}

/* Sorts and drops repeats: the same name added twice means nothing more. */
static void
sort_unique(char **v, size_t *n)
{
	size_t i, j;

	if (*n == 0)
		return;
	/* The directory lists in order already: a check, not a sort. */
	for (i = 1; i < *n && strcmp(v[i - 1], v[i]) < 0; i++)
		;
	if (i == *n)
		return;
	qsort(v, *n, sizeof(*v), cmp_strp);
	for (i = 1, j = 1; i < *n; i++) {
		if (strcmp(v[i], v[j - 1]) == 0)
			free(v[i]);
		else
			v[j++] = v[i];
	}
	*n = j;
}

struct wbuf {
	unsigned char	*p;
	size_t		 off;
};

static void
put_u32(struct wbuf *w, uint32_t v)
{
	w->p[w->off++] = v & 0xff;
	w->p[w->off++] = (v >> 8) & 0xff;
	w->p[w->off++] = (v >> 16) & 0xff;
	w->p[w->off++] = (v >> 24) & 0xff;
}

static void
put_str(struct wbuf *w, const char *s)
{
	size_t len = strlen(s);

	w->p[w->off++] = len & 0xff;
	w->p[w->off++] = (len >> 8) & 0xff;
	memcpy(w->p + w->off, s, len);
	w->off += len;
}

static size_t
strs_size(char **v, size_t n)
{
	size_t i, sz = 0;

	for (i = 0; i < n; i++)
		sz += 2 + strlen(v[i]);
	return sz;
}

/*
 * Puts the builder in blob order and resolves every vhost's locker to
 * its index; fails on a vhost host given twice or naming no locker.
 */
static int
builder_prepare(struct route_builder *b, uint32_t *vlocker)
{
	char	**hit;
	size_t	  i;

	sort_unique(b->hostnames, &b->nhostnames);
	sort_unique(b->lockers, &b->nlockers);
	for (i = 1; i < b->nvhosts && cmp_vhost(&b->vhosts[i - 1], &b->vhosts[i]) < 0; i++)
		;
	if (b->nvhosts > 1 && i < b->nvhosts)
		qsort(b->vhosts, b->nvhosts, sizeof(*b->vhosts), cmp_vhost);
	for (i = 0; i < b->nvhosts; i++) {
		if (i > 0 && strcmp(b->vhosts[i].host, b->vhosts[i - 1].host) == 0)
			return -1;
		hit = bsearch(&b->vhosts[i].locker, b->lockers, b->nlockers,
		    sizeof(char *), cmp_strp);
		if (hit == NULL)
			return -1;
		vlocker[i] = hit - b->lockers;
	}
	return 0;
}

int
route_builder_finish(struct route_builder *b, void **out, size_t *outlen)
{
	struct wbuf	 w;
	uint32_t	*vlocker;
	size_t		 i, sz;

	if (b == NULL || out == NULL || outlen == NULL)
		return -1;
	if (b->nhostnames > UINT32_MAX || b->nlockers > UINT32_MAX ||
	    b->nvhosts > UINT32_MAX)
		return -1;
	if ((vlocker = calloc(b->nvhosts + 1, sizeof(*vlocker))) == NULL)
		return -1;
	if (builder_prepare(b, vlocker) == -1) {
		free(vlocker);
		return -1;
	}

	sz = RT_HDRLEN + 2 + strlen(b->domain) +
	    strs_size(b->hostnames, b->nhostnames) + strs_size(b->lockers, b->nlockers);
	for (i = 0; i < b->nvhosts; i++)
		sz += 2 + strlen(b->vhosts[i].host) + 4 + 2 + strlen(b->vhosts[i].subdir) + 1;
	if ((w.p = malloc(sz)) == NULL) {
		free(vlocker);
		return -1;
	}
	w.off = 0;

	memcpy(w.p, RT_MAGIC, 4);
	w.off = 4;
	put_u32(&w, RT_VERSION);
	put_u32(&w, b->nhostnames);
	put_u32(&w, b->nlockers);
	put_u32(&w, b->nvhosts);
	put_str(&w, b->domain);
	for (i = 0; i < b->nhostnames; i++)
		put_str(&w, b->hostnames[i]);
	for (i = 0; i < b->nlockers; i++)
		put_str(&w, b->lockers[i]);
	for (i = 0; i < b->nvhosts; i++) {
		put_str(&w, b->vhosts[i].host);
		put_u32(&w, vlocker[i]);
		put_str(&w, b->vhosts[i].subdir);
		w.p[w.off++] = (unsigned char)b->vhosts[i].https;
	}
	free(vlocker);

	*out = w.p;
	*outlen = w.off;
	return 0;
}

void
route_builder_free(struct route_builder *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nhostnames; i++)
		free(b->hostnames[i]);
	for (i = 0; i < b->nlockers; i++)
		free(b->lockers[i]);
	for (i = 0; i < b->nvhosts; i++) {
		free(b->vhosts[i].host);
		free(b->vhosts[i].locker);
		free(b->vhosts[i].subdir);
	}
	free(b->hostnames);
	free(b->lockers);
	free(b->vhosts);
	free(b->domain);
	free(b);
}

/* ------------------------------------------------------------ loader */

struct rbuf {
	const unsigned char	*p;
	size_t			 len, off;
	char			*arena;		/* where strings are copied */
	size_t			 arenaoff;
};

static int
get_u32(struct rbuf *r, uint32_t *v)
{
	const unsigned char *p;

	if (r->len - r->off < 4)
		return -1;
	p = r->p + r->off;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	r->off += 4;
	return 0;
}

/*
 * Copies the next string into the arena, NUL-terminated.  The arena is
 * as large as the blob and each string gives up two length bytes for one
 * NUL, so it cannot overflow.
 */
static int
get_str(struct rbuf *r, struct rt_str *s)
{
	size_t len;

	if (r->len - r->off < 2)
		return -1;
	len = (size_t)r->p[r->off] | (size_t)r->p[r->off + 1] << 8;
	r->off += 2;
	if (r->len - r->off < len)
		return -1;
	if (memchr(r->p + r->off, '\0', len) != NULL)
		return -1;
	memcpy(r->arena + r->arenaoff, r->p + r->off, len);
	r->arena[r->arenaoff + len] = '\0';
	s->s = r->arena + r->arenaoff;
	s->len = len;
	r->arenaoff += len + 1;
	r->off += len;
	return 0;
}

static int
ascending(const struct rt_str *prev, const struct rt_str *cur)
{
	return str_cmp(prev->s, prev->len, cur->s, cur->len) < 0;
}

static int
load_names(struct rbuf *r, struct rt_str *v, size_t n, int (*ok)(const char *, size_t))
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (get_str(r, &v[i]) == -1 || !ok(v[i].s, v[i].len))
			return -1;
		if (i > 0 && !ascending(&v[i - 1], &v[i]))
			return -1;
	}
	return 0;
}

static int
load_vhosts(struct rbuf *r, struct route_table *t)
{
	struct rt_vhost	*v;
	uint32_t	 li;
	size_t		 i;

	for (i = 0; i < t->nvhosts; i++) {
		v = &t->vhosts[i];
		if (get_str(r, &v->host) == -1 || !dns_name_ok(v->host.s, v->host.len) ||
		    get_u32(r, &li) == -1 || li >= t->nlockers ||
		    get_str(r, &v->subdir) == -1 || !subdir_ok(v->subdir.s, v->subdir.len) ||
		    r->off == r->len || r->p[r->off] > ROUTE_HTTPS_PLAIN_OK)
			return -1;
		v->https = r->p[r->off++];
		v->locker = t->lockers[li];	/* the same string: route_delta.c compares it */
		if (i > 0 && !ascending(&t->vhosts[i - 1].host, &v->host))
			return -1;
	}
	return 0;
}

/*
 * Reads the counts and refuses any the blob is too short to hold, so that
 * a forged count cannot make us allocate more than a few times its size.
 */
static int
load_header(struct rbuf *r, struct route_table *t)
{
	uint32_t	version, nh, nl, nv;
	uint64_t	need;

	if (r->len < RT_HDRLEN || memcmp(r->p, RT_MAGIC, 4) != 0)
		return -1;
	r->off = 4;
	if (get_u32(r, &version) == -1 || version != RT_VERSION ||
	    get_u32(r, &nh) == -1 || get_u32(r, &nl) == -1 || get_u32(r, &nv) == -1)
		return -1;
	need = RT_HDRLEN + 2 + 2 * (uint64_t)nh + 2 * (uint64_t)nl + 9 * (uint64_t)nv;
	if (need > r->len)
		return -1;
	t->nhostnames = nh;
	t->nlockers = nl;
	t->nvhosts = nv;
	return 0;
}

struct route_table *
route_table_load(const void *data, size_t len)
{
	struct route_table	*t;
	struct rbuf		 r;

	if (data == NULL)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	memset(&r, 0, sizeof(r));
	r.p = data;
	r.len = len;
	if (load_header(&r, t) == -1)
		goto fail;

	/* +1 so that nothing is ever malloc(0). */
	t->arena = r.arena = malloc(len);
	t->hostnames = calloc(t->nhostnames + 1, sizeof(*t->hostnames));
	t->lockers = calloc(t->nlockers + 1, sizeof(*t->lockers));
	t->vhosts = calloc(t->nvhosts + 1, sizeof(*t->vhosts));
	if (t->arena == NULL || t->hostnames == NULL || t->lockers == NULL ||
	    t->vhosts == NULL)
		goto fail;
	t->caplockers = t->nlockers + 1;
	t->capvhosts = t->nvhosts + 1;

	if (get_str(&r, &t->domain) == -1 || !dns_name_ok(t->domain.s, t->domain.len) ||
	    load_names(&r, t->hostnames, t->nhostnames, canon_ok) == -1 ||
	    load_names(&r, t->lockers, t->nlockers, label_ok) == -1 ||
	    load_vhosts(&r, t) == -1 || r.off != r.len)
		goto fail;
	return t;
 fail:
	route_table_free(t);
	return NULL;
}

void
route_table_free(struct route_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nheap; i++)
		free(t->heap[i]);
	free(t->heap);
	free(t->arena);
	free(t->hostnames);
	free(t->lockers);
	free(t->vhosts);
	free(t);
}

size_t
route_table_nlockers(const struct route_table *t)
{
	return t ? t->nlockers : 0;
}

/* ------------------------------------------------------------ lookup */

/* Index of s in the sorted array v, or -1. */
static ssize_t
find_str(const struct rt_str *v, size_t n, const char *s, size_t len)
{
	size_t	lo = 0, hi = n, mid;
	int	r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = str_cmp(s, len, v[mid].s, v[mid].len);
		if (r == 0)
			return mid;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static const struct rt_vhost *
find_vhost(const struct route_table *t, const char *host, size_t len)
{
	size_t	lo = 0, hi = t->nvhosts, mid;
	int	r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = str_cmp(host, len, t->vhosts[mid].host.s, t->vhosts[mid].host.len);
		if (r == 0)
			return &t->vhosts[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int
is_service_host(const struct route_table *t, const char *host, size_t len)
{
	if (str_cmp(host, len, t->domain.s, t->domain.len) == 0)
		return 1;
	return find_str(t->hostnames, t->nhostnames, host, len) != -1;
}

/*
 * The label of "<label>.<domain>", or NULL when host is not exactly one
 * label under the domain (deeper names are nobody's).
 */
static const char *
subdomain_label(const struct route_table *t, const char *host, size_t len,
    size_t *labellen)
{
	size_t n;

	if (len < t->domain.len + 2)
		return NULL;
	n = len - t->domain.len - 1;
	if (host[n] != '.' || memcmp(host + n + 1, t->domain.s, t->domain.len) != 0)
		return NULL;
	if (memchr(host, '.', n) != NULL)
		return NULL;
	*labellen = n;
	return host;
}

static void
set_locker(struct route_result *out, const struct rt_str *name)
{
	memcpy(out->locker, name->s, name->len + 1);
}

/* fs_path = prefix + path, refusing (not truncating) what does not fit. */
static int
set_fs_path(struct route_result *out, const char *prefix, size_t plen,
    const char *path)
{
	size_t len = strlen(path);

	if (plen + len >= sizeof(out->fs_path))
		return -1;
	memcpy(out->fs_path, prefix, plen);
	memcpy(out->fs_path + plen, path, len + 1);
	return 0;
}

static enum route_status
route_vhost(const struct route_table *t, const struct rt_vhost *v,
    const char *path, struct route_result *out)
{
	char	prefix[SUBDIR_MAX + 2];
	size_t	plen = 0;

	if (path[0] != '/')
		return ROUTE_NO_LOCKER;
	if (v->subdir.len > 0) {
		prefix[0] = '/';
		memcpy(prefix + 1, v->subdir.s, v->subdir.len);
		plen = v->subdir.len + 1;
	}
	if (set_fs_path(out, prefix, plen, path) == -1)
		return ROUTE_NO_LOCKER;
	(void)t;
	set_locker(out, &v->locker);
	out->https = v->https;
	return ROUTE_LOCKER;
}

static enum route_status
route_subdomain(const struct route_table *t, ssize_t li, const char *path,
    struct route_result *out)
{
	if (path[0] != '/' || set_fs_path(out, "", 0, path) == -1)
		return ROUTE_NO_LOCKER;
	set_locker(out, &t->lockers[li]);
	return ROUTE_LOCKER;
}

/* A service host: /~name and /~name/... are lockers, the rest is ours. */
static enum route_status
route_service(const struct route_table *t, const char *path,
    struct route_result *out)
{
	const char	*name;
	size_t		 len;
	ssize_t		 li;

	if (path[0] != '/' || path[1] != '~')
		return ROUTE_SERVICE;
	name = path + 2;
	len = strcspn(name, "/");
	if ((li = find_str(t->lockers, t->nlockers, name, len)) == -1)
		return ROUTE_NO_LOCKER;
	if (set_fs_path(out, "", 0, name + len) == -1)
		return ROUTE_NO_LOCKER;
	set_locker(out, &t->lockers[li]);
	out->url_prefix[0] = '/';
	out->url_prefix[1] = '~';
	memcpy(out->url_prefix + 2, name, len);
	out->url_prefix[len + 2] = '\0';
	return ROUTE_LOCKER;
}

enum route_status
route_lookup(const struct route_table *t, const char *host, size_t hostlen,
    const char *path, struct route_result *out)
{
	char			 h[HOSTNAME_MAX + 1];
	const struct rt_vhost	*v;
	const char		*label;
	size_t			 hlen, labellen = 0;
	ssize_t			 li = -1;

	out->locker[0] = out->fs_path[0] = out->url_prefix[0] = '\0';
	out->https = ROUTE_HTTPS_DEFAULT;
	if (t == NULL)
		return ROUTE_UNKNOWN_HOST;
	if (path == NULL)
		path = "";
	/* HTTP/1.0 without Host: the service is all we can mean. */
	if (host == NULL || hostlen == 0)
		return route_service(t, path, out);
	if (route_canon_host(host, hostlen, h, sizeof(h)) == -1)
		return ROUTE_UNKNOWN_HOST;
	hlen = strlen(h);

	/*
	 * The service's own names first, whatever the directory says: a vhost
	 * (or a locker) named like a host the administrator added later must
	 * not take every /~locker/ URL on it.  A service host name may sit
	 * under the domain (www.<domain>); reserved names keep lockers off
	 * those labels.  Then <locker>.<domain>, which is that locker's by
	 * construction, and only then the vhosts lockers chose.
	 */
	if (is_service_host(t, h, hlen))
		return route_service(t, path, out);
	label = subdomain_label(t, h, hlen, &labellen);
	if (label != NULL &&
	    (li = find_str(t->lockers, t->nlockers, label, labellen)) != -1)
		return route_subdomain(t, li, path, out);
	if ((v = find_vhost(t, h, hlen)) != NULL)
		return route_vhost(t, v, path, out);
	if (label != NULL)
		return ROUTE_NO_LOCKER;
	return ROUTE_UNKNOWN_HOST;
}

/* ------------------------------------------------------------ diff */

static int
rt_str_eq(const struct rt_str *a, const struct rt_str *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* Lockers in only one of two sorted name lists. */
static void
diff_lockers(const struct route_table *a, const struct route_table *b,
    void (*cb)(const char *, void *), void *arg)
{
	size_t	i = 0, j = 0;
	int	r;

	while (i < a->nlockers || j < b->nlockers) {
		if (i == a->nlockers)
			r = 1;
		else if (j == b->nlockers)
			r = -1;
		else
			r = str_cmp(a->lockers[i].s, a->lockers[i].len, b->lockers[j].s,
			    b->lockers[j].len);
		if (r < 0)
			cb(a->lockers[i++].s, arg);
		else if (r > 0)
			cb(b->lockers[j++].s, arg);
		else
			i++, j++;
	}
}

/* The lockers of vhosts added, removed, moved or given another subdir. */
static void
diff_vhosts(const struct route_table *a, const struct route_table *b,
    void (*cb)(const char *, void *), void *arg)
{
	const struct rt_vhost	*va, *vb;
	size_t			 i = 0, j = 0;
	int			 r;

	while (i < a->nvhosts || j < b->nvhosts) {
		va = i < a->nvhosts ? &a->vhosts[i] : NULL;
		vb = j < b->nvhosts ? &b->vhosts[j] : NULL;
		if (va == NULL)
			r = 1;
		else if (vb == NULL)
			r = -1;
		else
			r = str_cmp(va->host.s, va->host.len, vb->host.s, vb->host.len);
		if (r <= 0 && (r < 0 || !rt_str_eq(&va->subdir, &vb->subdir) ||
		    !rt_str_eq(&va->locker, &vb->locker)))
			cb(va->locker.s, arg);
		if (r >= 0 && (r > 0 || !rt_str_eq(&va->subdir, &vb->subdir) ||
		    !rt_str_eq(&va->locker, &vb->locker)))
			cb(vb->locker.s, arg);
		i += r <= 0;
		j += r >= 0;
	}
}

int
route_table_diff(const struct route_table *a, const struct route_table *b,
    void (*cb)(const char *locker, void *arg), void *arg)
{
	size_t i;

	if (a == NULL || b == NULL || !rt_str_eq(&a->domain, &b->domain) ||
	    a->nhostnames != b->nhostnames)
		return -1;
	for (i = 0; i < a->nhostnames; i++)
		if (!rt_str_eq(&a->hostnames[i], &b->hostnames[i]))
			return -1;
	diff_lockers(a, b, cb, arg);
	diff_vhosts(a, b, cb, arg);
	return 0;
}
