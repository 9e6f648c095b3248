/*
 * app_mediawiki.c: the MediaWiki recipe of lockerd-app (issue 16).
 *
 * Debian's tree (/usr/share/mediawiki) is upstream's with four shims
 * pointing into /var/lib/mediawiki (LocalSettings.php, config/,
 * extensions/, images/), which a jail does not show; the bundled
 * extensions are in extensions-core/.  The install gets upstream's own
 * layout instead: extensions/ the bundled extensions (a real directory,
 * where the locker adds its own as MediaWiki's manual says), images/ and
 * cache/ real directories, and LocalSettings.php the one MediaWiki's own
 * maintenance/install.php writes, run as the locker in its sandbox.
 *
 * The database is SQLite in data/ inside the install (denied to the web by
 * its .htaccess, kept out of git), or on request the MariaDB database the
 * master made for it, with the locker's credentials from ~/.sql/my.cnf.
 * Short URLs: articles at URLPATH/wiki/Title, by a rewrite in the
 * install's own .htaccess.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "app_recipe.h"

/* The directory MediaWiki's SQLite files live in, relative to the install. */
#define MW_DATA		"data"

static const char *const mw_replaced[] = {
	"LocalSettings.php", "config", "extensions", "images", NULL
};

/*
 * Run-time data, never merged: the SQLite database, the caches, uploads.
 * Each directory's .htaccess stays in git (the protection is part of the
 * install, and a merge must not drop it).
 */
static const char mw_gitignore[] =
	"/" MW_DATA "/*\n"
	"!/" MW_DATA "/.htaccess\n"
	"/cache/*\n"
	"!/cache/.htaccess\n"
	"/images/*\n"
	"!/images/.htaccess\n";

static const char deny_all[] =
	"# lockerd install: run-time data of MediaWiki, never served.\n"
	"Require all denied\n";

/* What upstream's images/.htaccess does that lockerd can express: uploads
 * are served as files, never run as scripts. */
static const char images_htaccess[] =
	"# lockerd install: uploads are files, never scripts.\n"
	"<FilesMatch \"\\.(php|phtml|php[0-9]|phar|cgi|pl|py|sh)$\">\n"
	"Require all denied\n"
	"</FilesMatch>\n";

/* MW_VERSION from includes/Defines.php: define( 'MW_VERSION', '1.39.17' ); */
static int
mw_version(const char *tree, char *out, size_t len)
{
	return app_php_version(tree, "includes/Defines.php", "'MW_VERSION',", out, len);
}

/*
 * Upstream's layout from Debian's (run on the pristine tree too, so branch
 * upstream has it): extensions-core/ is upstream's extensions/ under
 * Debian's name.
 */
static int
mw_layout(struct app_ctx *ctx)
{
	if (faccessat(ctx->dirfd, "extensions", F_OK, AT_SYMLINK_NOFOLLOW) == -1 &&
	    renameat(ctx->dirfd, "extensions-core", ctx->dirfd, "extensions") == -1 &&
	    errno != ENOENT) {
		app_err("extensions-core -> extensions: %s", strerror(errno));
		return -1;
	}
	return app_mkdirs(ctx->dirfd, "extensions", 0755);
}

/*
 * The run-time directories, made by the install (never upstream's: the
 * pristine import leaves them out), each with its .htaccess, which the
 * configuration's commit keeps.  data/ is the locker's alone.
 */
