/* htreqhdr.h: RequestHeader's row (httable.c). */
#ifndef LOCKERD_HTREQHDR_H
#define LOCKERD_HTREQHDR_H

#include "htaccess.h"

int	dir_requestheader(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);

#endif
