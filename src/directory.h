/*
 * directory.h: lockers, vhosts, admins and the audit trail (SQLite, in the
 * state dir).
 *
 * Only the master opens it.  Every change is one transaction, so a crash at
 * any point leaves the database consistent.  A uid, once allocated, is never
 * allocated again, even after the locker that held it is removed.
 */
#ifndef LOCKERD_DIRECTORY_H
#define LOCKERD_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "route.h"

struct directory;

struct locker_rec {
	char		name[LOCKER_NAME_MAX + 1];
	uint32_t	uid;
	uint32_t	gid;		/* == uid: one group per locker */
	int64_t		created;	/* unix time */
};

struct vhost_rec {
	char	host[HOSTNAME_MAX + 1];		/* canonical: lower case, no port, no trailing dot */
	char	locker[LOCKER_NAME_MAX + 1];
	char	subdir[SUBDIR_MAX + 1];		/* "" or relative path without dot segments */
	int	https;				/* ROUTE_HTTPS_*: its own, or the default */
};

/* Error text goes to err (always NUL-terminated) when a call returns -1. */

/* Opens or creates the database file and its schema. */
struct directory *dir_open(const char *path, char *err, size_t errlen);
void	dir_close(struct directory *d);

/*
 * Every writer of a replicated table (dirtab.h) goes through these, in
 * single-machine mode too: in a fleet the commit first sends the change to
 * PostgreSQL (dir_fleet.h) and a commit that did not is vetoed.  Each 0, or
 * -1 with err (dir_tx_commit: rolled back).  dir_tx_abort() returns -1.
 */
int	dir_tx_begin(struct directory *d, char *err, size_t errlen);
int	dir_tx_commit(struct directory *d, char *err, size_t errlen);
int	dir_tx_abort(struct directory *d);
/*
 * A one-off statement for a part with SQL of its own (app_dir.c,
 * cron_dir.c): NULL (logged, as who) if it does not prepare.  dir_step()
 * runs one that returns no rows and finalizes it: 0, or -1 (logged).
 */
struct sqlite3_stmt;
struct sqlite3_stmt *dir_prep(struct directory *d, const char *who, const char *sql);
int	dir_step(struct directory *d, const char *who, struct sqlite3_stmt *st);
/* Fleet mode's state (dir_fleet.c); NULL in single-machine mode. */
struct dir_fleet;
void	dir_set_fleet(struct directory *d, struct dir_fleet *f);
/* The database itself, for a part that keeps tables of its own in it
 * (maillog.c), with its own statements; only the master calls it. */
struct sqlite3;
struct sqlite3 *dir_sqlite(struct directory *d);

/*
 * Allocates the lowest uid in [lo, hi] that was never allocated before in
 * this database (so uids are never reused) and records the locker.
 * Fails if the name is in use or the range is exhausted.
 */
int	dir_locker_add(struct directory *d, const char *name, uint32_t lo, uint32_t hi,
	    struct locker_rec *out, char *err, size_t errlen);
/* 1 found, 0 not found, -1 error. */
int	dir_locker_get(struct directory *d, const char *name, struct locker_rec *out);
int	dir_locker_get_by_uid(struct directory *d, uint32_t uid, struct locker_rec *out);
/* Removes the locker and its vhosts in one transaction; its uid stays retired.
 * archive: where its home was moved (recorded in history), or "" if purged. */
int	dir_locker_remove(struct directory *d, const char *name, const char *archive,
	    char *err, size_t errlen);
/* Calls cb for every locker in name order; stops and returns cb's value if non-zero. */
int	dir_locker_foreach(struct directory *d,
	    int (*cb)(const struct locker_rec *, void *), void *arg);
size_t	dir_locker_count(struct directory *d);

/*
 * Like dir_locker_add, and makes the login uid admin (if >= 0) its first
 * admin in the same transaction.
 */
int	dir_locker_add_with_admin(struct directory *d, const char *name, uint32_t lo,
	    uint32_t hi, int64_t admin, struct locker_rec *out, char *err, size_t errlen);

/* host must already be canonical (route_canon_host). Fails if the host exists. */
int	dir_vhost_add(struct directory *d, const char *host, const char *locker,
	    const char *subdir, int https, char *err, size_t errlen);
/* A vhost's own ROUTE_HTTPS_* choice changed; -1 (err) also if no such host. */
int	dir_vhost_set_https(struct directory *d, const char *host, int https, char *err,
	    size_t errlen);
/* 1 removed, 0 no such host, -1 error. */
int	dir_vhost_remove(struct directory *d, const char *host, char *err, size_t errlen);

/*
 * A claim to a host outside the domain, pending until the locker proves
 * the name (vhost.c); dir_vhost_add() of the host, by a proof or by root,
 * ends every claim to it.  dir_vhost_claim() records one (a claim made
 * again keeps its first token, returned in out); it fails if the host is
 * already a vhost.  dir_vhost_claim_get(): 1 found, 0 none, -1 error.
 */
