/*
 * fuzz_wire.c: libFuzzer target for wire.c, both ends of each message.
 *
 * The first byte picks the message; the rest is either a hostile input
 * for its decoder (which must never read outside it, and whose every
 * answer must hold), or the makings of a message that is encoded, decoded
 * again, and must come back as it went in:
 *
 *	0  MSG_REQUEST as front would pack it, read back as the worker does
 *	1  MSG_REQUEST's strings from anywhere (wire_view_of)
 *	2  a WIRE_FCGI tail from anywhere, and packed again byte for byte
 *	3  a WIRE_FCGI tail packed from strings, and parsed back
 *	4  an access-log batch from anywhere, each record put again
 *	5  a locker's error-log message from anywhere, and packed again
 *	6  a worker's answer from anywhere (wire_response_check), its Header
 *	   operations put again byte for byte
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#include "fuzz.h"

struct in {
	const uint8_t	*p;
	size_t		 n;
};

static size_t
take_len(struct in *in, size_t mod)
{
	size_t v;

	if (in->n == 0)
		return 0;
	v = in->p[0] % mod;
	in->p++;
	in->n--;
	return v < in->n ? v : in->n;
}

static const char *
take(struct in *in, size_t len)
{
	const char *p = (const char *)in->p;

	in->p += len;
	in->n -= len;
	return p;
}

static void
request_round_trip(struct in in)
{
	static char		 buf[1 << 16];
	struct wire_request	 head, q;
	struct wire_view	 v, back;
	struct http_header	 h[8];
	char			 want[4096];
	size_t			 nh = 0, wl = 0, cap, need, n, i;

	memset(&head, 0, sizeof(head));
	if (in.n >= sizeof(head))
		memcpy(&head, take(&in, sizeof(head)), sizeof(head));
	cap = sizeof(head) + take_len(&in, 256) * 8;
	memset(&v, 0, sizeof(v));
	need = sizeof(head);
	for (i = 0; i < WS_HEADERS; i++) {
		v.l[i] = take_len(&in, 64);
		v.s[i] = v.l[i] ? take(&in, v.l[i]) : NULL;
		need += v.l[i];
	}
	while (nh < 8 && in.n > 0) {
		h[nh].name.len = take_len(&in, 16);
		h[nh].name.p = take(&in, h[nh].name.len);
		h[nh].value.len = take_len(&in, 32);
		h[nh].value.p = take(&in, h[nh].value.len);
		memcpy(want + wl, h[nh].name.p, h[nh].name.len);
		wl += h[nh].name.len;
		memcpy(want + wl, ": ", 2);
		wl += 2;
		memcpy(want + wl, h[nh].value.p, h[nh].value.len);
		wl += h[nh].value.len;
		want[wl++] = '\n';
		nh++;
	}
	need += wl;
	/* The strings after the header fields (WS_TLS). */
	for (i = WS_HEADERS + 1; i < WS_MAX; i++) {
		v.l[i] = take_len(&in, 64);
		v.s[i] = v.l[i] ? take(&in, v.l[i]) : NULL;
		need += v.l[i];
	}
	n = wire_request_pack(buf, cap, &head, &v, h, nh);
	if (n == 0) {
		REQUIRE(need > cap);
		return;
	}
	REQUIRE(n == need && n <= cap);
	memcpy(&q, buf, sizeof(q));
	REQUIRE(q.id == head.id && q.method == head.method && q.flags == head.flags &&
	    q.version_minor == head.version_minor && q.remote_port == head.remote_port &&
	    q.local_port == head.local_port && q.content_length == head.content_length);
	REQUIRE(wire_view_of(&q, buf + sizeof(q), n - sizeof(q), &back) == 0);
	for (i = 0; i < WS_HEADERS; i++)
		REQUIRE(back.l[i] == v.l[i] && (v.l[i] == 0 ||
		    memcmp(back.s[i], v.s[i], v.l[i]) == 0));
	REQUIRE(back.l[WS_HEADERS] == wl && memcmp(back.s[WS_HEADERS], want, wl) == 0);
	for (i = WS_HEADERS + 1; i < WS_MAX; i++)
		REQUIRE(back.l[i] == v.l[i] && (v.l[i] == 0 ||
		    memcmp(back.s[i], v.s[i], v.l[i]) == 0));
}

