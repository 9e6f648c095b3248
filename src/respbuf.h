/*
 * A script's answer, held by front so that the script can go before the
 * client has read it: nginx's fastcgi_buffering.
 *
 * A client that reads a large answer slowly (or not at all, until
 * send-timeout) must not pin one of its locker's PHP processes or CGI
 * slots meanwhile.  front reads the answer as fast as the script writes
 * it: into the script's buffer in memory (64 KiB, which it has anyway),
 * and past that into a spool the locker's worker makes, as for a request
 * body (body.h).  The script is let go once its whole answer is held.
 */
#ifndef LOCKERD_RESPBUF_H
#define LOCKERD_RESPBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the answers of one front whose scripts are gone keep in memory,
 * together; past it, an answer keeps its script until it is sent. */
#define RESP_MEM_TOTAL	((uint64_t)32 << 20)
/* One answer's spool (nginx's fastcgi_max_temp_file_size): past it, the
 * script waits for the client again. */
#define RESP_SPOOL_MAX	((uint64_t)1 << 30)

struct respbuf {
	int		 fd;		/* the spool: an unlinked file; -1 */
	uint64_t	 wr;		/* bytes written to it */
	uint64_t	 rd;		/* ... of which sent */
	size_t		 mem;		/* memory counted in the front's total */
	int		 asked;		/* a spool is asked of the worker */
	int		 refused;	/* none to be had: back-pressure */
};

void	 respbuf_init(struct respbuf *);
/* Close the spool, uncount the memory. */
void	 respbuf_free(struct respbuf *);
/* Take fd (checked: an empty regular file) as the spool; -1 if it is not. */
int	 respbuf_spool(struct respbuf *, int fd);
/* Bytes spooled and not sent yet. */
uint64_t respbuf_pending(const struct respbuf *);
/* Room the spool has, up to want (0: none, or none any more). */
size_t	 respbuf_room(const struct respbuf *, size_t want);
/* Append to the spool; -1 with errno (ENOSPC, EDQUOT: the disk limit). */
int	 respbuf_write(struct respbuf *, const void *, size_t);
/* sendfile() up to n spooled bytes to sock; as sendfile(), and 0 when the
 * spool shrank under us (the locker's doing). */
ssize_t	 respbuf_sendfile(struct respbuf *, int sock, size_t n);
/* The same through send (sendfile()'s signature, arg first): a TLS
 * connection's goes through its own buffer (cio.c). */
ssize_t	 respbuf_send(struct respbuf *, size_t n,
	    ssize_t (*send)(void *arg, int fd, off_t *off, size_t n), void *arg);
/* Count n bytes of memory kept by an answer whose script is gone; 0 if
 * that would pass RESP_MEM_TOTAL. */
int	 respbuf_mem_keep(struct respbuf *, size_t n);
uint64_t respbuf_mem_used(void);

#endif
