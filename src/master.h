/*
 * master.h: state shared by lockerd.c (supervision) and control.c with its
 * ctl_*.c (the control socket); all run in the root master process only.
 */
#ifndef LOCKERD_MASTER_H
#define LOCKERD_MASTER_H

#include "lockerd.h"
#include "directory.h"

enum role { ROLE_FRONT = 1, ROLE_LOGD, ROLE_WORKER, ROLE_TASK, ROLE_KEYD, ROLE_ACME, ROLE_SQLD,
	ROLE_MAILOUT, ROLE_MAILD, ROLE_HESIOD, ROLE_DIRSYNC };

/* epoll data points at one of these: the first member says what it is. */
enum ev_kind { EV_NONE = 0, EV_SIGNAL, EV_CONTROL_LISTEN, EV_CONTROL_CLIENT, EV_CHILD,
	EV_PROOF };

struct ctl_client;
struct proof;
struct sql_call;
struct sql_job;
struct app_job;
struct outq_msg;

struct child {
	enum ev_kind	 kind;		/* EV_CHILD */
	enum role	 role;
	int		 idx;		/* front number */
	pid_t		 pid;		/* 0 when not running */
	int		 chan;		/* our end of its channel, -1 if none */
	char		 locker[LOCKER_NAME_MAX + 1];
	uint32_t	 uid, gid;
	int		 crashes;	/* recent, for the backoff */
	uint32_t	 restarts;	/* since the master started (locker status) */
	uint64_t	 started_ms;
	uint64_t	 restart_at_ms;	/* 0: not scheduled */
	int		 idle_exit;	/* said MSG_IDLE: starting a new one is fine */
	uint64_t	 kill_at_ms;	/* asked to stop: SIGKILL if still there then */
	uint64_t	 active_ms;	/* ROLE_WORKER: last known busy (warm.c) */
	int		 starting;	/* ROLE_WORKER: counted by startq.c */
	struct ctl_client *waiter;	/* ROLE_TASK: the CLI waiting for its end */
	/* ROLE_TASK: called when it has been reaped (cron.c's tasks). */
	void		(*on_exit)(struct child *c, int status);
	void		*exit_arg;
	struct stats_total served;	/* ROLE_FRONT: this slot's, across restarts */
	/* Messages its channel could not take yet (outq.c). */
	struct outq_msg	*out_head, *out_tail;
	size_t		 out_bytes;
	struct child	*next;		/* workers and tasks: list links */
	struct child	**wprev;	/* ... and what points at it there */
	struct child	*hnext;		/* workers and tasks: warm.c's index by name */
	struct child	*pnext;		/* workers and tasks: the index by pid */
	pid_t		 hpid;		/* ... under this pid */
};

struct ctl_out;

struct ctl_client {
	enum ev_kind	 kind;		/* EV_CONTROL_CLIENT; EV_NONE once freed */
	int		 fd;
	uid_t		 uid;
	pid_t		 pid;
	int		 want_stdio;	/* CTL_RUN, CTL_SU: descriptors still to come */
	int		 dead;		/* a reply could not be sent: send no more */
	int		 closing;	/* answered: goes once its replies are out */
	int		 refused;	/* told "busy": goes when it hangs up */
	int		 stdio[3];
	struct ctl_request req;
	struct child	*task;		/* the process it waits for */
	struct proof	*proof;		/* the DNS lookup it waits for (proof.c) */
	struct sql_call	*sql;		/* the answer of sqld it waits for (sql_master.c) */
	struct sql_job	*sql_job;	/* a `locker sql` verb's steps (ctl_sql.c) */
	struct app_job	*app_job;	/* an autoinstaller verb's tasks (ctl_app.c) */
	/* Replies the socket could not take yet, sent as the client reads. */
	struct ctl_out	*out_head, *out_tail;
	size_t		 out_bytes;
	uint64_t	 deadline_ms;	/* silent (or not reading) until then: dropped */
	struct ctl_client *prev, *next;	/* every client, for the timeouts */
};

