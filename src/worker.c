/*
 * worker.c: one per active locker, running as the locker's uid inside its
 * sandbox ("suexec + static-cat").
 *
 * It resolves a request's path under web_scripts, opens the file with the
 * locker's own rights and passes the open descriptor back to front, which
 * sends it.  No fork, no exec, no copy of the bytes through this process.
 * It exits after the configured idle time; the master starts a new one on
 * the next request.
 */
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "http.h"
#include "cgienv.h"
#include "rw_ht.h"
#include "wire.h"
#include "access.h"
#include "htaccess.h"
#include "htdocs.h"
#include "htwalk.h"
#include "phpini.h"
#include "htcore.h"
#include "autoindex.h"
#include "errdoc.h"
#include "htwatch.h"

#define MAX_CHANNELS	256	/* one per front process, and a few being replaced */

static struct {
	struct config		 conf;
	struct msg_worker_init	 init;
	struct mime_map		 mime;
	int			 webroot;	/* O_PATH of web_scripts */
	struct pollfd		 pfd[MAX_CHANNELS + 1];
	int			 npfd;
	uint64_t		 last_request;
	uint64_t		 told_active;	/* when the master last heard MSG_ACTIVE */
	struct ht_walker	 ht;
} W;

/*
 * What a .htaccess decided for the answer being made: its extra fields,
 * the Header operations for front, and whether front may keep it
 * (answer() puts them on the wire); the request, for an ErrorDocument.
 */
static struct {
	char				 hdr[WIRE_HDR_MAX];
	size_t				 hlen;
	char				 ops[WIRE_OPS_MAX];
	size_t				 olen;
	uint16_t			 flags;
	const struct wire_request	*q;
	const struct wire_view		*v;
	int				 applied;	/* a .htaccess did */
} X;

/*
 * The master caps how many workers are warm (max-workers) and, to make
 * room, retires the one that has been idle longest: it learns who is busy
 * from this, sent at most once a second while requests come, scripts run
 * or front says a request of ours is in flight (MSG_BUSY: a PHP page on a
 * pool connection front keeps never passes through us).
 */
#define ACTIVE_EVERY_MS	1000

static void
tell_active(void)
{
	uint64_t now = now_ms();

	if (now - W.told_active < ACTIVE_EVERY_MS)
		return;
	W.told_active = now;
	msg_send(CHILD_CHAN_FD, MSG_ACTIVE, NULL, 0, -1);	/* full: next time */
}

/* ------------------------------------------------------------ opening */

/* What rel names below web_scripts, opened as webpath.c allows. */
static int
open_beneath(const char *rel)
{
	return web_open(W.webroot, W.init.home, rel);
}

/*
 * The type of a static file; charset, a .htaccess's AddCharset or
 * AddDefaultCharset (NULL: none), goes before the configuration's.
 */
static void
content_type(const char *ext, const char *charset, char *out, size_t outsz)
{
	const char *t = mime_lookup(&W.mime, ext);

	if (charset != NULL && strcasecmp(charset, "off") != 0 &&
	    http_valid_field_value(charset, strlen(charset)) && strlen(charset) < 64 &&
	    strchr(charset, ';') == NULL && ht_charset_type(t))
		snprintf(out, outsz, "%s; charset=%s", t, charset);
	else if (charset != NULL && strcasecmp(charset, "off") == 0)
		snprintf(out, outsz, "%s", t);
	else if (W.conf.charset[0] != '\0' && (strncmp(t, "text/", 5) == 0 ||
	    strcmp(t, "application/json") == 0 || strcmp(t, "application/xml") == 0 ||
	    strcmp(t, "image/svg+xml") == 0 || strcmp(t, "application/javascript") == 0))
		snprintf(out, outsz, "%s; charset=%s", t, W.conf.charset);
	else
		snprintf(out, outsz, "%s", t);
}

static int
static_ext(const char *ext)
{
	return config_static_ext(&W.conf, ext);
}

/* ExpiresByType's view of a file's type: its extension's, as served. */
static const char *
ht_type_of(const char *path)
{
	return mime_lookup(&W.mime, path_ext(path));
}

/* ------------------------------------------------------------ requests */

/*
 * Answers are collected and sent in one sendmmsg() per batch of requests,
 * so that a busy locker costs front one wake-up per batch, not per request.
 */
