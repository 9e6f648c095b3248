/*
 * sqlsize.c: sqld's side of the limit on a locker's databases (issue 14,
 * item 5): their bytes measured, the locker's writes withdrawn at its disk
 * limit and given back below it.  The master decides (sql_limit.c); only
 * sqld talks to MariaDB.
 *
 * Why privileges and not the file system: bench/sql_enospc.py measured
 * that a write InnoDB cannot make for want of space (ENOSPC) aborts the
 * whole server, for every tenant, until space is freed.  So the limit must
 * hold before the file system fills: MariaDB is told to refuse the
 * locker's writes, which it does with an SQL error on that statement only.
 *
 * The measure, every sql-size-interval (a round), and `locker sql list`'s
 * bytes: one statement, sqlsize_schemas(), so that the two never disagree:
 *   - InnoDB (innodb_file_per_table, MariaDB's default): each table's
 *     tablespace file as allocated on disk, information_schema's
 *     INNODB_SYS_TABLESPACES.ALLOCATED_SIZE.  Measured: TABLES'
 *     DATA_LENGTH of InnoDB lags by whole megabytes (16 KiB for a fresh
 *     13 MiB table: it is the persistent statistics', recomputed only
 *     after 10% of the rows changed, in the background), while the
 *     tablespace's size is the file's, now.  Its name is in MariaDB's file
 *     name encoding (`a-b+x/t` is `a@002db@002bx/t`); MariaDB itself
 *     decodes the part before the '/' (CONVERT ... USING filename), so a
 *     schema of any name a locker made gets its own files' bytes.
 *     Partitions (`t#P#p0`) and ALTER's copies (`#sql-...`) are files of
 *     the same schema and count.
 *   - Aria, MyISAM and the rest: information_schema.TABLES' DATA_LENGTH +
 *     INDEX_LENGTH, which those engines read from their files' sizes.
 *   - The accounts: mysql.db's grant rows on `LOCKER+%`, and whether they
 *     still hold INSERT (a cut account does not).
 * A locker's bytes are the sum over every schema its grant's pattern
 * matches, whoever made it.  What a locker cannot be charged for is not
 * counted: the shared system tablespace, undo and redo logs, binary logs,
 * temporary tables (CREATE TEMPORARY TABLES is withdrawn with the writes).
 *
 * The cut (MSG_SQL_CUT, cut 1): REVOKE of every privilege that makes a
 * locker's tables grow (INSERT, UPDATE, CREATE, ALTER, INDEX, CREATE
 * TEMPORARY TABLES, CREATE VIEW, CREATE ROUTINE, ALTER ROUTINE, REFERENCES)
 * on `LOCKER+%` from both of its accounts, keeping SELECT, DELETE, DROP,
 * LOCK TABLES, EXECUTE, SHOW VIEW, DELETE HISTORY, and the TRIGGER and
 * EVENT that mariadb-dump's --triggers and --events need, so that the
 * locker can read, dump (`locker sql drop` keeps a dump) and get back
 * under.  A trigger or event runs with its definer's privileges, the cut
 * ones.  Then KILL CONNECTION USER, because
 * MariaDB reads database-level privileges at connect and USE only, so a
 * connection opened before the REVOKE would go on writing.  In that order:
 * a connection made between the two is ended too.  Giving back (cut 0):
 * GRANT ALL PRIVILEGES on `LOCKER+%` again, as at signup.
 *
 * The state lives in MariaDB's grant tables, so it survives restarts of
 * lockerd, sqld and MariaDB, and each round reports it (SQL_SIZE_CUT).  A
 * crash between the REVOKE and the KILL leaves an account reported cut
 * that the master has not seen cut by this sqld: it asks again
 * (sql_limit.c), and REVOKE and KILL are both harmless twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "lockerd.h"
#include "sql.h"
#include "sqld_int.h"

#define ENTRIES_MAX	(1 << 20)	/* lockers a round can hold */
#define CUT_PRIVS	"INSERT, UPDATE, CREATE, ALTER, INDEX, CREATE TEMPORARY TABLES, " \
			"CREATE VIEW, CREATE ROUTINE, ALTER ROUTINE, REFERENCES"

