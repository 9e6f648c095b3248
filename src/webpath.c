/*
 * webpath.c: what a request's path may name below a locker's web_scripts,
 * and opening it there: beneath web_scripts, or through a symlink that
 * still lands in the locker's home.  The worker's; apart from worker.c so
 * that the rules for paths read in one place.
 */
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"

/*
 * Open rel below web_scripts.  The common case resolves entirely beneath
 * it.  A symlink that leaves web_scripts is followed only if where it lands
 * is still inside the locker's home: checked on the open descriptor itself,
 * so there is no window between check and use.
 */
int
web_open(int webroot, const char *home, const char *rel)
{
	struct open_how	 how;
	char		 self[64], real[PATH_MAX];
	ssize_t		 n;
	int		 fd, flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

	if (*rel == '\0')
		rel = ".";
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, webroot, rel, &how, sizeof(how));
	if (fd != -1 || (errno != EXDEV && errno != ELOOP))
		return fd;

	if ((fd = openat(webroot, rel, flags)) == -1)
		return -1;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if ((n = readlink(self, real, sizeof(real) - 1)) == -1) {
		close(fd);
		return -1;
	}
	real[n] = '\0';
	if (!path_is_under(real, home)) {
		close(fd);
		errno = ENOENT;	/* what lies outside does not exist for the web */
		return -1;
	}
	return fd;
}

/* A failed open's answer, as Apache's. */
int
errno_status(int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
	case ENAMETOOLONG:	/* Apache's too ("access to ... failed") */
		return 403;
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case EXDEV:
		return 404;
	default:
		return 500;
	}
}

#define ACME_WEBROOT	"/.well-known/acme-challenge/"

/*
 * An HTTP-01 answer a locker keeps itself (certbot's or lego's --webroot):
 * one file, any name of base64url characters, right under ACME_WEBROOT;
 * served as text whatever its name, never run.  front answers lockerd's
 * own tokens before a request gets here (challenge.c).
 */
int
acme_webroot_file(const char *p, size_t len)
{
	size_t n = sizeof(ACME_WEBROOT) - 1, i;

	if (len <= n || memcmp(p, ACME_WEBROOT, n) != 0)
		return 0;
	for (i = n; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_' &&
		    !(p[i] == '.' && i > n))
			return 0;
	return 1;
}

/* Dotfiles (.htaccess, an install's .git/ and .lockerd-app: issue 16) and
 * anything odd in a path are never served. */
int
path_ok(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || p[0] != '/' || memchr(p, '\0', len) != NULL)
		return 0;
	if (acme_webroot_file(p, len))
		return 1;
	for (i = 0; i < len; i++)
		if (p[i] == '/' && i + 1 < len && p[i + 1] == '.')
			return 0;
		else if (p[i] == '/' && i + 1 < len && p[i + 1] == '/')
			return 0;
	return 1;
}
