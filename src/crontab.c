/*
 * crontab.c: the crontab(5) format, compiled into a bounded schedule.
 *
 * crontab_parse() runs as the locker, in its sandbox (cron_task.c): the
 * bytes are the locker's.  It reads what crontab(5) says a crontab holds:
 *
 *   # a comment; blank lines
 *   NAME = value          a variable (MAILTO=, PATH=, ...; quotes stripped)
 *   m h dom mon dow cmd   five fields: '*', N, N-M, any of these /STEP,
 *                         lists with ','; jan..dec and sun..sat by name;
 *                         day of week 7 is Sunday too
 *   @reboot cmd           @hourly @daily @midnight @weekly @monthly
 *                         @yearly @annually
 *
 * Any error refuses the whole crontab with "crontab:LINE: what is wrong":
 * half a schedule would run jobs the locker did not mean to run.  Bounds:
 * CRON_FILE_MAX bytes, CRON_LINE_MAX a line, CRON_ENTRIES_MAX jobs and
 * CRON_VARS_MAX variables; a NUL or a control character is an error.
 *
 * The master checks what it receives again with cron_sched_check(), and
 * runs it with cron_entry_due() and cron_spread(), all here so that the
 * unit tests and the fuzz target see the one definition.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "crontab.h"

struct field {
	const char	*what;		/* for errors */
	int		 lo, hi;
	const char *const *names;	/* names[i] is lo + i; NULL: numbers only */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day of week", 0, 7, day_names },
};

static const struct {
	const char	*name;
	enum cron_when	 when;
} keywords[] = {
	{ "@reboot", CW_REBOOT },
	{ "@hourly", CW_HOURLY },
	{ "@daily", CW_DAILY },
	{ "@midnight", CW_DAILY },
	{ "@weekly", CW_WEEKLY },
	{ "@monthly", CW_MONTHLY },
	{ "@yearly", CW_YEARLY },
	{ "@annually", CW_YEARLY },
};

