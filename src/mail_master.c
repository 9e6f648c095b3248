/*
 * mail_master.c: the master's side of outgoing mail (mail.h).
 *
 * With mail-relay set, the master binds the jails' socket (the state
 * dir's mail/sendmail.sock, which every jail sees in /run/lockerd) once,
 * starts the mail role (mailout.c) as mail-user, hands it the socket, and
 * restarts it when it dies; the socket stays, so a locker's sendmail only
 * waits in its queue meanwhile.
 *
 * The role asks before it sends (MSG_MAIL_ASK): the master, the one reader
 * of the directory, turns the peer's uid into its locker and decides by
 * the locker's block and its rate (mail-per-hour, its own `locker limit`
 * or the default), counted in the directory (maillog.c) so that a restart
 * does not reset it.  A grant is a row at once, so two messages cannot both
 * take the last place of the hour; the role's MSG_MAIL_SENT finishes it.
 * The master reads only fixed-size fields of the role's messages, never
 * the message: a locker's bytes are the role's to parse.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "mail.h"
#include "maillog.h"
#include "mailmsg.h"

#define MAIL_CLIENT_EXE	"lockerd-sendmail"

static struct child	 mo = { .kind = EV_CHILD, .role = ROLE_MAILOUT, .chan = -1 };
static int		 listen_fd = -1;

struct child *
mail_child(void)
{
	return &mo;
}

const char *
mail_domain(const struct config *c)
{
	return c->mail_domain[0] != '\0' ? c->mail_domain : c->domain;
}

/* lockerd-sendmail, beside our own binary (the build directory, sbin). */
static int
client_path(char *out, size_t outsz)
{
	char	self[PATH_MAX];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		return -1;
	self[n] = '\0';
	snprintf(out, outsz, "%s/%s", dirname(self), MAIL_CLIENT_EXE);
	return access(out, X_OK);
}

int
mail_check(struct config *c, char *err, size_t errlen)
{
	struct stat st;

	c->mail_client[0] = '\0';
	if (c->mail_relay.host[0] == '\0')
		return 0;
	if (getpwnam(c->mail_user) == NULL) {
		snprintf(err, errlen, "mail-user \"%s\" does not exist (create it with: useradd "
		    "--system --no-create-home --shell /usr/sbin/nologin %s)", c->mail_user,
		    c->mail_user);
		return -1;
	}
	if (client_path(c->mail_client, sizeof(c->mail_client)) == -1) {
		snprintf(err, errlen, "%s is not beside lockerd: %s", MAIL_CLIENT_EXE,
		    strerror(errno));
		return -1;
	}
	/* The jails bind ours over it: a file must be there (any MTA's). */
	if (lstat("/usr/sbin/sendmail", &st) == -1 || S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "/usr/sbin/sendmail does not exist here, so the jails "
		    "cannot have lockerd's in its place (install postfix)");
		return -1;
	}
	return 0;
}

/* The jails' socket, bound once as root, anyone's to connect to: who
 * connects is the kernel's word (SO_PEERCRED), not the file's mode. */
static int
socket_open(void)
{
	struct sockaddr_un	sun;
	char			dir[PATH_MAX];
	int			fd;

	snprintf(dir, sizeof(dir), "%s/%s", M->conf.state, MAIL_STATE_DIR);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	if (chmod(dir, 0755) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir,
	    MAIL_SOCKET_NAME) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0666) == -1 || listen(fd, 128) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void
mail_start(void)
{
	int end;

	if (M->conf.mail_relay.host[0] == '\0' || M->stopping)
		return;
	mo.restart_at_ms = 0;
	if (listen_fd == -1 && (listen_fd = socket_open()) == -1) {
		log_warn("mail: the jails' socket");
		mo.restart_at_ms = now_ms() + 5000;
		return;
	}
	if ((end = new_channel(&mo)) == -1) {
		mo.restart_at_ms = now_ms() + 1000;
		return;
	}
	mo.pid = spawn_role(M->exe_fd, "mailout", NULL, end, NULL, 0, NULL, NULL);
	close(end);
	if (child_spawned(&mo, "mailout") == -1)
		return;
	if (child_send(&mo, MSG_MAIL_LISTEN, NULL, 0, listen_fd) == -1)
		log_warnx("mail: cannot send the mail role its socket");
	if (mo.restarts > 0)
		log_warnx("mailout started again (pid %d)", (int)mo.pid);
}

void
mail_stop(int sig)
{
	if (mo.pid > 0)
		kill(mo.pid, sig);
}

void
mail_tick(void)
{
	if (mo.pid == 0 && mo.restart_at_ms && now_ms() >= mo.restart_at_ms && !M->stopping)
		mail_start();
}

/* ------------------------------------------------------------ the rules */

