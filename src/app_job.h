/*
 * app_job.h: private to the master's autoinstaller verbs (ctl_app.c,
 * ctl_app_all.c) and their tasks (app_task.c).  A job is one verb; its
 * units are the installs it runs lockerd-app on (one, or with --all every
 * install of an app, at most app-upgrade-parallel at once).
 */
#ifndef APP_JOB_H
#define APP_JOB_H

#include "ctl.h"
#include "app_master.h"

enum app_op {
	APP_OP_INSTALL = 1,
	APP_OP_UPGRADE,
	APP_OP_RESOLVE,
	APP_OP_ABORT,
	APP_OP_ROLLBACK,
	APP_OP_OPT_OUT,
	APP_OP_OPT_IN,
};

struct app_job;

struct app_unit {
	struct app_job		*job;
	struct locker_rec	 lr;
	struct app_rec		 rec;		/* install: the row written once it worked */
	char			 tree[PATH_MAX / 2];	/* the release (install, upgrade) */
	char			 version[APP_VERSION_MAX + 1];	/* ... its version */
	char			 url[APP_URL_MAX + 1];
	char			 home[PATH_MAX];
	struct sandbox_spec	 spec;
	int			 stdio[3];	/* the CLI's, or /dev/null (--all) */
	struct child		*task;
	int			 code;		/* lockerd-app's exit code; -1 not yet */
	struct app_unit		*busy_next;
};

struct app_job {
	struct ctl_client	*c;		/* NULL once the CLI went */
	enum app_op		 op;
	const struct app_kind	*k;
	char			 title[APP_TEXT_MAX + 1];
	char			 admin[APP_USER_MAX + 1];
	char			 email[APP_EMAIL_MAX + 1];
	char			 db[8];
	char			 to[APP_VERSION_MAX + 1];
	int			 json, dry_run, all;
	struct app_unit		*u;
	size_t			 n, next, running, ended;
};

/* app_task.c */
const char *app_missing(void);		/* NULL, or why no jail has lockerd-app */
void	app_job_free(struct app_job *j);
int	app_busy(const char *locker, const char *path);
void	app_url(const char *locker, const char *path, char *out, size_t outsz);
int	app_unit_start(struct app_unit *u);	/* 0, or -1: not started */
/* ctl_app_all.c: a unit of a mass upgrade ended (recorded already). */
void	app_all_unit_done(struct app_job *j, struct app_unit *u);
void	app_all_start(struct ctl_client *c, struct app_job *j);

#endif
