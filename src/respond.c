/*
 * respond.c: what front itself writes back: response heads, error pages,
 * redirects, a file sent with sendfile(), and the log records of a request
 * (the access log batch, and the lines for a locker's error log).
 *
 * Every answer, whoever produced it, ends in these few functions, so the
 * head front builds (never the worker's) and the log line it leaves are
 * made the same way for all of them.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "http.h"
#include "front.h"
#include "wire.h"

/* Apache's escaping: quotes, backslashes and non-printing bytes as \xHH. */
static size_t
log_escape(char *dst, size_t dstsz, const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < dstsz; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			o += hex_escape(dst + o, ch);
		else
			dst[o++] = (char)ch;
	}
	dst[o] = '\0';
	return o;
}

void
log_flush(void)
{
	if (F.loglen == 0)
		return;
	if (F.logfd == -1 || msg_send(F.logfd, MSG_LOG_ACCESS, F.logbuf, F.loglen, -1) == -1) {
		if (F.logfd != -1 && errno == EAGAIN && F.loglen < sizeof(F.logbuf) - 8192)
			return;	/* logd is busy: keep the batch a little longer */
		F.logdrops++;
		if (F.logdrops == 1 || F.logdrops % 1000 == 0)
			log_warnx("front %d: logd unreachable, %lu log batches dropped",
			    F.idx, F.logdrops);
	}
	F.loglen = 0;
}

/* One combined-format line, batched; logd writes it to the files. */
void
log_access(struct conn *c)
{
	char		 line[4096], reqline[1100], ref[600], ua[600], tbuf[40], bytes[24];
	struct tm	 tm;
	time_t		 t = c->started;
	size_t		 namelen = strlen(c->locker), linelen, end;
	int		 n;

	stats_count(F.master, c->locker, namelen, c->status);
	if (c->have_req) {
		size_t rl = (size_t)(c->req.version_minor >= 0 ?
		    (c->req.target.p + c->req.target.len + 9) - c->req.method_str.p : 0);

		if (c->req.method_str.p == NULL)
			rl = 0;
		/* A stream's head says HTTP/1.1 (h2req wrote it): the log says
		 * what the client spoke, as Apache's mod_http2 writes it. */
		if (c->h2s != NULL && rl > 9)
			rl -= 9;
		log_escape(reqline, sizeof(reqline), c->req.method_str.p, rl > 1024 ? 1024 : rl);
		if (c->h2s != NULL && rl > 0 && strlen(reqline) + 10 < sizeof(reqline))
			strcat(reqline, " HTTP/2.0");
		log_escape(ref, sizeof(ref), c->req.referer.p ? c->req.referer.p : "-",
		    c->req.referer.p ? (c->req.referer.len > 512 ? 512 : c->req.referer.len) : 1);
		log_escape(ua, sizeof(ua), c->req.user_agent.p ? c->req.user_agent.p : "-",
		    c->req.user_agent.p ? (c->req.user_agent.len > 512 ? 512 :
		    c->req.user_agent.len) : 1);
	} else {
		reqline[0] = '\0';
		snprintf(ref, sizeof(ref), "-");
		snprintf(ua, sizeof(ua), "-");
	}
	if (t != F.logtime_t) {
		localtime_r(&t, &tm);
		strftime(F.logtime, sizeof(F.logtime), "%d/%b/%Y:%H:%M:%S %z", &tm);
		F.logtime_t = t;
	}
	memcpy(tbuf, F.logtime, sizeof(F.logtime));
	if (c->body_bytes)
		snprintf(bytes, sizeof(bytes), "%lld", (long long)c->body_bytes);
	else
		snprintf(bytes, sizeof(bytes), "-");
	n = snprintf(line, sizeof(line), "%s - - [%s] \"%s\" %d %s \"%s\" \"%s\"",
	    c->peer, tbuf, reqline, c->status, bytes, ref, ua);
	if (n < 0)
		return;
	linelen = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	/* A record (wire.c) that does not fit sends the batch first. */
	if (1 + namelen + 2 + linelen > sizeof(F.logbuf) - F.loglen)
		log_flush();
	if ((end = wire_log_put(F.logbuf, sizeof(F.logbuf), F.loglen, c->locker, namelen,
	    line, linelen)) == 0)
		return;
	if (F.loglen == 0)
		F.log_first = loop_now;
	F.loglen = end;
}