static void
grant_send(const struct msg_mail_ask *a, int status, uint64_t ticket, const char *locker,
    const char *text)
{
	struct msg_mail_grant g;

	memset(&g, 0, sizeof(g));
	g.id = a->id;
	g.status = status;
	g.ticket = ticket;
	snprintf(g.locker, sizeof(g.locker), "%s", locker);
	snprintf(g.domain, sizeof(g.domain), "%s", mail_domain(&M->conf));
	snprintf(g.text, sizeof(g.text), "%s", text);
	child_send(&mo, MSG_MAIL_GRANT, &g, sizeof(g), -1);
}

/* Why the locker may not send now ("" if it may): its block, its rate. */
static int
may_send(const struct locker_rec *lr, int64_t now, char *why, size_t whylen)
{
	const struct config	*lc = locker_conf(lr->name, lr->uid);
	uint64_t		 sent, refused;
	int64_t			 n;
	int			 blocked;

	if (maillog_totals(M->dir, lr->uid, &sent, &refused, &blocked) == -1 ||
	    (n = maillog_count_since(M->dir, lr->uid, now - 3600)) == -1) {
		snprintf(why, whylen, "lockerd's directory failed; try again");
		return MAIL_EX_TEMPFAIL;
	}
	if (blocked) {
		snprintf(why, whylen, "mail from locker %s is blocked by the administrator "
		    "(locker mail block)", lr->name);
		return MAIL_EX_NOPERM;
	}
	if (lc->mail_per_hour != 0 && n >= lc->mail_per_hour) {
		snprintf(why, whylen, "locker %s has sent %lld messages in the last hour, its "
		    "limit (mail-per-hour %u); try again later", lr->name, (long long)n,
		    lc->mail_per_hour);
		return MAIL_EX_NOPERM;
	}
	why[0] = '\0';
	return MAIL_EX_OK;
}

static void
on_ask(const struct msg_mail_ask *a)
{
	struct locker_rec	lr;
	char			why[MAIL_TEXT_MAX];
	int64_t			now = time(NULL);
	uint64_t		ticket = 0;
	int			status;

	if (dir_locker_get_by_uid(M->dir, a->uid, &lr) != 1) {
		grant_send(a, MAIL_EX_NOPERM, 0, "", "only a locker's programs send mail here");
		return;
	}
	if (a->refused[0] != '\0') {
		snprintf(why, sizeof(why), "%s", a->refused);
		status = strncmp(why, "message too large", 17) == 0 ? MAIL_EX_TOOBIG :
		    MAIL_EX_DATAERR;
	} else
		status = may_send(&lr, now, why, sizeof(why));
	if (maillog_add(M->dir, lr.uid, now, status == MAIL_EX_OK ? "granted" : "refused",
	    a->rcpts, a->bytes, why, &ticket) == -1 && status == MAIL_EX_OK) {
		status = MAIL_EX_TEMPFAIL;
		snprintf(why, sizeof(why), "lockerd's directory failed; try again");
	}
	if (status != MAIL_EX_OK)
		log_info("mail: locker %s: refused: %s", lr.name, why);
	grant_send(a, status, status == MAIL_EX_OK ? ticket : 0, lr.name, why);
}

static void
on_sent(const struct msg_mail_sent *s)
{
	struct locker_rec	lr;
	const char		*st = s->status == MAIL_EX_OK ? "sent" :
				    s->status == MAIL_EX_TEMPFAIL || s->status == MAIL_EX_UNAVAILABLE ?
				    "failed" : "refused";

	if (dir_locker_get(M->dir, s->locker, &lr) != 1)
		return;
	if (maillog_finish(M->dir, s->ticket, lr.uid, st, s->rcpts, s->text) == -1)
		log_warnx("mail: the role's answer for locker %s matches no message of its",
		    s->locker);
	log_info("mail: locker %s: %s to %s%s%s", s->locker, st, s->rcpts,
	    s->text[0] ? ": " : "", s->text);
}

const char *
mail_master_msg(enum msg_type type, const void *buf, size_t len)
{
	union {
		struct msg_mail_ask	a;
		struct msg_mail_sent	s;
	} m;

	(void)len;	/* msg_rules[]: exactly the struct */
	if (type == MSG_MAIL_ASK) {
		memcpy(&m.a, buf, sizeof(m.a));
		m.a.rcpts[sizeof(m.a.rcpts) - 1] = m.a.refused[sizeof(m.a.refused) - 1] = '\0';
		on_ask(&m.a);
		return NULL;
	}
	memcpy(&m.s, buf, sizeof(m.s));
	if (memchr(m.s.locker, '\0', sizeof(m.s.locker)) == NULL)
		return "names no locker";
	m.s.rcpts[sizeof(m.s.rcpts) - 1] = m.s.text[sizeof(m.s.text) - 1] = '\0';
	on_sent(&m.s);
	return NULL;
}

