/*
 * lockerd.h: the whole program on one screen.
 *
 * One prototype block per source file.  http.h, route.h and directory.h are
 * kept apart because they are pure modules with unit tests of their own.
 */
#ifndef LOCKERD_H
#define LOCKERD_H

#include <sys/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include "msg.h"
#include "route.h"

#define LOCKERD_VERSION		"0.1"
#define SERVER_SOFTWARE		"lockerd/" LOCKERD_VERSION

#define DEFAULT_CONFIG		"/etc/lockerd/lockerd.conf"
#define CONTROL_SOCKET		"control.sock"	/* in the state dir */
#define DIRECTORY_FILE		"directory.db"	/* in the state dir */

/* Descriptor numbers a re-executed child finds its channels on. */
#define CHILD_CHAN_FD		3	/* to the master */
#define CHILD_FIRST_LISTEN_FD	4	/* front: listeners 4, 5, ... */

/* ---------------------------------------------------------------- log.c */
void	log_init(const char *procname, int debug);
void	log_setproc(const char *procname);
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* + errno */
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));	/* + errno */
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ----------------------------------------------------------- linebuf.c */
/* The longest line of an error log; a longer one is cut into pieces. */
#define LOG_LINE_MAX		8192
struct linebuf {
	char	*buf;		/* LOG_LINE_MAX bytes, while a partial line waits */
	size_t	 len;
};
typedef void line_fn(void *arg, const char *line, size_t len);
/* Calls fn for each whole line (without its newline) of these bytes. */
void	linebuf_feed(struct linebuf *lb, const char *p, size_t n, line_fn *fn, void *arg);
/* What lines cost in a log: each gets a time stamp "[...] " and a newline. */
#define LOG_STAMP_LEN		28	/* "[2026-12-06 20:13:42 +0000] " */
uint64_t log_cost(const char *text, size_t len);
/* ... or for each run of whole lines that came together (LOG_RUN_MAX at most). */
#define LOG_RUN_MAX		32768
void	linebuf_feed_runs(struct linebuf *lb, const char *p, size_t n, line_fn *fn,
	    void *arg);
void	linebuf_flush(struct linebuf *lb, line_fn *fn, void *arg);	/* and frees */

/* ------------------------------------------------------------ bucket.c */
struct rate_bucket {
	uint64_t	tokens;		/* bytes that may go now */
	uint64_t	stamp_ms;	/* last refilled */
};
uint64_t bucket_cap(uint64_t rate);
void	bucket_fill(struct rate_bucket *b, uint64_t rate, uint64_t now);
void	bucket_refill(struct rate_bucket *b, uint64_t rate, uint64_t cap, uint64_t now);
int	bucket_take(struct rate_bucket *b, uint64_t rate, uint64_t cap, uint64_t now, uint64_t n);

/* ------------------------------------------------------------ errlog.c */
/* logd: each locker's error log, with its budget (log-rate) and rotation. */
struct msg_log_dropped {	/* logd -> master: bytes a locker's log-rate dropped */
	char		locker[LOCKER_NAME_MAX + 1];
	uint64_t	bytes;
};
struct config;
/* conf: logd's, kept current; report_fd: where drops are counted (the master). */
void	errlog_init(const struct config *conf, int report_fd);
void	errlog_write(const char *locker, const char *text, size_t len);
void	errlog_limits(const char *locker, const uint64_t *own);	/* [LIMIT_N] */
void	errlog_dropped(const char *locker, uint64_t bytes);	/* dropped before logd */
void	errlog_tick(void);
void	errlog_flush(void);	/* at stop */
void	errlog_reopen(void);
uint64_t errlog_size_of(const char *locker);	/* its log-size: its own, or the default */
/* cronlog.c: lines for a locker's cron log, rotated at max_size (0: never). */
void	cronlog_write(const char *locker, const char *text, size_t len, uint64_t max_size);

/* --------------------------------------------------------------- util.c */
int	strlcpy_ok(char *dst, const char *src, size_t dstsz);	/* 0 if it fit */
int	set_nonblock(int fd);
int	set_cloexec(int fd, int on);
uint64_t now_ms(void);		/* CLOCK_MONOTONIC */
int	parse_uint(const char *s, uint64_t max, uint64_t *out);
int	write_all(int fd, const void *buf, size_t len);
int	path_is_under(const char *path, const char *dir);	/* dir itself or below */
/* After the last name's last dot; NULL if there is none or nothing follows. */
const char *path_ext(const char *path);

