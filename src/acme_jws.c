/*
 * acme_jws.c: the ACME client's cryptography, all of it OpenSSL's: keys,
 * the JWS of every request (RFC 8555 6.2: ES256 with the account key, a
 * P-256 ECDSA key; the JWK and its thumbprint, RFC 7638), the CSR, and
 * the checks of what comes back (the leaf holds our key and names the
 * host) before anything is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lockerd.h"
#include "acme_int.h"

EVP_PKEY *
acme_key_new(int type)
{
	if (type == ACME_KEY_RSA)
		return EVP_RSA_gen(2048);
	return EVP_EC_gen("P-256");
}

int
acme_b64url(const unsigned char *in, size_t len, char *out, size_t outsz)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t	i, o = 0;
	uint32_t v;

	if ((len + 2) / 3 * 4 + 1 > outsz)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
	}
	out[o] = '\0';
	return 0;
}

/* A P-256 coordinate, 32 bytes big-endian, base64url. */
static int
coord(EVP_PKEY *k, const char *param, char *out, size_t outsz)
{
	BIGNUM		*bn = NULL;
	unsigned char	 b[32];
	int		 rc = -1;

	if (EVP_PKEY_get_bn_param(k, param, &bn) == 1 && BN_bn2binpad(bn, b, 32) == 32)
		rc = acme_b64url(b, 32, out, outsz);
	BN_free(bn);
	return rc;
}

/* The JWK in RFC 7638's order of members, which is also its thumbprint's input. */
static int
jwk(EVP_PKEY *k, char *out, size_t outsz)
{
	char	x[48], y[48];

	if (coord(k, OSSL_PKEY_PARAM_EC_PUB_X, x, sizeof(x)) == -1 ||
	    coord(k, OSSL_PKEY_PARAM_EC_PUB_Y, y, sizeof(y)) == -1)
		return -1;
	return snprintf(out, outsz, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
	    x, y) < (int)outsz ? 0 : -1;
}

int
acme_thumbprint(EVP_PKEY *k, char *out, size_t outsz)
{
	char		j[256];
	unsigned char	md[32];
	unsigned int	mdlen = 0;

	if (jwk(k, j, sizeof(j)) == -1 ||
	    EVP_Digest(j, strlen(j), md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	return acme_b64url(md, mdlen, out, outsz);
}

/* ES256: the DER signature's r and s as 64 raw bytes (RFC 7518 3.4). */
static int
sign_es256(EVP_PKEY *k, const char *in, unsigned char raw[64])
{
	EVP_MD_CTX		*md = EVP_MD_CTX_new();
	unsigned char		 der[80];
	const unsigned char	*p = der;
	size_t			 dlen = sizeof(der);
	ECDSA_SIG		*sig = NULL;
	int			 rc = -1;

	if (md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestSign(md, der, &dlen, (const unsigned char *)in, strlen(in)) == 1 &&
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) != NULL &&
	    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32)
		rc = 0;
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

static char *
b64url_alloc(const unsigned char *in, size_t len)
{
	size_t	 sz = (len + 2) / 3 * 4 + 1;
	char	*out = malloc(sz);

	if (out != NULL && acme_b64url(in, len, out, sz) == -1) {
		free(out);
		out = NULL;
	}
	return out;
}

char *
acme_jws(EVP_PKEY *k, const char *kid, const char *nonce, const char *url,
    const char *payload)
{
	char		 key[256], *prot = NULL, *p64 = NULL, *pl64 = NULL, *in = NULL,
			*out = NULL, sig64[96];
	unsigned char	 sig[64];

	if (kid == NULL && jwk(k, key, sizeof(key)) == -1)
		return NULL;
	if (asprintf(&prot, "{\"alg\":\"ES256\",%s%s%s,\"nonce\":\"%s\",\"url\":\"%s\"}",
	    kid != NULL ? "\"kid\":\"" : "\"jwk\":", kid != NULL ? kid : key,
	    kid != NULL ? "\"" : "", nonce, url) < 0) {
		prot = NULL;
		goto done;
	}
	if ((p64 = b64url_alloc((const unsigned char *)prot, strlen(prot))) == NULL ||
	    (pl64 = b64url_alloc((const unsigned char *)(payload ? payload : ""),
	    payload ? strlen(payload) : 0)) == NULL)
		goto done;
	if (asprintf(&in, "%s.%s", p64, pl64) < 0) {
		in = NULL;
		goto done;
	}
	if (sign_es256(k, in, sig) == -1 || acme_b64url(sig, 64, sig64, sizeof(sig64)) == -1)
		goto done;
	if (asprintf(&out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
	    p64, pl64, sig64) < 0)
		out = NULL;
done:
	free(prot);
	free(p64);
	free(pl64);
	free(in);
	return out;
}

char *
acme_csr(EVP_PKEY *k, const char *host)
{
	X509_REQ		*req = X509_REQ_new();
	X509_NAME		*name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION		*san = NULL;
	unsigned char		*der = NULL;
	char			 sanv[HOSTNAME_MAX + 8], *out = NULL;
	int			 len;

	snprintf(sanv, sizeof(sanv), "DNS:%s", host);
	if (req == NULL || name == NULL || exts == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)host, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 || X509_REQ_set_pubkey(req, k) != 1 ||
	    (san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, sanv)) == NULL ||
	    sk_X509_EXTENSION_push(exts, san) == 0)
		goto done;
	san = NULL;
	if (X509_REQ_add_extensions(req, exts) != 1 || X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    (len = i2d_X509_REQ(req, &der)) <= 0)
		goto done;
	out = b64url_alloc(der, (size_t)len);
done:
	OPENSSL_free(der);
	X509_EXTENSION_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return out;
}

