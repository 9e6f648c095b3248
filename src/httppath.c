/*
 * httppath.c: which file a request's path names (RFC 3986, RFC 3629), for
 * front.  The path came from the internet: percent-decoded once, strict
 * UTF-8, dot segments resolved without ever climbing above the root, so
 * that the name we route on is the name the file system and a script see.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "http_int.h"

/* ------------------------------------------------------------------ */
/* Paths                                                               */

/*
 * UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing
 * above U+10FFFF.  A path that means one thing to us and another to a
 * filesystem or a script is how traversal bugs start.
 */
struct utf8_state {
	int		need;	/* continuation bytes still expected */
	unsigned char	lo, hi;	/* the range the next one must be in */
};

static int
utf8_byte(struct utf8_state *u, unsigned char c)
{
	if (u->need > 0) {
		if (c < u->lo || c > u->hi)
			return -1;
		u->need--;
		u->lo = 0x80;
		u->hi = 0xbf;
		return 0;
	}
	if (c < 0x80)
		return 0;
	u->lo = 0x80;
	u->hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		u->need = 1;
	else if (c == 0xe0) {
		u->need = 2;
		u->lo = 0xa0;		/* shorter forms are overlong */
	} else if (c == 0xed) {
		u->need = 2;
		u->hi = 0x9f;		/* U+D800..U+DFFF are surrogates */
	} else if (c >= 0xe1 && c <= 0xef)
		u->need = 2;
	else if (c == 0xf0) {
		u->need = 3;
		u->lo = 0x90;		/* overlong */
	} else if (c >= 0xf1 && c <= 0xf3)
		u->need = 3;
	else if (c == 0xf4) {
		u->need = 3;
		u->hi = 0x8f;		/* above U+10FFFF */
	} else
		return -1;		/* 80..c1 and f5..ff never start one */
	return 0;
}

/*
 * The segment out[seg..n) has just ended.  Returns the new length of out,
 * or -1 for ".." above the root.  out[seg - 1] is always '/'.
 */
static ssize_t
end_segment(char *out, size_t seg, size_t n)
{
	size_t	len = n - seg;

	if (len == 1 && out[seg] == '.')
		return seg;
	if (len == 2 && out[seg] == '.' && out[seg + 1] == '.') {
		if (seg == 1)
			return -1;
		/* Drop the parent: back to just after the '/' before it. */
		for (n = seg - 1; n > 0 && out[n - 1] != '/'; n--)
			;
		return n;
	}
	return n;
}

ssize_t
http_normalize_path(const char *path, size_t len, char *out, size_t outsz)
{
	struct utf8_state u = { 0, 0x80, 0xbf };
	size_t		 i, n, seg;
	ssize_t		 r;
	unsigned char	 c;

	if (len == 0 || path[0] != '/' || outsz < 2)
		return -1;
	out[0] = '/';
	n = seg = 1;
	for (i = 1; i <= len; i++) {
		if (i == len || path[i] == '/') {
			if (u.need > 0)
				return -1;	/* a sequence cut by '/' */
			if ((r = end_segment(out, seg, n)) == -1)
				return -1;
			n = r;
			if (i == len)
				break;
			/*
			 * After ".", ".." or an empty segment ("//") out
			 * already ends in '/'.
			 */
			if (out[n - 1] != '/') {
				if (n + 1 >= outsz)
					return -1;
				out[n++] = '/';
			}
			seg = n;
			continue;
		}
		c = (unsigned char)path[i];
		if (c == '%') {
			if (len - i < 3 || !IS(path[i + 1], CT_HEX) ||
			    !IS(path[i + 2], CT_HEX))
				return -1;
			c = hexval(path[i + 1]) << 4 | hexval(path[i + 2]);
			i += 2;
			/* An encoded '/' would hide a separator from us. */
			if (c == '/')
				return -1;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
		if (utf8_byte(&u, c) == -1)
			return -1;
		if (n + 1 >= outsz)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return (ssize_t)n;
}

ssize_t
http_encode_path(const char *path, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		  n = 0;
	unsigned char	  c;

	for (; *path != '\0'; path++) {
		c = (unsigned char)*path;
		if (c == '/' || IS(c, CT_UNRES)) {
			if (n + 1 >= outsz)
				return -1;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= outsz)
				return -1;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		}
	}
	if (n >= outsz)
		return -1;
	out[n] = '\0';
	return (ssize_t)n;
}

