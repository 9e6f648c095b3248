/* test_stats.c: front's request counting and the master's check of its reports. */
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "lockerd.h"

static int
ok_all(const char *name)
{
	return strcmp(name, "ghost") != 0;	/* "ghost" is not in the directory */
}

/* Read one MSG_STATS from the socket and apply it. */
static int
take(int fd, struct stats_total *front)
{
	static char	 buf[sizeof(struct msg_stats) +
			     STATS_MAX_LOCKERS * sizeof(struct msg_stats_locker)];
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 pfd;

	n = msg_recv_checked(fd, MR_MASTER, MR_FRONT, &type, buf, sizeof(buf), &pfd, &why);
	if (n < 0 || type != MSG_STATS)
		return -1;
	return stats_apply(buf, (size_t)n, front, ok_all);
}

static void
test_counts(int sv[2])
{
	struct stats_total	front = { 0 }, t;
	uint64_t		since;

	CHECK_INT(stats_pending(&since), 0);
	stats_count(sv[0], "alice", 5, 200);
	stats_count(sv[0], "alice", 5, 404);
	stats_count(sv[0], "alice", 5, 502);
	stats_count(sv[0], "bob", 3, 304);
	stats_count(sv[0], "", 0, 400);			/* no locker: the front's only */
	stats_count(sv[0], "ghost", 5, 200);		/* not in the directory */
	CHECK_INT(stats_pending(&since), 1);
	stats_flush(sv[0]);
	CHECK_INT(stats_pending(&since), 0);
	CHECK_INT(take(sv[1], &front), 0);
	CHECK_INT(front.requests, 6);
	CHECK_INT(front.errors_4xx, 2);
	CHECK_INT(front.errors_5xx, 1);
	CHECK_INT(stats_locker("alice", &t), 1);
	CHECK_INT(t.requests, 3);
	CHECK_INT(t.errors_4xx, 1);
	CHECK_INT(t.errors_5xx, 1);
	CHECK_INT(stats_locker("bob", &t), 1);
	CHECK_INT(t.requests, 1);
	CHECK_INT(t.errors_4xx + t.errors_5xx, 0);
	CHECK_INT(stats_locker("ghost", &t), 0);
	/* increments: a second report adds */
	stats_count(sv[0], "alice", 5, 200);
	stats_flush(sv[0]);
	CHECK_INT(take(sv[1], &front), 0);
	stats_locker("alice", &t);
	CHECK_INT(t.requests, 4);
	CHECK_INT(front.requests, 7);
	stats_forget("alice");
	CHECK_INT(stats_locker("alice", &t), 0);
	CHECK_INT(t.requests, 0);
}

/* More lockers than one message holds: the full table goes early. */
static void
test_many_lockers(int sv[2])
{
	struct stats_total	front = { 0 }, t;
	char			name[16];
	int			i, n;

	for (i = 0; i < STATS_MAX_LOCKERS + 10; i++) {
		n = snprintf(name, sizeof(name), "l%d", i);
		stats_count(sv[0], name, (size_t)n, 200);
	}
	stats_flush(sv[0]);
	CHECK_INT(take(sv[1], &front), 0);
	CHECK_INT(take(sv[1], &front), 0);
	CHECK_INT(front.requests, STATS_MAX_LOCKERS + 10);
	CHECK_INT(stats_locker("l0", &t), 1);
	CHECK_INT(stats_locker("l520", &t), 1);
	CHECK_INT(t.requests, 1);
}

static void
test_malformed(void)
{
	struct {
		struct msg_stats	h;
		struct msg_stats_locker	l[2];
	}			m;
	struct stats_total	front = { 0 };

	memset(&m, 0, sizeof(m));
	m.h.requests = 5;
	m.h.nlockers = 2;
	snprintf(m.l[0].locker, sizeof(m.l[0].locker), "x");
	snprintf(m.l[1].locker, sizeof(m.l[1].locker), "y");
	CHECK_INT(stats_apply(&m, sizeof(m) - 1, &front, ok_all), -1);
	CHECK_INT(stats_apply(&m, sizeof(m.h) - 1, &front, ok_all), -1);
	CHECK_INT(stats_apply(&m, sizeof(m.h) + sizeof(m.l[0]), &front, ok_all), -1);
	m.h.nlockers = 0xffffffffu;
	CHECK_INT(stats_apply(&m, sizeof(m), &front, ok_all), -1);
	m.h.nlockers = 2;
	memset(m.l[1].locker, 'a', sizeof(m.l[1].locker));	/* no NUL */
	CHECK_INT(stats_apply(&m, sizeof(m), &front, ok_all), -1);
	CHECK_INT(front.requests, 0);		/* nothing of a refused report counts */
	m.l[1].locker[5] = '\0';
	CHECK_INT(stats_apply(&m, sizeof(m), &front, ok_all), 0);
	CHECK_INT(front.requests, 5);
}

/* A name reused: the old club's counts, made under a table pushed before
 * the new club's signup, still on their way, are not the new club's. */
static void
test_reused_name(int sv[2])
{
	struct stats_total	front = { 0 }, t;

	stats_routes_pushed(7);
	stats_routes(sv[0], 7);
	stats_count(sv[0], "club", 4, 200);		/* the old club's page */
	stats_forget("club");				/* removed, signed up again */
	stats_routes_pushed(8);				/* the table with the new one */
	stats_flush(sv[0]);				/* counted under 7: late */
	CHECK_INT(take(sv[1], &front), 0);
	CHECK_INT(front.requests, 1);			/* the front's own count */
	CHECK_INT(stats_locker("club", &t), 0);
	stats_count(sv[0], "club", 4, 200);		/* front has not seen 8 yet */
	stats_routes(sv[0], 8);				/* ...goes before it does */
	CHECK_INT(take(sv[1], &front), 0);
	CHECK_INT(stats_locker("club", &t), 0);
	stats_count(sv[0], "club", 4, 200);		/* the new club's page */
	stats_count(sv[0], "other", 5, 200);
	stats_flush(sv[0]);
	CHECK_INT(take(sv[1], &front), 0);
	CHECK_INT(stats_locker("club", &t), 1);
	CHECK_INT(t.requests, 1);
	CHECK_INT(stats_locker("other", &t), 1);
	/* generations wrap: still ordered */
	stats_routes_pushed(0xffffffffu);
	stats_forget("wrap");
	stats_routes(sv[0], 0xffffffffu);
	stats_count(sv[0], "wrap", 4, 200);
	stats_routes(sv[0], 0);
	CHECK_INT(take(sv[1], &front), 0);
	CHECK_INT(stats_locker("wrap", &t), 0);
	stats_count(sv[0], "wrap", 4, 200);
	stats_flush(sv[0]);
	CHECK_INT(take(sv[1], &front), 0);
	CHECK_INT(stats_locker("wrap", &t), 1);
}

int
main(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		return 1;
	test_counts(sv);
	test_many_lockers(sv);
	test_malformed();
	test_reused_name(sv);
	UNIT_DONE();
}
