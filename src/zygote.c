/*
 * zygote.c: the master's side of the PHP zygote.
 *
 * A php-cgi costs about 10 MiB of its own once started (its heap, opcache's
 * segment touched at start-up, and the relocated pages of php-cgi and some
 * forty libraries, which each exec relocates again) and about 100 ms from
 * exec to its first accept.  php-fpm's children cost 0.9 MiB each because
 * they are forked from one master after start-up and share all of that
 * copy-on-write.  So the master starts one php-cgi for every locker (the
 * zygote), with PHP fully started, and each locker's PHP processes are
 * forked from it, then moved into that locker's sandbox (zygote_enter.c).
 *
 * The zygote is Debian's php-cgi itself, with PHP_FCGI_CHILDREN=1 (php-cgi
 * then finishes its start-up and forks its children) and our library
 * preloaded (zygote_lib.c), whose fork() never returns in the parent: it
 * serves this channel instead.  The library comes from lockerd's own
 * directory, and the environment that names it is the master's, never a
 * locker's.
 *
 * A worker asks on its own channel (MSG_PHP_FORK) with its line to the
 * zygote (zygote.h); the master adds what the locker is, from its own
 * records, and passes the line on (MSG_ZYGOTE_FORK).  That is two messages
 * for each PHP process started (not for each request), so the master is no
 * bottleneck; in exchange the zygote takes no word about a locker's
 * identity from the locker.  A worker the master will not serve this way
 * (no zygote ready, a php-max-requests of its own) gets its line closed and
 * starts php-cgi itself as before (script.c).
 *
 * ASLR: the children of one zygote share its address layout, so a locker
 * could learn the layout of other lockers' PHP from its own.  The master
 * therefore retires a zygote after ZYGOTE_USES forks (closing its channel:
 * it serves its children until the last is gone, then exits) and starts a
 * new one, with a new layout: one layout is shared by at most that many
 * PHP processes, started close together in time (the spawner's rule for
 * workers, spawner.c).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "zygote.h"

#define ZYGOTE_USES	128	/* PHP processes per layout, then a new zygote */
#define ZYGOTE_START_MS	3000	/* a zygote not ready after this is not asked */

static pid_t	zygote_pid;
static int	zygote_ch = -1;
static int	zygote_uses;
static int	zygote_ready;
static uint64_t	zygote_restart_at;
static uint64_t	zygote_started_at;
static uint32_t	zygote_max_requests;	/* its PHP_FCGI_MAX_REQUESTS */

/*
 * The php-cgi the zygote runs: the first FastCGI interpreter that is a
 * php-cgi.  Others, if any, start as before.  NULL: none, or php-zygote off.
 */
const char *
zygote_interp(const struct config *c)
{
	const char	*base;
	int		 i;

	if (!c->php_zygote)
		return NULL;
	for (i = 0; i < c->ninterp; i++) {
		if (!c->interp[i].fastcgi || c->interp[i].path[0] != '/')
			continue;
		base = strrchr(c->interp[i].path, '/') + 1;
		if (strncmp(base, "php-cgi", 7) == 0)
			return c->interp[i].path;
	}
	return NULL;
}

/* The library, beside our own binary (the build directory, or the
 * installed sbin's ../lib/lockerd). */
static int
lib_path(char *out, size_t outsz)
{
	char	exe[PATH_MAX], dir[PATH_MAX];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", dirname(exe));
	snprintf(out, outsz, "%s/%s", dir, ZYGOTE_LIB);
	if (access(out, R_OK) == 0)
		return 0;
	snprintf(out, outsz, "%s/../lib/lockerd/%s", dir, ZYGOTE_LIB);
	return access(out, R_OK);
}

/*
 * php-cgi takes FastCGI on its stdin when that is a listening socket; the
 * zygote's is one nobody connects to (an autobound abstract name), and each
 * child gets its pool's socket in its place.
 */
