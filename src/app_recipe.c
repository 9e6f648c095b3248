/*
 * app_recipe.c: helpers the recipes share (app_recipe.h).  PHP is run
 * with `php -r` and its secrets (the admin's password, the database's) in
 * its environment, readable only by the locker itself, rather than as
 * arguments that any process of the jail may read in /proc.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <stdlib.h>

#include "app_recipe.h"

int
app_php_code(struct app_ctx *ctx, const char *code, const char *const *env,
    char *out, size_t outlen)
{
	const char	*argv[] = { "/usr/bin/php", "-d", "display_errors=stderr", "-r", code, NULL };
	struct app_run	 r = { .argv = argv, .env = env, .cwd = ctx->dir, .out = out,
			       .outlen = outlen, .err_too = 1, .timeout_s = 600 };
	int		 rc = app_run(&r);

	if (rc != 0 || app_verbose)
		fprintf(stderr, "%s", out);
	return rc;
}

int
app_php_quote(const char *s, char *out, size_t len)
{
	size_t	 n = 0;

	if (len < 3)
		return -1;
	out[n++] = '\'';
	for (; *s != '\0'; s++) {
		if (n + 4 > len)
			return -1;
		if (*s == '\'' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n++] = '\'';
	out[n] = '\0';
	return 0;
}

void
app_random_hex(char *out, size_t nbytes)
{
	unsigned char	 r[256];
	size_t		 i;

	if (nbytes > sizeof(r) || getrandom(r, nbytes, 0) != (ssize_t)nbytes)
		abort();	/* never a weak secret */
	for (i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	explicit_bzero(r, sizeof(r));
}

int
app_php_version(const char *tree, const char *rel, const char *key, char *out, size_t len)
{
	char		 path[4096], text[65536];
	FILE		*f;
	size_t		 n;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	if ((f = fopen(path, "re")) == NULL) {
		app_err("%s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (app_php_version_in(text, key, out, len) == -1) {
		app_err("%s: no %s 'VERSION' in it", path, key);
		return -1;
	}
	return 0;
}

const char *
app_url_path(const char *url)
{
	const char	*p = strstr(url, "://");

	p = p != NULL ? strchr(p + 3, '/') : NULL;
	return p != NULL ? p : "/";
}
