/*
 * directory.c: lockers, their uids and their vhosts, in SQLite.
 *
 * The database is the record of who owns which uid, and a uid owns files
 * on disk long after its locker is gone (archives, backups, a network file
 * system), so the rules here are about never losing or reusing one:
 *
 *   - WAL with synchronous=FULL: a commit is on disk when it returns.
 *   - Every change is one BEGIN IMMEDIATE ... COMMIT, so a crash leaves
 *     either all of it or none of it, and two writers cannot interleave.
 *   - Every uid ever handed out stays in the uids table (a trigger refuses
 *     to delete or renumber a row there), and allocation never picks a uid
 *     that appears in it.
 *   - All SQL is fixed text; values only ever travel as bound parameters.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "directory.h"
#include "dir_fleet.h"
#include "lockerd.h"

#define SCHEMA_VERSION		13
#define BUSY_TIMEOUT_MS		5000

/*
 * Schema migrations: migrations[v] takes a database from user_version v
 * to v + 1, and ends by setting it, so that the step and its version
 * number commit together.
 */
static const char *const schema_v1[] = {
	/* Every uid ever allocated; rows are only ever added or annotated. */
	"CREATE TABLE uids ("
	"  uid       INTEGER PRIMARY KEY CHECK (uid > 0 AND uid < 4294967295),"
	"  name      TEXT NOT NULL,"
	"  allocated INTEGER NOT NULL,"
	"  released  INTEGER,"		/* NULL while the locker exists */
	"  archive   TEXT"		/* where its home went; '' if purged */
	")",
	"CREATE TRIGGER uids_keep BEFORE DELETE ON uids BEGIN"
	"  SELECT RAISE(ABORT, 'uids are never deleted');"
	" END",
	"CREATE TRIGGER uids_fixed BEFORE UPDATE OF uid ON uids BEGIN"
	"  SELECT RAISE(ABORT, 'uids are never renumbered');"
	" END",
	"CREATE TABLE lockers ("
	"  name    TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),"
	"  uid     INTEGER NOT NULL UNIQUE REFERENCES uids(uid),"
	"  gid     INTEGER NOT NULL CHECK (gid = uid),"
	"  created INTEGER NOT NULL"
	")",
	"CREATE TABLE vhosts ("
	"  host   TEXT PRIMARY KEY CHECK (length(host) BETWEEN 1 AND 253),"
	"  locker TEXT NOT NULL REFERENCES lockers(name),"
	"  subdir TEXT NOT NULL DEFAULT '' CHECK (length(subdir) <= 255)"
	")",
	"CREATE INDEX vhosts_by_locker ON vhosts(locker, host)",
	"PRAGMA user_version = 1",
	NULL
};

/*
 * 2: who may act for a locker (login uids: a name can be renamed or
 * reused, the uid is what SO_PEERCRED reports), and an append-only audit
 * trail of every change, written in the transaction of the change.
 */
static const char *const schema_v2[] = {
	"CREATE TABLE locker_admins ("
	"  locker TEXT NOT NULL REFERENCES lockers(name),"
	"  uid    INTEGER NOT NULL CHECK (uid >= 0 AND uid < 4294967295),"
	"  added  INTEGER NOT NULL,"
	"  PRIMARY KEY (locker, uid)"
	") WITHOUT ROWID",
	"CREATE INDEX locker_admins_by_uid ON locker_admins(uid, locker)",
	"CREATE TABLE audit ("
	"  id     INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  at     INTEGER NOT NULL,"
	"  who    INTEGER NOT NULL,"		/* uid of the caller; 0 root */
	"  action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 32),"
	"  locker TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '' CHECK (length(detail) <= 1024)"
	")",
	"CREATE INDEX audit_by_locker ON audit(locker, id)",
	"CREATE TRIGGER audit_keep BEFORE DELETE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'the audit trail is append-only');"
	" END",
	"CREATE TRIGGER audit_fixed BEFORE UPDATE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'the audit trail is append-only');"
	" END",
	"PRAGMA user_version = 2",
	NULL
};

/*
 * 3: a locker's own limits where they differ from the configuration's
 * defaults (keys are the configuration's directive names; the directory
 * only stores them, control.c knows which keys exist).
 */
static const char *const schema_v3[] = {
	"CREATE TABLE locker_limits ("
	"  locker TEXT NOT NULL REFERENCES lockers(name),"
	"  key    TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 32),"
	"  value  INTEGER NOT NULL CHECK (value >= 0),"
	"  PRIMARY KEY (locker, key)"
	") WITHOUT ROWID",
	"PRAGMA user_version = 3",
	NULL
};

/*
 * 4: an audit row belongs to a locker's uid, not to its name: a name can
 * be signed up again after a removal, by anyone, and the new owner must
 * not read the old one's trail.  Existing rows get the uid that held
 * their name when they were written (uids keeps when each was allocated
 * and released); at a second both held it, the older locker's, so a
 * row in doubt stays hidden from the new owner.  The append-only triggers
 * step aside for this one update only, inside the migration.
 */
static const char *const schema_v4[] = {
	"ALTER TABLE audit ADD COLUMN uid INTEGER",
	"DROP TRIGGER audit_fixed",
	"UPDATE audit SET uid = (SELECT u.uid FROM uids u WHERE u.name = audit.locker"
	"  AND u.allocated <= audit.at AND (u.released IS NULL OR u.released >= audit.at)"
	"  ORDER BY u.allocated, u.uid LIMIT 1) WHERE locker != ''",
	"CREATE TRIGGER audit_fixed BEFORE UPDATE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'the audit trail is append-only');"
	" END",
	"CREATE INDEX audit_by_uid ON audit(uid, id)",
	/*
	 * A locker's claim to a host outside the domain, until it proves the
	 * name is its own (vhost.c); claims of several lockers to one host
	 * may wait side by side, and the first proof takes the host.
	 */
	"CREATE TABLE vhost_claims ("
	"  host    TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 253),"
	"  locker  TEXT NOT NULL REFERENCES lockers(name),"
	"  subdir  TEXT NOT NULL DEFAULT '' CHECK (length(subdir) <= 255),"
	"  token   TEXT NOT NULL CHECK (length(token) = 32),"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (host, locker)"
	") WITHOUT ROWID",
	"CREATE INDEX vhost_claims_by_locker ON vhost_claims(locker, host)",
	"PRAGMA user_version = 4",
	NULL
};

/*
 * 5: a vhost's own choice of HTTPS (`locker vhost add --https-only` or
 * --no-https-only; ROUTE_HTTPS_*, 0 the configuration's), kept on its
 * claim too until the name is proved.
 */
static const char *const schema_v5[] = {
	"ALTER TABLE vhosts ADD COLUMN https INTEGER NOT NULL DEFAULT 0"
	"  CHECK (https BETWEEN 0 AND 2)",
	"ALTER TABLE vhost_claims ADD COLUMN https INTEGER NOT NULL DEFAULT 0"
	"  CHECK (https BETWEEN 0 AND 2)",
	"PRAGMA user_version = 5",
	NULL
};

/*
 * 6: the vhost names each locker has had certificates asked for, and
 * since when: acme-names-per-week is counted from here, and a name
 * counted once is not counted again (its renewals are free).
 */
static const char *const schema_v6[] = {
	"CREATE TABLE acme_names ("
	"  host    TEXT PRIMARY KEY CHECK (length(host) BETWEEN 1 AND 253),"
	"  locker  TEXT NOT NULL CHECK (length(locker) BETWEEN 1 AND 63),"
	"  first   INTEGER NOT NULL"
	")",
	"CREATE INDEX acme_names_by_locker ON acme_names(locker, first)",
	"PRAGMA user_version = 6",
	NULL
};

/*
 * 7: the signups of one login user (dir_signups_by, at every group
 * signup) found by an index, not by a walk over every locker.
 */
static const char *const schema_v7[] = {
	"CREATE INDEX audit_by_who ON audit(who, action, uid)",
	"PRAGMA user_version = 7",
	NULL
};

/*
 * 8: outgoing mail (maillog.c): each message a locker sent or was refused,
 * by uid (never reused, so a new locker of a reused name starts afresh),
 * kept for the hour its rate counts and a few more; each uid's totals and
 * whether root blocked it.
 */
static const char *const schema_v8[] = {
	"CREATE TABLE mail_log ("
	"  id      INTEGER PRIMARY KEY,"
	"  uid     INTEGER NOT NULL,"
	"  at      INTEGER NOT NULL,"
	"  status  TEXT NOT NULL CHECK (length(status) BETWEEN 1 AND 15),"
	"  rcpts   TEXT NOT NULL DEFAULT '',"
	"  bytes   INTEGER NOT NULL DEFAULT 0,"
	"  text    TEXT NOT NULL DEFAULT ''"
	")",
	"CREATE INDEX mail_log_by_uid ON mail_log(uid, at)",
	"CREATE TABLE mail_totals ("
	"  uid     INTEGER PRIMARY KEY,"
	"  sent    INTEGER NOT NULL DEFAULT 0,"
	"  refused INTEGER NOT NULL DEFAULT 0,"
	"  blocked INTEGER NOT NULL DEFAULT 0"
	")",
	"PRAGMA user_version = 8",
	NULL
};