struct master {
	struct config	 conf;
	char		 conf_path[PATH_MAX];
	struct directory *dir;
	struct mime_map	*mime;		/* for the workers */
	int		 epfd;
	int		 exe_fd;
	/* One set of listeners per front, bound with SO_REUSEPORT, so the
	 * kernel spreads connections evenly over the front processes. */
	int		 listen_fds[64][CONF_MAX_LISTEN];
	int		 nlisten;
	int		 control_fd;
	/* Of the last routing table pushed; fronts tag their counts with it
	 * (stats.c: a reused name's new locker gets none of the old one's). */
	uint32_t	 route_gen;
	/* The last whole table, for a front that (re)starts: valid while
	 * routes_fd_gen is route_gen (a change, route_push.c, moves it on). */
	int		 routes_fd;		/* sealed memfd; 0: none yet */
	uint32_t	 routes_fd_gen;
	int		 nfronts;
	struct child	 fronts[64];
	struct child	 logd;
	struct child	 keyd;		/* the key process (keys.c) */
	struct child	 acme;		/* ROLE_ACME, when acme-ca is set */
	struct child	*workers;	/* ROLE_WORKER and ROLE_TASK */
	struct child	*graveyard;	/* reaped, freed after this round's events */
	int		 stopping;
	uint64_t	 stop_deadline_ms;
	int		 stop_signal;	/* the last signal the stop sent the workers */
	uint64_t	 kill_next_ms;	/* the earliest worker's kill_at_ms; 0: none */
};

extern struct master *M;

/* lockerd.c */
int	child_send(struct child *c, enum msg_type t, const void *d, size_t len, int fd);
int	new_channel(struct child *c);	/* the child's end, or -1 */
int	child_spawned(struct child *c, const char *what);
/* 0, or -1 (and a child that stopped reading is killed). */
int	child_send(struct child *c, enum msg_type t, const void *d, size_t len, int fd);
void	worker_stop(struct child *w);
void	task_spec(struct sandbox_spec *spec, char *home, const struct locker_rec *lr);
struct child *task_spawn(const struct locker_rec *lr, int (*prepare)(void *), void *ctx,
		    const int *keep_fds, int nkeep);
void	routes_push(void);
void	child_read(struct child *c);	/* what it sent so far (level-triggered) */
void	locker_front_limits(const char *name, struct msg_worker *m);
void	fronts_send_limits(const char *name);
void	logd_send_limits(const char *name);
void	routes_push_one(struct child *f);
/* dir_feed.c: the fleet's changes acted on (routes, limits, drain); the
 * drain an admin asked for this node (node_drain) applied. */
void	dir_feed_init(void);
void	dir_feed_drain_check(void);
/* route_push.c: one change to the routing table, sent as that change. */
void	routes_locker_added(const char *name);
void	routes_locker_removed(const char *name);
void	routes_vhost_changed(const char *host);
void	ev_add(int fd, void *ptr);
void	ev_mod(int fd, uint32_t events, void *ptr);
void	ev_del(int fd);
void	locker_home(const char *name, char *out, size_t outsz);
const struct config *locker_conf(const char *name, uid_t uid);
const uint64_t *locker_own(const char *name, uid_t uid);	/* [LIMIT_N] */
void	locker_conf_forget(void);	/* the configuration or a locker's limits changed */
void	worker_send_config(struct child *w);
void	quota_apply_all(void);
void	logd_reopen(void);

/*
 * outq.c: what a child's channel cannot take yet waits, in order, and goes
 * as it reads.  outq_send: sent or queued (0), or -1: a broken channel, or
 * a child that has let too much pile up (ENOBUFS): kill it.  outq_flush:
 * on EPOLLOUT; -1 likewise.  outq_clear: the child's channel is gone.
 */
int	outq_send(struct child *c, enum msg_type t, const void *d, size_t len, int fd);
int	outq_flush(struct child *c);
void	outq_clear(struct child *c);

/*
 * keys.c: the master's side of keyd.  keyd_start: (re)started, linked to
 * every front, its keys sent again.  keyd_link_front: a fresh channel
 * between keyd and that front.  keyd_load: the key file opened as root
 * (fd, which the caller still closes) becomes key_id's in keyd.
 * keyd_forget_before: keyd drops every key of a lower id.  0 (sent, or
 * queued until keyd's channel has room), or -1 if keyd is not running
 * (its restart sends the keys again).
 */