static void
request_view(struct in in)
{
	struct wire_request	 q;
	struct wire_view	 v;
	char			*strs;
	size_t			 len, at = 0;
	int			 i;

	if (in.n < sizeof(q))
		return;
	memcpy(&q, take(&in, sizeof(q)), sizeof(q));
	len = in.n;
	if ((strs = malloc(len ? len : 1)) == NULL)
		return;
	memcpy(strs, in.p, len);
	if (wire_view_of(&q, strs, len, &v) == 0) {
		for (i = 0; i < WS_MAX; i++) {
			REQUIRE(v.s[i] == strs + at && v.l[i] == q.len[i]);
			at += v.l[i];
		}
		REQUIRE(at == len);
	}
	free(strs);
}

static void
script_parse_pack(struct in in)
{
	static char	 again[sizeof(struct wire_script) + WSC_MAX * PATH_MAX];
	static char	 z[WSC_MAX][PATH_MAX];
	const char	*s[WSC_MAX], *zs[WSC_MAX];
	size_t		 l[WSC_MAX], n;
	int		 has_index = -1, i;
	char		*buf = malloc(in.n ? in.n : 1);

	if (buf == NULL)
		return;
	memcpy(buf, in.p, in.n);
	if (wire_script_parse(buf, in.n, s, l, &has_index) == 0) {
		REQUIRE(has_index == 0 || has_index == 1);
		for (i = 0; i < WSC_MAX; i++) {
			REQUIRE(l[i] < PATH_MAX && memchr(s[i], '\0', l[i]) == NULL);
			memcpy(z[i], s[i], l[i]);
			z[i][l[i]] = '\0';
			zs[i] = z[i];
		}
		/* What was read is what the worker's packing would have sent. */
		n = wire_script_pack(again, sizeof(again), zs, has_index);
		REQUIRE(n == in.n && memcmp(again, buf, n) == 0);
	}
	free(buf);
}

static void
script_pack_parse(struct in in)
{
	static char	 buf[sizeof(struct wire_script) + WSC_MAX * PATH_MAX];
	static char	 z[WSC_MAX][PATH_MAX + 16];
	const char	*zs[WSC_MAX], *s[WSC_MAX];
	size_t		 l[WSC_MAX], want[WSC_MAX], n, cap;
	int		 has_index, back = -1, i;

	if (in.n < 2)
		return;
	has_index = in.p[0] & 1;
	cap = in.p[1] & 1 ? sizeof(buf) : take_len(&in, 64) * 4;
	take(&in, 2 <= in.n ? 2 : in.n);
	for (i = 0; i < WSC_MAX; i++) {
		size_t k = take_len(&in, 256) * 17;	/* past PATH_MAX, to be cut */
		size_t j;

		k = k < PATH_MAX + 15 ? k : PATH_MAX + 15;
		for (j = 0; j < k; j++)
			z[i][j] = in.n ? (char)(in.p[j % in.n] | 1) : 'a';	/* no NUL */
		z[i][k] = '\0';
		zs[i] = z[i];
		want[i] = k < PATH_MAX - 1 ? k : PATH_MAX - 1;
	}
	n = wire_script_pack(buf, cap > sizeof(buf) ? sizeof(buf) : cap, zs, has_index);
	if (n == 0)
		return;
	REQUIRE(n <= cap);
	if (wire_script_parse(buf, n, s, l, &back) == 0) {
		REQUIRE(back == has_index);
		for (i = 0; i < WSC_MAX; i++)
			REQUIRE(l[i] == want[i] && memcmp(s[i], zs[i], l[i]) == 0);
	}
}

