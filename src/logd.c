/*
 * logd.c: the only writer of log files ("oklogd").
 *
 * Runs as its own system user, chrooted into the log directory.  Fronts
 * send batches of access-log lines; logd appends each to the global
 * access.log and to the locker's own lockers/<name>/access.log, and
 * reopens every file on SIGHUP (logrotate) or when the master says so.
 * What a locker's programs write to their stderr goes to its error log,
 * within its budget (errlog.c).
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "route.h"
#include "wire.h"

#define MAX_INPUTS	4096
#define MAX_OPEN_LOGS	256	/* per-locker files kept open at once */
#define CHAN_STAGE_BYTES	(64 * 1024)
#define INPUT_BATCH	256	/* messages read from one input per round */

struct lockerlog {
	char		name[LOCKER_NAME_MAX + 1];
	int		fd;
	uint64_t	used;
};

static struct {
	struct config		 conf;
	struct pollfd		 pfd[MAX_INPUTS];
	/* The locker an input belongs to (a worker's), "" for a front's. */
	char			 owner[MAX_INPUTS][LOCKER_NAME_MAX + 1];
	int			 npfd;
	int			 access_fd;
	int			 error_fd;
	struct lockerlog	 open[MAX_OPEN_LOGS];
	int			 nopen;
	uint64_t		 tick;
	volatile sig_atomic_t	 reopen, stop;
} L;

static int
open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

	if (fd == -1)
		log_warn("logd: open %s", path);
	return fd;
}

static void
close_all(void)
{
	int i;

	if (L.access_fd != -1)
		close(L.access_fd);
	if (L.error_fd != -1)
		close(L.error_fd);
	for (i = 0; i < L.nopen; i++)
		close(L.open[i].fd);
	L.nopen = 0;
	L.access_fd = open_log("/access.log");
	L.error_fd = open_log("/error.log");
}

/* A locker name comes from front: it is checked before it becomes a path. */
static int
name_ok(const char *s, size_t len)
{
	return locker_label_check(s, len, NULL, 0) == 0;
}

static int
locker_fd(const char *name)
{
	char	path[LOCKER_NAME_MAX + 32];
	int	i, lru = 0;

	for (i = 0; i < L.nopen; i++)
		if (strcmp(L.open[i].name, name) == 0) {
			L.open[i].used = ++L.tick;
			return L.open[i].fd;
		}
	if (L.nopen == MAX_OPEN_LOGS) {
		for (i = 1; i < L.nopen; i++)
			if (L.open[i].used < L.open[lru].used)
				lru = i;
		close(L.open[lru].fd);
		L.open[lru] = L.open[--L.nopen];
	}
	mkdir("/lockers", 0750);
	snprintf(path, sizeof(path), "/lockers/%s", name);
	mkdir(path, 0750);
	snprintf(path, sizeof(path), "/lockers/%s/access.log", name);
	if ((i = open_log(path)) == -1)
		return -1;
	snprintf(L.open[L.nopen].name, sizeof(L.open[0].name), "%s", name);
	L.open[L.nopen].fd = i;
	L.open[L.nopen].used = ++L.tick;
	return L.open[L.nopen++].fd;
}

/*
 * A batch is a run of records: [u8 name length][name][u16 line length][line].
 * Lines are gathered per file, so a batch costs one write per file it
 * touches, not one per line.
 */
#define STAGES	16

static struct stage {
	int	fd;
	size_t	len;
	char	buf[CHAN_STAGE_BYTES];
} stages[STAGES];
static int nstages;

static void
stage_add(int fd, const char *line, size_t len)
{
	int i;

	for (i = 0; i < nstages; i++)
		if (stages[i].fd == fd)
			break;
	if (i == nstages) {
		if (nstages == STAGES) {
			write_all(fd, line, len);
			return;
		}
		stages[nstages].fd = fd;
		stages[nstages++].len = 0;
	}
	if (stages[i].len + len > sizeof(stages[i].buf)) {
		write_all(fd, stages[i].buf, stages[i].len);
		stages[i].len = 0;
	}
	memcpy(stages[i].buf + stages[i].len, line, len);
	stages[i].len += len;
}

static void
stages_write(void)
{
	int i;

	for (i = 0; i < nstages; i++)
		if (stages[i].len > 0)
			write_all(stages[i].fd, stages[i].buf, stages[i].len);
	nstages = 0;
}

