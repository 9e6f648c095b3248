/*
 * phpini.c: a .htaccess's php_value and php_flag as the locker's PHP
 * takes them.
 *
 * mod_php applies them to each request, at PHP_INI_PERDIR: a setting PHP
 * lets only php.ini make (PHP_INI_SYSTEM: disable_functions,
 * allow_url_include, opcache's memory ...) is ignored, silently, as is a
 * name that is no setting (extension, zend_extension).  Its values are
 * taken as they are: no INI parsing, no constants, no ${VAR}.
 *
 * lockerd's PHP is php-cgi, which has no per-request settings: FastCGI's
 * PHP_VALUE and PHP_ADMIN_VALUE are php-fpm's (fpm_main.c reads them;
 * cgi_main.c does not, and php-cgi 8.2 was tried: it ignores both).  So a
 * set of settings goes to php-cgi as -d when it starts: a CGI run's, or a
 * FastCGI pool's of its own, named by the set's tag (script.c keeps a
 * locker's pools by interpreter and tag).  -d values are parsed as INI
 * lines at PHP_INI_SYSTEM, so here they are filtered first (PERDIR only)
 * and quoted (a value in single quotes is raw in PHP's INI syntax).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "phpini.h"

/*
 * PHP 8.2's settings a directory may not make (ini_get_all()'s access
 * without PHP_INI_PERDIR, Debian's php8.2-cgi with its packaged
 * extensions), and the two php.ini keys that load code.  Sorted (strcmp)
 * for bsearch; test_php_values.py checks it against the installed PHP.
 */
static const char *const not_perdir[] = {
	"allow_url_fopen", "allow_url_include", "browscap", "cgi.check_shebang_line",
	"cgi.discard_path", "cgi.fix_pathinfo", "cgi.force_redirect",
	"cgi.redirect_status_env", "curl.cainfo", "disable_classes", "disable_functions",
	"doc_root", "enable_dl", "expose_php", "extension", "extension_dir",
	"fastcgi.logging", "ffi.enable", "ffi.preload", "file_uploads", "hard_timeout",
	"mysqli.allow_local_infile", "mysqli.allow_persistent",
	"mysqli.local_infile_directory", "mysqli.max_links", "mysqli.max_persistent",
	"mysqli.rollback_on_cached_plink", "mysqlnd.collect_memory_statistics",
	"mysqlnd.debug", "mysqlnd.trace_alloc", "opcache.blacklist_filename",
	"opcache.enable_cli", "opcache.enable_file_override", "opcache.error_log",
	"opcache.file_cache", "opcache.file_cache_consistency_checks",
	"opcache.file_cache_only", "opcache.force_restart_timeout",
	"opcache.huge_code_pages", "opcache.interned_strings_buffer",
	"opcache.jit_buffer_size", "opcache.jit_hot_func", "opcache.jit_hot_loop",
	"opcache.jit_hot_return", "opcache.jit_max_exit_counters",
	"opcache.jit_max_root_traces", "opcache.jit_max_side_traces",
	"opcache.lockfile_path", "opcache.log_verbosity_level",
	"opcache.max_accelerated_files", "opcache.max_file_size",
	"opcache.max_wasted_percentage", "opcache.memory_consumption",
	"opcache.opt_debug_level", "opcache.optimization_level",
	"opcache.preferred_memory_model", "opcache.preload", "opcache.preload_user",
	"opcache.protect_memory", "opcache.record_warnings", "opcache.restrict_api",
	"opcache.save_comments", "opcache.use_cwd", "opcache.validate_permission",
	"opcache.validate_root", "pdo_mysql.default_socket", "phar.cache_list",
	"realpath_cache_size", "realpath_cache_ttl", "sendmail_path", "sqlite3.defensive",
	"sqlite3.extension_dir", "sys_temp_dir", "syslog.facility", "syslog.ident",
	"upload_tmp_dir", "user_dir", "user_ini.cache_ttl", "user_ini.filename",
	"xmlrpc_errors", "zend.signal_check", "zend_extension",
};

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
phpini_perdir(const char *name)
{
	return bsearch(&name, not_perdir, sizeof(not_perdir) / sizeof(not_perdir[0]),
	    sizeof(not_perdir[0]), cmp_name) == NULL;
}

/*
 * name=value as an INI line PHP reads back as value exactly: in single
 * quotes (raw), or in double quotes when the value holds a single quote
 * but nothing a double-quoted INI string would change.  -1: neither.
 */
static int
quote(char *buf, size_t cap, const char *name, const char *value)
{
	int k;

	if (strchr(value, '\'') == NULL)
		k = snprintf(buf, cap, "%s='%s'", name, value);
	else if (strpbrk(value, "\"$\\") == NULL)
		k = snprintf(buf, cap, "%s=\"%s\"", name, value);
	else
		return -1;
	return k > 0 && (size_t)k < cap ? 0 : -1;
}

static void
left_out(struct phpini *out, const char *name, const char *why)
{
	if (out->left_out[0] == '\0')
		snprintf(out->left_out, sizeof(out->left_out), "%.64s: %s", name, why);
}

/* FNV-1a over the sorted arguments: the same set, the same tag. */
static void
tag_of(struct phpini *out)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	int		i;
	const char	*p;

	for (i = 0; i < out->n; i++)
		for (p = out->d[i]; ; p++) {
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
			if (*p == '\0')
				break;
		}
	snprintf(out->tag, sizeof(out->tag), "%016llx", (unsigned long long)h);
}

/* As PHP reads a boolean setting (OnUpdateBool): "on", "yes", "true" or
 * a non-zero number are true. */
int
phpini_engine_off(const struct ht_req *r)
{
	int i;

	for (i = 0; i < r->nphp; i++)
		if (strcmp(r->php[i].name, "engine") == 0) {
			const char *v = r->php[i].value;

			return !(strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
			    strcasecmp(v, "true") == 0 || atoi(v) != 0);
		}
	return 0;
}

int
phpini_build(const struct ht_req *r, struct phpini *out)
{
	int i;

	out->n = 0;
	out->tag[0] = '\0';
	out->left_out[0] = '\0';
	for (i = 0; i < r->nphp && out->n < HT_PHP_MAX; i++) {
		const char *name = r->php[i].name, *value = r->php[i].value;

		if (name[0] == '\0' || strcmp(name, "engine") == 0)
			continue;
		if (!phpini_perdir(name)) {
			left_out(out, name, "PHP takes it from php.ini only (as mod_php, "
			    "ignored)");
			continue;
		}
		if (quote(out->arg[out->n], sizeof(out->arg[out->n]), name, value) == -1) {
			left_out(out, name, "a value too long, or with both ' and one of "
			    "\" $ \\ (ignored)");
			continue;
		}
		out->d[out->n] = out->arg[out->n];
		out->n++;
	}
	if (out->n == 0)
		return 0;
	qsort(out->d, (size_t)out->n, sizeof(out->d[0]), cmp_name);
	tag_of(out);
	return out->n;
}
