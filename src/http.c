/*
 * http.c: the HTTP/1.1 wire format (RFC 9110, RFC 9112) for front.
 *
 * Every byte that reaches these functions came from the internet.  The rules
 * are strict on purpose: wherever two implementations could disagree about
 * where a message ends (request smuggling) or which file a path names, we
 * refuse instead of guessing, and we say which status to answer with.
 */

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "http_int.h"

/* The classes of http_int.h, by byte. */
const uint8_t http_ctype[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 00 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 10 */
	0x04, 0x07, 0x06, 0x07, 0x07, 0x07, 0x07, 0x07, 0x06, 0x06, 0x07, 0x07, 0x06, 0x1f, 0x1f, 0x06,	/* 20 */
	0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x0e, 0x06, 0x06, 0x06, 0x06, 0x06,	/* 30 */
	0x06, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,	/* 40 */
	0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x0e, 0x06, 0x0e, 0x07, 0x1f,	/* 50 */
	0x07, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,	/* 60 */
	0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x06, 0x07, 0x06, 0x17, 0x00,	/* 70 */
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,	/* 80 */
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,	/* 90 */
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,	/* a0 */
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,	/* b0 */
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,	/* c0 */
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,	/* d0 */
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,	/* e0 */
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,	/* f0 */
};

/*
 * Eight bytes at a time (SWAR) for the long runs: request-targets, User-Agent,
 * Cookie.  ONES * n puts n in every byte of a word.
 */
#define ONES		UINT64_C(0x0101010101010101)
#define HIGHS		UINT64_C(0x8080808080808080)
#define HAS_LESS(x, n)	(((x) - ONES * (n)) & ~(x) & HIGHS)	/* n <= 128 */
#define HAS_BYTE(x, b)	HAS_LESS((x) ^ (ONES * (b)), 1)

static inline uint64_t
load64(const char *p)
{
	uint64_t	w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Length of the prefix of p[0..n) that is all VCHAR (0x21-0x7e). */
static size_t
span_vchar(const char *p, size_t n)
{
	size_t		i = 0;
	uint64_t	w;

	for (; i + 8 <= n; i += 8) {
		w = load64(p + i);
		if (HAS_LESS(w, 0x21) | HAS_BYTE(w, 0x7f) | (w & HIGHS))
			break;
	}
	while (i < n && IS(p[i], CT_TARGET))
		i++;
	return i;
}

/* Length of the prefix of p[0..n) that may appear in a field value. */
static size_t
span_field(const char *p, size_t n)
{
	size_t		i = 0;
	uint64_t	w;

	/* HTAB and obs-text drop to the byte loop, which knows them. */
	for (; i + 8 <= n; i += 8) {
		w = load64(p + i);
		if (HAS_LESS(w, 0x20) | HAS_BYTE(w, 0x7f))
			break;
	}
	while (i < n && IS(p[i], CT_FIELD))
		i++;
	return i;
}

/*
 * Comma-separated lists (RFC 9110 5.6.1).  list_next() yields one element
 * at a time with its OWS trimmed; empty elements are yielded too, so that
 * the callers that must refuse them can.
 */
struct list_iter {
	const char	*p;
	const char	*end;
	int		 more;
};

static void
list_init(struct list_iter *it, const char *p, size_t n)
{
	it->p = p;
	it->end = p + n;
	it->more = 1;
}

static int
list_next(struct list_iter *it, const char **ep, size_t *en)
{
	const char	*s, *e, *comma;

	if (!it->more)
		return 0;
	s = it->p;
	comma = memchr(s, ',', it->end - s);
	e = comma ? comma : it->end;
	it->p = comma ? comma + 1 : it->end;
	it->more = comma != NULL;
	while (s < e && is_ows(*s))
		s++;
	while (e > s && is_ows(e[-1]))
		e--;
	*ep = s;
	*en = e - s;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Request head                                                        */

/* What the header lines told us, before it is folded into the request. */
struct head_state {
	int	host_seen;
	int	cl_seen;
	int	te_seen;
	int	te_chunked;	/* how many "chunked" codings */
	int	te_unknown;	/* some coding we do not implement */
	int	conn_close;
	int	conn_keep;
};

static const struct http_str str_none = { NULL, 0 };

static const struct {
	const char		*name;
	enum http_method	 m;
} methods[] = {
	{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD }, { "POST", HTTP_M_POST },
	{ "PUT", HTTP_M_PUT }, { "DELETE", HTTP_M_DELETE }, { "OPTIONS", HTTP_M_OPTIONS },
	{ "PATCH", HTTP_M_PATCH }, { "CONNECT", HTTP_M_CONNECT }, { "TRACE", HTTP_M_TRACE },
};

static enum http_method
method_lookup(const char *m, size_t n)
{
	size_t i;

	/* Methods are case-sensitive (RFC 9110 9.1). */
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == n && memcmp(m, methods[i].name, n) == 0)
			return methods[i].m;
	return HTTP_M_UNKNOWN;
}

static int
valid_host(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!IS(p[i], CT_HOST))
			return 0;
	return 1;
}

