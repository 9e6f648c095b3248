/*
 * keyd.c: what a private-key operation costs through keyd, against the
 * same operation in-process.
 *     make bench-keyd            (or build/bench-keyd [seconds])
 * For ECDSA P-256 and RSA-2048 (PSS as TLS 1.3 signs: the salt as long as
 * the hash, the only PSS keyd signs): signatures a
 * second by one client with the key itself, then through a proxy key
 * (keyclient.c) and a keyd loop in another process (keyd.c, unsandboxed),
 * then by two clients at once sharing that one keyd (two fronts), each
 * with its own channel.  The difference per signature is the round trip.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "lockerd.h"
#include "keyclient.h"

static double	 seconds = 2.0;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static X509 *
cert_of(EVP_PKEY *key)
{
	X509 *x = X509_new();

	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	return x;
}

/* Signatures a second with key for `seconds`. */
static double
rate(EVP_PKEY *key, int pss)
{
	static const unsigned char msg[64];
	unsigned char	 sig[1024];
	double		 t0 = now(), t;
	long		 n = 0;

	do {
		EVP_MD_CTX	*m = EVP_MD_CTX_new();
		EVP_PKEY_CTX	*pc;
		size_t		 len = sizeof(sig);

		if (EVP_DigestSignInit(m, &pc, EVP_sha256(), NULL, key) != 1 ||
		    (pss && (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1)) ||
		    EVP_DigestSign(m, sig, &len, msg, sizeof(msg)) != 1) {
			fprintf(stderr, "bench-keyd: a signature failed\n");
			EVP_MD_CTX_free(m);
			return 0;
		}
		EVP_MD_CTX_free(m);
		n++;
	} while ((t = now() - t0) < seconds);
	return (double)n / t;
}

static int
pem_fd(EVP_PKEY *key)
{
	int	 fd = memfd_create("key", MFD_CLOEXEC);
	BIO	*b = BIO_new(BIO_s_mem());
	char	*p;
	long	 len = 0;

	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(b, &p);
	if (write_all(fd, p, (size_t)len) == -1)
		exit(1);
	lseek(fd, 0, SEEK_SET);
	BIO_free(b);
	return fd;
}

/* Through keyd, by nclients processes at once: their total rate. */
static double
proxied(EVP_PKEY *key, int pss, int nclients)
{
	X509		*x = cert_of(key);
	int		 mv[2], fv[2], res[2], i, fd;
	uint32_t	 id = 1;
	double		 total = 0, r;
	pid_t		 keyd;

	if (chan_pair(mv) == -1 || pipe(res) == -1)
		exit(1);
	if ((keyd = fork()) == 0) {
		close(mv[0]);
		_exit(keyd_loop(mv[1]));
	}
	close(mv[1]);
	fd = pem_fd(key);
	msg_send(mv[0], MSG_KEY_LOAD, &id, sizeof(id), fd);
	close(fd);
	for (i = 0; i < nclients; i++) {
		uint32_t idx = (uint32_t)i;

		if (chan_pair(fv) == -1)
			exit(1);
		msg_send(mv[0], MSG_KEY_CHAN, &idx, sizeof(idx), fv[1]);
		close(fv[1]);
		if (fork() == 0) {
			keyclient_set_chan(fv[0]);
			r = rate(keyclient_pkey(x, id), pss);
			if (write(res[1], &r, sizeof(r)) != sizeof(r))
				_exit(1);
			_exit(0);
		}
		close(fv[0]);
	}
	for (i = 0; i < nclients; i++)
		if (read(res[0], &r, sizeof(r)) == sizeof(r))
			total += r;
	while (wait(NULL) > 0 && --nclients > 0)
		;
	close(mv[0]);
	waitpid(keyd, NULL, 0);
	close(res[0]);
	close(res[1]);
	X509_free(x);
	return total;
}

static void
one(const char *name, EVP_PKEY *key, int pss)
{
	double direct = rate(key, pss), one = proxied(key, pss, 1), two = proxied(key, pss, 2);

	printf("%-16s %10.0f %10.0f %10.0f %12.1f\n", name, direct, one, two,
	    1e6 / one - 1e6 / direct);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		seconds = atof(argv[1]);
	signal(SIGPIPE, SIG_IGN);
	log_init("bench-keyd", 0);
	printf("signatures/s     %10s %10s %10s %12s\n", "in-process", "via keyd",
	    "2 clients", "us/round trip");
	one("ECDSA P-256", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), 0);
	one("RSA-2048 PSS", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), 1);
	return 0;
}
