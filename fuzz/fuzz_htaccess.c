/*
 * fuzz_htaccess.c: any bytes as a .htaccess: the parser refuses or accepts
 * them without reading outside them, with an error that names the file
 * and a line; what it accepts merges (twice over, as a parent and its
 * child would) and runs its phases on a request without fault or leak;
 * its PHP settings become php-cgi's -d arguments, one line each, quoted.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "lockerd.h"
#include "htaccess.h"
#include "htwalk.h"
#include "phpini.h"

/* What phpini.c makes of r's php_value and php_flag. */
static void
php_args(const struct ht_req *r)
{
	static struct phpini	ini;
	int			i, n = phpini_build(r, &ini);

	REQUIRE(n <= r->nphp && n == ini.n);
	REQUIRE(strlen(ini.tag) == (n > 0 ? PHPINI_TAG_LEN : 0));
	for (i = 0; i < n; i++) {
		const char *eq = strchr(ini.d[i], '=');

		REQUIRE(eq != NULL && eq > ini.d[i] && strpbrk(ini.d[i], "\n\r") == NULL);
		REQUIRE((eq[1] == '\'' || eq[1] == '"') && eq[strlen(eq) - 1] == eq[1]);
		REQUIRE(i == 0 || strcmp(ini.d[i - 1], ini.d[i]) < 0);
	}
}

static void
request(struct ht_req *r, char *method)
{
	static char headers[] = "User-Agent: fuzz\nX-Mode: odd\nHost: alice.example.org\n";

	memset(r, 0, sizeof(*r));
	r->method = 1;	/* GET */
	r->method_str = method;
	r->raw_uri = "/~alice/a/b.txt?q=1";
	r->host = "alice.example.org";
	r->remote = "127.0.0.1";
	r->local = "127.0.0.1";
	r->headers = headers;
	r->headers_len = sizeof(headers) - 1;
	r->docroot = "/nonexistent/web_scripts";
	r->url_prefix = "/~alice";
	r->path_base = "";
	r->uri = strdup("/~alice/a/b.txt");
	r->query = strdup("q=1");
	r->path = strdup("/a/b.txt");
	r->filename = strdup("/nonexistent/web_scripts/a/b.txt");
	r->dir = strdup("/a/");
	r->cacheable = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ht_parse	 p;
	struct ht_dir	*d;
	struct ht_chain	 ch;
	struct ht_conf	 c;
	struct ht_req	 r;
	char		 method[] = "GET";
	const char	*prefix = "web_scripts/a/.htaccess:";

	memset(&p, 0, sizeof(p));
	p.file = "web_scripts/a/.htaccess";
	p.dir = "a/";
	if ((d = ht_parse_file(&p, (const char *)data, size)) == NULL) {
		REQUIRE(strncmp(p.err, prefix, strlen(prefix) - 1) == 0);
		return 0;
	}
	REQUIRE(p.err[0] == '\0');
	ch.d[0] = d;
	ch.d[1] = d;
	ch.n = 2;
	request(&r, method);
	if (ht_conf_build(&ch, "b.txt", &r, &c) == 0) {
		ht_run_phase(&c, HT_PH_ACCESS, &r);
		ht_run_phase(&c, HT_PH_DOCS, &r);
		php_args(&r);
	}
	ht_conf_free(&c);
	ht_req_free(&r);
	ht_dir_free(d);
	return 0;
}
