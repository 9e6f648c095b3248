/*
 * mail_master.c: the master's side of outgoing mail (mail.h).
 *
 * Landed first as the notice API alone (mail_notice(), master.h), so that
 * cron can call it; the mail role that carries the notices follows.
 */
#include <stdio.h>

#include "lockerd.h"
#include "master.h"
#include "mail.h"

int
mail_notice_fd(const char *locker, const char *rcpts, const char *subject, int fd,
    char *err, size_t errlen)
{
	(void)locker;
	(void)rcpts;
	(void)subject;
	(void)fd;
	snprintf(err, errlen, "outgoing mail is not configured here (mail-relay none)");
	return -1;
}

int
mail_notice(const char *locker, const char *rcpts, const char *subject, const void *body,
    size_t len, char *err, size_t errlen)
{
	(void)body;
	(void)len;
	return mail_notice_fd(locker, rcpts, subject, -1, err, errlen);
}
