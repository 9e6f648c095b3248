/*
 * cgroup.c: one cgroup per locker, holding every process of that locker
 * (its worker and the scripts it runs, `locker run` and `locker su`).
 *
 * The master creates <hierarchy>/lockerd/<name>.<uid> in each hierarchy the
 * machine offers and writes the limits of the configuration into it; the
 * child joins it (writing "0" to cgroup.procs) before it pivots into its
 * jail, where no cgroup file system is visible.  When the last process of
 * a locker has been reaped the master removes the cgroup again (after
 * cgroup.kill on v2, for anything that might have been left behind), and
 * at stop it removes every cgroup of its uid range, so nothing is left.
 *
 * Two layouts are understood:
 *   - cgroup v2 with the memory, pids and cpu controllers (memory.max,
 *     pids.max, cpu.weight), mounted at /sys/fs/cgroup or .../unified;
 *   - cgroup v1 controllers at /sys/fs/cgroup/{memory,pids,cpu,blkio}
 *     (memory.limit_in_bytes, pids.max, cpu.shares, and blkio.bfq.weight
 *     where the BFQ I/O scheduler offers a weight), with a
 *     controller-less v2 hierarchy beside them used only for cgroup.kill.
 * The leaf is named after the locker and its uid: uids are never reused,
 * so two lockerd instances on one machine (the tests) never share one.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_PARENT	"lockerd"

enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_BLKIO, CG_CPUACCT, CG_V2, CG_N };

/* cpuacct limits nothing: it only tells `locker info` the CPU time used. */
static const char *cg_v1_name[CG_N] = {
	"memory", "pids", "cpu", "blkio", "cpuacct", NULL
};

static struct {
	int	probed;
	char	base[CG_N][64];		/* "" when absent */
	int	v2_controllers;		/* memory, pids, cpu enabled in the v2 tree */
	int	v2_kill;		/* cgroup.kill exists */
} cg;

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int
write_str(const char *path, const char *s)
{
	int	fd, rc;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	rc = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return rc;
}

static int
read_str(const char *path, char *buf, size_t bufsz)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, bufsz - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Does a space-separated list hold every word of want? */
static int
has_words(const char *list, const char *const *want)
{
	for (; *want != NULL; want++) {
		const char	*p = list;
		size_t		 l = strlen(*want);
		int		 found = 0;

		while ((p = strstr(p, *want)) != NULL) {
			if ((p == list || p[-1] == ' ') && (p[l] == '\0' || p[l] == ' ' ||
			    p[l] == '\n')) {
				found = 1;
				break;
			}
			p += l;
		}
		if (!found)
			return 0;
	}
	return 1;
}

