/*
 * ctl_cron.c: `locker cron status|list|run|log|reload NAME` (admins of
 * NAME; verbs.c's rows).  What cron.c knows of the locker's schedule and
 * jobs, one struct ctl_cron a row; `run N` starts entry N now (as its
 * time would); `reload` compiles the crontab now rather than within the
 * minute; `log` hands the cron log's descriptor as `locker logs` does.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "cron.h"

static void
cron_list(struct ctl_client *c, const char *locker)
{
	struct ctl_cron	 row;
	unsigned	 i;

	for (i = 1; cron_entry(locker, i, &row) == 0; i++)
		if (reply(c, MSG_CTL_CRON, &row, sizeof(row)) == -1)
			return;
}

void
do_cron(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct ctl_cron		 row;
	char			 err[256];
	uint64_t		 n;

	if (c->req.verb == CTL_CRON_LOG) {
		do_logs(c);
		return;
	}
	if (locker_get(c, &lr) == -1)
		return;
	switch (c->req.verb) {
	case CTL_CRON_STATUS:
		if (cron_status(lr.name, &row) == -1) {
			done(c, 1, "out of memory");
			return;
		}
		reply(c, MSG_CTL_CRON, &row, sizeof(row));
		break;
	case CTL_CRON_LIST:
		cron_list(c, lr.name);
		break;
	case CTL_CRON_RUN:
		if (c->req.argc != 1 || parse_uint(c->req.argv, CRON_ENTRIES_MAX, &n) == -1 ||
		    n == 0) {
			done(c, 2, "usage: locker cron run NAME N (N from locker cron list)");
			return;
		}
		if (cron_run_now(lr.name, (unsigned)n, err, sizeof(err)) == -1) {
			done(c, 1, "%s", err);
			return;
		}
		snprintf(err, sizeof(err), "job %u of %s started; its output goes to its cron "
		    "log (locker cron log %s)", (unsigned)n, lr.name, lr.name);
		text(c, err);
		break;
	case CTL_CRON_RELOAD:
		if (cron_reload(lr.name, err, sizeof(err)) == -1) {
			done(c, 1, "%s", err);
			return;
		}
		snprintf(err, sizeof(err), "%s's crontab is being compiled; locker cron status %s "
		    "says how it went", lr.name, lr.name);
		text(c, err);
		break;
	default:
		done(c, 2, "no such cron verb");
		return;
	}
	done(c, 0, NULL);
}
