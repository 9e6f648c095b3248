/*
 * script.c: a locker's scripts, run by its worker as CGI/1.1 (RFC 3875).
 *
 * The worker is already the locker, inside the locker's sandbox, so a
 * script it forks inherits both: no suexec, no setuid.  The script's stdin
 * and stdout are one end of a stream socket whose other end goes to front,
 * which writes the body up it and reads the output down it; the worker only
 * keeps the process: it reaps it, kills its whole process group at the
 * wall-clock limit or when front hangs up, and sends its stderr to the
 * locker's error log.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "fcgi.h"
#include "http.h"
#include "cgienv.h"
#include "zygote.h"


struct script {
	int		 pool;		/* a FastCGI pool, not one run of a script */
	pid_t		 pid;		/* also its process group */
	int		 sock;		/* our copy of its end: POLLHUP when front leaves */
	int		 err;		/* its stderr */
	uint64_t	 deadline;
	int		 exited;
	int		 zygote;	/* a pool's, from the zygote: sock is its line */
	int		 zstatus;	/* its wait status, once the line said (or broke) */
	char		 name[256];	/* for the error log */
	struct linebuf	 errl;		/* a partial stderr line */
};

static struct script	*scripts;
static int	zygote_line_read(struct script *sc);
static int		 nscripts, capscripts;
static int		 logfd = -1;

void
script_set_log(int fd)
{
	if (logfd != -1)
		close(logfd);
	logfd = fd;
}

/* A line of lockerd's own in the locker's error log, for the locker. */
void
script_note(const char *text)
{
	char	buf[1400];
	int	n;

	if (logfd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "[lockerd] %s", text);
	if (n > 0)
		msg_send(logfd, MSG_LOG_ERROR, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1, -1);
}

/* Runs of scripts going on (FastCGI pools are not counted). */
int
script_count(void)
{
	int i, n = 0;

	for (i = 0; i < nscripts; i++)
		n += !scripts[i].pool;
	return n;
}

const struct interpreter *
script_interp(const struct config *c, const char *ext)
{
	int i;

	for (i = 0; ext != NULL && i < c->ninterp; i++)
		if (strcasecmp(c->interp[i].ext, ext) == 0)
			return &c->interp[i];
	return NULL;
}

/* ------------------------------------------------------------ starting one */

#define PHP_ARGV_MAX	(24 + 2 * PHP_D_MAX)	/* php_args()'s, the file and NULL, with room */
#define PHP_D_MAX	32	/* a .htaccess's settings (HT_PHP_MAX) */

/* What lockerd sets in every php-cgi with -d, before the body limits. */
static const char *const php_settings[] = {
	/* Sessions in the locker's own /tmp, not a directory every locker shares. */
	"session.save_path=/tmp",
	/* Debian turns PHP's own session GC off (gc_probability=0) and lets a
	 * cron job clean /var/lib/php/sessions, which knows nothing of a
	 * locker's /tmp: without this, sessions pile up there for ever,
	 * against the locker's disk limit.  One request in 100 collects the
	 * files older than session.gc_maxlifetime (PHP's 1440 s unless the
	 * locker's php.ini, .user.ini or ini_set says otherwise).  A
	 * .user.ini or ini_set may change these two as well; a php.ini beside
	 * a script may not (-d wins over it). */
	"session.gc_probability=1",
	"session.gc_divisor=100",
	/* opcache looks at a cached script's time stamp at most every 2 s
	 * (Debian's revalidate_freq), not on every request: at 0 each
	 * request paid a stat of every file it included, the whole gap to
	 * php-fpm for DokuWiki and MediaWiki (issue 13).  An edit shows within
	 * 2 s; a file younger than file_update_protection (2 s) is never
	 * cached, so a page written and then fixed at once shows each time.
	 * Invalidating on change would need the worker to watch every
	 * directory of the locker and to reach into every PHP process. */
	"opcache.revalidate_freq=2",
	/* Each php-cgi of a locker's pool is its own program with its own
	 * opcache (php-fpm's children share their master's): a process the
	 * pool starts compiles every file again, about 1,100 of them for a
	 * MediaWiki page, seconds of CPU, so that a pool that grows under
	 * load or starts again after its idle time paid more than php-fpm
	 * for the same pages (issue 13).  opcache's file cache keeps what one
	 * process compiled on disk for the next, beneath the locker's own
	 * /tmp (a directory named for the PHP build), on its disk limit, and
	 * a file that changed is compiled again (its time stamp is checked
	 * as the memory cache's is).  A locker can write those files, but
	 * they are only ever loaded by its own PHP, which runs its code
	 * anyway. */
	"opcache.file_cache=/tmp",
	/* The same for a .user.ini (the per-directory settings of a page in
	 * the pool): PHP looks at it again once a second, not every 300 s. */
	"user_ini.cache_ttl=0",
};

