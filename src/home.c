/*
 * home.c: a locker's home, from signup to removal.
 *
 * A home is <lockers>/NAME, owned by the locker, mode 0700, with the
 * subdirectories every locker has; with disk-quota btrfs a subvolume, with
 * image an ext4 image mounted there (quota.c).  Removal moves it out of
 * the lockers root whole (rename(2): in place or archived, never half),
 * into <lockers>/.archive/NAME.<time>.<uid>, beside which logarchive.c
 * puts its logs; --purge then deletes the archive in a child that has
 * become the locker, so that it can only delete what the locker owns.
 * Nothing here follows a symlink.
 *
 * control.c decides who may and ctl_lockers.c answers the CLI; this file
 * does the file-system work and knows nothing of the control connection.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "directory.h"
#include "quota.h"

static const char *home_subdirs[] = {
	"web_scripts", "cron_scripts", "mail_scripts", "tmp", NULL
};

/* Remove what a failed signup created; the tree is still empty. */
static void
home_unmake(int lockers_fd, const char *name)
{
	int i, home;

	if ((home = openat(lockers_fd, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		for (i = 0; home_subdirs[i] != NULL; i++)
			unlinkat(home, home_subdirs[i], AT_REMOVEDIR);
		close(home);
	}
	quota_home_unmake(&M->conf, name);	/* its image, if it has one */
	unlinkat(lockers_fd, name, AT_REMOVEDIR);
}

/*
 * Create the home and its subdirectories, owned by the locker, mode 0700,
 * without ever following a symlink.
 */
int
home_make(const struct locker_rec *lr, char *err, size_t errlen)
{
	int lockers, home = -1, i, rc = -1;

	if ((lockers = open(M->conf.lockers, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", M->conf.lockers, strerror(errno));
		return -1;
	}
	/* A btrfs subvolume with disk-quota btrfs: its qgroup holds the limit. */
	if (quota_home_create(&M->conf, lockers, lr->name, err, errlen) == -1) {
		if (errno == EEXIST)
			snprintf(err, errlen, "create home %s/%s: it already exists (archive "
			    "or remove it first)", M->conf.lockers, lr->name);
		close(lockers);
		return -1;
	}
	if ((home = openat(lockers, lr->name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fchown(home, lr->uid, lr->gid) == -1 || fchmod(home, 0700) == -1)
		goto fail;
	for (i = 0; home_subdirs[i] != NULL; i++)
		if (mkdirat(home, home_subdirs[i], 0700) == -1 ||
		    fchownat(home, home_subdirs[i], lr->uid, lr->gid, AT_SYMLINK_NOFOLLOW) == -1)
			goto fail;
	if (quota_set(&M->conf, lr->name, M->conf.disk_limit, err, errlen) == -1)
		goto unmake;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "create home %s/%s: %s", M->conf.lockers, lr->name,
	    strerror(errno));
unmake:
	home_unmake(lockers, lr->name);
out:
	if (home != -1)
		close(home);
	close(lockers);
	return rc;
}

/* Delete a tree below dirfd without following any symlink. */
static int
purge_tree(int dirfd)
{
	DIR		*d;
	struct dirent	*e;
	int		 rc = 0;

	if ((d = fdopendir(dirfd)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		int sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM)
			rc = -1;
		sub = openat(dirfd, e->d_name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub == -1) {
			rc = -1;
			continue;
		}
		/* A directory the locker made unwritable is still its own. */
		fchmod(sub, 0700);
		if (purge_tree(sub) == -1)
			rc = -1;
		if (unlinkat(dirfd, e->d_name, AT_REMOVEDIR) == -1)
			rc = -1;
	}
	closedir(d);
	return rc;
}

struct purge_ctx {
	int		home_fd;
	uint32_t	uid, gid;
};

/* In a child: become the locker, so the purge can only delete what it owns. */
static int
purge_prepare(void *arg)
{
	struct purge_ctx *p = arg;
	char		 err[128];

	if (become(p->uid, p->gid, err, sizeof(err)) == -1)
		_exit(1);
	_exit(purge_tree(p->home_fd) == 0 ? 0 : 1);
}

/*
 * disk-quota image: the home is the image's mount point.  Unmounted, the
 * empty directory goes, and the image is archived beside the others or,
 * with --purge, deleted: no file of the locker's is ever walked.
 */
static int
retire_image(const struct locker_rec *lr, const char *home, const char *stamp, int purge,
    char *archive, size_t archivesz, char *err, size_t errlen)
{
	char tag[64];

	quota_detach(&M->conf, lr->name);
	if (rmdir(home) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "remove %s: %s", home, strerror(errno));
		return -1;
	}
	snprintf(tag, sizeof(tag), "%s.%u", stamp, lr->uid);
	if (quota_image_retire(&M->conf, lr->name, tag, purge, archive, archivesz) == -1) {
		snprintf(err, errlen, "%s the image of %s: %s", purge ? "delete" : "archive",
		    lr->name, strerror(errno));
		return -1;
	}
	return 0;
}

int
home_retire(const struct locker_rec *lr, const char *stamp, int purge, char *archive,
    size_t archivesz, char *err, size_t errlen)
{
	char	home[PATH_MAX];
	int	n;

	locker_home(lr->name, home, sizeof(home));
	if (M->conf.disk_quota == DISK_QUOTA_IMAGE)
		return retire_image(lr, home, stamp, purge, archive, archivesz, err, errlen);
	/* rename(2) is atomic: the home is either in place or archived, whole. */
	for (n = 0; n < 100; n++) {
		if (n == 0)
			snprintf(archive, archivesz, "%s/.archive/%s.%s.%u",
			    M->conf.lockers, lr->name, stamp, lr->uid);
		else
			snprintf(archive, archivesz, "%s/.archive/%s.%s.%u.%d",
			    M->conf.lockers, lr->name, stamp, lr->uid, n);
		if (renameat2(AT_FDCWD, home, AT_FDCWD, archive, RENAME_NOREPLACE) == 0)
			break;
		if (errno == ENOENT) {
			archive[0] = '\0';	/* no home left: nothing to keep */
			break;
		}
		if (errno != EEXIST) {
			snprintf(err, errlen, "archive %s: %s", home, strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct child *
home_purge_start(const struct locker_rec *lr, const char *archive, char *err,
    size_t errlen)
{
	struct purge_ctx	 pc;
	struct child		*task;
	char			 why[512];

	pc.uid = lr->uid;
	pc.gid = lr->gid;
	/* A home full to its limit must still be emptied. */
	if (M->conf.disk_quota == DISK_QUOTA_BTRFS &&
	    quota_set(&M->conf, archive + strlen(M->conf.lockers) + 1, 0, why,
	    sizeof(why)) == -1)
		log_warnx("purge %s: %s", lr->name, why);
	if ((pc.home_fd = open(archive, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "purge %s: %s", archive, strerror(errno));
		return NULL;
	}
	set_cloexec(pc.home_fd, 0);
	task = task_spawn(lr, purge_prepare, &pc, &pc.home_fd, 1);
	close(pc.home_fd);
	if (task == NULL)
		snprintf(err, errlen, "purge: cannot fork");
	return task;
}

int
home_purge_done(const char *archive, int code)
{
	return code == 0 && rmdir(archive) == 0 ? 0 : -1;
}