void
cgroup_probe(char *missing, size_t missingsz)
{
	static const char *const ctl[] = { "memory", "pids", "cpu", NULL };
	char	path[128], list[512];
	int	i;

	memset(&cg, 0, sizeof(cg));
	cg.probed = 1;
	missing[0] = '\0';
	/* cgroup v2: at the root (unified) or beside the v1 hierarchies. */
	if (exists(CG_ROOT "/cgroup.controllers"))
		snprintf(cg.base[CG_V2], sizeof(cg.base[CG_V2]), "%s", CG_ROOT);
	else if (exists(CG_ROOT "/unified/cgroup.controllers"))
		snprintf(cg.base[CG_V2], sizeof(cg.base[CG_V2]), "%s", CG_ROOT "/unified");
	if (cg.base[CG_V2][0] != '\0') {
		snprintf(path, sizeof(path), "%s/cgroup.controllers", cg.base[CG_V2]);
		if (read_str(path, list, sizeof(list)) == 0 && has_words(list, ctl)) {
			snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg.base[CG_V2]);
			if (write_str(path, "+memory +pids +cpu") == 0)
				cg.v2_controllers = 1;
		}
		/* cgroup.kill appears in every non-root cgroup of a 5.14+ kernel. */
		snprintf(path, sizeof(path), "%s/" CG_PARENT, cg.base[CG_V2]);
		if (mkdir(path, 0755) == 0 || errno == EEXIST) {
			snprintf(path, sizeof(path), "%s/" CG_PARENT "/cgroup.kill", cg.base[CG_V2]);
			cg.v2_kill = exists(path);
		}
	}
	if (!cg.v2_controllers) {
		for (i = 0; i < CG_V2; i++) {
			snprintf(path, sizeof(path), CG_ROOT "/%s/cgroup.procs", cg_v1_name[i]);
			if (exists(path))
				snprintf(cg.base[i], sizeof(cg.base[i]), CG_ROOT "/%s",
				    cg_v1_name[i]);
			else
				snprintf(missing + strlen(missing), missingsz - strlen(missing),
				    "%s%s", missing[0] ? ", " : "", i == CG_BLKIO ?
				    "blkio (io-weight)" : i == CG_CPUACCT ?
				    "cpuacct (CPU time in locker info)" : cg_v1_name[i]);
			/*
			 * The root blkio cgroup has no blkio.bfq.weight (only
			 * children do); the BFQ statistics say whether the
			 * kernel has BFQ at all.  The weight then counts on
			 * devices whose scheduler is bfq.
			 */
			snprintf(path, sizeof(path), CG_ROOT "/%s/blkio.bfq.io_service_bytes",
			    cg_v1_name[i]);
			if (i == CG_BLKIO && cg.base[i][0] && !exists(path))
				snprintf(missing + strlen(missing), missingsz - strlen(missing),
				    "%san I/O weight (no BFQ scheduler in this kernel)",
				    missing[0] ? ", " : "");
		}
	}
	if (cg.base[CG_V2][0] == '\0' || !cg.v2_kill)
		snprintf(missing + strlen(missing), missingsz - strlen(missing),
		    "%scgroup.kill", missing[0] ? ", " : "");
}

static void
leaf_name(const char *locker, uint32_t uid, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s.%" PRIu32, locker, uid);
}

static void
leaf_path(int i, const char *leaf, const char *file, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/" CG_PARENT "/%s%s%s", cg.base[i], leaf, file ? "/" : "",
	    file ? file : "");
}

static void
set_limit(int i, const char *leaf, const char *file, uint64_t value, int zero_is_max)
{
	char	path[256], v[32];

	leaf_path(i, leaf, file, path, sizeof(path));
	if (value == 0 && zero_is_max)
		snprintf(v, sizeof(v), "%s", i == CG_V2 ? "max" : "-1");
	else
		snprintf(v, sizeof(v), "%" PRIu64, value);
	if (write_str(path, v) == -1 && errno != ENOENT)
		log_warn("cgroup: %s = %s", path, v);
}

int
cgroup_prepare(const struct config *c, const char *locker, uint32_t uid)
{
	char	leaf[LOCKER_NAME_MAX + 16], path[256];
	int	i, rc = 0;

	if (!cg.probed)
		return 0;
	leaf_name(locker, uid, leaf, sizeof(leaf));
	for (i = 0; i < CG_N; i++) {
		if (cg.base[i][0] == '\0')
			continue;
		snprintf(path, sizeof(path), "%s/" CG_PARENT, cg.base[i]);
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			log_warn("cgroup: mkdir %s", path);
			rc = -1;
			continue;
		}
		if (i == CG_V2 && cg.v2_controllers) {
			snprintf(path, sizeof(path), "%s/" CG_PARENT "/cgroup.subtree_control",
			    cg.base[i]);
			write_str(path, "+memory +pids +cpu");
		}
		leaf_path(i, leaf, NULL, path, sizeof(path));
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			log_warn("cgroup: mkdir %s", path);
			rc = -1;
			continue;
		}
		switch (i) {
		case CG_MEMORY:
			set_limit(i, leaf, "memory.limit_in_bytes", c->memory_limit, 1);
			/* No way around the limit through swap, where there is some. */
			set_limit(i, leaf, "memory.memsw.limit_in_bytes", c->memory_limit, 1);
			break;
		case CG_PIDS:
			set_limit(i, leaf, "pids.max", c->process_limit, 1);
			break;
		case CG_CPU:
			set_limit(i, leaf, "cpu.shares", c->cpu_shares, 0);
			break;
		case CG_BLKIO:
			/* Only with the BFQ scheduler; absent otherwise, and that is fine. */
			set_limit(i, leaf, "blkio.bfq.weight", c->io_weight, 0);
			break;
		case CG_CPUACCT:
			break;
		case CG_V2:
			if (!cg.v2_controllers)
				break;
			set_limit(i, leaf, "memory.max", c->memory_limit, 1);
			set_limit(i, leaf, "memory.swap.max", 0, 0);
			set_limit(i, leaf, "pids.max", c->process_limit, 1);
			/* cpu.shares 1024 is cpu.weight 100. */
			set_limit(i, leaf, "cpu.weight",
			    c->cpu_shares * 100 / 1024 < 1 ? 1 : c->cpu_shares * 100 / 1024, 0);
			break;
		}
	}
	return rc;
}

