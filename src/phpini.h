/*
 * phpini.h: a .htaccess's php_value and php_flag as the locker's php-cgi
 * takes them (phpini.c).
 */
#ifndef LOCKERD_PHPINI_H
#define LOCKERD_PHPINI_H

#include "htaccess.h"

#define PHPINI_ARG_MAX	1024	/* one "name='value'" for -d */
#define PHPINI_TAG_LEN	16	/* hex digits of a set's tag */

/* The settings of one request, for php-cgi's -d, in a canonical order. */
struct phpini {
	char		 arg[HT_PHP_MAX][PHPINI_ARG_MAX];
	const char	*d[HT_PHP_MAX];
	int		 n;
	/* What names the set (its pool): "" when there is none. */
	char		 tag[PHPINI_TAG_LEN + 1];
	/* The first setting left out, and why (for the locker's error log);
	 * "" when none was. */
	char		 left_out[160];
};

/*
 * r's php_value and php_flag as mod_php would apply them: those PHP lets
 * a directory set (PHP_INI_PERDIR), each value quoted so that PHP takes
 * it as is.  Returns out->n.
 */
int	phpini_build(const struct ht_req *r, struct phpini *out);
/*
 * 1 if r turns PHP off (php_flag engine off, php_value engine 0): mod_php's
 * own setting, which php-cgi lacks, so the worker runs no PHP there.
 */
int	phpini_engine_off(const struct ht_req *r);
/* 1 if PHP lets a directory's settings (php_value, .user.ini) set name. */
int	phpini_perdir(const char *name);

#endif