/* webpath.c: a request's path below web_scripts (the worker's) */
int	web_open(int webroot, const char *home, const char *rel);
int	errno_status(int e);			/* 403, 404 or 500 */
int	acme_webroot_file(const char *p, size_t len);
int	path_ok(const char *p, size_t len);	/* no dotfile, no "//" */
/* sigs (ended by 0) blocked, and a nonblocking signalfd that reads them; -1 on failure. */
int	signals_fd(const int *sigs);
int	str_is_printable(const char *s);
size_t	hex_escape(char *out, unsigned char ch);	/* \xhh at out, no NUL: 4 */
#define CLOSE_KEEP_MAX	72
int	close_fds_except(int lowfd, const int *keep, int nkeep);	/* 0, or -1 */
int	errno_fail(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* An address and prefix length (proxy-from); IPv4 kept as IPv4-mapped IPv6. */
struct conf_net {
	uint8_t	addr[16];
	uint8_t	bits;		/* of the 128 */
};
/* "ADDR" or "ADDR/BITS", numeric, into n (host bits must be 0): 0, or -1. */
int	net_parse(const char *s, struct conf_net *n);
/* Whether a (16 bytes, IPv4-mapped for IPv4) is in n. */
int	net_match(const struct conf_net *n, const uint8_t a[16]);
/* n back as text (IPv4 as IPv4). */
void	net_format(const struct conf_net *n, char *out, size_t outsz);

/* ------------------------------------------------------------- config.c */
#define CONF_MAX_LISTEN		16
#define CONF_MAX_HOSTNAMES	16
#define CONF_MAX_EXT		128
#define CONF_EXT_LEN		16
#define CONF_MAX_INDEX		16
#define CONF_INDEX_LEN		64
#define CONF_USER_LEN		32
#define CONF_MAX_INTERP		32
#define CONF_URL_LEN		256

struct listen_addr {
	char	host[64];	/* numeric IPv4 or IPv6 */
	char	port[8];
	int	family;
	int	flags;		/* LISTEN_* */
};
#define LISTEN_TLS	0x1	/* `listen ADDR:PORT tls` */
#define LISTEN_VERIFY	0x2	/* ... verify-client: asks for a client certificate */
#define LISTEN_PROXY	0x4	/* ... proxy: a PROXY v1/v2 header first (proxyproto.h) */
#define CONF_MAX_PROXY_FROM	8

/* TLS: certificates from files, and the files TLS reads (a config line's). */
#define CONF_MAX_CERTS		16
#define CONF_TLS_PATH		256
#define TLS_PROTO_12		0x1
#define TLS_PROTO_13		0x2
struct conf_cert {
	char	host[HOSTNAME_MAX + 1];	/* a name, or *.DOMAIN */
	char	crt[CONF_TLS_PATH];	/* the chain, leaf first (PEM) */
	char	key[CONF_TLS_PATH];	/* its private key (PEM) */
};

/*
 * The configuration travels between processes as this struct, copied
 * byte for byte (every process is the same binary), so it holds no
 * pointers: only fixed arrays.
 */
#define CONF_MAX_LMTP_DOMAINS	4
/*
 * A path in the configuration: a quarter of PATH_MAX, because struct config
 * travels whole in one message (the spawner's MSG_SPAWN, under 64 KiB).
 */
#define CONF_PATH_MAX	(PATH_MAX / 4)

struct config {
	char		path[CONF_PATH_MAX];		/* the file it came from */
	struct listen_addr listen[CONF_MAX_LISTEN];
	int		nlisten;
	struct conf_net	proxy_from[CONF_MAX_PROXY_FROM];	/* whose PROXY header is believed */
	int		nproxy_from;
	char		domain[HOSTNAME_MAX + 1];
	char		hostnames[CONF_MAX_HOSTNAMES][HOSTNAME_MAX + 1];
	int		nhostnames;
	char		lockers[CONF_PATH_MAX];
	char		state[CONF_PATH_MAX];
	char		logs[CONF_PATH_MAX];
	uint32_t	uid_low, uid_high;
	char		front_user[CONF_USER_LEN];
	char		log_user[CONF_USER_LEN];
	char		key_user[CONF_USER_LEN];	/* keyd's (and the ACME client's) */
	char		tls_dir[CONF_PATH_MAX];	/* the keys and certificates: keyd's root */
	char		node[64];		/* this machine's name in a fleet */
	int		front_processes;	/* 0 = auto */
	int		nfronts;		/* how many run: set by the master */
	char		static_ext[CONF_MAX_EXT][CONF_EXT_LEN];
	int		nstatic_ext;
	struct interpreter {
		char	ext[CONF_EXT_LEN];
		char	path[128];	/* "" : executed directly (or by its #! line) */
		int	fastcgi;
	}		interp[CONF_MAX_INTERP];
	int		ninterp;
	uint32_t	script_timeout;		/* seconds of wall clock per script */
	uint32_t	script_cpu;		/* RLIMIT_CPU seconds per script */
	uint32_t	max_scripts;		/* running at once, per locker */
	uint32_t	php_max_processes;	/* a PHP pool's most (and max_scripts) */
	uint32_t	php_idle_timeout;	/* seconds a pool's spare process lives */
	uint32_t	php_max_requests;	/* a PHP process's requests, then a new one */
	int		php_zygote;		/* PHP processes forked from the zygote */
	char		index[CONF_MAX_INDEX][CONF_INDEX_LEN];
	int		nindex;
	char		charset[32];
	uint32_t	worker_idle_timeout;	/* seconds */
	uint32_t	worker_timeout;		/* seconds a worker may take to answer */
	uint32_t	file_cache_valid;	/* seconds front may reuse a worker's fd */
	uint32_t	max_request_line;
	uint32_t	max_header_size;
	uint32_t	max_headers;
	uint64_t	max_body_size;
	uint32_t	header_timeout;
	uint32_t	body_timeout;
	uint32_t	body_total_timeout;
	uint32_t	keepalive_timeout;
	uint32_t	send_timeout;
	uint32_t	keepalive_requests;
	uint32_t	max_connections;	/* per front process */
	uint32_t	shutdown_timeout;
	uint32_t	drain_time;		/* SIGTERM: seconds of 503 health first */
	uint32_t	control_timeout;	/* seconds a control client may stay silent */
	uint32_t	dns_timeout;		/* seconds a vhost proof waits for the DNS */
	int		self_signup;		/* users may sign up their own locker */
	int		group_signup;		/* GROUP_SIGNUP_* */
	char		group_signup_group[CONF_USER_LEN];	/* GROUP_SIGNUP_GROUP */
	uint32_t	max_group_lockers;	/* group lockers one login user signed up; 0: any */
	uint32_t	change_rate;		/* changes a login user may make a minute; 0: any */
	uint32_t	change_burst;		/* ... and at once, after a quiet while */
	uint32_t	max_workers;		/* warm workers machine-wide; 0: no cap */
	uint32_t	max_worker_starts;	/* workers starting at once (startq.c) */
	uint32_t	worker_start_queue;	/* asks queued past that */
	uint32_t	worker_start_wait;	/* seconds one may wait there */
	/* Limits of each locker (sandbox.c, cgroup.c); 0: none. */
	uint64_t	memory_limit;		/* bytes, the locker's cgroup */
	uint32_t	process_limit;		/* processes and threads (pids, NPROC) */
	uint32_t	cpu_shares;		/* cgroup cpu.shares (v2: weight) */
	uint32_t	io_weight;		/* blkio BFQ weight, where there is BFQ */
	uint32_t	open_files_limit;	/* RLIMIT_NOFILE */
	uint64_t	file_size_limit;	/* RLIMIT_FSIZE */
	int		disk_quota;		/* DISK_QUOTA_*: how disk-limit is kept */
	uint64_t	disk_limit;		/* bytes in a locker's home; 0: none */
	int		locker_network;		/* LOCKER_NET_*: netns.c */
	uint64_t	log_rate;		/* bytes/s into a locker's error log; 0: none */
	uint64_t	log_size;		/* logd rotates a locker's error log past it */
	/* acme-dns-update: where DNS-01's TXT records go (dns01.c); no
	 * server ("") when not configured.  The secret's file name only: the
	 * secret itself never enters this struct, which every process has. */
	struct acme_dns_update {
		struct listen_addr server;
		char	zone[HOSTNAME_MAX + 1];
		char	keyname[HOSTNAME_MAX + 1];
		int	alg;			/* TSIG_HMAC_* */
		char	secret_file[PATH_MAX / 2];
	}		acme_dns;
	struct listen_addr acme_resolver;	/* host "": the system's (resolv.conf) */
	/* Hesiod's records of every locker, published by RFC 2136 (hesiod.h). */
	struct hesiod_conf {
		struct listen_addr server;	/* host "": not published */
		char	zone[HOSTNAME_MAX + 1];	/* the RHS: the zone updated */
		char	lhs[32];		/* ".ns", or "none" */
		char	keyname[HOSTNAME_MAX + 1];
		int	alg;			/* TSIG_HMAC_* */
		char	secret_file[CONF_PATH_MAX];
		char	filsys[256];		/* template; "": NFS LOCKERS/%s DOMAIN w /mit/%s */
		uint32_t retry;			/* seconds between tries after a failure */
	}		hesiod;
	int		https_only;		/* for names without their own choice */
	uint32_t	hsts_max_age;		/* seconds; 0: no Strict-Transport-Security */
	/* ACME (acme.c, acme_master.c). */
	char		acme_ca[CONF_URL_LEN];	/* directory URL; "": no ACME */
	char		acme_ca_fallback[CONF_URL_LEN];
	char		acme_ca_bundle[CONF_PATH_MAX];	/* roots for the CA's own HTTPS */
	char		acme_email[CONF_URL_LEN];
	int		acme_challenge;		/* ACME_CHAL_* */
	int		acme_key_type;		/* ACME_KEY_* */
	uint32_t	acme_names_per_week;	/* new vhost names a locker may have issued */
	uint32_t	acme_orders_per_3h;	/* account-wide, below the CA's own */
	uint32_t	acme_retry;		/* first backoff, seconds */
	uint32_t	acme_fallback_after;	/* failures at the first CA before the second */
	/* TLS (certs.c, tls.c) */
	struct conf_cert certs[CONF_MAX_CERTS];
	int		ncerts;
	int		tls_protocols;		/* TLS_PROTO_* */
	char		tls_ciphers[512];	/* TLS 1.2's, OpenSSL's syntax */
	char		tls_ciphersuites[256];	/* TLS 1.3's */
	uint32_t	tls_handshake_timeout;	/* seconds */
	uint32_t	tls_rescan;		/* seconds; 0: tls-dir only at SIGHUP */
	uint32_t	tls_max_handshakes;	/* in progress, per front process */
	int		http2;			/* ALPN offers h2 on TLS listeners */
	uint32_t	http2_max_streams;	/* SETTINGS_MAX_CONCURRENT_STREAMS */
	uint32_t	http2_max_resets;	/* per connection per H2_WINDOW_MS */
	uint32_t	http2_max_control;	/* per connection per H2_WINDOW_MS */
	uint32_t	http2_max_header_frames;	/* of one header block */
	char		tls_client_ca[CONF_TLS_PATH];	/* "" : none */
	uint32_t	tls_ticket_lifetime;	/* seconds a ticket key encrypts */
	/* The SQL service (sql.h, sqld.c, sql_master.c).  The credentials'
	 * file name only: the admin password never enters this struct. */
	struct sql_conf {
		int	kind;			/* SQL_NONE, SQL_MARIADB */
		char	socket[PATH_MAX / 4];	/* "": TCP to addr */
		struct listen_addr addr;
		char	creds_file[PATH_MAX / 4];
	}		sql;
	char		sql_user[CONF_USER_LEN];	/* sqld's */
	uint32_t	sql_timeout;		/* seconds a request to MariaDB may take */
	uint32_t	sql_max_user_connections;
	uint32_t	sql_max_connections_per_hour;
	uint32_t	sql_max_queries_per_hour;
	uint32_t	sql_max_updates_per_hour;
	uint32_t	sql_max_statement_time;	/* seconds */
	uint32_t	sql_tcp_port;		/* forwarded into private netns; 0 none */
	/* Outgoing mail (mail.h): the relay (host[0] == '\0': none). */
	struct listen_addr mail_relay;
	char		mail_domain[HOSTNAME_MAX + 1];	/* "": domain */
	char		mail_user[CONF_USER_LEN];	/* the mail role's */
	uint64_t	mail_max_size;
	uint32_t	mail_per_hour;		/* messages a locker may send an hour; 0: any */
	uint32_t	mail_timeout;		/* seconds, each step of SMTP */
	/* No directive: lockerd-sendmail beside lockerd, found by the master
	 * (mail_master.c) for the jails to bind at /usr/sbin/sendmail. */
	char		mail_client[PATH_MAX / 4];
	uint32_t	sql_size_interval;	/* seconds between sqld's measures (sqlsize.c) */
	/* Cron scripts (cron.c): a minute of the scheduler's clock (60 s; the
	 * tests make it shorter), and a job's wall-clock limit. */
	uint32_t	cron_minute;		/* seconds */
	uint32_t	cron_job_timeout;	/* seconds */
	uint32_t	cron_max_tasks;		/* jobs and compiles at once, machine-wide */
	/* Incoming mail (mailin.h, maild.c, mailin_master.c): "" is none. */
	char		mail_lmtp[108];		/* the LMTP socket Postfix delivers to (sun_path) */
	char		mail_lmtp_domains[CONF_MAX_LMTP_DOMAINS][HOSTNAME_MAX + 1];
	int		nmail_lmtp_domains;		/* 0: the service's domain */
	char		mail_lmtp_user[CONF_USER_LEN];	/* maild's */
	uint32_t	mail_program_timeout;		/* seconds a mail program may run */
	/* The fleet directory (dirsync.h, dir_master.c): DIRECTORY_SQLITE, or
	 * DIRECTORY_POSTGRES with the root-only file of its libpq conninfo
	 * (the file's name only: its password never enters this struct). */
	int		directory;
	char		directory_conninfo[128];	/* its path (PATH_MAX would not fit msg_spawn) */
	uint32_t	directory_timeout;		/* seconds a change waits for PostgreSQL */
	char		dir_user[CONF_USER_LEN];	/* lockerd-dirsync's */
	uint64_t	mail_lmtp_max_size;		/* bytes of one message */
	uint32_t	mail_lmtp_max_recipients;	/* of one LMTP transaction */
	uint32_t	mail_lmtp_timeout;	/* seconds an LMTP client may be silent */
	/* Autoinstallers (issue 16, app_master.h): where an administrator
	 * unpacks releases (DIR/APP/VERSION/, may be missing), shown read-only
	 * in every jail at that path; mass upgrades at once. */
	char		app_releases[256];
	uint32_t	app_upgrade_parallel;
	/* No directive: lockerd-app beside lockerd, found by the master
	 * (app_master.c) for the jails to bind at APP_JAIL_PROG; "" when
	 * APP_JAIL_PROG itself is the one to run (installed there). */
	char		app_prog[256];
};
#define DIRECTORY_SQLITE	0
#define DIRECTORY_POSTGRES	1
#define SQL_NONE		0
#define SQL_MARIADB		1
#define TSIG_HMAC_SHA256	1
#define TSIG_HMAC_SHA512	2
#define ACME_CHAL_HTTP01	1
#define ACME_CHAL_TLSALPN01	2
#define ACME_KEY_ECDSA		1
#define ACME_KEY_RSA		2
#define ACME_KEY_BOTH		3
/* logd keeps this many old error logs of a locker (error.log.1, .2). */
#define LOG_GENERATIONS		2
/* A locker's log budget may burst to this many seconds of log-rate. */
#define LOG_BURST_SECONDS	4
#define DISK_QUOTA_NONE		0
#define DISK_QUOTA_BTRFS	1	/* each home a subvolume with a qgroup limit */
#define DISK_QUOTA_IMAGE	2	/* each home an ext4 image on a loop device */
#define LOCKER_NET_PRIVATE	1	/* a network namespace per locker, with pasta */
#define LOCKER_NET_HOST		2	/* the host's network stack (the default) */
#define PASTA_PATH		"/usr/bin/pasta"
#define GROUP_SIGNUP_NO		0
#define GROUP_SIGNUP_YES	1	/* any login user */
#define GROUP_SIGNUP_GROUP	2	/* members of group_signup_group */

/* Whether any listener is `listen ... tls`. */
int	config_has_tls(const struct config *c);
/* locker-network in effect: 1 for a network namespace per locker. */
int	config_locker_netns(const struct config *c);
/* Fills in every default, then reads path.  On error, err holds "file:line: what". */
int	config_load(struct config *c, const char *path, char *err, size_t errlen);
/* Parse from memory (for tests and the fuzzer); name is used in messages. */
/* A node's name (the node key, locker node drain): a host name's first label. */
int	node_name_ok(const char *n);
int	config_parse(struct config *c, const char *name, const char *text, size_t len,
	    char *err, size_t errlen);
void	config_defaults(struct config *c);	/* every row's default text, parsed */
/* Cross-directive checks (dirs not nested, range sane, ...). */
int	config_validate(const struct config *c, char *err, size_t errlen);
/* The line of c's file where the nth (from 0) line of directive is; 0: none.
 * (Lines are not kept in struct config: the dump's round trip would differ.) */
int	config_line_of(const struct config *c, const char *directive, int nth);
/* Print every directive with its current value (lockerd -t -v). */
void	config_dump(const struct config *c, int fd);
/* "FILE:LINE" of where the last file parsed gave directive name (its
 * first line), or the file alone: for checks made after parsing. */
const char *config_where(const char *name);
char	*config_text(const struct config *c);	/* the same, malloc'd */
/* Whether files named *.ext are served as they are (static-extensions). */
int	config_static_ext(const struct config *c, const char *ext);
/* The i-th directive of config.c's table (NULL past the last), its default
 * as the file would say it, and its flags: */
#define CONF_RESTART	0x01	/* SIGHUP keeps the running value */
#define CONF_LOCKER	0x02	/* a locker may have its own (`locker limit`) */
#define CONF_FRONT	0x04	/* ... which front applies itself (msg_worker) */
#define CONF_LOGD	0x08	/* ... which logd applies itself (msg_log_limits) */
#define CONF_REPEAT	0x10	/* may be given on several lines (the first
				 * replaces the default); else once, one argument */
