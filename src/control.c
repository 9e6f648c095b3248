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
 *
 * The verbs' handlers live in ctl_*.c, one file per kind of job (ctl.h
 * lists them and what this file lends them); this file is the socket, its
 * clients and their queues, "who", the dispatch and the timeouts.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "directory.h"
#include "verbs.h"
#include "ctl.h"

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
	sql_cancel(c);
	sql_job_free(c);
	app_client_gone(c);
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

int
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

int
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

void __attribute__((format(printf, 3, 4)))
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

void
text(struct ctl_client *c, const char *s)
{
	reply(c, MSG_CTL_TEXT, s, strlen(s));
}

/* ------------------------------------------------------------ who */

/* The login name of a uid: NSS_OK, NSS_NONE, or NSS_NOANSWER (nss.c). */
int
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

void
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
int
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

void
nss_slow(struct ctl_client *c)
{
	done(c, 1, "the user database did not answer in time; try again");
}

/* root, or an admin of the locker. */
int
caller_may(const struct ctl_client *c, const char *locker)
{
	return c->uid == 0 || dir_admin_is(M->dir, locker, c->uid) == 1;
}

/*
 * Refusals are worth a line each (who tried what), but any local user can
 * cause them in a loop: REFUSALS_BURST lines at once, then one a second,
 * for all users together; the lines not written are counted in the next.
 */
#define REFUSALS_RATE	1
#define REFUSALS_BURST	64

/* Every refusal for want of rights: one log line, one answer, exit 77. */
static void __attribute__((format(printf, 3, 4)))
refuse(struct ctl_client *c, const struct verb *v, const char *fmt, ...)
{
	static struct rate_bucket	 b = { REFUSALS_BURST, 0 };
	static unsigned			 quiet;
	char				 why[512];
	va_list				 ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (bucket_take(&b, REFUSALS_RATE, REFUSALS_BURST, now_ms(), 1)) {
		if (quiet)
			log_info("control: %u refusals not logged", quiet);
		log_info("control: uid %u (pid %d) refused %s: %s", (unsigned)c->uid,
		    (int)c->pid, v->name, why);
		quiet = 0;
	} else
		quiet++;
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
int
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
int
locker_get(struct ctl_client *c, struct locker_rec *lr)
{
	if (dir_locker_get(M->dir, c->req.name, lr) != 1) {
		done(c, 1, "no locker named \"%s\"", c->req.name);
		return -1;
	}
	return 0;
}

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
	[CTL_CERT_LIST] = do_cert,
	[CTL_CERT_STATUS] = do_cert,
	[CTL_SQL_SIGNUP] = do_sql,
	[CTL_SQL_CREATE] = do_sql,
	[CTL_SQL_DROP] = do_sql,
	[CTL_SQL_LIST] = do_sql,
	[CTL_SQL_PASSWORD] = do_sql,
	[CTL_SQL_DUMP] = do_sql,
	[CTL_MAIL_STATUS] = do_mail,
	[CTL_MAIL_BLOCK] = do_mail,
	[CTL_MAIL_UNBLOCK] = do_mail,
	[CTL_MAIL_TEST] = do_mail,
	[CTL_MAIL_NO_PROGRAM] = do_mail,
	[CTL_MAIL_VHOST] = do_mail,
	[CTL_CRON_STATUS] = do_cron,
	[CTL_CRON_LIST] = do_cron,
	[CTL_CRON_RUN] = do_cron,
	[CTL_CRON_LOG] = do_cron,
	[CTL_CRON_RELOAD] = do_cron,
	[CTL_APP_INSTALL] = do_app,
	[CTL_APP_INSTALLS] = do_app,
	[CTL_APP_UPGRADE] = do_app,
	[CTL_APP_ROLLBACK] = do_app,
	[CTL_EXPORT_HESIOD] = do_export_hesiod,
	[CTL_NODE_DRAIN] = do_node,
	[CTL_NODE_UNDRAIN] = do_node,
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
		if (c->task != NULL || c->proof != NULL || c->sql != NULL || c->app_job != NULL ||
		    c->deadline_ms == 0 || now < c->deadline_ms)
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
