/*
 * test_crontab.c: crontab.c, the crontab(5) compiler a locker's sandbox
 * runs, and the checks and matching the master runs on what it sends.
 */
#include <string.h>
#include <time.h>

#include "unit.h"
#include "crontab.h"

static struct cron_sched S;

static int
parse(const char *text)
{
	return crontab_parse(text, strlen(text), &S);
}

static void
test_fields(void)
{
	CHECK_INT(parse("* * * * * echo hi\n"), 0);
	CHECK_INT(S.nentries, 1);
	CHECK_STR(S.e[0].cmd, "echo hi");
	CHECK(S.e[0].minutes == ((uint64_t)1 << 60) - 1);
	CHECK_INT(S.e[0].hours, 0xffffff);
	CHECK_INT(S.e[0].mdays, 0xfffffffe);
	CHECK_INT(S.e[0].months, 0x1ffe);
	CHECK_INT(S.e[0].wdays, 0x7f);
	CHECK_INT(S.e[0].line, 1);
	CHECK(cron_sched_check(&S) == NULL);

	CHECK_INT(parse("# c\n\n  */15 9-17/2 1,15 jan-mar,Dec mon-fri   /bin/x  \n"), 0);
	CHECK(S.e[0].minutes == (1 | 1 << 15 | (uint64_t)1 << 30 | (uint64_t)1 << 45));
	CHECK_INT(S.e[0].hours, 1 << 9 | 1 << 11 | 1 << 13 | 1 << 15 | 1 << 17);
	CHECK_INT(S.e[0].mdays, 1 << 1 | 1 << 15);
	CHECK_INT(S.e[0].months, 1 << 1 | 1 << 2 | 1 << 3 | 1 << 12);
	CHECK_INT(S.e[0].wdays, 0x3e);
	CHECK_STR(S.e[0].cmd, "/bin/x");
	CHECK_STR(S.e[0].spec, "*/15 9-17/2 1,15 jan-mar,Dec mon-fri");
	CHECK_INT(S.e[0].line, 3);
	CHECK_INT(S.e[0].mday_star, 0);
	CHECK_INT(S.e[0].wday_star, 0);

	/* 7 is Sunday; N/STEP runs to the end; a CR before the newline is a blank */
	CHECK_INT(parse("0 0 * * 7 a\r\n5/20 * * * 5-7 b\n"), 0);
	CHECK_INT(S.e[0].wdays, 1);
	CHECK(S.e[1].minutes == ((uint64_t)1 << 5 | (uint64_t)1 << 25 | (uint64_t)1 << 45));
	CHECK_INT(S.e[1].wdays, 1 | 1 << 5 | 1 << 6);
	CHECK_STR(S.e[0].cmd, "a");
	/* N/STEP of the days of the week runs to 7, which is Sunday (fuzz) */
	CHECK_INT(parse("6 6 6 6/1 7/6 6\t\n"), 0);
	CHECK_INT(S.e[0].wdays, 1);
	CHECK(cron_sched_check(&S) == NULL);
}

static void
test_keywords_and_vars(void)
{
	CHECK_INT(parse("MAILTO=bob@example.com\nFOO = \"a b\" \n@reboot r\n@HOURLY h\n"
	    "@daily d\n@weekly w\n@monthly m\n@annually y\nX='q'\n"), 0);
	CHECK_INT(S.nentries, 6);
	CHECK_INT(S.nvars, 3);
	CHECK_STR(cron_sched_var(&S, "MAILTO"), "bob@example.com");
	CHECK_STR(cron_sched_var(&S, "FOO"), "a b");
	CHECK_STR(cron_sched_var(&S, "X"), "q");
	CHECK(cron_sched_var(&S, "FO") == NULL);
	CHECK_INT(S.e[0].when, CW_REBOOT);
	CHECK_INT(S.e[1].when, CW_HOURLY);
	CHECK_INT(S.e[5].when, CW_YEARLY);
	CHECK(cron_sched_check(&S) == NULL);
	CHECK_STR(cron_when_name(S.e[3].when), "@weekly");
	CHECK_STR(S.e[3].spec, "@weekly");
	/* an empty MAILTO is a variable too (no mail) */
	CHECK_INT(parse("MAILTO=\n"), 0);
	CHECK_STR(cron_sched_var(&S, "MAILTO"), "");
}

static void
expect_error(const char *text, const char *err)
{
	CHECK_INT(parse(text), -1);
	if (strstr(S.err, err) == NULL) {
		fprintf(stderr, "for %s: got \"%s\", expected \"%s\"\n", text, S.err, err);
		unit_failures++;
	}
}

