/*
 * msg.c: the messages between lockerd's processes: their framing, with
 * descriptor passing, and the one table of who may send which to whom.
 *
 * msg_rules[] is the trust graph of lockerd, declared once: for each
 * message, the roles that may send it, the roles that may receive it, its
 * payload's bounds and whether a descriptor comes with it.  Every receiver
 * reads through msg_recv_checked() (or its batch form), which refuses
 * what the table does not allow before any role's switch sees it; the
 * receiver then checks only what a table cannot say (that a name is
 * NUL-terminated, that a count matches a length).  A new message is a row
 * here, or it is refused everywhere.
 *
 * What a breach means depends only on who sent it, and is decided in
 * msg_breach(): the master kills a child that breaks the rules (front and
 * logd are restarted, a worker starts again on the next request); front,
 * a worker and logd drop a channel that does; a CLI connection is closed
 * with an error; and a process whose master breaks them exits, to be
 * restarted.
 *
 * The CLI links this file, and not proc.c (spawning) or become.c (dropping
 * privileges).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lockerd.h"
#include "acme.h"
#include "route.h"
#include "cron.h"
#include "app_master.h"
#include "mail.h"
#include "sql.h"
#include "mailin.h"
#include "hesiod.h"
#include "dirsync.h"

#ifdef __SANITIZE_ADDRESS__
/*
 * LeakSanitizer reads /proc at exit, which a chrooted front or logd cannot
 * see; leaks are looked for by the unit tests instead.  Here because every
 * program of lockerd's links this file.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* Fixed-size messages: the struct, to the byte. */
