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

/* IndexOptions that change what is listed, in which order, or how. */
#define AI_FANCY		0x01	/* FancyIndexing: columns, sort links */
#define AI_TABLE		0x02	/* HTMLTable (with FancyIndexing) */
#define AI_FOLDERS_FIRST	0x04
#define AI_IGNORE_CASE		0x08
#define AI_VERSION_SORT		0x10
#define AI_IGNORE_CLIENT	0x20	/* the query does not choose the order */
#define AI_NO_SORT_LINKS	0x40	/* SuppressColumnSorting */
/* Debian's autoindex.conf: FancyIndexing VersionSort HTMLTable ... Charset=UTF-8 */
#define AI_DEBIAN		(AI_FANCY | AI_TABLE | AI_VERSION_SORT)

struct autoindex_opts {
	unsigned		 flags;		/* AI_* */
	char			 order_key;	/* IndexOrderDefault: 'N', 'M' or 'S' */
	int			 order_desc;
	const char *const	*ignore;	/* IndexIgnore globs, NULL-terminated, or NULL */
};

/*
 * The HTML listing of the directory dirfd (not consumed) whose URL path
 * is url (decoded, ending in '/'), sorted as query asks (NULL or "": by
 * o's default order), under o's options (NULL: Debian's).  The names
 * o->ignore matches are left out beside Debian's own (".??*", "*~", "*#",
 * "RCS", "CVS", "*,v", "*,t"), and dotfiles are never listed.  Returns a
 * malloc'd buffer of *len bytes, or NULL (errno).
 */
char	*autoindex_render(int dirfd, const char *url, const char *query,
	    const struct autoindex_opts *o, size_t *len);

#endif
