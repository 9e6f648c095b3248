/*
 * directory.h: the table of lockers and vhosts (SQLite in the state dir).
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
};

/* Error text goes to err (always NUL-terminated) when a call returns -1. */

/* Opens or creates the database file and its schema. */
struct directory *dir_open(const char *path, char *err, size_t errlen);
void	dir_close(struct directory *d);

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

/* host must already be canonical (route_canon_host). Fails if the host exists. */
int	dir_vhost_add(struct directory *d, const char *host, const char *locker,
	    const char *subdir, char *err, size_t errlen);
/* 1 removed, 0 no such host, -1 error. */
int	dir_vhost_remove(struct directory *d, const char *host, char *err, size_t errlen);
int	dir_vhost_get(struct directory *d, const char *host, struct vhost_rec *out);
/* All vhosts (locker == NULL) or one locker's, in host order. */
int	dir_vhost_foreach(struct directory *d, const char *locker,
	    int (*cb)(const struct vhost_rec *, void *), void *arg);

/*
 * Locker names are DNS labels: 1..63 of [a-z0-9-], not starting or ending
 * with '-', not all digits, and not a reserved name (www, mail, root, admin,
 * localhost, lockerd, ...).  0 if valid, else -1 with the reason in why.
 */
int	locker_name_check(const char *name, char *why, size_t whylen);
/* A vhost subdir: relative, no "." / ".." / empty segments, no leading '.'
 * in any segment, [A-Za-z0-9._~-] and '/' only. 0 if valid. */
int	subdir_check(const char *subdir, char *why, size_t whylen);

#endif
