/*
 * control.c: the master's end of the control socket that `locker` talks to.
 *
 * Requests are fixed-size structs; the master knows who is asking from
 * SO_PEERCRED.  root may do anything; others may only look, for now.
 * Changes to the directory are pushed to the fronts at once.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "directory.h"

static const char *home_subdirs[] = {
	"web_scripts", "cron_scripts", "mail_scripts", "tmp", NULL
};

int
control_open(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

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

static void
client_free(struct ctl_client *c)
{
	int i;

	ev_del(c->fd);
	close(c->fd);
	for (i = 0; i < 3; i++)
		if (c->stdio[i] != -1)
			close(c->stdio[i]);
	if (c->task != NULL)
		c->task->waiter = NULL;
	free(c);
}

void
control_accept(void)
{
	struct ctl_client	*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	struct timeval		 tv = { .tv_sec = 5 };
	int			 fd;

	while ((fd = accept4(M->control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) != -1) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		/* Replies are written blocking, but a client that stalls is dropped. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c->kind = EV_CONTROL_CLIENT;
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->stdio[0] = c->stdio[1] = c->stdio[2] = -1;
		ev_add(fd, c);
	}
}

static int
reply(struct ctl_client *c, enum msg_type t, const void *d, size_t len)
{
	int fl = 0;

	/* Blocking with SO_SNDTIMEO: a long list must not be cut short. */
	(void)fl;
	return msg_send(c->fd, t, d, len, -1);
}

static void __attribute__((format(printf, 3, 4)))
done(struct ctl_client *c, int code, const char *fmt, ...)
{
	struct ctl_done	 d;
	va_list		 ap;

	memset(&d, 0, sizeof(d));
	d.code = code;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(d.message, sizeof(d.message), fmt, ap);
		va_end(ap);
	}
	reply(c, MSG_CTL_DONE, &d, sizeof(d));
	client_free(c);
}

