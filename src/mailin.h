/*
 * mailin.h: incoming mail (issue 15): the LMTP role (maild.c) and the
 * master's side of it (mailin_master.c, mailrun.c).
 *
 * Postfix delivers by LMTP to maild, an unprivileged role that speaks the
 * protocol (lmtp.c) and keeps each message in a sealed memfd.  For each
 * recipient maild asks the master to deliver (MSG_MAILIN_DELIVER, the
 * message as the descriptor); the master looks the locker up and runs its
 * mail_scripts program as a task in the locker's sandbox (mailrun.c), and
 * answers with how it ended (MSG_MAILIN_RESULT, the program's stderr as the
 * descriptor).  maild turns that into the recipient's LMTP reply.  The
 * master reads neither the message nor the program's output.
 */
#ifndef LOCKERD_MAILIN_H
#define LOCKERD_MAILIN_H

#include <stdint.h>

#include "route.h"

#define MAILIN_ADDR_MAX	320	/* lmtp.h's LMTP_ADDR_MAX */
#define MAILIN_TAG_MAX	64

/* maild -> master: deliver fd (the message, sealed) to this recipient. */
struct msg_mailin_deliver {
	uint32_t	id;				/* maild's, echoed in the result */
	char		locker[LOCKER_NAME_MAX + 1];	/* lower case, checked by maild */
	char		tag[MAILIN_TAG_MAX + 1];		/* EXTENSION: after '+', or "" */
	char		sender[MAILIN_ADDR_MAX + 1];	/* SENDER: "" for a bounce */
	char		recipient[MAILIN_ADDR_MAX + 1];	/* RECIPIENT */
	char		original[MAILIN_ADDR_MAX + 1];	/* ORIGINAL_RECIPIENT */
};

enum mailin_outcome {
	MAILIN_EXITED = 1,	/* status: the program's exit code */
	MAILIN_SIGNALED,		/* status: the signal that ended it */
	MAILIN_TIMEOUT,		/* killed at mail-program-timeout */
	MAILIN_NO_LOCKER,		/* no such locker */
	MAILIN_TEMPFAIL,		/* the master could not run it now (text says why) */
	MAILIN_REFUSED,		/* the message descriptor was not a sealed memfd */
};

/* master -> maild: how it ended; fd: the program's stderr (a memfd), if it ran. */
struct msg_mailin_result {
	uint32_t	id;
	uint32_t	outcome;	/* enum mailin_outcome */
	int32_t		status;
	uint32_t	seconds;	/* MAILIN_TIMEOUT: the limit */
	char		text[128];	/* the master's own words, or "" */
};

/* Exit codes of the task itself, before the program runs (mailrun.c). */
#define MAILIN_EX_NOPROGRAM	67	/* EX_NOUSER: no mail program; stderr says so */
#define MAILIN_EX_TEMPFAIL	75	/* EX_TEMPFAIL: the sandbox could not be entered */

#endif
