/*
 * zygote_lib.c: liblockerd-zygote.so, preloaded by the master into the
 * zygote's php-cgi (zygote.c), never into a locker's process.
 *
 * php-cgi with PHP_FCGI_CHILDREN=1 finishes PHP's start-up (php.ini,
 * extensions, opcache) and then calls fork() to start a child that accepts
 * FastCGI on its stdin (sapi/cgi/cgi_main.c: the child sets parent = 0,
 * puts back its signal handlers and runs its accept loop; the parent waits
 * for children).  Our fork() is found first: its first call, in php-cgi's
 * parent, never returns there; it becomes the zygote's loop.  For each
 * MSG_ZYGOTE_FORK the loop really forks, the child enters the locker's
 * sandbox (zygote_enter.c) and returns 0 from that first fork(), so
 * php-cgi's own child code runs, on the pool's socket as its stdin.
 *
 * Before the first child, what the zygote has that children of different
 * lockers must not share is made private (snapshot_shared()): every
 * MAP_SHARED mapping (opcache's segment) is copied into a sealed memfd and
 * mapped over itself MAP_PRIVATE, so each child writes pages of its own
 * and shares only clean ones; opcache's lock file is replaced in each
 * child.  The zygote runs no PHP request itself.
 *
 * Every symbol of the library but fork() is hidden (-fvisibility=hidden):
 * lockerd's log_warnx() or become() must not take the place of anything of
 * php-cgi's or of its extensions'.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "zygote.h"
#include "zygote_int.h"

#define ZYGOTE_CHILDREN_MAX	8192	/* PHP processes of one zygote alive at once */

static pid_t	(*real_fork)(void);
static int	zchan = -1;		/* to the master; -1: not the zygote */
static int	forked;			/* the first fork() was ours */
static int	debug;

/* Its children: root-namespace pid, and the worker's line. */
struct zchild {
	pid_t	pid;
	int	line;
};
static struct zchild	*kids;
static int		 nkids;

struct zygote_private Z = { .lock_fd = -1, .own_pidns = -1 };

__attribute__((constructor)) static void
zygote_lib_init(void)
{
	const char	*v = getenv(ZYGOTE_ENV);
	void		*sym = dlsym(RTLD_NEXT, "fork");

	/* POSIX's way round ISO C's object/function pointer split. */
	memcpy(&real_fork, &sym, sizeof(real_fork));
	if (v == NULL)
		return;
	zchan = atoi(v);
	debug = strstr(v, ",debug") != NULL;
	if (zchan < 3 || fcntl(zchan, F_SETFD, FD_CLOEXEC) == -1)
		zchan = -1;
	/* Nothing PHP runs later loads us again. */
	unsetenv(ZYGOTE_ENV);
	unsetenv("LD_PRELOAD");
}

/* ------------------------------------------------------------ snapshot */

/* One MAP_SHARED mapping: its pages, resident ones only, into a sealed
 * memfd mapped MAP_PRIVATE over the same range. */
