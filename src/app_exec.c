/*
 * app_exec.c: how lockerd-app runs programs (git, php-cli, mariadb-dump)
 * and touches files, for itself and for the recipes.  Everything here runs
 * as the locker in its sandbox; the care is against the locker's own
 * install turning our commands into its code (a planted hook, a symlink
 * where we write), not against the locker's uid, which it has anyway.
 *
 * Every program gets a fixed environment (no inherited variables: a
 * GIT_DIR or PHPRC from the caller would redirect what runs) and a time
 * limit; files are written beneath the install with openat() and
 * O_NOFOLLOW at every component, and atomically (a temporary and rename),
 * so a crash leaves the old file or the new one.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "sql.h"

int app_verbose;
struct app_result app_res;

void
app_err(const char *fmt, ...)
{
	va_list	 ap;
	char	 line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "lockerd-app: %s\n", line);
	/* The first error is the reason the JSON gives. */
	if (app_res.reason[0] == '\0')
		snprintf(app_res.reason, sizeof(app_res.reason), "%s", line);
}

void
app_say(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ------------------------------------------------------------ programs */

/*
 * The environment every program starts with.  The git variables make git
 * read no configuration but the repository's own (which app_git.c checks),
 * never prompt, and ignore replace refs; HOME is the locker's, so nothing
 * reads root's or the caller's files.
 */
static const char *const base_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"LC_ALL=C.UTF-8",
	"GIT_CONFIG_NOSYSTEM=1",
	"GIT_CONFIG_GLOBAL=/dev/null",
	"GIT_ATTR_NOSYSTEM=1",
	"GIT_TERMINAL_PROMPT=0",
	"GIT_NO_REPLACE_OBJECTS=1",
	"GIT_AUTHOR_NAME=lockerd-app",
	"GIT_AUTHOR_EMAIL=lockerd-app@localhost",
	"GIT_COMMITTER_NAME=lockerd-app",
	"GIT_COMMITTER_EMAIL=lockerd-app@localhost",
	NULL
};
const char *app_home = "/";