static void
test_errors(void)
{
	char	big[CRON_FILE_MAX + 2];
	int	i;

	expect_error("* * * * * ok\n61 * * * * x\n", "crontab:2: the minute field: 61 is out");
	expect_error("* 24 * * * x\n", "crontab:1: the hour field: 24 is out of range (0-23)");
	expect_error("* * 0 * * x\n", "crontab:1: the day of month field: 0 is out");
	expect_error("* * * 13 * x\n", "crontab:1: the month field");
	expect_error("* * * * 8 x\n", "crontab:1: the day of week field");
	expect_error("* * * foo * x\n", "is not a number or a name");
	expect_error("5-1 * * * * x\n", "runs backwards");
	expect_error("*/0 * * * * x\n", "a step is a number from 1 to 60");
	expect_error("*/ * * * * x\n", "a step");
	expect_error("1- * * * * x\n", "a range needs an end");
	expect_error("* * * *\n", "crontab:1: the day of week field is missing");
	expect_error("* * * * *\n", "crontab:1: no command");
	expect_error("* * * * * \n", "crontab:1: no command");
	expect_error("*x * * * * a\n", "the minute field: unexpected \"x\"");
	expect_error("* * * * *    \n", "no command");
	expect_error("1,,2 * * * * x\n", "not a number");
	expect_error("@often x\n", "is no keyword");
	expect_error("@daily\n", "no command");
	CHECK_INT(crontab_parse("# ok\n* * * * * a\0b\n", 20, &S), -1);
	CHECK_STR(S.err, "crontab:2: a NUL byte");
	expect_error("* * * * * a\x01\n", "a control character (\\x01)");
	expect_error("LOGNAME=victim\n", "crontab:1: LOGNAME is the locker's name");
	expect_error("USER = victim\n", "USER is the locker's name");
	expect_error("MAILTO=a@b;rm -rf\n", "crontab:1: MAILTO: addresses are");
	expect_error("\xff\xfe garbage\n", "crontab:1:");
	for (i = 0; i <= CRON_ENTRIES_MAX; i++)
		memcpy(big + i * 10, "@daily x\n\n", 10);
	big[(CRON_ENTRIES_MAX + 1) * 10] = '\0';
	expect_error(big, "more than 32 jobs");
	for (i = 0; i <= CRON_VARS_MAX; i++)
		memcpy(big + i * 4, "A=b\n", 4);
	big[(CRON_VARS_MAX + 1) * 4] = '\0';
	expect_error(big, "crontab:17: more than 16 variables");
	memset(big, 'x', sizeof(big));
	memcpy(big, "* * * * * ", 10);
	big[CRON_CMD_MAX + 20] = '\0';
	expect_error(big, "the command is longer than 1023 bytes");
	big[CRON_CMD_MAX + 20] = 'x';
	big[CRON_LINE_MAX + 20] = '\0';
	expect_error(big, "the line is longer than");
	CHECK_INT(crontab_parse(big, sizeof(big), &S), -1);
	CHECK_STR(S.err, "crontab:1: the crontab is larger than 65536 bytes");
	/* An error leaves nothing a caller could take for a schedule. */
	CHECK_INT(S.err_line, 1);
}

static void
test_check(void)
{
	CHECK_INT(parse("* * * * * x\nA=b\n"), 0);
	S.e[0].minutes |= (uint64_t)1 << 60;
	CHECK(cron_sched_check(&S) != NULL);
	CHECK_INT(parse("* * * * * x\n"), 0);
	S.e[0].mdays |= 1;
	CHECK(cron_sched_check(&S) != NULL);
	CHECK_INT(parse("* * * * * x\n"), 0);
	memset(S.e[0].cmd, 'a', sizeof(S.e[0].cmd));
	CHECK(cron_sched_check(&S) != NULL);
	CHECK_INT(parse("* * * * * x\n"), 0);
	S.e[0].cmd[1] = '\n';
	CHECK(cron_sched_check(&S) != NULL);
	CHECK_INT(parse("* * * * * x\n"), 0);
	S.nentries = CRON_ENTRIES_MAX + 1;
	CHECK(cron_sched_check(&S) != NULL);
	CHECK_INT(parse("A=b\n"), 0);
	memcpy(S.vars[0], "USER=victim", 12);
	CHECK(cron_sched_check(&S) != NULL);
	CHECK_INT(parse("* * * * * x\n"), 0);
	S.e[0].when = CW_MAX;
	CHECK(cron_sched_check(&S) != NULL);
}

