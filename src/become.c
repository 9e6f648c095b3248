/*
 * become.c: the one way a lockerd process gives up root.
 *
 * Every drop goes through become(): front and logd at their start
 * (drop_privileges), a locker's jail (sandbox_enter), the purge of a removed
 * home, pasta's namespace maker, the DNS proof.  A drop that one caller
 * wrote by hand is a drop that forgets a step (the purge once skipped
 * no_new_privs), so the steps are written once, each checked, then the
 * result verified from the kernel's side rather than trusted.
 *
 * Its own file, beside proc.c's plumbing of children: the rule is short
 * and must be read whole, and the unit test (test_become) runs it alone.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "lockerd.h"

/* The kernel's view, not the calls' return values: all three ids each. */
static int
became(uid_t uid, gid_t gid)
{
	uid_t	ru, eu, su;
	gid_t	rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return 0;
	return ru == uid && eu == uid && su == uid && rg == gid && eg == gid && sg == gid &&
	    getgroups(0, NULL) == 0;
}

/*
 * In this order: the supplementary groups and the gid while we still may
 * change them, the uid last; no_new_privs, so that nothing executed later
 * (a setuid binary, a file with capabilities) gets back what was given up.
 * uid and gid 0 are refused, and (uid_t)-1, which setresuid(2) reads as
 * "unchanged".  No supplementary groups: no caller wants any.
 */
int
become(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	int pdeath = 0;

	if (uid == 0 || gid == 0 || uid == (uid_t)-1 || gid == (gid_t)-1) {
		snprintf(err, errlen, "become: refusing uid %u gid %u", (unsigned)uid,
		    (unsigned)gid);
		return -1;
	}
	if (prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0) == -1)
		return errno_fail(err, errlen, "parent-death signal");
	if (setgroups(0, NULL) == -1)
		return errno_fail(err, errlen, "setgroups");
	if (setresgid(gid, gid, gid) == -1)
		return errno_fail(err, errlen, "setresgid");
	if (setresuid(uid, uid, uid) == -1)
		return errno_fail(err, errlen, "setresuid");
	/* The kernel clears the parent-death signal at a change of uid: armed
	 * before (child_reset), it is armed again, so that front, logd and the
	 * workers still die with a master that was killed. */
	if (pdeath != 0 && prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0) == -1)
		return errno_fail(err, errlen, "parent-death signal");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return errno_fail(err, errlen, "no_new_privs");
	if (!became(uid, gid) || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "become: still not uid %u gid %u alone",
		    (unsigned)uid, (unsigned)gid);
		return -1;
	}
	if (setuid(0) != -1 || setgid(0) != -1) {
		snprintf(err, errlen, "become: could regain root");
		return -1;
	}
	return 0;
}

/* A role's start: user from the configuration, optionally chrooted first. */
void
drop_privileges(const char *user, const char *root_dir)
{
	struct passwd	*pw;
	char		 err[256];

	if ((pw = getpwnam(user)) == NULL)
		fatalx("drop_privileges: no such user \"%s\"", user);
	if (pw->pw_uid == 0)
		fatalx("drop_privileges: user \"%s\" is root", user);
	if (root_dir != NULL) {
		if (chroot(root_dir) == -1)
			fatal("drop_privileges: chroot %s", root_dir);
		if (chdir("/") == -1)
			fatal("drop_privileges: chdir /");
	}
	if (become(pw->pw_uid, pw->pw_gid, err, sizeof(err)) == -1)
		fatalx("drop_privileges: %s", err);
}
