/*
 * httable.c: the .htaccess directives lockerd knows, and its modules'
 * hooks.  Each part adds its own rows here (and keeps its code in its own
 * file); a directive not in ht_directives[] is a 500 with "FILE:LINE:
 * unknown directive NAME" in the locker's error log, as in Apache.
 */
#include <stddef.h>

#include "htaccess.h"

const struct ht_directive ht_directives[] = {
	{ NULL, NULL, 0, NULL }
};

const struct ht_module ht_modules[] = {
	{ NULL, 0, NULL, NULL, NULL, HT_PH_NONE, NULL }
};
