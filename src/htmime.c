/*
 * htmime.c: the rest of mod_mime that a served file's answer shows
 * (AddEncoding, RemoveEncoding: Content-Encoding by extension), and
 * core's FileETag (which parts of the file's stat the ETag is made of).
 *
 * The worker decides; front makes the ETag from its own fstat of the file,
 * as it always did, told only which parts to use (WRESP_ETAG_* flags).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htaccess.h"
#include "htcore.h"
#include "htmime.h"

struct enc {
	char	*ext;
	char	*enc;		/* NULL: RemoveEncoding */
};

/*
 * A parsed part has own == NULL; a merged one names the parent's part
 * (parsed or merged) and the child's parsed one, and owns neither.
 */
struct ht_mime {
	const struct ht_mime	*up, *own;
	struct enc		*enc;
	int			 nenc;
	int			 etag_abs;	/* FileETag without +/-: replaces */
	unsigned		 etag_on, etag_off;
	int			 etag_set;
};

#define ENC_MAX		256

/* ------------------------------------------------------------ hooks */

void *
htmime_merge(const void *parent, const void *child)
{
	struct ht_mime *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->up = parent;
	m->own = child;
	return m;
}

void
htmime_merged_free(void *part)
{
	free(part);
}

void
htmime_free(void *part)
{
	struct ht_mime	*m = part;
	int		 i;

	for (i = 0; i < m->nenc; i++) {
		free(m->enc[i].ext);
		free(m->enc[i].enc);
	}
	free(m->enc);
	free(m);
}

/* ------------------------------------------------------------ parsing */

static struct ht_mime *
mime(struct ht_parse *p, struct ht_dir *d)
{
	if (d->mime == NULL && (d->mime = calloc(1, sizeof(*d->mime))) == NULL)
		ht_error(p, "out of memory");
	return d->mime;
}

/* mod_mime keeps extensions and values lower-cased, a leading dot dropped. */
static char *
lower_dup(const char *s)
{
	char	*c;
	size_t	 i;

	if (*s == '.')
		s++;
	if ((c = strdup(s)) == NULL)
		return NULL;
	for (i = 0; c[i] != '\0'; i++)
		c[i] = (char)tolower((unsigned char)c[i]);
	return c;
}

static int
add_enc(struct ht_parse *p, struct ht_mime *m, const char *ext, const char *enc)
{
	struct enc *l;

	if (m->nenc >= ENC_MAX)
		return ht_error(p, "more than %d encodings", ENC_MAX);
	if ((l = reallocarray(m->enc, (size_t)m->nenc + 1, sizeof(*l))) == NULL)
		return ht_error(p, "out of memory");
	m->enc = l;
	l = &m->enc[m->nenc];
	l->enc = NULL;
	if ((l->ext = lower_dup(ext)) == NULL || (enc != NULL && (l->enc = lower_dup(enc)) == NULL)) {
		free(l->ext);
		return ht_error(p, "out of memory");
	}
	m->nenc++;
	return 0;
}