/* Split p[0..n) (from the path on) at the first '?'. */
static void
split_query(struct http_request *req, const char *p, size_t n)
{
	const char	*q;

	q = memchr(p, '?', n);
	if (q == NULL) {
		req->path.p = p;
		req->path.len = n;
		req->query = str_none;
	} else {
		req->path.p = p;
		req->path.len = q - p;
		req->query.p = q + 1;
		req->query.len = n - (q - p) - 1;
	}
}

/*
 * The four request-target forms of RFC 9112 3.2.  *authority is set for
 * absolute-form and authority-form: it replaces the Host header.
 */
static int
parse_target(struct http_request *req, struct http_str *authority)
{
	const char	*t = req->target.p, *a, *end;
	size_t		 n = req->target.len, skip;

	*authority = str_none;
	/* A fragment is never sent (RFC 9110 7.1); one here is an attack or a bug. */
	if (memchr(t, '#', n) != NULL)
		return -400;

	if (req->method == HTTP_M_CONNECT) {
		/* authority-form: host ":" port, and nothing else. */
		a = memrchr(t, ':', n);
		if (a == NULL || a == t || a + 1 == t + n || !valid_host(t, n))
			return -400;
		for (a++; a < t + n; a++)
			if (!IS(*a, CT_DIGIT))
				return -400;
		authority->p = t;
		authority->len = n;
		req->path = str_none;
		req->query = str_none;
		return 0;
	}
	if (t[0] == '/') {
		split_query(req, t, n);
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (req->method != HTTP_M_OPTIONS)
			return -400;
		req->path = req->target;
		req->query = str_none;
		return 0;
	}

	/* absolute-form; only our own schemes make sense to an origin server. */
	if (n >= 7 && ci_eq(t, "http://", 7))
		skip = 7;
	else if (n >= 8 && ci_eq(t, "https://", 8))
		skip = 8;
	else
		return -400;
	a = t + skip;
	end = t + n;
	authority->p = a;
	while (a < end && *a != '/' && *a != '?')
		a++;
	authority->len = a - authority->p;
	/* No userinfo (RFC 9110 4.2.4) and no empty host. */
	if (authority->len == 0 || !valid_host(authority->p, authority->len))
		return -400;
	if (a < end && *a == '/') {
		split_query(req, a, end - a);
	} else {
		/*
		 * An empty path means "/".  Point at the last '/' of "://" so
		 * that every pointer stays inside the caller's buffer.
		 */
		req->path.p = t + skip - 1;
		req->path.len = 1;
		if (a < end) {
			req->query.p = a + 1;
			req->query.len = end - a - 1;
		} else
			req->query = str_none;
	}
	return 0;
}

/* method SP request-target SP HTTP-version, with the line ending removed. */
static int
parse_request_line(const char *p, size_t n, struct http_request *req,
    struct http_str *authority)
{
	size_t	i, t;
	int	major, minor;

