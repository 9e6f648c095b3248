/*
 * h2req.h: an HTTP/2 request's header fields, written as one HTTP/1.1 head
 * (RFC 9113 8.2, 8.3).
 *
 * Each HTTP/2 stream is read by front's HTTP/1.1 parser (http.c) and body
 * code, so the fields nghttp2 decoded are turned back into HTTP/1.1 bytes
 * here.  That downgrade is where smuggling lives: a CR or LF in a value, a
 * Transfer-Encoding, a Host that disagrees with :authority would let one
 * stream become two requests, or a request for another site.  So what h2req
 * lets through is always exactly one valid HTTP/1.1 head with one Host, and
 * everything else is refused: malformed (-1: the stream is reset with
 * PROTOCOL_ERROR, RFC 9113 8.1.1) or answered with r->status.
 *
 * Pure: no I/O, no front state, no nghttp2; h2.c feeds it.
 */
#ifndef LOCKERD_H2REQ_H
#define LOCKERD_H2REQ_H

#include <stddef.h>
#include <stdint.h>

/* A growing byte string (private to h2req.c). */
struct h2req_buf {
	char	*p;
	size_t	 len, cap;
};

struct h2req {
	char	*head;		/* the HTTP/1.1 head being built (malloc'd), NUL-free */
	size_t	 len, cap;
	size_t	 limit;		/* max-header-size: bound on the decoded header list */
	size_t	 list;		/* RFC 9113 6.5.2 size so far: sum of name+value+32 per field */
	int	 status;	/* 0, or the HTTP status the stream is answered with instead
				   (431: list over limit; 400: :authority/Host disagree, ...) */
	int64_t	 content_length;	/* -1: none */
	int	 chunked;	/* the head says Transfer-Encoding: chunked: DATA must be framed */

	/* Private: kept until h2req_finish() writes the head. */
	struct h2req_buf method, path, scheme, authority, host, cookie;
	struct h2req_buf fields;	/* the regular fields' lines, as they came */
	unsigned	 seen;		/* H2R_* bits (h2req.c) of the fields met */
	int		 regular;	/* a regular field came: no pseudo-header may follow */
};

void	h2req_init(struct h2req *r, size_t limit);
void	h2req_free(struct h2req *r);
/*
 * One field of the header block as nghttp2 hands it (its HPACK decoding
 * done, nghttp2's own RFC 9113 checks done).  0: taken (or r->status set:
 * the stream will be answered with it; keep feeding fields so HPACK stays
 * in step); -1: malformed → the caller resets the stream with
 * PROTOCOL_ERROR (8.1.1).
 */
int	h2req_field(struct h2req *r, const uint8_t *name, size_t nlen,
	    const uint8_t *value, size_t vlen);
/*
 * End of the header block; end_stream: the request has no body.  0:
 * r->head/r->len hold "METHOD target HTTP/1.1\r\nHost: ...\r\n...\r\n\r\n"
 * (or r->status is set, and r->head is NULL); -1 malformed.
 *
 * CONNECT (no extended CONNECT: :protocol is malformed) is answered 405, as
 * over HTTP/1.1, without a head: its DATA is a tunnel, never a body.
 */
int	h2req_finish(struct h2req *r, int end_stream);
/*
 * The HTTP/1.1 chunk framing around n DATA bytes when r->chunked: the size
 * line ("%zx\r\n", with the CRLF that ends the previous chunk when not the
 * first) into out; its length.  0 when !r->chunked or n == 0 (an empty
 * DATA frame is no chunk: "0\r\n" would end the body).  And the last chunk
 * ("\r\n0\r\n\r\n", or "0\r\n\r\n" when no chunk came first).
 */
size_t	h2req_chunk_head(const struct h2req *r, int first, size_t n, char out[32]);
size_t	h2req_chunk_end(int first, char out[16]);
/* Whether a lowercase field name is one RFC 9113 8.2.2 forbids
 * (connection, keep-alive, proxy-connection, transfer-encoding, upgrade). */
int	h2req_connection_field(const uint8_t *name, size_t len);

#endif
