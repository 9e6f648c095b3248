/* test_htdocs: Header's operations in order, Expires, ErrorDocument, merges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "htaccess.h"
#include "htdocs.h"
#include "http.h"
#include "unit.h"

static struct ht_dir *
parse(const char *text, char *err, size_t errlen)
{
	struct ht_parse	p;
	struct ht_dir	*d;

	memset(&p, 0, sizeof(p));
	p.file = "t/.htaccess";
	p.dir = "";
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
	if ((d = parse(text, err, sizeof(err))) != NULL)
		ht_dir_free(d);
	return err;
}

/* The value of the field name in the table (always or not), or NULL; *count of them. */
static const char *
field(const struct ht_req *r, const char *name, int always, int *count)
{
	const char	*v = NULL;
	int		 i, n = 0;

	for (i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0 &&
		    !!(r->hdr[i].flag & HT_HDR_ALWAYS) == always) {
			if (v == NULL)
				v = r->hdr[i].value;
			n++;
		}
	if (count != NULL)
		*count = n;
	return v;
}

static char	headers[512];

static void
run(const char *text, struct ht_req *r, const char *content_type)
{
	struct ht_conf	c;
	struct ht_dir	*d;
	char		err[512];

	memset(r, 0, sizeof(*r));
	r->method = HTTP_M_GET;
	r->method_str = "GET";
	r->cacheable = 1;
	r->headers = headers;
	r->headers_len = strlen(headers);
	r->content_type = content_type != NULL ? strdup(content_type) : NULL;
	if ((d = parse(text, err, sizeof(err))) == NULL) {
		fprintf(stderr, "parse: %s\n", err);
		CHECK(0);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.d = *d;
	CHECK_INT(htdocs_run(&c, r), 0);
	ht_dir_free(d);
}

static void
test_corpus_headers(void)
{
	struct ht_req	r;
	int		n;

	snprintf(headers, sizeof(headers), "Host: x\nX-Echo-This: 1\nX-Other: 2\n");
	run("Header set X-Corpus \"set\"\n"
	    "Header append X-Corpus \"appended\"\n"
	    "Header merge Cache-Control \"no-transform\"\n"
	    "Header merge Cache-Control \"no-transform\"\n"
	    "Header always set X-Always \"yes\"\n"
	    "Header set X-Gone \"soon\"\n"
	    "Header unset X-Gone\n"
	    "Header edit X-Edit \"^(\\w+)-old$\" \"$1-new\"\n"
	    "Header set X-Edit \"value-old\"\n"
	    "Header echo ^X-Echo\n", &r, NULL);
	CHECK_STR(field(&r, "X-Corpus", 0, &n), "set, appended");
	CHECK_INT(n, 1);
	CHECK_STR(field(&r, "Cache-Control", 0, &n), "no-transform");
	CHECK_INT(n, 1);
	CHECK_STR(field(&r, "X-Always", 1, NULL), "yes");
	CHECK(field(&r, "X-Always", 0, NULL) == NULL);
	CHECK(field(&r, "X-Gone", 0, NULL) == NULL);
	/* edit came before set: nothing to edit then. */
	CHECK_STR(field(&r, "X-Edit", 0, NULL), "value-old");
	CHECK_STR(field(&r, "X-Echo-This", 0, NULL), "1");
	CHECK(field(&r, "X-Other", 0, NULL) == NULL);
	CHECK_INT(r.cacheable, 0);	/* echo read the request */
	ht_req_free(&r);
}

static void
test_operations(void)
{
	struct ht_req	r;
	int		n;

	headers[0] = '\0';
	run("Header set A 1\nHeader edit A ^1$ one\n"
	    "Header add B x\nHeader add B y\n"
	    "Header setifempty C first\nHeader setifempty C second\n"
	    "Header set D \"a-old b-old\"\nHeader edit* D \"-old\" \"-new\"\n"
	    "Header set E 1 env=NOPE\nHeader set F 1 env=!NOPE\n"
	    "Header always set G yes\nHeader always unset G\n"
	    "Header set H x\nHeader always unset H\n", &r, NULL);
	CHECK_STR(field(&r, "A", 0, NULL), "one");
	field(&r, "B", 0, &n);
	CHECK_INT(n, 2);
	CHECK_STR(field(&r, "C", 0, NULL), "first");
	CHECK_STR(field(&r, "D", 0, NULL), "a-new b-new");
	CHECK(field(&r, "E", 0, NULL) == NULL);
	CHECK_STR(field(&r, "F", 0, NULL), "1");
	CHECK(field(&r, "G", 1, NULL) == NULL);
	/* Each table its own: always unset does not touch a success's field. */
	CHECK_STR(field(&r, "H", 0, NULL), "x");
	ht_req_free(&r);
}

static void
test_expires(void)
{
	struct ht_req	r;
	const char	*v;
	time_t		 now = time(NULL);
	struct tm	 tm;
	char		 want[64];

	headers[0] = '\0';
	run("ExpiresActive On\nExpiresDefault \"access plus 1 day\"\n"
	    "ExpiresByType text/plain \"access plus 1 hour\"\nExpiresByType text/css A600\n",
	    &r, "text/plain; charset=utf-8");
	CHECK_STR(field(&r, "Cache-Control", 0, NULL), "max-age=3600");
	v = field(&r, "Expires", 0, NULL);
	now += 3600;
	gmtime_r(&now, &tm);
	strftime(want, sizeof(want), "%a, %d %b %Y %H:", &tm);
	CHECK(v != NULL && strncmp(v, want, strlen(want)) == 0);
	ht_req_free(&r);
	run("ExpiresActive On\nExpiresDefault \"access plus 1 day\"\n"
	    "ExpiresByType text/css A600\n", &r, "text/css");
	CHECK_STR(field(&r, "Cache-Control", 0, NULL), "max-age=600");
	ht_req_free(&r);
	run("ExpiresActive On\nExpiresDefault \"access plus 1 day\"\n", &r, "text/html");
	CHECK_STR(field(&r, "Cache-Control", 0, NULL), "max-age=86400");
	ht_req_free(&r);
	run("ExpiresActive On\nExpiresDefault \"now plus 2 weeks 3 days\"\n"
	    "Header merge Cache-Control public\n", &r, "text/html");
	CHECK_STR(field(&r, "Cache-Control", 0, NULL), "max-age=1468800, public");
	ht_req_free(&r);
	run("ExpiresActive Off\nExpiresDefault A60\n", &r, "text/html");
	CHECK(field(&r, "Expires", 0, NULL) == NULL);
	ht_req_free(&r);
}

static void
test_error_documents_and_merge(void)
{
	struct ht_dir	*a, *b;
	struct ht_conf	 c;
	struct ht_req	 r;
	char		 err[512];
	void		*m;

	a = parse("ErrorDocument 404 /errors/not-found.txt\nErrorDocument 403 \"Forbidden, by the corpus.\"\n"
	    "ErrorDocument 500 http://example.org/oops\nHeader set X-Parent 1\n"
	    "ExpiresActive On\nExpiresDefault A100\n", err, sizeof(err));
	b = parse("ErrorDocument 404 /child.txt\nHeader set X-Child 1\nExpiresDefault A5\n", err,
	    sizeof(err));
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		return;
	memset(&c, 0, sizeof(c));
	c.d = *a;
	CHECK_STR(htdocs_error_doc(&c, 404), "/errors/not-found.txt");
	CHECK_STR(htdocs_error_doc(&c, 403), "\"Forbidden, by the corpus.");
	CHECK_STR(htdocs_error_doc(&c, 500), "http://example.org/oops");
	CHECK(htdocs_error_doc(&c, 410) == NULL);
	c.d.docs = m = htdocs_merge(a->docs, b->docs);
	CHECK_STR(htdocs_error_doc(&c, 404), "/child.txt");
	CHECK_STR(htdocs_error_doc(&c, 403), "\"Forbidden, by the corpus.");
	memset(&r, 0, sizeof(r));
	headers[0] = '\0';
	r.headers = headers;
	r.content_type = strdup("text/plain");
	htdocs_run(&c, &r);
	CHECK_STR(field(&r, "X-Parent", 0, NULL), "1");
	CHECK_STR(field(&r, "X-Child", 0, NULL), "1");
	CHECK_STR(field(&r, "Cache-Control", 0, NULL), "max-age=5");
	ht_req_free(&r);
	htdocs_merged_free(m);
	ht_dir_free(a);
	ht_dir_free(b);
}

/* Apache's reading of the document, and what a request keeps of them. */
static void
test_error_document_kinds(void)
{
	struct ht_dir	*a;
	struct ht_conf	 c;
	struct ht_req	 r;
	char		 err[512];

	a = parse("ErrorDocument 404 \"/not a path\"\nErrorDocument 403 ftp://x.example/f\n"
	    "ErrorDocument 401 http://x.example/login\nErrorDocument 401 /login.html\n"
	    "ErrorDocument 401 https://x.example/other\nErrorDocument 500 oops\n"
	    "ErrorDocument 410 /gone\nErrorDocument 410 default\n", err, sizeof(err));
	CHECK(a != NULL);
	if (a == NULL)
		return;
	memset(&c, 0, sizeof(c));
	c.d = *a;
	CHECK_STR(htdocs_error_doc(&c, 404), "\"/not a path");	/* a space: a text */
	CHECK_STR(htdocs_error_doc(&c, 403), "ftp://x.example/f");	/* any scheme */
	CHECK_STR(htdocs_error_doc(&c, 401), "/login.html");	/* full URLs dropped */
	CHECK_STR(htdocs_error_doc(&c, 500), "\"oops");
	CHECK(htdocs_error_doc(&c, 410) == NULL);
	memset(&r, 0, sizeof(r));
	CHECK_INT(htdocs_keep_errdocs(&c, &r), 0);
	CHECK_STR(r.error_docs, "410 default\n500 \"oops\n401 /login.html\n"
	    "403 ftp://x.example/f\n404 \"/not a path\n");
	ht_req_free(&r);
	ht_dir_free(a);
}

/* What front is left to do: unset, edit, set's removal of the others, in order. */
static void
test_operations_for_front(void)
{
	struct ht_req	r;

	headers[0] = '\0';
	run("Header set A 1\nHeader always unset B\nHeader add C x\n"
	    "Header edit* D \"a+\" b\nHeader set E 1 env=NOPE\nHeader append F 1\n", &r, NULL);
	CHECK_INT(r.nhop, 3);
	if (r.nhop == 3) {
		CHECK(r.hop[0].op == 'u' && !r.hop[0].always && strcmp(r.hop[0].name, "A") == 0);
		CHECK(r.hop[1].op == 'u' && r.hop[1].always && strcmp(r.hop[1].name, "B") == 0);
		CHECK(r.hop[2].op == 'E' && strcmp(r.hop[2].re, "a+") == 0 &&
		    strcmp(r.hop[2].sub, "b") == 0);
	}
	ht_req_free(&r);
}

static void
test_errors(void)
{
	CHECK(strstr(parse_error("Header frob X 1"), "must be set, append") != NULL);
	CHECK(strstr(parse_error("Header set X"), "takes 2 arguments") != NULL);
	CHECK(strstr(parse_error("Header set X 1 2 3"), "takes 2 arguments") != NULL);
	CHECK(strstr(parse_error("Header set X 1 sometimes"), "early, env= or expr=") != NULL);
	CHECK(strstr(parse_error("Header edit X \"(\" y"), "regex") != NULL);
	CHECK(strstr(parse_error("ExpiresActive maybe"), "On or Off") != NULL);
	CHECK(strstr(parse_error("ExpiresDefault \"later plus 1 day\""), "access, now or") != NULL);
	CHECK(strstr(parse_error("ExpiresDefault \"access plus 1 fortnight\""), "a number and a unit") != NULL);
	CHECK(strstr(parse_error("ExpiresByType text \"access plus 1 day\""), "a type and a time") != NULL);
	CHECK(strstr(parse_error("ErrorDocument 200 /x"), "not an error status") != NULL);
	CHECK(strstr(parse_error("ErrorDocument 404"), "a status and a document") != NULL);
	CHECK_STR(parse_error("Header always set Strict-Transport-Security \"max-age=31536000\" env=HTTPS"), "");
	CHECK_STR(parse_error("Header set X-Frame-Options SAMEORIGIN early"), "");
}

int
main(void)
{
	test_corpus_headers();
	test_operations();
	test_expires();
	test_error_documents_and_merge();
	test_error_document_kinds();
	test_operations_for_front();
	test_errors();
	UNIT_DONE();
}
