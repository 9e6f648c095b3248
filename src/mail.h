/*
 * mail.h: outgoing mail (issue 15, "mail scripts" 3): a locker's programs
 * call /usr/sbin/sendmail in their jail, which is lockerd's own small
 * client (sendmail.c, lockerd-sendmail); it hands the message to the mail
 * role (mailout.c, MR_MAILOUT) over a socket bound into every jail, and
 * the role submits it to the relay (mail-relay, a Postfix on loopback) by
 * SMTP, with the locker named.
 *
 * Who sent a message is known by construction, never from the message:
 * the role takes the peer's uid from the kernel (SO_PEERCRED, on the
 * accept()ed socket), and the master, the one reader of the directory,
 * turns that uid into a locker (a uid is one locker's, never shared nor
 * reused) and decides, by the locker's block and its hourly rate, whether
 * it may send.  The master parses nothing a locker wrote: the message's
 * headers are the role's to read (mailmsg.c), as an unprivileged user,
 * chrooted into an empty directory, under an allow-list seccomp filter.
 *
 * One message, end to end:
 *   sendmail  -> mailout	MSG_MAIL_SUBMIT: struct msg_mail_submit, the
 *				recipients of its command line, and a sealed
 *				memfd holding the message
 *   mailout   -> master	MSG_MAIL_ASK: the peer's uid, the count and size
 *   master    -> mailout	MSG_MAIL_GRANT: the locker's name, or a refusal
 *   mailout   -> relay		SMTP: envelope NAME@mail-domain, headers fixed
 *   mailout   -> master	MSG_MAIL_SENT: what the relay said (kept in the
 *				directory: `locker mail status`)
 *   mailout   -> sendmail	MSG_MAIL_RESULT: 0, or sendmail's exit code and
 *				why (printed on its stderr)
 * lockerd's own notices (crontab errors, say) come from the master as
 * MSG_MAIL_NOTICE and take the same road from the role on (mail_notice()).
 */
#ifndef LOCKERD_MAIL_H
#define LOCKERD_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"	/* LOCKER_NAME_MAX */

/* Where the jail shows the socket's directory, and the socket's name. */
#define MAIL_JAIL_DIR		"/run/lockerd"
#define MAIL_SOCKET_NAME	"sendmail.sock"
#define MAIL_STATE_DIR		"mail"		/* under the state dir, holding the socket */

#define MAIL_ADDR_MAX		254	/* RFC 5321's longest path, without <> */
#define MAIL_RCPTS_MAX		100	/* recipients of one message (RFC 5321's minimum) */
#define MAIL_ARGS_MAX		(MAIL_RCPTS_MAX * (MAIL_ADDR_MAX + 1))
#define MAIL_SIZE_CEILING	((uint64_t)64 << 20)	/* mail-max-size's highest */
#define MAIL_TEXT_MAX		256
#define MAIL_SUBJECT_MAX	200
#define MAIL_SUMMARY_MAX	200	/* the recipients a status row keeps */

/* sendmail's exit codes (sysexits.h), which the role's answer carries. */
#define MAIL_EX_OK		0
#define MAIL_EX_USAGE		64	/* no recipient, a bad address */
#define MAIL_EX_DATAERR		65	/* a header the message may not have */
#define MAIL_EX_NOPERM		77	/* blocked, over its rate */
#define MAIL_EX_UNAVAILABLE	69	/* the relay refused it */
#define MAIL_EX_SOFTWARE	70
#define MAIL_EX_TEMPFAIL	75	/* the relay or the role is down: try later */
#define MAIL_EX_TOOBIG		73	/* EX_CANTCREAT's number; said as "too large" */

/* sendmail -> mailout; the command line's recipients follow, each
 * NUL-terminated (none with -t alone). */
#define MAIL_F_T		0x1	/* -t: recipients from To, Cc and Bcc too */
struct msg_mail_submit {
	uint32_t	flags;
	char		from[MAIL_ADDR_MAX + 1];	/* -f, or "" */
};

struct msg_mail_result {
	int32_t		status;			/* MAIL_EX_* */
	char		text[MAIL_TEXT_MAX];
};

/* mailout -> master: may the locker of this uid send this? */
struct msg_mail_ask {
	uint32_t	id;
	uint32_t	uid;			/* SO_PEERCRED's */
	uint32_t	nrcpt;
	uint64_t	bytes;
	char		rcpts[MAIL_SUMMARY_MAX + 1];	/* the first, for the status */
	char		refused[MAIL_TEXT_MAX];	/* "": ask; else why the role refused it */
};

struct msg_mail_grant {
	uint32_t	id;
	int32_t		status;			/* MAIL_EX_OK, or why not */
	uint64_t	ticket;			/* the status row, sent back in MSG_MAIL_SENT */
	char		locker[LOCKER_NAME_MAX + 1];
	char		domain[HOSTNAME_MAX + 1];	/* mail-domain */
	char		text[MAIL_TEXT_MAX];
};

/* mailout -> master: what the relay said of a granted message or a notice. */
struct msg_mail_sent {
	uint64_t	ticket;			/* the granted row it ends */
	int32_t		status;			/* MAIL_EX_* */
	char		locker[LOCKER_NAME_MAX + 1];
	char		rcpts[MAIL_SUMMARY_MAX + 1];
	char		text[MAIL_TEXT_MAX];
};

/* master -> mailout: a notice of lockerd's, its body the memfd sent with it. */
struct msg_mail_notice {
	uint64_t	ticket;			/* its granted row (MSG_MAIL_SENT's) */
	char		locker[LOCKER_NAME_MAX + 1];
	char		domain[HOSTNAME_MAX + 1];
	char		subject[MAIL_SUBJECT_MAX + 1];
	char		rcpts[MAIL_ARGS_MAX / 4];	/* comma-separated */
};

/* `locker mail status`: one row per line of the status. */
struct ctl_mail {
	char		locker[LOCKER_NAME_MAX + 1];
	int64_t		at;			/* 0: the totals row */
	char		status[16];		/* sent, failed, refused, blocked */
	uint64_t	sent, refused;		/* the totals row's */
	uint32_t	last_hour, per_hour;	/* ... and its rate */
	int32_t		blocked;
	int32_t		no_program;		/* incoming: MAILLOG_NOPROG_* */
	char		rcpts[MAIL_SUMMARY_MAX + 1];
	char		text[MAIL_TEXT_MAX];
};

/* cli_mail.c: `locker mail status`'s rows (the first a totals row, at 0). */
void	cli_print_mail(const struct ctl_mail *m, int json, int first);
void	cli_mail_end(int json, int any);

/* mailout.c */
int	mailout_main(void);

#endif
