/*
 * mailmsg.h: a locker's outgoing message made ready for the relay
 * (mailmsg.c); apart from mail.h so that its unit test and fuzz target
 * link it alone.
 */
#ifndef LOCKERD_MAILMSG_H
#define LOCKERD_MAILMSG_H

#include <stddef.h>

#include "mail.h"

#define MAIL_LOCKER_HEADER	"X-Lockerd-Locker"

struct mail_in {
	const char		*msg;		/* the message as the locker wrote it */
	size_t			 len;
	unsigned		 flags;		/* MAIL_F_T */
	const char		*from;		/* -f, or NULL */
	const char *const	*rcpts;		/* the command line's */
	size_t			 nrcpts;
	const char		*locker;	/* from the master: who sent it */
	const char		*domain;	/* mail-domain */
};

struct mail_out {
	char	 envfrom[MAIL_ADDR_MAX + 1];
	char	 rcpt[MAIL_RCPTS_MAX][MAIL_ADDR_MAX + 1];
	size_t	 nrcpt;
	char	*data;		/* the message to send: CRLF lines, not dot-stuffed */
	size_t	 len, cap;
};

/* MAIL_EX_OK with o filled (mailmsg_free() it), else a MAIL_EX_* and why. */
int	mailmsg_build(const struct mail_in *in, struct mail_out *o, char *err, size_t errlen);
void	mailmsg_free(struct mail_out *o);
void	mailmsg_summary(const struct mail_out *o, char *out, size_t outsz);
void	mailmsg_summary_args(const char *const *a, size_t n, char *out, size_t outsz);
/* 1 if a is one plain local@domain of safe characters, <= MAIL_ADDR_MAX. */
int	mail_addr_ok(const char *a);
int	mail_addr_is_lockers(const char *a, const char *locker, const char *domain);
/* Each address of an address list's value v[0..n) to fn (non-zero stops). */
int	mail_addr_list(const char *v, size_t n, int (*fn)(const char *, void *), void *arg);

#endif
