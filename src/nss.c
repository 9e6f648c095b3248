/*
 * nss.c: the master's questions to the password and group databases,
 * each answered within NSS_TIMEOUT_MS or not at all.
 *
 * NSS may be LDAP, NIS or sssd behind a network, and a lookup then blocks
 * for as long as their own timeouts say (often tens of seconds).  The
 * master answers every control request, and starts every worker front
 * asks for, in its one loop; so a lookup runs in a forked child, and the
 * master waits for its answer at most NSS_TIMEOUT_MS, then kills it.  The
 * lookups are few (one or two per signup or admin change; names shown in
 * lists are cached by control.c), so a fork each costs nothing that shows.
 */
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"

#define NSS_TIMEOUT_MS	2000

enum nss_op { NSS_NAME_OF_UID, NSS_UID_OF_NAME, NSS_IN_GROUP };

struct nss_answer {
	int		rc;		/* NSS_OK, NSS_NONE, NSS_NOGROUP */
	uint32_t	uid;
	char		name[CTL_USER_MAX + 1];
};

/* In the child: one lookup, with no deadline of its own. */
static void
nss_child(enum nss_op op, uid_t uid, const char *name, const char *group,
    struct nss_answer *a)
{
	struct passwd	 pw, *pres = NULL;
	struct group	 gr, *gres = NULL;
	static char	 buf[65536], gbuf[65536];
	gid_t		*groups;
	int		 n = 1024, i;

	a->rc = NSS_NONE;
	switch (op) {
	case NSS_NAME_OF_UID:
		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pres) == 0 && pres != NULL &&
		    strlen(pw.pw_name) < sizeof(a->name)) {
			memcpy(a->name, pw.pw_name, strlen(pw.pw_name) + 1);
			a->rc = NSS_OK;
		}
		break;
	case NSS_UID_OF_NAME:
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &pres) == 0 && pres != NULL) {
			a->uid = pw.pw_uid;
			a->rc = NSS_OK;
		}
		break;
	case NSS_IN_GROUP:
		if (getgrnam_r(group, &gr, gbuf, sizeof(gbuf), &gres) != 0 || gres == NULL) {
			a->rc = NSS_NOGROUP;
			break;
		}
		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pres) != 0 || pres == NULL ||
		    (groups = calloc((size_t)n, sizeof(*groups))) == NULL)
			break;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) != -1)
			for (i = 0; i < n; i++)
				if (groups[i] == gr.gr_gid)
					a->rc = NSS_OK;
		break;
	}
}

static int
nss_ask(enum nss_op op, uid_t uid, const char *name, const char *group, struct nss_answer *a)
{
	struct pollfd	 pf;
	uint64_t	 end = now_ms() + NSS_TIMEOUT_MS, now;
	ssize_t		 n = -1;
	pid_t		 pid;
	int		 p[2], r;

	memset(a, 0, sizeof(*a));
	if (pipe2(p, O_CLOEXEC) == -1)
		return NSS_NOANSWER;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return NSS_NOANSWER;
	}
	if (pid == 0) {
		/* Not the master's channels and sockets: only the answer's pipe. */
		if (close_fds_except(3, &p[1], 1) == -1)
			_exit(1);
		child_reset(0);
		nss_child(op, uid, name, group, a);
		_exit(write(p[1], a, sizeof(*a)) == (ssize_t)sizeof(*a) ? 0 : 1);
	}
	close(p[1]);
	pf.fd = p[0];
	pf.events = POLLIN;
	while ((now = now_ms()) < end) {
		r = poll(&pf, 1, (int)(end - now));
		if (r == -1 && errno == EINTR)
			continue;
		if (r > 0)
			n = read(p[0], a, sizeof(*a));
		break;
	}
	close(p[0]);
	if (n != (ssize_t)sizeof(*a)) {
		kill(pid, SIGKILL);
		log_warnx("the user database did not answer within %dms", NSS_TIMEOUT_MS);
		a->rc = NSS_NOANSWER;
	}
	/* Reaped here, before the master's own reaper could see it. */
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return a->rc;
}

int
nss_name_of_uid(uid_t uid, char *out, size_t outsz)
{
	struct nss_answer a;

	if (nss_ask(NSS_NAME_OF_UID, uid, NULL, NULL, &a) == NSS_OK) {
		if (strlen(a.name) >= outsz)
			return NSS_NONE;
		memcpy(out, a.name, strlen(a.name) + 1);
	}
	return a.rc;
}

int
nss_uid_of_name(const char *name, uid_t *uid)
{
	struct nss_answer a;

	if (nss_ask(NSS_UID_OF_NAME, 0, name, NULL, &a) == NSS_OK)
		*uid = a.uid;
	return a.rc;
}

int
nss_in_group(uid_t uid, const char *group)
{
	struct nss_answer a;

	return nss_ask(NSS_IN_GROUP, uid, NULL, group, &a);
}

/*
 * The lowest uid of a login user: UID_MIN of /etc/login.defs, as useradd
 * uses it (1000 when it says nothing).  Below it are system accounts
 * (root, daemons), which never administer a locker.  UID_MAX is not a
 * bound here: directory users (LDAP) often sit above it.
 */
uid_t
nss_login_uid_min(void)
{
	char		 line[256];
	unsigned long	 v = NSS_LOGIN_UID_MIN;
	FILE		*f;

	if ((f = fopen("/etc/login.defs", "re")) == NULL)
		return NSS_LOGIN_UID_MIN;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " UID_MIN %lu", &v) == 1)
			break;
	fclose(f);
	/* A login.defs that says 0 would make root a login user: no. */
	return v >= 1 && v < UINT32_MAX ? (uid_t)v : NSS_LOGIN_UID_MIN;
}

/* A login user's uid: not a system account, not nobody (65534). */
int
nss_is_login_uid(uid_t uid)
{
	return uid >= nss_login_uid_min() && uid != 65534;
}
