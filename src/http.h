/*
 * http.h: the HTTP/1.1 wire format, as pure functions over byte buffers.
 *
 * Nothing here allocates, does I/O or keeps global state, so the parser can
 * be unit-tested and fuzzed on its own.  front (conn.c) owns the sockets.
 */
#ifndef LOCKERD_HTTP_H
#define LOCKERD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define HTTP_MAX_HEADERS_HARD	128	/* array size; the configured limit is <= this */

enum http_method {
	HTTP_M_UNKNOWN = 0,	/* syntactically valid token, not implemented: 501 */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_PATCH,
	HTTP_M_CONNECT,
	HTTP_M_TRACE,
};

struct http_limits {
	size_t	max_request_line;	/* longer: 414 */
	size_t	max_head;		/* whole head incl. request line: 431 */
	size_t	max_headers;		/* header count: 431; <= HTTP_MAX_HEADERS_HARD */
};

struct http_str {
	const char	*p;	/* points into the caller's buffer; NULL if absent */
	size_t		 len;
};

struct http_header {
	struct http_str	name;	/* as received; compare case-insensitively */
	struct http_str	value;	/* leading/trailing OWS stripped */
};

struct http_request {
	enum http_method	method;
	struct http_str		method_str;
	struct http_str		target;		/* request-target as sent */
	/*
	 * The path part (no query), still %-encoded.  "/" for an absolute-form
	 * target with an empty path, "*" for OPTIONS *, absent for CONNECT.
	 */
	struct http_str		path;
	struct http_str		query;		/* after '?', without it; p NULL if none */
	int			version_minor;	/* HTTP/1.x: 0 or 1 */

	struct http_header	headers[HTTP_MAX_HEADERS_HARD];
	size_t			nheaders;

	/* Derived from the headers while parsing. */
	struct http_str		host;		/* Host header, or the authority of an absolute-form target */
	int64_t			content_length;	/* -1 if no Content-Length */
	int			chunked;	/* Transfer-Encoding: chunked (last coding) */
	int			keep_alive;	/* after Connection: and the version default */
	int			expect_continue;
	struct http_str		if_none_match;
	struct http_str		if_modified_since;
	struct http_str		if_range;
	struct http_str		range;
	struct http_str		user_agent;
	struct http_str		referer;
};

/*
 * Parse one request head from buf[0..len).
 * Returns the number of bytes the head occupies (through the empty line)
 * when a whole head is present; 0 when more bytes are needed (and no limit
 * is exceeded yet); or -status for a head that must be refused:
 *   -400 malformed (bad token, bare CR, obs-fold, missing/duplicate Host on
 *        1.1, CL+TE together, differing Content-Lengths, bad CL value,
 *        unknown transfer-coding is -501, ...)
 *   -414 request line longer than limits->max_request_line
 *   -417 an Expect value other than 100-continue
 *   -431 head larger than limits->max_head or too many headers
 *   -501 transfer-coding other than chunked
 *   -505 HTTP version other than 1.0 / 1.1
 * Leading empty lines before the request line are skipped (RFC 9112 2.2).
 * Lines may end in CRLF or bare LF.  The request-target must be visible
 * ASCII (raw UTF-8 is refused: clients percent-encode it); a "#" in it,
 * "*" with any method but OPTIONS and authority-form with any but CONNECT
 * are -400.  Transfer-Encoding "chunked, chunked" (also split over two
 * lines) is -400.  Duplicate Range, If-Range or If-Modified-Since is -400.
 */
int	http_parse_head(const char *buf, size_t len, const struct http_limits *limits,
	    struct http_request *req);

/* Find a header by name (case-insensitive); NULL if absent. */
const struct http_header *http_header_get(const struct http_request *req, const char *name);

/*
 * Incremental chunked-body decoder (RFC 9112 7.1), trailers read and dropped.
 */
struct http_chunked {
	int		state;
	uint64_t	remaining;	/* bytes left in the current chunk */
	size_t		line_len;	/* bytes of the current size/trailer line, bounded */
	int		done;		/* final chunk and trailers consumed */
};

void	http_chunked_init(struct http_chunked *c);
/*
 * Decode in place: consumes bytes from buf[0..len), moves the decoded body
 * bytes to the front of buf, stores their count in *out_len, and returns the
 * number of input bytes consumed (which can be < len once c->done is set;
 * the rest belongs to the next request), or -1 on malformed input.
 */
ssize_t	http_chunked_decode(struct http_chunked *c, char *buf, size_t len, size_t *out_len);

/*
 * Turn a %-encoded origin-form path into a clean absolute path.
 * Decodes %XX, refuses (returns -1) encoded '/' (%2F), NUL (%00), any
 * control character, a backslash, invalid or overlong UTF-8, and a path
 * that does not start with '/'.  Resolves "." and ".." segments and merges
 * "//"; a ".." above the root is refused (-1).  A trailing '/' is kept.
 * Writes a NUL-terminated result to out (size outsz); returns its length,
 * or -1 (also when it does not fit).
 */
ssize_t	http_normalize_path(const char *path, size_t len, char *out, size_t outsz);

/* Percent-encode a path for a Location header (keeps '/' and unreserved). */
ssize_t	http_encode_path(const char *path, char *out, size_t outsz);

/* RFC 9110 IMF-fixdate into out (at least 30 bytes). */
void	http_format_date(time_t t, char out[30]);
/* Parse any of the three HTTP date formats; -1 if invalid. */
time_t	http_parse_date(const char *s, size_t len);

/*
 * Range: bytes=... against a representation of `size` bytes.
 * Returns 1 and sets *off and *count for one satisfiable range, 0 when the
 * header should be ignored (absent, not "bytes", malformed, or more than
 * one range: the whole file is sent), and -1 for 416 (unsatisfiable).
 */
int	http_parse_range(const char *s, size_t len, off_t size, off_t *off, off_t *count);

/* The reason phrase of a status code ("Not Found"); "Unknown" if none. */
const char *http_reason(int status);

/* Case-insensitive comparison of a counted string with a C string. */
int	http_str_eq(struct http_str s, const char *cstr);

/*
 * The line starting at pos in buf: *eol is where its content ends (before
 * CR LF or LF); returns the index after the LF, or 0 if no LF comes before
 * end.  A CR anywhere else stays in the line, for the field check to refuse.
 */
size_t	http_line_end(const char *buf, size_t pos, size_t end, size_t *eol);

/*
 * One field line p[0..n), its line ending removed: a token, a colon with
 * no whitespace before it (RFC 9112 5.1: that is how smuggling starts), a
 * value with its OWS trimmed and no CR, LF, NUL or other CTL but HTAB
 * (what stops header splitting).  0, or -1 if malformed.
 */
int	http_parse_field_line(const char *p, size_t n, struct http_header *h);

/* True if s is a valid header field value (no CR, LF, NUL or other CTLs but HTAB). */
int	http_valid_field_value(const char *s, size_t len);

#endif
