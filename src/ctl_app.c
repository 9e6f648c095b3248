/*
 * ctl_app.c: `locker install|installs|upgrade|rollback` (issue 16), for a
 * locker's admins.  Each verb checks every argument here (app_valid.c)
 * before anything is written or started, picks the release
 * (app_release.c), makes the SQL account and database a MariaDB app needs
 * (ctl_sql.c's sql_prepare(), as `locker sql signup` and `sql create`
 * would), and runs lockerd-app as the locker in its sandbox on the CLI's
 * stdio (app_task.c), so what it prints reaches the user directly.
 * `upgrade --all` is ctl_app_all.c.
 *
 * The request: NAME, --path in subdir, APP (install) as argv[0], then the
 * options as KEY=VALUE words (cli_app.c): title, admin, email, db, to,
 * app (--all), json; --dry-run, --resolve, --abort, --opt-out, --opt-in
 * and --all as CTL_F_* flags.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_job.h"
#include "sql.h"

/* ------------------------------------------------------------ arguments */

/* The KEY=VALUE words after skip positional ones; -1 answered. */
static int
parse_opts(struct ctl_client *c, struct app_job *j, uint32_t skip, char *app, size_t appsz)
{
	const char	*w = c->req.argv;
	char		 why[256];
	uint32_t	 i;

	for (i = 0; i < c->req.argc; i++, w += strlen(w) + 1) {
		const char *eq = strchr(w, '='), *v = eq != NULL ? eq + 1 : "";
		size_t kl = eq != NULL ? (size_t)(eq - w) : strlen(w);
		char *dst = NULL;
		size_t dstsz = 0;

		if (i < skip)
			continue;
#define KEY(k)	(kl == strlen(k) && strncmp(w, k, kl) == 0)
		if (KEY("title") && app_text_check("title", v, APP_TEXT_MAX, why,
		    sizeof(why)) == 0)
			dst = j->title, dstsz = sizeof(j->title);
		else if (KEY("admin") && app_user_check(v, why, sizeof(why)) == 0)
			dst = j->admin, dstsz = sizeof(j->admin);
		else if (KEY("email") && app_email_check(v, why, sizeof(why)) == 0)
			dst = j->email, dstsz = sizeof(j->email);
		else if (KEY("to") && app_version_check(v, why, sizeof(why)) == 0)
			dst = j->to, dstsz = sizeof(j->to);
		else if (KEY("app") && app != NULL)
			dst = app, dstsz = appsz;
		else if (KEY("db")) {
			if (strcmp(v, "sqlite") != 0 && strcmp(v, "mariadb") != 0) {
				done(c, 2, "--db %s: sqlite or mariadb", v);
				return -1;
			}
			dst = j->db, dstsz = sizeof(j->db);
		} else if (KEY("json") && strcmp(v, "1") == 0) {
			j->json = 1;
			continue;
		} else if (KEY("title") || KEY("admin") || KEY("email") || KEY("to")) {
			done(c, 2, "%s", why);
			return -1;
		} else {
			done(c, 2, "malformed request: argument %u", (unsigned)i + 1);
			return -1;
		}
#undef KEY
		if (strlen(v) >= dstsz) {
			done(c, 2, "%.*s: too long", (int)kl, w);
			return -1;
		}
		snprintf(dst, dstsz, "%s", v);
	}
	return 0;
}

/* --path, checked; "" when it was not given. */
static int
path_arg(struct ctl_client *c, char *out, size_t outsz)
{
	char why[256];

	out[0] = '\0';
	if (c->req.subdir[0] == '\0')
		return 0;
	if (app_subdir_check(c->req.subdir, why, sizeof(why)) == -1) {
		done(c, 2, "%s", why);
		return -1;
	}
	snprintf(out, outsz, "%s", c->req.subdir);
	return 0;
}

static struct app_job *
job_new(struct ctl_client *c, enum app_op op)
{
	struct app_job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		done(c, 1, "out of memory");
		return NULL;
	}
	j->c = c;
	j->op = op;
	j->dry_run = (c->req.flags & CTL_F_DRY_RUN) != 0;
	return j;
}

