/*
 * ctl_lockers.c: the control verbs that make, remove, list and describe
 * lockers, and name their admins: signup (with the self- and group-signup
 * rules), remove, list, info, admin add/remove/list.  Here, not in
 * control.c, because they are what the socket is for, not how it is
 * served; the home's own life (make, archive, purge) is home.c's.
 */
#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "vhost.h"

/* ------------------------------------------------------------ records */

static int
count_vhost_cb(const struct vhost_rec *v, void *arg)
{
	(void)v;
	(*(uint32_t *)arg)++;
	return 0;
}

static void
send_locker(struct ctl_client *c, const struct locker_rec *lr)
{
	struct ctl_locker	 l;
	struct child		*w;

	memset(&l, 0, sizeof(l));
	memcpy(l.name, lr->name, sizeof(l.name));
	l.uid = lr->uid;
	l.gid = lr->gid;
	l.created = lr->created;
	if ((w = worker_find(lr->name)) != NULL)
		l.worker_pid = w->pid;
	dir_vhost_foreach(M->dir, lr->name, count_vhost_cb, &l.nvhosts);
	reply(c, MSG_CTL_LOCKER, &l, sizeof(l));
}

static int
list_cb(const struct locker_rec *lr, void *arg)
{
	send_locker(arg, lr);
	return 0;
}

int
vhost_cb(const struct vhost_rec *v, void *arg)
{
	struct ctl_vhost vh;

	memset(&vh, 0, sizeof(vh));
	memcpy(vh.host, v->host, sizeof(vh.host));
	memcpy(vh.locker, v->locker, sizeof(vh.locker));
	memcpy(vh.subdir, v->subdir, sizeof(vh.subdir));
	vh.https = v->https;
	vh.https_only = v->https == ROUTE_HTTPS_ONLY ||
	    (v->https == ROUTE_HTTPS_DEFAULT && M->conf.https_only);
	reply(arg, MSG_CTL_VHOST, &vh, sizeof(vh));
	return 0;
}

/* ------------------------------------------------------------ signup */

/* 1 if this login user may sign up one more group locker (else answered). */
static int
group_count_ok(struct ctl_client *c, const char *login)
{
	int64_t n;

	if (c->uid == 0 || M->conf.max_group_lockers == 0)
		return 1;
	if ((n = dir_signups_by(M->dir, (uint32_t)c->uid, login)) == -1) {
		done(c, 1, "cannot count your group lockers; try again");
		return 0;
	}
	if (n < M->conf.max_group_lockers)
		return 1;
	done(c, 77, "permission denied: you have signed up %lld group lockers, the most "
	    "one user may here (max-group-lockers-per-user %u)", (long long)n,
	    M->conf.max_group_lockers);
	return 0;
}

/* group-signup: may this login user start a group locker?  1 yes, 0 no
 * (why says why). */
static int
group_signup_ok(const struct ctl_client *c, char *why, size_t whylen)
{
	switch (M->conf.group_signup) {
	case GROUP_SIGNUP_YES:
		return 1;
	case GROUP_SIGNUP_NO:
		snprintf(why, whylen, "group lockers are signed up by an administrator here");
		return 0;
	}
	switch (nss_in_group(c->uid, M->conf.group_signup_group)) {
	case NSS_OK:
		return 1;
	case NSS_NOGROUP:
		snprintf(why, whylen, "group-signup names group %s, which does not exist",
		    M->conf.group_signup_group);
		return 0;
	case NSS_NOANSWER:
		snprintf(why, whylen, "the user database did not answer in time; try again");
		return 0;
	}
	snprintf(why, whylen, "only members of group %s may sign up group lockers",
	    M->conf.group_signup_group);
	return 0;
}

