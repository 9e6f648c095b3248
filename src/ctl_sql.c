/*
 * ctl_sql.c: `locker sql ...` (issue 14), for a locker's admins: signup,
 * create, drop, list, password, dump.  Each verb is a short chain of
 * steps, each answered later through the master's loop, never waited for:
 * a request to sqld (sql_master.c), a task as the locker in its sandbox
 * (sqlhome.c: my.cnf, mariadb-dump), and done().
 *
 *   signup, password   sqld makes or changes the account -> my.cnf written
 *   create             sqld
 *   drop               sqld lists (does it exist?) -> the dump -> sqld drops
 *   drop --purge       sqld drops
 *   dump               (sqld lists) -> the dump
 *   list               sqld's rows, each shown to whoever may see its locker
 *
 * Names are checked here with sql.h's validator before sqld hears of them
 * (and again by the CLI before, and by sqld after).  The order of the steps
 * is what keeps a crash harmless: a drop's dump is whole (fsync'd) before
 * the database goes; a signup that stopped half-way is completed by the
 * next (sqld.c); a password MariaDB has but my.cnf lacks is mended by
 * `locker sql password`.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "sql.h"

enum sql_step { SJ_SQLD = 1, SJ_CHECK, SJ_TASK, SJ_DROP, SJ_ACCOUNT, SJ_SIGNUP, SJ_CREATE };

struct sql_job {
	struct locker_rec	 lr;
	enum sql_step		 step;
	char			 password[SQL_PASSWORD_MAX + 1];
	char			 db[SQL_DB_MAX + 1];	/* the NAME part */
	char			 full[SQL_DB_MAX + 1];	/* LOCKER+NAME, "" for none */
	char			 file[512];
	int			 found;			/* SJ_CHECK: full was listed */
	unsigned		 rows;
	/* sql_prepare(), for another verb: called at the end instead of done(). */
	void			(*then)(struct ctl_client *, int, const char *);
};

static void	job_sqld_done(struct ctl_client *c, const struct msg_sql_done *d);

static void	remove_step(struct ctl_client *c, const struct msg_sql_done *d);
static void	prepare_step(struct ctl_client *c, const struct msg_sql_done *d);

void
sql_job_free(struct ctl_client *c)
{
	if (c->sql_job != NULL) {
		explicit_bzero(c->sql_job->password, sizeof(c->sql_job->password));
		free(c->sql_job);
	}
	c->sql_job = NULL;
}

static void
finish(struct ctl_client *c, int code, const char *msg)
{
	void (*then)(struct ctl_client *, int, const char *) =
	    c->sql_job != NULL ? c->sql_job->then : NULL;

	sql_job_free(c);
	if (then != NULL) {
		then(c, code, msg != NULL ? msg : "");
		return;
	}
	if (msg != NULL && msg[0] != '\0')
		done(c, code, "%s", msg);
	else
		done(c, code, NULL);
}

/* One MSG_CTL_SQL for a file the verb wrote (or a database it made). */
static void
tell(struct ctl_client *c, const char *db, const char *file)
{
	struct ctl_sql	 s;

	memset(&s, 0, sizeof(s));
	snprintf(s.locker, sizeof(s.locker), "%s", c->sql_job->lr.name);
	snprintf(s.db, sizeof(s.db), "%s", db);
	snprintf(s.file, sizeof(s.file), "%s", file);
	reply(c, MSG_CTL_SQL, &s, sizeof(s));
}