/* One unit, on the CLI's stdio. */
static struct app_unit *
unit_one(struct ctl_client *c, struct app_job *j, const struct locker_rec *lr)
{
	if ((j->u = calloc(1, sizeof(*j->u))) == NULL) {
		done(c, 1, "out of memory");
		return NULL;
	}
	j->n = 1;
	j->u->job = j;
	j->u->lr = *lr;
	for (int k = 0; k < 3; k++) {
		j->u->stdio[k] = c->stdio[k];
		c->stdio[k] = -1;
	}
	snprintf(j->u->rec.locker, sizeof(j->u->rec.locker), "%s", lr->name);
	return j->u;
}

/* Start the job's one unit; answered (and the job freed) if it cannot. */
static void
run_one(struct ctl_client *c, struct app_job *j)
{
	if (app_unit_start(&j->u[0]) == -1) {
		app_job_free(j);
		done(c, 1, "cannot start a process as the locker");
		return;
	}
	c->app_job = j;
}

/* ------------------------------------------------------------ install */

struct overlap {
	const char	*path;
	char		 found[SUBDIR_MAX + 1];
	char		 dbs[16][APP_DBNAME_MAX + 1];
	int		 ndbs;
};

static int
overlap_cb(const struct app_rec *r, void *arg)
{
	struct overlap *o = arg;

	if (o->found[0] == '\0' && (path_is_under(o->path, r->path) ||
	    path_is_under(r->path, o->path)))
		snprintf(o->found, sizeof(o->found), "%s", r->path);
	if (r->dbname[0] != '\0' && o->ndbs < 16)
		snprintf(o->dbs[o->ndbs++], sizeof(o->dbs[0]), "%s", r->dbname);
	return 0;
}

/* A database name of the locker's no install of it uses: wp, wp2, ... */
static int
pick_db(const struct app_kind *k, const struct locker_rec *lr, const struct overlap *o,
    char *out, size_t outsz)
{
	char	full[SQL_DB_MAX + 1], err[256];
	int	n, i, used;

	for (n = 1; n < 100; n++) {
		if (n == 1)
			snprintf(out, outsz, "%s", k->db_short);
		else
			snprintf(out, outsz, "%s%d", k->db_short, n);
		if (sql_db_name(lr->name, out, full, sizeof(full), err, sizeof(err)) == -1)
			return -1;
		for (i = 0, used = 0; i < o->ndbs; i++)
			used |= strcmp(o->dbs[i], full) == 0;
		if (!used)
			return 0;
	}
	return -1;
}

static void
install_sql_ready(struct ctl_client *c, int code, const char *why)
{
	struct app_job *j = c->app_job;

	c->app_job = NULL;
	if (j == NULL)
		return;
	if (code != 0) {
		done(c, code, "%s: no database for %s: %s", j->u->lr.name, j->k->name, why);
		app_job_free(j);
		return;
	}
	run_one(c, j);
}

/* What the install needs of the SQL service: 0 none, 1 yes, -1 answered. */
static int
install_sql(struct ctl_client *c, struct app_job *j, const struct overlap *o)
{
	struct app_unit	*u = &j->u[0];
	char		 db[SQL_DB_MAX + 1];

	if (j->k->sql == 0 && j->db[0] != '\0') {
		done(c, 2, "%s has no database to choose (--db)", j->k->name);
		return -1;
	}
	if (j->k->sql == 1 && j->db[0] == '\0')
		snprintf(j->db, sizeof(j->db), "sqlite");
	if (j->k->sql == 2 && strcmp(j->db, "sqlite") == 0) {
		done(c, 2, "%s works with MariaDB only (--db mariadb)", j->k->name);
		return -1;
	}
	if (j->k->sql == 2 && j->db[0] == '\0' && j->k->sql_db)
		snprintf(j->db, sizeof(j->db), "mariadb");
	if (j->k->sql == 0 || (j->k->sql == 1 && strcmp(j->db, "mariadb") != 0))
		return 0;
	if (M->conf.sql.kind == SQL_NONE) {
		done(c, 1, "%s needs MariaDB, and there is no SQL service here (sql none)",
		    j->k->name);
		return -1;
	}
	if (!j->k->sql_db)
		return 1;
	if (pick_db(j->k, &u->lr, o, db, sizeof(db)) == -1) {
		done(c, 1, "no database name left for %s of %s", j->k->name, u->lr.name);
		return -1;
	}
	sql_db_name(u->lr.name, db, u->rec.dbname, sizeof(u->rec.dbname), NULL, 0);
	return 1;
}

