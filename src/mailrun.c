/*
 * mailrun.c: a locker's mail program, run for one recipient of one message
 * as a task (task_spawn(): the same sandbox as its worker and its scripts,
 * its uid, its cgroups and limits), with the message on stdin, nothing on
 * stdout and its stderr into a memfd that maild reads the first line of.
 *
 * Which program, looked for as the locker inside its sandbox (the master
 * never follows a path in a locker's home):
 *   mail_scripts/deliver        any executable (a #! script, a binary)
 *   mail_scripts/deliver.EXT    a script run by the interpreter of EXT, as
 *                               web scripts are (the `interpreter` table)
 *   mail_scripts/procmailrc     Debian's procmail runs it (procmail -m)
 * None of them: what the locker's admins chose (`locker mail no-program`,
 * read from the directory by the master before the task starts): bounce,
 * exit MAILIN_EX_NOPROGRAM, which maild answers 550; or discard, exit 0
 * (250) with nothing run.  Decided here, where the program is looked for as
 * the locker, not by the exit status: a program's own exit 67 still bounces.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "mailin.h"
#include "maillog.h"

#define PROCMAIL	"/usr/bin/procmail"

struct mailrun_ctx {
	struct sandbox_spec	 spec;
	char			 home[PATH_MAX];
	struct msg_mailin_deliver	 q;
	int			 in, err;
	int			 discard;	/* no program: 250, not 550 */
};

static void
setenvf(char **envp, int *n, char *buf, size_t bufsz, const char *fmt, const char *val)
{
	snprintf(buf, bufsz, fmt, val);
	envp[(*n)++] = buf;
}

/* The program's environment: pipe(8)'s names for the envelope, and the locker's own. */
static void
mail_env(const struct mailrun_ctx *t, char **envp)
{
	static char	e[14][PATH_MAX + MAILIN_ADDR_MAX + 32];
	const char	*at = strrchr(t->q.recipient, '@');
	char		 local[MAILIN_ADDR_MAX + 1];
	int		 n = 0;

	snprintf(local, sizeof(local), "%.*s", at ? (int)(at - t->q.recipient) :
	    (int)strlen(t->q.recipient), t->q.recipient);
	setenvf(envp, &n, e[n], sizeof(e[0]), "SENDER=%s", t->q.sender);
	setenvf(envp, &n, e[n], sizeof(e[0]), "RECIPIENT=%s", t->q.recipient);
	setenvf(envp, &n, e[n], sizeof(e[0]), "ORIGINAL_RECIPIENT=%s", t->q.original);
	setenvf(envp, &n, e[n], sizeof(e[0]), "EXTENSION=%s", t->q.tag);
	setenvf(envp, &n, e[n], sizeof(e[0]), "LOCAL=%s", local);
	setenvf(envp, &n, e[n], sizeof(e[0]), "DOMAIN=%s", at ? at + 1 : "");
	setenvf(envp, &n, e[n], sizeof(e[0]), "HOME=%s", t->home);
	setenvf(envp, &n, e[n], sizeof(e[0]), "USER=%s", t->q.locker);
	setenvf(envp, &n, e[n], sizeof(e[0]), "LOGNAME=%s", t->q.locker);
	setenvf(envp, &n, e[n], sizeof(e[0]), "PATH=%s", "/usr/local/bin:/usr/bin:/bin");
	setenvf(envp, &n, e[n], sizeof(e[0]), "SHELL=%s", "/bin/sh");
	setenvf(envp, &n, e[n], sizeof(e[0]), "LANG=%s", "C.UTF-8");
	envp[n] = NULL;
}

/* No program to run (never returns): the locker's admins' choice. */
static void
no_program(const struct mailrun_ctx *t, const char *why)
{
	dprintf(2, "%s %s\n", t->q.locker, why);
	_exit(t->discard ? 0 : MAILIN_EX_NOPROGRAM);
}

static int
is_file(const char *name, struct stat *st)
{
	return stat(name, st) == 0 && S_ISREG(st->st_mode);
}

/* Runs the program (never returns). */
static void
mail_exec(const struct mailrun_ctx *t)
{
	static char		 file[PATH_MAX + 64];
	char			*argv[5], *envp[16];
	const struct config	*c = t->spec.conf;
	struct stat		 st;
	int			 i;

	mail_env(t, envp);
	if (chdir("mail_scripts") == -1) {
		no_program(t, "has no mail_scripts directory");
	}
	if (is_file("deliver", &st)) {
		argv[0] = "deliver";
		argv[1] = NULL;
		execve("./deliver", argv, envp);
		dprintf(2, "mail_scripts/deliver: %s\n", strerror(errno));
		_exit(errno == EACCES || errno == ENOEXEC ? 78 : MAILIN_EX_TEMPFAIL);
	}
	for (i = 0; i < c->ninterp; i++) {
		snprintf(file, sizeof(file), "deliver.%s", c->interp[i].ext);
		if (!is_file(file, &st))
			continue;
		argv[0] = file;
		argv[1] = NULL;
		if (c->interp[i].path[0] != '\0') {
			argv[0] = (char *)c->interp[i].path;
			argv[1] = file;
			argv[2] = NULL;
			execve(c->interp[i].path, argv, envp);
		} else
			execve(file, argv, envp);
		dprintf(2, "mail_scripts/%s: %s\n", file, strerror(errno));
		_exit(errno == EACCES || errno == ENOEXEC ? 78 : MAILIN_EX_TEMPFAIL);
	}
	if (is_file("procmailrc", &st)) {
		snprintf(file, sizeof(file), "%s/mail_scripts/procmailrc", t->home);
		argv[0] = "procmail";
		argv[1] = "-m";
		argv[2] = file;
		argv[3] = NULL;
		execve(PROCMAIL, argv, envp);
		dprintf(2, "procmail: %s\n", strerror(errno));
		_exit(MAILIN_EX_TEMPFAIL);
	}
	no_program(t, "has no mail program (mail_scripts/deliver)");
}

/* In the task, as root until sandbox_enter(): the descriptors, then the jail. */
static int
mailrun_prepare(void *arg)
{
	struct mailrun_ctx	*t = arg;
	char			 err[256];
	int			 null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null == -1 || dup2(t->in, 0) == -1 || dup2(null, 1) == -1 || dup2(t->err, 2) == -1)
		_exit(MAILIN_EX_TEMPFAIL);
	if (sandbox_enter(&t->spec, err, sizeof(err)) == -1) {
		dprintf(2, "lockerd: the locker's sandbox: %s\n", err);
		_exit(MAILIN_EX_TEMPFAIL);
	}
	if (chdir(t->home) == -1) {
		dprintf(2, "lockerd: %s: %s\n", t->home, strerror(errno));
		_exit(MAILIN_EX_TEMPFAIL);
	}
	mail_exec(t);
	return -1;
}

struct child *
mailrun_start(const struct locker_rec *lr, const struct msg_mailin_deliver *q, int in, int err)
{
	static struct mailrun_ctx t;	/* copied at clone */
	int			  keep[2] = { in, err };

	memset(&t, 0, sizeof(t));
	task_spec(&t.spec, t.home, lr);
	t.q = *q;
	t.in = in;
	t.err = err;
	t.discard = maillog_no_program(M->dir, lr->uid) == MAILLOG_NOPROG_DISCARD;
	return task_spawn(lr, mailrun_prepare, &t, keep, 2);
}
