/*
 * httpfield.c: field values that carry numbers, for front: HTTP dates
 * (RFC 9110 section 5.6.7, all three historic forms read, one written) and
 * byte ranges (section 14).  What came from the internet is refused or
 * saturated, never overflowed.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "http_int.h"

/* ------------------------------------------------------------------ */
/* Dates                                                               */

static const char wdays[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const wdays_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};
static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static void
put2(char *p, int v)
{
	p[0] = '0' + v / 10;
	p[1] = '0' + v % 10;
}

void
http_format_date(time_t t, char out[30])
{
	struct tm	tm;
	int		y;

	/* Years past 9999 do not fit the format; say the epoch instead. */
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	y = tm.tm_year + 1900;
	memcpy(out, wdays[tm.tm_wday], 3);
	memcpy(out + 3, ", ", 2);
	put2(out + 5, tm.tm_mday);
	out[7] = ' ';
	memcpy(out + 8, months[tm.tm_mon], 3);
	out[11] = ' ';
	put2(out + 12, y / 100);
	put2(out + 14, y % 100);
	out[16] = ' ';
	put2(out + 17, tm.tm_hour);
	out[19] = ':';
	put2(out + 20, tm.tm_min);
	out[22] = ':';
	put2(out + 23, tm.tm_sec);
	memcpy(out + 25, " GMT", 5);	/* with the NUL */
}

/* n decimal digits at p, or -1. */
static int
digits(const char *p, int n)
{
	int	v = 0;

	while (n-- > 0) {
		if (!IS(*p, CT_DIGIT))
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	return v;
}

static int
month_lookup(const char *p)
{
	int	m;

	/* Case-sensitive, as RFC 9110 5.6.7 says. */
	for (m = 0; m < 12; m++)
		if (memcmp(p, months[m], 3) == 0)
			return m;
	return -1;
}

static int
wday_lookup(const char *p, size_t n)
{
	int	d;

	for (d = 0; d < 7; d++) {
		if (n == 3 && memcmp(p, wdays[d], 3) == 0)
			return d;
		if (n > 3 && n == strlen(wdays_long[d]) &&
		    memcmp(p, wdays_long[d], n) == 0)
			return d;
	}
	return -1;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap days in the years 1..y. */
static int64_t
leaps_through(int64_t y)
{
	return y / 4 - y / 100 + y / 400;
}

/* "HH:MM:SS" and a calendar date to seconds since the epoch, or -1. */
static time_t
date_to_time(int year, int mon, int mday, const char *hms)
{
	static const int cum[12] = {
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334
	};
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int64_t	days;
	int	h, m, s, dim;

	if (hms[2] != ':' || hms[5] != ':')
		return -1;
	h = digits(hms, 2);
	m = digits(hms + 3, 2);
	s = digits(hms + 6, 2);
	/* Before the epoch: -1 is our error value, and no file is that old. */
	if (year < 1970 || mon < 0 || h < 0 || h > 23 || m < 0 || m > 59 ||
	    s < 0 || s > 60)
		return -1;
	dim = mdays[mon] + (mon == 1 && is_leap(year));
	if (mday < 1 || mday > dim)
		return -1;
	days = (int64_t)(year - 1970) * 365 +
	    leaps_through(year - 1) - leaps_through(1969) +
	    cum[mon] + (mon > 1 && is_leap(year)) + mday - 1;
	return (time_t)(days * 86400 + h * 3600 + m * 60 + s);
}

/* Sun, 06 Nov 1994 08:49:37 GMT */
static time_t
parse_imf(const char *s, size_t len)
{
	if (len != 29 || wday_lookup(s, 3) == -1 || memcmp(s + 3, ", ", 2) ||
	    s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
	    memcmp(s + 25, " GMT", 4) != 0)
		return -1;
	return date_to_time(digits(s + 12, 4), month_lookup(s + 8),
	    digits(s + 5, 2), s + 17);
}

/* Sunday, 06-Nov-94 08:49:37 GMT */
static time_t
parse_rfc850(const char *s, size_t len)
{
	const char	*c;
	int		 yy;

	if ((c = memchr(s, ',', len)) == NULL || wday_lookup(s, c - s) == -1)
		return -1;
	len -= c - s;
	s = c;
	if (len != 24 || s[1] != ' ' || s[4] != '-' || s[8] != '-' ||
	    s[11] != ' ' || memcmp(s + 20, " GMT", 4) != 0)
		return -1;
	/* Two-digit years: 70-99 are 19xx, the rest 20xx (a fixed pivot). */
	if ((yy = digits(s + 9, 2)) == -1)
		return -1;
	return date_to_time(yy < 70 ? 2000 + yy : 1900 + yy,
	    month_lookup(s + 5), digits(s + 2, 2), s + 12);
}

/* Sun Nov  6 08:49:37 1994 */
static time_t
parse_asctime(const char *s, size_t len)
{
	int	mday;

	if (len != 24 || wday_lookup(s, 3) == -1 || s[3] != ' ' ||
	    s[7] != ' ' || s[10] != ' ' || s[19] != ' ')
		return -1;
	mday = s[8] == ' ' ? digits(s + 9, 1) : digits(s + 8, 2);
	return date_to_time(digits(s + 20, 4), month_lookup(s + 4), mday,
	    s + 11);
}

time_t
http_parse_date(const char *s, size_t len)
{
	if (s == NULL || len < 4)
		return -1;
	if (s[3] == ',')
		return parse_imf(s, len);
	if (s[3] == ' ')
		return parse_asctime(s, len);
	return parse_rfc850(s, len);
}

/* ------------------------------------------------------------------ */
/* Ranges                                                              */

/*
 * Decimal digits at p[0..n); values too large for off_t saturate, which
 * gives the right answer below (past the end, or "the whole file").
 */
static int
range_num(const char *p, size_t n, int64_t *out)
{
	int64_t	v = 0;
	size_t	i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!IS(p[i], CT_DIGIT))
			return -1;
		if (v > (INT64_MAX - 9) / 10)
			v = INT64_MAX;
		else
			v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int
http_parse_range(const char *s, size_t len, off_t size, off_t *off, off_t *count)
{
	const char	*dash, *e;
	int64_t		 first, last;

	if (s == NULL || size < 0)
		return 0;
	/* The unit is case-insensitive (RFC 9110 14.1); no space around '='. */
	if (len < 6 || !ci_eq(s, "bytes=", 6))
		return 0;
	s += 6;
	len -= 6;
	/* More than one range: serving the whole file is always allowed. */
	if (memchr(s, ',', len) != NULL)
		return 0;
	while (len > 0 && is_ows(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_ows(s[len - 1]))
		len--;
	if ((dash = memchr(s, '-', len)) == NULL)
		return 0;
	e = s + len;

	if (dash == s) {
		/* suffix-range: the last n bytes. */
		if (range_num(dash + 1, e - dash - 1, &last) == -1)
			return 0;
		if (last == 0)
			return -1;
		if (size == 0)
			return 0;	/* nothing to cut; send the empty file */
		if (last > size)
			last = size;
		*off = size - last;
		*count = last;
		return 1;
	}
	if (range_num(s, dash - s, &first) == -1)
		return 0;
	if (dash + 1 == e)
		last = INT64_MAX;
	else if (range_num(dash + 1, e - dash - 1, &last) == -1 || last < first)
		return 0;
	if (first >= size)
		return -1;
	if (last >= size)
		last = size - 1;
	*off = first;
	*count = last - first + 1;
	return 1;
}

