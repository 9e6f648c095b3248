/*
 * cli_mail.c: how `locker mail status` prints, as lines or (--json) one
 * object: the totals row first, then the last messages, oldest first.
 */
#include <stdio.h>
#include <time.h>

#include "lockerd.h"
#include "mail.h"

static void
when(char *out, size_t outsz, int64_t t)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
cli_print_mail(const struct ctl_mail *m, int json, int first)
{
	char at[32];

	if (m->at == 0) {	/* the totals */
		if (json) {
			printf("{\"locker\": ");
			json_str(m->locker);
			printf(", \"state\": ");
			json_str(m->status);
			printf(", \"sent\": %llu, \"refused\": %llu, \"blocked\": %s, "
			    "\"last_hour\": %u, \"per_hour\": %u, \"no_program\": \"%s\", "
			    "\"messages\": [",
			    (unsigned long long)m->sent, (unsigned long long)m->refused,
			    m->blocked ? "true" : "false", m->last_hour, m->per_hour,
			    m->no_program ? "discard" : "bounce");
			return;
		}
		printf("locker %s: mail %s; %llu sent, %llu refused; %u in the last hour "
		    "(limit %s%u)\n", m->locker, m->status, (unsigned long long)m->sent,
		    (unsigned long long)m->refused, m->last_hour, m->per_hour ? "" : "none: ",
		    m->per_hour);
		printf("incoming mail while it has no mail program: %s\n",
		    m->no_program ? "discarded" : "bounced");
		return;
	}
	when(at, sizeof(at), m->at);
	if (json) {
		printf("%s\n  {\"at\": %lld, \"status\": ", first ? "" : ",", (long long)m->at);
		json_str(m->status);
		printf(", \"recipients\": ");
		json_str(m->rcpts);
		printf(", \"text\": ");
		json_str(m->text);
		printf("}");
		return;
	}
	if (first)
		printf("%-20s %-13s %-40s %s\n", "WHEN", "STATUS", "RECIPIENTS", "WHAT");
	printf("%-20s %-13s %-40s %s\n", at, m->status, m->rcpts[0] ? m->rcpts : "-",
	    m->text[0] ? m->text : "-");
}

void
cli_mail_end(int json, int n)
{
	(void)n;
	if (json)
		printf("%s]}\n", n ? "\n " : "");
}
