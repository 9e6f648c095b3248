/*
 * app_valid.c: what the master accepts of the autoinstallers' arguments,
 * before anything is written or started.  Each becomes a word of
 * lockerd-app's command line and, inside lockerd-app, a value in a PHP
 * configuration file, an SQL statement or a git commit: so each is held to
 * a charset with no shell, SQL or PHP metacharacter at all, rather than
 * quoted.  lockerd-app checks them again (it runs as the locker, and
 * trusts no argument either).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "app_master.h"
#include "app_version.h"

const struct app_kind app_kinds[] = {
	{ "wordpress", "/usr/share/wordpress", "wp-includes/version.php", "wp", 2, 1 },
	{ "mediawiki", "/usr/share/mediawiki", "includes/Defines.php", "mw", 1, 1 },
	{ "dokuwiki", "/usr/share/dokuwiki", "VERSION", NULL, 0, 0 },
	{ "phpmyadmin", "/usr/share/phpmyadmin", "libraries/classes/Version.php", NULL, 2, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0 }
};

const struct app_kind *
app_kind_find(const char *name)
{
	const struct app_kind *k;

	for (k = app_kinds; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static int
fail(char *why, size_t whylen, const char *fmt, const char *a)
{
	snprintf(why, whylen, fmt, a);
	return -1;
}

static int
word_char(int ch)
{
	return isalnum(ch) || ch == '.' || ch == '_' || ch == '-';
}

/*
 * SUBDIR below web_scripts: relative, components of [A-Za-z0-9._-] none
 * starting with '.' (no "..", no hidden directory, nothing the web never
 * serves), none empty ("a//b", a final '/').
 */
int
app_subdir_check(const char *s, char *why, size_t whylen)
{
	size_t	i, n = strlen(s);
	int	depth = 1;

	if (n == 0)
		return fail(why, whylen, "%sthe path is empty", "");
	if (n > SUBDIR_MAX)
		return fail(why, whylen, "%sthe path is too long", "");
	if (s[0] == '/')
		return fail(why, whylen, "path %s: give it below web_scripts, not absolute", s);
	for (i = 0; i < n; i++) {
		if (s[i] == '/') {
			depth++;
			continue;
		}
		if ((i == 0 || s[i - 1] == '/') && s[i] == '.')
			return fail(why, whylen, "path %s: no part of it may start with '.'", s);
		if (!word_char((unsigned char)s[i]))
			return fail(why, whylen, "path %s: only letters, digits, '.', '_' and '-' "
			    "between the slashes", s);
	}
	if (strstr(s, "//") != NULL || s[n - 1] == '/')
		return fail(why, whylen, "path %s has an empty part", s);
	if (depth > 8)
		return fail(why, whylen, "path %s is too deep (8 parts at most)", s);
	return 0;
}

/* A site's title: letters (UTF-8 too), digits, spaces and . , - _ : + @ /
 * only; no quote, backslash, $, `, ;, &, |, <, >, %, newline. */
int
app_text_check(const char *what, const char *s, size_t max, char *why, size_t whylen)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > max || s[0] == ' ' || s[n - 1] == ' ') {
		snprintf(why, whylen, "%s: 1 to %zu characters, no space at either end", what,
		    max);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x80 || isalnum(ch) || strchr(" .,-_:+@/", ch) != NULL)
			continue;
		snprintf(why, whylen, "%s: '%c' is not allowed (letters, digits, spaces and "
		    ". , - _ : + @ / only)", what, isprint(ch) ? ch : '?');
		return -1;
	}
	return 0;
}

int
app_user_check(const char *s, char *why, size_t whylen)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > APP_USER_MAX || !isalnum((unsigned char)s[0]))
		return fail(why, whylen, "admin user %s: 1 to 60 characters, starting with a "
		    "letter or digit", s);
	for (i = 0; i < n; i++)
		if (!word_char((unsigned char)s[i]))
			return fail(why, whylen, "admin user %s: only letters, digits, '.', '_' "
			    "and '-'", s);
	return 0;
}

int
app_email_check(const char *s, char *why, size_t whylen)
{
	const char	*at = strchr(s, '@');
	size_t		 i, n = strlen(s);

	if (n > APP_EMAIL_MAX || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || at[1] == '.' || s[n - 1] == '.')
		return fail(why, whylen, "email %s: not an address (user@host)", s);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '@' || word_char(ch) || (ch == '+' && s + i < at))
			continue;
		return fail(why, whylen, "email %s: only letters, digits, '.', '_', '-' (and "
		    "'+' before the @)", s);
	}
	return 0;
}

/* A release's name: app_version.c's rule, lockerd-app's too. */
int
app_version_check(const char *s, char *why, size_t whylen)
{
	if (app_version_ok(s))
		return 0;
	return fail(why, whylen, "version %s: 1 to 48 of letters, digits and . _ + ~ -, not "
	    "starting with '.' or '-', no \"..\"", s);
}

const char *
app_result_name(int code, int dry_run)
{
	switch (code) {
	case APPX_OK:
		return dry_run ? "would-upgrade" : "upgraded";
	case APPX_CURRENT:
		return "current";
	case APPX_OPTED_OUT:
		return "opted-out";
	case APPX_CONFLICT:
		return dry_run ? "would-conflict" : "conflict";
	case APPX_ROLLED_BACK:
		return "rolled-back";
	case APPX_REFUSED:
		return "refused";
	}
	return "failed";
}
