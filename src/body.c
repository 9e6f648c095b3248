/*
 * body.c: a request body, held whole before it goes to a script.
 *
 * Why whole: a locker's PHP pool has few processes (front's share is a
 * couple of kept connections), and a FastCGI request pins one from the
 * moment its connection is taken until PHP answers.  Streamed, eight
 * clients dripping their bodies at a byte a second held every one of them,
 * and each half-sent body that ended in a disconnect reached the script as
 * a complete one.  Held whole, a script starts only once the last byte
 * (the last chunk) is in, and a slow client costs only a buffer here.
 *
 * Where: front can open no file (seccomp, an empty chroot), so the choice
 * is front's memory or a descriptor someone else opens.  Memory is quick
 * and costs no round trip, so bodies up to BODY_MEM_MAX (a form, a small
 * JSON post) stay there, and all of one front's together at most
 * BODY_MEM_TOTAL, so that many slow clients cannot grow front without
 * bound.  Anything larger is written to a spool the locker's worker opens
 * as O_TMPFILE in the locker's own /tmp and passes over its channel: the
 * bytes then count against that locker's disk limit (quota or image), not
 * against the machine, and the file is gone when the last descriptor is.
 * The worker, and so the locker's scripts, can reach that file too; that
 * is the locker tampering with its own request, so front trusts nothing
 * of it but what it reads back, and reading back short is an error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "body.h"

static uint64_t	mem_total;	/* of every body in this process */

void
body_init(struct body *b)
{
	b->mem = NULL;
	b->memcap = 0;
	b->fd = -1;
	b->len = 0;
}

void
body_free(struct body *b)
{
	free(b->mem);
	mem_total -= b->memcap;
	if (b->fd != -1)
		close(b->fd);
	body_init(b);
}

uint64_t
body_mem_used(void)
{
	return mem_total;
}

/* Grow the memory to hold need bytes; 0 if it may not. */
static int
mem_grow(struct body *b, size_t need)
{
	size_t	cap = b->memcap ? b->memcap : 4096;
	char	*p;

	if (need > BODY_MEM_MAX)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > BODY_MEM_MAX)
		cap = BODY_MEM_MAX;
	if (mem_total - b->memcap + cap > BODY_MEM_TOTAL ||
	    (p = realloc(b->mem, cap)) == NULL)
		return 0;
	mem_total += cap - b->memcap;
	b->mem = p;
	b->memcap = cap;
	return 1;
}

size_t
body_room(struct body *b, size_t want)
{
	if (b->fd != -1)
		return want;
	if (b->len + want <= b->memcap || mem_grow(b, (size_t)b->len + want))
		return want;
	/* Fill all memory may hold; the rest needs the spool. */
	mem_grow(b, BODY_MEM_MAX);
	return b->memcap - (size_t)b->len;
}

int
body_append(struct body *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (b->fd != -1) {
		if (write_all(b->fd, p, n) == -1)
			return -1;
	} else {
		if (b->len + n > b->memcap) {
			errno = ENOBUFS;
			return -1;
		}
		memcpy(b->mem + b->len, p, n);
	}
	b->len += n;
	return 0;
}

int
body_spool(struct body *b, int fd)
{
	if (b->fd != -1) {
		errno = EBUSY;
		return -1;
	}
	if (b->len > 0 && write_all(fd, b->mem, (size_t)b->len) == -1)
		return -1;
	free(b->mem);
	mem_total -= b->memcap;
	b->mem = NULL;
	b->memcap = 0;
	b->fd = fd;
	return 0;
}

ssize_t
body_read(const struct body *b, uint64_t off, void *buf, size_t n)
{
	if (off >= b->len)
		return 0;
	if (n > b->len - off)
		n = (size_t)(b->len - off);
	if (b->fd == -1) {
		memcpy(buf, b->mem + off, n);
		return (ssize_t)n;
	}
	return pread(b->fd, buf, n, (off_t)off);
}
