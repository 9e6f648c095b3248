/*
 * bench/spawn.c: what starting a program costs from a parent of a given
 * size, by fork + exec and by proc_spawn() (src/pspawn.c, posix_spawn):
 * `make bench-spawn`.  The parent touches SIZE MiB of its own memory first
 * (fork copies the page tables of all of it); each round starts /bin/true
 * with stdio on /dev/null and waits for it.  The two ways alternate, so a
 * machine busy with other work slows both alike; the medians are printed.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"

#define ROUNDS	200

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *const argv_true[] = { "/bin/true", NULL };
static char *const envp_none[] = { NULL };

static double
by_fork(int null)
{
	double	t = now();
	pid_t	pid = fork();

	if (pid == 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execve("/bin/true", argv_true, envp_none);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	return now() - t;
}

static double
by_spawn(int null)
{
	struct pspawn	ps = { .path = "/bin/true", .argv = argv_true, .envp = envp_none,
			       .fd = { null, null, null } };
	double		t = now();
	pid_t		pid = proc_spawn(&ps);

	if (pid > 0)
		waitpid(pid, NULL, 0);
	return now() - t;
}

int
main(int argc, char **argv)
{
	static double	f[ROUNDS], s[ROUNDS];
	size_t		mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256, i;
	char		*mem;
	int		null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int		moved = fcntl(null, F_DUPFD_CLOEXEC, 3);

	if (null == -1 || moved == -1)
		return 1;
	close(null);
	if (mib > 0) {
		mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
		if (mem == MAP_FAILED)
			return 1;
		memset(mem, 1, mib << 20);
	}
	for (i = 0; i < ROUNDS; i++) {
		f[i] = by_fork(moved);
		s[i] = by_spawn(moved);
	}
	qsort(f, ROUNDS, sizeof(f[0]), cmp);
	qsort(s, ROUNDS, sizeof(s[0]), cmp);
	printf("parent %zu MiB: fork+exec p50 %.3f ms p90 %.3f ms; posix_spawn p50 %.3f ms "
	    "p90 %.3f ms (%d rounds each, /bin/true)\n", mib, f[ROUNDS / 2], f[ROUNDS * 9 / 10],
	    s[ROUNDS / 2], s[ROUNDS * 9 / 10], ROUNDS);
	return 0;
}
