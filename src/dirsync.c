/*
 * dirsync.c: lockerd-dirsync, the fleet directory's link (issue 18): the
 * only process that speaks to the fleet's PostgreSQL, and the only one
 * that links libpq.  Its own executable, as sqld is, so that neither the
 * master nor any other role carries libpq.
 *
 * The master starts it (dir_master.c) as dir-user and hands it the
 * conninfo file as a descriptor (MSG_DIR_HELLO: only root may open it).
 * Then, on one non-blocking connection driven by this one poll loop:
 *
 *   - at each connection, the schema is made or checked (dirpg.c) and the
 *     feed's channel LISTENed to; the master hears MSG_DIR_STATE on every
 *     change between up and down;
 *   - each MSG_DIR_CHANGE is one statement, lockerd_apply() (dirsync_apply.c),
 *     answered MSG_DIR_RESULT: DIR_OK with its revision, DIR_CONFLICT,
 *     DIR_ERROR, or DIR_DOWN — at once while PostgreSQL is unreachable,
 *     and at the latest a little before directory-timeout while it is slow
 *     (the connection is then dropped and made again), so the master never
 *     waits on PostgreSQL longer than it said it would;
 *   - on a notification, and every second anyway, the rows changed since
 *     the master's revision go to it as MSG_DIR_ROWS (dirsync_feed.c); a
 *     master that has none yet, or that is behind the oldest tombstone
 *     kept, gets a full copy;
 *   - every beat, this node's own row in nodes (lockerd_beat()).
 *
 * A lost connection is made again with a backoff (a quarter second,
 * doubling to five); libpq's multi-host conninfo with
 * target_session_attrs=read-write finds the new primary after a failover.
 * The process is chrooted into an empty directory (so the conninfo names
 * hosts by address), undumpable, and under an allow-list seccomp filter:
 * a PostgreSQL that answered with something hostile finds a process that
 * can talk to PostgreSQL and to the master, and nothing else.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "dirtab.h"
#include "dirsync_int.h"

#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000
#define FEED_EVERY_MS	1000
#define SETUP_MAX_MS	30000	/* the schema made on a loaded machine */
#define JOB_MAX_MS	10000	/* a feed or a beat */
#define CONNINFO_MAX	4096

enum job { J_NONE, J_MIGRATE, J_COLUMNS, J_LISTEN, J_CHANGE, J_FEED, J_BEAT };

static struct {
	struct config		 conf;
	struct msg_dir_hello	 hello;
	char			 conninfo[CONNINFO_MAX];
	int64_t			 started;	/* unix seconds */

	PGconn			*pg;
	int			 connecting;	/* PQconnectPoll() in progress */
	int			 pollwrite;	/* connecting: wants POLLOUT */
	int			 up;		/* set up: changes are taken */
	int			 told_up;	/* what the master last heard (-1: nothing) */
	char			 told_why[DIR_WHY_MAX];
	int64_t			 since;		/* unix seconds of the last up/down */
	char			 why[DIR_WHY_MAX];
	uint64_t		 retry_at_ms;
	uint32_t		 backoff_ms;

	enum job		 job;
	uint64_t		 job_deadline_ms;
	char			 job_err[DIR_WHY_MAX];
	char			 job_state[6];	/* the first failed result's SQLSTATE */
	int			 job_failed;
	PGresult		*job_rows;	/* the job's last result with rows */

	/* the one change waiting or in flight */
	int			 has_change, change_sent;
	uint64_t		 change_id;
	uint64_t		 change_deadline_ms;
	char			*change_json;

	uint64_t		 last;		/* the master has every change up to here */
	int			 need_full;
	int			 feed_wanted;
	uint64_t		 next_feed_ms;
	uint64_t		 next_beat_ms;
	struct msg_dir_beat	 beat;
	char			*feed_sql, *full_sql;
} S;

static void	go_down(const char *why);

static int64_t
wall(void)
{
	return (int64_t)time(NULL);
}

/* ------------------------------------------------------------ the master */

