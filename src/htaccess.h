/*
 * htaccess.h: .htaccess files as Apache 2.4 reads them (AllowOverride All),
 * read, parsed, cached and evaluated only in the locker's worker.
 *
 * Parsing (htaccess.c) turns one file into a struct ht_dir: each module's
 * per-directory part, and its sections (<Files>, <If>, <Limit> ...), each
 * an ht_dir of its own.  The directives are rows of ht_directives[]
 * (httable.c), where every module adds its own; the module hooks (merge,
 * free) are rows of ht_modules[] there too.
 *
 * For a request, the worker merges the files from web_scripts/ down to
 * the target's directory, then the sections that match, into a struct
 * ht_conf, and runs the phases in Apache's order on a struct ht_req:
 * access_check() -> rewrite_fixup()/alias_fixup() -> types, handler,
 * headers, error documents -> serve.
 */
#ifndef LOCKERD_HTACCESS_H
#define LOCKERD_HTACCESS_H

#include <stddef.h>
#include <stdint.h>

/* Bounds on one file; past any of them the file is an error (500). */
#define HT_MAX_FILE		(512 * 1024)	/* bytes */
#define HT_MAX_LINE		16384		/* bytes of a logical line, continuations joined */
#define HT_MAX_ARGS		64		/* arguments of one directive */
#define HT_MAX_DEPTH		16		/* nested sections */
#define HT_MAX_DIRECTIVES	4096		/* directives and sections in one file */
#define HT_MAX_RECURSION	10		/* internal redirects (LimitInternalRecursion) */

/* Where a directive may appear (a row's `where`), and where the parser is. */
#define HT_FILE		0x01	/* at the top of the file */
#define HT_IN_FILES	0x02	/* in <Files>, <FilesMatch> */
#define HT_IN_LIMIT	0x04	/* in <Limit>, <LimitExcept> */
#define HT_IN_IF	0x08	/* in <If>, <ElseIf>, <Else> */
#define HT_ANYWHERE	(HT_FILE | HT_IN_FILES | HT_IN_LIMIT | HT_IN_IF)
/* A row's flag: its arguments are not split (Apache's RAW_ARGS): parse()
 * gets argc 0 and reads p->raw, as an expression with quotes and braces. */
#define HT_RAW		0x100

/* Methods, as <Limit> names them: a bit per method (bit 0: any other). */
#define HT_M_BIT(m)	(1u << (m))	/* m: enum http_method */

struct ht_dir;
struct ht_expr;

/* What a directive's parse function sees of the parser. */
struct ht_parse {
	const char	*file;		/* as messages name it: "web_scripts/a/.htaccess" */
	const char	*dir;		/* the directory the file applies to, below web_scripts:
					   "" or "a/b/" */
	int		 line;		/* of the directive (its first physical line) */
	unsigned	 where;		/* HT_FILE or the innermost section's HT_IN_* */
	uint32_t	 limit;		/* in <Limit>: its methods; <LimitExcept>: the others;
					   0 outside both */
	int		 depth;
	int		 ndirectives;
	unsigned	 serial;	/* which parse of a file: its parts and its <Limit>s'
					   share it (access.c joins those, as Apache does) */
	const char	*raw;		/* the directive's arguments as written, quotes and
					   all (Apache's RAW_ARGS: Require expr, SSLRequire) */
	char		 err[512];	/* the first error, "FILE:LINE: what" */
};

/*
 * Report a parse error: formats into p->err with the "FILE:LINE: " prefix
 * (the first error wins) and returns -1, for `return ht_error(p, ...)`.
 */
