/*
 * fuzz_keyd.c: libFuzzer target for what keyd takes from a front: the
 * payload of one MSG_KEY_OP, any bytes of any length msg_rules[] lets
 * through (and shorter and longer ones too), answered by keyop_answer()
 * with an ECDSA P-256 key (id 1) and an RSA-2048 key (id 2) loaded.
 *
 * Checked: the answer fits the room for one, echoes the request's sequence
 * number, carries a known status, and carries no bytes unless it is KEY_OK.
 */
#include <sys/mman.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fuzz.h"
#include "lockerd.h"

static void
load(uint32_t id, EVP_PKEY *key)
{
	int	 fd = memfd_create("key", 0);
	BIO	*b = BIO_new(BIO_s_mem());
	char	*p, err[256];
	long	 len;

	REQUIRE(fd != -1 && b != NULL && key != NULL);
	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(b, &p);
	REQUIRE(write(fd, p, (size_t)len) == len && lseek(fd, 0, SEEK_SET) == 0);
	REQUIRE(keyop_load(id, fd, err, sizeof(err)) == 0);
	close(fd);
	BIO_free(b);
	EVP_PKEY_free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 ready;
	static unsigned char	 out[sizeof(struct key_result) + KEY_RESULT_MAX];
	struct key_result	 r;
	struct key_op		 op;
	size_t			 n;

	if (!ready) {
		load(1, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
		load(2, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
		ready = 1;
	}
	if (size > sizeof(op) + 2 * KEY_OP_MAX_IN)
		return 0;
	n = keyop_answer(data, size, out);
	REQUIRE(n >= sizeof(r) && n <= sizeof(out));
	memcpy(&r, out, sizeof(r));
	REQUIRE(r.status >= KEY_OK && r.status <= KEY_EFAIL);
	REQUIRE(r.status == KEY_OK || n == sizeof(r));
	if (size >= sizeof(op) && size <= sizeof(op) + KEY_OP_MAX_IN) {
		memcpy(&op, data, sizeof(op));
		REQUIRE(r.seq == op.seq);
	}
	return 0;
}
