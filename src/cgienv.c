/*
 * cgienv.c: the environment of a script, CGI/1.1 (RFC 3875 section 4.1) plus
 * what applications expect from Apache, and the same as FastCGI PARAMS.
 *
 * Built by a locker's worker for a CGI run, and by front for a request it
 * sends straight to the locker's FastCGI pool: either way from the request
 * as the wire carries it, and the script's place as the worker resolved it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lockerd.h"
#include "cgienv.h"
#include "fcgi.h"
#include "http.h"

void
env_add(struct env *e, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (e->n == MAX_ENV || e->used >= sizeof(e->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->used, sizeof(e->buf) - e->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(e->buf) - e->used)
		return;		/* dropped rather than cut */
	e->v[e->n++] = e->buf + e->used;
	e->used += (size_t)n + 1;
}

/* NAME=value where value is a counted string from the request. */
static void
env_str(struct env *e, const char *name, const char *p, size_t len)
{
	env_add(e, "%s=%.*s", name, (int)len, p ? p : "");
}

/*
 * HTTPS and mod_ssl's SSL_* (StdEnvVars) of a request that came over TLS:
 * front's "SSL_NAME=value" lines, each checked again here (a name of
 * SSL_ and [A-Z0-9_], a value without control bytes), so that nothing
 * but SSL_* variables can come of them.
 */