	for (i = 0; i < n && IS(p[i], CT_TCHAR); i++)
		;
	if (i == 0 || i == n || p[i] != ' ')
		return -400;
	req->method_str.p = p;
	req->method_str.len = i;
	req->method = method_lookup(p, i);

	/* Raw bytes above 0x7e are not a URI (RFC 3986); clients %-encode. */
	t = ++i;
	i += span_vchar(p + i, n - i);
	if (i == t || i == n || p[i] != ' ')
		return -400;
	req->target.p = p + t;
	req->target.len = i - t;

	/* Exactly "HTTP/" DIGIT "." DIGIT; the name is case-sensitive. */
	p += i + 1;
	n -= i + 1;
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !IS(p[5], CT_DIGIT) ||
	    p[6] != '.' || !IS(p[7], CT_DIGIT))
		return -400;
	major = p[5] - '0';
	minor = p[7] - '0';
	if (major != 1 || minor > 1)
		return -505;
	req->version_minor = minor;

	return parse_target(req, authority);
}

/*
 * A request line with no LF yet: refuse it early when it is already too
 * long, or when it cannot be HTTP (a TLS handshake on the plain port, say),
 * so that the connection does not sit on a buffer of garbage.
 */
static int
partial_request_line(const char *p, size_t n, size_t max_line)
{
	size_t	i, content = n;

	if (content > 0 && p[content - 1] == '\r')
		content--;
	if (content > max_line)
		return -414;
	for (i = 0; i < n && IS(p[i], CT_TCHAR); i++)
		;
	if (i < n && (i == 0 || p[i] != ' '))
		return -400;
	return 0;
}

/* One or more equal decimal values: "5" or "5, 5" (RFC 9110 8.6). */
static int
parse_content_length(const char *p, size_t n, int64_t *out)
{
	struct list_iter it;
	const char	*e;
	size_t		 en, i;
	int64_t		 v, first = -1;

	list_init(&it, p, n);
	while (list_next(&it, &e, &en)) {
		if (en == 0)
			return -1;
		v = 0;
		for (i = 0; i < en; i++) {
			if (!IS(e[i], CT_DIGIT))
				return -1;
			if (v > (INT64_MAX - (e[i] - '0')) / 10)
				return -1;
			v = v * 10 + (e[i] - '0');
		}
		if (first != -1 && v != first)
			return -1;
		first = v;
	}
	*out = first;
	return 0;
}

static int
hdr_content_length(struct http_request *req, struct head_state *st,
    const struct http_str *v)
{
	int64_t	cl;

	if (parse_content_length(v->p, v->len, &cl) == -1)
		return -400;
	/* A repeated header with the same value is harmless; another is not. */
	if (st->cl_seen && cl != req->content_length)
		return -400;
	st->cl_seen = 1;
	req->content_length = cl;
	return 0;
}

static int
hdr_transfer_encoding(struct head_state *st, const struct http_str *v)
{
	struct list_iter it;
	const char	*e;
	size_t		 en;

	st->te_seen = 1;
	list_init(&it, v->p, v->len);
	while (list_next(&it, &e, &en)) {
		if (en == 0)
			return -400;
		if (en == 7 && ci_eq(e, "chunked", 7))
			st->te_chunked++;
		else
			st->te_unknown = 1;
	}
	return 0;
}

static void
hdr_connection(struct head_state *st, const struct http_str *v)
{
	struct list_iter it;
	const char	*e;
	size_t		 en;

	list_init(&it, v->p, v->len);
	while (list_next(&it, &e, &en)) {
		if (en == 5 && ci_eq(e, "close", 5))
			st->conn_close = 1;
		else if (en == 10 && ci_eq(e, "keep-alive", 10))
			st->conn_keep = 1;
	}
}

/* Fields that must appear at most once; a second copy is ambiguous. */
static int
set_once(struct http_str *dst, const struct http_str *v)
{
	if (dst->p != NULL)
		return -400;
	*dst = *v;
	return 0;
}

/* Fields where the first copy is as good as any. */
static void
set_first(struct http_str *dst, const struct http_str *v)
{
	if (dst->p == NULL)
		*dst = *v;
}

