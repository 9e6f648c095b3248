/*
 * sql.h: the SQL service (issue 14): one MariaDB account per locker, its
 * databases named LOCKER+NAME, administered by sqld (sqld.c), the only
 * process that holds the admin credentials and links the MariaDB client.
 *
 * The master sends sqld bounded, typed requests (struct msg_sql_req, a row
 * of msg_rules[]); sqld answers each with rows (struct msg_sql_row) and one
 * end (struct msg_sql_done).  No SQL text ever travels: a request names an
 * operation, a locker, a database and a password, each of which passes
 * sql_word_ok() at the CLI, in the master and again in sqld.
 */
#ifndef LOCKERD_SQL_H
#define LOCKERD_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"	/* LOCKER_NAME_MAX */

#define SQL_DB_MAX		64	/* MariaDB's longest database name */
#define SQL_PASSWORD_LEN	24	/* of letters and digits: ~142 bits */
#define SQL_PASSWORD_MAX	64
#define SQL_SEP			'+'	/* LOCKER+NAME */
#define SQL_SOCKET_NAME		"mysqld.sock"
#define SQL_JAIL_DIR		"/run/mysqld"	/* where lockers find the socket */
#define SQL_CNF_DIR		".sql"		/* in a locker's home */
#define SQL_CNF_FILE		"my.cnf"
#define SQL_DUMP_DIR		"dumps"		/* ~/.sql/dumps/ */

/*
 * The one validator: 1 if s is 1..max characters of letters, digits, '_'
 * and '-' (no quote, backtick, '%', NUL, '+' or space can pass), else 0.
 * Account names, the NAME part of a database and passwords all go through
 * it; a full database name is two such words joined by SQL_SEP.
 */
int	sql_word_ok(const char *s, size_t max);
/*
 * LOCKER+DB into out (SQL_DB_MAX + 1 bytes): 0, or -1 with why in err
 * ("database name ...: only letters, digits, _ and -").
 */
int	sql_db_name(const char *locker, const char *db, char *out, size_t outsz,
	    char *err, size_t errlen);
/* A full name back into its locker and its part: 0, or -1 if it is none. */
int	sql_db_split(const char *full, char *locker, size_t lsz, char *db, size_t dsz);
/*
 * s with '_', '%' and '\' escaped by '\', for a LIKE pattern or a GRANT's
 * database pattern (in both '_' matches any character: locker a_b's
 * `a_b+%` would match axb+...).  0, or -1 if out is too small.
 */
int	sql_like_escape(const char *s, char *out, size_t outsz);
/*
 * The admin credentials file (`[client]`, `user=`, `password=`; `#` and
 * `;` comments), text[0..len): 0 with both set, or -1 with why in err.
 */
int	sql_creds_parse(const char *text, size_t len, char *user, size_t usz, char *password,
	    size_t psz, char *err, size_t errlen);
/*
 * Whose is it (sqld's measures, sqlsize.c)?  0 with the locker's name in
 * out (a valid one), or -1 if it is no locker's.  schema: `LOCKER+...`
 * (an InnoDB tablespace's decoded by MariaDB itself).  user_db: a
 * grant row as "USER DB", a locker's only if DB is USER's own pattern
 * (`USER+%`, '_' escaped).
 */
int	sql_schema_locker(const char *schema, char *out, size_t outsz);
int	sql_grant_locker(const char *user_db, char *out, size_t outsz);
/* A random password of SQL_PASSWORD_LEN letters and digits: 0, or -1. */
int	sql_password_new(char *out, size_t outsz);

enum sql_op {
	SQL_OP_SIGNUP = 1,	/* the account, its grant on LOCKER+%, its limits */
	SQL_OP_PASSWORD,	/* a new password (and the limits again) */
	SQL_OP_CREATE,		/* CREATE DATABASE LOCKER+DB */
	SQL_OP_DROP,		/* DROP DATABASE LOCKER+DB */
	SQL_OP_LIST,		/* rows: each database of locker ("": all) with its size */
	SQL_OP_ACCOUNT,		/* done: 0 if locker has an account, SQL_E_NOTFOUND if not */
	SQL_OP_REMOVE,		/* every database of the locker dropped, then its account */
};

