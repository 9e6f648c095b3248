/*
 * msg.h: the messages between lockerd's processes, and who may send which.
 *
 * Every channel is a SOCK_SEQPACKET socketpair (or the control socket)
 * carrying messages of one header and a bounded payload, with at most one
 * descriptor each.  Which role may send each message to which, its length
 * and its descriptor are declared once, in msg_rules[] (msg.c); every
 * receiver goes through msg_recv_checked() or msg_recv_many_checked(), so
 * no role's switch sees a message the table refuses, and what a breach
 * means is decided once per kind of peer, by msg_breach().
 *
 * Apart from lockerd.h so that the CLI, which links msg.c and not the
 * process plumbing of proc.c, shows what it depends on.
 */
#ifndef LOCKERD_MSG_H
#define LOCKERD_MSG_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

/* Who sends and who receives; msg_rules[] holds them as bit sets. */
enum msg_role {
	MR_MASTER	= 0x01,
	MR_FRONT	= 0x02,
	MR_WORKER	= 0x04,
	MR_LOGD		= 0x08,
	MR_CLI		= 0x10,	/* a `locker` command, any user's, on the control socket */
	MR_KEYD		= 0x20,	/* the key process: the only holder of TLS private keys */
	MR_ACME		= 0x40,	/* the ACME client (acme.c) */
	MR_SPAWNER	= 0x80,	/* starts workers without an exec each (spawner.c) */
	MR_SPARE	= 0x100,	/* the spawner's spare: a worker before its locker */
	MR_ZYGOTE	= 0x200,	/* the shared pre-initialised php-cgi (zygote.c) */
	MR_SQLD		= 0x400,	/* the SQL role: the only holder of MariaDB's admin account */
	MR_MAILIN	= 0x800,	/* maild: takes Postfix's LMTP deliveries (mailin.h) */
	MR_MAILOUT	= 0x1000,	/* outgoing mail: the jails' sendmail to the relay (mailout.c) */
	MR_DIRSYNC	= 0x2000,	/* lockerd-dirsync: the only client of the fleet's PostgreSQL */
	MR_HESIOD	= 0x4000,	/* publishes the lockers to DNS as Hesiod records (hesiod.c) */
};
#define MR_ALL		(MR_MASTER | MR_FRONT | MR_WORKER | MR_LOGD | MR_CLI | MR_KEYD | MR_ACME | \
			 MR_SPAWNER | MR_SPARE | MR_ZYGOTE | MR_SQLD | MR_MAILOUT | MR_MAILIN | MR_DIRSYNC | \
			 MR_HESIOD)

