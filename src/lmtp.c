/*
 * lmtp.c: the server side of LMTP (RFC 2033) over bytes; see lmtp.h.
 *
 * LHLO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, VRFY and QUIT, with the
 * extensions Postfix's lmtp client uses when offered: PIPELINING,
 * ENHANCEDSTATUSCODES, 8BITMIME, SIZE and DSN (for ORCPT, the address as
 * first given, which becomes ORIGINAL_RECIPIENT).  After the final dot the
 * caller delivers and answers once per recipient, in order (RFC 2033 4.2);
 * what comes meanwhile (a pipelining client) waits in its buffer, since
 * lmtp_feed() stops at the dot.
 *
 * Nothing here is trusted: a command line longer than LMTP_LINE_MAX is
 * refused whole and skipped, a NUL or a control byte in one is an error,
 * more than max_rcpts recipients are refused (452, RFC 5321 4.5.3.1.10), a
 * message over max_size is read to its end and refused (552), and after
 * LMTP_ERRORS_MAX bad commands the connection is closed (421).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lmtp.h"

static void
reply(struct lmtp *l, const char *line)
{
	l->ops.reply(l->ops.ctx, line);
}

static void
replyf(struct lmtp *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
replyf(struct lmtp *l, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	reply(l, buf);
}

int
lmtp_init(struct lmtp *l, const struct lmtp_ops *ops, const char *hostname,
    uint64_t max_size, uint32_t max_rcpts)
{
	memset(l, 0, sizeof(*l));
	l->ops = *ops;
	l->hostname = hostname;
	l->max_size = max_size;
	l->max_rcpts = max_rcpts ? max_rcpts : 1;
	if ((l->rcpt = calloc(l->max_rcpts, sizeof(*l->rcpt))) == NULL)
		return -1;
	l->state = LMTP_S_LHLO;
	replyf(l, "220 %s LMTP lockerd ready", hostname);
	return 0;
}

void
lmtp_free(struct lmtp *l)
{
	free(l->rcpt);
	l->rcpt = NULL;
}

static void
txn_reset(struct lmtp *l)
{
	l->sender[0] = '\0';
	l->nrcpt = 0;
	l->size = 0;
	l->too_big = 0;
	l->data_failed = 0;
	l->midline = 0;
	l->cr = 0;
}

/* A bad command: counted, and past the budget the connection goes. */
static void
bad(struct lmtp *l, const char *line)
{
	if (++l->errors >= LMTP_ERRORS_MAX) {
		replyf(l, "421 4.7.0 %s too many errors, closing", l->hostname);
		l->state = LMTP_S_CLOSED;
		return;
	}
	reply(l, line);
}

/* The word at s is kw (case-insensitive), followed by the end, a space or ':'. */
static int
verb_is(const char *s, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(s, kw, n) == 0 && (s[n] == '\0' || s[n] == ' ' || s[n] == ':');
}

/*
 * "<addr>" after "FROM:" or "TO:" (spaces allowed after the colon, as
 * Postfix and most clients send none), then its parameters.  Only plain
 * addresses: no quoted local parts, no source routes, nothing below 0x21.
 * Returns the parameters' start, or NULL.
 */
static const char *
path_of(const char *s, const char *kw, char *out, size_t outsz)
{
	size_t		n = strlen(kw), i;
	const char	*end;

	if (strncasecmp(s, kw, n) != 0)
		return NULL;
	for (s += n; *s == ' '; s++)
		;
	if (*s++ != '<' || (end = strchr(s, '>')) == NULL || (size_t)(end - s) >= outsz)
		return NULL;
	for (i = 0; s + i < end; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '"' || c == '\\' ||
		    (i == 0 && c == '@'))
			return NULL;
		out[i] = (char)c;
	}
	out[i] = '\0';
	if (end[1] != '\0' && end[1] != ' ')
		return NULL;
	return end + 1;
}

/* KEY=VALUE among params (space-separated); the value's start, or NULL. */
static const char *
param(const char *params, const char *key, size_t *vlen)
{
	size_t		n = strlen(key);
	const char	*p = params, *e;

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		e = strchr(p, ' ');
		if (strncasecmp(p, key, n) == 0 && p[n] == '=') {
			*vlen = (size_t)((e ? e : p + strlen(p)) - (p + n + 1));
			return p + n + 1;
		}
		p = e;
	}
	return NULL;
}

