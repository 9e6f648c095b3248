/*
 * tls.c: front's TLS: the certificate sets the master sends, the
 * handshake, the choice of certificate by SNI, ALPN, session tickets with
 * the master's keys, client certificates, and what a script learns of the
 * session (mod_ssl's SSL_* variables).
 *
 * Front never sees a private key: each certificate's key is a proxy
 * (keyclient.c) whose private operations are done by the key process.
 * The master sends every chain as an open file (MSG_TLS_CERT) and then
 * MSG_TLS_COMMIT; the set is built aside and swapped in whole, so new
 * handshakes use the new set at once and those in flight keep the
 * SSL_CTX they hold (OpenSSL counts its references).
 *
 * One SSL_CTX per name: its ECDSA and its RSA certificate side by side,
 * OpenSSL choosing by the signature algorithms the client offers.
 */
#include <sys/stat.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lockerd.h"
#include "front.h"
#include "keyclient.h"
#include "tls.h"
#include "acme.h"

/* One name's certificates (a host, or *.DOMAIN). */
struct tls_site {
	char	 host[HOSTNAME_MAX + 1];
	SSL_CTX	*ctx;
	int	 types;		/* SITE_EC, SITE_RSA: the key types it has */
};
#define SITE_EC		0x1
#define SITE_RSA	0x2

/* A whole certificate set, as one commit made it. */
struct tls_set {
	struct tls_site	*sites;
	size_t		 n, cap;
	uint32_t	*index;		/* open addressing: site number + 1, or 0 */
	size_t		 icap;		/* a power of two, at least twice n */
	X509_STORE	*client_ca;		/* tls-client-ca's, or NULL */
	STACK_OF(X509_NAME) *client_ca_names;	/* ... named in the request */
};

static struct tls_set	cur, staged;
static SSL_CTX		*dflt;		/* cur's site of the service domain, or its first */
static struct msg_tls_tickets tickets;
static int		 ktls_ok;	/* the kernel has TLS (its "tls" ULP) */
static const unsigned char sid_ctx[] = "lockerd";

/* One line a minute at most for what any client can cause again and again. */
static void
tls_note(const char *what)
{
	static uint64_t	last;

	if (loop_now - last >= 60000 || last == 0) {
		last = loop_now;
		log_warnx("front %d: %s", F.idx, what);
	}
	ERR_clear_error();
}

/*
 * Whether the kernel can take over a connection's records (kTLS): its
 * "tls" upper-layer protocol loaded, or there to load.  Asked once,
 * before the chroot: OpenSSL would otherwise try, and fail, two
 * setsockopt() calls on every connection of a kernel without it.
 */
static int
ktls_available(void)
{
	struct utsname	 u;
	char		 line[256], mod[PATH_MAX];
	FILE		*f;
	int		 ok = 0;

	if ((f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "re")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL)
			for (char *w = strtok(line, " \n"); w != NULL; w = strtok(NULL, " \n"))
				ok |= strcmp(w, "tls") == 0;
		fclose(f);
	}
	if (!ok && uname(&u) == 0) {
		snprintf(mod, sizeof(mod), "/lib/modules/%s/kernel/net/tls", u.release);
		ok = access(mod, F_OK) == 0;
	}
	return ok;
}

void
tls_init(void)
{
	unsigned char b;

	/* OpenSSL reads its configuration and seeds its generator now, while
	 * the files are still there to read (front is chrooted next). */
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1 || RAND_bytes(&b, 1) != 1)
		fatalx("front: OpenSSL does not start");
	ktls_ok = ktls_available();
}

/* ------------------------------------------------------------ callbacks */

/*
 * Names to sites by hash: SNI looks one up on every handshake, and a host
 * of many vhosts has thousands (a walk over them all per handshake, and per
 * certificate while a set is built, grew with the square of their number).
 */
static uint32_t
host_hash(const char *host)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*host != '\0')
		h = (h ^ (unsigned char)*host++) * 16777619u;
	return h;
}