int	ht_error(struct ht_parse *p, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * A directive: its name (compared case-insensitively), the module that
 * owns it (for messages), where it may appear, and its parser, which
 * fills d's part of that module: 0, or -1 after ht_error().  argv[] holds
 * the arguments, unquoted and unescaped, argv[argc] is NULL.  A section's
 * row (its name starting with '<') is htaccess.c's, not a module's.
 */
struct ht_directive {
	const char	*name;
	const char	*module;
	unsigned	 where;
	int		(*parse)(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
};
extern const struct ht_directive ht_directives[];	/* ends with a NULL name */

/* ---------------------------------------------------------------- core */

/* The directives htcore keeps itself (Options, DirectoryIndex, ErrorDocument,
 * types and handlers, SetEnv*, php_*, Header, Expires*), see htaccess.c. */
struct ht_core;

/* Each module's per-directory part: NULL while a file has none of its directives. */
struct ht_rewrite;	/* rewrite.c: RewriteEngine ... RewriteRule */
struct ht_alias;	/* rewrite.c: Redirect, RedirectMatch ... */
struct ht_access;	/* access.c: Require, Order/Allow/Deny, Satisfy */
struct ht_auth;		/* authbasic.c: AuthType, AuthName, AuthUserFile ... */
struct ht_docs;		/* the htaccess part's: ErrorDocument, Header, Expires* */
struct ht_env;		/* htcore.c: SetEnv, SetEnvIf, UnsetEnv (before access) */
struct ht_mime;		/* htmime.c: AddEncoding, RemoveEncoding, FileETag */
struct ht_index;	/* htindex.c: IndexOptions, IndexIgnore, IndexOrderDefault ... */

enum ht_section_kind {
	HT_SEC_FILES = 1,	/* <Files>, <FilesMatch>, <Files ~>: on the target's base name */
	HT_SEC_LIMIT,		/* <Limit>, <LimitExcept>: on the method */
	HT_SEC_IF,		/* <If>: on an expression, per request */
	HT_SEC_ELSEIF,		/* <ElseIf>: after an <If>/<ElseIf> that did not hold */
	HT_SEC_ELSE,
};

struct ht_section {
	enum ht_section_kind	 kind;
	char			*pattern;	/* <Files>: a glob, or a regex when is_regex */
	int			 is_regex;
	void			*re;		/* compiled (pcre2_code *), NULL when none */
	uint32_t		 methods;	/* <Limit>: HT_M_BIT()s it applies to */
	struct ht_expr		*expr;		/* <If>, <ElseIf> */
	struct ht_dir		*dir;		/* what is inside */
	int			 line;
};

/* One file's, or one section's, configuration. */
struct ht_dir {
	struct ht_core		*core;
	struct ht_rewrite	*rw;
	struct ht_alias		*alias;
	struct ht_access	*access;
	struct ht_auth		*auth;
	struct ht_docs		*docs;
	struct ht_env		*env;
	struct ht_mime		*mime;
	struct ht_index		*index;
	struct ht_section	*sec;		/* in file order */
	int			 nsec;
	char			 path[256];	/* the directory, below web_scripts: "" or "a/b/" */
};

/* The phases, in Apache's order; a module's row names the one it runs in. */
enum ht_phase {
	HT_PH_NONE = 0,
	HT_PH_ACCESS,		/* access.c: Require ..., 401 with WWW-Authenticate in r->hdr */
	HT_PH_FIXUP,		/* rewrite.c then alias: an ht_fixup result */
	HT_PH_DOCS,		/* types, handler, headers, error documents */
};

/* What a HT_PH_FIXUP hook decided. */
enum ht_fixup {
	HT_FIX_NONE = 0,	/* nothing: serve r->path */
	HT_FIX_INTERNAL,	/* r->uri and r->query replaced: htcore walks again (at
				   most HT_MAX_RECURSION times, then 500) */
	HT_FIX_STATUS,		/* r->status set: a redirect (r->location), 403, 410, 500 */
};

/*
 * A module's hooks on its part of struct ht_dir (at `off`).  merge()
 * returns a new part for a directory below `parent` whose own is `child`
 * (both non-NULL; neither is changed, and both outlive what merge()
 * returns, which may point into them), or NULL on allocation failure;
 * merged_free() frees what merge() returned (not what it points into);
 * free() frees a part the parser made, all of it.  A directory without a
 * part of a module keeps its parent's as it is.  run() is the module's
 * phase on the merged configuration: 0 (or HT_FIX_NONE) to go on, else a
 * status set in r (HT_PH_ACCESS, HT_PH_DOCS) or an ht_fixup (HT_PH_FIXUP).
 * Rows run in table order within a phase.
 */
struct ht_conf;
struct ht_req;
struct ht_module {
	const char	*name;
	size_t		 off;
	void		*(*merge)(const void *parent, const void *child);
	void		(*merged_free)(void *part);
	void		(*free)(void *part);
	enum ht_phase	 phase;
	int		(*run)(const struct ht_conf *c, struct ht_req *r);
};
extern const struct ht_module ht_modules[];	/* ends with a NULL name */

/* A merged configuration: struct ht_dir's parts, as they hold for a request. */
struct ht_conf {
	struct ht_dir	 d;		/* the merged parts (sec unused) */
	void		**owned;	/* what merges made, freed by ht_conf_free() */
	const struct ht_module **owner;
	int		 nowned, cap;
	int		 nfiles;	/* .htaccess files that applied */
};

/*
 * Parse one file's bytes (not NUL-terminated) into a new ht_dir.  p->file
 * and p->dir are the caller's; the rest is set here.  Returns the dir, or
 * NULL with p->err set ("FILE:LINE: unknown directive Foo", "FILE:LINE:
 * <Files> not closed", "FILE: larger than 524288 bytes" ...).
 */
struct ht_dir *ht_parse_file(struct ht_parse *p, const char *buf, size_t len);
void	ht_dir_free(struct ht_dir *d);

/* Is a module of that name (<IfModule>'s argument) one lockerd implements? */
int	ht_have_module(const char *name);

/* ---------------------------------------------------------------- request */

#define HT_HDR_MAX		32	/* extra response headers */
#define HT_ENV_MAX		64	/* environment variables */
#define HT_PHP_MAX		32	/* php_value and friends */
#define HT_HOP_MAX		64	/* Header operations for front (WHOP_MAX) */

struct ht_kv {
	char	*name;
	char	*value;
	int	 flag;		/* headers: HT_HDR_ALWAYS */
};
#define HT_HDR_ALWAYS	0x1	/* also on errors and redirects (Header always) */

/*
 * A request as the modules see it.  The inputs point into the worker's
 * request message and stay valid while it is handled; uri, path, query,
 * filename and what the phases set are the request's own (ht_req_free()).
 */
struct ht_req {
	/* in */
	int		 method;	/* enum http_method */
	const char	*method_str;
	const char	*raw_uri;	/* the request-target as sent (REQUEST_URI) */
	const char	*protocol;	/* "HTTP/1.0", "HTTP/1.1" or "HTTP/2.0" */
	const char	*host;		/* Host as sent, "" if none */
	int		 https;		/* 1 over TLS */
	const char	*remote;	/* client address */
	unsigned	 remote_port;
	const char	*local;		/* our address */
	unsigned	 server_port;
	const char	*headers;	/* "Name: value\n"... (ht_req_header()) */
	size_t		 headers_len;
	const char	*tls;		/* "SSL_NAME=value\n"... (ht_req_ssl()) */
	size_t		 tls_len;
	const char	*docroot;	/* the locker's web_scripts, absolute, no trailing '/' */
	const char	*url_prefix;	/* "/~name" or "", before every URL of this locker */
	const char	*path_base;	/* "/blog" for a vhost on web_scripts/blog, else "":
					   path is path_base + (uri without url_prefix) */

	/* in, and replaced by an internal redirect */
	char		*uri;		/* the URL path, decoded and normalised */
	char		*query;		/* after '?', "" if none */
	char		*path;		/* uri's file below web_scripts: "/a/b.php" (vhost
					   subdir included); may be a directory */
	char		*dir;		/* the directory whose .htaccess is applied, below
					   web_scripts, with its trailing '/': "/a/" */
	char		*filename;	/* docroot + path */
	int		 redirects;	/* internal redirects so far */
	int		 rewrite_ended;	/* a RewriteRule with [END] matched: no more rules */
	char		**kept;		/* what ht_req_header() and ht_req_ssl() returned */
	int		 nkept;

	/* set by the phases */
	int		 status;	/* 0: go on; else answer with it */
	char		*location;	/* a redirect's URL (sent with any 3xx status) */
	/* Extra response fields: a success's all of them; an error's or a
	 * redirect's only those flagged HT_HDR_ALWAYS (a 401's WWW-Authenticate
	 * must be). */
	struct ht_kv	 hdr[HT_HDR_MAX];
	int		 nhdr;
	struct ht_kv	 env[HT_ENV_MAX];	/* SetEnv, SetEnvIf, E= */
	int		 nenv;
	struct ht_kv	 php[HT_PHP_MAX];	/* php_value, php_flag (a flag's value "1"/"0") */
	int		 nphp;
	char		*content_type;	/* ForceType, AddType, T= */
	char		*handler;	/* SetHandler, AddHandler, H= */
	char		*user;		/* the authenticated user */
	char		*error_docs;	/* the ErrorDocuments that hold where the walk
					   ended, "STATUS DOC\n" each (htdocs_keep_errdocs()):
					   a local URL, a text ("\"...") or a full URL */
	/* Header's operations on the fields front and a script write (the
	 * worker's own fields, hdr[], it changed itself): front applies them
	 * (wire.h's struct wire_hop, op one of its WHOP_* letters). */
	struct ht_hop {
		int	 op;
		int	 always;
		char	*name, *re, *sub;
	}		 hop[HT_HOP_MAX];
	int		 nhop;
	int		 cacheable;	/* 1 until something beyond the path decided */
	/* What a rewrite's E= took from the request for scripts' environment
	 * (not the decision): the request headers it read ("name\n" each, for
	 * front to compare), or unvaried when it read what no header says. */
	char		 vary[256];
	int		 env_unvaried;
	/* htcore.c's, for serving */
	unsigned	 options;	/* HT_OPT_* (Options) */
	char		*index;		/* DirectoryIndex: names separated by ' ', NULL: the
					   configuration's */
	char		*charset;	/* AddCharset's for the extension, or AddDefaultCharset's
					   (for text/plain and text/html only); NULL: none */
	unsigned	 ext_meta;	/* bit i: the name's extension i (ht_exts_of()) names
					   only a charset or an encoding, not the type */
	unsigned	 etag;		/* FileETag: HT_ETAG_* bits; 0: not said (MTime Size) */
	struct ht_listing *listing;	/* IndexOptions ...; NULL: Debian's */
};

/* How a listing of the directory is made (htindex.c, for autoindex.c). */
struct ht_listing {
	unsigned	 flags;		/* AI_* of autoindex.h */
	char		 order_key;	/* IndexOrderDefault: 'N', 'M', 'S'; 0: by name */
	int		 order_desc;
	char		 charset[64];	/* IndexOptions Charset= (Debian's: UTF-8) */
	char		**ignore;	/* IndexIgnore globs, NULL-terminated */
	int		 nignore;
};
void	ht_listing_free(struct ht_listing *l);

#define HT_ETAG_INODE		0x1
#define HT_ETAG_MTIME		0x2
#define HT_ETAG_SIZE		0x4
#define HT_ETAG_SET		0x8	/* FileETag said: the bits above hold (none: None) */

#define HT_OPT_INDEXES		0x1	/* a directory without an index is listed */
#define HT_OPT_FOLLOW		0x2	/* FollowSymLinks (lockerd follows within the home anyway) */
#define HT_OPT_OWNER		0x4	/* SymLinksIfOwnerMatch */
#define HT_OPT_EXECCGI		0x8
#define HT_OPT_MULTIVIEWS	0x10	/* accepted, not implemented */
#define HT_OPT_INCLUDES		0x20	/* accepted, not implemented */

/*
 * A request header's value (the first field of that name, compared
 * case-insensitively), NUL-terminated in a per-request copy; NULL if
 * absent.  Asking clears r->cacheable: the answer depended on it.
 */
const char *ht_req_header(struct ht_req *r, const char *name);
/* An SSL_* value of the TLS session, or NULL; clears r->cacheable. */
const char *ht_req_ssl(struct ht_req *r, const char *name);
/* Environment: get (NULL if unset), set (replaces; -1 when full), unset. */
const char *ht_req_getenv(const struct ht_req *r, const char *name);
int	ht_req_setenv(struct ht_req *r, const char *name, const char *value);
void	ht_req_unsetenv(struct ht_req *r, const char *name);
/* An extra response header (no CR, LF or NUL, bounded): 0, or -1 (refused). */
int	ht_req_add_header(struct ht_req *r, const char *name, const char *value, int flag);
/*
 * A Header operation for front: 'u' (unset), 'e' (edit), 'E' (edit*), on
 * name; re and sub for an edit ("" for unset).  0, or -1 (full, or out of
 * memory: the operation is lost, which the caller may not ignore).
 */
int	ht_req_add_hop(struct ht_req *r, int op, int always, const char *name, const char *re,
	    const char *sub);
/* Replace a string field of r (uri, query, location ...) with a copy of s. */
int	ht_req_set(char **field, const char *s);
void	ht_req_free(struct ht_req *r);

/*
 * PCRE2's match context for every regex of a .htaccess (pass it to
 * pcre2_match()): match and depth limits set, so that a regex that
 * backtracks catastrophically fails (PCRE2_ERROR_MATCHLIMIT) instead of
 * stalling the worker.  A (pcre2_match_context *).
 */
void	*ht_match_context(void);

/* ---------------------------------------------------------------- <If> */

/* <If> expressions (htaccess.c): parse at load, evaluate per request. */
struct ht_expr *ht_expr_parse(struct ht_parse *p, const char *text);
int	ht_expr_eval(const struct ht_expr *e, struct ht_req *r);	/* 1, 0, or -1: error */
void	ht_expr_free(struct ht_expr *e);
/*
 * A string expression (ErrorDocument's, Apache's string mode): text with
 * %{VAR}s in it, evaluated into out for a request (which it makes
 * uncacheable).  NULL after ht_error().
 */
struct ht_expr *ht_expr_parse_string(struct ht_parse *p, const char *text);
void	ht_expr_string(const struct ht_expr *e, struct ht_req *r, char *out, size_t outsz);

#endif
