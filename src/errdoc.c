/*
 * errdoc.c: a .htaccess's ErrorDocument, answered by the locker's worker
 * as Apache 2.4's ap_die() does.
 *
 * The documents that hold are those of the directory the request's walk
 * ended in (htdocs_keep_errdocs()), so that an error found after the
 * .htaccess phases (a missing file) has them too.  A text is the body,
 * as Apache sends it (text/html, ISO-8859-1); a full URL is a 302 to it
 * (never for a 401: the parser drops that one, as Apache does); a local
 * URL is an internal redirect as a GET: the .htaccess phases run again
 * for it (its own access, rewrites, types), it must stay within this
 * locker's URLs (ht_remap()), and the file or script found is answered
 * with the error's status, a script seeing REDIRECT_STATUS, REDIRECT_URL,
 * REDIRECT_QUERY_STRING, REDIRECT_REQUEST_METHOD and the first request's
 * variables as REDIRECT_*.  Only the first error has a document: one met
 * while serving it is a page of the first error's status telling both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "http.h"
#include "htwalk.h"
#include "wire.h"
#include "errdoc.h"

static int	 serving;		/* the status whose document is being served */
static void	(*note_fn)(const char *);

void
errdoc_reset(void)
{
	serving = 0;
}

int
errdoc_status(void)
{
	return serving;
}

void
errdoc_mark(struct wire_response *r)
{
	if (serving != 0 && (r->kind == WIRE_FILE || r->kind == WIRE_CGI ||
	    r->kind == WIRE_CGI_NPH || r->kind == WIRE_FCGI)) {
		if (r->status == 200)
			r->status = (uint16_t)serving;
	} else if (serving != 0 && (r->kind == WIRE_SLASH || r->kind == WIRE_STATUS)) {
		r->kind = WIRE_STATUS;
		r->status = (uint16_t)serving;
	}
	if (r->status != 200 && r->kind != WIRE_STATUS && r->kind != WIRE_SLASH)
		r->flags |= WRESP_NOCACHE;	/* an error's document: never the path's */
}

ssize_t
errdoc_hops(const struct ht_req *hr, char *buf, size_t cap)
{
	size_t	o = 0;
	int	i;

	for (i = 0; i < hr->nhop; i++) {
		struct wire_hop h = { hr->hop[i].op, hr->hop[i].always, hr->hop[i].name,
		    hr->hop[i].re, hr->hop[i].sub };

		if ((o = wire_hop_put(buf, cap, o, &h)) == 0)
			return -1;
	}
	return (ssize_t)o;
}

/* The document for status in r->error_docs ("STATUS DOC\n" lines), into buf. */
static const char *
lookup(const struct ht_req *r, int status, char *buf, size_t bufsz)
{
	const char	*p = r->error_docs, *sp, *nl;

	for (; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL || (sp = strchr(p, ' ')) == NULL || sp > nl)
			return NULL;
		if (atoi(p) != status)
			continue;
		if ((size_t)(nl - sp - 1) >= bufsz)
			return NULL;
		snprintf(buf, bufsz, "%.*s", (int)(nl - sp - 1), sp + 1);
		return strcmp(buf, "default") == 0 ? NULL : buf;
	}
	return NULL;
}

