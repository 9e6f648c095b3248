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
 */
#include <sys/syscall.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"

#define SPAWNER_USES		64	/* workers per layout, then a new spawner */
#define SPAWNER_ANSWER_MS	1000	/* the master waits this long for a pid */

_Static_assert(sizeof(struct msg_spawn) <= MSG_MAX_PAYLOAD,
    "struct msg_spawn must fit in one message");

/* ---------------------------------------------------------------- spawner */

/* Static, not on the stack: the clone's child reads it after the call. */
static struct msg_spawn	req;
static char		*argv_role;	/* "spawner" in our own argv */

static __attribute__((noreturn)) void
child_run(int chan)
{
	struct sandbox_spec	spec;
	char			err[256];

	cs_set(CS_ASK, req.cs_ask);
	cs_set(CS_PREPARED, req.cs_prepared);
	cs_mark(CS_CLONED);
	child_reset(CHILD_DIE_WITH_PARENT);	/* the parent: the master */
	/* The channel on CHILD_CHAN_FD, over the spawner's own; nothing else. */
	if ((chan != CHILD_CHAN_FD && dup2(chan, CHILD_CHAN_FD) == -1) ||
	    close_fds_except(CHILD_CHAN_FD + 1, NULL, 0) == -1)
		_exit(126);
	cs_mark(CS_RESET);
	/* ps, `locker status` and the tests tell a worker by its command line,
	 * `lockerd -R worker`, which an exec would have given it. */
	if (argv_role != NULL && strlen(argv_role) >= strlen("worker"))
		memcpy(argv_role, "worker", sizeof("worker"));
	memset(&spec, 0, sizeof(spec));
	spec.conf = &req.conf;
	spec.locker = req.locker;
	spec.home = req.home;
	spec.uid = req.uid;
	spec.gid = req.gid;
	spec.keep_fds = 1;
	if (sandbox_enter(&spec, err, sizeof(err)) == -1) {
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

static int
spawn_req_ok(void)
{
	return memchr(req.locker, '\0', sizeof(req.locker)) != NULL &&
	    memchr(req.home, '\0', sizeof(req.home)) != NULL && req.locker[0] != '\0' &&
	    req.home[0] == '/' && req.uid != 0 && req.gid != 0;
}

int
spawner_main(char *role)
{
	struct msg_spawned	 rep;
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 fd, uses;

	argv_role = role;
	log_init("spawner", 0);
	if (sandbox_init_spawner() == -1)
		fatalx("spawner: cannot set up the lockers' sandbox");
	/* Ready: an answer with no pid.  Until it, the master starts workers
	 * itself rather than wait for our loader and seccomp's compiler. */
	memset(&rep, 0, sizeof(rep));
	if (msg_send(CHILD_CHAN_FD, MSG_SPAWNED, &rep, sizeof(rep), -1) == -1)
		exit(1);
	for (uses = 0; uses < SPAWNER_USES; uses++) {
		n = msg_recv_checked(CHILD_CHAN_FD, MR_SPAWNER, MR_MASTER, &type, &req,
		    sizeof(req), &fd, &why);
		if (n == MSG_BREACH)
			msg_breach(MR_SPAWNER, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
		if (n < 0 || type != MSG_SPAWN)
			exit(0);	/* the master is gone or stopping us */
		memset(&rep, 0, sizeof(rep));
		if (!spawn_req_ok())
			rep.err = EINVAL;
		else if ((rep.pid = spawn_one(fd)) == -1)
			rep.err = errno;
		close(fd);
		if (msg_send(CHILD_CHAN_FD, MSG_SPAWNED, &rep, sizeof(rep), -1) == -1)
			exit(1);
	}
	exit(0);	/* SPAWNER_USES: a new layout for the next ones */
}

/* ----------------------------------------------------------------- master */

static pid_t	spawner_pid;
static int	spawner_chan = -1;
static int	spawner_uses;		/* asks it answered, up to SPAWNER_USES */
static int	spawner_ready;		/* it said so */
static uint64_t	spawner_restart_at;

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

/* The spawner's answer to the one ask in flight: its pid, 0 (none), or
 * -1 (no answer in time, or a bad one).  wait_ms 0: only if it is there. */
static pid_t
spawner_answer(int wait_ms)
{
	struct msg_spawned	 rep;
	struct pollfd		 p = { .fd = spawner_chan, .events = POLLIN };
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 fd;

	if (poll(&p, 1, wait_ms) != 1) {
		if (wait_ms > 0)
			log_warnx("spawner: no answer in %d ms", wait_ms);
		return -1;
	}
	n = msg_recv_checked(spawner_chan, MR_MASTER, MR_SPAWNER, &type, &rep, sizeof(rep), &fd,
	    &why);
	if (n == MSG_BREACH) {
		msg_breach(MR_MASTER, MR_SPAWNER, "", type, why);
		return -1;
	}
	if (n != (ssize_t)sizeof(rep) || type != MSG_SPAWNED)
		return -1;	/* it ended (SPAWNER_USES) or broke */
	if (rep.pid <= 0) {
		if (rep.err != 0) {
			errno = rep.err;
			log_warn("spawner: clone");
		}
		return 0;
	}
	return rep.pid;
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
	if (msg_send(spawner_chan, MSG_SPAWN, &m, sizeof(m), chan) == -1) {
		spawner_lost();
		return -1;
	}
	/* Asked: never started a second time by the caller on the same channel. */
	if ((pid = spawner_answer(SPAWNER_ANSWER_MS)) == -1) {
		spawner_lost();
		return 0;
	}
	/* Its last: it exits now (status 0), so ask it no more meanwhile. */
	if (++spawner_uses >= SPAWNER_USES) {
		close(spawner_chan);
		spawner_chan = -1;
	}
	return pid;
}