#define EXACT(t)	sizeof(t), sizeof(t)
#define ROW(type, from, to, fd, ...) \
	[type] = { #type, (from), (to), (fd), __VA_ARGS__ }
#define CHILDREN	(MR_FRONT | MR_WORKER | MR_LOGD | MR_ACME)
#define NEVER		MSG_FD_NEVER
#define MAY		MSG_FD_MAY
#define MUST		MSG_FD_MUST

/*
 * Sender, receiver, descriptor, length.  A type without a row (MSG_NONE)
 * has no sender and is refused from everyone.
 */
const struct msg_rule msg_rules[MSG_MAX] = {
	/* master -> its children: configuration, channels, limits */
	ROW(MSG_CONFIG,		MR_MASTER, CHILDREN | MR_KEYD | MR_SQLD | MR_MAILOUT | MR_MAILIN | MR_DIRSYNC | MR_HESIOD, NEVER, EXACT(struct config)),
	ROW(MSG_ROUTES,		MR_MASTER, MR_FRONT, MUST, EXACT(uint32_t)),
	ROW(MSG_WORKER_CHAN,	MR_MASTER, MR_FRONT, MAY, EXACT(struct msg_worker)),
	ROW(MSG_WORKER_LIMITS,	MR_MASTER, MR_FRONT, NEVER, EXACT(struct msg_worker)),
	ROW(MSG_CHANNEL,	MR_MASTER, MR_WORKER, MUST, 0, 0),
	/* to logd, the locker a worker's channel is bound to ("" for a front's) */
	ROW(MSG_LOG_CHAN,	MR_MASTER, MR_FRONT | MR_WORKER | MR_LOGD, MUST, 0, LOCKER_NAME_MAX),
	ROW(MSG_WORKER_INIT,	MR_MASTER, MR_WORKER, NEVER, EXACT(struct msg_worker_init)),
	ROW(MSG_MIME,		MR_MASTER, MR_WORKER, NEVER, EXACT(struct mime_map)),
	ROW(MSG_REOPEN,		MR_MASTER, MR_LOGD, NEVER, 0, 0),
	ROW(MSG_LOG_LIMITS,	MR_MASTER, MR_LOGD, NEVER, EXACT(struct msg_log_limits)),
	/* master -> keyd: the keys; master -> keyd and a front: their channel */
	ROW(MSG_KEY_LOAD,	MR_MASTER, MR_KEYD, MUST, EXACT(uint32_t)),
	ROW(MSG_KEY_FORGET,	MR_MASTER, MR_KEYD, NEVER, EXACT(uint32_t)),
	ROW(MSG_KEY_CHAN,	MR_MASTER, MR_FRONT | MR_KEYD, MUST, EXACT(uint32_t)),
	/* front <-> keyd: one private-key operation and its answer */
	ROW(MSG_KEY_OP,		MR_FRONT, MR_KEYD, NEVER, sizeof(struct key_op),
	    sizeof(struct key_op) + KEY_OP_MAX_IN),
	ROW(MSG_KEY_RESULT,	MR_KEYD, MR_FRONT, NEVER, sizeof(struct key_result),
	    sizeof(struct key_result) + KEY_RESULT_MAX),
	/* TLS: certificate chains (never a key: those go to the key process) */
	ROW(MSG_TLS_CERT,	MR_MASTER, MR_FRONT, MUST, EXACT(struct msg_tls_cert)),
	ROW(MSG_TLS_COMMIT,	MR_MASTER, MR_FRONT, NEVER, EXACT(uint32_t)),
	ROW(MSG_TLS_TICKETS,	MR_MASTER, MR_FRONT, NEVER, EXACT(struct msg_tls_tickets)),
	/* children -> master */
	ROW(MSG_WORKER_GET,	MR_FRONT, MR_MASTER, NEVER, EXACT(struct msg_worker)),
	ROW(MSG_STATS,		MR_FRONT, MR_MASTER, NEVER, sizeof(struct msg_stats),
	    sizeof(struct msg_stats) + STATS_MAX_LOCKERS * sizeof(struct msg_stats_locker)),
	ROW(MSG_IDLE,		MR_WORKER, MR_MASTER, NEVER, 0, 0),
	ROW(MSG_ACTIVE,		MR_WORKER, MR_MASTER, NEVER, 0, 0),
	ROW(MSG_LOG_DROPPED,	MR_LOGD, MR_MASTER, NEVER, EXACT(struct msg_log_dropped)),
	/* front <-> worker: WREQ_SPOOL and WIRE_SPOOL ride on these two */
	ROW(MSG_REQUEST,	MR_FRONT, MR_WORKER, NEVER, sizeof(struct wire_request),
	    MSG_MAX_PAYLOAD),
	ROW(MSG_RESPONSE,	MR_WORKER, MR_FRONT, MAY, sizeof(struct wire_response),
	    WIRE_RESPONSE_MAX),
	ROW(MSG_BUSY,		MR_FRONT, MR_WORKER, NEVER, 0, 0),
	/* the worker's watches, read by front to drop what it cached (wwatch.c) */
	ROW(MSG_WATCH,		MR_WORKER, MR_FRONT, MUST, 0, 0),
	/* a locker's PHP pool's connections front asks for and closed (phppool.c) */
	ROW(MSG_FCGI_ASK,	MR_FRONT, MR_WORKER, NEVER, EXACT(struct msg_fcgi)),
	ROW(MSG_FCGI_DONE,	MR_FRONT, MR_WORKER, NEVER, EXACT(struct msg_fcgi)),
	/* front and workers -> logd */
	ROW(MSG_LOG_ACCESS,	MR_FRONT, MR_LOGD, NEVER, 1, MSG_MAX_PAYLOAD),
	ROW(MSG_LOG_ERROR,	MR_FRONT | MR_WORKER, MR_LOGD, NEVER, 1, MSG_MAX_PAYLOAD),
	ROW(MSG_LOG_LOCKER_ERROR, MR_FRONT, MR_LOGD, NEVER, 2, MSG_MAX_PAYLOAD),
	/* a worker's: the u64 alone; front's: [u8 len][locker][u64] */
	ROW(MSG_LOG_LOCKER_DROPPED, MR_FRONT | MR_WORKER, MR_LOGD, NEVER, sizeof(uint64_t),
	    1 + LOCKER_NAME_MAX + sizeof(uint64_t)),
	/* CLI -> master; a request of another version is told so (control.c),
	 * so the version word alone is enough to be read */
	ROW(MSG_CTL_REQUEST,	MR_CLI, MR_MASTER, NEVER, sizeof(uint32_t),
	    sizeof(struct ctl_request)),
	ROW(MSG_CTL_STDIO,	MR_CLI, MR_MASTER, MUST, 0, 0),
	/* master -> CLI */
	ROW(MSG_CTL_LOCKER,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_locker)),
	ROW(MSG_CTL_VHOST,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_vhost)),
	ROW(MSG_CTL_TEXT,	MR_MASTER, MR_CLI, NEVER, 0, MSG_MAX_PAYLOAD),
	ROW(MSG_CTL_DONE,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_done)),
	ROW(MSG_CTL_ADMIN,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_admin)),
	ROW(MSG_CTL_PROC,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_proc)),
	ROW(MSG_CTL_LOG,	MR_MASTER, MR_CLI, MAY, EXACT(struct ctl_log)),
	ROW(MSG_CTL_LIMIT,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_limit)),
	ROW(MSG_CTL_STATS,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_stats)),
	ROW(MSG_CTL_AUDIT,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_audit)),
	ROW(MSG_CTL_CERT,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_cert)),
	/* master <-> acme: the names it may ask for, from the directory; its
	 * tokens, which the master relays to every front; what it got */
	ROW(MSG_ACME_NAMES,	MR_MASTER, MR_ACME, NEVER, sizeof(struct msg_acme_names),
	    sizeof(struct msg_acme_names) + ACME_NAMES_BATCH * sizeof(struct acme_name)),
	ROW(MSG_ACME_TOKEN,	MR_ACME, MR_MASTER, NEVER, EXACT(struct msg_acme_token)),
	ROW(MSG_CHALLENGE,	MR_MASTER, MR_FRONT, NEVER, EXACT(struct msg_acme_token)),
	ROW(MSG_ACME_ALPN,	MR_ACME, MR_MASTER, NEVER, EXACT(struct msg_acme_alpn)),
	ROW(MSG_CHALLENGE_ALPN,	MR_MASTER, MR_FRONT, NEVER, EXACT(struct msg_acme_alpn)),
	/* on demand: front -> master a name without a certificate; the master
	 * passes it on only for a vhost of the directory that waits */
	ROW(MSG_TLS_WANT,	MR_FRONT, MR_MASTER, NEVER, 2, HOSTNAME_MAX + 1),
	ROW(MSG_ACME_NOW,	MR_MASTER, MR_ACME, NEVER, EXACT(struct msg_acme_issued)),
	ROW(MSG_ACME_STATUS,	MR_ACME, MR_MASTER, NEVER, EXACT(struct msg_acme_status)),
	ROW(MSG_ACME_ISSUED,	MR_ACME, MR_MASTER, NEVER, EXACT(struct msg_acme_issued)),
	/* master -> acme: the TSIG key's file, which only root may open (DNS-01) */
	ROW(MSG_ACME_TSIG,	MR_MASTER, MR_ACME, MUST, 0, 0),
	ROW(MSG_ROUTE_DELTA,	MR_MASTER, MR_FRONT, NEVER, EXACT(struct route_delta)),
	/* master -> front: whether this node drains (drain.h); the fronts answer
	 * the load balancer's health checks from it */
	ROW(MSG_DRAIN,		MR_MASTER, MR_FRONT, NEVER, EXACT(uint32_t)),
	/* master <-> spawner: a worker to start, with its channel; its pid */
	ROW(MSG_SPAWN,		MR_MASTER, MR_SPAWNER, MUST, EXACT(struct msg_spawn)),
	ROW(MSG_SPAWNED,	MR_SPAWNER, MR_MASTER, NEVER, EXACT(struct msg_spawned)),
	/* The spawner's spare (spawner.c): made, its ask socket to the master;
	 * the ask handed to it by the master; the spawner asked to move it
	 * into the locker's cgroups, and its word to the spare once it has */
	ROW(MSG_SPARE,		MR_SPAWNER, MR_MASTER, MUST, EXACT(struct msg_spawned)),
	ROW(MSG_SPARE_ASK,	MR_MASTER, MR_SPARE, MUST, EXACT(struct msg_spawn)),
	ROW(MSG_SPARE_JOIN,	MR_MASTER, MR_SPAWNER, NEVER, EXACT(struct msg_spare_join)),
	ROW(MSG_SPARE_TREE,	MR_SPAWNER, MR_SPARE, MAY, EXACT(struct msg_spawned)),
	ROW(MSG_SPAWN_JOINED,	MR_SPAWNER, MR_SPARE, NEVER, EXACT(struct msg_spawned)),
	/* worker -> master -> zygote: a PHP process, on the worker's line to
	 * the zygote; the master says whose it is (zygote.c) */
	ROW(MSG_PHP_FORK,	MR_WORKER, MR_MASTER, MUST, 0, 0),
	ROW(MSG_ZYGOTE_FORK,	MR_MASTER, MR_ZYGOTE, MUST, EXACT(struct msg_zygote_fork)),
	ROW(MSG_ZYGOTE_READY,	MR_ZYGOTE, MR_MASTER, NEVER, 0, 0),
	/* master <-> sqld: the admin credentials' file, opened by root; a
	 * typed request (never SQL text), its rows and its end (sql.h) */
	ROW(MSG_SQL_CREDS,	MR_MASTER, MR_SQLD, MUST, 0, 0),
	ROW(MSG_SQL_REQUEST,	MR_MASTER, MR_SQLD, NEVER, EXACT(struct msg_sql_req)),
	ROW(MSG_SQL_ROW,	MR_SQLD, MR_MASTER, NEVER, EXACT(struct msg_sql_row)),
	ROW(MSG_SQL_DONE,	MR_SQLD, MR_MASTER, NEVER, EXACT(struct msg_sql_done)),
	ROW(MSG_CTL_SQL,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_sql)),
	/* Outgoing mail (mail.h).  The jail's sendmail is a locker's program,
	 * trusted as its worker is (MR_WORKER): a message and its recipients,
	 * the message a sealed memfd; its answer.  The role asks the master
	 * whether the peer's uid may send, and says what the relay answered;
	 * the master hands it the jails' socket and lockerd's own notices. */
	ROW(MSG_MAIL_LISTEN,	MR_MASTER, MR_MAILOUT, MUST, 0, 0),
	ROW(MSG_MAIL_SUBMIT,	MR_WORKER, MR_MAILOUT, MUST, sizeof(struct msg_mail_submit),
	    sizeof(struct msg_mail_submit) + MAIL_ARGS_MAX),
	ROW(MSG_MAIL_RESULT,	MR_MAILOUT, MR_WORKER, NEVER, EXACT(struct msg_mail_result)),
	ROW(MSG_MAIL_ASK,	MR_MAILOUT, MR_MASTER, NEVER, EXACT(struct msg_mail_ask)),
	ROW(MSG_MAIL_GRANT,	MR_MASTER, MR_MAILOUT, NEVER, EXACT(struct msg_mail_grant)),
	ROW(MSG_MAIL_SENT,	MR_MAILOUT, MR_MASTER, NEVER, EXACT(struct msg_mail_sent)),
	ROW(MSG_MAIL_NOTICE,	MR_MASTER, MR_MAILOUT, MUST, EXACT(struct msg_mail_notice)),
	/* cron (cron.h): a crontab compiled as its locker, in its sandbox (a
	 * task's, which is a worker's trust); a job's output for the locker's
	 * cron log (a task's channel is bound to its locker, as a worker's),
	 * and the master's own lines of it (a job skipped, killed, refused) */
	ROW(MSG_CRON_SCHED,	MR_WORKER, MR_MASTER, NEVER, EXACT(struct cron_sched)),
	ROW(MSG_LOG_CRON,	MR_MASTER | MR_WORKER, MR_LOGD, NEVER, 1, MSG_MAX_PAYLOAD),
	ROW(MSG_CTL_CRON,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_cron)),
	ROW(MSG_CTL_MAIL,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_mail)),
	ROW(MSG_CTL_APP,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_app)),
	ROW(MSG_CTL_NODE,	MR_MASTER, MR_CLI, NEVER, EXACT(struct ctl_node)),
	/* sqld -> master: each locker's database bytes, every sql-size-interval;
	 * master -> sqld: a locker at its disk limit, or back below it */
	ROW(MSG_SQL_SIZE,	MR_SQLD, MR_MASTER, NEVER, EXACT(struct msg_sql_size)),
	ROW(MSG_SQL_CUT,	MR_MASTER, MR_SQLD, NEVER, EXACT(struct msg_sql_cut)),
	/* Incoming mail: maild <-> master, a recipient's delivery with the
	 * message; how the locker's program ended, with its stderr (mailin.h) */
	ROW(MSG_MAILIN_DELIVER,	MR_MAILIN, MR_MASTER, MUST, EXACT(struct msg_mailin_deliver)),
	ROW(MSG_MAILIN_RESULT,	MR_MASTER, MR_MAILIN, MAY, EXACT(struct msg_mailin_result)),
	/* The fleet directory (dirsync.h): master -> dirsync, the conninfo
	 * file opened by root, each transaction's changes (a sealed memfd)
	 * and the node's heartbeat; dirsync -> master, each change's answer,
	 * the rows other nodes changed (a sealed memfd), PostgreSQL up/down */
	ROW(MSG_DIR_HELLO,	MR_MASTER, MR_DIRSYNC, MUST, EXACT(struct msg_dir_hello)),
	ROW(MSG_DIR_CHANGE,	MR_MASTER, MR_DIRSYNC, MUST, EXACT(struct msg_dir_change)),
	ROW(MSG_DIR_BEAT,	MR_MASTER, MR_DIRSYNC, NEVER, EXACT(struct msg_dir_beat)),
	ROW(MSG_DIR_RESULT,	MR_DIRSYNC, MR_MASTER, NEVER, EXACT(struct msg_dir_result)),
	ROW(MSG_DIR_ROWS,	MR_DIRSYNC, MR_MASTER, MUST, EXACT(struct msg_dir_rows)),
	ROW(MSG_DIR_STATE,	MR_DIRSYNC, MR_MASTER, NEVER, EXACT(struct msg_dir_state)),
	/* Hesiod (hesiod.h): master -> hesiod, the key file opened by root and
	 * typed lockers (never text); hesiod -> master, how its round went */
	ROW(MSG_HESIOD_KEY,	MR_MASTER, MR_HESIOD, MUST, 0, 0),
	ROW(MSG_HESIOD_ALL,	MR_MASTER, MR_HESIOD, MUST, EXACT(struct msg_hesiod_all)),
	ROW(MSG_HESIOD_PUT,	MR_MASTER, MR_HESIOD, NEVER, EXACT(struct hesiod_locker)),
	ROW(MSG_HESIOD_DEL,	MR_MASTER, MR_HESIOD, NEVER, EXACT(struct hesiod_locker)),
	ROW(MSG_HESIOD_STATUS,	MR_HESIOD, MR_MASTER, NEVER, EXACT(struct msg_hesiod_status)),
	ROW(MSG_CTL_HESIOD,	MR_MASTER, MR_CLI, MUST, EXACT(struct ctl_hesiod)),
};

