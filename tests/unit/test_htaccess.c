/* test_htaccess.c: the .htaccess parser: syntax, sections, bounds, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htaccess.h"
#include "unit.h"

static struct ht_dir *
parse(const char *text, char *err, size_t errsz)
{
	struct ht_parse	 p;
	struct ht_dir	*d;

	memset(&p, 0, sizeof(p));
	p.file = "web_scripts/.htaccess";
	p.dir = "";
	d = ht_parse_file(&p, text, strlen(text));
	snprintf(err, errsz, "%s", p.err);
	return d;
}

static void
test_empty_and_comments(void)
{
	struct ht_dir	*d;
	char		 err[512];

	d = parse("", err, sizeof(err));
	CHECK(d != NULL);
	ht_dir_free(d);
	d = parse("# a comment\n\n   # indented\n\t\n", err, sizeof(err));
	CHECK(d != NULL);
	ht_dir_free(d);
}

static void
test_unknown(void)
{
	struct ht_dir	*d;
	char		 err[512];

	d = parse("# one\n\nFrobnicate on\n", err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:3: unknown directive Frobnicate");
	/* Continued lines count from their first. */
	d = parse("#\nFoo \\\n  bar\nBar\n", err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:2: unknown directive Foo");
	d = parse("<Directory />\n</Directory>\n", err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:1: unknown directive <Directory");
}

static void
test_ifmodule(void)
{
	struct ht_dir	*d;
	char		 err[512];

	/* A module lockerd lacks: what is inside is never looked up. */
	d = parse("<IfModule mod_nonesuch.c>\nNonesuchDirective x\n<Foo>\n</Foo>\n"
	    "</IfModule>\n", err, sizeof(err));
	CHECK(d != NULL);
	ht_dir_free(d);
	/* ... and the fallback for one lockerd has is skipped too. */
	d = parse("<IfModule !mod_rewrite.c>\nErrorDocument-ish nothing\n</IfModule>\n",
	    err, sizeof(err));
	CHECK(d != NULL);
	ht_dir_free(d);
	/* One lockerd has: read in place, so an unknown directive there counts. */
	d = parse("<IfModule mod_rewrite.c>\n  Bogus 1\n</IfModule>\n", err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:2: unknown directive Bogus");
	d = parse("<ifmodule REWRITE_MODULE>\n</IFMODULE>\n", err, sizeof(err));
	CHECK(d != NULL);
	ht_dir_free(d);
	d = parse("<IfDefine !FOO>\n</IfDefine>\n<IfDefine FOO>\nX\n</IfDefine>\n", err,
	    sizeof(err));
	CHECK(d != NULL);
	ht_dir_free(d);
	CHECK(ht_have_module("mod_rewrite.c"));
	CHECK(ht_have_module("mod_headers.c"));
	CHECK(!ht_have_module("mod_deflate.c"));
	CHECK(!ht_have_module("mod_rewrite.cc"));
}

static void
test_sections(void)
{
	struct ht_dir	*d;
	char		 err[512];

	d = parse("<Files \"wp-config.php\">\n</Files>\n<FilesMatch \"\\.(txt|php)$\">\n"
	    "</FilesMatch>\n<Files ~ \"^x\">\n</Files>\n<Limit GET POST>\n</Limit>\n"
	    "<LimitExcept GET>\n</LimitExcept>\n", err, sizeof(err));
	if (d == NULL)
		fprintf(stderr, "%s\n", err);
	CHECK(d != NULL);
	if (d != NULL) {
		CHECK_INT(d->nsec, 5);
		CHECK_INT(d->sec[0].kind, HT_SEC_FILES);
		CHECK_STR(d->sec[0].pattern, "wp-config.php");
		CHECK_INT(d->sec[0].is_regex, 0);
		CHECK_INT(d->sec[1].is_regex, 1);
		CHECK(d->sec[1].re != NULL);
		CHECK_STR(d->sec[2].pattern, "^x");
		CHECK_INT(d->sec[2].is_regex, 1);
		CHECK_INT(d->sec[3].kind, HT_SEC_LIMIT);
		CHECK(d->sec[3].methods & HT_M_BIT(3));		/* POST */
		CHECK(d->sec[3].methods & HT_M_BIT(2));		/* HEAD with GET */
		CHECK(!(d->sec[4].methods & HT_M_BIT(1)));	/* not GET */
		CHECK(d->sec[4].methods & HT_M_BIT(3));
	}
	ht_dir_free(d);
	d = parse("<Files a>\n", err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:1: <Files> not closed");
	d = parse("</Files>\n", err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:1: </Files> without its opening");
	d = parse("<Files a>\n</FilesMatch>\n", err, sizeof(err));
	CHECK(d == NULL);
	d = parse("<Files a>\n<Files b>\n</Files>\n</Files>\n", err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:2: <Files> inside <Files>");
	d = parse("<FilesMatch \"(\">\n</FilesMatch>\n", err, sizeof(err));
	CHECK(d == NULL);
	CHECK(strstr(err, "web_scripts/.htaccess:1: regular expression") == err);
	d = parse("<Files a b>\n</Files>\n", err, sizeof(err));
	CHECK(d == NULL);
	d = parse("<Files \"a>\n</Files>\n", err, sizeof(err));
	CHECK(d == NULL);
	d = parse("<Else>\n</Else>\n", err, sizeof(err));
	CHECK(d == NULL);
}

static void
test_bounds(void)
{
	struct ht_dir	*d;
	char		 err[512], *big;
	size_t		 i;

	/* Nesting: deeper than HT_MAX_DEPTH is an error, not a deep stack. */
	big = malloc(HT_MAX_FILE * 2);
	{
		char *w = big;

		for (i = 0; i < 10000; i++)
			w += sprintf(w, "<IfModule mod_rewrite.c>\n");
		for (i = 0; i < 10000; i++)
			w += sprintf(w, "</IfModule>\n");
	}
	d = parse(big, err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:17: sections nested deeper than 16");
	{
		char *w = big;

		for (i = 0; i < 10000; i++)
			w += sprintf(w, "<IfModule nothere>\n");
		for (i = 0; i < 10000; i++)
			w += sprintf(w, "</IfModule>\n");
	}
	d = parse(big, err, sizeof(err));
	CHECK(d == NULL);
	CHECK(strstr(err, "nested deeper") != NULL);
	/* A line too long, and a file too large. */
	memset(big, 'a', HT_MAX_LINE + 10);
	big[HT_MAX_LINE + 10] = '\0';
	d = parse(big, err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess:1: line longer than 16384 bytes");
	free(big);
	big = malloc(HT_MAX_FILE + 2);
	memset(big, '#', HT_MAX_FILE + 1);
	big[HT_MAX_FILE + 1] = '\0';
	d = parse(big, err, sizeof(err));
	CHECK(d == NULL);
	CHECK_STR(err, "web_scripts/.htaccess: larger than 524288 bytes");
	free(big);
}

int
main(void)
{
	test_empty_and_comments();
	test_unknown();
	test_ifmodule();
	test_sections();
	test_bounds();
	UNIT_DONE();
}
