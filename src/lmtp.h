/*
 * lmtp.h: the server side of LMTP (RFC 2033), as a state machine over
 * bytes: no sockets, no files, no delivery (maild.c does those).
 *
 * Memory is bounded whatever the client sends: one command line of at most
 * LMTP_LINE_MAX bytes, at most max_rcpts recipients, and the message is
 * never held: its bytes (dot-unstuffed, CRLF made LF) go to data() as they
 * come, counted against max_size.
 */
#ifndef LOCKERD_LMTP_H
#define LOCKERD_LMTP_H

#include <stddef.h>
#include <stdint.h>

#define LMTP_LINE_MAX	1000	/* RFC 5321 4.5.3.1.4, with its CRLF */
#define LMTP_ADDR_MAX	320	/* 64 of local part, @, 255 of domain */
#define LMTP_ERRORS_MAX	10	/* bad commands before the connection is closed */

struct lmtp_rcpt {
	char	addr[LMTP_ADDR_MAX + 1];
	char	orcpt[LMTP_ADDR_MAX + 1];	/* ORCPT=rfc822;... decoded, else addr */
};

struct lmtp_ops {
	void	*ctx;
	/* One reply line (no CRLF; "250-..." for all but the last of many). */
	void	(*reply)(void *ctx, const char *line);
	/* RCPT TO's address: NULL to take it, else the whole reply refusing
	 * it ("550 5.1.2 ..."). */
	const char *(*rcpt_check)(void *ctx, const char *addr);
	/* Message bytes; -1 if they could not be kept (the transaction then
	 * fails with 451 for every recipient, after the final dot). */
	int	(*data)(void *ctx, const char *buf, size_t len);
};

enum lmtp_state { LMTP_S_LHLO, LMTP_S_MAIL, LMTP_S_RCPT, LMTP_S_DATA, LMTP_S_DELIVER,
	LMTP_S_CLOSED };

struct lmtp {
	struct lmtp_ops		 ops;
	const char		*hostname;
	uint64_t		 max_size;
	uint32_t		 max_rcpts;
	enum lmtp_state		 state;
	char			 line[LMTP_LINE_MAX + 2];
	size_t			 llen;
	int			 overlong;	/* the line being read is past LMTP_LINE_MAX */
	int			 midline;	/* DATA: not at a line's start */
	int			 cr;		/* DATA: a CR held back */
	unsigned		 errors;
	char			 sender[LMTP_ADDR_MAX + 1];
	struct lmtp_rcpt	*rcpt;		/* [max_rcpts] */
	uint32_t		 nrcpt;
	uint64_t		 size;		/* of the message so far */
	int			 too_big;
	int			 data_failed;
};

/* 0, or -1 (no memory).  Sends the greeting. */
int	lmtp_init(struct lmtp *l, const struct lmtp_ops *ops, const char *hostname,
	    uint64_t max_size, uint32_t max_rcpts);
void	lmtp_free(struct lmtp *l);

/*
 * Feed the client's bytes; *used says how many were taken.  Returns the
 * state: LMTP_S_DELIVER when a message is complete (the rest of buf is not
 * read: feed it again after lmtp_delivered()), LMTP_S_CLOSED after QUIT or
 * too many errors (the replies already say so).
 */
enum lmtp_state lmtp_feed(struct lmtp *l, const char *buf, size_t len, size_t *used);
/*
 * In LMTP_S_DELIVER: whether the message may be delivered at all; if not,
 * the reply every recipient gets (a too big or lost message).
 */
const char *lmtp_refusal(const struct lmtp *l);
/* After one reply per recipient: ready for the next MAIL. */
void	lmtp_delivered(struct lmtp *l);

/*
 * An address's parts for delivery: addr is local@domain; local is
 * NAME[+TAG].  0, or -1 if it has no '@' or a part is too long.
 */
int	lmtp_split(const char *addr, char *name, size_t namesz, char *tag, size_t tagsz,
	    char *domain, size_t domainsz);

#endif