static void
log_batch(struct in in)
{
	static char	 again[1 << 17];
	struct wire_log	 r, r2;
	size_t		 off = 0, prev = 0, out = 0, off2 = 0;
	char		*b = malloc(in.n ? in.n : 1);

	if (b == NULL)
		return;
	memcpy(b, in.p, in.n);
	while (wire_log_next(b, in.n, &off, &r) == 1) {
		REQUIRE(off > prev && off <= in.n);
		REQUIRE(r.nlen <= LOCKER_NAME_MAX && r.llen <= WIRE_LOG_LINE_MAX);
		REQUIRE(r.name >= b && r.line + r.llen == b + off);
		prev = off;
		out = wire_log_put(again, sizeof(again), out, r.name, r.nlen, r.line, r.llen);
		REQUIRE(out == off);
	}
	/* The records read are the bytes they were read from, and read back the same. */
	REQUIRE(memcmp(again, b, off) == 0);
	while (wire_log_next(again, out, &off2, &r2) == 1)
		;
	REQUIRE(off2 == out);
	free(b);
}

static void
locker_msg(struct in in)
{
	static char	 again[1 + LOCKER_NAME_MAX + 65536];
	char		 name[LOCKER_NAME_MAX + 1];
	const char	*nm, *data;
	size_t		 nl, dl, n;
	char		*b = malloc(in.n ? in.n : 1);

	if (b == NULL)
		return;
	memcpy(b, in.p, in.n);
	if (wire_locker_parse(b, in.n, &nm, &nl, &data, &dl) == 0) {
		REQUIRE(nl >= 1 && nl <= LOCKER_NAME_MAX && 1 + nl + dl == in.n);
		REQUIRE(nm == b + 1 && data == b + 1 + nl);
		memcpy(name, nm, nl);
		name[nl] = '\0';
		if (memchr(nm, '\0', nl) == NULL && dl <= 65536) {
			n = wire_locker_pack(again, sizeof(again), name, data, dl);
			REQUIRE(n == in.n && memcmp(again, b, n) == 0);
		}
	}
	free(b);
}

/* Checked Header operations: each put again is the same bytes, no CR or LF in it. */
static void
hops_again(const char *p, size_t len)
{
	static char	again[WIRE_OPS_MAX];
	struct wire_hop	h;
	size_t		off = 0, was, n = 0;

	while (was = off, wire_hop_next(p, len, &off, &h) == 1) {
		REQUIRE(strpbrk(h.name, "\r\n:") == NULL && strpbrk(h.re, "\r\n") == NULL &&
		    strpbrk(h.sub, "\r\n") == NULL);
		n = wire_hop_put(again, sizeof(again), n, &h);
		REQUIRE(n == off && memcmp(again + was, p + was, off - was) == 0);
	}
	REQUIRE(off == len);
}

static void
response(struct in in)
{
	struct wire_response	*r;
	char			*b = malloc(in.n ? in.n : 1);

	if (b == NULL)
		return;
	memcpy(b, in.p, in.n);
	r = (struct wire_response *)b;
	if (in.n >= sizeof(*r) && wire_response_check(r, in.n) == 0) {
		REQUIRE(r->kind >= WIRE_FILE && r->kind <= WIRE_SPOOL);
		REQUIRE(r->kind == WIRE_FCGI || in.n == sizeof(*r) + r->hlen + r->olen);
		if (r->kind != WIRE_STATUS && r->kind != WIRE_SLASH && r->kind != WIRE_SPOOL)
			REQUIRE(r->status == 200 || (r->status >= 400 && r->status <= 599 &&
			    (r->flags & WRESP_NOCACHE)));
		hops_again(wire_response_ops(r), r->olen);
		if (r->kind == WIRE_FILE) {
			size_t n = strnlen(r->content_type, sizeof(r->content_type));

			REQUIRE(n > 0 && n < sizeof(r->content_type));
			REQUIRE(memchr(r->content_type, '\n', n) == NULL &&
			    memchr(r->content_type, '\r', n) == NULL);
		}
	}
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data + 1, size ? size - 1 : 0 };

	if (size == 0)
		return 0;
	switch (data[0] % 7) {
	case 0:
		request_round_trip(in);
		break;
	case 1:
		request_view(in);
		break;
	case 2:
		script_parse_pack(in);
		break;
	case 3:
		script_pack_parse(in);
		break;
	case 4:
		log_batch(in);
		break;
	case 5:
		locker_msg(in);
		break;
	default:
		response(in);
		break;
	}
	return 0;
}