static struct {
	struct answer_buf {
		struct wire_response	r;
		char			tail[WIRE_HDR_MAX + WIRE_OPS_MAX +
					    sizeof(struct wire_script) + WSC_MAX * PATH_MAX];
	}			b[CHAN_BATCH];
	struct msg_out		out[CHAN_BATCH];
	int			n;
} A;

static void
answer(int chan, struct wire_response *r, int fd)
{
	(void)chan;
	r->flags = X.flags;
	errdoc_mark(r);
	if (!(r->flags & WRESP_NOCACHE) && htwatch_ok())
		r->flags |= WRESP_WATCHED;
	r->hlen = (uint16_t)X.hlen;
	r->olen = (uint16_t)X.olen;
	A.b[A.n].r = *r;
	memcpy(A.b[A.n].tail, X.hdr, X.hlen);
	memcpy(A.b[A.n].tail + X.hlen, X.ops, X.olen);
	A.out[A.n].type = MSG_RESPONSE;
	A.out[A.n].data = &A.b[A.n];
	A.out[A.n].len = sizeof(A.b[A.n].r) + X.hlen + X.olen;
	A.out[A.n].fd = fd;
	A.n++;
}

/* A FastCGI script: where it is, so that front builds its request. */
static void
answer_fcgi(int chan, struct wire_response *r, const struct script_req *s, const char *rel,
    int fd, const char *url, const char *query, const char *vary)
{
	struct answer_buf	*b = &A.b[A.n];
	const char		*str[WSC_MAX] = { s->docroot, rel, s->path_info,
				    s->index_name ? s->index_name : "", url, query,
				    s->ht_env ? s->ht_env : "", s->pool_tag ? s->pool_tag : "", vary };

	r->kind = WIRE_FCGI;
	r->status = 200;
	answer(chan, r, fd);
	/* Always fits: each string is cut at PATH_MAX - 1 (wire.c). */
	A.out[A.n - 1].len = sizeof(b->r) + X.hlen + X.olen + wire_script_pack(b->tail +
	    X.hlen + X.olen, sizeof(b->tail) - X.hlen - X.olen, str, s->index_name != NULL);
}

/* MSG_FCGI_ASK: a pool connection, or why none (struct msg_fcgi). */
static void
fcgi_ask(int chan, const struct msg_fcgi *m)
{
	struct wire_response	r;
	int			fd = php_pool_connect(m, chan);

	memset(&r, 0, sizeof(r));
	r.id = m->id;
	r.kind = WIRE_STATUS;
	r.status = fd >= 0 ? 200 : (uint16_t)-fd;
	X.hlen = X.olen = 0;
	X.flags = WRESP_NOCACHE;
	errdoc_reset();
	W.last_request = now_ms();
	answer(chan, &r, fd >= 0 ? fd : -1);
}

static int
answers_flush(int chan)
{
	int i, done = 0, rc = 0;

	while (done < A.n) {
		int k = msg_send_many(chan, A.out + done, A.n - done);

		if (k <= 0) {
			if (k == -1 && errno == EAGAIN) {
				struct pollfd p = { .fd = chan, .events = POLLOUT };

				/* front reads its channels promptly; wait for room. */
				if (poll(&p, 1, 5000) == 1)
					continue;
			}
			rc = -1;
			break;
		}
		done += k;
	}
	for (i = 0; i < A.n; i++)
		if (A.out[i].fd != -1)
			close(A.out[i].fd);
	A.n = 0;
	return rc;
}

