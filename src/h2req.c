/*
 * h2req.c: an HTTP/2 request's header fields → one HTTP/1.1 head
 * (RFC 9113 8.2 and 8.3; see h2req.h for why).
 *
 * The fields come one at a time, pseudo-headers first.  Regular fields are
 * written as "name: value" lines as they come; the pseudo-headers, Host and
 * the cookie crumbs are kept until the end of the block, when the request
 * line, the one Host line, the joined Cookie line and the body framing are
 * put around them.  Once the decoded list passes the limit nothing more is
 * kept (the stream is answered 431), so memory is bounded by the limit
 * whatever the peer sends, but every field is still checked: a malformed
 * field resets the stream whatever the status.
 *
 * Refused as malformed (-1), as RFC 9113 says: what breaks the framing of
 * the HTTP/1.1 head (CR, LF, NUL, a space or control byte in the request
 * line, an upper-case or non-token name), the connection-specific fields,
 * pseudo-header misuse, a Content-Length that is not one number.  Answered
 * with a status: what is well-formed HTTP/2 but not a request we serve
 * (431 too large, 400 for Host trouble or a scheme not ours, 405 CONNECT).
 * Left to http.c, which answers 400 as it does over HTTP/1.1: bytes that
 * keep the head's framing but that it refuses (a raw 0x80+ byte in the
 * path, a control byte in a value, a Host with bytes no name has).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2req.h"

/* The fields met so far (r->seen). */
#define H2R_METHOD	0x001
#define H2R_PATH	0x002
#define H2R_SCHEME	0x004
#define H2R_AUTHORITY	0x008
#define H2R_HOST	0x010
#define H2R_CL		0x020
#define H2R_CONNECT	0x040	/* :method is CONNECT */
#define H2R_OPTIONS	0x080	/* :method is OPTIONS */
#define H2R_STAR	0x100	/* :path is "*" */

/* RFC 9113 6.5.2: each field costs its name, its value and 32 octets. */
#define H2R_FIELD_COST	32

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* p[0..n) equals the NUL-terminated s, ignoring ASCII case. */
static int
ci_eq(const uint8_t *p, size_t n, const char *s)
{
	size_t	i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != lower((unsigned char)s[i]))
			return 0;
	return 1;
}

/* p[0..n) is exactly the NUL-terminated s. */
static int
is(const uint8_t *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

static int
alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
static int
valid_scheme(const uint8_t *p, size_t n)
{
	size_t	i;

	if (n == 0 || !alpha(p[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!alpha(p[i]) && !(p[i] >= '0' && p[i] <= '9') && p[i] != '+' &&
		    p[i] != '-' && p[i] != '.')
			return 0;
	return 1;
}

/* RFC 9110 5.6.2 tchar by byte: 1, and 2 when not upper case too. */
static const uint8_t tchars[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 00 */
	0, 3, 0, 3, 3, 3, 3, 3, 0, 0, 3, 3, 0, 3, 3, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,	/* 20 */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 3, 3,	/* 40 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 3, 0, 3, 0,	/* 60 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* a0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* c0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* e0 */
};

static int
tchar(uint8_t c)
{
	return tchars[c] & 1;
}

static int
token(const uint8_t *p, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!tchar(p[i]))
			return 0;
	return 1;
}

/* A field name: a token without upper case (RFC 9113 8.2.1). */
static int
valid_name(const uint8_t *p, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!(tchars[p[i]] & 2))
			return 0;
	return 1;
}

static int
ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/*
 * RFC 9113 8.2.1: no NUL, CR or LF, no whitespace at either end.  Eight
 * bytes at a time while none is below 0x0e (as http.c's scanners: a
 * browser's User-Agent, Cookie and Accept are long), byte by byte after.
 */
#define ONES		UINT64_C(0x0101010101010101)
#define HIGHS		UINT64_C(0x8080808080808080)
#define HAS_LESS(x, n)	(((x) - ONES * (n)) & ~(x) & HIGHS)

static int
valid_value(const uint8_t *p, size_t n)
{
	size_t		i = 0;
	uint64_t	w;

	if (n > 0 && (ows(p[0]) || ows(p[n - 1])))
		return 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, sizeof(w));
		if (HAS_LESS(w, 0x0e))
			break;
	}
	for (; i < n; i++)
		if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
			return 0;
	return 1;
}