static int
fail(struct cron_sched *s, unsigned line, const char *fmt, ...)
{
	char	what[CRON_ERR_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	s->err_line = (uint16_t)(line > 65535 ? 65535 : line);
	snprintf(s->err, sizeof(s->err), "crontab:%u: %s", line, what);
	return -1;
}

/* A number or a name of f at *p; -1 if there is none. */
static int
field_value(const struct field *f, const char **p)
{
	const char	*q = *p;
	int		 v = 0, i;

	if (isdigit((unsigned char)*q)) {
		for (; isdigit((unsigned char)*q); q++) {
			v = v * 10 + (*q - '0');
			if (v > 1000)
				return -1;
		}
		*p = q;
		return v;
	}
	for (i = 0; f->names != NULL && f->names[i] != NULL; i++)
		if (strncasecmp(q, f->names[i], 3) == 0 && !isalpha((unsigned char)q[3])) {
			*p = q + 3;
			return f->lo + i;
		}
	return -1;
}

/* Sets bits lo..hi by step in *bits; day of week 7 is Sunday (0). */
static void
set_range(uint64_t *bits, const struct field *f, int lo, int hi, int step)
{
	int v;

	for (v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << (f == &fields[4] && v == 7 ? 0 : v);
}

/* One item of a list: '*', N or N-M, then /STEP. */
static int
field_item(const struct field *f, const char **p, uint64_t *bits, struct cron_sched *s,
    unsigned line)
{
	int lo, hi, step = 1, ranged = 0;

	if (**p == '*') {
		lo = f->lo;
		hi = f->hi == 7 ? 6 : f->hi;
		(*p)++;
		ranged = 1;
	} else {
		if ((lo = field_value(f, p)) == -1)
			return fail(s, line, "the %s field: \"%.20s\" is not a number%s", f->what,
			    *p, f->names ? " or a name" : "");
		hi = lo;
		if (**p == '-') {
			(*p)++;
			if ((hi = field_value(f, p)) == -1)
				return fail(s, line, "the %s field: a range needs an end", f->what);
			ranged = 1;
		}
		if (lo < f->lo || lo > f->hi || hi < f->lo || hi > f->hi)
			return fail(s, line, "the %s field: %d is out of range (%d-%d)", f->what,
			    lo < f->lo || lo > f->hi ? lo : hi, f->lo, f->hi);
		if (lo > hi)
			return fail(s, line, "the %s field: the range %d-%d runs backwards",
			    f->what, lo, hi);
	}
	if (**p == '/') {
		(*p)++;
		if (!isdigit((unsigned char)**p) || (step = field_value(f, p)) <= 0 ||
		    step > f->hi - f->lo + 1)
			return fail(s, line, "the %s field: a step is a number from 1 to %d",
			    f->what, f->hi - f->lo + 1);
		/* N/STEP: from N to the field's end (7 for days of the week, which
		 * is Sunday again), as Vixie cron reads it. */
		if (!ranged)
			hi = f->hi;
	}
	set_range(bits, f, lo, hi, step);
	return 0;
}

/* A whole field (a list) up to the next blank. */
static int
field_parse(const struct field *f, const char **p, uint64_t *bits, struct cron_sched *s,
    unsigned line)
{
	*bits = 0;
	for (;;) {
		if (field_item(f, p, bits, s, line) == -1)
			return -1;
		if (**p != ',')
			break;
		(*p)++;
	}
	if (**p != ' ' && **p != '\t' && **p != '\0')
		return fail(s, line, "the %s field: unexpected \"%c\"", f->what, **p);
	return 0;
}

static const char *
skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int
add_entry(struct cron_sched *s, unsigned line, const char *spec, const char *cmd,
    struct cron_entry **out)
{
	struct cron_entry *e;
	size_t n = strlen(cmd);

	while (n > 0 && (cmd[n - 1] == ' ' || cmd[n - 1] == '\t'))
		n--;
	if (n == 0)
		return fail(s, line, "no command");
	if (n >= CRON_CMD_MAX)
		return fail(s, line, "the command is longer than %d bytes", CRON_CMD_MAX - 1);
	if (s->nentries == CRON_ENTRIES_MAX)
		return fail(s, line, "more than %d jobs", CRON_ENTRIES_MAX);
	e = &s->e[s->nentries++];
	memset(e, 0, sizeof(*e));
	memcpy(e->cmd, cmd, n);
	/* The time as written, blanks squeezed to one space. */
	for (n = 0; spec < cmd && n + 1 < sizeof(e->spec); spec++)
		if (*spec != ' ' && *spec != '\t')
			e->spec[n++] = *spec;
		else if (n > 0 && e->spec[n - 1] != ' ')
			e->spec[n++] = ' ';
	while (n > 0 && e->spec[n - 1] == ' ')
		e->spec[--n] = '\0';
	e->line = (uint16_t)line;
	*out = e;
	return 0;
}

static int
keyword_line(struct cron_sched *s, unsigned line, const char *p)
{
	struct cron_entry	*e;
	size_t			 i, n = strcspn(p, " \t");

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i].name) == n && strncasecmp(p, keywords[i].name, n) == 0)
			break;
	if (i == sizeof(keywords) / sizeof(keywords[0]))
		return fail(s, line, "\"%.*s\" is no keyword (@reboot, @hourly, @daily, "
		    "@weekly, @monthly, @yearly)", (int)(n > 20 ? 20 : n), p);
	if (add_entry(s, line, p, skip_blanks(p + n), &e) == -1)
		return -1;
	e->when = (uint8_t)keywords[i].when;
	/* Midnight of the period's first day: cron_spread() moves it. */
	e->minutes = 1;
	e->hours = 1;
	e->mdays = e->when == CW_HOURLY || e->when == CW_DAILY || e->when == CW_WEEKLY ?
	    0xfffffffe : 2;
	e->months = e->when == CW_YEARLY ? 2 : 0x1ffe;
	e->wdays = e->when == CW_WEEKLY ? 1 : 0x7f;
	if (e->when == CW_HOURLY)
		e->hours = 0xffffff;
	e->mday_star = e->wday_star = 1;
	return 0;
}

static int
fields_line(struct cron_sched *s, unsigned line, const char *p)
{
	struct cron_entry	 tmp, *e;
	uint64_t		 bits[5];
	const char		*start = p;
	int			 i;

	memset(&tmp, 0, sizeof(tmp));
	for (i = 0; i < 5; i++) {
		if (*p == '\0')
			return fail(s, line, "the %s field is missing", fields[i].what);
		if (i == 2)
			tmp.mday_star = *p == '*';
		if (i == 4)
			tmp.wday_star = *p == '*';
		if (field_parse(&fields[i], &p, &bits[i], s, line) == -1)
			return -1;
		p = skip_blanks(p);
	}
	if (add_entry(s, line, start, p, &e) == -1)
		return -1;
	e->when = CW_FIELDS;
	e->minutes = bits[0];
	e->hours = (uint32_t)bits[1];
	e->mdays = (uint32_t)bits[2];
	e->months = (uint16_t)bits[3];
	e->wdays = (uint8_t)bits[4];
	e->mday_star = tmp.mday_star;
	e->wday_star = tmp.wday_star;
	return 0;
}