/* dirrel's file name, if a regular file: its descriptor, or -1. */
static int
open_index_file(const char *dirrel, const char *name, size_t nlen, char *chosen,
    size_t chosensz)
{
	char		rel[PATH_MAX];
	struct stat	st;
	int		fd;

	snprintf(rel, sizeof(rel), "%s%.*s", dirrel, (int)nlen, name);
	if ((fd = open_beneath(rel)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		snprintf(chosen, chosensz, "%s", rel);
		return fd;
	}
	close(fd);
	return -1;
}

/*
 * Find the index file of a directory, among a .htaccess's DirectoryIndex
 * (names separated by ' '; "disabled": none) or the configuration's; -1
 * with errno if none.
 */
static int
open_index(const char *dirrel, const char *list, char *chosen, size_t chosensz)
{
	int i, fd;

	if (list != NULL) {
		while (*list != '\0' && strcmp(list, "disabled") != 0) {
			size_t n = strcspn(list, " ");

			if ((fd = open_index_file(dirrel, list, n, chosen, chosensz)) != -1)
				return fd;
			list += n + (list[n] == ' ');
		}
	} else
		for (i = 0; i < W.conf.nindex; i++)
			if ((fd = open_index_file(dirrel, W.conf.index[i], strlen(W.conf.index[i]),
			    chosen, chosensz)) != -1)
				return fd;
	errno = EACCES;	/* a directory without an index: no listing */
	return -1;
}

/*
 * A path that did not open because a file stands where a directory should
 * (ENOTDIR) may be a script followed by PATH_INFO: /app.php/more/path.
 * Returns the script's descriptor and splits rel there, or -1.
 */
static int
open_script_prefix(char *rel, char *path_info, size_t pisz)
{
	struct stat	st;
	char		*slash;
	int		fd;

	for (slash = strchr(rel, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		fd = open_beneath(rel);
		if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			*slash = '/';
			snprintf(path_info, pisz, "%s", slash);
			*slash = '\0';
			return fd;
		}
		if (fd != -1)
			close(fd);
		*slash = '/';
		if (fd == -1 && errno != EISDIR && errno != 0)
			break;
	}
	errno = ENOENT;
	return -1;
}

static void
run_script(int chan, const struct wire_request *q, const struct wire_view *v,
    const char *rel, const char *path_info, const char *index_name,
    const struct interpreter *in, struct wire_response *r, const struct ht_req *hr)
{
	static char		envb[PATH_MAX - 1];	/* a wire string's bound */
	struct script_req	s;
	char			file[PATH_MAX], docroot[PATH_MAX];
	const char		*base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	int			fd;

	snprintf(docroot, sizeof(docroot), "%s/web_scripts", W.init.home);
	snprintf(file, sizeof(file), "%s/%s", docroot, rel);
	memset(&s, 0, sizeof(s));
	s.conf = &W.conf;
	s.q = q;
	s.view = v;
	s.interp = in;
	s.filename = file;
	s.docroot = docroot;
	s.path_info = path_info;
	s.index_name = index_name;
	if (ht_env_lines(hr, envb, sizeof(envb)) > 0) {
		s.ht_env = envb;
		s.ht_env_len = strlen(envb);
	}
	/*
	 * PHP through the locker's persistent FastCGI pool (phprun.c says
	 * which, and when CGI instead).  front writes the request, on a
	 * connection we pass it if it asks for one; a body comes whole, with
	 * its length (front held it first).
	 */
	if (php_by_pool(&s, hr, rel, W.webroot)) {
		if ((fd = php_pool_ask(&s, chan, (q->flags & WREQ_CONNECT) != 0)) < -1) {
			r->status = (uint16_t)-fd;
			answer(chan, r, -1);
			return;
		}
		/* A rewritten request's URL and query are the script's (front
		 * builds its FastCGI request from its own copy of the rest). */
		/* An environment E= took from the request is its own, unless
		 * front can compare what it took (the headers of hr->vary). */
		if (hr->env_unvaried)
			X.flags |= WRESP_NOCACHE;
		answer_fcgi(chan, r, &s, rel, fd, hr->redirects ? hr->uri : "",
		    hr->redirects ? hr->query : "", hr->vary);
		return;
	}
	if ((fd = script_start(&s)) < 0) {
		r->status = (uint16_t)-fd;
		answer(chan, r, -1);
		return;
	}
	r->kind = strncmp(base, "nph-", 4) == 0 ? WIRE_CGI_NPH : WIRE_CGI;
	r->status = 200;
	answer(chan, r, fd);
}

/* A status and no body; fd, a file that will not be served, closed first
 * (-1: none). */
static void
answer_status(int chan, struct wire_response *r, int fd, int status)
{
	if (fd != -1)
		close(fd);
	r->status = (uint16_t)status;
	answer(chan, r, -1);
}

/*
 * front holds a large request body in a file of ours (src/body.c): an
 * unlinked one in the locker's own /tmp, so that its bytes count against
 * the locker's disk limit and vanish with the last descriptor.
 */
static void
make_spool(int chan, struct wire_response *r)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd == -1) {
		answer_status(chan, r, -1, 500);
		return;
	}
	r->kind = WIRE_SPOOL;
	r->status = 200;
	answer(chan, r, fd);
}

