/*
 * sqld_int.h: what sqld.c lends the other files of lockerd-sqld
 * (sqlsize.c): its connection to MariaDB and its two ways of running a
 * fixed statement.  Not for any other program: only lockerd-sqld links
 * MariaDB's client.
 */
#ifndef LOCKERD_SQLD_INT_H
#define LOCKERD_SQLD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sql.h"

struct config;

/* The configuration sqld runs with (the master's, as of the last MSG_CONFIG). */
const struct config *sqld_conf(void);
/* Connected within sql-timeout: 0, or -1 with why (sqld keeps the connection). */
int	sqld_connect(char *err, size_t errlen);
/* A lost connection closed, so that the next sqld_connect() makes a new one. */
void	sqld_lost(unsigned e);
/* One fixed statement without parameters: 0, or MariaDB's error number. */
unsigned sqld_run(const char *stmt);
/* MariaDB's text of the last error, for a log line. */
const char *sqld_error(void);
/*
 * A prepared SELECT with string parameters whose rows are (string, number,
 * number), each given to row(): their count, or -1 with *e MariaDB's error.
 */
long	sqld_select(const char *stmt, const char *const *params, int nparams,
	    void (*row)(const char *, uint64_t, uint64_t, void *), void *arg, unsigned *e);
/* The hosts of a locker's account on this MariaDB (sqlacct.c), as of the
 * last connection: their count, and their names in *out. */
int	sqld_hosts(const char *const **out);
/* The configuration's limits for an account. */
void	sqld_conf_limits(const struct config *c, struct sql_limits *l);

/* sqlsize.c: the measures, the cut and the limits of every account. */
/* Milliseconds until the next round is due (0: now). */
uint64_t sqlsize_due_in(void);
/* Measure every locker's databases and report them to the master. */
void	sqlsize_round(void);
/*
 * The schemas whose names are LIKE like: (name, tables, bytes) each to
 * row(), bytes as the limit counts them (also `locker sql list`'s): their
 * count, or -1 with *e MariaDB's error.
 */
long	sqlsize_schemas(const char *like, void (*row)(const char *, uint64_t, uint64_t,
	    void *), void *arg, unsigned *e);
/* A locker's writes withdrawn (and its connections ended) or given back. */
void	sqlsize_cut(const struct msg_sql_cut *c);
/* The configuration changed: apply its account limits to every account. */
void	sqlsize_config(const struct config *old, const struct config *now);

#endif
