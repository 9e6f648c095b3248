/*
 * app_mediawiki.c: the MediaWiki recipe for lockerd-app (app.h struct app_recipe).
 * A stub that compiles until app-mw lands the recipe: an install of it
 * fails with "not written yet".
 */
#include <stddef.h>

#include "app.h"

const struct app_recipe app_mediawiki = {
	.name = "mediawiki",
	.package = "/usr/share/mediawiki",
	.sql = APP_SQL_OPTIONAL,
};