const char *config_key(size_t i, const char **dflt, unsigned *flags);
/* SIGHUP: nc keeps old's value of every CONF_RESTART directive; returns how
 * many nc had changed, named in changed. */
int	config_keep_restart_only(struct config *nc, const struct config *old,
	    char *changed, size_t len);

/*
 * The directives a locker may have its own value of (`locker limit`; each
 * is a CONF_LOCKER row of config.c's table, which names it), in the order
 * `locker info` lists them.  A locker's own values travel as an array
 * own[LIMIT_N] of numbers (bytes, seconds, counts), LIMIT_DEFAULT where
 * the configuration's value holds.
 */
enum limit {
	LIMIT_MEMORY, LIMIT_PROCESS, LIMIT_CPU_SHARES, LIMIT_IO_WEIGHT,
	LIMIT_OPEN_FILES, LIMIT_FILE_SIZE, LIMIT_SCRIPT_TIMEOUT, LIMIT_SCRIPT_CPU,
	LIMIT_MAX_SCRIPTS, LIMIT_DISK, LIMIT_LOG_RATE, LIMIT_LOG_SIZE,
	LIMIT_ACME_NAMES, LIMIT_PHP_PROCESSES, LIMIT_PHP_IDLE, LIMIT_PHP_MAX_REQUESTS,
	LIMIT_MAIL_PER_HOUR,
	LIMIT_CRON_TIMEOUT,
	LIMIT_MAIL_PROGRAM_TIMEOUT,
	LIMIT_N
};
#define LIMIT_DEFAULT	UINT64_MAX
/* master -> logd (MSG_LOG_LIMITS): a locker's own log-rate and log-size. */
struct msg_log_limits {
	char		locker[LOCKER_NAME_MAX + 1];
	uint64_t	own[LIMIT_N];	/* its CONF_LOGD ones; LIMIT_DEFAULT the rest */
};
const char *config_limit_name(enum limit k);		/* its directive's name */
int	config_limit_key(const char *name);		/* its enum limit, or -1 */
char	config_limit_unit(enum limit k);		/* 'b'ytes, 's'econds or 0 */
/* text as the file would take it for key, with its bounds ("none": 0;
 * "default": LIMIT_DEFAULT); 0, or -1 with err saying why ("... is not a
 * limit ..." for a key that is not one). */
