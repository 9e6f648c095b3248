/*
 * crontab.h: a locker's cron_scripts/crontab, compiled.
 *
 * The crontab is the locker's own bytes, so it is parsed as the locker, in
 * its sandbox (cron_task.c); what reaches the master is a struct
 * cron_sched, fixed-size and bounded, which the master checks again
 * (cron_sched_check()) before it keeps or runs any of it.  No pointer, no
 * length the receiver must trust: every string is a NUL-terminated array.
 */
#ifndef LOCKERD_CRONTAB_H
#define LOCKERD_CRONTAB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CRON_ENTRIES_MAX	32	/* jobs in one crontab */
#define CRON_CMD_MAX		1024	/* a command, with its NUL */
#define CRON_VARS_MAX		16	/* NAME=value lines */
#define CRON_VAR_MAX		256	/* "NAME=value", with its NUL */
#define CRON_ERR_MAX		160	/* "crontab:LINE: what is wrong" */
#define CRON_SPEC_MAX		64	/* the time as written ("0 5 * * 1"), cut to fit */
#define CRON_FILE_MAX		(64 * 1024)	/* bytes of a crontab read at most */
#define CRON_LINE_MAX		(CRON_CMD_MAX + 128)

/* When an entry runs: its five fields, or a keyword of crontab(5). */
enum cron_when {
	CW_FIELDS = 0,
	CW_REBOOT,		/* once per start of lockerd */
	CW_HOURLY,		/* the @ keywords: once a period, at a minute of it */
	CW_DAILY,		/* the master picks by a hash of the name (desync) */
	CW_WEEKLY,
	CW_MONTHLY,
	CW_YEARLY,
	CW_MAX
};

struct cron_entry {
	uint64_t	minutes;	/* bits 0..59 */
	uint32_t	hours;		/* bits 0..23 */
	uint32_t	mdays;		/* bits 1..31 */
	uint16_t	months;		/* bits 1..12 */
	uint8_t		wdays;		/* bits 0..6, Sunday 0 (7 is folded into 0) */
	uint8_t		when;		/* enum cron_when */
	/* crontab(5): when both day fields are restricted (neither starts
	 * with '*'), a day matching either runs the job. */
	uint8_t		mday_star, wday_star;
	uint16_t	line;		/* in the crontab, for `locker cron list` */
	char		spec[CRON_SPEC_MAX];	/* for `locker cron list` only */
	char		cmd[CRON_CMD_MAX];
};

struct cron_sched {
	uint16_t	nentries;
	uint16_t	nvars;
	uint16_t	err_line;	/* 0: compiled without an error */
	uint16_t	pad;
	char		err[CRON_ERR_MAX];	/* "crontab:LINE: ..." when err_line */
	char		vars[CRON_VARS_MAX][CRON_VAR_MAX];	/* "NAME=value" */
	struct cron_entry e[CRON_ENTRIES_MAX];
};

/*
 * Compiles len bytes of a crontab (no NUL needed) into *s.  0, or -1 with
 * s->err "crontab:LINE: what is wrong" and s->err_line; then nothing else
 * of *s is meant to be used: a crontab with an error is refused whole.
 */
int	crontab_parse(const char *buf, size_t len, struct cron_sched *s);
/* NULL if s is well-formed (bounds, bitmaps, strings), else what is not. */
const char *cron_sched_check(const struct cron_sched *s);
/* Whether e (CW_FIELDS, or spread by cron_spread()) runs at the minute tm. */
int	cron_entry_due(const struct cron_entry *e, const struct tm *tm);
/* An @hourly..@yearly entry's bitmaps: one minute of its period, from h. */
void	cron_spread(struct cron_entry *e, uint32_t h);
uint32_t cron_name_hash(const char *name);	/* FNV-1a: desync's */
/* The minute (since the epoch) a locker of hash h is in at now_ms (ms since
 * the epoch): its minutes begin h % 60000 ms into the clock's (desync). */
int64_t	cron_minute_of(uint32_t h, int64_t now_ms);
/*
 * crontab(5)'s '%': the command ends at the first '%' not escaped by
 * '\'; what follows is the job's stdin, each further '%' a newline.  cmd
 * becomes the command (escapes "\%" undone), *input the stdin ("" if
 * none), both within cmd's own bytes.
 */
void	cron_cmd_split(char *cmd, const char **input);
/* The value of NAME in s's variables, or NULL. */
const char *cron_sched_var(const struct cron_sched *s, const char *name);
const char *cron_when_name(unsigned when);	/* "@hourly", "" for fields */

#endif
