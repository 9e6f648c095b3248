/*
 * test_msg.c: msg_rules[] and the one checked receive, from the attacker's
 * side: every message type, sent by every role, to every role, over a real
 * channel.  What the table refuses is refused, its descriptor closed; what
 * it allows gets through, at both ends of its length.
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "lockerd.h"

static const enum msg_role roles[] = { MR_MASTER, MR_FRONT, MR_WORKER, MR_LOGD, MR_CLI,
	MR_KEYD, MR_ACME, MR_SPAWNER, MR_SPARE, MR_SQLD, MR_MAILOUT, MR_DIRSYNC };
#define NROLES	(sizeof(roles) / sizeof(roles[0]))

static char	payload[MSG_MAX_PAYLOAD];

/* Every type has its row, with sane bounds. */
static void
test_table(void)
{
	unsigned t;

	CHECK(msg_rules[MSG_NONE].name == NULL);
	for (t = MSG_NONE + 1; t < MSG_MAX; t++) {
		const struct msg_rule *r = &msg_rules[t];

		CHECK(r->name != NULL);
		if (r->name == NULL) {
			fprintf(stderr, "type %u has no row in msg_rules[]\n", t);
			continue;
		}
		CHECK(strncmp(r->name, "MSG_", 4) == 0);
		CHECK(r->from != 0 && (r->from & ~MR_ALL) == 0);
		CHECK(r->to != 0 && (r->to & ~MR_ALL) == 0);
		CHECK(r->min <= r->max);
		CHECK(r->max <= MSG_MAX_PAYLOAD);
		CHECK(r->fd <= MSG_FD_MUST);
		/* No role talks to itself, and a CLI talks only to the master. */
		CHECK((r->from & r->to) == 0 || r->from == MR_MASTER);
		if (r->from & MR_CLI)
			CHECK_INT(r->to, MR_MASTER);
		if (r->to & MR_CLI)
			CHECK_INT(r->from, MR_MASTER);
	}
	CHECK_STR(msg_type_name(MSG_STATS), "MSG_STATS");
	CHECK_STR(msg_type_name(60000), "type 60000");
}

/* A descriptor to send: the write end of a pipe, whose read end tells
 * whether any copy of it is still open somewhere. */
static int
probe_fd(int *rd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	*rd = p[0];
	return p[1];
}

/* 1 if every copy of the probe's write end is closed (read sees EOF). */
static int
probe_closed(int rd)
{
	char	c;
	ssize_t	n = read(rd, &c, 1);

	return n == 0;
}

/*
 * Sends type with len bytes (and a descriptor if with_fd) from peer and
 * receives it as self: the receive's result, and whether a descriptor
 * reached the receiver and whether, refused, it was closed.
 */
static ssize_t
exchange(enum msg_role self, enum msg_role peer, unsigned type, size_t len, int with_fd,
    int *closed)
{
	static char	 buf[MSG_MAX_PAYLOAD];
	enum msg_type	 got;
	const char	*why;
	ssize_t		 n;
	int		 sv[2], fd = -1, rd = -1, wr = -1;
	struct msg_hdr	 hdr = { .type = (uint16_t)type, .flags = 0, .len = (uint32_t)len };

	if (chan_pair(sv) == -1)
		return -100;
	if (with_fd)
		wr = probe_fd(&rd);
	if (type > 0 && type < MSG_MAX) {
		if (msg_send(sv[0], (enum msg_type)type, payload, len, wr) == -1)
			return -101;
	} else {
		/* msg_send() refuses no type: a raw frame like a hostile peer's. */
		char frame[sizeof(hdr) + 16];

		memcpy(frame, &hdr, sizeof(hdr));
		memset(frame + sizeof(hdr), 0, 16);
		if (send(sv[0], frame, sizeof(hdr) + (len < 16 ? len : 16), 0) == -1)
			return -102;
	}
	if (wr != -1)
		close(wr);
	n = msg_recv_checked(sv[1], self, peer, &got, buf, sizeof(buf), &fd, &why);
	if (n == MSG_BREACH)
		CHECK(why != NULL && fd == -1);
	else
		CHECK(why == NULL);
	if (fd != -1)
		close(fd);
	*closed = rd == -1 || probe_closed(rd);
	if (rd != -1)
		close(rd);
	close(sv[0]);
	close(sv[1]);
	return n;
}

