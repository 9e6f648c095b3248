/* test_access: Require/Order truth tables, merges, Basic auth and htpasswd's hashes. */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "access.h"
#include "http.h"
#include "unit.h"

static char	last_log[1024];

static void
log_to(const char *line)
{
	snprintf(last_log, sizeof(last_log), "%s", line);
}

/* ------------------------------------------------------------ a file's lines */

/* A file's text through htcore's parser, into a new ht_dir. */
static struct ht_dir *
parse(struct ht_parse *p, const char *text)
{
	struct ht_dir	*d;

	memset(p, 0, sizeof(*p));
	p->file = "t/.htaccess";
	p->dir = "";
	if ((d = ht_parse_file(p, text, strlen(text))) == NULL)
		return NULL;
	if (access_finish(p, d) == -1) {
		ht_dir_free(d);
		return NULL;
	}
	return d;
}

struct fixture {
	struct ht_dir	*d;
	struct ht_conf	 c;
	void		*limit_merged;
};

/*
 * The file's configuration as the walk merges it for a method: the file's
 * parts, then each <Limit> section that holds for it.
 */
static int
load_conf_for(struct fixture *f, const char *text, int method)
{
	struct ht_parse	p;
	int		i;

	memset(f, 0, sizeof(*f));
	if ((f->d = parse(&p, text)) == NULL) {
		fprintf(stderr, "parse: %s\n", p.err);
		return -1;
	}
	f->c.d = *f->d;
	for (i = 0; i < f->d->nsec; i++) {
		struct ht_access *sa = f->d->sec[i].dir->access;

		if (f->d->sec[i].kind != HT_SEC_LIMIT || !(f->d->sec[i].methods & HT_M_BIT(method)))
			continue;
		if (f->d->sec[i].dir->auth != NULL)
			f->c.d.auth = f->d->sec[i].dir->auth;
		if (sa == NULL)
			continue;
		if (f->c.d.access == NULL)
			f->c.d.access = sa;
		else
			f->c.d.access = f->limit_merged = access_merge(f->c.d.access, sa);
	}
	return 0;
}

static int
load_conf(struct fixture *f, const char *text)
{
	return load_conf_for(f, text, HTTP_M_GET);
}

static void
fixture_free(struct fixture *f)
{
	access_merged_free(f->limit_merged);
	ht_dir_free(f->d);
}

static const char *
parse_error(const char *text)
{
	static struct ht_parse	p;
	struct ht_dir		*d;

	if ((d = parse(&p, text)) != NULL) {
		p.err[0] = '\0';
		ht_dir_free(d);
	}
	return p.err;
}

static char	hdrs[2048];

static void
req_init(struct ht_req *r, int method, const char *remote, const char *authz)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->remote = remote;
	r->uri = (char *)"/x";
	r->cacheable = 1;
	hdrs[0] = '\0';
	if (authz != NULL)
		snprintf(hdrs, sizeof(hdrs), "Authorization: %s\n", authz);
	r->headers = hdrs;
	r->headers_len = strlen(hdrs);
}

/* What access_run() left on the request, freed (its uri, query and headers
 * are the test's own static strings, so not ht_req_free()); the user too,
 * unless the caller keeps it to look at. */
static void
req_done(struct ht_req *r, int keep_user)
{
	struct ht_kv	*lists[] = { r->hdr, r->env, r->php };
	int		 counts[] = { r->nhdr, r->nenv, r->nphp };
	int		 i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < counts[i]; j++) {
			free(lists[i][j].name);
			free(lists[i][j].value);
		}
	r->nhdr = r->nenv = r->nphp = 0;
	while (r->nkept > 0)
		free(r->kept[--r->nkept]);
	free(r->kept);
	r->kept = NULL;
	if (!keep_user) {
		free(r->user);
		r->user = NULL;
	}
}

static int
run(const char *text, int method, const char *remote)
{
	struct fixture	f;
	struct ht_req	r;
	int		st;

	if (load_conf_for(&f, text, method) == -1)
		return -2;
	req_init(&r, method, remote, NULL);
	st = access_run(&f.c, &r);
	req_done(&r, 0);
	fixture_free(&f);
	return st;
}

