/*
 * sqld.c: the SQL role (issue 14), after OKWS's dbproxy: the only process
 * that holds MariaDB's admin credentials and the only one that links the
 * MariaDB client library.  It is its own executable (lockerd-sqld), so
 * that neither the master nor any other role carries libmariadb.
 *
 * The master starts it (sql_master.c) as sql-user, hands it the admin
 * credentials file as a descriptor (MSG_SQL_CREDS: only root may open it)
 * and then sends it requests, one struct msg_sql_req each.  A request
 * names an operation, not a statement: sqld runs only the fixed statements
 * below, with names that pass sql_word_ok() here again (whatever the
 * master checked), and data (a LIKE pattern, a user name to look up)
 * bound as parameters of prepared statements.  MariaDB cannot bind
 * identifiers, so CREATE DATABASE and GRANT get their names from the
 * validator's alphabet only: no quote, backtick, backslash or '%' can be
 * in them, and '_' is escaped in a GRANT's pattern (sql_like_escape()).
 *
 * Every exchange with MariaDB is bounded by sql-timeout (connect, read
 * and write), so a MariaDB that is down or stopped costs one request that
 * long at most; the master, which never waits on sqld, gives up on its
 * own timer (sql_master.c).  sqld is chrooted into the socket's directory
 * (or an empty one for TCP), not dumpable, under an allow-list seccomp
 * filter: a MariaDB that answered with something hostile finds a process
 * that can talk to MariaDB and to the master, and nothing else.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include "lockerd.h"
#include "sql.h"
#include "sqld_int.h"

#define IDENT_MAX	(4 * SQL_DB_MAX)	/* a name: 64 characters of up to 4 bytes */

static struct {
	struct config	 conf;
	char		 user[128];
	char		 password[256];
	MYSQL		*db;		/* NULL until connected, and after a loss */
	/* Learnt from MariaDB at each connection (sqlacct.c): the hosts a
	 * locker's account needs, "localhost" and, with skip_name_resolve,
	 * "127.0.0.1". */
	const char	*hosts[SQL_HOSTS_MAX];
	int		 nhosts;
} S;

/*
 * The kill -9 tests' hook (crashpoint.c): the master puts a step of ours in
 * our environment, once; there sqld dies as a crash would leave MariaDB.
 */
static void
crash_here(const char *step)
{
	const char *at = getenv("LOCKERD_CRASH_AT");

	if (at != NULL && strcmp(at, step) == 0) {
		log_warnx("sqld: LOCKERD_CRASH_AT: killed at %s", step);
		raise(SIGKILL);
	}
}

/* "sqld-answer-OP": the operation done in MariaDB, the master not told. */
static void
crash_answer(uint32_t op)
{
	static const char *const name[] = { "", "signup", "password", "create", "drop",
	    "list", "account", "remove" };
	char step[32];

	if (getenv("LOCKERD_CRASH_AT") != NULL && op < sizeof(name) / sizeof(name[0])) {
		snprintf(step, sizeof(step), "sqld-answer-%s", name[op]);
		crash_here(step);
	}
}

static long	select_rows(const char *, const char *const *, int,
		    void (*)(const char *, uint64_t, uint64_t, void *), void *, unsigned *);
static void	accounts_migrate(void);

/* The end of a request: status and a message for the user. */
static void
answer(uint32_t id, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
answer(uint32_t id, int status, const char *fmt, ...)
{
	struct msg_sql_done	d;
	va_list			ap;

	memset(&d, 0, sizeof(d));
	d.id = id;
	d.status = status;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(d.message, sizeof(d.message), fmt, ap);
		va_end(ap);
	}
	if (msg_send(CHILD_CHAN_FD, MSG_SQL_DONE, &d, sizeof(d), -1) == -1)
		exit(1);
}

static int
lost(unsigned e)
{
	return e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR || e == CR_SERVER_GONE_ERROR ||
	    e == CR_SERVER_LOST || e == CR_UNKNOWN_ERROR || e == ER_CONNECTION_KILLED;
}

static void
disconnect(void)
{
	if (S.db != NULL)
		mysql_close(S.db);
	S.db = NULL;
}

