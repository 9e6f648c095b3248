/* test_proxyproto.c: the PROXY protocol header's parser, v1 and v2. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdint.h>

#include "unit.h"
#include "proxyproto.h"

static int
parse_str(const char *s, struct proxy_hdr *h, const char **why)
{
	return proxyproto_parse((const uint8_t *)s, strlen(s), h, why);
}

static void
test_v1(void)
{
	struct proxy_hdr	 h;
	const char		*why;
	char			 a[INET6_ADDRSTRLEN];
	const char		*l = "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n";

	CHECK_INT(parse_str(l, &h, &why), 41);
	CHECK_INT(h.version, 1);
	CHECK_INT(h.has_addr, 1);
	CHECK_INT(h.family, AF_INET);
	CHECK_STR(inet_ntop(AF_INET, h.src, a, sizeof(a)), "192.0.2.7");
	CHECK_INT(h.src_port, 56324);
	CHECK_INT(h.dst_port, 443);
	CHECK_INT(parse_str("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n", &h, &why), 36);
	CHECK_INT(h.family, AF_INET6);
	CHECK_STR(inet_ntop(AF_INET6, h.src, a, sizeof(a)), "2001:db8::1");
	CHECK_INT(h.dst_port, 65535);
	/* UNKNOWN: the rest of the line is ignored, no address */
	CHECK_INT(parse_str("PROXY UNKNOWN whatever 1 2\r\n", &h, &why), 28);
	CHECK_INT(h.has_addr, 0);
	CHECK_INT(parse_str("PROXY UNKNOWN\r\n", &h, &why), 15);
}

static void
test_v1_partial(void)
{
	struct proxy_hdr	 h;
	const char		*why;
	const char		*l = "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n";
	size_t			 i;

	/* every prefix short of the whole line: more is needed */
	for (i = 0; i < strlen(l); i++)
		CHECK_INT(proxyproto_parse((const uint8_t *)l, i, &h, &why), 0);
}

static void
test_v1_bad(void)
{
	static const char *bad[] = {
		"PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\rX",	/* CR without LF */
		"PROXY TCP4  192.0.2.7 10.0.0.1 1 2\r\n",	/* two spaces */
		"PROXY TCP4 192.0.2.7 10.0.0.1 1 2 \r\n",	/* trailing space */
		"PROXY TCP4 192.0.2.7 10.0.0.1 1\r\n",		/* four fields */
		"PROXY TCP4 192.0.2.7 10.0.0.1 1 2 3\r\n",	/* six */
		"PROXY TCP4 ::1 10.0.0.1 1 2\r\n",		/* IPv6 in TCP4 */
		"PROXY TCP6 192.0.2.7 ::1 1 2\r\n",		/* IPv4 in TCP6 */
		"PROXY TCP4 192.0.2.256 10.0.0.1 1 2\r\n",
		"PROXY TCP4 192.0.2.7 10.0.0.1 65536 2\r\n",	/* port too big */
		"PROXY TCP4 192.0.2.7 10.0.0.1 01 2\r\n",	/* leading zero */
		"PROXY TCP4 192.0.2.7 10.0.0.1 -1 2\r\n",
		"PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n",
		"PROXY \r\n",
		"PROXY TCP4 192.0.2.7\t10.0.0.1 1 2\r\n",	/* a control byte */
		"GET / HTTP/1.1\r\n",				/* no header at all */
		"proxy TCP4 192.0.2.7 10.0.0.1 1 2\r\n",
	};
	struct proxy_hdr	 h;
	const char		*why;
	char			 longl[200];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(parse_str(bad[i], &h, &why), -1);
		CHECK(why[0] != '\0');
	}
	/* 108 bytes with its CRLF: one too many, refused before the CRLF */
	memset(longl, 'A', sizeof(longl));
	memcpy(longl, "PROXY UNKNOWN ", 14);
	memcpy(longl + 106, "\r\n", 2);
	CHECK_INT(proxyproto_parse((const uint8_t *)longl, 108, &h, &why), -1);
	CHECK_INT(proxyproto_parse((const uint8_t *)longl, 106, &h, &why), -1);
	CHECK_INT(proxyproto_parse((const uint8_t *)longl, 105, &h, &why), 0);
	/* 107 exactly is taken */
	memcpy(longl + 105, "\r\n", 2);
	CHECK_INT(proxyproto_parse((const uint8_t *)longl, 107, &h, &why), 107);
}

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
	0x54, 0x0a };

static size_t
v2(uint8_t *b, uint8_t cmd, uint8_t fam, const uint8_t *addrs, size_t alen, size_t tlvs)
{
	size_t	n = alen + tlvs;

	memcpy(b, sig, 12);
	b[12] = cmd;
	b[13] = fam;
	b[14] = (uint8_t)(n >> 8);
	b[15] = (uint8_t)n;
	memcpy(b + 16, addrs, alen);
	memset(b + 16 + alen, 0x04, tlvs);	/* PP2_TYPE_NOOP-ish bytes, skipped */
	return 16 + n;
}

