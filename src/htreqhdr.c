/*
 * htreqhdr.c: mod_headers' RequestHeader, as far as lockerd offers it.
 *
 * Scripts' request fields are built by front (FastCGI) and the worker
 * (CGI) from the request itself; a .htaccess does not rewrite them.  The
 * one form applications ship that lockerd honours is "RequestHeader unset
 * Proxy" (Drupal's, against httpoxy): Proxy never reaches a script
 * anyway (cgienv.c).  Any other form is an error in the locker's log (a
 * 500), not a silent difference.
 */
#include <strings.h>

#include "htaccess.h"
#include "htreqhdr.h"

int
dir_requestheader(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)d;
	if (argc >= 2 && strcasecmp(argv[0], "unset") == 0 && strcasecmp(argv[1], "Proxy") == 0 &&
	    (argc == 2 || (argc == 3 && strcasecmp(argv[2], "early") == 0)))
		return 0;	/* what lockerd always does */
	return ht_error(p, "RequestHeader: only \"unset Proxy\" is offered (scripts never see "
	    "Proxy); a script's request fields are not rewritten by a .htaccess");
}
