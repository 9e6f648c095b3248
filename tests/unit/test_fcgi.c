/* test_fcgi.c: FastCGI record encoding and the incremental response reader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"
#include "unit.h"

#define ID	7

/* A response stream under construction. */
static unsigned char	 stream[1 << 18];
static size_t		 slen;

static void
rec(int type, uint16_t id, const void *content, size_t clen, uint8_t pad)
{
	fcgi_header(stream + slen, type, id, (uint16_t)clen, pad);
	slen += FCGI_HEADER_LEN;
	if (clen > 0)
		memcpy(stream + slen, content, clen);
	slen += clen;
	memset(stream + slen, 0xee, pad);	/* padding is never looked at */
	slen += pad;
}

static void
end_rec(uint16_t id, uint32_t app_status, uint8_t proto, size_t clen, uint8_t pad)
{
	unsigned char	b[16] = { 0 };

	b[0] = app_status >> 24;
	b[1] = app_status >> 16;
	b[2] = app_status >> 8;
	b[3] = app_status;
	b[4] = proto;
	rec(FCGI_END_REQUEST, id, b, clen, pad);
}

/* What a decode produced. */
struct result {
	char		out[1 << 17];
	size_t		outlen;
	char		err[4096];
	size_t		errlen;
	int		last;		/* the final event: END, ERROR or MORE */
	uint32_t	app_status;
	int		protocol_status;
	int		spun;		/* a call made no progress */
	int		outside;	/* data pointed outside the piece */
	int		empty_events;	/* a STDOUT/STDERR event with no bytes */
};

static void
append(char *buf, size_t cap, size_t *blen, const unsigned char *d, size_t n)
{
	if (n > cap - *blen)
		abort();
	memcpy(buf + *blen, d, n);
	*blen += n;
}

/*
 * Decode s[0..n) fed in pieces of at most `step` bytes, each from a heap
 * copy of exactly its size so that a read past len is an ASan error.
 */
static void
decode(const unsigned char *s, size_t n, size_t step, uint16_t id,
    struct result *res)
{
	struct fcgi_reader	 r;
	const unsigned char	*d;
	unsigned char		*piece;
	size_t			 off = 0, plen, pos, used, dlen;
	enum fcgi_event		 ev = FCGI_EV_MORE;

	memset(res, 0, sizeof(*res));
	fcgi_reader_init(&r, id);
	while (off < n) {
		plen = n - off < step ? n - off : step;
		if ((piece = malloc(plen)) == NULL)
			abort();
		memcpy(piece, s + off, plen);
		for (pos = 0; pos < plen; pos += used) {
			ev = fcgi_read(&r, piece + pos, plen - pos, &used, &d, &dlen);
			if (used == 0 && ev == FCGI_EV_MORE && pos < plen)
				res->spun = 1;
			if (ev == FCGI_EV_STDOUT || ev == FCGI_EV_STDERR) {
				if (dlen == 0)
					res->empty_events = 1;
				if (d < piece + pos || d + dlen > piece + pos + used)
					res->outside = 1;
			}
			if (ev == FCGI_EV_STDOUT)
				append(res->out, sizeof(res->out), &res->outlen, d, dlen);
			else if (ev == FCGI_EV_STDERR)
				append(res->err, sizeof(res->err), &res->errlen, d, dlen);
			else if (ev == FCGI_EV_END || ev == FCGI_EV_ERROR)
				res->last = ev;
			if (ev == FCGI_EV_ERROR || ev == FCGI_EV_MORE || res->spun)
				break;
		}
		free(piece);
		off += plen;
		if (ev == FCGI_EV_ERROR || res->spun)
			break;
	}
	res->app_status = r.app_status;
	res->protocol_status = r.protocol_status;
}

static struct result	a, b;

/* Decode the current stream at once and byte by byte; both must agree. */
static void
decode_both(uint16_t id)
{
	decode(stream, slen, slen ? slen : 1, id, &a);
	decode(stream, slen, 1, id, &b);
}

static int
same(void)
{
	return a.outlen == b.outlen && memcmp(a.out, b.out, a.outlen) == 0 &&
	    a.errlen == b.errlen && memcmp(a.err, b.err, a.errlen) == 0 &&
	    a.last == b.last && a.app_status == b.app_status;
}