int
cgroup_join(const char *locker, uint32_t uid, char *err, size_t errlen)
{
	return cgroup_attach(locker, uid, 0, err, errlen);
}

/*
 * pid (0: the caller) into the locker's cgroups, from outside as the
 * spawner moves its spare (the host's pid).  A v1 migration waits for an
 * RCU grace period (the threadgroup lock): about a millisecond, which the
 * spare spends building its jail meanwhile.
 */
int
cgroup_attach(const char *locker, uint32_t uid, pid_t pid, char *err, size_t errlen)
{
	char	leaf[LOCKER_NAME_MAX + 16], path[256], num[24];
	int	i;

	snprintf(num, sizeof(num), "%d", (int)pid);
	leaf_name(locker, uid, leaf, sizeof(leaf));
	for (i = 0; i < CG_N; i++) {
		if (cg.base[i][0] == '\0')
			continue;
		leaf_path(i, leaf, "cgroup.procs", path, sizeof(path));
		if (write_str(path, num) == -1) {
			snprintf(err, errlen, "join %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void
remove_leaf(const char *leaf)
{
	char	path[256];
	int	i;

	if (cg.v2_kill) {
		leaf_path(CG_V2, leaf, "cgroup.kill", path, sizeof(path));
		write_str(path, "1");
	}
	for (i = 0; i < CG_N; i++) {
		if (cg.base[i][0] == '\0')
			continue;
		leaf_path(i, leaf, NULL, path, sizeof(path));
		/* EBUSY: something still runs (cgroup.kill is asynchronous); at stop, again. */
		if (rmdir(path) == -1 && errno != ENOENT && errno != EBUSY)
			log_warn("cgroup: rmdir %s", path);
	}
}

void
cgroup_release(const char *locker, uint32_t uid)
{
	char leaf[LOCKER_NAME_MAX + 16];

	if (!cg.probed)
		return;
	leaf_name(locker, uid, leaf, sizeof(leaf));
	remove_leaf(leaf);
}

/* At stop: every cgroup of our uid range, then the parent if it is empty. */
void
cgroup_release_all(const struct config *c)
{
	char		 path[256];
	struct dirent	*e;
	DIR		*d;
	int		 i, tries;

	if (!cg.probed)
		return;
	for (i = 0; i < CG_N; i++) {
		if (cg.base[i][0] == '\0')
			continue;
		snprintf(path, sizeof(path), "%s/" CG_PARENT, cg.base[i]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			const char	*dot = strrchr(e->d_name, '.');
			uint64_t	 uid;

			if (e->d_type != DT_DIR || dot == NULL || dot == e->d_name ||
			    parse_uint(dot + 1, UINT32_MAX, &uid) == -1 ||
			    uid < c->uid_low || uid > c->uid_high)
				continue;
			/* cgroup.kill is asynchronous: give the kernel a moment. */
			for (tries = 0; tries < 50; tries++) {
				char p[300];

				snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
				if (tries == 0 && cg.v2_kill && i == CG_V2) {
					char k[320];

					snprintf(k, sizeof(k), "%s/cgroup.kill", p);
					write_str(k, "1");
				}
				if (rmdir(p) == 0 || errno != EBUSY)
					break;
				usleep(10000);
			}
		}
		closedir(d);
		rmdir(path);	/* fails while another lockerd uses it: fine */
	}
}

/* CPU time in ms: v2's cpu.stat usage_usec, v1's cpuacct.usage (ns); or -1. */
static int64_t
cpu_used_ms(const char *leaf)
{
	char	path[256], buf[1024], *p;

	if (cg.v2_controllers) {
		leaf_path(CG_V2, leaf, "cpu.stat", path, sizeof(path));
		if (read_str(path, buf, sizeof(buf)) == 0 &&
		    (p = strstr(buf, "usage_usec ")) != NULL)
			return strtoll(p + 11, NULL, 10) / 1000;
		return -1;
	}
	if (cg.base[CG_CPUACCT][0] == '\0')
		return -1;
	leaf_path(CG_CPUACCT, leaf, "cpuacct.usage", path, sizeof(path));
	if (read_str(path, buf, sizeof(buf)) == 0)
		return strtoll(buf, NULL, 10) / 1000000;
	return -1;
}

/*
 * Current use, for `locker info`: memory bytes, processes and CPU time
 * (ms) of the cgroup, or -1.  The cgroup lives while the locker has
 * processes, so the CPU time counts from when its worker last started.
 */
void
cgroup_usage(const char *locker, uint32_t uid, int64_t *mem, int64_t *procs,
    int64_t *cpu_ms)
{
	char	leaf[LOCKER_NAME_MAX + 16], path[256], buf[64];

	*mem = *procs = *cpu_ms = -1;
	if (!cg.probed)
		return;
	leaf_name(locker, uid, leaf, sizeof(leaf));
	*cpu_ms = cpu_used_ms(leaf);
	if (cg.v2_controllers) {
		leaf_path(CG_V2, leaf, "memory.current", path, sizeof(path));
		if (read_str(path, buf, sizeof(buf)) == 0)
			*mem = strtoll(buf, NULL, 10);
		leaf_path(CG_V2, leaf, "pids.current", path, sizeof(path));
		if (read_str(path, buf, sizeof(buf)) == 0)
			*procs = strtoll(buf, NULL, 10);
		return;
	}
	if (cg.base[CG_MEMORY][0] != '\0') {
		leaf_path(CG_MEMORY, leaf, "memory.usage_in_bytes", path, sizeof(path));
		if (read_str(path, buf, sizeof(buf)) == 0)
			*mem = strtoll(buf, NULL, 10);
	}
	if (cg.base[CG_PIDS][0] != '\0') {
		leaf_path(CG_PIDS, leaf, "pids.current", path, sizeof(path));
		if (read_str(path, buf, sizeof(buf)) == 0)
			*procs = strtoll(buf, NULL, 10);
	}
}

/*
 * Every process of a locker, from its cgroup's cgroup.procs: what it runs
 * is in there from before its first instruction (cgroup_join), so `locker
 * status` needs no walk over every process of the machine.  cb is called
 * with each pid.  0 when read (a locker with no process has no cgroup: 0
 * with no call), -1 when there is no hierarchy to ask, before any call.
 */
int
cgroup_procs(const char *locker, uint32_t uid, void (*cb)(pid_t, void *), void *arg)
{
	static const int order[] = { CG_PIDS, CG_V2, CG_MEMORY, CG_CPU };
	char		 leaf[LOCKER_NAME_MAX + 16], path[256], buf[4096], *p, *nl;
	size_t		 have = 0, i;
	ssize_t		 n;
	int		 fd, which = -1;

	if (!cg.probed)
		return -1;
	for (i = 0; i < sizeof(order) / sizeof(order[0]) && which == -1; i++)
		if (cg.base[order[i]][0] != '\0' && (order[i] != CG_V2 || cg.v2_controllers))
			which = order[i];
	if (which == -1)
		return -1;
	leaf_name(locker, uid, leaf, sizeof(leaf));
	leaf_path(which, leaf, "cgroup.procs", path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	/* One pid a line; a line cut by the buffer is kept for the next read. */
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			*nl = '\0';
			if (*p >= '1' && *p <= '9')
				cb((pid_t)strtol(p, NULL, 10), arg);
		}
		have = strlen(p);
		memmove(buf, p, have);
	}
	close(fd);
	return 0;	/* a read error: what was read is all there is */
}
