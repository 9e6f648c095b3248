/*
 * app_wordpress.c: the WordPress recipe of lockerd-app (issue 16).
 *
 * Debian's tree (/usr/share/wordpress) is WordPress with two shims: a
 * wp-config.php that reads /etc/wordpress/config-HOST.php and puts
 * wp-content in /var/lib/wordpress, and a .htaccess linked to /etc.  An
 * install is upstream's layout instead: its own wp-config.php (written
 * here from the locker's ~/.sql/my.cnf and the database the master made),
 * wp-content a real directory of the install, and the .htaccess block
 * WordPress itself writes for pretty permalinks.  Then WordPress's own
 * installer, wp_install(), runs from php-cli as the locker, which is what
 * wp-cli's `core install` does (Debian has no wp-cli); an upgrade runs
 * wp_upgrade(), what wp-admin/upgrade.php runs.
 */
#include <stdio.h>
#include <string.h>

#include "app_recipe.h"

/* Debian's .htaccess is a link to /etc/wordpress/htaccess: ours instead. */
static const char *const wp_replaced[] = { ".htaccess", NULL };

#define WP_PERMALINKS	"/%year%/%monthnum%/%postname%/"

/*
 * Every driver starts as a request for the install's URL would: WordPress
 * guesses its own address and cookie paths from $_SERVER (wp-cli's --url
 * does the same).
 */
#define WP_PRELUDE \
	"error_reporting(E_ALL & ~E_DEPRECATED & ~E_NOTICE);" \
	"$lockerd_p = parse_url(getenv('APP_URL'));" \
	"$_SERVER['HTTP_HOST'] = $lockerd_p['host'] . (isset($lockerd_p['port']) ? ':' . $lockerd_p['port'] : '');" \
	"$_SERVER['SERVER_NAME'] = $lockerd_p['host'];" \
	"$_SERVER['SERVER_PORT'] = $lockerd_p['port'] ?? ($lockerd_p['scheme'] === 'https' ? 443 : 80);" \
	"$_SERVER['REQUEST_URI'] = $lockerd_p['path']; $_SERVER['REQUEST_METHOD'] = 'GET';" \
	"if ($lockerd_p['scheme'] === 'https') $_SERVER['HTTPS'] = 'on';"

/*
 * wp_install() as wp-cli runs it: the welcome mail to the admin is not
 * sent (wp_new_blog_notification() is pluggable, defined here first), no
 * HTTP request leaves (its probe of which permalinks work), the site's
 * address is the install's URL, and pretty permalinks are on.
 */
static const char wp_install_php[] = WP_PRELUDE
	"define('WP_INSTALLING', true); define('WP_SITEURL', rtrim(getenv('APP_URL'), '/'));"
	"function wp_new_blog_notification() {}"
	"require './wp-load.php'; require_once ABSPATH . 'wp-admin/includes/upgrade.php';"
	/* wp_install() would ask its own URL over HTTP which permalinks work:
	 * no network during an install; the permalinks are set below. */
	"add_filter('pre_http_request', function () {"
	"  return new WP_Error('lockerd', 'no HTTP during the install'); });"
	"if (is_blog_installed()) {"
	"  fwrite(STDERR, \"WordPress is already installed in database \" . DB_NAME . \"\\n\"); exit(1); }"
	"$r = wp_install(getenv('APP_TITLE'), getenv('APP_ADMIN'), getenv('APP_EMAIL'), true, '',"
	"  wp_slash(getenv('APP_PASSWORD')));"
	"if (empty($r['user_id'])) { fwrite(STDERR, \"wp_install() made no admin\\n\"); exit(1); }"
	"update_option('home', rtrim(getenv('APP_URL'), '/'));"
	"$GLOBALS['wp_rewrite']->set_permalink_structure('" WP_PERMALINKS "');"
	"flush_rewrite_rules(false);"
	"echo 'WordPress ', get_bloginfo('version'), \" installed\\n\";";

/*
 * wp_upgrade() as wp-admin/upgrade.php runs it.  WordPress ends with
 * die() (status 0) on some errors: unless the database reached this
 * version's $wp_db_version, the shutdown function makes the exit status 1.
 */
