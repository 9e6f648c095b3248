/*
 * logarchive.c: a locker's logs leave with it.
 *
 * logd writes <logs>/lockers/NAME/{access,error}.log by the locker's name,
 * and a name can be signed up again, by anyone, once its locker is gone.
 * So when a locker is removed its log directory is moved, whole, to
 * <logs>/lockers/.archive/NAME.<time>.<uid> (beside its home's archive,
 * <lockers>/.archive/NAME.<time>.<uid>), and logd is told to reopen, which
 * closes the descriptor it kept of the old file.  A signup also moves away
 * whatever directory is there under the new name (lines of the old locker
 * that were in flight when it went, or a removal from before this was
 * done), so a new locker's logs start empty.
 *
 * The log directory belongs to logd, which is less trusted than the
 * master: nothing here follows a symlink (rename(2) moves a link itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "master.h"

/* tag: "<time>.<uid>" of the removal, or "<time>.orphan". */
static int
logs_move(const char *name, const char *tag, char *err, size_t errlen)
{
	const int	dflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	char		to[LOCKER_NAME_MAX + 96];
	int		logs, dir = -1, arch = -1, n, rc = -1;

	if ((logs = open(M->conf.logs, dflags)) == -1 ||
	    (dir = openat(logs, "lockers", dflags)) == -1) {
		rc = errno == ENOENT ? 0 : -1;	/* no log ever written */
		goto out;
	}
	if (faccessat(dir, name, F_OK, AT_SYMLINK_NOFOLLOW) == -1) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (mkdirat(dir, ".archive", 0700) == -1 && errno != EEXIST)
		goto out;
	if ((arch = openat(dir, ".archive", dflags)) == -1)
		goto out;
	for (n = 0; n < 100; n++) {
		if (n == 0)
			snprintf(to, sizeof(to), "%s.%s", name, tag);
		else
			snprintf(to, sizeof(to), "%s.%s.%d", name, tag, n);
		if (renameat2(dir, name, arch, to, RENAME_NOREPLACE) == 0) {
			rc = 1;
			break;
		}
		if (errno != EEXIST)
			break;
	}
out:
	if (rc == -1)
		snprintf(err, errlen, "archive the logs of %s: %s", name, strerror(errno));
	else if (rc == 1)
		log_info("logs of %s archived to %s/lockers/.archive/%s", name,
		    M->conf.logs, to);
	if (logs != -1)
		close(logs);
	if (dir != -1)
		close(dir);
	if (arch != -1)
		close(arch);
	return rc;
}

int
logs_archive(const char *name, const char *tag, char *err, size_t errlen)
{
	int rc = logs_move(name, tag, err, errlen);

	if (rc == 1)
		logd_reopen();
	/* logd keeps a log budget by name too: the directory's, now the default. */
	logd_send_limits(name);
	return rc == -1 ? -1 : 0;
}

int
logs_clear_for_signup(const char *name, char *err, size_t errlen)
{
	char		tag[40];
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	strftime(tag, sizeof(tag), "%Y%m%dT%H%M%SZ.orphan", &tm);
	return logs_archive(name, tag, err, errlen);
}