/* The comment of each type says what it carries; msg_rules[] says the rest. */
enum msg_type {
	MSG_NONE = 0,
	MSG_CONFIG,		/* struct config */
	MSG_ROUTES,		/* uint32 generation; fd = memfd with the route blob */
	MSG_WORKER_GET,		/* struct msg_worker */
	MSG_WORKER_CHAN,	/* struct msg_worker, fd = channel (if ok) */
	MSG_WORKER_LIMITS,	/* struct msg_worker, a locker's limits changed */
	MSG_CHANNEL,		/* fd = a channel from a front */
	MSG_LOG_CHAN,		/* fd = a channel to logd; to logd: the worker's locker, or "" */
	MSG_WORKER_INIT,	/* struct msg_worker_init */
	MSG_REOPEN,		/* reopen log files */
	MSG_IDLE,		/* exiting because idle */
	MSG_MIME,		/* struct mime_map */
	MSG_REQUEST,		/* struct wire_request + its strings */
	MSG_RESPONSE,		/* struct wire_response (+ wire_script), fd = body */
	MSG_LOG_ACCESS,		/* packed access records */
	MSG_LOG_ERROR,		/* one error line */
	MSG_LOG_LOCKER_ERROR,	/* [u8 len][locker][lines], its error log */
	MSG_LOG_LOCKER_DROPPED,	/* front: [u8 len][locker][u64], bytes of it front dropped;
				   worker: [u64], of its own */
	MSG_CTL_REQUEST,	/* struct ctl_request */
	MSG_CTL_LOCKER,		/* struct ctl_locker */
	MSG_CTL_VHOST,		/* struct ctl_vhost */
	MSG_CTL_TEXT,		/* a line for the user */
	MSG_CTL_DONE,		/* struct ctl_done */
	MSG_CTL_STDIO,		/* fd = stdin, stdout, stderr in turn */
	MSG_CTL_ADMIN,		/* struct ctl_admin */
	MSG_CTL_PROC,		/* struct ctl_proc */
	MSG_CTL_LOG,		/* struct ctl_log, fd = the log, read-only */
	MSG_CTL_LIMIT,		/* struct ctl_limit */
	MSG_STATS,		/* struct msg_stats + msg_stats_locker[n] */
	MSG_CTL_STATS,		/* struct ctl_stats */
	MSG_CTL_AUDIT,		/* struct ctl_audit */
	MSG_LOG_LIMITS,		/* struct msg_log_limits */
	MSG_ACTIVE,		/* served or ran something just now */
	MSG_LOG_DROPPED,	/* struct msg_log_dropped */
	MSG_BUSY,		/* a request of the locker is in flight in front */
	MSG_KEY_LOAD,		/* uint32 key_id; fd = the PEM private key, read-only */
	MSG_KEY_FORGET,		/* uint32 key_id: keys below it are dropped */
	MSG_KEY_CHAN,		/* uint32 front number; fd = a front<->keyd channel */
	MSG_KEY_OP,		/* struct key_op + its input */
	MSG_KEY_RESULT,		/* struct key_result + its output */
	MSG_ACME_NAMES,		/* struct msg_acme_names + acme_name[n] */
	MSG_ACME_TOKEN,		/* struct msg_acme_token */
	MSG_CHALLENGE,		/* struct msg_acme_token, relayed to front */
	MSG_ACME_STATUS,	/* struct msg_acme_status */
	MSG_ACME_ISSUED,	/* struct msg_acme_issued */
	MSG_CTL_CERT,		/* struct ctl_cert */
	MSG_ACME_ALPN,		/* struct msg_acme_alpn */
	MSG_CHALLENGE_ALPN,	/* struct msg_acme_alpn, relayed to front */
	MSG_TLS_WANT,		/* a name (NUL-terminated) a handshake found no certificate for */
	MSG_ACME_NOW,		/* struct msg_acme_issued: the name is wanted, try it now */
	MSG_TLS_CERT,		/* struct msg_tls_cert, fd = the file it names */
	MSG_TLS_COMMIT,		/* uint32 generation: the files sent are the new set */
	MSG_TLS_TICKETS,	/* struct msg_tls_tickets */
	MSG_ACME_TSIG,		/* fd = acme-dns-update's secret file, read-only */
	MSG_ROUTE_DELTA,	/* struct route_delta: one change to the routing table */
	MSG_WATCH,		/* fd = an inotify instance on the worker's walked directories */
	MSG_SPAWN,		/* struct msg_spawn, fd = the worker's channel */
	MSG_SPAWNED,		/* struct msg_spawned */
	MSG_SPARE,		/* struct msg_spawned: a spare, fd = its ask socket */
	MSG_SPARE_ASK,		/* struct msg_spawn, fd = the worker's channel */
	MSG_SPARE_JOIN,		/* struct msg_spare_join */
	MSG_SPARE_TREE,		/* struct msg_spawned, fd = a mount tree: the home, then
				   its tmp/ (none: it has none) */
	MSG_SPAWN_JOINED,	/* struct msg_spawned: the spare is in its cgroups (err 0) */
	MSG_FCGI_DONE,		/* struct msg_fcgi: front closed pool connections */
	MSG_FCGI_ASK,		/* struct msg_fcgi: a connection to a pool, for a
				   script front resolved before */
	MSG_PHP_FORK,		/* fd = a worker's line to the zygote (zygote.h) */
	MSG_ZYGOTE_FORK,	/* struct msg_zygote_fork, fd = that line */
	MSG_ZYGOTE_READY,	/* the zygote's PHP has started: it takes forks */
	MSG_SQL_CREDS,		/* fd = sql's admin credentials file, read-only */
	MSG_SQL_REQUEST,	/* struct msg_sql_req: one operation, no SQL text */
	MSG_SQL_ROW,		/* struct msg_sql_row: a database of a LIST */
	MSG_SQL_DONE,		/* struct msg_sql_done: the request's end */
	MSG_CTL_SQL,		/* struct ctl_sql */
	MSG_MAIL_LISTEN,	/* fd = the listening socket of the jails' sendmail (mail.h) */
	MSG_MAIL_SUBMIT,	/* struct msg_mail_submit + recipients, fd = the message */
	MSG_MAIL_RESULT,	/* struct msg_mail_result */
	MSG_MAIL_ASK,		/* struct msg_mail_ask */
	MSG_MAIL_GRANT,		/* struct msg_mail_grant */
	MSG_MAIL_SENT,		/* struct msg_mail_sent */
	MSG_MAIL_NOTICE,	/* struct msg_mail_notice, fd = the body */
	MSG_CRON_SCHED,		/* struct cron_sched: a crontab compiled in its sandbox */
	MSG_LOG_CRON,		/* worker: lines of its locker's cron log; master:
				   [u8 len][locker][lines] */
	MSG_CTL_CRON,		/* struct ctl_cron */
	MSG_CTL_MAIL,		/* struct ctl_mail */
	MSG_SQL_SIZE,		/* struct msg_sql_size: a locker's database bytes, or a round's end */
	MSG_SQL_CUT,		/* struct msg_sql_cut: withdraw or give back a locker's writes */
	MSG_MAILIN_DELIVER,	/* struct msg_mailin_deliver, fd = the message (sealed memfd) */
	MSG_MAILIN_RESULT,	/* struct msg_mailin_result, fd = the program's stderr, if it ran */
	MSG_CTL_APP,		/* struct ctl_app (app_master.h) */
	MSG_DIR_HELLO,		/* struct msg_dir_hello, fd = the conninfo file (dirsync.h) */
	MSG_DIR_CHANGE,		/* struct msg_dir_change, fd = sealed memfd of change records */
	MSG_DIR_RESULT,		/* struct msg_dir_result */
	MSG_DIR_ROWS,		/* struct msg_dir_rows, fd = sealed memfd of row records */
	MSG_DIR_STATE,		/* struct msg_dir_state */
	MSG_DIR_BEAT,		/* struct msg_dir_beat */
	MSG_DRAIN,		/* uint32 DRAIN_* bits (drain.h): 0 up, else the health check says 503 */
	MSG_HESIOD_KEY,		/* fd = hesiod-key's secret file, read-only (hesiod.h) */
	MSG_HESIOD_ALL,		/* struct msg_hesiod_all, fd = sealed memfd of hesiod_locker[n] */
	MSG_HESIOD_PUT,		/* struct hesiod_locker: signed up (or changed) */
	MSG_HESIOD_DEL,		/* struct hesiod_locker: removed (the name alone) */
	MSG_HESIOD_STATUS,	/* struct msg_hesiod_status: the role's last round */
	MSG_CTL_HESIOD,		/* struct ctl_hesiod, fd = `locker export hesiod`'s output */
	MSG_CTL_NODE,		/* struct ctl_node: a node of `locker status` */
	MSG_MAX
};