static void
send_state(void)
{
	struct msg_dir_state st;

	if (S.told_up == S.up && (S.up || strcmp(S.told_why, S.why) == 0))
		return;
	memset(&st, 0, sizeof(st));
	st.up = S.up;
	st.since = S.since;
	if (S.up && S.pg != NULL)
		snprintf(st.primary, sizeof(st.primary), "%s:%s", PQhost(S.pg), PQport(S.pg));
	snprintf(st.why, sizeof(st.why), "%s", S.up ? "" : S.why);
	if (msg_send(CHILD_CHAN_FD, MSG_DIR_STATE, &st, sizeof(st), -1) == -1)
		fatal("dirsync: cannot reach the master");
	S.told_up = S.up;
	snprintf(S.told_why, sizeof(S.told_why), "%s", S.why);
}

static void
answer_id(uint64_t id, int status, uint64_t rev, const char *why)
{
	struct msg_dir_result r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.status = status;
	r.rev = rev;
	snprintf(r.why, sizeof(r.why), "%s", status == DIR_OK ? "" : why);
	if (msg_send(CHILD_CHAN_FD, MSG_DIR_RESULT, &r, sizeof(r), -1) == -1)
		fatal("dirsync: cannot reach the master");
}

/* The answer to the change waiting or in flight, which is then done. */
static void
answer(int status, uint64_t rev, const char *why)
{
	answer_id(S.change_id, status, rev, why);
	free(S.change_json);
	S.change_json = NULL;
	S.has_change = S.change_sent = 0;
}

/* The first line of libpq's message, without its "ERROR:  " and newline. */
static void
pg_message(char *out, size_t outsz, const char *msg)
{
	size_t n;

	if (msg == NULL || *msg == '\0')
		msg = "no message";
	if (strncmp(msg, "ERROR:  ", 8) == 0)
		msg += 8;
	n = strcspn(msg, "\n");
	snprintf(out, outsz, "%.*s", (int)(n < outsz ? n : outsz - 1), msg);
}

/* ------------------------------------------------------------ the connection */

/* PostgreSQL's notices (e.g. "already exists, skipping" of the migration's
 * IF NOT EXISTS) are not errors: only a debug log sees them. */
static void
notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("dirsync: PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
}

static void
connect_start(void)
{
	S.retry_at_ms = 0;
	if ((S.pg = PQconnectStart(S.conninfo)) == NULL) {
		go_down("out of memory");
		return;
	}
	PQsetNoticeProcessor(S.pg, notice, NULL);
	if (PQstatus(S.pg) == CONNECTION_BAD) {
		char why[DIR_WHY_MAX];

		pg_message(why, sizeof(why), PQerrorMessage(S.pg));
		go_down(why);
		return;
	}
	S.connecting = 1;
	S.pollwrite = 1;
	S.job_deadline_ms = now_ms() + SETUP_MAX_MS;
}

static void
start_job(enum job j, uint64_t max_ms)
{
	S.job = j;
	S.job_deadline_ms = now_ms() + max_ms;
	S.job_failed = 0;
	S.job_err[0] = S.job_state[0] = '\0';
	if (S.job_rows != NULL)
		PQclear(S.job_rows);
	S.job_rows = NULL;
}

static void
send_failed(void)
{
	char why[DIR_WHY_MAX];

	pg_message(why, sizeof(why), PQerrorMessage(S.pg));
	go_down(why);
}

static void
setup_migrate(void)
{
	const char	*err;
	char		*sql = dirpg_migration(&err);

	if (sql == NULL)
		fatalx("dirsync: %s", err);
	start_job(J_MIGRATE, SETUP_MAX_MS);
	if (!PQsendQuery(S.pg, sql))
		send_failed();
	free(sql);
}

/* Connected: the schema, then the columns' check, then LISTEN. */
static void
connected(void)
{
	S.connecting = 0;
	if (PQsetnonblocking(S.pg, 1) == -1) {
		go_down("cannot make the connection non-blocking");
		return;
	}
	setup_migrate();
}

static void
connect_step(void)
{
	switch (PQconnectPoll(S.pg)) {
	case PGRES_POLLING_READING:
		S.pollwrite = 0;
		break;
	case PGRES_POLLING_WRITING:
		S.pollwrite = 1;
		break;
	case PGRES_POLLING_OK:
		connected();
		break;
	default: {
		char why[DIR_WHY_MAX];

		pg_message(why, sizeof(why), PQerrorMessage(S.pg));
		go_down(why);
	}
	}
}

