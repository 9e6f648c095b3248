/*
 * app_copy.c: a release's tree copied into a locker's directory, as the
 * locker: every symlink dereferenced (Debian's trees point into /etc,
 * /var/lib and /usr/share/javascript; the locker must own real files it
 * can edit, and an install must not change when the system's files do),
 * none kept, nothing skipped silently: what cannot be read is an error
 * naming the path, unless the recipe says its layout() puts the real thing
 * there (struct app_recipe.replaced).
 *
 * The source is the system's (or the administrator's release directory),
 * read-only in the jail; the destination is written beneath an open
 * directory with O_NOFOLLOW and O_EXCL at every step, so a symlink the
 * locker planted in the destination cannot redirect a write.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

#define COPY_MAX_DEPTH	32	/* symlinked directories may loop */

struct copy {
	const char *const *skip;
	char	*why;
	size_t	 wl;
	size_t	 files;
};

static int
skipped(const struct copy *c, const char *rel)
{
	size_t	 i;

	for (i = 0; c->skip != NULL && c->skip[i] != NULL; i++)
		if (strcmp(c->skip[i], rel) == 0)
			return 1;
	return 0;
}

static int
copy_fail(struct copy *c, const char *rel, const char *what)
{
	snprintf(c->why, c->wl, "%s: %s", rel[0] ? rel : ".", what);
	return -1;
}

static int
copy_file(struct copy *c, int sfd, const struct stat *st, int dfd, const char *name,
    const char *rel)
{
	mode_t	 mode = (st->st_mode & 0111) ? 0755 : 0644;
	char	 buf[65536];
	ssize_t	 n;
	int	 out;

	if ((out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) == -1)
		return copy_fail(c, rel, strerror(errno));
	while ((n = read(sfd, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			close(out);
			return copy_fail(c, rel, strerror(errno ? errno : ENOSPC));
		}
	if (n == -1 || fchmod(out, mode) == -1) {
		close(out);
		return copy_fail(c, rel, strerror(errno));
	}
	close(out);
	c->files++;
	return 0;
}

static int copy_dir(struct copy *c, int sfd, int dfd, char *rel, size_t rl, int depth);

/* One entry of a directory: opened through any symlink (dereferenced). */
static int
copy_entry(struct copy *c, int sdir, int dfd, const char *name, char *rel, size_t rl, int depth)
{
	size_t		 before = strlen(rel);
	struct stat	 st;
	int		 sfd, nd, rc;

	snprintf(rel + before, rl - before, "%s%s", before ? "/" : "", name);
	if (skipped(c, rel)) {
		rel[before] = '\0';
		return 0;
	}
	if ((sfd = openat(sdir, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 || fstat(sfd, &st) == -1) {
		rc = copy_fail(c, rel, errno == ENOENT ? "a dangling symlink" : strerror(errno));
		goto out;
	}
	if (S_ISREG(st.st_mode))
		rc = copy_file(c, sfd, &st, dfd, name, rel);
	else if (S_ISDIR(st.st_mode)) {
		if (depth >= COPY_MAX_DEPTH)
			rc = copy_fail(c, rel, "directories nested too deep (a symlink loop?)");
		else if (mkdirat(dfd, name, 0755) == -1 ||
		    (nd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			rc = copy_fail(c, rel, strerror(errno));
		else {
			rc = copy_dir(c, sfd, nd, rel, rl, depth + 1);
			sfd = -1;	/* copy_dir closed it */
			close(nd);
		}
	} else
		rc = copy_fail(c, rel, "not a file or directory");
out:
	if (sfd != -1)
		close(sfd);
	rel[before] = '\0';
	return rc;
}

/* Takes sfd (closes it). */
static int
copy_dir(struct copy *c, int sfd, int dfd, char *rel, size_t rl, int depth)
{
	DIR		*d = fdopendir(sfd);
	struct dirent	*e;
	int		 rc = 0;

	if (d == NULL) {
		close(sfd);
		return copy_fail(c, rel, strerror(errno));
	}
	errno = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = copy_entry(c, dirfd(d), dfd, e->d_name, rel, rl, depth);
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = copy_fail(c, rel, strerror(errno));
	closedir(d);
	return rc;
}

int
app_copy_tree(const char *src, int dstfd, const char *const *skip, char *why, size_t wl)
{
	struct copy	 c = { .skip = skip, .why = why, .wl = wl };
	char		 rel[4096] = "";
	int		 sfd;

	if ((sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(why, wl, "%s: %s", src, strerror(errno));
		return -1;
	}
	if (copy_dir(&c, sfd, dstfd, rel, sizeof(rel), 0) == -1) {
		char	 tmp[512];

		snprintf(tmp, sizeof(tmp), "%s", why);
		snprintf(why, wl, "copying %s: %s", src, tmp);
		return -1;
	}
	return 0;
}