static int
mw_rundirs(struct app_ctx *ctx)
{
	int	 fd;

	if (app_mkdirs(ctx->dirfd, "images", 0755) == -1 ||
	    app_mkdirs(ctx->dirfd, "cache", 0700) == -1 ||
	    app_mkdirs(ctx->dirfd, MW_DATA, 0700) == -1)
		return -1;
	if ((fd = app_open_dir(ctx->dirfd, MW_DATA)) == -1 || fchmod(fd, 0700) == -1) {
		app_err("%s: %s", MW_DATA, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	if (app_write_file(ctx->dirfd, "cache/.htaccess", deny_all, 0644) == -1 ||
	    app_write_file(ctx->dirfd, MW_DATA "/.htaccess", deny_all, 0644) == -1 ||
	    app_write_file(ctx->dirfd, "images/.htaccess", images_htaccess, 0644) == -1)
		return -1;
	return 0;
}

/*
 * url (https?://host[:port]/path/, checked by the master) split into
 * MediaWiki's $wgServer and $wgScriptPath (no final slash; "" at the root).
 */
static int
mw_split_url(const char *url, char *server, size_t sl, char *path, size_t pl)
{
	const char	*host, *slash;
	size_t		 plen;

	if ((host = strstr(url, "://")) == NULL || (slash = strchr(host + 3, '/')) == NULL) {
		app_err("%s: not an absolute URL with a path", url);
		return -1;
	}
	plen = strlen(slash);
	if ((size_t)(slash - url) >= sl || plen >= pl || slash[plen - 1] != '/') {
		app_err("%s: too long or no final slash", url);
		return -1;
	}
	memcpy(server, url, (size_t)(slash - url));
	server[slash - url] = '\0';
	memcpy(path, slash, plen - 1);		/* "/" -> "" */
	path[plen - 1] = '\0';
	return 0;
}

/*
 * Secrets reach install.php in files (its --passfile, --dbpassfile), never
 * on a command line: data/ is the locker's (0700, denied to the web, out
 * of git), and the files go as soon as install.php has read them.
 */
#define MW_PASSFILE	MW_DATA "/.lockerd-pass"
#define MW_DBPASSFILE	MW_DATA "/.lockerd-dbpass"

static void
mw_forget_secrets(struct app_ctx *ctx)
{
	int	 fd = app_open_dir(ctx->dirfd, MW_DATA);

	if (fd == -1)
		return;
	unlinkat(fd, ".lockerd-pass", 0);
	unlinkat(fd, ".lockerd-dbpass", 0);
	close(fd);
}

/* The database part of install.php's command line. */
static int
mw_db_args(struct app_ctx *ctx, const char **a, size_t *n, char *dbpath, size_t dl,
    char *dbpassfile, size_t pl, char *user, size_t ul, char *host, size_t hl)
{
	char	 pass[256];
	int	 rc;

	if (ctx->db == NULL || strcmp(ctx->db, "sqlite") == 0) {
		snprintf(dbpath, dl, "%s/%s", ctx->dir, MW_DATA);
		a[(*n)++] = "--dbtype";  a[(*n)++] = "sqlite";
		a[(*n)++] = "--dbpath";  a[(*n)++] = dbpath;
		a[(*n)++] = "--dbname";  a[(*n)++] = "wiki";
		return 0;
	}
	if (strcmp(ctx->db, "mariadb") != 0 || ctx->dbname == NULL) {
		app_err("mediawiki: --db %s needs --dbname", ctx->db);
		return -1;
	}
	if (app_mycnf(ctx->home, user, ul, pass, sizeof(pass), host, hl) == -1)
		return -1;
	rc = app_write_file(ctx->dirfd, MW_DBPASSFILE, pass, 0600);
	explicit_bzero(pass, sizeof(pass));
	if (rc == -1)
		return -1;
	snprintf(dbpassfile, pl, "%s/%s", ctx->dir, MW_DBPASSFILE);
	/*
	 * The locker's own account installs and runs the wiki (no
	 * --installdbuser: install.php then installs as --dbuser): the master
	 * made the database, so the installer makes no account, grants nothing.
	 */
	a[(*n)++] = "--dbtype";     a[(*n)++] = "mysql";
	a[(*n)++] = "--dbserver";   a[(*n)++] = host;
	a[(*n)++] = "--dbname";     a[(*n)++] = ctx->dbname;
	a[(*n)++] = "--dbuser";     a[(*n)++] = user;
	a[(*n)++] = "--dbpassfile"; a[(*n)++] = dbpassfile;
	return 0;
}

/*
 * What the install adds after install.php's LocalSettings.php: later
 * assignments win, so the installer's own lines stay as it wrote them.
 * Paths are $IP-relative (the install may move); Debian's
 * PlatformSettings.php points the cache and the logs at /var, which the
 * jail does not have.
 */
static int
mw_settings(struct app_ctx *ctx, const char *scriptpath)
{
	static char	 text[262144];
	size_t		 len;
	int		 n;

	if ((n = app_read_file(ctx->dirfd, "LocalSettings.php", text, sizeof(text))) <= 0) {
		app_err("mediawiki: install.php wrote no LocalSettings.php");
		return -1;
	}
	len = (size_t)n;
	n = snprintf(text + len, sizeof(text) - len,
	    "\n# lockerd install: short URLs (the rewrite is in .htaccess), and the\n"
	    "# install's own directories in place of Debian's under /var.\n"
	    "$wgArticlePath = \"%s/wiki/$1\";\n"
	    "$wgUsePathInfo = true;\n"
	    "$wgCacheDirectory = \"$IP/cache\";\n"
	    "$wgUploadDirectory = \"$IP/images\";\n"
	    "%s"
	    "$wgDBerrorLog = false;\n"
	    "$wgDebugLogGroups = [];\n",
	    scriptpath,
	    ctx->db == NULL || strcmp(ctx->db, "sqlite") == 0 ?
	    "$wgSQLiteDataDir = \"$IP/" MW_DATA "\";\n" : "");
	if (n < 0 || (size_t)n >= sizeof(text) - len) {
		app_err("mediawiki: LocalSettings.php too long");
		return -1;
	}
	return app_write_file(ctx->dirfd, "LocalSettings.php", text, 0600);
}

/* Short URLs as MediaWiki's manual gives them, in the install's directory. */
static int
mw_htaccess(struct app_ctx *ctx, const char *scriptpath)
{
	char	 text[2048];

	snprintf(text, sizeof(text),
	    "# lockerd install: MediaWiki's short URLs (%s/wiki/Title).\n"
	    "RewriteEngine On\n"
	    "RewriteRule ^wiki(/.*)?$ %s/index.php [L]\n",
	    scriptpath, scriptpath);
	return app_write_file(ctx->dirfd, ".htaccess", text, 0644);
}

/* MediaWiki's own maintenance/install.php, as the locker, in the install. */
static int
mw_run_installer(struct app_ctx *ctx, const char *server, const char *scriptpath)
{
	char		 dbpath[4096], dbpassfile[4096], passfile[4096];
	char		 user[128], host[256];
	const char	*a[32];
	size_t		 n = 0;

	if (mw_db_args(ctx, a, &n, dbpath, sizeof(dbpath), dbpassfile, sizeof(dbpassfile),
	    user, sizeof(user), host, sizeof(host)) == -1)
		return -1;
	if (app_write_file(ctx->dirfd, MW_PASSFILE, ctx->password, 0600) == -1)
		return -1;
	snprintf(passfile, sizeof(passfile), "%s/%s", ctx->dir, MW_PASSFILE);
	a[n++] = "--server";     a[n++] = server;
	a[n++] = "--scriptpath"; a[n++] = scriptpath;
	a[n++] = "--lang";       a[n++] = "en";
	a[n++] = "--passfile";   a[n++] = passfile;
	a[n++] = "--";
	a[n++] = ctx->title;
	a[n++] = ctx->admin;
	a[n] = NULL;
	app_say("Running MediaWiki's maintenance/install.php (%s)...",
	    ctx->db != NULL ? ctx->db : "sqlite");
	return app_php(ctx, "maintenance/install.php", a);
}

static int
mw_configure(struct app_ctx *ctx)
{
	char	 server[512], scriptpath[1024];
	int	 rc;

	if (mw_split_url(ctx->url, server, sizeof(server), scriptpath, sizeof(scriptpath)) == -1)
		return -1;
	if (mw_rundirs(ctx) == -1)
		return -1;
	rc = mw_run_installer(ctx, server, scriptpath);
	mw_forget_secrets(ctx);
	if (rc != 0) {
		app_err("mediawiki: maintenance/install.php failed");
		return -1;
	}
	if (mw_settings(ctx, scriptpath) == -1 || mw_htaccess(ctx, scriptpath) == -1)
		return -1;
	if (ctx->email != NULL && ctx->email[0] != '\0') {
		const char *e[] = { "--no-reset-password", "--", ctx->admin, ctx->email, NULL };

		if (app_php(ctx, "maintenance/resetUserEmail.php", e) != 0) {
			app_err("mediawiki: the admin's e-mail address not set");
			return -1;
		}
	}
	return 0;
}

/* The wiki answers: its code loads with its settings and its database
 * answers (site statistics are a query every install has). */
static int
mw_check(struct app_ctx *ctx)
{
	if (app_php(ctx, "maintenance/showSiteStats.php", NULL) != 0) {
		app_err("mediawiki: maintenance/showSiteStats.php failed");
		return -1;
	}
	return 0;
}

/* MediaWiki's own schema upgrade, as its upgrade guide runs it. */
static int
mw_db_upgrade(struct app_ctx *ctx)
{
	const char *a[] = { "--quick", NULL };

	app_say("Running MediaWiki's maintenance/update.php...");
	if (app_php(ctx, "maintenance/update.php", a) != 0) {
		app_err("mediawiki: maintenance/update.php failed");
		return -1;
	}
	return 0;
}

const struct app_recipe app_mediawiki = {
	.name		= "mediawiki",
	.package	= "/usr/share/mediawiki",
	.sql		= APP_SQL_OPTIONAL,
	.gitignore	= mw_gitignore,
	.version	= mw_version,
	.layout		= mw_layout,
	.configure	= mw_configure,
	.check		= mw_check,
	.db_upgrade	= mw_db_upgrade,
	.replaced	= mw_replaced,
	.sqlite		= MW_DATA,	/* a backup copies it (the database and its journal) */
};