/*
 * 9: cron scripts (cron_dir.c): each locker's compiled schedule (a struct
 * cron_sched, checked again whenever it is read back), the crontab's
 * fingerprint it came from and the last error; gone with its locker.  And
 * the lease that lets one machine of a fleet run the jobs.
 */
static const char *const schema_v9[] = {
	"CREATE TABLE cron ("
	"  locker    TEXT PRIMARY KEY CHECK (length(locker) BETWEEN 1 AND 63),"
	"  sched     BLOB,"
	"  stamp     TEXT NOT NULL DEFAULT '' CHECK (length(stamp) <= 128),"
	"  error     TEXT NOT NULL DEFAULT '' CHECK (length(error) <= 160),"
	"  compiled  INTEGER NOT NULL DEFAULT 0"
	")",
	"CREATE TRIGGER cron_locker_gone AFTER DELETE ON lockers BEGIN"
	"  DELETE FROM cron WHERE locker = OLD.name; END",
	"CREATE TABLE cron_lease ("
	"  id       INTEGER PRIMARY KEY CHECK (id = 1),"
	"  holder   TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 63),"
	"  expires  INTEGER NOT NULL"
	")",
	"PRAGMA user_version = 9",
	NULL
};

/*
 * 10: what becomes of mail to a locker without a mail program, its admins'
 * choice (`locker mail no-program`): 0 bounce (550), 1 discard (250).
 */
static const char *const schema_v10[] = {
	"ALTER TABLE mail_totals ADD COLUMN no_program INTEGER NOT NULL DEFAULT 0"
	"  CHECK (no_program BETWEEN 0 AND 1)",
	"PRAGMA user_version = 10",
	NULL
};

/*
 * 11: mail to any address at a vhost, for its locker's program, if its
 * admins turned it on (`locker mail vhost`); off for a new vhost row, so a
 * host taken over (--force: removed and added) starts off for its new owner.
 */
static const char *const schema_v11[] = {
	"ALTER TABLE vhosts ADD COLUMN mail INTEGER NOT NULL DEFAULT 0"
	"  CHECK (mail BETWEEN 0 AND 1)",
	"PRAGMA user_version = 11",
	NULL
};

/*
 * 12: the autoinstallers' installs (app_dir.c): one row per install, the
 * version and state the master recorded from lockerd-app's exit codes (the
 * version a conflicted upgrade goes to, the one before the last upgrade,
 * for a rollback) and whether its locker opted out; gone with its locker.
 */
static const char *const schema_v12[] = {
	"CREATE TABLE app_installs ("
	"  locker    TEXT NOT NULL CHECK (length(locker) BETWEEN 1 AND 63),"
	"  path      TEXT NOT NULL CHECK (length(path) BETWEEN 1 AND 255),"
	"  app       TEXT NOT NULL CHECK (length(app) BETWEEN 1 AND 15),"
	"  version   TEXT NOT NULL CHECK (length(version) <= 63),"
	"  state     TEXT NOT NULL DEFAULT 'ok' CHECK (length(state) <= 15),"
	"  dbname    TEXT NOT NULL DEFAULT '' CHECK (length(dbname) <= 64),"
	"  target    TEXT NOT NULL DEFAULT '' CHECK (length(target) <= 63),"
	"  previous  TEXT NOT NULL DEFAULT '' CHECK (length(previous) <= 63),"
	"  opted_out INTEGER NOT NULL DEFAULT 0 CHECK (opted_out BETWEEN 0 AND 1),"
	"  updated   INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (locker, path)"
	")",
	"CREATE TRIGGER app_locker_gone AFTER DELETE ON lockers BEGIN"
	"  DELETE FROM app_installs WHERE locker = OLD.name; END",
	"PRAGMA user_version = 12",
	NULL
};

/*
 * 13: several machines (dirtab.h).  The leases of what one node of a fleet
 * must do alone (cron's moves here from cron_lease; acme, hesiod), each
 * node's own heartbeat row, the nodes admins asked to drain, and how far
 * this node's copy has followed the fleet directory's changes.
 */
static const char *const schema_v13[] = {
	"CREATE TABLE leases ("
	"  what     TEXT PRIMARY KEY CHECK (length(what) BETWEEN 1 AND 15),"
	"  holder   TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 63),"
	"  expires  INTEGER NOT NULL"
	")",
	"INSERT INTO leases (what, holder, expires) SELECT 'cron', holder, expires FROM cron_lease",
	"DROP TABLE cron_lease",
	"CREATE TABLE nodes ("
	"  name     TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),"
	"  addr     TEXT NOT NULL DEFAULT '' CHECK (length(addr) <= 63),"
	"  state    TEXT NOT NULL DEFAULT 'up' CHECK (length(state) <= 15),"
	"  load     INTEGER NOT NULL DEFAULT 0,"	/* 1-minute load average x 100 */
	"  seen     INTEGER NOT NULL DEFAULT 0,"
	"  started  INTEGER NOT NULL DEFAULT 0"
	")",
	"CREATE TABLE node_drain ("
	"  name     TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),"
	"  at       INTEGER NOT NULL,"
	"  who      INTEGER NOT NULL"
	")",
	"CREATE TABLE fleet_state ("
	"  id       INTEGER PRIMARY KEY CHECK (id = 1),"
	"  rev      INTEGER NOT NULL"
	")",
	"PRAGMA user_version = 13",
	NULL
};

static const char *const *const migrations[SCHEMA_VERSION] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
	schema_v7,
	schema_v8,
	schema_v9,
	schema_v10,
	schema_v11,
	schema_v12,
	schema_v13,
};

enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_LOCKER_GET,
	ST_LOCKER_GET_UID,
	ST_LOCKER_INSERT,
	ST_LOCKER_DELETE,
	ST_LOCKER_LIST,
	ST_LOCKER_COUNT,
	ST_UID_SPAN,
	ST_UID_GAP,
	ST_UID_TAKEN,
	ST_UID_INSERT,
	ST_UID_RELEASE,
	ST_VHOST_GET,
	ST_VHOST_INSERT,
	ST_VHOST_DELETE,
	ST_VHOST_DELETE_LOCKER,
	ST_VHOST_LIST,
	ST_VHOST_LIST_LOCKER,
	ST_VHOST_SET_HTTPS,
	ST_ADMIN_GET,
	ST_ADMIN_INSERT,
	ST_ADMIN_DELETE,
	ST_ADMIN_DELETE_LOCKER,
	ST_ADMIN_COUNT,
	ST_ADMIN_LIST,
	ST_ADMIN_LIST_UID,
	ST_AUDIT_INSERT,
	ST_AUDIT_LIST,
	ST_AUDIT_LIST_LOCKER,
	ST_LIMIT_SET,
	ST_LIMIT_DELETE,
	ST_LIMIT_DELETE_LOCKER,
	ST_LIMIT_LIST,
	ST_CLAIM_GET,
	ST_CLAIM_PUT,
	ST_CLAIM_DELETE,
	ST_CLAIM_DELETE_HOST,
	ST_CLAIM_DELETE_LOCKER,
	ST_ACME_NAME_GET,
	ST_ACME_NAME_PUT,
	ST_ACME_NAME_COUNT,
	ST_MAX
};