/*
 * What would break "METHOD SP target SP HTTP/1.1": a space, a control byte
 * or DEL.  Bytes above 0x7e keep the line's framing; http.c refuses them.
 */
static int
valid_path(const uint8_t *p, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

/* Only the first status sticks: it is the first thing that went wrong. */
static void
set_status(struct h2req *r, int status)
{
	if (r->status == 0)
		r->status = status;
}

/* Room for n more bytes at b->p + b->len; NULL if there is no memory. */
static char *
buf_room(struct h2req_buf *b, size_t n)
{
	size_t	 cap;
	char	*np;

	if (n > SIZE_MAX / 2 - b->len)
		return NULL;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return NULL;
		b->p = np;
		b->cap = cap;
	}
	return b->p + b->len;
}

static int
buf_add(struct h2req_buf *b, const void *p, size_t n)
{
	char	*w;

	if (n == 0)
		return 0;
	if ((w = buf_room(b, n)) == NULL)
		return -1;
	memcpy(w, p, n);
	b->len += n;
	return 0;
}

static int
buf_str(struct h2req_buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* Keep p[0..n) in b unless the stream is already refused; 500 if no memory. */
static void
keep(struct h2req *r, struct h2req_buf *b, const uint8_t *p, size_t n)
{
	if (r->status != 0)
		return;
	if (buf_add(b, p, n) == -1)
		set_status(r, 500);
}

/* The line "name: value\r\n" kept in r->fields, as keep() would. */
static void
keep_line(struct h2req *r, const uint8_t *n, size_t nlen, const uint8_t *v, size_t vlen)
{
	char	*w;

	if (r->status != 0)
		return;
	if ((w = buf_room(&r->fields, nlen + vlen + 4)) == NULL) {
		set_status(r, 500);
		return;
	}
	memcpy(w, n, nlen);
	memcpy(w + nlen, ": ", 2);
	if (vlen > 0)
		memcpy(w + nlen + 2, v, vlen);
	memcpy(w + nlen + 2 + vlen, "\r\n", 2);
	r->fields.len += nlen + vlen + 4;
}

static void
buf_free(struct h2req_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
h2req_init(struct h2req *r, size_t limit)
{
	memset(r, 0, sizeof(*r));
	r->limit = limit;
	r->content_length = -1;
}

void
h2req_free(struct h2req *r)
{
	free(r->head);
	buf_free(&r->method);
	buf_free(&r->path);
	buf_free(&r->scheme);
	buf_free(&r->authority);
	buf_free(&r->host);
	buf_free(&r->cookie);
	buf_free(&r->fields);
	h2req_init(r, r->limit);
}

/* Each pseudo-header once, and only those RFC 9113 8.3.1 defines. */
static int
pseudo_field(struct h2req *r, const uint8_t *n, size_t nlen, const uint8_t *v, size_t vlen)
{
	struct h2req_buf	*b;
	unsigned		 bit;

	if (is(n, nlen, ":method")) {
		if (!token(v, vlen))
			return -1;
		bit = H2R_METHOD;
		b = &r->method;
		if (is(v, vlen, "CONNECT"))
			r->seen |= H2R_CONNECT;
		else if (is(v, vlen, "OPTIONS"))
			r->seen |= H2R_OPTIONS;
	} else if (is(n, nlen, ":path")) {
		if (!valid_path(v, vlen) || (v[0] != '/' && !is(v, vlen, "*")))
			return -1;
		bit = H2R_PATH;
		b = &r->path;
		if (v[0] == '*')
			r->seen |= H2R_STAR;
	} else if (is(n, nlen, ":scheme")) {
		if (!valid_scheme(v, vlen))
			return -1;
		/* An origin server of http and https URIs only (8.3.1). */
		if (!ci_eq(v, vlen, "https") && !ci_eq(v, vlen, "http"))
			set_status(r, 400);
		bit = H2R_SCHEME;
		b = &r->scheme;
	} else if (is(n, nlen, ":authority")) {
		bit = H2R_AUTHORITY;
		b = &r->authority;
	} else
		return -1;	/* :status, :protocol (no extended CONNECT), unknown */
	if (r->seen & bit)
		return -1;
	r->seen |= bit;
	keep(r, b, v, vlen);
	return 0;
}

/* Digits only, one number; a repeated field must say the same number. */
static int
content_length(struct h2req *r, const uint8_t *v, size_t vlen)
{
	int64_t	n = 0;
	size_t	i;

	if (vlen == 0)
		return -1;
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (n > (INT64_MAX - (v[i] - '0')) / 10)
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	if ((r->seen & H2R_CL) && n != r->content_length)
		return -1;
	r->seen |= H2R_CL;
	r->content_length = n;
	return 0;
}

/* Cookie crumbs (RFC 9113 8.2.3) are joined into one line with "; ". */
static void
cookie(struct h2req *r, const uint8_t *v, size_t vlen)
{
	if (vlen == 0)
		return;
	if (r->cookie.len > 0)
		keep(r, &r->cookie, (const uint8_t *)"; ", 2);
	keep(r, &r->cookie, v, vlen);
}

/* n[0..nlen) is the literal l. */
#define NAME_IS(n, nlen, l)	((nlen) == sizeof(l) - 1 && memcmp((n), (l), sizeof(l) - 1) == 0)

/*
 * The connection-specific fields RFC 9113 8.2.2 forbids (HTTP/1.1's
 * hop-by-hop framing), by length first: this runs for every field.  A
 * lowercase name; h2_stream.c drops the same from front's answers.
 */
int
h2req_connection_field(const uint8_t *n, size_t nlen)
{
	switch (nlen) {
	case 7:
		return NAME_IS(n, nlen, "upgrade");
	case 10:
		return NAME_IS(n, nlen, "connection") || NAME_IS(n, nlen, "keep-alive");
	case 16:
		return NAME_IS(n, nlen, "proxy-connection");
	case 17:
		return NAME_IS(n, nlen, "transfer-encoding");
	}
	return 0;
}

static void
host_field(struct h2req *r, const uint8_t *v, size_t vlen)
{
	/* Two Host lines are refused by HTTP/1.1 (and by http.c): 400. */
	if (r->seen & H2R_HOST)
		set_status(r, 400);
	r->seen |= H2R_HOST;
	keep(r, &r->host, v, vlen);
}

/* The regular fields h2req acts on; 1 when the field is not one of them. */
static int
special_field(struct h2req *r, const uint8_t *n, size_t nlen, const uint8_t *v, size_t vlen)
{
	if (h2req_connection_field(n, nlen))
		return -1;
	switch (nlen) {
	case 2:
		/* 8.2.2: only "trailers"; hop-by-hop in HTTP/1.1: dropped. */
		if (NAME_IS(n, nlen, "te"))
			return ci_eq(v, vlen, "trailers") ? 0 : -1;
		break;
	case 4:
		if (NAME_IS(n, nlen, "host")) {
			host_field(r, v, vlen);
			return 0;
		}
		break;
	case 6:
		if (NAME_IS(n, nlen, "cookie")) {
			cookie(r, v, vlen);
			return 0;
		}
		break;
	case 14:
		if (NAME_IS(n, nlen, "content-length"))
			return content_length(r, v, vlen);
		break;
	}
	return 1;
}

static int
regular_field(struct h2req *r, const uint8_t *n, size_t nlen, const uint8_t *v, size_t vlen)
{
	int	rc;

	if (!valid_name(n, nlen))
		return -1;
	r->regular = 1;
	if ((rc = special_field(r, n, nlen, v, vlen)) <= 0)
		return rc;
	keep_line(r, n, nlen, v, vlen);
	return 0;
}

int
h2req_field(struct h2req *r, const uint8_t *name, size_t nlen,
    const uint8_t *value, size_t vlen)
{
	size_t	cost;

	if (nlen == 0 || !valid_value(value, vlen))
		return -1;
	/* Counted first: the field that crosses the limit is not kept. */
	cost = nlen + vlen + H2R_FIELD_COST;
	r->list = cost > SIZE_MAX - r->list ? SIZE_MAX : r->list + cost;
	if (r->list > r->limit)
		set_status(r, 431);
	if (name[0] == ':') {
		/* 8.3: every pseudo-header before the first regular field. */
		if (r->regular)
			return -1;
		return pseudo_field(r, name, nlen, value, vlen);
	}
	return regular_field(r, name, nlen, value, vlen);
}

/* What makes the block malformed whatever was kept (8.3.1, 8.5, 8.1.1). */
static int
check_block(const struct h2req *r, int end_stream)
{
	unsigned	s = r->seen;

	if (!(s & H2R_METHOD))
		return -1;
	if (s & H2R_CONNECT) {
		if ((s & (H2R_PATH | H2R_SCHEME)) || !(s & H2R_AUTHORITY))
			return -1;
	} else if ((s & (H2R_PATH | H2R_SCHEME)) != (H2R_PATH | H2R_SCHEME))
		return -1;
	if ((s & H2R_STAR) && !(s & H2R_OPTIONS))
		return -1;
	/* A body announced and none to come: the DATA would disagree. */
	if (end_stream && r->content_length > 0)
		return -1;
	return 0;
}

/* The one Host: :authority, else host; both must agree; one is needed. */
static const struct h2req_buf *
host_of(struct h2req *r)
{
	const struct h2req_buf	*a = &r->authority, *h = &r->host;
	size_t			 i;

	if (r->seen & H2R_AUTHORITY) {
		if (r->seen & H2R_HOST) {
			if (a->len != h->len)
				return NULL;
			for (i = 0; i < a->len; i++)
				if (lower((unsigned char)a->p[i]) != lower((unsigned char)h->p[i]))
					return NULL;
		}
		return a->len > 0 ? a : NULL;
	}
	if (r->seen & H2R_HOST)
		return h->len > 0 ? h : NULL;
	return NULL;
}

/* The framing of the body: a length, or chunks when DATA may follow. */
static int
write_framing(struct h2req *r, struct h2req_buf *out, int end_stream)
{
	char	line[48];

	if (r->content_length >= 0) {
		snprintf(line, sizeof(line), "Content-Length: %lld\r\n",
		    (long long)r->content_length);
		return buf_str(out, line);
	}
	if (end_stream)
		return 0;
	r->chunked = 1;
	return buf_str(out, "Transfer-Encoding: chunked\r\n");
}

static int
write_head(struct h2req *r, struct h2req_buf *out, const struct h2req_buf *host,
    int end_stream)
{
	if (buf_add(out, r->method.p, r->method.len) == -1 || buf_str(out, " ") == -1 ||
	    buf_add(out, r->path.p, r->path.len) == -1 || buf_str(out, " HTTP/1.1\r\nHost: ") == -1 ||
	    buf_add(out, host->p, host->len) == -1 || buf_str(out, "\r\n") == -1)
		return -1;
	if (r->fields.len > 0 && buf_add(out, r->fields.p, r->fields.len) == -1)
		return -1;
	if (r->cookie.len > 0 && (buf_str(out, "Cookie: ") == -1 ||
	    buf_add(out, r->cookie.p, r->cookie.len) == -1 || buf_str(out, "\r\n") == -1))
		return -1;
	if (write_framing(r, out, end_stream) == -1)
		return -1;
	/* The terminating NUL is not part of the head: for callers' comfort. */
	return buf_add(out, "\r\n", 3);
}

int
h2req_finish(struct h2req *r, int end_stream)
{
	struct h2req_buf	 out = { NULL, 0, 0 };
	const struct h2req_buf	*host;

	if (check_block(r, end_stream) == -1)
		return -1;
	if (r->seen & H2R_CONNECT)
		set_status(r, 405);	/* as over HTTP/1.1; no tunnels */
	if (r->status != 0)
		return 0;
	if ((host = host_of(r)) == NULL) {
		set_status(r, 400);
		return 0;
	}
	if (write_head(r, &out, host, end_stream) == -1) {
		free(out.p);
		r->chunked = 0;
		set_status(r, 500);
		return 0;
	}
	out.len--;	/* the NUL */
	/*
	 * http.c reads at most limit bytes of head.  Each field costs 32
	 * more in the list than its line here, so a list within the limit
	 * always makes a head within it; kept in case that ever changes.
	 */
	if (out.len > r->limit) {
		free(out.p);
		r->chunked = 0;
		set_status(r, 431);
		return 0;
	}
	free(r->head);
	r->head = out.p;
	r->len = out.len;
	r->cap = out.cap;
	return 0;
}

size_t
h2req_chunk_head(const struct h2req *r, int first, size_t n, char out[32])
{
	int	w;

	if (!r->chunked || n == 0)
		return 0;
	w = snprintf(out, 32, "%s%zx\r\n", first ? "" : "\r\n", n);
	return w > 0 ? (size_t)w : 0;
}

size_t
h2req_chunk_end(int first, char out[16])
{
	const char	*s = first ? "0\r\n\r\n" : "\r\n0\r\n\r\n";

	memcpy(out, s, strlen(s) + 1);
	return strlen(s);
}