static void
test_header(void)
{
	unsigned char	h[FCGI_HEADER_LEN];
	const unsigned char want[] = { 1, 6, 0x12, 0x34, 0xab, 0xcd, 5, 0 };

	fcgi_header(h, FCGI_STDOUT, 0x1234, 0xabcd, 5);
	CHECK(memcmp(h, want, sizeof(want)) == 0);
	fcgi_header(h, FCGI_PARAMS, 1, 0, 0);
	CHECK_INT(h[1], 4);
	CHECK_INT(h[3], 1);
	CHECK_INT(h[4] | h[5] | h[6] | h[7], 0);
	fcgi_header(h, FCGI_STDIN, 0xffff, 65535, 255);
	CHECK_INT(h[2], 0xff);
	CHECK_INT(h[5], 0xff);
	CHECK_INT(h[6], 255);
}

static void
test_begin(void)
{
	unsigned char	b[16];
	const unsigned char keep[] = { 1, 1, 0, 9, 0, 8, 0, 0,  0, 1, 1, 0, 0, 0, 0, 0 };

	fcgi_begin_request(b, 9, 1);
	CHECK(memcmp(b, keep, 16) == 0);
	fcgi_begin_request(b, 0x0102, 0);
	CHECK_INT(b[2], 1);
	CHECK_INT(b[3], 2);
	CHECK_INT(b[10], 0);
	CHECK_INT(b[9], FCGI_RESPONDER);
}

static void
test_params(void)
{
	unsigned char	buf[1024], big[300];
	char		name[200], val[300];
	size_t		n;

	n = fcgi_param(buf, sizeof(buf), "SCRIPT_NAME", 11, "/x.php", 6);
	CHECK_INT(n, 2 + 11 + 6);
	CHECK_INT(buf[0], 11);
	CHECK_INT(buf[1], 6);
	CHECK(memcmp(buf + 2, "SCRIPT_NAME/x.php", 17) == 0);

	/* An empty value is legal and common (QUERY_STRING). */
	n = fcgi_param(buf, sizeof(buf), "QUERY_STRING", 12, "", 0);
	CHECK_INT(n, 14);
	CHECK_INT(buf[1], 0);

	/* 127 still takes one byte, 128 takes four with the high bit. */
	memset(val, 'v', sizeof(val));
	n = fcgi_param(buf, sizeof(buf), "A", 1, val, 127);
	CHECK_INT(n, 1 + 1 + 1 + 127);
	CHECK_INT(buf[1], 127);
	n = fcgi_param(buf, sizeof(buf), "A", 1, val, 128);
	CHECK_INT(n, 1 + 4 + 1 + 128);
	CHECK_INT(buf[0], 1);
	CHECK(memcmp(buf + 1, "\x80\x00\x00\x80", 4) == 0);
	CHECK_INT(buf[5], 'A');
	CHECK_INT(buf[6 + 127], 'v');

	/* A long name and a long value: both 4-byte lengths. */
	memset(name, 'N', sizeof(name));
	n = fcgi_param(buf, sizeof(buf), name, 200, val, 300);
	CHECK_INT(n, 4 + 4 + 200 + 300);
	CHECK(memcmp(buf, "\x80\x00\x00\xc8\x80\x00\x01\x2c", 8) == 0);
	CHECK_INT(buf[8], 'N');
	CHECK_INT(buf[8 + 200], 'v');
	CHECK_INT(buf[8 + 200 + 299], 'v');

	/* Exactly fitting fits; one byte less does not, and writes nothing. */
	CHECK_INT(fcgi_param(buf, 19, "SCRIPT_NAME", 11, "/x.php", 6), 19);
	memset(big, 0x55, sizeof(big));
	CHECK_INT(fcgi_param(big, 18, "SCRIPT_NAME", 11, "/x.php", 6), 0);
	CHECK_INT(big[0], 0x55);
	CHECK_INT(fcgi_param(big, 0, "", 0, "", 0), 0);
	CHECK_INT(fcgi_param(big, 2, "", 0, "", 0), 2);
	CHECK_INT(fcgi_param(big, 135, "A", 1, val, 128), 134);
	CHECK_INT(fcgi_param(big, 134, "A", 1, val, 128), 134);
	CHECK_INT(fcgi_param(big, 133, "A", 1, val, 128), 0);
	/* A length beyond 31 bits cannot be encoded; a huge one must not wrap. */
	CHECK_INT(fcgi_param(big, sizeof(big), "A", 1, val, (size_t)1 << 31), 0);
	CHECK_INT(fcgi_param(big, sizeof(big), "A", SIZE_MAX, val, 1), 0);
}