/* A content-coding is a token (RFC 9110 8.4.1): nothing that breaks the field. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

int
dir_addencoding(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_mime	*m = mime(p, d);
	int		 i;

	if (m == NULL)
		return -1;
	if (argc < 2)
		return ht_error(p, "AddEncoding needs an encoding and an extension");
	if (!is_token(argv[0]))
		return ht_error(p, "AddEncoding: %s is not an encoding's name", argv[0]);
	for (i = 1; i < argc; i++)
		if (add_enc(p, m, argv[i], argv[0]) == -1)
			return -1;
	return 0;
}

int
dir_removeencoding(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_mime	*m = mime(p, d);
	int		 i;

	if (m == NULL)
		return -1;
	if (argc < 1)
		return ht_error(p, "RemoveEncoding needs an extension");
	for (i = 0; i < argc; i++)
		if (add_enc(p, m, argv[i], NULL) == -1)
			return -1;
	return 0;
}

static const struct {
	const char	*name;
	unsigned	 bits;
} etag_parts[] = {
	{ "INode", HT_ETAG_INODE }, { "MTime", HT_ETAG_MTIME }, { "Size", HT_ETAG_SIZE },
	{ "All", HT_ETAG_INODE | HT_ETAG_MTIME | HT_ETAG_SIZE }, { "None", 0 },
};

/* FileETag [+|-]part ...: as core.c, absolute and relative parts do not mix. */
int
dir_fileetag(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_mime	*m = mime(p, d);
	int		 i, abs = 0, rel = 0;
	size_t		 k;

	if (m == NULL)
		return -1;
	if (argc < 1)
		return ht_error(p, "FileETag needs an argument");
	m->etag_on = m->etag_off = 0;
	for (i = 0; i < argc; i++) {
		const char	*a = argv[i];
		int		 sign = *a == '+' ? 1 : *a == '-' ? -1 : 0;

		a += sign != 0;
		for (k = 0; k < sizeof(etag_parts) / sizeof(etag_parts[0]); k++)
			if (strcasecmp(a, etag_parts[k].name) == 0)
				break;
		if (k == sizeof(etag_parts) / sizeof(etag_parts[0]))
			return ht_error(p, "FileETag: unknown keyword %s", argv[i]);
		if (etag_parts[k].bits == 0 && (sign != 0 || argc > 1))
			return ht_error(p, "FileETag: None stands alone");
		if (sign == 0)
			abs = 1;
		else
			rel = 1;
		if (sign >= 0)
			m->etag_on |= etag_parts[k].bits;
		else
			m->etag_off |= etag_parts[k].bits;
	}
	if (abs && rel)
		return ht_error(p, "FileETag: either all keywords start with + or -, or none");
	m->etag_abs = abs;
	m->etag_set = 1;
	return 0;
}

/* ------------------------------------------------------------ requests */

/* The encoding of ext by the part nearest the file; NULL if none or removed. */
static const struct enc *
lookup_enc(const struct ht_mime *m, const char *ext)
{
	int i;

	for (; m != NULL; m = m->own != NULL ? m->up : NULL) {
		const struct ht_mime *q = m->own != NULL ? m->own : m;

		for (i = q->nenc - 1; i >= 0; i--)
			if (strcmp(q->enc[i].ext, ext) == 0)
				return &q->enc[i];
	}
	return NULL;
}

/* FileETag as it holds here, parent first, from Apache's default (MTime Size). */
static unsigned
fold_etag(const struct ht_mime *m)
{
	unsigned bits;

	if (m == NULL)
		return HT_ETAG_MTIME | HT_ETAG_SIZE;
	if (m->own != NULL) {
		bits = fold_etag(m->up);
		m = m->own;
	} else
		bits = HT_ETAG_MTIME | HT_ETAG_SIZE;
	if (!m->etag_set)
		return bits;
	return m->etag_abs ? m->etag_on : (bits | m->etag_on) & ~m->etag_off;
}

static int
any_etag(const struct ht_mime *m)
{
	for (; m != NULL; m = m->own != NULL ? m->up : NULL)
		if ((m->own != NULL ? m->own : m)->etag_set)
			return 1;
	return 0;
}

/* Content-Encoding: every encoding extension's, in the name's order. */
static int
set_encoding(struct ht_req *r, const struct ht_mime *m, const struct ht_exts *x)
{
	const struct enc	*e;
	char			 buf[512] = "";
	size_t			 len = 0;
	int			 i, n;

	for (i = 0; i < x->n; i++) {
		if ((e = lookup_enc(m, x->e[i])) == NULL || e->enc == NULL)
			continue;
		r->ext_meta |= 1u << i;
		n = snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? ", " : "", e->enc);
		if (n < 0 || (size_t)n >= sizeof(buf) - len)
			return -1;
		len += (size_t)n;
	}
	return len == 0 ? 0 : ht_req_add_header(r, "Content-Encoding", buf, 0);
}

int
htmime_run(const struct ht_conf *c, struct ht_req *r)
{
	const struct ht_mime	*m = c->d.mime;
	const char		*base;
	struct ht_exts		 x;

	if (m == NULL)
		return 0;
	base = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
	ht_exts_of(base, &x);
	if (set_encoding(r, m, &x) == -1)
		return 500;
	if (any_etag(m))
		r->etag = HT_ETAG_SET | fold_etag(m);
	return 0;
}