static int
privatise(uintptr_t start, uintptr_t end, int prot)
{
	size_t		 len = end - start, page = (size_t)sysconf(_SC_PAGESIZE), off;
	unsigned char	*vec;
	int		 fd;

	if ((vec = malloc(len / page + 1)) == NULL)
		return -1;
	if ((fd = memfd_create("lockerd-zygote", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1 ||
	    ftruncate(fd, (off_t)len) == -1 || mincore((void *)start, len, vec) == -1)
		goto fail;
	/* Untouched pages stay holes: a child reads them as zeros, as before. */
	for (off = 0; off < len; off += page)
		if ((vec[off / page] & 1) &&
		    pwrite(fd, (void *)(start + off), page, (off_t)off) != (ssize_t)page)
			goto fail;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == -1 ||
	    mmap((void *)start, len, prot, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
		goto fail;
	close(fd);
	free(vec);
	return 0;
fail:
	log_warn("zygote: make %lx-%lx private", (unsigned long)start, (unsigned long)end);
	if (fd != -1)
		close(fd);
	free(vec);
	return -1;
}

static int
snapshot_maps(void)
{
	char		 line[512], perms[8];
	unsigned long	 start, end;
	FILE		*f;
	int		 rc = 0, prot;

	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return -1;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || perms[3] != 's')
			continue;
		prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		    (perms[2] == 'x' ? PROT_EXEC : 0);
		rc = privatise(start, end, prot);
	}
	fclose(f);
	return rc;
}

/* opcache's lock file (/tmp/.ZendSem.*, or its memfd): each child gets its
 * own in its place, since fcntl locks on a shared one would let a locker
 * hold up another's opcache. */
static void
find_lock_fd(void)
{
	char	path[64], link[256];
	ssize_t	n;
	int	fd;

	for (fd = 3; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (strstr(link, "/.ZendSem.") != NULL || strstr(link, "opcache_lock") != NULL)
			Z.lock_fd = fd;
	}
}

/* ------------------------------------------------------------ the loop */

static void
kid_add(pid_t pid, int line, int ep)
{
	struct epoll_event	ev = { .events = EPOLLIN };
	struct zchild		*n;

	if ((n = realloc(kids, sizeof(*kids) * (size_t)(nkids + 1))) == NULL) {
		kill(pid, SIGKILL);	/* reaped; its line closed below */
		close(line);
		return;
	}
	kids = n;
	kids[nkids].pid = pid;
	kids[nkids].line = line;
	ev.data.u64 = (uint64_t)line;
	epoll_ctl(ep, EPOLL_CTL_ADD, line, &ev);
	nkids++;
}

static void
word_send(int line, uint32_t kind, int32_t value)
{
	struct zygote_word w = { .kind = kind, .value = value };

	(void)!send(line, &w, sizeof(w), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Children that ended: their status to their worker, their line closed. */
static void
reap_kids(int ep)
{
	pid_t	pid;
	int	status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < nkids && kids[i].pid != pid; i++)
			;
		if (i == nkids)
			continue;
		word_send(kids[i].line, ZW_EXIT, status);
		epoll_ctl(ep, EPOLL_CTL_DEL, kids[i].line, NULL);
		close(kids[i].line);
		kids[i] = kids[--nkids];
	}
}

/* A worker's ZW_KILL: only the two signals a pool sends, only to the
 * process of that line. */
static void
line_read(int ep, int line)
{
	struct zygote_word	w;
	ssize_t			n;
	int			i;

	for (i = 0; i < nkids && kids[i].line != line; i++)
		;
	if (i == nkids)
		return;
	n = recv(line, &w, sizeof(w), MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		/* The worker let go of it (it gave up waiting for our answer,
		 * or it is gone): the process goes too, reaped as any other. */
		epoll_ctl(ep, EPOLL_CTL_DEL, line, NULL);
		kill(-kids[i].pid, SIGKILL);
		kill(kids[i].pid, SIGKILL);	/* if not yet its own group */
		return;
	}
	if (n != (ssize_t)sizeof(w) || w.kind != ZW_KILL)
		return;
	if (w.value == SIGKILL)
		kill(-kids[i].pid, SIGKILL);	/* its process group, as script.c's */
	else if (w.value == SIGTERM)
		kill(kids[i].pid, SIGTERM);
}

/* One fork: in the parent, the child is recorded and the worker told its
 * pid; the child returns (0) only inside the sandbox. */
static int
fork_one(int ep, const struct msg_zygote_fork *m, int line)
{
	struct zygote_fds	fds;
	pid_t			pid, nspid;

	if (nkids >= ZYGOTE_CHILDREN_MAX) {
		log_warnx("zygote: %d PHP processes already; %s's starts its own",
		    nkids, m->locker);
		close(line);
		return -1;
	}
	if (zygote_take(m, line, &fds) == -1) {
		close(line);
		return -1;
	}
	if ((pid = zygote_fork_into(&fds, real_fork)) == 0)
		return zygote_enter(m, &fds, line);	/* 0, in the locker's sandbox */
	zygote_fds_close(&fds);
	if (pid == -1 || (nspid = zygote_nspid(pid)) <= 0) {
		if (pid > 0)
			kill(pid, SIGKILL);	/* reaped as any other */
		close(line);
		return -1;
	}
	word_send(line, ZW_PID, nspid);
	kid_add(pid, line, ep);
	return -1;
}

/* The master's message: a fork, or the end of our taking them. */
static int
master_read(int ep, int *retired)
{
	static struct msg_zygote_fork	 m;
	enum msg_type			 type;
	const char			*why;
	ssize_t				 n;
	int				 fd;

	n = msg_recv_checked(zchan, MR_ZYGOTE, MR_MASTER, &type, &m, sizeof(m), &fd, &why);
	if (n == MSG_BREACH)
		msg_breach(MR_ZYGOTE, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
	if (n == -1 && errno == EAGAIN)
		return -1;
	if (n < 0 || type != MSG_ZYGOTE_FORK) {
		/* Retired (a new layout for the next ones), or the master is gone
		 * (then our children and we die with it anyway). */
		epoll_ctl(ep, EPOLL_CTL_DEL, zchan, NULL);
		close(zchan);
		zchan = -1;
		*retired = 1;
		return -1;
	}
	return fork_one(ep, &m, fd);
}

/* Returns only in a child, inside its locker's sandbox. */
static void
zygote_loop(void)
{
	struct epoll_event	ev, evs[64];
	sigset_t		mask;
	int			ep, sfd, retired = 0, n, i;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("zygote: signalfd");
	Z.sigfd = sfd;
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.u64 = (uint64_t)zchan;
	epoll_ctl(ep, EPOLL_CTL_ADD, zchan, &ev);
	while (!retired || nkids > 0) {
		if ((n = epoll_wait(ep, evs, 64, -1)) == -1 && errno != EINTR)
			fatal("zygote: epoll_wait");
		for (i = 0; i < n; i++) {
			int fd = (int)evs[i].data.u64;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) > 0)
					;
				reap_kids(ep);
			} else if (fd == zchan) {
				if (master_read(ep, &retired) == 0) {
					close(ep);
					return;		/* the child */
				}
			} else
				line_read(ep, fd);
		}
	}
	exit(0);
}

