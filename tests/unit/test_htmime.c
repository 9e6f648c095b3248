/* test_htmime: AddEncoding/RemoveEncoding, FileETag, merged as Apache does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htaccess.h"
#include "htcore.h"
#include "htwalk.h"
#include "http.h"
#include "lockerd.h"
#include "unit.h"

static struct ht_dir *
parse(const char *text, const char *dir, char *err, size_t errlen)
{
	struct ht_parse	p;
	struct ht_dir	*d;

	memset(&p, 0, sizeof(p));
	p.file = "t/.htaccess";
	p.dir = dir;
	if ((d = ht_parse_file(&p, text, strlen(text))) == NULL)
		snprintf(err, errlen, "%s", p.err);
	return d;
}

static const char *
parse_error(const char *text)
{
	static char	err[512];
	struct ht_dir	*d;

	err[0] = '\0';
	if ((d = parse(text, "", err, sizeof(err))) != NULL)
		ht_dir_free(d);
	return err;
}

/* The docs phase for path under parent's file, and child's (NULL: none) below it. */
static int
run(const char *parent, const char *child, const char *path, struct ht_req *r)
{
	struct ht_chain	ch;
	struct ht_conf	c;
	char		err[512];
	int		rc, i;

	memset(r, 0, sizeof(*r));
	memset(&ch, 0, sizeof(ch));
	r->method = HTTP_M_GET;
	r->method_str = "GET";
	r->cacheable = 1;
	r->headers = "";
	r->path = strdup(path);
	r->uri = strdup(path);
	r->query = strdup("");
	if ((ch.d[ch.n++] = parse(parent, "", err, sizeof(err))) == NULL ||
	    (child != NULL && (ch.d[ch.n++] = parse(child, "sub/", err, sizeof(err))) == NULL)) {
		fprintf(stderr, "parse: %s\n", err);
		CHECK(0);
		return -1;
	}
	rc = ht_conf_build(&ch, strrchr(path, '/') + 1, r, &c);
	CHECK_INT(rc, 0);
	if (rc == 0)
		rc = ht_run_phase(&c, HT_PH_DOCS, r);
	ht_conf_free(&c);
	for (i = 0; i < ch.n; i++)
		ht_dir_free(ch.d[i]);
	return rc;
}

