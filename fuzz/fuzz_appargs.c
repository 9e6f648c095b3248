/*
 * fuzz_appargs.c: libFuzzer target for app_valid.c, the master's checks of
 * what a local user (any, through the control socket) sends with `locker
 * install|upgrade`: each accepted value becomes a word of lockerd-app's
 * command line and, inside it, a value of a PHP configuration file, an SQL
 * statement or a git commit, so an accepted value must hold no shell, SQL
 * or PHP metacharacter, and a path nothing that leaves web_scripts.
 *
 * The input is split at NULs into a path, a title, a user, an email and a
 * version.  Checked, for what is accepted: the path is relative, has no
 * empty component and none starting with '.', and only [A-Za-z0-9._-/];
 * the title has none of ' " ` $ ; & | < > \ % ( ) { } [ ] * ? ! # = ~ ^
 * or a control byte; the user [A-Za-z0-9._-] from a letter or digit; the
 * email exactly one '@' with something on each side; the version
 * [A-Za-z0-9._+~-], not from '.' or '-', no "..", as lockerd-app's own
 * check (app_version.c, the one both link).  Every refusal says why.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "app_master.h"

static void
check_path(const char *s)
{
	size_t i, n = strlen(s);

	REQUIRE(n > 0 && n <= SUBDIR_MAX && s[0] != '/' && s[n - 1] != '/');
	REQUIRE(strstr(s, "//") == NULL);
	for (i = 0; i < n; i++) {
		REQUIRE(isalnum((unsigned char)s[i]) || strchr("._-/", s[i]) != NULL);
		REQUIRE(!((i == 0 || s[i - 1] == '/') && s[i] == '.'));
	}
}

static void
check_title(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		REQUIRE(ch >= 0x80 || ch >= 0x20);
		REQUIRE(ch != 0x7f && strchr("'\"`$;&|<>\\%(){}[]*?!#=~^\t\r\n", ch) == NULL);
	}
}

static void
check_word(const char *s, const char *extra)
{
	REQUIRE(isalnum((unsigned char)s[0]));
	for (; *s != '\0'; s++)
		REQUIRE(isalnum((unsigned char)*s) || strchr(extra, *s) != NULL);
}

static void
check_version(const char *s)
{
	REQUIRE(strlen(s) > 0 && strlen(s) <= 48 && s[0] != '.' && s[0] != '-');
	REQUIRE(strstr(s, "..") == NULL);
	for (; *s != '\0'; s++)
		REQUIRE(isalnum((unsigned char)*s) || strchr("._+~-", *s) != NULL);
}

static void
check_email(const char *s)
{
	const char *at = strchr(s, '@');

	REQUIRE(at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL);
	for (; *s != '\0'; s++)
		REQUIRE(isalnum((unsigned char)*s) || strchr("._-+@", *s) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 buf[2048], why[512];
	const char	*part[5] = { "", "", "", "", "" };
	size_t		 k = 0, i;

	if (size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	part[0] = buf;
	for (i = 0; i < size && k < 4; i++)
		if (buf[i] == '\0')
			part[++k] = buf + i + 1;
	why[0] = '\0';
	if (app_subdir_check(part[0], why, sizeof(why)) == 0)
		check_path(part[0]);
	else
		REQUIRE(why[0] != '\0');
	why[0] = '\0';
	if (app_text_check("title", part[1], APP_TEXT_MAX, why, sizeof(why)) == 0)
		check_title(part[1]);
	else
		REQUIRE(why[0] != '\0');
	if (app_user_check(part[2], why, sizeof(why)) == 0)
		check_word(part[2], "._-");
	if (app_email_check(part[3], why, sizeof(why)) == 0)
		check_email(part[3]);
	if (app_version_check(part[4], why, sizeof(why)) == 0)
		check_version(part[4]);
	REQUIRE(app_result_name((int)size % 20, (int)size & 1) != NULL);
	return 0;
}