/* ------------------------------------------------------------- notices */

/* Each address of a comma-separated list: checked, and how many. */
static int
rcpts_ok(const char *rcpts, char *err, size_t errlen)
{
	char	 copy[sizeof(((struct msg_mail_notice *)0)->rcpts)], *p, *save;
	int	 n = 0;

	if (strlen(rcpts) >= sizeof(copy)) {
		snprintf(err, errlen, "too many recipients");
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", rcpts);
	for (p = strtok_r(copy, ", ", &save); p != NULL; p = strtok_r(NULL, ", ", &save)) {
		if (!mail_addr_ok(p) || ++n > MAIL_RCPTS_MAX) {
			snprintf(err, errlen, "bad recipient \"%.80s\"", p);
			return -1;
		}
	}
	if (n == 0)
		snprintf(err, errlen, "no recipient");
	return n == 0 ? -1 : 0;
}

/* fd's contents (bounded by mail-max-size) into a sealed memfd. */
static int
body_memfd(int fd, char *err, size_t errlen)
{
	char	buf[16384];
	ssize_t	n;
	off_t	off = 0;
	int	mfd;

	if ((mfd = memfd_create("lockerd-notice", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		return -1;
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0 &&
	    (uint64_t)off + (uint64_t)n <= M->conf.mail_max_size) {
		if (write(mfd, buf, (size_t)n) != n)
			break;
		off += n;
	}
	if (n != 0 || fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK) == -1) {
		snprintf(err, errlen, "the notice's body could not be read whole (over "
		    "mail-max-size?)");
		close(mfd);
		return -1;
	}
	return mfd;
}

/*
 * A notice is granted as the locker's own message is: its block and its
 * rate hold (a crontab's MAILTO and a job's output are the locker's to
 * choose: else a job every minute would be a way past both), and its row
 * is written now.
 */
static int
notice_grant(const char *locker, const char *rcpts, uint64_t *ticket, char *err,
    size_t errlen)
{
	struct locker_rec	lr;
	int64_t			now = time(NULL);
	char			why[MAIL_TEXT_MAX];

	if (dir_locker_get(M->dir, locker, &lr) != 1) {
		snprintf(err, errlen, "no locker %s", locker);
		return -1;
	}
	if (may_send(&lr, now, why, sizeof(why)) != MAIL_EX_OK) {
		maillog_add(M->dir, lr.uid, now, "refused", rcpts, 0, why, ticket);
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (maillog_add(M->dir, lr.uid, now, "granted", rcpts, 0, "lockerd's notice",
	    ticket) == -1) {
		snprintf(err, errlen, "lockerd's directory failed");
		return -1;
	}
	return 0;
}

int
mail_notice_fd(const char *locker, const char *rcpts, const char *subject, int fd,
    char *err, size_t errlen)
{
	struct msg_mail_notice	n;
	size_t			i;
	int			mfd, rc;
	uint64_t		ticket;

	if (M->conf.mail_relay.host[0] == '\0') {
		snprintf(err, errlen, "outgoing mail is not configured here (mail-relay none)");
		return -1;
	}
	if (mo.pid <= 0 || mo.chan == -1) {
		snprintf(err, errlen, "the mail role is not running (restarting); try again");
		return -1;
	}
	if (rcpts_ok(rcpts, err, errlen) == -1 || (mfd = body_memfd(fd, err, errlen)) == -1)
		return -1;
	if (notice_grant(locker, rcpts, &ticket, err, errlen) == -1) {
		close(mfd);
		return -1;
	}
	memset(&n, 0, sizeof(n));
	n.ticket = ticket;
	snprintf(n.locker, sizeof(n.locker), "%s", locker);
	snprintf(n.domain, sizeof(n.domain), "%s", mail_domain(&M->conf));
	snprintf(n.subject, sizeof(n.subject), "%s", subject);
	for (i = 0; n.subject[i] != '\0'; i++)	/* one line of header, nothing more */
		if ((unsigned char)n.subject[i] < ' ' || n.subject[i] == 0x7f)
			n.subject[i] = ' ';
	snprintf(n.rcpts, sizeof(n.rcpts), "%s", rcpts);
	rc = child_send(&mo, MSG_MAIL_NOTICE, &n, sizeof(n), mfd);
	close(mfd);
	if (rc == -1)
		snprintf(err, errlen, "cannot reach the mail role");
	return rc;
}

int
mail_notice(const char *locker, const char *rcpts, const char *subject, const void *body,
    size_t len, char *err, size_t errlen)
{
	int	fd, rc;

	if ((fd = memfd_create("lockerd-notice-in", MFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		return -1;
	}
	if (write(fd, body, len) != (ssize_t)len) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		close(fd);
		return -1;
	}
	rc = mail_notice_fd(locker, rcpts, subject, fd, err, errlen);
	close(fd);
	return rc;
}
