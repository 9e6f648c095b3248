/*
 * config.c: lockerd.conf.
 *
 * One directive per line: a keyword and its arguments, '#' to end of line
 * is a comment.  Every directive is declared once, in the table below: its
 * type, bounds, default (the text a file would hold) and flags.  From that
 * one row follow the parser, the defaults (each default's text is parsed
 * like a line of the file), the checker (`lockerd -t`), the dump (`lockerd
 * -t -v`, which prints every value as the file would say it), what SIGHUP
 * keeps until a restart, which keys a locker may have its own value of
 * (`locker limit`), and which of those front and logd apply themselves.
 * A new directive is one row here (and its field in struct config).
 */
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "route.h"
#include "mail.h"
#include "sql.h"

enum conf_type {
	T_PATH,		/* absolute path */
	T_WORD,		/* one token into a char array */
	T_HOST,		/* a DNS name */
	T_UINT,		/* uint32 */
	T_DURATION,	/* seconds, with optional s/m/h suffix */
	T_SIZE,		/* bytes, with optional k/m/g suffix */
	T_LISTEN,	/* repeatable ADDR:PORT */
	T_HOSTNAMES,	/* repeatable, one or more names */
	T_EXTLIST,	/* list of extensions */
	T_INDEXLIST,	/* list of file names */
	T_UIDRANGE,	/* LOW-HIGH */
	T_PROCS,	/* N or auto */
	T_INTERP,	/* repeatable: EXT PATH|- [fastcgi] */
	T_CHOICE,	/* one word of a list, into an int */
	T_GROUPSIGNUP,	/* yes, no, or a Unix group */
	T_ADDR,		/* ADDR:PORT, once */
	T_DNSUPDATE,	/* acme-dns-update SERVER:PORT ZONE KEYNAME ALGORITHM FILE */
	T_CERT,		/* repeatable: HOST CERT KEY */
	T_TLSPROTO,	/* TLSv1.2 and/or TLSv1.3 */
	T_TLSFILE,	/* an absolute path, with the line that named it */
	T_SQL,		/* sql none | sql mariadb SOCKET|HOST:PORT CREDENTIALS-FILE */
	T_SOCKPATH,	/* none, or an absolute path */
	T_MAILDOMAINS,	/* repeatable, one or more names */
	T_NETS,		/* repeatable, one or more ADDR[/BITS] (proxy-from) */
	T_DIRECTORY,	/* directory sqlite | directory postgres CONNINFO-FILE */
	T_TSIGKEY,	/* KEYNAME ALGORITHM SECRET-FILE */
	T_TEXT,		/* the rest of the line, its words joined by one space */
};

/* The words a T_CHOICE directive takes, in the order its error lists them. */
struct choice {
	const char	*word;
	int		 value;
};

struct directive {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	size_t		 size;		/* of the field, for strings */
	uint64_t	 min, max;	/* for numbers */
	/* The default as the file would say it; "" for none.  A repeatable
	 * directive's default may be several lines, each its arguments. */
	const char	*dflt;
	unsigned	 flags;		/* CONF_* */
	const char	*help;
	enum limit	 limit;		/* with CONF_LOCKER: which one it is */
	const struct choice *choices;	/* T_CHOICE */
};

#define F(field)	offsetof(struct config, field), sizeof(((struct config *)0)->field)

static const struct choice yes_no[] = { { "yes", 1 }, { "no", 0 }, { NULL, 0 } };
static const struct choice on_off[] = { { "on", 1 }, { "off", 0 }, { NULL, 0 } };
static const struct choice disk_quotas[] = {
	{ "btrfs", DISK_QUOTA_BTRFS }, { "image", DISK_QUOTA_IMAGE },
	{ "none", DISK_QUOTA_NONE }, { NULL, 0 }
};
static const struct choice acme_challenges[] = {
	{ "http-01", ACME_CHAL_HTTP01 }, { "tls-alpn-01", ACME_CHAL_TLSALPN01 }, { NULL, 0 }
};
static const struct choice acme_key_types[] = {
	{ "ecdsa", ACME_KEY_ECDSA }, { "rsa", ACME_KEY_RSA }, { "both", ACME_KEY_BOTH },
	{ NULL, 0 }
};
static const struct choice locker_nets[] = {
	{ "private", LOCKER_NET_PRIVATE }, { "host", LOCKER_NET_HOST }, { NULL, 0 }
};

