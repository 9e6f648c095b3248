/*
 * proc.c: the privilege-separation plumbing, shared by every role.
 *
 * Message framing, descriptor passing, spawning a role by re-executing our
 * own binary, and dropping privileges.  No role re-implements any of it.
 */
#include <sys/types.h>
#include <sys/prctl.h>
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

#ifdef __SANITIZE_ADDRESS__
/*
 * LeakSanitizer reads /proc at exit, which a chrooted front or logd cannot
 * see; leaks are looked for by the unit tests instead.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

int
chan_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

int
msg_send(int sock, enum msg_type type, const void *data, size_t len, int fd)
{
	struct msg_hdr	 hdr;
	struct iovec	 iov[2];
	struct msghdr	 mh;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	ssize_t		 n;

	if (len > MSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	hdr.type = (uint16_t)type;
	hdr.flags = 0;
	hdr.len = (uint32_t)len;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len ? 2 : 1;
	if (fd != -1) {
		memset(&cmsg, 0, sizeof(cmsg));
		mh.msg_control = cmsg.buf;
		mh.msg_controllen = sizeof(cmsg.buf);
		cmsg.hdr.cmsg_level = SOL_SOCKET;
		cmsg.hdr.cmsg_type = SCM_RIGHTS;
		cmsg.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cmsg.hdr), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	return 0;
}

/* Close every descriptor a peer sent beyond the one we accept. */
static int
take_fds(struct msghdr *mh)
{
	struct cmsghdr	*c;
	int		 fd = -1;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t	 i, nfds;
		int	 f;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd == -1)
				fd = f;
			else
				close(f);
		}
	}
	return fd;
}

ssize_t
msg_recv(int sock, enum msg_type *type, void *buf, size_t bufsz, int *fd)
{
	struct msg_hdr	 hdr;
	struct iovec	 iov[2];
	struct msghdr	 mh;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	} cmsg;
	ssize_t		 n;
	int		 got;

	*fd = -1;
	*type = MSG_NONE;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = buf;
	iov[1].iov_len = bufsz;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof(cmsg.buf);
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	got = take_fds(&mh);
	if (n == 0)
		return 0;	/* EOF: *type stays MSG_NONE */
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(hdr) ||
	    hdr.type == MSG_NONE || hdr.type >= MSG_MAX ||
	    hdr.len != (size_t)n - sizeof(hdr)) {
		if (got != -1)
			close(got);
		errno = EBADMSG;
		return -1;
	}
	*type = (enum msg_type)hdr.type;
	*fd = got;
	return (ssize_t)hdr.len;
}

int
msg_recv_many(int sock, struct msg_in *m, int n)
{
	struct mmsghdr	 mm[CHAN_BATCH];
	struct iovec	 iov[CHAN_BATCH][2];
	struct msg_hdr	 hdr[CHAN_BATCH];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	} cmsg[CHAN_BATCH];
	int		 i, got, bad = 0;

	if (n > CHAN_BATCH)
		n = CHAN_BATCH;
	memset(mm, 0, sizeof(mm[0]) * (size_t)n);
	for (i = 0; i < n; i++) {
		iov[i][0].iov_base = &hdr[i];
		iov[i][0].iov_len = sizeof(hdr[i]);
		iov[i][1].iov_base = m[i].buf;
		iov[i][1].iov_len = m[i].cap;
		mm[i].msg_hdr.msg_iov = iov[i];
		mm[i].msg_hdr.msg_iovlen = 2;
		mm[i].msg_hdr.msg_control = cmsg[i].buf;
		mm[i].msg_hdr.msg_controllen = sizeof(cmsg[i].buf);
	}
	got = recvmmsg(sock, mm, (unsigned)n, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL);
	if (got <= 0)
		return got;
	for (i = 0; i < got; i++) {
		size_t len = mm[i].msg_len;

		m[i].fd = take_fds(&mm[i].msg_hdr);
		m[i].type = MSG_NONE;
		if (len == 0) {
			/* EOF after the messages before it. */
			if (m[i].fd != -1)
				close(m[i].fd);
			got = i;
			break;
		}
		if ((mm[i].msg_hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		    len < sizeof(hdr[i]) || hdr[i].type == MSG_NONE || hdr[i].type >= MSG_MAX ||
		    hdr[i].len != len - sizeof(hdr[i]))
			bad = 1;
		m[i].type = (enum msg_type)hdr[i].type;
		m[i].len = hdr[i].len;
	}
	if (bad) {
		for (i = 0; i < got; i++)
			if (m[i].fd != -1)
				close(m[i].fd);
		errno = EBADMSG;
		return -1;
	}
	return got;
}

int
msg_send_many(int sock, const struct msg_out *m, int n)
{
	struct mmsghdr	 mm[CHAN_BATCH];
	struct iovec	 iov[CHAN_BATCH][2];
	struct msg_hdr	 hdr[CHAN_BATCH];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsg[CHAN_BATCH];
	int		 i, sent;

	if (n > CHAN_BATCH)
		n = CHAN_BATCH;
	memset(mm, 0, sizeof(mm[0]) * (size_t)n);
	for (i = 0; i < n; i++) {
		hdr[i].type = (uint16_t)m[i].type;
		hdr[i].flags = 0;
		hdr[i].len = (uint32_t)m[i].len;
		iov[i][0].iov_base = &hdr[i];
		iov[i][0].iov_len = sizeof(hdr[i]);
		iov[i][1].iov_base = (void *)m[i].data;
		iov[i][1].iov_len = m[i].len;
		mm[i].msg_hdr.msg_iov = iov[i];
		mm[i].msg_hdr.msg_iovlen = m[i].len ? 2 : 1;
		if (m[i].fd != -1) {
			memset(&cmsg[i], 0, sizeof(cmsg[i]));
			cmsg[i].hdr.cmsg_level = SOL_SOCKET;
			cmsg[i].hdr.cmsg_type = SCM_RIGHTS;
			cmsg[i].hdr.cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(&cmsg[i].hdr), &m[i].fd, sizeof(int));
			mm[i].msg_hdr.msg_control = cmsg[i].buf;
			mm[i].msg_hdr.msg_controllen = sizeof(cmsg[i].buf);
		}
	}
	do {
		sent = sendmmsg(sock, mm, (unsigned)n, MSG_NOSIGNAL);
	} while (sent == -1 && errno == EINTR);
	return sent;
}

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
 * the parent goes (a change of uid clears it: set it again after one).
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

/*
 * fork() into new mount, pid, ipc and uts namespaces (declared with the
 * sandbox; here because the CLI links this file but not the sandbox).  The
 * raw system call continues on a copy of our stack, as fork() does.
 */
int	(*sandbox_clone_join)(void);	/* netns_join, set by the master */

pid_t
sandbox_clone(void)
{
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | SANDBOX_CLONE_FLAGS),
	    NULL, NULL, NULL, NULL);

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
	char		*envp[4];
	char		 debugenv[32];
	pid_t		 pid;
	int		 i, exe;

	pid = sandboxed ? sandbox_clone() : fork();
	if (pid != 0)
		return pid;

	child_reset(CHILD_DIE_WITH_PARENT);

	child_fds_setup(exe_fd, &exe, chan, extra_fds, nextra);
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
