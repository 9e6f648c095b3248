/*
 * app_phpmyadmin.c: the phpMyAdmin recipe for lockerd-app (app.h struct app_recipe).
 * A stub that compiles until app-wp lands the recipe: an install of it
 * fails with "not written yet".
 */
#include <stddef.h>

#include "app.h"

const struct app_recipe app_phpmyadmin = {
	.name = "phpmyadmin",
	.package = "/usr/share/phpmyadmin",
	.sql = APP_SQL_REQUIRED,
};
