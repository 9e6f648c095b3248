/*
 * app_release.c: the releases an install or upgrade may go to, chosen by
 * the master: Debian's package tree (/usr/share/APP, root's) and the
 * administrator's app-releases/APP/VERSION/ trees.  Both are root's, not a
 * locker's, so the master may read them: it reads a tree's version from
 * the one file its app writes it in (and no more), and refuses a file
 * that is not root's or that others may write.  Newest: the highest by
 * strverscmp(), as `sort -V` orders versions.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_master.h"
#include "app_version.h"

/* A root-owned file no one else may write, read whole (up to len - 1). */
static ssize_t
read_root_file(const char *path, char *buf, size_t len)
{
	struct stat	st;
	ssize_t		n;
	size_t		got = 0;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		close(fd);
		return -1;
	}
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

int
app_version_read(const struct app_kind *k, const char *tree, char *out, size_t len)
{
	char	path[PATH_MAX], text[65536];
	size_t	n;

	if (snprintf(path, sizeof(path), "%s/%s", tree, k->version_file) >= (int)sizeof(path) ||
	    read_root_file(path, text, sizeof(text)) == -1)
		return -1;
	if (strcmp(k->name, "wordpress") == 0)
		return app_php_version_in(text, "$wp_version =", out, len);
	if (strcmp(k->name, "mediawiki") == 0)
		return app_php_version_in(text, "'MW_VERSION'", out, len);
	if (strcmp(k->name, "phpmyadmin") == 0)
		return app_php_version_in(text, "const VERSION =", out, len);
	/* DokuWiki: VERSION is "2022-07-31b "Igor"": its first word. */
	n = strcspn(text, " \t\n");
	if (n == 0 || n >= len)
		return -1;
	memcpy(out, text, n);
	out[n] = '\0';
	return app_version_ok(out) ? 0 : -1;
}

/* A release directory of the administrator's: a real directory, root's. */
static int
release_dir_ok(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
	    !(st.st_mode & 022);
}

static void
consider(const char *tree, const char *version, char *best_tree, size_t treesz,
    char *best, size_t bestsz)
{
	if (best[0] != '\0' && strverscmp(version, best) <= 0)
		return;
	snprintf(best_tree, treesz, "%s", tree);
	snprintf(best, bestsz, "%s", version);
}

int
app_release_pick(const struct app_kind *k, const char *releases, const char *want,
    char *tree, size_t treesz, char *version, size_t versionsz, char *why, size_t whylen)
{
	char		 dir[PATH_MAX], path[PATH_MAX], v[APP_VERSION_MAX + 1];
	struct dirent	*de;
	DIR		*dp;

	tree[0] = version[0] = '\0';
	if (app_version_read(k, k->package, v, sizeof(v)) == 0 &&
	    (want == NULL || want[0] == '\0' || strcmp(want, v) == 0))
		consider(k->package, v, tree, treesz, version, versionsz);
	snprintf(dir, sizeof(dir), "%s/%s", releases, k->name);
	if (releases[0] != '\0' && (dp = opendir(dir)) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			if (app_version_check(de->d_name, why, whylen) == -1 ||
			    (want != NULL && want[0] != '\0' && strcmp(want, de->d_name) != 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (release_dir_ok(path))
				consider(path, de->d_name, tree, treesz, version, versionsz);
		}
		closedir(dp);
	}
	if (tree[0] != '\0')
		return 0;
	if (want != NULL && want[0] != '\0')
		snprintf(why, whylen, "no release %s of %s (in %s, or Debian's %s)", want,
		    k->name, dir, k->package);
	else
		snprintf(why, whylen, "no release of %s: install Debian's package %s, or put "
		    "one in %s", k->name, k->name, dir);
	return -1;
}