/* Per-account resource limits (MariaDB's WITH ...), from the configuration. */
struct sql_limits {
	uint32_t	max_user_connections;
	uint32_t	max_connections_per_hour;
	uint32_t	max_queries_per_hour;
	uint32_t	max_updates_per_hour;
	uint32_t	max_statement_time;	/* seconds; 0: none */
};

/*
 * sqlacct.c: the accounts of a locker, "localhost" (the socket, and TCP
 * from loopback when MariaDB resolves names) and, with MariaDB's
 * skip_name_resolve, "127.0.0.1" for TCP: their count, hosts in out.
 */
#define SQL_HOSTS_MAX	2
int	sql_account_hosts(int skip_name_resolve, const char **out);
/* The TCP account's host, "127.0.0.1" (made only with skip_name_resolve). */
const char *sql_account_twin(void);
/* " WITH MAX_USER_CONNECTIONS n ...": account i's share of l among n. */
void	sql_limits_clause(const struct sql_limits *l, int i, int n, char *out, size_t outsz);
/* Account i's MAX_USER_CONNECTIONS among n (-1: it may not connect). */
long	sql_connections_share(const struct sql_limits *l, int i, int n);

struct msg_sql_req {
	uint32_t	id;
	uint32_t	op;			/* enum sql_op */
	char		locker[LOCKER_NAME_MAX + 1];
	char		db[SQL_DB_MAX + 1];	/* the NAME part, "" for none */
	char		password[SQL_PASSWORD_MAX + 1];
	struct sql_limits lim;
};

struct msg_sql_row {
	uint32_t	id;
	char		db[SQL_DB_MAX + 1];	/* the full name */
	uint64_t	bytes;			/* as the limit counts them (sqlsize.c) */
	uint32_t	tables;
};

#define SQL_OK		0
#define SQL_E_DOWN	1	/* MariaDB cannot be reached, or did not answer */
#define SQL_E_EXISTS	2
#define SQL_E_NOTFOUND	3
#define SQL_E_REFUSED	4	/* MariaDB refused the statement */
#define SQL_E_INVALID	5	/* a name sqld's own check refused */

struct msg_sql_done {
	uint32_t	id;
	int32_t		status;			/* SQL_OK or SQL_E_* */
	char		message[256];
};

/*
 * The limit (sqlsize.c in sqld, sql_limit.c in the master): every
 * sql-size-interval sqld measures each locker's databases and reports one
 * struct msg_sql_size per locker (sorted by name), then one with
 * SQL_SIZE_END and no locker: a round the master sees ended is whole.
 * The master answers a locker at or over its disk limit with a
 * struct msg_sql_cut (cut 1: writes withdrawn and its connections ended),
 * and one back below it with cut 0 (writes granted again).
 */
#define SQL_SIZE_ACCOUNT	0x1	/* the locker has a database account */
#define SQL_SIZE_CUT		0x2	/* ... whose writes are withdrawn now */
#define SQL_SIZE_END		0x4	/* the round's end: no locker */

struct msg_sql_size {
	uint32_t	round;
	uint32_t	flags;			/* SQL_SIZE_* */
	char		locker[LOCKER_NAME_MAX + 1];
	uint64_t	bytes;			/* its databases' files, allocated */
};

struct msg_sql_cut {
	char		locker[LOCKER_NAME_MAX + 1];
	uint32_t	cut;			/* 1: withdraw writes; 0: give them back */
};

/* One database in `locker sql list`, or the file a verb wrote. */
struct ctl_sql {
	char		locker[LOCKER_NAME_MAX + 1];
	char		db[SQL_DB_MAX + 1];	/* "" for a file only */
	uint64_t	bytes;
	uint32_t	tables;
	char		file[512];		/* a dump or my.cnf, "" for none */
	uint32_t	over;			/* its locker is at its disk limit: writes cut */
};

/* sqld.c */
int	sqld_main(void);

#endif