static void
env_tls(struct env *e, const struct wire_request *q, const char *t, size_t len)
{
	const char *end = t + len, *line, *nl, *s;

	if (!(q->flags & WREQ_TLS)) {
		env_add(e, "REQUEST_SCHEME=http");
		return;
	}
	env_add(e, "HTTPS=on");
	env_add(e, "REQUEST_SCHEME=https");
	for (line = t; line < end; line = nl + 1) {
		const char *eq;
		int ok = 1;

		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if ((size_t)(nl - line) < 5 || strncmp(line, "SSL_", 4) != 0 ||
		    (eq = memchr(line, '=', (size_t)(nl - line))) == NULL)
			continue;
		for (s = line; s < eq && ok; s++)
			ok = isupper((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_';
		for (s = eq + 1; s < nl && ok; s++)
			ok = (unsigned char)*s >= 0x20 && *s != 0x7f;
		if (ok)
			env_add(e, "%.*s", (int)(nl - line), line);
	}
}

/*
 * HTTP_* for every header field, as Apache: names upper-cased with '-' as
 * '_', repeated fields joined with ", ".  Proxy is never passed (httpoxy),
 * nor Content-Length and Content-Type (they have their own variables), nor
 * a name with '_' in it, which could pose as another once translated.
 */
static void
env_headers(struct env *e, const char *h, size_t len)
{
	const char	*end = h + len, *line, *nl;
	char		 name[128];
	size_t		 i, nlen;
	int		 k;

	for (line = h; line < end; line = nl + 1) {
		const char *colon, *val;
		size_t vlen;

		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			break;
		if ((colon = memchr(line, ':', (size_t)(nl - line))) == NULL)
			continue;
		nlen = (size_t)(colon - line);
		if (nlen == 0 || nlen + 6 > sizeof(name))
			continue;
		memcpy(name, "HTTP_", 5);
		for (i = 0; i < nlen; i++) {
			char ch = line[i];

			if (ch == '_' || !(isalnum((unsigned char)ch) || ch == '-'))
				break;
			name[5 + i] = ch == '-' ? '_' : (char)toupper((unsigned char)ch);
		}
		if (i < nlen)
			continue;
		name[5 + nlen] = '\0';
		if (strcmp(name, "HTTP_PROXY") == 0 || strcmp(name, "HTTP_CONTENT_LENGTH") == 0 ||
		    strcmp(name, "HTTP_CONTENT_TYPE") == 0 || strcmp(name, "HTTP_HOST") == 0)
			continue;	/* HTTP_HOST is the routed host, set above */
		val = colon + 2 <= nl ? colon + 2 : nl;
		vlen = (size_t)(nl - val);
		/* A repeat is joined to the first. */
		for (k = 0; k < e->n; k++) {
			size_t l = strlen(name);

			if (strncmp(e->v[k], name, l) == 0 && e->v[k][l] == '=')
				break;
		}
		if (k < e->n) {
			char joined[8192];

			snprintf(joined, sizeof(joined), "%s, %.*s", e->v[k], (int)vlen, val);
			e->v[k] = e->v[--e->n];
			env_add(e, "%s", joined);
		} else
			env_add(e, "%s=%.*s", name, (int)vlen, val);
	}
}

static const char *
header_value(const struct wire_view *v, const char *want, size_t *len)
{
	const char	*h = v->s[WS_HEADERS], *end = h + v->l[WS_HEADERS], *nl;
	size_t		 wl = strlen(want);

	for (; h < end; h = nl + 1) {
		if ((nl = memchr(h, '\n', (size_t)(end - h))) == NULL)
			return NULL;
		if ((size_t)(nl - h) > wl + 1 && strncasecmp(h, want, wl) == 0 && h[wl] == ':') {
			const char *val = h + wl + 1;

			while (val < nl && *val == ' ')
				val++;
			*len = (size_t)(nl - val);
			return val;
		}
	}
	return NULL;
}

void
cgi_home_of(const char *docroot, char *out, size_t outsz)
{
	char *slash;

	snprintf(out, outsz, "%s", docroot);
	if ((slash = strrchr(out, '/')) != NULL && slash != out)
		*slash = '\0';
}

/* Is NAME (len bytes) in e already? */
static int
env_has(const struct env *e, const char *name, size_t len)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=')
			return 1;
	return 0;
}

/*
 * A .htaccess's variables (SetEnv, SetEnvIf, a rule's E=), after every
 * variable of lockerd's own, which they never replace: a name of letters,
 * digits and '_' not starting with a digit, none of the loader's or the
 * shell's search paths, a value without control bytes.
 */
static void
env_htaccess(struct env *e, const char *p, size_t len)
{
	const char *end = p + len, *nl, *eq;

	for (; p < end; p = nl + 1) {
		size_t n, i;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return;
		if ((eq = memchr(p, '=', (size_t)(nl - p))) == NULL || eq == p ||
		    isdigit((unsigned char)*p))
			continue;
		n = (size_t)(eq - p);
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '_')
				break;
		if (i < n || (n >= 3 && strncmp(p, "LD_", 3) == 0) ||
		    (n == 4 && strncmp(p, "PATH", 4) == 0) || env_has(e, p, n))
			continue;
		for (i = n + 1; p + i < nl; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				break;
		if (p + i == nl)
			env_add(e, "%.*s", (int)(nl - p), p);
	}
}

void
build_env(struct env *e, const struct script_req *s)
{
	const struct wire_view		*v = s->view;
	const struct wire_request	*q = s->q;
	const char			*ct, *host = v->s[WS_HOST];
	size_t				 ctl, hl = v->l[WS_HOST], url_script;
	char				 dir[PATH_MAX], *slash;

	memset(e, 0, sizeof(*e));
	env_add(e, "GATEWAY_INTERFACE=CGI/1.1");
	env_add(e, "SERVER_SOFTWARE=%s", SERVER_SOFTWARE);
	/* HTTP/2.0 as Apache's mod_http2 says it; the rest is as over HTTP/1.1. */
	if (q->flags & WREQ_H2)
		env_add(e, "SERVER_PROTOCOL=HTTP/2.0");
	else
		env_add(e, "SERVER_PROTOCOL=HTTP/1.%d", q->version_minor ? 1 : 0);
	env_str(e, "REQUEST_METHOD", v->s[WS_METHOD], v->l[WS_METHOD]);
	env_str(e, "QUERY_STRING", v->s[WS_QUERY], v->l[WS_QUERY]);
	env_str(e, "REQUEST_URI", v->s[WS_TARGET], v->l[WS_TARGET]);
	env_tls(e, q, v->s[WS_TLS], v->l[WS_TLS]);
	/*
	 * HTTP_HOST and SERVER_NAME come from the host the request was routed
	 * by (an absolute-form target's, not a contradicting Host header);
	 * SERVER_NAME lower-cased, without port or trailing dot, as Apache.
	 */
	if (hl > 0) {
		char	name[HOSTNAME_MAX + 1];
		size_t	k, nl = hl;

		env_str(e, "HTTP_HOST", host, hl);
		if (host[0] != '[') {
			const char *colon = memchr(host, ':', hl);

			if (colon != NULL)
				nl = (size_t)(colon - host);
		} else {
			const char *close = memchr(host, ']', hl);

			if (close != NULL)
				nl = (size_t)(close - host) + 1;
		}
		if (nl > 1 && host[nl - 1] == '.')
			nl--;
		if (nl > HOSTNAME_MAX)
			nl = HOSTNAME_MAX;
		for (k = 0; k < nl; k++)
			name[k] = (char)tolower((unsigned char)host[k]);
		name[nl] = '\0';
		env_add(e, "SERVER_NAME=%s", name);
	} else
		env_str(e, "SERVER_NAME", v->s[WS_LOCAL], v->l[WS_LOCAL]);
	env_add(e, "SERVER_PORT=%u", q->local_port);
	env_str(e, "SERVER_ADDR", v->s[WS_LOCAL], v->l[WS_LOCAL]);
	env_str(e, "REMOTE_ADDR", v->s[WS_REMOTE], v->l[WS_REMOTE]);
	env_add(e, "REMOTE_PORT=%u", q->remote_port);

	/* The URL path up to the script is SCRIPT_NAME; PATH_INFO is what follows. */
	url_script = v->l[WS_URL] >= strlen(s->path_info) ?
	    v->l[WS_URL] - strlen(s->path_info) : v->l[WS_URL];
	env_add(e, "SCRIPT_NAME=%.*s%s", (int)url_script, v->s[WS_URL],
	    s->index_name ? s->index_name : "");
	env_add(e, "SCRIPT_FILENAME=%s", s->filename);
	if (s->path_info[0] != '\0') {
		env_add(e, "PATH_INFO=%s", s->path_info);
		env_add(e, "PATH_TRANSLATED=%s%s", s->docroot, s->path_info);
	}
	env_add(e, "DOCUMENT_ROOT=%s", s->docroot);
	env_add(e, "CONTEXT_DOCUMENT_ROOT=%s", s->docroot);
	env_str(e, "CONTEXT_PREFIX", v->s[WS_PREFIX], v->l[WS_PREFIX]);
	/* Any Content-Length, 0 too; a chunked body's once front holds it whole. */
	if (q->content_length >= 0)
		env_add(e, "CONTENT_LENGTH=%lld", (long long)q->content_length);
	if ((ct = header_value(v, "Content-Type", &ctl)) != NULL)
		env_str(e, "CONTENT_TYPE", ct, ctl);
	snprintf(dir, sizeof(dir), "%s", s->filename);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	env_add(e, "PHPRC=%s", dir);
	env_add(e, "PATH=/usr/local/bin:/usr/bin:/bin");
	/* As Apache's suexec sets it: expanduser("~"), dotfiles of tools. */
	cgi_home_of(s->docroot, dir, sizeof(dir));
	env_add(e, "HOME=%s", dir);
	env_headers(e, v->s[WS_HEADERS], v->l[WS_HEADERS]);
	if (s->ht_env != NULL)
		env_htaccess(e, s->ht_env, s->ht_env_len);
	/* An ErrorDocument's script has its error's (errdoc.c), others 200. */
	if (!env_has(e, "REDIRECT_STATUS", 15))
		env_add(e, "REDIRECT_STATUS=200");
	e->v[e->n] = NULL;
}

size_t
cgi_fcgi_request(const struct script_req *s, unsigned char *buf, size_t cap, int keep_conn,
    int end_stdin)
{
	static struct env	 e;
	static unsigned char	 params[ENV_BYTES + 4096];
	size_t			 plen = 0, off = 0, k;
	int			 i;

	build_env(&e, s);
	for (i = 0; i < e.n; i++) {
		const char *eq = strchr(e.v[i], '=');

		if (eq == NULL)
			continue;
		plen += fcgi_param(params + plen, sizeof(params) - plen, e.v[i],
		    (size_t)(eq - e.v[i]), eq + 1, strlen(eq + 1));
	}
	if (cap < 16 + plen + (plen / FCGI_MAX_CONTENT + 3) * FCGI_HEADER_LEN)
		return 0;
	fcgi_begin_request(buf, 1, keep_conn);
	off = 16;
	for (k = 0; k < plen; ) {
		size_t n = plen - k > FCGI_MAX_CONTENT ? FCGI_MAX_CONTENT : plen - k;

		fcgi_header(buf + off, FCGI_PARAMS, 1, (uint16_t)n, 0);
		memcpy(buf + off + FCGI_HEADER_LEN, params + k, n);
		off += FCGI_HEADER_LEN + n;
		k += n;
	}
	fcgi_header(buf + off, FCGI_PARAMS, 1, 0, 0);
	off += FCGI_HEADER_LEN;
	if (end_stdin) {
		fcgi_header(buf + off, FCGI_STDIN, 1, 0, 0);
		off += FCGI_HEADER_LEN;
	}
	return off;
}
