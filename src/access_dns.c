/*
 * access_dns.c: the client's host name for Require host and Allow/Deny
 * from NAME (Apache's double-reverse lookup), and Require forward-dns.
 *
 * Names come from the system's hosts file only: the worker asks glibc's
 * NSS with the "files" source alone, never DNS.  A lookup in the worker
 * must not wait on the network (the worker serves its locker's every
 * request, and a locker's .htaccess could name anything), and a resolver
 * elsewhere (front, the master) would put a locker-chosen lookup into a
 * process that serves everyone.  So a client whose address is in the
 * hosts file (127.0.0.1 as "localhost") has that name, and every other
 * client none: Require host then fails as Apache's does when DNS gives
 * no name.  The README lists it among the differences.
 *
 * Answers are kept for a few seconds by address, as Apache keeps one for
 * its connection; the hosts file is read again after that.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access_int.h"

#define NAME_CACHE	16
#define NAME_TTL	10	/* seconds */

struct name_entry {
	uint8_t	addr[16];
	char	name[256];	/* "" for none */
	time_t	at;
};

static void
files_only(void)
{
	static int done;

	/* Every hosts lookup of this process from here on: the worker makes
	 * none other (scripts run in processes of their own). */
	if (!done) {
		__nss_configure_lookup("hosts", "files");
		done = 1;
	}
}

static int
is_v4(const uint8_t a[16])
{
	static const uint8_t pre4[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, pre4, 12) == 0;
}

/* Whether name's addresses (hosts file) include a. */
int
az_name_has_addr(const char *name, const uint8_t a[16])
{
	struct hostent	 he, *res = NULL;
	char		 buf[8192];
	uint8_t		 b[16];
	int		 v4 = is_v4(a), err, i;

	files_only();
	if (gethostbyname2_r(name, v4 ? AF_INET : AF_INET6, &he, buf, sizeof(buf), &res,
	    &err) != 0 || res == NULL)
		return 0;
	for (i = 0; res->h_addr_list[i] != NULL; i++) {
		if (v4) {
			memcpy(b, a, 12);
			memcpy(b + 12, res->h_addr_list[i], 4);
		} else
			memcpy(b, res->h_addr_list[i], 16);
		if (memcmp(a, b, 16) == 0)
			return 1;
	}
	return 0;
}

/* a's name by the hosts file, lower-cased as Apache keeps it, if its
 * addresses lead back to a; "" if none. */
static void
double_reverse(const uint8_t a[16], char *out, size_t sz)
{
	struct hostent	 he, *res = NULL;
	char		 buf[8192];
	int		 v4 = is_v4(a), err;
	size_t		 i;

	out[0] = '\0';
	files_only();
	if (gethostbyaddr_r(v4 ? a + 12 : a, v4 ? 4 : 16, v4 ? AF_INET : AF_INET6, &he, buf,
	    sizeof(buf), &res, &err) != 0 || res == NULL || res->h_name == NULL ||
	    strlen(res->h_name) >= sz)
		return;
	for (i = 0; res->h_name[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)res->h_name[i]);
	out[i] = '\0';
	if (!az_name_has_addr(out, a))
		out[0] = '\0';
}

const char *
az_remote_name(const struct ht_req *r)
{
	static struct name_entry	 cache[NAME_CACHE];
	static unsigned			 next;
	struct name_entry		*e;
	uint8_t				 a[16];
	time_t				 now = time(NULL);
	size_t				 i;

	if (az_remote_addr(r, a) == -1)
		return NULL;
	for (i = 0; i < NAME_CACHE; i++) {
		e = &cache[i];
		if (e->at != 0 && now - e->at < NAME_TTL && memcmp(e->addr, a, 16) == 0)
			return e->name[0] != '\0' ? e->name : NULL;
	}
	e = &cache[next++ % NAME_CACHE];
	memcpy(e->addr, a, 16);
	double_reverse(a, e->name, sizeof(e->name));
	e->at = now;
	return e->name[0] != '\0' ? e->name : NULL;
}