struct entry {
	char		locker[LOCKER_NAME_MAX + 1];
	uint32_t	flags;		/* SQL_SIZE_ACCOUNT | SQL_SIZE_CUT */
	uint64_t	bytes;
};

static struct {
	struct entry	*e;
	size_t		 n, cap;
	int		 full;		/* more lockers than ENTRIES_MAX */
} R;

static uint64_t	next_round_ms;		/* 0: at once (start) */
static uint32_t	round_no;
static int	limits_stale = 1;	/* apply the account limits at the next round */
static int	was_down;		/* for one log line per outage */

uint64_t
sqlsize_due_in(void)
{
	uint64_t now = now_ms();

	return next_round_ms <= now ? 0 : next_round_ms - now;
}

static void
add(const char *locker, uint32_t flags, uint64_t bytes)
{
	struct entry	*e;

	if (!sql_word_ok(locker, LOCKER_NAME_MAX))
		return;		/* no locker's: nothing lockerd made */
	if (R.n == R.cap) {
		size_t cap = R.cap ? 2 * R.cap : 256;

		if (cap > ENTRIES_MAX || (e = reallocarray(R.e, cap, sizeof(*e))) == NULL) {
			R.full = 1;
			return;
		}
		R.e = e;
		R.cap = cap;
	}
	e = &R.e[R.n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->locker, sizeof(e->locker), "%s", locker);
	e->flags = flags;
	e->bytes = bytes;
}

/* One schema `LOCKER+...` (sqlsize_schemas()): its bytes are LOCKER's. */
static void
schema_row(const char *schema, uint64_t tables, uint64_t bytes, void *arg)
{
	char locker[LOCKER_NAME_MAX + 1];

	(void)tables;
	(void)arg;
	if (sql_schema_locker(schema, locker, sizeof(locker)) == 0)
		add(locker, 0, bytes);
}

/* A grant row "USER DB" of lockerd's (DB is USER's pattern); insert: it may write. */
static void
account_row(const char *user_db, uint64_t insert, uint64_t unused, void *arg)
{
	char locker[LOCKER_NAME_MAX + 1];

	(void)unused;
	(void)arg;
	if (sql_grant_locker(user_db, locker, sizeof(locker)) == 0)
		add(locker, SQL_SIZE_ACCOUNT | (insert ? 0 : SQL_SIZE_CUT), 0);
}

static int
by_locker(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->locker, ((const struct entry *)b)->locker);
}

/* R sorted and each locker's entries folded into its first. */
static void
fold(void)
{
	size_t i, out = 0;

	qsort(R.e, R.n, sizeof(*R.e), by_locker);
	for (i = 0; i < R.n; i++) {
		if (out > 0 && strcmp(R.e[out - 1].locker, R.e[i].locker) == 0) {
			R.e[out - 1].flags |= R.e[i].flags;
			R.e[out - 1].bytes += R.e[i].bytes;
		} else
			R.e[out++] = R.e[i];
	}
	R.n = out;
}

static void
report(const struct entry *e, uint32_t flags)
{
	struct msg_sql_size m;

	memset(&m, 0, sizeof(m));
	m.round = round_no;
	m.flags = flags;
	if (e != NULL) {
		snprintf(m.locker, sizeof(m.locker), "%s", e->locker);
		m.bytes = e->bytes;
	}
	if (msg_send(CHILD_CHAN_FD, MSG_SQL_SIZE, &m, sizeof(m), -1) == -1)
		exit(1);	/* the master has gone */
}

/*
 * Each schema's tablespaces (InnoDB, their names decoded by MariaDB and
 * compared byte for byte) and tables (every engine's count, the others'
 * bytes), summed per schema.  A schema without tables is a row too.
 */
