/*
 * app.h: lockerd-app, the autoinstaller that runs as a locker in its
 * sandbox (issue 16).  The master starts it with validated arguments and
 * reads only its exit code; everything inside an install (its files, its
 * git repository, its metadata) is read here, as the locker, never by root.
 *
 * One file per part: app.c (main, dispatch), app_exec.c (running git, php
 * and friends safely), app_git.c (the repository: upstream branch, merges,
 * backups), app_copy.c (a release copied, symlinks dereferenced),
 * app_meta.c (the .lockerd-app metadata parser), and one file per recipe.
 */
#ifndef APP_H
#define APP_H

#include <stddef.h>
#include <sys/types.h>

/* Where every jail sees the program (app-master's jail view binds it). */
#define APP_JAIL_PROG	"/usr/lib/lockerd/lockerd-app"

/* Exit codes: the master records the outcome from these alone. */
#define APP_EXIT_OK		0	/* done */
#define APP_EXIT_USAGE		1	/* usage or other error */
#define APP_EXIT_CURRENT	10	/* already at that version */
#define APP_EXIT_OPTED_OUT	11	/* .lockerd-no-upgrade present */
#define APP_EXIT_CONFLICT	12	/* merge conflict: old version serving, files on stdout */
#define APP_EXIT_ROLLED_BACK	13	/* a step failed, the backup restored (reason on stderr) */
#define APP_EXIT_REFUSED	14	/* the install is not sound (reason on stderr) */

#define APP_SQL_NONE		0
#define APP_SQL_OPTIONAL	1	/* MediaWiki: SQLite unless asked for MariaDB */
#define APP_SQL_REQUIRED	2	/* WordPress, phpMyAdmin */

#define APP_META_FILE	".lockerd-app"
#define APP_OPTOUT_FILE	".lockerd-no-upgrade"

struct app_ctx {			/* one install or upgrade, as lockerd-app sees it */
	const char	*dir;		/* the install directory (absolute, in the jail) */
	int		 dirfd;		/* open on it, O_DIRECTORY|O_NOFOLLOW */
	const char	*url;		/* https?://host/path/ with a final slash */
	const char	*home;		/* the locker's home */
	const char	*release;	/* the pristine tree being installed/upgraded to */
	const char	*version, *from;/* target version; the version before (upgrade) */
	const char	*title, *admin, *email;	/* validated by the master; defaults filled here */
	char		 password[64];	/* the admin password lockerd-app generated (install) */
	const char	*db;		/* "sqlite", "mariadb" or NULL (no database) */
	const char	*dbname;	/* MariaDB database, or NULL */
};

struct app_recipe {
	const char	*name;		/* "wordpress" */
	const char	*package;	/* "/usr/share/wordpress" (Debian's tree) */
	int		 sql;		/* APP_SQL_NONE, APP_SQL_OPTIONAL, APP_SQL_REQUIRED */
	const char	*gitignore;	/* lines for .gitignore: run-time data */
	int (*version)(const char *tree, char *out, size_t len);
	int (*layout)(struct app_ctx *);	/* after the copy: Debian's shims replaced by real files */
	int (*configure)(struct app_ctx *);	/* config files + .htaccess, then the app's own installer */
	int (*check)(struct app_ctx *);		/* after install/upgrade: the app answers */
	int (*db_upgrade)(struct app_ctx *);	/* after an upgrade's merge, or NULL */
	/*
	 * Paths of the release (relative, NULL-terminated, or NULL) that the
	 * copy leaves out because layout() puts the real thing there (a
	 * Debian shim pointing where the jail cannot or must not read: e.g.
	 * MediaWiki's LocalSettings.php -> /var/lib/mediawiki/...).  Anything
	 * else the copy cannot read is an error, never skipped silently.
	 */
	const char *const *replaced;
	/*
	 * The SQLite database (a file or a directory, relative to the
	 * install) that a backup copies when ctx->db is "sqlite", or NULL.
	 */
	const char	*sqlite;
};

extern const struct app_recipe app_dokuwiki, app_wordpress, app_phpmyadmin, app_mediawiki;
const struct app_recipe *app_recipe_find(const char *name);

/* ------------------------------------------------------------ app_exec.c */

