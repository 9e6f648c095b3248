/*
 * ctl_run.c: `locker run` and `locker su`: a process in the locker's
 * sandbox on the CLI's stdio, its trace in the audit trail, and the end of
 * any task a client waits for (control_task_done(), a purge's too).  Apart
 * from control.c because it is the one verb that starts a process of the
 * locker's from the master.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

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

/* Check the packed argv of a VERB_STDIO verb: argc strings, inside the buffer. */
int
run_argv_ok(const struct ctl_request *r)
{
	size_t		off = 0;
	uint32_t	i;

	if ((r->argc == 0 && r->verb == CTL_RUN) || r->argc > CTL_MAX_ARGV)
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

void
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
	task_spec(&r.spec, r.home, &lr);
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
	if (c->sql_job != NULL) {
		sql_task_done(c, code);
		return;
	}
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