void
head_begin(struct conn *c, int status)
{
	if (c->file_fd != -1) {
		/* an answer replaced before it went out */
		close(c->file_fd);
		c->file_fd = -1;
	}
	c->status = status;
	c->outoff = 0;
	c->out_full = 0;
	c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
	    "HTTP/1.1 %d %s\r\nServer: " SERVER_SOFTWARE "\r\nDate: %s\r\n",
	    status, http_reason(status), F.date);
	if (c->hsts)
		head_add(c, "Strict-Transport-Security: max-age=%u\r\n", F.conf.hsts_max_age);
	c->own_page = 0;
	c->xhdr_at = c->outlen;
	if (c->xhdr != NULL && c->xhdr_len > 0)
		head_add(c, "%.*s", (int)c->xhdr_len, c->xhdr);
	c->xhdr_end = c->outlen;
}

/* The extra fields of a worker's answer (checked by wire_response_check()). */
void
xhdr_set(struct conn *c, const char *p, size_t len, size_t olen)
{
	xhdr_clear(c);
	if (len + olen == 0 || (c->xhdr = malloc(len + olen)) == NULL)
		return;
	memcpy(c->xhdr, p, len + olen);
	c->xhdr_len = len;
	c->hops_len = olen;
}

void
xhdr_clear(struct conn *c)
{
	free(c->xhdr);
	c->xhdr = NULL;
	c->xhdr_len = 0;
	c->hops_len = 0;
	c->doc_status = 0;
}

void __attribute__((format(printf, 2, 3)))
head_add(struct conn *c, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(c->out + c->outlen, sizeof(c->out) - c->outlen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(c->out) - c->outlen)
		c->outlen += (size_t)n;
	else if (n > 0)
		c->out_full = 1;	/* the caller decides: never a head with a hole */
}

void
head_end(struct conn *c)
{
	if (c->keep_alive && c->nreq >= F.conf.keepalive_requests)
		c->keep_alive = 0;
	if (F.stopping)
		c->keep_alive = 0;
	if (c->hops_len > 0)
		hdrops_apply(c);
	if (!c->keep_alive)
		head_add(c, "Connection: close\r\n\r\n");
	else if (c->have_req && c->req.version_minor == 0)
		head_add(c, "Connection: keep-alive\r\n\r\n");
	else
		head_add(c, "\r\n");
}

/* One line for error.log: what went wrong on the server's side. */
static void
log_error(struct conn *c, int status)
{
	char	line[1200], path[600];
	int	n;

	if (F.logfd == -1)
		return;
	log_escape(path, sizeof(path), c->path, strnlen(c->path, 512));
	n = snprintf(line, sizeof(line), "[client %s] locker %s: %d %s for %s", c->peer,
	    c->locker[0] ? c->locker : "-", status, http_reason(status), path);
	if (n > 0)
		msg_send(F.logfd, MSG_LOG_ERROR, line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1, -1);
}

