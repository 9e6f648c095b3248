/*
 * test_become.c: become(), the one drop of root, and child_reset(), the one
 * reset of a child.  Each case runs in a child of its own, since a drop
 * cannot be undone; as root only (the tests are run as root).
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <grp.h>
#include <signal.h>
#include <unistd.h>

#include "unit.h"
#include "lockerd.h"

#define NOBODY	65534

/* Run fn in a child; its exit status is the number of failed checks. */
static void
in_child(void (*fn)(void))
{
	int	status;
	pid_t	pid = fork();

	if (pid == 0) {
		fn();
		_exit(unit_failures > 125 ? 125 : unit_failures);
	}
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
}

static void
drop_and_verify(void)
{
	char	err[256] = "";
	uid_t	r, e, s;
	gid_t	gr, ge, gs;

	int	sig = 0;

	CHECK_INT(setgroups(1, (gid_t[]){ 4 }), 0);	/* a group to lose */
	CHECK_INT(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), 0);
	CHECK_INT(become(NOBODY, NOBODY, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	/* still dies with its parent: the kernel cleared it, become() kept it */
	CHECK_INT(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0), 0);
	CHECK_INT(sig, SIGKILL);
	CHECK_INT(getresuid(&r, &e, &s), 0);
	CHECK(r == NOBODY && e == NOBODY && s == NOBODY);
	CHECK_INT(getresgid(&gr, &ge, &gs), 0);
	CHECK(gr == NOBODY && ge == NOBODY && gs == NOBODY);
	CHECK_INT(getgroups(0, NULL), 0);
	CHECK_INT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
	CHECK_INT(setuid(0), -1);
	CHECK_INT(setresuid((uid_t)-1, 0, (uid_t)-1), -1);
	/* A second drop, to another uid, is refused by the kernel: reported. */
	CHECK_INT(become(NOBODY - 1, NOBODY - 1, err, sizeof(err)), -1);
	CHECK(err[0] != '\0');
}

static void
refuses_root_and_unchanged(void)
{
	char	err[256];

	CHECK_INT(become(0, NOBODY, err, sizeof(err)), -1);
	CHECK_INT(become(NOBODY, 0, err, sizeof(err)), -1);
	CHECK_INT(become((uid_t)-1, NOBODY, err, sizeof(err)), -1);
	CHECK_INT(become(NOBODY, (gid_t)-1, err, sizeof(err)), -1);
	/* Nothing was changed by a refusal. */
	CHECK_INT(getuid(), 0);
	CHECK_INT(getgid(), 0);
	CHECK_INT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
}

static void
reset_signals(void)
{
	struct sigaction	sa;
	sigset_t		set, cur;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, 0);
	child_reset(CHILD_DIE_WITH_PARENT);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK(!sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGCHLD));
	CHECK_INT(sigaction(SIGPIPE, NULL, &sa), 0);
	CHECK(sa.sa_handler == SIG_DFL);
	CHECK_INT(sigaction(SIGINT, NULL, &sa), 0);
	CHECK(sa.sa_handler == SIG_DFL);
	{
		int sig = 0;

		CHECK_INT(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0), 0);
		CHECK_INT(sig, SIGKILL);
	}
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("not root: become() not tested\n");
		in_child(reset_signals);
		UNIT_DONE();
	}
	in_child(drop_and_verify);
	in_child(refuses_root_and_unchanged);
	in_child(reset_signals);
	UNIT_DONE();
}
