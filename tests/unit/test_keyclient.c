/*
 * test_keyclient.c: front's proxy keys against a real keyd loop.
 *
 * keyd_loop() runs in a child over socketpairs, as the master would start
 * it (without the sandbox, which the integration tests check); the parent
 * plays the master (loading an ECDSA P-256 and an RSA-2048 key by
 * descriptor) and a front (signing through keyclient_pkey()'s proxies).
 * Every signature is checked with the certificate's public key, and TLS 1.3
 * and 1.2 handshakes run in memory with a server holding only the proxy.
 * Then what a front may send wrong: unknown ids, wrong operations, wrong
 * lengths, a forgotten key, a keyd that answers late.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lockerd.h"
#include "keyclient.h"
#include "unit.h"

#define EC_ID	7
#define RSA_ID	9

static int	 master = -1;	/* our end of keyd's master channel */
static pid_t	 keyd_pid;

static X509 *
self_signed(EVP_PKEY *key, const char *cn)
{
	X509		*x = X509_new();
	X509_NAME	*n = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

/* The key as a PEM file's descriptor, as the master opens it. */
static int
pem_fd(EVP_PKEY *key)
{
	int	 fd = memfd_create("key", MFD_CLOEXEC);
	BIO	*b = BIO_new(BIO_s_mem());
	char	*p;
	long	 len;

	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(b, &p);
	if (write_all(fd, p, (size_t)len) == -1)
		abort();
	lseek(fd, 0, SEEK_SET);
	BIO_free(b);
	return fd;
}

static void
load(uint32_t id, int fd)
{
	CHECK_INT(msg_send(master, MSG_KEY_LOAD, &id, sizeof(id), fd), 0);
	close(fd);
}

static void
keyd_fork(void)
{
	int mv[2], fv[2];
	uint32_t idx = 0;

	if (chan_pair(mv) == -1 || chan_pair(fv) == -1)
		abort();
	if ((keyd_pid = fork()) == 0) {
		close(mv[0]);
		close(fv[0]);
		close(fv[1]);
		_exit(keyd_loop(mv[1]));
	}
	close(mv[1]);
	master = mv[0];
	CHECK_INT(msg_send(master, MSG_KEY_CHAN, &idx, sizeof(idx), fv[1]), 0);
	close(fv[1]);
	keyclient_set_chan(fv[0]);
}

/* Sign msg with the proxy, verify with the real public key. */
static int
sign_verify_salt(EVP_PKEY *proxy, EVP_PKEY *pub, int pss, int salt);

static int
sign_verify(EVP_PKEY *proxy, EVP_PKEY *pub, int pss)
{
	return sign_verify_salt(proxy, pub, pss, RSA_PSS_SALTLEN_DIGEST);
}

static int
sign_verify_salt(EVP_PKEY *proxy, EVP_PKEY *pub, int pss, int salt)
{
	static const unsigned char msg[] = "a handshake's transcript";
	unsigned char	 sig[1024];
	size_t		 siglen = sizeof(sig);
	EVP_MD_CTX	*m = EVP_MD_CTX_new();
	EVP_PKEY_CTX	*pc;
	int		 ok;

	ok = EVP_DigestSignInit(m, &pc, EVP_sha256(), NULL, proxy) == 1 &&
	    (!pss || (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, salt) == 1)) &&
	    EVP_DigestSign(m, sig, &siglen, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(m);
	if (!ok) {
		ERR_clear_error();
		return 0;
	}
	m = EVP_MD_CTX_new();
	ok = EVP_DigestVerifyInit(m, &pc, EVP_sha256(), NULL, pub) == 1 &&
	    (!pss || (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, salt) == 1)) &&
	    EVP_DigestVerify(m, sig, siglen, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(m);
	ERR_clear_error();
	return ok;
}

/* Client and server over a BIO pair until both are done: 1 if they were. */
static int
handshake(X509 *cert, EVP_PKEY *proxy, int version, const char *ciphers, const char *sigalgs)
{
	SSL_CTX	*sc = SSL_CTX_new(TLS_server_method()), *cc = SSL_CTX_new(TLS_client_method());
	SSL	*s, *c;
	BIO	*sb, *cb;
	int	 i, sdone = 0, cdone = 0, ok;

	SSL_CTX_set_min_proto_version(sc, version);
	SSL_CTX_set_max_proto_version(sc, version);
	if (ciphers != NULL)
		SSL_CTX_set_cipher_list(cc, ciphers);
	if (sigalgs != NULL)
		SSL_CTX_set1_sigalgs_list(cc, sigalgs);
	ok = SSL_CTX_use_certificate(sc, cert) == 1 && SSL_CTX_use_PrivateKey(sc, proxy) == 1;
	CHECK(ok);
	s = SSL_new(sc);
	c = SSL_new(cc);
	BIO_new_bio_pair(&sb, 0, &cb, 0);
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 100 && ok && !(sdone && cdone); i++) {
		int r;

		if (!cdone && (r = SSL_do_handshake(c)) != 1 &&
		    SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
			ok = 0;
		cdone = cdone || r == 1;
		if (!sdone && (r = SSL_do_handshake(s)) != 1 &&
		    SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
			ok = 0;
		sdone = sdone || r == 1;
	}
	ok = ok && sdone && cdone && SSL_version(c) == version;
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
	ERR_clear_error();
	return ok;
}

/* A raw request on a channel of our own, and keyd's answer's status. */
static int
raw_op(int fd, uint32_t id, uint16_t op, uint16_t pad, size_t inlen, uint32_t seq)
{
	unsigned char	 req[sizeof(struct key_op) + KEY_OP_MAX_IN];
	unsigned char	 ans[sizeof(struct key_result) + KEY_RESULT_MAX];
	struct key_op	 o = { .key_id = id, .seq = seq, .op = op, .pad = pad };
	struct key_result r;
	enum msg_type	 type;
	const char	*why;
	int		 rfd;
	ssize_t		 n;

	memcpy(req, &o, sizeof(o));
	memset(req + sizeof(o), 0x5a, inlen);
	if (msg_send(fd, MSG_KEY_OP, req, sizeof(o) + inlen, -1) == -1)
		return -100;
	n = msg_recv_checked(fd, MR_FRONT, MR_KEYD, &type, ans, sizeof(ans), &rfd, &why);
	if (n < (ssize_t)sizeof(r) || type != MSG_KEY_RESULT)
		return -101;
	memcpy(&r, ans, sizeof(r));
	CHECK_INT(r.seq, seq);
	if (r.status != KEY_OK)
		CHECK_INT(n, sizeof(r));	/* an error carries no bytes */
	return r.status;
}

/* A second channel, as the master would give a second front. */
static int
second_front(void)
{
	int		 fv[2];
	uint32_t	 idx = 1;

	if (chan_pair(fv) == -1)
		abort();
	CHECK_INT(msg_send(master, MSG_KEY_CHAN, &idx, sizeof(idx), fv[1]), 0);
	close(fv[1]);
	return fv[0];
}

static void
test_hostile_front(void)
{
	int	 fd = second_front();
	unsigned char junk[64];

	CHECK_INT(raw_op(fd, 12345, KEY_OP_ECDSA_SIGN, 0, 32, 1), KEY_ENOKEY);
	CHECK_INT(raw_op(fd, EC_ID, KEY_OP_RSA_PRIV_ENC, KEY_PAD_PKCS1, 32, 2), KEY_EOP);
	CHECK_INT(raw_op(fd, RSA_ID, KEY_OP_ECDSA_SIGN, 0, 32, 3), KEY_EOP);
	CHECK_INT(raw_op(fd, EC_ID, 99, 0, 32, 4), KEY_EOP);
	CHECK_INT(raw_op(fd, EC_ID, KEY_OP_ECDSA_SIGN, 0, 0, 5), KEY_ELEN);
	CHECK_INT(raw_op(fd, EC_ID, KEY_OP_ECDSA_SIGN, 0, 65, 6), KEY_ELEN);
	CHECK_INT(raw_op(fd, RSA_ID, KEY_OP_RSA_PRIV_ENC, KEY_PAD_NONE, 255, 7), KEY_ELEN);
	CHECK_INT(raw_op(fd, RSA_ID, KEY_OP_RSA_PRIV_ENC, KEY_PAD_PKCS1, 246, 8), KEY_ELEN);
	CHECK_INT(raw_op(fd, RSA_ID, KEY_OP_RSA_PRIV_ENC, 77, 32, 9), KEY_EOP);
	/* A raw block that is not a PSS encoding: no decryption oracle. */
	CHECK_INT(raw_op(fd, RSA_ID, KEY_OP_RSA_PRIV_ENC, KEY_PAD_NONE, 256, 10), KEY_EOP);
	CHECK_INT(raw_op(fd, RSA_ID, KEY_OP_RSA_PRIV_ENC, KEY_PAD_PKCS1, 51, 12), KEY_OK);
	CHECK_INT(raw_op(fd, EC_ID, KEY_OP_ECDSA_SIGN, 0, 32, 11), KEY_OK);
	/* A frame msg_rules[] refuses: keyd drops that channel, and only it. */
	memset(junk, 0xff, sizeof(junk));
	CHECK(send(fd, junk, sizeof(junk), 0) == (ssize_t)sizeof(junk));
	CHECK(recv(fd, junk, sizeof(junk), 0) == 0);
	close(fd);
}

static void
test_late_answer(EVP_PKEY *proxy, EVP_PKEY *pub)
{
	uint64_t t0;

	/* keyd stopped: the operation fails at the timeout, not before or
	 * long after; keyd's late answer is not taken for the next one's. */
	kill(keyd_pid, SIGSTOP);
	t0 = now_ms();
	CHECK(!sign_verify(proxy, pub, 0));
	CHECK(now_ms() - t0 >= KEYCLIENT_TIMEOUT_MS - 50);
	CHECK(now_ms() - t0 < KEYCLIENT_TIMEOUT_MS + 500);
	kill(keyd_pid, SIGCONT);
	CHECK(sign_verify(proxy, pub, 0));
	CHECK(sign_verify(proxy, pub, 0));
}

int
main(void)
{
	EVP_PKEY	*ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY	*rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	X509		*ec_cert = self_signed(ec, "ec.test"), *rsa_cert = self_signed(rsa, "rsa.test");
	EVP_PKEY	*ec_proxy, *rsa_proxy, *ec_pub = X509_get0_pubkey(ec_cert);
	EVP_PKEY	*rsa_pub = X509_get0_pubkey(rsa_cert);
	int		 garbage[2];
	uint32_t	 id;

	signal(SIGPIPE, SIG_IGN);
	log_init("test_keyclient", 0);
	keyd_fork();
	load(EC_ID, pem_fd(ec));
	load(RSA_ID, pem_fd(rsa));
	/* Not a key, and a key file that never ends: refused, keyd goes on. */
	if (pipe(garbage) == 0) {
		CHECK(write(garbage[1], "not a key\n", 10) == 10);
		close(garbage[1]);
		load(11, garbage[0]);
	}
	ec_proxy = keyclient_pkey(ec_cert, EC_ID);
	rsa_proxy = keyclient_pkey(rsa_cert, RSA_ID);
	CHECK(ec_proxy != NULL && rsa_proxy != NULL);

	CHECK(sign_verify(ec_proxy, ec_pub, 0));
	CHECK(sign_verify(rsa_proxy, rsa_pub, 0));
	CHECK(sign_verify(rsa_proxy, rsa_pub, 1));
	/* PSS as TLS makes it (a salt as long as the hash) and no other: a
	 * longer salt leaves too little of the block fixed to rule out a
	 * ciphertext. */
	CHECK(!sign_verify_salt(rsa_proxy, rsa_pub, 1, RSA_PSS_SALTLEN_MAX));
	CHECK(sign_verify(rsa_proxy, rsa_pub, 1));
	/* The proxy signs nothing of its own: the wrong key's public half. */
	CHECK(!sign_verify(ec_proxy, X509_get0_pubkey(self_signed(
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "other")), 0));

	CHECK(handshake(ec_cert, ec_proxy, TLS1_3_VERSION, NULL, NULL));
	CHECK(handshake(rsa_cert, rsa_proxy, TLS1_3_VERSION, NULL, NULL));
	CHECK(handshake(ec_cert, ec_proxy, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", NULL));
	CHECK(handshake(rsa_cert, rsa_proxy, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256", NULL));
	/* TLS 1.2 with PKCS#1 v1.5 signatures, and with PSS. */
	CHECK(handshake(rsa_cert, rsa_proxy, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256",
	    "RSA+SHA256"));
	CHECK(handshake(rsa_cert, rsa_proxy, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256",
	    "rsa_pss_rsae_sha256"));
	/* A proxy of an id keyd does not hold: that handshake fails. */
	{
		EVP_PKEY *none = keyclient_pkey(ec_cert, 4242);

		CHECK(!handshake(ec_cert, none, TLS1_3_VERSION, NULL, NULL));
		EVP_PKEY_free(none);
	}

	/* A modulus of 8n+1 bits: its PSS block is a byte shorter than the
	 * modulus, after a zero (RFC 8017, 9.1.1). */
	{
		EVP_PKEY	*odd = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2049);
		X509		*odd_cert = self_signed(odd, "odd.test");
		EVP_PKEY	*odd_proxy;

		load(13, pem_fd(odd));
		odd_proxy = keyclient_pkey(odd_cert, 13);
		CHECK(sign_verify(odd_proxy, X509_get0_pubkey(odd_cert), 1));
		CHECK(handshake(odd_cert, odd_proxy, TLS1_3_VERSION, NULL, NULL));
		EVP_PKEY_free(odd_proxy);
		X509_free(odd_cert);
		EVP_PKEY_free(odd);
	}

	test_hostile_front();
	test_late_answer(ec_proxy, ec_pub);

	/* Forgotten: the EC key (below RSA_ID) goes, the RSA key stays. */
	id = RSA_ID;
	CHECK_INT(msg_send(master, MSG_KEY_FORGET, &id, sizeof(id), -1), 0);
	{
		/* The master's channel and the front's are two: an operation
		 * keyd takes before the forget is still signed. */
		int tries = 0;

		while (sign_verify(ec_proxy, ec_pub, 0) && tries++ < 100)
			usleep(10000);
		CHECK(tries < 100);
	}
	CHECK(sign_verify(rsa_proxy, rsa_pub, 0));

	/* The master goes: keyd ends. */
	close(master);
	{
		int st = -1;

		CHECK(waitpid(keyd_pid, &st, 0) == keyd_pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0);
	}
	/* ... and without a channel, an operation fails at once. */
	CHECK(!sign_verify(rsa_proxy, rsa_pub, 0));
	EVP_PKEY_free(ec_proxy);
	EVP_PKEY_free(rsa_proxy);
	UNIT_DONE();
}
