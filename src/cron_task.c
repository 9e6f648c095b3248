/*
 * cron_task.c: what cron runs as the locker, in its sandbox (task_spawn:
 * its uid, its jail, its cgroups, Landlock, seccomp; pid 1 of a pid
 * namespace of its own, so whatever a job leaves running ends with it).
 *
 *   compile   cron_scripts/crontab opened beneath the home with O_NOFOLLOW
 *             at every step (a crontab, or a cron_scripts, that is a
 *             symlink is refused: no path the locker controls is followed),
 *             read (CRON_FILE_MAX at most) and compiled (crontab.c); the
 *             schedule, or its error, goes to the master as MSG_CRON_SCHED.
 *             The master never reads the file.
 *   job       one entry's command: /bin/sh -c in the home, the crontab's
 *             variables and HOME, LOGNAME, USER, SHELL, PATH in its
 *             environment, crontab(5)'s '%' input on its stdin.  Its
 *             output (stdout and stderr together) goes, line by line, to
 *             the locker's cron log through a logd channel bound to the
 *             locker (MSG_LOG_CRON), and its first CRON_OUTPUT_MAX bytes
 *             to a memfd the master mails once the job has ended.  The
 *             task's exit status is the job's (128 + N for a signal).
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cron.h"
#include "master.h"

/* Exit statuses of the task itself, apart from a job's. */
#define CRONT_SANDBOX	125	/* the sandbox could not be entered */

static struct cron_sched	 sched;	/* the compile's result */

/* ------------------------------------------------------------ compile */

static int
sched_error(const char *what)
{
	memset(&sched, 0, sizeof(sched));
	sched.err_line = 1;
	snprintf(sched.err, sizeof(sched.err), "crontab:1: %s", what);
	return -1;
}