/*
 * argv[0] of an interpreter, and for php-cgi the settings lockerd owns:
 * php_settings[], and the body limit (so an upload lockerd accepts, PHP
 * accepts too).  Scripts may still change what PHP lets them at run time
 * (session_save_path()).  The zygote (zygote.c) is started with the same.
 * Returns the count put in argv.
 */
int
script_php_args(const struct config *c, const char *path, const char *const *php_d,
    int nphp_d, char **argv)
{
	static char	 upload[64], post[64];
	const char	*base = strrchr(path, '/');
	size_t		 i;
	int		 n = 0;

	argv[n++] = (char *)path;
	base = base ? base + 1 : path;
	if (strncmp(base, "php-cgi", 7) != 0)
		return n;
	snprintf(upload, sizeof(upload), "upload_max_filesize=%llu",
	    (unsigned long long)c->max_body_size);
	snprintf(post, sizeof(post), "post_max_size=%llu",
	    (unsigned long long)c->max_body_size);
	/* A .htaccess's php_value and php_flag first: lockerd's own, after
	 * them, win. */
	for (i = 0; php_d != NULL && i < (size_t)nphp_d && i < PHP_D_MAX; i++) {
		argv[n++] = "-d";
		argv[n++] = (char *)php_d[i];
	}
	for (i = 0; i < sizeof(php_settings) / sizeof(php_settings[0]); i++) {
		argv[n++] = "-d";
		argv[n++] = (char *)php_settings[i];
	}
	argv[n++] = "-d";
	argv[n++] = upload;
	argv[n++] = "-d";
	argv[n++] = post;
	return n;
}

static int
php_args(const struct script_req *s, char **argv)
{
	return script_php_args(s->conf, s->interp->path, s->php_d, s->nphp_d, argv);
}

/*
 * How to run the file: with its extension's interpreter; or, for "run
 * itself" (.cgi), by its #! line read here, so that no execute bit is
 * needed; or directly, a compiled program.  Fills argv (and line, which
 * argv may point into); returns what to execute.
 */
struct script_argv {
	char	*argv[PHP_ARGV_MAX];
	char	 line[256];
};

