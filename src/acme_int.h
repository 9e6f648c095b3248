/*
 * acme_int.h: private to the ACME client's files (acme.c, acme_order.c,
 * acme_http.c, acme_jws.c, acme_proto.c) and to fuzz/fuzz_acme.c.
 */
#ifndef LOCKERD_ACME_INT_H
#define LOCKERD_ACME_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "acme.h"
#include "dnsupdate.h"
#include "dns01.h"

#define ACME_URL_MAX		1024
#define ACME_HEAD_MAX		(16 * 1024)
#define ACME_BODY_MAX		(64 * 1024)	/* a chain of a few certificates fits */
#define ACME_HTTP_TIMEOUT	10		/* seconds for one whole exchange */
#define ACME_NONCE_MAX		127
#define ACME_AUTHZ_MAX		16
#define ACME_CHAL_MAX		8

/* ------------------------------------------------------------ acme_http.c */
struct acme_url {
	char	host[256];
	char	port[8];
	char	path[ACME_URL_MAX];
};
int	acme_url_parse(const char *url, struct acme_url *u);	/* https:// only */

struct acme_resp {
	int		status;
	char		nonce[ACME_NONCE_MAX + 1];
	char		location[ACME_URL_MAX];
	char		link_up[ACME_URL_MAX];
	char		content_type[64];
	uint32_t	retry_after;		/* seconds, 0 if none */
	char		*body;			/* NUL-terminated, malloc'd */
	size_t		body_len;
};
/* A whole response in buf: 0 (r filled), 1 more bytes needed (not at
 * eof), -1 malformed or too large.  Pure: the fuzz target's way in. */
int	acme_http_parse(const char *buf, size_t len, int eof, struct acme_resp *r);
void	acme_resp_free(struct acme_resp *r);

struct acme_http {
	SSL_CTX	*ctx;
};
int	acme_http_init(struct acme_http *h, const char *bundle, char *err, size_t errlen);
void	acme_http_free(struct acme_http *h);
/* One exchange within ACME_HTTP_TIMEOUT; body NULL: none (GET).  0, or -1
 * with err; an HTTP error status is 0 with r->status saying it. */
int	acme_http_request(struct acme_http *h, const char *method, const char *url,
	    const char *body, struct acme_resp *r, char *err, size_t errlen);

/* ------------------------------------------------------------ acme_proto.c */
struct acme_dir {
	char	new_nonce[ACME_URL_MAX];
	char	new_account[ACME_URL_MAX];
	char	new_order[ACME_URL_MAX];
	char	renewal_info[ACME_URL_MAX];	/* ARI, "" if the CA has none */
};
struct acme_order {
	char	status[16];
	char	finalize[ACME_URL_MAX];
	char	certificate[ACME_URL_MAX];
	int	nauthz;
	char	authz[ACME_AUTHZ_MAX][ACME_URL_MAX];
};
struct acme_chal {
	char	type[16];
	char	url[ACME_URL_MAX];
	char	token[ACME_TOKEN_MAX + 1];
	char	status[16];
};
struct acme_authz {
	char	status[16];
	char	ident[HOSTNAME_MAX + 1];
	int	wildcard;
	int	nchal;
	struct acme_chal chal[ACME_CHAL_MAX];
};
struct acme_problem {
	char	type[128];
	char	detail[ACME_ERROR_MAX + 1];
};
/* Each: 0, or -1 with err saying what was wrong with the document. */
int	acme_parse_directory(const char *body, size_t len, struct acme_dir *d,
	    char *err, size_t errlen);
int	acme_parse_order(const char *body, size_t len, struct acme_order *o,
	    char *err, size_t errlen);
int	acme_parse_authz(const char *body, size_t len, struct acme_authz *a,
	    char *err, size_t errlen);
int	acme_parse_status(const char *body, size_t len, char *status, size_t statussz,
	    char *err, size_t errlen);
/* A problem document (RFC 7807) or what can be said of a body that is none. */
void	acme_parse_problem(const char *body, size_t len, struct acme_problem *p);
/* Why an authorization failed: its first challenge error's detail,
 * printable, or "". */
void	acme_parse_authz_error(const char *body, size_t len, char *out, size_t outsz);
/* ARI (draft-ietf-acme-ari): the window's start, or 0. */
int64_t	acme_parse_renewal_info(const char *body, size_t len);