static const char *const stmt_sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_LOCKER_GET] =
	    "SELECT name, uid, gid, created FROM lockers WHERE name = ?1",
	[ST_LOCKER_GET_UID] =
	    "SELECT name, uid, gid, created FROM lockers WHERE uid = ?1",
	[ST_LOCKER_INSERT] =
	    "INSERT INTO lockers (name, uid, gid, created) VALUES (?1, ?2, ?2, ?3)",
	[ST_LOCKER_DELETE] = "DELETE FROM lockers WHERE name = ?1",
	[ST_LOCKER_LIST] =
	    "SELECT name, uid, gid, created FROM lockers ORDER BY name",
	[ST_LOCKER_COUNT] = "SELECT count(*) FROM lockers",
	[ST_UID_SPAN] =
	    "SELECT count(*), min(uid), max(uid) FROM uids"
	    " WHERE uid BETWEEN ?1 AND ?2",
	/* The first used uid in range whose successor is unused. */
	[ST_UID_TAKEN] = "SELECT 1 FROM uids WHERE uid = ?1",
	[ST_UID_GAP] =
	    "SELECT u.uid + 1 FROM uids u WHERE u.uid >= ?1 AND u.uid < ?2"
	    " AND NOT EXISTS (SELECT 1 FROM uids v WHERE v.uid = u.uid + 1)"
	    " ORDER BY u.uid LIMIT 1",
	[ST_UID_INSERT] =
	    "INSERT INTO uids (uid, name, allocated) VALUES (?1, ?2, ?3)",
	[ST_UID_RELEASE] =
	    "UPDATE uids SET released = ?2, archive = ?3 WHERE uid = ?1",
	[ST_VHOST_GET] =
	    "SELECT host, locker, subdir, https FROM vhosts WHERE host = ?1",
	[ST_VHOST_INSERT] =
	    "INSERT INTO vhosts (host, locker, subdir, https) VALUES (?1, ?2, ?3, ?4)",
	[ST_VHOST_DELETE] = "DELETE FROM vhosts WHERE host = ?1",
	[ST_VHOST_DELETE_LOCKER] = "DELETE FROM vhosts WHERE locker = ?1",
	[ST_VHOST_LIST] =
	    "SELECT host, locker, subdir, https FROM vhosts ORDER BY host",
	[ST_VHOST_LIST_LOCKER] =
	    "SELECT host, locker, subdir, https FROM vhosts WHERE locker = ?1"
	    " ORDER BY host",
	[ST_VHOST_SET_HTTPS] = "UPDATE vhosts SET https = ?2 WHERE host = ?1",
	[ST_ADMIN_GET] =
	    "SELECT 1 FROM locker_admins WHERE locker = ?1 AND uid = ?2",
	[ST_ADMIN_INSERT] =
	    "INSERT OR IGNORE INTO locker_admins (locker, uid, added) VALUES (?1, ?2, ?3)",
	[ST_ADMIN_DELETE] =
	    "DELETE FROM locker_admins WHERE locker = ?1 AND uid = ?2",
	[ST_ADMIN_DELETE_LOCKER] = "DELETE FROM locker_admins WHERE locker = ?1",
	[ST_ADMIN_COUNT] = "SELECT count(*) FROM locker_admins WHERE locker = ?1",
	[ST_ADMIN_LIST] =
	    "SELECT locker, uid, added FROM locker_admins WHERE locker = ?1 ORDER BY uid",
	[ST_ADMIN_LIST_UID] =
	    "SELECT locker, uid, added FROM locker_admins WHERE uid = ?1 ORDER BY locker",
	/* The uid of the locker named, at the time of writing (NULL: none). */
	/* ?6: NULL (AUTOINCREMENT), or in a fleet an id unique across nodes. */
	[ST_AUDIT_INSERT] =
	    "INSERT INTO audit (id, at, who, action, locker, detail, uid) VALUES (?6, ?1, ?2,"
	    " ?3, ?4, ?5, (SELECT uid FROM lockers WHERE name = ?4))",
	/* The newest ?1 rows (-1: all), oldest first. */
	[ST_AUDIT_LIST] =
	    "SELECT * FROM (SELECT id, at, who, action, locker, detail FROM audit"
	    " ORDER BY id DESC LIMIT ?1) ORDER BY id",
	[ST_AUDIT_LIST_LOCKER] =
	    "SELECT * FROM (SELECT id, at, who, action, locker, detail FROM audit"
	    " WHERE uid = (SELECT uid FROM lockers WHERE name = ?2)"
	    " ORDER BY id DESC LIMIT ?1) ORDER BY id",
	/* An upsert, not OR REPLACE: a fleet captures it as the update it is. */
	[ST_LIMIT_SET] =
	    "INSERT INTO locker_limits (locker, key, value) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (locker, key) DO UPDATE SET value = excluded.value",
	[ST_LIMIT_DELETE] = "DELETE FROM locker_limits WHERE locker = ?1 AND key = ?2",
	[ST_LIMIT_DELETE_LOCKER] = "DELETE FROM locker_limits WHERE locker = ?1",
	[ST_LIMIT_LIST] =
	    "SELECT key, value FROM locker_limits WHERE locker = ?1 ORDER BY key",
	[ST_CLAIM_GET] =
	    "SELECT subdir, token, https FROM vhost_claims WHERE host = ?1 AND locker = ?2",
	/* A claim made again keeps its token: the record may be in the DNS. */
	[ST_CLAIM_PUT] =
	    "INSERT INTO vhost_claims (host, locker, subdir, token, created, https)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (host, locker) DO UPDATE SET subdir = excluded.subdir,"
	    " https = excluded.https",
	[ST_CLAIM_DELETE] = "DELETE FROM vhost_claims WHERE host = ?1 AND locker = ?2",
	[ST_CLAIM_DELETE_HOST] = "DELETE FROM vhost_claims WHERE host = ?1",
	[ST_CLAIM_DELETE_LOCKER] = "DELETE FROM vhost_claims WHERE locker = ?1",
	[ST_ACME_NAME_GET] = "SELECT 1 FROM acme_names WHERE host = ?1 AND locker = ?2",
	/* A name another locker had counted starts afresh for this one. */
	[ST_ACME_NAME_PUT] =
	    "INSERT INTO acme_names (host, locker, first) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (host) DO UPDATE SET locker = excluded.locker, first = excluded.first",
	[ST_ACME_NAME_COUNT] =
	    "SELECT count(*) FROM acme_names WHERE locker = ?1 AND first >= ?2",
};

struct directory {
	sqlite3		*db;
	sqlite3_stmt	*st[ST_MAX];
	uint32_t	 actor;		/* who the audit trail names */
	/* uid_pick's mark: every uid in [pick_lo, pick_next) is taken.  Rows
	 * of uids are never deleted, so it stays true whoever adds some. */
	uint32_t	 pick_lo, pick_hi, pick_next;
	int		 pick_set;
	struct dir_fleet *fleet;	/* NULL: one machine (dir_fleet.h) */
};

/*
 * Names a locker may not take: <name>.<domain> would be a host name that
 * software or people trust by its name (wpad and isatap are fetched by
 * clients on their own, autoconfig/autodiscover set up mail clients,
 * login/sso/accounts invite phishing), a mailbox RFC 2142 gives a meaning,
 * or a system user.  Names outside a-z0-9- (so every "_"-prefixed one)
 * fail the syntax already.
 */
static const char *const reserved_names[] = {
	"abuse", "account", "accounts", "acme", "admin", "administrator",
	"api", "assets", "auth", "autoconfig", "autodiscover", "backup",
	"billing", "bin", "ca", "caldav", "carddav", "cdn", "chat", "console",
	"cpanel", "daemon", "dashboard", "dav", "dkim", "dmarc", "dns",
	"download", "downloads", "exchange", "ftp", "games", "gateway", "git",
	"gnats", "help", "helpdesk", "hostmaster", "id", "idp", "imap",
	"imaps", "irc", "isatap", "kdc", "kerberos", "ldap", "list",
	"localhost", "locker", "lockerd", "lockers", "login", "logon",
	"logout", "lp", "lyncdiscover", "mail", "mailer-daemon", "man",
	"media", "mta-sts", "mx", "my", "myaccount", "mysql", "news", "nobody",
	"noc", "nogroup", "ns", "ntp", "oauth", "openid", "operator",
	"outlook", "owa", "panel", "passwd", "password", "pay", "payment",
	"pki", "pop", "pop3", "pop3s", "portal", "postgres", "postmaster",
	"proxy", "root", "scripts", "secure", "security", "sftp", "signin",
	"signon", "signup", "sip", "smtp", "smtps", "sql", "ssh", "sshd",
	"sso", "static", "status", "submission", "support", "sync", "sys",
	"update", "uucp", "verify", "vpn", "webdav", "webdisk", "webmail",
	"webmaster", "whm", "wpad", "www", "www-data", "xmpp",
	NULL
};

/* ...and these followed by digits (ns1, www2, mail3, mx10). */
static const char *const reserved_numbered[] = {
	"api", "cdn", "dns", "ftp", "imap", "mail", "mx", "ns", "pop", "smtp",
	"static", "vpn", "web", "webmail", "www",
	NULL
};

/* ------------------------------------------------------------ errors */