static const char *
script_argv(const struct script_req *s, struct script_argv *a)
{
	char	*p, *interp, *arg = NULL;
	ssize_t	 n;
	int	 fd, i = 0;

	if (s->interp->path[0] != '\0') {
		int k = php_args(s, a->argv);

		a->argv[k++] = (char *)s->filename;
		a->argv[k] = NULL;
		return s->interp->path;
	}
	if ((fd = open(s->filename, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, a->line, sizeof(a->line) - 1);
		close(fd);
		if (n > 2 && a->line[0] == '#' && a->line[1] == '!') {
			a->line[n] = '\0';
			if ((p = strchr(a->line, '\n')) != NULL)
				*p = '\0';
			for (interp = a->line + 2; *interp == ' ' || *interp == '\t'; interp++)
				;
			for (p = interp; *p && *p != ' ' && *p != '\t'; p++)
				;
			if (*p) {
				*p++ = '\0';
				while (*p == ' ' || *p == '\t')
					p++;
				if (*p)
					arg = p;
				for (p = arg ? arg + strlen(arg) : NULL; p && p > arg &&
				    (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r'); p--)
					p[-1] = '\0';
			}
			a->argv[i++] = interp;
			if (arg)
				a->argv[i++] = arg;
			a->argv[i++] = (char *)s->filename;
			a->argv[i] = NULL;
			return interp;
		}
	}
	a->argv[0] = (char *)s->filename;
	a->argv[1] = NULL;
	return s->filename;
}

/*
 * The script, spawned (pspawn.c: no copy of the worker's page tables) in
 * a process group of its own, with our socket as stdin and stdout and the
 * stderr pipe's end as stderr, nothing else of the worker's, in the
 * script's directory.  Its CPU limit is the soft limit only: SIGXCPU stops
 * a runaway script, but a script may raise it (MediaWiki's limit.sh runs
 * `ulimit -t 180`, which fails above the hard limit).  What bounds a
 * request is script-timeout (its process group is killed) and the
 * locker's cpu cgroup; a per-process hard limit never bounded a locker,
 * whose next process starts anew.  The body comes whole and of known
 * length (front holds it first, src/body.c), or not at all.
 */
static pid_t
script_spawn(const struct script_req *s, int sock, int err)
{
	static struct env	 e;	/* ENV_BYTES: not on the stack */
	static struct script_argv a;
	struct pspawn		 ps;
	char			 dir[PATH_MAX], line[PATH_MAX + 64], *slash;
	pid_t			 pid;

	build_env(&e, s);
	snprintf(dir, sizeof(dir), "%s", s->filename);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	memset(&ps, 0, sizeof(ps));
	ps.path = script_argv(s, &a);
	ps.argv = a.argv;
	ps.envp = e.v;
	ps.dir = dir;
	ps.fd[0] = ps.fd[1] = sock;
	ps.fd[2] = err;
	ps.new_pgroup = 1;
	ps.cpu_soft = s->conf->script_cpu;
	if ((pid = proc_spawn(&ps)) == -1) {
		/* What the script's own stderr would have said, had it started. */
		snprintf(line, sizeof(line), "cannot run %s: %s", s->filename, strerror(errno));
		script_note(line);
	}
	return pid;
}

/* Room in scripts[] for one more: 0, or -1 (no memory). */
static int
scripts_room(void)
{
	int		 ncap = capscripts ? capscripts * 2 : 16;
	struct script	*n;

	if (nscripts < capscripts)
		return 0;
	if ((n = realloc(scripts, sizeof(*n) * (size_t)ncap)) == NULL)
		return -1;
	scripts = n;
	capscripts = ncap;
	return 0;
}

/* The entry of a child just forked, in a process group of its own, with
 * the read end of its stderr pipe ep; scripts_room() has made the room. */
static struct script *
script_add(pid_t pid, int ep[2])
{
	struct script *sc = &scripts[nscripts++];

	setpgid(pid, pid);	/* also here: no window before the child does it */
	close(ep[1]);
	set_nonblock(ep[0]);
	memset(sc, 0, sizeof(*sc));
	sc->pid = pid;
	sc->err = ep[0];
	return sc;
}

/* The same for a PHP process of the zygote's: not our child (no setpgid,
 * no waitpid); its line says when it ends. */
static struct script *
script_add_zygote(pid_t pid, int ep[2], int line)
{
	struct script *sc = &scripts[nscripts++];

	close(ep[1]);
	set_nonblock(ep[0]);
	memset(sc, 0, sizeof(*sc));
	sc->pid = pid;
	sc->err = ep[0];
	sc->sock = line;
	sc->pool = 1;
	sc->zygote = 1;
	return sc;
}

/*
 * Start a script.  Returns front's end of its socket, or -status when it
 * cannot run (503: too many at once; 500: no resources).
 */
int
script_start(const struct script_req *s)
{
	struct script	*sc;
	int		 sv[2], ep[2];
	pid_t		 pid;

	if (script_count() >= (int)s->conf->max_scripts)
		return -503;
	if (scripts_room() == -1)
		return -500;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -500;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -500;
	}
	if ((pid = script_spawn(s, sv[1], ep[1])) == -1) {
		close(sv[0]);
		close(sv[1]);
		close(ep[0]);
		close(ep[1]);
		return -500;
	}
	sc = script_add(pid, ep);
	sc->sock = sv[1];
	/* front answers 504 at the limit and hangs up; this is the backstop. */
	sc->deadline = now_ms() + (uint64_t)s->conf->script_timeout * 1000 + 2000;
	snprintf(sc->name, sizeof(sc->name), "%s", s->filename);
	return sv[0];
}

/* ------------------------------------------------------------ keeping them */

/*
 * Bytes of lines that did not go to logd (its channel full: logd is
 * behind), in the log budget's units: logd is told, so that its "dropped"
 * line counts them too.  Returns 0 once nothing is left untold.
 */
static uint64_t	log_lost;

int
script_log_lost_tell(void)
{
	if (log_lost > 0 && logfd != -1 &&
	    msg_send(logfd, MSG_LOG_LOCKER_DROPPED, &log_lost, sizeof(log_lost), -1) == 0)
		log_lost = 0;
	return log_lost > 0 ? -1 : 0;
}

/* One line of a script's stderr (whole: LOG_LINE_MAX at most), to logd. */
static void
log_line(struct script *sc, const char *line, size_t len)
{
	static char	buf[LOG_LINE_MAX + sizeof(sc->name) + 16];
	size_t		k;
	int		n;

	if (logfd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "[script %s] %.*s", sc->name,
	    (int)(len > LOG_LINE_MAX ? LOG_LINE_MAX : len), line);
	if (n <= 0)
		return;
	k = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	if (script_log_lost_tell() == -1 || msg_send(logfd, MSG_LOG_ERROR, buf, k, -1) == -1)
		log_lost += log_cost(buf, k);
}

static void
err_line(void *arg, const char *line, size_t len)
{
	log_line(arg, line, len);
}

/*
 * Read a script's stderr; whole lines go to its locker's error log.  A few
 * reads at a time: a script writing without pause (or a grandchild still
 * holding the pipe after it exited) must not keep the worker in this loop.
 */
static void
drain_err(struct script *sc)
{
	char	buf[16384];
	ssize_t	n;
	int	reads = 0;

	while (sc->err != -1 && reads++ < 16) {
		n = read(sc->err, buf, sizeof(buf));
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			linebuf_flush(&sc->errl, err_line, sc);
			close(sc->err);
			sc->err = -1;
			return;
		}
		linebuf_feed(&sc->errl, buf, (size_t)n, err_line, sc);
	}
}

static void
script_remove(int i)
{
	struct script *sc = &scripts[i];

	if (sc->sock != -1)
		close(sc->sock);
	if (sc->err != -1) {
		drain_err(sc);
		if (sc->err != -1) {
			linebuf_flush(&sc->errl, err_line, sc);
			close(sc->err);
		}
	}
	scripts[i] = scripts[--nscripts];
}

/* Reap what exited; a script is gone once it exited and its stderr closed. */
void
script_reap(void)
{
	pid_t	pid;
	int	status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < nscripts; i++)
			if (scripts[i].pid == pid)
				break;
		if (i == nscripts)
			continue;	/* a grandchild we inherited as pid 1 */
		if (scripts[i].pool)
			php_pool_exited(pid, status);	/* it logs what it makes of it */
		else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
			char msg[64];

			snprintf(msg, sizeof(msg), "killed by signal %d", WTERMSIG(status));
			log_line(&scripts[i], msg, strlen(msg));
		}
		/* Its process group may still hold the socket; front sees EOF
		 * when the last of them goes. */
		kill(-pid, SIGKILL);
		script_remove(i);
	}
}

