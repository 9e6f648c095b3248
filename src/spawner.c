/*
 * spawner.c: workers started by a small process, without an exec each.
 *
 * Where a worker's cold start went (coldstart.c, bench/coldstart.py): most
 * of it in execve() of our own binary, the dynamic loader mapping and
 * relocating a dozen libraries (OpenSSL's alone has thousands of
 * relocations), then clone() copying the master's page tables, which grow
 * with the directory and the routing table.  Neither is needed for each
 * worker: the binary only has to be loaded once.
 *
 * So the master starts one spawner (`lockerd -R spawner`, root, exec'd
 * once like every role, holding nothing but what each start is sent) and
 * asks it for each worker: MSG_SPAWN with the locker's configuration and
 * the worker's channel.  The spawner clone()s into the new namespaces with
 * CLONE_PARENT, so the worker is the master's child exactly as before (the
 * master reaps it, PR_SET_PDEATHSIG follows the master); the child enters
 * the sandbox (sandbox_enter, unchanged) and calls worker_main() in place
 * of an exec: the spawner's image is a freshly exec'd lockerd with none of
 * the master's memory, which is what the exec was for.  MSG_SPAWNED gives
 * the master the pid.
 *
 * What it costs: the workers a spawner starts share its address layout
 * (ASLR is per exec) and its stack canary, as Android's zygote's children
 * do; a locker can read its own worker's layout, which is then that of
 * the other workers the same spawner started.  The spawner therefore
 * exits after SPAWNER_USES starts and the master starts a fresh one (a new
 * layout), so one layout is shared by at most that many workers, and by
 * lockers that start close together in time.  While there is no spawner
 * (starting, restarting, or a locker with locker-network private, whose
 * network namespace the master joins in its own clone), the master starts
 * the worker itself as before: clone, sandbox, exec.
 *
 * The spare.  Even from the small spawner, the clone and the scheduling of
 * its child were the largest step of a cold start left (2.5-4.8 ms p50 of
 * 10-12 ms at load 4 on two CPUs: the child waits for a CPU after the
 * clone), then the jail's unmount of the old root (an RCU grace period).
 * So the spawner keeps one child made ahead of need, a spare: in its own
 * pid, ipc and uts namespaces, reset, it builds every jail's part of its
 * jail at once (sandbox_prebuild(): mount namespace, system directories,
 * /etc, /dev, /proc, pivot_root) and waits on two sockets, one whose other
 * end the master holds (MSG_SPARE) and one to the spawner.  The master
 * hands it the ask itself (MSG_SPARE_ASK, with the worker's channel) and
 * waits for no answer; it tells the spawner (MSG_SPARE_JOIN), which clones
 * the locker's home and tmp/ (and with mail-relay the sendmail socket's
 * directory and client) with open_tree() in the machine's mount
 * namespace as it is then (a home mounted since, a disk-quota image, is
 * there) for the spare to attach (MSG_SPARE_TREE), moves the spare into
 * the locker's cgroups from outside while it finishes its jail, says so
 * (MSG_SPAWN_JOINED: the spare waits for it before its ids change) and
 * makes the next spare.  A spare is made for no locker and becomes
 * exactly one: nothing of a locker is in it before it is handed its ask
 * (the spawner wipes each ask, and its stack, before the clone that would
 * copy them), and it is never handed a second.  When the spawner goes, a
 * spare still waiting reads the end of its socket and exits; the master
 * reaps it as a child it does not know.
 */
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "mail.h"
#include "master.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE		1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE		0x8000
#endif

#define SPAWNER_USES		64	/* workers per layout, then a new spawner */
#define SPAWNER_ANSWER_MS	1000	/* the master waits this long for a pid */

_Static_assert(sizeof(struct msg_spawn) <= MSG_MAX_PAYLOAD,
    "struct msg_spawn must fit in one message");

/* ---------------------------------------------------------------- spawner */

/* Static, not on the stack: the clone's child reads it after the call. */
static struct msg_spawn	req;
static char		*argv_role;	/* "spawner" in our own argv */
static size_t		 argv_role_len;	/* its room: strlen("spawner") */

