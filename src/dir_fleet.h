/*
 * dir_fleet.h: the master's side of the fleet directory (several machines
 * sharing one directory in PostgreSQL; lockerd-dirsync is the link).
 *
 * In a fleet every transaction that changes a replicated table (dirtab.h)
 * is committed in PostgreSQL first and only then in the local SQLite copy:
 * TEMP triggers capture each changed row as JSON into an outbox
 * (dir_fleet.c), the commit sends the outbox through the link and waits
 * for its answer, and a commit hook vetoes any commit whose outbox was not
 * sent (a write that bypassed dir_tx_commit() fails loudly instead of
 * diverging).  The fleet's own changes come back as row records and are
 * applied in one local transaction (dir_apply.c).  In single-machine mode
 * none of this exists: no trigger, no hook, no outbox.
 */
#ifndef LOCKERD_DIR_FLEET_H
#define LOCKERD_DIR_FLEET_H

#include <stddef.h>
#include <stdint.h>

struct directory;
struct dir_fleet;

#include "dirsync.h"		/* enum dir_status: what the link answered */

#define DIR_NOLINK	(-1)	/* no link: lockerd-dirsync is not running */

struct dir_answer {
	int		status;		/* DIR_*, or DIR_NOLINK */
	uint64_t	rev;		/* DIR_OK: the change's revision in PostgreSQL */
	char		why[160];
};

/*
 * What the link does for the directory (the master's: dir_link.c).
 * send: sends one transaction's change records (dirrec.h's format: buf of
 * len bytes, nrec records) and waits for the answer, at most the
 * directory-timeout; the answer in *ans.  catch_up: applies what the feed
 * has brought, waiting a little for more (after a conflict, before trying
 * again); NULL: nothing to wait for.
 */
struct dir_fleet_ops {
	void	(*send)(void *arg, const void *buf, size_t len, uint32_t nrec,
		    struct dir_answer *ans);
	void	(*catch_up)(void *arg);
};

/*
 * Turns fleet mode on for d (before any write): the TEMP triggers, the
 * capture and unhex functions, the commit and rollback hooks.  node: this
 * node's name (audit ids carry its hash).  ops must outlive d.  0, or -1
 * with err.
 */
int	dir_fleet_on(struct directory *d, const char *node, const struct dir_fleet_ops *ops,
	    void *arg, char *err, size_t errlen);
/* NULL in single-machine mode. */
struct dir_fleet *dir_fleet(struct directory *d);

/* The link's state (MSG_DIR_STATE): while down, writes are refused at
 * once with why, without asking the link. */
void	dir_fleet_state(struct dir_fleet *f, int up, int64_t since, const char *why);
int	dir_fleet_up(const struct dir_fleet *f);

/* ---- hooks for directory.c's write path (f may be NULL: no-ops) ---- */

/* Before COMMIT: sends the outbox, if any; 0 (commit), or -1 with err
 * (roll back).  dir_fleet_conflict(): the last refusal was a conflict. */
int	dir_fleet_send(struct dir_fleet *f, char *err, size_t errlen);
int	dir_fleet_conflict(const struct dir_fleet *f);
void	dir_fleet_catch_up(struct dir_fleet *f);
/* A statement that failed takes back what its triggers captured. */
size_t	dir_fleet_mark(const struct dir_fleet *f);
void	dir_fleet_cut(struct dir_fleet *f, size_t mark);
/* The next audit id: (unix_ms << 12) | (fnv1a(node) & 0xfff), increasing. */
int64_t	dir_fleet_audit_id(struct dir_fleet *f);
void	dir_fleet_free(struct dir_fleet *f);

/* ---- the feed (dir_apply.c) ---- */

/* The revision of the fleet's changes this copy holds (fleet_state); 0 if none, -1 error. */
int64_t	dir_fleet_rev(struct directory *d);

/*
 * Applies row records (buf, len: nrec of dirrec.h's row format) in one
 * transaction, with the capture off, and stores to_rev; full: the records
 * are every row of every replicated table (rows not among them go).  Rows
 * equal to the local ones are skipped.  Returns the set of tables that
 * changed (bit i: dirtab[i]) in *changed.  0, or -1 with err and nothing
 * applied (a bad record rejects the whole message).
 */
int	dir_fleet_apply(struct directory *d, const void *buf, size_t len, uint32_t nrec,
	    uint64_t from_rev, uint64_t to_rev, int full, uint64_t *changed, char *err,
	    size_t errlen);

/*
 * What a feed changed, for the master to act on after the commit
 * (dir_feed.c): the tables (bit i: dirtab[i]) and the lockers whose own
 * limits changed (all_limits: more than fit here: every locker's).
 */
#define DIR_APPLIED_LIMITS	16
struct dir_applied {
	uint64_t	changed;
	int		nlimits, all_limits;
	char		limits[DIR_APPLIED_LIMITS][64];
};
/* The master's hook, called after each feed that changed something; one
 * per process (NULL: none, as in the unit tests). */
void	dir_fleet_on_applied(void (*cb)(struct directory *, const struct dir_applied *));

/* Internal to dir_fleet.c and dir_apply.c. */
void	dir_fleet_applying(struct dir_fleet *f, int on);

#endif
