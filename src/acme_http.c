/*
 * acme_http.c: the ACME client's HTTPS/1.1, over OpenSSL: one request per
 * connection ("Connection: close"), with one deadline for the whole
 * exchange, a cap on what is read, and no redirect followed (RFC 8555
 * needs none: a 3xx is an error like any other).  The CA's certificate is
 * verified against acme-ca-bundle, or the system's roots, and its name.
 *
 * acme_http_parse() reads a whole response from bytes and nothing else,
 * for the fuzz target.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lockerd.h"
#include "acme_int.h"

/* ------------------------------------------------------------ URLs */

int
acme_url_parse(const char *url, struct acme_url *u)
{
	const char	*h, *end, *colon, *path;
	size_t		 hl;
	uint64_t	 port;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "https://", 8) != 0)
		return -1;
	h = url + 8;
	path = strchr(h, '/');
	end = path != NULL ? path : h + strlen(h);
	if (h[0] == '[') {		/* [v6]:port */
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (close == NULL)
			return -1;
		hl = (size_t)(close - h - 1);
		if (hl == 0 || hl >= sizeof(u->host))
			return -1;
		memcpy(u->host, h + 1, hl);
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		if (close + 1 < end && colon == NULL)
			return -1;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hl = (size_t)((colon != NULL ? colon : end) - h);
		if (hl == 0 || hl >= sizeof(u->host))
			return -1;
		memcpy(u->host, h, hl);
	}
	snprintf(u->port, sizeof(u->port), "443");
	if (colon != NULL) {
		char digits[8];
		size_t dl = (size_t)(end - colon - 1);

		if (dl == 0 || dl >= sizeof(digits))
			return -1;
		memcpy(digits, colon + 1, dl);
		digits[dl] = '\0';
		if (parse_uint(digits, 65535, &port) == -1 || port == 0)
			return -1;
		snprintf(u->port, sizeof(u->port), "%u", (unsigned)port);
	}
	if (strlen(path != NULL ? path : "/") >= sizeof(u->path))
		return -1;
	snprintf(u->path, sizeof(u->path), "%s", path != NULL ? path : "/");
	for (h = u->host; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != ':')
			return -1;
	for (h = u->path; *h; h++)
		if ((unsigned char)*h <= ' ' || (unsigned char)*h >= 0x7f)
			return -1;
	return 0;
}

/* ------------------------------------------------------------ parsing */

void
acme_resp_free(struct acme_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

/* A header's value into out, trimmed; a value too long for it is an error. */
static int
header_copy(char *out, size_t outsz, const char *v, size_t vl)
{
	while (vl > 0 && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (vl >= outsz)
		return -1;
	memcpy(out, v, vl);
	out[vl] = '\0';
	return 0;
}

/* Link: <URL>;rel="up" (RFC 8555 7.4.2: the issuer's alternate chains). */
static void
header_link(struct acme_resp *r, const char *v, size_t vl)
{
	const char *lt = memchr(v, '<', vl), *gt;

	if (lt == NULL || (gt = memchr(lt, '>', vl - (size_t)(lt - v))) == NULL)
		return;
	if (memmem(gt, vl - (size_t)(gt - v), "rel=\"up\"", 8) == NULL)
		return;
	header_copy(r->link_up, sizeof(r->link_up), lt + 1, (size_t)(gt - lt - 1));
}

static int
header_one(struct acme_resp *r, const char *line, size_t len, int *chunked, long long *clen)
{
	const char	*colon = memchr(line, ':', len), *v;
	size_t		 nl, vl;
	char		 num[24];
	uint64_t	 n;

	if (colon == NULL || colon == line)
		return -1;
	nl = (size_t)(colon - line);
	v = colon + 1;
	vl = len - nl - 1;
	if (nl == 12 && strncasecmp(line, "Replay-Nonce", 12) == 0)
		return header_copy(r->nonce, sizeof(r->nonce), v, vl);
	if (nl == 8 && strncasecmp(line, "Location", 8) == 0)
		return header_copy(r->location, sizeof(r->location), v, vl);
	if (nl == 12 && strncasecmp(line, "Content-Type", 12) == 0)
		return header_copy(r->content_type, sizeof(r->content_type), v, vl) == -1 ?
		    (r->content_type[0] = '\0', 0) : 0;
	if (nl == 4 && strncasecmp(line, "Link", 4) == 0)
		header_link(r, v, vl);
	else if (nl == 11 && strncasecmp(line, "Retry-After", 11) == 0) {
		if (header_copy(num, sizeof(num), v, vl) == 0 && parse_uint(num, 86400 * 7, &n) == 0)
			r->retry_after = (uint32_t)n;
	} else if (nl == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0)
		*chunked = memmem(v, vl, "chunked", 7) != NULL;
	else if (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		if (header_copy(num, sizeof(num), v, vl) == -1 ||
		    parse_uint(num, ACME_BODY_MAX, &n) == -1)
			return -1;
		*clen = (long long)n;
	}
	return 0;
}

/* "HTTP/1.x NNN reason" */
static int
status_line(struct acme_resp *r, const char *line, size_t len)
{
	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
	    !isdigit((unsigned char)line[9]) || !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) || (len > 12 && line[12] != ' '))
		return -1;
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return r->status >= 100 ? 0 : -1;
}

