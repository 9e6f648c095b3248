/* test_respbuf.c: an answer's spool (written, sent, emptied when caught up); the memory bound. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "lockerd.h"
#include "respbuf.h"

static void
test_spool(void)
{
	struct respbuf	rb;
	struct stat	st;
	char		out[64];
	int		sv[2], fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	int		other = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	CHECK(fd != -1 && other != -1);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	respbuf_init(&rb);
	CHECK_INT(respbuf_room(&rb, 10), 0);	/* no spool yet */
	/* Only an empty regular file is taken. */
	CHECK_INT(write(other, "x", 1), 1);
	CHECK_INT(respbuf_spool(&rb, other), -1);
	CHECK(rb.refused);
	rb.refused = 0;
	CHECK_INT(respbuf_spool(&rb, fd), 0);
	CHECK_INT(respbuf_room(&rb, 10), 10);
	CHECK_INT(respbuf_write(&rb, "hello world", 11), 0);
	CHECK_INT(respbuf_pending(&rb), 11);
	CHECK_INT(respbuf_sendfile(&rb, sv[0], 5), 5);
	CHECK_INT(respbuf_pending(&rb), 6);
	CHECK_INT(respbuf_write(&rb, "!", 1), 0);
	CHECK_INT(respbuf_sendfile(&rb, sv[0], 100), 7);
	CHECK_INT(read(sv[1], out, sizeof(out)), 12);
	CHECK(memcmp(out, "hello world!", 12) == 0);
	/* Caught up: the file is empty again, and the next bytes start it. */
	CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
	CHECK_INT(respbuf_write(&rb, "ab", 2), 0);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 2);
	CHECK_INT(respbuf_sendfile(&rb, sv[0], 2), 2);
	CHECK_INT(read(sv[1], out, sizeof(out)), 2);
	CHECK(memcmp(out, "ab", 2) == 0);
	/* A spool shrunk under us gives nothing, never other bytes. */
	CHECK_INT(respbuf_write(&rb, "abcdef", 6), 0);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK_INT(respbuf_sendfile(&rb, sv[0], 6), 0);
	respbuf_free(&rb);
	CHECK_INT(rb.fd, -1);
	close(sv[0]);
	close(sv[1]);
}

static void
test_memory_bound(void)
{
	enum { N = RESP_MEM_TOTAL / 65536 + 2 };
	static struct respbuf	rb[N];
	int			i, kept = 0;

	for (i = 0; i < N; i++) {
		respbuf_init(&rb[i]);
		kept += respbuf_mem_keep(&rb[i], 65536);
	}
	CHECK_INT(kept, N - 2);
	CHECK_INT(respbuf_mem_used(), RESP_MEM_TOTAL);
	for (i = 0; i < N; i++)
		respbuf_free(&rb[i]);
	CHECK_INT(respbuf_mem_used(), 0);
}

int
main(void)
{
	test_spool();
	test_memory_bound();
	UNIT_DONE();
}