/* ORCPT=rfc822;xtext (RFC 3461 4.2): decoded into out, or -1. */
static int
orcpt_decode(const char *v, size_t len, char *out, size_t outsz)
{
	size_t	i, o = 0;

	if (len < 7 || strncasecmp(v, "rfc822;", 7) != 0)
		return -1;
	for (i = 7; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '+') {
			char hex[3] = { 0, 0, 0 };

			if (i + 2 >= len || !isxdigit((unsigned char)v[i + 1]) ||
			    !isxdigit((unsigned char)v[i + 2]))
				return -1;
			hex[0] = v[i + 1];
			hex[1] = v[i + 2];
			c = (unsigned char)strtoul(hex, NULL, 16);
			i += 2;
		}
		if (c <= 0x20 || c >= 0x7f || o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o > 0 ? 0 : -1;
}

static void
cmd_lhlo(struct lmtp *l, const char *arg)
{
	if (*arg == '\0') {
		bad(l, "501 5.5.4 LHLO needs a host name");
		return;
	}
	txn_reset(l);
	replyf(l, "250-%s", l->hostname);
	reply(l, "250-PIPELINING");
	reply(l, "250-ENHANCEDSTATUSCODES");
	reply(l, "250-8BITMIME");
	reply(l, "250-DSN");
	replyf(l, "250 SIZE %llu", (unsigned long long)l->max_size);
	l->state = LMTP_S_MAIL;
}

static void
cmd_mail(struct lmtp *l, const char *arg)
{
	const char	*params, *v;
	size_t		 vlen;

	if (l->state == LMTP_S_LHLO) {
		bad(l, "503 5.5.1 LHLO first");
		return;
	}
	if (l->state != LMTP_S_MAIL) {
		bad(l, "503 5.5.1 MAIL already given");
		return;
	}
	if ((params = path_of(arg, "FROM:", l->sender, sizeof(l->sender))) == NULL) {
		l->sender[0] = '\0';
		bad(l, "501 5.1.7 bad sender address syntax");
		return;
	}
	if ((v = param(params, "SIZE", &vlen)) != NULL && strtoull(v, NULL, 10) > l->max_size) {
		l->sender[0] = '\0';
		replyf(l, "552 5.3.4 message too big (SIZE over %llu)",
		    (unsigned long long)l->max_size);
		return;
	}
	reply(l, "250 2.1.0 sender ok");
	l->state = LMTP_S_RCPT;
}

static void
cmd_rcpt(struct lmtp *l, const char *arg)
{
	struct lmtp_rcpt	*r;
	const char		*params, *v, *why;
	size_t			 vlen;

	if (l->state != LMTP_S_RCPT) {
		bad(l, "503 5.5.1 MAIL first");
		return;
	}
	if (l->nrcpt >= l->max_rcpts) {
		reply(l, "452 4.5.3 too many recipients");
		return;
	}
	r = &l->rcpt[l->nrcpt];
	if ((params = path_of(arg, "TO:", r->addr, sizeof(r->addr))) == NULL ||
	    strchr(r->addr, '@') == NULL) {
		bad(l, "501 5.1.3 bad recipient address syntax");
		return;
	}
	if ((v = param(params, "ORCPT", &vlen)) == NULL ||
	    orcpt_decode(v, vlen, r->orcpt, sizeof(r->orcpt)) == -1)
		snprintf(r->orcpt, sizeof(r->orcpt), "%s", r->addr);
	if (l->ops.rcpt_check != NULL && (why = l->ops.rcpt_check(l->ops.ctx, r->addr)) != NULL) {
		reply(l, why);
		return;
	}
	l->nrcpt++;
	reply(l, "250 2.1.5 recipient ok");
}

static void
cmd_data(struct lmtp *l, const char *arg)
{
	if (*arg != '\0') {
		bad(l, "501 5.5.4 DATA takes no argument");
		return;
	}
	if (l->state != LMTP_S_RCPT) {
		bad(l, "503 5.5.1 MAIL first");
		return;
	}
	if (l->nrcpt == 0) {
		reply(l, "554 5.5.1 no valid recipients");
		return;
	}
	reply(l, "354 end data with <CR><LF>.<CR><LF>");
	l->state = LMTP_S_DATA;
	l->midline = 0;
}

/* One command line, CRLF gone. */
static void
command(struct lmtp *l, char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
			bad(l, "500 5.5.2 control characters in a command");
			return;
		}
	if (verb_is(s, "LHLO"))
		cmd_lhlo(l, s[4] == ' ' ? s + 5 : s + 4);
	else if (verb_is(s, "HELO") || verb_is(s, "EHLO"))
		bad(l, "500 5.5.1 this is LMTP: LHLO, not HELO or EHLO");
	else if (verb_is(s, "MAIL"))
		cmd_mail(l, s[4] == ' ' ? s + 5 : s + 4);
	else if (verb_is(s, "RCPT"))
		cmd_rcpt(l, s[4] == ' ' ? s + 5 : s + 4);
	else if (verb_is(s, "DATA"))
		cmd_data(l, s + 4);
	else if (verb_is(s, "RSET")) {
		txn_reset(l);
		if (l->state != LMTP_S_LHLO)
			l->state = LMTP_S_MAIL;
		reply(l, "250 2.0.0 reset");
	} else if (verb_is(s, "NOOP"))
		reply(l, "250 2.0.0 ok");
	else if (verb_is(s, "VRFY"))
		reply(l, "252 2.5.2 cannot verify, but will try");
	else if (verb_is(s, "QUIT")) {
		replyf(l, "221 2.0.0 %s closing", l->hostname);
		l->state = LMTP_S_CLOSED;
	} else
		bad(l, "500 5.5.2 unknown command");
}

