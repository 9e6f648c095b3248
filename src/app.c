/*
 * app.c: lockerd-app's main: the command line the master built (from
 * arguments it validated), checked again here because nothing should rest
 * on one check, then one of install, upgrade, rollback, opt-out, info
 * (app_flow.c), and the outcome: human lines on stdout, with --json one
 * JSON object as the last line, and an exit code (app.h APP_EXIT_*) that
 * is all the master reads.
 *
 *   lockerd-app install APP --dir ABS --url URL --release DIR --version V [--title T]
 *                           [--admin U] [--email E] [--db sqlite|mariadb] [--dbname DB] [--json]
 *   lockerd-app upgrade  --dir ABS --url URL --release DIR --version V [--dry-run] [--json]
 *   lockerd-app upgrade  --dir ABS --url URL --resolve|--abort [--json]
 *   lockerd-app rollback --dir ABS --url URL [--json]
 *   lockerd-app opt-out  --dir ABS on|off [--json]
 *   lockerd-app info     --dir ABS [--json]
 *
 * It refuses to run as root: it runs code and reads files that a locker
 * controls, which is safe only with the locker's own powers.
 */
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "app.h"

enum { V_INSTALL, V_UPGRADE, V_ROLLBACK, V_OPTOUT, V_INFO };

struct app_args {
	int		 verb, json, dry, resolve, abort_;
	const char	*app, *onoff;
	struct app_ctx	 ctx;
};

static const struct app_recipe *const recipes[] = {
	&app_dokuwiki, &app_wordpress, &app_phpmyadmin, &app_mediawiki,
};

const struct app_recipe *
app_recipe_find(const char *name)
{
	size_t	 i;

	for (i = 0; name != NULL && i < sizeof(recipes) / sizeof(recipes[0]); i++)
		if (strcmp(recipes[i]->name, name) == 0)
			return recipes[i];
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: lockerd-app install APP --dir ABS --url URL --release DIR --version V [--title T]\n"
	    "                   [--admin U] [--email E] [--db sqlite|mariadb] [--dbname DB] [--json]\n"
	    "       lockerd-app upgrade --dir ABS --url URL --release DIR --version V [--dry-run] [--json]\n"
	    "       lockerd-app upgrade --dir ABS --url URL --resolve|--abort [--json]\n"
	    "       lockerd-app rollback --dir ABS --url URL [--json]\n"
	    "       lockerd-app opt-out --dir ABS on|off [--json]\n"
	    "       lockerd-app info --dir ABS [--json]\n");
	exit(APP_EXIT_USAGE);
}

/* Printable ASCII, no quote, backslash, $ or `: it goes into config files. */
static int
text_ok(const char *s, size_t max)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || strchr("\"'\\$`<>", s[i]) != NULL)
			return 0;
	return 1;
}

static int
url_ok(const char *u)
{
	size_t	 n = strlen(u);

	return (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) && n < 400 &&
	    u[n - 1] == '/' && text_ok(u, 400) && strchr(u, ' ') == NULL;
}

static void
check_args(struct app_args *a)
{
	struct app_ctx	*c = &a->ctx;
	const char	*bad = NULL;

	if (c->dir == NULL || c->dir[0] != '/' || strlen(c->dir) > 1024)
		bad = "--dir: an absolute path";
	else if (a->verb != V_OPTOUT && a->verb != V_INFO && (c->url == NULL || !url_ok(c->url)))
		bad = "--url: http(s)://host/path/ with a final slash";
	else if ((a->verb == V_INSTALL || (a->verb == V_UPGRADE && !a->resolve && !a->abort_)) &&
	    (c->release == NULL || c->release[0] != '/' || c->version == NULL ||
	    !app_version_ok(c->version)))
		bad = "--release DIR (absolute) and --version V ([A-Za-z0-9._+~-])";
	else if (a->verb == V_INSTALL && app_recipe_find(a->app) == NULL)
		bad = "unknown app (dokuwiki, wordpress, phpmyadmin, mediawiki)";
	else if ((c->title && !text_ok(c->title, 128)) || (c->admin && !text_ok(c->admin, 32)) ||
	    (c->email && !text_ok(c->email, 128)) || (c->dbname && !text_ok(c->dbname, 64)))
		bad = "--title, --admin, --email, --dbname: printable, no quotes, $, ` or \\";
	else if (c->db && strcmp(c->db, "sqlite") != 0 && strcmp(c->db, "mariadb") != 0)
		bad = "--db: sqlite or mariadb";
	else if (a->resolve && a->abort_)
		bad = "--resolve or --abort, not both";
	else if (a->verb == V_OPTOUT && (a->onoff == NULL ||
	    (strcmp(a->onoff, "on") != 0 && strcmp(a->onoff, "off") != 0)))
		bad = "opt-out: on or off";
	if (bad != NULL) {
		fprintf(stderr, "lockerd-app: %s\n", bad);
		usage();
	}
}