int
script_pollfds(struct pollfd *p, int max, int *first)
{
	int i, n = 0;

	*first = -1;
	for (i = 0; i < nscripts && n + 2 <= max; i++) {
		if (*first == -1)
			*first = 0;
		p[n].fd = scripts[i].sock;	/* only POLLHUP matters, */
		p[n++].events = scripts[i].zygote ? POLLIN : 0;	/* or the zygote's word */
		p[n].fd = scripts[i].err;
		p[n++].events = POLLIN;
	}
	return n;
}

void
script_events(const struct pollfd *p, int n)
{
	int i, gone = 0;

	for (i = 0; i + 1 < n && i / 2 < nscripts; i += 2) {
		struct script *sc = &scripts[i / 2];

		if (p[i + 1].revents)
			drain_err(sc);
		if (sc->zygote && p[i].revents)
			gone += zygote_line_read(sc);
		else if (p[i].revents & (POLLHUP | POLLERR)) {
			/* front hung up: the client went away, or gave up waiting. */
			kill(-sc->pid, SIGKILL);
		}
	}
	/* Removed after the walk, which follows scripts[]'s order. */
	for (i = nscripts - 1; gone > 0 && i >= 0; i--)
		if (scripts[i].zygote && scripts[i].exited) {
			pid_t pid = scripts[i].pid;
			int status = scripts[i].zstatus;

			script_remove(i);
			php_pool_exited(pid, status);
			gone--;
		}
}

