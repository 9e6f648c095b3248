/*
 * fuzz_route.c: route_table_load() must refuse any malformed blob without
 * reading outside it, and a blob it accepts must be safe to look up in.
 * The input doubles as a Host header, to exercise route_canon_host().
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "route.h"

static const char *const hosts[] = {
	"", "example.org", "EXAMPLE.org.:80", "alice.example.org", "a.b.example.org",
	"www.alice.net", "blog.alice.net", "[::1]:8080", "10.0.0.1", "nobody.example.org",
};

static const char *const paths[] = {
	"/", "/~alice", "/~alice/", "/~alice/x/y", "/~", "/x", "",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_table	*t;
	struct route_result	 r;
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
	route_table_nlockers(t);
	route_table_free(t);
	return 0;
}