/* An ACME_WEBROOT file: text, whatever its name says. */
static void
answer_acme_file(int chan, const struct wire_request *q, struct wire_response *r, int fd)
{
	if (q->method != HTTP_M_GET && q->method != HTTP_M_HEAD) {
		answer_status(chan, r, fd, 405);
		return;
	}
	r->kind = WIRE_FILE;
	r->status = 200;
	snprintf(r->content_type, sizeof(r->content_type), "text/plain");
	answer(chan, r, fd);
}


/*
 * The interpreter of a .htaccess's SetHandler/AddHandler (PHP's names, and
 * cgi-script) when the locker's configuration has one for it; NULL: as
 * the extension says.
 */
static const struct interpreter *
handler_interp(const char *h)
{
	if (h == NULL)
		return NULL;
	if (strstr(h, "php") != NULL)
		return script_interp(&W.conf, "php");
	if (strcmp(h, "cgi-script") == 0)
		return script_interp(&W.conf, "cgi");
	return NULL;
}

static void answer_ht(int chan, struct wire_response *r, struct ht_req *hr, int status);
static int ht_answer_fields(const struct ht_req *hr, int status);

static int ht_apply(int chan, struct wire_response *r, struct ht_req *hr);

/*
 * Options Indexes, a directory without an index: mod_autoindex's listing,
 * made here from the directory opened as the locker, handed to front as
 * a file of the locker's own /tmp (unlinked), as any file is.
 */
static void
answer_listing(int chan, const struct wire_request *q, struct wire_response *r,
    struct ht_req *hr, const char *rel)
{
	char	*html;
	size_t	 len;
	int	 dfd, fd;

	if (q->method != HTTP_M_GET && q->method != HTTP_M_HEAD) {
		answer_ht(chan, r, hr, 405);
		return;
	}
	if ((dfd = open_beneath(rel)) == -1) {
		answer_ht(chan, r, hr, errno_status(errno));
		return;
	}
	html = ht_listing_render(dfd, hr, &len);
	close(dfd);
	if (html == NULL ||
	    (fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1) {
		free(html);
		answer_ht(chan, r, hr, 500);
		return;
	}
	if (write(fd, html, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) == -1) {
		free(html);
		close(fd);
		answer_ht(chan, r, hr, 500);
		return;
	}
	free(html);
	X.flags |= WRESP_NOCACHE;
	r->kind = WIRE_FILE;
	r->status = 200;
	snprintf(r->content_type, sizeof(r->content_type), "text/html;charset=%s",
	    hr->listing != NULL ? hr->listing->charset : "UTF-8");
	answer(chan, r, fd);
}

/*
 * A directory's index file under a .htaccess: the phases again for it
 * (hr->path and uri now the index's); 0 to serve it, 1 when answered.
 */
static int
index_again(int chan, struct ht_req *hr, struct wire_response *r, const char *chosen,
    const char *index_name)
{
	char buf[2 * PATH_MAX];

	snprintf(buf, sizeof(buf), "/%s", chosen);
	if (ht_req_set(&hr->path, buf) == -1) {
		answer_status(chan, r, -1, 500);
		return 1;
	}
	snprintf(buf, sizeof(buf), "%s%s", hr->uri, index_name);
	if (ht_req_set(&hr->uri, buf) == -1) {
		answer_status(chan, r, -1, 500);
		return 1;
	}
	hr->redirects++;	/* a script sees the index's URL */
	ht_index_reset(hr);
	return ht_apply(chan, r, hr);
}

/* Serve hr->path: a file, a script, a directory's index, or an error. */
static void
serve(int chan, const struct wire_request *q, const struct wire_view *v0,
    struct wire_response *r, struct ht_req *hr, int depth)
{
	struct stat			 st;
	struct wire_view		 vv = *v0, *v = &vv;
	const struct interpreter	*in;
	const char			*path = hr->path, *index_name = NULL;
	size_t				 plen = strlen(hr->path);
	char				 rel[PATH_MAX], chosen[PATH_MAX], path_info[PATH_MAX] = "";
	const char			*ext;
	int				 fd;

	if (hr->redirects > 0) {
		/* A script sees the URL and query it was rewritten to. */
		vv.s[WS_PATH] = hr->path;
		vv.l[WS_PATH] = plen;
		vv.s[WS_URL] = hr->uri;
		vv.l[WS_URL] = strlen(hr->uri);
		vv.s[WS_QUERY] = hr->query;
		vv.l[WS_QUERY] = strlen(hr->query);
	}
	memcpy(rel, path + 1, plen - 1);
	rel[plen - 1] = '\0';