#define MSG_MAX_PAYLOAD		(64 * 1024)

struct msg_hdr {
	uint16_t	type;
	uint16_t	flags;
	uint32_t	len;	/* payload bytes after this header */
};

/* Whether a descriptor comes with a message. */
enum msg_fd { MSG_FD_NEVER, MSG_FD_MAY, MSG_FD_MUST };

/* One edge of the trust graph. */
struct msg_rule {
	const char	*name;
	uint16_t	 from;		/* enum msg_role bits that may send it */
	uint16_t	 to;		/* ... and that may receive it */
	uint8_t		 fd;		/* enum msg_fd */
	uint32_t	 min, max;	/* payload bytes */
};
extern const struct msg_rule msg_rules[MSG_MAX];

const char *msg_role_name(enum msg_role r);
const char *msg_type_name(unsigned type);	/* "MSG_STATS", or "type 4711" */
/*
 * Whether self may take this message from peer: NULL if so, else why not
 * (a static string).  The payload's contents are the receiver's to check.
 */
const char *msg_check(enum msg_role self, enum msg_role peer, unsigned type, size_t len,
	    int has_fd);

/* What a breach by a peer means to the receiver: msg_breach() decides. */
enum msg_act {
	MSG_ACT_KILL,		/* the master kills its child (front and logd restart) */
	MSG_ACT_DROP,		/* the channel is closed, its requests fail */
	MSG_ACT_CLOSE,		/* a CLI connection is answered with an error and closed */
	MSG_ACT_EXIT,		/* the receiver exits: its master broke the rules */
};
/*
 * Logs the breach in the one format, at most once a second for each kind
 * of peer, and returns what the caller must do.  who: the peer, e.g.
 * "front 0 (pid 12)" or "uid 1000 (pid 77)"; "": its role's name.
 */