/* The spare made ahead, the spawner's end of its socketpair; none: 0, -1. */
static pid_t		spare_pid;
static int		spare_sock = -1;

/* The spare's namespaces: the mount namespace comes when it is handed an
 * ask (spare_wait()), so that it copies the mounts of then. */
#define SPARE_CLONE_FLAGS	(SANDBOX_CLONE_FLAGS & ~CLONE_NEWNS)

/* argv's role word, rewritten for ps, `locker status` and the tests. */
static void
set_role_name(const char *name)
{
	if (argv_role != NULL && argv_role_len >= strlen(name)) {
		memset(argv_role, 0, argv_role_len);
		memcpy(argv_role, name, strlen(name));
	}
}

static int
spawn_req_ok(void)
{
	return memchr(req.locker, '\0', sizeof(req.locker)) != NULL &&
	    memchr(req.home, '\0', sizeof(req.home)) != NULL && req.locker[0] != '\0' &&
	    req.home[0] == '/' && req.uid != 0 && req.gid != 0;
}

/* The spare's socket to the spawner, until its MSG_SPAWN_JOINED. */
static int	joined_sock = -1;

/* sandbox_enter()'s wait, in a spare: the spawner's word that it moved us
 * into the locker's cgroups.  Anything else (its end, an error) fails. */
static int
spare_joined(char *err, size_t errlen)
{
	struct msg_spawned	 m;
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 fd;

	n = msg_recv_checked(joined_sock, MR_SPARE, MR_SPAWNER, &type, &m, sizeof(m), &fd,
	    &why);
	close(joined_sock);
	joined_sock = -1;
	if (n != (ssize_t)sizeof(m) || type != MSG_SPAWN_JOINED) {
		snprintf(err, errlen, "no word from the spawner on its cgroups");
		return -1;
	}
	if (m.err != 0) {
		snprintf(err, errlen, "join its cgroups: %s", strerror(m.err));
		return -1;
	}
	return 0;
}

/* Its jail was made ahead (sandbox_prebuild()): the home and tmp/ to come
 * as trees from the spawner. */
static int	prebuilt;

/* One of the spawner's MSG_SPARE_TREE: its descriptor, or -1 with none
 * (want: it must have one). */
static int
spare_tree(int want, int *tree, char *err, size_t errlen)
{
	struct msg_spawned	 m;
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;

	n = msg_recv_checked(joined_sock, MR_SPARE, MR_SPAWNER, &type, &m, sizeof(m), tree,
	    &why);
	if (n != (ssize_t)sizeof(m) || type != MSG_SPARE_TREE || m.err != 0 ||
	    (want && *tree == -1)) {
		snprintf(err, errlen, "no home from the spawner%s%s", m.err ? ": " : "",
		    n == (ssize_t)sizeof(m) && m.err ? strerror(m.err) : "");
		return -1;
	}
	return 0;
}

/* A spare's jail finished for the locker in req (or, not made ahead, made
 * now; the spawner's trees are then not needed). */
static int
spare_finish(const struct sandbox_spec *spec, char *err, size_t errlen)
{
	int home = -1, tmp = -1, mail[2] = { -1, -1 }, rc = -1, ok, i;

	ok = spare_tree(1, &home, err, errlen) == 0 && spare_tree(0, &tmp, err, errlen) == 0;
	/* mail-relay: the sendmail socket's directory and client follow. */
	if (ok && spec->conf->mail_relay.host[0] != '\0')
		ok = spare_tree(0, &mail[0], err, errlen) == 0 &&
		    spare_tree(0, &mail[1], err, errlen) == 0;
	if (ok)
		rc = prebuilt ? sandbox_finish(spec, home, tmp, mail, err, errlen) :
		    sandbox_enter(spec, err, errlen);
	if (home != -1)
		close(home);
	if (tmp != -1)
		close(tmp);
	for (i = 0; i < 2; i++)
		if (mail[i] != -1)
			close(mail[i]);
	return rc;
}

