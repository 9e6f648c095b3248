/*
 * app_flow.c: what each verb of lockerd-app does, step by step (the
 * design's "Upgrade algorithm"): install, upgrade (and its --resolve,
 * --abort, --dry-run), rollback, opt-out, info.  The steps themselves are
 * app_git.c's (the repository), app_copy.c's (a release's files) and the
 * recipe's (configuration, the app's own installer and checks).
 *
 * The promise: the site is on the new version and working, or on the old
 * one and working.  The merge happens in a staging worktree
 * (.git/lockerd/stage) while the live tree keeps serving; only a clean
 * merge is fast-forwarded into the live tree, and a failure after that
 * puts the backup tag (and the database dumped beside it) back.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"

#define STAGE	".git/lockerd/stage"
#define PRISTINE ".git/lockerd/pristine"
#define TARGET	".git/lockerd/target"		/* the version a conflicted upgrade goes to */
#define CONFLICTS ".git/lockerd/conflicts"	/* its files, one a line */

#define GIT(ctx, wt, out, outlen, ...) \
	app_git((ctx), (wt), (out), (outlen), (const char *const[]){ __VA_ARGS__, NULL })

static int
refuse(const char *why)
{
	app_err("refused: %s", why);
	return APP_EXIT_REFUSED;
}

/* rm -rf of a path of ours beneath the install (rm never follows symlinks). */
static int
remove_tree(struct app_ctx *ctx, const char *rel)
{
	char		 path[4200];
	struct app_run	 r = { .argv = (const char *const[]){ "/bin/rm", "-rf", "--", path, NULL } };

	snprintf(path, sizeof(path), "%s/%s", ctx->dir, rel);
	return app_run(&r) == 0 ? 0 : -1;
}

static int
exists(int dirfd, const char *rel)
{
	struct stat	 st;

	return fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * A first install: the pristine tree just imported becomes the working
 * tree by renames (the install holds only .git), and the import's index
 * the repository's, so the files are neither written nor hashed twice.
 */
static int
pristine_to_live(struct app_ctx *ctx, int pfd)
{
	int		 dfd = dup(pfd), rc = 0;
	DIR		*d;
	struct dirent	*e;

	if (dfd == -1 || (d = fdopendir(dfd)) == NULL)
		return -1;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strcmp(e->d_name, ".git") == 0 ||
		    renameat(pfd, e->d_name, ctx->dirfd, e->d_name) == -1) {
			app_err("%s: %s", e->d_name, strerror(errno ? errno : EEXIST));
			rc = -1;
		}
	}
	closedir(d);
	if (rc == 0 && renameat(ctx->dirfd, ".git/lockerd/import.index", ctx->dirfd, ".git/index") == -1) {
		app_err(".git/index: %s", strerror(errno));
		rc = -1;
	}
	return rc;
}

/*
 * The release as it will sit on branch upstream: copied (symlinks
 * dereferenced) into .git/lockerd/pristine, then the recipe's layout()
 * there, then imported.  The working tree is not touched.
 */
