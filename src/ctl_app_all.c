/*
 * ctl_app_all.c: `locker upgrade --all APP [--to VERSION] [--dry-run]`
 * (root): every install of APP in every locker upgraded, each by
 * lockerd-app as that locker in its own sandbox, at most
 * app-upgrade-parallel at once, then a report: one row per install with
 * its result, named from lockerd-app's exit code alone (upgraded, current,
 * opted-out, conflict, rolled-back, refused, failed).  What each task
 * prints goes to ~/.lockerd-upgrades.log in its locker's home, opened by
 * the task as the locker (app_task.c): the master never reads it.  A root
 * that leaves does not stop the upgrades: the rest still run and are
 * recorded.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_job.h"

struct all_scan {
	struct app_job	*j;
	size_t		 cap;
	int		 failed;
};

static int
scan_cb(const struct app_rec *r, void *arg)
{
	struct all_scan	*s = arg;
	struct app_unit	*u, *grown;

	if (s->j->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		if ((grown = realloc(s->j->u, s->cap * sizeof(*grown))) == NULL) {
			s->failed = 1;
			return 1;
		}
		s->j->u = grown;
	}
	u = &s->j->u[s->j->n];
	memset(u, 0, sizeof(*u));
	u->stdio[0] = u->stdio[1] = u->stdio[2] = -1;
	u->code = -1;
	if (dir_locker_get(M->dir, r->locker, &u->lr) != 1)
		return 0;	/* removed meanwhile */
	u->rec = *r;
	s->j->n++;
	return 0;
}

/* Its result row to root, if root is still there. */
static void
report(struct app_job *j, const struct app_unit *u, const char *result)
{
	struct ctl_app a;

	if (j->c == NULL)
		return;
	memset(&a, 0, sizeof(a));
	a.kind = APP_ROW_RESULT;
	snprintf(a.locker, sizeof(a.locker), "%s", u->lr.name);
	snprintf(a.app, sizeof(a.app), "%s", u->rec.app);
	snprintf(a.path, sizeof(a.path), "%s", u->rec.path);
	snprintf(a.version, sizeof(a.version), "%s", u->rec.version);
	snprintf(a.available, sizeof(a.available), "%s", u->version);
	snprintf(a.result, sizeof(a.result), "%s", result);
	snprintf(a.url, sizeof(a.url), "%s", u->url);
	a.code = u->code;
	a.opted_out = u->rec.opted_out != 0;
	reply(j->c, MSG_CTL_APP, &a, sizeof(a));
}

static int
result_ok(int code)
{
	return code == APPX_OK || code == APPX_CURRENT || code == APPX_OPTED_OUT;
}

/* Every unit ended: the last word, and the job goes. */
static void
finish(struct app_job *j)
{
	size_t	i;
	int	bad = 0;

	for (i = 0; i < j->n; i++)
		bad |= !result_ok(j->u[i].code);
	if (j->c != NULL) {
		j->c->app_job = NULL;
		done(j->c, bad ? 1 : 0, NULL);
	}
	app_job_free(j);
}

/* Start units until app-upgrade-parallel run; those that cannot start, or
 * whose install has a task already, are reported at once. */
static void
start_more(struct app_job *j)
{
	struct app_unit	*u;
	int		 k;

	while (j->next < j->n && j->running < M->conf.app_upgrade_parallel) {
		u = &j->u[j->next++];
		if (app_busy(u->lr.name, u->rec.path)) {
			u->code = APPX_USAGE;
			j->ended++;
			report(j, u, "busy");
			continue;
		}
		for (k = 0; k < 3; k++)
			u->stdio[k] = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (u->stdio[0] == -1 || u->stdio[1] == -1 || u->stdio[2] == -1 ||
		    app_unit_start(u) == -1) {
			u->code = APPX_USAGE;
			j->ended++;
			report(j, u, "failed");
		}
	}
}

void
app_all_unit_done(struct app_job *j, struct app_unit *u)
{
	report(j, u, app_result_name(u->code, j->dry_run));
	start_more(j);
	if (j->ended == j->n && j->running == 0)
		finish(j);
}

void
app_all_start(struct ctl_client *c, struct app_job *j)
{
	struct all_scan	 s;
	char		 tree[PATH_MAX / 2], version[APP_VERSION_MAX + 1], why[512];
	size_t		 i;

	j->all = 1;
	if (app_missing() != NULL) {
		done(c, 1, "%s", app_missing());
		app_job_free(j);
		return;
	}
	if (app_release_pick(j->k, M->conf.app_releases, j->to, tree, sizeof(tree), version,
	    sizeof(version), why, sizeof(why)) == -1) {
		done(c, 1, "%s", why);
		app_job_free(j);
		return;
	}
	memset(&s, 0, sizeof(s));
	s.j = j;
	if (app_dir_foreach(M->dir, NULL, j->k->name, scan_cb, &s) == -1 || s.failed) {
		done(c, 1, "the directory could not be read");
		app_job_free(j);
		return;
	}
	for (i = 0; i < j->n; i++) {
		struct app_unit *u = &j->u[i];

		u->job = j;
		snprintf(u->tree, sizeof(u->tree), "%s", tree);
		snprintf(u->version, sizeof(u->version), "%s", version);
		app_url(u->lr.name, u->rec.path, u->url, sizeof(u->url));
	}
	snprintf(why, sizeof(why), "%s to %s%s: %zu installs", j->k->name, version,
	    j->dry_run ? " (dry run)" : "", j->n);
	if (!j->dry_run && dir_audit(M->dir, "app upgrade --all", "", why, why,
	    sizeof(why)) == -1) {
		done(c, 1, "%s", why);
		app_job_free(j);
		return;
	}
	if (j->n == 0) {
		done(c, 0, NULL);
		app_job_free(j);
		return;
	}
	c->app_job = j;
	start_more(j);
	if (j->ended == j->n && j->running == 0)
		finish(j);
}