static __attribute__((noreturn)) void
child_run(int chan)
{
	struct sandbox_spec	spec;
	char			err[256];
	int			rc;

	cs_set(CS_ASK, req.cs_ask);
	cs_set(CS_PREPARED, req.cs_prepared);
	cs_mark(CS_CLONED);
	child_reset(CHILD_DIE_WITH_PARENT);	/* the parent: the master */
	/* The channel on CHILD_CHAN_FD, over the spawner's own; nothing else. */
	if ((chan != CHILD_CHAN_FD && dup2(chan, CHILD_CHAN_FD) == -1) ||
	    close_fds_except(CHILD_CHAN_FD + 1, &joined_sock, joined_sock != -1) == -1)
		_exit(126);
	cs_mark(CS_RESET);
	/* ps, `locker status` and the tests tell a worker by its command line,
	 * `lockerd -R worker`, which an exec would have given it. */
	set_role_name("worker");
	memset(&spec, 0, sizeof(spec));
	spec.conf = &req.conf;
	spec.locker = req.locker;
	spec.home = req.home;
	spec.uid = req.uid;
	spec.gid = req.gid;
	spec.keep_fds = 1;
	if (joined_sock != -1)
		spec.cgroups_joined = spare_joined;
	rc = joined_sock != -1 ? spare_finish(&spec, err, sizeof(err)) :
	    sandbox_enter(&spec, err, sizeof(err));
	if (rc == -1) {
		log_warnx("worker %s: sandbox: %s", req.locker, err);
		_exit(125);
	}
	exit(worker_main());
}

static pid_t
spawn_one(int chan)
{
	pid_t pid = (pid_t)syscall(SYS_clone,
	    (unsigned long)(CLONE_PARENT | SANDBOX_CLONE_FLAGS), NULL, NULL, NULL, NULL);

	if (pid == 0)
		child_run(chan);
	return pid;
}

/*
 * The spare, from its clone: nothing but its two sockets (the master's ask,
 * the spawner's word on its cgroups), then one ask.  Its copy of req is the
 * wiped one (spawner_main() wipes before each clone); the ask it is handed
 * overwrites all of it.  The spawner's end before an ask (it is gone): exit.
 */
static __attribute__((noreturn)) void
spare_wait(int ask, int join)
{
	struct pollfd	 p[2];
	enum msg_type	 type;
	const char	*why;
	char		 err[256];
	ssize_t		 n;
	int		 keep[2], fd, hostns;

	child_reset(CHILD_DIE_WITH_PARENT);	/* the parent: the master */
	/* Off the spawner's channel to the master (CHILD_CHAN_FD). */
	keep[0] = ask;
	keep[1] = join;
	if (close_fds_except(CHILD_CHAN_FD, keep, 2) == -1)
		_exit(126);
	set_role_name("spare");
	/* Made ahead; else (the system's /etc changing under it, say) back in
	 * the machine's mounts, to make it when the ask comes, as a clone does. */
	hostns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (sandbox_prebuild(err, sizeof(err)) == 0)
		prebuilt = 1;
	else {
		log_warnx("spare: its jail ahead: %s; made when asked", err);
		if (hostns == -1 || setns(hostns, CLONE_NEWNS) == -1)
			_exit(125);
	}
	if (hostns != -1)
		close(hostns);
	p[0] = (struct pollfd){ .fd = ask, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = join, .events = POLLIN };
	while (poll(p, 2, -1) == -1)
		if (errno != EINTR)
			_exit(126);
	/* An ask first: the spawner's word may be there already (it answers
	 * the master's MSG_SPARE_JOIN while we wait for a CPU). */
	if (!(p[0].revents & POLLIN))
		_exit(0);	/* the spawner is gone, or the master let us go */
	n = msg_recv_checked(ask, MR_SPARE, MR_MASTER, &type, &req, sizeof(req), &fd, &why);
	if (n != (ssize_t)sizeof(req) || type != MSG_SPARE_ASK || fd == -1 || !spawn_req_ok())
		_exit(0);
	close(ask);
	/* Where child_run()'s dup2 onto CHILD_CHAN_FD cannot land on it. */
	if (join == CHILD_CHAN_FD &&
	    (join = fcntl(CHILD_CHAN_FD, F_DUPFD_CLOEXEC, CHILD_CHAN_FD + 1)) == -1)
		_exit(126);
	joined_sock = join;
	/* Not made ahead: its own mount namespace, a copy of the mounts of now. */
	if (!prebuilt && unshare(CLONE_NEWNS) == -1)
		_exit(125);
	child_run(fd);
}

