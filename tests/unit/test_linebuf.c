/* test_linebuf.c: a stream cut anywhere comes out as the lines written. */
#include "unit.h"
#include "lockerd.h"

static char	got[65536];
static size_t	gotlen;
static int	nlines;

/* Each line as "<line>|", so that empty lines and joins show. */
static void
take(void *arg, const char *line, size_t len)
{
	(void)arg;
	CHECK(len <= LOG_RUN_MAX);
	if (gotlen + len + 1 < sizeof(got)) {
		memcpy(got + gotlen, line, len);
		gotlen += len;
		got[gotlen++] = '|';
		got[gotlen] = '\0';
	}
	nlines++;
}

static void
reset(void)
{
	gotlen = 0;
	got[0] = '\0';
	nlines = 0;
}

/* The same text fed in pieces of every size from 1 to 7 gives the same lines. */
static void
test_pieces(void)
{
	const char	*text = "first\nsecond\n\nPHP Fatal error: x\n#0 {main}\npartial";
	size_t		 len = strlen(text), step, i;

	for (step = 1; step < 8; step++) {
		struct linebuf lb = { NULL, 0 };

		reset();
		for (i = 0; i < len; i += step)
			linebuf_feed(&lb, text + i, len - i < step ? len - i : step, take, NULL);
		CHECK_STR(got, "first|second||PHP Fatal error: x|#0 {main}|");
		linebuf_flush(&lb, take, NULL);
		CHECK_STR(got, "first|second||PHP Fatal error: x|#0 {main}|partial|");
		CHECK(lb.buf == NULL && lb.len == 0);
	}
}

/* A line longer than LOG_LINE_MAX: pieces of it, nothing lost, no empty line. */
static void
test_long_line(void)
{
	static char	 text[3 * LOG_LINE_MAX + 2];
	struct linebuf	 lb = { NULL, 0 };

	memset(text, 'x', 2 * LOG_LINE_MAX);
	text[2 * LOG_LINE_MAX] = '\n';
	reset();
	linebuf_feed(&lb, text, 2 * LOG_LINE_MAX + 1, take, NULL);
	CHECK_INT(nlines, 2);
	CHECK_INT(gotlen, 2 * LOG_LINE_MAX + 2);
	reset();
	linebuf_feed(&lb, text, 100, take, NULL);	/* a partial line first */
	linebuf_feed(&lb, text, 2 * LOG_LINE_MAX + 1, take, NULL);
	CHECK_INT(nlines, 3);
	CHECK_INT(gotlen, 2 * LOG_LINE_MAX + 100 + 3);
	linebuf_flush(&lb, take, NULL);
	CHECK_INT(nlines, 3);
}

/* Runs: the whole lines of a piece together, the partial one waits. */
static void
test_runs(void)
{
	const char	*text = "first\nsecond\n\nthird\npart";
	struct linebuf	 lb = { NULL, 0 };

	reset();
	linebuf_feed_runs(&lb, text, strlen(text), take, NULL);
	CHECK_STR(got, "first\nsecond\n\nthird|");
	linebuf_feed_runs(&lb, "ial\nmore\nend", 12, take, NULL);
	CHECK_STR(got, "first\nsecond\n\nthird|partial|more|");
	linebuf_flush(&lb, take, NULL);
	CHECK_STR(got, "first\nsecond\n\nthird|partial|more|end|");
}

/* A line costs its bytes, a stamp and a newline. */
static void
test_cost(void)
{
	CHECK_INT(log_cost("abc", 3), 3 + LOG_STAMP_LEN + 1);
	CHECK_INT(log_cost("a\nbc", 4), 3 + 2 * (LOG_STAMP_LEN + 1));
	CHECK_INT(log_cost("", 0), LOG_STAMP_LEN + 1);
}

int
main(void)
{
	test_cost();
	test_pieces();
	test_runs();
	test_long_line();
	UNIT_DONE();
}
