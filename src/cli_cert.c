/*
 * cli_cert.c: how `locker cert list|status` prints a certificate, as a
 * table or (--json) a list of objects.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lockerd.h"

void
cli_print_cert(const struct ctl_cert *c, int json, int first)
{
	char	na[32], nr[32];

	cli_when(na, sizeof(na), c->not_after);
	cli_when(nr, sizeof(nr), c->next_renewal);
	if (json) {
		printf("%s\n  {\"host\":", first ? "[" : ",");
		json_str(c->host);
		printf(",\"locker\":");
		json_str(c->locker);
		printf(",\"source\":");
		json_str(c->source);
		printf(",\"state\":");
		json_str(c->state);
		printf(",\"renew_failed\":%s,\"not_after\":%lld,\"next_renewal\":%lld,\"issuer\":",
		    c->renew_failed ? "true" : "false", (long long)c->not_after,
		    (long long)c->next_renewal);
		json_str(c->issuer);
		printf(",\"error\":");
		json_str(c->error);
		printf("}");
		return;
	}
	if (first)
		printf("%-32s %-12s %-13s %-20s %-20s %-20s %s\n", "HOST", "LOCKER", "STATE",
		    "EXPIRES", "NEXT", "ISSUER", "LAST ERROR");
	printf("%-32s %-12s %-13s %-20s %-20s %-20s %s%s\n", c->host,
	    c->locker[0] ? c->locker : "-", c->state, na, nr, c->issuer[0] ? c->issuer : "-",
	    c->renew_failed ? "renewal failed: " : "", c->error[0] ? c->error : "-");
}

void
cli_cert_end(int json, int n)
{
	if (json)
		printf("%s]\n", n ? "\n" : "[");
}