/* 1: the job is taken (started, or waiting for SQL); 0: answered, the
 * caller frees it. */
static int
do_install(struct ctl_client *c, struct app_job *j, const struct locker_rec *lr)
{
	struct app_unit	*u;
	struct overlap	 o;
	char		 app[APP_NAME_MAX + 1], why[512], db[SQL_DB_MAX + 1];
	int		 sql;

	if (c->req.argc == 0 || strlen(c->req.argv) >= sizeof(app) ||
	    (j->k = app_kind_find(c->req.argv)) == NULL) {
		done(c, 2, "unknown app \"%.40s\": wordpress, mediawiki, dokuwiki or phpmyadmin",
		    c->req.argc ? c->req.argv : "");
		return 0;
	}
	snprintf(app, sizeof(app), "%s", j->k->name);
	if (parse_opts(c, j, 1, NULL, 0) == -1 || (u = unit_one(c, j, lr)) == NULL)
		return 0;
	if (path_arg(c, u->rec.path, sizeof(u->rec.path)) == -1)
		return 0;
	if (u->rec.path[0] == '\0')
		snprintf(u->rec.path, sizeof(u->rec.path), "%s", app);
	memset(&o, 0, sizeof(o));
	o.path = u->rec.path;
	if (app_dir_foreach(M->dir, lr->name, NULL, overlap_cb, &o) == -1) {
		done(c, 1, "the directory could not be read");
		return 0;
	}
	if (o.found[0] != '\0' || app_busy(lr->name, u->rec.path)) {
		done(c, 1, "web_scripts/%s: %s is already an install there (or holds one, or "
		    "lies in one); choose another --path", u->rec.path, o.found[0] ? o.found :
		    "an install being made");
		return 0;
	}
	if ((sql = install_sql(c, j, &o)) == -1)
		return 0;
	if (app_release_pick(j->k, M->conf.app_releases, j->to, u->tree, sizeof(u->tree),
	    u->version, sizeof(u->version), why, sizeof(why)) == -1) {
		done(c, 1, "%s", why);
		return 0;
	}
	snprintf(u->rec.app, sizeof(u->rec.app), "%s", app);
	snprintf(u->rec.version, sizeof(u->rec.version), "%s", u->version);
	snprintf(u->rec.state, sizeof(u->rec.state), "ok");
	app_url(lr->name, u->rec.path, u->url, sizeof(u->url));
	if (app_missing() != NULL) {
		done(c, 1, "%s", app_missing());
		return 0;
	}
	snprintf(why, sizeof(why), "%s %s at %s", app, u->version, u->rec.path);
	if (dir_audit(M->dir, "app install", lr->name, why, why, sizeof(why)) == -1) {
		done(c, 1, "%s", why);
		return 0;
	}
	if (!sql) {
		run_one(c, j);
		return 1;
	}
	/* The account (and database) first; install_sql_ready() goes on. */
	c->app_job = j;
	db[0] = '\0';
	if (u->rec.dbname[0] != '\0')
		snprintf(db, sizeof(db), "%s", strchr(u->rec.dbname, '+') + 1);
	sql_prepare(c, lr, db, install_sql_ready);
	return 1;
}

/* ------------------------------------------------------------ upgrade etc. */

struct only {
	struct app_rec	r;
	int		n;
};

static int
only_cb(const struct app_rec *r, void *arg)
{
	struct only *o = arg;

	if (o->n++ == 0)
		o->r = *r;
	return 0;
}

