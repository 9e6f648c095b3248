/*
 * errlog.c: each locker's error log, in logd: its budget and its rotation.
 *
 * What a locker's error log holds comes from the locker's own programs (a
 * script's stderr through its worker, PHP's FastCGI STDERR records through
 * front), so the locker decides how much comes; and the log directory is
 * outside its home, so outside its disk limit.  logd is the one writer and
 * sees every byte whatever path it came by, so the budget is kept here:
 *
 *  - a rate: a token bucket filled at log-rate bytes a second, holding
 *    LOG_BURST_SECONDS of it (and at least two of the longest lines).  A
 *    line that does not fit is dropped and counted; once the bucket has
 *    room again, a line of the log says how much went:
 *    "lockerd: dropped N bytes (log-rate)";
 *  - a size: a line that would take error.log past log-size first turns it
 *    into error.log.1 (.1 into .2, and so on; the oldest goes), so one
 *    locker's error logs hold at most (LOG_GENERATIONS + 1) x log-size.
 *
 * Each line of what arrives is a line of the log, prefixed with the time;
 * every other control character is escaped as \xNN, so that no locker can
 * move the cursor of a terminal showing its log or forge a line of its own.
 * Both values are the locker's own where root set them (`locker limit`):
 * the master sends them (errlog_limits()), logd parses nothing for them.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"

#define ERRLOG_MAX	4096	/* lockers remembered: logd's most inputs */
#define ERRLOG_OPEN	256	/* error logs kept open at once */
#define ERRLOG_HASH	1024

struct errlog {
	char		name[LOCKER_NAME_MAX + 1];
	int		fd;		/* -1: closed */
	int		next;		/* in its hash chain; -1 ends it */
	uint64_t	used;		/* when last written: the least recent goes */
	uint64_t	size;		/* of error.log */
	struct rate_bucket	b;		/* its log-rate */
	uint64_t	dropped;	/* bytes, not said yet */
	uint64_t	noticed_ms;	/* when that was last said */
	uint64_t	own_rate, own_size;	/* LIMIT_DEFAULT: the configuration's */
};

static struct {
	const struct config	*conf;
	int			 report_fd;
	struct errlog		 e[ERRLOG_MAX];
	int			 n, nopen;
	int			 hash[ERRLOG_HASH];
	uint64_t		 tick;
	time_t			 stamp_t;
	char			 stamp[64];
} E;

void
errlog_init(const struct config *conf, int report_fd)
{
	int i;

	E.conf = conf;
	E.report_fd = report_fd;
	for (i = 0; i < ERRLOG_HASH; i++)
		E.hash[i] = -1;
}

static unsigned
name_hash(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % ERRLOG_HASH;
}

static uint64_t
rate_of(const struct errlog *e)
{
	return e->own_rate != LIMIT_DEFAULT ? e->own_rate : E.conf->log_rate;
}

static uint64_t
size_of(const struct errlog *e)
{
	return e->own_size != LIMIT_DEFAULT ? e->own_size : E.conf->log_size;
}

static void
unlink_chain(int i)
{
	int *p = &E.hash[name_hash(E.e[i].name)];

	while (*p != -1 && *p != i)
		p = &E.e[*p].next;
	if (*p == i)
		*p = E.e[i].next;
}

static void	notice(struct errlog *e, int force);

/* The locker's entry; a new one (the least recently used one's slot when
 * all are taken) if create. */
static struct errlog *
find(const char *name, int create)
{
	unsigned	 h = name_hash(name);
	int		 i, lru = 0;
	struct errlog	*e;

	for (i = E.hash[h]; i != -1; i = E.e[i].next)
		if (strcmp(E.e[i].name, name) == 0)
			return &E.e[i];
	if (!create)
		return NULL;
	if (E.n < ERRLOG_MAX)
		i = E.n++;
	else {
		for (i = 1; i < ERRLOG_MAX; i++)
			if (E.e[i].used < E.e[lru].used)
				lru = i;
		i = lru;
		notice(&E.e[i], 1);	/* what it dropped is said before it goes */
		if (E.e[i].fd != -1) {
			close(E.e[i].fd);
			E.nopen--;
		}
		unlink_chain(i);
	}
	e = &E.e[i];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->fd = -1;
	e->own_rate = e->own_size = LIMIT_DEFAULT;
	bucket_fill(&e->b, rate_of(e), now_ms());
	e->used = ++E.tick;
	e->next = E.hash[h];
	E.hash[h] = i;
	return e;
}