static void
write_batch(const char *b, size_t len)
{
	struct wire_log	r;
	size_t		off = 0;

	while (wire_log_next(b, len, &off, &r) == 1) {
		char		name[LOCKER_NAME_MAX + 1], line[WIRE_LOG_LINE_MAX + 2];
		size_t		nlen = r.nlen, llen = r.llen;
		int		fd;

		memcpy(name, r.name, nlen);
		name[nlen] = '\0';
		memcpy(line, r.line, llen);
		if (memchr(line, '\n', llen) != NULL || memchr(line, '\0', llen) != NULL)
			continue;	/* a line must stay one line */
		line[llen++] = '\n';
		if (L.access_fd != -1)
			stage_add(L.access_fd, line, llen);
		if (nlen > 0 && name_ok(name, nlen) && (fd = locker_fd(name)) != -1)
			stage_add(fd, line, llen);
	}
	stages_write();
}

static void
error_line(const char *b, size_t len)
{
	char		line[1200], stamp[64];
	time_t		t = time(NULL);
	struct tm	tm;
	size_t		i;
	int		n;

	if (L.error_fd == -1)
		return;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %z", &tm);
	n = snprintf(line, sizeof(line), "[%s] %.*s\n", stamp, (int)(len > 1024 ? 1024 : len), b);
	for (i = 0; i + 1 < (size_t)n && i < sizeof(line) - 1; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = '?';
	write_all(L.error_fd, line, strlen(line));
}

static const char *
buf_name(const void *b, size_t n)
{
	return n <= LOCKER_NAME_MAX ? b : "";
}

/* A [u8 len][locker][data] message's locker, as a string, and its data;
 * -1 if it is malformed or names no possible locker. */
static int
locker_msg(const char *b, size_t n, char name[LOCKER_NAME_MAX + 1], const char **data,
    size_t *dl)
{
	const char	*nm;
	size_t		 nl;

	if (wire_locker_parse(b, n, &nm, &nl, data, dl) == -1 || !name_ok(nm, nl))
		return -1;
	memcpy(name, nm, nl);
	name[nl] = '\0';
	return 0;
}

/* [u8 len][locker][u64]: bytes of a locker's PHP errors front dropped. */
static void
front_dropped(const char *b, size_t n)
{
	const char	*data;
	size_t		 dl;
	char		 name[LOCKER_NAME_MAX + 1];
	uint64_t	 bytes;

	if (locker_msg(b, n, name, &data, &dl) == -1 || dl != sizeof(bytes))
		return;
	memcpy(&bytes, data, sizeof(bytes));
	errlog_dropped(name, bytes);
}

/* [u8 len][locker][text]: a line for a locker's error log (its PHP's, mostly). */
static void
front_error(const char *b, size_t n)
{
	const char	*data;
	size_t		 dl;
	char		 name[LOCKER_NAME_MAX + 1];

	if (locker_msg(b, n, name, &data, &dl) == 0)
		errlog_write(name, data, dl);
}

/* A line of a locker's cron log, at its own log-size. */
static void
cron_line(const char *locker, const char *text, size_t len)
{
	cronlog_write(locker, text, len, errlog_size_of(locker));
}

/* [u8 len][locker][text]: the master's own line for a locker's cron log. */
static void
master_cron(const char *b, size_t n)
{
	const char	*data;
	size_t		 dl;
	char		 name[LOCKER_NAME_MAX + 1];

	if (locker_msg(b, n, name, &data, &dl) == 0)
		cron_line(name, data, dl);
}

/*
 * Read what an input has, at most max messages (0: all): a worker whose
 * scripts write without pause must not keep logd from the other inputs.
 * -1 when it is finished.
 */
static int
input_read(int idx, int max)
{
	int fd = L.pfd[idx].fd;

	static char	buf[MSG_MAX_PAYLOAD];
	/* A worker's channel is bound to its locker; a front's to none. */
	enum msg_role	peer = L.owner[idx][0] != '\0' ? MR_WORKER : MR_FRONT;
	enum msg_type	type;
	const char	*why;
	ssize_t		n;
	int		pfd, got = 0;

	while (max == 0 || got++ < max) {
		n = msg_recv_checked(fd, MR_LOGD, peer, &type, buf, sizeof(buf), &pfd, &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == MSG_BREACH) {
			char who[LOCKER_NAME_MAX + 16];

			snprintf(who, sizeof(who), "%s%s", peer == MR_WORKER ? "worker " : "front",
			    L.owner[idx]);
			msg_breach(MR_LOGD, peer, who, type, why);
			return -1;	/* MSG_ACT_DROP */
		}
		if (n == -1 || type == MSG_NONE)
			return -1;
		/* msg_rules[]: no descriptor, and a worker sends only its own
		 * error lines and drops, which go into its own log. */
		if (peer == MR_WORKER) {
			if (type == MSG_LOG_ERROR)
				errlog_write(L.owner[idx], buf, (size_t)n);
			else if (type == MSG_LOG_CRON)
				cron_line(L.owner[idx], buf, (size_t)n);
			else if (type == MSG_LOG_LOCKER_DROPPED && (size_t)n == sizeof(uint64_t)) {
				uint64_t bytes;

				memcpy(&bytes, buf, sizeof(bytes));
				errlog_dropped(L.owner[idx], bytes);
			}
		} else if (type == MSG_LOG_ACCESS)
			write_batch(buf, (size_t)n);
		else if (type == MSG_LOG_ERROR)
			error_line(buf, (size_t)n);
		else if (type == MSG_LOG_LOCKER_ERROR)
			front_error(buf, (size_t)n);
		else if (type == MSG_LOG_LOCKER_DROPPED)
			front_dropped(buf, (size_t)n);
	}
	return 0;
}

/* A locker's own log-rate and log-size, from the master. */
static void
log_limits(const struct msg_log_limits *m)
{
	size_t nl = strnlen(m->locker, sizeof(m->locker));

	if (nl < sizeof(m->locker) && name_ok(m->locker, nl))
		errlog_limits(m->locker, m->own);
}

static void
master_read(void)
{
	static struct config	 c;
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 fd;

	for (;;) {
		n = msg_recv_checked(L.pfd[0].fd, MR_LOGD, MR_MASTER, &type, &c, sizeof(c), &fd,
		    &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == MSG_BREACH)
			msg_breach(MR_LOGD, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
		if (n < 0 || type == MSG_NONE) {
			L.stop = 1;
			return;
		}
		/* A worker's channel names its locker; a front's nothing. */
		if (type == MSG_LOG_CHAN && L.npfd < MAX_INPUTS &&
		    (n == 0 || name_ok(buf_name(&c, (size_t)n), (size_t)n))) {
			set_nonblock(fd);
			L.pfd[L.npfd].fd = fd;
			L.pfd[L.npfd].events = POLLIN;
			memcpy(L.owner[L.npfd], &c, (size_t)n);
			L.owner[L.npfd][n] = '\0';
			L.npfd++;
			continue;
		}
		if (fd != -1)
			close(fd);
		if (type == MSG_LOG_LIMITS)
			log_limits((const struct msg_log_limits *)(void *)&c);
		else if (type == MSG_LOG_CRON)
			master_cron((const char *)&c, (size_t)n);
		else if (type == MSG_CONFIG)
			L.conf = c;
		else if (type == MSG_REOPEN)
			L.reopen = 1;
	}
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		L.reopen = 1;
	else
		L.stop = 1;
}

static void
input_drop(int i)
{
	close(L.pfd[i].fd);
	L.npfd--;
	L.pfd[i] = L.pfd[L.npfd];
	memcpy(L.owner[i], L.owner[L.npfd], sizeof(L.owner[i]));
}

static void
drain_inputs(void)
{
	int i;

	for (i = L.npfd - 1; i >= 1; i--)
		if (input_read(i, 0) == -1)
			input_drop(i);
}

int
logd_main(void)
{
	struct sigaction	sa;
	enum msg_type		type;
	const char		*why;
	ssize_t			n;
	int			fd, i;
	char			err[256];
	uint64_t		next_tick = 0;

	log_init("logd", 0);
	memset(&L, 0, sizeof(L));
	errlog_init(&L.conf, CHILD_CHAN_FD);
	n = msg_recv_checked(CHILD_CHAN_FD, MR_LOGD, MR_MASTER, &type, &L.conf, sizeof(L.conf),
	    &fd, &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("logd: no configuration from the master");
	tzset();
	drop_privileges(L.conf.log_user, L.conf.logs);
	umask(027);
	L.access_fd = L.error_fd = -1;
	close_all();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	set_nonblock(CHILD_CHAN_FD);
	L.pfd[0].fd = CHILD_CHAN_FD;
	L.pfd[0].events = POLLIN;
	L.npfd = 1;
	/* From here on: its log files, its inputs, nothing else. */
	if (seccomp_service(1, err, sizeof(err)) == -1)
		fatalx("logd: %s", err);

	while (!L.stop) {
		if (poll(L.pfd, (nfds_t)L.npfd, 1000) == -1 && errno != EINTR)
			fatal("logd: poll");
		if (L.reopen) {
			L.reopen = 0;
			close_all();
			errlog_reopen();
		}
		if (now_ms() >= next_tick) {
			errlog_tick();
			next_tick = now_ms() + 1000;
		}
		for (i = L.npfd - 1; i >= 1; i--) {
			if (L.pfd[i].revents == 0)
				continue;
			if (input_read(i, INPUT_BATCH) == -1)
				input_drop(i);
		}
		if (L.pfd[0].revents)
			master_read();
	}
	/* Whatever the fronts sent before they stopped is written before we go. */
	drain_inputs();
	errlog_flush();
	return 0;
}
