/*
 * rewrite.h: mod_rewrite and mod_alias as a locker's .htaccess files use
 * them, in the locker's worker only.
 *
 * A .htaccess file's rewrite and redirect directives go into one struct
 * rw_dir (rw_directive()); the worker merges them from web_scripts/ down
 * (rw_merge(), Apache's rules) and evaluates the merged set for a request
 * (rewrite_fixup() then alias_fixup()), which decides: nothing, an
 * internal redirect to a new URI (the caller walks again, at most
 * RW_MAX_INTERNAL times), an external redirect or a status.
 */
#ifndef LOCKERD_REWRITE_H
#define LOCKERD_REWRITE_H

#include <stddef.h>

struct rw_dir;

/*
 * One directive of a .htaccess file.  1 if it was one of ours and is
 * taken, 0 if name is not ours, -1 with err filled in ("what is wrong",
 * without FILE:LINE, which the caller adds).  *dp is created on first use.
 */
int	rw_directive(struct rw_dir **dp, const char *name, int argc, char **argv,
	    char *err, size_t errlen);
/* Whether name is one of the directives rw_directive() takes. */
int	rw_is_directive(const char *name);
void	rw_dir_free(struct rw_dir *d);
/*
 * Apache's merge, parent first.  child is the next .htaccess down; NULL
 * if that file had no rewrite or redirect line: then the parent's part
 * holds as it is, its directory included (Apache makes a module's part
 * only for its directives).  A child's rules replace its parent's unless
 * it says RewriteOptions Inherit (its rules, then the parent's) or
 * InheritBefore; engine and base are inherited.  Redirect and
 * RedirectMatch accumulate, the child's first.  The result shares nothing
 * that rw_dir_free() of either would free.
 */
struct rw_dir *rw_merge(const struct rw_dir *parent, const struct rw_dir *child);
/* The directory (below web_scripts, "" or "a/b/") whose file said it:
 * set once, by the parser; rules match below it. */
void	rw_set_dir(struct rw_dir *d, const char *dir);
const char *rw_get_dir(const struct rw_dir *d);
const char *rw_time_var(const char *name, char *buf, size_t sz,
    int (*cmp)(const char *, const char *));

#define RW_MAX_INTERNAL	10	/* Apache's LimitInternalRecursion */
#define RW_MAX_NEXT	100	/* passes of one rule set through [N] */

struct rw_env {
	char	*name;
	char	*value;
};

/*
 * The request as rewriting sees it.  The caller fills in the inputs;
 * rewrite_fixup() and alias_fixup() fill in the outputs (malloc'd strings,
 * freed by rw_req_clear()).  Paths are URL paths as the client sees them,
 * decoded ("/~alice/blog/2026/x"): root_url is the part of that which
 * maps to the locker's web_scripts (route.c's url_prefix: "/~alice", or ""
 * for a locker's own host), dir_url the directory whose .htaccess is being
 * applied ("/~alice/blog/").
 */
struct rw_req {
	const char	*method;
	const char	*uri;		/* decoded path */
	const char	*query;		/* raw, without '?'; NULL or "" if none */
	const char	*the_request;	/* "GET /x?y HTTP/1.1" */
	const char	*host;		/* the Host header, port and all */
	const char	*server_name;	/* host without the port */
	const char	*remote_addr;
	const char	*protocol;	/* "HTTP/1.1" */
	int		 https;
	unsigned	 port;		/* the listener's */
	const char	*root_url;
	const char	*dir_url;
	/* The filesystem path of web_scripts as the worker sees it, and an
	 * O_PATH descriptor of it: -f and friends look beneath it, never
	 * anywhere else. */
	const char	*document_root;
	int		 webroot_fd;
	const char	*filename;	/* REQUEST_FILENAME; NULL: from uri */
	const char	*path_base;	/* "/blog" for a vhost on web_scripts/blog; NULL: "" */
	/* Any request header by name, NULL if absent. */
	const char	*(*header)(void *ctx, const char *name);
	/* An SSL_* value of the connection (%{SSL:x}), NULL if none. */
	const char	*(*ssl)(void *ctx, const char *name);
	/* A line for the locker's error log (a bounded regex, a refusal). */
	void		 (*log)(void *ctx, const char *msg);
	/* The request's environment (E=, %{ENV:x}); without these, env[]. */
	const char	*(*getenv)(void *ctx, const char *name);
	void		 (*setenv)(void *ctx, const char *name, const char *value);	/* NULL: unset */
	void		*ctx;

	/* Carried from pass to pass by the caller: */
	int		 ended;		/* a rule with [END] matched */
	int		 internal;	/* internal redirects so far */
	struct rw_env	*env;
	size_t		 nenv;

	/* Outputs. */
	int		 status;	/* 0, or 3xx/403/410/500 */
	char		*location;	/* with a 3xx */
	char		*new_uri;	/* an internal redirect: decoded path */
	char		*new_query;	/* and its query (NULL: none) */
	char		*content_type;	/* T= */
	char		*handler;	/* H= */
	char		**cookies;	/* CO=: Set-Cookie values, one per name */
	size_t		 ncookies;
	char		 vary[256];	/* request headers the applied rules' conditions
					   read, for Vary on a success: "A,B" */
	int		 uncacheable;	/* decided on more than the path */
	int		 unvaried;	/* read a variable of the request that is no header */
	/* Each path below document_root a file test looks at, before it looks;
	 * NULL: one outside it (NULL: nobody is told). */
	void		 (*watch)(const char *rel);
};

enum rw_result {
	RW_NONE = 0,	/* go on serving r->uri */
	RW_INTERNAL,	/* serve r->new_uri?r->new_query instead: walk again */
	RW_STATUS,	/* answer r->status (and r->location) */
};

enum rw_result rewrite_fixup(const struct rw_dir *d, struct rw_req *r);
enum rw_result alias_fixup(const struct rw_dir *d, struct rw_req *r);
const char *rw_env_get(const struct rw_req *r, const char *name);
void	rw_req_clear(struct rw_req *r);	/* outputs and env */
/* Whether two Set-Cookie values set the same cookie (name before '='). */
int	rw_cookie_same(const char *a, const char *b);
/* The tokens of the comma-separated more added to list, each once. */
void	rw_vary_merge(char *list, size_t sz, const char *more);

#endif