static const char wp_upgrade_php[] = WP_PRELUDE
	"define('WP_INSTALLING', true);"
	"$GLOBALS['lockerd_ok'] = false; register_shutdown_function(function () {"
	"  if (!$GLOBALS['lockerd_ok']) { fwrite(STDERR, \"WordPress's database upgrade did not finish\\n\"); exit(1); } });"
	"require './wp-load.php'; require_once ABSPATH . 'wp-admin/includes/upgrade.php';"
	"wp_upgrade(); wp_cache_flush();"
	"if ((int)get_option('db_version') !== (int)$GLOBALS['wp_db_version']) {"
	"  fwrite(STDERR, 'database at ' . get_option('db_version') . ', not '"
	"    . $GLOBALS['wp_db_version'] . \"\\n\"); exit(1); }"
	"$GLOBALS['lockerd_ok'] = true; echo 'database ', $GLOBALS['wp_db_version'], \"\\n\";";

/* The check: WordPress loads, is installed, its database is current. */
static const char wp_check_php[] = WP_PRELUDE
	"require './wp-load.php';"
	"if (!is_blog_installed()) { fwrite(STDERR, \"not installed\\n\"); exit(1); }"
	"if ((int)get_option('db_version') !== (int)$GLOBALS['wp_db_version']) {"
	"  fwrite(STDERR, \"database not upgraded\\n\"); exit(1); }"
	"echo 'version=', get_bloginfo('version'), \"\\n\";";

static int
wp_version(const char *tree, char *out, size_t len)
{
	return app_php_version(tree, "wp-includes/version.php", "$wp_version =", out, len);
}

static int
wp_write_config(struct app_ctx *ctx)
{
	static const char *const keys[] = { "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY",
		"NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT" };
	char	 user[128], pass[256], host[128], qu[300], qp[600], qd[300], salt[65];
	char	 text[4096];
	size_t	 n, i;
	int	 rc;

	if (app_mycnf(ctx->home, user, sizeof(user), pass, sizeof(pass), host, sizeof(host)) == -1)
		return -1;
	if (ctx->dbname == NULL) {
		app_err("wordpress: no database (--dbname)");
		return -1;
	}
	if (app_php_quote(user, qu, sizeof(qu)) == -1 || app_php_quote(pass, qp, sizeof(qp)) == -1 ||
	    app_php_quote(ctx->dbname, qd, sizeof(qd)) == -1) {
		app_err("wordpress: database credentials too long");
		return -1;
	}
	n = (size_t)snprintf(text, sizeof(text),
	    "<?php\n/* Written by lockerd-app at install; yours to edit. */\n"
	    "define('DB_NAME', %s);\ndefine('DB_USER', %s);\ndefine('DB_PASSWORD', %s);\n"
	    "/* localhost: the MariaDB socket of the locker's sandbox. */\n"
	    "define('DB_HOST', 'localhost');\ndefine('DB_CHARSET', 'utf8mb4');\n"
	    "define('DB_COLLATE', '');\n\n", qd, qu, qp);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		app_random_hex(salt, 32);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "define('%s', '%s');\n", keys[i], salt);
	}
	snprintf(text + n, sizeof(text) - n,
	    "\n$table_prefix = 'wp_';\n\n"
	    "/* Upgrades come from lockerd (locker upgrade), merged with your edits. */\n"
	    "define('AUTOMATIC_UPDATER_DISABLED', true);\ndefine('WP_DEBUG', false);\n\n"
	    "if (!defined('ABSPATH'))\n\tdefine('ABSPATH', __DIR__ . '/');\n"
	    "require_once ABSPATH . 'wp-settings.php';\n");
	rc = app_write_file(ctx->dirfd, "wp-config.php", text, 0600);
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(qp, sizeof(qp));
	explicit_bzero(text, sizeof(text));
	return rc;
}

/* WordPress's own block (WP_Rewrite::mod_rewrite_rules()), for the URL's path. */
static int
wp_write_htaccess(struct app_ctx *ctx)
{
	const char	*base = app_url_path(ctx->url);
	char		 text[2048];

	snprintf(text, sizeof(text),
	    "# BEGIN WordPress\n<IfModule mod_rewrite.c>\nRewriteEngine On\n"
	    "RewriteRule .* - [E=HTTP_AUTHORIZATION:%%{HTTP:Authorization}]\n"
	    "RewriteBase %s\nRewriteRule ^index\\.php$ - [L]\n"
	    "RewriteCond %%{REQUEST_FILENAME} !-f\nRewriteCond %%{REQUEST_FILENAME} !-d\n"
	    "RewriteRule . %sindex.php [L]\n</IfModule>\n# END WordPress\n", base, base);
	return app_write_file(ctx->dirfd, ".htaccess", text, 0644);
}

