/*
 * cli_hesiod.c: `locker export hesiod`'s output, which the master wrote
 * into a memfd (zone-file lines, or JSON), copied to stdout as it is.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "lockerd.h"
#include "hesiod.h"

int
cli_hesiod_copy(int fd)
{
	char	buf[65536];
	ssize_t	n;
	off_t	off = 0;

	fflush(stdout);
	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
			return -1;
		off += n;
	}
	return 0;
}