static void
text(struct ctl_client *c, const char *s)
{
	reply(c, MSG_CTL_TEXT, s, strlen(s));
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

/* Remove what a failed signup created; the tree is still empty. */
static void
home_unmake(int lockers_fd, const char *name)
{
	int i, home;

	if ((home = openat(lockers_fd, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		for (i = 0; home_subdirs[i] != NULL; i++)
			unlinkat(home, home_subdirs[i], AT_REMOVEDIR);
		close(home);
	}
	unlinkat(lockers_fd, name, AT_REMOVEDIR);
}

/*
 * Create the home and its subdirectories, owned by the locker, mode 0700,
 * without ever following a symlink.
 */
static int
home_make(const struct locker_rec *lr, char *err, size_t errlen)
{
	int lockers, home = -1, i, rc = -1;

	if ((lockers = open(M->conf.lockers, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", M->conf.lockers, strerror(errno));
		return -1;
	}
	if (mkdirat(lockers, lr->name, 0700) == -1) {
		snprintf(err, errlen, "create home %s/%s: %s", M->conf.lockers, lr->name,
		    errno == EEXIST ? "it already exists (archive or remove it first)" :
		    strerror(errno));
		close(lockers);
		return -1;
	}
	if ((home = openat(lockers, lr->name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fchown(home, lr->uid, lr->gid) == -1 || fchmod(home, 0700) == -1)
		goto fail;
	for (i = 0; home_subdirs[i] != NULL; i++)
		if (mkdirat(home, home_subdirs[i], 0700) == -1 ||
		    fchownat(home, home_subdirs[i], lr->uid, lr->gid, AT_SYMLINK_NOFOLLOW) == -1)
			goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "create home %s/%s: %s", M->conf.lockers, lr->name,
	    strerror(errno));
	home_unmake(lockers, lr->name);
out:
	if (home != -1)
		close(home);
	close(lockers);
	return rc;
}

static void
do_signup(struct ctl_client *c)
{
	struct locker_rec	 lr;
	char			 why[256], err[512];

	if (locker_name_check(c->req.name, why, sizeof(why)) == -1)
		return done(c, 2, "invalid locker name \"%s\": %s", c->req.name, why);
	if (dir_locker_add(M->dir, c->req.name, M->conf.uid_low, M->conf.uid_high, &lr,
	    err, sizeof(err)) == -1)
		return done(c, 1, "%s", err);
	if (home_make(&lr, why, sizeof(why)) == -1) {
		dir_locker_remove(M->dir, lr.name, "", err, sizeof(err));
		return done(c, 1, "%s", why);
	}
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

/* Delete a tree below dirfd without following any symlink. */
static int
purge_tree(int dirfd)
{
	DIR		*d;
	struct dirent	*e;
	int		 rc = 0;

	if ((d = fdopendir(dirfd)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		int sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM)
			rc = -1;
		sub = openat(dirfd, e->d_name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub == -1) {
			rc = -1;
			continue;
		}
		/* A directory the locker made unwritable is still its own. */
		fchmod(sub, 0700);
		if (purge_tree(sub) == -1)
			rc = -1;
		if (unlinkat(dirfd, e->d_name, AT_REMOVEDIR) == -1)
			rc = -1;
	}
	closedir(d);
	return rc;
}

struct purge_ctx {
	int		home_fd;
	uint32_t	uid, gid;
};

/* In a child: become the locker, so the purge can only delete what it owns. */
static int
purge_prepare(void *arg)
{
	struct purge_ctx *p = arg;

	if (setgroups(0, NULL) == -1 || setresgid(p->gid, p->gid, p->gid) == -1 ||
	    setresuid(p->uid, p->uid, p->uid) == -1)
		_exit(1);
	_exit(purge_tree(p->home_fd) == 0 ? 0 : 1);
}

static void
do_remove(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct purge_ctx	 pc;
	char			 home[PATH_MAX], archive[PATH_MAX], err[512];
	time_t			 now = time(NULL);
	struct tm		 tm;
	char			 stamp[32];
	int			 n;

	if (dir_locker_get(M->dir, c->req.name, &lr) != 1)
		return done(c, 1, "no locker named \"%s\"", c->req.name);
	stop_locker_processes(lr.name);
	locker_home(lr.name, home, sizeof(home));
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* rename(2) is atomic: the home is either in place or archived, whole. */
	for (n = 0; n < 100; n++) {
		if (n == 0)
			snprintf(archive, sizeof(archive), "%s/.archive/%s.%s.%u",
			    M->conf.lockers, lr.name, stamp, lr.uid);
		else
			snprintf(archive, sizeof(archive), "%s/.archive/%s.%s.%u.%d",
			    M->conf.lockers, lr.name, stamp, lr.uid, n);
		if (renameat2(AT_FDCWD, home, AT_FDCWD, archive, RENAME_NOREPLACE) == 0)
			break;
		if (errno == ENOENT) {
			archive[0] = '\0';	/* no home left: nothing to keep */
			break;
		}
		if (errno != EEXIST)
			return done(c, 1, "archive %s: %s", home, strerror(errno));
	}
	if (dir_locker_remove(M->dir, lr.name, archive, err, sizeof(err)) == -1)
		return done(c, 1, "%s", err);
	routes_push();
	log_info("remove: locker %s, home %s %s", lr.name,
	    (c->req.flags & CTL_F_PURGE) ? "purged from" : "archived to",
	    archive[0] ? archive : "(none)");
	if (!(c->req.flags & CTL_F_PURGE) || archive[0] == '\0') {
		char line[PATH_MAX + 64];

		snprintf(line, sizeof(line), "removed %s; home archived to %s", lr.name,
		    archive[0] ? archive : "(it had none)");
		text(c, line);
		return done(c, 0, NULL);
	}
	pc.uid = lr.uid;
	pc.gid = lr.gid;
	if ((pc.home_fd = open(archive, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return done(c, 1, "purge %s: %s", archive, strerror(errno));
	set_cloexec(pc.home_fd, 0);
	c->task = task_spawn(&lr, purge_prepare, &pc);
	close(pc.home_fd);
	if (c->task == NULL)
		return done(c, 1, "purge: cannot fork");
	c->task->waiter = c;
	snprintf(c->req.subdir, sizeof(c->req.subdir), "%s", "purge");
	snprintf(c->req.argv, sizeof(c->req.argv), "%s", archive);
}

/* ------------------------------------------------------------ vhosts */

/* A name under the domain is a locker's own: only that locker may map it. */
static int
vhost_owner_ok(const char *host, const char *locker, char *why, size_t whylen)
{
	size_t	hl = strlen(host), dl = strlen(M->conf.domain);
	int	i;

	for (i = 0; i < M->conf.nhostnames; i++)
		if (strcmp(host, M->conf.hostnames[i]) == 0)
			goto service;
	if (strcmp(host, M->conf.domain) == 0)
		goto service;
	if (hl > dl + 1 && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, M->conf.domain) == 0) {
		/* x.domain is locker x; a.b.domain belongs to locker b. */
		const char *end = host + hl - dl - 1, *start = end;

		while (start > host && start[-1] != '.')
			start--;
		if (start == host) {
			snprintf(why, whylen, "%s is the address of locker \"%.*s\"", host,
			    (int)(end - start), start);
			return -1;
		}
		if ((size_t)(end - start) != strlen(locker) ||
		    strncmp(start, locker, (size_t)(end - start)) != 0) {
			snprintf(why, whylen, "%s is under locker \"%.*s\"'s name", host,
			    (int)(end - start), start);
			return -1;
		}
	}
	return 0;
service:
	snprintf(why, whylen, "%s is a service host name", host);
	return -1;
}

static void
do_vhost_add(struct ctl_client *c)
{
	struct locker_rec	 lr;
	char			 host[HOSTNAME_MAX + 1], why[256], err[512];

	if (route_canon_host(c->req.host, strlen(c->req.host), host, sizeof(host)) == -1 ||
	    strchr(c->req.host, ':') != NULL || strchr(host, '.') == NULL)
		return done(c, 2, "invalid host name \"%s\"", c->req.host);
	if (dir_locker_get(M->dir, c->req.name, &lr) != 1)
		return done(c, 1, "no locker named \"%s\"", c->req.name);
	if (c->req.subdir[0] != '\0' && subdir_check(c->req.subdir, why, sizeof(why)) == -1)
		return done(c, 2, "invalid --path \"%s\": %s", c->req.subdir, why);
	if (vhost_owner_ok(host, lr.name, why, sizeof(why)) == -1)
		return done(c, 1, "cannot add %s: %s", host, why);
	if (dir_vhost_add(M->dir, host, lr.name, c->req.subdir, err, sizeof(err)) == -1)
		return done(c, 1, "%s", err);
	log_info("vhost add: %s -> %s/%s", host, lr.name, c->req.subdir);
	routes_push();
	done(c, 0, NULL);
}

static void
do_vhost_remove(struct ctl_client *c)
{
	char	host[HOSTNAME_MAX + 1], err[512];
	int	rc;

	if (route_canon_host(c->req.host, strlen(c->req.host), host, sizeof(host)) == -1)
		return done(c, 2, "invalid host name \"%s\"", c->req.host);
	if ((rc = dir_vhost_remove(M->dir, host, err, sizeof(err))) == -1)
		return done(c, 1, "%s", err);
	if (rc == 0)
		return done(c, 1, "no vhost %s", host);
	log_info("vhost remove: %s", host);
	routes_push();
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ run */

struct run_ctx {
	struct sandbox_spec	 spec;
	char			 home[PATH_MAX];
	struct ctl_client	*c;
};

/* In a child: the locker's sandbox, the CLI's stdio, then the command. */
static int
run_prepare(void *arg)
{
	struct run_ctx	*r = arg;
	char		*argv[CTL_MAX_ARGV + 1], *envp[8], env[6][PATH_MAX + 16];
	char		 err[256];
	size_t		 off = 0;
	uint32_t	 i;

	for (i = 0; i < 3; i++)
		if (dup2(r->c->stdio[i], (int)i) == -1)
			_exit(127);
	if (sandbox_enter(&r->spec, err, sizeof(err)) == -1) {
		dprintf(2, "locker: sandbox: %s\n", err);
		_exit(127);
	}
	for (i = 0; i < r->c->req.argc; i++) {
		argv[i] = r->c->req.argv + off;
		off += strlen(argv[i]) + 1;
	}
	argv[i] = NULL;
	snprintf(env[0], sizeof(env[0]), "HOME=%s", r->spec.home);
	snprintf(env[1], sizeof(env[1]), "USER=%s", r->spec.locker);
	snprintf(env[2], sizeof(env[2]), "LOGNAME=%s", r->spec.locker);
	snprintf(env[3], sizeof(env[3]), "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(env[4], sizeof(env[4]), "SHELL=/bin/bash");
	snprintf(env[5], sizeof(env[5]), "LANG=C.UTF-8");
	for (i = 0; i < 6; i++)
		envp[i] = env[i];
	envp[i] = NULL;
	execvpe(argv[0], argv, envp);
	dprintf(2, "locker: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Check the packed argv of CTL_RUN: argc strings, inside the buffer. */
static int
run_argv_ok(const struct ctl_request *r)
{
	size_t		off = 0;
	uint32_t	i;

	if (r->argc == 0 || r->argc > CTL_MAX_ARGV)
		return 0;
	for (i = 0; i < r->argc; i++) {
		const char *nul = memchr(r->argv + off, '\0', sizeof(r->argv) - off);

		if (nul == NULL)
			return 0;
		off = (size_t)(nul - r->argv) + 1;
		if (off >= sizeof(r->argv) && i + 1 < r->argc)
			return 0;
	}
	return 1;
}

static void
do_run(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct run_ctx		 r;

	if (dir_locker_get(M->dir, c->req.name, &lr) != 1)
		return done(c, 1, "no locker named \"%s\"", c->req.name);
	memset(&r, 0, sizeof(r));
	locker_home(lr.name, r.home, sizeof(r.home));
	r.spec.conf = &M->conf;
	r.spec.locker = lr.name;
	r.spec.home = r.home;
	r.spec.uid = lr.uid;
	r.spec.gid = lr.gid;
	r.c = c;
	if ((c->task = task_spawn(&lr, run_prepare, &r)) == NULL)
		return done(c, 1, "cannot start a process");
	c->task->waiter = c;
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

		if (code != 0 || rmdir(c->req.argv) == -1)
			return done(c, 1, "purge of %s incomplete; what is left stays there",
			    c->req.argv);
		snprintf(line, sizeof(line), "removed %s and purged its home", c->req.name);
		text(c, line);
		return done(c, 0, NULL);
	}
	done(c, code, NULL);
}

/* ------------------------------------------------------------ dispatch */

static int
req_strings_ok(const struct ctl_request *r)
{
	return memchr(r->name, '\0', sizeof(r->name)) != NULL &&
	    memchr(r->host, '\0', sizeof(r->host)) != NULL &&
	    memchr(r->subdir, '\0', sizeof(r->subdir)) != NULL;
}

static void
dispatch(struct ctl_client *c)
{
	struct locker_rec	lr;
	int			root = c->uid == 0;

	switch (c->req.verb) {
	case CTL_LIST:
		dir_locker_foreach(M->dir, list_cb, c);
		return done(c, 0, NULL);
	case CTL_INFO:
		if (dir_locker_get(M->dir, c->req.name, &lr) != 1)
			return done(c, 1, "no locker named \"%s\"", c->req.name);
		send_locker(c, &lr);
		dir_vhost_foreach(M->dir, lr.name, vhost_cb, c);
		return done(c, 0, NULL);
	case CTL_VHOST_LIST:
		dir_vhost_foreach(M->dir, c->req.name[0] ? c->req.name : NULL, vhost_cb, c);
		return done(c, 0, NULL);
	default:
		break;
	}
	if (!root)
		return done(c, 77, "permission denied: only root may do that (for now)");
	switch (c->req.verb) {
	case CTL_SIGNUP:
		return do_signup(c);
	case CTL_REMOVE:
		return do_remove(c);
	case CTL_VHOST_ADD:
		return do_vhost_add(c);
	case CTL_VHOST_REMOVE:
		return do_vhost_remove(c);
	case CTL_RUN:
		return do_run(c);
	default:
		return done(c, 2, "unknown request %u", c->req.verb);
	}
}

void
control_read(struct ctl_client *c)
{
	union {
		struct ctl_request	req;
		char			buf[sizeof(struct ctl_request) + 1];
	} m;
	enum msg_type	 type;
	ssize_t		 n;
	int		 fd;

	n = msg_recv(c->fd, &type, &m, sizeof(m), &fd);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n == -1 || type == MSG_NONE) {
		if (fd != -1)
			close(fd);
		if (c->task != NULL && c->task->pid > 0)
			kill(c->task->pid, SIGKILL);	/* the CLI went away */
		client_free(c);
		return;
	}
	if (c->want_stdio > 0 && type == MSG_CTL_STDIO && n == 0 && fd != -1) {
		c->stdio[3 - c->want_stdio] = fd;
		if (--c->want_stdio == 0)
			do_run(c);
		return;
	}
	if (fd != -1)
		close(fd);
	if (c->req.verb != 0 || type != MSG_CTL_REQUEST || (size_t)n != sizeof(m.req) ||
	    !req_strings_ok(&m.req)) {
		done(c, 2, "malformed request");
		return;
	}
	c->req = m.req;
	if (c->req.verb == CTL_RUN) {
		if (c->uid != 0)
			return done(c, 77, "permission denied: only root may do that (for now)");
		if (!run_argv_ok(&c->req))
			return done(c, 2, "malformed command");
		c->want_stdio = 3;
		return;
	}
	dispatch(c);
}
