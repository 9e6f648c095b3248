/*
 * ctl_status.c: what the master shows of a locker without changing it: its
 * logs (a read-only descriptor the CLI reads itself), its processes and
 * counts (`locker status`), and the audit trail.  Read-only, so apart from
 * the verbs that change things.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "hesiod.h"

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

void
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
	snprintf(m.which, sizeof(m.which), "%s", c->req.verb == CTL_CRON_LOG ? "cron" :
	    (c->req.flags & CTL_F_ERROR) ? "error" : "access");
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

/* Root's status: how a storm of cold starts stands (startq.c). */
static void
starts_line(struct ctl_client *c)
{
	char line[160];

	snprintf(line, sizeof(line), "worker starts: %u starting (max-worker-starts %u), "
	    "%zu queued (worker-start-queue %u)", startq_starting(), M->conf.max_worker_starts,
	    startq_waiting(), M->conf.worker_start_queue);
	text(c, line);
}

void
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
		cert_warnings(c, lr.name);
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
		cert_warnings(c, NULL);
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
	if (M->keyd.pid > 0)
		send_proc(c, M->keyd.pid, "keyd", NULL, 0, M->keyd.restarts, NULL);
	if (M->acme.pid > 0)
		send_proc(c, M->acme.pid, "acme", NULL, 0, M->acme.restarts, NULL);
	if (hesiod_child()->pid > 0)
		send_proc(c, hesiod_child()->pid, "hesiod", NULL, 0, hesiod_child()->restarts,
		    NULL);
	if (spawner_running() > 0)
		send_proc(c, spawner_running(), "spawner", NULL, 0, 0, NULL);
	for (w = M->workers; w != NULL; w = w->next)
		if (w->pid > 0)
			send_proc(c, w->pid, w->role == ROLE_WORKER ? "worker" : "task", w->locker,
			    w->uid, 0, NULL);
	stats_foreach(send_stats_cb, c);
	status_nodes(c);
	starts_line(c);
	cert_warnings(c, NULL);
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
void
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
