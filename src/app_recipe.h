/*
 * app_recipe.h: what the recipes of lockerd-app share beyond app.h: PHP
 * run with secrets in its environment (never on a command line that ps
 * shows), values quoted for a PHP source file, and a version read from a
 * release's own PHP source.
 */
#ifndef APP_RECIPE_H
#define APP_RECIPE_H

#include <stddef.h>

#include "app.h"

/*
 * php-cli runs code (php -r) as the locker in the install directory, with
 * env (NAME=VALUE, NULL-terminated) added; its output (stdout and stderr)
 * in out, shown on stderr when it fails.  The exit status, or -1.
 */
int	 app_php_code(struct app_ctx *ctx, const char *code, const char *const *env,
	     char *out, size_t outlen);

/* s as a PHP single-quoted string literal, quotes included; -1 if too long. */
int	 app_php_quote(const char *s, char *out, size_t len);

/* n random bytes as 2n hex digits (out holds 2n + 1). */
void	 app_random_hex(char *out, size_t nbytes);

/*
 * In the PHP file tree/rel, the first quoted string after the text key
 * (e.g. "$wp_version =" or "const VERSION ="): a version, checked by
 * app_version_ok().  0, or -1 with a reason said.
 */
int	 app_php_version(const char *tree, const char *rel, const char *key, char *out, size_t len);
/* The same in text (NUL-ended): the parser alone, -1 without a reason. */
int	 app_php_version_in(const char *text, const char *key, char *out, size_t len);

/* The path part of an install's URL ("/" at least, a final slash kept). */
const char *app_url_path(const char *url);

#endif