static int64_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void
issuer_name(X509 *x, char *out, size_t outsz)
{
	X509_NAME	*n = X509_get_issuer_name(x);
	int		 i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	ASN1_STRING	*s;
	size_t		 k;

	out[0] = '\0';
	if (i < 0 || (s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i))) == NULL)
		return;
	snprintf(out, outsz, "%.*s", ASN1_STRING_length(s), ASN1_STRING_get0_data(s));
	for (k = 0; out[k]; k++)
		if ((unsigned char)out[k] < ' ' || (unsigned char)out[k] >= 0x7f || out[k] == '"' ||
		    out[k] == '\\')
			out[k] = '?';
}

int
acme_chain_check(const char *pem, size_t len, EVP_PKEY *k, const char *host,
    int64_t *not_before, int64_t *not_after, char *issuer, size_t issuersz, char *err,
    size_t errlen)
{
	BIO	*b = BIO_new_mem_buf(pem, (int)len);
	X509	*leaf = NULL;
	int	 rc = -1;

	if (b == NULL || (leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "the certificate is not PEM");
		goto done;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), k) != 1) {
		snprintf(err, errlen, "the certificate is not for the key we sent");
		goto done;
	}
	if (X509_check_host(leaf, host, 0, 0, NULL) != 1) {
		snprintf(err, errlen, "the certificate does not name %s", host);
		goto done;
	}
	*not_before = asn1_time(X509_get0_notBefore(leaf));
	*not_after = asn1_time(X509_get0_notAfter(leaf));
	if (*not_after <= *not_before) {
		snprintf(err, errlen, "the certificate's dates make no sense");
		goto done;
	}
	issuer_name(leaf, issuer, issuersz);
	rc = 0;
done:
	X509_free(leaf);
	BIO_free(b);
	return rc;
}

int
acme_cert_file_info(const char *path, int64_t *not_before, int64_t *not_after, char *issuer,
    size_t issuersz)
{
	FILE	*f = fopen(path, "re");
	X509	*x;

	if (f == NULL)
		return -1;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		return -1;
	*not_before = asn1_time(X509_get0_notBefore(x));
	*not_after = asn1_time(X509_get0_notAfter(x));
	issuer_name(x, issuer, issuersz);
	X509_free(x);
	return 0;
}

int
acme_ari_id(const char *pem, size_t len, char *out, size_t outsz)
{
	BIO			*b = BIO_new_mem_buf(pem, (int)len);
	X509			*x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	const ASN1_OCTET_STRING	*aki = x ? X509_get0_authority_key_id(x) : NULL;
	const ASN1_INTEGER	*ser = x ? X509_get0_serialNumber(x) : NULL;
	unsigned char		*der = NULL;
	char			 a[128], s[128];
	int			 rc = -1, n;

	/* The serial as DER encodes it (a leading 0 when its top bit is set),
	 * without the tag and the one-byte length: the serial is 20 bytes at most. */
	if (aki != NULL && ser != NULL && (n = i2d_ASN1_INTEGER(ser, &der)) > 2 &&
	    der[1] < 0x80 &&
	    acme_b64url(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki), a,
	    sizeof(a)) == 0 &&
	    acme_b64url(der + 2, (size_t)n - 2, s, sizeof(s)) == 0 &&
	    snprintf(out, outsz, "%s.%s", a, s) < (int)outsz)
		rc = 0;
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
	return rc;
}

/* The acmeIdentifier extension (RFC 8737 3): critical, the DER of an
 * OCTET STRING holding SHA-256 of the key authorization. */
static X509_EXTENSION *
acme_identifier(const char *keyauth)
{
	unsigned char		 der[34];
	unsigned int		 mdlen = 0;
	ASN1_OBJECT		*obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	ASN1_OCTET_STRING	*os = ASN1_OCTET_STRING_new();
	X509_EXTENSION		*ext = NULL;

	der[0] = 0x04;
	der[1] = 0x20;
	if (obj != NULL && os != NULL &&
	    EVP_Digest(keyauth, strlen(keyauth), der + 2, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == 32 && ASN1_OCTET_STRING_set(os, der, sizeof(der)) == 1)
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	return ext;
}

static char *
pem_of(int (*w)(BIO *, const void *), const void *what)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*p = NULL, *out = NULL;
	long	 n;

	if (b != NULL && w(b, what) == 1 && (n = BIO_get_mem_data(b, &p)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

static int
w_x509(BIO *b, const void *x)
{
	return PEM_write_bio_X509(b, (X509 *)x);
}

static int
w_key(BIO *b, const void *k)
{
	return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)k, NULL, NULL, 0, NULL, NULL);
}

int
acme_alpn_cert(const char *host, const char *keyauth, char **cert_pem, char **key_pem)
{
	EVP_PKEY	*k = acme_key_new(ACME_KEY_ECDSA);
	X509		*x = X509_new();
	X509_EXTENSION	*id = acme_identifier(keyauth), *san = NULL;
	char		 sanv[HOSTNAME_MAX + 8];
	int		 rc = -1;

	*cert_pem = *key_pem = NULL;
	snprintf(sanv, sizeof(sanv), "DNS:%s", host);
	if (k == NULL || x == NULL || id == NULL || X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) == NULL ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)host, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    X509_set_pubkey(x, k) != 1 ||
	    (san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, sanv)) == NULL ||
	    X509_add_ext(x, san, -1) != 1 || X509_add_ext(x, id, -1) != 1 ||
	    X509_sign(x, k, EVP_sha256()) <= 0)
		goto done;
	*cert_pem = pem_of(w_x509, x);
	*key_pem = pem_of(w_key, k);
	if (*cert_pem != NULL && *key_pem != NULL)
		rc = 0;
done:
	X509_EXTENSION_free(san);
	X509_EXTENSION_free(id);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}
