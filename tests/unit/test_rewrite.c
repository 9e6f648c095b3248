/*
 * test_rewrite.c: the rule sets real applications ship, each with
 * requests and what Apache's per-directory mod_rewrite makes of them;
 * -f and -d look at a real directory tree made here.
 */
#include <sys/stat.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "rewrite_int.h"

static char	root[64];
static int	rootfd = -1;
static char	lastlog[512];
static const char *hdr_name, *hdr_value;

/* A .htaccess in miniature: words split on blanks, "quoted" words kept. */
static struct rw_dir *
load(const char *text, char *err, size_t errlen)
{
	struct rw_dir	*d = NULL;
	char		*copy = strdup(text), *line, *save = NULL, *p, *argv[8];
	int		 argc, rc = 0;

	err[0] = '\0';
	for (line = strtok_r(copy, "\n", &save); line != NULL && rc != -1;
	    line = strtok_r(NULL, "\n", &save)) {
		argc = 0;
		for (p = line; *p != '\0' && argc < 8;) {
			while (isspace((unsigned char)*p))
				p++;
			if (*p == '\0' || *p == '#')
				break;
			if (*p == '"') {
				argv[argc++] = ++p;
				p += strcspn(p, "\"");
			} else {
				argv[argc++] = p;
				p += strcspn(p, " \t");
			}
			if (*p != '\0')
				*p++ = '\0';
		}
		if (argc > 0 && (rc = rw_directive(&d, argv[0], argc - 1, argv + 1, err,
		    errlen)) == 0) {
			snprintf(err, errlen, "not ours: %s", argv[0]);
			rc = -1;
		}
	}
	free(copy);
	if (rc == -1) {
		rw_dir_free(d);
		return NULL;
	}
	return d;
}

static const char *
header(void *ctx, const char *name)
{
	(void)ctx;
	return hdr_name != NULL && strcasecmp(name, hdr_name) == 0 ? hdr_value : NULL;
}

static const char *
sslvar(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "SSL_CLIENT_S_DN_CN") == 0 ? "alice" : NULL;
}

static void
logline(void *ctx, const char *msg)
{
	(void)ctx;
	snprintf(lastlog, sizeof(lastlog), "%s", msg);
}

static void
req_init(struct rw_req *r, const char *uri, const char *query, const char *root_url,
    const char *dir_url)
{
	memset(r, 0, sizeof(*r));
	r->method = "GET";
	r->uri = uri;
	r->query = query;
	r->host = "alice.example.org";
	r->server_name = "alice.example.org";
	r->remote_addr = "127.0.0.1";
	r->the_request = "GET / HTTP/1.1";
	r->protocol = "HTTP/1.1";
	r->port = 80;
	r->root_url = root_url;
	r->dir_url = dir_url;
	r->document_root = root;
	r->webroot_fd = rootfd;
	r->header = header;
	r->log = logline;
}

/* One request through rewrite then alias, as the worker runs them. */
static enum rw_result
run(const struct rw_dir *d, struct rw_req *r)
{
	enum rw_result res = rewrite_fixup(d, r);

	return res == RW_NONE ? alias_fixup(d, r) : res;
}

static void
mkfile(const char *rel, const char *body)
{
	char	path[256];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		abort();
	if (write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		abort();
	close(fd);
}

static void
mkdirs(void)
{
	static const char *const dirs[] = { "wp-content", "w", "blog", "blog/wp-admin",
	    "public", "sub" };
	char	path[256];
	size_t	i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		mkdir(path, 0755);
	}
	mkfile("index.php", "<?php");
	mkfile("wp-content/style.css", "body{}");
	mkfile("w/index.php", "<?php");
	mkfile("blog/index.php", "<?php");
	mkfile("public/index.php", "<?php");
	mkfile("public/app.js", "x");
	mkfile("empty", "");
	snprintf(path, sizeof(path), "%s/link", root);
	if (symlink("/etc/passwd", path) == -1)
		abort();
	{
		char target[256];

		/* An absolute link that lands inside web_scripts is a file. */
		snprintf(path, sizeof(path), "%s/abslink", root);
		snprintf(target, sizeof(target), "%s/index.php", root);
		if (symlink(target, path) == -1)
			abort();
	}
}

static const char wordpress[] =
	"<IfModule>\n"
	"RewriteEngine On\n"
	"RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
	"RewriteBase /\n"
	"RewriteRule ^index\\.php$ - [L]\n"
	"RewriteCond %{REQUEST_FILENAME} !-f\n"
	"RewriteCond %{REQUEST_FILENAME} !-d\n"
	"RewriteRule . /index.php [L]\n";

