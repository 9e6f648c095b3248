/*
 * route_delta.c: one change to front's loaded routing table (route.h's
 * struct route_delta), in place: a binary search and a memmove of the
 * sorted arrays, where a new table would cost a build in the master and
 * a load in every front, both linear in the number of lockers and vhosts.
 *
 * The master sends these; front checks each field as route_table_load()
 * checks a blob's, so a change can put nothing in the table that a whole
 * table could not.
 */
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "route_int.h"

/* Where s is, or would go, in the sorted v; *found says which. */
static size_t
str_slot(const struct rt_str *v, size_t n, const char *s, size_t len, int *found)
{
	size_t	lo = 0, hi = n, mid;
	int	r;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = str_cmp(s, len, v[mid].s, v[mid].len)) == 0) {
			*found = 1;
			return mid;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static size_t
vhost_slot(const struct route_table *t, const char *host, size_t len, int *found)
{
	size_t	lo = 0, hi = t->nvhosts, mid;
	int	r;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = str_cmp(host, len, t->vhosts[mid].host.s, t->vhosts[mid].host.len);
		if (r == 0) {
			*found = 1;
			return mid;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Room for one more of n elements of size el (doubling). */
static int
room(void **arr, size_t *cap, size_t n, size_t el)
{
	size_t	 ncap;
	void	*p;

	if (n + 1 < *cap)
		return 0;
	ncap = *cap < 16 ? 32 : *cap * 2;
	if ((p = realloc(*arr, ncap * el)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* A copy of s owned by the table until it is freed. */
static int
keep(struct route_table *t, const char *s, struct rt_str *out)
{
	char *c;

	if (room((void **)&t->heap, &t->capheap, t->nheap, sizeof(*t->heap)) == -1 ||
	    (c = strdup(s)) == NULL)
		return -1;
	t->heap[t->nheap++] = c;
	out->s = c;
	out->len = strlen(c);
	return 0;
}

static int
add_locker(struct route_table *t, const char *name, size_t len,
    void (*cb)(const char *, void *), void *arg)
{
	struct rt_str	s;
	size_t		i;
	int		found;

	if (!rt_label_ok(name, len))
		return -1;
	i = str_slot(t->lockers, t->nlockers, name, len, &found);
	if (found)
		return 0;
	if (room((void **)&t->lockers, &t->caplockers, t->nlockers, sizeof(*t->lockers)) == -1 ||
	    keep(t, name, &s) == -1)
		return -1;
	memmove(&t->lockers[i + 1], &t->lockers[i], (t->nlockers - i) * sizeof(*t->lockers));
	t->lockers[i] = s;
	t->nlockers++;
	if (cb != NULL)
		cb(s.s, arg);
	return 0;
}

static void
vhost_drop(struct route_table *t, size_t i)
{
	memmove(&t->vhosts[i], &t->vhosts[i + 1], (t->nvhosts - i - 1) * sizeof(*t->vhosts));
	t->nvhosts--;
}

/* Its vhosts go with it: no host may route to a locker that is gone.  A
 * removal is rare (root's), so one pass over the vhosts is fine here. */
static int
del_locker(struct route_table *t, const char *name, size_t len,
    void (*cb)(const char *, void *), void *arg)
{
	const char	*s;
	size_t		 i, j;
	int		 found;

	if (!rt_label_ok(name, len))
		return -1;
	i = str_slot(t->lockers, t->nlockers, name, len, &found);
	if (!found)
		return 0;
	s = t->lockers[i].s;
	for (j = t->nvhosts; j-- > 0;)
		if (t->vhosts[j].locker.s == s)
			vhost_drop(t, j);
	if (cb != NULL)
		cb(s, arg);
	memmove(&t->lockers[i], &t->lockers[i + 1], (t->nlockers - i - 1) * sizeof(*t->lockers));
	t->nlockers--;
	return 0;
}

static int
set_vhost(struct route_table *t, const struct route_delta *d,
    void (*cb)(const char *, void *), void *arg)
{
	struct rt_vhost	 v;
	size_t		 hl = strlen(d->host), ll = strlen(d->locker), sl = strlen(d->subdir);
	size_t		 i, li;
	int		 found;

	if (!rt_host_ok(d->host, hl) || !rt_label_ok(d->locker, ll) ||
	    !rt_subdir_ok(d->subdir, sl) || d->https > ROUTE_HTTPS_PLAIN_OK)
		return -1;
	li = str_slot(t->lockers, t->nlockers, d->locker, ll, &found);
	if (!found)
		return -1;
	v.locker = t->lockers[li];
	v.https = d->https;
	i = vhost_slot(t, d->host, hl, &found);
	if (found) {
		v.host = t->vhosts[i].host;
		if (cb != NULL)
			cb(t->vhosts[i].locker.s, arg);
	} else if (room((void **)&t->vhosts, &t->capvhosts, t->nvhosts,
	    sizeof(*t->vhosts)) == -1 || keep(t, d->host, &v.host) == -1)
		return -1;
	if (keep(t, d->subdir, &v.subdir) == -1)
		return -1;
	if (!found) {
		memmove(&t->vhosts[i + 1], &t->vhosts[i], (t->nvhosts - i) * sizeof(*t->vhosts));
		t->nvhosts++;
	}
	t->vhosts[i] = v;
	if (cb != NULL)
		cb(v.locker.s, arg);
	return 0;
}

static int
del_vhost(struct route_table *t, const char *host, size_t len,
    void (*cb)(const char *, void *), void *arg)
{
	size_t	i;
	int	found;

	if (!rt_host_ok(host, len))
		return -1;
	i = vhost_slot(t, host, len, &found);
	if (!found)
		return 0;
	if (cb != NULL)
		cb(t->vhosts[i].locker.s, arg);
	vhost_drop(t, i);
	return 0;
}

int
route_table_apply(struct route_table *t, const struct route_delta *d,
    void (*cb)(const char *locker, void *arg), void *arg)
{
	if (t == NULL || d == NULL ||
	    memchr(d->locker, '\0', sizeof(d->locker)) == NULL ||
	    memchr(d->host, '\0', sizeof(d->host)) == NULL ||
	    memchr(d->subdir, '\0', sizeof(d->subdir)) == NULL)
		return -1;
	switch (d->op) {
	case ROUTE_ADD_LOCKER:
		return add_locker(t, d->locker, strlen(d->locker), cb, arg);
	case ROUTE_DEL_LOCKER:
		return del_locker(t, d->locker, strlen(d->locker), cb, arg);
	case ROUTE_SET_VHOST:
		return set_vhost(t, d, cb, arg);
	case ROUTE_DEL_VHOST:
		return del_vhost(t, d->host, strlen(d->host), cb, arg);
	}
	return -1;
}