/* MAILTO's addresses go to the mail role: a plain set of characters only. */
static int
mailto_ok(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("._+-@,", v[i]) == NULL)
			return 0;
	return 1;
}

/* NAME = value, NAME a shell name.  1: it is one (added, or an error),
 * 0: the line is not a variable. */
static int
var_line(struct cron_sched *s, unsigned line, const char *p, int *rc)
{
	const char	*v;
	size_t		 n = 0, vl;
	char		*out;

	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	v = skip_blanks(p + n);
	if (*v != '=')
		return 0;
	v = skip_blanks(v + 1);
	vl = strlen(v);
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
		v++;
		vl -= 2;
	}
	*rc = 0;
	if ((n == 7 && strncmp(p, "LOGNAME", 7) == 0) || (n == 4 && strncmp(p, "USER", 4) == 0))
		*rc = fail(s, line, "%.*s is the locker's name and cannot be set", (int)n, p);
	else if (s->nvars == CRON_VARS_MAX)
		*rc = fail(s, line, "more than %d variables", CRON_VARS_MAX);
	else if (n == 6 && strncmp(p, "MAILTO", 6) == 0 && !mailto_ok(v, vl))
		*rc = fail(s, line, "MAILTO: addresses are letters, digits and . _ + - @, "
		    "separated by commas");
	else if (n + 1 + vl >= CRON_VAR_MAX)
		*rc = fail(s, line, "the variable is longer than %d bytes", CRON_VAR_MAX - 1);
	else {
		out = s->vars[s->nvars++];
		memset(out, 0, CRON_VAR_MAX);
		snprintf(out, CRON_VAR_MAX, "%.*s=%.*s", (int)n, p, (int)vl, v);
	}
	return 1;
}

static int
one_line(struct cron_sched *s, unsigned line, const char *p)
{
	int rc;

	p = skip_blanks(p);
	if (*p == '\0' || *p == '#')
		return 0;
	if (*p == '@')
		return keyword_line(s, line, p);
	if (var_line(s, line, p, &rc))
		return rc;
	return fields_line(s, line, p);
}