static void
path_of(const struct errlog *e, int gen, char *out, size_t outsz)
{
	if (gen == 0)
		snprintf(out, outsz, "/lockers/%s/error.log", e->name);
	else
		snprintf(out, outsz, "/lockers/%s/error.log.%d", e->name, gen);
}

static int
open_errlog(struct errlog *e)
{
	char		path[LOCKER_NAME_MAX + 32];
	struct stat	st;
	int		i, lru = -1;

	if (e->fd != -1)
		return 0;
	if (E.nopen >= ERRLOG_OPEN) {
		for (i = 0; i < E.n; i++)
			if (E.e[i].fd != -1 && (lru == -1 || E.e[i].used < E.e[lru].used))
				lru = i;
		if (lru != -1) {
			close(E.e[lru].fd);
			E.e[lru].fd = -1;
			E.nopen--;
		}
	}
	mkdir("/lockers", 0750);
	snprintf(path, sizeof(path), "/lockers/%s", e->name);
	mkdir(path, 0750);
	path_of(e, 0, path, sizeof(path));
	e->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (e->fd == -1) {
		log_warn("logd: open %s", path);
		return -1;
	}
	E.nopen++;
	e->size = fstat(e->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

/* error.log -> error.log.1 -> ... -> error.log.LOG_GENERATIONS -> gone. */
static void
rotate(struct errlog *e)
{
	char	from[LOCKER_NAME_MAX + 32], to[LOCKER_NAME_MAX + 32];
	int	g;

	if (e->fd != -1) {
		close(e->fd);
		e->fd = -1;
		E.nopen--;
	}
	for (g = LOG_GENERATIONS; g >= 1; g--) {
		path_of(e, g - 1, from, sizeof(from));
		path_of(e, g, to, sizeof(to));
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("logd: rename %s", from);
	}
	e->size = 0;
}

static void
emit(struct errlog *e, const char *line, size_t len)
{
	uint64_t limit = size_of(e);

	if (limit != 0 && e->size > 0 && e->size + len > limit)
		rotate(e);
	if (open_errlog(e) == -1)
		return;
	if (write_all(e->fd, line, len) == 0)
		e->size += len;
}

static void
refill(struct errlog *e, uint64_t now)
{
	bucket_refill(&e->b, rate_of(e), bucket_cap(rate_of(e)), now);
}

/* Take len bytes of the locker's budget; 0 (and counted) if they do not fit. */
static int
take(struct errlog *e, size_t len, uint64_t now)
{
	if (bucket_take(&e->b, rate_of(e), bucket_cap(rate_of(e)), now, len))
		return 1;
	e->dropped += len;
	return 0;
}

static const char *
stamp(void)
{
	time_t		t = time(NULL);
	struct tm	tm;

	if (t != E.stamp_t) {
		localtime_r(&t, &tm);
		strftime(E.stamp, sizeof(E.stamp), "%Y-%m-%d %H:%M:%S %z", &tm);
		E.stamp_t = t;
	}
	return E.stamp;
}

/* The master counts drops too, for `locker info` (a lost report is a lost count). */
static void
report(const struct errlog *e)
{
	struct msg_log_dropped m;

	memset(&m, 0, sizeof(m));
	snprintf(m.locker, sizeof(m.locker), "%s", e->name);
	m.bytes = e->dropped;
	msg_send(E.report_fd, MSG_LOG_DROPPED, &m, sizeof(m), -1);
}

/*
 * Say what was dropped, once the bucket has room for saying it, at most
 * once a second (a flood that goes on leaves a line a second, not a log of
 * notices); or now, when the locker's entry goes.
 */
static void
notice(struct errlog *e, int force)
{
	uint64_t	now = now_ms();
	char		line[160];
	int		n;

	if (e->dropped == 0 || (!force && now < e->noticed_ms + 1000))
		return;
	n = snprintf(line, sizeof(line), "[%s] lockerd: dropped %llu bytes (log-rate)\n",
	    stamp(), (unsigned long long)e->dropped);
	if (!force) {
		refill(e, now);
		if (e->b.tokens < (uint64_t)n)
			return;
		e->b.tokens -= (uint64_t)n;
	}
	report(e);
	e->dropped = 0;
	e->noticed_ms = now;
	emit(e, line, (size_t)n);
}

/* "[time] " and the piece, its control characters escaped, and "\n". */
static size_t
format_line(char *out, const char *p, size_t len)
{
	size_t	o, i;

	o = (size_t)sprintf(out, "[%s] ", stamp());
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			o += hex_escape(out + o, ch);
		else
			out[o++] = (char)ch;
	}
	out[o++] = '\n';
	return o;
}

/* What a locker's program said, into its error log: one line per line. */
void
errlog_write(const char *locker, const char *text, size_t len)
{
	static char	 out[64 + 4 * LOG_LINE_MAX + 1];
	struct errlog	*e = find(locker, 1);
	uint64_t	 now = now_ms();
	size_t		 i = 0, n;

	e->used = ++E.tick;
	notice(e, 0);
	while (i < len) {
		const char	*nl = memchr(text + i, '\n', len - i);
		size_t		 end = nl != NULL ? (size_t)(nl - text) : len, l = end - i, k;

		if (l > 0 && text[end - 1] == '\r')
			l--;	/* CRLF: the CR is no character of the line */
		do {	/* a line longer than LOG_LINE_MAX: in pieces of it */
			k = l < LOG_LINE_MAX ? l : LOG_LINE_MAX;
			/* Over budget even unescaped: dropped without the work. */
			if (rate_of(e) != 0 && (refill(e, now),
			    e->b.tokens < LOG_STAMP_LEN + k + 1))
				e->dropped += LOG_STAMP_LEN + k + 1;
			else if (take(e, n = format_line(out, text + i, k), now))
				emit(e, out, n);
			i += k;
			l -= k;
		} while (l > 0);
		i = end + 1;
	}
}

/* Once a second: the drops of lockers that went quiet are said too. */
void
errlog_tick(void)
{
	int i;

	for (i = 0; i < E.n; i++)
		if (E.e[i].dropped > 0)
			notice(&E.e[i], 0);
}

/* A locker's own log-rate and log-size (LIMIT_DEFAULT: the configuration's). */
uint64_t
errlog_size_of(const char *locker)
{
	const struct errlog *e = find(locker, 0);

	return e != NULL ? size_of(e) : E.conf->log_size;
}

void
errlog_limits(const char *locker, const uint64_t *own)
{
	struct errlog *e = find(locker, 1);

	e->own_rate = own[LIMIT_LOG_RATE];
	e->own_size = own[LIMIT_LOG_SIZE];
	if (e->b.tokens > bucket_cap(rate_of(e)))
		e->b.tokens = bucket_cap(rate_of(e));
}

/* Bytes of a locker's that front dropped over its budget: said with ours. */
void
errlog_dropped(const char *locker, uint64_t bytes)
{
	struct errlog *e = find(locker, 1);

	e->dropped += bytes < UINT64_MAX - e->dropped ? bytes : 0;
}

/* logd is stopping: what was dropped and not said yet is said now. */
void
errlog_flush(void)
{
	int i;

	for (i = 0; i < E.n; i++)
		notice(&E.e[i], 1);
}

/* SIGHUP (logrotate): every error log is opened anew at its next line. */
void
errlog_reopen(void)
{
	int i;

	for (i = 0; i < E.n; i++)
		if (E.e[i].fd != -1) {
			close(E.e[i].fd);
			E.e[i].fd = -1;
		}
	E.nopen = 0;
}
