/*
 * control.c: the master's end of the control socket that `locker` talks to.
 *
 * Requests are fixed-size structs, versioned and length-checked; the master
 * knows who is asking from SO_PEERCRED.  Who may run each verb is its row
 * in verbs.c (the CLI's table too), checked once by verb_allowed() before
 * the verb's handler runs: root may do anything; a login user what an
 * admin of the named locker may do (su, vhosts, logs, admins, status), and
 * sign up (do_signup() adds the configuration's rules: their own locker
 * when self-signup is on, a group locker when group-signup lets them).
 * Anyone may list.  Every change goes to the directory's audit trail under
 * the caller's uid, and is pushed to the fronts at once.
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "directory.h"
#include "quota.h"
#include "verbs.h"
#include "vhost.h"

static int	verbs_handled(void);

int
control_open(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	if (!verbs_handled())
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", M->conf.state,
	    CONTROL_SOCKET) >= sizeof(sun.sun_path)) {
		log_warnx("control socket path too long");
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0666) == -1 || listen(fd, 64) == -1) {
		log_warn("control socket %s", sun.sun_path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Connections open at once.  Past the soft limit only root is let in, so
 * that users holding many idle connections cannot lock root out, nor run
 * the master out of descriptors; and no login user may hold more than
 * CLIENTS_PER_UID, so one user cannot lock the others out either.  A
 * connection that sends nothing for control-timeout is closed.
 */
#define CLIENTS_SOFT	128	/* each may hold 4 descriptors (su: 3 of stdio) */
#define CLIENTS_HARD	192
#define CLIENTS_PER_UID	16
#define REFUSED_PER_UID	4	/* answered "busy", waiting for the client to go */

/*
 * Replies are sent without blocking: what the socket cannot take at once
 * waits in the client's queue and goes out as the client reads, driven by
 * the master's loop, so a client that never reads costs the master memory
 * (bounded here), never time.  One that reads nothing for control-timeout
 * is dropped.
 */
#define CTL_OUT_MAX	(8u << 20)	/* queued bytes per client */
#define CTL_OUT_TOTAL	(64u << 20)	/* ... and for all of them */

struct ctl_out {
	struct ctl_out	*next;
	enum msg_type	 type;
	int		 fd;		/* a descriptor that goes with it, or -1 */
	size_t		 len;
	char		 data[];
};

static int	reply(struct ctl_client *c, enum msg_type t, const void *d, size_t len);
static void	drain(int fd);

static int		 nclients;
static size_t		 out_total;
static struct ctl_client *clients;	/* every open one */
static struct ctl_client *closed;	/* freed at the end of the round */

/*
 * What local users cause is logged at most once a second, so that a user
 * cannot flood the log; the lines not written are counted.
 */
static void __attribute__((format(printf, 1, 2)))
ctl_warn(const char *fmt, ...)
{
	static uint64_t	 last_ms;
	static unsigned	 quiet;
	uint64_t	 now = now_ms();
	char		 line[512];
	va_list		 ap;

	if (last_ms != 0 && now - last_ms < 1000) {
		quiet++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warnx("control: %s%s", line, quiet ? " (and more not logged)" : "");
	last_ms = now;
	quiet = 0;
}

static uint64_t
ctl_timeout_ms(void)
{
	return (uint64_t)M->conf.control_timeout * 1000;
}

static void
out_free(struct ctl_client *c)
{
	struct ctl_out *o;

	while ((o = c->out_head) != NULL) {
		c->out_head = o->next;
		if (o->fd != -1)
			close(o->fd);
		out_total -= o->len;
		free(o);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
}

/*
 * Closed now, freed at the end of the master's round: an event of this
 * round may still point at it (a su's end reaped before its socket's
 * event, say).
 */
static void
client_free(struct ctl_client *c)
{
	int i;

	if (c->kind != EV_CONTROL_CLIENT)
		return;
	nclients--;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ev_del(c->fd);
	drain(c->fd);
	close(c->fd);
	for (i = 0; i < 3; i++)
		if (c->stdio[i] != -1)
			close(c->stdio[i]);
	if (c->task != NULL)
		c->task->waiter = NULL;
	if (c->proof != NULL)
		proof_cancel(c->proof);
	out_free(c);
	c->kind = EV_NONE;
	c->next = closed;
	closed = c;
}

void
control_round_end(void)
{
	struct ctl_client *c;

	while ((c = closed) != NULL) {
		closed = c->next;
		free(c);
	}
}

/* What a client sent and we will not act on: read, so that closing the
 * connection does not reset it before the client reads our answer. */
static void
drain(int fd)
{
	char		 buf[sizeof(struct ctl_request) + 64];
	enum msg_type	 type;
	const char	*why;
	int		 pfd, i;

	for (i = 0; i < 8; i++) {
		if (msg_recv_checked(fd, MR_MASTER, MR_CLI, &type, buf, sizeof(buf), &pfd,
		    &why) == -1)
			return;
		if (pfd != -1)
			close(pfd);
		if (type == MSG_NONE)
			return;
	}
}

static int
uid_clients(uid_t uid, int refused)
{
	struct ctl_client	*c;
	int			 n = 0;

	for (c = clients; c != NULL; c = c->next)
		n += c->uid == uid && c->refused == refused;
	return n;
}

static struct ctl_client *
client_new(int fd, const struct ucred *cred)
{
	struct ctl_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	nclients++;
	c->kind = EV_CONTROL_CLIENT;
	c->fd = fd;
	c->uid = cred->uid;
	c->pid = cred->pid;
	c->stdio[0] = c->stdio[1] = c->stdio[2] = -1;
	c->deadline_ms = now_ms() + ctl_timeout_ms();
	c->next = clients;
	if (clients != NULL)
		clients->prev = c;
	clients = c;
	ev_add(fd, c);
	return c;
}

/*
 * One connection too many for this user: answer "busy" (the CLI tries
 * again a little later) and close once the client has gone, or after a
 * second; until then what it sends is read and dropped, since closing on
 * unread messages would reset the connection before it read the answer.
 * Of those, a user keeps only REFUSED_PER_UID: a new one closes the oldest
 * (drained first: its answer stays readable).
 */
static void
refuse_busy(int fd, const struct ucred *cred)
{
	struct ctl_client	*c;
	struct ctl_done		 d;

	ctl_warn("uid %u (pid %d) has %d connections open; refused another",
	    (unsigned)cred->uid, (int)cred->pid, CLIENTS_PER_UID);
	if (uid_clients(cred->uid, 1) >= REFUSED_PER_UID) {
		/* The oldest refused one (the list is newest first) has had its
		 * answer the longest: it goes. */
		struct ctl_client *old = NULL;

		for (c = clients; c != NULL; c = c->next)
			if (c->refused && c->uid == cred->uid)
				old = c;
		if (old != NULL)
			client_free(old);
	}
	if ((c = client_new(fd, cred)) == NULL) {
		close(fd);
		return;
	}
	c->refused = 1;
	c->closing = 1;
	c->deadline_ms = now_ms() + 1000;
	memset(&d, 0, sizeof(d));
	d.code = 75;	/* EX_TEMPFAIL */
	snprintf(d.message, sizeof(d.message), "busy: %d connections to lockerd are "
	    "open as uid %u already; try again", CLIENTS_PER_UID, (unsigned)cred->uid);
	reply(c, MSG_CTL_DONE, &d, sizeof(d));
	drain(fd);
}

void
control_accept(void)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int		 fd;

	while ((fd = accept4(M->control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) != -1) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
			close(fd);
			continue;
		}
		if (nclients >= CLIENTS_HARD || (nclients >= CLIENTS_SOFT && cred.uid != 0)) {
			ctl_warn("%d connections open; refused uid %u (pid %d)", nclients,
			    (unsigned)cred.uid, (int)cred.pid);
			close(fd);
			continue;
		}
		if (cred.uid != 0 && uid_clients(cred.uid, 0) >= CLIENTS_PER_UID)
			refuse_busy(fd, &cred);
		else if (client_new(fd, &cred) == NULL)
			close(fd);
	}
}

/* Queue a reply the socket could not take now; -1 (and the client is dead)
 * if it has more waiting than it may. */
