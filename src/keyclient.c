/*
 * keyclient.c: front's side of keyd.  A certificate's private key in front
 * is a proxy: an EC_KEY or RSA with the certificate's public half, the key
 * id, and a method whose private operations are a round trip to keyd.
 *
 * OpenSSL 3 treats a key with a method other than its own as "foreign"
 * and drives it through the legacy path, which reaches these methods: for
 * ECDSA the method's sign (or sign_sig), for RSA its private encrypt, which
 * both PKCS#1 v1.5 (OpenSSL encodes the DigestInfo, asks for type 1
 * padding) and PSS (OpenSSL pads, asks for none) end in.  RSA decryption
 * (the RSA key exchange) is refused: the cipher lists front allows are
 * all (EC)DHE.  Those are OpenSSL's deprecated interfaces, the only ones
 * that take a foreign key without writing a provider; hence the define,
 * in this file only.
 *
 * front is one thread: an operation is one message to keyd and a wait of
 * at most KEYCLIENT_TIMEOUT_MS for its answer.  Answers carry the request's
 * sequence number, so one that comes after its handshake gave up is not
 * taken for the next one's.  A failure fails that handshake only.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "lockerd.h"
#include "keyclient.h"

static int		 chan = -1;
static uint32_t		 seq;
static int		 ec_idx = -1, rsa_idx = -1;
static EC_KEY_METHOD	*ec_meth;
static RSA_METHOD	*rsa_meth;

void
keyclient_set_chan(int fd)
{
	if (chan != -1)
		close(chan);
	chan = fd;
	if (fd != -1)
		set_nonblock(fd);
}

/* At most a line a second: a keyd that is down fails every handshake. */
static void
op_failed(const char *why)
{
	static uint64_t	last;
	uint64_t	now = now_ms();

	if (now - last < 1000)
		return;
	last = now;
	log_warnx("front: a private-key operation failed: %s", why);
}

/* Our answer to seq, within the deadline: its length, or -1. */
static ssize_t
await(uint32_t want, unsigned char *ans, size_t anssz, uint64_t deadline)
{
	struct pollfd	 p = { .fd = chan, .events = POLLIN };
	struct key_result r;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	uint64_t	 now;
	int		 fd;

	for (;;) {
		if ((now = now_ms()) >= deadline) {
			op_failed("keyd did not answer in time");
			return -1;
		}
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		n = msg_recv_checked(chan, MR_FRONT, MR_KEYD, &type, ans, anssz, &fd, &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == MSG_BREACH)
			msg_breach(MR_FRONT, MR_KEYD, "keyd", type, why);	/* MSG_ACT_DROP */
		if (n < (ssize_t)sizeof(r)) {
			/* Gone or broken: the master sends a new channel. */
			op_failed(n == 0 ? "keyd went away" : "its channel broke");
			keyclient_set_chan(-1);
			return -1;
		}
		memcpy(&r, ans, sizeof(r));
		if (r.seq == want)
			return n;
	}
}

/* One operation: the output's length (at most outsz), or -1. */
static int
round_trip(uint32_t key_id, uint16_t op, uint16_t pad, const unsigned char *in, size_t inlen,
    unsigned char *out, size_t outsz)
{
	static unsigned char	req[sizeof(struct key_op) + KEY_OP_MAX_IN];
	static unsigned char	ans[sizeof(struct key_result) + KEY_RESULT_MAX];
	struct key_op		o = { .key_id = key_id, .seq = ++seq, .op = op, .pad = pad };
	struct key_result	r;
	ssize_t			n;

	if (chan == -1) {
		op_failed("no channel to keyd");
		return -1;
	}
	if (inlen > KEY_OP_MAX_IN)
		return -1;
	memcpy(req, &o, sizeof(o));
	memcpy(req + sizeof(o), in, inlen);
	if (msg_send(chan, MSG_KEY_OP, req, sizeof(o) + inlen, -1) == -1) {
		op_failed(errno == EAGAIN ? "keyd is not reading" : strerror(errno));
		return -1;
	}
	if ((n = await(o.seq, ans, sizeof(ans), now_ms() + KEYCLIENT_TIMEOUT_MS)) == -1)
		return -1;
	memcpy(&r, ans, sizeof(r));
	n -= (ssize_t)sizeof(r);
	if (r.status != KEY_OK || (size_t)n > outsz || n == 0) {
		op_failed(r.status == KEY_ENOKEY ? "keyd does not hold the key" :
		    "keyd refused it");
		return -1;
	}
	memcpy(out, ans + sizeof(r), (size_t)n);
	return (int)n;
}

static uint32_t
ec_key_id(const EC_KEY *ec)
{
	return (uint32_t)(uintptr_t)EC_KEY_get_ex_data(ec, ec_idx);
}