static void
test_response(void)
{
	static const char	body[] = "<html>hello</html>\n";
	char			head[] = "Status: 200 OK\r\nContent-Type: text/html\r\n\r\n";
	char			want[256];
	int			i;

	slen = 0;
	rec(FCGI_STDOUT, ID, head, strlen(head), 3);
	rec(FCGI_STDERR, ID, "PHP Notice: x\n", 14, 2);
	rec(FCGI_STDOUT, ID, body, strlen(body), 0);
	rec(FCGI_STDERR, ID, NULL, 0, 0);
	rec(FCGI_STDOUT, ID, NULL, 0, 0);
	end_rec(ID, 3, 0, 8, 0);
	decode_both(ID);
	snprintf(want, sizeof(want), "%s%s", head, body);
	CHECK_INT(a.last, FCGI_EV_END);
	CHECK_INT(a.outlen, strlen(want));
	CHECK(memcmp(a.out, want, a.outlen) == 0);
	CHECK_INT(a.errlen, 14);
	CHECK(memcmp(a.err, "PHP Notice: x\n", 14) == 0);
	CHECK_INT(a.app_status, 3);
	CHECK_INT(a.protocol_status, 0);
	CHECK(same());
	CHECK(!a.spun && !b.spun);
	CHECK(!a.outside && !b.outside);
	CHECK(!a.empty_events && !b.empty_events);

	/* Every step size between gives the same answer. */
	for (i = 2; i < 40; i++) {
		decode(stream, slen, i, ID, &b);
		if (!same() || b.spun || b.outside)
			break;
	}
	CHECK_INT(i, 40);

	/* A big record, padded, and a large app status. */
	slen = 0;
	memset(want, 'x', sizeof(want));
	for (i = 0; i < 300; i++)
		rec(FCGI_STDOUT, ID, want, sizeof(want), 7);
	rec(FCGI_STDOUT, ID, NULL, 0, 0);
	end_rec(ID, 0xdeadbeef, 0, 8, 5);
	decode_both(ID);
	CHECK_INT(a.last, FCGI_EV_END);
	CHECK_INT(a.outlen, 300 * sizeof(want));
	CHECK_INT(a.app_status, 0xdeadbeef);
	CHECK(same());
}

/* The reader's behaviour call by call, on a stream in one buffer. */
static void
test_calls(void)
{
	struct fcgi_reader	 r;
	const unsigned char	*d;
	size_t			 used, dlen;
	enum fcgi_event		 ev;

	slen = 0;
	rec(FCGI_STDOUT, ID, "abc", 3, 2);
	end_rec(ID, 0, 0, 8, 0);
	fcgi_reader_init(&r, ID);
	ev = fcgi_read(&r, stream, slen, &used, &d, &dlen);
	CHECK_INT(ev, FCGI_EV_STDOUT);
	CHECK_INT(used, 11);
	CHECK(d == stream + 8);
	CHECK_INT(dlen, 3);
	ev = fcgi_read(&r, stream + 11, slen - 11, &used, &d, &dlen);
	CHECK_INT(ev, FCGI_EV_END);
	CHECK_INT(used, slen - 11);
	CHECK_INT(r.ended, 1);
	/* Nothing more: no event; one byte more: an error, and it stays. */
	ev = fcgi_read(&r, stream, 0, &used, &d, &dlen);
	CHECK_INT(ev, FCGI_EV_MORE);
	CHECK_INT(used, 0);
	ev = fcgi_read(&r, stream, 1, &used, &d, &dlen);
	CHECK_INT(ev, FCGI_EV_ERROR);
	ev = fcgi_read(&r, stream, 0, &used, &d, &dlen);
	CHECK_INT(ev, FCGI_EV_ERROR);

	/* A half header is consumed and remembered. */
	fcgi_reader_init(&r, ID);
	ev = fcgi_read(&r, stream, 5, &used, &d, &dlen);
	CHECK_INT(ev, FCGI_EV_MORE);
	CHECK_INT(used, 5);
	ev = fcgi_read(&r, stream + 5, 4, &used, &d, &dlen);
	CHECK_INT(ev, FCGI_EV_STDOUT);
	CHECK_INT(used, 4);
	CHECK(d == stream + 8);
	CHECK_INT(dlen, 1);
	CHECK_INT(d[0], 'a');
}

