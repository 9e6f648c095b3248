/*
 * cookie.c: Domain attributes of the cookies a locker's page sets (cookie.h).
 *
 * Parsed as browsers parse Set-Cookie (RFC 6265 5.2): the name=value pair up
 * to the first ';', then attributes separated by ';', each a name up to its
 * first '=' and a value, both with spaces and tabs around them ignored, the
 * name in any case; a later Domain wins over an earlier one, so each is
 * judged.  A Domain is kept only when it names the page's own host (or a
 * name below it) in plain host-name characters: anything a browser might
 * canonicalise into another name (percent escapes, Unicode, empty labels)
 * is not equal to the host, so it is removed.  Pure functions, fuzzed with
 * the CGI head parser.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cookie.h"

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static void
trim(const char **p, size_t *len)
{
	while (*len > 0 && is_wsp(**p))
		(*p)++, (*len)--;
	while (*len > 0 && is_wsp((*p)[*len - 1]))
		(*len)--;
}

/* Letters, digits and '-' in labels of 1..63, no empty label. */
static int
plain_host(const char *d, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)d[i]) && d[i] != '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

int
cookie_domain_ok(const char *d, size_t dlen, const char *own)
{
	size_t	olen;

	if (own == NULL)
		return 0;
	trim(&d, &dlen);
	if (dlen > 0 && d[0] == '.')
		d++, dlen--;
	if (!plain_host(d, dlen))
		return 0;
	olen = strlen(own);
	if (dlen == olen)
		return strncasecmp(d, own, olen) == 0;
	return dlen > olen + 1 && d[dlen - olen - 1] == '.' &&
	    strncasecmp(d + dlen - olen, own, olen) == 0;
}

/* Is the attribute a[0..len) a Domain one the page may not set? */
static int
foreign_domain(const char *a, size_t len, const char *own)
{
	const char	*eq = memchr(a, '=', len), *name = a;
	size_t		 nlen = eq ? (size_t)(eq - a) : len;

	trim(&name, &nlen);
	if (nlen != 6 || strncasecmp(name, "domain", 6) != 0)
		return 0;
	if (eq == NULL)
		return 1;	/* "Domain" without a value: nothing to keep */
	return !cookie_domain_ok(eq + 1, len - (size_t)(eq + 1 - a), own);
}

size_t
cookie_strip_domain(const char *v, size_t len, const char *own, char *out, int *removed)
{
	const char	*semi = memchr(v, ';', len), *a, *end = v + len;
	size_t		 n;

	*removed = 0;
	/* The name=value pair, as it is. */
	n = semi ? (size_t)(semi - v) : len;
	memmove(out, v, n);
	for (a = semi; a != NULL && a < end; a = semi) {
		const char	*next = memchr(a + 1, ';', (size_t)(end - a - 1));
		size_t		 alen = (size_t)((next ? next : end) - a);

		/* a points at the ';' that starts the attribute. */
		if (foreign_domain(a + 1, alen - 1, own))
			(*removed)++;
		else {
			memmove(out + n, a, alen);
			n += alen;
		}
		semi = next;
	}
	return n;
}
