/*
 * htreq.c: the request as the .htaccess modules see it (struct ht_req),
 * and <If>'s expressions evaluated on it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htaccess.h"

struct ht_expr {
	int	placeholder;
};

struct ht_expr *
ht_expr_parse(struct ht_parse *p, const char *text)
{
	(void)text;
	ht_error(p, "<If> is not supported yet");
	return NULL;
}

int
ht_expr_eval(const struct ht_expr *e, struct ht_req *r)
{
	(void)e;
	r->cacheable = 0;
	return -1;
}

void
ht_expr_free(struct ht_expr *e)
{
	free(e);
}