/* The install the request names (--path, or NAME's only one); -1 answered. */
static int
install_of(struct ctl_client *c, const struct locker_rec *lr, struct app_rec *r)
{
	struct only	o;
	char		path[SUBDIR_MAX + 1];

	if (path_arg(c, path, sizeof(path)) == -1)
		return -1;
	if (path[0] != '\0') {
		if (app_dir_get(M->dir, lr->name, path, r) == 1)
			return 0;
		done(c, 1, "%s has no install at web_scripts/%s (locker installs %s)", lr->name,
		    path, lr->name);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	if (app_dir_foreach(M->dir, lr->name, NULL, only_cb, &o) == -1) {
		done(c, 1, "the directory could not be read");
		return -1;
	}
	if (o.n == 1) {
		*r = o.r;
		return 0;
	}
	if (o.n == 0)
		done(c, 1, "%s has no install", lr->name);
	else
		done(c, 2, "%s has %d installs: say which with --path", lr->name, o.n);
	return -1;
}

static enum app_op
upgrade_op(uint32_t f)
{
	if (f & CTL_F_RESOLVE)
		return APP_OP_RESOLVE;
	if (f & CTL_F_ABORT)
		return APP_OP_ABORT;
	if (f & CTL_F_OPT_OUT)
		return APP_OP_OPT_OUT;
	if (f & CTL_F_OPT_IN)
		return APP_OP_OPT_IN;
	return APP_OP_UPGRADE;
}

/* Options that go together; 0, or -1 answered. */
static int
upgrade_flags_ok(struct ctl_client *c, const struct app_job *j)
{
	uint32_t	f = c->req.flags;
	int		modes = !!(f & CTL_F_RESOLVE) + !!(f & CTL_F_ABORT) +
			    !!(f & (CTL_F_OPT_OUT | CTL_F_OPT_IN)) + !!(f & CTL_F_ALL);

	if ((f & CTL_F_OPT_OUT) && (f & CTL_F_OPT_IN))
		modes = 2;
	if (modes > 1 || (modes == 1 && !(f & CTL_F_ALL) && (j->to[0] || j->dry_run))) {
		done(c, 2, "usage: locker %s", verb_by_id(CTL_APP_UPGRADE)->args);
		return -1;
	}
	return 0;
}

/* As do_install(). */
static int
do_upgrade(struct ctl_client *c, struct app_job *j, const struct locker_rec *lr)
{
	struct app_unit	*u;
	char		 why[512];
	const char	*action;

	if ((u = unit_one(c, j, lr)) == NULL || install_of(c, lr, &u->rec) == -1)
		return 0;
	if (app_busy(lr->name, u->rec.path)) {
		done(c, 75, "busy: %s/%s has a task of lockerd-app running; try again once it "
		    "ends", lr->name, u->rec.path);
		return 0;
	}
	if ((j->k = app_kind_find(u->rec.app)) == NULL) {
		done(c, 1, "%s/%s: an app this lockerd does not know (%s)", lr->name,
		    u->rec.path, u->rec.app);
		return 0;
	}
	if ((j->op == APP_OP_RESOLVE || j->op == APP_OP_ABORT) &&
	    strcmp(u->rec.state, "conflict") != 0) {
		done(c, 1, "%s/%s: no upgrade waits for --resolve or --abort", lr->name,
		    u->rec.path);
		return 0;
	}
	if (j->op == APP_OP_UPGRADE && app_release_pick(j->k, M->conf.app_releases, j->to,
	    u->tree, sizeof(u->tree), u->version, sizeof(u->version), why, sizeof(why)) == -1) {
		done(c, 1, "%s", why);
		return 0;
	}
	if (app_missing() != NULL) {
		done(c, 1, "%s", app_missing());
		return 0;
	}
	app_url(lr->name, u->rec.path, u->url, sizeof(u->url));
	action = j->op == APP_OP_ROLLBACK ? "app rollback" : j->op == APP_OP_OPT_OUT ?
	    "app opt-out" : j->op == APP_OP_OPT_IN ? "app opt-in" : j->dry_run ? NULL :
	    "app upgrade";
	snprintf(why, sizeof(why), "%s at %s%s%s%s", u->rec.app, u->rec.path,
	    j->op == APP_OP_UPGRADE ? " to " : "", j->op == APP_OP_UPGRADE ? u->version : "",
	    j->op == APP_OP_RESOLVE ? " --resolve" : j->op == APP_OP_ABORT ? " --abort" : "");
	if (action != NULL && dir_audit(M->dir, action, lr->name, why, why, sizeof(why)) == -1) {
		done(c, 1, "%s", why);
		return 0;
	}
	run_one(c, j);
	return 1;
}

/* ------------------------------------------------------------ installs */

struct listing {
	struct ctl_client	*c;
	char			 avail[8][APP_VERSION_MAX + 1];	/* by app_kinds[] */
	int			 looked[8];
	unsigned		 n;
};

static int
listing_cb(const struct app_rec *r, void *arg)
{
	struct listing		*l = arg;
	const struct app_kind	*k = app_kind_find(r->app);
	struct ctl_app		 a;
	char			 tree[PATH_MAX], why[256];
	size_t			 i;

	if (!caller_may(l->c, r->locker))
		return 0;
	memset(&a, 0, sizeof(a));
	a.kind = APP_ROW_INSTALL;
	snprintf(a.locker, sizeof(a.locker), "%s", r->locker);
	snprintf(a.app, sizeof(a.app), "%s", r->app);
	snprintf(a.path, sizeof(a.path), "%s", r->path);
	snprintf(a.version, sizeof(a.version), "%s", r->version);
	snprintf(a.state, sizeof(a.state), "%s", r->state);
	a.opted_out = r->opted_out != 0;
	a.updated = r->updated;
	app_url(r->locker, r->path, a.url, sizeof(a.url));
	if (k != NULL) {
		i = (size_t)(k - app_kinds);
		if (!l->looked[i] && app_release_pick(k, M->conf.app_releases, NULL, tree,
		    sizeof(tree), l->avail[i], sizeof(l->avail[i]), why, sizeof(why)) == -1)
			l->avail[i][0] = '\0';
		l->looked[i] = 1;
		snprintf(a.available, sizeof(a.available), "%s", l->avail[i]);
	}
	l->n++;
	return reply(l->c, MSG_CTL_APP, &a, sizeof(a)) == -1 ? 1 : 0;
}

static void
do_installs(struct ctl_client *c)
{
	struct listing l;

	memset(&l, 0, sizeof(l));
	l.c = c;
	if (app_dir_foreach(M->dir, c->req.name[0] ? c->req.name : NULL, NULL, listing_cb,
	    &l) == -1) {
		done(c, 1, "the directory could not be read");
		return;
	}
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ dispatch */

void
do_app(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct app_job		*j;
	char			 app[APP_NAME_MAX + 1] = "";

	if (c->req.verb == CTL_APP_INSTALLS) {
		do_installs(c);
		return;
	}
	if ((j = job_new(c, c->req.verb == CTL_APP_INSTALL ? APP_OP_INSTALL :
	    c->req.verb == CTL_APP_ROLLBACK ? APP_OP_ROLLBACK : upgrade_op(c->req.flags))) ==
	    NULL)
		return;
	if (c->req.verb == CTL_APP_UPGRADE && (parse_opts(c, j, 0, app, sizeof(app)) == -1 ||
	    upgrade_flags_ok(c, j) == -1))
		goto out;
	if (c->req.verb == CTL_APP_UPGRADE && (c->req.flags & CTL_F_ALL)) {
		if ((j->k = app_kind_find(app)) == NULL || c->req.name[0] != '\0') {
			done(c, 2, "usage: locker upgrade --all APP (wordpress, mediawiki, "
			    "dokuwiki or phpmyadmin)");
			goto out;
		}
		app_all_start(c, j);
		return;
	}
	if (c->req.name[0] == '\0') {
		done(c, 2, "usage: locker %s %s", verb_by_id(c->req.verb)->name,
		    verb_by_id(c->req.verb)->args);
		goto out;
	}
	if (locker_get(c, &lr) == -1)
		goto out;
	if ((c->req.verb == CTL_APP_INSTALL ? do_install(c, j, &lr) : do_upgrade(c, j, &lr)))
		return;
out:
	app_job_free(j);
}
