/*
 * http_int.h: what the HTTP wire-format files (http.c, httppath.c,
 * httpfield.c) share and nobody else needs: the character classes of
 * RFC 9110's grammar, one table lookup per byte, and the case rules.
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Character classes, one table lookup per byte on the hot path.
 */
#define CT_TCHAR	0x01	/* token: ALPHA DIGIT !#$%&'*+-.^_`|~ */
#define CT_TARGET	0x02	/* request-target: VCHAR (0x21-0x7e) */
#define CT_FIELD	0x04	/* field-value: HTAB SP VCHAR obs-text */
#define CT_HOST		0x08	/* Host: ALPHA DIGIT - . _ : [ ] */
#define CT_UNRES	0x10	/* unreserved: ALPHA DIGIT - . _ ~ */
#define CT_HEX		0x20
#define CT_DIGIT	0x40


extern const uint8_t http_ctype[256];

#define IS(c, cls)	(http_ctype[(unsigned char)(c)] & (cls))

static inline int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static inline int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return lower(c) - 'a' + 10;	/* caller checked CT_HEX */
}

/* p[0..n) equals the lower-case string l (of length n), ignoring case. */
static inline int
ci_eq(const char *p, const char *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (lower((unsigned char)p[i]) != (unsigned char)l[i])
			return 0;
	return 1;
}

/* Optional whitespace (RFC 9110 section 5.6.3). */
static inline int
is_ows(int c)
{
	return c == ' ' || c == '\t';
}

#endif
