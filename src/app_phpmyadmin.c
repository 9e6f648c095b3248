/*
 * app_phpmyadmin.c: the phpMyAdmin recipe of lockerd-app (issue 16): a
 * phpMyAdmin of the locker's own, for its own databases, logging in with
 * its own MariaDB account (~/.sql/my.cnf).
 *
 * Debian's tree (/usr/share/phpmyadmin) reads its configuration from
 * /etc/phpmyadmin and keeps its cache in /var/lib/phpmyadmin/tmp, as
 * libraries/vendor_config.php says: an install points both inside
 * itself (config.inc.php beside index.php, as upstream has it, and tmp/).
 * Its PHP libraries stay Debian's, in /usr/share/php, which every jail
 * reads (autoload.php finds them on PHP's include_path).  phpMyAdmin has
 * no installer and no database of its own: configuration files only.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app_recipe.h"

/* libraries/vendor_config.php's lines that point outside the install. */
static const struct { const char *debian, *install; } pma_paths[] = {
	{ "'configFile' => '/etc/phpmyadmin/config.inc.php'",
	  "'configFile' => ROOT_PATH . 'config.inc.php'" },
	{ "'tempDir' => '/var/lib/phpmyadmin/tmp/'",
	  "'tempDir' => ROOT_PATH . 'tmp' . DIRECTORY_SEPARATOR" },
};

/*
 * What phpMyAdmin's documentation ("Securing your phpMyAdmin
 * installation") and Debian's apache.conf say must not be served: its
 * code, templates and libraries, the setup script, and the temporary
 * directory (the cache of compiled templates); sql/ holds only its own
 * schema, served by no one either.
 */
static const char *const pma_denied[] = { "libraries", "templates", "setup", "vendor", "tmp", "sql" };

/* The check: the configuration parses and the locker's account logs in. */
static const char pma_check_php[] =
	"error_reporting(E_ALL & ~E_DEPRECATED & ~E_NOTICE); $cfg = [];"
	"define('PHPMYADMIN', true); define('ROOT_PATH', getcwd() . '/');"
	"$v = require './libraries/vendor_config.php';"
	"if ($v['configFile'] !== ROOT_PATH . 'config.inc.php') {"
	"  fwrite(STDERR, \"vendor_config.php: configFile is \" . $v['configFile'] . \"\\n\"); exit(1); }"
	"require $v['configFile']; $s = $cfg['Servers'][1] ?? [];"
	"if (($s['auth_type'] ?? '') !== 'cookie' || strlen($cfg['blowfish_secret'] ?? '') !== 32"
	"    || !is_dir($cfg['TempDir'] ?? '') || !is_writable($cfg['TempDir'])) {"
	"  fwrite(STDERR, \"config.inc.php: not cookie login, a 32-byte secret and a TempDir\\n\"); exit(1); }"
	"mysqli_report(MYSQLI_REPORT_OFF);"
	"$m = @new mysqli($s['host'], getenv('APP_DB_USER'), getenv('APP_DB_PASSWORD'));"
	"if ($m->connect_errno) { fwrite(STDERR, \"MariaDB: \" . $m->connect_error . \"\\n\"); exit(1); }"
	"preg_match(\"/const VERSION = '([^']+)'/\", file_get_contents('libraries/classes/Version.php'), $x);"
	"if (($x[1] ?? '') !== getenv('APP_VERSION')) {"
	"  fwrite(STDERR, 'the install is ' . ($x[1] ?? '?') . ', not ' . getenv('APP_VERSION') . \"\\n\"); exit(1); }"
	"echo \"phpMyAdmin connects\\n\";";

static int
pma_version(const char *tree, char *out, size_t len)
{
	return app_php_version(tree, "libraries/classes/Version.php", "const VERSION =", out, len);
}

/* vendor_config.php pointed inside the install (on branch upstream too). */
static int
pma_layout(struct app_ctx *ctx)
{
	static char	 text[65536], out[65536 + 512];
	const char	*rel = "libraries/vendor_config.php";
	char		*at;
	size_t		 i;
	int		 n;

	if ((n = app_read_file(ctx->dirfd, rel, text, sizeof(text))) < 0 ||
	    (size_t)n + 1 >= sizeof(text)) {
		app_err("phpmyadmin: %s: unreadable or too long", rel);
		return -1;
	}
	for (i = 0; i < sizeof(pma_paths) / sizeof(pma_paths[0]); i++) {
		if ((at = strstr(text, pma_paths[i].debian)) == NULL) {
			if (strstr(text, pma_paths[i].install) != NULL)
				continue;	/* upstream's own tree: already inside */
			app_err("phpmyadmin: %s: no %s (not Debian's layout)", rel, pma_paths[i].debian);
			return -1;
		}
		*at = '\0';
		snprintf(out, sizeof(out), "%s%s%s", text, pma_paths[i].install,
		    at + strlen(pma_paths[i].debian));
		snprintf(text, sizeof(text), "%s", out);
	}
	return app_write_file(ctx->dirfd, rel, text, 0644);
}