static void
now_up(void)
{
	S.up = 1;
	S.since = wall();
	S.why[0] = '\0';
	S.backoff_ms = 0;
	log_info("dirsync: PostgreSQL at %s:%s, schema %d", PQhost(S.pg), PQport(S.pg),
	    dirpg_schema_version());
	send_state();
	S.feed_wanted = 1;
	S.next_beat_ms = 0;
}

/*
 * The connection is gone (or given up on): a change in flight is answered
 * DIR_DOWN (it may yet have committed: the feed brings it back if so), and
 * the connection is made again after the backoff.
 */
static void
go_down(const char *why)
{
	char	 w[DIR_WHY_MAX];

	snprintf(w, sizeof(w), "%s", why);
	if (S.pg != NULL)
		PQfinish(S.pg);
	S.pg = NULL;
	S.connecting = 0;
	S.job = J_NONE;
	if (S.job_rows != NULL)
		PQclear(S.job_rows);
	S.job_rows = NULL;
	if (S.up || S.told_up == -1 || strcmp(S.why, w) != 0) {
		if (S.up || S.told_up == -1)
			S.since = wall();
		log_warnx("dirsync: PostgreSQL unreachable: %s", w);
	}
	S.up = 0;
	snprintf(S.why, sizeof(S.why), "%s", w);
	send_state();
	if (S.has_change)
		answer(DIR_DOWN, 0, S.why);
	S.backoff_ms = S.backoff_ms == 0 ? BACKOFF_MIN_MS :
	    S.backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : S.backoff_ms * 2;
	S.retry_at_ms = now_ms() + S.backoff_ms;
}

/* ------------------------------------------------------------ jobs */

static void
run_change(void)
{
	const char *params[1] = { S.change_json };

	start_job(J_CHANGE, S.change_deadline_ms > now_ms() ? S.change_deadline_ms - now_ms() : 1);
	S.change_sent = 1;
	if (!PQsendQueryParams(S.pg, "SELECT lockerd_apply($1::jsonb)", 1, NULL, params, NULL,
	    NULL, 0))
		send_failed();
}

static void
run_feed(void)
{
	char		 rev[24];
	const char	*params[1] = { rev };

	snprintf(rev, sizeof(rev), "%" PRIu64, S.need_full ? 0 : S.last);
	S.feed_wanted = 0;
	S.next_feed_ms = now_ms() + FEED_EVERY_MS;
	start_job(J_FEED, JOB_MAX_MS);
	if (!PQsendQueryParams(S.pg, S.need_full ? S.full_sql : S.feed_sql, 1, NULL, params, NULL,
	    NULL, 0))
		send_failed();
}

static void
run_beat(void)
{
	char		 load[16], started[24];
	const char	*params[5] = { S.hello.node, S.beat.addr, S.beat.state, load, started };

	snprintf(load, sizeof(load), "%" PRId32, S.beat.load);
	snprintf(started, sizeof(started), "%" PRId64, S.started);
	S.next_beat_ms = now_ms() + S.hello.beat_ms;
	start_job(J_BEAT, JOB_MAX_MS);
	if (!PQsendQueryParams(S.pg, "SELECT lockerd_beat($1, $2, $3, $4::bigint, $5::bigint)", 5,
	    NULL, params, NULL, NULL, 0))
		send_failed();
}

/* Idle and up: the change first, then the feed, then the beat. */
static void
next_job(void)
{
	uint64_t now = now_ms();

	if (!S.up || S.job != J_NONE || S.pg == NULL)
		return;
	if (S.has_change && !S.change_sent)
		run_change();
	else if (S.feed_wanted || now >= S.next_feed_ms)
		run_feed();
	else if (now >= S.next_beat_ms)
		run_beat();
}

/* The feed's rows to the master, in a sealed memfd. */
static void
feed_done(PGresult *r)
{
	struct feed_out		o;
	struct msg_dir_rows	m;
	char			why[DIR_WHY_MAX];
	int			fd;

	if (dirsync_feed_rows(r, S.last, S.need_full, &o, why, sizeof(why)) == -1) {
		log_warnx("dirsync: the feed: %s", why);
		return;
	}
	if (!S.need_full && o.pruned > S.last) {
		/* Tombstones this node has not seen are gone: a full copy. */
		dirbuf_free(&o.buf);
		S.need_full = 1;
		S.feed_wanted = 1;
		return;
	}
	if (o.buf.nrec == 0 && !S.need_full && o.to_rev == S.last)
		return;
	memset(&m, 0, sizeof(m));
	m.from_rev = S.last;
	m.to_rev = o.to_rev;
	m.nrec = o.buf.nrec;
	m.full = (uint8_t)S.need_full;
	if ((fd = dirbuf_seal(&o.buf, "lockerd-dir-rows")) == -1)
		fatal("dirsync: memfd");
	if (msg_send(CHILD_CHAN_FD, MSG_DIR_ROWS, &m, sizeof(m), fd) == -1)
		fatal("dirsync: cannot reach the master");
	close(fd);
	dirbuf_free(&o.buf);
	S.last = o.to_rev;
	S.need_full = 0;
	S.feed_wanted = o.more;
}

