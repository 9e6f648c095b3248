/*
 * sqlhome.c: what the SQL service puts in a locker's home, always written
 * by the locker itself: a task (task_spawn) that enters the locker's
 * sandbox (its uid, its jail, Landlock, seccomp) and only then touches the
 * home, beneath it with openat() and O_NOFOLLOW at every step.  The master,
 * as root, never follows a path the locker controls: a `.sql` that is a
 * symlink to /etc is refused by O_NOFOLLOW, and even if it were not, the
 * locker's uid in its jail could write nothing there.
 *
 *   ~/.sql/my.cnf          [client] user= password= host=, mode 0600
 *   ~/.sql/dumps/X.sql     mariadb-dump's output, run as the locker with
 *                          its own credentials (my.cnf): a dump can hold
 *                          only what the locker's account can read
 *
 * ctl_sql.c starts these and hears of their end (control_task_done()).
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "sql.h"

/* Exit codes of the tasks, for ctl_sql.c's messages. */
#define SQLT_OK		0
#define SQLT_SANDBOX	2	/* the sandbox could not be entered */
#define SQLT_DIR	3	/* ~/.sql (or dumps/) is not a directory of the locker's */
#define SQLT_WRITE	4	/* the file could not be written */
#define SQLT_DUMP	5	/* mariadb-dump failed: its errors are in the .err file */

struct sqlt_ctx {
	struct sandbox_spec	 spec;
	char			 home[PATH_MAX];
	char			 password[SQL_PASSWORD_MAX + 1];
	char			 db[SQL_DB_MAX + 1];	/* dump: the full name, "" all */
	char			 file[128];		/* dump: its name in dumps/ */
};

/* dir beneath at, made if missing (0700), never a symlink: its fd or -1. */
static int
subdir(int at, const char *name)
{
	int fd;

	if (mkdirat(at, name, 0700) == -1 && errno != EEXIST)
		return -1;
	fd = openat(at, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/* ~/.sql, opened as the locker inside its sandbox. */
static int
sql_dir(const struct sqlt_ctx *t)
{
	int home, dir;

	if ((home = open(t->home, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	dir = subdir(home, SQL_CNF_DIR);
	close(home);
	return dir;
}

static int
cnf_prepare(void *arg)
{
	struct sqlt_ctx	*t = arg;
	char		 err[256], text[512];
	int		 dir, fd, n;

	if (sandbox_enter(&t->spec, err, sizeof(err)) == -1)
		_exit(SQLT_SANDBOX);
	if ((dir = sql_dir(t)) == -1)
		_exit(SQLT_DIR);
	/* A ';' comment: MariaDB's clients and PHP's parse_ini_file() (how
	 * installers read this file) both take it. */
	n = snprintf(text, sizeof(text), "; written by lockerd; a new password: locker sql "
	    "password %s\n[client]\nuser=%s\npassword=%s\nhost=localhost\n", t->spec.locker,
	    t->spec.locker, t->password);
	/* A new file renamed over the old: a crash leaves one or the other. */
	unlinkat(dir, SQL_CNF_FILE ".new", 0);
	fd = openat(dir, SQL_CNF_FILE ".new", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, text, (size_t)n) != n || fchmod(fd, 0600) == -1 ||
	    fsync(fd) == -1 || close(fd) == -1 ||
	    renameat(dir, SQL_CNF_FILE ".new", dir, SQL_CNF_FILE) == -1)
		_exit(SQLT_WRITE);
	fsync(dir);
	_exit(SQLT_OK);
}

static void
ctx_fill(struct sqlt_ctx *t, const struct locker_rec *lr)
{
	memset(t, 0, sizeof(*t));
	task_spec(&t->spec, t->home, lr);
}

struct child *
sql_cnf_write(const struct locker_rec *lr, const char *password)
{
	struct sqlt_ctx	t;
	struct child	*task;

	ctx_fill(&t, lr);
	snprintf(t.password, sizeof(t.password), "%s", password);
	task = task_spawn(lr, cnf_prepare, &t, NULL, 0);
	explicit_bzero(t.password, sizeof(t.password));
	return task;
}

/*
 * mariadb-dump as the locker, with its own my.cnf: into dumps/FILE, its
 * errors into dumps/FILE.err (removed when it succeeds).
 */
static int
dump_prepare(void *arg)
{
	struct sqlt_ctx	*t = arg;
	char		 err[256], cnf[PATH_MAX + 32], errname[160];
	char		*argv[16];
	char *const	 envp[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
	int		 dir, dumps, out, efd, status, i = 0;
	pid_t		 pid;

	if (sandbox_enter(&t->spec, err, sizeof(err)) == -1)
		_exit(SQLT_SANDBOX);
	if ((dir = sql_dir(t)) == -1 || (dumps = subdir(dir, SQL_DUMP_DIR)) == -1)
		_exit(SQLT_DIR);
	snprintf(errname, sizeof(errname), "%s.err", t->file);
	out = openat(dumps, t->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	efd = openat(dumps, errname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out == -1 || efd == -1)
		_exit(SQLT_WRITE);
	snprintf(cnf, sizeof(cnf), "--defaults-file=%s/%s/%s", t->home, SQL_CNF_DIR,
	    SQL_CNF_FILE);
	argv[i++] = "mariadb-dump";
	argv[i++] = cnf;
	/* One transaction: a consistent dump without the RELOAD privilege. */
	argv[i++] = "--single-transaction";
	argv[i++] = "--routines";
	argv[i++] = "--triggers";
	argv[i++] = "--events";
	argv[i++] = "--no-tablespaces";
	if (t->db[0] != '\0') {
		argv[i++] = "--databases";
		argv[i++] = t->db;
	} else
		argv[i++] = "--all-databases";
	argv[i] = NULL;
	if ((pid = fork()) == -1)
		_exit(SQLT_DUMP);
	if (pid == 0) {
		if (dup2(out, 1) == -1 || dup2(efd, 2) == -1)
			_exit(127);
		execve("/usr/bin/mariadb-dump", argv, envp);
		dprintf(2, "mariadb-dump: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || fsync(out) == -1)
		_exit(SQLT_DUMP);
	unlinkat(dumps, errname, 0);
	_exit(SQLT_OK);
}

struct child *
sql_dump_start(const struct locker_rec *lr, const char *full_db, char *file, size_t filesz)
{
	struct sqlt_ctx	t;
	char		stamp[32];
	time_t		now = time(NULL);
	struct tm	tm;

	ctx_fill(&t, lr);
	snprintf(t.db, sizeof(t.db), "%s", full_db);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(t.file, sizeof(t.file), "%s.%s.sql", full_db[0] ? full_db : lr->name, stamp);
	snprintf(file, filesz, "%s/%s/%s/%s", t.home, SQL_CNF_DIR, SQL_DUMP_DIR, t.file);
	return task_spawn(lr, dump_prepare, &t, NULL, 0);
}

const char *
sql_task_error(int code)
{
	switch (code) {
	case SQLT_OK:
		return NULL;
	case SQLT_SANDBOX:
		return "the locker's sandbox could not be entered";
	case SQLT_DIR:
		return "~/" SQL_CNF_DIR " is not a directory of the locker's (a symlink, or a "
		    "file): move it away and try again";
	case SQLT_WRITE:
		return "the file could not be written in ~/" SQL_CNF_DIR " (the disk limit?)";
	case SQLT_DUMP:
		return "mariadb-dump failed; its errors are in the .err file beside the dump "
		    "(is ~/.sql/my.cnf the account's? locker sql password writes it again)";
	}
	return "the locker's task failed";
}
