/*
 * keyclient.h: front's private keys, which are not there: proxies whose
 * private operations are done by keyd (keyd.c), over the channel the master
 * hands each front (MSG_KEY_CHAN).
 */
#ifndef LOCKERD_KEYCLIENT_H
#define LOCKERD_KEYCLIENT_H

#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* How long one operation may wait for keyd before its handshake fails. */
#define KEYCLIENT_TIMEOUT_MS	1000

/*
 * A key with leaf's public half (EC or RSA) whose private operations go to
 * keyd's key key_id: for SSL_CTX_use_PrivateKey() beside leaf.  NULL if
 * leaf's key is of another type, or out of memory.  The caller frees it.
 */
EVP_PKEY *keyclient_pkey(X509 *leaf, uint32_t key_id);
/* The channel to keyd (from MSG_KEY_CHAN); it replaces, and closes, the last. */
void	keyclient_set_chan(int fd);

#endif