/* Milliseconds to the next wall-clock limit, or -1; kills what is past it.
 * Lines lost on the way to logd are told it here too, until they are; and
 * the PHP pools' own times (phppool.c) are kept from here. */
int
script_timeouts(void)
{
	uint64_t	now = now_ms(), next = 0;
	int		i, pt = php_pool_timeouts();

	if (script_log_lost_tell() == -1)
		next = now + 100;
	for (i = 0; i < nscripts; i++) {
		if (scripts[i].pool)
			continue;
		if (scripts[i].deadline <= now) {
			log_line(&scripts[i], "killed: over script-timeout", 27);
			kill(-scripts[i].pid, SIGKILL);
			scripts[i].deadline = now + 1000;
		}
		if (next == 0 || scripts[i].deadline < next)
			next = scripts[i].deadline;
	}
	if (pt >= 0 && (next == 0 || now + (uint64_t)pt < next))
		next = now + (uint64_t)pt;
	return next == 0 ? -1 : (int)(next > now ? next - now : 0);
}

/* ------------------------------------------------------------ FastCGI */

/* ------------------------------------------------------------ the zygote */

/* How long a worker waits for the zygote's answer before it starts php-cgi
 * itself: a fork there takes about a millisecond. */
#define ZYGOTE_WAIT_MS	2000

/*
 * Whether this pool's PHP may come from the zygote (zygote.c): its
 * interpreter, with lockerd's settings alone.  A pool with a .htaccess's
 * php_value (its own -d), or a php.ini in its directory (which php-cgi reads
 * at its start, in the directory script_php_spawn() starts it in), starts
 * its own php-cgi as before.
 */
static int
zygote_fits(const struct script_req *s)
{
	const char	*z = zygote_interp(s->conf);
	char		 ini[PATH_MAX];
	struct stat	 st;

	if (z == NULL || strcmp(z, s->interp->path) != 0 || s->nphp_d > 0)
		return 0;
	snprintf(ini, sizeof(ini), "%s/php.ini", s->docroot);
	return stat(ini, &st) == -1 && errno == ENOENT;
}

static int
line_put(int line, uint32_t kind, int fd, const char *data)
{
	struct zygote_word	 w = { .kind = kind };
	size_t			 dlen = data != NULL ? strlen(data) + 1 : 0;
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	} cm;
	struct iovec		 iov[2] = { { &w, sizeof(w) }, { (void *)data, dlen } };
	struct msghdr		 mh = { .msg_iov = iov, .msg_iovlen = dlen ? 2 : 1,
				    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr		*c;

	if (dlen > ZW_DIR_MAX)
		return -1;
	memset(&cm, 0, sizeof(cm));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(line, &mh, MSG_NOSIGNAL) == -1 ? -1 : 0;
}

/*
 * A PHP process from the zygote: its pid in our namespace, with *line our
 * end of its line; or -1 (no zygote, or none in time), and the caller
 * starts php-cgi itself.  The worker waits for the answer: a start, not a
 * request, and about a millisecond.
 */
static pid_t
zygote_spawn(const struct script_req *s, int lfd, int errw, int *line)
{
	struct zygote_word	w;
	struct pollfd		p;
	int			sv[2];

	if (!zygote_fits(s) || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (line_put(sv[0], ZW_LISTEN, lfd, s->docroot) == -1 ||
	    line_put(sv[0], ZW_STDERR, errw, NULL) == -1 ||
	    msg_send(CHILD_CHAN_FD, MSG_PHP_FORK, NULL, 0, sv[1]) == -1)
		goto fail;
	close(sv[1]);
	sv[1] = -1;
	p.fd = sv[0];
	p.events = POLLIN;
	/* Closed unanswered: the master would not (no zygote ready). */
	if (poll(&p, 1, ZYGOTE_WAIT_MS) != 1 ||
	    recv(sv[0], &w, sizeof(w), 0) != (ssize_t)sizeof(w) || w.kind != ZW_PID ||
	    w.value <= 1)
		goto fail;
	*line = sv[0];
	return (pid_t)w.value;
fail:
	log_debug("worker: no PHP process from the zygote (%s); starting php-cgi",
	    strerror(errno));
	/* A process that came too late goes with the line (the zygote kills it). */
	close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return -1;
}

/* The zygote's word on a process's line: 1 if it ended (its status kept
 * for script_events() to pass on), else 0. */
static int
zygote_line_read(struct script *sc)
{
	struct zygote_word	w;
	ssize_t			n;

	if (sc->exited)
		return 0;
	n = recv(sc->sock, &w, sizeof(w), MSG_DONTWAIT);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n == (ssize_t)sizeof(w) && w.kind == ZW_EXIT)
		sc->zstatus = w.value;
	else if (n == (ssize_t)sizeof(w))
		return 0;	/* nothing else is said on it */
	else
		sc->zstatus = SIGKILL;	/* the zygote died, and its children with it */
	sc->exited = 1;
	return 1;
}