static struct tls_site *
site_find(const struct tls_set *s, const char *host)
{
	size_t		i;
	uint32_t	v;

	if (s->icap == 0)
		return NULL;
	for (i = host_hash(host) & (s->icap - 1); (v = s->index[i]) != 0;
	    i = (i + 1) & (s->icap - 1))
		if (strcmp(s->sites[v - 1].host, host) == 0)
			return &s->sites[v - 1];
	return NULL;
}

static void
index_put(uint32_t *index, size_t icap, const char *host, uint32_t v)
{
	size_t i;

	for (i = host_hash(host) & (icap - 1); index[i] != 0; i = (i + 1) & (icap - 1))
		;
	index[i] = v;
}

/* Room for one more site in the index, rebuilt twice as large when full. */
static int
index_grow(struct tls_set *s)
{
	size_t		 icap, i;
	uint32_t	*index;

	if (2 * (s->n + 1) <= s->icap)
		return 0;
	icap = s->icap ? 2 * s->icap : 64;
	if ((index = calloc(icap, sizeof(*index))) == NULL)
		return -1;
	for (i = 0; i < s->n; i++)
		index_put(index, icap, s->sites[i].host, (uint32_t)i + 1);
	free(s->index);
	s->index = index;
	s->icap = icap;
	return 0;
}

/* The exact name, then *.parent one label deep; NULL: the default. */
static struct tls_site *
site_match(const char *host)
{
	struct tls_site	*st;
	const char	*dot;
	char		 wild[HOSTNAME_MAX + 3];

	if ((st = site_find(&cur, host)) != NULL)
		return st;
	if ((dot = strchr(host, '.')) == NULL || dot[1] == '\0')
		return NULL;
	snprintf(wild, sizeof(wild), "*%s", dot);
	return site_find(&cur, wild);
}

/*
 * SNI: the certificate of the name, or the default for a name that routes
 * here without one of its own; a name that is not ours at all gets
 * unrecognized_name.  The name is kept for 421 and SSL_TLS_SNI.
 */
static int
sni_cb(SSL *ssl, int *al, void *arg)
{
	struct conn	*c = SSL_get_app_data(ssl);
	struct tls_site	*st;
	struct route_result rr;
	const char	*name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	unsigned char	 addr[16];

	(void)arg;
	/* An address is no host name (RFC 6066), though some clients send
	 * one: as if none were named. */
	if (c == NULL || name == NULL || inet_pton(AF_INET, name, addr) == 1 ||
	    inet_pton(AF_INET6, name, addr) == 1)
		return SSL_TLSEXT_ERR_NOACK;
	if (route_canon_host(name, strlen(name), c->tls->sni, sizeof(c->tls->sni)) == -1 ||
	    strchr(name, ':') != NULL) {
		c->tls->sni[0] = '\0';
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if ((st = site_match(c->tls->sni)) != NULL) {
		if (SSL_get_SSL_CTX(ssl) != st->ctx && SSL_set_SSL_CTX(ssl, st->ctx) == NULL)
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		return SSL_TLSEXT_ERR_OK;
	}
	if (F.routes == NULL || route_lookup(F.routes, c->tls->sni, strlen(c->tls->sni), "/",
	    &rr) == ROUTE_UNKNOWN_HOST) {
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	challenge_want(c->tls->sni);	/* ours, without its own: the master may ask */
	return SSL_TLSEXT_ERR_OK;
}

/* ALPN: h2 first unless "http2 off", then http/1.1; a client offering
 * nothing we speak goes on without ALPN (HTTP/1.1), as nginx lets it. */
static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char both[] = "\x02h2\x08http/1.1";
	const unsigned char *ours = F.conf.http2 ? both : both + 3;
	unsigned int ourlen = F.conf.http2 ? sizeof(both) - 1 : sizeof(both) - 4;
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, ours, ourlen, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Session tickets under the master's keys: any front takes any front's. */
static int
ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *ectx,
    EVP_MAC_CTX *hctx, int enc)
{
	const struct tls_ticket_key	*k = NULL;
	OSSL_PARAM			 params[3];
	uint32_t			 i;

	(void)ssl;
	if (enc) {
		if (tickets.n == 0 || RAND_bytes(iv, 16) != 1)
			return 0;	/* no ticket: the session is not resumable */
		k = &tickets.key[0];
		memcpy(name, k->name, 16);
	} else {
		for (i = 0; i < tickets.n && i < TLS_TICKET_KEYS && k == NULL; i++)
			if (memcmp(name, tickets.key[i].name, 16) == 0)
				k = &tickets.key[i];
		if (k == NULL)
			return 0;	/* an unknown or retired key: a full handshake */
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac,
	    sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256",
	    0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1 ||
	    (enc ? EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes, iv) :
	    EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes, iv)) != 1)
		return -1;
	/* Under the previous key: good, and a new ticket under the current one. */
	return enc || k == &tickets.key[0] ? 1 : 2;
}

