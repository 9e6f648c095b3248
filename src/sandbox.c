/*
 * sandbox.c: the jail every process of a locker runs in.
 *
 * The master creates the child with sandbox_clone(): new mount, pid, ipc
 * and uts namespaces in one clone(), so the child is pid 1 of a pid
 * namespace holding only that locker's processes.  There, still root,
 * sandbox_enter():
 *
 *   1. joins the locker's cgroups (cgroup.c), while cgroupfs is visible
 *      (a spawner's spare is moved into them from outside meanwhile, and
 *      waits for that before step 5);
 *   2. builds the jail on a tmpfs, as jail_view[] (jail.c) lists it, the
 *      one list the Landlock rules and the configuration's check are also
 *      made from: /usr, /bin, /sbin, /lib* of the system
 *      (bound, or the same symlinks where the system has usr-merged
 *      symlinks), /etc without the shadow files, sudoers, private keys or
 *      lockerd's configuration, with a generated passwd and group naming
 *      the locker; all of it read-only, nosuid, nodev;
 *      the locker's home read-write at its usual path, its tmp/ as /tmp,
 *      a fresh /proc of the new pid namespace, and a minimal /dev (null,
 *      zero, full, random, urandom, tty, a private devpts and /dev/shm);
 *      no other locker, nothing of lockerd's state, logs or sockets;
 *   3. pivot_root()s into it and detaches the old root;
 *   4. builds the Landlock ruleset from the same jail_view[] (landlock.c);
 *   5. lowers the rlimits; become() (become.c): no supplementary groups, the
 *      locker's gid and uid, no_new_privs;
 *   6. enforces Landlock and the seccomp filter (seccomp.c);
 *   7. marks every descriptor but stdio and the intended ones close-on-exec.
 *
 * The caller then executes the locker's program.  The whole costs about a
 * millisecond (bench/jail.c measures it), so it is done once per worker and
 * once per `locker run`/`su`, never per request: CGI children inherit it.
 */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "mail.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY	0x00000001
#define MOUNT_ATTR_NOSUID	0x00000002
#define MOUNT_ATTR_NODEV	0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE		0x8000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr	442
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH	0x00000004
#endif
struct sb_mount_attr {
	uint64_t	attr_set, attr_clr, propagation, userns_fd;
};

/* Where the jail is assembled, in the child's own mount namespace, before
 * pivot_root.  Any directory works; /tmp always exists and nothing of the
 * host's /tmp is needed (lockerd's directories may not be under it). */
#define JAIL	"/tmp"

/* Under the jail root while it is built; removed before pivoting. */
#define SCRATCH	"/.lockerd"

static int	have_landlock;

/* Where the jail's root is seen from: JAIL while it is built before
 * pivot_root, "" when a spare finishes its jail after (sandbox_finish). */
static const char *jroot = JAIL;

/* ---------------------------------------------------------------- master */

int
sandbox_init(const struct config *c)
{
	char	missing[256], err[256];
	int	abi;

	netns_init();
	if (seccomp_compile(err, sizeof(err)) == -1) {
		log_warnx("sandbox: %s", err);
		return -1;
	}
	abi = landlock_probe(missing, sizeof(missing));
	have_landlock = abi > 0;
	if (missing[0])
		log_warnx("sandbox: this kernel lacks %s", missing);
	cgroup_probe(missing, sizeof(missing));
	if (missing[0])
		log_warnx("sandbox: this machine lacks %s; those limits are not applied",
		    missing);
	if (config_locker_netns(c) && netns_resolver_on_loopback())
		log_warnx("sandbox: every nameserver of /etc/resolv.conf is on the "
		    "machine's loopback, which lockers cannot reach with locker-network "
		    "private: their names will not resolve");
	log_debug("sandbox: namespaces mnt pid ipc uts%s, seccomp, Landlock ABI %d",
	    config_locker_netns(c) ? " net" : "", abi);
	return 0;
}

int
sandbox_init_spawner(void)
{
	char	missing[256], err[256];

	if (seccomp_compile(err, sizeof(err)) == -1) {
		log_warnx("sandbox: %s", err);
		return -1;
	}
	have_landlock = landlock_probe(missing, sizeof(missing)) > 0;
	cgroup_probe(missing, sizeof(missing));
	return 0;
}

int
sandbox_prepare(const struct config *c, const char *locker, uint32_t uid)
{
	int rc = cgroup_prepare(c, locker, uid);

	/* Without its namespace the locker would get the host's: refuse. */
	if (netns_prepare(c, locker, uid) == -1)
		return -1;
	return rc;
}

