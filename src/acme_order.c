/*
 * acme_order.c: one certificate, the RFC 8555 way: the directory, a nonce,
 * the account (made or found again: newAccount is idempotent for a key),
 * an order, its authorizations with their HTTP-01 challenges (the token
 * goes to the master, which hands it to every front), the CSR, the
 * certificate, checked, then written atomically into tls-dir.
 *
 * Each request is one blocking exchange with its own deadline
 * (acme_http.c); between them the master's channel is read (acme_pump),
 * and a host the master no longer lists is given up at the next step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "lockerd.h"
#include "acme_int.h"

#define BADNONCE_RETRIES	5
#define POLL_LIMIT_S		60	/* an authorization or order that is still pending */

static const char badnonce[] = "urn:ietf:params:acme:error:badNonce";
static const char ratelimited[] = "urn:ietf:params:acme:error:rateLimited";

/* What a failed exchange says, in err: the CA's problem if it sent one. */
static int
fail_resp(const struct acme_resp *r, const char *what, char *err, size_t errlen)
{
	struct acme_problem p;

	acme_parse_problem(r->body, r->body_len, &p);
	snprintf(err, errlen, "%s: HTTP %d%s%s", what, r->status, p.detail[0] ? ": " : "",
	    p.detail);
	return r->status == 429 || strcmp(p.type, ratelimited) == 0 ? ACME_RATE_LIMITED : -1;
}

static int
get_directory(struct acme_ctx *A, struct acme_ca *ca, char *err, size_t errlen)
{
	struct acme_resp r;
	char		 e[200];
	int		 rc;

	if (ca->have_dir)
		return 0;
	if (acme_http_request(&A->http, "GET", ca->url, NULL, &r, err, errlen) == -1)
		return -1;
	if (r.status != 200)
		rc = fail_resp(&r, "the CA's directory", err, errlen);
	else if ((rc = acme_parse_directory(r.body, r.body_len, &ca->dir, e, sizeof(e))) == -1)
		snprintf(err, errlen, "the CA's directory: %s", e);
	else
		ca->have_dir = 1;
	acme_resp_free(&r);
	return rc;
}

static int
get_nonce(struct acme_ctx *A, struct acme_ca *ca, char *err, size_t errlen)
{
	struct acme_resp r;

	if (ca->nonce[0] != '\0')
		return 0;
	if (acme_http_request(&A->http, "GET", ca->dir.new_nonce, NULL, &r, err, errlen) == -1)
		return -1;
	snprintf(ca->nonce, sizeof(ca->nonce), "%s", r.nonce);
	acme_resp_free(&r);
	if (ca->nonce[0] == '\0' || !str_is_printable(ca->nonce) || strchr(ca->nonce, '"')) {
		ca->nonce[0] = '\0';
		snprintf(err, errlen, "the CA gave no usable nonce");
		return -1;
	}
	return 0;
}

/* A signed POST (payload NULL: POST-as-GET); a badNonce is retried with the
 * nonce that came with it, as RFC 8555 6.5 asks. */
static int
post(struct acme_ctx *A, struct acme_ca *ca, const char *url, const char *payload,
    struct acme_resp *r, char *err, size_t errlen)
{
	struct acme_problem	 p;
	char			*jws;
	int			 i, rc;

	for (i = 0; i <= BADNONCE_RETRIES; i++) {
		if (get_nonce(A, ca, err, errlen) == -1)
			return -1;
		jws = acme_jws(A->account, ca->kid[0] ? ca->kid : NULL, ca->nonce, url,
		    payload);
		ca->nonce[0] = '\0';
		if (jws == NULL) {
			snprintf(err, errlen, "cannot sign a request");
			return -1;
		}
		rc = acme_http_request(&A->http, "POST", url, jws, r, err, errlen);
		free(jws);
		if (rc == -1)
			return -1;
		if (r->nonce[0] != '\0' && str_is_printable(r->nonce) && !strchr(r->nonce, '"'))
			snprintf(ca->nonce, sizeof(ca->nonce), "%s", r->nonce);
		if (r->status != 400)
			return 0;
		acme_parse_problem(r->body, r->body_len, &p);
		if (strcmp(p.type, badnonce) != 0)
			return 0;
		acme_resp_free(r);
		acme_pump(A);
	}
	snprintf(err, errlen, "the CA refused %d nonces in a row", BADNONCE_RETRIES + 1);
	return -1;
}