int	config_limit_parse(const char *key, const char *text, uint64_t *out,
	    char *err, size_t errlen);
uint64_t config_limit_get(const struct config *c, enum limit k);
void	config_limit_set(struct config *c, enum limit k, uint64_t value);	/* <= max */
/* A locker's value: own[k], or c's where that is LIMIT_DEFAULT. */
uint64_t config_limit_of(const struct config *c, const uint64_t *own, enum limit k);
void	config_limits_apply(struct config *c, const uint64_t *own);	/* c as it sees it */
/* Of own, the values of the directives flagged flag (held to their bounds);
 * LIMIT_DEFAULT the rest: what front (CONF_FRONT) or logd (CONF_LOGD) gets. */
void	config_limits_only(const uint64_t *own, unsigned flag, uint64_t *out);

/* ---------------------------------------------------- message payloads */
/* The messages, their framing and who may send which to whom: msg.h. */

/* MSG_TLS_CERT: a file for front's next certificate set (certs.c, tls.c). */
struct msg_tls_cert {
	uint32_t	key_id;		/* the key process's name for its key */
	uint32_t	flags;		/* TLSC_* */
	char		host[HOSTNAME_MAX + 1];	/* NUL-terminated: a name or *.DOMAIN */
};
#define TLSC_CHAIN	0x1	/* fd: the chain (PEM, leaf first) of host's key_id */
#define TLSC_CLIENT_CA	0x2	/* fd: tls-client-ca's bundle (PEM) */

/* MSG_TLS_TICKETS: the session-ticket keys, current first (tickets.c). */
#define TLS_TICKET_KEYS	2
struct msg_tls_tickets {
	struct tls_ticket_key {
		uint8_t	name[16];
		uint8_t	aes[32];	/* AES-256-CBC */
		uint8_t	hmac[32];	/* HMAC-SHA256 */
	}		key[TLS_TICKET_KEYS];
	uint32_t	n;		/* how many of key[] are set */
};
struct msg_worker {
	char		locker[LOCKER_NAME_MAX + 1];
	int32_t		status;	/* in MSG_WORKER_CHAN: 0 ok, else an HTTP status to answer */
	/* From the master: the locker's own values of the directives front
	 * applies itself (CONF_FRONT: how long it waits for a script, its
	 * share of the PHP pool, its PHP errors' budget); LIMIT_DEFAULT
	 * elsewhere, and where the configuration's value holds. */
	uint64_t	own[LIMIT_N];
};

/*
 * Requests served and errors, counted by front (stats.c) and sent to the
 * master as increments since the last report: for the front process as a
 * whole, then for each locker that had requests.
 */
struct msg_stats {
	uint64_t	requests, errors_4xx, errors_5xx;
	uint32_t	nlockers;
	uint32_t	route_gen;	/* of the routing table they were counted under */
};
struct msg_stats_locker {
	char		locker[LOCKER_NAME_MAX + 1];
	uint32_t	requests, errors_4xx, errors_5xx;
};
#define STATS_MAX_LOCKERS	512	/* per message: (64k - header) / entry */
#define STATS_EVERY_MS		250	/* front reports at most this often */

struct msg_worker_init {
	char		locker[LOCKER_NAME_MAX + 1];
	char		home[PATH_MAX];
	uint32_t	uid, gid;
};

/*
 * front <-> worker.  A request carries what a CGI script's environment is
 * made of; the strings follow the struct, in field order, without NULs.
 * The worker checks that the lengths add up to the message.
 */
enum wire_str {
	WS_PATH,	/* below web_scripts, vhost subdir included */
	WS_URL,		/* the normalised URL path the client asked for */
	WS_TARGET,	/* the request-target as sent (REQUEST_URI) */
	WS_QUERY,	/* after '?' */
	WS_HOST,	/* Host, as sent */
	WS_PREFIX,	/* "/~name" or "" */
	WS_METHOD,
	WS_REMOTE,	/* client address */
	WS_LOCAL,	/* our address on this connection */
	WS_HEADERS,	/* "Name: value\n" for every header field */
	WS_TLS,		/* "SSL_NAME=value\n" for the session's (HTTPS only) */
	WS_MAX
};

#define WREQ_BODY	0x1	/* a body follows on the script's socket */
#define WREQ_CONNECT	0x4	/* FastCGI: pass a new connection to the pool */
#define WREQ_SPOOL	0x8	/* no request: make a spool for its body (WIRE_SPOOL) */
#define WREQ_TLS	0x10	/* it came over TLS: HTTPS=on */
#define WREQ_H2		0x20	/* ... as an HTTP/2 stream: SERVER_PROTOCOL=HTTP/2.0 */

struct wire_request {
	uint64_t	id;
	uint8_t		method;		/* enum http_method */
	uint8_t		version_minor;
	uint8_t		flags;		/* WREQ_* */
	uint8_t		pad;
	uint16_t	remote_port, local_port;
	int64_t		content_length;	/* -1: none or chunked */
	uint32_t	len[WS_MAX];	/* of each string, in order */
};

enum wire_kind {
	WIRE_FILE = 1,		/* fd: a regular file to send */
	WIRE_STATUS,		/* an error page of `status` */
	WIRE_SLASH,		/* a directory without a trailing slash: 301 */
	WIRE_CGI,		/* fd: a stream socket to a running script */
	WIRE_CGI_NPH,		/* the same, for an nph- script */
	WIRE_FCGI,		/* a FastCGI script: struct wire_script follows; fd: a new
				   connection to the locker's pool, if front asked for one */
	WIRE_SPOOL,		/* fd: an empty unlinked file in the locker's /tmp, for
				   front to hold a large request body in (body.c) */
};

/*
 * How the worker resolved a FastCGI script, for front to build its
 * environment (and to reuse for a while): the strings follow the struct,
 * in order, without NULs.
 */
/* WSC_URL, WSC_QUERY: a .htaccess rewrite's URL path and query for the
 * script's environment, both empty when nothing was rewritten; WSC_ENV:
 * what a .htaccess set (SetEnv, SetEnvIf, E=), "NAME=value\n" lines;
 * WSC_POOL: which of the locker's pools of that interpreter, "" or the tag
 * of a .htaccess's PHP settings (phpini.c), at most WSC_POOL_MAX hex digits;
 * WSC_VARY: the request headers E= took values from ("name\n" each,
 * lower case), which front compares before it reuses the answer. */
enum wire_script_str { WSC_DOCROOT, WSC_REL, WSC_PATH_INFO, WSC_INDEX, WSC_URL, WSC_QUERY,
	WSC_ENV, WSC_POOL, WSC_VARY, WSC_MAX };
#define WSC_POOL_MAX	16

/*
 * Front to a worker, of one pool (by extension and tag, as front keys
 * them): MSG_FCGI_ASK, a connection for request id of a script front
 * resolved before (answered by a MSG_RESPONSE of that id: WIRE_STATUS 200
 * with the connection, 404 when the worker has no such pool, or another
 * error); MSG_FCGI_DONE, how many connections to it front closed since it
 * last said (ext "": to any of the worker's).
 */
