/*
 * rw_flags.c: what a rule adds to the response beyond its decision:
 * [CO]'s Set-Cookie as mod_rewrite writes it, and Vary.
 *
 * Vary lists the request headers that the conditions of an applied rule
 * read (and found), as mod_rewrite's does: a cache must not give one
 * visitor's rewritten answer to another whose header differs.  Host is
 * left out, as Apache leaves it, and so is a condition with [NV].
 *
 * The flag's value, expanded for the request, is
 * NAME:VALUE:DOMAIN[:LIFETIME[:PATH[:SECURE[:HTTPONLY[:SAMESITE]]]]] with
 * ':' between the fields, or ';' when the value starts with one (so that
 * a value may hold a ':').  LIFETIME is in minutes, 0 or none for a
 * session cookie.  A cookie name is set once per request, by the first
 * rule that sets it, internal redirects included; the header goes with
 * every answer, redirects and errors too, as Apache's err_headers_out do.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "rewrite_int.h"

#define CO_FIELDS	8

/* Apache's true: "true", "1" or the attribute's own name, any case. */
static int
co_true(const char *v, const char *name)
{
	return v != NULL && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcasecmp(v, name) == 0);
}

/* Fields as strtok gives them: runs of separators are one, empty fields none. */
static int
co_split(char *s, char sep, char *f[CO_FIELDS])
{
	char	 seps[2] = { sep, '\0' };
	char	*save = NULL, *tok;
	int	 n = 0;

	memset(f, 0, sizeof(char *) * CO_FIELDS);
	for (tok = strtok_r(s, seps, &save); tok != NULL && n < CO_FIELDS;
	    tok = strtok_r(NULL, seps, &save))
		f[n++] = tok;
	return n;
}

/* "Mon, 07-Dec-2026 05:00:00 GMT": the form mod_rewrite writes. */
static void
co_expires(long long now, long minutes, char *out, size_t sz)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t		t = (time_t)(now + (long long)minutes * 60);
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, sz, "%s", "");
		return;
	}
	snprintf(out, sz, "%s, %.2d-%s-%.4d %.2d:%.2d:%.2d GMT", days[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *
rw_cookie_line(const char *spec, long long now)
{
	char	*copy, *f[CO_FIELDS], exp[64] = "", *line;
	char	 sep = ':';
	long	 minutes = 0;
	int	 rc;

	if (*spec == ';') {
		sep = ';';
		spec++;
	}
	if ((copy = strdup(spec)) == NULL)
		abort();
	if (co_split(copy, sep, f) < 3) {
		free(copy);
		return NULL;
	}
	/* atol's reading, as Apache's: "30min" is 30, "x" is 0. */
	if (f[3] != NULL && (minutes = strtol(f[3], NULL, 10)) != 0)
		co_expires(now, minutes, exp, sizeof(exp));
	rc = asprintf(&line, "%s=%s; path=%s; domain=%s%s%s%s%s%s%s", f[0], f[1],
	    f[4] != NULL ? f[4] : "/", f[2], *exp ? "; expires=" : "", exp,
	    co_true(f[5], "secure") ? "; secure" : "",
	    co_true(f[6], "HttpOnly") ? "; HttpOnly" : "",
	    f[7] != NULL && strcmp(f[7], "0") != 0 && strcasecmp(f[7], "false") != 0 ?
	    "; SameSite=" : "", f[7] != NULL && strcmp(f[7], "0") != 0 &&
	    strcasecmp(f[7], "false") != 0 ? f[7] : "");
	free(copy);
	if (rc == -1)
		abort();
	return line;
}

int
rw_cookie_same(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return strncmp(a, b, n) == 0 && b[n] == '=';
}

void
rw_add_cookie(struct rw_req *r, const char *spec)
{
	char	*line, **v;
	size_t	 i;

	/* The expiry follows the clock and the value may follow the request:
	 * such an answer is never one front could keep for the path. */
	r->uncacheable = 1;
	if ((line = rw_cookie_line(spec, (long long)time(NULL))) == NULL)
		return;
	/* A value taken from the request must not end the header line. */
	if (strpbrk(line, "\r\n") != NULL) {
		free(line);
		return;
	}
	for (i = 0; i < r->ncookies; i++)
		if (rw_cookie_same(r->cookies[i], line)) {
			free(line);
			return;
		}
	if ((v = reallocarray(r->cookies, r->ncookies + 1, sizeof(*v))) == NULL)
		abort();
	r->cookies = v;
	r->cookies[r->ncookies++] = line;
}

void
rw_cookies_clear(struct rw_req *r)
{
	size_t i;

	for (i = 0; i < r->ncookies; i++)
		free(r->cookies[i]);
	free(r->cookies);
	r->cookies = NULL;
	r->ncookies = 0;
}

/* "USER_AGENT" as a header's name: "User-Agent". */
static void
header_case(const char *var, char *buf, size_t sz)
{
	size_t	i;
	int	first = 1;

	for (i = 0; var[i] != '\0' && i + 1 < sz; i++) {
		char c = var[i] == '_' ? '-' : var[i];

		buf[i] = first ? (char)toupper((unsigned char)c) : (char)tolower((unsigned char)c);
		first = c == '-';
	}
	buf[i] = '\0';
}

const char *
rw_vary_header(const char *var, char *buf, size_t sz)
{
	if (strncmp(var, "HTTP:", 5) == 0)
		snprintf(buf, sz, "%s", var + 5);
	else if (strncmp(var, "HTTP_", 5) == 0)
		header_case(var + 5, buf, sz);
	else
		return NULL;
	if (buf[0] == '\0' || strcasecmp(buf, "Host") == 0 ||
	    buf[strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "!#$%&'*+-.^_`|~")] != '\0')
		return NULL;	/* not a field name (RFC 9110's token) */
	return buf;
}

void
rw_vary_merge(char *list, size_t sz, const char *more)
{
	char	copy[512], *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", more);
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		rw_vary_add(list, sz, tok);
}

void
rw_vary_add(char *list, size_t sz, const char *token)
{
	size_t	n = strlen(token), len = strlen(list);
	char	*p;

	for (p = list; *p != '\0'; p += strcspn(p, ","), p += *p == ',') {
		if (strncasecmp(p, token, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return;
	}
	/* A list that would not fit keeps what it has: Vary is advice. */
	if (len + n + 2 > sz)
		return;
	snprintf(list + len, sz - len, "%s%s", len > 0 ? "," : "", token);
}
