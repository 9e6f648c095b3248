/*
 * wire.c: what front and a locker's worker say to each other, and what
 * front says to logd, each encoder beside its decoder so that the two
 * ends of a message cannot drift apart (as route.c keeps its builder
 * beside its loader).  Integers are in host order: both ends are the same
 * binary on the same machine.
 *
 *	MSG_REQUEST (front -> worker)
 *		struct wire_request, then its WS_MAX strings in field order,
 *		len[i] bytes each, no NUL, nothing after them; WS_HEADERS is
 *		"Name: value\n" for every header field, WS_TLS the session's
 *		"SSL_NAME=value\n" (empty on plain HTTP).
 *	MSG_RESPONSE (worker -> front)
 *		struct wire_response; for WIRE_FCGI, then struct wire_script and
 *		its WSC_MAX strings, the same way, each shorter than PATH_MAX.
 *	MSG_LOG_ACCESS (front -> logd)
 *		records, back to back: u8 name length, the locker's name (may be
 *		empty), u16 line length, the line (at most WIRE_LOG_LINE_MAX).
 *	MSG_LOG_LOCKER_ERROR, MSG_LOG_LOCKER_DROPPED (front -> logd)
 *		u8 name length (1 to LOCKER_NAME_MAX), the name, the data.
 *
 * Every decoder treats its input as hostile: front reads what a worker
 * (the locker's own process) sends; a worker checks that front's request
 * adds up before its strings reach a script's environment; logd reads
 * front, the process the internet talks to.  Each is fuzzed, and each
 * encoder's output is decoded back to what went in (fuzz/fuzz_wire.c).
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "wire.h"

/* ------------------------------------------------------------ requests */

static int
put_str(char *buf, size_t cap, size_t *off, const char *p, size_t len)
{
	if (len > cap - *off)
		return 0;
	if (len)
		memcpy(buf + *off, p, len);
	*off += len;
	return 1;
}

size_t
wire_request_pack(char *buf, size_t cap, const struct wire_request *head,
    const struct wire_view *v, const struct http_header *h, size_t nh)
{
	struct wire_request	 r = *head;
	size_t			 off = sizeof(r), i, hl = 0;
	char			*p;

	if (cap < sizeof(r))
		return 0;
	for (i = 0; i < WS_HEADERS; i++) {
		if (!put_str(buf, cap, &off, v->s[i], v->l[i]))
			return 0;
		r.len[i] = (uint32_t)v->l[i];
	}
	/* Header fields as "name: value\n": values were checked to hold no LF. */
	p = buf + off;
	for (i = 0; i < nh; i++) {
		const struct http_header *f = &h[i];
		size_t need = f->name.len + 2 + f->value.len + 1;

		if (need > cap - off - hl)
			return 0;
		memcpy(p + hl, f->name.p, f->name.len);
		hl += f->name.len;
		p[hl++] = ':';
		p[hl++] = ' ';
		memcpy(p + hl, f->value.p, f->value.len);
		hl += f->value.len;
		p[hl++] = '\n';
	}
	r.len[WS_HEADERS] = (uint32_t)hl;
	off += hl;
	for (i = WS_HEADERS + 1; i < WS_MAX; i++) {
		if (!put_str(buf, cap, &off, v->s[i], v->l[i]))
			return 0;
		r.len[i] = (uint32_t)v->l[i];
	}
	memcpy(buf, &r, sizeof(r));
	return off;
}

int
wire_view_of(const struct wire_request *q, const char *strs, size_t len, struct wire_view *v)
{
	size_t	off = 0;
	int	i;

	for (i = 0; i < WS_MAX; i++) {
		if (q->len[i] > len - off)
			return -1;
		v->s[i] = strs + off;
		v->l[i] = q->len[i];
		off += q->len[i];
	}
	return off == len ? 0 : -1;
}

/* ------------------------------------------------------------ answers */

/*
 * A file or a script answers 200, or is an ErrorDocument's body for an
 * error status: never kept by front's caches for the path.
 */
