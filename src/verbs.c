/*
 * verbs.c: the control verbs' table (see verbs.h).  It lives apart from
 * both ends so that `locker` and the master read the same rows: the usage
 * the CLI prints and the rights the master enforces cannot drift apart.
 */
#include <stddef.h>
#include <string.h>

#include "verbs.h"

const struct verb verbs[] = {
	{ .name = "signup", .id = CTL_SIGNUP, .who = WHO_LOGIN, .flags = VERB_CHANGE,
	  .opts = VOPT_GROUP, .args = "[NAME] [--group NAME]",
	  .help = "your own locker (named after your login), a group's with you as "
	  "its admin (--group), or any (root)" },
	{ .name = "list", .id = CTL_LIST, .who = WHO_ANYONE, .args = "",
	  .help = "list the lockers" },
	{ .name = "info", .id = CTL_INFO, .who = WHO_ANYONE, .args = "NAME",
	  .help = "show a locker, its vhosts and (to admins) admins" },
	{ .name = "remove", .id = CTL_REMOVE, .who = WHO_ROOT, .opts = VOPT_PURGE,
	  .root_what = "remove a locker", .args = "NAME [--purge]",
	  .help = "remove a locker; its home is archived, or deleted with --purge (root)" },
	{ .name = "vhost add", .id = CTL_VHOST_ADD, .who = WHO_ADMIN, .flags = VERB_CHANGE,
	  .opts = VOPT_PATH | VOPT_FORCE | VOPT_HTTPS, .root_flags = CTL_F_FORCE,
	  .root_what = "--force a vhost",
	  .args = "NAME HOST [--path SUBDIR] [--force] [--https-only|--no-https-only]",
	  .help = "serve HOST from NAME's web_scripts[/SUBDIR] (admins; a name outside "
	  "the domain once proved; root: at once, --force takes it from another); "
	  "--https-only: plain HTTP is redirected to HTTPS, with HSTS (again on a vhost "
	  "of NAME's: changes only that)" },
	{ .name = "vhost verify", .id = CTL_VHOST_VERIFY, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE, .args = "NAME HOST",
	  .help = "prove HOST is NAME's by its DNS TXT record (admins)" },
	{ .name = "vhost remove", .id = CTL_VHOST_REMOVE, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE | VERB_BY_HOST, .args = "HOST",
	  .help = "stop serving HOST (admins)" },
	{ .name = "vhost list", .id = CTL_VHOST_LIST, .who = WHO_ANYONE, .args = "[NAME]",
	  .help = "list vhosts" },
	{ .name = "admin add", .id = CTL_ADMIN_ADD, .who = WHO_ADMIN, .flags = VERB_CHANGE,
	  .args = "NAME USER", .help = "let login USER act for NAME (admins)" },
	{ .name = "admin remove", .id = CTL_ADMIN_REMOVE, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE, .args = "NAME USER",
	  .help = "USER no longer acts for NAME; the last admin stays (admins)" },
	{ .name = "admin list", .id = CTL_ADMIN_LIST, .who = WHO_ADMIN, .args = "NAME",
	  .help = "NAME's admins (admins)" },
	{ .name = "su", .id = CTL_SU, .who = WHO_ADMIN, .flags = VERB_CHANGE | VERB_STDIO,
	  .args = "NAME [-- COMMAND [ARG...]]",
	  .help = "a shell, or a command, as NAME in its sandbox (admins)" },
	{ .name = "logs", .id = CTL_LOGS, .who = WHO_ADMIN, .opts = VOPT_ERROR | VOPT_FOLLOW,
	  .args = "NAME [--error] [--follow]",
	  .help = "NAME's access or error log; --follow waits for more (admins)" },
	{ .name = "status", .id = CTL_STATUS, .who = WHO_ADMIN, .flags = VERB_ANY_ALL,
	  .args = "[NAME]",
	  .help = "processes, memory, CPU, requests served and errors (admins; root: all)" },
	{ .name = "audit", .id = CTL_AUDIT, .who = WHO_ADMIN, .flags = VERB_ANY_ALL,
	  .args = "[NAME]",
	  .help = "who changed what, when: every locker (root), or yours (admins)" },
	{ .name = "run", .id = CTL_RUN, .who = WHO_ROOT, .flags = VERB_CHANGE | VERB_STDIO,
	  .root_what = "run a command as a locker; its admins use locker su",
	  .args = "NAME -- COMMAND [ARG...]",
	  .help = "run a command as the locker, in its sandbox (root)" },
	{ .name = "quota", .id = CTL_QUOTA, .who = WHO_ROOT, .root_what = "change limits",
	  .args = "NAME SIZE|none|default",
	  .help = "how much NAME's home may hold, like 500M or 2G (root)" },
	{ .name = "limit", .id = CTL_LIMIT, .who = WHO_ROOT, .root_what = "change limits",
	  .args = "NAME KEY VALUE|none|default",
	  .help = "NAME's own memory-limit, process-limit, ... (root; see locker info)" },
	{ .name = "cert list", .id = CTL_CERT_LIST, .who = WHO_ANYONE, .args = "",
	  .help = "certificates: state, issuer, expiry, next renewal, last error (root: "
	  "all; others: the service's and their lockers' vhosts')" },
	{ .name = "cert status", .id = CTL_CERT_STATUS, .who = WHO_ANYONE, .args = "HOST",
	  .help = "one certificate's state (as cert list)" },
	{ .name = "sql signup", .id = CTL_SQL_SIGNUP, .who = WHO_ADMIN, .flags = VERB_CHANGE,
	  .args = "NAME",
	  .help = "a MariaDB account for NAME, allowed only on databases NAME+...; its "
	  "password in ~/.sql/my.cnf (admins)" },
	{ .name = "sql create", .id = CTL_SQL_CREATE, .who = WHO_ADMIN, .flags = VERB_CHANGE,
	  .args = "NAME DB", .help = "create database NAME+DB (admins)" },
	{ .name = "sql drop", .id = CTL_SQL_DROP, .who = WHO_ADMIN, .flags = VERB_CHANGE,
	  .opts = VOPT_PURGE, .args = "NAME DB [--purge]",
	  .help = "drop database NAME+DB, kept as a dump in ~/.sql/dumps unless --purge "
	  "(admins)" },
	{ .name = "sql list", .id = CTL_SQL_LIST, .who = WHO_ADMIN, .flags = VERB_ANY_ALL,
	  .args = "[NAME]", .help = "databases with their sizes (admins; without NAME: yours)" },
	{ .name = "sql password", .id = CTL_SQL_PASSWORD, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE, .args = "NAME",
	  .help = "a new random password for NAME's account, written to ~/.sql/my.cnf (admins)" },
	{ .name = "sql dump", .id = CTL_SQL_DUMP, .who = WHO_ADMIN, .flags = VERB_CHANGE,
	  .args = "NAME [DB]",
	  .help = "a consistent dump of NAME+DB (or every database of NAME) into "
	  "~/.sql/dumps (admins)" },
	{ .name = "mail status", .id = CTL_MAIL_STATUS, .who = WHO_ADMIN, .args = "NAME",
	  .help = "NAME's outgoing mail: sent and refused, its rate, its last messages "
	  "(admins)" },
	{ .name = "mail block", .id = CTL_MAIL_BLOCK, .who = WHO_ROOT,
	  .root_what = "block a locker's mail", .args = "NAME",
	  .help = "refuse every message NAME's programs send (root)" },
	{ .name = "mail unblock", .id = CTL_MAIL_UNBLOCK, .who = WHO_ROOT,
	  .root_what = "unblock a locker's mail", .args = "NAME",
	  .help = "let NAME send mail again (root)" },
	{ .name = "mail test", .id = CTL_MAIL_TEST, .who = WHO_ROOT,
	  .root_what = "send lockerd's test notice", .args = "NAME ADDRESS",
	  .help = "lockerd's own test notice from NAME to ADDRESS, as crontab errors go "
	  "(root; the relay's answer: mail status)" },
	{ .name = "mail no-program", .id = CTL_MAIL_NO_PROGRAM, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE, .args = "NAME bounce|discard",
	  .help = "what becomes of mail to NAME while it has no mail_scripts program: "
	  "bounce (550, the default) or discard (250, nothing runs) (admins)" },
	{ .name = "mail vhost", .id = CTL_MAIL_VHOST, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE, .args = "NAME HOST on|off",
	  .help = "mail to any address at HOST, a vhost of NAME's, runs NAME's mail "
	  "program (on), or is refused (off, the default) (admins)" },
	{ .name = "cron status", .id = CTL_CRON_STATUS, .who = WHO_ADMIN, .args = "NAME",
	  .help = "NAME's crontab: compiled or refused (crontab:LINE: why), its jobs "
	  "running, which machine runs cron (admins)" },
	{ .name = "cron list", .id = CTL_CRON_LIST, .who = WHO_ADMIN, .args = "NAME",
	  .help = "NAME's cron jobs: N, time, command, last start and status (admins)" },
	{ .name = "cron run", .id = CTL_CRON_RUN, .who = WHO_ADMIN, .flags = VERB_CHANGE,
	  .args = "NAME N", .help = "start NAME's job N now, as its time would (admins)" },
	{ .name = "cron log", .id = CTL_CRON_LOG, .who = WHO_ADMIN, .opts = VOPT_FOLLOW,
	  .args = "NAME [--follow]", .help = "NAME's cron log: its jobs' output and what cron "
	  "said of them (admins)" },
	{ .name = "cron reload", .id = CTL_CRON_RELOAD, .who = WHO_ADMIN, .flags = VERB_CHANGE,
	  .args = "NAME", .help = "compile NAME's crontab now, not within the minute (admins)" },
	{ .name = "install", .id = CTL_APP_INSTALL, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE | VERB_STDIO, .opts = VOPT_PATH | VOPT_APPINFO | VOPT_TO,
	  .args = "NAME APP [--path SUBDIR] [--title T] [--admin USER] [--email E] "
	  "[--db sqlite|mariadb] [--to VERSION]",
	  .help = "install APP (wordpress, mediawiki, dokuwiki, phpmyadmin) into "
	  "web_scripts/SUBDIR as a git repository; prints its URL and admin password "
	  "(admins)" },
	{ .name = "installs", .id = CTL_APP_INSTALLS, .who = WHO_ADMIN, .flags = VERB_ANY_ALL,
	  .args = "[NAME]",
	  .help = "installs: app, version, path, URL, state, opted out, newest release "
	  "(admins; without NAME: yours; root: all)" },
	{ .name = "upgrade", .id = CTL_APP_UPGRADE, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE | VERB_STDIO,
	  .opts = VOPT_PATH | VOPT_TO | VOPT_DRY_RUN | VOPT_RESOLVE | VOPT_OPT_OUT | VOPT_ALL,
	  .root_flags = CTL_F_ALL, .root_what = "--all: upgrade every install of an app",
	  .args = "NAME [--path SUBDIR] [--to VERSION] [--dry-run] [--resolve|--abort] "
	  "[--opt-out|--opt-in] [--all]",
	  .help = "merge a new release into NAME's install, keeping its edits, after a "
	  "backup (admins); --opt-out: never upgraded; --all APP (in NAME's place): every "
	  "install of APP in every locker (root)" },
	{ .name = "node drain", .id = CTL_NODE_DRAIN, .who = WHO_ROOT,
	  .root_what = "drain a node", .args = "NODE",
	  .help = "take NODE out of the load balancer's rotation: its health check says "
	  "503 (draining) while it still serves what reaches it; kept across restarts (root)" },
	{ .name = "node undrain", .id = CTL_NODE_UNDRAIN, .who = WHO_ROOT,
	  .root_what = "undrain a node", .args = "NODE",
	  .help = "put NODE back into the load balancer's rotation (root)" },
	{ .name = "rollback", .id = CTL_APP_ROLLBACK, .who = WHO_ADMIN,
	  .flags = VERB_CHANGE | VERB_STDIO, .opts = VOPT_PATH, .args = "NAME [--path SUBDIR]",
	  .help = "NAME's install back to its last backup, files and database (admins)" },
	{ .name = "export hesiod", .id = CTL_EXPORT_HESIOD, .who = WHO_ROOT, .opts = VOPT_SYNC,
	  .root_what = "export the Hesiod records", .args = "[--sync]",
	  .help = "every locker's Hesiod records (filsys, passwd, uid, group, gid, url) as "
	  "zone-file lines, and how the last update of hesiod-server went; --sync: "
	  "compare the zone with them and fix it now (root)" },
	{ .name = NULL }
};

