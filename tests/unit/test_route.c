/* test_route.c: the routing table, its blob, and host canonicalisation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "unit.h"

static void *
build(size_t *len)
{
	struct route_builder	*b;
	void			*blob = NULL;

	b = route_builder_new("example.org");
	CHECK(b != NULL);
	CHECK_INT(route_builder_add_hostname(b, "scripts.example.org"), 0);
	CHECK_INT(route_builder_add_hostname(b, "www.example.org"), 0);
	CHECK_INT(route_builder_add_hostname(b, "web.example.net"), 0);
	CHECK_INT(route_builder_add_hostname(b, "web.example.net"), 0);	/* repeat */
	CHECK_INT(route_builder_add_locker(b, "bob"), 0);
	CHECK_INT(route_builder_add_locker(b, "alice"), 0);
	CHECK_INT(route_builder_add_locker(b, "sipb-club"), 0);
	CHECK_INT(route_builder_add_vhost(b, "www.alice.net", "alice", ""), 0);
	CHECK_INT(route_builder_add_vhost_https(b, "blog.alice.net", "alice", "blog",
	    ROUTE_HTTPS_ONLY), 0);
	CHECK_INT(route_builder_add_vhost_https(b, "deep.example.com", "bob", "a/b.c/d",
	    ROUTE_HTTPS_PLAIN_OK), 0);
	/* A vhost may even sit under the domain, where no locker is. */
	CHECK_INT(route_builder_add_vhost(b, "x.y.example.org", "bob", ""), 0);
	CHECK_INT(route_builder_add_vhost(b, "carol.example.org", "bob", "carol"), 0);
	/* Named like a service host, or a locker's own name: it loses. */
	CHECK_INT(route_builder_add_vhost(b, "www.example.org", "bob", ""), 0);
	CHECK_INT(route_builder_add_vhost(b, "web.example.net", "bob", ""), 0);
	CHECK_INT(route_builder_add_vhost(b, "alice.example.org", "bob", ""), 0);
	CHECK_INT(route_builder_finish(b, &blob, len), 0);
	route_builder_free(b);
	return blob;
}

static struct route_table *
table(void)
{
	struct route_table	*t;
	void			*blob;
	size_t			 len;

	blob = build(&len);
	t = route_table_load(blob, len);
	CHECK(t != NULL);
	free(blob);
	return t;
}

static enum route_status
look(const struct route_table *t, const char *host, const char *path,
    struct route_result *r)
{
	return route_lookup(t, host, strlen(host), path, r);
}

/* A ROUTE_LOCKER answer with all three fields as expected. */
#define CHECK_ROUTE(t, host, path, locker_, fs, prefix) do {		\
	struct route_result _r;						\
	CHECK_INT(look((t), (host), (path), &_r), ROUTE_LOCKER);	\
	CHECK_STR(_r.locker, (locker_));				\
	CHECK_STR(_r.fs_path, (fs));					\
	CHECK_STR(_r.url_prefix, (prefix));				\
} while (0)

