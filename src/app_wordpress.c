/*
 * app_wordpress.c: the WordPress recipe for lockerd-app (app.h struct app_recipe).
 * A stub that compiles until app-wp lands the recipe: an install of it
 * fails with "not written yet".
 */
#include <stddef.h>

#include "app.h"

const struct app_recipe app_wordpress = {
	.name = "wordpress",
	.package = "/usr/share/wordpress",
	.sql = APP_SQL_REQUIRED,
};