static int
account(struct acme_ctx *A, struct acme_ca *ca, char *err, size_t errlen)
{
	struct acme_resp r;
	json_t		*j;
	char		*payload;
	int		 rc = -1;

	if (ca->kid[0] != '\0')
		return 0;
	j = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	if (A->conf.acme_email[0] != '\0') {
		char mailto[CONF_URL_LEN + 8];

		snprintf(mailto, sizeof(mailto), "mailto:%s", A->conf.acme_email);
		json_object_set_new(j, "contact", json_pack("[s]", mailto));
	}
	payload = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (payload == NULL)
		return -1;
	rc = post(A, ca, ca->dir.new_account, payload, &r, err, errlen);
	free(payload);
	if (rc == -1)
		return -1;
	if ((r.status == 200 || r.status == 201) && r.location[0] != '\0' &&
	    str_is_printable(r.location) && !strchr(r.location, '"')) {
		snprintf(ca->kid, sizeof(ca->kid), "%s", r.location);
		j = json_pack("{s:s,s:s}", "ca", ca->url, "account", ca->kid);
		payload = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (payload != NULL)
			acme_store_write(ca == &A->ca[0] ? "account.json" : "account-fallback.json",
			    payload, strlen(payload), err, errlen);
		free(payload);
		rc = 0;
	} else
		rc = fail_resp(&r, "newAccount", err, errlen);
	acme_resp_free(&r);
	return rc;
}

/* POST-as-GET of url until its status is no longer pending/processing. */
static int
poll_status(struct acme_ctx *A, struct acme_ca *ca, const char *url, const char *what,
    struct acme_resp *r, char *status, size_t statussz, char *err, size_t errlen)
{
	time_t	 until = time(NULL) + POLL_LIMIT_S;
	char	 e[200];

	for (;;) {
		if (post(A, ca, url, NULL, r, err, errlen) == -1)
			return -1;
		if (r->status != 200)
			return fail_resp(r, what, err, errlen);
		if (acme_parse_status(r->body, r->body_len, status, statussz, e, sizeof(e)) == -1) {
			snprintf(err, errlen, "%s: %s", what, e);
			acme_resp_free(r);
			return -1;
		}
		if (strcmp(status, "pending") != 0 && strcmp(status, "processing") != 0)
			return 0;
		acme_resp_free(r);
		if (time(NULL) >= until) {
			snprintf(err, errlen, "%s: still %s after %ds", what, status, POLL_LIMIT_S);
			return -1;
		}
		acme_sleep(A, r->retry_after >= 1 && r->retry_after <= 5 ?
		    r->retry_after * 1000 : 500);
	}
}

/* A wildcard can be proved only in the DNS (RFC 8555 8.4 and 7.1.3), the
 * other names by HTTP-01 (tls-alpn-01 waits for front's TLS listener). */
static const struct acme_chal *
pick_chal(struct acme_ctx *A, const struct acme_authz *a)
{
	const char	*want = a->wildcard ? "dns-01" : "http-01";
	int		 i, pass;

	if (a->wildcard && !A->have_dns)
		return NULL;
	/* acme-challenge tls-alpn-01 where the CA offers it, else http-01. */
	for (pass = a->wildcard || A->conf.acme_challenge != ACME_CHAL_TLSALPN01; pass < 2;
	    pass++)
		for (i = 0; i < a->nchal; i++)
			if (strcmp(a->chal[i].type, pass == 0 ? "tls-alpn-01" : want) == 0 &&
			    a->chal[i].token[0] != '\0')
				return &a->chal[i];
	return NULL;
}

#define DNS01_VISIBLE_S		60	/* for the zone's server to have the TXT */

/*
 * DNS-01: the TXT record base64url(SHA-256(key authorization)) added (set)
 * at _acme-challenge.NAME through an RFC 2136 update (dns01.c), then asked
 * of the zone's server until it is there, so the CA is not asked to look
 * too soon; or deleted again (set 0).
 */
