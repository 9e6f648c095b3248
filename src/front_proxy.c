/*
 * front_proxy.c: front's listeners marked `proxy` (issue 18): the PROXY
 * protocol header a load balancer sends first, and the client address it
 * names, which then stands for the connection's own everywhere front uses
 * one (the access log, REMOTE_ADDR and REMOTE_PORT, .htaccess Require ip,
 * error logs, HTTP/2 streams: all read c->peer).
 *
 * Who may say so is configured (proxy-from): a peer outside it is closed
 * at accept, before a byte of it is read, so that nobody else can choose
 * the address a locker's access rules see.  A header that is malformed,
 * or not whole within header-timeout, closes the connection too; nothing
 * is answered on it (an answer would be in a protocol the balancer did
 * not speak yet).  The header is parsed from a peek at the socket and
 * only its own bytes are taken off it, so the TLS handshake or the request
 * that follows is read as on any listener.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <string.h>

#include "lockerd.h"
#include "front.h"
#include "proxyproto.h"

/* Refusals are logged at most once a second: a flood is one line a second. */
static uint64_t	refused_last_ms;
static unsigned	refused_quiet;

static void
refused(const char *peer, const char *why)
{
	if (refused_last_ms != 0 && loop_now - refused_last_ms < 1000) {
		refused_quiet++;
		return;
	}
	refused_last_ms = loop_now;
	if (refused_quiet > 0)
		log_warnx("front: a connection from %s to a proxy listener closed: %s "
		    "(and %u more refused in the last second)", peer, why, refused_quiet);
	else
		log_warnx("front: a connection from %s to a proxy listener closed: %s", peer, why);
	refused_quiet = 0;
}

static void
v6_of(const struct sockaddr_storage *ss, uint8_t a[16])
{
	memset(a, 0, 16);
	if (ss->ss_family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6)
		memcpy(a, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

int
proxy_peer_allowed(const struct sockaddr_storage *ss, const char *peer)
{
	uint8_t	a[16];
	int	i;

	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6) {
		v6_of(ss, a);
		for (i = 0; i < F.conf.nproxy_from; i++)
			if (net_match(&F.conf.proxy_from[i], a))
				return 1;
	}
	refused(peer, "not in proxy-from");
	return 0;
}

void
proxy_timed_out(struct conn *c)
{
	refused(c->peer, "no whole PROXY header within header-timeout");
}

/* The header's source address is the client's from now on. */
static void
proxy_apply(struct conn *c, const struct proxy_hdr *h)
{
	if (!h->has_addr)
		return;		/* LOCAL (a health check) or UNKNOWN: the peer's own */
	inet_ntop(h->family, h->src, c->peer, sizeof(c->peer));
	c->peer_port = h->src_port;
}

int
proxy_read(struct conn *c)
{
	uint8_t			 buf[PROXY_HDR_MAX];
	struct proxy_hdr	 h;
	const char		*why;
	ssize_t			 n;
	int			 len;

	n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = 0;	/* until the next edge brings more */
		return 0;
	}
	if (n <= 0)
		return -1;	/* gone before its header: nothing to say */
	if ((len = proxyproto_parse(buf, (size_t)n, &h, &why)) == -1) {
		refused(c->peer, why);
		return -1;
	}
	if (len == 0) {
		c->readable = 0;
		return 0;
	}
	/* Take the header's bytes alone: what follows is TLS's or HTTP's. */
	if (recv(c->fd, buf, (size_t)len, 0) != len)
		return -1;
	proxy_apply(c, &h);
	return 1;
}