/* A client certificate is asked for, never required: whatever it is, the
 * handshake goes on and the script reads the verdict in SSL_CLIENT_VERIFY. */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* ------------------------------------------------------------ sets */

static SSL_CTX *
ctx_new(void)
{
	SSL_CTX	*ctx;
	int	 lo = F.conf.tls_protocols & TLS_PROTO_12 ? TLS1_2_VERSION : TLS1_3_VERSION;
	int	 hi = F.conf.tls_protocols & TLS_PROTO_13 ? TLS1_3_VERSION : TLS1_2_VERSION;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, lo) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, hi) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, F.conf.tls_ciphers) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, F.conf.tls_ciphersuites) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1 ||
	    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    (ktls_ok ? SSL_OP_ENABLE_KTLS : 0));
	/* Partial writes: a full socket keeps what went, as send() does. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* Tickets only: a session cache would be this process's alone. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	/* A request's records in one read(), not a header and then a body. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_client_hello_cb(ctx, challenge_hello_cb, NULL);	/* TLS-ALPN-01 */
	return ctx;
}

static void
set_free(struct tls_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		SSL_CTX_free(s->sites[i].ctx);
	free(s->sites);
	free(s->index);
	X509_STORE_free(s->client_ca);
	sk_X509_NAME_pop_free(s->client_ca_names, X509_NAME_free);
	memset(s, 0, sizeof(*s));
}

/* A PEM file the master opened for us, whole; NULL if unreadable or huge. */
static BIO *
pem_of(int fd)
{
	struct stat	 st;
	char		*buf;
	BIO		*b;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > (1 << 20) || (buf = malloc((size_t)st.st_size)) == NULL)
		return NULL;
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size ||
	    (b = BIO_new(BIO_s_mem())) == NULL || BIO_write(b, buf, (int)st.st_size) !=
	    (int)st.st_size) {
		free(buf);
		return NULL;
	}
	free(buf);
	return b;
}

static struct tls_site *
site_get(struct tls_set *s, const char *host)
{
	struct tls_site *st;

	if ((st = site_find(s, host)) != NULL)
		return st;
	if (index_grow(s) == -1)
		return NULL;
	if (s->n == s->cap) {
		size_t	 cap = s->cap ? s->cap * 2 : 16;
		void	*p = realloc(s->sites, cap * sizeof(*s->sites));

		if (p == NULL)
			return NULL;
		s->sites = p;
		s->cap = cap;
	}
	st = &s->sites[s->n];
	memset(st, 0, sizeof(*st));
	snprintf(st->host, sizeof(st->host), "%s", host);
	if ((st->ctx = ctx_new()) == NULL)
		return NULL;
	index_put(s->index, s->icap, st->host, (uint32_t)++s->n);
	return st;
}

