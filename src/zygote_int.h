/*
 * zygote_int.h: between the zygote's loop (zygote_lib.c) and its child's
 * way into a locker's sandbox (zygote_enter.c); both in the library only.
 */
#ifndef LOCKERD_ZYGOTE_INT_H
#define LOCKERD_ZYGOTE_INT_H

#include <sys/resource.h>
#include <sys/types.h>
#include <signal.h>
#include "zygote.h"

struct zygote_private {
	int	lock_fd;	/* opcache's lock file, -1 if none was found */
	int	own_pidns;	/* the zygote's own pid namespace, to come back to */
	int	sigfd;		/* the loop's signalfd, closed in a child */
	struct rlimit nofile;	/* as started: a child's, before its locker's */
	/* php-cgi's own dispositions when it called fork(): FastCGI's handler
	 * on SIGPIPE and SIGUSR1 (main/fastcgi.c) put back in each child, so
	 * that a peer gone mid-answer ends a request, not the process, as in
	 * an exec'd php-cgi. */
	struct sigaction php_sigs[NSIG];
};
extern struct zygote_private Z;

/* What a fork is given by the worker (on its line) and the master. */
struct zygote_fds {
	int	lfd;		/* the pool's listening socket */
	int	errfd;		/* the stderr pipe's write end */
	int	pidfd;		/* the worker */
	char	dir[ZW_DIR_MAX];	/* the pool's directory, the locker's words */
};

/* The worker's two descriptors, and the worker's pidfd checked to be the
 * locker's: 0, or -1 (nothing to close). */
int	zygote_take(const struct msg_zygote_fork *m, int line, struct zygote_fds *f);
void	zygote_fds_close(struct zygote_fds *f);
/* fork() with the child in the worker's pid namespace. */
pid_t	zygote_fork_into(const struct zygote_fds *f, pid_t (*real_fork)(void));
/* The child's pid as its namespace (the worker's) sees it, or -1. */
pid_t	zygote_nspid(pid_t pid);
/* In the child: into the sandbox; 0, or it exits. */
int	zygote_enter(const struct msg_zygote_fork *m, struct zygote_fds *f, int line);

#endif
