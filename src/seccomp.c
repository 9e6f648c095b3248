/*
 * seccomp.c: the system calls no web script needs, refused for everything
 * a locker runs.
 *
 * Default allow: a locker runs arbitrary programs (PHP, Python, compilers,
 * shells), so an allow-list would break them.  What is refused is what
 * reaches past the locker: the mount table, new namespaces (unprivileged
 * user namespaces are allowed by this kernel and cannot be turned off by
 * sysctl, so this filter is the only barrier), kernel modules, kexec, bpf,
 * perf, keyrings, userfaultfd, io_uring, ptrace and cross-process memory
 * access, terminal input injection, the administrative calls, and socket
 * families other than Unix, IPv4, IPv6 and netlink's NETLINK_ROUTE.
 *
 * The filter is compiled with libseccomp once, in the master, and kept as
 * BPF; a child loads it with one prctl(), so it costs nothing per spawn.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/btrfs.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

/*
 * btrfs lets any user make a subvolume or a snapshot of their own where
 * they may write.  Its qgroup would have no limit, so it would escape the
 * home's disk limit (quota.c), and a locker has no use for one.
 */
static int
deny_btrfs_subvolumes(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	static const unsigned long cmds[] = {
		BTRFS_IOC_SUBVOL_CREATE, BTRFS_IOC_SUBVOL_CREATE_V2,
		BTRFS_IOC_SNAP_CREATE, BTRFS_IOC_SNAP_CREATE_V2,
		BTRFS_IOC_SNAP_DESTROY, BTRFS_IOC_SNAP_DESTROY_V2,
	};
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
		    SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, cmds[i]))) < 0) {
			snprintf(err, errlen, "seccomp rule ioctl: %s", strerror(-rc));
			return -1;
		}
	return 0;
}

/*
 * Sockets: an allow-list of families in a deny-list filter.  A web script
 * needs Unix sockets, IPv4 and IPv6, and netlink's NETLINK_ROUTE (glibc's
 * getaddrinfo asks it for the host's addresses with AI_ADDRCONFIG).  Every
 * other family is kernel code no locker needs and some are known attack
 * surface (AF_VSOCK reaches the hypervisor, AF_ALG the kernel's crypto,
 * AF_KEY, AF_TIPC, AF_RDS, AF_CAN, AF_BLUETOOTH, AF_PACKET, AF_XDP...): they
 * fail as on a kernel without them (EAFNOSUPPORT), and so do families added
 * to the kernel later.  Other netlink protocols dump host state
 * (NETLINK_SOCK_DIAG: every socket of the machine, with every visitor's
 * address; connector, audit, netfilter, generic...): EPROTONOSUPPORT.
 */
static int
allow_socket_families(scmp_filter_ctx ctx, int nr, char *err, size_t errlen)
{
	int	family, rc;

	/* Families are small numbers: each one between the allowed ones, and
	 * every number (or negative int) past AF_NETLINK. */
	for (family = 0; family < AF_NETLINK; family++) {
		if (family == AF_UNIX || family == AF_INET || family == AF_INET6)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1,
		    SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)family))) < 0)
			goto fail;
	}
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1,
	    SCMP_A0_32(SCMP_CMP_GT, AF_NETLINK))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPROTONOSUPPORT), nr, 2,
	    SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK),
	    SCMP_A2_32(SCMP_CMP_NE, NETLINK_ROUTE))) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "seccomp rule socket: %s", strerror(-rc));
	return -1;
}

static struct sock_filter	*bpf;
static size_t			 bpf_len;	/* instructions */

