/*
 * authbasic.c: AuthType Basic with AuthUserFile and AuthGroupFile, as
 * mod_auth_basic, mod_authn_file and mod_authz_groupfile read them.
 *
 * The files are the locker's own and are read by its worker, beneath its
 * home only: openat2(RESOLVE_BENEATH) from the home, so neither "..", an
 * absolute symlink nor a magic link leads out; a file that cannot be had
 * that way is a 500 and a line in the locker's error log, never someone
 * else's bytes.  Parsed files are kept and revalidated by their stamps.
 *
 * Hashes are htpasswd's: bcrypt and SHA-crypt and DES through libcrypt,
 * Apache's $apr1$ (MD5-crypt with its own magic) and {SHA} through
 * OpenSSL; every comparison is CRYPTO_memcmp(), and an unknown user costs
 * the same hash as a known one (the file's first entry stands in).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "access.h"

#define AUTH_FILE_MAX	(4 * 1024 * 1024)	/* bytes of a password or group file */
#define AUTH_CACHE	8
#define AUTH_CRED_MAX	4096			/* bytes of an Authorization value */

enum { TYPE_UNSET = -1, TYPE_NONE, TYPE_BASIC };

struct ht_auth {
	int	 type;
	char	*name;		/* AuthName, the realm */
	char	*user_file;
	char	*group_file;
};

/* A file as last read, valid while its stamps hold. */
struct cached {
	char		 path[PATH_MAX];
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime, ctime;
	char		*buf;		/* NUL-terminated */
	unsigned	 used;
};

static struct {
	char		home[PATH_MAX];
	int		homefd;
	struct cached	cache[AUTH_CACHE];
	unsigned	tick;
} A = { .homefd = -1 };

/* ------------------------------------------------------------ directives */

static struct ht_auth *
part(struct ht_dir *d)
{
	struct ht_auth	*a;

	if (d->auth != NULL)
		return d->auth;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->type = TYPE_UNSET;
	d->auth = a;
	return a;
}

static int
set_str(struct ht_parse *p, char **field, const char *what, int argc, char **argv)
{
	char	*s;

	if (argc != 1)
		return ht_error(p, "%s takes one argument", what);
	if ((s = strdup(argv[0])) == NULL)
		return ht_error(p, "out of memory");
	free(*field);
	*field = s;
	return 0;
}

int
auth_type(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_auth	*a;

	if (argc != 1)
		return ht_error(p, "AuthType takes one argument");
	if ((a = part(d)) == NULL)
		return ht_error(p, "out of memory");
	if (strcasecmp(argv[0], "Basic") == 0)
		a->type = TYPE_BASIC;
	else if (strcasecmp(argv[0], "None") == 0)
		a->type = TYPE_NONE;
	else
		return ht_error(p, "AuthType %s is not supported (Basic or None)", argv[0]);
	return 0;
}

int
auth_name(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_auth	*a;

	if ((a = part(d)) == NULL)
		return ht_error(p, "out of memory");
	return set_str(p, &a->name, "AuthName", argc, argv);
}

int
auth_user_file(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_auth	*a;

	if ((a = part(d)) == NULL)
		return ht_error(p, "out of memory");
	return set_str(p, &a->user_file, "AuthUserFile", argc, argv);
}

int
auth_group_file(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_auth	*a;

	if ((a = part(d)) == NULL)
		return ht_error(p, "out of memory");
	return set_str(p, &a->group_file, "AuthGroupFile", argc, argv);
}

int
auth_provider(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)d;
	if (argc != 1 || strcasecmp(argv[0], "file") != 0)
		return ht_error(p, "AuthBasicProvider: only 'file' is available");
	return 0;
}

void
auth_free(void *v)
{
	struct ht_auth	*a = v;

	if (a == NULL)
		return;
	free(a->name);
	free(a->user_file);
	free(a->group_file);
	free(a);
}

