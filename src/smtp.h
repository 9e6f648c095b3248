/*
 * smtp.h: the mail role's SMTP client (smtp.c).
 */
#ifndef LOCKERD_SMTP_H
#define LOCKERD_SMTP_H

#include <stddef.h>

struct listen_addr;
struct mail_out;

/*
 * m handed to relay (helo: the name we greet with), each step within
 * timeout_s: MAIL_EX_OK, MAIL_EX_TEMPFAIL (a 4xx, or no relay) or
 * MAIL_EX_UNAVAILABLE (a 5xx), with the relay's last words in text.
 */
int	smtp_send(const struct listen_addr *relay, const char *helo,
	    const struct mail_out *m, unsigned timeout_s, char *text, size_t textlen);
/* One line of a reply: 0 with its code and whether more lines follow, or -1. */
int	smtp_reply_line(const char *line, size_t n, int *code, int *more);

#endif
