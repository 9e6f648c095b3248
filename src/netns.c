/*
 * netns.c: a network namespace per locker, with outbound connectivity.
 *
 * With `locker-network private`, every process of a locker (its worker,
 * scripts, PHP pool, `locker run`/`su`) runs in one network namespace of
 * that locker, made with its first process and gone with its last, like its
 * cgroups.  The namespace hides the host's socket tables (/proc/net/tcp
 * and unix show every visitor's address and other lockers' sockets) and
 * the host's loopback services.  It holds lo and the tap device of pasta
 * (Debian's passt): pasta, one per locker, started by the master, turns
 * the locker's outbound TCP and UDP into ordinary sockets of its own on
 * the host, so the host needs no veth, forwarding, NAT or firewall rule.
 *
 * Least privilege: the namespace belongs to a user namespace owned by
 * nobody (a short-lived child becomes nobody, then unshares both), so pasta
 * runs as nobody, with no capability on the host, and may still configure
 * the locker's namespace; the locker's processes, in the host's user
 * namespace as their own uid, have none over it.  pasta opens
 * /dev/net/tun, which is root's alone where no udev made it 0666: it gets
 * a node of its own, in a mount namespace of its own.
 *
 * The master does not wait for pasta: a worker serves files and runs
 * scripts at once, and outbound connections work some tens of milliseconds
 * later (pasta takes ~40 ms to come up; docs/SECURITY.md).
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

/* pasta's user: nobody, as pasta itself would pick when started as root. */
#define NETNS_USER	"nobody"

struct netns {
	struct netns	*next;
	char		 locker[LOCKER_NAME_MAX + 1];
	uint32_t	 uid;
	int		 userfd, netfd;
	pid_t		 pasta;		/* its keeper (pasta_start) */
};

static struct netns	*netns_list;
/* For the next sandbox_clone(): -1 none (locker-network host), -2 the
 * locker's could not be made, so the child must not start. */
static int		 netns_next = -1;
static uid_t		 net_uid = 65534;
static gid_t		 net_gid = 65534;

void
netns_init(void)
{
	struct passwd *pw = getpwnam(NETNS_USER);

	sandbox_clone_join = netns_join;
	if (pw != NULL) {
		net_uid = pw->pw_uid;
		net_gid = pw->pw_gid;
	}
}

/*
 * Whether every nameserver the machine's resolver asks is on its loopback
 * (systemd-resolved's 127.0.0.53, a local dnsmasq): out of a locker's
 * reach in its own namespace, so worth a warning at start.  The file is
 * root's, not a locker's.
 */
int
netns_resolver_on_loopback(void)
{
	char	 line[256], addr[64];
	int	 any = 0, all_lo = 1;
	FILE	*f = fopen("/etc/resolv.conf", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " nameserver %63s", addr) != 1)
			continue;
		any = 1;
		if (strncmp(addr, "127.", 4) != 0 && strcmp(addr, "::1") != 0)
			all_lo = 0;
	}
	fclose(f);
	return any && all_lo;
}

/*
 * In the child of sandbox_clone() (root, so with every capability over the
 * namespace), not in the master: it takes the kernel's rtnl lock, which
 * pasta and the teardown of other namespaces hold for milliseconds.  pasta
 * would bring lo up too, but later.
 */
static void
lo_up(void)
{
	struct ifreq	ifr;
	int		s;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

/*
 * A child becomes nobody, unshares a user and a network namespace (the
 * user namespace first, so it owns the other) and stops;
 * the master opens both namespaces through its /proc and lets it go.
 */
static int
netns_make(int *userfd, int *netfd)
{
	char	path[64];
	pid_t	pid;
	int	status, rc = -1;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		char err[128];

		child_reset(0);
		if (become(net_uid, net_gid, err, sizeof(err)) == -1 ||
		    unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1)
			_exit(1);
		raise(SIGSTOP);
		_exit(0);
	}
	if (waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status)) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		*userfd = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		*netfd = open(path, O_RDONLY | O_CLOEXEC);
		if (*userfd != -1 && *netfd != -1)
			rc = 0;
		else {
			if (*userfd != -1)
				close(*userfd);
			if (*netfd != -1)
				close(*netfd);
		}
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return rc;
}