/* php-cgi's handlers as its parent had them at fork(); see php_sigs.
 * Not SIGCHLD (ours), nor the three php-cgi's child puts back itself. */
static void
save_php_signals(void)
{
	signals_save(Z.php_sigs);
	Z.php_sigs[SIGCHLD].sa_handler = SIG_DFL;
	Z.php_sigs[SIGTERM].sa_handler = SIG_DFL;
	Z.php_sigs[SIGINT].sa_handler = SIG_DFL;
	Z.php_sigs[SIGQUIT].sa_handler = SIG_DFL;
}

/*
 * The zygote, once: PHP has started; what must not be shared is made
 * private, the lockers' sandbox is made ready (seccomp's filter compiled,
 * Landlock and cgroups probed), the master is told.  Returns in a child.
 */
static void
zygote_main(void)
{
	char	missing[256], err[256];

	log_init("zygote", debug);
	save_php_signals();
	/* php-cgi's parent handlers kill its process group; ours is ours. */
	child_reset(CHILD_DIE_WITH_PARENT);
	signal(SIGPIPE, SIG_IGN);
	if (snapshot_maps() == -1)
		fatalx("zygote: cannot make PHP's shared memory private; not serving");
	find_lock_fd();
	if (seccomp_compile(err, sizeof(err)) == -1)
		fatalx("zygote: %s", err);
	landlock_probe(missing, sizeof(missing));
	cgroup_probe(missing, sizeof(missing));
	if ((Z.own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("zygote: /proc/self/ns/pid");
	/* A line per child: as many descriptors as we may; each child gets
	 * back the limit we were started with, then its locker's. */
	if (getrlimit(RLIMIT_NOFILE, &Z.nofile) == 0) {
		struct rlimit more = { Z.nofile.rlim_max, Z.nofile.rlim_max };

		setrlimit(RLIMIT_NOFILE, &more);
	}
	if (msg_send(zchan, MSG_ZYGOTE_READY, NULL, 0, -1) == -1)
		exit(1);
	log_debug("zygote: ready (opcache lock fd %d)", Z.lock_fd);
	zygote_loop();
}

__attribute__((visibility("default"))) pid_t
fork(void)
{
	if (zchan == -1 || forked)
		return real_fork();
	forked = 1;
	zygote_main();
	return 0;
}