/* A body of ours as a file front sends: unlinked, in the locker's own /tmp. */
static int
tmp_body(const char *s, size_t n)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd == -1)
		return -1;
	if (write(fd, s, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Answer status with body s (type ctype); 0, or -1 if the file could not be made. */
static int
answer_body(const struct errdoc_env *e, int chan, struct wire_response *r,
    const struct ht_req *hr, int status, const char *ctype, const char *s)
{
	int fd;

	if (e->fields(hr, status) == -1 || (fd = tmp_body(s, strlen(s))) == -1)
		return -1;
	r->kind = WIRE_FILE;
	r->status = (uint16_t)status;
	snprintf(r->content_type, sizeof(r->content_type), "%s", ctype);
	e->answer(chan, r, fd);
	return 0;
}

/* An error while serving the document of the first: that one's status, both told. */
static int
recursive(const struct errdoc_env *e, int chan, struct wire_response *r,
    const struct ht_req *hr, int status)
{
	char page[1024];

	snprintf(page, sizeof(page), "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
	    "<body><h1>%d %s</h1><p>And a %d %s error came of the ErrorDocument meant to "
	    "answer it.</p><hr><address>" SERVER_SOFTWARE "</address></body></html>\n",
	    serving, http_reason(serving), serving, http_reason(serving), status,
	    http_reason(status));
	return answer_body(e, chan, r, hr, serving, "text/html; charset=utf-8", page) == 0;
}

/* A full URL: a 302 to it, with the always fields. */
static int
external(const struct errdoc_env *e, int chan, struct wire_response *r, struct ht_req *hr,
    const char *url)
{
	if (ht_req_set(&hr->location, url) == -1 || e->fields(hr, 302) == -1)
		return 0;
	r->kind = WIRE_STATUS;
	r->status = 302;
	e->answer(chan, r, -1);
	return 1;
}

static void
note_doc(const char *text)
{
	char buf[1200];

	snprintf(buf, sizeof(buf), "ErrorDocument: %s", text);
	note_fn(buf);
}

/* Apache's rename_original_env(): the first request's variables as REDIRECT_*. */
static int
redirect_env(struct ht_req *hr, int status)
{
	char	*name, num[8];
	int	 i;

	for (i = 0; i < hr->nenv; i++) {
		if (asprintf(&name, "REDIRECT_%s", hr->env[i].name) == -1)
			return -1;
		free(hr->env[i].name);
		hr->env[i].name = name;
	}
	snprintf(num, sizeof(num), "%d", status);
	if (ht_req_setenv(hr, "REDIRECT_STATUS", num) == -1 ||
	    ht_req_setenv(hr, "REDIRECT_URL", hr->uri) == -1 ||
	    ht_req_setenv(hr, "REDIRECT_REQUEST_METHOD", hr->method_str) == -1 ||
	    (hr->query[0] != '\0' &&
	    ht_req_setenv(hr, "REDIRECT_QUERY_STRING", hr->query) == -1))
		return -1;
	return 0;
}

/*
 * What the document's request starts from: the first's "always" fields
 * (a 401's WWW-Authenticate), none of what the phases chose for it.
 */
static void
fresh(struct ht_req *hr)
{
	int i;

	for (i = hr->nhdr - 1; i >= 0; i--)
		if (!(hr->hdr[i].flag & HT_HDR_ALWAYS)) {
			free(hr->hdr[i].name);
			free(hr->hdr[i].value);
			memmove(&hr->hdr[i], &hr->hdr[i + 1],
			    sizeof(hr->hdr[0]) * (size_t)(hr->nhdr - i - 1));
			hr->nhdr--;
		}
	for (i = 0; i < hr->nhop; i++) {
		free(hr->hop[i].name);
		free(hr->hop[i].re);
		free(hr->hop[i].sub);
	}
	hr->nhop = 0;
	hr->status = 0;
	free(hr->location);
	free(hr->content_type);
	free(hr->handler);
	hr->location = hr->content_type = hr->handler = NULL;
}

/* A local URL: the internal redirect, as a GET (a HEAD stays one). */
static int
local(const struct errdoc_env *e, int chan, const struct wire_request *q,
    const struct wire_view *v, struct wire_response *r, struct ht_req *hr, int status,
    const char *doc)
{
	struct wire_request	 qq = *q;
	struct wire_view	 vv = *v;
	char			 uri[PATH_MAX];
	const char		*qm = strchr(doc, '?');

	if (redirect_env(hr, status) == -1)
		return 0;
	snprintf(uri, sizeof(uri), "%.*s", qm ? (int)(qm - doc) : (int)strlen(doc), doc);
	if (ht_req_set(&hr->uri, uri) == -1 || ht_req_set(&hr->query, qm ? qm + 1 : "") == -1)
		return 0;
	note_fn = e->note;
	if (ht_remap(hr, note_doc) < 0)
		return 0;
	fresh(hr);
	hr->redirects++;	/* a script sees the document's URL */
	if (q->method != HTTP_M_HEAD) {
		qq.method = HTTP_M_GET;
		vv.s[WS_METHOD] = "GET";
		vv.l[WS_METHOD] = 3;
		hr->method = HTTP_M_GET;
		hr->method_str = "GET";
	}
	serving = status;
	e->again(chan, &qq, &vv, r, hr);
	return 1;
}

int
errdoc_answer(const struct errdoc_env *e, int chan, const struct wire_request *q,
    const struct wire_view *v, struct wire_response *r, struct ht_req *hr, int status)
{
	char		 buf[HT_MAX_LINE];
	const char	*doc;

	if (status < 400 || status > 599)
		return 0;
	if (serving != 0)
		return recursive(e, chan, r, hr, status);
	if ((doc = lookup(hr, status, buf, sizeof(buf))) == NULL)
		return 0;
	if (doc[0] == '"')
		return answer_body(e, chan, r, hr, status, "text/html; charset=iso-8859-1",
		    doc + 1) == 0;
	if (doc[0] == '/')
		return local(e, chan, q, v, r, hr, status, doc);
	return external(e, chan, r, hr, doc);
}
