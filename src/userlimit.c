/*
 * userlimit.c: how fast one login user may make the master change things.
 *
 * Every change (a signup, a vhost, an admin, an su) is a transaction on
 * the directory and an append-only audit row, and most of them rebuild
 * and push the routing table to every front: a user looping over
 * `locker vhost add/remove` grew the trail by half a megabyte a second and
 * kept the fronts busy for everyone.  So each login uid has a token bucket:
 * it holds at most `burst` tokens, gains `per_minute` a minute, and a
 * change costs one.  root is not counted (the caller exempts it).
 *
 * The table is small and fixed: a bucket that has refilled to the brim
 * says nothing a fresh one would not, so such buckets are reused first;
 * only a machine with more than UL_SLOTS users changing things within the
 * same minutes would reuse a partly empty one (the oldest).
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "lockerd.h"
#include "master.h"

#define UL_SLOTS	1024
#define UL_MILLI	1000	/* tokens are counted in thousandths */

static struct bucket {
	uid_t		uid;
	int		used;
	uint64_t	milli;		/* tokens * UL_MILLI, as of at_ms */
	uint64_t	at_ms;
} buckets[UL_SLOTS];

/* Tokens gained since b->at_ms, capped at the burst. */
static void
refill(struct bucket *b, uint64_t now, uint32_t per_minute, uint32_t burst)
{
	uint64_t cap = (uint64_t)burst * UL_MILLI;
	uint64_t gained = (now - b->at_ms) * per_minute * UL_MILLI / 60000;

	b->milli = b->milli + gained > cap ? cap : b->milli + gained;
	/* Keep the remainder of a partly gained token for next time. */
	if (gained > 0 || b->milli == cap)
		b->at_ms = now;
}

static struct bucket *
bucket_of(uid_t uid, uint64_t now, uint32_t per_minute, uint32_t burst)
{
	struct bucket	*b, *free_b = NULL, *full = NULL, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < UL_SLOTS; i++) {
		b = &buckets[i];
		if (!b->used) {
			if (free_b == NULL)
				free_b = b;
			continue;
		}
		if (b->uid == uid)
			return b;
		refill(b, now, per_minute, burst);
		if (full == NULL && b->milli == (uint64_t)burst * UL_MILLI)
			full = b;
		if (oldest == NULL || b->at_ms < oldest->at_ms)
			oldest = b;
	}
	b = free_b != NULL ? free_b : full != NULL ? full : oldest;
	b->used = 1;
	b->uid = uid;
	b->milli = (uint64_t)burst * UL_MILLI;
	b->at_ms = now;
	return b;
}

/*
 * Take one token of uid's bucket: 0 if there was one, else -1 with the
 * seconds until there is in *retry_s.  per_minute 0: no limit.
 */
int
userlimit_take(uid_t uid, uint64_t now, uint32_t per_minute, uint32_t burst,
    uint32_t *retry_s)
{
	struct bucket *b;

	if (per_minute == 0)
		return 0;
	if (burst == 0)
		burst = 1;
	b = bucket_of(uid, now, per_minute, burst);
	refill(b, now, per_minute, burst);
	if (b->milli >= UL_MILLI) {
		b->milli -= UL_MILLI;
		return 0;
	}
	if (retry_s != NULL)
		*retry_s = (uint32_t)(((UL_MILLI - b->milli) * 60000 / per_minute /
		    UL_MILLI + 999) / 1000);
	return -1;
}
