/*
 * dir_master.c: the master's end of lockerd-dirsync (dirsync.c), the
 * fleet directory's link to PostgreSQL, with `directory postgres FILE`.
 *
 * The master starts dirsync like sqld: exec'd from its own program
 * (lockerd-dirsync, beside lockerd: the master does not link libpq), as
 * dir-user, restarted with a growing delay when it dies.  It opens the
 * conninfo file as root and hands dirsync only the descriptor, in HELLO,
 * with this node's name and the revision its copy holds (fleet_state).
 *
 * It is the link of the directory's fleet mode (dir_fleet.h): send()
 * sends one transaction's change records and waits on the channel for
 * the answer — the one place the master waits on another process, at most
 * directory-timeout, as a change must be PostgreSQL's before it is ours.
 * Rows of the feed that come meanwhile are held back and applied from the
 * master's loop once the transaction is over; so are those that come while
 * it is not waiting.  Each second it sends dirsync this node's beat (its
 * state and load), which dirsync writes into the node's row.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "dir_fleet.h"
#include "dirrec.h"
#include "dirsync.h"
#include "directory.h"
#include "drain.h"

#define HELD_MAX	64		/* feeds held back during one wait */
#define CATCH_UP_MS	1000		/* after a conflict, the feed waited for */

struct held {
	struct msg_dir_rows	m;
	int			fd;
};

static struct child	 ds = { .kind = EV_CHILD, .role = ROLE_DIRSYNC, .chan = -1 };
static int		 exe_fd = -1;
static uint64_t		 next_id = 1;
static uint64_t		 next_beat_ms;
static struct held	 held[HELD_MAX];
static int		 nheld;
static int		 up_logged = -1;

struct child *
dirsync_child(void)
{
	return &ds;
}