static int
dns_chal(struct acme_ctx *A, const char *name, const char *keyauth, int set, char *err,
    size_t errlen)
{
	unsigned char	md[32];
	char		txt[64];
	uint64_t	until = now_ms() + DNS01_VISIBLE_S * 1000;
	int		rc;

	if (SHA256((const unsigned char *)keyauth, strlen(keyauth), md) == NULL ||
	    acme_b64url(md, sizeof(md), txt, sizeof(txt)) == -1) {
		snprintf(err, errlen, "DNS-01: cannot compute the digest");
		return -1;
	}
	if (dns01_update(&A->dns, name, txt, set, err, errlen) == -1 || !set)
		return set ? -1 : 0;
	while ((rc = dns01_visible(&A->dns, name, txt, 0, err, errlen)) == 0) {
		if (now_ms() >= until) {
			snprintf(err, errlen, "DNS-01: %s's server did not serve the TXT "
			    "record within %ds", A->dns.zone, DNS01_VISIBLE_S);
			return -1;
		}
		acme_sleep(A, 500);	/* the master's channel read meanwhile */
	}
	return rc == 1 ? 0 : -1;
}

/* TLS-ALPN-01: the challenge's certificate and throwaway key to the
 * master, which hands them to every front (set), or takes them back. */
static int
alpn_chal(struct acme_ctx *A, const char *ident, const char *keyauth, int set, char *err,
    size_t errlen)
{
	struct msg_acme_alpn	 m;
	char			*cert = NULL, *key = NULL;
	size_t			 cl, kl;
	int			 rc = -1;

	memset(&m, 0, sizeof(m));
	m.set = (uint8_t)set;
	snprintf(m.host, sizeof(m.host), "%s", ident);
	if (set) {
		if (acme_alpn_cert(ident, keyauth, &cert, &key) == -1 ||
		    (cl = strlen(cert)) + (kl = strlen(key)) > sizeof(m.pem)) {
			snprintf(err, errlen, "cannot make the TLS-ALPN-01 certificate");
			goto done;
		}
		memcpy(m.pem, cert, cl);
		memcpy(m.pem + cl, key, kl);
		m.cert_len = (uint16_t)cl;
		m.key_len = (uint16_t)kl;
	}
	if (msg_send(CHILD_CHAN_FD, MSG_ACME_ALPN, &m, sizeof(m), -1) == -1) {
		snprintf(err, errlen, "cannot hand the challenge to the master");
		goto done;
	}
	if (set)
		acme_sleep(A, 200);	/* the master relays it to every front meanwhile */
	rc = 0;
done:
	free(cert);
	if (key != NULL)
		OPENSSL_cleanse(key, strlen(key));
	free(key);
	OPENSSL_cleanse(&m, sizeof(m));
	return rc;
}

/* The challenge's answer put where the CA will look (set 1), or taken
 * away (set 0): a DNS record, or a token handed to every front. */
static int
chal_publish(struct acme_ctx *A, const struct acme_chal *c, const char *ident,
    const char *keyauth, int set, char *err, size_t errlen)
{
	if (strcmp(c->type, "dns-01") == 0)
		return dns_chal(A, ident, keyauth, set, err, errlen);
	if (strcmp(c->type, "tls-alpn-01") == 0)
		return alpn_chal(A, ident, keyauth, set, err, errlen);
	if (acme_send_token(A, set, c->token, keyauth) == -1) {
		snprintf(err, errlen, "cannot hand the token to the master");
		return -1;
	}
	/* The master relays it to every front meanwhile; in a fleet the other
	 * nodes' masters find it in tls-dir within a quarter second
	 * (acme_share.c), and the CA's check may reach any of them. */
	if (set)
		acme_sleep(A, A->conf.directory == DIRECTORY_POSTGRES ? 1500 : 200);
	return 0;
}