enum msg_act msg_breach(enum msg_role self, enum msg_role peer, const char *who,
	    unsigned type, const char *why);

/* 0 on success; -1 with errno (EAGAIN on a full non-blocking socket). */
int	msg_send(int sock, enum msg_type type, const void *data, size_t len, int fd);
/*
 * Receives one message and checks it against msg_rules[]: the one receive
 * of every role (there is no unchecked one).  Returns the payload length
 * (>= 0), 0 with *type == MSG_NONE at EOF, -1 with errno (EAGAIN on an
 * empty non-blocking socket), or MSG_BREACH with *why set (and *type,
 * where the header could be read).  A malformed frame is a breach too.
 * *fd is -1 unless a descriptor came with an accepted message; any extra
 * descriptors, and that of a refused message, are closed.
 */
#define MSG_BREACH	(-2)
ssize_t	msg_recv_checked(int sock, enum msg_role self, enum msg_role peer,
	    enum msg_type *type, void *buf, size_t bufsz, int *fd, const char **why);
int	chan_pair(int sv[2]);	/* SOCK_SEQPACKET, close-on-exec */

/* Batches, for the hot front<->worker path: one system call for many. */
#define CHAN_BATCH	64
struct msg_in {
	void		*buf;		/* payload lands here */
	size_t		 cap;
	enum msg_type	 type;
	size_t		 len;		/* payload length */
	int		 fd;		/* -1 if none came */
};
struct msg_out {
	enum msg_type	 type;
	const void	*data;
	size_t		 len;
	int		 fd;		/* -1 for none */
};
/*
 * Receive up to n (<= CHAN_BATCH) messages without blocking, each checked
 * as msg_recv_checked() does.  Returns how many (> 0), 0 at EOF, -1
 * (EAGAIN: nothing there), or MSG_BREACH if any is refused, with *why and
 * *bad_type set and every descriptor of the batch closed (the channel is
 * going anyway).
 */
int	msg_recv_many_checked(int sock, enum msg_role self, enum msg_role peer,
	    struct msg_in *m, int n, unsigned *bad_type, const char **why);
/* Send up to n messages; returns how many were sent, or -1. */
int	msg_send_many(int sock, const struct msg_out *m, int n);

#endif
