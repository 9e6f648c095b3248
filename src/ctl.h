/*
 * ctl.h: private to the master's control socket: what control.c (the
 * socket, its clients and reply queues, "who", the dispatch) lends the
 * verbs' handlers in ctl_*.c, and the handlers its dispatch table names.
 * Every handler answers its client: done() (or refuse()) at the end, or
 * later when what it started ends (control_task_done(),
 * control_proof_done() in master.h).
 */
#ifndef CTL_H
#define CTL_H

#include <sys/types.h>
#include <stddef.h>

#include "lockerd.h"
#include "master.h"
#include "directory.h"
#include "verbs.h"

/* ------------------------------------------------------------ control.c */

/* Send one message (with fd, or -1: dup'ed if queued) to the client, or
 * queue it; 0, or -1 and the client is marked dead (it gets no more). */
int	reply_fd(struct ctl_client *c, enum msg_type t, const void *d, size_t len, int fd);
/* reply_fd() without a descriptor. */
int	reply(struct ctl_client *c, enum msg_type t, const void *d, size_t len);
/* The last answer: MSG_CTL_DONE with exit code and message (fmt may be
 * NULL); the client is closed once its replies are out.  Touch c no more. */
void	done(struct ctl_client *c, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* One line for the CLI to print (MSG_CTL_TEXT). */
void	text(struct ctl_client *c, const char *s);

/* The login name of a uid, asked afresh: NSS_OK, NSS_NONE, NSS_NOANSWER. */
int	login_name(uid_t uid, char *out, size_t outsz);
/* The same for display only, cached a minute; "" when there is none. */
void	display_name(uid_t uid, char *out, size_t outsz);
/* A login user by name or (allow_number) plain uid: NSS_OK, NSS_NONE,
 * NSS_NOANSWER. */
int	login_uid(const char *user, int allow_number, uid_t *uid);
/* Answers "the user database did not answer in time" (NSS_NOANSWER). */
void	nss_slow(struct ctl_client *c);
/* 1 if the caller is root or an admin of the locker, else 0. */
int	caller_may(const struct ctl_client *c, const char *locker);
/* Who may run v (its row in verbs.c): 1 yes, 0 refused and answered. */
int	verb_allowed(struct ctl_client *c, const struct verb *v);
/* The locker the request names: 0 with it in lr, or -1 and answered. */
int	locker_get(struct ctl_client *c, struct locker_rec *lr);

/* ------------------------------------------------------------ handlers */

/* Each runs once verb_allowed() said yes, and answers (see above). */
void	do_signup(struct ctl_client *c);		/* ctl_lockers.c */
void	do_remove(struct ctl_client *c);
void	do_admin(struct ctl_client *c);
void	do_list(struct ctl_client *c);
void	do_info(struct ctl_client *c);
void	do_vhost_add(struct ctl_client *c);		/* ctl_vhosts.c */
void	do_vhost_verify(struct ctl_client *c);
void	do_vhost_remove(struct ctl_client *c);
void	do_vhost_list(struct ctl_client *c);
void	do_run(struct ctl_client *c);			/* ctl_run.c */
void	do_logs(struct ctl_client *c);			/* ctl_status.c */
void	do_status(struct ctl_client *c);
void	do_audit(struct ctl_client *c);
void	do_limit(struct ctl_client *c);			/* ctl_limits.c */
void	do_cert(struct ctl_client *c);			/* ctl_certs.c */
void	do_sql(struct ctl_client *c);			/* ctl_sql.c */
void	do_mail(struct ctl_client *c);			/* ctl_mail.c */
void	do_cron(struct ctl_client *c);			/* ctl_cron.c */
void	do_app(struct ctl_client *c);			/* ctl_app.c */
void	do_export_hesiod(struct ctl_client *c);		/* ctl_hesiod.c */
void	do_node(struct ctl_client *c);			/* ctl_node.c */
/* `locker remove`: its SQL account and databases go first (a final dump
 * kept in the home unless --purge), then remove_finish() (ctl_lockers.c). */
void	sql_remove_start(struct ctl_client *c);
void	remove_finish(struct ctl_client *c);
/* ctl_sql.c: sqld's row of a list, for the job of c. */
void	sql_row(struct ctl_client *c, const struct msg_sql_row *r);

/* ------------------------------------------------------------ shared */

/* `locker status`: a line for each certificate the caller may see (of
 * locker, or NULL: all theirs) that could not be renewed.  ctl_certs.c */
void	cert_warnings(struct ctl_client *c, const char *locker);

/* dir_vhost_foreach() callback: one MSG_CTL_VHOST to the client in arg; 0. */
int	vhost_cb(const struct vhost_rec *v, void *arg);	/* ctl_lockers.c */
/* 1 if a CTL_RUN/CTL_SU request's packed argv and TERM are well formed. */
int	run_argv_ok(const struct ctl_request *r);	/* ctl_run.c */
/* `locker status` (root): every node of the fleet, or this one.  ctl_node.c */
void	status_nodes(struct ctl_client *c);
/* A locker's limits changed: a running worker, front and logd get them. ctl_limits.c */
void	limit_apply_live(const struct locker_rec *lr);
/* `locker info`'s limits: one MSG_CTL_LIMIT per limit, value and use. */
void	send_limits(struct ctl_client *c, const struct locker_rec *lr); /* ctl_limits.c */

#endif
