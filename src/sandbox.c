/*
 * sandbox.c: the jail every process of a locker runs in.
 *
 * Called in a freshly forked child of the master, as root, before the
 * locker's program is executed.  This is the minimal sandbox: its own
 * mount namespace in which the lockers root shows only this locker's home,
 * lockerd's state and log directories are empty, /tmp is the locker's own
 * tmp/ and /etc/passwd names the locker; then no_new_privs, no
 * supplementary groups, and the locker's uid and gid.
 */
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	char	 msg[200];
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", msg, strerror(saved));
	return -1;
}

/* An empty read-only tmpfs over dir, so nothing of it is visible. */
static int
hide_dir(const char *dir, char *err, size_t errlen)
{
	if (mount("lockerd-hidden", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
	    "size=4k,mode=0755") == -1)
		return fail(err, errlen, "hide %s", dir);
	return 0;
}

/* Copy a system account file and add the locker's own entry first. */
static int
write_account_file(const char *src, const char *dst, const char *first_line)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 in, out, rc = 0;

	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		return -1;
	if (write_all(out, first_line, strlen(first_line)) == -1)
		rc = -1;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) != -1) {
		while (rc == 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write_all(out, buf, (size_t)n) == -1)
				rc = -1;
		close(in);
	}
	close(out);
	return rc;
}

/*
 * The state dir is hidden behind a small tmpfs that also holds the passwd
 * and group files bound over /etc's, so that id, whoami and ls -l inside
 * the sandbox show the locker's name without an account on the machine.
 */
static int
setup_accounts(const struct sandbox_spec *s, char *err, size_t errlen)
{
	char	 line[PATH_MAX + 200], pw[PATH_MAX], gr[PATH_MAX];

	if (mount("lockerd-state", s->conf->state, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "size=1m,mode=0755") == -1)
		return fail(err, errlen, "tmpfs on %s", s->conf->state);
	snprintf(pw, sizeof(pw), "%s/passwd", s->conf->state);
	snprintf(gr, sizeof(gr), "%s/group", s->conf->state);
	snprintf(line, sizeof(line), "%s:x:%u:%u:locker %s:%s:/bin/bash\n",
	    s->locker, s->uid, s->gid, s->locker, s->home);
	if (write_account_file("/etc/passwd", pw, line) == -1)
		return fail(err, errlen, "write %s", pw);
	snprintf(line, sizeof(line), "%s:x:%u:\n", s->locker, s->gid);
	if (write_account_file("/etc/group", gr, line) == -1)
		return fail(err, errlen, "write %s", gr);
	if (mount(pw, "/etc/passwd", NULL, MS_BIND, NULL) == -1 ||
	    mount(gr, "/etc/group", NULL, MS_BIND, NULL) == -1)
		return fail(err, errlen, "bind /etc/passwd");
	if (mount(NULL, s->conf->state, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, NULL) == -1)
		return fail(err, errlen, "remount %s", s->conf->state);
	return 0;
}

/* The lockers root becomes a tmpfs holding only this locker's home. */
static int
setup_lockers_root(const struct sandbox_spec *s, char *err, size_t errlen)
{
	char	 self[64];
	int	 home;

	if ((home = open(s->home, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return fail(err, errlen, "open %s", s->home);
	if (mount("lockerd-lockers", s->conf->lockers, "tmpfs", MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, "size=16k,mode=0755") == -1)
		return fail(err, errlen, "tmpfs on %s", s->conf->lockers);
	if (mkdir(s->home, 0700) == -1)
		return fail(err, errlen, "mkdir %s", s->home);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", home);
	if (mount(self, s->home, NULL, MS_BIND | MS_REC, NULL) == -1)
		return fail(err, errlen, "bind %s", s->home);
	close(home);
	if (mount(NULL, s->conf->lockers, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, NULL) == -1)
		return fail(err, errlen, "remount %s", s->conf->lockers);
	return 0;
}

/* The locker's tmp/ is its /tmp: no files shared with anyone else. */
static int
setup_tmp(const struct sandbox_spec *s, char *err, size_t errlen)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s/tmp", s->home);
	if (mount(tmp, "/tmp", NULL, MS_BIND | MS_NOSUID | MS_NODEV, NULL) == -1)
		return fail(err, errlen, "bind %s on /tmp", tmp);
	return 0;
}

int
sandbox_enter(const struct sandbox_spec *s, char *err, size_t errlen)
{
	if (s->uid == 0 || s->gid == 0) {
		snprintf(err, errlen, "refusing uid or gid 0");
		return -1;
	}
	if (unshare(CLONE_NEWNS) == -1)
		return fail(err, errlen, "unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return fail(err, errlen, "make / private");
	if (setup_lockers_root(s, err, errlen) == -1 ||
	    setup_accounts(s, err, errlen) == -1 ||
	    hide_dir(s->conf->logs, err, errlen) == -1 ||
	    setup_tmp(s, err, errlen) == -1)
		return -1;
	if (chdir(s->home) == -1)
		return fail(err, errlen, "chdir %s", s->home);
	if (setgroups(0, NULL) == -1)
		return fail(err, errlen, "setgroups");
	if (setresgid(s->gid, s->gid, s->gid) == -1)
		return fail(err, errlen, "setresgid");
	if (setresuid(s->uid, s->uid, s->uid) == -1)
		return fail(err, errlen, "setresuid");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return fail(err, errlen, "no_new_privs");
	umask(022);
	return 0;
}
