/*
 * rw_files.c: what RewriteCond's file tests (-f -d -l -s -x) and the
 * walk's cut of REQUEST_FILENAME see: web_scripts and nothing else.
 *
 * Every look goes through openat2(RESOLVE_BENEATH) from web_scripts'
 * descriptor, so a condition cannot probe another locker's files or the
 * system's, whatever path the rule built.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rewrite_int.h"

/*
 * An absolute symlink (RESOLVE_BENEATH refuses them all) counts if where
 * it lands, read back from the open descriptor, is still in web_scripts,
 * as the worker's own open_beneath() allows.
 */
static int
absolute_link(const struct rw_req *r, const char *rel, int nofollow)
{
	char	self[64], real[PATH_MAX];
	ssize_t	n;
	size_t	dl = strlen(r->document_root);
	int	fd;

	fd = openat(r->webroot_fd, *rel ? rel : ".", O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	if (fd == -1)
		return -1;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if ((n = readlink(self, real, sizeof(real) - 1)) == -1) {
		close(fd);
		return -1;
	}
	real[n] = '\0';
	if (strncmp(real, r->document_root, dl) != 0 || (real[dl] != '/' && real[dl] != '\0')) {
		close(fd);
		return -1;
	}
	return fd;
}

/* stat() below web_scripts only: anything else does not exist here. */
static int
stat_beneath(struct rw_req *r, const char *path, int nofollow, struct stat *st)
{
	struct open_how	 how;
	const char	*rel;
	size_t		 n;
	int		 fd, rc;

	if (r->webroot_fd < 0 || r->document_root == NULL)
		return -1;
	n = strlen(r->document_root);
	while (n > 1 && r->document_root[n - 1] == '/')
		n--;
	if (strncmp(path, r->document_root, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return -1;
	for (rel = path + n; *rel == '/'; rel++)
		;
	if (r->watch != NULL)
		r->watch(rel);	/* before the look: a change after it is heard */
	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, r->webroot_fd, *rel ? rel : ".", &how, sizeof(how));
	if (fd == -1 && errno == EXDEV) {
		if (r->watch != NULL)
			r->watch(NULL);	/* what lies out of web_scripts is not watched */
		fd = absolute_link(r, rel, nofollow);
	}
	if (fd == -1)
		return -1;
	rc = fstat(fd, st);
	close(fd);
	return rc;
}

/*
 * REQUEST_FILENAME as Apache's directory walk leaves it: up to the first
 * part that is a file or does not exist, the rest being PATH_INFO, so
 * that /index.php/users/1 is -f (Laravel's, WordPress's front
 * controllers) and /2026/12/x/ is /2026 when that does not exist.
 */
void
rw_split_path_info(struct rw_req *r, char *path)
{
	struct stat	 st;
	size_t		 n;
	char		*p, save;

	if (r->document_root == NULL || r->webroot_fd < 0)
		return;
	n = strlen(r->document_root);
	if (strncmp(path, r->document_root, n) != 0 || path[n] != '/')
		return;
	for (p = path + n + 1; *p != '\0'; p++) {
		p += strcspn(p, "/");
		save = *p;
		*p = '\0';
		if (stat_beneath(r, path, 0, &st) == -1 || !S_ISDIR(st.st_mode))
			return;	/* cut here: the file, or the first missing part */
		*p = save;
		if (save == '\0')
			return;
	}
}

int
rw_file_test(struct rw_req *r, enum cond_kind k, const char *path)
{
	struct stat st;

	if (stat_beneath(r, path, k == CK_LINK, &st) == -1)
		return 0;
	switch (k) {
	case CK_FILE:
		return S_ISREG(st.st_mode);
	case CK_DIR:
		return S_ISDIR(st.st_mode);
	case CK_LINK:
		return S_ISLNK(st.st_mode);
	case CK_SIZE:
		return S_ISREG(st.st_mode) && st.st_size > 0;
	case CK_EXEC:
		return S_ISREG(st.st_mode) && (st.st_mode & 0111);
	default:
		return 0;
	}
}