void
do_signup(struct ctl_client *c)
{
	struct locker_rec	 lr;
	char			 why[256], err[512], login[CTL_USER_MAX + 1];
	int64_t			 admin = -1;
	uid_t			 other;
	int			 rc;

	if (c->uid != 0) {
		if ((rc = login_name(c->uid, login, sizeof(login))) == NSS_NOANSWER) {
			nss_slow(c);
			return;
		}
		if (rc != NSS_OK) {
			done(c, 77, "permission denied: uid %u has no login name",
			    (unsigned)c->uid);
			return;
		}
		if (c->req.flags & CTL_F_GROUP) {
			if (!group_signup_ok(c, why, sizeof(why))) {
				done(c, 77, "permission denied: %s", why);
				return;
			}
			if (c->req.name[0] == '\0') {
				done(c, 2, "usage: locker signup --group NAME");
				return;
			}
			if (!group_count_ok(c, login))
				return;
			/* A user's login is their personal locker's name: not for a group. */
			if ((rc = login_uid(c->req.name, 0, &other)) == NSS_NOANSWER) {
				nss_slow(c);
				return;
			}
			if (rc == NSS_OK && other != c->uid) {
				done(c, 1, "\"%s\" is the login of another user; a group "
				    "locker cannot take it", c->req.name);
				return;
			}
		} else {
			if (!M->conf.self_signup) {
				done(c, 77, "permission denied: self-signup is off here; "
				    "ask an administrator for a locker");
				return;
			}
			if (c->req.name[0] != '\0' && strcmp(c->req.name, login) != 0) {
				done(c, 77, "permission denied: you may sign up only your "
				    "own locker, \"%s\" (or a group locker with --group)", login);
				return;
			}
			snprintf(c->req.name, sizeof(c->req.name), "%s", login);
		}
		admin = c->uid;
	} else if (c->req.name[0] == '\0') {
		done(c, 2, "usage: locker signup NAME (root names the locker)");
		return;
	}
	if (locker_name_check(c->req.name, why, sizeof(why)) == -1) {
		done(c, 2, "invalid locker name \"%s\": %s", c->req.name, why);
		return;
	}
	if (dir_locker_add_with_admin(M->dir, c->req.name, M->conf.uid_low, M->conf.uid_high,
	    admin, &lr, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	/* A new locker reads no log lines of an old one of the same name. */
	if (logs_clear_for_signup(lr.name, err, sizeof(err)) == -1) {
		dir_locker_remove(M->dir, lr.name, "", why, sizeof(why));
		done(c, 1, "%s", err);
		return;
	}
	if (home_make(&lr, why, sizeof(why)) == -1) {
		dir_locker_remove(M->dir, lr.name, "", err, sizeof(err));
		done(c, 1, "%s", why);
		return;
	}
	/* Counts of an old locker of the name still in flight from front. */
	stats_forget(lr.name);
	log_info("signup: locker %s, uid %u (by uid %u)", lr.name, lr.uid, (unsigned)c->uid);
	routes_locker_added(lr.name);
	send_locker(c, &lr);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ remove */

/* Every process of the locker goes before its home moves. */
static void
stop_locker_processes(const char *name)
{
	struct child *w;

	for (w = M->workers; w != NULL; w = w->next)
		if (strcmp(w->locker, name) == 0)
			worker_stop(w);
}

/* Its logs follow its home into the archive, tagged alike (logarchive.c). */
static void
retire_logs(const struct locker_rec *lr, const char *stamp)
{
	char tag[64], err[256];

	snprintf(tag, sizeof(tag), "%s.%u", stamp, lr->uid);
	if (logs_archive(lr->name, tag, err, sizeof(err)) == -1)
		log_warnx("remove %s: %s", lr->name, err);
}

void
do_remove(struct ctl_client *c)
{
	/* Its databases first (a final dump into the home, then dropped with
	 * the account: a locker signed up later under the name must not find
	 * them); ctl_sql.c calls remove_finish() when that is done. */
	if (M->conf.sql.kind != SQL_NONE) {
		sql_remove_start(c);
		return;
	}
	remove_finish(c);
}

void
remove_finish(struct ctl_client *c)
{
	struct locker_rec	 lr;
	char			 archive[PATH_MAX], err[PATH_MAX + 64], line[PATH_MAX + 64];
	char			 stamp[32];
	time_t			 now = time(NULL);
	struct tm		 tm;
	int			 purge = (c->req.flags & CTL_F_PURGE) != 0;
	int			 image = M->conf.disk_quota == DISK_QUOTA_IMAGE;

	if (locker_get(c, &lr) == -1)
		return;
	stop_locker_processes(lr.name);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (home_retire(&lr, stamp, purge, archive, sizeof(archive), err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	if (dir_locker_remove(M->dir, lr.name, archive, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	stats_forget(lr.name);		/* a new locker of the name counts from 0 */
	routes_locker_removed(lr.name);
	retire_logs(&lr, stamp);
	log_info("remove: locker %s, %s %s %s", lr.name, image ? "image" : "home",
	    !purge ? "archived to" : image ? "deleted" : "purged from",
	    archive[0] ? archive : "(none)");
	if (purge && !image && archive[0] != '\0') {
		/* Emptied as the locker, in a child: control_task_done() answers. */
		if ((c->task = home_purge_start(&lr, archive, err, sizeof(err))) == NULL) {
			done(c, 1, "%s", err);
			return;
		}
		c->task->waiter = c;
		snprintf(c->req.subdir, sizeof(c->req.subdir), "%s", "purge");
		snprintf(c->req.argv, sizeof(c->req.argv), "%s", archive);
		return;
	}
	if (purge && image)
		snprintf(line, sizeof(line), "removed %s and purged its home", lr.name);
	else
		snprintf(line, sizeof(line), "removed %s; home archived to %s", lr.name,
		    archive[0] ? archive : "(it had none)");
	text(c, line);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ admins */

struct admin_send {
	struct ctl_client	*c;
	int			 n;
};

static int
admin_cb(const struct admin_rec *a, void *arg)
{
	struct admin_send	*as = arg;
	struct ctl_admin	 m;

	memset(&m, 0, sizeof(m));
	memcpy(m.locker, a->locker, sizeof(m.locker));
	m.uid = a->uid;
	m.added = a->added;
	display_name(a->uid, m.user, sizeof(m.user));
	reply(as->c, MSG_CTL_ADMIN, &m, sizeof(m));
	as->n++;
	return 0;
}

/*
 * Only a login user administers a locker: not a locker's uid, and not a
 * system account (root, a daemon, nobody), which anyone able to subvert
 * that daemon could then act through.  1 (and answered) if refused.
 */
static int
admin_candidate_refused(struct ctl_client *c, uid_t uid)
{
	if (uid >= M->conf.uid_low && uid <= M->conf.uid_high) {
		done(c, 1, "%s is a locker's uid, not a login user", c->req.user);
		return 1;
	}
	if (!nss_is_login_uid(uid)) {
		done(c, 1, "%s (uid %u) is a system account, not a login user (login "
		    "users have uids from %u)", c->req.user, (unsigned)uid,
		    (unsigned)nss_login_uid_min());
		return 1;
	}
	return 0;
}

void
do_admin(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct admin_send	 as = { .c = c };
	char			 err[512];
	uid_t			 uid;
	int			 rc, add;

	if (locker_get(c, &lr) == -1)
		return;
	if (c->req.verb == CTL_ADMIN_LIST) {
		dir_admin_foreach(M->dir, lr.name, admin_cb, &as);
		done(c, 0, NULL);
		return;
	}
	/* A user who is gone can still be removed by the uid `admin list` shows. */
	if ((rc = login_uid(c->req.user, c->req.verb == CTL_ADMIN_REMOVE, &uid)) == NSS_NOANSWER) {
		nss_slow(c);
		return;
	}
	if (rc != NSS_OK) {
		done(c, 1, "no login user named \"%s\"", c->req.user);
		return;
	}
	add = c->req.verb == CTL_ADMIN_ADD;
	if (add && admin_candidate_refused(c, uid))
		return;
	rc = add ? dir_admin_add(M->dir, lr.name, uid, err, sizeof(err)) :
	    dir_admin_remove(M->dir, lr.name, uid, err, sizeof(err));
	if (rc == -1) {
		done(c, 1, "%s", err);
		return;
	}
	if (rc == 0) {
		done(c, !add, add ? "%s is already an admin of %s" : "%s is not an admin of %s",
		    c->req.user, lr.name);
		return;
	}
	log_info("admin %s: %s (uid %u) %s %s, by uid %u", add ? "add" : "remove",
	    c->req.user, (unsigned)uid, add ? "to" : "from", lr.name, (unsigned)c->uid);
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ list, info */

void
do_list(struct ctl_client *c)
{
	dir_locker_foreach(M->dir, list_cb, c);
	done(c, 0, NULL);
}

/* Anyone may ask; only root and its admins see its admins and limits. */
void
do_info(struct ctl_client *c)
{
	struct locker_rec lr;

	if (locker_get(c, &lr) == -1)
		return;
	send_locker(c, &lr);
	dir_vhost_foreach(M->dir, lr.name, vhost_cb, c);
	if (caller_may(c, lr.name)) {
		struct admin_send as = { .c = c };

		dir_admin_foreach(M->dir, lr.name, admin_cb, &as);
		send_limits(c, &lr);
	}
	done(c, 0, NULL);
}