/* zygote.c */
void	zygote_start(void);
void	zygote_stop(void);
void	zygote_tick(void);
int	zygote_reaped(pid_t pid, int status);	/* 1 if it was a zygote */
void	zygote_fork(const struct child *w, int line);	/* MSG_PHP_FORK */

void	keyd_start(void);
void	keyd_link_front(struct child *f);
int	keyd_load(uint32_t key_id, int fd);
int	keyd_forget_before(uint32_t key_id);
/* acme_master.c: what acme may ask for (the directory's names), its
 * tokens relayed to every front, each host's state for `locker cert`.
 * acme_master_msg: NULL, or why acme's message is refused (a breach). */
struct acme_name;
struct msg_acme_status;
void	acme_start(void);		/* (re)started when acme-ca is set */
void	acme_names_push(void);		/* after any change of names or limits */
void	acme_lease_tick(void);		/* from the master's loop: the `acme` lease */
void	acme_watch_refresh(void);	/* tls-dir changed: a watching acme looks again */
/* acme_share.c: HTTP-01 tokens through tls-dir to a fleet's other nodes. */
struct msg_acme_token;
void	acme_share_publish(const struct msg_acme_token *t);	/* the holder's */
void	acme_share_tick(void);		/* from the master's loop: another holder's */
const char *acme_token_relay(const struct msg_acme_token *t);	/* NULL, or why not */
void	acme_tsig_send(void);		/* acme-dns-update's key file, as a descriptor */
void	acme_front_started(struct child *f);
const char *acme_master_msg(enum msg_type type, const void *buf, size_t len);
int	acme_status_foreach(int (*cb)(const struct acme_name *,
	    const struct msg_acme_status *, void *), void *arg);

/*
 * sql_master.c: the master's side of sqld (sql.h).  sql_start: (re)started
 * where `sql mariadb` is set.  sql_call: q sent with a new id, its rows and
 * its end to row() and done_fn() later (within sql-timeout, or done_fn()
 * says MariaDB did not answer); 0, or -1 with why (no sqld, too many).
 * sql_cancel: c went; its answer will be dropped.  sql_check: what the
 * configuration names exists (lockerd -t, start).
 */
struct msg_sql_req;
struct msg_sql_row;
struct msg_sql_done;
typedef void (*sql_row_fn)(struct ctl_client *, const struct msg_sql_row *);
typedef void (*sql_done_fn)(struct ctl_client *, const struct msg_sql_done *);
int	sql_check(const struct config *c, char *err, size_t errlen);
void	sql_start(void);
void	sql_stop(int sig);
struct child *sql_child(void);
void	sql_child_gone(void);
int	sql_call(struct ctl_client *c, struct msg_sql_req *q, sql_row_fn row,
	    sql_done_fn done_fn, char *err, size_t errlen);
void	sql_cancel(struct ctl_client *c);
void	sql_tick(void);
const char *sql_master_msg(enum msg_type type, const void *buf, size_t len);
/*
 * dir_master.c: the master's end of lockerd-dirsync (dirsync.h), with
 * `directory postgres FILE`.  dirsync_init: the directory's fleet mode
 * on, with this file as its link (before any write).  dirsync_start:
 * (re)started, HELLO sent.  dirsync_master_msg: its ROWS and STATE from
 * the master's loop.  dirsync_tick: held feeds applied, the beat, the
 * restart.  dirsync_check: what the configuration names exists.
 */
int	dirsync_check(const struct config *c, char *err, size_t errlen);
int	dirsync_init(char *err, size_t errlen);
void	dirsync_start(void);
void	dirsync_stop(int sig);
struct child *dirsync_child(void);
void	dirsync_child_gone(void);
void	dirsync_tick(void);
const char *dirsync_master_msg(enum msg_type type, const void *buf, size_t len, int fd);
/*
 * mail_master.c: outgoing mail's master side (mail.h).  mail_notice():
 * lockerd's own notice (a crontab's error, a cron job's output) mailed
 * from locker NAME to rcpts (comma-separated addresses), with subject and
 * body[0..len), through the mail role: envelope sender NAME@mail-domain,
 * "X-Lockerd-Locker: NAME", From "lockerd".  A notice counts in the
 * locker's hourly rate and is refused past it or when the locker's mail is
 * blocked, as its own messages are (its recipients, a crontab's MAILTO,
 * and a job's output are the locker's to choose).  0: handed to the role
 * (the relay's answer goes to `locker mail status`); -1 with why in err
 * (mail-relay none, the role restarting, no recipient, blocked, its rate).  mail_notice_fd(): the body is fd's
 * contents from its start (a memfd, a job's output file; the caller still
 * closes fd).
 */
