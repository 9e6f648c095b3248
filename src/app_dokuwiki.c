/*
 * app_dokuwiki.c: the DokuWiki recipe for lockerd-app (app.h struct app_recipe).
 * A stub that compiles until app-git lands the recipe: an install of it
 * fails with "not written yet".
 */
#include <stddef.h>

#include "app.h"

const struct app_recipe app_dokuwiki = {
	.name = "dokuwiki",
	.package = "/usr/share/dokuwiki",
	.sql = APP_SQL_NONE,
};