static void
test_canon(void)
{
	char	out[HOSTNAME_MAX + 1], big[300];
	size_t	i;
	const char *bad[] = {
		"", ".", "..", "a..b", ".a", "a_b", "a b", "a/b", "a:b:c", "a:8x",
		"exa\001mple.org", "[::1", "[::1]x", "[::1]:8x", "[zz::1]", "[]",
		"[::1]]", "[::1]:80:80", "a.b..", ":80", "caf\xc3\xa9.org",
	};

	CHECK_INT(route_canon_host("Example.ORG", 11, out, sizeof(out)), 0);
	CHECK_STR(out, "example.org");
	CHECK_INT(route_canon_host("example.org:8080", 16, out, sizeof(out)), 0);
	CHECK_STR(out, "example.org");
	CHECK_INT(route_canon_host("example.org.", 12, out, sizeof(out)), 0);
	CHECK_STR(out, "example.org");
	CHECK_INT(route_canon_host("EXAMPLE.org.:443", 16, out, sizeof(out)), 0);
	CHECK_STR(out, "example.org");
	CHECK_INT(route_canon_host("example.org:", 12, out, sizeof(out)), 0);
	CHECK_STR(out, "example.org");
	CHECK_INT(route_canon_host("localhost", 9, out, sizeof(out)), 0);
	CHECK_STR(out, "localhost");
	CHECK_INT(route_canon_host("10.0.0.1:80", 11, out, sizeof(out)), 0);
	CHECK_STR(out, "10.0.0.1");
	CHECK_INT(route_canon_host("[::1]", 5, out, sizeof(out)), 0);
	CHECK_STR(out, "[::1]");
	CHECK_INT(route_canon_host("[2001:DB8::1]:8080", 18, out, sizeof(out)), 0);
	CHECK_STR(out, "[2001:db8::1]");
	CHECK_INT(route_canon_host("[::ffff:10.0.0.1]", 17, out, sizeof(out)), 0);
	CHECK_STR(out, "[::ffff:10.0.0.1]");
	/* Only the first len bytes count. */
	CHECK_INT(route_canon_host("alice.example.orgXX", 17, out, sizeof(out)), 0);
	CHECK_STR(out, "alice.example.org");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(route_canon_host(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
	CHECK_INT(route_canon_host("a\0b", 3, out, sizeof(out)), -1);
	CHECK_INT(route_canon_host("[::1\0]", 6, out, sizeof(out)), -1);

	/* Label and name lengths. */
	memset(big, 'a', 63);
	strcpy(big + 63, ".org");
	CHECK_INT(route_canon_host(big, strlen(big), out, sizeof(out)), 0);
	memset(big, 'a', 64);
	strcpy(big + 64, ".org");
	CHECK_INT(route_canon_host(big, strlen(big), out, sizeof(out)), -1);
	for (i = 0; i < 253; i++)
		big[i] = (i % 2) ? '.' : 'a';
	big[253] = '\0';
	CHECK_INT(route_canon_host(big, 253, out, sizeof(out)), 0);
	CHECK_INT(route_canon_host(big, 253, out, 253), -1);	/* no room */
	big[253] = '.';
	big[254] = '\0';
	CHECK_INT(route_canon_host(big, 254, out, sizeof(out)), 0);	/* dot stripped */
	big[253] = 'a';
	big[254] = '\0';
	CHECK_INT(route_canon_host(big, 254, out, sizeof(out)), -1);
}

static void
test_builder_refuses(void)
{
	struct route_builder	*b;
	void			*blob;
	size_t			 len;
	char			 longsub[SUBDIR_MAX + 2];

	CHECK(route_builder_new("") == NULL);
	CHECK(route_builder_new("Example.org") == NULL);
	CHECK(route_builder_new("example.org.") == NULL);
	CHECK(route_builder_new("example.org:80") == NULL);
	CHECK(route_builder_new("[::1]") == NULL);
	CHECK(route_builder_new(NULL) == NULL);

	b = route_builder_new("example.org");
	CHECK(b != NULL);
	CHECK_INT(route_builder_add_locker(b, "Alice"), -1);
	CHECK_INT(route_builder_add_locker(b, "-a"), -1);
	CHECK_INT(route_builder_add_locker(b, "a-"), -1);
	CHECK_INT(route_builder_add_locker(b, "123"), -1);
	CHECK_INT(route_builder_add_locker(b, ""), -1);
	CHECK_INT(route_builder_add_locker(b, "a.b"), -1);
	/* The one syntax of directory.c's signup check (locker_label_check). */
	CHECK_INT(route_builder_add_locker(b, "ab--cd"), -1);
	CHECK_INT(route_builder_add_locker(b, "xn--nxasmq6b"), -1);
	CHECK_INT(locker_label_check("a-", 2, NULL, 0), -1);
	CHECK_INT(locker_label_check("007", 3, NULL, 0), -1);
	CHECK_INT(locker_label_check("a-b--c", 6, NULL, 0), 0);
	CHECK_INT(route_builder_add_hostname(b, "Web.example.org"), -1);
	CHECK_INT(route_builder_add_hostname(b, "a..b"), -1);
	CHECK_INT(route_builder_add_locker(b, "alice"), 0);
	CHECK_INT(route_builder_add_vhost(b, "Www.alice.net", "alice", ""), -1);
	CHECK_INT(route_builder_add_vhost(b, "[::1]", "alice", ""), -1);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", "../x"), -1);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", "a/../x"), -1);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", "/x"), -1);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", "x/"), -1);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", "a//b"), -1);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", ".git"), -1);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", "a/.b"), -1);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", "a b"), -1);
	memset(longsub, 'a', sizeof(longsub) - 1);
	longsub[sizeof(longsub) - 1] = '\0';
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", longsub), -1);
	longsub[SUBDIR_MAX] = '\0';
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", longsub), 0);
	CHECK_INT(route_builder_add_vhost(b, "b.net", "alice", "A_b.c~d-e/f"), 0);
	CHECK_INT(route_builder_add_vhost(b, "c.net", "alice", NULL), 0);
	CHECK_INT(route_builder_finish(b, &blob, &len), 0);
	free(blob);

	/* A vhost naming no locker, or a host given twice, spoils the table. */
	CHECK_INT(route_builder_add_vhost(b, "d.net", "nobody-here", ""), 0);
	CHECK_INT(route_builder_finish(b, &blob, &len), -1);
	route_builder_free(b);

	b = route_builder_new("example.org");
	CHECK_INT(route_builder_add_locker(b, "alice"), 0);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", ""), 0);
	CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", "x"), 0);
	CHECK_INT(route_builder_finish(b, &blob, &len), -1);
	route_builder_free(b);
	route_builder_free(NULL);
}

