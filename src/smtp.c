/*
 * smtp.c: the mail role's SMTP client (RFC 5321), which hands one message
 * to the relay (mail-relay): EHLO, MAIL FROM, RCPT TO each, DATA with the
 * message dot-stuffed, QUIT.  Written here, not Postfix's sendmail run
 * from the role: that would need exec and postdrop's setgid in a role
 * that may do neither, and this is the whole protocol lockerd needs.
 *
 * Every step is bounded by mail-timeout; a reply's lines by SMTP_LINE_MAX
 * and their count, so a relay that talks forever costs one message's
 * time-out.  A 4xx or a relay that cannot be reached is a temporary
 * failure (sendmail exits 75: the caller may try again), a 5xx a
 * permanent one; either way the relay's own words are what is reported.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "mailmsg.h"
#include "smtp.h"

#define SMTP_LINE_MAX	1024	/* RFC 5321's 512, and room */
#define SMTP_LINES_MAX	64	/* of one reply */

struct smtp {
	int		 fd;
	uint64_t	 deadline_ms;
	unsigned	 timeout_ms;
	char		 buf[SMTP_LINE_MAX * 2];
	size_t		 have;
};

int
smtp_reply_line(const char *line, size_t n, int *code, int *more)
{
	if (n < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	if (n > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*more = n > 3 && line[3] == '-';
	return 0;
}

static int
wait_fd(struct smtp *s, short events)
{
	struct pollfd	pfd = { .fd = s->fd, .events = events };
	uint64_t	now = now_ms();
	int		rc;

	if (now >= s->deadline_ms)
		return -1;
	do {
		rc = poll(&pfd, 1, (int)(s->deadline_ms - now));
	} while (rc == -1 && errno == EINTR);
	return rc == 1 ? 0 : -1;
}

static int
smtp_write(struct smtp *s, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(s->fd, p, n, MSG_NOSIGNAL)) == -1) {
			if ((errno != EAGAIN && errno != EINTR) || wait_fd(s, POLLOUT) == -1)
				return -1;
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line of the reply into line (without CRLF): its length, or -1. */
static ssize_t
read_line(struct smtp *s, char *line, size_t linesz)
{
	char	*nl;
	ssize_t	 r;
	size_t	 n;

	while ((nl = memchr(s->buf, '\n', s->have)) == NULL) {
		if (s->have == sizeof(s->buf))
			return -1;
		if ((r = recv(s->fd, s->buf + s->have, sizeof(s->buf) - s->have, 0)) > 0) {
			s->have += (size_t)r;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR) || wait_fd(s, POLLIN) == -1)
			return -1;
	}
	n = (size_t)(nl - s->buf);
	if (n > 0 && s->buf[n - 1] == '\r')
		n--;
	if (n >= linesz)
		return -1;
	memcpy(line, s->buf, n);
	line[n] = '\0';
	s->have -= (size_t)(nl + 1 - s->buf);
	memmove(s->buf, nl + 1, s->have);
	return (ssize_t)n;
}

/* A whole reply, within the step's time: its code (its last line's text
 * in text), or -1 if the relay broke off or said what is not SMTP. */
static int
reply(struct smtp *s, char *text, size_t textlen)
{
	char	line[SMTP_LINE_MAX];
	ssize_t	n;
	int	code, more = 1, k;

	s->deadline_ms = now_ms() + s->timeout_ms;
	for (k = 0; more && k < SMTP_LINES_MAX; k++) {
		if ((n = read_line(s, line, sizeof(line))) == -1 ||
		    smtp_reply_line(line, (size_t)n, &code, &more) == -1) {
			snprintf(text, textlen, "the relay broke off or did not speak SMTP");
			return -1;
		}
		snprintf(text, textlen, "%s", line);
	}
	return more ? -1 : code;
}

/* A command and its reply: 0 if the reply is 2xx (or 3xx where want3). */
static int
command(struct smtp *s, const char *cmd, int want3, char *text, size_t textlen)
{
	int code;

	s->deadline_ms = now_ms() + s->timeout_ms;
	if (cmd != NULL && smtp_write(s, cmd, strlen(cmd)) == -1) {
		snprintf(text, textlen, "the relay stopped reading (%s)", strerror(errno));
		return MAIL_EX_TEMPFAIL;
	}
	if ((code = reply(s, text, textlen)) == -1)
		return MAIL_EX_TEMPFAIL;
	if (code / 100 == 2 || (want3 && code / 100 == 3))
		return MAIL_EX_OK;
	return code / 100 == 4 ? MAIL_EX_TEMPFAIL : MAIL_EX_UNAVAILABLE;
}

/* The message, each line that starts with a dot given another, then ".". */
static int
data_stuffed(struct smtp *s, const char *p, size_t n)
{
	size_t	i, run = 0;
	int	bol = 1;

	s->deadline_ms = now_ms() + s->timeout_ms;
	for (i = 0; i < n; i++) {
		if (bol && p[i] == '.') {
			if (smtp_write(s, p + run, i - run) == -1 || smtp_write(s, ".", 1) == -1)
				return -1;
			run = i;
		}
		bol = p[i] == '\n';
	}
	if (smtp_write(s, p + run, n - run) == -1)
		return -1;
	return smtp_write(s, n > 0 && !bol ? "\r\n.\r\n" : ".\r\n", n > 0 && !bol ? 5 : 3);
}

static int
relay_connect(const struct listen_addr *relay, struct smtp *s, char *text, size_t textlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 err = 0;
	socklen_t		 el = sizeof(err);

	memset(&ss, 0, sizeof(ss));
	if (relay->family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)strtoul(relay->port, NULL, 10));
		inet_pton(AF_INET6, relay->host, &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)strtoul(relay->port, NULL, 10));
		inet_pton(AF_INET, relay->host, &a->sin_addr);
		sl = sizeof(*a);
	}
	if ((s->fd = socket(relay->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	s->deadline_ms = now_ms() + s->timeout_ms;
	if (connect(s->fd, (struct sockaddr *)&ss, sl) == -1) {
		if (errno != EINPROGRESS || wait_fd(s, POLLOUT) == -1 ||
		    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	return 0;
 fail:
	snprintf(text, textlen, "cannot reach the relay %s:%s: %s", relay->host, relay->port,
	    errno ? strerror(errno) : "timed out");
	return -1;
}

int
smtp_send(const struct listen_addr *relay, const char *helo, const struct mail_out *m,
    unsigned timeout_s, char *text, size_t textlen)
{
	struct smtp	s = { .fd = -1, .timeout_ms = timeout_s * 1000 };
	char		cmd[MAIL_ADDR_MAX + HOSTNAME_MAX + 32];
	size_t		i;
	int		rc;

	errno = 0;
	if (relay_connect(relay, &s, text, textlen) == -1) {
		if (s.fd != -1)
			close(s.fd);
		return MAIL_EX_TEMPFAIL;
	}
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", helo);
	if ((rc = command(&s, NULL, 0, text, textlen)) != MAIL_EX_OK ||
	    (rc = command(&s, cmd, 0, text, textlen)) != MAIL_EX_OK)
		goto done;
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", m->envfrom);
	if ((rc = command(&s, cmd, 0, text, textlen)) != MAIL_EX_OK)
		goto done;
	for (i = 0; i < m->nrcpt; i++) {
		snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", m->rcpt[i]);
		if ((rc = command(&s, cmd, 0, text, textlen)) != MAIL_EX_OK)
			goto done;
	}
	if ((rc = command(&s, "DATA\r\n", 1, text, textlen)) != MAIL_EX_OK)
		goto done;
	if (data_stuffed(&s, m->data, m->len) == -1) {
		snprintf(text, textlen, "the relay stopped reading the message");
		rc = MAIL_EX_TEMPFAIL;
		goto done;
	}
	rc = command(&s, NULL, 0, text, textlen);
 done:
	if (rc == MAIL_EX_OK) {
		char bye[SMTP_LINE_MAX];

		command(&s, "QUIT\r\n", 0, bye, sizeof(bye));
	}
	close(s.fd);
	return rc;
}
