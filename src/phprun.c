/*
 * phprun.c: in a locker's worker, how a PHP page runs: through the
 * locker's FastCGI pool (its plain one, or the one of its .htaccess's
 * php_value set, phpini.c), or by CGI when the pool cannot read what the
 * page needs (a php.ini beside it) or there is no room for its set's pool.
 * Apart from worker.c, which is near its size bound.
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lockerd.h"
#include "phpini.h"

/*
 * A php.ini in the script's own directory (PHPRC): honoured by CGI only,
 * since it replaces PHP's whole configuration, which a running pool has
 * read once.  That costs a PHP start per request (tens of milliseconds
 * against a fraction of one): the locker's error log says so, once per
 * worker, and that a .user.ini, which PHP reads per directory in the pool
 * too, is the fast way.
 */
static int
has_own_ini(int webroot, const char *rel)
{
	static int	told;
	char		ini[PATH_MAX], note[PATH_MAX + 200];
	const char	*slash = strrchr(rel, '/');
	struct stat	st;

	snprintf(ini, sizeof(ini), "%.*sphp.ini", slash ? (int)(slash - rel + 1) : 0, rel);
	if (fstatat(webroot, ini, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (!told) {
		told = 1;
		snprintf(note, sizeof(note), "web_scripts/%s: PHP starts anew for every "
		    "request of a page with a php.ini beside it (CGI); settings in a "
		    ".user.ini there apply in the locker's PHP pool, at full speed", ini);
		script_note(note);
	}
	return 1;
}

/* Once per worker each: a .htaccess's PHP setting left out, and pages of
 * settings that ran by CGI (more sets in use at once than pools). */
static void
note_php_values(const char *rel, const struct phpini *ini, int by_cgi)
{
	static int	told_left, told_cgi;
	char		note[PATH_MAX + 300];

	if (ini->left_out[0] != '\0' && !told_left++) {
		snprintf(note, sizeof(note), "web_scripts/%s: php_value %s", rel, ini->left_out);
		script_note(note);
	}
	if (by_cgi && !told_cgi++) {
		snprintf(note, sizeof(note), "web_scripts/%s: PHP started anew for a page (CGI): "
		    "more sets of .htaccess php_value/php_flag in use at once than PHP pools",
		    rel);
		script_note(note);
	}
}

/*
 * s's PHP settings from hr (kept until the next call), and whether it runs
 * through a pool: 1, or 0 for CGI.  A script run by a .htaccess's
 * handler, not its extension, goes by CGI: front keys its FastCGI pools
 * (and checks what the worker says) by extension.
 */
int
php_by_pool(struct script_req *s, const struct ht_req *hr, const char *rel, int webroot)
{
	static struct phpini	ini;
	int			fast;

	phpini_build(hr, &ini);
	s->php_d = ini.d;
	s->nphp_d = ini.n;
	s->pool_tag = ini.tag;
	fast = s->interp->fastcgi && !has_own_ini(webroot, rel) &&
	    script_interp(s->conf, path_ext(rel)) == s->interp;
	if (fast && php_pool_room(s)) {
		note_php_values(rel, &ini, 0);
		return 1;
	}
	note_php_values(rel, &ini, fast);
	return 0;
}