#define SCHEMA_BYTES \
	"SELECT s.SCHEMA_NAME, COALESCE(SUM(x.t), 0), COALESCE(SUM(x.b), 0) " \
	"FROM information_schema.SCHEMATA s LEFT JOIN (" \
	"SELECT CONVERT(CONVERT(CAST(SUBSTRING_INDEX(NAME, '/', 1) AS BINARY) USING " \
	"filename) USING utf8mb4) COLLATE utf8mb4_bin AS sch, 0 AS t, " \
	"IF(ALLOCATED_SIZE > 0, ALLOCATED_SIZE, FILE_SIZE) AS b " \
	"FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME LIKE '%@002b%' " \
	"UNION ALL SELECT CONVERT(TABLE_SCHEMA USING utf8mb4) COLLATE utf8mb4_bin, 1, " \
	"IF(ENGINE = 'InnoDB', 0, COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0)) " \
	"FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE '%+%') x " \
	"ON x.sch = CONVERT(s.SCHEMA_NAME USING utf8mb4) COLLATE utf8mb4_bin " \
	"WHERE s.SCHEMA_NAME LIKE ? GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME"

long
sqlsize_schemas(const char *like, void (*row)(const char *, uint64_t, uint64_t, void *),
    void *arg, unsigned *e)
{
	const char *p[1] = { like };

	return sqld_select(SCHEMA_BYTES, p, 1, row, arg, e);
}

/* The three measures into R: 0, or -1 with *e MariaDB's error. */
static int
measure(unsigned *e, const char **step)
{
	*step = "read the accounts";
	if (sqld_select("SELECT CONCAT(User, ' ', Db), Insert_priv = 'Y', 0 FROM mysql.db "
	    "WHERE Host IN ('localhost', '127.0.0.1') AND Db LIKE '%+\\\\%'", NULL, 0,
	    account_row, NULL, e) < 0)
		return -1;
	*step = "measure the databases";
	if (sqlsize_schemas("%+%", schema_row, NULL, e) < 0)
		return -1;
	return 0;
}

/* Every account's limits, as the configuration says now (split between
 * its hosts where there are two: sqlacct.c). */
static int
limits_apply(void)
{
	struct sql_limits	 l;
	const char *const	*hosts;
	char			 stmt[512], lim[256];
	size_t			 i;
	unsigned		 e;
	int			 h, nhosts = sqld_hosts(&hosts), failed = 0;

	sqld_conf_limits(sqld_conf(), &l);
	for (i = 0; i < R.n; i++) {
		if (!(R.e[i].flags & SQL_SIZE_ACCOUNT))
			continue;
		for (h = 0; h < nhosts; h++) {
			sql_limits_clause(&l, h, nhosts, lim, sizeof(lim));
			snprintf(stmt, sizeof(stmt), "ALTER USER IF EXISTS '%s'@'%s'%s",
			    R.e[i].locker, hosts[h], lim);
			if ((e = sqld_run(stmt)) != 0) {
				log_warnx("sqld: the limits of account %s: %s", R.e[i].locker,
				    sqld_error());
				sqld_lost(e);
				failed = 1;
			}
		}
	}
	return failed ? -1 : 0;
}

void
sqlsize_round(void)
{
	const char	*step = "";
	char		 err[256];
	unsigned	 e = 0;
	size_t		 i;

	next_round_ms = now_ms() + 1000ull * sqld_conf()->sql_size_interval;
	R.n = 0;
	R.full = 0;
	if (sqld_connect(err, sizeof(err)) == -1) {
		if (!was_down)
			log_warnx("sqld: no measure of the databases: %s", err);
		was_down = 1;
		return;
	}
	if (measure(&e, &step) == -1) {
		if (!was_down)
			log_warnx("sqld: cannot %s: %s", step, sqld_error());
		was_down = 1;
		sqld_lost(e);
		return;
	}
	was_down = 0;
	if (R.full)
		log_warnx("sqld: more than %d lockers' databases: the rest not measured",
		    ENTRIES_MAX);
	fold();
	if (limits_stale && limits_apply() == 0)
		limits_stale = 0;
	/* Numbered from the clock, so that a restarted sqld's rounds are never
	 * taken for the end of one its predecessor left half-sent. */
	if (round_no == 0)
		round_no = (uint32_t)now_ms() | 1;
	round_no++;
	for (i = 0; i < R.n; i++)
		report(&R.e[i], R.e[i].flags);
	report(NULL, SQL_SIZE_END);
}

