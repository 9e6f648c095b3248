/*
 * mailmsg.c: a locker's outgoing message made into what goes to the relay
 * (mail.h), in the mail role: its header read, its recipients found, the
 * headers that would name someone else removed or refused, the locker
 * named.  Pure: bytes in, bytes out; fuzzed (fuzz/fuzz_mailmsg.c).
 *
 * What a locker wrote is trusted for nothing:
 *   - any X-Lockerd-Locker header is dropped, and ours is the first line;
 *   - Bcc is dropped (its addresses are recipients, not a header to show),
 *     and so is Return-Path (the relay writes the envelope's);
 *   - a From or Sender naming an address of mail-domain that is not the
 *     locker's own (NAME, NAME+TAG) refuses the message: it would be
 *     another locker's;
 *   - the envelope sender is NAME@DOMAIN, or NAME+TAG@DOMAIN if -f said so;
 *     any other -f is replaced (a locker speaks for no one else);
 *   - no From: one is added, NAME@DOMAIN.
 * Lines end in CRLF on the way out; a NUL byte refuses the message; a
 * line of the header past RFC 5322's 998 characters, or with a CR of its own
 * (which, sent as a line end, would start a header), too.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailmsg.h"

#define LINE_MAX_5322	998
#define HEADER_MAX	(256 * 1024)	/* the whole header of a message */

static int
refuse(char *err, size_t errlen, int code, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return code;
}

/* An address's characters: printable ASCII, none of what would break a
 * path or a command (space, <>, (), comma, semicolon, quote, backslash). */
int
mail_addr_ok(const char *a)
{
	const char	*at = strrchr(a, '@');
	size_t		 n = strlen(a);
	size_t		 i;

	if (n == 0 || n > MAIL_ADDR_MAX || at == NULL || at == a || at[1] == '\0')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c <= ' ' || c >= 0x7f || strchr("<>()[],;:\"\\", c) != NULL)
			return 0;
	}
	return strchr(a, '@') == at;
}

/* 1 if a (a valid address) is at domain, case aside. */
static int
addr_at(const char *a, const char *domain)
{
	return strcasecmp(strrchr(a, '@') + 1, domain) == 0;
}

/* 1 if a is the locker's own: NAME or NAME+TAG at domain. */
int
mail_addr_is_lockers(const char *a, const char *locker, const char *domain)
{
	size_t n = strlen(locker);

	return mail_addr_ok(a) && addr_at(a, domain) && strncasecmp(a, locker, n) == 0 &&
	    (a[n] == '@' || a[n] == '+');
}

static int
rcpt_add(struct mail_out *o, const char *a, char *err, size_t errlen)
{
	size_t i;

	if (!mail_addr_ok(a))
		return refuse(err, errlen, MAIL_EX_USAGE, "bad recipient address \"%.80s\"", a);
	for (i = 0; i < o->nrcpt; i++)
		if (strcasecmp(o->rcpt[i], a) == 0)
			return MAIL_EX_OK;
	if (o->nrcpt >= MAIL_RCPTS_MAX)
		return refuse(err, errlen, MAIL_EX_USAGE, "more than %s recipients", "100");
	snprintf(o->rcpt[o->nrcpt++], sizeof(o->rcpt[0]), "%s", a);
	return MAIL_EX_OK;
}

/* The addr-spec of one mailbox: inside <...>, else the word itself with
 * any (comment) and surrounding space taken off.  into: MAIL_ADDR_MAX+1. */
static int
mailbox_addr(const char *p, size_t n, char *into)
{
	const char	*lt = memchr(p, '<', n), *gt;
	size_t		 k = 0, i, depth = 0;

	if (lt != NULL) {
		gt = memchr(lt, '>', n - (size_t)(lt - p));
		if (gt == NULL || (size_t)(gt - lt - 1) > MAIL_ADDR_MAX)
			return -1;
		memcpy(into, lt + 1, (size_t)(gt - lt - 1));
		into[gt - lt - 1] = '\0';
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !isspace((unsigned char)p[i])) {
			if (k >= MAIL_ADDR_MAX)
				return -1;
			into[k++] = p[i];
		}
	}
	into[k] = '\0';
	return 0;
}

/*
 * Each address of an address list (To, Cc, Bcc, From, Sender) to fn:
 * split at commas outside quotes, <> and comments; a group's "name:" and
 * its closing ';' are dropped.  fn's non-zero ends the walk.
 */