static const char *
header(const struct ht_req *r, const char *name)
{
	int i;

	for (i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

static int
is_static(const char *ext)
{
	return strcmp(ext, "txt") == 0 || strcmp(ext, "css") == 0 || strcmp(ext, "tar") == 0;
}

static void
test_encoding(void)
{
	struct ht_req r;

	/* Drupal's and Nextcloud's lines: the type from AddType, the coding beside it. */
	CHECK_INT(run("AddType image/svg+xml svg svgz\nAddEncoding gzip svgz\n", NULL,
	    "/a.svgz", &r), 0);
	CHECK_STR(header(&r, "Content-Encoding"), "gzip");
	CHECK_STR(r.content_type, "image/svg+xml");
	ht_req_free(&r);
	/* Every extension's, in the name's order; values lower-cased as mod_mime's. */
	CHECK_INT(run("AddEncoding X-GZIP .gz\nAddEncoding br .BR\n", NULL,
	    "/x.tar.gz.br", &r), 0);
	CHECK_STR(header(&r, "Content-Encoding"), "x-gzip, br");
	CHECK_INT(r.ext_meta, 0x6);
	/* the type is the static extension before them */
	CHECK_STR(ht_type_ext(&r, "x.tar.gz.br", is_static, "br"), "tar");
	ht_req_free(&r);
	/* RemoveEncoding below: the parent's is gone there only. */
	CHECK_INT(run("AddEncoding gzip gz\n", "RemoveEncoding .gz\n", "/sub/b.css.gz", &r), 0);
	CHECK(header(&r, "Content-Encoding") == NULL);
	CHECK_INT(r.ext_meta, 0);
	CHECK_STR(ht_type_ext(&r, "sub/b.css.gz", is_static, "gz"), "gz");
	ht_req_free(&r);
	CHECK_INT(run("AddEncoding gzip gz\n", "AddType text/plain log\n", "/sub/b.css.gz", &r),
	    0);
	CHECK_STR(header(&r, "Content-Encoding"), "gzip");
	ht_req_free(&r);
	/* An unknown last extension is not passed over: a backup stays refused. */
	CHECK_INT(run("AddEncoding gzip gz\n", NULL, "/config.txt.bak", &r), 0);
	CHECK_STR(ht_type_ext(&r, "config.txt.bak", is_static, "bak"), "bak");
	ht_req_free(&r);
	/* AddCharset's extension counts too (c.txt.utf8), lower-cased */
	CHECK_INT(run("AddCharset UTF-8 .utf8\n", NULL, "/c.txt.utf8", &r), 0);
	CHECK_STR(ht_type_ext(&r, "c.txt.utf8", is_static, "utf8"), "txt");
	CHECK_STR(r.charset, "utf-8");
	ht_req_free(&r);
}

static void
test_fileetag(void)
{
	struct ht_req r;

	CHECK_INT(run("AddType text/plain log\n", NULL, "/a.txt", &r), 0);
	CHECK_INT(r.etag, 0);
	CHECK_INT(ht_etag_flags(&r), 0);
	ht_req_free(&r);
	/* Roundcube's: Apache's default said out loud. */
	CHECK_INT(run("FileETag MTime Size\n", NULL, "/a.txt", &r), 0);
	CHECK_INT(r.etag, HT_ETAG_SET | HT_ETAG_MTIME | HT_ETAG_SIZE);
	CHECK_INT(ht_etag_flags(&r), 0);
	ht_req_free(&r);
	CHECK_INT(run("FileETag None\n", NULL, "/a.txt", &r), 0);
	CHECK_INT(ht_etag_flags(&r), WRESP_ETAG_NOMTIME | WRESP_ETAG_NOSIZE);
	ht_req_free(&r);
	CHECK_INT(run("FileETag All\n", "FileETag -INode -Size\n", "/sub/a.txt", &r), 0);
	CHECK_INT(r.etag, HT_ETAG_SET | HT_ETAG_MTIME);
	CHECK_INT(ht_etag_flags(&r), WRESP_ETAG_NOSIZE);
	ht_req_free(&r);
	CHECK_INT(run("FileETag None\n", "FileETag +INode\n", "/sub/a.txt", &r), 0);
	CHECK_INT(ht_etag_flags(&r), WRESP_ETAG_INODE | WRESP_ETAG_NOMTIME | WRESP_ETAG_NOSIZE);
	ht_req_free(&r);
	/* in <Files> */
	CHECK_INT(run("<Files \"*.txt\">\nFileETag INode MTime Size\n</Files>\n", NULL, "/a.txt",
	    &r), 0);
	CHECK_INT(ht_etag_flags(&r), WRESP_ETAG_INODE);
	ht_req_free(&r);
}

static void
test_errors(void)
{
	CHECK(strstr(parse_error("FileETag"), "needs an argument") != NULL);
	CHECK(strstr(parse_error("FileETag Digest"), "unknown keyword") != NULL);
	CHECK(strstr(parse_error("FileETag MTime +Size"), "either all") != NULL);
	CHECK(strstr(parse_error("FileETag None Size"), "stands alone") != NULL);
	CHECK(strstr(parse_error("AddEncoding gzip"), "an encoding and an extension") != NULL);
	CHECK(strstr(parse_error("AddEncoding gzip,br gz"), "not an encoding") != NULL);
	CHECK(strstr(parse_error("RemoveEncoding"), "needs an extension") != NULL);
	CHECK_STR(parse_error("<IfModule mod_mime.c>\nAddEncoding x-compress .Z\n</IfModule>"), "");
}

int
main(void)
{
	test_encoding();
	test_fileetag();
	test_errors();
	UNIT_DONE();
}