void
sandbox_release(const char *locker, uint32_t uid)
{
	cgroup_release(locker, uid);
	netns_release(locker, uid);
}

void
sandbox_release_all(const struct config *c)
{
	cgroup_release_all(c);
	netns_release_all();
}

/* ---------------------------------------------------------------- child */

static int
mkdir_p(const char *path, mode_t mode)
{
	char	 p[PATH_MAX], *s;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
touch(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

static int
bind_fd(int fd, const char *target, unsigned long flags)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (mount(self, target, NULL, MS_BIND, NULL) == -1)
		return -1;
	return mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

/* Where a path of the jail is while it is built. */
static void
jail_path(char *buf, size_t bufsz, const char *path)
{
	snprintf(buf, bufsz, "%s%s", jroot, path);
}

/* The scratch directory's entry name ("" for itself). */
static const char *
scratch(char *buf, size_t bufsz, const char *name)
{
	snprintf(buf, bufsz, "%s" SCRATCH "%s%s", jroot, *name ? "/" : "", name);
	return buf;
}

static int
scratch_make(char *err, size_t errlen)
{
	char a[64], b[64], c[64];

	if (mkdir(scratch(a, sizeof(a), ""), 0755) == -1 ||
	    mkdir(scratch(b, sizeof(b), "dir"), 0555) == -1 ||
	    touch(scratch(c, sizeof(c), "file"), 0444) == -1)
		return errno_fail(err, errlen, "scratch");
	return 0;
}

static int
scratch_remove(char *err, size_t errlen)
{
	char a[64], b[64], c[64];

	if (unlink(scratch(c, sizeof(c), "file")) == -1 ||
	    rmdir(scratch(b, sizeof(b), "dir")) == -1 || rmdir(scratch(a, sizeof(a), "")) == -1)
		return errno_fail(err, errlen, "remove scratch");
	return 0;
}

/* jail_view[]'s system rows: bound where they are directories, the same
 * symlink where they are symlinks (Debian's merged /usr). */
static int
setup_system(char *err, size_t errlen)
{
	char		 dst[64], link[PATH_MAX];
	struct stat	 st;
	ssize_t		 n;
	size_t		 i;

	for (i = 0; i < jail_view_n; i++) {
		const char *src = jail_view[i].path;

		if (jail_view[i].kind != JAIL_SYSTEM && jail_view[i].kind != JAIL_ETC)
			continue;
		jail_path(dst, sizeof(dst), src);
		if (lstat(src, &st) == -1)
			continue;
		if (S_ISLNK(st.st_mode)) {
			if ((n = readlink(src, link, sizeof(link) - 1)) == -1)
				return errno_fail(err, errlen, "readlink %s", src);
			link[n] = '\0';
			if (symlink(link, dst) == -1)
				return errno_fail(err, errlen, "symlink %s", dst);
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		/* mkdir -p: a row may lie below a directory of the skeleton's */
		if (mkdir_p(dst, 0755) == -1 ||
		    mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == -1)
			return errno_fail(err, errlen, "bind %s", src);
	}
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
 * A bind over a file of the system's /etc.  useradd, passwd and the like
 * replace /etc/passwd and /etc/shadow by rename(): a bind whose target was
 * looked up just before the rename finds it unlinked and fails with ENOENT
 * (seen here while another suite added and removed a thousand users).  The
 * new file is there: look it up again.
 */
static int
bind_etc(const char *src, const char *path)
{
	int i, rc = -1;

	for (i = 0; i < 5 && rc == -1; i++)
		if ((rc = mount(src, path, NULL, MS_BIND, NULL)) == -1 && errno != ENOENT)
			break;
	return rc;
}

/*
 * /etc, filtered: the generated passwd and group bound over the system's
 * (so id, whoami and ls -l show the locker's name without an account on the
 * machine), and what no locker may read hidden behind an empty file or
 * directory.  The sources live in a scratch directory of the jail's tmpfs
 * that is removed again: a bind mount keeps its source alive.  Two halves:
 * what every jail hides (a spare does it ahead), and what names the locker
 * or this lockerd (its configuration's path).
 */
static int
setup_etc_hidden(char *err, size_t errlen)
{
	static const char *const hidden[] = {
		"shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "sudoers.d",
		"ssl/private", "security/opasswd", "lockerd", "ssh/ssh_host_rsa_key",
		"ssh/ssh_host_ecdsa_key", "ssh/ssh_host_ed25519_key", "krb5.keytab",
		"subuid", "subgid", NULL
	};
	char		 path[PATH_MAX], dir[64], file[64];
	struct stat	 st;
	int		 i;

	if (scratch_make(err, errlen) == -1)
		return -1;
	scratch(dir, sizeof(dir), "dir");
	scratch(file, sizeof(file), "file");
	for (i = 0; hidden[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/etc/%s", jroot, hidden[i]);
		if (lstat(path, &st) == -1 || S_ISLNK(st.st_mode))
			continue;
		if (bind_etc(S_ISDIR(st.st_mode) ? dir : file, path) == -1)
			return errno_fail(err, errlen, "hide /etc/%s", hidden[i]);
	}
	return scratch_remove(err, errlen);
}

/* A file of the scratch directory bound over path, read-only (a spare
 * binds after its skeleton turned read-only, from its writable root). */
static int
bind_ro(const char *src, const char *path)
{
	int i, rc = -1;

	/* EINVAL: path was replaced between the bind and the remount (the
	 * bind is on the unlinked file, seen by no one): bind the new one. */
	for (i = 0; i < 5 && rc == -1; i++) {
		if (bind_etc(src, path) == -1)
			return -1;
		if ((rc = mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
		    MS_NODEV, NULL)) == -1 && errno != EINVAL)
			break;
	}
	return rc;
}

static int
setup_etc_locker(const struct sandbox_spec *s, char *err, size_t errlen)
{
	char		 line[PATH_MAX + 200], path[PATH_MAX], conf[PATH_MAX], *slash;
	char		 pw[64], gr[64], dir[64], file[64];
	struct stat	 st;

	if (scratch_make(err, errlen) == -1)
		return -1;
	scratch(pw, sizeof(pw), "passwd");
	scratch(gr, sizeof(gr), "group");
	scratch(dir, sizeof(dir), "dir");
	scratch(file, sizeof(file), "file");
	snprintf(line, sizeof(line), "%s:x:%u:%u:locker %s:%s:/bin/bash\n",
	    s->locker, s->uid, s->gid, s->locker, s->home);
	if (write_account_file("/etc/passwd", pw, line) == -1)
		return errno_fail(err, errlen, "write passwd");
	snprintf(line, sizeof(line), "%s:x:%u:\n", s->locker, s->gid);
	if (write_account_file("/etc/group", gr, line) == -1)
		return errno_fail(err, errlen, "write group");
	jail_path(path, sizeof(path), "/etc/passwd");
	jail_path(conf, sizeof(conf), "/etc/group");
	if (bind_ro(pw, path) == -1 || bind_ro(gr, conf) == -1)
		return errno_fail(err, errlen, "bind /etc/passwd");
	/* lockerd's own configuration, wherever under /etc it is. */
	snprintf(conf, sizeof(conf), "%s", s->conf->path);
	if (path_is_under(conf, "/etc") && strcmp(conf, "/etc") != 0) {
		jail_path(path, sizeof(path), conf);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && bind_ro(file, path) == -1)
			return errno_fail(err, errlen, "hide %s", conf);
		if ((slash = strrchr(conf, '/')) != NULL && slash != conf + 4) {
			*slash = '\0';
			jail_path(path, sizeof(path), conf);
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && bind_ro(dir, path) == -1)
				return errno_fail(err, errlen, "hide %s", conf);
		}
	}
	if (unlink(pw) == -1 || unlink(gr) == -1)
		return errno_fail(err, errlen, "remove scratch");
	return scratch_remove(err, errlen);
}

/* /var/tmp is the locker's /tmp too, unless the home's own path runs
 * through it (a lockers root under /var/tmp): then it stays that path. */
static int
tmp_link(const char *path, char *err, size_t errlen)
{
	char		 jpath[PATH_MAX], parent[PATH_MAX], *slash;
	struct stat	 st;
	size_t		 i;

	jail_path(jpath, sizeof(jpath), path);
	snprintf(parent, sizeof(parent), "%s", jpath);
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	if (mkdir_p(parent, 0755) == -1)
		return errno_fail(err, errlen, "mkdir %s", parent);
	if (lstat(jpath, &st) == 0)
		return 0;
	for (i = 0; i < jail_view_n; i++)
		if (jail_view[i].kind == JAIL_TMP && symlink(jail_view[i].path, jpath) == -1)
			return errno_fail(err, errlen, "symlink %s", path);
	return 0;
}

/* A mount point's mode; 0: the row needs none of its own (bound already,
 * or inside another row's mount). */
static mode_t
mountpoint_mode(enum jail_kind kind)
{
	switch (kind) {
	case JAIL_HOME:
	case JAIL_DEV:
	case JAIL_SQL:
	case JAIL_MAIL:
		return 0755;
	case JAIL_TMP:
		return 01777;
	case JAIL_PROC:
		return 0555;
	default:
		return 0;
	}
}

/* What of the jail a spare makes ahead (PART_ANY), and what names the
 * locker (PART_LOCKER: its home and /tmp, its passwd, the configuration
 * hidden); a jail made in one go does both. */
#define PART_ANY	0x1
#define PART_LOCKER	0x2

static int
row_part(enum jail_kind kind)
{
	return kind == JAIL_HOME || kind == JAIL_TMP || kind == JAIL_SQL || kind == JAIL_MAIL ||
	    kind == JAIL_SENDMAIL || kind == JAIL_APP || kind == JAIL_RELEASES ?
	    PART_LOCKER : PART_ANY;
}

/*
 * app-releases, where the jail binds it: a directory of the host's, while
 * the host is still in view (a jail made in one go: a spare's, which runs a
 * worker, goes without), not already shown by a system row (below /usr).
 */
static const char *
releases_bound(const struct sandbox_spec *s)
{
	struct stat	st;
	size_t		i;

	if (s == NULL || jroot[0] == '\0' || s->conf->app_releases[0] != '/' ||
	    stat(s->conf->app_releases, &st) == -1 || !S_ISDIR(st.st_mode))
		return NULL;
	for (i = 0; i < jail_view_n; i++)
		if (jail_view[i].kind == JAIL_SYSTEM &&
		    path_is_under(s->conf->app_releases, jail_view[i].path))
			return NULL;
	return s->conf->app_releases;
}

/* Mount points for what is mounted after the skeleton turns read-only.
 * s: NULL when made ahead (no home yet). */
static int
setup_mountpoints(const struct sandbox_spec *s, int parts, char *err, size_t errlen)
{
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < jail_view_n; i++) {
		const struct jail_dir	*j = &jail_view[i];
		mode_t			 mode = mountpoint_mode(j->kind);

		if (!(parts & row_part(j->kind)))
			continue;
		if (j->kind == JAIL_TMP_LINK && tmp_link(j->path, err, errlen) == -1)
			return -1;
		if (j->kind == JAIL_RELEASES && releases_bound(s) != NULL) {
			jail_path(path, sizeof(path), releases_bound(s));
			if (mkdir_p(path, 0755) == -1)
				return errno_fail(err, errlen, "mkdir %s", releases_bound(s));
			continue;
		}
		/* No /run in a jail without a SQL socket to put there. */
		if (mode == 0 || (j->kind == JAIL_SQL && s->conf->sql.socket[0] == '\0') ||
		    (j->kind == JAIL_MAIL && s->conf->mail_relay.host[0] == '\0'))
			continue;
		jail_path(path, sizeof(path), jail_dir_path(j, s != NULL ? s->home : NULL));
		/* The home's path may run through directories the skeleton lacks. */
		if ((j->kind == JAIL_HOME || j->kind == JAIL_SQL || j->kind == JAIL_MAIL ?
		    mkdir_p(path, mode) :
		    mkdir(path, mode)) == -1)
			return errno_fail(err, errlen, "mkdir %s", path + strlen(jroot));
	}
	return 0;
}

/* The home's own tmp/, else a small tmpfs. */
static int
setup_tmp(const char *path, int home, char *err, size_t errlen)
{
	char	dst[PATH_MAX];
	int	tmp;

	jail_path(dst, sizeof(dst), path);
	/* Never follow a symlink the locker put there: it would show its target. */
	tmp = openat(home, "tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tmp != -1) {
		int rc = bind_fd(tmp, dst, MS_NOSUID | MS_NODEV);

		close(tmp);
		if (rc == -1)
			return errno_fail(err, errlen, "bind the home's tmp/ on %s", path);
	} else if (mount("lockerd-tmp", dst, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=16m,mode=1777") == -1)
		return errno_fail(err, errlen, "tmpfs %s", path);
	return 0;
}

/* Mount points inside /dev's tmpfs for jail_view[]'s rows below it. */
static int
dev_mountpoints(const char *dev, char *err, size_t errlen)
{
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < jail_view_n; i++) {
		if (jail_view[i].kind != JAIL_SHM || !path_is_under(jail_view[i].path, dev))
			continue;
		jail_path(path, sizeof(path), jail_view[i].path);
		if (mkdir(path, 01777) == -1)
			return errno_fail(err, errlen, "mkdir %s", jail_view[i].path);
	}
	return 0;
}

static int
setup_dev(const char *dev, char *err, size_t errlen)
{
	static const struct {
		const char	*name;
		unsigned	 major, minor;
	} nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	char	top[64], path[96];
	size_t	i;

	jail_path(top, sizeof(top), dev);
	if (mount("lockerd-dev", top, "tmpfs", MS_NOSUID | MS_NOEXEC,
	    "size=64k,nr_inodes=64,mode=0755") == -1)
		return errno_fail(err, errlen, "tmpfs %s", dev);
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, nodes[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) == -1)
			return errno_fail(err, errlen, "mknod %s", path);
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, links[i][1]);
		if (symlink(links[i][0], path) == -1)
			return errno_fail(err, errlen, "symlink %s", path);
	}
	snprintf(path, sizeof(path), "%s/pts", top);
	if (mkdir(path, 0755) == -1)
		return errno_fail(err, errlen, "mkdir %s/pts", dev);
	if (dev_mountpoints(dev, err, errlen) == -1)
		return -1;
	if (mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC,
	    "newinstance,ptmxmode=0666,mode=0620") == -1)
		return errno_fail(err, errlen, "devpts");
	if (mount(NULL, top, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
	    MS_NOEXEC, NULL) == -1)
		return errno_fail(err, errlen, "remount %s", dev);
	return 0;
}

