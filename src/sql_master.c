/*
 * sql_master.c: the master's side of sqld, the SQL role (sqld.c).
 *
 * The master starts sqld when `sql mariadb ...` is configured, like keyd:
 * exec'd from its own program (lockerd-sqld, beside lockerd: the master
 * does not link MariaDB's client), as sql-user, and restarted when it dies.
 * It opens the admin credentials file as root and passes sqld only the
 * descriptor; it never reads the file itself.
 *
 * A verb's request (ctl_sql.c) becomes one struct msg_sql_req with an id;
 * sqld's rows and its end come back tagged with it.  The master never
 * waits for them: each call has a deadline (sql-timeout and a little
 * more), checked from the master's loop, after which the client is told
 * that MariaDB did not answer and a late answer is dropped by its id.  So
 * a MariaDB that is down or stopped, or a sqld that hangs, delays only the
 * `locker sql` commands waiting for it.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "sql.h"

#define SQL_CALLS_MAX	64	/* in flight at once; more are refused as busy */

struct sql_call {
	uint32_t		 id;
	struct ctl_client	*c;		/* NULL once its client went */
	uint64_t		 deadline_ms;
	sql_row_fn		 row;
	sql_done_fn		 done;
	struct sql_call		*next;
};

static struct child	 sqld = { .kind = EV_CHILD, .role = ROLE_SQLD, .chan = -1 };
static struct sql_call	*calls;
static unsigned		 ncalls;
static uint32_t		 next_id = 1;
static int		 exe_fd = -1;

struct child *
sql_child(void)
{
	return &sqld;
}

