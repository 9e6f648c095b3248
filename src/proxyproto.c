/*
 * proxyproto.c: the PROXY protocol header's parser (proxyproto.h).
 *
 * It is run on bytes anyone on the network may send (a listener marked
 * proxy takes them only from proxy-from, but the parser does not count on
 * it), so it is strict: v1's one line exactly as the spec writes it (single
 * spaces, numeric addresses inet_pton() takes, decimal ports without
 * leading zeros), v2's fixed header with a length it bounds, and nothing
 * but TCP over IPv4 or IPv6 (or a LOCAL / UNKNOWN header, which keeps the
 * connection's own addresses).  It reads only within [0, len).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
#define V1_PREFIX	"PROXY "

static int
fail(const char **why, const char *w)
{
	*why = w;
	return -1;
}

/* ------------------------------------------------------------ version 1 */

/* The next space-separated word of [*p, end) into out: its length, -1 if none fits. */
static int
v1_word(const char **p, const char *end, char *out, size_t outsz)
{
	const char	*s = *p, *e = memchr(s, ' ', (size_t)(end - s));
	size_t		 n;

	if (e == NULL)
		e = end;
	n = (size_t)(e - s);
	if (n == 0 || n >= outsz)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e < end ? e + 1 : e;
	return (int)n;
}

static int
v1_port(const char *s, uint16_t *out)
{
	unsigned long	v = 0;
	size_t		i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "TCP4 SRC DST SPORT DPORT" (the line between "PROXY " and CRLF). */
static int
v1_fields(const char *p, const char *end, struct proxy_hdr *h, const char **why)
{
	char	proto[8], src[48], dst[48], sport[8], dport[8];

	if (v1_word(&p, end, proto, sizeof(proto)) == -1)
		return fail(why, "v1: no protocol");
	if (strcmp(proto, "UNKNOWN") == 0)
		return 0;	/* the rest is ignored, as the spec says */
	if (strcmp(proto, "TCP4") == 0)
		h->family = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		h->family = AF_INET6;
	else
		return fail(why, "v1: not TCP4, TCP6 or UNKNOWN");
	if (v1_word(&p, end, src, sizeof(src)) == -1 ||
	    v1_word(&p, end, dst, sizeof(dst)) == -1 ||
	    v1_word(&p, end, sport, sizeof(sport)) == -1 ||
	    v1_word(&p, end, dport, sizeof(dport)) == -1 || p != end ||
	    end[-1] == ' ')
		return fail(why, "v1: not five fields");
	if (inet_pton(h->family, src, h->src) != 1 || inet_pton(h->family, dst, h->dst) != 1)
		return fail(why, "v1: an address is not numeric of its family");
	if (v1_port(sport, &h->src_port) == -1 || v1_port(dport, &h->dst_port) == -1)
		return fail(why, "v1: a port is not a number up to 65535");
	h->has_addr = 1;
	return 0;
}

static int
v1_parse(const uint8_t *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	const char	*s = (const char *)buf;
	/* CR LF end the 107 bytes at most: the CR is at 105 or before. */
	size_t		 i, cr_max = PROXY_V1_MAX - 2, lim = len <= cr_max ? len : cr_max + 1;

	for (i = sizeof(V1_PREFIX) - 1; i < lim; i++) {
		if (buf[i] == '\r')
			break;
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return fail(why, "v1: a byte that is not printable ASCII");
	}
	if (i == lim)
		return len > cr_max ? fail(why, "v1: longer than 107 bytes") : 0;
	if (i + 1 >= len)
		return 0;	/* the LF is yet to come */
	if (buf[i + 1] != '\n')
		return fail(why, "v1: CR without LF");
	h->version = 1;
	if (v1_fields(s + sizeof(V1_PREFIX) - 1, s + i, h, why) == -1)
		return -1;
	return (int)(i + 2);
}

/* ------------------------------------------------------------ version 2 */

static int
v2_addrs(const uint8_t *a, size_t alen, uint8_t fam, struct proxy_hdr *h, const char **why)
{
	size_t	n;

	switch (fam) {
	case 0x11:	/* TCP over IPv4 */
		h->family = AF_INET;
		n = 4;
		break;
	case 0x21:	/* TCP over IPv6 */
		h->family = AF_INET6;
		n = 16;
		break;
	case 0x00:	/* UNSPEC: the connection's own addresses */
		return 0;
	default:
		return fail(why, "v2: not TCP over IPv4 or IPv6");
	}
	if (alen < 2 * n + 4)
		return fail(why, "v2: the length is shorter than its addresses");
	memcpy(h->src, a, n);
	memcpy(h->dst, a + n, n);
	h->src_port = (uint16_t)(a[2 * n] << 8 | a[2 * n + 1]);
	h->dst_port = (uint16_t)(a[2 * n + 2] << 8 | a[2 * n + 3]);
	h->has_addr = 1;
	return 0;
}

static int
v2_parse(const uint8_t *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	size_t	alen;

	if (len < 16)
		return 0;
	if ((buf[12] & 0xf0) != 0x20)
		return fail(why, "v2: version is not 2");
	alen = (size_t)buf[14] << 8 | buf[15];
	if (alen > PROXY_HDR_MAX - 16)
		return fail(why, "v2: longer than lockerd takes");
	if (len < 16 + alen)
		return 0;
	h->version = 2;
	switch (buf[12] & 0x0f) {
	case 0x0:	/* LOCAL: the balancer's own connection (health checks) */
		return (int)(16 + alen);
	case 0x1:
		if (v2_addrs(buf + 16, alen, buf[13], h, why) == -1)
			return -1;
		return (int)(16 + alen);	/* TLVs after the addresses are skipped */
	default:
		return fail(why, "v2: command is neither LOCAL nor PROXY");
	}
}

/* ------------------------------------------------------------ either */

int
proxyproto_parse(const uint8_t *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	size_t	n;

	memset(h, 0, sizeof(*h));
	*why = "";
	/* Each byte that came must agree with one of the two signatures. */
	n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
	if (memcmp(buf, v2_sig, n) == 0)
		return len < sizeof(v2_sig) ? 0 : v2_parse(buf, len, h, why);
	n = len < sizeof(V1_PREFIX) - 1 ? len : sizeof(V1_PREFIX) - 1;
	if (memcmp(buf, V1_PREFIX, n) == 0)
		return len < sizeof(V1_PREFIX) - 1 ? 0 : v1_parse(buf, len, h, why);
	return fail(why, "no PROXY header (neither v1's \"PROXY \" nor v2's signature)");
}