const char *
msg_role_name(enum msg_role r)
{
	switch (r) {
	case MR_MASTER:	return "master";
	case MR_FRONT:	return "front";
	case MR_WORKER:	return "worker";
	case MR_LOGD:	return "logd";
	case MR_CLI:	return "cli";
	case MR_KEYD:	return "keyd";
	case MR_ACME:	return "acme";
	case MR_SPAWNER: return "spawner";
	case MR_SPARE:	return "spare";
	case MR_ZYGOTE:	return "zygote";
	case MR_SQLD:	return "sqld";
	case MR_MAILOUT: return "mailout";
	case MR_MAILIN:	return "maild";
	case MR_DIRSYNC: return "dirsync";
	case MR_HESIOD:	return "hesiod";
	}
	return "?";
}

const char *
msg_type_name(unsigned type)
{
	static char	 buf[24];

	if (type < MSG_MAX && msg_rules[type].name != NULL)
		return msg_rules[type].name;
	snprintf(buf, sizeof(buf), "type %u", type);
	return buf;
}

const char *
msg_check(enum msg_role self, enum msg_role peer, unsigned type, size_t len, int has_fd)
{
	const struct msg_rule *r;

	if (type == MSG_NONE || type >= MSG_MAX || msg_rules[type].name == NULL)
		return "is no message";
	r = &msg_rules[type];
	if (!(r->from & peer))
		return "may not come from it";
	if (!(r->to & self))
		return "is not for this receiver";
	if (len < r->min)
		return "is too short";
	if (len > r->max)
		return "is too long";
	if (r->fd == MSG_FD_MUST && !has_fd)
		return "came without its descriptor";
	if (r->fd == MSG_FD_NEVER && has_fd)
		return "came with a descriptor";
	return NULL;
}

