/*
 * stats.c: requests served and errors, per front process and per locker,
 * for `locker status`.
 *
 * Counted in front, not in the worker nor in logd.  The worker does not
 * see the requests front answers from its file cache (most static files
 * at speed), so it cannot count.  logd sees every access-log line, but
 * would have to parse the status back out of the formatted text, and it
 * only knows the front it came from by its channel.  front already knows
 * the status and the locker of each request where it writes the log
 * record, so counting there costs one hash of a short name and three
 * additions per request, against the log line it formats anyway; and the
 * counts go to the master as increments over front's own channel, in one
 * message at most every STATS_EVERY_MS (or when the table fills), not one
 * per request.  A front that dies loses at most its last unsent fraction
 * of a second; the master keeps the sums across front restarts.
 *
 * front is untrusted, so the master checks every report's size and names;
 * a forged report can only make the numbers wrong, and only lockers that
 * exist in the directory get a row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"

/* ------------------------------------------------------------ front */

#define FRONT_SLOTS	(STATS_MAX_LOCKERS * 2)	/* open addressing, at most half full */

static struct {
	struct msg_stats	 hdr;
	struct msg_stats_locker	 slot[FRONT_SLOTS];
	uint16_t		 used[STATS_MAX_LOCKERS];	/* slots in use, to send */
	uint32_t		 n;
	uint64_t		 since;		/* when the first unsent count came */
	int			 pending;
	uint32_t		 gen;		/* of the routing table in force */
} FS;

