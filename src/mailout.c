/*
 * mailout.c: the mail role (MR_MAILOUT), which takes the jails' outgoing
 * mail and hands it to the relay (mail.h has the whole road).
 *
 * It runs as mail-user, chrooted into an empty directory, under an
 * allow-list seccomp filter: it can accept on the jails' socket (a
 * descriptor the master bound and passed), talk to the master, and
 * connect to the relay; no file, no exec.  A locker's message is read
 * here, never in the master: mailmsg.c reads its header.
 *
 * A client (the jail's sendmail) has SUBMIT_WAIT_MS to send its one
 * message after it connects; its uid is the kernel's word (SO_PEERCRED),
 * and the master says whose uid it is and whether it may send.  The
 * message comes as a memfd sealed against change, so what was checked is
 * what is sent, and its size is known before a byte is read.  Messages
 * go to the relay one at a time, each step within mail-timeout; clients
 * waiting meanwhile wait in the socket's queue.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "mailmsg.h"
#include "smtp.h"

#define CLIENTS_MAX	64
#define SUBMIT_WAIT_MS	10000
#define GRANT_WAIT_MS	30000
#define SEALS		(F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

enum cstate { C_FREE, C_SUBMIT, C_GRANT };

struct client {
	enum cstate	 state;
	int		 fd;
	uint32_t	 uid, id;
	uint64_t	 deadline_ms;
	unsigned	 flags;
	char		 from[MAIL_ADDR_MAX + 1];
	char		*args;			/* the recipients, NUL-separated */
	const char	*rcpts[MAIL_RCPTS_MAX];
	size_t		 nrcpts;
	char		*msg;
	size_t		 len;
};

static struct {
	struct config	 conf;
	int		 listen;
	struct client	 c[CLIENTS_MAX];
	uint32_t	 next_id;
	volatile sig_atomic_t stop;
} R = { .listen = -1 };

static void
on_term(int sig)
{
	(void)sig;
	R.stop = 1;
}

static void
client_close(struct client *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->args);
	free(c->msg);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
client_answer(struct client *c, int status, const char *text)
{
	struct msg_mail_result	r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	snprintf(r.text, sizeof(r.text), "%s", text);
	msg_send(c->fd, MSG_MAIL_RESULT, &r, sizeof(r), -1);
	client_close(c);
}

static void
master_send(enum msg_type t, const void *d, size_t len)
{
	if (msg_send(CHILD_CHAN_FD, t, d, len, -1) == -1)
		fatal("mailout: send to the master");
}

/* Its recipients for the status rows, before the master has named the
 * locker: the message read once as no one's (with -t, the header's). */
static void
rcpts_summary(const struct client *c, char *out, size_t outsz)
{
	static struct mail_out	 o;
	struct mail_in		 in = {
		.msg = c->msg, .len = c->len, .flags = c->flags, .rcpts = c->rcpts,
		.nrcpts = c->nrcpts, .locker = "-", .domain = "",
	};
	char			 err[MAIL_TEXT_MAX];

	if (c->msg != NULL && mailmsg_build(&in, &o, err, sizeof(err)) == MAIL_EX_OK)
		mailmsg_summary(&o, out, outsz);
	else
		mailmsg_summary_args(c->rcpts, c->nrcpts, out, outsz);
	mailmsg_free(&o);
}

/* The master says whose uid it is and decides; refused: the role's own
 * reason to refuse, told to the master to be counted. */
static void
ask(struct client *c, const char *refused)
{
	struct msg_mail_ask	 a;

	memset(&a, 0, sizeof(a));
	c->id = a.id = ++R.next_id;
	a.uid = c->uid;
	a.nrcpt = (uint32_t)c->nrcpts;
	a.bytes = c->len;
	rcpts_summary(c, a.rcpts, sizeof(a.rcpts));
	snprintf(a.refused, sizeof(a.refused), "%s", refused);
	master_send(MSG_MAIL_ASK, &a, sizeof(a));
	c->state = C_GRANT;
	c->deadline_ms = now_ms() + GRANT_WAIT_MS;
}

