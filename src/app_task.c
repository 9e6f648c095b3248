/*
 * app_task.c: lockerd-app run as a locker in its sandbox, for the
 * autoinstallers' verbs (ctl_app.c, ctl_app_all.c), and what its exit code
 * means for the directory's row of the install (app_dir.c).  The master
 * reads nothing of an install: it records the outcome from the exit code
 * and the version it asked for.  Its command line is built here, from
 * arguments ctl_app.c validated, in app.h's form.
 *
 * A task started for a CLI outlives the CLI: an upgrade killed half-way
 * would be what the design promises never happens, so a CLI that goes
 * only stops hearing of it (app_client_gone()); its row is still written.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "app_master.h"
#include "app_job.h"
#include "sql.h"

#define APP_EXE		"lockerd-app"

/* Installs with a task running: one at a time each. */
static struct app_unit	*busy;

/* ------------------------------------------------------------ start-up */

/*
 * lockerd-app beside our own binary (the build directory) is bound over
 * APP_JAIL_PROG in every jail; installed there itself, it is run as it
 * is.  The jail binds over a file, which must exist: a build run makes the
 * empty mount point, as installing would have put the program there.
 */
void
app_check(struct config *c)
{
	char	self[PATH_MAX], dir[PATH_MAX];
	ssize_t	n;
	int	fd;

	c->app_prog[0] = '\0';
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		return;
	self[n] = '\0';
	if (strrchr(self, '/') != NULL)
		*strrchr(self, '/') = '\0';
	snprintf(c->app_prog, sizeof(c->app_prog), "%s/%s", self, APP_EXE);
	if (access(c->app_prog, X_OK) == -1 || strcmp(c->app_prog, APP_JAIL_PROG) == 0) {
		c->app_prog[0] = '\0';
		return;
	}
	if (access(APP_JAIL_PROG, F_OK) == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", APP_JAIL_PROG);
	*strrchr(dir, '/') = '\0';
	if ((mkdir(dir, 0755) == -1 && errno != EEXIST) ||
	    (fd = open(APP_JAIL_PROG, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0755)) == -1) {
		log_warn("app: cannot make %s, where the jails show lockerd-app",
		    APP_JAIL_PROG);
		return;
	}
	close(fd);
	log_info("app: made %s, the jails' mount point for %s", APP_JAIL_PROG, c->app_prog);
}

/* Whether a jail will have lockerd-app: NULL, or why not. */
const char *
app_missing(void)
{
	if (access(APP_JAIL_PROG, F_OK) == -1)
		return "lockerd-app is not installed (" APP_JAIL_PROG "): make install";
	if (M->conf.app_prog[0] == '\0' && access(APP_JAIL_PROG, X_OK) == -1)
		return "lockerd-app is not installed (" APP_JAIL_PROG " is only a mount "
		    "point, and no lockerd-app is beside lockerd)";
	return NULL;
}

/* ------------------------------------------------------------ jobs */

static void
unit_free_list(struct app_job *j)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		for (int k = 0; k < 3; k++)
			if (j->u[i].stdio[k] != -1)
				close(j->u[i].stdio[k]);
	free(j->u);
	j->u = NULL;
	j->n = 0;
}

void
app_job_free(struct app_job *j)
{
	if (j == NULL)
		return;
	unit_free_list(j);
	free(j);
}

/* The CLI went: its job goes on (running tasks end and are recorded), and
 * frees itself at its end; it answers no one. */
void
app_client_gone(struct ctl_client *c)
{
	struct app_job *j = c->app_job;

	if (j == NULL)
		return;
	c->app_job = NULL;
	j->c = NULL;
	if (j->running == 0)
		app_job_free(j);
}

int
app_busy(const char *locker, const char *path)
{
	struct app_unit *u;

	for (u = busy; u != NULL; u = u->busy_next)
		if (strcmp(u->lr.name, locker) == 0 && (path_is_under(u->rec.path, path) ||
		    path_is_under(path, u->rec.path)))
			return 1;
	return 0;
}

static void
busy_drop(struct app_unit *u)
{
	struct app_unit **p;

	for (p = &busy; *p != NULL; p = &(*p)->busy_next)
		if (*p == u) {
			*p = u->busy_next;
			return;
		}
}

/* The URL an install is served at: the locker's own host name, on the
 * first TLS listener if there is one, else the first listener. */
void
app_url(const char *locker, const char *path, char *out, size_t outsz)
{
	const struct listen_addr	*l = NULL;
	const char			*port;
	int				 i, tls;

	for (i = 0; i < M->conf.nlisten && l == NULL; i++)
		if (M->conf.listen[i].flags & LISTEN_TLS)
			l = &M->conf.listen[i];
	if (l == NULL && M->conf.nlisten > 0)
		l = &M->conf.listen[0];
	tls = l != NULL && (l->flags & LISTEN_TLS);
	port = l != NULL ? l->port : "80";
	if (strcmp(port, tls ? "443" : "80") == 0)
		port = "";
	snprintf(out, outsz, "%s://%s.%s%s%s/%s/", tls ? "https" : "http", locker,
	    M->conf.domain, port[0] ? ":" : "", port, path);
}