/* The breach policy: by the kind of peer alone (see the opening comment). */
static enum msg_act
breach_policy(enum msg_role self, enum msg_role peer)
{
	if (peer == MR_MASTER)
		return MSG_ACT_EXIT;
	if (peer == MR_CLI)
		return MSG_ACT_CLOSE;
	if (self == MR_MASTER)
		return MSG_ACT_KILL;
	return MSG_ACT_DROP;
}

enum msg_act
msg_breach(enum msg_role self, enum msg_role peer, const char *who, unsigned type,
    const char *why)
{
	static const char *const what[] = {
		[MSG_ACT_KILL] = "killing it",
		[MSG_ACT_DROP] = "dropping the channel",
		[MSG_ACT_CLOSE] = "closing the connection",
		[MSG_ACT_EXIT] = "exiting",
	};
	/* A line a second for each kind of peer: a CLI user (anyone) who
	 * sends garbage in a loop must not fill the log, nor hide a child's. */
	static uint64_t	 last_ms[16];
	static unsigned	 quiet[16];
	enum msg_act	 act = breach_policy(self, peer);
	int		 k = ffs((int)peer) & 15;
	uint64_t	 now = now_ms();

	if (last_ms[k] != 0 && now - last_ms[k] < 1000) {
		quiet[k]++;
		return act;
	}
	log_warnx("%s: malformed message from %s: %s %s; %s%s",
	    self == MR_MASTER && peer == MR_CLI ? "control" : msg_role_name(self),
	    who[0] != '\0' ? who : msg_role_name(peer), msg_type_name(type), why, what[act],
	    quiet[k] ? " (and more not logged)" : "");
	last_ms[k] = now;
	quiet[k] = 0;
	return act;
}