int
mail_addr_list(const char *v, size_t n, int (*fn)(const char *, void *), void *arg)
{
	char	 a[MAIL_ADDR_MAX + 1];
	size_t	 i, start = 0;
	int	 quote = 0, angle = 0, paren = 0, rc;

	for (i = 0; i <= n; i++) {
		char c = i < n ? v[i] : ',';

		if (quote) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '"')
				quote = 0;
			continue;
		}
		if (c == '"')
			quote = 1;
		else if (c == '(')
			paren++;
		else if (c == ')' && paren > 0)
			paren--;
		else if (c == '<' && paren == 0)
			angle = 1;
		else if (c == '>' && paren == 0)
			angle = 0;
		else if (c == ':' && !angle && paren == 0)
			start = i + 1;		/* a group's name */
		else if ((c == ',' || c == ';') && !angle && paren == 0) {
			if (mailbox_addr(v + start, i - start, a) == -1)
				a[0] = '\x01';	/* too long: not an address */
			if (a[0] != '\0' && (rc = fn(a, arg)) != 0)
				return rc;
			start = i + 1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------- the header */

struct field {
	const char	*name;
	size_t		 nlen;
	const char	*value;		/* after the colon */
	size_t		 vlen;		/* to the end of its last line, without the newline */
	const char	*start;		/* the field's first byte */
	size_t		 len;		/* the field's bytes, its newlines included */
};

/* One line of s[0..n) from *pos: its length without the newline. */
static size_t
line_at(const char *s, size_t n, size_t pos, size_t *next)
{
	const char	*nl = memchr(s + pos, '\n', n - pos);
	size_t		 end = nl != NULL ? (size_t)(nl - s) : n;

	*next = nl != NULL ? end + 1 : n;
	if (end > pos && s[end - 1] == '\r')
		end--;
	return end - pos;
}

/* A field name: printable ASCII but space and colon (RFC 5322 2.2). */
static size_t
field_name_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == ':')
			return i;
		else if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return 0;
}

/* A header line, len bytes without its newline: -1 if too long, or if
 * it holds a CR (sent as a line end, it would start a header of its own). */
static int
line_ok(const char *p, size_t len)
{
	return len > LINE_MAX_5322 || memchr(p, '\r', len) != NULL ? -1 : 0;
}

/*
 * The next field of the header at *pos, continuation lines included: 1,
 * 0 at the header's end (an empty line, consumed; or a line that is no
 * field, which starts the body), -1 if a line is too long or holds a CR.
 */
static int
next_field(const char *s, size_t n, size_t *pos, struct field *f)
{
	size_t	len, next, nl;

	if (*pos >= n)
		return 0;
	len = line_at(s, n, *pos, &next);
	if (len == 0) {
		*pos = next;
		return 0;
	}
	if ((nl = field_name_len(s + *pos, len)) == 0)
		return 0;
	if (line_ok(s + *pos, len) == -1)
		return -1;
	f->start = s + *pos;
	f->name = s + *pos;
	f->nlen = nl;
	f->value = s + *pos + nl + 1;
	f->vlen = len - nl - 1;
	while (next < n && (s[next] == ' ' || s[next] == '\t')) {
		size_t more = line_at(s, n, next, &nl);

		if (line_ok(s + next, more) == -1)
			return -1;
		f->vlen = (size_t)(s + next + more - f->value);
		next = nl;
	}
	f->len = (size_t)(s + next - f->start);
	*pos = next;
	return 1;
}

static int
is_field(const struct field *f, const char *name)
{
	return f->nlen == strlen(name) && strncasecmp(f->name, name, f->nlen) == 0;
}

/* ----------------------------------------------------------- the output */

static int
out_room(struct mail_out *o, size_t more)
{
	char	*p;
	size_t	 cap;

	if (o->len + more <= o->cap)
		return 0;
	cap = o->cap ? o->cap : 4096;
	while (cap < o->len + more)
		cap *= 2;
	if ((p = realloc(o->data, cap)) == NULL)
		return -1;
	o->data = p;
	o->cap = cap;
	return 0;
}

static int
out_put(struct mail_out *o, const char *p, size_t n)
{
	if (out_room(o, n) == -1)
		return -1;
	memcpy(o->data + o->len, p, n);
	o->len += n;
	return 0;
}

/* s[0..n) with every line ending made CRLF (a lone CR too). */
static int
out_crlf(struct mail_out *o, const char *s, size_t n)
{
	size_t i, run = 0;

	if (out_room(o, n + n / 8 + 2) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] != '\n' && s[i] != '\r')
			continue;
		if (out_put(o, s + run, i - run) == -1 || out_put(o, "\r\n", 2) == -1)
			return -1;
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			i++;
		run = i + 1;
	}
	if (run < n && (out_put(o, s + run, n - run) == -1 || out_put(o, "\r\n", 2) == -1))
		return -1;
	return 0;
}

/* ------------------------------------------------------------- the rules */

struct walk {
	struct mail_out		*o;
	const struct mail_in	*in;
	char			*err;
	size_t			 errlen;
	int			 code;
};

static int
take_rcpt(const char *a, void *arg)
{
	struct walk *w = arg;

	w->code = rcpt_add(w->o, a, w->err, w->errlen);
	return w->code != MAIL_EX_OK;
}

/* From and Sender: no address of the domain that is not the locker's. */
static int
check_sender(const char *a, void *arg)
{
	struct walk *w = arg;

	if (mail_addr_ok(a) && addr_at(a, w->in->domain) &&
	    !mail_addr_is_lockers(a, w->in->locker, w->in->domain)) {
		w->code = refuse(w->err, w->errlen, MAIL_EX_DATAERR, "From or Sender names "
		    "%.80s, an address of another locker's (only yours may be used)", a);
		return 1;
	}
	return 0;
}

