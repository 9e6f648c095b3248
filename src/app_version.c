/*
 * app_version.c: what a release's version is, and reading one from the
 * file its app writes it in: one definition, linked by the master (which
 * checks `--to` and picks releases: app_release.c) and by lockerd-app
 * (which checks its arguments and reads its recipes' trees), so the two
 * never disagree on what a version may hold.
 */
#include <string.h>

#include "app_version.h"

/* A release version: what a directory name and a git tag can both hold. */
int
app_version_ok(const char *v)
{
	size_t	 i, n = strlen(v);

	if (n == 0 || n > 48 || v[0] == '.' || v[0] == '-' || strstr(v, "..") != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || strchr("._+~-", v[i]) != NULL))
			return 0;
	return 1;
}

/* The first '...' or "..." after key on its line, if it is a version. */
int
app_php_version_in(const char *text, const char *key, char *out, size_t len)
{
	const char	*p, *q;

	if ((p = strstr(text, key)) == NULL || (p = strpbrk(p + strlen(key), "'\"\n")) == NULL ||
	    *p == '\n' || (q = strchr(p + 1, *p)) == NULL || (size_t)(q - p - 1) >= len)
		return -1;
	memcpy(out, p + 1, (size_t)(q - p - 1));
	out[q - p - 1] = '\0';
	return app_version_ok(out) ? 0 : -1;
}