int
chan_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

/* Room for the descriptors a peer may send with one message (we keep one). */
#define CMSG_ROOM	CMSG_SPACE(4 * sizeof(int))
struct cmsg_buf {
	/* Not a union with struct cmsghdr: an array of those is not ISO C. */
	_Alignas(struct cmsghdr) char buf[CMSG_ROOM];
};

/* Header and payload of one message, and its descriptor if fd != -1. */
static void
frame_out(struct msghdr *mh, struct iovec iov[2], struct msg_hdr *hdr, struct cmsg_buf *cm,
    enum msg_type type, const void *data, size_t len, int fd)
{
	struct cmsghdr *c;

	hdr->type = (uint16_t)type;
	hdr->flags = 0;
	hdr->len = (uint32_t)len;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(*hdr);
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	memset(mh, 0, sizeof(*mh));
	mh->msg_iov = iov;
	mh->msg_iovlen = len ? 2 : 1;
	if (fd == -1)
		return;
	memset(cm, 0, sizeof(*cm));
	mh->msg_control = cm->buf;
	mh->msg_controllen = CMSG_SPACE(sizeof(int));
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

/* Where one message lands: its header, then the payload into buf. */
static void
frame_in(struct msghdr *mh, struct iovec iov[2], struct msg_hdr *hdr, struct cmsg_buf *cm,
    void *buf, size_t bufsz)
{
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(*hdr);
	iov[1].iov_base = buf;
	iov[1].iov_len = bufsz;
	memset(mh, 0, sizeof(*mh));
	mh->msg_iov = iov;
	mh->msg_iovlen = 2;
	mh->msg_control = cm->buf;
	mh->msg_controllen = sizeof(cm->buf);
}

/* 1 if n bytes received are one whole message of a type that exists. */
static int
frame_ok(const struct msghdr *mh, size_t n, const struct msg_hdr *hdr)
{
	return !(mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) && n >= sizeof(*hdr) &&
	    hdr->type != MSG_NONE && hdr->type < MSG_MAX && hdr->len == n - sizeof(*hdr);
}

int
msg_send(int sock, enum msg_type type, const void *data, size_t len, int fd)
{
	struct msg_hdr	 hdr;
	struct iovec	 iov[2];
	struct msghdr	 mh;
	struct cmsg_buf	 cm;
	ssize_t		 n;

	if (len > MSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	frame_out(&mh, iov, &hdr, &cm, type, data, len, fd);
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

/* Close every descriptor a peer sent beyond the one we accept. */
static int
take_fds(struct msghdr *mh)
{
	struct cmsghdr	*c;
	int		 fd = -1;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t	 i, nfds;
		int	 f;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd == -1)
				fd = f;
			else
				close(f);
		}
	}
	return fd;
}