static int
dirsync_exe_open(void)
{
	char	self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		return -1;
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/lockerd-dirsync", dirname(self));
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* The conninfo file, as root: a regular file no one but root may read. */
static int
conninfo_ok(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == 0 && (st->st_mode & 077) == 0;
}

int
dirsync_check(const struct config *c, char *err, size_t errlen)
{
	struct stat	st;
	int		fd;

	if (c->directory != DIRECTORY_POSTGRES)
		return 0;
	if (getpwnam(c->dir_user) == NULL) {
		snprintf(err, errlen, "dir-user \"%s\" does not exist (create it with: useradd "
		    "--system --no-create-home --shell /usr/sbin/nologin %s)", c->dir_user,
		    c->dir_user);
		return -1;
	}
	if (lstat(c->directory_conninfo, &st) == -1) {
		snprintf(err, errlen, "directory: %s: %s", c->directory_conninfo, strerror(errno));
		return -1;
	}
	if (!conninfo_ok(&st)) {
		snprintf(err, errlen, "directory: %s must be a regular file of root's that only "
		    "root may read (chmod 600)", c->directory_conninfo);
		return -1;
	}
	if ((fd = dirsync_exe_open()) == -1) {
		snprintf(err, errlen, "directory: lockerd-dirsync is not beside lockerd: %s",
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int
conninfo_open(void)
{
	struct stat	st;
	int		fd;

	if ((fd = open(M->conf.directory_conninfo, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_warn("directory: %s", M->conf.directory_conninfo);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !conninfo_ok(&st)) {
		log_warnx("directory: %s must be a regular file of root's that only root may read "
		    "(chmod 600)", M->conf.directory_conninfo);
		close(fd);
		return -1;
	}
	return fd;
}

static void
set_state(int up, int64_t since, const char *why)
{
	struct dir_fleet *f = dir_fleet(M->dir);

	if (f != NULL)
		dir_fleet_state(f, up, since, why);
	if (up_logged != up)
		log_warnx("directory: the fleet's PostgreSQL is %s%s%s", up ? "reachable" :
		    "unreachable: ", up ? "" : why, up ? "; changes are taken again" :
		    "; changes are refused, pages are still served");
	up_logged = up;
}

void
dirsync_start(void)
{
	struct msg_dir_hello	 h;
	struct child		*k = &ds;
	int64_t			 rev;
	int			 end, fd;

	if (M->conf.directory != DIRECTORY_POSTGRES || M->stopping)
		return;
	k->restart_at_ms = 0;
	if (exe_fd == -1 && (exe_fd = dirsync_exe_open()) == -1) {
		log_warn("directory: lockerd-dirsync");
		k->restart_at_ms = now_ms() + 5000;
		return;
	}
	if ((fd = conninfo_open()) == -1) {
		k->restart_at_ms = now_ms() + 5000;
		return;
	}
	if ((end = new_channel(k)) == -1) {
		close(fd);
		k->restart_at_ms = now_ms() + 1000;
		return;
	}
	k->pid = spawn_role(exe_fd, "dirsync", NULL, end, NULL, 0, NULL, NULL);
	close(end);
	if (child_spawned(k, "dirsync") == -1) {
		close(fd);
		return;
	}
	/* child_spawned() sent the configuration; HELLO and the conninfo follow. */
	memset(&h, 0, sizeof(h));
	snprintf(h.node, sizeof(h.node), "%s", M->conf.node);
	rev = dir_fleet_rev(M->dir);
	h.rev = rev > 0 ? (uint64_t)rev : 0;	/* none, or unreadable: a full copy */
	h.timeout_ms = M->conf.directory_timeout * 1000;
	h.beat_ms = 1000;
	if (child_send(k, MSG_DIR_HELLO, &h, sizeof(h), fd) == -1)
		log_warnx("directory: cannot send lockerd-dirsync its start");
	close(fd);
	if (k->restarts > 0)
		log_warnx("lockerd-dirsync started again (pid %d)", (int)k->pid);
}

void
dirsync_stop(int sig)
{
	if (ds.pid > 0)
		kill(ds.pid, sig);
}

/* ------------------------------------------------------------ the feed */

/* A feed's rows into the copy; a copy that cannot take them is fed afresh. */
static void
rows_apply(const struct msg_dir_rows *m, int fd)
{
	const unsigned char	*p;
	const char		*why;
	uint64_t		 changed;
	size_t			 len;
	char			 err[512];

	if (dirrec_map(fd, &p, &len, &why) == -1) {
		log_warnx("directory: the feed: %s", why);
		goto restart;
	}
	if (dir_fleet_apply(M->dir, p, len, m->nrec, m->from_rev, m->to_rev, m->full, &changed,
	    err, sizeof(err)) == -1) {
		dirrec_unmap(p, len);
		log_warnx("directory: the feed from revision %" PRIu64 " to %" PRIu64
		    " not applied: %s", m->from_rev, m->to_rev, err);
		goto restart;
	}
	dirrec_unmap(p, len);
	return;
restart:
	/* dirsync starts again from what fleet_state holds. */
	dirsync_stop(SIGKILL);
}

static void
held_apply(void)
{
	int i, n = nheld;

	nheld = 0;
	for (i = 0; i < n; i++) {
		rows_apply(&held[i].m, held[i].fd);
		close(held[i].fd);
	}
}

static void
hold(const struct msg_dir_rows *m, int fd)
{
	if (nheld == HELD_MAX) {
		/* Too far behind to keep: start again from fleet_state. */
		close(fd);
		dirsync_stop(SIGKILL);
		return;
	}
	held[nheld].m = *m;
	held[nheld].fd = fd;
	nheld++;
}

static const char *
state_msg(const void *buf)
{
	struct msg_dir_state st;

	memcpy(&st, buf, sizeof(st));
	if (memchr(st.why, '\0', sizeof(st.why)) == NULL ||
	    memchr(st.primary, '\0', sizeof(st.primary)) == NULL)
		return "is not NUL-terminated";
	set_state(st.up != 0, st.since, st.why);
	return NULL;
}

/* From the master's loop (child_read): rows, states; a late result is dropped. */
const char *
dirsync_master_msg(enum msg_type type, const void *buf, size_t len, int fd)
{
	struct msg_dir_rows m;

	(void)len;	/* msg_rules[]: exactly the struct */
	if (type == MSG_DIR_STATE)
		return state_msg(buf);
	if (type == MSG_DIR_ROWS) {
		memcpy(&m, buf, sizeof(m));
		hold(&m, fd);
		held_apply();
	}
	return NULL;
}

/* ------------------------------------------------------------ the link */

/*
 * The next message on dirsync's channel within ms: 1 (in *type, *fd),
 * 0 (none came), -1 (the channel broke or dirsync broke the rules).
 */
static int
link_read(int ms, enum msg_type *type, void *buf, size_t bufsz, int *fd)
{
	struct pollfd	 p = { .fd = ds.chan, .events = POLLIN };
	const char	*why;
	ssize_t		 n;

	if (outq_flush(&ds) == -1)
		return -1;
	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = msg_recv_checked(ds.chan, MR_MASTER, MR_DIRSYNC, type, buf, bufsz, fd, &why);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == MSG_BREACH) {
		msg_breach(MR_MASTER, MR_DIRSYNC, "", *type, why);
		dirsync_stop(SIGKILL);
		return -1;
	}
	if (n < 0 || *type == MSG_NONE)
		return -1;
	return 1;
}

/* A message that came while waiting: kept, or applied if it can be now. */
static void
link_other(enum msg_type type, const void *buf, int fd)
{
	struct msg_dir_rows m;

	if (type == MSG_DIR_STATE) {
		if (state_msg(buf) != NULL)
			dirsync_stop(SIGKILL);
	} else if (type == MSG_DIR_ROWS) {
		memcpy(&m, buf, sizeof(m));
		hold(&m, fd);
		return;
	}
	if (fd != -1)
		close(fd);
}

static void
link_send(void *arg, const void *buf, size_t len, uint32_t nrec, struct dir_answer *ans)
{
	static union {
		struct msg_dir_result	r;
		struct msg_dir_rows	w;
		struct msg_dir_state	s;
	} m;
	struct msg_dir_change	 ch = { .id = next_id++, .nrec = nrec };
	struct dirbuf		 b = { .p = (unsigned char *)(uintptr_t)buf, .len = len };
	enum msg_type		 type;
	uint64_t		 deadline;
	int			 fd, rc;

	(void)arg;
	memset(ans, 0, sizeof(*ans));
	ans->status = DIR_NOLINK;
	snprintf(ans->why, sizeof(ans->why), "lockerd-dirsync is not running (restarting)");
	if (ds.pid <= 0 || ds.chan == -1)
		return;
	if ((fd = dirbuf_seal(&b, "lockerd-dir-change")) == -1) {
		ans->status = DIR_ERROR;
		snprintf(ans->why, sizeof(ans->why), "memfd: %s", strerror(errno));
		return;
	}
	rc = child_send(&ds, MSG_DIR_CHANGE, &ch, sizeof(ch), fd);
	close(fd);
	if (rc == -1)
		return;
	/* dirsync answers by 80% of the time-out; the rest is the machine's load. */
	deadline = now_ms() + M->conf.directory_timeout * 1000ULL;
	while (now_ms() < deadline) {
		rc = link_read((int)(deadline - now_ms()), &type, &m, sizeof(m), &fd);
		if (rc == -1)
			return;
		if (rc == 0)
			continue;
		if (type == MSG_DIR_RESULT && m.r.id == ch.id) {
			m.r.why[sizeof(m.r.why) - 1] = '\0';
			ans->status = m.r.status;
			ans->rev = m.r.rev;
			snprintf(ans->why, sizeof(ans->why), "%s", m.r.why);
			return;
		}
		link_other(type, &m, fd);
	}
	ans->status = DIR_DOWN;
	snprintf(ans->why, sizeof(ans->why), "PostgreSQL did not answer within %us "
	    "(directory-timeout)", M->conf.directory_timeout);
}

/* After a conflict: what the feed brought, and the next feed within a second. */
static void
link_catch_up(void *arg)
{
	static union {
		struct msg_dir_result	r;
		struct msg_dir_rows	w;
		struct msg_dir_state	s;
	} m;
	enum msg_type	 type;
	uint64_t	 deadline = now_ms() + CATCH_UP_MS;
	int		 fd, rc;

	(void)arg;
	held_apply();
	while (ds.chan != -1 && now_ms() < deadline) {
		rc = link_read((int)(deadline - now_ms()), &type, &m, sizeof(m), &fd);
		if (rc <= 0)
			break;
		link_other(type, &m, fd);
		if (type == MSG_DIR_ROWS) {
			held_apply();
			break;
		}
	}
}

static const struct dir_fleet_ops link_ops = { link_send, link_catch_up };

int
dirsync_init(char *err, size_t errlen)
{
	if (M->conf.directory != DIRECTORY_POSTGRES)
		return 0;
	return dir_fleet_on(M->dir, M->conf.node, &link_ops, NULL, err, errlen);
}

/* ------------------------------------------------------------ the loop */

static void
beat(void)
{
	struct msg_dir_beat	b;
	double			l[1];

	memset(&b, 0, sizeof(b));
	snprintf(b.state, sizeof(b.state), "%s", M->stopping ? "stopped" :
	    drain_state() != 0 ? "draining" : "up");
	if (M->conf.nlisten > 0)
		snprintf(b.addr, sizeof(b.addr), "%s:%s", M->conf.listen[0].host,
		    M->conf.listen[0].port);
	b.load = getloadavg(l, 1) == 1 ? (int32_t)(l[0] * 100) : 0;
	child_send(&ds, MSG_DIR_BEAT, &b, sizeof(b), -1);
}

void
dirsync_tick(void)
{
	uint64_t now = now_ms();

	if (M->conf.directory != DIRECTORY_POSTGRES)
		return;
	held_apply();
	if (ds.pid > 0 && ds.chan != -1 && now >= next_beat_ms) {
		beat();
		next_beat_ms = now + 1000;
	}
	if (ds.pid == 0 && ds.restart_at_ms && now >= ds.restart_at_ms && !M->stopping)
		dirsync_start();
}

/* dirsync went: the directory refuses changes until the next one says up. */
void
dirsync_child_gone(void)
{
	int i;

	for (i = 0; i < nheld; i++)
		close(held[i].fd);
	nheld = 0;
	set_state(0, (int64_t)time(NULL), "lockerd-dirsync stopped; it is being restarted");
}