/* One authorization: its challenge answered through the master and front. */
static int
authorize(struct acme_ctx *A, struct acme_ca *ca, struct acme_host *h, const char *url,
    char *err, size_t errlen)
{
	const struct acme_chal	*c;
	struct acme_authz	 a;
	struct acme_resp	 r;
	char			 keyauth[ACME_KEYAUTH_MAX + 1], status[16], e[200];
	int			 rc;

	if (post(A, ca, url, NULL, &r, err, errlen) == -1)
		return -1;
	if (r.status != 200)
		return fail_resp(&r, "authorization", err, errlen);
	rc = acme_parse_authz(r.body, r.body_len, &a, e, sizeof(e));
	acme_resp_free(&r);
	if (rc == -1) {
		snprintf(err, errlen, "authorization: %s", e);
		return -1;
	}
	if (strcmp(a.status, "valid") == 0)
		return 0;
	if (strcmp(a.ident, h->host[0] == '*' ? h->host + 2 : h->host) != 0) {
		snprintf(err, errlen, "the CA's authorization is for another name");
		return -1;
	}
	if ((c = pick_chal(A, &a)) == NULL) {
		snprintf(err, errlen, a.wildcard && !A->have_dns ? "a wildcard needs DNS-01: "
		    "configure acme-dns-update" : "the CA offers no challenge lockerd can answer");
		return -1;
	}
	snprintf(keyauth, sizeof(keyauth), "%s.%s", c->token, A->thumb);
	log_info("acme: %s: answering %s", h->host, c->type);
	if (chal_publish(A, c, a.ident, keyauth, 1, err, errlen) == -1) {
		chal_publish(A, c, a.ident, keyauth, 0, e, sizeof(e));
		return -1;
	}
	if ((rc = post(A, ca, c->url, "{}", &r, err, errlen)) == 0) {
		if (r.status != 200)
			rc = fail_resp(&r, "challenge", err, errlen);
		acme_resp_free(&r);
	}
	if (rc == 0 && (rc = poll_status(A, ca, url, "authorization", &r, status,
	    sizeof(status), err, errlen)) == 0) {
		if (strcmp(status, "valid") != 0) {
			acme_parse_authz_error(r.body, r.body_len, e, sizeof(e));
			snprintf(err, errlen, "authorization %s%s%s", status, e[0] ? ": " : "", e);
			rc = -1;
		}
		acme_resp_free(&r);
	}
	if (chal_publish(A, c, a.ident, keyauth, 0, e, sizeof(e)) == -1)
		log_warnx("acme: %s: the challenge's answer stays published: %s", h->host, e);
	return rc;
}

static int
new_order(struct acme_ctx *A, struct acme_ca *ca, const char *host, struct acme_order *o,
    char *order_url, size_t urlsz, char *err, size_t errlen)
{
	struct acme_resp r;
	json_t		*j;
	char		*payload, e[200];
	int		 rc;

	j = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type", "dns", "value", host);
	payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (payload == NULL)
		return -1;
	rc = post(A, ca, ca->dir.new_order, payload, &r, err, errlen);
	free(payload);
	if (rc == -1)
		return -1;
	if (r.status != 201)
		return fail_resp(&r, "newOrder", err, errlen);
	if ((rc = acme_parse_order(r.body, r.body_len, o, e, sizeof(e))) == -1)
		snprintf(err, errlen, "newOrder: %s", e);
	else if (r.location[0] == '\0' || strlen(r.location) >= urlsz) {
		snprintf(err, errlen, "newOrder: no order URL");
		rc = -1;
	} else
		snprintf(order_url, urlsz, "%s", r.location);
	acme_resp_free(&r);
	return rc;
}

/* The CSR, then the order polled until it is valid. */
static int
finalize(struct acme_ctx *A, struct acme_ca *ca, EVP_PKEY *key, const char *host,
    const char *order_url, struct acme_order *o, char *err, size_t errlen)
{
	struct acme_resp r;
	char		*csr, *payload = NULL, status[16], e[200];
	int		 rc;

	if ((csr = acme_csr(key, host)) == NULL || asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0) {
		free(csr);
		snprintf(err, errlen, "cannot make the CSR");
		return -1;
	}
	free(csr);
	rc = post(A, ca, o->finalize, payload, &r, err, errlen);
	free(payload);
	if (rc == -1)
		return -1;
	if (r.status != 200)
		return fail_resp(&r, "finalize", err, errlen);
	acme_resp_free(&r);
	if (poll_status(A, ca, order_url, "order", &r, status, sizeof(status), err, errlen) == -1)
		return -1;
	rc = acme_parse_order(r.body, r.body_len, o, e, sizeof(e));
	acme_resp_free(&r);
	if (rc == -1 || strcmp(status, "valid") != 0 || o->certificate[0] == '\0') {
		snprintf(err, errlen, "order %s%s%s", status, rc == -1 ? ": " : "",
		    rc == -1 ? e : "");
		return -1;
	}
	return 0;
}