struct msg_fcgi {
	char		ext[CONF_EXT_LEN];
	char		pool[WSC_POOL_MAX + 1];	/* "" or a .htaccess's settings' tag */
	uint32_t	flags;		/* none yet: 0 */
	uint32_t	requests;	/* DONE: connections closed */
	uint64_t	id;		/* ASK: the request's */
};

struct wire_script {
	uint32_t	len[WSC_MAX];
	uint32_t	has_index;	/* a directory's index file ran */
};

/*
 * hlen bytes of extra response fields follow the struct ("Name: value\r\n"
 * each: a .htaccess's Header and Expires, a 401's WWW-Authenticate, a
 * redirect's Location), then olen bytes of Header operations for front to
 * apply to the fields it and a script write (wire_hop_put()), then a
 * WIRE_FCGI's struct wire_script.
 *
 * status: 200, or for WIRE_FILE, WIRE_CGI, WIRE_CGI_NPH and WIRE_FCGI an
 * error status (400..599) whose ErrorDocument the file or script is: the
 * file is sent with it, a script's head without a Status field takes it.
 * Such an answer is WRESP_NOCACHE, always: an error page is never kept as
 * the path's answer.
 */
#define WRESP_NOCACHE	0x1	/* decided by more than the path (or under a .htaccess
				   not watched): front keeps neither the file nor the
				   resolution */
#define WRESP_WATCHED	0x2	/* every directory the decision looked at is watched
				   (MSG_WATCH): front keeps it while its watch is quiet */
/* FileETag: which parts of front's fstat the ETag is made of (none: no
 * ETag at all); 0 is Apache's default, MTime Size. */
#define WRESP_ETAG_INODE	0x4
#define WRESP_ETAG_NOMTIME	0x8
#define WRESP_ETAG_NOSIZE	0x10
#define WRESP_ETAG_MASK		(WRESP_ETAG_INODE | WRESP_ETAG_NOMTIME | WRESP_ETAG_NOSIZE)
#define WIRE_HDR_MAX	4096	/* bytes of extra fields */
#define WIRE_OPS_MAX	2048	/* bytes of Header operations */
struct wire_response {
	uint64_t	id;
	uint16_t	kind;		/* enum wire_kind */
	uint16_t	status;
	uint16_t	flags;		/* WRESP_* */
	uint16_t	hlen;		/* <= WIRE_HDR_MAX */
	uint16_t	olen;		/* <= WIRE_OPS_MAX */
	uint16_t	pad[3];
	char		content_type[128];	/* NUL-terminated; checked by front */
};

#define WIRE_RESPONSE_MAX	(sizeof(struct wire_response) + WIRE_HDR_MAX + WIRE_OPS_MAX + \
				 sizeof(struct wire_script) + WSC_MAX * PATH_MAX)

/*
 * front <-> keyd (keyd.c, keyop.c, keyclient.c): one private-key operation
 * of a TLS handshake, and its answer.  The input follows the struct (a
 * digest to sign, or an RSA block already padded by OpenSSL).
 */
#define KEY_OP_MAX_IN		1024	/* an RSA block of 8192 bits */
#define KEY_RESULT_MAX		1024
enum key_op_kind {
	KEY_OP_ECDSA_SIGN = 1,	/* a digest -> a DER ECDSA-Sig-Value */
	KEY_OP_RSA_PRIV_ENC,	/* RSA_private_encrypt of the input, padding below */
};
enum key_pad { KEY_PAD_PKCS1 = 1, KEY_PAD_NONE };
struct key_op {
	uint32_t	key_id;
	uint32_t	seq;		/* echoed: a late answer is not taken for the next */
	uint16_t	op;		/* enum key_op_kind */
	uint16_t	pad;		/* enum key_pad (RSA) */
};
enum key_status {
	KEY_OK = 0,
	KEY_ENOKEY,		/* no key of that id (never loaded, or forgotten) */
	KEY_EOP,		/* no such operation, or not for this key's type */
	KEY_ELEN,		/* input of the wrong length for the operation */
	KEY_EFAIL,		/* the operation itself failed */
};
struct key_result {
	uint32_t	seq;
	int32_t		status;		/* enum key_status */
};

/* keyop.c: keyd's keys, by id, and the answer to one operation. */
int	keyop_load(uint32_t key_id, int fd, char *err, size_t errlen);	/* 0 or -1 */
void	keyop_forget_before(uint32_t key_id);
size_t	keyop_count(void);
/* req: a MSG_KEY_OP payload of len bytes (any bytes); out: room for a
 * struct key_result + KEY_RESULT_MAX.  Returns the answer's length. */
size_t	keyop_answer(const void *req, size_t len, void *out);
void	keyop_warm(void);	/* OpenSSL's algorithms fetched before the sandbox */

/* keyd.c: the role.  keyd_loop is its event loop, apart from the sandbox. */
int	keyd_main(void);
int	maild_main(void);	/* maild.c: the LMTP role */
int	keyd_loop(int master);

/* --------------------------------------------------------------- proc.c */
/* Spawning. */
int	exe_open(void);		/* an fd of our own binary, for re-exec */
/*
 * fork, run prepare(ctx) in the child (sandbox entry, for a worker), move
 * chan to fd 3 and extra_fds to 4.., and re-execute our own binary as
 * `lockerd -R role [arg]`.  Returns the child's pid or -1.
 */
pid_t	spawn_role(int exe_fd, const char *role, const char *arg, int chan,
	    const int *extra_fds, int nextra, int (*prepare)(void *), void *ctx);
/* The same, the child created by sandbox_clone() (for a locker's worker). */
pid_t	spawn_role_sandboxed(int exe_fd, const char *role, int chan,
	    int (*prepare)(void *), void *ctx);

/* ---------------------------------------------------------- coldstart.c */
/* A worker's cold start, step by step, with LOCKERD_COLDSTART set only. */
enum cs_step {
	CS_ASK, CS_PREPARED, CS_CLONED, CS_RESET, CS_CGROUP, CS_MOUNTS, CS_PIVOT,
	CS_LANDLOCK, CS_BECOME, CS_SECCOMP, CS_EXEC, CS_INIT, CS_READY, CS_REQUEST,
	CS_N
};
int	cs_enabled(void);
int	cs_force_exec(void);		/* LOCKERD_COLDSTART=exec: no spawner */
void	cs_begin(void);			/* the master, at each worker start */
void	cs_mark(enum cs_step step);
void	cs_env(char *buf, size_t len);	/* the marks so far, for the exec */
void	cs_from_env(void);		/* the worker: those marks back */
void	cs_report(void);		/* the worker, once: its log line */
void	cs_set(enum cs_step step, uint64_t ns);
void	cs_get(uint64_t *ask, uint64_t *prepared);

/* ------------------------------------------------------------- pspawn.c */
/* A program started with posix_spawn (no copy of the caller's page tables):
 * signals reset, stdio from fd[], nothing else open, in dir; its soft CPU
 * limit (seconds, 0: none) set right after.  The pid, or -1 with errno. */
struct pspawn {
	const char	*path;
	char *const	*argv;
	char *const	*envp;
	const char	*dir;		/* NULL: the caller's */
	int		 fd[3];		/* each >= 3 */
	int		 new_pgroup;
	uint64_t	 cpu_soft;
};
pid_t	proc_spawn(const struct pspawn *p);

/* ------------------------------------------------------------- become.c */
/* Every drop of root: no groups, gid, uid, no_new_privs, each checked and
 * then verified; uid or gid 0 refused.  0, or -1 with err. */
int	become(uid_t uid, gid_t gid, char *err, size_t errlen);
/* A role's start: become user (from the passwd file), chrooted first to
 * root_dir unless NULL; fatal on any failure. */
void	drop_privileges(const char *user, const char *root_dir);

/* A child's first step: no signal blocked or ignored; flags below. */
void	child_reset(int flags);
struct sigaction;
void	signals_save(struct sigaction *sa);
void	child_reset_keeping(int flags, const struct sigaction *keep);
#define CHILD_DIE_WITH_PARENT	0x1	/* PR_SET_PDEATHSIG SIGKILL */

