/*
 * mailin_master.c: the master's side of maild, the mail role (maild.c).
 *
 * Where mail-lmtp names a socket, the master binds it (once, as root:
 * "the parent opens, the children receive"), starts maild as mail-lmtp-user
 * with the listener as its descriptor 4, and restarts it when it dies.
 *
 * For each MSG_MAILIN_DELIVER the master routes and nothing more: it checks
 * that the descriptor is a memfd sealed against writing (so the message a
 * locker's program is given cannot be changed for the next recipient's),
 * opens a read-only description of its own of it (its own offset: one
 * program's reading never moves another's), looks the locker up in the
 * directory (MAILIN_NO_LOCKER if there is none; with no locker named, the
 * locker whose vhost the recipient's domain is, if it turned mail on there),
 * and starts its program as a
 * task (mailrun.c) with a fresh memfd as its stderr.  When the task ends,
 * or is killed at mail-program-timeout (the locker's own, `locker limit`), maild
 * hears how, with the stderr memfd, which the master never reads.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "mailin.h"
#include "maillog.h"

#define DELIVERIES_MAX	256	/* running at once; more are told to try again */

struct delivery {
	uint32_t	 id;		/* maild's */
	struct child	*task;
	pid_t		 pid;
	int		 err;		/* the program's stderr memfd, for maild */
	uint64_t	 deadline_ms;
	uint32_t	 seconds;
	int		 timed_out;
	struct delivery	*next;
};

static void	delivery_exit(struct child *t, int status);

static struct child	 maild = { .kind = EV_CHILD, .role = ROLE_MAILD, .chan = -1 };
static struct delivery	*deliveries;
static unsigned		 ndeliveries;
static int		 listen_fd = -1;

struct child *
mailin_child(void)
{
	return &maild;
}

int
mailin_check(const struct config *c, char *err, size_t errlen)
{
	if (c->mail_lmtp[0] == '\0')
		return 0;
	if (getpwnam(c->mail_lmtp_user) == NULL) {
		snprintf(err, errlen, "mail-lmtp-user \"%s\" does not exist (create it with: useradd "
		    "--system --no-create-home --shell /usr/sbin/nologin %s)", c->mail_lmtp_user,
		    c->mail_lmtp_user);
		return -1;
	}
	return 0;
}

