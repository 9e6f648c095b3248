/*
 * htmime.h: mod_mime's encodings (AddEncoding, RemoveEncoding) and core's
 * FileETag, for httable.c's rows.
 */
#ifndef LOCKERD_HTMIME_H
#define LOCKERD_HTMIME_H

#include "htaccess.h"

int	dir_addencoding(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_removeencoding(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_fileetag(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);

void	*htmime_merge(const void *parent, const void *child);
void	 htmime_merged_free(void *part);
void	 htmime_free(void *part);
/* HT_PH_DOCS, after htcore's types: Content-Encoding, r->ext_meta, r->etag. */
int	 htmime_run(const struct ht_conf *c, struct ht_req *r);

#endif