/* A row names only the fields it uses: .limit and .choices where they apply. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct directive directives[] = {
	{ "listen", T_LISTEN, F(listen), 0, 0, "0.0.0.0:80", CONF_RESTART | CONF_REPEAT,
	  "ADDR:PORT... [tls [verify-client]] to accept HTTP (or HTTPS) on; repeatable "
	  "([::1]:80 for IPv6); verify-client asks for an optional client certificate" },
	{ "proxy-from", T_NETS, F(proxy_from), 0, 0, "", CONF_REPEAT,
	  "addresses or networks whose PROXY header a proxy listener believes; any other "
	  "peer of such a listener is closed unanswered" },
	{ "domain", T_HOST, F(domain), 0, 0, "localhost", 0,
	  "lockers are served at <name>.DOMAIN and DOMAIN/~<name>/" },
	{ "hostname", T_HOSTNAMES, F(hostnames), 0, 0, "", CONF_REPEAT,
	  "more service host names that serve /~<name>/; repeatable" },
	{ "lockers", T_PATH, F(lockers), 0, 0, "/srv/lockers", CONF_RESTART,
	  "the lockers root: one home per locker" },
	{ "state", T_PATH, F(state), 0, 0, "/var/lib/lockerd", CONF_RESTART,
	  "the directory database and control socket" },
	{ "logs", T_PATH, F(logs), 0, 0, "/var/log/lockerd", CONF_RESTART,
	  "access and error logs, written only by logd" },
	{ "uid-range", T_UIDRANGE, F(uid_low), 1000, 4000000000u, "100000-199999", 0,
	  "LOW-HIGH: the uids (and gids) given to lockers; never reused" },
	{ "front-user", T_WORD, F(front_user), 0, 0, "lockerd", CONF_RESTART,
	  "the unprivileged system user the front processes run as" },
	{ "log-user", T_WORD, F(log_user), 0, 0, "lockerd-log", CONF_RESTART,
	  "the system user logd runs as" },
	{ "key-user", T_WORD, F(key_user), 0, 0, "lockerd-key", CONF_RESTART,
	  "the system user of the key process (keyd) and the ACME client" },
	{ "tls-dir", T_PATH, F(tls_dir), 0, 0, "/var/lib/lockerd/tls", CONF_RESTART,
	  "TLS private keys and certificates (mode 0700, key-user's); keyd's root" },
	{ "node", T_WORD, F(node), 0, 0, "", CONF_RESTART,
	  "this machine's name in a fleet (leases, `locker status`); default: its host name" },
	{ "front-processes", T_PROCS, F(front_processes), 1, 64, "auto", CONF_RESTART,
	  "N front processes sharing the listeners, or auto (one per core)" },
	{ "static-extensions", T_EXTLIST, F(static_ext), 0, 0,
	  "html htm css js mjs json xml txt md csv png jpg jpeg gif webp avif svg "
	  "ico bmp woff woff2 ttf otf eot pdf ps mp3 ogg oga wav flac mp4 m4a webm "
	  "ogv mov zip gz tgz bz2 xz tar wasm map rss atom ics vcf bib tex asc sig "
	  "doc docx odt xls xlsx ods ppt pptx odp epub", CONF_REPEAT,
	  "file extensions served as static files; repeat to add more" },
	/* The binfmt_misc table of scripts.mit.edu: no shebang or chmod needed.
	 * A page of PHP should not cost a fork: each locker's own pool. */
	{ "interpreter", T_INTERP, F(interp), 0, 0,
	  "php /usr/bin/php-cgi fastcgi\npy /usr/bin/python3\npl /usr/bin/perl\n"
	  "rb /usr/bin/ruby\nsh /bin/sh\ncgi -", CONF_REPEAT,
	  "EXT PATH [fastcgi]: run *.EXT with PATH; PATH - runs the file itself" },
	{ "script-timeout", T_DURATION, F(script_timeout), 1, 86400, "60s",
	  CONF_LOCKER | CONF_FRONT, .limit = LIMIT_SCRIPT_TIMEOUT,
	  .help = "wall-clock limit of one script run; its process group is killed (504)" },
	{ "script-cpu-limit", T_DURATION, F(script_cpu), 1, 86400, "30s",
	  CONF_LOCKER, .limit = LIMIT_SCRIPT_CPU,
	  .help = "CPU seconds a script may use (soft RLIMIT_CPU)" },
	{ "max-scripts", T_UINT, F(max_scripts), 1, 10000, "16",
	  CONF_LOCKER | CONF_FRONT, .limit = LIMIT_MAX_SCRIPTS,
	  .help = "scripts one locker may run at once (503 beyond)" },
	/* php-fpm's ondemand, decided by the worker (phppool.c): Debian's
	 * pm.max_children and pm.process_idle_timeout as defaults. */
	{ "php-max-processes", T_UINT, F(php_max_processes), 1, 1000, "5",
	  CONF_LOCKER | CONF_FRONT, .limit = LIMIT_PHP_PROCESSES,
	  .help = "PHP processes a locker's pool grows to under load (and at most "
	  "max-scripts)" },
	{ "php-idle-timeout", T_DURATION, F(php_idle_timeout), 1, 86400, "10s",
	  CONF_LOCKER | CONF_FRONT, .limit = LIMIT_PHP_IDLE,
	  .help = "a PHP process unused this long ends (the pool keeps one while "
	  "the worker lives)" },
	{ "php-max-requests", T_UINT, F(php_max_requests), 0, 1000000, "10000",
	  CONF_LOCKER, .limit = LIMIT_PHP_MAX_REQUESTS,
	  .help = "requests a PHP process serves before a new one replaces it, to "
	  "bound leaks (0: no limit)" },
	/* zygote.c: one php-cgi started once, every locker's PHP forked from it. */
	{ "php-zygote", T_CHOICE, F(php_zygote), 0, 0, "on", CONF_RESTART,
	  "on: PHP processes are forked from one pre-started php-cgi and moved into "
	  "their locker's sandbox (about 1 ms and a few hundred KiB each); off: each "
	  "is a php-cgi of its own (about 100 ms and 10 MiB)", .choices = on_off },
	{ "index", T_INDEXLIST, F(index), 0, 0,
	  "index.html index.htm index.php index.cgi index.pl index.py", CONF_REPEAT,
	  "index file names, in order of preference" },
	{ "charset", T_WORD, F(charset), 0, 0, "utf-8", 0,
	  "charset added to text/* content types" },
	{ "worker-idle-timeout", T_DURATION, F(worker_idle_timeout), 1, 86400, "300s", 0,
	  "a locker's worker exits after this long without a request" },
	{ "worker-timeout", T_DURATION, F(worker_timeout), 1, 3600, "60s", 0,
	  "how long front waits for a worker's answer before 504" },
	{ "file-cache-valid", T_DURATION, F(file_cache_valid), 0, 60, "1s", 0,
	  "front reuses a file a worker opened, or a PHP script's resolution, for this "
	  "long (0: never)" },
	{ "max-request-line", T_SIZE, F(max_request_line), 64, 1 << 20, "8192", 0,
	  "longest request line (414 beyond)" },
	{ "max-header-size", T_SIZE, F(max_header_size), 256, 1 << 20, "16384", 0,
	  "largest request head (431 beyond)" },
	{ "max-headers", T_UINT, F(max_headers), 1, 128, "100", 0,
	  "most header fields (431 beyond)" },
	{ "max-body-size", T_SIZE, F(max_body_size), 0, (uint64_t)1 << 40, "100m", 0,
	  "largest request body (413 beyond)" },
	{ "header-timeout", T_DURATION, F(header_timeout), 1, 3600, "20s", 0,
	  "time to receive a whole request head (408 beyond)" },
	{ "body-timeout", T_DURATION, F(body_timeout), 1, 3600, "30s", 0,
	  "longest pause while receiving a body (408 beyond)" },
	{ "body-total-timeout", T_DURATION, F(body_total_timeout), 1, 86400, "300s", 0,
	  "time to receive a whole body, however steadily it comes (408 beyond)" },
	{ "keepalive-timeout", T_DURATION, F(keepalive_timeout), 0, 3600, "15s", 0,
	  "idle time allowed between requests on a connection" },
	{ "send-timeout", T_DURATION, F(send_timeout), 1, 3600, "60s", 0,
	  "longest pause of a client that does not read its response" },
	{ "keepalive-requests", T_UINT, F(keepalive_requests), 1, 1000000, "10000", 0,
	  "requests served on one connection before it is closed" },
	{ "max-connections", T_UINT, F(max_connections), 1, 1000000, "10000", 0,
	  "open client connections per front process" },
	{ "shutdown-timeout", T_DURATION, F(shutdown_timeout), 0, 3600, "10s", 0,
	  "on SIGTERM, how long in-flight requests may take to finish" },
	{ "drain-time", T_DURATION, F(drain_time), 0, 3600, "0s", 0,
	  "on SIGTERM, how long the health check says 503 (draining) while the node still "
	  "serves, before the stop begins: a load balancer's checks take it out first" },
	{ "control-timeout", T_DURATION, F(control_timeout), 1, 3600, "10s", 0,
	  "a `locker` connection that sends no request, or reads no reply, is closed" },
	{ "dns-timeout", T_DURATION, F(dns_timeout), 1, 60, "3s", 0,
	  "how long an answer of the DNS is waited for (`locker vhost verify`, "
	  "DNS-01's updates, whether a name resolves here)" },
	/* The wildcard for the locker subdomains can only be had by DNS-01. */
	{ "acme-dns-update", T_DNSUPDATE, F(acme_dns), 0, 0, "", 0,
	  "SERVER:PORT ZONE KEYNAME hmac-sha256|hmac-sha512 SECRET-FILE: RFC 2136 "
	  "updates with TSIG for DNS-01 (the wildcard *.DOMAIN); the file holds the "
	  "key's base64 secret, readable by root only" },
	/* A vhost's own choice (locker vhost add --https-only) wins over it. */
	{ "https-only", T_CHOICE, F(https_only), 0, 0, "no", 0,
	  "yes: plain HTTP requests get a 301 to https:// (but ACME's HTTP-01 "
	  "challenges), and HTTPS answers HSTS; for every name without its own choice",
	  .choices = yes_no },
	{ "hsts-max-age", T_DURATION, F(hsts_max_age), 0, 63072000, "365d", 0,
	  "Strict-Transport-Security max-age on HTTPS answers of https-only names; 0: none" },
	{ "acme-resolver", T_ADDR, F(acme_resolver), 0, 0, "", 0,
	  "ADDR:PORT of the resolver asked whether a name resolves here before "
	  "ordering its certificate; unset: the system's (/etc/resolv.conf)" },
	/* Hesiod (hesiod.c): where other machines find the lockers, as Athena's do. */
	{ "hesiod-server", T_ADDR, F(hesiod.server), 0, 0, "", 0,
	  "ADDR:PORT of the DNS server that takes RFC 2136 updates of hesiod-zone; "
	  "unset: no Hesiod records are published" },
	{ "hesiod-zone", T_HOST, F(hesiod.zone), 0, 0, "", 0,
	  "the zone updated, Hesiod's RHS (rhs= of hesiod.conf), e.g. example.org" },
	{ "hesiod-lhs", T_WORD, F(hesiod.lhs), 0, 0, ".ns", 0,
	  "Hesiod's LHS (lhs= of hesiod.conf): NAME.filsys.ns.ZONE; none: NAME.filsys.ZONE" },
	{ "hesiod-key", T_TSIGKEY, F(hesiod), 0, 0, "", 0,
	  "KEYNAME hmac-sha256|hmac-sha512 SECRET-FILE: the TSIG key the server takes "
	  "updates of hesiod-zone with; the file holds its base64 secret, root's only" },
	{ "hesiod-filsys", T_TEXT, F(hesiod.filsys), 0, 0, "", 0,
	  "each locker's filsys record, %s its name, e.g. NFS /export/lockers/%s "
	  "files.example.org w /mit/%s; unset: NFS LOCKERS/%s DOMAIN w /mit/%s" },
	{ "hesiod-retry", T_DURATION, F(hesiod.retry), 1, 86400, "60s", 0,
	  "after a failed update (the server down), the records are compared and sent "
	  "again this often until they are in" },
	{ "self-signup", T_CHOICE, F(self_signup), 0, 0, "no", 0,
	  "yes: a login user may sign up a locker named after their login",
	  .choices = yes_no },
	{ "group-signup", T_GROUPSIGNUP, F(group_signup), 0, 0, "no", 0,
	  "yes, no, or a Unix group: who may sign up group lockers (as first admin)" },
	{ "max-group-lockers-per-user", T_UINT, F(max_group_lockers), 0, 1000000, "5", 0,
	  "group lockers one login user may have signed up (root: any); 0: no limit" },
	{ "change-rate", T_UINT, F(change_rate), 0, 1000000, "60", 0,
	  "changes (signup, vhost, admin, su) a login user may make a minute; 0: no limit" },
	{ "change-burst", T_UINT, F(change_burst), 1, 1000000, "60", 0,
	  "changes a login user may make at once before change-rate applies" },
	{ "max-workers", T_UINT, F(max_workers), 0, 1000000, "512", 0,
	  "workers (with their PHP pools) warm at once on the machine; 0: no cap" },
	{ "max-worker-starts", T_UINT, F(max_worker_starts), 1, 100000, "8", 0,
	  "workers starting at once (clone to their first word); more asks queue" },
	{ "worker-start-queue", T_UINT, F(worker_start_queue), 0, 100000, "1024", 0,
	  "asks for a worker queued past max-worker-starts; more are answered 503" },
	{ "worker-start-wait", T_DURATION, F(worker_start_wait), 1, 3600, "5s", 0,
	  "how long a queued ask waits for its start before 503 and Retry-After" },
	{ "memory-limit", T_SIZE, F(memory_limit), 0, (uint64_t)1 << 40, "512m",
	  CONF_LOCKER, .limit = LIMIT_MEMORY,
	  .help = "memory of all of a locker's processes together (its cgroup); 0: none" },
	{ "process-limit", T_UINT, F(process_limit), 0, 1000000, "512",
	  CONF_LOCKER, .limit = LIMIT_PROCESS,
	  .help = "processes and threads of a locker (pids cgroup, RLIMIT_NPROC); 0: none" },
	{ "cpu-shares", T_UINT, F(cpu_shares), 2, 262144, "1024",
	  CONF_LOCKER, .limit = LIMIT_CPU_SHARES,
	  .help = "a locker's CPU weight against the others when the CPUs are busy (1024)" },
	{ "io-weight", T_UINT, F(io_weight), 1, 1000, "100",
	  CONF_LOCKER, .limit = LIMIT_IO_WEIGHT,
	  .help = "a locker's block I/O weight (cgroup blkio, BFQ only)" },
	{ "open-files-limit", T_UINT, F(open_files_limit), 0, 1000000, "1024",
	  CONF_LOCKER, .limit = LIMIT_OPEN_FILES,
	  .help = "open descriptors per process of a locker (RLIMIT_NOFILE); 0: inherited" },
	{ "file-size-limit", T_SIZE, F(file_size_limit), 0, (uint64_t)1 << 50, "1g",
	  CONF_LOCKER, .limit = LIMIT_FILE_SIZE,
	  .help = "largest file a locker's process may write (soft RLIMIT_FSIZE); 0: none" },
	{ "disk-quota", T_CHOICE, F(disk_quota), 0, 0, "none", CONF_RESTART,
	  "none; btrfs: each home a subvolume whose qgroup keeps disk-limit; "
	  "image: each home an ext4 image of disk-limit bytes", .choices = disk_quotas },
	/* Not private by default: see config_locker_netns(). */
	{ "locker-network", T_CHOICE, F(locker_network), 0, 0, "host", 0,
	  "private: a network namespace per locker, outbound through pasta; "
	  "host: the host's network stack (the default)", .choices = locker_nets },
	{ "disk-limit", T_SIZE, F(disk_limit), 0, (uint64_t)1 << 50, "0",
	  CONF_LOCKER, .limit = LIMIT_DISK,
	  .help = "bytes a locker's home may hold, tmp/ included (needs disk-quota); 0: none" },
	{ "log-rate", T_SIZE, F(log_rate), 0, (uint64_t)1 << 40, "64k",
	  CONF_LOCKER | CONF_FRONT | CONF_LOGD, .limit = LIMIT_LOG_RATE,
	  .help = "bytes per second a locker may add to its error log (bursts of 4 s); 0: none" },
	{ "log-size", T_SIZE, F(log_size), 0, (uint64_t)1 << 40, "16m",
	  CONF_LOCKER | CONF_LOGD, .limit = LIMIT_LOG_SIZE,
	  .help = "size at which logd rotates a locker's error log (2 old ones kept); 0: never" },
	/* The SQL service (issue 14): sqld administers a MariaDB. */
	{ "sql", T_SQL, F(sql), 0, 0, "none", CONF_RESTART,
	  "none, or mariadb SOCKET|ADDR:PORT CREDENTIALS-FILE: the MariaDB lockerd "
	  "administers (a SOCKET named mysqld.sock, whose directory lockers see at "
	  "/run/mysqld) and the root-only file with its admin account's user= and "
	  "password=" },
	{ "sql-user", T_WORD, F(sql_user), 0, 0, "lockerd-sql", CONF_RESTART,
	  "system user sqld runs as, the only holder of MariaDB's admin account" },
	{ "sql-timeout", T_DURATION, F(sql_timeout), 1, 600, "10s", 0,
	  "how long `locker sql` waits for MariaDB before it fails" },
	{ "sql-max-connections", T_UINT, F(sql_max_user_connections), 0, 100000, "30", 0,
	  "connections a locker's database account may hold at once "
	  "(MAX_USER_CONNECTIONS); 0: MariaDB's max_user_connections" },
	{ "sql-max-connections-per-hour", T_UINT, F(sql_max_connections_per_hour), 0,
	  100000000, "0", 0, "connections a locker's account may open an hour; 0: any" },
	{ "sql-max-queries-per-hour", T_UINT, F(sql_max_queries_per_hour), 0, 1000000000,
	  "0", 0, "statements a locker's account may run an hour; 0: any" },
	{ "sql-max-updates-per-hour", T_UINT, F(sql_max_updates_per_hour), 0, 1000000000,
	  "0", 0, "writing statements a locker's account may run an hour; 0: any" },
	/* Incoming mail (issue 15): Postfix delivers by LMTP to maild. */
	{ "mail-lmtp", T_SOCKPATH, F(mail_lmtp), 0, 0, "none", CONF_RESTART,
	  "none, or the Unix socket (made at start, mode 0666: put it in a directory "
	  "only Postfix's user may enter) where maild takes Postfix's LMTP deliveries" },
	{ "mail-lmtp-domain", T_MAILDOMAINS, F(mail_lmtp_domains), 0, 0, "", CONF_REPEAT,
	  "DOMAIN...: mail to NAME[+TAG]@DOMAIN runs NAME's mail_scripts program "
	  "(none given: mail-domain, else domain); repeatable" },
	{ "mail-lmtp-user", T_WORD, F(mail_lmtp_user), 0, 0, "lockerd-mailin", CONF_RESTART,
	  "system user maild, the LMTP role, runs as" },
	{ "mail-program-timeout", T_DURATION, F(mail_program_timeout), 1, 86400, "60s", CONF_LOCKER,
	  .limit = LIMIT_MAIL_PROGRAM_TIMEOUT,
	  .help = "wall-clock limit of a mail program; past it, it is killed and the "
	  "message deferred (4xx: Postfix tries again)" },
	{ "mail-lmtp-max-size", T_SIZE, F(mail_lmtp_max_size), 1024, (uint64_t)1 << 32, "50m", 0,
	  "largest message maild takes (552 beyond)" },
	{ "mail-lmtp-max-recipients", T_UINT, F(mail_lmtp_max_recipients), 1, 10000, "100", 0,
	  "recipients of one LMTP transaction (452 beyond)" },
	{ "mail-lmtp-timeout", T_DURATION, F(mail_lmtp_timeout), 1, 3600, "300s", 0,
	  "an LMTP client silent this long is closed (421)" },
	{ "sql-max-statement-time", T_DURATION, F(sql_max_statement_time), 0, 86400, "60s",
	  0, "longest a locker's statement may run before MariaDB stops it; 0: no limit" },
	{ "sql-size-interval", T_DURATION, F(sql_size_interval), 1, 3600, "30s", 0,
	  "how often sqld measures each locker's databases, which count against its "
	  "disk-limit (writes withdrawn at it: the lag is one interval)" },
	{ "sql-tcp-port", T_UINT, F(sql_tcp_port), 0, 65535, "3306", 0,
	  "MariaDB's port on the host's loopback, which lockers with locker-network "
	  "private reach at 127.0.0.1 (the only host port besides lockerd's own); 0: none" },
	/* The fleet directory (issue 18): lockerd-dirsync and PostgreSQL. */
	{ "directory", T_DIRECTORY, 0, 0, 0, 0, "sqlite", CONF_RESTART,
	  "sqlite (this machine alone), or postgres FILE: a fleet sharing one PostgreSQL, "
	  "FILE being root's (chmod 600) one-line libpq conninfo" },
	{ "directory-timeout", T_DURATION, F(directory_timeout), 1, 60, "2s", 0,
	  "how long a change waits for the fleet's PostgreSQL before it is refused" },
	{ "dir-user", T_WORD, F(dir_user), 0, 0, "lockerd-dir", CONF_RESTART,
	  "system user lockerd-dirsync, the fleet directory's link, runs as" },
	/* Outgoing mail (mail.h): the jails' sendmail, through the mail role. */
	{ "mail-relay", T_ADDR, F(mail_relay), 0, 0, "", CONF_RESTART,
	  "ADDR:PORT of the SMTP relay (a Postfix on loopback) the lockers' mail is "
	  "handed to, or none: no outgoing mail (the jails' sendmail says so)" },
	{ "mail-domain", T_HOST, F(mail_domain), 0, 0, "", 0,
	  "a locker's mail goes out as NAME@MAIL-DOMAIN (default: domain)" },
	{ "mail-user", T_WORD, F(mail_user), 0, 0, "lockerd-mail", CONF_RESTART,
	  "system user the mail role runs as" },
	{ "mail-max-size", T_SIZE, F(mail_max_size), 1024, MAIL_SIZE_CEILING, "10m", 0,
	  "largest message a locker may send (up to 64m)" },
	{ "mail-per-hour", T_UINT, F(mail_per_hour), 0, 1000000, "100",
	  CONF_LOCKER, .limit = LIMIT_MAIL_PER_HOUR,
	  .help = "messages a locker may send in any hour; more are refused; 0: any" },
	{ "mail-timeout", T_DURATION, F(mail_timeout), 1, 600, "30s", 0,
	  "how long each step of handing a message to the relay may take" },
	/* Cron scripts (issue 15, cron.c). */
	{ "cron-job-timeout", T_DURATION, F(cron_job_timeout), 1, 7 * 86400, "1h",
	  CONF_LOCKER, .limit = LIMIT_CRON_TIMEOUT,
	  .help = "wall-clock limit of one cron job; then all its processes are killed" },
	{ "cron-max-tasks", T_UINT, F(cron_max_tasks), 1, 100000, "64", 0,
	  "cron jobs and crontab compiles running at once on the machine; a job "
	  "due past that waits for the next round (and is logged as skipped)" },
	{ "cron-minute", T_DURATION, F(cron_minute), 1, 60, "60s", 0,
	  "how long a minute of the cron scheduler's clock is: 60s; shorter only to "
	  "test (a crontab's minutes then pass this fast)" },
	/* Autoinstallers (issue 16, app_master.c). */
	{ "app-releases", T_PATH, F(app_releases), 0, 0, "/var/lib/lockerd/releases", 0,
	  "releases for `locker install|upgrade` besides Debian's packages: DIR/APP/VERSION/ "
	  "a whole tree (may be missing); shown read-only in every jail" },
	{ "app-upgrade-parallel", T_UINT, F(app_upgrade_parallel), 1, 64, "4", 0,
	  "installs `locker upgrade --all` upgrades at once" },
	{ "acme-ca", T_WORD, F(acme_ca), 0, 0, "", 0,
	  "the ACME CA's directory URL (https://...); none: no certificates by ACME" },
	{ "acme-ca-fallback", T_WORD, F(acme_ca_fallback), 0, 0, "", 0,
	  "a second CA's directory URL, asked once the first has failed a host "
	  "acme-fallback-after times" },
	{ "acme-fallback-after", T_UINT, F(acme_fallback_after), 1, 100, "3", 0,
	  "failures of a host at acme-ca before acme-ca-fallback is tried" },
	{ "acme-ca-bundle", T_PATH, F(acme_ca_bundle), 0, 0, "", 0,
	  "roots to trust for the CA's own HTTPS (default: the system's)" },
	{ "acme-email", T_WORD, F(acme_email), 0, 0, "", 0,
	  "the ACME account's contact address" },
	{ "acme-challenge", T_CHOICE, F(acme_challenge), 0, 0, "http-01", 0,
	  "the challenge to prefer: http-01 or tls-alpn-01", .choices = acme_challenges },
	{ "acme-key-type", T_CHOICE, F(acme_key_type), 0, 0, "ecdsa", 0,
	  "certificate keys: ecdsa (P-256), rsa (2048), or both", .choices = acme_key_types },
	{ "acme-names-per-week", T_UINT, F(acme_names_per_week), 0, 100000, "20",
	  CONF_LOCKER, .limit = LIMIT_ACME_NAMES,
	  .help = "new vhost names a locker may have certificates issued for a week; 0: none" },
	{ "acme-orders-per-3h", T_UINT, F(acme_orders_per_3h), 1, 100000, "250", 0,
	  "orders lockerd's account places in 3 hours (Let's Encrypt allows 300)" },
	{ "acme-retry", T_DURATION, F(acme_retry), 1, 86400, "60s", 0,
	  "first wait after a failed order, doubled (with jitter) up to a day" },
	/* TLS: Mozilla's "intermediate" choices (nothing below TLS 1.2, forward
	 * secrecy and AEAD only), which every browser of the last decade speaks. */
	{ "certificate", T_CERT, F(certs), 0, 0, "", CONF_REPEAT,
	  "HOST CERT KEY: a certificate chain and its key (PEM) for HOST or *.DOMAIN; "
	  "repeatable (an ECDSA and an RSA one for the same HOST go side by side)" },
	{ "tls-protocols", T_TLSPROTO, F(tls_protocols), 0, 0, "TLSv1.2 TLSv1.3", CONF_REPEAT,
	  "TLS versions spoken: TLSv1.2 and/or TLSv1.3 (nothing older)" },
	{ "tls-ciphers", T_WORD, F(tls_ciphers), 0, 0,
	  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305", 0,
	  "TLS 1.2 cipher list (OpenSSL's syntax)" },
	{ "tls-ciphersuites", T_WORD, F(tls_ciphersuites), 0, 0,
	  "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", 0,
	  "TLS 1.3 cipher suites (OpenSSL's syntax)" },
	{ "tls-handshake-timeout", T_DURATION, F(tls_handshake_timeout), 1, 300, "10s", 0,
	  "time a client has to finish its TLS handshake" },
	{ "tls-rescan", T_DURATION, F(tls_rescan), 0, 86400, "60s", 0,
	  "how often tls-dir is looked at for certificates that changed there (another "
	  "node's ACME client's in a fleet, an administrator's); 0: only at SIGHUP" },
	{ "tls-max-handshakes", T_UINT, F(tls_max_handshakes), 1, 1000000, "512", 0,
	  "TLS handshakes in progress per front process; new TLS connections beyond are "
	  "closed at once" },
	{ "http2", T_CHOICE, F(http2), 0, 0, "on", 0,
	  "offer HTTP/2 (ALPN h2, before http/1.1) on the TLS listeners", .choices = on_off },
	{ "http2-max-streams", T_UINT, F(http2_max_streams), 1, 10000, "128", 0,
	  "HTTP/2 streams open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS); "
	  "more are refused" },
	{ "http2-max-resets", T_UINT, F(http2_max_resets), 1, 1000000, "200", 0,
	  "HTTP/2 streams a client resets, or that are refused or reset for its doing, on one "
	  "connection in 10 s; more end the connection with GOAWAY (rapid reset, MadeYouReset)" },
	{ "http2-max-control-frames", T_UINT, F(http2_max_control), 1, 1000000, "1000", 0,
	  "SETTINGS, PING, PRIORITY and empty DATA frames one HTTP/2 connection may send in "
	  "10 s; more end it with GOAWAY (floods)" },
	{ "http2-max-header-frames", T_UINT, F(http2_max_header_frames), 1, 1000, "16", 0,
	  "HEADERS and CONTINUATION frames of one HTTP/2 header block; more end the "
	  "connection with GOAWAY (CONTINUATION flood)" },
	{ "tls-client-ca", T_TLSFILE, F(tls_client_ca), 0, 0, "", 0,
	  "CA bundle (PEM) that verify-client listeners check client certificates against" },
	{ "tls-ticket-lifetime", T_DURATION, F(tls_ticket_lifetime), 1, 7 * 86400, "1h", 0,
	  "how often the session-ticket key is replaced (a ticket lives twice this)" },
};
#pragma GCC diagnostic pop