static ssize_t
msg_recv(int sock, enum msg_type *type, void *buf, size_t bufsz, int *fd)
{
	struct msg_hdr	 hdr;
	struct iovec	 iov[2];
	struct msghdr	 mh;
	struct cmsg_buf	 cm;
	ssize_t		 n;
	int		 got;

	*fd = -1;
	*type = MSG_NONE;
	frame_in(&mh, iov, &hdr, &cm, buf, bufsz);
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	got = take_fds(&mh);
	if (n == 0)
		return 0;	/* EOF: *type stays MSG_NONE */
	if (!frame_ok(&mh, (size_t)n, &hdr)) {
		if (got != -1)
			close(got);
		errno = EBADMSG;
		return -1;
	}
	*type = (enum msg_type)hdr.type;
	*fd = got;
	return (ssize_t)hdr.len;
}

static int
msg_recv_many(int sock, struct msg_in *m, int n)
{
	struct mmsghdr	 mm[CHAN_BATCH];
	struct iovec	 iov[CHAN_BATCH][2];
	struct msg_hdr	 hdr[CHAN_BATCH];
	struct cmsg_buf	 cm[CHAN_BATCH];
	int		 i, got, bad = 0;

	if (n > CHAN_BATCH)
		n = CHAN_BATCH;
	memset(mm, 0, sizeof(mm[0]) * (size_t)n);
	for (i = 0; i < n; i++)
		frame_in(&mm[i].msg_hdr, iov[i], &hdr[i], &cm[i], m[i].buf, m[i].cap);
	got = recvmmsg(sock, mm, (unsigned)n, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL);
	if (got <= 0)
		return got;
	for (i = 0; i < got; i++) {
		size_t len = mm[i].msg_len;

		m[i].fd = take_fds(&mm[i].msg_hdr);
		m[i].type = MSG_NONE;
		if (len == 0) {
			/* EOF after the messages before it. */
			if (m[i].fd != -1)
				close(m[i].fd);
			got = i;
			break;
		}
		if (!frame_ok(&mm[i].msg_hdr, len, &hdr[i]))
			bad = 1;
		m[i].type = (enum msg_type)hdr[i].type;
		m[i].len = hdr[i].len;
	}
	if (bad) {
		for (i = 0; i < got; i++)
			if (m[i].fd != -1)
				close(m[i].fd);
		errno = EBADMSG;
		return -1;
	}
	return got;
}