static uint64_t
rev_of(PGresult *r)
{
	if (r == NULL || PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
		return 0;
	return strtoull(PQgetvalue(r, 0, 0), NULL, 10);
}

static void
setup_done(enum job j)
{
	char		 why[DIR_WHY_MAX];
	PGresult	*r;

	if (j == J_MIGRATE) {
		if (rev_of(S.job_rows) != (uint64_t)dirpg_schema_version()) {
			go_down("PostgreSQL's schema is not at this lockerd's version");
			return;
		}
		start_job(J_COLUMNS, SETUP_MAX_MS);
		if (!PQsendQuery(S.pg, dirpg_columns_query()))
			send_failed();
		return;
	}
	if (j == J_COLUMNS) {
		r = S.job_rows;
		if (r == NULL || dirpg_columns_ok(r, why, sizeof(why)) == -1) {
			go_down(r == NULL ? "PostgreSQL did not list its columns" : why);
			return;
		}
		start_job(J_LISTEN, SETUP_MAX_MS);
		if (!PQsendQuery(S.pg, "LISTEN " DIRPG_CHANNEL))
			send_failed();
		return;
	}
	S.job = J_NONE;
	now_up();
}

/* The job's results are all in: what they mean. */
static void
job_done(void)
{
	enum job	 j = S.job;
	int		 st;

	S.job = J_NONE;
	if (S.job_failed) {
		st = dirsync_status_of(S.job_state[0] ? S.job_state : NULL);
		if (j == J_CHANGE && st != DIR_DOWN) {
			answer(st, 0, S.job_err);
			S.feed_wanted = 1;	/* what won instead, so the master sees it */
			return;
		}
		if (j == J_MIGRATE || j == J_COLUMNS || st == DIR_DOWN) {
			go_down(S.job_err);
			return;
		}
		log_warnx("dirsync: %s: %s", j == J_FEED ? "the feed" : "the heartbeat",
		    S.job_err);
		return;
	}
	switch (j) {
	case J_MIGRATE:
	case J_COLUMNS:
	case J_LISTEN:
		S.job = j;
		setup_done(j);
		break;
	case J_CHANGE:
		answer(DIR_OK, rev_of(S.job_rows), "");
		break;
	case J_FEED:
		if (S.job_rows != NULL)
			feed_done(S.job_rows);
		break;
	default:
		break;
	}
}

static void
take_result(PGresult *r)
{
	ExecStatusType	 s = PQresultStatus(r);
	const char	*st;

	if (s == PGRES_TUPLES_OK) {
		if (S.job_rows != NULL)
			PQclear(S.job_rows);
		S.job_rows = r;
		return;
	}
	if (s != PGRES_COMMAND_OK && s != PGRES_EMPTY_QUERY && !S.job_failed) {
		S.job_failed = 1;
		st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(S.job_state, sizeof(S.job_state), "%s", st != NULL ? st : "");
		pg_message(S.job_err, sizeof(S.job_err), PQresultErrorMessage(r));
	}
	PQclear(r);
}

/* The socket is readable: notifications, and the job's results. */
static void
pg_read(void)
{
	PGnotify	*n;
	PGresult	*r;

	if (!PQconsumeInput(S.pg)) {
		send_failed();
		return;
	}
	while ((n = PQnotifies(S.pg)) != NULL) {
		S.feed_wanted = 1;
		PQfreemem(n);
	}
	while (S.job != J_NONE && !PQisBusy(S.pg)) {
		if ((r = PQgetResult(S.pg)) == NULL) {
			job_done();
			if (S.pg == NULL)
				return;
			continue;
		}
		take_result(r);
	}
}

/* ------------------------------------------------------------ the master's messages */

static void
take_change(const struct msg_dir_change *m, int fd)
{
	const unsigned char	*p;
	const char		*bad;
	char			 why[DIR_WHY_MAX];
	size_t			 len;

	/* The master gave up on the last one (a slow PostgreSQL, a loaded
	 * machine) and sent another: one still in PostgreSQL's hands keeps
	 * its place (its outcome is not known yet); one not sent gives way. */
	if (S.has_change && S.change_sent) {
		answer_id(m->id, DIR_DOWN, 0, "PostgreSQL has not answered the previous change yet");
		return;
	}
	if (S.has_change)
		answer(DIR_DOWN, 0, "superseded by the next change");
	S.has_change = 1;
	S.change_sent = 0;
	S.change_id = m->id;
	/* A little before the master's own time-out, so it hears why. */
	S.change_deadline_ms = now_ms() + S.hello.timeout_ms - S.hello.timeout_ms / 5;
	if (dirrec_map(fd, &p, &len, &bad) == -1 ||
	    dirrec_check_changes(p, len, m->nrec, (unsigned)dirtab_count(), &bad) == -1) {
		dirrec_unmap(p, len);
		answer(DIR_ERROR, 0, bad);
		return;
	}
	S.change_json = dirsync_changes_json(p, len, why, sizeof(why));
	dirrec_unmap(p, len);
	if (S.change_json == NULL) {
		answer(DIR_ERROR, 0, why);
		return;
	}
	if (!S.up) {
		answer(DIR_DOWN, 0, S.why);
		return;
	}
	next_job();
}

static void
take_beat(const struct msg_dir_beat *b)
{
	S.beat = *b;
	S.beat.state[sizeof(S.beat.state) - 1] = '\0';
	S.beat.addr[sizeof(S.beat.addr) - 1] = '\0';
}

static void
master_read(void)
{
	static union {
		struct config		c;
		struct msg_dir_change	ch;
		struct msg_dir_beat	b;
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	n = msg_recv_checked(CHILD_CHAN_FD, MR_DIRSYNC, MR_MASTER, &type, &m, sizeof(m), &fd,
	    &why);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == MSG_BREACH) {
		msg_breach(MR_DIRSYNC, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
		exit(1);
	}
	if (n < 0 || type == MSG_NONE)
		exit(0);	/* the master has gone */
	if (type == MSG_DIR_CHANGE)
		take_change(&m.ch, fd);
	else if (type == MSG_DIR_BEAT)
		take_beat(&m.b);
	else if (type == MSG_CONFIG)
		S.conf = m.c;	/* directory and dir-user change only at a restart */
	if (fd != -1)
		close(fd);
}

/* ------------------------------------------------------------ the loop */

/* The earliest deadline: a retry, a job's or change's time-out, the feed, the beat. */
static int
poll_timeout(void)
{
	uint64_t now = now_ms(), at = now + 1000;

	if (S.pg == NULL && S.retry_at_ms != 0 && S.retry_at_ms < at)
		at = S.retry_at_ms;
	if ((S.connecting || S.job != J_NONE) && S.job_deadline_ms < at)
		at = S.job_deadline_ms;
	if (S.has_change && S.change_deadline_ms < at)
		at = S.change_deadline_ms;
	if (S.up && S.job == J_NONE) {
		if (S.next_feed_ms < at)
			at = S.next_feed_ms;
		if (S.next_beat_ms < at)
			at = S.next_beat_ms;
	}
	return at <= now ? 0 : (int)(at - now);
}

static void
deadlines(void)
{
	uint64_t now = now_ms();
	char	 why[DIR_WHY_MAX];

	if (S.has_change && now >= S.change_deadline_ms) {
		snprintf(why, sizeof(why), "PostgreSQL did not answer within %us "
		    "(directory-timeout)", (S.hello.timeout_ms + 999) / 1000);
		if (S.change_sent || S.job != J_NONE)
			go_down(why);	/* answers the change too */
		else
			answer(DIR_DOWN, 0, why);
	}
	if (S.pg != NULL && (S.connecting || S.job != J_NONE) && now >= S.job_deadline_ms)
		go_down(S.connecting ? "connecting to PostgreSQL timed out" :
		    "PostgreSQL did not answer in time");
	if (S.pg == NULL && S.retry_at_ms != 0 && now >= S.retry_at_ms)
		connect_start();
}

static void
dirsync_loop(void)
{
	struct pollfd	 p[2];
	int		 n, np;

	for (;;) {
		p[0].fd = CHILD_CHAN_FD;
		p[0].events = POLLIN;
		p[0].revents = 0;
		np = 1;
		if (S.pg != NULL && PQsocket(S.pg) >= 0) {
			p[1].fd = PQsocket(S.pg);
			p[1].events = S.connecting ? (S.pollwrite ? POLLOUT : POLLIN) :
			    POLLIN | (PQflush(S.pg) == 1 ? POLLOUT : 0);
			p[1].revents = 0;
			np = 2;
		}
		n = poll(p, (nfds_t)np, poll_timeout());
		if (n == -1 && errno != EINTR)
			fatal("dirsync: poll");
		if (n > 0 && p[0].revents)
			master_read();
		if (n > 0 && np == 2 && p[1].revents && S.pg != NULL) {
			if (S.connecting)
				connect_step();
			else
				pg_read();
		}
		deadlines();
		next_job();
	}
}

/* ------------------------------------------------------------ the start */

static void
conninfo_read(int fd)
{
	ssize_t	 n = read(fd, S.conninfo, sizeof(S.conninfo));
	char	*nl;

	close(fd);
	if (n < 0 || n == (ssize_t)sizeof(S.conninfo))
		fatalx("dirsync: %s cannot be read, or is over 4 KiB", S.conf.directory_conninfo);
	S.conninfo[n] = '\0';
	if ((nl = strchr(S.conninfo, '\n')) != NULL)
		*nl = '\0';
	if (S.conninfo[0] == '\0')
		fatalx("dirsync: %s is empty: it holds one libpq conninfo line",
		    S.conf.directory_conninfo);
}

/* The first two messages: the configuration, then HELLO with the conninfo. */
static void
master_first(void)
{
	static union {
		struct config		c;
		struct msg_dir_hello	h;
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	n = msg_recv_checked(CHILD_CHAN_FD, MR_DIRSYNC, MR_MASTER, &type, &m, sizeof(m), &fd,
	    &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("dirsync: no configuration from the master");
	S.conf = m.c;
	n = msg_recv_checked(CHILD_CHAN_FD, MR_DIRSYNC, MR_MASTER, &type, &m, sizeof(m), &fd,
	    &why);
	if (n < 0 || type != MSG_DIR_HELLO || fd == -1)
		fatalx("dirsync: no HELLO from the master");
	S.hello = m.h;
	S.hello.node[sizeof(S.hello.node) - 1] = '\0';
	if (S.hello.node[0] == '\0' || S.hello.timeout_ms == 0 || S.hello.beat_ms == 0)
		fatalx("dirsync: a HELLO without a node name or its clocks");
	conninfo_read(fd);
}

static void
undumpable(void)
{
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 || setrlimit(RLIMIT_CORE, &none) == -1)
		fatal("dirsync: no core dumps");
}

static int
dirsync_main(void)
{
	char	 err[256], dir[PATH_MAX];

	log_init("dirsync", getenv("LOCKERD_DEBUG") != NULL);
	undumpable();
	master_first();
	S.started = wall();
	S.told_up = -1;
	S.last = S.hello.rev;
	S.need_full = S.hello.rev == 0;
	snprintf(S.beat.state, sizeof(S.beat.state), "up");
	if ((S.feed_sql = dirpg_feed_query(0)) == NULL ||
	    (S.full_sql = dirpg_feed_query(1)) == NULL)
		fatalx("dirsync: out of memory");
	snprintf(dir, sizeof(dir), "%s/empty", S.conf.state);
	drop_privileges(S.conf.dir_user, dir);
	undumpable();
	signal(SIGPIPE, SIG_IGN);
	if (seccomp_dirsync(err, sizeof(err)) == -1)
		fatalx("dirsync: %s", err);
	snprintf(S.why, sizeof(S.why), "connecting");
	connect_start();
	send_state();
	dirsync_loop();
	return 0;
}

/* lockerd-dirsync is exec'd by the master as "lockerd -R dirsync". */
int
main(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "-R") != 0 || strcmp(argv[2], "dirsync") != 0) {
		fprintf(stderr, "lockerd-dirsync is started by lockerd, not by hand\n");
		return 2;
	}
	return dirsync_main();
}
