/*
 * dirrec.c: the change and row records of the fleet directory's memfds
 * (dirrec.h), written and read by the master and by lockerd-dirsync alike.
 *
 * Both readers treat the other side as untrusted bytes: dirsync reads the
 * master's changes before it puts them into SQL parameters, and the master
 * reads rows that came from PostgreSQL, which every node of the fleet
 * writes.  So every length is checked against what is left, every table
 * index against dirtab[]'s size and every op against its record kind, and
 * the JSON must hold no NUL (its copy is a C string).  Whether it is JSON
 * is PostgreSQL's or SQLite's to say, with a clear error.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirrec.h"

#define CHANGE_HEAD	(1 + 1 + 4 + 4)
#define ROW_HEAD	(1 + 1 + 8 + 4)

static int
grow(struct dirbuf *b, size_t more)
{
	size_t		 cap;
	unsigned char	*p;

	if (b->len + more <= b->cap)
		return 0;
	if (b->len + more > DIRREC_FILE_MAX)
		return -1;
	for (cap = b->cap ? b->cap : 4096; cap < b->len + more; cap *= 2)
		;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
put(struct dirbuf *b, const void *v, size_t n)
{
	if (n != 0)
		memcpy(b->p + b->len, v, n);
	b->len += n;
}

/* A JSON of a record: 0 < len <= DIRREC_JSON_MAX and no NUL in it. */
static const char *
json_bad(const char *j, uint32_t len)
{
	if (len == 0)
		return "an empty row";
	if (len > DIRREC_JSON_MAX)
		return "a row over 1 MiB";
	if (memchr(j, '\0', len) != NULL)
		return "a NUL byte in a row";
	return NULL;
}

/* The lengths a change record's op implies: insert new only, delete old only. */
static const char *
change_bad(uint8_t op, uint32_t oldlen, uint32_t newlen)
{
	switch (op) {
	case DIRREC_INSERT:
		return oldlen == 0 && newlen != 0 ? NULL : "an insert with an old row, or without a new one";
	case DIRREC_UPDATE:
		return oldlen != 0 && newlen != 0 ? NULL : "an update without both rows";
	case DIRREC_DELETE:
		return oldlen != 0 && newlen == 0 ? NULL : "a delete with a new row, or without its old one";
	}
	return "an unknown operation";
}

int
dirrec_put_change(struct dirbuf *b, const struct dir_change *c, const char **why)
{
	if ((*why = change_bad(c->op, c->oldlen, c->newlen)) != NULL ||
	    (c->oldlen && (*why = json_bad(c->old, c->oldlen)) != NULL) ||
	    (c->newlen && (*why = json_bad(c->new, c->newlen)) != NULL))
		return -1;
	if (b->nrec == UINT32_MAX ||
	    grow(b, CHANGE_HEAD + (size_t)c->oldlen + c->newlen) == -1) {
		*why = "the changes are too large";
		return -1;
	}
	put(b, &c->tbl, 1);
	put(b, &c->op, 1);
	put(b, &c->oldlen, 4);
	put(b, &c->newlen, 4);
	put(b, c->old, c->oldlen);
	put(b, c->new, c->newlen);
	b->nrec++;
	return 0;
}

int
dirrec_put_row(struct dirbuf *b, const struct dir_row *r, const char **why)
{
	if (r->op != DIRREC_UPSERT && r->op != DIRREC_DELETE) {
		*why = "an unknown operation";
		return -1;
	}
	if ((*why = json_bad(r->json, r->len)) != NULL)
		return -1;
	if (b->nrec == UINT32_MAX || grow(b, ROW_HEAD + (size_t)r->len) == -1) {
		*why = "the rows are too large";
		return -1;
	}
	put(b, &r->tbl, 1);
	put(b, &r->op, 1);
	put(b, &r->rev, 8);
	put(b, &r->len, 4);
	put(b, r->json, r->len);
	b->nrec++;
	return 0;
}

