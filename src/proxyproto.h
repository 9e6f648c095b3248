/*
 * proxyproto.h: the PROXY protocol's header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2), which a load balancer sends before the connection's
 * own bytes to say whose connection it passes on.
 *
 * The parser is a pure function of the bytes received so far, bounded by
 * the longest header it takes (PROXY_HDR_MAX): front peeks at the socket
 * (MSG_PEEK), asks, and takes exactly the header's bytes off the socket
 * once the header is whole, so that what follows (a TLS hello, a request)
 * is still the socket's for TLS or HTTP to read.
 */
#ifndef LOCKERD_PROXYPROTO_H
#define LOCKERD_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

/* v1: 107 bytes at most; v2: 16 + the addresses and TLVs, taken up to this. */
#define PROXY_V1_MAX	107
#define PROXY_V2_TLV_MAX 1024
#define PROXY_HDR_MAX	(16 + 216 + PROXY_V2_TLV_MAX)

struct proxy_hdr {
	int		 version;	/* 1 or 2 */
	/* 0: LOCAL (v2: the balancer's own health check) or UNKNOWN/UNSPEC:
	 * the connection's own addresses stand; 1: the fields below. */
	int		 has_addr;
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 src[16], dst[16];	/* 4 bytes for AF_INET */
	uint16_t	 src_port, dst_port;
};

/*
 * Parses the start of a connection, len bytes of it: the header's length
 * (> 0) with *h filled, 0 if more bytes are needed (never past
 * PROXY_HDR_MAX), or -1 with *why set (a static string) if these bytes
 * cannot begin a valid header.
 */
int	proxyproto_parse(const uint8_t *buf, size_t len, struct proxy_hdr *h,
	    const char **why);

#endif
