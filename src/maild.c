/*
 * maild.c: the mail role.  Postfix delivers to it by LMTP (RFC 2033) on
 * the Unix socket the master bound (mail-lmtp) and handed it; it runs as
 * mail-lmtp-user, chrooted into an empty directory, under an allow-list seccomp
 * filter, and may open no file, make no socket, start no process.
 *
 * Each connection speaks lmtp.c's state machine.  A message goes, as it
 * comes, into a memfd of its own (never whole into memory: mail-lmtp-max-size
 * bounds the memfd), which is sealed against any change once complete.
 * Then, one recipient at a time, in order, maild asks the master to deliver
 * it (MSG_MAILIN_DELIVER, the memfd as the descriptor) and waits for how the
 * locker's program ended (MSG_MAILIN_RESULT, with its stderr), which becomes
 * that recipient's reply: 250 only after the program exited 0, so a message
 * Postfix hears nothing about, or hears 4xx for, is still Postfix's.
 * Connections are served side by side; one that is silent for
 * mail-lmtp-timeout, or that will not read its replies, is closed.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lockerd.h"
#include "lmtp.h"
#include "mailin.h"

#define MAILD_LISTEN_FD	4	/* spawn_role()'s first extra descriptor */
#define CONNS_MAX	32	/* at once; more are told 421 and closed */
#define OUT_MAX		16384	/* replies a client has not read: past this, it goes */

struct conn {
	int		 fd;		/* -1: a free slot */
	struct lmtp	 l;
	char		 in[4096];
	size_t		 inlen;
	char		 out[OUT_MAX];
	size_t		 outlen;
	int		 msg;		/* the message's memfd, -1 if none */
	uint32_t	 next;		/* the recipient being delivered */
	uint32_t	 waiting;	/* the id of its delivery in the master, 0: none */
	uint64_t	 deadline;	/* silent until then: closed */
	int		 closing;	/* close once out is written */
};

static struct {
	struct config	 conf;
	struct conn	 conns[CONNS_MAX];
	uint32_t	 next_id;
} D;

static void deliver_next(struct conn *c);
static void conn_process(struct conn *c);

/* ------------------------------------------------------------ replies */

static void
out_line(void *ctx, const char *line)
{
	struct conn	*c = ctx;
	size_t		 n = strlen(line);

	if (c->outlen + n + 2 > sizeof(c->out)) {
		c->closing = 1;		/* a client that pipelines without reading */
		c->outlen = 0;
		return;
	}
	memcpy(c->out + c->outlen, line, n);
	memcpy(c->out + c->outlen + n, "\r\n", 2);
	c->outlen += n + 2;
}

/* A locker's name is a DNS label: letters, digits, '-'; compared in lower case. */
static int
name_lower(char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		name[i] = (char)tolower((unsigned char)name[i]);
		if (!isalnum((unsigned char)name[i]) && name[i] != '-')
			return -1;
	}
	return i > 0 && i <= LOCKER_NAME_MAX ? 0 : -1;
}

static int
domain_ours(const char *domain)
{
	int i;

	/* None given: outgoing mail's mail-domain, else the service's domain. */
	if (D.conf.nmail_lmtp_domains == 0)
		return strcasecmp(domain, D.conf.mail_domain[0] ? D.conf.mail_domain :
		    D.conf.domain) == 0;
	for (i = 0; i < D.conf.nmail_lmtp_domains; i++)
		if (strcasecmp(domain, D.conf.mail_lmtp_domains[i]) == 0)
			return 1;
	return 0;
}

/* Another domain may be a vhost whose locker turned mail on: its whole local
 * part is the program's EXTENSION, so it must fit there. */
static int
vhost_local_ok(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at > addr && (size_t)(at - addr) <= MAILIN_TAG_MAX;
}

/*
 * RCPT TO: a name of ours at a domain of ours (the locker is looked up
 * later); at any other domain Postfix sends here, the master decides at
 * delivery whether it is a vhost with mail turned on (550 then if not).
 */