static int
out_queue(struct ctl_client *c, enum msg_type t, const void *d, size_t len, int fd)
{
	struct ctl_out *o;

	if (c->out_bytes + len > CTL_OUT_MAX || out_total + len > CTL_OUT_TOTAL ||
	    (o = malloc(sizeof(*o) + len)) == NULL) {
		ctl_warn("uid %u (pid %d) does not read its replies; dropped",
		    (unsigned)c->uid, (int)c->pid);
		c->dead = 1;
		return -1;
	}
	o->next = NULL;
	o->type = t;
	o->len = len;
	o->fd = -1;
	if (len > 0)
		memcpy(o->data, d, len);
	if (fd != -1 && (o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(o);
		c->dead = 1;
		return -1;
	}
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else {
		c->out_head = o;
		ev_mod(c->fd, EPOLLOUT | (c->closing ? 0 : EPOLLIN), c);
		c->deadline_ms = now_ms() + ctl_timeout_ms();
	}
	c->out_tail = o;
	c->out_bytes += len;
	out_total += len;
	return 0;
}

static int
reply_fd(struct ctl_client *c, enum msg_type t, const void *d, size_t len, int fd)
{
	if (c->dead)
		return -1;
	if (c->out_head == NULL) {
		if (msg_send(c->fd, t, d, len, fd) == 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			c->dead = 1;
			return -1;
		}
	}
	return out_queue(c, t, d, len, fd);
}

static int
reply(struct ctl_client *c, enum msg_type t, const void *d, size_t len)
{
	return reply_fd(c, t, d, len, -1);
}

/* The socket can take more: send what waits; an answered client goes. */
static void
out_flush(struct ctl_client *c)
{
	struct ctl_out *o;

	while ((o = c->out_head) != NULL) {
		if (msg_send(c->fd, o->type, o->data, o->len, o->fd) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_free(c);
			return;
		}
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		c->out_bytes -= o->len;
		out_total -= o->len;
		if (o->fd != -1)
			close(o->fd);
		free(o);
		c->deadline_ms = now_ms() + ctl_timeout_ms();
	}
	if (c->closing)
		client_free(c);
	else
		ev_mod(c->fd, EPOLLIN, c);
}

static void __attribute__((format(printf, 3, 4)))
done(struct ctl_client *c, int code, const char *fmt, ...)
{
	struct ctl_done	 d;
	va_list		 ap;

	/* Answered otherwise (a second, malformed request): its lookup ends. */
	if (c->proof != NULL)
		proof_cancel(c->proof);
	memset(&d, 0, sizeof(d));
	d.code = code;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(d.message, sizeof(d.message), fmt, ap);
		va_end(ap);
	}
	reply(c, MSG_CTL_DONE, &d, sizeof(d));
	if (c->dead || c->out_head == NULL) {
		client_free(c);
		return;
	}
	/* The rest goes as the client reads; nothing more is read from it. */
	c->closing = 1;
	ev_mod(c->fd, EPOLLOUT, c);
}

static void
text(struct ctl_client *c, const char *s)
{
	reply(c, MSG_CTL_TEXT, s, strlen(s));
}

/* ------------------------------------------------------------ who */

/* The login name of a uid: NSS_OK, NSS_NONE, or NSS_NOANSWER (nss.c). */
static int
login_name(uid_t uid, char *out, size_t outsz)
{
	return nss_name_of_uid(uid, out, outsz);
}

/*
 * The same, for display only (admin lists, the audit trail), cached a
 * minute, unanswered lookups too: a lookup may take up to nss.c's timeout,
 * and a list of many rows must not cost one lookup a row.  Decisions
 * (signup, admin add and remove) always ask afresh, once per request.
 */
#define NAME_CACHE	64
#define NAME_TTL_MS	60000

static void
display_name(uid_t uid, char *out, size_t outsz)
{
	static struct {
		uid_t		uid;
		char		name[CTL_USER_MAX + 1];
		uint64_t	until;
	}		 cache[NAME_CACHE];
	static unsigned	 next;
	uint64_t	 now = now_ms();
	unsigned	 i;

	for (i = 0; i < NAME_CACHE; i++)
		if (cache[i].until > now && cache[i].uid == uid) {
			snprintf(out, outsz, "%s", cache[i].name);
			return;
		}
	if (login_name(uid, out, outsz) != NSS_OK)
		out[0] = '\0';
	i = next++ % NAME_CACHE;
	cache[i].uid = uid;
	snprintf(cache[i].name, sizeof(cache[i].name), "%s", out);
	cache[i].until = now + NAME_TTL_MS;
}

/* A login user by name, or (allow_number) by a plain uid: NSS_OK, NSS_NONE
 * or NSS_NOANSWER. */
static int
login_uid(const char *user, int allow_number, uid_t *uid)
{
	uint64_t	v;
	int		rc;

	if (user[0] == '\0')
		return NSS_NONE;
	if ((rc = nss_uid_of_name(user, uid)) != NSS_NONE)
		return rc;
	if (allow_number && parse_uint(user, UINT32_MAX - 1, &v) == 0) {
		*uid = (uid_t)v;
		return NSS_OK;
	}
	return NSS_NONE;
}

static void
nss_slow(struct ctl_client *c)
{
	done(c, 1, "the user database did not answer in time; try again");
}

/* root, or an admin of the locker. */
static int
caller_may(const struct ctl_client *c, const char *locker)
{
	return c->uid == 0 || dir_admin_is(M->dir, locker, c->uid) == 1;
}

