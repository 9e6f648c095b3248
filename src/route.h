/*
 * route.h: which locker a request belongs to.
 *
 * The master builds a routing table from the directory and the
 * configuration and pushes it to every front process as one flat blob
 * (the Moira "DCM push" pattern); front never reads the database.  The
 * blob format is private to route.c; route_table_load() validates it
 * completely, because front must not trust any input it did not check.
 */
#ifndef LOCKERD_ROUTE_H
#define LOCKERD_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define LOCKER_NAME_MAX	63	/* a DNS label */
#define HOSTNAME_MAX	253
#define SUBDIR_MAX	255

struct route_builder;
struct route_table;

/* --- master side --- */
struct route_builder *route_builder_new(const char *domain);
/* A service host name on which /~name/ URLs are served (domain itself is one). */
int	route_builder_add_hostname(struct route_builder *b, const char *host);
int	route_builder_add_locker(struct route_builder *b, const char *name);
/* subdir: "" for the web_scripts root, else a relative path like "blog" or "a/b". */
int	route_builder_add_vhost(struct route_builder *b, const char *host,
	    const char *locker, const char *subdir);
/* A vhost's own choice (`locker vhost add --https-only`, `--no-https-only`);
 * the others follow the configuration's https-only. */
#define ROUTE_HTTPS_DEFAULT	0
#define ROUTE_HTTPS_ONLY	1	/* plain HTTP gets a 301 to https:// */
#define ROUTE_HTTPS_PLAIN_OK	2	/* served over both */
int	route_builder_add_vhost_https(struct route_builder *b, const char *host,
	    const char *locker, const char *subdir, int https);
/* Serialise; *out is malloc'd, caller frees. 0 on success, -1 on error. */
int	route_builder_finish(struct route_builder *b, void **out, size_t *outlen);
void	route_builder_free(struct route_builder *b);

/* --- front side --- */
/* Copies what it needs from data; NULL if the blob is malformed in any way. */
struct route_table *route_table_load(const void *data, size_t len);
void	route_table_free(struct route_table *t);
size_t	route_table_nlockers(const struct route_table *t);

/*
 * What changed from table a to table b, for front's caches: cb is called
 * with every locker in only one of them and every locker of a vhost added,
 * removed or changed (a name may come more than once).  -1 if a or b is
 * NULL or they differ in what routes every locker (the domain, the service
 * host names): then take everything as changed.
 */
int	route_table_diff(const struct route_table *a, const struct route_table *b,
	    void (*cb)(const char *locker, void *arg), void *arg);

/*
 * One change to a loaded table, pushed by the master for a signup, a
 * removal or one vhost, so that a change costs a search and a move in
 * front's sorted arrays instead of a whole new table (100,000 lockers:
 * half a second to build, a fifth to load).  Front checks it as it checks
 * a table.  ROUTE_DEL_LOCKER drops the locker's vhosts too;
 * ROUTE_SET_VHOST adds the host or replaces what it routes to.
 */
enum route_op {
	ROUTE_ADD_LOCKER = 1,
	ROUTE_DEL_LOCKER,
	ROUTE_SET_VHOST,
	ROUTE_DEL_VHOST,
};

struct route_delta {
	uint32_t	gen;		/* the routing table generation it makes */
	uint8_t		op;		/* enum route_op */
	uint8_t		https;		/* ROUTE_SET_VHOST: ROUTE_HTTPS_* */
	char		locker[LOCKER_NAME_MAX + 1];
	char		host[HOSTNAME_MAX + 1];
	char		subdir[SUBDIR_MAX + 1];
};

/* Applies d to t; cb (may be NULL) gets every locker whose routes it
 * changed.  0, or -1 with t unchanged if d is malformed or names a locker
 * t does not hold (a vhost's). */
int	route_table_apply(struct route_table *t, const struct route_delta *d,
	    void (*cb)(const char *locker, void *arg), void *arg);

enum route_status {
	ROUTE_LOCKER = 1,	/* out is filled in */
	ROUTE_NO_LOCKER,	/* a locker host or /~name/ naming no locker: 404 */
	ROUTE_SERVICE,		/* a service host name, path not under /~name/ */
	ROUTE_UNKNOWN_HOST,	/* not ours at all */
};

struct route_result {
	char	locker[LOCKER_NAME_MAX + 1];
	/* Path below web_scripts, starting with '/', or "" for "/~name" with
	 * no slash after it (the caller redirects to url_prefix + "/"). */
	char	fs_path[4096];
	/* What the client sees before the part of the path that maps into
	 * fs_path: "/~alice" for /~alice/x, "" for a subdomain or a vhost. */
	char	url_prefix[LOCKER_NAME_MAX + 3];
	int	https;		/* a vhost's ROUTE_HTTPS_*; DEFAULT for the rest */
};

/*
 * host: the Host header value as received (any case, optional :port,
 * optional trailing dot; may be empty).  path: a path already normalised
 * by http_normalize_path() (absolute, no dot segments).
 * Lookup order: a service host name (/~<locker>/) first, then
 * <locker>.<domain>, then a vhost (exact host): what the administrator
 * configured wins over what a locker chose.
 */
enum route_status route_lookup(const struct route_table *t, const char *host, size_t hostlen,
	    const char *path, struct route_result *out);

/*
 * A locker name's syntax (a DNS label: a-z 0-9 '-', not at either end, not
 * all digits, no "ab--"), the one check every process uses; 0 or -1 with
 * why (may be NULL).  directory.c's locker_name_check() adds reserved names.
 */
int	locker_label_check(const char *s, size_t len, char *why, size_t whylen);

/* A vhost subdir: relative, no "." / ".." / empty segments, no leading '.'
 * in any segment, [A-Za-z0-9._~-] and '/' only ("" is web_scripts itself).
 * 0 if valid, else -1 with why (may be NULL). */
int	subdir_check(const char *subdir, char *why, size_t whylen);

/* Lower-case host, strip :port and one trailing dot; -1 if not a valid host name. */
int	route_canon_host(const char *host, size_t len, char *out, size_t outsz);

#endif
