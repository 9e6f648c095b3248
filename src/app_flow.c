/*
 * app_flow.c: what each verb of lockerd-app does, step by step: install,
 * upgrade (with --resolve/--abort), rollback, opt-out, info.  The steps
 * themselves are app_git.c's (the repository), app_copy.c's (a release's
 * files) and the recipe's (configuration, the app's own installer).
 */
#include "app.h"

static int
not_yet(const char *what)
{
	app_err("%s: not written yet", what);
	return APP_EXIT_USAGE;
}

int app_install(struct app_ctx *ctx, const struct app_recipe *rc) { (void)ctx; (void)rc; return not_yet("install"); }
int app_upgrade(struct app_ctx *ctx, int dry, int resolve, int abort_) { (void)ctx; (void)dry; (void)resolve; (void)abort_; return not_yet("upgrade"); }
int app_rollback(struct app_ctx *ctx) { (void)ctx; return not_yet("rollback"); }
int app_optout(struct app_ctx *ctx, int on) { (void)ctx; (void)on; return not_yet("opt-out"); }
int app_info(struct app_ctx *ctx) { (void)ctx; return not_yet("info"); }