static void
child_exec(const struct app_run *r, int outfd)
{
	const char	*env[64];
	char		 home[4096 + 8];
	size_t		 n = 0, i;
	int		 in, nul;

	snprintf(home, sizeof(home), "HOME=%s", app_home);
	for (i = 0; base_env[i] != NULL; i++)
		env[n++] = base_env[i];
	env[n++] = home;
	for (i = 0; r->env != NULL && r->env[i] != NULL && n < 63; i++)
		env[n++] = r->env[i];
	env[n] = NULL;
	if (r->cwd != NULL && chdir(r->cwd) == -1) {
		dprintf(2, "lockerd-app: %s: %s\n", r->cwd, strerror(errno));
		_exit(127);
	}
	signal(SIGPIPE, SIG_DFL);	/* ours is ignored (app_stdio_check()) */
	in = open(r->stdin_path ? r->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (in == -1 || nul == -1 || dup2(in, 0) == -1)
		_exit(127);
	if (outfd != -1) {
		if (dup2(outfd, 1) == -1 || (r->err_too && dup2(outfd, 2) == -1))
			_exit(127);
	} else if (r->quiet && dup2(nul, 1) == -1)
		_exit(127);
	if (r->quiet && outfd == -1 && dup2(nul, 2) == -1)
		_exit(127);
	if (outfd == -1 && !r->quiet && !app_verbose)
		dup2(2, 1);	/* a program's chatter never mixes into our stdout */
	execve(r->argv[0], (char *const *)r->argv, (char *const *)env);
	dprintf(2, "lockerd-app: %s: %s\n", r->argv[0], strerror(errno));
	_exit(127);
}

/* Read the child's output into r->out until EOF or the deadline. */
static int
collect(const struct app_run *r, int fd, pid_t pid, time_t deadline)
{
	size_t	 got = 0;
	char	 sink[4096];

	for (;;) {
		struct pollfd	 p = { .fd = fd, .events = POLLIN };
		int		 left = (int)(deadline - time(NULL));
		ssize_t		 n;

		if (left <= 0 || poll(&p, 1, left * 1000) == 0) {
			kill(pid, SIGKILL);
			return -1;
		}
		if (r->out != NULL && got + 1 < r->outlen)
			n = read(fd, r->out + got, r->outlen - 1 - got);
		else
			n = read(fd, sink, sizeof(sink));	/* beyond the buffer: dropped */
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (r->out != NULL && got + 1 < r->outlen)
			got += (size_t)n;
	}
	if (r->out != NULL)
		r->out[got] = '\0';
	return 0;
}

/*
 * Our stdout and stderr are the CLI's, which may go while we work (the user
 * pressed ^C, a pipe's reader quit): the master lets the task run on, so
 * that an upgrade is never cut half-way.  SIGPIPE is ignored (main()), so a
 * write of ours fails rather than kills us; and before each program starts,
 * an output whose reader has gone (a pipe's write end polls POLLERR) is
 * pointed at /dev/null, so that git or php, which treat a failed write to
 * stdout as fatal, do not fail a step for it.
 */
void
app_stdio_check(void)
{
	struct pollfd	 pfd[2] = { { .fd = 1 }, { .fd = 2 } };
	int		 i, nul;

	if (poll(pfd, 2, 0) <= 0)
		return;
	for (i = 0; i < 2; i++)
		if ((pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL)) &&
		    (nul = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
			dup2(nul, pfd[i].fd);
			close(nul);
		}
}

int
app_run(const struct app_run *r)
{
	int	 p[2] = { -1, -1 }, st, timed_out = 0;
	pid_t	 pid;
	time_t	 deadline = time(NULL) + (r->timeout_s ? r->timeout_s : 300);

	if (r->out != NULL && r->outlen > 0)
		r->out[0] = '\0';
	if (r->out != NULL && pipe2(p, O_CLOEXEC) == -1)
		return -1;
	fflush(stdout);
	app_stdio_check();
	if ((pid = fork()) == -1) {
		if (p[0] != -1) {
			close(p[0]);
			close(p[1]);
		}
		return -1;
	}
	if (pid == 0)
		child_exec(r, p[1]);
	if (p[0] != -1) {
		close(p[1]);
		timed_out = collect(r, p[0], pid, deadline) == -1;
		close(p[0]);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (timed_out) {
		app_err("%s: no answer in time", r->argv[0]);
		return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * php-cli as the locker, in the install directory, as a person would run
 * an application's command-line installer.  Its output is kept and shown
 * only if it fails (or with --verbose).
 */
int
app_php(struct app_ctx *ctx, const char *script, const char *const *args)
{
	const char	*argv[32];
	static char	 out[16384];
	struct app_run	 r = { .argv = argv, .cwd = ctx->dir, .out = out, .outlen = sizeof(out),
			       .err_too = 1, .timeout_s = 600 };
	size_t		 n = 0, i;
	int		 rc;

	argv[n++] = "/usr/bin/php";
	argv[n++] = "-d";
	argv[n++] = "display_errors=stderr";
	argv[n++] = script;
	for (i = 0; args != NULL && args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	rc = app_run(&r);
	if (rc != 0 || app_verbose)
		fprintf(stderr, "%s", out);
	return rc;
}

/* ------------------------------------------------------------ files */

/*
 * Open the directory rel beneath dirfd, never through a symlink ("" or
 * "." is dirfd itself, duplicated).
 */
int
app_open_dir(int dirfd, const char *rel)
{
	char	 buf[4096], *s, *save = NULL;
	int	 fd = dup(dirfd), nfd;

	if (fd == -1 || strlen(rel) >= sizeof(buf))
		return fd == -1 ? -1 : (close(fd), errno = ENAMETOOLONG, -1);
	snprintf(buf, sizeof(buf), "%s", rel);
	for (s = strtok_r(buf, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
		if (strcmp(s, ".") == 0)
			continue;
		if (strcmp(s, "..") == 0) {
			close(fd);
			errno = EPERM;
			return -1;
		}
		nfd = openat(fd, s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if ((fd = nfd) == -1)
			return -1;
	}
	return fd;
}

/* Split rel into its directory (opened) and its last name. */
static int
open_parent(int dirfd, const char *rel, char *base, size_t bl)
{
	const char	*slash = strrchr(rel, '/');
	char		 dir[4096];

	if (slash == NULL) {
		snprintf(base, bl, "%s", rel);
		return dup(dirfd);
	}
	if ((size_t)(slash - rel) >= sizeof(dir) || strlen(slash + 1) >= bl)
		return errno = ENAMETOOLONG, -1;
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';
	snprintf(base, bl, "%s", slash + 1);
	return app_open_dir(dirfd, dir);
}

int
app_write_file(int dirfd, const char *rel, const char *text, mode_t mode)
{
	char	 base[256], tmp[300];
	size_t	 len = strlen(text);
	int	 pfd, fd, rc = -1;

	if ((pfd = open_parent(dirfd, rel, base, sizeof(base))) == -1) {
		app_err("%s: %s", rel, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), ".%s.lockerd-tmp", base);
	unlinkat(pfd, tmp, 0);
	fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd != -1 && fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len &&
	    fsync(fd) == 0 && renameat(pfd, tmp, pfd, base) == 0)
		rc = 0;
	if (rc == -1) {
		app_err("%s: %s", rel, strerror(errno));
		unlinkat(pfd, tmp, 0);
	}
	if (fd != -1)
		close(fd);
	close(pfd);
	return rc;
}

int
app_read_file(int dirfd, const char *rel, char *buf, size_t len)
{
	char	 base[256];
	size_t	 got = 0;
	ssize_t	 n;
	int	 pfd, fd;
	struct stat st;

	if ((pfd = open_parent(dirfd, rel, base, sizeof(base))) == -1)
		return -1;
	fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(pfd);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return (int)got;
}

/* mkdir -p of rel beneath dirfd, never through a symlink. */
int
app_mkdirs(int dirfd, const char *rel, mode_t mode)
{
	char	 buf[4096], *s, *save = NULL;
	int	 fd = dup(dirfd), nfd;

	snprintf(buf, sizeof(buf), "%s", rel);
	for (s = strtok_r(buf, "/", &save); fd != -1 && s != NULL; s = strtok_r(NULL, "/", &save)) {
		if (mkdirat(fd, s, mode) == -1 && errno != EEXIST)
			nfd = -1;
		else
			nfd = openat(fd, s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
	}
	if (fd == -1) {
		app_err("%s: %s", rel, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Letters and digits only: a password that survives any config syntax. */
void
app_random_password(char *out, size_t len)
{
	static const char set[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	unsigned char	 r[64];
	size_t		 n = 0, i;

	if (len == 0)
		return;
	while (n + 1 < len && n < 20) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			abort();	/* never a weak password */
		for (i = 0; i < sizeof(r) && n + 1 < len && n < 20; i++)
			if (r[i] < 256 - 256 % (sizeof(set) - 1))
				out[n++] = set[r[i] % (sizeof(set) - 1)];
	}
	out[n] = '\0';
}

/* The locker's MariaDB credentials, from ~/.sql/my.cnf, read as the locker. */
int
app_mycnf(const char *home, char *user, size_t ul, char *pass, size_t pl, char *host, size_t hl)
{
	char	 text[4096], err[128];
	int	 hfd, n;

	if ((hfd = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = app_read_file(hfd, SQL_CNF_DIR "/" SQL_CNF_FILE, text, sizeof(text));
	close(hfd);
	if (n < 0) {
		app_err("~/%s/%s: %s (locker sql signup writes it)", SQL_CNF_DIR, SQL_CNF_FILE,
		    strerror(errno));
		return -1;
	}
	if (sql_creds_parse(text, (size_t)n, user, ul, pass, pl, err, sizeof(err)) == -1) {
		app_err("~/%s/%s: %s", SQL_CNF_DIR, SQL_CNF_FILE, err);
		return -1;
	}
	snprintf(host, hl, "localhost");	/* the jail's socket (sqlhome.c writes the same) */
	return 0;
}

/*
 * The install directory, checked as the locker: every component from the
 * home down is a real directory (no symlink) owned by us.  The master
 * checked the syntax; this checks what the locker may have changed since.
 */
int
app_path_sound(const char *home, const char *dir, char *why, size_t wl)
{
	size_t		 hl = strlen(home);
	char		 rel[4096], *s, *save = NULL;
	int		 fd, nfd;
	struct stat	 st;

	if (strncmp(dir, home, hl) != 0 || (dir[hl] != '/' && dir[hl] != '\0')) {
		snprintf(why, wl, "%s is not beneath the home %s", dir, home);
		return -1;
	}
	snprintf(rel, sizeof(rel), "%s", dir + hl);
	if ((fd = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(why, wl, "%s: %s", home, strerror(errno));
		return -1;
	}
	for (s = strtok_r(rel, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
		if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
			snprintf(why, wl, "%s: a . or .. component", dir);
			close(fd);
			return -1;
		}
		nfd = openat(fd, s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if ((fd = nfd) == -1 || fstat(fd, &st) == -1) {
			snprintf(why, wl, "%s: %s is %s", dir, s,
			    errno == ELOOP || errno == ENOTDIR ? "a symlink or not a directory" : strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		if (st.st_uid != getuid()) {
			snprintf(why, wl, "%s: %s is not the locker's (uid %u)", dir, s, (unsigned)st.st_uid);
			close(fd);
			return -1;
		}
	}
	return fd;
}
