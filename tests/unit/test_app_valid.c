/*
 * test_app_valid.c: the master's checks of the autoinstallers' arguments
 * (app_valid.c) and its reading of releases (app_release.c): which release
 * is newest, a version read from a tree's own file, a tree or file that is
 * not root's refused.
 */
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "app_master.h"

static void
test_paths(void)
{
	const char *good[] = { "wp", "blog/wp", "a.b_c-d", "x/y/z", "wiki2", "a.git" };
	const char *bad[] = { "", "/abs", "../x", "a/../b", ".git", "a/.lockerd", "a//b",
	    "a/", "a b", "x$y", "a\\b", "a;b", "1/2/3/4/5/6/7/8/9", "./a", "a/." };
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_INT(app_subdir_check(good[i], why, sizeof(why)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_INT(app_subdir_check(bad[i], why, sizeof(why)), -1);
		CHECK(why[0] != '\0');
	}
}

static void
test_words(void)
{
	char why[256];

	CHECK_INT(app_text_check("title", "My Wiki: notes, 2026 + more", 100, why, sizeof(why)), 0);
	CHECK_INT(app_text_check("title", "\xc3\xa9t\xc3\xa9", 100, why, sizeof(why)), 0);
	CHECK_INT(app_text_check("title", "a;b", 100, why, sizeof(why)), -1);
	CHECK(strstr(why, "';'") != NULL);
	CHECK_INT(app_text_check("title", "it's", 100, why, sizeof(why)), -1);
	CHECK_INT(app_text_check("title", "$(id)", 100, why, sizeof(why)), -1);
	CHECK_INT(app_text_check("title", " lead", 100, why, sizeof(why)), -1);
	CHECK_INT(app_text_check("title", "", 100, why, sizeof(why)), -1);
	CHECK_INT(app_user_check("admin", why, sizeof(why)), 0);
	CHECK_INT(app_user_check("a.b-c_d", why, sizeof(why)), 0);
	CHECK_INT(app_user_check("-x", why, sizeof(why)), -1);
	CHECK_INT(app_user_check("x' OR 1=1", why, sizeof(why)), -1);
	CHECK_INT(app_email_check("a+b@x.example", why, sizeof(why)), 0);
	CHECK_INT(app_email_check("a@b@c", why, sizeof(why)), -1);
	CHECK_INT(app_email_check("a@x+y", why, sizeof(why)), -1);
	CHECK_INT(app_email_check("@x", why, sizeof(why)), -1);
	CHECK_INT(app_email_check("x@", why, sizeof(why)), -1);
	CHECK_INT(app_version_check("1.39.17", why, sizeof(why)), 0);
	CHECK_INT(app_version_check("2022-07-31b", why, sizeof(why)), 0);
	CHECK_INT(app_version_check("1.0~rc1+dfsg", why, sizeof(why)), 0);
	CHECK_INT(app_version_check("../1", why, sizeof(why)), -1);
	CHECK_INT(app_version_check("1.0;rm", why, sizeof(why)), -1);
	CHECK_INT(app_version_check("", why, sizeof(why)), -1);
	CHECK(app_kind_find("wordpress") != NULL && app_kind_find("WordPress") == NULL);
	CHECK_STR(app_result_name(APPX_CONFLICT, 0), "conflict");
	CHECK_STR(app_result_name(APPX_OK, 1), "would-upgrade");
	CHECK_STR(app_result_name(APPX_CONFLICT, 1), "would-conflict");
	CHECK_STR(app_result_name(99, 0), "failed");
}

static void
put(const char *dir, const char *rel, const char *text)
{
	char	path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	CHECK((f = fopen(path, "w")) != NULL);
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* Releases: DIR/dokuwiki/V, a tree of the administrator's, root's. */
static void
test_releases(void)
{
	const struct app_kind	*k = app_kind_find("dokuwiki"), *wp = app_kind_find("wordpress");
	char			 top[] = "/tmp/test_app_valid.XXXXXX", path[PATH_MAX];
	char			 tree[PATH_MAX], v[APP_VERSION_MAX + 1], why[256];
	const char		*vs[] = { "2023-04-04a", "2024-02-06b", "2024-02-06a", "bad;name" };
	size_t			 i;

	if (geteuid() != 0) {
		fprintf(stderr, "test_app_valid: not root: releases not tried\n");
		return;
	}
	CHECK(mkdtemp(top) != NULL);
	chmod(top, 0755);
	snprintf(path, sizeof(path), "%s/dokuwiki", top);
	CHECK(mkdir(path, 0755) == 0);
	for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		snprintf(path, sizeof(path), "%s/dokuwiki/%s", top, vs[i]);
		CHECK(mkdir(path, 0755) == 0);
		snprintf(tree, sizeof(tree), "%s \"Name\"\n", vs[i]);
		put(path, "VERSION", tree);
	}
	/* The newest by version, not by name order; a bad name is no release. */
	CHECK_INT(app_release_pick(k, top, "9999-01-01", tree, sizeof(tree), v, sizeof(v), why,
	    sizeof(why)), -1);
	CHECK(strstr(why, "no release 9999-01-01") != NULL);
	CHECK_INT(app_release_pick(k, top, "bad;name", tree, sizeof(tree), v, sizeof(v), why,
	    sizeof(why)), -1);
	CHECK_INT(app_release_pick(k, top, "2023-04-04a", tree, sizeof(tree), v, sizeof(v), why,
	    sizeof(why)), 0);
	CHECK_STR(v, "2023-04-04a");
	CHECK_INT(app_release_pick(k, top, NULL, tree, sizeof(tree), v, sizeof(v), why,
	    sizeof(why)), 0);
	CHECK_STR(v, "2024-02-06b");
	snprintf(path, sizeof(path), "%s/dokuwiki/2024-02-06b", top);
	CHECK_STR(tree, path);
	CHECK_INT(app_version_read(k, path, v, sizeof(v)), 0);
	CHECK_STR(v, "2024-02-06b");
	/* A tree others may write is no release; a version file not root's is
	 * not read. */
	chmod(path, 0777);
	CHECK_INT(app_release_pick(k, top, "2024-02-06b", tree, sizeof(tree), v, sizeof(v), why,
	    sizeof(why)), -1);
	snprintf(path, sizeof(path), "%s/dokuwiki/2024-02-06a/VERSION", top);
	CHECK(chown(path, 1, 1) == 0);
	snprintf(path, sizeof(path), "%s/dokuwiki/2024-02-06a", top);
	CHECK_INT(app_version_read(k, path, v, sizeof(v)), -1);
	/* WordPress's version from version.php, the first quoted string. */
	snprintf(path, sizeof(path), "%s/wp-includes", top);
	CHECK(mkdir(path, 0755) == 0);
	put(path, "version.php", "<?php\n$wp_version = '6.1.9';\n$wp_db_version = 53496;\n");
	CHECK_INT(app_version_read(wp, top, v, sizeof(v)), 0);
	CHECK_STR(v, "6.1.9");
	put(path, "version.php", "<?php\n$wp_version = '6.1;x';\n");
	CHECK_INT(app_version_read(wp, top, v, sizeof(v)), -1);
	snprintf(path, sizeof(path), "rm -rf %s", top);
	CHECK(system(path) == 0);
}

int
main(void)
{
	test_paths();
	test_words();
	test_releases();
	UNIT_DONE();
}