/* A chain: the leaf with its proxy key, then the rest, in host's context. */
static int
chain_add(const struct msg_tls_cert *m, BIO *b)
{
	struct tls_site	*st;
	X509		*leaf, *x;
	EVP_PKEY	*pk;
	int		 ok, type;

	if ((leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		return -1;
	type = EVP_PKEY_get_base_id(X509_get0_pubkey(leaf)) == EVP_PKEY_RSA ? SITE_RSA : SITE_EC;
	if ((st = site_get(&staged, m->host)) != NULL && (st->types & type)) {
		/* The first of a type wins: the configuration's lines come
		 * before the TLS directory's (certs.c). */
		X509_free(leaf);
		return 0;
	}
	if (st == NULL || (pk = keyclient_pkey(leaf, m->key_id)) == NULL) {
		X509_free(leaf);
		return -1;
	}
	st->types |= type;
	ok = SSL_CTX_use_certificate(st->ctx, leaf) == 1 &&
	    SSL_CTX_use_PrivateKey(st->ctx, pk) == 1;
	X509_free(leaf);
	EVP_PKEY_free(pk);
	while (ok && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(st->ctx, x) != 1) {
			X509_free(x);
			ok = 0;
		}
	ERR_clear_error();	/* the end of the file reads as an error */
	return ok ? 0 : -1;
}

static int
client_ca_add(BIO *b)
{
	X509 *x;

	if (staged.client_ca == NULL && (staged.client_ca = X509_STORE_new()) == NULL)
		return -1;
	if (staged.client_ca_names == NULL &&
	    (staged.client_ca_names = sk_X509_NAME_new_null()) == NULL)
		return -1;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_NAME *n = X509_NAME_dup(X509_get_subject_name(x));

		if (X509_STORE_add_cert(staged.client_ca, x) != 1 || n == NULL ||
		    sk_X509_NAME_push(staged.client_ca_names, n) == 0)
			X509_NAME_free(n);
		X509_free(x);
	}
	ERR_clear_error();
	return 0;
}

static void
cert_msg(const struct msg_tls_cert *m, int fd)
{
	BIO	*b;
	int	 rc = -1;

	if (fd == -1 || memchr(m->host, '\0', sizeof(m->host)) == NULL ||
	    (b = pem_of(fd)) == NULL) {
		log_warnx("front %d: a certificate file for \"%.40s\" refused", F.idx,
		    m->host);
		return;
	}
	if (m->flags == TLSC_CHAIN && m->host[0] != '\0')
		rc = chain_add(m, b);
	else if (m->flags == TLSC_CLIENT_CA)
		rc = client_ca_add(b);
	BIO_free(b);
	if (rc == -1) {
		log_warnx("front %d: certificate of %s not usable", F.idx, m->host);
		ERR_clear_error();
	}
}

/* The staged set becomes the one new handshakes use. */
static void
commit(void)
{
	struct tls_site	*st;
	size_t		 i;

	for (i = 0; i < staged.n; i++) {
		SSL_CTX *ctx = staged.sites[i].ctx;

		if (staged.client_ca != NULL) {
			SSL_CTX_set1_verify_cert_store(ctx, staged.client_ca);
			SSL_CTX_set_client_CA_list(ctx, SSL_dup_CA_list(staged.client_ca_names));
		}
	}
	set_free(&cur);
	cur = staged;
	memset(&staged, 0, sizeof(staged));
	st = site_find(&cur, F.conf.domain);
	dflt = st != NULL ? st->ctx : cur.n > 0 ? cur.sites[0].ctx : NULL;
}

void
tls_master_msg(enum msg_type type, const void *m, size_t len, int fd)
{
	(void)len;
	switch (type) {
	case MSG_TLS_CERT:
		cert_msg(m, fd);
		break;
	case MSG_TLS_COMMIT:
		commit();
		break;
	case MSG_TLS_TICKETS:
		memcpy(&tickets, m, sizeof(tickets));
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ connections */

int
tls_conn_new(struct conn *c)
{
	struct tls_conn *t;
	SSL_CTX		*first;

	/* Before the first certificate, only a TLS-ALPN-01 validation can go on. */
	if ((first = dflt != NULL ? dflt : challenge_alpn_any()) == NULL) {
		tls_note("a TLS connection closed: no certificate yet");
		return -1;
	}
	if (F.handshakes >= F.conf.tls_max_handshakes)
		return -1;	/* tls-max-handshakes: the rest wait for none */
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if ((t->ssl = SSL_new(first)) == NULL || SSL_set_fd(t->ssl, c->fd) != 1) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return -1;
	}
	t->sock = SSL_get_rbio(t->ssl);
	SSL_set_app_data(t->ssl, c);
	SSL_set_accept_state(t->ssl);
	if (c->lflags & LISTEN_VERIFY)
		SSL_set_verify(t->ssl, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, verify_cb);
	c->tls = t;
	t->counted = 1;
	F.handshakes++;
	conn_set_state(c, C_HANDSHAKE, F.conf.tls_handshake_timeout);
	return 0;
}

static void
handshake_uncount(struct tls_conn *t)
{
	if (t->counted) {
		t->counted = 0;
		F.handshakes--;
	}
}

int
tls_handshake(struct conn *c)
{
	struct tls_conn	*t = c->tls;
	int		 r = SSL_do_handshake(t->ssl);

	if (r == 1 && t->acme)
		return -1;	/* the validation was the handshake: nothing follows */
	if (r == 1) {
		handshake_uncount(t);
		t->ktls = BIO_get_ktls_send(SSL_get_wbio(t->ssl));
		c->readable = 1;	/* the request may be in OpenSSL's buffer already */
		return 1;
	}
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		t->hs_wants_write = 0;
		c->readable = 0;	/* until EPOLLIN: its edge brings the bytes */
		return 0;
	case SSL_ERROR_WANT_WRITE:
		t->hs_wants_write = 1;
		return 0;
	default:
		/* Garbage, a truncated hello, no shared cipher: this one only. */
		ERR_clear_error();
		return -1;
	}
}

void
tls_conn_free(struct conn *c)
{
	struct tls_conn *t = c->tls;

	if (t == NULL)
		return;
	handshake_uncount(t);
	SSL_free(t->ssl);
	free(t->buf);
	free(t);
	c->tls = NULL;
}

/* ------------------------------------------------------------ requests */

/* Where name routes: the service (any of its names), a locker, or a
 * locker's subdirectory by vhost; "" for none. */
static void
target_of(const char *name, size_t len, char *out, size_t outsz)
{
	struct route_result	 rr;
	enum route_status	 rs = route_lookup(F.routes, name, len, "/", &rr);

	if (rs == ROUTE_SERVICE)
		snprintf(out, outsz, "/");
	else if (rs == ROUTE_LOCKER)
		snprintf(out, outsz, "%s:%s", rr.locker, rr.fs_path);
	else
		snprintf(out, outsz, "?%.*s", (int)len, name);
}

int
tls_misdirected(const struct conn *c)
{
	char	a[HOSTNAME_MAX + 4096 + 8], b[sizeof(a)], host[HOSTNAME_MAX + 1];

	if (c->tls == NULL || c->tls->sni[0] == '\0' || c->req.host.p == NULL ||
	    F.routes == NULL)
		return 0;
	if (route_canon_host(c->req.host.p, c->req.host.len, host, sizeof(host)) == -1 ||
	    strcmp(host, c->tls->sni) == 0)
		return 0;
	target_of(c->tls->sni, strlen(c->tls->sni), a, sizeof(a));
	target_of(host, strlen(host), b, sizeof(b));
	return strcmp(a, b) != 0;
}

/* ------------------------------------------------------------ SSL_* */

struct envbuf {
	char	*p;
	size_t	 cap, len;
};

/* NAME=value\n, the value's control bytes made '?': one line each. */
static void __attribute__((format(printf, 3, 4)))
envf(struct envbuf *e, const char *name, const char *fmt, ...)
{
	char	v[1024];
	va_list	ap;
	int	n;
	size_t	i;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			v[i] = '?';
	n = snprintf(e->p + e->len, e->cap - e->len, "%s=%s\n", name, v);
	if (n > 0 && (size_t)n < e->cap - e->len)
		e->len += (size_t)n;
}

/* A distinguished name as mod_ssl prints it (RFC 2253, UTF-8 as is). */
static void
env_dn(struct envbuf *e, const char *name, const X509_NAME *dn)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*p;
	long	 n;

	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, dn, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		envf(e, name, "%.*s", (int)(n > 1000 ? 1000 : n), p);
	BIO_free(b);
}

