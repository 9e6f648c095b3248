/* test_hdrops: a .htaccess's Header operations on a head front built. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "front.h"
#include "wire.h"
#include "unit.h"

static struct conn	c;
static char		ops[WIRE_OPS_MAX];
static size_t		olen;

static void
op(int kind, int always, const char *name, const char *re, const char *sub)
{
	struct wire_hop h = { kind, always, name, re, sub };

	olen = wire_hop_put(ops, sizeof(ops), olen, &h);
}

/*
 * head: the status line and fields as front wrote them, the worker's
 * (worker, found in head) among them; the operations so far applied.
 */
static const char *
apply(const char *head, const char *worker, int own_page)
{
	const char *w = worker != NULL ? strstr(head, worker) : NULL;

	memset(&c, 0, sizeof(c));
	c.outlen = strlen(head);
	memcpy(c.out, head, c.outlen);
	c.xhdr = malloc(olen + 1);
	memcpy(c.xhdr, ops, olen);
	c.xhdr_len = 0;
	c.hops_len = olen;
	c.own_page = own_page;
	if (w != NULL) {
		c.xhdr_at = (size_t)(w - head);
		c.xhdr_end = c.xhdr_at + strlen(worker);
	}
	hdrops_apply(&c);
	free(c.xhdr);
	c.out[c.outlen] = '\0';
	olen = 0;
	return c.out;
}

static void
test_unset_and_edit(void)
{
	op(WHOP_UNSET, 0, "etag", "", "");
	op(WHOP_EDIT, 0, "Set-Cookie", "^(sid=[^;]*)$", "$1; HttpOnly");
	op(WHOP_EDIT_ALL, 1, "X-M", "a", "b");
	CHECK_STR(apply("HTTP/1.1 200 OK\r\nETag: \"1\"\r\nSet-Cookie: sid=1\r\n"
	    "Set-Cookie: other=2\r\nX-M: banana\r\nETag: \"2\"\r\n", NULL, 0),
	    "HTTP/1.1 200 OK\r\nSet-Cookie: sid=1; HttpOnly\r\nSet-Cookie: other=2\r\n"
	    "X-M: bbnbnb\r\n");
}

/* The worker's own fields had the operations already: set's value stays. */
static void
test_worker_fields_left(void)
{
	op(WHOP_UNSET, 0, "Cache-Control", "", "");
	CHECK_STR(apply("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nX-A: 1\r\n"
	    "Cache-Control: private\r\n", "Cache-Control: no-store\r\nX-A: 1\r\n", 0),
	    "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nX-A: 1\r\n");
}

/* Front's own error page: the "always" operations only. */
static void
test_always_on_own_pages(void)
{
	op(WHOP_UNSET, 0, "X-A", "", "");
	op(WHOP_UNSET, 1, "X-B", "", "");
	CHECK_STR(apply("HTTP/1.1 404 Not Found\r\nX-A: 1\r\nX-B: 2\r\n", NULL, 1),
	    "HTTP/1.1 404 Not Found\r\nX-A: 1\r\n");
}

/* An edit that would write a control byte, or match nothing, leaves the field. */
static void
test_bad_edits(void)
{
	op(WHOP_EDIT, 0, "X-A", "1", "\x01");
	op(WHOP_EDIT, 0, "X-B", "zzz", "y");
	op(WHOP_EDIT, 0, "X-C", "(a+)+$", "y");	/* backtracks: bounded */
	CHECK_STR(apply("HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\n"
	    "X-C: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\r\n", NULL, 0),
	    "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\n"
	    "X-C: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\r\n");
}

/* A hostile worker's worst: every operation a runaway edit of every field. */
static void
test_runaway_budget(void)
{
	static char	head[8000];
	struct timespec	t0, t1;
	size_t		n;
	int		i;

	n = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(head + n, sizeof(head) - n,
		    "X-C: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\r\n");
	for (i = 0; i < WHOP_MAX; i++)
		op(WHOP_EDIT_ALL, 1, "X-C", "(a|aa)+(a|aa)+(a|aa)+$", "y");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	apply(head, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(strcmp(c.out, head) == 0);	/* no edit completed */
	/* Far under what 64 x 100 unbounded matches would take (seconds). */
	CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 200);
}

int
main(void)
{
	test_unset_and_edit();
	test_worker_fields_left();
	test_always_on_own_pages();
	test_bad_edits();
	test_runaway_budget();
	UNIT_DONE();
}
