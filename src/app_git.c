/*
 * app_git.c: the install's repository (app-design.md "An install on
 * disk"): branch upstream, one commit per pristine release made without
 * touching the working tree; branch main, the locker's configuration and
 * edits with upstream merged in; tags lockerd/backup-N before each upgrade,
 * each with its metadata and database dump beside it in .git/lockerd/.
 *
 * Every git command runs with settings that keep our commands from running
 * the locker's code as a side effect: no hooks, no fsmonitor, no ssh, no
 * transport, no replace refs, no system or global configuration, and a
 * repository configuration that holds only keys git itself writes
 * (app_git_config_sound(): a filter, diff or merge driver, an include, a
 * core.worktree or any other key refuses the install), so a .gitattributes
 * naming a driver finds none and git's built-in behaviour applies.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

static const char *const git_safety[] = {
	"/usr/bin/git", "--no-replace-objects",
	"-c", "core.hooksPath=/dev/null",
	"-c", "core.fsmonitor=false",
	"-c", "core.sshCommand=false",
	"-c", "protocol.allow=never",
	"-c", "safe.directory=*",
	"-c", "commit.gpgSign=false",
	"-c", "tag.gpgSign=false",
	"-c", "core.pager=cat",
	"-c", "core.editor=true",
	"-c", "core.autocrlf=false",
	"-c", "core.symlinks=true",
	"-c", "core.quotePath=false",
	"-c", "gc.auto=0",
	"-c", "maintenance.auto=false",
	"-c", "advice.detachedHead=false",
	"-c", "merge.renames=true",
	NULL
};

/* git with the safety settings, extra env, in cwd; exit status or -1. */
int
app_git_env(const char *const *env, const char *cwd, char *out, size_t outlen,
    const char *const *args)
{
	const char	*argv[96];
	struct app_run	 r = { .argv = argv, .env = env, .cwd = cwd, .out = out, .outlen = outlen,
			       .timeout_s = 600 };
	static char	 errbuf[8192];
	size_t		 n = 0, i;
	int		 rc;

	for (i = 0; git_safety[i] != NULL; i++)
		argv[n++] = git_safety[i];
	for (i = 0; args[i] != NULL && n < 95; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (out == NULL) {	/* keep its chatter; show it if it fails */
		r.out = errbuf;
		r.outlen = sizeof(errbuf);
		r.err_too = 1;
	}
	rc = app_run(&r);
	if ((rc != 0 && out == NULL && !r.quiet) || app_verbose)
		fprintf(stderr, "%s", r.out);
	return rc;
}

int
app_git(struct app_ctx *ctx, const char *worktree, char *out, size_t outlen, const char *const *args)
{
	return app_git_env(NULL, worktree ? worktree : ctx->dir, out, outlen, args);
}

/* The same, with the arguments inline; NULL-terminated. */
#define GIT(ctx, wt, out, outlen, ...) \
	app_git((ctx), (wt), (out), (outlen), (const char *const[]){ __VA_ARGS__, NULL })

static void
chomp(char *s)
{
	size_t	 n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* A ref's commit, or -1. */
int
app_git_rev(struct app_ctx *ctx, const char *wt, const char *ref, char *id, size_t il)
{
	if (GIT(ctx, wt, id, il, "rev-parse", "-q", "--verify", ref) != 0)
		return -1;
	chomp(id);
	return id[0] ? 0 : -1;
}

/* ------------------------------------------------------------ soundness */

/* Keys git itself writes; anything else in .git/config refuses the install. */
static const char *const config_allowed[] = {
	"core.repositoryformatversion", "core.filemode", "core.bare", "core.logallrefupdates",
	"core.ignorecase", "core.precomposeunicode", "core.symlinks", "user.name", "user.email",
	"gc.auto", NULL
};

static int
config_key_ok(const char *k)
{
	size_t	 i;

	for (i = 0; config_allowed[i] != NULL; i++)
		if (strcmp(config_allowed[i], k) == 0)
			return 1;
	/* branch.NAME.remote/merge: data, read by nothing we run */
	return strncmp(k, "branch.", 7) == 0 && (strlen(k) > 7 + 7) &&
	    (strcmp(k + strlen(k) - 7, ".remote") == 0 || strcmp(k + strlen(k) - 6, ".merge") == 0);
}

/*
 * .git a real directory of ours, its configuration only git's own keys,
 * no alternates (another repository's objects), not bare.
 */
int
app_git_config_sound(int dirfd, char *why, size_t wl)
{
	static char	 out[65536];
	char		 path[64], *line, *save = NULL;
	const char	*args[] = { "config", "--file", "config", "--no-includes", "--list", NULL };
	struct stat	 st;
	int		 gfd;

	if (fstatat(dirfd, ".git", &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(why, wl, ".git is %s", errno == ENOENT ? "missing" : "not a real directory");
		return -1;
	}
	if (st.st_uid != getuid()) {
		snprintf(why, wl, ".git is not the locker's");
		return -1;
	}
	if ((gfd = openat(dirfd, ".git", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(why, wl, ".git: %s", strerror(errno));
		return -1;
	}
	if (fstatat(gfd, "config", &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
	    fstatat(gfd, "objects/info/alternates", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		snprintf(why, wl, ".git/config is not a regular file, or objects/info/alternates exists");
		close(gfd);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", gfd);
	if (app_git_env(NULL, path, out, sizeof(out), args) != 0) {
		snprintf(why, wl, ".git/config cannot be read");
		close(gfd);
		return -1;
	}
	close(gfd);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char	*eq = strchr(line, '=');

		if (eq != NULL)
			*eq = '\0';
		if (!config_key_ok(line) || (strcmp(line, "core.bare") == 0 && eq && strcmp(eq + 1, "false"))) {
			snprintf(why, wl, ".git/config sets %s (only git's own keys are allowed: "
			    "a driver, hook path or include there could run code)", line);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ upstream */

int
app_git_init(struct app_ctx *ctx, const struct app_recipe *rc)
{
	(void)rc;
	if (GIT(ctx, NULL, NULL, 0, "init", "-q", "-b", "main") != 0)
		return -1;
	return app_mkdirs(ctx->dirfd, ".git/lockerd", 0700);
}

/* The recipe's run-time data as pathspecs left out of the pristine import. */
static size_t
exclude_specs(const struct app_recipe *rc, char specs[][256], size_t max)
{
	char		 buf[4096], *line, *save = NULL;
	size_t		 n = 0;

	snprintf(buf, sizeof(buf), "%s", rc->gitignore ? rc->gitignore : "");
	for (line = strtok_r(buf, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
		size_t	 l;

		while (*line == '/')
			line++;
		l = strlen(line);
		while (l > 0 && line[l - 1] == '/')
			line[--l] = '\0';
		if (l == 0 || line[0] == '#' || line[0] == '!')
			continue;
		snprintf(specs[n++], 256, ":(exclude%s)%s", strpbrk(line, "*?[") ? ",glob" : "", line);
	}
	return n;
}

/*
 * The pristine tree onto branch upstream: a temporary index whose work
 * tree is the pristine directory, so the install's own working tree is
 * never touched; a child of upstream's last commit, unless the tree is
 * that commit's already.
 */
int
app_git_import(struct app_ctx *ctx, const struct app_recipe *rc, const char *tree)
{
	char		 idx[4200], gitdir[4200], wt[4200], tid[128], parent[128] = "", ptree[128], cid[128];
	char		 msg[256], specs[32][256], ref[300];
	const char	*env[] = { idx, gitdir, wt, NULL }, *args[48];
	size_t		 ns = exclude_specs(rc, specs, 32), n = 0, i;

	snprintf(idx, sizeof(idx), "GIT_INDEX_FILE=%s/.git/lockerd/import.index", ctx->dir);
	snprintf(gitdir, sizeof(gitdir), "GIT_DIR=%s/.git", ctx->dir);
	snprintf(wt, sizeof(wt), "GIT_WORK_TREE=%s", tree);
	unlink(idx + strlen("GIT_INDEX_FILE="));
	args[n++] = "add";
	args[n++] = "-A";
	args[n++] = "-f";
	args[n++] = "--";
	args[n++] = ".";
	for (i = 0; i < ns; i++)
		args[n++] = specs[i];
	args[n] = NULL;
	if (app_git_env(env, tree, NULL, 0, args) != 0 ||
	    app_git_env(env, tree, tid, sizeof(tid), (const char *const[]){ "write-tree", NULL }) != 0) {
		app_err("importing %s into branch upstream failed", tree);
		return -1;
	}
	/* the index stays (.git/lockerd/import.index): an install takes it over */
	chomp(tid);
	if (app_git_rev(ctx, NULL, "refs/heads/upstream", parent, sizeof(parent)) == 0) {
		snprintf(ref, sizeof(ref), "%s^{tree}", parent);
		if (app_git_rev(ctx, NULL, ref, ptree, sizeof(ptree)) == 0 && strcmp(ptree, tid) == 0)
			return 0;	/* this release is upstream's last already */
	} else
		parent[0] = '\0';
	snprintf(msg, sizeof(msg), "%s %s (pristine)", rc->name, ctx->version);
	if ((parent[0] ? GIT(ctx, NULL, cid, sizeof(cid), "commit-tree", tid, "-p", parent, "-m", msg) :
	    GIT(ctx, NULL, cid, sizeof(cid), "commit-tree", tid, "-m", msg)) != 0) {
		app_err("commit of %s failed", msg);
		return -1;
	}
	chomp(cid);
	return GIT(ctx, NULL, NULL, 0, "update-ref", "refs/heads/upstream", cid) == 0 ? 0 : -1;
}

/* Everything the locker changed, committed on main (nothing: no commit). */
int
app_git_commit_all(struct app_ctx *ctx, const char *msg)
{
	if (GIT(ctx, NULL, NULL, 0, "add", "-A") != 0)
		return -1;
	if (GIT(ctx, NULL, NULL, 0, "diff", "--cached", "--quiet") == 0)
		return 0;
	return GIT(ctx, NULL, NULL, 0, "commit", "-q", "--no-verify", "-m", msg) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ backups */

/* The highest N of the tags lockerd/backup-N (0: none). */
static int
backup_last_n(struct app_ctx *ctx)
{
	static char	 out[16384];
	char		*line, *save = NULL;
	int		 max = 0;

	if (GIT(ctx, NULL, out, sizeof(out), "tag", "-l", "lockerd/backup-*") != 0)
		return 0;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int n = atoi(line + strlen("lockerd/backup-"));

		if (n > max)
			max = n;
	}
	return max;
}

int
app_git_last_backup(struct app_ctx *ctx, char *tag, size_t tl)
{
	int	 n = backup_last_n(ctx);

	if (n == 0)
		return -1;
	snprintf(tag, tl, "lockerd/backup-%d", n);
	return 0;
}

/* The database beside the tag: MariaDB dumped with the locker's my.cnf, SQLite copied. */
static int
db_save(struct app_ctx *ctx, const struct app_recipe *rc, int n, int restore)
{
	/* argv lives as long as the function: app_run() reads it at the end. */
	char		 cnf[4200], file[4200], src[4200], rf[4300];
	const char	*argv[8];
	struct app_run	 r = { .argv = argv, .quiet = 0, .timeout_s = 1800 };

	snprintf(cnf, sizeof(cnf), "--defaults-file=%s/.sql/my.cnf", ctx->home);
	if (ctx->db != NULL && strcmp(ctx->db, "mariadb") == 0 && ctx->dbname != NULL) {
		snprintf(file, sizeof(file), "%s/.git/lockerd/backup-%d.sql", ctx->dir, n);
		snprintf(rf, sizeof(rf), "--result-file=%s", file);
		if (restore) {
			argv[0] = "/usr/bin/mariadb", argv[1] = cnf, argv[2] = ctx->dbname;
			argv[3] = NULL;
			r.stdin_path = file;
		} else {
			argv[0] = "/usr/bin/mariadb-dump", argv[1] = cnf;
			argv[2] = "--single-transaction", argv[3] = "--routines";
			argv[4] = "--add-drop-table", argv[5] = rf, argv[6] = ctx->dbname;
			argv[7] = NULL;
		}
		return app_run(&r) == 0 ? 0 : -1;
	}
	if (ctx->db != NULL && strcmp(ctx->db, "sqlite") == 0 && rc->sqlite != NULL) {
		snprintf(src, sizeof(src), "%s/%s", ctx->dir, rc->sqlite);
		snprintf(file, sizeof(file), "%s/.git/lockerd/backup-%d.sqlite", ctx->dir, n);
		argv[0] = "/bin/rm", argv[1] = "-rf", argv[2] = "--", argv[3] = src, argv[4] = NULL;
		if (restore && app_run(&r) != 0)
			return -1;
		argv[0] = "/bin/cp", argv[1] = "-a", argv[2] = "--";
		argv[3] = restore ? file : src, argv[4] = restore ? src : file, argv[5] = NULL;
		return app_run(&r) == 0 ? 0 : -1;
	}
	return 0;
}

/* Tag main as lockerd/backup-N, keep the metadata and the database beside it. */
int
app_git_backup(struct app_ctx *ctx, const struct app_recipe *rc, char *tag, size_t tl)
{
	char	 meta[4096], name[64];
	int	 n = backup_last_n(ctx) + 1;

	snprintf(tag, tl, "lockerd/backup-%d", n);
	snprintf(name, sizeof(name), ".git/lockerd/backup-%d.meta", n);
	if (app_read_file(ctx->dirfd, APP_META_FILE, meta, sizeof(meta)) < 0 ||
	    app_write_file(ctx->dirfd, name, meta, 0600) == -1) {
		app_err("backup: %s could not be kept", APP_META_FILE);
		return -1;
	}
	if (db_save(ctx, rc, n, 0) == -1) {
		app_err("backup: the database could not be dumped");
		return -1;
	}
	if (GIT(ctx, NULL, NULL, 0, "tag", tag, "main") != 0) {
		app_err("backup: tag %s failed", tag);
		return -1;
	}
	return 0;
}

/* main and the working tree back to the tag; its metadata and database too. */
int
app_git_restore(struct app_ctx *ctx, const struct app_recipe *rc, const char *tag)
{
	char	 meta[4096], name[64];
	int	 n = atoi(tag + strlen("lockerd/backup-")), rc_ = 0;

	if (GIT(ctx, NULL, NULL, 0, "reset", "-q", "--hard", tag) != 0) {
		app_err("restore: git reset to %s failed", tag);
		rc_ = -1;
	}
	snprintf(name, sizeof(name), ".git/lockerd/backup-%d.meta", n);
	if (app_read_file(ctx->dirfd, name, meta, sizeof(meta)) < 0 ||
	    app_write_file(ctx->dirfd, APP_META_FILE, meta, 0600) == -1) {
		app_err("restore: %s of %s is missing", APP_META_FILE, tag);
		rc_ = -1;
	}
	if (db_save(ctx, rc, n, 1) == -1) {
		app_err("restore: the database of %s could not be loaded", tag);
		rc_ = -1;
	}
	return rc_;
}
