/*
 * quota.c: how much a locker's home may hold.
 *
 * This kernel has no ext4 or XFS quota support, so the limit is kept by
 * btrfs (disk-quota btrfs): the lockers root is on btrfs, every home is a
 * subvolume of its own, created at signup, and the kernel's qgroup of that
 * subvolume (0/<subvolume id>) carries a limit on the bytes it references.
 * Everything the locker keeps lives in its home, the sandbox's /tmp
 * (home/tmp) and its databases and logs included, so one number covers it
 * all; a write past it fails with EDQUOT.
 *
 * Everything is done with the kernel's own ioctls on descriptors opened
 * without following symlinks, never by running btrfs-progs.  A locker
 * cannot make a subvolume or snapshot of its own (which would have a
 * qgroup without a limit): the seccomp filter refuses those ioctls.
 *
 * Usage comes from the quota tree as of the last transaction commit
 * (btrfs commits every 30 s by default, and on sync): `locker info` may
 * show it that late; the limit itself is enforced at once.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <endian.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/magic.h>

#include "lockerd.h"
#include "quota.h"

/* What BTRFS_IOC_QGROUP_LIMIT takes to clear a limit. */
#define QGROUP_NO_LIMIT		((uint64_t)-1)

static int __attribute__((format(printf, 3, 4)))
qfail(char *err, size_t errlen, const char *fmt, ...)
{
	char	 msg[PATH_MAX + 100];
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", msg, strerror(saved));
	errno = saved;
	return -1;
}

