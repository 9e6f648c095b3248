/*
 * outq.c: in the master, the messages to a child that its channel cannot
 * take yet.
 *
 * A child's channel is non-blocking on the master's side, so that a child
 * that stops reading cannot stall the master.  But a burst that is not the
 * child's fault fills a socket's buffer too: a certificate registry of a
 * thousand vhosts sends keyd a key and every front a chain for each, far
 * more than the buffer holds while the child parses the first.  Those wait
 * here, in order, each with a duplicate of its descriptor, and go as the
 * child reads (EPOLLOUT).  Only a child that lets OUTQ_MAX bytes pile up is
 * taken for one that stopped reading, and killed, as before.
 */
#include <sys/epoll.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"

/* What one child may have waiting: thousands of certificates' messages,
 * not a child that reads nothing while the master keeps talking. */
#define OUTQ_MAX	(32u << 20)

struct outq_msg {
	struct outq_msg	*next;
	enum msg_type	 type;
	int		 fd;		/* ours, or -1 */
	size_t		 len;
	char		 data[];
};

void
outq_clear(struct child *c)
{
	struct outq_msg *o;

	while ((o = c->out_head) != NULL) {
		c->out_head = o->next;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
}

static int
outq_push(struct child *c, enum msg_type t, const void *d, size_t len, int fd)
{
	struct outq_msg *o;

	if (c->out_bytes + sizeof(*o) + len > OUTQ_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	if ((o = malloc(sizeof(*o) + len)) == NULL)
		return -1;
	o->next = NULL;
	o->type = t;
	o->len = len;
	if (len > 0)
		memcpy(o->data, d, len);
	if ((o->fd = fd) != -1 && (o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		free(o);
		return -1;
	}
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else {
		c->out_head = o;
		ev_mod(c->chan, EPOLLIN | EPOLLOUT, c);
	}
	c->out_tail = o;
	c->out_bytes += sizeof(*o) + len;
	return 0;
}

int
outq_send(struct child *c, enum msg_type t, const void *d, size_t len, int fd)
{
	if (c->out_head == NULL) {
		if (msg_send(c->chan, t, d, len, fd) == 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
	return outq_push(c, t, d, len, fd);
}

int
outq_flush(struct child *c)
{
	struct outq_msg *o;

	while ((o = c->out_head) != NULL) {
		if (msg_send(c->chan, o->type, o->data, o->len, o->fd) == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		c->out_bytes -= sizeof(*o) + o->len;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	ev_mod(c->chan, EPOLLIN, c);
	return 0;
}