/* A request over TLS with the given SSL_* lines ("SSL_X=v\n"...), and a query. */
static int
run_tls(const char *text, const char *tls, const char *query)
{
	struct fixture	f;
	struct ht_req	r;
	int		st;

	if (load_conf(&f, text) == -1)
		return -2;
	req_init(&r, HTTP_M_GET, "1.2.3.4", NULL);
	r.https = tls != NULL;
	r.tls = tls;
	r.tls_len = tls != NULL ? strlen(tls) : 0;
	r.query = (char *)(query != NULL ? query : "");
	r.method_str = "GET";
	st = access_run(&f.c, &r);
	req_done(&r, 0);
	fixture_free(&f);
	return st;
}

/* ------------------------------------------------------------ Require */

/* Whether the hosts file names addr (the tests below take the machine's). */
static int
hosts_has(const char *addr)
{
	char	line[512];
	FILE	*f = fopen("/etc/hosts", "r");
	int	found = 0;

	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strncmp(line, addr, strlen(addr)) == 0 &&
		    (line[strlen(addr)] == ' ' || line[strlen(addr)] == '\t');
	if (f != NULL)
		fclose(f);
	return found;
}

/*
 * Require host and forward-dns by the hosts file only: 127.0.0.1 is
 * "localhost" there (its double-reverse holds), an address the file does
 * not name has no name at all, even on loopback, and a name the file
 * does not know has no address (no DNS asked).
 */