/* Each vhost's own choice of HTTPS reaches front; other names have none. */
static void
test_vhost_https(const struct route_table *t)
{
	struct route_result	r;
	struct route_builder	*b;

	CHECK_INT(look(t, "blog.alice.net", "/", &r), ROUTE_LOCKER);
	CHECK_INT(r.https, ROUTE_HTTPS_ONLY);
	CHECK_INT(look(t, "deep.example.com", "/", &r), ROUTE_LOCKER);
	CHECK_INT(r.https, ROUTE_HTTPS_PLAIN_OK);
	CHECK_INT(look(t, "www.alice.net", "/", &r), ROUTE_LOCKER);
	CHECK_INT(r.https, ROUTE_HTTPS_DEFAULT);
	CHECK_INT(look(t, "alice.example.org", "/", &r), ROUTE_LOCKER);
	CHECK_INT(r.https, ROUTE_HTTPS_DEFAULT);
	CHECK_INT(look(t, "example.org", "/~alice/", &r), ROUTE_LOCKER);
	CHECK_INT(r.https, ROUTE_HTTPS_DEFAULT);
	b = route_builder_new("example.org");
	CHECK_INT(route_builder_add_vhost_https(b, "a.net", "alice", "", 3), -1);
	CHECK_INT(route_builder_add_vhost_https(b, "a.net", "alice", "", -1), -1);
	route_builder_free(b);
}

static void
test_vhosts(const struct route_table *t)
{
	CHECK_ROUTE(t, "www.alice.net", "/", "alice", "/", "");
	CHECK_ROUTE(t, "www.alice.net", "/x/y.html", "alice", "/x/y.html", "");
	CHECK_ROUTE(t, "blog.alice.net", "/", "alice", "/blog/", "");
	CHECK_ROUTE(t, "blog.alice.net", "/2024/post", "alice", "/blog/2024/post", "");
	CHECK_ROUTE(t, "deep.example.com", "/i", "bob", "/a/b.c/d/i", "");
	/* /~ means nothing special on a vhost. */
	CHECK_ROUTE(t, "www.alice.net", "/~bob/x", "alice", "/~bob/x", "");
	/* Vhosts win over the depth rule and where no locker is. */
	CHECK_ROUTE(t, "carol.example.org", "/", "bob", "/carol/", "");
	CHECK_ROUTE(t, "x.y.example.org", "/z", "bob", "/z", "");
	/* Case, port and trailing dot do not matter. */
	CHECK_ROUTE(t, "BLOG.Alice.NET", "/p", "alice", "/blog/p", "");
	CHECK_ROUTE(t, "blog.alice.net:8080", "/p", "alice", "/blog/p", "");
	CHECK_ROUTE(t, "blog.alice.net.", "/p", "alice", "/blog/p", "");
	CHECK_ROUTE(t, "Blog.Alice.Net.:443", "/p", "alice", "/blog/p", "");
	test_vhost_https(t);
}