/* ------------------------------------------------------------ the task */

/* lockerd-app's argv, from the validated fields only (app.h's lines). */
static int
unit_argv(const struct app_unit *u, char *dir, size_t dirsz, const char **argv, size_t max)
{
	const struct app_job	*j = u->job;
	size_t			 n = 0;

#define ARG(s)		do { if (n + 1 >= max) return -1; argv[n++] = (s); } while (0)
#define OPT(k, v)	do { if ((v)[0] != '\0') { ARG(k); ARG(v); } } while (0)
	snprintf(dir, dirsz, "%s/web_scripts/%s", u->home, u->rec.path);
	ARG(APP_EXE);
	switch (j->op) {
	case APP_OP_INSTALL:
		ARG("install");
		ARG(u->rec.app);
		break;
	case APP_OP_UPGRADE:
	case APP_OP_RESOLVE:
	case APP_OP_ABORT:
		ARG("upgrade");
		break;
	case APP_OP_ROLLBACK:
		ARG("rollback");
		break;
	case APP_OP_OPT_OUT:
	case APP_OP_OPT_IN:
		ARG("opt-out");
		break;
	}
	ARG("--dir");
	ARG(dir);
	if (j->op == APP_OP_OPT_OUT || j->op == APP_OP_OPT_IN) {
		ARG(j->op == APP_OP_OPT_OUT ? "on" : "off");
	} else {
		ARG("--url");
		ARG(u->url);
	}
	if (j->op == APP_OP_INSTALL || j->op == APP_OP_UPGRADE) {
		ARG("--release");
		ARG(u->tree);
		ARG("--version");
		ARG(u->version);
	}
	if (j->op == APP_OP_INSTALL) {
		OPT("--title", j->title);
		OPT("--admin", j->admin);
		OPT("--email", j->email);
		OPT("--db", j->db);
		OPT("--dbname", u->rec.dbname);
	}
	if (j->op == APP_OP_UPGRADE && j->dry_run)
		ARG("--dry-run");
	if (j->op == APP_OP_RESOLVE)
		ARG("--resolve");
	if (j->op == APP_OP_ABORT)
		ARG("--abort");
	if (j->json)
		ARG("--json");
	argv[n] = NULL;
	return 0;
#undef ARG
#undef OPT
}

/*
 * A mass upgrade's output, for the locker to read: appended to
 * ~/.lockerd-upgrades.log, opened here, as the locker, in its sandbox
 * (O_NOFOLLOW: a symlink there is the locker's own business, refused),
 * never read by the master.  Without it, the output is dropped.
 */
static void
all_output(const struct app_unit *u)
{
	char	path[PATH_MAX];
	time_t	now = time(NULL);
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", u->spec.home, APP_ALL_LOG);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return;
	dprintf(fd, "== %s upgrade --all: %s at web_scripts/%s to %s, %s", u->lr.name,
	    u->rec.app, u->rec.path, u->version, ctime(&now));
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}

