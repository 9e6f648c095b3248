/* test_phpini: a .htaccess's PHP settings filtered, quoted and tagged as php-cgi's -d. */
#include <stdio.h>
#include <string.h>

#include "phpini.h"
#include "unit.h"

static struct ht_req	r;
static struct phpini	ini;

static void
set(const char *const *kv)
{
	memset(&r, 0, sizeof(r));
	for (; kv[0] != NULL; kv += 2) {
		r.php[r.nphp].name = (char *)kv[0];
		r.php[r.nphp].value = (char *)kv[1];
		r.nphp++;
	}
}

static void
test_quoting_and_order(void)
{
	const char *kv[] = { "precision", "7", "memory_limit", "64M", "default_charset", "",
	    "error_reporting", "E_ALL & ~E_NOTICE", "highlight.html", "it's", NULL };

	set(kv);
	CHECK_INT(phpini_build(&r, &ini), 5);
	/* Sorted by name, each value raw: no INI keyword or constant survives
	 * unquoted, a single quote goes in double quotes. */
	CHECK_STR(ini.d[0], "default_charset=''");
	CHECK_STR(ini.d[1], "error_reporting='E_ALL & ~E_NOTICE'");
	CHECK_STR(ini.d[2], "highlight.html=\"it's\"");
	CHECK_STR(ini.d[3], "memory_limit='64M'");
	CHECK_STR(ini.d[4], "precision='7'");
	CHECK_INT(strlen(ini.tag), PHPINI_TAG_LEN);
	CHECK_STR(ini.left_out, "");
}

static void
test_tag_names_the_set(void)
{
	const char *a[] = { "precision", "7", "memory_limit", "64M", NULL };
	const char *b[] = { "memory_limit", "64M", "precision", "7", NULL };
	const char *c[] = { "memory_limit", "64M", "precision", "8", NULL };
	char ta[PHPINI_TAG_LEN + 1];

	set(a);
	phpini_build(&r, &ini);
	snprintf(ta, sizeof(ta), "%s", ini.tag);
	set(b);
	phpini_build(&r, &ini);
	CHECK_STR(ini.tag, ta);		/* the order of the lines does not matter */
	set(c);
	phpini_build(&r, &ini);
	CHECK(strcmp(ini.tag, ta) != 0);
}

static void
test_system_settings_left_out(void)
{
	const char *kv[] = { "disable_functions", "", "extension", "/tmp/x.so",
	    "allow_url_include", "1", "opcache.memory_consumption", "1024", NULL };

	set(kv);
	CHECK_INT(phpini_build(&r, &ini), 0);
	CHECK_STR(ini.tag, "");
	CHECK(strncmp(ini.left_out, "disable_functions: ", 19) == 0);
	CHECK(!phpini_perdir("zend_extension"));
	CHECK(!phpini_perdir("user_ini.filename"));
	CHECK(phpini_perdir("memory_limit"));
	CHECK(phpini_perdir("upload_max_filesize"));
	CHECK(phpini_perdir("auto_prepend_file"));
}

static void
test_unquotable_left_out(void)
{
	const char *kv[] = { "highlight.html", "it's \"${HOME}\"", "precision", "9", NULL };

	set(kv);
	CHECK_INT(phpini_build(&r, &ini), 1);
	CHECK_STR(ini.d[0], "precision='9'");
	CHECK(strncmp(ini.left_out, "highlight.html: ", 16) == 0);
}

static void
test_engine(void)
{
	const char *off[] = { "engine", "0", "precision", "7", NULL };
	const char *off2[] = { "engine", "Off", NULL };
	const char *on[] = { "engine", "yes", NULL };

	set(off);
	CHECK(phpini_engine_off(&r));
	/* mod_php's own setting: not one for php-cgi's -d. */
	CHECK_INT(phpini_build(&r, &ini), 1);
	CHECK_STR(ini.d[0], "precision='7'");
	set(off2);
	CHECK(phpini_engine_off(&r));
	set(on);
	CHECK(!phpini_engine_off(&r));
	set(on + 2);
	CHECK(!phpini_engine_off(&r));
}

int
main(void)
{
	test_quoting_and_order();
	test_tag_names_the_set();
	test_system_settings_left_out();
	test_unquotable_left_out();
	test_engine();
	UNIT_DONE();
}