/* Whether LOCKER@HOST exists: 1, or 0 (also when MariaDB cannot say). */
static int
account_there(const char *locker, const char *host)
{
	const char	*p[2] = { locker, host };
	unsigned	 e;

	return sqld_select("SELECT User, 0, 0 FROM mysql.global_priv WHERE User = ? AND "
	    "Host = ?", p, 2, NULL, NULL, &e) > 0;
}

/*
 * One statement on one host's account; "no such grant" is not an error.
 * A GRANT goes only to an account that exists: under an sql_mode without
 * NO_AUTO_CREATE_USER (an admin's choice) it would make one without a
 * password (a locker removed since the round, a host this MariaDB's
 * accounts do not have).
 */
static void
cut_host(const char *fmt, const char *pat, const char *locker, const char *host, int grant)
{
	char		stmt[512];
	unsigned	e;

	if (grant && !account_there(locker, host))
		return;
	snprintf(stmt, sizeof(stmt), fmt, pat, locker, host);
	e = sqld_run(stmt);
	if (e != 0 && e != ER_NONEXISTING_GRANT && e != ER_PASSWORD_NO_MATCH &&
	    e != ER_CANT_CREATE_USER_WITH_GRANT) {
		log_warnx("sqld: %s: %s", stmt, sqld_error());
		sqld_lost(e);
	}
}

void
sqlsize_cut(const struct msg_sql_cut *c)
{
	const char *const *hosts;
	char		 esc[2 * LOCKER_NAME_MAX + 4], pat[2 * LOCKER_NAME_MAX + 8];
	char		 stmt[128], err[256];
	unsigned	 e;
	int		 i, nhosts;

	if (memchr(c->locker, '\0', sizeof(c->locker)) == NULL ||
	    !sql_word_ok(c->locker, LOCKER_NAME_MAX) ||
	    sql_like_escape(c->locker, esc, sizeof(esc)) == -1) {
		log_warnx("sqld: refused a cut of no account's");
		return;
	}
	snprintf(pat, sizeof(pat), "%s%c%%", esc, SQL_SEP);
	if (sqld_connect(err, sizeof(err)) == -1) {
		log_warnx("sqld: %s's writes not %s: %s", c->locker, c->cut ? "withdrawn" :
		    "given back", err);
		return;	/* the next round reports the old state: the master asks again */
	}
	/* The hosts this MariaDB's accounts have (sqlacct.c), as of connecting. */
	nhosts = sqld_hosts(&hosts);
	for (i = 0; i < nhosts; i++)
		cut_host(c->cut ? "REVOKE " CUT_PRIVS " ON `%s`.* FROM '%s'@'%s'" :
		    "GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s'", pat, c->locker, hosts[i],
		    !c->cut);
	if (c->cut) {
		/* After the REVOKE: what connects from now on is cut already. */
		snprintf(stmt, sizeof(stmt), "KILL CONNECTION USER '%s'", c->locker);
		if ((e = sqld_run(stmt)) != 0 && e != ER_NO_SUCH_THREAD) {
			log_warnx("sqld: %s: %s", stmt, sqld_error());
			sqld_lost(e);
		}
	}
	log_info("sqld: %s's database writes %s", c->locker, c->cut ?
	    "withdrawn (at its disk limit), its connections ended" : "given back");
	next_round_ms = 0;	/* the master hears the new state at once */
}

void
sqlsize_config(const struct config *old, const struct config *now)
{
	struct sql_limits a, b;

	sqld_conf_limits(old, &a);
	sqld_conf_limits(now, &b);
	if (memcmp(&a, &b, sizeof(a)) != 0) {
		limits_stale = 1;
		next_round_ms = 0;
	}
	if (old->sql_size_interval != now->sql_size_interval)
		next_round_ms = 0;
}