/* The socket, bound afresh (a stale one of an earlier run removed). */
static int
lmtp_listen(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* Postfix's lmtp client runs as its own user: whoever reaches the
	 * directory may connect (mail-lmtp's help says where to put it). */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 || chmod(path, 0666) == -1 ||
	    listen(fd, 128) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void
mailin_start(void)
{
	struct child	*k = &maild;
	int		 end;

	if (M->conf.mail_lmtp[0] == '\0' || M->stopping)
		return;
	k->restart_at_ms = 0;
	if (listen_fd == -1 && (listen_fd = lmtp_listen(M->conf.mail_lmtp)) == -1) {
		log_warn("mail: %s", M->conf.mail_lmtp);
		k->restart_at_ms = now_ms() + 5000;
		return;
	}
	if ((end = new_channel(k)) == -1) {
		k->restart_at_ms = now_ms() + 1000;
		return;
	}
	k->pid = spawn_role(M->exe_fd, "maild", NULL, end, &listen_fd, 1, NULL, NULL);
	close(end);
	if (child_spawned(k, "maild") == -1)
		return;
	if (k->restarts > 0)
		log_warnx("maild started again (pid %d)", (int)k->pid);
}

void
mailin_stop(int sig)
{
	if (maild.pid > 0)
		kill(maild.pid, sig);
}

static void
answer(uint32_t id, enum mailin_outcome outcome, int32_t status, uint32_t seconds,
    const char *text, int fd)
{
	struct msg_mailin_result r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.outcome = outcome;
	r.status = status;
	r.seconds = seconds;
	snprintf(r.text, sizeof(r.text), "%s", text);
	if (maild.chan != -1)
		child_send(&maild, MSG_MAILIN_RESULT, &r, sizeof(r), fd);
}

static void
delivery_free(struct delivery *d)
{
	struct delivery **pp;

	for (pp = &deliveries; *pp != NULL; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	if (d->err != -1)
		close(d->err);
	ndeliveries--;
	free(d);
}

/* A read-only description of the message, if maild sealed it as it must. */
static int
message_open(int fd)
{
	char	path[64];
	int	seals = fcntl(fd, F_GET_SEALS);

	if (seals == -1 || (seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)) !=
	    (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW))
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int
name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return i > 0;
}

/*
 * No locker named: the recipient's domain may be a vhost whose locker's
 * admins turned its mail on (`locker mail vhost`); the directory says whose.
 * The domain is only canonicalized as vhost names are, then compared.
 */
static int
vhost_route(struct msg_mailin_deliver *q)
{
	char		 host[HOSTNAME_MAX + 1];
	const char	*at = strrchr(q->recipient, '@');

	/* The directory's spelling (route_canon_host(): lower case, no final dot). */
	if (at == NULL || route_canon_host(at + 1, strlen(at + 1), host, sizeof(host)) == -1)
		return 0;
	return maillog_vhost_locker(M->dir, host, q->locker, sizeof(q->locker)) == 1;
}

static const char *
deliver(struct msg_mailin_deliver *q, int fd)
{
	struct locker_rec	 lr;
	struct delivery		*d;
	const struct config	*lc;
	int			 in, err;

	if (memchr(q->locker, '\0', sizeof(q->locker)) == NULL ||
	    memchr(q->tag, '\0', sizeof(q->tag)) == NULL ||
	    memchr(q->sender, '\0', sizeof(q->sender)) == NULL ||
	    memchr(q->recipient, '\0', sizeof(q->recipient)) == NULL ||
	    memchr(q->original, '\0', sizeof(q->original)) == NULL ||
	    (q->locker[0] != '\0' && !name_ok(q->locker)))
		return "names no locker";
	if ((q->locker[0] == '\0' && !vhost_route(q)) ||
	    dir_locker_get(M->dir, q->locker, &lr) != 1) {
		answer(q->id, MAILIN_NO_LOCKER, 0, 0, "", -1);
		return NULL;
	}
	if ((in = message_open(fd)) == -1) {
		answer(q->id, MAILIN_REFUSED, 0, 0, "the message was not sealed", -1);
		return NULL;
	}
	if (ndeliveries >= DELIVERIES_MAX || (d = calloc(1, sizeof(*d))) == NULL) {
		close(in);
		answer(q->id, MAILIN_TEMPFAIL, 0, 0, "too many deliveries at once", -1);
		return NULL;
	}
	if ((err = memfd_create("mail-stderr", MFD_CLOEXEC)) == -1 ||
	    (d->task = mailrun_start(&lr, q, in, err)) == NULL) {
		if (err != -1)
			close(err);
		close(in);
		free(d);
		answer(q->id, MAILIN_TEMPFAIL, 0, 0, "cannot start the mail program", -1);
		return NULL;
	}
	close(in);
	d->task->on_exit = delivery_exit;
	lc = locker_conf(lr.name, lr.uid);
	d->id = q->id;
	d->pid = d->task->pid;
	d->err = err;
	d->seconds = lc->mail_program_timeout;
	d->deadline_ms = now_ms() + 1000ull * lc->mail_program_timeout;
	d->next = deliveries;
	deliveries = d;
	ndeliveries++;
	return NULL;
}

const char *
mailin_master_msg(enum msg_type type, const void *buf, size_t len, int fd)
{
	struct msg_mailin_deliver q;
	const char		*why;

	(void)len;	/* msg_rules[]: exactly the struct, and a descriptor */
	if (type != MSG_MAILIN_DELIVER) {
		if (fd != -1)
			close(fd);
		return NULL;
	}
	memcpy(&q, buf, sizeof(q));
	why = deliver(&q, fd);
	close(fd);
	return why;
}

/* A delivery's task ended (its on_exit): maild hears how. */
static void
delivery_exit(struct child *t, int status)
{
	struct delivery *d;

	for (d = deliveries; d != NULL; d = d->next)
		if (d->task == t)
			break;
	if (d == NULL)
		return;
	if (d->timed_out)
		answer(d->id, MAILIN_TIMEOUT, 0, d->seconds, "", d->err);
	else if (WIFEXITED(status))
		answer(d->id, MAILIN_EXITED, WEXITSTATUS(status), 0, "", d->err);
	else
		answer(d->id, MAILIN_SIGNALED, WTERMSIG(status), 0, "", d->err);
	delivery_free(d);
}

/* maild went: its connections went with it, so Postfix will try every
 * message again; a program still running for one would deliver it twice. */
void
mailin_child_gone(void)
{
	struct delivery *d;

	for (d = deliveries; d != NULL; d = d->next)
		if (d->pid > 0)
			kill(d->pid, SIGKILL);
}

void
mailin_tick(void)
{
	struct delivery	*d;
	uint64_t	 now = now_ms();

	for (d = deliveries; d != NULL; d = d->next)
		if (!d->timed_out && now >= d->deadline_ms && d->pid > 0) {
			/* The task is its pid namespace's init: all of it goes. */
			kill(d->pid, SIGKILL);
			d->timed_out = 1;
		}
	if (maild.pid == 0 && maild.restart_at_ms && now >= maild.restart_at_ms && !M->stopping)
		mailin_start();
}