void
dirbuf_free(struct dirbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int
dirrec_next_change(const unsigned char *p, size_t len, size_t *off, unsigned ntab,
    struct dir_change *c, const char **why)
{
	size_t left = len - *off;

	if (*off == len)
		return 0;
	if (*off > len || left < CHANGE_HEAD) {
		*why = "a change record cut short";
		return -1;
	}
	p += *off;
	c->tbl = p[0];
	c->op = p[1];
	memcpy(&c->oldlen, p + 2, 4);
	memcpy(&c->newlen, p + 6, 4);
	if (c->tbl >= ntab) {
		*why = "a change to a table that is not replicated";
		return -1;
	}
	if ((*why = change_bad(c->op, c->oldlen, c->newlen)) != NULL)
		return -1;
	if (c->oldlen > DIRREC_JSON_MAX || c->newlen > DIRREC_JSON_MAX ||
	    left - CHANGE_HEAD < (size_t)c->oldlen + c->newlen) {
		*why = "a change record longer than what is left";
		return -1;
	}
	c->old = c->oldlen ? (const char *)p + CHANGE_HEAD : NULL;
	c->new = c->newlen ? (const char *)p + CHANGE_HEAD + c->oldlen : NULL;
	if ((c->old && (*why = json_bad(c->old, c->oldlen)) != NULL) ||
	    (c->new && (*why = json_bad(c->new, c->newlen)) != NULL))
		return -1;
	*off += CHANGE_HEAD + (size_t)c->oldlen + c->newlen;
	return 1;
}

int
dirrec_next_row(const unsigned char *p, size_t len, size_t *off, unsigned ntab,
    struct dir_row *r, const char **why)
{
	size_t left = len - *off;

	if (*off == len)
		return 0;
	if (*off > len || left < ROW_HEAD) {
		*why = "a row record cut short";
		return -1;
	}
	p += *off;
	r->tbl = p[0];
	r->op = p[1];
	memcpy(&r->rev, p + 2, 8);
	memcpy(&r->len, p + 10, 4);
	if (r->tbl >= ntab) {
		*why = "a row of a table that is not replicated";
		return -1;
	}
	if (r->op != DIRREC_UPSERT && r->op != DIRREC_DELETE) {
		*why = "an unknown operation";
		return -1;
	}
	if (r->len > DIRREC_JSON_MAX || left - ROW_HEAD < r->len) {
		*why = "a row record longer than what is left";
		return -1;
	}
	r->json = (const char *)p + ROW_HEAD;
	if ((*why = json_bad(r->json, r->len)) != NULL)
		return -1;
	*off += ROW_HEAD + (size_t)r->len;
	return 1;
}

int
dirrec_check_changes(const unsigned char *p, size_t len, uint32_t nrec, unsigned ntab,
    const char **why)
{
	struct dir_change c;
	size_t		  off = 0;
	uint32_t	  n = 0;
	int		  rc;

	while ((rc = dirrec_next_change(p, len, &off, ntab, &c, why)) == 1)
		n++;
	if (rc == -1)
		return -1;
	if (n != nrec) {
		*why = "not as many change records as the message says";
		return -1;
	}
	return 0;
}

int
dirrec_check_rows(const unsigned char *p, size_t len, uint32_t nrec, unsigned ntab,
    const char **why)
{
	struct dir_row	r;
	size_t		off = 0;
	uint32_t	n = 0;
	int		rc;

	while ((rc = dirrec_next_row(p, len, &off, ntab, &r, why)) == 1)
		n++;
	if (rc == -1)
		return -1;
	if (n != nrec) {
		*why = "not as many row records as the message says";
		return -1;
	}
	return 0;
}

int
dirbuf_seal(const struct dirbuf *b, const char *name)
{
	size_t	off = 0;
	ssize_t	n;
	int	fd, e;

	if ((fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1)
		return -1;
	while (off < b->len) {
		if ((n = write(fd, b->p + off, b->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
dirrec_map(int fd, const unsigned char **p, size_t *len, const char **why)
{
	const int	need = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	struct stat	st;
	int		seals = fcntl(fd, F_GET_SEALS);
	void		*m;

	*p = NULL;
	*len = 0;
	if (seals == -1 || (seals & need) != need) {
		*why = "the records' memfd is not sealed";
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size > DIRREC_FILE_MAX) {
		*why = "the records' memfd is too large";
		return -1;
	}
	if (st.st_size == 0)
		return 0;
	if ((m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		*why = "the records' memfd cannot be mapped";
		return -1;
	}
	*p = m;
	*len = (size_t)st.st_size;
	return 0;
}

void
dirrec_unmap(const unsigned char *p, size_t len)
{
	if (p != NULL && len != 0)
		munmap((void *)p, len);
}