#define NDIRECTIVES	(sizeof(directives) / sizeof(directives[0]))

/* Where the last file parsed gave each directive, for config_where(). */
static char	where_file[PATH_MAX];
static int	where_line[NDIRECTIVES];

struct parse_ctx {
	const char	*name;
	int		 line;
	int		 record;	/* a file's: config_where() remembers its lines */
	char		*err;
	size_t		 errlen;
	unsigned char	 seen[NDIRECTIVES];
};

static int __attribute__((format(printf, 2, 3)))
perr(struct parse_ctx *p, const char *fmt, ...)
{
	char	msg[400];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->name, p->line, msg);
	return -1;
}

/* A number with an optional unit suffix; units maps suffix letters to factors. */
static int
parse_scaled(const char *s, const char *units, const uint64_t *factors, uint64_t *out)
{
	char		 digits[32];
	size_t		 n = strlen(s);
	uint64_t	 v, f = 1;
	const char	*u;

	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, s, n + 1);
	if ((u = strchr(units, tolower((unsigned char)digits[n - 1]))) != NULL &&
	    digits[n - 1] != '\0') {
		f = factors[u - units];
		digits[n - 1] = '\0';
	}
	if (parse_uint(digits, UINT64_MAX / f, &v) == -1)
		return -1;
	*out = v * f;
	return 0;
}

