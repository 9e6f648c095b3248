/*
 * dirrec.h: the records of the fleet directory's memfds, shared by the
 * master and lockerd-dirsync (dirsync.h).  Little-endian host order; every
 * length is checked by the reader, and a bad record refuses the whole
 * message (the reader stops at the first).
 *
 * change record (master -> dirsync, MSG_DIR_CHANGE):
 *	uint8 tbl (dirtab[] index), uint8 op (1 insert, 2 update, 3 delete),
 *	uint32 oldlen, uint32 newlen, old json, new json
 *	(insert: no old; delete: no new; update: both)
 * row record (dirsync -> master, MSG_DIR_ROWS):
 *	uint8 tbl, uint8 op (1 upsert, 3 delete), uint64 rev, uint32 len, json
 *	(delete: the json of the primary key's columns only)
 *
 * The JSON is not NUL-terminated in the record; the reader checks that it
 * holds no NUL byte, so a copy of it is a C string.
 */
#ifndef LOCKERD_DIRREC_H
#define LOCKERD_DIRREC_H

#include <stddef.h>
#include <stdint.h>

#define DIRREC_JSON_MAX	(1024 * 1024)		/* one row's JSON */
#define DIRREC_FILE_MAX	((size_t)1 << 30)	/* one memfd: a full copy of a large fleet */

enum dirrec_op {
	DIRREC_INSERT = 1,	/* change: insert; row: upsert */
	DIRREC_UPSERT = 1,
	DIRREC_UPDATE = 2,	/* change records only */
	DIRREC_DELETE = 3,
};

struct dir_change {
	uint8_t		 tbl, op;
	const char	*old;		/* NULL when oldlen == 0 */
	uint32_t	 oldlen;
	const char	*new;
	uint32_t	 newlen;
};

struct dir_row {
	uint8_t		 tbl, op;
	uint64_t	 rev;
	const char	*json;
	uint32_t	 len;
};

/* A growing buffer of records. */
struct dirbuf {
	unsigned char	*p;
	size_t		 len, cap;
	uint32_t	 nrec;
};

/* Append one record: 0, or -1 with why (a bad op, an empty or oversized json, no memory). */
int	dirrec_put_change(struct dirbuf *b, const struct dir_change *c, const char **why);
int	dirrec_put_row(struct dirbuf *b, const struct dir_row *r, const char **why);
void	dirbuf_free(struct dirbuf *b);

/*
 * The next record at *off of p[0..len): 1 and *off moved past it, 0 at the
 * end, -1 with why if it is malformed.  ntab: how many tables dirtab[] has
 * (a tbl at or past it is refused).
 */
int	dirrec_next_change(const unsigned char *p, size_t len, size_t *off, unsigned ntab,
	    struct dir_change *c, const char **why);
int	dirrec_next_row(const unsigned char *p, size_t len, size_t *off, unsigned ntab,
	    struct dir_row *r, const char **why);
/* Whole buffers: that they hold exactly nrec well-formed records.  0 or -1 with why. */
int	dirrec_check_changes(const unsigned char *p, size_t len, uint32_t nrec, unsigned ntab,
	    const char **why);
int	dirrec_check_rows(const unsigned char *p, size_t len, uint32_t nrec, unsigned ntab,
	    const char **why);

/* The buffer in a memfd sealed against any change: its fd, or -1 (errno). */
int	dirbuf_seal(const struct dirbuf *b, const char *name);
/*
 * Maps a received memfd read-only, after checking that it is sealed
 * against writing, growing and shrinking and is at most DIRREC_FILE_MAX:
 * 0 with *p, *len (unmap with dirrec_unmap), or -1 with why.
 */
int	dirrec_map(int fd, const unsigned char **p, size_t *len, const char **why);
void	dirrec_unmap(const unsigned char *p, size_t len);

#endif
