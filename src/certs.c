/*
 * certs.c: the master's certificate registry.
 *
 * Every certificate front may present is listed here: the configuration's
 * `certificate HOST CERT KEY` lines, then the HOST.crt/HOST.key pairs of
 * the TLS directory (ACME's, or an administrator's).  Each gets a key id,
 * never reused while the master lives.  The master opens both files as
 * root: the key goes to the key process (keyd_load()), which alone ever
 * holds its private bytes; the chain goes to every front (MSG_TLS_CERT,
 * then MSG_TLS_COMMIT, and front swaps its whole set at once).  The open
 * files are kept, so that a restarted front or key process gets exactly
 * what the others have, whatever has happened on disk since.
 *
 * The registry is run again on SIGHUP, when the ACME client says a
 * certificate changed, and when tls-dir changed (certs_rescan_tick(), every
 * tls-rescan): in a fleet only the node holding the `acme` lease orders,
 * and the others find its files in tls-dir on the shared storage.  A
 * change is read once it has stood still for a second: ACME writes a key,
 * then its certificate, and a look between the two would see a pair that
 * does not match.  The key process forgets the old keys a little later
 * (certs_tick()): handshakes in flight still sign with them.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lockerd.h"
#include "master.h"
#include "certs.h"

struct cert {
	struct cert_info info;
	int		 crt_fd, key_fd;
};

static struct cert	*certs;
static size_t		 ncerts;
static int		 ca_fd = -1;		/* tls-client-ca, open */
static uint32_t		 next_id = 1;
static uint32_t		 generation;
static uint32_t		 forget_id;		/* keys below it go at forget_at */
static uint64_t		 forget_at;
static uint64_t		 dir_print;		/* tls-dir's, when last read */
static uint64_t		 dir_seen;		/* a change seen, not yet read */
static uint64_t		 rescan_at;

/* ------------------------------------------------------------ checking */

static X509 *
read_leaf(const char *path, char *why, size_t whylen)
{
	FILE	*f;
	X509	*x;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		snprintf(why, whylen, "%s: no PEM certificate in it", path);
	ERR_clear_error();
	return x;
}

static EVP_PKEY *
read_key(const char *path, char *why, size_t whylen)
{
	FILE		*f;
	EVP_PKEY	*k;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		snprintf(why, whylen, "%s: no PEM private key in it (or one with a "
		    "passphrase)", path);
	ERR_clear_error();
	return k;
}

/*
 * What is wrong with a certificate and its key, in why; 0 if nothing.
 * expired: whether it has, as a separate verdict (the master still serves
 * one; `lockerd -t` calls it an error).
 */
static int
pair_check(const char *crt, const char *key, struct cert_info *ci, int *expired,
    char *why, size_t whylen)
{
	X509		*x;
	EVP_PKEY	*k;
	int		 rc = 0;

	*expired = 0;
	if ((x = read_leaf(crt, why, whylen)) == NULL)
		return -1;
	if ((k = read_key(key, why, whylen)) == NULL) {
		X509_free(x);
		return -1;
	}
	if (X509_check_private_key(x, k) != 1) {
		snprintf(why, whylen, "%s does not match the certificate %s", key, crt);
		rc = -1;
	} else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		snprintf(why, whylen, "%s has expired", crt);
		*expired = 1;
	}
	if (ci != NULL) {
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
			ci->not_after = timegm(&tm);
		X509_NAME_oneline(X509_get_issuer_name(x), ci->issuer, sizeof(ci->issuer));
	}
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