static int
dummy_listener(void)
{
	struct sockaddr_un	a = { .sun_family = AF_UNIX };
	int			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* The address's family alone: the kernel picks an abstract name. */
	if (fd != -1 && (bind(fd, (struct sockaddr *)&a, sizeof(sa_family_t)) == -1 ||
	    listen(fd, 1) == -1)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static __attribute__((noreturn)) void
zygote_exec(const char *php, const char *lib, int chan, int lfd)
{
	static char	 env[6][PATH_MAX + 32];
	char		*envp[7], *argv[64];
	int		 null, n;

	child_reset(CHILD_DIE_WITH_PARENT);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 || dup2(lfd, 0) == -1 ||
	    dup2(null, 1) == -1 || dup2(chan, CHILD_CHAN_FD) == -1 ||
	    close_fds_except(CHILD_CHAN_FD + 1, NULL, 0) == -1)
		_exit(126);
	snprintf(env[0], sizeof(env[0]), "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(env[1], sizeof(env[1]), "LD_PRELOAD=%s", lib);
	snprintf(env[2], sizeof(env[2]), ZYGOTE_ENV "=%d%s", CHILD_CHAN_FD,
	    getenv("LOCKERD_DEBUG") != NULL ? ",debug" : "");
	/* One child: php-cgi forks after its start-up, which is all we need. */
	snprintf(env[3], sizeof(env[3]), "PHP_FCGI_CHILDREN=1");
	snprintf(env[4], sizeof(env[4]), "PHP_FCGI_MAX_REQUESTS=%u", M->conf.php_max_requests);
	snprintf(env[5], sizeof(env[5]), "HOME=/");
	for (n = 0; n < 6; n++)
		envp[n] = env[n];
	envp[n] = NULL;
	n = script_php_args(&M->conf, php, NULL, 0, argv);
	argv[n] = NULL;
	execve(php, argv, envp);
	_exit(127);
}

void
zygote_start(void)
{
	char		 lib[PATH_MAX];
	const char	*php = zygote_interp(&M->conf);
	int		 sv[2], lfd;

	zygote_restart_at = 0;
	if (php == NULL || M->stopping)
		return;
	if (lib_path(lib, sizeof(lib)) == -1) {
		log_warnx("zygote: no %s beside lockerd; PHP starts with an exec each",
		    ZYGOTE_LIB);
		return;
	}
	if (chan_pair(sv) == -1 || (lfd = dummy_listener()) == -1) {
		log_warn("zygote: socket");
		zygote_restart_at = now_ms() + 1000;
		return;
	}
	if ((zygote_pid = fork()) == 0)
		zygote_exec(php, lib, sv[1], lfd);
	close(sv[1]);
	close(lfd);
	if (zygote_pid == -1) {
		log_warn("zygote: fork");
		close(sv[0]);
		zygote_pid = 0;
		zygote_restart_at = now_ms() + 1000;
		return;
	}
	set_nonblock(sv[0]);
	/* Room for a burst of forks (a few KiB each) before a worker is
	 * told to start its own. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &(int){ 1 << 20 }, sizeof(int));
	zygote_max_requests = M->conf.php_max_requests;
	zygote_started_at = now_ms();
	zygote_ch = sv[0];
	zygote_uses = 0;
	zygote_ready = 0;
	log_debug("zygote started, pid %d (%s)", (int)zygote_pid, php);
}

/* The current zygote takes no more: it is killed, or retires (below). */
static void
zygote_drop(int kill_it)
{
	if (zygote_ch != -1)
		close(zygote_ch);
	zygote_ch = -1;
	zygote_ready = 0;
	if (kill_it && zygote_pid > 0)
		kill(zygote_pid, SIGKILL);
}

/*
 * 1 if pid was a zygote.  The current one is started again (at once after
 * its planned end, a second later after anything else); a retired one
 * ending is its planned end.
 */
int
zygote_reaped(pid_t pid, int status)
{
	if (pid <= 0)
		return 0;
	if (pid != zygote_pid) {
		/* A retired zygote, or something else: we cannot tell them apart
		 * without a list, and neither needs anything done. */
		return 0;
	}
	zygote_pid = 0;
	zygote_drop(0);
	if (M->stopping)
		return 1;
	log_warnx("zygote (pid %d) ended with status 0x%x; restarting it", (int)pid, status);
	zygote_restart_at = now_ms() + 1000;
	return 1;
}

void
zygote_tick(void)
{
	if (zygote_pid == 0 && zygote_restart_at != 0 && now_ms() >= zygote_restart_at)
		zygote_start();
}

void
zygote_stop(void)
{
	zygote_restart_at = 0;
	if (zygote_pid > 0)
		kill(zygote_pid, SIGTERM);
}

/*
 * Whether to ask it: its hello read if it came, a breach or its end
 * noticed.  A fork asked in its first ZYGOTE_START_MS, before its hello,
 * waits in its channel: the worker waits for it (ZYGOTE_WAIT_MS), and a
 * zygote that dies in its start-up closes the line, so the worker starts
 * php-cgi itself.
 */
static int
zygote_alive(void)
{
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;
	char		 buf[16];

	if (zygote_ready)
		return 1;
	n = msg_recv_checked(zygote_ch, MR_MASTER, MR_ZYGOTE, &type, buf, sizeof(buf), &fd, &why);
	if (n == MSG_BREACH) {
		msg_breach(MR_MASTER, MR_ZYGOTE, "", type, why);
		zygote_drop(1);
		return 0;
	}
	/* Not there yet: a php-cgi that never forks (our fork() not reached)
	 * would make every worker wait ZYGOTE_WAIT_MS for nothing. */
	if (n == -1 && errno == EAGAIN)
		return now_ms() - zygote_started_at < ZYGOTE_START_MS;
	if (n < 0 || type != MSG_ZYGOTE_READY) {
		zygote_drop(1);		/* it ended: reaped, then restarted */
		return 0;
	}
	zygote_ready = 1;
	log_debug("zygote (pid %d) ready", (int)zygote_pid);
	return 1;
}

/*
 * A worker's MSG_PHP_FORK: its line goes to the zygote with who the worker
 * is.  Or the line is closed, and the worker starts its PHP process itself.
 */
void
zygote_fork(const struct child *w, int line)
{
	struct msg_zygote_fork	 m;
	const struct config	*lc;

	if (zygote_ch == -1 || w->pid <= 0 || !zygote_alive())
		goto refuse;
	lc = locker_conf(w->locker, w->uid);
	/* The zygote's php-cgi counts its requests itself, from its start. */
	if (lc->php_max_requests != zygote_max_requests || !lc->php_zygote)
		goto refuse;
	memset(&m, 0, sizeof(m));
	m.memory_limit = lc->memory_limit;
	m.file_size_limit = lc->file_size_limit;
	m.process_limit = lc->process_limit;
	m.open_files_limit = lc->open_files_limit;
	snprintf(m.locker, sizeof(m.locker), "%s", w->locker);
	locker_home(w->locker, m.home, sizeof(m.home));
	m.uid = w->uid;
	m.gid = w->gid;
	m.worker = (int32_t)w->pid;
	if (msg_send(zygote_ch, MSG_ZYGOTE_FORK, &m, sizeof(m), line) == -1) {
		/* Full: it is behind; this one starts its own php-cgi. */
		if (errno == EAGAIN)
			goto refuse;
		log_warn("zygote: send");
		zygote_drop(1);
		goto refuse;
	}
	close(line);
	/* Its last: it serves its children, then exits; a new layout next. */
	if (++zygote_uses >= ZYGOTE_USES) {
		log_debug("zygote (pid %d) retires after %d forks", (int)zygote_pid,
		    zygote_uses);
		zygote_drop(0);
		zygote_pid = 0;
		zygote_start();
	}
	return;
refuse:
	close(line);
}
