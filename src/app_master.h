/*
 * app_master.h: the master's side of the autoinstallers (issue 16).
 *
 * The master validates every argument of `locker install|installs|upgrade|
 * rollback` (app_valid.c), picks the release an install or upgrade goes to
 * (app_release.c: Debian's package tree, or app-releases/APP/VERSION),
 * keeps the table of installs (app_dir.c, schema 12) and runs lockerd-app
 * as the locker in its sandbox (ctl_app.c, ctl_app_all.c).  It never reads
 * anything inside an install: what a locker wrote is read only by
 * lockerd-app, as that locker (app.h).  It records an install's outcome
 * from the task's exit code alone (APP_EXIT_*, the same numbers as app.h).
 */
#ifndef APP_MASTER_H
#define APP_MASTER_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"

#define APP_NAME_MAX		15
#define APP_VERSION_MAX		63	/* app_version_ok() takes 48 */
#define APP_TEXT_MAX		100	/* --title */
#define APP_USER_MAX		60	/* --admin */
#define APP_EMAIL_MAX		100
#define APP_DBNAME_MAX		64
#define APP_URL_MAX		(HOSTNAME_MAX + SUBDIR_MAX + 32)
/* In a locker's home: what lockerd-app said in each mass upgrade. */
#define APP_ALL_LOG		".lockerd-upgrades.log"

/* lockerd-app's exit codes (app.h's APP_EXIT_*). */
#define APPX_OK			0
#define APPX_USAGE		1
#define APPX_CURRENT		10
#define APPX_OPTED_OUT		11
#define APPX_CONFLICT		12
#define APPX_ROLLED_BACK	13
#define APPX_REFUSED		14

/* What the master knows of each app: nothing of its files. */
struct app_kind {
	const char	*name;		/* "wordpress" */
	const char	*package;	/* Debian's tree */
	const char	*version_file;	/* in the tree: where its version is written */
	const char	*db_short;	/* its databases: LOCKER+wp, +wp2, ...; NULL none */
	int		 sql;		/* 0 none, 1 optional (--db mariadb), 2 required */
	int		 sql_db;	/* a database of its own (phpMyAdmin: the account only) */
};
const struct app_kind *app_kind_find(const char *name);
extern const struct app_kind app_kinds[];	/* ends with a NULL name */

/* One row of `locker installs` (kind APP_ROW_INSTALL) or of a mass
 * upgrade's report (APP_ROW_RESULT). */
#define APP_ROW_INSTALL		1
#define APP_ROW_RESULT		2
struct ctl_app {
	uint32_t	kind;
	char		locker[LOCKER_NAME_MAX + 1];
	char		app[APP_NAME_MAX + 1];
	char		path[SUBDIR_MAX + 1];
	char		version[APP_VERSION_MAX + 1];
	char		available[APP_VERSION_MAX + 1];	/* newest release, "" none */
	char		state[16];		/* ok, conflict */
	char		url[APP_URL_MAX + 1];
	uint8_t		opted_out;
	uint8_t		pad[3];
	int32_t		code;			/* RESULT: lockerd-app's exit code */
	char		result[16];		/* RESULT: upgraded, current, ... */
	int64_t		updated;		/* unix time */
};

/* ------------------------------------------------------------ app_valid.c */
/* Each: 0, or -1 with why (what is wrong, for the user). */
int	app_subdir_check(const char *s, char *why, size_t whylen);
int	app_text_check(const char *what, const char *s, size_t max, char *why, size_t whylen);
int	app_user_check(const char *s, char *why, size_t whylen);
int	app_email_check(const char *s, char *why, size_t whylen);
int	app_version_check(const char *s, char *why, size_t whylen);
/* The name a result has in the report, from lockerd-app's exit code. */
const char *app_result_name(int code, int dry_run);

/* ------------------------------------------------------------ app_release.c */
/* A tree's version as its app writes it (a root-owned file of Debian's, or
 * of the administrator's release): 0, or -1. */
int	app_version_read(const struct app_kind *k, const char *tree, char *out, size_t len);
/* The release of app k to go to: want (a version) or, "" / NULL, the newest;
 * its tree and version.  0, or -1 with why. */
int	app_release_pick(const struct app_kind *k, const char *releases, const char *want,
	    char *tree, size_t treesz, char *version, size_t versionsz, char *why, size_t whylen);

/* ------------------------------------------------------------ app_dir.c */
struct directory;
struct app_rec {
	char		locker[LOCKER_NAME_MAX + 1];
	char		path[SUBDIR_MAX + 1];
	char		app[APP_NAME_MAX + 1];
	char		version[APP_VERSION_MAX + 1];
	char		state[16];
	char		dbname[APP_DBNAME_MAX + 1];
	char		target[APP_VERSION_MAX + 1];	/* state conflict: the merge's */
	char		previous[APP_VERSION_MAX + 1];	/* before the last upgrade */
	int		opted_out;
	int64_t		updated;
};
/* 1 found, 0 none, -1 error. */
int	app_dir_get(struct directory *d, const char *locker, const char *path,
	    struct app_rec *r);
int	app_dir_put(struct directory *d, const struct app_rec *r);	/* insert or replace */
/* Each row (locker NULL: every locker's; app NULL: every app); cb's
 * non-zero stops.  0, or -1. */
int	app_dir_foreach(struct directory *d, const char *locker, const char *app,
	    int (*cb)(const struct app_rec *r, void *arg), void *arg);

#endif
