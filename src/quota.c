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
 *
 * Without btrfs (disk-quota image), each home is a file system of its own:
 * a sparse file <state>/images/NAME.img of the limit's size, made with
 * mkfs.ext4 at signup, attached to a free loop device (LOOP_CTL_GET_FREE,
 * LOOP_CONFIGURE with autoclear, so unmounting frees it) and mounted on
 * the home, nosuid and nodev.  The master mounts every image at start and
 * unmounts them at stop.  A larger limit grows the file, the loop device
 * and the mounted ext4 at once; an image cannot shrink while mounted.  A
 * write past it fails with ENOSPC.  Removing a locker archives its image
 * (renamed beside it); purging deletes the file, so nothing of the
 * locker's is walked as root.
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <endian.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/loop.h>
#include <linux/magic.h>

#include "lockerd.h"
#include "quota.h"

/* What BTRFS_IOC_QGROUP_LIMIT takes to clear a limit. */
#define QGROUP_NO_LIMIT		((uint64_t)-1)

#define IMAGES_DIR		"images"	/* in the state dir */
#define MKFS_EXT4		"/sbin/mkfs.ext4"
#define E2FSCK			"/sbin/e2fsck"
#define RESIZE2FS		"/sbin/resize2fs"
#define CAP_SYS_RESOURCE_BIT	24
#define IMAGE_MIN		((uint64_t)8 << 20)	/* smaller makes no useful ext4 */
#define LOOP_MAJOR		7
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS	_IOW('f', 16, uint64_t)
#endif

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

static int
btrfs_init(const struct config *c, char *err, size_t errlen)
{
	struct btrfs_ioctl_quota_ctl_args	 q;
	struct statfs				 sf;
	int					 fd, rc;

	if ((fd = open_lockers(c)) == -1)
		return errno_fail(err, errlen, "disk-quota btrfs: lockers root %s", c->lockers);
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
		return errno_fail(err, errlen, "disk-quota btrfs: cannot enable quotas on %s "
		    "(btrfs quota enable)", c->lockers);
	return 0;
}

static int
btrfs_home_create(const struct config *c, int lockers_fd, const char *name,
    char *err, size_t errlen)
{
	struct btrfs_ioctl_vol_args v;

	memset(&v, 0, sizeof(v));
	if (snprintf(v.name, sizeof(v.name), "%s", name) >= (int)sizeof(v.name)) {
		errno = ENAMETOOLONG;
		return errno_fail(err, errlen, "create home %s/%s", c->lockers, name);
	}
	/* Fails with EEXIST like mkdir when something has the name. */
	if (ioctl(lockers_fd, BTRFS_IOC_SUBVOL_CREATE, &v) == -1)
		return errno_fail(err, errlen, "create home subvolume %s/%s", c->lockers, name);
	return 0;
}

