/*
 * jail.c: what entering a locker's sandbox costs.  As root:
 *     make bench-jail            (or build/bench-jail [N] [lockers-root])
 * Times N runs (default 200) of /bin/true, each way, and prints the median
 * and 90th percentile: fork + exec; sandbox_clone() + sandbox_enter() +
 * exec (the whole jail: namespaces, cgroups, mounts, pivot_root, Landlock,
 * seccomp, setuid).  A throw-away locker home is made under lockers-root
 * (default /var/lib/lockerd-bench-jail) and removed after.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%-44s median %.3f ms   p90 %.3f ms\n", what, t[n / 2], t[n * 9 / 10]);
}

int
main(int argc, char **argv)
{
	static struct config	 conf;
	struct sandbox_spec	 s;
	char			 home[PATH_MAX], tmp[PATH_MAX + 8], err[256], cmd[PATH_MAX + 16];
	const char		*root = argc > 2 ? argv[2] : "/var/lib/lockerd-bench-jail";
	char			*av[] = { "true", NULL }, *ev[] = { NULL };
	int			 n = argc > 1 ? atoi(argv[1]) : 200, i, mode, status;
	double			*t, *enter;

	if (n < 1 || (t = calloc((size_t)n, sizeof(*t))) == NULL ||
	    (enter = mmap(NULL, sizeof(double) * (size_t)n, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return 2;
	log_init("bench-jail", 0);
	config_defaults(&conf);
	snprintf(conf.lockers, sizeof(conf.lockers), "%s", root);
	snprintf(home, sizeof(home), "%s/bench", root);
	snprintf(tmp, sizeof(tmp), "%s/tmp", home);
	if ((mkdir(root, 0755) == -1 && access(root, F_OK) == -1) ||
	    (mkdir(home, 0700) == -1 && access(home, F_OK) == -1) ||
	    (mkdir(tmp, 0700) == -1 && access(tmp, F_OK) == -1) ||
	    chown(home, 399999, 399999) == -1 || chown(tmp, 399999, 399999) == -1) {
		perror(root);
		return 1;
	}
	if (sandbox_init(&conf) == -1)
		return 1;
	memset(&s, 0, sizeof(s));
	s.conf = &conf;
	s.locker = "bench";
	s.home = home;
	s.uid = s.gid = 399999;
	sandbox_prepare(&conf, "bench", 399999);
	for (mode = 0; mode < 2; mode++) {
		for (i = 0; i < n; i++) {
			double	t0 = now();
			pid_t	pid = mode ? sandbox_clone() : fork();

			if (pid == 0) {
				if (mode && sandbox_enter(&s, err, sizeof(err)) == -1) {
					fprintf(stderr, "sandbox: %s\n", err);
					_exit(1);
				}
				if (mode)
					enter[i] = now() - t0;
				execve("/bin/true", av, ev);
				_exit(127);
			}
			if (pid == -1 || waitpid(pid, &status, 0) != pid || status != 0) {
				fprintf(stderr, "run %d failed (status %d)\n", i, status);
				return 1;
			}
			t[i] = now() - t0;
		}
		report(mode ? "clone + full jail + exec /bin/true + exit" :
		    "fork + exec /bin/true + exit", t, n);
		if (mode)
			report("  of which clone + sandbox_enter", enter, n);
	}
	sandbox_release("bench", 399999);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : 1;
}
