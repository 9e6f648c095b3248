/*
 * keyd.c: the key process, the only one that holds a TLS private key
 * (after OpenBSD relayd's "ca" process and h2o's neverbleed).
 *
 * front runs every TLS handshake but has no private key: where a handshake
 * needs one, front's proxy key (keyclient.c) sends keyd the digest or the
 * padded block, and keyd answers with the signature (keyop.c).  A front
 * that is subverted can ask for signatures while it runs, and no more: the
 * keys are in another address space, of another user, that a front cannot
 * read, and go with keyd's memory.
 *
 * keyd runs as key-user, chrooted into tls-dir, not dumpable, without core
 * dumps, under an allow-list seccomp filter with no call that opens a file,
 * makes a socket or starts a program.  The master opens each key file as
 * root and hands keyd the descriptor (MSG_KEY_LOAD), hands it one channel
 * per front (MSG_KEY_CHAN, the other end to that front), and restarts it
 * when it dies, sending the keys again.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"

#define KEYD_FRONTS	64	/* struct master's fronts[] */
#define KEYD_BATCH	32	/* operations taken from one front per round */

static struct {
	int	master;
	int	front[KEYD_FRONTS];	/* our end of each front's channel, or -1 */
} K;

static int	master_read(void);

static void
front_drop(unsigned idx)
{
	if (K.front[idx] == -1)
		return;
	close(K.front[idx]);
	K.front[idx] = -1;
}

/*
 * A full channel means a front that does not read its answers: that one
 * is lost (the front's wait ends at its timeout), and keyd goes on.
 */
static int
front_answer(unsigned idx, const void *req, size_t len)
{
	static char		out[sizeof(struct key_result) + KEY_RESULT_MAX];
	struct key_result	r;
	size_t			n = keyop_answer(req, len, out);

	/* A key the master loaded after this round's poll (it loads a key
	 * before any front hears of its certificate) is looked for once. */
	memcpy(&r, out, sizeof(r));
	if (r.status == KEY_ENOKEY && master_read() == 0 && K.front[idx] != -1)
		n = keyop_answer(req, len, out);
	if (K.front[idx] == -1)
		return 0;

	if (msg_send(K.front[idx], MSG_KEY_RESULT, out, n, -1) == -1 && errno != EAGAIN)
		return -1;
	return 0;
}

static void
front_read(unsigned idx)
{
	static char	 in[sizeof(struct key_op) + KEY_OP_MAX_IN];
	enum msg_type	 type;
	const char	*why;
	char		 who[32];
	ssize_t		 n;
	int		 fd, k;

	for (k = 0; k < KEYD_BATCH && K.front[idx] != -1; k++) {
		n = msg_recv_checked(K.front[idx], MR_KEYD, MR_FRONT, &type, in, sizeof(in), &fd,
		    &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == MSG_BREACH) {
			snprintf(who, sizeof(who), "front %u", idx);
			msg_breach(MR_KEYD, MR_FRONT, who, type, why);	/* MSG_ACT_DROP */
			front_drop(idx);
			return;
		}
		/* msg_rules[] let only MSG_KEY_OP through, without a descriptor. */
		if (n <= 0 || front_answer(idx, in, (size_t)n) == -1) {
			front_drop(idx);
			return;
		}
	}
}

static void
key_load(uint32_t key_id, int fd)
{
	char err[256];

	if (keyop_load(key_id, fd, err, sizeof(err)) == -1)
		log_warnx("keyd: key %u: %s", key_id, err);
	else
		log_debug("keyd: key %u loaded (%zu held)", key_id, keyop_count());
}

static void
front_link(uint32_t idx, int fd)
{
	if (idx >= KEYD_FRONTS) {
		log_warnx("keyd: a channel for front %u: there are at most %d", idx,
		    KEYD_FRONTS);
		close(fd);
		return;
	}
	front_drop(idx);
	set_nonblock(fd);
	K.front[idx] = fd;
}

/* 0, or -1 once the master has gone (keyd goes with it). */
static int
master_read(void)
{
	static union {
		struct config	c;
		uint32_t	u;
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	for (;;) {
		n = msg_recv_checked(K.master, MR_KEYD, MR_MASTER, &type, &m, sizeof(m), &fd, &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == MSG_BREACH) {
			msg_breach(MR_KEYD, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
			exit(1);
		}
		if (n == -1 || type == MSG_NONE)
			return -1;
		/* msg_rules[]: each at its size, LOAD and CHAN with their fd. */
		switch (type) {
		case MSG_KEY_LOAD:
			key_load(m.u, fd);
			break;
		case MSG_KEY_FORGET:
			keyop_forget_before(m.u);
			break;
		case MSG_KEY_CHAN:
			front_link(m.u, fd);
			fd = -1;
			break;
		default:
			break;	/* MSG_CONFIG: keyd's values change only at restart */
		}
		if (fd != -1)
			close(fd);
	}
}

int
keyd_loop(int master)
{
	struct pollfd	 p[1 + KEYD_FRONTS];
	unsigned	 slot[1 + KEYD_FRONTS];
	unsigned	 i;
	nfds_t		 n;

	K.master = master;
	for (i = 0; i < KEYD_FRONTS; i++)
		K.front[i] = -1;
	set_nonblock(master);
	for (;;) {
		p[0].fd = master;
		p[0].events = POLLIN;
		for (n = 1, i = 0; i < KEYD_FRONTS; i++)
			if (K.front[i] != -1) {
				p[n].fd = K.front[i];
				p[n].events = POLLIN;
				slot[n++] = i;
			}
		if (poll(p, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("keyd: poll");
		}
		/* The master first: a key it loaded is there for the fronts'
		 * operations that came with it. */
		if (p[0].revents && master_read() == -1)
			break;
		for (i = 1; i < n; i++)
			if (p[i].revents)
				front_read(slot[i]);
	}
	for (i = 0; i < KEYD_FRONTS; i++)
		front_drop(i);
	keyop_forget_before(UINT32_MAX);
	return 0;
}

/* No core file, no ptrace by key-user's other processes, nothing in /proc
 * readable but by root: said again after become(), which changes the uid. */
static void
undumpable(void)
{
	struct rlimit	 none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 || setrlimit(RLIMIT_CORE, &none) == -1)
		fatal("keyd: no core dumps");
}

int
keyd_main(void)
{
	struct config	 conf;
	enum msg_type	 type;
	const char	*why;
	char		 err[256];
	ssize_t		 n;
	int		 fd;

	log_init("keyd", 0);
	undumpable();
	n = msg_recv_checked(CHILD_CHAN_FD, MR_KEYD, MR_MASTER, &type, &conf, sizeof(conf), &fd,
	    &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("keyd: no configuration from the master");
	tzset();
	keyop_warm();
	drop_privileges(conf.key_user, conf.tls_dir);
	undumpable();
	signal(SIGPIPE, SIG_IGN);
	/* From here on: the channels it has and is handed, and nothing else. */
	if (seccomp_keyd(err, sizeof(err)) == -1)
		fatalx("keyd: %s", err);
	return keyd_loop(CHILD_CHAN_FD);
}