static int
btrfs_set(const struct config *c, const char *name, uint64_t bytes, char *err,
    size_t errlen)
{
	struct btrfs_ioctl_qgroup_limit_args	 l;
	int					 fd, rc;

	if ((fd = open_home(c, name)) == -1)
		return errno_fail(err, errlen, "%s/%s", c->lockers, name);
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
		return errno_fail(err, errlen, "set the disk limit of %s", name);
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

static void
btrfs_usage(const struct config *c, const char *name, int64_t *used, int64_t *limit)
{
	struct btrfs_qgroup_info_item	 info;
	struct btrfs_qgroup_limit_item	 lim;
	uint64_t			 id;
	int				 fd;

	if ((fd = open_home(c, name)) == -1)
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

/* ------------------------------------------------------------ image */

static void
image_path(const struct config *c, const char *name, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/" IMAGES_DIR "/%s.img", c->state, name);
}

static int
image_init(const struct config *c, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int  fd;

	if (access(MKFS_EXT4, X_OK) == -1)
		return errno_fail(err, errlen, "disk-quota image: %s (install e2fsprogs)",
		    MKFS_EXT4);
	if ((fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) == -1)
		return errno_fail(err, errlen, "disk-quota image: /dev/loop-control (no loop "
		    "devices?)");
	close(fd);
	if (c->disk_limit < IMAGE_MIN) {
		snprintf(err, errlen, "disk-quota image: disk-limit must be at least %llu "
		    "bytes (each home's file system is made that size)",
		    (unsigned long long)IMAGE_MIN);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" IMAGES_DIR, c->state);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return errno_fail(err, errlen, "mkdir %s", path);
	return 0;
}

/*
 * Run one of e2fsprogs' tools on an image and wait (a few ms for a small
 * image).  Exit statuses up to ok_max count as success (e2fsck: 1 is
 * "errors corrected").
 */
static int
run_tool(char *const argv[], int ok_max, char *err, size_t errlen)
{
	char *const	envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	pid_t		pid;
	int		status, null;

	if ((pid = fork()) == -1)
		return errno_fail(err, errlen, "fork");
	if (pid == 0) {
		child_reset(0);
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, 0);
			dup2(null, 1);
		}
		/* Close-on-exec would do, but for what the master holds without it. */
		close_fds_except(3, NULL, 0);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return errno_fail(err, errlen, "wait for %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) > ok_max) {
		snprintf(err, errlen, "%s %s failed (status %d)", argv[0],
		    argv[1] ? argv[1] : "", status);
		return -1;
	}
	return 0;
}

static int
image_mkfs(const char *path, char *err, size_t errlen)
{
	char *const argv[] = { MKFS_EXT4, "-q", "-F", "-m", "0", "-E",
	    "lazy_itable_init=1,nodiscard", (char *)path, NULL };

	return run_tool(argv, 0, err, errlen);
}

/* Offline, while nothing has the image mounted: check it, then grow it. */
static int
image_grow_offline(const char *path, uint64_t bytes, char *err, size_t errlen)
{
	char *const	fsck[] = { E2FSCK, "-f", "-p", (char *)path, NULL };
	char *const	resize[] = { RESIZE2FS, "-p", (char *)path, NULL };

	if (truncate(path, (off_t)bytes) == -1)
		return errno_fail(err, errlen, "grow %s", path);
	if (run_tool(fsck, 1, err, errlen) == -1 || run_tool(resize, 0, err, errlen) == -1)
		return -1;
	return 0;
}

/* Growing a mounted ext4 takes CAP_SYS_RESOURCE, which root may lack. */
static int
can_grow_online(void)
{
	char			 line[256];
	unsigned long long	 eff = 0;
	FILE			*f;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> CAP_SYS_RESOURCE_BIT) & 1;
}

static int
image_make(const struct config *c, const char *name, uint64_t size, char *err,
    size_t errlen)
{
	char	path[PATH_MAX];
	int	fd;

	image_path(c, name, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return errno_fail(err, errlen, "create %s", path);
	/* Sparse: the disk holds only what the locker writes. */
	if (ftruncate(fd, (off_t)size) == -1) {
		close(fd);
		unlink(path);
		return errno_fail(err, errlen, "size %s", path);
	}
	close(fd);
	if (image_mkfs(path, err, errlen) == -1) {
		unlink(path);
		return -1;
	}
	return 0;
}

/* /dev/loopN, made if the container has no node for it (no udev). */
static int
loop_open(int n, char *dev, size_t devsz)
{
	int fd;

	snprintf(dev, devsz, "/dev/loop%d", n);
	if ((fd = open(dev, O_RDWR | O_CLOEXEC)) == -1 && errno == ENOENT &&
	    mknod(dev, S_IFBLK | 0600, makedev(LOOP_MAJOR, n)) == 0)
		fd = open(dev, O_RDWR | O_CLOEXEC);
	return fd;
}

/*
 * A free loop device holding the image, autoclear: it goes away with the
 * last unmount.  Another process may take the free one first: try again.
 */
static int
loop_attach(int img, char *dev, size_t devsz)
{
	struct loop_config	cfg;
	int			ctl, lfd = -1, n, tries;

	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	for (tries = 0; tries < 8; tries++) {
		if ((n = ioctl(ctl, LOOP_CTL_GET_FREE)) < 0 ||
		    (lfd = loop_open(n, dev, devsz)) == -1)
			break;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)img;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		close(lfd);
		lfd = -1;
		if (errno != EBUSY)
			break;
	}
	close(ctl);
	return lfd;
}

/* Is the home a mount point already (of its image)? */
static int
home_mounted(const struct config *c, const char *name)
{
	char		home[PATH_MAX];
	struct stat	a, b;

	snprintf(home, sizeof(home), "%s/%s", c->lockers, name);
	return lstat(c->lockers, &a) == 0 && lstat(home, &b) == 0 && S_ISDIR(b.st_mode) &&
	    a.st_dev != b.st_dev;
}

static int
image_mount(const struct config *c, const char *name, char *err, size_t errlen)
{
	char	path[PATH_MAX], home[PATH_MAX], dev[32];
	int	img, lfd, rc;

	if (home_mounted(c, name))
		return 0;
	image_path(c, name, path, sizeof(path));
	snprintf(home, sizeof(home), "%s/%s", c->lockers, name);
	if ((img = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno_fail(err, errlen, "open %s", path);
	lfd = loop_attach(img, dev, sizeof(dev));
	close(img);
	if (lfd == -1)
		return errno_fail(err, errlen, "attach %s to a loop device", path);
	/* The home's path is root's all the way (lockers root, 0755, root's). */
	rc = mount(dev, home, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, "");
	if (rc == -1)
		errno_fail(err, errlen, "mount %s on %s", dev, home);
	close(lfd);	/* autoclear: the mount holds it now */
	return rc;
}

static int
image_home_create(const struct config *c, int lockers_fd, const char *name,
    char *err, size_t errlen)
{
	int home;

	if (mkdirat(lockers_fd, name, 0700) == -1)
		return errno_fail(err, errlen, "create home %s/%s", c->lockers, name);
	if (image_make(c, name, c->disk_limit, err, errlen) == -1 ||
	    image_mount(c, name, err, errlen) == -1) {
		quota_home_unmake(c, name);
		unlinkat(lockers_fd, name, AT_REMOVEDIR);
		errno = EIO;
		return -1;
	}
	/* A fresh ext4 has lost+found, root's: not something to show a locker. */
	if ((home = openat(lockers_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		unlinkat(home, "lost+found", AT_REMOVEDIR);
		close(home);
	}
	return 0;
}

static uint64_t
image_size(const struct config *c, const char *name)
{
	char		path[PATH_MAX];
	struct stat	st;

	image_path(c, name, path, sizeof(path));
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

/* Grow the image, its loop device and the mounted ext4, in that order. */
static int
image_grow(const struct config *c, const char *name, uint64_t bytes, char *err,
    size_t errlen)
{
	char		path[PATH_MAX], dev[32];
	struct stat	st;
	struct statfs	sf;
	uint64_t	blocks;
	int		img, lfd, home, rc;

	image_path(c, name, path, sizeof(path));
	if ((home = open_home(c, name)) == -1 || fstat(home, &st) == -1 ||
	    fstatfs(home, &sf) == -1 || major(st.st_dev) != LOOP_MAJOR) {
		if (home != -1)
			close(home);
		return errno_fail(err, errlen, "%s/%s: its image is not mounted", c->lockers, name);
	}
	snprintf(dev, sizeof(dev), "/dev/loop%u", minor(st.st_dev));
	img = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	lfd = open(dev, O_RDWR | O_CLOEXEC);
	blocks = bytes / (uint64_t)sf.f_bsize;
	rc = img == -1 || lfd == -1 || ftruncate(img, (off_t)bytes) == -1 ||
	    ioctl(lfd, LOOP_SET_CAPACITY, 0) == -1 ||
	    ioctl(home, EXT4_IOC_RESIZE_FS, &blocks) == -1 ? -1 : 0;
	if (rc == -1)
		errno_fail(err, errlen, "grow the image of %s", name);
	if (img != -1)
		close(img);
	if (lfd != -1)
		close(lfd);
	close(home);
	return rc;
}

static int
image_set(const struct config *c, const char *name, uint64_t bytes, char *err,
    size_t errlen)
{
	uint64_t cur = image_size(c, name);

	if (cur == 0) {
		snprintf(err, errlen, "%s has no image in %s/" IMAGES_DIR, name, c->state);
		return -1;
	}
	char path[PATH_MAX];

	if (bytes == 0 || bytes < cur) {
		snprintf(err, errlen, "an image can only grow (it is %llu bytes; "
		    "disk-quota image)", (unsigned long long)cur);
		return -1;
	}
	if (bytes == cur)
		return 0;
	if (!home_mounted(c, name)) {
		image_path(c, name, path, sizeof(path));
		return image_grow_offline(path, bytes, err, errlen);
	}
	if (can_grow_online())
		return image_grow(c, name, bytes, err, errlen);
	snprintf(err, errlen, "the image of %s grows when lockerd next starts (growing a "
	    "mounted ext4 takes CAP_SYS_RESOURCE, which lockerd lacks here)", name);
	return QUOTA_LATER;
}

static void
image_usage(const struct config *c, const char *name, int64_t *used, int64_t *limit)
{
	struct statfs	sf;
	int		home;

	*limit = (int64_t)image_size(c, name);
	if (!home_mounted(c, name) || (home = open_home(c, name)) == -1)
		return;
	if (fstatfs(home, &sf) == 0)
		*used = (int64_t)((sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize);
	close(home);
}

/* ------------------------------------------------------------ the API */

int
quota_init(const struct config *c, char *err, size_t errlen)
{
	switch (c->disk_quota) {
	case DISK_QUOTA_BTRFS:
		return btrfs_init(c, err, errlen);
	case DISK_QUOTA_IMAGE:
		return image_init(c, err, errlen);
	}
	return 0;
}

int
quota_home_create(const struct config *c, int lockers_fd, const char *name,
    char *err, size_t errlen)
{
	switch (c->disk_quota) {
	case DISK_QUOTA_BTRFS:
		return btrfs_home_create(c, lockers_fd, name, err, errlen);
	case DISK_QUOTA_IMAGE:
		return image_home_create(c, lockers_fd, name, err, errlen);
	}
	if (mkdirat(lockers_fd, name, 0700) == -1)
		return errno_fail(err, errlen, "create home %s/%s", c->lockers, name);
	return 0;
}

int
quota_set(const struct config *c, const char *name, uint64_t bytes, char *err,
    size_t errlen)
{
	switch (c->disk_quota) {
	case DISK_QUOTA_BTRFS:
		return btrfs_set(c, name, bytes, err, errlen);
	case DISK_QUOTA_IMAGE:
		return image_set(c, name, bytes, err, errlen);
	}
	if (bytes == 0)
		return 0;
	snprintf(err, errlen, "no disk quota here: lockerd's configuration has "
	    "disk-quota none");
	return -1;
}

void
quota_usage(const struct config *c, const char *name, int64_t *used, int64_t *limit)
{
	*used = *limit = -1;
	if (c->disk_quota == DISK_QUOTA_BTRFS)
		btrfs_usage(c, name, used, limit);
	else if (c->disk_quota == DISK_QUOTA_IMAGE)
		image_usage(c, name, used, limit);
}

int
quota_attach(const struct config *c, const char *name, char *err, size_t errlen)
{
	if (c->disk_quota != DISK_QUOTA_IMAGE)
		return 0;
	return image_mount(c, name, err, errlen);
}

/*
 * Unmount a home's image (image only).  Lazily: processes of the locker
 * still ending keep it alive in their own namespaces; the loop device
 * goes with the last of them.
 */
void
quota_detach(const struct config *c, const char *name)
{
	char home[PATH_MAX];

	if (c->disk_quota != DISK_QUOTA_IMAGE || !home_mounted(c, name))
		return;
	snprintf(home, sizeof(home), "%s/%s", c->lockers, name);
	if (umount2(home, UMOUNT_NOFOLLOW) == -1 &&
	    umount2(home, MNT_DETACH | UMOUNT_NOFOLLOW) == -1)
		log_warn("unmount %s", home);
}

void
quota_home_unmake(const struct config *c, const char *name)
{
	char path[PATH_MAX];

	if (c->disk_quota != DISK_QUOTA_IMAGE)
		return;
	quota_detach(c, name);
	image_path(c, name, path, sizeof(path));
	unlink(path);
}

/* A removed locker's image: renamed to NAME.<tag>.img, or deleted (purge). */
int
quota_image_retire(const struct config *c, const char *name, const char *tag, int purge,
    char *out, size_t outsz)
{
	char path[PATH_MAX];

	image_path(c, name, path, sizeof(path));
	if (purge) {
		out[0] = '\0';
		return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
	}
	snprintf(out, outsz, "%s/" IMAGES_DIR "/%s.%s.img", c->state, name, tag);
	return renameat2(AT_FDCWD, path, AT_FDCWD, out, RENAME_NOREPLACE);
}
