/*
 * wire.h: the bytes front says to a locker's worker and hears back, and
 * the records it sends logd, each encoder beside its decoder (wire.c).
 * The structs of the front <-> worker wire are in lockerd.h, which every
 * role includes; this header says how they are put on the wire and read
 * off it.
 */
#ifndef LOCKERD_WIRE_H
#define LOCKERD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "lockerd.h"
#include "http.h"

/* ------------------------------------------------ MSG_REQUEST, front -> worker */

/*
 * Front: head (its len[] is filled here), then the strings of v (but
 * WS_HEADERS, made of h[0..nh) as "Name: value\n"), into buf.  A string
 * of length 0 may have a NULL pointer.  Returns the message's length, or
 * 0 if it does not fit in cap.
 */
size_t	wire_request_pack(char *buf, size_t cap, const struct wire_request *head,
	    const struct wire_view *v, const struct http_header *h, size_t nh);
/*
 * Worker: the strings that follow q (strs, len bytes) as a view into them.
 * 0, or -1 unless the lengths add up to len exactly.
 */
int	wire_view_of(const struct wire_request *q, const char *strs, size_t len,
	    struct wire_view *v);

/* ------------------------------------------------ MSG_RESPONSE, worker -> front */

/*
 * Front: an answer as a worker sent it (len bytes, at least the struct:
 * msg_rules[] says so), checked before it meets its request: a known kind;
 * nothing after the struct, its fields and its operations but for
 * WIRE_FCGI (whose tail is read by wire_script_parse()); for WIRE_FILE, a
 * content type that may go in our head (NUL-terminated, a valid field
 * value, with a '/'); a file's or a script's status 200, or an error
 * status (an ErrorDocument's) on an answer marked WRESP_NOCACHE.  0, or -1.
 */
int	wire_response_check(const struct wire_response *r, size_t len);
/*
 * Extra response fields as a worker sends them (p[0..len), after the
 * struct): "Name: value\r\n" lines of a token, ": " and a valid field
 * value, none of the fields that frame a message or that front writes
 * itself (Connection, Content-Length, Transfer-Encoding, Date, Server
 * ...).  0, or -1.
 */
int	wire_fields_check(const char *p, size_t len);
/* The Header operations of an answer: after its extra fields. */
#define wire_response_ops(r)	((const char *)((r) + 1) + (r)->hlen)
/* The WIRE_FCGI tail of an answer: after its extra fields and operations. */
#define wire_response_tail(r)	((const char *)((r) + 1) + (r)->hlen + (r)->olen)

/*
 * A .htaccess's Header operation on the fields front and a script write
 * (the worker applies each to its own fields itself): the worker decided
 * it holds (env=, expr=), front only applies it.  "always" ones apply to
 * every answer, the others not to front's own error pages and redirects.
 * On the wire: [op][always '0'|'1'] name NUL re NUL sub NUL.
 */
enum wire_hop_kind {
	WHOP_UNSET = 'u',	/* Header unset, and set's removal of the others */
	WHOP_EDIT = 'e',	/* Header edit: the first match of re in each value */
	WHOP_EDIT_ALL = 'E',	/* Header edit*: every match */
};
#define WHOP_MAX	64	/* operations in one answer: a merged .htaccess's most */
#define WHOP_NAME_MAX	64
#define WHOP_RE_MAX	512	/* bytes of a pattern */
#define WHOP_SUB_MAX	512	/* bytes of a replacement */
struct wire_hop {
	int		 op;		/* enum wire_hop_kind */
	int		 always;
	const char	*name;
	const char	*re;		/* edit's PCRE2 pattern, "" for unset */
	const char	*sub;		/* edit's replacement ($1 ...), "" for unset */
};
/*
 * Worker: append h to buf[0..off).  The new length; off itself (nothing
 * written) if h is not one wire_hops_check() would take (a field front
 * keeps for itself: left alone); 0 if it does not fit in cap.
 */
size_t	wire_hop_put(char *buf, size_t cap, size_t off, const struct wire_hop *h);
/*
 * Front: the operation at *off of p[0..len) (pointers into p), *off moved
 * past it.  1: one; 0: the end; -1: malformed.
 */
int	wire_hop_next(const char *p, size_t len, size_t *off, struct wire_hop *h);
/*
 * Every operation well-formed: a known op, a token of a name that is not
 * one front keeps for itself (the framing fields, Date, Server ...),
 * pattern and replacement within their bounds without CR or LF (and
 * empty for unset, a pattern for edit), at most WHOP_MAX.  0, or -1.
 */
int	wire_hops_check(const char *p, size_t len);
/*
 * Worker: the tail of a WIRE_FCGI answer (struct wire_script, then the
 * strings s[], each cut at PATH_MAX - 1 bytes) into buf.  Returns its
 * length, or 0 if it does not fit in cap.
 */
size_t	wire_script_pack(void *buf, size_t cap, const char *const s[WSC_MAX], int has_index);
/*
 * Front: that tail, as a worker sent it.  A worker is the locker's own
 * process: everything is checked (lengths, no NUL, an absolute web root,
 * a script below it without "..", a PATH_INFO that is a path).  0 with
 * s/l pointing into tail (not NUL-terminated), or -1.
 */
int	wire_script_parse(const void *tail, size_t len, const char *s[WSC_MAX],
	    size_t l[WSC_MAX], int *has_index);

/* ------------------------------------------------ front -> logd */

#define WIRE_LOG_LINE_MAX	4096	/* bytes of an access-log line */

/* One access-log record as read: pointers into the batch. */
struct wire_log {
	const char	*name;		/* the locker's, "" for none */
	size_t		 nlen;
	const char	*line;		/* without its LF */
	size_t		 llen;
};

/*
 * Front: append one record of MSG_LOG_ACCESS to the batch buf[0..off).
 * Returns the batch's new length, or 0 (nothing written) if the record
 * does not fit in cap or breaks a bound (nlen <= LOCKER_NAME_MAX,
 * llen <= WIRE_LOG_LINE_MAX).
 */
size_t	wire_log_put(char *buf, size_t cap, size_t off, const char *name, size_t nlen,
	    const char *line, size_t llen);
/*
 * logd: the record at *off of the batch b[0..len), and *off moved past
 * it.  1: a record (within the bounds above; the line may still hold any
 * byte); 0: the end of the batch, or a malformed rest, which is dropped.
 */
int	wire_log_next(const char *b, size_t len, size_t *off, struct wire_log *r);

/*
 * MSG_LOG_LOCKER_ERROR and MSG_LOG_LOCKER_DROPPED: [u8 name length][name]
 * [data].  Front: into buf; its length, or 0 if it does not fit or the
 * name is empty or longer than LOCKER_NAME_MAX.
 */
size_t	wire_locker_pack(char *buf, size_t cap, const char *name, const void *data,
	    size_t len);
/* logd: the name (1 to LOCKER_NAME_MAX bytes, not checked further) and data; 0, or -1. */
int	wire_locker_parse(const char *b, size_t n, const char **name, size_t *nlen,
	    const char **data, size_t *dlen);

#endif