/*
 * sql mariadb SOCKET: the socket's directory, bound read-only (a socket
 * there can still be connected to) where MariaDB's clients look by
 * default; the directory, not the socket, so a MariaDB that restarts and
 * makes a new socket is found.  Nothing with TCP or without sql.
 */
static int
setup_sql(const struct config *c, const char *path, char *err, size_t errlen)
{
	char	src[PATH_MAX], dst[PATH_MAX], *slash;

	if (c->sql.socket[0] == '\0')
		return 0;
	snprintf(src, sizeof(src), "%s", c->sql.socket);
	if ((slash = strrchr(src, '/')) == NULL || slash == src)
		return 0;
	*slash = '\0';
	jail_path(dst, sizeof(dst), path);
	if (mount(src, dst, NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, NULL) == -1)
		return errno_fail(err, errlen, "bind %s on %s", src, path);
	return 0;
}

/*
 * mail-relay set: the directory of the jails' sendmail socket (mail.h),
 * bound read-only like the SQL socket's, and lockerd's own sendmail bound
 * over the system's (a read-only file of /usr: it must exist, which
 * mail_check() says at start).  Without mail-relay the system's stays.
 */
static int
setup_mail(const struct config *c, const struct jail_dir *j, char *err, size_t errlen)
{
	char	src[PATH_MAX], dst[PATH_MAX];

	if (c->mail_relay.host[0] == '\0')
		return 0;
	jail_path(dst, sizeof(dst), j->path);
	if (j->kind == JAIL_SENDMAIL) {
		if (c->mail_client[0] == '\0' || access(dst, F_OK) == -1)
			return 0;
		if (bind_ro(c->mail_client, dst) == -1)
			return errno_fail(err, errlen, "bind %s on %s", c->mail_client, j->path);
		return 0;
	}
	snprintf(src, sizeof(src), "%s/%s", c->state, MAIL_STATE_DIR);
	if (mount(src, dst, NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, NULL) == -1)
		return errno_fail(err, errlen, "bind %s on %s", src, j->path);
	return 0;
}

