/*
 * app_dokuwiki.c: the DokuWiki recipe.  Debian splits DokuWiki across
 * /usr/share/dokuwiki (code), /etc/dokuwiki (conf/) and /var/lib/dokuwiki
 * (data/, templates, plugins), glued by an inc/preload.php that points it
 * at those places.  An install is upstream's own layout instead, all in
 * the locker's directory: the copy follows lib/tpl and lib/plugins into
 * /var/lib (layout() needs nothing more there), conf/ is copied from
 * /etc/dokuwiki with savedir put back to ./data, Debian's preload.php is
 * left out, and configure() writes what DokuWiki's install.php writes:
 * conf/local.php, conf/users.auth.php (the admin, a bcrypt hash: DokuWiki
 * verifies $2y$ with crypt()), conf/acl.auth.php, and .htaccess from
 * DokuWiki's own .htaccess.dist (data/, conf/, bin/, inc/ carry their own
 * "deny all" .htaccess, data/'s written here).
 *
 * data/ is not in git (.gitignore): the pages are the locker's content,
 * not code; a rollback of the code must not roll back what people wrote
 * since, DokuWiki has no schema an upgrade changes, and its attic keeps
 * the pages' history already.  users.auth.php and acl.auth.php are the
 * wiki's own run-time data too (the admin pages rewrite them).
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "app_recipe.h"

#define DW_ETC	"/etc/dokuwiki"

/* Debian's shims; layout() and configure() put upstream's things there. */
static const char *const dw_replaced[] = {
	".htaccess",		/* -> /etc/dokuwiki/htaccess: .htaccess.dist copied instead */
	"inc/preload.php",	/* points conf and data at /etc and /var/lib */
	"lib/plugins/testing",	/* DokuWiki's unit-test plugin, root's alone (0700) in Debian */
	NULL
};

/* Of /etc/dokuwiki: Debian's web-server snippets and the shims configure() writes. */
static const char *const dw_conf_skip[] = {
	"apache.conf", "lighttpd.conf", "local.php", "users.auth.php", "acl.auth.php", NULL
};

static const char *const dw_data_dirs[] = {
	"pages", "attic", "media", "media_attic", "media_meta", "meta", "cache", "index", "locks",
	"tmp", "log", NULL
};

static int
dw_version(const char *tree, char *out, size_t len)
{
	char	 path[4096], line[128];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/VERSION", tree);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* `2022-07-31b "Igor"`: the date and letter are the version. */
	n = strcspn(line, " \t\r\n");
	line[n] = '\0';
	if (n == 0 || n >= len || !app_version_ok(line))
		return -1;
	snprintf(out, len, "%s", line);
	return 0;
}

/* conf/dokuwiki.php with $conf['savedir'] back to upstream's ./data. */
static int
dw_savedir(int dirfd)
{
	static char	 text[65536], out[65536];
	char		*p, *eol;
	int		 n;

	if ((n = app_read_file(dirfd, "conf/dokuwiki.php", text, sizeof(text))) < 0) {
		app_err("conf/dokuwiki.php: %s", strerror(errno));
		return -1;
	}
	if ((p = strstr(text, "$conf['savedir']")) == NULL)
		return 0;
	eol = strchr(p, '\n');
	*p = '\0';
	snprintf(out, sizeof(out), "%s$conf['savedir'] = './data';%s", text, eol ? eol : "\n");
	return app_write_file(dirfd, "conf/dokuwiki.php", out, 0644);
}

static int
dw_layout(struct app_ctx *ctx)
{
	char	 why[512];
	int	 cfd;

	if (app_mkdirs(ctx->dirfd, "conf", 0755) == -1 || (cfd = app_open_dir(ctx->dirfd, "conf")) == -1)
		return -1;
	if (app_copy_tree(DW_ETC, cfd, dw_conf_skip, why, sizeof(why)) == -1) {
		app_err("%s", why);
		close(cfd);
		return -1;
	}
	close(cfd);
	return dw_savedir(ctx->dirfd);
}

/* The admin's password as DokuWiki's PassHash verifies it: bcrypt ($2y$). */
static int
dw_hash(const char *password, char *out, size_t len)
{
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data	 cd;
	const char		*h;

	memset(&cd, 0, sizeof(cd));
	if (crypt_gensalt_rn("$2y$", 10, NULL, 0, salt, sizeof(salt)) == NULL ||
	    (h = crypt_r(password, salt, &cd)) == NULL || h[0] == '*' || strlen(h) >= len)
		return -1;
	snprintf(out, len, "%s", h);
	return 0;
}