static void
test_subdomains(const struct route_table *t)
{
	struct route_result r;

	CHECK_ROUTE(t, "alice.example.org", "/", "alice", "/", "");
	CHECK_ROUTE(t, "alice.example.org", "/a/b", "alice", "/a/b", "");
	CHECK_ROUTE(t, "sipb-club.example.org", "/x", "sipb-club", "/x", "");
	CHECK_ROUTE(t, "ALICE.Example.Org:80", "/", "alice", "/", "");
	CHECK_ROUTE(t, "alice.example.org.", "/", "alice", "/", "");
	CHECK_ROUTE(t, "alice.example.org", "/~bob/", "alice", "/~bob/", "");
	CHECK_INT(look(t, "nobody.example.org", "/", &r), ROUTE_NO_LOCKER);
	CHECK_INT(look(t, "al.example.org", "/", &r), ROUTE_NO_LOCKER);
	/* Deeper names are nobody's. */
	CHECK_INT(look(t, "a.alice.example.org", "/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_INT(look(t, "www.alice.example.org", "/", &r), ROUTE_UNKNOWN_HOST);
	/* Names that merely end like the domain. */
	CHECK_INT(look(t, "aliceexample.org", "/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_INT(look(t, "alice.example.org.evil", "/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_INT(look(t, "alice.xexample.org", "/", &r), ROUTE_UNKNOWN_HOST);
}

static void
test_service(const struct route_table *t)
{
	struct route_result	 r;
	const char		*hosts[] = {
		"example.org", "EXAMPLE.ORG:80", "example.org.", "scripts.example.org",
		"www.example.org", "web.example.net", "Web.Example.Net.:8443", "",
	};
	size_t			 i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		CHECK_ROUTE(t, hosts[i], "/~alice/", "alice", "/", "/~alice");
		CHECK_ROUTE(t, hosts[i], "/~alice", "alice", "", "/~alice");
		CHECK_ROUTE(t, hosts[i], "/~alice/a/b.php", "alice", "/a/b.php", "/~alice");
		CHECK_ROUTE(t, hosts[i], "/~sipb-club/x/", "sipb-club", "/x/", "/~sipb-club");
		CHECK_INT(look(t, hosts[i], "/", &r), ROUTE_SERVICE);
		CHECK_INT(look(t, hosts[i], "/index.html", &r), ROUTE_SERVICE);
		CHECK_INT(look(t, hosts[i], "/alice/", &r), ROUTE_SERVICE);
		CHECK_INT(look(t, hosts[i], "/x/~alice/", &r), ROUTE_SERVICE);
		CHECK_INT(look(t, hosts[i], "/~nobody", &r), ROUTE_NO_LOCKER);
		CHECK_INT(look(t, hosts[i], "/~nobody/x", &r), ROUTE_NO_LOCKER);
		CHECK_INT(look(t, hosts[i], "/~al", &r), ROUTE_NO_LOCKER);
		CHECK_INT(look(t, hosts[i], "/~alicex", &r), ROUTE_NO_LOCKER);
		CHECK_INT(look(t, hosts[i], "/~", &r), ROUTE_NO_LOCKER);
		CHECK_INT(look(t, hosts[i], "/~/", &r), ROUTE_NO_LOCKER);
		/* Paths are case-sensitive; only host names are not. */
		CHECK_INT(look(t, hosts[i], "/~Alice/", &r), ROUTE_NO_LOCKER);
	}
	/* Without a Host header at all. */
	CHECK_INT(route_lookup(t, NULL, 0, "/", &r), ROUTE_SERVICE);
	CHECK_ROUTE(t, "", "/~bob/", "bob", "/", "/~bob");
}

static void
test_unknown(const struct route_table *t)
{
	struct route_result	 r;
	const char		*hosts[] = {
		"example.com", "example.org.uk", "org", "10.0.0.1", "[::1]",
		"localhost", "bad_host", "a..b", "example.org:x", "www.alice.net.evil",
	};
	size_t			 i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		CHECK_INT(look(t, hosts[i], "/", &r), ROUTE_UNKNOWN_HOST);
		CHECK_INT(look(t, hosts[i], "/~alice/", &r), ROUTE_UNKNOWN_HOST);
	}
	CHECK_INT(route_lookup(NULL, "example.org", 11, "/", &r), ROUTE_UNKNOWN_HOST);
}

/* A path that would overflow fs_path is refused, never truncated. */
static void
test_long_path(const struct route_table *t)
{
	struct route_result	 r;
	char			*path;
	size_t			 n = sizeof(r.fs_path);

	path = malloc(n + 10);
	memset(path, 'a', n + 10);
	path[0] = '/';
	path[n - 1] = '\0';		/* strlen 4095: just fits */
	CHECK_INT(look(t, "alice.example.org", path, &r), ROUTE_LOCKER);
	CHECK_INT(look(t, "blog.alice.net", path, &r), ROUTE_NO_LOCKER);
	path[n - 1] = 'a';
	path[n] = '\0';
	CHECK_INT(look(t, "alice.example.org", path, &r), ROUTE_NO_LOCKER);
	free(path);
}

/* Service host names and IP literals, with the domain deeper than usual. */
static void
test_ip_service(void)
{
	struct route_builder	*b;
	struct route_table	*t;
	struct route_result	 r;
	void			*blob;
	size_t			 len;

	b = route_builder_new("scripts.mit.edu");
	CHECK_INT(route_builder_add_hostname(b, "127.0.0.1"), 0);
	CHECK_INT(route_builder_add_hostname(b, "[::1]"), 0);
	CHECK_INT(route_builder_add_locker(b, "mit"), 0);
	CHECK_INT(route_builder_finish(b, &blob, &len), 0);
	route_builder_free(b);
	t = route_table_load(blob, len);
	free(blob);
	CHECK(t != NULL);
	CHECK_ROUTE(t, "127.0.0.1:8080", "/~mit/", "mit", "/", "/~mit");
	CHECK_ROUTE(t, "[::1]:8080", "/~mit/", "mit", "/", "/~mit");
	CHECK_ROUTE(t, "[0:0::1]", "/~mit", "mit", "", "/~mit");
	CHECK_ROUTE(t, "mit.scripts.mit.edu", "/", "mit", "/", "");
	CHECK_INT(look(t, "mit.edu", "/~mit/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_INT(look(t, "10.0.0.1", "/~mit/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_INT(look(t, "scripts.mit.edu", "/x", &r), ROUTE_SERVICE);
	CHECK_INT(route_table_nlockers(t), 1);
	route_table_free(t);
}

static void
test_many(void)
{
	struct route_builder	*b;
	struct route_table	*t;
	struct route_result	 r;
	char			 name[64], host[HOSTNAME_MAX + 1], path[128];
	void			*blob;
	size_t			 len;
	int			 i, ok = 1;

	b = route_builder_new("example.org");
	/* Added in reverse, so the builder has to sort. */
	for (i = 20000; i > 0; i--) {
		snprintf(name, sizeof(name), "l%05d", i);
		ok &= route_builder_add_locker(b, name) == 0;
		snprintf(host, sizeof(host), "www.l%05d.com", i);
		ok &= route_builder_add_vhost(b, host, name, i % 2 ? "sub" : "") == 0;
	}
	CHECK(ok);
	CHECK_INT(route_builder_finish(b, &blob, &len), 0);
	route_builder_free(b);
	t = route_table_load(blob, len);
	free(blob);
	CHECK(t != NULL);
	CHECK_INT(route_table_nlockers(t), 20000);

	for (i = 1; i <= 20000; i++) {
		snprintf(name, sizeof(name), "l%05d", i);
		snprintf(host, sizeof(host), "%s.example.org", name);
		ok &= look(t, host, "/", &r) == ROUTE_LOCKER && strcmp(r.locker, name) == 0;
		snprintf(path, sizeof(path), "/~%s/x", name);
		ok &= look(t, "example.org", path, &r) == ROUTE_LOCKER &&
		    strcmp(r.locker, name) == 0 && strcmp(r.fs_path, "/x") == 0;
		snprintf(host, sizeof(host), "WWW.%s.com", name);
		ok &= look(t, host, "/y", &r) == ROUTE_LOCKER &&
		    strcmp(r.locker, name) == 0 &&
		    strcmp(r.fs_path, i % 2 ? "/sub/y" : "/y") == 0;
	}
	CHECK(ok);
	CHECK_INT(look(t, "l00000.example.org", "/", &r), ROUTE_NO_LOCKER);
	CHECK_INT(look(t, "l20001.example.org", "/", &r), ROUTE_NO_LOCKER);
	CHECK_INT(look(t, "www.l20001.com", "/", &r), ROUTE_UNKNOWN_HOST);
	route_table_free(t);
}

static void
test_empty_table(void)
{
	struct route_builder	*b;
	struct route_table	*t;
	struct route_result	 r;
	void			*blob;
	size_t			 len;

	b = route_builder_new("example.org");
	CHECK_INT(route_builder_finish(b, &blob, &len), 0);
	route_builder_free(b);
	t = route_table_load(blob, len);
	free(blob);
	CHECK(t != NULL);
	CHECK_INT(route_table_nlockers(t), 0);
	CHECK_INT(look(t, "example.org", "/~a/", &r), ROUTE_NO_LOCKER);
	CHECK_INT(look(t, "a.example.org", "/", &r), ROUTE_NO_LOCKER);
	CHECK_INT(look(t, "example.org", "/", &r), ROUTE_SERVICE);
	route_table_free(t);
}

/* What a loaded table answers must not depend on what it was loaded from. */
static void
probe(const struct route_table *t)
{
	struct route_result r;

	look(t, "alice.example.org", "/x", &r);
	look(t, "example.org", "/~alice/x", &r);
	look(t, "blog.alice.net", "/", &r);
	look(t, "", "/~bob", &r);
}

static void
test_truncated(void)
{
	struct route_table	*t;
	unsigned char		*blob, *copy;
	size_t			 len, i;
	int			 null = 1;

	blob = build(&len);
	for (i = 0; i < len; i++) {
		/* A fresh allocation of exactly i bytes, so ASan sees overreads. */
		copy = malloc(i ? i : 1);
		memcpy(copy, blob, i);
		t = route_table_load(copy, i);
		null &= t == NULL;
		route_table_free(t);
		free(copy);
	}
	CHECK(null);
	/* Trailing bytes are as wrong as missing ones. */
	copy = malloc(len + 1);
	memcpy(copy, blob, len);
	copy[len] = 0;
	CHECK(route_table_load(copy, len + 1) == NULL);
	free(copy);
	CHECK(route_table_load(NULL, 0) == NULL);
	free(blob);
}

static void
test_corrupt(void)
{
	struct route_table	*t;
	unsigned char		*blob, *copy;
	size_t			 len, i;
	unsigned int		 seed = 12345;
	int			 bit, loaded = 0, rejected = 0, round;

	blob = build(&len);
	copy = malloc(len);

	/* Every single-bit flip. */
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, blob, len);
			copy[i] ^= 1 << bit;
			if ((t = route_table_load(copy, len)) != NULL) {
				probe(t);
				loaded++;
			} else
				rejected++;
			route_table_free(t);
		}
	}
	/* Random multi-byte damage. */
	for (round = 0; round < 20000; round++) {
		memcpy(copy, blob, len);
		for (i = 0; i < 1 + (size_t)(rand_r(&seed) % 4); i++)
			copy[rand_r(&seed) % len] = rand_r(&seed) & 0xff;
		if ((t = route_table_load(copy, len)) != NULL) {
			probe(t);
			loaded++;
		} else
			rejected++;
		route_table_free(t);
	}
	/* A vhost's https byte past ROUTE_HTTPS_PLAIN_OK: refused.  The blob
	 * ends with the last vhost's. */
	memcpy(copy, blob, len);
	copy[len - 1] = 3;
	CHECK(route_table_load(copy, len) == NULL);
	copy[len - 1] = ROUTE_HTTPS_PLAIN_OK;
	CHECK((t = route_table_load(copy, len)) != NULL);
	route_table_free(t);
	/* Flips of the magic, version and counts must all be refused. */
	for (i = 0; i < 20; i++) {
		memcpy(copy, blob, len);
		copy[i] ^= 0x01;
		CHECK(route_table_load(copy, len) == NULL);
	}
	CHECK(rejected > 0);
	printf("corrupt blobs: %d rejected, %d loaded (still well-formed)\n",
	    rejected, loaded);
	free(copy);
	free(blob);
}

/* Counts claiming more than the blob holds are refused before allocating. */
static void
test_huge_counts(void)
{
	struct route_table *t;
	unsigned char	*blob;
	size_t		 len;
	int		 field;

	blob = build(&len);
	for (field = 0; field < 3; field++) {
		unsigned char *p = blob + 8 + 4 * field;
		unsigned char save[4];

		memcpy(save, p, 4);
		memset(p, 0xff, 4);
		CHECK(route_table_load(blob, len) == NULL);
		memcpy(p, save, 4);
	}
	t = route_table_load(blob, len);	/* restored: fine again */
	CHECK(t != NULL);
	route_table_free(t);
	free(blob);
}

/* A table of the given lockers and "host=locker/subdir" vhosts. */
static struct route_table *
small_table(const char *domain, const char *const *lockers, const char *const *vhosts)
{
	struct route_builder	*b = route_builder_new(domain);
	struct route_table	*t;
	void			*blob = NULL;
	size_t			 len;
	char			 host[128], *locker, *subdir;

	CHECK(b != NULL);
	for (; *lockers != NULL; lockers++)
		CHECK_INT(route_builder_add_locker(b, *lockers), 0);
	for (; *vhosts != NULL; vhosts++) {
		snprintf(host, sizeof(host), "%s", *vhosts);
		locker = strchr(host, '=');
		*locker++ = '\0';
		subdir = strchr(locker, '/');
		*subdir++ = '\0';
		CHECK_INT(route_builder_add_vhost(b, host, locker, subdir), 0);
	}
	CHECK_INT(route_builder_finish(b, &blob, &len), 0);
	route_builder_free(b);
	t = route_table_load(blob, len);
	CHECK(t != NULL);
	free(blob);
	return t;
}

static void
diff_cb(const char *locker, void *arg)
{
	char *seen = arg;

	strcat(seen, locker);
	strcat(seen, " ");
}

static void
test_diff(void)
{
	static const char *const lk[] = { "alice", "bob", "carol", NULL };
	static const char *const lk2[] = { "alice", "bob", "dave", NULL };
	static const char *const vh[] = { "a.net=alice/", "b.net=bob/x", NULL };
	static const char *const vh_sub[] = { "a.net=alice/", "b.net=bob/y", NULL };
	static const char *const vh_move[] = { "a.net=bob/", "b.net=bob/x", NULL };
	static const char *const vh_add[] = { "a.net=alice/", "b.net=bob/x", "c.net=carol/",
	    NULL };
	static const char *const none[] = { NULL };
	struct route_table	*t = small_table("example.org", lk, vh), *u;
	char			 seen[256];

	seen[0] = '\0';
	u = small_table("example.org", lk, vh);
	CHECK_INT(route_table_diff(t, u, diff_cb, seen), 0);
	CHECK_STR(seen, "");			/* the same table: nothing */
	route_table_free(u);
	u = small_table("example.org", lk, vh_add);
	CHECK_INT(route_table_diff(t, u, diff_cb, seen), 0);
	CHECK_STR(seen, "carol ");		/* only the locker of the new vhost */
	route_table_free(u);
	seen[0] = '\0';
	u = small_table("example.org", lk, vh_sub);
	CHECK_INT(route_table_diff(t, u, diff_cb, seen), 0);
	CHECK_STR(seen, "bob bob ");		/* another subdir */
	route_table_free(u);
	seen[0] = '\0';
	u = small_table("example.org", lk, vh_move);
	CHECK_INT(route_table_diff(t, u, diff_cb, seen), 0);
	CHECK_STR(seen, "alice bob ");		/* a vhost moved: both */
	route_table_free(u);
	seen[0] = '\0';
	u = small_table("example.org", lk2, vh);
	CHECK_INT(route_table_diff(t, u, diff_cb, seen), 0);
	CHECK_STR(seen, "carol dave ");		/* one gone, one new */
	route_table_free(u);
	seen[0] = '\0';
	u = small_table("example.org", none, none);
	CHECK_INT(route_table_diff(t, u, diff_cb, seen), 0);
	CHECK_STR(seen, "alice bob carol alice bob ");
	route_table_free(u);
	u = small_table("example.net", lk, vh);	/* another domain: everything */
	CHECK_INT(route_table_diff(t, u, diff_cb, seen), -1);
	CHECK_INT(route_table_diff(NULL, u, diff_cb, seen), -1);
	route_table_free(u);
	route_table_free(t);
}

static struct route_delta
delta(int op, const char *locker, const char *host, const char *subdir, int https)
{
	struct route_delta d;

	memset(&d, 0, sizeof(d));
	d.op = (uint8_t)op;
	d.https = (uint8_t)https;
	snprintf(d.locker, sizeof(d.locker), "%s", locker);
	snprintf(d.host, sizeof(d.host), "%s", host);
	snprintf(d.subdir, sizeof(d.subdir), "%s", subdir);
	return d;
}

static int
apply(struct route_table *t, int op, const char *locker, const char *host,
    const char *subdir, int https, char *seen)
{
	struct route_delta d = delta(op, locker, host, subdir, https);

	if (seen != NULL)
		seen[0] = '\0';
	return route_table_apply(t, &d, seen ? diff_cb : NULL, seen);
}

/* One change at a time gives what a whole new table would. */
static void
test_apply(void)
{
	struct route_table	*t = table();
	struct route_result	 r;
	struct route_delta	 d;
	char			 seen[256], name[64];
	int			 i;

	CHECK_INT(look(t, "dave.example.org", "/", &r), ROUTE_NO_LOCKER);
	CHECK_INT(apply(t, ROUTE_ADD_LOCKER, "dave", "", "", 0, seen), 0);
	CHECK_STR(seen, "dave ");
	CHECK_ROUTE(t, "dave.example.org", "/x", "dave", "/x", "");
	CHECK_ROUTE(t, "www.example.org", "/~dave/y", "dave", "/y", "/~dave");
	CHECK_INT(route_table_nlockers(t), 4);
	CHECK_INT(apply(t, ROUTE_ADD_LOCKER, "dave", "", "", 0, seen), 0);	/* again */
	CHECK_STR(seen, "");
	CHECK_INT(route_table_nlockers(t), 4);
	/* A vhost: new, then moved to another locker and subdir. */
	CHECK_INT(apply(t, ROUTE_SET_VHOST, "dave", "dave.net", "", ROUTE_HTTPS_ONLY, seen), 0);
	CHECK_STR(seen, "dave ");
	CHECK_INT(look(t, "dave.net", "/a", &r), ROUTE_LOCKER);
	CHECK_STR(r.locker, "dave");
	CHECK_INT(r.https, ROUTE_HTTPS_ONLY);
	CHECK_INT(apply(t, ROUTE_SET_VHOST, "alice", "dave.net", "sub", 0, seen), 0);
	CHECK_STR(seen, "dave alice ");
	CHECK_ROUTE(t, "dave.net", "/a", "alice", "/sub/a", "");
	CHECK_ROUTE(t, "www.alice.net", "/", "alice", "/", "");	/* the others stay */
	CHECK_ROUTE(t, "blog.alice.net", "/p", "alice", "/blog/p", "");
	/* Refused: a locker not in the table, bad names, an unknown op,
	 * a field without its NUL; the table is as it was. */
	CHECK_INT(apply(t, ROUTE_SET_VHOST, "nobody", "n.net", "", 0, NULL), -1);
	CHECK_INT(look(t, "n.net", "/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_INT(apply(t, ROUTE_SET_VHOST, "bob", "bad..net", "", 0, NULL), -1);
	CHECK_INT(apply(t, ROUTE_SET_VHOST, "bob", "b.net", "../x", 0, NULL), -1);
	CHECK_INT(apply(t, ROUTE_SET_VHOST, "bob", "b.net", "", 3, NULL), -1);
	CHECK_INT(apply(t, ROUTE_ADD_LOCKER, "Bad_Name", "", "", 0, NULL), -1);
	CHECK_INT(apply(t, ROUTE_ADD_LOCKER, "", "", "", 0, NULL), -1);
	CHECK_INT(apply(t, 0, "bob", "", "", 0, NULL), -1);
	CHECK_INT(apply(t, 9, "bob", "", "", 0, NULL), -1);
	d = delta(ROUTE_ADD_LOCKER, "x", "", "", 0);
	memset(d.locker, 'a', sizeof(d.locker));
	CHECK_INT(route_table_apply(t, &d, NULL, NULL), -1);
	d = delta(ROUTE_DEL_VHOST, "", "x.net", "", 0);
	memset(d.host, 'a', sizeof(d.host));
	CHECK_INT(route_table_apply(t, &d, NULL, NULL), -1);
	CHECK_INT(route_table_apply(NULL, &d, NULL, NULL), -1);
	CHECK_INT(route_table_nlockers(t), 4);
	/* A vhost removed; one that is not there is nothing to do. */
	CHECK_INT(apply(t, ROUTE_DEL_VHOST, "", "dave.net", "", 0, seen), 0);
	CHECK_STR(seen, "alice ");
	CHECK_INT(look(t, "dave.net", "/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_INT(apply(t, ROUTE_DEL_VHOST, "", "dave.net", "", 0, seen), 0);
	CHECK_STR(seen, "");
	/* A locker removed takes its vhosts with it, and no other's. */
	CHECK_INT(apply(t, ROUTE_DEL_LOCKER, "alice", "", "", 0, seen), 0);
	CHECK_STR(seen, "alice ");
	CHECK_INT(look(t, "www.example.org", "/~alice/", &r), ROUTE_NO_LOCKER);
	CHECK_ROUTE(t, "alice.example.org", "/", "bob", "/", "");	/* bob's vhost now */
	CHECK_INT(look(t, "www.alice.net", "/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_INT(look(t, "blog.alice.net", "/", &r), ROUTE_UNKNOWN_HOST);
	CHECK_ROUTE(t, "deep.example.com", "/z", "bob", "/a/b.c/d/z", "");
	CHECK_INT(apply(t, ROUTE_DEL_LOCKER, "alice", "", "", 0, seen), 0);
	CHECK_INT(route_table_nlockers(t), 3);
	/* Many, in an order that inserts everywhere: the arrays grow and
	 * stay sorted (every one is found by binary search). */
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "m%d", (i * 7919) % 500);
		CHECK_INT(apply(t, ROUTE_ADD_LOCKER, name, "", "", 0, NULL), 0);
		snprintf(seen, sizeof(seen), "v%d.example.com", (i * 7919) % 500);
		CHECK_INT(apply(t, ROUTE_SET_VHOST, name, seen, "", 0, NULL), 0);
	}
	CHECK_INT(route_table_nlockers(t), 503);
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "m%d.example.org", i);
		CHECK_INT(look(t, name, "/", &r), ROUTE_LOCKER);
		snprintf(seen, sizeof(seen), "v%d.example.com", i);
		CHECK_INT(look(t, seen, "/", &r), ROUTE_LOCKER);
		snprintf(name, sizeof(name), "m%d", i);
		CHECK_STR(r.locker, name);
	}
	route_table_free(t);
}

int
main(void)
{
	struct route_table *t;

	test_canon();
	test_builder_refuses();
	t = table();
	test_vhosts(t);
	test_subdomains(t);
	test_service(t);
	test_unknown(t);
	test_long_path(t);
	CHECK_INT(route_table_nlockers(t), 3);
	route_table_free(t);
	route_table_free(NULL);
	test_ip_service();
	test_many();
	test_empty_table();
	test_truncated();
	test_corrupt();
	test_huge_counts();
	test_diff();
	test_apply();
	UNIT_DONE();
}