void
script_php_kill(pid_t pid, int sig)
{
	struct zygote_word	w = { .kind = ZW_KILL, .value = sig };
	int			i;

	for (i = 0; i < nscripts && scripts[i].pid != pid; i++)
		;
	/* Outside our Landlock domain, so only its zygote may signal it. */
	if (i < nscripts && scripts[i].zygote)
		(void)!send(scripts[i].sock, &w, sizeof(w), MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		kill(sig == SIGKILL ? -pid : pid, sig);
}

/*
 * One PHP process of a locker's pool (phppool.c decides how many), as the
 * locker, in the locker's sandbox, never shared with another locker: it
 * serves FastCGI on lfd, its stdin, alone (PHP_FCGI_CHILDREN=0: no
 * children manager of php-cgi's own), and exits after max_requests
 * (0: never).  The start of a PHP process is here alone, so that how it
 * starts (fork and exec today) can change in one place.
 */
pid_t
script_php_spawn(const struct script_req *s, int lfd, unsigned max_requests)
{
	struct script	*sc;
	int		 ep[2], line;
	pid_t		 pid;

	if (scripts_room() == -1 || pipe2(ep, O_CLOEXEC) == -1)
		return -1;
	if ((pid = zygote_spawn(s, lfd, ep[1], &line)) > 0) {
		sc = script_add_zygote(pid, ep, line);
		snprintf(sc->name, sizeof(sc->name), "%s", s->interp->path);
		return pid;
	}
	if ((pid = fork()) == -1) {
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		char	*envp[5], env[3][64], home[PATH_MAX + 8], *pargv[PHP_ARGV_MAX];
		int	 null;

		setpgid(0, 0);
		child_reset(CHILD_DIE_WITH_PARENT);
		/* FastCGI: the listening socket is the application's stdin. */
		if (dup2(lfd, 0) == -1 || (null = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(null, 1) == -1 || dup2(ep[1], 2) == -1 ||
		    close_fds_except(3, NULL, 0) == -1)
			_exit(127);
		if (chdir(s->docroot) == -1)
			_exit(127);
		snprintf(env[0], sizeof(env[0]), "PATH=/usr/local/bin:/usr/bin:/bin");
		snprintf(env[1], sizeof(env[1]), "PHP_FCGI_CHILDREN=0");
		snprintf(env[2], sizeof(env[2]), "PHP_FCGI_MAX_REQUESTS=%u", max_requests);
		envp[0] = env[0];
		envp[1] = env[1];
		envp[2] = env[2];
		/* What PHP's own children (exec, proc_open) see: their HOME is
		 * the process's, not a request's. */
		memcpy(home, "HOME=", 5);
		cgi_home_of(s->docroot, home + 5, sizeof(home) - 5);
		envp[3] = home;
		envp[4] = NULL;
		pargv[php_args(s, pargv)] = NULL;
		execve(s->interp->path, pargv, envp);
		_exit(127);
	}
	sc = script_add(pid, ep);
	sc->pool = 1;
	sc->sock = -1;
	snprintf(sc->name, sizeof(sc->name), "%s", s->interp->path);
	return pid;
}

unsigned
php_pool_cap(unsigned max_scripts, unsigned php_max_processes)
{
	unsigned n = php_max_processes < max_scripts ? php_max_processes : max_scripts;

	return n > 0 ? n : 1;
}

/* The worker is going: nothing it started may outlive it. */
void
script_kill_all(void)
{
	int i;

	for (i = 0; i < nscripts; i++)
		kill(-scripts[i].pid, SIGKILL);
}
