/*
 * acme.h: certificates that arrive by themselves (ACME, RFC 8555).
 *
 * The client runs as its own unprivileged process (MR_ACME, acme.c), as
 * key-user in tls-dir, not chrooted: it needs the CA's address and the
 * DNS.  The master decides what it may ask for, from the directory
 * (acme_master.c), and relays its HTTP-01 tokens to every front
 * (challenge.c), which answers them before any routing.  The messages
 * below are rows of msg.c's msg_rules[].
 *
 * The pieces that read what a CA sends (acme_http.c's response parser,
 * acme_proto.c's documents) are pure functions of their input, for the
 * fuzz target (fuzz/fuzz_acme.c).
 */
#ifndef LOCKERD_ACME_H
#define LOCKERD_ACME_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"

/* ------------------------------------------------------------ messages */

/* What a name is, for acme's choices and for `locker cert`. */
enum acme_kind { ACME_SERVICE = 1, ACME_VHOST, ACME_WILDCARD };

struct acme_name {
	uint8_t		kind;			/* enum acme_kind */
	uint8_t		over_budget;		/* the locker's acme-names-per-week is spent */
	char		host[HOSTNAME_MAX + 1];	/* canonical; "*.DOMAIN" for the wildcard */
	char		locker[LOCKER_NAME_MAX + 1];	/* "" for the service's */
};

/* MSG_ACME_NAMES: master -> acme, the whole list in batches; the batch
 * with ACME_NAMES_LAST ends it and replaces what acme had.  With
 * ACME_NAMES_WATCH (on the last batch) another node of a fleet holds the
 * `acme` lease: acme orders nothing, only reads every name's state from
 * tls-dir (shared storage, where the holder writes) for `locker cert`. */
#define ACME_NAMES_BATCH	128
#define ACME_NAMES_LAST		0x1
#define ACME_NAMES_WATCH	0x2
#define ACME_NAMES_MAX		4096	/* names acme keeps; the rest wait */
struct msg_acme_names {
	uint32_t	flags;
	uint32_t	n;
	struct acme_name names[];	/* n of them */
};

/* MSG_ACME_TOKEN: acme -> master; MSG_CHALLENGE: master -> front. */
#define ACME_TOKEN_MAX		128	/* base64url characters */
#define ACME_KEYAUTH_MAX	255
#define ACME_TOKENS_MAX		64	/* live at once, in the master and in front */
struct msg_acme_token {
	uint8_t		set;			/* 1 set, 0 clear */
	char		token[ACME_TOKEN_MAX + 1];
	char		keyauth[ACME_KEYAUTH_MAX + 1];
};

/* MSG_ACME_ALPN: acme -> master; MSG_CHALLENGE_ALPN: master -> front.  A
 * TLS-ALPN-01 challenge (RFC 8737): the self-signed certificate with the
 * acmeIdentifier extension and its throwaway key, both PEM, for front to
 * present to a ClientHello that offers ALPN acme-tls/1 alone for host. */
#define ACME_ALPN_PEM_MAX	4096
#define ACME_ALPN_MAX		16	/* live at once */
struct msg_acme_alpn {
	uint8_t		set;			/* 1 set, 0 clear */
	char		host[HOSTNAME_MAX + 1];
	uint16_t	cert_len, key_len;	/* cert's PEM then the key's, in pem */
	char		pem[ACME_ALPN_PEM_MAX];
};

/* MSG_ACME_STATUS: acme -> master, one host's state. */
enum acme_state { ACME_ST_NONE = 0, ACME_ST_PENDING, ACME_ST_ISSUED, ACME_ST_FAILED,
	ACME_ST_RATE_LIMITED, ACME_ST_EXPIRED };
#define ACME_ERROR_MAX		255
#define ACME_ISSUER_MAX		127
struct msg_acme_status {
	char		host[HOSTNAME_MAX + 1];
	uint8_t		state;			/* enum acme_state */
	uint8_t		renew_failed;		/* a renewal failed; the old one is still served */
	int64_t		not_after;		/* 0: no certificate */
	int64_t		next_renewal;		/* or next try */
	char		issuer[ACME_ISSUER_MAX + 1];
	char		error[ACME_ERROR_MAX + 1];	/* the last one, "" if none */
};

/* MSG_ACME_ISSUED: acme -> master, a host's files in tls-dir are new; the
 * same struct for MSG_ACME_NOW, master -> acme: a visitor asked for it. */
struct msg_acme_issued {
	char		host[HOSTNAME_MAX + 1];
};

const char *acme_state_name(int state);		/* "issued", "rate-limited", ... */
int	acme_token_ok(const char *s);		/* 1: 1..ACME_TOKEN_MAX of base64url */
int	acme_keyauth_ok(const char *s);		/* 1: TOKEN.THUMBPRINT, printable */
/* The file stem of a host in tls-dir ("_wildcard.DOMAIN" for "*.DOMAIN"),
 * or -1 if host is not a name that may become one. */
int	acme_host_file(const char *host, char *out, size_t outsz);

/* ------------------------------------------------------------ acme.c */
int	acme_main(void);

/* ------------------------------------------------------------ challenge.c (front) */
void	challenge_set(const struct msg_acme_token *t);
/* 1 if path is a live token's (the answer is its key authorization), 0 if
 * not; *keyauth points into the table until the next challenge_set(). */
int	challenge_lookup(const char *path, const char **keyauth);
struct conn;
/* 1 if c's request was a live token's and is answered (before routing). */
int	challenge_answer(struct conn *c);
/* TLS-ALPN-01 in front: the challenges the master relayed; a ClientHello
 * callback that takes such a handshake to its challenge's certificate
 * (every site's SSL_CTX has it); any challenge's context, for a front
 * that has no certificate of its own yet. */
void	challenge_alpn_set(const struct msg_acme_alpn *m);
struct ssl_st;
struct ssl_ctx_st;
int	challenge_hello_cb(struct ssl_st *ssl, int *al, void *arg);
struct ssl_ctx_st *challenge_alpn_any(void);
/* A handshake named host, which has no certificate of its own: told to the
 * master, at most once a minute per name and five times a second in all. */
void	challenge_want(const char *host);

#endif