/* The crontab's bytes, opened beneath the home without following a link. */
static int
crontab_read(const char *home, char *buf, size_t bufsz, size_t *len)
{
	struct stat	 st;
	ssize_t		 n;
	int		 h, dir = -1, fd = -1, rc = -1;

	*len = 0;
	if ((h = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return sched_error("the home cannot be opened");
	if ((dir = openat(h, "cron_scripts", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 ||
	    (fd = openat(dir, "crontab", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			rc = 0;		/* gone since: no jobs */
		else if (errno == ELOOP || errno == ENOTDIR)
			sched_error("cron_scripts/crontab (or cron_scripts) is a symbolic link "
			    "or not what it should be; refused");
		else
			sched_error(strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		sched_error("cron_scripts/crontab is not a plain file");
		goto out;
	}
	while (*len < bufsz && (n = read(fd, buf + *len, bufsz - *len)) > 0)
		*len += (size_t)n;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (dir != -1)
		close(dir);
	close(h);
	return rc;
}

static int
compile_prepare(void *arg)
{
	struct cron_task	*t = arg;
	static char		 buf[CRON_FILE_MAX + 1];
	char			 err[256];
	size_t			 len;

	if (sandbox_enter(&t->spec, err, sizeof(err)) == -1)
		_exit(CRONT_SANDBOX);
	/* One byte over the bound: crontab_parse() then says the file is too big. */
	if (crontab_read(t->home, buf, sizeof(buf), &len) == 0)
		crontab_parse(buf, len, &sched);
	if (msg_send(t->chan, MSG_CRON_SCHED, &sched, sizeof(sched), -1) == -1)
		_exit(1);
	_exit(0);
}

struct child *
cron_compile_start(const struct locker_rec *lr, struct cron_task *t, int chan)
{
	t->chan = chan;
	return task_spawn(lr, compile_prepare, t, &t->chan, 1);
}

/* ------------------------------------------------------------ job */

/* A line of the cron log, "LOCKER[N]: text", to logd (-1: none). */
static void
log_line(const struct cron_task *t, const char *text, size_t len)
{
	char	line[LOG_LINE_MAX];
	int	n;

	if (t->logfd == -1)
		return;
	n = snprintf(line, sizeof(line), "job %u: %.*s", t->index, (int)len, text);
	if (n > 0)
		msg_send(t->logfd, MSG_LOG_CRON, line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1, -1);
}

struct out_state {
	const struct cron_task	*t;
	size_t			 total;	/* bytes of output seen */
	char			 line[LOG_LINE_MAX];
	size_t			 len;
};

/* Output bytes: whole lines to the log, the first CRON_OUTPUT_MAX to the mail. */
static void
out_feed(struct out_state *o, const char *p, size_t n)
{
	size_t i;

	if (o->total < CRON_OUTPUT_MAX && o->t->outfd != -1)
		(void)!write(o->t->outfd, p, n < CRON_OUTPUT_MAX - o->total ? n :
		    CRON_OUTPUT_MAX - o->total);
	for (i = 0; i < n && o->total < CRON_OUTPUT_MAX; i++, o->total++) {
		if (p[i] == '\n' || o->len == sizeof(o->line) - 1) {
			log_line(o->t, o->line, o->len);
			o->len = 0;
			if (p[i] == '\n')
				continue;
		}
		o->line[o->len++] = p[i];
	}
	if (o->total >= CRON_OUTPUT_MAX)
		o->total += n - i;
}

static void
job_env(const struct cron_task *t, char **envp, char env[][CRON_VAR_MAX + 16])
{
	static const char *const fixed[] = { "HOME", "LOGNAME", "USER", "SHELL", "PATH", NULL };
	int	 i, k, n = 0;

	for (i = 0; i < t->nvars; i++)
		envp[n++] = (char *)t->vars[i];
	for (i = 0; fixed[i] != NULL; i++) {
		/* The crontab's own PATH, HOME or SHELL wins, as crontab(5) says
		 * (LOGNAME and USER it cannot set: crontab.c refuses them). */
		for (k = 0; k < t->nvars; k++)
			if (strncmp(t->vars[k], fixed[i], strlen(fixed[i])) == 0 &&
			    t->vars[k][strlen(fixed[i])] == '=')
				break;
		if (k < t->nvars)
			continue;
		if (i == 0)
			snprintf(env[i], sizeof(env[i]), "HOME=%s", t->home);
		else if (i == 1 || i == 2)
			snprintf(env[i], sizeof(env[i]), "%s=%s", fixed[i], t->spec.locker);
		else if (i == 3)
			snprintf(env[i], sizeof(env[i]), "SHELL=/bin/sh");
		else
			snprintf(env[i], sizeof(env[i]), "PATH=/usr/local/bin:/usr/bin:/bin");
		envp[n++] = env[i];
	}
	envp[n] = NULL;
}

static pid_t
job_fork(struct cron_task *t, int out[2], int in[2])
{
	char		*envp[CRON_VARS_MAX + 8], env[5][CRON_VAR_MAX + 16];
	const char	*input;
	pid_t		 pid;

	cron_cmd_split(t->cmd, &input);
	job_env(t, envp, env);
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(in, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		char *argv[] = { "sh", "-c", t->cmd, NULL };

		if (dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1 || dup2(out[1], 2) == -1)
			_exit(127);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* Within CRON_CMD_MAX: less than a pipe holds, so this cannot block. */
	(void)!write(in[1], input, strlen(input));
	close(in[1]);
	return pid;
}

/* Until the shell has ended and its output is read (or nobody else holds
 * it open): the job's status as an exit code. */
static int
job_wait(struct cron_task *t, pid_t pid, int out)
{
	static struct out_state o;
	struct pollfd	 pf = { .fd = out, .events = POLLIN };
	char		 buf[8192];
	ssize_t		 n;
	int		 status = 0, ended = 0;

	o.t = t;
	set_nonblock(out);
	for (;;) {
		if (!ended && waitpid(pid, &status, WNOHANG) == pid)
			ended = 1;
		if (poll(&pf, 1, ended ? 0 : 200) == -1 && errno != EINTR)
			break;
		while ((n = read(out, buf, sizeof(buf))) > 0)
			out_feed(&o, buf, (size_t)n);
		/* EOF; or the shell is gone and what it left running still holds
		 * the pipe: the job is done, its leftovers end with the task. */
		if (n == 0 || (ended && n == -1 && errno == EAGAIN))
			break;
	}
	if (!ended)
		waitpid(pid, &status, 0);
	if (o.len > 0)
		log_line(t, o.line, o.len);
	if (o.total > CRON_OUTPUT_MAX) {
		snprintf(buf, sizeof(buf), "(output cut at %d bytes of %zu)", CRON_OUTPUT_MAX,
		    o.total);
		log_line(t, buf, strlen(buf));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
job_prepare(void *arg)
{
	struct cron_task	*t = arg;
	char			 err[256], line[300];
	int			 out[2], in[2], code;
	pid_t			 pid;

	if (sandbox_enter(&t->spec, err, sizeof(err)) == -1) {
		snprintf(line, sizeof(line), "not started: the sandbox: %s", err);
		log_line(t, line, strlen(line));
		_exit(CRONT_SANDBOX);
	}
	snprintf(line, sizeof(line), "started: %.250s", t->cmd);
	log_line(t, line, strlen(line));
	if (chdir(t->home) == -1 || (pid = job_fork(t, out, in)) == -1) {
		snprintf(line, sizeof(line), "not started: %s", strerror(errno));
		log_line(t, line, strlen(line));
		_exit(CRONT_SANDBOX);
	}
	code = job_wait(t, pid, out[0]);
	snprintf(line, sizeof(line), code > 128 ? "ended by signal %d" : "exit status %d",
	    code > 128 ? code - 128 : code);
	log_line(t, line, strlen(line));
	_exit(code);
}

struct child *
cron_job_start(const struct locker_rec *lr, struct cron_task *t)
{
	int keep[2] = { t->logfd, t->outfd }, n = 0;

	if (keep[0] == -1) {
		keep[0] = keep[1];
		keep[1] = -1;
	}
	n = (keep[0] != -1) + (keep[1] != -1);
	return task_spawn(lr, job_prepare, t, keep, n);
}