static int
ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
    unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	int n;

	(void)type;
	(void)kinv;
	(void)r;
	if (dlen < 0 || (n = round_trip(ec_key_id(ec), KEY_OP_ECDSA_SIGN, 0, dgst,
	    (size_t)dlen, sig, (size_t)ECDSA_size(ec))) == -1)
		return 0;
	*siglen = (unsigned)n;
	return 1;
}

static ECDSA_SIG *
ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv, const BIGNUM *r,
    EC_KEY *ec)
{
	unsigned char		 der[KEY_RESULT_MAX];
	const unsigned char	*p = der;
	unsigned int		 len;

	if (!ec_sign(0, dgst, dlen, der, &len, kinv, r, ec))
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, len);
}

static int
rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
	uint16_t pad;

	if (padding == RSA_PKCS1_PADDING)
		pad = KEY_PAD_PKCS1;
	else if (padding == RSA_NO_PADDING)
		pad = KEY_PAD_NONE;
	else
		return -1;
	if (flen < 0)
		return -1;
	return round_trip((uint32_t)(uintptr_t)RSA_get_ex_data(rsa, rsa_idx),
	    KEY_OP_RSA_PRIV_ENC, pad, from, (size_t)flen, to, (size_t)RSA_size(rsa));
}

static int
rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
	(void)flen;
	(void)from;
	(void)to;
	(void)rsa;
	(void)padding;
	return -1;
}

/* The two methods: OpenSSL's own, but for what needs the private key. */
static int
methods_init(void)
{
	int (*sign_setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **);

	if (ec_meth != NULL)
		return 0;
	ec_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ec_idx < 0 || rsa_idx < 0 ||
	    (ec_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) == NULL ||
	    (rsa_meth = RSA_meth_dup(RSA_PKCS1_OpenSSL())) == NULL)
		return -1;
	EC_KEY_METHOD_get_sign(ec_meth, NULL, &sign_setup, NULL);
	EC_KEY_METHOD_set_sign(ec_meth, ec_sign, sign_setup, ec_sign_sig);
	RSA_meth_set1_name(rsa_meth, "lockerd keyd proxy");
	RSA_meth_set_priv_enc(rsa_meth, rsa_priv_enc);
	RSA_meth_set_priv_dec(rsa_meth, rsa_priv_dec);
	return 0;
}

static EVP_PKEY *
ec_proxy(EVP_PKEY *pub, uint32_t key_id)
{
	const EC_KEY	*src = EVP_PKEY_get0_EC_KEY(pub);
	EC_KEY		*ec;
	EVP_PKEY	*pk;

	if (src == NULL || (ec = EC_KEY_new()) == NULL)
		return NULL;
	if (EC_KEY_set_method(ec, ec_meth) != 1 ||
	    EC_KEY_set_group(ec, EC_KEY_get0_group(src)) != 1 ||
	    EC_KEY_set_public_key(ec, EC_KEY_get0_public_key(src)) != 1 ||
	    EC_KEY_set_ex_data(ec, ec_idx, (void *)(uintptr_t)key_id) != 1 ||
	    (pk = EVP_PKEY_new()) == NULL) {
		EC_KEY_free(ec);
		return NULL;
	}
	if (EVP_PKEY_assign_EC_KEY(pk, ec) != 1) {
		EC_KEY_free(ec);
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

static EVP_PKEY *
rsa_proxy(EVP_PKEY *pub, uint32_t key_id)
{
	const RSA	*src = EVP_PKEY_get0_RSA(pub);
	const BIGNUM	*n, *e;
	BIGNUM		*n2 = NULL, *e2 = NULL;
	RSA		*rsa;
	EVP_PKEY	*pk;

	if (src == NULL || (rsa = RSA_new()) == NULL)
		return NULL;
	RSA_get0_key(src, &n, &e, NULL);
	if (RSA_set_method(rsa, rsa_meth) != 1 || (n2 = BN_dup(n)) == NULL ||
	    (e2 = BN_dup(e)) == NULL || RSA_set0_key(rsa, n2, e2, NULL) != 1) {
		BN_free(n2);
		BN_free(e2);
		RSA_free(rsa);
		return NULL;
	}
	if (RSA_set_ex_data(rsa, rsa_idx, (void *)(uintptr_t)key_id) != 1 ||
	    (pk = EVP_PKEY_new()) == NULL) {
		RSA_free(rsa);
		return NULL;
	}
	if (EVP_PKEY_assign_RSA(pk, rsa) != 1) {
		RSA_free(rsa);
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

EVP_PKEY *
keyclient_pkey(X509 *leaf, uint32_t key_id)
{
	EVP_PKEY	*pub, *pk = NULL;

	if (methods_init() == -1 || (pub = X509_get0_pubkey(leaf)) == NULL)
		return NULL;
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC)
		pk = ec_proxy(pub, key_id);
	else if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		pk = rsa_proxy(pub, key_id);
	ERR_clear_error();
	return pk;
}
