/* test_poolpolicy.c: a PHP pool's decisions (poolpolicy.c): who holds what,
 * when the pool grows, replaces and ends processes, and front's tally of
 * closed connections, which never loses one. */
#include "unit.h"
#include "poolpolicy.h"

/* Each front's count is its own, a front's word moves only its own count,
 * and a front that goes takes its count with it. */
static void
test_hands(void)
{
	struct pool_hands h;

	hands_init(&h);
	CHECK_INT(hands_add(&h, 7), 0);
	CHECK_INT(hands_add(&h, 7), 0);
	CHECK_INT(hands_add(&h, 9), 0);
	CHECK_INT(h.busy, 3);
	CHECK_INT(hands_of(&h, 7), 2);
	/* More closed than held: clamped, the other front's untouched. */
	hands_done(&h, 7, 5);
	CHECK_INT(hands_of(&h, 7), 0);
	CHECK_INT(hands_of(&h, 9), 1);
	CHECK_INT(h.busy, 1);
	/* A channel never seen says nothing. */
	hands_done(&h, 11, 3);
	CHECK_INT(h.busy, 1);
	hands_drop(&h, 9);
	CHECK_INT(h.busy, 0);
	CHECK_INT(hands_of(&h, 9), 0);
}

/* A slot of a channel holding none is reused; past POOL_HANDS_MAX
 * channels holding one each, no more is handed out. */
static void
test_hands_full(void)
{
	struct pool_hands h;
	int i;

	hands_init(&h);
	for (i = 0; i < POOL_HANDS_MAX; i++)
		CHECK_INT(hands_add(&h, 100 + i), 0);
	CHECK_INT(hands_add(&h, 5000), -1);
	CHECK_INT(h.busy, POOL_HANDS_MAX);
	hands_done(&h, 100, 1);
	CHECK_INT(hands_add(&h, 5000), 0);
	CHECK_INT(hands_of(&h, 5000), 1);
	CHECK_INT(h.busy, POOL_HANDS_MAX);
}

static void
test_grow(void)
{
	/* None running: one at once, whatever else. */
	CHECK(pool_should_grow(0, 0, 5, 0, 0));
	/* Every process busy, nothing waiting: no growth. */
	CHECK(!pool_should_grow(2, 2, 5, 100, 1000));
	/* A queue, but a young one: it is waited out. */
	CHECK(!pool_should_grow(2, 3, 5, POOL_GROW_MS - 1, 1000));
	CHECK(pool_should_grow(2, 3, 5, POOL_GROW_MS, 1000));
	/* One start at a time. */
	CHECK(!pool_should_grow(2, 3, 5, 100, POOL_START_GAP_MS - 1));
	/* Never past the pool's size. */
	CHECK(!pool_should_grow(5, 40, 5, 1000, 1000));
}

static void
test_replace_and_end(void)
{
	/* Requests wait that the rest cannot all take: replaced now. */
	CHECK(pool_should_replace(1, 3, 5));
	CHECK(!pool_should_replace(2, 2, 5));
	CHECK(!pool_should_replace(5, 9, 5));
	CHECK(!pool_should_replace(0, 0, 5));
	/* Ending: never the last, never one a connection may be on. */
	CHECK_INT(pool_may_end(1, 0), 0);
	CHECK_INT(pool_may_end(4, 0), 3);
	CHECK_INT(pool_may_end(4, 1), 3);
	CHECK_INT(pool_may_end(4, 3), 1);
	CHECK_INT(pool_may_end(4, 4), 0);
	CHECK_INT(pool_may_end(4, 9), 0);
}

/* A process is quiet once its wake-ups stood still for the idle time. */
static void
test_activity(void)
{
	struct proc_activity a = { 0, 0 };
	uint64_t sw;

	CHECK(!activity_quiet(&a, 10, 1000, 500));	/* first look */
	CHECK(!activity_quiet(&a, 10, 1400, 500));
	CHECK(activity_quiet(&a, 10, 1500, 500));
	CHECK(!activity_quiet(&a, 11, 1600, 500));	/* it served one */
	CHECK(!activity_quiet(&a, 11, 2000, 500));
	CHECK(activity_quiet(&a, 11, 2100, 500));
	CHECK_INT(activity_parse("Name:\tphp-cgi\nvoluntary_ctxt_switches:\t42\n"
	    "nonvoluntary_ctxt_switches:\t7\n", &sw), 0);
	CHECK_INT(sw, 42);
	/* nonvoluntary_ alone is not it. */
	CHECK_INT(activity_parse("Name:\tx\nnonvoluntary_ctxt_switches:\t7\n", &sw), -1);
	CHECK_INT(activity_parse("Name:\tx\nvoluntary_ctxt_switches:\tlots\n", &sw), -1);
	CHECK_INT(activity_parse("", &sw), -1);
}

/* Every closed connection is counted somewhere, however many pools. */
static void
test_tally(void)
{
	struct done_tally t;
	char ext[8];
	unsigned total = 0;
	int i, k;

	memset(&t, 0, sizeof(t));
	tally_add(&t, "php", "");
	tally_add(&t, "php", "");
	tally_add(&t, "php", "ab12");
	CHECK_INT(t.ne, 2);
	CHECK_INT(t.e[0].n, 2);
	for (k = 0; k < 3; k++)
		for (i = 0; i < 40; i++) {
			snprintf(ext, sizeof(ext), "x%d", i);
			tally_add(&t, ext, "");
			tally_add(&t, "", "");
		}
	CHECK(t.ne <= DONE_TALLY_MAX);
	for (i = 0; i < t.ne; i++)
		total += t.e[i].n;
	CHECK_INT(total, 3 + 3 * 80);
	/* The rest under "": the worker takes them from any pool. */
	for (i = 0; i < t.ne && t.e[i].ext[0] != '\0'; i++)
		;
	CHECK(i < t.ne && t.e[i].n > 80);
}

int
main(void)
{
	test_hands();
	test_hands_full();
	test_grow();
	test_replace_and_end();
	test_activity();
	test_tally();
	UNIT_DONE();
}
