/*
 * autoindex.h: a directory's listing as mod_autoindex makes it under
 * Debian's configuration (FancyIndexing, HTMLTable, VersionSort): names
 * escaped for the URL and for HTML, sizes, dates, sorted by the query's
 * C=N|M|S|D and O=A|D.  Made in the locker's worker, from a directory it
 * opened as the locker.
 */
#ifndef LOCKERD_AUTOINDEX_H
#define LOCKERD_AUTOINDEX_H

#include <stddef.h>

#define AUTOINDEX_MAX_ENTRIES	10000	/* past it, the listing says it is cut */

/*
 * The HTML listing of the directory dirfd (not consumed) whose URL path
 * is url (decoded, ending in '/'), sorted as query asks (NULL or "": by
 * name, ascending); ignore is a NULL-terminated list of IndexIgnore
 * globs beside Debian's own (".??*", "*~", "*#", "RCS", "CVS", "*,v",
 * "*,t"), and dotfiles are never listed.  Returns a malloc'd buffer of
 * *len bytes, or NULL (errno).
 */
char	*autoindex_render(int dirfd, const char *url, const char *query,
	    const char *const *ignore, size_t *len);

#endif