static int
ask(struct ctl_client *c, enum sql_op op, const char *locker)
{
	struct sql_job		*j = c->sql_job;
	struct msg_sql_req	 q;
	char			 err[256];

	memset(&q, 0, sizeof(q));
	q.op = op;
	snprintf(q.locker, sizeof(q.locker), "%s", locker);
	snprintf(q.db, sizeof(q.db), "%s", j->db);
	snprintf(q.password, sizeof(q.password), "%s", j->password);
	q.lim.max_user_connections = M->conf.sql_max_user_connections;
	q.lim.max_connections_per_hour = M->conf.sql_max_connections_per_hour;
	q.lim.max_queries_per_hour = M->conf.sql_max_queries_per_hour;
	q.lim.max_updates_per_hour = M->conf.sql_max_updates_per_hour;
	q.lim.max_statement_time = M->conf.sql_max_statement_time;
	if (sql_call(c, &q, sql_row, job_sqld_done, err, sizeof(err)) == -1) {
		explicit_bzero(&q, sizeof(q));
		finish(c, 1, err);
		return -1;
	}
	explicit_bzero(&q, sizeof(q));
	return 0;
}

static void
start_task(struct ctl_client *c, struct child *t)
{
	if (t == NULL) {
		finish(c, 1, "cannot start a process as the locker");
		return;
	}
	c->sql_job->step = SJ_TASK;
	c->task = t;
	t->waiter = c;
}

static void
start_dump(struct ctl_client *c)
{
	struct sql_job *j = c->sql_job;

	start_task(c, sql_dump_start(&j->lr, j->full, j->file, sizeof(j->file)));
}

/* Whether the locker's database writes are withdrawn (sql_limit.c). */
static uint32_t
over_limit(const char *locker)
{
	uint64_t	bytes;
	int		cut;

	return sql_limit_of(locker, &bytes, &cut) == 0 && cut;
}

/* A row of a list: to the client if it may see that locker's databases. */
void
sql_row(struct ctl_client *c, const struct msg_sql_row *r)
{
	struct sql_job	*j = c->sql_job;
	struct ctl_sql	 s;
	char		 locker[LOCKER_NAME_MAX + 1], db[SQL_DB_MAX + 1];

	if (j == NULL || sql_db_split(r->db, locker, sizeof(locker), db, sizeof(db)) == -1)
		return;
	if (j->step == SJ_CHECK) {
		j->found |= strcmp(r->db, j->full) == 0;
		return;
	}
	if (!caller_may(c, locker))
		return;
	memset(&s, 0, sizeof(s));
	snprintf(s.locker, sizeof(s.locker), "%s", locker);
	snprintf(s.db, sizeof(s.db), "%s", r->db);
	s.bytes = r->bytes;
	s.tables = r->tables;
	s.over = over_limit(locker);
	j->rows++;
	reply(c, MSG_CTL_SQL, &s, sizeof(s));
}

/*
 * `locker remove`: has it an account?  Then (unless --purge) a final dump
 * of every database into ~/.sql/dumps, which goes into the archive with
 * the home; then the databases and the account are dropped, and only
 * then is the locker removed.  A failure stops the removal: the locker
 * and its databases stay as they were.
 */
void
sql_remove_start(struct ctl_client *c)
{
	struct sql_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		done(c, 1, "out of memory");
		return;
	}
	c->sql_job = j;
	if (locker_get(c, &j->lr) == -1) {
		sql_job_free(c);
		return;
	}
	j->step = SJ_ACCOUNT;
	ask(c, SQL_OP_ACCOUNT, j->lr.name);
}

static void
remove_step(struct ctl_client *c, const struct msg_sql_done *d)
{
	struct sql_job	*j = c->sql_job;
	char		 line[600];

	if (j->step == SJ_ACCOUNT && d->status == SQL_E_NOTFOUND) {
		sql_job_free(c);
		remove_finish(c);
		return;
	}
	if (d->status != SQL_OK) {
		snprintf(line, sizeof(line), "locker %s not removed: its databases could not be "
		    "dropped: %s", j->lr.name, d->message);
		finish(c, d->status == SQL_E_DOWN ? 69 : 1, line);
		return;
	}
	if (j->step == SJ_ACCOUNT && !(c->req.flags & CTL_F_PURGE)) {
		start_dump(c);
		return;
	}
	if (j->step == SJ_ACCOUNT || j->step == SJ_TASK) {
		j->step = SJ_DROP;
		ask(c, SQL_OP_REMOVE, j->lr.name);
		return;
	}
	crash_point("sql-removed");
	snprintf(line, sizeof(line), "%s: %s%s%s", j->lr.name, d->message,
	    j->file[0] ? "; their final dump: " : "", j->file[0] ? j->file : "");
	text(c, line);
	sql_job_free(c);
	remove_finish(c);
}