int	mail_notice(const char *locker, const char *rcpts, const char *subject,
	    const void *body, size_t len, char *err, size_t errlen);
int	mail_notice_fd(const char *locker, const char *rcpts, const char *subject, int fd,
	    char *err, size_t errlen);

/* The role's life (mail_start: where mail-relay is set; mail_check: what
 * it needs is there, and the jails' client found), and its messages
 * (mail_master_msg: NULL, or why it is refused). */
int	mail_check(struct config *c, char *err, size_t errlen);
void	mail_start(void);
void	mail_stop(int sig);
void	mail_tick(void);
struct child *mail_child(void);
const char *mail_master_msg(enum msg_type type, const void *buf, size_t len);
const char *mail_domain(const struct config *c);
/* sql_limit.c: a locker's databases against its disk limit.  sql_limit_msg:
 * sqld's MSG_SQL_SIZE (NULL, or why it breaks the rules).  sql_limit_of:
 * its bytes as of the last round and whether its writes are withdrawn; 0,
 * or -1 if nothing is measured (no SQL service, no round yet). */
const char *sql_limit_msg(const void *buf, size_t len);
int	sql_limit_of(const char *locker, uint64_t *bytes, int *cut);
void	sql_limit_regranted(const char *locker);	/* a signup's or password's GRANT ALL */

/* crashpoint.c: the kill -9 tests' hook (LOCKERD_CRASH_AT=FILE): the master
 * killed at step if the file names it; a step for a child (prefix "sqld-"):
 * returned, for its environment, or NULL.  Either empties the file. */
void	crash_point(const char *step);
const char *crash_point_child(const char *prefix);

/* ctl_sql.c: a task of a `locker sql` verb ended; the job's memory freed. */
void	sql_task_done(struct ctl_client *c, int code);
void	sql_job_free(struct ctl_client *c);
/* app_task.c: lockerd-app found beside lockerd for the jails (c->app_prog),
 * at start; a CLI gone, whose autoinstaller job goes on without it. */
void	app_check(struct config *c);
void	app_client_gone(struct ctl_client *c);
/* For another verb (ctl_app.c): NAME's SQL account as `locker sql signup`
 * makes it, unless it has one, then database LOCKER+db ("" none); then
 * then(c, 0, "") or then(c, exit code, why). */
void	sql_prepare(struct ctl_client *c, const struct locker_rec *lr, const char *db,
	    void (*then)(struct ctl_client *, int, const char *));
/* sqlhome.c: tasks as the locker, in its sandbox: my.cnf written; a dump
 * of full_db ("" all) into ~/.sql/dumps (its path in file).  NULL: no
 * process.  sql_task_error: what a task's exit code means (NULL: ok). */
struct child *sql_cnf_write(const struct locker_rec *lr, const char *password);
struct child *sql_dump_start(const struct locker_rec *lr, const char *full_db, char *file,
	    size_t filesz);
const char *sql_task_error(int code);

/*
 * mailin_master.c: the master's side of maild (mailin.h).  mailin_start: the
 * LMTP socket bound (once) and maild (re)started where mail-lmtp is set.
 * mailin_master_msg: a delivery routed (NULL), or why maild's message is a
 * breach (each delivery's task tells maild how it ended, by its on_exit).
 * mailrun.c: a locker's mail program started as a task, in its sandbox.
 */
struct msg_mailin_deliver;
int	mailin_check(const struct config *c, char *err, size_t errlen);
void	mailin_start(void);
void	mailin_stop(int sig);
struct child *mailin_child(void);
void	mailin_child_gone(void);
void	mailin_tick(void);
const char *mailin_master_msg(enum msg_type type, const void *buf, size_t len, int fd);
struct child *mailrun_start(const struct locker_rec *lr, const struct msg_mailin_deliver *q,
	    int in, int err);