/* The chunks of b[0..len) into out; 1 if more is needed, 0 done, -1 bad. */
static int
dechunk(const char *b, size_t len, char *out, size_t *outlen)
{
	size_t	pos = 0, size;
	const char *nl;
	char	*endp;

	*outlen = 0;
	for (;;) {
		if ((nl = memchr(b + pos, '\n', len - pos)) == NULL)
			return len - pos > 32 ? -1 : 1;
		if (!isxdigit((unsigned char)b[pos]))
			return -1;
		errno = 0;
		size = strtoul(b + pos, &endp, 16);
		if (errno != 0 || size > ACME_BODY_MAX || endp > nl)
			return -1;
		pos = (size_t)(nl - b) + 1;
		if (size == 0)
			return 0;	/* trailers, if any, are not read */
		if (*outlen + size > ACME_BODY_MAX)
			return -1;
		if (len - pos < size + 2)
			return 1;
		memcpy(out + *outlen, b + pos, size);
		*outlen += size;
		pos += size;
		if (b[pos] == '\r')
			pos++;
		if (b[pos] != '\n')
			return -1;
		pos++;
	}
}

/* The body of b[0..len), as the head said it comes. */
static int
parse_body(struct acme_resp *r, const char *b, size_t len, int eof, int chunked,
    long long clen)
{
	size_t	n;
	int	rc;

	if ((r->body = malloc(ACME_BODY_MAX + 1)) == NULL)
		return -1;
	if (chunked) {
		if ((rc = dechunk(b, len, r->body, &n)) != 0) {
			acme_resp_free(r);
			return rc == 1 && !eof ? 1 : -1;
		}
	} else if (clen >= 0) {
		if (len < (size_t)clen) {
			acme_resp_free(r);
			return eof ? -1 : 1;
		}
		n = (size_t)clen;
		memcpy(r->body, b, n);
	} else {
		if (!eof) {
			acme_resp_free(r);
			return 1;
		}
		if (len > ACME_BODY_MAX) {
			acme_resp_free(r);
			return -1;
		}
		n = len;
		memcpy(r->body, b, n);
	}
	r->body[n] = '\0';
	r->body_len = n;
	return 0;
}

int
acme_http_parse(const char *buf, size_t len, int eof, struct acme_resp *r)
{
	const char	*p = buf, *end, *nl;
	int		 chunked = 0, first = 1;
	long long	 clen = -1;
	size_t		 ll;

	memset(r, 0, sizeof(*r));
	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		return len > ACME_HEAD_MAX || eof ? -1 : 1;
	if ((size_t)(end - buf) > ACME_HEAD_MAX)
		return -1;
	while (p < end) {
		nl = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		ll = (size_t)(nl - p);
		if (memchr(p, '\0', ll) != NULL)
			return -1;
		if (first ? status_line(r, p, ll) : header_one(r, p, ll, &chunked, &clen)) {
			memset(r, 0, sizeof(*r));
			return -1;
		}
		first = 0;
		p = nl + 2;
	}
	if (first)
		return -1;	/* no status line */
	return parse_body(r, end + 4, len - (size_t)(end + 4 - buf), eof, chunked, clen);
}

/* ------------------------------------------------------------ I/O */

static int64_t
left_ms(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (int64_t)(deadline - now);
}