/*
 * sql_prepare(): the locker's account, made as `locker sql signup` makes it
 * (sqld, then my.cnf written as the locker) unless it has one; then its
 * database, if one is asked for; then the other verb's own step.
 */
void
sql_prepare(struct ctl_client *c, const struct locker_rec *lr, const char *db,
    void (*then)(struct ctl_client *, int, const char *))
{
	struct sql_job	*j;
	char		 err[256];

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		then(c, 1, "out of memory");
		return;
	}
	c->sql_job = j;
	j->lr = *lr;
	j->then = then;
	if (!sql_word_ok(lr->name, LOCKER_NAME_MAX) || (db[0] != '\0' &&
	    sql_db_name(lr->name, db, j->full, sizeof(j->full), err, sizeof(err)) == -1)) {
		if (!sql_word_ok(lr->name, LOCKER_NAME_MAX))
			snprintf(err, sizeof(err), "locker name %s cannot be a database account",
			    lr->name);
		finish(c, 2, err);
		return;
	}
	/* j->db is what each request to sqld carries: the database only once
	 * it is its turn (the account's requests name none). */
	snprintf(j->file, sizeof(j->file), "%s", db);
	j->step = SJ_ACCOUNT;
	ask(c, SQL_OP_ACCOUNT, lr->name);
}

static void
prepare_step(struct ctl_client *c, const struct msg_sql_done *d)
{
	struct sql_job	*j = c->sql_job;
	char		 line[600];

	if (j->step == SJ_ACCOUNT && d->status == SQL_E_NOTFOUND) {
		if (sql_password_new(j->password, sizeof(j->password)) == -1) {
			finish(c, 1, "no random numbers for a password");
			return;
		}
		if (dir_audit(M->dir, "sql signup", j->lr.name, "", line, sizeof(line)) == -1) {
			finish(c, 1, line);
			return;
		}
		j->step = SJ_SIGNUP;
		ask(c, SQL_OP_SIGNUP, j->lr.name);
		return;
	}
	if (d->status != SQL_OK) {
		finish(c, d->status == SQL_E_DOWN ? 69 : 1, d->message);
		return;
	}
	if (j->step == SJ_SIGNUP) {
		sql_limit_regranted(j->lr.name);
		start_task(c, sql_cnf_write(&j->lr, j->password));
		explicit_bzero(j->password, sizeof(j->password));
		return;
	}
	if (j->step != SJ_CREATE && j->file[0] != '\0') {
		snprintf(j->db, sizeof(j->db), "%s", j->file);
		if (dir_audit(M->dir, "sql create", j->lr.name, j->full, line,
		    sizeof(line)) == -1) {
			finish(c, 1, line);
			return;
		}
		j->step = SJ_CREATE;
		ask(c, SQL_OP_CREATE, j->lr.name);
		return;
	}
	finish(c, 0, NULL);
}