/*
 * A spare made ahead for the next ask, and its ask socket given to the
 * master (MSG_SPARE), which hands it the ask itself: one wake-up (ours)
 * fewer on the way, and the master waits for no answer.  None if it
 * cannot be made (the master then asks us to clone, as without one).
 */
static void
spare_make(void)
{
	struct msg_spawned	m;
	int			ask[2], join[2];

	if (chan_pair(ask) == -1)
		return;
	if (chan_pair(join) == -1) {
		close(ask[0]);
		close(ask[1]);
		return;
	}
	spare_pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SPARE_CLONE_FLAGS),
	    NULL, NULL, NULL, NULL);
	if (spare_pid == 0) {
		close(ask[0]);
		close(join[0]);
		spare_wait(ask[1], join[1]);
	}
	close(ask[1]);
	close(join[1]);
	if (spare_pid == -1) {
		spare_pid = 0;
		close(ask[0]);
		close(join[0]);
		return;
	}
	spare_sock = join[0];
	memset(&m, 0, sizeof(m));
	m.pid = spare_pid;
	if (msg_send(CHILD_CHAN_FD, MSG_SPARE, &m, sizeof(m), ask[0]) == -1)
		exit(1);	/* the master is gone */
	close(ask[0]);
}

static int tree_of(int at, const char *dir);