/* In pasta's child: a /dev/net/tun of its own that its user may open. */
static void
private_tun(void)
{
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("lockerd-tun", "/dev/net", "tmpfs", MS_NOSUID | MS_NOEXEC,
	    "size=4k,nr_inodes=4,mode=0755") == -1)
		return;
	if (mknod("/dev/net/tun", S_IFCHR | 0600, makedev(10, 200)) == 0)
		(void)chown("/dev/net/tun", net_uid, net_gid);
}

/* Whether lockerd answers on the host's loopback at this listen address. */
static int
on_loopback(const struct listen_addr *l)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (inet_pton(AF_INET, l->host, &a4) == 1)
		return a4.s_addr == htonl(INADDR_ANY) || (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, l->host, &a6) == 1)
		return IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/* port added to the comma-separated list out[0..*len), once. */
static void
port_add(char *out, size_t *len, size_t outlen, const char *port)
{
	const char	*p;
	size_t		 n = strlen(port);

	for (p = out; p < out + *len; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ','))
		if (strncmp(p, port, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return;
	if (n == 0 || *len + n + 2 > outlen)
		return;
	*len += (size_t)snprintf(out + *len, outlen - *len, "%s%s", *len ? "," : "", port);
}

/*
 * The host's loopback ports a locker reaches, as pasta's -T list:
 * lockerd's own listening ports (a locker reaches lockerd at
 * 127.0.0.1:PORT, and [::1], as before, since it is public anyway), and,
 * with the SQL service, MariaDB's TCP port (sql-tcp-port, and the port of
 * `sql mariadb ADDR:PORT` on loopback), so that a script connects to
 * 127.0.0.1 as it would on any Debian host (its account's limits count
 * it with the socket's: sqlacct.c).  pasta connects to the host's
 * loopback, so only ports lockerd listens on there (or on every address):
 * a port lockerd has on a public address only may be another service's on
 * loopback.  pasta of this version takes ports, not addresses, so a port
 * goes to both 127.0.0.1 and ::1.  "none" where there is no such port.
 */
static void
own_ports(const struct config *c, char *out, size_t outlen)
{
	size_t	len = 0;
	char	port[8];
	int	i;

	out[0] = '\0';
	for (i = 0; i < c->nlisten; i++)
		if (on_loopback(&c->listen[i]))
			port_add(out, &len, outlen, c->listen[i].port);
	if (c->sql.kind == SQL_MARIADB) {
		if (c->sql.socket[0] == '\0' && on_loopback(&c->sql.addr))
			port_add(out, &len, outlen, c->sql.addr.port);
		if (c->sql_tcp_port != 0) {
			snprintf(port, sizeof(port), "%u", (unsigned)c->sql_tcp_port);
			port_add(out, &len, outlen, port);
		}
	}
	if (len == 0)
		snprintf(out, outlen, "none");
}

/*
 * pasta for the namespace, as nobody, in the foreground.  It forwards no
 * port from the host in (-t, -u none: a locker listening on a port opens
 * none on the host), only lockerd's own TCP ports and MariaDB's out to the
 * host's loopback (-T), no UDP port (-U none), and does not map the gateway's
 * address to the host's loopback (--no-map-gw): no locker reaches a
 * service that listens on the host's loopback, but lockerd's and MariaDB's.
 */
static void
pasta_exec(const struct config *c, int userfd, int netfd)
{
	char		 runas[32], ports[(CONF_MAX_LISTEN + 2) * 8];
	char		*argv[] = {
		"pasta", "--foreground", "--quiet", "--config-net",
		"--runas", runas,
		"--userns", "/proc/self/fd/3", "--netns", "/proc/self/fd/4",
		"--no-netns-quit",
		"-t", "none", "-u", "none", "-T", ports, "-U", "none",
		"--no-map-gw", "--no-dhcp", "--no-dhcpv6", "--no-ra", NULL
	};
	char		*envp[] = { "PATH=/usr/bin:/bin", NULL };
	int		 null;

	snprintf(runas, sizeof(runas), "%u:%u", (unsigned)net_uid, (unsigned)net_gid);
	own_ports(c, ports, sizeof(ports));

	/* Above 4 first, so that neither lands on the other. */
	if ((userfd = fcntl(userfd, F_DUPFD, 5)) == -1 ||
	    (netfd = fcntl(netfd, F_DUPFD, 5)) == -1 ||
	    dup2(userfd, 3) == -1 || dup2(netfd, 4) == -1)
		_exit(127);
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, 0);
		dup2(null, 1);
	}
	syscall(SYS_close_range, 5U, ~0U, 0U);
	execve(PASTA_PATH, argv, envp);
	_exit(127);
}

