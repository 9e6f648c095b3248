/*
 * zygote_enter.c: a child of the zygote, into its locker's sandbox.
 *
 * The worker's sandbox is already built (sandbox.c): its mount, ipc, uts
 * (and network) namespaces are joined through a pidfd of the worker, the
 * pid namespace by forking after setns() in the zygote.  Then the same
 * steps as sandbox_enter() after its pivot_root, with the same code: the
 * locker's cgroups (while the host's cgroupfs is still in view), Landlock
 * from jail_view[], rlimits, become(), seccomp; then the descriptors: the
 * pool's socket as stdin, the stderr pipe, opcache's lock file of its
 * own, nothing else of the zygote's.
 *
 * Which locker, and which worker, come from the master (MSG_ZYGOTE_FORK),
 * and the worker's pidfd is checked to be a process of that locker's uid
 * before anything is joined: a worker that ended, its pid reused, is
 * refused.  From the worker come only two descriptors and a directory
 * name, used after become() alone.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
#include "zygote_int.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open		434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal	424
#endif

/* What the zygote's children join of the worker's; the pid namespace apart. */
#define ZYGOTE_JOIN	(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET)

/* One word of the worker's line with exactly one descriptor; data: what
 * follows the word (NUL-terminated), or NULL. */
static int
recv_word(int line, uint32_t kind, int *fd, char *data, size_t datasz)
{
	struct {
		struct zygote_word	w;
		char			data[ZW_DIR_MAX];
	} in;
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	} cm;
	struct iovec	 iov = { .iov_base = &in, .iov_len = sizeof(in) };
	struct msghdr	 mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr	*c;
	ssize_t		 n;

	*fd = -1;
	if ((n = recvmsg(line, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) == -1)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (n < (ssize_t)sizeof(in.w) || in.w.kind != kind || *fd == -1 ||
	    (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return -1;
	}
	if (data != NULL) {
		size_t k = (size_t)n - sizeof(in.w);

		if (k >= datasz)
			k = datasz - 1;
		memcpy(data, in.data, k);
		data[k] = '\0';
	}
	return 0;
}

/* Whether the process of pidfd (pid) runs as uid alone, checked while the
 * pidfd holds it (a pid read after its process ended may be another's). */
static int
pidfd_is_uid(int pidfd, pid_t pid, uint32_t uid)
{
	char		 path[64], line[256];
	unsigned	 r, e, s, f;
	int		 ok = 0;
	FILE		*fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Uid: %u %u %u %u", &r, &e, &s, &f) == 4) {
			ok = r == uid && e == uid && s == uid && f == uid;
			break;
		}
	fclose(fp);
	return ok && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

void
zygote_fds_close(struct zygote_fds *f)
{
	if (f->lfd != -1)
		close(f->lfd);
	if (f->errfd != -1)
		close(f->errfd);
	if (f->pidfd != -1)
		close(f->pidfd);
	f->lfd = f->errfd = f->pidfd = -1;
}

int
zygote_take(const struct msg_zygote_fork *m, int line, struct zygote_fds *f)
{
	f->lfd = f->errfd = f->pidfd = -1;
	if (memchr(m->locker, '\0', sizeof(m->locker)) == NULL || m->locker[0] == '\0' ||
	    memchr(m->home, '\0', sizeof(m->home)) == NULL || m->home[0] != '/' ||
	    m->uid == 0 || m->gid == 0 || m->worker <= 1) {
		log_warnx("zygote: a fork without a locker");
		return -1;
	}
	if (recv_word(line, ZW_LISTEN, &f->lfd, f->dir, sizeof(f->dir)) == -1 ||
	    recv_word(line, ZW_STDERR, &f->errfd, NULL, 0) == -1)
		goto fail;
	f->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)m->worker, 0);
	if (f->pidfd == -1 || !pidfd_is_uid(f->pidfd, m->worker, m->uid))
		goto fail;
	set_cloexec(f->pidfd, 1);
	return 0;
fail:
	log_debug("zygote: no fork for %s (its worker or its line went)", m->locker);
	zygote_fds_close(f);
	return -1;
}

