/*
 * linebuf.c: a byte stream cut into log lines.
 *
 * A script's stderr pipe and a FastCGI pool's STDERR records arrive cut
 * wherever the kernel or the pool's buffers cut them, while an error log
 * wants one line per line the program wrote.  Bytes wait here until their
 * newline.  A line longer than LOG_LINE_MAX goes out in pieces of that
 * size: nothing is dropped here (the locker's log budget, in logd, decides
 * that) and nothing waits without bound.  The buffer is only allocated for
 * a partial line, so an idle connection costs a pointer.
 */
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"

void
linebuf_feed(struct linebuf *lb, const char *p, size_t n, line_fn *fn, void *arg)
{
	while (n > 0) {
		const char	*nl = memchr(p, '\n', n);
		size_t		 take = nl != NULL ? (size_t)(nl - p) : n, k;

		/* A whole line and nothing before it: no copy. */
		if (lb->len == 0 && nl != NULL && take <= LOG_LINE_MAX) {
			fn(arg, p, take);
			p += take + 1;
			n -= take + 1;
			continue;
		}
		if (lb->buf == NULL && (lb->buf = malloc(LOG_LINE_MAX)) == NULL) {
			fn(arg, p, take < LOG_LINE_MAX ? take : LOG_LINE_MAX);
			return;	/* no memory: the rest of this piece is lost */
		}
		k = take < LOG_LINE_MAX - lb->len ? take : LOG_LINE_MAX - lb->len;
		memcpy(lb->buf + lb->len, p, k);
		lb->len += k;
		p += k;
		n -= k;
		if (lb->len == LOG_LINE_MAX || (k == take && nl != NULL)) {
			fn(arg, lb->buf, lb->len);
			lb->len = 0;
		}
		if (k == take && nl != NULL) {
			p++;	/* the newline */
			n--;
		}
	}
}

/*
 * The same, but whole lines that arrive together go to fn as one run (the
 * newlines between them kept, the last one not), of at most LOG_RUN_MAX
 * bytes: one message to logd for many lines, not one each.  A run may hold
 * lines longer than LOG_LINE_MAX: logd cuts them.
 */
void
linebuf_feed_runs(struct linebuf *lb, const char *p, size_t n, line_fn *fn, void *arg)
{
	const char	*nl, *last;
	size_t		 k;

	if (lb->len > 0) {	/* first, the end of the line that waits */
		if ((nl = memchr(p, '\n', n)) == NULL) {
			linebuf_feed(lb, p, n, fn, arg);
			return;
		}
		k = (size_t)(nl - p) + 1;
		linebuf_feed(lb, p, k, fn, arg);
		p += k;
		n -= k;
	}
	while (n > 0) {
		k = n < LOG_RUN_MAX ? n : LOG_RUN_MAX;
		if ((last = memrchr(p, '\n', k)) == NULL) {
			linebuf_feed(lb, p, n, fn, arg);
			return;
		}
		fn(arg, p, (size_t)(last - p));
		k = (size_t)(last - p) + 1;
		p += k;
		n -= k;
	}
}

/*
 * The bytes these lines would take in a log (unescaped), as the log
 * budget counts them: what was dropped on the way is told in these units.
 */
uint64_t
log_cost(const char *text, size_t len)
{
	const char	*p = text, *end = text + len;
	uint64_t	 lines = 1;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	/* Each newline becomes the end of a line; each line gets a stamp and a newline. */
	return len - (lines - 1) + lines * (LOG_STAMP_LEN + 1);
}

/* The stream ended: what is left is a line of its own. */
void
linebuf_flush(struct linebuf *lb, line_fn *fn, void *arg)
{
	if (lb->len > 0)
		fn(arg, lb->buf, lb->len);
	free(lb->buf);
	lb->buf = NULL;
	lb->len = 0;
}
