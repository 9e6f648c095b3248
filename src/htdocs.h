/*
 * htdocs.h: Header, Expires* and ErrorDocument in a .htaccess (d->docs),
 * the HT_PH_DOCS phase's part that shapes a response (htdocs.c).
 */
#ifndef LOCKERD_HTDOCS_H
#define LOCKERD_HTDOCS_H

#include "htaccess.h"

int	htdocs_header(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	htdocs_expires_active(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	htdocs_expires_default(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	htdocs_expires_by_type(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	htdocs_error_document(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);

void	*htdocs_merge(const void *parent, const void *child);
void	 htdocs_merged_free(void *part);
void	 htdocs_free(void *part);
/* The phase: Expires first, then each Header in order, on r->hdr.  0. */
int	 htdocs_run(const struct ht_conf *c, struct ht_req *r);

/*
 * The ErrorDocument for status: a local URL ("/x"), a full URL, or a
 * text starting with '"' (Apache's own marker); NULL for none.
 */
const char *htdocs_error_doc(const struct ht_conf *c, int status);

/*
 * Keep c's ErrorDocuments in r (r->error_docs, replacing what was there):
 * they answer an error found after c is gone (a missing file).  0, or -1
 * (out of memory).
 */
int	htdocs_keep_errdocs(const struct ht_conf *c, struct ht_req *r);

/* The worker's content type of a path below web_scripts, for ExpiresByType. */
extern const char *(*htdocs_type_fn)(const char *path);

#endif