static void
test_host_names(void)
{
	if (!hosts_has("127.0.0.1")) {
		fprintf(stderr, "test_host_names: /etc/hosts names no 127.0.0.1: skipped\n");
		return;
	}
	CHECK_INT(run("Require host LocalHost", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Require host host", HTTP_M_GET, "127.0.0.1"), 403);	/* not a dot's tail */
	CHECK_INT(run("Require forward-dns localhost", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Require forward-dns no-such-name.invalid", HTTP_M_GET, "127.0.0.1"), 403);
	CHECK_INT(run("Require forward-dns", HTTP_M_GET, "127.0.0.1"), -2);	/* a parse error */
	if (!hosts_has("127.0.0.77")) {
		CHECK_INT(run("Require host localhost", HTTP_M_GET, "127.0.0.77"), 403);
		CHECK_INT(run("Require forward-dns localhost", HTTP_M_GET, "127.0.0.77"), 403);
		CHECK_INT(run("Order allow,deny\nAllow from localhost", HTTP_M_GET, "127.0.0.77"), 403);
	}
}

static void
test_require_table(void)
{
	CHECK_INT(run("", HTTP_M_GET, "1.2.3.4"), 0);
	CHECK_INT(run("Require all granted", HTTP_M_GET, "1.2.3.4"), 0);
	CHECK_INT(run("Require all denied", HTTP_M_GET, "1.2.3.4"), 403);
	CHECK_INT(run("Require ip 127.0.0.1", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Require ip 127.0.0.1", HTTP_M_GET, "127.0.0.2"), 403);
	CHECK_INT(run("Require ip 10.1", HTTP_M_GET, "10.1.200.3"), 0);
	CHECK_INT(run("Require ip 10.1", HTTP_M_GET, "10.10.0.1"), 403);
	CHECK_INT(run("Require ip 10.1.", HTTP_M_GET, "10.1.0.1"), 0);
	CHECK_INT(run("Require ip 10.0.0.0/8 192.168.1.0/255.255.255.0", HTTP_M_GET, "192.168.1.9"), 0);
	CHECK_INT(run("Require ip 10.0.0.0/8", HTTP_M_GET, "11.0.0.1"), 403);
	CHECK_INT(run("Require ip 2001:db8::/32", HTTP_M_GET, "2001:db8::5"), 0);
	CHECK_INT(run("Require ip 2001:db8::/32", HTTP_M_GET, "2001:db9::5"), 403);
	CHECK_INT(run("Require ip 127.0.0.1", HTTP_M_GET, "::ffff:127.0.0.1"), 0);
	CHECK_INT(run("Require local", HTTP_M_GET, "127.9.9.9"), 0);
	CHECK_INT(run("Require local", HTTP_M_GET, "::1"), 0);
	CHECK_INT(run("Require local", HTTP_M_GET, "10.0.0.1"), 403);
	CHECK_INT(run("Require host localhost", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Require host example.org", HTTP_M_GET, "93.184.216.34"), 403);
	/* ap_expr's address tests, and -T. */
	CHECK_INT(run("Require expr -R '127.0.0.0/8'", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Require expr -R '10.1'", HTTP_M_GET, "127.0.0.1"), 403);
	CHECK_INT(run("Require expr -R '2001:db8::/32'", HTTP_M_GET, "2001:db8::7"), 0);
	CHECK_INT(run("Require expr %{REMOTE_ADDR} -ipmatch '192.168.0.0/255.255.0.0'",
	    HTTP_M_GET, "192.168.4.4"), 0);
	CHECK_INT(run("Require expr -R 'not-an-address'", HTTP_M_GET, "127.0.0.1"), 500);
	CHECK_INT(run("Require expr -T 'off'", HTTP_M_GET, "127.0.0.1"), 403);
	CHECK_INT(run("Require expr -T 'yes'", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Require expr %{TIME_YEAR} -ge 2000 && %{TIME_MON} -le 12", HTTP_M_GET,
	    "127.0.0.1"), 0);
	CHECK_INT(run("Require expr %{TIME} -lt 20000101000000", HTTP_M_GET, "127.0.0.1"), 403);
	test_host_names();
	CHECK_INT(run("Require method GET", HTTP_M_HEAD, "1.2.3.4"), 0);
	CHECK_INT(run("Require method GET", HTTP_M_POST, "1.2.3.4"), 403);
	CHECK_INT(run("Require env NOPE", HTTP_M_GET, "1.2.3.4"), 403);
	/* The implicit <RequireAny>. */
	CHECK_INT(run("Require all denied\nRequire ip 127.0.0.1", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Require all denied\nRequire ip 127.0.0.1", HTTP_M_GET, "10.0.0.1"), 403);
	/* <RequireAll> with a negation: everyone but 10.x. */
	CHECK_INT(run("<RequireAll>\nRequire all granted\nRequire not ip 10\n</RequireAll>",
	    HTTP_M_GET, "10.2.3.4"), 403);
	CHECK_INT(run("<RequireAll>\nRequire all granted\nRequire not ip 10\n</RequireAll>",
	    HTTP_M_GET, "11.2.3.4"), 0);
	/* <RequireNone> alone is at most neutral: a 403. */
	CHECK_INT(run("<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 10\n"
	    "Require ip 11\n</RequireNone>\n</RequireAll>", HTTP_M_GET, "11.0.0.1"), 403);
	CHECK_INT(run("<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 10\n"
	    "Require ip 11\n</RequireNone>\n</RequireAll>", HTTP_M_GET, "12.0.0.1"), 0);
	/* <Limit>: for another method, granted below the top's AND. */
	CHECK_INT(run("<Limit POST>\nRequire all denied\n</Limit>", HTTP_M_GET, "1.2.3.4"), 0);
	CHECK_INT(run("<Limit POST>\nRequire all denied\n</Limit>", HTTP_M_POST, "1.2.3.4"), 403);
	CHECK_INT(run("<LimitExcept GET>\nRequire all denied\n</LimitExcept>", HTTP_M_HEAD,
	    "1.2.3.4"), 0);
	CHECK_INT(run("<LimitExcept GET>\nRequire all denied\n</LimitExcept>", HTTP_M_PUT,
	    "1.2.3.4"), 403);
	/* A user is wanted but nothing can give one: 500 as Apache. */
	CHECK_INT(run("Require valid-user", HTTP_M_GET, "1.2.3.4"), 500);
	/* AuthType without a Require: nothing required (Apache: 500, see access_run()). */
	CHECK_INT(run("AuthType Basic\nAuthName x", HTTP_M_GET, "1.2.3.4"), 0);
}

static void
test_expr_and_certificates(void)
{
	static const char alyssa[] = "SSL_CLIENT_VERIFY=SUCCESS\nSSL_CLIENT_S_DN_CN=alyssa\n";
	static const char ben[] = "SSL_CLIENT_VERIFY=SUCCESS\nSSL_CLIENT_S_DN_CN=ben\n";
	static const char eve[] = "SSL_CLIENT_VERIFY=FAILED:unknown CA\nSSL_CLIENT_S_DN_CN=alyssa\n";

	/* Quotes as written: 'alyssa' is a string, not a word split out of the line. */
	CHECK_INT(run_tls("Require expr %{SSL_CLIENT_S_DN_CN} == 'alyssa'", alyssa, NULL), 0);
	CHECK_INT(run_tls("Require expr %{SSL_CLIENT_S_DN_CN} == 'alyssa'", ben, NULL), 403);
	CHECK_INT(run_tls("Require expr %{SSL_CLIENT_S_DN_CN} == 'alyssa'", NULL, NULL), 403);
	CHECK_INT(run_tls("Require expr \"%{QUERY_STRING} == 'open'\"", NULL, "open"), 0);
	CHECK_INT(run_tls("Require expr %{QUERY_STRING} == 'open'", NULL, "shut"), 403);
	CHECK_INT(run_tls("<RequireAll>\nRequire all granted\nRequire not expr %{QUERY_STRING} == 'x'"
	    "\n</RequireAll>", NULL, "x"), 403);
	/* SSLVerifyClient require: a verified certificate, over TLS. */
	CHECK_INT(run_tls("SSLVerifyClient require", alyssa, NULL), 0);
	CHECK_INT(run_tls("SSLVerifyClient require", eve, NULL), 403);
	CHECK_INT(run_tls("SSLVerifyClient require", NULL, NULL), 403);
	CHECK_INT(run_tls("SSLVerifyClient none", NULL, NULL), 0);
	/* SSLRequire's own words. */
	CHECK_INT(run_tls("SSLRequire %{SSL_CLIENT_S_DN_CN} eq \"alyssa\" and %{SSL_CLIENT_VERIFY} eq 'SUCCESS'",
	    alyssa, NULL), 0);
	CHECK_INT(run_tls("SSLRequire %{SSL_CLIENT_S_DN_CN} eq \"alyssa\" and %{SSL_CLIENT_VERIFY} eq 'SUCCESS'",
	    eve, NULL), 403);
	CHECK_INT(run_tls("SSLRequire %{SSL_CLIENT_S_DN_CN} in {\"ben\", \"alyssa\"}", ben, NULL), 0);
	CHECK_INT(run_tls("SSLRequire not (%{SSL_CLIENT_S_DN_CN} eq 'ben')", ben, NULL), 403);
	CHECK(strstr(parse_error("SSLRequire"), "takes an expression") != NULL);
	CHECK(strstr(parse_error("Require expr"), "takes an expression") != NULL);
}

static void
test_require_errors(void)
{
	CHECK(strstr(parse_error("Require not ip 10"), "no effect in <RequireAny>") != NULL);
	CHECK(strstr(parse_error("<RequireAll>\nRequire not ip 10\n</RequireAll>"),
	    "only negative") != NULL);
	CHECK(strstr(parse_error("<RequireAll>\n</RequireAll>"), "contains no authorization") != NULL);
	CHECK(strstr(parse_error("<RequireAll>\nRequire all granted"), "not closed") != NULL);
	CHECK(strstr(parse_error("Require all maybe"), "'granted' or 'denied'") != NULL);
	CHECK(strstr(parse_error("Require ip 10.0.0.0/33"), "not an address") != NULL);
	CHECK(strstr(parse_error("Require ip 300.1"), "not an address") != NULL);
	CHECK(strstr(parse_error("Require wizard"), "Unknown Authz provider") != NULL);
	CHECK(strncmp(parse_error("Require all maybe"), "t/.htaccess:1: ", 15) == 0);
	CHECK(strstr(parse_error("Order up"), "unknown order") != NULL);
	CHECK(strstr(parse_error("Allow 10.0.0.1"), "'from'") != NULL);
	CHECK(strstr(parse_error("AuthType Digest"), "not supported") != NULL);
	CHECK(strstr(parse_error("AuthMerging Maybe"), "Off | And | Or") != NULL);
	CHECK_STR(parse_error("<RequireAny>\n<RequireAll>\nRequire all granted\nRequire not ip 1\n"
	    "</RequireAll>\n</RequireAny>"), "");
}

/* ------------------------------------------------------------ Order, Allow, Deny, Satisfy */

static void
test_compat_table(void)
{
	CHECK_INT(run("Order deny,allow\nDeny from all", HTTP_M_GET, "1.2.3.4"), 403);
	CHECK_INT(run("Order deny,allow\nDeny from all\nAllow from 127.0.0.1", HTTP_M_GET,
	    "127.0.0.1"), 0);
	CHECK_INT(run("Order allow,deny\nAllow from all\nDeny from 127.0.0.1", HTTP_M_GET,
	    "127.0.0.1"), 403);
	CHECK_INT(run("Order allow,deny\nAllow from all\nDeny from 127.0.0.1", HTTP_M_GET,
	    "127.0.0.2"), 0);
	CHECK_INT(run("Order allow,deny", HTTP_M_GET, "1.2.3.4"), 403);
	CHECK_INT(run("Order deny,allow", HTTP_M_GET, "1.2.3.4"), 0);
	CHECK_INT(run("Order mutual-failure\nAllow from 10\nDeny from 10.0.0.1", HTTP_M_GET,
	    "10.0.0.1"), 403);
	CHECK_INT(run("Order mutual-failure\nAllow from 10\nDeny from 10.0.0.1", HTTP_M_GET,
	    "10.0.0.2"), 0);
	CHECK_INT(run("Deny from localhost", HTTP_M_GET, "127.0.0.1"), 403);
	CHECK_INT(run("Deny from env=NOPE", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Deny from env=!NOPE", HTTP_M_GET, "127.0.0.1"), 403);
	CHECK_INT(run("<Limit POST>\nOrder allow,deny\nDeny from all\n</Limit>", HTTP_M_GET,
	    "1.2.3.4"), 0);
	CHECK_INT(run("<Limit POST>\nOrder allow,deny\nDeny from all\n</Limit>", HTTP_M_POST,
	    "1.2.3.4"), 403);
	/* Both forms: Satisfy All wants both, Satisfy Any either. */
	CHECK_INT(run("Deny from all\nRequire all granted", HTTP_M_GET, "1.2.3.4"), 403);
	CHECK_INT(run("Deny from all\nRequire all granted\nSatisfy Any", HTTP_M_GET, "1.2.3.4"), 0);
	CHECK_INT(run("Order deny,allow\nDeny from all\nAllow from 127.0.0.1\nRequire all denied\n"
	    "Satisfy Any", HTTP_M_GET, "127.0.0.1"), 0);
	CHECK_INT(run("Order deny,allow\nDeny from all\nAllow from 127.0.0.1\nRequire all denied\n"
	    "Satisfy Any", HTTP_M_GET, "127.0.0.2"), 403);
}

/* ------------------------------------------------------------ merging */

static int
run_merged(const char *parent, const char *child, int method, const char *remote)
{
	struct fixture	a, b;
	struct ht_conf	c;
	struct ht_req	r;
	void		*m;
	int		 st;

	if (load_conf(&a, parent) == -1 || load_conf(&b, child) == -1)
		return -2;
	memset(&c, 0, sizeof(c));
	void		*m2 = NULL;
	int		 i;

	c.d = *a.d;
	m = NULL;
	if (a.d->access != NULL && b.d->access != NULL)
		c.d.access = m = access_merge(a.d->access, b.d->access);
	else if (b.d->access != NULL)
		c.d.access = b.d->access;
	/* then the child's <Limit>s that hold, as the walk merges them */
	for (i = 0; i < b.d->nsec; i++)
		if (b.d->sec[i].kind == HT_SEC_LIMIT && (b.d->sec[i].methods & HT_M_BIT(method)) &&
		    b.d->sec[i].dir->access != NULL && m2 == NULL)
			c.d.access = m2 = access_merge(c.d.access, b.d->sec[i].dir->access);
	req_init(&r, method, remote, NULL);
	st = access_run(&c, &r);
	req_done(&r, 0);
	access_merged_free(m2);
	access_merged_free(m);
	fixture_free(&a);
	fixture_free(&b);
	return st;
}

static void
test_merge(void)
{
	/* Off (default): the child's Require replaces. */
	CHECK_INT(run_merged("Require all denied", "Require ip 10", HTTP_M_GET, "10.0.0.1"), 0);
	CHECK_INT(run_merged("Require all denied", "AuthMerging And\nRequire ip 10", HTTP_M_GET,
	    "10.0.0.1"), 403);
	CHECK_INT(run_merged("Require ip 10", "AuthMerging And\nRequire ip 10.1", HTTP_M_GET,
	    "10.1.0.1"), 0);
	CHECK_INT(run_merged("Require ip 10", "AuthMerging And\nRequire ip 10.1", HTTP_M_GET,
	    "10.2.0.1"), 403);
	CHECK_INT(run_merged("Require ip 10", "AuthMerging Or\nRequire ip 11", HTTP_M_GET,
	    "10.2.0.1"), 0);
	/* A child without a Require keeps its parent's. */
	CHECK_INT(run_merged("Require all denied", "Satisfy All", HTTP_M_GET, "1.2.3.4"), 403);
	/* Order/Allow/Deny: a child naming any replaces all of them. */
	CHECK_INT(run_merged("Deny from all", "Order allow,deny\nAllow from all", HTTP_M_GET,
	    "1.2.3.4"), 0);
	CHECK_INT(run_merged("Deny from all", "AuthMerging Off", HTTP_M_GET, "1.2.3.4"), 403);
	/* A file of only a <Limit> replaces its parent's Require for those methods... */
	CHECK_INT(run_merged("Require all granted", "<Limit POST>\nRequire all denied\n</Limit>",
	    HTTP_M_POST, "1.2.3.4"), 403);
	CHECK_INT(run_merged("Require all granted", "<Limit POST>\nRequire all denied\n</Limit>",
	    HTTP_M_GET, "1.2.3.4"), 0);
	/* ... and joins its own file's Require when there is one. */
	CHECK_INT(run_merged("Require all denied", "Require ip 10\n<Limit POST>\nRequire ip 11\n"
	    "</Limit>", HTTP_M_POST, "11.0.0.1"), 0);
	CHECK_INT(run_merged("Require all denied", "Require ip 10\n<Limit POST>\nRequire ip 11\n"
	    "</Limit>", HTTP_M_POST, "10.0.0.1"), 0);
	CHECK_INT(run_merged("Require all denied", "Require ip 10\n<Limit POST>\nRequire ip 11\n"
	    "</Limit>", HTTP_M_POST, "12.0.0.1"), 403);
	CHECK_INT(run_merged("Order allow,deny\nAllow from all", "<Limit POST>\nOrder deny,allow\n"
	    "Deny from all\n</Limit>", HTTP_M_POST, "1.2.3.4"), 403);
}

/* ------------------------------------------------------------ hashes */

static void
test_hashes(void)
{
	/* Made by htpasswd (apache2-utils) for "s3cret pw:x": -B, -m, -s, -2, -5. */
	static const char *const ok[] = {
		"$2y$05$hA9u9MhmO4YQLlEnTD64lejor68IdZ2uxcDgmeuaI5Xr8goS1mUB.",
		"$apr1$HgBrbZ/C$hjWUhsWafHaHkE1UKBqpi.",
		"{SHA}QsAsZFYXmPPIm8Pk8QEv1SZ8uOI=",
		"$5$lx.sHR93W8xWQ.uf$CDGAeE.toc4U3lJPRihdEN2cmzO8VPjer/.7ZcFskI2",
		"$6$JVp8rW2lZlFITduy$GGdmryNScQ1DGn8lYu.V8yK2J2AKRnMdxY/b1sfkf33sMysHW8oHZDRI18"
		    "rPewSIqh5eD1TQFoI.tdgUmdjxa/",
	};
	size_t	i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_INT(auth_hash_check(ok[i], "s3cret pw:x"), 1);
		CHECK_INT(auth_hash_check(ok[i], "s3cret pw:y"), 0);
		CHECK_INT(auth_hash_check(ok[i], ""), 0);
	}
	/* htpasswd -d: DES crypt() takes 8 characters. */
	CHECK_INT(auth_hash_check("9MXLfCIL7bJ/I", "s3cret pw:x"), 1);
	CHECK_INT(auth_hash_check("9MXLfCIL7bJ/I", "s3cret p"), 1);
	CHECK_INT(auth_hash_check("9MXLfCIL7bJ/I", "s3cret q"), 0);
	CHECK_INT(auth_hash_check("$2a$05$hA9u9MhmO4YQLlEnTD64lejor68IdZ2uxcDgmeuaI5Xr8goS1mUB.",
	    "s3cret pw:x"), 1);
	/* No prefix: DES crypt() with "pl" as the salt, as Apache on Linux. */
	CHECK_INT(auth_hash_check("plaintext", "plaintext"), 0);
	CHECK_INT(auth_hash_check("", ""), -1);
	CHECK_INT(auth_hash_check("$apr1$", "x"), 0);
}

/* Fresh hashes of every format htpasswd makes, with a password of its choosing. */
static void
test_htpasswd_fresh(void)
{
	static const char *const opts[] = { "-B", "-m", "-s", "-2", "-5" };
	char	cmd[256], line[512], *h;
	FILE	*f;
	size_t	i;

	if (access("/usr/bin/htpasswd", X_OK) != 0) {
		fprintf(stderr, "test_access: no htpasswd, fresh hashes skipped\n");
		return;
	}
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		snprintf(cmd, sizeof(cmd), "htpasswd -nb %s u 'p@ss w\\\"rd%zu' 2>/dev/null",
		    opts[i], i);
		if ((f = popen(cmd, "r")) == NULL || fgets(line, sizeof(line), f) == NULL) {
			CHECK(0);
			if (f != NULL)
				pclose(f);
			continue;
		}
		pclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		CHECK((h = strchr(line, ':')) != NULL);
		if (h == NULL)
			continue;
		snprintf(cmd, sizeof(cmd), "p@ss w\\\"rd%zu", i);
		CHECK_INT(auth_hash_check(h + 1, cmd), 1);
		cmd[0] = 'P';
		CHECK_INT(auth_hash_check(h + 1, cmd), 0);
	}
}

/* ------------------------------------------------------------ Basic */

static char	home[] = "/tmp/test_access.XXXXXX";

static void
write_file(const char *rel, const char *text)
{
	char	path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

/* A failed request that still named a user (it must not). */
static int	user_on_failure;

static int
basic(const char *conf_text, const char *user, const char *pw, int method, struct ht_req *out_r,
    char *www, size_t wcap)
{
	struct fixture	f;
	char		raw[256], b64[400], val[420];
	int		st, i;

	if (load_conf_for(&f, conf_text, method) == -1)
		return -2;
	val[0] = '\0';
	if (user != NULL) {
		snprintf(raw, sizeof(raw), "%s:%s", user, pw);
		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)raw, (int)strlen(raw));
		snprintf(val, sizeof(val), "Basic %s", b64);
	}
	req_init(out_r, method, "1.2.3.4", user != NULL ? val : NULL);
	st = access_run(&f.c, out_r);
	www[0] = '\0';
	for (i = 0; i < out_r->nhdr; i++)
		if (strcmp(out_r->hdr[i].name, "WWW-Authenticate") == 0)
			snprintf(www, wcap, "%s", out_r->hdr[i].value);
	user_on_failure = st != 0 && out_r->user != NULL;
	req_done(out_r, st == 0);
	fixture_free(&f);
	return st;
}

static void
test_basic(void)
{
	char		 conf[1024], www[600];
	struct ht_req	 r;

	if (mkdtemp(home) == NULL)
		abort();
	auth_set_home(home);
	mkdir(strcat(strcpy(conf, home), "/sub"), 0700);
	write_file(".htpasswd", "# comment\n\nalice:$apr1$HgBrbZ/C$hjWUhsWafHaHkE1UKBqpi.\n"
	    "bob:{SHA}QsAsZFYXmPPIm8Pk8QEv1SZ8uOI=\r\n");
	write_file("sub/groups", "staff: carol bob\nadmins:alice\n");
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName \"Staff\\only\"\n"
	    "AuthUserFile %s/.htpasswd\nRequire valid-user", home);

	CHECK_INT(basic(conf, NULL, NULL, HTTP_M_GET, &r, www, sizeof(www)), 401);
	CHECK_STR(www, "Basic realm=\"Staff\\\\only\"");
	CHECK_INT(r.cacheable, 0);
	CHECK_INT(basic(conf, "alice", "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 0);
	CHECK_STR(r.user, "alice");
	CHECK_INT(r.cacheable, 0);
	free(r.user);
	CHECK_INT(basic(conf, "bob", "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 0);
	free(r.user);
	CHECK_INT(basic(conf, "alice", "wrong", HTTP_M_GET, &r, www, sizeof(www)), 401);
	CHECK(!user_on_failure);
	CHECK_INT(basic(conf, "mallory", "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 401);
	CHECK_INT(basic(conf, "# comment", "", HTTP_M_GET, &r, www, sizeof(www)), 401);
	/* A user name is the client's: it makes no line of its own in the log. */
	CHECK_INT(basic(conf, "eve\nforged line\r", "x", HTTP_M_GET, &r, www, sizeof(www)), 401);
	CHECK(strstr(last_log, "eve?forged line?") != NULL);

	/* Require user, Require group. */
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile .htpasswd\n"
	    "AuthGroupFile sub/groups\nRequire group staff");
	CHECK_INT(basic(conf, "bob", "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 0);
	free(r.user);
	CHECK_INT(basic(conf, "alice", "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 401);
	CHECK(strstr(last_log, "authorization failure") != NULL);
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile .htpasswd\n"
	    "Require user alice");
	CHECK_INT(basic(conf, "alice", "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 0);
	free(r.user);
	CHECK_INT(basic(conf, "bob", "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 401);
	/* <LimitExcept GET>: POST alone needs a password. */
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile .htpasswd\n"
	    "<LimitExcept GET>\nRequire valid-user\n</LimitExcept>");
	CHECK_INT(basic(conf, NULL, NULL, HTTP_M_GET, &r, www, sizeof(www)), 0);
	CHECK_INT(basic(conf, NULL, NULL, HTTP_M_POST, &r, www, sizeof(www)), 401);

	/* Files that cannot be had: outside the home, through a symlink out, missing. */
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile /etc/passwd\n"
	    "Require valid-user");
	CHECK_INT(basic(conf, "root", "x", HTTP_M_GET, &r, www, sizeof(www)), 500);
	CHECK(strstr(last_log, "not a file of this locker's home") != NULL);
	snprintf(www, sizeof(www), "%s/out", home);
	CHECK_INT(symlink("/etc/passwd", www), 0);
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile out\n"
	    "Require valid-user");
	CHECK_INT(basic(conf, "root", "x", HTTP_M_GET, &r, www, sizeof(www)), 500);
	CHECK(strstr(last_log, "leads out") != NULL);
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile ../../etc/passwd\n"
	    "Require valid-user");
	CHECK_INT(basic(conf, "root", "x", HTTP_M_GET, &r, www, sizeof(www)), 500);
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile nope\n"
	    "Require valid-user");
	CHECK_INT(basic(conf, "root", "x", HTTP_M_GET, &r, www, sizeof(www)), 500);
	/* No AuthName: Apache's 500. */
	CHECK_INT(basic("AuthType Basic\nAuthUserFile .htpasswd\nRequire valid-user", "alice",
	    "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 500);

	/* A rewritten file is read again (stamps). */
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile .htpasswd\n"
	    "Require valid-user");
	write_file(".htpasswd", "alice:{SHA}QsAsZFYXmPPIm8Pk8QEv1SZ8uOI=\nzed:{SHA}QsAsZFYXmPPIm8Pk8QEv1SZ8uOI=\n");
	CHECK_INT(basic(conf, "zed", "s3cret pw:x", HTTP_M_GET, &r, www, sizeof(www)), 0);
	free(r.user);
}

/* This process's CPU time: the work a check costs, whatever else the
 * machine runs (the wall clock failed this test once at load 10). */
static double
seconds(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An unknown user costs the hash a known one does: no user list by timing. */
static void
test_same_time(void)
{
	struct ht_req	r;
	char		conf[512], www[600], line[256];
	double		t0, known, unknown;
	FILE		*f;
	int		i;

	if ((f = popen("htpasswd -nbB -C 10 alice right 2>/dev/null", "r")) == NULL ||
	    fgets(line, sizeof(line), f) == NULL) {
		if (f != NULL)
			pclose(f);
		fprintf(stderr, "test_access: no htpasswd, timing skipped\n");
		return;
	}
	pclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	strcat(line, "\n");
	write_file("slow.htpasswd", line);
	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile slow.htpasswd\n"
	    "Require valid-user");
	t0 = seconds();
	for (i = 0; i < 3; i++)
		CHECK_INT(basic(conf, "alice", "wrong", HTTP_M_GET, &r, www, sizeof(www)), 401);
	known = seconds() - t0;
	t0 = seconds();
	for (i = 0; i < 3; i++)
		CHECK_INT(basic(conf, "nobody", "wrong", HTTP_M_GET, &r, www, sizeof(www)), 401);
	unknown = seconds() - t0;
	CHECK(unknown > known * 0.5 && known > unknown * 0.5);
}

static void
test_credentials(void)
{
	struct fixture	f;
	struct ht_req	r;
	static const char *const bad[] = { "Basic", "Basic ", "Basic !!!!", "Basic YWxpY2U=",
	    "Bearer YWxpY2U6eA==", "Basic YWxp\tY2U6eA==", "BasicYWxpY2U6eA==", "Basic YQBiOmM=" };
	char	conf[512];
	size_t	i;

	snprintf(conf, sizeof(conf), "AuthType Basic\nAuthName x\nAuthUserFile .htpasswd\n"
	    "Require valid-user");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load_conf(&f, conf) == -1)
			continue;
		req_init(&r, HTTP_M_GET, "1.2.3.4", bad[i]);
		CHECK_INT(access_run(&f.c, &r), 401);
		CHECK(r.user == NULL);
		req_done(&r, 0);
		fixture_free(&f);
	}
}

int
main(void)
{
	access_log_fn = log_to;
	test_require_table();
	test_require_errors();
	test_expr_and_certificates();
	test_compat_table();
	test_merge();
	test_hashes();
	test_htpasswd_fresh();
	test_basic();
	test_credentials();
	test_same_time();
	UNIT_DONE();
}