/*
 * WordPress's own core updater would overwrite the install's files behind
 * git's back; lockerd upgrades it (locker upgrade), merging the locker's
 * edits.  A must-use plugin (the locker's to remove) takes the capability
 * away; plugins and themes still update from wp-admin as usual.
 */
static int
wp_write_mu_plugin(struct app_ctx *ctx)
{
	return app_mkdirs(ctx->dirfd, "wp-content/mu-plugins", 0755) == -1 ? -1 :
	    app_write_file(ctx->dirfd, "wp-content/mu-plugins/lockerd-upgrades.php",
	    "<?php\n/*\n * Plugin Name: lockerd upgrades\n"
	    " * Description: WordPress itself is upgraded by lockerd (locker upgrade), which merges\n"
	    " * the new version with your own edits; its core updater is off here.  Plugins and\n"
	    " * themes update as usual.  Written by lockerd-app at install.\n */\n"
	    "add_filter('map_meta_cap', function ($caps, $cap) {\n"
	    "\treturn $cap === 'update_core' ? ['do_not_allow'] : $caps;\n}, 10, 2);\n", 0644);
}

static int
wp_configure(struct app_ctx *ctx)
{
	char		 url[600], title[200], admin[100], email[200], password[100], out[8192];
	const char	*env[] = { url, title, admin, email, password, NULL };
	int		 rc;

	/* Uploads: run-time data (.gitignore) in the install's own wp-content. */
	if (app_mkdirs(ctx->dirfd, "wp-content/uploads", 0755) == -1 ||
	    wp_write_config(ctx) == -1 || wp_write_htaccess(ctx) == -1 ||
	    wp_write_mu_plugin(ctx) == -1)
		return -1;
	if (ctx->password[0] == '\0')
		app_random_password(ctx->password, sizeof(ctx->password));
	snprintf(url, sizeof(url), "APP_URL=%s", ctx->url);
	snprintf(title, sizeof(title), "APP_TITLE=%s", ctx->title ? ctx->title : "My WordPress");
	snprintf(admin, sizeof(admin), "APP_ADMIN=%s", ctx->admin ? ctx->admin : "admin");
	if (ctx->email != NULL)
		snprintf(email, sizeof(email), "APP_EMAIL=%s", ctx->email);
	else	/* WordPress wants an address; the locker's own is the best guess. */
		snprintf(email, sizeof(email), "APP_EMAIL=%s@localhost",
		    ctx->admin ? ctx->admin : "admin");
	snprintf(password, sizeof(password), "APP_PASSWORD=%s", ctx->password);
	rc = app_php_code(ctx, wp_install_php, env, out, sizeof(out));
	explicit_bzero(password, sizeof(password));
	if (rc != 0) {
		app_err("wordpress: its installer (wp_install) failed (%d)", rc);
		return -1;
	}
	return 0;
}

static int
wp_db_upgrade(struct app_ctx *ctx)
{
	char		 url[600], out[8192];
	const char	*env[] = { url, NULL };

	snprintf(url, sizeof(url), "APP_URL=%s", ctx->url);
	if (app_php_code(ctx, wp_upgrade_php, env, out, sizeof(out)) != 0) {
		app_err("wordpress: its database upgrade (wp_upgrade) failed");
		return -1;
	}
	return 0;
}

/* WordPress loads and says it is the version installed. */
static int
wp_check(struct app_ctx *ctx)
{
	char		 url[600], out[8192], want[128];
	const char	*env[] = { url, NULL };

	snprintf(url, sizeof(url), "APP_URL=%s", ctx->url);
	if (app_php_code(ctx, wp_check_php, env, out, sizeof(out)) != 0) {
		app_err("wordpress: does not load (wp-load.php)");
		return -1;
	}
	snprintf(want, sizeof(want), "version=%s\n", ctx->version);
	if (strstr(out, want) == NULL) {
		app_err("wordpress: answers another version than %s", ctx->version);
		return -1;
	}
	return 0;
}

const struct app_recipe app_wordpress = {
	.name = "wordpress",
	.package = "/usr/share/wordpress",
	.sql = APP_SQL_REQUIRED,
	.gitignore = "/wp-content/uploads/\n/wp-content/cache/\n/wp-content/upgrade/\n",
	.version = wp_version,
	.layout = NULL,		/* Debian's tree is upstream's but for the two shims */
	.configure = wp_configure,
	.check = wp_check,
	.db_upgrade = wp_db_upgrade,
	.replaced = wp_replaced,
};