/* The key and chain, checked, into tls-dir: the key first, so that a
 * chain is never there without its key. */
static int
store(struct acme_ctx *A, struct acme_host *h, EVP_PKEY *key, int keytype, const char *pem,
    size_t len, char *err, size_t errlen)
{
	char	 name[HOSTNAME_MAX + 32], *kp = NULL;
	BIO	*b;
	long	 kl;
	int	 rc = -1;

	(void)A;
	if (acme_chain_check(pem, len, key, h->host, &h->not_before, &h->not_after, h->issuer,
	    sizeof(h->issuer), err, errlen) == -1)
		return -1;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (kl = BIO_get_mem_data(b, &kp)) <= 0) {
		snprintf(err, errlen, "cannot write the key");
		goto done;
	}
	snprintf(name, sizeof(name), "%s%s.key", h->file, keytype == ACME_KEY_RSA ? ".rsa" : "");
	if (acme_store_write(name, kp, (size_t)kl, err, errlen) == -1)
		goto done;
	snprintf(name, sizeof(name), "%s%s.crt", h->file, keytype == ACME_KEY_RSA ? ".rsa" : "");
	rc = acme_store_write(name, pem, len, err, errlen);
done:
	BIO_free(b);
	return rc;
}

static void
count_order(struct acme_ctx *A)
{
	A->orders[A->norders % ACME_ORDERS_KEPT] = time(NULL);
	A->norders++;
}

int
acme_issue(struct acme_ctx *A, struct acme_host *h, int cai, int keytype, char *err,
    size_t errlen)
{
	struct acme_ca		*ca = &A->ca[cai];
	struct acme_order	 o;
	struct acme_resp	 r;
	EVP_PKEY		*key = NULL;
	char			 order_url[ACME_URL_MAX];
	int			 i, rc;

	if ((rc = get_directory(A, ca, err, errlen)) != 0 ||
	    (rc = account(A, ca, err, errlen)) != 0)
		return rc;
	count_order(A);
	if ((rc = new_order(A, ca, h->host, &o, order_url, sizeof(order_url), err, errlen)) != 0)
		return rc;
	for (i = 0; i < o.nauthz; i++) {
		acme_pump(A);
		if (!h->listed) {
			snprintf(err, errlen, "no longer in the directory");
			return -1;
		}
		if ((rc = authorize(A, ca, h, o.authz[i], err, errlen)) != 0)
			return rc;
	}
	if ((key = acme_key_new(keytype)) == NULL) {
		snprintf(err, errlen, "cannot make a key");
		return -1;
	}
	if ((rc = finalize(A, ca, key, h->host, order_url, &o, err, errlen)) == 0 &&
	    (rc = post(A, ca, o.certificate, NULL, &r, err, errlen)) == 0) {
		if (r.status != 200)
			rc = fail_resp(&r, "certificate", err, errlen);
		else
			rc = store(A, h, key, keytype, r.body, r.body_len, err, errlen);
		acme_resp_free(&r);
	}
	EVP_PKEY_free(key);
	return rc;
}

int64_t
acme_ari_start(struct acme_ctx *A, int cai, const char *pem, size_t len)
{
	struct acme_ca	*ca = &A->ca[cai];
	struct acme_resp r;
	char		 id[300], url[ACME_URL_MAX + 300], err[200];
	int64_t		 t = 0;

	if (!ca->have_dir || ca->dir.renewal_info[0] == '\0' ||
	    acme_ari_id(pem, len, id, sizeof(id)) == -1)
		return 0;
	snprintf(url, sizeof(url), "%s%s%s", ca->dir.renewal_info,
	    ca->dir.renewal_info[strlen(ca->dir.renewal_info) - 1] == '/' ? "" : "/", id);
	if (acme_http_request(&A->http, "GET", url, NULL, &r, err, sizeof(err)) == 0) {
		if (r.status == 200)
			t = acme_parse_renewal_info(r.body, r.body_len);
		acme_resp_free(&r);
	}
	return t;
}