	fd = open_beneath(rel);
	if (fd == -1 && errno == ENOTDIR)
		fd = open_script_prefix(rel, path_info, sizeof(path_info));
	if (fd == -1 || fstat(fd, &st) == -1) {
		answer_ht(chan, r, hr, errno_status(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		if (path[plen - 1] != '/') {
			if (ht_answer_fields(hr, 301) == -1)
				X.hlen = X.olen = 0;
			r->kind = WIRE_SLASH;
			answer(chan, r, -1);
			return;
		}
		if ((fd = open_index(rel, hr->index, chosen,
		    sizeof(chosen))) == -1) {
			if ((hr->options & HT_OPT_INDEXES) && errno == EACCES)
				answer_listing(chan, q, r, hr, rel);
			else
				answer_ht(chan, r, hr, errno_status(errno));
			return;
		}
		index_name = chosen + strlen(rel);
		/* Under a .htaccess, the index is a request of its own, as
		 * mod_dir makes it: its <Files>, types, handler and rules. */
		if (X.applied && depth == 0) {
			close(fd);
			if (index_again(chan, hr, r, chosen, index_name) == 0)
				serve(chan, q, v0, r, hr, 1);
			return;
		}
		snprintf(rel, sizeof(rel), "%s", chosen);
	} else if (!S_ISREG(st.st_mode)) {
		close(fd);
		answer_ht(chan, r, hr, 403);
		return;
	}

	ext = path_ext(rel);
	if (acme_webroot_file(path, plen) && path_info[0] == '\0') {
		answer_acme_file(chan, q, r, fd);
		return;
	}
	if ((in = handler_interp(hr->handler)) == NULL && !(hr->handler != NULL &&
	    strcmp(hr->handler, "none") == 0) && !ht_as_file(hr))
		in = script_interp(&W.conf, ext);
	/* php_flag engine off: mod_php runs nothing there (an upload
	 * directory's guard); the file is then what its type says. */
	if (in != NULL && in == script_interp(&W.conf, "php") && phpini_engine_off(hr))
		in = NULL;
	if (in != NULL) {
		close(fd);
		run_script(chan, q, v, rel, path_info, index_name, in, r, hr);
		return;
	}
	/* Anything neither static nor a script is not for the web, unless the
	 * locker's .htaccess named it a file (SetHandler None in its <Files>,
	 * or default-handler). */
	ext = ht_type_ext(hr, rel, static_ext, ext);
	if (path_info[0] != '\0' || ((ext == NULL || !config_static_ext(&W.conf, ext)) &&
	    hr->content_type == NULL && !ht_as_file(hr))) {
		close(fd);
		answer_ht(chan, r, hr, path_info[0] != '\0' ? 404 : 403);
		return;
	}
	if (q->method != HTTP_M_GET && q->method != HTTP_M_HEAD) {
		close(fd);
		answer_ht(chan, r, hr, 405);
		return;
	}
	r->kind = WIRE_FILE;
	r->status = 200;
	X.flags |= ht_etag_flags(hr);
	if (hr->content_type != NULL && strlen(hr->content_type) < sizeof(r->content_type) &&
	    http_valid_field_value(hr->content_type, strlen(hr->content_type)) &&
	    strchr(hr->content_type, '/') != NULL)
		snprintf(r->content_type, sizeof(r->content_type), "%s", hr->content_type);
	else
		content_type(ext, hr->charset, r->content_type, sizeof(r->content_type));
	answer(chan, r, fd);
}

/* The locker's error log, for what its .htaccess files got wrong. */
static void
ht_note(const char *text)
{
	script_note(text);
}

/*
 * hr's extra fields for an answer of status, and its Header operations,
 * into X; -1 (X's left empty) when they do not fit.
 */
static int
ht_answer_fields(const struct ht_req *hr, int status)
{
	ssize_t n = ht_fields(hr, status, X.hdr, sizeof(X.hdr));
	ssize_t o = errdoc_hops(hr, X.ops, sizeof(X.ops));

	X.hlen = X.olen = 0;
	if (n < 0 || o < 0)
		return -1;
	X.hlen = (size_t)n;
	X.olen = (size_t)o;
	return 0;
}

/* The .htaccess phases for an ErrorDocument's path, then the document. */
static void
errdoc_again(int chan, const struct wire_request *q, const struct wire_view *v,
    struct wire_response *r, struct ht_req *hr)
{
	if (ht_apply(chan, r, hr) == 0)
		serve(chan, q, v, r, hr, 0);
}

static int
errdoc_fields(const struct ht_req *hr, int status)
{
	if (ht_answer_fields(hr, status) == -1) {
		ht_note("a .htaccess's response fields do not fit in 4096 bytes");
		return -1;
	}
	return 0;
}

static const struct errdoc_env errdoc_env = {
	answer, errdoc_fields, errdoc_again, ht_note,
};

/* An answer of status, with what the .htaccess phases add to it, or its ErrorDocument. */
static void
answer_ht(int chan, struct wire_response *r, struct ht_req *hr, int status)
{
	if (errdoc_answer(&errdoc_env, chan, X.q, X.v, r, hr, status))
		return;
	if (errdoc_fields(hr, status) == -1)
		status = 500;
	answer_status(chan, r, -1, status);
}

/*
 * The .htaccess phases for the request: 0 to serve hr->path (with hr's
 * fields), or 1 when answered already.
 */
static int
ht_apply(int chan, struct wire_response *r, struct ht_req *hr)
{
	const char	*base = strrchr(hr->path, '/') + 1;
	int		 applied, rc;

	rc = ht_request_run(&W.ht, hr, base, ht_note, &applied);
	/* A changed .htaccess applies at once: front keeps what one decided
	 * only while the directories it was decided in are watched. */
	if (!hr->cacheable || (applied && !htwatch_ok()))
		X.flags |= WRESP_NOCACHE;
	X.applied |= applied;
	if (rc != HT_RUN_SERVE) {
		answer_ht(chan, r, hr, rc);
		return 1;
	}
	if (errdoc_fields(hr, 200) == -1) {
		answer_ht(chan, r, hr, 500);
		return 1;
	}
	if (hr->redirects > 0 &&
	    (strlen(hr->path) >= PATH_MAX - CONF_INDEX_LEN || !path_ok(hr->path, strlen(hr->path)))) {
		answer_ht(chan, r, hr, 404);
		return 1;
	}
	return 0;
}

static int
htaccess(int chan, const struct wire_request *q, const struct wire_view *v,
    struct wire_response *r, struct ht_req *hr)
{
	static char docroot[PATH_MAX];

	snprintf(docroot, sizeof(docroot), "%s/web_scripts", W.init.home);
	if (ht_request_init(hr, q, v, docroot) == -1) {
		answer_status(chan, r, -1, 500);
		return 1;
	}
	return ht_apply(chan, r, hr);
}

static void
handle_request(int chan, const struct wire_request *q, const struct wire_view *v)
{
	struct wire_response		 r;
	struct ht_req			 hr;

	memset(&r, 0, sizeof(r));
	r.id = q->id;
	r.kind = WIRE_STATUS;
	X.hlen = X.olen = 0;
	X.flags = 0;
	X.q = q;
	X.v = v;
	errdoc_reset();
	X.applied = 0;
	W.last_request = now_ms();
	htwatch_begin(chan);
	if (q->flags & WREQ_SPOOL) {
		make_spool(chan, &r);
		return;
	}
	if (v->l[WS_PATH] >= PATH_MAX - CONF_INDEX_LEN || !path_ok(v->s[WS_PATH], v->l[WS_PATH])) {
		answer_status(chan, &r, -1, 404);
		return;
	}
	if (htaccess(chan, q, v, &r, &hr) == 0)
		serve(chan, q, v, &r, &hr, 0);
	ht_req_free(&hr);
}

/* The table comes from the master; a type must fit in a header field. */
static void
mime_set(const struct mime_map *m)
{
	int i;

	if (m->n < 0 || m->n > CONF_MAX_EXT)
		return;
	for (i = 0; i < m->n; i++)
		if (memchr(m->ext[i], '\0', sizeof(m->ext[i])) == NULL ||
		    memchr(m->type[i], '\0', sizeof(m->type[i])) == NULL)
			return;
	W.mime = *m;
}

/* ------------------------------------------------------------ channels */

static void
chan_drop(int i)
{
	htwatch_channel_gone(W.pfd[i].fd);
	php_pool_chan_gone(W.pfd[i].fd);
	close(W.pfd[i].fd);
	W.pfd[i] = W.pfd[W.npfd - 1];
	W.npfd--;
}

/* Serve what one front channel has queued; -1 if the channel is finished. */
static int
chan_serve(int chan)
{
	static struct {
		struct wire_request	q;
		char			strs[MSG_MAX_PAYLOAD];
	} m[CHAN_BATCH];
	struct wire_view v;
	struct msg_in	in[CHAN_BATCH];
	const char	*why;
	unsigned	bad;
	int		i, k, round;

	for (round = 0; round < 4; round++) {
		for (i = 0; i < CHAN_BATCH; i++) {
			in[i].buf = &m[i];
			in[i].cap = sizeof(m[i]);
		}
		k = msg_recv_many_checked(chan, MR_WORKER, MR_FRONT, in, CHAN_BATCH, &bad, &why);
		if (k == MSG_BREACH) {
			msg_breach(MR_WORKER, MR_FRONT, "", bad, why);	/* MSG_ACT_DROP */
			return -1;
		}
		if (k == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (k <= 0)
			return -1;
		/* msg_rules[]: requests, busy notes, pool connections asked for and closed. */
		for (i = 0; i < k; i++) {
			if (in[i].type == MSG_FCGI_DONE) {
				php_pool_done(chan, (const struct msg_fcgi *)(void *)&m[i]);
				continue;
			}
			if (in[i].type == MSG_FCGI_ASK) {
				tell_active();
				fcgi_ask(chan, (const struct msg_fcgi *)(void *)&m[i]);
				continue;
			}
			if (in[i].type == MSG_BUSY) {
				/* Work of ours in front: not idle, and the master hears it. */
				W.last_request = now_ms();
				tell_active();
				continue;
			}
			if (wire_view_of(&m[i].q, m[i].strs, in[i].len - sizeof(m[i].q), &v) == -1) {
				msg_breach(MR_WORKER, MR_FRONT, "", in[i].type,
				    "has strings that do not add up");
				answers_flush(chan);
				return -1;
			}
			tell_active();	/* before any script it may start */
			cs_report();
			handle_request(chan, &m[i].q, &v);
		}
		if (answers_flush(chan) == -1)
			return -1;
		if (k < CHAN_BATCH)
			return 0;
	}
	return 0;
}

static void
master_read(void)
{
	static union {
		struct config	c;
		struct mime_map	m;
	} u;
	struct config		*cp = &u.c;
	enum msg_type		 type;
	const char		*why;
	ssize_t			 n;
	int			 fd;

	for (;;) {
		n = msg_recv_checked(W.pfd[0].fd, MR_WORKER, MR_MASTER, &type, &u, sizeof(u), &fd,
		    &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == MSG_BREACH)
			msg_breach(MR_WORKER, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
		if (n < 0 || type == MSG_NONE) {
			script_kill_all();
			exit(0);	/* the master is gone or stopping us */
		}
		/* msg_rules[]: both come with their descriptor, nothing else does. */
		if (type == MSG_CHANNEL) {
			if (W.npfd == MAX_CHANNELS + 1) {
				close(fd);
				continue;
			}
			set_nonblock(fd);
			W.pfd[W.npfd].fd = fd;
			W.pfd[W.npfd].events = POLLIN;
			W.pfd[W.npfd].revents = 0;	/* polled from the next round */
			W.npfd++;
			htwatch_channel(fd);
		} else if (type == MSG_LOG_CHAN) {
			/* logd's end is bound to this locker: its error log only. */
			set_nonblock(fd);
			script_set_log(fd);
		} else if (type == MSG_CONFIG) {
			php_pools_reconfigure(&W.conf, cp);
			W.conf = *cp;
		} else if (type == MSG_MIME)
			mime_set(&u.m);
	}
}

static void
read_init(void)
{
	enum msg_type	type;
	const char	*why;
	ssize_t		n;
	int		fd;

	n = msg_recv_checked(CHILD_CHAN_FD, MR_WORKER, MR_MASTER, &type, &W.conf, sizeof(W.conf),
	    &fd, &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("worker: no configuration from the master");
	n = msg_recv_checked(CHILD_CHAN_FD, MR_WORKER, MR_MASTER, &type, &W.init, sizeof(W.init),
	    &fd, &why);
	if (n < 0 || type != MSG_WORKER_INIT ||
	    memchr(W.init.locker, '\0', sizeof(W.init.locker)) == NULL ||
	    memchr(W.init.home, '\0', sizeof(W.init.home)) == NULL)
		fatalx("worker: no locker from the master");
}

int
worker_main(void)
{
	struct pollfd	 all[MAX_CHANNELS + 2 + 512];
	char		 web[PATH_MAX + 16];
	static const int sigs[] = { SIGCHLD, SIGTERM, 0 };
	int		 i, timeout, sfd, nall, sfirst, st;

	cs_from_env();
	cs_mark(CS_EXEC);
	log_init("worker", 0);
	read_init();
	cs_mark(CS_INIT);
	log_setproc(W.init.locker);
	if (getuid() == 0 || getuid() != W.init.uid)
		fatalx("worker: running as uid %u, not the locker's", (unsigned)getuid());
	snprintf(web, sizeof(web), "%s/web_scripts", W.init.home);
	if ((W.webroot = open(web, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		log_warn("worker %s: %s", W.init.locker, web);
	W.ht.webroot = W.webroot;
	W.ht.open_beneath = open_beneath;
	W.ht.watch = htwatch_dir;
	htwatch_init(web);
	rw_ht_set_note(ht_note);
	rw_ht_set_watch(htwatch_path);
	/* AuthUserFile and AuthGroupFile: beneath the home; their errors to its log. */
	auth_set_home(W.init.home);
	access_log_fn = ht_note;
	htdocs_type_fn = ht_type_of;
	/* What a script leaves behind is reparented to us, and reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Scripts end with SIGCHLD, read here rather than in a handler. */
	if ((sfd = signals_fd(sigs)) == -1)
		fatal("worker: signalfd");
	signal(SIGPIPE, SIG_IGN);
	set_nonblock(CHILD_CHAN_FD);
	W.pfd[0].fd = CHILD_CHAN_FD;
	W.pfd[0].events = POLLIN;
	W.npfd = 1;
	W.last_request = now_ms();
	cs_mark(CS_READY);

	for (;;) {
		uint64_t idle_ms = (uint64_t)W.conf.worker_idle_timeout * 1000;
		uint64_t since, now = now_ms();

		if (script_count() > 0)
			W.last_request = now;	/* not idle while a script runs */
		if (now - W.last_request < ACTIVE_EVERY_MS)
			tell_active();
		since = now - W.last_request;
		if (since >= idle_ms) {
			/* Tell the master first, so it starts a fresh worker if needed. */
			msg_send(CHILD_CHAN_FD, MSG_IDLE, NULL, 0, -1);
			script_kill_all();
			exit(0);
		}
		timeout = (int)(idle_ms - since);
		if ((st = script_timeouts()) >= 0 && st < timeout)
			timeout = st;
		/* Busy (a quiet script, or front's MSG_BUSY): wake when the next
		 * MSG_ACTIVE is due, not up to a second after, so the master never
		 * goes much more than a second without hearing from a busy worker
		 * (it takes 2 s of silence for quiet). */
		if (script_count() > 0 || since < ACTIVE_EVERY_MS) {
			uint64_t due = W.told_active + ACTIVE_EVERY_MS;

			due = due > now ? due - now : 0;
			if ((uint64_t)timeout > due)
				timeout = (int)due;
		}

		memcpy(all, W.pfd, sizeof(W.pfd[0]) * (size_t)W.npfd);
		nall = W.npfd;
		all[nall].fd = sfd;
		all[nall++].events = POLLIN;
		nall += script_pollfds(all + nall, (int)(sizeof(all) / sizeof(all[0])) - nall,
		    &sfirst);
		if (poll(all, (nfds_t)nall, timeout) == -1 && errno != EINTR)
			fatal("worker: poll");
		for (i = 0; i < W.npfd; i++)
			W.pfd[i].revents = all[i].revents;
		script_events(all + W.npfd + 1, nall - W.npfd - 1);
		if (all[W.npfd].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo == SIGTERM) {
					/* Nothing this worker started outlives it. */
					script_kill_all();
					exit(0);
				}
			script_reap();
		}
		/* The master's first: a configuration it sent (`locker limit` just
		 * set) holds for the requests that came in the same round. */
		if (W.pfd[0].revents)
			master_read();
		for (i = W.npfd - 1; i >= 1; i--) {
			if (W.pfd[i].revents == 0)
				continue;
			if (chan_serve(W.pfd[i].fd) == -1)
				chan_drop(i);
		}
	}
}
