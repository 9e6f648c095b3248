/*
 * hesiod.h: lockers published as Hesiod records (issue 18), so that an
 * organisation's machines find them the way Athena clients do (hesinfo,
 * hesiod_getpwnam()).  For each locker NAME, under LHS.ZONE (hesiod-lhs,
 * hesiod-zone):
 *
 *	NAME.filsys	TXT	hesiod-filsys with NAME for %s (where its home is)
 *	NAME.passwd	TXT	NAME:*:UID:GID:Locker NAME:HOME:/usr/sbin/nologin
 *	UID.uid		CNAME	NAME.passwd
 *	NAME.group	TXT	NAME:*:GID:
 *	GID.gid		CNAME	NAME.group
 *	NAME.url	TXT	its web URL
 *
 * Nothing secret is in them: the password field is "*", and every field
 * comes from the locker's name and numbers and from the configuration.
 *
 * The records are built here (hesiod_rec.c) for the master's `locker
 * export hesiod` and for the hesiod role (hesiod.c), which sends them; the
 * master sends the role typed lockers (struct hesiod_locker), never text.
 */
#ifndef HESIOD_H
#define HESIOD_H

#include <stddef.h>
#include <stdint.h>

#include "lockerd.h"

#define HESIOD_TTL	300
#define HESIOD_RECS	6		/* records per locker */
/* A TXT's text: in character-strings of 255 bytes, which libhesiod joins
 * again (a passwd line of a long name and home is longer than one). */
#define HESIOD_TXT_MAX	1000
#define HESIOD_STR_MAX	255

/* What the master tells the role of one locker. */
struct hesiod_locker {
	char		name[LOCKER_NAME_MAX + 1];
	uint32_t	uid, gid;
};

enum hesiod_rtype { HESIOD_TXT = 1, HESIOD_CNAME = 2 };

/* One record: its owner and, for a CNAME, its target, absolute (final dot). */
struct hesiod_rec {
	char		owner[HOSTNAME_MAX + 2];
	int		type;			/* enum hesiod_rtype */
	char		data[HESIOD_TXT_MAX + 1];
};

/*
 * The records of l under c's hesiod-* (its six, in the order above): 0, or
 * -1 with err (a name that is not a DNS label, a record too long).
 */
int	hesiod_records(const struct config *c, const struct hesiod_locker *l,
	    struct hesiod_rec out[HESIOD_RECS], char *err, size_t errlen);
/* lockerd -t and the master's start: hesiod-lhs, hesiod-zone and
 * hesiod-filsys make records (0), or -1 with err saying what is wrong. */
int	hesiod_conf_check(const struct config *c, char *err, size_t errlen);
/* Whether owner (absolute or not, any case) is one the records above use:
 * one label under filsys, passwd, uid, group, gid or url of LHS.ZONE. */
int	hesiod_owner_ours(const struct config *c, const char *owner);

/* ------------------------------------------------------------ hesiod_sync.c */

/*
 * A set of records, as the zone holds them (from a transfer: every record
 * at an owner hesiod_owner_ours() says is ours) or as they should be (from
 * the lockers).  hesiod_plan() sends the difference: every owner whose
 * records differ is deleted whole and given its records again, in UPDATEs
 * of at most HESIOD_BATCH records through emit (0 ok, -1 stop: its error).
 */
struct hesiod_item;
struct hesiod_set {
	struct hesiod_item	*v;
	size_t			 n, cap;
};
#define HESIOD_BATCH	600
void	hesiod_set_free(struct hesiod_set *s);
struct ldns_struct_rr;
int	hesiod_set_add_rr(struct hesiod_set *s, const struct config *c,
	    const struct ldns_struct_rr *rr);			/* 1 added, 0 not ours, -1 */
int	hesiod_set_add_locker(struct hesiod_set *s, const struct config *c,
	    const struct hesiod_locker *l, char *err, size_t errlen);
struct ldns_struct_rr_list;
int	hesiod_plan(struct hesiod_set *have, struct hesiod_set *want, uint32_t *sent,
	    int (*emit)(const struct ldns_struct_rr_list *up, void *arg), void *arg);
/* The update that makes the zone hold exactly l's records (del 0), or none
 * of them (del 1): each owner deleted whole, then given its records. */
struct ldns_struct_rr_list *hesiod_locker_update(const struct config *c,
	    const struct hesiod_locker *l, int del, char *err, size_t errlen);

/* ------------------------------------------------------------ messages */

/* MSG_HESIOD_ALL: every locker, in a sealed memfd of n struct hesiod_locker;
 * full: compare with what the zone holds (a transfer) and fix it. */
struct msg_hesiod_all {
	uint32_t	n;
	uint32_t	full;
};
#define HESIOD_LOCKERS_MAX	10000000u

/* MSG_HESIOD_STATUS: the role's last round. */
struct msg_hesiod_status {
	int32_t		ok;		/* 1: the zone holds every record */
	uint32_t	lockers;
	uint32_t	sent;		/* records added or deleted in the round */
	int64_t		at;		/* unix time */
	char		why[240];	/* when not ok */
};

/* MSG_CTL_HESIOD: `locker export hesiod`'s answer; fd = a memfd of its
 * output, zone-file lines (or JSON with CTL_F_JSON) the CLI copies out. */
struct ctl_hesiod {
	uint32_t	lockers;
	uint32_t	records;
};
/* cli_hesiod.c: that output copied to stdout; 0, or -1. */
int	cli_hesiod_copy(int fd);

/* hesiod.c: the role (lockerd's argv[0] "hesiod"). */
int	hesiod_main(void);

/* hesiod_master.c: the master's side. */
struct ctl_client;
int	hesiod_check(const struct config *c, char *err, size_t errlen);
void	hesiod_start(void);
void	hesiod_stop(int sig);
void	hesiod_tick(void);
void	hesiod_reload(void);			/* a new configuration */
struct child *hesiod_child(void);
void	hesiod_locker_added(const char *name);	/* a signup */
void	hesiod_locker_removed(const char *name);
void	hesiod_push_all(int full);		/* every locker, e.g. after a feed */
const char *hesiod_master_msg(int type, const void *buf, size_t len);
/* Whether this node publishes (configured, and the hesiod lease's). */
int	hesiod_publishing(void);
/* The role's last round, for `locker export hesiod` (0: none yet). */
int	hesiod_last(struct msg_hesiod_status *out);

#endif
