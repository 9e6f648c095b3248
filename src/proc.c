/*
 * proc.c: the process plumbing of lockerd's roles.
 *
 * Spawning a role by re-executing our own binary, and the reset every
 * child goes through.  No role re-implements any of it.  The messages
 * between the roles are msg.c's (which the CLI links without this file);
 * dropping root is become.c's.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

int
exe_open(void)
{
	return open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
}

/*
 * Put chan on CHILD_CHAN_FD and the extras after it.  Everything is first
 * moved above the target range so that no dup2() clobbers a source.
 */
static void
child_fds_setup(int exe_fd, int *pexe, int chan, const int *extra, int nextra)
{
	int	 tmp[64 + 1], i, base = CHILD_FIRST_LISTEN_FD + nextra + 8;

	if (nextra > 64)
		_exit(126);
	if ((tmp[0] = fcntl(chan, F_DUPFD, base)) == -1)
		_exit(126);
	for (i = 0; i < nextra; i++)
		if ((tmp[i + 1] = fcntl(extra[i], F_DUPFD, base)) == -1)
			_exit(126);
	if ((*pexe = fcntl(exe_fd, F_DUPFD_CLOEXEC, base)) == -1)
		_exit(126);
	if (dup2(tmp[0], CHILD_CHAN_FD) == -1)
		_exit(126);
	for (i = 0; i < nextra; i++)
		if (dup2(tmp[i + 1], CHILD_FIRST_LISTEN_FD + i) == -1)
			_exit(126);
	/* Close everything else we inherited but the exe descriptor. */
	if (close_fds_except(CHILD_FIRST_LISTEN_FD + nextra, pexe, 1) == -1)
		_exit(126);
}

/*
 * The one reset of every child any lockerd process forks, first thing:
 * no signal blocked, every signal to its default action.  exec keeps both
 * the mask and ignored signals, and the parent has some of each (the master
 * and the worker block what their signalfd reads and ignore SIGPIPE;
 * lockerd itself may have been started with SIGINT and SIGQUIT ignored by
 * a shell's `&`, SIGHUP by nohup): a locker's processes, and the tools the
 * master runs, must not inherit that.  CHILD_DIE_WITH_PARENT: SIGKILL when
 * the parent goes (a change of uid clears it: become() arms it again).
 */
void
child_reset(int flags)
{
	sigset_t	none;
	int		sig;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (flags & CHILD_DIE_WITH_PARENT)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Every signal's disposition now, into sa[NSIG] (for child_reset_keeping()). */
void
signals_save(struct sigaction *sa)
{
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa[sig]) == -1)
			sa[sig].sa_handler = SIG_DFL;
}

/* child_reset(), then the dispositions of keep (signals_save()'s) that are
 * not the default put back: a program's own handlers that a child of it
 * must have (the zygote's children, php-cgi's). */
void
child_reset_keeping(int flags, const struct sigaction *keep)
{
	int sig;

	child_reset(flags);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && keep[sig].sa_handler != SIG_DFL)
			sigaction(sig, &keep[sig], NULL);
}

/*
 * fork() into new mount, pid, ipc and uts namespaces (declared with the
 * sandbox; here beside the spawning that uses it).  The
 * raw system call continues on a copy of our stack, as fork() does.
 */
int	(*sandbox_clone_join)(void);	/* netns_join, set by the master */

pid_t
sandbox_clone(void)
{
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | SANDBOX_CLONE_FLAGS),
	    NULL, NULL, NULL, NULL);

	if (pid == 0)
		cs_mark(CS_CLONED);
	/* The locker's network namespace, where locker-network is private. */
	if (pid == 0 && sandbox_clone_join != NULL && sandbox_clone_join() == -1) {
		dprintf(2, "lockerd: sandbox: join the locker's network namespace: %s\n",
		    strerror(errno));
		_exit(125);
	}
	return pid;
}

static pid_t
spawn_common(int exe_fd, const char *role, const char *arg, int chan,
    const int *extra_fds, int nextra, int (*prepare)(void *), void *ctx, int sandboxed)
{
	char		*argv[6];
	char		*envp[6];
	char		 debugenv[32], csenv[400], crashenv[96];
	pid_t		 pid;
	int		 i, exe;

	pid = sandboxed ? sandbox_clone() : fork();
	if (pid != 0)
		return pid;

	child_reset(CHILD_DIE_WITH_PARENT);

	child_fds_setup(exe_fd, &exe, chan, extra_fds, nextra);
	cs_mark(CS_RESET);
	if (prepare != NULL && prepare(ctx) == -1)
		_exit(125);

	i = 0;
	argv[i++] = "lockerd";
	argv[i++] = "-R";
	argv[i++] = (char *)role;
	if (arg != NULL)
		argv[i++] = (char *)arg;
	argv[i] = NULL;
	i = 0;
	envp[i++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	if (getenv("LOCKERD_DEBUG") != NULL) {
		snprintf(debugenv, sizeof(debugenv), "LOCKERD_DEBUG=1");
		envp[i++] = debugenv;
	}
	/* The kill -9 tests' step for this child (crashpoint.c), put there by
	 * its prepare. */
	if (getenv("LOCKERD_CRASH_STEP") != NULL) {
		snprintf(crashenv, sizeof(crashenv), "LOCKERD_CRASH_AT=%s",
		    getenv("LOCKERD_CRASH_STEP"));
		envp[i++] = crashenv;
	}
	/* After prepare's marks, so the worker gets all of them. */
	cs_env(csenv, sizeof(csenv));
	if (csenv[0] != '\0')
		envp[i++] = csenv;
	envp[i] = NULL;
	syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

pid_t
spawn_role(int exe_fd, const char *role, const char *arg, int chan,
    const int *extra_fds, int nextra, int (*prepare)(void *), void *ctx)
{
	return spawn_common(exe_fd, role, arg, chan, extra_fds, nextra, prepare, ctx, 0);
}

/*
 * A locker's process: new mount, pid, ipc and uts namespaces in the same
 * clone() (cheaper than unshare() after fork()), so prepare() can build
 * the jail with sandbox_enter().  Only the channel is passed on.
 */
pid_t
spawn_role_sandboxed(int exe_fd, const char *role, int chan, int (*prepare)(void *), void *ctx)
{
	return spawn_common(exe_fd, role, NULL, chan, NULL, 0, prepare, ctx, 1);
}