/* home.c: a locker's home.  home_make: created, owned by the locker, with
 * its limit (-1 and err, nothing left behind).  home_retire: out of the
 * lockers root, whole, archived (archive: where; "" if it had none) or,
 * with disk-quota image and purge, deleted.  home_purge_start: the
 * archive emptied in a child as the locker (its task, or NULL and err);
 * home_purge_done: with the task's exit code, 0 if the archive is gone. */
int	home_make(const struct locker_rec *lr, char *err, size_t errlen);
int	home_retire(const struct locker_rec *lr, const char *stamp, int purge,
	    char *archive, size_t archivesz, char *err, size_t errlen);
struct child *home_purge_start(const struct locker_rec *lr, const char *archive,
	    char *err, size_t errlen);
int	home_purge_done(const char *archive, int code);

/* logarchive.c: a locker's log directory goes with the locker. */
int	logs_archive(const char *name, const char *tag, char *err, size_t errlen);
int	logs_clear_for_signup(const char *name, char *err, size_t errlen);

/* control.c (control_task_done() is ctl_run.c's, control_proof_done()
 * ctl_vhosts.c's) */
int	control_open(void);
void	control_accept(void);
void	control_event(struct ctl_client *c, uint32_t events);
void	control_timeouts(void);
void	control_round_end(void);	/* frees the clients closed in this round */
void	control_task_done(struct ctl_client *c, int status);
/* The DNS answered c's vhost verify (VHOST_PROOF_*) for the claim's token. */
void	control_proof_done(struct ctl_client *c, const char *token, int answer);

/* proof.c: vhost verify's DNS lookups, answered through the master's loop.
 * proof_start: 0 (c->proof is set; control_proof_done() comes later), or
 * -1 with why (too many in flight, no fork). */
int	proof_start(struct ctl_client *c, const char *host, const char *token,
	    char *err, size_t errlen);
void	proof_event(struct proof *p);	/* its pipe is readable */
void	proof_cancel(struct proof *p);	/* its client hung up */
int	proof_reaped(pid_t pid);	/* 1 if pid was a lookup's */
void	proof_tick(void);		/* deadlines; frees what is done */

/* warm.c: the cap on warm workers (max-workers), and workers by name. */
void	warm_active(struct child *w);
int	warm_make_room(void);
void	warm_trim(void);		/* after a reload: down to the (new) cap */
void	warm_tick(void);		/* from the master's loop */
void	warm_index_add(struct child *w);
void	warm_index_del(struct child *w);
struct child *worker_find(const char *locker);	/* its running worker, or NULL */
/* Whether any process of the locker (uid) still runs: worker or task. */
int	locker_running(const char *locker, uint32_t uid);
struct child *locker_child(const char *locker, pid_t pid);	/* worker or task */

/* startq.c: at most max-worker-starts workers starting at once, asks past
 * that queued (worker-start-queue, worker-start-wait) and answered again by
 * startq_tick() through lockerd.c's worker_ask() or worker_ask_refuse(). */
int	startq_room(void);		/* another may start now */
uint32_t startq_starting(void);
size_t	startq_waiting(void);
void	startq_started(struct child *w);
void	startq_done(struct child *w);	/* its first word, or its end */
int	startq_wait(struct child *front, const struct msg_worker *req);	/* -1: full */
void	startq_tick(void);
void	worker_ask(struct child *f, const struct msg_worker *req);
void	worker_ask_refuse(struct child *f, const struct msg_worker *req);

/* userlimit.c: a token of uid's bucket (change-rate); 0 taken, -1 none
 * (*retry_s: seconds until there is one).  per_minute 0: no limit. */
int	userlimit_take(uid_t uid, uint64_t now, uint32_t per_minute, uint32_t burst,
	    uint32_t *retry_s);

/* nss.c: answers within a bounded time. */
#define NSS_OK		0
#define NSS_NONE	(-1)	/* no such user (or not in the group) */
#define NSS_NOANSWER	(-2)	/* the database did not answer in time */
#define NSS_NOGROUP	(-3)	/* nss_in_group: no such group */
int	nss_name_of_uid(uid_t uid, char *out, size_t outsz);
int	nss_uid_of_name(const char *name, uid_t *uid);
int	nss_in_group(uid_t uid, const char *group);
#define NSS_LOGIN_UID_MIN	1000	/* without /etc/login.defs */
uid_t	nss_login_uid_min(void);
int	nss_is_login_uid(uid_t uid);

#endif
