/*
 * pspawn.c: a program started from a worker with posix_spawn().
 *
 * fork() copies the parent's page tables, so its cost grows with the
 * parent (8 ms from a 256 MiB process here, against 0.5 ms for
 * posix_spawn); glibc's posix_spawn() clones with CLONE_VM|CLONE_VFORK on a
 * small stack of its own and execs at once, so the cost is that of the
 * exec.  What every child of a worker needs before its exec, posix_spawn
 * can do: the signal mask emptied and every signal at its default action
 * (child_reset()'s job), a process group of its own, stdio dup2()ed, every
 * other descriptor closed (closefrom: nothing of the worker's channels),
 * and its working directory.
 *
 * What it cannot do is set an rlimit.  The CPU limit of a CGI script is its
 * soft limit only (a guard, which the script may raise itself: see
 * script.c), so it is set with prlimit() right after the spawn; the window
 * in which the program runs without it is a few microseconds of a limit
 * the program could have lifted anyway.  The pid cannot have been reused
 * meanwhile: only this worker reaps its children, and it has not yet.
 * Hard limits that bound a locker are the sandbox's, set once for the
 * worker and inherited (sandbox.c).
 */
#include <sys/resource.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

static int
file_actions(posix_spawn_file_actions_t *fa, const struct pspawn *p)
{
	int rc;

	if ((rc = posix_spawn_file_actions_init(fa)) != 0)
		return rc;
	/* dup2 onto itself would keep close-on-exec: every fd here is >= 3. */
	if ((rc = posix_spawn_file_actions_adddup2(fa, p->fd[0], 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, p->fd[1], 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, p->fd[2], 2)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(fa, 3)) != 0 ||
	    (p->dir != NULL && (rc = posix_spawn_file_actions_addchdir_np(fa, p->dir)) != 0))
		posix_spawn_file_actions_destroy(fa);
	return rc;
}

static int
attributes(posix_spawnattr_t *at, const struct pspawn *p)
{
	sigset_t	none, all;
	short		flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int		rc;

	sigemptyset(&none);
	sigfillset(&all);
	if (p->new_pgroup)
		flags |= POSIX_SPAWN_SETPGROUP;
	if ((rc = posix_spawnattr_init(at)) != 0)
		return rc;
	if ((rc = posix_spawnattr_setflags(at, flags)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(at, &none)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(at, &all)) != 0 ||
	    (rc = posix_spawnattr_setpgroup(at, 0)) != 0)
		posix_spawnattr_destroy(at);
	return rc;
}

/* The soft CPU limit, under the hard one we have. */
static void
cpu_soft_limit(pid_t pid, uint64_t seconds)
{
	struct rlimit rl;

	if (seconds == 0 || getrlimit(RLIMIT_CPU, &rl) == -1)
		return;
	rl.rlim_cur = seconds;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max;
	prlimit(pid, RLIMIT_CPU, &rl, NULL);
}

pid_t
proc_spawn(const struct pspawn *p)
{
	posix_spawn_file_actions_t	fa;
	posix_spawnattr_t		at;
	pid_t				pid;
	int				rc;

	if ((rc = file_actions(&fa, p)) != 0) {
		errno = rc;
		return -1;
	}
	if ((rc = attributes(&at, p)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		errno = rc;
		return -1;
	}
	rc = posix_spawn(&pid, p->path, &fa, &at, p->argv, p->envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;	/* the exec's own error (ENOENT, EACCES, ENOEXEC...) */
		return -1;
	}
	cpu_soft_limit(pid, p->cpu_soft);
	return pid;
}
