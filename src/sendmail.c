/*
 * sendmail.c: lockerd-sendmail, the /usr/sbin/sendmail of every jail
 * (sandbox.c binds it there when mail-relay is set): what PHP's mail()
 * ("sendmail -t -i") and most programs call to send mail.
 *
 * It reads the message from stdin into a memfd, seals it (so the mail
 * role checks what it sends: mail.h), and hands it with the command
 * line's recipients to the mail role over the socket in /run/lockerd; the
 * role's answer is its exit status (sysexits.h, as sendmail's), and its
 * reason goes to stderr.  It claims nothing: who sends is known from the
 * socket's peer, a -f that is not the locker's own is replaced, and a
 * header naming another locker is refused or dropped by the role.
 *
 * Options: -t (recipients from To, Cc, Bcc as well), -f/-r ADDR, -i and
 * -oi (a lone "." does not end the message), and sendmail's others that
 * change nothing here (-F NAME, -o..., -odi, -v, -bm, -N, -B, -R, -V, -U,
 * -G, -h, -C, -X, -O); -bs, -bp, -q and the other modes are refused.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "mail.h"

#define ANSWER_WAIT_S	600	/* the role's steps are bounded by mail-timeout */

static int __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("sendmail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

struct args {
	struct msg_mail_submit	 s;
	char			 rcpts[MAIL_ARGS_MAX];
	size_t			 len;
	int			 dot_ends;	/* no -i: a lone "." ends the message */
};

static void
add_rcpt(struct args *a, const char *r)
{
	size_t n = strlen(r) + 1;

	if (n > MAIL_ADDR_MAX + 1)
		die(MAIL_EX_USAGE, "recipient address too long: %.60s...", r);
	if (a->len + n > sizeof(a->rcpts))
		die(MAIL_EX_USAGE, "too many recipients (at most %d)", MAIL_RCPTS_MAX);
	memcpy(a->rcpts + a->len, r, n);
	a->len += n;
}

/* Options that take an argument ("-fADDR" or "-f ADDR"); mine: its value. */
static const char *
opt_value(int argc, char **argv, int *i)
{
	if (argv[*i][2] != '\0')
		return argv[*i] + 2;
	if (*i + 1 >= argc)
		die(MAIL_EX_USAGE, "option %s needs a value", argv[*i]);
	return argv[++*i];
}

static void
parse(int argc, char **argv, struct args *a)
{
	const char	*v;
	int		 i;

	a->dot_ends = 1;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--") == 0) {
			i++;
			break;
		}
		if (o[0] != '-' || o[1] == '\0')
			break;
		switch (o[1]) {
		case 't':
			a->s.flags |= MAIL_F_T;
			break;
		case 'i':
			a->dot_ends = 0;
			break;
		case 'f':
		case 'r':
			v = opt_value(argc, argv, &i);
			if (strlen(v) > MAIL_ADDR_MAX)
				die(MAIL_EX_USAGE, "sender address too long");
			snprintf(a->s.from, sizeof(a->s.from), "%s", v);
			break;
		case 'o':
			if (strcmp(o, "-oi") == 0)
				a->dot_ends = 0;
			break;	/* -odi, -oem, -oee...: how to deliver or report */
		case 'F': case 'N': case 'B': case 'R': case 'V': case 'h': case 'C':
		case 'X': case 'O': case 'L':
			opt_value(argc, argv, &i);
			break;
		case 'v': case 'U': case 'G': case 'n': case 'm': case 'e':
			break;
		case 'b':
			if (strcmp(o, "-bm") == 0)
				break;
			/* FALLTHROUGH */
		default:
			die(MAIL_EX_USAGE, "option %s is not supported here (lockerd's sendmail "
			    "only sends: [-t] [-i] [-f ADDR] [RECIPIENT...])", o);
		}
	}
	for (; i < argc; i++)
		add_rcpt(a, argv[i]);
}

/* Without -i, the message ends before its first line that is "." alone
 * (sendmail's old rule, which programs that do not pass -i rely on). */
static void
dot_cut(int fd, uint64_t len)
{
	char	*p;
	size_t	 i = 0, end;

	if (len == 0)
		return;
	if ((p = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED)
		die(MAIL_EX_TEMPFAIL, "mmap: %s", strerror(errno));
	while (i < len) {
		end = i;
		while (end < len && p[end] != '\n')
			end++;
		if (p[i] == '.' && (end - i == 1 || (end - i == 2 && p[i + 1] == '\r'))) {
			if (ftruncate(fd, (off_t)i) == -1)
				die(MAIL_EX_TEMPFAIL, "ftruncate: %s", strerror(errno));
			break;
		}
		i = end + 1;
	}
	munmap(p, (size_t)len);
}

/* stdin into a sealed memfd, cut at a lone "." line unless -i. */
static int
read_message(int dot_ends)
{
	static char	buf[65536];
	uint64_t	total = 0;
	ssize_t		n;
	int		fd;

	if ((fd = memfd_create("sendmail", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1)
		die(MAIL_EX_TEMPFAIL, "memfd: %s", strerror(errno));
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die(MAIL_EX_TEMPFAIL, "reading the message: %s", strerror(errno));
		}
		if ((total += (uint64_t)n) > MAIL_SIZE_CEILING)
			die(MAIL_EX_TOOBIG, "message too large: over %llu bytes",
			    (unsigned long long)MAIL_SIZE_CEILING);
		if (write(fd, buf, (size_t)n) != n)
			die(MAIL_EX_TEMPFAIL, "memfd: %s", strerror(errno));
	}
	if (dot_ends)
		dot_cut(fd, total);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)
	    == -1)
		die(MAIL_EX_TEMPFAIL, "seal: %s", strerror(errno));
	return fd;
}

static int
role_connect(void)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { .tv_sec = ANSWER_WAIT_S };
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", MAIL_JAIL_DIR, MAIL_SOCKET_NAME);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		die(MAIL_EX_TEMPFAIL, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT)
			die(MAIL_EX_UNAVAILABLE, "outgoing mail is not available here "
			    "(lockerd's mail-relay is none)");
		die(MAIL_EX_TEMPFAIL, "lockerd's mail service cannot be reached (%s); try "
		    "again later", strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int
main(int argc, char **argv)
{
	static struct args	 a;
	static char		 out[sizeof(a.s) + MAIL_ARGS_MAX];
	struct msg_mail_result	 r;
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 msg, sock, fd;

	parse(argc, argv, &a);
	msg = read_message(a.dot_ends);
	sock = role_connect();
	memcpy(out, &a.s, sizeof(a.s));
	memcpy(out + sizeof(a.s), a.rcpts, a.len);
	if (msg_send(sock, MSG_MAIL_SUBMIT, out, sizeof(a.s) + a.len, msg) == -1)
		die(MAIL_EX_TEMPFAIL, "lockerd's mail service: %s; try again later",
		    strerror(errno));
	n = msg_recv_checked(sock, MR_WORKER, MR_MAILOUT, &type, &r, sizeof(r), &fd, &why);
	if (n < 0 || type != MSG_MAIL_RESULT)
		die(MAIL_EX_TEMPFAIL, "lockerd's mail service did not answer; try again later");
	r.text[sizeof(r.text) - 1] = '\0';
	if (r.status != MAIL_EX_OK)
		die(r.status > 0 && r.status < 256 ? r.status : MAIL_EX_SOFTWARE, "%s", r.text);
	return 0;
}
