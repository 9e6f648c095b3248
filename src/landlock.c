/*
 * landlock.c: Landlock rules repeating a locker's file-system view (made
 * from jail_view[], the list the jail's mounts are made from), and
 * (ABI 6) scoping of signals and abstract Unix sockets to the locker's own
 * processes.  Defence in depth: the mount namespace already shows nothing
 * else, so a mistake in one is not an escape.
 *
 * Debian 12's <linux/landlock.h> declares only ABI 2, so the constants and
 * the ruleset attribute of later ABIs are defined here.  The kernel is asked
 * for its ABI once (landlock_probe, in the master); what it lacks is logged
 * there, and the rules use what it has.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#define __NR_landlock_add_rule		445
#define __NR_landlock_restrict_self	446
#endif

#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1

/* ABI 1 */
#define LL_FS_EXECUTE		(1ULL << 0)
#define LL_FS_WRITE_FILE	(1ULL << 1)
#define LL_FS_READ_FILE		(1ULL << 2)
#define LL_FS_READ_DIR		(1ULL << 3)
#define LL_FS_REMOVE_DIR	(1ULL << 4)
#define LL_FS_REMOVE_FILE	(1ULL << 5)
#define LL_FS_MAKE_CHAR		(1ULL << 6)
#define LL_FS_MAKE_DIR		(1ULL << 7)
#define LL_FS_MAKE_REG		(1ULL << 8)
#define LL_FS_MAKE_SOCK		(1ULL << 9)
#define LL_FS_MAKE_FIFO		(1ULL << 10)
#define LL_FS_MAKE_BLOCK	(1ULL << 11)
#define LL_FS_MAKE_SYM		(1ULL << 12)
/* ABI 2 */
#define LL_FS_REFER		(1ULL << 13)
/* ABI 3 */
#define LL_FS_TRUNCATE		(1ULL << 14)
/* ABI 5 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)
/* ABI 6 */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)
#define LL_SCOPE_SIGNAL			(1ULL << 1)

/* The ABI 6 layout; the kernel takes a prefix of it, by size. */
struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t	allowed_access;
	int32_t		parent_fd;
} __attribute__((packed));

static int ll_abi;	/* 0: none */

#define FS_ABI1	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_READ_DIR | \
		 LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR | LL_FS_MAKE_DIR | \
		 LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_BLOCK | \
		 LL_FS_MAKE_SYM)

static uint64_t
fs_handled(void)
{
	uint64_t a = FS_ABI1;

	if (ll_abi >= 2)
		a |= LL_FS_REFER;
	if (ll_abi >= 3)
		a |= LL_FS_TRUNCATE;
	if (ll_abi >= 5)
		a |= LL_FS_IOCTL_DEV;
	return a;
}

int
landlock_probe(char *missing, size_t missingsz)
{
	int abi = (int)syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);

	ll_abi = abi < 0 ? 0 : abi;
	missing[0] = '\0';
	if (ll_abi == 0)
		snprintf(missing, missingsz, "Landlock (%s)", strerror(errno));
	else if (ll_abi < 6)
		snprintf(missing, missingsz, "Landlock ABI %d < 6: no signal and abstract "
		    "socket scoping%s%s", ll_abi, ll_abi < 3 ? ", no truncate rule" : "",
		    ll_abi < 5 ? ", no device ioctl rule" : "");
	return ll_abi;
}

static int
add_rule(int ruleset, const char *path, uint64_t access)
{
	struct ll_path_beneath_attr	pb;
	int				fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	pb.allowed_access = access & fs_handled();
	pb.parent_fd = fd;
	rc = (int)syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return rc;
}

/* A jail_view[] row's access, in Landlock's terms (before fs_handled()). */
uint64_t
landlock_access(unsigned ja)
{
	uint64_t a = 0;

	if (ja & JA_LIST)
		a |= LL_FS_READ_DIR;
	if (ja & JA_READ)
		a |= LL_FS_READ_FILE | LL_FS_READ_DIR;
	if (ja & JA_EXEC)
		a |= LL_FS_EXECUTE;
	if (ja & JA_WRITE)
		a |= LL_FS_WRITE_FILE;
	if (ja & JA_TRUNCATE)
		a |= LL_FS_TRUNCATE;
	if (ja & JA_IOCTL)
		a |= LL_FS_IOCTL_DEV;
	/* Never LL_FS_MAKE_CHAR or _BLOCK: no row allows device nodes. */
	if (ja & JA_CHANGE)
		a |= LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR | LL_FS_MAKE_REG |
		    LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM | LL_FS_REFER;
	return a;
}

/* One rule per jail_view[] row, the home's at its path. */
static int
add_view_rules(int rs, const char *home, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < jail_view_n; i++) {
		const struct jail_dir	*j = &jail_view[i];
		const char		*path = jail_dir_path(j, home);

		if (j->access == 0)
			continue;
		if (add_rule(rs, path, landlock_access(j->access)) == -1) {
			snprintf(err, errlen, "landlock rule %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* One more directory the jail shows (its access JA_*); none there: no rule. */
int
landlock_allow(int ruleset, const char *path, unsigned ja, char *err, size_t errlen)
{
	if (add_rule(ruleset, path, landlock_access(ja)) == -1) {
		snprintf(err, errlen, "landlock rule %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Build the ruleset for a locker whose jail is the current root (after
 * pivot_root): jail_view[]'s rows.  exe_fd: our own binary, which a worker
 * is re-executed from (-1 for none).  Returns the ruleset fd, -2 when
 * Landlock is absent, -1 on error.
 */
int
landlock_build(const char *home, int exe_fd, char *err, size_t errlen)
{
	struct ll_ruleset_attr attr;
	size_t		 attrsz;
	int		 rs;

	if (ll_abi == 0)
		return -2;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs_handled();
	attrsz = sizeof(uint64_t);
	if (ll_abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		attrsz = sizeof(attr);
	}
	/* Network (ABI 4) is not handled: outbound connections as on any server. */
	rs = (int)syscall(__NR_landlock_create_ruleset, &attr, attrsz, 0);
	if (rs == -1) {
		snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
		return -1;
	}
	if (add_view_rules(rs, home, err, errlen) == -1) {
		close(rs);
		return -1;
	}
	if (exe_fd != -1) {
		struct ll_path_beneath_attr pb = {
			.allowed_access = LL_FS_EXECUTE | LL_FS_READ_FILE,
			.parent_fd = exe_fd,
		};

		if (syscall(__NR_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) == -1) {
			snprintf(err, errlen, "landlock rule for lockerd: %s", strerror(errno));
			close(rs);
			return -1;
		}
	}
	return rs;
}

/* After no_new_privs. */
int
landlock_enforce(int ruleset, char *err, size_t errlen)
{
	if (syscall(__NR_landlock_restrict_self, ruleset, 0) == -1) {
		snprintf(err, errlen, "landlock_restrict_self: %s", strerror(errno));
		close(ruleset);
		return -1;
	}
	close(ruleset);
	return 0;
}