/* The fields the parser itself acts on; everything else is only stored. */
static int
header_semantics(struct http_request *req, struct head_state *st,
    const struct http_header *h)
{
	const char		*n = h->name.p;
	const struct http_str	*v = &h->value;

	switch (h->name.len) {
	case 4:
		if (ci_eq(n, "host", 4)) {
			if (st->host_seen || !valid_host(v->p, v->len))
				return -400;
			st->host_seen = 1;
			req->host = *v;
		}
		break;
	case 5:
		if (ci_eq(n, "range", 5))
			return set_once(&req->range, v);
		break;
	case 6:
		if (ci_eq(n, "expect", 6)) {
			if (v->len != 12 || !ci_eq(v->p, "100-continue", 12))
				return -417;
			/* An HTTP/1.0 client cannot know what 100 means. */
			if (req->version_minor == 1)
				req->expect_continue = 1;
		}
		break;
	case 7:
		if (ci_eq(n, "referer", 7))
			set_first(&req->referer, v);
		break;
	case 8:
		if (ci_eq(n, "if-range", 8))
			return set_once(&req->if_range, v);
		break;
	case 10:
		if (ci_eq(n, "connection", 10))
			hdr_connection(st, v);
		else if (ci_eq(n, "user-agent", 10))
			set_first(&req->user_agent, v);
		break;
	case 13:
		/*
		 * A list field that may be split over lines.  Keeping only the
		 * first line is safe: a match there is a match of the whole,
		 * and a miss only costs a full response.
		 */
		if (ci_eq(n, "if-none-match", 13))
			set_first(&req->if_none_match, v);
		break;
	case 14:
		if (ci_eq(n, "content-length", 14))
			return hdr_content_length(req, st, v);
		break;
	case 17:
		if (ci_eq(n, "transfer-encoding", 17))
			return hdr_transfer_encoding(st, v);
		if (ci_eq(n, "if-modified-since", 17))
			return set_once(&req->if_modified_since, v);
		break;
	}
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS (see http.h). */
int
http_parse_field_line(const char *p, size_t n, struct http_header *h)
{
	size_t	i, v, e;

	for (i = 0; i < n && IS(p[i], CT_TCHAR); i++)
		;
	if (i == 0 || i == n || p[i] != ':')
		return -1;
	h->name.p = p;
	h->name.len = i;

	for (v = i + 1; v < n && is_ows(p[v]); v++)
		;
	for (e = n; e > v && is_ows(p[e - 1]); e--)
		;
	/* Bare CR, NUL, and every other CTL end up here. */
	if (span_field(p + v, e - v) != e - v)
		return -1;
	h->value.p = p + v;
	h->value.len = e - v;
	return 0;
}

/* Everything the header lines imply, once the whole head is in. */
static int
finish_head(struct http_request *req, const struct head_state *st,
    const struct http_str *authority)
{
	if (req->version_minor == 1 && !st->host_seen)
		return -400;
	if (st->te_seen) {
		if (req->version_minor == 0)
			return -400;	/* 1.0 has no chunked: a smuggling attempt */
		if (st->cl_seen)
			return -400;
		if (st->te_unknown)
			return -501;
		/* "chunked, chunked" frames the body twice: malformed. */
		if (st->te_chunked != 1)
			return -400;
		req->chunked = 1;
	}
	if (authority->p != NULL)
		req->host = *authority;
	if (req->version_minor == 1)
		req->keep_alive = !st->conn_close;
	else
		req->keep_alive = st->conn_keep && !st->conn_close;
	return 0;
}

static void
request_reset(struct http_request *req)
{
	/* Not the header array: 4 KiB of stores per request for nothing. */
	req->method = HTTP_M_UNKNOWN;
	req->method_str = str_none;
	req->target = str_none;
	req->path = str_none;
	req->query = str_none;
	req->version_minor = 0;
	req->nheaders = 0;
	req->host = str_none;
	req->content_length = -1;
	req->chunked = 0;
	req->keep_alive = 0;
	req->expect_continue = 0;
	req->if_none_match = str_none;
	req->if_modified_since = str_none;
	req->if_range = str_none;
	req->range = str_none;
	req->user_agent = str_none;
	req->referer = str_none;
}

size_t
http_line_end(const char *buf, size_t pos, size_t end, size_t *eol)
{
	const char	*lf;
	size_t		 i;

	lf = memchr(buf + pos, '\n', end - pos);
	if (lf == NULL)
		return 0;
	i = lf - buf;
	*eol = (i > pos && buf[i - 1] == '\r') ? i - 1 : i;
	return i + 1;
}

int
http_parse_head(const char *buf, size_t len, const struct http_limits *limits,
    struct http_request *req)
{
	struct head_state	 st;
	struct http_str		 authority;
	size_t			 maxhead, maxhdrs, pos, end, eol, next;
	int			 r;

	maxhead = limits->max_head < INT_MAX ? limits->max_head : INT_MAX;
	maxhdrs = limits->max_headers < HTTP_MAX_HEADERS_HARD ?
	    limits->max_headers : HTTP_MAX_HEADERS_HARD;
	/* Nothing past maxhead can belong to an acceptable head. */
	end = len < maxhead ? len : maxhead;
	request_reset(req);
	memset(&st, 0, sizeof(st));
	if (len == 0)
		return maxhead == 0 ? -431 : 0;

	/* Empty lines before the request line are skipped (RFC 9112 2.2). */
	for (pos = 0; pos < end; ) {
		if (buf[pos] == '\n')
			pos++;
		else if (buf[pos] == '\r') {
			if (pos + 1 == len)
				return len >= maxhead ? -431 : 0;
			if (buf[pos + 1] != '\n')
				return -400;
			pos += 2;
		} else
			break;
	}
	if (pos >= maxhead)
		return -431;

	if ((next = http_line_end(buf, pos, end, &eol)) == 0) {
		if ((r = partial_request_line(buf + pos, len - pos,
		    limits->max_request_line)) != 0)
			return r;
		return len >= maxhead ? -431 : 0;
	}
	if (eol - pos > limits->max_request_line)
		return -414;
	if ((r = parse_request_line(buf + pos, eol - pos, req, &authority)) != 0)
		return r;
	pos = next;

	for (;;) {
		if ((next = http_line_end(buf, pos, end, &eol)) == 0)
			return len >= maxhead ? -431 : 0;
		if (eol == pos)
			break;
		/* obs-fold: a line that continues the previous one. */
		if (is_ows(buf[pos]))
			return -400;
		if (req->nheaders >= maxhdrs)
			return -431;
		if (http_parse_field_line(buf + pos, eol - pos,
		    &req->headers[req->nheaders]) == -1)
			return -400;
		if ((r = header_semantics(req, &st,
		    &req->headers[req->nheaders])) != 0)
			return r;
		req->nheaders++;
		pos = next;
	}
	if ((r = finish_head(req, &st, &authority)) != 0)
		return r;
	return (int)next;
}

const struct http_header *
http_header_get(const struct http_request *req, const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (h->name.len == n && http_str_eq(h->name, name))
			return h;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Chunked bodies                                                      */

enum {
	CH_SIZE0 = 0,	/* first hex digit of a chunk-size line */
	CH_SIZE,	/* further hex digits */
	CH_BWS,		/* whitespace after the size: only ';' may follow */
	CH_EXT,		/* chunk extensions, up to CR */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TR_START,	/* a trailer line, or the empty line that ends them */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_END_LF,
	CH_DONE,
	CH_ERROR,
};

#define CH_MAX_SIZE	(UINT64_C(1) << 62)
#define CH_MAX_LINE	4096
#define CH_MAX_TRAILERS	16384

void
http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE0;
}

/*
 * One framing byte.  Framing lines must end in CRLF: unlike the head, a
 * bare LF here is refused, because chunk parsers that disagree about line
 * ends are a known way to smuggle a request past a proxy.
 */
static int
chunked_byte(struct http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case CH_SIZE0:
	case CH_SIZE:
	case CH_BWS:
	case CH_EXT:
		if (++c->line_len > CH_MAX_LINE)
			return CH_ERROR;
		break;
	case CH_TR_NAME:
	case CH_TR_VALUE:
		if (++c->line_len > CH_MAX_LINE ||
		    ++c->remaining > CH_MAX_TRAILERS)
			return CH_ERROR;
		break;
	}

	switch (c->state) {
	case CH_SIZE0:
		if (!IS(ch, CT_HEX))
			return CH_ERROR;
		c->remaining = hexval(ch);
		return CH_SIZE;
	case CH_SIZE:
		if (IS(ch, CT_HEX)) {
			if (c->remaining > (CH_MAX_SIZE - hexval(ch)) / 16)
				return CH_ERROR;
			c->remaining = c->remaining * 16 + hexval(ch);
			return CH_SIZE;
		}
		/* FALLTHROUGH */
	case CH_BWS:
		if (is_ows(ch))
			return CH_BWS;
		if (ch == ';')
			return CH_EXT;
		if (ch == '\r' && c->state == CH_SIZE)
			return CH_SIZE_LF;
		return CH_ERROR;
	case CH_EXT:
		if (ch == '\r')
			return CH_SIZE_LF;
		return IS(ch, CT_FIELD) ? CH_EXT : CH_ERROR;
	case CH_SIZE_LF:
		if (ch != '\n')
			return CH_ERROR;
		c->line_len = 0;
		if (c->remaining == 0)
			return CH_TR_START;	/* the last chunk */
		return CH_DATA;
	case CH_DATA_CR:
		return ch == '\r' ? CH_DATA_LF : CH_ERROR;
	case CH_DATA_LF:
		return ch == '\n' ? CH_SIZE0 : CH_ERROR;
	case CH_TR_START:
		/* From here on, remaining counts trailer bytes. */
		if (ch == '\r')
			return CH_END_LF;
		if (!IS(ch, CT_TCHAR))
			return CH_ERROR;	/* also obs-fold and bare LF */
		c->line_len = 1;
		if (++c->remaining > CH_MAX_TRAILERS)
			return CH_ERROR;
		return CH_TR_NAME;
	case CH_TR_NAME:
		if (ch == ':')
			return CH_TR_VALUE;
		return IS(ch, CT_TCHAR) ? CH_TR_NAME : CH_ERROR;
	case CH_TR_VALUE:
		if (ch == '\r')
			return CH_TR_LF;
		return IS(ch, CT_FIELD) ? CH_TR_VALUE : CH_ERROR;
	case CH_TR_LF:
		return ch == '\n' ? CH_TR_START : CH_ERROR;
	case CH_END_LF:
		return ch == '\n' ? CH_DONE : CH_ERROR;
	}
	return CH_ERROR;
}

