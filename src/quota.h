/*
 * quota.h: a locker's disk limit (quota.c), used by the master only.
 * With disk-quota none every call is a harmless no-op (or says why not).
 */
#ifndef LOCKERD_QUOTA_H
#define LOCKERD_QUOTA_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* At start-up: the lockers root is on btrfs and its quotas are on; else why not. */
int	quota_init(const struct config *c, char *err, size_t errlen);
/* A new home below lockers_fd: a subvolume (btrfs) or a directory, mode 0700 or so. */
int	quota_home_create(const struct config *c, int lockers_fd, const char *name,
	    char *err, size_t errlen);
/* The limit of a home in bytes; 0 clears it.  0 done, -1 error, or
 * QUOTA_LATER: kept, applied at the next start (why in err). */
#define QUOTA_LATER	1
int	quota_set(const struct config *c, const char *name, uint64_t bytes, char *err,
	    size_t errlen);
/* Bytes used and the limit (0: none) as of the last commit, or -1 where unknown. */
void	quota_usage(const struct config *c, const char *name, int64_t *used, int64_t *limit);

/* disk-quota image: mount a home's image (start-up), unmount it (removal,
 * stop), undo a half-made one, and retire a removed locker's (archive or
 * purge; out gets the archived image's path).  No-ops otherwise. */
int	quota_attach(const struct config *c, const char *name, char *err, size_t errlen);
void	quota_detach(const struct config *c, const char *name);
void	quota_home_unmake(const struct config *c, const char *name);
int	quota_image_retire(const struct config *c, const char *name, const char *tag,
	    int purge, char *out, size_t outsz);

#endif
