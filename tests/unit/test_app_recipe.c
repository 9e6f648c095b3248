/*
 * test_app_recipe.c: what the recipes share (app_recipe.c, and
 * app_version.c's reader of a PHP file's version): a PHP string
 * literal that nothing escapes from, a version read from a release's PHP
 * source (Debian's WordPress and phpMyAdmin lines, and what must not pass
 * for one), the path of an install's URL, random hex.
 */
#include <string.h>

#include "unit.h"
#include "app_recipe.h"

static void
test_quote(void)
{
	char	 out[64];

	CHECK_INT(app_php_quote("plain", out, sizeof(out)), 0);
	CHECK_STR(out, "'plain'");
	CHECK_INT(app_php_quote("it's a\\b", out, sizeof(out)), 0);
	CHECK_STR(out, "'it\\'s a\\\\b'");
	CHECK_INT(app_php_quote("", out, sizeof(out)), 0);
	CHECK_STR(out, "''");
	/* Too long for the buffer: refused, never cut (a cut could end on a
	 * lone backslash that swallows the closing quote). */
	CHECK_INT(app_php_quote("0123456789", out, 12), -1);
	CHECK_INT(app_php_quote("'''''", out, 12), -1);
	CHECK_INT(app_php_quote("x", out, 2), -1);
}

static void
test_version(void)
{
	static const char wp[] = "<?php\n/**\n * @global string $wp_version\n */\n"
	    "$wp_version = '6.1.9';\n\n$wp_db_version = 53496;\n";
	static const char pma[] = "    // The VERSION_SUFFIX constant is defined at libraries/constants.php\n"
	    "    public const VERSION = '5.2.1' . VERSION_SUFFIX;\n";
	char	 v[16];

	CHECK_INT(app_php_version_in(wp, "$wp_version =", v, sizeof(v)), 0);
	CHECK_STR(v, "6.1.9");
	CHECK_INT(app_php_version_in(pma, "const VERSION =", v, sizeof(v)), 0);
	CHECK_STR(v, "5.2.1");
	CHECK_INT(app_php_version_in("$wp_version = \"6.2\";", "$wp_version =", v, sizeof(v)), 0);
	CHECK_STR(v, "6.2");
	/* Not a version: no key, no quote on its line, no closing quote,
	 * a character no version (and no tag) holds, "..", too long. */
	CHECK_INT(app_php_version_in("$x = '1';", "$wp_version =", v, sizeof(v)), -1);
	CHECK_INT(app_php_version_in("$wp_version =\n'1';", "$wp_version =", v, sizeof(v)), -1);
	CHECK_INT(app_php_version_in("$wp_version = '1.0", "$wp_version =", v, sizeof(v)), -1);
	CHECK_INT(app_php_version_in("$wp_version = '1;rm';", "$wp_version =", v, sizeof(v)), -1);
	CHECK_INT(app_php_version_in("$wp_version = '../../etc';", "$wp_version =", v, sizeof(v)), -1);
	CHECK_INT(app_php_version_in("$wp_version = '';", "$wp_version =", v, sizeof(v)), -1);
	CHECK_INT(app_php_version_in("$wp_version = '0123456789abcdefg';", "$wp_version =",
	    v, sizeof(v)), -1);
}

static void
test_url_path(void)
{
	CHECK_STR(app_url_path("http://a.example/blog/"), "/blog/");
	CHECK_STR(app_url_path("https://a.example:8443/x/y/"), "/x/y/");
	CHECK_STR(app_url_path("http://a.example"), "/");
	CHECK_STR(app_url_path("nonsense"), "/");
}

static void
test_hex(void)
{
	char	 a[65], b[65];
	size_t	 i;

	app_random_hex(a, 32);
	app_random_hex(b, 32);
	CHECK_INT((int)strlen(a), 64);
	for (i = 0; i < 64; i++)
		CHECK(strchr("0123456789abcdef", a[i]) != NULL);
	CHECK(strcmp(a, b) != 0);
}

int
main(void)
{
	test_quote();
	test_version();
	test_url_path();
	test_hex();
	UNIT_DONE();
}
