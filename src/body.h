/*
 * A request body, held whole by front before any script sees it.
 *
 * nginx's fastcgi_request_buffering, for the same two reasons: a client
 * that sends its body slowly must not pin one of its locker's PHP
 * processes (or a CGI process) while it does, and a body that never
 * ended (a client that went away mid-upload) must never reach a script
 * as if it were complete.  Small bodies live in front's memory, bounded
 * per body and per front process; a larger one goes to a spool file the
 * locker's worker makes and passes to front (front can open no file).
 */
#ifndef LOCKERD_BODY_H
#define LOCKERD_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A body up to this size stays in front's memory (nginx's
 * client_body_buffer_size is 8-16 KiB; PHP forms are mostly smaller). */
#define BODY_MEM_MAX	(64 * 1024)
/* All bodies held in one front process's memory, together. */
#define BODY_MEM_TOTAL	((uint64_t)32 << 20)

struct body {
	char		*mem;		/* the bytes, while they fit in memory */
	size_t		 memcap;	/* allocated (counted in the front's total) */
	int		 fd;		/* else the spool: an unlinked file; -1 */
	uint64_t	 len;		/* bytes held */
};

void	body_init(struct body *);
void	body_free(struct body *);
/* How many more bytes it can take now, up to want: 0 means a spool first. */
size_t	body_room(struct body *, size_t want);
/* Append n bytes (n <= body_room()); -1 with errno if the spool refused. */
int	body_append(struct body *, const void *, size_t);
/* Move what is in memory into fd, an empty regular file; -1 with errno. */
int	body_spool(struct body *, int fd);
/* Up to n bytes from offset off; -1 with errno, or short if it shrank. */
ssize_t	body_read(const struct body *, uint64_t off, void *, size_t n);
/* Bytes of all bodies in this process's memory. */
uint64_t body_mem_used(void);

#endif