static int
body_status_bad(const struct wire_response *r)
{
	if (r->kind != WIRE_FILE && r->kind != WIRE_CGI && r->kind != WIRE_CGI_NPH &&
	    r->kind != WIRE_FCGI)
		return 0;
	if (r->status == 200)
		return 0;
	return r->status < 400 || r->status > 599 || !(r->flags & WRESP_NOCACHE);
}

int
wire_response_check(const struct wire_response *r, size_t len)
{
	size_t n;

	if (len < sizeof(*r) || r->kind < WIRE_FILE || r->kind > WIRE_SPOOL ||
	    (r->flags & ~(WRESP_NOCACHE | WRESP_WATCHED | WRESP_ETAG_MASK)) != 0 ||
	    r->hlen > WIRE_HDR_MAX ||
	    r->olen > WIRE_OPS_MAX || (size_t)r->hlen + r->olen > len - sizeof(*r) ||
	    r->pad[0] != 0 || r->pad[1] != 0 || r->pad[2] != 0)
		return -1;
	if (r->kind != WIRE_FCGI && len != sizeof(*r) + r->hlen + r->olen)
		return -1;
	if (wire_fields_check((const char *)(r + 1), r->hlen) == -1 ||
	    wire_hops_check(wire_response_ops(r), r->olen) == -1)
		return -1;
	if (body_status_bad(r))
		return -1;
	if (r->kind == WIRE_FILE) {
		n = strnlen(r->content_type, sizeof(r->content_type));
		if (n == 0 || n == sizeof(r->content_type) ||
		    !http_valid_field_value(r->content_type, n) ||
		    memchr(r->content_type, '/', n) == NULL)
			return -1;
	}
	return 0;
}

/*
 * Fields a worker may add to our head: none that frames the message or
 * speaks for the connection (a script could split a response with them),
 * none that front writes itself.
 */
static const char *const fields_refused[] = {
	"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "TE", "Trailer",
	"Upgrade", "Proxy-Connection", "Date", "Server", "Strict-Transport-Security",
	"Content-Range", NULL
};

int
wire_fields_check(const char *p, size_t len)
{
	const char		*end = p + len;
	struct http_header	 h;
	int			 i;

	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));

		if (cr == NULL || cr + 1 >= end || cr[1] != '\n' ||
		    http_parse_field_line(p, (size_t)(cr - p), &h) == -1)
			return -1;
		for (i = 0; fields_refused[i] != NULL; i++)
			if (http_str_eq(h.name, fields_refused[i]))
				return -1;
		p = cr + 2;
	}
	return 0;
}

/* ------------------------------------------------------------ Header operations */

static int
refused_field(const char *name, size_t n)
{
	int i;

	for (i = 0; fields_refused[i] != NULL; i++)
		if (strlen(fields_refused[i]) == n && strncasecmp(name, fields_refused[i], n) == 0)
			return 1;
	return 0;
}

/* One NUL-terminated string of at most max bytes at p[*off..len), no CR or LF. */
static const char *
hop_str(const char *p, size_t len, size_t *off, size_t max)
{
	const char	*s = p + *off, *nul = memchr(s, '\0', len - *off);
	size_t		 n;

	if (nul == NULL || (n = (size_t)(nul - s)) > max || memchr(s, '\r', n) != NULL ||
	    memchr(s, '\n', n) != NULL)
		return NULL;
	*off += n + 1;
	return s;
}

static int
hop_ok(const struct wire_hop *h)
{
	size_t i, n = strlen(h->name);

	if (h->op != WHOP_UNSET && h->op != WHOP_EDIT && h->op != WHOP_EDIT_ALL)
		return 0;
	if (n == 0 || n > WHOP_NAME_MAX || refused_field(h->name, n))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h->name[i]) && strchr("!#$%&'*+-.^_`|~", h->name[i]) == NULL)
			return 0;
	if (strlen(h->re) > WHOP_RE_MAX || strlen(h->sub) > WHOP_SUB_MAX ||
	    strpbrk(h->re, "\r\n") != NULL || strpbrk(h->sub, "\r\n") != NULL)
		return 0;
	if (h->op == WHOP_UNSET)
		return h->re[0] == '\0' && h->sub[0] == '\0';
	return h->re[0] != '\0';
}

