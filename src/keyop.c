/*
 * keyop.c: keyd's private keys, by id, and the one thing done with them:
 * an operation a front asks for during a handshake, answered.
 *
 * Apart from keyd.c (the process and its sandbox) so that the unit test
 * and the fuzzer run exactly the code a front's bytes reach.  The request
 * is read as bytes of any content: its length was checked by msg_rules[],
 * and everything else here.  Every failure is an answer with a status,
 * never a crash and never a longer answer than the room for one.
 *
 * Each key keeps an EVP_PKEY_CTX made ready for signing once, at load, so
 * that an operation costs the signature and nothing more: no fetch of the
 * algorithm, no allocation of ours.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "lockerd.h"

/* A PEM private key is a few kilobytes; a larger file is not one. */
#define KEY_FILE_MAX	(64 * 1024)

struct key {
	uint32_t	 id;
	int		 type;		/* EVP_PKEY_EC or EVP_PKEY_RSA */
	size_t		 size;		/* EVP_PKEY_get_size(): its largest output */
	EVP_PKEY	*pkey;
	EVP_PKEY_CTX	*sign;		/* EVP_PKEY_sign_init() done */
};

/* Sorted by id, which the master hands out in increasing order. */
static struct key	*keys;
static size_t		 nkeys, capkeys;

static void
key_free(struct key *k)
{
	EVP_PKEY_CTX_free(k->sign);
	EVP_PKEY_free(k->pkey);	/* clears the key's private numbers */
}

