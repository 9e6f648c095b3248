/*
 * htindex.h: mod_autoindex's directives (IndexOptions, IndexIgnore,
 * IndexIgnoreReset, IndexOrderDefault, and the cosmetic ones accepted),
 * for httable.c's rows.
 */
#ifndef LOCKERD_HTINDEX_H
#define LOCKERD_HTINDEX_H

#include "htaccess.h"

int	dir_indexoptions(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_indexignore(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_indexignorereset(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_indexorderdefault(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
/* HeaderName, ReadmeName, AddDescription, AddIcon ...: accepted, not shown. */
int	dir_index_cosmetic(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);

void	*htindex_merge(const void *parent, const void *child);
void	 htindex_merged_free(void *part);
void	 htindex_free(void *part);
/* HT_PH_DOCS: r->listing, how a listing of this directory is made. */
int	 htindex_run(const struct ht_conf *c, struct ht_req *r);

#endif