/* ------------------------------------------------------------ control.c */
enum ctl_verb {
	CTL_SIGNUP = 1,
	CTL_LIST,
	CTL_INFO,
	CTL_REMOVE,
	CTL_VHOST_ADD,
	CTL_VHOST_REMOVE,
	CTL_VHOST_LIST,
	CTL_RUN,
	CTL_STATUS,
	CTL_RELOAD,
	CTL_ADMIN_ADD,
	CTL_ADMIN_REMOVE,
	CTL_ADMIN_LIST,
	CTL_SU,
	CTL_LOGS,
	CTL_QUOTA,		/* argv: SIZE|none|default */
	CTL_LIMIT,		/* argv: KEY, VALUE|none|default */
	CTL_AUDIT,
	CTL_VHOST_VERIFY,	/* name, host: a pending claim proved in the DNS */
	CTL_CERT_LIST,
	CTL_CERT_STATUS,	/* host */
	CTL_SQL_SIGNUP,		/* the SQL service (ctl_sql.c); argv: [DB] */
	CTL_SQL_CREATE,
	CTL_SQL_DROP,
	CTL_SQL_LIST,
	CTL_SQL_PASSWORD,
	CTL_SQL_DUMP,
	CTL_MAIL_STATUS,	/* outgoing mail (ctl_mail.c) */
	CTL_MAIL_BLOCK,
	CTL_MAIL_UNBLOCK,
	CTL_MAIL_TEST,		/* argv: ADDRESS */
	CTL_MAIL_NO_PROGRAM,	/* argv: bounce|discard (incoming mail, ctl_mail.c) */
	CTL_MAIL_VHOST,		/* host, argv: on|off */
	CTL_CRON_STATUS,	/* cron scripts (ctl_cron.c) */
	CTL_CRON_LIST,
	CTL_CRON_RUN,		/* argv: N, the entry */
	CTL_CRON_LOG,
	CTL_CRON_RELOAD,
	CTL_APP_INSTALL,	/* autoinstallers (ctl_app.c); argv: APP, then KEY=VALUE */
	CTL_APP_INSTALLS,
	CTL_APP_UPGRADE,	/* argv: KEY=VALUE (to=, app= with --all) */
	CTL_APP_ROLLBACK,
	CTL_EXPORT_HESIOD,	/* the zone's Hesiod records (ctl_hesiod.c) */
	CTL_NODE_DRAIN,		/* argv: NODE (ctl_node.c) */
	CTL_NODE_UNDRAIN,
};

#define CTL_F_PURGE	0x1
#define CTL_F_GROUP	0x2	/* signup: a group locker, the caller its first admin */
#define CTL_F_ERROR	0x4	/* logs: the error log */
#define CTL_F_TTY	0x8	/* su: stdio is a terminal (a pty of the CLI's) */
#define CTL_F_FORCE	0x10	/* vhost add (root): take the host from its locker */
#define CTL_F_HTTPS_ONLY 0x20	/* vhost add: plain HTTP redirected to HTTPS, HSTS */
#define CTL_F_PLAIN_OK	0x40	/* vhost add: served over plain HTTP too */
#define CTL_F_DRY_RUN	0x80	/* upgrade: say what would happen, change nothing */
#define CTL_F_RESOLVE	0x100	/* upgrade: finish a conflicted merge */
#define CTL_F_ABORT	0x200	/* upgrade: drop a conflicted merge */
#define CTL_F_OPT_OUT	0x400	/* upgrade: no more upgrades of this install */
#define CTL_F_OPT_IN	0x800	/* upgrade: upgrades again */
#define CTL_F_ALL	0x1000	/* upgrade (root): every install of an app */
#define CTL_F_SYNC	0x2000	/* export hesiod: the role compares the zone and fixes it */
#define CTL_F_JSON	0x4000	/* export hesiod: its output as JSON */

/* First field of every request: a CLI and a lockerd of different builds
 * refuse each other clearly instead of misreading the struct. */
#define CTL_VERSION	0x4c4b0004u	/* "LK", 4 */
#define CTL_USER_MAX	32

#define CTL_MAX_ARGV	32
#define CTL_ARGV_BYTES	4096

struct ctl_request {
	uint32_t	version;		/* CTL_VERSION */
	uint32_t	verb;
	uint32_t	flags;
	char		name[LOCKER_NAME_MAX + 1];
	char		host[HOSTNAME_MAX + 1];
	char		subdir[SUBDIR_MAX + 1];
	char		user[CTL_USER_MAX + 1];	/* admin add/remove: a login name */
	char		term[64];		/* su: $TERM of the caller */
	uint32_t	argc;			/* CTL_RUN, CTL_SU: argv packed, NUL-separated */
	char		argv[CTL_ARGV_BYTES];
};

struct ctl_locker {
	char		name[LOCKER_NAME_MAX + 1];
	uint32_t	uid, gid;
	int64_t		created;
	int32_t		worker_pid;	/* 0 if none running */
	uint32_t	nvhosts;
};

struct ctl_vhost {
	char	host[HOSTNAME_MAX + 1];
	char	locker[LOCKER_NAME_MAX + 1];
	char	subdir[SUBDIR_MAX + 1];
	int32_t	https;		/* ROUTE_HTTPS_*: its own choice */
	int32_t	https_only;	/* what holds, the configuration's default applied */
};

struct ctl_admin {
	char		locker[LOCKER_NAME_MAX + 1];
	char		user[CTL_USER_MAX + 1];	/* "" if the uid has no name any more */
	uint32_t	uid;
	int64_t		added;
};

/* One process in `locker status`. */
struct ctl_proc {
	int32_t		pid;
	char		role[16];		/* master, front, logd, worker, task, process */
	char		comm[16];		/* its name in /proc */
	char		locker[LOCKER_NAME_MAX + 1];
	uint32_t	uid;
	uint32_t	restarts;
	uint64_t	uptime_ms;
	uint64_t	rss_kb;
	uint64_t	cpu_ms;			/* user + system */
	/* front: what this front slot served since the master started;
	 * master: all fronts together.  0 for the others. */
	uint64_t	requests, errors_4xx, errors_5xx;
};

/* One locker's requests and errors in `locker status`. */
struct ctl_stats {
	char		locker[LOCKER_NAME_MAX + 1];
	uint64_t	requests, errors_4xx, errors_5xx;
};

/* A node of the fleet in `locker status` (root's); one machine: itself. */
struct ctl_node {
	char		name[64];
	char		addr[64];
	char		state[16];		/* up | draining | stopped */
	int32_t		load;			/* 1-minute load average x 100 */
	int32_t		drained;		/* an admin asked (locker node drain) */
	int64_t		seen, started;		/* unix time; 0: never */
	int64_t		now;			/* the master's clock, for "3 s ago" */
};

/* cli_node.c: a node's line of `locker status` (nprocs, nstats: what came before). */
void	cli_print_node(const struct ctl_node *n, int json, int first, int nprocs, int nstats);

/* One row of the audit trail (`locker audit`). */
struct ctl_audit {
	int64_t		id;
	int64_t		at;			/* unix time */
	uint32_t	uid;			/* who: 0 root */
	char		user[CTL_USER_MAX + 1];	/* their login name, "" if none */
	char		action[33];
	char		locker[LOCKER_NAME_MAX + 1];
	char		detail[256];		/* cut to fit */
};

/* One certificate in `locker cert list|status` (acme_master.c's state). */
struct ctl_cert {
	char		host[HOSTNAME_MAX + 1];
	char		locker[LOCKER_NAME_MAX + 1];	/* "" for the service's names */
	char		source[8];		/* "acme" or "file" */
	char		state[16];		/* acme_state_name() */
	uint8_t		renew_failed;
	int64_t		not_after;		/* 0: none yet */
	int64_t		next_renewal;		/* or next try */
	char		issuer[128];
	char		error[256];
};

/* cli_cert.c: the CLI's printing of them (first: the first one). */
void	cli_print_cert(const struct ctl_cert *c, int json, int first);
void	cli_cert_end(int json, int n);
void	json_str(const char *s);	/* locker.c: s as a JSON string, to stdout */
void	cli_when(char *out, size_t outsz, int64_t t);	/* locker.c: UTC time, "-" */