/* sqld answered the job's current request. */
static void
job_sqld_done(struct ctl_client *c, const struct msg_sql_done *d)
{
	struct sql_job	*j = c->sql_job;
	char		 line[600];

	if (j == NULL)
		return;
	if (j->then != NULL) {
		prepare_step(c, d);
		return;
	}
	if (c->req.verb == CTL_REMOVE) {
		remove_step(c, d);
		return;
	}
	if (d->status != SQL_OK) {
		finish(c, d->status == SQL_E_DOWN ? 69 : 1, d->message);
		return;
	}
	switch (c->req.verb) {
	case CTL_SQL_SIGNUP:
	case CTL_SQL_PASSWORD:
		/* MariaDB has the password: now the locker's file. */
		sql_limit_regranted(j->lr.name);
		crash_point("sql-account");
		start_task(c, sql_cnf_write(&j->lr, j->password));
		explicit_bzero(j->password, sizeof(j->password));
		return;
	case CTL_SQL_CREATE:
		tell(c, j->full, "");
		snprintf(line, sizeof(line), "created database %s", j->full);
		text(c, line);
		finish(c, 0, NULL);
		return;
	case CTL_SQL_DROP:
	case CTL_SQL_DUMP:
		if (j->step == SJ_CHECK) {
			if (!j->found) {
				snprintf(line, sizeof(line), "no database %s", j->full);
				finish(c, 1, line);
				return;
			}
			if (c->req.verb == CTL_SQL_DROP && (c->req.flags & CTL_F_PURGE)) {
				j->step = SJ_DROP;
				ask(c, SQL_OP_DROP, j->lr.name);
				return;
			}
			start_dump(c);
			return;
		}
		crash_point("sql-dropped");
		snprintf(line, sizeof(line), "dropped database %s", j->full);
		if (j->file[0] != '\0')
			tell(c, j->full, j->file);
		text(c, line);
		finish(c, 0, NULL);
		return;
	default:	/* CTL_SQL_LIST */
		finish(c, 0, NULL);
		return;
	}
}

/* A task of the job's ended (control_task_done()): its exit code. */
void
sql_task_done(struct ctl_client *c, int code)
{
	struct sql_job	*j = c->sql_job;
	const char	*why = sql_task_error(code);
	char		 line[700];

	if (j == NULL) {
		done(c, code, NULL);
		return;
	}
	if (j->then != NULL) {
		struct msg_sql_done ok = { .status = SQL_OK };

		if (why != NULL) {
			snprintf(line, sizeof(line), "the SQL account is made, but ~/.sql/my.cnf "
			    "was not written: %s; then: locker sql password %s", why, j->lr.name);
			finish(c, 1, line);
			return;
		}
		prepare_step(c, &ok);
		return;
	}
	if (why != NULL && c->req.verb == CTL_REMOVE) {
		snprintf(line, sizeof(line), "locker %s not removed: the final dump of its "
		    "databases failed: %s (--purge removes it without one)", j->lr.name, why);
		finish(c, 1, line);
		return;
	}
	if (c->req.verb == CTL_REMOVE) {
		struct msg_sql_done ok = { .status = SQL_OK };

		crash_point("sql-remove-dumped");
		remove_step(c, &ok);
		return;
	}
	if (why != NULL) {
		if (c->req.verb == CTL_SQL_SIGNUP || c->req.verb == CTL_SQL_PASSWORD)
			snprintf(line, sizeof(line), "the account's new password is set, but "
			    "~/.sql/my.cnf was not written: %s; then: locker sql password %s",
			    why, j->lr.name);
		else if (c->req.verb == CTL_SQL_DROP)
			snprintf(line, sizeof(line), "%s; database %s not dropped (--purge drops "
			    "it without a dump)", why, j->full);
		else
			snprintf(line, sizeof(line), "%s", why);
		finish(c, 1, line);
		return;
	}
	if (c->req.verb == CTL_SQL_DROP) {
		crash_point("sql-dumped");
		j->step = SJ_DROP;
		ask(c, SQL_OP_DROP, j->lr.name);
		return;
	}
	if (c->req.verb == CTL_SQL_DUMP) {
		tell(c, j->full, j->file);
		snprintf(line, sizeof(line), "dumped %s into %s", j->full[0] ? j->full :
		    "every database", j->file);
	} else {
		char home[PATH_MAX];

		crash_point("sql-cnf");
		locker_home(j->lr.name, home, sizeof(home));
		snprintf(j->file, sizeof(j->file), "%s/%s/%s", home, SQL_CNF_DIR, SQL_CNF_FILE);
		tell(c, "", j->file);
		snprintf(line, sizeof(line), "%s: account %s, password in %s",
		    c->req.verb == CTL_SQL_SIGNUP ? "signed up" : "new password", j->lr.name,
		    j->file);
	}
	text(c, line);
	finish(c, 0, NULL);
}

