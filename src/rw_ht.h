/* rw_ht.h: rewrite.c's rows in htcore's tables (httable.c). */
#ifndef LOCKERD_RW_HT_H
#define LOCKERD_RW_HT_H

struct ht_parse;
struct ht_dir;
struct ht_conf;
struct ht_req;

int	rw_ht_engine(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_base(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_options(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_cond(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_rule(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_map(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_redirect(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_redirect_match(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_redirect_perm(struct ht_parse *, struct ht_dir *, int, char **);
int	rw_ht_redirect_temp(struct ht_parse *, struct ht_dir *, int, char **);

void	*rw_ht_merge_rewrite(const void *parent, const void *child);
void	*rw_ht_merge_alias(const void *parent, const void *child);
void	 rw_ht_free_rewrite(void *part);
void	 rw_ht_free_alias(void *part);
/* HT_PH_FIXUP: an enum ht_fixup. */
int	rw_ht_rewrite(const struct ht_conf *c, struct ht_req *r);
int	rw_ht_alias(const struct ht_conf *c, struct ht_req *r);

/* Where a rule's log lines go: the locker's error log (the worker's). */
void	rw_ht_set_note(void (*fn)(const char *));
/* Told each path a RewriteCond's file test looks at (htwatch_path). */
void	rw_ht_set_watch(void (*fn)(const char *));

#endif