/* The TLS keys OpenSSL must accept; "FILE:LINE: what" for the first that it does not. */
static int
strings_check(const struct config *c, char *err, size_t errlen)
{
	SSL_CTX	*ctx = SSL_CTX_new(TLS_server_method());
	int	 rc = 0;

	if (ctx == NULL)
		return 0;
	if (SSL_CTX_set_cipher_list(ctx, c->tls_ciphers) != 1) {
		snprintf(err, errlen, "%s:%d: tls-ciphers: OpenSSL knows none of \"%s\"",
		    c->path, config_line_of(c, "tls-ciphers", 0), c->tls_ciphers);
		rc = -1;
	} else if (SSL_CTX_set_ciphersuites(ctx, c->tls_ciphersuites) != 1) {
		snprintf(err, errlen, "%s:%d: tls-ciphersuites: OpenSSL refuses \"%s\"",
		    c->path, config_line_of(c, "tls-ciphersuites", 0), c->tls_ciphersuites);
		rc = -1;
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
certs_check(const struct config *c, int strict, char *err, size_t errlen)
{
	char	why[PATH_MAX * 2 + 64];
	int	i, expired;

	if (strings_check(c, err, errlen) == -1)
		return -1;
	for (i = 0; i < c->ncerts; i++) {
		if (pair_check(c->certs[i].crt, c->certs[i].key, NULL, &expired, why,
		    sizeof(why)) == -1 || (expired && strict)) {
			snprintf(err, errlen, "%s:%d: certificate %s: %s", c->path,
			    config_line_of(c, "certificate", i), c->certs[i].host, why);
			return -1;
		}
		if (expired)
			log_warnx("%s:%d: certificate %s: %s (served all the same)", c->path,
			    config_line_of(c, "certificate", i), c->certs[i].host, why);
	}
	if (c->tls_client_ca[0] != '\0') {
		X509 *x = read_leaf(c->tls_client_ca, why, sizeof(why));

		if (x == NULL) {
			snprintf(err, errlen, "%s:%d: tls-client-ca: %s", c->path,
			    config_line_of(c, "tls-client-ca", 0), why);
			return -1;
		}
		X509_free(x);
	}
	return 0;
}

/* ------------------------------------------------------------ the registry */

static void
cert_close(struct cert *ce)
{
	if (ce->crt_fd != -1)
		close(ce->crt_fd);
	if (ce->key_fd != -1)
		close(ce->key_fd);
}

/* One pair opened, checked and given a key id; -1 (logged) if it cannot serve. */
static int
cert_add(struct cert **v, size_t *n, const char *host, const char *crt, const char *key,
    int from_dir)
{
	struct cert	 ce, *p;
	char		 why[PATH_MAX * 2 + 64];
	int		 expired;

	memset(&ce, 0, sizeof(ce));
	if (pair_check(crt, key, &ce.info, &expired, why, sizeof(why)) == -1) {
		log_warnx("certificate %s not served: %s", host, why);
		return -1;
	}
	if (expired)
		log_warnx("certificate %s: %s; served until it is replaced", host, why);
	ce.crt_fd = open(crt, O_RDONLY | O_CLOEXEC);
	ce.key_fd = open(key, O_RDONLY | O_CLOEXEC);
	if (ce.crt_fd == -1 || ce.key_fd == -1 || (p = realloc(*v, (*n + 1) *
	    sizeof(**v))) == NULL) {
		log_warn("certificate %s not served", host);
		cert_close(&ce);
		return -1;
	}
	snprintf(ce.info.host, sizeof(ce.info.host), "%s", host);
	snprintf(ce.info.crt, sizeof(ce.info.crt), "%s", crt);
	ce.info.from_dir = from_dir;
	ce.info.key_id = next_id++;
	*v = p;
	p[(*n)++] = ce;
	return 0;
}

/*
 * HOST.crt with HOST.key in dir (ACME's files: *.DOMAIN as _wildcard.DOMAIN,
 * a second key type as HOST.rsa.crt).  Names that are not host names are
 * passed over.
 */
static void
dir_scan(const char *dir, struct cert **v, size_t *n)
{
	DIR		*d;
	struct dirent	*e;

	if (dir == NULL || dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char	 host[HOSTNAME_MAX + 3], crt[PATH_MAX], key[PATH_MAX], canon[HOSTNAME_MAX + 1];
		size_t	 len = strlen(e->d_name), base;
		int	 wild;

		if (len < 5 || strcmp(e->d_name + len - 4, ".crt") != 0)
			continue;
		base = len - 4;
		if (base > 4 && strncmp(e->d_name + base - 4, ".rsa", 4) == 0)
			base -= 4;
		wild = strncmp(e->d_name, "_wildcard.", 10) == 0;
		if (base - (wild ? 10 : 0) > HOSTNAME_MAX ||
		    route_canon_host(e->d_name + (wild ? 10 : 0), base - (wild ? 10 : 0), canon,
		    sizeof(canon)) == -1)
			continue;
		snprintf(host, sizeof(host), "%s%s", wild ? "*." : "", canon);
		snprintf(crt, sizeof(crt), "%s/%s", dir, e->d_name);
		snprintf(key, sizeof(key), "%s/%.*s.key", dir, (int)(len - 4), e->d_name);
		cert_add(v, n, host, crt, key, 1);
	}
	closedir(d);
}

static void
send_set(struct child *f)
{
	struct msg_tls_cert	 m;
	size_t			 i;

	for (i = 0; i < ncerts; i++) {
		memset(&m, 0, sizeof(m));
		m.key_id = certs[i].info.key_id;
		m.flags = TLSC_CHAIN;
		snprintf(m.host, sizeof(m.host), "%s", certs[i].info.host);
		child_send(f, MSG_TLS_CERT, &m, sizeof(m), certs[i].crt_fd);
	}
	if (ca_fd != -1) {
		memset(&m, 0, sizeof(m));
		m.flags = TLSC_CLIENT_CA;
		child_send(f, MSG_TLS_CERT, &m, sizeof(m), ca_fd);
	}
	child_send(f, MSG_TLS_COMMIT, &generation, sizeof(generation), -1);
}

void
certs_send_front(struct child *f)
{
	if (f->pid > 0 && (ncerts > 0 || generation > 0))
		send_set(f);
}

void
certs_send_keys(void)
{
	size_t i;

	for (i = 0; i < ncerts; i++)
		if (lseek(certs[i].key_fd, 0, SEEK_SET) == 0)
			keyd_load(certs[i].info.key_id, certs[i].key_fd);
}

/*
 * What changes in tls-dir when a pair is written or replaced: each *.crt
 * and *.key's name, inode, size, mtime and ctime, hashed (FNV-1a) in
 * readdir's order -- a different order is a different print, which only
 * costs a reload.  0: no directory.
 */
static uint64_t
dir_fingerprint(const char *dir)
{
	uint64_t	 h = 1469598103934665603ULL;
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	size_t		 len, i;
	int64_t		 v[6];

	if (dir == NULL || dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 5 || (strcmp(e->d_name + len - 4, ".crt") != 0 &&
		    strcmp(e->d_name + len - 4, ".key") != 0) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		for (i = 0; i <= len; i++)
			h = (h ^ (unsigned char)e->d_name[i]) * 1099511628211ULL;
		v[0] = (int64_t)st.st_ino;
		v[1] = (int64_t)st.st_size;
		v[2] = st.st_mtim.tv_sec;
		v[3] = st.st_mtim.tv_nsec;
		v[4] = st.st_ctim.tv_sec;
		v[5] = st.st_ctim.tv_nsec;
		for (i = 0; i < sizeof(v); i++)
			h = (h ^ ((unsigned char *)v)[i]) * 1099511628211ULL;
	}
	closedir(d);
	return h | 1;
}

void
certs_rescan_tick(const struct config *c)
{
	uint64_t now = now_ms(), print;

	if (c->tls_rescan == 0 || now < rescan_at)
		return;
	rescan_at = now + (uint64_t)c->tls_rescan * 1000;
	print = dir_fingerprint(certs_dir(c));
	if (print == dir_print) {
		dir_seen = 0;
		return;
	}
	if (print != dir_seen) {
		/* Changed: looked at again in a second, read once it stands still. */
		dir_seen = print;
		rescan_at = now + 1000;
		return;
	}
	log_info("%s changed: its certificates are read again", certs_dir(c));
	certs_load(c);
	acme_watch_refresh();
}

void
certs_load(const struct config *c)
{
	struct cert	*v = NULL;
	size_t		 n = 0, i;
	uint32_t	 first = next_id;
	int		 k;

	for (k = 0; k < c->ncerts; k++)
		cert_add(&v, &n, c->certs[k].host, c->certs[k].crt, c->certs[k].key, 0);
	dir_print = dir_fingerprint(certs_dir(c));
	dir_seen = 0;
	dir_scan(certs_dir(c), &v, &n);
	for (i = 0; i < ncerts; i++)
		cert_close(&certs[i]);
	free(certs);
	certs = v;
	ncerts = n;
	if (ca_fd != -1)
		close(ca_fd);
	ca_fd = c->tls_client_ca[0] ? open(c->tls_client_ca, O_RDONLY | O_CLOEXEC) : -1;
	if (c->tls_client_ca[0] && ca_fd == -1)
		log_warn("tls-client-ca %s", c->tls_client_ca);
	certs_send_keys();
	generation++;
	for (k = 0; k < M->nfronts; k++)
		certs_send_front(&M->fronts[k]);
	/* Handshakes in flight may still sign with the old keys for a while. */
	forget_id = first;
	forget_at = now_ms() + (uint64_t)c->tls_handshake_timeout * 1000 + 1000;
	if (n > 0)
		log_info("%zu certificate%s for TLS", n, n == 1 ? "" : "s");
}

void
certs_tick(void)
{
	if (forget_at != 0 && now_ms() >= forget_at) {
		forget_at = 0;
		keyd_forget_before(forget_id);
	}
}

int
certs_foreach(int (*cb)(const struct cert_info *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < ncerts; i++)
		if (cb(&certs[i].info, arg) == -1)
			return -1;
	return 0;
}
