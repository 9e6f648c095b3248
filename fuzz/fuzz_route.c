/*
 * fuzz_route.c: route_table_load() must refuse any malformed blob without
 * reading outside it, and a blob it accepts must be safe to look up in.
 * The input doubles as a Host header, to exercise route_canon_host(), and
 * as a route_delta applied to the table it loaded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "route.h"

static const char *const hosts[] = {
	"", "example.org", "EXAMPLE.org.:80", "alice.example.org", "a.b.example.org",
	"www.alice.net", "blog.alice.net", "[::1]:8080", "10.0.0.1", "nobody.example.org",
};

static const char *const names[] = {
	"alice", "bob", "a", "zz", "", "-x", "alice2",
};
#define NNAMES	(sizeof(names) / sizeof(names[0]))
#define NHOSTS	(sizeof(hosts) / sizeof(hosts[0]))

static const char *const paths[] = {
	"/", "/~alice", "/~alice/", "/~alice/x/y", "/~", "/x", "",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_table	*t;
	struct route_result	 r;
	struct route_delta	 d;
	char			 canon[HOSTNAME_MAX + 1];
	size_t			 i, j;

	route_canon_host((const char *)data, size, canon, sizeof(canon));
	if ((t = route_table_load(data, size)) == NULL)
		return 0;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		for (j = 0; j < sizeof(paths) / sizeof(paths[0]); j++)
			route_lookup(t, hosts[i], strlen(hosts[i]), paths[j], &r);
	route_lookup(t, (const char *)data, size > HOSTNAME_MAX + 8 ?
	    HOSTNAME_MAX + 8 : size, "/~alice/", &r);
	/* The input as a change too: unterminated or forged fields must be
	 * refused, and what is applied must leave a table safe to look up in. */
	memset(&d, 0, sizeof(d));
	memcpy(&d, data, size < sizeof(d) ? size : sizeof(d));
	if (route_table_apply(t, &d, NULL, NULL) == 0)
		route_lookup(t, d.host, strnlen(d.host, sizeof(d.host)), "/~alice/", &r);
	/* And well-formed changes the input picks, each then looked up. */
	for (i = 0; i + 2 < size && i < 64; i += 3) {
		memset(&d, 0, sizeof(d));
		d.op = data[i] % 5;
		d.https = data[i] / 5 % 4;
		snprintf(d.locker, sizeof(d.locker), "%s", names[data[i + 1] % NNAMES]);
		snprintf(d.host, sizeof(d.host), "%s", hosts[data[i + 2] % NHOSTS]);
		snprintf(d.subdir, sizeof(d.subdir), "%s", data[i + 2] & 0x80 ? "blog" : "");
		route_table_apply(t, &d, NULL, NULL);
		for (j = 0; j < NHOSTS; j++)
			route_lookup(t, hosts[j], strlen(hosts[j]), "/~alice/x", &r);
	}
	route_table_nlockers(t);
	route_table_free(t);
	return 0;
}
