/*
 * challenge.c: front's answers to ACME HTTP-01 (RFC 8555 8.3) and
 * TLS-ALPN-01 (RFC 8737).  The ACME
 * process hands its tokens to the master, which relays them to every
 * front (MSG_CHALLENGE); front keeps them in memory and answers
 * GET /.well-known/acme-challenge/TOKEN with the key authorization on
 * every listener and for every Host, before any routing.  Nothing is on
 * disk for a locker to touch, and a locker's own files under that path
 * (certbot's or lego's --webroot) are still served when no token matches.
 *
 * TLS-ALPN-01: a ClientHello that offers ALPN "acme-tls/1" alone, for a
 * name with a live challenge, is taken (before SNI and ALPN are decided)
 * to that challenge's own SSL_CTX: its self-signed certificate with the
 * acmeIdentifier, ALPN acme-tls/1; the connection ends with the handshake.
 * Any other ClientHello goes on as if this file did not exist.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "lockerd.h"
#include "acme.h"
#include "front.h"
#include "tls.h"

#define PREFIX		"/.well-known/acme-challenge/"

static struct msg_acme_token	tokens[ACME_TOKENS_MAX];

void
challenge_set(const struct msg_acme_token *t)
{
	struct msg_acme_token	*free_slot = NULL;
	int			 i;

	/* The master checked them; a front that trusts nobody checks again. */
	if (memchr(t->token, '\0', sizeof(t->token)) == NULL ||
	    memchr(t->keyauth, '\0', sizeof(t->keyauth)) == NULL || !acme_token_ok(t->token) ||
	    (t->set && !acme_keyauth_ok(t->keyauth)))
		return;
	for (i = 0; i < ACME_TOKENS_MAX; i++) {
		if (tokens[i].set && strcmp(tokens[i].token, t->token) == 0) {
			if (!t->set)
				memset(&tokens[i], 0, sizeof(tokens[i]));
			else
				tokens[i] = *t;
			return;
		}
		if (!tokens[i].set && free_slot == NULL)
			free_slot = &tokens[i];
	}
	if (t->set && free_slot != NULL)
		*free_slot = *t;
}

int
challenge_lookup(const char *path, const char **keyauth)
{
	int i;

	if (strncmp(path, PREFIX, sizeof(PREFIX) - 1) != 0)
		return 0;
	path += sizeof(PREFIX) - 1;
	for (i = 0; i < ACME_TOKENS_MAX; i++)
		if (tokens[i].set && strcmp(tokens[i].token, path) == 0) {
			*keyauth = tokens[i].keyauth;
			return 1;
		}
	return 0;
}

int
challenge_answer(struct conn *c)
{
	const char	*ka;
	size_t		 n;

	if ((c->req.method != HTTP_M_GET && c->req.method != HTTP_M_HEAD) ||
	    !challenge_lookup(c->path, &ka))
		return 0;
	n = strlen(ka);
	head_begin(c, 200);
	head_add(c, "Content-Type: text/plain\r\nContent-Length: %zu\r\n", n);
	head_end(c);
	if (c->req.method == HTTP_M_GET && c->outlen + n <= sizeof(c->out)) {
		memcpy(c->out + c->outlen, ka, n);
		c->outlen += n;
		c->body_bytes = (off_t)n;
	}
	conn_set_state(c, C_SEND, F.conf.send_timeout);
	return 1;
}

/* ------------------------------------------------------------ TLS-ALPN-01 */

static const unsigned char acme_tls_1[] = "\x0a" "acme-tls/1";

static struct {
	char	 host[HOSTNAME_MAX + 1];
	SSL_CTX	*ctx;
} alpns[ACME_ALPN_MAX];

/* The challenge's SNI is decided already: no other certificate. */
static int
alpn_sni_cb(SSL *ssl, int *al, void *arg)
{
	(void)ssl;
	(void)al;
	(void)arg;
	return SSL_TLSEXT_ERR_OK;
}

static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, acme_tls_1, sizeof(acme_tls_1) - 1, in,
	    inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *
alpn_ctx(const struct msg_acme_alpn *m)
{
	SSL_CTX		*ctx = SSL_CTX_new(TLS_server_method());
	BIO		*b = BIO_new_mem_buf(m->pem, (int)m->cert_len + m->key_len);
	X509		*x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY	*k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	if (ctx == NULL || x == NULL || k == NULL || SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, k) != 1 || SSL_CTX_check_private_key(ctx) != 1 ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	} else {
		SSL_CTX_set_tlsext_servername_callback(ctx, alpn_sni_cb);
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
		SSL_CTX_set_client_hello_cb(ctx, challenge_hello_cb, NULL);
	}
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(b);
	ERR_clear_error();
	return ctx;
}