/*
 * Autoinstallers: lockerd-app (found beside lockerd: app_task.c) bound
 * over the system's file at APP_JAIL_PROG, as sendmail is; app-releases
 * bound read-only, never executable, at its own path.
 */
static int
setup_app(const struct sandbox_spec *s, const struct jail_dir *j, char *err, size_t errlen)
{
	const char	*src;
	char		 dst[PATH_MAX];

	if (j->kind == JAIL_APP) {
		jail_path(dst, sizeof(dst), j->path);
		if (s->conf->app_prog[0] == '\0' || access(dst, F_OK) == -1)
			return 0;
		if (bind_ro(s->conf->app_prog, dst) == -1)
			return errno_fail(err, errlen, "bind %s on %s", s->conf->app_prog, j->path);
		return 0;
	}
	if ((src = releases_bound(s)) == NULL)
		return 0;
	jail_path(dst, sizeof(dst), src);
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == -1 ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, NULL) == -1)
		return errno_fail(err, errlen, "bind %s", src);
	return 0;
}

/*
 * What is mounted after the skeleton turns read-only, row by row of
 * jail_view[]: the locker's home at its usual path, its tmp/ as /tmp,
 * /dev, /dev/shm (on /dev's mount point, though /dev is read-only by
 * then), the pid namespace's /proc.
 */