static int fail(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Always -1, so that error paths can say "return fail(...)". */
static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
db_fail(struct directory *d, char *err, size_t errlen, const char *what)
{
	return fail(err, errlen, "%s: %s", what, sqlite3_errmsg(d->db));
}

/* -------------------------------------------------------- statements */

/* Ready for the next use, and holding no copy of the last one's values. */
static void
st_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Always -1, so that a failed bind can end with "return st_fail(s)". */
static int
st_fail(sqlite3_stmt *s)
{
	st_done(s);
	return -1;
}

/* One step of a statement that yields at most one row: 1 a row (its
 * columns readable until st_done), 0 none, -1 error. */
static int
st_row(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

static int
bind_int(sqlite3_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(s, i, v) == SQLITE_OK ? 0 : -1;
}

/* A text column into a fixed buffer; a value too long is corruption. */
static int
col_text(sqlite3_stmt *s, int i, char *buf, size_t bufsz)
{
	const unsigned char	*v = sqlite3_column_text(s, i);
	int			 n = sqlite3_column_bytes(s, i);

	if (v == NULL)
		n = 0;
	if (n < 0 || (size_t)n >= bufsz)
		return -1;
	memcpy(buf, v ? (const char *)v : "", n);
	buf[n] = '\0';
	return 0;
}

/* Runs a statement that returns no rows; one that fails takes back
 * what its rows' triggers captured for the fleet. */
static int
st_exec(struct directory *d, int which)
{
	size_t	mark = dir_fleet_mark(d->fleet);
	int	rc = sqlite3_step(d->st[which]);

	st_done(d->st[which]);
	if (rc != SQLITE_DONE)
		dir_fleet_cut(d->fleet, mark);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
tx_begin(struct directory *d, char *err, size_t errlen)
{
	if (st_exec(d, ST_BEGIN) == -1)
		return db_fail(d, err, errlen, "begin transaction");
	return 0;
}

/* In a fleet the change is PostgreSQL's first (dir_fleet_send), then ours. */
static int
tx_commit(struct directory *d, char *err, size_t errlen)
{
	if (dir_fleet_send(d->fleet, err, errlen) == -1) {
		st_exec(d, ST_ROLLBACK);
		return -1;
	}
	if (st_exec(d, ST_COMMIT) == -1) {
		db_fail(d, err, errlen, "commit");
		st_exec(d, ST_ROLLBACK);
		return -1;
	}
	return 0;
}

/* Returns -1 so that a failed step can end with "return tx_abort(d)". */
static int
tx_abort(struct directory *d)
{
	if (sqlite3_get_autocommit(d->db) == 0)
		st_exec(d, ST_ROLLBACK);
	return -1;
}

/* Begins a transaction in which locker is known to exist; -1 (and no
 * transaction) if it does not. */
static int
tx_begin_locker(struct directory *d, const char *locker, char *err, size_t errlen)
{
	int rc;

	if (tx_begin(d, err, errlen) == -1)
		return -1;
	if ((rc = dir_locker_get(d, locker, NULL)) == 1)
		return 0;
	if (rc == 0)
		fail(err, errlen, "no locker named \"%s\"", locker);
	else
		db_fail(d, err, errlen, "look up locker");
	return tx_abort(d);
}

/* One row of the audit trail, inside the caller's transaction. */
static int
audit_insert(struct directory *d, const char *action, const char *locker,
    const char *detail)
{
	sqlite3_stmt *s = d->st[ST_AUDIT_INSERT];

	if (bind_int(s, 1, time(NULL)) == -1 || bind_int(s, 2, d->actor) == -1 ||
	    bind_text(s, 3, action) == -1 || bind_text(s, 4, locker ? locker : "") == -1 ||
	    bind_text(s, 5, detail ? detail : "") == -1)
		return st_fail(s);
	if (d->fleet != NULL && bind_int(s, 6, dir_fleet_audit_id(d->fleet)) == -1)
		return st_fail(s);
	return st_exec(d, ST_AUDIT_INSERT);
}

/* The audit row, then the commit: 0, or -1 (err says why) with the
 * transaction rolled back. */
static int
tx_audit_commit(struct directory *d, const char *action, const char *locker,
    const char *detail, char *err, size_t errlen)
{
	if (audit_insert(d, action, locker, detail) == -1) {
		db_fail(d, err, errlen, "audit");
		return tx_abort(d);
	}
	return tx_commit(d, err, errlen);
}

/* ------------------------------------------------------------- open */

/*
 * SQLite creates files with 0644 less the umask, and gives its -wal and
 * -shm files the mode of the database; creating the database ourselves
 * first keeps all three private to root.
 */
static int
create_private(const char *path, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

static int
pragma_int(struct directory *d, const char *sql, int64_t *v)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (sqlite3_prepare_v2(d->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* WAL survives a crash only with the full sync. */
static int
set_durability(struct directory *d, char *err, size_t errlen)
{
	sqlite3_stmt	*s;
	const char	*mode;
	int		 wal = 0;
	int64_t		 fk = 0;

	if (sqlite3_prepare_v2(d->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
		return db_fail(d, err, errlen, "journal_mode");
	if (sqlite3_step(s) == SQLITE_ROW &&
	    (mode = (const char *)sqlite3_column_text(s, 0)) != NULL)
		wal = strcmp(mode, "wal") == 0;
	sqlite3_finalize(s);
	if (!wal)
		return fail(err, errlen, "cannot put the directory in WAL mode");

	if (sqlite3_exec(d->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(d->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(d->db, "PRAGMA trusted_schema = OFF", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(d, err, errlen, "pragma");
	/* A build without foreign keys ignores the pragma silently. */
	if (pragma_int(d, "PRAGMA foreign_keys", &fk) == -1 || fk != 1)
		return fail(err, errlen, "this SQLite does not enforce foreign keys");
	return 0;
}

static int
apply_migration(struct directory *d, int64_t from, char *err, size_t errlen)
{
	const char *const	*sql;

	for (sql = migrations[from]; *sql != NULL; sql++)
		if (sqlite3_exec(d->db, *sql, NULL, NULL, NULL) != SQLITE_OK)
			return db_fail(d, err, errlen, "schema");
	return 0;
}

/*
 * Brings the schema up to SCHEMA_VERSION in one transaction, reading the
 * version inside it so that two processes opening a new file cannot both
 * create the tables.
 */
static int
migrate(struct directory *d, char *err, size_t errlen)
{
	int64_t v;

	if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(d, err, errlen, "begin transaction");
	if (pragma_int(d, "PRAGMA user_version", &v) == -1) {
		db_fail(d, err, errlen, "user_version");
		goto abort;
	}
	if (v < 0 || v > SCHEMA_VERSION) {
		fail(err, errlen, "directory schema version %lld is not one this "
		    "lockerd knows (it knows 0..%d)", (long long)v, SCHEMA_VERSION);
		goto abort;
	}
	for (; v < SCHEMA_VERSION; v++)
		if (apply_migration(d, v, err, errlen) == -1)
			goto abort;
	if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(d, err, errlen, "commit schema");
		goto abort;
	}
	return 0;
 abort:
	sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
prepare_all(struct directory *d, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < ST_MAX; i++)
		if (sqlite3_prepare_v3(d->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &d->st[i], NULL) != SQLITE_OK)
			return db_fail(d, err, errlen, "prepare");
	return 0;
}

struct directory *
dir_open(const char *path, char *err, size_t errlen)
{
	struct directory *d;

	fail(err, errlen, "%s", "");
	if (create_private(path, err, errlen) == -1)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
	    NULL) != SQLITE_OK) {
		if (d->db == NULL)
			fail(err, errlen, "%s: out of memory", path);
		else
			db_fail(d, err, errlen, path);
		goto fail;
	}
	sqlite3_extended_result_codes(d->db, 1);
	sqlite3_busy_timeout(d->db, BUSY_TIMEOUT_MS);
	/* No writable_schema tricks even if someone gets SQL in here. */
	sqlite3_db_config(d->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (set_durability(d, err, errlen) == -1 || migrate(d, err, errlen) == -1 ||
	    prepare_all(d, err, errlen) == -1)
		goto fail;
	return d;
 fail:
	dir_close(d);
	return NULL;
}

/* ------------------------------------------------ the shared write path */

int
dir_tx_begin(struct directory *d, char *err, size_t errlen)
{
	return tx_begin(d, err, errlen);
}

int
dir_tx_commit(struct directory *d, char *err, size_t errlen)
{
	return tx_commit(d, err, errlen);
}

int
dir_tx_abort(struct directory *d)
{
	return tx_abort(d);
}

sqlite3_stmt *
dir_prep(struct directory *d, const char *who, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("%s: directory: %s", who, sqlite3_errmsg(d->db));
		return NULL;
	}
	return st;
}

int
dir_step(struct directory *d, const char *who, sqlite3_stmt *st)
{
	size_t	mark = dir_fleet_mark(d->fleet);
	int	rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		dir_fleet_cut(d->fleet, mark);
		log_warnx("%s: directory: %s", who, sqlite3_errmsg(d->db));
		return -1;
	}
	return 0;
}

void
dir_set_fleet(struct directory *d, struct dir_fleet *f)
{
	d->fleet = f;
}

struct dir_fleet *
dir_fleet(struct directory *d)
{
	return d->fleet;
}

/* For a part with tables of its own (maillog.c): the open database. */
sqlite3 *
dir_sqlite(struct directory *d)
{
	return d->db;
}

void
dir_close(struct directory *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(d->st[i]);
	dir_fleet_free(d->fleet);
	sqlite3_close(d->db);
	free(d);
}

/* ---------------------------------------------------------- lockers */

static int
row_locker(sqlite3_stmt *s, struct locker_rec *out)
{
	memset(out, 0, sizeof(*out));
	if (col_text(s, 0, out->name, sizeof(out->name)) == -1)
		return -1;
	out->uid = (uint32_t)sqlite3_column_int64(s, 1);
	out->gid = (uint32_t)sqlite3_column_int64(s, 2);
	out->created = sqlite3_column_int64(s, 3);
	return 0;
}

static int
row_vhost(sqlite3_stmt *s, struct vhost_rec *out)
{
	memset(out, 0, sizeof(*out));
	if (col_text(s, 0, out->host, sizeof(out->host)) == -1 ||
	    col_text(s, 1, out->locker, sizeof(out->locker)) == -1 ||
	    col_text(s, 2, out->subdir, sizeof(out->subdir)) == -1)
		return -1;
	out->https = sqlite3_column_int(s, 3);
	return 0;
}

/* 1 found (out filled in if not NULL), 0 not found, -1 error. */
static int
locker_fetch(struct directory *d, int which, const char *name, int64_t uid,
    struct locker_rec *out)
{
	sqlite3_stmt		*s = d->st[which];
	struct locker_rec	 rec;
	int			 ret = -1;

	if ((name ? bind_text(s, 1, name) : bind_int(s, 1, uid)) == 0)
		ret = st_row(s);
	if (ret == 1 && row_locker(s, &rec) == -1)
		ret = -1;
	if (ret == 1 && out != NULL)
		*out = rec;
	st_done(s);
	return ret;
}

int
dir_locker_get(struct directory *d, const char *name, struct locker_rec *out)
{
	if (d == NULL || name == NULL)
		return -1;
	return locker_fetch(d, ST_LOCKER_GET, name, 0, out);
}

int
dir_locker_get_by_uid(struct directory *d, uint32_t uid, struct locker_rec *out)
{
	if (d == NULL)
		return -1;
	return locker_fetch(d, ST_LOCKER_GET_UID, NULL, uid, out);
}

/* 1 if uid is in the uids table, 0 if not, -1 on error. */
static int
uid_taken(struct directory *d, uint32_t uid)
{
	sqlite3_stmt	*s = d->st[ST_UID_TAKEN];
	int		 rc;

	if (bind_int(s, 1, uid) == -1)
		return st_fail(s);
	rc = st_row(s);
	st_done(s);
	return rc;
}

/*
 * The lowest uid in [lo, hi] not in the uids table, the slow way: the
 * used part's count, min and max (a walk over the range), and a gap search
 * only for a range with holes (lo lowered since, or uids set aside by
 * hand).  0 on success, 1 when the range is exhausted.
 */
static int
uid_scan(struct directory *d, uint32_t lo, uint32_t hi, uint32_t *uid)
{
	sqlite3_stmt	*s = d->st[ST_UID_SPAN];
	int64_t		 count = 0, min = 0, max = 0;
	int		 rc;

	if (bind_int(s, 1, lo) == -1 || bind_int(s, 2, hi) == -1)
		return st_fail(s);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		count = sqlite3_column_int64(s, 0);
		min = sqlite3_column_int64(s, 1);
		max = sqlite3_column_int64(s, 2);
	}
	st_done(s);
	if (rc != SQLITE_ROW)
		return -1;

	if (count == 0 || min > lo) {
		*uid = lo;
		return 0;
	}
	if (max - min + 1 == count) {
		if (max >= hi)
			return 1;
		*uid = (uint32_t)(max + 1);
		return 0;
	}

	s = d->st[ST_UID_GAP];
	if (bind_int(s, 1, lo) == -1 || bind_int(s, 2, hi) == -1)
		return st_fail(s);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*uid = (uint32_t)sqlite3_column_int64(s, 0);
	st_done(s);
	/* Not dense, so a hole exists below max: no row means corruption. */
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * The lowest uid in [lo, hi] not in the uids table.  The scan is linear
 * in the lockers (100,000: a tenth of a signup's time), so it runs once
 * per range; after it, a mark below which every uid is taken moves up
 * one lookup at a time, each uid passed over once.  0 on success, 1 when
 * the range is exhausted.
 */
static int
uid_pick(struct directory *d, uint32_t lo, uint32_t hi, uint32_t *uid)
{
	uint32_t	u;
	int		rc;

	if (!d->pick_set || d->pick_lo != lo || d->pick_hi != hi) {
		if ((rc = uid_scan(d, lo, hi, uid)) != 0)
			return rc;
		d->pick_lo = lo;
		d->pick_hi = hi;
		d->pick_next = *uid;
		d->pick_set = 1;
		return 0;
	}
	for (u = d->pick_next; u <= hi && u >= lo; u++) {
		if ((rc = uid_taken(d, u)) == -1)
			return -1;
		d->pick_next = u;
		if (rc == 0) {
			*uid = u;
			return 0;
		}
	}
	return 1;
}

static int
locker_insert(struct directory *d, const char *name, uint32_t uid, int64_t now)
{
	sqlite3_stmt *s;

	s = d->st[ST_UID_INSERT];
	if (bind_int(s, 1, uid) == -1 || bind_text(s, 2, name) == -1 ||
	    bind_int(s, 3, now) == -1 || st_exec(d, ST_UID_INSERT) == -1)
		goto fail;
	s = d->st[ST_LOCKER_INSERT];
	if (bind_text(s, 1, name) == -1 || bind_int(s, 2, uid) == -1 ||
	    bind_int(s, 3, now) == -1 || st_exec(d, ST_LOCKER_INSERT) == -1)
		goto fail;
	return 0;
 fail:
	st_done(s);
	return -1;
}

static int admin_insert(struct directory *, const char *, uint32_t, int64_t);

int
dir_locker_add(struct directory *d, const char *name, uint32_t lo, uint32_t hi,
    struct locker_rec *out, char *err, size_t errlen)
{
	return dir_locker_add_with_admin(d, name, lo, hi, -1, out, err, errlen);
}

static int locker_add_once(struct directory *, const char *, uint32_t, uint32_t, int64_t,
    struct locker_rec *, char *, size_t);

/*
 * In a fleet another node may have taken the uid picked here in the same
 * moment: PostgreSQL's keys refuse the second (a conflict), so the pick is
 * made again once the feed has brought the other's row, at most 3 times.
 */
int
dir_locker_add_with_admin(struct directory *d, const char *name, uint32_t lo, uint32_t hi,
    int64_t admin, struct locker_rec *out, char *err, size_t errlen)
{
	char	why[128];
	int	tries, rc;

	if (d == NULL || name == NULL)
		return fail(err, errlen, "dir_locker_add: bad arguments");
	if (locker_name_check(name, why, sizeof(why)) == -1)
		return fail(err, errlen, "%s", why);
	/* uid 0 is root and (uid_t)-1 means "unchanged" to setresuid(2). */
	if (lo == 0 || hi == UINT32_MAX || lo > hi)
		return fail(err, errlen, "bad uid range %u..%u", lo, hi);
	for (tries = 1; ; tries++) {
		rc = locker_add_once(d, name, lo, hi, admin, out, err, errlen);
		if (rc == 0 || tries == 3 || !dir_fleet_conflict(d->fleet))
			return rc;
		dir_fleet_catch_up(d->fleet);
		d->pick_set = 0;
	}
}

static int
locker_add_once(struct directory *d, const char *name, uint32_t lo, uint32_t hi,
    int64_t admin, struct locker_rec *out, char *err, size_t errlen)
{
	char		detail[64];
	uint32_t	uid = 0;
	int64_t		now = time(NULL);
	int		rc;

	if (tx_begin(d, err, errlen) == -1)
		return -1;
	if ((rc = dir_locker_get(d, name, NULL)) != 0) {
		if (rc == 1)
			fail(err, errlen, "locker %s already exists", name);
		else
			db_fail(d, err, errlen, "look up locker");
		return tx_abort(d);
	}
	if ((rc = uid_pick(d, lo, hi, &uid)) != 0) {
		if (rc == 1)
			fail(err, errlen, "no uid left in %u..%u: every one has been "
			    "allocated before, and uids are never reused; widen the "
			    "uid range", lo, hi);
		else
			db_fail(d, err, errlen, "allocate uid");
		return tx_abort(d);
	}
	if (locker_insert(d, name, uid, now) == -1) {
		db_fail(d, err, errlen, "add locker");
		return tx_abort(d);
	}
	if (admin >= 0) {
		snprintf(detail, sizeof(detail), "uid %u, admin %lld", uid, (long long)admin);
		if (admin >= UINT32_MAX || admin_insert(d, name, (uint32_t)admin, now) != 1) {
			db_fail(d, err, errlen, "add admin");
			return tx_abort(d);
		}
	} else
		snprintf(detail, sizeof(detail), "uid %u", uid);
	if (tx_audit_commit(d, "signup", name, detail, err, errlen) == -1)
		return -1;

	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		memcpy(out->name, name, strlen(name) + 1);
		out->uid = out->gid = uid;
		out->created = now;
	}
	return 0;
}

int
dir_locker_remove(struct directory *d, const char *name, const char *archive,
    char *err, size_t errlen)
{
	struct locker_rec	 rec;
	sqlite3_stmt		*s;
	int			 rc;

	if (d == NULL || name == NULL)
		return fail(err, errlen, "dir_locker_remove: bad arguments");
	if (archive == NULL)
		archive = "";
	if (tx_begin(d, err, errlen) == -1)
		return -1;
	if ((rc = dir_locker_get(d, name, &rec)) != 1) {
		if (rc == 0)
			fail(err, errlen, "no locker %s", name);
		else
			db_fail(d, err, errlen, "look up locker");
		return tx_abort(d);
	}

	s = d->st[ST_VHOST_DELETE_LOCKER];
	if (bind_text(s, 1, name) == -1 || st_exec(d, ST_VHOST_DELETE_LOCKER) == -1)
		goto fail;
	s = d->st[ST_ADMIN_DELETE_LOCKER];
	if (bind_text(s, 1, name) == -1 || st_exec(d, ST_ADMIN_DELETE_LOCKER) == -1)
		goto fail;
	s = d->st[ST_LIMIT_DELETE_LOCKER];
	if (bind_text(s, 1, name) == -1 || st_exec(d, ST_LIMIT_DELETE_LOCKER) == -1)
		goto fail;
	s = d->st[ST_CLAIM_DELETE_LOCKER];
	if (bind_text(s, 1, name) == -1 || st_exec(d, ST_CLAIM_DELETE_LOCKER) == -1)
		goto fail;
	/* While the name still says whose uid the row is. */
	s = d->st[ST_AUDIT_INSERT];
	if (audit_insert(d, "remove", name, archive[0] ? archive : "home purged") == -1)
		goto fail;
	s = d->st[ST_LOCKER_DELETE];
	if (bind_text(s, 1, name) == -1 || st_exec(d, ST_LOCKER_DELETE) == -1)
		goto fail;
	s = d->st[ST_UID_RELEASE];
	if (bind_int(s, 1, rec.uid) == -1 || bind_int(s, 2, time(NULL)) == -1 ||
	    bind_text(s, 3, archive) == -1 || st_exec(d, ST_UID_RELEASE) == -1)
		goto fail;
	return tx_commit(d, err, errlen);
 fail:
	db_fail(d, err, errlen, "remove locker");
	st_done(s);
	return tx_abort(d);
}

/* A listing's callback and its argument, whichever kind of row it takes. */
struct listing {
	int	(*locker_cb)(const struct locker_rec *, void *);
	int	(*vhost_cb)(const struct vhost_rec *, void *);
	int	(*admin_cb)(const struct admin_rec *, void *);
	int	(*audit_cb)(const struct audit_rec *, void *);
	int	(*limit_cb)(const char *key, uint64_t value, void *);
	void	*arg;
};

static int
row_admin(sqlite3_stmt *s, struct admin_rec *out)
{
	memset(out, 0, sizeof(*out));
	if (col_text(s, 0, out->locker, sizeof(out->locker)) == -1)
		return -1;
	out->uid = (uint32_t)sqlite3_column_int64(s, 1);
	out->added = sqlite3_column_int64(s, 2);
	return 0;
}

static int
row_audit(sqlite3_stmt *s, struct audit_rec *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	out->at = sqlite3_column_int64(s, 1);
	out->who = (uint32_t)sqlite3_column_int64(s, 2);
	if (col_text(s, 3, out->action, sizeof(out->action)) == -1 ||
	    col_text(s, 4, out->locker, sizeof(out->locker)) == -1 ||
	    col_text(s, 5, out->detail, sizeof(out->detail)) == -1)
		return -1;
	return 0;
}

/* The row read as its listing's kind and handed on: the callback's
 * answer, or -1 for a row that does not read back. */
static int
row_to_cb(sqlite3_stmt *s, struct listing *l)
{
	struct locker_rec	lrec;
	struct vhost_rec	vrec;
	struct admin_rec	arec;
	struct audit_rec	urec;
	char			key[33];

	if (l->locker_cb != NULL)
		return row_locker(s, &lrec) == -1 ? -1 : l->locker_cb(&lrec, l->arg);
	if (l->admin_cb != NULL)
		return row_admin(s, &arec) == -1 ? -1 : l->admin_cb(&arec, l->arg);
	if (l->audit_cb != NULL)
		return row_audit(s, &urec) == -1 ? -1 : l->audit_cb(&urec, l->arg);
	if (l->limit_cb != NULL) {
		if (col_text(s, 0, key, sizeof(key)) == -1 || sqlite3_column_int64(s, 1) < 0)
			return -1;
		return l->limit_cb(key, (uint64_t)sqlite3_column_int64(s, 1), l->arg);
	}
	return row_vhost(s, &vrec) == -1 ? -1 : l->vhost_cb(&vrec, l->arg);
}

/*
 * Steps a listing statement (already bound) and hands each row on.
 * The same statement cannot be stepped twice at once, so a callback that
 * starts the same listing again gets -1 instead of a confused cursor.
 */
static int
st_foreach(sqlite3_stmt *s, struct listing *l)
{
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((ret = row_to_cb(s, l)) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = -1;
	st_done(s);
	return ret;
}

int
dir_locker_foreach(struct directory *d,
    int (*cb)(const struct locker_rec *, void *), void *arg)
{
	struct listing l = { .locker_cb = cb, .arg = arg };

	if (d == NULL || cb == NULL || sqlite3_stmt_busy(d->st[ST_LOCKER_LIST]))
		return -1;
	return st_foreach(d->st[ST_LOCKER_LIST], &l);
}

size_t
dir_locker_count(struct directory *d)
{
	sqlite3_stmt	*s;
	int64_t		 n = 0;

	if (d == NULL)
		return 0;
	s = d->st[ST_LOCKER_COUNT];
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	st_done(s);
	return n > 0 ? (size_t)n : 0;
}

/* ----------------------------------------------------------- vhosts */

int
dir_vhost_get(struct directory *d, const char *host, struct vhost_rec *out)
{
	sqlite3_stmt	*s;
	struct vhost_rec rec;
	int		 ret = -1;

	if (d == NULL || host == NULL)
		return -1;
	s = d->st[ST_VHOST_GET];
	if (bind_text(s, 1, host) == 0)
		ret = st_row(s);
	if (ret == 1 && row_vhost(s, &rec) == -1)
		ret = -1;
	if (ret == 1 && out != NULL)
		*out = rec;
	st_done(s);
	return ret;
}

/* What front will accept: a canonical DNS name, not an address literal. */
static int
vhost_host_check(const char *host, char *err, size_t errlen)
{
	char buf[HOSTNAME_MAX + 1];

	if (route_canon_host(host, strlen(host), buf, sizeof(buf)) == -1 ||
	    host[0] == '[')
		return fail(err, errlen, "%s is not a valid host name", host);
	if (strcmp(buf, host) != 0)
		return fail(err, errlen, "%s is not in canonical form (%s)", host, buf);
	return 0;
}

int
dir_vhost_add(struct directory *d, const char *host, const char *locker,
    const char *subdir, int https, char *err, size_t errlen)
{
	struct vhost_rec	 old;
	sqlite3_stmt		*s;
	char			 why[128];
	int			 rc;

	if (d == NULL || host == NULL || locker == NULL)
		return fail(err, errlen, "dir_vhost_add: bad arguments");
	if (subdir == NULL)
		subdir = "";
	if (vhost_host_check(host, err, errlen) == -1)
		return -1;
	if (subdir_check(subdir, why, sizeof(why)) == -1)
		return fail(err, errlen, "%s", why);
	if (https < ROUTE_HTTPS_DEFAULT || https > ROUTE_HTTPS_PLAIN_OK)
		return fail(err, errlen, "dir_vhost_add: bad https choice");

	if (tx_begin_locker(d, locker, err, errlen) == -1)
		return -1;
	if ((rc = dir_vhost_get(d, host, &old)) != 0) {
		if (rc == 1)
			fail(err, errlen, "%s is already a vhost of locker %s",
			    host, old.locker);
		else
			db_fail(d, err, errlen, "look up vhost");
		return tx_abort(d);
	}
	s = d->st[ST_VHOST_INSERT];
	if (bind_text(s, 1, host) == -1 || bind_text(s, 2, locker) == -1 ||
	    bind_text(s, 3, subdir) == -1 || bind_int(s, 4, https) == -1 ||
	    st_exec(d, ST_VHOST_INSERT) == -1) {
		db_fail(d, err, errlen, "add vhost");
		st_done(s);
		return tx_abort(d);
	}
	/* Whoever else was waiting to prove it has lost the race. */
	s = d->st[ST_CLAIM_DELETE_HOST];
	if (bind_text(s, 1, host) == -1 || st_exec(d, ST_CLAIM_DELETE_HOST) == -1) {
		db_fail(d, err, errlen, "drop claims");
		st_done(s);
		return tx_abort(d);
	}
	snprintf(why, sizeof(why), "%s", host);
	if (subdir[0] != '\0' && strlen(host) + strlen(subdir) + 2 < sizeof(why))
		snprintf(why, sizeof(why), "%s/%s", host, subdir);
	if (https != ROUTE_HTTPS_DEFAULT)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " %s",
		    https == ROUTE_HTTPS_ONLY ? "https-only" : "no-https-only");
	return tx_audit_commit(d, "vhost-add", locker, why, err, errlen);
}

int
dir_vhost_set_https(struct directory *d, const char *host, int https, char *err,
    size_t errlen)
{
	struct vhost_rec	 old;
	sqlite3_stmt		*s;
	int			 rc;

	if (d == NULL || host == NULL || https < ROUTE_HTTPS_DEFAULT ||
	    https > ROUTE_HTTPS_PLAIN_OK)
		return fail(err, errlen, "dir_vhost_set_https: bad arguments");
	if (tx_begin(d, err, errlen) == -1)
		return -1;
	if ((rc = dir_vhost_get(d, host, &old)) != 1) {
		if (rc == 0)
			fail(err, errlen, "no vhost %s", host);
		else
			db_fail(d, err, errlen, "look up vhost");
		return tx_abort(d);
	}
	s = d->st[ST_VHOST_SET_HTTPS];
	if (bind_text(s, 1, host) == -1 || bind_int(s, 2, https) == -1 ||
	    st_exec(d, ST_VHOST_SET_HTTPS) == -1) {
		db_fail(d, err, errlen, "set https");
		st_done(s);
		return tx_abort(d);
	}
	return tx_audit_commit(d, "vhost-https", old.locker, https == ROUTE_HTTPS_ONLY ?
	    "https-only" : https == ROUTE_HTTPS_PLAIN_OK ? "no-https-only" : "default",
	    err, errlen);
}

int
dir_vhost_claim(struct directory *d, const char *host, const char *locker,
    const char *subdir, int https, const char *token, struct vhost_claim *out, char *err,
    size_t errlen)
{
	struct vhost_rec	 old;
	sqlite3_stmt		*s;
	int			 rc;

	if (d == NULL || host == NULL || locker == NULL || token == NULL ||
	    strlen(token) != VHOST_TOKEN_LEN || out == NULL)
		return fail(err, errlen, "dir_vhost_claim: bad arguments");
	if (subdir == NULL)
		subdir = "";
	if (vhost_host_check(host, err, errlen) == -1)
		return -1;
	if (tx_begin_locker(d, locker, err, errlen) == -1)
		return -1;
	if ((rc = dir_vhost_get(d, host, &old)) != 0) {
		if (rc == 1)
			fail(err, errlen, "%s is already a vhost of locker %s", host,
			    old.locker);
		else
			db_fail(d, err, errlen, "look up vhost");
		return tx_abort(d);
	}
	s = d->st[ST_CLAIM_PUT];
	if (bind_text(s, 1, host) == -1 || bind_text(s, 2, locker) == -1 ||
	    bind_text(s, 3, subdir) == -1 || bind_text(s, 4, token) == -1 ||
	    bind_int(s, 5, time(NULL)) == -1 || bind_int(s, 6, https) == -1 ||
	    st_exec(d, ST_CLAIM_PUT) == -1) {
		db_fail(d, err, errlen, "claim vhost");
		st_done(s);
		return tx_abort(d);
	}
	if ((rc = dir_vhost_claim_get(d, host, locker, out)) != 1 ||
	    audit_insert(d, "vhost-claim", locker, host) == -1) {
		db_fail(d, err, errlen, "claim vhost");
		return tx_abort(d);
	}
	return tx_commit(d, err, errlen);
}

/*
 * Withdraw the claims to host of the lockers uid administers (0: root,
 * every locker's), each with an audit row.  The number withdrawn, or -1.
 */
int
dir_vhost_unclaim(struct directory *d, const char *host, uint32_t uid, char *err,
    size_t errlen)
{
	static const char	 pick[] =
	    "SELECT locker FROM vhost_claims WHERE host = ?1 AND (?2 = 0 OR locker IN"
	    " (SELECT locker FROM locker_admins WHERE uid = ?2)) ORDER BY locker";
	char			 lockers[16][LOCKER_NAME_MAX + 1];
	sqlite3_stmt		*s = NULL, *del;
	int			 n = 0, i;

	if (d == NULL || host == NULL)
		return fail(err, errlen, "dir_vhost_unclaim: bad arguments");
	if (tx_begin(d, err, errlen) == -1)
		return -1;
	if (sqlite3_prepare_v2(d->db, pick, -1, &s, NULL) != SQLITE_OK ||
	    bind_text(s, 1, host) == -1 || bind_int(s, 2, uid) == -1)
		goto fail;
	while (n < 16 && sqlite3_step(s) == SQLITE_ROW)
		if (col_text(s, 0, lockers[n], sizeof(lockers[n])) == 0)
			n++;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < n; i++) {
		del = d->st[ST_CLAIM_DELETE];
		if (bind_text(del, 1, host) == -1 || bind_text(del, 2, lockers[i]) == -1 ||
		    st_exec(d, ST_CLAIM_DELETE) == -1 ||
		    audit_insert(d, "vhost-unclaim", lockers[i], host) == -1)
			goto fail;
	}
	if (tx_commit(d, err, errlen) == -1)
		return -1;
	return n;
 fail:
	if (s != NULL)
		sqlite3_finalize(s);
	db_fail(d, err, errlen, "withdraw claims");
	return tx_abort(d);
}

int
dir_vhost_claim_get(struct directory *d, const char *host, const char *locker,
    struct vhost_claim *out)
{
	sqlite3_stmt	*s;
	int		 ret = -1;

	if (d == NULL || host == NULL || locker == NULL || out == NULL)
		return -1;
	s = d->st[ST_CLAIM_GET];
	if (bind_text(s, 1, host) == 0 && bind_text(s, 2, locker) == 0)
		ret = st_row(s);
	if (ret == 1) {
		memset(out, 0, sizeof(*out));
		snprintf(out->host, sizeof(out->host), "%s", host);
		snprintf(out->locker, sizeof(out->locker), "%s", locker);
		if (col_text(s, 0, out->subdir, sizeof(out->subdir)) == -1 ||
		    col_text(s, 1, out->token, sizeof(out->token)) == -1)
			ret = -1;
		out->https = sqlite3_column_int(s, 2);
	}
	st_done(s);
	return ret;
}

int
dir_vhost_remove(struct directory *d, const char *host, char *err, size_t errlen)
{
	sqlite3_stmt		*s;
	struct vhost_rec	 old;
	int			 n;

	if (d == NULL || host == NULL)
		return fail(err, errlen, "dir_vhost_remove: bad arguments");
	if (tx_begin(d, err, errlen) == -1)
		return -1;
	if ((n = dir_vhost_get(d, host, &old)) != 1) {
		if (n == -1)
			db_fail(d, err, errlen, "look up vhost");
		tx_abort(d);
		return n;	/* 0: no such host */
	}
	s = d->st[ST_VHOST_DELETE];
	if (bind_text(s, 1, host) == -1 || st_exec(d, ST_VHOST_DELETE) == -1) {
		db_fail(d, err, errlen, "remove vhost");
		st_done(s);
		return tx_abort(d);
	}
	n = sqlite3_changes(d->db);
	if (tx_audit_commit(d, "vhost-remove", old.locker, host, err, errlen) == -1)
		return -1;
	return n > 0 ? 1 : 0;
}

int
dir_vhost_foreach(struct directory *d, const char *locker,
    int (*cb)(const struct vhost_rec *, void *), void *arg)
{
	struct listing	 l = { .vhost_cb = cb, .arg = arg };
	sqlite3_stmt	*s;

	if (d == NULL || cb == NULL)
		return -1;
	s = d->st[locker ? ST_VHOST_LIST_LOCKER : ST_VHOST_LIST];
	if (sqlite3_stmt_busy(s))
		return -1;
	if (locker != NULL && bind_text(s, 1, locker) == -1)
		return st_fail(s);
	return st_foreach(s, &l);
}

/* ----------------------------------------------------------- admins */

void
dir_set_actor(struct directory *d, uint32_t uid)
{
	if (d != NULL)
		d->actor = uid;
}

/* 1 added, 0 already there, -1 error; inside a transaction. */
static int
admin_insert(struct directory *d, const char *locker, uint32_t uid, int64_t now)
{
	sqlite3_stmt *s = d->st[ST_ADMIN_INSERT];

	if (bind_text(s, 1, locker) == -1 || bind_int(s, 2, uid) == -1 ||
	    bind_int(s, 3, now) == -1)
		return st_fail(s);
	if (st_exec(d, ST_ADMIN_INSERT) == -1)
		return -1;
	return sqlite3_changes(d->db) > 0 ? 1 : 0;
}

int
dir_admin_is(struct directory *d, const char *locker, uint32_t uid)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (d == NULL || locker == NULL)
		return -1;
	s = d->st[ST_ADMIN_GET];
	if (bind_text(s, 1, locker) == -1 || bind_int(s, 2, uid) == -1)
		return st_fail(s);
	rc = st_row(s);
	st_done(s);
	return rc;
}

static int64_t
admin_count(struct directory *d, const char *locker)
{
	sqlite3_stmt	*s = d->st[ST_ADMIN_COUNT];
	int64_t		 n = -1;

	if (bind_text(s, 1, locker) == 0 && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	st_done(s);
	return n;
}

int
dir_admin_add(struct directory *d, const char *locker, uint32_t uid, char *err,
    size_t errlen)
{
	char	detail[32];
	int	rc;

	if (d == NULL || locker == NULL || uid == UINT32_MAX)
		return fail(err, errlen, "dir_admin_add: bad arguments");
	if (tx_begin_locker(d, locker, err, errlen) == -1)
		return -1;
	if ((rc = admin_insert(d, locker, uid, time(NULL))) == -1) {
		db_fail(d, err, errlen, "add admin");
		return tx_abort(d);
	}
	snprintf(detail, sizeof(detail), "uid %u", uid);
	if ((rc == 1 ? tx_audit_commit(d, "admin-add", locker, detail, err, errlen) :
	    tx_commit(d, err, errlen)) == -1)
		return -1;
	return rc;
}

int
dir_admin_remove(struct directory *d, const char *locker, uint32_t uid, char *err,
    size_t errlen)
{
	sqlite3_stmt	*s;
	char		 detail[32];
	int		 rc;

	if (d == NULL || locker == NULL)
		return fail(err, errlen, "dir_admin_remove: bad arguments");
	if (tx_begin(d, err, errlen) == -1)
		return -1;
	if ((rc = dir_admin_is(d, locker, uid)) != 1) {
		if (rc == -1)
			db_fail(d, err, errlen, "look up admin");
		tx_abort(d);
		return rc;
	}
	/* Counted inside the transaction: two removals cannot both pass. */
	if (admin_count(d, locker) <= 1) {
		fail(err, errlen, "a locker keeps at least one admin: add another "
		    "admin of %s first", locker);
		return tx_abort(d);
	}
	s = d->st[ST_ADMIN_DELETE];
	if (bind_text(s, 1, locker) == -1 || bind_int(s, 2, uid) == -1 ||
	    st_exec(d, ST_ADMIN_DELETE) == -1) {
		st_done(s);
		db_fail(d, err, errlen, "remove admin");
		return tx_abort(d);
	}
	snprintf(detail, sizeof(detail), "uid %u", uid);
	if (tx_audit_commit(d, "admin-remove", locker, detail, err, errlen) == -1)
		return -1;
	return 1;
}

int
dir_admin_foreach(struct directory *d, const char *locker,
    int (*cb)(const struct admin_rec *, void *), void *arg)
{
	struct listing	 l = { .admin_cb = cb, .arg = arg };
	sqlite3_stmt	*s;

	if (d == NULL || locker == NULL || cb == NULL)
		return -1;
	s = d->st[ST_ADMIN_LIST];
	if (sqlite3_stmt_busy(s))
		return -1;	/* a listing from inside a listing's callback */
	if (bind_text(s, 1, locker) == -1)
		return st_fail(s);
	return st_foreach(s, &l);
}

int
dir_admin_foreach_uid(struct directory *d, uint32_t uid,
    int (*cb)(const struct admin_rec *, void *), void *arg)
{
	struct listing	 l = { .admin_cb = cb, .arg = arg };
	sqlite3_stmt	*s;

	if (d == NULL || cb == NULL)
		return -1;
	s = d->st[ST_ADMIN_LIST_UID];
	if (sqlite3_stmt_busy(s))
		return -1;	/* a listing from inside a listing's callback */
	if (bind_int(s, 1, uid) == -1)
		return st_fail(s);
	return st_foreach(s, &l);
}

/* ------------------------------------------------------------ audit */

int
dir_audit(struct directory *d, const char *action, const char *locker, const char *detail,
    char *err, size_t errlen)
{
	if (d == NULL || action == NULL)
		return fail(err, errlen, "dir_audit: bad arguments");
	if (tx_begin(d, err, errlen) == -1)
		return -1;
	return tx_audit_commit(d, action, locker, detail, err, errlen);
}

int
dir_audit_foreach(struct directory *d, const char *locker,
    int (*cb)(const struct audit_rec *, void *), void *arg)
{
	return dir_audit_foreach_last(d, locker, -1, cb, arg);
}

int
dir_audit_foreach_last(struct directory *d, const char *locker, int64_t limit,
    int (*cb)(const struct audit_rec *, void *), void *arg)
{
	struct listing	 l = { .audit_cb = cb, .arg = arg };
	sqlite3_stmt	*s;

	if (d == NULL || cb == NULL)
		return -1;
	s = d->st[locker ? ST_AUDIT_LIST_LOCKER : ST_AUDIT_LIST];
	if (sqlite3_stmt_busy(s))
		return -1;
	if (bind_int(s, 1, limit < 0 ? -1 : limit) == -1 ||
	    (locker != NULL && bind_text(s, 2, locker) == -1))
		return st_fail(s);
	return st_foreach(s, &l);
}

/* ------------------------------------------------------------ names */

static int
in_list(const char *const *list, const char *name, size_t len)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == len && strncmp(*list, name, len) == 0)
			return 1;
	return 0;
}

static int
is_reserved(const char *name)
{
	size_t len = strlen(name), stem = len;

	if (in_list(reserved_names, name, len))
		return 1;
	while (stem > 0 && name[stem - 1] >= '0' && name[stem - 1] <= '9')
		stem--;
	return stem < len && in_list(reserved_numbered, name, stem);
}

int
locker_name_check(const char *name, char *why, size_t whylen)
{
	if (locker_label_check(name, name ? strlen(name) : 0, why, whylen) == -1)
		return -1;
	if (is_reserved(name))
		return fail(why, whylen, "the name %s is reserved", name);
	return 0;
}

/* ----------------------------------------------------------- limits */

int
dir_limit_set(struct directory *d, const char *locker, const char *key, int64_t value,
    char *err, size_t errlen)
{
	sqlite3_stmt	*s;
	char		 detail[96];
	int		 rc;

	if (d == NULL || locker == NULL || key == NULL || strlen(key) < 1 || strlen(key) > 32)
		return fail(err, errlen, "dir_limit_set: bad arguments");
	if (tx_begin_locker(d, locker, err, errlen) == -1)
		return -1;
	if (value < 0) {
		s = d->st[ST_LIMIT_DELETE];
		rc = bind_text(s, 1, locker) == -1 || bind_text(s, 2, key) == -1 ? -1 :
		    st_exec(d, ST_LIMIT_DELETE);
		snprintf(detail, sizeof(detail), "%s default", key);
	} else {
		s = d->st[ST_LIMIT_SET];
		rc = bind_text(s, 1, locker) == -1 || bind_text(s, 2, key) == -1 ||
		    bind_int(s, 3, value) == -1 ? -1 : st_exec(d, ST_LIMIT_SET);
		snprintf(detail, sizeof(detail), "%s %lld", key, (long long)value);
	}
	if (rc == -1) {
		db_fail(d, err, errlen, "set limit");
		st_done(s);
		return tx_abort(d);
	}
	return tx_audit_commit(d, "limit", locker, detail, err, errlen);
}

int
dir_limit_foreach(struct directory *d, const char *locker,
    int (*cb)(const char *key, uint64_t value, void *), void *arg)
{
	struct listing	 l = { .limit_cb = cb, .arg = arg };
	sqlite3_stmt	*s;

	if (d == NULL || locker == NULL || cb == NULL)
		return -1;
	s = d->st[ST_LIMIT_LIST];
	if (sqlite3_stmt_busy(s))
		return -1;	/* a listing from inside a listing's callback */
	if (bind_text(s, 1, locker) == -1)
		return st_fail(s);
	return st_foreach(s, &l);
}

/* ------------------------------------------------------------ per user */

/*
 * How many lockers, other than one named except, uid signed up that still
 * exist: the audit trail's signup rows by uid of a locker that is still
 * there (the row's locker uid, not its name: a name removed and signed up
 * again by someone else is not the same locker), from the audit trail's
 * index by who (schema 7), so a few lookups, not a walk over every
 * locker.  Rare (a signup asks), so prepared here rather than kept with
 * the others.  -1 on error.
 */
int64_t
dir_signups_by(struct directory *d, uint32_t uid, const char *except)
{
	static const char sql[] =
	    "SELECT count(*) FROM lockers l WHERE l.name != ?2 AND l.uid IN ("
	    " SELECT a.uid FROM audit a WHERE a.who = ?1 AND a.action = 'signup')";
	sqlite3_stmt	*s;
	int64_t		 n = -1;

	if (d == NULL || sqlite3_prepare_v2(d->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (bind_int(s, 1, uid) == 0 && bind_text(s, 2, except ? except : "") == 0 &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* ------------------------------------------------------------ acme names */

int
dir_acme_name_counted(struct directory *d, const char *host, const char *locker)
{
	sqlite3_stmt	*s;
	int		 ret = -1;

	if (d == NULL)
		return -1;
	s = d->st[ST_ACME_NAME_GET];
	if (bind_text(s, 1, host) == 0 && bind_text(s, 2, locker) == 0)
		ret = st_row(s);
	st_done(s);
	return ret;
}

int64_t
dir_acme_names_since(struct directory *d, const char *locker, int64_t since)
{
	sqlite3_stmt	*s;
	int64_t		 n = -1;

	if (d == NULL)
		return -1;
	s = d->st[ST_ACME_NAME_COUNT];
	if (bind_text(s, 1, locker) == 0 && bind_int(s, 2, since) == 0 && st_row(s) == 1)
		n = sqlite3_column_int64(s, 0);
	st_done(s);
	return n;
}

int
dir_acme_name_count(struct directory *d, const char *host, const char *locker, int64_t at)
{
	sqlite3_stmt	*s;
	int		 ret = -1;

	if (d == NULL)
		return -1;
	if (tx_begin(d, NULL, 0) == -1)
		return -1;
	s = d->st[ST_ACME_NAME_PUT];
	if (bind_text(s, 1, host) == 0 && bind_text(s, 2, locker) == 0 && bind_int(s, 3, at) == 0)
		ret = st_exec(d, ST_ACME_NAME_PUT);
	else
		st_done(s);
	if (ret == -1)
		return tx_abort(d);
	return tx_commit(d, NULL, 0);
}