ssize_t
msg_recv_checked(int sock, enum msg_role self, enum msg_role peer, enum msg_type *type,
    void *buf, size_t bufsz, int *fd, const char **why)
{
	ssize_t n = msg_recv(sock, type, buf, bufsz, fd);

	*why = NULL;
	if (n == -1 && errno == EBADMSG) {
		*why = "is malformed (its frame, its type or its length)";
		return MSG_BREACH;
	}
	if (n == -1 || *type == MSG_NONE)
		return n;
	if ((*why = msg_check(self, peer, *type, (size_t)n, *fd != -1)) != NULL) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return MSG_BREACH;
	}
	return n;
}

int
msg_recv_many_checked(int sock, enum msg_role self, enum msg_role peer, struct msg_in *m,
    int n, unsigned *bad_type, const char **why)
{
	int	 i, k = msg_recv_many(sock, m, n);

	*why = NULL;
	*bad_type = MSG_NONE;
	if (k == -1 && errno == EBADMSG) {
		*why = "is malformed (its frame, its type or its length)";
		return MSG_BREACH;
	}
	for (i = 0; i < k && *why == NULL; i++)
		if ((*why = msg_check(self, peer, m[i].type, m[i].len, m[i].fd != -1)) != NULL)
			*bad_type = m[i].type;
	if (*why == NULL)
		return k;
	for (i = 0; i < k; i++)
		if (m[i].fd != -1) {
			close(m[i].fd);
			m[i].fd = -1;
		}
	return MSG_BREACH;
}

int
msg_send_many(int sock, const struct msg_out *m, int n)
{
	struct mmsghdr	 mm[CHAN_BATCH];
	struct iovec	 iov[CHAN_BATCH][2];
	struct msg_hdr	 hdr[CHAN_BATCH];
	struct cmsg_buf	 cm[CHAN_BATCH];
	int		 i, sent;

	if (n > CHAN_BATCH)
		n = CHAN_BATCH;
	memset(mm, 0, sizeof(mm[0]) * (size_t)n);
	for (i = 0; i < n; i++)
		frame_out(&mm[i].msg_hdr, iov[i], &hdr[i], &cm[i], m[i].type, m[i].data,
		    m[i].len, m[i].fd);
	do {
		sent = sendmmsg(sock, mm, (unsigned)n, MSG_NOSIGNAL);
	} while (sent == -1 && errno == EINTR);
	return sent;
}
