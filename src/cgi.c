/*
 * cgi.c: the response head of a CGI script (RFC 3875 section 6) and of an
 * nph- script (an HTTP/1.x status line and head).
 *
 * A script runs as its locker, so whatever it prints is hostile to front:
 * every line is checked before a byte of it is passed on, nothing is read
 * past len or max, and a head that is odd in any way we cannot pass on
 * safely is refused (front answers 502) rather than repaired.
 */

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "cgi.h"

/* What the field lines told us, before it is folded into the head. */
struct cgi_state {
	int	status_seen;	/* a Status field, or the nph status line */
	int	cl_seen;
	size_t	nfields;	/* every field line, listed or not */
};

/*
 * Fields front writes itself or that describe the connection to the script
 * rather than the message: a script must not be able to frame the response
 * (smuggling) or speak for the server.  Content-Length is parsed, not listed.
 */
static const char *const owned_fields[] = {
	"Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade", "TE",
	"Trailer", "Date", "Server",
};

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_ows(int c)
{
	return c == ' ' || c == '\t';
}

/*
 * "NNN" or "NNN reason": three digits, 200..599.  1xx is refused: an
 * interim response from a script would leave front and the client
 * disagreeing about which head is final.  The reason is dropped (front
 * writes its own) but must still be a valid field value, which the caller
 * has checked.
 */
static int
parse_status_code(const char *p, size_t n, int *status)
{
	int	v;

	if (n < 3 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]))
		return -1;
	if (n > 3 && !is_ows(p[3]))
		return -1;
	v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (v < 200 || v > 599)
		return -1;
	*status = v;
	return 0;
}

/* nph: "HTTP/1.0 NNN reason" or "HTTP/1.1 ..." (RFC 9112 4), case-sensitive. */
static int
parse_status_line(const char *p, size_t n, struct cgi_head *h)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return -1;
	if (!http_valid_field_value(p + 9, n - 9))
		return -1;
	/* Exactly one SP before the code, and one before a reason. */
	if (n > 12 && p[12] != ' ')
		return -1;
	return parse_status_code(p + 9, 3, &h->status);
}

/* Plain digits only: a script has no reason to send a list or a sign. */
static int
parse_content_length(const char *p, size_t n, int64_t *out)
{
	int64_t	v = 0;
	size_t	i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		if (v > (INT64_MAX - (p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

static int
is_owned(const struct http_str *name)
{
	size_t	i;

	for (i = 0; i < sizeof(owned_fields) / sizeof(owned_fields[0]); i++)
		if (http_str_eq(*name, owned_fields[i]))
			return 1;
	return 0;
}

/* Store a field that may appear once; a repeat is malformed. */
static int
set_once(struct http_str *dst, const struct http_str *v)
{
	if (dst->p != NULL || v->len == 0)
		return -1;
	*dst = *v;
	return 0;
}

/*
 * What one field means.  f is the next free slot of h->headers; the caller
 * keeps it (nheaders++) only when this returns 1.
 */
static int
field_semantics(struct cgi_head *h, struct cgi_state *st,
    const struct http_header *f)
{
	if (http_str_eq(f->name, "Status")) {
		/* In nph the status line already said it: a repeat too. */
		if (st->status_seen)
			return -1;
		st->status_seen = 1;
		return parse_status_code(f->value.p, f->value.len, &h->status);
	}
	if (http_str_eq(f->name, "Location"))
		return set_once(&h->location, &f->value);
	if (http_str_eq(f->name, "Content-Type"))
		return set_once(&h->content_type, &f->value);
	if (http_str_eq(f->name, "Content-Length")) {
		if (st->cl_seen)
			return -1;
		st->cl_seen = 1;
		return parse_content_length(f->value.p, f->value.len,
		    &h->content_length);
	}
	if (is_owned(&f->name))
		return 0;
	return 1;
}

/*
 * A Location front may re-dispatch inside the locker: an absolute path
 * (RFC 3875 6.2.2).  "//host/..." is a network-path reference (RFC 3986
 * 4.2), another host, so it goes to the client like any other URI.
 */
static int
is_local_path(const struct http_str *loc)
{
	return loc->len >= 1 && loc->p[0] == '/' &&
	    (loc->len == 1 || loc->p[1] != '/');
}

/* The status the head implies, once all of it is in (RFC 3875 6.2). */
static int
finish_head(struct cgi_head *h, const struct cgi_state *st, int nph)
{
	if (nph || st->status_seen)
		return 0;
	if (h->location.p != NULL) {
		/*
		 * Anything but a local path is a client redirect.  Besides
		 * absolute URIs that takes relative references, which RFC
		 * 9110 10.2.2 allows and Apache sends as 302 as well.
		 */
		if (is_local_path(&h->location)) {
			h->local_redirect = 1;
			h->status = 0;
		} else
			h->status = 302;
		return 0;
	}
	if (h->content_type.p != NULL) {
		h->status = 200;
		h->status_implied = 1;
		return 0;
	}
	return -1;
}

static void
head_reset(struct cgi_head *h)
{
	/* Not the header array: only nheaders of it are ever read. */
	h->status = 0;
	h->status_implied = 0;
	h->local_redirect = 0;
	h->location.p = NULL;
	h->location.len = 0;
	h->content_type.p = NULL;
	h->content_type.len = 0;
	h->content_length = -1;
	h->nheaders = 0;
}

int
cgi_parse_head(const char *buf, size_t len, size_t max, int nph,
    struct cgi_head *h)
{
	struct cgi_state	 st;
	size_t			 lim, end, pos = 0, eol, next;
	int			 r;

	head_reset(h);
	memset(&st, 0, sizeof(st));
	/* The length is returned as an int; nothing past lim can be head. */
	lim = max < INT_MAX ? max : INT_MAX;
	end = len < lim ? len : lim;

	if (nph) {
		if ((next = http_line_end(buf, 0, end, &eol)) == 0)
			return len >= lim ? -1 : 0;
		if (parse_status_line(buf, eol, h) == -1)
			return -1;
		st.status_seen = 1;
		pos = next;
	}

	/*
	 * Each line is judged as soon as its LF is in, so a broken head
	 * fails early; a line still without its LF is not judged yet.
	 */
	for (;;) {
		if ((next = http_line_end(buf, pos, end, &eol)) == 0)
			return len >= lim ? -1 : 0;
		if (eol == pos)
			break;
		/* obs-fold: a continuation line, refused as in requests. */
		if (is_ows(buf[pos]))
			return -1;
		if (++st.nfields > CGI_MAX_HEADERS)
			return -1;
		if (http_parse_field_line(buf + pos, eol - pos,
		    &h->headers[h->nheaders]) == -1)
			return -1;
		if ((r = field_semantics(h, &st,
		    &h->headers[h->nheaders])) == -1)
			return -1;
		if (r == 1)
			h->nheaders++;
		pos = next;
	}
	if (finish_head(h, &st, nph) == -1)
		return -1;
	return (int)next;
}