/* ADDR:PORT or [IPV6]:PORT, numeric, into l; dname names it in errors. */
static int
parse_addr(struct parse_ctx *p, const char *dname, const char *arg, struct listen_addr *l)
{
	char			 host[64];
	const char		*colon, *port;
	unsigned char		 buf[16];
	uint64_t		 portnum;

	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (close == NULL || close[1] != ':')
			return perr(p, "%s: expected [IPV6]:PORT, got \"%s\"", dname, arg);
		if ((size_t)(close - arg - 1) >= sizeof(host))
			return perr(p, "%s: address too long", dname);
		memcpy(host, arg + 1, (size_t)(close - arg - 1));
		host[close - arg - 1] = '\0';
		port = close + 2;
	} else {
		if ((colon = strrchr(arg, ':')) == NULL)
			return perr(p, "%s: expected ADDR:PORT, got \"%s\"", dname, arg);
		if ((size_t)(colon - arg) >= sizeof(host))
			return perr(p, "%s: address too long", dname);
		memcpy(host, arg, (size_t)(colon - arg));
		host[colon - arg] = '\0';
		port = colon + 1;
		if (strcmp(host, "*") == 0)
			snprintf(host, sizeof(host), "0.0.0.0");
	}
	if (parse_uint(port, 65535, &portnum) == -1 || portnum == 0)
		return perr(p, "%s: bad port \"%s\"", dname, port);
	memset(l, 0, sizeof(*l));
	if (inet_pton(AF_INET, host, buf) == 1)
		l->family = AF_INET;
	else if (inet_pton(AF_INET6, host, buf) == 1)
		l->family = AF_INET6;
	else
		return perr(p, "%s: \"%s\" is not a numeric IPv4 or IPv6 address", dname,
		    host);
	snprintf(l->host, sizeof(l->host), "%s", host);
	snprintf(l->port, sizeof(l->port), "%u", (unsigned)portnum);
	return 0;
}

static int
parse_listen(struct parse_ctx *p, struct config *c, const char *arg)
{
	if (c->nlisten >= CONF_MAX_LISTEN)
		return perr(p, "listen: at most %d addresses", CONF_MAX_LISTEN);
	if (parse_addr(p, "listen", arg, &c->listen[c->nlisten]) == -1)
		return -1;
	c->nlisten++;
	return 0;
}

static void	set_str(char *field, size_t size, const char *s);
static int	proxy_check(const struct config *c, char *err, size_t errlen);

/*
 * listen ADDR:PORT... [tls [verify-client]]: the words after the addresses
 * apply to every address of the line.
 */
static int
apply_listen(struct parse_ctx *p, struct config *c, int first, char **words, int nwords)
{
	int	i, n = nwords, flags = 0, from;

	if (n > 1 && strcmp(words[n - 1], "proxy") == 0) {
		flags |= LISTEN_PROXY;
		n--;
	}
	if (n > 1 && strcmp(words[n - 1], "verify-client") == 0) {
		flags |= LISTEN_VERIFY;
		n--;
	}
	if (n > 1 && strcmp(words[n - 1], "tls") == 0) {
		flags |= LISTEN_TLS;
		n--;
	}
	if ((flags & LISTEN_VERIFY) && !(flags & LISTEN_TLS))
		return perr(p, "listen: verify-client needs tls (ADDR:PORT tls verify-client)");
	if (n < 2)
		return perr(p, "listen: expected ADDR:PORT");
	if (first)
		c->nlisten = 0;
	from = c->nlisten;
	for (i = 1; i < n; i++)
		if (parse_listen(p, c, words[i]) == -1)
			return -1;
	for (i = from; i < c->nlisten; i++)
		c->listen[i].flags = flags;
	return 0;
}

/* An absolute path a TLS file may have (CONF_TLS_PATH). */
static int
set_tls_file(struct parse_ctx *p, const char *dname, char *f, const char *arg)
{
	if (arg[0] != '/' || !str_is_printable(arg))
		return perr(p, "%s: \"%s\" is not an absolute path", dname, arg);
	if (strlen(arg) >= CONF_TLS_PATH)
		return perr(p, "%s: path too long (at most %d bytes)", dname,
		    CONF_TLS_PATH - 1);
	set_str(f, CONF_TLS_PATH, arg);
	return 0;
}

/* certificate HOST CERT KEY; HOST may be *.DOMAIN (one label deep). */
static int
parse_cert(struct parse_ctx *p, struct config *c, int first, char **words, int nwords)
{
	struct conf_cert	*e;
	const char		*host;
	int			 wild;

	if (nwords != 4)
		return perr(p, "certificate: expected HOST CERT KEY");
	if (first)
		c->ncerts = 0;
	if (c->ncerts == CONF_MAX_CERTS)
		return perr(p, "certificate: at most %d (more go in the TLS directory)",
		    CONF_MAX_CERTS);
	e = &c->certs[c->ncerts];
	memset(e, 0, sizeof(*e));
	wild = strncmp(words[1], "*.", 2) == 0;
	host = wild ? words[1] + 2 : words[1];
	if (route_canon_host(host, strlen(host), e->host + (wild ? 2 : 0),
	    sizeof(e->host) - 2) == -1 || strchr(host, ':') != NULL || strchr(host, '*'))
		return perr(p, "certificate: \"%s\" is not a host name or *.DOMAIN", words[1]);
	if (wild)
		memcpy(e->host, "*.", 2);
	if (set_tls_file(p, "certificate", e->crt, words[2]) == -1 ||
	    set_tls_file(p, "certificate", e->key, words[3]) == -1)
		return -1;
	c->ncerts++;
	return 0;
}

static int
parse_tls_protocols(struct parse_ctx *p, struct config *c, char **words, int nwords)
{
	int i;

	c->tls_protocols = 0;
	for (i = 1; i < nwords; i++) {
		if (strcmp(words[i], "TLSv1.2") == 0)
			c->tls_protocols |= TLS_PROTO_12;
		else if (strcmp(words[i], "TLSv1.3") == 0)
			c->tls_protocols |= TLS_PROTO_13;
		else
			return perr(p, "tls-protocols: \"%s\" is not TLSv1.2 or TLSv1.3 "
			    "(nothing older is spoken)", words[i]);
	}
	if (c->tls_protocols == 0)
		return perr(p, "tls-protocols: expected TLSv1.2 and/or TLSv1.3");
	return 0;
}

/* The bytes past the string zeroed too: the same value is the same bytes,
 * whatever the field held before (the dump's round trip compares them). */
static void
set_str(char *field, size_t size, const char *s)
{
	memset(field, 0, size);
	snprintf(field, size, "%s", s);
}

static int
check_host(struct parse_ctx *p, const char *dname, const char *arg, char *out, size_t outsz)
{
	memset(out, 0, outsz);
	if (route_canon_host(arg, strlen(arg), out, outsz) == -1 || strchr(arg, ':') != NULL)
		return perr(p, "%s: \"%s\" is not a valid host name", dname, arg);
	return 0;
}

