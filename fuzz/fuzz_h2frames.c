/*
 * fuzz_h2frames.c: libFuzzer target for h2req.c behind a real nghttp2
 * server session, driven as h2.c drives it.
 *
 * The input is what a client sends after its connection preface (added
 * here): frames, HPACK and all.  nghttp2 decodes them and makes its own
 * RFC 9113 checks; each request header block's fields go to a stream's
 * h2req, a field it calls malformed resets that stream, and at the end of
 * the block every head h2req lets out is checked as fuzz_h2req checks it
 * (h2req_check.h).  A stream's DATA is framed in chunks by h2req when its
 * head says chunked, and http.c's decoder must give back exactly the DATA
 * bytes, and end exactly at END_STREAM.  What nghttp2 would send back is
 * drained and dropped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "h2req.h"
#include "http.h"

#include "fuzz.h"
#include "h2req_check.h"

#define LIMIT		4096
#define MAX_STREAMS	8

/* One request stream, as h2.c keeps it. */
struct fstream {
	struct h2req		r;
	struct http_chunked	ch;
	int			first;		/* no DATA chunk framed yet */
	int			ended;		/* the body's last chunk written */
	int			headed;		/* the header block finished */
	struct fstream		*next, **prev;	/* all of them: nghttp2_session_del
						   closes streams without a callback */
};

static struct fstream	*streams;

static void
fstream_free(struct fstream *st)
{
	h2req_free(&st->r);
	if (st->next != NULL)
		st->next->prev = st->prev;
	*st->prev = st->next;
	free(st);
}

static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static int
on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *u)
{
	struct fstream	*st;

	(void)u;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		abort();
	h2req_init(&st->r, LIMIT);
	http_chunked_init(&st->ch);
	st->first = 1;
	st->next = streams;
	st->prev = &streams;
	if (streams != NULL)
		streams->prev = &st->next;
	streams = st;
	REQUIRE(nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st) == 0);
	return 0;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
    const uint8_t *value, size_t vlen, uint8_t flags, void *u)
{
	struct fstream	*st;

	(void)flags;
	(void)u;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;	/* trailers: h2.c drops them */
	st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	REQUIRE(st != NULL && !st->headed);
	if (h2req_field(&st->r, name, nlen, value, vlen) == -1)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;	/* RST_STREAM */
	REQUIRE(st->r.fields.len <= LIMIT + 64);
	return 0;
}

/* The body's end: the last chunk, and the decoder must be done with it. */
static void
end_body(struct fstream *st)
{
	char	out[16];
	size_t	k, got;

	if (!st->r.chunked || st->ended)
		return;
	k = h2req_chunk_end(st->first, out);
	REQUIRE(http_chunked_decode(&st->ch, out, k, &got) == (ssize_t)k);
	REQUIRE(got == 0 && st->ch.done);
	st->ended = 1;
}

static int
headers_done(nghttp2_session *s, const nghttp2_frame *f, struct fstream *st)
{
	int	es = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	st->headed = 1;
	if (h2req_finish(&st->r, es) == -1)
		return nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
		    NGHTTP2_PROTOCOL_ERROR) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
	if (st->r.status != 0) {
		REQUIRE(st->r.head == NULL && !st->r.chunked);
		return 0;
	}
	check_head(&st->r, es, NULL, 0);
	return 0;
}

static int
on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *u)
{
	struct fstream	*st;

	(void)u;
	st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st == NULL)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		return headers_done(s, f, st);
	if ((f->hd.type == NGHTTP2_DATA || f->hd.type == NGHTTP2_HEADERS) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM) && st->headed && st->r.status == 0)
		end_body(st);
	return 0;
}

/* DATA through h2req's framing and http.c's decoder: the same bytes back. */
static int
on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
    void *u)
{
	struct fstream	*st;
	char		*buf, out[32];
	size_t		 k, got;

	(void)flags;
	(void)u;
	st = nghttp2_session_get_stream_user_data(s, id);
	if (st == NULL || !st->headed || st->r.status != 0 || !st->r.chunked)
		return 0;
	REQUIRE(!st->ended);
	k = h2req_chunk_head(&st->r, st->first, len, out);
	if (k == 0)
		return 0;
	if ((buf = malloc(k + len)) == NULL)
		abort();
	memcpy(buf, out, k);
	memcpy(buf + k, data, len);
	REQUIRE(http_chunked_decode(&st->ch, buf, k + len, &got) == (ssize_t)(k + len));
	REQUIRE(got == len && memcmp(buf, data, len) == 0 && !st->ch.done);
	st->first = 0;
	free(buf);
	return 0;
}

static int
on_close(nghttp2_session *s, int32_t id, uint32_t error, void *u)
{
	struct fstream	*st;

	(void)error;
	(void)u;
	if ((st = nghttp2_session_get_stream_user_data(s, id)) == NULL)
		return 0;
	fstream_free(st);
	nghttp2_session_set_stream_user_data(s, id, NULL);
	return 0;
}

static nghttp2_session *
server(void)
{
	nghttp2_session_callbacks	*cb;
	nghttp2_session			*s;
	nghttp2_settings_entry		 iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, LIMIT },
	};

	if (nghttp2_session_callbacks_new(&cb) != 0)
		abort();
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	if (nghttp2_session_server_new(&s, cb, NULL) != 0)
		abort();
	nghttp2_session_callbacks_del(cb);
	if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 2) != 0)
		abort();
	return s;
}

/* What the server would send: drained, so that it keeps reading. */
static void
drain(nghttp2_session *s)
{
	const uint8_t	*p;

	while (nghttp2_session_mem_send(s, &p) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nghttp2_session	*s = server();
	size_t		 i, step;

	REQUIRE(nghttp2_session_mem_recv(s, preface, sizeof(preface) - 1) ==
	    (ssize_t)sizeof(preface) - 1);
	drain(s);
	/* In pieces of a size the first byte chooses: frames split across reads. */
	step = size > 0 ? (size_t)(data[0] % 3 == 0 ? size : data[0] % 61 + 1) : 1;
	for (i = 0; i < size; i += step) {
		if (nghttp2_session_mem_recv(s, data + i,
		    size - i < step ? size - i : step) < 0)
			break;
		drain(s);
	}
	nghttp2_session_del(s);
	while (streams != NULL)
		fstream_free(streams);
	return 0;
}