/* One limit of a locker in `locker info`, with what it uses of it now. */
struct ctl_limit {
	char		key[33];		/* config_limit_name() of an enum limit */
	uint8_t		is_override;		/* the locker's own, not the default */
	uint8_t		pad[6];
	uint64_t	value;			/* bytes, seconds or a count; 0: none */
	int64_t		use;			/* -1: not measured; cpu-shares: CPU ms */
	/* disk-limit only: use = files + databases (sql_limit.c) */
	int64_t		files;			/* -1: not measured */
	int64_t		databases;		/* -1: no SQL service, or not measured yet */
	uint32_t	sql_cut;		/* its database writes are withdrawn */
	uint32_t	pad2;
};

struct ctl_log {
	char		locker[LOCKER_NAME_MAX + 1];
	char		which[16];		/* "access" or "error" */
};

struct ctl_done {
	int32_t		code;		/* exit status for the CLI */
	char		message[512];	/* error text, or empty */
};

/* ----------------------------------------------------------- roles */
int	front_main(int idx);
int	logd_main(void);
int	worker_main(void);

/* ------------------------------------------------------------- script.c */
/* A request's strings, checked against the message they came in. */
struct wire_view {
	const char	*s[WS_MAX];
	size_t		 l[WS_MAX];
};

struct script_req {
	const struct config		*conf;
	const struct wire_request	*q;
	const struct wire_view		*view;
	const struct interpreter	*interp;
	const char			*filename;	/* absolute path of the script */
	const char			*docroot;	/* the locker's web_scripts */
	const char			*path_info;	/* "" or "/more/of/the/path" */
	const char			*index_name;	/* the index file a directory ran, or NULL */
	const char *const		*php_d;		/* a .htaccess's php_value/php_flag as
							   "name=value", for php-cgi's -d */
	int				 nphp_d;
	const char			*pool_tag;	/* "" or NULL: the interpreter's pool;
							   else the pool of php_d (phpini.c) */
	const char			*ht_env;	/* a .htaccess's variables, "NAME=value\n"
							   lines (checked again here); NULL: none */
	size_t				 ht_env_len;
};

const struct interpreter *script_interp(const struct config *c, const char *ext);
int	script_start(const struct script_req *s);	/* front's socket end, or -status */
/* One PHP process of a pool listening on lfd (its stdin), its stderr to
 * the locker's log: its pid, or -1.  The one place a PHP process starts. */
pid_t	script_php_spawn(const struct script_req *s, int lfd, unsigned max_requests);
/* A signal to a PHP process of a pool (SIGKILL: its process group). */
void	script_php_kill(pid_t pid, int sig);
/* php-cgi's argv[0] and lockerd's -d settings (a .htaccess's first); the count. */
int	script_php_args(const struct config *c, const char *path, const char *const *php_d,
	    int nphp_d, char **argv);
/* A pool's most processes: php-max-processes, never over max-scripts. */
unsigned php_pool_cap(unsigned max_scripts, unsigned php_max_processes);
/* phppool.c, in the worker: the locker's PHP pools, sized by demand. */
int	php_pool_room(const struct script_req *s);
int	php_pool_ask(const struct script_req *s, int chan, int want_conn);
int	php_pool_connect(const struct msg_fcgi *m, int chan);
void	php_pool_done(int chan, const struct msg_fcgi *m);
void	php_pool_chan_gone(int chan);
void	php_pool_exited(pid_t pid, int status);
int	php_pool_timeouts(void);
void	php_pools_reconfigure(const struct config *old, const struct config *new);
struct ht_req;
int	php_by_pool(struct script_req *s, const struct ht_req *hr, const char *rel,
	    int webroot);	/* phprun.c */
void	script_kill_all(void);
void	script_set_log(int fd);
void	script_note(const char *text);
int	script_log_lost_tell(void);
int	script_count(void);
void	script_reap(void);
struct pollfd;
int	script_pollfds(struct pollfd *p, int max, int *first);
void	script_events(const struct pollfd *p, int n);
int	script_timeouts(void);

/* --------------------------------------------------------------- jail.c */
/*
 * The jail's file-system view, one row per directory: how the jail gets it
 * (kind, for sandbox.c's mounts and config.c's clash check) and what a
 * locker may do below it (access, for landlock.c's rules).
 */
enum jail_kind {
	JAIL_LISTED = 1,	/* "/": its names may be listed, no more */
	JAIL_SYSTEM,		/* the host's, bound (or the same symlink), read-only */
	JAIL_ETC,		/* the same, with secrets hidden and passwd made */
	JAIL_HOME,		/* the locker's home at its path (path NULL here) */
	JAIL_TMP,		/* the home's tmp/, else a tmpfs */
	JAIL_TMP_LINK,		/* a symlink to the JAIL_TMP row, unless in the home's path */
	JAIL_DEV,		/* a tmpfs of a few device nodes, and a devpts */
	JAIL_SHM,		/* a tmpfs for shared memory */
	JAIL_PROC,		/* the pid namespace's own */
	JAIL_ABSENT,		/* not in the jail; no lockerd directory may hold it */
	JAIL_SQL,		/* the SQL socket's directory (sql mariadb SOCKET), read-only */
	JAIL_MAIL,		/* the sendmail socket's directory (mail-relay), read-only */
	JAIL_SENDMAIL,		/* a file of the system's, lockerd's sendmail bound over it */
	JAIL_APP,		/* a file of the system's, lockerd-app bound over it */
	JAIL_RELEASES,		/* app-releases, bound read-only at its path (path NULL here) */
};
/* What a locker may do below a row (landlock.c maps each to its bits). */
#define JA_LIST		0x01	/* list directories */
#define JA_READ		0x02	/* read files, list directories */
#define JA_EXEC		0x04	/* execute files */
#define JA_WRITE	0x08	/* write files */
#define JA_TRUNCATE	0x10	/* truncate files */
#define JA_IOCTL	0x20	/* ioctl on device files */
#define JA_CHANGE	0x40	/* make, remove, rename (no device nodes) */
struct jail_dir {
	const char	*path;
	enum jail_kind	 kind;
	unsigned	 access;
};
extern const struct jail_dir jail_view[];
extern const size_t jail_view_n;
/* Where every jail shows lockerd-app (app.h says the same: the program's
 * side); a file of the system's that the jail binds ours over. */
#define APP_JAIL_PROG	"/usr/lib/lockerd/lockerd-app"
/* app-releases (c) may be shown in every jail: NULL, or why not. */
const char *jail_releases_clash(const struct config *c);
const char *jail_dir_path(const struct jail_dir *j, const char *home);
/* A directory of lockerd's that would hold one the jail shows or builds
 * (below_too: or lie below one); one below the jail's /tmp. */
int	jail_system_clash(const char *dir, int below_too);
int	jail_tmp_clash(const char *dir);

/* ------------------------------------------------------------ sandbox.c */
struct sandbox_spec {
	const struct config	*conf;
	const char		*locker;
	const char		*home;
	uint32_t		 uid, gid;
	int			 keep_fds;	/* 3 .. 3+keep_fds-1 survive exec */
	/* NULL: sandbox_enter() joins the locker's cgroups itself.  Else the
	 * spawner moves the process into them while the jail is built, and
	 * this waits for its word before the uid changes: 0, or -1 (err). */
	int			(*cgroups_joined)(char *err, size_t errlen);
};
#define SANDBOX_CLONE_FLAGS	(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)
/* Master, at start: what the kernel offers (logged), the seccomp filter. */
int	sandbox_init(const struct config *c);
/* The spawner, at start: the same, quietly (the master said it all). */
int	sandbox_init_spawner(void);
/*
 * spawner.c: workers started by a small process that clones them without
 * an exec each.  The role; and the master's side: spawner_spawn() is the
 * worker's pid (the master's child), 0 (asked, failed) or -1 (no spawner).
 */
