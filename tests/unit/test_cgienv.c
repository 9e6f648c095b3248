/* test_cgienv.c: what a request that came over TLS puts in a script's environment. */
#include <string.h>

#include "unit.h"
#include "lockerd.h"
#include "cgienv.h"

static struct env	e;

static int
has(const char *var)
{
	int i;

	for (i = 0; i < e.n; i++)
		if (strcmp(e.v[i], var) == 0)
			return 1;
	return 0;
}

static int
has_name(const char *name)
{
	size_t	n = strlen(name);
	int	i;

	for (i = 0; i < e.n; i++)
		if (strncmp(e.v[i], name, n) == 0 && e.v[i][n] == '=')
			return 1;
	return 0;
}

static void
env_of(uint8_t flags, const char *tls)
{
	struct wire_request	q;
	struct wire_view	v;
	struct script_req	s;

	memset(&q, 0, sizeof(q));
	memset(&v, 0, sizeof(v));
	memset(&s, 0, sizeof(s));
	q.flags = flags;
	q.local_port = 443;
	q.content_length = -1;
	v.s[WS_URL] = "/x.cgi";
	v.l[WS_URL] = 6;
	v.s[WS_TLS] = tls;
	v.l[WS_TLS] = strlen(tls);
	s.q = &q;
	s.view = &v;
	s.filename = "/srv/lockers/alice/web_scripts/x.cgi";
	s.docroot = "/srv/lockers/alice/web_scripts";
	s.path_info = "";
	build_env(&e, &s);
}

/* front's lines become SSL_* variables, and nothing else can come of them. */
static void
test_tls_variables(void)
{
	env_of(WREQ_TLS, "SSL_PROTOCOL=TLSv1.3\nSSL_CLIENT_S_DN=O=MIT,CN=A. Hacker\n"
	    "PATH=/tmp/evil\nLD_PRELOAD=/tmp/x.so\nSSL_lower=1\nSSL_CTRL=a\tb\n"
	    "HTTPS=off\nSSL_=x\nSSL_LAST=1");
	CHECK(has("HTTPS=on"));
	CHECK(has("REQUEST_SCHEME=https"));
	CHECK(has("SERVER_PORT=443"));
	CHECK(has("SSL_PROTOCOL=TLSv1.3"));
	CHECK(has("SSL_CLIENT_S_DN=O=MIT,CN=A. Hacker"));
	CHECK(has("SSL_LAST=1"));		/* the last line needs no newline */
	CHECK(!has("PATH=/tmp/evil") && has("PATH=/usr/local/bin:/usr/bin:/bin"));
	CHECK(!has_name("LD_PRELOAD"));
	CHECK(!has_name("SSL_lower"));
	CHECK(!has_name("SSL_CTRL"));		/* a control byte in the value */
	CHECK(!has("HTTPS=off"));
	/* Plain HTTP: none of it, whatever the strings hold. */
	env_of(0, "SSL_PROTOCOL=TLSv1.3\n");
	CHECK(has("REQUEST_SCHEME=http"));
	CHECK(!has_name("HTTPS"));
	CHECK(!has_name("SSL_PROTOCOL"));
}

int
main(void)
{
	test_tls_variables();
	UNIT_DONE();
}