#define VHOST_TOKEN_LEN	32
struct vhost_claim {
	char	host[HOSTNAME_MAX + 1];
	char	locker[LOCKER_NAME_MAX + 1];
	char	subdir[SUBDIR_MAX + 1];
	char	token[VHOST_TOKEN_LEN + 1];
	int	https;
};
int	dir_vhost_claim(struct directory *d, const char *host, const char *locker,
	    const char *subdir, int https, const char *token, struct vhost_claim *out,
	    char *err, size_t errlen);
int	dir_vhost_claim_get(struct directory *d, const char *host, const char *locker,
	    struct vhost_claim *out);
/* Withdraws uid's lockers' claims to host (uid 0: all); how many, or -1. */
int	dir_vhost_unclaim(struct directory *d, const char *host, uint32_t uid, char *err,
	    size_t errlen);
int	dir_vhost_get(struct directory *d, const char *host, struct vhost_rec *out);
/* All vhosts (locker == NULL) or one locker's, in host order. */
int	dir_vhost_foreach(struct directory *d, const char *locker,
	    int (*cb)(const struct vhost_rec *, void *), void *arg);

/*
 * Admins: login uids allowed to act for a locker.  A locker keeps at least
 * one admin once it has one (lockers root signs up may have none).
 */
struct admin_rec {
	char		locker[LOCKER_NAME_MAX + 1];
	uint32_t	uid;
	int64_t		added;
};
/* 1 yes, 0 no, -1 error. */
int	dir_admin_is(struct directory *d, const char *locker, uint32_t uid);
/* 1 added, 0 was already an admin, -1 error (no such locker, ...). */
int	dir_admin_add(struct directory *d, const char *locker, uint32_t uid, char *err,
	    size_t errlen);
/* 1 removed, 0 was not an admin, -1 error (including: the last admin). */
int	dir_admin_remove(struct directory *d, const char *locker, uint32_t uid, char *err,
	    size_t errlen);
/* A locker's admins in uid order, or the lockers one uid administers. */
int	dir_admin_foreach(struct directory *d, const char *locker,
	    int (*cb)(const struct admin_rec *, void *), void *arg);
int	dir_admin_foreach_uid(struct directory *d, uint32_t uid,
	    int (*cb)(const struct admin_rec *, void *), void *arg);

/*
 * The audit trail: every change above writes one row in its own
 * transaction, naming the actor last set here (the caller's uid; 0 root).
 * Rows are never changed or deleted.
 */
struct audit_rec {
	int64_t		id;
	int64_t		at;		/* unix time */
	uint32_t	who;
	char		action[33];
	char		locker[LOCKER_NAME_MAX + 1];
	char		detail[1025];
};
void	dir_set_actor(struct directory *d, uint32_t uid);
/* A row for something that changes no table (a `locker su`, say). */
int	dir_audit(struct directory *d, const char *action, const char *locker,
	    const char *detail, char *err, size_t errlen);
int	dir_audit_foreach(struct directory *d, const char *locker,
	    int (*cb)(const struct audit_rec *, void *), void *arg);
/* The same, for only the newest `limit` rows (-1: all), still oldest first. */
int	dir_audit_foreach_last(struct directory *d, const char *locker, int64_t limit,
	    int (*cb)(const struct audit_rec *, void *), void *arg);

/*
 * A locker's own limits, overriding the configuration's defaults: key is
 * a directive name (ctl_limits.c checks it), value >= 0; value -1 removes the
 * override (back to the default).  Each change is audited.
 */
int	dir_limit_set(struct directory *d, const char *locker, const char *key,
	    int64_t value, char *err, size_t errlen);
/* The overrides of one locker, in key order; stops at cb's non-zero value. */
int	dir_limit_foreach(struct directory *d, const char *locker,
	    int (*cb)(const char *key, uint64_t value, void *), void *arg);

/* Lockers uid signed up that still exist, but the one named except; -1 on error. */
int64_t	dir_signups_by(struct directory *d, uint32_t uid, const char *except);

/*
 * Locker names are DNS labels: 1..63 of [a-z0-9-], not starting or ending
 * with '-', not all digits, and not a reserved name (www, mail, root, admin,
 * localhost, lockerd, ...).  0 if valid, else -1 with the reason in why.
 */
int	locker_name_check(const char *name, char *why, size_t whylen);

/*
 * The vhost names a locker has had certificates asked for (acme-names-per-
 * week): whether host is counted for locker (1, 0, -1 error); how many
 * since a time; counting one now (0, -1).
 */
int	dir_acme_name_counted(struct directory *d, const char *host, const char *locker);
int64_t	dir_acme_names_since(struct directory *d, const char *locker, int64_t since);
int	dir_acme_name_count(struct directory *d, const char *host, const char *locker,
	    int64_t at);

#endif