static void
test_due(void)
{
	struct tm	tm;
	struct cron_entry e;
	int		n, h;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 126;
	tm.tm_mon = 11;		/* December */
	tm.tm_mday = 7;
	tm.tm_wday = 1;		/* a Monday */
	tm.tm_hour = 15;
	tm.tm_min = 30;
	CHECK_INT(parse("30 15 * * * a\n*/7 * * * * b\n30 15 1 * mon c\n30 15 1 * tue d\n"
	    "30 15 7 12 * e\n@reboot f\n"), 0);
	CHECK(cron_entry_due(&S.e[0], &tm));
	CHECK(!cron_entry_due(&S.e[1], &tm));
	CHECK(cron_entry_due(&S.e[2], &tm));	/* either day field */
	CHECK(!cron_entry_due(&S.e[3], &tm));
	CHECK(cron_entry_due(&S.e[4], &tm));
	CHECK(!cron_entry_due(&S.e[5], &tm));
	/* @hourly, spread: once an hour, at the minute the hash picks */
	CHECK_INT(parse("@hourly x\n@daily y\n@weekly z\n@monthly m\n@yearly q\n"), 0);
	e = S.e[0];
	cron_spread(&e, 30);
	CHECK(cron_entry_due(&e, &tm));
	for (n = 0, h = 0; h < 24; h++) {
		int mi;

		for (mi = 0; mi < 60; mi++) {
			tm.tm_hour = h;
			tm.tm_min = mi;
			n += cron_entry_due(&e, &tm);
		}
	}
	CHECK_INT(n, 24);
	for (h = 1; h < 5; h++) {
		int d, count = 0;

		e = S.e[h];
		cron_spread(&e, cron_name_hash("alice"));
		CHECK(cron_sched_check(&S) == NULL);
		/* Each runs once a day at most, and over 28 days: daily 28,
		 * weekly 4, monthly 1 (or 0 for yearly, outside its month) */
		for (d = 1; d <= 28; d++) {
			tm.tm_mday = d;
			tm.tm_wday = d % 7;
			for (tm.tm_hour = 0; tm.tm_hour < 24; tm.tm_hour++)
				for (tm.tm_min = 0; tm.tm_min < 60; tm.tm_min++)
					count += cron_entry_due(&e, &tm);
		}
		CHECK(h == 1 ? count == 28 : h == 2 ? count == 4 : h == 3 ? count == 1 :
		    count <= 1);
	}
	CHECK(cron_name_hash("alice") != cron_name_hash("bob"));
}

/* Desync: each locker's minute begins at its own offset, so lockers'
 * `* * * * *` start spread over the minute, each once a minute. */
static void
test_desync(void)
{
	static const char *const names[] = { "alice", "bob", "carol", "dave", "sipb-club",
	    "mallory", "victim", "x", NULL };
	int64_t		 base = (int64_t)1796659200 * 1000;	/* a whole minute */
	int		 i, seen[60] = { 0 }, distinct = 0;

	for (i = 0; names[i] != NULL; i++) {
		uint32_t h = cron_name_hash(names[i]);
		int64_t	 t, m0 = cron_minute_of(h, base), starts = 0, last = m0;

		/* Over ten minutes, in 100 ms steps: ten new minutes, each
		 * beginning at the same offset into the clock's minute. */
		for (t = base; t < base + 600000; t += 100) {
			int64_t m = cron_minute_of(h, t);

			if (m != last) {
				CHECK_INT(m, last + 1);
				CHECK_INT((t - base) % 60000 / 100, ((int64_t)(h % 60000) + 99) / 100 % 600);
				starts++;
				last = m;
			}
		}
		CHECK_INT(starts, 10);
		if (!seen[h % 60000 / 1000]++)
			distinct++;
	}
	CHECK(distinct >= 6);	/* 8 names over 60 seconds */
	CHECK_INT(cron_minute_of(0, 59999), 0);
	CHECK_INT(cron_minute_of(0, 60000), 1);
	CHECK_INT(cron_minute_of(1000, 60999), 0);
	CHECK_INT(cron_minute_of(1000, 61000), 1);
}

static void
test_split(void)
{
	char		 cmd[64];
	const char	*in;

	snprintf(cmd, sizeof(cmd), "mail -s hi bob%%line 1%%line 2");
	cron_cmd_split(cmd, &in);
	CHECK_STR(cmd, "mail -s hi bob");
	CHECK_STR(in, "line 1\nline 2");
	snprintf(cmd, sizeof(cmd), "date +\\%%s");
	cron_cmd_split(cmd, &in);
	CHECK_STR(cmd, "date +%s");
	CHECK_STR(in, "");
}

int
main(void)
{
	test_fields();
	test_keywords_and_vars();
	test_errors();
	test_check();
	test_due();
	test_split();
	test_desync();
	UNIT_DONE();
}
