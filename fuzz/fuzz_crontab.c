/*
 * fuzz_crontab.c: libFuzzer target for crontab.c, the crontab(5) compiler
 * that runs on a locker's own bytes (in its sandbox) and the checks the
 * master runs on what it sends.
 *
 * Checked: a crontab either compiles to a schedule cron_sched_check()
 * accepts, or is refused with "crontab:LINE: ..." naming a line of the
 * input; what compiled runs (cron_entry_due over a day, cron_spread) and
 * splits (cron_cmd_split) within its bounds.  Then the input's bytes are
 * read as a struct cron_sched, as the master would receive them from a
 * hostile sandbox, and whatever cron_sched_check() accepts is used the
 * same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "crontab.h"

static void
use(struct cron_sched *s)
{
	struct tm	tm;
	const char	*in;
	unsigned	i;

	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = 29;
	tm.tm_wday = 6;
	tm.tm_mon = 1;
	for (i = 0; i < s->nentries; i++) {
		struct cron_entry e = s->e[i];

		cron_spread(&e, 0xdeadbeef);
		for (tm.tm_hour = 0; tm.tm_hour < 24; tm.tm_hour += 7)
			for (tm.tm_min = 0; tm.tm_min < 60; tm.tm_min += 13)
				(void)cron_entry_due(&e, &tm);
		cron_cmd_split(e.cmd, &in);
		REQUIRE(in >= e.cmd && in < e.cmd + sizeof(e.cmd));
		REQUIRE(strlen(e.cmd) < sizeof(e.cmd));
	}
	(void)cron_sched_var(s, "MAILTO");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cron_sched s;
	unsigned	 lines = 1;
	size_t		 i;

	if (crontab_parse((const char *)data, size, &s) == 0) {
		REQUIRE(cron_sched_check(&s) == NULL);
		REQUIRE(s.err_line == 0);
		use(&s);
	} else {
		for (i = 0; i < size; i++)
			lines += data[i] == '\n';
		REQUIRE(strncmp(s.err, "crontab:", 8) == 0);
		REQUIRE(s.err_line >= 1 && s.err_line <= lines);
		REQUIRE(cron_sched_check(&s) == NULL);
	}
	/* The same bytes as a hostile sandbox's message. */
	memset(&s, 0, sizeof(s));
	memcpy(&s, data, size < sizeof(s) ? size : sizeof(s));
	if (cron_sched_check(&s) == NULL)
		use(&s);
	return 0;
}