/* lockerd-sqld, beside our own binary. */
static int
sqld_exe_open(void)
{
	char	self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		return -1;
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/lockerd-sqld", dirname(self));
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* The credentials file, as root: a regular file no one but root may read. */
static int
creds_open(char *err, size_t errlen)
{
	struct stat	st;
	int		fd;

	if ((fd = open(M->conf.sql.creds_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", M->conf.sql.creds_file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: must be a regular file of root's that only root "
		    "may read (chmod 600)", M->conf.sql.creds_file);
		close(fd);
		return -1;
	}
	return fd;
}

int
sql_check(const struct config *c, char *err, size_t errlen)
{
	struct stat	st;
	int		fd;

	if (c->sql.kind == SQL_NONE)
		return 0;
	if (getpwnam(c->sql_user) == NULL) {
		snprintf(err, errlen, "sql-user \"%s\" does not exist (create it with: useradd "
		    "--system --no-create-home --shell /usr/sbin/nologin %s)", c->sql_user,
		    c->sql_user);
		return -1;
	}
	if (lstat(c->sql.creds_file, &st) == -1) {
		snprintf(err, errlen, "sql: %s: %s", c->sql.creds_file, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "sql: %s must be a regular file of root's that only root "
		    "may read (chmod 600)", c->sql.creds_file);
		return -1;
	}
	if ((fd = sqld_exe_open()) == -1) {
		snprintf(err, errlen, "sql: lockerd-sqld is not beside lockerd: %s",
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* In the child, before its exec: the kill -9 tests' step for sqld. */
static int
crash_step_env(void *step)
{
	return setenv("LOCKERD_CRASH_STEP", step, 1);
}

void
sql_start(void)
{
	struct child	*k = &sqld;
	const char	*crash;
	char		 err[512];
	int		 end, fd;

	if (M->conf.sql.kind == SQL_NONE || M->stopping)
		return;
	k->restart_at_ms = 0;
	if (exe_fd == -1 && (exe_fd = sqld_exe_open()) == -1) {
		log_warn("sql: lockerd-sqld");
		k->restart_at_ms = now_ms() + 5000;
		return;
	}
	if ((fd = creds_open(err, sizeof(err))) == -1) {
		log_warnx("sql: %s; sqld not started", err);
		k->restart_at_ms = now_ms() + 5000;
		return;
	}
	if ((end = new_channel(k)) == -1) {
		close(fd);
		k->restart_at_ms = now_ms() + 1000;
		return;
	}
	crash = crash_point_child("sqld-");
	k->pid = spawn_role(exe_fd, "sqld", NULL, end, NULL, 0, crash != NULL ? crash_step_env :
	    NULL, (void *)crash);
	close(end);
	if (child_spawned(k, "sqld") == -1) {
		close(fd);
		return;
	}
	/* child_spawned() sent the configuration; the credentials follow. */
	if (child_send(k, MSG_SQL_CREDS, NULL, 0, fd) == -1)
		log_warnx("sql: cannot send sqld its start");
	close(fd);
	if (k->restarts > 0)
		log_warnx("sqld started again (pid %d)", (int)k->pid);
}

void
sql_stop(int sig)
{
	if (sqld.pid > 0)
		kill(sqld.pid, sig);
}

static void
call_free(struct sql_call *k)
{
	struct sql_call **pp;

	for (pp = &calls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	if (k->c != NULL && k->c->sql == k)
		k->c->sql = NULL;
	ncalls--;
	free(k);
}

static struct sql_call *
call_find(uint32_t id)
{
	struct sql_call *k;

	for (k = calls; k != NULL; k = k->next)
		if (k->id == id)
			return k;
	return NULL;
}

int
sql_call(struct ctl_client *c, struct msg_sql_req *q, sql_row_fn row, sql_done_fn done_fn,
    char *err, size_t errlen)
{
	struct sql_call	*k;

	if (M->conf.sql.kind == SQL_NONE) {
		snprintf(err, errlen, "there is no SQL service here (sql none in %s)",
		    M->conf_path);
		return -1;
	}
	if (sqld.pid <= 0 || sqld.chan == -1) {
		snprintf(err, errlen, "the SQL service is not running (sqld is restarting); "
		    "try again");
		return -1;
	}
	if (ncalls >= SQL_CALLS_MAX || (k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "busy: too many SQL requests at once; try again");
		return -1;
	}
	k->id = q->id = next_id++;
	if (next_id == 0)
		next_id = 1;
	k->c = c;
	k->row = row;
	k->done = done_fn;
	/* sqld's own bounds: a connect and a statement of sql-timeout each,
	 * a lost connection made again once. */
	k->deadline_ms = now_ms() + 3000ull * M->conf.sql_timeout + 1000;
	if (child_send(&sqld, MSG_SQL_REQUEST, q, sizeof(*q), -1) == -1) {
		free(k);
		snprintf(err, errlen, "cannot reach sqld");
		return -1;
	}
	k->next = calls;
	calls = k;
	ncalls++;
	c->sql = k;
	return 0;
}

void
sql_cancel(struct ctl_client *c)
{
	if (c->sql != NULL)
		c->sql->c = NULL;	/* its answer is dropped when it comes */
	c->sql = NULL;
}

/* A call ends without sqld: its client hears why. */
static void
call_fail(struct sql_call *k, const char *why)
{
	struct msg_sql_done	d;
	struct ctl_client	*c = k->c;
	sql_done_fn		 fn = k->done;

	memset(&d, 0, sizeof(d));
	d.id = k->id;
	d.status = SQL_E_DOWN;
	snprintf(d.message, sizeof(d.message), "%s", why);
	call_free(k);
	if (c != NULL)
		fn(c, &d);
}

void
sql_tick(void)
{
	struct sql_call	*k, *next;
	uint64_t	 now = now_ms();
	char		 why[128];

	for (k = calls; k != NULL; k = next) {
		next = k->next;
		if (now < k->deadline_ms)
			continue;
		snprintf(why, sizeof(why), "MariaDB did not answer within %us (sql-timeout)",
		    M->conf.sql_timeout);
		call_fail(k, why);
	}
	if (sqld.pid == 0 && sqld.restart_at_ms && now >= sqld.restart_at_ms && !M->stopping)
		sql_start();
}

/* sqld went: what it had not answered never will be. */
void
sql_child_gone(void)
{
	while (calls != NULL)
		call_fail(calls, "sqld stopped before it answered; try again");
}

const char *
sql_master_msg(enum msg_type type, const void *buf, size_t len)
{
	struct msg_sql_row	r;
	struct msg_sql_done	d;
	struct sql_call		*k;

	(void)len;	/* msg_rules[]: exactly the struct */
	if (type == MSG_SQL_ROW) {
		memcpy(&r, buf, sizeof(r));
		if (memchr(r.db, '\0', sizeof(r.db)) == NULL)
			return "names no database";
		if ((k = call_find(r.id)) != NULL && k->c != NULL && k->row != NULL)
			k->row(k->c, &r);
		return NULL;
	}
	memcpy(&d, buf, sizeof(d));
	d.message[sizeof(d.message) - 1] = '\0';
	if ((k = call_find(d.id)) == NULL)
		return NULL;		/* answered late: its client was told */
	{
		struct ctl_client	*c = k->c;
		sql_done_fn		 fn = k->done;

		call_free(k);
		if (c != NULL)
			fn(c, &d);
	}
	return NULL;
}