static void
test_wordpress(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256], fn[256];

	/* <IfModule> is htcore's: strip that line for this miniature. */
	d = load(wordpress + strlen("<IfModule>\n"), err, sizeof(err));
	CHECK(d != NULL);

	req_init(&r, "/2026/12/hello-world/", "a=1", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/index.php");
	CHECK_STR(r.new_query, "a=1");	/* no '?' in the substitution: kept */
	CHECK(!r.uncacheable);	/* -f, -d and the path: the path decides */
	rw_req_clear(&r);

	/* The second pass: index.php stops at its own rule. */
	req_init(&r, "/index.php", "a=1", "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);

	/* A file that exists is served as it is. */
	snprintf(fn, sizeof(fn), "%s/wp-content/style.css", root);
	req_init(&r, "/wp-content/style.css", NULL, "", "/");
	r.filename = fn;
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	/* And a directory. */
	req_init(&r, "/wp-content/", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);

	/* A path through a script: REQUEST_FILENAME stops at the file, as
	 * Apache's walk leaves it, so PATH_INFO reaches index.php. */
	snprintf(fn, sizeof(fn), "%s/index.php/users/1", root);
	req_init(&r, "/index.php/users/1", NULL, "", "/");
	r.filename = fn;
	CHECK_INT(rewrite_fixup(d, &r), RW_NONE);
	rw_req_clear(&r);
	snprintf(fn, sizeof(fn), "%s/wp-content/style.css/x", root);
	req_init(&r, "/wp-content/style.css/x", NULL, "", "/");
	r.filename = fn;
	CHECK_INT(rewrite_fixup(d, &r), RW_NONE);
	rw_req_clear(&r);
	/* The Authorization header reaches the environment (E=). */
	hdr_name = "Authorization";
	hdr_value = "Basic YTpi";
	req_init(&r, "/index.php", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	CHECK_STR(rw_env_get(&r, "HTTP_AUTHORIZATION"), "Basic YTpi");
	CHECK(!r.uncacheable);	/* E= feeds scripts, not the decision */
	hdr_name = NULL;
	rw_req_clear(&r);
	rw_dir_free(d);
}

/* WordPress in /~alice/blog/ with the RewriteBase its installer writes. */
static void
test_wordpress_userdir(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256], fn[256];

	d = load("RewriteEngine On\nRewriteBase /~alice/blog/\n"
	    "RewriteRule ^index\\.php$ - [L]\n"
	    "RewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\n"
	    "RewriteRule . /~alice/blog/index.php [L]\n", err, sizeof(err));
	CHECK(d != NULL);
	snprintf(fn, sizeof(fn), "%s/blog/2026/12/hello-world/", root);
	req_init(&r, "/~alice/blog/2026/12/hello-world/", NULL, "/~alice", "/~alice/blog/");
	r.filename = fn;
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/~alice/blog/index.php");
	CHECK(r.new_query == NULL);
	rw_req_clear(&r);
	/* The same with RewriteRule . index.php: relative, under the base. */
	rw_dir_free(d);
	d = load("RewriteEngine On\nRewriteBase /~alice/blog/\n"
	    "RewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule . index.php [L]\n", err,
	    sizeof(err));
	req_init(&r, "/~alice/blog/x", NULL, "/~alice", "/~alice/blog/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/~alice/blog/index.php");
	rw_req_clear(&r);
	/* Without RewriteBase: the directory's own URL. */
	rw_dir_free(d);
	d = load("RewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\n"
	    "RewriteRule . index.php [L]\n", err, sizeof(err));
	req_init(&r, "/~alice/blog/x", NULL, "/~alice", "/~alice/blog/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/~alice/blog/index.php");
	rw_req_clear(&r);
	/* A rule pointing out of the locker is refused, with a log line. */
	rw_dir_free(d);
	d = load("RewriteEngine On\nRewriteRule ^x$ /index.php [L]\n"
	    "RewriteRule ^y$ ../../~bob/secret.php [L]\n", err, sizeof(err));
	req_init(&r, "/~alice/blog/x", NULL, "/~alice", "/~alice/blog/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 403);
	CHECK(strstr(lastlog, "outside the locker") != NULL);
	rw_req_clear(&r);
	req_init(&r, "/~alice/blog/y", NULL, "/~alice", "/~alice/blog/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 403);
	rw_req_clear(&r);
	rw_dir_free(d);
}

static void
test_mediawiki(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256];

	d = load("RewriteEngine On\n"
	    "RewriteRule ^/?wiki(/.*)?$ %{DOCUMENT_ROOT}/w/index.php [L]\n"
	    "RewriteRule ^/*$ %{DOCUMENT_ROOT}/w/index.php [L]\n", err, sizeof(err));
	CHECK(d != NULL);
	req_init(&r, "/wiki/Main_Page", "action=edit", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/w/index.php");
	CHECK_STR(r.new_query, "action=edit");
	rw_req_clear(&r);
	req_init(&r, "/", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/w/index.php");
	rw_req_clear(&r);
	/* Under /~alice: DOCUMENT_ROOT is alice's web_scripts. */
	req_init(&r, "/~alice/wiki/Main_Page", NULL, "/~alice", "/~alice/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/~alice/w/index.php");
	rw_req_clear(&r);
	req_init(&r, "/w/index.php", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	rw_dir_free(d);
}

/* Laravel's public/.htaccess and Drupal's front controller lines. */
static void
test_laravel_drupal(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256];

	d = load("Options -MultiViews -Indexes\n", err, sizeof(err));
	CHECK(d == NULL);	/* Options is not ours: htcore's table routes it */
	d = load("RewriteEngine On\n"
	    "RewriteCond %{HTTP:Authorization} .\n"
	    "RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
	    "RewriteCond %{REQUEST_FILENAME} !-d\n"
	    "RewriteCond %{REQUEST_URI} (.+)/$\n"
	    "RewriteRule ^ %1 [L,R=301]\n"
	    "RewriteCond %{REQUEST_FILENAME} !-d\n"
	    "RewriteCond %{REQUEST_FILENAME} !-f\n"
	    "RewriteRule ^ index.php [L]\n", err, sizeof(err));
	CHECK(d != NULL);
	req_init(&r, "/public/users/7/", NULL, "", "/public/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 301);
	CHECK_STR(r.location, "http://alice.example.org/public/users/7");
	rw_req_clear(&r);
	req_init(&r, "/public/users/7", "page=2", "", "/public/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/public/index.php");
	CHECK_STR(r.new_query, "page=2");
	rw_req_clear(&r);
	req_init(&r, "/public/app.js", NULL, "", "/public/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	rw_dir_free(d);

	/* Drupal 7: q= from the path, QSA. */
	d = load("RewriteEngine on\n"
	    "RewriteRule \"/\\.|^\\.(?!well-known/)\" - [F]\n"
	    "RewriteCond %{REQUEST_FILENAME} !-f\n"
	    "RewriteCond %{REQUEST_FILENAME} !-d\n"
	    "RewriteCond %{REQUEST_URI} !=/favicon.ico\n"
	    "RewriteRule ^(.*)$ index.php?q=$1 [L,QSA]\n", err, sizeof(err));
	CHECK(d != NULL);
	req_init(&r, "/node/5", "x=1", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/index.php");
	CHECK_STR(r.new_query, "q=node/5&x=1");
	rw_req_clear(&r);
	req_init(&r, "/favicon.ico", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	req_init(&r, "/.git/config", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 403);
	rw_req_clear(&r);
	req_init(&r, "/.well-known/x", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	rw_req_clear(&r);
	rw_dir_free(d);
}

/* Nextcloud's and Joomla's common lines. */
static void
test_nextcloud_joomla(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256];

	d = load("RewriteEngine on\n"
	    "RewriteRule .* - [env=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
	    "RewriteRule ^\\.well-known/carddav /remote.php/dav/ [R=301,L]\n"
	    "RewriteRule ^\\.well-known/caldav /remote.php/dav/ [R=301,L]\n"
	    "RewriteRule ^remote/(.*) remote.php [QSA,L]\n"
	    "RewriteRule ^(?:build|tests|config|lib|3rdparty|templates)/.* - [R=404,L]\n"
	    "RewriteRule ^(?:\\.|autotest|occ|issue|indie|db_|console).* - [R=404,L]\n",
	    err, sizeof(err));
	/* R=404: no redirect, the substitution dropped, a 404 (as Apache 2.4) */
	CHECK(d != NULL);
	req_init(&r, "/occ", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 404);
	CHECK(r.location == NULL);
	rw_req_clear(&r);
	req_init(&r, "/lib/base.txt", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 404);
	rw_req_clear(&r);
	rw_dir_free(d);
	d = load("RewriteEngine on\n"
	    "RewriteRule ^\\.well-known/carddav /remote.php/dav/ [R=301,L]\n"
	    "RewriteRule ^remote/(.*) remote.php [QSA,L]\n"
	    "RewriteRule ^(?:build|tests|config|lib|3rdparty|templates)/.* - [F,L]\n", err,
	    sizeof(err));
	CHECK(d != NULL);
	req_init(&r, "/.well-known/carddav", NULL, "", "/");
	r.https = 1;
	r.host = "cloud.example.org:8443";
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 301);
	CHECK_STR(r.location, "https://cloud.example.org:8443/remote.php/dav/");
	rw_req_clear(&r);
	req_init(&r, "/config/config.php", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 403);
	rw_req_clear(&r);
	req_init(&r, "/remote/webdav", "a=b", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/remote.php");
	CHECK_STR(r.new_query, "a=b");
	rw_req_clear(&r);
	rw_dir_free(d);

	/* Joomla: base64 in the query gets a 403; the front controller. */
	d = load("RewriteEngine On\n"
	    "RewriteCond %{QUERY_STRING} base64_encode[^(]*\\([^)]*\\) [OR]\n"
	    "RewriteCond %{QUERY_STRING} (<|%3C)([^s]*s)+cript.*(>|%3E) [NC,OR]\n"
	    "RewriteCond %{QUERY_STRING} GLOBALS(=|\\[|\\%[0-9A-Z]{0,2}) [OR]\n"
	    "RewriteCond %{QUERY_STRING} _REQUEST(=|\\[|\\%[0-9A-Z]{0,2})\n"
	    "RewriteRule .* index.php [F]\n"
	    "RewriteCond %{REQUEST_URI} !^/index\\.php\n"
	    "RewriteCond %{REQUEST_FILENAME} !-f\n"
	    "RewriteCond %{REQUEST_FILENAME} !-d\n"
	    "RewriteRule .* index.php [L]\n", err, sizeof(err));
	CHECK(d != NULL);
	req_init(&r, "/x", "q=%3CSCRIPT%3E", "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 403);
	CHECK(r.uncacheable);
	rw_req_clear(&r);
	req_init(&r, "/x", "GLOBALS=1", "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	rw_req_clear(&r);
	req_init(&r, "/component/content", "id=3", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/index.php");
	rw_req_clear(&r);
	rw_dir_free(d);
}

/* HTTPS forcing and www. canonicalisation. */
static void
test_https_www(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256];

	d = load("RewriteEngine On\n"
	    "RewriteCond %{HTTPS} off\n"
	    "RewriteRule ^(.*)$ https://%{HTTP_HOST}%{REQUEST_URI} [L,R=301]\n"
	    "RewriteCond %{HTTP_HOST} !^www\\. [NC]\n"
	    "RewriteRule ^ https://www.%{HTTP_HOST}%{REQUEST_URI} [L,R=301,NE]\n", err,
	    sizeof(err));
	CHECK(d != NULL);
	hdr_name = "Host";
	hdr_value = "alice.example.org";
	req_init(&r, "/a b/c", "x=1", "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 301);
	CHECK_STR(r.location, "https://alice.example.org/a%20b/c?x=1");
	CHECK(r.uncacheable);
	rw_req_clear(&r);
	req_init(&r, "/p", NULL, "", "/");
	r.https = 1;
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_STR(r.location, "https://www.alice.example.org/p");
	rw_req_clear(&r);
	hdr_value = "www.alice.example.org";
	req_init(&r, "/p", NULL, "", "/");
	r.https = 1;
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	/* A client certificate's name through %{SSL:...}. */
	rw_dir_free(d);
	d = load("RewriteEngine On\nRewriteCond %{SSL:SSL_CLIENT_S_DN_CN} !=alice\n"
	    "RewriteRule ^admin - [F]\n", err, sizeof(err));
	req_init(&r, "/admin/x", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	rw_req_clear(&r);
	req_init(&r, "/admin/x", NULL, "", "/");
	r.ssl = sslvar;
	CHECK_INT(run(d, &r), RW_NONE);
	CHECK(r.uncacheable);
	rw_req_clear(&r);
	rw_dir_free(d);
	d = load("RewriteEngine On\n"
	    "RewriteRule ^ https://www.%{HTTP_HOST}%{REQUEST_URI} [L,R=301,NE]\n", err,
	    sizeof(err));
	/* A header cannot bend the Location line, [NE] or not. */
	hdr_value = "evil\r\nSet-Cookie: a=b";
	req_init(&r, "/p", NULL, "", "/");
	r.https = 1;
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK(strchr(r.location, '\r') == NULL && strchr(r.location, '\n') == NULL);
	rw_req_clear(&r);
	hdr_name = NULL;
	rw_dir_free(d);
}

static void
test_flags(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256];

	d = load("RewriteEngine On\n"
	    "RewriteRule ^old$ - [G]\n"
	    "RewriteRule ^a$ b [C]\nRewriteRule ^b$ c [L]\n"
	    "RewriteRule ^s$ - [S=1]\nRewriteRule ^s$ never [L]\nRewriteRule ^s$ skipped [L]\n"
	    "RewriteRule ^q$ new?x=1 [QSA,L]\n"
	    "RewriteRule ^qd$ new [QSD,L]\n"
	    "RewriteRule ^qq$ new? [L]\n"
	    "RewriteRule ^t$ data.txt [T=text/plain,E=FOO:bar,L]\n"
	    "RewriteRule ^t2$ - [T=text/plain,L]\n"
	    "RewriteRule ^NC$ nocase [NC,L]\n"
	    "RewriteRule ^b/(.*)$ x?v=$1 [B,L]\n"
	    "RewriteRule ^end$ final [END]\n"
	    "RewriteRule ^n/(.*)/(.*)$ n/$1-$2 [N,DPI]\n"
	    "RewriteRule ^n/(.*)$ done-$1 [L]\n"
	    "RewriteRule ^self$ self [L]\n"
	    "RewriteRule ^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)$ $9$8-$1 [L]\n"
	    "RewriteRule ^u/(.*) http://elsewhere.example/$1 [L]\n"
	    "RewriteRule ^h/(.*) http://alice.example.org/h2/$1 [L]\n", err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	req_init(&r, "/old", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 410);
	rw_req_clear(&r);
	req_init(&r, "/a", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/c");
	rw_req_clear(&r);
	req_init(&r, "/s", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/skipped");
	rw_req_clear(&r);
	req_init(&r, "/q", "y=2", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_query, "x=1&y=2");
	rw_req_clear(&r);
	req_init(&r, "/qd", "y=2", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK(r.new_query == NULL);
	rw_req_clear(&r);
	req_init(&r, "/qq", "y=2", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK(r.new_query == NULL);
	rw_req_clear(&r);
	req_init(&r, "/t", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK(r.content_type == NULL);	/* lost at the internal redirect, as in Apache */
	CHECK_STR(rw_env_get(&r, "FOO"), "bar");
	rw_req_clear(&r);
	req_init(&r, "/t2", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	CHECK_STR(r.content_type, "text/plain");
	rw_req_clear(&r);
	req_init(&r, "/nc", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/nocase");
	rw_req_clear(&r);
	req_init(&r, "/b/a b&c.d_e", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_query, "v=a+b%26c%2ed_e");
	rw_req_clear(&r);
	req_init(&r, "/end", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK(r.ended);
	r.uri = "/final";	/* the next pass: nothing more */
	CHECK_INT(rewrite_fixup(d, &r), RW_NONE);
	rw_req_clear(&r);
	req_init(&r, "/n/a/b/c", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/done-a-b-c");
	rw_req_clear(&r);
	req_init(&r, "/abcdefghijkl", NULL, "", "/");	/* more groups than $0-$9 */
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/ih-a");
	rw_req_clear(&r);
	req_init(&r, "/self", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);	/* the same URI back: Apache ignores it */
	rw_req_clear(&r);
	req_init(&r, "/u/x y", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 302);
	CHECK_STR(r.location, "http://elsewhere.example/x%20y");
	rw_req_clear(&r);
	req_init(&r, "/h/z", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);	/* our own host: reduced to a path */
	CHECK_STR(r.new_uri, "/h2/z");
	rw_req_clear(&r);
	rw_dir_free(d);
}

static void
test_loops_and_limits(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256], big[30008];
	struct timespec	 t0, t1;
	int		 i;

	d = load("RewriteEngine On\nRewriteRule ^(.*)$ x$1\n", err, sizeof(err));
	req_init(&r, "/a", NULL, "", "/");
	for (i = 0; i < 20 && run(d, &r) == RW_INTERNAL; i++) {
		static char next[4096];

		snprintf(next, sizeof(next), "%s", r.new_uri);
		r.uri = next;
	}
	CHECK_INT(r.status, 500);
	CHECK_INT(r.internal, RW_MAX_INTERNAL + 1);
	CHECK(strstr(lastlog, "internal redirects") != NULL);
	rw_req_clear(&r);
	rw_dir_free(d);

	d = load("RewriteEngine On\nRewriteRule ^(.*)$ $1 [N]\nRewriteRule ^(a)$ b\n", err,
	    sizeof(err));
	req_init(&r, "/a", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 500);
	rw_req_clear(&r);
	rw_dir_free(d);

	/* A pattern that backtracks catastrophically gives up soon. */
	d = load("RewriteEngine On\nRewriteRule ^(a+)+$ caught [L]\n", err, sizeof(err));
	memset(big, 'a', 30000);
	memcpy(big, "/", 1);
	strcpy(big + 30000, "b");
	req_init(&r, big, NULL, "", "/");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(run(d, &r), RW_NONE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
	CHECK(strstr(lastlog, "PCRE2's limits") != NULL);
	rw_req_clear(&r);
	rw_dir_free(d);
}

static void
test_file_tests(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256];

	d = load("RewriteEngine On\n"
	    "RewriteCond %{DOCUMENT_ROOT}/link -l\nRewriteRule ^l$ islink [L]\n"
	    "RewriteCond %{DOCUMENT_ROOT}/link -f\nRewriteRule ^lf$ linkfile [L]\n"
	    "RewriteCond %{DOCUMENT_ROOT}/abslink -f\nRewriteRule ^af$ abslink [L]\n"
	    "RewriteCond %{DOCUMENT_ROOT}/empty !-s\nRewriteRule ^s$ empty [L]\n"
	    "RewriteCond /etc/passwd -f\nRewriteRule ^etc$ outside [L]\n"
	    "RewriteCond %{DOCUMENT_ROOT}/../../etc/passwd -f\nRewriteRule ^up$ up [L]\n"
	    "RewriteCond %{REQUEST_METHOD} =POST\nRewriteRule ^m$ posted [L]\n"
	    "RewriteCond %{SERVER_PORT} -eq 80\nRewriteRule ^p$ port80 [L]\n", err,
	    sizeof(err));
	CHECK(d != NULL);
	req_init(&r, "/l", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	rw_req_clear(&r);
	/* The link points out of web_scripts: not a file as far as we see. */
	req_init(&r, "/lf", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	req_init(&r, "/af", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	rw_req_clear(&r);
	req_init(&r, "/s", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	rw_req_clear(&r);
	req_init(&r, "/etc", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	req_init(&r, "/up", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	req_init(&r, "/m", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	r.method = "POST";
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/posted");
	rw_req_clear(&r);
	req_init(&r, "/p", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	rw_req_clear(&r);
	rw_dir_free(d);
}

static void
test_alias(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256];

	d = load("Redirect /old http://new.example/\n"
	    "Redirect permanent /perm/ /elsewhere/\n"
	    "Redirect gone /dead\n"
	    "RedirectMatch 301 ^/img/(.*)\\.gif$ /png/$1.png\n"
	    "RedirectPermanent /p2 https://x.example/p2\n"
	    "RedirectTemp /t2 https://x.example/t2\n"
	    "Redirect 410 /gone-too\n"
	    "RedirectMatch 404 /\\.svn\n"
	    "RedirectMatch (?i)\\.PDF$ /documents.html\n"
	    "Redirect seeother /other /target-other\n", err, sizeof(err));
	CHECK(d != NULL);
	req_init(&r, "/old/a b", "q=1", "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 302);
	CHECK_STR(r.location, "http://new.example//a%20b?q=1");
	rw_req_clear(&r);
	req_init(&r, "/older", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	rw_req_clear(&r);
	req_init(&r, "/perm/x", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 301);
	CHECK_STR(r.location, "http://alice.example.org/elsewhere/x");
	rw_req_clear(&r);
	/* A Host without a port: the listener's, as Apache writes it. */
	req_init(&r, "/perm/x", NULL, "", "/");
	r.port = 8080;
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_STR(r.location, "http://alice.example.org:8080/elsewhere/x");
	rw_req_clear(&r);
	req_init(&r, "/perm/x", NULL, "", "/");
	r.port = 8080;
	r.host = "alice.example.org:9";
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_STR(r.location, "http://alice.example.org:9/elsewhere/x");
	rw_req_clear(&r);
	req_init(&r, "/dead", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 410);
	CHECK(r.location == NULL);
	rw_req_clear(&r);
	req_init(&r, "/img/cat.gif", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_STR(r.location, "http://alice.example.org/png/cat.png");
	rw_req_clear(&r);
	req_init(&r, "/p2", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 301);
	rw_req_clear(&r);
	req_init(&r, "/gone-too", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 410);
	rw_req_clear(&r);
	req_init(&r, "/x/.svn/entries", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 404);
	CHECK(r.location == NULL);
	rw_req_clear(&r);
	req_init(&r, "/report.pdf", "a=1", "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 302);
	CHECK_STR(r.location, "http://alice.example.org/documents.html?a=1");
	rw_req_clear(&r);
	req_init(&r, "/other", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 303);
	rw_req_clear(&r);
	rw_dir_free(d);
}

static void
test_merge(void)
{
	struct rw_dir	*p, *c, *m;
	struct rw_req	 r;
	char		 err[256];

	p = load("RewriteEngine On\nRewriteBase /\nRewriteRule ^x$ parent [L]\n"
	    "Redirect /r http://p.example/\n", err, sizeof(err));
	c = load("RewriteRule ^y$ child [L]\nRedirect /r http://c.example/\n", err,
	    sizeof(err));
	m = rw_merge(p, c);
	req_init(&r, "/sub/x", NULL, "", "/sub/");
	CHECK_INT(run(m, &r), RW_NONE);	/* not inherited */
	rw_req_clear(&r);
	req_init(&r, "/sub/y", NULL, "", "/sub/");
	CHECK_INT(run(m, &r), RW_INTERNAL);	/* engine on from the parent */
	CHECK_STR(r.new_uri, "/sub/child");	/* not the parent's base (2.4.4 on) */
	rw_req_clear(&r);
	req_init(&r, "/r", NULL, "", "/sub/");
	CHECK_INT(alias_fixup(m, &r), RW_STATUS);
	CHECK_STR(r.location, "http://c.example/");	/* the child's first */
	rw_req_clear(&r);
	rw_dir_free(m);
	rw_dir_free(c);

	c = load("RewriteOptions Inherit\nRewriteRule ^y$ child [L]\n", err, sizeof(err));
	m = rw_merge(p, c);
	req_init(&r, "/sub/x", NULL, "", "/sub/");
	CHECK_INT(run(m, &r), RW_INTERNAL);
	/* The parent's rule, run where the child is (Apache's perdir prefix). */
	CHECK_STR(r.new_uri, "/sub/parent");
	rw_req_clear(&r);
	rw_dir_free(m);
	rw_dir_free(c);

	/* MergeBase: the parent's base holds below, and the option too. */
	rw_dir_free(p);
	p = load("RewriteEngine On\nRewriteOptions MergeBase\nRewriteBase /\n"
	    "RewriteRule ^x$ parent [L]\n", err, sizeof(err));
	c = load("RewriteRule ^y$ child [L]\n", err, sizeof(err));
	m = rw_merge(p, c);
	req_init(&r, "/sub/y", NULL, "", "/sub/");
	CHECK_INT(run(m, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/child");
	rw_req_clear(&r);
	rw_dir_free(m);
	rw_dir_free(c);
	/* A .htaccess without rewrite lines: the parent's part as it is. */
	rw_set_dir(p, "");
	m = rw_merge(p, NULL);
	CHECK_STR(rw_get_dir(m), "");
	req_init(&r, "/sub/x", NULL, "", "/");
	CHECK_INT(rewrite_fixup(m, &r), RW_NONE);	/* "sub/x", not "x" */
	rw_req_clear(&r);
	req_init(&r, "/x", NULL, "", "/");
	CHECK_INT(rewrite_fixup(m, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/parent");
	rw_req_clear(&r);
	rw_dir_free(m);
	rw_dir_free(p);
}

/* [CO]: Apache's Set-Cookie line, set once per name, also with [F] and [R]. */
static void
test_cookie_flag(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256], *line;

	line = rw_cookie_line("sid:abc:.example.org", 0);
	CHECK_STR(line, "sid=abc; path=/; domain=.example.org");
	free(line);
	/* 1,000,000 minutes after the epoch, secure, HttpOnly, SameSite. */
	line = rw_cookie_line("a:b:ex.org:1000000:/p:true:1:Strict", 0);
	CHECK_STR(line, "a=b; path=/p; domain=ex.org; expires=Fri, 26-Nov-1971 10:40:00 GMT; "
	    "secure; HttpOnly; SameSite=Strict");
	free(line);
	line = rw_cookie_line("a:b:ex.org:0:/:no:no:false", 0);
	CHECK_STR(line, "a=b; path=/; domain=ex.org");
	free(line);
	line = rw_cookie_line(";a;b:c;ex.org", 0);	/* ';' between, so a ':' in the value */
	CHECK_STR(line, "a=b:c; path=/; domain=ex.org");
	free(line);
	CHECK(rw_cookie_line("a:b", 0) == NULL);	/* no domain: Apache sets nothing */
	CHECK(rw_cookie_same("a=1; path=/", "a=2"));
	CHECK(!rw_cookie_same("a=1", "ab=1"));

	d = load("RewriteEngine On\n"
	    "RewriteRule ^co$ show.php [CO=seen:%{QUERY_STRING}:.example.org,CO=seen:again:x.org,"
	    "CO=lang:en:x.org:60,L]\n"
	    "RewriteRule ^deny$ - [CO=tried:1:x.org,F]\n"
	    "RewriteRule ^go$ /there [CO=went:1:x.org,R=302,L]\n"
	    "RewriteRule ^short$ - [CO=x:y]\n", err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	req_init(&r, "/co", "v=1", "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_INT((int)r.ncookies, 2);
	if (r.ncookies == 2) {
		CHECK_STR(r.cookies[0], "seen=v=1; path=/; domain=.example.org");
		CHECK(strncmp(r.cookies[1], "lang=en; path=/; domain=x.org; expires=", 39) == 0);
	}
	CHECK(r.uncacheable);
	rw_req_clear(&r);
	req_init(&r, "/deny", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 403);
	CHECK_INT((int)r.ncookies, 1);
	rw_req_clear(&r);
	req_init(&r, "/go", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_STATUS);
	CHECK_INT(r.status, 302);
	CHECK_INT((int)r.ncookies, 1);
	rw_req_clear(&r);
	req_init(&r, "/short", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	CHECK_INT((int)r.ncookies, 0);
	rw_req_clear(&r);
	rw_dir_free(d);
}

/*
 * [DPI]: after a substitution, a per-directory rule sees the file name
 * so far with the walk's PATH_INFO appended (Apache's), so a rule that
 * copied it sees it twice unless [DPI] dropped it; %{PATH_INFO}.
 */
static void
test_discard_path(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256];

	d = load("RewriteEngine On\n"
	    "RewriteRule ^twice/(.*)$ show.php/$1\n"
	    "RewriteRule ^once/(.*)$ show.php/$1 [DPI]\n"
	    "RewriteRule ^show\\.php/(.*)$ show.php?got=$1 [L]\n"
	    "RewriteRule ^pi/ show.php?pi=%{PATH_INFO} [L]\n", err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	req_init(&r, "/twice/a/b", NULL, "", "/");	/* twice/ does not exist */
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_query, "got=a/b/a/b");
	rw_req_clear(&r);
	req_init(&r, "/once/a/b", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_query, "got=a/b");
	rw_req_clear(&r);
	req_init(&r, "/pi/x/y", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_query, "pi=/x/y");
	rw_req_clear(&r);
	rw_dir_free(d);

	/* After a substitution, REQUEST_FILENAME is the substitution's file. */
	d = load("RewriteEngine On\n"
	    "RewriteRule ^fn/(.*)$ sub/$1 [DPI]\n"
	    "RewriteCond %{REQUEST_FILENAME} -f\n"
	    "RewriteRule ^sub/(.*)$ show.php?exists=$1 [L]\n"
	    "RewriteRule ^sub/(.*)$ show.php?missing=$1 [L]\n", err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	mkfile("sub/there.txt", "x");
	req_init(&r, "/fn/there.txt", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_query, "exists=there.txt");
	rw_req_clear(&r);
	req_init(&r, "/fn/nothere.txt", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.new_query, "missing=nothere.txt");
	rw_req_clear(&r);
	rw_dir_free(d);
}

/* RewriteOptions InheritDown(Before) push a parent's rules down; IgnoreInherit refuses them. */
static void
test_inherit_down(void)
{
	struct rw_dir	*p, *c, *m, *c2, *m2;
	struct rw_req	 r;
	char		 err[256];

	p = load("RewriteEngine On\nRewriteOptions InheritDown\nRewriteRule ^x$ parent [L]\n",
	    err, sizeof(err));
	c = load("RewriteRule ^y$ child [L]\n", err, sizeof(err));
	m = rw_merge(p, c);
	req_init(&r, "/sub/x", NULL, "", "/sub/");
	CHECK_INT(run(m, &r), RW_INTERNAL);
	CHECK_STR(r.new_uri, "/sub/parent");
	rw_req_clear(&r);
	/* and further down, through a child that said nothing of it */
	c2 = load("RewriteRule ^z$ grandchild [L]\n", err, sizeof(err));
	m2 = rw_merge(m, c2);
	req_init(&r, "/sub/deeper/x", NULL, "", "/sub/deeper/");
	CHECK_INT(run(m2, &r), RW_INTERNAL);
	rw_req_clear(&r);
	rw_dir_free(m2);
	rw_dir_free(c2);
	rw_dir_free(m);
	rw_dir_free(c);
	c = load("RewriteOptions IgnoreInherit\nRewriteRule ^y$ child [L]\n", err, sizeof(err));
	m = rw_merge(p, c);
	req_init(&r, "/sub/x", NULL, "", "/sub/");
	CHECK_INT(run(m, &r), RW_NONE);
	rw_req_clear(&r);
	rw_dir_free(m);
	rw_dir_free(c);
	rw_dir_free(p);
	/* N=rounds: a loop stops there (500), a shorter one ends. */
	p = load("RewriteEngine On\nRewriteRule ^a(.*)$ $1 [N=3]\nRewriteRule ^$ done [L]\n", err,
	    sizeof(err));
	CHECK(p != NULL);
	if (p != NULL) {
		req_init(&r, "/a", NULL, "", "/");
		CHECK_INT(run(p, &r), RW_INTERNAL);	/* one restart: "" */
		CHECK_STR(r.new_uri, "/done");
		rw_req_clear(&r);
		req_init(&r, "/aa", NULL, "", "/");	/* two: Apache's 500 at N=3 */
		CHECK_INT(run(p, &r), RW_STATUS);
		CHECK_INT(r.status, 500);
		rw_req_clear(&r);
		rw_dir_free(p);
	}
	p = load("RewriteRule ^a$ b [N=x]\n", err, sizeof(err));
	CHECK(p == NULL && strstr(err, "N= needs") != NULL);
	rw_dir_free(p);
	p = load("RewriteRule ^a$ b [L,UnsafeAllow3F,UnsafePrefixStat]\n", err, sizeof(err));
	CHECK(p != NULL);
	rw_dir_free(p);
	/* Apache takes and ignores these. */
	p = load("RewriteOptions AllowAnyURI MaxRedirects=5 LegacyPrefixDocRoot\n", err,
	    sizeof(err));
	CHECK(p != NULL);
	rw_dir_free(p);
}

/* Vary: the headers an applied rule's conditions read and found; not
 * Host, not with [NV], not a false [OR]'s, nothing for a rule not applied. */
static void
test_vary(void)
{
	struct rw_dir	*d;
	struct rw_req	 r;
	char		 err[256], list[16] = "";

	d = load("RewriteEngine On\n"
	    "RewriteCond %{HTTP_USER_AGENT} bot [OR]\n"
	    "RewriteCond %{HTTP:X-Other} x\n"
	    "RewriteRule ^v$ a [L]\n"
	    "RewriteCond %{HTTP:User-Agent} bot [NV]\n"
	    "RewriteRule ^nv$ b [L]\n", err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	hdr_name = "User-Agent";
	hdr_value = "a bot";
	req_init(&r, "/v", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.vary, "User-Agent");
	rw_req_clear(&r);
	req_init(&r, "/nv", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_INTERNAL);
	CHECK_STR(r.vary, "");
	rw_req_clear(&r);
	hdr_value = "a person";
	req_init(&r, "/v", NULL, "", "/");
	CHECK_INT(run(d, &r), RW_NONE);
	CHECK_STR(r.vary, "");
	rw_req_clear(&r);
	hdr_name = hdr_value = NULL;
	rw_dir_free(d);

	rw_vary_merge(list, sizeof(list), "A,B");
	rw_vary_merge(list, sizeof(list), "b,C");
	CHECK_STR(list, "A,B,C");
	rw_vary_merge(list, sizeof(list), "a-very-long-header-name");	/* kept out: no room */
	CHECK_STR(list, "A,B,C");
	CHECK(rw_vary_header("HTTP_ACCEPT_LANGUAGE", err, sizeof(err)) != NULL &&
	    strcmp(err, "Accept-Language") == 0);
	CHECK(rw_vary_header("HTTP:Host", err, sizeof(err)) == NULL);
	CHECK(rw_vary_header("HTTP:a b", err, sizeof(err)) == NULL);
	CHECK(rw_vary_header("QUERY_STRING", err, sizeof(err)) == NULL);
}

static void
test_errors(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "RewriteEngine maybe", "on or off" },
		{ "RewriteRule ^(a x [L]", "bad regular expression" },
		{ "RewriteRule ^a$ http://x/ [P]", "proxying is not offered" },
		{ "RewriteRule ^a$ b L", "brackets" },
		{ "RewriteRule ^a$ b [Q]", "unknown RewriteRule flag 'Q'" },
		{ "RewriteRule ^a$ b [R=200]", "not a status of 300 to 599" },
		{ "RewriteRule ^a$ b [R=600]", "not a status of 300 to 599" },
		{ "RewriteRule ^a$ ${map:x}", "RewriteMap" },
		{ "RewriteCond %{X} -Z", "not offered" },
		{ "RewriteCond %{X} a [XX]", "unknown RewriteCond flag" },
		{ "RewriteCond %{X}", "TESTSTRING CONDPATTERN" },
		{ "RewriteBase relative/", "starting with '/'" },
		{ "RewriteOptions LongURLOptimization", "unknown option 'LongURLOptimization'" },
		{ "RewriteMap m txt:/etc/passwd", "not allowed here" },
		{ "Redirect gone /x http://y/", "takes no URL" },
		{ "Redirect 404 /x http://y/", "takes no URL" },
		{ "Redirect 700 /x", "not a status" },
		{ "Redirect 101 /x", "not a status" },
		{ "RedirectMatch 200 ^/x", "not a status" },
		{ "Redirect /x", "Redirect takes" },
		{ "RedirectMatch ^(x http://y", "bad regular expression" },
		{ "RewriteRule ^a$ b [S=x]", "S= needs" },
		{ "RewriteRule ^a$ b [E=]", "needs a value" },
	};
	struct rw_dir	*d;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = load(bad[i].text, err, sizeof(err));
		CHECK(d == NULL);
		if (strstr(err, bad[i].want) == NULL)
			fprintf(stderr, "'%s': '%s' lacks '%s'\n", bad[i].text, err, bad[i].want);
		CHECK(strstr(err, bad[i].want) != NULL);
		rw_dir_free(d);
	}
	CHECK(rw_is_directive("rewriterule"));
	CHECK(!rw_is_directive("Require"));
}

int
main(void)
{
	snprintf(root, sizeof(root), "/tmp/test_rewrite.XXXXXX");
	if (mkdtemp(root) == NULL)
		abort();
	mkdirs();
	if ((rootfd = open(root, O_PATH | O_DIRECTORY)) == -1)
		abort();
	test_wordpress();
	test_wordpress_userdir();
	test_mediawiki();
	test_laravel_drupal();
	test_nextcloud_joomla();
	test_https_www();
	test_flags();
	test_loops_and_limits();
	test_file_tests();
	test_alias();
	test_merge();
	test_cookie_flag();
	test_discard_path();
	test_inherit_down();
	test_vary();
	test_errors();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		if (system(cmd) != 0)
			CHECK(0);
	}
	UNIT_DONE();
}