static enum verb_word
word_kind(const char *w, size_t len)
{
	if (len == 4 && memcmp(w, "NAME", 4) == 0)
		return VW_NAME;
	if (len == 4 && memcmp(w, "HOST", 4) == 0)
		return VW_HOST;
	if (len == 4 && memcmp(w, "USER", 4) == 0)
		return VW_USER;
	return VW_ARGV;
}

/* One word of the usage line, w[0..len), that starts at bracket depth
 * depth: what it adds to a.  -1 if the line says what cannot be parsed. */
static int
args_word(struct verb_args *a, const char *w, size_t len, int depth, int *option)
{
	int optional = w[0] == '[';

	if (depth > 0)
		return 0;		/* inside an option's or the command's brackets */
	if (len > 3 && memcmp(w, "[--", 3) == 0) {
		*option = 1;		/* [--path SUBDIR]: an option, the CLI's own */
		return 0;
	}
	if ((len == 3 && memcmp(w, "[--", 3) == 0) || (len == 2 && memcmp(w, "--", 2) == 0)) {
		a->dash = len == 3 ? VERB_DASH_MAY : VERB_DASH_MUST;
		return 0;
	}
	if (a->dash != VERB_DASH_NO) {
		a->cmd_min += !optional;	/* COMMAND; [ARG...] may be left out */
		return 0;
	}
	/* A word before any "--": [NAME] may be left out, at the end only. */
	if (optional && (len < 3 || w[len - 1] != ']'))
		return -1;
	if ((!optional && a->nopt > 0) || a->n == VERB_WORDS_MAX)
		return -1;
	a->word[a->n++] = optional ? word_kind(w + 1, len - 2) : word_kind(w, len);
	a->nopt += optional;
	return 0;
}