/* A small HTML page for an error; keep says whether the stream is still in sync. */
void
send_error(struct conn *c, int status, int keep)
{
	char	body[512];
	int	blen;

	if (c->have_req && (status == 500 || (status >= 502 && status <= 504)))
		log_error(c, status);

	blen = snprintf(body, sizeof(body),
	    "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
	    "<body><h1>%d %s</h1><hr><address>" SERVER_SOFTWARE "</address></body></html>\n",
	    status, http_reason(status), status, http_reason(status));
	if (!keep)
		c->keep_alive = 0;
	head_begin(c, status);
	c->own_page = 1;
	head_add(c, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n", blen);
	if (status == 405)
		head_add(c, "Allow: GET, HEAD\r\n");
	if (status == 503)	/* busy (max-scripts, max-workers) or stopping */
		head_add(c, "Retry-After: 1\r\n");
	head_end(c);
	if (!(c->have_req && c->req.method == HTTP_M_HEAD) &&
	    c->outlen + (size_t)blen <= sizeof(c->out)) {
		memcpy(c->out + c->outlen, body, (size_t)blen);
		c->outlen += (size_t)blen;
		c->body_bytes = blen;
	}
	conn_set_state(c, C_SEND, F.conf.send_timeout);
}

void
send_redirect(struct conn *c, const char *path)
{
	char	loc[4200], enc[8400];
	const char *q = c->req.query.p;

	snprintf(loc, sizeof(loc), "%s/", path);
	if (http_encode_path(loc, enc, sizeof(enc)) < 0) {
		send_error(c, 414, 1);
		return;
	}
	head_begin(c, 301);
	c->own_page = 1;
	if (q != NULL && c->req.query.len < 2048)
		head_add(c, "Location: %s?%.*s\r\n", enc, (int)c->req.query.len, q);
	else
		head_add(c, "Location: %s\r\n", enc);
	head_add(c, "Content-Length: 0\r\n");
	/* Not a 301 without its Location: the URI is too long to send back. */
	if (c->out_full) {
		send_error(c, 414, 1);
		return;
	}
	head_end(c);
	conn_set_state(c, C_SEND, F.conf.send_timeout);
}

/* The port of the first TLS listener; 0 if there is none. */
static unsigned
https_port(void)
{
	int i;

	for (i = 0; i < F.conf.nlisten; i++)
		if (F.conf.listen[i].flags & LISTEN_TLS)
			return (unsigned)atoi(F.conf.listen[i].port);
	return 0;
}

int
https_only_check(struct conn *c, const struct route_result *rr)
{
	char		host[HOSTNAME_MAX + 1], port[8] = "";
	unsigned	p = https_port();
	const char	*q = c->req.query.p;

	if (!(rr->https == ROUTE_HTTPS_ONLY ||
	    (rr->https == ROUTE_HTTPS_DEFAULT && F.conf.https_only)))
		return 0;
	if (conn_is_tls(c)) {
		c->hsts = F.conf.hsts_max_age > 0;
		return 0;
	}
	/* The CA asks for HTTP-01's token over plain HTTP (RFC 8555 8.3);
	 * without a TLS listener there is nowhere to send anyone. */
	if (strncmp(c->path, "/.well-known/acme-challenge/", 28) == 0 || p == 0 ||
	    c->req.host.p == NULL ||
	    route_canon_host(c->req.host.p, c->req.host.len, host, sizeof(host)) == -1)
		return 0;
	if (p != 443)
		snprintf(port, sizeof(port), ":%u", p);
	/* The path and query as the client sent them: the parser let through
	 * only what a request-target may hold, so they go back as they came. */
	head_begin(c, 301);
	head_add(c, "Location: https://%s%s%.*s%s%.*s\r\nContent-Length: 0\r\n", host, port,
	    (int)c->req.path.len, c->req.path.p, q != NULL ? "?" : "",
	    q != NULL ? (int)c->req.query.len : 0, q != NULL ? q : "");
	/* Not a 301 without its Location: the URI is too long to send back. */
	if (c->out_full) {
		send_error(c, 414, 1);
		return 1;
	}
	head_end(c);
	conn_set_state(c, C_SEND, F.conf.send_timeout);
	return 1;
}

/* Weak comparison of an If-None-Match list against our tag; '*' matches. */
static int
etag_match(struct http_str list, const char *tag)
{
	size_t		 tl = strlen(tag), i = 0;
	const char	*p = list.p;

	while (i < list.len) {
		size_t start, end;

		while (i < list.len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		if (i < list.len && p[i] == '*')
			return 1;
		if (i + 2 <= list.len && p[i] == 'W' && p[i + 1] == '/')
			i += 2;
		start = i;
		if (i < list.len && p[i] == '"') {
			i++;
			while (i < list.len && p[i] != '"')
				i++;
			if (i < list.len)
				i++;
		} else
			while (i < list.len && p[i] != ',')
				i++;
		end = i;
		if (end - start == tl && memcmp(p + start, tag, tl) == 0)
			return 1;
		while (i < list.len && p[i] != ',')
			i++;
	}
	return 0;
}

/*
 * Send an open file: the head comes from our own fstat of it, never from
 * what the worker said.  The descriptor is ours to close.
 */
/*
 * A file's ETag as Apache's FileETag makes it (inode, size, mtime in
 * microseconds, in that order, hex, those the flags keep); "" for None.
 */
static void
make_etag(char *out, size_t cap, const struct stat *st, unsigned flags)
{
	unsigned long long	v[3];
	int			n = 0, i;
	size_t			len;

	if (flags & WRESP_ETAG_INODE)
		v[n++] = (unsigned long long)st->st_ino;
	if (!(flags & WRESP_ETAG_NOSIZE))
		v[n++] = (unsigned long long)st->st_size;
	if (!(flags & WRESP_ETAG_NOMTIME))
		v[n++] = (unsigned long long)st->st_mtim.tv_sec * 1000000ULL +
		    (unsigned long long)st->st_mtim.tv_nsec / 1000;
	out[0] = '\0';
	if (n == 0)
		return;
	len = (size_t)snprintf(out, cap, "\"");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%llx", i ? "-" : "", v[i]);
	snprintf(out + len, cap - len, "\"");
}

void
send_file(struct conn *c, int fd, const char *ctype, const struct stat *stp, unsigned flags)
{
	struct stat	st = *stp;
	char		etag[64], lastmod[30];
	off_t		off = 0, count;
	int		status = 200, r;

	count = st.st_size;
	make_etag(etag, sizeof(etag), &st, flags);
	http_format_date(st.st_mtime, lastmod);

	if (c->req.if_none_match.p != NULL) {
		if (etag_match(c->req.if_none_match, etag))
			status = 304;
	} else if (c->req.if_modified_since.p != NULL) {
		time_t ims = http_parse_date(c->req.if_modified_since.p,
		    c->req.if_modified_since.len);

		if (ims != (time_t)-1 && st.st_mtime <= ims)
			status = 304;
	}
	if (status == 200 && c->req.range.p != NULL && c->req.method == HTTP_M_GET) {
		int use = 1;

		if (c->req.if_range.p != NULL) {
			if (c->req.if_range.p[0] == '"')
				use = etag[0] != '\0' && c->req.if_range.len == strlen(etag) &&
				    memcmp(c->req.if_range.p, etag, strlen(etag)) == 0;
			else
				use = http_parse_date(c->req.if_range.p, c->req.if_range.len) ==
				    st.st_mtime;
		}
		if (use) {
			r = http_parse_range(c->req.range.p, c->req.range.len, st.st_size,
			    &off, &count);
			if (r == -1) {
				close(fd);
				c->keep_alive = c->keep_alive && 1;
				head_begin(c, 416);
				head_add(c, "Content-Range: bytes */%lld\r\nContent-Length: 0\r\n",
				    (long long)st.st_size);
				head_end(c);
				c->state = C_SEND;
				return;
			}
			if (r == 1)
				status = 206;
			else {
				off = 0;
				count = st.st_size;
			}
		}
	}

	head_begin(c, status);
	if (status == 304) {
		head_add(c, "%s%s%sLast-Modified: %s\r\n", etag[0] ? "ETag: " : "", etag,
		    etag[0] ? "\r\n" : "", lastmod);
		head_end(c);
		close(fd);
		c->state = C_SEND;
		return;
	}
	head_add(c, "Content-Type: %s\r\nContent-Length: %lld\r\nLast-Modified: %s\r\n"
	    "%s%s%sAccept-Ranges: bytes\r\n", ctype, (long long)count, lastmod,
	    etag[0] ? "ETag: " : "", etag, etag[0] ? "\r\n" : "");
	if (status == 206)
		head_add(c, "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)off,
		    (long long)(off + count - 1), (long long)st.st_size);
	head_end(c);
	if (c->req.method == HTTP_M_HEAD || count == 0) {
		close(fd);
	} else {
		c->file_fd = fd;
		c->file_off = off;
		c->file_left = count;
	}
	conn_set_state(c, C_SEND, F.conf.send_timeout);
}

void
send_doc(struct conn *c, int fd, const char *ctype, const struct stat *st, int status)
{
	/* An error's body: no 304 or range of it, no validator to ask one with. */
	head_begin(c, status);
	head_add(c, "Content-Type: %s\r\nContent-Length: %lld\r\n", ctype,
	    (long long)st->st_size);
	head_end(c);
	if (c->req.method == HTTP_M_HEAD || st->st_size == 0) {
		close(fd);
	} else {
		c->file_fd = fd;
		c->file_off = 0;
		c->file_left = st->st_size;
	}
	conn_set_state(c, C_SEND, F.conf.send_timeout);
}

/* Write the head, then the file; 1 when done, 0 when the socket is full. */
int
send_some(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = cio_send(c, c->out + c->outoff, c->outlen - c->outoff,
		    c->file_fd != -1);

		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->outoff += (size_t)n;
	}
	while (c->file_fd != -1 && c->file_left > 0) {
		ssize_t n = cio_sendfile(c, c->file_fd, &c->file_off,
		    c->file_left > (1 << 20) ? (1 << 20) : (size_t)c->file_left);

		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		if (n == 0)
			return -1;	/* the file shrank under us: the length is a lie now */
		c->file_left -= n;
		c->body_bytes += n;
		conn_set_state(c, c->state, F.conf.send_timeout);
	}
	if (c->file_fd != -1) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	/* TLS: the last records may still wait for room in the socket. */
	return cio_done(c);
}

/*
 * [u8 name length][name][data] to logd (wire.c; logd checks the name).  -1 when
 * it did not go: logd is behind, and this channel is every locker's.
 */
static int
logd_send_locker(enum msg_type type, const char *locker, const void *data, size_t len)
{
	static char	msg[1 + LOCKER_NAME_MAX + LOG_RUN_MAX];
	size_t		n;

	if (F.logfd == -1 || len > LOG_RUN_MAX ||
	    (n = wire_locker_pack(msg, sizeof(msg), locker, data, len)) == 0)
		return -1;
	return msg_send(F.logfd, type, msg, n, -1);
}

/*
 * The budget front keeps for what it sends to a locker's error log (its
 * PHP's errors, mostly): twice its log-rate,
 * so that logd (which keeps it exactly, for every path) decides what is
 * written, while a flood stops here, before the channel to logd, which
 * every locker's lines share.  What front drops, logd is told, to count.
 */
static int
locker_log_budget(struct wchan *w, const char *line, size_t len)
{
	uint64_t	rate = config_limit_of(&F.conf, w->own, LIMIT_LOG_RATE);
	uint64_t	told;

	if (!bucket_take(&w->errb, rate * 2, bucket_cap(rate * 2), loop_now, len)) {
		w->err_dropped += log_cost(line, len);
		return 0;
	}
	if (w->err_dropped > 0) {
		told = w->err_dropped;
		if (logd_send_locker(MSG_LOG_LOCKER_DROPPED, w->locker, &told,
		    sizeof(told)) == 0)
			w->err_dropped = 0;
	}
	return 1;
}

/*
 * A line for the error log of the request's locker: a FastCGI
 * application's stderr, or front's word on why a script's answer was
 * refused.
 */
void
locker_log_line(void *arg, const char *line, size_t len)
{
	struct conn	*c = arg;
	struct wchan	*w = wchan_find(c->locker);

	len = len < LOG_RUN_MAX ? len : LOG_RUN_MAX;
	if (w != NULL && !locker_log_budget(w, line, len))
		return;
	if (logd_send_locker(MSG_LOG_LOCKER_ERROR, c->locker, line, len) == -1 && w != NULL)
		w->err_dropped += log_cost(line, len);
}