static void
parse(int argc, char **argv, struct app_args *a)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "url", required_argument, NULL, 'u' },
		{ "release", required_argument, NULL, 'r' }, { "version", required_argument, NULL, 'v' },
		{ "title", required_argument, NULL, 't' }, { "admin", required_argument, NULL, 'a' },
		{ "email", required_argument, NULL, 'e' }, { "db", required_argument, NULL, 'b' },
		{ "dbname", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'D' }, { "resolve", no_argument, NULL, 'R' },
		{ "abort", no_argument, NULL, 'A' }, { "verbose", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const verbs[] = { "install", "upgrade", "rollback", "opt-out", "info" };
	int	 ch;

	if (argc < 2)
		usage();
	for (a->verb = 0; a->verb < 5 && strcmp(argv[1], verbs[a->verb]) != 0; a->verb++)
		;
	if (a->verb == 5)
		usage();
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': a->ctx.dir = optarg; break;
		case 'u': a->ctx.url = optarg; break;
		case 'r': a->ctx.release = optarg; break;
		case 'v': a->ctx.version = optarg; break;
		case 't': a->ctx.title = optarg; break;
		case 'a': a->ctx.admin = optarg; break;
		case 'e': a->ctx.email = optarg; break;
		case 'b': a->ctx.db = optarg; break;
		case 'n': a->ctx.dbname = optarg; break;
		case 'j': a->json = 1; break;
		case 'D': a->dry = 1; break;
		case 'R': a->resolve = 1; break;
		case 'A': a->abort_ = 1; break;
		case 'V': app_verbose = 1; break;
		default: usage();
		}
	}
	/* The one positional argument: install's APP, opt-out's on|off. */
	if (a->verb == V_INSTALL || a->verb == V_OPTOUT) {
		if (optind + 1 != argc)
			usage();
		if (a->verb == V_INSTALL)
			a->app = argv[optind];
		else
			a->onoff = argv[optind];
	} else if (optind != argc)
		usage();
	check_args(a);
}

/* The locker's home: $HOME as the master set it, else the password file's. */
static const char *
find_home(void)
{
	const char	*h = getenv("HOME");
	struct passwd	*pw;

	if (h != NULL && h[0] == '/' && strlen(h) < 1024)
		return h;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir[0] == '/')
		return pw->pw_dir;
	return NULL;
}

static void
json_out(const struct app_args *a, int rc)
{
	json_t		*o = json_object(), *files = json_array();
	const char	*r = app_res.result;
	char		*s, *line, *save = NULL;

	if (r == NULL)
		r = rc == APP_EXIT_REFUSED ? "refused" : rc == APP_EXIT_ROLLED_BACK ? "rolled-back" :
		    rc == APP_EXIT_CONFLICT ? "conflict" : rc == APP_EXIT_OPTED_OUT ? "opted-out" :
		    rc == APP_EXIT_CURRENT ? "current" : rc == 0 ? "done" : "failed";
	json_object_set_new(o, "result", json_string(r));
	if (app_res.app[0])
		json_object_set_new(o, "app", json_string(app_res.app));
	if (app_res.from[0])
		json_object_set_new(o, "from", json_string(app_res.from));
	if (app_res.to[0])
		json_object_set_new(o, "to", json_string(app_res.to));
	if (a->ctx.url != NULL)
		json_object_set_new(o, "url", json_string(a->ctx.url));
	if (a->ctx.password[0])
		json_object_set_new(o, "password", json_string(a->ctx.password));
	for (line = strtok_r(app_res.files, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		json_array_append_new(files, json_string(line));
	json_object_set_new(o, "files", files);
	if (app_res.state[0]) {
		json_object_set_new(o, "state", json_string(app_res.state));
		json_object_set_new(o, "opted_out", json_boolean(app_res.opted_out));
	}
	if (app_res.reason[0])
		json_object_set_new(o, "reason", json_string(app_res.reason));
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(o);
}

int
main(int argc, char **argv)
{
	struct app_args	 a;
	int		 rc;

	memset(&a, 0, sizeof(a));
	a.ctx.dirfd = -1;
	if (getuid() == 0 || geteuid() == 0) {
		fprintf(stderr, "lockerd-app: refusing to run as root (it runs as a locker, in its sandbox)\n");
		return APP_EXIT_USAGE;
	}
	/* The CLI may go while we work: see app_stdio_check(). */
	signal(SIGPIPE, SIG_IGN);
	parse(argc, argv, &a);
	if ((a.ctx.home = find_home()) == NULL) {
		fprintf(stderr, "lockerd-app: no home (HOME unset)\n");
		return APP_EXIT_USAGE;
	}
	app_home = a.ctx.home;
	umask(022);
	switch (a.verb) {
	case V_INSTALL:	rc = app_install(&a.ctx, app_recipe_find(a.app)); break;
	case V_UPGRADE:	rc = app_upgrade(&a.ctx, a.dry, a.resolve, a.abort_); break;
	case V_ROLLBACK: rc = app_rollback(&a.ctx); break;
	case V_OPTOUT:	rc = app_optout(&a.ctx, strcmp(a.onoff, "on") == 0); break;
	default:	rc = app_info(&a.ctx); break;
	}
	if (a.json)
		json_out(&a, rc);
	return rc;
}
