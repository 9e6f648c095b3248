/* test_body.c: a request body held in memory, then in a spool; the front's memory bound. */
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "lockerd.h"
#include "body.h"

static char	 big[BODY_MEM_MAX + 100];

static void
test_memory_then_spool(void)
{
	struct body	b;
	char		out[200];
	int		fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	CHECK(fd != -1);
	body_init(&b);
	CHECK_INT(body_room(&b, 10), 10);
	CHECK_INT(body_append(&b, "0123456789", 10), 0);
	CHECK_INT(body_mem_used(), 4096);
	/* Memory grows to BODY_MEM_MAX, and no further. */
	CHECK_INT(body_room(&b, sizeof(big)), BODY_MEM_MAX - 10);
	CHECK_INT(body_mem_used(), BODY_MEM_MAX);
	CHECK_INT(body_append(&b, big, BODY_MEM_MAX - 10), 0);
	CHECK_INT(body_room(&b, 1), 0);
	CHECK_INT(body_append(&b, "x", 1), -1);
	/* Into the spool: what was in memory first, then the rest. */
	CHECK_INT(body_spool(&b, fd), 0);
	CHECK_INT(body_mem_used(), 0);
	CHECK_INT(body_room(&b, 100), 100);
	CHECK_INT(body_append(&b, "abc", 3), 0);
	CHECK_INT(b.len, BODY_MEM_MAX + 3);
	CHECK_INT(body_read(&b, 0, out, 10), 10);
	CHECK(memcmp(out, "0123456789", 10) == 0);
	CHECK_INT(body_read(&b, BODY_MEM_MAX, out, sizeof(out)), 3);
	CHECK(memcmp(out, "abc", 3) == 0);
	CHECK_INT(body_read(&b, b.len, out, sizeof(out)), 0);
	/* A spool that shrank under us reads back short. */
	CHECK(ftruncate(fd, 5) == 0);
	CHECK_INT(body_read(&b, 10, out, 10), 0);
	body_free(&b);
	CHECK_INT(b.fd, -1);
}

/* All bodies of one front together stay under BODY_MEM_TOTAL. */
static void
test_total_bound(void)
{
	enum { N = BODY_MEM_TOTAL / BODY_MEM_MAX + 2 };
	static struct body	b[N];
	int			i, full = 0;

	for (i = 0; i < N; i++) {
		body_init(&b[i]);
		if (body_room(&b[i], BODY_MEM_MAX) == 0)
			full++;
	}
	CHECK_INT(full, 2);
	CHECK(body_mem_used() <= BODY_MEM_TOTAL);
	for (i = 0; i < N; i++)
		body_free(&b[i]);
	CHECK_INT(body_mem_used(), 0);
}

int
main(void)
{
	test_memory_then_spool();
	test_total_bound();
	UNIT_DONE();
}