/* Refused with EPERM outright.  Names libseccomp does not know are skipped. */
static const char *const refused[] = {
	/* the file-system view */
	"mount", "umount", "umount2", "pivot_root", "chroot",
	"open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
	"mount_setattr", "name_to_handle_at", "open_by_handle_at",
	/* namespaces */
	"unshare", "setns",
	/* the kernel */
	"init_module", "finit_module", "delete_module", "create_module",
	"kexec_load", "kexec_file_load", "bpf", "perf_event_open",
	"add_key", "request_key", "keyctl", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"lookup_dcookie", "syslog", "iopl", "ioperm", "vhangup", "nfsservctl",
	/* other processes */
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
	/* administration */
	"swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"sethostname", "setdomainname", "fanotify_init",
	NULL
};

int
seccomp_compile(char *err, size_t errlen)
{
	static const uint64_t ns_flags[] = {
		CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
		CLONE_NEWPID, CLONE_NEWNET,
	};
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 fd = -1, rc;
	off_t		 size;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	/* A binary tree of syscall numbers: fewer instructions per call, and
	 * half the cost of loading it (the kernel runs the filter for every
	 * syscall number to build its cache of always-allowed calls). */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		snprintf(err, errlen, "seccomp optimize: %s", strerror(-rc));
		goto fail;
	}
	for (i = 0; refused[i] != NULL; i++) {
		int nr = seccomp_syscall_resolve_name(refused[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) < 0) {
			snprintf(err, errlen, "seccomp rule %s: %s", refused[i], strerror(-rc));
			goto fail;
		}
	}
	/* clone with any namespace flag.  clone3 passes its flags in memory, which
	 * a filter cannot read: ENOSYS makes glibc fall back to clone. */
	for (i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		    SCMP_A0_64(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]))) < 0) {
			snprintf(err, errlen, "seccomp rule clone: %s", strerror(-rc));
			goto fail;
		}
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0) {
		snprintf(err, errlen, "seccomp rule clone3: %s", strerror(-rc));
		goto fail;
	}
	/* Typing into the terminal of whoever ran `locker run`. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
	    SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
	    SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX))) < 0) {
		snprintf(err, errlen, "seccomp rule ioctl: %s", strerror(-rc));
		goto fail;
	}
	if (deny_btrfs_subvolumes(ctx, err, errlen) == -1 ||
	    allow_socket_families(ctx, SCMP_SYS(socket), err, errlen) == -1 ||
	    allow_socket_families(ctx, SCMP_SYS(socketpair), err, errlen) == -1)
		goto fail;
	/* Export the BPF once; children load it with prctl(). */
	if ((fd = memfd_create("lockerd-seccomp", MFD_CLOEXEC)) == -1 ||
	    (rc = seccomp_export_bpf(ctx, fd)) < 0 ||
	    (size = lseek(fd, 0, SEEK_END)) <= 0 || size % sizeof(struct sock_filter) != 0) {
		snprintf(err, errlen, "seccomp export: %s", strerror(errno));
		goto fail;
	}
	free(bpf);
	if ((bpf = malloc((size_t)size)) == NULL ||
	    pread(fd, bpf, (size_t)size, 0) != size) {
		snprintf(err, errlen, "seccomp export: short read");
		goto fail;
	}
	bpf_len = (size_t)size / sizeof(struct sock_filter);
	close(fd);
	seccomp_release(ctx);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	free(bpf);
	bpf = NULL;
	bpf_len = 0;
	seccomp_release(ctx);
	return -1;
}