/* FNV-1a: the names are short, the table small. */
static uint32_t
name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	while (len-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void
count_into(uint32_t *req, uint32_t *e4, uint32_t *e5, int status)
{
	(*req)++;
	if (status >= 500)
		(*e5)++;
	else if (status >= 400)
		(*e4)++;
}

void
stats_count(int master_fd, const char *locker, size_t namelen, int status)
{
	struct msg_stats_locker	*e;
	uint32_t		 i, r = 0, e4 = 0, e5 = 0;

	if (FS.n == STATS_MAX_LOCKERS)
		stats_flush(master_fd);	/* a full table goes early */
	if (!FS.pending) {
		FS.pending = 1;
		FS.since = now_ms();
	}
	count_into(&r, &e4, &e5, status);
	FS.hdr.requests += r;
	FS.hdr.errors_4xx += e4;
	FS.hdr.errors_5xx += e5;
	if (namelen == 0 || namelen > LOCKER_NAME_MAX)
		return;
	for (i = name_hash(locker, namelen) % FRONT_SLOTS; ; i = (i + 1) % FRONT_SLOTS) {
		e = &FS.slot[i];
		if (e->locker[0] == '\0') {
			memcpy(e->locker, locker, namelen);
			e->locker[namelen] = '\0';
			FS.used[FS.n++] = (uint16_t)i;
			break;
		}
		if (strncmp(e->locker, locker, namelen) == 0 && e->locker[namelen] == '\0')
			break;
	}
	count_into(&e->requests, &e->errors_4xx, &e->errors_5xx, status);
}

int
stats_pending(uint64_t *since)
{
	*since = FS.since;
	return FS.pending;
}

void
stats_flush(int master_fd)
{
	static char		 buf[sizeof(struct msg_stats) +
				     STATS_MAX_LOCKERS * sizeof(struct msg_stats_locker)];
	struct msg_stats_locker	*out = (void *)(buf + sizeof(struct msg_stats));
	uint32_t		 i;

	if (!FS.pending)
		return;
	FS.hdr.nlockers = FS.n;
	FS.hdr.route_gen = FS.gen;
	memcpy(buf, &FS.hdr, sizeof(FS.hdr));
	for (i = 0; i < FS.n; i++) {
		out[i] = FS.slot[FS.used[i]];
		memset(&FS.slot[FS.used[i]], 0, sizeof(FS.slot[0]));
	}
	/* The master reads its children's channels every round; if it cannot
	 * take this now, these counts are lost, never the requests. */
	msg_send(master_fd, MSG_STATS, buf, sizeof(struct msg_stats) +
	    FS.n * sizeof(struct msg_stats_locker), -1);
	memset(&FS.hdr, 0, sizeof(FS.hdr));
	FS.n = 0;
	FS.pending = 0;
}

void
stats_routes(int master_fd, uint32_t gen)
{
	stats_flush(master_fd);
	FS.gen = gen;
}

/* ------------------------------------------------------------ master */

/*
 * A name is reused: `locker remove club`, then a new `club`.  Counts front
 * made for the old club may still be on their way (front reports every
 * STATS_EVERY_MS) and must not be credited to the new one, whose history
 * starts empty.  Each report says which routing table it was counted under;
 * a report older than the table that first held the new locker is the old
 * one's.  Only recent rebirths matter (the window is a fraction of a
 * second), so a small ring of them is enough.
 */
#define BIRTHS	64

static struct {
	char		name[LOCKER_NAME_MAX + 1];
	uint32_t	gen;		/* first table that may hold the new one */
} births[BIRTHS];
static unsigned	nbirth;
static uint32_t	pushed_gen;

void
stats_routes_pushed(uint32_t gen)
{
	pushed_gen = gen;
}

static int
counted_before_birth(const char *name, uint32_t gen)
{
	unsigned i;

	for (i = 0; i < BIRTHS && i < nbirth; i++)
		if (strcmp(births[i].name, name) == 0 && (int32_t)(gen - births[i].gen) < 0)
			return 1;
	return 0;
}

#define MASTER_BUCKETS	1024

struct lstat {
	struct lstat		*next;
	char			 name[LOCKER_NAME_MAX + 1];
	struct stats_total	 t;
};

static struct lstat *buckets[MASTER_BUCKETS];

static struct lstat **
lstat_find(const char *name)
{
	struct lstat **pp = &buckets[name_hash(name, strlen(name)) % MASTER_BUCKETS];

	while (*pp != NULL && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	return pp;
}

int
stats_apply(const void *msg, size_t len, struct stats_total *front,
    int (*locker_ok)(const char *))
{
	const struct msg_stats_locker	*e;
	struct msg_stats		 h;
	struct lstat			**pp;
	uint32_t			 i;

	if (len < sizeof(h))
		return -1;
	memcpy(&h, msg, sizeof(h));
	if (h.nlockers > STATS_MAX_LOCKERS ||
	    len != sizeof(h) + h.nlockers * sizeof(struct msg_stats_locker))
		return -1;
	e = (const void *)((const char *)msg + sizeof(h));
	for (i = 0; i < h.nlockers; i++)
		if (memchr(e[i].locker, '\0', sizeof(e[i].locker)) == NULL)
			return -1;
	front->requests += h.requests;
	front->errors_4xx += h.errors_4xx;
	front->errors_5xx += h.errors_5xx;
	for (i = 0; i < h.nlockers; i++) {
		if (counted_before_birth(e[i].locker, h.route_gen))
			continue;
		pp = lstat_find(e[i].locker);
		if (*pp == NULL) {
			if (!locker_ok(e[i].locker) || (*pp = calloc(1, sizeof(**pp))) == NULL)
				continue;
			memcpy((*pp)->name, e[i].locker, sizeof((*pp)->name));
		}
		(*pp)->t.requests += e[i].requests;
		(*pp)->t.errors_4xx += e[i].errors_4xx;
		(*pp)->t.errors_5xx += e[i].errors_5xx;
	}
	return 0;
}

void
stats_log_dropped(const char *locker, uint64_t bytes, int (*locker_ok)(const char *))
{
	struct lstat **pp = lstat_find(locker);

	if (*pp == NULL) {
		if (!locker_ok(locker) || (*pp = calloc(1, sizeof(**pp))) == NULL)
			return;
		memcpy((*pp)->name, locker, strnlen(locker, sizeof((*pp)->name) - 1));
	}
	(*pp)->t.log_dropped += bytes;
}

int
stats_locker(const char *locker, struct stats_total *out)
{
	struct lstat **pp = lstat_find(locker);

	memset(out, 0, sizeof(*out));
	if (*pp == NULL)
		return 0;
	*out = (*pp)->t;
	return 1;
}

void
stats_forget(const char *locker)
{
	struct lstat **pp = lstat_find(locker), *gone;

	snprintf(births[nbirth % BIRTHS].name, sizeof(births[0].name), "%s", locker);
	births[nbirth % BIRTHS].gen = pushed_gen + 1;
	nbirth++;
	if ((gone = *pp) != NULL) {
		*pp = gone->next;
		free(gone);
	}
}

int
stats_foreach(int (*cb)(const char *, const struct stats_total *, void *), void *arg)
{
	struct lstat	*l;
	int		 i, rc;

	for (i = 0; i < MASTER_BUCKETS; i++)
		for (l = buckets[i]; l != NULL; l = l->next)
			if ((rc = cb(l->name, &l->t, arg)) != 0)
				return rc;
	return 0;
}