/* Every type, from every role, to every role: refused unless the row says so. */
static void
test_every_edge(void)
{
	unsigned t, i, j;
	int closed, refused = 0, passed = 0;

	for (t = MSG_NONE + 1; t < MSG_MAX; t++) {
		const struct msg_rule *r = &msg_rules[t];
		int with_fd = r->fd == MSG_FD_MUST;

		for (i = 0; i < NROLES; i++)
			for (j = 0; j < NROLES; j++) {
				enum msg_role self = roles[i], peer = roles[j];
				int ok = (r->from & peer) && (r->to & self);
				ssize_t n = exchange(self, peer, t, r->min, with_fd, &closed);

				if (ok) {
					CHECK_INT(n, (ssize_t)r->min);
					passed++;
				} else {
					CHECK_INT(n, MSG_BREACH);
					CHECK(closed);
					refused++;
				}
				if ((n == MSG_BREACH) == ok)
					fprintf(stderr, "  %s from %s to %s\n", r->name,
					    msg_role_name(peer), msg_role_name(self));
			}
	}
	printf("every edge: %d allowed, %d refused\n", passed, refused);
	CHECK(passed > 0 && refused > passed);
}

/* The right roles, the wrong length or descriptor. */
static void
test_bounds_and_descriptors(void)
{
	unsigned t;
	int closed;

	for (t = MSG_NONE + 1; t < MSG_MAX; t++) {
		const struct msg_rule *r = &msg_rules[t];
		enum msg_role self = (enum msg_role)(r->to & -r->to);
		enum msg_role peer = (enum msg_role)(r->from & -r->from);
		int with_fd = r->fd == MSG_FD_MUST;

		CHECK_INT(exchange(self, peer, t, r->max, with_fd, &closed), (ssize_t)r->max);
		if (r->min > 0)
			CHECK_INT(exchange(self, peer, t, r->min - 1, with_fd, &closed),
			    MSG_BREACH);
		if (r->max < MSG_MAX_PAYLOAD) {
			CHECK_INT(exchange(self, peer, t, r->max + 1, with_fd, &closed),
			    MSG_BREACH);
			CHECK(closed);
		}
		if (r->fd == MSG_FD_MUST)
			CHECK_INT(exchange(self, peer, t, r->min, 0, &closed), MSG_BREACH);
		if (r->fd == MSG_FD_NEVER) {
			CHECK_INT(exchange(self, peer, t, r->min, 1, &closed), MSG_BREACH);
			CHECK(closed);	/* the descriptor that must not come is closed */
		}
		if (r->fd == MSG_FD_MAY) {
			CHECK_INT(exchange(self, peer, t, r->min, 1, &closed), (ssize_t)r->min);
			CHECK_INT(exchange(self, peer, t, r->min, 0, &closed), (ssize_t)r->min);
		}
	}
}

/* Types that do not exist, and frames that lie. */
static void
test_no_such_message(void)
{
	unsigned bad[] = { MSG_NONE, MSG_MAX, MSG_MAX + 1, 60000 };
	size_t i, j;
	int closed, sv[2], fd;
	enum msg_type got;
	const char *why;
	char buf[64];
	struct msg_hdr hdr = { .type = MSG_IDLE, .flags = 0, .len = 1u << 30 };

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (j = 0; j < NROLES; j++)
			CHECK_INT(exchange(MR_MASTER, roles[j], bad[i], 0, 0, &closed), MSG_BREACH);
	CHECK(msg_check(MR_MASTER, MR_FRONT, MSG_NONE, 0, 0) != NULL);
	CHECK(msg_check(MR_MASTER, MR_FRONT, 70000, 0, 0) != NULL);
	/* a header that lies about its length */
	CHECK_INT(chan_pair(sv), 0);
	CHECK(send(sv[0], &hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr));
	CHECK_INT(msg_recv_checked(sv[1], MR_MASTER, MR_WORKER, &got, buf, sizeof(buf), &fd,
	    &why), MSG_BREACH);
	/* longer than the receiver's buffer */
	CHECK_INT(msg_send(sv[0], MSG_STATS, payload, 100, -1), 0);
	CHECK_INT(msg_recv_checked(sv[1], MR_MASTER, MR_FRONT, &got, buf, sizeof(buf), &fd,
	    &why), MSG_BREACH);
	/* and EOF is EOF */
	close(sv[0]);
	CHECK_INT(msg_recv_checked(sv[1], MR_MASTER, MR_FRONT, &got, buf, sizeof(buf), &fd,
	    &why), 0);
	CHECK_INT(got, MSG_NONE);
	close(sv[1]);
}