/* Each field: the child's if it set it (core's and authn's merges). */
void *
auth_merge(const void *pv, const void *cv)
{
	const struct ht_auth	*base = pv, *new = cv;
	struct ht_auth		*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->type = new->type != TYPE_UNSET ? new->type : base->type;
	m->name = new->name != NULL ? new->name : base->name;
	m->user_file = new->user_file != NULL ? new->user_file : base->user_file;
	m->group_file = new->group_file != NULL ? new->group_file : base->group_file;
	return m;
}

void
auth_merged_free(void *v)
{
	free(v);	/* its strings are the parsed parts' */
}

int
auth_configured(const struct ht_conf *c)
{
	return c->d.auth != NULL && c->d.auth->type == TYPE_BASIC;
}

/* ------------------------------------------------------------ files */

void
auth_set_home(const char *home)
{
	if (A.homefd != -1)
		close(A.homefd);
	snprintf(A.home, sizeof(A.home), "%s", home);
	A.homefd = open(home, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* name below the home, relative: "" when it is not below it. */
static const char *
below_home(const char *name)
{
	size_t	hl = strlen(A.home);

	if (name[0] != '/')
		return name;
	if (hl == 0 || strncmp(name, A.home, hl) != 0 || name[hl] != '/')
		return "";
	return name + hl + 1;
}

static int
read_all(int fd, char *buf, size_t len)
{
	size_t	got = 0;
	ssize_t	n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	buf[len] = '\0';
	return 0;
}

static struct cached *
cache_slot(const char *path)
{
	struct cached	*c, *old = &A.cache[0];
	int		 i;

	for (i = 0; i < AUTH_CACHE; i++) {
		c = &A.cache[i];
		if (c->buf != NULL && strcmp(c->path, path) == 0)
			return c;
		if (c->used < old->used)
			old = c;
	}
	free(old->buf);
	memset(old, 0, sizeof(*old));
	snprintf(old->path, sizeof(old->path), "%s", path);
	return old;
}

/*
 * A password or group file's bytes, beneath the home, NUL-terminated; or
 * NULL after a line in the locker's error log.
 */
static const char *
load(const char *what, const char *name)
{
	struct open_how	 how;
	struct stat	 st;
	struct cached	*c;
	const char	*rel = below_home(name);
	int		 fd;

	if (rel[0] == '\0' || A.homefd == -1) {
		access_log("%s %s: not a file of this locker's home", what, name);
		return NULL;
	}
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	if ((fd = (int)syscall(SYS_openat2, A.homefd, rel, &how, sizeof(how))) == -1) {
		access_log("%s %s: %s", what, name, errno == EXDEV ?
		    "leads out of this locker's home" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > AUTH_FILE_MAX) {
		access_log("%s %s: not a regular file of at most %d bytes", what, name,
		    AUTH_FILE_MAX);
		close(fd);
		return NULL;
	}
	c = cache_slot(name);
	c->used = ++A.tick;
	if (c->buf != NULL && c->dev == st.st_dev && c->ino == st.st_ino &&
	    c->size == st.st_size && c->mtime.tv_sec == st.st_mtim.tv_sec &&
	    c->mtime.tv_nsec == st.st_mtim.tv_nsec && c->ctime.tv_sec == st.st_ctim.tv_sec &&
	    c->ctime.tv_nsec == st.st_ctim.tv_nsec) {
		close(fd);
		return c->buf;
	}
	free(c->buf);
	if ((c->buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    read_all(fd, c->buf, (size_t)st.st_size) == -1) {
		access_log("%s %s: cannot be read", what, name);
		free(c->buf);
		c->buf = NULL;
		close(fd);
		return NULL;
	}
	close(fd);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->size = st.st_size;
	c->mtime = st.st_mtim;
	c->ctime = st.st_ctim;
	return c->buf;
}

/*
 * The next line of buf from *pos, trimmed, into out (cut at cap - 1):
 * 1, or 0 at the end.
 */
static int
next_line(const char *buf, size_t *pos, char *out, size_t cap)
{
	const char	*s = buf + *pos, *e;
	size_t		 len;

	if (*s == '\0')
		return 0;
	e = strchr(s, '\n');
	len = e != NULL ? (size_t)(e - s) : strlen(s);
	*pos += len + (e != NULL);
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 1;
}

/*
 * The hash of user in a password file (mod_authn_file: "user:hash", up to
 * the next ':'), into hash; the first entry's into first.  1 found, 0 not.
 */
static int
find_user(const char *buf, const char *user, char *hash, size_t cap, char *first)
{
	char	 line[AUTH_LINE_MAX], *colon, *end;
	size_t	 pos = 0;

	first[0] = '\0';
	while (next_line(buf, &pos, line, sizeof(line))) {
		if (line[0] == '#' || line[0] == '\0' || (colon = strchr(line, ':')) == NULL)
			continue;
		*colon++ = '\0';
		if ((end = strchr(colon, ':')) != NULL)
			*end = '\0';
		if (first[0] == '\0')
			snprintf(first, cap, "%s", colon);
		if (strcmp(line, user) == 0) {
			snprintf(hash, cap, "%s", colon);
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ hashes */

static const char itoa64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static char *
to64(char *s, unsigned long v, int n)
{
	while (n-- > 0) {
		*s++ = itoa64[v & 0x3f];
		v >>= 6;
	}
	return s;
}

static int
md5(EVP_MD_CTX *x, const void *a, size_t al, const void *b, size_t bl,
    const void *c, size_t cl, unsigned char out[16])
{
	return EVP_DigestInit_ex(x, EVP_md5(), NULL) == 1 &&
	    EVP_DigestUpdate(x, a, al) == 1 && EVP_DigestUpdate(x, b, bl) == 1 &&
	    EVP_DigestUpdate(x, c, cl) == 1 && EVP_DigestFinal_ex(x, out, NULL) == 1 ? 0 : -1;
}

/* MD5-crypt's first digest: password, magic, salt, then the folded ones. */
static int
apr1_start(EVP_MD_CTX *x, const char *pw, size_t pl, const char *salt, size_t sl,
    unsigned char fin[16])
{
	unsigned char	alt[16];
	size_t		i;

	if (md5(x, pw, pl, salt, sl, pw, pl, alt) == -1 ||
	    EVP_DigestInit_ex(x, EVP_md5(), NULL) != 1 || EVP_DigestUpdate(x, pw, pl) != 1 ||
	    EVP_DigestUpdate(x, "$apr1$", 6) != 1 || EVP_DigestUpdate(x, salt, sl) != 1)
		return -1;
	for (i = pl; i > 0; i -= i > 16 ? 16 : i)
		if (EVP_DigestUpdate(x, alt, i > 16 ? 16 : i) != 1)
			return -1;
	for (i = pl; i != 0; i >>= 1)
		if (EVP_DigestUpdate(x, (i & 1) ? "" : pw, 1) != 1)
			return -1;
	return EVP_DigestFinal_ex(x, fin, NULL) == 1 ? 0 : -1;
}

/* Apache's $apr1$: the MD5-crypt algorithm under its own magic. */
static int
apr1(const char *pw, const char *setting, char *out, size_t cap)
{
	unsigned char	 fin[16];
	const char	*salt = setting + 6, *e;
	size_t		 sl, pl = strlen(pw);
	EVP_MD_CTX	*x;
	char		*s;
	int		 i, rc = -1;

	e = strchr(salt, '$');
	sl = e != NULL ? (size_t)(e - salt) : strlen(salt);
	if (sl > 8)
		sl = 8;
	if (cap < 6 + sl + 1 + 22 + 1 || (x = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (apr1_start(x, pw, pl, salt, sl, fin) == -1)
		goto out;
	for (i = 0; i < 1000; i++) {
		const void	*a = (i & 1) ? (const void *)pw : fin, *c = (i & 1) ? (const void *)fin : pw;
		size_t		 al = (i & 1) ? pl : 16, cl = (i & 1) ? 16 : pl;

		if (EVP_DigestInit_ex(x, EVP_md5(), NULL) != 1 || EVP_DigestUpdate(x, a, al) != 1 ||
		    ((i % 3) && EVP_DigestUpdate(x, salt, sl) != 1) ||
		    ((i % 7) && EVP_DigestUpdate(x, pw, pl) != 1) ||
		    EVP_DigestUpdate(x, c, cl) != 1 || EVP_DigestFinal_ex(x, fin, NULL) != 1)
			goto out;
	}
	s = out + snprintf(out, cap, "$apr1$%.*s$", (int)sl, salt);
	s = to64(s, ((unsigned long)fin[0] << 16) | ((unsigned long)fin[6] << 8) | fin[12], 4);
	s = to64(s, ((unsigned long)fin[1] << 16) | ((unsigned long)fin[7] << 8) | fin[13], 4);
	s = to64(s, ((unsigned long)fin[2] << 16) | ((unsigned long)fin[8] << 8) | fin[14], 4);
	s = to64(s, ((unsigned long)fin[3] << 16) | ((unsigned long)fin[9] << 8) | fin[15], 4);
	s = to64(s, ((unsigned long)fin[4] << 16) | ((unsigned long)fin[10] << 8) | fin[5], 4);
	s = to64(s, fin[11], 2);
	*s = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(x);
	OPENSSL_cleanse(fin, sizeof(fin));
	return rc;
}

/* {SHA}: base64 of the password's SHA-1. */
static int
sha1_b64(const char *pw, char *out, size_t cap)
{
	unsigned char	d[20];
	unsigned int	dl = 0;

	if (cap < 5 + 29 || EVP_Digest(pw, strlen(pw), d, &dl, EVP_sha1(), NULL) != 1 || dl != 20)
		return -1;
	memcpy(out, "{SHA}", 5);
	EVP_EncodeBlock((unsigned char *)out + 5, d, 20);
	return 0;
}

static int
same(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

int
auth_hash_check(const char *hash, const char *pw)
{
	struct crypt_data	*cd;
	char			 out[256];
	const char		*c;
	int			 ok;

	if (strncmp(hash, "$apr1$", 6) == 0)
		ok = apr1(pw, hash, out, sizeof(out)) == 0 ? same(out, hash) : -1;
	else if (strncmp(hash, "{SHA}", 5) == 0)
		ok = sha1_b64(pw, out, sizeof(out)) == 0 ? same(out, hash) : -1;
	else {
		/* bcrypt, $5$, $6$, $1$ and DES: what libcrypt knows. */
		if ((cd = calloc(1, sizeof(*cd))) == NULL)
			return -1;
		c = crypt_rn(pw, hash, cd, (int)sizeof(*cd));
		ok = c == NULL || c[0] == '*' ? -1 : same(c, hash);
		OPENSSL_cleanse(cd, sizeof(*cd));
		free(cd);
	}
	OPENSSL_cleanse(out, sizeof(out));
	return ok;
}

/* ------------------------------------------------------------ Basic */

/*
 * The Authorization header's Basic user and password, decoded into buf
 * (user, NUL, password, NUL).  0, or -1 for none or malformed.
 */
static int
credentials(struct ht_req *r, char *buf, size_t cap, const char **user, const char **pw)
{
	const char	*v = ht_req_header(r, "Authorization");
	size_t		 len, pad = 0;
	int		 n;
	char		*colon;

	if (v == NULL || strncasecmp(v, "Basic", 5) != 0 || (v[5] != ' ' && v[5] != '\t'))
		return -1;
	for (v += 5; *v == ' ' || *v == '\t'; v++)
		;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len == 0 || len % 4 != 0 || len > AUTH_CRED_MAX || len / 4 * 3 + 1 > cap)
		return -1;
	if ((n = EVP_DecodeBlock((unsigned char *)buf, (const unsigned char *)v, (int)len)) < 0)
		return -1;
	while (pad < 2 && v[len - 1 - pad] == '=')
		pad++;
	n -= (int)pad;
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n) != NULL || (colon = strchr(buf, ':')) == NULL)
		return -1;
	*colon = '\0';
	*user = buf;
	*pw = colon + 1;
	return 0;
}

void
auth_challenge(const struct ht_conf *c, struct ht_req *r)
{
	char		 v[600], *o = v;
	const char	*s = c->d.auth != NULL && c->d.auth->name != NULL ? c->d.auth->name : "";

	o += snprintf(v, sizeof(v), "Basic realm=\"");
	for (; *s != '\0' && o < v + sizeof(v) - 4; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			continue;
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	ht_req_add_header(r, "WWW-Authenticate", v, HT_HDR_ALWAYS);
}

static int
unauthorized(const struct ht_conf *c, struct ht_req *r)
{
	auth_challenge(c, r);
	return 401;
}

int
auth_authenticate(const struct ht_conf *c, struct ht_req *r)
{
	const struct ht_auth	*a = c->d.auth;
	const char		*buf, *user, *pw;
	char			 cred[AUTH_CRED_MAX], hash[AUTH_LINE_MAX], first[AUTH_LINE_MAX];
	int			 found, ok, rc;

	r->cacheable = 0;
	if (a == NULL || a->name == NULL) {
		access_log("AuthType Basic needs an AuthName");
		return 500;
	}
	if (a->user_file == NULL) {
		access_log("AuthType Basic needs an AuthUserFile");
		return 500;
	}
	if (credentials(r, cred, sizeof(cred), &user, &pw) == -1)
		return unauthorized(c, r);
	if ((buf = load("AuthUserFile", a->user_file)) == NULL) {
		OPENSSL_cleanse(cred, sizeof(cred));
		return 500;
	}
	found = find_user(buf, user, hash, sizeof(hash), first);
	/* An unknown user costs what a known one does: the first entry's hash. */
	ok = auth_hash_check(found ? hash : first[0] ? first : "{SHA}", pw);
	if (found && ok == 1) {
		/* REMOTE_USER and AUTH_TYPE for scripts, with the environment. */
		if ((r->user = strdup(user)) == NULL || ht_req_setenv(r, "REMOTE_USER", user) == -1 ||
		    ht_req_setenv(r, "AUTH_TYPE", "Basic") == -1)
			rc = 500;
		else
			rc = 0;
	} else {
		if (found && ok == -1)
			access_log("user %s: a password hash of no known format in %s", user,
			    a->user_file);
		else
			access_log("user %s: %s", user, found ? "authentication failure" :
			    "not found");
		rc = unauthorized(c, r);
	}
	OPENSSL_cleanse(cred, sizeof(cred));
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

/* Does the space-separated member list hold user? */
static int
member(const char *list, const char *user)
{
	size_t	ul = strlen(user), n;

	while (*list != '\0') {
		list += strspn(list, " \t");
		n = strcspn(list, " \t");
		if (n == ul && strncmp(list, user, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

int
auth_in_group(const struct ht_conf *c, const char *user, int argc, char **groups)
{
	const struct ht_auth	*a = c->d.auth;
	const char		*buf;
	char			 line[AUTH_LINE_MAX * 8], *colon;
	size_t			 pos = 0;
	int			 i;

	if (a == NULL || a->group_file == NULL) {
		access_log("Require group needs an AuthGroupFile");
		return -1;
	}
	if ((buf = load("AuthGroupFile", a->group_file)) == NULL)
		return -1;
	while (next_line(buf, &pos, line, sizeof(line))) {
		if (line[0] == '#' || (colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		for (i = 0; i < argc; i++)
			if (strcmp(line, groups[i]) == 0 && member(colon + 1, user))
				return 1;
	}
	return 0;
}
