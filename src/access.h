/*
 * access.h: who may have a resource, as Apache 2.4 decides it from a
 * .htaccess (mod_authz_core, mod_authz_host, mod_authz_user/groupfile,
 * mod_access_compat, mod_auth_basic, mod_ssl's client-certificate checks).
 *
 * access.c keeps the requirements (struct ht_access: Require and its
 * containers, AuthMerging, Order/Allow/Deny, Satisfy, SSLVerifyClient,
 * SSLRequire); authbasic.c keeps the credentials (struct ht_auth: AuthType,
 * AuthName, AuthUserFile, AuthGroupFile) and checks them.  Both run in the
 * locker's worker only; access_run() is the HT_PH_ACCESS phase.
 */
#ifndef LOCKERD_ACCESS_H
#define LOCKERD_ACCESS_H

#include "htaccess.h"

/* ------------------------------------------------ access.c */

/* The directive rows' parsers (argv: the arguments, without the name). */
int	access_require(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_open_all(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_open_any(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_open_none(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_close(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_merging(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_order(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_allow(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_deny(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_satisfy(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_ssl_verify(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_ssl_require(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	access_forbidden_on_fail(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);

/*
 * After a file is parsed: a container left open, or a section of only
 * negated requirements, is an error (Apache refuses both).  0, or -1.
 */
int	access_finish(struct ht_parse *p, struct ht_dir *d);

/* struct ht_module hooks for d->access. */
void	*access_merge(const void *parent, const void *child);
void	 access_merged_free(void *part);
void	 access_free(void *part);

/*
 * The access phase on a merged configuration: 0 (go on, r->user set if
 * credentials were checked), or 401 (WWW-Authenticate added to r), 403 or
 * 500 (a line in the locker's error log says why), also set in r->status.
 * Clears r->cacheable when the answer depended on more than the path.
 */
int	access_run(const struct ht_conf *c, struct ht_req *r);

/* Where access.c and authbasic.c write the locker's error-log lines. */
extern void (*access_log_fn)(const char *line);
void	access_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------ authbasic.c */

int	auth_type(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	auth_name(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	auth_user_file(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	auth_group_file(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	auth_provider(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);

void	*auth_merge(const void *parent, const void *child);
void	 auth_merged_free(void *part);
void	 auth_free(void *part);

/* Is an AuthType in force for c (Apache's ap_auth_type())? */
int	auth_configured(const struct ht_conf *c);
/*
 * mod_auth_basic: the Authorization header's user and password against
 * AuthUserFile.  0 with r->user set; 401 (with WWW-Authenticate) for no,
 * malformed or wrong credentials; 500 for a configuration that cannot be
 * used (no AuthName, no AuthUserFile, a file outside the home ...).
 */
int	auth_authenticate(const struct ht_conf *c, struct ht_req *r);
/* Add the 401's WWW-Authenticate: Basic realm="..." to r. */
void	auth_challenge(const struct ht_conf *c, struct ht_req *r);
/* Is user in one of groups (a space-separated list) per AuthGroupFile? 1, 0, -1: error. */
int	auth_in_group(const struct ht_conf *c, const char *user, int argc, char **groups);

/*
 * The locker's home: AuthUserFile and AuthGroupFile are read beneath it
 * only.  The worker sets it once; a relative file name is taken from it.
 */
void	auth_set_home(const char *home);
/*
 * htpasswd's formats: bcrypt, $5$/$6$ SHA-crypt, $apr1$ MD5, {SHA}, DES
 * crypt(), compared in constant time.  1: matches, 0: does not, -1: a
 * hash in no format we know.
 */
int	auth_hash_check(const char *hash, const char *password);
/* Bound a line of a password file may not pass. */
#define AUTH_LINE_MAX	1024

/* ap_expr's -ipmatch and -R: whether addr (text) is in net ("a", "a/len",
 * "a/mask", "10.1"): 1 or 0, -1 if either is not an address. */
int	access_ip_match(const char *addr, const char *net);

#endif