/* A batch with one refused message is refused whole, every descriptor closed. */
static void
test_batch(void)
{
	static char	bufs[4][WIRE_RESPONSE_MAX];
	struct msg_in	in[4];
	const char	*why;
	unsigned	bad;
	int		sv[2], rd = -1, wr, i;

	CHECK_INT(chan_pair(sv), 0);
	wr = probe_fd(&rd);
	CHECK_INT(msg_send(sv[0], MSG_RESPONSE, payload, sizeof(struct wire_response), wr), 0);
	CHECK_INT(msg_send(sv[0], MSG_RESPONSE, payload, sizeof(struct wire_response), -1), 0);
	close(wr);
	for (i = 0; i < 4; i++) {
		in[i].buf = bufs[i];
		in[i].cap = sizeof(bufs[i]);
	}
	CHECK_INT(msg_recv_many_checked(sv[1], MR_FRONT, MR_WORKER, in, 4, &bad, &why), 2);
	CHECK(in[0].fd != -1 && in[1].fd == -1);
	if (in[0].fd != -1)
		close(in[0].fd);
	CHECK(probe_closed(rd));
	close(rd);

	wr = probe_fd(&rd);
	CHECK_INT(msg_send(sv[0], MSG_RESPONSE, payload, sizeof(struct wire_response), wr), 0);
	CHECK_INT(msg_send(sv[0], MSG_IDLE, NULL, 0, -1), 0);
	close(wr);
	CHECK_INT(msg_recv_many_checked(sv[1], MR_FRONT, MR_WORKER, in, 4, &bad, &why),
	    MSG_BREACH);
	CHECK_INT(bad, MSG_IDLE);
	CHECK(why != NULL);
	CHECK(probe_closed(rd));
	close(rd);
	close(sv[0]);
	close(sv[1]);
}

/* One policy per kind of peer. */
static void
test_policy(void)
{
	CHECK_INT(msg_breach(MR_MASTER, MR_FRONT, "front 0", MSG_CONFIG, "test"), MSG_ACT_KILL);
	CHECK_INT(msg_breach(MR_MASTER, MR_LOGD, "logd", MSG_CONFIG, "test"), MSG_ACT_KILL);
	CHECK_INT(msg_breach(MR_MASTER, MR_WORKER, "worker a", MSG_CONFIG, "test"),
	    MSG_ACT_KILL);
	CHECK_INT(msg_breach(MR_MASTER, MR_CLI, "uid 1", MSG_CONFIG, "test"), MSG_ACT_CLOSE);
	CHECK_INT(msg_breach(MR_FRONT, MR_WORKER, "a", MSG_CONFIG, "test"), MSG_ACT_DROP);
	CHECK_INT(msg_breach(MR_WORKER, MR_FRONT, "", MSG_CONFIG, "test"), MSG_ACT_DROP);
	CHECK_INT(msg_breach(MR_LOGD, MR_FRONT, "", MSG_CONFIG, "test"), MSG_ACT_DROP);
	CHECK_INT(msg_breach(MR_LOGD, MR_WORKER, "a", MSG_CONFIG, "test"), MSG_ACT_DROP);
	CHECK_INT(msg_breach(MR_FRONT, MR_MASTER, "", MSG_IDLE, "test"), MSG_ACT_EXIT);
	CHECK_INT(msg_breach(MR_WORKER, MR_MASTER, "", MSG_IDLE, "test"), MSG_ACT_EXIT);
	CHECK_INT(msg_breach(MR_LOGD, MR_MASTER, "", MSG_IDLE, "test"), MSG_ACT_EXIT);
	CHECK_INT(msg_breach(MR_CLI, MR_MASTER, "", MSG_IDLE, "test"), MSG_ACT_EXIT);
}

/* What msg_breach() writes to stderr while fn runs. */
static void
captured(char *out, size_t outsz, void (*fn)(void))
{
	int	 p[2], saved = dup(2);
	ssize_t	 n;

	out[0] = '\0';
	if (pipe2(p, O_NONBLOCK) == -1 || saved == -1)
		return;
	dup2(p[1], 2);
	fn();
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], out, outsz - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
}

static void
breach_twice(void)
{
	msg_breach(MR_FRONT, MR_WORKER, "worker alice", MSG_CONFIG, "may not come from it");
	msg_breach(MR_FRONT, MR_WORKER, "worker bob", MSG_IDLE, "may not come from it");
}

static void
breach_by_cli(void)
{
	msg_breach(MR_MASTER, MR_CLI, "uid 1000 (pid 7)", 60000, "is no message");
}

/* One line format, naming receiver, peer, type and reason; a line a second
 * for each kind of peer, so another kind's breach is not hidden. */
static void
test_log_line(void)
{
	char out[1024];

	captured(out, sizeof(out), breach_twice);
	CHECK(strstr(out, "front: malformed message from worker alice: MSG_CONFIG may not "
	    "come from it; dropping the channel\n") != NULL);
	CHECK(strstr(out, "bob") == NULL);
	captured(out, sizeof(out), breach_by_cli);
	CHECK(strstr(out, "control: malformed message from uid 1000 (pid 7): type 60000 is "
	    "no message; closing the connection\n") != NULL);
}

int
main(void)
{
	log_init("test_msg", 0);
	memset(payload, 'x', sizeof(payload));
	test_table();
	test_every_edge();
	test_bounds_and_descriptors();
	test_no_such_message();
	test_batch();
	test_log_line();
	test_policy();
	UNIT_DONE();
}