int
crontab_parse(const char *buf, size_t len, struct cron_sched *s)
{
	char		 text[CRON_LINE_MAX + 1];
	size_t		 i = 0, n;
	unsigned	 line = 0;

	memset(s, 0, sizeof(*s));
	if (len > CRON_FILE_MAX)
		return fail(s, 1, "the crontab is larger than %d bytes", CRON_FILE_MAX);
	while (i < len) {
		line++;
		for (n = 0; i + n < len && buf[i + n] != '\n'; n++) {
			unsigned char ch = (unsigned char)buf[i + n];

			if (ch == '\0')
				return fail(s, line, "a NUL byte");
			/* A trailing CR (a file from Windows) is a blank. */
			if (ch < 0x20 && ch != '\t' && !(ch == '\r' && (i + n + 1 == len ||
			    buf[i + n + 1] == '\n')))
				return fail(s, line, "a control character (\\x%02x)", ch);
			if (ch == 0x7f)
				return fail(s, line, "a control character (\\x7f)");
			if (n >= CRON_LINE_MAX)
				return fail(s, line, "the line is longer than %d bytes",
				    CRON_LINE_MAX);
			text[n] = ch == '\r' ? ' ' : (char)ch;
		}
		text[n] = '\0';
		i += n + 1;
		if (one_line(s, line, text) == -1)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ checked again */

static int
str_ok(const char *s, size_t cap, int may_be_empty)
{
	size_t n = strnlen(s, cap), i;

	if (n == cap || (n == 0 && !may_be_empty))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return 0;
	return 1;
}

static const char *
entry_check(const struct cron_entry *e)
{
	if (e->when >= CW_MAX)
		return "an entry's time is of no known kind";
	if (e->minutes == 0 || (e->minutes >> 60) != 0 || e->hours == 0 || (e->hours >> 24) != 0 ||
	    (e->mdays & 1) != 0 || e->mdays == 0 || e->months == 0 || (e->months & 1) != 0 ||
	    (e->months >> 13) != 0 || e->wdays == 0 || (e->wdays >> 7) != 0)
		return "an entry's time is out of range";
	if (e->mday_star > 1 || e->wday_star > 1)
		return "an entry's day flags are not 0 or 1";
	if (!str_ok(e->cmd, sizeof(e->cmd), 0) || !str_ok(e->spec, sizeof(e->spec), 1))
		return "an entry's command is not a bounded line";
	return NULL;
}

const char *
cron_sched_check(const struct cron_sched *s)
{
	const char	*why, *eq;
	unsigned	 i;

	if (s->nentries > CRON_ENTRIES_MAX || s->nvars > CRON_VARS_MAX)
		return "more entries or variables than a crontab may have";
	if (!str_ok(s->err, sizeof(s->err), 1) || (s->err_line != 0) != (s->err[0] != '\0'))
		return "its error is not a bounded line";
	for (i = 0; i < s->nvars; i++) {
		if (!str_ok(s->vars[i], sizeof(s->vars[i]), 0) ||
		    (eq = strchr(s->vars[i], '=')) == NULL || eq == s->vars[i])
			return "a variable is not NAME=value";
		if (strncmp(s->vars[i], "LOGNAME=", 8) == 0 || strncmp(s->vars[i], "USER=", 5) == 0)
			return "a variable names the locker";
		if (strncmp(s->vars[i], "MAILTO=", 7) == 0 &&
		    !mailto_ok(s->vars[i] + 7, strlen(s->vars[i] + 7)))
			return "MAILTO is not a list of addresses";
	}
	for (i = 0; i < s->nentries; i++)
		if ((why = entry_check(&s->e[i])) != NULL)
			return why;
	return NULL;
}

/* ------------------------------------------------------------ running */

int
cron_entry_due(const struct cron_entry *e, const struct tm *tm)
{
	int mday, wday;

	if (e->when == CW_REBOOT)
		return 0;
	if (!(e->minutes >> tm->tm_min & 1) || !(e->hours >> tm->tm_hour & 1) ||
	    !(e->months >> (tm->tm_mon + 1) & 1))
		return 0;
	mday = e->mdays >> tm->tm_mday & 1;
	wday = e->wdays >> tm->tm_wday & 1;
	if (e->mday_star || e->wday_star)
		return mday && wday;
	return mday || wday;
}

void
cron_spread(struct cron_entry *e, uint32_t h)
{
	uint32_t minute = h % 60, hour = (h / 60) % 24;

	switch (e->when) {
	case CW_YEARLY:
		e->months = (uint16_t)(1u << (1 + (h / 1440 / 28) % 12));
		/* FALLTHROUGH */
	case CW_MONTHLY:
		/* Days 1..28: every month has them. */
		e->mdays = 1u << (1 + (h / 1440) % 28);
		e->hours = 1u << hour;
		e->minutes = (uint64_t)1 << minute;
		break;
	case CW_WEEKLY:
		e->wdays = (uint8_t)(1u << (h / 1440) % 7);
		/* FALLTHROUGH */
	case CW_DAILY:
		e->hours = 1u << hour;
		/* FALLTHROUGH */
	case CW_HOURLY:
		e->minutes = (uint64_t)1 << minute;
		break;
	default:
		break;
	}
}

uint32_t
cron_name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)*name;
		h *= 16777619u;
	}
	return h;
}

int64_t
cron_minute_of(uint32_t h, int64_t now_ms)
{
	int64_t t = now_ms - (int64_t)(h % 60000);

	/* Floor, not C's truncation: a clock before 1970 is not expected,
	 * but a minute must never repeat across zero. */
	return t >= 0 ? t / 60000 : -((-t + 59999) / 60000);
}

void
cron_cmd_split(char *cmd, const char **input)
{
	char	*r = cmd, *w = cmd, *in = NULL;

	for (; *r != '\0'; r++) {
		if (*r == '\\' && r[1] == '%') {
			*w++ = '%';
			r++;
		} else if (*r == '%' && in == NULL) {
			*w++ = '\0';
			in = w;
		} else if (*r == '%')
			*w++ = '\n';
		else
			*w++ = *r;
	}
	*w = '\0';
	*input = in != NULL ? in : w;
}

const char *
cron_sched_var(const struct cron_sched *s, const char *name)
{
	size_t	 n = strlen(name);
	unsigned i;

	/* The last line that sets it wins, as in a shell. */
	for (i = s->nvars; i-- > 0;)
		if (strncmp(s->vars[i], name, n) == 0 && s->vars[i][n] == '=')
			return s->vars[i] + n + 1;
	return NULL;
}

const char *
cron_when_name(unsigned when)
{
	static const char *const names[CW_MAX] = {
		[CW_FIELDS] = "", [CW_REBOOT] = "@reboot", [CW_HOURLY] = "@hourly",
		[CW_DAILY] = "@daily", [CW_WEEKLY] = "@weekly", [CW_MONTHLY] = "@monthly",
		[CW_YEARLY] = "@yearly",
	};

	return when < CW_MAX ? names[when] : "?";
}
