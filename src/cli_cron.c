/*
 * cli_cron.c: how `locker cron status|list` print, as text or (--json)
 * an object (status) or a list of objects (list).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cron.h"

static void
status_json(const struct ctl_cron *c)
{
	printf("{\"locker\": ");
	json_str(c->locker);
	printf(", \"state\": ");
	json_str(c->state);
	printf(", \"error\": ");
	json_str(c->error);
	printf(", \"compiled\": %lld, \"jobs\": %u, \"running\": %u, \"lease\": ",
	    (long long)c->compiled_at, c->nentries, c->running);
	json_str(c->lease);
	printf(", \"lease_here\": %s}\n", c->lease_ours ? "true" : "false");
}

static void
status_text(const struct ctl_cron *c)
{
	char at[32];

	cli_when(at, sizeof(at), c->compiled_at);
	printf("locker:    %s\n", c->locker);
	printf("crontab:   %s\n", c->state);
	if (c->error[0] != '\0')
		printf("error:     %s\n", c->error);
	printf("compiled:  %s\n", at);
	printf("jobs:      %u (%u running)\n", c->nentries, c->running);
	printf("cron runs: %s%s\n", c->lease[0] ? c->lease : "nowhere yet",
	    c->lease_ours ? " (this machine)" : "");
}

static void
entry_json(const struct ctl_cron *c, int first)
{
	printf("%s\n {\"job\": %u, \"line\": %u, \"when\": ", first ? "[" : ",", c->index,
	    c->line);
	json_str(c->spec);
	printf(", \"command\": ");
	json_str(c->cmd);
	printf(", \"pid\": %d, \"last_start\": %lld, \"last_status\": ", c->pid,
	    (long long)c->last_start);
	if (c->last_status == CRON_NEVER)
		printf("null");
	else
		printf("%d", c->last_status);
	printf(", \"runs\": %u, \"skipped\": %u}", c->runs, c->skipped);
}

static void
entry_text(const struct ctl_cron *c, int first)
{
	char at[32], st[24];

	cli_when(at, sizeof(at), c->last_start);
	if (c->pid != 0)
		snprintf(st, sizeof(st), "running %d", c->pid);
	else if (c->last_status == CRON_NEVER)
		snprintf(st, sizeof(st), "-");
	else if (c->last_status < 0)
		snprintf(st, sizeof(st), "signal %d", -c->last_status);
	else
		snprintf(st, sizeof(st), "exit %d", c->last_status);
	if (first)
		printf("%-3s %-5s %-20s %-20s %-12s %s\n", "N", "LINE", "WHEN", "LAST START",
		    "LAST", "COMMAND");
	printf("%-3u %-5u %-20s %-20s %-12s %s\n", c->index, c->line, c->spec, at, st, c->cmd);
}

void
cli_print_cron(const struct ctl_cron *c, int json, int first)
{
	if (c->kind == CRON_ROW_STATUS)
		(json ? status_json : status_text)(c);
	else if (json)
		entry_json(c, first);
	else
		entry_text(c, first);
}

void
cli_cron_end(int json, int n, uint32_t verb)
{
	if (json && verb == CTL_CRON_LIST)
		printf("%s]\n", n ? "\n" : "[");
	else if (!json && verb == CTL_CRON_LIST && n == 0)
		printf("no cron jobs\n");
}