static int
check_ext(struct parse_ctx *p, const char *dname, const char *w)
{
	const char *s;

	if (*w == '.')
		w++;
	if (*w == '\0' || strlen(w) >= CONF_EXT_LEN)
		return perr(p, "%s: bad extension \"%s\"", dname, w);
	for (s = w; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return perr(p, "%s: bad extension \"%s\"", dname, w);
	return 0;
}

static int
check_index_name(struct parse_ctx *p, const char *w)
{
	if (*w == '\0' || *w == '.' || strchr(w, '/') != NULL ||
	    strlen(w) >= CONF_INDEX_LEN || !str_is_printable(w))
		return perr(p, "index: bad file name \"%s\"", w);
	return 0;
}

/* interpreter EXT PATH|- [fastcgi]: the first one replaces the built-in table. */
static int
parse_interp(struct parse_ctx *p, struct config *c, int first, char **words, int nwords)
{
	struct interpreter	*in;
	const char		*ext;
	int			 i;

	if (nwords < 3 || nwords > 4 || (nwords == 4 && strcmp(words[3], "fastcgi") != 0))
		return perr(p, "interpreter: expected EXT PATH [fastcgi] (PATH - to run "
		    "the file itself)");
	if (check_ext(p, "interpreter", words[1]) == -1)
		return -1;
	ext = words[1][0] == '.' ? words[1] + 1 : words[1];
	if (strcmp(words[2], "-") != 0 && (words[2][0] != '/' ||
	    strlen(words[2]) >= sizeof(in->path) || !str_is_printable(words[2])))
		return perr(p, "interpreter: \"%s\" is not an absolute path", words[2]);
	if (first)
		c->ninterp = 0;
	for (i = 0; i < c->ninterp; i++)
		if (strcasecmp(c->interp[i].ext, ext) == 0)
			return perr(p, "interpreter: .%s given twice", ext);
	if (c->ninterp == CONF_MAX_INTERP)
		return perr(p, "interpreter: at most %d", CONF_MAX_INTERP);
	in = &c->interp[c->ninterp++];
	memset(in, 0, sizeof(*in));
	snprintf(in->ext, sizeof(in->ext), "%s", ext);
	for (char *s = in->ext; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	if (strcmp(words[2], "-") != 0)
		snprintf(in->path, sizeof(in->path), "%s", words[2]);
	in->fastcgi = nwords == 4;
	return 0;
}

/* One word of d's choices; the error lists them: "expected a, b or c". */
static int
parse_choice(struct parse_ctx *p, const struct directive *d, const char *word, int *out)
{
	const struct choice	*ch;
	char			 expect[128];
	size_t			 n = 0;

	for (ch = d->choices; ch->word != NULL; ch++)
		if (strcmp(ch->word, word) == 0) {
			*out = ch->value;
			return 0;
		}
	expect[0] = '\0';
	for (ch = d->choices; ch->word != NULL; ch++) {
		snprintf(expect + n, sizeof(expect) - n, "%s%s", ch == d->choices ? "" :
		    ch[1].word == NULL ? " or " : ", ", ch->word);
		n = strlen(expect);
	}
	return perr(p, "%s: expected %s", d->name, expect);
}

static const struct choice tsig_algs[] = {
	{ "hmac-sha256", TSIG_HMAC_SHA256 }, { "hmac-sha512", TSIG_HMAC_SHA512 },
	{ NULL, 0 }
};

/* acme-dns-update SERVER:PORT ZONE KEYNAME ALGORITHM SECRET-FILE.  The file
 * is only named here: lockerd -t and the master's start read it (dns01.c). */
static int
parse_dns_update(struct parse_ctx *p, struct config *c, const struct directive *d,
    char **words, int nwords)
{
	struct acme_dns_update	*u = &c->acme_dns;
	struct directive	 alg = *d;

	if (nwords != 6)
		return perr(p, "%s: expected SERVER:PORT ZONE KEYNAME hmac-sha256|hmac-sha512 "
		    "SECRET-FILE", d->name);
	memset(u, 0, sizeof(*u));
	if (parse_addr(p, d->name, words[1], &u->server) == -1 ||
	    check_host(p, d->name, words[2], u->zone, sizeof(u->zone)) == -1 ||
	    check_host(p, d->name, words[3], u->keyname, sizeof(u->keyname)) == -1)
		return -1;
	alg.choices = tsig_algs;
	if (parse_choice(p, &alg, words[4], &u->alg) == -1)
		return -1;
	if (words[5][0] != '/' || strlen(words[5]) >= sizeof(u->secret_file) ||
	    !str_is_printable(words[5]))
		return perr(p, "%s: \"%s\" is not an absolute path", d->name, words[5]);
	set_str(u->secret_file, sizeof(u->secret_file), words[5]);
	return 0;
}

/* hesiod-key KEYNAME ALGORITHM SECRET-FILE: as acme-dns-update's key. */
static int
parse_tsig_key(struct parse_ctx *p, struct config *c, const struct directive *d,
    char **words, int nwords)
{
	struct hesiod_conf	*h = &c->hesiod;
	struct directive	 alg = *d;

	if (nwords != 4)
		return perr(p, "%s: expected KEYNAME hmac-sha256|hmac-sha512 SECRET-FILE",
		    d->name);
	if (check_host(p, d->name, words[1], h->keyname, sizeof(h->keyname)) == -1)
		return -1;
	alg.choices = tsig_algs;
	if (parse_choice(p, &alg, words[2], &h->alg) == -1)
		return -1;
	if (words[3][0] != '/' || strlen(words[3]) >= sizeof(h->secret_file) ||
	    !str_is_printable(words[3]))
		return perr(p, "%s: \"%s\" is not an absolute path", d->name, words[3]);
	set_str(h->secret_file, sizeof(h->secret_file), words[3]);
	return 0;
}

/* The words of the line after the directive's name, one space between. */
static int
parse_text(struct parse_ctx *p, struct config *c, const struct directive *d, char **words,
    int nwords)
{
	char	*field = (char *)c + d->off;
	size_t	 n = 0;
	int	 i;

	field[0] = '\0';
	for (i = 1; i < nwords; i++) {
		if (!str_is_printable(words[i]) || n + strlen(words[i]) + 2 > d->size)
			return perr(p, "%s: longer than %zu characters, or not printable",
			    d->name, d->size - 1);
		n += (size_t)snprintf(field + n, d->size - n, "%s%s", i > 1 ? " " : "",
		    words[i]);
	}
	return 0;
}

/* sql none | sql mariadb SOCKET|ADDR:PORT CREDENTIALS-FILE.  The socket must
 * be mysqld.sock: its directory is what lockers see at /run/mysqld. */
static int
parse_sql(struct parse_ctx *p, struct config *c, const struct directive *d, char **words,
    int nwords)
{
	struct sql_conf	*q = &c->sql;
	const char	*slash;

	memset(q, 0, sizeof(*q));
	if (nwords == 2 && strcmp(words[1], "none") == 0)
		return 0;
	if (nwords != 4 || strcmp(words[1], "mariadb") != 0)
		return perr(p, "%s: expected none, or mariadb SOCKET|ADDR:PORT CREDENTIALS-FILE",
		    d->name);
	if (words[2][0] == '/') {
		slash = strrchr(words[2], '/');
		if (strlen(words[2]) >= sizeof(q->socket) || !str_is_printable(words[2]) ||
		    slash == words[2] || strcmp(slash + 1, SQL_SOCKET_NAME) != 0)
			return perr(p, "%s: the socket \"%s\" must be an absolute path ending in "
			    "/" SQL_SOCKET_NAME " (lockers see its directory at /run/mysqld)",
			    d->name, words[2]);
		set_str(q->socket, sizeof(q->socket), words[2]);
	} else if (parse_addr(p, d->name, words[2], &q->addr) == -1)
		return -1;
	if (words[3][0] != '/' || strlen(words[3]) >= sizeof(q->creds_file) ||
	    !str_is_printable(words[3]))
		return perr(p, "%s: \"%s\" is not an absolute path", d->name, words[3]);
	set_str(q->creds_file, sizeof(q->creds_file), words[3]);
	q->kind = SQL_MARIADB;
	return 0;
}

/* directory sqlite | directory postgres FILE (the conninfo's file, root's) */
static int
parse_directory(struct parse_ctx *p, struct config *c, const struct directive *d,
    char **words, int nwords)
{
	c->directory = DIRECTORY_SQLITE;
	c->directory_conninfo[0] = '\0';
	if (nwords == 2 && strcmp(words[1], "sqlite") == 0)
		return 0;
	if (nwords != 3 || strcmp(words[1], "postgres") != 0)
		return perr(p, "%s: expected sqlite, or postgres CONNINFO-FILE", d->name);
	if (words[2][0] != '/' || strlen(words[2]) >= sizeof(c->directory_conninfo) ||
	    !str_is_printable(words[2]))
		return perr(p, "%s: \"%s\" is not an absolute path", d->name, words[2]);
	set_str(c->directory_conninfo, sizeof(c->directory_conninfo), words[2]);
	c->directory = DIRECTORY_POSTGRES;
	return 0;
}

/* proxy-from ADDR[/BITS]...: whose PROXY header is believed. */
static int
apply_nets(struct parse_ctx *p, struct config *c, int first, char **words, int nwords)
{
	int	i;

	if (first)
		c->nproxy_from = 0;
	if (nwords < 2)
		return perr(p, "proxy-from: expected an address or network (10.0.0.5, 10.0.0.0/24)");
	for (i = 1; i < nwords; i++) {
		if (c->nproxy_from >= CONF_MAX_PROXY_FROM)
			return perr(p, "proxy-from: at most %d", CONF_MAX_PROXY_FROM);
		if (net_parse(words[i], &c->proxy_from[c->nproxy_from]) == -1)
			return perr(p, "proxy-from: \"%s\" is not a numeric address or network "
			    "(ADDR or ADDR/BITS, no host bits set)", words[i]);
		c->nproxy_from++;
	}
	return 0;
}

/* A CONF_REPEAT directive's line; its first line replaces the default. */
static int
apply_list(struct parse_ctx *p, struct config *c, const struct directive *d,
    int first, char **words, int nwords)
{
	char	*field = (char *)c + d->off;
	int	 i;

	switch (d->type) {
	case T_LISTEN:
		return apply_listen(p, c, first, words, nwords);
	case T_CERT:
		return parse_cert(p, c, first, words, nwords);
	case T_TLSPROTO:
		return parse_tls_protocols(p, c, words, nwords);
	case T_MAILDOMAINS:
		if (first)
			c->nmail_lmtp_domains = 0;
		if (nwords < 2)
			return perr(p, "%s: expected a domain", d->name);
		for (i = 1; i < nwords; i++) {
			if (c->nmail_lmtp_domains >= CONF_MAX_LMTP_DOMAINS)
				return perr(p, "%s: at most %d", d->name, CONF_MAX_LMTP_DOMAINS);
			if (check_host(p, d->name, words[i], c->mail_lmtp_domains[c->nmail_lmtp_domains],
			    sizeof(c->mail_lmtp_domains[0])) == -1)
				return -1;
			c->nmail_lmtp_domains++;
		}
		return 0;
	case T_NETS:
		return apply_nets(p, c, first, words, nwords);
	case T_HOSTNAMES:
		if (nwords < 2)
			return perr(p, "hostname: expected a host name");
		for (i = 1; i < nwords; i++) {
			if (c->nhostnames >= CONF_MAX_HOSTNAMES)
				return perr(p, "hostname: at most %d", CONF_MAX_HOSTNAMES);
			if (check_host(p, d->name, words[i], c->hostnames[c->nhostnames],
			    sizeof(c->hostnames[0])) == -1)
				return -1;
			c->nhostnames++;
		}
		return 0;
	case T_EXTLIST: {
		char	(*list)[CONF_EXT_LEN] = (char (*)[CONF_EXT_LEN])field;
		int	*n = &c->nstatic_ext;

		if (first)
			*n = 0;
		for (i = 1; i < nwords; i++) {
			const char *w = words[i][0] == '.' ? words[i] + 1 : words[i];

			if (check_ext(p, d->name, words[i]) == -1)
				return -1;
			if (*n >= CONF_MAX_EXT)
				return perr(p, "%s: at most %d extensions", d->name, CONF_MAX_EXT);
			set_str(list[(*n)++], CONF_EXT_LEN, w);
			for (char *s = list[*n - 1]; *s; s++)
				*s = (char)tolower((unsigned char)*s);
		}
		return 0;
	}
	case T_INTERP:
		return parse_interp(p, c, first, words, nwords);
	case T_INDEXLIST:
		if (first)
			c->nindex = 0;
		if (nwords < 2)
			return perr(p, "index: expected file names");
		for (i = 1; i < nwords; i++) {
			if (check_index_name(p, words[i]) == -1)
				return -1;
			if (c->nindex >= CONF_MAX_INDEX)
				return perr(p, "index: at most %d names", CONF_MAX_INDEX);
			set_str(c->index[c->nindex++], CONF_INDEX_LEN, words[i]);
		}
		return 0;
	default:
		return perr(p, "%s: internal error", d->name);
	}
}

/* The one argument of a directive that may appear once. */
static int
apply_one(struct parse_ctx *p, struct config *c, const struct directive *d, char *arg)
{
	char		*field = (char *)c + d->off;
	uint64_t	 v;
	static const uint64_t dur_f[] = { 1, 60, 3600, 86400 };
	static const uint64_t size_f[] = { 1024, 1024 * 1024, 1024 * 1024 * 1024 };

	switch (d->type) {
	case T_PATH:
		if (arg[0] != '/')
			return perr(p, "%s: \"%s\" is not an absolute path", d->name, arg);
		if (strlen(arg) >= d->size || strlen(arg) > PATH_MAX / 2)
			return perr(p, "%s: path too long", d->name);
		set_str(field, d->size, arg);
		while (strlen(field) > 1 && field[strlen(field) - 1] == '/')
			field[strlen(field) - 1] = '\0';
		return 0;
	case T_SOCKPATH:
		if (strcmp(arg, "none") == 0) {
			field[0] = '\0';
			return 0;
		}
		if (arg[0] != '/')
			return perr(p, "%s: \"%s\" is neither none nor an absolute path", d->name,
			    arg);
		if (strlen(arg) >= d->size)
			return perr(p, "%s: path too long for a Unix socket", d->name);
		set_str(field, d->size, arg);
		return 0;
	case T_WORD:
		if (strlen(arg) >= d->size || !str_is_printable(arg))
			return perr(p, "%s: bad value \"%s\"", d->name, arg);
		set_str(field, d->size, arg);
		return 0;
	case T_HOST:
		return check_host(p, d->name, arg, field, d->size);
	case T_UINT:
		if (parse_uint(arg, d->max, &v) == -1 || v < d->min)
			return perr(p, "%s: expected a number from %llu to %llu", d->name,
			    (unsigned long long)d->min, (unsigned long long)d->max);
		*(uint32_t *)field = (uint32_t)v;
		return 0;
	case T_DURATION:
		if (parse_scaled(arg, "smhd", dur_f, &v) == -1 || v < d->min || v > d->max)
			return perr(p, "%s: expected a duration from %llus to %llus "
			    "(like 30, 30s, 5m, 1h)", d->name,
			    (unsigned long long)d->min, (unsigned long long)d->max);
		*(uint32_t *)field = (uint32_t)v;
		return 0;
	case T_SIZE:
		if (parse_scaled(arg, "kmg", size_f, &v) == -1 || v < d->min || v > d->max)
			return perr(p, "%s: expected a size from %llu to %llu bytes "
			    "(like 16384, 16k, 1m)", d->name,
			    (unsigned long long)d->min, (unsigned long long)d->max);
		if (d->size == sizeof(uint64_t))
			*(uint64_t *)field = v;
		else
			*(uint32_t *)field = (uint32_t)v;
		return 0;
	case T_UIDRANGE: {
		char		 lo[24], *dash;
		uint64_t	 a, b;

		if ((dash = strchr(arg, '-')) == NULL ||
		    (size_t)(dash - arg) >= sizeof(lo))
			return perr(p, "uid-range: expected LOW-HIGH");
		memcpy(lo, arg, (size_t)(dash - arg));
		lo[dash - arg] = '\0';
		if (parse_uint(lo, d->max, &a) == -1 || parse_uint(dash + 1, d->max, &b) == -1)
			return perr(p, "uid-range: expected LOW-HIGH");
		if (a < d->min || b < a)
			return perr(p, "uid-range: need %llu <= LOW <= HIGH",
			    (unsigned long long)d->min);
		c->uid_low = (uint32_t)a;
		c->uid_high = (uint32_t)b;
		return 0;
	}
	case T_CHOICE:
		return parse_choice(p, d, arg, (int *)field);
	case T_TLSFILE:
		return set_tls_file(p, d->name, field, arg);
	case T_GROUPSIGNUP:
		if (strcmp(arg, "yes") == 0)
			c->group_signup = GROUP_SIGNUP_YES;
		else if (strcmp(arg, "no") == 0)
			c->group_signup = GROUP_SIGNUP_NO;
		else {
			if (strlen(arg) >= sizeof(c->group_signup_group) ||
			    !str_is_printable(arg) || strchr(arg, ':') != NULL)
				return perr(p, "%s: expected yes, no or a group name", d->name);
			c->group_signup = GROUP_SIGNUP_GROUP;
			set_str(c->group_signup_group, sizeof(c->group_signup_group),
			    arg);
		}
		return 0;
	case T_ADDR:
		if (strcmp(arg, "none") == 0) {		/* unset, as by default */
			memset(field, 0, sizeof(struct listen_addr));
			return 0;
		}
		return parse_addr(p, d->name, arg, (struct listen_addr *)(void *)field);
	case T_PROCS:
		if (strcmp(arg, "auto") == 0) {
			c->front_processes = 0;
			return 0;
		}
		if (parse_uint(arg, d->max, &v) == -1 || v < d->min)
			return perr(p, "front-processes: expected auto or 1..%llu",
			    (unsigned long long)d->max);
		c->front_processes = (int)v;
		return 0;
	default:
		return perr(p, "%s: internal error", d->name);
	}
}

/* Apply one directive; words[0] is its name, nwords >= 1. */
static int
apply(struct parse_ctx *p, struct config *c, const struct directive *d,
    int first, char **words, int nwords)
{
	if (d->flags & CONF_REPEAT)
		return apply_list(p, c, d, first, words, nwords);
	if (d->type == T_DNSUPDATE)
		return first ? parse_dns_update(p, c, d, words, nwords) :
		    perr(p, "%s: given twice", d->name);
	if (d->type == T_SQL)
		return first ? parse_sql(p, c, d, words, nwords) :
		    perr(p, "%s: given twice", d->name);
	if (d->type == T_DIRECTORY)
		return first ? parse_directory(p, c, d, words, nwords) :
		    perr(p, "%s: given twice", d->name);
	if (d->type == T_TSIGKEY || d->type == T_TEXT)
		return !first ? perr(p, "%s: given twice", d->name) : d->type == T_TEXT ?
		    parse_text(p, c, d, words, nwords) : parse_tsig_key(p, c, d, words, nwords);
	if (nwords != 2)
		return perr(p, "%s: expected one argument", d->name);
	if (!first)
		return perr(p, "%s: given twice", d->name);
	return apply_one(p, c, d, words[1]);
}

static int
parse_line(struct parse_ctx *p, struct config *c, char *line)
{
	char	*words[CONF_MAX_EXT + 2], *s, *hash;
	int	 nwords = 0;
	size_t	 i;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	for (s = line; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\r')
			return perr(p, "control character in line");
	for (s = strtok(line, " \t\r"); s != NULL; s = strtok(NULL, " \t\r")) {
		if (nwords == (int)(sizeof(words) / sizeof(words[0])))
			return perr(p, "too many words");
		words[nwords++] = s;
	}
	if (nwords == 0)
		return 0;
	for (i = 0; i < NDIRECTIVES; i++) {
		if (strcmp(words[0], directives[i].name) == 0) {
			int first = !p->seen[i];

			if (first && p->record)
				where_line[i] = p->line;
			p->seen[i] = 1;
			return apply(p, c, &directives[i], first, words, nwords);
		}
	}
	return perr(p, "unknown directive \"%s\"", words[0]);
}

/*
 * text's lines ('\n'-separated) applied to c as a file's would be; each
 * starts with name where name is not NULL (a default's text is only the
 * arguments).  p is the caller's: its seen[] says what was given before.
 */
static int
apply_lines(struct parse_ctx *p, struct config *c, const char *name, const char *text)
{
	char		 line[8192];
	const char	*s;
	size_t		 n;

	for (s = text; *s != '\0'; s += n + (s[n] == '\n')) {
		n = strcspn(s, "\n");
		p->line++;
		if ((size_t)snprintf(line, sizeof(line), "%s%s%.*s", name ? name : "",
		    name ? " " : "", (int)n, s) >= sizeof(line))
			return perr(p, "line too long");
		if (parse_line(p, c, line) == -1)
			return -1;
	}
	return 0;
}

/*
 * The defaults are the table's texts, parsed like a file's lines: they
 * cannot take a value the parser would refuse.  One that fails is a bug
 * in the table (test_config parses each).  Parsed once, then copied: every
 * config_parse() starts from them (the fuzzer's too).
 */
static void
defaults_build(struct config *c)
{
	struct parse_ctx	p;
	char			err[512];
	size_t			i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NDIRECTIVES; i++) {
		memset(&p, 0, sizeof(p));
		p.name = directives[i].name;
		p.err = err;
		p.errlen = sizeof(err);
		if (apply_lines(&p, c, directives[i].name, directives[i].dflt) == -1) {
			log_warnx("the default of %s", err);
			abort();
		}
	}
}

void
config_defaults(struct config *c)
{
	static struct config	dflt;
	static int		built;

	if (!built) {
		defaults_build(&dflt);
		built = 1;
	}
	*c = dflt;
}

/* The host name up to its first dot, in lower case: a node's name by default. */
static void
node_default(char *out, size_t outsz)
{
	char	h[256];
	size_t	i;

	if (gethostname(h, sizeof(h)) == -1 || h[0] == '\0')
		snprintf(h, sizeof(h), "localhost");
	h[sizeof(h) - 1] = '\0';
	h[strcspn(h, ".")] = '\0';
	for (i = 0; h[i] != '\0'; i++)
		h[i] = (char)tolower((unsigned char)h[i]);
	snprintf(out, outsz, "%.*s", (int)(outsz - 1), h);
}

/* A node's name: what a host name's first label may be. */
int
node_name_ok(const char *n)
{
	size_t	i, len = strlen(n);

	if (len == 0 || len > 63 || n[0] == '-' || n[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!islower((unsigned char)n[i]) && !isdigit((unsigned char)n[i]) && n[i] != '-')
			return 0;
	return 1;
}

int
config_parse(struct config *c, const char *name, const char *text, size_t len,
    char *err, size_t errlen)
{
	struct parse_ctx	 p;
	char			 line[8192];
	size_t			 i = 0;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.err = err;
	p.errlen = errlen;
	p.record = 1;
	snprintf(where_file, sizeof(where_file), "%s", name);
	memset(where_line, 0, sizeof(where_line));
	config_defaults(c);
	while (i < len) {
		const char	*nl = memchr(text + i, '\n', len - i);
		size_t		 n = nl ? (size_t)(nl - (text + i)) : len - i;

		p.line++;
		if (n >= sizeof(line))
			return perr(&p, "line too long");
		memcpy(line, text + i, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL)
			return perr(&p, "NUL byte in line");
		if (parse_line(&p, c, line) == -1)
			return -1;
		i += n + 1;
	}
	snprintf(c->path, sizeof(c->path), "%s", name);
	if (c->node[0] == '\0')
		node_default(c->node, sizeof(c->node));
	return 0;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		*text;
	ssize_t		 n;
	int		 fd, rc;

	config_defaults(c);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	/* A file others can write would let them choose our lockers root. */
	if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0) ||
	    (st.st_uid != 0 && st.st_uid != getuid())) {
		snprintf(err, errlen, "%s: refusing a file that others can write "
		    "(owner %u, mode %04o)", path, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if (st.st_size > 1 << 20) {
		snprintf(err, errlen, "%s: file too large", path);
		close(fd);
		return -1;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(text);
		snprintf(err, errlen, "%s: short read", path);
		return -1;
	}
	rc = config_parse(c, path, text, (size_t)n, err, errlen);
	free(text);
	if (rc == 0)
		rc = config_validate(c, err, errlen);
	return rc;
}

/*
 * tls-dir may be inside state (its default is), but never where a locker
 * or logd writes, nor where a locker's jail shows the host's files: the
 * private keys would be theirs to read or replace.
 */
static int
tls_dir_validate(const struct config *c, char *err, size_t errlen)
{
	const char	*why = NULL;

	if (path_is_under(c->tls_dir, c->lockers) || path_is_under(c->lockers, c->tls_dir))
		why = "must not be inside lockers, nor hold it";
	else if (path_is_under(c->tls_dir, c->logs) || path_is_under(c->logs, c->tls_dir))
		why = "must not be inside logs, nor hold it";
	else if (strcmp(c->tls_dir, c->state) == 0 || path_is_under(c->state, c->tls_dir))
		why = "must not be state, nor hold it";
	else if (jail_system_clash(c->tls_dir, 1))
		why = "must not be where each locker's jail shows the host's files";
	else if (jail_tmp_clash(c->tls_dir))
		why = "must not be under /tmp";
	if (why == NULL)
		return 0;
	snprintf(err, errlen, "%s: tls-dir (%s) %s", c->path, c->tls_dir, why);
	return -1;
}

/* The CA's URLs: HTTPS only (its answers and our account key travel there). */
static int
acme_url_check(const struct config *c, char *err, size_t errlen)
{
	const char	*urls[2] = { c->acme_ca, c->acme_ca_fallback };
	const char	*names[2] = { "acme-ca", "acme-ca-fallback" };
	int		 i;

	for (i = 0; i < 2; i++)
		if (urls[i][0] != '\0' && (strncmp(urls[i], "https://", 8) != 0 ||
		    urls[i][8] == '\0' || urls[i][8] == '/')) {
			snprintf(err, errlen, "%s: %s: \"%s\" is not an https:// URL",
			    config_where(names[i]), names[i], urls[i]);
			return -1;
		}
	if (c->acme_ca[0] == '\0' && c->acme_ca_fallback[0] != '\0') {
		snprintf(err, errlen, "%s: acme-ca-fallback needs acme-ca",
		    config_where("acme-ca-fallback"));
		return -1;
	}
	if (c->acme_ca[0] != '\0' && !config_has_tls(c) &&
	    c->acme_challenge == ACME_CHAL_TLSALPN01) {
		snprintf(err, errlen, "%s: acme-challenge tls-alpn-01 needs a TLS listener "
		    "(listen ADDR:PORT tls)", config_where("acme-challenge"));
		return -1;
	}
	return 0;
}

/* name is zone or below it (both canonical). */
static int
name_in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	return strcmp(name, zone) == 0 ||
	    (n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0);
}

int
config_validate(const struct config *c, char *err, size_t errlen)
{
	const char *dirs[3] = { c->lockers, c->state, c->logs };
	const char *names[3] = { "lockers", "state", "logs" };
	int i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			if (i != j && path_is_under(dirs[i], dirs[j])) {
				snprintf(err, errlen, "%s: %s (%s) must not be inside %s (%s)",
				    c->path, names[i], dirs[i], names[j], dirs[j]);
				return -1;
			}
	for (i = 0; i < 3; i++)
		if (jail_system_clash(dirs[i], i == 0)) {
			snprintf(err, errlen, "%s: %s (%s) would hide a system directory, or "
			    "be under one that each locker's jail builds itself", c->path,
			    names[i], dirs[i]);
			return -1;
		}
	for (i = 0; i < 3; i++)
		if (jail_tmp_clash(dirs[i])) {
			snprintf(err, errlen, "%s: %s (%s) must not be under /tmp: every "
			    "locker gets its own /tmp", c->path, names[i], dirs[i]);
			return -1;
		}
	if (tls_dir_validate(c, err, errlen) == -1)
		return -1;
	if (!node_name_ok(c->node)) {
		snprintf(err, errlen, "%s: node \"%s\": a node's name is 1-63 lower-case letters, "
		    "digits and '-' (as a host name's first label)", config_where("node"), c->node);
		return -1;
	}
	if (jail_releases_clash(c) != NULL) {
		snprintf(err, errlen, "%s: app-releases (%s) %s", config_where("app-releases"),
		    c->app_releases, jail_releases_clash(c));
		return -1;
	}
	/* An image is a file on this machine's disk, mounted here: another
	 * node could neither see the home's files nor mount it too. */
	if (c->directory == DIRECTORY_POSTGRES && c->disk_quota == DISK_QUOTA_IMAGE) {
		snprintf(err, errlen, "%s: disk-quota image keeps each locker's files in an "
		    "image on this machine's own disk; in a fleet (directory postgres) the "
		    "lockers root is shared storage: use disk-quota btrfs on the file server's "
		    "side, or none", config_where("disk-quota"));
		return -1;
	}
	if (c->disk_limit != 0 && c->disk_quota == DISK_QUOTA_NONE) {
		snprintf(err, errlen, "%s: disk-limit needs a way to keep it: set disk-quota "
		    "btrfs (or disk-limit 0)", c->path);
		return -1;
	}
	if (c->locker_network == LOCKER_NET_PRIVATE && access(PASTA_PATH, X_OK) == -1) {
		snprintf(err, errlen, "%s: locker-network private needs %s (Debian package "
		    "passt), which is not installed; or set locker-network host", c->path,
		    PASTA_PATH);
		return -1;
	}
	if (acme_url_check(c, err, errlen) == -1)
		return -1;
	if (c->hesiod.server.host[0] != '\0' &&
	    (c->hesiod.zone[0] == '\0' || c->hesiod.keyname[0] == '\0')) {
		snprintf(err, errlen, "%s: hesiod-server needs hesiod-zone and hesiod-key",
		    config_where("hesiod-server"));
		return -1;
	}
	if (c->acme_dns.server.host[0] != '\0' && !name_in_zone(c->domain, c->acme_dns.zone)) {
		snprintf(err, errlen, "%s: acme-dns-update: the zone %s does not hold the domain "
		    "%s, whose wildcard's challenge is _acme-challenge.%s", c->path,
		    c->acme_dns.zone, c->domain, c->domain);
		return -1;
	}
	if (c->https_only && !config_has_tls(c)) {
		snprintf(err, errlen, "%s: https-only yes needs a TLS listener (listen ADDR:PORT "
		    "tls): plain HTTP would be sent nowhere", c->path);
		return -1;
	}
	if (proxy_check(c, err, errlen) == -1)
		return -1;
	if (c->max_request_line > c->max_header_size) {
		snprintf(err, errlen, "%s: max-request-line is larger than max-header-size",
		    c->path);
		return -1;
	}
	return 0;
}

int
config_line_of(const struct config *c, const char *directive, int nth)
{
	FILE	*f;
	char	 line[8192];
	size_t	 n = strlen(directive);
	int	 no = 0, found = 0;

	if ((f = fopen(c->path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *s = line + strspn(line, " \t");

		no++;
		if (strncmp(s, directive, n) == 0 && (s[n] == ' ' || s[n] == '\t') &&
		    nth-- == 0) {
			found = no;
			break;
		}
	}
	fclose(f);
	return found;
}

/* A proxy listener believes only proxy-from; proxy-from alone is a mistake. */
static int
proxy_check(const struct config *c, char *err, size_t errlen)
{
	int i, proxied = 0;

	for (i = 0; i < c->nlisten; i++)
		proxied |= c->listen[i].flags & LISTEN_PROXY;
	if (proxied && c->nproxy_from == 0) {
		snprintf(err, errlen, "%s: listen ... proxy needs proxy-from (the load balancers' "
		    "addresses): no one else's PROXY header may be believed", config_where("listen"));
		return -1;
	}
	if (!proxied && c->nproxy_from > 0) {
		snprintf(err, errlen, "%s: proxy-from without a proxy listener (listen ADDR:PORT "
		    "[tls] proxy): no listener takes a PROXY header", config_where("proxy-from"));
		return -1;
	}
	return 0;
}

int
config_has_tls(const struct config *c)
{
	int i;

	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].flags & LISTEN_TLS)
			return 1;
	return 0;
}

/* Whether each locker gets a network namespace of its own: only when asked
 * for.  Not by default, because each warm locker then costs a pasta of
 * ~29 MB and ~100 ms of CPU outside its cgroups (so anyone who requests
 * many lockers' pages makes the machine spend 10x the memory a worker
 * costs), a cold start triples, and a resolver on the machine's loopback
 * or a page that fetches its own public URL stops working (SECURITY.md). */
int
config_locker_netns(const struct config *c)
{
	return c->locker_network == LOCKER_NET_PRIVATE;
}

int
config_static_ext(const struct config *c, const char *ext)
{
	int i;

	for (i = 0; i < c->nstatic_ext; i++)
		if (strcasecmp(c->static_ext[i], ext) == 0)
			return 1;
	return 0;
}


/* ------------------------------------------------------------ dump */

struct text {
	char	buf[16384];	/* more than the longest directive takes */
	size_t	len;
};

static void __attribute__((format(printf, 2, 3)))
put(struct text *t, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	t->len += strlen(t->buf + t->len);
}

static void
put_list(struct text *t, const char *name, const char *list, size_t stride, int n)
{
	int i;

	put(t, "%s", name);
	for (i = 0; i < n; i++)
		put(t, " %s", list + (size_t)i * stride);
	put(t, "\n");
}

/* "name ADDR:PORT" (nothing for an unset address), then end. */
static void
put_addr(struct text *t, const char *name, const struct listen_addr *l, const char *end)
{
	if (l->host[0] == '\0')
		return;
	put(t, l->family == AF_INET6 ? "%s [%s]:%s%s" : "%s %s:%s%s", name, l->host, l->port,
	    end);
}

static const char *
choice_word(const struct directive *d, int value)
{
	const struct choice *ch;

	for (ch = d->choices; ch->word != NULL; ch++)
		if (ch->value == value)
			return ch->word;
	return "?";
}

/* d's value in c as the lines a file would hold ("" for none), appended to t. */
static void
put_directive(struct text *t, const struct config *c, const struct directive *d)
{
	const char	*field = (const char *)c + d->off;
	int		 i;

	switch (d->type) {
	case T_LISTEN:
		for (i = 0; i < c->nlisten; i++)
			put(t, c->listen[i].family == AF_INET6 ? "%s [%s]:%s%s%s%s\n" :
			    "%s %s:%s%s%s%s\n", d->name, c->listen[i].host, c->listen[i].port,
			    c->listen[i].flags & LISTEN_TLS ? " tls" : "",
			    c->listen[i].flags & LISTEN_VERIFY ? " verify-client" : "",
			    c->listen[i].flags & LISTEN_PROXY ? " proxy" : "");
		break;
	case T_NETS:
		for (i = 0; i < c->nproxy_from; i++) {
			char net[INET6_ADDRSTRLEN + 8];

			net_format(&c->proxy_from[i], net, sizeof(net));
			put(t, "%s %s\n", d->name, net);
		}
		break;
	case T_CERT:
		for (i = 0; i < c->ncerts; i++)
			put(t, "%s %s %s %s\n", d->name, c->certs[i].host, c->certs[i].crt,
			    c->certs[i].key);
		break;
	case T_TLSPROTO:
		put(t, "%s%s%s\n", d->name, c->tls_protocols & TLS_PROTO_12 ? " TLSv1.2" : "",
		    c->tls_protocols & TLS_PROTO_13 ? " TLSv1.3" : "");
		break;
	case T_TLSFILE:
		if (field[0] != '\0')
			put(t, "%s %s\n", d->name, field);
		break;
	case T_HOSTNAMES:
		for (i = 0; i < c->nhostnames; i++)
			put(t, "%s %s\n", d->name, c->hostnames[i]);
		break;
	case T_MAILDOMAINS:
		for (i = 0; i < c->nmail_lmtp_domains; i++)
			put(t, "%s %s\n", d->name, c->mail_lmtp_domains[i]);
		break;
	case T_SOCKPATH:
		put(t, "%s %s\n", d->name, field[0] ? field : "none");
		break;
	case T_PATH:
	case T_WORD:
	case T_HOST:
		if (field[0] != '\0')	/* "" is none, as no line says */
			put(t, "%s %s\n", d->name, field);
		break;
	case T_UINT:
		put(t, "%s %u\n", d->name, *(const uint32_t *)(const void *)field);
		break;
	case T_DURATION:
		put(t, "%s %us\n", d->name, *(const uint32_t *)(const void *)field);
		break;
	case T_SIZE:
		put(t, "%s %llu\n", d->name, d->size == sizeof(uint64_t) ?
		    (unsigned long long)*(const uint64_t *)(const void *)field :
		    (unsigned long long)*(const uint32_t *)(const void *)field);
		break;
	case T_EXTLIST:
		put_list(t, d->name, c->static_ext[0], CONF_EXT_LEN, c->nstatic_ext);
		break;
	case T_INDEXLIST:
		put_list(t, d->name, c->index[0], CONF_INDEX_LEN, c->nindex);
		break;
	case T_INTERP:
		for (i = 0; i < c->ninterp; i++)
			put(t, "%s %s %s%s\n", d->name, c->interp[i].ext,
			    c->interp[i].path[0] ? c->interp[i].path : "-",
			    c->interp[i].fastcgi ? " fastcgi" : "");
		break;
	case T_UIDRANGE:
		put(t, "%s %u-%u\n", d->name, c->uid_low, c->uid_high);
		break;
	case T_PROCS:
		if (c->front_processes == 0)
			put(t, "%s auto\n", d->name);
		else
			put(t, "%s %d\n", d->name, c->front_processes);
		break;
	case T_CHOICE:
		put(t, "%s %s\n", d->name, choice_word(d, *(const int *)(const void *)field));
		break;
	case T_GROUPSIGNUP:
		put(t, "%s %s\n", d->name, c->group_signup == GROUP_SIGNUP_YES ? "yes" :
		    c->group_signup == GROUP_SIGNUP_NO ? "no" : c->group_signup_group);
		break;
	case T_ADDR:
		put_addr(t, d->name, (const struct listen_addr *)(const void *)field, "\n");
		break;
	case T_SQL:
		if (c->sql.kind == SQL_NONE)
			put(t, "%s none\n", d->name);
		else if (c->sql.socket[0] != '\0')
			put(t, "%s mariadb %s %s\n", d->name, c->sql.socket, c->sql.creds_file);
		else {
			put_addr(t, "sql mariadb", &c->sql.addr, "");
			put(t, " %s\n", c->sql.creds_file);
		}
		break;
	case T_DIRECTORY:
		if (c->directory == DIRECTORY_POSTGRES)
			put(t, "%s postgres %s\n", d->name, c->directory_conninfo);
		else
			put(t, "%s sqlite\n", d->name);
		break;
	case T_TSIGKEY:
		if (c->hesiod.keyname[0] != '\0')
			put(t, "%s %s %s %s\n", d->name, c->hesiod.keyname,
			    c->hesiod.alg == TSIG_HMAC_SHA512 ? "hmac-sha512" : "hmac-sha256",
			    c->hesiod.secret_file);
		break;
	case T_TEXT:
		if (field[0] != '\0')
			put(t, "%s %s\n", d->name, field);
		break;
	case T_DNSUPDATE: {
		const struct acme_dns_update *u = &c->acme_dns;

		if (u->server.host[0] == '\0')
			break;
		put_addr(t, d->name, &u->server, "");
		put(t, " %s %s %s %s\n", u->zone, u->keyname,
		    u->alg == TSIG_HMAC_SHA512 ? "hmac-sha512" : "hmac-sha256", u->secret_file);
		break;
	}
	}
}

/* Every directive, in the table's order: a file that gives c back
 * (malloc'd; NULL if out of memory). */
char *
config_text(const struct config *c)
{
	struct text	*t;
	char		*out = NULL, *p;
	size_t		 i, len = 0;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	for (i = 0; i < NDIRECTIVES; i++) {
		t->len = 0;
		put_directive(t, c, &directives[i]);
		if ((p = realloc(out, len + t->len + 1)) == NULL) {
			free(out);
			out = NULL;
			break;
		}
		out = p;
		memcpy(out + len, t->buf, t->len);
		out[len += t->len] = '\0';
	}
	free(t);
	return out;
}

void
config_dump(const struct config *c, int fd)
{
	char *text = config_text(c);

	dprintf(fd, "# %s\n", c->path);
	if (text != NULL)
		write_all(fd, text, strlen(text));
	free(text);
}

/*
 * SIGHUP: a directive that needs a restart keeps its running value (old's,
 * given back to nc as its dumped text).  The names of those the new file
 * changed go in changed, comma-separated; returns how many.
 */
int
config_keep_restart_only(struct config *nc, const struct config *old, char *changed,
    size_t len)
{
	struct text		*was, *now;
	struct parse_ctx	 p;
	char			 err[512];
	size_t			 i;
	int			 n = 0;

	changed[0] = '\0';
	was = calloc(1, sizeof(*was));
	now = calloc(1, sizeof(*now));
	for (i = 0; was != NULL && now != NULL && i < NDIRECTIVES; i++) {
		if (!(directives[i].flags & CONF_RESTART))
			continue;
		was->len = now->len = 0;
		was->buf[0] = now->buf[0] = '\0';
		put_directive(was, old, &directives[i]);
		put_directive(now, nc, &directives[i]);
		if (strcmp(was->buf, now->buf) == 0)
			continue;
		snprintf(changed + strlen(changed), len - strlen(changed), "%s%s",
		    n++ ? ", " : "", directives[i].name);
		/* Back to the running value: its own lines, parsed into nc. */
		memset(&p, 0, sizeof(p));
		p.name = "running";
		p.err = err;
		p.errlen = sizeof(err);
		if (apply_lines(&p, nc, NULL, was->buf) == -1)
			log_warnx("reload: keeping %s: %s", directives[i].name, err);
	}
	free(was);
	free(now);
	return n;
}

const char *
config_where(const char *name)
{
	static char	buf[PATH_MAX + 16];
	size_t		i;

	for (i = 0; i < NDIRECTIVES; i++)
		if (strcmp(directives[i].name, name) == 0 && where_line[i] > 0) {
			snprintf(buf, sizeof(buf), "%s:%d", where_file, where_line[i]);
			return buf;
		}
	return where_file;
}

/* The i-th directive (NULL past the last), with its default text and flags. */
const char *
config_key(size_t i, const char **dflt, unsigned *flags)
{
	if (i >= NDIRECTIVES)
		return NULL;
	if (dflt != NULL)
		*dflt = directives[i].dflt;
	if (flags != NULL)
		*flags = directives[i].flags;
	return directives[i].name;
}

/* ------------------------------------------------------------ limits */

/* front and logd ask for a locker's limit on every script and log line. */
static const struct directive *
limit_directive(enum limit k)
{
	static const struct directive	*by_limit[LIMIT_N];
	static int			 indexed;
	size_t				 i;

	if (!indexed) {
		for (i = 0; i < NDIRECTIVES; i++)
			if ((directives[i].flags & CONF_LOCKER) && directives[i].limit < LIMIT_N)
				by_limit[directives[i].limit] = &directives[i];
		indexed = 1;
	}
	return (unsigned)k < LIMIT_N ? by_limit[k] : NULL;
}

const char *
config_limit_name(enum limit k)
{
	const struct directive *d = limit_directive(k);

	return d != NULL ? d->name : NULL;
}

int
config_limit_key(const char *name)
{
	size_t i;

	for (i = 0; i < NDIRECTIVES; i++)
		if ((directives[i].flags & CONF_LOCKER) && strcmp(directives[i].name, name) == 0)
			return (int)directives[i].limit;
	return -1;
}

char
config_limit_unit(enum limit k)
{
	const struct directive *d = limit_directive(k);

	return d == NULL ? 0 : d->type == T_SIZE ? 'b' : d->type == T_DURATION ? 's' : 0;
}

/* The value as the configuration file would take it, with its bounds. */
int
config_limit_parse(const char *key, const char *text, uint64_t *out, char *err,
    size_t errlen)
{
	int			 k = config_limit_key(key);
	struct parse_ctx	 p;
	struct config		*c;
	char			 name[40], value[40], *words[2] = { name, value };
	int			 rc;

	if (k == -1) {
		snprintf(err, errlen, "\"%s\" is not a limit a locker may have of its own",
		    key);
		return -1;
	}
	/* "default": the configuration's (LIMIT_DEFAULT); "none" reads better
	 * than 0 for a limit that is off. */
	if (strcmp(text, "default") == 0) {
		*out = LIMIT_DEFAULT;
		return 0;
	}
	if (snprintf(value, sizeof(value), "%s", strcmp(text, "none") == 0 ? "0" : text) >=
	    (int)sizeof(value)) {
		snprintf(err, errlen, "%s: value too long", key);
		return -1;
	}
	snprintf(name, sizeof(name), "%s", key);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.name = "value";
	p.err = err;
	p.errlen = errlen;
	rc = apply(&p, c, limit_directive((enum limit)k), 1, words, 2);
	if (rc == 0)
		*out = config_limit_get(c, (enum limit)k);
	else if ((text = strstr(err, ": ")) != NULL)	/* no "value:0:" */
		memmove(err, text + 2, strlen(text + 2) + 1);
	free(c);
	return rc;
}

uint64_t
config_limit_get(const struct config *c, enum limit k)
{
	const struct directive	*d = limit_directive(k);
	const char		*field;

	if (d == NULL)
		return 0;
	field = (const char *)c + d->off;
	if (d->size == sizeof(uint64_t))
		return *(const uint64_t *)(const void *)field;
	return *(const uint32_t *)(const void *)field;
}

/* Held to the directive's bound, like config_limits_only(). */
void
config_limit_set(struct config *c, enum limit k, uint64_t value)
{
	const struct directive	*d = limit_directive(k);
	char			*field;

	if (d == NULL)
		return;
	field = (char *)c + d->off;
	if (value > d->max)
		value = d->max;
	if (d->size == sizeof(uint64_t))
		*(uint64_t *)(void *)field = value;
	else
		*(uint32_t *)(void *)field = (uint32_t)value;
}

/* A locker's value of k: its own (own[k]; LIMIT_DEFAULT for none) or c's. */
uint64_t
config_limit_of(const struct config *c, const uint64_t *own, enum limit k)
{
	return own[k] != LIMIT_DEFAULT ? own[k] : config_limit_get(c, k);
}

/* c as the locker whose own values own holds sees it. */
void
config_limits_apply(struct config *c, const uint64_t *own)
{
	int k;

	for (k = 0; k < LIMIT_N; k++)
		if (own[k] != LIMIT_DEFAULT)
			config_limit_set(c, (enum limit)k, own[k]);
}

/* A value from the directory is held to its directive's bound (one an older
 * build took, or a row edited by hand), and sent only where flag says the
 * process applies it (CONF_FRONT, CONF_LOGD); LIMIT_DEFAULT elsewhere. */
void
config_limits_only(const uint64_t *own, unsigned flag, uint64_t *out)
{
	const struct directive	*d;
	int			 k;

	for (k = 0; k < LIMIT_N; k++) {
		d = limit_directive((enum limit)k);
		if (d == NULL || !(d->flags & flag) || own[k] == LIMIT_DEFAULT)
			out[k] = LIMIT_DEFAULT;
		else
			out[k] = own[k] > d->max ? d->max : own[k];
	}
}