/* Waits for what OpenSSL asked for (ret: its last result); -1 past the deadline. */
static int
ssl_wait(SSL *ssl, int fd, int ret, uint64_t deadline)
{
	struct pollfd	pfd = { .fd = fd };
	int		e = SSL_get_error(ssl, ret), n;

	if (e == SSL_ERROR_WANT_READ)
		pfd.events = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		pfd.events = POLLOUT;
	else
		return -1;
	do
		n = poll(&pfd, 1, (int)left_ms(deadline));
	while (n == -1 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

static int
tcp_connect(const struct acme_url *u, uint64_t deadline, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct pollfd	 pfd;
	int		 fd = -1, rc, soerr;
	socklen_t	 sl = sizeof(soerr);

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", u->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (errno == EINPROGRESS && poll(&pfd, 1, (int)left_ms(deadline)) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "cannot connect to %s port %s", u->host, u->port);
	return fd;
}

int
acme_http_init(struct acme_http *h, const char *bundle, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if ((h->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(h->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(h->ctx, SSL_VERIFY_PEER, NULL);
	if (bundle != NULL && bundle[0] != '\0' ?
	    SSL_CTX_load_verify_locations(h->ctx, bundle, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(h->ctx) != 1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "the CA's TLS set-up (%s): %s", bundle && bundle[0] ? bundle :
	    "system roots", ERR_reason_error_string(ERR_get_error()));
	if (h->ctx != NULL)
		SSL_CTX_free(h->ctx);
	h->ctx = NULL;
	return -1;
}

void
acme_http_free(struct acme_http *h)
{
	if (h->ctx != NULL)
		SSL_CTX_free(h->ctx);
	h->ctx = NULL;
}

static int
ssl_write_all(SSL *ssl, int fd, const char *b, size_t len, uint64_t deadline)
{
	size_t	off = 0;
	int	n;

	while (off < len) {
		if ((n = SSL_write(ssl, b + off, (int)(len - off))) > 0)
			off += (size_t)n;
		else if (ssl_wait(ssl, fd, n, deadline) == -1)
			return -1;
	}
	return 0;
}

/* Reads until the response is whole, the peer closes, the cap, or the deadline. */
static int
ssl_read_resp(SSL *ssl, int fd, uint64_t deadline, struct acme_resp *r, char *err,
    size_t errlen)
{
	size_t	 cap = ACME_HEAD_MAX + 2 * ACME_BODY_MAX + 64, len = 0;
	char	*buf = malloc(cap);
	int	 n, rc = 1, eof = 0;

	if (buf == NULL)
		return errno_fail(err, errlen, "malloc");
	while (rc == 1) {
		n = SSL_read(ssl, buf + len, (int)(cap - len));
		if (n > 0)
			len += (size_t)n;
		else if (SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN ||
		    SSL_get_error(ssl, n) == SSL_ERROR_SYSCALL)
			eof = 1;
		else if (ssl_wait(ssl, fd, n, deadline) == -1) {
			snprintf(err, errlen, "no whole answer within %ds", ACME_HTTP_TIMEOUT);
			break;
		}
		if ((rc = acme_http_parse(buf, len, eof || len == cap, r)) == -1)
			snprintf(err, errlen, "a malformed or oversized answer (%zu bytes read)",
			    len);
	}
	free(buf);
	return rc == 0 ? 0 : -1;
}

int
acme_http_request(struct acme_http *h, const char *method, const char *url, const char *body,
    struct acme_resp *r, char *err, size_t errlen)
{
	struct acme_url	 u;
	uint64_t	 deadline = now_ms() + ACME_HTTP_TIMEOUT * 1000;
	unsigned char	 ip[16];
	char		*req, clen[96];
	SSL		*ssl = NULL;
	int		 fd, n, rc = -1, len, is_ip;

	memset(r, 0, sizeof(*r));
	if (acme_url_parse(url, &u) == -1) {
		snprintf(err, errlen, "not an https:// URL the client takes: %.200s", url);
		return -1;
	}
	if ((fd = tcp_connect(&u, deadline, err, errlen)) == -1)
		return -1;
	clen[0] = '\0';
	if (body != NULL)
		snprintf(clen, sizeof(clen), "Content-Type: application/jose+json\r\n"
		    "Content-Length: %zu\r\n", strlen(body));
	len = asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s\r\nUser-Agent: " SERVER_SOFTWARE
	    "\r\nAccept: */*\r\nConnection: close\r\n%s\r\n%s", method, u.path, u.host,
	    strcmp(u.port, "443") ? ":" : "", strcmp(u.port, "443") ? u.port : "", clen,
	    body != NULL ? body : "");
	if (len < 0) {
		close(fd);
		return errno_fail(err, errlen, "asprintf");
	}
	is_ip = inet_pton(AF_INET, u.host, ip) == 1 || inet_pton(AF_INET6, u.host, ip) == 1;
	/* An address is checked against the certificate's IP names, a name
	 * against its DNS names (and sent as SNI). */
	if ((ssl = SSL_new(h->ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u.host) != 1 :
	    (SSL_set1_host(ssl, u.host) != 1 || SSL_set_tlsext_host_name(ssl, u.host) != 1))) {
		snprintf(err, errlen, "TLS set-up failed");
		goto done;
	}
	while ((n = SSL_connect(ssl)) != 1)
		if (ssl_wait(ssl, fd, n, deadline) == -1) {
			long v = SSL_get_verify_result(ssl);

			snprintf(err, errlen, "TLS handshake with %s failed: %s", u.host,
			    v != X509_V_OK ? X509_verify_cert_error_string(v) :
			    ERR_reason_error_string(ERR_get_error()));
			goto done;
		}
	if (ssl_write_all(ssl, fd, req, (size_t)len, deadline) == -1) {
		snprintf(err, errlen, "cannot send to %s", u.host);
		goto done;
	}
	rc = ssl_read_resp(ssl, fd, deadline, r, err, errlen);
done:
	ERR_clear_error();
	free(req);
	if (ssl != NULL)
		SSL_free(ssl);
	close(fd);
	return rc;
}
