/*
 * cgi.h: the response head a CGI script prints (RFC 3875 section 6), and the
 * nph- form (a whole HTTP/1.x status line and head).  Pure functions over a
 * buffer, fuzzed: a script's output is as hostile as anything from the
 * network.
 */
#ifndef LOCKERD_CGI_H
#define LOCKERD_CGI_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define CGI_MAX_HEADERS	64

struct cgi_head {
	int			status;		/* final status to send */
	int			status_implied;	/* 200 for want of a Status field */
	int			local_redirect;	/* Location: /path with no Status: re-dispatch */
	struct http_str		location;	/* p NULL if absent */
	struct http_str		content_type;	/* p NULL if absent */
	int64_t			content_length;	/* -1 if absent */
	/* Other fields, checked, to pass to the client as they are.  Fields
	 * front owns (Date, Server, Connection, Transfer-Encoding, Keep-Alive,
	 * Upgrade, TE, Trailer, Content-Length) are not in this list. */
	struct http_header	headers[CGI_MAX_HEADERS];
	size_t			nheaders;
};

/*
 * Parse the head at buf[0..len).  Returns the head's length (through the
 * empty line) when complete, 0 when more bytes are needed and len < max,
 * or -1 when the head is malformed or longer than max (front answers 502).
 * nph: the output starts with an "HTTP/1.x NNN reason" status line.
 * Lines end in LF or CRLF.  A head must hold Content-Type, Location or
 * Status (RFC 3875 6.2).  Status: 3 digits, 200..599 (1xx refused), then an
 * optional reason.  Location: an absolute URI (scheme:...) gives 302 unless
 * Status says otherwise; a path starting with '/' and no Status is a local
 * redirect (status 0 then).  Field names are tokens; values have no CR, LF,
 * NUL or other CTL but HTAB; a repeated Status, Location, Content-Type or
 * Content-Length, an obs-fold line, or more than CGI_MAX_HEADERS fields
 * is malformed.
 */
int	cgi_parse_head(const char *buf, size_t len, size_t max, int nph, struct cgi_head *h);

#endif
