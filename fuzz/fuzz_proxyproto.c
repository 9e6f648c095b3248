/*
 * fuzz_proxyproto.c: libFuzzer target for proxyproto.c, the PROXY header
 * parser that reads the first bytes of a connection on a proxy listener.
 *
 * Each prefix of the input is parsed as front would see it arrive (it
 * peeks at what came so far), in a buffer of exactly that size (ASan sees
 * a read past it).  Checked: a length given is within the bytes given and
 * PROXY_HDR_MAX; a prefix's answer never contradicts the whole's (once a
 * header is whole, or refused, more bytes do not change that); a refusal
 * says why; an address given is of AF_INET or AF_INET6.
 */
#include <sys/socket.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "proxyproto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr	 h;
	const char		*why;
	uint8_t			*b;
	size_t			 i, n = size < PROXY_HDR_MAX + 16 ? size : PROXY_HDR_MAX + 16;
	int			 r, settled = 0, first = 0;

	for (i = 0; i <= n; i++) {
		if ((b = malloc(i ? i : 1)) == NULL)
			return 0;
		memcpy(b, data, i);
		r = proxyproto_parse(b, i, &h, &why);
		free(b);
		REQUIRE(r >= -1 && r <= (int)i && r <= PROXY_HDR_MAX);
		if (r == -1)
			REQUIRE(why != NULL && why[0] != '\0');
		if (r > 0 && h.has_addr)
			REQUIRE(h.family == AF_INET || h.family == AF_INET6);
		if (settled)
			REQUIRE(r == first);
		else if (r != 0) {
			settled = 1;
			first = r;
		}
	}
	return 0;
}