/* One field: dropped (0), kept (1), or the message refused (-1, w->code). */
static int
field_rule(struct walk *w, const struct field *f, int *has_from)
{
	int to = is_field(f, "To") || is_field(f, "Cc"), bcc = is_field(f, "Bcc");

	if (is_field(f, MAIL_LOCKER_HEADER) || is_field(f, "Return-Path"))
		return 0;
	if ((to || bcc) && (w->in->flags & MAIL_F_T) &&
	    mail_addr_list(f->value, f->vlen, take_rcpt, w) != 0)
		return -1;
	if (bcc)
		return 0;
	if (is_field(f, "From") || is_field(f, "Sender")) {
		*has_from |= is_field(f, "From");
		if (mail_addr_list(f->value, f->vlen, check_sender, w) != 0)
			return -1;
	}
	return 1;
}

static int
envelope_from(const struct mail_in *in, struct mail_out *o)
{
	if (in->from != NULL && mail_addr_is_lockers(in->from, in->locker, in->domain))
		snprintf(o->envfrom, sizeof(o->envfrom), "%s", in->from);
	else
		snprintf(o->envfrom, sizeof(o->envfrom), "%s@%s", in->locker, in->domain);
	return 0;
}

static int
header_walk(struct walk *w, size_t *body)
{
	const struct mail_in	*in = w->in;
	struct field		 f;
	size_t			 pos = 0;
	int			 has_from = 0, rc, keep;
	char			 line[LOCKER_NAME_MAX + HOSTNAME_MAX + 64];

	snprintf(line, sizeof(line), "%s: %s\r\n", MAIL_LOCKER_HEADER, in->locker);
	if (out_put(w->o, line, strlen(line)) == -1)
		return refuse(w->err, w->errlen, MAIL_EX_SOFTWARE, "%s", "out of memory");
	while ((rc = next_field(in->msg, in->len, &pos, &f)) == 1) {
		if (pos > HEADER_MAX)
			return refuse(w->err, w->errlen, MAIL_EX_DATAERR,
			    "the header is over %s", "256 KiB");
		if ((keep = field_rule(w, &f, &has_from)) == -1)
			return w->code;
		if (keep && out_crlf(w->o, f.start, f.len) == -1)
			return refuse(w->err, w->errlen, MAIL_EX_SOFTWARE, "%s", "out of memory");
	}
	if (rc == -1)
		return refuse(w->err, w->errlen, MAIL_EX_DATAERR,
		    "a header line is over %s characters, or holds a CR alone", "998");
	if (!has_from) {
		snprintf(line, sizeof(line), "From: %s@%s\r\n", in->locker, in->domain);
		if (out_put(w->o, line, strlen(line)) == -1)
			return refuse(w->err, w->errlen, MAIL_EX_SOFTWARE, "%s", "out of memory");
	}
	*body = pos;
	return MAIL_EX_OK;
}

int
mailmsg_build(const struct mail_in *in, struct mail_out *o, char *err, size_t errlen)
{
	struct walk	 w = { .o = o, .in = in, .err = err, .errlen = errlen };
	size_t		 i, body = 0;
	int		 rc;

	memset(o, 0, sizeof(*o));
	err[0] = '\0';
	if (memchr(in->msg, '\0', in->len) != NULL)
		return refuse(err, errlen, MAIL_EX_DATAERR, "%s", "the message holds a NUL byte");
	for (i = 0; i < in->nrcpts; i++)
		if ((rc = rcpt_add(o, in->rcpts[i], err, errlen)) != MAIL_EX_OK)
			return rc;
	envelope_from(in, o);
	if ((rc = header_walk(&w, &body)) != MAIL_EX_OK)
		return rc;
	if (o->nrcpt == 0)
		return refuse(err, errlen, MAIL_EX_USAGE, "%s", "no recipient (name one, or "
		    "use -t with a To, Cc or Bcc header)");
	if (out_put(o, "\r\n", 2) == -1 || out_crlf(o, in->msg + body, in->len - body) == -1)
		return refuse(err, errlen, MAIL_EX_SOFTWARE, "%s", "out of memory");
	return MAIL_EX_OK;
}

void
mailmsg_free(struct mail_out *o)
{
	free(o->data);
	o->data = NULL;
	o->len = o->cap = 0;
}

/* The first recipients, comma-separated, as far as they fit. */
void
mailmsg_summary_args(const char *const *a, size_t na, char *out, size_t outsz)
{
	size_t	i, n = 0;

	out[0] = '\0';
	for (i = 0; i < na && n + strlen(a[i]) + 2 < outsz; i++)
		n += (size_t)snprintf(out + n, outsz - n, "%s%s", i ? "," : "", a[i]);
	if (i < na && n + 5 < outsz)
		snprintf(out + n, outsz - n, ",...");
}

void
mailmsg_summary(const struct mail_out *o, char *out, size_t outsz)
{
	const char	*a[MAIL_RCPTS_MAX];
	size_t		 i;

	for (i = 0; i < o->nrcpt; i++)
		a[i] = o->rcpt[i];
	mailmsg_summary_args(a, o->nrcpt, out, outsz);
}
