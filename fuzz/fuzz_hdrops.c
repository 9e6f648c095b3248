/*
 * fuzz_hdrops.c: libFuzzer target for hdrops.c, front's side of a
 * .htaccess's Header operations, as a hostile worker may send them.
 *
 * Input: [u8 n] n bytes of operations (kept only if wire_hops_check()
 * takes them, as front does), [u8 flags] (bit 0: front's own page), then
 * the field lines of a head ("Name: value" separated by LF, each written
 * as front would write a valid one).  Invariants: the head stays a head
 * (its status line first, CRLF-ended lines of a name, ':' and a valid
 * value), no field appears that was not there, and it fits in out[].
 */
#include <stdint.h>
#include <string.h>

#include "front.h"
#include "wire.h"

#include "fuzz.h"

static struct conn c;

/* The head front would have built from the lines it could take. */
static void
build(const char *p, size_t n)
{
	const char *end = p + n, *nl;

	c.outlen = (size_t)snprintf(c.out, sizeof(c.out), "HTTP/1.1 200 OK\r\n");
	for (; p < end; p = nl + 1) {
		struct http_header h;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (http_parse_field_line(p, (size_t)(nl - p), &h) == -1 ||
		    c.outlen + (size_t)(nl - p) + 4 > sizeof(c.out) / 2)
			continue;
		c.outlen += (size_t)snprintf(c.out + c.outlen, sizeof(c.out) - c.outlen,
		    "%.*s: %.*s\r\n", (int)h.name.len, h.name.p, (int)h.value.len, h.value.p);
	}
}

/* Is the field line l (len bytes, no CRLF) a name among before's lines? */
static int
name_was(const char *before, const char *l, size_t len)
{
	const char	*colon = memchr(l, ':', len);
	char		 key[300];
	size_t		 k;

	if (colon == NULL || (k = (size_t)(colon - l)) + 3 > sizeof(key))
		return 0;
	key[0] = '\n';
	memcpy(key + 1, l, k + 1);
	key[k + 2] = '\0';
	return strcasestr(before, key) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	before[sizeof(c.out) + 1];
	size_t		olen, off;
	char		*eol, *p;

	if (size < 2 || (olen = data[0]) + 2 > size)
		return 0;
	memset(&c, 0, sizeof(c));
	if (wire_hops_check((const char *)data + 1, olen) == -1)
		return 0;
	c.xhdr = malloc(olen + 1);
	memcpy(c.xhdr, data + 1, olen);
	c.hops_len = olen;
	c.own_page = data[1 + olen] & 1;
	build((const char *)data + 2 + olen, size - 2 - olen);
	memcpy(before, c.out, c.outlen);
	before[c.outlen] = '\0';
	for (p = before; (p = strstr(p, "\r\n")) != NULL; p += 2)
		p[1] = '\n', p[0] = '\n';	/* "\n\nName:" for name_was() */
	hdrops_apply(&c);
	free(c.xhdr);
	REQUIRE(c.outlen <= sizeof(c.out));
	REQUIRE(c.outlen >= 17 && memcmp(c.out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	for (off = 17; off < c.outlen; off = (size_t)(eol - c.out) + 2) {
		struct http_header h;

		eol = memmem(c.out + off, c.outlen - off, "\r\n", 2);
		REQUIRE(eol != NULL);
		REQUIRE(http_parse_field_line(c.out + off, (size_t)(eol - c.out) - off, &h) == 0);
		REQUIRE(name_was(before, c.out + off, (size_t)(eol - c.out) - off));
	}
	return 0;
}