/* In the child: stdio, the locker's sandbox, lockerd-app. */
static int
unit_prepare(void *arg)
{
	struct app_unit	*u = arg;
	const char	*argv[32];
	char		 dir[PATH_MAX], err[256], env[5][PATH_MAX + 16];
	char		*envp[6];
	int		 i;

	for (i = 0; i < 3; i++)
		if (dup2(u->stdio[i], i) == -1)
			_exit(127);
	if (sandbox_enter(&u->spec, err, sizeof(err)) == -1) {
		dprintf(2, "locker: sandbox: %s\n", err);
		_exit(127);
	}
	if (u->job->all)
		all_output(u);
	if (unit_argv(u, dir, sizeof(dir), argv, sizeof(argv) / sizeof(argv[0])) == -1)
		_exit(127);
	snprintf(env[0], sizeof(env[0]), "HOME=%s", u->spec.home);
	snprintf(env[1], sizeof(env[1]), "USER=%s", u->spec.locker);
	snprintf(env[2], sizeof(env[2]), "LOGNAME=%s", u->spec.locker);
	snprintf(env[3], sizeof(env[3]), "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(env[4], sizeof(env[4]), "LANG=C.UTF-8");
	for (i = 0; i < 5; i++)
		envp[i] = env[i];
	envp[5] = NULL;
	execve(APP_JAIL_PROG, (char *const *)argv, envp);
	dprintf(2, "locker: %s: %s\n", APP_JAIL_PROG, strerror(errno));
	_exit(127);
}

static void unit_exit(struct child *t, int status);

/* Start u's task; 0, or -1 (nothing started). */
int
app_unit_start(struct app_unit *u)
{
	struct child *t;

	memset(&u->spec, 0, sizeof(u->spec));
	task_spec(&u->spec, u->home, &u->lr);
	if ((t = task_spawn(&u->lr, unit_prepare, u, u->stdio, 3)) == NULL)
		return -1;
	for (int k = 0; k < 3; k++) {
		close(u->stdio[k]);
		u->stdio[k] = -1;
	}
	t->on_exit = unit_exit;
	t->exit_arg = u;
	u->task = t;
	u->code = -1;
	u->busy_next = busy;
	busy = u;
	u->job->running++;
	return 0;
}

/* ------------------------------------------------------------ the record */

static void
record_upgrade(const struct app_job *j, struct app_unit *u, struct app_rec *r, int code)
{
	if (j->op == APP_OP_UPGRADE && j->dry_run)
		return;
	switch (code) {
	case APPX_OK:
		if (j->op == APP_OP_UPGRADE || j->op == APP_OP_RESOLVE) {
			snprintf(r->previous, sizeof(r->previous), "%s", r->version);
			snprintf(r->version, sizeof(r->version), "%s",
			    j->op == APP_OP_UPGRADE ? u->version : r->target);
		}
		snprintf(r->state, sizeof(r->state), "ok");
		r->target[0] = '\0';
		break;
	case APPX_CURRENT:
		if (j->op == APP_OP_UPGRADE)
			snprintf(r->version, sizeof(r->version), "%s", u->version);
		snprintf(r->state, sizeof(r->state), "ok");
		break;
	case APPX_OPTED_OUT:
		r->opted_out = 1;
		break;
	case APPX_CONFLICT:
		snprintf(r->state, sizeof(r->state), "conflict");
		if (j->op == APP_OP_UPGRADE)
			snprintf(r->target, sizeof(r->target), "%s", u->version);
		break;
	}
}

/* What the exit code says, into the directory. */
static void
unit_record(struct app_unit *u)
{
	const struct app_job	*j = u->job;
	struct app_rec		 r, was;
	char			 err[256];

	if (j->op == APP_OP_INSTALL) {
		if (u->code == APPX_OK && app_dir_put(M->dir, &u->rec) == -1)
			log_warnx("app: %s/%s installed, but not recorded", u->lr.name,
			    u->rec.path);
		return;
	}
	if (app_dir_get(M->dir, u->lr.name, u->rec.path, &r) != 1)
		return;		/* gone meanwhile (locker removed) */
	memcpy(&was, &r, sizeof(was));
	switch (j->op) {
	case APP_OP_ROLLBACK:
		if (u->code == APPX_OK && r.previous[0] != '\0') {
			snprintf(r.version, sizeof(r.version), "%s", r.previous);
			r.previous[0] = '\0';
		}
		if (u->code == APPX_OK)
			snprintf(r.state, sizeof(r.state), "ok");
		break;
	case APP_OP_OPT_OUT:
	case APP_OP_OPT_IN:
		if (u->code == APPX_OK)
			r.opted_out = j->op == APP_OP_OPT_OUT;
		break;
	default:
		record_upgrade(j, u, &r, u->code);
		break;
	}
	/* updated: when the row last changed (a dry run, a refusal change nothing) */
	if (memcmp(&r, &was, sizeof(r)) != 0 && app_dir_put(M->dir, &r) == -1)
		log_warnx("app: %s/%s: the outcome was not recorded", u->lr.name, u->rec.path);
	if (u->code != APPX_OK && u->code != APPX_CURRENT && !j->dry_run)
		dir_audit(M->dir, "app result", u->lr.name, app_result_name(u->code, 0), err,
		    sizeof(err));
}

/* A single verb's last word, after lockerd-app's own. */
static void
unit_answer(struct ctl_client *c, const struct app_unit *u)
{
	const char *p = u->rec.path, *n = u->lr.name;

	switch (u->code) {
	case APPX_OK:
	case APPX_CURRENT:
		done(c, u->code, NULL);
		return;
	case APPX_OPTED_OUT:
		done(c, u->code, "%s/%s is opted out of upgrades (locker upgrade --opt-in %s "
		    "--path %s)", n, p, n, p);
		return;
	case APPX_CONFLICT:
		if (u->job->dry_run)
			done(c, u->code, "%s/%s: the upgrade would conflict in the files listed; "
			    "nothing was changed", n, p);
		else
			done(c, u->code, "%s/%s: the merge conflicts; the old version still "
			    "serves. Fix the files listed, then: locker upgrade %s --path %s "
			    "--resolve (or --abort)", n, p, n, p);
		return;
	case APPX_ROLLED_BACK:
		done(c, u->code, "%s/%s: the upgrade failed and was rolled back", n, p);
		return;
	case APPX_REFUSED:
		done(c, u->code, "%s/%s: refused: the install is not sound (see above)", n, p);
		return;
	}
	done(c, u->code ? u->code : 1, "%s/%s: lockerd-app failed (exit %d)", n, p, u->code);
}

static void
unit_exit(struct child *t, int status)
{
	struct app_unit	*u = t->exit_arg;
	struct app_job	*j = u->job;

	u->task = NULL;
	u->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	busy_drop(u);
	j->running--;
	j->ended++;
	unit_record(u);
	if (j->all) {
		app_all_unit_done(j, u);
		return;
	}
	if (j->c != NULL) {
		j->c->app_job = NULL;
		unit_answer(j->c, u);
	}
	app_job_free(j);
}
