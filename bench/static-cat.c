/*
 * static-cat: the scripts.mit.edu way of serving a static file with the
 * rights of its owner.  Apache hands the request to this CGI program through
 * suexec (so it runs as the locker's uid); it opens the requested file
 * (PATH_TRANSLATED) itself, prints a CGI response head and copies the file
 * to stdout.  One fork + exec of suexec + exec of this program per request:
 * the cost lockerd's workers are meant to remove.
 *
 * Built and used only by bench/run.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *ext, *type;
} types[] = {
	{ "html", "text/html" }, { "htm", "text/html" }, { "txt", "text/plain" },
	{ "css", "text/css" }, { "js", "application/javascript" },
	{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "gif", "image/gif" },
};

static int
writeall(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fail(const char *status)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head), "Status: %s\r\nContent-Type: text/plain\r\n\r\n%s\n",
	    status, status);
	writeall(1, head, (size_t)n);
	return 0;
}

int
main(void)
{
	const char *path = getenv("PATH_TRANSLATED"), *dot, *type = "application/octet-stream";
	char buf[65536];
	struct stat st;
	ssize_t r;
	size_t i;
	int fd, n;

	if (path == NULL || *path == '\0')
		return fail("404 Not Found");
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return fail(errno == EACCES ? "403 Forbidden" : "404 Not Found");
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		return fail("403 Forbidden");
	if ((dot = strrchr(path, '.')) != NULL)
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				type = types[i].type;
	n = snprintf(buf, sizeof(buf), "Content-Type: %s\r\nContent-Length: %lld\r\n\r\n",
	    type, (long long)st.st_size);
	if (writeall(1, buf, (size_t)n) == -1)
		return 1;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (writeall(1, buf, (size_t)r) == -1)
			return 1;
	}
	return 0;
}