size_t
wire_hop_put(char *buf, size_t cap, size_t off, const struct wire_hop *h)
{
	size_t nl = strlen(h->name), rl = strlen(h->re), sl = strlen(h->sub);

	if (!hop_ok(h))
		return off;
	if (off > cap || cap - off < 2 + nl + rl + sl + 3)
		return 0;
	buf[off++] = (char)h->op;
	buf[off++] = h->always ? '1' : '0';
	memcpy(buf + off, h->name, nl + 1);
	off += nl + 1;
	memcpy(buf + off, h->re, rl + 1);
	off += rl + 1;
	memcpy(buf + off, h->sub, sl + 1);
	return off + sl + 1;
}

int
wire_hop_next(const char *p, size_t len, size_t *off, struct wire_hop *h)
{
	if (*off >= len)
		return 0;
	if (len - *off < 2 || (p[*off + 1] != '0' && p[*off + 1] != '1'))
		return -1;
	h->op = (unsigned char)p[*off];
	h->always = p[*off + 1] == '1';
	*off += 2;
	if ((h->name = hop_str(p, len, off, WHOP_NAME_MAX)) == NULL ||
	    (h->re = hop_str(p, len, off, WHOP_RE_MAX)) == NULL ||
	    (h->sub = hop_str(p, len, off, WHOP_SUB_MAX)) == NULL)
		return -1;
	return hop_ok(h) ? 1 : -1;
}

int
wire_hops_check(const char *p, size_t len)
{
	struct wire_hop	h;
	size_t		off = 0;
	int		n = 0, rc;

	while ((rc = wire_hop_next(p, len, &off, &h)) == 1)
		if (++n > WHOP_MAX)
			return -1;
	return rc;
}

size_t
wire_script_pack(void *buf, size_t cap, const char *const s[WSC_MAX], int has_index)
{
	struct wire_script	 ws;
	char			*p = (char *)buf + sizeof(ws);
	size_t			 off = 0, l;
	int			 i;

	if (cap < sizeof(ws))
		return 0;
	memset(&ws, 0, sizeof(ws));
	for (i = 0; i < WSC_MAX; i++) {
		l = strnlen(s[i], PATH_MAX - 1);
		if (l > cap - sizeof(ws) - off)
			return 0;
		memcpy(p + off, s[i], l);
		ws.len[i] = (uint32_t)l;
		off += l;
	}
	ws.has_index = has_index != 0;
	memcpy(buf, &ws, sizeof(ws));
	return sizeof(ws) + off;
}

/* A path component ".." anywhere in p[0..len). */
static int
has_dotdot(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && p[j] != '/')
			j++;
		if (j - i == 2 && p[i] == '.' && p[i + 1] == '.')
			return 1;
		i = j + 1;
	}
	return 0;
}

/* "name\n" lines of lower-case letters, digits, '-' and '_': header names. */
static int
vary_ok(const char *p, size_t len)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			if (run == 0)
				return 0;
			run = 0;
		} else if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '-' || p[i] == '_')
			run++;
		else
			return 0;
	}
	return run == 0;
}

/* No control byte: what goes into a script's environment. */
static int
visible(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			return 0;
	return 1;
}