void
challenge_alpn_set(const struct msg_acme_alpn *m)
{
	char	host[HOSTNAME_MAX + 1];
	int	i, slot = -1;

	if (memchr(m->host, '\0', sizeof(m->host)) == NULL ||
	    (size_t)m->cert_len + m->key_len > sizeof(m->pem) ||
	    route_canon_host(m->host, strlen(m->host), host, sizeof(host)) == -1)
		return;
	for (i = 0; i < ACME_ALPN_MAX; i++)
		if (alpns[i].ctx != NULL && strcmp(alpns[i].host, host) == 0) {
			/* Handshakes in flight keep it: SSL_CTX is refcounted. */
			SSL_CTX_free(alpns[i].ctx);
			alpns[i].ctx = NULL;
		}
	if (!m->set)
		return;
	for (i = 0; i < ACME_ALPN_MAX && slot == -1; i++)
		if (alpns[i].ctx == NULL)
			slot = i;
	if (slot == -1 || (alpns[slot].ctx = alpn_ctx(m)) == NULL)
		return;
	snprintf(alpns[slot].host, sizeof(alpns[slot].host), "%s", host);
}

SSL_CTX *
challenge_alpn_any(void)
{
	int i;

	for (i = 0; i < ACME_ALPN_MAX; i++)
		if (alpns[i].ctx != NULL)
			return alpns[i].ctx;
	return NULL;
}

/* The server_name extension's host_name (RFC 6066 3), canonical, or -1. */
static int
hello_sni(SSL *ssl, char *out, size_t outsz)
{
	const unsigned char	*p;
	size_t			 len, n;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) != 1 ||
	    len < 5 || (size_t)(p[0] << 8 | p[1]) != len - 2 || p[2] != TLSEXT_NAMETYPE_host_name)
		return -1;
	n = (size_t)(p[3] << 8 | p[4]);
	if (n == 0 || n > len - 5)
		return -1;
	return route_canon_host((const char *)p + 5, n, out, outsz);
}

int
challenge_hello_cb(SSL *ssl, int *al, void *arg)
{
	const unsigned char	*p;
	size_t			 len;
	char			 host[HOSTNAME_MAX + 1];
	struct conn		*c = SSL_get_app_data(ssl);
	int			 i;

	(void)al;
	(void)arg;
	/* RFC 8737 3: the validator offers acme-tls/1 and nothing else. */
	if (c == NULL || c->tls == NULL ||
	    SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation,
	    &p, &len) != 1 || len != sizeof(acme_tls_1) + 1 || p[0] != 0 ||
	    p[1] != sizeof(acme_tls_1) - 1 || memcmp(p + 2, acme_tls_1, sizeof(acme_tls_1) - 1) != 0 ||
	    hello_sni(ssl, host, sizeof(host)) == -1)
		return SSL_CLIENT_HELLO_SUCCESS;
	for (i = 0; i < ACME_ALPN_MAX; i++)
		if (alpns[i].ctx != NULL && strcmp(alpns[i].host, host) == 0) {
			if (SSL_set_SSL_CTX(ssl, alpns[i].ctx) == NULL)
				return SSL_CLIENT_HELLO_ERROR;
			c->tls->acme = 1;
			break;
		}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* ------------------------------------------------------------ on demand */

#define WANT_NAMES	64
#define WANT_QUIET_MS	60000
#define WANT_GAP_MS	200

void
challenge_want(const char *host)
{
	static struct {
		char		host[HOSTNAME_MAX + 1];
		uint64_t	at;
	}		 told[WANT_NAMES];
	static uint64_t	 last;
	int		 i, oldest = 0;

	if (loop_now - last < WANT_GAP_MS)
		return;
	for (i = 0; i < WANT_NAMES; i++) {
		if (strcmp(told[i].host, host) == 0 && loop_now - told[i].at < WANT_QUIET_MS)
			return;
		if (told[i].at < told[oldest].at)
			oldest = i;
	}
	snprintf(told[oldest].host, sizeof(told[oldest].host), "%s", host);
	told[oldest].at = loop_now;
	last = loop_now;
	msg_send(F.master, MSG_TLS_WANT, host, strlen(host) + 1, -1);
}
