/*
 * cron.c: the cron scheduler, in the master.
 *
 * The master parses nothing a locker wrote.  It notices that a crontab
 * changed from its metadata alone: once a cron minute (each locker at its
 * own offset in it, as its jobs) it opens
 * <home>/cron_scripts/crontab with O_PATH and O_NOFOLLOW at every step
 * (nothing is read; a symlink is seen as one, never followed) and
 * compares inode, size, mtime and ctime with those of the crontab it last
 * compiled or refused.  A change starts a compile task as the locker, in
 * its sandbox (cron_task.c), whose struct cron_sched comes back on a
 * channel of its own, is checked again (msg_rules[], cron_sched_check())
 * and kept in the directory (cron_dir.c).  A crontab with an error keeps
 * the previous schedule; the error is the locker's status, a line of its
 * cron log, and mailed (mail_notice()).  `locker cron reload` compiles at
 * once.
 *
 * Time: minute ticks of a clock that is the wall clock, or with
 * cron-minute below 60 s a faster one (for the tests) started at the
 * wall clock's time.  Each locker's minute begins at its own offset
 * within the minute, a hash of its name (Athena's desync), so thousands
 * of `* * * * *` do not start in the same second; @hourly, @daily,
 * @weekly, @monthly and @yearly run at a minute of their period picked by
 * the same hash (cron_spread()).  @reboot runs once per start of lockerd,
 * at each locker's first minute.  Minutes missed while the master was
 * busy are run late, up to CRON_CATCH_UP of them; a longer gap is skipped.
 *
 * A job still running when its entry is due again is not started twice
 * (the cron log says so); one past its time limit (cron-job-timeout, the
 * locker's own by `locker limit`) is killed with its pid namespace.
 *
 * Several machines (a fleet): crontabs are looked at, compiled and their
 * jobs run only on the node that holds the directory's `cron` lease
 * (lease.c): a TTL of one cron minute (at least 3 s), renewed every third
 * of it, so a dead holder's lease is taken over within a minute.  The
 * others keep their minutes moving without running anything; a node that
 * becomes the holder first reads every schedule again from its copy of
 * the directory (the holder before it wrote them there), and runs
 * @reboot entries then: cron has started on it.  A minute the old holder
 * may or may not have run when it died is not run again (at most once).
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cron.h"
#include "lease.h"
#include "master.h"

#define CRON_CATCH_UP		5	/* minutes run late at most */
#define CRON_COMPILE_TIMEOUT_MS	10000
#define CRON_TICK_MS		100
#define CRON_STAMP_MAX		129

struct cron_run {
	struct child	*task;
	int		 outfd;		/* the job's output, for its mail; -1 */
	uint64_t	 deadline_ms;
	int		 timed_out;
	int64_t		 last_start;
	int32_t		 last_status;
	uint32_t	 runs, skipped;
};

struct cron_locker {
	char		 name[LOCKER_NAME_MAX + 1];
	/* The locker's uid as the directory last said (0: not yet).  A name
	 * removed and signed up again is a new locker: nothing of the old
	 * one's schedule may run as it (forget()). */
	uint32_t	 uid;
	uint32_t	 compile_uid;
	uint32_t	 hash;
	struct cron_sched *sched;	/* in effect (spread); NULL: none */
	char		 stamp[CRON_STAMP_MAX];	/* of the crontab last compiled or refused */
	char		 error[CRON_ERR_MAX];
	int64_t		 compiled;
	int64_t		 last_minute;	/* 0: not yet */
	int		 seen;		/* in the directory at the last walk */
	int		 reboot_pending;
	struct child	*compile;
	int		 compile_chan;
	char		 compile_stamp[CRON_STAMP_MAX];
	uint64_t	 compile_deadline;
	unsigned	 nrunning;
	struct cron_run	 run[CRON_ENTRIES_MAX];
	struct cron_locker *next;
};

static struct {
	struct cron_locker *all;
	int		 started;
	int64_t		 boot_wall_ms;
	uint64_t	 boot_mono_ms;
	uint64_t	 next_tick_ms, next_check_ms, next_lease_ms;
	int		 lease_ours;	/* as the last tick saw it (lease_mine()) */
	unsigned	 ntasks;
} C;