/* Message bytes to the caller, counted against max_size. */
static void
emit(struct lmtp *l, const char *buf, size_t len)
{
	if (len == 0 || l->too_big || l->data_failed)
		return;
	if (l->size + len > l->max_size) {
		l->too_big = 1;
		return;
	}
	l->size += len;
	if (l->ops.data(l->ops.ctx, buf, len) == -1)
		l->data_failed = 1;
}

/*
 * A piece of the message in l->line: a whole line (ending in LF) or the
 * first LMTP_LINE_MAX bytes of a long one.  Returns 1 at the final dot.
 */
static int
data_piece(struct lmtp *l)
{
	char	*s = l->line;
	size_t	 n = l->llen;
	int	 whole = n > 0 && s[n - 1] == '\n';

	if (!l->midline && n > 0 && s[0] == '.') {
		if (whole && (n == 2 || (n == 3 && s[1] == '\r')))
			return 1;
		s++;	/* dot-stuffing (RFC 5321 4.5.2) */
		n--;
	}
	if (whole && n >= 2 && s[n - 2] == '\r') {
		s[n - 2] = '\n';
		n--;
	}
	emit(l, s, n);
	l->midline = !whole;
	return 0;
}

enum lmtp_state
lmtp_feed(struct lmtp *l, const char *buf, size_t len, size_t *used)
{
	size_t	i;

	for (i = 0; i < len && l->state != LMTP_S_CLOSED && l->state != LMTP_S_DELIVER; i++) {
		char c = buf[i];

		if (l->state == LMTP_S_DATA) {
			l->line[l->llen++] = c;
			/* A long line goes in pieces, but never splits its CRLF. */
			if (c == '\n' || (l->llen >= LMTP_LINE_MAX &&
			    (c != '\r' || l->llen > LMTP_LINE_MAX))) {
				if (data_piece(l)) {
					l->state = LMTP_S_DELIVER;
					l->errors = 0;
				}
				l->llen = 0;
			}
			continue;
		}
		if (c != '\n') {
			if (l->llen < LMTP_LINE_MAX)
				l->line[l->llen++] = c;
			else
				l->overlong = 1;
			continue;
		}
		if (l->llen > 0 && l->line[l->llen - 1] == '\r')
			l->llen--;
		l->line[l->llen] = '\0';
		if (l->overlong)
			bad(l, "500 5.5.6 line too long");
		else
			command(l, l->line);
		l->llen = 0;
		l->overlong = 0;
	}
	*used = i;
	return l->state;
}

const char *
lmtp_refusal(const struct lmtp *l)
{
	static char buf[128];

	if (l->too_big) {
		snprintf(buf, sizeof(buf), "552 5.3.4 message too big (over %llu bytes)",
		    (unsigned long long)l->max_size);
		return buf;
	}
	if (l->data_failed)
		return "451 4.3.0 the message could not be kept; try again later";
	return NULL;
}

void
lmtp_delivered(struct lmtp *l)
{
	txn_reset(l);
	l->state = LMTP_S_MAIL;
}

int
lmtp_split(const char *addr, char *name, size_t namesz, char *tag, size_t tagsz,
    char *domain, size_t domainsz)
{
	const char	*at = strrchr(addr, '@'), *plus;
	size_t		 nlen;

	if (at == NULL || at == addr || at[1] == '\0' || strlen(at + 1) >= domainsz)
		return -1;
	plus = memchr(addr, '+', (size_t)(at - addr));
	nlen = (size_t)((plus ? plus : at) - addr);
	if (nlen == 0 || nlen >= namesz)
		return -1;
	memcpy(name, addr, nlen);
	name[nlen] = '\0';
	if (plus != NULL) {
		if ((size_t)(at - plus - 1) >= tagsz)
			return -1;
		memcpy(tag, plus + 1, (size_t)(at - plus - 1));
		tag[at - plus - 1] = '\0';
	} else
		tag[0] = '\0';
	snprintf(domain, domainsz, "%s", at + 1);
	return 0;
}