static void
env_time(struct envbuf *e, const char *name, const ASN1_TIME *t)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*p;
	long	 n;

	if (b == NULL)
		return;
	if (ASN1_TIME_print(b, t) == 1 && (n = BIO_get_mem_data(b, &p)) > 0)
		envf(e, name, "%.*s", (int)(n > 100 ? 100 : n), p);
	BIO_free(b);
}

static void
env_client(struct envbuf *e, SSL *ssl)
{
	X509		*x = SSL_get0_peer_certificate(ssl);
	X509_NAME	*s;
	BIGNUM		*bn;
	char		*hex, cn[256];
	long		 v;

	if (x == NULL) {
		envf(e, "SSL_CLIENT_VERIFY", "NONE");
		return;
	}
	v = SSL_get_verify_result(ssl);
	if (v == X509_V_OK)
		envf(e, "SSL_CLIENT_VERIFY", "SUCCESS");
	else
		envf(e, "SSL_CLIENT_VERIFY", "FAILED:%s", X509_verify_cert_error_string(v));
	s = X509_get_subject_name(x);
	env_dn(e, "SSL_CLIENT_S_DN", s);
	env_dn(e, "SSL_CLIENT_I_DN", X509_get_issuer_name(x));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) != NULL) {
		if ((hex = BN_bn2hex(bn)) != NULL)
			envf(e, "SSL_CLIENT_M_SERIAL", "%s", hex);
		OPENSSL_free(hex);
		BN_free(bn);
	}
	env_time(e, "SSL_CLIENT_V_START", X509_get0_notBefore(x));
	env_time(e, "SSL_CLIENT_V_END", X509_get0_notAfter(x));
	if (X509_NAME_get_text_by_NID(s, NID_commonName, cn, sizeof(cn)) > 0)
		envf(e, "SSL_CLIENT_S_DN_CN", "%s", cn);
	ERR_clear_error();
}

size_t
tls_env(const struct conn *c, char *buf, size_t cap)
{
	struct envbuf		 e = { buf, cap, 0 };
	SSL			*ssl;
	const SSL_CIPHER	*ci;
	int			 alg = 0, use;

	if (c->tls == NULL)
		return 0;
	ssl = c->tls->ssl;
	ci = SSL_get_current_cipher(ssl);
	use = SSL_CIPHER_get_bits(ci, &alg);
	envf(&e, "SSL_PROTOCOL", "%s", SSL_get_version(ssl));
	envf(&e, "SSL_CIPHER", "%s", SSL_CIPHER_get_name(ci));
	envf(&e, "SSL_CIPHER_USEKEYSIZE", "%d", use);
	envf(&e, "SSL_CIPHER_ALGKEYSIZE", "%d", alg);
	if (c->tls->sni[0] != '\0')
		envf(&e, "SSL_TLS_SNI", "%s", c->tls->sni);
	envf(&e, "SSL_SESSION_RESUMED", "%s", SSL_session_reused(ssl) ? "Resumed" : "Initial");
	if (c->lflags & LISTEN_VERIFY)
		env_client(&e, ssl);
	return e.len;
}
