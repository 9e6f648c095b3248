/*
 * htwalk.h: the worker's side of .htaccess (htwalk.c): which files apply
 * to a request, parsed once and cached by their stamps, and their merge.
 */
#ifndef LOCKERD_HTWALK_H
#define LOCKERD_HTWALK_H

#include <sys/types.h>

#include "htaccess.h"

#define HT_MAX_CHAIN	64	/* directory levels with a file of their own */

struct ht_walker {
	int	webroot;			/* O_PATH of web_scripts */
	/* Open a file below web_scripts as the web does (worker.c). */
	int	(*open_beneath)(const char *rel);
	/* A directory of the walk ("", "a/"), before its .htaccess is looked
	 * for (htwatch.c; NULL: none). */
	void	(*watch)(const char *dir);
};

/* The parsed files that apply, from web_scripts/ down; the cache's. */
struct ht_chain {
	struct ht_dir	*d[HT_MAX_CHAIN];
	int		 n;
};

/*
 * The .htaccess of web_scripts/ and of every directory of rel ("a/b/c.php",
 * no leading '/'; rel itself too when it is a directory), each from the
 * cache while its device, inode, size, mtime and ctime hold.  0 with ch
 * filled (valid until the next call), or -1 with err ("FILE:LINE: unknown
 * directive Foo", or why a file could not be read): a 500.
 */
int	ht_walk(const struct ht_walker *w, const char *rel, struct ht_chain *ch, char *err,
	    size_t errsz);
/* Drop every parsed file. */
void	ht_cache_clear(void);

/*
 * Merge the chain for r as Apache does: each file (and its <Limit>s for
 * r's method), then their <Files> sections matching base (the target's
 * file name), then their <If>s (which clear r->cacheable).  0, or -1
 * (out of memory, or an <If> that failed to evaluate): a 500.  c is
 * ht_conf_free()'d by the caller either way.
 */
int	ht_conf_build(const struct ht_chain *ch, const char *base, struct ht_req *r,
	    struct ht_conf *c);
void	ht_conf_free(struct ht_conf *c);
/* Run a phase's hooks in table order: the first non-zero result, or 0. */
int	ht_run_phase(const struct ht_conf *c, enum ht_phase ph, struct ht_req *r);

/* ------------------------------------------------------------ a request */

struct wire_request;
struct wire_view;
/* r for the request q, v (copies of its strings); 0, or -1 (out of memory). */
int	ht_request_init(struct ht_req *r, const struct wire_request *q,
	    const struct wire_view *v, const char *docroot);

#define HT_RUN_SERVE	0	/* serve r->path (maybe another than asked for) */
#define HT_RUN_AGAIN	(-1)	/* internal */
/*
 * The .htaccess phases for r: walk, merge (base: the target's file name
 * for <Files>), access, fixups (internal redirects restart here, at most
 * HT_MAX_RECURSION times, and must stay below this locker's URLs), docs.
 * HT_RUN_SERVE, or a status to answer with (r's fields with it).  What
 * went wrong on the locker's side is told to note() (its error log).
 * *applied: whether any .htaccess did (the answer is then not cacheable).
 */
int	ht_request_run(const struct ht_walker *w, struct ht_req *r, const char *base,
	    void (*note)(const char *), int *applied);
/*
 * An internal redirect's URL (r->uri) back to r->path below web_scripts:
 * it must stay under this locker's URLs (r->url_prefix) and resolves as a
 * request's own (normalised: no "..", no NUL, no dotfile).  0, or -1
 * after telling note() why.
 */
int	ht_remap(struct ht_req *r, void (*note)(const char *));
/*
 * r's extra response fields for an answer of status as "Name: value\r\n"
 * lines into buf: a success's all, an error's or a redirect's the
 * HT_HDR_ALWAYS ones and a 3xx's Location.  Their length, or -1 if they
 * do not fit in cap.
 */
ssize_t	ht_fields(const struct ht_req *r, int status, char *buf, size_t cap);

/*
 * The extension a static file is typed by: ext (its last), unless the
 * .htaccess made it only a charset's or an encoding's ("c.txt.utf8",
 * "x.css.gz"): then the nearest one before it that is_static() knows,
 * as mod_mime types by every extension.  A static copy (until the next
 * call); ext when none fits.
 */
const char *ht_type_ext(const struct ht_req *r, const char *rel, int (*is_static)(const char *),
	    const char *ext);
/* What a directory's own phases left that its index's run decides again:
 * the handler, the type, the extra fields (the index's Header and Expires
 * apply, not the directory's). */
void	ht_index_reset(struct ht_req *r);
/* Is r's target to be given out as a file whatever its name (SetHandler None
 * in a <Files> naming it, or SetHandler default-handler)? */
int	ht_as_file(const struct ht_req *r);
/* FileETag's choice as WRESP_ETAG_* flags for front (0: its default). */
unsigned ht_etag_flags(const struct ht_req *r);

/* The listing of the directory dirfd for r, as its IndexOptions ... say (autoindex_render()). */
char	*ht_listing_render(int dirfd, const struct ht_req *r, size_t *len);

struct script_req;
/* r's variables as "NAME=value\n" lines into buf, as many whole ones as fit. */
size_t	ht_env_lines(const struct ht_req *r, char *buf, size_t cap);

#endif
