/*
 * fcgi.c: FastCGI 1.0 records, encoded for a locker's PHP and decoded from
 * what it answers.  Pure: no allocation, no I/O.
 *
 * The reader is a byte-driven state machine over one request's response:
 * header, content, padding, again, until END_REQUEST.  Nothing in a header
 * is trusted beyond what the format bounds by construction (16-bit content
 * length, 8-bit padding): payload is handed out as pointers into the
 * caller's buffer, only as many bytes as are both present and announced.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fcgi.h"

#define FCGI_VERSION_1		1
#define FCGI_END_BODY_LEN	8

enum {
	R_HDR = 0,	/* collecting a record header into hdr */
	R_CONTENT,	/* content of a STDOUT/STDERR or skipped record */
	R_END_BODY,	/* collecting the END_REQUEST body into body */
	R_PAD,		/* skipping padding; then the record is complete */
	R_DONE,		/* END_REQUEST reported: no byte may follow */
	R_ERROR,	/* malformed: sticky */
};

/* --- encoding --- */

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void
fcgi_header(unsigned char out[FCGI_HEADER_LEN], enum fcgi_type type, uint16_t id,
    uint16_t content_len, uint8_t padding_len)
{
	out[0] = FCGI_VERSION_1;
	out[1] = (unsigned char)type;
	put16(out + 2, id);
	put16(out + 4, content_len);
	out[6] = padding_len;
	out[7] = 0;
}

void
fcgi_begin_request(unsigned char out[16], uint16_t id, int keep_conn)
{
	unsigned char	*b = out + FCGI_HEADER_LEN;

	fcgi_header(out, FCGI_BEGIN_REQUEST, id, 8, 0);
	put16(b, FCGI_RESPONDER);
	/* FCGI_KEEP_CONN (1): the app must not close after this request. */
	b[2] = keep_conn ? 1 : 0;
	memset(b + 3, 0, 5);
}

/* Bytes needed for a PARAMS length: 1 below 128, else 4 (31 bits). */
static size_t
param_len_size(size_t n)
{
	return n < 128 ? 1 : 4;
}

static unsigned char *
put_param_len(unsigned char *p, size_t n)
{
	if (n < 128) {
		*p++ = (unsigned char)n;
		return p;
	}
	*p++ = 0x80 | ((n >> 24) & 0x7f);
	*p++ = (n >> 16) & 0xff;
	*p++ = (n >> 8) & 0xff;
	*p++ = n & 0xff;
	return p;
}

size_t
fcgi_param(unsigned char *out, size_t cap, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	unsigned char	*p = out;
	size_t		 need;

	/* A length must fit the 31 bits of the 4-byte form. */
	if (nlen > 0x7fffffff || vlen > 0x7fffffff)
		return 0;
	/* Added in steps, so that no sum can wrap around before it is checked. */
	need = param_len_size(nlen) + param_len_size(vlen);
	if (need > cap || nlen > cap - need)
		return 0;
	need += nlen;
	if (vlen > cap - need)
		return 0;
	need += vlen;

	p = put_param_len(p, nlen);
	p = put_param_len(p, vlen);
	if (nlen > 0)
		memcpy(p, name, nlen);
	p += nlen;
	if (vlen > 0)
		memcpy(p, value, vlen);
	return need;
}

/* --- decoding --- */

void
fcgi_reader_init(struct fcgi_reader *r, uint16_t id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->state = R_HDR;
}

/*
 * A complete header: decide what its record is.  Returns 0 if acceptable
 * (state set for the content), -1 if the stream is malformed.
 */
static int
start_record(struct fcgi_reader *r)
{
	const unsigned char	*h = r->hdr;

	if (h[0] != FCGI_VERSION_1)
		return -1;
	/*
	 * We multiplex nothing and send no management records, so anything
	 * not for our id, id 0 included, is a confused or hostile app.
	 */
	if (((uint16_t)h[2] << 8 | h[3]) != r->id)
		return -1;
	r->type = h[1];
	r->content_left = (size_t)h[4] << 8 | h[5];
	r->padding_left = h[6];
	r->have = 0;

	switch (r->type) {
	case FCGI_BEGIN_REQUEST:
	case FCGI_ABORT_REQUEST:
	case FCGI_PARAMS:
	case FCGI_STDIN:
	case FCGI_GET_VALUES:
		/* These go from us to the app, never back. */
		return -1;
	case FCGI_END_REQUEST:
		if (r->content_left != FCGI_END_BODY_LEN)
			return -1;
		r->state = R_END_BODY;
		return 0;
	default:
		/* STDOUT, STDERR, or a type we skip (DATA, unknown, ...). */
		r->state = r->content_left > 0 ? R_CONTENT : R_PAD;
		return 0;
	}
}

static void
end_body(struct fcgi_reader *r)
{
	const unsigned char	*b = r->body;

	r->app_status = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	r->protocol_status = b[4];
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

enum fcgi_event
fcgi_read(struct fcgi_reader *r, const unsigned char *in, size_t len,
    size_t *used, const unsigned char **data, size_t *dlen)
{
	size_t	off = 0, n;

	*data = NULL;
	*dlen = 0;
	for (;;) {
		switch (r->state) {
		case R_ERROR:
			*used = off;
			return FCGI_EV_ERROR;
		case R_DONE:
			/* Nothing may follow END_REQUEST on this stream. */
			if (off < len) {
				r->state = R_ERROR;
				continue;
			}
			*used = off;
			return FCGI_EV_MORE;
		case R_PAD:
			/* Before the end-of-input check: no padding completes now. */
			n = min_size(r->padding_left, len - off);
			r->padding_left -= n;
			off += n;
			if (r->padding_left > 0)
				break;
			if (r->type == FCGI_END_REQUEST) {
				r->state = R_DONE;
				r->ended = 1;
				*used = off;
				return FCGI_EV_END;
			}
			r->state = R_HDR;
			continue;
		default:
			break;
		}
		if (off == len) {
			*used = off;
			return FCGI_EV_MORE;
		}

		switch (r->state) {
		case R_HDR:
			n = min_size(FCGI_HEADER_LEN - r->have, len - off);
			memcpy(r->hdr + r->have, in + off, n);
			r->have += n;
			off += n;
			if (r->have == FCGI_HEADER_LEN && start_record(r) == -1)
				r->state = R_ERROR;
			break;
		case R_END_BODY:
			n = min_size(FCGI_END_BODY_LEN - r->have, len - off);
			memcpy(r->body + r->have, in + off, n);
			r->have += n;
			off += n;
			if (r->have == FCGI_END_BODY_LEN) {
				end_body(r);
				r->state = R_PAD;
			}
			break;
		case R_CONTENT:
			n = min_size(r->content_left, len - off);
			r->content_left -= n;
			if (r->content_left == 0)
				r->state = R_PAD;
			if (r->type == FCGI_STDOUT || r->type == FCGI_STDERR) {
				*data = in + off;
				*dlen = n;
				*used = off + n;
				return r->type == FCGI_STDOUT ?
				    FCGI_EV_STDOUT : FCGI_EV_STDERR;
			}
			off += n;
			break;
		}
	}
}