static int
setup_mounts(const struct sandbox_spec *s, int home, int parts, char *err, size_t errlen)
{
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < jail_view_n; i++) {
		const struct jail_dir *j = &jail_view[i];

		if (!(parts & row_part(j->kind)))
			continue;
		switch (j->kind) {
		case JAIL_HOME:
			jail_path(path, sizeof(path), s->home);
			if (bind_fd(home, path, MS_NOSUID | MS_NODEV) == -1)
				return errno_fail(err, errlen, "bind %s", s->home);
			break;
		case JAIL_TMP:
			if (setup_tmp(j->path, home, err, errlen) == -1)
				return -1;
			break;
		case JAIL_DEV:
			if (setup_dev(j->path, err, errlen) == -1)
				return -1;
			break;
		case JAIL_SHM:
			jail_path(path, sizeof(path), j->path);
			if (mount("lockerd-shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "size=64m,mode=1777") == -1)
				return errno_fail(err, errlen, "tmpfs %s", j->path);
			break;
		case JAIL_PROC:
			jail_path(path, sizeof(path), j->path);
			if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    NULL) == -1)
				return errno_fail(err, errlen, "mount %s", j->path);
			break;
		case JAIL_SQL:
			if (setup_sql(s->conf, j->path, err, errlen) == -1)
				return -1;
			break;
		case JAIL_MAIL:
		case JAIL_SENDMAIL:
			if (setup_mail(s->conf, j, err, errlen) == -1)
				return -1;
			break;
		case JAIL_APP:
		case JAIL_RELEASES:
			if (setup_app(s, j, err, errlen) == -1)
				return -1;
			break;
		default:
			break;	/* part of the skeleton, or not in the jail */
		}
	}
	return 0;
}

