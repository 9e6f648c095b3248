/*
 * test_app.c: lockerd-app's pure parts: the .lockerd-app metadata parser
 * and writer (app_meta.c), the release version check, the copy of a
 * release tree (symlinks dereferenced, none kept, the unreadable an error
 * unless listed) and the O_NOFOLLOW writes (app_exec.c).
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "app.h"

static void
test_meta(void)
{
	static const char good[] = "app=dokuwiki\nversion=2022-07-31b\n# c\n\nurl=http://a/w/\n"
	    "password=abc\nstate=ok";
	static const char *const bad[] = {
		"version=1\n",				/* no app */
		"app=x\n",				/* no version */
		"app=x\nversion=1\nversion=2\n",	/* twice */
		"app=x\nversion=1\nnosuch=1\n",		/* unknown key */
		"app=x\nversion=1\nurl\n",		/* no = */
		"app=x\"y\nversion=1\n",		/* a quote */
		"app=x\\y\nversion=1\n",		/* a backslash */
		"app=x\tz\nversion=1\n",		/* a control character */
		"app=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nversion=1\n",	/* too long */
		NULL
	};
	struct app_meta	 m, again;
	char		 why[256], text[4096];
	int		 i;

	CHECK_INT(app_meta_parse(good, strlen(good), &m, why, sizeof(why)), 0);
	CHECK_STR(m.app, "dokuwiki");
	CHECK_STR(m.version, "2022-07-31b");
	CHECK_STR(m.url, "http://a/w/");
	CHECK_STR(m.state, "ok");
	CHECK_STR(m.admin, "");
	CHECK_INT(app_meta_format(&m, text, sizeof(text)), 0);
	CHECK_INT(app_meta_parse(text, strlen(text), &again, why, sizeof(why)), 0);
	CHECK(memcmp(&m, &again, sizeof(m)) == 0);
	for (i = 0; bad[i] != NULL; i++) {
		why[0] = '\0';
		CHECK_INT(app_meta_parse(bad[i], strlen(bad[i]), &m, why, sizeof(why)), -1);
		CHECK(why[0] != '\0');
	}
	/* a NUL inside is not a line end: refused, not cut short */
	CHECK_INT(app_meta_parse("app=x\0y\nversion=1\n", 18, &m, why, sizeof(why)), -1);
}

static void
test_versions(void)
{
	static const char *const good[] = { "2022-07-31b", "6.1.1", "1.39.3+dfsg", "5.2.1~rc1", "a", NULL };
	static const char *const bad[] = { "", ".hidden", "-x", "1..2", "1/2", "1 2", "1;rm", "v\"",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL };
	int	 i;

	for (i = 0; good[i] != NULL; i++)
		CHECK(app_version_ok(good[i]));
	for (i = 0; bad[i] != NULL; i++)
		CHECK(!app_version_ok(bad[i]));
}

/* A tree with a symlink inside, one leaving it, one dangling, one unreadable. */
static void
test_copy(void)
{
	char		 src[] = "/tmp/test_app_srcXXXXXX", dst[] = "/tmp/test_app_dstXXXXXX";
	char		 outside[] = "/tmp/test_app_outXXXXXX", p[512], why[512], buf[64];
	const char	*skip[] = { "dangling", NULL };
	struct stat	 st;
	int		 dfd, fd;

	CHECK(mkdtemp(src) && mkdtemp(dst) && mkdtemp(outside));
	snprintf(p, sizeof(p), "%s/sub", src);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/file", src);
	fd = open(p, O_WRONLY | O_CREAT, 0755);
	CHECK(write(fd, "inside\n", 7) == 7);
	close(fd);
	snprintf(p, sizeof(p), "%s/f", outside);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	CHECK(write(fd, "outside\n", 8) == 8);
	close(fd);
	snprintf(p, sizeof(p), "%s/in-link", src);
	CHECK(symlink("sub/file", p) == 0);
	snprintf(p, sizeof(p), "%s/out-link", src);
	CHECK(symlink(outside, p) == 0);
	snprintf(p, sizeof(p), "%s/dangling", src);
	CHECK(symlink("/nonexistent/x", p) == 0);

	dfd = open(dst, O_RDONLY | O_DIRECTORY);
	CHECK_INT(app_copy_tree(src, dfd, skip, why, sizeof(why)), 0);
	CHECK(fstatat(dfd, "in-link", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode));
	CHECK((st.st_mode & 0777) == 0755);			/* executable kept executable */
	CHECK(fstatat(dfd, "out-link", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
	CHECK(app_read_file(dfd, "out-link/f", buf, sizeof(buf)) == 8 && strcmp(buf, "outside\n") == 0);
	CHECK(fstatat(dfd, "dangling", &st, AT_SYMLINK_NOFOLLOW) == -1);	/* listed: left out */
	close(dfd);

	/* unlisted, the dangling link is an error that names it */
	snprintf(p, sizeof(p), "rm -rf %s/*", dst);
	CHECK(system(p) == 0);
	dfd = open(dst, O_RDONLY | O_DIRECTORY);
	CHECK_INT(app_copy_tree(src, dfd, NULL, why, sizeof(why)), -1);
	CHECK(strstr(why, "dangling") != NULL);
	close(dfd);

	/* a write never goes through a symlink the locker planted */
	dfd = open(dst, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "%s/planted", dst);
	CHECK(symlink(outside, p) == 0);
	CHECK_INT(app_write_file(dfd, "planted/f", "pwned\n", 0644), -1);
	CHECK(app_read_file(dfd, "planted/f", buf, sizeof(buf)) == -1);
	CHECK_INT(app_write_file(dfd, "plain", "ok\n", 0600), 0);
	CHECK(fstatat(dfd, "plain", &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & 0777) == 0600);
	close(dfd);
	snprintf(p, sizeof(p), "%s/f", outside);
	fd = open(p, O_RDONLY);
	CHECK(read(fd, buf, sizeof(buf)) == 8);
	close(fd);
	snprintf(p, sizeof(p), "rm -rf %s %s %s", src, dst, outside);
	CHECK(system(p) == 0);
}

int
main(void)
{
	test_meta();
	test_versions();
	test_copy();
	UNIT_DONE();
}