/* The home's tmp/, as setup_tmp() takes it: never through a symlink. */
static int
tree_of_tmp(const char *home)
{
	int fd, t;

	if ((fd = open(home, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	t = tree_of(fd, "tmp");
	close(fd);
	return t;
}

/* A clone of dir's mount (open_tree: of the machine's mounts as they are
 * now), dir opened without following a symlink; -1 with errno. */
static int
tree_of(int at, const char *dir)
{
	int fd, tree;

	if ((fd = openat(at, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	tree = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
	close(fd);
	return tree;
}

/* A clone of the mount of path, a file or a directory (the jails'
 * sendmail client, its socket's directory); -1 with errno. */
static int
tree_of_path(const char *path)
{
	int fd, tree;

	if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	tree = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
	close(fd);
	return tree;
}

/* The spare's home and the home's tmp/ (none if it has no such directory:
 * the spare makes a tmpfs) as mount trees, in that order; with mail-relay,
 * the sendmail socket's directory and client after them (none: the spare
 * goes without, and its sendmail says mail cannot be reached). */
static void
spare_send_trees(const struct msg_spare_join *j)
{
	const char		*home = j->home, *mail[2] = { j->mail_dir, j->mail_client };
	struct msg_spawned	 m;
	int			 t, i;

	memset(&m, 0, sizeof(m));
	if ((t = tree_of(AT_FDCWD, home)) == -1)
		m.err = errno != 0 ? errno : EIO;
	msg_send(spare_sock, MSG_SPARE_TREE, &m, sizeof(m), t);
	if (t != -1)
		close(t);
	if (m.err != 0)
		return;		/* the spare fails, and exits */
	t = -1;
	if (home[0] == '/')
		t = tree_of_tmp(home);
	msg_send(spare_sock, MSG_SPARE_TREE, &m, sizeof(m), t);
	if (t != -1)
		close(t);
	for (i = 0; i < 2 && mail[0][0] != '\0'; i++) {
		t = tree_of_path(mail[i]);
		msg_send(spare_sock, MSG_SPARE_TREE, &m, sizeof(m), t);
		if (t != -1)
			close(t);
	}
}

/* The master handed our spare an ask: into the locker's cgroups while it
 * builds its jail (it waits for this word before anything of the locker's
 * runs); killed if they cannot be joined.  Only our own spare is moved. */
static void
spare_join(const struct msg_spare_join *j)
{
	struct msg_spawned	m;
	char			err[256];

	memset(&m, 0, sizeof(m));
	m.pid = j->pid;
	if (spare_pid <= 0 || j->pid != spare_pid || spare_sock == -1 ||
	    memchr(j->locker, '\0', sizeof(j->locker)) == NULL || j->uid == 0 ||
	    memchr(j->home, '\0', sizeof(j->home)) == NULL || j->home[0] != '/' ||
	    memchr(j->mail_dir, '\0', sizeof(j->mail_dir)) == NULL ||
	    memchr(j->mail_client, '\0', sizeof(j->mail_client)) == NULL) {
		log_warnx("spawner: asked to move a process that is not its spare");
		return;
	}
	spare_send_trees(j);
	if (cgroup_attach(j->locker, j->uid, j->pid, err, sizeof(err)) == -1) {
		log_warnx("spawner: %s", err);
		m.err = errno != 0 ? errno : EIO;
	}
	if (msg_send(spare_sock, MSG_SPAWN_JOINED, &m, sizeof(m), -1) == -1 || m.err != 0)
		kill(j->pid, SIGKILL);
	close(spare_sock);
	spare_sock = -1;
	spare_pid = 0;
}

/* What the last ask left on our stack (the locker's name and home in the
 * paths cgroup_attach() and open_tree() were given, the messages' frames)
 * wiped before a spare is cloned with a copy of it. */
static void __attribute__((noinline))
stack_wipe(void)
{
	char buf[128 * 1024];

	explicit_bzero(buf, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

/* The master's MSG_SPAWN: a clone of our own, its pid answered. */
static void
spawn_asked(int fd)
{
	struct msg_spawned rep;

	memset(&rep, 0, sizeof(rep));
	if (!spawn_req_ok())
		rep.err = EINVAL;
	else if ((rep.pid = spawn_one(fd)) == -1)
		rep.err = errno;
	close(fd);
	explicit_bzero(&req, sizeof(req));
	if (msg_send(CHILD_CHAN_FD, MSG_SPAWNED, &rep, sizeof(rep), -1) == -1)
		exit(1);
}

int
spawner_main(char *role)
{
	struct msg_spawned	 rep;
	struct msg_spare_join	 join;
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 fd, uses;

	argv_role = role;
	argv_role_len = strlen(role);
	log_init("spawner", 0);
	if (sandbox_init_spawner() == -1)
		fatalx("spawner: cannot set up the lockers' sandbox");
	/* Ready: an answer with no pid.  Until it, the master starts workers
	 * itself rather than wait for our loader and seccomp's compiler. */
	memset(&rep, 0, sizeof(rep));
	if (msg_send(CHILD_CHAN_FD, MSG_SPAWNED, &rep, sizeof(rep), -1) == -1)
		exit(1);
	explicit_bzero(&req, sizeof(req));
	spare_make();
	for (uses = 0; uses < SPAWNER_USES; uses++) {
		n = msg_recv_checked(CHILD_CHAN_FD, MR_SPAWNER, MR_MASTER, &type, &req,
		    sizeof(req), &fd, &why);
		if (n == MSG_BREACH)
			msg_breach(MR_SPAWNER, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
		if (n < 0 || type == MSG_NONE)
			exit(0);	/* the master is gone or stopping us */
		if (type == MSG_SPAWN) {
			spawn_asked(fd);
			continue;
		}
		if (type != MSG_SPARE_JOIN)
			exit(0);
		memcpy(&join, &req, sizeof(join));
		explicit_bzero(&req, sizeof(req));
		spare_join(&join);
		/* Nothing of this locker for the next spare (req wiped above). */
		explicit_bzero(&join, sizeof(join));
		stack_wipe();
		if (uses + 1 < SPAWNER_USES)
			spare_make();
	}
	exit(0);	/* SPAWNER_USES: a new layout for the next ones */
}

/* ----------------------------------------------------------------- master */

static pid_t	spawner_pid;
static int	spawner_chan = -1;
static int	spawner_uses;		/* asks it answered, up to SPAWNER_USES */
static int	spawner_ready;		/* it said so */
static uint64_t	spawner_restart_at;
static pid_t	master_spare_pid;	/* its spare (MSG_SPARE), and our end of */
static int	master_spare_fd = -1;	/* the spare's ask socket; none: 0, -1 */

/* The spare let go: it reads the end of its socket and exits. */
static void
spare_forget(void)
{
	if (master_spare_fd != -1)
		close(master_spare_fd);
	master_spare_fd = -1;
	master_spare_pid = 0;
}

void
spawner_start(void)
{
	int sv[2];

	spawner_restart_at = 0;
	if (chan_pair(sv) == -1) {
		log_warn("spawner: socketpair");
		spawner_restart_at = now_ms() + 1000;
		return;
	}
	spawner_pid = spawn_role(M->exe_fd, "spawner", NULL, sv[1], NULL, 0, NULL, NULL);
	close(sv[1]);
	if (spawner_pid == -1) {
		log_warn("spawner: fork");
		close(sv[0]);
		spawner_pid = 0;
		spawner_restart_at = now_ms() + 1000;
		return;
	}
	spawner_chan = sv[0];
	spawner_uses = 0;
	spawner_ready = 0;
	log_debug("spawner started, pid %d", (int)spawner_pid);
}

static void
spawner_lost(void)
{
	spare_forget();
	if (spawner_chan != -1)
		close(spawner_chan);
	spawner_chan = -1;
	if (spawner_pid > 0)
		kill(spawner_pid, SIGKILL);	/* reaped by spawner_reaped() */
}

/* 1 if pid was the spawner: a new one is started (at once after its
 * planned exit, a second later after anything else). */
int
spawner_reaped(pid_t pid, int status)
{
	if (pid != spawner_pid || pid <= 0)
		return 0;
	spawner_pid = 0;
	spawner_lost();
	if (M->stopping)
		return 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		spawner_restart_at = now_ms();
	else {
		log_warnx("spawner (pid %d) ended with status 0x%x; restarting it", (int)pid,
		    status);
		spawner_restart_at = now_ms() + 1000;
	}
	return 1;
}

void
spawner_tick(void)
{
	if (spawner_pid == 0 && spawner_restart_at != 0 && now_ms() >= spawner_restart_at &&
	    !M->stopping)
		spawner_start();
}

pid_t
spawner_running(void)
{
	return spawner_pid;
}

void
spawner_stop(void)
{
	if (spawner_pid > 0)
		kill(spawner_pid, SIGTERM);
}

/* A spare the spawner made (MSG_SPARE): kept for the next start. */
static void
spare_keep(const struct msg_spawned *m, int fd)
{
	spare_forget();		/* a newer one: the spawner makes one at a time */
	if (m->pid <= 0 || fd == -1) {
		if (fd != -1)
			close(fd);
		return;
	}
	master_spare_pid = m->pid;
	master_spare_fd = fd;
}

/* The spawner's answer to the one ask in flight: its pid, 0 (none), or
 * -1 (no answer in time, or a bad one).  wait_ms 0: only if it is there.
 * A spare it announces meanwhile is kept. */
static pid_t
spawner_answer(int wait_ms)
{
	struct msg_spawned	 rep;
	struct pollfd		 p = { .fd = spawner_chan, .events = POLLIN };
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 fd;

	for (;;) {
		if (poll(&p, 1, wait_ms) != 1) {
			if (wait_ms > 0)
				log_warnx("spawner: no answer in %d ms", wait_ms);
			return -1;
		}
		n = msg_recv_checked(spawner_chan, MR_MASTER, MR_SPAWNER, &type, &rep,
		    sizeof(rep), &fd, &why);
		if (n == MSG_BREACH) {
			msg_breach(MR_MASTER, MR_SPAWNER, "", type, why);
			return -1;
		}
		if (n != (ssize_t)sizeof(rep))
			return -1;	/* it ended (SPAWNER_USES) or broke */
		if (type == MSG_SPARE) {
			spare_keep(&rep, fd);
			continue;
		}
		break;
	}
	if (rep.pid <= 0) {
		if (rep.err != 0) {
			errno = rep.err;
			log_warn("spawner: clone");
		}
		return 0;
	}
	return rep.pid;
}

/* Spares the spawner announced since we last read it, without waiting. */
static void
spawner_drain(void)
{
	struct msg_spawned	 m;
	struct pollfd		 p = { .fd = spawner_chan, .events = POLLIN };
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 fd;

	while (spawner_chan != -1 && poll(&p, 1, 0) == 1) {
		n = msg_recv_checked(spawner_chan, MR_MASTER, MR_SPAWNER, &type, &m, sizeof(m),
		    &fd, &why);
		if (n == MSG_BREACH)
			msg_breach(MR_MASTER, MR_SPAWNER, "", type, why);
		if (n != (ssize_t)sizeof(m)) {
			spawner_lost();		/* it ended, or broke the rules */
			return;
		}
		if (type == MSG_SPARE)
			spare_keep(&m, fd);
		else if (fd != -1)
			close(fd);	/* (an answer no ask waits for) */
	}
}

/*
 * The ask m handed to the spare itself, then the spawner asked to move it
 * into the locker's cgroups (which it waits for): its pid, or 0 if it is
 * gone (killed: the caller asks the spawner instead).
 */
static pid_t
spare_use(const struct msg_spawn *m, int chan)
{
	struct msg_spare_join	j;
	pid_t			pid = master_spare_pid;
	int			rc;

	rc = msg_send(master_spare_fd, MSG_SPARE_ASK, m, sizeof(*m), chan);
	spare_forget();
	if (rc == -1) {
		kill(pid, SIGKILL);	/* reaped as a child of no role */
		return 0;
	}
	memset(&j, 0, sizeof(j));
	snprintf(j.locker, sizeof(j.locker), "%s", m->locker);
	snprintf(j.home, sizeof(j.home), "%s", m->home);
	j.uid = m->uid;
	j.pid = pid;
	if (m->conf.mail_relay.host[0] != '\0') {
		snprintf(j.mail_dir, sizeof(j.mail_dir), "%s/%s", m->conf.state, MAIL_STATE_DIR);
		snprintf(j.mail_client, sizeof(j.mail_client), "%s", m->conf.mail_client);
	}
	/* Without the spawner's word it exits before it is the locker's. */
	if (msg_send(spawner_chan, MSG_SPARE_JOIN, &j, sizeof(j), -1) == -1)
		spawner_lost();
	return pid;
}

/* A start it made, or its spare: after its last it exits (status 0), so
 * ask it no more meanwhile. */
static void
spawner_used(void)
{
	if (++spawner_uses >= SPAWNER_USES) {
		spare_forget();
		close(spawner_chan);
		spawner_chan = -1;
	}
}

/*
 * A worker through the spawner: its pid (a child of the master's), 0 if
 * it was asked and no worker came of it (the channel went to it: the
 * caller must not start one on it), or -1 if there is no spawner to ask
 * (the caller starts it itself).
 */
pid_t
spawner_spawn(const struct sandbox_spec *s, int chan)
{
	static struct msg_spawn	 m;	/* 60 KiB: not on the master's stack */
	pid_t			 pid;

	if (spawner_chan == -1 || cs_force_exec())
		return -1;
	if (!spawner_ready) {
		/* Its hello, if it has come; else the master starts this one. */
		if (spawner_answer(0) == -1)
			return -1;
		spawner_ready = 1;
	}
	memset(&m, 0, sizeof(m));
	m.conf = *s->conf;
	snprintf(m.locker, sizeof(m.locker), "%s", s->locker);
	snprintf(m.home, sizeof(m.home), "%s", s->home);
	m.uid = s->uid;
	m.gid = s->gid;
	cs_get(&m.cs_ask, &m.cs_prepared);
	spawner_drain();
	if (master_spare_fd != -1 && sandbox_prebuilt_ok(s->conf, m.home) &&
	    (pid = spare_use(&m, chan)) > 0) {
		spawner_used();
		return pid;
	}
	if (spawner_chan == -1)
		return -1;
	if (msg_send(spawner_chan, MSG_SPAWN, &m, sizeof(m), chan) == -1) {
		spawner_lost();
		return -1;
	}
	/* Asked: never started a second time by the caller on the same channel. */
	if ((pid = spawner_answer(SPAWNER_ANSWER_MS)) == -1) {
		spawner_lost();
		return 0;
	}
	spawner_used();
	return pid;
}
