/* rewrite_int.h: what rewrite.c (parsing) and rw_eval.c (requests) share. */
#ifndef LOCKERD_REWRITE_INT_H
#define LOCKERD_REWRITE_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rewrite.h"

enum cond_kind {
	CK_REGEX, CK_STREQ, CK_STRLT, CK_STRGT, CK_STRLE, CK_STRGE,
	CK_FILE, CK_DIR, CK_LINK, CK_SIZE, CK_EXEC,
	CK_EQ, CK_NE, CK_LT, CK_LE, CK_GT, CK_GE,	/* CK_EQ first: they take an operand */
};

struct rw_cond {
	char		*test;		/* expanded for each request */
	char		*arg;		/* the string or number compared with */
	pcre2_code	*re;
	enum cond_kind	 kind;
	int		 neg, nocase, ornext, novary;
};

#define RF_LAST		0x0001
#define RF_END		0x0002
#define RF_QSA		0x0004
#define RF_QSD		0x0008
#define RF_QSL		0x0010
#define RF_NC		0x0020
#define RF_F		0x0040
#define RF_G		0x0080
#define RF_NE		0x0100
#define RF_PT		0x0200
#define RF_CHAIN	0x0400
#define RF_NEXT		0x0800
#define RF_B		0x1000
#define RF_BNP		0x2000
#define RF_DPI		0x4000
#define RF_NS		0x8000

struct rw_rule {
	int		 refs;		/* merged sets share their rules */
	pcre2_code	*re;
	int		 neg;
	char		*subst;
	struct rw_cond	*conds;
	size_t		 nconds;
	unsigned	 flags;
	int		 redirect;	/* R=: 3xx, 0 for none */
	int		 skip;		/* S= */
	int		 maxrounds;	/* N=: passes through [N] before a 500; 0: RW_MAX_NEXT */
	char		**env;		/* E=: "VAR:VALUE" or "!VAR" */
	size_t		 nenv;
	char		**cookies;	/* CO=: "NAME:VALUE:DOMAIN[:...]", expanded per request */
	size_t		 ncookies;
	char		*type;		/* T= */
	char		*handler;	/* H= */
};

struct rw_redirect {
	int		 refs;
	int		 code;		/* 3xx or 410 */
	pcre2_code	*re;		/* RedirectMatch */
	char		*path;		/* the URL-path or the regex's text */
	char		*url;		/* NULL with 410 */
};

/* RewriteOptions, as bits: a file's lines add up. */
#define OPT_INHERIT		0x01	/* this file's rules, then its parent's */
#define OPT_INHERIT_BEFORE	0x02	/* its parent's, then this file's */
#define OPT_INHERIT_DOWN	0x04	/* every directory below: as Inherit */
#define OPT_INHERIT_DOWN_BEFORE	0x08
#define OPT_IGNORE_INHERIT	0x10	/* refuse what a parent's ...Down pushes */
#define OPT_MERGEBASE		0x20

struct rw_dir {
	int		 engine;	/* -1: not said here */
	char		*base;		/* RewriteBase */
	char		*dir;		/* the .htaccess's directory, below web_scripts */
	unsigned	 options;	/* OPT_*: this file's, or what it inherited */
	int		 options_set;	/* RewriteOptions said here */
	struct rw_rule	**rules;
	size_t		 nrules;
	struct rw_cond	*pending;	/* conditions waiting for their rule */
	size_t		 npending;
	struct rw_redirect **redirects;
	size_t		 nredirects;
};

/* rw_vars.c: a variable that follows from the request's path alone, or
 * NULL; any other (NULL if unknown).  buf holds what is built. */
const char *rw_path_var(struct rw_req *r, const char *name, char *buf, size_t sz);
const char *rw_other_var(struct rw_req *r, const char *name, char *buf, size_t sz);
/* PATH_INFO as Apache's directory walk leaves it for the request's path:
 * what follows the first file or missing part ("" if none), in buf. */
const char *rw_path_info(struct rw_req *r, char *buf, size_t sz);

/* rw_flags.c: [CO]'s Set-Cookie value from the expanded flag (NULL: not
 * the three fields Apache needs, which sets nothing then); now: the
 * request's time.  rw_add_cookie() puts it in r->cookies unless a cookie
 * of that name is there. */
char	*rw_cookie_line(const char *spec, long long now);
void	rw_add_cookie(struct rw_req *r, const char *spec);
void	rw_cookies_clear(struct rw_req *r);
/* rw_flags.c: Vary.  The request header a %{NAME} reads, as Vary names it
 * (NULL: none, or Host, which RFC 9110 leaves out); a token added to a
 * comma-separated list in buf unless it is there. */
const char *rw_vary_header(const char *var, char *buf, size_t sz);
void	rw_vary_add(char *list, size_t sz, const char *token);

/* rw_files.c: a file test of a condition on path (under web_scripts
 * only): 1 or 0. */
int	rw_file_test(struct rw_req *r, enum cond_kind k, const char *path);

/* rw_files.c: cut path where Apache's directory walk would, leaving out
 * what becomes PATH_INFO (after a file, or after the first missing part). */
void	rw_split_path_info(struct rw_req *r, char *path);

#endif