/* config.inc.php: cookie login to the jail's MariaDB socket, a fresh secret. */
static int
pma_write_config(struct app_ctx *ctx)
{
	char	 secret[65], text[2048];
	int	 rc;

	app_random_hex(secret, 32);
	snprintf(text, sizeof(text),
	    "<?php\n/* Written by lockerd-app at install; yours to edit. */\n"
	    "/* The cookie's key: 32 random bytes, as phpMyAdmin 5.2 wants it. */\n"
	    "$cfg['blowfish_secret'] = sodium_hex2bin('%s');\n\n"
	    "/* Your own MariaDB account (~/.sql/my.cnf) logs in; localhost is the\n"
	    "   database socket of your sandbox. */\n"
	    "$i = 1;\n$cfg['Servers'][$i]['auth_type'] = 'cookie';\n"
	    "$cfg['Servers'][$i]['host'] = 'localhost';\n"
	    "$cfg['Servers'][$i]['AllowNoPassword'] = false;\n"
	    "$cfg['Servers'][$i]['AllowRoot'] = false;\n\n"
	    "$cfg['TempDir'] = __DIR__ . '/tmp';\n"
	    "$cfg['UploadDir'] = '';\n$cfg['SaveDir'] = '';\n"
	    "/* Upgrades come from lockerd (locker upgrade). */\n"
	    "$cfg['VersionCheck'] = false;\n", secret);
	rc = app_write_file(ctx->dirfd, "config.inc.php", text, 0600);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(text, sizeof(text));
	return rc;
}

/* A .htaccess denying everything in each directory that is not served. */
static int
pma_write_denials(struct app_ctx *ctx)
{
	char	 rel[64];
	size_t	 i;
	int	 fd;

	for (i = 0; i < sizeof(pma_denied) / sizeof(pma_denied[0]); i++) {
		if ((fd = app_open_dir(ctx->dirfd, pma_denied[i])) == -1)
			continue;	/* not in this release (Debian has no setup/) */
		close(fd);
		snprintf(rel, sizeof(rel), "%s/.htaccess", pma_denied[i]);
		if (app_write_file(ctx->dirfd, rel,
		    "# Written by lockerd-app: phpMyAdmin's own files, never served.\n"
		    "Require all denied\n", 0644) == -1)
			return -1;
	}
	return 0;
}

/*
 * tmp/ is made here, in the install: an empty directory is nothing to git,
 * so layout() could not put it on branch upstream.  Its .htaccess is kept
 * (.gitignore's exception), so a checkout brings tmp/ back.
 */
static int
pma_configure(struct app_ctx *ctx)
{
	static char	 user[128];	/* ctx->admin from here on */
	char		 pass[256], host[128];

	if (app_mkdirs(ctx->dirfd, "tmp", 0700) == -1 || pma_write_config(ctx) == -1 ||
	    pma_write_denials(ctx) == -1)
		return -1;
	/* No admin of its own: the locker's MariaDB account logs in. */
	if (app_mycnf(ctx->home, user, sizeof(user), pass, sizeof(pass), host, sizeof(host)) == -1)
		return -1;
	explicit_bzero(pass, sizeof(pass));
	ctx->admin = user;
	explicit_bzero(ctx->password, sizeof(ctx->password));
	app_say("phpMyAdmin: log in as %s with the password in ~/.sql/my.cnf", user);
	return 0;
}

/*
 * The install's own files are read by PHP, as the locker (they are its
 * own bytes); lockerd-app only compares the answer.
 */
static int
pma_check(struct app_ctx *ctx)
{
	char		 user[128], pass[256], host[128], eu[160], ep[300], ev[128], out[4096];
	const char	*env[] = { eu, ep, ev, NULL };
	int		 rc;

	if (app_mycnf(ctx->home, user, sizeof(user), pass, sizeof(pass), host, sizeof(host)) == -1)
		return -1;
	snprintf(eu, sizeof(eu), "APP_DB_USER=%s", user);
	snprintf(ep, sizeof(ep), "APP_DB_PASSWORD=%s", pass);
	snprintf(ev, sizeof(ev), "APP_VERSION=%s", ctx->version ? ctx->version : "");
	rc = app_php_code(ctx, pma_check_php, env, out, sizeof(out));
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(ep, sizeof(ep));
	if (rc != 0) {
		app_err("phpmyadmin: its configuration does not work");
		return -1;
	}
	return 0;
}

const struct app_recipe app_phpmyadmin = {
	.name = "phpmyadmin",
	.package = "/usr/share/phpmyadmin",
	.sql = APP_SQL_REQUIRED,
	.gitignore = "/tmp/*\n!/tmp/.htaccess\n",
	.version = pma_version,
	.layout = pma_layout,
	.configure = pma_configure,
	.check = pma_check,
	.db_upgrade = NULL,
	.replaced = NULL,
};