/*
 * Lower a limit to value, under whatever hard limit there is (hard limits
 * only go down).  hard: the hard limit too.  Otherwise only the soft
 * limit: for limits that are a guard against a runaway program rather than
 * the bound on a locker.  Applications set their own with `ulimit -f N`
 * (MediaWiki's limit.sh does, before every shell command), which sets the
 * hard limit too and fails if N is above the hard limit we left.
 */
static void
lower_limit(int resource, uint64_t value, int hard)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) == -1)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < value)
		value = rl.rlim_max;
	rl.rlim_cur = value;
	if (hard)
		rl.rlim_max = value;
	setrlimit(resource, &rl);
}

/*
 * NOFILE, NPROC and DATA bound what a locker takes from the machine: hard.
 * FSIZE does not (a locker writes as many files as it likes: the disk limit
 * is what bounds its space), so it is only the soft limit.
 */
void
sandbox_limits(const struct config *c)
{
	if (c->open_files_limit)
		lower_limit(RLIMIT_NOFILE, c->open_files_limit, 1);
	if (c->process_limit)
		lower_limit(RLIMIT_NPROC, c->process_limit, 1);
	if (c->file_size_limit)
		lower_limit(RLIMIT_FSIZE, c->file_size_limit, 0);
#ifndef __SANITIZE_ADDRESS__
	/* Per process, where the cgroup limit is per locker.  Not under ASan,
	 * whose shadow memory is an enormous private mapping. */
	if (c->memory_limit)
		lower_limit(RLIMIT_DATA, c->memory_limit, 1);
#endif
	lower_limit(RLIMIT_CORE, 0, 1);
}

/*
 * The end of every jail, once its mounts are made and the old root gone:
 * Landlock built, limits, the locker's ids, Landlock and seccomp on.
 */
