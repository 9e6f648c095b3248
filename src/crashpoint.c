/*
 * crashpoint.c: the hook of the kill -9 tests (test_sql.py), so that they
 * can show what a crash leaves at each step boundary of `locker sql` and
 * `locker remove` (issue 14: "a crash of lockerd at any point of signup
 * or drop leaves the directory and MariaDB consistent").
 *
 * LOCKERD_CRASH_AT=FILE in the master's environment names a file of
 * root's (the test's) holding one step name, or nothing.  At a step of
 * that name the master empties the file and kills itself with SIGKILL
 * (crash_point()); a step of sqld's ("sqld-..."), which sqld cannot read
 * from a file in its chroot, is handed to the next sqld the master starts
 * in its environment, and the file emptied (crash_point_child()).  Emptied
 * first, so that the next life of the process goes on past the step: one
 * lockerd serves every point of a test run, one crash each.  Without the
 * variable nothing here reads anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

/* The step the file names, into out: 0, or -1 (no variable, no step). */
static int
crash_step(char *out, size_t outsz)
{
	const char	*path = getenv("LOCKERD_CRASH_AT");
	ssize_t		 n;
	int		 fd;

	if (path == NULL || path[0] != '/' ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, out, outsz - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return out[0] != '\0' ? 0 : -1;
}

static void
crash_disarm(void)
{
	int fd = open(getenv("LOCKERD_CRASH_AT"), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);

	if (fd != -1) {
		fsync(fd);
		close(fd);
	}
}

void
crash_point(const char *step)
{
	char at[64];

	if (crash_step(at, sizeof(at)) == -1 || strcmp(at, step) != 0)
		return;
	crash_disarm();
	log_warnx("LOCKERD_CRASH_AT: killing the master at %s", step);
	raise(SIGKILL);
}

const char *
crash_point_child(const char *prefix)
{
	static char at[64];

	if (crash_step(at, sizeof(at)) == -1 || strncmp(at, prefix, strlen(prefix)) != 0)
		return NULL;
	crash_disarm();
	return at;
}
