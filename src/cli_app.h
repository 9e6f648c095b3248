/*
 * cli_app.h: the CLI's options and printing for the autoinstallers'
 * verbs (cli_app.c); the master's side is ctl_app.c.
 */
#ifndef CLI_APP_H
#define CLI_APP_H

#include <stddef.h>
#include <stdint.h>

#include "lockerd.h"
#include "app_master.h"

struct cli_app_opts {
	const char	*title, *admin, *email, *db, *to;
	uint32_t	 flags;		/* CTL_F_DRY_RUN, _RESOLVE, _ABORT, _OPT_OUT, _OPT_IN, _ALL */
};

int	cli_app_option(int argc, char **argv, int *i, struct cli_app_opts *o);
unsigned cli_app_vopts(const struct cli_app_opts *o);
/* The options into req (after its positional words); -1 if too long. */
int	cli_app_request(struct ctl_request *req, const struct cli_app_opts *o, int json);
void	cli_print_app(const struct ctl_app *a, int json, int first);
void	cli_app_end(int json, int n);

#endif