/* In a child, after no_new_privs: 0, or -1 with errno. */
int
seccomp_enforce(void)
{
	struct sock_fprog prog;

	if (bpf == NULL) {
		errno = ENOSYS;
		return -1;
	}
	prog.len = (unsigned short)bpf_len;
	prog.filter = bpf;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/*
 * front's and logd's own filters: allow-lists, since they run only our
 * code.  front talks to the internet, so it is the process most likely to
 * be subverted; once started it needs only what its event loop does with
 * descriptors it already has or is handed (accept, receive, send,
 * sendfile, fstat).  logd adds opening its log files, in the log directory
 * it is chrooted into, and renaming them (a locker's error log rotated).  Neither may make a socket, connect, fork or exec:
 * a subverted front can read and forge the traffic passing through it, a
 * subverted logd the log lines, and nothing more.  Anything else fails
 * with EPERM rather than killing the process, so a call some rare path of
 * the C library makes degrades that path instead of dropping every
 * connection.  The other ABIs (i386, x32) are in no list: refused too.
 */
static const char *const service_base[] = {
	/* descriptors */
	"close", "dup", "fcntl", "newfstatat", "fstat", "lseek",
	/* moving bytes */
	"read", "readv", "write", "writev", "pread64", "recvfrom", "recvmsg",
	"recvmmsg", "sendto", "sendmsg", "sendmmsg",
	/* memory (malloc, the routes' mapping; the sanitizers' allocator) */
	"brk", "mmap", "munmap", "mremap", "madvise", "mprotect",
	/* time, signals, exit */
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack",
	"getpid", "gettid", "tgkill", "sched_yield", "futex", "getrandom",
	"exit", "exit_group", "restart_syscall",
	NULL
};

static const char *const front_extra[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "shutdown",
	"setsockopt", "getsockopt", "getsockname", "getpeername", "sendfile",
	"ftruncate",	/* emptying an answer's spool (respbuf.c) */
	"poll", "ppoll",	/* waiting for keyd's signature within a handshake (keyclient.c) */
	NULL
};

static const char *const logd_extra[] = {
	"poll", "ppoll", "open", "openat", "mkdir", "mkdirat", "fsync",
	"fdatasync", "rename", "renameat", "renameat2",
	NULL
};

static int
allow_list(scmp_filter_ctx ctx, const char *const *names, char *err, size_t errlen)
{
	int i, nr, rc;

	for (i = 0; names[i] != NULL; i++) {
		if ((nr = seccomp_syscall_resolve_name(names[i])) == __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
			snprintf(err, errlen, "seccomp rule %s: %s", names[i], strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/*
 * keyd's: narrower than front's.  It reads the key files the master opens
 * for it and its channels, signs, and answers: no file is opened, no
 * socket made, nothing accepted, no process started.  Its own list, not
 * service_base plus more, so that what keyd may do is read in one place.
 */
static const char *const keyd_list[] = {
	/* the channels and the key descriptors it is handed */
	"read", "recvmsg", "sendmsg", "poll", "ppoll", "close", "fcntl",
	/* diagnostics to stderr */
	"write",
	/* memory: OpenSSL's and the sanitizers' allocators */
	"brk", "mmap", "munmap", "mremap", "madvise", "mprotect",
	/* OpenSSL's locks and random numbers (ECDSA's nonce, RSA's blinding) */
	"futex", "getrandom",
	/* time, signals (abort()'s tgkill, the sanitizers' handlers), exit */
	"clock_gettime", "gettimeofday", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction",
	"sigaltstack", "tgkill", "sched_yield", "getpid", "gettid", "exit", "exit_group",
	"restart_syscall",
	NULL
};

static int
load_list(const char *const *names, const char *const *more, char *err, size_t errlen)
{
	scmp_filter_ctx	ctx;
	int		rc;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	if (allow_list(ctx, names, err, errlen) == -1 ||
	    (more != NULL && allow_list(ctx, more, err, errlen) == -1)) {
		seccomp_release(ctx);
		return -1;
	}
	if ((rc = seccomp_load(ctx)) < 0) {
		snprintf(err, errlen, "seccomp load: %s", strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

int
seccomp_keyd(char *err, size_t errlen)
{
	return load_list(keyd_list, NULL, err, errlen);
}

/*
 * The ACME client's: the base, and what talking to a CA and a DNS server
 * and keeping tls-dir take (sockets it makes and connects; the resolver's
 * files and the NSS modules getaddrinfo() loads; its own files, written
 * and renamed; interfaces for resolves_here()).  Never exec, fork, ptrace,
 * mount or change its ids: a CA that found a hole in the client gets a
 * process that can talk and write tls-dir, and no more.
 */
static const char *const acme_extra[] = {
	"poll", "ppoll", "select", "pselect6",
	"socket", "connect", "bind", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"getpeername",
	"open", "openat", "stat", "lstat", "statx", "access", "faccessat", "faccessat2",
	"readlink", "getdents64", "uname", "ioctl",
	"fsync", "fdatasync", "rename", "renameat", "renameat2", "unlink", "unlinkat",
	NULL
};

int
seccomp_acme(char *err, size_t errlen)
{
	return load_list(service_base, acme_extra, err, errlen);
}

/* Loads the allow-list of front (logd == 0) or logd in this process. */
int
seccomp_service(int logd, char *err, size_t errlen)
{
	return load_list(service_base, logd ? logd_extra : front_extra, err, errlen);
}

/*
 * sqld's: the base, and what a MariaDB client needs to connect (a Unix
 * or TCP socket, poll for its timeouts).  No file is opened (its root is
 * the socket's directory), no exec, fork, ptrace, mount or change of ids.
 */
static const char *const sqld_extra[] = {
	"poll", "ppoll", "select", "pselect6",
	"socket", "connect", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"getpeername", "sendto", "recvfrom", "writev", "readv", "uname", "ioctl",
	NULL
};

int
seccomp_sqld(char *err, size_t errlen)
{
	return load_list(service_base, sqld_extra, err, errlen);
}

/*
 * lockerd-dirsync's (dirsync.c): the base, and what libpq needs to connect
 * to PostgreSQL by TCP or a Unix socket and wait on it (poll), and the
 * feed's memfds (memfd_create, ftruncate, their seals by fcntl).  No file
 * is opened (its root is an empty directory), no exec, fork, ptrace, mount
 * or change of ids.
 */
static const char *const dirsync_extra[] = {
	"poll", "ppoll", "select", "pselect6",
	"socket", "connect", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"getpeername", "sendto", "recvfrom", "writev", "readv", "uname", "ioctl",
	"memfd_create", "ftruncate", "getuid", "geteuid",
	NULL
};

int
seccomp_dirsync(char *err, size_t errlen)
{
	return load_list(service_base, dirsync_extra, err, errlen);
}

/*
 * The mail role's (mailout.c): the base, accepting on the jails' socket
 * and reading the sealed messages it is handed (pread), and a TCP
 * connection to the relay.  No file is opened (its root is an empty
 * directory), no exec, fork, ptrace, mount or change of ids.
 */
static const char *const mailout_extra[] = {
	"poll", "ppoll", "accept4", "pread64",
	"socket", "connect", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"getpeername", "sendto", "recvfrom", "writev", "readv",
	NULL
};

int
seccomp_mailout(char *err, size_t errlen)
{
	return load_list(service_base, mailout_extra, err, errlen);
}

/*
 * maild's: the base, and what serving LMTP on the listener it is handed
 * takes (poll, accept) and keeping each message in a memfd of its own
 * (memfd_create, its seals by fcntl).  No file is opened (its root is an
 * empty directory), no socket made, no exec, fork, ptrace or change of ids.
 */
static const char *const maild_extra[] = {
	"poll", "ppoll", "accept4", "shutdown", "memfd_create", "ftruncate", "pwrite64",
	NULL
};

int
seccomp_maild(char *err, size_t errlen)
{
	return load_list(service_base, maild_extra, err, errlen);
}

/*
 * The hesiod role's (hesiod.c): the base, and TCP connections to the DNS
 * server (ldns waits with select or poll), reading the lockers' sealed
 * memfd (pread).  No file is opened (its root is an empty directory), no
 * exec, fork, ptrace, mount or change of ids.
 */
static const char *const hesiod_extra[] = {
	"poll", "ppoll", "select", "pselect6",
	"socket", "connect", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"getpeername",
	NULL
};

int
seccomp_hesiod(char *err, size_t errlen)
{
	return load_list(service_base, hesiod_extra, err, errlen);
}