static int
sandbox_lock(const struct sandbox_spec *s, int exe, char *err, size_t errlen)
{
	int ruleset = -2;

	if (have_landlock &&
	    (ruleset = landlock_build(s->home, exe, err, errlen)) == -1)
		return -1;
	/* app-releases: read where the jail shows it (nothing where it does not). */
	if (ruleset >= 0 && s->conf->app_releases[0] == '/' &&
	    landlock_allow(ruleset, s->conf->app_releases, JA_READ, err, errlen) == -1)
		return -1;
	if (exe != -1)
		close(exe);
	cs_mark(CS_LANDLOCK);
	if (chdir(s->home) == -1)
		return errno_fail(err, errlen, "chdir %s", s->home);
	/* Nothing of the locker's runs before it is in its cgroups. */
	if (s->cgroups_joined != NULL && s->cgroups_joined(err, errlen) == -1)
		return -1;
	sandbox_limits(s->conf);
	if (become(s->uid, s->gid, err, errlen) == -1)
		return -1;
	cs_mark(CS_BECOME);
	if (ruleset >= 0 && landlock_enforce(ruleset, err, errlen) == -1)
		return -1;
	if (seccomp_enforce() == -1)
		return errno_fail(err, errlen, "seccomp");
	if (syscall(SYS_close_range, 3U + (unsigned)s->keep_fds, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		return errno_fail(err, errlen, "close_range");
	umask(022);
	cs_mark(CS_SECCOMP);
	return 0;
}

static int
spec_ok(const struct sandbox_spec *s, char *err, size_t errlen)
{
	if (s->uid == 0 || s->gid == 0) {
		snprintf(err, errlen, "refusing uid or gid 0");
		return -1;
	}
	if (getpid() != 1) {
		snprintf(err, errlen, "not pid 1 of a pid namespace of its own "
		    "(start it with sandbox_clone)");
		return -1;
	}
	return 0;
}

int
sandbox_enter(const struct sandbox_spec *s, char *err, size_t errlen)
{
	struct sb_mount_attr ro = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	int	home, exe;

	if (spec_ok(s, err, errlen) == -1)
		return -1;
	umask(0);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return errno_fail(err, errlen, "make / private");
	if (s->cgroups_joined == NULL && cgroup_join(s->locker, s->uid, err, errlen) == -1)
		return -1;
	cs_mark(CS_CGROUP);
	if ((home = open(s->home, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno_fail(err, errlen, "open %s", s->home);
	exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);

	if (mount("lockerd-jail", JAIL, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=8m,nr_inodes=1024,mode=0755") == -1)
		return errno_fail(err, errlen, "tmpfs for the jail");
	if (setup_system(err, errlen) == -1 || setup_etc_hidden(err, errlen) == -1 ||
	    setup_etc_locker(s, err, errlen) == -1 ||
	    setup_mountpoints(s, PART_ANY | PART_LOCKER, err, errlen) == -1)
		return -1;
	/* The skeleton so far, the jail's own tmpfs included, becomes read-only,
	 * nosuid and nodev in one call; what is mounted after keeps its flags. */
	if (syscall(SYS_mount_setattr, AT_FDCWD, JAIL, AT_RECURSIVE, &ro, sizeof(ro)) == -1)
		return errno_fail(err, errlen, "read-only jail");
	if (setup_mounts(s, home, PART_ANY | PART_LOCKER, err, errlen) == -1)
		return -1;
	close(home);
	cs_mark(CS_MOUNTS);

	if (chdir(JAIL) == -1 || syscall(SYS_pivot_root, ".", ".") == -1)
		return errno_fail(err, errlen, "pivot_root");
	if (umount2(".", MNT_DETACH) == -1 || chdir("/") == -1)
		return errno_fail(err, errlen, "detach the old root");
	cs_mark(CS_PIVOT);
	return sandbox_lock(s, exe, err, errlen);
}

/*
 * A spare's jail made ahead of its locker (spawner.c): in a mount namespace
 * of its own, all that is every jail's (the system's directories, /etc with
 * its secrets hidden, /dev, /dev/shm, its pid namespace's /proc), then
 * pivot_root and the old root detached, whose unmount waits for an RCU
 * grace period (0.6-2.3 ms p50 at load 17 here, where the pivot itself is
 * 0.16 ms).  The jail's root stays writable for sandbox_finish(), and no
 * path of the machine's is reachable any more: the locker's home and tmp/
 * come as mount trees cloned in the machine's namespace when it is known.
 */
int
sandbox_prebuild(char *err, size_t errlen)
{
	struct sb_mount_attr ro = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	struct sb_mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY };

	if (getpid() != 1) {
		snprintf(err, errlen, "not pid 1 of a pid namespace of its own");
		return -1;
	}
	umask(0);
	if (unshare(CLONE_NEWNS) == -1)
		return errno_fail(err, errlen, "a mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return errno_fail(err, errlen, "make / private");
	if (mount("lockerd-jail", JAIL, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=8m,nr_inodes=1024,mode=0755") == -1)
		return errno_fail(err, errlen, "tmpfs for the jail");
	if (setup_system(err, errlen) == -1 || setup_etc_hidden(err, errlen) == -1 ||
	    setup_mountpoints(NULL, PART_ANY, err, errlen) == -1)
		return -1;
	/* Read-only below the root; the root itself until sandbox_finish(). */
	if (syscall(SYS_mount_setattr, AT_FDCWD, JAIL, AT_RECURSIVE, &ro, sizeof(ro)) == -1 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, JAIL, 0, &rw, sizeof(rw)) == -1)
		return errno_fail(err, errlen, "read-only jail");
	if (setup_mounts(NULL, -1, PART_ANY, err, errlen) == -1)
		return -1;
	if (chdir(JAIL) == -1 || syscall(SYS_pivot_root, ".", ".") == -1)
		return errno_fail(err, errlen, "pivot_root");
	if (umount2(".", MNT_DETACH) == -1 || chdir("/") == -1)
		return errno_fail(err, errlen, "detach the old root");
	return 0;
}

/* A mount tree cloned elsewhere (open_tree), nosuid and nodev, on path. */
static int
attach_tree(int tree, const char *path)
{
	struct sb_mount_attr a = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };

	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &a, sizeof(a)) == -1)
		return -1;
	return (int)syscall(SYS_move_mount, tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH);
}

/* With mail-relay, the jails' sendmail socket's directory and client
 * (mail_trees, cloned by the spawner: mail.h), read-only where setup_mail()
 * binds them in a jail made in one go. */
static int
attach_mail(const struct config *c, const int mail_trees[2], char *err, size_t errlen)
{
	struct sb_mount_attr	 ro = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	size_t			 i;
	int			 k;

	if (c->mail_relay.host[0] == '\0')
		return 0;
	for (i = 0; i < jail_view_n; i++) {
		const struct jail_dir *j = &jail_view[i];

		k = j->kind == JAIL_MAIL ? 0 : j->kind == JAIL_SENDMAIL ? 1 : -1;
		if (k == -1 || mail_trees[k] == -1 || (k == 1 && access(j->path, F_OK) == -1))
			continue;
		if (syscall(SYS_mount_setattr, mail_trees[k], "", AT_EMPTY_PATH, &ro,
		    sizeof(ro)) == -1 || syscall(SYS_move_mount, mail_trees[k], "", AT_FDCWD,
		    j->path, MOVE_MOUNT_F_EMPTY_PATH) == -1)
			return errno_fail(err, errlen, "mount %s", j->path);
	}
	return 0;
}

/*
 * The rest of a spare's jail, for its locker: the home (home_tree) at its
 * path, its tmp/ (tmp_tree, or -1: a small tmpfs) as /tmp, passwd and
 * group naming it, the configuration hidden, the root read-only; then as
 * sandbox_enter().  The trees are the spawner's clones of the home and its
 * tmp/, opened without following a symlink of the locker's.
 */
int
sandbox_finish(const struct sandbox_spec *s, int home_tree, int tmp_tree,
    const int mail_trees[2], char *err, size_t errlen)
{
	struct sb_mount_attr ro = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	size_t	i;

	if (spec_ok(s, err, errlen) == -1)
		return -1;
	jroot = "";
	cs_mark(CS_CGROUP);
	if (setup_mountpoints(s, PART_LOCKER, err, errlen) == -1 ||
	    setup_etc_locker(s, err, errlen) == -1)
		return -1;
	if (attach_tree(home_tree, s->home) == -1)
		return errno_fail(err, errlen, "mount %s", s->home);
	for (i = 0; i < jail_view_n; i++) {
		if (jail_view[i].kind != JAIL_TMP)
			continue;
		if (tmp_tree != -1 ? attach_tree(tmp_tree, jail_view[i].path) == -1 :
		    mount("lockerd-tmp", jail_view[i].path, "tmpfs", MS_NOSUID | MS_NODEV,
		    "size=16m,mode=1777") == -1)
			return errno_fail(err, errlen, "%s", jail_view[i].path);
	}
	if (attach_mail(s->conf, mail_trees, err, errlen) == -1)
		return -1;
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &ro, sizeof(ro)) == -1)
		return errno_fail(err, errlen, "read-only jail");
	cs_mark(CS_MOUNTS);
	cs_mark(CS_PIVOT);	/* made ahead */
	return sandbox_lock(s, open("/proc/self/exe", O_PATH | O_CLOEXEC), err, errlen);
}

/* A jail a spare's can be: not a home through a path the jail makes a
 * symlink (a lockers root under /var/tmp), nor with the SQL service's
 * socket, which is bound from the machine's mounts; sandbox_enter()
 * handles both. */
int
sandbox_prebuilt_ok(const struct config *c, const char *home)
{
	size_t i;

	if (c->sql.socket[0] != '\0')
		return 0;
	for (i = 0; i < jail_view_n; i++)
		if (jail_view[i].kind == JAIL_TMP_LINK && path_is_under(home, jail_view[i].path))
			return 0;
	return 1;
}