static const char *
rcpt_check(void *ctx, const char *addr)
{
	char	name[LMTP_ADDR_MAX + 1], tag[LMTP_ADDR_MAX + 1], domain[LMTP_ADDR_MAX + 1];

	(void)ctx;
	if (lmtp_split(addr, name, sizeof(name), tag, sizeof(tag), domain, sizeof(domain)) == -1)
		return "501 5.1.3 bad recipient address";
	if (!domain_ours(domain))
		return vhost_local_ok(addr) ? NULL : "550 5.1.1 no such address";
	if (name_lower(name) == -1 || strlen(tag) > MAILIN_TAG_MAX)
		return "550 5.1.1 no such locker";
	return NULL;
}

static int
msg_data(void *ctx, const char *buf, size_t len)
{
	struct conn	*c = ctx;
	ssize_t		 n;

	if (c->msg == -1 &&
	    (c->msg = memfd_create("mail", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1)
		return -1;
	while (len > 0) {
		if ((n = write(c->msg, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------ results */

/* The first line of the program's stderr, printable, in line (or ""). */
static void
first_line(int fd, char *line, size_t linesz)
{
	char	buf[256];
	ssize_t	n;
	size_t	i, o = 0;

	line[0] = '\0';
	if (fd == -1 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return;
	buf[n] = '\0';
	for (i = 0; i < (size_t)n && buf[i] != '\n' && o + 1 < linesz; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (o == 0 && (ch == ' ' || ch == '\t'))
			continue;
		line[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	while (o > 0 && line[o - 1] == ' ')
		o--;
	line[o] = '\0';
}

/* The recipient's reply for what the master says of its delivery. */
static void
result_reply(struct conn *c, const struct msg_mailin_result *r, int errfd)
{
	const char	*addr = c->l.rcpt[c->next].addr;
	char		 line[200], reply[512];

	first_line(errfd, line, sizeof(line));
	switch (r->outcome) {
	case MAILIN_EXITED:
		if (r->status == 0)
			snprintf(reply, sizeof(reply), "250 2.0.0 <%s> delivered", addr);
		else if (r->status == MAILIN_EX_TEMPFAIL)
			snprintf(reply, sizeof(reply), "451 4.3.0 <%s> %s", addr,
			    line[0] ? line : "the mail program asks to try again later");
		else if (r->status == MAILIN_EX_NOPROGRAM)
			snprintf(reply, sizeof(reply), "550 5.1.1 <%s> %s", addr,
			    line[0] ? line : "no mail program");
		else if (line[0] != '\0')
			snprintf(reply, sizeof(reply), "550 5.3.0 <%s> %s", addr, line);
		else
			snprintf(reply, sizeof(reply), "550 5.3.0 <%s> the mail program failed "
			    "(exit %d)", addr, (int)r->status);
		break;
	case MAILIN_SIGNALED:
		snprintf(reply, sizeof(reply), "451 4.3.0 <%s> the mail program was killed by "
		    "signal %d", addr, (int)r->status);
		break;
	case MAILIN_TIMEOUT:
		snprintf(reply, sizeof(reply), "451 4.4.7 <%s> the mail program ran past its "
		    "limit of %u s", addr, (unsigned)r->seconds);
		break;
	case MAILIN_NO_LOCKER:
		snprintf(reply, sizeof(reply), "550 5.1.1 <%s> no such locker", addr);
		break;
	default:
		snprintf(reply, sizeof(reply), "451 4.3.0 <%s> %s", addr,
		    r->text[0] ? r->text : "cannot deliver now");
		break;
	}
	out_line(c, reply);
}

static void
master_result(const struct msg_mailin_result *r, int errfd)
{
	int i;

	for (i = 0; i < CONNS_MAX; i++) {
		struct conn *c = &D.conns[i];

		if (c->fd == -1 || c->waiting == 0 || c->waiting != r->id)
			continue;
		result_reply(c, r, errfd);
		c->waiting = 0;
		/* Its time to be silent starts now, not from before the program ran. */
		c->deadline = now_ms() + 1000ull * D.conf.mail_lmtp_timeout;
		c->next++;
		deliver_next(c);
		conn_process(c);
		return;
	}
	/* Its connection went meanwhile: Postfix never heard 250, and tries again. */
}

/* ------------------------------------------------------------ delivering */

static void
deliver_next(struct conn *c)
{
	struct msg_mailin_deliver	 q;
	const struct lmtp_rcpt	*r;
	char			 domain[LMTP_ADDR_MAX + 1], name[LMTP_ADDR_MAX + 1];

	while (c->next < c->l.nrcpt) {
		r = &c->l.rcpt[c->next];
		memset(&q, 0, sizeof(q));
		if (lmtp_split(r->addr, name, sizeof(name), q.tag, sizeof(q.tag), domain,
		    sizeof(domain)) == -1) {
			out_line(c, "550 5.1.1 no such locker");	/* rcpt_check() took it */
			c->next++;
			continue;
		}
		if (!domain_ours(domain)) {
			/* A vhost's, maybe: no locker named; the master looks the
			 * host up; EXTENSION is the whole local part. */
			snprintf(q.tag, sizeof(q.tag), "%.*s", (int)(strrchr(r->addr, '@') -
			    r->addr), r->addr);
		} else if (name_lower(name) == -1) {
			out_line(c, "550 5.1.1 no such locker");
			c->next++;
			continue;
		} else
			snprintf(q.locker, sizeof(q.locker), "%s", name);
		snprintf(q.sender, sizeof(q.sender), "%s", c->l.sender);
		snprintf(q.recipient, sizeof(q.recipient), "%s", r->addr);
		snprintf(q.original, sizeof(q.original), "%s", r->orcpt);
		if (++D.next_id == 0)
			D.next_id = 1;
		q.id = D.next_id;
		if (msg_send(CHILD_CHAN_FD, MSG_MAILIN_DELIVER, &q, sizeof(q), c->msg) == -1) {
			out_line(c, "451 4.3.0 the mail service is busy; try again later");
			c->next++;
			continue;
		}
		c->waiting = q.id;
		return;
	}
	/* Every recipient has its reply: the message is done with. */
	if (c->msg != -1)
		close(c->msg);
	c->msg = -1;
	c->next = 0;
	lmtp_delivered(&c->l);
}

/* The final dot: the whole message refused, or sealed and delivered. */
static void
message_complete(struct conn *c)
{
	const char	*refusal = lmtp_refusal(&c->l);
	uint32_t	 i;

	if (refusal == NULL && c->msg == -1 && msg_data(c, "", 0) == -1)
		refusal = "451 4.3.0 the message could not be kept; try again later";
	/* Sealed: no program it is given to may change it for the next. */
	if (refusal == NULL && fcntl(c->msg, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK | F_SEAL_SEAL) == -1)
		refusal = "451 4.3.0 the message could not be kept; try again later";
	if (refusal != NULL) {
		for (i = 0; i < c->l.nrcpt; i++)
			out_line(c, refusal);
		c->next = c->l.nrcpt;
	} else
		c->next = 0;
	deliver_next(c);
}

/* What the client sent, as far as the protocol lets it go now. */
static void
conn_process(struct conn *c)
{
	enum lmtp_state	st;
	size_t		used;

	while (c->waiting == 0 && !c->closing && c->inlen > 0) {
		st = lmtp_feed(&c->l, c->in, c->inlen, &used);
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		if (st == LMTP_S_CLOSED)
			c->closing = 1;
		else if (st == LMTP_S_DELIVER)
			message_complete(c);
	}
}

/* ------------------------------------------------------------ connections */

static void
conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	if (c->msg != -1)
		close(c->msg);
	c->msg = -1;
	lmtp_free(&c->l);
	/* A delivery in flight goes on; its result finds no connection. */
	c->waiting = 0;
}

static void
conn_accept(int lfd)
{
	struct lmtp_ops	ops;
	struct conn	*c = NULL;
	int		fd, i;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	for (i = 0; i < CONNS_MAX && c == NULL; i++)
		if (D.conns[i].fd == -1)
			c = &D.conns[i];
	if (c == NULL) {
		static const char busy[] = "421 4.3.2 too many connections; try again later\r\n";

		(void)!write(fd, busy, sizeof(busy) - 1);
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->msg = -1;
	c->deadline = now_ms() + 1000ull * D.conf.mail_lmtp_timeout;
	ops.ctx = c;
	ops.reply = out_line;
	ops.rcpt_check = rcpt_check;
	ops.data = msg_data;
	if (lmtp_init(&c->l, &ops, D.conf.domain, D.conf.mail_lmtp_max_size,
	    D.conf.mail_lmtp_max_recipients) == -1) {
		close(fd);
		c->fd = -1;
	}
}

static void
conn_read(struct conn *c)
{
	ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->inlen += (size_t)n;
	c->deadline = now_ms() + 1000ull * D.conf.mail_lmtp_timeout;
	conn_process(c);
}

static void
conn_write(struct conn *c)
{
	ssize_t n = write(c->fd, c->out, c->outlen);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	memmove(c->out, c->out + n, c->outlen - (size_t)n);
	c->outlen -= (size_t)n;
	c->deadline = now_ms() + 1000ull * D.conf.mail_lmtp_timeout;
}

/* ------------------------------------------------------------ the master */

static void
master_read(void)
{
	static union {
		struct config		c;
		struct msg_mailin_result	r;
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	for (;;) {
		n = msg_recv_checked(CHILD_CHAN_FD, MR_MAILIN, MR_MASTER, &type, &m, sizeof(m), &fd,
		    &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == MSG_BREACH) {
			msg_breach(MR_MAILIN, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
			exit(1);
		}
		if (n < 0 || type == MSG_NONE)
			exit(0);	/* the master has gone: Postfix keeps what it sent */
		if (type == MSG_MAILIN_RESULT) {
			m.r.text[sizeof(m.r.text) - 1] = '\0';
			master_result(&m.r, fd);
		}
		/* MSG_CONFIG: maild's values change at restart */
		if (fd != -1)
			close(fd);
	}
}

static void
loop(void)
{
	struct pollfd	pfd[CONNS_MAX + 2];
	int		map[CONNS_MAX + 2];
	int		i, n, timeout;

	for (;;) {
		uint64_t now = now_ms(), next = now + 60000;

		n = 0;
		pfd[n].fd = CHILD_CHAN_FD;
		pfd[n++].events = POLLIN;
		pfd[n].fd = MAILD_LISTEN_FD;
		pfd[n++].events = POLLIN;
		for (i = 0; i < CONNS_MAX; i++) {
			struct conn *c = &D.conns[i];

			if (c->fd == -1)
				continue;
			if ((c->closing && c->outlen == 0) ||
			    (c->waiting == 0 && now >= c->deadline)) {
				if (!c->closing && c->outlen == 0 && now >= c->deadline) {
					static const char idle[] =
					    "421 4.4.2 idle too long; closing\r\n";

					(void)!write(c->fd, idle, sizeof(idle) - 1);
				}
				conn_close(c);
				continue;
			}
			if (c->waiting == 0 && c->deadline < next)
				next = c->deadline;
			map[n] = i;
			pfd[n].fd = c->fd;
			pfd[n].events = (short)((c->outlen > 0 ? POLLOUT : 0) |
			    (c->waiting == 0 && !c->closing &&
			    c->inlen < sizeof(c->in) ? POLLIN : 0));
			n++;
		}
		timeout = next > now ? (int)(next - now) : 0;
		if (poll(pfd, (nfds_t)n, timeout) == -1 && errno != EINTR)
			fatal("maild: poll");
		for (i = 2; i < n; i++) {
			struct conn *c = &D.conns[map[i]];

			if (c->fd != -1 && (pfd[i].revents & POLLOUT))
				conn_write(c);
			if (c->fd != -1 && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				conn_read(c);
		}
		if (pfd[1].revents & POLLIN)
			conn_accept(MAILD_LISTEN_FD);
		if (pfd[0].revents)
			master_read();
	}
}

int
maild_main(void)
{
	enum msg_type	 type;
	const char	*why;
	char		 err[256], empty[PATH_MAX + 8];
	ssize_t		 n;
	int		 fd, i;

	log_init("maild", getenv("LOCKERD_DEBUG") != NULL);
	n = msg_recv_checked(CHILD_CHAN_FD, MR_MAILIN, MR_MASTER, &type, &D.conf, sizeof(D.conf),
	    &fd, &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("maild: no configuration from the master");
	for (i = 0; i < CONNS_MAX; i++)
		D.conns[i].fd = -1;
	snprintf(empty, sizeof(empty), "%s/empty", D.conf.state);
	drop_privileges(D.conf.mail_lmtp_user, empty);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("maild: not dumpable");
	signal(SIGPIPE, SIG_IGN);
	set_nonblock(CHILD_CHAN_FD);
	set_nonblock(MAILD_LISTEN_FD);
	/* From here on: its channel, its listener and what they bring. */
	if (seccomp_maild(err, sizeof(err)) == -1)
		fatalx("maild: %s", err);
	loop();
	return 0;
}
