/*
 * access_int.h: what access.c (Require, the merges, the phase) and
 * access_host.c (addresses, Order/Allow/Deny/Satisfy, mod_ssl) share:
 * struct ht_access and its pieces.  Not for other files.
 */
#ifndef LOCKERD_ACCESS_INT_H
#define LOCKERD_ACCESS_INT_H

#include <stdint.h>

#include "access.h"

enum az_result { AZ_DENIED, AZ_GRANTED, AZ_NEUTRAL, AZ_NO_USER, AZ_ERROR };
enum az_op { AZ_LEAF, AZ_AND, AZ_OR };
enum az_kind { AK_ALL, AK_IP, AK_HOST, AK_LOCAL, AK_VALID_USER, AK_USER, AK_GROUP,
	AK_ENV, AK_METHOD, AK_EXPR, AK_FWD_DNS };
enum { MERGE_UNSET, MERGE_OFF, MERGE_AND, MERGE_OR };
enum { ORDER_DENY_ALLOW, ORDER_ALLOW_DENY, ORDER_MUTUAL };	/* 0: Apache's default */
enum { SAT_UNSET, SAT_ALL, SAT_ANY };

#define ALL_METHODS	0xffffffffu
#define NMETHODS	32

/* An address and its mask, IPv4 kept as IPv4-mapped IPv6. */
struct az_net {
	uint8_t	addr[16];
	uint8_t	mask[16];
};

struct az_node {
	enum az_op	 op;
	int		 negate;
	uint32_t	 limited;	/* the methods it applies to */
	enum az_kind	 kind;		/* a leaf's */
	char		**args;		/* user, group, env, host names */
	int		 nargs;
	struct az_net	*nets;
	int		 nnets;
	int		 granted;	/* all granted */
	uint32_t	 methods;	/* Require method */
	struct ht_expr	*expr;
	int		 want_user;	/* an expr that reads REMOTE_USER */
	struct az_node	*first, *next;
};

/* An Allow or Deny: from all, addresses, names or env=[!]VAR. */
struct az_from {
	uint32_t	 limited;
	int		 all;
	struct az_net	 net;
	int		 is_net;
	char		*host;		/* a name or a domain's tail */
	char		*env;
	int		 env_not;
	struct az_from	*next;
};

struct ht_access {
	struct az_node	*section;	/* the implicit <RequireAny>, or NULL */
	int		 merging;
	int		 forbidden_on_fail;	/* -1 unset */
	struct az_node	*open[HT_MAX_DEPTH];	/* containers being parsed */
	int		 nopen;
	/* mod_access_compat: a directory that names any replaces its parent's. */
	int		 has_compat;
	uint8_t		 order[NMETHODS];
	struct az_from	*allows, *denys;
	struct az_from	*allows2, *denys2;	/* merged: a <Limit>'s, after its file's */
	uint8_t		 satisfy[NMETHODS];
	/* made inside <Limit>: merged into its file's as Apache's one list */
	uint32_t	 in_limit;
	unsigned	 serial;	/* the file it was parsed from; a merge's: its last */
	/* mod_ssl */
	int		 verify;	/* -1 unset, 0 none/optional, 1 require */
	struct ht_expr	*ssl_req[16];
	int		 nssl_req;
	/* what merges made and own: freed by access_merged_free() */
	int		 merged;
	struct az_node	*made[3];
	int		 nmade;
	int		 ssl_shared;	/* ssl_req points into the parents' */
};

/* access.c */
struct ht_access *az_part_p(struct ht_parse *p, struct ht_dir *d);
uint32_t	az_limited_of(const struct ht_parse *p);

/* access_host.c */
void	az_from_free(struct az_from *f);
int	az_parse_net(const char *arg, struct az_net *n);
int	az_remote_addr(const struct ht_req *r, uint8_t out[16]);
int	az_net_match(const struct az_net *n, const uint8_t a[16]);
int	az_is_loopback(const uint8_t a[16]);
int	az_host_match(const char *want, const char *name);

/* access_dns.c: the client's name by a double-reverse lookup of the hosts
 * file (NULL: none), and whether a name's addresses there include a. */
const char *az_remote_name(const struct ht_req *r);
int	az_name_has_addr(const char *name, const uint8_t a[16]);
int	az_method_index(const char *name);
int	az_req_method(const struct ht_req *r);
int	az_join_args(char *out, size_t cap, int argc, char **argv);
int	az_compat_check(const struct ht_access *a, struct ht_req *r);	/* 0 or 403 */
int	az_ssl_check(const struct ht_access *a, struct ht_req *r);	/* 0, 403 or 500 */

#endif