/* What one run of a program looks like; NULL/0 fields take defaults. */
struct app_run {
	const char *const *argv;	/* argv[0] an absolute path */
	const char *const *env;		/* extra NAME=VALUE (the safe base is always set) */
	const char	*cwd;		/* working directory, or NULL */
	const char	*stdin_path;	/* a file on stdin, or NULL: /dev/null */
	char		*out;		/* captured stdout (and stderr if err_too), NUL-ended, or NULL: inherit */
	size_t		 outlen;
	int		 err_too;	/* stderr into out as well */
	int		 quiet;		/* stdout/stderr to /dev/null when not captured */
	unsigned	 timeout_s;	/* 0: 300 s */
};

/* What the run ends with: the JSON's fields beyond app/from/to/url. */
struct app_result {
	const char	*result;	/* "installed", "upgraded", ... */
	char		 app[32], from[64], to[64];
	char		 state[16];	/* info: ok|conflict */
	int		 opted_out;	/* info */
	char		 reason[512];	/* the first error */
	char		 files[8192];	/* conflicting files, one a line */
};
extern struct app_result app_res;
extern int app_verbose;
extern const char *app_home;	/* the locker's home: HOME of every program */
int	 app_run(const struct app_run *r);	/* exit status, 128+sig, or -1 */
void	 app_stdio_check(void);	/* outputs whose reader went -> /dev/null */
int	 app_php(struct app_ctx *ctx, const char *script, const char *const *args);
int	 app_write_file(int dirfd, const char *rel, const char *text, mode_t mode);
int	 app_read_file(int dirfd, const char *rel, char *buf, size_t len);	/* bytes, or -1 */
void	 app_random_password(char *out, size_t len);
int	 app_mycnf(const char *home, char *user, size_t ul, char *pass, size_t pl, char *host, size_t hl);
int	 app_open_dir(int dirfd, const char *rel);	/* beneath dirfd, no symlink */
int	 app_mkdirs(int dirfd, const char *rel, mode_t mode);
int	 app_path_sound(const char *home, const char *dir, char *why, size_t wl);
void	 app_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 app_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------ app_copy.c */

/* Copy a release tree into dirfd: symlinks dereferenced, none kept. */
int	 app_copy_tree(const char *src, int dstfd, const char *const *skip, char *why, size_t wl);

/* ------------------------------------------------------------ app_meta.c */

int	 app_version_ok(const char *v);	/* [A-Za-z0-9._+~-], no "..": a dir name and a tag */

struct app_meta {
	char	app[32], version[64], installed[32], url[512], admin[64], password[64];
	char	db[16], dbname[128], state[16];
};
/* Parse .lockerd-app's key=value lines; -1 with why on a malformed file. */
int	 app_meta_parse(const char *text, size_t len, struct app_meta *m, char *why, size_t wl);
int	 app_meta_format(const struct app_meta *m, char *out, size_t len);
int	 app_meta_load(int dirfd, struct app_meta *m, char *why, size_t wl);
int	 app_meta_save(int dirfd, const struct app_meta *m);

/* ------------------------------------------------------------ app_git.c */

/* Every git command, with the design's safety settings. */
int	 app_git(struct app_ctx *ctx, const char *worktree, char *out, size_t outlen, const char *const *args);
int	 app_git_env(const char *const *env, const char *cwd, char *out, size_t outlen,
	    const char *const *args);
int	 app_git_rev(struct app_ctx *ctx, const char *wt, const char *ref, char *id, size_t il);
int	 app_git_init(struct app_ctx *ctx, const struct app_recipe *rc);
int	 app_git_import(struct app_ctx *ctx, const struct app_recipe *rc, const char *tree);
int	 app_git_commit_all(struct app_ctx *ctx, const char *msg);
int	 app_git_config_sound(int dirfd, char *why, size_t wl);
int	 app_git_backup(struct app_ctx *ctx, const struct app_recipe *rc, char *tag, size_t tl);
int	 app_git_restore(struct app_ctx *ctx, const struct app_recipe *rc, const char *tag);
int	 app_git_last_backup(struct app_ctx *ctx, char *tag, size_t tl);


/* ------------------------------------------------------------ app_flow.c */

/* Each returns an APP_EXIT_* code; app_res says what happened. */
int	 app_install(struct app_ctx *ctx, const struct app_recipe *rc);
int	 app_upgrade(struct app_ctx *ctx, int dry, int resolve, int abort_);
int	 app_rollback(struct app_ctx *ctx);
int	 app_optout(struct app_ctx *ctx, int on);
int	 app_info(struct app_ctx *ctx);

#endif
