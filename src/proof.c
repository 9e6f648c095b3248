/*
 * proof.c: the DNS questions of `locker vhost verify`, asked without the
 * master waiting for them.
 *
 * A name's owner may make its DNS answer slowly or never, and any login
 * user may run verify; a master that waited for the answer would serve no
 * other locker meanwhile (no cold start, no other `locker` command).  So
 * the question is asked in a child that drops to the front user, and the
 * master goes on: the child's answer, one byte (VHOST_PROOF_*, never a
 * byte of the DNS's), comes back on a pipe through the master's loop, and
 * ctl_vhosts.c then completes the claim and answers the client.
 *
 * Bounded: PROOF_MAX lookups in flight on the machine (root has a few
 * more, so users cannot lock it out), one per login user; each is killed
 * at dns-timeout.  A client that hangs up takes its lookup with it.
 */
#include <sys/prctl.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <resolv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "vhost.h"
#include "dnstxt.h"

#define PROOF_MAX	16	/* in flight, for login users */
#define PROOF_MAX_ROOT	24	/* ... and with root's */
#define PROOF_PER_UID	1

struct proof {
	enum ev_kind	 kind;		/* EV_PROOF */
	pid_t		 pid;		/* 0 once reaped */
	int		 fd;		/* the answer's pipe; -1 once answered */
	uid_t		 uid;		/* who asked */
	uint64_t	 deadline_ms;
	struct ctl_client *waiter;	/* NULL once it hung up */
	char		 token[VHOST_TOKEN_LEN + 1];
	struct proof	*next;
};

static struct proof	*proofs;

/* In the child, as the front user: the answer, parsed by libresolv. */
static int
proof_child(pid_t master, const char *host, const char *token)
{
	static unsigned char	 ans[NS_MAXMSG];
	char			 qname[HOSTNAME_MAX + 32];
	int			 n;

	if (res_init() != 0)
		return VHOST_PROOF_NOANSWER;
	drop_privileges(M->conf.front_user, NULL);
	/* Cleared by the change of uid; it must not outlive the master. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != master)
		return VHOST_PROOF_NOANSWER;
	vhost_proof_name(host, qname, sizeof(qname));
	if ((n = res_query(qname, ns_c_in, ns_t_txt, ans, sizeof(ans))) < 0)
		return h_errno == HOST_NOT_FOUND || h_errno == NO_DATA ? VHOST_PROOF_NO :
		    VHOST_PROOF_NOANSWER;
	switch (dns_txt_answer_has(ans, n, token)) {
	case 1:
		return VHOST_PROOF_YES;
	case 0:
		return VHOST_PROOF_NO;
	}
	return VHOST_PROOF_NOANSWER;
}

static void
proof_fork_child(pid_t master, int wfd, const char *host, const char *token)
{
	signed char	answer;

	/* Not the master's channels, sockets and directory: only the pipe. */
	if (close_fds_except(3, &wfd, 1) == -1)
		_exit(1);
	child_reset(0);
	answer = (signed char)proof_child(master, host, token);
	_exit(write(wfd, &answer, 1) == 1 ? 0 : 1);
}

/* Lookups not yet answered: all of them (uid -1), or uid's. */
static int
in_flight(long uid)
{
	struct proof	*p;
	int		 n = 0;

	for (p = proofs; p != NULL; p = p->next)
		if (p->fd != -1 && (uid == -1 || p->uid == (uid_t)uid))
			n++;
	return n;
}

/* Processes not yet reaped, answered or not: what the machine holds. */
static int
processes(void)
{
	struct proof	*p;
	int		 n = 0;

	for (p = proofs; p != NULL; p = p->next)
		n += p->pid > 0;
	return n;
}

int
proof_start(struct ctl_client *c, const char *host, const char *token, char *err,
    size_t errlen)
{
	struct proof	*p;
	pid_t		 master = getpid();
	int		 fds[2];

	if (c->uid != 0 && in_flight((long)c->uid) >= PROOF_PER_UID) {
		/* Not "busy:", which the CLI would ask again, quietly, 40 times. */
		snprintf(err, errlen, "your other vhost verify is still waiting for the "
		    "DNS; one at a time: try again when it has its answer");
		return -1;
	}
	if (processes() >= (c->uid == 0 ? PROOF_MAX_ROOT : PROOF_MAX)) {
		snprintf(err, errlen, "%d vhost verifies are waiting for the DNS already, "
		    "the most at once here; try again in a few seconds", PROOF_MAX);
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		free(p);
		snprintf(err, errlen, "cannot ask the DNS now: %s; try again",
		    strerror(errno));
		return -1;
	}
	if ((p->pid = fork()) == 0)
		proof_fork_child(master, fds[1], host, token);
	close(fds[1]);
	if (p->pid == -1) {
		snprintf(err, errlen, "cannot ask the DNS now: %s; try again",
		    strerror(errno));
		close(fds[0]);
		free(p);
		return -1;
	}
	p->kind = EV_PROOF;
	p->fd = fds[0];
	p->uid = c->uid;
	p->waiter = c;
	p->deadline_ms = now_ms() + (uint64_t)M->conf.dns_timeout * 1000;
	snprintf(p->token, sizeof(p->token), "%s", token);
	p->next = proofs;
	proofs = p;
	c->proof = p;
	ev_add(p->fd, p);
	return 0;
}

/* The answer is in (or will never be): the child goes, the client hears. */
static void
proof_finish(struct proof *p, int answer)
{
	struct ctl_client *c = p->waiter;

	ev_del(p->fd);
	close(p->fd);
	p->fd = -1;
	if (p->pid > 0)
		kill(p->pid, SIGKILL);	/* not reaped yet: the pid is still its */
	p->waiter = NULL;
	if (c != NULL) {
		c->proof = NULL;
		control_proof_done(c, p->token, answer);
	}
}

void
proof_event(struct proof *p)
{
	signed char	answer = VHOST_PROOF_NOANSWER;
	ssize_t		n;

	if (p->kind != EV_PROOF || p->fd == -1)
		return;
	n = read(p->fd, &answer, 1);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != 1 || (answer != VHOST_PROOF_YES && answer != VHOST_PROOF_NO))
		answer = VHOST_PROOF_NOANSWER;
	proof_finish(p, answer);
}

/* The client hung up, or was answered otherwise: the lookup is of no use. */
void
proof_cancel(struct proof *p)
{
	if (p->waiter != NULL)
		p->waiter->proof = NULL;
	p->waiter = NULL;
	if (p->fd != -1)
		proof_finish(p, VHOST_PROOF_NOANSWER);
}

int
proof_reaped(pid_t pid)
{
	struct proof *p;

	for (p = proofs; p != NULL; p = p->next)
		if (p->pid == pid) {
			p->pid = 0;	/* its answer, if any, is still in the pipe */
			return 1;
		}
	return 0;
}

/*
 * Each round, after the events: a lookup past dns-timeout is killed and
 * answered; one answered and reaped is freed (no event of a later round
 * can point at it: its pipe left epoll when it was answered).
 */
void
proof_tick(void)
{
	struct proof	**pp, *p;
	uint64_t	  now = now_ms();

	for (pp = &proofs; (p = *pp) != NULL;) {
		if (p->fd != -1 && now >= p->deadline_ms) {
			log_info("vhost verify: no answer from the DNS within %us; "
			    "lookup (pid %d) killed", M->conf.dns_timeout, (int)p->pid);
			proof_finish(p, VHOST_PROOF_NOANSWER);
		}
		if (p->fd == -1 && p->pid == 0) {
			*pp = p->next;
			free(p);
			continue;
		}
		pp = &p->next;
	}
}
