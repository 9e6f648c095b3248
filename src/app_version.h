/*
 * app_version.h: a release's version, one rule for the master and
 * lockerd-app (app_version.c; app.h and app_recipe.h declare the same).
 */
#ifndef APP_VERSION_H
#define APP_VERSION_H

#include <stddef.h>

/* [A-Za-z0-9._+~-], 1 to 48, not from '.' or '-', no "..": 1, else 0. */
int	app_version_ok(const char *v);
/* The version quoted after key in a PHP file's text: 0, or -1. */
int	app_php_version_in(const char *text, const char *key, char *out, size_t len);

#endif