/* The stream decodes to an error, at once and byte by byte. */
static void
check_error(int line)
{
	decode_both(ID);
	if (a.last != FCGI_EV_ERROR || b.last != FCGI_EV_ERROR || !same())
		fprintf(stderr, "%s:%d: stream not an error\n", __FILE__, line);
	CHECK_INT(a.last, FCGI_EV_ERROR);
	CHECK_INT(b.last, FCGI_EV_ERROR);
}

static void
test_errors(void)
{
	slen = 0;
	rec(FCGI_STDOUT, ID, "ok", 2, 0);
	rec(FCGI_STDOUT, ID, "no", 2, 0);
	stream[slen - 10] = 2;		/* the version of the second record */
	end_rec(ID, 0, 0, 8, 0);
	check_error(__LINE__);
	CHECK_INT(a.outlen, 2);		/* what came before the error stands */

	slen = 0;
	rec(FCGI_STDOUT, ID + 1, "x", 1, 0);
	end_rec(ID, 0, 0, 8, 0);
	check_error(__LINE__);
	CHECK_INT(a.outlen, 0);

	/* Management records (id 0) are not ours either. */
	slen = 0;
	rec(FCGI_GET_VALUES_RESULT, 0, NULL, 0, 0);
	end_rec(ID, 0, 0, 8, 0);
	check_error(__LINE__);

	slen = 0;
	end_rec(ID, 0, 0, 7, 0);
	check_error(__LINE__);
	slen = 0;
	end_rec(ID, 0, 0, 9, 0);
	check_error(__LINE__);
	slen = 0;
	end_rec(ID, 0, 0, 0, 8);
	check_error(__LINE__);

	slen = 0;
	end_rec(ID, 0, 0, 8, 0);
	rec(FCGI_STDOUT, ID, "late", 4, 0);
	check_error(__LINE__);
	CHECK_INT(a.outlen, 0);

	/* Records that go from the web server to the app, never back. */
	slen = 0;
	rec(FCGI_STDIN, ID, "in", 2, 0);
	end_rec(ID, 0, 0, 8, 0);
	check_error(__LINE__);
	slen = 0;
	rec(FCGI_PARAMS, ID, NULL, 0, 0);
	check_error(__LINE__);
	slen = 0;
	fcgi_begin_request(stream, ID, 0);
	slen = 16;
	check_error(__LINE__);
	slen = 0;
	rec(FCGI_ABORT_REQUEST, ID, NULL, 0, 0);
	check_error(__LINE__);
}

static void
test_skipped(void)
{
	static const char	junk[] = "ignored stuff";

	/* Unknown, DATA and UNKNOWN_TYPE records for our id: skipped. */
	slen = 0;
	rec(FCGI_STDOUT, ID, "A", 1, 0);
	rec(42, ID, junk, sizeof(junk), 3);
	rec(FCGI_DATA, ID, junk, sizeof(junk), 0);
	rec(FCGI_UNKNOWN_TYPE, ID, junk, 8, 0);
	rec(0, ID, NULL, 0, 0);
	rec(255, ID, NULL, 0, 255);
	rec(FCGI_STDOUT, ID, "B", 1, 0);
	end_rec(ID, 1, 0, 8, 0);
	decode_both(ID);
	CHECK_INT(a.last, FCGI_EV_END);
	CHECK_INT(a.outlen, 2);
	CHECK(memcmp(a.out, "AB", 2) == 0);
	CHECK(same());

	/* Zero-length content with padding, on every type. */
	slen = 0;
	rec(FCGI_STDOUT, ID, NULL, 0, 200);
	rec(FCGI_STDERR, ID, NULL, 0, 1);
	rec(FCGI_STDOUT, ID, "C", 1, 255);
	end_rec(ID, 0, 2, 8, 255);
	decode_both(ID);
	CHECK_INT(a.last, FCGI_EV_END);
	CHECK_INT(a.outlen, 1);
	CHECK_INT(a.errlen, 0);
	CHECK_INT(a.protocol_status, 2);
	CHECK(same());
	CHECK(!a.empty_events && !b.empty_events);

	/* A stream cut short is neither an end nor an error. */
	slen -= 100;
	decode_both(ID);
	CHECK_INT(a.last, 0);
	CHECK(same());
}

int
main(void)
{
	test_header();
	test_begin();
	test_params();
	test_response();
	test_calls();
	test_errors();
	test_skipped();
	UNIT_DONE();
}