static int
pristine_import(struct app_ctx *ctx, const struct app_recipe *rc, int into_live)
{
	struct app_ctx	 p = *ctx;
	char		 path[4200], why[512];
	int		 pfd, ok;

	/* upstream's last commit is this release already (an upgrade tried again) */
	snprintf(why, sizeof(why), "%s %s (pristine)\n", rc->name, ctx->version);
	if (!into_live && GIT(ctx, NULL, path, sizeof(path), "log", "-1", "--format=%s",
	    "refs/heads/upstream") == 0 && strcmp(path, why) == 0)
		return 0;
	remove_tree(ctx, PRISTINE);
	if (app_mkdirs(ctx->dirfd, PRISTINE, 0755) == -1 ||
	    (pfd = app_open_dir(ctx->dirfd, PRISTINE)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", ctx->dir, PRISTINE);
	p.dir = path;
	p.dirfd = pfd;
	if (app_copy_tree(ctx->release, pfd, rc->replaced, why, sizeof(why)) == -1) {
		app_err("%s", why);
		ok = 0;
	} else
		ok = (rc->layout == NULL || rc->layout(&p) == 0) && app_git_import(ctx, rc, path) == 0;
	if (ok && into_live)
		ok = pristine_to_live(ctx, pfd) == 0;
	close(pfd);
	unlinkat(ctx->dirfd, ".git/lockerd/import.index", 0);
	remove_tree(ctx, PRISTINE);
	return ok ? 0 : -1;
}

/* The release's own version must be the one the master named. */
static int
release_version_ok(struct app_ctx *ctx, const struct app_recipe *rc)
{
	char	 v[64];

	if (rc->version == NULL)
		return 0;
	if (rc->version(ctx->release, v, sizeof(v)) == -1) {
		app_err("%s: no %s version found in it", ctx->release, rc->name);
		return -1;
	}
	if (strcmp(v, ctx->version) != 0) {
		app_err("%s is %s %s, not %s", ctx->release, rc->name, v, ctx->version);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ install */

static int
dir_empty(int fd)
{
	int		 dfd = dup(fd), n = 0;
	DIR		*d;
	struct dirent	*e;

	if (dfd == -1 || (d = fdopendir(dfd)) == NULL)
		return dfd == -1 ? 0 : (close(dfd), 0);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0;
}

/* The install directory made (or found empty), beneath a sound parent. */
static int
install_dir(struct app_ctx *ctx, int *made)
{
	char		 parent[4096], why[512];
	const char	*base;
	int		 pfd, fd;
	struct stat	 st;

	snprintf(parent, sizeof(parent), "%s", ctx->dir);
	if ((base = strrchr(parent, '/')) == NULL || base[1] == '\0')
		return refuse("--dir: no last component");
	parent[base - parent] = '\0';
	base = ctx->dir + (base - parent) + 1;
	if ((pfd = app_path_sound(ctx->home, parent, why, sizeof(why))) == -1)
		return refuse(why);
	*made = mkdirat(pfd, base, 0755) == 0;
	fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(pfd);
	if (fd == -1 || fstat(fd, &st) == -1 || st.st_uid != getuid())
		return refuse("the install directory is a symlink, not a directory, or not the locker's");
	/* Only a new or empty directory: a failed install removes what is in it. */
	if (!*made && !dir_empty(fd)) {
		close(fd);
		return refuse("the path is used (the directory is not empty)");
	}
	ctx->dirfd = fd;
	return 0;
}

static int
write_gitignore(struct app_ctx *ctx, const struct app_recipe *rc)
{
	char	 text[4096];

	snprintf(text, sizeof(text), "# lockerd-app: run-time data and metadata, kept out of merges\n"
	    "/" APP_META_FILE "\n/" APP_OPTOUT_FILE "\n%s", rc->gitignore ? rc->gitignore : "");
	return app_write_file(ctx->dirfd, ".gitignore", text, 0644);
}

static int
write_meta(struct app_ctx *ctx, const char *app, const char *state)
{
	struct app_meta	 m;
	time_t		 now = time(NULL);

	memset(&m, 0, sizeof(m));
	snprintf(m.app, sizeof(m.app), "%s", app);
	snprintf(m.version, sizeof(m.version), "%s", ctx->version);
	strftime(m.installed, sizeof(m.installed), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	snprintf(m.url, sizeof(m.url), "%s", ctx->url ? ctx->url : "");
	snprintf(m.admin, sizeof(m.admin), "%s", ctx->admin ? ctx->admin : "");
	snprintf(m.password, sizeof(m.password), "%s", ctx->password);
	snprintf(m.db, sizeof(m.db), "%s", ctx->db ? ctx->db : "");
	snprintf(m.dbname, sizeof(m.dbname), "%s", ctx->dbname ? ctx->dbname : "");
	snprintf(m.state, sizeof(m.state), "%s", state);
	return app_meta_save(ctx->dirfd, &m);
}

static int
install_steps(struct app_ctx *ctx, const struct app_recipe *rc)
{
	/* main starts as upstream's first commit, its tree the working tree */
	if (release_version_ok(ctx, rc) == -1 || app_git_init(ctx, rc) == -1 ||
	    pristine_import(ctx, rc, 1) == -1 ||
	    GIT(ctx, NULL, NULL, 0, "update-ref", "refs/heads/main", "refs/heads/upstream") != 0)
		return -1;
	if (write_gitignore(ctx, rc) == -1 || write_meta(ctx, rc->name, "ok") == -1)
		return -1;
	if (rc->configure == NULL) {
		app_err("%s: the recipe is not written yet", rc->name);
		return -1;
	}
	/* The metadata again: configure() may name the admin (phpMyAdmin's
	 * is the locker's MariaDB account, with no password of its own). */
	if (rc->configure(ctx) == -1 || write_meta(ctx, rc->name, "ok") == -1 ||
	    app_git_commit_all(ctx, "lockerd install: configuration") == -1)
		return -1;
	if (rc->check != NULL && rc->check(ctx) == -1) {
		app_err("%s does not answer after the install", rc->name);
		return -1;
	}
	return 0;
}

int
app_install(struct app_ctx *ctx, const struct app_recipe *rc)
{
	int	 made = 0, rc_;

	if ((rc_ = install_dir(ctx, &made)) != 0)
		return rc_;
	if (rc->sql == APP_SQL_REQUIRED && ctx->db == NULL)
		ctx->db = "mariadb";
	if (rc->sql == APP_SQL_OPTIONAL && ctx->db == NULL)
		ctx->db = "sqlite";
	if (rc->sql == APP_SQL_NONE)
		ctx->db = NULL;
	if (ctx->admin == NULL)
		ctx->admin = "admin";
	if (ctx->title == NULL)
		ctx->title = rc->name;
	app_random_password(ctx->password, 21);
	snprintf(app_res.app, sizeof(app_res.app), "%s", rc->name);
	snprintf(app_res.to, sizeof(app_res.to), "%s", ctx->version);
	if (install_steps(ctx, rc) == -1) {
		/* Nothing half-made stays: the directory goes if we made it, its
		 * contents (all ours: it was empty) if not. */
		const char	*rm[] = { "/bin/rm", "-rf", "--", ctx->dir, NULL };
		const char	*empty[] = { "/usr/bin/find", ctx->dir, "-mindepth", "1", "-delete", NULL };
		struct app_run	 r = { .argv = made ? rm : empty };

		app_run(&r);
		ctx->password[0] = '\0';
		app_res.result = "failed";
		return APP_EXIT_ROLLED_BACK;
	}
	app_res.result = "installed";
	app_say("installed %s %s at %s", rc->name, ctx->version, ctx->url);
	if (ctx->password[0] != '\0')
		app_say("admin: %s  password: %s", ctx->admin, ctx->password);
	return APP_EXIT_OK;
}

/* ------------------------------------------------------------ soundness */

/* Every file of the install the locker's (a walk, no symlink followed). */
static int
tree_owned(int dirfd, char *rel, size_t rl, char *why, size_t wl, int depth)
{
	int		 fd = dup(dirfd), rc = 0;
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	size_t		 before = strlen(rel);

	if (fd == -1 || (d = fdopendir(fd)) == NULL)
		return fd == -1 ? -1 : (close(fd), -1);
	rewinddir(d);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(rel + before, rl - before, "%s%s", before ? "/" : "", e->d_name);
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;	/* gone meanwhile */
		if (st.st_uid != getuid()) {
			snprintf(why, wl, "%s is not the locker's (uid %u)", rel, (unsigned)st.st_uid);
			rc = -1;
		} else if (S_ISDIR(st.st_mode) && depth < 64) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub != -1) {
				rc = tree_owned(sub, rel, rl, why, wl, depth + 1);
				close(sub);
			}
		}
		rel[before] = '\0';
	}
	closedir(d);
	return rc;
}

/*
 * One lockerd-app at a time on an install (a mass upgrade and the locker's
 * own, say): a lock on .git/lockerd/lock, held until we exit.  The second
 * is told to come back, nothing done.
 */
static int
lock_install(struct app_ctx *ctx)
{
	int	 gfd, fd;

	if (app_mkdirs(ctx->dirfd, ".git/lockerd", 0700) == -1 ||
	    (gfd = app_open_dir(ctx->dirfd, ".git/lockerd")) == -1)
		return -1;
	fd = openat(gfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(gfd);
	if (fd == -1) {
		app_err(".git/lockerd/lock: %s", strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		app_err("another lockerd-app is working on this install; try again when it is done");
		close(fd);
		return -1;
	}
	return 0;	/* fd kept open: the lock lasts as long as we run */
}

/*
 * Step 1 of an upgrade: the directory, .git, the metadata, the repository
 * configuration, every file the locker's, HEAD on main.  -> recipe, or NULL
 * (refused: the reason given).
 */
static const struct app_recipe *
sound_install(struct app_ctx *ctx, struct app_meta *m)
{
	const struct app_recipe	*rc;
	char			 why[512], head[256], rel[4096] = "";

	if ((ctx->dirfd = app_path_sound(ctx->home, ctx->dir, why, sizeof(why))) == -1 ||
	    app_git_config_sound(ctx->dirfd, why, sizeof(why)) == -1 ||
	    app_meta_load(ctx->dirfd, m, why, sizeof(why)) == -1 ||
	    tree_owned(ctx->dirfd, rel, sizeof(rel), why, sizeof(why), 0) == -1) {
		refuse(why);
		return NULL;
	}
	if (lock_install(ctx) == -1) {
		app_res.result = "busy";
		return NULL;
	}
	if ((rc = app_recipe_find(m->app)) == NULL) {
		refuse(APP_META_FILE " names no app lockerd knows");
		return NULL;
	}
	if (GIT(ctx, NULL, head, sizeof(head), "symbolic-ref", "-q", "HEAD") != 0 ||
	    strcmp(head, "refs/heads/main\n") != 0) {
		refuse("HEAD is not on branch main");
		return NULL;
	}
	snprintf(app_res.app, sizeof(app_res.app), "%s", m->app);
	snprintf(app_res.from, sizeof(app_res.from), "%s", m->version);
	ctx->from = app_res.from;	/* m->version changes with the state */
	ctx->db = m->db[0] ? m->db : NULL;
	ctx->dbname = m->dbname[0] ? m->dbname : NULL;
	if (ctx->admin == NULL && m->admin[0])
		ctx->admin = m->admin;
	return rc;
}

/* Busy (another lockerd-app holds the install) is no verdict on it. */
static int
not_sound(void)
{
	return app_res.result != NULL && strcmp(app_res.result, "busy") == 0 ?
	    APP_EXIT_USAGE : APP_EXIT_REFUSED;
}

/* ------------------------------------------------------------ upgrade */

static void
report_files(const char *list)
{
	char	 buf[8192], *line, *save = NULL;

	snprintf(app_res.files, sizeof(app_res.files), "%s", list);
	snprintf(buf, sizeof(buf), "%s", list);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		app_say("conflict: %s", line);
}

/* The conflicted files of the staging merge, one a line, into out. */
static int
stage_conflicts(struct app_ctx *ctx, char *stage, char *out, size_t len)
{
	if (GIT(ctx, stage, out, len, "diff", "--name-only", "--diff-filter=U") != 0)
		return -1;
	return 0;
}

static int
stage_drop(struct app_ctx *ctx)
{
	char	 stage[4200];

	snprintf(stage, sizeof(stage), "%s/%s", ctx->dir, STAGE);
	if (exists(ctx->dirfd, STAGE))
		GIT(ctx, NULL, NULL, 0, "worktree", "remove", "--force", stage);
	remove_tree(ctx, STAGE);
	GIT(ctx, NULL, NULL, 0, "worktree", "prune");
	unlinkat(ctx->dirfd, TARGET, 0);
	unlinkat(ctx->dirfd, CONFLICTS, 0);
	return 0;
}

static int
set_state(struct app_ctx *ctx, struct app_meta *m, const char *state, const char *version)
{
	snprintf(m->state, sizeof(m->state), "%s", state);
	if (version != NULL)
		snprintf(m->version, sizeof(m->version), "%s", version);
	return app_meta_save(ctx->dirfd, m);
}

/*
 * Step 6: the merge commit into the live tree (a fast-forward), then the
 * app's database upgrade and its check; any failure after the switch puts
 * the backup back.
 */
static int
switch_live(struct app_ctx *ctx, const struct app_recipe *rc, struct app_meta *m, const char *tag,
    const char *merged)
{
	stage_drop(ctx);
	if (GIT(ctx, NULL, NULL, 0, "merge", "-q", "--ff-only", merged) != 0) {
		/* git changed nothing: the old version is still serving */
		app_err("the live tree changed during the upgrade; nothing was switched");
		set_state(ctx, m, "ok", NULL);
		app_res.result = "rolled-back";
		return APP_EXIT_ROLLED_BACK;
	}
	if (set_state(ctx, m, "ok", ctx->version) == -1 ||
	    (rc->db_upgrade != NULL && rc->db_upgrade(ctx) == -1) ||
	    (rc->check != NULL && rc->check(ctx) == -1)) {
		app_err("%s %s failed its database upgrade or check; back to %s", rc->name, ctx->version, tag);
		app_git_restore(ctx, rc, tag);
		app_res.result = "rolled-back";
		snprintf(app_res.to, sizeof(app_res.to), "%s", ctx->version);
		return APP_EXIT_ROLLED_BACK;
	}
	app_res.result = "upgraded";
	snprintf(app_res.to, sizeof(app_res.to), "%s", ctx->version);
	app_say("upgraded %s from %s to %s (backup: %s)", rc->name, ctx->from, ctx->version, tag);
	return APP_EXIT_OK;
}

/*
 * A clean merge needs no working tree: git merge-tree computes it in the
 * object store and the merge commit is made from its tree.  Only a merge
 * with conflicts gets the staging worktree (.git/lockerd/stage), where the
 * locker finds git's markers to resolve; either way the live tree is not
 * touched.  0 clean (merged set), 1 conflicts (files in list), -1 error.
 */
static int
merge_in_store(struct app_ctx *ctx, const char *ours, const char *msg, char *merged, size_t ml,
    char *list, size_t ll)
{
	static char	 out[16384];
	char		*nl;
	int		 st;

	st = GIT(ctx, NULL, out, sizeof(out), "merge-tree", "--write-tree", "--name-only",
	    "--no-messages", ours, "refs/heads/upstream");
	if ((st != 0 && st != 1) || (nl = strchr(out, '\n')) == NULL)
		return -1;
	*nl = '\0';
	if (st == 1) {
		snprintf(list, ll, "%s", nl + 1);
		return 1;
	}
	if (GIT(ctx, NULL, merged, ml, "commit-tree", out, "-p", "refs/heads/main", "-p",
	    "refs/heads/upstream", "-m", msg) != 0)
		return -1;
	merged[strcspn(merged, "\n")] = '\0';
	return 0;
}

/* Steps 4-5: the release onto upstream, merged with main outside the live tree. */
static int
stage_merge(struct app_ctx *ctx, const struct app_recipe *rc, struct app_meta *m, int dry,
    char *merged, size_t ml)
{
	char		 stage[4200], msg[256], list[8192], ours[128];
	int		 st;

	snprintf(stage, sizeof(stage), "%s/%s", ctx->dir, STAGE);
	stage_drop(ctx);
	snprintf(msg, sizeof(msg), "lockerd upgrade: %s %s -> %s", rc->name, ctx->from, ctx->version);
	/*
	 * A dry run commits nothing: the locker's uncommitted edits to tracked
	 * files are merged as git stash create records them (a commit no ref
	 * names), so it finds the conflicts the real upgrade would.
	 */
	ours[0] = '\0';
	if (dry && GIT(ctx, NULL, ours, sizeof(ours), "stash", "create") == 0)
		ours[strcspn(ours, "\n")] = '\0';
	if (ours[0] == '\0')
		snprintf(ours, sizeof(ours), "refs/heads/main");
	if (pristine_import(ctx, rc, 0) == -1 ||
	    (st = merge_in_store(ctx, ours, msg, merged, ml, list, sizeof(list))) == -1) {
		app_err("the merge of %s %s failed", rc->name, ctx->version);
		return APP_EXIT_ROLLED_BACK;
	}
	if (st == 0) {
		if (dry) {
			app_res.result = "would-upgrade";
			app_say("dry run: %s %s -> %s merges cleanly", rc->name, ctx->from, ctx->version);
		}
		return APP_EXIT_OK;
	}
	app_res.result = "conflict";
	snprintf(app_res.to, sizeof(app_res.to), "%s", ctx->version);
	if (dry) {
		report_files(list);
		return APP_EXIT_CONFLICT;
	}
	/* The conflicted merge, for the locker to resolve, in the staging worktree. */
	if (GIT(ctx, NULL, NULL, 0, "worktree", "add", "-q", "--detach", stage, "main") != 0 ||
	    GIT(ctx, stage, NULL, 0, "merge", "-q", "--no-ff", "--no-edit", "-m", msg,
	    "refs/heads/upstream") == 0 ||
	    stage_conflicts(ctx, stage, list, sizeof(list)) == -1 || list[0] == '\0') {
		app_err("the staging merge of %s %s failed", rc->name, ctx->version);
		stage_drop(ctx);
		app_res.result = NULL;
		return APP_EXIT_ROLLED_BACK;
	}
	report_files(list);
	if (app_write_file(ctx->dirfd, TARGET, ctx->version, 0600) == -1 ||
	    app_write_file(ctx->dirfd, CONFLICTS, list, 0600) == -1 ||
	    set_state(ctx, m, "conflict", NULL) == -1)
		return APP_EXIT_USAGE;
	app_say("%s %s -> %s: conflicts; the old version is serving. Fix the files in %s, then "
	    "upgrade --resolve (or --abort)", rc->name, ctx->from, ctx->version, stage);
	return APP_EXIT_CONFLICT;
}

/* Conflict markers left in a file of the staging tree: 1, else 0. */
static int
has_markers(const char *stage, const char *rel)
{
	static char	 buf[1 << 20];
	int		 fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n;
	const char	*p;

	if (fd == -1)
		return 0;
	n = app_read_file(fd, rel, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return 0;
	for (p = buf; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "<<<<<<< ", 8) == 0 || strncmp(p, ">>>>>>> ", 8) == 0)
			return 1;
	return 0;
}

/* --resolve: the locker fixed the staging tree; commit it and switch. */
static int
resolve(struct app_ctx *ctx, const struct app_recipe *rc, struct app_meta *m)
{
	char	 stage[4200], list[8192], left[8192] = "", version[64], tag[64], *line, *save = NULL;
	char	 merged[128];
	size_t	 off = 0;

	snprintf(stage, sizeof(stage), "%s/%s", ctx->dir, STAGE);
	if (app_read_file(ctx->dirfd, TARGET, version, sizeof(version)) < 0 || !app_version_ok(version) ||
	    app_git_last_backup(ctx, tag, sizeof(tag)) == -1) {
		app_err("no upgrade to resolve (no target version or backup): --abort it");
		return APP_EXIT_USAGE;
	}
	ctx->version = version;
	if (app_read_file(ctx->dirfd, CONFLICTS, list, sizeof(list)) < 0)
		list[0] = '\0';
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (has_markers(stage, line))
			off += (size_t)snprintf(left + off, off < sizeof(left) ? sizeof(left) - off : 0, "%s\n", line);
	if (left[0] == '\0' && (GIT(ctx, stage, NULL, 0, "add", "-A") != 0 ||
	    stage_conflicts(ctx, stage, left, sizeof(left)) == -1))
		return APP_EXIT_USAGE;
	if (left[0] != '\0') {
		report_files(left);
		app_res.result = "conflict";
		app_err("conflict markers are left in these files of %s", stage);
		return APP_EXIT_CONFLICT;
	}
	/* The switch is a fast-forward of the live tree: it must be as it was. */
	if (GIT(ctx, NULL, NULL, 0, "diff", "--quiet", "HEAD") != 0) {
		app_err("the live tree has changes since the conflict (git diff HEAD in %s): "
		    "undo them, or upgrade --abort and upgrade again (which keeps them)", ctx->dir);
		return APP_EXIT_USAGE;
	}
	if (GIT(ctx, stage, NULL, 0, "commit", "-q", "--no-verify", "--no-edit") != 0 ||
	    app_git_rev(ctx, stage, "HEAD", merged, sizeof(merged)) == -1) {
		app_err("the resolved merge could not be committed");
		return APP_EXIT_USAGE;
	}
	return switch_live(ctx, rc, m, tag, merged);
}

int
app_upgrade(struct app_ctx *ctx, int dry, int resolve_, int abort_)
{
	const struct app_recipe	*rc;
	struct app_meta		 m;
	char			 tag[64], msg[128], list[8192], merged[128];
	int			 conflicted, rc_;

	if ((rc = sound_install(ctx, &m)) == NULL)
		return not_sound();
	conflicted = exists(ctx->dirfd, STAGE) || strcmp(m.state, "conflict") == 0;
	if (abort_ || resolve_) {
		if (!conflicted) {
			app_err("no upgrade in conflict to %s", abort_ ? "abort" : "resolve");
			return APP_EXIT_USAGE;
		}
		if (resolve_)
			return resolve(ctx, rc, &m);
		stage_drop(ctx);
		set_state(ctx, &m, "ok", NULL);
		app_res.result = "aborted";
		app_say("upgrade aborted; %s %s as before", rc->name, m.version);
		return APP_EXIT_OK;
	}
	if (conflicted) {
		if (app_read_file(ctx->dirfd, CONFLICTS, list, sizeof(list)) >= 0)
			report_files(list);
		app_err("an upgrade is in conflict: upgrade --resolve or --abort first");
		app_res.result = "conflict";
		return APP_EXIT_CONFLICT;
	}
	if (exists(ctx->dirfd, APP_OPTOUT_FILE)) {
		app_res.result = "opted-out";
		app_say("%s at %s is opted out of upgrades (%s)", rc->name, ctx->dir, APP_OPTOUT_FILE);
		return APP_EXIT_OPTED_OUT;
	}
	if (strcmp(m.version, ctx->version) == 0) {
		app_res.result = "current";
		app_say("%s is at %s already", rc->name, m.version);
		return APP_EXIT_CURRENT;
	}
	if (release_version_ok(ctx, rc) == -1)
		return APP_EXIT_USAGE;
	if (dry)
		return stage_merge(ctx, rc, &m, 1, merged, sizeof(merged));
	snprintf(msg, sizeof(msg), "local edits before upgrade to %s", ctx->version);
	if (app_git_commit_all(ctx, msg) == -1 || app_git_backup(ctx, rc, tag, sizeof(tag)) == -1) {
		app_err("no backup could be taken; nothing changed");
		return APP_EXIT_ROLLED_BACK;
	}
	if ((rc_ = stage_merge(ctx, rc, &m, 0, merged, sizeof(merged))) != APP_EXIT_OK)
		return rc_;
	return switch_live(ctx, rc, &m, tag, merged);
}

/* ------------------------------------------------------------ the rest */

int
app_rollback(struct app_ctx *ctx)
{
	const struct app_recipe	*rc;
	struct app_meta		 m;
	char			 tag[64];

	if ((rc = sound_install(ctx, &m)) == NULL)
		return not_sound();
	if (app_git_last_backup(ctx, tag, sizeof(tag)) == -1) {
		app_err("no backup to go back to (one is taken before each upgrade)");
		return APP_EXIT_USAGE;
	}
	stage_drop(ctx);
	/* What the locker changed since is kept in history, not thrown away. */
	if (app_git_commit_all(ctx, "local edits before rollback") == -1 ||
	    app_git_restore(ctx, rc, tag) == -1)
		return APP_EXIT_USAGE;
	if (app_meta_load(ctx->dirfd, &m, app_res.reason, sizeof(app_res.reason)) == 0)
		snprintf(app_res.to, sizeof(app_res.to), "%s", m.version);
	app_res.result = "rolled-back";
	app_say("%s back to %s (%s)", rc->name, tag, app_res.to);
	return APP_EXIT_OK;
}

int
app_optout(struct app_ctx *ctx, int on)
{
	struct app_meta	 m;
	char		 why[512];

	if ((ctx->dirfd = app_path_sound(ctx->home, ctx->dir, why, sizeof(why))) == -1 ||
	    app_meta_load(ctx->dirfd, &m, why, sizeof(why)) == -1)
		return refuse(why);
	snprintf(app_res.app, sizeof(app_res.app), "%s", m.app);
	if (on && app_write_file(ctx->dirfd, APP_OPTOUT_FILE,
	    "This install is opted out of lockerd's upgrades (locker upgrade --opt-out).\n", 0644) == -1)
		return APP_EXIT_USAGE;
	if (!on && unlinkat(ctx->dirfd, APP_OPTOUT_FILE, 0) == -1 && errno != ENOENT) {
		app_err("%s: %s", APP_OPTOUT_FILE, strerror(errno));
		return APP_EXIT_USAGE;
	}
	app_res.result = on ? "opted-out" : "opted-in";
	app_say("%s at %s: %s", m.app, ctx->dir, on ? "opted out of upgrades" : "upgraded again");
	return APP_EXIT_OK;
}

int
app_info(struct app_ctx *ctx)
{
	struct app_meta	 m;
	char		 why[512];

	if ((ctx->dirfd = app_path_sound(ctx->home, ctx->dir, why, sizeof(why))) == -1 ||
	    app_meta_load(ctx->dirfd, &m, why, sizeof(why)) == -1)
		return refuse(why);
	snprintf(app_res.app, sizeof(app_res.app), "%s", m.app);
	snprintf(app_res.from, sizeof(app_res.from), "%s", m.version);
	snprintf(app_res.state, sizeof(app_res.state), "%s", m.state);
	app_res.opted_out = exists(ctx->dirfd, APP_OPTOUT_FILE);
	app_res.result = "info";
	app_say("%s %s at %s, state %s%s", m.app, m.version, m.url, m.state,
	    app_res.opted_out ? ", opted out of upgrades" : "");
	return APP_EXIT_OK;
}
