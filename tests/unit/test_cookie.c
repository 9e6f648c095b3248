/* test_cookie.c: which Domain attributes a locker's page keeps (cookie.c). */
#include <stdio.h>
#include <string.h>

#include "cookie.h"
#include "unit.h"

#define OWN	"alice.test.example"

static char	out[1024];

/* v through cookie_strip_domain for host own; the result as a string. */
static const char *
strip(const char *v, const char *own, int *removed)
{
	size_t n = cookie_strip_domain(v, strlen(v), own, out, removed);

	out[n] = '\0';
	return out;
}

static void
test_domain_ok(void)
{
	CHECK(cookie_domain_ok(OWN, strlen(OWN), OWN));
	CHECK(cookie_domain_ok(".alice.test.example", 19, OWN));
	CHECK(cookie_domain_ok("ALICE.Test.Example", 18, OWN));
	CHECK(cookie_domain_ok(" alice.test.example ", 20, OWN));
	CHECK(cookie_domain_ok("www.alice.test.example", 22, OWN));
	/* the service domain, its parents, other lockers, look-alikes */
	CHECK(!cookie_domain_ok("test.example", 12, OWN));
	CHECK(!cookie_domain_ok(".test.example", 13, OWN));
	CHECK(!cookie_domain_ok("example", 7, OWN));
	CHECK(!cookie_domain_ok("bob.test.example", 16, OWN));
	CHECK(!cookie_domain_ok("malice.test.example", 19, OWN));
	CHECK(!cookie_domain_ok("xalice.test.example", 19, OWN));
	CHECK(!cookie_domain_ok("alice.test.example.", 19, OWN));
	CHECK(!cookie_domain_ok("..alice.test.example", 20, OWN));
	CHECK(!cookie_domain_ok("a..alice.test.example", 21, OWN));
	CHECK(!cookie_domain_ok("%61lice.test.example", 20, OWN));
	CHECK(!cookie_domain_ok("", 0, OWN));
	CHECK(!cookie_domain_ok(".", 1, OWN));
	/* the shared host: no Domain at all */
	CHECK(!cookie_domain_ok(OWN, strlen(OWN), NULL));
	CHECK(!cookie_domain_ok("scripts.test.example", 20, NULL));
}

static void
test_strip(void)
{
	int r;

	CHECK_STR(strip("sid=x", OWN, &r), "sid=x");
	CHECK_INT(r, 0);
	CHECK_STR(strip("sid=x; Domain=test.example; Path=/", OWN, &r), "sid=x; Path=/");
	CHECK_INT(r, 1);
	CHECK_STR(strip("sid=x; Path=/; domain=.TEST.example", OWN, &r), "sid=x; Path=/");
	CHECK_INT(r, 1);
	CHECK_STR(strip("sid=x; Domain=alice.test.example; HttpOnly", OWN, &r),
	    "sid=x; Domain=alice.test.example; HttpOnly");
	CHECK_INT(r, 0);
	/* each Domain judged: the last one is the browser's */
	CHECK_STR(strip("a=b; Domain=alice.test.example; Domain=test.example", OWN, &r),
	    "a=b; Domain=alice.test.example");
	CHECK_INT(r, 1);
	CHECK_STR(strip("a=b;Domain=test.example;Domain=bob.test.example;Secure", OWN, &r),
	    "a=b;Secure");
	CHECK_INT(r, 2);
	/* spaces and tabs around the name; no value; empty value */
	CHECK_STR(strip("a=b; \tDoMaIn \t= test.example ;x", OWN, &r), "a=b;x");
	CHECK_STR(strip("a=b; Domain", OWN, &r), "a=b");
	CHECK_STR(strip("a=b; Domain=", OWN, &r), "a=b");
	/* not Domain: left alone; a value that merely holds "Domain=" too */
	CHECK_STR(strip("a=Domain=test.example; Domains=x; Path=/Domain=y", OWN, &r),
	    "a=Domain=test.example; Domains=x; Path=/Domain=y");
	CHECK_INT(r, 0);
	/* the shared host keeps no Domain, even its own */
	CHECK_STR(strip("a=b; Domain=scripts.test.example; Path=/~alice/", NULL, &r),
	    "a=b; Path=/~alice/");
	/* in place */
	{
		char	v[] = "s=1; Domain=test.example; Secure";
		size_t	n = cookie_strip_domain(v, strlen(v), OWN, v, &r);

		v[n] = '\0';
		CHECK_STR(v, "s=1; Secure");
	}
	CHECK_STR(strip(";Domain=test.example", OWN, &r), "");
	CHECK_STR(strip("", OWN, &r), "");
}

int
main(void)
{
	test_domain_ok();
	test_strip();
	UNIT_DONE();
}
