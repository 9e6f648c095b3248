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
