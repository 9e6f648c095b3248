/*
 * coldstart.c: where a worker's cold start spends its milliseconds.
 *
 * Off unless the master runs with LOCKERD_COLDSTART in its environment (a
 * measurement switch, like LOCKERD_DEBUG): then each step of a worker's
 * start marks the monotonic clock, which no namespace of ours changes, so
 * marks taken by the master, by the child before its exec and by the worker
 * after it are on one time line.  The marks made before the exec travel in
 * the worker's environment (the child's memory does not survive execve);
 * the worker adds its own and logs one line at its first request:
 *
 *   worker[alice]: coldstart prepare 0.41 clone 0.20 ... total 3.12 ms
 *
 * each figure the time since the step before.  bench/coldstart.py turns
 * it on and makes the table of bench/README.md from these lines.  With
 * LOCKERD_COLDSTART=exec, every worker is started the way it was before
 * the spawner (the master's clone, then an exec), to compare the two.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lockerd.h"

#define CS_ENV	"LOCKERD_COLDSTART"

static const char *const cs_names[CS_N] = {
	[CS_ASK] = "ask",		/* the master takes up front's ask */
	[CS_PREPARED] = "prepare",	/* the directory, its cgroups and network
					   namespace */
	[CS_CLONED] = "clone",		/* first instruction of the child */
	[CS_RESET] = "reset",		/* signals, descriptors, netns join */
	[CS_CGROUP] = "cgroup",		/* mounts private, cgroups joined */
	[CS_MOUNTS] = "mounts",		/* the jail built */
	[CS_PIVOT] = "pivot",		/* pivot_root, old root detached */
	[CS_LANDLOCK] = "landlock",	/* ruleset built */
	[CS_BECOME] = "become",		/* rlimits, the locker's uid */
	[CS_SECCOMP] = "seccomp",	/* Landlock and seccomp enforced */
	[CS_EXEC] = "exec",		/* the worker's main() (loader, libraries) */
	[CS_INIT] = "init",		/* its configuration from the master */
	[CS_READY] = "ready",		/* in its loop, MSG_ACTIVE sent */
	[CS_REQUEST] = "request",	/* its first request read */
};

static uint64_t	cs_at[CS_N];
static int	cs_on = -1;
static int	cs_reported;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
cs_enabled(void)
{
	if (cs_on == -1)
		cs_on = getenv(CS_ENV) != NULL;
	return cs_on;
}

int
cs_force_exec(void)
{
	const char *s = getenv(CS_ENV);

	return cs_enabled() && s != NULL && strcmp(s, "exec") == 0;
}

void
cs_mark(enum cs_step step)
{
	if (cs_enabled() && step < CS_N)
		cs_at[step] = mono_ns();
}

/* The spawner's child: the master's marks, which came in MSG_SPAWN. */
void
cs_set(enum cs_step step, uint64_t ns)
{
	if (cs_enabled() && step < CS_N)
		cs_at[step] = ns;
}

void
cs_get(uint64_t *ask, uint64_t *prepared)
{
	*ask = cs_at[CS_ASK];
	*prepared = cs_at[CS_PREPARED];
}

/* A new start: marks of a previous one (the master starts many) go. */
void
cs_begin(void)
{
	if (!cs_enabled())
		return;
	memset(cs_at, 0, sizeof(cs_at));
	cs_reported = 0;
	cs_mark(CS_ASK);
}

/* "LOCKERD_COLDSTART=N,N,..." for the environment of the exec; "" when off. */
void
cs_env(char *buf, size_t len)
{
	size_t	off;
	int	i, n;

	buf[0] = '\0';
	if (!cs_enabled())
		return;
	n = snprintf(buf, len, CS_ENV "=");
	off = n > 0 ? (size_t)n : 0;
	for (i = 0; i < CS_N && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%" PRIu64, i ? "," : "", cs_at[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* In the worker: the marks its environment brought across the exec. */
void
cs_from_env(void)
{
	const char	*s;
	char		*end;
	int		 i;

	/* A worker the spawner started without an exec has its marks already
	 * (and the spawner's stale ones in its environment). */
	if (!cs_enabled() || cs_at[CS_ASK] != 0 || (s = getenv(CS_ENV)) == NULL)
		return;
	for (i = 0; i < CS_N && *s != '\0'; i++) {
		errno = 0;
		cs_at[i] = strtoull(s, &end, 10);
		if (errno != 0 || end == s || (*end != ',' && *end != '\0')) {
			memset(cs_at, 0, sizeof(cs_at));
			return;
		}
		s = *end == ',' ? end + 1 : end;
	}
}

/* At each request of the worker; the first marks CS_REQUEST and logs
 * each step's share, in ms. */
void
cs_report(void)
{
	char	 line[600];
	size_t	 off = 0;
	uint64_t prev;
	int	 i, n;

	if (!cs_enabled() || cs_reported || cs_at[CS_ASK] == 0)
		return;
	cs_reported = 1;
	cs_mark(CS_REQUEST);
	prev = cs_at[CS_ASK];
	for (i = CS_ASK + 1; i < CS_N && off < sizeof(line); i++) {
		if (cs_at[i] == 0)
			continue;	/* a step this start did not take */
		n = snprintf(line + off, sizeof(line) - off, " %s %.3f", cs_names[i],
		    (double)(cs_at[i] - prev) / 1e6);
		if (n < 0)
			break;
		off += (size_t)n;
		prev = cs_at[i];
	}
	log_info("coldstart%s total %.3f ms", line, (double)(prev - cs_at[CS_ASK]) / 1e6);
}