/* Every refusal for want of rights: one log line, one answer, exit 77. */
static void __attribute__((format(printf, 3, 4)))
refuse(struct ctl_client *c, const struct verb *v, const char *fmt, ...)
{
	char	why[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_info("control: uid %u (pid %d) refused %s: %s", (unsigned)c->uid, (int)c->pid,
	    v->name, why);
	done(c, 77, "permission denied: %s", why);
}

/* WHO_ADMIN: may the caller act for the locker the request is about?  1 yes,
 * 0 answered (no such locker, or refused). */
static int
admin_allowed(struct ctl_client *c, const struct verb *v)
{
	struct vhost_rec	old;
	char			host[HOSTNAME_MAX + 1];

	if (v->flags & VERB_BY_HOST) {
		/* Not a vhost (yet): the handler looks among the caller's claims. */
		if (route_canon_host(c->req.host, strlen(c->req.host), host,
		    sizeof(host)) == -1 || dir_vhost_get(M->dir, host, &old) != 1 ||
		    caller_may(c, old.locker))
			return 1;
		refuse(c, v, "you are not an admin of %s, which vhost %s belongs to",
		    old.locker, host);
		return 0;
	}
	if ((v->flags & VERB_ANY_ALL) && c->req.name[0] == '\0')
		return 1;
	/* Its existence is public (locker list): said before the refusal. */
	if (dir_locker_get(M->dir, c->req.name, &(struct locker_rec){ 0 }) != 1) {
		done(c, 1, "no locker named \"%s\"", c->req.name);
		return 0;
	}
	if (caller_may(c, c->req.name))
		return 1;
	refuse(c, v, "you are not an admin of %s", c->req.name);
	return 0;
}

/*
 * Who may run the verb (its row in verbs.c): checked here once, before its
 * handler runs, and again by a handler that answers later (a verify's DNS
 * answer), when the caller may have lost the right meanwhile.  1 yes, 0
 * answered.
 */
static int
verb_allowed(struct ctl_client *c, const struct verb *v)
{
	if (c->uid == 0)
		return 1;
	if (c->req.flags & v->root_flags) {
		refuse(c, v, "only root may %s", v->root_what);
		return 0;
	}
	switch (v->who) {
	case WHO_ANYONE:
		return 1;
	case WHO_LOGIN:
		/* A daemon's account signs up nothing (it would be the admin). */
		if (nss_is_login_uid(c->uid))
			return 1;
		refuse(c, v, "uid %u is a system account, not a login user",
		    (unsigned)c->uid);
		return 0;
	case WHO_ADMIN:
		return admin_allowed(c, v);
	case WHO_ROOT:
		break;
	}
	refuse(c, v, "only root may %s", v->root_what);
	return 0;
}

/* The locker named in the request (who may act for it is checked before). */
static int
locker_get(struct ctl_client *c, struct locker_rec *lr)
{
	if (dir_locker_get(M->dir, c->req.name, lr) != 1) {
		done(c, 1, "no locker named \"%s\"", c->req.name);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ records */

static int
count_vhost_cb(const struct vhost_rec *v, void *arg)
{
	(void)v;
	(*(uint32_t *)arg)++;
	return 0;
}

static void
send_locker(struct ctl_client *c, const struct locker_rec *lr)
{
	struct ctl_locker	 l;
	struct child		*w;

	memset(&l, 0, sizeof(l));
	memcpy(l.name, lr->name, sizeof(l.name));
	l.uid = lr->uid;
	l.gid = lr->gid;
	l.created = lr->created;
	if ((w = worker_find(lr->name)) != NULL)
		l.worker_pid = w->pid;
	dir_vhost_foreach(M->dir, lr->name, count_vhost_cb, &l.nvhosts);
	reply(c, MSG_CTL_LOCKER, &l, sizeof(l));
}

static int
list_cb(const struct locker_rec *lr, void *arg)
{
	send_locker(arg, lr);
	return 0;
}

static int
vhost_cb(const struct vhost_rec *v, void *arg)
{
	struct ctl_vhost vh;

	memset(&vh, 0, sizeof(vh));
	memcpy(vh.host, v->host, sizeof(vh.host));
	memcpy(vh.locker, v->locker, sizeof(vh.locker));
	memcpy(vh.subdir, v->subdir, sizeof(vh.subdir));
	reply(arg, MSG_CTL_VHOST, &vh, sizeof(vh));
	return 0;
}

/* ------------------------------------------------------------ signup */

/* ------------------------------------------------------------ per user */

/*
 * 1 if a login user's change may go on; 0 if over change-rate (answered).
 * A change (VERB_CHANGE) is whatever writes the directory and its audit
 * trail, and mostly pushes new routes to every front (verify: and asks the
 * DNS, in a child).
 */
static int
change_allowed(struct ctl_client *c, const struct verb *v)
{
	uint32_t retry = 1;

	if (c->uid == 0 || !(v->flags & VERB_CHANGE) ||
	    userlimit_take(c->uid, now_ms(), M->conf.change_rate, M->conf.change_burst,
	    &retry) == 0)
		return 1;
	ctl_warn("uid %u: over change-rate; refused", (unsigned)c->uid);
	done(c, 75, "too many changes: at most %u at once and %u a minute "
	    "(change-burst, change-rate); try again in %us", M->conf.change_burst,
	    M->conf.change_rate, retry);
	return 0;
}

/* 1 if this login user may sign up one more group locker (else answered). */
static int
group_count_ok(struct ctl_client *c, const char *login)
{
	int64_t n;

	if (c->uid == 0 || M->conf.max_group_lockers == 0)
		return 1;
	if ((n = dir_signups_by(M->dir, (uint32_t)c->uid, login)) == -1) {
		done(c, 1, "cannot count your group lockers; try again");
		return 0;
	}
	if (n < M->conf.max_group_lockers)
		return 1;
	done(c, 77, "permission denied: you have signed up %lld group lockers, the most "
	    "one user may here (max-group-lockers-per-user %u)", (long long)n,
	    M->conf.max_group_lockers);
	return 0;
}

/* group-signup: may this login user start a group locker?  1 yes, 0 no
 * (why says why). */
static int
group_signup_ok(const struct ctl_client *c, char *why, size_t whylen)
{
	switch (M->conf.group_signup) {
	case GROUP_SIGNUP_YES:
		return 1;
	case GROUP_SIGNUP_NO:
		snprintf(why, whylen, "group lockers are signed up by an administrator here");
		return 0;
	}
	switch (nss_in_group(c->uid, M->conf.group_signup_group)) {
	case NSS_OK:
		return 1;
	case NSS_NOGROUP:
		snprintf(why, whylen, "group-signup names group %s, which does not exist",
		    M->conf.group_signup_group);
		return 0;
	case NSS_NOANSWER:
		snprintf(why, whylen, "the user database did not answer in time; try again");
		return 0;
	}
	snprintf(why, whylen, "only members of group %s may sign up group lockers",
	    M->conf.group_signup_group);
	return 0;
}

static void
do_signup(struct ctl_client *c)
{
	struct locker_rec	 lr;
	char			 why[256], err[512], login[CTL_USER_MAX + 1];
	int64_t			 admin = -1;
	uid_t			 other;
	int			 rc;

	if (c->uid != 0) {
		if ((rc = login_name(c->uid, login, sizeof(login))) == NSS_NOANSWER) {
			nss_slow(c);
			return;
		}
		if (rc != NSS_OK) {
			done(c, 77, "permission denied: uid %u has no login name",
			    (unsigned)c->uid);
			return;
		}
		if (c->req.flags & CTL_F_GROUP) {
			if (!group_signup_ok(c, why, sizeof(why))) {
				done(c, 77, "permission denied: %s", why);
				return;
			}
			if (c->req.name[0] == '\0') {
				done(c, 2, "usage: locker signup --group NAME");
				return;
			}
			if (!group_count_ok(c, login))
				return;
			/* A user's login is their personal locker's name: not for a group. */
			if ((rc = login_uid(c->req.name, 0, &other)) == NSS_NOANSWER) {
				nss_slow(c);
				return;
			}
			if (rc == NSS_OK && other != c->uid) {
				done(c, 1, "\"%s\" is the login of another user; a group "
				    "locker cannot take it", c->req.name);
				return;
			}
		} else {
			if (!M->conf.self_signup) {
				done(c, 77, "permission denied: self-signup is off here; "
				    "ask an administrator for a locker");
				return;
			}
			if (c->req.name[0] != '\0' && strcmp(c->req.name, login) != 0) {
				done(c, 77, "permission denied: you may sign up only your "
				    "own locker, \"%s\" (or a group locker with --group)", login);
				return;
			}
			snprintf(c->req.name, sizeof(c->req.name), "%s", login);
		}
		admin = c->uid;
	} else if (c->req.name[0] == '\0') {
		done(c, 2, "usage: locker signup NAME (root names the locker)");
		return;
	}
	if (locker_name_check(c->req.name, why, sizeof(why)) == -1) {
		done(c, 2, "invalid locker name \"%s\": %s", c->req.name, why);
		return;
	}
	if (dir_locker_add_with_admin(M->dir, c->req.name, M->conf.uid_low, M->conf.uid_high,
	    admin, &lr, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	/* A new locker reads no log lines of an old one of the same name. */
	if (logs_clear_for_signup(lr.name, err, sizeof(err)) == -1) {
		dir_locker_remove(M->dir, lr.name, "", why, sizeof(why));
		done(c, 1, "%s", err);
		return;
	}
	if (home_make(&lr, why, sizeof(why)) == -1) {
		dir_locker_remove(M->dir, lr.name, "", err, sizeof(err));
		done(c, 1, "%s", why);
		return;
	}
	/* Counts of an old locker of the name still in flight from front. */
	stats_forget(lr.name);
	log_info("signup: locker %s, uid %u (by uid %u)", lr.name, lr.uid, (unsigned)c->uid);
	routes_push();
	send_locker(c, &lr);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ remove */

/* Every process of the locker goes before its home moves. */
static void
stop_locker_processes(const char *name)
{
	struct child *w;

	for (w = M->workers; w != NULL; w = w->next)
		if (strcmp(w->locker, name) == 0)
			worker_stop(w);
}

/* Its logs follow its home into the archive, tagged alike (logarchive.c). */
static void
retire_logs(const struct locker_rec *lr, const char *stamp)
{
	char tag[64], err[256];

	snprintf(tag, sizeof(tag), "%s.%u", stamp, lr->uid);
	if (logs_archive(lr->name, tag, err, sizeof(err)) == -1)
		log_warnx("remove %s: %s", lr->name, err);
}

static void
do_remove(struct ctl_client *c)
{
	struct locker_rec	 lr;
	char			 archive[PATH_MAX], err[PATH_MAX + 64], line[PATH_MAX + 64];
	char			 stamp[32];
	time_t			 now = time(NULL);
	struct tm		 tm;
	int			 purge = (c->req.flags & CTL_F_PURGE) != 0;
	int			 image = M->conf.disk_quota == DISK_QUOTA_IMAGE;

	if (locker_get(c, &lr) == -1)
		return;
	stop_locker_processes(lr.name);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (home_retire(&lr, stamp, purge, archive, sizeof(archive), err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	if (dir_locker_remove(M->dir, lr.name, archive, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	stats_forget(lr.name);		/* a new locker of the name counts from 0 */
	routes_push();
	retire_logs(&lr, stamp);
	log_info("remove: locker %s, %s %s %s", lr.name, image ? "image" : "home",
	    !purge ? "archived to" : image ? "deleted" : "purged from",
	    archive[0] ? archive : "(none)");
	if (purge && !image && archive[0] != '\0') {
		/* Emptied as the locker, in a child: control_task_done() answers. */
		if ((c->task = home_purge_start(&lr, archive, err, sizeof(err))) == NULL) {
			done(c, 1, "%s", err);
			return;
		}
		c->task->waiter = c;
		snprintf(c->req.subdir, sizeof(c->req.subdir), "%s", "purge");
		snprintf(c->req.argv, sizeof(c->req.argv), "%s", archive);
		return;
	}
	if (purge && image)
		snprintf(line, sizeof(line), "removed %s and purged its home", lr.name);
	else
		snprintf(line, sizeof(line), "removed %s; home archived to %s", lr.name,
		    archive[0] ? archive : "(it had none)");
	text(c, line);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ vhosts */

/*
 * A host outside the domain, asked for by an admin: a claim, pending until
 * the admin proves the name in the DNS (vhost.c), with what to publish.
 */
static void
vhost_claim(struct ctl_client *c, const struct locker_rec *lr, const char *host)
{
	struct vhost_claim	 cl;
	char			 token[VHOST_TOKEN_LEN + 1], rr[HOSTNAME_MAX + 32];
	char			 line[1024], err[512];

	if (vhost_token_new(token, sizeof(token)) == -1) {
		done(c, 1, "no randomness for a token; try again");
		return;
	}
	if (dir_vhost_claim(M->dir, host, lr->name, c->req.subdir, token, &cl, err,
	    sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	vhost_proof_name(host, rr, sizeof(rr));
	snprintf(line, sizeof(line), "%s is pending until you prove the name is yours: "
	    "publish this DNS record,\n  %s. IN TXT \"%s\"\nthen run: locker vhost "
	    "verify %s %s", host, rr, cl.token, lr->name, host);
	log_info("vhost claim: %s by %s", host, lr->name);
	text(c, line);
	done(c, 0, NULL);
}

/* root's --force: the host leaves the locker that had it. */
static int
vhost_take(struct ctl_client *c, const struct vhost_rec *old)
{
	char err[512];

	if (dir_vhost_remove(M->dir, old->host, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return -1;
	}
	log_info("vhost %s taken from %s (--force)", old->host, old->locker);
	return 0;
}

static void
do_vhost_add(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct vhost_rec	 old;
	char			 host[HOSTNAME_MAX + 1], why[256], err[512];
	int			 force = (c->req.flags & CTL_F_FORCE) != 0;

	if (route_canon_host(c->req.host, strlen(c->req.host), host, sizeof(host)) == -1 ||
	    strchr(c->req.host, ':') != NULL || strchr(host, '.') == NULL) {
		done(c, 2, "invalid host name \"%s\"", c->req.host);
		return;
	}
	if (locker_get(c, &lr) == -1)
		return;
	if (c->req.subdir[0] != '\0' && subdir_check(c->req.subdir, why, sizeof(why)) == -1) {
		done(c, 2, "invalid --path \"%s\": %s", c->req.subdir, why);
		return;
	}
	if (vhost_name_check(&M->conf, host, lr.name, why, sizeof(why)) == -1) {
		done(c, 1, "cannot add %s: %s", host, why);
		return;
	}
	if (dir_vhost_get(M->dir, host, &old) == 1) {
		if (!force || strcmp(old.locker, lr.name) == 0) {
			done(c, 1, "vhost %s already belongs to %s", host,
			    strcmp(old.locker, lr.name) == 0 ? "this locker" : "another locker");
			return;
		}
		if (vhost_take(c, &old) == -1)
			return;
	}
	/* root vouches for what it adds; a locker proves a name of the world. */
	if (c->uid != 0 && vhost_needs_proof(&M->conf, host)) {
		vhost_claim(c, &lr, host);
		return;
	}
	if (dir_vhost_add(M->dir, host, lr.name, c->req.subdir, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	log_info("vhost add: %s -> %s/%s", host, lr.name, c->req.subdir);
	routes_push();
	done(c, 0, NULL);
}

/*
 * What verify needs, before the DNS is asked and again once it answered
 * (the directory may have changed meanwhile: the host proved by another
 * locker, the claim withdrawn, the name a service host since a reload; the
 * caller no longer an admin is verb_allowed()'s): 0 with the claim, or -1
 * and answered.
 */
static int
verify_ready(struct ctl_client *c, char *host, size_t hostsz, struct locker_rec *lr,
    struct vhost_claim *cl)
{
	struct vhost_rec	old;
	char			why[256];

	if (route_canon_host(c->req.host, strlen(c->req.host), host, hostsz) == -1) {
		done(c, 2, "invalid host name \"%s\"", c->req.host);
		return -1;
	}
	if (locker_get(c, lr) == -1)
		return -1;
	if (dir_vhost_get(M->dir, host, &old) == 1) {
		done(c, strcmp(old.locker, lr->name) == 0 ? 0 : 1, "vhost %s already "
		    "belongs to %s", host, strcmp(old.locker, lr->name) == 0 ?
		    "this locker" : "another locker");
		return -1;
	}
	if (dir_vhost_claim_get(M->dir, host, lr->name, cl) != 1) {
		done(c, 1, "%s has no pending claim to %s (locker vhost add it first)",
		    lr->name, host);
		return -1;
	}
	/* The rules may have changed since the claim (a new hostname, say). */
	if (vhost_name_check(&M->conf, host, lr->name, why, sizeof(why)) == -1) {
		done(c, 1, "cannot add %s: %s", host, why);
		return -1;
	}
	return 0;
}

/*
 * `locker vhost verify NAME HOST`: is the claim's TXT record in the DNS?
 * The master does not wait for the answer (proof.c): control_proof_done()
 * completes the claim when it comes.
 */
static void
do_vhost_verify(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct vhost_claim	 cl;
	char			 host[HOSTNAME_MAX + 1], err[256];

	if (verify_ready(c, host, sizeof(host), &lr, &cl) == -1)
		return;
	if (proof_start(c, host, cl.token, err, sizeof(err)) == -1)
		done(c, 75, "%s", err);	/* EX_TEMPFAIL */
}

void
control_proof_done(struct ctl_client *c, const char *token, int answer)
{
	struct locker_rec	 lr;
	struct vhost_claim	 cl;
	char			 host[HOSTNAME_MAX + 1], rr[HOSTNAME_MAX + 32], err[512];

	dir_set_actor(M->dir, (uint32_t)c->uid);
	if (!verb_allowed(c, verb_by_id(CTL_VHOST_VERIFY)) ||
	    verify_ready(c, host, sizeof(host), &lr, &cl) == -1)
		return;
	if (strcmp(cl.token, token) != 0) {
		done(c, 1, "the claim to %s was made again while the DNS was asked; "
		    "run verify again", host);
		return;
	}
	vhost_proof_name(host, rr, sizeof(rr));
	switch (answer) {
	case VHOST_PROOF_NOANSWER:
		done(c, 1, "the DNS gave no answer for %s; try again", rr);
		return;
	case VHOST_PROOF_NO:
		done(c, 1, "no TXT record \"%s\" at %s (yet?)", cl.token, rr);
		return;
	}
	if (dir_vhost_add(M->dir, host, lr.name, cl.subdir, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	log_info("vhost add: %s -> %s/%s (proved in the DNS)", host, lr.name, cl.subdir);
	routes_push();
	done(c, 0, NULL);
}

static void
do_vhost_remove(struct ctl_client *c)
{
	struct vhost_rec	old;
	char			host[HOSTNAME_MAX + 1], err[512];
	int			rc;

	if (route_canon_host(c->req.host, strlen(c->req.host), host, sizeof(host)) == -1) {
		done(c, 2, "invalid host name \"%s\"", c->req.host);
		return;
	}
	if ((rc = dir_vhost_get(M->dir, host, &old)) != 1) {
		/* Not a vhost: a pending claim of the caller's lockers, perhaps. */
		if ((rc = dir_vhost_unclaim(M->dir, host, (uint32_t)c->uid, err,
		    sizeof(err))) == -1) {
			done(c, 1, "%s", err);
			return;
		}
		if (rc > 0) {
			done(c, 0, NULL);
			return;
		}
		/* Not "no vhost": whether another's claim exists is not theirs to learn. */
		if (c->uid != 0) {
			done(c, 77, "permission denied: %s is not a vhost of a locker "
			    "you are an admin of", host);
			return;
		}
		done(c, 1, "no vhost %s", host);
		return;
	}
	if ((rc = dir_vhost_remove(M->dir, host, err, sizeof(err))) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	if (rc == 0) {
		done(c, 1, "no vhost %s", host);
		return;
	}
	log_info("vhost remove: %s", host);
	routes_push();
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ run, su */

struct run_ctx {
	struct sandbox_spec	 spec;
	char			 home[PATH_MAX];
	struct ctl_client	*c;
};

/*
 * In a child: the CLI's stdio, the locker's sandbox, then the command (or,
 * for a `locker su` without one, a login shell).  A su session gets a
 * session of its own; when its stdin is a terminal (a pty the CLI made and
 * relays: never the user's own terminal, which a locker's process could
 * otherwise keep and type into after su ends), that terminal becomes the
 * session's controlling terminal, so job control, ^C and ^Z work.
 */
static int
run_prepare(void *arg)
{
	struct run_ctx	*r = arg;
	char		*argv[CTL_MAX_ARGV + 1], *envp[8], env[7][PATH_MAX + 16];
	char		 err[256];
	const char	*prog;
	size_t		 off = 0;
	uint32_t	 i, n = 0;
	int		 su = r->c->req.verb == CTL_SU;

	for (i = 0; i < 3; i++)
		if (dup2(r->c->stdio[i], (int)i) == -1)
			_exit(127);
	if (su) {
		if (setsid() == -1)
			_exit(127);
		/* 0: never steal a terminal that is another session's. */
		if ((r->c->req.flags & CTL_F_TTY) && isatty(0) && ioctl(0, TIOCSCTTY, 0) == -1)
			dprintf(2, "locker: no job control: %s\n", strerror(errno));
	}
	if (sandbox_enter(&r->spec, err, sizeof(err)) == -1) {
		dprintf(2, "locker: sandbox: %s\n", err);
		_exit(127);
	}
	for (i = 0; i < r->c->req.argc; i++) {
		argv[i] = r->c->req.argv + off;
		off += strlen(argv[i]) + 1;
	}
	argv[i] = NULL;
	prog = argv[0];
	if (r->c->req.argc == 0) {
		/* A login shell: "-bash", as login(1) starts it. */
		argv[0] = "-bash";
		argv[1] = NULL;
		prog = "/bin/bash";
	}
	snprintf(env[n++], sizeof(env[0]), "HOME=%s", r->spec.home);
	snprintf(env[n++], sizeof(env[0]), "USER=%s", r->spec.locker);
	snprintf(env[n++], sizeof(env[0]), "LOGNAME=%s", r->spec.locker);
	snprintf(env[n++], sizeof(env[0]), "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(env[n++], sizeof(env[0]), "SHELL=/bin/bash");
	snprintf(env[n++], sizeof(env[0]), "LANG=C.UTF-8");
	if (su && (r->c->req.flags & CTL_F_TTY))
		snprintf(env[n++], sizeof(env[0]), "TERM=%s",
		    r->c->req.term[0] ? r->c->req.term : "dumb");
	for (i = 0; i < n; i++)
		envp[i] = env[i];
	envp[i] = NULL;
	execvpe(prog, argv, envp);
	dprintf(2, "locker: %s: %s\n", prog, strerror(errno));
	_exit(127);
}

/* Check the packed argv of CTL_RUN and CTL_SU: argc strings, inside the buffer. */
static int
run_argv_ok(const struct ctl_request *r)
{
	size_t		off = 0;
	uint32_t	i;

	if ((r->argc == 0 && r->verb != CTL_SU) || r->argc > CTL_MAX_ARGV)
		return 0;
	for (i = 0; i < r->argc; i++) {
		const char *nul = memchr(r->argv + off, '\0', sizeof(r->argv) - off);

		if (nul == NULL)
			return 0;
		off = (size_t)(nul - r->argv) + 1;
		if (off >= sizeof(r->argv) && i + 1 < r->argc)
			return 0;
	}
	/* TERM goes into the environment: printable, no '='-tricks needed. */
	if (memchr(r->term, '\0', sizeof(r->term)) == NULL || !str_is_printable(r->term))
		return 0;
	return 1;
}

/*
 * What the audit trail says of a su or run: the program and how many
 * arguments it had ("mysql +3 args"), never the arguments.  Every admin of
 * the locker reads the trail, and passwords get typed on command lines
 * (mysql -pSECRET, htpasswd -b); the command itself says what kind of
 * thing was done, which is what the trail is for.
 */
static void
argv_summary(const struct ctl_request *r, char *out, size_t outsz)
{
	uint32_t n;

	if (r->argc == 0) {
		snprintf(out, outsz, "(shell)");
		return;
	}
	n = r->argc - 1;
	if (n == 0)
		snprintf(out, outsz, "%.200s", r->argv);
	else
		snprintf(out, outsz, "%.200s +%u arg%s", r->argv, (unsigned)n,
		    n == 1 ? "" : "s");
}

static void
do_run(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct run_ctx		 r;
	char			 what[256], err[256];

	if (locker_get(c, &lr) == -1)
		return;
	argv_summary(&c->req, what, sizeof(what));
	if (dir_audit(M->dir, c->req.verb == CTL_SU ? "su" : "run", lr.name, what, err,
	    sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	memset(&r, 0, sizeof(r));
	locker_home(lr.name, r.home, sizeof(r.home));
	r.spec.conf = locker_conf(lr.name, lr.uid);	/* copied at clone */
	r.spec.locker = lr.name;
	r.spec.home = r.home;
	r.spec.uid = lr.uid;
	r.spec.gid = lr.gid;
	r.c = c;
	if ((c->task = task_spawn(&lr, run_prepare, &r, c->stdio, 3)) == NULL) {
		done(c, 1, "cannot start a process");
		return;
	}
	c->task->waiter = c;
	if (c->req.verb == CTL_SU)
		log_info("su: uid %u into %s: %s", (unsigned)c->uid, lr.name, what);
	for (int i = 0; i < 3; i++) {
		close(c->stdio[i]);
		c->stdio[i] = -1;
	}
}

/* A process a client waited for has ended. */
void
control_task_done(struct ctl_client *c, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	c->task = NULL;
	if (strcmp(c->req.subdir, "purge") == 0 && c->req.verb == CTL_REMOVE) {
		char line[PATH_MAX + 64];

		if (home_purge_done(c->req.argv, code) == -1) {
			done(c, 1, "purge of %s incomplete; what is left stays there",
			    c->req.argv);
			return;
		}
		snprintf(line, sizeof(line), "removed %s and purged its home", c->req.name);
		text(c, line);
		done(c, 0, NULL);
		return;
	}
	done(c, code, NULL);
}

/* ------------------------------------------------------------ admins */

struct admin_send {
	struct ctl_client	*c;
	int			 n;
};

static int
admin_cb(const struct admin_rec *a, void *arg)
{
	struct admin_send	*as = arg;
	struct ctl_admin	 m;

	memset(&m, 0, sizeof(m));
	memcpy(m.locker, a->locker, sizeof(m.locker));
	m.uid = a->uid;
	m.added = a->added;
	display_name(a->uid, m.user, sizeof(m.user));
	reply(as->c, MSG_CTL_ADMIN, &m, sizeof(m));
	as->n++;
	return 0;
}

/*
 * Only a login user administers a locker: not a locker's uid, and not a
 * system account (root, a daemon, nobody), which anyone able to subvert
 * that daemon could then act through.  1 (and answered) if refused.
 */
static int
admin_candidate_refused(struct ctl_client *c, uid_t uid)
{
	if (uid >= M->conf.uid_low && uid <= M->conf.uid_high) {
		done(c, 1, "%s is a locker's uid, not a login user", c->req.user);
		return 1;
	}
	if (!nss_is_login_uid(uid)) {
		done(c, 1, "%s (uid %u) is a system account, not a login user (login "
		    "users have uids from %u)", c->req.user, (unsigned)uid,
		    (unsigned)nss_login_uid_min());
		return 1;
	}
	return 0;
}

static void
do_admin(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct admin_send	 as = { .c = c };
	char			 err[512];
	uid_t			 uid;
	int			 rc, add;

	if (locker_get(c, &lr) == -1)
		return;
	if (c->req.verb == CTL_ADMIN_LIST) {
		dir_admin_foreach(M->dir, lr.name, admin_cb, &as);
		done(c, 0, NULL);
		return;
	}
	/* A user who is gone can still be removed by the uid `admin list` shows. */
	if ((rc = login_uid(c->req.user, c->req.verb == CTL_ADMIN_REMOVE, &uid)) == NSS_NOANSWER) {
		nss_slow(c);
		return;
	}
	if (rc != NSS_OK) {
		done(c, 1, "no login user named \"%s\"", c->req.user);
		return;
	}
	add = c->req.verb == CTL_ADMIN_ADD;
	if (add && admin_candidate_refused(c, uid))
		return;
	rc = add ? dir_admin_add(M->dir, lr.name, uid, err, sizeof(err)) :
	    dir_admin_remove(M->dir, lr.name, uid, err, sizeof(err));
	if (rc == -1) {
		done(c, 1, "%s", err);
		return;
	}
	if (rc == 0) {
		done(c, !add, add ? "%s is already an admin of %s" : "%s is not an admin of %s",
		    c->req.user, lr.name);
		return;
	}
	log_info("admin %s: %s (uid %u) %s %s, by uid %u", add ? "add" : "remove",
	    c->req.user, (unsigned)uid, add ? "to" : "from", lr.name, (unsigned)c->uid);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ logs */

/*
 * <logs>/lockers/NAME/WHICH.log, read-only, for the CLI to read itself.
 * The log directory belongs to logd, which is less trusted than we are:
 * no symlink is followed anywhere, and only a plain file with one link is
 * handed out, so a compromised logd cannot make us open another file.
 * -1 error (in err), -2 no such log yet.
 */
static int
log_open(const char *locker, const char *which, char *err, size_t errlen)
{
	const int	 dflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	struct stat	 st;
	char		 file[32];
	int		 logs, dir = -1, sub = -1, fd = -1, rc = -1;

	snprintf(file, sizeof(file), "%s.log", which);
	if ((logs = open(M->conf.logs, dflags)) == -1 ||
	    (dir = openat(logs, "lockers", dflags)) == -1 ||
	    (sub = openat(dir, locker, dflags)) == -1 ||
	    (fd = openat(sub, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			rc = -2;
		else
			snprintf(err, errlen, "cannot open the %s log of %s: %s", which, locker,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		log_warnx("logs: %s/lockers/%s/%s is not a plain file; not handed out",
		    M->conf.logs, locker, file);
		snprintf(err, errlen, "the %s log of %s is not a plain file", which, locker);
		close(fd);
		fd = -1;
		goto out;
	}
	rc = fd;
out:
	if (logs != -1)
		close(logs);
	if (dir != -1)
		close(dir);
	if (sub != -1)
		close(sub);
	return rc;
}

static void
do_logs(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct ctl_log		 m;
	char			 err[512];
	int			 fd;

	if (locker_get(c, &lr) == -1)
		return;
	memset(&m, 0, sizeof(m));
	memcpy(m.locker, lr.name, sizeof(m.locker));
	snprintf(m.which, sizeof(m.which), "%s", (c->req.flags & CTL_F_ERROR) ? "error" :
	    "access");
	if ((fd = log_open(lr.name, m.which, err, sizeof(err))) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	/* No file yet: no descriptor; a --follow asks again. */
	reply_fd(c, MSG_CTL_LOG, &m, sizeof(m), fd >= 0 ? fd : -1);
	if (fd >= 0)
		close(fd);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ status */

/* Memory, CPU time, age and name of a process, from /proc/PID/stat. */
static int
proc_fill(struct ctl_proc *p, pid_t pid)
{
	static long	 hz, page_kb;
	static double	 up;
	static uint64_t	 up_at;
	char		 path[64], buf[1024], *s, *tok, *save = NULL;
	uint64_t	 utime = 0, stime = 0, start = 0, rss = 0;
	ssize_t		 n;
	int		 fd, k;
	FILE		*f;

	if (hz == 0) {
		hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
		page_kb = sysconf(_SC_PAGESIZE) / 1024;
	}
	p->pid = (int32_t)pid;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((s = strchr(buf, '(')) != NULL && (tok = strrchr(buf, ')')) != NULL && tok > s) {
		snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(tok - s - 1), s + 1);
		s = tok + 1;
	} else
		return -1;
	/* Fields from 3 (state): utime 14, stime 15, starttime 22, rss 24. */
	for (k = 3, tok = strtok_r(s, " ", &save); tok != NULL;
	    k++, tok = strtok_r(NULL, " ", &save)) {
		if (k == 14)
			utime = strtoull(tok, NULL, 10);
		else if (k == 15)
			stime = strtoull(tok, NULL, 10);
		else if (k == 22)
			start = strtoull(tok, NULL, 10);
		else if (k == 24) {
			rss = strtoull(tok, NULL, 10);
			break;
		}
	}
	p->cpu_ms = (utime + stime) * 1000 / (uint64_t)hz;
	p->rss_kb = rss * (uint64_t)page_kb;
	/* One read of the uptime per status, not one per process shown. */
	if (up_at == 0 || now_ms() - up_at > 100) {
		up = 0;
		if ((f = fopen("/proc/uptime", "re")) != NULL) {
			if (fscanf(f, "%lf", &up) != 1)
				up = 0;
			fclose(f);
		}
		up_at = now_ms();
	}
	if (up * 1000 > (double)(start * 1000 / (uint64_t)hz))
		p->uptime_ms = (uint64_t)(up * 1000) - start * 1000 / (uint64_t)hz;
	return 0;
}

static void
send_proc(struct ctl_client *c, pid_t pid, const char *role, const char *locker,
    uint32_t uid, uint32_t restarts, const struct stats_total *served)
{
	struct ctl_proc p;

	memset(&p, 0, sizeof(p));
	if (proc_fill(&p, pid) == -1)
		return;
	snprintf(p.role, sizeof(p.role), "%s", role);
	snprintf(p.locker, sizeof(p.locker), "%s", locker ? locker : "");
	p.uid = uid;
	p.restarts = restarts;
	if (served != NULL) {
		p.requests = served->requests;
		p.errors_4xx = served->errors_4xx;
		p.errors_5xx = served->errors_5xx;
	}
	reply(c, MSG_CTL_PROC, &p, sizeof(p));
}

static int
send_stats_cb(const char *locker, const struct stats_total *t, void *arg)
{
	struct ctl_stats m;

	memset(&m, 0, sizeof(m));
	snprintf(m.locker, sizeof(m.locker), "%s", locker);
	m.requests = t->requests;
	m.errors_4xx = t->errors_4xx;
	m.errors_5xx = t->errors_5xx;
	reply(arg, MSG_CTL_STATS, &m, sizeof(m));
	return 0;
}

/* A locker's requests and errors, as the fronts counted them (stats.c). */
static void
send_locker_stats(struct ctl_client *c, const char *locker)
{
	struct stats_total t;

	stats_locker(locker, &t);
	send_stats_cb(locker, &t, c);
}

/*
 * The lockers whose processes one `locker status` shows, by uid: every
 * process running as a locker's uid is exactly that locker's (its worker,
 * its scripts, su sessions and whatever they started), so one pass over
 * /proc finds them all, however many lockers the caller administers.
 */
struct status_set {
	struct status_locker {
		uint32_t	uid;
		char		name[LOCKER_NAME_MAX + 1];
	}		*v;
	size_t		 n, cap;
};

static void
status_set_add(struct status_set *s, const struct locker_rec *lr)
{
	struct status_locker *v;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		if ((v = reallocarray(s->v, cap, sizeof(*v))) == NULL)
			return;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].uid = lr->uid;
	snprintf(s->v[s->n].name, sizeof(s->v[s->n].name), "%s", lr->name);
	s->n++;
}

static int
status_uid_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct status_locker *)a)->uid;
	uint32_t y = ((const struct status_locker *)b)->uid;

	return x < y ? -1 : x > y;
}

/* The role of one of a locker's processes: the master started it, or not
 * (looked up by the locker's name, not in a walk of every child). */
static const char *
status_role(pid_t pid, const char *locker)
{
	struct child *w = locker_child(locker, pid);

	if (w == NULL)
		return "process";
	return w->role == ROLE_WORKER ? "worker" : "task";
}

/* Every process of the lockers in s, in one walk over /proc. */
static void
send_set_procs_walk(struct ctl_client *c, struct status_set *s)
{
	struct status_locker	 key, *l;
	struct dirent		*e;
	struct stat		 st;
	DIR			*d;
	pid_t			 pid;

	if (s->n == 0 || (d = opendir("/proc")) == NULL)
		return;
	qsort(s->v, s->n, sizeof(*s->v), status_uid_cmp);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    fstatat(dirfd(d), e->d_name, &st, 0) == -1)
			continue;
		key.uid = st.st_uid;
		if ((l = bsearch(&key, s->v, s->n, sizeof(*s->v), status_uid_cmp)) == NULL)
			continue;
		pid = (pid_t)atoi(e->d_name);
		send_proc(c, pid, status_role(pid, l->name), l->name, l->uid, 0, NULL);
	}
	closedir(d);
}

struct status_cg {
	struct ctl_client		*c;
	const struct status_locker	*l;
};

static void
status_cg_cb(pid_t pid, void *arg)
{
	struct status_cg *x = arg;

	send_proc(x->c, pid, status_role(pid, x->l->name), x->l->name, x->l->uid, 0, NULL);
}

/*
 * Every process of the lockers in s: from each one's cgroup (a file of
 * its own pids; none at all for a locker with no process), or, where
 * there are no cgroups, in one walk over /proc.
 */
static void
send_set_procs(struct ctl_client *c, struct status_set *s)
{
	struct status_cg	x = { .c = c };
	size_t			i;

	for (i = 0; i < s->n; i++) {
		x.l = &s->v[i];
		if (cgroup_procs(x.l->name, x.l->uid, status_cg_cb, &x) == -1) {
			if (i == 0)
				send_set_procs_walk(c, s);
			return;
		}
	}
}

static void
send_locker_procs(struct ctl_client *c, const struct locker_rec *lr)
{
	struct status_set s = { 0 };

	status_set_add(&s, lr);
	send_set_procs(c, &s);
	free(s.v);
}

static int
status_admin_cb(const struct admin_rec *a, void *arg)
{
	struct locker_rec lr;

	if (dir_locker_get(M->dir, a->locker, &lr) == 1)
		status_set_add(arg, &lr);
	return 0;
}

/* After every process: the CLI prints the lockers' counts as a table of
 * their own. */
static int
stats_admin_cb(const struct admin_rec *a, void *arg)
{
	send_locker_stats(arg, a->locker);
	return 0;
}

static void
do_status(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct stats_total	 all;
	struct child		*w;
	int			 i;

	if (c->req.name[0] != '\0') {
		if (locker_get(c, &lr) == -1)
			return;
		send_locker_procs(c, &lr);
		send_locker_stats(c, lr.name);
		done(c, 0, NULL);
		return;
	}
	if (c->uid != 0) {
		/* Everything of every locker the caller administers. */
		struct status_set set = { 0 };

		dir_admin_foreach_uid(M->dir, c->uid, status_admin_cb, &set);
		send_set_procs(c, &set);
		free(set.v);
		dir_admin_foreach_uid(M->dir, c->uid, stats_admin_cb, c);
		done(c, 0, NULL);
		return;
	}
	memset(&all, 0, sizeof(all));
	for (i = 0; i < M->nfronts; i++) {
		all.requests += M->fronts[i].served.requests;
		all.errors_4xx += M->fronts[i].served.errors_4xx;
		all.errors_5xx += M->fronts[i].served.errors_5xx;
	}
	send_proc(c, getpid(), "master", NULL, 0, 0, &all);
	for (i = 0; i < M->nfronts; i++)
		if (M->fronts[i].pid > 0)
			send_proc(c, M->fronts[i].pid, "front", NULL, 0, M->fronts[i].restarts,
			    &M->fronts[i].served);
	if (M->logd.pid > 0)
		send_proc(c, M->logd.pid, "logd", NULL, 0, M->logd.restarts, NULL);
	for (w = M->workers; w != NULL; w = w->next)
		if (w->pid > 0)
			send_proc(c, w->pid, w->role == ROLE_WORKER ? "worker" : "task", w->locker,
			    w->uid, 0, NULL);
	stats_foreach(send_stats_cb, c);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ audit */

/* The newest rows at most: the whole trail of a big site would not fit
 * in one client's reply queue. */
#define AUDIT_ROWS_MAX	5000

static int
audit_cb(const struct audit_rec *a, void *arg)
{
	struct ctl_audit m;

	memset(&m, 0, sizeof(m));
	m.id = a->id;
	m.at = a->at;
	m.uid = a->who;
	if (a->who == 0)
		snprintf(m.user, sizeof(m.user), "root");
	else
		display_name(a->who, m.user, sizeof(m.user));
	snprintf(m.action, sizeof(m.action), "%s", a->action);
	snprintf(m.locker, sizeof(m.locker), "%s", a->locker);
	snprintf(m.detail, sizeof(m.detail), "%s", a->detail);
	return reply(arg, MSG_CTL_AUDIT, &m, sizeof(m)) == -1 ? -1 : 0;
}

static int
audit_admin_cb(const struct admin_rec *a, void *arg)
{
	dir_audit_foreach_last(M->dir, a->locker, AUDIT_ROWS_MAX, audit_cb, arg);
	return 0;
}

/*
 * Who changed what, when: root sees every row (or one locker's); an admin
 * the rows of a locker they administer, or without a name, of each of
 * theirs.  Rows of a removed locker are root's to read.
 */
static void
do_audit(struct ctl_client *c)
{
	if (c->req.name[0] != '\0') {
		dir_audit_foreach_last(M->dir, c->req.name, AUDIT_ROWS_MAX, audit_cb, c);
	} else if (c->uid == 0)
		dir_audit_foreach_last(M->dir, NULL, AUDIT_ROWS_MAX, audit_cb, c);
	else
		dir_admin_foreach_uid(M->dir, c->uid, audit_admin_cb, c);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ limits */

/* Bytes of a locker's error logs (logd's, rotated ones included), by their size. */
static int64_t
errlog_bytes(const char *name)
{
	char		path[PATH_MAX];
	struct stat	st;
	int64_t		total = 0;
	int		g;

	for (g = 0; g <= LOG_GENERATIONS; g++) {
		snprintf(path, sizeof(path), g ? "%s/lockers/%s/error.log.%d" :
		    "%s/lockers/%s/error.log", M->conf.logs, name, g);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_size;
	}
	return total;
}

/* What the locker uses of the limit named key now, or -1. */
static int64_t
limit_use(const struct locker_rec *lr, const char *key, const struct config *lc)
{
	int64_t	mem, procs, cpu, used, limit;

	if (strcmp(key, "disk-limit") == 0) {
		quota_usage(lc, lr->name, &used, &limit);
		return used;
	}
	if (strcmp(key, "log-rate") == 0) {	/* bytes dropped since lockerd started */
		struct stats_total t;

		stats_locker(lr->name, &t);
		return (int64_t)t.log_dropped;
	}
	if (strcmp(key, "log-size") == 0)
		return errlog_bytes(lr->name);
	cgroup_usage(lr->name, lr->uid, &mem, &procs, &cpu);
	if (strcmp(key, "memory-limit") == 0)
		return mem;
	if (strcmp(key, "process-limit") == 0)
		return procs;
	if (strcmp(key, "cpu-shares") == 0)
		return cpu;
	return -1;
}

/* `locker info`, to root and admins: each limit, whose it is, and its use. */
static void
send_limits(struct ctl_client *c, const struct locker_rec *lr)
{
	const struct config	*lc = locker_conf(lr->name, lr->uid);
	const uint64_t		*own = locker_own(lr->name, lr->uid);
	struct ctl_limit	 l;
	int			 i;

	for (i = 0; i < LIMIT_N; i++) {
		memset(&l, 0, sizeof(l));
		snprintf(l.key, sizeof(l.key), "%s", config_limit_name((enum limit)i));
		l.value = config_limit_get(lc, (enum limit)i);
		l.is_override = own[i] != LIMIT_DEFAULT;
		l.use = limit_use(lr, l.key, lc);
		reply(c, MSG_CTL_LIMIT, &l, sizeof(l));
	}
}

/* The request's packed arguments: exactly n of them, in out. */
static int
limit_args(const struct ctl_request *r, const char **out, uint32_t n)
{
	size_t		off = 0;
	uint32_t	i;

	if (r->argc != n)
		return -1;
	for (i = 0; i < n; i++) {
		const char *nul = memchr(r->argv + off, '\0', sizeof(r->argv) - off);

		if (nul == NULL || !str_is_printable(r->argv + off))
			return -1;
		out[i] = r->argv + off;
		off = (size_t)(nul - r->argv) + 1;
		if (off >= sizeof(r->argv) && i + 1 < n)
			return -1;
	}
	return 0;
}

/* A running locker gets its new limits at once where the kernel allows. */
static void
limit_apply_live(const struct locker_rec *lr)
{
	struct child	*w;
	int		 running = 0;

	for (w = M->workers; w != NULL; w = w->next)
		if (strcmp(w->locker, lr->name) == 0 && w->pid > 0) {
			running = 1;
			if (w->role == ROLE_WORKER)
				worker_send_config(w);
		}
	if (running)
		sandbox_prepare(locker_conf(lr->name, lr->uid), lr->name, lr->uid);
	fronts_send_limits(lr->name);
	logd_send_limits(lr->name);
}

/* locker quota NAME SIZE|none|default, locker limit NAME KEY VALUE|none|default */
static void
do_limit(struct ctl_client *c)
{
	struct locker_rec	 lr;
	const char		*a[2], *key, *val;
	char			 err[PATH_MAX + 200];
	uint64_t		 v = 0;
	int			 dflt, later;

	if (limit_args(&c->req, a, c->req.verb == CTL_QUOTA ? 1 : 2) == -1) {
		done(c, 2, "malformed request");
		return;
	}
	key = c->req.verb == CTL_QUOTA ? "disk-limit" : a[0];
	val = c->req.verb == CTL_QUOTA ? a[0] : a[1];
	if (dir_locker_get(M->dir, c->req.name, &lr) != 1) {
		done(c, 1, "no locker named \"%s\"", c->req.name);
		return;
	}
	if (config_limit_parse(key, val, &v, err, sizeof(err)) == -1) {
		done(c, 2, "%s", err);
		return;
	}
	dflt = v == LIMIT_DEFAULT;
	if (strcmp(key, "disk-limit") == 0) {
		if (M->conf.disk_quota == DISK_QUOTA_NONE) {
			done(c, 1, "no disk quotas here: lockerd's configuration has "
			    "disk-quota none");
			return;
		}
		if (dflt)
			v = M->conf.disk_limit;
		if ((later = quota_set(&M->conf, lr.name, v, err, sizeof(err))) == -1) {
			done(c, 1, "%s", err);
			return;
		}
		if (later == QUOTA_LATER)
			text(c, err);
	}
	if (dir_limit_set(M->dir, lr.name, key, dflt ? -1 : (int64_t)v, err,
	    sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	locker_conf_forget();
	v = config_limit_get(locker_conf(lr.name, lr.uid), (enum limit)config_limit_key(key));
	log_info("limit: %s of %s = %llu%s (by uid %u)", key, lr.name, (unsigned long long)v,
	    dflt ? " (the default)" : "", (unsigned)c->uid);
	if (strcmp(key, "disk-limit") != 0)
		limit_apply_live(&lr);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ dispatch */

static int
req_strings_ok(const struct ctl_request *r)
{
	return memchr(r->name, '\0', sizeof(r->name)) != NULL &&
	    memchr(r->host, '\0', sizeof(r->host)) != NULL &&
	    memchr(r->subdir, '\0', sizeof(r->subdir)) != NULL &&
	    memchr(r->user, '\0', sizeof(r->user)) != NULL &&
	    memchr(r->term, '\0', sizeof(r->term)) != NULL;
}

static void
do_list(struct ctl_client *c)
{
	dir_locker_foreach(M->dir, list_cb, c);
	done(c, 0, NULL);
}

/* Anyone may ask; only root and its admins see its admins and limits. */
static void
do_info(struct ctl_client *c)
{
	struct locker_rec lr;

	if (locker_get(c, &lr) == -1)
		return;
	send_locker(c, &lr);
	dir_vhost_foreach(M->dir, lr.name, vhost_cb, c);
	if (caller_may(c, lr.name)) {
		struct admin_send as = { .c = c };

		dir_admin_foreach(M->dir, lr.name, admin_cb, &as);
		send_limits(c, &lr);
	}
	done(c, 0, NULL);
}

static void
do_vhost_list(struct ctl_client *c)
{
	dir_vhost_foreach(M->dir, c->req.name[0] ? c->req.name : NULL, vhost_cb, c);
	done(c, 0, NULL);
}

/* Each verb's handler; who may run it is the table's (verbs.c). */
static void (*const handlers[])(struct ctl_client *) = {
	[CTL_SIGNUP] = do_signup,
	[CTL_LIST] = do_list,
	[CTL_INFO] = do_info,
	[CTL_REMOVE] = do_remove,
	[CTL_VHOST_ADD] = do_vhost_add,
	[CTL_VHOST_VERIFY] = do_vhost_verify,
	[CTL_VHOST_REMOVE] = do_vhost_remove,
	[CTL_VHOST_LIST] = do_vhost_list,
	[CTL_RUN] = do_run,
	[CTL_SU] = do_run,
	[CTL_ADMIN_ADD] = do_admin,
	[CTL_ADMIN_REMOVE] = do_admin,
	[CTL_ADMIN_LIST] = do_admin,
	[CTL_LOGS] = do_logs,
	[CTL_STATUS] = do_status,
	[CTL_AUDIT] = do_audit,
	[CTL_QUOTA] = do_limit,
	[CTL_LIMIT] = do_limit,
};

/* Every row of the table has its handler: a verb added to verbs.c alone
 * would be an "unknown request" to everyone; lockerd does not start. */
static int
verbs_handled(void)
{
	const struct verb *v;

	for (v = verbs; v->name != NULL; v++)
		if ((size_t)v->id >= sizeof(handlers) / sizeof(handlers[0]) ||
		    handlers[v->id] == NULL) {
			log_warnx("control: the verb %s has no handler", v->name);
			return 0;
		}
	return 1;
}

/* A request (and a su's or run's stdio) is in: rate, rights, then the verb. */
static void
dispatch(struct ctl_client *c)
{
	const struct verb *v = verb_by_id(c->req.verb);

	if (v == NULL || v->id >= sizeof(handlers) / sizeof(handlers[0]) ||
	    handlers[v->id] == NULL) {
		done(c, 2, "unknown request %u", c->req.verb);
		return;
	}
	if (!change_allowed(c, v))
		return;
	dir_set_actor(M->dir, (uint32_t)c->uid);
	if (!verb_allowed(c, v))
		return;
	handlers[v->id](c);
}

/*
 * A message msg_rules[] or its contents refuse: logged by msg_breach() (a
 * CLI's breach closes its connection), answered with what, closed.  It
 * never does more than close that one connection.
 */
static void
malformed(struct ctl_client *c, unsigned type, const char *why, const char *what)
{
	char	 who[64];

	snprintf(who, sizeof(who), "uid %u (pid %d)", (unsigned)c->uid, (int)c->pid);
	if (msg_breach(MR_MASTER, MR_CLI, who, type, why) == MSG_ACT_CLOSE)
		done(c, 2, "%s", what);
}

static void
control_read(struct ctl_client *c)
{
	union {
		struct ctl_request	req;
		uint32_t		version;
		char			buf[sizeof(struct ctl_request) + 1];
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	n = msg_recv_checked(c->fd, MR_MASTER, MR_CLI, &type, &m, sizeof(m), &fd, &why);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n == MSG_BREACH) {
		malformed(c, type, why, "malformed message");
		return;
	}
	if (n == -1 || type == MSG_NONE) {
		if (c->task != NULL && c->task->pid > 0) {
			/* The CLI went away: so does what it started. */
			if (c->req.verb == CTL_SU)
				kill(-c->task->pid, SIGKILL);
			kill(c->task->pid, SIGKILL);
		}
		client_free(c);
		return;
	}
	/* msg_rules[]: a request without a descriptor, stdio with one. */
	if (c->want_stdio > 0 && type == MSG_CTL_STDIO) {
		c->stdio[3 - c->want_stdio] = fd;
		if (--c->want_stdio == 0)
			dispatch(c);
		return;
	}
	if (fd != -1)
		close(fd);
	if (c->req.verb != 0 || type != MSG_CTL_REQUEST) {
		malformed(c, type, "comes out of turn", "malformed request");
		return;
	}
	if (m.version != CTL_VERSION) {
		malformed(c, type, "is of another version", "protocol mismatch: this locker "
		    "command and the running lockerd are of different versions");
		return;
	}
	if ((size_t)n != sizeof(m.req) || !req_strings_ok(&m.req) || m.req.verb == 0) {
		malformed(c, type, "is of the wrong size, or a string lacks its NUL",
		    "malformed request");
		return;
	}
	c->req = m.req;
	if (verb_by_id(c->req.verb) != NULL &&
	    (verb_by_id(c->req.verb)->flags & VERB_STDIO)) {
		/* The CLI sends its stdio next: take them before any answer, or
		 * closing on unread descriptors resets the connection. */
		if (!run_argv_ok(&c->req)) {
			done(c, 2, "malformed command");
			return;
		}
		c->want_stdio = 3;
		return;
	}
	dispatch(c);
}

void
control_event(struct ctl_client *c, uint32_t events)
{
	if (c->kind != EV_CONTROL_CLIENT)
		return;		/* closed earlier in this round */
	if (c->refused) {
		drain(c->fd);
		if (events & (EPOLLHUP | EPOLLERR))
			client_free(c);
		return;
	}
	if (events & EPOLLOUT)
		out_flush(c);
	if (c->kind != EV_CONTROL_CLIENT)
		return;
	if (c->closing) {
		if (events & (EPOLLHUP | EPOLLERR))
			client_free(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		control_read(c);
}

/*
 * A client that has sent no request, or reads no reply, for
 * control-timeout is closed.  One waiting for its su or run does not time
 * out: the process it started may rightly run for days; nor one waiting
 * for its verify's DNS lookup (dns-timeout bounds that).
 */
void
control_timeouts(void)
{
	static uint64_t		 last;
	struct ctl_client	*c, *next;
	uint64_t		 now = now_ms();

	if (now - last < 100)
		return;
	last = now;
	for (c = clients; c != NULL; c = next) {
		next = c->next;
		if (c->task != NULL || c->proof != NULL || c->deadline_ms == 0 ||
		    now < c->deadline_ms)
			continue;
		if (c->refused) {
			client_free(c);
			continue;
		}
		ctl_warn("uid %u (pid %d) %s for %us; closed", (unsigned)c->uid, (int)c->pid,
		    c->out_head != NULL ? "read none of its replies" : "sent no request",
		    M->conf.control_timeout);
		if (c->out_head == NULL && !c->closing)
			done(c, 2, "timed out: no request within %us", M->conf.control_timeout);
		else
			client_free(c);
	}
}
