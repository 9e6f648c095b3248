/*
 * cli_app.c: the CLI's side of `locker install|installs|upgrade|rollback`:
 * their options, sent as KEY=VALUE words after the verb's own (the master
 * checks each: ctl_app.c), and how `installs` and `upgrade --all`'s report
 * print, as text or (--json) a list of objects.  What lockerd-app prints
 * comes on our own stdout and stderr, which the master handed it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lockerd.h"
#include "verbs.h"
#include "app_master.h"
#include "cli_app.h"

/* 1 if argv[*i] is one of ours (taken, with its value), 0 if not, -1 if
 * it lacks its value. */
int
cli_app_option(int argc, char **argv, int *i, struct cli_app_opts *o)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} valued[] = {
		{ "--title", offsetof(struct cli_app_opts, title) },
		{ "--admin", offsetof(struct cli_app_opts, admin) },
		{ "--email", offsetof(struct cli_app_opts, email) },
		{ "--db", offsetof(struct cli_app_opts, db) },
		{ "--to", offsetof(struct cli_app_opts, to) },
	};
	static const struct {
		const char	*name;
		uint32_t	 flag;
	} flags[] = {
		{ "--dry-run", CTL_F_DRY_RUN }, { "--resolve", CTL_F_RESOLVE },
		{ "--abort", CTL_F_ABORT }, { "--opt-out", CTL_F_OPT_OUT },
		{ "--opt-in", CTL_F_OPT_IN }, { "--all", CTL_F_ALL },
	};
	size_t k;

	for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
		if (strcmp(argv[*i], valued[k].name) == 0) {
			if (*i + 1 >= argc)
				return -1;
			*(const char **)((char *)o + valued[k].off) = argv[++*i];
			return 1;
		}
	for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
		if (strcmp(argv[*i], flags[k].name) == 0) {
			o->flags |= flags[k].flag;
			return 1;
		}
	return 0;
}

/* The VOPT_* bits the options given need of a verb's row. */
unsigned
cli_app_vopts(const struct cli_app_opts *o)
{
	unsigned v = 0;

	if (o->title || o->admin || o->email || o->db)
		v |= VOPT_APPINFO;
	if (o->to)
		v |= VOPT_TO;
	if (o->flags & CTL_F_ALL)
		v |= VOPT_ALL;
	if (o->flags & CTL_F_DRY_RUN)
		v |= VOPT_DRY_RUN;
	if (o->flags & (CTL_F_RESOLVE | CTL_F_ABORT))
		v |= VOPT_RESOLVE;
	if (o->flags & (CTL_F_OPT_OUT | CTL_F_OPT_IN))
		v |= VOPT_OPT_OUT;
	return v;
}

/* Append one KEY=VALUE word to req's packed argv; -1 if it does not fit. */
static int
append(struct ctl_request *req, const char *key, const char *value)
{
	size_t	off = 0, len = strlen(key) + 1 + strlen(value) + 1;
	uint32_t i;

	for (i = 0; i < req->argc; i++)
		off += strlen(req->argv + off) + 1;
	if (req->argc >= CTL_MAX_ARGV || off + len > sizeof(req->argv)) {
		fprintf(stderr, "locker: arguments too long\n");
		return -1;
	}
	snprintf(req->argv + off, sizeof(req->argv) - off, "%s=%s", key, value);
	req->argc++;
	return 0;
}

/* `upgrade --all APP`: the word in NAME's place is the app, sent as app=. */
int
cli_app_request(struct ctl_request *req, const struct cli_app_opts *o, int json)
{
	const char	*keys[5] = { "title", "admin", "email", "db", "to" };
	const char	*vals[5] = { o->title, o->admin, o->email, o->db, o->to };
	int		 k;

	for (k = 0; k < 5; k++)
		if (vals[k] != NULL && append(req, keys[k], vals[k]) == -1)
			return -1;
	req->flags |= o->flags;
	if (o->flags & CTL_F_ALL) {
		if (append(req, "app", req->name) == -1)
			return -1;
		req->name[0] = '\0';
		return 0;
	}
	/* lockerd-app prints on our stdout: it is told which way. */
	if (json && req->verb != CTL_APP_INSTALLS && append(req, "json", "1") == -1)
		return -1;
	return 0;
}

static void
print_json(const struct ctl_app *a, int first)
{
	printf("%s\n {\"locker\": ", first ? "[" : ",");
	json_str(a->locker);
	printf(", \"app\": ");
	json_str(a->app);
	printf(", \"path\": ");
	json_str(a->path);
	printf(", \"version\": ");
	json_str(a->version);
	printf(", \"url\": ");
	json_str(a->url);
	printf(", \"opted_out\": %s", a->opted_out ? "true" : "false");
	if (a->kind == APP_ROW_RESULT) {
		printf(", \"to\": ");
		json_str(a->available);
		printf(", \"result\": ");
		json_str(a->result);
		printf(", \"exit\": %d}", a->code);
		return;
	}
	printf(", \"state\": ");
	json_str(a->state);
	printf(", \"available\": ");
	json_str(a->available);
	printf(", \"updated\": %lld}", (long long)a->updated);
}

void
cli_print_app(const struct ctl_app *a, int json, int first)
{
	if (json) {
		print_json(a, first);
		return;
	}
	if (a->kind == APP_ROW_RESULT) {
		if (first)
			printf("%-16s %-20s %-12s %-12s %s\n", "LOCKER", "PATH", "FROM", "TO",
			    "RESULT");
		printf("%-16s %-20s %-12s %-12s %s\n", a->locker, a->path, a->version,
		    a->available, a->result);
		return;
	}
	if (first)
		printf("%-16s %-11s %-12s %-20s %-9s %-9s %-12s %s\n", "LOCKER", "APP",
		    "VERSION", "PATH", "STATE", "UPGRADES", "AVAILABLE", "URL");
	printf("%-16s %-11s %-12s %-20s %-9s %-9s %-12s %s\n", a->locker, a->app, a->version,
	    a->path, a->state, a->opted_out ? "opted-out" : "yes",
	    a->available[0] ? a->available : "-", a->url);
}

void
cli_app_end(int json, int n)
{
	if (json)
		printf("%s]\n", n ? "\n" : "[");
	else if (n == 0)
		printf("no installs\n");
}