/* A memfd's bytes, if it is sealed: 0, or -1 with why. */
static int
read_sealed(int fd, uint64_t max, char **out, size_t *len, char *why, size_t whylen)
{
	struct stat	st;
	int		seals = fcntl(fd, F_GET_SEALS);
	size_t		got = 0;
	ssize_t		n;

	if (seals == -1 || (seals & SEALS) != SEALS || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "the message did not come sealed");
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(why, whylen, "message too large: %lld bytes, over mail-max-size "
		    "(%llu)", (long long)st.st_size, (unsigned long long)max);
		return -2;
	}
	if ((*out = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	while (got < (size_t)st.st_size &&
	    (n = pread(fd, *out + got, (size_t)st.st_size - got, (off_t)got)) > 0)
		got += (size_t)n;
	*len = got;
	return 0;
}

/* The command line's recipients: NUL-terminated words filling p[0..n). */
static int
take_args(struct client *c, const char *p, size_t n)
{
	size_t off = 0, k;

	if (n == 0)
		return 0;
	if (p[n - 1] != '\0' || (c->args = malloc(n)) == NULL)
		return -1;
	memcpy(c->args, p, n);
	while (off < n) {
		if (c->nrcpts >= MAIL_RCPTS_MAX)
			return -1;
		k = strlen(c->args + off);
		c->rcpts[c->nrcpts++] = c->args + off;
		off += k + 1;
	}
	return 0;
}

static void
client_submit(struct client *c)
{
	static union {
		struct msg_mail_submit	s;
		char			b[sizeof(struct msg_mail_submit) + MAIL_ARGS_MAX];
	} m;
	enum msg_type	 type;
	const char	*why;
	char		 err[MAIL_TEXT_MAX], who[48];
	ssize_t		 n;
	int		 fd, rc;

	n = msg_recv_checked(c->fd, MR_MAILOUT, MR_WORKER, &type, &m, sizeof(m), &fd, &why);
	if (n == MSG_BREACH) {
		snprintf(who, sizeof(who), "uid %u", c->uid);
		msg_breach(MR_MAILOUT, MR_WORKER, who, type, why);	/* MSG_ACT_DROP */
		client_close(c);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 || type == MSG_NONE) {
		client_close(c);
		return;
	}
	c->flags = m.s.flags;
	if (memchr(m.s.from, '\0', sizeof(m.s.from)) == NULL ||
	    take_args(c, m.b + sizeof(m.s), (size_t)n - sizeof(m.s)) == -1) {
		close(fd);
		client_answer(c, MAIL_EX_USAGE, "malformed request (more than 100 recipients?)");
		return;
	}
	memcpy(c->from, m.s.from, sizeof(c->from));
	rc = read_sealed(fd, R.conf.mail_max_size, &c->msg, &c->len, err, sizeof(err));
	close(fd);
	ask(c, rc == 0 ? "" : err);
}

/* A granted message to the relay; what it said to the master and client. */
static void
send_granted(struct client *c, const struct msg_mail_grant *g)
{
	struct mail_in		 in = {
		.msg = c->msg, .len = c->len, .flags = c->flags,
		.from = c->from[0] ? c->from : NULL, .rcpts = c->rcpts, .nrcpts = c->nrcpts,
		.locker = g->locker, .domain = g->domain,
	};
	static struct mail_out	 o;
	struct msg_mail_sent	 s;

	memset(&s, 0, sizeof(s));
	s.ticket = g->ticket;
	memcpy(s.locker, g->locker, sizeof(s.locker));
	s.status = mailmsg_build(&in, &o, s.text, sizeof(s.text));
	if (s.status == MAIL_EX_OK)
		s.status = smtp_send(&R.conf.mail_relay, g->domain, &o, R.conf.mail_timeout,
		    s.text, sizeof(s.text));
	mailmsg_summary(&o, s.rcpts, sizeof(s.rcpts));
	if (s.rcpts[0] == '\0')
		mailmsg_summary_args(c->rcpts, c->nrcpts, s.rcpts, sizeof(s.rcpts));
	mailmsg_free(&o);
	master_send(MSG_MAIL_SENT, &s, sizeof(s));
	client_answer(c, s.status, s.status == MAIL_EX_OK ? "" : s.text);
}

static void
granted(const struct msg_mail_grant *g0)
{
	struct msg_mail_grant	g = *g0;
	int			i;

	g.locker[sizeof(g.locker) - 1] = g.domain[sizeof(g.domain) - 1] = '\0';
	g.text[sizeof(g.text) - 1] = '\0';
	for (i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &R.c[i];

		if (c->state != C_GRANT || c->id != g.id)
			continue;
		if (g.status != MAIL_EX_OK)
			client_answer(c, g.status, g.text);
		else
			send_granted(c, &g);
		return;
	}
}

/* The notice's recipients, comma-separated, into rc[] (pointing into
 * list, which is cut) and a To field folded a recipient a line (a line
 * of the header stays under RFC 5322's 998). */
static size_t
notice_rcpts(char *list, char **rc, char *to, size_t tosz)
{
	char	*p, *save;
	size_t	 n = 0, k;

	k = (size_t)snprintf(to, tosz, "To:");
	for (p = strtok_r(list, ", ", &save); p != NULL && n < MAIL_RCPTS_MAX;
	    p = strtok_r(NULL, ", ", &save)) {
		if (k < tosz)
			k += (size_t)snprintf(to + k, tosz - k, "%s %s", n ? ",\n" : "", p);
		rc[n++] = p;
	}
	if (k < tosz)
		snprintf(to + k, tosz - k, "\n");
	return n;
}

/* A notice of lockerd's: its header made here, then as a locker's. */
static void
notice(const struct msg_mail_notice *n0, int fd)
{
	static struct msg_mail_notice	 n;
	static char			 to[sizeof(n.rcpts) * 2];
	static struct mail_out		 o;
	struct msg_mail_sent		 s;
	char				*body = NULL, *msg = NULL, *rc[MAIL_RCPTS_MAX];
	size_t				 blen = 0, nrc, hlen, room;
	struct mail_in			 in;

	n = *n0;
	n.locker[sizeof(n.locker) - 1] = n.domain[sizeof(n.domain) - 1] = '\0';
	n.subject[sizeof(n.subject) - 1] = n.rcpts[sizeof(n.rcpts) - 1] = '\0';
	memset(&s, 0, sizeof(s));
	s.ticket = n.ticket;
	memcpy(s.locker, n.locker, sizeof(s.locker));
	snprintf(s.rcpts, sizeof(s.rcpts), "%s", n.rcpts);
	nrc = notice_rcpts(n.rcpts, rc, to, sizeof(to));
	room = sizeof(to) + sizeof(n) + 256;
	s.status = MAIL_EX_SOFTWARE;
	snprintf(s.text, sizeof(s.text), "the notice could not be read");
	if (read_sealed(fd, R.conf.mail_max_size, &body, &blen, s.text, sizeof(s.text)) == 0 &&
	    (msg = malloc(blen + room)) != NULL) {
		hlen = (size_t)snprintf(msg, room, "From: lockerd <%s@%s>\n%sSubject: %s\n"
		    "Auto-Submitted: auto-generated\n\n", n.locker, n.domain, to, n.subject);
		memcpy(msg + hlen, body, blen);
		in = (struct mail_in){ .msg = msg, .len = hlen + blen,
		    .rcpts = (const char *const *)rc, .nrcpts = nrc, .locker = n.locker,
		    .domain = n.domain };
		if ((s.status = mailmsg_build(&in, &o, s.text, sizeof(s.text))) == MAIL_EX_OK)
			s.status = smtp_send(&R.conf.mail_relay, n.domain, &o,
			    R.conf.mail_timeout, s.text, sizeof(s.text));
		mailmsg_free(&o);
	}
	free(body);
	free(msg);
	master_send(MSG_MAIL_SENT, &s, sizeof(s));
}

static void
master_read(void)
{
	static union {
		struct config		c;
		struct msg_mail_grant	g;
		struct msg_mail_notice	n;
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	n = msg_recv_checked(CHILD_CHAN_FD, MR_MAILOUT, MR_MASTER, &type, &m, sizeof(m), &fd,
	    &why);
	if (n == MSG_BREACH) {
		msg_breach(MR_MAILOUT, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
		exit(1);
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 || type == MSG_NONE)
		exit(0);	/* the master is gone */
	switch (type) {
	case MSG_CONFIG:
		R.conf = m.c;
		break;
	case MSG_MAIL_LISTEN:
		if (R.listen != -1)
			close(R.listen);
		R.listen = fd;
		set_nonblock(fd);
		return;
	case MSG_MAIL_GRANT:
		granted(&m.g);
		break;
	case MSG_MAIL_NOTICE:
		notice(&m.n, fd);
		break;
	default:
		break;
	}
	if (fd != -1)
		close(fd);
}

static void
accept_one(void)
{
	struct ucred	cr;
	socklen_t	crlen = sizeof(cr);
	int		fd, i;

	if ((fd = accept4(R.listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == -1) {
		close(fd);
		return;
	}
	for (i = 0; i < CLIENTS_MAX; i++)
		if (R.c[i].state == C_FREE)
			break;
	if (i == CLIENTS_MAX) {
		struct client c = { .fd = fd };

		client_answer(&c, MAIL_EX_TEMPFAIL, "busy: too many messages at once; try again");
		return;
	}
	R.c[i].state = C_SUBMIT;
	R.c[i].fd = fd;
	R.c[i].uid = cr.uid;
	R.c[i].deadline_ms = now_ms() + SUBMIT_WAIT_MS;
}

/* Clients past their time: a silent one is dropped; one the master did not
 * answer is told to try again. */
static int
timeouts(void)
{
	uint64_t	now = now_ms(), next = now + 60000;
	int		i;

	for (i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &R.c[i];

		if (c->state == C_FREE)
			continue;
		if (now >= c->deadline_ms) {
			if (c->state == C_GRANT)
				client_answer(c, MAIL_EX_TEMPFAIL, "lockerd did not answer; try "
				    "again");
			else
				client_close(c);
		} else if (c->deadline_ms < next)
			next = c->deadline_ms;
	}
	return (int)(next - now);
}

static void
loop(void)
{
	struct pollfd	pfd[CLIENTS_MAX + 2];
	int		who[CLIENTS_MAX + 2], n, i, wait_ms;

	while (!R.stop) {
		wait_ms = timeouts();
		n = 0;
		pfd[n] = (struct pollfd){ .fd = CHILD_CHAN_FD, .events = POLLIN };
		who[n++] = -1;
		if (R.listen != -1) {
			pfd[n] = (struct pollfd){ .fd = R.listen, .events = POLLIN };
			who[n++] = -2;
		}
		for (i = 0; i < CLIENTS_MAX; i++)
			if (R.c[i].state == C_SUBMIT) {
				pfd[n] = (struct pollfd){ .fd = R.c[i].fd, .events = POLLIN };
				who[n++] = i;
			}
		if (poll(pfd, (nfds_t)n, wait_ms) == -1) {
			if (errno == EINTR)
				continue;
			fatal("mailout: poll");
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (who[i] == -1)
				master_read();
			else if (who[i] == -2)
				accept_one();
			else if (R.c[who[i]].state == C_SUBMIT)
				client_submit(&R.c[who[i]]);
		}
	}
}

int
mailout_main(void)
{
	static union {
		struct config	c;
		char		b[1];
	} m;
	enum msg_type	 type;
	const char	*why;
	char		 err[256], root[PATH_MAX];
	ssize_t		 n;
	int		 fd, i;

	log_init("mailout", getenv("LOCKERD_DEBUG") != NULL);
	child_reset(CHILD_DIE_WITH_PARENT);
	n = msg_recv_checked(CHILD_CHAN_FD, MR_MAILOUT, MR_MASTER, &type, &m, sizeof(m), &fd,
	    &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("mailout: no configuration from the master");
	R.conf = m.c;
	for (i = 0; i < CLIENTS_MAX; i++)
		R.c[i].fd = -1;
	snprintf(root, sizeof(root), "%s/empty", R.conf.state);
	drop_privileges(R.conf.mail_user, root);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	set_nonblock(CHILD_CHAN_FD);
	if (seccomp_mailout(err, sizeof(err)) == -1)
		fatalx("mailout: %s", err);
	loop();
	return 0;
}