static int
dw_data(struct app_ctx *ctx)
{
	char	 rel[64];
	size_t	 i;

	for (i = 0; dw_data_dirs[i] != NULL; i++) {
		snprintf(rel, sizeof(rel), "data/%s", dw_data_dirs[i]);
		if (app_mkdirs(ctx->dirfd, rel, 0755) == -1)
			return -1;
	}
	return app_write_file(ctx->dirfd, "data/.htaccess",
	    "## no access to the data directory (DokuWiki's own)\n"
	    "<IfModule mod_authz_core.c>\n    Require all denied\n</IfModule>\n"
	    "<IfModule !mod_authz_core.c>\n    Order allow,deny\n    Deny from all\n</IfModule>\n", 0644);
}

static int
dw_users(struct app_ctx *ctx)
{
	char	 hash[256], text[1024];

	/* users.auth.php is login:hash:name:mail:groups; a ':' would shift the fields. */
	if (strpbrk(ctx->admin, ": ") != NULL || (ctx->email && strchr(ctx->email, ':'))) {
		app_err("dokuwiki: the admin's name and email cannot hold ':' or a space");
		return -1;
	}
	if (dw_hash(ctx->password, hash, sizeof(hash)) == -1) {
		app_err("dokuwiki: no bcrypt hash of the password");
		return -1;
	}
	snprintf(text, sizeof(text),
	    "# users.auth.php\n# <?php exit()?>\n# Don't modify the lines above\n#\n"
	    "# Userfile\n#\n# Format:\n#\n# login:passwordhash:Real Name:email:groups,comma,separated\n\n"
	    "%s:%s:%s:%s:admin,user\n", ctx->admin, hash, ctx->admin, ctx->email ? ctx->email : "");
	explicit_bzero(hash, sizeof(hash));
	return app_write_file(ctx->dirfd, "conf/users.auth.php", text, 0600);
}

static int
dw_configure(struct app_ctx *ctx)
{
	char	 title[300], local[1024], htaccess[4096];
	int	 n;

	if (app_php_quote(ctx->title, title, sizeof(title)) == -1)
		return -1;
	snprintf(local, sizeof(local),
	    "<?php\n/*\n * DokuWiki's local settings, written by lockerd install; yours to edit\n"
	    " * (upgrades merge their changes with yours).\n */\n"
	    "$conf['title'] = %s;\n$conf['lang'] = 'en';\n$conf['license'] = 'cc-by-sa';\n"
	    "$conf['useacl'] = 1;\n$conf['superuser'] = '@admin';\n"
	    "$conf['disableactions'] = 'register';\n", title);
	/* what install.php writes for a "public wiki": all read, users edit */
	if (app_write_file(ctx->dirfd, "conf/local.php", local, 0644) == -1 || dw_users(ctx) == -1 ||
	    app_write_file(ctx->dirfd, "conf/acl.auth.php",
	    "# acl.auth.php\n# <?php exit()?>\n# Don't modify the lines above\n#\n"
	    "# Access Control Lists\n#\n# Written by lockerd install\n"
	    "*               @ALL          1\n*               @user         8\n", 0600) == -1 ||
	    dw_data(ctx) == -1)
		return -1;
	if ((n = app_read_file(ctx->dirfd, ".htaccess.dist", htaccess, sizeof(htaccess))) < 0) {
		app_err("dokuwiki: .htaccess.dist: %s", strerror(errno));
		return -1;
	}
	return app_write_file(ctx->dirfd, ".htaccess", htaccess, 0644);
}

/*
 * The wiki answers: DokuWiki's own command-line tool loads inc/init.php
 * (the configuration, the data directories) and lists nothing; and the
 * served tree is the version asked for.
 */
static int
dw_check(struct app_ctx *ctx)
{
	char	 v[64];
	int	 rc;

	if (dw_version(ctx->dir, v, sizeof(v)) == -1 || strcmp(v, ctx->version) != 0) {
		app_err("dokuwiki: VERSION is not %s", ctx->version);
		return -1;
	}
	rc = app_php(ctx, "bin/dwpage.php", (const char *const[]){ "--help", NULL });
	if (rc != 0) {
		app_err("dokuwiki: bin/dwpage.php --help failed (%d): DokuWiki does not load", rc);
		return -1;
	}
	return 0;
}

const struct app_recipe app_dokuwiki = {
	.name = "dokuwiki",
	.package = "/usr/share/dokuwiki",
	.sql = APP_SQL_NONE,
	.gitignore = "/data/\n/conf/users.auth.php\n/conf/acl.auth.php\n/conf/*.bak\n",
	.version = dw_version,
	.layout = dw_layout,
	.configure = dw_configure,
	.check = dw_check,
	.replaced = dw_replaced,
};