/*
 * pasta's keeper: pid 1 of a pid namespace of its own, with pasta its one
 * child.  pasta changes its uid, which clears a parent-death signal, so
 * the keeper, which stays root, holds it: when the master dies, even by
 * SIGKILL, the keeper is killed, and the kernel kills pasta with its pid
 * namespace.  The master stops pasta the same way: SIGKILL to the keeper
 * (pid 1 of a namespace takes no other signal it has no handler for).
 */
static pid_t
pasta_start(const struct config *c, int userfd, int netfd)
{
	pid_t		 pid, child;
	int		 status = 0;

	pid = (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | CLONE_NEWPID), NULL, NULL,
	    NULL, NULL);
	if (pid != 0)
		return pid;
	child_reset(CHILD_DIE_WITH_PARENT);
	prctl(PR_SET_NAME, "lockerd-pasta");	/* in ps: not another master */
	if ((child = fork()) == -1)
		_exit(127);
	if (child == 0) {
		/* Not in the keeper, which lives on: a mount namespace copied
		 * from the host's holds every mount of it (a locker's disk
		 * image) busy.  pasta leaves its copy for an empty root. */
		private_tun();
		pasta_exec(c, userfd, netfd);
	}
	syscall(SYS_close_range, 0U, ~0U, 0U);
	while (waitpid(child, &status, 0) == -1 && errno == EINTR)
		;
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static struct netns *
netns_find(const char *locker, uint32_t uid)
{
	struct netns *n;

	for (n = netns_list; n != NULL; n = n->next)
		if (n->uid == uid && strcmp(n->locker, locker) == 0)
			return n;
	return NULL;
}

/*
 * Master, before each process of the locker: its namespace, made (and its
 * pasta started) if it has none yet.  The next sandbox_clone() joins it.
 */
int
netns_prepare(const struct config *c, const char *locker, uint32_t uid)
{
	struct netns	*n;

	netns_next = -1;
	if (!config_locker_netns(c))
		return 0;
	if ((n = netns_find(locker, uid)) == NULL) {
		if ((n = calloc(1, sizeof(*n))) == NULL)
			return -1;
		if (netns_make(&n->userfd, &n->netfd) == -1) {
			log_warn("netns %s: cannot make its network namespace", locker);
			free(n);
			netns_next = -2;
			return -1;
		}
		snprintf(n->locker, sizeof(n->locker), "%s", locker);
		n->uid = uid;
		if ((n->pasta = pasta_start(c, n->userfd, n->netfd)) == -1)
			log_warn("netns %s: cannot start pasta; no outbound network", locker);
		n->next = netns_list;
		netns_list = n;
		log_debug("netns %s: pasta pid %d", locker, (int)n->pasta);
	}
	netns_next = n->netfd;
	return 0;
}

/* In the child of sandbox_clone(), first thing: the locker's namespace. */
int
netns_join(void)
{
	if (netns_next == -1)
		return 0;
	if (netns_next == -2) {
		errno = ENONET;
		return -1;
	}
	if (setns(netns_next, CLONE_NEWNET) == -1)
		return -1;
	lo_up();
	return 0;
}

static void
netns_free(struct netns *n)
{
	if (n->pasta > 0)
		kill(n->pasta, SIGKILL);	/* its keeper: pasta goes with it */
	close(n->userfd);
	close(n->netfd);
	free(n);
}

/* Master, when the locker's last process has been reaped. */
void
netns_release(const char *locker, uint32_t uid)
{
	struct netns **pp, *n;

	for (pp = &netns_list; (n = *pp) != NULL; pp = &n->next)
		if (n->uid == uid && strcmp(n->locker, locker) == 0) {
			*pp = n->next;
			netns_free(n);
			return;
		}
}

void
netns_release_all(void)
{
	struct netns *n;

	while ((n = netns_list) != NULL) {
		netns_list = n->next;
		netns_free(n);
	}
	netns_next = -1;
}

/* Master, on reaping a child that is none of its roles: was it a pasta? */
int
netns_reaped(pid_t pid, int status)
{
	struct netns *n;

	for (n = netns_list; n != NULL; n = n->next)
		if (n->pasta == pid) {
			log_warnx("netns %s: pasta (pid %d) ended (status %d); the locker "
			    "has no outbound network until its processes end", n->locker,
			    (int)pid, status);
			n->pasta = 0;
			return 1;
		}
	return 0;
}
