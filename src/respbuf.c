/*
 * respbuf.c: a script's answer, held in front so that its script can go.
 *
 * Why: a locker's PHP pool has few processes (front's share is a couple of
 * kept connections), and a FastCGI connection goes back to the pool only
 * once END_REQUEST is read.  Read at the client's pace, six clients that
 * never read a 20 MB answer held every PHP process of the locker, and its
 * other pages got 504; the same with CGI scripts and max-scripts.
 *
 * How: the script's buffer (memory front holds while it runs anyway) is
 * the first stage; once it is full and the client still has not taken it,
 * the rest goes to a spool the locker's own worker makes (O_TMPFILE in the
 * locker's /tmp, the one a large request body uses), so the bytes count
 * against the locker's disk limit, not against the machine or front's
 * memory.  A spool that cannot be had, or is full (RESP_SPOOL_MAX), means
 * back-pressure on the script, as before.  When the client has caught up,
 * the spool is emptied (ftruncate), so a long stream to a client that
 * keeps up never grows it.
 *
 * What the spool holds is the locker's business (its scripts may reach
 * the file): front sends only what it wrote, and a spool that shrank ends
 * the answer, never makes another one up.
 */
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>

#include "lockerd.h"
#include "respbuf.h"

static uint64_t	mem_total;	/* kept by answers whose script is gone */

void
respbuf_init(struct respbuf *rb)
{
	rb->fd = -1;
	rb->wr = rb->rd = 0;
	rb->mem = 0;
	rb->asked = rb->refused = 0;
}

void
respbuf_free(struct respbuf *rb)
{
	if (rb->fd != -1)
		close(rb->fd);
	mem_total -= rb->mem;
	respbuf_init(rb);
}

int
respbuf_spool(struct respbuf *rb, int fd)
{
	struct stat st;

	rb->asked = 0;
	if (fd == -1 || rb->fd != -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_size != 0) {
		if (fd != -1)
			close(fd);
		rb->refused = 1;
		return -1;
	}
	rb->fd = fd;
	rb->wr = rb->rd = 0;
	return 0;
}

uint64_t
respbuf_pending(const struct respbuf *rb)
{
	return rb->wr - rb->rd;
}

size_t
respbuf_room(const struct respbuf *rb, size_t want)
{
	if (rb->fd == -1 || rb->wr >= RESP_SPOOL_MAX)
		return 0;
	return RESP_SPOOL_MAX - rb->wr < want ? (size_t)(RESP_SPOOL_MAX - rb->wr) : want;
}

int
respbuf_write(struct respbuf *rb, const void *p, size_t n)
{
	if (write_all(rb->fd, p, n) == -1)
		return -1;
	rb->wr += n;
	return 0;
}

static ssize_t
plain_sendfile(void *arg, int fd, off_t *off, size_t n)
{
	return sendfile(*(int *)arg, fd, off, n);
}

ssize_t
respbuf_sendfile(struct respbuf *rb, int sock, size_t n)
{
	return respbuf_send(rb, n, plain_sendfile, &sock);
}

ssize_t
respbuf_send(struct respbuf *rb, size_t n,
    ssize_t (*send)(void *arg, int fd, off_t *off, size_t n), void *arg)
{
	off_t	off = (off_t)rb->rd;
	ssize_t	k;

	if (n > respbuf_pending(rb))
		n = (size_t)respbuf_pending(rb);
	if ((k = send(arg, rb->fd, &off, n)) <= 0)
		return k;
	rb->rd += (uint64_t)k;
	/* Caught up: start the file again, so that it holds only what waits.
	 * (Writes follow the file offset: it goes back to 0 too.) */
	if (rb->rd == rb->wr && ftruncate(rb->fd, 0) == 0 &&
	    lseek(rb->fd, 0, SEEK_SET) == 0)
		rb->rd = rb->wr = 0;
	return k;
}

int
respbuf_mem_keep(struct respbuf *rb, size_t n)
{
	if (mem_total - rb->mem + n > RESP_MEM_TOTAL)
		return 0;
	mem_total = mem_total - rb->mem + n;
	rb->mem = n;
	return 1;
}

uint64_t
respbuf_mem_used(void)
{
	return mem_total;
}
