/* An NSS that hangs on the names "slownss*", preloaded into lockerd by
 * test_selfservice.py to show the master does not wait for it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
int
getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	int (*real)(const char *, struct passwd *, char *, size_t, struct passwd **) =
	    dlsym(RTLD_NEXT, "getpwnam_r");
	if (strncmp(name, "slownss", 7) == 0)
		sleep(30);
	return real(name, pw, buf, len, res);
}