/* Index of id, or of where it would go. */
static size_t
key_pos(uint32_t id)
{
	size_t lo = 0, hi = nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (keys[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct key *
key_find(uint32_t id)
{
	size_t i = key_pos(id);

	return i < nkeys && keys[i].id == id ? &keys[i] : NULL;
}

/* The file's bytes into a memory BIO, which is cleared when freed. */
static BIO *
read_pem(int fd, char *err, size_t errlen)
{
	static char	 buf[KEY_FILE_MAX + 1];
	size_t		 len = 0;
	ssize_t		 n;
	BIO		*b = NULL;

	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			errno_fail(err, errlen, "read");
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > KEY_FILE_MAX)
		snprintf(err, errlen, "more than %d bytes: not a key", KEY_FILE_MAX);
	else if ((b = BIO_new(BIO_s_secmem())) == NULL || BIO_write(b, buf, (int)len) != (int)len) {
		snprintf(err, errlen, "out of memory");
		BIO_free(b);
		b = NULL;
	}
out:
	OPENSSL_cleanse(buf, len);
	return b;
}

/* The key's type, size and its signing context, into k. */
static int
key_ready(struct key *k, EVP_PKEY *pkey, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	k->pkey = pkey;
	if (EVP_PKEY_is_a(pkey, "EC"))
		k->type = EVP_PKEY_EC;
	else if (EVP_PKEY_is_a(pkey, "RSA"))
		k->type = EVP_PKEY_RSA;
	else {
		snprintf(err, errlen, "a %s key: only EC and RSA keys are served",
		    EVP_PKEY_get0_type_name(pkey));
		return -1;
	}
	k->size = (size_t)EVP_PKEY_get_size(pkey);
	if (k->size == 0 || k->size > KEY_RESULT_MAX) {
		snprintf(err, errlen, "a key of %zu-byte signatures: at most %d", k->size,
		    KEY_RESULT_MAX);
		return -1;
	}
	if ((k->sign = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_sign_init(k->sign) <= 0) {
		snprintf(err, errlen, "cannot sign with it");
		return -1;
	}
	return 0;
}

static int
keys_room(void)
{
	struct key	*n;
	size_t		 cap = capkeys ? capkeys * 2 : 16;

	if (nkeys < capkeys)
		return 0;
	if ((n = realloc(keys, cap * sizeof(*n))) == NULL)
		return -1;
	keys = n;
	capkeys = cap;
	return 0;
}

/* The key read from fd is now key_id's (replacing what it was). */
int
keyop_load(uint32_t key_id, int fd, char *err, size_t errlen)
{
	struct key	 k;
	EVP_PKEY	*pkey;
	BIO		*b;
	size_t		 i;

	err[0] = '\0';
	if ((b = read_pem(fd, err, errlen)) == NULL)
		return -1;
	pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (pkey == NULL) {
		snprintf(err, errlen, "not a PEM private key (or one with a passphrase)");
		return -1;
	}
	if (key_ready(&k, pkey, err, errlen) == -1 || keys_room() == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		key_free(&k);
		return -1;
	}
	k.id = key_id;
	i = key_pos(key_id);
	if (i < nkeys && keys[i].id == key_id) {
		key_free(&keys[i]);
		keys[i] = k;
		return 0;
	}
	memmove(&keys[i + 1], &keys[i], (nkeys - i) * sizeof(*keys));
	keys[i] = k;
	nkeys++;
	return 0;
}

void
keyop_forget_before(uint32_t key_id)
{
	size_t i, n = key_pos(key_id);

	if (n == 0)	/* also keys == NULL before the first key: no memmove(NULL) */
		return;
	for (i = 0; i < n; i++)
		key_free(&keys[i]);
	memmove(keys, &keys[n], (nkeys - n) * sizeof(*keys));
	nkeys -= n;
}

size_t
keyop_count(void)
{
	return nkeys;
}

/* The PSS hashes of TLS (rsa_pss_rsae_sha256/384/512), fetched once. */
static const EVP_MD *
pss_md(int i)
{
	static const char *const names[] = { "SHA256", "SHA384", "SHA512" };
	static EVP_MD *md[3];

	if (i < 0 || i >= 3)
		return NULL;
	if (md[i] == NULL)
		md[i] = EVP_MD_fetch(NULL, names[i], NULL);
	return md[i];
}

/* MGF1 (RFC 8017, B.2.1) of seed, xored into out. */
static int
mgf1_xor(unsigned char *out, size_t len, const unsigned char *seed, size_t seedlen,
    const EVP_MD *md)
{
	static EVP_MD_CTX	*m;
	unsigned char		 h[EVP_MAX_MD_SIZE], cnt[4];
	unsigned int		 hl, i;
	uint32_t		 c;
	size_t			 done = 0;

	if (m == NULL && (m = EVP_MD_CTX_new()) == NULL)
		return -1;
	for (c = 0; done < len; c++) {
		cnt[0] = (unsigned char)(c >> 24);
		cnt[1] = (unsigned char)(c >> 16);
		cnt[2] = (unsigned char)(c >> 8);
		cnt[3] = (unsigned char)c;
		if (EVP_DigestInit_ex(m, md, NULL) != 1 || EVP_DigestUpdate(m, seed, seedlen) != 1 ||
		    EVP_DigestUpdate(m, cnt, 4) != 1 || EVP_DigestFinal_ex(m, h, &hl) != 1)
			return -1;
		for (i = 0; i < hl && done < len; i++)
			out[done++] ^= h[i];
	}
	return 0;
}

/* 1 if em (emlen bytes, emBits significant) is EMSA-PSS-ENCODE's output
 * for a hash of md and a salt as long as the hash, whatever the message. */
static int
pss_encoded(const unsigned char *em, size_t emlen, size_t embits, const EVP_MD *md)
{
	unsigned char	 db[KEY_OP_MAX_IN];
	size_t		 hlen = (size_t)EVP_MD_get_size(md), dblen, zeros, i;

	if (emlen < 2 * hlen + 2 || em[emlen - 1] != 0xbc)
		return 0;
	dblen = emlen - hlen - 1;
	memcpy(db, em, dblen);
	if (mgf1_xor(db, dblen, em + dblen, hlen, md) == -1)
		return 0;
	db[0] &= (unsigned char)(0xff >> (8 * emlen - embits));
	zeros = dblen - hlen - 1;
	for (i = 0; i < zeros; i++)
		if (db[i] != 0)
			return 0;
	return db[zeros] == 0x01;
}

/*
 * An RSA block without padding is signed only if it is a PSS encoding, as
 * TLS's are: the raw private operation on any block would be a decryption
 * oracle for a subverted front (anything ever encrypted to the key, with
 * Chaum's blinding too), where a PSS block, whose shape a front cannot
 * steer to a chosen ciphertext, gives it a signature and nothing more.
 */
static int
pss_shaped(const struct key *k, const unsigned char *in, size_t inlen)
{
	size_t	embits = (size_t)EVP_PKEY_get_bits(k->pkey) - 1, emlen = (embits + 7) / 8;
	int	i;

	if (emlen > inlen || (inlen > emlen && in[0] != 0))
		return 0;
	for (i = 0; pss_md(i) != NULL; i++)
		if (pss_encoded(in + (inlen - emlen), emlen, embits, pss_md(i)))
			return 1;
	return 0;
}

/*
 * The checks a table cannot make: the operation fits the key's type, the
 * input its length (an RSA block without padding is exactly the modulus,
 * and PSS-shaped; PKCS#1 type 1 needs 11 bytes of it; an ECDSA digest is at
 * most SHA-512's).
 */
static enum key_status
op_check(const struct key *k, const struct key_op *op, const unsigned char *in, size_t inlen)
{
	if (op->op == KEY_OP_ECDSA_SIGN && k->type == EVP_PKEY_EC)
		return inlen >= 1 && inlen <= 64 ? KEY_OK : KEY_ELEN;
	if (op->op != KEY_OP_RSA_PRIV_ENC || k->type != EVP_PKEY_RSA)
		return KEY_EOP;
	if (op->pad == KEY_PAD_NONE && inlen != k->size)
		return KEY_ELEN;
	if (op->pad == KEY_PAD_NONE)
		return pss_shaped(k, in, inlen) ? KEY_OK : KEY_EOP;
	if (op->pad == KEY_PAD_PKCS1)
		return inlen >= 1 && inlen + 11 <= k->size ? KEY_OK : KEY_ELEN;
	return KEY_EOP;
}

static enum key_status
op_run(struct key *k, const struct key_op *op, const unsigned char *in, size_t inlen,
    unsigned char *out, size_t *outlen)
{
	*outlen = KEY_RESULT_MAX;
	if (k->type == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(k->sign, op->pad == KEY_PAD_NONE ? RSA_NO_PADDING :
	    RSA_PKCS1_PADDING) <= 0)
		return KEY_EFAIL;
	if (EVP_PKEY_sign(k->sign, out, outlen, in, inlen) <= 0) {
		ERR_clear_error();
		return KEY_EFAIL;
	}
	return KEY_OK;
}

size_t
keyop_answer(const void *req, size_t len, void *out)
{
	struct key_result	 res;
	struct key_op		 op;
	struct key		*k;
	size_t			 outlen = 0;
	unsigned char		*body = (unsigned char *)out + sizeof(res);

	memset(&res, 0, sizeof(res));
	if (len < sizeof(op) || len > sizeof(op) + KEY_OP_MAX_IN) {
		res.status = KEY_ELEN;
		goto done;
	}
	memcpy(&op, req, sizeof(op));
	res.seq = op.seq;
	if ((k = key_find(op.key_id)) == NULL)
		res.status = KEY_ENOKEY;
	else if ((res.status = op_check(k, &op, (const unsigned char *)req + sizeof(op),
	    len - sizeof(op))) == KEY_OK)
		res.status = op_run(k, &op, (const unsigned char *)req + sizeof(op),
		    len - sizeof(op), body, &outlen);
	if (res.status != KEY_OK)
		outlen = 0;
done:
	memcpy(out, &res, sizeof(res));
	return sizeof(res) + outlen;
}

/*
 * OpenSSL finds its algorithms, and reads its configuration file, the first
 * time they are asked for: before the chroot and the filter, so that the
 * first key loaded inside them does not depend on files or calls they hide.
 */
void
keyop_warm(void)
{
	static const char *const names[] = { "EC", "RSA" };
	size_t i;

	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_ADD_ALL_CIPHERS |
	    OPENSSL_INIT_ADD_ALL_DIGESTS, NULL);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, names[i], NULL);
		EVP_PKEY *pk = NULL, *back = NULL;
		BIO *b = BIO_new(BIO_s_mem());

		/* A throwaway key, written as PEM and read back: the key
		 * manager, the encoders and decoders and the random generator
		 * are fetched and ready. */
		if (c != NULL && b != NULL && EVP_PKEY_keygen_init(c) > 0 &&
		    (i == 0 ? EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1) :
		    EVP_PKEY_CTX_set_rsa_keygen_bits(c, 1024)) > 0 &&
		    EVP_PKEY_keygen(c, &pk) > 0 &&
		    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) > 0)
			back = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		EVP_PKEY_free(back);
		EVP_PKEY_free(pk);
		BIO_free(b);
		EVP_PKEY_CTX_free(c);
	}
	for (i = 0; pss_md((int)i) != NULL; i++)
		;
	ERR_clear_error();
}