pid_t
zygote_fork_into(const struct zygote_fds *f, pid_t (*real_fork)(void))
{
	pid_t pid;

	if (setns(f->pidfd, CLONE_NEWPID) == -1) {
		log_warn("zygote: setns into the worker's pid namespace");
		return -1;
	}
	pid = real_fork();
	if (pid != 0 && setns(Z.own_pidns, CLONE_NEWPID) == -1)
		fatal("zygote: setns back into our own pid namespace");
	return pid;
}

pid_t
zygote_nspid(pid_t pid)
{
	char	 path[64], line[256], *p;
	long	 v = -1;
	FILE	*fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "NSpid:", 6) == 0) {
			/* The last field: the innermost namespace's. */
			if ((p = strrchr(line, '\t')) != NULL || (p = strrchr(line, ' ')) != NULL)
				v = strtol(p + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return (pid_t)v;
}

/* opcache's lock file, one of the process's own on the same number. */
static int
own_lock_file(void)
{
	int fd;

	if (Z.lock_fd == -1)
		return 0;
	if ((fd = memfd_create("opcache_lock", 0)) == -1 &&
	    (fd = open("/tmp", O_TMPFILE | O_RDWR, 0600)) == -1)
		return -1;
	if (fd != Z.lock_fd && (dup2(fd, Z.lock_fd) == -1 || close(fd) == -1))
		return -1;
	return 0;
}

/* stdin: the pool's socket (it must be listening); stdout: /dev/null;
 * stderr: the pipe to the worker; the lock file; nothing else. */
static int
set_fds(struct zygote_fds *f)
{
	int	listening = 0, null;
	socklen_t len = sizeof(listening);

	if (getsockopt(f->lfd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 || !listening) {
		errno = ENOTSOCK;
		return -1;
	}
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
	    dup2(f->lfd, 0) == -1 || dup2(null, 1) == -1 || dup2(f->errfd, 2) == -1)
		return -1;
	return close_fds_except(3, &Z.lock_fd, Z.lock_fd == -1 ? 0 : 1);
}

/* The locker's rlimits, by the sandbox's own function. */
static void
limits(const struct msg_zygote_fork *m)
{
	static struct config c;		/* large: not on the stack */

	c.memory_limit = m->memory_limit;
	c.file_size_limit = m->file_size_limit;
	c.process_limit = m->process_limit;
	c.open_files_limit = m->open_files_limit;
	sandbox_limits(&c);
}

static __attribute__((noreturn)) void
enter_failed(const struct msg_zygote_fork *m, const char *err)
{
	log_warnx("zygote: PHP process of %s: %s", m->locker, err);
	_exit(125);
}

int
zygote_enter(const struct msg_zygote_fork *m, struct zygote_fds *f, int line)
{
	char	err[256];
	int	ruleset;

	close(line);
	close(Z.sigfd);
	/* The zygote's end is ours; php-cgi's own handlers stay, as its exec'd
	 * child has them (SIGPIPE's default would kill the process when front
	 * closes a connection before the end of its answer). */
	child_reset_keeping(CHILD_DIE_WITH_PARENT, Z.php_sigs);
	setpgid(0, 0);				/* killed as a group, as script.c's */
	if (cgroup_join(m->locker, m->uid, err, sizeof(err)) == -1)
		enter_failed(m, err);
	if (setns(f->pidfd, ZYGOTE_JOIN) == -1 || chdir("/") == -1)
		enter_failed(m, "setns into the worker's namespaces");
	if ((ruleset = landlock_build(m->home, -1, err, sizeof(err))) == -1)
		enter_failed(m, err);
	setrlimit(RLIMIT_NOFILE, &Z.nofile);
	limits(m);
	if (become(m->uid, m->gid, err, sizeof(err)) == -1)
		enter_failed(m, err);
	if (ruleset >= 0 && landlock_enforce(ruleset, err, sizeof(err)) == -1)
		enter_failed(m, err);
	if (seccomp_enforce() == -1)
		enter_failed(m, "seccomp");
	if (own_lock_file() == -1)
		enter_failed(m, "opcache's lock file");
	if (set_fds(f) == -1)
		enter_failed(m, "descriptors");
	/* What the exec'd php-cgi of script.c is given. */
	setenv("HOME", m->home, 1);
	setenv("PHP_FCGI_CHILDREN", "0", 1);
	if (chdir(f->dir) == -1 && chdir(m->home) == -1)
		enter_failed(m, "chdir");
	umask(022);
	return 0;
}