static int
open_lockers(const struct config *c)
{
	return open(c->lockers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The home, as a directory we can issue ioctls on; never a symlink. */
static int
open_home(const struct config *c, const char *name)
{
	int lockers, home;

	if ((lockers = open_lockers(c)) == -1)
		return -1;
	home = openat(lockers, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(lockers);
	return home;
}

/* The id of the subvolume holding fd. */
static int
subvol_id(int fd, uint64_t *id)
{
	struct btrfs_ioctl_ino_lookup_args a;

	memset(&a, 0, sizeof(a));
	a.treeid = 0;
	a.objectid = BTRFS_FIRST_FREE_OBJECTID;
	if (ioctl(fd, BTRFS_IOC_INO_LOOKUP, &a) == -1)
		return -1;
	*id = a.treeid;
	return 0;
}

/*
 * Is fd the root of a subvolume of its own?  A plain directory (a home
 * made before disk-quota btrfs was turned on) must never get a limit: it
 * would land on the subvolume holding every locker.
 */
static int
is_subvol_root(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_ino == BTRFS_FIRST_FREE_OBJECTID;
}

int
quota_init(const struct config *c, char *err, size_t errlen)
{
	struct btrfs_ioctl_quota_ctl_args	 q;
	struct statfs				 sf;
	int					 fd, rc;

	if (c->disk_quota == DISK_QUOTA_NONE)
		return 0;
	if ((fd = open_lockers(c)) == -1)
		return qfail(err, errlen, "disk-quota btrfs: lockers root %s", c->lockers);
	if (fstatfs(fd, &sf) == -1 || sf.f_type != BTRFS_SUPER_MAGIC) {
		close(fd);
		snprintf(err, errlen, "disk-quota btrfs: the lockers root %s is not on a "
		    "btrfs file system (make it one, or set disk-quota none)", c->lockers);
		return -1;
	}
	/* Enabling quotas that are already on is a no-op. */
	memset(&q, 0, sizeof(q));
	q.cmd = BTRFS_QUOTA_CTL_ENABLE;
	rc = ioctl(fd, BTRFS_IOC_QUOTA_CTL, &q);
	close(fd);
	if (rc == -1)
		return qfail(err, errlen, "disk-quota btrfs: cannot enable quotas on %s "
		    "(btrfs quota enable)", c->lockers);
	return 0;
}

int
quota_home_create(const struct config *c, int lockers_fd, const char *name,
    char *err, size_t errlen)
{
	struct btrfs_ioctl_vol_args v;

	if (c->disk_quota == DISK_QUOTA_NONE) {
		if (mkdirat(lockers_fd, name, 0700) == -1)
			return qfail(err, errlen, "create home %s/%s", c->lockers, name);
		return 0;
	}
	memset(&v, 0, sizeof(v));
	if (snprintf(v.name, sizeof(v.name), "%s", name) >= (int)sizeof(v.name)) {
		errno = ENAMETOOLONG;
		return qfail(err, errlen, "create home %s/%s", c->lockers, name);
	}
	/* Fails with EEXIST like mkdir when something has the name. */
	if (ioctl(lockers_fd, BTRFS_IOC_SUBVOL_CREATE, &v) == -1)
		return qfail(err, errlen, "create home subvolume %s/%s", c->lockers, name);
	return 0;
}

int
quota_set(const struct config *c, const char *name, uint64_t bytes, char *err,
    size_t errlen)
{
	struct btrfs_ioctl_qgroup_limit_args	 l;
	int					 fd, rc;

	if (c->disk_quota == DISK_QUOTA_NONE) {
		if (bytes == 0)
			return 0;
		snprintf(err, errlen, "no disk quota here: lockerd's configuration has "
		    "disk-quota none");
		return -1;
	}
	if ((fd = open_home(c, name)) == -1)
		return qfail(err, errlen, "%s/%s", c->lockers, name);
	if (!is_subvol_root(fd)) {
		close(fd);
		snprintf(err, errlen, "%s/%s is not a btrfs subvolume (made before disk-quota "
		    "btrfs?): no limit can be set on it", c->lockers, name);
		return -1;
	}
	memset(&l, 0, sizeof(l));
	l.qgroupid = 0;		/* the subvolume fd is in */
	l.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
	l.lim.max_rfer = bytes ? bytes : QGROUP_NO_LIMIT;
	rc = ioctl(fd, BTRFS_IOC_QGROUP_LIMIT, &l);
	close(fd);
	if (rc == -1)
		return qfail(err, errlen, "set the disk limit of %s", name);
	return 0;
}

/* One item of the quota tree: (0, type, qgroupid), copied into out. */
static int
quota_item(int fd, uint8_t type, uint64_t qgroupid, void *out, size_t outsz)
{
	struct btrfs_ioctl_search_args		 a;
	struct btrfs_ioctl_search_header	 h;

	memset(&a, 0, sizeof(a));
	a.key.tree_id = BTRFS_QUOTA_TREE_OBJECTID;
	a.key.min_objectid = a.key.max_objectid = 0;
	a.key.min_type = a.key.max_type = type;
	a.key.min_offset = a.key.max_offset = qgroupid;
	a.key.max_transid = (uint64_t)-1;
	a.key.nr_items = 1;
	if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, &a) == -1)
		return -1;
	if (a.key.nr_items < 1)
		return 0;
	memcpy(&h, a.buf, sizeof(h));
	if (h.type != type || h.offset != qgroupid || h.len < outsz ||
	    sizeof(h) + h.len > sizeof(a.buf))
		return 0;
	memcpy(out, a.buf + sizeof(h), outsz);
	return 1;
}

void
quota_usage(const struct config *c, const char *name, int64_t *used, int64_t *limit)
{
	struct btrfs_qgroup_info_item	 info;
	struct btrfs_qgroup_limit_item	 lim;
	uint64_t			 id;
	int				 fd;

	*used = *limit = -1;
	if (c->disk_quota == DISK_QUOTA_NONE || (fd = open_home(c, name)) == -1)
		return;
	if (is_subvol_root(fd) && subvol_id(fd, &id) == 0) {
		if (quota_item(fd, BTRFS_QGROUP_INFO_KEY, id, &info, sizeof(info)) == 1)
			*used = (int64_t)le64toh(info.rfer);
		if (quota_item(fd, BTRFS_QGROUP_LIMIT_KEY, id, &lim, sizeof(lim)) == 1)
			*limit = (le64toh(lim.flags) & BTRFS_QGROUP_LIMIT_MAX_RFER) ?
			    (int64_t)le64toh(lim.max_rfer) : 0;
	}
	close(fd);
}
