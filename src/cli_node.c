/*
 * cli_node.c: how `locker status` prints the fleet's nodes, after the
 * lockers: a table, or (--json) a "nodes" array closing the status object.
 */
#include <stdio.h>

#include "lockerd.h"

/* Seconds since the node's last contact, -1: never.  PostgreSQL rounds
 * its clock to the second where time() truncates: a beat may look a
 * second ahead of the master's now, which is "0 s ago". */
static long long
seen_ago(const struct ctl_node *n)
{
	if (n->seen == 0)
		return -1;
	return n->now > n->seen ? (long long)(n->now - n->seen) : 0;
}

static void
ago(char *out, size_t outsz, const struct ctl_node *n)
{
	if (n->seen == 0)
		snprintf(out, outsz, "never");
	else
		snprintf(out, outsz, "%lld s ago", seen_ago(n));
}

/*
 * nprocs, nstats: how much of the status object came before (the first
 * node closes what is open: {"processes": [...], "lockers": [...]).
 */
void
cli_print_node(const struct ctl_node *n, int json, int first, int nprocs, int nstats)
{
	char seen[32];

	ago(seen, sizeof(seen), n);
	if (json) {
		if (first && nstats > 0)
			printf("\n ],\n \"nodes\": [");
		else if (first && nprocs > 0)
			printf("\n ],\n \"lockers\": [],\n \"nodes\": [");
		else if (first)
			printf("{\"processes\": [], \"lockers\": [], \"nodes\": [");
		printf("%s\n  {\"name\":", first ? "" : ",");
		json_str(n->name);
		printf(",\"addr\":");
		json_str(n->addr);
		printf(",\"state\":");
		json_str(n->state);
		printf(",\"load\":%.2f,\"seen\":%lld,\"seen_ago_s\":%lld,\"started\":%lld,"
		    "\"drained\":%s}", n->load / 100.0, (long long)n->seen,
		    seen_ago(n), (long long)n->started,
		    n->drained ? "true" : "false");
		return;
	}
	if (first)
		printf("%s%-24s %-22s %-9s %6s %-14s %s\n", nprocs || nstats ? "\n" : "", "NODE",
		    "ADDRESS", "STATE", "LOAD", "LAST CONTACT", "DRAINED");
	printf("%-24s %-22s %-9s %6.2f %-14s %s\n", n->name, n->addr[0] ? n->addr : "-",
	    n->state, n->load / 100.0, seen, n->drained ? "yes (locker node undrain)" : "no");
}