int
verb_args(const struct verb *v, struct verb_args *a)
{
	const char	*p = v->args, *w;
	int		 depth = 0, option = 0;

	memset(a, 0, sizeof(*a));
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return depth == 0 ? 0 : -1;
		for (w = p; *p != '\0' && *p != ' '; p++)
			;
		if (!option && args_word(a, w, (size_t)(p - w), depth, &option) == -1)
			return -1;
		for (; w < p; w++)
			depth += (*w == '[') - (*w == ']');
		if (depth < 0)
			return -1;
		if (depth == 0)
			option = 0;
	}
}

const struct verb *
verb_by_id(uint32_t id)
{
	const struct verb *v;

	for (v = verbs; v->name != NULL; v++)
		if ((uint32_t)v->id == id)
			return v;
	return NULL;
}

const char *
verb_flag_name(uint32_t flag)
{
	switch (flag) {
	case CTL_F_PURGE:
		return "--purge";
	case CTL_F_GROUP:
		return "--group";
	case CTL_F_ERROR:
		return "--error";
	case CTL_F_FORCE:
		return "--force";
	case CTL_F_HTTPS_ONLY:
		return "--https-only";
	case CTL_F_PLAIN_OK:
		return "--no-https-only";
	case CTL_F_DRY_RUN:
		return "--dry-run";
	case CTL_F_SYNC:
		return "--sync";
	case CTL_F_RESOLVE:
		return "--resolve";
	case CTL_F_ABORT:
		return "--abort";
	case CTL_F_OPT_OUT:
		return "--opt-out";
	case CTL_F_OPT_IN:
		return "--opt-in";
	case CTL_F_ALL:
		return "--all";
	}
	return NULL;
}

const char *
verb_who_name(enum verb_who who)
{
	switch (who) {
	case WHO_ANYONE:
		return "anyone";
	case WHO_LOGIN:
		return "login";
	case WHO_ADMIN:
		return "admin";
	case WHO_ROOT:
		return "root";
	}
	return "?";
}
