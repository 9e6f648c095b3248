/*
 * bucket.c: a token bucket, for a locker's log budget (log-rate) and for
 * the master's lines about refused verbs (control.c).
 *
 * logd keeps the budget itself, exactly; front keeps a looser one of the
 * same rate for what it relays (PHP's STDERR), so that a flood stops
 * before it reaches the channel every locker's lines share.
 */
#include "lockerd.h"

/* What a locker may write at once: LOG_BURST_SECONDS of its rate, and at
 * least two of the longest lines. */
uint64_t
bucket_cap(uint64_t rate)
{
	uint64_t cap = rate * LOG_BURST_SECONDS, least = 2 * (LOG_LINE_MAX + 64);

	return cap > least ? cap : least;
}

void
bucket_fill(struct rate_bucket *b, uint64_t rate, uint64_t now)
{
	b->tokens = bucket_cap(rate);
	b->stamp_ms = now;
}

void
bucket_refill(struct rate_bucket *b, uint64_t rate, uint64_t cap, uint64_t now)
{
	uint64_t dt, add;

	if (now <= b->stamp_ms)
		return;
	dt = now - b->stamp_ms;
	if (dt > ((uint64_t)1 << 22))
		dt = (uint64_t)1 << 22;		/* rate * dt stays far from overflowing */
	add = rate * dt / 1000;
	if (add == 0)
		return;		/* keep the time: it adds up to a byte later */
	b->tokens = b->tokens + add < cap ? b->tokens + add : cap;
	b->stamp_ms = now;
}

/* Take n bytes: 1 if they fit (rate 0: no limit), else 0 and nothing taken. */
int
bucket_take(struct rate_bucket *b, uint64_t rate, uint64_t cap, uint64_t now, uint64_t n)
{
	if (rate == 0)
		return 1;
	bucket_refill(b, rate, cap, now);
	if (b->tokens < n)
		return 0;
	b->tokens -= n;
	return 1;
}