/* The request's DB argument (argv[0]), or "" when it has none. */
static int
db_arg(struct ctl_client *c, char *out, size_t outsz)
{
	const char *a = c->req.argv;

	out[0] = '\0';
	if (c->req.argc == 0)
		return 0;
	if (c->req.argc != 1 || memchr(a, '\0', sizeof(c->req.argv)) == NULL ||
	    strlen(a) >= outsz) {
		done(c, 2, "expected one database name");
		return -1;
	}
	snprintf(out, outsz, "%s", a);
	return 0;
}

static const char *
audit_action(uint32_t verb)
{
	switch (verb) {
	case CTL_SQL_SIGNUP:	return "sql signup";
	case CTL_SQL_CREATE:	return "sql create";
	case CTL_SQL_DROP:	return "sql drop";
	case CTL_SQL_PASSWORD:	return "sql password";
	case CTL_SQL_DUMP:	return "sql dump";
	}
	return NULL;
}

void
do_sql(struct ctl_client *c)
{
	struct sql_job	*j;
	const char	*action = audit_action(c->req.verb);
	char		 err[256];

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		done(c, 1, "out of memory");
		return;
	}
	c->sql_job = j;
	j->step = SJ_SQLD;
	if (c->req.verb == CTL_SQL_LIST && M->conf.sql.kind == SQL_NONE) {
		/* nothing to list, and that is no error: scripts ask it too */
		text(c, "there is no SQL service here (sql none)");
		finish(c, 0, NULL);
		return;
	}
	if (c->req.verb == CTL_SQL_LIST && c->req.name[0] == '\0') {
		/* every database; rows are shown only for the caller's lockers */
		ask(c, SQL_OP_LIST, "");
		return;
	}
	if (locker_get(c, &j->lr) == -1) {
		sql_job_free(c);
		return;
	}
	if (db_arg(c, j->db, sizeof(j->db)) == -1) {
		sql_job_free(c);
		return;
	}
	/* The one validator, before anything else hears of the names. */
	if (!sql_word_ok(j->lr.name, LOCKER_NAME_MAX) || (j->db[0] != '\0' &&
	    sql_db_name(j->lr.name, j->db, j->full, sizeof(j->full), err, sizeof(err)) == -1)) {
		if (!sql_word_ok(j->lr.name, LOCKER_NAME_MAX))
			snprintf(err, sizeof(err), "locker name %s cannot be a database account",
			    j->lr.name);
		finish(c, 2, err);
		return;
	}
	if ((c->req.verb == CTL_SQL_CREATE || c->req.verb == CTL_SQL_DROP) && j->db[0] == '\0') {
		finish(c, 2, "expected a database name");
		return;
	}
	if (action != NULL && dir_audit(M->dir, action, j->lr.name, j->full, err,
	    sizeof(err)) == -1) {
		finish(c, 1, err);
		return;
	}
	switch (c->req.verb) {
	case CTL_SQL_SIGNUP:
	case CTL_SQL_PASSWORD:
		if (sql_password_new(j->password, sizeof(j->password)) == -1) {
			finish(c, 1, "no random numbers for a password");
			return;
		}
		ask(c, c->req.verb == CTL_SQL_SIGNUP ? SQL_OP_SIGNUP : SQL_OP_PASSWORD,
		    j->lr.name);
		return;
	case CTL_SQL_CREATE:
		ask(c, SQL_OP_CREATE, j->lr.name);
		return;
	case CTL_SQL_DROP:
	case CTL_SQL_DUMP:
		if (c->req.verb == CTL_SQL_DUMP && j->db[0] == '\0') {
			start_dump(c);
			return;
		}
		j->step = SJ_CHECK;
		ask(c, SQL_OP_LIST, j->lr.name);
		return;
	default:	/* CTL_SQL_LIST of one locker */
		ask(c, SQL_OP_LIST, j->lr.name);
		return;
	}
}