/* A pool's tag: what front keys its kept connections by, nothing more. */
static int
pool_tag_ok(const char *p, size_t len)
{
	size_t i;

	if (len > WSC_POOL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

int
wire_script_parse(const void *tail, size_t len, const char *s[WSC_MAX], size_t l[WSC_MAX],
    int *has_index)
{
	struct wire_script	 ws;
	const char		*p = (const char *)tail + sizeof(ws);
	size_t			 total = 0, room;
	int			 i;

	if (len < sizeof(ws))
		return -1;
	memcpy(&ws, tail, sizeof(ws));	/* no alignment assumed */
	if (ws.has_index > 1)
		return -1;
	room = len - sizeof(ws);
	for (i = 0; i < WSC_MAX; i++) {
		if (ws.len[i] >= PATH_MAX || ws.len[i] > room - total)
			return -1;
		s[i] = p + total;
		l[i] = ws.len[i];
		total += ws.len[i];
	}
	if (total != room || memchr(p, '\0', total) != NULL)
		return -1;
	/* An absolute web root, a script below it, a PATH_INFO that is a path. */
	if (l[WSC_DOCROOT] == 0 || s[WSC_DOCROOT][0] != '/' || l[WSC_REL] == 0 ||
	    s[WSC_REL][0] == '/' || has_dotdot(s[WSC_REL], l[WSC_REL]) ||
	    has_dotdot(s[WSC_DOCROOT], l[WSC_DOCROOT]) ||
	    (l[WSC_PATH_INFO] > 0 && s[WSC_PATH_INFO][0] != '/') ||
	    (l[WSC_URL] > 0 && s[WSC_URL][0] != '/') ||
	    !visible(s[WSC_URL], l[WSC_URL]) || !visible(s[WSC_QUERY], l[WSC_QUERY]) ||
	    (l[WSC_ENV] > 0 && s[WSC_ENV][l[WSC_ENV] - 1] != '\n') ||
	    !pool_tag_ok(s[WSC_POOL], l[WSC_POOL]) || !vary_ok(s[WSC_VARY], l[WSC_VARY]))
		return -1;
	*has_index = (int)ws.has_index;
	return 0;
}

/* ------------------------------------------------------------ logd */

size_t
wire_log_put(char *buf, size_t cap, size_t off, const char *name, size_t nlen,
    const char *line, size_t llen)
{
	uint16_t l16 = (uint16_t)llen;

	if (nlen > LOCKER_NAME_MAX || nlen > UINT8_MAX || llen > WIRE_LOG_LINE_MAX ||
	    off > cap || 1 + nlen + 2 + llen > cap - off)
		return 0;
	buf[off++] = (char)nlen;
	memcpy(buf + off, name, nlen);
	off += nlen;
	memcpy(buf + off, &l16, 2);
	off += 2;
	memcpy(buf + off, line, llen);
	return off + llen;
}

int
wire_log_next(const char *b, size_t len, size_t *off, struct wire_log *r)
{
	size_t		i = *off, nlen;
	uint16_t	l16;

	if (i >= len || 1 + 2 > len - i)
		return 0;
	nlen = (unsigned char)b[i];
	if (nlen > LOCKER_NAME_MAX || 1 + nlen + 2 > len - i)
		return 0;
	r->name = b + i + 1;
	r->nlen = nlen;
	memcpy(&l16, b + i + 1 + nlen, 2);
	i += 1 + nlen + 2;
	if (l16 > WIRE_LOG_LINE_MAX || l16 > len - i)
		return 0;
	r->line = b + i;
	r->llen = l16;
	*off = i + l16;
	return 1;
}

size_t
wire_locker_pack(char *buf, size_t cap, const char *name, const void *data, size_t len)
{
	size_t nl = strnlen(name, LOCKER_NAME_MAX + 1);

	if (nl == 0 || nl > LOCKER_NAME_MAX || cap < 1 + nl || len > cap - 1 - nl)
		return 0;
	buf[0] = (char)nl;
	memcpy(buf + 1, name, nl);
	if (len)
		memcpy(buf + 1 + nl, data, len);
	return 1 + nl + len;
}

int
wire_locker_parse(const char *b, size_t n, const char **name, size_t *nlen,
    const char **data, size_t *dlen)
{
	size_t nl;

	if (n < 1)
		return -1;
	nl = (unsigned char)b[0];
	if (nl == 0 || nl > LOCKER_NAME_MAX || 1 + nl > n)
		return -1;
	*name = b + 1;
	*nlen = nl;
	*data = b + 1 + nl;
	*dlen = n - 1 - nl;
	return 0;
}