struct msg_spawn {		/* master -> spawner, fd = the worker's channel */
	struct config	conf;		/* the locker's */
	char		locker[LOCKER_NAME_MAX + 1];
	char		home[PATH_MAX];
	uint32_t	uid, gid;
	uint64_t	cs_ask, cs_prepared;	/* coldstart.c's marks, or 0 */
};
struct msg_spawned {		/* spawner -> master */
	int32_t		pid;		/* 0: none (err) */
	int32_t		err;
};
struct msg_spare_join {		/* master -> spawner: its spare, handed an ask */
	char		locker[LOCKER_NAME_MAX + 1];
	char		home[PATH_MAX];
	uint32_t	uid;
	int32_t		pid;
	/* mail-relay set: the jails' sendmail socket's directory and client,
	 * sent as trees after the home's (sandbox_finish()); "" for none. */
	char		mail_dir[PATH_MAX / 4];
	char		mail_client[PATH_MAX / 4];
};
/* zygote.c: PHP processes forked from one pre-initialised php-cgi. */
struct msg_zygote_fork {	/* master -> zygote, fd = the worker's line (zygote.h) */
	/* The locker's limits that sandbox_limits() reads, not its whole
	 * configuration: forks come in bursts, and the channel must hold them. */
	uint64_t	memory_limit, file_size_limit;
	uint32_t	process_limit, open_files_limit;
	char		locker[LOCKER_NAME_MAX + 1];
	char		home[PATH_MAX];
	uint32_t	uid, gid;
	int32_t		worker;		/* the worker's pid, in the master's namespace */
};
const char *zygote_interp(const struct config *c);	/* the PHP it runs, or NULL */

struct sandbox_spec;
int	spawner_main(char *role);	/* role: argv[2], rewritten in workers */
void	spawner_start(void);
void	spawner_stop(void);
pid_t	spawner_running(void);		/* its pid, 0 if none */
void	spawner_tick(void);
int	spawner_reaped(pid_t pid, int status);	/* 1 if it was the spawner */
pid_t	spawner_spawn(const struct sandbox_spec *s, int chan);
/* Master: fork into new namespaces; the child must call sandbox_enter. */
pid_t	sandbox_clone(void);
/* Called first in the child of sandbox_clone(): netns_join() in the master
 * (a hook, so that proc.c links without the sandbox, as test_become does). */
extern int (*sandbox_clone_join)(void);
/* Master, before starting a process of the locker: its cgroups and limits. */
int	sandbox_prepare(const struct config *c, const char *locker, uint32_t uid);
/* Master, when the locker's last process has been reaped; and at stop. */
void	sandbox_release(const char *locker, uint32_t uid);
void	sandbox_release_all(const struct config *c);
/*
 * In a child of sandbox_clone(), as root: enter the locker's jail and
 * become it.  Every descriptor above 2 (and above keep_fds) is marked
 * close-on-exec.
 */
int	sandbox_enter(const struct sandbox_spec *s, char *err, size_t errlen);
/* The rlimits of a locker's process (sandbox_enter's; the zygote's child too). */
void	sandbox_limits(const struct config *c);
/* A spawner's spare: the jail made ahead of its locker, then finished with
 * the home and its tmp/ (and, with mail-relay, the sendmail socket's
 * directory and client: mail_trees, -1 for none) as mount trees cloned in
 * the machine's namespace. */
int	sandbox_prebuild(char *err, size_t errlen);
int	sandbox_finish(const struct sandbox_spec *s, int home_tree, int tmp_tree,
	    const int mail_trees[2], char *err, size_t errlen);
int	sandbox_prebuilt_ok(const struct config *c, const char *home);

/* netns.c: a network namespace per locker (locker-network private), with
 * pasta for outbound connectivity; used by sandbox.c and sandbox_clone(). */
void	netns_init(void);
int	netns_resolver_on_loopback(void);
int	netns_prepare(const struct config *c, const char *locker, uint32_t uid);
int	netns_join(void);
void	netns_release(const char *locker, uint32_t uid);
void	netns_release_all(void);
int	netns_reaped(pid_t pid, int status);

/* cgroup.c, landlock.c, seccomp.c: the mechanisms, used by sandbox.c. */
void	cgroup_probe(char *missing, size_t missingsz);
int	cgroup_prepare(const struct config *c, const char *locker, uint32_t uid);
int	cgroup_join(const char *locker, uint32_t uid, char *err, size_t errlen);
int	cgroup_attach(const char *locker, uint32_t uid, pid_t pid, char *err, size_t errlen);
void	cgroup_release(const char *locker, uint32_t uid);
void	cgroup_release_all(const struct config *c);
int	cgroup_procs(const char *locker, uint32_t uid, void (*cb)(pid_t, void *),
	    void *arg);
void	cgroup_usage(const char *locker, uint32_t uid, int64_t *mem, int64_t *procs,
	    int64_t *cpu_ms);
int	landlock_probe(char *missing, size_t missingsz);	/* the ABI, 0: none */
int	landlock_build(const char *home, int exe_fd, char *err, size_t errlen);
int	landlock_allow(int ruleset, const char *path, unsigned ja, char *err, size_t errlen);
uint64_t landlock_access(unsigned ja);	/* a jail_view[] row's, in Landlock bits */
int	landlock_enforce(int ruleset, char *err, size_t errlen);
int	seccomp_compile(char *err, size_t errlen);
int	seccomp_enforce(void);
int	seccomp_service(int logd, char *err, size_t errlen);	/* front's or logd's allow-list */
int	seccomp_keyd(char *err, size_t errlen);			/* keyd's */
int	seccomp_acme(char *err, size_t errlen);			/* the ACME client's */
int	seccomp_sqld(char *err, size_t errlen);			/* sqld's */
int	seccomp_dirsync(char *err, size_t errlen);		/* lockerd-dirsync's */
int	seccomp_mailout(char *err, size_t errlen);		/* the mail role's */
int	seccomp_maild(char *err, size_t errlen);			/* maild's */
int	seccomp_hesiod(char *err, size_t errlen);		/* the hesiod role's */

/* -------------------------------------------------------------- stats.c */
/* front: count one logged request (status, locker or ""); cheap.  master_fd:
 * where a full table goes. */
void	stats_count(int master_fd, const char *locker, size_t namelen, int status);
/* front: 1 if counts wait to be sent, and since when (ms). */
int	stats_pending(uint64_t *since);
/* front: send what was counted to the master (MSG_STATS), then start over. */
void	stats_flush(int master_fd);
/* front: a new routing table (its generation) is in force; what was counted
 * under the old one goes first. */
void	stats_routes(int master_fd, uint32_t gen);
/* master: add a front's report; -1 if it is malformed. */
struct stats_total {
	uint64_t	requests, errors_4xx, errors_5xx;
	uint64_t	log_dropped;	/* bytes of its error log over log-rate (logd) */
};
int	stats_apply(const void *msg, size_t len, struct stats_total *front,
	    int (*locker_ok)(const char *));
int	stats_locker(const char *locker, struct stats_total *out);	/* 1 if any */
/* master: logd dropped bytes of a locker's error log. */
void	stats_log_dropped(const char *locker, uint64_t bytes, int (*locker_ok)(const char *));
/* master: a locker of that name is removed or signed up: its counts go, and
 * reports counted under a routing table older than the next one pushed are
 * another locker's (the name's previous one), never this one's. */
void	stats_forget(const char *locker);
/* master: the routing table of generation gen was pushed to the fronts. */
void	stats_routes_pushed(uint32_t gen);
int	stats_foreach(int (*cb)(const char *, const struct stats_total *, void *), void *arg);

/* --------------------------------------------------------------- mime.c */
/*
 * Pointer-free, so the master reads mime.types once and sends the table to
 * every worker it starts, instead of each worker parsing the file.
 */
struct mime_map {
	int	n;
	char	ext[CONF_MAX_EXT][CONF_EXT_LEN];
	char	type[CONF_MAX_EXT][100];
};
/* Loads only the extensions on the given list; missing file is not an error. */
struct mime_map *mime_load(const char *path, const struct config *c);	/* its static-extensions */
const char *mime_lookup(const struct mime_map *m, const char *ext);
void	mime_free(struct mime_map *m);

#endif
