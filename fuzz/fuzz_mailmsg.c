/*
 * fuzz_mailmsg.c: libFuzzer target for mailmsg.c, which reads a locker's
 * outgoing message (its header, its recipients) in the mail role, and
 * smtp.c's reading of a reply line.
 *
 * The first byte picks -t; the input is the message, and also one reply
 * line.  Checked: a message built has 1..MAIL_RCPTS_MAX recipients, each
 * mail_addr_ok(); an envelope sender that is the locker's own; our header
 * first, exactly once; no Bcc line in what is sent; no NUL, and every CR
 * followed by LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailmsg.h"
#include "smtp.h"

static void
check(const struct mail_out *o)
{
	const char	*p, *end = o->data + o->len;
	size_t		 i, n = strlen(MAIL_LOCKER_HEADER ": alice\r\n");
	int		 bol = 1, ours = 0;

	if (o->nrcpt == 0 || o->nrcpt > MAIL_RCPTS_MAX)
		abort();
	for (i = 0; i < o->nrcpt; i++)
		if (!mail_addr_ok(o->rcpt[i]))
			abort();
	if (!mail_addr_is_lockers(o->envfrom, "alice", "ex.org"))
		abort();
	if (o->len < n || memcmp(o->data, MAIL_LOCKER_HEADER ": alice\r\n", n) != 0)
		abort();
	for (p = o->data; p < end; p++) {
		if (*p == '\0' || (*p == '\r' && (p + 1 == end || p[1] != '\n')))
			abort();
		if (bol && (size_t)(end - p) >= 4 && strncasecmp(p, "bcc:", 4) == 0 &&
		    memmem(o->data, (size_t)(p - o->data), "\r\n\r\n", 4) == NULL)
			abort();
		if (bol && (size_t)(end - p) > strlen(MAIL_LOCKER_HEADER) &&
		    strncasecmp(p, MAIL_LOCKER_HEADER ":", strlen(MAIL_LOCKER_HEADER) + 1) == 0 &&
		    memmem(o->data, (size_t)(p - o->data), "\r\n\r\n", 4) == NULL)
			ours++;
		bol = *p == '\n';
	}
	if (ours != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[] = { "z@q.org" };
	struct mail_out	o;
	struct mail_in	in;
	char		err[256];
	int		code, more;

	if (size < 1)
		return 0;
	memset(&in, 0, sizeof(in));
	in.msg = (const char *)data + 1;
	in.len = size - 1;
	in.flags = data[0] & 1 ? MAIL_F_T : 0;
	in.rcpts = rcpts;
	in.nrcpts = data[0] & 2 ? 1 : 0;
	in.from = data[0] & 4 ? "bob@ex.org" : NULL;
	in.locker = "alice";
	in.domain = "ex.org";
	if (mailmsg_build(&in, &o, err, sizeof(err)) == MAIL_EX_OK)
		check(&o);
	mailmsg_free(&o);
	smtp_reply_line((const char *)data, size, &code, &more);
	return 0;
}