static void
test_v2(void)
{
	static const uint8_t a4[12] = { 198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x01, 0xbb };
	uint8_t			 a6[36] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5, [31] = 1,
		[32] = 0x12, [33] = 0x34, [34] = 0, [35] = 80 };
	uint8_t			 b[PROXY_HDR_MAX + 64];
	struct proxy_hdr	 h;
	const char		*why;
	char			 a[INET6_ADDRSTRLEN];
	size_t			 n, i;

	n = v2(b, 0x21, 0x11, a4, sizeof(a4), 0);
	CHECK_INT(proxyproto_parse(b, n + 5, &h, &why), 28);
	CHECK_INT(h.version, 2);
	CHECK_INT(h.has_addr, 1);
	CHECK_STR(inet_ntop(AF_INET, h.src, a, sizeof(a)), "198.51.100.9");
	CHECK_INT(h.src_port, 8080);
	CHECK_INT(h.dst_port, 443);
	for (i = 0; i < n; i++)
		CHECK_INT(proxyproto_parse(b, i, &h, &why), 0);
	/* TLVs after the addresses: skipped, counted in the length */
	n = v2(b, 0x21, 0x21, a6, sizeof(a6), 20);
	CHECK_INT(proxyproto_parse(b, n, &h, &why), 16 + 36 + 20);
	CHECK_INT(h.family, AF_INET6);
	CHECK_STR(inet_ntop(AF_INET6, h.src, a, sizeof(a)), "2001:db8::5");
	CHECK_INT(h.src_port, 0x1234);
	/* LOCAL: the balancer's own check, its own address stands */
	n = v2(b, 0x20, 0x00, a4, 0, 0);
	CHECK_INT(proxyproto_parse(b, n, &h, &why), 16);
	CHECK_INT(h.has_addr, 0);
	n = v2(b, 0x20, 0x11, a4, sizeof(a4), 0);
	CHECK_INT(proxyproto_parse(b, n, &h, &why), 28);
	CHECK_INT(h.has_addr, 0);
	/* PROXY with UNSPEC: the connection's own addresses */
	n = v2(b, 0x21, 0x00, a4, 0, 0);
	CHECK_INT(proxyproto_parse(b, n, &h, &why), 16);
	CHECK_INT(h.has_addr, 0);
	/* the largest taken, and one more refused at once (before it all came) */
	n = v2(b, 0x21, 0x11, a4, sizeof(a4), PROXY_HDR_MAX - 16 - sizeof(a4));
	CHECK_INT(proxyproto_parse(b, n, &h, &why), PROXY_HDR_MAX);
	v2(b, 0x21, 0x11, a4, sizeof(a4), PROXY_HDR_MAX - 16 - sizeof(a4) + 1);
	CHECK_INT(proxyproto_parse(b, 16, &h, &why), -1);
}

static void
test_v2_bad(void)
{
	static const uint8_t a4[12] = { 198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x01, 0xbb };
	uint8_t			 b[128];
	struct proxy_hdr	 h;
	const char		*why;
	size_t			 n;

	n = v2(b, 0x11, 0x11, a4, sizeof(a4), 0);	/* version 1 in a v2 header */
	CHECK_INT(proxyproto_parse(b, n, &h, &why), -1);
	n = v2(b, 0x22, 0x11, a4, sizeof(a4), 0);	/* command 2 */
	CHECK_INT(proxyproto_parse(b, n, &h, &why), -1);
	n = v2(b, 0x21, 0x12, a4, sizeof(a4), 0);	/* UDP */
	CHECK_INT(proxyproto_parse(b, n, &h, &why), -1);
	n = v2(b, 0x21, 0x31, a4, sizeof(a4), 0);	/* AF_UNIX */
	CHECK_INT(proxyproto_parse(b, n, &h, &why), -1);
	n = v2(b, 0x21, 0x11, a4, 11, 0);		/* shorter than its addresses */
	CHECK_INT(proxyproto_parse(b, n, &h, &why), -1);
	n = v2(b, 0x21, 0x21, a4, sizeof(a4), 0);	/* IPv6 needs 36 */
	CHECK_INT(proxyproto_parse(b, n, &h, &why), -1);
	memcpy(b, sig, 12);
	b[11] = 0x0b;					/* a signature byte wrong */
	CHECK_INT(proxyproto_parse(b, 16, &h, &why), -1);
	CHECK_INT(proxyproto_parse(b, 11, &h, &why), 0);	/* agrees so far */
}

int
main(void)
{
	test_v1();
	test_v1_partial();
	test_v1_bad();
	test_v2();
	test_v2_bad();
	UNIT_DONE();
}