ssize_t
http_chunked_decode(struct http_chunked *c, char *buf, size_t len, size_t *out_len)
{
	size_t	r = 0, w = 0, n;

	*out_len = 0;
	if (c->state == CH_ERROR)
		return -1;
	while (r < len && c->state != CH_DONE) {
		if (c->state == CH_DATA) {
			n = len - r;
			if (n > c->remaining)
				n = c->remaining;
			if (w != r)
				memmove(buf + w, buf + r, n);
			w += n;
			r += n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		c->state = chunked_byte(c, (unsigned char)buf[r++]);
		if (c->state == CH_ERROR)
			return -1;
	}
	if (c->state == CH_DONE)
		c->done = 1;
	*out_len = w;
	return (ssize_t)r;
}

/* ------------------------------------------------------------------ */
/* Small things                                                        */

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

int
http_str_eq(struct http_str s, const char *cstr)
{
	size_t	i;

	if (s.p == NULL)
		return 0;
	for (i = 0; i < s.len; i++)
		if (cstr[i] == '\0' ||
		    lower((unsigned char)s.p[i]) != lower((unsigned char)cstr[i]))
			return 0;
	return cstr[i] == '\0';
}

int
http_valid_field_value(const char *s, size_t len)
{
	return span_field(s, len) == len;
}
