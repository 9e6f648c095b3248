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
#include <sys/prctl.h>
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

#define MAX_ENV		200
#define ENV_BYTES	(64 * 1024)

struct script {
	int		 pool;		/* a FastCGI pool, not one run of a script */
	pid_t		 pid;		/* also its process group */
	int		 sock;		/* our copy of its end: POLLHUP when front leaves */
	int		 err;		/* its stderr */
	uint64_t	 deadline;
	int		 exited;
	char		 name[256];	/* for the error log */
	char		 line[1024];	/* a partial stderr line */
	size_t		 linelen;
};

void	script_pool_stop(const char *interp);
static int	write_all_nb(int fd, const void *buf, size_t len);

static struct script	*scripts;
static int		 nscripts, capscripts;
static int		 logfd = -1;

void
script_set_log(int fd)
{
	if (logfd != -1)
		close(logfd);
	logfd = fd;
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

/* ------------------------------------------------------------ the environment */

struct env {
	char	*v[MAX_ENV + 1];
	int	 n;
	char	 buf[ENV_BYTES];
	size_t	 used;
};

static void __attribute__((format(printf, 2, 3)))
env_add(struct env *e, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (e->n == MAX_ENV || e->used >= sizeof(e->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->used, sizeof(e->buf) - e->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(e->buf) - e->used)
		return;		/* dropped rather than cut */
	e->v[e->n++] = e->buf + e->used;
	e->used += (size_t)n + 1;
}

/* NAME=value where value is a counted string from the request. */
static void
env_str(struct env *e, const char *name, const char *p, size_t len)
{
	env_add(e, "%s=%.*s", name, (int)len, p ? p : "");
}

/*
 * HTTP_* for every header field, as Apache: names upper-cased with '-' as
 * '_', repeated fields joined with ", ".  Proxy is never passed (httpoxy),
 * nor Content-Length and Content-Type (they have their own variables), nor
 * a name with '_' in it, which could pose as another once translated.
 */
static void
env_headers(struct env *e, const char *h, size_t len)
{
	const char	*end = h + len, *line, *nl;
	char		 name[128];
	size_t		 i, nlen;
	int		 k;

	for (line = h; line < end; line = nl + 1) {
		const char *colon, *val;
		size_t vlen;

		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			break;
		if ((colon = memchr(line, ':', (size_t)(nl - line))) == NULL)
			continue;
		nlen = (size_t)(colon - line);
		if (nlen == 0 || nlen + 6 > sizeof(name))
			continue;
		memcpy(name, "HTTP_", 5);
		for (i = 0; i < nlen; i++) {
			char ch = line[i];

			if (ch == '_' || !(isalnum((unsigned char)ch) || ch == '-'))
				break;
			name[5 + i] = ch == '-' ? '_' : (char)toupper((unsigned char)ch);
		}
		if (i < nlen)
			continue;
		name[5 + nlen] = '\0';
		if (strcmp(name, "HTTP_PROXY") == 0 || strcmp(name, "HTTP_CONTENT_LENGTH") == 0 ||
		    strcmp(name, "HTTP_CONTENT_TYPE") == 0 || strcmp(name, "HTTP_HOST") == 0)
			continue;	/* HTTP_HOST is the routed host, set above */
		val = colon + 2 <= nl ? colon + 2 : nl;
		vlen = (size_t)(nl - val);
		/* A repeat is joined to the first. */
		for (k = 0; k < e->n; k++) {
			size_t l = strlen(name);

			if (strncmp(e->v[k], name, l) == 0 && e->v[k][l] == '=')
				break;
		}
		if (k < e->n) {
			char joined[8192];

			snprintf(joined, sizeof(joined), "%s, %.*s", e->v[k], (int)vlen, val);
			e->v[k] = e->v[--e->n];
			env_add(e, "%s", joined);
		} else
			env_add(e, "%s=%.*s", name, (int)vlen, val);
	}
}

static const char *
header_value(const struct wire_view *v, const char *want, size_t *len)
{
	const char	*h = v->s[WS_HEADERS], *end = h + v->l[WS_HEADERS], *nl;
	size_t		 wl = strlen(want);

	for (; h < end; h = nl + 1) {
		if ((nl = memchr(h, '\n', (size_t)(end - h))) == NULL)
			return NULL;
		if ((size_t)(nl - h) > wl + 1 && strncasecmp(h, want, wl) == 0 && h[wl] == ':') {
			const char *val = h + wl + 1;

			while (val < nl && *val == ' ')
				val++;
			*len = (size_t)(nl - val);
			return val;
		}
	}
	return NULL;
}

static void
build_env(struct env *e, const struct script_req *s)
{
	const struct wire_view		*v = s->view;
	const struct wire_request	*q = s->q;
	const char			*ct, *host = v->s[WS_HOST];
	size_t				 ctl, hl = v->l[WS_HOST], url_script;
	char				 dir[PATH_MAX], *slash;

	memset(e, 0, sizeof(*e));
	env_add(e, "GATEWAY_INTERFACE=CGI/1.1");
	env_add(e, "SERVER_SOFTWARE=%s", SERVER_SOFTWARE);
	env_add(e, "SERVER_PROTOCOL=HTTP/1.%d", q->version_minor ? 1 : 0);
	env_str(e, "REQUEST_METHOD", v->s[WS_METHOD], v->l[WS_METHOD]);
	env_str(e, "QUERY_STRING", v->s[WS_QUERY], v->l[WS_QUERY]);
	env_str(e, "REQUEST_URI", v->s[WS_TARGET], v->l[WS_TARGET]);
	env_add(e, "REQUEST_SCHEME=http");
	/*
	 * HTTP_HOST and SERVER_NAME come from the host the request was routed
	 * by (an absolute-form target's, not a contradicting Host header);
	 * SERVER_NAME lower-cased, without port or trailing dot, as Apache.
	 */
	if (hl > 0) {
		char	name[HOSTNAME_MAX + 1];
		size_t	k, nl = hl;

		env_str(e, "HTTP_HOST", host, hl);
		if (host[0] != '[') {
			const char *colon = memchr(host, ':', hl);

			if (colon != NULL)
				nl = (size_t)(colon - host);
		} else {
			const char *close = memchr(host, ']', hl);

			if (close != NULL)
				nl = (size_t)(close - host) + 1;
		}
		if (nl > 1 && host[nl - 1] == '.')
			nl--;
		if (nl > HOSTNAME_MAX)
			nl = HOSTNAME_MAX;
		for (k = 0; k < nl; k++)
			name[k] = (char)tolower((unsigned char)host[k]);
		name[nl] = '\0';
		env_add(e, "SERVER_NAME=%s", name);
	} else
		env_str(e, "SERVER_NAME", v->s[WS_LOCAL], v->l[WS_LOCAL]);
	env_add(e, "SERVER_PORT=%u", q->local_port);
	env_str(e, "SERVER_ADDR", v->s[WS_LOCAL], v->l[WS_LOCAL]);
	env_str(e, "REMOTE_ADDR", v->s[WS_REMOTE], v->l[WS_REMOTE]);
	env_add(e, "REMOTE_PORT=%u", q->remote_port);

	/* The URL path up to the script is SCRIPT_NAME; PATH_INFO is what follows. */
	url_script = v->l[WS_URL] >= strlen(s->path_info) ?
	    v->l[WS_URL] - strlen(s->path_info) : v->l[WS_URL];
	env_add(e, "SCRIPT_NAME=%.*s%s", (int)url_script, v->s[WS_URL],
	    s->index_name ? s->index_name : "");
	env_add(e, "SCRIPT_FILENAME=%s", s->filename);
	if (s->path_info[0] != '\0') {
		env_add(e, "PATH_INFO=%s", s->path_info);
		env_add(e, "PATH_TRANSLATED=%s%s", s->docroot, s->path_info);
	}
	env_add(e, "DOCUMENT_ROOT=%s", s->docroot);
	env_add(e, "CONTEXT_DOCUMENT_ROOT=%s", s->docroot);
	env_str(e, "CONTEXT_PREFIX", v->s[WS_PREFIX], v->l[WS_PREFIX]);
	/* Any Content-Length, 0 too; a chunked body's once it is spooled. */
	if (q->content_length >= 0)
		env_add(e, "CONTENT_LENGTH=%lld", (long long)q->content_length);
	if ((ct = header_value(v, "Content-Type", &ctl)) != NULL)
		env_str(e, "CONTENT_TYPE", ct, ctl);
	env_add(e, "REDIRECT_STATUS=200");
	snprintf(dir, sizeof(dir), "%s", s->filename);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	env_add(e, "PHPRC=%s", dir);
	env_add(e, "PATH=/usr/local/bin:/usr/bin:/bin");
	env_headers(e, v->s[WS_HEADERS], v->l[WS_HEADERS]);
	e->v[e->n] = NULL;
}

/* ------------------------------------------------------------ starting one */

/*
 * argv[0] of an interpreter, and for php-cgi the settings lockerd owns: the
 * body limit (so an upload lockerd accepts, PHP accepts too) and sessions in
 * the locker's own /tmp, not a directory shared by every locker.  Scripts
 * may still change what PHP lets them at run time (session_save_path()).
 * Returns the count put in argv.
 */
static int
php_args(const struct script_req *s, char **argv)
{
	static char	 upload[64], post[64];
	const char	*base = strrchr(s->interp->path, '/');
	int		 n = 0;

	argv[n++] = (char *)s->interp->path;
	base = base ? base + 1 : s->interp->path;
	if (strncmp(base, "php-cgi", 7) != 0)
		return n;
	snprintf(upload, sizeof(upload), "upload_max_filesize=%llu",
	    (unsigned long long)s->conf->max_body_size);
	snprintf(post, sizeof(post), "post_max_size=%llu",
	    (unsigned long long)s->conf->max_body_size);
	argv[n++] = "-d";
	argv[n++] = "session.save_path=/tmp";
	argv[n++] = "-d";
	argv[n++] = upload;
	argv[n++] = "-d";
	argv[n++] = post;
	return n;
}

/* A chunked body has no length: spool it to the locker's own /tmp first. */
static int
spool_stdin(struct env *e)
{
	char	buf[65536];
	ssize_t	n;
	off_t	total = 0;
	int	fd;

	if ((fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1)
		return -1;
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		if (write_all(fd, buf, (size_t)n) == -1) {
			close(fd);
			return -1;
		}
		total += n;
	}
	if (n == -1 || lseek(fd, 0, SEEK_SET) == -1 || dup2(fd, 0) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	env_add(e, "CONTENT_LENGTH=%lld", (long long)total);
	e->v[e->n] = NULL;
	return 0;
}

/*
 * How to run the file: with its extension's interpreter; or, for "run
 * itself" (.cgi), by its #! line read here, so that no execute bit is
 * needed; or directly, a compiled program.
 */
static void
exec_script(const struct script_req *s, struct env *e)
{
	char	 line[256], *argv[5], *p, *interp, *arg = NULL;
	ssize_t	 n;
	int	 fd, i = 0;

	if (s->interp->path[0] != '\0') {
		char	*pargv[12];
		int	 k = php_args(s, pargv);

		pargv[k++] = (char *)s->filename;
		pargv[k] = NULL;
		execve(s->interp->path, pargv, e->v);
		return;
	}
	if ((fd = open(s->filename, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, line, sizeof(line) - 1);
		close(fd);
		if (n > 2 && line[0] == '#' && line[1] == '!') {
			line[n] = '\0';
			if ((p = strchr(line, '\n')) != NULL)
				*p = '\0';
			for (interp = line + 2; *interp == ' ' || *interp == '\t'; interp++)
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
			argv[i++] = interp;
			if (arg)
				argv[i++] = arg;
			argv[i++] = (char *)s->filename;
			argv[i] = NULL;
			execve(interp, argv, e->v);
			return;
		}
	}
	argv[0] = (char *)s->filename;
	argv[1] = NULL;
	execve(s->filename, argv, e->v);
}

static void __attribute__((noreturn))
child(const struct script_req *s, int sock, int err)
{
	static struct env	 e;
	struct rlimit		 rl;
	sigset_t		 none;
	char			 dir[PATH_MAX], *slash;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(sock, 0) == -1 || dup2(sock, 1) == -1 || dup2(err, 2) == -1)
		_exit(127);
	build_env(&e, s);
	if ((s->q->flags & WREQ_CHUNKED) && spool_stdin(&e) == -1) {
		dprintf(2, "cannot spool the request body: %s\n", strerror(errno));
		_exit(127);
	}
	closefrom_compat(3);
	snprintf(dir, sizeof(dir), "%s", s->filename);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (chdir(dir) == -1)
		_exit(127);
	rl.rlim_cur = rl.rlim_max = s->conf->script_cpu;
	setrlimit(RLIMIT_CPU, &rl);
	exec_script(s, &e);
	dprintf(2, "cannot run %s: %s\n", s->filename, strerror(errno));
	_exit(127);
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
	if (nscripts == capscripts) {
		int		 ncap = capscripts ? capscripts * 2 : 16;
		struct script	*n = realloc(scripts, sizeof(*n) * (size_t)ncap);

		if (n == NULL)
			return -500;
		scripts = n;
		capscripts = ncap;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -500;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -500;
	}
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		close(ep[0]);
		close(ep[1]);
		return -500;
	}
	if (pid == 0)
		child(s, sv[1], ep[1]);
	setpgid(pid, pid);	/* also here: no window before the child does it */
	close(ep[1]);
	set_nonblock(ep[0]);
	sc = &scripts[nscripts++];
	memset(sc, 0, sizeof(*sc));
	sc->pid = pid;
	sc->sock = sv[1];
	sc->err = ep[0];
	/* front answers 504 at the limit and hangs up; this is the backstop. */
	sc->deadline = now_ms() + (uint64_t)s->conf->script_timeout * 1000 + 2000;
	snprintf(sc->name, sizeof(sc->name), "%s", s->filename);
	return sv[0];
}

/* ------------------------------------------------------------ keeping them */

static void
log_line(struct script *sc, const char *line, size_t len)
{
	char	buf[1400];
	int	n;

	if (logfd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "[script %s] %.*s", sc->name,
	    (int)(len > 1024 ? 1024 : len), line);
	if (n > 0)
		msg_send(logfd, MSG_LOG_ERROR, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1, -1);
}

/* Read a script's stderr; whole lines go to its locker's error log. */
static void
drain_err(struct script *sc)
{
	ssize_t	n;
	char	*nl;

	while (sc->err != -1) {
		n = read(sc->err, sc->line + sc->linelen, sizeof(sc->line) - sc->linelen);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (sc->linelen)
				log_line(sc, sc->line, sc->linelen);
			sc->linelen = 0;
			close(sc->err);
			sc->err = -1;
			return;
		}
		sc->linelen += (size_t)n;
		while ((nl = memchr(sc->line, '\n', sc->linelen)) != NULL) {
			size_t l = (size_t)(nl - sc->line);

			log_line(sc, sc->line, l);
			memmove(sc->line, nl + 1, sc->linelen - l - 1);
			sc->linelen -= l + 1;
		}
		if (sc->linelen == sizeof(sc->line)) {
			log_line(sc, sc->line, sc->linelen);
			sc->linelen = 0;
		}
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
		if (sc->err != -1)
			close(sc->err);
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
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
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
		p[n].fd = scripts[i].sock;	/* only POLLHUP matters */
		p[n++].events = 0;
		p[n].fd = scripts[i].err;
		p[n++].events = POLLIN;
	}
	return n;
}

void
script_events(const struct pollfd *p, int n)
{
	int i;

	for (i = 0; i + 1 < n && i / 2 < nscripts; i += 2) {
		struct script *sc = &scripts[i / 2];

		if (p[i + 1].revents)
			drain_err(sc);
		if (p[i].revents & (POLLHUP | POLLERR)) {
			/* front hung up: the client went away, or gave up waiting. */
			kill(-sc->pid, SIGKILL);
		}
	}
}

/* Milliseconds to the next wall-clock limit, or -1; kills what is past it. */
int
script_timeouts(void)
{
	uint64_t	now = now_ms(), next = 0;
	int		i;

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
	return next == 0 ? -1 : (int)(next - now);
}

/* ------------------------------------------------------------ FastCGI */

/*
 * A locker's PHP runs as one persistent FastCGI process group per
 * interpreter, started by its worker on the first request, as the locker,
 * in the locker's sandbox: never shared with another locker.  It listens on
 * a socket in the locker's own tmp/ (mode 0600, in a 0700 home), which is
 * all that names it: which process serves a request is decided by whose
 * worker connects, never by anything a locker writes.
 */
static struct script *
pool_find(const char *interp)
{
	int i;

	for (i = 0; i < nscripts; i++)
		if (scripts[i].pool == 1 && strcmp(scripts[i].name, interp) == 0)
			return &scripts[i];
	return NULL;
}

static void
pool_sock_path(const struct script_req *s, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/../tmp/.lockerd-fcgi-%s.sock", s->docroot, s->interp->ext);
}

static struct script *
pool_start(const struct script_req *s)
{
	struct sockaddr_un	 sun;
	struct script		*sc;
	char			 path[PATH_MAX], children[32];
	int			 lfd, ep[2];
	pid_t			 pid;

	if (nscripts == capscripts) {
		int		 ncap = capscripts ? capscripts * 2 : 16;
		struct script	*n = realloc(scripts, sizeof(*n) * (size_t)ncap);

		if (n == NULL)
			return NULL;
		scripts = n;
		capscripts = ncap;
	}
	pool_sock_path(s, path, sizeof(path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return NULL;
	memcpy(sun.sun_path, path, strlen(path));
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return NULL;
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 || chmod(path, 0600) == -1 ||
	    listen(lfd, 128) == -1 || pipe2(ep, O_CLOEXEC) == -1) {
		close(lfd);
		return NULL;
	}
	if ((pid = fork()) == -1) {
		close(lfd);
		close(ep[0]);
		close(ep[1]);
		return NULL;
	}
	if (pid == 0) {
		char		*argv[2], *envp[4], env[3][64];
		sigset_t	 none;
		int		 null;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* FastCGI: the listening socket is the application's stdin. */
		if (dup2(lfd, 0) == -1 || (null = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(null, 1) == -1 || dup2(ep[1], 2) == -1)
			_exit(127);
		closefrom_compat(3);
		if (chdir(s->docroot) == -1)
			_exit(127);
		snprintf(children, sizeof(children), "%u", s->conf->max_scripts < 4 ?
		    s->conf->max_scripts : 4);
		snprintf(env[0], sizeof(env[0]), "PATH=/usr/local/bin:/usr/bin:/bin");
		snprintf(env[1], sizeof(env[1]), "PHP_FCGI_CHILDREN=%s", children);
		snprintf(env[2], sizeof(env[2]), "PHP_FCGI_MAX_REQUESTS=10000");
		envp[0] = env[0];
		envp[1] = env[1];
		envp[2] = env[2];
		envp[3] = NULL;
		{
			char	*pargv[12];

			pargv[php_args(s, pargv)] = NULL;
			execve(s->interp->path, pargv, envp);
		}
		(void)argv;
		_exit(127);
	}
	setpgid(pid, pid);
	close(lfd);
	close(ep[1]);
	set_nonblock(ep[0]);
	sc = &scripts[nscripts++];
	memset(sc, 0, sizeof(*sc));
	sc->pool = 1;
	sc->pid = pid;
	sc->sock = -1;
	sc->err = ep[0];
	snprintf(sc->name, sizeof(sc->name), "%s", s->interp->path);
	return sc;
}

/* BEGIN_REQUEST, the environment as PARAMS, and (with no body) an empty STDIN. */
static size_t
fcgi_request(const struct script_req *s, unsigned char *buf, size_t cap)
{
	static struct env	 e;
	static unsigned char	 params[ENV_BYTES + 4096];
	size_t			 plen = 0, off = 0, k;
	int			 i;

	build_env(&e, s);
	for (i = 0; i < e.n; i++) {
		const char *eq = strchr(e.v[i], '=');

		if (eq == NULL)
			continue;
		plen += fcgi_param(params + plen, sizeof(params) - plen, e.v[i],
		    (size_t)(eq - e.v[i]), eq + 1, strlen(eq + 1));
	}
	if (cap < 16 + plen + (plen / FCGI_MAX_CONTENT + 3) * FCGI_HEADER_LEN)
		return 0;
	fcgi_begin_request(buf, 1, 0);
	off = 16;
	for (k = 0; k < plen; ) {
		size_t n = plen - k > FCGI_MAX_CONTENT ? FCGI_MAX_CONTENT : plen - k;

		fcgi_header(buf + off, FCGI_PARAMS, 1, (uint16_t)n, 0);
		memcpy(buf + off + FCGI_HEADER_LEN, params + k, n);
		off += FCGI_HEADER_LEN + n;
		k += n;
	}
	fcgi_header(buf + off, FCGI_PARAMS, 1, 0, 0);
	off += FCGI_HEADER_LEN;
	if (!(s->q->flags & WREQ_BODY)) {
		fcgi_header(buf + off, FCGI_STDIN, 1, 0, 0);
		off += FCGI_HEADER_LEN;
	}
	return off;
}

/*
 * Connect to the locker's pool for this interpreter (starting it if it is
 * not running) and send the request's head; front sends the body and reads
 * the answer.  Returns the connected socket, or -status.
 */
int
script_fcgi_start(const struct script_req *s)
{
	static unsigned char	 req[ENV_BYTES + 64 * 1024];
	struct sockaddr_un	 sun;
	char			 path[PATH_MAX];
	size_t			 len;
	int			 fd, tries;

	if (s->q->flags & WREQ_CHUNKED)
		return -1;	/* no length to give PHP: the caller falls back to CGI */
	if ((len = fcgi_request(s, req, sizeof(req))) == 0)
		return -500;
	pool_sock_path(s, path, sizeof(path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	for (tries = 0; tries < 2; tries++) {
		if (pool_find(s->interp->path) == NULL && pool_start(s) == NULL)
			return -503;
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
			return -500;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		close(fd);
		fd = -1;
		if (errno == EAGAIN)
			return -503;	/* its backlog is full: busy */
		/* The pool is gone (it crashed, or its socket was removed): anew. */
		script_pool_stop(s->interp->path);
	}
	if (fd == -1)
		return -503;
	if (write_all_nb(fd, req, len) == -1) {
		close(fd);
		return -503;
	}
	return fd;
}

/* Kill a pool (all of its process group); reaping removes it. */
void
script_pool_stop(const char *interp)
{
	struct script *p = pool_find(interp);

	if (p != NULL) {
		kill(-p->pid, SIGKILL);
		p->pool = 2;	/* dying: pool_find no longer sees it */
	}
}

/* The worker is going: nothing it started may outlive it. */
void
script_kill_all(void)
{
	int i;

	for (i = 0; i < nscripts; i++)
		kill(-scripts[i].pid, SIGKILL);
}

/* Write all of a small request to a non-blocking socket, waiting briefly. */
static int
write_all_nb(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	struct pollfd	 pf = { .fd = fd, .events = POLLOUT };

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || poll(&pf, 1, 1000) != 1)
				return -1;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