static void
flag_row(const char *s, uint64_t a, uint64_t b, void *arg)
{
	(void)s;
	(void)b;
	*(int *)arg = a != 0;
}

/* How this MariaDB matches TCP from loopback: its skip_name_resolve. */
static int
hosts_learn(char *err, size_t errlen)
{
	unsigned	e;
	int		skip = 0;

	if (select_rows("SELECT 'x', @@skip_name_resolve, 0", NULL, 0, flag_row, &skip, &e) != 1) {
		snprintf(err, errlen, "MariaDB did not say whether it resolves names: %s",
		    mysql_error(S.db));
		return -1;
	}
	S.nhosts = sql_account_hosts(skip, S.hosts);
	return 0;
}

/* Connected within sql-timeout: 0, or -1 with why. */
static int
db_connect(char *err, size_t errlen)
{
	unsigned	 t = S.conf.sql_timeout;
	unsigned	 port = 0;
	const char	*host = NULL, *sock = NULL;
	char		 sockpath[64];

	if (S.db != NULL)
		return 0;
	if ((S.db = mysql_init(NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	mysql_options(S.db, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(S.db, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(S.db, MYSQL_OPT_WRITE_TIMEOUT, &t);
	if (S.conf.sql.socket[0] != '\0') {
		/* chrooted into the socket's directory */
		snprintf(sockpath, sizeof(sockpath), "/%s", SQL_SOCKET_NAME);
		sock = sockpath;
		host = "localhost";
	} else {
		host = S.conf.sql.addr.host;
		port = (unsigned)atoi(S.conf.sql.addr.port);
	}
	if (mysql_real_connect(S.db, host, S.user, S.password, NULL, port, sock, 0) == NULL) {
		snprintf(err, errlen, "MariaDB did not answer, or refused the connection: %s",
		    mysql_error(S.db));
		disconnect();
		return -1;
	}
	if (hosts_learn(err, errlen) == -1) {
		disconnect();
		return -1;
	}
	accounts_migrate();
	return 0;
}

/* One fixed statement without parameters: 0, or the MariaDB error number. */
static unsigned
run(const char *stmt)
{
	unsigned e;

	if (mysql_real_query(S.db, stmt, strlen(stmt)) == 0) {
		MYSQL_RES *r = mysql_store_result(S.db);

		if (r != NULL)
			mysql_free_result(r);
		return 0;
	}
	e = mysql_errno(S.db);
	return e ? e : CR_UNKNOWN_ERROR;
}

/*
 * A prepared SELECT with string parameters; each row's first column is
 * a string and the next two numbers, given to row().  Rows: their count,
 * or -1 (and *e the error).
 */
static long
select_rows(const char *stmt, const char *const *params, int nparams,
    void (*row)(const char *, uint64_t, uint64_t, void *), void *arg, unsigned *e)
{
	MYSQL_STMT	*st;
	MYSQL_BIND	 in[4], out[3];
	unsigned long	 inlen[4], outlen = 0;
	char		 s[IDENT_MAX + 64];
	unsigned long long a = 0, b = 0;
	my_bool		 isnull[3] = { 0, 0, 0 };
	long		 n = 0;
	int		 i, rc;

	*e = 0;
	if ((st = mysql_stmt_init(S.db)) == NULL) {
		*e = CR_OUT_OF_MEMORY;
		return -1;
	}
	if (mysql_stmt_prepare(st, stmt, strlen(stmt)) != 0)
		goto fail;
	memset(in, 0, sizeof(in));
	for (i = 0; i < nparams && i < 4; i++) {
		inlen[i] = strlen(params[i]);
		in[i].buffer_type = MYSQL_TYPE_STRING;
		in[i].buffer = (void *)params[i];
		in[i].buffer_length = inlen[i];
		in[i].length = &inlen[i];
	}
	memset(out, 0, sizeof(out));
	out[0].buffer_type = MYSQL_TYPE_STRING;
	out[0].buffer = s;
	out[0].buffer_length = sizeof(s);
	out[0].length = &outlen;
	out[0].is_null = &isnull[0];
	out[1].buffer_type = MYSQL_TYPE_LONGLONG;
	out[1].buffer = &a;
	out[1].is_unsigned = 1;
	out[1].is_null = &isnull[1];
	out[2].buffer_type = MYSQL_TYPE_LONGLONG;
	out[2].buffer = &b;
	out[2].is_unsigned = 1;
	out[2].is_null = &isnull[2];
	if ((nparams > 0 && mysql_stmt_bind_param(st, in) != 0) || mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_bind_result(st, out) != 0)
		goto fail;
	while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		if (rc == MYSQL_DATA_TRUNCATED || isnull[0])
			continue;	/* no name of ours is that long */
		s[outlen < sizeof(s) ? outlen : sizeof(s) - 1] = '\0';
		if (row != NULL)
			row(s, isnull[1] ? 0 : a, isnull[2] ? 0 : b, arg);
		n++;
	}
	if (rc != MYSQL_NO_DATA)
		goto fail;
	mysql_stmt_close(st);
	return n;
fail:
	*e = mysql_stmt_errno(st);
	if (*e == 0)
		*e = CR_UNKNOWN_ERROR;
	mysql_stmt_close(st);
	return -1;
}

/* ------------------------------------------------------------ operations */

struct op {
	const struct msg_sql_req *q;
	char	 grant_db[2 * SQL_DB_MAX + 8];	/* `L+%` escaped for a GRANT */
	unsigned e;				/* MariaDB's error of the last step */
	const char *step;
};

/* Whether the account exists: 1, 0, or -1 (o->e). */
static int
account_exists(struct op *o)
{
	const char	*p[1] = { o->q->locker };
	long		 n;

	o->step = "look the account up";
	n = select_rows("SELECT User, 0, 0 FROM mysql.global_priv WHERE User = ? AND "
	    "Host = 'localhost'", p, 1, NULL, NULL, &o->e);
	return n < 0 ? -1 : n > 0;
}

/* Whether its grant on LOCKER+% is there for each of its hosts: 1, 0, or -1. */
static int
grant_exists(struct op *o)
{
	const char	*p[3] = { o->q->locker, o->grant_db, S.hosts[S.nhosts - 1] };
	long		 n;

	o->step = "look the grant up";
	n = select_rows("SELECT Db, 0, 0 FROM mysql.db WHERE User = ? AND Db = ? AND "
	    "Host IN ('localhost', ?)", p, 3, NULL, NULL, &o->e);
	return n < 0 ? -1 : n == S.nhosts;
}

/*
 * The account on each of its hosts (sqlacct.c: NAME@localhost, and
 * NAME@127.0.0.1 where MariaDB skips name resolution), one password, each
 * host's share of the limits, the grant on LOCKER+%.  Made where missing,
 * given the password and limits, granted: each step can be repeated, so
 * an account a crash left half made is completed by the next signup or
 * password.  Where one account is enough, a NAME@127.0.0.1 an older
 * lockerd made goes (it would double the limits where it matched).
 */
static int
account_make(struct op *o)
{
	const char	*l = o->q->locker, *pw = o->q->password;
	char		 stmt[768], lim[256];
	int		 i;

	for (i = 0; i < S.nhosts; i++) {
		sql_limits_clause(&o->q->lim, i, S.nhosts, lim, sizeof(lim));
		snprintf(stmt, sizeof(stmt), "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED "
		    "BY '%s'%s", l, S.hosts[i], pw, lim);
		o->step = "create the account";
		if ((o->e = run(stmt)) != 0)
			return -1;
		crash_here("sqld-created");
		snprintf(stmt, sizeof(stmt), "ALTER USER '%s'@'%s' IDENTIFIED BY '%s'%s", l,
		    S.hosts[i], pw, lim);
		o->step = "set the password";
		if ((o->e = run(stmt)) != 0)
			return -1;
		crash_here("sqld-altered");
		snprintf(stmt, sizeof(stmt), "GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s'",
		    o->grant_db, l, S.hosts[i]);
		o->step = "grant the account its databases";
		if ((o->e = run(stmt)) != 0)
			return -1;
	}
	if (S.nhosts == 1) {
		snprintf(stmt, sizeof(stmt), "DROP USER IF EXISTS '%s'@'%s'", l,
		    sql_account_twin());
		o->step = "drop the account's TCP twin";
		if ((o->e = run(stmt)) != 0)
			return -1;
	}
	return 0;
}

/* A whole account is refused as existing; a half-made one is completed. */
static int
op_signup(struct op *o, char *msg, size_t msglen)
{
	int	has, granted;

	if ((has = account_exists(o)) == -1)
		return -1;
	if (has && (granted = grant_exists(o)) != 0) {
		if (granted == -1)
			return -1;
		snprintf(msg, msglen, "locker %s already has a database account (a new "
		    "password: locker sql password %s)", o->q->locker, o->q->locker);
		return SQL_E_EXISTS;
	}
	return account_make(o) == -1 ? -1 : SQL_OK;
}

static int
op_password(struct op *o, char *msg, size_t msglen)
{
	int has;

	if ((has = account_exists(o)) == -1)
		return -1;
	if (!has) {
		snprintf(msg, msglen, "locker %s has no database account (locker sql signup %s)",
		    o->q->locker, o->q->locker);
		return SQL_E_NOTFOUND;
	}
	return account_make(o) == -1 ? -1 : SQL_OK;
}

static int
op_database(struct op *o, const char *full, char *msg, size_t msglen)
{
	char	stmt[256];
	int	has;

	if (o->q->op == SQL_OP_CREATE) {
		if ((has = account_exists(o)) == -1)
			return -1;
		if (!has) {
			snprintf(msg, msglen, "locker %s has no database account (locker sql "
			    "signup %s)", o->q->locker, o->q->locker);
			return SQL_E_NOTFOUND;
		}
		snprintf(stmt, sizeof(stmt), "CREATE DATABASE `%s` CHARACTER SET utf8mb4", full);
		o->step = "create the database";
	} else {
		snprintf(stmt, sizeof(stmt), "DROP DATABASE `%s`", full);
		o->step = "drop the database";
	}
	if ((o->e = run(stmt)) == ER_DB_CREATE_EXISTS) {
		snprintf(msg, msglen, "database %s exists", full);
		return SQL_E_EXISTS;
	}
	if (o->e == ER_DB_DROP_EXISTS) {
		snprintf(msg, msglen, "no database %s", full);
		return SQL_E_NOTFOUND;
	}
	return o->e ? -1 : SQL_OK;
}

static void
list_row(const char *db, uint64_t tables, uint64_t bytes, void *arg)
{
	struct msg_sql_row	r;

	memset(&r, 0, sizeof(r));
	r.id = *(const uint32_t *)arg;
	if (strlen(db) > SQL_DB_MAX)
		return;
	snprintf(r.db, sizeof(r.db), "%s", db);
	r.tables = tables > UINT32_MAX ? UINT32_MAX : (uint32_t)tables;
	r.bytes = bytes;
	if (msg_send(CHILD_CHAN_FD, MSG_SQL_ROW, &r, sizeof(r), -1) == -1)
		exit(1);
}

/*
 * The locker's databases, for REMOVE: every name its grant's pattern
 * matches, whether lockerd made it or the locker did with its own CREATE
 * DATABASE (a name with a space, say: it must go too, or a locker signed
 * up again under the name would find it).  MariaDB's own text, not a
 * request's: quoted as an identifier (a backtick doubled), bounded.
 */
struct dbs {
	char	name[64][2 * IDENT_MAX + 1];	/* quoted */
	int	n, more;
};

static int
quote_ident(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (n + 3 > outsz)
			return -1;
		if (*s == '`')
			out[n++] = '`';
		out[n++] = *s;
	}
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

static void
remove_row(const char *db, uint64_t tables, uint64_t bytes, void *arg)
{
	struct dbs	*d = arg;

	(void)tables;
	(void)bytes;
	if (d->n == 64) {
		d->more = 1;
		return;
	}
	if (quote_ident(db, d->name[d->n], sizeof(d->name[0])) == 0)
		d->n++;
}

/* Databases first, then the account: a crash between leaves an account
 * without databases, which the next remove (or signup) deals with. */
static int
op_remove(struct op *o, char *msg, size_t msglen)
{
	static struct dbs	 d;
	const char		*p[1] = { o->grant_db };
	char			 stmt[64 + 2 * IDENT_MAX];
	int			 i;

	do {
		memset(&d, 0, sizeof(d));
		o->step = "list the databases";
		if (select_rows("SELECT SCHEMA_NAME, 0, 0 FROM information_schema.SCHEMATA "
		    "WHERE SCHEMA_NAME LIKE ?", p, 1, remove_row, &d, &o->e) < 0)
			return -1;
		for (i = 0; i < d.n; i++) {
			snprintf(stmt, sizeof(stmt), "DROP DATABASE IF EXISTS `%s`", d.name[i]);
			if (strlen(stmt) + 1 >= sizeof(stmt))
				continue;
			o->step = "drop a database";
			if ((o->e = run(stmt)) != 0)
				return -1;
		}
	} while (d.more);
	crash_here("sqld-remove-dbs");
	snprintf(stmt, sizeof(stmt), "DROP USER IF EXISTS '%s'@'localhost', '%s'@'127.0.0.1'",
	    o->q->locker, o->q->locker);
	o->step = "drop the account";
	if ((o->e = run(stmt)) != 0)
		return -1;
	snprintf(msg, msglen, "dropped the account and %d database%s", d.n, d.n == 1 ? "" : "s");
	return SQL_OK;
}

static int
op_list(struct op *o)
{
	char		 pat[2 * SQL_DB_MAX + 8];
	uint32_t	 id = o->q->id;

	if (o->q->locker[0] == '\0')
		snprintf(pat, sizeof(pat), "%%+%%");
	else
		snprintf(pat, sizeof(pat), "%s", o->grant_db);
	o->step = "list the databases";
	/* The limit's own measure (sqlsize.c), so that both say the same. */
	return sqlsize_schemas(pat, list_row, &id, &o->e) < 0 ? -1 : SQL_OK;
}

/* ------------------------------------------------------------ migration */

/*
 * Accounts an older lockerd made, or made under another skip_name_resolve,
 * brought to what sqlacct.c says for this MariaDB, at each connection
 * (so after a MariaDB restart that changed it too).  A lockerd account is
 * a user whose localhost grant is on its own LOCKER+% (CHAR(92, 95) is
 * `\_`, sql_like_escape()'s, whatever MariaDB's sql_mode does to a
 * backslash in a literal).  Each name is checked by the validator again
 * before it goes into a statement.
 */
#define LOCKERD_ACCOUNTS "mysql.global_priv g JOIN mysql.db d ON d.User = g.User AND " \
	"d.Host = 'localhost' AND d.Db = CONCAT(REPLACE(g.User, '_', CHAR(92, 95 USING " \
	"utf8mb4)), '+%')"

struct names {
	char	(*name)[LOCKER_NAME_MAX + 1];
	size_t	 n, cap;
};

static void
names_row(const char *user, uint64_t a, uint64_t b, void *arg)
{
	struct names	*ns = arg;
	void		*p;

	(void)a;
	(void)b;
	if (!sql_word_ok(user, LOCKER_NAME_MAX))
		return;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 64;
		if ((p = reallocarray(ns->name, ns->cap, sizeof(*ns->name))) == NULL)
			return;
		ns->name = p;
	}
	snprintf(ns->name[ns->n++], sizeof(ns->name[0]), "%s", user);
}

static void
config_limits(struct sql_limits *l)
{
	l->max_user_connections = S.conf.sql_max_user_connections;
	l->max_connections_per_hour = S.conf.sql_max_connections_per_hour;
	l->max_queries_per_hour = S.conf.sql_max_queries_per_hour;
	l->max_updates_per_hour = S.conf.sql_max_updates_per_hour;
	l->max_statement_time = S.conf.sql_max_statement_time;
}

/* Each account's statement(s) for this MariaDB: 0, or the error. */
static unsigned
migrate_one(const char *user, const struct sql_limits *l)
{
	char		stmt[512], lim[256];
	unsigned	e;
	int		i;

	if (S.nhosts == 1) {
		snprintf(stmt, sizeof(stmt), "DROP USER IF EXISTS '%s'@'%s'", user,
		    sql_account_twin());
		return run(stmt);
	}
	for (i = 0; i < S.nhosts; i++) {
		sql_limits_clause(l, i, S.nhosts, lim, sizeof(lim));
		snprintf(stmt, sizeof(stmt), "ALTER USER IF EXISTS '%s'@'%s'%s", user, S.hosts[i],
		    lim);
		if ((e = run(stmt)) != 0)
			return e;
	}
	return 0;
}

static void
accounts_migrate(void)
{
	struct names	 ns = { NULL, 0, 0 };
	struct sql_limits l;
	char		 share[2][24];
	const char	*p[2] = { share[0], share[1] };
	unsigned	 e = 0;
	size_t		 i;
	long		 n;

	config_limits(&l);
	if (S.nhosts == 1)
		n = select_rows("SELECT g.User, 0, 0 FROM " LOCKERD_ACCOUNTS " JOIN "
		    "mysql.global_priv t ON t.User = g.User AND t.Host = '127.0.0.1' "
		    "WHERE g.Host = 'localhost'", NULL, 0, names_row, &ns, &e);
	else {
		snprintf(share[0], sizeof(share[0]), "%ld", sql_connections_share(&l, 0, 2));
		snprintf(share[1], sizeof(share[1]), "%ld", sql_connections_share(&l, 1, 2));
		n = select_rows("SELECT g.User, 0, 0 FROM " LOCKERD_ACCOUNTS " WHERE g.Host = "
		    "'localhost' AND (COALESCE(JSON_VALUE(g.Priv, '$.max_user_connections'), "
		    "'0') <> ? OR NOT EXISTS (SELECT 1 FROM mysql.global_priv t WHERE t.User = "
		    "g.User AND t.Host = '127.0.0.1' AND COALESCE(JSON_VALUE(t.Priv, "
		    "'$.max_user_connections'), '0') = ?))", p, 2, names_row, &ns, &e);
	}
	for (i = 0; n > 0 && i < ns.n && e == 0; i++)
		e = migrate_one(ns.name[i], &l);
	if (n < 0 || e != 0)
		log_warnx("sqld: the accounts of lockers could not be brought to this MariaDB's "
		    "way (%s): error %u; next connection again", S.nhosts == 1 ?
		    "one account each" : "two accounts each, the limits split", e);
	else if (ns.n > 0)
		log_info("sqld: %zu locker account%s brought to %s", ns.n, ns.n == 1 ? "" : "s",
		    S.nhosts == 1 ? "one account each (MariaDB resolves names: TCP from "
		    "loopback is localhost)" : "two accounts each, the limits split "
		    "(MariaDB's skip_name_resolve; an account without its 127.0.0.1 twin gets "
		    "one at its next `locker sql password`)");
	free(ns.name);
}

/* sqld's own check of what the master sent: every name again. */
static const char *
req_invalid(const struct msg_sql_req *q, char *full, size_t fullsz, char *grant_db,
    size_t gsz)
{
	char	err[160], esc[2 * LOCKER_NAME_MAX + 4];

	if (memchr(q->locker, '\0', sizeof(q->locker)) == NULL ||
	    memchr(q->db, '\0', sizeof(q->db)) == NULL ||
	    memchr(q->password, '\0', sizeof(q->password)) == NULL)
		return "unterminated name";
	if (q->op == SQL_OP_LIST && q->locker[0] == '\0')
		return NULL;
	if (!sql_word_ok(q->locker, LOCKER_NAME_MAX))
		return "bad account name";
	if (sql_like_escape(q->locker, esc, sizeof(esc)) == -1 ||
	    (size_t)snprintf(grant_db, gsz, "%s%c%%", esc, SQL_SEP) >= gsz)
		return "account name too long";
	if ((q->op == SQL_OP_SIGNUP || q->op == SQL_OP_PASSWORD) &&
	    !sql_word_ok(q->password, SQL_PASSWORD_MAX))
		return "bad password";
	if ((q->op == SQL_OP_CREATE || q->op == SQL_OP_DROP) &&
	    sql_db_name(q->locker, q->db, full, fullsz, err, sizeof(err)) == -1)
		return "bad database name";
	return NULL;
}

static int
op_run(struct op *o, const char *full, char *msg, size_t msglen)
{
	int has;

	switch (o->q->op) {
	case SQL_OP_SIGNUP:
		return op_signup(o, msg, msglen);
	case SQL_OP_PASSWORD:
		return op_password(o, msg, msglen);
	case SQL_OP_CREATE:
	case SQL_OP_DROP:
		return op_database(o, full, msg, msglen);
	case SQL_OP_LIST:
		return op_list(o);
	case SQL_OP_ACCOUNT:
		if ((has = account_exists(o)) == -1)
			return -1;
		return has ? SQL_OK : SQL_E_NOTFOUND;
	case SQL_OP_REMOVE:
		return op_remove(o, msg, msglen);
	}
	snprintf(msg, msglen, "no such operation");
	return SQL_E_INVALID;
}

static void
request(const struct msg_sql_req *q)
{
	struct op	 o;
	char		 full[SQL_DB_MAX + 1] = "", msg[256] = "", err[256];
	const char	*why;
	int		 rc, tries;

	memset(&o, 0, sizeof(o));
	o.q = q;
	if ((why = req_invalid(q, full, sizeof(full), o.grant_db, sizeof(o.grant_db))) != NULL) {
		answer(q->id, SQL_E_INVALID, "sqld refused the request: %s", why);
		return;
	}
	/* A connection MariaDB closed (a restart, wait_timeout) is made again
	 * once; a second loss is an answer. */
	for (tries = 0; tries < 2; tries++) {
		if (db_connect(err, sizeof(err)) == -1) {
			answer(q->id, SQL_E_DOWN, "%s", err);
			return;
		}
		if ((rc = op_run(&o, full, msg, sizeof(msg))) != -1) {
			crash_answer(q->op);
			break;
		}
		if (!lost(o.e))
			break;
		disconnect();
	}
	if (rc != -1) {
		answer(q->id, rc, "%s", msg);
		return;
	}
	if (lost(o.e)) {
		answer(q->id, SQL_E_DOWN, "MariaDB did not answer (%s)", o.step);
		disconnect();
		return;
	}
	answer(q->id, SQL_E_REFUSED, "MariaDB refused to %s: %s", o.step,
	    S.db != NULL ? mysql_error(S.db) : "no connection");
}

/* ------------------------------------------------------------ lent to sqlsize.c */

const struct config *
sqld_conf(void)
{
	return &S.conf;
}

int
sqld_connect(char *err, size_t errlen)
{
	return db_connect(err, errlen);
}

void
sqld_lost(unsigned e)
{
	if (lost(e))
		disconnect();
}

unsigned
sqld_run(const char *stmt)
{
	return run(stmt);
}

const char *
sqld_error(void)
{
	return S.db != NULL ? mysql_error(S.db) : "no connection";
}

long
sqld_select(const char *stmt, const char *const *params, int nparams,
    void (*row)(const char *, uint64_t, uint64_t, void *), void *arg, unsigned *e)
{
	return select_rows(stmt, params, nparams, row, arg, e);
}

int
sqld_hosts(const char *const **out)
{
	*out = S.hosts;
	return S.nhosts;
}

void
sqld_conf_limits(const struct config *c, struct sql_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_user_connections = c->sql_max_user_connections;
	l->max_connections_per_hour = c->sql_max_connections_per_hour;
	l->max_queries_per_hour = c->sql_max_queries_per_hour;
	l->max_updates_per_hour = c->sql_max_updates_per_hour;
	l->max_statement_time = c->sql_max_statement_time;
}

/* ------------------------------------------------------------ start */

static void
creds_read(int fd)
{
	char	 buf[4096], err[128];
	ssize_t	 n;

	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n == (ssize_t)sizeof(buf))
		fatalx("sqld: the credentials file cannot be read, or is over 4 KiB");
	if (sql_creds_parse(buf, (size_t)n, S.user, sizeof(S.user), S.password,
	    sizeof(S.password), err, sizeof(err)) == -1)
		fatalx("sqld: %s: %s", S.conf.sql.creds_file, err);
	explicit_bzero(buf, sizeof(buf));
}

/* The first two messages: the configuration and the credentials file. */
static void
master_first(void)
{
	static union {
		struct config	c;
		char		b[1];
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	n = msg_recv_checked(CHILD_CHAN_FD, MR_SQLD, MR_MASTER, &type, &m, sizeof(m), &fd, &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("sqld: no configuration from the master");
	S.conf = m.c;
	n = msg_recv_checked(CHILD_CHAN_FD, MR_SQLD, MR_MASTER, &type, &m, sizeof(m), &fd, &why);
	if (n < 0 || type != MSG_SQL_CREDS || fd == -1)
		fatalx("sqld: no credentials from the master");
	creds_read(fd);
}

static void
undumpable(void)
{
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 || setrlimit(RLIMIT_CORE, &none) == -1)
		fatal("sqld: no core dumps");
}

/* The master's next message within ms: 1, 0 (none came), or -1 (poll failed). */
static int
master_wait(uint64_t ms)
{
	struct pollfd	p = { .fd = CHILD_CHAN_FD, .events = POLLIN };
	int		n;

	n = poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
	if (n == -1 && errno == EINTR)
		return 0;
	return n;
}

static void
sqld_loop(void)
{
	static union {
		struct msg_sql_req	q;
		struct msg_sql_cut	k;
		struct config		c;
	} m;
	static struct config old;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd, w;

	for (;;) {
		/* The measures (sqlsize.c) between requests, on their timer. */
		if ((w = master_wait(sqlsize_due_in())) == 0) {
			sqlsize_round();
			continue;
		}
		if (w == -1)
			break;
		n = msg_recv_checked(CHILD_CHAN_FD, MR_SQLD, MR_MASTER, &type, &m, sizeof(m), &fd,
		    &why);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == MSG_BREACH) {
			msg_breach(MR_SQLD, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
			exit(1);
		}
		if (n < 0 || type == MSG_NONE)
			break;		/* the master has gone */
		if (fd != -1)
			close(fd);
		if (type == MSG_SQL_REQUEST)
			request(&m.q);
		else if (type == MSG_SQL_CUT)
			sqlsize_cut(&m.k);
		else if (type == MSG_CONFIG) {
			/* A reload: the master kept what changes only at restart
			 * (sql, sql-user), so the rest may change here. */
			old = S.conf;
			S.conf = m.c;
			sqlsize_config(&old, &S.conf);
		}
	}
	disconnect();
}

int
sqld_main(void)
{
	char	 err[256], dir[PATH_MAX];
	char	*slash;

	log_init("sqld", getenv("LOCKERD_DEBUG") != NULL);
	undumpable();
	master_first();
	if (mysql_library_init(0, NULL, NULL) != 0)
		fatalx("sqld: the MariaDB client library cannot start");
	/* Its root: the socket's directory, where the socket is all it needs;
	 * for TCP an empty directory. */
	if (S.conf.sql.socket[0] != '\0') {
		snprintf(dir, sizeof(dir), "%s", S.conf.sql.socket);
		if ((slash = strrchr(dir, '/')) != NULL)
			*(slash == dir ? slash + 1 : slash) = '\0';
	} else
		snprintf(dir, sizeof(dir), "%s/empty", S.conf.state);
	drop_privileges(S.conf.sql_user, dir);
	undumpable();
	signal(SIGPIPE, SIG_IGN);
	if (seccomp_sqld(err, sizeof(err)) == -1)
		fatalx("sqld: %s", err);
	sqld_loop();
	mysql_library_end();
	return 0;
}

/* lockerd-sqld is exec'd by the master as "lockerd -R sqld". */
int
main(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "-R") != 0 || strcmp(argv[2], "sqld") != 0) {
		fprintf(stderr, "lockerd-sqld is started by lockerd, not by hand\n");
		return 2;
	}
	return sqld_main();
}