/* ------------------------------------------------------------ acme_jws.c */
EVP_PKEY *acme_key_new(int type);		/* ACME_KEY_ECDSA (P-256) or _RSA (2048) */
int	acme_b64url(const unsigned char *in, size_t len, char *out, size_t outsz);
int	acme_thumbprint(EVP_PKEY *k, char *out, size_t outsz);
/* The flattened JWS of payload (NULL: POST-as-GET's empty one), signed
 * ES256 with the account key; kid NULL puts the public key in instead. */
char	*acme_jws(EVP_PKEY *k, const char *kid, const char *nonce, const char *url,
	    const char *payload);
char	*acme_csr(EVP_PKEY *k, const char *host);	/* base64url DER, malloc'd */
/* A certificate chain from the CA: 0 if its leaf holds k's public key and
 * names host, with not_before, not_after and the issuer's name; -1 with err. */
int	acme_chain_check(const char *pem, size_t len, EVP_PKEY *k, const char *host,
	    int64_t *not_before, int64_t *not_after, char *issuer, size_t issuersz,
	    char *err, size_t errlen);
/* ARI's certificate id: base64url(AKI) "." base64url(serial); -1 if none. */
int	acme_ari_id(const char *pem, size_t len, char *out, size_t outsz);
/* TLS-ALPN-01's self-signed certificate for host and its throwaway key
 * (RFC 8737), both PEM, malloc'd; 0, or -1. */
int	acme_alpn_cert(const char *host, const char *keyauth, char **cert_pem, char **key_pem);
/* A file's certificate (the first of a chain): its dates and issuer; -1 if none. */
int	acme_cert_file_info(const char *path, int64_t *not_before, int64_t *not_after,
	    char *issuer, size_t issuersz);

/* ------------------------------------------------------------ acme.c, acme_order.c */
struct acme_host {
	char		host[HOSTNAME_MAX + 1];
	char		file[HOSTNAME_MAX + 16];	/* stem in tls-dir (acme_host_file) */
	char		locker[LOCKER_NAME_MAX + 1];
	uint8_t		kind, over_budget, listed;
	int		state;			/* enum acme_state */
	int		renew_failed;
	int		ca;			/* 0 acme-ca, 1 acme-ca-fallback */
	uint32_t	failures;		/* in a row, at either CA: the backoff's */
	uint32_t	ca_failures;		/* ... at this one: acme-fallback-after's */
	int64_t		not_before, not_after;	/* of the certificate served, 0 none */
	int64_t		next_at;		/* next order or renewal */
	int64_t		last_try;		/* of an order, or of the DNS check */
	char		issuer[ACME_ISSUER_MAX + 1];
	char		error[ACME_ERROR_MAX + 1];
};

struct acme_ca {
	const char	*url;			/* into the configuration */
	struct acme_dir	 dir;
	int		 have_dir;
	char		 kid[ACME_URL_MAX];	/* our account's URL at this CA */
	char		 nonce[ACME_NONCE_MAX + 1];
};

#define ACME_ORDERS_KEPT	4096		/* timestamps of orders, for the 3-hour count */

struct acme_ctx {
	struct config	 conf;
	struct dnsupdate_conf dns;			/* DNS-01's server and key */
	int		 have_dns;		/* acme-dns-update configured, key read */
	EVP_PKEY	*account;
	char		 thumb[64];
	struct acme_http http;
	struct acme_ca	 ca[2];
	struct acme_host *hosts;
	size_t		 nhosts;
	int64_t		 orders[ACME_ORDERS_KEPT];	/* a ring */
	size_t		 norders;
	int		 stop;
	int		 watch;		/* another node orders (ACME_NAMES_WATCH) */
};

/* acme.c: reads what the master sent meanwhile (names, configuration);
 * between the steps of an order, so the master's channel never fills. */
void	acme_pump(struct acme_ctx *A);
void	acme_sleep(struct acme_ctx *A, uint32_t ms);	/* pumping meanwhile */
int	acme_send_token(struct acme_ctx *A, int set, const char *token, const char *keyauth);
int	acme_store_write(const char *name, const void *data, size_t len, char *err,
	    size_t errlen);

/* acme_order.c: one certificate for h from CA number ca, of key type
 * ACME_KEY_ECDSA or _RSA, into h->file (with ".rsa" for RSA).  0 done, -1
 * failed (err), ACME_RATE_LIMITED (the CA said so: err). */
#define ACME_RATE_LIMITED	(-2)
int	acme_issue(struct acme_ctx *A, struct acme_host *h, int ca, int keytype, char *err,
	    size_t errlen);
/* ARI's suggested start of renewal for the certificate in pem, or 0. */
int64_t	acme_ari_start(struct acme_ctx *A, int ca, const char *pem, size_t len);

#endif