/* ------------------------------------------------------------ notes */

/* A line of the master's own in the locker's cron log. */
static void
note(const struct cron_locker *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
note(const struct cron_locker *L, const char *fmt, ...)
{
	char	buf[1 + LOCKER_NAME_MAX + 512];
	size_t	nl = strlen(L->name);
	va_list	ap;
	int	n;

	buf[0] = (char)nl;
	memcpy(buf + 1, L->name, nl);
	va_start(ap, fmt);
	n = vsnprintf(buf + 1 + nl, sizeof(buf) - 1 - nl, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(buf) - 1 - nl)
		n = (int)(sizeof(buf) - 2 - nl);
	if (M->logd.pid > 0 && M->logd.chan != -1)
		child_send(&M->logd, MSG_LOG_CRON, buf, 1 + nl + (size_t)n, -1);
}

struct rcpt_ctx {
	char	*out;
	size_t	 outsz;
};

static int
admin_rcpt(const struct admin_rec *a, void *arg)
{
	struct rcpt_ctx	*r = arg;
	char		 user[64];
	size_t		 n = strlen(r->out);

	if (nss_name_of_uid(a->uid, user, sizeof(user)) == NSS_OK)
		snprintf(r->out + n, r->outsz - n, "%s%s", n ? "," : "", user);
	return 0;
}

/* MAILTO's addresses, or the locker's admins' (login names: local mail). */
static void
mail_rcpts(const struct cron_locker *L, char *out, size_t outsz)
{
	const char	*to = L->sched != NULL ? cron_sched_var(L->sched, "MAILTO") : NULL;
	struct rcpt_ctx	 r = { out, outsz };

	out[0] = '\0';
	if (to != NULL) {
		snprintf(out, outsz, "%s", to);
		return;
	}
	dir_admin_foreach(M->dir, L->name, admin_rcpt, &r);
}

/* ------------------------------------------------------------ lockers */

static struct cron_locker *
find(const char *name)
{
	struct cron_locker *L;

	for (L = C.all; L != NULL; L = L->next)
		if (strcmp(L->name, name) == 0)
			return L;
	return NULL;
}

static struct cron_locker *
find_or_add(const char *name)
{
	struct cron_locker	*L;
	int			 i;

	if ((L = find(name)) != NULL)
		return L;
	if ((L = calloc(1, sizeof(*L))) == NULL)
		return NULL;
	snprintf(L->name, sizeof(L->name), "%s", name);
	L->hash = cron_name_hash(name);
	L->compile_chan = -1;
	L->reboot_pending = 1;
	for (i = 0; i < CRON_ENTRIES_MAX; i++) {
		L->run[i].outfd = -1;
		L->run[i].last_status = CRON_NEVER;
	}
	L->next = C.all;
	C.all = L;
	return L;
}

/* The schedule in effect: s (checked), spread by the locker's hash. */
static int
sched_set(struct cron_locker *L, const struct cron_sched *s)
{
	struct cron_sched	*n = NULL;
	unsigned		 i;

	if (s != NULL) {
		if ((n = malloc(sizeof(*n))) == NULL)
			return -1;
		memcpy(n, s, sizeof(*n));
		for (i = 0; i < n->nentries; i++)
			cron_spread(&n->e[i], L->hash);
	}
	free(L->sched);
	L->sched = n;
	return 0;
}

static int
load_row(const struct cron_row *r, void *arg)
{
	struct cron_locker *L = find_or_add(r->locker);

	(void)arg;
	if (L == NULL)
		return 0;
	sched_set(L, r->sched);
	snprintf(L->stamp, sizeof(L->stamp), "%s", r->stamp);
	snprintf(L->error, sizeof(L->error), "%s", r->error);
	L->compiled = r->compiled;
	return 0;
}

static void	check_one(struct cron_locker *L);

/* ------------------------------------------------------------ time */

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The scheduler's clock, in ms since the epoch. */
static int64_t
vnow_ms(void)
{
	uint32_t m = M->conf.cron_minute ? M->conf.cron_minute : 60;

	if (m >= 60)
		return wall_ms();
	return C.boot_wall_ms + (int64_t)((now_ms() - C.boot_mono_ms) * 60 / m);
}

/* The minute a locker is in: its minutes start at its desync offset. */
static int64_t
locker_minute(const struct cron_locker *L, int64_t vnow)
{
	return cron_minute_of(L->hash, vnow);
}

/* ------------------------------------------------------------ jobs */

static struct cron_run *
run_of(struct cron_locker *L, const struct child *c, unsigned *index)
{
	unsigned i;

	for (i = 0; i < CRON_ENTRIES_MAX; i++)
		if (L->run[i].task == c) {
			*index = i;
			return &L->run[i];
		}
	return NULL;
}

static void
job_mail(struct cron_locker *L, unsigned i, struct cron_run *r)
{
	struct stat	 st;
	char		 rcpts[1024], subject[256], err[256];

	if (r->outfd == -1 || fstat(r->outfd, &st) == -1 || st.st_size == 0)
		return;
	mail_rcpts(L, rcpts, sizeof(rcpts));
	if (rcpts[0] == '\0')
		return;
	snprintf(subject, sizeof(subject), "Cron <%s> job %u (line %u)", L->name, i + 1,
	    L->sched != NULL && i < L->sched->nentries ? L->sched->e[i].line : 0);
	if (mail_notice_fd(L->name, rcpts, subject, r->outfd, err, sizeof(err)) == -1)
		log_debug("cron: %s job %u: output not mailed: %s", L->name, i + 1, err);
}

static void
job_ended(struct child *c, int status)
{
	struct cron_locker	*L = c->exit_arg;
	struct cron_run		*r;
	unsigned		 i;

	if ((r = run_of(L, c, &i)) == NULL)
		return;
	r->last_status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	if (r->timed_out)
		note(L, "job %u: killed at its time limit (cron-job-timeout)", i + 1);
	job_mail(L, i, r);
	if (r->outfd != -1)
		close(r->outfd);
	r->outfd = -1;
	r->task = NULL;
	r->timed_out = 0;
	L->nrunning--;
	C.ntasks--;
}

/* The job's logd channel: bound to the locker there, so it writes only
 * the locker's own cron log.  -1 when logd is restarting. */
static int
logd_chan(const char *name)
{
	int sv[2];

	if (M->logd.pid <= 0 || M->logd.chan == -1 || chan_pair(sv) == -1)
		return -1;
	if (child_send(&M->logd, MSG_LOG_CHAN, name, strlen(name), sv[0]) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[0]);
	return sv[1];
}

static void
task_fill(struct cron_task *t, const struct locker_rec *lr)
{
	memset(t, 0, sizeof(*t));
	task_spec(&t->spec, t->home, lr);
	t->chan = t->logfd = t->outfd = -1;
}

/* Entry i started now: 0, or -1 with why (in err, and in the cron log). */
static int
job_start(struct cron_locker *L, unsigned i, char *err, size_t errlen)
{
	static struct cron_task	 t;
	struct cron_run		*r = &L->run[i];
	struct locker_rec	 lr;
	struct child		*task;
	uint64_t		 limit;

	if (r->task != NULL) {
		r->skipped++;
		snprintf(err, errlen, "job %u is still running (pid %d); not started again", i + 1,
		    (int)r->task->pid);
		note(L, "%s", err);
		return -1;
	}
	if (C.ntasks >= M->conf.cron_max_tasks || dir_locker_get(M->dir, L->name, &lr) != 1 ||
	    lr.uid != (L->uid != 0 ? L->uid : (L->uid = lr.uid))) {
		r->skipped++;
		snprintf(err, errlen, "job %u not started: %s", i + 1, C.ntasks >=
		    M->conf.cron_max_tasks ? "cron-max-tasks jobs run already" :
		    "the locker is gone, or new under its name");
		note(L, "%s", err);
		return -1;
	}
	task_fill(&t, &lr);
	t.index = i + 1;
	t.nvars = L->sched->nvars;
	memcpy(t.vars, L->sched->vars, sizeof(t.vars));
	memcpy(t.cmd, L->sched->e[i].cmd, sizeof(t.cmd));
	t.logfd = logd_chan(L->name);
	t.outfd = memfd_create("lockerd-cron-output", MFD_CLOEXEC);
	task = cron_job_start(&lr, &t);
	if (t.logfd != -1)
		close(t.logfd);
	if (task == NULL) {
		if (t.outfd != -1)
			close(t.outfd);
		snprintf(err, errlen, "job %u could not be started: %s", i + 1, strerror(errno));
		note(L, "%s", err);
		return -1;
	}
	task->on_exit = job_ended;
	task->exit_arg = L;
	limit = config_limit_of(&M->conf, locker_own(lr.name, lr.uid), LIMIT_CRON_TIMEOUT);
	r->task = task;
	r->outfd = t.outfd;
	r->deadline_ms = now_ms() + limit * 1000;
	r->last_start = time(NULL);
	r->runs++;
	L->nrunning++;
	C.ntasks++;
	return 0;
}

static void
jobs_killed_at_limit(struct cron_locker *L, uint64_t now)
{
	unsigned i;

	for (i = 0; i < CRON_ENTRIES_MAX && L->nrunning > 0; i++) {
		struct cron_run *r = &L->run[i];

		if (r->task != NULL && !r->timed_out && now >= r->deadline_ms &&
		    r->task->pid > 0) {
			/* pid 1 of its namespace: everything the job started goes too. */
			kill(r->task->pid, SIGKILL);
			r->timed_out = 1;
		}
	}
}

/* Every entry due in the locker's minute m. */
static void
minute_run(struct cron_locker *L, int64_t m)
{
	struct tm	 tm;
	time_t		 t = (time_t)(m * 60);
	char		 err[256];
	unsigned	 i;

	localtime_r(&t, &tm);
	for (i = 0; i < L->sched->nentries; i++)
		if (cron_entry_due(&L->sched->e[i], &tm))
			job_start(L, i, err, sizeof(err));
}

static void
locker_due(struct cron_locker *L, int64_t vnow)
{
	int64_t		 m = locker_minute(L, vnow), k;
	char		 err[256];
	unsigned	 i;

	if (L->last_minute == 0 || m - L->last_minute > CRON_CATCH_UP)
		L->last_minute = m - 1;
	if (m <= L->last_minute)
		return;
	/* Its crontab looked at once a minute, at its own offset: the
	 * machine's lockers spread over the minute, not all in one round
	 * (10,000 at once held the loop 0.25 to 0.5 s here). */
	if (L->uid != 0 && L->seen && C.lease_ours)
		check_one(L);
	/* @reboot: once per start, once the schedule known at start is in. */
	if (L->reboot_pending && L->compile == NULL && C.lease_ours) {
		L->reboot_pending = 0;
		for (i = 0; L->sched != NULL && i < L->sched->nentries; i++)
			if (L->sched->e[i].when == CW_REBOOT)
				job_start(L, i, err, sizeof(err));
	}
	for (k = L->last_minute + 1; k <= m; k++)
		if (L->sched != NULL && C.lease_ours)
			minute_run(L, k);
	L->last_minute = m;
}

/* ------------------------------------------------------------ compiles */

/* The crontab's metadata, read as root without reading it or following
 * a link: "none", or what changes when the file does. */
static void
fingerprint(const char *name, char *out, size_t outsz)
{
	const int	 fl = O_PATH | O_NOFOLLOW | O_CLOEXEC;
	char		 home[PATH_MAX];
	struct stat	 st;
	int		 h, d = -1, f = -1;

	locker_home(name, home, sizeof(home));
	if ((h = open(home, fl | O_DIRECTORY)) == -1 ||
	    (d = openat(h, "cron_scripts", fl)) == -1 ||
	    (f = openat(d, "crontab", fl)) == -1 || fstat(f, &st) == -1) {
		if (errno == ENOENT)
			snprintf(out, outsz, "none");
		else
			snprintf(out, outsz, "error:%d", errno);
	} else
		snprintf(out, outsz, "%c:%llu:%llu:%lld.%09ld:%lld.%09ld",
		    S_ISREG(st.st_mode) ? 'f' : S_ISLNK(st.st_mode) ? 'l' : 'o',
		    (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
		    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		    (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	if (f != -1)
		close(f);
	if (d != -1)
		close(d);
	if (h != -1)
		close(h);
}

static void
refused(struct cron_locker *L, const char *stamp, const char *why)
{
	char rcpts[1024], err[256];

	snprintf(L->error, sizeof(L->error), "%s", why);
	snprintf(L->stamp, sizeof(L->stamp), "%s", stamp);
	cron_dir_set_error(M->dir, L->name, stamp, why);
	note(L, "crontab refused, %s: %s", L->sched != NULL ? "the previous schedule stays" :
	    "no jobs", why);
	mail_rcpts(L, rcpts, sizeof(rcpts));
	if (rcpts[0] != '\0' && mail_notice(L->name, rcpts, "crontab refused", why, strlen(why),
	    err, sizeof(err)) == -1)
		log_debug("cron: %s: the error not mailed: %s", L->name, err);
}

static void
compiled(struct cron_locker *L, const char *stamp, const struct cron_sched *s)
{
	if (sched_set(L, s) == -1)
		return;
	L->error[0] = '\0';
	L->compiled = time(NULL);
	snprintf(L->stamp, sizeof(L->stamp), "%s", stamp);
	cron_dir_set_sched(M->dir, L->name, s, stamp, L->compiled);
	note(L, "crontab compiled: %u job%s", s->nentries, s->nentries == 1 ? "" : "s");
}

/* The compile task ended: its one message, checked, is the answer. */
static void
compile_ended(struct child *c, int status)
{
	static struct cron_sched s;
	struct cron_locker	*L = c->exit_arg;
	enum msg_type		 type;
	const char		*why = NULL;
	char			 msg[CRON_ERR_MAX];
	ssize_t			 n;
	int			 fd;

	n = msg_recv_checked(L->compile_chan, MR_MASTER, MR_WORKER, &type, &s, sizeof(s), &fd,
	    &why);
	if (L->compile_uid != L->uid)
		;	/* the home it read is a removed locker's: dropped */
	else if (n == MSG_BREACH) {
		msg_breach(MR_MASTER, MR_WORKER, L->name, type, why);
		refused(L, L->compile_stamp, "crontab:1: the compile's answer was refused");
	} else if (n != (ssize_t)sizeof(s) || type != MSG_CRON_SCHED) {
		snprintf(msg, sizeof(msg), "crontab:1: it could not be compiled (%s %d)",
		    WIFEXITED(status) ? "status" : "signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status));
		refused(L, L->compile_stamp, msg);
	} else if ((why = cron_sched_check(&s)) != NULL) {
		log_warnx("cron: %s's compiled crontab: %s; refused", L->name, why);
		refused(L, L->compile_stamp, "crontab:1: its compiled schedule was malformed");
	} else if (s.err_line != 0)
		refused(L, L->compile_stamp, s.err);
	else
		compiled(L, L->compile_stamp, &s);
	close(L->compile_chan);
	L->compile_chan = -1;
	L->compile = NULL;
	C.ntasks--;
}

static int
compile_start(struct cron_locker *L, const char *stamp, char *err, size_t errlen)
{
	static struct cron_task	 t;
	struct locker_rec	 lr;
	int			 sv[2];

	if (L->compile != NULL)
		return 0;
	if (C.ntasks >= M->conf.cron_max_tasks) {
		snprintf(err, errlen, "cron-max-tasks tasks run already; try again");
		return -1;
	}
	if (dir_locker_get(M->dir, L->name, &lr) != 1 || chan_pair(sv) == -1) {
		snprintf(err, errlen, "no such locker, or no channel");
		return -1;
	}
	task_fill(&t, &lr);
	if (L->uid == 0)
		L->uid = lr.uid;	/* first seen by a `locker cron` verb */
	L->compile_uid = lr.uid;
	L->compile = cron_compile_start(&lr, &t, sv[1]);
	close(sv[1]);
	if (L->compile == NULL) {
		close(sv[0]);
		snprintf(err, errlen, "the compile could not be started: %s", strerror(errno));
		return -1;
	}
	set_nonblock(sv[0]);
	L->compile_chan = sv[0];
	L->compile->on_exit = compile_ended;
	L->compile->exit_arg = L;
	L->compile_deadline = now_ms() + CRON_COMPILE_TIMEOUT_MS;
	snprintf(L->compile_stamp, sizeof(L->compile_stamp), "%s", stamp);
	C.ntasks++;
	return 0;
}

/* A crontab that changed is compiled; one that went takes its jobs along. */
static void
check_one(struct cron_locker *L)
{
	char stamp[CRON_STAMP_MAX], err[256];

	fingerprint(L->name, stamp, sizeof(stamp));
	if (strcmp(stamp, L->stamp) == 0)
		return;
	if (strcmp(stamp, "none") == 0) {
		if (L->sched != NULL)
			note(L, "crontab removed: no jobs");
		sched_set(L, NULL);
		L->error[0] = '\0';
		snprintf(L->stamp, sizeof(L->stamp), "none");
		cron_dir_set_sched(M->dir, L->name, NULL, "none", time(NULL));
		return;
	}
	if (compile_start(L, stamp, err, sizeof(err)) == -1)
		log_debug("cron: %s: %s", L->name, err);
}

/* A new locker under an old name: the old one's schedule, error and
 * state go (its row went with it, by the directory's trigger). */
static void
forget(struct cron_locker *L, uint32_t uid)
{
	if (L->uid != 0 && (L->sched != NULL || L->error[0] != '\0'))
		log_info("cron: %s is a new locker (uid %u, was %u): the old schedule is "
		    "forgotten", L->name, uid, L->uid);
	sched_set(L, NULL);
	L->stamp[0] = L->error[0] = '\0';
	L->compiled = 0;
}

static int
walk_cb(const struct locker_rec *lr, void *arg)
{
	struct cron_locker *L = find_or_add(lr->name);

	(void)arg;
	if (L == NULL)
		return 0;
	/* A row loaded at start is the directory's own (removal deletes it):
	 * its locker is the one of the name now. */
	if (L->uid != 0 && L->uid != lr->uid)
		forget(L, lr->uid);
	L->uid = lr->uid;
	L->seen = 1;
	return 0;
}

/* Every locker of the directory known (its crontab is looked at in its
 * own minute, locker_due()); those gone forgotten (once their tasks have
 * ended: a task's exit hook points at its locker). */
static void
check_all(void)
{
	struct cron_locker **pp, *L;

	for (L = C.all; L != NULL; L = L->next)
		L->seen = 0;
	dir_locker_foreach(M->dir, walk_cb, NULL);
	for (pp = &C.all; (L = *pp) != NULL;) {
		if (!L->seen && L->sched != NULL) {
			forget(L, 0);
			L->uid = 0;
		}
		if (!L->seen && L->nrunning == 0 && L->compile == NULL) {
			*pp = L->next;
			free(L->sched);
			free(L);
		} else
			pp = &L->next;
	}
}

/* ------------------------------------------------------------ the loop */

/* The lease's TTL: one cron minute, so that tests with cron-minute 1s see
 * a takeover in seconds; at least 3 s, the directory's clock being whole
 * seconds. */
static int64_t
lease_ttl(void)
{
	uint32_t m = M->conf.cron_minute ? M->conf.cron_minute : 60;

	return m < 3 ? 3 : m;
}

static void
lease_renew(void)
{
	int rc = lease_take(M->dir, "cron", time(NULL), lease_ttl());

	if (rc == 1 && !C.lease_ours) {
		log_info("cron: this node (%s) holds the lease: it runs the jobs", lease_node());
		/* What the last holder compiled is in the directory. */
		cron_dir_foreach(M->dir, load_row, NULL);
	} else if (rc != 1 && C.lease_ours)
		log_info("cron: %s", rc == 0 ? "another node holds the lease now" :
		    "the lease could not be renewed: jobs wait");
	C.lease_ours = rc == 1;
}

void
cron_start(void)
{
	C.boot_wall_ms = wall_ms();
	C.boot_mono_ms = now_ms();
	cron_dir_foreach(M->dir, load_row, NULL);
	C.started = 1;
}

void
cron_tick(void)
{
	uint64_t		 now = now_ms();
	int64_t			 vnow;
	struct cron_locker	*L;

	if (!C.started || M->stopping || now < C.next_tick_ms)
		return;
	C.next_tick_ms = now + CRON_TICK_MS;
	if (now >= C.next_lease_ms) {
		lease_renew();
		C.next_lease_ms = now + (uint64_t)lease_ttl() * 1000 / 3;
	}
	/* Lapsed since (renewals failing): nothing more runs here. */
	if (C.lease_ours && !lease_mine("cron"))
		C.lease_ours = 0;
	if (now >= C.next_check_ms) {
		check_all();
		C.next_check_ms = now + (uint64_t)M->conf.cron_minute * 1000;
	}
	vnow = vnow_ms();
	for (L = C.all; L != NULL; L = L->next) {
		if (L->compile != NULL && now >= L->compile_deadline && L->compile->pid > 0)
			kill(L->compile->pid, SIGKILL);
		if (L->nrunning > 0)
			jobs_killed_at_limit(L, now);
		locker_due(L, vnow);
	}
}

/* ------------------------------------------------------------ the CLI's */

int
cron_status(const char *locker, struct ctl_cron *o)
{
	struct cron_locker *L = find_or_add(locker);

	memset(o, 0, sizeof(*o));
	snprintf(o->locker, sizeof(o->locker), "%s", locker);
	o->kind = CRON_ROW_STATUS;
	if (L == NULL)
		return -1;
	snprintf(o->state, sizeof(o->state), "%s", L->error[0] ? "error" :
	    L->sched != NULL ? "ok" : strcmp(L->stamp, "none") == 0 ? "none" : "new");
	snprintf(o->error, sizeof(o->error), "%s", L->error);
	o->compiled_at = L->sched != NULL ? L->compiled : 0;
	o->nentries = L->sched != NULL ? L->sched->nentries : 0;
	o->running = L->nrunning;
	snprintf(o->lease, sizeof(o->lease), "%s", lease_holder("cron"));
	o->lease_ours = (uint8_t)C.lease_ours;
	return 0;
}

int
cron_entry(const char *locker, unsigned index, struct ctl_cron *o)
{
	struct cron_locker	*L = find(locker);
	const struct cron_run	*r;
	const struct cron_entry	*e;

	if (L == NULL || L->sched == NULL || index < 1 || index > L->sched->nentries)
		return -1;
	e = &L->sched->e[index - 1];
	r = &L->run[index - 1];
	memset(o, 0, sizeof(*o));
	snprintf(o->locker, sizeof(o->locker), "%s", locker);
	o->kind = CRON_ROW_ENTRY;
	o->index = index;
	o->line = e->line;
	memcpy(o->spec, e->spec, sizeof(o->spec));
	memcpy(o->cmd, e->cmd, sizeof(o->cmd));
	o->pid = r->task != NULL ? (int32_t)r->task->pid : 0;
	o->last_status = r->last_status;
	o->last_start = r->last_start;
	o->runs = r->runs;
	o->skipped = r->skipped;
	return 0;
}

int
cron_run_now(const char *locker, unsigned index, char *err, size_t errlen)
{
	struct cron_locker *L = find_or_add(locker);

	if (L == NULL || L->sched == NULL || index < 1 || index > L->sched->nentries) {
		snprintf(err, errlen, "%s has no job %u (locker cron list %s)", locker, index,
		    locker);
		return -1;
	}
	if (!C.lease_ours) {
		snprintf(err, errlen, "cron runs on %s (its lease), not here", lease_holder("cron"));
		return -1;
	}
	return job_start(L, index - 1, err, errlen);
}

int
cron_reload(const char *locker, char *err, size_t errlen)
{
	struct cron_locker *L = find_or_add(locker);

	if (L == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!C.lease_ours) {
		snprintf(err, errlen, "cron runs on %s (its lease), not here: it sees the "
		    "change within a minute, or reload there", lease_holder("cron"));
		return -1;
	}
	if (L->compile != NULL)
		return 0;
	L->stamp[0] = '\0';	/* whatever the file is now, compiled again */
	check_one(L);
	if (L->compile == NULL && strcmp(L->stamp, "none") != 0) {
		snprintf(err, errlen, "the crontab could not be compiled now (cron-max-tasks?)");
		return -1;
	}
	return 0;
}
