/*
 * fuzz_rewrite.c: rewrite rules and a request, both from the input.
 * The bytes before the first NUL are a .htaccess (one directive a line,
 * words split on blanks), the rest is the request's path, a '?' and its
 * query.  Whatever the rules, parsing and evaluation must not crash or
 * leak, an internal redirect stays under the locker's URL prefix with no
 * dot segment left, and a Location or a [CO] cookie carries no byte that
 * ends a header.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "rewrite.h"

#define MAX_ARGS	8

static struct rw_dir *
load(char *text)
{
	struct rw_dir	*d = NULL;
	char		*line, *save = NULL, *p, *argv[MAX_ARGS];
	char		 err[256];
	int		 argc;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		argc = 0;
		for (p = line; *p != '\0' && argc < MAX_ARGS;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\0')
				break;
			argv[argc++] = p;
			p += strcspn(p, " \t");
			if (*p != '\0')
				*p++ = '\0';
		}
		if (argc > 0 && rw_directive(&d, argv[0], argc - 1, argv + 1, err,
		    sizeof(err)) == -1)
			REQUIRE(err[0] != '\0');
	}
	return d;
}

static const char *
header(void *ctx, const char *name)
{
	(void)ctx;
	return strcasecmp(name, "Host") == 0 ? "alice.example.org" : "x\r\ny";
}

static void
check(const struct rw_req *r, enum rw_result res)
{
	size_t i;

	if (res == RW_INTERNAL) {
		REQUIRE(strncmp(r->new_uri, "/~alice", 7) == 0);
		REQUIRE(r->new_uri[7] == '/' || r->new_uri[7] == '\0');
		REQUIRE(strstr(r->new_uri, "/../") == NULL);
	}
	if (res == RW_STATUS)
		REQUIRE(r->status >= 300 && r->status <= 599);
	if (r->location != NULL)
		REQUIRE(strpbrk(r->location, "\r\n") == NULL);
	for (i = 0; i < r->ncookies; i++)
		REQUIRE(strpbrk(r->cookies[i], "\r\n") == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rw_dir	*d, *m;
	struct rw_req	 r;
	enum rw_result	 res;
	char		*buf, *req, *q, uri[4200];
	size_t		 n;
	int		 pass;

	if (size > 16384 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	n = strlen(buf);
	req = n < size ? buf + n + 1 : (char *)"/x";
	d = load(buf);
	m = rw_merge(NULL, d);	/* the worker evaluates merged sets */

	memset(&r, 0, sizeof(r));
	snprintf(uri, sizeof(uri), "/~alice/%s", req[0] == '/' ? req + 1 : req);
	if ((q = strchr(uri, '?')) != NULL)
		*q++ = '\0';
	r.method = "GET";
	r.uri = uri;
	r.query = q;
	r.host = "alice.example.org";
	r.server_name = "alice.example.org";
	r.remote_addr = "127.0.0.1";
	r.root_url = "/~alice";
	r.dir_url = "/~alice/";
	r.document_root = "/home/alice/web_scripts";
	r.webroot_fd = -1;
	r.header = header;
	for (pass = 0; pass <= RW_MAX_INTERNAL + 1; pass++) {
		res = rewrite_fixup(m, &r);
		if (res == RW_NONE)
			res = alias_fixup(m, &r);
		check(&r, res);
		if (res != RW_INTERNAL)
			break;
		snprintf(uri, sizeof(uri), "%s", r.new_uri);
	}
	REQUIRE(pass <= RW_MAX_INTERNAL);
	rw_req_clear(&r);
	rw_dir_free(m);
	rw_dir_free(d);
	free(buf);
	return 0;
}
