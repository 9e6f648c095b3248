/*
 * htcore.h: the directives htcore.c keeps (Options, DirectoryIndex, the
 * types and handlers, SetEnv and SetEnvIf, php_*): its rows' parse
 * functions and hooks, for httable.c.
 */
#ifndef LOCKERD_HTCORE_H
#define LOCKERD_HTCORE_H

#include "htaccess.h"

int	dir_options(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_index(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_addtype(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_addcharset(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_addhandler(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_removehandler(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_forcetype(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_defaulttype(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_sethandler(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_defaultcharset(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_php_value(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_php_flag(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_php_admin_value(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_php_admin_flag(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_setenv(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_unsetenv(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_setenvif(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);
int	dir_setenvifnocase(struct ht_parse *p, struct ht_dir *d, int argc, char **argv);

/* Hooks: merges keep the parsed parts, parent first (nothing copied). */
void	*htcore_merge(const void *parent, const void *child);
void	*htenv_merge(const void *parent, const void *child);
void	 ht_merged_free(void *part);
void	 htcore_free(void *part);
void	 htenv_free(void *part);
/* HT_PH_ACCESS, before access: SetEnv, UnsetEnv, SetEnvIf in file order. */
int	 htenv_run(const struct ht_conf *c, struct ht_req *r);
/* The extensions of a file's name as mod_mime reads them: every one after
 * the first dot ("c.txt.utf8": txt, utf8), lower-cased, at most 8. */
#define HT_EXTS_MAX	8
struct ht_exts {
	char	e[HT_EXTS_MAX][32];
	int	n;
};
void	 ht_exts_of(const char *base, struct ht_exts *x);
/* text/plain and text/html: what AddDefaultCharset applies to. */
int	 ht_charset_type(const char *type);
/* HT_PH_DOCS: r's options, index, content type, handler and PHP settings. */
int	 htcore_run(const struct ht_conf *c, struct ht_req *r);

#endif
